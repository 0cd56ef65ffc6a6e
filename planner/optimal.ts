/**
 * The optimal planner: a fixed-charge min-cost-flow MILP over (chain, chain, bridge) edges, solved by HiGHS
 * (planner/lp.ts), with the greedy baseline (planner/greedy.ts) as starting incumbent and as floor.
 *
 * Semantics are greedy's, word for word (see greedy.ts): target = band middle, a chain above its band needs
 * `required − supplied − inbound`, a chain at or below target can give `min(supplied − required,
 * idle − minBuffer, window remaining)` with window remaining = `min(policy cap, on-chain cap) − used`
 * (used = 0 once the on-chain window expired), each transfer ≤ the donor's `maxTransfer` and ≥ the larger
 * `minTransfer` of both ends, at most one transfer per ordered chain pair per plan, none on a pair with a
 * transfer in flight (either direction), no overshoot. On top: each edge's route rate limit
 * (`capacity`) and minimum (`minTransfer`), and the bridge is chosen per transfer.
 *
 * Objective (lexicographic through a weight): minimize
 *   `UNMET_NEED_WEIGHT · Σ shortfall  +  Σ (fixedFee + feeBps/10⁴ · amount)`
 * where shortfall = what a chain above its band still misses to its target after the plan (base units).
 * With weight 1000 a base unit of unmet need outweighs 1000 base units of fees, so the planner never
 * gives up coverage to save a fee unless the extra coverage a message buys is below `fixedFee / 1000`.
 *
 * Formulation (the part that makes it fast enough):
 * - netting first: a chain is either a giver (at or below target, spare > 0) or a taker (above band,
 *   need > 0), never both; variables exist only on giver→taker edges that have a quoted bridge, no
 *   transfer in flight on the pair, and room for at least one legal amount;
 * - per taker an unmet-need column `s` with `Σ x + s = need` (objective `W·s + fees`, no cancelling terms);
 * - per edge a continuous amount `x` and a binary `y` (the message and its fixed fee), with the TIGHT
 *   big-M `M = min(giver spare, taker need, edge capacity, giver maxTransfer)` and `x ≥ minTransfer·y`;
 * - a bridge that is no cheaper in fixed and proportional fee, no larger in M and no smaller in
 *   minTransfer than another bridge of the same pair is dropped (dominated);
 * - `Σ_bridges y ≤ 1` per pair (greedy's one-transfer-per-route rule);
 * - amounts are scaled to units of 10^k base units (largest bound < 10⁷ units), then mapped back to
 *   base units, clamped and repaired in exact bigint so that no constraint is broken, and checked again
 *   by {@link verifyRoutedPlan}.
 *
 * The greedy plan, with each transfer put on its cheapest eligible bridge ({@link planGreedyOnEdges}), or a
 * fee-aware construction heuristic's plan when that is strictly cheaper, is given to HiGHS as the MIP start;
 * whatever HiGHS returns, the plan returned is greedy's whenever no other plan is strictly cheaper in exact
 * arithmetic, so the result is never worse than greedy.
 *
 * Solver settings (measured on `npm run bench`, see README): HiGHS compiled by TurboFan once per process
 * (planner/lp.ts; 3–10× faster solves), the model passed as arrays, the solve interrupted at its wall-clock
 * deadline, HiGHS's sub-MIP heuristics only for models of ≥ {@link SUB_MIP_HEURISTICS_MIN_BINARIES} binaries.
 * With these every bench instance of ≤ 16 chains proves a gap ≤ 0.1% well within 1 s (16 chains: p50 ~25 ms,
 * max ~120 ms on a quiet core). Valid inequalities tried and measured without effect (HiGHS derives them):
 * per-taker cover cuts `Σ y + α·s ≥ k`; a smaller amount scale (10³–10⁵ units) made the repair lose precision.
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
import { planGreedy, formatWadPct } from './greedy.js';
import type { GreedyInput } from './greedy.js';
import { solveMilp } from './lp.js';
import type { LpColumn, LpModel, LpRow, LpTerm } from './lp.js';
import { WAD } from './types.js';
import type { ChainPolicy, ChainState, Plan, Transfer } from './types.js';

/** A quoted bridge route from one chain to another. */
export interface BridgeEdge {
  from: string;
  to: string;
  /** Bridge name, e.g. `layerzero`, `wormhole`. */
  bridge: string;
  /** Proportional fee in basis points (0 ≤ feeBps < 10 000), a multiple of 0.01 bps. */
  feeBps: number;
  /** Fixed fee per message in the asset's base units (the caller converts the native-gas quote). */
  fixedFee: bigint;
  /** Expected delivery latency (seconds); reported, not optimized. */
  latencySec: number;
  /** The route's rate limit: largest amount this plan may send over it (base units). */
  capacity?: bigint;
  /** Smallest amount the route accepts (base units). */
  minTransfer?: bigint;
}

/** Input of {@link planOptimal}: greedy's input plus the quoted edges. Order of the arrays does not matter. */
export interface OptimalInput extends GreedyInput {
  edges: readonly BridgeEdge[];
}

/** Options of {@link planOptimal}. */
export interface OptimalOptions {
  /** Wall-clock budget of the MILP solve (ms). */
  timeLimitMs: number;
  /** Relative gap at which HiGHS stops (default 1e-4 = 0.01%). */
  mipRelGap?: number;
  /**
   * HiGHS's sub-MIP heuristics (RINS, RENS, root reduced cost): `auto` (default) turns them on only for
   * models of at least {@link SUB_MIP_HEURISTICS_MIN_BINARIES} binaries. Measured on the bench (1 s budget):
   * below that (≤ 32 chains) they cost the proof (16 chains: 5–8 of 24 instances unproven with them, 0
   * without; 32 chains: 8 more proofs without, and one plan 14% dearer with them); at 64 chains, where few
   * instances are proven in 1 s anyway, they found plans up to 43% cheaper on 4 of 24 instances and were
   * never worse.
   */
  subMipHeuristics?: boolean | 'auto';
}

