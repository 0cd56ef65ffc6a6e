/**
 * Replay of recorded workflow histories, for operators (`ballast replay`) and CI (test/histories):
 *
 * - determinism: a history (fetched from Temporal, or a JSON file as `temporal workflow show -o json` and
 *   {@link historyToJSON} write it) is replayed against the current workflow code with
 *   `Worker.runReplayHistories` (one bundle for all), the keeper's bundle and bigint data converter. The bundle is
 *   the one the worker runs ({@link loadReplayBundle}): the prebuilt `dist/workflow-bundle.js` while its manifest
 *   matches the sources (or the file `BALLAST_WORKFLOW_BUNDLE` pins), else bundled from the sources, with a line
 *   saying which and why;
 * - decisions: the monitor's recorded plans are re-derived from the recorded inputs with the current
 *   planner (the `planRebalances` function the activity runs) and the current config, and diffed.
 *
 * Decisions come from the history's activity events: each `planRebalances` ActivityTaskScheduled event
 * carries the exact input the plan was made from (the snapshot `readSnapshot` returned that tick and the
 * in-flight rebalances), its ActivityTaskCompleted event the plan that was acted on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { Payload } from '@temporalio/common';
import { payloadConverter } from '../workflows/payloadConverter.js';
import { dataConverter } from './dataConverter.js';
import { workflowsPath as keeperWorkflowsPath } from './worker.js';
import { DEFAULT_PREBUILT_BUNDLE, loadWorkerWorkflowBundle, loadWorkflowBundle, type WorkerWorkflowBundle } from './workflowBundle.js';
import { planRebalances, type PlanResult } from '../activities/plan.js';
import type { KeeperContext } from '../activities/context.js';
import type { InFlight, Snapshot } from '../planner/types.js';
import type { PlannedTransfer } from '../activities/types.js';

export { historyToJSON, type History };

/** A history to replay and the workflow id it is reported under. */
export interface NamedHistory {
  workflowId: string;
  history: History;
  /** Where it came from (file path or `temporal:<id>/<runId>`), for messages. */
  source: string;
}

/** Outcome of replaying one history. */
export interface ReplayOutcome {
  workflowId: string;
  source: string;
  ok: boolean;
  /** `DeterminismViolationError` when the current code issues different commands than the history recorded. */
  errorName?: string;
  error?: string;
}

/**
 * Reads a history JSON file (the format of `temporal workflow show -o json` and {@link historyToJSON}).
 * The workflow id is the file name without `.json` (replay does not need the original one).
 * @throws Error naming the file when it is unreadable or not a history (no `events` array).
 */
export function loadHistoryFile(file: string): NamedHistory {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read history file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!raw || typeof raw !== 'object' || !Array.isArray((raw as { events?: unknown }).events)) {
    throw new Error(`${file} is not a workflow history: expected a JSON object with an "events" array (as \`temporal workflow show -o json\` writes)`);
  }
  return { workflowId: path.basename(file).replace(/\.json$/, ''), history: historyFromJSON(raw), source: file };
}

/** Writes `history` as JSON (pretty, the same format {@link loadHistoryFile} reads). */
export function saveHistoryFile(file: string, history: History): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
}

/** Options of {@link replayHistories} and {@link loadReplayBundle}. */
export interface ReplayOptions {
  /** The workflows entry to replay against (absolute, or relative to the working directory); default the keeper's `workflows/index.ts`. */
  workflowsPath?: string;
  /** The prebuilt bundle used while it matches the sources; default `dist/workflow-bundle.js` (`npm run build:bundle`). */
  prebuiltFile?: string;
  /** Where `BALLAST_WORKFLOW_BUNDLE` is read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives the one line saying which bundle the replay runs and, for a fallback, why; default: stderr. */
  log?: (line: string) => void;
}

const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * The workflow bundle a replay runs, chosen as the worker chooses its own (keeper/workflowBundle.ts
 * `loadWorkerWorkflowBundle`), so a replay checks the code production runs:
 * - the keeper's workflows (no `workflowsPath`, or the keeper's own): the file `BALLAST_WORKFLOW_BUNDLE` pins, else the
 *   prebuilt bundle while its manifest matches the sources, else bundled from the sources (the on-disk cache when no
 *   bundled file changed) — the fallback logged with its reason (no prebuilt bundle, or why it was refused);
 * - another entry (`--workflows`, a candidate change): always bundled from its sources (a prebuilt or pinned bundle
 *   is the keeper's code, not the candidate's).
 * Logs exactly one line through `opts.log`: `workflow bundle: prebuilt (<file>)`, `workflow bundle:
 * BALLAST_WORKFLOW_BUNDLE (<file>)…`, or `workflow bundle: … falling back to the sources (…)`.
 * @returns the bundle's code, its source (`prebuilt`, `env`, `cache`, `bundled`) and file.
 * @throws Error naming `BALLAST_WORKFLOW_BUNDLE` when the file it names is missing or torn; the bundler's error when
 *   the sources cannot be bundled.
 * @example const b = await loadReplayBundle({ log: console.error }); // b.source === 'prebuilt' after `npm run build:bundle`
 */
