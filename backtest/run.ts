/**
 * The backtest engine: a discrete-time simulation of the keeper over the fixtures' history
 * (backtest/history.ts), one run per (asset, planner), each planner with its own vault state.
 *
 * Every `stepSec` (default 3600 s, the ETH/USD heartbeat), at step time `t`:
 * 1. transfers whose delivery time is ≤ t arrive (the destination's supply rises);
 * 2. borrow demand per chain = utilization(t) × nominal size, utilization linearly interpolated between the
 *    Aave daily values; borrowed = min(demand, supplied) (a vault cannot lend what it does not hold; the devnet's
 *    market driver does the same);
 * 3. each chain's oracle reads the asset's feed round current at feed time `origin + t` and is checked with the
 *    keeper's own oracle guard `guardOracle` (staleness, zero/incomplete round, carried-over answer, deviation from the
 *    last accepted answer, re-anchored after `reanchorRounds` agreeing rounds); a refused chain is left out of planning,
 *    as in the keeper (`oracleCheck.ok = false`), and its step counts as oracle lock-out;
 * 4. quotes: the bridge model (backtest/model.ts) with its fixed fees at each chain's base fee of the step (the asset's
 *    gas series: a `--gas-history` CSV or the SYNTHETIC one, backtest/model.ts `GasReplay`), converted at the feed's
 *    last accepted answer (no accepted answer yet: no quotes, nothing moves);
 * 5. the planner runs on the same kind of input as in the keeper: chain states (supplied, borrowed, idle,
 *    the vault's fixed outflow window as CollateralVault keeps it), policies (bands, buffers, caps), the
 *    transfers in flight, the quotes. `greedy` = planGreedyOnEdges (the baseline on its cheapest bridge),
 *    `optimal` = planOptimal (HiGHS MILP, `timeLimitMs` per step);
 * 5b. gas timing and batching (planner/timing.ts; {@link BacktestOptions.gasTiming}, default on for the yield planner
 *    only): a transfer whose destination is not in need (planner/timing.ts `chainsInNeed`: routing's need now, or the
 *    yield planner's `inNeedByForecast`) waits while its source's base fee is above the percentile of the window's
 *    samples, or while its fixed fee is more than `maxFixedFeeBps` of its amount. A held-back transfer is not carried:
 *    the next step's planner sees the same vaults and proposes again. Held-back moves are tallied per route
 *    ({@link TimingFigures});
 * 6. each transfer sent leaves its source at once (supply and outflow window), is in flight for the edge's latency,
 *    and its fee (fixed + proportional, as quoted) is paid by the keeper (not taken out of the amount);
 * 7. time out of band is integrated exactly over the step, with arrivals inside it at their own times;
 * 8. yield: every chain's supplied amount earns that day's supply rate of the history (RAY APR, held for the
 *    day; the rate impact of our own supply is ignored: the history's rates are taken as given) with Aave's
 *    linear accrual, `supplied · rate · dt / (RAY · 365 days)`, integrated exactly over the same pieces (a
 *    transfer in flight earns nothing on either side). The exact numerator is kept per chain, divided once.
 *
 * The planners come from the registry (backtest/planners.ts): `static` never moves, `greedy`, `optimal`, `yield`.
 *
 * Money is bigint base units throughout; times are seconds. Supply is conserved: Σ supplied + Σ in flight is
 * the initial total at every step (checked; a difference throws).
 */
import { DEFAULT_REANCHOR_ROUNDS, guardOracle, type OracleGuardState } from '../planner/oracle.js';
import type { OptimalInput, RoutedTransfer } from '../planner/optimal.js';
import { PLANNERS, YIELD_HORIZON_SEC } from './planners.js';
import type { PlannedStep, PlannerName } from './planners.js';
import { RAY } from './csv.js';
import { WAD } from '../planner/types.js';
import type { ChainPolicy, ChainState, InFlight, OracleCheck, OracleRound } from '../planner/types.js';
import type { PriceRound } from '../devnet/marketData.js';
import { baseFeeAt, constantGasPriceWei, defaultBridges, quoteEdges, samplesBetween, syntheticGasHistory, weiToAssetUnits } from './model.js';
import type { BridgeModel, GasReplay } from './model.js';
import { chainsInNeed, DEFAULT_TIMING_POLICY, percentileWei, timePlan } from '../planner/timing.js';
import type { ChainBaseFees, DeferredTransfer, TimingPolicy } from '../planner/timing.js';
import { roundAt } from './history.js';
import { addQuotes, emptyDailyFees, solveBound } from './bound.js';
import type { BoundOptions, BoundResult } from './bound.js';
import type { BacktestAsset } from './history.js';

export type { PlannerName } from './planners.js';

/** Seconds of a year in Aave's linear accrual (365 days). */
export const SECONDS_PER_YEAR = 365n * 86_400n;

/** One planning step as the engine saw it (for {@link BacktestOptions.onPlan}). */
export interface PlanEvent {
  asset: string;
  planner: PlannerName;
  step: number;
  /** Step time, seconds from the start. */
  tSec: number;
  /** The planner's input (chain states with their oracle verdicts, policies, in flight, quotes). */
  input: OptimalInput;
  /** The feed round each chain read at this step. */
  round: PriceRound;
  /** The transfers sent at this step (the plan's, less those the gas timing held back). */
  transfers: RoutedTransfer[];
  /** The plan's transfers held back by the gas timing or batching (planner/timing.ts), with why; absent when timing is off. */
  deferred?: DeferredTransfer<RoutedTransfer>[];
  /** Under gas timing: the chains in need at this step (planner/timing.ts `chainsInNeed`): a transfer to one is urgent. */
  inNeed?: string[];
  /** The plan's totals (fees, volume, shortfall), base units, as planned (held-back transfers included). */
  totals: { fees: bigint; volume: bigint; shortfall: bigint };
}

