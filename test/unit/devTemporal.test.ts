/**
 * `ballast dev`'s Temporal server is where the `temporal` CLI looks by default (127.0.0.1:7233) when that port is
 * free, and its terminal output prints the exact `temporal workflow list --address …` command and the Web UI URL
 * (devnet/temporal.ts `preferredPortOrAny`, `temporalAccessLines`, used by devnet/dev.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { DEFAULT_TEMPORAL_PORT, preferredPortOrAny, temporalAccessLines } from '../../devnet/temporal.js';

test("the preferred port is Temporal's default 7233; a taken port falls back to any free one (0), a free one is used", async () => {
  assert.equal(DEFAULT_TEMPORAL_PORT, 7233);
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const taken = (srv.address() as net.AddressInfo).port;
  try {
    assert.equal(await preferredPortOrAny(taken), 0, 'taken: pick a free port');
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
  assert.equal(await preferredPortOrAny(taken), taken, 'free again: used as is');
});

test('the access lines print the temporal CLI command with the address that works and the Web UI URL', () => {
  const lines = temporalAccessLines({ address: '127.0.0.1:7233', namespace: 'default', uiUrl: 'http://127.0.0.1:8233' }, { startupMs: 1234 });
  assert.deepEqual(lines, ['Temporal at 127.0.0.1:7233 (started in 1234 ms)', '  list its workflows: temporal workflow list --address 127.0.0.1:7233', '  Web UI: http://127.0.0.1:8233']);
  const other = temporalAccessLines({ address: '127.0.0.1:40123', namespace: 'ballast' });
  assert.equal(other[1], '  list its workflows: temporal workflow list --address 127.0.0.1:40123 --namespace ballast');
  assert.equal(other[2], '  Web UI: off (headless)');
});
