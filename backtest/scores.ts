/**
 * What a treasury cares about, per planner of one asset's backtest, next to the perfect-foresight bound
 * (backtest/bound.ts). Pure: from an {@link AssetResult} to JSON-safe figures.
 *
 * Per planner (amounts: exact base units and token decimals, as report.ts `Amount`):
 * - `yield`: what its supplied amounts earned at the history's supply rates (backtest/run.ts, step 8);
 *   `aprPct` = yield ÷ capital × year ÷ duration; `apyPct` = (1 + yield ÷ capital)^(year ÷ duration) − 1;
 *   capital = Σ initial supply. `netYield` = yield − fees, with `netAprPct`;
 * - `fees` (all the keeper paid) = `fixedFees` (the per-message quote: native gas of both ends + messaging) +
 *   `proportionalFees` (the bridge's bps);
 * - `upliftShare` = (net yield − static's) ÷ (bound's − static's): the share of the perfect-foresight uplift over
 *   static it captured (`null` when static was not run, there is no bound, or the bound is not above static);
 *   `upliftShareRelaxed` the same against the relaxed (no-band) bound;
 * - `aboveBandHours` (liquidity shortage) and `belowBandHours` (idle), chain-hours;
 * - `oracleLockoutHours`: hours with at least one chain left out for its oracle, as the engine records them
 *   (`oracleLockoutSec`; older runs: steps with an exclusion × step); `oracleLockoutChainHours`: Σ over chains;
 * - `timing` (a planner under gas timing, planner/timing.ts; `null` otherwise): proposals held back (`deferrals`, one per
 *   step a move waited), the distinct moves held back (`episodes`: a route's run of waits), those sent after waiting,
 *   dropped by the planner or still waiting at the end, and `feesSaved` (backtest/run.ts `TimingFigures`: per message
 *   that ended a wait, the fee at the first held-back quote minus the fee paid, same amount; negative when waiting
 *   cost more).
 */
import type { BoundVariant } from './bound.js';
import { PLANNER_NAMES } from './planners.js';
import type { AssetResult, PlannerName, PlannerRun } from './run.js';

/** An amount both exactly (base units) and readably (token decimals). */
export interface ScoreAmount {
  baseUnits: string;
  tokens: string;
}

/** One planner's scores (module doc). */
export interface PlannerScore {
  yield: ScoreAmount;
  aprPct: number;
  apyPct: number;
  netYield: ScoreAmount;
  netAprPct: number;
  fees: ScoreAmount;
  fixedFees: ScoreAmount;
  proportionalFees: ScoreAmount;
  transfers: number;
  aboveBandHours: number;
  belowBandHours: number;
  oracleLockoutHours: number;
  oracleLockoutChainHours: number;
  /** Net yield ÷ static's net yield (null without static or when static's is 0). */
  netYieldVsStatic: number | null;
  upliftShare: number | null;
  upliftShareRelaxed: number | null;
  timing: TimingScore | null;
}

/** A planner's gas-timing figures (module doc). */
export interface TimingScore {
  deferrals: number;
  byRule: { gas: number; batch: number; both: number };
  episodes: number;
  sentAfterWait: number;
  dropped: number;
  openAtEnd: number;
  feesSaved: ScoreAmount;
  droppedFirstFees: ScoreAmount;
  meanWaitHours: number;
}

/** The bound's figures in the same units. */
export interface BoundScore {
  status: string;
  netYield: ScoreAmount | null;
  yield: ScoreAmount | null;
  fees: ScoreAmount | null;
  aprPct: number | null;
  netAprPct: number | null;
  transfers: number;
  gapPct: number;
  aboveBandHours?: number;
  belowBandHours?: number;
  shortageTokenDays?: number;
  /** Relaxed only: HiGHS's proven upper bound on any planner's net yield. */
  provenUpperBound?: ScoreAmount;
  solveMs: number;
}

/** Scores of one asset. */
export interface AssetScores {
  /** Σ initial supply (base units): the capital the APRs are on. */
  capital: ScoreAmount;
  durationDays: number;
  planners: Partial<Record<PlannerName, PlannerScore>>;
  bound: { banded: BoundScore; relaxed: BoundScore; formulation: string; size: { days: number; chains: number; columns: number; integers: number; rows: number } } | null;
  /** Why there is no bound (solver error, or not asked). */
  boundMissing?: string;
  forecast: AssetResult['forecast'] | null;
  skippedPlanners: AssetResult['skippedPlanners'];
}

