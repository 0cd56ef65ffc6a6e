/**
 * The keeper worker: registers the workflows and the activities on the task queue and serves `/metrics`,
 * `/healthz` and `/readyz` (keeper/health.ts). Shutdown is graceful: polling stops, running activities get
 * `shutdownGraceTime` (default 30 s) to finish, then the metrics server and the connection close.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { BallastConfig } from '../config/index.js';
import { createActivities } from '../activities/index.js';
import { dataConverter } from './dataConverter.js';
import { loadWorkerWorkflowBundle } from './workflowBundle.js';
import { addressSource, describeTemporalConnection, resolveTemporalConnection, sdkTelemetryOptions, tlsHint, type TemporalConnectionSettings } from './temporalConnection.js';
import { buildKeeperContext } from './runtime.js';
import { highsRuntime } from '../planner/lp.js';
import { BallastMetrics, serveMetrics, type ReadinessReport } from './metrics.js';
import { createReadiness } from './health.js';
import { temporalConnectCause } from './client.js';
import { loadKeeperAccount } from './keys.js';
import { loadSolanaKeypair } from '../chains/solana/keys.js';
import type { Logger } from './logger.js';

/** Path of the workflows entry for the bundler. */
export const workflowsPath = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'workflows', 'index.ts');

/** What the process's Temporal Runtime was installed with (undefined: not installed by this module yet). */
let installed: { sdkMetricsAddress?: string } | undefined;

/**
 * Installs the process's Temporal Runtime: routes the SDK's own logs (worker state, activity retries, workflow
 * `log.*`) into `log` at `level` and above, and, with `sdkMetricsAddress` (config `temporal.sdkMetricsAddress`),
 * serves the SDK's own metrics for Prometheus at `http://<sdkMetricsAddress>/metrics`, names prefixed `temporal_`
 * (keeper/temporalConnection.ts `sdkTelemetryOptions`), next to Ballast's `ballast_*` on `metrics.port`.
 * Call once per process before creating a worker or a native connection (the Runtime is installed once per
 * process); later calls are no-ops, and one asking for SDK metrics the first call did not set up logs a warning.
 * @throws Error naming `temporal.sdkMetricsAddress` when the SDK cannot serve its metrics there.
 */
