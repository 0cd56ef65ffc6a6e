/**
 * The yield-aware planner (config `planner.objective: 'yield'`): among the plans that keep every liquidity rule of the
 * band planner, the one that earns the treasury the most over a horizon, net of bridge fees and gas. Solved as a MILP
 * by HiGHS (planner/lp.ts), the greedy baseline as MIP start and floor.
 *
 * Hard rules (the same as planner/optimal.ts's, with receiving opened to every chain):
 * - a chain above its band's high mark — or forecast to cross it within the horizon (`forecastUtilizationWad`,
 *   planner/forecast.ts) — needs what brings it back to its band's middle: unmet need weighs
 *   {@link UNMET_NEED_WEIGHT} per base unit, so no yield ever buys unmet need (lexicographic);
 * - a chain gives at most its spare (greedy.ts `chainStanding`: stays at or below its target, keeps its buffer, its
 *   outflow window, the treasury's aToken balance; net of what it still has to withdraw for transfers in flight), so
 *   giving never pushes it toward its high mark beyond the band's middle;
 * - and for yield alone (to a chain not in need) only its YIELD SPARE: what keeps it `yieldHeadroomWad` under its
 *   high mark (default 20 percentage points) at the higher of its utilization now and its forecast, and leaves half of its outflow window's cap unused. What it gives beyond that costs
 *   {@link DEEP_SPARE_WEIGHT} per unit (more than any yield, less than unmet need), so the deep spare serves needs
 *   only. This is what keeps the planner's liquidity-shortage hours at or under greedy's in the backtest: a donor
 *   drained to its target for yield crosses its high mark on the next rise of demand, and a window spent on yield has
 *   nothing left for the chain in need;
 * - any chain may receive, up to its Aave supply cap's headroom (a frozen, paused or inactive reserve: nothing) and
 *   up to what keeps its supply above its target within one outflow window's cap (beyond its need): what it holds
 *   over its target it can send back out within one window when another chain needs it;
 *   receiving only lowers utilization (a chain may end below its low mark: the yield term, which falls with the rate,
 *   decides how far);
 * - a chain either gives or receives; the message rule, the messages' sizes, the edges' capacities and minimums and the
 *   pairs with a transfer in flight are planner/routing.ts's; the edges' bounds, columns, rows and scaling
 *   planner/edgeModel.ts's (the band planner's MILP, planner/milp.ts, shares them).
 *
 * Objective (minimized, base units over the horizon H = `horizonSec`):
 *   `W · Σ shortfall + P · Σ deep + Σ fees + Σ gas − (H / year) · Σ_i [f_i(Δ_i) − f_i(0)]`
 * (`deep_i` = what chain i gives beyond its yield spare, P = {@link DEEP_SPARE_WEIGHT})
 * with `Δ_i` the chain's net inflow and `f_i(Δ) = (T_i + Δ) · supplyRate_i(D_i / (S_i + Δ))` what the treasury earns per
 * year on market i (T_i its supply there, S_i the market's supply = available + debt, D_i the debt, all after the
 * transfers in flight settle; planner/rateModel.ts: Aave v3 DefaultReserveInterestRateStrategy). Supplying Δ lowers
 * the market's utilization and rate, so the move's rate impact is in the objective; a chain given a fixed rate
 * (`fixedSupplyRateRay`: a price-taker treasury, as the backtest's history rates) earns `(T_i + Δ) · rate_i`. Fees are the edges' (fixed +
 * proportional); gas is `gasWeiPerMessage` (the keeper's withdraw and deposit transactions) converted into the asset at
 * the source chain's oracle price (planner/bridgeFees.ts `nativeFeeToAsset`), per message.
 *
 * Linearization: each f_i is sampled at a few breakpoints over its range [−spare_i, receivable_i] (0, the range's ends,
 * halvings toward 0 on each side — `breakpointsPerSide` — the rate curve's kink `U = Uopt` and, on a chain in need, its
 * need) and interpolated linearly: `Δ_i = lo_i + Σ_k δ_ik`, `0 ≤ δ_ik ≤ len_k`, yield `f_i(lo_i) + Σ_k slope_k · δ_ik`.
 * Where f_i is concave (slopes decrease) the segments fill in order by themselves; where it is not (a treasury holding
 * much of a market above its kink: supplying first sinks the rate its own supply earns, then earns again) binaries on
 * every adjacent pair force the order (the incremental formulation). The plan is then
 * scored exactly ({@link yieldCost}) and kept only when it beats the greedy baseline's exact score.
 *
 * Rate-impact guard: a move beyond what its destination needs never leaves the destination's supply APY below the
 * source's (the linearization can overshoot within one segment; such a pair's amount is trimmed until it does not).
 *
 * Determinism: as planner/optimal.ts (ordered chains and edges, fixed seed; a solve stopped by its time limit depends
 * on machine speed: run it in an activity).
 */
import { RAY, supplyApyBps } from '../chains/evm/aaveReserve.js';
import { greedyMoves } from './baseline.js';
import { ceilDiv, cmpKey, maxB, minB, pos } from './bigint.js';
import { nativeFeeToAsset } from './bridgeFees.js';
import { buildRouteEdgeModel, edgeBounds, edgeStartValues, feeRateOf, flowsOf, modelScale, splitEdgeAmounts, trimToLimits } from './edgeModel.js';
import type { EdgeAmount, EdgeBounds, ModelEdge } from './edgeModel.js';
import { chainStanding, formatWadPct, receiveLimit, windowCap, windowLeft } from './greedy.js';
import type { ChainStanding } from './greedy.js';
import { solveMilp } from './lp.js';
import type { LpColumn, LpRow, LpTerm } from './lp.js';
import { formatBpsPct, rateModelOf, supplyApyBpsAfter, treasuryOf, treasuryYieldPerYear, YEAR_SEC } from './rateModel.js';
import type { RateModel } from './rateModel.js';
import { utilPct } from './reasons.js';
import type { RoutedTransfer } from './reasons.js';
import { edgeKey, feeOf, lowerOf, makeCtx, messageCapOf, pairKey, routeRules, UNMET_NEED_WEIGHT } from './routing.js';
import type { Ctx, Move, OptimalInput } from './routing.js';
import { outboundNotWithdrawn, WAD } from './types.js';
import type { ChainPolicy, ChainState, Plan } from './types.js';

