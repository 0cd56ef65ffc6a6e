/**
 * The rebalance saga over Wormhole on real parts: Temporal dev server, two anvil chains with Wormhole's real
 * core contracts (devnet guardian set 0), the token's WormholeAdapter, the devnet guardian service, and the
 * keeper worker. The keeper fetches each VAA, verifies it, and redeems it as the deliver leg. Every case
 * checks that every token is accounted for, as the LayerZero cases in rebalance.test.ts do.
 *
 * Only what needs real chains and the real guardian is here: the full saga, one compensation (returned over
 * Wormhole), and the on-chain / keeper-side facts of a stranded or refused message (located as unredeemed, a
 * bad signature refused before submission). The saga's branches over Wormhole (each leg failing, deadlines,
 * VAAs refused then good, retries, mismatches) run on the time-skipping test server: sagaBranches.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createPublicClient, http, keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startHarness, waitFor, type Harness } from './harness.js';
import { createActivities } from '../../activities/index.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import { nonZero } from '../../ledger/ledger.js';
import { wormholeImplementationAbi } from '../../contracts/generated/abis.js';

const AMOUNT = 40_000n * 10n ** 6n; // 40,000 tokens

describe('rebalanceWorkflow over Wormhole (core contracts + devnet guardian + Temporal)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  const idFor = (name: string): Hex => keccak256(toHex(`wh:${name}:${process.pid}:${Date.now()}`));
  const run = (name: string, over: Partial<RebalanceInput> = {}): Promise<RebalanceResult> => {
    const rebalanceId = idFor(name);
    const input: RebalanceInput = { rebalanceId, from: 'alpha', to: 'beta', amount: AMOUNT, reason: `test: ${name}`, deliveryDeadlineSec: 60, bridge: 'wormhole', ...over };
    return h.client.workflow.execute('rebalanceWorkflow', { taskQueue: h.taskQueue, workflowId: rebalanceId, args: [input] });
  };
  /** The sequence the next message of `chainKey`'s adapter will get (core `nextSequence(emitter)`). */
  const nextSequence = async (chainKey: string): Promise<{ whChainId: number; sequence: bigint }> => {
    const c = h.devnet.deployment.chains[chainKey]!;
    const pc = createPublicClient({ transport: http(c.rpcUrl) });
    const sequence = await pc.readContract({ address: c.contracts.wormholeCore, abi: wormholeImplementationAbi, functionName: 'nextSequence', args: [c.contracts.wormholeAdapter] });
    return { whChainId: c.whChainId, sequence };
  };

  test('a full rebalance over Wormhole completes: VAA fetched, verified and redeemed; balances and ledger exact', async () => {
    const before = await h.balances();
    const [sa, sb] = [await h.vaultSupplied('alpha'), await h.vaultSupplied('beta')];
    const r = await run('full');
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(r.legs.map((l) => `${l.leg}:${l.status}`), ['withdraw:ok', 'send:ok', 'deliver:ok', 'deposit:ok']);
    assert.match(r.legs[2]!.txHash ?? '', /^0x[0-9a-f]{64}$/, 'the keeper submitted the VAA itself (receiveMessage tx)');
    assert.deepEqual(nonZero(r.ledger.balances), { 'vault:beta': AMOUNT });
    assert.equal(r.ledgerMismatch, undefined);
    const after = await h.balances();
    assert.equal(after.vaults.alpha, before.vaults.alpha! - AMOUNT);
    assert.equal(after.vaults.beta, before.vaults.beta! + AMOUNT);
    assert.equal(after.total, before.total, 'sum over vaults and routes unchanged to the base unit');
    assert.equal(await h.vaultSupplied('alpha'), sa - AMOUNT);
    assert.equal(await h.vaultSupplied('beta'), sb + AMOUNT);
    const metrics = await h.keeper.metrics.registry.metrics();
    assert.match(metrics, /ballast_rebalances_total\{kind="collateral",route="alpha->beta",bridge="wormhole",outcome="completed"\} 1/);
  });

  test('deposit reverts (destination inflow paused) → returned over Wormhole and redeposited at the source', async () => {
    await h.admin.setKeeperFlowsPaused('beta', false, true);
    try {
      const before = await h.balances();
      const r = await run('deposit-reverts');
      assert.equal(r.outcome, 'compensated', r.reason);
      assert.match(r.reason ?? '', /InflowPaused/);
      assert.deepEqual(
        r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`),
        ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:failed', 'compensation:return:ok', 'compensation:return-deliver:ok', 'compensation:return-deposit:ok'],
      );
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:alpha': AMOUNT }, 'the ledger shows the funds back in the source vault');
      assert.deepEqual(await h.balances(), before);
    } finally {
      await h.admin.setKeeperFlowsPaused('beta', false, false);
    }
  });

  test('on chain and keeper-side, called directly: a VAA not served → funds located as an unredeemed Wormhole message; served with a bad signature → refused (VaaRejected), nothing submitted; the genuine one → redeemed', async () => {
    const lines: string[] = [];
    const log = createLogger('wormhole-test', { write: (l: string) => void lines.push(l) } as never);
    const acts = createActivities(buildKeeperContext(h.devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), log));
    const rebalanceId = idFor('direct');
    const { whChainId, sequence } = await nextSequence('alpha');
    h.devnet.guardian.drop(whChainId, sequence);
    const before = await h.balances();
    try {
      await acts.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: 'alpha', amount: AMOUNT });
      const sent = await acts.sendOverBridge({ rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', amount: AMOUNT, bridge: 'wormhole' });
      assert.equal(sent.nonce, sequence, 'the send returns the Wormhole sequence');
      const delivery = { from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce, bridge: 'wormhole', key: sent.legKey };
      const locate = () => acts.locateFunds({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce, bridge: 'wormhole', key: sent.legKey });
      const unredeemed = await locate();
      assert.equal(unredeemed.delivered, false);
      assert.match(unredeemed.summary, new RegExp(`Wormhole message ${whChainId}/0x[0-9a-fA-F]{40}/${sequence} not redeemed on beta`));
      assert.equal((await h.balances()).total + AMOUNT, before.total, 'vaults + routes + the located in-flight amount = before');
      await assert.rejects(acts.awaitDelivery(delivery), (e: unknown) => e instanceof ApplicationFailure && e.type === 'VaaPending', 'a dropped VAA is not served (404)');

      h.devnet.guardian.clearFaults();
      h.devnet.guardian.serveBadSignature(whChainId, sequence);
      // The guardian signs once it has observed the message; until then the API answers 404 (VaaPending).
      const refused = await waitFor('the VAA served with a bad signature', () =>
        acts.awaitDelivery(delivery).then(
          () => 'redeemed' as const,
          (e: unknown) => (e instanceof ApplicationFailure && e.type === 'VaaRejected' ? e : undefined),
        ),
      );
      assert.ok(refused instanceof ApplicationFailure, 'a VAA with a bad signature must never be redeemed');
      assert.match(refused.message, /does not verify|signature/i);
      assert.ok(lines.some((l) => /guardian API served a VAA that does not verify; not submitted/.test(l)), 'logged as refused, not submitted');
      assert.equal((await locate()).delivered, false, 'nothing was submitted: the adapter has no record');

      h.devnet.guardian.clearFaults();
      const d = await acts.awaitDelivery(delivery);
      assert.match(d.txHash ?? '', /^0x[0-9a-f]{64}$/, 'the keeper submitted the genuine VAA (receiveMessage tx)');
      const redeemed = await locate();
      assert.equal(redeemed.delivered, true);
      assert.match(redeemed.summary, new RegExp(`Wormhole message ${whChainId}/0x[0-9a-fA-F]{40}/${sequence} redeemed on beta`));
      await acts.depositToVault({ rebalanceId, purpose: 'forward', chainKey: 'beta', amount: AMOUNT });
      assert.equal((await h.balances()).total, before.total);
    } finally {
      h.devnet.guardian.clearFaults();
    }
  });
});
