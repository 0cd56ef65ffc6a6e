/**
 * LP mandates (pure, integer-only): how much the keeper may move out of a chain on behalf of the LPs who
 * opted into auto-rebalancing, and how each move and its fees are attributed to them.
 *
 * Model. Vault liquidity is pooled: an LP's POSITION on a chain is its supplied amount in that chain's
 * `CollateralVault` (`suppliedBy(lp)`, base units; keeper moves do not change it). An LP signs a
 * {@link Mandate} (EIP-712, see activities/mandateSignature.ts) naming the chains and bridges it allows,
 * the largest share of its position one move may take (`maxShareBps`), the largest fee it accepts
 * (`maxFeeBps`, fee / amount) and an expiry. With mandates required (config `lp.requireMandates`), a transfer
 * `from → to` over `bridge` may carry at most the sum, over the LPs whose mandate is ELIGIBLE for it, of
 * their ALLOWANCE on `from`:
 *
 *   allowance(lp, from) = floor(position(lp, from) · maxShareBps / 10_000)
 *   eligible ⇔ mandate not revoked, `expiresAtSec` in the future, `from` and `to` in `chains`, `bridge` in
 *              `bridges`, and `maxFeeBps ≥ feeBps(amount)` where feeBps = ceil(fee · 10_000 / amount)
 *
 * (the signature is checked before a mandate ever reaches this module). The fee of a transfer is its own
 * `fee` (base units) when the planner put one on it, else the route's quoted {@link RouteFee}; an unknown fee
 * is eligible only under a mandate with `maxFeeBps = 10_000` (any fee). Since a fixed fee weighs more on a
 * smaller amount, the clip picks the largest amount `a ≤ planned` that the LPs eligible AT `a` can carry.
 *
 * Transfers of one plan out of the same chain share the allowances: each consumes its LPs' remaining
 * allowance pro rata. The next plan starts from the full allowances again (the mandate bounds each move;
 * the vault's outflow caps bound the rate). A clipped amount below the larger `minTransfer` of both ends
 * drops the transfer, with the reason.
 *
 * Attribution. A move's amount and its fees are split over its eligible LPs pro rata to their allowance
 * ({@link splitProRata}: largest-remainder method in base units/wei, so the parts add up exactly; leftover
 * units go to the largest remainders, ties to the lower lowercase address).
 */
import type { ChainPolicy } from './types.js';

/** 10_000 basis points = 100%. */
export const BPS = 10_000n;

/** The bridges a mandate may name. */
export const KNOWN_BRIDGES = ['layerzero', 'wormhole'] as const;

/** The bridge a transfer without a `bridge` field goes over. */
export const DEFAULT_BRIDGE = 'layerzero';

/**
 * An LP's signed mandate (the EIP-712 `Mandate` struct, field for field). Addresses are `0x` + 40 hex (any
 * case; compared lowercase).
 */
export interface Mandate {
  /** The LP: the signer must recover to this address. */
  lp: `0x${string}`;
  /** The deployment it applies to (a mandate for another deployment is refused). */
  deployment: string;
  /** Chain keys the keeper may move this LP's position from and to. */
  chains: string[];
  /** Bridges the keeper may use (`layerzero`, `wormhole`). */
  bridges: string[];
  /** Largest share of the LP's position on the source chain one move may take, bps (1..10_000). */
  maxShareBps: number;
  /** Largest fee a move may cost, bps of the moved amount (0..10_000). */
  maxFeeBps: number;
  /** Unix seconds; from then on the mandate is void. */
  expiresAtSec: bigint;
  /** Strictly increasing per LP: a mandate or revocation with nonce n voids every mandate with nonce ≤ n. */
  nonce: bigint;
}

/** The fee of a route (per bridge): a fixed part per message (asset base units) and a proportional part (bps, a multiple of 0.01). */
export interface RouteFee {
  fixedFee: bigint;
  feeBps?: number;
}

