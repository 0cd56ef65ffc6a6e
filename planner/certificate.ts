/**
 * The optimal planner's certificate: what the solver proved about the returned plan, on each criterion.
 *
 * The objective is `W · shortfall + fees` (W = {@link UNMET_NEED_WEIGHT}): unmet need first, then fees. Its
 * relative gap alone proves little about the fees when unmet need remains (the objective is then ~10^3 × the
 * need, and 0.01% of it is more than all the fees), so the certificate measures the proven absolute gap
 * `G = objective − bound` against each criterion:
 * - fees: any plan with no more unmet need than this one has fees ≥ `fees − G` (from `W·s' + f' ≥ bound`
 *   with `s' ≤ s`): `feeGapPct = G / fees`;
 * - unmet need: any plan with no higher fees has unmet need ≥ `shortfall − G / W`: `shortfallGapPct =
 *   (G / W) / shortfall` (0 when nothing is left unmet).
 * `optimal` is true only when the solver proved optimality (status `Optimal` or `Trivial`) and both gaps are
 * ≤ {@link PROVEN_GAP_PCT} (up to the float resolution of the objective, 10⁻¹² of it; for unmet need, also up to
 * the model's amount resolution `resolution`: 10⁻⁴ of a model unit (amounts are solved in units of 10^k base
 * units, the largest bound < 10⁷ units), below which the solver's tolerances cannot tell amounts apart — e.g.
 * 1000 base units = 0.001 token of a 6-decimal asset on an instance of 50M-token vaults).
 */
import { UNMET_NEED_WEIGHT } from './routing.js';
import type { RouteRules } from './routing.js';

/** A criterion counts as proven optimal when its gap is at most this many percent. */
export const PROVEN_GAP_PCT = 0.1;
/** The MILP stops once the gap is this share of what {@link PROVEN_GAP_PCT} allows (room for the exact repair). */
export const STOP_GAP_SHARE = 0.9;

/** What a reviewer checks: the solver's verdict on the returned plan. */
export interface PlanCertificate {
  solver: 'highs';
  /** HiGHS status (`Optimal`, `TimeLimit`, …), `Trivial` when no MILP was needed (no taker or no usable edge). */
  status: string;
  /** Exact objective of the returned plan (base units, weighted: {@link UNMET_NEED_WEIGHT}·shortfall + fees). */
  objective: number;
  /** Proven lower bound on the objective of any plan (base units). */
  bound: number;
  /** `(objective − bound) / max(objective, 1)` in percent, ≥ 0. */
  gapPct: number;
  /**
   * `(objective − bound) / max(fees of the plan, 1)` in percent: how much of this plan's fees a plan with no
   * more unmet need could at most save.
   */
  feeGapPct: number;
  /**
   * `(objective − bound) / W / shortfall` in percent (0 when no need is left unmet): how much of this plan's
   * unmet need a plan with no higher fees could at most cover.
   */
  shortfallGapPct: number;
  /** Each criterion proven optimal: solver status `Optimal`/`Trivial` and its gap ≤ {@link PROVEN_GAP_PCT}. */
  proven: { shortfall: boolean; fees: boolean };
  /** Proven optimal on unmet need AND on fees (both of `proven`). */
  optimal: boolean;
  /** Amount resolution of the model (base units, decimal string): an unmet-need gap below it counts as none. */
  resolution: string;
  /** The message rule the plan was made under (planner/routing.ts). */
  rules: RouteRules;
  /** Exact objective of the greedy plan on the same edges. */
  greedyObjective: number;
  /**
   * The same two objectives exactly, as decimal strings of base units with 6 decimals (the `number`s above
   * lose the fee digits once the weighted unmet need passes 2^53 millionths). Compare these.
   */
  exact: { objective: string; greedyObjective: string };
  /**
   * Which plan is returned: `greedy` unless another is strictly cheaper; `heuristic` when the fee-aware
   * construction (the MIP start) beat greedy and the solver found nothing better in its budget; `solver`.
   */
  chosen: 'solver' | 'heuristic' | 'greedy';
  /** Whole planOptimal wall time (ms), model building and repair included. */
  timeMs: number;
  /** Why each transfer (same order as `transfers`). */
  perTransferReasons: string[];
  /** Weight of one base unit of unmet need in the objective. */
  unmetNeedWeight: number;
  /** Model size: edge variables after pruning, integer columns (message counts), rows, scale (amounts solved in units of 10^k). */
  model: { givers: number; takers: number; edges: number; edgesPruned: number; binaries: number; rows: number; scaleExp: number };
  /** Greedy transfers that no quoted bridge could carry as planned (clamped to a route's capacity or dropped). */
  greedyAdjustments: string[];
  /**
   * The solver's effort: branch-and-bound nodes, simplex iterations, wall time of the HiGHS call (ms), whether
   * HiGHS accepted the MIP start, and whether the solve stopped on the certificate's gap rule. All 0 / false
   * when no MILP was solved (`status` `Trivial`).
   */
  search: { nodes: number; lpIterations: number; solveMs: number; startAccepted: boolean; stoppedAtGap: boolean };
}

/** The gaps of a plan of exact `objective` (base units), `fees` and `shortfall`, given a proven `bound`. */
export function gapsOf(
  objective: number,
  bound: number,
  fees: bigint,
  shortfall: bigint,
  solverOptimal: boolean,
  resolution: bigint,
): Pick<PlanCertificate, 'gapPct' | 'feeGapPct' | 'shortfallGapPct' | 'proven' | 'optimal' | 'resolution'> {
  const W = Number(UNMET_NEED_WEIGHT);
  const g = Math.max(0, objective - bound);
  // Below the float resolution of the objective a gap is no gap.
  const tol = 1e-12 * Math.abs(objective);
  const gapPct = objective <= 0 ? 0 : (g / Math.max(objective, 1)) * 100;
  const feeGapPct = (g / Math.max(Number(fees), 1)) * 100;
  const shortfallGapPct = shortfall === 0n ? 0 : Math.min(100, (g / W / Number(shortfall)) * 100);
  const within = (pct: number): boolean => pct <= PROVEN_GAP_PCT || g <= tol;
  const onFees = solverOptimal && within(feeGapPct);
  const onShortfall = solverOptimal && (shortfall === 0n || within(shortfallGapPct) || g / W <= Number(resolution));
  return { gapPct, feeGapPct, shortfallGapPct, proven: { shortfall: onShortfall, fees: onFees }, optimal: onShortfall && onFees && within(gapPct), resolution: resolution.toString() };
}

/** One line for the plan's reasons and logs: what is proven, with both gaps. */
export function certificateSummary(c: Pick<PlanCertificate, 'status' | 'feeGapPct' | 'shortfallGapPct' | 'proven'>): string {
  const one = (what: string, ok: boolean, pct: number): string => `${what} ${ok ? 'proven optimal' : 'NOT proven optimal'} (gap ${pct.toFixed(4)}%)`;
  return `certificate ${c.status}: ${one('unmet need', c.proven.shortfall, c.shortfallGapPct)}, ${one('fees', c.proven.fees, c.feeGapPct)}`;
}

/** The yield objective's certificate (gain over the horizon, per-market APYs before/after, MILP gap on the linearized objective, linearization error): planner/yield.ts. */
export type { YieldCertificate, MarketOutcome } from './yield.js';
