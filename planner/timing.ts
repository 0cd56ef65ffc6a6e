/**
 * Gas-aware timing and batching of a plan's transfers (issue 14). Pure, exact bigint; no I/O, no clock.
 *
 * A plan's transfers are either URGENT (their destination is in need: above its band's high mark, or forecast above
 * it, so the liquidity must move now) or YIELD-ONLY (a move that earns more where it lands, which can wait). Only a
 * yield-only transfer is ever held back, by two rules:
 *
 * - gas timing ({@link GasTimingRule}): it waits while its SOURCE chain's current base fee is above the `percentile`-th
 *   percentile (nearest rank) of that chain's base fees over the last `windowSec` seconds — and, when the yield it
 *   forgoes per hour is known ({@link TimingInput.forgonePerHour}), only if what the wait could save is more than that
 *   yield over `expectedWaitSec` (an L2 move of millions saves cents by waiting and forgoes dollars: it goes now).
 *   With fewer than `minSamples` samples in the window the rule cannot judge and the transfer is sent;
 * - batching ({@link BatchingRule}): it waits while its fixed fee (the quote's per-message fee: gas of both ends and
 *   messaging, in the asset's base units) is more than `maxFixedFeeBps` of its amount. Nothing is carried from one
 *   plan to the next: the deferred amount stays on its source, so the next plan sees the same spare (plus whatever
 *   accrued) and proposes the move again, larger once more is worth moving, or not at all once it is not.
 *
 * Why 10 bps ({@link DEFAULT_TIMING_POLICY}): a yield-only move pays its fixed fee back out of the supply-rate spread
 * it captures; at 10 bps of the amount a 1 percentage point spread takes 36.5 days (0.001 × 365 / 0.01) to repay the
 * fee alone, longer than the spreads of the Aave history usually last, so a move that small is better made later in
 * one larger message. An urgent move is never held back, whatever its fee or the gas.
 *
 * Urgency ({@link chainsInNeed}): a destination's need is the band planners' (planner/routing.ts `plannedChains`,
 * `need > 0`: above its high mark now, net of what is already inbound) or, for a planner with a utilization forecast
 * (planner/yield.ts), the chains its certificate marks `inNeedByForecast` (forecast above the high mark).
 */
import { plannedChains } from './routing.js';
import type { BridgeEdge, OptimalInput } from './routing.js';
import type { RoutedTransfer } from './reasons.js';

/** Gas timing: a yield-only transfer waits while its source's base fee is above this percentile of its recent history. */
export interface GasTimingRule {
  /** Percentile (nearest rank) of the window's base fees, an integer 1..100 (50 = the median). */
  percentile: number;
  /** The history window, seconds before now (e.g. 86 400: the last 24 h). */
  windowSec: number;
  /** Fewest samples in the window for the rule to judge (default 1); with fewer, nothing waits for gas. */
  minSamples?: number;
  /**
   * How long a wait for gas is expected to last, seconds (default {@link DEFAULT_EXPECTED_WAIT_SEC}): a transfer whose
   * yield forgone over that long is at least what waiting could save is sent now ({@link TimingInput.forgonePerHour}).
   */
  expectedWaitSec?: number;
}

/**
 * {@link GasTimingRule.expectedWaitSec}'s default, 6 h: in the backtest on the Aave v3 USDC history (synthetic gas), the
 * moves that waited for gas were sent after 5.4–5.5 h on average.
 */
export const DEFAULT_EXPECTED_WAIT_SEC = 6 * 3600;

/** Batching: a yield-only transfer waits while its fixed fee is more than `maxFixedFeeBps` of its amount. */
export interface BatchingRule {
  /** Basis points of the amount (a number ≥ 0, multiple of 0.01 bps; 10 = 0.1%). */
  maxFixedFeeBps: number;
}

/** Which rules apply; an absent rule holds nothing back. */
export interface TimingPolicy {
  gas?: GasTimingRule;
  batching?: BatchingRule;
}

/** The default: wait above the 24 h median base fee; batch moves whose fixed fee is over 10 bps (module doc). */
export const DEFAULT_TIMING_POLICY: Readonly<{ gas: Required<GasTimingRule>; batching: BatchingRule }> = {
  gas: { percentile: 50, windowSec: 86_400, minSamples: 1, expectedWaitSec: DEFAULT_EXPECTED_WAIT_SEC },
  batching: { maxFixedFeeBps: 10 },
};

