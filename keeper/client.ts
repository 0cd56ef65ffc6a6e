/**
 * Temporal client side of the keeper: start the monitor, read its status, pause and resume it.
 */
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { BallastConfig } from '../config/index.js';
import { dataConverter } from './dataConverter.js';
import { monitorStatusQuery, pauseSignal, resumeSignal, snapshotQuery, type MonitorStatus } from '../workflows/messages.js';
import type { MonitorInput } from '../workflows/types.js';
import type { Snapshot } from '../planner/types.js';
import { addressSource, resolveTemporalConnection, tlsHint, type Env } from './temporalConnection.js';

/** Workflow id of a deployment's monitor: `ballast-monitor-<deployment>`. */
export function monitorWorkflowId(deployment: string): string {
  return `ballast-monitor-${deployment}`;
}

/** Options of {@link connectClient}. */
export interface ConnectClientOptions {
  /**
   * When it returns true, a failed gRPC call is not retried any more (the client's default retry policy applies
   * until then). A caller that closes the connection sets it first, so no retry timer outlives the channel.
   */
  stopRetrying?: () => boolean;
  /** Environment for the `TEMPORAL_*` variables and the env-config profile (keeper/temporalConnection.ts); default `process.env`. */
  env?: Env;
}

/**
 * The cause of a failed connection to Temporal, short and without the SDK's wrapping: the TypeScript client's
 * `Failed to connect before the deadline`, or the Rust core's `tonic::transport::Error(… ConnectionRefused …)`
 * as `connection refused`, a DNS failure as `DNS lookup failed: …`.
 * @example temporalConnectCause(err) // 'connection refused'
 */
export function temporalConnectCause(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/kind: ConnectionRefused/.test(msg)) return 'connection refused';
  if (/kind: ConnectionReset/.test(msg)) return 'connection reset';
  if (/kind: TimedOut|deadline|timed out/i.test(msg)) return `no answer in time (${msg.replace(/^.*?(Failed to connect before the deadline|timed out).*$/is, '$1')})`;
  const dns = /"dns error"[^"]*error: "([^"]+)"/.exec(msg);
  if (dns) return `DNS lookup failed: ${dns[1]}`;
  const inner = /message: "([^"]+)"/.exec(msg) ?? /error: "([^"]+)"/.exec(msg);
  if (inner) return inner[1]!;
  return msg.split('\n')[0]!.trim() || 'unknown error';
}

/**
 * Connects a bigint-aware client, to the address, namespace, TLS and API key that
 * keeper/temporalConnection.ts resolves from the config's `temporal` section, the `TEMPORAL_*` variables and an
 * env-config profile.
 * @example const client = await connectClient(config, { stopRetrying: () => closing });
 * @throws Error naming the address and where it came from (`temporal.address` unless a variable or a profile set
 *   it) when Temporal does not answer; the resolver's error when a TLS file or the profile cannot be read.
 */
export async function connectClient(config: BallastConfig, opts: ConnectClientOptions = {}): Promise<Client> {
  const retry = defaultGrpcRetryOptions();
  const stopRetrying = opts.stopRetrying;
  const interceptors = stopRetrying
    ? [makeGrpcRetryInterceptor({ ...retry, retryableDecider: (attempt, status) => !stopRetrying() && retry.retryableDecider(attempt, status) })]
    : undefined;
  const temporal = resolveTemporalConnection(config.temporal, opts.env ? { env: opts.env } : {});
  try {
    const connection = await Connection.connect({ ...temporal.connectOptions, connectTimeout: '5s', interceptors });
    return new Client({ connection, namespace: temporal.namespace, dataConverter });
  } catch (err) {
    const source = addressSource(temporal);
    throw new Error(`cannot reach Temporal at ${temporal.address}${source === 'temporal.address' ? '' : ` (${source})`}${tlsHint(temporal)} (${temporalConnectCause(err)}; is the server running? check ${source})`);
  }
}

/**
 * Connects to Temporal (`connectClient`), runs `fn` with the client, and closes the connection whatever `fn` did.
 * @throws what `connectClient` or `fn` throws.
 */
export async function withClient<T>(config: BallastConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(config);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** Starts the deployment's monitor unless it already runs. Returns its workflow id and whether it was started now. */
export async function startMonitor(client: Client, config: BallastConfig): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = monitorWorkflowId(config.deployment);
  const input: MonitorInput = {
    deployment: config.deployment,
    tickIntervalSec: config.tick.intervalSec,
    maxTicksBeforeContinueAsNew: config.tick.maxTicksBeforeContinueAsNew,
    deliveryDeadlineSec: config.layerzero.deliveryDeadlineSec,
  };
  try {
    await client.workflow.start('monitorWorkflow', { taskQueue: config.temporal.taskQueue, workflowId, args: [input] });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}

/** The monitor's status and latest snapshot. */
export async function monitorStatus(client: Client, deployment: string): Promise<{ status: MonitorStatus; snapshot?: Snapshot }> {
  const h = client.workflow.getHandle(monitorWorkflowId(deployment));
  const [status, snapshot] = await Promise.all([h.query(monitorStatusQuery), h.query(snapshotQuery)]);
  return { status, snapshot };
}

/** Pause or resume planning. */
export async function setPaused(client: Client, deployment: string, paused: boolean, reason?: string): Promise<void> {
  const h = client.workflow.getHandle(monitorWorkflowId(deployment));
  if (paused) await h.signal(pauseSignal, { reason });
  else await h.signal(resumeSignal);
}

/**
 * Why a refused Update was refused, whichever layer refused it (the validator or the handler): the messages of
 * the error's causes joined with `sep` (WorkflowUpdateFailedError's own message says only that the Update failed).
 * Any other error: its message and its causes'.
 */
export function updateRefusal(err: unknown, sep = ' / '): string {
  const parts: string[] = [];
  for (let e: unknown = err instanceof WorkflowUpdateFailedError ? err.cause : err; e instanceof Error; e = (e as { cause?: unknown }).cause) parts.push(e.message);
  return parts.join(sep);
}