/** Model size (binaries) from which `subMipHeuristics: 'auto'` turns HiGHS's sub-MIP heuristics on. */
export const SUB_MIP_HEURISTICS_MIN_BINARIES = 800;

/** A transfer with the bridge it goes over and its fee. */
export interface RoutedTransfer extends Transfer {
  bridge: string;
  /** fixedFee + ceil(feeBps · amount / 10⁴), base units. */
  fee: bigint;
  latencySec: number;
}

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
   * `(objective − bound) / max(fees of the plan, 1)` in percent: how much of this plan's fees a better plan
   * could at most save. Stricter than `gapPct` when unmet need dominates the objective (then `gapPct` is
   * small even if the fees are far from their optimum).
   */
  feeGapPct: number;
  /** The solver proved optimality and the gap is ≤ 0.1%. */
  optimal: boolean;
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
  /** Model size: edge variables after pruning, binaries, rows, scale (amounts solved in units of 10^k). */
  model: { givers: number; takers: number; edges: number; edgesPruned: number; binaries: number; rows: number; scaleExp: number };
  /** Greedy transfers that no quoted bridge could carry as planned (clamped to a route's capacity or dropped). */
  greedyAdjustments: string[];
  /**
   * The solver's effort: branch-and-bound nodes, simplex iterations, wall time of the HiGHS call (ms), and
   * whether HiGHS accepted the MIP start. All 0 / false when no MILP was solved (`status` `Trivial`).
   */
  search: { nodes: number; lpIterations: number; solveMs: number; startAccepted: boolean };
}

/** Result of {@link planOptimal}. */
export interface OptimalPlan extends Plan {
  transfers: RoutedTransfer[];
  totals: { fees: bigint; volume: bigint; shortfall: bigint };
  certificate: PlanCertificate;
}

/** Objective weight of one base unit of unmet need, relative to one base unit of fee. */
export const UNMET_NEED_WEIGHT = 1000n;
/** Fee rates are handled exactly in centi-basis points: 10⁶ = 100%. */
const RATE_DENOM = 1_000_000n;

const cmpKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const minB = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x < m ? x : m));
const maxB = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x > m ? x : m));
const pos = (x: bigint): bigint => (x > 0n ? x : 0n);
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const pairKey = (from: string, to: string): string => `${from}\u0000${to}`;
/** Appends `v` to the list of `k` in place (a copy per append would make building the model quadratic). */
function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Planning state of one chain, derived exactly as greedy.ts derives it. */
export interface PlannedChain {
  key: string;
  chain: ChainState;
  policy: ChainPolicy;
  targetWad: bigint;
  /** Least supply with utilization ≤ target. */
  required: bigint;
  inbound: bigint;
  /** What a chain above its band needs to reach target (after inbound), else 0. */
  need: bigint;
  /** What a chain may give in total (target, buffer and window bounds), else 0. */
  spare: bigint;
  spareBound: string;
}

function windowLeft(c: ChainState, p: ChainPolicy): bigint {
  const cap = c.onChainCap;
  const expired = c.blockTimestampSec >= cap.windowStartSec + cap.windowSec;
  const used = expired ? 0n : cap.outflowInWindow;
  return pos(minB(p.caps.maxOutflowPerWindow, cap.maxOutflowPerWindow) - used);
}
const isAbove = (borrowed: bigint, supplied: bigint, p: ChainPolicy): boolean => borrowed * WAD > p.band.highWad * supplied;
const isBelow = (borrowed: bigint, supplied: bigint, p: ChainPolicy): boolean => borrowed * WAD < p.band.lowWad * supplied;

/**
 * The chains that take part in planning (policy present, oracle ok), sorted by chainKey, with need and
 * spare as greedy.ts computes them. Input validation is greedy's (it runs first in every entry point).
 */
export function plannedChains(input: GreedyInput): PlannedChain[] {
  const policies = new Map(input.policies.map((p) => [p.chainKey, p]));
  const inboundOf = new Map<string, bigint>();
  for (const f of input.inFlight) inboundOf.set(f.to, (inboundOf.get(f.to) ?? 0n) + f.amount);
  const out: PlannedChain[] = [];
  for (const c of [...input.chains].sort((a, b) => cmpKey(a.chainKey, b.chainKey))) {
    const policy = policies.get(c.chainKey);
    if (policy === undefined || !c.oracleCheck.ok) continue;
    const targetWad = (policy.band.lowWad + policy.band.highWad) / 2n;
    const required = ceilDiv(c.borrowed * WAD, targetWad);
    const inbound = inboundOf.get(c.chainKey) ?? 0n;
    const above = isAbove(c.borrowed, c.supplied, policy);
    const bounds: [string, bigint][] = [
      ['its target', pos(c.supplied - required)],
      [`its buffer (idle ${c.idle} − minBuffer ${policy.minBufferAmount})`, pos(c.idle - policy.minBufferAmount)],
      ['the outflow window cap', windowLeft(c, policy)],
    ];
    const [spareBound, spare] = above ? ['its band', 0n] : bounds.reduce((m, b) => (b[1] < m[1] ? b : m));
    out.push({ key: c.chainKey, chain: c, policy, targetWad, required, inbound, need: above ? pos(required - c.supplied - inbound) : 0n, spare, spareBound });
  }
  return out;
}

/** An edge with its exact rate, validated. */
interface QEdge {
  from: string;
  to: string;
  bridge: string;
  /** Fee rate in centi-bps (10⁶ = 100%). */
  rate: bigint;
  feeBps: number;
  fixedFee: bigint;
  latencySec: number;
  capacity: bigint | undefined;
  minTransfer: bigint;
}

