/**
 * Aave v3's interest-rate model as the yield planner (planner/yield.ts) uses it, and the treasury's yield on one
 * market. Pure.
 *
 * Source: Aave v3 core `DefaultReserveInterestRateStrategy.calculateInterestRates` (`@aave/core-v3` 1.19.3), variable
 * debt only (stable borrowing is off on the markets Ballast uses):
 * - utilization `U = totalDebt / (availableLiquidity + totalDebt)` (0 when both are 0);
 * - variable borrow rate, per year: `base + slope1 · U / Uopt` when `U ≤ Uopt`, else
 *   `base + slope1 + slope2 · (U − Uopt) / (1 − Uopt)` (`Uopt` = `OPTIMAL_USAGE_RATIO`);
 * - supply (liquidity) rate, per year: `borrowRate · U · (1 − reserveFactor)`.
 * Rates are ray (1e27 = 100% per year) in {@link RateModel} and in the exact helpers; the planner's objective uses
 * the same formula in floating point (base units per year), and the reasons print APYs compounded per second as
 * chains/evm/aaveReserve.ts `supplyApyBps` does.
 *
 * On an Aave chain the reserve's strategy parameters are read on chain, in the tick's multicall (chains/evm/readChainState.ts
 * follows `getReserveData(asset).interestRateStrategyAddress` and reads its `OPTIMAL_USAGE_RATIO()`,
 * `getBaseVariableBorrowRate()`, `getVariableRateSlope1()`, `getVariableRateSlope2()`: `ChainState.market.rateStrategy`),
 * and the reserve factor from the reserve's configuration. Where they are not known (a Ballast vault chain, a strategy
 * of another kind, a snapshot recorded before they were read) the default {@link DEFAULT_RATE_MODEL} stands in: the
 * devnet's USDC reserve (devnet/aave.ts `DEFAULT_USDC_RESERVE`, close to Aave v3 Arbitrum USDC, takes its strategy
 * from it: one definition). A planner input per chain (`Partial<RateModel>`) overrides either.
 */
import { RAY, supplyApyBps } from '../chains/evm/aaveReserve.js';
import { WAD } from './types.js';
import type { ChainState } from './types.js';

/** Seconds per year in Aave's math (365 days). */
export const YEAR_SEC = 365 * 24 * 3600;

/** One reserve's interest-rate strategy and reserve factor (Aave units). */
export interface RateModel {
  /** `OPTIMAL_USAGE_RATIO`, ray, in (0, 1e27]. */
  optimalUsageRatioRay: bigint;
  /** Per-year rates, ray. */
  baseVariableBorrowRateRay: bigint;
  variableRateSlope1Ray: bigint;
  variableRateSlope2Ray: bigint;
  /** Share of borrow interest kept by the protocol, bps (0..10 000). */
  reserveFactorBps: bigint;
}

/**
 * The devnet USDC reserve's strategy (devnet/aave.ts `DEFAULT_USDC_RESERVE` spreads it, adding the caps): optimal usage
 * 90%, base 0, slope1 5.5%, slope2 60%, reserve factor 10%.
 */
export const DEFAULT_RATE_MODEL: RateModel = {
  optimalUsageRatioRay: (90n * RAY) / 100n,
  baseVariableBorrowRateRay: 0n,
  variableRateSlope1Ray: (55n * RAY) / 1000n,
  variableRateSlope2Ray: (60n * RAY) / 100n,
  reserveFactorBps: 1000n,
};

/**
 * The model of chain `c`, each field from the first that has it: `override`, then the chain's Aave reserve (its rate
 * strategy's curve as read on chain, `c.market.rateStrategy`, and its configuration's reserve factor), then
 * {@link DEFAULT_RATE_MODEL}.
 * @throws {Error} when the optimal usage ratio is outside (0, 1e27], a rate is negative or the reserve factor is outside [0, 10 000].
 */
