/**
 * The route part the planners' MILPs share (planner/milp.ts, the band planner's; planner/yield.ts, the yield
 * planner's), written once:
 * - per edge (pair, bridge) its bounds under the message rule ({@link edgeBounds}): the largest total `M`, the smallest
 *   and largest message `L`, `c`, the most messages `K`;
 * - the scaling of amounts to units of 10^k base units, largest bound < 10⁷ units ({@link modelScale});
 * - per edge a continuous amount column `x{i}` in `[0, M]` and a message-count column `y{i}` (a binary when `K = 1`,
 *   else an integer in `[0, K]`), rows `x ≤ min(c, M)·y` and, when `L > 0`, `x ≥ L·y`, the objective terms each
 *   planner prices them with, and the per-chain outflow / inflow terms and per-pair message terms the planners'
 *   own rows are built from ({@link buildRouteEdgeModel});
 * - a plan's messages as the edges' MIP start ({@link edgeStartValues});
 * - the reading back of a solution's per-edge amounts: trimmed to per-chain limits ({@link trimToLimits}), summed per
 *   chain ({@link flowsOf}) and split into legal messages ({@link splitEdgeAmounts}).
 * Each planner adds its own rows and columns (unmet need, spare, receiving, yield segments) to what this returns.
 */
import { ceilDiv, cmpKey, maxB, minB, pos, pushTo } from './bigint.js';
import type { LpColumn, LpRow, LpTerm } from './lp.js';
import { edgeKey, lowerOf, messageCapOf, pairKey, RATE_DENOM, splitMessages } from './routing.js';
import type { Ctx, Move, PlannedChain, QEdge } from './routing.js';

/** One edge's columns: amount `x` (scaled), message count `y`. */
export interface ModelEdge {
  e: QEdge;
  /** Largest total on the edge (base units). */
  M: bigint;
  /** Smallest message (base units). */
  L: bigint;
  /** Largest message (base units). */
  cap: bigint;
  /** Most messages on the edge. */
  K: number;
  x: string;
  y: string;
}

/** An edge's bounds before it gets its columns. */
export type EdgeBounds = Omit<ModelEdge, 'x' | 'y'>;

/**
 * The bounds of edge `e` from `from` to `to` (the context's planned chains) when the pair may move at most `room`
 * base units: total `min(room, e.capacity)`, largest message `c` (the donor's maxTransfer and the route capacity),
 * smallest `L` (the largest minimum), `K` messages (1 under the `one` rule; else at most `maxMessagesPerRoute`, the
 * fewest messages of size `c` that carry the total, and `total / L`), `M = min(total, c·K)`.
 * @returns the bounds, or `undefined` when the edge can carry no legal message.
 */
export function edgeBounds(ctx: Ctx, e: QEdge, from: PlannedChain, to: PlannedChain, room: bigint): EdgeBounds | undefined {
  const several = ctx.rules.messagesPerRoute === 'several';
  const cap = messageCapOf(e, from);
  const L = lowerOf(e, from, to);
  const total = minB(room, e.capacity ?? room);
  if (cap <= 0n || total <= 0n) return undefined;
  let K = several ? Math.min(ctx.rules.maxMessagesPerRoute, Number(ceilDiv(total, cap))) : 1;
  if (several && L > 0n) K = Math.min(K, Number(total / L));
  if (K < 1) return undefined;
  const M = minB(total, cap * BigInt(K));
  return M > 0n && M >= L ? { e, M, L, cap, K } : undefined;
}

/** A model's amount scale: amounts in units of `scale = 10^scaleExp` base units, `u` maps base units to them. */
export interface ModelScale {
  scale: bigint;
  scaleExp: number;
  /** Base units → model units (float). */
  u: (a: bigint) => number;
}

/** The scale that keeps the largest of `amounts` (base units; at least 1) below 10⁷ model units. */
export function modelScale(amounts: readonly bigint[]): ModelScale {
  const maxAmt = maxB(1n, ...amounts);
  const scaleExp = Math.max(0, maxAmt.toString().length - 7);
  const scale = 10n ** BigInt(scaleExp);
  return { scale, scaleExp, u: (a: bigint): number => Number(a) / Number(scale) };
}

/** An edge's proportional fee as a fraction of the amount (float). */
export const feeRateOf = (e: QEdge): number => Number(e.rate) / Number(RATE_DENOM);

/** Options of {@link buildRouteEdgeModel}. */
export interface RouteEdgeModelOptions {
  /** Base units → model units ({@link modelScale}). */
  u: (a: bigint) => number;
  /**
   * The objective coefficients of an edge's `x` (per model unit moved) and `y` (per message); an `undefined` one adds
   * no objective term. Terms are added in edge order, `x` before `y`.
   */
  objectiveOf: (ed: ModelEdge) => { x?: number; y?: number };
}

/** The edges' columns, rows and objective terms, and the terms the planners' own rows are built from. */
export interface RouteEdgeModel {
  /** The edges, `x{i}` / `y{i}` in candidate order. */
  edges: ModelEdge[];
  /** `x{i}`, `y{i}` per edge, in edge order. */
  columns: LpColumn[];
  /** `ux{i}` (`x ≤ min(c, M)·y`) and, when `L > 0`, `lx{i}` (`x ≥ L·y`) per edge. */
  rows: LpRow[];
  objective: LpTerm[];
  /** Per chainKey: `1·x` of the edges leaving it / arriving at it, in edge order. */
  outTerms: Map<string, LpTerm[]>;
  inTerms: Map<string, LpTerm[]>;
  /** Per pairKey: `1·y` of the pair's edges (the `one` rule's `Σ y ≤ 1`). */
  pairY: Map<string, LpTerm[]>;
}

