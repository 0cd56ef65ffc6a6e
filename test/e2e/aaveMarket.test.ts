/**
 * The devnet on real Aave v3 markets (`startDevnet({ market: 'aave' })`, devnet/deploy.ts): on two anvil chains the
 * treasury's liquidity sits in an Aave v3 Pool (`@aave/core-v3` 1.19.3) as aTokens held by an AaveAllocator, which is
 * the route's vault; the generated keeper config has `chains[].aave`; the keeper's tick read (`readChainState` with
 * `aave`) reads Aave's utilization, rates and the treasury's aTokens; the market driver borrows / repays on the Pool
 * to the day's utilization; and one collateral move alpha → beta runs through the keeper's own activities
 * (withdraw from alpha's allocator, LayerZero send delivered by the devnet relayer, deposit into beta's allocator);
 * after it the deployment ledger's treasury section (ledger/treasury.ts) balances to the base unit, and one base unit
 * taken out of a route outside the keeper's flows is named. On a CollateralVault devnet (market: vault) the same
 * keeper-flow check, counted by the vault's KeeperFlows counters: balanced between legs, a 1-unit deficit named.
 * The tick's read also follows the reserve's `interestRateStrategyAddress` and reads its curve (OPTIMAL_USAGE_RATIO,
 * base rate, slopes) in the same multicall: the values devnet/aave.ts deployed, the yield planner's rate model.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeFunctionData, erc20Abi, keccak256, toHex, type Address, type Hex } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../../contracts/compile.js';
import { aaveAllocatorAbi, ballastRouteAbi, collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { AAVE_RAY, DEFAULT_USDC_RESERVE, aaveATokenAbi, aavePoolAbi, aaveRateStrategyAbi, readAaveReserve, type AaveReserveData } from '../../devnet/aave.js';
import { DEFAULT_INITIAL_LIQUIDITY, DEVNET_AAVE_LENDER_KEY } from '../../devnet/deploy.js';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { DEFAULT_AAVE_BORROWER_COLLATERAL, MarketDriver, type MarketStepChain } from '../../devnet/marketDriver.js';
import { findFreePort } from '../../devnet/temporal.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { readChainState } from '../../chains/evm/readChainState.js';
import { readSnapshot } from '../../activities/snapshot.js';
import { rateModelOf } from '../../planner/rateModel.js';
import { aaveUtilizationWad, supplyApyBps } from '../../chains/evm/aaveReserve.js';
import { awaitDelivery, depositToVault, sendOverBridge, withdrawFromVault } from '../../activities/legs.js';
import { checkDeploymentLedger, type DeploymentLedger } from '../../activities/ledger.js';
import { readLedgerChain } from '../../chains/evm/ledgerReads.js';
import { checkTreasuryLedger } from '../../ledger/treasury.js';
import { deploymentLedgerLines, treasuryLedgerLines } from '../../cli/ledgerReport.js';
import type { ChainRuntime, KeeperContext } from '../../activities/context.js';
import { WAD } from '../../planner/types.js';
import { startDevnetFixture, type DevnetFixture } from './devnetFixture.js';

const UNIT = 10n ** 6n;
const INITIAL = DEFAULT_INITIAL_LIQUIDITY; // 10,000,000 tokens per chain, supplied through the allocator
const LENDER = INITIAL; // deployDevnet's default third-party supply per reserve
const AMOUNT = 1_000_000n * UNIT + 123_457n; // an odd amount: 1,000,000.123457 tokens
const CHAINS = [
  { key: 'alpha', chainId: 31601, eid: 40601, whChainId: 2 },
  { key: 'beta', chainId: 31602, eid: 40602, whChainId: 23 },
];
const NETWORKS = { alpha: 'ethereum', beta: 'arbitrum' };
/**
 * Utilization tolerance after a driver step, WAD: 1e-6 (1e12). Between the driver's read and ours the only change is
 * interest on the debt: at most 59.5% APR (the strategy's rate at the 99% replay clamp: 5.5% + 60% × 9/10) over the
 * < 30 s a step and our reads take, < 6e-7 of the debt; Aave's ±1 wei ray rounding of the borrow / repay (a debt
 * token mint or burn) is 1e-13 of a 20M-token reserve, and the driver's floor of the target 1 base unit more.
 */
const UTIL_TOLERANCE_WAD = 10n ** 12n;
const LENDER_ADDRESS = privateKeyToAccount(DEVNET_AAVE_LENDER_KEY).address;
const MARKET_ADDRESS = privateKeyToAccount(DEVNET_ACCOUNTS.market).address;

