/**
 * `ballast replay`: replay a workflow's recorded history against the current code (determinism check),
 * or with `--decisions` re-derive the monitor's plans from the recorded snapshots and diff them with
 * what the current code and config decide. See keeper/replay.ts.
 *
 *   ballast replay <workflowId> -c ballast.yaml [--run-id R]          # history from Temporal
 *   ballast replay --file history.json                                # history from a file
 *   ballast replay <workflowId> -c ballast.yaml --decisions [--json]  # plan diff per tick
 *
 * Exit status: 0 replayed fine (or, with --decisions, every tick decided the same), 1 nondeterminism
 * (or decisions differ, or an error), 2 usage.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { connectClient } from '../keeper/client.js';
import type { DecisionReplay, NamedHistory } from '../keeper/replay.js';
import { createLogger } from '../keeper/logger.js';
import { processIo, toJson, UsageError, type CliContext, type CliIo } from './io.js';

/** The replayer (Temporal worker, planner) loads only when this command runs: other commands start without it. */
const replayer = () => import('../keeper/replay.js');

interface ReplayOpts {
  config?: string;
  runId?: string;
  file?: string;
  decisions?: boolean;
  json?: boolean;
  workflows?: string;
}

/**
 * Where the Temporal runtime's log lines (the replayer's nondeterminism details) go: the stderr of the replay
 * running now. The runtime, and the logger given to it, are process-wide and installed once (keeper/worker.ts
 * `installTemporalLogging`), so its logger writes here and each replay points this at its own io.
 */
let temporalLogSink: CliIo['err'] | undefined;

/**
 * Routes the Temporal runtime's logs (level ERROR) to {@link temporalLogSink}. When the process already has a
 * runtime (an in-process host that runs workers or replays itself), its logging stays as the host set it.
 */
async function installReplayLogging(): Promise<void> {
  const { installTemporalLogging } = await import('../keeper/worker.js');
  const destination = { write: (s: string) => (temporalLogSink ?? processIo.err)(s.replace(/\n$/, '')) };
  try {
    installTemporalLogging(createLogger('ballast-replay', destination as never), 'ERROR');
  } catch (err) {
    if (!(err instanceof Error && err.name === 'IllegalStateError')) throw err; // "Runtime singleton has already been instantiated"
  }
}

async function fetchNamedHistory(workflowId: string | undefined, o: ReplayOpts, cmd: Command): Promise<NamedHistory> {
  if (o.file) return (await replayer()).loadHistoryFile(o.file);
  if (!workflowId) throw new UsageError('give a workflow id (history from Temporal) or --file <history.json>', cmd);
  if (!o.config) throw new UsageError('-c/--config is needed to reach Temporal (temporal.address, namespace)', cmd);
  const client = await connectClient(loadConfig(o.config));
  try {
    const handle = client.workflow.getHandle(workflowId, o.runId);
    const history = await handle.fetchHistory();
    return { workflowId, history, source: `temporal:${workflowId}${o.runId ? `/${o.runId}` : ''}` };
  } finally {
    await client.connection.close();
  }
}

const fmtMove = (t: { from: string; to: string; amount: bigint; bridge?: string }) => `${t.from} → ${t.to} ${t.amount}${t.bridge ? ` via ${t.bridge}` : ''}`;

