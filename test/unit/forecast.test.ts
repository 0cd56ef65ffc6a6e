/**
 * The utilization forecast (planner/forecast.ts): Holt's linear smoothing, state carried by the caller.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { forecastError, forecastUtilization, stepForecast, forecastFrom } from '../../planner/forecast.js';
import type { ForecastState } from '../../planner/forecast.js';
import { WAD } from '../../planner/types.js';

const pct = (p: number): bigint => BigInt(Math.round(p * 1e4)) * (WAD / 1_000_000n);
const P = { alpha: 0.5, beta: 0.3, stepSec: 60, horizonSec: 600 };

describe('forecastUtilization', () => {
  test('a steady trend is extrapolated over the horizon', () => {
    // +0.5 point per minute from 60%: 40 minutes → 79.5%; 10 minutes ahead: 84.5%.
    const history = Array.from({ length: 40 }, (_, i) => pct(60 + 0.5 * i));
    const f = forecastUtilization(history, P);
    assert.equal(f.steps, 10);
    const expected = 60 + 0.5 * 39 + 0.5 * 10;
    assert.ok(Math.abs(Number(f.forecastWad) / 1e16 - expected) < 0.1, `forecast ${Number(f.forecastWad) / 1e16}% ≈ ${expected}%`);
    assert.ok(Math.abs(Number(f.trendWadPerStep) / 1e16 - 0.5) < 0.01);
    // Crossing an 80% high mark: the current level is under it, the forecast over it.
    assert.ok(f.levelWad < pct(80) && f.forecastWad > pct(80));
  });

  test('a flat history forecasts itself; the forecast is clamped to [0, 100%]', () => {
    assert.equal(forecastUtilization([pct(70), pct(70), pct(70)], P).forecastWad, pct(70));
    assert.equal(forecastUtilization([pct(90), pct(95), pct(99), pct(100)], { ...P, horizonSec: 36_000 }).forecastWad, WAD);
    assert.equal(forecastUtilization([pct(10), pct(5), pct(1), pct(0)], { ...P, horizonSec: 36_000 }).forecastWad, 0n);
  });

  test('the carried state gives the same forecast as the whole history (the caller keeps it between ticks)', () => {
    const history = [pct(70), pct(72), pct(71), pct(75), pct(78)];
    let s: ForecastState | undefined;
    for (const u of history) s = stepForecast(s, u, P);
    assert.deepEqual(forecastFrom(s!, P), forecastUtilization(history, P));
  });

  test('forecastError scores the forecast against what came; errors on bad parameters', () => {
    const linear = Array.from({ length: 60 }, (_, i) => pct(50 + 0.2 * i));
    const e = forecastError(linear, P);
    assert.equal(e.n, 50);
    assert.ok(e.maeWad / 1e16 < 1, `MAE ${e.maeWad / 1e16} points on a straight line`);
    const flat = forecastError(linear, { ...P, beta: 0 });
    assert.ok(flat.maeWad > e.maeWad, 'without the trend the error is larger on a trend');
    assert.throws(() => forecastUtilization([], P), /history is empty/);
    assert.throws(() => forecastUtilization([pct(1)], { ...P, alpha: 0 }), /alpha 0 must be in \(0, 1\]/);
  });
});