function quantizeEdges(edges: readonly BridgeEdge[]): QEdge[] {
  const seen = new Set<string>();
  const out: QEdge[] = [];
  for (const e of edges) {
    const id = `${e.from}→${e.to} over ${e.bridge}`;
    if (e.from === e.to) throw new Error(`planOptimal: edge ${id} goes from a chain to itself; remove it`);
    if (seen.has(id)) throw new Error(`planOptimal: edge ${id} appears twice; pass one quote per (from, to, bridge)`);
    seen.add(id);
    const cbps = Math.round(e.feeBps * 100);
    if (!Number.isFinite(e.feeBps) || e.feeBps < 0 || e.feeBps >= 10_000 || Math.abs(e.feeBps * 100 - cbps) > 1e-6) {
      throw new Error(`planOptimal: edge ${id} feeBps ${e.feeBps} must be a multiple of 0.01 in [0, 10000)`);
    }
    if (e.fixedFee < 0n || (e.capacity !== undefined && e.capacity < 0n) || (e.minTransfer !== undefined && e.minTransfer < 0n)) {
      throw new Error(`planOptimal: edge ${id} has a negative fixedFee, capacity or minTransfer; amounts are base units ≥ 0`);
    }
    out.push({ from: e.from, to: e.to, bridge: e.bridge, rate: BigInt(cbps), feeBps: e.feeBps, fixedFee: e.fixedFee, latencySec: e.latencySec, capacity: e.capacity, minTransfer: e.minTransfer ?? 0n });
  }
  return out.sort((a, b) => cmpKey(a.from, b.from) || cmpKey(a.to, b.to) || cmpKey(a.bridge, b.bridge));
}

/** Exact fee of `amount` over an edge, rounded up to base units. */
function feeOf(e: { rate: bigint; fixedFee: bigint }, amount: bigint): bigint {
  return e.fixedFee + ceilDiv(e.rate * amount, RATE_DENOM);
}

/** Smallest legal amount on an edge: the larger minTransfer of both ends and of the route. */
function lowerOf(e: QEdge, from: PlannedChain, to: PlannedChain): bigint {
  return maxB(from.policy.caps.minTransfer, to.policy.caps.minTransfer, e.minTransfer);
}
/** Largest legal amount of one transfer on an edge (before sharing spare/need with other transfers). */
function upperOf(e: QEdge, from: PlannedChain, to: PlannedChain): bigint {
  return minB(from.spare, to.need, from.policy.caps.maxTransfer, e.capacity ?? from.spare);
}

/** Context shared by the cost, verification and reason functions. */
interface Ctx {
  input: OptimalInput;
  nodes: Map<string, PlannedChain>;
  edges: Map<string, QEdge>;
  /** The edges of each ordered pair (pairKey), in edge order. */
  byPair: Map<string, QEdge[]>;
  inFlightPairs: Set<string>;
}
const edgeKey = (from: string, to: string, bridge: string): string => `${from}\u0000${to}\u0000${bridge}`;

function makeCtx(input: OptimalInput): Ctx {
  const nodes = new Map(plannedChains(input).map((n) => [n.key, n]));
  const edges = new Map(quantizeEdges(input.edges).map((e) => [edgeKey(e.from, e.to, e.bridge), e]));
  const inFlightPairs = new Set<string>();
  for (const f of input.inFlight) {
    inFlightPairs.add(pairKey(f.from, f.to));
    inFlightPairs.add(pairKey(f.to, f.from));
  }
  const byPair = new Map<string, QEdge[]>();
  for (const e of edges.values()) pushTo(byPair, pairKey(e.from, e.to), e);
  return { input, nodes, edges, byPair, inFlightPairs };
}

/** Exact cost of a plan, in base units × 10⁶ (so proportional fees are exact). */
interface ExactCost {
  micro: bigint;
  fees: bigint;
  volume: bigint;
  shortfall: bigint;
}

function exactCost(ctx: Ctx, transfers: readonly { from: string; to: string; bridge: string; amount: bigint }[]): ExactCost {
  const received = new Map<string, bigint>();
  let micro = 0n;
  let fees = 0n;
  let volume = 0n;
  for (const t of transfers) {
    const e = ctx.edges.get(edgeKey(t.from, t.to, t.bridge));
    if (e === undefined) throw new Error(`exactCost: no edge ${t.from}→${t.to} over ${t.bridge}`);
    micro += e.fixedFee * RATE_DENOM + e.rate * t.amount;
    fees += feeOf(e, t.amount);
    volume += t.amount;
    received.set(t.to, (received.get(t.to) ?? 0n) + t.amount);
  }
  let shortfall = 0n;
  for (const n of ctx.nodes.values()) shortfall += pos(n.need - (received.get(n.key) ?? 0n));
  micro += UNMET_NEED_WEIGHT * RATE_DENOM * shortfall;
  return { micro, fees, volume, shortfall };
}

/**
 * Every rule a routed plan must keep, checked in exact bigint from the input alone: both ends planned,
 * edge quoted, amount in [max minTransfer (both chains, route), min(maxTransfer, route capacity)], one
 * transfer per ordered pair, nothing on a pair with a transfer in flight, a giver never receives, a taker
 * never gives, per giver Σ ≤ spare (target, idle − buffer, window), per taker Σ ≤ need (no overshoot).
 * @returns the violations (empty when the plan is legal), each naming the transfer or chain.
 */
export function verifyRoutedPlan(input: OptimalInput, transfers: readonly { from: string; to: string; bridge: string; amount: bigint }[]): string[] {
  return verifyWith(makeCtx(input), transfers);
}