/** Options of {@link planYield}. */
export interface YieldOptions {
  /** Wall-clock budget of the MILP solve (ms), > 0. */
  timeLimitMs: number;
  /** The horizon the yield is earned over (seconds), > 0 (config `planner.yieldHorizonSec`). */
  horizonSec: number;
  /** Per chainKey: the reserve's rate strategy (planner/rateModel.ts; default the devnet USDC strategy, reserve factor from the reserve). */
  rateModels?: Readonly<Record<string, Partial<RateModel>>>;
  /**
   * Per chainKey: the utilization forecast at the horizon (WAD; planner/forecast.ts `forecastUtilization`). A chain
   * whose forecast is above its utilization now is planned as if it were at the forecast: above its high mark it is in
   * need now (liquidity moves ahead of the band), below it it can spare only what keeps the forecast at its target (a
   * donor is never drained into a rise it can already see). A forecast below the utilization now changes nothing.
   */
  forecastUtilizationWad?: Readonly<Record<string, bigint>>;
  /**
   * Per chainKey: take this supply rate (RAY per year, APR) as given whatever the plan moves: a price-taker treasury,
   * whose supply is a small share of its market (the backtest's history rates, which it pays whatever the simulated
   * supply). A chain listed here earns `(T + Δ) · rate` and has no rate impact; the others follow their rate model.
   */
  fixedSupplyRateRay?: Readonly<Record<string, bigint>>;
  /**
   * How far under its high mark a donor stays when it gives for yield alone (utilization, WAD; default
   * {@link DEFAULT_YIELD_HEADROOM_WAD}, 20 percentage points), at the higher of its utilization now and its forecast.
   * Past that it gives only to a need, down to its target ({@link DEEP_SPARE_WEIGHT}).
   */
  yieldHeadroomWad?: bigint;
  /** The keeper's gas per message (withdraw + deposit transactions), wei of the source's gas token (default 0). */
  gasWeiPerMessage?: bigint;
  /** The asset's decimals for the gas conversion and the reasons (default: the reserve's, else 6). */
  assetDecimals?: number;
  /** Asset symbol for the reasons (default `units`). */
  assetSymbol?: string;
  /** Halvings per side of 0 in each market's breakpoints (default 4; 1..12). */
  breakpointsPerSide?: number;
  /** The message rule (planner/routing.ts), as planOptimal's. */
  messagesPerRoute?: 'one' | 'several';
  maxMessagesPerRoute?: number;
  /** HiGHS relative gap (default 1e-6 of the linearized objective). */
  mipRelGap?: number;
}

/** A transfer of a yield plan: a routed transfer plus the gas it costs and what it earns. */
export interface YieldTransfer extends RoutedTransfer {
  /** The keeper's gas for this message, in the asset (base units). */
  gas: bigint;
  /** What the plan would earn less over the horizon without this message (base units, before fees; may be < 0 for a move a need forces). */
  gainAtHorizon: bigint;
}

/** One market before and after a yield plan. */
export interface MarketOutcome {
  chainKey: string;
  /** Net inflow of the plan (base units; negative: gives). */
  delta: bigint;
  /** Utilization (WAD) once transfers in flight settle, before and after the plan. */
  utilizationBeforeWad: bigint;
  utilizationAfterWad: bigint;
  /** Supply APY (bps, Aave's per-second compounding) before and after. */
  supplyApyBeforeBps: bigint;
  supplyApyAfterBps: bigint;
  /** What the treasury earns on it per year (base units) before and after. */
  yieldPerYearBefore: bigint;
  yieldPerYearAfter: bigint;
  /** The forecast used (WAD), when one was given; `inNeedByForecast` when it alone made the chain a taker. */
  forecastWad?: bigint;
  inNeedByForecast: boolean;
}

/** What the yield planner proved and chose. */
export interface YieldCertificate {
  solver: 'highs';
  objectiveKind: 'yield';
  /** HiGHS status, `Trivial` when no MILP was needed. */
  status: string;
  horizonSec: number;
  /** Exact objective of the returned plan (base units): W·shortfall + fees + gas − gain over the horizon. */
  objective: number;
  /** The greedy baseline's exact objective on the same rules. */
  greedyObjective: number;
  /** HiGHS's proven bound and gap, on the LINEARIZED objective (base units). */
  bound: number;
  gapPct: number;
  /** |exact − linearized| objective of the returned plan (base units): what the breakpoints cost in accuracy. */
  linearizationError: number;
  /** The solver proved the linearized optimum (status `Optimal`/`Trivial`). */
  optimal: boolean;
  chosen: 'solver' | 'greedy';
  /** The returned plan: gain over the horizon and per year (base units, after rate impact, before costs), fees, gas, unmet need. */
  gainAtHorizon: bigint;
  gainPerYear: bigint;
  fees: bigint;
  gas: bigint;
  shortfall: bigint;
  /** Pairs trimmed by the rate-impact guard. */
  guardTrims: string[];
  markets: MarketOutcome[];
  /** One line per transfer (same order as `transfers`). */
  perTransferReasons: string[];
  summary: string;
  unmetNeedWeight: number;
  model: { givers: number; receivers: number; edges: number; segments: number; orderBinaries: number; rows: number; scaleExp: number };
  search: { nodes: number; lpIterations: number; solveMs: number; startAccepted: boolean };
  timeMs: number;
}

/** Result of {@link planYield}. */
export interface YieldPlan extends Plan {
  transfers: YieldTransfer[];
  totals: { fees: bigint; gas: bigint; volume: bigint; shortfall: bigint; gainAtHorizon: bigint };
  certificate: YieldCertificate;
}

/** A chain as the yield planner sees it. */
interface YNode {
  key: string;
  chain: ChainState;
  policy: ChainPolicy;
  st: ChainStanding;
  /**
   * What it gives for yield alone (base units, ≤ `st.spare`): what keeps it at or under its band's LOW mark (at its
   * forecast when rising). The rest of its spare, down to its target, goes only where a need pays for it
   * ({@link DEEP_SPARE_WEIGHT}).
   */
  yieldSpare: bigint;
  model: RateModel;
  /** The supply rate taken as given (RAY per year; {@link YieldOptions.fixedSupplyRateRay}), when one is. */
  fixedRateRay?: bigint;
  /** Market supply, debt, treasury supply once in-flight transfers settle (base units). */
  S: bigint;
  D: bigint;
  T: bigint;
  /** Most it may receive in this plan (base units: its Aave supply cap's headroom, what its outflow window could send back out, what the others can give) and what bounds it. */
  recv: bigint;
  recvWhy: string;
  forecastWad?: bigint;
  inNeedByForecast: boolean;
  gasPerMessage: bigint;
}

