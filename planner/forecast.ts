/**
 * A forecast of one market's utilization from its last ticks: Holt's linear exponential smoothing (an EWMA of the
 * level plus an EWMA of the trend). Pure: the caller carries the {@link ForecastState} from tick to tick (or passes the
 * whole history to {@link forecastUtilization}), so a replay gives the same forecast.
 *
 * Per observation `u_t` (utilization, WAD), with `α = params.alpha`, `β = params.beta`:
 *   level_t = α · u_t + (1 − α) · (level_{t−1} + trend_{t−1})
 *   trend_t = β · (level_t − level_{t−1}) + (1 − β) · trend_{t−1}
 * started with level_1 = u_1, trend_1 = 0. The forecast `h` steps ahead is `level + h · trend`, clamped to [0, WAD],
 * with `h = horizonSec / stepSec` (the ticks between observations are assumed evenly spaced, `stepSec` apart).
 *
 * Parameters ({@link DEFAULT_FORECAST_PARAMS}): `alpha` 0.5 (the level follows a new observation half way: a jump is
 * believed within ~2 ticks), `beta` 0.3 (the trend needs ~3 ticks of a move to turn), `stepSec` the monitor's tick,
 * `horizonSec` the yield planner's horizon. Larger α/β react faster and overshoot more on noise; the backtest
 * measures the error ({@link forecastError}).
 *
 * The yield planner (planner/yield.ts) treats a chain whose forecast is above its band's high mark as in need now.
 * What it is given is forecast from the market's DEBT, not its utilization ({@link DebtForecastState}: the keeper's
 * own moves change the supply, so a utilization series would mistake them for a trend): the monitor
 * (workflows/monitor.ts, {@link observeDebtForecasts} each tick) and the backtest (backtest/planners.ts) fold the debt
 * with {@link stepDebtForecast} and divide the forecast debt by the supply now ({@link forecastUtilizationFromDebt}).
 */
import { WAD } from './types.js';

/** Parameters of the forecast (see the module doc). */
export interface ForecastParams {
  /** Level smoothing α in (0, 1]. */
  alpha: number;
  /** Trend smoothing β in [0, 1] (0: no trend, a plain EWMA). */
  beta: number;
  /** Seconds between two observations (the monitor's tick, or the backtest's step). */
  stepSec: number;
  /** How far ahead to forecast (seconds). */
  horizonSec: number;
}

/** α 0.5, β 0.3, a 60 s step, a one-hour horizon. */
export const DEFAULT_FORECAST_PARAMS: ForecastParams = { alpha: 0.5, beta: 0.3, stepSec: 60, horizonSec: 3600 };

/** What the caller carries between observations (floats in WAD units; `n` observations folded). */
export interface ForecastState {
  levelWad: number;
  trendWadPerStep: number;
  n: number;
}

/** A forecast: where utilization is expected `horizonSec` ahead, and the smoothed level and trend it came from. */
export interface Forecast {
  /** Forecast utilization at the horizon, WAD, clamped to [0, WAD]. */
  forecastWad: bigint;
  /** Smoothed current utilization, WAD. */
  levelWad: bigint;
  /** Smoothed change per step, WAD (signed). */
  trendWadPerStep: bigint;
  /** Steps ahead (`horizonSec / stepSec`). */
  steps: number;
  state: ForecastState;
}

function check(p: ForecastParams): void {
  if (!(p.alpha > 0 && p.alpha <= 1)) throw new Error(`forecast: alpha ${p.alpha} must be in (0, 1]`);
  if (!(p.beta >= 0 && p.beta <= 1)) throw new Error(`forecast: beta ${p.beta} must be in [0, 1]`);
  if (!(p.stepSec > 0)) throw new Error(`forecast: stepSec ${p.stepSec} must be > 0`);
  if (!(p.horizonSec >= 0)) throw new Error(`forecast: horizonSec ${p.horizonSec} must be ≥ 0`);
}

/**
 * Folds one observation into the state (undefined: the first observation).
 * @param utilizationWad the market's utilization at this tick (WAD, ≥ 0).
 * @throws {Error} on parameters out of range or a negative utilization.
 */
export function stepForecast(state: ForecastState | undefined, utilizationWad: bigint, params: ForecastParams): ForecastState {
  check(params);
  if (utilizationWad < 0n) throw new Error(`forecast: utilization ${utilizationWad} must be ≥ 0`);
  const u = Number(utilizationWad);
  if (state === undefined || state.n === 0) return { levelWad: u, trendWadPerStep: 0, n: 1 };
  const level = params.alpha * u + (1 - params.alpha) * (state.levelWad + state.trendWadPerStep);
  const trend = params.beta * (level - state.levelWad) + (1 - params.beta) * state.trendWadPerStep;
  return { levelWad: level, trendWadPerStep: trend, n: state.n + 1 };
}

