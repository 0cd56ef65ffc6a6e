/**
 * backtest scores (issue 14): yield at the history's supply rates, the planners side by side (static, greedy,
 * optimal, yield), the perfect-foresight bound and the share of its uplift, hours above / below band, the CSV
 * input shape. On a tiny SYNTHETIC history written by this test into a temp dir (3 chains, 3 days, 1 h steps), and
 * on the first 2 days of the real fixtures when present (skipped with the reason otherwise).
 * Run: BALLAST_HIGHS_BASELINE=1 node --import tsx --test test/unit/backtestScores.test.ts
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixturePath } from '../../config/fixtures.js';
import { AAVE_RATES_FIXTURE, ETH_USD_DECIMALS, loadFeedHistory } from '../../devnet/marketData.js';
import { loadBacktestAssets, type BacktestAsset } from '../../backtest/history.js';
import { runBacktest, SECONDS_PER_YEAR, type AssetResult, type PlannerRun } from '../../backtest/run.js';
import { HistoryFormatError, loadPriceCsv, loadRateHistory, RAY } from '../../backtest/csv.js';
import { assetScores, upliftShare, annualized } from '../../backtest/scores.js';
import { fractionAbove } from '../../backtest/bound.js';
import { parsePlannerList, PLANNERS } from '../../backtest/planners.js';
import { runCaptured } from '../../cli/main.js';

const DAY = 86_400;
/** SYNTHETIC history: arbitrum far above its 75–85% band, base far below, optimism inside; rates vary by day. */
const SYN = {
  days: ['2023-05-01', '2023-05-02', '2023-05-03'],
  u: { arbitrum: ['0.95', '0.95', '0.95'], base: ['0.5', '0.5', '0.5'], optimism: ['0.8', '0.8', '0.8'] } as Record<string, string[]>,
  r: { arbitrum: ['0.08', '0.09', '0.07'], base: ['0.02', '0.025', '0.02'], optimism: ['0.04', '0.041', '0.039'] } as Record<string, string[]>,
};

/** Writes the SYNTHETIC history and an hourly SYNTHETIC ETH/USD price file (2000 USD) covering it; returns their paths. */
function writeSynthetic(dir: string): { history: string; prices: string } {
  const history = path.join(dir, 'SYNTHETIC-history.csv');
  const rows = ['date,network,symbol,utilization,liquidity_rate,note'];
  SYN.days.forEach((d, i) => {
    for (const n of Object.keys(SYN.u)) rows.push(`${d},${n},USDC,${SYN.u[n]![i]},${SYN.r[n]![i]},SYNTHETIC test data`);
  });
  fs.writeFileSync(history, `${rows.join('\n')}\n`);
  const prices = path.join(dir, 'SYNTHETIC-eth-usd.csv');
  const t0 = Date.parse('2023-04-30T23:00:00Z') / 1000;
  const pr = ['roundId,answer,startedAt,updatedAt,answeredInRound'];
  for (let i = 0; i < 24 * 5; i++) pr.push(`${i + 1},200000000000,${t0 + i * 3000},${t0 + i * 3000},${i + 1}`);
  fs.writeFileSync(prices, `${pr.join('\n')}\n`);
  return { history, prices };
}

const net = (r: PlannerRun): bigint => r.totals.yield - r.totals.fees;

/** Static's exact yield: Σ_chain Σ_day size · rate · 86 400 / (RAY · year), one division. */
function staticYield(a: BacktestAsset): bigint {
  let num = 0n;
  for (const c of a.networks) a.supplyRate[c]!.forEach((r) => (num += a.sizes.get(c)! * r * BigInt(DAY)));
  return num / (RAY * SECONDS_PER_YEAR);
}

