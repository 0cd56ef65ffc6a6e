/**
 * Activity `planRebalances`: runs the planner on a snapshot and gives each transfer its deterministic
 * rebalance id. Run as an activity so the plan is recorded in history: a replay re-reads it instead of
 * re-deriving it with newer code, and a time-limited solve (not deterministic) is fine here.
 *
 * Planner (config `planner.kind`): `optimal` (default) quotes every bridge on the giver → taker pairs
 * (activities/quotes.ts: I/O, done here in the activity), converts the native fees into the asset, and
 * runs planner/optimal.ts within `planner.timeBudgetMs`, the greedy plan on the same edges as its
 * starting incumbent and floor; the plan carries the solver's certificate and the quotes it used.
 * `greedy` runs planner/greedy.ts (the baseline) and sends everything over LayerZero.
 * With `planner.objective: 'yield'` the optimal planner is planner/yield.ts (the treasury's net yield over
 * `planner.yieldHorizonSec` under the same hard liquidity rules), quoting every giver → receiver pair, and given each
 * market's utilization forecast `planner.forecastHorizonSec` ahead: the monitor carries each market's debt forecast
 * (planner/forecast.ts, one observation per tick) and passes it in `input.forecast`; the forecast debt at the horizon
 * over the supply now is the planner's `forecastUtilizationWad` ({@link forecastUtilizations}).
 *
 * Gas timing (config `planner.gasTiming`, on by default with the yield objective; planner/timing.ts `timePlan`):
 * the monitor samples each chain's base fee once per tick (`input.gas`, from the snapshot's `baseFeeWei`); a yield-only
 * transfer (its destination not in need now nor by the forecast: `chainsInNeed`) waits while its source's base fee
 * is above the window's percentile and the wait could save more than the yield it forgoes (its `gainAtHorizon` per
 * hour × `expectedWaitSec`). Only the others are sent; the held ones are logged, counted
 * (`ballast_plan_deferred_total{rule}`) and returned in `deferred` with why. Nothing is carried: the next plan proposes
 * the move again.
 *
 * In flight: each transfer the monitor has in flight is marked `withdrawn` from its source vault's
 * `outflowOf(legKey(rebalanceId, 'forward'))` at the snapshot's block ({@link markWithdrawn}: one multicall per source
 * chain), so a donor's spare is net of what it has still to withdraw (planner/greedy.ts `chainStanding`) and two ticks
 * never plan the same liquidity.
 */
import type { Hex } from 'viem';
import { collateralVaultAbi } from '../contracts/generated/abis.js';
import { DEFAULT_FORECAST_PARAMS, forecastUtilizationFromDebt, type DebtForecastState } from '../planner/forecast.js';
import { planGreedy } from '../planner/greedy.js';
import { planYield, type YieldCertificate, type YieldTransfer } from '../planner/yield.js';
import { chainsInNeed, timePlan, type BaseFeeSample, type ChainBaseFees, type DeferredTransfer, type GasTimingRule } from '../planner/timing.js';
import { CONFIG_DEFAULTS } from '../config/schema.js';
import { legKey } from './legKey.js';
import { planOptimal, plannedChains, type PlanCertificate } from '../planner/optimal.js';
import { certificateSummary } from '../planner/certificate.js';
import { rebalanceId } from '../planner/rebalanceId.js';
import type { ChainPolicy, InFlight, Snapshot } from '../planner/types.js';
import { toDisplayNumber } from '../keeper/metrics.js';
import { configuredPolicies, solanaChainOf, treasuryHolder, type KeeperContext } from './context.js';
import type { PlannedTransfer } from './types.js';
import { edgesFromQuotes, quoteRoutes, type RouteQuote } from './quotes.js';
import { frozenReason, plannerPolicies, routeKey, type CapsState } from '../workflows/caps.js';
import { clipToMandates, noMandates, type LpAllowance, type MandatePlanInput } from '../planner/mandates.js';

/** Planner used when the context does not say (config defaults). */
export const DEFAULT_PLANNER = { kind: 'optimal', timeBudgetMs: 1000 } as const;

/**
 * The plan of one tick, as recorded in the monitor's history.
 * - `planner`: which planner made it (absent in plans recorded before the optimal planner was wired: greedy).
 * - `certificate`: the optimal planner's certificate (solver status, objective, proven bound and gap,
 *   per-transfer reasons, model size; planner/optimal.ts `PlanCertificate`); absent for greedy.
 * - `quotes`: the (from, to, bridge) quotes the optimal plan's edges came from, with the price used and the
 *   reason for every edge left out; a replay re-plans from these instead of quoting again.
 * - `totals`: fees (of the transfers as planned, base units; 0 for greedy, which is not quoted) and volume.
 * - `planMs`: wall time of quoting and planning (ms).
 */