export function rateModelOf(c: ChainState, override: Partial<RateModel> = {}): RateModel {
  const s = c.market?.rateStrategy;
  const onChain: Partial<RateModel> = s
    ? { optimalUsageRatioRay: s.optimalUsageRatioRay, baseVariableBorrowRateRay: s.baseVariableBorrowRateRay, variableRateSlope1Ray: s.variableRateSlope1Ray, variableRateSlope2Ray: s.variableRateSlope2Ray }
    : {};
  const m: RateModel = { ...DEFAULT_RATE_MODEL, ...onChain, ...(c.market ? { reserveFactorBps: c.market.configuration.reserveFactorBps } : {}), ...override };
  if (!(m.optimalUsageRatioRay > 0n && m.optimalUsageRatioRay <= RAY)) throw new Error(`rate model of ${c.chainKey}: optimalUsageRatioRay ${m.optimalUsageRatioRay} must be in (0, 1e27]`);
  if (m.baseVariableBorrowRateRay < 0n || m.variableRateSlope1Ray < 0n || m.variableRateSlope2Ray < 0n) throw new Error(`rate model of ${c.chainKey}: rates must be ≥ 0 (ray per year)`);
  if (m.reserveFactorBps < 0n || m.reserveFactorBps > 10_000n) throw new Error(`rate model of ${c.chainKey}: reserveFactorBps ${m.reserveFactorBps} must be in [0, 10000]`);
  return m;
}

/** Variable borrow rate (ray per year) at utilization `uRay` (ray), exact (Aave's piecewise-linear curve). */
export function borrowRateRay(m: RateModel, uRay: bigint): bigint {
  const opt = m.optimalUsageRatioRay;
  if (uRay <= opt) return m.baseVariableBorrowRateRay + (m.variableRateSlope1Ray * uRay) / opt;
  const excess = RAY - opt;
  return m.baseVariableBorrowRateRay + m.variableRateSlope1Ray + (excess === 0n ? 0n : (m.variableRateSlope2Ray * (uRay - opt)) / excess);
}

/** Supply rate (ray per year) at utilization `uRay`: `borrowRate · U · (1 − reserveFactor)`, exact (floors). */
export function supplyRateRay(m: RateModel, uRay: bigint): bigint {
  return (((borrowRateRay(m, uRay) * uRay) / RAY) * (10_000n - m.reserveFactorBps)) / 10_000n;
}

/** Aave utilization (ray) of a market with `supplied` = available + debt and `debt`; 0 when nothing is supplied. */
export function utilizationRay(supplied: bigint, debt: bigint): bigint {
  return supplied <= 0n ? (debt > 0n ? RAY : 0n) : (debt * RAY) / supplied > RAY ? RAY : (debt * RAY) / supplied;
}

/** Supply APY (bps, compounded per second) of the market after `delta` base units arrive (negative: leave). */
export function supplyApyBpsAfter(m: RateModel, supplied: bigint, debt: bigint, delta: bigint): bigint {
  return supplyApyBps(supplyRateRay(m, utilizationRay(supplied + delta, debt)));
}

/** The same curve in floating point (fractions per year) for the MILP's coefficients. */
export function supplyRate(m: RateModel, u: number): number {
  const opt = Number(m.optimalUsageRatioRay) / Number(RAY);
  const base = Number(m.baseVariableBorrowRateRay) / Number(RAY);
  const s1 = Number(m.variableRateSlope1Ray) / Number(RAY);
  const s2 = Number(m.variableRateSlope2Ray) / Number(RAY);
  const uu = Math.min(1, Math.max(0, u));
  const borrow = uu <= opt ? base + (s1 * uu) / opt : base + s1 + (opt < 1 ? (s2 * (uu - opt)) / (1 - opt) : 0);
  return borrow * uu * (1 - Number(m.reserveFactorBps) / 10_000);
}

/**
 * What the treasury earns per year on one market after `delta` base units arrive (negative: leave), in base units
 * (float): `(treasury + delta) · supplyRate(debt / (supplied + delta))`. `treasury` is the treasury's own supply on
 * it (its aToken balance on Aave; a Ballast vault's whole supply otherwise).
 */
export function treasuryYieldPerYear(m: RateModel, supplied: bigint, debt: bigint, treasury: bigint, delta: number): number {
  const s = Number(supplied) + delta;
  const t = Math.max(0, Number(treasury) + delta);
  const u = s <= 0 ? (debt > 0n ? 1 : 0) : Number(debt) / s;
  return t * supplyRate(m, u);
}

/** The treasury's supply on chain `c` (base units): its aToken balance on an Aave market, the vault's supply otherwise. */
export function treasuryOf(c: ChainState): bigint {
  return c.market ? c.market.treasuryBalance : c.supplied;
}

/** A bps APY as a percent with 2 decimals: `565n` → `5.65%`. */
export function formatBpsPct(bps: bigint): string {
  const neg = bps < 0n;
  const a = neg ? -bps : bps;
  return `${neg ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}%`;
}

/** WAD utilization → ray. */
export const wadToRay = (wad: bigint): bigint => wad * (RAY / WAD);
