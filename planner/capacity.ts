/**
 * Planner of capacity moves (move kind `capacity`: lending capacity moves between vaults as credit,
 * no tokens). Pure, deterministic, integer-only, greedy like planner/greedy.ts.
 *
 * Model (per chain; amounts base units, ratios WAD):
 * - usage = borrowed / borrowLimit (the vault's lending capacity). Moving `x` of capacity out of a
 *   chain lowers its borrowLimit by `x` (usage rises); moving `x` in raises it (usage falls).
 * - a chain is a taker when usage > `highWad` (`borrowed·WAD > high·borrowLimit`; a limit of 0 with
 *   anything borrowed counts). It needs `ceil(borrowed·WAD / target) − borrowLimit − inbound`, where
 *   target = `(lowWad + highWad) / 2` (floor) and inbound is what open capacity moves bring it.
 * - a chain gives from its spare above its low mark: at most `borrowLimit − ceil(borrowed·WAD / lowWad)
 *   − outbound` in total (it never ends above `lowWad`, so a donor never becomes a taker), nor more than
 *   what its vault's credit cap still allows in the window (`creditWindowLeft`, when known).
 *   In-flight amounts count as not yet applied at either end (conservative when the chain already shows them).
 * - each single move is within `[max(minMove of both ends), min(maxMove of both ends)]`.
 *
 * Algorithm: repeatedly pair the taker with the largest remaining need with the donor that can give
 * it the most in one move (ties by chainKey, code-unit order), skipping routes that already carry a
 * move of this plan or an in-flight one (either direction). Stops when no pair is left.
 */
import { WAD } from './types.js';
import { formatWadPct } from './greedy.js';

/** Lending capacity of one chain's vault at one block. */
export interface CapacityChainState {
  chainKey: string;
  /** Vault `totalBorrowed` (base units). */
  borrowed: bigint;
  /** Vault `borrowLimit` (base units). */
  borrowLimit: bigint;
  /** What the vault's credit cap still allows to reserve in the current window (base units); omitted = unbounded. */
  creditWindowLeft?: bigint;
}

/** Per-chain capacity policy. */
export interface CapacityPolicy {
  chainKey: string;
  /** High water mark, WAD: above this usage (borrowed / borrowLimit) the chain takes capacity. */
  highWad: bigint;
  /** Low water mark, WAD: a chain gives only capacity above what keeps its usage at this mark. */
  lowWad: bigint;
  /** Smallest single capacity move worth a message (base units). */
  minMove: bigint;
  /** Largest single capacity move (base units). */
  maxMove: bigint;
}

/** A capacity move already under way (an open capacity saga). */
export interface CapacityInFlight {
  from: string;
  to: string;
  /** Base units. */
  amount: bigint;
}

/** One capacity move the planner asks for. */
export interface CapacityMove {
  kind: 'capacity';
  from: string;
  to: string;
  /** Base units of lending capacity. */
  amount: bigint;
  /** Why, with usages as percents. */
  reason: string;
}

/** Output of {@link planCapacity}. */
export interface CapacityPlan {
  /** In planning order (use the index as the plan sequence). */
  moves: CapacityMove[];
  /** Chains still above their high mark after the plan (or left out), sorted by chainKey, with why. */
  unresolved: { chainKey: string; reason: string }[];
}

/** Input of {@link planCapacity}. Order of the arrays does not matter. */
export interface CapacityPlanInput {
  chains: readonly CapacityChainState[];
  policies: readonly CapacityPolicy[];
  inFlight: readonly CapacityInFlight[];
}

const cmpKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const min = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x < m ? x : m));
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const pos = (x: bigint): bigint => (x > 0n ? x : 0n);
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const routeKey = (from: string, to: string): string => `${from}\u0000${to}`;

/** Usage as a percent: `borrowed / limit`, "unbounded" for a zero limit with something borrowed. */
export function usagePct(borrowed: bigint, limit: bigint): string {
  if (limit <= 0n) return borrowed === 0n ? '0.00%' : 'unbounded (no limit)';
  return formatWadPct((borrowed * WAD) / limit);
}

interface Node {
  key: string;
  state: CapacityChainState;
  policy: CapacityPolicy;
  target: bigint;
  inbound: bigint;
  need: bigint;
  spare: bigint;
  spareBound: string;
  received: bigint;
  sent: bigint;
}

