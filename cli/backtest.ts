/**
 * `ballast backtest`: replays the fixtures' real history (Aave v3 utilization on up to 13 chains, Chainlink
 * ETH/USD and stETH/ETH) through the greedy and the optimal planner with the bridge latency and fee model of
 * backtest/model.ts, and writes report.md, report.json, transfers.csv and utilization.png.
 *
 *   ballast backtest [--fixtures DIR] [--out DIR] [--planner both|greedy|optimal] [--days N] [--json]
 *                    [--step-sec S] [--time-limit-ms MS] [--synthetic]
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
import type { CliContext, CliIo } from './io.js';

interface BacktestOpts {
  fixtures?: string;
  out: string;
  planner: 'both' | PlannerName;
  days?: number;
  json?: boolean;
  stepSec: number;
  timeLimitMs: number;
  synthetic?: boolean;
}

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be a positive integer (got "${v}")`);
  return n;
};
const plannerChoice = (v: string): BacktestOpts['planner'] => {
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
    .option('--planner <which>', 'both, greedy or optimal', plannerChoice, 'both')
    .option('--days <n>', 'replay only the first N days', positiveInt)
    .option('--step-sec <s>', 'simulation step (seconds)', positiveInt, 3600)
    .option('--time-limit-ms <ms>', 'MILP budget of one optimal plan', positiveInt, 300)
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
  const planners: PlannerName[] = o.planner === 'both' ? ['greedy', 'optimal'] : [o.planner];
  const log = (m: string): void => io.err(m);
  const t0 = performance.now();
  // Throws BacktestDataError (one line, naming the missing files) before any progress line is printed.
  const loaded = loadBacktestAssets({ days: o.days, synthetic: o.synthetic });
  log(`[backtest] history from ${fixturesDir()}`);
  for (const n of loaded.notes) log(`[backtest] note: ${n}`);
  if (loaded.assets.length === 0) throw new Error('backtest: no asset has enough history to replay (see the notes above)');
  for (const a of loaded.assets) log(`[backtest] ${a.symbol}: ${a.networks.length} chains, ${a.days.length} days (${a.days[0]} .. ${a.days[a.days.length - 1]})${a.source === 'synthetic' ? ' SYNTHETIC' : ''}`);
  const results = await runBacktest(loaded.assets, { planners, stepSec: o.stepSec, timeLimitMs: o.timeLimitMs, onProgress: log });
  const wallSec = Math.round((performance.now() - t0) / 100) / 10;
  const { report, files } = writeBacktestReport(results, path.resolve(o.out), {
    fixturesDir: fixturesDir(),
    planners,
    stepSec: o.stepSec,
    timeLimitMs: o.timeLimitMs,
    daysRequested: o.days,
    notes: loaded.notes,
    wallSec,
  });
  if (o.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const a of report.assets) {
    io.out(`\n${a.symbol}${a.source === 'synthetic' ? ' (SYNTHETIC)' : ''}: ${a.networks.length} chains, ${a.days} days (${a.firstDay} .. ${a.lastDay}), step ${o.stepSec} s`);
    const s = summaryRows(a);
    io.out(textTable(s.head, s.rows));
  }
  io.out(`\nReport (${wallSec} s): ${files.markdown}\n        ${files.json}\n        ${files.png} (${report.chart.widthPx}×${report.chart.heightPx})\n        ${files.csv}`);
}