/** The exact score of a plan under the yield objective. */
export interface YieldCost {
  objective: number;
  fees: bigint;
  gas: bigint;
  shortfall: bigint;
  volume: bigint;
  /** Gain over the horizon (base units, float). */
  gain: number;
}

const HALVINGS = 4;

/**
 * {@link YieldOptions.yieldHeadroomWad}'s default: 20 percentage points under the high mark (65% for a 75–85% band).
 * Measured on the shared Aave v3 USDC history (`ballast backtest`, 60 days, bands 75–85%): at 10 points (the low mark)
 * the planner earned more but left chains above their band longer than greedy (148 vs 108 chain-hours); at 20 it
 * stayed under greedy's (103).
 */
export const DEFAULT_YIELD_HEADROOM_WAD = WAD / 5n;

/**
 * Cost per base unit a donor gives beyond its yield spare (below its band's low mark, down to its target): far above
 * any yield a unit earns over a horizon (a 100% APY over a year is 1), far below {@link UNMET_NEED_WEIGHT}, so that
 * liquidity is given only to a need, never for yield.
 */
export const DEEP_SPARE_WEIGHT = 10;

function nodesOf(ctx: Ctx, opts: YieldOptions): YNode[] {
  const inbound = new Map<string, bigint>();
  for (const f of ctx.input.inFlight) inbound.set(f.to, (inbound.get(f.to) ?? 0n) + f.amount);
  const outbound = outboundNotWithdrawn(ctx.input.inFlight);
  const headroom = opts.yieldHeadroomWad ?? DEFAULT_YIELD_HEADROOM_WAD;
  const out: YNode[] = [];
  for (const n of ctx.nodes.values()) {
    const c = n.chain;
    const inb = inbound.get(n.key) ?? 0n;
    const outb = outbound.get(n.key) ?? 0n;
    const fw = opts.forecastUtilizationWad?.[n.key];
    const aboveNow = c.borrowed * WAD > n.policy.band.highWad * c.supplied;
    const forecastAbove = fw !== undefined && !aboveNow && fw > n.policy.band.highWad;
    // A forecast above the utilization now: planned as if the debt were already at the forecast (above the high mark:
    // its need, no spare; below it: a smaller spare).
    const rising = fw !== undefined && fw * c.supplied > c.borrowed * WAD;
    const at = rising ? { ...c, borrowed: ceilDiv(fw * c.supplied, WAD) } : c;
    // Forecast above the high mark: in need now (no spare). Otherwise its spare for a need is the band planners' (at
    // the utilization now, as greedy gives it); only what it gives for yield alone is bounded at the forecast (below).
    const st = forecastAbove ? chainStanding(at, n.policy, inb, outb) : n;
    const fixed = opts.fixedSupplyRateRay?.[n.key];
    // Giving for yield alone stops `headroom` under the high mark (default 20 percentage points), at the forecast when
    // it is rising…
    const floorWad = n.policy.band.highWad - headroom;
    const lowBound = floorWad > 0n ? pos(at.supplied - ceilDiv(at.borrowed * WAD, floorWad)) : 0n;
    // …and leaves half of its outflow window's cap unused: that half stays for a need.
    const windowHalf = pos(windowLeft(c, n.policy) - windowCap(c, n.policy) / 2n - outb);
    const yieldSpare = minB(st.spare, minB(pos(lowBound - outb), windowHalf));
    const lim = receiveLimit(c);
    // A chain never holds more above its target than its outflow window's cap could send back out within one window
    // (beyond what it needs): liquidity piled on a chain with a small cap is trapped there when another chain needs it.
    const cap = windowCap(c, n.policy);
    const aboveTarget = pos(c.supplied + inb - outb - st.required);
    const returnable = maxB(st.need, pos(cap - aboveTarget));
    const decimals = opts.assetDecimals ?? c.market?.configuration.decimals ?? 6;
    const gasWei = opts.gasWeiPerMessage ?? 0n;
    out.push({
      key: n.key,
      chain: c,
      policy: n.policy,
      st: { targetWad: st.targetWad, required: st.required, inbound: st.inbound, need: st.need, spare: st.spare, spareBound: st.spareBound, ...(st.needBound ? { needBound: st.needBound } : {}) },
      yieldSpare,
      model: rateModelOf(c, opts.rateModels?.[n.key]),
      ...(fixed !== undefined ? { fixedRateRay: fixed } : {}),
      S: pos(c.supplied + inb - outb),
      D: c.borrowed,
      T: pos(treasuryOf(c) + inb - outb),
      recv: lim ? minB(lim.limit, returnable) : returnable,
      recvWhy: lim && lim.limit <= returnable ? lim.why : `what it could send back out within one outflow window (cap ${cap}, beyond its target)`,
      ...(fw !== undefined ? { forecastWad: fw } : {}),
      inNeedByForecast: forecastAbove && st.need > 0n,
      gasPerMessage: gasWei > 0n ? nativeFeeToAsset(gasWei, c.oracle, decimals) : 0n,
    });
  }
  // At most what all the others could give.
  for (const n of out) n.recv = minB(n.recv, out.reduce((s, m) => (m === n ? s : s + m.st.spare), 0n));
  return out;
}

const yieldAt = (n: YNode, delta: number): number =>
  n.fixedRateRay !== undefined ? (Math.max(0, Number(n.T) + delta) * Number(n.fixedRateRay)) / Number(RAY) : treasuryYieldPerYear(n.model, n.S, n.D, n.T, delta);

/** Net inflow per chain of a plan. */
function deltas(moves: readonly Move[]): Map<string, bigint> {
  const d = new Map<string, bigint>();
  for (const m of moves) {
    d.set(m.to, (d.get(m.to) ?? 0n) + m.amount);
    d.set(m.from, (d.get(m.from) ?? 0n) - m.amount);
  }
  return d;
}