/** Options of the gas timing and batching (planner/timing.ts) in the engine. */
export interface GasTimingOptions {
  /** The planners whose plans are timed (default `['yield']`: the band planners only move to a need, always urgent). */
  planners?: readonly PlannerName[];
  /** The rules (default planner/timing.ts `DEFAULT_TIMING_POLICY`: p50 of the last 24 h, 10 bps). */
  policy?: TimingPolicy;
}

/** Options of {@link runBacktest}. */
export interface BacktestOptions {
  planners: readonly PlannerName[];
  /** Step length, seconds (default 3600). */
  stepSec?: number;
  /** MILP budget of one optimal plan, ms (default 300). */
  timeLimitMs?: number;
  bridges?: readonly BridgeModel[];
  /** Called with a progress line about every 10% of a run or every 15 s. */
  onProgress?: (line: string) => void;
  /** Called after every plan (tests use it to check invariants on the exact input). */
  onPlan?: (e: PlanEvent) => void;
  /** Solve the perfect-foresight bound per asset (backtest/bound.ts); default true. `false`: no bound. */
  bound?: boolean | BoundOptions;
  /** Score the utilization forecast (planner/forecast.ts `forecastError`) `forecastHorizonSec` ahead (default 86 400); default true. */
  forecast?: boolean;
  forecastHorizonSec?: number;
  /**
   * The oracle guard's `reanchorRounds` for every feed (planner/oracle.ts `guardOracle`); absent = the feed's
   * limits' (the keeper default, 3). 0 = never re-anchor: the guard before issue 14, for before/after figures.
   */
  oracleReanchorRounds?: number;
  /** Overrides every feed's `maxDeviationBps` (what-if runs of a tighter or looser guard); absent = the feed's limits. */
  oracleMaxDeviationBps?: number;
  /**
   * Gas-aware timing and batching of non-urgent transfers (module doc, 5b). Absent: on for the yield planner with the
   * default policy; `false`: off for every planner (the plans are sent as planned, for before/after figures).
   */
  gasTiming?: false | GasTimingOptions;
}

/**
 * What the gas timing did in one run (planner/timing.ts). Amounts base units.
 *
 * An EPISODE is one route's (from → to) run of held-back proposals: it opens at the first step a transfer on the route
 * is held back and closes at the first later step that either sends a transfer on the route (`sentAfterWait`) or
 * proposes none on it (`dropped`: the planner no longer wants the move, e.g. the rates or the spare changed).
 *
 * `feesSaved` = Σ over the messages that closed an episode of [the fee that message would have paid at the quote of the
 * episode's first held-back proposal (that edge's fixed fee then + its bps on the amount sent) − the fee it paid]: the
 * price of waiting, for the same amount. It is negative when the wait ended at a dearer quote (a batched move sent at a
 * higher base fee), and it does not count the messages batching avoided (the small moves a run without timing sends
 * several times): compare the runs with and without `gasTiming` for the whole effect.
 */
export interface TimingFigures {
  policy: TimingPolicy;
  /** Proposals held back (a move proposed and held back at N steps counts N), by rule (`both`: gas and batch). */
  deferrals: number;
  byRule: { gas: number; batch: number; both: number };
  episodes: number;
  sentAfterWait: number;
  dropped: number;
  openAtEnd: number;
  /** See the interface doc. */
  feesSaved: bigint;
  /** Σ the first held-back proposal's quoted fee of the dropped episodes (fees not paid; the move's yield not earned either). */
  droppedFirstFees: bigint;
  /** Wait of the episodes sent after waiting, seconds: mean and max. */
  waitSec: { mean: number; max: number };
  /** The first held-back proposals, one line each (step, route, reason); at most 10. */
  examples: string[];
}

/** One transfer as executed. */
export interface TransferRecord {
  step: number;
  /** Sent at (seconds from the start). */
  sentSec: number;
  arriveSec: number;
  from: string;
  to: string;
  bridge: string;
  amount: bigint;
  fee: bigint;
  /** The fixed part of `fee`: the quoted per-message fee (keeper-paid native gas + messaging); the rest is the bridge's bps fee. */
  fixedFee: bigint;
  /** Under gas timing: whether its destination was in need (sent whatever the gas), and how long its route had waited (seconds), when it closed an episode. */
  urgent?: boolean;
  waitedSec?: number;
}

