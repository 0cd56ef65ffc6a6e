/**
 * The greedy baseline planner (pure, deterministic, integer-only). An optimal MILP planner is to
 * come; this one is the reference it will be measured against, and the fallback.
 *
 * Model (per chain, all amounts base units, ratios WAD):
 * - utilization = borrowed / supplied. Moving `x` out of a chain lowers its supplied and idle by
 *   `x` (utilization rises); moving `x` in raises them (utilization falls). Borrowed never moves.
 * - target = middle of the band, `(low + high) / 2` (floor). `required = ceil(borrowed·WAD / target)`
 *   is the least supply at which utilization ≤ target.
 * - a chain above its band (`borrowed·WAD > high·supplied`) needs `required − supplied − inbound`,
 *   where inbound is what our open sagas are already bringing it.
 * - a chain can give while it stays at or below target: at most `supplied − required` in total,
 *   and never more than `idle − minBuffer`, nor the remaining outflow of the vault's window
 *   (`min(policy cap, on-chain cap) − outflowInWindow`, usage 0 when the on-chain window has expired
 *   at the block read), and each single transfer at most `caps.maxTransfer`; all of it net of what the chain still
 *   has to withdraw for transfers in flight (`InFlight.withdrawn === false`).
 *
 * Algorithm: repeatedly pair the chain with the largest remaining need with the donor that can send
 * it the most in one transfer (ties broken by chainKey, code-unit order), skipping routes that
 * already carry a transfer of this plan or an in-flight one (either direction) and amounts below
 * `minTransfer` (the larger of both ends'). Stops when no pair is left. Only chains with a policy
 * and `oracleCheck.ok` are planned.
 *
 * Messages per route ({@link GreedyOptions}): `one` (the default, the keeper's `greedy` planner) allows one
 * transfer per ordered pair per plan; `several` (the rule the optimal planner and its greedy baseline play
 * by, planner/optimal.ts) lets a route carry up to `maxMessagesPerRoute` transfers, each ≤ the donor's
 * `maxTransfer`, together within the donor's spare (target, buffer, window): a need larger than one capped
 * message is then served by the next message on the same route.
 */
import { outboundNotWithdrawn, WAD } from './types.js';
import type { ChainPolicy, ChainState, InFlight, Plan, Transfer } from './types.js';
import { ceilDiv, cmpKey, minB, pos } from './bigint.js';

/** How many transfers one ordered chain pair may carry in one plan (see the module doc). */
export interface GreedyOptions {
  /** `one` (default) or `several`. */
  messagesPerRoute?: 'one' | 'several';
  /** With `several`: the most transfers per ordered pair (default {@link DEFAULT_MAX_MESSAGES_PER_ROUTE}). */
  maxMessagesPerRoute?: number;
}

/** Default bound on the messages one route carries in one plan under the `several` rule. */
export const DEFAULT_MAX_MESSAGES_PER_ROUTE = 4;

/** Input of {@link planGreedy}. Order of the arrays does not matter. */
export interface GreedyInput {
  chains: readonly ChainState[];
  policies: readonly ChainPolicy[];
  inFlight: readonly InFlight[];
}

/**
 * A WAD ratio as a percent with 2 decimals, truncated: `912345678901234567n` → `91.23%`.
 */
export function formatWadPct(wad: bigint): string {
  const neg = wad < 0n;
  const hundredths = ((neg ? -wad : wad) * 10_000n) / WAD;
  return `${neg ? '-' : ''}${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}%`;
}

function utilPct(borrowed: bigint, supplied: bigint): string {
  if (supplied === 0n) return borrowed === 0n ? '0.00%' : 'unbounded (nothing supplied)';
  return formatWadPct((borrowed * WAD) / supplied);
}

const min = minB;
const routeKey = (from: string, to: string): string => `${from}\u0000${to}`;