/** The forecast `params.horizonSec` ahead from a carried state. @throws {Error} when the state is empty. */
export function forecastFrom(state: ForecastState, params: ForecastParams): Forecast {
  check(params);
  if (state.n === 0) throw new Error('forecast: no observation yet');
  const steps = params.horizonSec / params.stepSec;
  const f = Math.min(Number(WAD), Math.max(0, state.levelWad + steps * state.trendWadPerStep));
  return { forecastWad: BigInt(Math.round(f)), levelWad: BigInt(Math.round(state.levelWad)), trendWadPerStep: BigInt(Math.round(state.trendWadPerStep)), steps, state };
}

/**
 * The forecast of a market's utilization `params.horizonSec` after its last observation.
 * @param history utilizations (WAD), oldest first, one per `params.stepSec`; at least one.
 * @example forecastUtilization([700000000000000000n, 710000000000000000n, 720000000000000000n], { alpha: 0.5, beta: 0.3, stepSec: 60, horizonSec: 600 }).forecastWad
 * @throws {Error} on an empty history, parameters out of range or a negative utilization.
 */
export function forecastUtilization(history: readonly bigint[], params: ForecastParams = DEFAULT_FORECAST_PARAMS): Forecast {
  if (history.length === 0) throw new Error('forecastUtilization: the history is empty');
  let s: ForecastState | undefined;
  for (const u of history) s = stepForecast(s, u, params);
  return forecastFrom(s!, params);
}

/**
 * The forecast's error over a history, for the backtest: at each step `t` with an observation `h` steps later
 * (`h = horizonSec / stepSec`, rounded), the forecast made from observations `0..t` against observation `t + h`.
 * @returns mean absolute error and root mean square error (WAD, floats) and how many forecasts were scored.
 */
export function forecastError(history: readonly bigint[], params: ForecastParams = DEFAULT_FORECAST_PARAMS): { maeWad: number; rmseWad: number; n: number } {
  const h = Math.max(0, Math.round(params.horizonSec / params.stepSec));
  let s: ForecastState | undefined;
  let abs = 0;
  let sq = 0;
  let n = 0;
  for (let t = 0; t + h < history.length; t++) {
    s = stepForecast(s, history[t]!, params);
    const e = Number(forecastFrom(s, params).forecastWad) - Number(history[t + h]!);
    abs += Math.abs(e);
    sq += e * e;
    n++;
  }
  return { maeWad: n === 0 ? 0 : abs / n, rmseWad: n === 0 ? 0 : Math.sqrt(sq / n), n };
}

// ---------------------------------------------------------------------------------------------------------------
// The debt forecast: what the yield planner is given (the monitor and the backtest share this one implementation).

/**
 * The borrowers' demand on one market, forecast from its DEBT rather than its utilization: the keeper's own moves
 * change a market's supply, hence its utilization, and a utilization series would read them as a trend. The debt is
 * observed as a share of a reference fixed at the first observation ({@link DEBT_REFERENCE_MULTIPLE} × the supply
 * then, base units) and smoothed by Holt ({@link stepForecast}); at the horizon the forecast debt is divided by the
 * supply NOW ({@link forecastUtilizationFromDebt}). Plain data (bigint and numbers) so it crosses Temporal payloads.
 */
export interface DebtForecastState {
  /** The reference the debt is a share of, base units: {@link DEBT_REFERENCE_MULTIPLE} × the supply at the first observation (> 0, fixed). */
  refBaseUnits: bigint;
  /** Holt's state of debt / reference (WAD units; may exceed WAD once the debt outgrows the reference). */
  share: ForecastState;
}

/** The debt reference is this many times the market's supply at the first observation. */
export const DEBT_REFERENCE_MULTIPLE = 2n;

/**
 * Folds one observation of a market's debt into its state (undefined: the first; it fixes the reference).
 * @param market `borrowed` (the debt, base units, ≥ 0) and `supplied` (base units; only read at the first
 *   observation, where it must be > 0).
 * @throws {Error} on a first observation with nothing supplied, a negative debt, or parameters out of range.
 * @example let s = stepDebtForecast(undefined, { borrowed: 70n, supplied: 100n }, params); // reference 200
 */
export function stepDebtForecast(state: DebtForecastState | undefined, market: { borrowed: bigint; supplied: bigint }, params: ForecastParams): DebtForecastState {
  const ref = state?.refBaseUnits ?? DEBT_REFERENCE_MULTIPLE * market.supplied;
  if (ref <= 0n) throw new Error(`debt forecast: the first observation needs a supply > 0 (got ${market.supplied})`);
  if (market.borrowed < 0n) throw new Error(`debt forecast: debt ${market.borrowed} must be ≥ 0`);
  return { refBaseUnits: ref, share: stepForecast(state?.share, (market.borrowed * WAD) / ref, params) };
}

/**
 * The forecast debt `params.horizonSec` ahead, base units: (level + h · trend) of the share, floored at 0, × the
 * reference (h = horizonSec / stepSec, as {@link forecastFrom}; unlike a utilization the share has no upper clamp).
 * @throws {Error} when the state holds no observation or the parameters are out of range.
 */