function verifyWith(ctx: Ctx, transfers: readonly { from: string; to: string; bridge: string; amount: bigint }[]): string[] {
  const bad: string[] = [];
  const pairs = new Set<string>();
  const out = new Map<string, bigint>();
  const inn = new Map<string, bigint>();
  for (const t of transfers) {
    const at = `${t.from}→${t.to} ${t.amount} over ${t.bridge}`;
    const from = ctx.nodes.get(t.from);
    const to = ctx.nodes.get(t.to);
    const e = ctx.edges.get(edgeKey(t.from, t.to, t.bridge));
    if (!from || !to) {
      bad.push(`${at}: an end is not planned (no policy or oracle refused)`);
      continue;
    }
    if (!e) {
      bad.push(`${at}: no quoted edge`);
      continue;
    }
    if (t.amount <= 0n) bad.push(`${at}: amount not positive`);
    if (t.amount < lowerOf(e, from, to)) bad.push(`${at}: below minTransfer ${lowerOf(e, from, to)}`);
    if (t.amount > from.policy.caps.maxTransfer) bad.push(`${at}: above ${t.from} maxTransfer ${from.policy.caps.maxTransfer}`);
    if (e.capacity !== undefined && t.amount > e.capacity) bad.push(`${at}: above route capacity ${e.capacity}`);
    const pk = pairKey(t.from, t.to);
    if (pairs.has(pk)) bad.push(`${at}: second transfer on the route ${t.from}→${t.to}`);
    if (ctx.inFlightPairs.has(pk)) bad.push(`${at}: route has a transfer in flight`);
    pairs.add(pk);
    out.set(t.from, (out.get(t.from) ?? 0n) + t.amount);
    inn.set(t.to, (inn.get(t.to) ?? 0n) + t.amount);
  }
  for (const [k, sent] of out) {
    const n = ctx.nodes.get(k)!;
    if (inn.has(k)) bad.push(`${k}: both gives and receives`);
    if (sent > n.spare) bad.push(`${k}: gives ${sent} > can spare ${n.spare} (${n.spareBound})`);
  }
  for (const [k, got] of inn) {
    const n = ctx.nodes.get(k)!;
    if (got > n.need) bad.push(`${k}: receives ${got} > needs ${n.need}`);
  }
  return bad;
}

/** A routed transfer before reasons are attached. */
interface Move {
  from: string;
  to: string;
  bridge: string;
  amount: bigint;
}

/** Cheapest edge of a pair that can carry `amount` (route capacity and minimum), ties by bridge name. */
function cheapestEdgeFor(ctx: Ctx, from: string, to: string, amount: bigint, pairEdges: readonly QEdge[]): QEdge | undefined {
  let best: QEdge | undefined;
  let bestFee = 0n;
  for (const e of pairEdges) {
    if (e.from !== from || e.to !== to) continue;
    if (e.capacity !== undefined && amount > e.capacity) continue;
    if (amount < e.minTransfer) continue;
    const f = feeOf(e, amount);
    if (best === undefined || f < bestFee) {
      best = e;
      bestFee = f;
    }
  }
  return best;
}

function edgesByPair(ctx: Ctx): Map<string, QEdge[]> {
  return ctx.byPair;
}

/** Greedy's transfers put on bridges; adjustments say where greedy's plan did not fit a quoted route. */
function greedyMoves(ctx: Ctx): { moves: Move[]; adjustments: string[] } {
  const plan = planGreedy(ctx.input);
  const byPair = edgesByPair(ctx);
  const moves: Move[] = [];
  const adjustments: string[] = [];
  for (const t of plan.transfers) {
    const pe = byPair.get(pairKey(t.from, t.to)) ?? [];
    const e = cheapestEdgeFor(ctx, t.from, t.to, t.amount, pe);
    if (e) {
      moves.push({ from: t.from, to: t.to, bridge: e.bridge, amount: t.amount });
      continue;
    }
    if (pe.length === 0) {
      adjustments.push(`greedy ${t.from}→${t.to} ${t.amount}: no bridge quoted on this route; dropped`);
      continue;
    }
    // Largest amount any bridge of the pair carries, if still legal for both chains and the route.
    const from = ctx.nodes.get(t.from)!;
    const to = ctx.nodes.get(t.to)!;
    let bestE: QEdge | undefined;
    let bestAmt = 0n;
    for (const q of pe) {
      const amt = minB(t.amount, q.capacity ?? t.amount);
      if (amt >= lowerOf(q, from, to) && amt > 0n && (amt > bestAmt || (amt === bestAmt && bestE && feeOf(q, amt) < feeOf(bestE, amt)))) {
        bestE = q;
        bestAmt = amt;
      }
    }
    if (bestE) {
      adjustments.push(`greedy ${t.from}→${t.to} ${t.amount}: above every route's capacity; clamped to ${bestAmt} over ${bestE.bridge}`);
      moves.push({ from: t.from, to: t.to, bridge: bestE.bridge, amount: bestAmt });
    } else {
      adjustments.push(`greedy ${t.from}→${t.to} ${t.amount}: no bridge accepts it (capacity/minTransfer of the route); dropped`);
    }
  }
  return { moves, adjustments };
}

/**
 * A fee-aware construction heuristic (a better MIP start than greedy on fee-heavy instances): repeatedly
 * take the legal (giver, taker, bridge) move of the largest amount it can carry that has the lowest fee per
 * unit moved, one transfer per pair, until none is left. Deterministic (ties by chainKeys, then bridge).
 */
