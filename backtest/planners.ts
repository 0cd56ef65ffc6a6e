/**
 * The backtest's planner registry: every planner the engine (backtest/run.ts) can replay, one entry each.
 * Adding a planner is one entry in {@link PLANNERS} (and its name in {@link PLANNER_NAMES}): the engine, the
 * bound's scores, the report, the JSON and the CLI's `--planners` take it from here.
 *
 * | name      | what it is                                                                                    |
 * |-----------|-----------------------------------------------------------------------------------------------|
 * | `static`  | never moves: the initial allocation held for the whole history (the reference of every score) |
 * | `greedy`  | the keeper's baseline on its cheapest bridge (planner/baseline.ts `planGreedyOnEdges`)        |
 * | `optimal` | the band-keeping MILP (planner/optimal.ts `planOptimal`, `timeLimitMs` per step)              |
 * | `yield`   | the yield-aware planner (planner/yield.ts `planYield`), loaded at run time; when it cannot load |
 * |           | the entry says why and the backtest leaves it out with that note                              |
 *
 * Every entry plans on the same input as the keeper (chain states with their oracle verdicts, policies, in
 * flight, quoted edges) plus {@link StepContext} (the day's supply rates, RAY): a planner that does not need
 * the rates ignores them.
 */
import { highsRuntime } from '../planner/lp.js';
import { planGreedyOnEdges, planOptimal } from '../planner/optimal.js';
import type { OptimalInput, PlanCertificate, RoutedTransfer } from '../planner/optimal.js';

/** The planners a backtest can run (registry order = report column order). */
export const PLANNER_NAMES = ['static', 'greedy', 'optimal', 'yield'] as const;
export type PlannerName = (typeof PLANNER_NAMES)[number];

/** What an entry knows of the step besides the keeper's input. */
export interface StepContext {
  asset: string;
  step: number;
  /** Step time, seconds from the start of the history. */
  tSec: number;
  /** History day index of the step. */
  day: number;
  /** chainKey → the market's supply APR on this day (RAY, 1e27 = 100%/yr). */
  supplyRateRay: ReadonlyMap<string, bigint>;
  /** MILP budget per plan (ms). */
  timeLimitMs: number;
  /** The asset's token decimals. */
  assetDecimals?: number;
}

/** One step's plan as the engine executes it. */
export interface PlannedStep {
  transfers: RoutedTransfer[];
  /** The plan's totals (base units). */
  totals: { fees: bigint; volume: bigint; shortfall: bigint };
  /** The MILP's certificate when the planner has one: which plan was chosen and whether it was proved optimal (tallied in the report). */
  certificate?: Pick<PlanCertificate, 'chosen' | 'optimal'>;
  /** Chains the planner put in need by its utilization forecast alone (planner/yield.ts `markets[].inNeedByForecast`): transfers to them are urgent for the gas timing (planner/timing.ts `chainsInNeed`). */
  inNeedByForecast?: string[];
}

/** One registered planner. */
export interface PlannerEntry {
  name: PlannerName;
  /** One line for the report. */
  description: string;
  /**
   * Makes the planner ready (loads modules, compiles HiGHS outside the timed plans) and says whether it can run.
   * @returns `undefined` when it can, else why not (one line; the backtest then leaves it out with that note).
   */
  load(): Promise<string | undefined>;
  /**
   * Plans one step.
   * @throws whatever the planner throws (the engine adds the asset, planner and step to the message).
   */
  plan(input: OptimalInput, ctx: StepContext): Promise<PlannedStep>;
}

const NOTHING: PlannedStep = { transfers: [], totals: { fees: 0n, volume: 0n, shortfall: 0n } };

/** The yield planner's horizon in the backtest: the gain a move buys is counted over 7 days (the keeper replans every step). */
export const YIELD_HORIZON_SEC = 7 * 86_400;

/** The yield planner's entry point once loaded (see {@link loadYieldPlanner}). */
type YieldPlanFn = (input: OptimalInput, ctx: StepContext) => Promise<PlannedStep>;
let yieldPlan: YieldPlanFn | undefined;
let yieldWhyNot: string | undefined;

/** How far ahead the backtest's yield planner forecasts each market's utilization (planner/forecast.ts): one day. */
export const YIELD_FORECAST_HORIZON_SEC = 86_400;

/**
 * Loads planner/yield.ts `planYield` at run time (a failure to load leaves the entry out with the reason instead of
 * breaking the other planners). The backtest calls it with the step's `timeLimitMs`, {@link YIELD_HORIZON_SEC},
 * no extra gas (the edges' fixed fees already carry the keeper's gas), and:
 * - per chain the day's supply rate of the history as a FIXED rate (`fixedSupplyRateRay`): the backtest pays the
 *   history's rates whatever the simulated supply (backtest/run.ts, item 8), so the planner is scored on the same
 *   price-taker model it plans with;
 * - per chain a utilization forecast {@link YIELD_FORECAST_HORIZON_SEC} ahead, from the DEBT (planner/forecast.ts
 *   `stepDebtForecast` / `forecastUtilizationFromDebt`, as the keeper's monitor: Holt's smoothing with its default
 *   α β of the debt as a share of twice the first supply seen, one observation per step, state carried from step to
 *   step of one run and restarted at step 0; the forecast debt over the supply now): a chain forecast above its high
 *   mark is served before it crosses, and a donor gives for yield only what keeps its forecast under its high mark.
 * @returns `undefined` when loaded, else why not.
 */
