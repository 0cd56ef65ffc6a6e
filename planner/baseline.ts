/**
 * The optimal planner's two starting plans, both by the planner's message rule (planner/routing.ts):
 * - the greedy baseline on quoted edges ({@link greedyMoves}, {@link planGreedyOnEdges}): planner/greedy.ts's
 *   transfers, each put on the cheapest bridge that can still carry it; the floor the optimal plan is never above;
 * - a fee-aware construction heuristic ({@link feeAwareMoves}), a better MIP start on fee-heavy instances.
 * Pure, exact bigint, deterministic.
 */
import { planGreedy } from './greedy.js';
import type { Plan } from './types.js';
import { minB, pushTo } from './bigint.js';
import { edgeKey, exactCost, feeOf, lowerOf, makeCtx, messageCapOf, microToNumber, pairKey, routeRules } from './routing.js';
import type { Ctx, Move, OptimalInput, QEdge } from './routing.js';
import { routed, unresolvedAfter } from './reasons.js';
import type { RoutedTransfer } from './reasons.js';

/** What a plan has used of each (pair, bridge): amount (against `capacity`) and messages (against the rule). */
class EdgeUse {
  private readonly used = new Map<string, { sum: bigint; n: number }>();
  constructor(private readonly maxMessages: number) {}
  private of(e: QEdge): { sum: bigint; n: number } {
    return this.used.get(edgeKey(e.from, e.to, e.bridge)) ?? { sum: 0n, n: 0 };
  }
  /** The most one more message on `e` may carry (route capacity left), `undefined` = unbounded; `0n` when the edge is at its message limit. */
  room(e: QEdge): bigint | undefined {
    const u = this.of(e);
    if (u.n >= this.maxMessages) return 0n;
    return e.capacity === undefined ? undefined : e.capacity - u.sum;
  }
  add(e: QEdge, amount: bigint): void {
    const u = this.of(e);
    this.used.set(edgeKey(e.from, e.to, e.bridge), { sum: u.sum + amount, n: u.n + 1 });
  }
}

/**
 * Greedy's transfers (planner/greedy.ts under the same message rule) put on bridges: each over the bridge with
 * the lowest fee for its amount among those whose capacity left, message count and minimum accept it; a
 * transfer no bridge accepts is clamped to the largest capacity left (when still ≥ the minimums) or dropped.
 * @returns the moves and, in `adjustments`, where greedy's plan did not fit a quoted route.
 */
export function greedyMoves(ctx: Ctx): { moves: Move[]; adjustments: string[] } {
  const plan = planGreedy(ctx.input, { messagesPerRoute: ctx.rules.messagesPerRoute, maxMessagesPerRoute: ctx.rules.maxMessagesPerRoute });
  const use = new EdgeUse(ctx.rules.maxMessagesPerRoute);
  const moves: Move[] = [];
  const adjustments: string[] = [];
  for (const t of plan.transfers) {
    const pe = ctx.byPair.get(pairKey(t.from, t.to)) ?? [];
    if (pe.length === 0) {
      adjustments.push(`greedy ${t.from}→${t.to} ${t.amount}: no bridge quoted on this route; dropped`);
      continue;
    }
    let best: QEdge | undefined;
    let bestFee = 0n;
    for (const q of pe) {
      const room = use.room(q);
      if ((room !== undefined && t.amount > room) || t.amount < q.minTransfer) continue;
      const f = feeOf(q, t.amount);
      if (best === undefined || f < bestFee) {
        best = q;
        bestFee = f;
      }
    }
    if (best) {
      moves.push({ from: t.from, to: t.to, bridge: best.bridge, amount: t.amount });
      use.add(best, t.amount);
      continue;
    }
    // Largest amount any bridge of the pair still carries, if still legal for both chains and the route.
    const from = ctx.nodes.get(t.from)!;
    const to = ctx.nodes.get(t.to)!;
    let bestE: QEdge | undefined;
    let bestAmt = 0n;
    for (const q of pe) {
      const amt = minB(t.amount, use.room(q) ?? t.amount);
      if (amt >= lowerOf(q, from, to) && amt > 0n && (amt > bestAmt || (amt === bestAmt && bestE && feeOf(q, amt) < feeOf(bestE, amt)))) {
        bestE = q;
        bestAmt = amt;
      }
    }
    if (bestE) {
      adjustments.push(`greedy ${t.from}→${t.to} ${t.amount}: above every route's capacity left; clamped to ${bestAmt} over ${bestE.bridge}`);
      moves.push({ from: t.from, to: t.to, bridge: bestE.bridge, amount: bestAmt });
      use.add(bestE, bestAmt);
    } else {
      adjustments.push(`greedy ${t.from}→${t.to} ${t.amount}: no bridge accepts it (capacity/minTransfer of the route); dropped`);
    }
  }
  return { moves, adjustments };
}

