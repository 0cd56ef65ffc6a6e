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
import { multiHopRelaxation } from './multihop.js';

/** What bench/run.ts asks a worker to do. */
export interface WorkerSettings {
  planner: 'optimal' | 'greedy';
  /** The message rule both planners play by (planner/routing.ts): `several` (default) or `one` per ordered pair. */
  messagesPerRoute?: 'one' | 'several';
  /** Skip the Aave replay (the rule comparison runs generated instances only). */
  noReplay?: boolean;
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
  /** Unmet need after the plan (whole tokens). */
  shortfall: number;
  /** Chains outside their band after the plan. */
  outOfBand: number;
  /** Wall time of the plan (ms). */
  timeMs: number;
  /** Optimal only: the certificate's gaps (%: objective, fees, unmet need), whether it proved each and both, status, which plan was kept, edge count. */
  gapPct?: number;
  feeGapPct?: number;
  shortfallGapPct?: number;
  provenFees?: boolean;
  provenShortfall?: boolean;
  optimal?: boolean;
  status?: string;
  chosen?: string;
  edges?: number;
  /** Optimal only: the plan's exact objective is above greedy's (must never be true). */
  aboveGreedy?: boolean;
  /** Optimal only: the plan's weighted objective (base units). */
  objective?: number;
  /**
   * Optimal only, ≤ 16 chains, rule `several`: the multi-hop relaxation (bench/multihop.ts) of the same instance,
   * in whole tokens (objective and bound weighted, as the certificate's); not timed.
   */
  multiHop?: { status: string; objective: number; bound: number; shortfall: number; fees: number; forwarded: number };
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

async function solve(
  planner: WorkerSettings['planner'],
  inst: OptimalInput,
  decimals: number,
  timeLimitMs: number,
  messagesPerRoute: 'one' | 'several',
): Promise<{ solve: Solve; transfers: { from: string; to: string; amount: bigint }[] }> {
  if (planner === 'greedy') {
    const t0 = performance.now();
    const g = planGreedyOnEdges(inst, { messagesPerRoute });
    const timeMs = performance.now() - t0;
    return {
      solve: { fees: toTokens(g.totals.fees, decimals), volume: toTokens(g.totals.volume, decimals), shortfall: toTokens(g.totals.shortfall, decimals), outOfBand: g.unresolved.length, timeMs },
      transfers: g.transfers,
    };
  }
  const p = await planOptimal(inst, { timeLimitMs, messagesPerRoute });
  const c = p.certificate;
  return {
    solve: {
      fees: toTokens(p.totals.fees, decimals),
      volume: toTokens(p.totals.volume, decimals),
      shortfall: toTokens(p.totals.shortfall, decimals),
      outOfBand: p.unresolved.length,
      timeMs: c.timeMs,
      gapPct: c.gapPct,
      feeGapPct: c.feeGapPct,
      shortfallGapPct: c.shortfallGapPct,
      provenFees: c.proven.fees,
      provenShortfall: c.proven.shortfall,
      optimal: c.optimal,
      status: c.status,
      chosen: c.chosen,
      edges: c.model.edges,
      aboveGreedy: exact(c.exact.objective) > exact(c.exact.greedyObjective),
      objective: toTokens(exact(c.exact.objective) / 1_000_000n, decimals),
    },
    transfers: p.transfers,
  };
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2] ?? '{}') as WorkerSettings;
  const rule = s.messagesPerRoute ?? 'several';
  const started = performance.now();
  const log = (m: string): void => {
    if (s.progress) process.stderr.write(`[bench ${s.planner}] ${m}\n`);
  };
  // Warm up outside the timed plans, both planners alike (a keeper worker is warm after its first ticks): the
  // optimal side also loads and compiles HiGHS, which a keeper worker does when it starts (keeper/worker.ts).
  if (s.planner === 'optimal') await highsRuntime();
  for (const [n, a] of [[16, 0], [16, 1], [8, 2], [32, 0]] as const) await solve(s.planner, generatedInstance(n, a, 999), ASSET_DECIMALS[a]!, 500, rule);
  const generated: Record<string, Solve> = {};
  for (const n of s.chainCounts) {
    for (let seed = 0; seed < s.seeds; seed++) {
      for (let a = 0; a < s.maxAssets; a++) {
        const decimals = ASSET_DECIMALS[a % ASSET_DECIMALS.length]!;
        const inst = generatedInstance(n, a, seed);
        const one = (await solve(s.planner, inst, decimals, s.timeLimitMs, rule)).solve;
        if (s.planner === 'optimal' && rule === 'several' && n <= 16) {
          const m = await multiHopRelaxation(inst, 2000);
          const t = (x: number): number => x / 10 ** decimals;
          one.multiHop = { status: m.status, objective: t(m.objective), bound: t(m.bound), shortfall: t(m.shortfall), fees: t(m.fees), forwarded: m.forwarded };
        }
        generated[`${n}/${a}/${seed}`] = one;
      }
    }
    log(`${n} chains done, ${rule} message(s) per route (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }

  const replay: WorkerOutput['replay'] = { notes: [], assets: [] };
  const loaded = s.noReplay ? { skipped: 'replay not run for this rule' } : loadReplay(
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
        const r = await solve(s.planner, replayInput(a, d, supplied), a.decimals, s.timeLimitMs, rule);
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
