/**
 * The perfect-foresight bound: the best allocation path over the whole history, knowing every day's utilization
 * and supply rate in advance, under the planners' caps, outflow windows and fees, solved offline as ONE MILP by
 * HiGHS (planner/lp.ts `solveMilp`). It is what the planners are scored against: share of the bound's uplift over
 * static = (planner − static) / (bound − static), on net yield (yield − fees).
 *
 * Time: one period per history DAY (the supply rates are daily and held for the day; utilization is interpolated
 * within it), whatever the simulation step: D days × C chains.
 *
 * Variables per chain c and day d (amounts in units of 10^k base units, k chosen so the total is < 10^7 units):
 * - `S[c,d]` ≥ 0  the average supply over the day (what earns: yield = Σ r[c,d] · S[c,d] · 86 400 / (365 · 86 400));
 * - `o[c,d]` ≥ 0  sent out that day, `O[c,d] = O[c,d−1] + o[c,d]` cumulative;
 * - `i[c,d]` ≥ 0  arrived that day, `I[c,d]` cumulative;
 * - `k[c,d]` ∈ ℤ≥0 messages sent that day (`o ≤ maxTransfer · k`: every message ≤ the source's maxTransfer);
 * - `short[c,d]` ≥ 0 (banded variant only) the shortfall below the band's high mark (see below).
 * Rows:
 * - supply:   S[c,d] ≤ s0[c] − O[c,d−1] + I[c,d]      (sent before the day is gone, arrived by its end counts);
 *             O[c,d] − I[c,d] ≤ s0[c]                   (no chain goes below 0);
 * - conservation: Σ_c S[c,d] ≤ total; Σ_c I[c,d] ≤ Σ_c O[c,d] (nothing arrives that was not sent);
 * - windows: the vault's outflow window is a fixed 24 h window, so a calendar day can overlap two of them: any
 *   span of L consecutive days sends ≤ (L + 1) · maxOutflowPerWindow (rows for L = 1..7);
 * - no quote that day (no accepted price yet): o[c,d] = 0.
 * Objective (maximize): Σ yield − Σ_c,d (minFixedFee[c,d] · k[c,d] + minBps[c,d] · o[c,d]), where minFixedFee and
 * minBps are the lowest fixed fee and bps of any quote out of c during day d in the replay (the fee of one message is
 * at least that; the planners pay the quote of the edge they use).
 *
 * Two variants, both reported:
 * - `relaxed` (no band): every planner's path, averaged per day, satisfies every row above (its fees are at least
 *   the objective's, its windows at most the rows', in-flight money earns nothing), so its optimum — and HiGHS's
 *   proven dual bound when the time limit stops the solve — is an upper bound on every planner's net yield;
 * - `banded` (the headline bound): the same plus the band's high mark (the liquidity side of the band: utilization ≤
 *   high, no shortage) as a hard constraint when feasible: `S[c,d] + short[c,d] ≥ maxDemand[c,d] / high` with the
 *   shortfall weighed {@link SHORTAGE_WEIGHT} tokens per token-day (≫ any day's yield on it), so the path is
 *   shortage-free whenever caps and the total allow, and shortest-of-shortage otherwise. Its path is read as
 *   "supply S[c,d] held all day", and its hours above/below band are counted on that path. The band's LOW mark is
 *   not imposed: below band is idle money, which the objective already charges as lost yield; a planner taking
 *   liquidity risk (hours above band) can exceed this variant, never the relaxed one.
 * The rate impact of the treasury's own supply is IGNORED (the history's rates are taken as given), as in the
 * engine's yield accounting (backtest/run.ts), so the bound and the planners are scored on the same yield model.
 * Optimistic by construction (a bound): moves take effect at day boundaries without latency, messages are not held
 * to minTransfer, buffers and oracle exclusions are not modelled.
 */
import { solveMilp } from '../planner/lp.js';
import type { LpColumn, LpModel, LpRow, LpTerm } from '../planner/lp.js';
import { WAD } from '../planner/types.js';
import type { BridgeEdge } from '../planner/optimal.js';
import { RAY } from './csv.js';
import type { BacktestAsset } from './history.js';

/** Penalty of one token-day of shortage below the band's high mark (tokens), in the banded bound. */
export const SHORTAGE_WEIGHT = 1;
/** Longest span of days with its own window row. */
const WINDOW_SPAN_DAYS = 7;
const YEAR_DAYS = 365;

/** The lowest fees quoted out of each chain per day (from the replay's quotes). */
export interface DailyFees {
  /** chain → per day: lowest fixed fee of any quote out of it that day (base units); `undefined` = no quote that day. */
  minFixed: Map<string, (bigint | undefined)[]>;
  /** chain → per day: lowest feeBps of any quote out of it that day. */
  minBps: Map<string, (number | undefined)[]>;
}

