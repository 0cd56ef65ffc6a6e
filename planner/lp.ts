/**
 * A thin, deterministic bridge to the HiGHS MILP solver (npm `highs`, HiGHS compiled to WebAssembly):
 * passes a model as arrays (or writes it as CPLEX LP text, for reading), solves it with a time limit and an
 * optional starting incumbent (a MIP start), and returns the primal values, the solver status and the
 * proven dual bound.
 *
 * Used by planner/optimal.ts (and the bench's multi-hop relaxation, bench/multihop.ts). The WebAssembly module
 * is loaded once per process (lazily). The solve itself is synchronous and blocks the event loop for up to the
 * time limit; run it in an activity.
 *
 * Compilation: by default V8 runs WebAssembly first through its baseline compiler (Liftoff) and moves a
 * function to the optimizing one (TurboFan) only after it ran hot, and a long call stays in baseline code
 * to its end. For HiGHS that made the first few hundred solves of a process 3–10× slower than needed (a
 * 16-chain plan 0.5–1.5 s of CPU instead of 0.05–0.15 s). {@link highsRuntime} therefore compiles the module
 * with TurboFan up front (`--no-liftoff --no-wasm-lazy-compilation`, set just for this one compile and put
 * back afterwards, so no other module of the process is affected): a one-time cost of a few seconds of CPU
 * (on background threads) and ~100 MB of code, after which every solve runs at full speed. Set
 * `BALLAST_HIGHS_BASELINE=1` to load it the default (baseline-first) way instead.
 */
import v8 from 'node:v8';
import type { Highs as HighsRuntime } from 'highs';

let runtime: Promise<HighsRuntime> | undefined;

/** Loads the Wasm module. `highs` ships CommonJS-flavoured types for an ESM build, so the default export is unwrapped by hand. */
async function load(): Promise<HighsRuntime> {
  const mod = (await import('highs')) as unknown as { default: unknown };
  let loader = mod.default;
  if (typeof loader !== 'function' && typeof (loader as { default?: unknown } | undefined)?.default === 'function') {
    loader = (loader as { default: unknown }).default;
  }
  if (typeof loader !== 'function') throw new Error('highs: the package has no loader function as default export; is highs@1.15.3 installed (npm install)?');
  const optimize = process.env.BALLAST_HIGHS_BASELINE !== '1';
  // V8 reads these flags when it compiles a module: set them for HiGHS only, then restore what the process
  // runs with (the V8 defaults unless the process was started with the flag itself).
  const restore = (flag: string): void => {
    if (!process.execArgv.includes(`--no-${flag}`) && !(process.env.NODE_OPTIONS ?? '').includes(`--no-${flag}`)) v8.setFlagsFromString(`--${flag}`);
  };
  if (optimize) {
    v8.setFlagsFromString('--no-liftoff');
    v8.setFlagsFromString('--no-wasm-lazy-compilation');
  }
  try {
    return await (loader as () => Promise<HighsRuntime>)();
  } finally {
    if (optimize) {
      restore('liftoff');
      restore('wasm-lazy-compilation');
    }
  }
}

/**
 * The loaded HiGHS runtime (loaded and compiled on first call, then cached for the process). Call it early
 * (e.g. when a worker starts) to take the one-time compile off the first plan's time budget.
 */
export function highsRuntime(): Promise<HighsRuntime> {
  runtime ??= load();
  return runtime;
}

/** One linear term `coef · name`. */
export interface LpTerm {
  coef: number;
  name: string;
}

/** A linear row `Σ terms (op) rhs`. */
export interface LpRow {
  name: string;
  terms: LpTerm[];
  op: '<=' | '>=' | '=';
  rhs: number;
}

/** A column with bounds; `binary` columns are 0/1 integers (bounds ignored); `integer` columns are integers within their bounds. */
export interface LpColumn {
  name: string;
  lower: number;
  upper: number;
  binary?: boolean;
  integer?: boolean;
}

/** A minimization model. Column order = the order of `columns` (kept in the LP text, hence deterministic). */
export interface LpModel {
  objective: LpTerm[];
  /** Constant added to the objective. */
  objectiveConstant: number;
  columns: LpColumn[];
  rows: LpRow[];
}

/** A finite number as LP text (`1e-07`, `12.5`), 17 significant digits so it round-trips exactly. */
export function lpNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`lpNumber: ${n} is not finite; every coefficient and bound of the model must be a finite number`);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  return n.toPrecision(17).replace(/\.?0+(e|$)/, '$1');
}

