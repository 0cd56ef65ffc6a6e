/**
 * One planner's side of `npm run bench`, in a process of its own so that its peak RSS is its own (the
 * optimal planner's includes HiGHS and its compiled code; the greedy planner's does not).
 *
 * `tsx bench/worker.ts <json settings>` plans every generated instance and the Aave v3 replay with one
 * planner (`optimal`: planner/optimal.ts `planOptimal`; `greedy`: `planGreedyOnEdges`, greedy on the same
 * quoted bridges) and prints ONE JSON line ({@link WorkerOutput}) on stdout; progress goes to stderr.
 * Run by bench/run.ts, which pairs the two sides and prints them.
 */
import { planGreedyOnEdges, planOptimal } from '../planner/optimal.js';
import { highsRuntime } from '../planner/lp.js';
import type { OptimalInput } from '../planner/optimal.js';
import { ASSET_DECIMALS, generatedInstance } from './instances.js';
import { loadReplay, replayInput } from './replay.js';

/** What bench/run.ts asks a worker to do. */
export interface WorkerSettings {
  planner: 'optimal' | 'greedy';
  chainCounts: number[];
  maxAssets: number;
  seeds: number;
  days: number;
  timeLimitMs: number;
  /** Print progress on stderr. */
  progress: boolean;
}

/** One planner's result on one asset instance (fees and volume in whole tokens of the asset). */
export interface Solve {
  fees: number;
  volume: number;
  /** Chains outside their band after the plan. */
  outOfBand: number;
  /** Wall time of the plan (ms). */
  timeMs: number;
  /** Optimal only: the certificate's gap (%), whether it proved optimality (gap ≤ 0.1%), status, which plan was kept, edge count. */
  gapPct?: number;
  optimal?: boolean;
  status?: string;
  chosen?: string;
  edges?: number;
  /** Optimal only: the plan's exact objective is above greedy's (must never be true). */
  aboveGreedy?: boolean;
}

/** A worker's whole output. `generated` is keyed `chains/asset/seed`. */
export interface WorkerOutput {
  planner: 'optimal' | 'greedy';
  generated: Record<string, Solve>;
  replay: { notes: string[]; assets: { label: string; ticks: Solve[] }[] };
  /** Peak resident set size of this process (MB). */
  peakRssMb: number;
  wallSec: number;
}

const toTokens = (x: bigint, decimals: number): number => Number(x) / 10 ** decimals;
const exact = (d: string): bigint => BigInt(d.replace('.', ''));

async function solve(planner: WorkerSettings['planner'], inst: OptimalInput, decimals: number, timeLimitMs: number): Promise<{ solve: Solve; transfers: { from: string; to: string; amount: bigint }[] }> {
  if (planner === 'greedy') {
    const t0 = performance.now();
    const g = planGreedyOnEdges(inst);
    const timeMs = performance.now() - t0;
    return { solve: { fees: toTokens(g.totals.fees, decimals), volume: toTokens(g.totals.volume, decimals), outOfBand: g.unresolved.length, timeMs }, transfers: g.transfers };
  }
  const p = await planOptimal(inst, { timeLimitMs });
  const c = p.certificate;
  return {
    solve: {
      fees: toTokens(p.totals.fees, decimals),
      volume: toTokens(p.totals.volume, decimals),
      outOfBand: p.unresolved.length,
      timeMs: c.timeMs,
      gapPct: c.gapPct,
      optimal: c.optimal,
      status: c.status,
      chosen: c.chosen,
      edges: c.model.edges,
      aboveGreedy: exact(c.exact.objective) > exact(c.exact.greedyObjective),
    },
    transfers: p.transfers,
  };
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2] ?? '{}') as WorkerSettings;
  const started = performance.now();
  const log = (m: string): void => {
    if (s.progress) process.stderr.write(`[bench ${s.planner}] ${m}\n`);
  };
  // Warm up outside the timed plans, both planners alike (a keeper worker is warm after its first ticks): the
  // optimal side also loads and compiles HiGHS, which a keeper worker does when it starts (keeper/worker.ts).
  if (s.planner === 'optimal') await highsRuntime();
  for (const [n, a] of [[16, 0], [16, 1], [8, 2], [32, 0]] as const) await solve(s.planner, generatedInstance(n, a, 999), ASSET_DECIMALS[a]!, 500);
  const generated: Record<string, Solve> = {};
  for (const n of s.chainCounts) {
    for (let seed = 0; seed < s.seeds; seed++) {
      for (let a = 0; a < s.maxAssets; a++) {
        generated[`${n}/${a}/${seed}`] = (await solve(s.planner, generatedInstance(n, a, seed), ASSET_DECIMALS[a % ASSET_DECIMALS.length]!, s.timeLimitMs)).solve;
      }
    }
    log(`${n} chains done (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }

  const replay: WorkerOutput['replay'] = { notes: [], assets: [] };
  const loaded = loadReplay(
    [
      { symbol: 'USDC', decimals: 6 },
      { symbol: 'WETH', decimals: 18 },
    ],
    s.days,
  );
  if ('skipped' in loaded) replay.notes.push(loaded.skipped);
  else {
    for (const a of loaded.assets) {
      replay.notes.push(`${a.symbol}: ${a.networks.length} networks (${a.networks.join(', ')}), ${a.paths.days.length} days ${a.paths.days[0]} .. ${a.paths.days[a.paths.days.length - 1]}; left out: ${a.skipped.join(', ') || 'none'}`);
      // The planner keeps its own vault state: each day's supplies are what its own transfers left.
      const supplied = new Map(a.sizes);
      const ticks: Solve[] = [];
      for (let d = 0; d < a.paths.days.length; d++) {
        const r = await solve(s.planner, replayInput(a, d, supplied), a.decimals, s.timeLimitMs);
        for (const t of r.transfers) {
          supplied.set(t.from, supplied.get(t.from)! - t.amount);
          supplied.set(t.to, supplied.get(t.to)! + t.amount);
        }
        ticks.push(r.solve);
      }
      replay.assets.push({ label: `Aave v3 ${a.symbol} replay, ${a.networks.length} chains`, ticks });
      log(`replay ${a.symbol} done (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  }
  const out: WorkerOutput = {
    planner: s.planner,
    generated,
    replay,
    peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    wallSec: Math.round(performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