export function installTemporalLogging(log: Logger, level: LogLevel = 'WARN', opts: { sdkMetricsAddress?: string } = {}): void {
  if (installed) {
    if (opts.sdkMetricsAddress && installed.sdkMetricsAddress !== opts.sdkMetricsAddress) {
      log.warn({ sdkMetricsAddress: opts.sdkMetricsAddress, installedWith: installed.sdkMetricsAddress ?? 'no SDK metrics' }, 'Temporal Runtime already installed in this process: temporal.sdkMetricsAddress not applied');
    }
    return;
  }
  try {
    Runtime.install({
      // Ballast's processes handle SIGINT/SIGTERM themselves (graceful shutdown of everything they started).
      shutdownSignals: [],
      telemetryOptions: sdkTelemetryOptions(opts.sdkMetricsAddress),
      logger: new DefaultLogger(level, ({ level: l, message, meta }) => {
        const fields = { temporal: true, ...(meta ?? {}) };
        if (l === 'ERROR') log.error(fields, message);
        else if (l === 'WARN') log.warn(fields, message);
        else if (l === 'INFO') log.info(fields, message);
        else log.debug(fields, message);
      }),
    });
  } catch (err) {
    if (!opts.sdkMetricsAddress) throw err;
    throw new Error(`cannot serve the Temporal SDK's metrics at ${opts.sdkMetricsAddress} (temporal.sdkMetricsAddress): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  installed = { ...(opts.sdkMetricsAddress ? { sdkMetricsAddress: opts.sdkMetricsAddress } : {}) };
  if (opts.sdkMetricsAddress) log.info({ sdkMetrics: `http://${opts.sdkMetricsAddress}/metrics` }, 'Temporal SDK metrics served (temporal_*)');
}

export interface KeeperWorker {
  worker: Worker;
  metrics: BallastMetrics;
  metricsPort: number;
  /** Runs until `shutdown()` (or a fatal error). */
  run(): Promise<void>;
  /** Graceful: stop polling, let running activities finish, close the metrics server and the connection. */
  shutdown(): Promise<void>;
  /** The `/readyz` report (worker running, Temporal answering, every chain's RPC answered recently). */
  readiness(): Promise<ReadinessReport>;
}

/** Default of how long a starting worker waits for Temporal, seconds. */
export const DEFAULT_TEMPORAL_CONNECT_WAIT_SEC = 60;

/** `BALLAST_TEMPORAL_CONNECT_WAIT_SEC` (a non-negative number of seconds), else {@link DEFAULT_TEMPORAL_CONNECT_WAIT_SEC}. */
export function temporalConnectWaitSec(env: NodeJS.ProcessEnv): number {
  const raw = env.BALLAST_TEMPORAL_CONNECT_WAIT_SEC;
  if (raw === undefined || raw === '') return DEFAULT_TEMPORAL_CONNECT_WAIT_SEC;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`BALLAST_TEMPORAL_CONNECT_WAIT_SEC must be a non-negative number of seconds (got "${raw}")`);
  return n;
}

/**
 * Connects to Temporal at `target` (an address, plaintext; or the settings keeper/temporalConnection.ts resolved:
 * address, TLS, API key, metadata), waiting for it when it does not answer yet (a worker started before the server,
 * or while it restarts): attempts with a backoff of 0.5 s doubling up to 5 s, each failure logged (warn) with the
 * address, where it came from and the cause, for at most `waitSec` in all.
 * @throws Error naming `temporal.address` (or the variable or profile that set the address) and the last cause once
 *   `waitSec` has passed (a supervisor may restart the process: the exit is clean and says why).
 */
export async function connectTemporalWithBackoff(target: string | TemporalConnectionSettings, log: Logger, opts: { waitSec: number; sleep?: (ms: number) => Promise<void> }): Promise<NativeConnection> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const address = typeof target === 'string' ? target : target.address;
  const options = typeof target === 'string' ? { address } : target.connectOptions;
  const source = typeof target === 'string' ? 'temporal.address' : addressSource(target);
  const over = typeof target === 'string' ? '' : tlsHint(target);
  const started = Date.now();
  const deadline = started + opts.waitSec * 1000;
  let delayMs = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await NativeConnection.connect(options);
      if (attempt > 1) log.info({ temporal: address, attempts: attempt, waitedSec: Math.round((Date.now() - started) / 100) / 10 }, 'Temporal answered; continuing start-up');
      return connection;
    } catch (err) {
      const cause = temporalConnectCause(err);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`cannot reach Temporal at ${address} (${source})${over} after ${attempt} attempt(s) over ${Math.round((Date.now() - started) / 1000)} s: ${cause}; check ${source} and that the server runs`);
      }
      const wait = Math.min(delayMs, left);
      log.warn({ temporal: address, attempt, cause, retryInMs: wait, giveUpInSec: Math.ceil(left / 1000) }, `Temporal at ${address} (${source})${over} not reachable (${cause}); retrying`);
      await sleep(wait);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}

/**
 * Connects to Temporal (address, namespace, TLS and API key from the config's `temporal` section, the `TEMPORAL_*`
 * variables and an env-config profile: keeper/temporalConnection.ts; waiting for it, see
 * {@link connectTemporalWithBackoff}) and creates the worker, with the prebuilt workflow bundle when it matches the
 * sources (keeper/workflowBundle.ts `loadWorkerWorkflowBundle`).
 * @throws Error when the key is missing (names the env variable), a TLS file or the env-config profile cannot be
 *   read (names the key and the path), Temporal stays unreachable past the wait (names `temporal.address`), the
 *   pinned `BALLAST_WORKFLOW_BUNDLE` is missing, or the metrics port is taken.
 */
