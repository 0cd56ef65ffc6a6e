/**
 * backtest/: the engine, the bridge model and the report, on a short window of the REAL fixtures (skipped with
 * the reason when they are absent), plus the absent-fixtures paths (fail without --synthetic, labelled
 * synthetic run with it).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixturePath } from '../../config/fixtures.js';
import { AAVE_RATES_FIXTURE, loadInvalidRounds, loadFeedHistory, ETH_USD_DECIMALS } from '../../devnet/marketData.js';
import { planGreedyOnEdges, UNMET_NEED_WEIGHT } from '../../planner/optimal.js';
import { BacktestDataError, loadBacktestAssets, roundAt } from '../../backtest/history.js';
import { runBacktest, utilizationAt, type AssetResult, type PlanEvent } from '../../backtest/run.js';
import { defaultBridges, weiToAssetUnits } from '../../backtest/model.js';
import { writeBacktestReport, formatUnits, type BacktestReport } from '../../backtest/report.js';
import { WAD } from '../../planner/types.js';
import { runCaptured } from '../../cli/main.js';

const DAYS = 3;
const haveFixtures = fixturePath(AAVE_RATES_FIXTURE) !== undefined && loadFeedHistory('eth_usd', ETH_USD_DECIMALS) !== undefined;
const skip = haveFixtures ? false : `fixtures absent (${AAVE_RATES_FIXTURE} and prices/eth_usd_*.csv under BALLAST_FIXTURES_DIR or ../shared/fixtures)`;

/** Runs `fn` with BALLAST_FIXTURES_DIR set to `dir`, restoring the previous value after. */
function withFixturesDir<T>(dir: string, fn: () => T): T {
  const saved = process.env.BALLAST_FIXTURES_DIR;
  process.env.BALLAST_FIXTURES_DIR = dir;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.BALLAST_FIXTURES_DIR;
    else process.env.BALLAST_FIXTURES_DIR = saved;
  }
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