/** The exact score of `moves` (fees and unmet need exact, the yield from the rate model in float). */
export function yieldCost(ctx: Ctx, nodes: readonly YNode[], moves: readonly Move[], horizonSec: number): YieldCost {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  let fees = 0n;
  let gas = 0n;
  let volume = 0n;
  for (const m of moves) {
    const e = ctx.edges.get(edgeKey(m.from, m.to, m.bridge))!;
    fees += feeOf(e, m.amount);
    gas += byKey.get(m.from)!.gasPerMessage;
    volume += m.amount;
  }
  const d = deltas(moves);
  let shortfall = 0n;
  let deep = 0n;
  let gainYear = 0;
  for (const n of nodes) {
    const dn = d.get(n.key) ?? 0n;
    shortfall += pos(n.st.need - pos(dn));
    deep += pos(-dn - n.yieldSpare);
    if (dn !== 0n) gainYear += yieldAt(n, Number(dn)) - yieldAt(n, 0);
  }
  const gain = (gainYear * horizonSec) / YEAR_SEC;
  return { objective: Number(UNMET_NEED_WEIGHT * shortfall + BigInt(DEEP_SPARE_WEIGHT) * deep + fees + gas) - gain, fees, gas, shortfall, volume, gain };
}

/** Every rule of a yield plan (see the module doc); the violations, empty when legal. */
export function verifyYieldPlan(ctx: Ctx, nodes: readonly YNode[], moves: readonly Move[]): string[] {
  const bad: string[] = [];
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const perEdge = new Map<string, { sum: bigint; n: number }>();
  const pairs = new Set<string>();
  const sent = new Map<string, bigint>();
  const got = new Map<string, bigint>();
  for (const m of moves) {
    const at = `${m.from}→${m.to} ${m.amount} over ${m.bridge}`;
    const from = byKey.get(m.from);
    const to = byKey.get(m.to);
    const e = ctx.edges.get(edgeKey(m.from, m.to, m.bridge));
    if (!from || !to || !e) {
      bad.push(`${at}: ${!e ? 'no quoted edge' : 'an end is not planned'}`);
      continue;
    }
    const fromP = ctx.nodes.get(m.from)!;
    if (m.amount <= 0n || m.amount < lowerOf(e, fromP, ctx.nodes.get(m.to)!) || m.amount > messageCapOf(e, fromP)) bad.push(`${at}: amount outside [minTransfer, maxTransfer/capacity]`);
    const pk = pairKey(m.from, m.to);
    if (ctx.inFlightPairs.has(pk)) bad.push(`${at}: route has a transfer in flight`);
    if (ctx.rules.messagesPerRoute === 'one' && pairs.has(pk)) bad.push(`${at}: second transfer on the route`);
    pairs.add(pk);
    const u = perEdge.get(edgeKey(m.from, m.to, m.bridge)) ?? { sum: 0n, n: 0 };
    u.sum += m.amount;
    u.n += 1;
    perEdge.set(edgeKey(m.from, m.to, m.bridge), u);
    if (e.capacity !== undefined && u.sum > e.capacity) bad.push(`${at}: above route capacity ${e.capacity}`);
    if (u.n > ctx.rules.maxMessagesPerRoute) bad.push(`${at}: more than ${ctx.rules.maxMessagesPerRoute} messages on the route`);
    sent.set(m.from, (sent.get(m.from) ?? 0n) + m.amount);
    got.set(m.to, (got.get(m.to) ?? 0n) + m.amount);
  }
  for (const [k, s] of sent) {
    const n = byKey.get(k)!;
    if (got.has(k)) bad.push(`${k}: both gives and receives`);
    if (s > n.st.spare) bad.push(`${k}: gives ${s} > can spare ${n.st.spare}`);
    // Band (hard): a giver ends at or under its high mark.
    if (n.D * WAD > n.policy.band.highWad * (n.S - s)) bad.push(`${k}: giving ${s} would leave it above its high mark`);
  }
  for (const [k, g] of got) {
    const n = byKey.get(k)!;
    if (g > n.recv) bad.push(`${k}: receives ${g} > ${n.recv} (${n.recvWhy})`);
  }
  return bad;
}

/** One market's breakpoints (base units, sorted, 0 included) over [lo, hi]. */
function breakpoints(n: YNode, lo: bigint, hi: bigint, halvings: number, minGap: bigint): bigint[] {
  const pts = new Set<bigint>([0n, lo, hi]);
  for (let j = 1; j < halvings; j++) {
    pts.add(lo / (1n << BigInt(j)));
    pts.add(hi / (1n << BigInt(j)));
  }
  // The rate curve's kink: U = Uopt at supply D / Uopt.
  const kink = (n.D * RAY) / n.model.optimalUsageRatioRay - n.S;
  if (kink > lo && kink < hi) pts.add(kink);
  if (n.st.need > 0n && n.st.need < hi) pts.add(n.st.need);
  const sorted = [...pts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Drop points closer than `minGap` to the previous kept one (never 0, lo or hi).
  const out: bigint[] = [];
  for (const p of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && p - prev < minGap && p !== 0n && p !== hi && p !== lo) continue;
    if (prev !== undefined && p - prev < minGap && prev !== 0n && prev !== lo) out.pop();
    out.push(p);
  }
  return out;
}

interface YModel {
  columns: LpColumn[];
  rows: LpRow[];
  objective: LpTerm[];
  objectiveConstant: number;
  edges: ModelEdge[];
  scale: bigint;
  scaleExp: number;
  /** Per chain: its segments (column, breakpoint lo, hi), the direction binary, the order binaries, shortfall column. */
  seg: Map<string, { col: string; a: bigint; b: bigint }[]>;
  dir: Map<string, string>;
  order: Map<string, string[]>;
  short: Map<string, string>;
  /** Per giver whose spare exceeds its yield spare: the column of what it gives beyond it. */
  deep: Map<string, string>;
  givers: number;
  receivers: number;
  orderBinaries: number;
}