/** Per-chain figures of one run. */
export interface ChainFigures {
  chain: string;
  band: { lowWad: bigint; highWad: bigint };
  /** Seconds with utilization outside [low, high]. */
  outOfBandSec: number;
  aboveBandSec: number;
  belowBandSec: number;
  /** Highest utilization seen (WAD). */
  maxUtilizationWad: bigint;
  /** Steps at which the chain's oracle round was refused (chain left out of planning), by reason kind. */
  excludedSteps: number;
  exclusionKinds: Record<string, number>;
  /** The first refusal: step and the keeper's reason. */
  firstExclusion?: { step: number; tSec: number; roundId: bigint; reason: string };
  /** Oracle lock-out: seconds of the steps at which the chain's oracle round was refused (left out of planning). */
  oracleLockoutSec: number;
  /** Times the oracle guard re-anchored the chain's deviation reference on agreeing rounds. */
  oracleReanchors: number;
  transfersOut: number;
  volumeOut: bigint;
  /** Fees of the transfers out of this chain. */
  feesOut: bigint;
  initialSupplied: bigint;
  finalSupplied: bigint;
  /** Σ supplied · rate (RAY) · seconds over the run: exact; yield (base units) = ⌊this / (RAY · {@link SECONDS_PER_YEAR})⌋. */
  yieldNumerator: bigint;
  /** Yield earned on this chain (base units, rounded down). */
  yield: bigint;
}

/** Result of one (asset, planner) run. */
export interface PlannerRun {
  planner: PlannerName;
  steps: number;
  durationSec: number;
  totals: {
    fees: bigint;
    /** Of `fees`: the fixed per-message part (native gas + messaging) and the proportional (bps) part. */
    fixedFees: bigint;
    proportionalFees: bigint;
    /** Yield earned by the supplied amounts over the run (base units, ⌊Σ per-chain numerators / (RAY · year)⌋). */
    yield: bigint;
    volume: bigint;
    transfers: number;
    byBridge: Record<string, { transfers: number; volume: bigint; fees: bigint }>;
    /** Chain-seconds out of band (Σ over chains). */
    outOfBandSec: number;
    aboveBandSec: number;
    belowBandSec: number;
    maxUtilizationWad: bigint;
    /** Steps with at least one chain left out for its oracle. */
    stepsWithExclusion: number;
    /** Oracle lock-out: seconds of the steps with at least one chain left out for its oracle (wall clock, not Σ chains). */
    oracleLockoutSec: number;
    /** Of `oracleLockoutSec`: the steps where a chain was refused for deviation (what the re-anchor rule recovers). */
    oracleDeviationLockoutSec: number;
    /** Re-anchors of the deviation reference, Σ over chains. */
    oracleReanchors: number;
    /** Σ supplied + Σ in flight at the start and at the end (equal: conservation). */
    suppliedStart: bigint;
    suppliedEnd: bigint;
    inFlightEnd: bigint;
  };
  perChain: ChainFigures[];
  transfers: TransferRecord[];
  /** Plan wall time per step, ms. */
  planMs: { p50: number; p95: number; max: number; total: number };
  /** Planners with a certificate (optimal, yield): steps where the returned plan came from the solver / heuristic / greedy, and steps not proved optimal. */
  certificates?: { solver: number; heuristic: number; greedy: number; notProvedOptimal: number };
  /** What the gas timing held back and saved, when it applied to this planner. */
  timing?: TimingFigures;
  /**
   * Runs of consecutive steps with a chain left out for its oracle, with the reason kinds and the feed's
   * time span (ISO): where in the price history the refusals happened. At most 100 spans are kept.
   */
  exclusionSpans: { fromStep: number; toStep: number; chains: number; kinds: string[]; feedFrom: string; feedTo: string }[];
  /** Utilization per chain at each step start (fraction, for the chart). */
  series: Record<string, Float32Array>;
  wallMs: number;
}

/** Result of one asset: its runs side by side. */
export interface AssetResult {
  symbol: string;
  label: string;
  decimals: number;
  source: 'fixture' | 'synthetic';
  /** Where the history, prices and base fees were read from (file paths or `SYNTHETIC …`). */
  sources: { history: string; prices: string; gas: string };
  /** The base-fee series the run used: source, notes, and per chain the mean, p10 and p90 over the run (wei per gas, ETH-equivalent). */
  gas: { source: string; synthetic: boolean; notes: string[]; perChain: Record<string, { meanWei: bigint; p10Wei: bigint; p90Wei: bigint }> };
  networks: string[];
  days: number;
  firstDay: string;
  lastDay: string;
  stepSec: number;
  /** The feed and the oracle limits the run used (`--oracle-*` overrides applied; `reanchorRounds` 0 = never re-anchor). */
  feed: { name: string; file: string; originIso: string; limits: { maxStalenessSec: number; maxDeviationBps: number; reanchorRounds: number } };
  notes: string[];
  runs: Partial<Record<PlannerName, PlannerRun>>;
  /** Planners asked for but left out, with why (e.g. the yield planner's module absent). */
  skippedPlanners: Partial<Record<PlannerName, string>>;
  /** The perfect-foresight bound (backtest/bound.ts), or why it is absent. */
  bound?: BoundResult;
  boundError?: string;
  /**
   * The utilization forecast's error (planner/forecast.ts `forecastError`, its default α β) on each chain's market
   * utilization sampled every step, `horizonSec` ahead: mean absolute and root-mean-square error in percentage points.
   */
  forecast?: { horizonSec: number; maePct: number; rmsePct: number; n: number; perChain: Record<string, { maePct: number; rmsePct: number }> } | { unavailable: string };
}

const DAY_SEC = 86_400;

/** Utilization of `t` seconds into the history: linear between the Aave days, held after the last (WAD). */
export function utilizationAt(path: readonly bigint[], tSec: number): bigint {
  const d = Math.floor(tSec / DAY_SEC);
  const a = path[Math.min(d, path.length - 1)]!;
  const b = path[Math.min(d + 1, path.length - 1)]!;
  const frac = BigInt(tSec - d * DAY_SEC);
  return a + ((b - a) * frac) / BigInt(DAY_SEC);
}

