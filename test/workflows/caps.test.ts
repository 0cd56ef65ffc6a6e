/**
 * Run-time caps on a real monitor (Temporal + anvil): signed Updates, the second-approver rule for raises,
 * refusals, the audit trail and metrics, and the planner honouring a cut.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { privateKeyToAccount } from 'viem/accounts';
import { startHarness, waitFor, type Harness } from './harness.js';
import { monitorStatus, setPaused, startMonitor, updateRefusal } from '../../keeper/client.js';
import { approveCaps, proposeCaps, readCaps } from '../../keeper/caps.js';
import { runCaptured } from '../../cli/main.js';

const M = 10n ** 6n;
// Anvil's public test accounts 5, 6 and 7 (devnet only): two approvers and a stranger.
const KEY_A = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba' as const;
const KEY_B = '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e' as const;
const KEY_X = '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356' as const;
const riskA = privateKeyToAccount(KEY_A);
const riskB = privateKeyToAccount(KEY_B);
const stranger = privateKeyToAccount(KEY_X);


/** The reason a refused Update carries, whichever layer refused it (validator or handler). */
function refusal(err: unknown): string {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return `rpc: ${err.message}`;
  return updateRefusal(err);
}

describe('run-time caps on the monitor', () => {
  let h: Harness;
  let deployment: string;
  before(async () => {
    h = await startHarness({
      configOverrides: (c) => ({
        ...c,
        tick: { intervalSec: 1, maxTicksBeforeContinueAsNew: 6 },
        risk: { capApprovers: [{ name: 'risk-a', address: riskA.address }, { name: 'risk-b', address: riskB.address }], approvalWindowSec: 600 },
      }),
    });
    deployment = h.devnet.config.deployment;
    await setPaused(h.client, deployment, true, 'caps test: no rebalances until the cap is set').catch(() => undefined);
    await startMonitor(h.client, h.devnet.config);
    await setPaused(h.client, deployment, true, 'caps test: no rebalances until the cap is set');
    await waitFor('the monitor to tick', () => readCaps(h.client, deployment));
  });
  after(async () => {
    await h?.stop();
  });

  test('a cut by one approver applies at once, shows in `caps show`, the audit and the metrics', async () => {
    const { request, outcome } = await proposeCaps(h.client, deployment, riskA, { scope: { chainKey: 'beta' }, set: { maxTransfer: 100_000n * M }, reason: 'lower beta transfers while we look at the bridge' });
    assert.equal(outcome.status, 'applied');
    assert.equal(outcome.audit[0]?.who, `risk-a (${riskA.address})`);
    const view = await readCaps(h.client, deployment);
    assert.equal(view?.effective.find((p) => p.chainKey === 'beta')?.caps.maxTransfer, 100_000n * M);
    const rec = view?.state.audit.find((a) => a.changeId === request.changeId);
    assert.equal(rec?.action, 'applied');
    assert.equal(rec?.old.maxTransfer, h.devnet.config.chains.find((c) => c.key === 'beta')!.caps.maxTransfer.toString());
    assert.equal(rec?.new.maxTransfer, (100_000n * M).toString());
    const metrics = await h.keeper.metrics.registry.metrics();
    assert.match(metrics, /ballast_cap_changes_total\{scope="chain beta",action="applied"\} 1/);
    assert.match(metrics, /ballast_cap_base_units\{scope="chain beta",field="maxTransfer"\} 100000000000/);

    const out = await runCaptured(['caps', 'show', '-c', h.devnet.configFile]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /chain beta\s+maxOutflowPerWindow \d+\s+windowSec \d+\s+maxTransfer 100000000000 \(config \d+\)/);
    assert.match(out.stdout, /applied\s+chain beta .*by risk-a/);
  });

  test('a raise waits for a second approver; the proposer cannot approve it; the second approver applies it', async () => {
    const { request, outcome } = await proposeCaps(h.client, deployment, riskA, { scope: { chainKey: 'alpha' }, set: { minBuffer: 0n }, reason: 'free the buffer for the migration' });
    assert.equal(outcome.status, 'pending');
    let view = await readCaps(h.client, deployment);
    assert.equal(view?.state.pending.length, 1);
    assert.notEqual(view?.effective.find((p) => p.chainKey === 'alpha')?.minBufferAmount, 0n, 'not applied yet');
    await assert.rejects(approveCaps(h.client, deployment, riskA, request.changeId), (e) => /second, different approver/.test(refusal(e)));
    const approved = await approveCaps(h.client, deployment, riskB, request.changeId);
    assert.equal(approved.status, 'approved');
    view = await readCaps(h.client, deployment);
    assert.equal(view?.effective.find((p) => p.chainKey === 'alpha')?.minBufferAmount, 0n);
    assert.equal(view?.state.pending.length, 0);
  });

  test('refused: a stranger\'s signature, an unknown chain, maxTransfer above the window cap', async () => {
    await assert.rejects(proposeCaps(h.client, deployment, stranger, { scope: { chainKey: 'beta' }, set: { maxTransfer: 1n }, reason: 'x' }), (e) => /not a configured approver/.test(refusal(e)));
    await assert.rejects(proposeCaps(h.client, deployment, riskA, { scope: { chainKey: 'gamma' }, set: { maxTransfer: 1n }, reason: 'x' }), (e) => /unknown chain "gamma"/.test(refusal(e)));
    await assert.rejects(proposeCaps(h.client, deployment, riskA, { scope: { chainKey: 'beta' }, set: { maxTransfer: 10n ** 30n }, reason: 'x' }), (e) => /would exceed maxOutflowPerWindow/.test(refusal(e)));
  });

  test('the planner honours the cut: the rebalance out of beta is at most the new maxTransfer', async () => {
    // alpha 90% utilized, beta 50%: liquidity flows beta → alpha, clipped to beta's run-time cap.
    await h.borrow('alpha', 9_000_000n * M);
    await h.borrow('beta', 5_000_000n * M);
    await h.admin.setPrice('alpha', 3_000n * 10n ** 8n, 1n);
    await h.admin.setPrice('beta', 3_000n * 10n ** 8n, 1n);
    await setPaused(h.client, deployment, false);
    const st = await waitFor('a rebalance', async () => {
      const s = await monitorStatus(h.client, deployment);
      return s.status.recent.length > 0 ? s : undefined;
    });
    const r = st.status.recent[0]!;
    assert.equal(r.from, 'beta');
    assert.ok(r.amount <= 100_000n * M, `amount ${r.amount} is within the run-time cap`);
    assert.ok(r.amount > 0n);
  });
});
