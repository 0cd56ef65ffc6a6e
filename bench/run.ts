/**
 * `npm run bench [-- --quick | --full] [--json] [--time-limit-ms N] [--seeds N] [--days N]`
 *
 * Optimal (planner/optimal.ts, HiGHS MILP) vs greedy (planner/greedy.ts on the same bridges,
 * `planGreedyOnEdges`), side by side, on
 * 1. generated instances: 4, 8, 16, 32, 64 chains × 1..8 assets × seeds (bench/instances.ts), 2 bridges;
 * 2. a replay of the Aave v3 daily utilization history (bench/replay.ts), skipped with a note when the
 *    fixture is absent.
 * Figures: total fees, volume moved, chains left out of band, plan time p50/p95 per tick (all assets of
 * a tick planned one after the other), the solver's gap, the process's peak RSS, and RATIOS optimal/greedy.
 * No pass/fail: the bench reports, it does not judge. `--json` prints the same figures as one JSON object.
 *
 * Each asset is one instance; a tick with k assets plans assets 0..k−1 of the same chain count and seed, so
 * the per-asset solves are shared between the 1..8-asset rows (each solved once). Fees and volumes are
 * summed in whole tokens of each asset (assets have 6, 8 or 18 decimals).
 */
import os from 'node:os';
import { planGreedyOnEdges, planOptimal } from '../planner/optimal.js';
import { highsRuntime } from '../planner/lp.js';
import type { OptimalInput } from '../planner/optimal.js';
import { ASSET_DECIMALS, generatedInstance } from './instances.js';
import { loadReplay, replayInput } from './replay.js';

interface Args {
  json: boolean;
  quick: boolean;
  full: boolean;
  timeLimitMs: number;
  seeds: number;
  days: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { json: false, quick: false, full: false, timeLimitMs: 1000, seeds: 0, days: 0 };
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
    else throw new Error(`bench: unknown argument '${k}'. Use --quick, --full, --json, --time-limit-ms N, --seeds N, --days N`);
  }
  if (a.seeds === 0) a.seeds = a.quick ? 1 : a.full ? 5 : 3;
  if (a.days === 0) a.days = a.quick ? 60 : a.full ? 100_000 : 180;
  return a;
}

/** One planner's result on one asset instance. */
interface Solve {
  fees: number;
  volume: number;
  outOfBand: number;
  timeMs: number;
}
interface Pair {
  greedy: Solve;
  optimal: Solve & { gapPct: number; optimal: boolean; status: string; chosen: string; edges: number };
}

const toTokens = (x: bigint, decimals: number): number => Number(x) / 10 ** decimals;

async function solveBoth(inst: OptimalInput, decimals: number, timeLimitMs: number): Promise<Pair> {
  const t0 = performance.now();
  const g = planGreedyOnEdges(inst);
  const gMs = performance.now() - t0;
  const p = await planOptimal(inst, { timeLimitMs });
  return {
    greedy: { fees: toTokens(g.totals.fees, decimals), volume: toTokens(g.totals.volume, decimals), outOfBand: g.unresolved.length, timeMs: gMs },
    optimal: {
      fees: toTokens(p.totals.fees, decimals),
      volume: toTokens(p.totals.volume, decimals),
      outOfBand: p.unresolved.length,
      timeMs: p.certificate.timeMs,
      gapPct: p.certificate.gapPct,
      optimal: p.certificate.optimal,
      status: p.certificate.status,
      chosen: p.certificate.chosen,
      edges: p.certificate.model.edges,
    },
  };
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}
const ratio = (o: number, g: number): number | null => (g === 0 ? (o === 0 ? 1 : null) : o / g);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Side-by-side figures of one row (a config or a replay asset). */
interface Row {
  label: string;
  ticks: number;
  fees: { optimal: number; greedy: number; ratio: number | null };
  volume: { optimal: number; greedy: number; ratio: number | null };
  outOfBand: { optimal: number; greedy: number; ratio: number | null };
  planMs: { optimal: { p50: number; p95: number }; greedy: { p50: number; p95: number } };
  gapPct: { max: number; p95: number };
  provedOptimal: string;
  solverPlanChosen: string;
  meanEdges: number;
}