/** Working state of one planned chain. */
interface Node {
  key: string;
  chain: ChainState;
  policy: ChainPolicy;
  target: bigint;
  /** Least supply with utilization ≤ target. */
  required: bigint;
  inbound: bigint;
  /** Remaining need (base units) of a chain above its band. */
  need: bigint;
  /** Remaining total the chain may still give (target, buffer and window bounds). */
  spare: bigint;
  /** Which bound set `spare` at the start, for reasons. */
  spareBound: string;
  /** What bounds `need` besides the band (ChainStanding.needBound). */
  needBound?: string;
  received: bigint;
  sent: bigint;
}

function validate(input: GreedyInput): void {
  const seen = new Set<string>();
  for (const c of input.chains) {
    if (seen.has(c.chainKey)) throw new Error(`planGreedy: chain "${c.chainKey}" appears twice in chains; pass one state per chain`);
    seen.add(c.chainKey);
    if (c.supplied < 0n || c.borrowed < 0n || c.idle < 0n) {
      throw new Error(`planGreedy: chain "${c.chainKey}" has a negative supplied/borrowed/idle; the snapshot is corrupt`);
    }
  }
  const seenP = new Set<string>();
  for (const p of input.policies) {
    if (seenP.has(p.chainKey)) throw new Error(`planGreedy: policy for "${p.chainKey}" appears twice; pass one policy per chain`);
    seenP.add(p.chainKey);
    const { lowWad, highWad } = p.band;
    if (!(lowWad >= 0n && lowWad < highWad && highWad <= WAD && (lowWad + highWad) / 2n > 0n)) {
      throw new Error(
        `planGreedy: policy "${p.chainKey}" band [${lowWad}, ${highWad}] must satisfy 0 ≤ low < high ≤ WAD with a target above 0`,
      );
    }
    const caps = p.caps;
    if (p.minBufferAmount < 0n || caps.maxOutflowPerWindow < 0n || caps.maxTransfer < 0n || caps.minTransfer < 0n) {
      throw new Error(`planGreedy: policy "${p.chainKey}" has a negative amount; amounts are base units ≥ 0`);
    }
  }
}

/** Chain `c`'s outflow cap per window (base units): the smaller of the policy's and the on-chain cap. */
export function windowCap(c: ChainState, p: ChainPolicy): bigint {
  return min(p.caps.maxOutflowPerWindow, c.onChainCap.maxOutflowPerWindow);
}

/** What is left of chain `c`'s outflow window (base units): {@link windowCap} less what the current window has used. */
export function windowLeft(c: ChainState, p: ChainPolicy): bigint {
  const cap = c.onChainCap;
  const expired = c.blockTimestampSec >= cap.windowStartSec + cap.windowSec;
  const used = expired ? 0n : cap.outflowInWindow;
  return pos(windowCap(c, p) - used);
}

/** True when utilization (borrowed / supplied) is above the chain's band. */
export function isAbove(borrowed: bigint, supplied: bigint, p: ChainPolicy): boolean {
  return borrowed * WAD > p.band.highWad * supplied;
}
/** True when utilization (borrowed / supplied) is below the chain's band. */
export function isBelow(borrowed: bigint, supplied: bigint, p: ChainPolicy): boolean {
  return borrowed * WAD < p.band.lowWad * supplied;
}

/** Where a chain stands for planning (base units; `targetWad` the band's middle as WAD). */
export interface ChainStanding {
  targetWad: bigint;
  /** Supply at which the chain's utilization would be its target: ceil(borrowed / target). */
  required: bigint;
  /** What is already on its way to the chain (in-flight transfers). */
  inbound: bigint;
  /** Above its band: what it still needs to reach its target, net of inbound; else 0. */
  need: bigint;
  /** What it may give in total: the smallest of its target, buffer and window bounds; 0 above its band. */
  spare: bigint;
  /** Which bound set `spare`, for reasons. */
  spareBound: string;
  /** When something other than the band bounds `need` (an Aave reserve frozen, paused or at its supply cap): what. */
  needBound?: string;
}

