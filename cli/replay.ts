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

/** JSON with every bigint as an exact decimal string. */
const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2);

const usage = (msg: string): never => {
  console.error(`ballast replay: ${msg}`);
  process.exit(2);
};

async function fetchNamedHistory(workflowId: string | undefined, o: ReplayOpts): Promise<NamedHistory> {
  if (o.file) return (await replayer()).loadHistoryFile(o.file);
  if (!workflowId) return usage('give a workflow id (history from Temporal) or --file <history.json>');
  if (!o.config) return usage('-c/--config is needed to reach Temporal (temporal.address, namespace)');
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

function printDecisions(ticks: DecisionReplay[]): void {
  for (const t of ticks) {
    const at = t.atMs ? new Date(t.atMs).toISOString() : '?';
    const d = t.diff;
    const recordedNote = t.recorded ? '' : ' (no recorded plan: the activity did not complete)';
    console.log(`tick ${t.tick} at ${at} (snapshot ${t.input.snapshot.freshness}, ${t.input.inFlight.length} in flight): ${d.status}${recordedNote}`);
    for (const s of d.same) console.log(`  = ${fmtMove(s)}`);
    for (const a of d.added) console.log(`  + ${fmtMove(a)}   (current code plans it; the recorded plan did not)`);
    for (const r of d.removed) console.log(`  - ${fmtMove(r)}   (recorded; the current code does not plan it)`);
    for (const c of d.changed) console.log(`  ~ ${fmtMove(c.recorded)}  ⇒  ${fmtMove(c.current)}   (${c.fields.join(', ')})`);
    if (d.unresolved) console.log(`  unresolved chains: recorded [${d.unresolved.recorded.join(', ')}] now [${d.unresolved.current.join(', ')}]`);
  }
  const differ = ticks.filter((t) => t.diff.status !== 'same').length;
  console.log(ticks.length === 0 ? 'no planRebalances activity in this history (not a monitor history?)' : `${ticks.length} tick(s): ${ticks.length - differ} same, ${differ} different`);
}

/**
 * Registers `ballast replay` on `program`.
 * @example
 *   registerReplay(program); // ballast replay ballast-monitor-prod -c ballast.yaml --decisions
 */
export function registerReplay(program: Command): void {
  program
    .command('replay [workflowId]')
    .description("replay a workflow's history against the current code (determinism check); --decisions re-derives each recorded plan with the current planner and config and prints the diff")
    .option('-c, --config <file>', 'config file (Temporal address; with --decisions also the planning policies)')
    .option('--run-id <runId>', 'a specific run (default: the latest run of the workflow id)')
    .option('--file <history.json>', 'replay a history saved on disk (`temporal workflow show -o json`, or test/histories/*.json) instead of fetching it')
    .option('--decisions', "re-derive the monitor's plans from the recorded snapshots and diff them with the recorded plans")
    .option('--json', 'print JSON')
    .option('--workflows <path>', 'replay against this workflows entry file instead of the keeper\'s workflows/index.ts (e.g. a candidate change)')
    .action(async (workflowId: string | undefined, o: ReplayOpts) => {
      if (o.file && workflowId) usage('give either a workflow id or --file, not both');
      if (o.decisions && !o.config) usage('--decisions needs -c/--config: the current planning policies come from it');
      const named = await fetchNamedHistory(workflowId, o);
      if (o.decisions) {
        const config = loadConfig(o.config!);
        const [{ rederiveDecisions }, { buildReadOnlyKeeperContext }] = await Promise.all([replayer(), import('../keeper/runtime.js')]);
        const ticks = await rederiveDecisions(named.history, buildReadOnlyKeeperContext(config));
        if (o.json) console.log(toJson({ source: named.source, ticks: ticks.map((t) => ({ tick: t.tick, atMs: t.atMs, recorded: t.recorded, current: t.current, diff: t.diff })) }));
        else printDecisions(ticks);
        process.exitCode = ticks.every((t) => t.diff.status === 'same') ? 0 : 1;
        return;
      }
      // The SDK's replay logs (nondeterminism details) go to stderr as JSON; the verdict to stdout.
      const [{ replayHistories }, { installTemporalLogging }] = await Promise.all([replayer(), import('../keeper/worker.js')]);
      installTemporalLogging(createLogger('ballast-replay', process.stderr as never), 'ERROR');
      const [r] = await replayHistories([named], { workflowsPath: o.workflows ? path.resolve(o.workflows) : undefined });
      if (o.json) console.log(toJson(r));
      else if (r!.ok) console.log(`ok: ${named.source} (${named.history.events?.length ?? 0} events) replays deterministically against ${o.workflows ? o.workflows : 'the current workflow code'}`);
      else console.log(`FAILED: ${named.source}: ${r!.errorName}: ${r!.error}`);
      process.exitCode = r!.ok ? 0 : 1;
    });
}
