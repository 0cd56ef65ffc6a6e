/**
 * Reading an Aave v3 reserve as the keeper sees it: the calls that go into the tick's ONE multicall (so every figure
 * comes from the same block as the rest of the chain's state) and their decoding.
 *
 * Sources (Aave v3 core, `@aave/core-v3` 1.19.3):
 * - `IPool.getReserveData(asset)` → `DataTypes.ReserveData` (protocol/libraries/types/DataTypes.sol): the
 *   configuration bitmap, `currentLiquidityRate` (the supply rate) and `currentVariableBorrowRate`, both in ray
 *   (1e27) per year;
 * - the configuration bitmap's layout: protocol/libraries/configuration/ReserveConfiguration.sol (bit 56 active,
 *   57 frozen, 58 borrowing enabled, 60 paused, bits 64–79 reserve factor (bps), 80–115 borrow cap and 116–151 supply
 *   cap, in whole tokens, 0 = no cap);
 * - utilization as Aave's rate strategy defines it (DefaultReserveInterestRateStrategy.calculateInterestRates):
 *   total debt / (available liquidity + total debt), where available liquidity = the asset held by the aToken;
 * - supply APY from the per-year ray rate compounded per second, to three terms of the binomial expansion as Aave's
 *   own `MathUtils.calculateCompoundedInterest` does;
 * - the reserve's interest rate strategy, `ReserveData.interestRateStrategyAddress`, a
 *   `DefaultReserveInterestRateStrategy` (protocol/pool/DefaultReserveInterestRateStrategy.sol): its getters
 *   `OPTIMAL_USAGE_RATIO()`, `getBaseVariableBorrowRate()`, `getVariableRateSlope1()`, `getVariableRateSlope2()` (ray;
 *   the same signatures as the artifact's ABI) are the yield planner's rate model (planner/rateModel.ts).
 */
import { erc20Abi, parseAbi, type Address } from 'viem';

/** 1e27: Aave's ray. */
export const RAY = 10n ** 27n;
/** Seconds per year in Aave's math (`MathUtils.SECONDS_PER_YEAR`, 365 days). */
export const SECONDS_PER_YEAR = 365n * 24n * 3600n;

/** The parts of Aave v3's Pool and reserve tokens the keeper reads (ABI as in `@aave/core-v3` 1.19.3). */
export const aaveReadAbi = parseAbi([
  'struct ReserveConfigurationMap { uint256 data; }',
  'struct ReserveData { ReserveConfigurationMap configuration; uint128 liquidityIndex; uint128 currentLiquidityRate; uint128 variableBorrowIndex; uint128 currentVariableBorrowRate; uint128 currentStableBorrowRate; uint40 lastUpdateTimestamp; uint16 id; address aTokenAddress; address stableDebtTokenAddress; address variableDebtTokenAddress; address interestRateStrategyAddress; uint128 accruedToTreasury; uint128 unbacked; uint128 isolationModeTotalDebt; }',
  'function getReserveData(address asset) view returns (ReserveData)',
]);

/**
 * The getters of Aave v3's `DefaultReserveInterestRateStrategy` the keeper reads (`@aave/core-v3` 1.19.3; immutables
 * set by its constructor, so they change only when the Pool's configurator points the reserve at another strategy).
 */
export const aaveRateStrategyReadAbi = parseAbi([
  'function OPTIMAL_USAGE_RATIO() view returns (uint256)',
  'function getBaseVariableBorrowRate() view returns (uint256)',
  'function getVariableRateSlope1() view returns (uint256)',
  'function getVariableRateSlope2() view returns (uint256)',
]);

/**
 * A reserve's variable-rate curve as its strategy contract holds it (ray: 1e27 = 100%; rates per year): below the kink
 * `optimalUsageRatioRay` the variable borrow rate is base + slope1 · U / optimal, above it base + slope1 + slope2 ·
 * (U − optimal) / (1 − optimal). The fields are planner/rateModel.ts `RateModel`'s (its reserve factor comes from the
 * reserve's configuration).
 */
export interface AaveRateStrategy {
  optimalUsageRatioRay: bigint;
  baseVariableBorrowRateRay: bigint;
  variableRateSlope1Ray: bigint;
  variableRateSlope2Ray: bigint;
}

/** The strategy's calls for a Multicall3 batch, in the order {@link decodeRateStrategy} expects. */
export function aaveRateStrategyCalls(strategy: Address) {
  return [
    { address: strategy, abi: aaveRateStrategyReadAbi, functionName: 'OPTIMAL_USAGE_RATIO' },
    { address: strategy, abi: aaveRateStrategyReadAbi, functionName: 'getBaseVariableBorrowRate' },
    { address: strategy, abi: aaveRateStrategyReadAbi, functionName: 'getVariableRateSlope1' },
    { address: strategy, abi: aaveRateStrategyReadAbi, functionName: 'getVariableRateSlope2' },
  ] as const;
}

