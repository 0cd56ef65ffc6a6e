/**
 * Start and stop real anvil chains from the `@foundry-rs/anvil` npm package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';

export interface AnvilOptions {
  /** TCP port on 127.0.0.1; 0 or omitted: the OS picks a free one (no race with other processes picking ports). */
  port?: number;
  chainId: number;
  /** Seconds between blocks; omit for automine (one block per transaction), as tests want. */
  blockTimeSec?: number;
  /** Where anvil's stdout/stderr go; default: discarded. */
  logFile?: string;
}

export interface AnvilInstance {
  rpcUrl: string;
  chainId: number;
  port: number;
  process: ChildProcess;
  /** Stops the chain (SIGTERM, then SIGKILL after 2 s). Resolves when the process has exited. */
  stop(): Promise<void>;
}

/** Path of the anvil binary shipped by `@foundry-rs/anvil-<platform>`; `ANVIL_PATH` overrides it. */
export function anvilBinaryPath(): string {
  if (process.env.ANVIL_PATH) return process.env.ANVIL_PATH;
  const require = createRequire(import.meta.url);
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  try {
    const pkgJson = require.resolve(`${pkg}/package.json`);
    return path.join(path.dirname(pkgJson), 'bin', 'anvil');
  } catch {
    throw new Error(`anvil binary not found: npm package ${pkg} is not installed. Run \`npm ci\`, or set ANVIL_PATH.`);
  }
}

/**
 * Spawns anvil on 127.0.0.1 and resolves once it answers `eth_chainId` with `chainId`. With `port` 0 or omitted
 * anvil binds a port the OS picks and prints it ("Listening on 127.0.0.1:P"): read from its output, so two
 * processes starting chains at once never race for a port.
 * @throws Error when anvil exits early, does not answer within 15 s, or another node answers on the port (the
 *   message names the port).
 * @example
 *   const chain = await startAnvil({ chainId: 31337 });
 *   // ... chain.rpcUrl ...
 *   await chain.stop();
 */
export async function startAnvil(opts: AnvilOptions): Promise<AnvilInstance> {
  const autoPort = !opts.port;
  // --silent hides the "Listening on" line that tells an OS-picked port: without it anvil logs to stdout, which is
  // read until that line and then copied to logFile (or dropped).
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--chain-id', String(opts.chainId), ...(autoPort ? [] : ['--silent'])];
  if (opts.blockTimeSec !== undefined) args.push('--block-time', String(opts.blockTimeSec));
  const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  let port = opts.port ?? 0;
  let seen = '';
  const onOut = (b: Buffer) => {
    log?.write(b);
    if (port === 0) {
      seen += b.toString('utf8');
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) port = Number(m[1]);
    }
  };
  child.stdout!.on('data', onOut);
  child.stderr!.on('data', (b: Buffer) => log?.write(b));
  child.once('exit', () => log?.end());
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`anvil on port ${port || 'auto'} exited early with code ${exited} (is the port in use?)`);
    if (port !== 0) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        });
        if (res.ok) {
          const id = Number(((await res.json()) as { result?: string }).result);
          if (id !== opts.chainId) {
            child.kill('SIGKILL');
            throw new Error(`another node answers on port ${port} (chain id ${id}, expected ${opts.chainId})`);
          }
          break;
        }
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('another node')) throw err;
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil on port ${port || 'auto'} did not answer within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const rpcUrl = `http://127.0.0.1:${port}`;
  return {
    rpcUrl,
    chainId: opts.chainId,
    port,
    process: child,
    stop: () => stopProcess(child),
  };
}

/** SIGTERM a child, SIGKILL it after `graceMs`; resolves when it has exited. */
export function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