/** `x` base units of a `decimals` token as a decimal string truncated to `places` decimals (no separators). */
export function unitsText(x: bigint, decimals: number, places: number): string {
  const neg = x < 0n;
  const abs = neg ? -x : x;
  const scale = 10n ** BigInt(decimals);
  const shown = Math.min(places, decimals);
  const frac = shown === 0 ? '' : `.${((abs % scale) / 10n ** BigInt(decimals - shown)).toString().padStart(shown, '0')}`;
  return `${neg ? '-' : ''}${abs / scale}${frac}`;
}

const YEAR_DAYS = 365;
const round = (x: number, p = 4): number => Math.round(x * 10 ** p) / 10 ** p;

/**
 * The share of the bound's uplift over static: `(planner − static) / (bound − static)`, rounded to 4 places;
 * `null` when the denominator is ≤ 0 (the bound is no better than static: nothing to capture).
 * @example upliftShare(150n, 100n, 200n) === 0.5
 */
export function upliftShare(planner: bigint, staticNet: bigint, bound: bigint): number | null {
  const den = bound - staticNet;
  if (den <= 0n) return null;
  return round(Number(((planner - staticNet) * 1_000_000_000n) / den) / 1e9);
}

/** Simple and compounded annual rates (percent) of `gain` on `capital` over `days`. */
export function annualized(gain: bigint, capital: bigint, days: number): { aprPct: number; apyPct: number } {
  if (capital <= 0n || days <= 0) return { aprPct: 0, apyPct: 0 };
  const r = Number((gain * 1_000_000_000_000n) / capital) / 1e12;
  return { aprPct: round((r * YEAR_DAYS * 100) / days), apyPct: round((Math.pow(1 + r, YEAR_DAYS / days) - 1) * 100) };
}

/** Hours with at least one chain locked out for its oracle, and Σ over chains, from what the engine records. */
function lockout(run: PlannerRun, stepSec: number): { hours: number; chainHours: number } {
  const t = run.totals as PlannerRun['totals'] & { oracleLockoutSec?: number };
  const sec = t.oracleLockoutSec ?? t.stepsWithExclusion * stepSec;
  const chainSec = run.perChain.reduce((s, c) => s + ((c as { oracleLockoutSec?: number }).oracleLockoutSec ?? c.excludedSteps * stepSec), 0);
  return { hours: round(sec / 3600, 1), chainHours: round(chainSec / 3600, 1) };
}

/** The scores of one asset's runs and bound (module doc). */
export function assetScores(a: AssetResult): AssetScores {
  const places = a.decimals <= 6 ? 2 : 4;
  const amt = (x: bigint): ScoreAmount => ({ baseUnits: x.toString(), tokens: unitsText(x, a.decimals, places) });
  const anyRun = Object.values(a.runs)[0];
  const capital = anyRun ? anyRun.totals.suppliedStart : 0n;
  const days = a.days;
  const net = (r: PlannerRun): bigint => r.totals.yield - r.totals.fees;
  const st = a.runs.static;
  const staticNet = st ? net(st) : undefined;
  const boundNet = a.bound?.banded.netYield;
  const relaxedNet = a.bound?.relaxed.provenUpperBound ?? a.bound?.relaxed.netYield;
  const planners: AssetScores['planners'] = {};
  for (const p of PLANNER_NAMES) {
    const r = a.runs[p];
    if (!r) continue;
    const n = net(r);
    const y = annualized(r.totals.yield, capital, days);
    const lo = lockout(r, a.stepSec);
    planners[p] = {
      yield: amt(r.totals.yield),
      aprPct: y.aprPct,
      apyPct: y.apyPct,
      netYield: amt(n),
      netAprPct: annualized(n, capital, days).aprPct,
      fees: amt(r.totals.fees),
      fixedFees: amt(r.totals.fixedFees),
      proportionalFees: amt(r.totals.proportionalFees),
      transfers: r.totals.transfers,
      aboveBandHours: round(r.totals.aboveBandSec / 3600, 1),
      belowBandHours: round(r.totals.belowBandSec / 3600, 1),
      oracleLockoutHours: lo.hours,
      oracleLockoutChainHours: lo.chainHours,
      netYieldVsStatic: staticNet === undefined || staticNet === 0n ? null : round(Number((n * 1_000_000_000n) / staticNet) / 1e9, 6),
      upliftShare: staticNet === undefined || boundNet === undefined ? null : upliftShare(n, staticNet, boundNet),
      upliftShareRelaxed: staticNet === undefined || relaxedNet === undefined ? null : upliftShare(n, staticNet, relaxedNet),
      timing: r.timing
        ? {
            deferrals: r.timing.deferrals,
            byRule: r.timing.byRule,
            episodes: r.timing.episodes,
            sentAfterWait: r.timing.sentAfterWait,
            dropped: r.timing.dropped,
            openAtEnd: r.timing.openAtEnd,
            feesSaved: amt(r.timing.feesSaved),
            droppedFirstFees: amt(r.timing.droppedFirstFees),
            meanWaitHours: round(r.timing.waitSec.mean / 3600, 1),
          }
        : null,
    };
  }
  const boundScore = (v: BoundVariant): BoundScore => ({
    status: v.status,
    netYield: v.netYield === undefined ? null : amt(v.netYield),
    yield: v.yield === undefined ? null : amt(v.yield),
    fees: v.fees === undefined ? null : amt(v.fees),
    aprPct: v.yield === undefined ? null : annualized(v.yield, capital, days).aprPct,
    netAprPct: v.netYield === undefined ? null : annualized(v.netYield, capital, days).aprPct,
    transfers: v.transfers,
    gapPct: round(v.gapPct, 6),
    ...(v.aboveBandHours !== undefined ? { aboveBandHours: v.aboveBandHours, belowBandHours: v.belowBandHours, shortageTokenDays: round(v.shortageTokenDays ?? 0, 2) } : {}),
    ...(v.provenUpperBound !== undefined ? { provenUpperBound: amt(v.provenUpperBound) } : {}),
    solveMs: v.solveMs,
  });
  const b = a.bound;
  return {
    capital: amt(capital),
    durationDays: days,
    planners,
    bound: b
      ? { banded: boundScore(b.banded), relaxed: boundScore(b.relaxed), formulation: b.formulation, size: { days: b.days, chains: b.chains, columns: b.columns, integers: b.integers, rows: b.rows } }
      : null,
    ...(b ? {} : { boundMissing: a.boundError ?? 'not computed (--no-bound)' }),
    forecast: a.forecast ?? null,
    skippedPlanners: a.skippedPlanners,
  };
}

