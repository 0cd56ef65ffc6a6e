/**
 * The worker's probes and shutdown on real parts: `ballast worker` as a child process against a Temporal
 * dev server and two anvil chains. `/healthz` and `/readyz` answer JSON, `/metrics` carries the readiness
 * and SLO gauges, every log line is JSON, and SIGTERM drains and exits 0. The readiness logic itself
 * (RPC answered recently) runs against a real anvil that is stopped mid-test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, http } from 'viem';
import { startTemporalDevServer, findFreePort, type TemporalDevServer } from '../../devnet/temporal.js';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { startAnvil } from '../../devnet/anvil.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { repoDir } from '../../config/fixtures.js';
import { createReadiness } from '../../keeper/health.js';
import { BallastMetrics, serveMetrics } from '../../keeper/metrics.js';
import { TWO_CHAINS } from '../workflows/harness.js';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('ballast worker: /healthz, /readyz, JSON logs, graceful SIGTERM', () => {
  let temporal: TemporalDevServer;
  let devnet: Devnet;
  let child: ChildProcess;
  let workDir: string;
  const out: string[] = [];
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let port = 0;

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-health-'));
    temporal = await startTemporalDevServer({ logFile: path.join(workDir, 'temporal.log') });
    devnet = await startDevnet({ chains: TWO_CHAINS, workDir, temporalAddress: temporal.address, metricsPort: await findFreePort() });
    child = spawn(process.execPath, [path.join(repoDir(), 'bin', 'ballast.mjs'), 'worker', '-c', devnet.configFile], {
      cwd: repoDir(),
      env: { ...process.env, BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper, BALLAST_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      out.push(...lines.filter((l) => l.trim()));
    });
    child.stderr!.on('data', (b: Buffer) => out.push(`[stderr] ${b.toString()}`));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const ready = await waitFor('the worker ready log line', () => out.map((l) => JSON.parse(l) as { msg?: string; metricsPort?: number }).find((l) => l.msg === 'worker ready'), 90_000);
    port = ready.metricsPort!;
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await devnet?.stop();
    await temporal?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('/healthz answers 200 JSON with the pid', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const body = (await r.json()) as { status: string; pid: number };
    assert.equal(body.status, 'ok');
    assert.equal(body.pid, child.pid);
  });

  test('/readyz is 200 once the worker runs, Temporal answers and both chains answered, each check named', async () => {
    const body = await waitFor('ready', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      const b = (await r.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> };
      return r.status === 200 && b.ready ? b : undefined;
    });
    assert.deepEqual(Object.keys(body.checks).sort(), ['chain:alpha', 'chain:beta', 'temporal', 'worker']);
    assert.equal(body.checks.worker!.detail, 'RUNNING');
    assert.match(body.checks['chain:alpha']!.detail, /answered .* s ago at block \d+/);
  });

  test('/metrics carries ballast_ready 1, the leg SLOs (deliver = each bridge\'s deliveryDeadlineSec) and the oracle staleness limits', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /^ballast_ready 1$/m);
    assert.match(text, new RegExp(`^ballast_leg_slo_seconds\\{kind="collateral",bridge="layerzero",leg="deliver"\\} ${devnet.config.layerzero.deliveryDeadlineSec}$`, 'm'));
    if (devnet.config.wormhole) assert.match(text, new RegExp(`^ballast_leg_slo_seconds\\{kind="collateral",bridge="wormhole",leg="deliver"\\} ${devnet.config.wormhole.deliveryDeadlineSec}$`, 'm'));
    assert.match(text, /^ballast_leg_slo_seconds\{kind="collateral",leg="withdraw"\} 120$/m);
    assert.match(text, /^ballast_leg_slo_seconds\{kind="capacity",leg="reserve"\} 120$/m);
    assert.match(text, new RegExp(`^ballast_oracle_max_staleness_seconds\\{chain="alpha"\\} ${devnet.config.chains[0]!.oracle.maxStalenessSec}$`, 'm'));
    assert.match(text, /^ballast_chain_rpc_up\{chain="beta"\} 1$/m);
  });

  test('SIGTERM drains the worker and exits 0; every stdout line is a JSON log record', async () => {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`worker still running 45 s after SIGTERM; output:\n${out.join('\n')}`)), 45_000))),
    ]).finally(() => clearTimeout(timer)); // a pending 45 s timer would keep the test process alive that long
    assert.equal(signal, null);
    assert.equal(code, 0, out.join('\n'));
    const records = out.filter((l) => !l.startsWith('[stderr]')).map((l) => JSON.parse(l) as { level: number; msg: string; time: number; name: string });
    assert.ok(records.length >= 3);
    for (const r of records) {
      assert.equal(typeof r.level, 'number');
      assert.equal(typeof r.time, 'number');
      assert.equal(r.name, 'ballast');
    }
    const msgs = records.map((r) => r.msg);
    assert.ok(msgs.some((m) => /^shutting down/.test(m)), msgs.join(' | '));
    assert.ok(msgs.some((m) => /^worker draining/.test(m)), msgs.join(' | '));
    assert.ok(msgs.includes('worker stopped'), msgs.join(' | '));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the probe server closed with the worker');
  });
});

describe('createReadiness on a real anvil chain', () => {
  test('a chain is ready while its RPC answered within maxRpcAgeSec; after the node stops it turns not ready (503, the error named)', async () => {
    const anvil = await startAnvil({ chainId: 31299 });
    let stopped = false;
    try {
      const pub = createPublicClient({ transport: http(anvil.rpcUrl, { retryCount: 0, timeout: 1000 }) });
      let nowMs = 1_000_000;
      let state = 'RUNNING';
      const metrics = new BallastMetrics(false);
      const readiness = createReadiness(
        { workerState: () => state, temporalPing: async () => ({}), chains: { gamma: () => pub.getBlockNumber({ cacheTime: 0 }) }, metrics },
        { maxRpcAgeSec: 30, cacheMs: 0, probeTimeoutMs: 1500, now: () => nowMs },
      );
      const srv = await serveMetrics(metrics.registry, 0, '127.0.0.1', { readiness });
      try {
        const get = async () => {
          const r = await fetch(`http://127.0.0.1:${srv.port}/readyz`);
          return { status: r.status, body: (await r.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } };
        };
        const first = await get();
        assert.equal(first.status, 200);
        assert.equal(first.body.checks['chain:gamma']!.ok, true);

        await anvil.stop();
        stopped = true;
        nowMs += 10_000; // 10 s later: the probe fails, but the chain answered within 30 s
        const recent = await get();
        assert.equal(recent.status, 200, JSON.stringify(recent.body));
        assert.match(recent.body.checks['chain:gamma']!.detail, /last probe failed/);
        assert.match(await metrics.registry.metrics(), /^ballast_chain_rpc_up\{chain="gamma"\} 0$/m);

        nowMs += 25_000; // 35 s since the last answer
        const stale = await get();
        assert.equal(stale.status, 503);
        assert.equal(stale.body.ready, false);
        assert.equal(stale.body.checks['chain:gamma']!.ok, false);
        assert.match(await metrics.registry.metrics(), /^ballast_ready 0$/m);

        state = 'STOPPING';
        assert.deepEqual((await get()).body.checks.worker, { ok: false, detail: 'STOPPING' });
      } finally {
        await srv.close();
      }
    } finally {
      if (!stopped) await anvil.stop();
    }
  });
});
