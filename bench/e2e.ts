/**
 * `npm run bench:e2e [-- --n 20] [--concurrency 1] [--bridge layerzero|wormhole] [--warmup 2] [--relayer-poll-ms 100]
 *   [--guardian-poll-ms 100] [--label NAME] [--save FILE] [--json] [--no-eager-activities]
 *   [--dynamic-config KEY=VALUE]…`
 *
 * End-to-end latency of the rebalance saga on the devnet: a Temporal dev server (devnet/temporal.ts), two anvil
 * chains on automine with every contract, the LayerZero relayer and the Wormhole guardian (devnet/devnet.ts, as
 * `ballast dev` and the tests start them), and the keeper worker (keeper/worker.ts). It runs `--warmup` sagas
 * (not counted) and then `--n` rebalances (alternating direction, `--concurrency` at a time), and reads each
 * saga's Temporal history (`fetchHistory`) to split its start→close time into:
 *
 *   chain work   Σ execution time (final attempt, started→closed) of the activities that touch chains: the legs
 *                (withdraw, send, deposit, …); the ledger audits (`observeRebalanceFunds`) only in sagas from before
 *                `audit-local-activities` (workflows/saga.ts auditFor): since then they are local activities, run inside
 *                the workflow tasks, so their time is in "WT start→done" (the history records no activity events)
 *   deliver      the delivery waits (`awaitDelivery`), scheduled→closed, retries included: the bridge's latency
 *                as the keeper sees it
 *   retry waits  scheduled→started of the other activities whose final attempt was > 1: failed attempts and
 *                Temporal's retry backoff (e.g. a `StaleRead` audit)
 *   dispatch     scheduled→started of the other activities on their first attempt (task queue latency)
 *   books        execution of the bookkeeping activities (recordStarted, recordOutcome, …)
 *   wf tasks     the rest: workflow-task round trips between activities, start and close (split into a task
 *                waiting for the worker, scheduled→started, and the worker running it, started→completed)
 *
 * and prints p50/p95/min/max of each (ms per saga) with the chain-work share, plus every activity retry
 * (attempt > 1) by activity type and the last failure's type. `--save FILE` appends this run's summary to FILE
 * (JSON) and prints every run saved there side by side (before/after). Whatever it started (Temporal, anvils,
 * relayer, guardian, worker) is stopped before it exits, on error and on Ctrl-C too.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { keccak256, toHex, type Hex } from 'viem';
import { startTemporalDevServer, type TemporalDevServer } from '../devnet/temporal.js';
import { DEFAULT_DEVNET_CHAINS, startDevnet, type Devnet } from '../devnet/devnet.js';
import { DEVNET_ACCOUNTS } from '../devnet/accounts.js';
import { createKeeperWorker, type KeeperWorker } from '../keeper/worker.js';
import { createLogger } from '../keeper/logger.js';
import { BallastMetrics } from '../keeper/metrics.js';
import { dataConverter } from '../keeper/dataConverter.js';
import type { RebalanceInput, RebalanceResult } from '../workflows/types.js';

interface Args {
  n: number;
  concurrency: number;
  warmup: number;
  bridge: 'layerzero' | 'wormhole';
  relayerPollMs: number;
  /** The Wormhole guardian's poll interval (runs in this process, like the relayer). */
  guardianPollMs: number;
  label: string;
  save?: string;
  json: boolean;
  /** The dev server with eager activity execution (devnet/temporal.ts `eagerActivities`); `--no-eager-activities` turns it off. */
  eagerActivities: boolean;
  /** `--dynamic-config KEY=VALUE` (repeatable): more dynamic config for the dev server, to measure a setting. */
  dynamicConfigValues: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { n: 20, concurrency: 1, warmup: 2, bridge: 'layerzero', relayerPollMs: 100, guardianPollMs: 100, label: 'run', json: false, eagerActivities: true, dynamicConfigValues: [] };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`${flag}: an integer ≥ ${min} (got ${v ?? 'nothing'})`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const v = argv[i + 1];
    if (f === '--json') {
      a.json = true;
      continue;
    }
    if (f === '--no-eager-activities') {
      a.eagerActivities = false;
      continue;
    }
    i++; // every other option takes a value
    if (f === '--n') a.n = int(f, v, 1);
    else if (f === '--concurrency') a.concurrency = int(f, v, 1);
    else if (f === '--warmup') a.warmup = int(f, v, 0);
    else if (f === '--relayer-poll-ms') a.relayerPollMs = int(f, v, 10);
    else if (f === '--guardian-poll-ms') a.guardianPollMs = int(f, v, 10);
    else if (f === '--label') a.label = v ?? a.label;
    else if (f === '--save') a.save = v;
    else if (f === '--dynamic-config') a.dynamicConfigValues.push(v ?? '');
    else if (f === '--bridge') {
      if (v !== 'layerzero' && v !== 'wormhole') throw new Error(`--bridge: layerzero | wormhole (got ${v ?? 'nothing'})`);
      a.bridge = v;
    } else throw new Error(`unknown option ${f} (see the header of bench/e2e.ts)`);
  }
  return a;
}