function buildYieldModel(ctx: Ctx, nodes: readonly YNode[], opts: YieldOptions): YModel {
  const several = ctx.rules.messagesPerRoute === 'several';
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const cand: EdgeBounds[] = [];
  for (const e of ctx.edges.values()) {
    const g = byKey.get(e.from);
    const r = byKey.get(e.to);
    if (!g || !r || g.st.spare <= 0n || r.recv <= 0n || ctx.inFlightPairs.has(pairKey(e.from, e.to))) continue;
    const b = edgeBounds(ctx, e, ctx.nodes.get(e.from)!, ctx.nodes.get(e.to)!, minB(g.st.spare, r.recv));
    if (b) cand.push(b);
  }
  const { scale, scaleExp, u } = modelScale(nodes.flatMap((n) => [n.st.need, n.st.spare, n.recv]));
  const hf = opts.horizonSec / YEAR_SEC;
  const W = Number(UNMET_NEED_WEIGHT);
  // Objective: the proportional fee where there is one; per message the fixed fee plus the source's gas, and a tiny
  // cost even when free, so the solver never buys an empty message.
  const { edges, columns, rows, objective, outTerms: outT, inTerms: inT, pairY } = buildRouteEdgeModel(cand, {
    u,
    objectiveOf: (ed) => {
      const rate = feeRateOf(ed.e);
      const fixed = ed.e.fixedFee + byKey.get(ed.e.from)!.gasPerMessage;
      return { ...(rate > 0 ? { x: rate } : {}), y: fixed > 0n ? u(fixed) : 1e-9 };
    },
  });
  const seg = new Map<string, { col: string; a: bigint; b: bigint }[]>();
  const dir = new Map<string, string>();
  const order = new Map<string, string[]>();
  const short = new Map<string, string>();
  const deep = new Map<string, string>();
  const halvings = opts.breakpointsPerSide ?? HALVINGS;
  let givers = 0;
  let receivers = 0;
  let orderBinaries = 0;
  nodes.forEach((n, i) => {
    const outs = outT.get(n.key) ?? [];
    const ins = inT.get(n.key) ?? [];
    if (outs.length > 0) givers++;
    if (ins.length > 0) receivers++;
    if (outs.length > 0) rows.push({ name: `g${i}`, terms: outs, op: '<=', rhs: u(n.st.spare) });
    if (outs.length > 0 && n.st.spare > n.yieldSpare) {
      // What it gives beyond its yield spare: e ≥ Σ out − yieldSpare, at DEEP_SPARE_WEIGHT per unit.
      const e = `e${i}`;
      deep.set(n.key, e);
      columns.push({ name: e, lower: 0, upper: u(n.st.spare - n.yieldSpare) });
      objective.push({ coef: DEEP_SPARE_WEIGHT, name: e });
      rows.push({ name: `ge${i}`, terms: [...outs, { coef: -1, name: e }], op: '<=', rhs: u(n.yieldSpare) });
    }
    if (ins.length > 0) rows.push({ name: `r${i}`, terms: ins, op: '<=', rhs: u(n.recv) });
    if (outs.length > 0 && ins.length > 0) {
      const d = `d${i}`;
      dir.set(n.key, d);
      columns.push({ name: d, lower: 0, upper: 1, binary: true });
      rows.push({ name: `dg${i}`, terms: [...outs, { coef: -u(n.st.spare), name: d }], op: '<=', rhs: 0 });
      rows.push({ name: `dr${i}`, terms: [...ins, { coef: u(n.recv), name: d }], op: '<=', rhs: u(n.recv) });
    }
    if (n.st.need > 0n) {
      const s = `s${i}`;
      short.set(n.key, s);
      columns.push({ name: s, lower: 0, upper: u(n.st.need) });
      objective.push({ coef: W, name: s });
      rows.push({ name: `t${i}`, terms: [...ins, { coef: 1, name: s }], op: '>=', rhs: u(n.st.need) });
    }
    if (outs.length === 0 && ins.length === 0) return;
    const lo = outs.length > 0 ? -n.st.spare : 0n;
    const hi = ins.length > 0 ? n.recv : 0n;
    const pts = breakpoints(n, lo, hi, halvings, scale);
    const f = pts.map((p) => yieldAt(n, Number(p)));
    const segs: { col: string; a: bigint; b: bigint }[] = [];
    const link: LpTerm[] = [];
    const slopes: number[] = [];
    for (let k = 0; k + 1 < pts.length; k++) {
      const a = pts[k]!;
      const b = pts[k + 1]!;
      const col = `z${i}_${k}`;
      const slope = (f[k + 1]! - f[k]!) / Number(b - a);
      slopes.push(slope);
      columns.push({ name: col, lower: 0, upper: u(b - a) });
      objective.push({ coef: -hf * slope, name: col });
      link.push({ coef: 1, name: col });
      segs.push({ col, a, b });
    }
    seg.set(n.key, segs);
    // Σ δ − in + out = −lo  (Δ = lo + Σ δ).
    rows.push({ name: `y${i}`, terms: [...link, ...ins.map((t) => ({ coef: -1, name: t.name })), ...outs], op: '=', rhs: u(-lo) });
    // Where the yield is not concave (some later segment pays more than an earlier one) the segments must fill in
    // order: the incremental formulation's binaries on every adjacent pair (a concave curve needs none).
    const concave = slopes.every((sl, k) => k === 0 || sl <= slopes[k - 1]! + 1e-15);
    const ords: string[] = [];
    for (let k = 0; k + 1 < segs.length; k++) {
      if (concave) {
        ords.push('');
        continue;
      }
      const w = `w${i}_${k}`;
      orderBinaries++;
      columns.push({ name: w, lower: 0, upper: 1, binary: true });
      rows.push({ name: `wa${i}_${k}`, terms: [{ coef: 1, name: segs[k]!.col }, { coef: -u(segs[k]!.b - segs[k]!.a), name: w }], op: '>=', rhs: 0 });
      rows.push({ name: `wb${i}_${k}`, terms: [{ coef: 1, name: segs[k + 1]!.col }, { coef: -u(segs[k + 1]!.b - segs[k + 1]!.a), name: w }], op: '<=', rhs: 0 });
      ords.push(w);
    }
    order.set(n.key, ords);
  });
  if (!several) {
    let pi = 0;
    for (const terms of pairY.values()) if (terms.length > 1) rows.push({ name: `p${pi++}`, terms, op: '<=', rhs: 1 });
  }
  // The constant f(lo) terms are left out: the objective is relative to the status quo up to a constant.
  return { columns, rows, objective, objectiveConstant: 0, edges, scale, scaleExp, seg, dir, order, short, deep, givers, receivers, orderBinaries };
}