/** The side-by-side table of one asset's scores: columns = the planners run, then the bound; rows = the scores. */
export function scoreTable(symbol: string, s: AssetScores): { head: string[]; rows: string[][] } {
  const ps = PLANNER_NAMES.filter((p) => s.planners[p] !== undefined);
  const b = s.bound?.banded;
  const head = ['score', ...ps, ...(s.bound ? ['bound (foresight)'] : [])];
  const row = (label: string, get: (x: PlannerScore) => string, bound?: string): string[] => [label, ...ps.map((p) => get(s.planners[p]!)), ...(s.bound ? [bound ?? '–'] : [])];
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  return {
    head,
    rows: [
      row(`yield earned (${symbol})`, (x) => x.yield.tokens, b?.yield?.tokens),
      row('  APR / APY', (x) => `${x.aprPct.toFixed(3)}% / ${x.apyPct.toFixed(3)}%`, b?.aprPct == null ? undefined : `${b.aprPct.toFixed(3)}%`),
      row(`fees paid (${symbol})`, (x) => x.fees.tokens, b?.fees?.tokens),
      row('  of which gas+messaging / bps', (x) => `${x.fixedFees.tokens} / ${x.proportionalFees.tokens}`),
      row(`net yield (${symbol})`, (x) => x.netYield.tokens, b?.netYield?.tokens),
      row('  net APR', (x) => `${x.netAprPct.toFixed(3)}%`, b?.netAprPct == null ? undefined : `${b.netAprPct.toFixed(3)}%`),
      row('net yield ÷ static', (x) => (x.netYieldVsStatic === null ? 'n/a' : `×${x.netYieldVsStatic.toFixed(4)}`)),
      row('share of the bound\'s uplift', (x) => pct(x.upliftShare), '100%'),
      row('  vs the relaxed (no-band) bound', (x) => pct(x.upliftShareRelaxed)),
      row('transfers', (x) => String(x.transfers), b ? String(b.transfers) : undefined),
      row('gas timing: held back (moves; sent after / dropped)', (x) => (x.timing ? `${x.timing.deferrals} (${x.timing.episodes}; ${x.timing.sentAfterWait} / ${x.timing.dropped})` : 'off')),
      row(`  fees saved by waiting (${symbol})`, (x) => (x.timing ? x.timing.feesSaved.tokens : '–')),
      row('above band (chain-h, shortage)', (x) => String(x.aboveBandHours), b?.aboveBandHours === undefined ? undefined : String(b.aboveBandHours)),
      row('below band (chain-h, idle)', (x) => String(x.belowBandHours), b?.belowBandHours === undefined ? undefined : String(b.belowBandHours)),
      row('oracle lock-out h (Σ chain-h)', (x) => `${x.oracleLockoutHours} (${x.oracleLockoutChainHours})`),
    ],
  };
}