/** Activities that read or write a chain (their execution is the saga's chain work), other than the delivery waits. */
const CHAIN_ACTIVITIES = new Set(['withdrawFromVault', 'depositToVault', 'sendOverBridge', 'observeRebalanceFunds', 'locateFunds', 'quoteBridgeFee']);
const DELIVERY_ACTIVITIES = new Set(['awaitDelivery']);

/** One saga's time split (ms), from its history. */
interface SagaTimes {
  id: string;
  outcome: string;
  totalMs: number;
  chainMs: number;
  deliverMs: number;
  retryWaitMs: number;
  dispatchMs: number;
  booksMs: number;
  wfTasksMs: number;
  /** Of `wfTasksMs`: workflow tasks waiting for the worker (scheduled→started) and run by it (started→completed). */
  wfQueueMs: number;
  wfExecMs: number;
  wfTasks: number;
  /** `activityType: lastFailureType` → extra attempts. */
  retries: Record<string, number>;
}

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
const tsMs = (t: Timestamp): number => (t ? Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);
const idKey = (x: { toString(): string } | number | null | undefined): string => String(x ?? '');

/** Splits one closed saga's history into {@link SagaTimes}. */
function sagaTimes(id: string, outcome: string, history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>): SagaTimes {
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; atMs: number }>();
  const started = new Map<string, { atMs: number; attempt: number; failure?: string }>();
  const t: SagaTimes = { id, outcome, totalMs: 0, chainMs: 0, deliverMs: 0, retryWaitMs: 0, dispatchMs: 0, booksMs: 0, wfTasksMs: 0, wfQueueMs: 0, wfExecMs: 0, wfTasks: 0, retries: {} };
  const wfScheduled = new Map<string, number>();
  const wfStarted = new Map<string, number>();
  let startMs = NaN;
  let endMs = NaN;
  let activitySpansMs = 0;
  for (const e of events) {
    const at = tsMs(e.eventTime as Timestamp);
    const eid = idKey(e.eventId as never);
    if (e.workflowExecutionStartedEventAttributes) startMs = at;
    if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionTimedOutEventAttributes || e.workflowExecutionTerminatedEventAttributes) endMs = at;
    if (e.workflowTaskScheduledEventAttributes) wfScheduled.set(eid, at);
    const wst = e.workflowTaskStartedEventAttributes;
    if (wst) {
      const sAt = wfScheduled.get(idKey(wst.scheduledEventId as never));
      if (sAt !== undefined) t.wfQueueMs += at - sAt;
      wfStarted.set(eid, at);
    }
    const wdone = e.workflowTaskCompletedEventAttributes;
    if (wdone) {
      const sAt = wfStarted.get(idKey(wdone.startedEventId as never));
      if (sAt !== undefined) t.wfExecMs += at - sAt;
      t.wfTasks += 1;
    }
    const sch = e.activityTaskScheduledEventAttributes;
    if (sch) scheduled.set(eid, { type: sch.activityType?.name ?? '?', atMs: at });
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const lf = st.lastFailure;
      started.set(idKey(st.scheduledEventId as never), { atMs: at, attempt: st.attempt ?? 1, failure: lf ? (lf.applicationFailureInfo?.type ?? (lf.timeoutFailureInfo ? 'Timeout' : 'Failure')) : undefined });
    }
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed) {
      const s = scheduled.get(idKey(closed.scheduledEventId as never));
      const r = started.get(idKey(closed.scheduledEventId as never));
      if (!s) continue;
      const spanMs = at - s.atMs;
      activitySpansMs += spanMs;
      const waitMs = r ? r.atMs - s.atMs : spanMs;
      const execMs = r ? at - r.atMs : 0;
      if (r && r.attempt > 1) {
        const k = `${s.type}: ${r.failure ?? '?'}`;
        t.retries[k] = (t.retries[k] ?? 0) + (r.attempt - 1);
      }
      if (DELIVERY_ACTIVITIES.has(s.type)) {
        t.deliverMs += spanMs;
        continue;
      }
      if (r && r.attempt > 1) t.retryWaitMs += waitMs;
      else t.dispatchMs += waitMs;
      if (CHAIN_ACTIVITIES.has(s.type)) t.chainMs += execMs;
      else t.booksMs += execMs;
    }
  }
  t.totalMs = endMs - startMs;
  t.wfTasksMs = t.totalMs - activitySpansMs;
  return t;
}