export interface PlanResult {
  /** `lpAllowances`: the LPs a transfer is attributed to, when LP mandates bounded it (planner/mandates.ts). */
  transfers: (PlannedTransfer & { lpAllowances?: LpAllowance[] })[];
  unresolved: { chainKey: string; reason: string }[];
  planner?: 'optimal' | 'greedy';
  certificate?: PlanCertificate;
  /** With `planner.objective: yield`: the yield planner's certificate (planner/yield.ts: gain, APYs before/after, gap). */
  yieldCertificate?: YieldCertificate;
  quotes?: RouteQuote[];
  totals?: { fees: bigint; volume: bigint };
  planMs?: number;
  /** With `planner.objective: yield` and a forecast in the input: the utilization forecast per chain the planner was given (WAD). */
  forecastUtilizationWad?: Record<string, bigint>;
  /**
   * With `planner.objective: yield` and gas timing on: the planned transfers held back this tick (planner/timing.ts:
   * the transfer as planned, the rules that held it, why, e.g. `waits: base fee 31.2 gwei > p50 19.8 gwei of the last
   * 24 h`, and its fixed fee). Not in `transfers`, not started; the next plan proposes them again. Absent in plans
   * recorded before gas timing and when it did not run.
   */
  deferred?: DeferredPlanTransfer[];
}

/** A transfer the plan held back (planner/timing.ts `DeferredTransfer` of a planned transfer, without its id). */
export type DeferredPlanTransfer = DeferredTransfer<Omit<PlannedTransfer, 'rebalanceId'> & { fee: bigint; latencySec: number }>;

/**
 * The monitor's base-fee history (workflows/monitor.ts, patch `gas-history`): per chainKey its samples, oldest first
 * (`atSec` on the monitor's clock, one per tick at most every few minutes, the last 24 h), and now on that clock. The
 * current base fee is the snapshot's `baseFeeWei`; a sample at `nowSec` itself is not history (planner/timing.ts).
 */
export interface PlanGasInput {
  nowSec: number;
  chains: Readonly<Record<string, readonly BaseFeeSample[]>>;
}

/**
 * The monitor's debt forecast (workflows/monitor.ts): per chainKey the state after this tick's observation
 * (planner/forecast.ts {@link DebtForecastState}), and the seconds between observations (the monitor's tick).
 */
export interface PlanForecastInput {
  stepSec: number;
  chains: Readonly<Record<string, DebtForecastState>>;
}

/** The activity's input: the monitor's snapshot, its in-flight rebalances, run-time caps, LP mandates and debt forecast. */
export interface PlanInput {
  snapshot: Snapshot;
  inFlight: InFlight[];
  caps?: CapsState;
  lp?: MandatePlanInput;
  /** Absent in plans recorded before the monitor carried it (and with the patch off): no forecast. */
  forecast?: PlanForecastInput;
  /** Absent in plans recorded before the monitor sampled base fees (and with the patch off): nothing waits for gas. */
  gas?: PlanGasInput;
}

/**
 * Plans on a `fresh` snapshot only (a partial or stale one yields no transfers and says why).
 * Run-time caps (`input.caps`, workflows/caps.ts): the effective caps replace the config's, a route cap clips
 * the transfer, and a chain the risk team froze gives nothing (its outflow window cap is 0 for the planner; it
 * may still receive) and is listed in `unresolved` with the freeze's author and reason.
 * Ids: `rebalanceId(deployment, every chain's block, route, amount, sequence in plan)`.
 * With config `lp.requireMandates`, transfers are then clipped to the LPs' mandates (`input.lp`; none = nothing moves).
 * With `planner.objective: yield`, `input.forecast` becomes the yield planner's `forecastUtilizationWad`
 * ({@link forecastUtilizations}, `planner.forecastHorizonSec` ahead), recorded in the result.
 * Records `ballast_plan_*` metrics and logs the certificate's summary.
 * @param opts.quotes plan from these quotes instead of quoting the chains (a replay passes the recorded ones).
 * @throws what planner/optimal.ts throws on malformed input (a bug, not a market condition).
 */
