/**
 * The optimal planner's MILP (solved by planner/lp.ts) and the reading of its solution back into exact,
 * legal messages.
 *
 * Formulation:
 * - netting first: a chain is either a giver (at or below target, spare > 0) or a taker (above band,
 *   need > 0), never both; variables exist only on giver→taker edges that have a quoted bridge, no
 *   transfer in flight on the pair, and room for at least one legal message;
 * - per taker an unmet-need column `s` with `Σ x + s = need` (objective `W·s + fees`, no cancelling terms);
 * - per edge (pair, bridge) a continuous amount `x` and an integer message count `k` (a binary when the edge can
 *   carry one message only: always under the `one` rule, or when one message can carry all the edge may move),
 *   with `L·k ≤ x ≤ c·k` (`c` the largest message: the donor's maxTransfer and the route capacity, `L` the
 *   largest minimum) and `x ≤ M`, `M = min(giver spare, taker need, edge capacity, K·c)`, K the message bound:
 *   any such `(x, k)` splits into `k` messages each in `[L, c]` ({@link splitMessages}). Fixed fee per message;
 * - per giver `Σ x ≤ spare`; under the `one` rule `Σ_bridges k ≤ 1` per pair;
 * - a bridge that is no cheaper in fixed and proportional fee, no larger in message size, count or total and no
 *   smaller in minimum than another bridge of the same pair is dropped (dominated) — under the `several` rule
 *   only when the other bridge alone can carry everything the pair can (so using both never helps);
 * - amounts are scaled to units of 10^k base units (largest bound < 10⁷ units), then mapped back to
 *   base units, clamped and repaired in exact bigint so that no constraint is broken, and checked again
 *   by the planner's verification.
 */
import { ceilDiv, cmpKey, maxB, minB, pos, pushTo } from './bigint.js';
import type { LpColumn, LpModel, LpRow, LpTerm } from './lp.js';
import { edgeKey, lowerOf, messageCapOf, pairKey, RATE_DENOM, splitMessages, UNMET_NEED_WEIGHT } from './routing.js';
import type { Ctx, Move, QEdge } from './routing.js';

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

/** The MILP over giver→taker edges, with the name of each column's edge. */
export interface Built {
  model: LpModel;
  edges: ModelEdge[];
  /** Taker chainKey → its unmet-need column. */
  shortfallCols: Map<string, string>;
  /** Per column (model order): its objective coefficient if it is a fee term (x, y), else 0. */
  feeCoef: Float64Array;
  scale: bigint;
  scaleExp: number;
  pruned: number;
  givers: number;
  takers: number;
}