/**
 * A fee-aware construction heuristic (a better MIP start than greedy on fee-heavy instances): repeatedly
 * take the legal (giver, taker, bridge) message of the largest amount it can carry that has the lowest fee per
 * unit moved, under the message rule, until none is left. Deterministic (ties by chainKeys, then bridge).
 */
export function feeAwareMoves(ctx: Ctx): Move[] {
  const spare = new Map([...ctx.nodes.values()].map((n) => [n.key, n.spare]));
  const need = new Map([...ctx.nodes.values()].map((n) => [n.key, n.need]));
  const usedPairs = new Set<string>();
  const use = new EdgeUse(ctx.rules.maxMessagesPerRoute);
  const one = ctx.rules.messagesPerRoute === 'one';
  type Cand = { e: QEdge; pair: string; cap: bigint; lower: bigint; alive: boolean; amount: bigint; fee: bigint; ratio: number };
  const cand: Cand[] = [...ctx.edges.values()].flatMap((e) => {
    const g = ctx.nodes.get(e.from);
    const t = ctx.nodes.get(e.to);
    if (g === undefined || t === undefined || g.spare <= 0n || t.need <= 0n || ctx.inFlightPairs.has(pairKey(e.from, e.to))) return [];
    return [{ e, pair: pairKey(e.from, e.to), cap: messageCapOf(e, g), lower: lowerOf(e, g, t), alive: true, amount: 0n, fee: 0n, ratio: 0 }];
  });
  // A candidate's amount only changes when its giver's spare, its taker's need or its own use does: re-evaluate
  // those only. One that cannot carry its minimum never will again (spare, need and room only shrink).
  const byChain = new Map<string, Cand[]>();
  for (const c of cand) {
    pushTo(byChain, c.e.from, c);
    pushTo(byChain, c.e.to, c);
  }
  const evaluate = (c: Cand): void => {
    if (!c.alive) return;
    const room = use.room(c.e);
    const amount = minB(spare.get(c.e.from)!, need.get(c.e.to)!, c.cap, room ?? c.cap);
    if ((one && usedPairs.has(c.pair)) || amount <= 0n || amount < c.lower) {
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
    usedPairs.add(best.pair);
    use.add(e, amount);
    spare.set(e.from, spare.get(e.from)! - amount);
    need.set(e.to, need.get(e.to)! - amount);
    moves.push({ from: e.from, to: e.to, bridge: e.bridge, amount });
    for (const c of byChain.get(e.from)!) evaluate(c);
    for (const c of byChain.get(e.to)!) evaluate(c);
  }
  return moves;
}

/**
 * The greedy baseline on quoted edges ({@link greedyMoves}): planner/greedy.ts's transfers under the message
 * rule (default `several`, as the optimal planner), each over the bridge with the lowest fee for its amount.
 * @returns the routed plan with fees, totals and its exact objective (same scale as the certificate).
 */
export function planGreedyOnEdges(
  input: OptimalInput,
  opts: { messagesPerRoute?: 'one' | 'several'; maxMessagesPerRoute?: number } = {},
): { transfers: RoutedTransfer[]; unresolved: Plan['unresolved']; totals: { fees: bigint; volume: bigint; shortfall: bigint }; objective: number; adjustments: string[] } {
  const ctx = makeCtx(input, routeRules(opts));
  const { moves, adjustments } = greedyMoves(ctx);
  const cost = exactCost(ctx, moves);
  const transfers = moves.map((m) => routed(ctx, m, moves, 'greedy'));
  return { transfers, unresolved: unresolvedAfter(ctx, moves), totals: { fees: cost.fees, volume: cost.volume, shortfall: cost.shortfall }, objective: microToNumber(cost.micro), adjustments };
}
