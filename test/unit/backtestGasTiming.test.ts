/**
 * backtest gas (issue 14): base-fee series (a `--gas-history` CSV, or the SYNTHETIC one), fixed fees priced at each
 * step's base fees, and the gas timing (planner/timing.ts) applied to the yield planner in the engine. On a tiny
 * SYNTHETIC history written by this test into a temp dir (3 chains, 2 days, 1 h steps) with a SYNTHETIC gas file whose
 * base fees are high the first 12 h of each day and low the last 12 h; the fixtures' `--symbol` on the real files when
 * present (skipped with the reason otherwise).
 * Run: BALLAST_HIGHS_BASELINE=1 node --import tsx --test test/unit/backtestGasTiming.test.ts
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixturePath } from '../../config/fixtures.js';
import { AAVE_RATES_FIXTURE, ETH_USD_DECIMALS, loadFeedHistory } from '../../devnet/marketData.js';
import { loadBacktestAssets, type BacktestAsset } from '../../backtest/history.js';
import { runBacktest, type AssetResult, type PlanEvent } from '../../backtest/run.js';
import { DEFAULT_TIMING_POLICY } from '../../planner/timing.js';
import { baseFeeAt, CHAIN_PARAMS, constantGasPriceWei, defaultBridges, syntheticGasHistory } from '../../backtest/model.js';
import { gweiToWei, HistoryFormatError, loadGasCsv } from '../../backtest/csv.js';
import { buildReport, renderMarkdown } from '../../backtest/report.js';
import { PLANNERS } from '../../backtest/planners.js';
import { runCaptured } from '../../cli/main.js';

const HOUR = 3600;
const GWEI = 1_000_000_000n;
/** SYNTHETIC: optimism above its 75–85% band (a need), arbitrum and base below it, base paying far more than arbitrum. */
const SYN = {
  days: ['2023-05-01', '2023-05-02'],
  u: { arbitrum: ['0.5', '0.5'], base: ['0.5', '0.5'], optimism: ['0.9', '0.9'] } as Record<string, string[]>,
  r: { arbitrum: ['0.01', '0.01'], base: ['0.09', '0.09'], optimism: ['0.04', '0.04'] } as Record<string, string[]>,
};
/** SYNTHETIC base fees (ETH-equivalent gwei): HIGH from 00:00 to 11:00 UTC, LOW from 12:00 to 23:00, every day. */
const HIGH = '0.5';
const LOW = '0.02';

function writeSynthetic(dir: string): { history: string; prices: string; gas: string } {
  const history = path.join(dir, 'SYNTHETIC-history.csv');
  const rows = ['date,network,symbol,utilization,liquidity_rate'];
  SYN.days.forEach((d, i) => {
    for (const n of Object.keys(SYN.u)) rows.push(`${d},${n},USDC,${SYN.u[n]![i]},${SYN.r[n]![i]}`);
  });
  fs.writeFileSync(history, `${rows.join('\n')}\n`);
  const prices = path.join(dir, 'SYNTHETIC-eth-usd.csv');
  const t0 = Date.parse('2023-04-30T23:00:00Z') / 1000;
  const pr = ['roundId,answer,startedAt,updatedAt,answeredInRound'];
  for (let i = 0; i < 24 * 4; i++) pr.push(`${i + 1},200000000000,${t0 + i * 3000},${t0 + i * 3000},${i + 1}`);
  fs.writeFileSync(prices, `${pr.join('\n')}\n`);
  // From the day before the history (the first steps' window) to its end, hourly, ISO timestamps.
  const gas = path.join(dir, 'SYNTHETIC-gas.csv');
  const g = ['timestamp,network,base_fee_gwei,note'];
  const g0 = Date.parse('2023-04-30T00:00:00Z');
  for (let h = 0; h < 24 * 3; h++) {
    for (const n of Object.keys(SYN.u)) g.push(`${new Date(g0 + h * HOUR * 1000).toISOString()},${n},${h % 24 < 12 ? HIGH : LOW},SYNTHETIC test data`);
  }
  fs.writeFileSync(gas, `${g.join('\n')}\n`);
  return { history, prices, gas };
}