/** A short kind of a keeper oracle reason (`invalid answer`, `stale`, `deviation`, …) for tallies. */
export function exclusionKind(reason: string): string {
  return reason
    .split('; ')
    .map((r) => r.split(':')[0]!.trim())
    .join(' + ');
}

const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

/** The asset's base-fee series: its own ({@link BacktestAsset.gas}), else the SYNTHETIC one over its days. */
function gasOf(asset: BacktestAsset): GasReplay {
  return asset.gas ?? syntheticGasHistory(asset.networks, asset.days.length * DAY_SEC);
}

/** A chain's base fee at `tSec` (wei per gas): its series' value, else the model's constant. */
function gasNow(gas: GasReplay, chain: string, tSec: number): bigint {
  const xs = gas.perChain[chain];
  return xs && xs.length > 0 ? baseFeeAt(xs, tSec) : constantGasPriceWei(chain);
}

/** A held-back route's episode (see {@link TimingFigures}). */
interface Episode {
  firstSec: number;
  /** The quote of the first held-back transfer. */
  edge: { fixedFee: bigint; feeBps: number };
  firstFee: bigint;
}

/** A quote's fee on `amount`: fixed + ⌈centi-bps · amount / 10⁶⌉ (planner/routing.ts `feeOf`). */
const feeAt = (e: { fixedFee: bigint; feeBps: number }, amount: bigint): bigint => e.fixedFee + (BigInt(Math.round(e.feeBps * 100)) * amount + 999_999n) / 1_000_000n;

interface Flight {
  id: string;
  from: string;
  to: string;
  amount: bigint;
  arriveSec: number;
}

/**
 * Runs one planner over one asset's history.
 * @throws Error when supply is not conserved (an engine bug) or a planner throws (its message, with the step).
 */
