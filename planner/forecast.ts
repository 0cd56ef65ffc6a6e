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
