/**
 * `ballast replay` against a live Temporal server (histories fetched with `WorkflowHandle.fetchHistory()`):
 * a real monitor on anvil chains plans and starts a rebalance; its running history and the finished
 * saga's replay against the current code, and `--decisions` re-derives the monitor's plans unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitFor, type Harness } from './harness.js';
import { monitorStatus, monitorWorkflowId, setPaused, startMonitor } from '../../keeper/client.js';
import { runCaptured } from '../../cli/main.js';

const M = 10n ** 6n;
/** `ballast …` in-process (cli/main.ts), its output captured. */
const ballast = (args: string[]) => runCaptured(args);


describe('ballast replay on a live devnet (Temporal + anvil + relayer + worker)', () => {
  let h: Harness;
  let rebalanceId: string;
  before(async () => {
    h = await startHarness({ configOverrides: (c) => ({ ...c, tick: { intervalSec: 1, maxTicksBeforeContinueAsNew: 100 } }) });
    await h.borrow('alpha', 9_000_000n * M);
    await h.borrow('beta', 5_000_000n * M);
    await h.admin.setPrice('alpha', 3_000n * 10n ** 8n, 1n);
    await h.admin.setPrice('beta', 3_000n * 10n ** 8n, 1n);
    await startMonitor(h.client, h.devnet.config);
    const st = await waitFor('a completed rebalance', async () => {
      const s = await monitorStatus(h.client, h.devnet.config.deployment);
      return s.status.finished.completed >= 1 ? s : undefined;
    });
    rebalanceId = st.status.recent.find((r) => r.outcome === 'completed')!.rebalanceId;
    await setPaused(h.client, h.devnet.config.deployment, true, 'replay test');
  });
  after(async () => {
    await h?.stop();
  });

  test('`ballast replay <rebalanceId> -c` fetches the finished saga and replays it: ok, exit 0', async () => {
    const r = await ballast(['replay', rebalanceId, '-c', h.devnet.configFile]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ok: temporal:${rebalanceId} \\(\\d+ events\\) replays deterministically`, 'm'));
  });

  test("`ballast replay <monitorId> -c --run-id` replays the running monitor's history so far", async () => {
    const id = monitorWorkflowId(h.devnet.config.deployment);
    const runId = (await h.client.workflow.getHandle(id).describe()).runId;
    const r = await ballast(['replay', id, '-c', h.devnet.configFile, '--run-id', runId, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { workflowId: id, source: `temporal:${id}/${runId}`, ok: true });
  });

  test('`ballast replay <monitorId> -c --decisions` re-derives every recorded plan with the same config: all same, exit 0', async () => {
    const id = monitorWorkflowId(h.devnet.config.deployment);
    const r = await ballast(['replay', id, '-c', h.devnet.configFile, '--decisions']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^tick 1 at .* \(snapshot fresh, 0 in flight\): same$/m);
    assert.match(r.stdout, /^ {2}= beta → alpha \d+(?: via \w+)?$/m, 'the rebalance the monitor started is planned the same (and over the same bridge)');
    const m = /^(\d+) tick\(s\): (\d+) same, 0 different$/m.exec(r.stdout);
    assert.ok(m && m[1] === m[2], r.stdout);
  });

  test('`ballast replay` of an unknown workflow id fails with the reason (exit 1)', async () => {
    const r = await ballast(['replay', 'no-such-workflow', '-c', h.devnet.configFile]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ballast: .*(no-such-workflow|not found)/im);
  });
});