function termsText(terms: readonly LpTerm[]): string {
  if (terms.length === 0) return '0';
  return terms
    .map((t, i) => {
      const sign = t.coef < 0 ? '-' : '+';
      const abs = lpNumber(Math.abs(t.coef));
      return `${i === 0 && sign === '+' ? '' : `${sign} `}${abs} ${t.name}`;
    })
    .join(' ');
}

/**
 * CPLEX LP text of a minimization model (the format `highs` parses). Long rows are not wrapped; HiGHS has
 * no line-length limit.
 * @example toLpText({ objective: [{ coef: 1, name: 'x' }], objectiveConstant: 0, columns: [{ name: 'x', lower: 0, upper: 1 }], rows: [] })
 */
export function toLpText(m: LpModel): string {
  const out: string[] = ['Minimize'];
  const obj = termsText(m.objective.length > 0 ? m.objective : [{ coef: 0, name: m.columns[0]?.name ?? 'zero' }]);
  const constant = m.objectiveConstant === 0 ? '' : ` ${m.objectiveConstant < 0 ? '-' : '+'} ${lpNumber(Math.abs(m.objectiveConstant))}`;
  out.push(` obj: ${obj}${constant}`);
  out.push('Subject To');
  for (const r of m.rows) out.push(` ${r.name}: ${termsText(r.terms)} ${r.op} ${lpNumber(r.rhs)}`);
  out.push('Bounds');
  for (const c of m.columns) {
    if (c.binary) out.push(` 0 <= ${c.name} <= 1`);
    else out.push(` ${lpNumber(c.lower)} <= ${c.name} <= ${lpNumber(c.upper)}`);
  }
  const ints = m.columns.filter((c) => c.integer && !c.binary).map((c) => c.name);
  if (ints.length > 0) {
    out.push('General');
    for (let i = 0; i < ints.length; i += 20) out.push(` ${ints.slice(i, i + 20).join(' ')}`);
  }
  const bins = m.columns.filter((c) => c.binary).map((c) => c.name);
  if (bins.length > 0) {
    out.push('Binaries');
    for (let i = 0; i < bins.length; i += 20) out.push(` ${bins.slice(i, i + 20).join(' ')}`);
  }
  out.push('End');
  return `${out.join('\n')}\n`;
}

/** HiGHS model status codes → names (highs.constants.modelStatus). */
const STATUS_NAMES: Record<number, string> = {
  0: 'NotSet',
  1: 'LoadError',
  2: 'ModelError',
  3: 'PresolveError',
  4: 'SolveError',
  5: 'PostsolveError',
  6: 'Empty',
  7: 'Optimal',
  8: 'Infeasible',
  9: 'UnboundedOrInfeasible',
  10: 'Unbounded',
  11: 'ObjectiveBound',
  12: 'ObjectiveTarget',
  13: 'TimeLimit',
  14: 'IterationLimit',
  15: 'Unknown',
  16: 'SolutionLimit',
  17: 'Interrupted',
};

/** Outcome of {@link solveMilp}. */
export interface MilpResult {
  /** HiGHS model status name, e.g. `Optimal`, `TimeLimit`, `Infeasible`. */
  status: string;
  /** Objective of the best solution found (incl. the constant), or `undefined` when none is known. */
  objective: number | undefined;
  /** Proven lower bound (HiGHS `mip_dual_bound`, incl. the constant); `-Infinity` when none was proven. */
  bound: number;
  /** Column name → primal value of the best solution; empty when none. */
  values: Map<string, number>;
  /** Whether HiGHS accepted the starting incumbent (`setSolution` did not throw). */
  startAccepted: boolean;
  /** Wall time of parse + solve (ms). */
  solveMs: number;
  /** Branch-and-bound nodes HiGHS processed (`mip_node_count`); 0 when none was reported. */
  nodes: number;
  /** Simplex iterations HiGHS reports for the solve (`simplex_iteration_count`); 0 when none was reported. */
  lpIterations: number;
  /** The solve was stopped by `opts.stopAtAbsGap` (the incumbent was proven within its gap; status `Optimal`). */
  stoppedAtGap: boolean;
}

/**
 * The model as HiGHS's arrays (columns in `model.columns` order, rows in `model.rows` order, the matrix
 * row-wise). Passing arrays instead of LP text spares HiGHS's LP reader, which took 200–300 ms for the
 * ~3 000 columns of a 64-chain plan.
 * @throws {Error} naming the row and column when a row uses an unknown column or the same column twice.
 */