/** The columns, rows and objective terms of the edges `cand` (module doc); the caller appends its own to them. */
export function buildRouteEdgeModel(cand: readonly EdgeBounds[], opts: RouteEdgeModelOptions): RouteEdgeModel {
  const { u } = opts;
  const edges: ModelEdge[] = cand.map((c, i) => ({ ...c, x: `x${i}`, y: `y${i}` }));
  const columns: LpColumn[] = [];
  const rows: LpRow[] = [];
  const objective: LpTerm[] = [];
  const outTerms = new Map<string, LpTerm[]>();
  const inTerms = new Map<string, LpTerm[]>();
  const pairY = new Map<string, LpTerm[]>();
  for (const ed of edges) {
    const { e, M, L, cap, K, x, y } = ed;
    columns.push({ name: x, lower: 0, upper: u(M) });
    columns.push(K === 1 ? { name: y, lower: 0, upper: 1, binary: true } : { name: y, lower: 0, upper: K, integer: true });
    const coef = opts.objectiveOf(ed);
    if (coef.x !== undefined) objective.push({ coef: coef.x, name: x });
    if (coef.y !== undefined) objective.push({ coef: coef.y, name: y });
    rows.push({ name: `u${x}`, terms: [{ coef: 1, name: x }, { coef: -u(minB(cap, M)), name: y }], op: '<=', rhs: 0 });
    if (L > 0n) rows.push({ name: `l${x}`, terms: [{ coef: 1, name: x }, { coef: -u(L), name: y }], op: '>=', rhs: 0 });
    pushTo(outTerms, e.from, { coef: 1, name: x });
    pushTo(inTerms, e.to, { coef: 1, name: x });
    pushTo(pairY, pairKey(e.from, e.to), { coef: 1, name: y });
  }
  return { edges, columns, rows, objective, outTerms, inTerms, pairY };
}

/** A plan's messages as the edges' MIP start: per edge its total (model units at `scale`) and message count. */
export function edgeStartValues(edges: readonly ModelEdge[], scale: bigint, moves: readonly Move[]): Map<string, number> {
  const start = new Map<string, number>();
  const colOf = new Map(edges.map((ed) => [edgeKey(ed.e.from, ed.e.to, ed.e.bridge), ed]));
  for (const m of moves) {
    const ed = colOf.get(edgeKey(m.from, m.to, m.bridge));
    if (ed === undefined) continue;
    start.set(ed.x, (start.get(ed.x) ?? 0) + Number(m.amount) / Number(scale));
    start.set(ed.y, (start.get(ed.y) ?? 0) + 1);
  }
  return start;
}

/** One edge's total as read back from a solution (base units) and its message count. */
export interface EdgeAmount {
  ed: ModelEdge;
  amount: bigint;
  k: number;
}

/**
 * Brings each group's Σ amount (groups by `key`, e.g. the source chain) within `limit(group)`, in place: trims the
 * largest first (equal amounts in `tieKey` order), never below their minimum `L·k`; then zeroes the smallest whole
 * while trimming could not absorb the excess.
 */
export function trimToLimits<C extends EdgeAmount>(cands: readonly C[], key: (c: C) => string, limit: (k: string) => bigint, tieKey: (c: C) => string): void {
  const groups = new Map<string, C[]>();
  for (const c of cands) pushTo(groups, key(c), c);
  for (const [k, list] of groups) {
    let excess = list.reduce((s, c) => s + c.amount, 0n) - limit(k);
    if (excess <= 0n) continue;
    list.sort((p, q) => (p.amount === q.amount ? cmpKey(tieKey(p), tieKey(q)) : p.amount > q.amount ? -1 : 1));
    for (const c of list) {
      const r = minB(excess, pos(c.amount - c.ed.L * BigInt(c.k)));
      c.amount -= r;
      excess -= r;
    }
    for (const c of [...list].reverse()) {
      if (excess <= 0n) break;
      excess -= c.amount;
      c.amount = 0n;
    }
  }
}

/** Σ amount per source chain (`sent`) and per destination chain (`got`), base units. */
export function flowsOf(cands: readonly EdgeAmount[]): { sent: Map<string, bigint>; got: Map<string, bigint> } {
  const sent = new Map<string, bigint>();
  const got = new Map<string, bigint>();
  for (const c of cands) {
    sent.set(c.ed.e.from, (sent.get(c.ed.e.from) ?? 0n) + c.amount);
    got.set(c.ed.e.to, (got.get(c.ed.e.to) ?? 0n) + c.amount);
  }
  return { sent, got };
}

/** Route order of edge amounts: destination, source, bridge (code-unit order). */
export const byRoute = (p: EdgeAmount, q: EdgeAmount): number => cmpKey(p.ed.e.to, q.ed.e.to) || cmpKey(p.ed.e.from, q.ed.e.from) || cmpKey(p.ed.e.bridge, q.ed.e.bridge);

/**
 * Each edge's amount as legal messages, in route order ({@link byRoute}; sorts `cands` in place): the fewest
 * messages that carry it (each message pays the fixed fee), never more than its `k`, split by {@link splitMessages};
 * an amount (> 0) that `k'` messages of `[L, c]` cannot carry is dropped.
 */
export function splitEdgeAmounts(cands: EdgeAmount[]): Move[] {
  const moves: Move[] = [];
  for (const c of cands.sort(byRoute)) {
    if (c.amount <= 0n) continue;
    const k = Math.min(c.k, Number(ceilDiv(c.amount, c.ed.cap)));
    if (c.amount < c.ed.L * BigInt(k) || c.amount > c.ed.cap * BigInt(k)) continue;
    for (const amount of splitMessages(c.amount, k, c.ed.L, c.ed.cap)) moves.push({ from: c.ed.e.from, to: c.ed.e.to, bridge: c.ed.e.bridge, amount });
  }
  return moves;
}