export async function planRebalances(ctx: KeeperContext, input: PlanInput, opts: { quotes?: readonly RouteQuote[] } = {}): Promise<PlanResult> {
  const t0 = performance.now();
  const { snapshot } = input;
  const planner: NonNullable<KeeperContext['planner']> = ctx.planner ?? DEFAULT_PLANNER;
  if (snapshot.freshness !== 'fresh') {
    return { transfers: [], unresolved: snapshot.excluded.map((e) => ({ chainKey: e.chainKey, reason: `not planned: snapshot ${snapshot.freshness}: ${e.reason}` })), planner: planner.kind };
  }
  // Run-time caps (the monitor's, set by the risk team) replace the config's; a route cap clips the transfer;
  // a frozen chain gives nothing (window cap 0) and says why.
  const configured = configuredPolicies(ctx);
  const { policies, routeMaxTransfer, frozen } = input.caps ? plannerPolicies(configured, input.caps) : { policies: configured, routeMaxTransfer: {}, frozen: {} };
  const inFlight = await markWithdrawn(ctx, snapshot, input.inFlight);
  const yieldObjective =
    planner.kind !== 'greedy' && planner.objective === 'yield'
      ? {
          horizonSec: planner.yieldHorizonSec ?? CONFIG_DEFAULTS.plannerYield.yieldHorizonSec,
          ...(input.gas && planner.gasTiming !== false ? { gasTiming: { rule: gasTimingRule(planner.gasTiming), gas: input.gas } } : {}),
          ...(input.forecast ? { forecastUtilizationWad: forecastUtilizations(snapshot, input.forecast, planner.forecastHorizonSec ?? CONFIG_DEFAULTS.plannerYield.forecastHorizonSec) } : {}),
        }
      : undefined;
  const made = planner.kind === 'greedy' ? planWithGreedy(ctx, snapshot, policies, inFlight) : await planWithOptimal(ctx, snapshot, policies, inFlight, routeMaxTransfer, planner.timeBudgetMs, opts.quotes, yieldObjective);
  const routed = clipToRouteCaps(made.transfers, policies, routeMaxTransfer).filter((t) => frozen[t.from] === undefined);
  const lp = ctx.lp?.requireMandates ? clipToMandates(routed, input.lp ?? noMandates(), policies) : { transfers: routed, dropped: [] };
  const frozenUnresolved = Object.entries(frozen)
    .filter(([k]) => policies.some((p) => p.chainKey === k))
    .map(([chainKey, f]) => ({ chainKey, reason: frozenReason(chainKey, f) }));
  const plan = { transfers: lp.transfers, unresolved: [...made.unresolved, ...lp.dropped, ...frozenUnresolved] };
  const blockRefs = snapshot.chains.map((c) => ({ chainKey: c.chainKey, blockNumber: c.blockNumber }));
  const transfers = plan.transfers.map((t, sequence) => ({
    ...t,
    rebalanceId: rebalanceId({ deployment: ctx.deployment, blockRefs, from: t.from, to: t.to, amount: t.amount, sequence }),
    // A Wormhole move waits for its VAA under Wormhole's own deadline, not LayerZero's (the monitor's default).
    ...(t.bridge === 'wormhole' && ctx.wormhole ? { deliveryDeadlineSec: ctx.wormhole.deliveryDeadlineSec } : {}),
  }));
  const result: PlanResult = {
    transfers,
    unresolved: plan.unresolved,
    planner: planner.kind,
    ...(made.certificate ? { certificate: made.certificate } : {}),
    ...(made.yieldCertificate ? { yieldCertificate: made.yieldCertificate } : {}),
    ...(made.quotes ? { quotes: made.quotes } : {}),
    ...(yieldObjective?.forecastUtilizationWad ? { forecastUtilizationWad: yieldObjective.forecastUtilizationWad } : {}),
    ...(made.deferred ? { deferred: made.deferred } : {}),
    totals: { fees: transfers.reduce((s, t) => s + (t.fee ?? 0n), 0n), volume: transfers.reduce((s, t) => s + t.amount, 0n) },
    planMs: performance.now() - t0,
  };
  recordPlan(ctx, result);
  return result;
}

/** What one planner made, before the route caps, the LP mandates and the ids. */
interface Made {
  transfers: (Omit<PlannedTransfer, 'rebalanceId'>)[];
  unresolved: { chainKey: string; reason: string }[];
  certificate?: PlanCertificate;
  yieldCertificate?: YieldCertificate;
  quotes?: RouteQuote[];
  deferred?: DeferredPlanTransfer[];
}