/** One base-fee observation of a chain: wei per unit of gas at a time (seconds, on the caller's clock). */
export interface BaseFeeSample {
  atSec: number;
  baseFeeWei: bigint;
}

/** A chain's base fees: its history (oldest first; only the samples in the rule's window are used) and now. */
export interface ChainBaseFees {
  history: readonly BaseFeeSample[];
  /** The base fee now (wei per gas). */
  currentWei: bigint;
}

/** Input of {@link timeTransfers}. */
export interface TimingInput<T extends RoutedTransfer> {
  /** The plan's transfers (any order; the output keeps it). */
  transfers: readonly T[];
  /** Per transfer (same order): true when its destination is in need ({@link chainsInNeed}); urgent moves always go. */
  urgent: readonly boolean[];
  /** Now, on the samples' clock (seconds). */
  nowSec: number;
  /** chainKey → its base fees; a source without an entry is never held back for gas. */
  baseFees: Readonly<Record<string, ChainBaseFees>>;
  /** The quotes the plan used: each transfer's fixed fee is its (from, to, bridge) edge's `fixedFee` (base units). */
  edges: readonly BridgeEdge[];
  /**
   * Per transfer (same order), when known: the yield it gives up per hour it waits (base units; planner/yield.ts
   * `gainAtHorizon` over its horizon). A transfer waits for gas only when what waiting could save — at most its fixed
   * fee × (base fee now − percentile) / base fee now, as if the whole fixed fee were source gas — is more than this
   * × `expectedWaitSec`. Unknown (absent or undefined): the gas rule alone decides.
   */
  forgonePerHour?: readonly (bigint | undefined)[];
}

/** A transfer held back, with the rules that held it and why (one line). */
export interface DeferredTransfer<T extends RoutedTransfer> {
  transfer: T;
  /** The rules that held it back (`gas`, `batch`, or both, in that order). */
  rules: ('gas' | 'batch')[];
  /** E.g. `waits: base fee 31.2 gwei > p50 19.8 gwei of the last 24 h`. */
  reason: string;
  /** The transfer's fixed fee as quoted now (base units). */
  fixedFee: bigint;
}

/** Result of {@link timeTransfers}: what goes now, what waits. */
export interface TimedPlan<T extends RoutedTransfer> {
  send: T[];
  deferred: DeferredTransfer<T>[];
}

/**
 * The `p`-th percentile of `values` by nearest rank: the ⌈p·n/100⌉-th smallest (p = 50 of 24 values: the 12th).
 * @throws Error when `values` is empty or `p` is not an integer in 1..100.
 * @example percentileWei([5n, 1n, 3n, 2n], 50) === 2n
 */
export function percentileWei(values: readonly bigint[], p: number): bigint {
  if (!Number.isInteger(p) || p < 1 || p > 100) throw new Error(`percentileWei: percentile must be an integer in 1..100 (got ${p})`);
  if (values.length === 0) throw new Error('percentileWei: no values');
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[Math.ceil((p * s.length) / 100) - 1]!;
}

