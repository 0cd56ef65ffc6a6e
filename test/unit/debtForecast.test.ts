/**
 * The debt forecast (planner/forecast.ts `stepDebtForecast`, `forecastDebt`, `forecastUtilizationFromDebt`,
 * `observeDebtForecasts`): the one implementation the keeper's monitor and the backtest's yield planner share.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_FORECAST_PARAMS,
  FORECAST_GAP_STEPS,
  MAX_FORECAST_CHAINS,
  forecastDebt,
  forecastFrom,
  forecastUtilizationFromDebt,
  observeDebtForecasts,
  stepDebtForecast,
  stepForecast,
  type DebtForecastEntry,
  type DebtForecastState,
  type ForecastState,
} from '../../planner/forecast.js';
import { WAD } from '../../planner/types.js';

const UNIT = 10n ** 6n;
const M = (x: number): bigint => BigInt(Math.round(x * 1e6)) * UNIT;
const P = { ...DEFAULT_FORECAST_PARAMS, stepSec: 60, horizonSec: 600 };
const minB = (a: bigint, b: bigint): bigint => (a < b ? a : b);

describe('stepDebtForecast / forecastUtilizationFromDebt', () => {
  test('the reference is fixed at the first observation (2 × the supply then); later supplies do not move it', () => {
    let s = stepDebtForecast(undefined, { borrowed: M(70), supplied: M(100) }, P);
    assert.equal(s.refBaseUnits, M(200));
    assert.deepEqual(s.share, { levelWad: Number((M(70) * WAD) / M(200)), trendWadPerStep: 0, n: 1 });
    s = stepDebtForecast(s, { borrowed: M(70), supplied: M(400) }, P);
    assert.equal(s.refBaseUnits, M(200));
    assert.equal(s.share.n, 2);
  });

  test("the keeper's own move (supply changes, debt does not) is no trend; the utilization forecast is the debt over the supply NOW", () => {
    let s: DebtForecastState | undefined;
    for (let i = 0; i < 5; i++) s = stepDebtForecast(s, { borrowed: M(80), supplied: M(100) }, P);
    // 20M arrive (a rebalance): utilization 80% → 66.7%, the debt is flat.
    s = stepDebtForecast(s, { borrowed: M(80), supplied: M(120) }, P);
    assert.equal(s.share.trendWadPerStep, 0);
    assert.equal(forecastDebt(s, P), M(80));
    assert.equal(forecastUtilizationFromDebt(s, M(120), P), (M(80) * WAD) / M(120));
  });

  test('a rising debt is extrapolated: +1M per step for 30 steps, 10 steps ahead ≈ +10M', () => {
    let s: DebtForecastState | undefined;
    for (let i = 0; i < 30; i++) s = stepDebtForecast(s, { borrowed: M(50 + i), supplied: M(100) }, P);
    const d = forecastDebt(s!, P);
    assert.ok(d > M(88.9) && d < M(89.1), `forecast debt ${d} ≈ 89M (the last observation 79M plus 10 steps of the 1M trend)`);
    assert.equal(forecastUtilizationFromDebt(s!, M(100), P), (d * WAD) / M(100));
    // Clamped to [0, WAD]; no supply: WAD when debt is forecast.
    assert.equal(forecastUtilizationFromDebt(s!, M(10), P), WAD);
    assert.equal(forecastUtilizationFromDebt(s!, 0n, P), WAD);
  });

  test('a falling debt floors at 0; the share is not clamped at the reference (a market that outgrew 2× its first supply)', () => {
    let s: DebtForecastState | undefined;
    for (let i = 0; i < 10; i++) s = stepDebtForecast(s, { borrowed: M(10 - i), supplied: M(100) }, { ...P, horizonSec: 36_000 });
    assert.equal(forecastDebt(s!, { ...P, horizonSec: 36_000 }), 0n);
    let g = stepDebtForecast(undefined, { borrowed: M(50), supplied: M(100) }, P);
    for (let i = 0; i < 10; i++) g = stepDebtForecast(g, { borrowed: M(300), supplied: M(400) }, { ...P, alpha: 1, beta: 0 });
    assert.equal(forecastDebt(g, { ...P, alpha: 1, beta: 0 }), M(300), 'debt 300M > the 200M reference is forecast as it is');
    assert.equal(forecastUtilizationFromDebt(g, M(400), P), (3n * WAD) / 4n);
  });

  test("equals the backtest's former inline formula wherever the forecast share stays under the reference", () => {
    // The pre-helper code of backtest/planners.ts: stepForecast of borrowed·WAD/ref, forecastFrom (clamped to WAD) × ref, over the supply now.
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    let s: DebtForecastState | undefined;
    let old: ForecastState | undefined;
    let ref: bigint | undefined;
    const params = { ...DEFAULT_FORECAST_PARAMS, stepSec: 3600, horizonSec: 86_400 };
    for (let i = 0; i < 200; i++) {
      const supplied = M(100 + 40 * rnd());
      const borrowed = (supplied * BigInt(Math.round(rnd() * 900))) / 1000n;
      s = stepDebtForecast(s, { borrowed, supplied }, params);
      ref ??= 2n * supplied;
      old = stepForecast(old, (borrowed * WAD) / ref, params);
      const debt = (forecastFrom(old, params).forecastWad * ref) / WAD;
      assert.equal(forecastUtilizationFromDebt(s, supplied, params), minB(WAD, (debt * WAD) / supplied), `step ${i}`);
    }
  });

  test('errors: a first observation with nothing supplied, a negative debt, no observation, bad parameters', () => {
    assert.throws(() => stepDebtForecast(undefined, { borrowed: 0n, supplied: 0n }, P), /first observation needs a supply > 0/);
    assert.throws(() => stepDebtForecast(undefined, { borrowed: -1n, supplied: 1n }, P), /debt -1 must be ≥ 0/);
    assert.throws(() => forecastDebt({ refBaseUnits: 1n, share: { levelWad: 0, trendWadPerStep: 0, n: 0 } }, P), /no observation yet/);
    assert.throws(() => stepDebtForecast(undefined, { borrowed: 0n, supplied: 1n }, { ...P, stepSec: 0 }), /stepSec 0 must be > 0/);
  });
});

describe('observeDebtForecasts (the monitor tick)', () => {
  const T = 60_000; // one 60 s step, ms
  const mk = (chainKey: string, borrowedM: number, suppliedM = 100) => ({ chainKey, borrowed: M(borrowedM), supplied: M(suppliedM) });

  test('one observation per step; a tick woken early observes nothing; the input is not modified', () => {
    const e1 = observeDebtForecasts({}, [mk('alpha', 70), mk('beta', 40)], 0, P);
    assert.deepEqual(Object.keys(e1), ['alpha', 'beta']);
    assert.equal(e1.alpha!.share.n, 1);
    assert.equal(e1.alpha!.observedAtMs, 0);
    const early = observeDebtForecasts(e1, [mk('alpha', 90)], T - 1, P);
    assert.deepEqual(early, e1, 'less than a step later: nothing observed');
    const e2 = observeDebtForecasts(e1, [mk('alpha', 75), mk('beta', 40)], T + 500, P);
    assert.equal(e2.alpha!.share.n, 2);
    assert.equal(e2.alpha!.observedAtMs, T + 500);
    assert.ok(e2.alpha!.share.trendWadPerStep > 0);
    assert.equal(e1.alpha!.share.n, 1, 'the carried entries are not modified');
    // The same as folding the observations one by one.
    const direct = stepDebtForecast(stepDebtForecast(undefined, mk('alpha', 70), P), mk('alpha', 75), P);
    assert.deepEqual({ refBaseUnits: e2.alpha!.refBaseUnits, share: e2.alpha!.share }, direct);
  });

  test('a market with nothing supplied and no entry is not observed; with an entry it is (its reference is fixed)', () => {
    const e = observeDebtForecasts({}, [mk('alpha', 0, 0)], 0, P);
    assert.deepEqual(e, {});
    const a = observeDebtForecasts({}, [mk('alpha', 10)], 0, P);
    const b = observeDebtForecasts(a, [mk('alpha', 0, 0)], T, P);
    assert.equal(b.alpha!.share.n, 2);
  });

  test('after more than FORECAST_GAP_STEPS steps without an observation the smoothing restarts (reference kept)', () => {
    let e = observeDebtForecasts({}, [mk('alpha', 50)], 0, P);
    e = observeDebtForecasts(e, [mk('alpha', 60, 300)], T, P);
    assert.equal(e.alpha!.share.n, 2);
    const later = observeDebtForecasts(e, [mk('alpha', 90, 300)], T + (FORECAST_GAP_STEPS * T + 1), P);
    assert.equal(later.alpha!.share.n, 1);
    assert.equal(later.alpha!.share.trendWadPerStep, 0);
    assert.equal(later.alpha!.refBaseUnits, M(200), 'the reference of the first observation');
  });

  test('entries of chains gone for over the gap are dropped; at most MAX_FORECAST_CHAINS are kept (the most recent)', () => {
    const e = observeDebtForecasts({}, [mk('alpha', 50), mk('gone', 50)], 0, P);
    const kept = observeDebtForecasts(e, [mk('alpha', 50)], FORECAST_GAP_STEPS * T, P);
    assert.deepEqual(Object.keys(kept), ['alpha', 'gone'], 'within the gap an absent chain keeps its entry');
    const dropped = observeDebtForecasts(kept, [mk('alpha', 50)], FORECAST_GAP_STEPS * T + T + 1, P);
    assert.deepEqual(Object.keys(dropped), ['alpha']);
    const many: Record<string, DebtForecastEntry> = {};
    for (let i = 0; i < MAX_FORECAST_CHAINS + 5; i++) many[`c${i}`] = { refBaseUnits: 1n, share: { levelWad: 0, trendWadPerStep: 0, n: 1 }, observedAtMs: i };
    const bounded = observeDebtForecasts(many, [], MAX_FORECAST_CHAINS + 5, P);
    assert.equal(Object.keys(bounded).length, MAX_FORECAST_CHAINS);
    assert.equal(bounded.c0, undefined, 'the oldest went first');
    assert.ok(bounded[`c${MAX_FORECAST_CHAINS + 4}`]);
  });
});
