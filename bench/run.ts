/**
 * `npm run bench [-- --quick | --full] [--json] [--time-limit-ms N] [--seeds N] [--days N] [--chains 4,8,16] [--assets N]`
 *
 * Optimal (planner/optimal.ts, HiGHS MILP) vs greedy (planner/greedy.ts on the same bridges,
 * `planGreedyOnEdges`), side by side, on
 * 1. generated instances: 4, 8, 16, 32, 64 chains × 1..8 assets × seeds (bench/instances.ts), 2 bridges;
 * 2. a replay of the Aave v3 daily utilization history (bench/replay.ts), skipped with a note when the
 *    fixture is absent.
 * Each planner runs in its own worker process (bench/worker.ts), one after the other, so that each peak RSS
 * is that planner's own and the two never compete for the CPU.
 * Figures, optimal and greedy side by side with the ratio optimal/greedy: total fees, volume moved, chains
 * left out of band, plan time p50/p95 per tick (all assets of a tick planned one after the other), the
 * worker's peak RSS; plus the solver's gap, and per chain count how many instances proved a gap ≤ 0.1%
 * within 1 s (on the weighted objective, and proven optimal on unmet need AND fees: the certificate's `optimal`).
 * Rules: both planners play by the same message rule, `several` messages per (route, bridge) when maxTransfer
 * binds (planner/routing.ts); on the 4- and 8-chain instances both also run under the earlier `one` message per
 * ordered pair, and the bench prints unmet need and fees under each rule. No pass/fail: the bench reports, it
 * does not judge. `--json` prints the same figures as one JSON object.
 *
 * Each asset is one instance; a tick with k assets plans assets 0..k−1 of the same chain count and seed, so
 * the per-asset solves are shared between the 1..8-asset rows (each solved once). Fees and volumes are
 * summed in whole tokens of each asset (assets have 6, 8 or 18 decimals).
 */
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Solve, WorkerOutput, WorkerSettings } from './worker.js';

interface Args {
  json: boolean;
  quick: boolean;
  full: boolean;
  timeLimitMs: number;
  seeds: number;
  days: number;
  /** Chain counts to run (default by mode). */
  chains: number[];
  /** Most assets per tick (default by mode). */
  assets: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { json: false, quick: false, full: false, timeLimitMs: 1000, seeds: 0, days: 0, chains: [], assets: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`bench: ${k} needs a positive number (got '${argv[i] ?? ''}')`);
      return v;
    };
    if (k === '--json') a.json = true;
    else if (k === '--quick') a.quick = true;
    else if (k === '--full') a.full = true;
    else if (k === '--time-limit-ms') a.timeLimitMs = num();
    else if (k === '--seeds') a.seeds = Math.floor(num());
    else if (k === '--days') a.days = Math.floor(num());
    else if (k === '--assets') a.assets = Math.min(8, Math.floor(num()));
    else if (k === '--chains') {
      a.chains = (argv[++i] ?? '').split(',').map(Number);
      if (a.chains.length === 0 || a.chains.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`bench: --chains needs chain counts ≥ 2 separated by commas (got '${argv[i] ?? ''}')`);
    } else throw new Error(`bench: unknown argument '${k}'. Use --quick, --full, --json, --time-limit-ms N, --seeds N, --days N, --chains 4,8, --assets N`);
  }
  if (a.seeds === 0) a.seeds = a.quick ? 1 : a.full ? 5 : 3;
  if (a.days === 0) a.days = a.quick ? 60 : a.full ? 100_000 : 180;
  return a;
}

