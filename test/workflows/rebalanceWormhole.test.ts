/**
 * The rebalance saga over Wormhole on real parts: Temporal dev server, two anvil chains with Wormhole's real
 * core contracts (devnet guardian set 0), the token's WormholeAdapter, the devnet guardian service, and the
 * keeper worker. The keeper fetches each VAA, verifies it, and redeems it as the deliver leg. Every case
 * checks that every token is accounted for, as the LayerZero cases in rebalance.test.ts do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, http, keccak256, toHex, type Hex } from 'viem';
import { startHarness, type Harness } from './harness.js';
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
    assert.match(metrics, /ballast_rebalances_total\{route="alpha->beta",bridge="wormhole",outcome="completed"\} 1/);
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

  test('a VAA served with a bad signature is refused keeper-side; once a good one is served the move completes', async () => {
    const { whChainId, sequence } = await nextSequence('alpha');
    h.devnet.guardian.serveBadSignature(whChainId, sequence);
    const before = await h.balances();
    const pending = run('bad-signature');
    // Let the keeper fetch (and refuse) the bad VAA a few times, then serve the genuine one.
    await new Promise((r) => setTimeout(r, 4_000));
    h.devnet.guardian.clearFaults();
    const r = await pending;
    assert.equal(r.outcome, 'completed', r.reason);
    assert.equal((await h.balances()).total, before.total);
    const log = await import('node:fs').then((fs) => fs.readFileSync(`${h.workDir}/keeper.log`, 'utf8'));
    assert.match(log, /guardian API served a VAA that does not verify; not submitted/);
  });

  test('a VAA never served → stranded by the deadline, funds located as an unredeemed Wormhole message', async () => {
    const { whChainId, sequence } = await nextSequence('alpha');
    h.devnet.guardian.drop(whChainId, sequence);
    try {
      const before = await h.balances();
      const r = await run('never', { deliveryDeadlineSec: 5 });
      assert.equal(r.outcome, 'stranded');
      assert.match(r.reason ?? '', /not seen within 5s/);
      assert.equal(r.nonce, sequence, 'the saga records the Wormhole sequence');
      assert.equal(r.fundsLocation?.delivered, false);
      assert.match(r.fundsLocation?.summary ?? '', new RegExp(`Wormhole message ${whChainId}/0x[0-9a-fA-F]{40}/${sequence} not redeemed on beta`));
      assert.deepEqual(nonZero(r.ledger.balances), { [`inflight:${r.guid!.toLowerCase()}`]: AMOUNT }, 'the ledger holds the amount in flight under the message id');
      const after = await h.balances();
      assert.equal(after.total + AMOUNT, before.total, 'vaults + routes + the located in-flight amount = before');
    } finally {
      h.devnet.guardian.clearFaults();
    }
  });
});
