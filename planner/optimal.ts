/**
 * The optimal planner: a fixed-charge min-cost-flow MILP over (chain, chain, bridge) edges, solved by HiGHS
 * (planner/lp.ts), with the greedy baseline as starting incumbent and as floor. Its parts, one job each:
 * - planner/routing.ts: planned chains (greedy's need and spare), quoted edges made exact, the message rule,
 *   a plan's exact cost, the rules of a legal plan ({@link verifyRoutedPlan});
 * - planner/baseline.ts: the greedy baseline on edges and a fee-aware heuristic (the MIP starts);
 * - planner/milp.ts: the model and the reading of its solution into exact, legal messages;
 * - planner/certificate.ts: what is proven (unmet need and fees, each with its gap);
 * - planner/reasons.ts: the words (per message, per chain out of band);
 * - planner/bigint.ts: the exact helpers.
 *
 * Semantics are greedy's (see greedy.ts): target = band middle, a chain above its band needs
 * `required − supplied − inbound`, a chain at or below target can give `min(supplied − required,
 * idle − minBuffer, window remaining)` with window remaining = `min(policy cap, on-chain cap) − used`
 * (used = 0 once the on-chain window expired), each message ≤ the donor's `maxTransfer` and ≥ the larger
 * `minTransfer` of both ends, none on a pair with a transfer in flight (either direction), no overshoot. On
 * top: each edge's route rate limit (`capacity`, all messages of the edge together) and minimum, and the bridge
 * is chosen per message. Message rule (planner/routing.ts): by default `several` — up to
 * `maxMessagesPerRoute` messages per (pair, bridge), both bridges of a pair allowed, so a need larger than one
 * capped message is covered by more messages on the same route; `one` is the earlier one-per-pair rule.
 *
 * Objective (lexicographic through a weight): minimize
 *   `UNMET_NEED_WEIGHT · Σ shortfall  +  Σ (fixedFee + feeBps/10⁴ · amount)`
 * where shortfall = what a chain above its band still misses to its target after the plan (base units).
 * With weight 1000 a base unit of unmet need outweighs 1000 base units of fees, so the planner never
 * gives up coverage to save a fee unless the extra coverage a message buys is below `fixedFee / 1000`.
 *
 * Proof (planner/certificate.ts): the solve runs with relative gap 0 and stops once the proven absolute gap is
 * within half of 0.1% of the incumbent's FEES (and of its weighted unmet need), not of the objective, which
 * unmet need dominates; the certificate then reports the gap on each criterion and `optimal` only when both are
 * proven. The greedy plan, with each transfer put on its cheapest eligible bridge, or a fee-aware construction
 * heuristic's plan when strictly cheaper, is the MIP start; whatever HiGHS returns, the plan returned is
 * greedy's whenever no other plan is strictly cheaper in exact arithmetic, so the result is never worse than greedy.
 *
 * Solver settings (measured on `npm run bench`, see README): HiGHS compiled by TurboFan once per process
 * (planner/lp.ts; 3–10× faster solves), the model passed as arrays, the solve interrupted at its wall-clock
 * deadline, HiGHS's sub-MIP heuristics only for models of ≥ {@link SUB_MIP_HEURISTICS_MIN_BINARIES} edges, except
 * RINS, always on under the `several` rule (its search is primal-limited; RINS cut it 3–4× on 16 chains).
 *
 * Assets: one call plans one asset. Several assets are planned by {@link planOptimalAssets}, one MILP per
 * asset, because nothing couples them in this model (each asset has its own vaults, caps and windows, and a
 * bridge message carries one asset, so fixed fees are per asset-transfer); solving them jointly would only
 * make the MILP larger.
 *
 * Determinism: edges and variables are ordered by (from, to, bridge) in code-unit order, chains by chainKey,
 * HiGHS runs with a fixed seed. A solve that proves optimality gives the same plan for the same input; a solve
 * stopped by its time limit returns the best plan found in the budget, which can depend on machine speed
 * (run it in an activity so the result is recorded in history).
 */
import { cmpKey } from './bigint.js';
import { feeAwareMoves, greedyMoves } from './baseline.js';
import { certificateSummary, gapsOf, PROVEN_GAP_PCT, STOP_GAP_SHARE } from './certificate.js';
import type { PlanCertificate } from './certificate.js';
import { solveMilp } from './lp.js';
import { buildModel, feesOfColumns, movesFromSolution, startValues } from './milp.js';
import { routed, unresolvedAfter } from './reasons.js';
import type { RoutedTransfer } from './reasons.js';
import { exactCost, makeCtx, microToDecimal, microToNumber, RATE_DENOM, routeRules, UNMET_NEED_WEIGHT, verifyWith } from './routing.js';
import type { Move, OptimalInput } from './routing.js';
import type { Plan } from './types.js';

export { planGreedyOnEdges } from './baseline.js';
export { PROVEN_GAP_PCT, type PlanCertificate } from './certificate.js';
export type { RoutedTransfer } from './reasons.js';
export { plannedChains, verifyRoutedPlan, UNMET_NEED_WEIGHT, type BridgeEdge, type OptimalInput, type PlannedChain, type RouteRules } from './routing.js';

