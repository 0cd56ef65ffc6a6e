/**
 * What every part of the optimal planner shares (planner/optimal.ts and its modules): the planned chains with
 * their need and spare (greedy.ts's semantics), the quoted bridge edges made exact, the per-route message rule,
 * a plan's exact cost, and the rules a routed plan must keep ({@link verifyRoutedPlan}). Pure, exact bigint.
 *
 * The message rule ({@link RouteRules}):
 * - `several` (default): a (route, bridge) may carry up to `maxMessagesPerRoute` messages in one plan, both
 *   bridges of a route may be used, each message ≤ the donor's `maxTransfer` and ≥ the larger `minTransfer`
 *   (both ends, the edge), all messages of a (route, bridge) together ≤ the edge's `capacity`, and all of a
 *   donor's messages together ≤ its spare (target, buffer, outflow window);
 * - `one`: at most one message per ordered chain pair (over one bridge), ≤ `maxTransfer` and ≤ `capacity`
 *   (the rule before several messages per route were allowed; kept for comparison: `npm run bench`).
 */
import { chainStanding, DEFAULT_MAX_MESSAGES_PER_ROUTE, type ChainStanding, type GreedyInput } from './greedy.js';
import { outboundNotWithdrawn } from './types.js';
import type { ChainPolicy, ChainState } from './types.js';
import { ceilDiv, cmpKey, maxB, minB, pos, pushTo } from './bigint.js';

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
  /**
   * The route's rate limit over this bridge: the most this plan may send over it, all its messages together
   * (base units). One message is also bounded by it.
   */
  capacity?: bigint;
  /** Smallest amount one message on the route accepts (base units). */
  minTransfer?: bigint;
}

/** Input of the optimal planner: greedy's input plus the quoted edges. Order of the arrays does not matter. */
export interface OptimalInput extends GreedyInput {
  edges: readonly BridgeEdge[];
}

/** How many messages a route may carry in one plan (see the module doc). */
export interface RouteRules {
  messagesPerRoute: 'one' | 'several';
  /** Under `several`: the most messages per (route, bridge) in one plan. 1 under `one`. */
  maxMessagesPerRoute: number;
}

/** The rules from options: `several` with {@link DEFAULT_MAX_MESSAGES_PER_ROUTE} unless told otherwise. */
export function routeRules(opts: { messagesPerRoute?: 'one' | 'several'; maxMessagesPerRoute?: number } = {}): RouteRules {
  const messagesPerRoute = opts.messagesPerRoute ?? 'several';
  const maxMessagesPerRoute = messagesPerRoute === 'one' ? 1 : (opts.maxMessagesPerRoute ?? DEFAULT_MAX_MESSAGES_PER_ROUTE);
  if (!Number.isInteger(maxMessagesPerRoute) || maxMessagesPerRoute < 1) {
    throw new Error(`planOptimal: maxMessagesPerRoute must be an integer ≥ 1 (got ${maxMessagesPerRoute})`);
  }
  return { messagesPerRoute, maxMessagesPerRoute };
}

/** Objective weight of one base unit of unmet need, relative to one base unit of fee. */
export const UNMET_NEED_WEIGHT = 1000n;
/** Fee rates are handled exactly in centi-basis points: 10⁶ = 100%. */
export const RATE_DENOM = 1_000_000n;

export const pairKey = (from: string, to: string): string => `${from}\u0000${to}`;
export const edgeKey = (from: string, to: string, bridge: string): string => `${from}\u0000${to}\u0000${bridge}`;

/** Planning state of one chain: its standing as greedy.ts derives it (chainStanding), with the chain and policy. */
export interface PlannedChain extends ChainStanding {
  key: string;
  chain: ChainState;
  policy: ChainPolicy;
}


/**
 * The chains that take part in planning (policy present, oracle ok), sorted by chainKey, with need and
 * spare as greedy.ts computes them. Input validation is greedy's (it runs first in every entry point).
 */
export function plannedChains(input: GreedyInput): PlannedChain[] {
  const policies = new Map(input.policies.map((p) => [p.chainKey, p]));
  const inboundOf = new Map<string, bigint>();
  for (const f of input.inFlight) inboundOf.set(f.to, (inboundOf.get(f.to) ?? 0n) + f.amount);
  const outboundOf = outboundNotWithdrawn(input.inFlight);
  const out: PlannedChain[] = [];
  for (const c of [...input.chains].sort((a, b) => cmpKey(a.chainKey, b.chainKey))) {
    const policy = policies.get(c.chainKey);
    if (policy === undefined || !c.oracleCheck.ok) continue;
    out.push({ key: c.chainKey, chain: c, policy, ...chainStanding(c, policy, inboundOf.get(c.chainKey) ?? 0n, outboundOf.get(c.chainKey) ?? 0n) });
  }
  return out;
}

