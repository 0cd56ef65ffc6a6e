/**
 * The production install works on its own: a copy of the repository's files installed with
 * `scripts/install-npm.sh --omit=dev` (what the Dockerfile does) holds no devnet or compiler package, and its
 * `ballast worker` starts against real chains and a real Temporal server and turns ready.
 *
 * The chains and Temporal come from this (development) checkout: a Temporal dev server and two anvil chains with
 * every contract deployed (devnet/devnet.ts). Only the worker runs from the production copy.
 *
 * Usage (from a development checkout, after scripts/setup.sh): `npx tsx scripts/check-production.ts [--keep]`.
 * Prints each step; exit 0 when every check holds, 1 naming the failed one. `.ci/run` runs it after the tests.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTemporalDevServer } from '../devnet/temporal.js';
import { startDevnet } from '../devnet/devnet.js';
import { DEVNET_ACCOUNTS } from '../devnet/accounts.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (m: string) => console.log(`[check-production] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Packages that must not be in the production install (devnet chains, compilers, Solidity sources, test tools). */
const DEV_ONLY = ['@foundry-rs/anvil', 'solc', 'litesvm', '@openzeppelin/contracts', '@layerzerolabs/lz-evm-protocol-v2', '@layerzerolabs/oapp-evm', '@resvg/resvg-js', '@temporalio/testing', 'eslint'];

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-prod-'));
  const app = path.join(work, 'app');
  const keep = process.argv.includes('--keep');
  try {
    say(`copying the tracked files into ${app}`);
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!fs.existsSync(path.join(ROOT, f))) continue;
      fs.mkdirSync(path.dirname(path.join(app, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(app, f));
    }

    say('installing the production set: bash scripts/install-npm.sh --omit=dev');
    const t0 = Date.now();
    execFileSync('bash', ['scripts/install-npm.sh', '--omit=dev'], { cwd: app, stdio: 'inherit' });
    say(`installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const present = DEV_ONLY.filter((p) => fs.existsSync(path.join(app, 'node_modules', p, 'package.json')));
    if (present.length) throw new Error(`the production install holds dev-only packages: ${present.join(', ')}`);
    // npm ls exits 1 on an optional peer range it calls "invalid" (ws's utf-8-validate): only its list matters here.
    const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: app, encoding: 'utf8' }).stdout;
    const leaked = DEV_ONLY.filter((p) => ls.includes(`/node_modules/${p}\n`));
    if (leaked.length) throw new Error(`npm ls --omit=dev lists ${leaked.join(', ')}`);
    say(`npm ls --omit=dev: ${ls.trim().split('\n').length - 1} packages, none of ${DEV_ONLY.join(', ')}`);

    const bin = path.join(app, 'bin', 'ballast.mjs');
    const version = execFileSync(process.execPath, [bin, '--version'], { cwd: app, encoding: 'utf8' }).trim();
    say(`ballast --version: ${version}`);

    const dev = spawnSyncResult(bin, ['dev', '--until', '1'], app);
    if (dev.code !== 1 || !/devDependencies|development install|npm ci/.test(dev.stderr)) {
      throw new Error(`ballast dev in a production install should exit 1 naming the development install; got exit ${dev.code}: ${dev.stderr.trim().split('\n').pop()}`);
    }
    say(`ballast dev refuses: ${dev.stderr.trim().split('\n').pop()}`);

    say('starting Temporal and two anvil chains from the development checkout');
    const temporal = await startTemporalDevServer({ logFile: path.join(work, 'temporal.log') });
    const devnet = await startDevnet({ workDir: path.join(work, 'devnet'), temporalAddress: temporal.address, chains: [{ key: 'alpha', chainId: 31201, eid: 40201 }, { key: 'beta', chainId: 31202, eid: 40202 }] });
    try {
      say(`ballast worker -c ${devnet.configFile} (from the production copy)`);
      const logFile = path.join(work, 'worker.log');
      const out = fs.openSync(logFile, 'w');
      const worker = spawn(process.execPath, [bin, 'worker', '-c', devnet.configFile], {
        cwd: app,
        env: { ...process.env, BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper, BALLAST_WORKFLOW_BUNDLE_CACHE: 'off' },
        stdio: ['ignore', out, out],
      });
      const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
      let ready: string | undefined;
      let failure: unknown;
      try {
        const port = await metricsPort(logFile, exited);
        ready = await readyz(port, exited);
      } catch (err) {
        failure = err;
      }
      worker.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(45_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') worker.kill('SIGKILL');
      if (failure) throw failure;
      say(`/readyz answered 200: ${ready}`);
      if (code === 'timeout') throw new Error('the worker did not exit within 45 s of SIGTERM');
      if (code !== 0) throw new Error(`the worker exited ${code} after SIGTERM (log: ${logFile})`);
      say('SIGTERM: the worker drained and exited 0');
    } finally {
      await devnet.stop();
      await temporal.stop();
    }
    say('ok');
  } finally {
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
    else say(`kept ${work}`);
  }
}

function spawnSyncResult(bin: string, args: string[], cwd: string): { code: number | null; stderr: string } {
  try {
    execFileSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { status: number | null; stderr?: string };
    return { code: e.status, stderr: e.stderr ?? '' };
  }
}

/** The metrics port from the worker's "worker ready" JSON log line. */
async function metricsPort(logFile: string, exited: Promise<number | null>): Promise<number> {
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; i < 600; i++) {
    for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const rec = JSON.parse(line) as { msg?: string; metricsPort?: number };
      if (rec.msg === 'worker ready' && rec.metricsPort) return rec.metricsPort;
    }
    if (done) throw new Error(`the worker exited before it was ready:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    await sleep(200);
  }
  throw new Error(`no "worker ready" line within 120 s:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
}

/** Polls /readyz until it answers 200 (the worker runs, Temporal and every chain answered). */
async function readyz(port: number, exited: Promise<number | null>): Promise<string> {
  let done = false;
  void exited.then(() => (done = true));
  let last = '';
  for (let i = 0; i < 300 && !done; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      last = await res.text();
      if (res.status === 200) return last;
    } catch (err) {
      last = String(err);
    }
    await sleep(200);
  }
  throw new Error(`/readyz never answered 200 (last: ${last})`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[check-production] FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