function validate(input: CapacityPlanInput): void {
  const seen = new Set<string>();
  for (const c of input.chains) {
    if (seen.has(c.chainKey)) throw new Error(`planCapacity: chain "${c.chainKey}" appears twice in chains; pass one state per chain`);
    seen.add(c.chainKey);
    if (c.borrowed < 0n || c.borrowLimit < 0n || (c.creditWindowLeft !== undefined && c.creditWindowLeft < 0n)) {
      throw new Error(`planCapacity: chain "${c.chainKey}" has a negative borrowed/borrowLimit/creditWindowLeft; the reading is corrupt`);
    }
  }
  const seenP = new Set<string>();
  for (const p of input.policies) {
    if (seenP.has(p.chainKey)) throw new Error(`planCapacity: policy for "${p.chainKey}" appears twice; pass one policy per chain`);
    seenP.add(p.chainKey);
    if (!(p.lowWad > 0n && p.lowWad < p.highWad && p.highWad <= WAD)) {
      throw new Error(`planCapacity: policy "${p.chainKey}" marks low ${p.lowWad}, high ${p.highWad} must satisfy 0 < low < high ≤ WAD (1e18 = 100%)`);
    }
    if (p.minMove < 0n || p.maxMove <= 0n || p.minMove > p.maxMove) {
      throw new Error(`planCapacity: policy "${p.chainKey}" needs 0 ≤ minMove ≤ maxMove and maxMove > 0 (got minMove ${p.minMove}, maxMove ${p.maxMove}; base units)`);
    }
  }
  for (const f of input.inFlight) {
    if (f.amount <= 0n) throw new Error(`planCapacity: in-flight capacity ${f.from}→${f.to} has amount ${f.amount}; expected > 0`);
  }
}

const isAbove = (s: CapacityChainState, p: CapacityPolicy): boolean => s.borrowed * WAD > p.highWad * s.borrowLimit;

/**
 * Plans capacity moves that bring chains above their high water mark back to the middle of their
 * marks, from chains with spare capacity above their low mark. Pure and deterministic: same input
 * (in any order) → deep-equal plan.
 * @throws Error on duplicate chains or policies, marks not 0 < low < high ≤ WAD, minMove > maxMove,
 *   negative amounts.
 * @example
 *   planCapacity({ chains: [{ chainKey: 'a', borrowed: 95n, borrowLimit: 100n }, { chainKey: 'b', borrowed: 10n, borrowLimit: 100n }],
 *                  policies: [pol('a'), pol('b')], inFlight: [] }).moves; // [{ kind: 'capacity', from: 'b', to: 'a', ... }]
 */
export function planCapacity(input: CapacityPlanInput): CapacityPlan {
  validate(input);
  const policies = new Map(input.policies.map((p) => [p.chainKey, p]));
  const states = [...input.chains].sort((a, b) => cmpKey(a.chainKey, b.chainKey));

  const inFlightRoutes = new Set<string>();
  const inboundOf = new Map<string, bigint>();
  const outboundOf = new Map<string, bigint>();
  for (const f of input.inFlight) {
    inFlightRoutes.add(routeKey(f.from, f.to));
    inFlightRoutes.add(routeKey(f.to, f.from));
    inboundOf.set(f.to, (inboundOf.get(f.to) ?? 0n) + f.amount);
    outboundOf.set(f.from, (outboundOf.get(f.from) ?? 0n) + f.amount);
  }

  const unresolved: CapacityPlan['unresolved'] = [];
  const nodes: Node[] = [];
  for (const s of states) {
    const policy = policies.get(s.chainKey);
    if (policy === undefined) {
      unresolved.push({ chainKey: s.chainKey, reason: `${s.chainKey} left out of capacity planning: no capacity policy configured for it` });
      continue;
    }
    const target = (policy.lowWad + policy.highWad) / 2n;
    const inbound = inboundOf.get(s.chainKey) ?? 0n;
    const above = isAbove(s, policy);
    let spare = 0n;
    let spareBound = 'its high mark';
    if (!above) {
      const bounds: [string, bigint][] = [[`its low mark ${formatWadPct(policy.lowWad)}`, pos(s.borrowLimit - ceilDiv(s.borrowed * WAD, policy.lowWad) - (outboundOf.get(s.chainKey) ?? 0n))]];
      if (s.creditWindowLeft !== undefined) bounds.push(['the credit window cap', s.creditWindowLeft]);
      [spareBound, spare] = bounds.reduce((m, b) => (b[1] < m[1] ? b : m));
    }
    nodes.push({
      key: s.chainKey,
      state: s,
      policy,
      target,
      inbound,
      need: above ? pos(ceilDiv(s.borrowed * WAD, target) - s.borrowLimit - inbound) : 0n,
      spare,
      spareBound,
      received: 0n,
      sent: 0n,
    });
  }

  const usedRoutes = new Set<string>();
  const moves: CapacityMove[] = [];
  const maxMoveOf = (from: Node, to: Node): bigint => min(from.policy.maxMove, to.policy.maxMove);
  const minMoveOf = (from: Node, to: Node): bigint => max(from.policy.minMove, to.policy.minMove);
  const perMove = (d: Node): bigint => min(d.spare, d.policy.maxMove);

  for (;;) {
    const takers = nodes.filter((n) => n.need > 0n).sort((a, b) => (a.need === b.need ? cmpKey(a.key, b.key) : a.need > b.need ? -1 : 1));
    const donors = nodes
      .filter((n) => perMove(n) > 0n)
      .sort((a, b) => {
        const pa = perMove(a);
        const pb = perMove(b);
        return pa === pb ? cmpKey(a.key, b.key) : pa > pb ? -1 : 1;
      });
    let planned: { from: Node; to: Node; amount: bigint } | undefined;
    search: for (const to of takers) {
      for (const from of donors) {
        if (from === to) continue;
        const r = routeKey(from.key, to.key);
        if (usedRoutes.has(r) || inFlightRoutes.has(r)) continue;
        const amount = min(to.need, from.spare, maxMoveOf(from, to));
        if (amount <= 0n || amount < minMoveOf(from, to)) continue;
        planned = { from, to, amount };
        break search;
      }
    }
    if (planned === undefined) break;
    const { from, to, amount } = planned;
    const reason = moveReason(from, to, amount, maxMoveOf(from, to));
    usedRoutes.add(routeKey(from.key, to.key));
    from.spare -= amount;
    from.sent += amount;
    to.need -= amount;
    to.received += amount;
    moves.push({ kind: 'capacity', from: from.key, to: to.key, amount, reason });
  }

  for (const n of nodes) {
    const r = unresolvedReason(n, nodes, usedRoutes, inFlightRoutes, minMoveOf);
    if (r !== undefined) unresolved.push({ chainKey: n.key, reason: r });
  }
  unresolved.sort((a, b) => cmpKey(a.chainKey, b.chainKey));
  return { moves, unresolved };
}

