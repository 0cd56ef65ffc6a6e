/**
 * Start and stop real anvil chains from the `@foundry-rs/anvil` npm package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';

export interface AnvilOptions {
  port: number;
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
 * Spawns anvil on 127.0.0.1:`port` and resolves once it answers `eth_chainId`.
 * @throws Error when anvil exits early or does not answer within 15 s (the message names the port).
 * @example
 *   const chain = await startAnvil({ port: 8545, chainId: 31337 });
 *   // ... chain.rpcUrl ...
 *   await chain.stop();
 */
export async function startAnvil(opts: AnvilOptions): Promise<AnvilInstance> {
  const args = ['--host', '127.0.0.1', '--port', String(opts.port), '--chain-id', String(opts.chainId), '--silent'];
  if (opts.blockTimeSec !== undefined) args.push('--block-time', String(opts.blockTimeSec));
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', out, out] });
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const rpcUrl = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`anvil on port ${opts.port} exited early with code ${exited} (is the port in use?)`);
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil on port ${opts.port} did not answer within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    rpcUrl,
    chainId: opts.chainId,
    port: opts.port,
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