function feeAwareMoves(ctx: Ctx): Move[] {
  const spare = new Map([...ctx.nodes.values()].map((n) => [n.key, n.spare]));
  const need = new Map([...ctx.nodes.values()].map((n) => [n.key, n.need]));
  const used = new Set<string>();
  type Cand = { e: QEdge; pair: string; cap: bigint; lower: bigint; alive: boolean; amount: bigint; fee: bigint; ratio: number };
  const cand: Cand[] = [...ctx.edges.values()].flatMap((e) => {
    const g = ctx.nodes.get(e.from);
    const t = ctx.nodes.get(e.to);
    if (g === undefined || t === undefined || g.spare <= 0n || t.need <= 0n || ctx.inFlightPairs.has(pairKey(e.from, e.to))) return [];
    return [{ e, pair: pairKey(e.from, e.to), cap: minB(g.policy.caps.maxTransfer, e.capacity ?? g.spare), lower: lowerOf(e, g, t), alive: true, amount: 0n, fee: 0n, ratio: 0 }];
  });
  // A candidate's amount only changes when its giver's spare or its taker's need does: re-evaluate those only.
  // One that cannot carry its minimum never will again (spare and need only shrink, a used pair stays used).
  const byChain = new Map<string, Cand[]>();
  for (const c of cand) {
    pushTo(byChain, c.e.from, c);
    pushTo(byChain, c.e.to, c);
  }
  const evaluate = (c: Cand): void => {
    if (!c.alive) return;
    const amount = minB(spare.get(c.e.from)!, need.get(c.e.to)!, c.cap);
    if (used.has(c.pair) || amount <= 0n || amount < c.lower) {
      c.alive = false;
      return;
    }
    c.amount = amount;
    c.fee = feeOf(c.e, amount);
    c.ratio = Number(c.fee) / Number(amount);
  };
  // Exact order: fee/amount lower, else amount larger. The float ratio decides only when clearly apart.
  const better = (c: Cand, b: Cand): boolean => {
    if (c.ratio < b.ratio * (1 - 1e-9)) return true;
    if (c.ratio > b.ratio * (1 + 1e-9)) return false;
    const l = c.fee * b.amount;
    const r = b.fee * c.amount;
    return l < r || (l === r && c.amount > b.amount);
  };
  cand.forEach(evaluate);
  const moves: Move[] = [];
  for (;;) {
    let best: Cand | undefined;
    for (const c of cand) if (c.alive && (best === undefined || better(c, best))) best = c; // ties: edge order (cand is sorted)
    if (best === undefined) break;
    const { e, amount } = best;
    used.add(best.pair);
    spare.set(e.from, spare.get(e.from)! - amount);
    need.set(e.to, need.get(e.to)! - amount);
    moves.push({ from: e.from, to: e.to, bridge: e.bridge, amount });
    for (const c of byChain.get(e.from)!) evaluate(c);
    for (const c of byChain.get(e.to)!) evaluate(c);
  }
  return moves;
}

/**
 * The greedy baseline on quoted edges: {@link planGreedy}'s transfers, each over the bridge with the
 * lowest fee for its amount among those whose capacity and minimum accept it. A transfer no bridge accepts
 * is clamped to the largest route capacity (when still ≥ the minimums) or dropped; `adjustments` lists them.
 * @returns the routed plan with fees, totals and its exact objective (same scale as the certificate).
 */
export function planGreedyOnEdges(input: OptimalInput): { transfers: RoutedTransfer[]; unresolved: Plan['unresolved']; totals: OptimalPlan['totals']; objective: number; adjustments: string[] } {
  const ctx = makeCtx(input);
  const { moves, adjustments } = greedyMoves(ctx);
  const cost = exactCost(ctx, moves);
  const transfers = moves.map((m) => routed(ctx, m, moves, 'greedy'));
  return { transfers, unresolved: unresolvedAfter(ctx, moves), totals: { fees: cost.fees, volume: cost.volume, shortfall: cost.shortfall }, objective: microToNumber(cost.micro), adjustments };
}

const microToNumber = (micro: bigint): number => Number(micro) / Number(RATE_DENOM);
/** Base units × 10⁶ → exact decimal string of base units, e.g. `1234500000n` → `1234.500000`. */
const microToDecimal = (micro: bigint): string => `${micro / RATE_DENOM}.${(micro % RATE_DENOM).toString().padStart(6, '0')}`;

/** The MILP over giver→taker edges, with the name of each column's edge. */
interface Built {
  model: LpModel;
  edges: { e: QEdge; M: bigint; L: bigint; x: string; y: string }[];
  /** Taker chainKey → its unmet-need column. */
  shortfallCols: Map<string, string>;
  scale: bigint;
  scaleExp: number;
  pruned: number;
  givers: number;
  takers: number;
}