function toModelData(model: LpModel, infinity: number) {
  const index = new Map(model.columns.map((c, i) => [c.name, i]));
  if (index.size !== model.columns.length) throw new Error('solveMilp: two columns share a name; every column needs its own');
  const colCost = new Float64Array(model.columns.length);
  for (const t of model.objective) {
    const j = index.get(t.name);
    if (j === undefined) throw new Error(`solveMilp: the objective uses column "${t.name}", which is not among the model's columns`);
    colCost[j] = (colCost[j] ?? 0) + t.coef;
  }
  const starts = [0];
  const indices: number[] = [];
  const values: number[] = [];
  const rowLower = new Float64Array(model.rows.length);
  const rowUpper = new Float64Array(model.rows.length);
  model.rows.forEach((r, i) => {
    const seen = new Set<number>();
    for (const t of r.terms) {
      const j = index.get(t.name);
      if (j === undefined) throw new Error(`solveMilp: row "${r.name}" uses column "${t.name}", which is not among the model's columns`);
      if (seen.has(j)) throw new Error(`solveMilp: row "${r.name}" uses column "${t.name}" twice; merge the terms`);
      seen.add(j);
      indices.push(j);
      values.push(t.coef);
    }
    starts.push(indices.length);
    rowLower[i] = r.op === '<=' ? -infinity : r.rhs;
    rowUpper[i] = r.op === '>=' ? infinity : r.rhs;
  });
  return {
    numCols: model.columns.length,
    numRows: model.rows.length,
    offset: model.objectiveConstant,
    colCost,
    colLower: Float64Array.from(model.columns, (c) => (c.binary ? 0 : c.lower)),
    colUpper: Float64Array.from(model.columns, (c) => (c.binary ? 1 : c.upper)),
    rowLower,
    rowUpper,
    matrix: { format: 'csr' as const, numRows: model.rows.length, numCols: model.columns.length, starts: Int32Array.from(starts), indices: Int32Array.from(indices), values: Float64Array.from(values) },
    integrality: Int32Array.from(model.columns, (c) => (c.binary || c.integer ? 1 : 0)),
  };
}

/**
 * Solves a minimization MILP with HiGHS.
 * @param start optional MIP start: column name → value (missing columns are 0).
 * @param opts `timeLimitMs` wall-clock budget of the solve; `mipRelGap` relative gap at which HiGHS stops
 *   (default 1e-4 = 0.01%); `subMipHeuristics` (default false) runs HiGHS's sub-MIP heuristics (RINS, RENS,
 *   root reduced-cost). They are off by default: on the planner's models (which come with a good MIP start)
 *   they took 60–90% of the solve time, recursing up to 8 sub-MIPs deep, and found nothing the branch and
 *   bound did not find anyway; with them off the ≤ 16-chain bench instances prove optimality in 2–5× less
 *   CPU and the 32/64-chain ones prove it more often within the same budget. `rins` (default: as
 *   `subMipHeuristics`) sets RINS alone.
 *   `stopAtAbsGap(incumbent)` (optional) gives, for an incumbent's column values (model order), the absolute
 *   gap (objective units) at which that incumbent counts as proven: the solve stops as soon as
 *   `primal bound − dual bound ≤ stopAtAbsGap(incumbent)` and reports `Optimal` (used for a gap measured in
 *   fee units while the objective is dominated by weighted unmet need).
 * @throws {Error} when the model names an unknown column or HiGHS refuses it (a bug in the model builder; the
 *   message says which).
 */
