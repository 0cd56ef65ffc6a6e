/**
 * A worker started before Temporal is reachable waits for it (keeper/worker.ts `connectTemporalWithBackoff`):
 * bounded backoff, every failed attempt logged with `temporal.address` and the cause, then either connected once
 * the server answers or a clean error naming the address (chaos seed 70 restarted the worker while Temporal was
 * down and the worker died at once with a raw `tonic::transport::Error`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { connectTemporalWithBackoff, temporalConnectWaitSec } from '../../keeper/worker.js';
import { createLogger } from '../../keeper/logger.js';
import { findFreePort, startTemporalDevServer } from '../../devnet/temporal.js';

function capture() {
  const lines: { level: number; msg: string; temporal?: string; cause?: string }[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
      cb();
    },
  });
  return { lines, log: createLogger('worker-startup-test', dest as never) };
}

test('BALLAST_TEMPORAL_CONNECT_WAIT_SEC: default 60, a number of seconds, refused otherwise', () => {
  assert.equal(temporalConnectWaitSec({}), 60);
  assert.equal(temporalConnectWaitSec({ BALLAST_TEMPORAL_CONNECT_WAIT_SEC: '0' }), 0);
  assert.equal(temporalConnectWaitSec({ BALLAST_TEMPORAL_CONNECT_WAIT_SEC: '12.5' }), 12.5);
  assert.throws(() => temporalConnectWaitSec({ BALLAST_TEMPORAL_CONNECT_WAIT_SEC: 'soon' }), /BALLAST_TEMPORAL_CONNECT_WAIT_SEC must be a non-negative number of seconds \(got "soon"\)/);
});

test('nothing listening: retries with logged backoff, then a clean error naming temporal.address', async () => {
  const port = await findFreePort();
  const { lines, log } = capture();
  const t0 = Date.now();
  await assert.rejects(connectTemporalWithBackoff(`127.0.0.1:${port}`, log, { waitSec: 2 }), (err: Error) => {
    assert.match(err.message, new RegExp(`^cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(temporal\\.address\\) after \\d+ attempt\\(s\\) over \\d+ s: connection refused`));
    assert.doesNotMatch(err.message, /tonic/);
    return true;
  });
  assert.ok(Date.now() - t0 < 6000, 'bounded by the wait');
  const warns = lines.filter((l) => l.level === 40);
  assert.ok(warns.length >= 2, `each failed attempt logged (got ${warns.length})`);
  assert.match(warns[0]!.msg, new RegExp(`Temporal at 127\\.0\\.0\\.1:${port} \\(temporal\\.address\\) not reachable \\(connection refused\\); retrying`));
});

test('Temporal comes up while the worker waits: connected, the wait logged', async () => {
  const port = await findFreePort();
  const { lines, log } = capture();
  const server = (async () => {
    await new Promise((r) => setTimeout(r, 1200));
    return startTemporalDevServer({ port });
  })();
  try {
    const connection = await connectTemporalWithBackoff(`127.0.0.1:${port}`, log, { waitSec: 60 });
    await connection.close();
    assert.ok(lines.some((l) => l.level === 40 && /not reachable/.test(l.msg)), 'the wait was logged');
    assert.ok(lines.some((l) => l.level === 30 && /Temporal answered/.test(l.msg)));
  } finally {
    await (await server).stop();
  }
});
