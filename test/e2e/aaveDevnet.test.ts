/**
 * Real Aave v3 (`@aave/core-v3` 1.19.3 bytecode) deployed by devnet/aave.ts on a real anvil chain: listing, supply,
 * borrow, the rate strategy's rates, interest accrual, the liquidity limit on withdrawals and freezing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  http,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { estimateWithHeadroom } from '../../chains/evm/writeContract.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import {
  AAVE_MAX_CAP_TOKENS,
  AAVE_RAY,
  DEFAULT_USDC_RESERVE,
  aaveAclManagerAbi,
  aaveATokenAbi,
  aaveMintableErc20Abi,
  aaveOracleAbi,
  aavePoolAbi,
  aavePoolConfiguratorAbi,
  aaveProtocolDataProviderAbi,
  aaveRateStrategyAbi,
  deployAaveV3,
  deployMintableErc20,
  fundBorrower,
  readAaveReserve,
  type AaveReserveData,
  type AaveV3Deployment,
} from '../../devnet/aave.js';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';

const CHAIN_ID = 31337;
const UNIT = 10n ** 6n; // the USDC stand-in has 6 decimals
const SUPPLIED = 1_000_000n * UNIT;
const BORROWED = 450_000n * UNIT;
const COLLATERAL = 300n * 10n ** 18n; // 300 WETH at $3000 = $900k; LTV 80% allows $720k of borrowing
const SECONDS_PER_YEAR = 365n * 24n * 3600n; // Aave's MathUtils.SECONDS_PER_YEAR
const P = DEFAULT_USDC_RESERVE;

type Wallet = WalletClient<Transport, Chain, Account>;

/** Aave's WadRayMath.rayMul (half up). */
const rayMul = (a: bigint, b: bigint): bigint => (a * b + AAVE_RAY / 2n) / AAVE_RAY;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** Asserts `promise` rejects with a contract revert whose reason string matches `reason`; returns the revert. */
async function expectRevertReason(promise: Promise<unknown>, reason: RegExp): Promise<ContractFunctionRevertedError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BaseError, `expected a viem error, got ${String(err)}`);
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    assert.ok(revert instanceof ContractFunctionRevertedError, `expected a contract revert, got: ${err.shortMessage}`);
    assert.match(revert.reason ?? '', reason, `unexpected revert reason ${revert.reason ?? revert.shortMessage}`);
    return revert;
  }
  assert.fail(`expected a revert matching ${reason}, but the call succeeded`);
}