describe('backtest scores on a SYNTHETIC CSV history', () => {
  let dir: string;
  let files: { history: string; prices: string };
  let asset: BacktestAsset;
  let result: AssetResult;
  let yieldLoaded: boolean;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-backtest-scores-'));
    files = writeSynthetic(dir);
    const loaded = loadBacktestAssets({ historyFile: files.history, pricesFile: files.prices });
    asset = loaded.assets[0]!;
    yieldLoaded = (await PLANNERS.yield.load()) === undefined;
    result = (await runBacktest([asset], { planners: parsePlannerList('all'), timeLimitMs: 200, bound: { timeLimitMs: 5000 }, forecast: false }))[0]!;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the CSV loads in the documented shape: days, networks, WAD utilization, RAY rates, the source named', () => {
    assert.deepEqual(asset.days, SYN.days);
    assert.deepEqual([...asset.networks].sort(), ['arbitrum', 'base', 'optimism']);
    assert.equal(asset.paths.base![0], 5n * 10n ** 17n);
    assert.equal(asset.supplyRate.arbitrum![1], 9n * 10n ** 25n); // 0.09 = 9% APR in RAY
    assert.equal(result.sources.history, files.history);
    assert.equal(result.sources.prices, files.prices);
    assert.match(asset.label, /SYNTHETIC-history\.csv/);
    assert.ok(asset.notes.some((n) => /one clock from 2023-05-01/.test(n)), asset.notes.join('; '));
  });

  test('static never moves and earns exactly Σ rate × amount (Aave linear accrual, day rates held)', () => {
    const st = result.runs.static!;
    assert.equal(st.totals.transfers, 0);
    assert.equal(st.totals.fees, 0n);
    assert.equal(st.totals.yield, staticYield(asset));
    assert.ok(st.totals.yield > 0n);
  });

  test('hours above band (shortage) and below band (idle) are split: static has arbitrum above, base below, optimism neither', () => {
    const st = result.runs.static!;
    const by = new Map(st.perChain.map((c) => [c.chain, c]));
    assert.equal(by.get('arbitrum')!.aboveBandSec, 3 * DAY);
    assert.equal(by.get('arbitrum')!.belowBandSec, 0);
    assert.equal(by.get('base')!.belowBandSec, 3 * DAY);
    assert.equal(by.get('base')!.aboveBandSec, 0);
    assert.equal(by.get('optimism')!.outOfBandSec, 0);
    const s = assetScores(result).planners.static!;
    assert.equal(s.aboveBandHours, 72);
    assert.equal(s.belowBandHours, 72);
    // Greedy fixes the shortage (moves to arbitrum), the idle base stays below.
    assert.ok(result.runs.greedy!.totals.aboveBandSec < st.totals.aboveBandSec);
  });

  test('every registered planner ran side by side (yield when planner/yield.ts loads), fees = fixed + proportional', () => {
    for (const p of ['static', 'greedy', 'optimal'] as const) assert.ok(result.runs[p], p);
    if (yieldLoaded) assert.ok(result.runs.yield, 'yield planner ran');
    else assert.match(result.skippedPlanners.yield ?? '', /yield/);
    for (const r of Object.values(result.runs)) {
      assert.equal(r.totals.fixedFees + r.totals.proportionalFees, r.totals.fees, r.planner);
      assert.equal(r.totals.fees, r.transfers.reduce((s, t) => s + t.fee, 0n));
    }
  });

  test('the bound is ≥ every planner: the relaxed one by construction, the banded (headline) one here; it keeps the band', () => {
    const b = result.bound!;
    assert.ok(b, `bound solved (${result.boundError})`);
    assert.equal(b.relaxed.status, 'Optimal');
    assert.equal(b.banded.status, 'Optimal');
    const upper = b.relaxed.provenUpperBound!;
    for (const r of Object.values(result.runs)) {
      assert.ok(upper >= net(r), `relaxed bound ${upper} ≥ ${r.planner} ${net(r)}`);
      assert.ok(b.banded.netYield! >= net(r), `banded bound ${b.banded.netYield} ≥ ${r.planner} ${net(r)}`);
    }
    assert.ok(b.relaxed.netYield! >= b.banded.netYield!, 'the band only costs');
    assert.ok((b.banded.shortageTokenDays ?? 1) < 1e-6, 'the band\'s high mark is feasible here and held');
    assert.equal(b.banded.aboveBandHours, 0);
  });

  test('shares of the uplift are (planner − static) / (bound − static), static 0, none above 1', () => {
    const s = assetScores(result);
    const st = net(result.runs.static!);
    const bn = result.bound!.banded.netYield!;
    for (const [p, r] of Object.entries(result.runs)) {
      const share = s.planners[p as keyof typeof s.planners]!.upliftShare!;
      assert.equal(share, upliftShare(net(r), st, bn));
      assert.ok(Math.abs(share - Number(net(r) - st) / Number(bn - st)) < 1e-4, `${p}: ${share}`);
      assert.ok(share <= 1, p);
    }
    assert.equal(s.planners.static!.upliftShare, 0);
    assert.ok(s.planners.greedy!.upliftShare! > 0, 'greedy captures some of the uplift');
    assert.equal(upliftShare(150n, 100n, 200n), 0.5);
    assert.equal(upliftShare(150n, 100n, 100n), null);
    const y = annualized(365n, 10_000n, 365);
    assert.equal(y.aprPct, 3.65);
  });

  test('`ballast backtest --history --prices --json` prints every score and names the source files', async () => {
    const r = await runCaptured(['backtest', '--history', files.history, '--prices', files.prices, '--planners', 'static,greedy', '--json', '--out', path.join(dir, 'out')]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { assets: { sources: { history: string }; scores: ReturnType<typeof assetScores> }[] };
    const a = j.assets[0]!;
    assert.equal(a.sources.history, files.history);
    assert.ok(a.scores.planners.static && a.scores.planners.greedy && !a.scores.planners.optimal);
    assert.ok(a.scores.bound && a.scores.bound.banded.netYield, 'bound in the JSON');
    assert.equal(typeof a.scores.planners.greedy.upliftShare, 'number');
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'out', 'report.md'), 'utf8'), /Aave v3/);
  });

  test('malformed inputs are refused with the file and what is missing', () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'date,network,symbol,utilization\n2023-05-01,base,USDC,0.5\n');
    assert.throws(() => loadRateHistory(bad), (e: unknown) => e instanceof HistoryFormatError && /no supply rate column \(expected one of liquidity_rate, supply_rate\)/.test(e.message));
    fs.writeFileSync(bad, 'roundId,answer,startedAt,updatedAt\n1,2,3,4\n');
    assert.throws(() => loadPriceCsv(bad), /no answeredInRound column/);
    assert.throws(() => parsePlannerList('static,best'), /unknown planner "best"/);
  });

  test('time above a level of a linear path', () => {
    assert.equal(fractionAbove(0, 2, 1), 0.5);
    assert.equal(fractionAbove(2, 0, 1.5), 0.25);
    assert.equal(fractionAbove(3, 3, 1), 1);
  });
});

