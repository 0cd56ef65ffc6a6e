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
 *   any such `(x, k)` splits into `k` messages each in `[L, c]` (planner/routing.ts `splitMessages`). Fixed fee per message;
 * - per giver `Σ x ≤ spare`; under the `one` rule `Σ_bridges k ≤ 1` per pair;
 * - a bridge that is no cheaper in fixed and proportional fee, no larger in message size, count or total and no
 *   smaller in minimum than another bridge of the same pair is dropped (dominated) — under the `several` rule
 *   only when the other bridge alone can carry everything the pair can (so using both never helps);
 * - amounts are scaled to units of 10^k base units (largest bound < 10⁷ units), then mapped back to
 *   base units, clamped and repaired in exact bigint so that no constraint is broken, and checked again
 *   by the planner's verification.
 * The edges' bounds, columns, `u`/`l` rows, scaling and MIP start are planner/edgeModel.ts's (shared with the yield
 * planner's MILP); the giver, taker and pair rows and the unmet-need columns are this module's.
 */
import { cmpKey, minB, pos, pushTo } from './bigint.js';
import { buildRouteEdgeModel, byRoute, edgeBounds, edgeStartValues, feeRateOf, flowsOf, modelScale, splitEdgeAmounts, trimToLimits } from './edgeModel.js';
import type { EdgeAmount, EdgeBounds, ModelEdge } from './edgeModel.js';
import type { LpModel } from './lp.js';
import { pairKey, UNMET_NEED_WEIGHT } from './routing.js';
import type { Ctx, Move } from './routing.js';

/** One edge's columns (planner/edgeModel.ts). */
export type { ModelEdge };

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
  const cand: EdgeBounds[] = [];
  let pruned = 0;
  for (const g of givers) {
    for (const t of takers) {
      const pk = pairKey(g.key, t.key);
      const pe = ctx.byPair.get(pk);
      if (!pe || ctx.inFlightPairs.has(pk)) continue;
      const pairTotal = minB(g.spare, t.need);
      const ok = pe.flatMap((e) => edgeBounds(ctx, e, g, t, pairTotal) ?? []);
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
  const { scale, scaleExp, u } = modelScale(nodes.flatMap((n) => [n.need, n.spare]));
  const W = Number(UNMET_NEED_WEIGHT);

  // Objective: the proportional fee on every x, the fixed fee on y where there is one.
  const { edges, columns, rows, objective, outTerms, inTerms, pairY } = buildRouteEdgeModel(cand, {
    u,
    objectiveOf: (ed) => ({ x: feeRateOf(ed.e), ...(ed.e.fixedFee > 0n ? { y: u(ed.e.fixedFee) } : {}) }),
  });
  const feeCoefs: number[] = edges.flatMap((ed) => [feeRateOf(ed.e), ed.e.fixedFee > 0n ? u(ed.e.fixedFee) : 0]);
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
  const start = edgeStartValues(b.edges, b.scale, moves);
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
 * messages its largest message allows (never more than the solver's count), split by {@link splitEdgeAmounts}.
 */
export function movesFromSolution(ctx: Ctx, b: Built, values: ReadonlyMap<string, number>): Move[] {
  const toBase = (v: number): bigint => {
    if (!(v > 0)) return 0n;
    const s = Number(b.scale);
    return s <= 1e6 ? BigInt(Math.round(v * s)) : BigInt(Math.round(v * 1e6)) * (b.scale / 1_000_000n);
  };
  const perPair = new Map<string, EdgeAmount[]>();
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
  const cands: EdgeAmount[] = [];
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
  // Σ per giver ≤ spare and Σ per taker ≤ need: trim the largest first, never below their minimum; drop the
  // smallest when trimming cannot absorb the excess.
  const tieKey = (c: EdgeAmount): string => c.ed.e.to + c.ed.e.from + c.ed.e.bridge;
  trimToLimits(cands, (c) => c.ed.e.from, (k) => ctx.nodes.get(k)!.spare, tieKey);
  trimToLimits(cands, (c) => c.ed.e.to, (k) => ctx.nodes.get(k)!.need, tieKey);
  // Polish: the solver's amounts are exact only to its tolerances (a few base units once scaled back). With
  // the chosen messages fixed, more amount is always better (each unit lowers unmet need by 1 at a fee rate
  // < 1), so fill each edge up to its bound, its taker's remaining need and its giver's remaining spare.
  const { sent, got } = flowsOf(cands);
  for (const c of [...cands].sort(byRoute)) {
    if (c.amount === 0n) continue;
    const { e } = c.ed;
    const add = pos(minB(minB(c.ed.M, c.ed.cap * BigInt(c.k)) - c.amount, ctx.nodes.get(e.to)!.need - got.get(e.to)!, ctx.nodes.get(e.from)!.spare - sent.get(e.from)!));
    c.amount += add;
    got.set(e.to, got.get(e.to)! + add);
    sent.set(e.from, sent.get(e.from)! + add);
  }
  // The fewest messages that carry each amount (each message pays the fixed fee), never more than the solver's.
  return splitEdgeAmounts(cands);
}