describe('backtest on the real fixtures (first days)', { skip }, () => {
  let results: AssetResult[];
  const events: PlanEvent[] = [];
  let out: string;
  let report: BacktestReport;
  let files: { markdown: string; json: string; png: string; csv: string };

  before(async () => {
    const { assets, notes } = loadBacktestAssets({ days: DAYS });
    results = await runBacktest(assets, { planners: ['greedy', 'optimal'], timeLimitMs: 200, onPlan: (e) => events.push(e), bound: false, forecast: false });
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-backtest-'));
    ({ report, files } = writeBacktestReport(results, out, { fixturesDir: 'test', planners: ['greedy', 'optimal'], stepSec: 3600, timeLimitMs: 200, daysRequested: DAYS, notes, wallSec: 0 }));
  });
  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  test('replays USDC (ETH/USD oracle) and the depeg-sensitive stETH asset (stETH/ETH oracle) over the requested days', () => {
    const usdc = results.find((r) => r.symbol === 'USDC');
    assert.ok(usdc, 'a USDC asset');
    assert.equal(usdc.days, DAYS);
    assert.ok(usdc.networks.length >= 2, `several chains (got ${usdc.networks.join(', ')})`);
    assert.equal(usdc.feed.name, 'ETH/USD');
    assert.equal(usdc.source, 'fixture');
    assert.equal(usdc.runs.greedy!.steps, DAYS * 24);
    if (loadFeedHistory('steth_eth', 18) !== undefined) assert.equal(results.find((r) => r.symbol === 'stETH')?.feed.name, 'stETH/ETH');
  });

  test('writes report.md, report.json, transfers.csv and a PNG of the stated size', () => {
    for (const f of Object.values(files)) assert.ok(fs.statSync(f).size > 0, `${f} written`);
    const png = fs.readFileSync(files.png);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR', 'first chunk is IHDR');
    assert.equal(png.readUInt32BE(16), report.chart.widthPx, 'IHDR width = stated width');
    assert.equal(png.readUInt32BE(20), report.chart.heightPx, 'IHDR height = stated height');
    assert.ok(report.chart.widthPx >= 800 && report.chart.heightPx >= 400, `a readable size (${report.chart.widthPx}×${report.chart.heightPx})`);
    const json = JSON.parse(fs.readFileSync(files.json, 'utf8')) as BacktestReport;
    assert.equal(json.assets.length, results.length);
    const md = fs.readFileSync(files.markdown, 'utf8');
    for (const a of results) assert.match(md, new RegExp(`## ${a.symbol}`));
    assert.match(md, /optimal \/ greedy/);
    assert.match(md, /utilization\.png/);
  });

  test('volume and fees are the sums of the executed transfers; every fee is the quoted fixed fee + ceil(bps · amount) ≥ 0', () => {
    for (const a of results) {
      for (const run of Object.values(a.runs)) {
        assert.equal(run.totals.volume, run.transfers.reduce((s, t) => s + t.amount, 0n), `${a.symbol}/${run.planner} volume`);
        assert.equal(run.totals.fees, run.transfers.reduce((s, t) => s + t.fee, 0n), `${a.symbol}/${run.planner} fees`);
        assert.equal(run.totals.transfers, run.transfers.length);
        const j = report.assets.find((x) => x.symbol === a.symbol)!.planners[run.planner]!;
        assert.equal(j.volume.baseUnits, run.totals.volume.toString(), 'report.json volume');
        assert.equal(j.fees.baseUnits, run.totals.fees.toString(), 'report.json fees');
      }
    }
    let checked = 0;
    for (const e of events) {
      for (const t of e.transfers) {
        const edge = e.input.edges.find((x) => x.from === t.from && x.to === t.to && x.bridge === t.bridge);
        assert.ok(edge, `transfer ${t.from}→${t.to} over ${t.bridge} has a quote at step ${e.step}`);
        const expected = edge.fixedFee + ceilDiv(BigInt(Math.round(edge.feeBps * 100)) * t.amount, 1_000_000n);
        assert.equal(t.fee, expected, `fee of ${t.from}→${t.to} at step ${e.step}`);
        assert.ok(t.fee >= 0n && edge.fixedFee > 0n);
        checked++;
      }
    }
    assert.ok(checked > 0, 'some transfers were made in the window');
  });

  test('each run conserves supply: Σ supplied + in flight at the end = at the start', () => {
    for (const a of results) {
      for (const run of Object.values(a.runs)) {
        assert.equal(run.totals.suppliedEnd + run.totals.inFlightEnd, run.totals.suppliedStart, `${a.symbol}/${run.planner}`);
        assert.equal(run.perChain.reduce((s, c) => s + c.finalSupplied, 0n), run.totals.suppliedEnd);
      }
    }
  });

  test('on the same input, the optimal plan costs no more than greedy\'s (1000 × unmet need + fees, within 1 base unit per transfer of rounding)', () => {
    const withMoves = events.filter((e) => e.planner === 'optimal' && e.transfers.length > 0);
    assert.ok(withMoves.length > 0);
    for (const e of withMoves) {
      const g = planGreedyOnEdges(e.input);
      const cost = (t: { fees: bigint; shortfall: bigint }): bigint => UNMET_NEED_WEIGHT * t.shortfall + t.fees;
      assert.ok(cost(e.totals) <= cost(g.totals) + BigInt(e.transfers.length), `${e.asset} step ${e.step}: optimal ${cost(e.totals)} > greedy ${cost(g.totals)}`);
    }
  });

  test('the real all-zero ETH/USD round is current at step 0 and leaves every USDC chain out of planning there', () => {
    const zero = loadInvalidRounds().rounds.find((r) => r.answer === 0n && r.updatedAtSec === 0n);
    assert.ok(zero, 'the fixture holds an all-zero round');
    for (const planner of ['greedy', 'optimal'] as const) {
      const e = events.find((x) => x.asset === 'USDC' && x.planner === planner && x.step === 0)!;
      assert.equal(e.round.roundId, zero.roundId, 'step 0 reads the all-zero round');
      for (const c of e.input.chains) {
        assert.equal(c.oracleCheck.ok, false, `${c.chainKey} refused at step 0`);
        assert.match(c.oracleCheck.reason ?? '', /invalid answer: 0/);
      }
      assert.equal(e.transfers.length, 0, 'nothing planned with every chain left out');
      // The next round is published 22.6 h into day 0: from then on the chains are planned again.
      const later: PlanEvent = events.find((x) => x.asset === 'USDC' && x.planner === planner && x.round.roundId > zero.roundId)!;
      assert.ok(later.step > 0 && later.input.chains.every((c) => c.oracleCheck.ok), `chains accepted again at step ${later.step}`);
      const run = results.find((r) => r.symbol === 'USDC')!.runs[planner]!;
      for (const c of run.perChain) assert.equal(c.firstExclusion?.step, 0, `${c.chain}: first exclusion at step 0`);
      assert.ok(run.perChain.every((c) => c.excludedSteps >= later.step), 'excluded at least until the next round');
      assert.deepEqual({ from: run.exclusionSpans[0]?.fromStep, to: run.exclusionSpans[0]?.toStep }, { from: 0, to: later.step - 1 }, 'the first exclusion span is the zero round');
    }
  });
});