/** The gas timing rule of config `planner.gasTiming` (its absent fields: `CONFIG_DEFAULTS.plannerGasTiming`). */
export function gasTimingRule(cfg: { percentile?: number; windowSec?: number; expectedWaitSec?: number } | undefined): GasTimingRule {
  const d = CONFIG_DEFAULTS.plannerGasTiming;
  return { percentile: cfg?.percentile ?? d.percentile, windowSec: cfg?.windowSec ?? d.windowSec, expectedWaitSec: cfg?.expectedWaitSec ?? d.expectedWaitSec };
}

/** The greedy baseline: every transfer over LayerZero (the greedy planner does not quote), Solana's over Wormhole. */
function planWithGreedy(ctx: KeeperContext, snapshot: Snapshot, policies: ChainPolicy[], inFlight: InFlight[]): Made {
  const planned = planGreedy({ chains: snapshot.chains, policies, inFlight });
  return { transfers: planned.transfers.map((t) => ({ ...t, bridge: solanaChainOf(ctx, t.from) || solanaChainOf(ctx, t.to) ? 'wormhole' : 'layerzero' })), unresolved: planned.unresolved };
}

/**
 * The optimal planner: quotes (unless given) on the giver → taker pairs without a transfer in flight, edges
 * with the route caps as capacities, then planner/optimal.ts within the budget.
 */
async function planWithOptimal(
  ctx: KeeperContext,
  snapshot: Snapshot,
  policies: ChainPolicy[],
  inFlight: InFlight[],
  routeMaxTransfer: Record<string, bigint>,
  timeBudgetMs: number,
  given: readonly RouteQuote[] | undefined,
  yieldObjective?: { horizonSec: number; forecastUtilizationWad?: Record<string, bigint>; gasTiming?: { rule: GasTimingRule; gas: PlanGasInput } },
): Promise<Made> {
  const yieldHorizonSec = yieldObjective?.horizonSec;
  const base = { chains: snapshot.chains, policies, inFlight };
  let quotes: RouteQuote[];
  if (given !== undefined) quotes = [...given];
  else {
    const nodes = plannedChains(base);
    const busy = new Set(inFlight.flatMap((f) => [routeKey(f.from, f.to), routeKey(f.to, f.from)]));
    // The yield objective may send to any chain (not only to those above their band): every giver → other chain pair.
    const receives = (t: (typeof nodes)[number], g: (typeof nodes)[number]): boolean => t !== g && (yieldHorizonSec !== undefined || t.need > 0n);
    const pairs = nodes.filter((g) => g.spare > 0n).flatMap((g) => nodes.filter((t) => receives(t, g) && !busy.has(routeKey(g.key, t.key))).map((t) => ({ from: g.key, to: t.key })));
    quotes = await quoteRoutes(ctx, snapshot, pairs, policies);
    for (const q of quotes) if (q.error !== undefined) ctx.log.warn({ from: q.from, to: q.to, bridge: q.bridge, error: q.error }, 'edge left out of planning: no fee quote');
  }
  if (yieldHorizonSec !== undefined) {
    const forecast = yieldObjective?.forecastUtilizationWad ? { forecastUtilizationWad: yieldObjective.forecastUtilizationWad } : {};
    const edges = edgesFromQuotes(quotes, routeMaxTransfer);
    const y = await planYield({ ...base, edges }, { timeLimitMs: timeBudgetMs, horizonSec: yieldHorizonSec, assetDecimals: ctx.asset.decimals, assetSymbol: ctx.asset.symbol, ...forecast });
    ctx.log.info({ gainAtHorizon: y.certificate.gainAtHorizon.toString(), fees: y.certificate.fees.toString(), chosen: y.certificate.chosen, status: y.certificate.status }, y.certificate.summary);
    const timing = yieldObjective?.gasTiming;
    let send = y.transfers;
    let deferred: DeferredPlanTransfer[] | undefined;
    if (timing && y.transfers.length > 0) {
      // Urgent: to a chain in need now (net of in flight) or by the forecast; only the others may wait for gas.
      const baseFees: Record<string, ChainBaseFees> = {};
      for (const c of snapshot.chains) if (c.baseFeeWei !== undefined) baseFees[c.chainKey] = { history: timing.gas.chains[c.chainKey] ?? [], currentWei: c.baseFeeWei };
      const inNeed = chainsInNeed(base, y.certificate.markets.filter((m) => m.inNeedByForecast).map((m) => m.chainKey));
      const timed = timePlan({ transfers: y.transfers, inNeed, horizonSec: yieldHorizonSec, nowSec: timing.gas.nowSec, baseFees, edges }, { gas: timing.rule });
      send = timed.send;
      deferred = timed.deferred.map((d) => ({ ...d, transfer: plannedOf(d.transfer) }));
      for (const d of timed.deferred) {
        for (const rule of d.rules) ctx.metrics.planDeferred.inc({ rule });
        ctx.log.info({ from: d.transfer.from, to: d.transfer.to, amount: d.transfer.amount.toString(), bridge: d.transfer.bridge, rules: d.rules, fixedFee: d.fixedFee.toString(), gainAtHorizon: d.transfer.gainAtHorizon.toString() }, `transfer deferred: ${d.reason}`);
      }
    }
    return {
      ...(deferred ? { deferred } : {}),
      transfers: send.map(plannedOf),
      unresolved: y.unresolved,
      yieldCertificate: y.certificate,
      quotes,
    };
  }
  const plan = await planOptimal({ ...base, edges: edgesFromQuotes(quotes, routeMaxTransfer) }, { timeLimitMs: timeBudgetMs });
  return {
    transfers: plan.transfers.map((t) => ({ from: t.from, to: t.to, amount: t.amount, reason: t.reason, bridge: t.bridge, fee: t.fee, latencySec: t.latencySec })),
    unresolved: plan.unresolved,
    certificate: plan.certificate,
    quotes,
  };
}