export function buildModel(ctx: Ctx): Built {
  const nodes = [...ctx.nodes.values()];
  const givers = nodes.filter((n) => n.spare > 0n);
  const takers = nodes.filter((n) => n.need > 0n);
  const several = ctx.rules.messagesPerRoute === 'several';
  const cand: Omit<ModelEdge, 'x' | 'y'>[] = [];
  let pruned = 0;
  for (const g of givers) {
    for (const t of takers) {
      const pk = pairKey(g.key, t.key);
      const pe = ctx.byPair.get(pk);
      if (!pe || ctx.inFlightPairs.has(pk)) continue;
      const pairTotal = minB(g.spare, t.need);
      const ok = pe.flatMap((e) => {
        const cap = messageCapOf(e, g);
        const L = lowerOf(e, g, t);
        const total = minB(pairTotal, e.capacity ?? pairTotal);
        if (cap <= 0n || total <= 0n) return [];
        let K = several ? Math.min(ctx.rules.maxMessagesPerRoute, Number(ceilDiv(total, cap))) : 1;
        if (several && L > 0n) K = Math.min(K, Number(total / L));
        if (K < 1) return [];
        const M = minB(total, cap * BigInt(K));
        return M > 0n && M >= L ? [{ e, M, L, cap, K }] : [];
      });
      // Drop a bridge dominated by another of the same pair (no cheaper, no larger, no lower minimum).
      for (const c of ok) {
        const dominated = ok.some(
          (d) =>
            d !== c &&
            d.e.fixedFee <= c.e.fixedFee &&
            d.e.rate <= c.e.rate &&
            d.M >= c.M &&
            d.L <= c.L &&
            d.cap >= c.cap &&
            d.K >= c.K &&
            (!several || d.M >= pairTotal) &&
            (d.e.fixedFee < c.e.fixedFee || d.e.rate < c.e.rate || d.M > c.M || d.L < c.L || d.cap > c.cap || d.K > c.K || cmpKey(d.e.bridge, c.e.bridge) < 0),
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

  const edges: ModelEdge[] = cand.map((c, i) => ({ ...c, x: `x${i}`, y: `y${i}` }));
  const objective: LpTerm[] = [];
  const columns: LpColumn[] = [];
  const feeCoefs: number[] = [];
  const rows: LpRow[] = [];
  const outTerms = new Map<string, LpTerm[]>();
  const inTerms = new Map<string, LpTerm[]>();
  const pairY = new Map<string, LpTerm[]>();
  for (const ed of edges) {
    const { e, M, L, cap, K, x, y } = ed;
    const rate = Number(e.rate) / Number(RATE_DENOM);
    columns.push({ name: x, lower: 0, upper: u(M) });
    feeCoefs.push(rate);
    columns.push(K === 1 ? { name: y, lower: 0, upper: 1, binary: true } : { name: y, lower: 0, upper: K, integer: true });
    feeCoefs.push(e.fixedFee > 0n ? u(e.fixedFee) : 0);
    objective.push({ coef: rate, name: x });
    if (e.fixedFee > 0n) objective.push({ coef: u(e.fixedFee), name: y });
    rows.push({ name: `u${x}`, terms: [{ coef: 1, name: x }, { coef: -u(minB(cap, M)), name: y }], op: '<=', rhs: 0 });
    if (L > 0n) rows.push({ name: `l${x}`, terms: [{ coef: 1, name: x }, { coef: -u(L), name: y }], op: '>=', rhs: 0 });
    pushTo(outTerms, e.from, { coef: 1, name: x });
    pushTo(inTerms, e.to, { coef: 1, name: x });
    pushTo(pairY, pairKey(e.from, e.to), { coef: 1, name: y });
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
    feeCoefs.push(0);
    objective.push({ coef: W, name: sName });
    rows.push({ name: `t${ti}`, terms: [...(inTerms.get(t.key) ?? []), { coef: 1, name: sName }], op: '=', rhs: u(t.need) });
  }
  if (!several) {
    let pi = 0;
    for (const terms of pairY.values()) {
      pi++;
      if (terms.length > 1) rows.push({ name: `r${pi}`, terms, op: '<=', rhs: 1 });
    }
  }
  return {
    model: { objective, objectiveConstant: 0, columns, rows },
    edges,
    shortfallCols,
    feeCoef: Float64Array.from(feeCoefs),
    scale,
    scaleExp,
    pruned,
    givers: givers.length,
    takers: takers.length,
  };
}

/** A plan's messages as a MIP start: each edge's total and message count, each taker's unmet need. */
export function startValues(ctx: Ctx, b: Built, moves: readonly Move[]): Map<string, number> {
  const start = new Map<string, number>();
  const colOf = new Map(b.edges.map((ed) => [edgeKey(ed.e.from, ed.e.to, ed.e.bridge), ed]));
  for (const m of moves) {
    const ed = colOf.get(edgeKey(m.from, m.to, m.bridge));
    if (ed === undefined) continue;
    start.set(ed.x, (start.get(ed.x) ?? 0) + Number(m.amount) / Number(b.scale));
    start.set(ed.y, (start.get(ed.y) ?? 0) + 1);
  }
  for (const [taker, col] of b.shortfallCols) {
    const got = moves.filter((m) => m.to === taker).reduce((acc, m) => acc + m.amount, 0n);
    start.set(col, Number(pos(ctx.nodes.get(taker)!.need - got)) / Number(b.scale));
  }
  return start;
}

/** Fees (model units) of a column vector in model order: what the stopping rule measures the gap against. */
export function feesOfColumns(b: Built, colValue: ArrayLike<number>): number {
  let f = 0;
  for (let j = 0; j < b.feeCoef.length; j++) {
    const c = b.feeCoef[j]!;
    if (c !== 0) f += c * (colValue[j] ?? 0);
  }
  return f;
}

/**
 * Solver values → legal messages in exact base units: rounded and clamped per edge (under `one`: one edge per
 * pair), Σ within spare and need, polished up to each edge's bound, each edge's total sent in the fewest
 * messages its largest message allows (never more than the solver's count), split by {@link splitMessages}.
 */
export function movesFromSolution(ctx: Ctx, b: Built, values: ReadonlyMap<string, number>): Move[] {
  const toBase = (v: number): bigint => {
    if (!(v > 0)) return 0n;
    const s = Number(b.scale);
    return s <= 1e6 ? BigInt(Math.round(v * s)) : BigInt(Math.round(v * 1e6)) * (b.scale / 1_000_000n);
  };
  type Cand = { ed: ModelEdge; amount: bigint; k: number };
  const perPair = new Map<string, Cand[]>();
  for (const ed of b.edges) {
    let amount = minB(toBase(values.get(ed.x) ?? 0), ed.M);
    if (amount <= 0n) continue;
    // The solver's message count bounds the amount (x ≤ c·k holds up to its tolerance, and rounding back to
    // base units can land a few units above c·k: never buy a message for that).
    let k = Math.min(ed.K, Math.max(1, Math.round(values.get(ed.y) ?? 0)));
    amount = minB(amount, ed.cap * BigInt(k));
    if (ed.L > 0n && amount < ed.L * BigInt(k)) k = Math.max(1, Number(amount / ed.L));
    pushTo(perPair, pairKey(ed.e.from, ed.e.to), { ed, amount, k });
  }
  const cands: Cand[] = [];
  for (const list of perPair.values()) {
    if (ctx.rules.messagesPerRoute === 'several') {
      cands.push(...list);
      continue;
    }
    // One transfer per pair: keep the largest (solver noise only), carrying the others' amount up to its M.
    list.sort((p, q) => (p.amount === q.amount ? cmpKey(p.ed.e.bridge, q.ed.e.bridge) : p.amount > q.amount ? -1 : 1));
    const keep = list[0]!;
    const total = list.reduce((s, c) => s + c.amount, 0n);
    cands.push({ ...keep, amount: minB(total, keep.ed.M), k: 1 });
  }
  const lowOf = (c: Cand): bigint => c.ed.L * BigInt(c.k);
  // Σ per giver ≤ spare and Σ per taker ≤ need: trim the largest first, never below their minimum; drop the
  // smallest when trimming cannot absorb the excess.
  const trim = (key: (c: Cand) => string, limitOf: (k: string) => bigint): void => {
    const groups = new Map<string, Cand[]>();
    for (const c of cands) pushTo(groups, key(c), c);
    for (const [k, list] of groups) {
      let excess = list.reduce((s, c) => s + c.amount, 0n) - limitOf(k);
      if (excess <= 0n) continue;
      list.sort((p, q) => (p.amount === q.amount ? cmpKey(p.ed.e.to + p.ed.e.from + p.ed.e.bridge, q.ed.e.to + q.ed.e.from + q.ed.e.bridge) : p.amount > q.amount ? -1 : 1));
      for (const c of list) {
        const r = minB(excess, pos(c.amount - lowOf(c)));
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
  trim((c) => c.ed.e.from, (k) => ctx.nodes.get(k)!.spare);
  trim((c) => c.ed.e.to, (k) => ctx.nodes.get(k)!.need);
  // Polish: the solver's amounts are exact only to its tolerances (a few base units once scaled back). With
  // the chosen messages fixed, more amount is always better (each unit lowers unmet need by 1 at a fee rate
  // < 1), so fill each edge up to its bound, its taker's remaining need and its giver's remaining spare.
  const sent = new Map<string, bigint>();
  const got = new Map<string, bigint>();
  for (const c of cands) {
    sent.set(c.ed.e.from, (sent.get(c.ed.e.from) ?? 0n) + c.amount);
    got.set(c.ed.e.to, (got.get(c.ed.e.to) ?? 0n) + c.amount);
  }
  const order = (p: Cand, q: Cand): number => cmpKey(p.ed.e.to, q.ed.e.to) || cmpKey(p.ed.e.from, q.ed.e.from) || cmpKey(p.ed.e.bridge, q.ed.e.bridge);
  for (const c of [...cands].sort(order)) {
    if (c.amount === 0n) continue;
    const { e } = c.ed;
    const add = pos(minB(minB(c.ed.M, c.ed.cap * BigInt(c.k)) - c.amount, ctx.nodes.get(e.to)!.need - got.get(e.to)!, ctx.nodes.get(e.from)!.spare - sent.get(e.from)!));
    c.amount += add;
    got.set(e.to, got.get(e.to)! + add);
    sent.set(e.from, sent.get(e.from)! + add);
  }
  const moves: Move[] = [];
  for (const c of cands.sort(order)) {
    if (c.amount <= 0n) continue;
    // The fewest messages that carry the amount (each message pays the fixed fee), never more than the solver's.
    const k = Math.min(c.k, Number(ceilDiv(c.amount, c.ed.cap)));
    if (c.amount < c.ed.L * BigInt(k) || c.amount > c.ed.cap * BigInt(k)) continue;
    for (const amount of splitMessages(c.amount, k, c.ed.L, c.ed.cap)) moves.push({ from: c.ed.e.from, to: c.ed.e.to, bridge: c.ed.e.bridge, amount });
  }
  return moves;
}