/** A plan as a MIP start (edges' totals and counts, segments filled in order, binaries). */
function startOf(nodes: readonly YNode[], m: YModel, moves: readonly Move[]): Map<string, number> {
  const s = edgeStartValues(m.edges, m.scale, moves);
  const u = (a: bigint): number => Number(a) / Number(m.scale);
  const d = deltas(moves);
  for (const n of nodes) {
    const dn = d.get(n.key) ?? 0n;
    const dc = m.dir.get(n.key);
    if (dc) s.set(dc, dn < 0n ? 1 : 0);
    const sc = m.short.get(n.key);
    if (sc) s.set(sc, u(pos(n.st.need - pos(dn))));
    const ec = m.deep.get(n.key);
    if (ec) s.set(ec, u(pos(-dn - n.yieldSpare)));
    const segs = m.seg.get(n.key) ?? [];
    const ords = m.order.get(n.key) ?? [];
    segs.forEach((g, k) => {
      const fill = dn <= g.a ? 0n : dn >= g.b ? g.b - g.a : dn - g.a;
      s.set(g.col, u(fill));
      const w = ords[k];
      if (w) s.set(w, dn >= g.b ? 1 : 0);
    });
  }
  return s;
}

/** Solver values → legal messages (rounded, clamped, trimmed to spare and receivable, one direction per chain). */
function movesOf(ctx: Ctx, nodes: readonly YNode[], m: YModel, values: ReadonlyMap<string, number>): Move[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const toBase = (v: number): bigint => (v > 0 ? BigInt(Math.round(v * Number(m.scale))) : 0n);
  let cands: EdgeAmount[] = [];
  for (const ed of m.edges) {
    let amount = minB(toBase(values.get(ed.x) ?? 0), ed.M);
    if (amount <= 0n) continue;
    let k = Math.min(ed.K, Math.max(1, Math.round(values.get(ed.y) ?? 0)));
    amount = minB(amount, ed.cap * BigInt(k));
    if (ed.L > 0n && amount < ed.L * BigInt(k)) k = Number(amount / ed.L);
    if (k >= 1) cands.push({ ed, amount, k });
  }
  // One direction per chain: a chain the solver has both give and receive (noise) keeps the larger side.
  const net = new Map<string, { out: bigint; in: bigint }>();
  for (const c of cands) {
    const f = net.get(c.ed.e.from) ?? { out: 0n, in: 0n };
    f.out += c.amount;
    net.set(c.ed.e.from, f);
    const t = net.get(c.ed.e.to) ?? { out: 0n, in: 0n };
    t.in += c.amount;
    net.set(c.ed.e.to, t);
  }
  cands = cands.filter((c) => {
    const f = net.get(c.ed.e.from)!;
    const t = net.get(c.ed.e.to)!;
    return !(f.in > 0n && f.in >= f.out) && !(t.out > 0n && t.out > t.in);
  });
  trimToLimits(cands, (c) => c.ed.e.from, (k) => byKey.get(k)!.st.spare, (c) => c.ed.x);
  trimToLimits(cands, (c) => c.ed.e.to, (k) => byKey.get(k)!.recv, (c) => c.ed.x);
  // Polish a chain in need: the solver's amounts are exact only to its tolerances (a few base units once scaled
  // back); top its edges up to its need within each edge's bound and the donor's spare left.
  const { sent: sentBy, got: gotBy } = flowsOf(cands);
  for (const c of [...cands].sort((p, q) => cmpKey(p.ed.x, q.ed.x))) {
    const to = byKey.get(c.ed.e.to)!;
    const from = byKey.get(c.ed.e.from)!;
    if (c.amount === 0n || to.st.need <= gotBy.get(to.key)!) continue;
    const add = pos(minB(to.st.need - gotBy.get(to.key)!, minB(c.ed.M, c.ed.cap * BigInt(c.k)) - c.amount, from.st.spare - sentBy.get(from.key)!, to.recv - gotBy.get(to.key)!));
    c.amount += add;
    gotBy.set(to.key, gotBy.get(to.key)! + add);
    sentBy.set(from.key, sentBy.get(from.key)! + add);
  }
  return splitEdgeAmounts(cands);
}

const apyAfter = (n: YNode, delta: bigint): bigint => (n.fixedRateRay !== undefined ? supplyApyBps(n.fixedRateRay) : supplyApyBpsAfter(n.model, n.S, n.D, delta));

/**
 * The rate-impact guard (module doc): a pair whose move leaves the destination's APY below the source's is trimmed to
 * the most it can carry without that, never below what the destination still needs from it.
 */
function guard(ctx: Ctx, nodes: readonly YNode[], moves: Move[]): { moves: Move[]; trims: string[] } {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const trims: string[] = [];
  let out = [...moves];
  const pairs = [...new Set(out.map((m) => pairKey(m.from, m.to)))].sort(cmpKey);
  for (const pk of pairs) {
    const d = deltas(out);
    const on = out.filter((m) => pairKey(m.from, m.to) === pk);
    const src = byKey.get(on[0]!.from)!;
    const dst = byKey.get(on[0]!.to)!;
    const dd = d.get(dst.key) ?? 0n;
    const ds = d.get(src.key) ?? 0n;
    if (apyAfter(dst, dd) >= apyAfter(src, ds)) continue;
    const total = on.reduce((s, m) => s + m.amount, 0n);
    const needFromPair = minB(total, pos(dst.st.need - (dd - total)));
    const ok = (t: bigint): boolean => apyAfter(dst, dd - total + t) >= apyAfter(src, ds + total - t);
    // The largest amount in [needFromPair, total] that keeps the order (the need wins when even it crosses).
    let lo = needFromPair;
    let hi = total;
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n;
      if (ok(mid)) lo = mid;
      else hi = mid;
    }
    // Take `total − lo` off the pair's last messages first: a whole message goes when what is left still covers the
    // need; otherwise it keeps at least its minimum (so the pair may end a little above `lo`).
    let cut = total - lo;
    let left = total;
    const kept: Move[] = [];
    for (const m of [...on].reverse()) {
      if (cut >= m.amount && left - m.amount >= needFromPair) {
        cut -= m.amount;
        left -= m.amount;
        continue;
      }
      const e = ctx.edges.get(edgeKey(m.from, m.to, m.bridge))!;
      const L = maxB(lowerOf(e, ctx.nodes.get(m.from)!, ctx.nodes.get(m.to)!), 1n);
      const r = minB(cut, pos(m.amount - L));
      cut -= r;
      left -= r;
      kept.unshift({ ...m, amount: m.amount - r });
    }
    if (left === total) continue;
    trims.push(`${src.key}→${dst.key}: ${total} → ${left} (${dst.key}'s supply APY would fall below ${src.key}'s)`);
    out = [...out.filter((m) => pairKey(m.from, m.to) !== pk), ...kept];
  }
  return { moves: out, trims };
}

