/**
 * Replay of recorded workflow histories, for operators (`ballast replay`) and CI (test/histories):
 *
 * - determinism: a history (fetched from Temporal, or a JSON file as `temporal workflow show -o json` and
 *   {@link historyToJSON} write it) is replayed against the current workflow code with
 *   `Worker.runReplayHistories` (one bundle for all), the keeper's bundle and bigint data converter;
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
import { loadWorkflowBundle } from './workflowBundle.js';
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

/**
 * Replays every history against the workflows at `workflowsPath` (default: the keeper's
 * `workflows/index.ts`) with the keeper's data converter, bundling once. Never throws for a replay
 * failure: each outcome says ok or carries the error (a nondeterminism is `DeterminismViolationError`).
 * @throws Error only when the workflow code cannot be bundled.
 */
export async function replayHistories(histories: NamedHistory[], opts: { workflowsPath?: string } = {}): Promise<ReplayOutcome[]> {
  const bySource = new Map(histories.map((h) => [h.workflowId, h.source]));
  const out: ReplayOutcome[] = [];
  const bundle = await loadWorkflowBundle({ workflowsPath: opts.workflowsPath ?? keeperWorkflowsPath, payloadConverterPath: dataConverter.payloadConverterPath });
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