async function loadYieldPlanner(): Promise<string | undefined> {
  if (yieldPlan) return undefined;
  let mod: typeof import('../planner/yield.js');
  let fc: typeof import('../planner/forecast.js');
  try {
    mod = await import('../planner/yield.js');
    fc = await import('../planner/forecast.js');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    yieldWhyNot = code === 'ERR_MODULE_NOT_FOUND' ? 'planner/yield.ts is not in this checkout' : `planner/yield.ts failed to load: ${(e as Error).message}`;
    return yieldWhyNot;
  }
  if (typeof mod.planYield !== 'function') return (yieldWhyNot = 'planner/yield.ts has no planYield export');
  await highsRuntime();
  // Forecast state per chain of the run in progress (runs are sequential; step 0 starts a new one).
  let states = new Map<string, import('../planner/forecast.js').DebtForecastState>();
  let lastStep = -1;
  yieldPlan = async (input, ctx) => {
    if (ctx.step <= lastStep) states = new Map();
    const stepSec = ctx.step > 0 ? ctx.tSec / ctx.step : 3600;
    lastStep = ctx.step;
    const params = { ...fc.DEFAULT_FORECAST_PARAMS, stepSec, horizonSec: YIELD_FORECAST_HORIZON_SEC };
    const forecastUtilizationWad: Record<string, bigint> = {};
    for (const c of input.chains) {
      if (c.supplied <= 0n) continue;
      // The forecast follows the DEBT (the borrowers' demand), not the utilization, which our own moves change: the
      // keeper's monitor does the same (planner/forecast.ts, one implementation).
      const s = fc.stepDebtForecast(states.get(c.chainKey), c, params);
      states.set(c.chainKey, s);
      forecastUtilizationWad[c.chainKey] = fc.forecastUtilizationFromDebt(s, c.supplied, params);
    }
    const p = await mod.planYield(input, {
      timeLimitMs: ctx.timeLimitMs,
      horizonSec: YIELD_HORIZON_SEC,
      fixedSupplyRateRay: Object.fromEntries(ctx.supplyRateRay),
      forecastUtilizationWad,
      ...(ctx.assetDecimals !== undefined ? { assetDecimals: ctx.assetDecimals } : {}),
      assetSymbol: ctx.asset,
    });
    const c = p.certificate;
    const certificate = { chosen: c.chosen, optimal: c.optimal };
    const inNeedByForecast = c.markets.filter((m) => m.inNeedByForecast).map((m) => m.chainKey);
    return { transfers: p.transfers, totals: { fees: p.totals.fees, volume: p.totals.volume, shortfall: p.totals.shortfall }, certificate, inNeedByForecast };
  };
  return undefined;
}

/** The registry: one entry per planner (see the module doc). */
export const PLANNERS: Readonly<Record<PlannerName, PlannerEntry>> = {
  static: {
    name: 'static',
    description: 'never moves: the initial allocation, held',
    load: () => Promise.resolve(undefined),
    plan: () => Promise.resolve(NOTHING),
  },
  greedy: {
    name: 'greedy',
    description: 'the keeper baseline (band-keeping, cheapest bridge per transfer)',
    load: () => Promise.resolve(undefined),
    plan: (input) => Promise.resolve(planGreedyOnEdges(input)),
  },
  optimal: {
    name: 'optimal',
    description: 'band-keeping MILP: least unmet need, then least fees',
    load: async () => {
      await highsRuntime();
      return undefined;
    },
    plan: async (input, ctx) => {
      const p = await planOptimal(input, { timeLimitMs: ctx.timeLimitMs });
      return { transfers: p.transfers, totals: p.totals, certificate: p.certificate };
    },
  },
  yield: {
    name: 'yield',
    description: 'yield-aware planner (planner/yield.ts): net yield under the band',
    load: loadYieldPlanner,
    plan: (input, ctx) => {
      if (!yieldPlan) throw new Error(`the yield planner is not loaded: ${yieldWhyNot ?? 'call load() first'}`);
      return yieldPlan(input, ctx);
    },
  },
};

/**
 * Parses a `--planners` list (`all`, or names separated by commas) into registry order.
 * @throws Error naming the unknown name and the known ones.
 */
export function parsePlannerList(text: string): PlannerName[] {
  if (text.trim() === 'all') return [...PLANNER_NAMES];
  const names = text.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const n of names) {
    if (!(PLANNER_NAMES as readonly string[]).includes(n)) throw new Error(`unknown planner "${n}"; known: all, ${PLANNER_NAMES.join(', ')}`);
  }
  if (names.length === 0) throw new Error(`no planner named; known: all, ${PLANNER_NAMES.join(', ')}`);
  return PLANNER_NAMES.filter((p) => names.includes(p));
}