function buildModel(ctx: Ctx): Built {
  const nodes = [...ctx.nodes.values()];
  const givers = nodes.filter((n) => n.spare > 0n);
  const takers = nodes.filter((n) => n.need > 0n);
  const byPair = edgesByPair(ctx);
  const cand: { e: QEdge; M: bigint; L: bigint }[] = [];
  let pruned = 0;
  for (const g of givers) {
    for (const t of takers) {
      const pk = pairKey(g.key, t.key);
      const pe = byPair.get(pk);
      if (!pe || ctx.inFlightPairs.has(pk)) continue;
      const ok = pe.map((e) => ({ e, M: upperOf(e, g, t), L: lowerOf(e, g, t) })).filter((c) => c.M > 0n && c.M >= c.L);
      // Drop a bridge dominated by another of the same pair (no cheaper, no larger, no lower minimum).
      for (const c of ok) {
        const dominated = ok.some(
          (d) =>
            d !== c &&
            d.e.fixedFee <= c.e.fixedFee &&
            d.e.rate <= c.e.rate &&
            d.M >= c.M &&
            d.L <= c.L &&
            (d.e.fixedFee < c.e.fixedFee || d.e.rate < c.e.rate || d.M > c.M || d.L < c.L || cmpKey(d.e.bridge, c.e.bridge) < 0),
        );
        if (dominated) pruned++;
        else cand.push(c);
      }
    }
  }
  let maxAmt = 1n;
  for (const n of nodes) maxAmt = maxB(maxAmt, n.need, n.spare);
  const scaleExp = Math.max(0, maxAmt.toString().length - 7);
  const scale = 10n ** BigInt(scaleExp);
  const u = (a: bigint): number => Number(a) / Number(scale);
  const W = Number(UNMET_NEED_WEIGHT);

  const edges = cand.map((c, i) => ({ ...c, x: `x${i}`, y: `y${i}` }));
  const objective: LpTerm[] = [];
  const columns: LpColumn[] = [];
  const rows: LpRow[] = [];
  const outTerms = new Map<string, LpTerm[]>();
  const inTerms = new Map<string, LpTerm[]>();
  const pairY = new Map<string, LpTerm[]>();
  for (const ed of edges) {
    const { e, M, L, x, y } = ed;
    columns.push({ name: x, lower: 0, upper: u(M) });
    columns.push({ name: y, lower: 0, upper: 1, binary: true });
    objective.push({ coef: Number(e.rate) / Number(RATE_DENOM), name: x });
    if (e.fixedFee > 0n) objective.push({ coef: u(e.fixedFee), name: y });
    rows.push({ name: `u${x}`, terms: [{ coef: 1, name: x }, { coef: -u(M), name: y }], op: '<=', rhs: 0 });
    if (L > 0n) rows.push({ name: `l${x}`, terms: [{ coef: 1, name: x }, { coef: -u(L), name: y }], op: '>=', rhs: 0 });
    pushTo(outTerms, e.from, { coef: 1, name: x });
    pushTo(inTerms, e.to, { coef: 1, name: x });
    const pk = pairKey(e.from, e.to);
    pushTo(pairY, pk, { coef: 1, name: y });
  }
  let gi = 0;
  for (const g of givers) {
    const terms = outTerms.get(g.key);
    gi++;
    if (terms && terms.length > 1) rows.push({ name: `g${gi}`, terms, op: '<=', rhs: u(g.spare) });
  }
  // Unmet need as its own column per taker (Σ x + s = need): the objective then holds W·s + fees directly,
  // instead of W·(need − Σ x), whose large terms cancel and drown the fees in rounding.
  const shortfallCols = new Map<string, string>();
  let ti = 0;
  for (const t of takers) {
    ti++;
    const sName = `s${ti}`;
    shortfallCols.set(t.key, sName);
    columns.push({ name: sName, lower: 0, upper: u(t.need) });
    objective.push({ coef: W, name: sName });
    rows.push({ name: `t${ti}`, terms: [...(inTerms.get(t.key) ?? []), { coef: 1, name: sName }], op: '=', rhs: u(t.need) });
  }
  let pi = 0;
  for (const terms of pairY.values()) {
    pi++;
    if (terms.length > 1) rows.push({ name: `r${pi}`, terms, op: '<=', rhs: 1 });
  }
  return {
    model: { objective, objectiveConstant: 0, columns, rows },
    edges,
    shortfallCols,
    scale,
    scaleExp,
    pruned,
    givers: givers.length,
    takers: takers.length,
  };
}

/** Solver values → legal moves in exact base units (rounded, clamped, one per pair, Σ within spare/need). */
function movesFromSolution(ctx: Ctx, b: Built, values: ReadonlyMap<string, number>): Move[] {
  const toBase = (v: number): bigint => {
    if (!(v > 0)) return 0n;
    const s = Number(b.scale);
    return s <= 1e6 ? BigInt(Math.round(v * s)) : BigInt(Math.round(v * 1e6)) * (b.scale / 1_000_000n);
  };
  type Cand = { e: QEdge; M: bigint; L: bigint; amount: bigint };
  const perPair = new Map<string, Cand[]>();
  for (const ed of b.edges) {
    const amount = minB(toBase(values.get(ed.x) ?? 0), ed.M);
    if (amount <= 0n) continue;
    const pk = pairKey(ed.e.from, ed.e.to);
    pushTo(perPair, pk, { e: ed.e, M: ed.M, L: ed.L, amount });
  }
  // One transfer per pair: keep the largest (solver noise only), carrying the others' amount up to its M.
  const cands: Cand[] = [];
  for (const list of perPair.values()) {
    list.sort((p, q) => (p.amount === q.amount ? cmpKey(p.e.bridge, q.e.bridge) : p.amount > q.amount ? -1 : 1));
    const keep = list[0]!;
    const total = list.reduce((s, c) => s + c.amount, 0n);
    cands.push({ ...keep, amount: minB(total, keep.M) });
  }
  // Σ per giver ≤ spare and Σ per taker ≤ need: trim the largest transfers first, never below their minimum;
  // drop the smallest when trimming cannot absorb the excess.
  const trim = (key: (c: Cand) => string, limitOf: (k: string) => bigint): void => {
    const groups = new Map<string, Cand[]>();
    for (const c of cands) pushTo(groups, key(c), c);
    for (const [k, list] of groups) {
      let excess = list.reduce((s, c) => s + c.amount, 0n) - limitOf(k);
      if (excess <= 0n) continue;
      list.sort((p, q) => (p.amount === q.amount ? cmpKey(p.e.to + p.e.from, q.e.to + q.e.from) : p.amount > q.amount ? -1 : 1));
      for (const c of list) {
        const r = minB(excess, pos(c.amount - c.L));
        c.amount -= r;
        excess -= r;
      }
      for (const c of [...list].reverse()) {
        if (excess <= 0n) break;
        excess -= c.amount;
        c.amount = 0n;
      }
    }
  };
  trim((c) => c.e.from, (k) => ctx.nodes.get(k)!.spare);
  trim((c) => c.e.to, (k) => ctx.nodes.get(k)!.need);
  // Polish: the solver's amounts are exact only to its tolerances (a few base units once scaled back). With
  // the chosen transfers fixed, more amount is always better (each unit lowers unmet need by 1 at a fee
  // rate < 1), so fill each transfer up to its M, its taker's remaining need and its giver's remaining spare.
  const sent = new Map<string, bigint>();
  const got = new Map<string, bigint>();
  for (const c of cands) {
    sent.set(c.e.from, (sent.get(c.e.from) ?? 0n) + c.amount);
    got.set(c.e.to, (got.get(c.e.to) ?? 0n) + c.amount);
  }
  for (const c of [...cands].sort((p, q) => cmpKey(p.e.to, q.e.to) || cmpKey(p.e.from, q.e.from))) {
    if (c.amount === 0n) continue;
    const add = pos(minB(c.M - c.amount, ctx.nodes.get(c.e.to)!.need - got.get(c.e.to)!, ctx.nodes.get(c.e.from)!.spare - sent.get(c.e.from)!));
    c.amount += add;
    got.set(c.e.to, got.get(c.e.to)! + add);
    sent.set(c.e.from, sent.get(c.e.from)! + add);
  }
  return cands
    .filter((c) => c.amount > 0n && c.amount >= c.L)
    .map((c) => ({ from: c.e.from, to: c.e.to, bridge: c.e.bridge, amount: c.amount }))
    .sort((p, q) => cmpKey(p.to, q.to) || cmpKey(p.from, q.from));
}