/** Nearest-rank percentile of `xs` (sorted copy), p in [0, 100]. */
function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** What one bench run saves and prints. */
interface RunSummary {
  label: string;
  at: string;
  commit?: string;
  n: number;
  concurrency: number;
  bridge: string;
  relayerPollMs: number;
  guardianPollMs?: number;
  outcomes: Record<string, number>;
  /** row → [p50, p95, min, max] ms (share rows in %). */
  rows: Record<string, [number, number, number, number]>;
  retries: Record<string, number>;
  wallMs: number;
}

const ROWS: { key: string; label: string; of: (t: SagaTimes) => number }[] = [
  { key: 'total', label: 'start→close', of: (t) => t.totalMs },
  { key: 'chain', label: 'chain work (legs+audits exec)', of: (t) => t.chainMs },
  { key: 'share', label: 'chain-work share %', of: (t) => (100 * t.chainMs) / t.totalMs },
  { key: 'deliver', label: 'deliver (sched→close)', of: (t) => t.deliverMs },
  { key: 'retry', label: 'retry waits (attempt>1)', of: (t) => t.retryWaitMs },
  { key: 'dispatch', label: 'dispatch (sched→start)', of: (t) => t.dispatchMs },
  { key: 'books', label: 'bookkeeping exec', of: (t) => t.booksMs },
  { key: 'wf', label: 'workflow tasks (rest)', of: (t) => t.wfTasksMs },
  { key: 'wfQueue', label: '  of which WT sched→start', of: (t) => t.wfQueueMs },
  { key: 'wfExec', label: '  of which WT start→done', of: (t) => t.wfExecMs },
  { key: 'wfCount', label: 'workflow tasks (count)', of: (t) => t.wfTasks },
];

function summarize(args: Args, times: SagaTimes[], wallMs: number): RunSummary {
  const rows: RunSummary['rows'] = {};
  for (const r of ROWS) {
    const xs = times.map(r.of);
    rows[r.key] = [pct(xs, 50), pct(xs, 95), Math.min(...xs), Math.max(...xs)];
  }
  const retries: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  for (const t of times) {
    outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + 1;
    for (const [k, v] of Object.entries(t.retries)) retries[k] = (retries[k] ?? 0) + v;
  }
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const commit = git.status === 0 ? `${git.stdout.trim()}${spawnSync('git', ['diff', '--quiet', 'HEAD'], { stdio: 'ignore' }).status === 0 ? '' : '+dirty'}` : undefined;
  return { label: args.label, at: new Date().toISOString(), commit, n: times.length, concurrency: args.concurrency, bridge: args.bridge, relayerPollMs: args.relayerPollMs, guardianPollMs: args.guardianPollMs, outcomes, rows, retries, wallMs };
}

/** The runs side by side: one column group (p50 p95 min max) per run. */
function table(runs: RunSummary[]): string {
  const fmt = (x: number, share: boolean) => (Number.isFinite(x) ? (share ? `${x.toFixed(0)}%` : `${Math.round(x)}`) : '-');
  const w0 = Math.max(...ROWS.map((r) => r.label.length), 'ms per saga'.length) + 2;
  const cell = (s: string) => s.padStart(7);
  const lines: string[] = [];
  lines.push(''.padEnd(w0) + runs.map((r) => `│ ${`${r.label} (n=${r.n}, c=${r.concurrency}, ${r.bridge})`.padEnd(4 * 7)} `).join(''));
  lines.push('ms per saga'.padEnd(w0) + runs.map(() => `│ ${['p50', 'p95', 'min', 'max'].map(cell).join('')} `).join(''));
  for (const row of ROWS) {
    lines.push(row.label.padEnd(w0) + runs.map((r) => `│ ${(r.rows[row.key] ?? [NaN, NaN, NaN, NaN]).map((x) => cell(fmt(x, row.key === 'share'))).join('')} `).join(''));
  }
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.retries)))].sort();
  lines.push('');
  lines.push('activity retries (extra attempts, by type: last failure)');
  if (keys.length === 0) lines.push('  none');
  for (const k of keys) lines.push(`  ${k.padEnd(w0 + 10)}${runs.map((r) => `│ ${String(r.retries[k] ?? 0).padStart(5)} `).join('')}`);
  lines.push('');
  for (const r of runs) lines.push(`${r.label}: ${r.at}${r.commit ? ` at ${r.commit}` : ''}, outcomes ${JSON.stringify(r.outcomes)}, ${r.n} sagas in ${(r.wallMs / 1000).toFixed(1)} s wall, relayer poll ${r.relayerPollMs} ms, guardian poll ${r.guardianPollMs ?? 250} ms`);
  return lines.join('\n');
}