function moveReason(from: Node, to: Node, amount: bigint, maxMove: bigint): string {
  const t = to.state;
  const f = from.state;
  const toLimit = t.borrowLimit + to.received;
  const fromLimit = f.borrowLimit - from.sent;
  const bound = amount === to.need ? `all ${to.key} still needs` : amount === maxMove ? `maxMove ${amount}` : `${from.key} limited by ${from.spareBound}`;
  return (
    `${to.key} usage ${usagePct(t.borrowed, toLimit)} > high ${formatWadPct(to.policy.highWad)}, needs ${to.need} of capacity to reach ${formatWadPct(to.target)}; ` +
    `${from.key} usage ${usagePct(f.borrowed, fromLimit)}, can spare ${from.spare} above its low mark ${formatWadPct(from.policy.lowWad)}; ` +
    `moves ${amount} (${bound}): ${to.key} → ${usagePct(t.borrowed, toLimit + amount)}, ${from.key} → ${usagePct(f.borrowed, fromLimit - amount)}`
  );
}

function unresolvedReason(
  n: Node,
  nodes: readonly Node[],
  usedRoutes: ReadonlySet<string>,
  inFlightRoutes: ReadonlySet<string>,
  minMoveOf: (from: Node, to: Node) => bigint,
): string | undefined {
  const limit = n.state.borrowLimit - n.sent + n.received;
  if (!isAbove({ ...n.state, borrowLimit: limit }, n.policy)) return undefined;
  const head = `${n.key} usage ${usagePct(n.state.borrowed, limit)} > high ${formatWadPct(n.policy.highWad)} after this plan`;
  if (n.need === 0n) return `${head}: in-flight capacity moves bringing ${n.inbound} cover what it needs; waiting for them to apply`;
  const blocked: string[] = [];
  for (const d of nodes) {
    if (d === n || d.spare === 0n) continue;
    const r = routeKey(d.key, n.key);
    if (inFlightRoutes.has(r)) blocked.push(`${d.key}: a capacity move is in flight on this route`);
    else if (usedRoutes.has(r)) blocked.push(`${d.key}: route already used in this plan`);
    else blocked.push(`${d.key}: ${min(n.need, d.spare)} < minMove ${minMoveOf(d, n)}`);
  }
  const why = blocked.length === 0 ? 'no chain has spare capacity above its low mark (or credit window cap left)' : `donors blocked: ${blocked.join('; ')}`;
  return `${head}: still short ${n.need} of capacity; ${why}`;
}