function utilPct(borrowed: bigint, supplied: bigint): string {
  if (supplied === 0n) return borrowed === 0n ? '0.00%' : 'unbounded (nothing supplied)';
  return formatWadPct((borrowed * WAD) / supplied);
}

/** The reason of one routed transfer: needs, spare, the bound on the amount, the bridge and its alternatives. */
function routed(ctx: Ctx, m: Move, all: readonly Move[], by: 'solver' | 'heuristic' | 'greedy'): RoutedTransfer {
  const e = ctx.edges.get(edgeKey(m.from, m.to, m.bridge))!;
  const from = ctx.nodes.get(m.from)!;
  const to = ctx.nodes.get(m.to)!;
  const fee = feeOf(e, m.amount);
  const into = all.filter((t) => t.to === m.to);
  const outOf = all.filter((t) => t.from === m.from);
  const received = into.reduce((s, t) => s + t.amount, 0n);
  const sent = outOf.reduce((s, t) => s + t.amount, 0n);
  const bound =
    m.amount === to.need
      ? `all ${m.to} needs`
      : m.amount === from.policy.caps.maxTransfer
        ? `${m.from} maxTransfer`
        : e.capacity !== undefined && m.amount === e.capacity
          ? `route capacity of ${m.bridge}`
          : m.amount === from.spare
            ? `${m.from} limited by ${from.spareBound}`
            : `${m.to} need shared by ${into.length} transfer(s), ${m.from} spare by ${outOf.length}`;
  const alts = (ctx.byPair.get(pairKey(m.from, m.to)) ?? [])
    .filter((q) => q.bridge !== m.bridge)
    .map((q) => {
      if (q.capacity !== undefined && m.amount > q.capacity) return `${q.bridge}: capacity ${q.capacity} too low`;
      if (m.amount < q.minTransfer) return `${q.bridge}: below its minTransfer ${q.minTransfer}`;
      return `${q.bridge}: fee ${feeOf(q, m.amount)}`;
    });
  const reason =
    `${m.to} utilization ${utilPct(to.chain.borrowed, to.chain.supplied)} > high ${formatWadPct(to.policy.band.highWad)}, ` +
    `needs ${to.need} to reach target ${formatWadPct(to.targetWad)} (gets ${received} in this plan); ` +
    `${m.from} utilization ${utilPct(from.chain.borrowed, from.chain.supplied)} ≤ target ${formatWadPct(from.targetWad)}, can spare ${from.spare} (gives ${sent}); ` +
    `moves ${m.amount} (${bound}) over ${m.bridge}: fee ${fee} = fixed ${e.fixedFee} + ${e.feeBps} bps, latency ${e.latencySec}s` +
    (alts.length > 0 ? `; other bridges: ${alts.join(', ')}` : '') +
    `; chosen by ${by === 'solver' ? 'the MILP (min unmet need, then fees)' : by === 'heuristic' ? 'the fee-aware heuristic (the MILP found nothing cheaper in its budget)' : 'the greedy baseline (cheapest bridge for its amount)'}`;
  return { from: m.from, to: m.to, amount: m.amount, bridge: m.bridge, fee, latencySec: e.latencySec, reason };
}

/** Chains out of band after the moves (planned ones), plus greedy's reasons for chains left out of planning. */
function unresolvedAfter(ctx: Ctx, moves: readonly Move[]): Plan['unresolved'] {
  const out: Plan['unresolved'] = [];
  const policies = new Map(ctx.input.policies.map((p) => [p.chainKey, p]));
  for (const c of ctx.input.chains) {
    const p = policies.get(c.chainKey);
    if (p === undefined) {
      out.push({ chainKey: c.chainKey, reason: `${c.chainKey} left out of planning: no policy configured for it` });
    } else if (!c.oracleCheck.ok && (isAbove(c.borrowed, c.supplied, p) || isBelow(c.borrowed, c.supplied, p))) {
      out.push({
        chainKey: c.chainKey,
        reason:
          `${c.chainKey} utilization ${utilPct(c.borrowed, c.supplied)} outside band [${formatWadPct(p.band.lowWad)}, ${formatWadPct(p.band.highWad)}] ` +
          `but left out of planning: oracle refused (${c.oracleCheck.reason ?? 'no reason given'})`,
      });
    }
  }
  for (const n of ctx.nodes.values()) {
    const got = moves.filter((m) => m.to === n.key).reduce((s, m) => s + m.amount, 0n);
    const gave = moves.filter((m) => m.from === n.key).reduce((s, m) => s + m.amount, 0n);
    const s = n.chain.supplied + got - gave;
    if (isAbove(n.chain.borrowed, s, n.policy)) {
      const short = pos(n.need - got);
      out.push({
        chainKey: n.key,
        reason:
          `${n.key} utilization ${utilPct(n.chain.borrowed, s)} > high ${formatWadPct(n.policy.band.highWad)} after this plan: ` +
          (short === 0n
            ? `in-flight transfers bringing ${n.inbound} cover what it needs to reach target ${formatWadPct(n.targetWad)}; waiting for delivery`
            : `still short ${short} of target ${formatWadPct(n.targetWad)}; no further legal transfer (donors' spare, caps, minimums, routes in flight or without a quote)`),
      });
    } else if (isBelow(n.chain.borrowed, s, n.policy)) {
      out.push({
        chainKey: n.key,
        reason: `${n.key} utilization ${utilPct(n.chain.borrowed, s)} < low ${formatWadPct(n.policy.band.lowWad)} of band [${formatWadPct(n.policy.band.lowWad)}, ${formatWadPct(n.policy.band.highWad)}]: nothing above its band takes more of its liquidity`,
      });
    }
  }
  return out.sort((a, b) => cmpKey(a.chainKey, b.chainKey));
}