export async function loadReplayBundle(opts: ReplayOptions = {}): Promise<WorkerWorkflowBundle> {
  const log = opts.log ?? stderrLine;
  const workflowsPath = path.resolve(opts.workflowsPath ?? keeperWorkflowsPath);
  const params = { workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath };
  if (workflowsPath !== path.resolve(keeperWorkflowsPath)) {
    const loaded = await loadWorkflowBundle(params);
    log(`workflow bundle: ${workflowsPath} bundled from its sources${loaded.cached ? ' (bundle cache)' : ''}: another entry than the keeper's, so no prebuilt bundle`);
    return { code: loaded.code, source: loaded.cached ? 'cache' : 'bundled' };
  }
  const prebuiltFile = path.resolve(opts.prebuiltFile ?? DEFAULT_PREBUILT_BUNDLE);
  const b = await loadWorkerWorkflowBundle({ ...params, prebuiltFile, env: opts.env ?? process.env });
  if (b.source === 'prebuilt') log(`workflow bundle: prebuilt (${b.file})`);
  else if (b.source === 'env') log(`workflow bundle: BALLAST_WORKFLOW_BUNDLE (${b.file})${b.warning ? `: ${b.warning}` : ''}`);
  else {
    const why = b.warning ?? `no prebuilt bundle at ${prebuiltFile} (\`npm run build:bundle\` writes it)`;
    log(`workflow bundle: ${why}; falling back to the sources (${b.source === 'cache' ? 'bundle cache: no bundled file changed' : 'bundled now'})`);
  }
  return b;
}

/**
 * Replays every history against the workflows at `opts.workflowsPath` (default: the keeper's
 * `workflows/index.ts`, through the prebuilt bundle when it matches: {@link loadReplayBundle}) with the keeper's
 * data converter, one bundle for all. Never throws for a replay failure: each outcome says ok or carries the error
 * (a nondeterminism is `DeterminismViolationError`).
 * @throws Error only when no bundle can be had (the workflow code cannot be bundled, or `BALLAST_WORKFLOW_BUNDLE`
 *   names a missing or torn file).
 */
export async function replayHistories(histories: NamedHistory[], opts: ReplayOptions = {}): Promise<ReplayOutcome[]> {
  const bySource = new Map(histories.map((h) => [h.workflowId, h.source]));
  const out: ReplayOutcome[] = [];
  const bundle = await loadReplayBundle(opts);
  const results = Worker.runReplayHistories(
    { workflowBundle: { code: bundle.code }, dataConverter, replayName: 'ballast-replay' },
    histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
  );
  for await (const r of results) {
    const source = bySource.get(r.workflowId) ?? r.workflowId;
    if (r.error) out.push({ workflowId: r.workflowId, source, ok: false, errorName: r.error.name, error: r.error.message });
    else out.push({ workflowId: r.workflowId, source, ok: true });
  }
  return out;
}

/** One tick of the monitor as recorded: the plan's input and the plan that was acted on. */
export interface RecordedDecision {
  /** 1-based index of the `planRebalances` call in the history. */
  tick: number;
  /** Event id of the ActivityTaskScheduled event. */
  scheduledEventId: number;
  /** Workflow time the plan was scheduled (ms since epoch), when the event has one. */
  atMs?: number;
  input: { snapshot: Snapshot; inFlight: InFlight[] };
  /** The recorded plan; undefined when the activity did not complete (failed, timed out, or still running). */
  recorded?: PlanResult;
}

const eventTimeMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined => {
  if (!t || t.seconds === undefined || t.seconds === null) return undefined;
  const s = Number(typeof t.seconds === 'object' ? String(t.seconds) : t.seconds);
  return s * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
};

const decode = <T>(p: Payload | null | undefined): T => payloadConverter.fromPayload<T>(p as Payload);

/**
 * The monitor's recorded decisions in a history: one per `planRebalances` activity, with its input
 * (decoded with the keeper's payload converter) and, when it completed, its result.
 * Histories of other workflows (a rebalance saga) give an empty list.
 */