/**
 * What chain `c`'s Aave reserve can still receive (base units): 0 when frozen, paused or inactive; the supply cap's
 * headroom (cap × 10^decimals − total supply) when capped; undefined for no bound (no cap, or not an Aave chain).
 */
export function receiveLimit(c: ChainState): { limit: bigint; why: string } | undefined {
  const m = c.market;
  if (!m) return undefined;
  const cfg = m.configuration;
  if (!cfg.active || cfg.frozen || cfg.paused) return { limit: 0n, why: `its Aave reserve is ${!cfg.active ? 'inactive' : cfg.frozen ? 'frozen' : 'paused'} (never a destination)` };
  if (cfg.supplyCapTokens === 0n) return undefined;
  const cap = cfg.supplyCapTokens * 10n ** BigInt(cfg.decimals);
  return { limit: pos(cap - m.totalSupply), why: `its Aave supply cap (${cfg.supplyCapTokens} tokens, total supply ${m.totalSupply})` };
}

/**
 * The need and spare of chain `c` under `policy` with `inbound` on its way (the planners' one definition).
 * @param outbound what `c` still has to withdraw for transfers already started (in flight, not yet withdrawn at the
 *   snapshot's block; types.ts `outboundNotWithdrawn`): every bound of its spare is net of it, as planner/capacity.ts
 *   nets a donor of its outbound capacity moves. Default 0.
 */
export function chainStanding(c: ChainState, policy: ChainPolicy, inbound: bigint, outbound = 0n): ChainStanding {
  const targetWad = (policy.band.lowWad + policy.band.highWad) / 2n;
  const required = ceilDiv(c.borrowed * WAD, targetWad);
  const above = isAbove(c.borrowed, c.supplied, policy);
  const bounds: [string, bigint][] = [
    ['its target', pos(c.supplied - required)],
    [`its buffer (idle ${c.idle} − minBuffer ${policy.minBufferAmount})`, pos(c.idle - policy.minBufferAmount)],
    ['the outflow window cap', windowLeft(c, policy)],
  ];
  // On an Aave market the keeper moves only the treasury's own supply (its aToken balance), never more.
  if (c.market) bounds.push([`the treasury's Aave supply (aToken balance ${c.market.treasuryBalance})`, c.market.treasuryBalance]);
  const [bound0, spare0] = above ? ['its band', 0n] : bounds.reduce((m, b) => (b[1] < m[1] ? b : m));
  const spareBound = outbound > 0n && spare0 > 0n ? `${bound0}, net of ${outbound} in flight not yet withdrawn` : bound0;
  const spare = pos(spare0 - outbound);
  const short = above ? pos(required - c.supplied - inbound) : 0n;
  const recv = receiveLimit(c);
  const capped = recv !== undefined && recv.limit < short;
  return { targetWad, required, inbound, need: capped ? recv.limit : short, spare, spareBound, ...(capped ? { needBound: recv.why } : {}) };
}

/**
 * Plan transfers that bring chains above their band back to target, from chains below target.
 * Pure and deterministic: same input (in any order) → deep-equal plan.
 *
 * @returns `transfers` in planning order (use the index as the plan sequence), each with a reason
 *   giving utilizations as percents; `unresolved`: every chain still outside its band after the plan
 *   (sorted by chainKey), with why.
 * @throws {Error} on duplicate chains or policies, or a malformed policy (band not 0 ≤ low < high ≤ WAD,
 *   negative amounts).
 * @example planGreedy({ chains: snapshot.chains, policies: chainPolicies(config), inFlight })
 */
