/**
 * The rebalance saga on real Aave v3 markets: a Temporal dev server, two anvil chains deployed with
 * `startDevnet({ market: 'aave' })` (Aave v3 1.19.3 per chain, the treasury's aTokens held by an AaveAllocator, which
 * is the route's vault), the LayerZero relayer and the Wormhole devnet guardian, and the keeper worker. The saga's
 * legs are the vault's (the allocator answers the same keeper ABI); what differs is where the money is, so every
 * case reads the allocators' books: `principal()` (exact), the aToken balance and the four counters.
 *
 * - completed: alpha's allocator → route → bridge → route → beta's allocator (Pool.supply), over LayerZero and
 *   over Wormhole; principal moves by exactly the amount on both sides, nothing stays in a route;
 * - compensated: beta's allocator inflow paused (its admin's incident switch) → `depositFromRoute` reverts
 *   `InflowPaused`, the tokens return over the same bridge and are supplied back into alpha's allocator
 *   (`return-deposit`); principal on both sides as before, the keeper's counters record both ways.
 * After them the keeper's own deployment ledger (`checkDeploymentLedger`, the monitor's check) balances to the base
 * unit, with no interest or rounding dust (nobody borrows: Aave's index stays at 1 ray).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPublicClient, createWalletClient, erc20Abi, http, keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startTemporalDevServer, type TemporalDevServer } from '../../devnet/temporal.js';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { createKeeperWorker, type KeeperWorker } from '../../keeper/worker.js';
import { createLogger } from '../../keeper/logger.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { createActivities } from '../../activities/index.js';
import { nonZero } from '../../ledger/ledger.js';
import { aaveAllocatorAbi } from '../../contracts/generated/abis.js';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import { TWO_CHAINS } from './harness.js';

const AMOUNT = 75_000n * 10n ** 6n + 123_456n; // 75,000.123456 tokens: exact to the base unit

interface Books {
  principal: bigint;
  aTokens: bigint;
  toRoute: bigint;
  fromRoute: bigint;
  route: bigint;
}

describe('rebalanceWorkflow (saga) on real Aave v3 markets (devnet market: aave)', { timeout: 180_000 }, () => {
  let temporal: TemporalDevServer;
  let devnet: Devnet;
  let keeper: KeeperWorker;
  let connection: Connection;
  let client: Client;
  let workDir: string;
  const taskQueue = `ballast-aave-saga-${process.pid}`;

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-aave-saga-'));
    temporal = await startTemporalDevServer({ logFile: path.join(workDir, 'temporal.log') });
    devnet = await startDevnet({
      chains: TWO_CHAINS,
      workDir,
      temporalAddress: temporal.address,
      market: 'aave',
      relayerPollMs: 100,
      guardianPollMs: 100,
      configOverrides: (c) => ({ ...c, temporal: { ...c.temporal, taskQueue } }),
    });
    const log = createLogger('aave-saga-test', fs.createWriteStream(path.join(workDir, 'keeper.log')) as never);
    keeper = await createKeeperWorker(devnet.config, log, { env: { BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper }, metrics: new BallastMetrics(false) });
    void keeper.run();
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, dataConverter });
  });
  after(async () => {
    await keeper?.shutdown();
    await connection?.close();
    await devnet?.stop();
    await temporal?.stop();
    if (workDir && !process.env.BALLAST_KEEP_TEST_LOGS) fs.rmSync(workDir, { recursive: true, force: true });
  });

  const clientsOf = (chainKey: string) => {
    const c = devnet.deployment.chains[chainKey]!;
    const chain = { id: c.chainId, name: chainKey, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
    const transport = http(c.rpcUrl);
    return { c, allocator: c.contracts.aave!.allocator, pub: createPublicClient({ chain, transport }), admin: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) }) };
  };
  /** One chain's treasury: the allocator's principal, aToken balance and keeper counters, and the route's tokens. */
  const books = async (chainKey: string): Promise<Books> => {
    const { c, allocator, pub } = clientsOf(chainKey);
    const r = (functionName: 'principal' | 'suppliedBalance' | 'cumulativeWithdrawnToRoute' | 'cumulativeDepositedFromRoute') => pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName });
    const [principal, aTokens, toRoute, fromRoute, route] = await Promise.all([
      r('principal'),
      r('suppliedBalance'),
      r('cumulativeWithdrawnToRoute'),
      r('cumulativeDepositedFromRoute'),
      pub.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.contracts.route] }),
    ]);
    return { principal, aTokens, toRoute, fromRoute, route };
  };
  const both = async () => ({ alpha: await books('alpha'), beta: await books('beta') });
  const setInflowPaused = async (chainKey: string, paused: boolean) => {
    const { allocator, pub, admin } = clientsOf(chainKey);
    const rc = await pub.waitForTransactionReceipt({ hash: await admin.writeContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'setKeeperFlowsPaused', args: [false, paused] }) });
    assert.equal(rc.status, 'success');
  };
  const run = (name: string, bridge: 'layerzero' | 'wormhole'): Promise<RebalanceResult> => {
    const rebalanceId: Hex = keccak256(toHex(`aave-saga:${name}:${process.pid}:${Date.now()}`));
    const input: RebalanceInput = { rebalanceId, from: 'alpha', to: 'beta', amount: AMOUNT, reason: `test: ${name}`, deliveryDeadlineSec: 60, bridge };
    return client.workflow.execute('rebalanceWorkflow', { taskQueue, workflowId: rebalanceId, args: [input] });
  };

  for (const bridge of ['layerzero', 'wormhole'] as const) {
    test(`completed over ${bridge}: alpha's allocator → route → ${bridge} → route → beta's allocator, principal exact on both sides`, async () => {
      const b0 = await both();
      const r = await run(`full-${bridge}`, bridge);
      assert.equal(r.outcome, 'completed', r.reason);
      assert.deepEqual(r.legs.map((l) => `${l.leg}:${l.status}`), ['withdraw:ok', 'send:ok', 'deliver:ok', 'deposit:ok']);
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:beta': AMOUNT }, 'the saga\'s ledger ends with every base unit in the destination treasury');
      assert.equal(r.ledgerMismatch, undefined);
      const b1 = await both();
      assert.equal(b1.alpha.principal, b0.alpha.principal - AMOUNT, 'alpha principal down by exactly the amount');
      assert.equal(b1.beta.principal, b0.beta.principal + AMOUNT, 'beta principal up by exactly the amount');
      assert.equal(b1.alpha.aTokens, b0.alpha.aTokens - AMOUNT, 'Aave withdrew exactly the amount (index 1 ray: no rounding)');
      assert.equal(b1.beta.aTokens, b0.beta.aTokens + AMOUNT, 'Aave supplied exactly the amount');
      assert.deepEqual([b1.alpha.toRoute - b0.alpha.toRoute, b1.beta.fromRoute - b0.beta.fromRoute], [AMOUNT, AMOUNT], 'the keeper counters: out of alpha, into beta');
      assert.deepEqual([b1.alpha.route, b1.beta.route], [b0.alpha.route, b0.beta.route], 'nothing left in the routes');
    });
  }

  test('compensated: beta\'s allocator inflow paused → deposit reverts InflowPaused, the tokens return over LayerZero and are supplied back into alpha\'s allocator', async () => {
    await setInflowPaused('beta', true);
    try {
      const b0 = await both();
      const r = await run('deposit-reverts', 'layerzero');
      assert.equal(r.outcome, 'compensated', r.reason);
      assert.match(r.reason ?? '', /InflowPaused/);
      assert.deepEqual(
        r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`),
        ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:failed', 'compensation:return:ok', 'compensation:return-deliver:ok', 'compensation:return-deposit:ok'],
      );
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:alpha': AMOUNT }, 'the saga\'s ledger shows the funds back in the source treasury');
      const b1 = await both();
      assert.deepEqual([b1.alpha.principal, b1.beta.principal], [b0.alpha.principal, b0.beta.principal], 'principal back where it was on both chains');
      assert.deepEqual([b1.alpha.aTokens, b1.beta.aTokens], [b0.alpha.aTokens, b0.beta.aTokens], 're-supplied to Aave on alpha, never supplied on beta');
      assert.deepEqual([b1.alpha.toRoute - b0.alpha.toRoute, b1.alpha.fromRoute - b0.alpha.fromRoute], [AMOUNT, AMOUNT], 'alpha: withdrawn to the route, then deposited back from it (return-deposit)');
      assert.deepEqual([b1.beta.toRoute, b1.beta.fromRoute], [b0.beta.toRoute, b0.beta.fromRoute], 'beta\'s allocator moved nothing');
      assert.deepEqual([b1.alpha.route, b1.beta.route], [b0.alpha.route, b0.beta.route], 'nothing left in the routes');
    } finally {
      await setInflowPaused('beta', false);
    }
  });

  test('the keeper\'s deployment ledger balances after the sagas: supply, each allocator\'s principal vs its counters, keeper flows = routes; no interest, no dust', async () => {
    const log = createLogger('aave-saga-test', { write: () => undefined } as never);
    const acts = createActivities(buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), log));
    const l = await acts.checkDeploymentLedger({ stranded: [] });
    assert.equal(l.balanced, true, l.where);
    assert.ok(l.treasury, 'the treasury section is read');
    assert.equal(l.treasury.balanced, true, l.treasury.where);
    assert.equal(l.treasury.keeperFlows.checked, true);
    assert.deepEqual(l.treasury.allocators.map((a) => a.chainKey).sort(), ['alpha', 'beta']);
    assert.deepEqual([l.treasury.totals.interest, l.treasury.totals.roundingDust], [0n, 0n]);
    const b = await both();
    assert.equal(l.treasury.totals.principal, b.alpha.principal + b.beta.principal);
  });
});