/** An empty {@link DailyFees} for `days` days. */
export function emptyDailyFees(chains: readonly string[], days: number): DailyFees {
  return { minFixed: new Map(chains.map((c) => [c, new Array<bigint | undefined>(days).fill(undefined)])), minBps: new Map(chains.map((c) => [c, new Array<number | undefined>(days).fill(undefined)])) };
}

/** Folds one step's quotes (its day `day`) into `f`. */
export function addQuotes(f: DailyFees, day: number, edges: readonly BridgeEdge[]): void {
  for (const e of edges) {
    const fx = f.minFixed.get(e.from);
    const bp = f.minBps.get(e.from);
    if (!fx || !bp || day >= fx.length) continue;
    if (fx[day] === undefined || e.fixedFee < fx[day]!) fx[day] = e.fixedFee;
    if (bp[day] === undefined || e.feeBps < bp[day]!) bp[day] = e.feeBps;
  }
}

/** One variant's result. Amounts in base units (from the solver's floats, rounded). */
export interface BoundVariant {
  /** HiGHS status (`Optimal`, `TimeLimit`, …). */
  status: string;
  /** Net yield of the path found (yield − fees), base units; `undefined` when no path was found. */
  netYield: bigint | undefined;
  yield: bigint | undefined;
  fees: bigint | undefined;
  /** Messages of the path (Σ k). */
  transfers: number;
  volume: bigint;
  /** Relaxed only: proven upper bound on net yield (base units) from HiGHS's dual bound, valid for every planner. */
  provenUpperBound: bigint | undefined;
  /** Relative gap of the solve (percent). */
  gapPct: number;
  /** Banded: token-days of shortage left (0 = the band's high mark held throughout); chain-hours above / below band of the path. */
  shortageTokenDays?: number;
  aboveBandHours?: number;
  belowBandHours?: number;
  solveMs: number;
}

/** Result of {@link solveBound}. */
export interface BoundResult {
  /** The headline bound (band's high mark hard when feasible). */
  banded: BoundVariant;
  /** No band: an upper bound on every planner's net yield. */
  relaxed: BoundVariant;
  days: number;
  chains: number;
  columns: number;
  integers: number;
  rows: number;
  /** One paragraph: the formulation (for the report). */
  formulation: string;
}

/** Options of {@link solveBound}. */
export interface BoundOptions {
  /** Budget of each of the two solves (ms, default 20 000). */
  timeLimitMs?: number;
}

const maxB = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/**
 * Solves both variants of the bound for one asset (module doc).
 * @param fees the lowest quotes per chain and day, collected while the planners ran ({@link addQuotes}).
 * @throws Error when HiGHS refuses the model (a bug in this builder; the message says which row or column).
 */