function row(label: string, ticks: Pair[][]): Row {
  const all = ticks.flat();
  const sum = (f: (p: Pair) => number): number => all.reduce((s, p) => s + f(p), 0);
  const fo = sum((p) => p.optimal.fees);
  const fg = sum((p) => p.greedy.fees);
  const vo = sum((p) => p.optimal.volume);
  const vg = sum((p) => p.greedy.volume);
  const oo = sum((p) => p.optimal.outOfBand);
  const og = sum((p) => p.greedy.outOfBand);
  const tickO = ticks.map((t) => t.reduce((s, p) => s + p.optimal.timeMs, 0));
  const tickG = ticks.map((t) => t.reduce((s, p) => s + p.greedy.timeMs, 0));
  const gaps = all.map((p) => p.optimal.gapPct);
  return {
    label,
    ticks: ticks.length,
    fees: { optimal: r3(fo), greedy: r3(fg), ratio: ratio(fo, fg) },
    volume: { optimal: r3(vo), greedy: r3(vg), ratio: ratio(vo, vg) },
    outOfBand: { optimal: oo, greedy: og, ratio: ratio(oo, og) },
    planMs: { optimal: { p50: r3(quantile(tickO, 0.5)), p95: r3(quantile(tickO, 0.95)) }, greedy: { p50: r3(quantile(tickG, 0.5)), p95: r3(quantile(tickG, 0.95)) } },
    gapPct: { max: Math.max(0, ...gaps), p95: quantile(gaps, 0.95) },
    provedOptimal: `${all.filter((p) => p.optimal.optimal).length}/${all.length}`,
    solverPlanChosen: `${all.filter((p) => p.optimal.chosen === 'solver').length}/${all.length}`,
    meanEdges: Math.round(sum((p) => p.optimal.edges) / Math.max(1, all.length)),
  };
}