/** What the planner needs to honour mandates. */
export interface MandatePlanInput {
  /** Verified, unrevoked mandates (at most one per LP; expiry is checked here against `nowMs`). */
  mandates: Mandate[];
  /** Position per chain key, per lowercase LP address (base units). Missing = 0. */
  positions: Record<string, Record<string, bigint>>;
  /** Fee per route, keyed by {@link routeFeeKey}. */
  routeFees: Record<string, RouteFee>;
  /** Now, ms since the epoch (the monitor's workflow time). */
  nowMs: number;
}

/** One LP's part in a transfer: its allowance on the source chain when the transfer was planned (base units). */
export interface LpAllowance {
  /** Lowercase address. */
  lp: string;
  /** The nonce of the mandate the allowance came from. */
  nonce: bigint;
  allowance: bigint;
}

/** A transfer as the mandate clip returns it: the (clipped) amount and the LPs it is attributed to. */
export type MandatedTransfer<T> = T & { lpAllowances: LpAllowance[] };

/** Result of {@link clipToMandates}: the transfers kept and why the others were dropped (per source chain). */
export interface MandateClip<T> {
  transfers: MandatedTransfer<T>[];
  dropped: { chainKey: string; reason: string }[];
}

/** `from->to:bridge`, the key of {@link MandatePlanInput.routeFees}. */
export function routeFeeKey(from: string, to: string, bridge: string): string {
  return `${from}->${to}:${bridge}`;
}