export function planGreedy(input: GreedyInput, opts: GreedyOptions = {}): Plan {
  validate(input);
  const several = opts.messagesPerRoute === 'several';
  const maxMessages = several ? (opts.maxMessagesPerRoute ?? DEFAULT_MAX_MESSAGES_PER_ROUTE) : 1;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new Error(`planGreedy: maxMessagesPerRoute must be an integer ≥ 1 (got ${maxMessages})`);
  const policies = new Map(input.policies.map((p) => [p.chainKey, p]));
  const chains = [...input.chains].sort((a, b) => cmpKey(a.chainKey, b.chainKey));

  const inFlightRoutes = new Set<string>();
  const inboundOf = new Map<string, bigint>();
  const outboundOf = outboundNotWithdrawn(input.inFlight);
  for (const f of input.inFlight) {
    inFlightRoutes.add(routeKey(f.from, f.to));
    inFlightRoutes.add(routeKey(f.to, f.from));
    inboundOf.set(f.to, (inboundOf.get(f.to) ?? 0n) + f.amount);
  }

  const unresolved: Plan['unresolved'] = [];
  const nodes: Node[] = [];
  for (const c of chains) {
    const policy = policies.get(c.chainKey);
    if (policy === undefined) {
      unresolved.push({ chainKey: c.chainKey, reason: `${c.chainKey} left out of planning: no policy configured for it` });
      continue;
    }
    if (!c.oracleCheck.ok) {
      const out = isAbove(c.borrowed, c.supplied, policy) || isBelow(c.borrowed, c.supplied, policy);
      if (out) {
        unresolved.push({
          chainKey: c.chainKey,
          reason:
            `${c.chainKey} utilization ${utilPct(c.borrowed, c.supplied)} outside band ` +
            `[${formatWadPct(policy.band.lowWad)}, ${formatWadPct(policy.band.highWad)}] but left out of planning: ` +
            `oracle refused (${c.oracleCheck.reason ?? 'no reason given'})`,
        });
      }
      continue;
    }
    const st = chainStanding(c, policy, inboundOf.get(c.chainKey) ?? 0n, outboundOf.get(c.chainKey) ?? 0n);
    nodes.push({ key: c.chainKey, chain: c, policy, target: st.targetWad, required: st.required, inbound: st.inbound, need: st.need, spare: st.spare, spareBound: st.spareBound, needBound: st.needBound, received: 0n, sent: 0n });
  }

  /** Routes at their message limit for this plan (one message under the `one` rule). */
  const usedRoutes = new Set<string>();
  const messagesOn = new Map<string, number>();
  const transfers: Transfer[] = [];
  const perTransfer = (d: Node): bigint => min(d.spare, d.policy.caps.maxTransfer);
  const minTransferOf = (from: Node, to: Node): bigint =>
    from.policy.caps.minTransfer > to.policy.caps.minTransfer ? from.policy.caps.minTransfer : to.policy.caps.minTransfer;

  for (;;) {
    const deficits = nodes.filter((n) => n.need > 0n).sort((a, b) => (a.need === b.need ? cmpKey(a.key, b.key) : a.need > b.need ? -1 : 1));
    const donors = nodes
      .filter((n) => perTransfer(n) > 0n)
      .sort((a, b) => {
        const pa = perTransfer(a);
        const pb = perTransfer(b);
        return pa === pb ? cmpKey(a.key, b.key) : pa > pb ? -1 : 1;
      });
    let planned: { from: Node; to: Node; amount: bigint } | undefined;
    search: for (const to of deficits) {
      for (const from of donors) {
        if (from === to) continue;
        const r = routeKey(from.key, to.key);
        if (usedRoutes.has(r) || inFlightRoutes.has(r)) continue;
        const amount = min(to.need, perTransfer(from));
        if (amount < minTransferOf(from, to)) continue;
        planned = { from, to, amount };
        break search;
      }
    }
    if (planned === undefined) break;
    const { from, to, amount } = planned;
    const reason = transferReason(from, to, amount);
    const rk = routeKey(from.key, to.key);
    messagesOn.set(rk, (messagesOn.get(rk) ?? 0) + 1);
    if (messagesOn.get(rk)! >= maxMessages) usedRoutes.add(rk);
    from.spare -= amount;
    from.sent += amount;
    to.need -= amount;
    to.received += amount;
    transfers.push({ from: from.key, to: to.key, amount, reason });
  }

  for (const n of nodes) {
    const r = unresolvedReason(n, nodes, usedRoutes, inFlightRoutes, perTransfer, minTransferOf, maxMessages);
    if (r !== undefined) unresolved.push({ chainKey: n.key, reason: r });
  }
  unresolved.sort((a, b) => cmpKey(a.chainKey, b.chainKey));
  return { transfers, unresolved };
}

