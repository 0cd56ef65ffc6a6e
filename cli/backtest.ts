/**
 * `ballast backtest`: replays a history (the fixtures' Aave v3 utilization and supply rates on up to 13 chains with
 * Chainlink ETH/USD and stETH/ETH, or any `--history` CSV in the documented shape, backtest/csv.ts) through the
 * planners of the registry (backtest/planners.ts: static, greedy, optimal, yield) with the bridge latency and fee
 * model of backtest/model.ts, solves the perfect-foresight bound (backtest/bound.ts), scores each planner against
 * it (backtest/scores.ts) and writes report.md, report.json, transfers.csv and utilization.png.
 *
 *   ballast backtest [--fixtures DIR] [--history FILE [--prices FILE] [--price-decimals N]] [--symbol S,…]
 *                    [--out DIR] [--planners all|static,greedy,optimal,yield] [--planner both|greedy|optimal]
 *                    [--days N] [--json] [--step-sec S] [--time-limit-ms MS] [--no-bound] [--bound-time-limit-ms MS]
 *                    [--synthetic] [--oracle-reanchor-rounds N] [--oracle-max-deviation-bps BPS]
 *                    [--gas-history FILE] [--no-gas-timing] [--gas-percentile P] [--gas-window-sec S] [--batch-max-fixed-fee-bps BPS]
 *
 * `--planner` is the earlier option (greedy and/or optimal); static is then run too, as the scores' reference.
 * `--symbol` picks assets: of the `--history` file, or of the fixtures (`USDC`, `stETH`).
 * Gas: `--gas-history FILE` (backtest/csv.ts: timestamp|date, network, base_fee_gwei) prices each step's fixed fees at
 * the base fees of the file; without it a SYNTHETIC series (backtest/model.ts `syntheticGasHistory`, labelled so in the
 * report). Gas timing (planner/timing.ts) is on for the yield planner: a transfer to a chain not in need waits while its
 * source's base fee is above the `--gas-percentile` (50) of the last `--gas-window-sec` (86 400) s, or while its
 * fixed fee is more than `--batch-max-fixed-fee-bps` (10) of its amount; `--no-gas-timing` sends every plan as planned.
 *
 * Exit status: 0 report written; 1 with the reason (fixtures absent without --synthetic, a planner error);
 * 2 usage (a bad option value).
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { fixturesDir } from '../config/fixtures.js';
import { loadBacktestAssets } from '../backtest/history.js';
import { runBacktest, type PlannerName } from '../backtest/run.js';
import { summaryRows, writeBacktestReport } from '../backtest/report.js';
import { parsePlannerList } from '../backtest/planners.js';
import { scoreTable } from '../backtest/scores.js';
import type { CliContext, CliIo } from './io.js';

interface BacktestOpts {
  fixtures?: string;
  out: string;
  planner?: 'both' | 'greedy' | 'optimal';
  planners?: PlannerName[];
  history?: string;
  prices?: string;
  priceDecimals?: number;
  symbol?: string;
  bound: boolean;
  boundTimeLimitMs: number;
  days?: number;
  json?: boolean;
  stepSec: number;
  timeLimitMs: number;
  synthetic?: boolean;
  /** The oracle guard's re-anchor rounds (planner/oracle.ts `guardOracle`); absent = the keeper default. */
  oracleReanchorRounds?: number;
  /** Overrides every feed's oracle maxDeviationBps (what-if). */
  oracleMaxDeviationBps?: number;
  gasHistory?: string;
  /** `--no-gas-timing` sets false. */
  gasTiming: boolean;
  gasPercentile: number;
  gasWindowSec: number;
  batchMaxFixedFeeBps: number;
}

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be a positive integer (got "${v}")`);
  return n;
};
const reanchorRounds = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n === 1 || n > 100) throw new InvalidArgumentError(`must be 0 (never re-anchor) or an integer 2..100 (got "${v}")`);
  return n;
};
const nonNegativeInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be an integer ≥ 0 (got "${v}")`);
  return n;
};
const percentile = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError(`must be an integer 1..100 (got "${v}")`);
  return n;
};
const bps = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || Math.round(n * 100) !== n * 100) throw new InvalidArgumentError(`must be a number of bps ≥ 0, a multiple of 0.01 (got "${v}")`);
  return n;
};
const plannerList = (v: string): PlannerName[] => {
  try {
    return parsePlannerList(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const plannerChoice = (v: string): NonNullable<BacktestOpts['planner']> => {
  if (v !== 'both' && v !== 'greedy' && v !== 'optimal') throw new InvalidArgumentError(`must be both, greedy or optimal (got "${v}")`);
  return v;
};

/** Aligned plain-text table. */
function textTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

/**
 * Registers `ballast backtest` on the program; its action prints the summary (or JSON) through `ctx.io.out` and
 * its progress through `ctx.io.err`.
 * `--fixtures` sets `BALLAST_FIXTURES_DIR` (which config/fixtures.ts reads) for the duration of the run only.
 * @throws BacktestDataError (from the action) naming the missing fixture files, unless --synthetic; Error when
 *   no asset has enough history.
 */
export function registerBacktest(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('backtest')
    .description('replay the real fixtures history (Aave v3 rates, Chainlink ETH/USD, stETH/ETH) through the optimal and greedy planners; write a report')
    .option('--fixtures <dir>', 'fixtures folder (default: BALLAST_FIXTURES_DIR or <repo>/../shared/fixtures)')
    .option('--out <dir>', 'report folder', 'backtest-out')
    .option('--planners <list>', 'all, or a comma list of static, greedy, optimal, yield (default all)', plannerList)
    .option('--planner <which>', 'earlier option: both, greedy or optimal (static runs too, as the reference)', plannerChoice)
    .option('--history <file>', 'a history CSV (date|timestamp, network, symbol, utilization, liquidity_rate; README "backtest") instead of the fixtures')
    .option('--prices <file>', 'with --history: Chainlink-shaped price rounds (roundId, answer, startedAt, updatedAt, answeredInRound)')
    .option('--price-decimals <n>', 'decimals of --prices answers', nonNegativeInt, 8)
    .option('--symbol <list>', 'only these symbols (comma list): of the --history file, or of the fixtures (USDC, stETH)')
    .option('--gas-history <file>', 'base fees per chain (CSV: timestamp|date, network, base_fee_gwei; README "backtest"); default a SYNTHETIC series')
    .option('--no-gas-timing', 'send the yield planner\'s plans as planned (no gas timing or batching), for comparison')
    .option('--gas-percentile <p>', 'gas timing: a non-urgent transfer waits while its source\'s base fee is above this percentile of its window', percentile, 50)
    .option('--gas-window-sec <s>', 'gas timing: the base-fee window (seconds)', positiveInt, 86_400)
    .option('--batch-max-fixed-fee-bps <bps>', 'batching: a non-urgent transfer waits while its fixed fee is more than this many bps of its amount', bps, 10)
    .option('--no-bound', 'skip the perfect-foresight bound')
    .option('--bound-time-limit-ms <ms>', 'HiGHS budget of each of the bound\'s two solves', positiveInt, 20_000)
    .option('--days <n>', 'replay only the first N days', positiveInt)
    .option('--step-sec <s>', 'simulation step (seconds)', positiveInt, 3600)
    .option('--time-limit-ms <ms>', 'MILP budget of one optimal plan', positiveInt, 300)
    .option('--oracle-reanchor-rounds <n>', 'oracle guard: agreeing rounds that re-anchor the deviation reference (0 = never, the guard before issue 14; default 3)', reanchorRounds)
    .option('--oracle-max-deviation-bps <bps>', "oracle guard: override every feed's maxDeviationBps (what-if; default the feed's: ETH/USD 500, stETH/ETH 200)", positiveInt)
    .option('--synthetic', 'where fixtures are absent, run a clearly labelled SYNTHETIC history instead of failing')
    .option('--json', 'print the report as JSON instead of the summary table')
    .action(async (o: BacktestOpts) => {
      const hadFixturesEnv = 'BALLAST_FIXTURES_DIR' in process.env;
      const savedFixturesEnv = process.env.BALLAST_FIXTURES_DIR;
      if (o.fixtures) process.env.BALLAST_FIXTURES_DIR = path.resolve(o.fixtures);
      try {
        await backtestAction(o, io);
      } finally {
        if (hadFixturesEnv) process.env.BALLAST_FIXTURES_DIR = savedFixturesEnv;
        else delete process.env.BALLAST_FIXTURES_DIR;
      }
    });
}

/**
 * Loads the history, runs the planners and writes the report (BALLAST_FIXTURES_DIR already set).
 * @throws BacktestDataError naming the missing fixture files (unless --synthetic).
 */
async function backtestAction(o: BacktestOpts, io: CliIo): Promise<void> {
  const planners: PlannerName[] = o.planners ?? (o.planner === undefined ? parsePlannerList('all') : o.planner === 'both' ? ['static', 'greedy', 'optimal'] : ['static', o.planner]);
  if (o.history === undefined && o.prices !== undefined) throw new Error('backtest: --prices goes with --history FILE');
  const log = (m: string): void => io.err(m);
  const t0 = performance.now();
  // Throws BacktestDataError (one line, naming the missing files) before any progress line is printed.
  const loaded = loadBacktestAssets({
    days: o.days,
    synthetic: o.synthetic,
    ...(o.history !== undefined ? { historyFile: o.history, priceDecimals: o.priceDecimals } : {}),
    ...(o.prices !== undefined ? { pricesFile: o.prices } : {}),
    ...(o.symbol !== undefined ? { symbols: o.symbol.split(',').map((x) => x.trim()).filter((x) => x !== '') } : {}),
    ...(o.gasHistory !== undefined ? { gasHistoryFile: o.gasHistory } : {}),
  });
  log(`[backtest] history from ${o.history !== undefined ? path.resolve(o.history) : fixturesDir()}`);
  for (const n of loaded.notes) log(`[backtest] note: ${n}`);
  if (loaded.assets.length === 0) throw new Error('backtest: no asset has enough history to replay (see the notes above)');
  for (const a of loaded.assets) log(`[backtest] ${a.symbol}: ${a.networks.length} chains, ${a.days.length} days (${a.days[0]} .. ${a.days[a.days.length - 1]})${a.source === 'synthetic' ? ' SYNTHETIC' : ''}`);
  for (const a of loaded.assets) log(`[backtest] ${a.symbol}: gas ${a.sources.gas ?? 'SYNTHETIC gas history'}`);
  const gasTiming = o.gasTiming
    ? { planners: ['yield'] as PlannerName[], policy: { gas: { percentile: o.gasPercentile, windowSec: o.gasWindowSec }, batching: { maxFixedFeeBps: o.batchMaxFixedFeeBps } } }
    : (false as const);
  const gasTimingText = o.gasTiming
    ? `on for yield: waits above p${o.gasPercentile} of the source's base fee over ${o.gasWindowSec} s, or while the fixed fee > ${o.batchMaxFixedFeeBps} bps of the amount`
    : 'off (--no-gas-timing)';
  const results = await runBacktest(loaded.assets, {
    planners,
    stepSec: o.stepSec,
    timeLimitMs: o.timeLimitMs,
    onProgress: log,
    bound: o.bound ? { timeLimitMs: o.boundTimeLimitMs } : false,
    gasTiming,
    ...(o.oracleReanchorRounds !== undefined ? { oracleReanchorRounds: o.oracleReanchorRounds } : {}),
    ...(o.oracleMaxDeviationBps !== undefined ? { oracleMaxDeviationBps: o.oracleMaxDeviationBps } : {}),
  });
  const wallSec = Math.round((performance.now() - t0) / 100) / 10;
  const { report, files } = writeBacktestReport(results, path.resolve(o.out), {
    fixturesDir: o.history !== undefined ? path.dirname(path.resolve(o.history)) : fixturesDir(),
    planners,
    stepSec: o.stepSec,
    timeLimitMs: o.timeLimitMs,
    daysRequested: o.days,
    notes: loaded.notes,
    wallSec,
    gasTiming: gasTimingText,
  });
  if (o.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const a of report.assets) {
    io.out(`\n${a.symbol}${a.source === 'synthetic' ? ' (SYNTHETIC)' : ''}: ${a.networks.length} chains, ${a.days} days (${a.firstDay} .. ${a.lastDay}), step ${o.stepSec} s`);
    io.out(`source: ${a.sources.history}; prices ${a.sources.prices}; gas ${a.sources.gas}`);
    const sc = scoreTable(a.symbol, a.scores);
    io.out(textTable(sc.head, sc.rows));
    for (const [p, why] of Object.entries(a.scores.skippedPlanners)) io.out(`planner ${p} left out: ${why}`);
    if (!a.scores.bound) io.out(`bound: none (${a.scores.boundMissing ?? 'not computed'})`);
    const fc = a.scores.forecast;
    if (fc && !('unavailable' in fc)) io.out(`utilization forecast ${fc.horizonSec / 3600} h ahead: MAE ${fc.maePct} pp, RMSE ${fc.rmsePct} pp`);
    const s = summaryRows(a);
    io.out('');
    io.out(textTable(s.head, s.rows));
  }
  io.out(`\nReport (${wallSec} s): ${files.markdown}\n        ${files.json}\n        ${files.png} (${report.chart.widthPx}×${report.chart.heightPx})\n        ${files.csv}`);
}