/** `wei` in gwei as a decimal string with `places` decimals (truncated), trailing zeros trimmed. */
function gweiText(wei: bigint, places: number): string {
  const whole = wei / 1_000_000_000n;
  const frac = (wei % 1_000_000_000n).toString().padStart(9, '0').slice(0, places).replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

/**
 * Two base fees (wei) as gwei strings (truncated, trailing zeros trimmed), with at least 2 decimals, 3 significant
 * digits of a sub-gwei smaller one, and as many more as it takes to show them apart (at most 9 decimals: exact).
 * @example formatGweiPair(31_200_000_000n, 19_800_000_000n) → ['31.2', '19.8']
 * @example formatGweiPair(62_000_000n, 48_500_000n) → ['0.062', '0.0485']
 */
export function formatGweiPair(a: bigint, b: bigint): [string, string] {
  const small = a < b ? a : b;
  // Leading zeros of a sub-gwei fee after the decimal point (0.0485 gwei = 48 500 000 wei: 1), plus 3 digits.
  const zeros = small > 0n && small < 1_000_000_000n ? 9 - small.toString().length : 0;
  let places = Math.min(9, Math.max(2, zeros + 3));
  let sa = gweiText(a, places);
  let sb = gweiText(b, places);
  while (a !== b && sa === sb && places < 9) {
    places++;
    sa = gweiText(a, places);
    sb = gweiText(b, places);
  }
  return [sa, sb];
}

/** A window length in words: `24 h`, `90 min`, `45 s`. */
function windowText(sec: number): string {
  if (sec % 3600 === 0) return `${sec / 3600} h`;
  if (sec % 60 === 0) return `${sec / 60} min`;
  return `${sec} s`;
}

/** Centi-bps (1e-6 of the amount) from a bps number that is a multiple of 0.01. */
const centiBps = (bps: number): bigint => BigInt(Math.round(bps * 100));

/**
 * The chains a transfer must reach NOW: need > 0 in the band planners' standing (planner/routing.ts
 * `plannedChains`: above the high mark, net of inbound; chains the oracle refused are not planned and so never in
 * need here) plus the chains a forecast put in need (planner/yield.ts certificate `markets[].inNeedByForecast`).
 * @param input the plan's input (chains, policies, in flight; edges unused).
 * @param inNeedByForecast chain keys in need by the forecast alone (empty for a planner without a forecast).
 */
export function chainsInNeed(input: Pick<OptimalInput, 'chains' | 'policies' | 'inFlight'>, inNeedByForecast: Iterable<string> = []): Set<string> {
  const out = new Set<string>(inNeedByForecast);
  for (const c of plannedChains(input)) if (c.need > 0n) out.add(c.key);
  return out;
}

/**
 * Splits a plan's transfers into those to send now and those that wait (module doc: urgent ones always go; a
 * yield-only one waits for gas above the window's percentile on its source, or while its fixed fee is more than
 * `maxFixedFeeBps` of its amount).
 * @returns `send` and `deferred` (each in the input order); `deferred[].reason` names every rule that held it, e.g.
 *   `waits: base fee 31.2 gwei > p50 19.8 gwei of the last 24 h`, `waits: fixed fee 8123 = 27.1 bps of 3000000000 > 10 bps (batched: the next plan moves the spare in one larger message)`.
 * @throws Error when `urgent` is not as long as `transfers`, a transfer has no edge in `edges` (no fixed fee to weigh),
 *   the rule's percentile is not an integer in 1..100, `windowSec` ≤ 0 or `maxFixedFeeBps` < 0.
 */
export function timeTransfers<T extends RoutedTransfer>(input: TimingInput<T>, policy: TimingPolicy): TimedPlan<T> {
  const { transfers, urgent } = input;
  if (urgent.length !== transfers.length) throw new Error(`timeTransfers: ${urgent.length} urgency flags for ${transfers.length} transfers`);
  const gas = policy.gas;
  if (gas && (!Number.isInteger(gas.percentile) || gas.percentile < 1 || gas.percentile > 100)) throw new Error(`timeTransfers: gas.percentile must be an integer in 1..100 (got ${gas.percentile})`);
  if (gas && !(gas.windowSec > 0)) throw new Error(`timeTransfers: gas.windowSec must be > 0 (got ${gas.windowSec})`);
  const batch = policy.batching;
  if (batch && !(batch.maxFixedFeeBps >= 0)) throw new Error(`timeTransfers: batching.maxFixedFeeBps must be ≥ 0 (got ${batch.maxFixedFeeBps})`);
  const edgeFee = new Map(input.edges.map((e) => [`${e.from}\u0000${e.to}\u0000${e.bridge}`, e.fixedFee]));
  // Per source: the gas verdict (computed once per chain).
  const gasVerdict = new Map<string, string | undefined>();
  const gasWhy = (chain: string): string | undefined => {
    if (!gas) return undefined;
    if (gasVerdict.has(chain)) return gasVerdict.get(chain);
    const f = input.baseFees[chain];
    let why: string | undefined;
    if (f) {
      const from = input.nowSec - gas.windowSec;
      const window = f.history.filter((s) => s.atSec >= from && s.atSec < input.nowSec).map((s) => s.baseFeeWei);
      if (window.length > 0 && window.length >= (gas.minSamples ?? 1)) {
        const p = percentileWei(window, gas.percentile);
        if (f.currentWei > p) {
          const [now, ref] = formatGweiPair(f.currentWei, p);
          why = `base fee ${now} gwei > p${gas.percentile} ${ref} gwei of the last ${windowText(gas.windowSec)}`;
        }
      }
    }
    gasVerdict.set(chain, why);
    return why;
  };
  // Waiting pays only when the most it could save beats the yield it gives up meanwhile (exact: both sides × fee now × 3600).
  const waitSec = BigInt(gas?.expectedWaitSec ?? DEFAULT_EXPECTED_WAIT_SEC);
  const worthWaiting = (i: number, chain: string, fixedFee: bigint): boolean => {
    const forgone = input.forgonePerHour?.[i];
    const f = input.baseFees[chain];
    if (forgone === undefined || !f || !gas) return true;
    const p = percentileWei(f.history.filter((x) => x.atSec >= input.nowSec - gas.windowSec && x.atSec < input.nowSec).map((x) => x.baseFeeWei), gas.percentile);
    return fixedFee * (f.currentWei - p) * 3600n > forgone * waitSec * f.currentWei;
  };
  const out: TimedPlan<T> = { send: [], deferred: [] };
  transfers.forEach((t, i) => {
    const fixedFee = edgeFee.get(`${t.from}\u0000${t.to}\u0000${t.bridge}`);
    if (fixedFee === undefined) throw new Error(`timeTransfers: no quote for ${t.from} → ${t.to} over ${t.bridge}`);
    if (urgent[i]) {
      out.send.push(t);
      return;
    }
    const rules: DeferredTransfer<T>['rules'] = [];
    const whys: string[] = [];
    const g = gasWhy(t.from);
    if (g !== undefined && worthWaiting(i, t.from, fixedFee)) {
      rules.push('gas');
      whys.push(g);
    }
    // fixedFee / amount > maxBps / 10⁴  ⇔  fixedFee · 10⁶ > maxCentiBps · amount (exact).
    if (batch && fixedFee * 1_000_000n > centiBps(batch.maxFixedFeeBps) * t.amount) {
      const tenthBps = t.amount > 0n ? (fixedFee * 100_000n) / t.amount : 0n;
      rules.push('batch');
      whys.push(`fixed fee ${fixedFee} = ${tenthBps / 10n}.${tenthBps % 10n} bps of ${t.amount} > ${batch.maxFixedFeeBps} bps (batched: the next plan moves the spare in one larger message)`);
    }
    if (rules.length === 0) out.send.push(t);
    else out.deferred.push({ transfer: t, rules, reason: `waits: ${whys.join('; ')}`, fixedFee });
  });
  return out;
}

/**
 * A planner's plan timed: a transfer to a chain of `inNeed` ({@link chainsInNeed}) is urgent; the yield each transfer
 * forgoes per hour of waiting is its `gainAtHorizon` over `horizonSec` (planner/yield.ts transfers; a transfer without
 * one: unknown, the gas rule alone decides); then {@link timeTransfers}. The keeper's plan activity and the backtest
 * both time a plan through this.
 * @throws as {@link timeTransfers}, and when `horizonSec` is not a positive integer.
 */
export function timePlan<T extends RoutedTransfer & { gainAtHorizon?: bigint }>(
  p: { transfers: readonly T[]; inNeed: ReadonlySet<string>; horizonSec: number } & Pick<TimingInput<T>, 'nowSec' | 'baseFees' | 'edges'>,
  policy: TimingPolicy,
): TimedPlan<T> {
  if (!Number.isInteger(p.horizonSec) || p.horizonSec <= 0) throw new Error(`timePlan: horizonSec must be a positive integer (got ${p.horizonSec})`);
  const forgonePerHour = p.transfers.map((t) => (t.gainAtHorizon === undefined ? undefined : ((t.gainAtHorizon > 0n ? t.gainAtHorizon : 0n) * 3600n) / BigInt(p.horizonSec)));
  return timeTransfers({ transfers: p.transfers, urgent: p.transfers.map((t) => p.inNeed.has(t.to)), nowSec: p.nowSec, baseFees: p.baseFees, edges: p.edges, forgonePerHour }, policy);
}
