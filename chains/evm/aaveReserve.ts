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
 *   own `MathUtils.calculateCompoundedInterest` does.
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
 * Decodes the results of {@link aaveReserveCalls} (same order).
 * @throws Error when the reserve's aToken differs from the configured one (a wrong address in the config).
 */
export function decodeAaveReserve(a: AaveReserveAddresses, results: readonly unknown[]): AaveMarketState {
  const [reserve, aTokenSupply, variableDebt, stableDebt, available, treasury] = results as [
    { configuration: { data: bigint }; currentLiquidityRate: bigint; currentVariableBorrowRate: bigint; aTokenAddress: Address },
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
  };
}