export async function createKeeperWorker(
  config: BallastConfig,
  log: Logger,
  opts: {
    env?: NodeJS.ProcessEnv;
    metrics?: BallastMetrics;
    workerOptions?: Partial<WorkerOptions>;
    /** How long start-up waits for Temporal to answer (default `BALLAST_TEMPORAL_CONNECT_WAIT_SEC`, else 60 s; 0 = one attempt). */
    connectWaitSec?: number;
  } = {},
): Promise<KeeperWorker> {
  installTemporalLogging(log, (process.env.BALLAST_TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'INFO', config.temporal.sdkMetricsAddress ? { sdkMetricsAddress: config.temporal.sdkMetricsAddress } : {});
  const temporal = resolveTemporalConnection(config.temporal, { env: opts.env ?? process.env });
  const account = loadKeeperAccount(config, opts.env);
  const solanaKeeper = config.solana ? loadSolanaKeypair({ env: config.solana.keeper.keyEnv, ...(config.solana.keeper.keypairFile ? { file: config.solana.keeper.keypairFile } : {}) }, opts.env ?? process.env) : undefined;
  const metrics = opts.metrics ?? new BallastMetrics();
  const ctx = buildKeeperContext(config, account, metrics, log, solanaKeeper);
  // The optimal planner's solver is compiled once per process (planner/lp.ts: seconds of CPU, on background
  // threads): start now, so the first tick's plan does not wait for it.
  if (config.planner.kind === 'optimal') void highsRuntime().catch((err: unknown) => log.error({ error: err instanceof Error ? err.message : String(err) }, 'HiGHS (optimal planner) failed to load; plans fail until it does'));
  metrics.setLegSlos({ layerzero: config.layerzero.deliveryDeadlineSec, ...(config.wormhole ? { wormhole: config.wormhole.deliveryDeadlineSec } : {}) });
  for (const c of [...config.chains, ...(config.solana?.chains ?? [])]) metrics.oracleMaxStalenessSeconds.set({ chain: c.key }, c.oracle.maxStalenessSec);
  log.info({ temporal: describeTemporalConnection(temporal) }, 'connecting to Temporal');
  const connection = await connectTemporalWithBackoff(temporal, log, { waitSec: opts.connectWaitSec ?? temporalConnectWaitSec(opts.env ?? process.env) });
  // The webpack bundle of the workflows: BALLAST_WORKFLOW_BUNDLE, else the prebuilt one while it matches the sources,
  // else the on-disk cache while no bundled file changed, else bundled now (keeper/workflowBundle.ts).
  const bundle = await loadWorkerWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath, env: opts.env ?? process.env });
  if (bundle.warning) log.warn({ workflowBundle: bundle.source, file: bundle.file }, bundle.warning);
  log.info({ workflowBundle: bundle.source, ...(bundle.file ? { file: bundle.file } : {}) }, `workflow bundle: ${bundle.source}${bundle.file ? ` (${bundle.file})` : ''}`);
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: { code: bundle.code },
    activities: createActivities(ctx),
    dataConverter,
    // SIGTERM drains: running legs (idempotent, heartbeating) get this long to finish before they are cancelled.
    shutdownGraceTime: '30 seconds',
    // Heartbeats carry the leg journal (activities/legJournal.ts: a leg's signed transaction, recorded before it is
    // broadcast): flush them within 200 ms, not after the default 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '200 milliseconds',
    ...opts.workerOptions,
  });
  const readiness = createReadiness({
    workerState: () => worker.getState(),
    temporalPing: () => connection.workflowService.getSystemInfo({}),
    chains: Object.fromEntries([
      ...[...ctx.chains.values()].map((c) => [c.chainKey, () => c.clients.publicClient.getBlockNumber({ cacheTime: 0 })] as const),
      ...[...(ctx.solana?.chains.values() ?? [])].map((c) => [c.chainKey, async () => BigInt(await c.connection.getSlot(c.commitment))] as const),
    ]),
    metrics,
  });
  metrics.readinessProbe = readiness;
  const server = await serveMetrics(metrics.registry, config.metrics.port, config.metrics.host, { readiness });
  log.info({ taskQueue: config.temporal.taskQueue, temporal: temporal.address, namespace: temporal.namespace, metrics: `http://${config.metrics.host}:${server.port}/metrics`, metricsPort: server.port, keeper: account.address, ...(solanaKeeper ? { solanaKeeper: solanaKeeper.publicKey.toBase58() } : {}) }, 'worker ready');
  let running: Promise<void> | undefined;
  return {
    worker,
    metrics,
    metricsPort: server.port,
    readiness,
    run() {
      running ??= worker.run().finally(async () => {
        await server.close();
        await connection.close();
      });
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') {
        log.info({ runningLegs: metrics.legs.size }, 'worker draining: no new tasks; running activities finish (grace 30 s)');
        worker.shutdown();
      }
      await running;
      log.info('worker stopped');
    },
  };
}