function fmtUnits(v: bigint, decimals: number): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const frac = decimals > 0 ? `.${(a % base).toString().padStart(decimals, '0').slice(0, Math.min(decimals, 2))}` : '';
  return `${neg ? '−' : '+'}${a / base}${frac}`;
}

/**
 * Plans one asset for the treasury's net yield over `opts.horizonSec`, within every liquidity rule (module doc).
 *
 * @param input chains, policies, in-flight transfers (with `withdrawn` where known: a donor's spare is net of what it
 *   still has to withdraw) and the quoted edges, as planOptimal's.
 * @returns transfers (with bridge, fee, gas, the gain each one adds, and a reason naming what it earns: supply APYs
 *   before → after on both ends, fee), chains still out of band, totals, and a {@link YieldCertificate}. Never worse
 *   than the greedy baseline under the exact yield objective (the baseline is returned on a tie).
 * @throws {Error} on planOptimal's input errors, `timeLimitMs` or `horizonSec` ≤ 0, `breakpointsPerSide` outside
 *   1..12, a malformed rate model, or a model HiGHS refuses.
 * @example
 *   const plan = await planYield({ chains, policies, inFlight, edges }, { timeLimitMs: 1000, horizonSec: 30 * 86400 });
 *   plan.certificate.gainAtHorizon; plan.transfers[0]?.reason;
 */
export async function planYield(input: OptimalInput, opts: YieldOptions): Promise<YieldPlan> {
  const t0 = performance.now();
  if (!(opts.timeLimitMs > 0)) throw new Error(`planYield: timeLimitMs must be > 0 (got ${opts.timeLimitMs})`);
  if (!(opts.horizonSec > 0)) throw new Error(`planYield: horizonSec must be > 0 (got ${opts.horizonSec})`);
  const halvings = opts.breakpointsPerSide ?? HALVINGS;
  if (!Number.isInteger(halvings) || halvings < 1 || halvings > 12) throw new Error(`planYield: breakpointsPerSide must be an integer in 1..12 (got ${halvings})`);
  const headroom = opts.yieldHeadroomWad ?? DEFAULT_YIELD_HEADROOM_WAD;
  if (headroom < 0n || headroom > WAD) throw new Error(`planYield: yieldHeadroomWad must be in [0, WAD] (got ${headroom})`);
  const ctx = makeCtx(input, routeRules(opts));
  const greedy = greedyMoves(ctx); // validates the input (planGreedy's checks)
  const nodes = nodesOf(ctx, opts);
  const decimals = opts.assetDecimals ?? nodes.find((n) => n.chain.market)?.chain.market?.configuration.decimals ?? 6;
  const gCost = yieldCost(ctx, nodes, greedy.moves, opts.horizonSec);
  const gBroke = verifyYieldPlan(ctx, nodes, greedy.moves);
  let chosen = gBroke.length === 0 ? greedy.moves : [];
  let cost = gBroke.length === 0 ? gCost : yieldCost(ctx, nodes, [], opts.horizonSec);
  let by: 'solver' | 'greedy' = 'greedy';
  const m = buildYieldModel(ctx, nodes, opts);
  let status = 'Trivial';
  let bound = cost.objective;
  let linObjective = cost.objective;
  let search = { nodes: 0, lpIterations: 0, solveMs: 0, startAccepted: false };
  let solverOptimal = true;
  let trims: string[] = [];
  if (m.edges.length > 0) {
    const budget = Math.max(1, 0.95 * opts.timeLimitMs - 1.25 * (performance.now() - t0));
    const r = await solveMilp({ objective: m.objective, objectiveConstant: 0, columns: m.columns, rows: m.rows }, startOf(nodes, m, chosen), { timeLimitMs: budget, mipRelGap: opts.mipRelGap ?? 1e-6 });
    status = r.status;
    solverOptimal = r.status === 'Optimal';
    search = { nodes: r.nodes, lpIterations: r.lpIterations, solveMs: r.solveMs, startAccepted: r.startAccepted };
    // The model's objective omits Σ f_i(0) − f_i(lo_i) terms: add them back to compare with the exact score.
    const offset = nodes.reduce((s, n) => {
      const segs = m.seg.get(n.key);
      if (!segs || segs.length === 0) return s;
      const lo = segs[0]!.a;
      return s - ((yieldAt(n, Number(lo)) - yieldAt(n, 0)) * opts.horizonSec) / YEAR_SEC;
    }, 0);
    const sc = Number(m.scale);
    if (r.objective !== undefined) linObjective = r.objective * sc + offset;
    bound = Number.isFinite(r.bound) ? r.bound * sc + offset : -Infinity;
    if (r.values.size > 0) {
      const g = guard(ctx, nodes, movesOf(ctx, nodes, m, r.values));
      const c = yieldCost(ctx, nodes, g.moves, opts.horizonSec);
      if (c.objective < cost.objective - 1e-9 && verifyYieldPlan(ctx, nodes, g.moves).length === 0) {
        chosen = g.moves;
        cost = c;
        by = 'solver';
        trims = g.trims;
      }
    }
  }
  const d = deltas(chosen);
  const markets: MarketOutcome[] = nodes.map((n) => {
    const dn = d.get(n.key) ?? 0n;
    return {
      chainKey: n.key,
      delta: dn,
      utilizationBeforeWad: n.S === 0n ? 0n : (n.D * WAD) / n.S,
      utilizationAfterWad: n.S + dn <= 0n ? 0n : (n.D * WAD) / (n.S + dn),
      supplyApyBeforeBps: apyAfter(n, 0n),
      supplyApyAfterBps: apyAfter(n, dn),
      yieldPerYearBefore: BigInt(Math.round(yieldAt(n, 0))),
      yieldPerYearAfter: BigInt(Math.round(yieldAt(n, Number(dn)))),
      ...(n.forecastWad !== undefined ? { forecastWad: n.forecastWad } : {}),
      inNeedByForecast: n.inNeedByForecast,
    };
  });
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const marketOf = new Map(markets.map((x) => [x.chainKey, x]));
  const sym = opts.assetSymbol ?? 'units';
  const years = opts.horizonSec / YEAR_SEC;
  const gainH = BigInt(Math.round(cost.gain));
  const summary =
    `yield plan (${by}, ${status}): ${fmtUnits(gainH, decimals)} ${sym} over ${opts.horizonSec}s (${fmtUnits(BigInt(Math.round(cost.gain / years)), decimals)} ${sym}/yr) ` +
    `for fees ${cost.fees} and gas ${cost.gas} base units; unmet need ${cost.shortfall}; greedy's score ${gCost.objective.toFixed(0)} vs ${cost.objective.toFixed(0)}`;
  const transfers: YieldTransfer[] = chosen.map((mv) => {
    const e = ctx.edges.get(edgeKey(mv.from, mv.to, mv.bridge))!;
    const src = byKey.get(mv.from)!;
    const dst = byKey.get(mv.to)!;
    const fee = feeOf(e, mv.amount);
    const without = chosen.filter((x) => x !== mv);
    const marginal = BigInt(Math.round(cost.gain - yieldCost(ctx, nodes, without, opts.horizonSec).gain));
    const ms = marketOf.get(mv.from)!;
    const mt = marketOf.get(mv.to)!;
    const needWhy =
      dst.st.need > 0n
        ? `${mv.to} ${dst.inNeedByForecast ? `forecast ${formatWadPct(dst.forecastWad!)} within the horizon` : `utilization ${utilPct(dst.chain.borrowed, dst.chain.supplied)}`} > high ${formatWadPct(dst.policy.band.highWad)}, needs ${dst.st.need}; `
        : '';
    const reason =
      `${needWhy}moves ${mv.amount} ${mv.from} → ${mv.to} over ${mv.bridge}: ${fmtUnits(marginal, decimals)} ${sym} at the horizon (${opts.horizonSec}s; ` +
      `${fmtUnits(BigInt(Math.round(Number(marginal) / years)), decimals)} ${sym}/yr): supply APY ${formatBpsPct(mt.supplyApyBeforeBps)} → ${formatBpsPct(mt.supplyApyAfterBps)} on ${mv.to}, ` +
      `${formatBpsPct(ms.supplyApyBeforeBps)} → ${formatBpsPct(ms.supplyApyAfterBps)} on ${mv.from}, fee ${fee} (fixed ${e.fixedFee} + ${e.feeBps} bps)` +
      (src.gasPerMessage > 0n ? `, gas ${src.gasPerMessage}` : '') +
      `; ${mv.from} can spare ${src.st.spare} (${src.st.spareBound}); chosen by ${by === 'solver' ? 'the yield MILP' : 'the greedy baseline (the MILP found nothing better)'}; ${summary}`;
    return { from: mv.from, to: mv.to, amount: mv.amount, bridge: mv.bridge, fee, latencySec: e.latencySec, reason, gas: src.gasPerMessage, gainAtHorizon: marginal };
  });
  const objective = cost.objective;
  const b = Math.min(bound, linObjective);
  return {
    transfers,
    unresolved: unresolvedYield(ctx, nodes, chosen),
    totals: { fees: cost.fees, gas: cost.gas, volume: cost.volume, shortfall: cost.shortfall, gainAtHorizon: gainH },
    certificate: {
      solver: 'highs',
      objectiveKind: 'yield',
      status,
      horizonSec: opts.horizonSec,
      objective,
      greedyObjective: gCost.objective,
      bound: b,
      gapPct: Number.isFinite(b) ? (Math.abs(linObjective - b) / Math.max(1, Math.abs(linObjective))) * 100 : 100,
      linearizationError: by === 'solver' ? Math.abs(objective - linObjective) : 0,
      optimal: solverOptimal,
      chosen: by,
      gainAtHorizon: gainH,
      gainPerYear: BigInt(Math.round(cost.gain / years)),
      fees: cost.fees,
      gas: cost.gas,
      shortfall: cost.shortfall,
      guardTrims: trims,
      markets,
      perTransferReasons: transfers.map((t) => t.reason),
      summary,
      unmetNeedWeight: Number(UNMET_NEED_WEIGHT),
      model: { givers: m.givers, receivers: m.receivers, edges: m.edges.length, segments: [...m.seg.values()].reduce((s, x) => s + x.length, 0), orderBinaries: m.orderBinaries, rows: m.rows.length, scaleExp: m.scaleExp },
      search,
      timeMs: performance.now() - t0,
    },
  };
}