function band(n: Node): string {
  return `[${formatWadPct(n.policy.band.lowWad)}, ${formatWadPct(n.policy.band.highWad)}]`;
}

function transferReason(from: Node, to: Node, amount: bigint): string {
  const t = to.chain;
  const f = from.chain;
  const toNow = t.supplied + to.received;
  const fromNow = f.supplied - from.sent;
  const bound =
    amount === to.need
      ? `all ${to.key} still needs`
      : amount === from.policy.caps.maxTransfer
        ? `${from.key} maxTransfer ${amount}`
        : `${from.key} limited by ${from.spareBound}`;
  return (
    `${to.key} utilization ${utilPct(t.borrowed, toNow)} > high ${formatWadPct(to.policy.band.highWad)}, ` +
    `needs ${to.need} to reach target ${formatWadPct(to.target)}; ` +
    `${from.key} utilization ${utilPct(f.borrowed, fromNow)} ≤ target ${formatWadPct(from.target)}, can spare ${from.spare}; ` +
    `moves ${amount} (${bound}): ${to.key} → ${utilPct(t.borrowed, toNow + amount)}, ${from.key} → ${utilPct(f.borrowed, fromNow - amount)}`
  );
}

function unresolvedReason(
  n: Node,
  nodes: readonly Node[],
  usedRoutes: ReadonlySet<string>,
  inFlightRoutes: ReadonlySet<string>,
  perTransfer: (d: Node) => bigint,
  minTransferOf: (from: Node, to: Node) => bigint,
  maxMessages: number,
): string | undefined {
  const c = n.chain;
  const supplied = c.supplied - n.sent + n.received;
  if (isAbove(c.borrowed, supplied, n.policy)) {
    const head = `${n.key} utilization ${utilPct(c.borrowed, supplied)} > high ${formatWadPct(n.policy.band.highWad)} after this plan`;
    if (n.need === 0n && n.needBound) return `${head}: it can receive no more: ${n.needBound}`;
    if (n.need === 0n) {
      return `${head}: in-flight transfers bringing ${n.inbound} cover what it needs to reach target ${formatWadPct(n.target)}; waiting for delivery`;
    }
    const blocked: string[] = [];
    for (const d of nodes) {
      if (d === n || perTransfer(d) === 0n) continue;
      const r = routeKey(d.key, n.key);
      if (inFlightRoutes.has(r)) blocked.push(`${d.key}: a transfer is in flight on this route`);
      else if (usedRoutes.has(r)) blocked.push(maxMessages === 1 ? `${d.key}: route already used in this plan` : `${d.key}: route carries its ${maxMessages} messages in this plan`);
      else blocked.push(`${d.key}: ${min(n.need, perTransfer(d))} < minTransfer ${minTransferOf(d, n)}`);
    }
    const why =
      blocked.length === 0
        ? 'no other chain can spare liquidity (each is above its target, at its buffer or at its outflow window cap)'
        : `donors blocked: ${blocked.join('; ')}`;
    return `${head}: still short ${n.need} of target ${formatWadPct(n.target)}${n.needBound ? ` (as much as ${n.needBound} lets it receive)` : ''}; ${why}`;
  }
  if (isBelow(c.borrowed, supplied, n.policy)) {
    const waiting = nodes.filter((d) => d.need > 0n).map((d) => d.key);
    const why =
      waiting.length === 0
        ? 'no chain above its band needs its liquidity'
        : `it could not send to ${waiting.join(', ')} (see their reasons)`;
    return `${n.key} utilization ${utilPct(c.borrowed, supplied)} < low ${formatWadPct(n.policy.band.lowWad)} of band ${band(n)}: ${why}`;
  }
  return undefined;
}
