/**
 * The words of a routed plan: why each message (needs, spare, what bounds its amount, the bridge and the other
 * bridges' fees, which planner chose it) and why a chain stays out of band. Pure.
 */
import { formatWadPct } from './greedy.js';
import { WAD } from './types.js';
import type { Plan, Transfer } from './types.js';
import { cmpKey, pos } from './bigint.js';
import { edgeKey, feeOf, pairKey } from './routing.js';
import { isAbove, isBelow } from './greedy.js';
import type { Ctx, Move } from './routing.js';

/** A transfer with the bridge it goes over and its fee. */
export interface RoutedTransfer extends Transfer {
  bridge: string;
  /** fixedFee + ceil(feeBps · amount / 10⁴), base units. */
  fee: bigint;
  latencySec: number;
}

/** Which planner chose a plan: the MILP, the fee-aware heuristic (the MIP start) or the greedy baseline. */
export type ChosenBy = 'solver' | 'heuristic' | 'greedy';

export function utilPct(borrowed: bigint, supplied: bigint): string {
  if (supplied === 0n) return borrowed === 0n ? '0.00%' : 'unbounded (nothing supplied)';
  return formatWadPct((borrowed * WAD) / supplied);
}

const CHOSEN_BY: Record<ChosenBy, string> = {
  solver: 'the MILP (min unmet need, then fees)',
  heuristic: 'the fee-aware heuristic (the MILP found nothing cheaper in its budget)',
  greedy: 'the greedy baseline (cheapest bridge for its amount)',
};

/**
 * The reason of one routed message: needs, spare, the bound on the amount, the message's place among the
 * route's messages, the bridge and its alternatives, who chose it, and `certificate` (the proof's summary).
 */
export function routed(ctx: Ctx, m: Move, all: readonly Move[], by: ChosenBy, certificate = ''): RoutedTransfer {
  const e = ctx.edges.get(edgeKey(m.from, m.to, m.bridge))!;
  const from = ctx.nodes.get(m.from)!;
  const to = ctx.nodes.get(m.to)!;
  const fee = feeOf(e, m.amount);
  const into = all.filter((t) => t.to === m.to);
  const outOf = all.filter((t) => t.from === m.from);
  const onRoute = all.filter((t) => t.from === m.from && t.to === m.to);
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
  const messages =
    onRoute.length > 1
      ? `; message ${onRoute.indexOf(m) + 1} of ${onRoute.length} on ${m.from}→${m.to} (${onRoute.map((t) => `${t.amount} over ${t.bridge}`).join(', ')}: each ≤ ${m.from} maxTransfer ${from.policy.caps.maxTransfer})`
      : '';
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
    messages +
    (alts.length > 0 ? `; other bridges: ${alts.join(', ')}` : '') +
    `; chosen by ${CHOSEN_BY[by]}` +
    (certificate === '' ? '' : `; ${certificate}`);
  return { from: m.from, to: m.to, amount: m.amount, bridge: m.bridge, fee, latencySec: e.latencySec, reason };
}

/** Chains out of band after the moves (planned ones), plus greedy's reasons for chains left out of planning. */
export function unresolvedAfter(ctx: Ctx, moves: readonly Move[]): Plan['unresolved'] {
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