export function forecastDebt(state: DebtForecastState, params: ForecastParams): bigint {
  check(params);
  if (state.share.n === 0) throw new Error('debt forecast: no observation yet');
  const share = Math.max(0, state.share.levelWad + (params.horizonSec / params.stepSec) * state.share.trendWadPerStep);
  return (BigInt(Math.round(share)) * state.refBaseUnits) / WAD;
}

/**
 * The utilization forecast the yield planner takes (planner/yield.ts `forecastUtilizationWad`): the forecast debt
 * `params.horizonSec` ahead ({@link forecastDebt}) over the supply now, WAD, clamped to [0, WAD].
 * @param suppliedNow the market's supply at this observation (base units); ≤ 0 gives WAD when debt is forecast, else 0.
 * @throws {Error} when the state holds no observation or the parameters are out of range.
 * @example forecastUtilizationFromDebt(s, 100n, { ...DEFAULT_FORECAST_PARAMS, stepSec: 60, horizonSec: 86_400 })
 */
export function forecastUtilizationFromDebt(state: DebtForecastState, suppliedNow: bigint, params: ForecastParams): bigint {
  const debt = forecastDebt(state, params);
  if (suppliedNow <= 0n) return debt > 0n ? WAD : 0n;
  const u = (debt * WAD) / suppliedNow;
  return u > WAD ? WAD : u;
}

/** One market's entry in the monitor's carried forecast: the state and when it was last observed (workflow time, ms). */
export interface DebtForecastEntry extends DebtForecastState {
  observedAtMs: number;
}

/**
 * After this many steps without an observation (a pause, an outage, a chain left out) a market's smoothing restarts
 * from its next observation (its reference kept): a trend from before the gap says nothing of now. Entries of
 * chains unseen that long are dropped; the map keeps at most {@link MAX_FORECAST_CHAINS} chains.
 */
export const FORECAST_GAP_STEPS = 10;
/** Bound on the chains the monitor's carried forecast holds (the configured chains are far fewer). */
export const MAX_FORECAST_CHAINS = 64;

/**
 * The monitor's tick (workflows/monitor.ts): folds each market of a snapshot into its entry, one observation per
 * `params.stepSec`. Pure and deterministic (the caller passes the workflow's clock). Rules:
 * - a market with no entry and nothing supplied is not observed (no reference to fix);
 * - a tick less than one step after the entry's last observation (a tick woken early by a signal) observes nothing:
 *   the observations stay about one step apart, as the trend per step assumes;
 * - more than {@link FORECAST_GAP_STEPS} steps since the last observation: the smoothing restarts (reference kept);
 * - entries not in `markets` and unseen for over {@link FORECAST_GAP_STEPS} steps are dropped, then the oldest
 *   beyond {@link MAX_FORECAST_CHAINS}.
 * @param entries the carried entries by chainKey (not modified).
 * @param markets the snapshot's chains (`chainKey`, `borrowed`, `supplied`, base units).
 * @returns the new entries by chainKey (keys in first-seen order).
 * @throws {Error} on parameters out of range or a negative debt.
 */
export function observeDebtForecasts(
  entries: Readonly<Record<string, DebtForecastEntry>>,
  markets: readonly { chainKey: string; borrowed: bigint; supplied: bigint }[],
  nowMs: number,
  params: ForecastParams,
): Record<string, DebtForecastEntry> {
  check(params);
  const stepMs = params.stepSec * 1000;
  const gapMs = FORECAST_GAP_STEPS * stepMs;
  const out: Record<string, DebtForecastEntry> = {};
  for (const [k, e] of Object.entries(entries)) out[k] = e;
  for (const m of markets) {
    const e = out[m.chainKey];
    if (!e && m.supplied <= 0n) continue;
    if (e && nowMs - e.observedAtMs < stepMs) continue;
    const from: DebtForecastState | undefined = e ? (nowMs - e.observedAtMs > gapMs ? { refBaseUnits: e.refBaseUnits, share: { levelWad: 0, trendWadPerStep: 0, n: 0 } } : e) : undefined;
    const s = stepDebtForecast(from, m, params);
    out[m.chainKey] = { refBaseUnits: s.refBaseUnits, share: s.share, observedAtMs: nowMs };
  }
  const seen = new Set(markets.map((m) => m.chainKey));
  let keys = Object.keys(out).filter((k) => seen.has(k) || nowMs - out[k]!.observedAtMs <= gapMs);
  if (keys.length > MAX_FORECAST_CHAINS) keys = [...keys].sort((a, b) => out[b]!.observedAtMs - out[a]!.observedAtMs || (a < b ? -1 : 1)).slice(0, MAX_FORECAST_CHAINS);
  const kept = new Set(keys);
  return Object.fromEntries(Object.entries(out).filter(([k]) => kept.has(k)));
}