const haveFixtures = fixturePath(AAVE_RATES_FIXTURE) !== undefined && loadFeedHistory('eth_usd', ETH_USD_DECIMALS) !== undefined;
describe('backtest scores on the real fixtures (first 2 days, USDC)', { skip: haveFixtures ? false : `fixtures absent (${AAVE_RATES_FIXTURE} and prices/eth_usd_*.csv under BALLAST_FIXTURES_DIR or ../shared/fixtures)` }, () => {
  test('static earns Σ rate × amount on the real rates; the relaxed bound is ≥ static and greedy', async () => {
    const usdc = loadBacktestAssets({ days: 2 }).assets.find((a) => a.symbol === 'USDC')!;
    assert.ok(usdc.sources.history.endsWith(AAVE_RATES_FIXTURE), usdc.sources.history);
    const [r] = await runBacktest([usdc], { planners: ['static', 'greedy'], bound: { timeLimitMs: 4000 }, forecast: true });
    assert.equal(r!.runs.static!.totals.yield, staticYield(usdc));
    const b = r!.bound!;
    assert.ok(b, r!.boundError);
    const upper = b.relaxed.provenUpperBound ?? b.relaxed.netYield!;
    for (const run of Object.values(r!.runs)) assert.ok(upper >= net(run), `${run.planner}: ${upper} ≥ ${net(run)}`);
    const f = r!.forecast!;
    assert.ok(!('unavailable' in f) && f.n > 0, 'forecast scored');
  });
});