/** Runs one planner's worker (bench/worker.ts) to completion and parses its JSON line. */
function runWorker(settings: WorkerSettings): Promise<WorkerOutput> {
  const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench: the ${settings.planner} worker exited with code ${code} (its error is above)`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as WorkerOutput);
      } catch (e) {
        reject(new Error(`bench: the ${settings.planner} worker printed no result line (${(e as Error).message})`));
      }
    });
  });
}

/** Both planners' results on one asset instance. */
interface Pair {
  greedy: Solve;
  optimal: Solve;
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}
const ratio = (o: number, g: number): number | null => (g === 0 ? (o === 0 ? 1 : null) : o / g);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const side = (o: number, g: number) => ({ optimal: r3(o), greedy: r3(g), ratio: ratio(o, g) });

/** Side-by-side figures of one row (a config or a replay asset). */
interface Row {
  label: string;
  ticks: number;
  fees: { optimal: number; greedy: number; ratio: number | null };
  volume: { optimal: number; greedy: number; ratio: number | null };
  outOfBand: { optimal: number; greedy: number; ratio: number | null };
  planMs: { p50: { optimal: number; greedy: number; ratio: number | null }; p95: { optimal: number; greedy: number; ratio: number | null } };
  gapPct: { max: number; p95: number };
  provedOptimal: string;
  solverPlanChosen: string;
  meanEdges: number;
}

function row(label: string, ticks: Pair[][]): Row {
  const all = ticks.flat();
  const sum = (f: (p: Pair) => number): number => all.reduce((s, p) => s + f(p), 0);
  const tickO = ticks.map((t) => t.reduce((s, p) => s + p.optimal.timeMs, 0));
  const tickG = ticks.map((t) => t.reduce((s, p) => s + p.greedy.timeMs, 0));
  const gaps = all.map((p) => p.optimal.gapPct ?? 0);
  return {
    label,
    ticks: ticks.length,
    fees: side(sum((p) => p.optimal.fees), sum((p) => p.greedy.fees)),
    volume: side(sum((p) => p.optimal.volume), sum((p) => p.greedy.volume)),
    outOfBand: side(sum((p) => p.optimal.outOfBand), sum((p) => p.greedy.outOfBand)),
    planMs: { p50: side(quantile(tickO, 0.5), quantile(tickG, 0.5)), p95: side(quantile(tickO, 0.95), quantile(tickG, 0.95)) },
    gapPct: { max: Math.max(0, ...gaps), p95: quantile(gaps, 0.95) },
    provedOptimal: `${all.filter((p) => p.optimal.optimal).length}/${all.length}`,
    solverPlanChosen: `${all.filter((p) => p.optimal.chosen === 'solver').length}/${all.length}`,
    meanEdges: Math.round(sum((p) => p.optimal.edges ?? 0) / Math.max(1, all.length)),
  };
}

function printRows(title: string, rows: readonly Row[]): void {
  const f = (x: number | null, d = 3): string => (x === null ? 'n/a' : x.toFixed(d));
  const big = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1));
  const ms = (x: number): string => (x >= 10 ? x.toFixed(0) : x.toFixed(1));
  console.log(`\n${title}`);
  const head = ['instance', 'ticks', 'fees opt', 'fees greedy', 'o/g', 'volume opt', 'volume greedy', 'o/g', 'out-of-band opt/greedy', 'o/g', 'plan ms opt p50/p95', 'plan ms greedy p50/p95', 'gap% max', 'proved', 'edges'];
  const lines = rows.map((r) => [
    r.label,
    String(r.ticks),
    big(r.fees.optimal),
    big(r.fees.greedy),
    f(r.fees.ratio),
    big(r.volume.optimal),
    big(r.volume.greedy),
    f(r.volume.ratio),
    `${r.outOfBand.optimal}/${r.outOfBand.greedy}`,
    f(r.outOfBand.ratio),
    `${ms(r.planMs.p50.optimal)}/${ms(r.planMs.p95.optimal)}`,
    `${ms(r.planMs.p50.greedy)}/${ms(r.planMs.p95.greedy)}`,
    r.gapPct.max.toFixed(4),
    r.provedOptimal,
    String(r.meanEdges),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const chainCounts = args.chains.length > 0 ? args.chains : args.quick ? [4, 8, 16] : [4, 8, 16, 32, 64];
  const assetCounts = Array.from({ length: args.assets > 0 ? args.assets : args.quick ? 2 : 8 }, (_, i) => i + 1);
  const maxAssets = Math.max(...assetCounts);
  const settings = (planner: WorkerSettings['planner'], rule: 'one' | 'several' = 'several', counts = chainCounts): WorkerSettings => ({
    planner,
    messagesPerRoute: rule,
    noReplay: rule === 'one',
    chainCounts: counts,
    maxAssets,
    seeds: args.seeds,
    days: args.days,
    timeLimitMs: args.timeLimitMs,
    progress: !args.json,
  });
  // One planner at a time: each has the machine to itself and its own peak RSS.
  const greedy = await runWorker(settings('greedy'));
  const optimal = await runWorker(settings('optimal'));
  // The message rule, before (one per ordered pair) and after (several per (pair, bridge)), on 4 and 8 chains.
  const compareCounts = chainCounts.filter((n) => n <= 8);
  const before = compareCounts.length > 0 ? { greedy: await runWorker(settings('greedy', 'one', compareCounts)), optimal: await runWorker(settings('optimal', 'one', compareCounts)) } : undefined;

  const pair = (id: string): Pair => ({ greedy: greedy.generated[id]!, optimal: optimal.generated[id]! });
  const generated: Row[] = [];
  for (const n of chainCounts) {
    for (const k of assetCounts) {
      const ticks: Pair[][] = [];
      for (let s = 0; s < args.seeds; s++) ticks.push(Array.from({ length: k }, (_, a) => pair(`${n}/${a}/${s}`)));
      generated.push(row(`${n} chains × ${k} asset${k > 1 ? 's' : ''}`, ticks));
    }
  }
  const ids = Object.keys(optimal.generated);
  // Per chain count: instances whose certificate proved a gap ≤ 0.1% within 1 s of plan time, and those proven
  // optimal on unmet need and on fees within 1 s.
  const provedWithin1s = chainCounts.map((n) => {
    const ps = ids.filter((id) => Number(id.split('/')[0]) === n).map((id) => optimal.generated[id]!);
    return {
      chains: n,
      instances: ps.length,
      gapAtMost0_1PctWithin1s: ps.filter((p) => (p.gapPct ?? 0) <= 0.1 && p.timeMs <= 1000).length,
      provenOnFeesAndShortfallWithin1s: ps.filter((p) => p.optimal && p.timeMs <= 1000).length,
      provenOnFeesWithin1s: ps.filter((p) => p.provenFees && p.timeMs <= 1000).length,
      feeGapPctP50: quantile(ps.map((p) => p.feeGapPct ?? 0), 0.5),
      feeGapPctMax: Math.max(0, ...ps.map((p) => p.feeGapPct ?? 0)),
      provedOptimal: ps.filter((p) => p.optimal).length,
      planMsP50: r3(quantile(ps.map((p) => p.timeMs), 0.5)),
      planMsMax: r3(Math.max(0, ...ps.map((p) => p.timeMs))),
      gapPctP50: quantile(ps.map((p) => p.gapPct ?? 0), 0.5),
      gapPctMax: Math.max(0, ...ps.map((p) => p.gapPct ?? 0)),
    };
  });

  const replayRows: Row[] = optimal.replay.assets.map((a, i) => row(a.label, a.ticks.map((o, d) => [{ optimal: o, greedy: greedy.replay.assets[i]!.ticks[d]! }])));
  const replaySolves = optimal.replay.assets.flatMap((a) => a.ticks);
  const aboveGreedy = { generated: ids.filter((id) => optimal.generated[id]!.aboveGreedy).length, replay: replaySolves.filter((t) => t.aboveGreedy).length, instances: ids.length + replaySolves.length };

  // Per chain count and planner, summed over the instances: unmet need and fees under each message rule.
  const sumOf = (out: WorkerOutput, n: number, f: (p: Solve) => number): number =>
    Object.entries(out.generated)
      .filter(([id]) => Number(id.split('/')[0]) === n)
      .reduce((acc, [, p]) => acc + f(p), 0);
  const messageRule = before
    ? compareCounts.map((n) => {
        const side2 = (planner: 'greedy' | 'optimal') => {
          const one = before[planner];
          const several = planner === 'greedy' ? greedy : optimal;
          const moreCovered = Object.keys(one.generated).filter((id) => Number(id.split('/')[0]) === n && several.generated[id]!.shortfall < one.generated[id]!.shortfall - 1e-9).length;
          return {
            unmetNeed: { one: r3(sumOf(one, n, (p) => p.shortfall)), several: r3(sumOf(several, n, (p) => p.shortfall)) },
            fees: { one: r3(sumOf(one, n, (p) => p.fees)), several: r3(sumOf(several, n, (p) => p.fees)) },
            instancesCoveringMore: moreCovered,
          };
        };
        return { chains: n, instances: Object.keys(before.optimal.generated).filter((id) => Number(id.split('/')[0]) === n).length, greedy: side2('greedy'), optimal: side2('optimal') };
      })
    : [];

  // Multi-hop routing as a relaxation (bench/multihop.ts): what routing through a third chain could at most save.
  const multiHop = chainCounts
    .filter((n) => n <= 16)
    .map((n) => {
      const ps = ids.filter((id) => Number(id.split('/')[0]) === n).map((id) => optimal.generated[id]!).filter((p) => p.multiHop !== undefined);
      const sum = (f: (p: Solve) => number): number => r3(ps.reduce((acc, p) => acc + f(p), 0));
      return {
        chains: n,
        instances: ps.length,
        proven: ps.filter((p) => p.multiHop!.status === 'Optimal' || p.multiHop!.status === 'Trivial').length,
        cheaper: ps.filter((p) => p.multiHop!.objective < (p.objective ?? 0) * (1 - 1e-9)).length,
        unmetNeed: { direct: sum((p) => p.shortfall), multiHop: sum((p) => p.multiHop!.shortfall) },
        fees: { direct: sum((p) => p.fees), multiHop: sum((p) => p.multiHop!.fees) },
        forwardedMessages: ps.reduce((acc, p) => acc + p.multiHop!.forwarded, 0),
      };
    });

  const result = {
    multiHop,
    rules: 'both planners: several messages per (route, bridge) when maxTransfer binds (each ≤ maxTransfer, ≤ 4 per (route, bridge), both bridges allowed; together within the donor spare, window and route capacity); the rule comparison also runs the earlier one message per ordered pair',
    messageRule,
    settings: { timeLimitMsPerAssetSolve: args.timeLimitMs, seeds: args.seeds, chainCounts, assetCounts, replayDaysMax: args.days, mode: args.quick ? 'quick' : args.full ? 'full' : 'default' },
    machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}`, loadAvg1m: r3(os.loadavg()[0]!) },
    generated,
    provedWithin1s,
    /** Instances where the optimal plan's exact objective is above greedy's (never, by construction). */
    aboveGreedy,
    replay: { notes: optimal.replay.notes, rows: replayRows },
    peakRssMb: side(optimal.peakRssMb, greedy.peakRssMb),
    workerWallSec: { optimal: optimal.wallSec, greedy: greedy.wallSec },
    wallSec: r3((performance.now() - started) / 1000),
    units: 'fees and volume in whole tokens of each asset, summed over ticks and assets; out-of-band = chains outside their band after the plan, summed over ticks; plan ms per tick = all assets of the tick; ratios are optimal/greedy',
  };
  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`Planner bench: optimal (HiGHS MILP, ${args.timeLimitMs} ms per asset solve) vs greedy on the same bridges. Ratios are optimal/greedy.`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(2)} at the end; ${result.units}`);
  console.log(`Rules: ${result.rules}`);
  printRows(`Generated instances (${args.seeds} seed(s) per row, 2 bridges)`, generated);
  console.log('\nProved gap ≤ 0.1% within 1 s (optimal planner, per chain count):');
  for (const b of provedWithin1s) {
    console.log(`  ${String(b.chains).padStart(2)} chains: ${b.gapAtMost0_1PctWithin1s}/${b.instances} instances; plan ms p50 ${b.planMsP50.toFixed(0)}, max ${b.planMsMax.toFixed(0)}; gap p50 ${b.gapPctP50.toFixed(4)}%, max ${b.gapPctMax.toFixed(4)}%`);
  }
  console.log('Proven optimal on unmet need AND on fees within 1 s (certificate optimal: both gaps ≤ 0.1%):');
  for (const b of provedWithin1s) {
    console.log(`  ${String(b.chains).padStart(2)} chains: ${b.provenOnFeesAndShortfallWithin1s}/${b.instances} instances (on fees: ${b.provenOnFeesWithin1s}); fee gap p50 ${b.feeGapPctP50.toFixed(4)}%, max ${b.feeGapPctMax.toFixed(4)}%`);
  }
  if (messageRule.length > 0) {
    console.log('\nMessage rule: one message per ordered pair (before) vs several per (pair, bridge) (after), summed over the instances, whole tokens:');
    for (const m of messageRule) {
      for (const pl of ['optimal', 'greedy'] as const) {
        const x = m[pl];
        console.log(
          `  ${String(m.chains).padStart(2)} chains, ${pl.padEnd(7)} (${m.instances} instances): unmet need ${x.unmetNeed.one.toFixed(0)} → ${x.unmetNeed.several.toFixed(0)}; fees ${x.fees.one.toFixed(1)} → ${x.fees.several.toFixed(1)}; ${x.instancesCoveringMore} instance(s) cover more`,
        );
      }
    }
  }
  if (multiHop.length > 0) {
    console.log('\nMulti-hop routing as a relaxation (through intermediate chains, delivery sequencing ignored: the most it could save), summed, whole tokens:');
    for (const m of multiHop) {
      console.log(
        `  ${String(m.chains).padStart(2)} chains (${m.instances} instances, ${m.proven} relaxations proven): unmet need ${m.unmetNeed.direct.toFixed(0)} direct → ${m.unmetNeed.multiHop.toFixed(0)} multi-hop; fees ${m.fees.direct.toFixed(1)} → ${m.fees.multiHop.toFixed(1)}; cheaper on ${m.cheaper}; ${m.forwardedMessages} forwarded message(s)`,
      );
    }
  }
  console.log(`Optimal plan costlier than greedy's (exact objective): ${aboveGreedy.generated + aboveGreedy.replay} of ${aboveGreedy.instances} instances`);
  console.log('\nAave v3 replay');
  for (const n of result.replay.notes) console.log(`  ${n}`);
  if (replayRows.length > 0) printRows('Replay (one tick per day; each planner keeps its own vault state)', replayRows);
  const rss = result.peakRssMb;
  console.log(`\nWorker peak RSS: optimal ${rss.optimal} MB, greedy ${rss.greedy} MB (o/g ${rss.ratio?.toFixed(3) ?? 'n/a'}); wall ${result.wallSec} s (optimal worker ${optimal.wallSec} s, greedy ${greedy.wallSec} s)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
