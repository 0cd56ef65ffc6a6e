/**
 * The rebalance saga on real parts: Temporal dev server, two anvil chains with LayerZero's EndpointV2,
 * the devnet relayer, and the keeper worker. Every case checks that every token is accounted for.
 *
 * Only what needs real chains is here: the full saga, one compensation (a real revert decoded, returned over
 * LayerZero), idempotent legs and where funds are located (read on chain), the front-run ledger mismatch (a real
 * write under the saga's id, read back by the real reconciliation), and the replay of a recorded history. The
 * saga's other branches (each leg failing, failing compensations, deadlines, late deliveries, retries, mismatches
 * mid-saga) run on the time-skipping test server with activity doubles: sagaBranches.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toHex, type Hex } from 'viem';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { startHarness, waitFor, type Harness } from './harness.js';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import { createActivities } from '../../activities/index.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { privateKeyToAccount } from 'viem/accounts';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { workflowsPath } from '../../keeper/worker.js';
import { loadWorkflowBundle } from '../../keeper/workflowBundle.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { nonZero } from '../../ledger/ledger.js';
import { ballastRouteAbi, collateralVaultAbi } from '../../contracts/generated/abis.js';
import { createPublicClient, createWalletClient, http } from 'viem';

const AMOUNT = 50_000n * 10n ** 6n; // 50,000 tokens

describe('rebalanceWorkflow (saga) on anvil + LayerZero EndpointV2 + Temporal', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  const idFor = (name: string): Hex => keccak256(toHex(`${name}:${process.pid}:${Date.now()}`));
  const run = (name: string, over: Partial<RebalanceInput> = {}): Promise<RebalanceResult> => {
    const rebalanceId = idFor(name);
    const input: RebalanceInput = { rebalanceId, from: 'alpha', to: 'beta', amount: AMOUNT, reason: `test: ${name}`, deliveryDeadlineSec: 60, ...over };
    return h.client.workflow.execute('rebalanceWorkflow', { taskQueue: h.taskQueue, workflowId: rebalanceId, args: [input] });
  };
  /** The keeper's activities, called directly (outside any workflow) on the harness chains. */
  const directActivities = () => {
    const log = createLogger('rebalance-test', { write: () => {} } as never);
    return createActivities(buildKeeperContext(h.devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), log));
  };
  let completed: RebalanceResult | undefined;

  test('a full rebalance completes: source vault down, destination vault up by the amount, nothing left in routes', async () => {
    const before = await h.balances();
    const [sa, sb] = [await h.vaultSupplied('alpha'), await h.vaultSupplied('beta')];
    const r = await run('full');
    completed = r;
    assert.equal(r.outcome, 'completed', r.reason);
    assert.match(r.guid ?? '', /^0x[0-9a-f]{64}$/);
    assert.ok(r.feePaidWei > 0n, 'a LayerZero fee was paid');
    assert.deepEqual(r.legs.map((l) => `${l.leg}:${l.status}`), ['withdraw:ok', 'send:ok', 'deliver:ok', 'deposit:ok']);
    assert.match(r.legs[2]!.txHash ?? '', /^0x[0-9a-f]{64}$/, 'the delivery tx was found by the packet origin (PacketDelivered)');
    assert.deepEqual(nonZero(r.ledger.balances), { 'vault:beta': AMOUNT }, 'the ledger ends with every base unit in the destination vault');
    assert.equal(r.ledger.entries.length, 4);
    assert.equal(r.ledgerMismatch, undefined);
    const after = await h.balances();
    assert.equal(after.vaults.alpha, before.vaults.alpha! - AMOUNT);
    assert.equal(after.vaults.beta, before.vaults.beta! + AMOUNT);
    assert.equal(after.total, before.total, 'sum over vaults and routes unchanged to the base unit');
    assert.equal(await h.vaultSupplied('alpha'), sa - AMOUNT);
    assert.equal(await h.vaultSupplied('beta'), sb + AMOUNT);
  });

  test('deposit reverts (destination inflow paused) → returned over the same bridge and redeposited at the source', async () => {
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

  test('a retried leg does not move funds twice (idempotent by rebalance id, checked on chain)', async () => {
    const acts = directActivities();
    const rebalanceId = idFor('retry');
    const before = await h.balances();
    const first = await acts.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: 'alpha', amount: AMOUNT });
    const second = await acts.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: 'alpha', amount: AMOUNT });
    assert.equal(first.alreadyDone, false);
    assert.equal(second.alreadyDone, true);
    const mid = await h.balances();
    assert.equal(mid.vaults.alpha, before.vaults.alpha! - AMOUNT, 'withdrawn once');
    const d1 = await acts.depositToVault({ rebalanceId, purpose: 'redeposit', chainKey: 'alpha', amount: AMOUNT });
    const d2 = await acts.depositToVault({ rebalanceId, purpose: 'redeposit', chainKey: 'alpha', amount: AMOUNT });
    assert.deepEqual([d1.alreadyDone, d2.alreadyDone], [false, true]);
    assert.deepEqual(await h.balances(), before);
  });

  test('funds are located on chain (locateFunds): withdrawn → in the source route; sent, not delivered → by GUID and nonce; delivered → on the destination', async () => {
    const acts = directActivities();
    const rebalanceId = idFor('locate');
    const before = await h.balances();
    await acts.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: 'alpha', amount: AMOUNT });
    const inRoute = await acts.locateFunds({ from: 'alpha', to: 'beta', bridge: 'layerzero', key: rebalanceId });
    assert.equal(inRoute.sourceRouteBalance, before.routes.alpha! + AMOUNT, 'what a stranded redeposit leaves: the tokens in the source route');
    assert.equal(inRoute.guid, undefined);
    h.devnet.relayer.setDropAll(true);
    let sent: Awaited<ReturnType<typeof acts.sendOverBridge>>;
    try {
      sent = await acts.sendOverBridge({ rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', amount: AMOUNT, bridge: 'layerzero' });
      const inFlight = await acts.locateFunds({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce, bridge: 'layerzero', key: rebalanceId });
      assert.equal(inFlight.guid, sent.guid);
      assert.equal(inFlight.delivered, false, 'EndpointV2 on beta has not executed the nonce');
      assert.match(inFlight.summary, new RegExp(`LayerZero GUID ${sent.guid} nonce ${sent.nonce} (not delivered|verified, not executed) on beta`));
      assert.equal(inFlight.sourceRouteBalance, before.routes.alpha, 'burned on the source');
      await assert.rejects(acts.awaitDelivery({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce, bridge: 'layerzero', key: sent.legKey }), (e: unknown) => e instanceof ApplicationFailure && e.type === 'DeliveryPending');
      const mid = await h.balances();
      assert.equal(mid.total + AMOUNT, before.total, 'vaults + routes + the located in-flight amount = before');
    } finally {
      h.devnet.relayer.setDropAll(false);
      h.devnet.relayer.replayDropped();
    }
    const d = await waitFor('the replayed packet executed on beta', () => acts.awaitDelivery({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce, bridge: 'layerzero', key: sent.legKey }));
    assert.equal(d.guid, sent.guid);
    const arrived = await acts.locateFunds({ from: 'alpha', to: 'beta', guid: sent.guid, nonce: sent.nonce, bridge: 'layerzero', key: rebalanceId });
    assert.equal(arrived.delivered, true);
    assert.equal(arrived.destinationRouteBalance, before.routes.beta! + AMOUNT);
    await acts.depositToVault({ rebalanceId, purpose: 'forward', chainKey: 'beta', amount: AMOUNT });
    assert.equal((await h.balances()).total, before.total);
  });

  test('a recorded rebalance history replays deterministically with Worker.runReplayHistory', async () => {
    assert.ok(completed, 'the full rebalance ran');
    const history = await h.client.workflow.getHandle(completed.rebalanceId).fetchHistory();
    assert.ok((history.events?.length ?? 0) > 10);
    await Worker.runReplayHistory({ workflowBundle: { code: (await loadWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath })).code }, dataConverter }, history, completed.rebalanceId);
  });

  test('a leg recorded on chain with a different amount (a front-run rebalance id) is caught by the ledger: stranded, accounts named, metric raised', async () => {
    const rebalanceId = idFor('mismatch');
    // The keeper's key, used outside the saga, withdraws under the saga's id but 1 base unit short.
    const c = h.devnet.deployment.chains.alpha!;
    const chain = { id: c.chainId, name: 'alpha', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
    const pub = createPublicClient({ chain, transport: http(c.rpcUrl) });
    const keeperWallet = createWalletClient({ chain, transport: http(c.rpcUrl), account: privateKeyToAccount(DEVNET_ACCOUNTS.keeper) });
    await pub.waitForTransactionReceipt({ hash: await keeperWallet.writeContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [rebalanceId, AMOUNT - 1n] }) });
    const input: RebalanceInput = { rebalanceId, from: 'alpha', to: 'beta', amount: AMOUNT, reason: 'test: mismatch', deliveryDeadlineSec: 60 };
    const r: RebalanceResult = await h.client.workflow.execute('rebalanceWorkflow', { taskQueue: h.taskQueue, workflowId: rebalanceId, args: [input] });
    assert.equal(r.outcome, 'stranded');
    assert.match(r.ledgerMismatch ?? '', /ledger mismatch after open: route:alpha expected 0 observed 49999999999 .*vault:alpha expected 50000000000 observed 1 /);
    assert.equal(r.legs.length, 0, 'the saga did not act on books that disagree with the chain');
    assert.match(await h.keeper.metrics.registry.metrics(), /^ballast_ledger_mismatch 1$/m);
    // put the tokens back for the tests that follow
    await pub.waitForTransactionReceipt({ hash: await keeperWallet.writeContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [rebalanceId, AMOUNT - 1n] }) });
    h.keeper.metrics.ledgerMismatch.set(0);
  });
});