/** A yield plan's transfer as the plan activity returns it (without what only the planner needs). */
function plannedOf(t: YieldTransfer): DeferredPlanTransfer['transfer'] {
  return { from: t.from, to: t.to, amount: t.amount, reason: t.reason, bridge: t.bridge, fee: t.fee, latencySec: t.latencySec };
}

/**
 * The yield planner's utilization forecasts from the monitor's debt forecast: per chain of the snapshot with a state
 * and a supply > 0, the forecast debt `horizonSec` ahead over the chain's supply now (planner/forecast.ts
 * `forecastUtilizationFromDebt`, Holt's default α β, the monitor's tick as the step), WAD in [0, WAD].
 * @param horizonSec config `planner.forecastHorizonSec` (seconds, > 0).
 * @throws {Error} on a step or horizon out of range (planner/forecast.ts).
 */
export function forecastUtilizations(snapshot: Snapshot, forecast: PlanForecastInput, horizonSec: number): Record<string, bigint> {
  const params = { ...DEFAULT_FORECAST_PARAMS, stepSec: forecast.stepSec, horizonSec };
  const out: Record<string, bigint> = {};
  for (const c of snapshot.chains) {
    const s = forecast.chains[c.chainKey];
    if (s === undefined || s.share.n === 0 || c.supplied <= 0n) continue;
    out[c.chainKey] = forecastUtilizationFromDebt(s, c.supplied, params);
  }
  return out;
}

/**
 * The in-flight transfers with `withdrawn` set where it is not: read from the source vault's (or Aave allocator's)
 * `outflowOf(legKey(rebalanceId, 'forward'))` at the snapshot's block of the source chain (> 0: withdrawn), in ONE
 * Multicall3 `aggregate3` per source chain (viem `multicall`, `allowFailure`), whatever the number of transfers. A
 * source that is not an EVM chain of this snapshot, or a read that fails (one call, or the chain's whole multicall),
 * counts as not yet withdrawn and is logged (the donor's spare is then net of it: the safe side, at worst one tick of
 * spare understated). Entries keep their order; those already marked are returned as they are.
 */
