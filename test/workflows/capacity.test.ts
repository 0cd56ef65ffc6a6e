/**
 * The capacity saga (`capacityMoveWorkflow`) and the monitor's capacity moves on real parts: a Temporal dev
 * server, two anvil chains with LayerZero's EndpointV2, the CreditMessenger OApps and the Wormhole core, the
 * devnet LayerZero relayer and Wormhole guardian, and the keeper worker. Every case checks the borrow limits
 * on chain and that Σ borrowLimit (+ credit in flight) is conserved.
 *
 * Only what needs real chains is here: a move over each bridge, one compensation (a real revert decoded, the
 * credit returned over LayerZero), credit in flight located and conserved on chain, the replay of a recorded
 * history, and the monitor planning and starting a move. The saga's other branches (each leg failing, failing
 * compensations, deadlines, retries, mismatches) run on the time-skipping test server: sagaBranchesCapacity.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createPublicClient, createWalletClient, http, keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startHarness, waitFor, type Harness } from './harness.js';
import { collateralVaultAbi, creditMessengerAbi } from '../../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { createActivities } from '../../activities/index.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { monitorStatus, setPaused, startMonitor } from '../../keeper/client.js';
import { workflowsPath } from '../../keeper/worker.js';
import { loadWorkflowBundle } from '../../keeper/workflowBundle.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { nonZero } from '../../ledger/ledger.js';
import { planCapacity } from '../../planner/capacity.js';
import { WAD } from '../../planner/types.js';
import type { CapacityMoveInput, CapacityMoveResult } from '../../workflows/capacity.js';

const M = 10n ** 6n; // one token (6 decimals)
const HIGH = 90n;
const LOW = 70n;


describe('capacityMoveWorkflow (capacity saga) and the monitor’s capacity moves on anvil + LayerZero + Wormhole + Temporal', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      // Capacity moves on both chains; a collateral band so wide that only capacity moves happen here.
      configOverrides: (c) => ({
        ...c,
        chains: c.chains.map((ch) => ({
          ...ch,
          band: { lowPct: 1, highPct: 99.99 },
          capacity: { highPct: Number(HIGH), lowPct: Number(LOW), minMove: (1_000n * M).toString(), maxMove: (3_000_000n * M).toString() },
        })),
      }),
    });
  });
  after(async () => {
    await h?.stop();
  });

  const chain = (key: string) => {
    const c = h.devnet.deployment.chains[key]!;
    const ch = { id: c.chainId, name: key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
    return { c, pub: createPublicClient({ chain: ch, transport: http(c.rpcUrl) }), deployer: createWalletClient({ chain: ch, transport: http(c.rpcUrl), account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) }) };
  };
  const limitOf = (key: string) => chain(key).pub.readContract({ address: chain(key).c.contracts.vault, abi: collateralVaultAbi, functionName: 'borrowLimit' });
  const borrowedOf = (key: string) => chain(key).pub.readContract({ address: chain(key).c.contracts.vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' });
  /** Σ borrowLimit + reserved + (Σ messenger sent − received) + pending + orphaned over both chains. */
  const capacityTotal = async () => {
    let total = 0n;
    for (const key of ['alpha', 'beta']) {
      const { c, pub } = chain(key);
      const m = c.contracts.creditMessenger;
      const [limit, reserved, sent, received, pending, orphaned] = await Promise.all([
        pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'borrowLimit' }),
        pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'reservedCredit' }),
        pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalSent' }),
        pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalReceived' }),
        pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalPending' }),
        pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalOrphaned' }),
      ]);
      total += limit + reserved + sent - received + pending + orphaned;
    }
    return total;
  };
  const sumLimits = async () => (await limitOf('alpha')) + (await limitOf('beta'));

  const idFor = (name: string): Hex => keccak256(toHex(`capacity:${name}:${process.pid}:${Date.now()}`));
  const run = (name: string, over: Partial<CapacityMoveInput> = {}): Promise<CapacityMoveResult> => {
    const rebalanceId = idFor(name);
    const input: CapacityMoveInput = { rebalanceId, from: 'alpha', to: 'beta', amount: 1_000_000n * M, reason: `test: ${name}`, deliveryDeadlineSec: 60, ...over };
    return h.client.workflow.execute('capacityMoveWorkflow', { taskQueue: h.taskQueue, workflowId: rebalanceId, args: [input] });
  };
  let opening: bigint;
  let completedLz: CapacityMoveResult | undefined;

  test('a capacity move over LayerZero completes: destination borrowLimit up by exactly the amount, source down by it, Σ conserved', async () => {
    opening = await capacityTotal();
    const X = 1_000_000n * M;
    const [a0, b0] = [await limitOf('alpha'), await limitOf('beta')];
    const r = await run('lz', { amount: X });
    completedLz = r;
    assert.equal(r.outcome, 'completed', r.reason);
    assert.equal(r.kind, 'capacity');
    assert.equal(r.bridge, 'layerzero');
    assert.deepEqual(r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:apply:ok']);
    assert.match(r.messageId ?? '', /^0x[0-9a-f]{64}$/, 'the LayerZero GUID of the credit message');
    assert.ok(r.feePaidWei > 0n, 'a LayerZero fee was paid');
    assert.deepEqual(nonZero(r.ledger.balances), { 'limit:beta': X }, 'the capacity ledger ends with every base unit in beta’s limit');
    assert.equal(r.ledger.entries.length, 4);
    assert.equal(r.ledgerMismatch, undefined);
    assert.equal(await limitOf('beta'), b0 + X);
    assert.equal(await limitOf('alpha'), a0 - X);
    assert.equal(await sumLimits(), a0 + b0, 'Σ borrowLimit conserved to the base unit');
    assert.equal(await capacityTotal(), opening);
  });

  test('a capacity move over Wormhole completes: the VAA fetched from the guardian API, verified keeper-side, redeemed; Σ conserved', async () => {
    const X = 500_000n * M;
    const [a0, b0] = [await limitOf('alpha'), await limitOf('beta')];
    const r = await run('wormhole', { amount: X, bridge: 'wormhole', vaaPollIntervalMs: 200 });
    assert.equal(r.outcome, 'completed', r.reason);
    assert.equal(r.bridge, 'wormhole');
    assert.deepEqual(r.legs.map((l) => `${l.leg}:${l.status}`), ['reserve:ok', 'send:ok', 'deliver:ok', 'apply:ok']);
    const whChain = h.devnet.deployment.chains.alpha!.whChainId;
    const emitter = chain('alpha').c.contracts.creditMessenger.slice(2).toLowerCase().padStart(64, '0');
    assert.match(r.messageId ?? '', new RegExp(`^wormhole/${whChain}/${emitter}/\\d+$`), 'the Wormhole message id (chain/emitter/sequence)');
    assert.match(r.legs[2]!.txHash ?? '', /^0x[0-9a-f]{64}$/, 'deliver is the redeem transaction on beta');
    assert.ok(r.feePaidWei >= 0n);
    assert.deepEqual(nonZero(r.ledger.balances), { 'limit:beta': X });
    assert.equal(await limitOf('beta'), b0 + X);
    assert.equal(await limitOf('alpha'), a0 - X);
    assert.equal(await capacityTotal(), opening);
  });

  test('a failed apply (destination inflow paused) is compensated: returned over the bridge, re-applied on the source; Σ conserved', async () => {
    const X = 250_000n * M;
    const [a0, b0] = [await limitOf('alpha'), await limitOf('beta')];
    await h.admin.setKeeperFlowsPaused('beta', false, true);
    let r: CapacityMoveResult;
    try {
      r = await run('apply-fails', { amount: X });
    } finally {
      await h.admin.setKeeperFlowsPaused('beta', false, false);
    }
    assert.equal(r.outcome, 'compensated', r.reason);
    assert.match(r.reason ?? '', /InflowPaused/);
    assert.deepEqual(
      r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`),
      ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:apply:failed', 'compensation:return:ok', 'compensation:return-deliver:ok', 'compensation:return-apply:ok'],
    );
    assert.match(r.returnMessageId ?? '', /^0x[0-9a-f]{64}$/, 'the return message');
    assert.notEqual(r.returnMessageId, r.messageId);
    assert.deepEqual(nonZero(r.ledger.balances), { 'limit:alpha': X }, 'the ledger shows the capacity back in alpha’s limit');
    assert.equal(await limitOf('alpha'), a0, 'the source limit is whole again');
    assert.equal(await limitOf('beta'), b0, 'the destination limit never moved');
    assert.equal(await capacityTotal(), opening);
  });

  test('a recorded capacity saga history replays deterministically with Worker.runReplayHistory', async () => {
    assert.ok(completedLz, 'the LayerZero move ran');
    const history = await h.client.workflow.getHandle(completedLz.rebalanceId).fetchHistory();
    assert.ok((history.events?.length ?? 0) > 10);
    await Worker.runReplayHistory({ workflowBundle: { code: (await loadWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath })).code }, dataConverter }, history, completedLz.rebalanceId);
  });

  test('in flight, read on chain (activities called directly): a sent, undelivered credit message is located by its GUID and counted in Σ; once delivered and applied, Σ still holds', async () => {
    const acts = createActivities(buildKeeperContext(h.devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), createLogger('capacity-test', { write: () => {} } as never)));
    const rebalanceId = idFor('in-flight');
    const X = 50_000n * M;
    const [a0, b0] = [await limitOf('alpha'), await limitOf('beta')];
    await acts.reserveCredit({ rebalanceId, chainKey: 'alpha', amount: X });
    h.devnet.relayer.setDropAll(true);
    let sent: Awaited<ReturnType<typeof acts.sendCredit>>;
    try {
      sent = await acts.sendCredit({ rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', amount: X });
      const where = await acts.locateCredit({ rebalanceId, from: 'alpha', to: 'beta' });
      assert.deepEqual(where.sent, { bridge: 'layerzero', id: sent.guid, amount: X, delivered: false });
      assert.equal(where.reservation.status, 'sent');
      assert.match(where.summary, new RegExp(`layerzero message ${sent.guid} \\(${X}\\) not delivered to beta`));
      assert.equal(await capacityTotal(), opening, 'in flight counts: nothing lost');
      assert.equal(await limitOf('alpha'), a0 - X);
      await assert.rejects(acts.awaitCreditDelivery({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce }), (e: unknown) => e instanceof ApplicationFailure && e.type === 'DeliveryPending');
    } finally {
      h.devnet.relayer.setDropAll(false);
      h.devnet.relayer.replayDropped();
    }
    await waitFor('the replayed credit message delivered on beta', () => acts.awaitCreditDelivery({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce }));
    assert.equal((await acts.locateCredit({ rebalanceId, from: 'alpha', to: 'beta' })).sent?.delivered, true);
    await acts.applyCredit({ rebalanceId, purpose: 'forward', chainKey: 'beta' });
    assert.deepEqual([await limitOf('alpha'), await limitOf('beta')], [a0 - X, b0 + X]);
    assert.equal(await capacityTotal(), opening);
  });

  test('the monitor starts a capacity move on its own when a chain’s borrowed/borrowLimit is above its high mark, and it completes as planned', async () => {
    const config = h.devnet.config;
    // alpha: borrow until usage is above the 90% high mark; beta borrows nothing (spare above its low mark).
    const a0 = await limitOf('alpha');
    await h.borrow('alpha', (a0 * 94n) / 100n - (await borrowedOf('alpha')));
    const [aLimit, bLimit, aBorrowed, bBorrowed] = [await limitOf('alpha'), await limitOf('beta'), await borrowedOf('alpha'), await borrowedOf('beta')];
    assert.ok(aBorrowed * 100n > HIGH * aLimit, 'alpha above its high mark');
    const policy = (chainKey: string) => ({ chainKey, highWad: (HIGH * WAD) / 100n, lowWad: (LOW * WAD) / 100n, minMove: 1_000n * M, maxMove: 3_000_000n * M });
    const expected = planCapacity({
      chains: [
        { chainKey: 'alpha', borrowed: aBorrowed, borrowLimit: aLimit },
        { chainKey: 'beta', borrowed: bBorrowed, borrowLimit: bLimit },
      ],
      policies: [policy('alpha'), policy('beta')],
      inFlight: [],
    });
    assert.equal(expected.moves.length, 1, 'the planner asks for one move beta → alpha');
    const want = expected.moves[0]!;
    const sumBefore = aLimit + bLimit;
    // The monitor reads the oracles every tick (the devnet feeds start without a round).
    await h.admin.setPrice('alpha', 3_000n * 10n ** 8n, 1n);
    await h.admin.setPrice('beta', 3_000n * 10n ** 8n, 1n);

    await startMonitor(h.client, config);
    const st = await waitFor('a completed capacity move', async () => {
      const s = await monitorStatus(h.client, config.deployment);
      return s.status.recent.some((r) => r.kind === 'capacity' && r.outcome === 'completed') ? s : undefined;
    });
    const moves = st.status.recent.filter((r) => r.kind === 'capacity');
    assert.equal(moves.length, 1, 'one capacity move, not two on the same route');
    const m = moves[0]!;
    assert.deepEqual([m.from, m.to, m.amount], [want.from, want.to, want.amount], 'the monitor moved what planCapacity plans for these limits');
    assert.equal(st.status.recent.filter((r) => r.kind !== 'capacity').length, 0, 'no collateral rebalance (the band is wide open)');
    const res: CapacityMoveResult = await h.client.workflow.getHandle(m.rebalanceId).result();
    assert.equal(res.outcome, 'completed', res.reason);
    assert.equal(res.kind, 'capacity');
    assert.equal(await limitOf('alpha'), aLimit + want.amount, 'alpha’s limit rose by exactly the amount');
    assert.equal(await limitOf('beta'), bLimit - want.amount);
    assert.equal(await sumLimits(), sumBefore, 'Σ borrowLimit conserved');
    assert.equal(await capacityTotal(), opening);
    assert.ok(aBorrowed * 100n <= HIGH * (aLimit + want.amount), 'alpha is back under its high mark');
    assert.deepEqual(st.status.lastCapacityUnresolved?.filter((u) => u.chainKey === 'beta'), [], 'beta is not left out');
    // The move is finished for the monitor too, and no other one follows (alpha is no longer above its mark).
    const later = await waitFor('the move off the in-flight list', async () => {
      const s = await monitorStatus(h.client, config.deployment);
      return s.status.inFlight.length === 0 && s.status.totalTicks > st.status.totalTicks + 1 ? s : undefined;
    });
    assert.equal(later.status.recent.filter((r) => r.kind === 'capacity').length, 1);
    assert.equal(later.status.ledger.halted, undefined);
    assert.match(await h.keeper.metrics.registry.metrics(), /ballast_rebalances_total\{[^}]*route="beta->alpha"[^}]*outcome="completed"[^}]*\} 1/);
    await setPaused(h.client, config.deployment, true, 'capacity test done');
  });
});