export async function runPlanner(asset: BacktestAsset, planner: PlannerName, opts: Omit<BacktestOptions, 'planners'> = {}): Promise<PlannerRun> {
  // Load the planner (HiGHS compiled outside the timed plans: a one-time cost of a few seconds per process).
  const entry = PLANNERS[planner];
  const whyNot = await entry.load();
  if (whyNot !== undefined) throw new Error(`backtest ${asset.symbol}/${planner}: planner unavailable: ${whyNot}`);
  const wall0 = performance.now();
  const stepSec = opts.stepSec ?? 3600;
  const timeLimitMs = opts.timeLimitMs ?? 300;
  const bridges = opts.bridges ?? defaultBridges();
  const durationSec = asset.days.length * DAY_SEC;
  const steps = Math.ceil(durationSec / stepSec);
  const policies = new Map<string, ChainPolicy>(asset.policies.map((p) => [p.chainKey, p]));
  const chains = [...asset.networks].sort();
  const feed = asset.feed;
  const gas = gasOf(asset);
  const timingOn = opts.gasTiming !== false && (opts.gasTiming?.planners ?? ['yield']).includes(planner);
  const policy: TimingPolicy = (opts.gasTiming === false ? undefined : opts.gasTiming?.policy) ?? DEFAULT_TIMING_POLICY;
  const timing: TimingFigures = {
    policy,
    deferrals: 0,
    byRule: { gas: 0, batch: 0, both: 0 },
    episodes: 0,
    sentAfterWait: 0,
    dropped: 0,
    openAtEnd: 0,
    feesSaved: 0n,
    droppedFirstFees: 0n,
    waitSec: { mean: 0, max: 0 },
    examples: [],
  };
  const episodes = new Map<string, Episode>();
  const waits: number[] = [];

  const supplied = new Map(chains.map((c) => [c, asset.sizes.get(c)!]));
  const window = new Map(chains.map((c) => [c, { startSec: -1e15, used: 0n }]));
  // The oracle guard's state per chain (the keeper carries it in the monitor's snapshot).
  const guards = new Map<string, OracleGuardState>(chains.map((c) => [c, { evidence: [] }]));
  const oracleLimits = {
    ...feed.limits,
    ...(opts.oracleReanchorRounds !== undefined ? { reanchorRounds: opts.oracleReanchorRounds } : {}),
    ...(opts.oracleMaxDeviationBps !== undefined ? { maxDeviationBps: opts.oracleMaxDeviationBps } : {}),
  };
  let oracleLockoutSec = 0;
  let oracleDeviationLockoutSec = 0;
  let feedAccepted: bigint | undefined;
  const flights: Flight[] = [];
  const initialTotal = chains.reduce((s, c) => s + supplied.get(c)!, 0n);

  const fig = new Map<string, ChainFigures>(
    chains.map((c) => [
      c,
      {
        chain: c,
        band: policies.get(c)!.band,
        outOfBandSec: 0,
        aboveBandSec: 0,
        belowBandSec: 0,
        maxUtilizationWad: 0n,
        excludedSteps: 0,
        oracleLockoutSec: 0,
        oracleReanchors: 0,
        exclusionKinds: {},
        transfersOut: 0,
        volumeOut: 0n,
        feesOut: 0n,
        initialSupplied: supplied.get(c)!,
        finalSupplied: 0n,
        yieldNumerator: 0n,
        yield: 0n,
      },
    ]),
  );
  const series: Record<string, Float32Array> = Object.fromEntries(chains.map((c) => [c, new Float32Array(steps)]));
  const transfers: TransferRecord[] = [];
  const byBridge: PlannerRun['totals']['byBridge'] = {};
  const planMs: number[] = [];
  const certs = { solver: 0, heuristic: 0, greedy: 0, notProvedOptimal: 0 };
  let fees = 0n;
  let fixedFees = 0n;
  let volume = 0n;
  let sawCertificate = false;
  let stepsWithExclusion = 0;
  const spans: PlannerRun['exclusionSpans'] = [];
  const iso = (feedSec: bigint): string => new Date(Number(feedSec) * 1000).toISOString().slice(0, 16) + 'Z';
  let nextId = 0;
  let lastProgress = performance.now();
  let lastDecile = 0;

  const deliver = (upToSec: number, inclusive: boolean): void => {
    for (let i = flights.length - 1; i >= 0; i--) {
      const f = flights[i]!;
      if (inclusive ? f.arriveSec <= upToSec : f.arriveSec < upToSec) {
        supplied.set(f.to, supplied.get(f.to)! + f.amount);
        flights.splice(i, 1);
      }
    }
  };

  for (let step = 0; step < steps; step++) {
    const t = step * stepSec;
    const stepEnd = Math.min(t + stepSec, durationSec);
    deliver(t, true);

    // Demand, oracle, chain states.
    const nowSec = feed.originSec + BigInt(t);
    const round = roundAt(feed, nowSec);
    const oracle: OracleRound = { roundId: round.roundId, answer: round.answer, decimals: feed.decimals, updatedAtSec: round.updatedAtSec, answeredInRound: round.answeredInRound };
    const borrowed = new Map<string, bigint>();
    const states: ChainState[] = [];
    let excludedHere = false;
    for (const c of chains) {
      const demand = (utilizationAt(asset.paths[c]!, t) * asset.sizes.get(c)!) / WAD;
      const s = supplied.get(c)!;
      const b = demand < s ? demand : s;
      borrowed.set(c, b);
      series[c]![step] = s === 0n ? 1 : Number((b * 1_000_000n) / s) / 1e6;
      const guard = guardOracle(oracle, nowSec, oracleLimits, guards.get(c)!);
      guards.set(c, guard.state);
      const check: OracleCheck = guard.check;
      if (guard.reanchor) fig.get(c)!.oracleReanchors++;
      if (!check.ok) {
        excludedHere = true;
        const f = fig.get(c)!;
        f.excludedSteps++;
        f.oracleLockoutSec += stepEnd - t;
        const kind = exclusionKind(check.reason ?? 'refused');
        f.exclusionKinds[kind] = (f.exclusionKinds[kind] ?? 0) + 1;
        f.firstExclusion ??= { step, tSec: t, roundId: oracle.roundId, reason: check.reason ?? 'refused' };
      }
      const w = window.get(c)!;
      const p = policies.get(c)!;
      states.push({
        chainKey: c,
        blockNumber: BigInt(step + 1),
        blockTimestampSec: nowSec,
        supplied: s,
        borrowed: b,
        idle: s > b ? s - b : 0n,
        utilizationWad: s === 0n ? 0n : (b * WAD) / s,
        onChainCap: { maxOutflowPerWindow: p.caps.maxOutflowPerWindow, windowSec: p.caps.windowSec, outflowInWindow: w.used, windowStartSec: feed.originSec + BigInt(Math.max(0, w.startSec)) },
        oracle,
        oracleCheck: check,
        tokenTotalSupply: s,
        lastAcceptedAnswer: guard.state.reference,
      });
    }
    if (excludedHere) {
      stepsWithExclusion++;
      oracleLockoutSec += stepEnd - t;
      if (states.some((x) => x.oracleCheck.reason?.includes('deviation:'))) oracleDeviationLockoutSec += stepEnd - t;
      const kinds = [...new Set(states.filter((x) => !x.oracleCheck.ok).map((x) => exclusionKind(x.oracleCheck.reason ?? 'refused')))].sort();
      const n = states.filter((x) => !x.oracleCheck.ok).length;
      const last = spans[spans.length - 1];
      if (last && last.toStep === step - 1) {
        last.toStep = step;
        last.chains = Math.max(last.chains, n);
        last.kinds = [...new Set([...last.kinds, ...kinds])].sort();
        last.feedTo = iso(nowSec);
      } else if (spans.length < 100) {
        spans.push({ fromStep: step, toStep: step, chains: n, kinds, feedFrom: iso(nowSec), feedTo: iso(nowSec) });
      }
    }
    // The feed is shared by the asset's chains: the last accepted answer quotes the fees.
    if (states.some((s) => s.oracleCheck.ok)) feedAccepted = oracle.answer;
    const price = feedAccepted;
    // Each chain's base fee at this step prices its gas (source and destination of every quote).
    const baseFeeNow = new Map(chains.map((c) => [c, gasNow(gas, c, t)]));
    const edges =
      price === undefined
        ? []
        : quoteEdges(chains, bridges, (wei) => weiToAssetUnits(wei, asset.decimals, feed.conversion, price, feed.decimals), (c) => baseFeeNow.get(c) ?? constantGasPriceWei(c));
    const inFlight: InFlight[] = flights.map((f) => ({ rebalanceId: f.id, from: f.from, to: f.to, amount: f.amount }));
    const input: OptimalInput = { chains: states, policies: asset.policies, inFlight, edges };

    // Plan.
    const p0 = performance.now();
    let planned: PlannedStep;
    const day = Math.min(Math.floor(t / DAY_SEC), asset.days.length - 1);
    try {
      const supplyRateRay = new Map(chains.map((c) => [c, asset.supplyRate[c]![day]!]));
      const p = await entry.plan(input, { asset: asset.symbol, step, tSec: t, day, supplyRateRay, timeLimitMs, assetDecimals: asset.decimals });
      if (p.certificate) {
        sawCertificate = true;
        certs[p.certificate.chosen]++;
        if (!p.certificate.optimal) certs.notProvedOptimal++;
      }
      planned = p;
    } catch (e) {
      throw new Error(`backtest ${asset.symbol}/${planner}: planner failed at step ${step} (day ${Math.floor(t / DAY_SEC)}): ${(e as Error).message}`);
    }
    planMs.push(performance.now() - p0);

    // Gas timing and batching: non-urgent transfers may wait (module doc, 5b).
    let send = planned.transfers;
    let deferred: DeferredTransfer<RoutedTransfer>[] | undefined;
    const urgentTo = timingOn ? chainsInNeed(input, planned.inNeedByForecast ?? []) : undefined;
    const waitedOf = new Map<RoutedTransfer, number>();
    if (urgentTo) {
      deferred = [];
      if (planned.transfers.length > 0) {
        const baseFees: Record<string, ChainBaseFees> = {};
        for (const c of new Set(planned.transfers.map((x) => x.from))) {
          const xs = gas.perChain[c];
          baseFees[c] = { history: xs && policy.gas ? samplesBetween(xs, t - policy.gas.windowSec, t) : [], currentWei: baseFeeNow.get(c)! };
        }
        // The yield planner's transfers carry what each earns over its horizon (the yield a wait forgoes).
        const timed = timePlan({ transfers: planned.transfers, inNeed: urgentTo, horizonSec: YIELD_HORIZON_SEC, nowSec: t, baseFees, edges }, policy);
        send = timed.send;
        deferred = timed.deferred;
      }
      const route = (x: { from: string; to: string }): string => `${x.from}\u0000${x.to}`;
      const sentOn = new Map<string, RoutedTransfer[]>();
      for (const x of send) sentOn.set(route(x), [...(sentOn.get(route(x)) ?? []), x]);
      const heldOn = new Set(deferred.map((d) => route(d.transfer)));
      for (const [k, ep] of episodes) {
        const sent = sentOn.get(k);
        if (sent) {
          for (const x of sent) {
            timing.feesSaved += feeAt(ep.edge, x.amount) - x.fee;
            waitedOf.set(x, t - ep.firstSec);
          }
          timing.sentAfterWait++;
          waits.push(t - ep.firstSec);
          episodes.delete(k);
        } else if (!heldOn.has(k)) {
          timing.dropped++;
          timing.droppedFirstFees += ep.firstFee;
          episodes.delete(k);
        }
      }
      for (const d of deferred) {
        timing.deferrals++;
        const both = d.rules.length > 1;
        if (both) timing.byRule.both++;
        else timing.byRule[d.rules[0]!]++;
        const k = route(d.transfer);
        if (!episodes.has(k)) {
          const e = edges.find((x) => x.from === d.transfer.from && x.to === d.transfer.to && x.bridge === d.transfer.bridge)!;
          episodes.set(k, { firstSec: t, edge: { fixedFee: e.fixedFee, feeBps: e.feeBps }, firstFee: d.transfer.fee });
          timing.episodes++;
        }
        if (timing.examples.length < 10) timing.examples.push(`step ${step}: ${d.transfer.from} → ${d.transfer.to} ${d.transfer.amount} over ${d.transfer.bridge} ${d.reason}`);
      }
    }
    opts.onPlan?.({ asset: asset.symbol, planner, step, tSec: t, input, round, transfers: send, ...(deferred ? { deferred } : {}), ...(urgentTo ? { inNeed: [...urgentTo].sort() } : {}), totals: planned.totals });

    // Execute: out of the source now, in flight for the latency, fee paid by the keeper.
    for (const tr of send) {
      const w = window.get(tr.from)!;
      const pol = policies.get(tr.from)!;
      if (t >= w.startSec + Number(pol.caps.windowSec)) {
        w.startSec = t;
        w.used = 0n;
      }
      w.used += tr.amount;
      supplied.set(tr.from, supplied.get(tr.from)! - tr.amount);
      const arriveSec = t + tr.latencySec;
      flights.push({ id: `${asset.symbol}-${planner}-${nextId++}`, from: tr.from, to: tr.to, amount: tr.amount, arriveSec });
      const fixedFee = edges.find((e) => e.from === tr.from && e.to === tr.to && e.bridge === tr.bridge)?.fixedFee ?? 0n;
      const waited = waitedOf.get(tr);
      transfers.push({
        step,
        sentSec: t,
        arriveSec,
        from: tr.from,
        to: tr.to,
        bridge: tr.bridge,
        amount: tr.amount,
        fee: tr.fee,
        fixedFee,
        ...(urgentTo ? { urgent: urgentTo.has(tr.to) } : {}),
        ...(waited !== undefined ? { waitedSec: waited } : {}),
      });
      fees += tr.fee;
      fixedFees += fixedFee < tr.fee ? fixedFee : tr.fee;
      volume += tr.amount;
      const f = fig.get(tr.from)!;
      f.transfersOut++;
      f.volumeOut += tr.amount;
      f.feesOut += tr.fee;
      const bb = (byBridge[tr.bridge] ??= { transfers: 0, volume: 0n, fees: 0n });
      bb.transfers++;
      bb.volume += tr.amount;
      bb.fees += tr.fee;
    }

    // Integrate out-of-band time and yield over [t, stepEnd), arrivals inside at their times, day boundaries cut.
    const nextDay = (Math.floor(t / DAY_SEC) + 1) * DAY_SEC;
    const cuts = [...new Set([...flights.filter((f) => f.arriveSec > t && f.arriveSec < stepEnd).map((f) => f.arriveSec), ...(nextDay < stepEnd ? [nextDay] : [])])].sort((a, b) => a - b);
    let from = t;
    for (const cut of [...cuts, stepEnd]) {
      const dt = cut - from;
      if (dt > 0) {
        const d = Math.min(Math.floor(from / DAY_SEC), asset.days.length - 1);
        for (const c of chains) {
          const f = fig.get(c)!;
          const s = supplied.get(c)!;
          f.yieldNumerator += s * asset.supplyRate[c]![d]! * BigInt(dt);
          const b = borrowed.get(c)!;
          const u = s === 0n ? (b === 0n ? 0n : WAD) : (b * WAD) / s;
          if (u > f.maxUtilizationWad) f.maxUtilizationWad = u;
          if (b * WAD > f.band.highWad * s) {
            f.aboveBandSec += dt;
            f.outOfBandSec += dt;
          } else if (b * WAD < f.band.lowWad * s) {
            f.belowBandSec += dt;
            f.outOfBandSec += dt;
          }
        }
      }
      deliver(cut, cut === stepEnd ? false : true);
      from = cut;
    }

    const total = chains.reduce((s, c) => s + supplied.get(c)!, 0n) + flights.reduce((s, f) => s + f.amount, 0n);
    if (total !== initialTotal) {
      throw new Error(`backtest ${asset.symbol}/${planner}: supply not conserved at step ${step}: ${total} ≠ ${initialTotal} (engine bug)`);
    }

    const decile = Math.floor(((step + 1) * 10) / steps);
    if (opts.onProgress && (decile > lastDecile || performance.now() - lastProgress > 15_000)) {
      lastDecile = decile;
      lastProgress = performance.now();
      opts.onProgress(
        `[backtest] ${asset.symbol} ${planner}: day ${Math.floor(stepEnd / DAY_SEC)}/${asset.days.length} (${Math.round(((step + 1) * 100) / steps)}%), ` +
          `${transfers.length} transfers, ${((performance.now() - wall0) / 1000).toFixed(1)} s`,
      );
    }
  }

  timing.openAtEnd = episodes.size;
  timing.waitSec = { mean: waits.length === 0 ? 0 : Math.round(waits.reduce((s, x) => s + x, 0) / waits.length), max: Math.max(0, ...waits) };
  for (const c of chains) {
    const f = fig.get(c)!;
    f.finalSupplied = supplied.get(c)!;
    f.yield = f.yieldNumerator / (RAY * SECONDS_PER_YEAR);
  }
  const perChain = chains.map((c) => fig.get(c)!);
  const sumBy = (k: 'outOfBandSec' | 'aboveBandSec' | 'belowBandSec'): number => perChain.reduce((s, f) => s + f[k], 0);
  return {
    planner,
    steps,
    durationSec,
    totals: {
      fees,
      fixedFees,
      proportionalFees: fees - fixedFees,
      yield: perChain.reduce((s, f) => s + f.yieldNumerator, 0n) / (RAY * SECONDS_PER_YEAR),
      volume,
      transfers: transfers.length,
      byBridge,
      outOfBandSec: sumBy('outOfBandSec'),
      aboveBandSec: sumBy('aboveBandSec'),
      belowBandSec: sumBy('belowBandSec'),
      maxUtilizationWad: perChain.reduce((m, f) => (f.maxUtilizationWad > m ? f.maxUtilizationWad : m), 0n),
      stepsWithExclusion,
      oracleLockoutSec,
      oracleDeviationLockoutSec,
      oracleReanchors: perChain.reduce((s, f) => s + f.oracleReanchors, 0),
      suppliedStart: initialTotal,
      suppliedEnd: chains.reduce((s, c) => s + supplied.get(c)!, 0n),
      inFlightEnd: flights.reduce((s, f) => s + f.amount, 0n),
    },
    perChain,
    transfers,
    planMs: { p50: quantile(planMs, 0.5), p95: quantile(planMs, 0.95), max: Math.max(0, ...planMs), total: planMs.reduce((s, x) => s + x, 0) },
    ...(sawCertificate || planner === 'optimal' ? { certificates: certs } : {}),
    ...(timingOn ? { timing } : {}),
    exclusionSpans: spans,
    series,
    wallMs: performance.now() - wall0,
  };
}

