/**
 * LP mandates on a real monitor (Temporal + anvil, `lp.requireMandates: true`): no mandate, no move; a signed
 * mandate lets the keeper move at most its share of the LP's position, attributed to the LP (query, CLI,
 * metrics); a revocation stops further moves at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { privateKeyToAccount } from 'viem/accounts';
import { startHarness, waitFor, type Harness } from './harness.js';
import { monitorStatus, monitorWorkflowId, setPaused, startMonitor, updateRefusal } from '../../keeper/client.js';
import { readLp, registerLpMandate, revokeLpMandate } from '../../keeper/lp.js';
import { mandateTypedData } from '../../activities/mandateSignature.js';
import { registerMandateUpdate } from '../../workflows/mandates.js';
import type { RebalanceResult } from '../../workflows/types.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { runCaptured } from '../../cli/main.js';

const M = 10n ** 6n;
/** The devnet's market account supplied every vault's liquidity: it is the LP here. */
const lp = privateKeyToAccount(DEVNET_ACCOUNTS.market);
// Anvil's public test account 7 (devnet only).
const stranger = privateKeyToAccount('0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356');
/** 1% of the LP's 10,000,000-token position on beta. */
const SHARE_BPS = 100;
const ALLOWANCE = (10_000_000n * M * BigInt(SHARE_BPS)) / 10_000n;