export async function markWithdrawn(ctx: KeeperContext, snapshot: Snapshot, inFlight: readonly InFlight[]): Promise<InFlight[]> {
  const blocks = new Map(snapshot.chains.map((c) => [c.chainKey, c.blockNumber]));
  const out: InFlight[] = inFlight.map((f) => f);
  // Per source chain, the indexes of the entries to read.
  const bySource = new Map<string, number[]>();
  inFlight.forEach((f, i) => {
    if (f.withdrawn !== undefined) return;
    if (!ctx.chains.has(f.from) || !blocks.has(f.from) || !/^0x[0-9a-fA-F]{64}$/.test(f.rebalanceId)) {
      out[i] = { ...f, withdrawn: false };
      return;
    }
    bySource.set(f.from, [...(bySource.get(f.from) ?? []), i]);
  });
  const notConfirmed = (f: InFlight, error: unknown) =>
    ctx.log.warn({ rebalanceId: f.rebalanceId, from: f.from, error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'in-flight withdraw not confirmed; its source spare is planned net of it');
  await Promise.all(
    [...bySource].map(async ([from, idx]) => {
      const c = ctx.chains.get(from)!;
      const holder = treasuryHolder(c);
      try {
        const results = await c.clients.publicClient.multicall({
          multicallAddress: c.contracts.multicall3,
          allowFailure: true,
          blockNumber: blocks.get(from)!,
          contracts: idx.map((i) => ({ address: holder, abi: collateralVaultAbi, functionName: 'outflowOf', args: [legKey(inFlight[i]!.rebalanceId as Hex, 'forward')] }) as const),
        });
        idx.forEach((i, j) => {
          const f = inFlight[i]!;
          const r = results[j];
          if (r?.status === 'success') out[i] = { ...f, withdrawn: r.result > 0n };
          else {
            notConfirmed(f, r?.error ?? 'no result');
            out[i] = { ...f, withdrawn: false };
          }
        });
      } catch (err) {
        for (const i of idx) {
          notConfirmed(inFlight[i]!, err);
          out[i] = { ...inFlight[i]!, withdrawn: false };
        }
      }
    }),
  );
  return out;
}

/** `ballast_plan_*` metrics and one log line with the certificate's summary. */
function recordPlan(ctx: KeeperContext, r: PlanResult): void {
  const m = ctx.metrics;
  const kind = r.planner ?? 'greedy';
  const fees = r.totals?.fees ?? 0n;
  m.planDurationSeconds.observe({ planner: kind }, (r.planMs ?? 0) / 1000);
  m.planTransfers.set({ planner: kind }, r.transfers.length);
  m.planFeesPlanned.set({ planner: kind }, toDisplayNumber(fees, ctx.asset.decimals));
  const c = r.certificate;
  if (c) {
    m.planObjective.set(c.objective);
    m.planBound.set(c.bound);
    m.planGapRatio.set(c.gapPct / 100);
    m.planFeeGapRatio.set(c.feeGapPct / 100);
    m.planShortfallGapRatio.set(c.shortfallGapPct / 100);
    m.planSolverStatus.reset();
    m.planSolverStatus.set({ status: c.status, chosen: c.chosen }, 1);
    m.planOptimal.set(c.optimal ? 1 : 0);
  }
  const summary = {
    planner: kind,
    transfers: r.transfers.length,
    volume: (r.totals?.volume ?? 0n).toString(),
    fees: fees.toString(),
    planMs: Math.round(r.planMs ?? 0),
    unresolved: r.unresolved.length,
    ...(c
      ? {
          status: c.status,
          optimal: c.optimal,
          objective: c.exact.objective,
          greedyObjective: c.exact.greedyObjective,
          bound: c.bound,
          gapPct: c.gapPct,
          feeGapPct: c.feeGapPct,
          shortfallGapPct: c.shortfallGapPct,
          proven: c.proven,
          messagesPerRoute: c.rules.messagesPerRoute,
          chosen: c.chosen,
          solveMs: Math.round(c.search.solveMs),
          nodes: c.search.nodes,
          edges: c.model.edges,
          edgesLeftOut: (r.quotes ?? []).filter((q) => q.error !== undefined).length,
        }
      : {}),
  };
  if (r.transfers.length > 0 || c?.optimal === false) ctx.log.info(summary, c ? `plan ${certificateSummary(c)}; objective ${c.exact.objective} (greedy ${c.exact.greedyObjective}), ${c.chosen}` : 'plan (greedy)');
  else ctx.log.debug(summary, 'plan: nothing to move');
}

/**
 * Clips each transfer to its route's `maxTransfer` (run-time route caps); a clipped amount below the larger
 * `minTransfer` of both ends drops the transfer. Amounts in base units.
 */
export function clipToRouteCaps<T extends { from: string; to: string; amount: bigint; reason: string }>(transfers: readonly T[], policies: readonly ChainPolicy[], routeMaxTransfer: Record<string, bigint>): T[] {
  const min = (k: string) => policies.find((p) => p.chainKey === k)?.caps.minTransfer ?? 0n;
  const out: T[] = [];
  for (const t of transfers) {
    const cap = routeMaxTransfer[routeKey(t.from, t.to)];
    if (cap === undefined || t.amount <= cap) {
      out.push(t);
      continue;
    }
    const floor = min(t.from) > min(t.to) ? min(t.from) : min(t.to);
    if (cap >= floor && cap > 0n) out.push({ ...t, amount: cap, reason: `${t.reason}; clipped to route cap ${cap}` });
  }
  return out;
}