/**
 * Plans one asset optimally: the fewest unmet need, then the lowest fees, within every rule of greedy.ts
 * plus the edges' capacities and minimums, over the cheapest bridge per transfer.
 *
 * @returns the plan (transfers ordered by destination then source, each with bridge, fee and reason),
 *   chains still out of band, totals, and a {@link PlanCertificate}. The plan's objective is never above
 *   the greedy baseline's ({@link planGreedyOnEdges}): on a tie or a worse solver result greedy's plan is returned.
 * @throws {Error} on greedy's input errors (duplicate chains or policies, malformed band, negative amounts),
 *   on a malformed edge (self loop, duplicate, feeBps outside [0, 10000) or finer than 0.01 bps, negative
 *   amounts), or when HiGHS cannot parse the generated model.
 * @example
 *   const plan = await planOptimal({ chains, policies, inFlight, edges }, { timeLimitMs: 1000 });
 *   console.log(plan.certificate.status, plan.certificate.gapPct);
 */
export async function planOptimal(input: OptimalInput, opts: OptimalOptions): Promise<OptimalPlan> {
  const t0 = performance.now();
  if (!(opts.timeLimitMs > 0)) throw new Error(`planOptimal: timeLimitMs must be > 0 (got ${opts.timeLimitMs})`);
  const ctx = makeCtx(input);
  const greedy = greedyMoves(ctx);
  const gCost = exactCost(ctx, greedy.moves);
  if (verifyWith(ctx, greedy.moves).length > 0) {
    throw new Error(`planOptimal: the greedy baseline broke a rule (${verifyWith(ctx, greedy.moves).join('; ')}); this is a planner bug`);
  }
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
  let search: PlanCertificate['search'] = { nodes: 0, lpIterations: 0, solveMs: 0, startAccepted: false };
  if (b.edges.length === 0) {
    // Nothing can move: the plan is empty and its cost is the bound.
    boundMicro = Number(gCost.micro);
  } else {
    // MIP start: greedy's transfers, on the model's columns.
    const start = new Map<string, number>();
    const colOf = new Map(b.edges.map((ed) => [edgeKey(ed.e.from, ed.e.to, ed.e.bridge), ed]));
    for (const m of chosen) {
      const ed = colOf.get(edgeKey(m.from, m.to, m.bridge));
      if (ed === undefined) continue;
      start.set(ed.x, Number(m.amount) / Number(b.scale));
      start.set(ed.y, 1);
    }
    for (const [taker, col] of b.shortfallCols) {
      const got = chosen.filter((m) => m.to === taker).reduce((acc, m) => acc + m.amount, 0n);
      start.set(col, Number(pos(ctx.nodes.get(taker)!.need - got)) / Number(b.scale));
    }
    // The solve stops at its deadline (planner/lp.ts interrupts HiGHS); the work after it (repair,
    // verification, reasons) takes a fraction of the work before it: keep 5% of the budget and a quarter of
    // the time already spent for it.
    const budget = Math.max(1, 0.95 * opts.timeLimitMs - 1.25 * (performance.now() - t0));
    const heuristics = opts.subMipHeuristics ?? 'auto';
    const subMipHeuristics = heuristics === 'auto' ? b.edges.length >= SUB_MIP_HEURISTICS_MIN_BINARIES : heuristics;
    const r = await solveMilp(b.model, start, { timeLimitMs: budget, mipRelGap: opts.mipRelGap, subMipHeuristics });
    status = r.status;
    search = { nodes: r.nodes, lpIterations: r.lpIterations, solveMs: r.solveMs, startAccepted: r.startAccepted };
    solverOptimal = r.status === 'Optimal';
    boundMicro = r.bound * Number(b.scale) * Number(RATE_DENOM);
    if (r.values.size > 0) {
      const moves = movesFromSolution(ctx, b, r.values);
      const violations = verifyWith(ctx, moves);
      const c = exactCost(ctx, moves);
      if (violations.length === 0 && c.micro < cost.micro) {
        chosen = moves;
        cost = c;
        by = 'solver';
      }
    }
  }
  const objective = microToNumber(cost.micro);
  const bound = Math.min(objective, boundMicro / Number(RATE_DENOM));
  const gapPct = objective <= 0 ? 0 : Math.max(0, ((objective - bound) / Math.max(objective, 1)) * 100);
  const transfers = chosen.map((m) => routed(ctx, m, chosen, by));
  return {
    transfers,
    unresolved: unresolvedAfter(ctx, chosen),
    totals: { fees: cost.fees, volume: cost.volume, shortfall: cost.shortfall },
    certificate: {
      solver: 'highs',
      status,
      objective,
      bound,
      gapPct,
      feeGapPct: Math.max(0, ((objective - bound) / Math.max(Number(cost.fees), 1)) * 100),
      optimal: solverOptimal && gapPct <= 0.1,
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