const rayMul = (a: bigint, b: bigint): bigint => (a * b + AAVE_RAY / 2n) / AAVE_RAY; // Aave's WadRayMath (half up)
const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the devnet on real Aave v3 markets (market: aave)', { timeout: 120_000 }, () => {
  let devnet: Devnet;
  let ctx: KeeperContext;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-aave-market-'));

  const rt = (key: string): ChainRuntime => ctx.chains.get(key)!;
  const aaveOf = (key: string) => devnet.deployment.chains[key]!.contracts.aave!;
  const pubOf = (key: string) => rt(key).clients.publicClient;
  const balanceOf = (key: string, token: Address, who: Address, blockNumber?: bigint) =>
    pubOf(key).readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [who], ...(blockNumber === undefined ? {} : { blockNumber }) });
  const allocatorRead = (key: string, functionName: 'principal' | 'suppliedBalance') => pubOf(key).readContract({ address: aaveOf(key).allocator, abi: aaveAllocatorAbi, functionName });
  const scaledBalance = (key: string) =>
    pubOf(key).readContract({ address: aaveOf(key).aToken, abi: aaveATokenAbi, functionName: 'scaledBalanceOf', args: [aaveOf(key).allocator] }) as Promise<bigint>;
  const reserveData = async (key: string) =>
    (await pubOf(key).readContract({ address: aaveOf(key).pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [rt(key).contracts.token] })) as AaveReserveData;
  /** The reserve's utilization now (Aave's: debt / (available + debt)), WAD. */
  const utilization = async (key: string) => {
    const r = await readAaveReserve({ rpcUrl: devnet.deployment.chains[key]!.rpcUrl, chainId: rt(key).chainId, deployment: aaveOf(key).deployment });
    return aaveUtilizationWad(r.availableLiquidity, r.totalVariableDebt);
  };
  const pctOf = (wad: bigint) => `${(Number(wad / 10n ** 12n) / 10_000).toFixed(4)}%`;

  /** Asserts every chain's reserve is at its step target, within UTIL_TOLERANCE_WAD. */
  async function assertAtTargets(steps: MarketStepChain[], when: string) {
    assert.deepEqual(steps.map((s) => s.chainKey).sort(), ['alpha', 'beta']);
    for (const s of steps) {
      assert.equal(s.market, 'aave');
      const u = await utilization(s.chainKey);
      assert.ok(abs(u - s.targetWad) <= UTIL_TOLERANCE_WAD, `${when}: ${s.chainKey} utilization ${pctOf(u)} vs the day's ${pctOf(s.targetWad)} (${s.action} ${s.amount}); tolerance 1e-6 (interest accrued between the step and this read, ray rounding)`);
    }
  }

  before(async () => {
    const started = Date.now();
    await compileContracts({ log: () => {} });
    devnet = await startDevnet({ chains: CHAINS, workDir, temporalAddress: `127.0.0.1:${await findFreePort()}`, market: 'aave', relayerPollMs: 50, guardianPollMs: 200, log: (m) => {
      if (m.startsWith('devnet deployed')) console.log(m);
    } });
    ctx = buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), createLogger('aave-market-test', { write: () => undefined } as never));
    console.log(`2-chain devnet with Aave v3 markets up in ${Date.now() - started} ms`);
  });
  after(async () => {
    await devnet?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('deploy: the allocator holds the initial liquidity as aTokens (exact) and is the route\'s vault; the config has chains[].aave', async () => {
    assert.equal(devnet.deployment.market, 'aave');
    // The lender is anvil's account 4 of the mnemonic DEVNET_ACCOUNTS come from (prefunded by anvil).
    assert.equal(LENDER_ADDRESS, mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 4 }).address);
    assert.equal(devnet.deployment.accounts.aaveLender, LENDER_ADDRESS);
    for (const { key } of CHAINS) {
      const c = devnet.deployment.chains[key]!;
      const a = aaveOf(key);
      const pub = pubOf(key);
      const cfg = devnet.config.chains.find((ch) => ch.key === key)!;
      assert.deepEqual(cfg.aave, { pool: a.pool, aToken: a.aToken, variableDebtToken: a.variableDebtToken, stableDebtToken: a.stableDebtToken, allocator: a.allocator }, `${key}: config chains[].aave`);
      assert.equal(rt(key).aave?.holder, a.allocator, `${key}: the keeper's treasury holder is the allocator`);
      assert.equal(a.pool, a.deployment.pool);
      assert.equal(a.aToken, a.deployment.aToken);

      const [routeVault, allocatorRoute, pool, asset, aToken, isKeeper, isTreasurer, cap] = await Promise.all([
        pub.readContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'vault' }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'route' }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'pool' }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'asset' }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'aToken' }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'hasRole', args: [keccak256(toHex('KEEPER_ROLE')), devnet.deployment.accounts.keeper] }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'hasRole', args: [keccak256(toHex('TREASURER_ROLE')), devnet.deployment.accounts.market] }),
        pub.readContract({ address: a.allocator, abi: aaveAllocatorAbi, functionName: 'outflowCap' }),
      ]);
      assert.equal(routeVault, a.allocator, `${key}: route.vault() is the allocator`);
      assert.deepEqual([allocatorRoute, pool, asset, aToken], [c.contracts.route, a.pool, c.contracts.token, a.aToken]);
      assert.equal(isKeeper, true, `${key}: keeper has KEEPER_ROLE on the allocator`);
      assert.equal(isTreasurer, true, `${key}: market account has TREASURER_ROLE on the allocator`);
      assert.deepEqual([cap[0], cap[1], cap[2]], [INITIAL / 2n, 3600n, 0n], `${key}: outflow cap initialLiquidity / 2 per hour, unused`);

      // Fresh reserve, no debt: liquidity index exactly 1 ray, so the aTokens equal the amounts supplied.
      assert.equal(await balanceOf(key, a.aToken, a.allocator), INITIAL, `${key}: allocator's aTokens = initialLiquidity exactly`);
      assert.equal(await allocatorRead(key, 'principal'), INITIAL);
      assert.equal(await allocatorRead(key, 'suppliedBalance'), INITIAL);
      assert.equal(await balanceOf(key, c.contracts.token, a.allocator), 0n, 'nothing idle in the allocator');
      assert.equal(await balanceOf(key, a.aToken, LENDER_ADDRESS), LENDER, `${key}: third-party lender's aTokens`);
      assert.equal(await balanceOf(key, c.contracts.token, a.aToken), INITIAL + LENDER, `${key}: the reserve holds both supplies`);
      // The CollateralVault keeps its credit wiring (capacity moves) but none of the liquidity.
      const [vaultSupplied, borrowLimit, messenger] = await Promise.all([
        pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }),
        pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'borrowLimit' }),
        pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'creditMessenger' }),
      ]);
      assert.deepEqual([vaultSupplied, borrowLimit, messenger], [0n, INITIAL, c.contracts.creditMessenger]);
    }
  });

  test('the market driver borrows on the Pool to the day\'s utilization; readChainState with aave reads the reserve, its rates and the treasury\'s aTokens', async () => {
    const driver = new MarketDriver({ deployment: devnet.deployment, networks: NETWORKS });
    const t0 = Date.now();
    const steps = await driver.step();
    console.log(`driver step (collateral posted, borrow, price round) on 2 chains: ${Date.now() - t0} ms; ${steps.map((s) => `${s.chainKey} ${s.action} ${s.amount} → ${pctOf(s.targetWad)}`).join(', ')}`);
    for (const s of steps) {
      assert.equal(s.targetWad, driver.utilization.paths[NETWORKS[s.chainKey as 'alpha' | 'beta']]![0], `${s.chainKey}: day 0's target`);
      assert.ok(s.targetWad > 0n && s.targetWad < WAD);
      assert.equal(s.action, 'borrow', `${s.chainKey}: an unborrowed reserve is borrowed up to the target`);
    }
    await assertAtTargets(steps, 'day 0');

    for (const { key } of CHAINS) {
      const a = aaveOf(key);
      assert.equal(await balanceOf(key, a.deployment.collateralAToken, MARKET_ADDRESS), DEFAULT_AAVE_BORROWER_COLLATERAL, `${key}: borrower posted its WETH collateral`);
      // One block for both reads: devnet/aave.ts's reader and the keeper's tick multicall.
      const r = await readAaveReserve({ rpcUrl: devnet.deployment.chains[key]!.rpcUrl, chainId: rt(key).chainId, deployment: a.deployment, holder: a.allocator });
      const s = await readChainState({ clients: rt(key).clients, contracts: rt(key).contracts, aave: rt(key).aave, block: r.blockNumber });
      assert.equal(s.blockNumber, r.blockNumber);
      assert.ok(s.market, `${key}: the tick read the Aave reserve`);
      const m = s.market;
      assert.equal(m.availableLiquidity, r.availableLiquidity);
      assert.equal(m.totalDebt, r.totalVariableDebt, 'no stable debt on the devnet');
      assert.equal(m.totalSupply, r.totalSupply);
      assert.equal(m.treasuryBalance, r.holderATokenBalance, `${key}: treasury balance = the allocator's aTokens`);
      assert.equal(m.treasuryBalance, await balanceOf(key, a.aToken, a.allocator, r.blockNumber));
      assert.equal(s.supplied, r.availableLiquidity + r.totalVariableDebt);
      assert.equal(s.borrowed, r.totalVariableDebt);
      assert.equal(s.idle, r.availableLiquidity);
      assert.equal(s.utilizationWad, aaveUtilizationWad(r.availableLiquidity, r.totalVariableDebt));
      assert.ok(abs(s.utilizationWad - steps.find((x) => x.chainKey === key)!.targetWad) <= UTIL_TOLERANCE_WAD);
      assert.equal(s.onChainCap.maxOutflowPerWindow, INITIAL / 2n, 'the cap is read from the allocator');
      assert.equal(m.liquidityRateRay, r.liquidityRateRay);
      assert.equal(m.variableBorrowRateRay, r.variableBorrowRateRay);
      assert.equal(m.supplyApyBps, supplyApyBps(m.liquidityRateRay));
      assert.equal(m.configuration.borrowingEnabled, true);
      assert.equal(m.configuration.reserveFactorBps, DEFAULT_USDC_RESERVE.reserveFactorBps);
      // The rates are the strategy's at this utilization (Aave computes them in ray at the borrow; we compare in
      // floating point, relative 1e-5: the utilization drifted < 6e-7 by interest since).
      const U = Number(s.utilizationWad) / 1e18;
      const P = DEFAULT_USDC_RESERVE;
      const ray = (x: bigint) => Number(x) / 1e27;
      const opt = ray(P.optimalUsageRatioRay);
      const expectedBorrow = ray(P.baseVariableBorrowRateRay) + (U <= opt ? (ray(P.variableRateSlope1Ray) * U) / opt : ray(P.variableRateSlope1Ray) + (ray(P.variableRateSlope2Ray) * (U - opt)) / (1 - opt));
      const expectedSupply = expectedBorrow * U * (1 - Number(P.reserveFactorBps) / 10_000);
      const borrowRate = ray(m.variableBorrowRateRay);
      const supplyRate = ray(m.liquidityRateRay);
      assert.ok(Math.abs(borrowRate / expectedBorrow - 1) < 1e-5, `${key}: variable borrow rate ${borrowRate} vs the strategy's ${expectedBorrow} at ${pctOf(s.utilizationWad)}`);
      assert.ok(Math.abs(supplyRate / expectedSupply - 1) < 1e-5, `${key}: supply rate ${supplyRate} vs ${expectedSupply}`);
      assert.ok(m.supplyApyBps > 0n, `${key}: a borrowed reserve pays suppliers (APY ${m.supplyApyBps} bps)`);
      console.log(`${key}: utilization ${pctOf(s.utilizationWad)}, borrow rate ${(borrowRate * 100).toFixed(3)}%, supply APY ${m.supplyApyBps} bps, treasury ${m.treasuryBalance}`);
    }
  });

  test('the reserve\'s rate strategy: its curve is read in the tick\'s one multicall and is what devnet/aave.ts deployed', async () => {
    const P = DEFAULT_USDC_RESERVE; // startDevnet deploys the default USDC reserve on every chain
    const curve = { optimalUsageRatioRay: P.optimalUsageRatioRay, baseVariableBorrowRateRay: P.baseVariableBorrowRateRay, variableRateSlope1Ray: P.variableRateSlope1Ray, variableRateSlope2Ray: P.variableRateSlope2Ray };
    for (const { key } of CHAINS) {
      const strategy = aaveOf(key).deployment.rateStrategy;
      assert.equal((await reserveData(key)).interestRateStrategyAddress, strategy, `${key}: the Pool's reserve points at the strategy devnet/aave.ts deployed`);
      // The strategy's own getters (the artifact's ABI), independently of the keeper's read.
      const direct = await Promise.all(['OPTIMAL_USAGE_RATIO', 'getBaseVariableBorrowRate', 'getVariableRateSlope1', 'getVariableRateSlope2'].map((functionName) => pubOf(key).readContract({ address: strategy, abi: aaveRateStrategyAbi, functionName }) as Promise<bigint>));
      assert.deepEqual(direct, Object.values(curve), `${key}: the deployed strategy holds DEFAULT_USDC_RESERVE's curve`);
      // The keeper's read, with the strategy known (the previous snapshot's): ONE multicall carries the curve.
      let multicalls = 0;
      const pc = rt(key).clients.publicClient;
      const counting = new Proxy(pc, { get: (t, prop, r) => (prop === 'multicall' ? (...a: Parameters<typeof pc.multicall>) => (multicalls++, t.multicall(...a)) : Reflect.get(t, prop, r)) });
      const s = await readChainState({ clients: { ...rt(key).clients, publicClient: counting }, contracts: rt(key).contracts, aave: rt(key).aave, rateStrategyHint: strategy });
      assert.equal(multicalls, 1, `${key}: one multicall for the chain, the strategy's curve included`);
      assert.equal(s.market?.interestRateStrategyAddress, strategy);
      assert.deepEqual(s.market?.rateStrategy, curve, `${key}: the curve read on chain = devnet/aave.ts DEFAULT_USDC_RESERVE`);
      assert.deepEqual(rateModelOf({ ...s, oracleCheck: { ok: true, ageSec: 0n } }), { ...curve, reserveFactorBps: P.reserveFactorBps }, `${key}: the yield planner's rate model is the chain's`);
    }
    // The snapshot activity: every Aave chain carries its curve, from the first snapshot and from the next (its hint).
    const first = await readSnapshot(ctx);
    const next = await readSnapshot(ctx, first);
    for (const snap of [first, next]) {
      assert.deepEqual(snap.excluded, []);
      for (const c of snap.chains) assert.deepEqual(c.market?.rateStrategy, curve, `${c.chainKey}: snapshot market.rateStrategy`);
    }
  });

  test('ballast dev\'s market line shows each Aave chain\'s utilization and supply APY from the keeper\'s read', async () => {
    const { marketSummary } = await import('../../devnet/dev.js');
    const chains = await Promise.all(CHAINS.map(({ key }) => readChainState({ clients: rt(key).clients, contracts: rt(key).contracts, aave: rt(key).aave })));
    const line = marketSummary({ chains, excluded: [{ chainKey: 'solana', reason: 'example' }] });
    const pct = (x: bigint) => (Number(x / 10n ** 14n) / 100).toFixed(2);
    assert.equal(
      line,
      `alpha Aave ${pct(chains[0]!.utilizationWad)}% utilized, supply APY ${(Number(chains[0]!.market!.supplyApyBps) / 100).toFixed(2)}% · beta Aave ${pct(chains[1]!.utilizationWad)}% utilized, supply APY ${(Number(chains[1]!.market!.supplyApyBps) / 100).toFixed(2)}% · solana not read (example)`,
    );
    assert.match(line, /^alpha Aave 8\d\.\d\d% utilized, supply APY [1-9]\d*\.\d\d% · beta Aave \d+\.\d\d% utilized/);
    console.log(`market line: ${line}`);
  });

  test('one collateral move alpha → beta through the keeper\'s activities: allocator → route → LayerZero → route → allocator', async () => {
    const alpha = aaveOf('alpha');
    const beta = aaveOf('beta');
    const position = async (key: string) => {
      const c = rt(key).contracts;
      const [scaled, principal, route, supply] = await Promise.all([
        scaledBalance(key),
        allocatorRead(key, 'principal'),
        balanceOf(key, c.token, c.route),
        pubOf(key).readContract({ address: c.token, abi: erc20Abi, functionName: 'totalSupply' }),
      ]);
      return { scaled, principal, route, supply };
    };
    // A day passes first, so the reserves' liquidity indexes are well past 1 ray (interest on the borrowed 84–89%):
    // the treasury's aTokens have grown, and the operations' ray rounding is exercised.
    for (const { key } of CHAINS) {
      await pubOf(key).request({ method: 'evm_increaseTime' as never, params: [86_400] as never });
      await pubOf(key).request({ method: 'evm_mine' as never, params: [] as never });
      assert.ok((await balanceOf(key, aaveOf(key).aToken, aaveOf(key).allocator)) > INITIAL, `${key}: a day of interest on the treasury's aTokens`);
    }
    const before = { alpha: await position('alpha'), beta: await position('beta') };
    const rebalanceId = keccak256(toHex(`aaveMarket.test:${process.pid}:${Date.now()}`)) as Hex;
    const t0 = Date.now();

    const w = await withdrawFromVault(ctx, { rebalanceId, purpose: 'forward', chainKey: 'alpha', amount: AMOUNT });
    assert.equal(w.alreadyDone, false);
    // The liquidity index Pool.withdraw used (stored by its updateState; nothing touches alpha's reserve after it).
    const alphaIndex = (await reserveData('alpha')).liquidityIndex;
    const s = await sendOverBridge(ctx, { rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', amount: AMOUNT, bridge: 'layerzero' });
    let delivered = false;
    for (const deadline = Date.now() + 20_000; !delivered && Date.now() < deadline; ) {
      try {
        await awaitDelivery(ctx, { from: 'alpha', to: 'beta', guid: s.guid, nonce: s.nonce, bridge: 'layerzero' });
        delivered = true;
      } catch {
        await sleep(100);
      }
    }
    assert.ok(delivered, 'the devnet relayer delivered the LayerZero packet');
    const d = await depositToVault(ctx, { rebalanceId, purpose: 'forward', chainKey: 'beta', amount: AMOUNT });
    assert.equal(d.alreadyDone, false);
    const betaIndex = (await reserveData('beta')).liquidityIndex; // the index Pool.supply used
    console.log(`withdraw → send → deliver → deposit: ${Date.now() - t0} ms`);
    const after = { alpha: await position('alpha'), beta: await position('beta') };

    // principal() counts underlying amounts: exact.
    assert.equal(after.alpha.principal, before.alpha.principal - AMOUNT, 'alpha allocator principal fell by exactly the amount');
    assert.equal(after.beta.principal, before.beta.principal + AMOUNT, 'beta allocator principal rose by exactly the amount');
    assert.equal(await pubOf('alpha').readContract({ address: alpha.allocator, abi: aaveAllocatorAbi, functionName: 'outflowOf', args: [w.legKey] }), AMOUNT);
    assert.equal(await pubOf('beta').readContract({ address: beta.allocator, abi: aaveAllocatorAbi, functionName: 'inflowOf', args: [d.legKey] }), AMOUNT);
    // The treasury's aToken balances at the index each operation used (so interest accrued since does not count): one
    // Aave operation per chain (alpha: the aToken burn in Pool.withdraw; beta: the mint in Pool.supply), which scales
    // the amount by rayDiv(index) rounded half up (±½ scaled unit) and is read back by rayMul(index) (±½ wei each),
    // so each balance moves by the amount ± 1 wei (Aave core-v3 1.19.3 WadRayMath; see AaveAllocator.sol).
    const alphaMoved = rayMul(before.alpha.scaled, alphaIndex) - rayMul(after.alpha.scaled, alphaIndex);
    const betaMoved = rayMul(after.beta.scaled, betaIndex) - rayMul(before.beta.scaled, betaIndex);
    assert.ok(abs(alphaMoved - AMOUNT) <= 1n, `alpha aTokens fell by ${alphaMoved}, expected ${AMOUNT} ± 1 wei (1 operation: Pool.withdraw's burn, ray rounding ±1)`);
    assert.ok(abs(betaMoved - AMOUNT) <= 1n, `beta aTokens rose by ${betaMoved}, expected ${AMOUNT} ± 1 wei (1 operation: Pool.supply's mint, ray rounding ±1)`);
    assert.ok(alphaIndex > AAVE_RAY && betaIndex > AAVE_RAY, 'interest has accrued: the indexes are past 1 ray, so the rounding is exercised');
    console.log(`aToken moves at the operations' indexes: alpha −${alphaMoved} (index ${alphaIndex}), beta +${betaMoved} (index ${betaIndex}); amount ${AMOUNT}`);
    // Nothing left on the routes; the OFT burnt on alpha and minted on beta.
    assert.equal(after.alpha.route, before.alpha.route);
    assert.equal(after.beta.route, before.beta.route);
    assert.equal(after.alpha.supply, before.alpha.supply - AMOUNT);
    assert.equal(after.beta.supply, before.beta.supply + AMOUNT);
    // The keeper's read shows the treasury's new balances.
    for (const key of ['alpha', 'beta']) {
      const st = await readChainState({ clients: rt(key).clients, contracts: rt(key).contracts, aave: rt(key).aave });
      assert.equal(st.market?.treasuryBalance, await balanceOf(key, aaveOf(key).aToken, aaveOf(key).allocator, st.blockNumber));
    }
  });

  test('the next step re-targets the day\'s utilization: alpha (liquidity left) repays, beta (liquidity arrived) borrows; collateral posted once', async () => {
    const driver = new MarketDriver({ deployment: devnet.deployment, networks: NETWORKS }); // a fresh driver: day 0 again
    const pre = Object.fromEntries(
      await Promise.all(
        CHAINS.map(async ({ key }) => {
          const r = await readAaveReserve({ rpcUrl: devnet.deployment.chains[key]!.rpcUrl, chainId: rt(key).chainId, deployment: aaveOf(key).deployment });
          return [key, r] as const;
        }),
      ),
    );
    const steps = await driver.step();
    const byKey = Object.fromEntries(steps.map((s) => [s.chainKey, s]));
    // After the move alpha's reserve has AMOUNT less available, beta's AMOUNT more: at the same day's target u the
    // borrower repays on alpha (≈ u × AMOUNT plus the day's interest on the debt) and borrows on beta (≈ u × AMOUNT
    // less it), i.e. |u × (available + debt) − debt| as read just before the step.
    assert.equal(byKey.alpha!.action, 'repay');
    assert.equal(byKey.beta!.action, 'borrow');
    for (const s of steps) {
      const r = pre[s.chainKey]!;
      const expected = abs((s.targetWad * (r.availableLiquidity + r.totalVariableDebt)) / WAD - r.totalVariableDebt);
      // Tolerance: interest accrued between our read and the driver's (seconds at ≤ 59.5% APR: < 1e-5 of the debt).
      assert.ok(abs(s.amount - expected) <= r.totalVariableDebt / 100_000n, `${s.chainKey}: ${s.action} ${s.amount} vs |u × (available + debt) − debt| = ${expected}`);
      assert.ok(abs(s.amount - (s.targetWad * AMOUNT) / WAD) < AMOUNT / 100n, `${s.chainKey}: about u × the amount moved`);
    }
    await assertAtTargets(steps, 'day 0 again');
    for (const { key } of CHAINS) {
      assert.equal(await balanceOf(key, aaveOf(key).deployment.collateralAToken, MARKET_ADDRESS), DEFAULT_AAVE_BORROWER_COLLATERAL, `${key}: no second collateral posting`);
    }
  });

  test('the treasury ledger after keeper moves balances to the base unit; 1 base unit taken out of a route is named', async () => {
    const t0 = Date.now();
    const check = () => checkDeploymentLedger(ctx, { stranded: [] });
    /** Asserts each allocator's figures against independent reads at the block the ledger read (exact). */
    const assertPositions = async (dl: DeploymentLedger) => {
      const t = dl.treasury!;
      assert.deepEqual(t.allocators.map((a) => a.chainKey), ['alpha', 'beta']);
      assert.deepEqual(t.vaults, []);
      for (const a of t.allocators) {
        const at = { blockNumber: a.block };
        const allocator = aaveOf(a.chainKey).allocator;
        const [principal, aTokens, route] = await Promise.all([
          pubOf(a.chainKey).readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'principal', ...at }),
          balanceOf(a.chainKey, aaveOf(a.chainKey).aToken, allocator, a.block),
          balanceOf(a.chainKey, rt(a.chainKey).contracts.token, rt(a.chainKey).contracts.route, a.block),
        ]);
        assert.deepEqual([a.principal, a.suppliedBalance, a.routeBalance], [principal, aTokens, route], `${a.chainKey}: the ledger's reads are the chain's at block ${a.block}`);
        // Interest and rounding dust are reported beside principal, never in it: balance = principal + interest + dust.
        assert.equal(a.suppliedBalance, a.principal + a.interest + a.roundingDust, `${a.chainKey}: aTokens = principal + interest + dust`);
        assert.ok(a.roundingDust <= 0n && a.interest >= 0n);
      }
    };

    // 1. After the move alpha → beta (and the driver's borrows and repays on the Pools): balanced, principal exact.
    const dl1 = await check();
    assert.equal(dl1.balanced, true, dl1.where);
    assert.equal(dl1.treasury?.balanced, true, dl1.treasury?.where);
    await assertPositions(dl1);
    const [alpha1, beta1] = dl1.treasury!.allocators;
    assert.equal(alpha1!.principal, INITIAL - AMOUNT, 'alpha: principal = initial − the move, exactly');
    assert.equal(beta1!.principal, INITIAL + AMOUNT, 'beta: principal = initial + the move, exactly');
    assert.deepEqual([alpha1!.cumulativeWithdrawnToRoute, beta1!.cumulativeDepositedFromRoute], [AMOUNT, AMOUNT]);
    assert.ok(alpha1!.interest > 0n && beta1!.interest > 0n, 'a day of interest on both chains, reported as interest');
    assert.deepEqual(dl1.treasury!.keeperFlows, { checked: true, netOutflow: 0n, inRoutes: 0n, inFlightUndelivered: 0n, acceptedDiff: 0n, diff: 0n, perChain: [{ chainKey: 'alpha', netOutflow: AMOUNT, route: 0n }, { chainKey: 'beta', netOutflow: -AMOUNT, route: 0n }] });

    // 2. The keeper withdraws X to alpha's route (a saga between legs): the route holds it, still balanced.
    const X = 1_234n * UNIT + 567_891n;
    const id = keccak256(toHex(`aaveMarket.test:treasury-ledger:${process.pid}:${Date.now()}`)) as Hex;
    await withdrawFromVault(ctx, { rebalanceId: id, purpose: 'forward', chainKey: 'alpha', amount: X });
    const dl2 = await check();
    assert.equal(dl2.treasury?.balanced, true, dl2.treasury?.where);
    assert.deepEqual(dl2.treasury!.keeperFlows.checked && [dl2.treasury!.keeperFlows.netOutflow, dl2.treasury!.keeperFlows.inRoutes], [X, X]);
    await assertPositions(dl2);
    console.log(treasuryLedgerLines(dl2.treasury, devnet.config.asset.symbol).join('\n'));

    // 3. One base unit leaves alpha's route outside the keeper's flows (the route impersonated on anvil): named.
    const route = rt('alpha').contracts.route;
    const token = rt('alpha').contracts.token;
    const keeper = rt('alpha').clients.walletClient!;
    const pub = pubOf('alpha');
    await pub.request({ method: 'anvil_impersonateAccount' as never, params: [route] as never });
    await pub.request({ method: 'anvil_setBalance' as never, params: [route, '0xDE0B6B3A7640000'] as never });
    const stolen = await pub.request({ method: 'eth_sendTransaction' as never, params: [{ from: route, to: token, data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [keeper.account.address, 1n] }) }] as never });
    assert.equal((await pub.waitForTransactionReceipt({ hash: stolen as Hex, pollingInterval: 20 })).status, 'success');
    await pub.request({ method: 'anvil_stopImpersonatingAccount' as never, params: [route] as never });
    const dl3 = await check();
    assert.equal(dl3.balanced, true, 'the token supply is unchanged: the supply check cannot see it');
    const t3 = dl3.treasury!;
    assert.equal(t3.halts, true);
    assert.deepEqual(t3.findings.map((f) => [f.kind, f.diff, f.halts]), [['keeper-flow-deficit', -1n, true]]);
    assert.match(t3.where!, new RegExp(`\\[alpha ${AMOUNT + X}, beta -${AMOUNT}\\] vs Σ routes ${X - 1n} \\[alpha ${X - 1n}, beta 0\\] \\+ in flight 0: diff -1 \\(deficit: 1 base units`));
    assert.equal((await ctx.metrics.ledgerMismatch.get()).values[0]?.value, 1, 'ballast_ledger_mismatch raised');
    const lines = deploymentLedgerLines({ openingSupply: dl3.openingSupply, last: dl3, checkedAtMs: Date.now(), stranded: [] }, devnet.config.asset.symbol);
    console.log(lines.join('\n'));
    assert.ok(lines.includes('  keeper flows: Σ(to route − from route) ' + X + ' = Σ routes ' + (X - 1n) + ' + in flight 0: diff -1 (deficit)'), lines.join('\n'));

    // 4. The unit goes back and the keeper deposits X from the route: balanced again, alpha's principal restored.
    await pub.waitForTransactionReceipt({ hash: await keeper.writeContract({ address: token, abi: erc20Abi, functionName: 'transfer', args: [route, 1n] }), pollingInterval: 20 });
    await depositToVault(ctx, { rebalanceId: id, purpose: 'forward', chainKey: 'alpha', amount: X });
    const dl4 = await check();
    assert.equal(dl4.treasury?.balanced, true, dl4.treasury?.where);
    assert.equal(dl4.treasury!.allocators[0]!.principal, INITIAL - AMOUNT);
    assert.equal((await ctx.metrics.ledgerMismatch.get()).values[0]?.value, 0);
    await assertPositions(dl4);
    console.log(`treasury ledger: 4 checks, a keeper withdrawal and deposit, the 1-unit theft and its return: ${Date.now() - t0} ms`);
  });
});