/** Options of {@link planOptimal}. */
export interface OptimalOptions {
  /** Wall-clock budget of the MILP solve (ms). */
  timeLimitMs: number;
  /**
   * Relative gap at which HiGHS stops (default 0: the certificate's own rule, a gap measured in fee units,
   * stops the solve; see planner/certificate.ts). A positive value can stop it earlier, unproven on fees.
   */
  mipRelGap?: number;
  /**
   * HiGHS's sub-MIP heuristics (RINS, RENS, root reduced cost): `auto` (default) turns them on only for
   * models of at least {@link SUB_MIP_HEURISTICS_MIN_BINARIES} edges. Measured on the bench (1 s budget):
   * below that (≤ 32 chains) they cost the proof; at 64 chains, where few instances are proven in 1 s
   * anyway, they found plans up to 43% cheaper on 4 of 24 instances and were never worse.
   */
  subMipHeuristics?: boolean | 'auto';
  /** The message rule (planner/routing.ts): `several` (default) or `one` (one message per ordered pair). */
  messagesPerRoute?: 'one' | 'several';
  /** Under `several`: the most messages per (pair, bridge) in one plan (default 4). */
  maxMessagesPerRoute?: number;
}

/** Model size (edges) from which `subMipHeuristics: 'auto'` turns HiGHS's sub-MIP heuristics on. */
export const SUB_MIP_HEURISTICS_MIN_BINARIES = 800;

/** Result of {@link planOptimal}. */
export interface OptimalPlan extends Plan {
  transfers: RoutedTransfer[];
  totals: { fees: bigint; volume: bigint; shortfall: bigint };
  certificate: PlanCertificate;
}

/**
 * Plans one asset optimally: the fewest unmet need, then the lowest fees, within every rule of greedy.ts
 * plus the edges' capacities and minimums, over the cheapest bridge per message.
 *
 * @returns the plan (one transfer per message, ordered by destination, source, bridge, each with its fee and
 *   reason), chains still out of band, totals, and a {@link PlanCertificate}. The plan's objective is never
 *   above the greedy baseline's ({@link planGreedyOnEdges}, same message rule): on a tie or a worse solver
 *   result greedy's plan is returned.
 * @throws {Error} on greedy's input errors (duplicate chains or policies, malformed band, negative amounts),
 *   on a malformed edge (self loop, duplicate, feeBps outside [0, 10000) or finer than 0.01 bps, negative
 *   amounts), a `maxMessagesPerRoute` that is not an integer ≥ 1, or when HiGHS cannot parse the model.
 * @example
 *   const plan = await planOptimal({ chains, policies, inFlight, edges }, { timeLimitMs: 1000 });
 *   console.log(plan.certificate.optimal, plan.certificate.feeGapPct, plan.certificate.shortfallGapPct);
 */
