/**
 * Ballast's `/metrics` (`metrics.host` + `metrics.port`) and the Temporal SDK's metrics (`temporal.sdkMetricsAddress`)
 * are two HTTP listeners: a config that puts both on one socket is refused when it is loaded (config/schema.ts), so
 * `ballast config check` reports it (naming both fields) before probing anything, and the worker never starts with it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, loadConfig } from '../../config/index.js';
import { listenersClash } from '../../config/schema.js';
import { runCaptured } from '../../cli/main.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-metrics-listeners-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A valid two-chain config (RPCs on 127.0.0.1, never probed by these tests) with `metrics` and `temporal` as given. */
function writeConfig(metrics: Record<string, unknown> | undefined, sdkMetricsAddress: string | undefined): string {
  const chain = (key: string, chainId: number, eid: number, seed: number) => ({
    key,
    chainId,
    rpcUrl: `http://127.0.0.1:${8545 + seed}`,
    eid,
    contracts: Object.fromEntries(['multicall3', 'endpoint', 'token', 'vault', 'route', 'priceFeed'].map((r, i) => [r, `0x${(seed * 16 + i + 1).toString(16).padStart(40, '0')}`])),
    band: { lowPct: 60, highPct: 80 },
    minBuffer: '1000 USDC',
    caps: { maxOutflowPerWindow: '1m', windowSec: 3600, maxTransfer: '250k', minTransfer: '100 USDC' },
    oracle: { maxStalenessSec: 3600, maxDeviationBps: 500 },
  });
  const config = {
    deployment: 'listeners',
    asset: { symbol: 'USDC', decimals: 6 },
    temporal: { address: '127.0.0.1:7233', ...(sdkMetricsAddress !== undefined ? { sdkMetricsAddress } : {}) },
    ...(metrics ? { metrics } : {}),
    chains: [chain('alpha', 1001, 40_001, 1), chain('beta', 1002, 40_002, 2)],
  };
  const file = path.join(dir, `ballast-${++n}.yaml`);
  fs.writeFileSync(file, YAML.stringify(config));
  return file;
}

const CLASH = /temporal\.sdkMetricsAddress: clashes with metrics\.host \+ metrics\.port \(([^)]*), Ballast's \/metrics\): the Temporal SDK's metrics need a port of their own/;

describe('metrics listeners: /metrics and the Temporal SDK metrics on one host:port are refused', () => {
  test('listenersClash: same port on the same host, a wildcard, or localhost and a loopback address', () => {
    const l = (host: string, port: number) => ({ host, port });
    assert.equal(listenersClash(l('127.0.0.1', 9464), l('127.0.0.1', 9464)), true);
    assert.equal(listenersClash(l('0.0.0.0', 9464), l('127.0.0.1', 9464)), true, '0.0.0.0 binds the port on every interface');
    assert.equal(listenersClash(l('10.0.0.5', 9464), l('::', 9464)), true);
    assert.equal(listenersClash(l('[::1]', 9464), l('::1', 9464)), true, 'brackets do not make another host');
    assert.equal(listenersClash(l('LOCALHOST', 9464), l('127.0.0.1', 9464)), true);
    assert.equal(listenersClash(l('localhost', 9464), l('::1', 9464)), true);
    assert.equal(listenersClash(l('127.0.0.1', 9464), l('127.0.0.1', 9465)), false, 'another port');
    assert.equal(listenersClash(l('127.0.0.1', 9464), l('10.0.0.5', 9464)), false, 'two addresses of the host');
    assert.equal(listenersClash(l('127.0.0.1', 9464), l('::1', 9464)), false, 'IPv4 and IPv6 loopback are two sockets');
    assert.equal(listenersClash(l('0.0.0.0', 0), l('0.0.0.0', 0)), false, 'port 0: the OS picks a free port for each');
  });

  test('loading refuses the same host:port (defaults included), a wildcard over it, and accepts another port or host', () => {
    const refused: [Record<string, unknown> | undefined, string, string][] = [
      [{ host: '0.0.0.0', port: 9464 }, '0.0.0.0:9464', '0.0.0.0:9464'],
      [undefined, '127.0.0.1:9464', '127.0.0.1:9464'], // metrics at its defaults
      [{ host: '127.0.0.1', port: 9500 }, '0.0.0.0:9500', '127.0.0.1:9500'],
      [{ host: '0.0.0.0', port: 9465 }, 'localhost:9465', '0.0.0.0:9465'],
      [{ host: '::', port: 9464 }, '[::1]:9464', '[::]:9464'],
    ];
    for (const [metrics, sdk, shown] of refused) {
      const file = writeConfig(metrics, sdk);
      assert.throws(
        () => loadConfig(file, { env: {} }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          const line = e.message.split('\n').find((x) => CLASH.test(x));
          assert.ok(line, `${JSON.stringify({ metrics, sdk })}: ${e.message}`);
          assert.equal(CLASH.exec(line)![1], shown);
          assert.ok(line.startsWith(`${file}: temporal.sdkMetricsAddress: `), line);
          assert.ok(line.endsWith(`(got ${JSON.stringify(sdk)})`), line);
          assert.match(line, /change temporal\.sdkMetricsAddress or metrics\.port/);
          assert.equal(e.issues.length, 1, 'only this issue');
          return true;
        },
      );
    }
    for (const [metrics, sdk] of [
      [{ host: '0.0.0.0', port: 9464 }, '0.0.0.0:9465'],
      [undefined, '127.0.0.1:9465'],
      [{ host: '127.0.0.1', port: 9464 }, '10.0.0.5:9464'],
      [{ host: '127.0.0.1', port: 0 }, '127.0.0.1:9464'],
      [{ host: '0.0.0.0', port: 9464 }, undefined],
    ] as [Record<string, unknown> | undefined, string | undefined][]) {
      const c = loadConfig(writeConfig(metrics, sdk), { env: {} });
      assert.equal(c.temporal.sdkMetricsAddress, sdk);
    }
  });

  test('`ballast config check` refuses it before probing anything, naming both fields (exit 1)', async () => {
    const file = writeConfig({ host: '0.0.0.0', port: 9464 }, '127.0.0.1:9464');
    const r = await runCaptured(['config', 'check', '-c', file, '--no-temporal', '--timeout', '1']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^✗ config .*: 1 issue\(s\):$/m);
    assert.match(r.stdout, /temporal\.sdkMetricsAddress: clashes with metrics\.host \+ metrics\.port \(0\.0\.0\.0:9464, Ballast's \/metrics\)/);
    assert.doesNotMatch(r.stdout, /rpcUrls\[0\]/, 'no RPC was probed');
  });
});
