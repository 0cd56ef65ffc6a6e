/**
 * The optimal planner on a real devnet (three anvil chains, LayerZero's EndpointV2 and the Ballast
 * contracts; no Temporal): the `planRebalances` activity quotes `BallastRoute.quoteSend` on every
 * giver → taker route, converts each native fee into USDC with the source chain's oracle round, plans
 * with HiGHS, and returns a certificate never worse than the greedy plan on the same quotes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, createWalletClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { findFreePort } from '../../devnet/temporal.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { readSnapshot } from '../../activities/snapshot.js';
import { planRebalances } from '../../activities/plan.js';
import { edgesFromQuotes } from '../../activities/quotes.js';
import { lzReceiveOptions } from '../../chains/evm/layerzero.js';
import { quoteLayerZeroFees } from '../../chains/evm/quoteLayerZero.js';
import { nativeFeeToAsset } from '../../planner/bridgeFees.js';
import { planGreedyOnEdges, verifyRoutedPlan } from '../../planner/optimal.js';
import type { KeeperContext } from '../../activities/context.js';

const M = 10n ** 6n;
const CHAINS = [
  { key: 'alpha', chainId: 31301, eid: 40301 },
  { key: 'beta', chainId: 31302, eid: 40302 },
  { key: 'gamma', chainId: 31303, eid: 40303 },
];

describe('optimal planning on a devnet: real LayerZero quotes, fees in USDC, a certificate', { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let workDir: string;
  let ctx: KeeperContext;
  const exec = async (key: string, pk: `0x${string}`, address: `0x${string}`, abi: never, functionName: string, args: readonly unknown[]) => {
    const c = devnet.deployment.chains[key]!;
    const chain = { id: c.chainId, name: key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
    const pub = createPublicClient({ chain, transport: http(c.rpcUrl) });
    const hash = await createWalletClient({ chain, transport: http(c.rpcUrl), account: privateKeyToAccount(pk) }).writeContract({ address, abi, functionName, args } as never);
    assert.equal((await pub.waitForTransactionReceipt({ hash })).status, 'success');
    return pub;
  };

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-optimal-'));
    // LayerZero only: this test checks the LayerZero quotes and their conversion (bridge choice: bridgeChoice.test.ts).
    devnet = await startDevnet({ chains: CHAINS, workDir, temporalAddress: `127.0.0.1:${await findFreePort()}`, configOverrides: (c) => ({ ...c, bridges: { ...c.bridges, wormhole: { ...c.bridges?.wormhole, enabled: false } } }) });
    // alpha 90% utilized (above its 60–80% band), beta and gamma 40%: both can give to alpha.
    const borrow: Record<string, bigint> = { alpha: 9_000_000n * M, beta: 4_000_000n * M, gamma: 4_000_000n * M };
    // Gas token prices differ per chain, so each route's fee converts at its own source's price.
    const price: Record<string, bigint> = { alpha: 3_000n, beta: 2_500n, gamma: 3_500n };
    for (const key of Object.keys(borrow)) {
      const c = devnet.deployment.chains[key]!;
      await exec(key, DEVNET_ACCOUNTS.market, c.contracts.vault, collateralVaultAbi as never, 'borrow', [borrow[key]!]);
      const pub = createPublicClient({ transport: http(c.rpcUrl) });
      const ts = (await pub.getBlock()).timestamp;
      await exec(key, DEVNET_ACCOUNTS.deployer, c.contracts.priceFeed, devPriceFeedAbi as never, 'setRound', [1n, price[key]! * 10n ** 8n, ts, ts, 1n]);
    }
    ctx = buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), createLogger('optimal-e2e', { write: () => undefined } as never));
  });
  after(async () => {
    await devnet?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('planRebalances quotes beta → alpha and gamma → alpha, converts each fee at its source price, and plans with a certificate ≤ greedy', async () => {
    const snapshot = await readSnapshot(ctx);
    assert.equal(snapshot.freshness, 'fresh');
    const plan = await planRebalances(ctx, { snapshot, inFlight: [] });
    assert.equal(plan.planner, 'optimal', 'optimal is the default planner');
    const quotes = plan.quotes ?? [];
    assert.deepEqual(quotes.map((q) => `${q.from}→${q.to} ${q.bridge}`), ['beta→alpha layerzero', 'gamma→alpha layerzero'], 'only giver → taker routes are quoted');
    for (const q of quotes) {
      assert.equal(q.error, undefined, `${q.from}→${q.to}: ${q.error}`);
      const src = snapshot.chains.find((c) => c.chainKey === q.from)!;
      const c = devnet.deployment.chains[q.from]!;
      // The same quote read directly from the source route at the snapshot's block.
      const [direct] = await quoteLayerZeroFees({ clients: ctx.chains.get(q.from)!.clients, multicall3: c.contracts.multicall3, route: c.contracts.route, options: lzReceiveOptions(ctx.lzReceiveGas), requests: [{ dstEid: ctx.chains.get(q.to)!.eid, amount: q.quotedAmount }], block: src.blockNumber });
      assert.ok(direct?.ok);
      assert.equal(q.nativeFeeWei, direct.nativeFeeWei, 'the native fee BallastRoute.quoteSend returns');
      assert.deepEqual(q.price, { answer: src.oracle.answer, decimals: 8 }, "the source chain's own oracle round");
      assert.equal(q.fixedFee, nativeFeeToAsset(direct.nativeFeeWei, src.oracle, 6), 'wei · answer / 10^20, rounded up');
      assert.ok(q.fixedFee! > 0n || direct.nativeFeeWei === 0n);
    }
    const c = plan.certificate!;
    assert.ok(c, 'the plan carries its certificate');
    assert.equal(c.optimal, true, `proved optimal (status ${c.status}, gap ${c.gapPct}%)`);
    const exact = (d: string): bigint => BigInt(d.replace('.', ''));
    const inst = { chains: snapshot.chains, policies: [...ctx.chains.values()].map((x) => x.policy), inFlight: [], edges: edgesFromQuotes(quotes) };
    const greedy = planGreedyOnEdges(inst);
    assert.equal(c.greedyObjective, greedy.objective, 'the certificate compares with greedy on the same quotes');
    assert.ok(exact(c.exact.objective) <= exact(c.exact.greedyObjective), `objective ${c.exact.objective} ≤ greedy ${c.exact.greedyObjective}`);
    assert.ok(plan.transfers.length >= 1);
    assert.deepEqual(verifyRoutedPlan(inst, plan.transfers), [], 'every rule of the planner holds');
    for (const t of plan.transfers) {
      assert.equal(t.to, 'alpha');
      assert.equal(t.bridge, 'layerzero');
      assert.equal(t.fee, quotes.find((q) => q.from === t.from)!.fixedFee, 'LayerZero at 0 bps: the fee is the converted quote');
      assert.match(t.rebalanceId, /^0x[0-9a-f]{64}$/);
    }
    assert.equal(plan.totals?.fees, plan.transfers.reduce((s, t) => s + t.fee!, 0n));
    assert.match(await ctx.metrics.registry.metrics(), /^ballast_plan_optimal 1$/m);
  });

  test('with planner.kind greedy the same chains are planned by the baseline without quoting', async () => {
    const greedyCtx = { ...ctx, planner: { kind: 'greedy' as const, timeBudgetMs: 1000 } };
    const plan = await planRebalances(greedyCtx, { snapshot: await readSnapshot(ctx), inFlight: [] });
    assert.equal(plan.planner, 'greedy');
    assert.equal(plan.quotes, undefined);
    assert.ok(plan.transfers.length >= 1 && plan.transfers.every((t) => t.to === 'alpha' && t.bridge === 'layerzero'));
  });
});