/** An empty input: no mandate, so nothing may move. */
export function noMandates(nowMs = 0): MandatePlanInput {
  return { mandates: [], positions: {}, routeFees: {}, nowMs };
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Fee of `amount` on `route` (base units, proportional part rounded up). */
export function routeFeeOf(route: RouteFee, amount: bigint): bigint {
  const centiBps = BigInt(Math.round((route.feeBps ?? 0) * 100));
  return route.fixedFee + ceilDiv(centiBps * amount, BPS * 100n);
}

/**
 * A fee as bps of `amount`, rounded up (so a mandate's `maxFeeBps` is never exceeded by rounding).
 * @throws Error when `amount` is not positive.
 * @example transferFeeBps(300_000n, 100_000_000_000n) // 1n (0.03 bps rounds up)
 */
export function transferFeeBps(fee: bigint, amount: bigint): bigint {
  if (amount <= 0n) throw new Error(`transferFeeBps: amount must be > 0 base units (got ${amount})`);
  return ceilDiv(fee * BPS, amount);
}

/** floor(position · maxShareBps / 10_000): what one move may take of an LP's position (base units). */
export function allowanceOf(position: bigint, maxShareBps: number): bigint {
  return (position * BigInt(maxShareBps)) / BPS;
}

/**
 * Why `m` does not allow a move `from → to` over `bridge` at `nowMs` (chain, bridge and expiry only; the fee
 * is checked by the clip), or undefined when it does.
 */
export function mandateRefusal(m: Mandate, route: { from: string; to: string; bridge: string }, nowMs: number): string | undefined {
  if (m.expiresAtSec * 1000n <= BigInt(nowMs)) return `expired at ${m.expiresAtSec} (unix s)`;
  if (!m.chains.includes(route.from)) return `chain ${route.from} not in its chains (${m.chains.join(',')})`;
  if (!m.chains.includes(route.to)) return `chain ${route.to} not in its chains (${m.chains.join(',')})`;
  if (!m.bridges.includes(route.bridge)) return `bridge ${route.bridge} not in its bridges (${m.bridges.join(',')})`;
  return undefined;
}

/**
 * Splits `total` over `weights` pro rata, exactly (largest-remainder method): each key gets
 * floor(total · w / Σw), then the units left (fewer than the number of keys) go one each to the largest
 * remainders `total · w mod Σw`, ties to the lower key (code-unit order). Zero weights get 0. The parts add
 * up to `total`, and none exceeds its weight when `total ≤ Σw`.
 * @returns the parts, in the order of `weights`.
 * @throws Error when a weight is negative, or `total > 0` with no positive weight.
 * @example splitProRata(10n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 2n }]) // [3n, 7n]
 */
export function splitProRata(total: bigint, weights: readonly { key: string; weight: bigint }[]): bigint[] {
  let sum = 0n;
  for (const w of weights) {
    if (w.weight < 0n) throw new Error(`splitProRata: weight of ${w.key} is negative (${w.weight})`);
    sum += w.weight;
  }
  if (total === 0n) return weights.map(() => 0n);
  if (sum === 0n) throw new Error(`splitProRata: cannot split ${total} over no positive weight`);
  const parts = weights.map((w) => (total * w.weight) / sum);
  let left = total - parts.reduce((a, b) => a + b, 0n);
  const order = weights
    .map((w, i) => ({ i, key: w.key, rem: (total * w.weight) % sum }))
    .filter((x) => x.rem > 0n)
    .sort((a, b) => (a.rem === b.rem ? cmp(a.key, b.key) : a.rem > b.rem ? -1 : 1));
  for (const x of order) {
    if (left === 0n) break;
    parts[x.i]! += 1n;
    left -= 1n;
  }
  return parts;
}

/** A move's amount and fees split over its LPs ({@link splitProRata} by allowance). */
export interface LpAttributionShare {
  lp: string;
  amount: bigint;
  feeWei: bigint;
  feeBaseUnits: bigint;
}

/**
 * Attributes a finished move to its LPs pro rata to their allowances: `amount` (base units; pass 0 for a move
 * that did not complete), `feeWei` (the saga's native fees) and `feeBaseUnits` (fees paid in the asset).
 * @throws Error when there are amounts to split but no positive allowance.
 */
export function attributeMove(allowances: readonly LpAllowance[], amount: bigint, feeWei: bigint, feeBaseUnits: bigint): LpAttributionShare[] {
  const weights = allowances.map((a) => ({ key: a.lp, weight: a.allowance }));
  const amounts = splitProRata(amount, weights);
  const wei = splitProRata(feeWei, weights);
  const base = splitProRata(feeBaseUnits, weights);
  return allowances.map((a, i) => ({ lp: a.lp, amount: amounts[i]!, feeWei: wei[i]!, feeBaseUnits: base[i]! }));
}

/**
 * Clips planned transfers to the LPs' mandates (see the module doc for the rule). Transfers are handled in
 * order; those out of the same chain share the LPs' allowances. A kept transfer carries `lpAllowances` (its
 * eligible LPs and their allowances, for attribution) and says in `reason` how the mandates bounded it.
 * `policies` give `minTransfer` (the larger of both ends; 0 for a chain without a policy).
 * @returns the transfers kept and, per dropped transfer, its source chain and why.
 * @example
 *   const { transfers, dropped } = clipToMandates(plan.transfers, { mandates, positions, routeFees, nowMs }, policies);
 */
export function clipToMandates<T extends { from: string; to: string; amount: bigint; reason: string; bridge?: string; fee?: bigint }>(
  transfers: readonly T[],
  input: MandatePlanInput,
  policies: readonly ChainPolicy[],
): MandateClip<T> {
  const minOf = (k: string) => policies.find((p) => p.chainKey === k)?.caps.minTransfer ?? 0n;
  // One mandate per LP (the highest nonce), lowercase keys.
  const byLp = new Map<string, Mandate>();
  for (const m of input.mandates) {
    const k = m.lp.toLowerCase();
    const prev = byLp.get(k);
    if (!prev || m.nonce > prev.nonce) byLp.set(k, m);
  }
  /** Remaining allowance per `chain\0lp`. */
  const remaining = new Map<string, bigint>();
  const left = (chain: string, lp: string, m: Mandate): bigint => {
    const k = `${chain}\u0000${lp}`;
    let r = remaining.get(k);
    if (r === undefined) {
      r = allowanceOf(input.positions[chain]?.[lp] ?? 0n, m.maxShareBps);
      remaining.set(k, r);
    }
    return r;
  };
  const out: MandatedTransfer<T>[] = [];
  const dropped: { chainKey: string; reason: string }[] = [];
  for (const t of transfers) {
    const bridge = t.bridge ?? DEFAULT_BRIDGE;
    const route = `${t.from}->${t.to} over ${bridge}`;
    const drop = (why: string) => dropped.push({ chainKey: t.from, reason: `not moved ${route} (${t.amount}): ${why}` });
    const quoted = input.routeFees[routeFeeKey(t.from, t.to, bridge)];
    // The transfer's own fee (at the planned amount) bounds the fee at any smaller amount: use it as fixed.
    const fee: RouteFee | undefined = t.fee !== undefined ? { fixedFee: t.fee } : quoted;
    const feeBpsAt = (a: bigint): bigint => (fee ? transferFeeBps(routeFeeOf(fee, a), a) : BPS + 1n);
    const allowsFee = (m: Mandate, a: bigint): boolean => (fee ? BigInt(m.maxFeeBps) >= feeBpsAt(a) : m.maxFeeBps >= Number(BPS));
    const cands = [...byLp.entries()]
      .filter(([, m]) => mandateRefusal(m, { from: t.from, to: t.to, bridge }, input.nowMs) === undefined)
      .map(([lp, m]) => ({ lp, m, r: left(t.from, lp, m) }))
      .filter((c) => c.r > 0n)
      .sort((a, b) => cmp(a.lp, b.lp));
    if (cands.length === 0) {
      const any = [...byLp.values()].some((m) => mandateRefusal(m, { from: t.from, to: t.to, bridge }, input.nowMs) === undefined);
      drop(any ? `the LPs whose mandate allows it have no allowance left on ${t.from}` : `no valid LP mandate allows ${route}`);
      continue;
    }
    // Largest amount the LPs eligible at that amount can carry: try each fee tier (see the module doc).
    let best = 0n;
    for (const tier of [...new Set(cands.map((c) => c.m.maxFeeBps))]) {
      const cap = cands.filter((c) => c.m.maxFeeBps >= tier).reduce((s, c) => s + c.r, 0n);
      const a = cap < t.amount ? cap : t.amount;
      if (a > best && cands.some((c) => c.m.maxFeeBps === tier && allowsFee(c.m, a))) best = a;
    }
    if (best === 0n) {
      const top = Math.max(...cands.map((c) => c.m.maxFeeBps));
      drop(fee ? `its fee (${feeBpsAt(t.amount)} bps at the planned amount) is above every eligible mandate's maxFeeBps (highest ${top})` : `its fee is unknown and no mandate accepts any fee (maxFeeBps 10000)`);
      continue;
    }
    const floor = minOf(t.from) > minOf(t.to) ? minOf(t.from) : minOf(t.to);
    if (best < floor) {
      drop(`LP mandates allow ${best}, below minTransfer ${floor}`);
      continue;
    }
    const eligible = cands.filter((c) => allowsFee(c.m, best));
    const parts = splitProRata(
      best,
      eligible.map((c) => ({ key: c.lp, weight: c.r })),
    );
    eligible.forEach((c, i) => remaining.set(`${t.from}\u0000${c.lp}`, c.r - parts[i]!));
    const lpAllowances = eligible.map((c) => ({ lp: c.lp, nonce: c.m.nonce, allowance: c.r }));
    const total = eligible.reduce((s, c) => s + c.r, 0n);
    const note = best < t.amount ? `clipped to LP mandates ${best} (${eligible.length} LP(s) allow ${total})` : `within LP mandates (${eligible.length} LP(s) allow ${total})`;
    out.push({ ...t, amount: best, reason: `${t.reason}; ${note}`, lpAllowances });
  }
  return { transfers: out, dropped };
}