/** An edge with its exact rate, validated. */
export interface QEdge {
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

/** Exact fee of one message of `amount` over an edge, rounded up to base units. */
export function feeOf(e: { rate: bigint; fixedFee: bigint }, amount: bigint): bigint {
  return e.fixedFee + ceilDiv(e.rate * amount, RATE_DENOM);
}

/** Smallest legal message on an edge: the larger minTransfer of both ends and of the route. */
export function lowerOf(e: QEdge, from: PlannedChain, to: PlannedChain): bigint {
  return maxB(from.policy.caps.minTransfer, to.policy.caps.minTransfer, e.minTransfer);
}
/** Largest legal single message on an edge (the donor's maxTransfer, the route capacity), before sharing spare/need. */
export function messageCapOf(e: QEdge, from: PlannedChain): bigint {
  return e.capacity === undefined ? from.policy.caps.maxTransfer : minB(from.policy.caps.maxTransfer, e.capacity);
}

/** Context shared by the cost, verification, model and reason functions. */
export interface Ctx {
  input: OptimalInput;
  rules: RouteRules;
  nodes: Map<string, PlannedChain>;
  edges: Map<string, QEdge>;
  /** The edges of each ordered pair (pairKey), in edge order. */
  byPair: Map<string, QEdge[]>;
  inFlightPairs: Set<string>;
}

export function makeCtx(input: OptimalInput, rules: RouteRules = routeRules()): Ctx {
  const nodes = new Map(plannedChains(input).map((n) => [n.key, n]));
  const edges = new Map(quantizeEdges(input.edges).map((e) => [edgeKey(e.from, e.to, e.bridge), e]));
  const inFlightPairs = new Set<string>();
  for (const f of input.inFlight) {
    inFlightPairs.add(pairKey(f.from, f.to));
    inFlightPairs.add(pairKey(f.to, f.from));
  }
  const byPair = new Map<string, QEdge[]>();
  for (const e of edges.values()) pushTo(byPair, pairKey(e.from, e.to), e);
  return { input, rules, nodes, edges, byPair, inFlightPairs };
}

/** One message of a routed plan, before reasons are attached. */
export interface Move {
  from: string;
  to: string;
  bridge: string;
  amount: bigint;
}

/** Exact cost of a plan, in base units × 10⁶ (so proportional fees are exact). */
export interface ExactCost {
  micro: bigint;
  fees: bigint;
  volume: bigint;
  shortfall: bigint;
}

/** The exact objective `UNMET_NEED_WEIGHT · shortfall + Σ fees` of a plan (each message pays its own fee). */
export function exactCost(ctx: Ctx, transfers: readonly Move[]): ExactCost {
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

export const microToNumber = (micro: bigint): number => Number(micro) / Number(RATE_DENOM);
/** Base units × 10⁶ → exact decimal string of base units, e.g. `1234500000n` → `1234.500000`. */
export const microToDecimal = (micro: bigint): string => `${micro / RATE_DENOM}.${(micro % RATE_DENOM).toString().padStart(6, '0')}`;

/**
 * Splits `amount` into `k` messages each in `[lower, cap]` (requires `k·lower ≤ amount ≤ k·cap`): full
 * messages of `cap` first, the last ones just large enough that each of the rest keeps its minimum.
 */
export function splitMessages(amount: bigint, k: number, lower: bigint, cap: bigint): bigint[] {
  const out: bigint[] = [];
  let rest = amount;
  for (let i = 0; i < k; i++) {
    const left = BigInt(k - 1 - i);
    const m = minB(cap, rest - left * lower);
    out.push(m);
    rest -= m;
  }
  return out;
}

/**
 * Every rule a routed plan must keep, checked in exact bigint from the input alone: both ends planned,
 * edge quoted, each message in [max minTransfer (both chains, route), min(maxTransfer, route capacity)], the
 * message rule (`one`: one message per ordered pair; `several`: at most `maxMessagesPerRoute` per (pair,
 * bridge)), all messages of a (pair, bridge) together ≤ its capacity, nothing on a pair with a transfer in
 * flight, a giver never receives, a taker never gives, per giver Σ ≤ spare (target, idle − buffer, window),
 * per taker Σ ≤ need (no overshoot).
 * @param opts the message rule (default `several`, as {@link planOptimal}).
 * @returns the violations (empty when the plan is legal), each naming the transfer or chain.
 */
export function verifyRoutedPlan(input: OptimalInput, transfers: readonly Move[], opts: { messagesPerRoute?: 'one' | 'several'; maxMessagesPerRoute?: number } = {}): string[] {
  return verifyWith(makeCtx(input, routeRules(opts)), transfers);
}

export function verifyWith(ctx: Ctx, transfers: readonly Move[]): string[] {
  const bad: string[] = [];
  const pairs = new Set<string>();
  const perEdge = new Map<string, { sum: bigint; n: number }>();
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
    const pk = pairKey(t.from, t.to);
    if (ctx.rules.messagesPerRoute === 'one' && pairs.has(pk)) bad.push(`${at}: second transfer on the route ${t.from}→${t.to}`);
    if (ctx.inFlightPairs.has(pk)) bad.push(`${at}: route has a transfer in flight`);
    pairs.add(pk);
    const ek = edgeKey(t.from, t.to, t.bridge);
    const u = perEdge.get(ek) ?? { sum: 0n, n: 0 };
    u.sum += t.amount;
    u.n += 1;
    perEdge.set(ek, u);
    if (e.capacity !== undefined && u.sum > e.capacity) bad.push(`${at}: above route capacity ${e.capacity}${u.n > 1 ? ` (${u.n} messages together send ${u.sum})` : ''}`);
    if (ctx.rules.messagesPerRoute === 'several' && u.n === ctx.rules.maxMessagesPerRoute + 1) bad.push(`${at}: more than ${ctx.rules.maxMessagesPerRoute} messages on the route ${t.from}→${t.to} over ${t.bridge}`);
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