describe('real Aave v3 on anvil (devnet/aave.ts)', () => {
  let chain: AnvilInstance;
  let dep: AaveV3Deployment;
  let pub: PublicClient<Transport, Chain>;
  let deployer: Wallet;
  let supplier: Wallet; // the keeper supplies the treasury's USDC
  let borrower: Wallet; // the market account borrows against WETH
  let testClient: ReturnType<typeof createTestClient>;

  const read = async <T,>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []): Promise<T> =>
    (await pub.readContract({ address, abi, functionName, args })) as T;
  /** Simulates, sends and waits for one write; asserts success. */
  const send = async (wallet: Wallet, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<void> => {
    const { request } = await pub.simulateContract({ account: wallet.account, address, abi, functionName, args });
    const receipt = await pub.waitForTransactionReceipt({ hash: await wallet.writeContract({ ...request, gas: await estimateWithHeadroom(pub, request) }), pollingInterval: 20 });
    assert.equal(receipt.status, 'success', `${functionName} reverted`);
  };
  const reserve = (holder?: Address) => readAaveReserve({ rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, deployment: dep, ...(holder ? { holder } : {}) });

  before(async () => {
    const t0 = Date.now();
    chain = await startAnvil({ chainId: CHAIN_ID });
    const c = defineChain({ id: CHAIN_ID, name: 'aave-test', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [chain.rpcUrl] } } });
    const transport = http(chain.rpcUrl);
    pub = createPublicClient({ chain: c, transport, pollingInterval: 20 });
    const wallet = (key: `0x${string}`): Wallet => createWalletClient({ account: privateKeyToAccount(key), chain: c, transport, pollingInterval: 20 });
    deployer = wallet(DEVNET_ACCOUNTS.deployer);
    supplier = wallet(DEVNET_ACCOUNTS.keeper);
    borrower = wallet(DEVNET_ACCOUNTS.market);
    testClient = createTestClient({ mode: 'anvil', chain: c, transport });
    const usdc = await deployMintableErc20({ rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, deployerKey: DEVNET_ACCOUNTS.deployer, name: 'USD Coin', symbol: 'USDC', decimals: 6 });
    const t1 = Date.now();
    dep = await deployAaveV3({ rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, deployerKey: DEVNET_ACCOUNTS.deployer, asset: usdc });
    console.log(`# anvil + USDC ${t1 - t0} ms, Aave v3 deployment ${Date.now() - t1} ms`);
  });
  after(async () => {
    await chain?.stop();
  });

  test('the reserve is listed, active, with the configured caps, reserve factor, rate strategy, oracle and admin roles', async () => {
    const list = await read<Address[]>(dep.pool, aavePoolAbi, 'getReservesList');
    assert.deepEqual(list, [dep.asset, dep.collateralAsset]);

    const data = await read<AaveReserveData>(dep.pool, aavePoolAbi, 'getReserveData', [dep.asset]);
    assert.equal(data.interestRateStrategyAddress, dep.rateStrategy);
    assert.equal(data.aTokenAddress, dep.aToken);
    assert.equal(data.variableDebtTokenAddress, dep.variableDebtToken);
    assert.equal(data.stableDebtTokenAddress, dep.stableDebtToken);
    assert.equal(await read<bigint>(dep.rateStrategy, aaveRateStrategyAbi, 'OPTIMAL_USAGE_RATIO'), P.optimalUsageRatioRay);
    assert.equal(await read<bigint>(dep.rateStrategy, aaveRateStrategyAbi, 'getBaseVariableBorrowRate'), P.baseVariableBorrowRateRay);
    assert.equal(await read<bigint>(dep.rateStrategy, aaveRateStrategyAbi, 'getVariableRateSlope1'), P.variableRateSlope1Ray);
    assert.equal(await read<bigint>(dep.rateStrategy, aaveRateStrategyAbi, 'getVariableRateSlope2'), P.variableRateSlope2Ray);

    const r = await reserve();
    assert.deepEqual(
      { active: r.active, frozen: r.frozen, paused: r.paused, borrowingEnabled: r.borrowingEnabled, supplyCap: r.supplyCapTokens, borrowCap: r.borrowCapTokens, rf: r.reserveFactorBps },
      { active: true, frozen: false, paused: false, borrowingEnabled: true, supplyCap: 2_000_000_000n, borrowCap: 1_800_000_000n, rf: 1000n },
    );
    assert.deepEqual([r.totalSupply, r.totalVariableDebt, r.availableLiquidity, r.utilizationBps, r.liquidityRateRay, r.variableBorrowRateRay], [0n, 0n, 0n, 0n, 0n, 0n]);

    // Cross-check through Aave's own data provider: USDC 6 decimals, not collateral; WETH collateral-only.
    const usdcCfg = await read<readonly [bigint, bigint, bigint, bigint, bigint, boolean, boolean, boolean, boolean, boolean]>(dep.dataProvider, aaveProtocolDataProviderAbi, 'getReserveConfigurationData', [dep.asset]);
    assert.deepEqual(usdcCfg, [6n, 0n, 0n, 0n, 1000n, false, true, false, true, false]);
    const wethCfg = await read<readonly [bigint, bigint, bigint, bigint, bigint, boolean, boolean, boolean, boolean, boolean]>(dep.dataProvider, aaveProtocolDataProviderAbi, 'getReserveConfigurationData', [dep.collateralAsset]);
    assert.deepEqual(wethCfg, [18n, 8000n, 8250n, 10500n, 1500n, true, false, false, true, false]);
    assert.deepEqual(await read<readonly [bigint, bigint]>(dep.dataProvider, aaveProtocolDataProviderAbi, 'getReserveCaps', [dep.asset]), [1_800_000_000n, 2_000_000_000n]);

    assert.equal(await read<bigint>(dep.oracle, aaveOracleAbi, 'getAssetPrice', [dep.asset]), 10n ** 8n);
    assert.equal(await read<bigint>(dep.oracle, aaveOracleAbi, 'getAssetPrice', [dep.collateralAsset]), 3000n * 10n ** 8n);
    assert.equal(await read<Address>(dep.aToken, aaveATokenAbi, 'UNDERLYING_ASSET_ADDRESS'), dep.asset);
    assert.equal(await read<Address>(dep.aToken, aaveATokenAbi, 'RESERVE_TREASURY_ADDRESS'), deployer.account.address);
    assert.equal(await read<number>(dep.aToken, aaveATokenAbi, 'decimals'), 6);
    for (const fn of ['isPoolAdmin', 'isRiskAdmin', 'isEmergencyAdmin', 'isAssetListingAdmin']) {
      assert.equal(await read<boolean>(dep.aclManager, aaveAclManagerAbi, fn, [deployer.account.address]), true, fn);
    }
  });

  test('a supplier supplies 1,000,000 USDC and holds exactly that many aTokens at once', async () => {
    await send(supplier, dep.asset, aaveMintableErc20Abi, 'mint', [SUPPLIED]);
    await send(supplier, dep.asset, erc20Abi, 'approve', [dep.pool, SUPPLIED]);
    await send(supplier, dep.pool, aavePoolAbi, 'supply', [dep.asset, SUPPLIED, supplier.account.address, 0]);
    const r = await reserve(supplier.account.address);
    assert.equal(r.holderATokenBalance, SUPPLIED);
    assert.equal(r.totalSupply, SUPPLIED);
    assert.equal(r.availableLiquidity, SUPPLIED);
    assert.equal(await pub.readContract({ address: dep.asset, abi: erc20Abi, functionName: 'balanceOf', args: [supplier.account.address] }), 0n);
  });

  test('borrowing 450,000 USDC: utilization 45% and rates as the strategy formula gives', async () => {
    await fundBorrower({ rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, deployment: dep, borrowerKey: DEVNET_ACCOUNTS.market, collateralAmount: COLLATERAL });
    assert.equal(await pub.readContract({ address: dep.collateralAToken, abi: erc20Abi, functionName: 'balanceOf', args: [borrower.account.address] }), COLLATERAL);
    await send(borrower, dep.pool, aavePoolAbi, 'borrow', [dep.asset, BORROWED, 2n /* variable */, 0, borrower.account.address]);
    assert.equal(await pub.readContract({ address: dep.asset, abi: erc20Abi, functionName: 'balanceOf', args: [borrower.account.address] }), BORROWED);

    // Read in the borrow's block: the rates were computed by that transaction from exactly these balances.
    const r = await reserve();
    assert.equal(r.totalVariableDebt, BORROWED);
    assert.equal(r.availableLiquidity, SUPPLIED - BORROWED);
    assert.ok(abs(r.utilizationBps - 4500n) <= 1n, `utilization ${r.utilizationBps} bps`);

    // Below the kink: variableBorrowRate = base + slope1 · U / optimal, liquidityRate = borrowRate · U · (1 − RF),
    // U = debt / (available + debt), evaluated exactly (rationals) and floored.
    const debt = r.totalVariableDebt;
    const den = r.availableLiquidity + debt;
    const opt = P.optimalUsageRatioRay;
    const expectedVar = (P.baseVariableBorrowRateRay * den * opt + P.variableRateSlope1Ray * debt * AAVE_RAY) / (den * opt);
    const expectedLiq =
      ((P.baseVariableBorrowRateRay * den * opt + P.variableRateSlope1Ray * debt * AAVE_RAY) * debt * (10_000n - P.reserveFactorBps)) /
      (den * opt * den * 10_000n);
    // Tolerance: Aave rounds half-up in each ray/percent step (borrow usage rayDiv, slope rayMul, rayDiv by optimal:
    // < 2 wei together, the later factors being <= 1/optimal), and the liquidity rate goes through
    // _getOverallBorrowRate = rayDiv(rayMul(debt·1e9, rate), debt·1e9), whose half-wei rounding of the product is
    // scaled back by RAY / (debt·1e9): for 450,000e6 base units ≈ 2.2e6 wei of ray, i.e. ~1e-19 relative to a 1%
    // rate. Anything beyond that bound would be a formula or parameter mismatch, not rounding.
    const tolVar = 2n;
    const tolLiq = AAVE_RAY / (debt * 10n ** 9n) + 3n;
    assert.ok(r.variableBorrowRateRay > 0n && r.liquidityRateRay > 0n);
    assert.ok(abs(r.variableBorrowRateRay - expectedVar) <= tolVar, `variable borrow rate ${r.variableBorrowRateRay}, expected ${expectedVar} ± ${tolVar}`);
    assert.ok(abs(r.liquidityRateRay - expectedLiq) <= tolLiq, `liquidity rate ${r.liquidityRateRay}, expected ${expectedLiq} ± ${tolLiq}`);
    // For these round numbers every step is exact: 2.75% borrow, 1.11375% supply.
    assert.equal(r.variableBorrowRateRay, (275n * AAVE_RAY) / 10_000n);
    assert.equal(r.liquidityRateRay, (111_375n * AAVE_RAY) / 10_000_000n);
  });

  test('after 30 days the supplier\'s aTokens have grown by Aave\'s linear supply interest', async () => {
    const before = await reserve(supplier.account.address);
    await testClient.increaseTime({ seconds: 30 * 24 * 3600 });
    await testClient.mine({ blocks: 1 });
    const r = await reserve(supplier.account.address);
    const block = await pub.getBlock({ blockNumber: r.blockNumber });
    assert.ok(r.holderATokenBalance! > SUPPLIED, `aToken balance ${r.holderATokenBalance} did not grow`);
    // AToken.balanceOf = scaled · normalizedIncome, normalizedIncome = (1 + rate · dt / year) · liquidityIndex
    // (MathUtils.calculateLinearInterest), with no reserve update since the borrow.
    const dt = block.timestamp - r.lastUpdateTimestamp;
    assert.ok(dt >= 30n * 24n * 3600n, `dt ${dt}`);
    const income = rayMul(AAVE_RAY + (r.liquidityRateRay * dt) / SECONDS_PER_YEAR, r.liquidityIndexRay);
    assert.equal(r.holderATokenBalance, rayMul(SUPPLIED, income));
    assert.ok(r.holderATokenBalance! - SUPPLIED > 900n * UNIT, `~915 USDC of interest expected, got ${r.holderATokenBalance! - SUPPLIED}`);
    assert.ok(r.totalVariableDebt > before.totalVariableDebt, 'debt accrues too');
    assert.equal(r.availableLiquidity, SUPPLIED - BORROWED, 'accrual moves no tokens');
  });

  test('withdrawing more than the available liquidity reverts', async () => {
    const r = await reserve(supplier.account.address);
    const amount = r.availableLiquidity + 50_000n * UNIT;
    assert.ok(amount < r.holderATokenBalance!, 'within the supplier\'s balance: only the pool\'s liquidity is short');
    // ValidationLogic passes (the supplier owns the aTokens). Aave 3.0.2 then updates the rates before moving
    // tokens: DefaultReserveInterestRateStrategy computes availableLiquidity = balanceOf(aToken) + added − taken,
    // which underflows (checked arithmetic, Panic 0x11) when more is taken than the aToken holds.
    const revert = await expectRevertReason(
      pub.simulateContract({ account: supplier.account, address: dep.pool, abi: aavePoolAbi, functionName: 'withdraw', args: [dep.asset, amount, supplier.account.address] }),
      /underflow or overflow/,
    );
    assert.equal(revert.data?.errorName, 'Panic');
    assert.deepEqual(revert.data?.args, [0x11n]);
    // Within the liquidity it would go through.
    await pub.simulateContract({ account: supplier.account, address: dep.pool, abi: aavePoolAbi, functionName: 'withdraw', args: [dep.asset, r.availableLiquidity, supplier.account.address] });
  });

  test('a frozen reserve reports frozen=true and refuses new supply and borrows', async () => {
    await send(deployer, dep.poolConfigurator, aavePoolConfiguratorAbi, 'setReserveFreeze', [dep.asset, true]);
    const r = await reserve();
    assert.deepEqual({ frozen: r.frozen, active: r.active, paused: r.paused }, { frozen: true, active: true, paused: false });
    await send(supplier, dep.asset, aaveMintableErc20Abi, 'mint', [UNIT]);
    await send(supplier, dep.asset, erc20Abi, 'approve', [dep.pool, UNIT]);
    // Errors.RESERVE_FROZEN = '28'
    await expectRevertReason(
      pub.simulateContract({ account: supplier.account, address: dep.pool, abi: aavePoolAbi, functionName: 'supply', args: [dep.asset, UNIT, supplier.account.address, 0] }),
      /^28$/,
    );
    await expectRevertReason(
      pub.simulateContract({ account: borrower.account, address: dep.pool, abi: aavePoolAbi, functionName: 'borrow', args: [dep.asset, UNIT, 2n, 0, borrower.account.address] }),
      /^28$/,
    );
  });

  test('failures name the step and the chain', async () => {
    const base = { rpcUrl: chain.rpcUrl, deployerKey: DEVNET_ACCOUNTS.deployer, asset: dep.asset };
    await assert.rejects(deployAaveV3({ ...base, chainId: 1 }), /reports chain id 31337, expected 1/);
    await assert.rejects(deployAaveV3({ ...base, chainId: CHAIN_ID, reserve: { supplyCapTokens: AAVE_MAX_CAP_TOKENS + 1n } }), /supplyCapTokens .* must be in/);
    await assert.rejects(deployAaveV3({ ...base, chainId: CHAIN_ID, asset: borrower.account.address }), /does not answer decimals\(\)\/symbol\(\)/);
    // Pool.supply(0) reverts with Errors.INVALID_AMOUNT = '26' in simulation; nothing is sent.
    await assert.rejects(
      fundBorrower({ rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, deployment: dep, borrowerKey: DEVNET_ACCOUNTS.market, collateralAmount: 0n }),
      new RegExp(`Aave v3 on chain ${CHAIN_ID} \\(${chain.rpcUrl}\\): simulating "Pool.supply\\(collateral\\)" failed: reverted: 26`),
    );
  });
});