export async function solveBound(asset: BacktestAsset, fees: DailyFees, opts: BoundOptions = {}): Promise<BoundResult> {
  const chains = [...asset.networks].sort();
  const D = asset.days.length;
  const total = chains.reduce((s, c) => s + asset.sizes.get(c)!, 0n);
  let exp = 0;
  while (total / 10n ** BigInt(exp) >= 10_000_000n) exp++;
  const unit = 10n ** BigInt(exp);
  const toUnits = (x: bigint): number => Number(x) / Number(unit);
  const tokenPerUnit = Number(unit) / 10 ** asset.decimals;
  const policies = new Map(asset.policies.map((p) => [p.chainKey, p]));
  const name = (v: string, c: number, d: number): string => `${v}_${c}_${d}`;
  const build = (banded: boolean): { model: LpModel; ints: number } => {
    const columns: LpColumn[] = [];
    const rows: LpRow[] = [];
    const objective: LpTerm[] = [];
    let ints = 0;
    chains.forEach((c, ci) => {
      const p = policies.get(c)!;
      const s0 = toUnits(asset.sizes.get(c)!);
      const cap = toUnits(p.caps.maxOutflowPerWindow);
      const maxT = toUnits(p.caps.maxTransfer);
      const perDay = maxT > 0 ? Math.ceil((2 * cap) / maxT) : 0;
      for (let d = 0; d < D; d++) {
        const fx = fees.minFixed.get(c)![d];
        const quoted = fx !== undefined && cap > 0 && maxT > 0;
        const rate = Number((asset.supplyRate[c]![d]! * 1_000_000_000n) / RAY) / 1e9;
        columns.push({ name: name('S', ci, d), lower: 0, upper: toUnits(total) });
        objective.push({ name: name('S', ci, d), coef: -((rate * tokenPerUnit) / YEAR_DAYS) });
        columns.push({ name: name('o', ci, d), lower: 0, upper: quoted ? 2 * cap : 0 });
        columns.push({ name: name('O', ci, d), lower: 0, upper: toUnits(total) * D });
        columns.push({ name: name('i', ci, d), lower: 0, upper: toUnits(total) });
        columns.push({ name: name('I', ci, d), lower: 0, upper: toUnits(total) * D });
        if (quoted) {
          columns.push({ name: name('k', ci, d), lower: 0, upper: perDay, integer: true });
          ints++;
          objective.push({ name: name('k', ci, d), coef: Number(fx) / 10 ** asset.decimals });
          const bps = fees.minBps.get(c)![d] ?? 0;
          if (bps > 0) objective.push({ name: name('o', ci, d), coef: (bps / 10_000) * tokenPerUnit });
          rows.push({ name: name('msg', ci, d), terms: [{ name: name('o', ci, d), coef: 1 }, { name: name('k', ci, d), coef: -maxT }], op: '<=', rhs: 0 });
        }
        // Cumulative sums.
        rows.push({ name: name('cO', ci, d), terms: [{ name: name('O', ci, d), coef: 1 }, { name: name('o', ci, d), coef: -1 }, ...(d > 0 ? [{ name: name('O', ci, d - 1), coef: -1 }] : [])], op: '=', rhs: 0 });
        rows.push({ name: name('cI', ci, d), terms: [{ name: name('I', ci, d), coef: 1 }, { name: name('i', ci, d), coef: -1 }, ...(d > 0 ? [{ name: name('I', ci, d - 1), coef: -1 }] : [])], op: '=', rhs: 0 });
        // Supply.
        rows.push({ name: name('sup', ci, d), terms: [{ name: name('S', ci, d), coef: 1 }, { name: name('I', ci, d), coef: -1 }, ...(d > 0 ? [{ name: name('O', ci, d - 1), coef: 1 }] : [])], op: '<=', rhs: s0 });
        rows.push({ name: name('nn', ci, d), terms: [{ name: name('O', ci, d), coef: 1 }, { name: name('I', ci, d), coef: -1 }], op: '<=', rhs: s0 });
        // Windows over spans of 2..WINDOW_SPAN_DAYS days ending at d (span 1 is o's upper bound).
        for (let L = 2; L <= WINDOW_SPAN_DAYS && L <= d + 1; L++) {
          const a = d - L + 1;
          rows.push({ name: `w${L}_${ci}_${d}`, terms: [{ name: name('O', ci, d), coef: 1 }, ...(a > 0 ? [{ name: name('O', ci, a - 1), coef: -1 }] : [])], op: '<=', rhs: (L + 1) * cap });
        }
        if (banded) {
          const u = maxB(asset.paths[c]![d]!, asset.paths[c]![Math.min(d + 1, D - 1)]!);
          const demand = (u * asset.sizes.get(c)!) / WAD;
          const need = toUnits((demand * WAD) / p.band.highWad);
          columns.push({ name: name('short', ci, d), lower: 0, upper: need });
          objective.push({ name: name('short', ci, d), coef: SHORTAGE_WEIGHT * tokenPerUnit });
          rows.push({ name: name('band', ci, d), terms: [{ name: name('S', ci, d), coef: 1 }, { name: name('short', ci, d), coef: 1 }], op: '>=', rhs: need });
        }
      }
    });
    for (let d = 0; d < D; d++) {
      rows.push({ name: `tot_${d}`, terms: chains.map((_, ci) => ({ name: name('S', ci, d), coef: 1 })), op: '<=', rhs: toUnits(total) });
      rows.push({ name: `arr_${d}`, terms: chains.flatMap((_, ci) => [{ name: name('I', ci, d), coef: 1 }, { name: name('O', ci, d), coef: -1 }]), op: '<=', rhs: 0 });
    }
    return { model: { objective, objectiveConstant: 0, columns, rows }, ints };
  };

  const tokensToBase = (t: number): bigint => BigInt(Math.round(t * 10 ** Math.min(asset.decimals, 6))) * 10n ** BigInt(Math.max(0, asset.decimals - 6));
  const solve = async (banded: boolean): Promise<{ v: BoundVariant; size: { columns: number; rows: number; ints: number } }> => {
    const { model, ints } = build(banded);
    const r = await solveMilp(model, undefined, { timeLimitMs: opts.timeLimitMs ?? 20_000, mipRelGap: 1e-7 });
    const val = (n: string): number => r.values.get(n) ?? 0;
    let yieldTok = 0;
    let feeTok = 0;
    let transfers = 0;
    let volumeUnits = 0;
    let shortage = 0;
    let above = 0;
    let below = 0;
    const found = r.values.size > 0;
    if (found) {
      chains.forEach((c, ci) => {
        const p = policies.get(c)!;
        for (let d = 0; d < D; d++) {
          const S = val(name('S', ci, d));
          const rate = Number((asset.supplyRate[c]![d]! * 1_000_000_000n) / RAY) / 1e9;
          yieldTok += (rate * S * tokenPerUnit) / YEAR_DAYS;
          const k = Math.round(val(name('k', ci, d)));
          transfers += k;
          const o = val(name('o', ci, d));
          volumeUnits += o;
          const fx = fees.minFixed.get(c)![d];
          if (fx !== undefined) feeTok += (k * Number(fx)) / 10 ** asset.decimals + ((fees.minBps.get(c)![d] ?? 0) / 10_000) * o * tokenPerUnit;
          if (banded) shortage += val(name('short', ci, d)) * tokenPerUnit;
          // Hours out of band of "S held all day": demand linear from u_d to u_{d+1} over the day.
          const sTok = S * tokenPerUnit;
          const size = Number(asset.sizes.get(c)!) / 10 ** asset.decimals;
          const ua = (Number((asset.paths[c]![d]! * 1_000_000n) / WAD) / 1e6) * size;
          const ub = (Number((asset.paths[c]![Math.min(d + 1, D - 1)]! * 1_000_000n) / WAD) / 1e6) * size;
          const hi = (Number((p.band.highWad * 1_000_000n) / WAD) / 1e6) * sTok;
          const lo = (Number((p.band.lowWad * 1_000_000n) / WAD) / 1e6) * sTok;
          // A path held exactly at a band edge is in band: the solver's floats get a relative tolerance of 1e-6.
          above += 24 * fractionAbove(ua, ub, hi * (1 + 1e-6));
          below += 24 * (1 - fractionAbove(ua, ub, lo * (1 - 1e-6)));
        }
      });
    }
    const netTok = yieldTok - feeTok;
    const objTok = r.objective;
    const proven = Number.isFinite(r.bound) ? -r.bound : undefined;
    const v: BoundVariant = {
      status: r.status,
      netYield: found ? tokensToBase(netTok) : undefined,
      yield: found ? tokensToBase(yieldTok) : undefined,
      fees: found ? tokensToBase(feeTok) : undefined,
      transfers,
      volume: tokensToBase(volumeUnits * tokenPerUnit),
      provenUpperBound: proven === undefined || banded ? undefined : tokensToBase(proven),
      gapPct: objTok === undefined || !Number.isFinite(r.bound) ? 100 : (Math.abs(objTok - r.bound) / Math.max(1, Math.abs(objTok))) * 100,
      ...(banded ? { shortageTokenDays: shortage, aboveBandHours: Math.round(above * 10) / 10, belowBandHours: Math.round(below * 10) / 10 } : {}),
      solveMs: Math.round(r.solveMs),
    };
    return { v, size: { columns: model.columns.length, rows: model.rows.length, ints } };
  };
  const relaxed = await solve(false);
  const banded = await solve(true);
  return {
    banded: banded.v,
    relaxed: relaxed.v,
    days: D,
    chains: chains.length,
    columns: banded.size.columns,
    integers: banded.size.ints,
    rows: banded.size.rows,
    formulation:
      `One MILP over ${D} daily periods × ${chains.length} chains (${banded.size.columns} columns, ${banded.size.ints} integer message counts, ${banded.size.rows} rows), HiGHS: ` +
      'maximize Σ supply rate × average supply × day/365 − Σ (lowest fixed fee quoted that day × messages + lowest bps × amount) ' +
      'subject to per-chain supply from cumulative outflows and arrivals, Σ supply ≤ the total, arrivals ≤ sends, ' +
      'outflow ≤ (L+1) × maxOutflowPerWindow over any L ≤ 7 consecutive days (fixed 24 h windows), messages ≤ maxTransfer; ' +
      `banded (headline): supply ≥ the day's highest demand ÷ the band's high mark, as a hard constraint when feasible (shortage weighed ${SHORTAGE_WEIGHT} token per token-day); ` +
      'relaxed: no band, an upper bound on every planner. Linear yield at the history\'s supply rates (rate impact ignored); moves at day boundaries without latency.',
  };
}

/** Fraction of [0, 1] where a linear function from `a` to `b` is strictly above `level`. */
export function fractionAbove(a: number, b: number, level: number): number {
  if (a > level && b > level) return 1;
  if (a <= level && b <= level) return 0;
  const x = (level - a) / (b - a); // crossing point
  return a > level ? x : 1 - x;
}