describe('backtest gas timing on a SYNTHETIC history and SYNTHETIC gas file', () => {
  let dir: string;
  let files: { history: string; prices: string; gas: string };
  let asset: BacktestAsset;
  let on: AssetResult;
  let off: AssetResult;
  const events: PlanEvent[] = [];
  let yieldLoaded = false;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-backtest-gas-'));
    files = writeSynthetic(dir);
    asset = loadBacktestAssets({ historyFile: files.history, pricesFile: files.prices, gasHistoryFile: files.gas }).assets[0]!;
    yieldLoaded = (await PLANNERS.yield.load()) === undefined;
    const planners = yieldLoaded ? (['greedy', 'yield'] as const) : (['greedy'] as const);
    // expectedWaitSec 0: a wait forgoes no yield, so the gas rule alone decides (the mechanics under test; the default
    // sends a move now when the yield it would forgo beats what waiting saves: test/unit/gasTiming.test.ts).
    const policy = { ...DEFAULT_TIMING_POLICY, gas: { ...DEFAULT_TIMING_POLICY.gas, expectedWaitSec: 0 } };
    on = (await runBacktest([asset], { planners, timeLimitMs: 200, bound: false, forecast: false, gasTiming: { policy }, onPlan: (e) => events.push(e) }))[0]!;
    off = (await runBacktest([asset], { planners, timeLimitMs: 200, bound: false, forecast: false, gasTiming: false }))[0]!;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the gas file is on the history\'s clock (samples of the day before are the first steps\' window) and named as the source', () => {
    assert.equal(asset.sources.gas, files.gas);
    assert.equal(asset.gas!.synthetic, false);
    assert.ok(asset.gas!.notes.some((n) => /on the history's clock from 2023-05-01/.test(n)), asset.gas!.notes.join('; '));
    const arb = asset.gas!.perChain.arbitrum!;
    assert.equal(arb[0]!.atSec, -24 * HOUR);
    assert.equal(baseFeeAt(arb, 0), gweiToWei(HIGH, 'x'));
    assert.equal(baseFeeAt(arb, 12 * HOUR + 5), gweiToWei(LOW, 'x'));
    assert.equal(on.sources.gas, files.gas);
    assert.equal(on.gas.perChain.base!.p90Wei, 500_000_000n);
    assert.equal(on.gas.perChain.base!.p10Wei, 20_000_000n);
  });

  test('fixed fees follow each step\'s base fees: dearer in the high hours than in the low ones', () => {
    const g = events.filter((e) => e.planner === 'greedy' && e.input.edges.length > 0);
    const fee = (step: number): bigint => g.find((e) => e.step === step)!.input.edges.find((x) => x.from === 'arbitrum' && x.to === 'base' && x.bridge === 'layerzero')!.fixedFee;
    assert.ok(fee(3) > fee(15), `${fee(3)} > ${fee(15)}`);
    assert.equal(fee(3), fee(4), 'the same base fees, the same price: the same quote');
    const lz = defaultBridges()[0]!;
    assert.equal(lz.fixedFeeWei('arbitrum', 'base', () => 2n), 150_000n * 2n + (200_000n * 2n * 12n) / 10n + 50_000n * GWEI);
    assert.equal(lz.fixedFeeWei('arbitrum', 'base'), lz.fixedFeeWei('arbitrum', 'base', constantGasPriceWei), 'default: the constant model');
  });

  test('greedy is not timed (every move it makes is to a need); the timed yield planner holds back only yield-only moves, in the high hours', { skip: false }, (t) => {
    assert.equal(on.runs.greedy!.timing, undefined);
    assert.deepEqual(on.runs.greedy!.transfers, off.runs.greedy!.transfers, 'greedy unchanged by the timing option');
    if (!yieldLoaded) return t.skip('planner/yield.ts does not load here');
    const y = events.filter((e) => e.planner === 'yield');
    const held = y.flatMap((e) => (e.deferred ?? []).map((d) => ({ e, d })));
    assert.ok(held.length > 0, 'some yield-only move was held back');
    for (const { e, d } of held) {
      assert.ok(!e.inNeed!.includes(d.transfer.to), `step ${e.step}: held back a move to ${d.transfer.to}, which is in need`);
      assert.ok(e.tSec % 86_400 < 12 * HOUR, `held back at hour ${(e.tSec % 86_400) / HOUR}, a low-fee hour`);
      assert.match(d.reason, /^waits: base fee 0\.5 gwei > p50 0\.02 gwei of the last 24 h$/);
    }
    // Urgency agrees with the planner's own reasons: a transfer to a chain in need says so first.
    for (const e of y) {
      for (const tr of [...e.transfers, ...(e.deferred ?? []).map((d) => d.transfer)]) {
        const saysNeed = tr.reason.startsWith(`${tr.to} utilization`) || tr.reason.startsWith(`${tr.to} forecast`);
        assert.equal(e.inNeed!.includes(tr.to), saysNeed, `step ${e.step} ${tr.from}→${tr.to}: ${tr.reason.slice(0, 120)}`);
      }
    }
    // Urgent moves went in the high hours too.
    const run = on.runs.yield!;
    assert.ok(run.transfers.some((x) => x.urgent && x.sentSec % 86_400 < 12 * HOUR), 'an urgent move was sent at a high base fee');
    for (const x of run.transfers.filter((z) => z.urgent === false)) assert.ok(x.sentSec % 86_400 >= 12 * HOUR, `yield-only ${x.from}→${x.to} sent at hour ${(x.sentSec % 86_400) / HOUR}`);
  });

  test('the timing figures: held back, episodes sent after waiting, fees saved = first quote − paid > 0; off: sent at once', (t) => {
    if (!yieldLoaded) return t.skip('planner/yield.ts does not load here');
    const tm = on.runs.yield!.timing!;
    assert.ok(tm.deferrals > 0 && tm.byRule.gas > 0, JSON.stringify({ ...tm, feesSaved: String(tm.feesSaved), droppedFirstFees: String(tm.droppedFirstFees) }));
    assert.ok(tm.episodes >= tm.sentAfterWait + tm.dropped && tm.episodes === tm.sentAfterWait + tm.dropped + tm.openAtEnd);
    assert.ok(tm.sentAfterWait > 0, 'a held-back move was sent once the base fee fell');
    assert.ok(tm.feesSaved > 0n, `fees saved ${tm.feesSaved}`);
    const waited = on.runs.yield!.transfers.filter((x) => x.waitedSec !== undefined);
    assert.ok(waited.length > 0 && waited.every((x) => x.waitedSec! > 0 && x.waitedSec! <= 12 * HOUR));
    assert.equal(off.runs.yield!.timing, undefined);
    assert.ok(off.runs.yield!.transfers.some((x) => x.step === 0), 'without timing the yield planner moves at step 0');
    // Deferral applies to non-urgent moves only: no shortage added.
    assert.ok(on.runs.yield!.totals.aboveBandSec <= off.runs.yield!.totals.aboveBandSec, `above band ${on.runs.yield!.totals.aboveBandSec} ≤ ${off.runs.yield!.totals.aboveBandSec}`);
    assert.ok(on.runs.yield!.totals.aboveBandSec <= on.runs.greedy!.totals.aboveBandSec, 'no more shortage than greedy');
  });

  test('the report names the gas source, lists the series per chain and the timing figures', () => {
    const r = buildReport([on], { fixturesDir: dir, planners: ['greedy', 'yield'], stepSec: 3600, timeLimitMs: 200, notes: [], wallSec: 0, chart: { file: 'x.png', widthPx: 1, heightPx: 1 }, gasTiming: 'on for yield' });
    const a = r.assets[0]!;
    assert.equal(a.sources.gas, files.gas);
    assert.deepEqual(a.gas.perChain.arbitrum, { meanGwei: '0.26', p10Gwei: '0.02', p90Gwei: '0.5' });
    const md = renderMarkdown(r);
    assert.ok(md.includes(`gas: ${files.gas}`), 'sources line');
    assert.doesNotMatch(md, /SYNTHETIC gas history/);
    if (yieldLoaded) {
      assert.match(md, /Gas timing \(planner\/timing\.ts;/);
      assert.equal(a.scores.planners.yield!.timing!.deferrals, on.runs.yield!.timing!.deferrals);
      assert.equal(a.planners.yield!.timing!.feesSaved.baseUnits, on.runs.yield!.timing!.feesSaved.toString());
      JSON.stringify(r); // JSON-safe: no bigint left
    }
  });

  test('without a gas file: the SYNTHETIC series, named so in the sources, the JSON and report.md', () => {
    const plain = loadBacktestAssets({ historyFile: files.history, pricesFile: files.prices }).assets[0]!;
    assert.match(plain.sources.gas!, /^SYNTHETIC gas history/);
    assert.equal(plain.gas!.synthetic, true);
    const r = buildReport([{ ...on, sources: { ...on.sources, gas: plain.gas!.source }, gas: { ...on.gas, source: plain.gas!.source, synthetic: true } }], { fixturesDir: dir, planners: ['greedy'], stepSec: 3600, timeLimitMs: 200, notes: [], wallSec: 0, chart: { file: 'x.png', widthPx: 1, heightPx: 1 } });
    assert.match(r.assets[0]!.sources.gas, /SYNTHETIC gas history/);
    assert.match(renderMarkdown(r), /## Gas: USDC \(SYNTHETIC gas history\)/);
  });

  test('`ballast backtest --history … --gas-history FILE --json` runs on the file\'s base fees; --no-gas-timing is accepted', async () => {
    const r = await runCaptured(['backtest', '--history', files.history, '--prices', files.prices, '--gas-history', files.gas, '--planners', 'static,greedy', '--no-bound', '--no-gas-timing', '--json', '--out', path.join(dir, 'out')]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { settings: { gasTiming: string }; assets: { sources: { gas: string } }[] };
    assert.equal(j.assets[0]!.sources.gas, files.gas);
    assert.match(j.settings.gasTiming, /^off/);
    assert.match(fs.readFileSync(path.join(dir, 'out', 'transfers.csv'), 'utf8').split('\n')[0]!, /,fixed_fee,urgent,waited_sec$/);
  });
});

describe('gas series', () => {
  test('the SYNTHETIC series is deterministic, averages the model\'s constant over the run and peaks in the afternoon (UTC)', () => {
    const a = syntheticGasHistory(['ethereum', 'base'], 30 * 86_400);
    const b = syntheticGasHistory(['base', 'ethereum'], 30 * 86_400);
    assert.deepEqual(a, b);
    assert.match(a.source, /^SYNTHETIC gas history/);
    for (const c of ['ethereum', 'base']) {
      const run = a.perChain[c]!.filter((s) => s.atSec >= 0);
      assert.equal(run.length, 30 * 24);
      assert.ok(a.perChain[c]![0]!.atSec < 0, 'a warm-up before the run');
      const mean = run.reduce((s, x) => s + x.baseFeeWei, 0n) / BigInt(run.length);
      const model = BigInt(CHAIN_PARAMS[c]!.gasPriceGwei * 1000) * (GWEI / 1000n);
      assert.ok(mean * 1000n >= model * 999n && mean * 1000n <= model * 1001n, `${c}: mean ${mean} ≈ ${model}`);
      const at = (h: number): bigint => run.filter((s) => s.atSec % 86_400 === h * HOUR).reduce((s, x) => s + x.baseFeeWei, 0n);
      assert.ok(at(15) > at(3), `${c}: 15:00 dearer than 03:00 on average`);
    }
  });

  test('the gas CSV: timestamps (unix or ISO) or dates, gwei parsed exactly, errors name the file and line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-gas-csv-'));
    try {
      const f = path.join(dir, 'g.csv');
      fs.writeFileSync(f, 'timestamp,network,base_fee_gwei\n1700000000,ethereum,23.5\n2023-11-14T22:00:00Z,ethereum,0.000000001\n1700000000,base,0.05\n');
      const g = loadGasCsv(f);
      assert.deepEqual(g.perNetwork.ethereum, [{ unixSec: 1699999200, baseFeeWei: 1n }, { unixSec: 1700000000, baseFeeWei: 23_500_000_000n }]);
      assert.deepEqual(g.perNetwork.base, [{ unixSec: 1700000000, baseFeeWei: 50_000_000n }]);
      fs.writeFileSync(f, 'date,network,base_fee_gwei\n2023-05-01,ethereum,12\n');
      assert.equal(loadGasCsv(f).perNetwork.ethereum![0]!.unixSec, Date.parse('2023-05-01T00:00:00Z') / 1000);
      fs.writeFileSync(f, 'timestamp,network,base_fee_gwei\n1700000000,ethereum,-1\n');
      assert.throws(() => loadGasCsv(f), (e: unknown) => e instanceof HistoryFormatError && e.message.includes(`${f}:2`) && /not a non-negative decimal/.test(e.message));
      fs.writeFileSync(f, 'timestamp,network,gas\n1700000000,ethereum,1\n');
      assert.throws(() => loadGasCsv(f), /no base fee column \(expected one of base_fee_gwei\)/);
      assert.throws(() => gweiToWei('0.0000000001', 'x'), /more than 9 decimals/);
      assert.equal(gweiToWei('.5', 'x'), 500_000_000n);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const haveFixtures = fixturePath(AAVE_RATES_FIXTURE) !== undefined && loadFeedHistory('eth_usd', ETH_USD_DECIMALS) !== undefined;
describe('--symbol on the fixtures', { skip: haveFixtures ? false : `fixtures absent (${AAVE_RATES_FIXTURE} and prices/eth_usd_*.csv under BALLAST_FIXTURES_DIR or ../shared/fixtures)` }, () => {
  test('filters the fixtures\' assets by symbol; a symbol the fixtures lack is refused with the ones they have', async () => {
    const r = await runCaptured(['backtest', '--symbol', 'USDC', '--days', '1', '--planners', 'static', '--no-bound', '--json', '--out', fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-sym-'))]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { assets: { symbol: string; sources: { gas: string } }[] };
    assert.deepEqual(j.assets.map((a) => a.symbol), ['USDC']);
    assert.match(j.assets[0]!.sources.gas, /SYNTHETIC gas history/);
    assert.throws(() => loadBacktestAssets({ days: 1, symbols: ['DAI'] }), /the fixtures' assets are USDC, stETH/);
  });
});