function printDecisions(ticks: DecisionReplay[], io: CliIo): void {
  for (const t of ticks) {
    const at = t.atMs ? new Date(t.atMs).toISOString() : '?';
    const d = t.diff;
    const recordedNote = t.recorded ? '' : ' (no recorded plan: the activity did not complete)';
    io.out(`tick ${t.tick} at ${at} (snapshot ${t.input.snapshot.freshness}, ${t.input.inFlight.length} in flight): ${d.status}${recordedNote}`);
    for (const s of d.same) io.out(`  = ${fmtMove(s)}`);
    for (const a of d.added) io.out(`  + ${fmtMove(a)}   (current code plans it; the recorded plan did not)`);
    for (const r of d.removed) io.out(`  - ${fmtMove(r)}   (recorded; the current code does not plan it)`);
    for (const c of d.changed) io.out(`  ~ ${fmtMove(c.recorded)}  ⇒  ${fmtMove(c.current)}   (${c.fields.join(', ')})`);
    if (d.unresolved) io.out(`  unresolved chains: recorded [${d.unresolved.recorded.join(', ')}] now [${d.unresolved.current.join(', ')}]`);
  }
  const differ = ticks.filter((t) => t.diff.status !== 'same').length;
  io.out(ticks.length === 0 ? 'no planRebalances activity in this history (not a monitor history?)' : `${ticks.length} tick(s): ${ticks.length - differ} same, ${differ} different`);
}

/**
 * Registers `ballast replay` on `program`; its action prints through `ctx.io` and sets `ctx.exitCode` (1 on
 * nondeterminism or differing decisions).
 * @throws UsageError (from the action) for a workflow id and --file together, neither, or --decisions or a
 *   Temporal fetch without -c.
 * @example
 *   registerReplay(program, ctx); // ballast replay ballast-monitor-prod -c ballast.yaml --decisions
 */
export function registerReplay(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('replay [workflowId]')
    .description("replay a workflow's history against the current code (determinism check); --decisions re-derives each recorded plan with the current planner and config and prints the diff")
    .option('-c, --config <file>', 'config file (Temporal address; with --decisions also the planning policies)')
    .option('--run-id <runId>', 'a specific run (default: the latest run of the workflow id)')
    .option('--file <history.json>', 'replay a history saved on disk (`temporal workflow show -o json`, or test/histories/*.json) instead of fetching it')
    .option('--decisions', "re-derive the monitor's plans from the recorded snapshots and diff them with the recorded plans")
    .option('--json', 'print JSON')
    .option('--workflows <path>', 'replay against this workflows entry file instead of the keeper\'s workflows/index.ts (e.g. a candidate change)')
    .action(async (workflowId: string | undefined, o: ReplayOpts, cmd: Command) => {
      if (o.file && workflowId) throw new UsageError('give either a workflow id or --file, not both', cmd);
      if (o.decisions && !o.config) throw new UsageError('--decisions needs -c/--config: the current planning policies come from it', cmd);
      const named = await fetchNamedHistory(workflowId, o, cmd);
      if (o.decisions) {
        const config = loadConfig(o.config!);
        const [{ rederiveDecisions }, { buildReadOnlyKeeperContext }] = await Promise.all([replayer(), import('../keeper/runtime.js')]);
        const ticks = await rederiveDecisions(named.history, buildReadOnlyKeeperContext(config));
        if (o.json) io.out(toJson({ source: named.source, ticks: ticks.map((t) => ({ tick: t.tick, atMs: t.atMs, recorded: t.recorded, current: t.current, diff: t.diff })) }));
        else printDecisions(ticks, io);
        ctx.exitCode = ticks.every((t) => t.diff.status === 'same') ? 0 : 1;
        return;
      }
      // The SDK's replay logs (nondeterminism details) go to stderr as JSON; the verdict to stdout.
      const [{ replayHistories }] = await Promise.all([replayer(), installReplayLogging()]);
      const previousSink = temporalLogSink;
      temporalLogSink = io.err;
      let r: Awaited<ReturnType<typeof replayHistories>>[number] | undefined;
      try {
        [r] = await replayHistories([named], { workflowsPath: o.workflows ? path.resolve(o.workflows) : undefined, log: io.err });
      } finally {
        temporalLogSink = previousSink;
      }
      if (o.json) io.out(toJson(r));
      else if (r!.ok) io.out(`ok: ${named.source} (${named.history.events?.length ?? 0} events) replays deterministically against ${o.workflows ? o.workflows : 'the current workflow code'}`);
      else io.out(`FAILED: ${named.source}: ${r!.errorName}: ${r!.error}`);
      ctx.exitCode = r!.ok ? 0 : 1;
    });
}