describe('LP mandates on the monitor (lp.requireMandates: true)', () => {
  let h: Harness;
  let deployment: string;
  before(async () => {
    h = await startHarness({ configOverrides: (c) => ({ ...c, tick: { intervalSec: 1, maxTicksBeforeContinueAsNew: 6 }, lp: { requireMandates: true } }) });
    deployment = h.devnet.config.deployment;
    // alpha 90% utilized, beta 50%: liquidity should flow beta → alpha.
    await h.borrow('alpha', 9_000_000n * M);
    await h.borrow('beta', 5_000_000n * M);
    await h.admin.setPrice('alpha', 3_000n * 10n ** 8n, 1n);
    await h.admin.setPrice('beta', 3_000n * 10n ** 8n, 1n);
    await startMonitor(h.client, h.devnet.config);
  });
  after(async () => {
    await h?.stop();
  });

  test('without a mandate nothing moves, and the plan says why', async () => {
    const st = await waitFor('a plan that names the missing mandate', async () => {
      const s = (await monitorStatus(h.client, deployment)).status;
      return s.totalTicks >= 3 && s.lastUnresolved.some((u) => /no valid LP mandate allows beta->alpha over layerzero/.test(u.reason)) ? s : undefined;
    });
    assert.equal(st.started, 0);
    assert.equal(st.lastUnresolved.find((u) => u.chainKey === 'beta')?.chainKey, 'beta');
  });

  test('a mandate signed by someone else than its LP is refused', async () => {
    const mandate = { lp: lp.address, deployment, chains: ['alpha', 'beta'], bridges: ['layerzero'], maxShareBps: 10_000, maxFeeBps: 10_000, expiresAtSec: BigInt(Math.floor(Date.now() / 1000) + 600), nonce: 1n };
    const signature = await stranger.signTypedData(mandateTypedData(mandate));
    await assert.rejects(h.client.workflow.getHandle(monitorWorkflowId(deployment)).executeUpdate(registerMandateUpdate, { args: [{ mandate, signature }] }), (e) => /not by the LP/.test(updateRefusal(e)));
  });

  test('with a mandate the keeper moves at most its share of the position, attributed to the LP (query, CLI, metrics)', async () => {
    const { outcome } = await registerLpMandate(h.client, deployment, lp, { chains: ['alpha', 'beta'], bridges: ['layerzero'], maxShareBps: SHARE_BPS, maxFeeBps: 50, expiresInSec: 3600 });
    assert.equal(outcome.status, 'registered');
    assert.equal(outcome.nonce, 1n, 'first nonce of the LP');
    const st = await waitFor('a completed rebalance', async () => {
      const s = (await monitorStatus(h.client, deployment)).status;
      return s.finished.completed >= 1 ? s : undefined;
    });
    for (const r of st.recent) {
      assert.equal(r.from, 'beta');
      assert.equal(r.amount, ALLOWANCE, `planned 250,000 tokens, clipped to ${SHARE_BPS} bps of the LP's 10,000,000`);
    }
    const done = st.recent.find((r) => r.outcome === 'completed')!;
    const result = (await h.client.workflow.getHandle(done.rebalanceId).result()) as RebalanceResult;
    assert.ok(result.feePaidWei > 0n, 'the devnet LayerZero send costs a native fee');

    const view = await waitFor('the attribution', async () => {
      const v = await readLp(h.client, deployment, lp.address);
      return v.attribution.moves >= 1 ? v : undefined;
    });
    assert.equal(view.enforced, true);
    assert.equal(view.mandates[0]?.status, 'active');
    const completed = view.attribution.recent.filter((m) => m.outcome === 'completed');
    assert.equal(view.attribution.moved, ALLOWANCE * BigInt(completed.length), 'the only LP is attributed every unit moved');
    const mine = view.attribution.recent.find((m) => m.rebalanceId === done.rebalanceId)!;
    assert.equal(mine.amount, ALLOWANCE);
    assert.equal(mine.feeWei, result.feePaidWei, 'the whole fee of the move is charged to its only LP');

    const out = await runCaptured(['lp', 'show', lp.address, '-c', h.devnet.configFile]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`mandate 0x[0-9a-f]{64} ACTIVE\\s+chains alpha,beta\\s+bridges layerzero\\s+maxShareBps ${SHARE_BPS}\\s+maxFeeBps 50`));
    assert.match(out.stdout, /attributed: moved \d+ \([\d.]+ USDC\) in \d+ move\(s\); fees \d+ wei/);
    assert.match(out.stdout, new RegExp(`completed\\s+${done.rebalanceId} beta->alpha over layerzero: share ${ALLOWANCE}`));

    // The monitor exports the attribution at its next tick (workflows/mandates.ts planInput): wait for it.
    const { metrics, moved } = await waitFor('ballast_lp_moved_tokens_total exported for the LP', async () => {
      const text = await h.keeper.metrics.registry.metrics();
      const m = new RegExp(`ballast_lp_moved_tokens_total\\{lp="${lp.address.toLowerCase()}"\\} ([\\d.]+(?:e\\+\\d+)?)`).exec(text);
      return m ? { metrics: text, moved: m } : undefined;
    });
    assert.ok(Math.round(Number(moved[1]) * 10 ** h.devnet.config.asset.decimals) >= Number(ALLOWANCE), `${moved[1]} whole tokens`);
    assert.match(metrics, new RegExp(`ballast_lp_fees_wei_total\\{lp="${lp.address.toLowerCase()}"\\} \\d`));
  });

  test('after a revocation no further rebalance starts; `lp show` says revoked', async () => {
    const revoked = await revokeLpMandate(h.client, deployment, lp);
    assert.equal(revoked.status, 'revoked');
    const startedAtRevocation = (await monitorStatus(h.client, deployment)).status.started;
    const ticksAtRevocation = (await monitorStatus(h.client, deployment)).status.totalTicks;
    const st = await waitFor('four more ticks, with nothing in flight', async () => {
      const s = (await monitorStatus(h.client, deployment)).status;
      return s.totalTicks >= ticksAtRevocation + 4 && s.inFlight.length === 0 ? s : undefined;
    });
    assert.equal(st.started, startedAtRevocation, 'no rebalance started after the revocation');
    assert.ok(st.lastUnresolved.some((u) => /no valid LP mandate/.test(u.reason)));
    const view = await readLp(h.client, deployment, lp.address);
    assert.equal(view.mandates[0]?.status, 'revoked');
    assert.deepEqual(view.inFlight, {}, 'moves started before the revocation finished and were attributed');
    // re-registering the revoked mandate's nonce is refused; a new mandate needs a higher one
    await assert.rejects(registerLpMandate(h.client, deployment, lp, { chains: ['alpha', 'beta'], bridges: ['layerzero'], maxShareBps: SHARE_BPS, maxFeeBps: 50, expiresInSec: 3600, nonce: 1n }), (e) => /not above the LP's last nonce 1/.test(updateRefusal(e)));
    await setPaused(h.client, deployment, true, 'test done');
  });
});