/**
 * Runs every requested planner over every asset (one after the other, each with its own state).
 * @example const results = await runBacktest(loadBacktestAssets({ days: 30 }).assets, { planners: ['greedy', 'optimal'] });
 */
export async function runBacktest(assets: readonly BacktestAsset[], opts: BacktestOptions): Promise<AssetResult[]> {
  const out: AssetResult[] = [];
  for (const a of assets) {
    const runs: AssetResult['runs'] = {};
    const skippedPlanners: AssetResult['skippedPlanners'] = {};
    // The lowest quote out of each chain per day, over every run's steps: the bound's fee floor.
    const quotes = emptyDailyFees(a.networks, a.days.length);
    const onPlan = (e: PlanEvent): void => {
      addQuotes(quotes, Math.floor(e.tSec / DAY_SEC), e.input.edges);
      opts.onPlan?.(e);
    };
    for (const p of opts.planners) {
      const whyNot = await PLANNERS[p].load();
      if (whyNot !== undefined) {
        skippedPlanners[p] = whyNot;
        opts.onProgress?.(`[backtest] ${a.symbol}: planner ${p} left out: ${whyNot}`);
        continue;
      }
      runs[p] = await runPlanner(a, p, { ...opts, onPlan });
    }
    let bound: BoundResult | undefined;
    let boundError: string | undefined;
    if (opts.bound !== false && Object.keys(runs).length > 0) {
      opts.onProgress?.(`[backtest] ${a.symbol}: solving the perfect-foresight bound (${a.days.length} days × ${a.networks.length} chains)`);
      try {
        bound = await solveBound(a, quotes, typeof opts.bound === 'object' ? opts.bound : {});
      } catch (e) {
        boundError = (e as Error).message;
      }
    }
    const forecast = opts.forecast === false ? undefined : await forecastScore(a, opts.stepSec ?? 3600, opts.forecastHorizonSec ?? DAY_SEC);
    out.push({
      symbol: a.symbol,
      label: a.label,
      decimals: a.decimals,
      source: a.source,
      sources: { history: a.sources.history, prices: a.sources.prices, gas: gasOf(a).source },
      gas: gasFigures(a),
      networks: [...a.networks].sort(),
      days: a.days.length,
      firstDay: a.days[0] ?? '',
      lastDay: a.days[a.days.length - 1] ?? '',
      stepSec: opts.stepSec ?? 3600,
      feed: {
        name: a.feed.name,
        file: a.feed.file,
        originIso: new Date(Number(a.feed.originSec) * 1000).toISOString(),
        limits: {
          maxStalenessSec: a.feed.limits.maxStalenessSec,
          maxDeviationBps: opts.oracleMaxDeviationBps ?? a.feed.limits.maxDeviationBps,
          reanchorRounds: opts.oracleReanchorRounds ?? a.feed.limits.reanchorRounds ?? DEFAULT_REANCHOR_ROUNDS,
        },
      },
      notes: a.notes,
      runs,
      skippedPlanners,
      ...(bound ? { bound } : {}),
      ...(boundError !== undefined ? { boundError } : {}),
      ...(forecast ? { forecast } : {}),
    });
  }
  return out;
}