export async function solveMilp(
  model: LpModel,
  start: ReadonlyMap<string, number> | undefined,
  opts: { timeLimitMs: number; mipRelGap?: number; subMipHeuristics?: boolean; rins?: boolean; stopAtAbsGap?: (colValue: Float64Array) => number },
): Promise<MilpResult> {
  const highs = await highsRuntime();
  const t0 = performance.now();
  const data = toModelData(model, highs.infinity);
  let m: ReturnType<HighsRuntime['createModel']>;
  try {
    m = highs.createModel(data);
  } catch (e) {
    throw new Error(`solveMilp: HiGHS refused the model (${(e as Error).message}); its LP text begins: ${toLpText(model).slice(0, 300)}`);
  }
  try {
    m.options.set({
      output_flag: false,
      time_limit: Math.max(0.001, opts.timeLimitMs / 1000),
      mip_rel_gap: opts.mipRelGap ?? 1e-4,
      random_seed: 0,
      mip_heuristic_run_rins: opts.rins ?? opts.subMipHeuristics ?? false,
      mip_heuristic_run_rens: opts.subMipHeuristics ?? false,
      mip_heuristic_run_root_reduced_cost: opts.subMipHeuristics ?? false,
    });
    const numCols = model.columns.length;
    const names = model.columns.map((c) => c.name);
    let startAccepted = false;
    // The absolute gap at which the current incumbent counts as proven (stopAtAbsGap); -1 = never stop early.
    let incumbentGap = -1;
    if (start !== undefined && start.size > 0) {
      const colValue = new Float64Array(numCols);
      names.forEach((n, i) => {
        colValue[i] = start.get(n) ?? 0;
      });
      try {
        m.setSolution({ colValue });
        startAccepted = true;
        if (opts.stopAtAbsGap) incumbentGap = opts.stopAtAbsGap(colValue);
      } catch {
        startAccepted = false;
      }
    }
    // HiGHS checks `time_limit` between phases only (a sub-MIP, a cut round or a long LP can run past it):
    // the interrupt callbacks, called throughout the branch and bound and the simplex, stop it at the
    // wall-clock deadline itself.
    const deadline = t0 + opts.timeLimitMs;
    let stoppedAtGap = false;
    const stopAtDeadline = (e: { interrupt(): void }): undefined => {
      if (performance.now() >= deadline) e.interrupt();
      return undefined;
    };
    const stopAtGap = (e: { interrupt(): void; data: { mip_primal_bound?: number; mip_dual_bound?: number } }): undefined => {
      if (performance.now() >= deadline) {
        e.interrupt();
        return undefined;
      }
      const primal = e.data.mip_primal_bound;
      const dual = e.data.mip_dual_bound;
      if (incumbentGap >= 0 && primal !== undefined && dual !== undefined && Number.isFinite(primal) && Number.isFinite(dual) && primal - dual <= incumbentGap) {
        stoppedAtGap = true;
        e.interrupt();
      }
      return undefined;
    };
    const stopAt = opts.stopAtAbsGap;
    const onIncumbent = (e: { data: { mip_solution?: Float64Array } }): undefined => {
      const sol = e.data.mip_solution;
      // A vector of another length (a presolved space) cannot be measured: never stop early on it.
      incumbentGap = stopAt && sol && sol.length === numCols ? stopAt(sol) : -1;
      return undefined;
    };
    m.run({
      [highs.constants.callbackType.mipInterrupt]: stopAt ? stopAtGap : stopAtDeadline,
      [highs.constants.callbackType.simplexInterrupt]: stopAtDeadline,
      ...(stopAt ? { [highs.constants.callbackType.mipImprovingSolution]: onIncumbent } : {}),
    });
    const code = m.getModelStatus() as number;
    const named = STATUS_NAMES[code] ?? `Unknown(${code})`;
    // Stopped by the deadline (either way) is a time limit, whatever the channel that noticed it; stopped by
    // the gap rule is optimal within that gap.
    const status = named === 'Interrupted' ? (stoppedAtGap ? 'Optimal' : 'TimeLimit') : named;
    const primalStatus = Number(m.info.get('primal_solution_status'));
    const values = new Map<string, number>();
    let objective: number | undefined;
    if (primalStatus === 2) {
      const col = m.getSolution().colValue;
      names.forEach((n, i) => values.set(n, col[i] ?? 0));
      objective = m.getObjectiveValue();
    }
    const rawBound = Number(m.info.get('mip_dual_bound'));
    const bound = status === 'Optimal' && objective !== undefined && !Number.isFinite(rawBound) ? objective : Number.isFinite(rawBound) ? rawBound : -Infinity;
    // Counters HiGHS did not fill (e.g. presolve solved the model) read as unavailable: report 0.
    const count = (name: string): number => {
      try {
        const v = Number(m.info.get(name));
        return Number.isFinite(v) && v > 0 ? v : 0;
      } catch {
        return 0;
      }
    };
    return { status, objective, bound, values, startAccepted, solveMs: performance.now() - t0, nodes: count('mip_node_count'), lpIterations: count('simplex_iteration_count'), stoppedAtGap: stoppedAtGap && named === 'Interrupted' };
  } finally {
    m.dispose();
  }
}