describe('backtest without fixtures', () => {
  let empty: string;
  before(() => {
    empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-nofixtures-'));
  });
  after(() => fs.rmSync(empty, { recursive: true, force: true }));

  test('loading fails with the missing files named, unless a synthetic run is asked for', () => {
    withFixturesDir(empty, () => {
      assert.throws(() => loadBacktestAssets({ days: 2 }), (e: unknown) => e instanceof BacktestDataError && /not found/.test(e.message) && e.message.includes(empty) && /--synthetic/.test(e.message));
      const { assets } = loadBacktestAssets({ days: 2, synthetic: true });
      assert.equal(assets.length, 1, 'USDC only (no synthetic stETH)');
      assert.equal(assets[0]!.source, 'synthetic');
      assert.match(assets[0]!.label, /SYNTHETIC/);
      assert.equal(assets[0]!.days.length, 2);
    });
  });

  test('`ballast backtest` exits 1 with the reason when the fixtures folder is empty', async () => {
    const before = process.env.BALLAST_FIXTURES_DIR;
    const r = await runCaptured(['backtest', '--fixtures', empty, '--out', path.join(empty, 'out')]);
    assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
    assert.match(r.stderr, /fixture file\(s\) not found/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line naming the missing files: ${r.stderr}`);
    assert.ok(r.stderr.includes(empty), 'the folder is named');
    assert.equal(fs.existsSync(path.join(empty, 'out')), false, 'no report written');
    assert.equal(process.env.BALLAST_FIXTURES_DIR, before, '--fixtures does not outlive the run');
  });
});

describe('backtest model and helpers', () => {
  test('fees in wei convert to base units at the step\'s price, rounded up', () => {
    assert.equal(weiToAssetUnits(10n ** 15n, 6, { kind: 'usd-per-eth' }, 2000_00000000n, 8), 2_000_000n); // 0.001 ETH at 2000 USD = 2 USDC
    assert.equal(weiToAssetUnits(1n, 6, { kind: 'usd-per-eth' }, 2000_00000000n, 8), 1n); // rounded up
    // 1 ETH of fee when 1 stETH = 0.95 ETH → 1/0.95 stETH.
    assert.equal(weiToAssetUnits(10n ** 18n, 18, { kind: 'eth-per-token' }, 95n * 10n ** 16n, 18), ceilDiv(10n ** 36n, 95n * 10n ** 16n));
    assert.throws(() => weiToAssetUnits(1n, 6, { kind: 'usd-per-eth' }, 0n, 8), /≤ 0/);
  });

  test('the two bridges: LayerZero by confirmations × block time, Wormhole by finality; a message to Ethereum costs more', () => {
    const [lz, wh] = defaultBridges();
    assert.equal(lz!.latencySec('ethereum', 'base'), 15 * 12 + 60);
    assert.equal(wh!.latencySec('ethereum', 'base'), 19 * 60 + 60);
    assert.ok(lz!.fixedFeeWei('base', 'ethereum') > lz!.fixedFeeWei('base', 'arbitrum'));
    assert.equal(lz!.feeBps, 0);
    assert.ok(wh!.feeBps > 0);
    assert.throws(() => lz!.latencySec('nowhere', 'base'), /no bridge parameters for chain "nowhere"/);
  });

  test('utilization is interpolated linearly between daily values and held after the last', () => {
    const p = [WAD / 2n, WAD];
    assert.equal(utilizationAt(p, 0), WAD / 2n);
    assert.equal(utilizationAt(p, 43_200), (WAD * 3n) / 4n);
    assert.equal(utilizationAt(p, 10 * 86_400), WAD);
  });

  test('a feed replay returns the last round published by then, and an all-zero round before the first', () => {
    const rounds = [
      { roundId: 1n, answer: 0n, startedAtSec: 0n, updatedAtSec: 0n, answeredInRound: 1n },
      { roundId: 2n, answer: 5n, startedAtSec: 1000n, updatedAtSec: 1000n, answeredInRound: 2n },
      { roundId: 3n, answer: 6n, startedAtSec: 2000n, updatedAtSec: 2000n, answeredInRound: 3n },
    ];
    const feed = { name: 'T', file: 't', decimals: 8, rounds, publishedSec: [-1n, 1000n, 2000n], originSec: 0n, lastPublishedSec: 2000n, limits: { maxStalenessSec: 1, maxDeviationBps: 1 }, conversion: { kind: 'usd-per-eth' as const } };
    assert.equal(roundAt(feed, 999n).roundId, 1n);
    assert.equal(roundAt(feed, 1000n).roundId, 2n);
    assert.equal(roundAt(feed, 5000n).roundId, 3n);
    assert.equal(roundAt({ ...feed, publishedSec: [500n, 1000n, 2000n] }, 10n).roundId, 0n);
  });

  test('amounts are formatted from base units without floats', () => {
    assert.equal(formatUnits(1_234_567_891n, 6, 2), '1,234.56');
    assert.equal(formatUnits(5n, 18, 4), '0.0000');
    assert.equal(formatUnits(-1_500_000n, 6, 1), '-1.5');
  });
});