/** The asset's base-fee series as the report shows it: source, notes, per chain mean / p10 / p90 over the run. */
function gasFigures(a: BacktestAsset): AssetResult['gas'] {
  const g = gasOf(a);
  const durationSec = a.days.length * DAY_SEC;
  const perChain: AssetResult['gas']['perChain'] = {};
  for (const c of [...a.networks].sort()) {
    const xs = samplesBetween(g.perChain[c] ?? [], 0, durationSec).map((x) => x.baseFeeWei);
    if (xs.length === 0) {
      const w = gasNow(g, c, 0);
      perChain[c] = { meanWei: w, p10Wei: w, p90Wei: w };
      continue;
    }
    perChain[c] = { meanWei: xs.reduce((s, x) => s + x, 0n) / BigInt(xs.length), p10Wei: percentileWei(xs, 10), p90Wei: percentileWei(xs, 90) };
  }
  return { source: g.source, synthetic: g.synthetic, notes: g.notes, perChain };
}

/**
 * The forecast's error on one asset (see {@link AssetResult.forecast}); `{ unavailable }` when planner/forecast.ts
 * cannot be loaded.
 */
async function forecastScore(a: BacktestAsset, stepSec: number, horizonSec: number): Promise<AssetResult['forecast']> {
  let f: typeof import('../planner/forecast.js');
  try {
    f = await import('../planner/forecast.js');
  } catch (e) {
    return { unavailable: `planner/forecast.ts cannot be loaded: ${(e as Error).message.split('\n')[0]}` };
  }
  const steps = Math.ceil((a.days.length * DAY_SEC) / stepSec);
  const perChain: Record<string, { maePct: number; rmsePct: number }> = {};
  let abs = 0;
  let sq = 0;
  let n = 0;
  const pct = (wad: number): number => Math.round((wad / 1e16) * 1000) / 1000;
  for (const c of [...a.networks].sort()) {
    const series = Array.from({ length: steps }, (_, i) => utilizationAt(a.paths[c]!, i * stepSec));
    const e = f.forecastError(series, { ...f.DEFAULT_FORECAST_PARAMS, stepSec, horizonSec });
    perChain[c] = { maePct: pct(e.maeWad), rmsePct: pct(e.rmseWad) };
    abs += e.maeWad * e.n;
    sq += e.rmseWad * e.rmseWad * e.n;
    n += e.n;
  }
  return { horizonSec, maePct: n === 0 ? 0 : pct(abs / n), rmsePct: n === 0 ? 0 : pct(Math.sqrt(sq / n)), n, perChain };
}