export function recordedDecisions(history: History): RecordedDecision[] {
  const byScheduled = new Map<number, RecordedDecision>();
  const out: RecordedDecision[] = [];
  for (const e of history.events ?? []) {
    const id = Number(e.eventId ?? 0);
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched && sched.activityType?.name === 'planRebalances') {
      const input = decode<{ snapshot: Snapshot; inFlight: InFlight[] }>(sched.input?.payloads?.[0]);
      const d: RecordedDecision = { tick: out.length + 1, scheduledEventId: id, atMs: eventTimeMs(e.eventTime as never), input };
      byScheduled.set(id, d);
      out.push(d);
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const d = byScheduled.get(Number(done.scheduledEventId ?? 0));
      if (d) d.recorded = decode<PlanResult>(done.result?.payloads?.[0]);
    }
  }
  return out;
}

/** A transfer as the diff compares it: route, bridge and amount (the rebalance id follows from them). */
type Move = Pick<PlannedTransfer, 'from' | 'to' | 'amount'> & { bridge?: string; rebalanceId?: string; reason?: string };

/** How one tick's plan differs. */
export interface PlanDiff {
  status: 'same' | 'different';
  same: Move[];
  /** Transfers the current code plans that the recorded plan did not have. */
  added: Move[];
  /** Transfers the recorded plan had that the current code does not plan. */
  removed: Move[];
  /** Same route, different amount or bridge. */
  changed: { recorded: Move; current: Move; fields: string[] }[];
  /** Chains left unresolved (out of band, no help possible): recorded vs now, when they differ. */
  unresolved?: { recorded: string[]; current: string[] };
}

/**
 * Bridge of a transfer for comparison: plans recorded before the planner chose a bridge moved over
 * LayerZero, the only bridge then.
 */
const bridgeOf = (t: Move): string => t.bridge ?? 'layerzero';

/**
 * Diffs two plans transfer by transfer. Transfers are matched by route (`from → to`, in plan order
 * when a route appears twice); a matched pair with a different amount or bridge is `changed`.
 * @example
 *   diffPlans({ transfers: [a], unresolved: [] }, { transfers: [a], unresolved: [] }).status // 'same'
 */
export function diffPlans(recorded: { transfers: Move[]; unresolved: { chainKey: string; reason: string }[] }, current: { transfers: Move[]; unresolved: { chainKey: string; reason: string }[] }): PlanDiff {
  const pending = [...current.transfers];
  const diff: PlanDiff = { status: 'same', same: [], added: [], removed: [], changed: [] };
  for (const r of recorded.transfers) {
    const i = pending.findIndex((c) => c.from === r.from && c.to === r.to);
    if (i < 0) {
      diff.removed.push(r);
      continue;
    }
    const c = pending.splice(i, 1)[0]!;
    const fields: string[] = [];
    if (c.amount !== r.amount) fields.push('amount');
    if (bridgeOf(c) !== bridgeOf(r)) fields.push('bridge');
    if (fields.length) diff.changed.push({ recorded: r, current: c, fields });
    else diff.same.push(c);
  }
  diff.added.push(...pending);
  const ur = recorded.unresolved.map((u) => u.chainKey).sort();
  const uc = current.unresolved.map((u) => u.chainKey).sort();
  if (ur.join(',') !== uc.join(',')) diff.unresolved = { recorded: ur, current: uc };
  if (diff.added.length || diff.removed.length || diff.changed.length || diff.unresolved) diff.status = 'different';
  return diff;
}

/** One re-derived tick: the recorded plan, what the current code and config decide, and the diff. */
export interface DecisionReplay extends RecordedDecision {
  current: PlanResult;
  diff: PlanDiff;
}

/**
 * Re-runs the current planner (`planRebalances` of activities/plan.ts, exactly what the activity
 * runs) on every recorded input with `ctx` (the current config's policies and deployment), and diffs
 * it with the recorded plan. Ticks whose plan was not recorded (activity failed) are diffed against
 * an empty plan.
 */
export async function rederiveDecisions(history: History, ctx: KeeperContext): Promise<DecisionReplay[]> {
  const out: DecisionReplay[] = [];
  for (const d of recordedDecisions(history)) {
    // The optimal planner re-plans from the quotes recorded with the plan (no live quoting in a replay); a plan
    // recorded without quotes (greedy, or before the optimal planner) gives it no edges.
    const current = await planRebalances(ctx, d.input, { quotes: d.recorded?.quotes ?? [] });
    const recorded = d.recorded ?? { transfers: [], unresolved: [] };
    out.push({ ...d, current, diff: diffPlans(recorded, current) });
  }
  return out;
}