function printRows(title: string, rows: readonly Row[]): void {
  const f = (x: number | null, d = 3): string => (x === null ? 'n/a' : x.toFixed(d));
  const big = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1));
  console.log(`\n${title}`);
  const head = ['instance', 'ticks', 'fees opt', 'fees greedy', 'fees o/g', 'volume o/g', 'out-of-band opt/greedy', 'plan ms opt p50/p95', 'plan ms greedy p50/p95', 'gap% max', 'proved', 'solver plan', 'edges'];
  const lines = rows.map((r) => [
    r.label,
    String(r.ticks),
    big(r.fees.optimal),
    big(r.fees.greedy),
    f(r.fees.ratio),
    f(r.volume.ratio),
    `${r.outOfBand.optimal}/${r.outOfBand.greedy}`,
    `${r.planMs.optimal.p50.toFixed(0)}/${r.planMs.optimal.p95.toFixed(0)}`,
    `${r.planMs.greedy.p50.toFixed(1)}/${r.planMs.greedy.p95.toFixed(1)}`,
    r.gapPct.max.toFixed(4),
    r.provedOptimal,
    r.solverPlanChosen,
    String(r.meanEdges),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Load the WebAssembly and let V8 tier up HiGHS's hot code outside the timed plans (a keeper process is
  // warm after its first ticks; the first solves of a process are up to ~10× slower).
  await highsRuntime();
  for (const [n, a] of [[16, 0], [16, 1], [8, 2], [32, 0]] as const) await planOptimal(generatedInstance(n, a, 999), { timeLimitMs: 500 });
  const started = performance.now();
  const chainCounts = args.quick ? [4, 8, 16] : [4, 8, 16, 32, 64];
  const assetCounts = args.quick ? [1, 2] : [1, 2, 3, 4, 5, 6, 7, 8];
  const maxAssets = Math.max(...assetCounts);
  const log = (m: string): void => {
    if (!args.json) process.stderr.write(`${m}\n`);
  };

  // 1. generated instances: each (chains, asset, seed) solved once, shared by the asset-count rows.
  const solved = new Map<string, Pair>();
  for (const n of chainCounts) {
    for (let s = 0; s < args.seeds; s++) {
      for (let a = 0; a < maxAssets; a++) {
        solved.set(`${n}/${a}/${s}`, await solveBoth(generatedInstance(n, a, s), ASSET_DECIMALS[a % ASSET_DECIMALS.length]!, args.timeLimitMs));
      }
    }
    log(`[bench] ${n} chains done (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  const generated: Row[] = [];
  for (const n of chainCounts) {
    for (const k of assetCounts) {
      const ticks: Pair[][] = [];
      for (let s = 0; s < args.seeds; s++) ticks.push(Array.from({ length: k }, (_, a) => solved.get(`${n}/${a}/${s}`)!));
      generated.push(row(`${n} chains × ${k} asset${k > 1 ? 's' : ''}`, ticks));
    }
  }
  const small = [...solved.entries()].filter(([k]) => Number(k.split('/')[0]) <= 16).map(([, p]) => p);
  const within = small.filter((p) => p.optimal.gapPct <= 0.1 && p.optimal.timeMs <= 1000).length;
  const gap16 = {
    instances: small.length,
    gapAtMost0_1PctWithin1s: within,
    provedOptimal: small.filter((p) => p.optimal.optimal).length,
    maxTimeMs: r3(Math.max(0, ...small.map((p) => p.optimal.timeMs))),
    maxGapPct: Math.max(0, ...small.map((p) => p.optimal.gapPct)),
  };
  const large = [...solved.entries()].filter(([k]) => Number(k.split('/')[0]) > 16).map(([k, p]) => ({ n: Number(k.split('/')[0]), p }));
  const beyond16 = [32, 64].filter((n) => chainCounts.includes(n)).map((n) => {
    const ps = large.filter((x) => x.n === n).map((x) => x.p);
    return { chains: n, instances: ps.length, provedOptimal: ps.filter((p) => p.optimal.optimal).length, gapPctP50: quantile(ps.map((p) => p.optimal.gapPct), 0.5), gapPctMax: Math.max(0, ...ps.map((p) => p.optimal.gapPct)) };
  });

  // 2. Aave v3 replay.
  const replay = loadReplay(
    [
      { symbol: 'USDC', decimals: 6 },
      { symbol: 'WETH', decimals: 18 },
    ],
    args.days,
  );
  const replayRows: Row[] = [];
  const replayNotes: string[] = [];
  if ('skipped' in replay) {
    replayNotes.push(replay.skipped);
  } else {
    for (const a of replay.assets) {
      replayNotes.push(`${a.symbol}: ${a.networks.length} networks (${a.networks.join(', ')}), ${a.paths.days.length} days ${a.paths.days[0]} .. ${a.paths.days[a.paths.days.length - 1]}; left out: ${a.skipped.join(', ') || 'none'}`);
      const state = { greedy: new Map(a.sizes), optimal: new Map(a.sizes) };
      const ticks: Pair[][] = [];
      for (let d = 0; d < a.paths.days.length; d++) {
        const gi = replayInput(a, d, state.greedy);
        const oi = replayInput(a, d, state.optimal);
        const t0 = performance.now();
        const g = planGreedyOnEdges(gi);
        const gMs = performance.now() - t0;
        const p = await planOptimal(oi, { timeLimitMs: args.timeLimitMs });
        for (const t of g.transfers) {
          state.greedy.set(t.from, state.greedy.get(t.from)! - t.amount);
          state.greedy.set(t.to, state.greedy.get(t.to)! + t.amount);
        }
        for (const t of p.transfers) {
          state.optimal.set(t.from, state.optimal.get(t.from)! - t.amount);
          state.optimal.set(t.to, state.optimal.get(t.to)! + t.amount);
        }
        const c = p.certificate;
        ticks.push([
          {
            greedy: { fees: toTokens(g.totals.fees, a.decimals), volume: toTokens(g.totals.volume, a.decimals), outOfBand: g.unresolved.length, timeMs: gMs },
            optimal: { fees: toTokens(p.totals.fees, a.decimals), volume: toTokens(p.totals.volume, a.decimals), outOfBand: p.unresolved.length, timeMs: c.timeMs, gapPct: c.gapPct, optimal: c.optimal, status: c.status, chosen: c.chosen, edges: c.model.edges },
          },
        ]);
      }
      replayRows.push(row(`Aave v3 ${a.symbol} replay, ${a.networks.length} chains`, ticks));
      log(`[bench] replay ${a.symbol} done (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  }

  const peakRssMb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
  const result = {
    settings: { timeLimitMsPerAssetSolve: args.timeLimitMs, seeds: args.seeds, chainCounts, assetCounts, replayDaysMax: args.days, mode: args.quick ? 'quick' : args.full ? 'full' : 'default' },
    machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
    generated,
    upTo16Chains: gap16,
    beyond16Chains: beyond16,
    replay: { notes: replayNotes, rows: replayRows },
    peakRssMb,
    wallSec: r3((performance.now() - started) / 1000),
    units: 'fees and volume in whole tokens of each asset, summed over ticks and assets; out-of-band = chains outside their band after the plan, summed over ticks; plan ms per tick = all assets of the tick',
  };
  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`Planner bench: optimal (HiGHS MILP, ${args.timeLimitMs} ms per asset solve) vs greedy on the same bridges. Ratios are optimal/greedy.`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs; ${result.units}`);
  printRows(`Generated instances (${args.seeds} seed(s) per row, 2 bridges)`, generated);
  console.log(
    `\nInstances of ≤ 16 chains: ${gap16.gapAtMost0_1PctWithin1s}/${gap16.instances} reached gap ≤ 0.1% within 1 s ` +
      `(${gap16.provedOptimal} proved optimal; slowest ${gap16.maxTimeMs.toFixed(0)} ms; largest gap ${gap16.maxGapPct.toFixed(4)}%)`,
  );
  for (const b of beyond16) console.log(`${b.chains} chains: ${b.provedOptimal}/${b.instances} proved optimal; gap p50 ${b.gapPctP50.toFixed(4)}%, max ${b.gapPctMax.toFixed(4)}%`);
  console.log('\nAave v3 replay');
  for (const n of replayNotes) console.log(`  ${n}`);
  if (replayRows.length > 0) printRows('Replay (one tick per day; each planner keeps its own vault state)', replayRows);
  console.log(`\nPeak RSS of the bench process: ${peakRssMb} MB; wall ${result.wallSec} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