/** Names of {@link aaveRateStrategyCalls}' calls. */
export const AAVE_RATE_STRATEGY_CALL_NAMES = ['strategy.OPTIMAL_USAGE_RATIO', 'strategy.getBaseVariableBorrowRate', 'strategy.getVariableRateSlope1', 'strategy.getVariableRateSlope2'] as const;

/**
 * Decodes the results of {@link aaveRateStrategyCalls} (same order, viem multicall results with `allowFailure`).
 * @returns the strategy's curve, or `undefined` when any of the four calls failed (a strategy of another kind, e.g.
 *   Aave v3.1's per-reserve `DefaultReserveInterestRateStrategyV2`, has no such getters).
 */
export function decodeRateStrategy(results: readonly { status: 'success' | 'failure'; result?: unknown }[]): AaveRateStrategy | undefined {
  if (results.length !== 4 || results.some((r) => r.status !== 'success' || typeof r.result !== 'bigint')) return undefined;
  const [optimal, base, slope1, slope2] = results.map((r) => r.result as bigint) as [bigint, bigint, bigint, bigint];
  return { optimalUsageRatioRay: optimal, baseVariableBorrowRateRay: base, variableRateSlope1Ray: slope1, variableRateSlope2Ray: slope2 };
}

/** The reserve configuration bitmap, decoded (ReserveConfiguration.sol). */
export interface ReserveConfiguration {
  ltvBps: bigint;
  liquidationThresholdBps: bigint;
  decimals: number;
  active: boolean;
  frozen: boolean;
  borrowingEnabled: boolean;
  paused: boolean;
  reserveFactorBps: bigint;
  /** Whole tokens; 0 = no cap. */
  borrowCapTokens: bigint;
  /** Whole tokens; 0 = no cap. */
  supplyCapTokens: bigint;
}

const bits = (data: bigint, start: bigint, width: bigint): bigint => (data >> start) & ((1n << width) - 1n);

/**
 * Decodes `ReserveConfigurationMap.data` (bit layout: Aave v3 ReserveConfiguration.sol).
 * @example decodeReserveConfiguration(reserveData.configuration.data).frozen
 */
export function decodeReserveConfiguration(data: bigint): ReserveConfiguration {
  return {
    ltvBps: bits(data, 0n, 16n),
    liquidationThresholdBps: bits(data, 16n, 16n),
    decimals: Number(bits(data, 48n, 8n)),
    active: bits(data, 56n, 1n) === 1n,
    frozen: bits(data, 57n, 1n) === 1n,
    borrowingEnabled: bits(data, 58n, 1n) === 1n,
    paused: bits(data, 60n, 1n) === 1n,
    reserveFactorBps: bits(data, 64n, 16n),
    borrowCapTokens: bits(data, 80n, 36n),
    supplyCapTokens: bits(data, 116n, 36n),
  };
}

/**
 * Supply APY from Aave's per-year supply rate (ray), compounded per second, in bps (floor):
 * (1 + r/n)^n − 1 ≈ r + r²(n−1)/(2n) + r³(n−1)(n−2)/(6n²) with n = seconds per year — the expansion Aave's
 * `MathUtils.calculateCompoundedInterest` uses for a year of accrual.
 * @param rateRay `currentLiquidityRate` (or any per-year rate) in ray.
 * @example supplyApyBps(55n * 10n ** 24n) // 5.5% rate → 565n bps (5.65% APY)
 */
export function supplyApyBps(rateRay: bigint): bigint {
  const n = SECONDS_PER_YEAR;
  const r = rateRay;
  const second = (r * r * (n - 1n)) / (2n * n * RAY);
  const third = (r * r * r * (n - 1n) * (n - 2n)) / (6n * n * n * RAY * RAY);
  return ((r + second + third) * 10_000n) / RAY;
}

/**
 * Utilization as Aave defines it: debt / (available + debt), WAD (1e18 = 100%); 0 when both are 0.
 * @param availableLiquidity the asset held by the aToken (base units).
 * @param totalDebt variable + stable debt (base units).
 */
export function aaveUtilizationWad(availableLiquidity: bigint, totalDebt: bigint): bigint {
  const total = availableLiquidity + totalDebt;
  return total === 0n ? 0n : (totalDebt * 10n ** 18n) / total;
}