export async function planOptimal(input: OptimalInput, opts: OptimalOptions): Promise<OptimalPlan> {
  const t0 = performance.now();
  if (!(opts.timeLimitMs > 0)) throw new Error(`planOptimal: timeLimitMs must be > 0 (got ${opts.timeLimitMs})`);
  const rules = routeRules(opts);
  const ctx = makeCtx(input, rules);
  const greedy = greedyMoves(ctx);
  const gCost = exactCost(ctx, greedy.moves);
  const greedyBroke = verifyWith(ctx, greedy.moves);
  if (greedyBroke.length > 0) throw new Error(`planOptimal: the greedy baseline broke a rule (${greedyBroke.join('; ')}); this is a planner bug`);
  const b = buildModel(ctx);
  const modelInfo = {
    givers: b.givers,
    takers: b.takers,
    edges: b.edges.length,
    edgesPruned: b.pruned,
    binaries: b.edges.length,
    rows: b.model.rows.length,
    scaleExp: b.scaleExp,
  };

  let chosen: Move[] = greedy.moves;
  let cost = gCost;
  let by: 'solver' | 'heuristic' | 'greedy' = 'greedy';
  // The better of greedy and the fee-aware heuristic is the MIP start (and a floor for the result).
  const heur = feeAwareMoves(ctx);
  const hCost = exactCost(ctx, heur);
  if (hCost.micro < gCost.micro && verifyWith(ctx, heur).length === 0) {
    chosen = heur;
    cost = hCost;
    by = 'heuristic';
  }
  let status = 'Trivial';
  let boundMicro: number;
  let solverOptimal = true;
  let search: PlanCertificate['search'] = { nodes: 0, lpIterations: 0, solveMs: 0, startAccepted: false, stoppedAtGap: false };
  if (b.edges.length === 0) {
    // Nothing can move: the plan is empty and its cost is the bound.
    boundMicro = Number(gCost.micro);
  } else {
    const start = startValues(ctx, b, chosen);
    // The solve stops at its deadline (planner/lp.ts interrupts HiGHS); the work after it (repair,
    // verification, reasons) takes a fraction of the work before it: keep 5% of the budget and a quarter of
    // the time already spent for it.
    const budget = Math.max(1, 0.95 * opts.timeLimitMs - 1.25 * (performance.now() - t0));
    const heuristics = opts.subMipHeuristics ?? 'auto';
    const subMipHeuristics = heuristics === 'auto' ? b.edges.length >= SUB_MIP_HEURISTICS_MIN_BINARIES : heuristics;
    // Stop once the gap is within half of what the certificate allows on fees and on weighted unmet need of
    // the incumbent (model units), whichever is smaller.
    const W = Number(UNMET_NEED_WEIGHT);
    const sCols = new Set([...b.shortfallCols.values()]);
    const sIdx = b.model.columns.flatMap((c, j) => (sCols.has(c.name) ? [j] : []));
    const stopAtAbsGap = (col: Float64Array): number => {
      const fees = feesOfColumns(b, col);
      const weighted = W * sIdx.reduce((s, j) => s + (col[j] ?? 0), 0);
      const allowed = Math.min(fees, weighted > 1e-9 ? weighted : Infinity);
      return (STOP_GAP_SHARE * PROVEN_GAP_PCT * allowed) / 100;
    };
    // RINS under the `several` rule: there the search is primal-limited (the bound is reached early, the plan that
    // meets it late); RINS finds it in a few nodes (16 chains: 3–7 nodes instead of 450–740, 3–4× faster).
    const rins = subMipHeuristics || rules.messagesPerRoute === 'several';
    const r = await solveMilp(b.model, start, { timeLimitMs: budget, mipRelGap: opts.mipRelGap ?? 0, subMipHeuristics, rins, stopAtAbsGap });
    status = r.status;
    search = { nodes: r.nodes, lpIterations: r.lpIterations, solveMs: r.solveMs, startAccepted: r.startAccepted, stoppedAtGap: r.stoppedAtGap };
    solverOptimal = r.status === 'Optimal';
    boundMicro = r.bound * Number(b.scale) * Number(RATE_DENOM);
    if (r.values.size > 0) {
      const moves = movesFromSolution(ctx, b, r.values);
      const c = exactCost(ctx, moves);
      if (c.micro < cost.micro && verifyWith(ctx, moves).length === 0) {
        chosen = moves;
        cost = c;
        by = 'solver';
      }
    }
  }
  const objective = microToNumber(cost.micro);
  const bound = Math.min(objective, boundMicro / Number(RATE_DENOM));
  const resolution = b.scale > 10_000n ? b.scale / 10_000n : 1n;
  const gaps = gapsOf(objective, bound, cost.fees, cost.shortfall, solverOptimal, resolution);
  const summary = certificateSummary({ status, ...gaps });
  const transfers = chosen.map((m) => routed(ctx, m, chosen, by, summary));
  return {
    transfers,
    unresolved: unresolvedAfter(ctx, chosen),
    totals: { fees: cost.fees, volume: cost.volume, shortfall: cost.shortfall },
    certificate: {
      solver: 'highs',
      status,
      objective,
      bound,
      ...gaps,
      rules,
      greedyObjective: microToNumber(gCost.micro),
      exact: { objective: microToDecimal(cost.micro), greedyObjective: microToDecimal(gCost.micro) },
      chosen: by,
      timeMs: performance.now() - t0,
      perTransferReasons: transfers.map((t) => t.reason),
      unmetNeedWeight: Number(UNMET_NEED_WEIGHT),
      model: modelInfo,
      greedyAdjustments: greedy.adjustments,
      search,
    },
  };
}

/** One asset of {@link planOptimalAssets}. */
export interface AssetInput {
  /** Asset name, e.g. `USDC`; also the solve order (code-unit order). */
  asset: string;
  input: OptimalInput;
}

/**
 * Plans several assets, one MILP each (nothing couples them; see the module doc). The time budget
 * `timeLimitMs` is for all assets together: each asset gets an equal share of what is left, so time an
 * early asset does not use goes to the later ones. Assets are solved in asset-name order.
 * @throws {Error} on a duplicate asset name, and whatever {@link planOptimal} throws (the message names the asset).
 */
export async function planOptimalAssets(assets: readonly AssetInput[], opts: OptimalOptions): Promise<{ asset: string; plan: OptimalPlan }[]> {
  const sorted = [...assets].sort((a, b) => cmpKey(a.asset, b.asset));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.asset === sorted[i - 1]!.asset) throw new Error(`planOptimalAssets: asset "${sorted[i]!.asset}" appears twice; pass one instance per asset`);
  }
  const t0 = performance.now();
  const out: { asset: string; plan: OptimalPlan }[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const left = opts.timeLimitMs - (performance.now() - t0);
    const share = Math.max(1, left / (sorted.length - i));
    try {
      out.push({ asset: sorted[i]!.asset, plan: await planOptimal(sorted[i]!.input, { ...opts, timeLimitMs: share }) });
    } catch (e) {
      throw new Error(`planOptimalAssets: asset ${sorted[i]!.asset}: ${(e as Error).message}`);
    }
  }
  return out;
}