const say = (m: string) => process.stderr.write(`[bench:e2e] ${m}\n`);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-bench-e2e-'));
  let temporal: TemporalDevServer | undefined;
  let devnet: Devnet | undefined;
  let keeper: KeeperWorker | undefined;
  let connection: Connection | undefined;
  let stopped: Promise<void> | undefined;
  let failed = false;
  const stopAll = () =>
    (stopped ??= (async () => {
      await keeper?.shutdown().catch((e: unknown) => say(`worker shutdown: ${String(e)}`));
      await connection?.close().catch(() => {});
      await devnet?.stop().catch((e: unknown) => say(`devnet stop: ${String(e)}`));
      await temporal?.stop().catch((e: unknown) => say(`Temporal stop: ${String(e)}`));
    })());
  const onSignal = () => {
    say('interrupted: stopping everything it started…');
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say(`work dir ${workDir} (temporal.log, keeper.log, anvil-*.log)`);
    temporal = await startTemporalDevServer({ logFile: path.join(workDir, 'temporal.log'), eagerActivities: args.eagerActivities, dynamicConfigValues: args.dynamicConfigValues });
    const taskQueue = `ballast-bench-e2e-${process.pid}`;
    // Two of `ballast dev`'s chains, on automine (no --block-time), as the tests run them.
    const chains = DEFAULT_DEVNET_CHAINS.slice(1, 3);
    devnet = await startDevnet({
      chains,
      workDir,
      temporalAddress: temporal.address,
      relayerPollMs: args.relayerPollMs,
      guardianPollMs: args.guardianPollMs,
      configOverrides: (c) => ({ ...c, temporal: { ...c.temporal, taskQueue } }),
    });
    const log = createLogger('ballast-bench', fs.createWriteStream(path.join(workDir, 'keeper.log')) as never);
    keeper = await createKeeperWorker(devnet.config, log, { env: { BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper }, metrics: new BallastMetrics(false) });
    const workerDone = keeper.run();
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, dataConverter });
    const [a, b] = chains.map((c) => c.key) as [string, string];
    const amount = 1_000n * 10n ** BigInt(devnet.config.asset.decimals);
    const deliveryDeadlineSec = devnet.config.layerzero.deliveryDeadlineSec;
    const runOne = async (i: number, tag: string): Promise<{ id: string; result: RebalanceResult }> => {
      const rebalanceId: Hex = keccak256(toHex(`bench-e2e:${process.pid}:${tag}:${i}`));
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      const input: RebalanceInput = { rebalanceId, from, to, amount, reason: `bench:e2e ${tag} ${i}`, deliveryDeadlineSec, bridge: args.bridge };
      const result: RebalanceResult = await client.workflow.execute('rebalanceWorkflow', { taskQueue, workflowId: rebalanceId, args: [input] });
      return { id: rebalanceId, result };
    };
    say(`devnet ready (${a} ↔ ${b}, ${args.bridge}); ${args.warmup} warm-up saga(s), then ${args.n} at concurrency ${args.concurrency}`);
    for (let i = 0; i < args.warmup; i++) await runOne(i, 'warmup');
    const done: { id: string; result: RebalanceResult }[] = [];
    let next = 0;
    const t0 = Date.now();
    const lane = async () => {
      while (next < args.n) {
        const i = next++;
        const r = await runOne(i, 'measured');
        done.push(r);
        if (r.result.outcome !== 'completed') say(`saga ${i} ${r.result.outcome}: ${r.result.reason ?? ''}`);
      }
    };
    await Promise.race([Promise.all(Array.from({ length: Math.min(args.concurrency, args.n) }, lane)), workerDone.then(() => Promise.reject(new Error('the worker stopped')))]);
    const wallMs = Date.now() - t0;
    const times: SagaTimes[] = [];
    for (const d of done) times.push(sagaTimes(d.id, d.result.outcome, await client.workflow.getHandle(d.id).fetchHistory()));
    const summary = summarize(args, times, wallMs);
    let runs = [summary];
    if (args.save) {
      const prior: RunSummary[] = fs.existsSync(args.save) ? (JSON.parse(fs.readFileSync(args.save, 'utf8')) as RunSummary[]) : [];
      runs = [...prior, summary];
      fs.writeFileSync(args.save, `${JSON.stringify(runs, null, 2)}\n`);
    }
    process.stdout.write(args.json ? `${JSON.stringify({ summary, sagas: times })}\n` : `${table(runs)}\n`);
    return 0;
  } catch (err) {
    failed = true;
    say(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (failed || process.env.BALLAST_KEEP_BENCH_LOGS) say(`logs kept in ${workDir}`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