describe('the market driver on a CollateralVault devnet (market: vault, the default) still borrows on the vault', { timeout: 60_000 }, () => {
  let fx: DevnetFixture;
  before(async () => {
    fx = await startDevnetFixture({ chainCount: 1 });
  });
  after(async () => {
    await fx?.stop();
  });

  test('no Aave contracts; one step borrows baseSupply × the day\'s utilization from the vault and pushes a price round', async () => {
    assert.equal(fx.deployment.market, 'vault');
    const { chain, pub } = fx.clients('a');
    assert.equal(chain.contracts.aave, undefined);
    assert.equal(await pub.readContract({ address: chain.contracts.route, abi: ballastRouteAbi, functionName: 'vault' }), chain.contracts.vault);
    const driver = new MarketDriver({ deployment: fx.deployment, networks: { a: 'ethereum' } });
    const [s] = await driver.step();
    const supplied = await pub.readContract({ address: chain.contracts.vault, abi: collateralVaultAbi, functionName: 'totalSupplied' });
    assert.equal(supplied, INITIAL);
    assert.deepEqual(s, { chainKey: 'a', market: 'vault', targetWad: driver.utilization.paths.ethereum![0], action: 'borrow', amount: (INITIAL * s!.targetWad) / WAD });
    assert.equal(await pub.readContract({ address: chain.contracts.vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' }), (INITIAL * s!.targetWad) / WAD);
    const [roundId, answer] = await pub.readContract({ address: chain.contracts.priceFeed, abi: devPriceFeedAbi, functionName: 'latestRoundData' });
    assert.equal(roundId, driver.prices.rounds[0]!.roundId);
    assert.equal(answer, driver.prices.rounds[0]!.answer);

    // The treasury ledger on a vault chain: the vault's position (its tokens match its books, exactly), and the
    // keeper-flow line, counted by the vault's KeeperFlows counters (read in the same multicall).
    const vaultLedger = async () => {
      const r = await readLedgerChain({ clients: { chainKey: 'a', chain: pub.chain, publicClient: pub }, contracts: chain.contracts });
      assert.equal(r.allocator, undefined);
      const { keeperFlows, ...books } = r.vault!;
      assert.ok(keeperFlows, 'the vault has the keeper-flow counters');
      return checkTreasuryLedger({ allocators: [], vaults: [{ chainKey: 'a', block: r.blockNumber, routeBalance: r.routeBalance, ...books, ...keeperFlows }], solana: [], inFlightUndelivered: 0n });
    };
    const t = await vaultLedger();
    assert.equal(t.balanced, true, t.where);
    assert.deepEqual([t.vaults[0]!.totalSupplied, t.vaults[0]!.idle, t.vaults[0]!.vaultBalance, t.vaults[0]!.unaccounted], [INITIAL, INITIAL - s!.amount, INITIAL - s!.amount, 0n]);
    assert.deepEqual(t.keeperFlows, { checked: true, netOutflow: 0n, inRoutes: 0n, inFlightUndelivered: 0n, acceptedDiff: 0n, diff: 0n, perChain: [{ chainKey: 'a', netOutflow: 0n, route: 0n }] });

    // The keeper withdraws X to the route (a saga between legs): counted by the vault, held by the route: balanced.
    const { keeper, deployer } = fx.clients('a');
    const X = 1_234n * UNIT + 567_891n;
    const id = keccak256(toHex(`aaveMarket.test:vault-ledger:${process.pid}:${Date.now()}`)) as Hex;
    const mine = async (hash: Promise<Hex>) => assert.equal((await pub.waitForTransactionReceipt({ hash: await hash, pollingInterval: 20 })).status, 'success');
    await mine(keeper.writeContract({ address: chain.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id, X] }));
    const t2 = await vaultLedger();
    assert.equal(t2.balanced, true, t2.where);
    assert.deepEqual([t2.vaults[0]!.cumulativeWithdrawnToRoute, t2.vaults[0]!.cumulativeDepositedFromRoute, t2.vaults[0]!.routeBalance], [X, 0n, X]);
    assert.deepEqual(t2.keeperFlows.checked && [t2.keeperFlows.netOutflow, t2.keeperFlows.inRoutes, t2.keeperFlows.diff], [X, X, 0n]);
    console.log(treasuryLedgerLines(t2, 'USDC').join('\n'));

    // One base unit leaves the route outside the keeper's flows (the route impersonated on anvil): a deficit, named.
    const route = chain.contracts.route;
    await pub.request({ method: 'anvil_impersonateAccount' as never, params: [route] as never });
    await pub.request({ method: 'anvil_setBalance' as never, params: [route, '0xDE0B6B3A7640000'] as never });
    const stolen = await pub.request({ method: 'eth_sendTransaction' as never, params: [{ from: route, to: chain.contracts.token, data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [deployer.account.address, 1n] }) }] as never });
    assert.equal((await pub.waitForTransactionReceipt({ hash: stolen as Hex, pollingInterval: 20 })).status, 'success');
    await pub.request({ method: 'anvil_stopImpersonatingAccount' as never, params: [route] as never });
    const t3 = await vaultLedger();
    assert.equal(t3.halts, true);
    assert.deepEqual(t3.findings.map((f) => [f.kind, f.diff, f.halts]), [['keeper-flow-deficit', -1n, true]]);
    assert.match(t3.where!, new RegExp(`\\[a ${X}\\] vs Σ routes ${X - 1n} \\[a ${X - 1n}\\] \\+ in flight 0: diff -1 \\(deficit: 1 base units`));
    assert.ok(treasuryLedgerLines(t3, 'USDC').includes(`  keeper flows: Σ(to route − from route) ${X} = Σ routes ${X - 1n} + in flight 0: diff -1 (deficit)`));

    // The unit goes back and the keeper deposits X from the route into the vault: balanced, the counters say both ways.
    await mine(deployer.writeContract({ address: chain.contracts.token, abi: erc20Abi, functionName: 'transfer', args: [route, 1n] }));
    await mine(keeper.writeContract({ address: route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [id, X] }));
    const t4 = await vaultLedger();
    assert.equal(t4.balanced, true, t4.where);
    assert.deepEqual([t4.vaults[0]!.cumulativeWithdrawnToRoute, t4.vaults[0]!.cumulativeDepositedFromRoute, t4.vaults[0]!.routeBalance, t4.vaults[0]!.totalSupplied], [X, X, 0n, INITIAL]);
  });
});