/** Chains above their high mark (or forecast above it) after the plan, with why; chains left out of planning. */
function unresolvedYield(ctx: Ctx, nodes: readonly YNode[], moves: readonly Move[]): Plan['unresolved'] {
  const out: Plan['unresolved'] = [];
  const planned = new Set(nodes.map((n) => n.key));
  for (const c of ctx.input.chains) {
    if (planned.has(c.chainKey)) continue;
    const p = ctx.input.policies.find((x) => x.chainKey === c.chainKey);
    out.push({ chainKey: c.chainKey, reason: p ? `${c.chainKey} left out of planning: oracle refused (${c.oracleCheck.reason ?? 'no reason given'})` : `${c.chainKey} left out of planning: no policy configured for it` });
  }
  const d = deltas(moves);
  for (const n of nodes) {
    const got = pos(d.get(n.key) ?? 0n);
    const short = pos(n.st.need - got);
    if (n.st.need > 0n && short > 0n) {
      out.push({
        chainKey: n.key,
        reason: `${n.key} ${n.inNeedByForecast ? `forecast ${formatWadPct(n.forecastWad!)}` : `utilization ${utilPct(n.chain.borrowed, n.chain.supplied)}`} > high ${formatWadPct(n.policy.band.highWad)}: still short ${short} of target ${formatWadPct(n.st.targetWad)}${n.st.needBound ? ` (as much as ${n.st.needBound} lets it receive)` : ''}; no further legal transfer (donors' spare, caps, minimums, routes in flight or without a quote)`,
      });
    } else if (n.st.need === 0n && n.st.inbound > 0n && n.chain.borrowed * WAD > n.policy.band.highWad * n.chain.supplied) {
      out.push({ chainKey: n.key, reason: `${n.key} utilization ${utilPct(n.chain.borrowed, n.chain.supplied)} > high ${formatWadPct(n.policy.band.highWad)}: in-flight transfers bringing ${n.st.inbound} cover its need; waiting for delivery` });
    }
  }
  return out.sort((a, b) => cmpKey(a.chainKey, b.chainKey));
}