/** What the keeper reads of one chain's Aave v3 reserve and of the treasury's position in it, at one block. */
export interface AaveMarketState {
  protocol: 'aave-v3';
  /** aToken `totalSupply()`: the reserve's total supply, accrued interest included (base units). */
  totalSupply: bigint;
  /** Variable + stable debt token supplies (base units). */
  totalDebt: bigint;
  /** The asset held by the aToken: what can be withdrawn now (base units). */
  availableLiquidity: bigint;
  /** Supply rate (ray per year) and the supply APY it compounds to (bps). */
  liquidityRateRay: bigint;
  supplyApyBps: bigint;
  variableBorrowRateRay: bigint;
  configuration: ReserveConfiguration;
  /** The treasury's aToken balance: what the keeper may move out of this chain (base units). */
  treasuryBalance: bigint;
  /** The reserve's interest rate strategy contract (`interestRateStrategyAddress`); absent in snapshots recorded before it was read. */
  interestRateStrategyAddress?: Address;
  /**
   * That strategy's curve read at the same block (chains/evm/readChainState.ts, same multicall); absent when it does
   * not answer the `DefaultReserveInterestRateStrategy` getters, and in snapshots recorded before it was read. The
   * yield planner's rate model of this chain (planner/rateModel.ts `rateModelOf`).
   */
  rateStrategy?: AaveRateStrategy;
}

/** Addresses of one chain's reserve and of the treasury's position (the allocator holding its aTokens). */
export interface AaveReserveAddresses {
  pool: Address;
  asset: Address;
  aToken: Address;
  variableDebtToken: Address;
  stableDebtToken: Address;
  /** The contract holding the treasury's aTokens (contracts/src/AaveAllocator.sol). */
  holder: Address;
}

/**
 * The calls of one reserve for a Multicall3 batch, in the order {@link decodeAaveReserve} expects: reserve data, the
 * aToken's total supply, both debt tokens' total supplies, the asset held by the aToken, the holder's aToken balance.
 */
export function aaveReserveCalls(a: AaveReserveAddresses) {
  return [
    { address: a.pool, abi: aaveReadAbi, functionName: 'getReserveData', args: [a.asset] },
    { address: a.aToken, abi: erc20Abi, functionName: 'totalSupply' },
    { address: a.variableDebtToken, abi: erc20Abi, functionName: 'totalSupply' },
    { address: a.stableDebtToken, abi: erc20Abi, functionName: 'totalSupply' },
    { address: a.asset, abi: erc20Abi, functionName: 'balanceOf', args: [a.aToken] },
    { address: a.aToken, abi: erc20Abi, functionName: 'balanceOf', args: [a.holder] },
  ] as const;
}

/** Names of {@link aaveReserveCalls}' calls, for a partial-read error. */
export const AAVE_RESERVE_CALL_NAMES = ['pool.getReserveData', 'aToken.totalSupply', 'variableDebt.totalSupply', 'stableDebt.totalSupply', 'asset.balanceOf(aToken)', 'aToken.balanceOf(treasury)'] as const;

/**
 * Decodes the results of {@link aaveReserveCalls} (same order); the strategy's curve is not among them
 * ({@link decodeRateStrategy}).
 * @throws Error when the reserve's aToken differs from the configured one (a wrong address in the config).
 */
export function decodeAaveReserve(a: AaveReserveAddresses, results: readonly unknown[]): AaveMarketState {
  const [reserve, aTokenSupply, variableDebt, stableDebt, available, treasury] = results as [
    { configuration: { data: bigint }; currentLiquidityRate: bigint; currentVariableBorrowRate: bigint; aTokenAddress: Address; interestRateStrategyAddress?: Address },
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  if (reserve.aTokenAddress.toLowerCase() !== a.aToken.toLowerCase()) {
    throw new Error(`Aave reserve of ${a.asset} on pool ${a.pool} has aToken ${reserve.aTokenAddress}, the config says ${a.aToken}`);
  }
  return {
    protocol: 'aave-v3',
    totalSupply: aTokenSupply,
    totalDebt: variableDebt + stableDebt,
    availableLiquidity: available,
    liquidityRateRay: reserve.currentLiquidityRate,
    supplyApyBps: supplyApyBps(reserve.currentLiquidityRate),
    variableBorrowRateRay: reserve.currentVariableBorrowRate,
    configuration: decodeReserveConfiguration(reserve.configuration.data),
    treasuryBalance: treasury,
    ...(reserve.interestRateStrategyAddress ? { interestRateStrategyAddress: reserve.interestRateStrategyAddress } : {}),
  };
}
