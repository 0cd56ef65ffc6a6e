/**
 * keeper/temporalConnection.ts: the connection to Temporal (address, namespace, TLS, API key, metadata) from the
 * config's `temporal` section, the TEMPORAL_* variables and an env-config profile, in that precedence below the
 * BALLAST_TEMPORAL_* overrides; errors that name the key and the path; no secret in what is logged.
 * Real round trips through a TLS-terminating proxy (mTLS, a private CA, a server name that is not the address) in
 * front of a `temporal server start-dev`: the client (connectClient) from a profile named in the config, and the
 * worker path (installTemporalLogging with temporal.sdkMetricsAddress, connectTemporalWithBackoff, Worker.create)
 * in a child process from TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE, whose SDK metrics endpoint is scraped.
 * Needs openssl (the certificates) and the Temporal CLI for the round trips: skipped with the reason without them
 * (except the CLI under CI=true).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import YAML from 'yaml';
import { ConfigError, exampleConfig, loadConfig, type BallastConfig, type BallastConfigInput } from '../../config/index.js';
import { describeTemporalConnection, resolveTemporalConnection, SDK_METRIC_PREFIX, sdkTelemetryOptions } from '../../keeper/temporalConnection.js';
import { connectClient } from '../../keeper/client.js';
import { findFreePort, startTemporalDevServer, temporalCliPath, type TemporalDevServer } from '../../devnet/temporal.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const API_KEY = 'tk-SECRET-api-key-do-not-log';
const SERVER_NAME = 'temporal.ballast.test';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-temporal-conn-'));
let certs: { ca: string; serverKey: string; serverCert: string; clientKey: string; clientCert: string } | undefined;
let opensslMissing: string | undefined;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A private CA, a server certificate for SERVER_NAME and a client certificate, all signed by it (EC P-256). */
function makeCerts(): NonNullable<typeof certs> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ballast-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const [name, cn, eku, san] of [
    ['server', SERVER_NAME, 'serverAuth', `DNS:${SERVER_NAME}`],
    ['client', 'ballast-keeper', 'clientAuth', 'DNS:ballast-keeper'],
  ] as const) {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${eku}\nsubjectAltName=${san}\n`);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  const p = (f: string) => path.join(dir, f);
  return { ca: p('ca.pem'), serverKey: p('server.key'), serverCert: p('server.pem'), clientKey: p('client.key'), clientCert: p('client.pem') };
}

// At load time: the skips below are decided when the tests are declared.
try {
  certs = makeCerts();
} catch (err) {
  opensslMissing = `openssl could not make test certificates: ${(err as Error).message.split('\n')[0]}`;
}
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const addr = (chain: number, role: number): string => `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'ab'.repeat(18)}`;
function input(temporal?: Record<string, unknown>): BallastConfigInput {
  const c = exampleConfig({
    chains: [1, 2].map((i) => ({
      key: ['alpha', 'beta'][i - 1]!,
      chainId: 31_336 + i,
      rpcUrl: `http://127.0.0.1:${8544 + i}`,
      eid: 40_000 + i,
      contracts: { multicall3: addr(i, 1), endpoint: addr(i, 2), token: addr(i, 3), vault: addr(i, 4), route: addr(i, 5), priceFeed: addr(i, 6) },
    })),
  });
  return temporal ? ({ ...c, temporal } as BallastConfigInput) : c;
}
let n = 0;
/** Writes a config file with this `temporal` section and loads it (with `${VAR}` substitution and the BALLAST_TEMPORAL_* overrides from `env`). */
function load(temporal?: Record<string, unknown>, env: Record<string, string | undefined> = {}): BallastConfig {
  const file = path.join(dir, `ballast-${++n}.yaml`);
  fs.writeFileSync(file, YAML.stringify(input(temporal)));
  return loadConfig(file, { env });
}
/** An environment with no TEMPORAL_* variable and a HOME with no Temporal CLI file. */
const cleanEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ HOME: path.join(dir, 'empty-home'), ...extra });

function writeToml(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('resolveTemporalConnection: sources and precedence', () => {
  test('config only: address and namespace as written (or the defaults), plaintext, no API key', () => {
    const t = resolveTemporalConnection(load({ address: 'temporal.internal:7233', namespace: 'ballast-prod' }).temporal, { env: cleanEnv() });
    assert.deepEqual(t.connectOptions, { address: 'temporal.internal:7233', tls: false });
    assert.equal(t.namespace, 'ballast-prod');
    assert.deepEqual(t.sources, { address: 'temporal.address', namespace: 'temporal.namespace' });
    const d = resolveTemporalConnection(load().temporal, { env: cleanEnv() });
    assert.equal(d.address, '127.0.0.1:7233');
    assert.equal(d.namespace, 'default');
    assert.deepEqual(d.sources, { address: 'temporal.address (default)', namespace: 'temporal.namespace (default)' });
  });

  test('config tls + apiKey (${VAR}): mTLS material read, server name, key from the environment', { skip: opensslMissing }, () => {
    const c = load({ address: 'ns.acct.tmprl.cloud:7233', apiKey: '${MY_TEMPORAL_KEY}', tls: { clientCertPath: certs!.clientCert, clientKeyPath: certs!.clientKey, serverRootCACertPath: certs!.ca, serverName: SERVER_NAME } }, { MY_TEMPORAL_KEY: API_KEY });
    const t = resolveTemporalConnection(c.temporal, { env: cleanEnv() });
    assert.equal(t.connectOptions.apiKey, API_KEY);
    assert.ok(t.connectOptions.tls);
    assert.deepEqual(Buffer.from(t.connectOptions.tls.serverRootCACertificate!), fs.readFileSync(certs!.ca));
    assert.deepEqual(Buffer.from(t.connectOptions.tls.clientCertPair!.crt), fs.readFileSync(certs!.clientCert));
    assert.deepEqual(Buffer.from(t.connectOptions.tls.clientCertPair!.key), fs.readFileSync(certs!.clientKey));
    assert.equal(t.connectOptions.tls.serverNameOverride, SERVER_NAME);
    assert.equal(t.sources.apiKey, 'temporal.apiKey');
    assert.equal(t.sources.clientCert, 'temporal.tls.clientCertPath');
  });

  test('profile from a TOML file (config temporal.profile + configFile): address, namespace, TLS, API key, gRPC metadata', { skip: opensslMissing }, () => {
    const file = writeToml(
      'profile.toml',
      `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.prod]\naddress = "prod.example:7233"\nnamespace = "ballast-prod"\napi_key = "${API_KEY}"\n` +
        `[profile.prod.tls]\nclient_cert_path = "${certs!.clientCert}"\nclient_key_path = "${certs!.clientKey}"\nserver_ca_cert_path = "${certs!.ca}"\nserver_name = "${SERVER_NAME}"\n` +
        `[profile.prod.grpc_meta]\nx-team = "treasury"\n`,
    );
    const t = resolveTemporalConnection(load({ profile: 'prod', configFile: file }).temporal, { env: cleanEnv() });
    assert.equal(t.address, 'prod.example:7233');
    assert.equal(t.namespace, 'ballast-prod');
    assert.equal(t.connectOptions.apiKey, API_KEY);
    assert.ok(t.connectOptions.tls && t.connectOptions.tls.clientCertPair && t.connectOptions.tls.serverRootCACertificate);
    assert.equal(t.connectOptions.tls.serverNameOverride, SERVER_NAME);
    assert.deepEqual(t.connectOptions.metadata, { 'x-team': 'treasury' });
    assert.equal(t.profile, `profile "prod" in ${file}`);
    assert.equal(t.sources.address, `profile "prod" in ${file} (address)`);
    assert.equal(t.sources.clientCert, `profile "prod" in ${file} tls.client_cert_path`);
    // nothing secret in what may be logged: the description, JSON, util.inspect
    const d = describeTemporalConnection(t);
    assert.equal(d.apiKey, 'set');
    assert.equal(d.tls, 'mTLS');
    const key = fs.readFileSync(certs!.clientKey, 'utf8');
    for (const text of [JSON.stringify(d), JSON.stringify(t), JSON.stringify({ t: t.connectOptions }), inspect(t, { depth: 9 }), inspect(t.connectOptions, { depth: 9 })]) {
      assert.doesNotMatch(text, /SECRET|PRIVATE KEY/, text);
      assert.ok(!text.includes(key.slice(40, 80)));
    }
  });

  test('precedence: BALLAST_TEMPORAL_* > config as written > TEMPORAL_* variables > profile > defaults', () => {
    const file = writeToml('prec.toml', `[profile.p]\naddress = "profile:1"\nnamespace = "ns-profile"\napi_key = "key-profile"\n[profile.p.tls]\ndisabled = true\n`);
    const env = cleanEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'p' });
    // profile alone (named by the variables)
    let t = resolveTemporalConnection(load().temporal, { env });
    assert.deepEqual([t.address, t.namespace, t.connectOptions.apiKey, t.connectOptions.tls], ['profile:1', 'ns-profile', 'key-profile', false]);
    // TEMPORAL_* over the profile
    t = resolveTemporalConnection(load().temporal, { env: { ...env, TEMPORAL_ADDRESS: 'env:2', TEMPORAL_NAMESPACE: 'ns-env', TEMPORAL_API_KEY: 'key-env', TEMPORAL_TLS: 'true' } });
    assert.deepEqual([t.address, t.namespace, t.connectOptions.apiKey, t.sources.address, t.sources.apiKey, t.sources.tls], ['env:2', 'ns-env', 'key-env', 'TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS*']);
    assert.deepEqual(t.connectOptions.tls, {}, 'TEMPORAL_TLS=true over the profile\'s disabled: TLS with the system roots');
    // the config as written over both
    const varsToo = { ...env, TEMPORAL_ADDRESS: 'env:2', TEMPORAL_NAMESPACE: 'ns-env', TEMPORAL_API_KEY: 'key-env' };
    t = resolveTemporalConnection(load({ address: 'config:3', namespace: 'ns-config', apiKey: 'key-config', tls: { disabled: true } }).temporal, { env: varsToo });
    assert.deepEqual([t.address, t.namespace, t.connectOptions.apiKey, t.connectOptions.tls], ['config:3', 'ns-config', 'key-config', false]);
    // BALLAST_TEMPORAL_* over the config (applied when the file is loaded), and named as the source
    const c = load({ address: 'config:3', namespace: 'ns-config' }, { BALLAST_TEMPORAL_ADDRESS: 'ballast:4', BALLAST_TEMPORAL_NAMESPACE: 'ns-ballast' });
    t = resolveTemporalConnection(c.temporal, { env: { ...varsToo, BALLAST_TEMPORAL_ADDRESS: 'ballast:4', BALLAST_TEMPORAL_NAMESPACE: 'ns-ballast' } });
    assert.deepEqual([t.address, t.namespace, t.sources.address], ['ballast:4', 'ns-ballast', 'BALLAST_TEMPORAL_ADDRESS']);
    // an API key alone turns TLS on; an empty variable counts as unset
    t = resolveTemporalConnection(load().temporal, { env: cleanEnv({ TEMPORAL_API_KEY: 'k', TEMPORAL_ADDRESS: '' }) });
    assert.deepEqual([t.address, t.connectOptions.tls, t.sources.tls], ['127.0.0.1:7233', {}, 'on for the API key (TEMPORAL_API_KEY)']);
  });

  test("the Temporal CLI's default file is read only when a profile is named", () => {
    const home = path.join(dir, 'home');
    fs.mkdirSync(path.join(home, '.config', 'temporalio'), { recursive: true });
    fs.writeFileSync(path.join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "cloud.example:7233"\napi_key = "dev-own-key"\n[profile.staging]\naddress = "staging.example:7233"\n');
    const t = resolveTemporalConnection(load().temporal, { env: { HOME: home } });
    assert.deepEqual([t.address, t.connectOptions.apiKey], ['127.0.0.1:7233', undefined], "a developer's own CLI profile does not redirect the keeper");
    assert.equal(resolveTemporalConnection(load({ profile: 'staging' }).temporal, { env: { HOME: home } }).address, 'staging.example:7233');
    assert.equal(resolveTemporalConnection(load().temporal, { env: { HOME: home, TEMPORAL_PROFILE: 'default' } }).address, 'cloud.example:7233');
  });
});

describe('resolveTemporalConnection: errors name the cause', () => {
  test('a missing certificate file names the config key and the path', { skip: opensslMissing }, () => {
    const missing = path.join(dir, 'nope', 'client.pem');
    const c = load({ tls: { clientCertPath: missing, clientKeyPath: certs!.clientKey } });
    assert.throws(() => resolveTemporalConnection(c.temporal, { env: cleanEnv() }), (e: Error) => e.message === `temporal.tls.clientCertPath: cannot read the certificate file ${missing} (no such file)`);
    const ca = load({ tls: { serverRootCACertPath: certs!.clientKey } });
    assert.throws(() => resolveTemporalConnection(ca.temporal, { env: cleanEnv() }), /^Error: temporal\.tls\.serverRootCACertPath: the file .*client\.key is not a PEM certificate/);
  });

  test('the same from a profile and from the variables; a certificate without its key; unknown profile; missing file', () => {
    const missing = path.join(dir, 'absent-ca.pem');
    const file = writeToml('bad.toml', `[profile.x]\naddress = "x:1"\n[profile.x.tls]\nserver_ca_cert_path = "${missing}"\n`);
    assert.throws(() => resolveTemporalConnection(load({ profile: 'x', configFile: file }).temporal, { env: cleanEnv() }), (e: Error) => e.message === `profile "x" in ${file} tls.server_ca_cert_path: cannot read the certificate file ${missing} (no such file)`);
    assert.throws(() => resolveTemporalConnection(load().temporal, { env: cleanEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing }) }), /^Error: TEMPORAL_TLS_CLIENT_CERT_PATH is set but no client key is \(TEMPORAL_TLS\*\): mTLS needs the certificate and its key/);
    assert.throws(() => resolveTemporalConnection(load({ profile: 'nope', configFile: file }).temporal, { env: cleanEnv() }), (e: Error) => e.message === `temporal.profile "nope": no such profile in ${file} (it has: x)`);
    const absent = path.join(dir, 'absent.toml');
    assert.throws(() => resolveTemporalConnection(load({ configFile: absent }).temporal, { env: cleanEnv() }), (e: Error) => e.message === `temporal.configFile: the env-config file ${absent} does not exist`);
    assert.throws(() => resolveTemporalConnection(load().temporal, { env: cleanEnv({ TEMPORAL_PROFILE: 'prod' }) }), /^Error: TEMPORAL_PROFILE "prod": the env-config file .*empty-home\/\.config\/temporalio\/temporal\.toml does not exist \(set temporal\.configFile or TEMPORAL_CONFIG_FILE/);
  });

  test('the schema: clientCertPath and clientKeyPath together; sdkMetricsAddress host:port with a real port', () => {
    assert.throws(() => load({ tls: { clientCertPath: '/x.pem' } }), (e: unknown) => e instanceof ConfigError && /temporal\.tls: clientCertPath and clientKeyPath go together/.test(e.message));
    assert.throws(() => load({ sdkMetricsAddress: '127.0.0.1:0' }), (e: unknown) => e instanceof ConfigError && /temporal\.sdkMetricsAddress: must be host:port with a port 1\.\.65535/.test(e.message));
    assert.throws(() => load({ apiKey: '' }), (e: unknown) => e instanceof ConfigError && /temporal\.apiKey: must not be empty/.test(e.message));
    assert.equal(load({ sdkMetricsAddress: '0.0.0.0:9465' }).temporal.sdkMetricsAddress, '0.0.0.0:9465');
    assert.deepEqual(sdkTelemetryOptions(undefined), {});
    assert.deepEqual(sdkTelemetryOptions('127.0.0.1:9465'), { metrics: { metricPrefix: 'temporal_', prometheus: { bindAddress: '127.0.0.1:9465' } } });
  });
});

function cliMissingReason(): string | undefined {
  try {
    temporalCliPath();
    return undefined;
  } catch (e) {
    if (process.env.CI === 'true') return undefined;
    return (e as Error).message;
  }
}

/** A TLS terminator in front of `upstream` (h2 by ALPN, client certificate required and verified against the CA). */
async function startTlsProxy(upstream: string): Promise<{ address: string; handshakes: { authorized: boolean; cn?: string }[]; close(): Promise<void> }> {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const handshakes: { authorized: boolean; cn?: string }[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { key: fs.readFileSync(certs!.serverKey), cert: fs.readFileSync(certs!.serverCert), ca: fs.readFileSync(certs!.ca), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (sock) => {
      handshakes.push({ authorized: sock.authorized, cn: sock.getPeerCertificate().subject?.CN as string | undefined });
      const up = net.connect(port, host);
      sockets.add(sock).add(up);
      sock.pipe(up).pipe(sock);
      const done = () => {
        sock.destroy();
        up.destroy();
      };
      sock.on('error', done).on('close', done);
      up.on('error', done).on('close', done);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${a.port}`,
    handshakes,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

// concurrent: the refused connection waits out connectClient's 5 s connect timeout while the worker starts
describe('round trips through mTLS to a real dev server', { skip: opensslMissing ?? cliMissingReason(), concurrency: true }, () => {
  let server: TemporalDevServer;
  let proxy: Awaited<ReturnType<typeof startTlsProxy>>;
  let profileFile: string;
  before(async () => {
    server = await startTemporalDevServer({ namespace: 'ballast-tls' });
    proxy = await startTlsProxy(server.address);
    // The proxy's address, the CA, the server name and the client pair exist only in this profile.
    profileFile = writeToml(
      'roundtrip.toml',
      `[profile.tls]\naddress = "${proxy.address}"\nnamespace = "ballast-tls"\napi_key = "${API_KEY}"\n` +
        `[profile.tls.tls]\nclient_cert_path = "${certs!.clientCert}"\nclient_key_path = "${certs!.clientKey}"\nserver_ca_cert_path = "${certs!.ca}"\nserver_name = "${SERVER_NAME}"\n`,
    );
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('client: connectClient with temporal.profile reaches the server over mTLS, in the profile\'s namespace', async () => {
    const config = load({ profile: 'tls', configFile: profileFile });
    const before = proxy.handshakes.length;
    const client = await connectClient(config, { env: cleanEnv() });
    try {
      assert.equal(client.options.namespace, 'ballast-tls');
      const info = await client.workflowService.getSystemInfo({});
      assert.ok(info.serverVersion);
      await client.workflowService.describeNamespace({ namespace: 'ballast-tls' });
    } finally {
      await client.connection.close();
    }
    const hs = proxy.handshakes.slice(before);
    assert.ok(hs.length >= 1 && hs.every((h) => h.authorized && h.cn === 'ballast-keeper'), JSON.stringify(hs));
  });

  test('client: without the profile the same server is not reachable through the proxy (the profile is what connects)', async () => {
    const config = load({ address: proxy.address });
    await Promise.all([
      assert.rejects(connectClient(config, { env: cleanEnv() }), /^Error: cannot reach Temporal at 127\.0\.0\.1:\d+ \(.*; is the server running\? check temporal\.address\)$/),
      // with an API key from the environment, TLS is on (a plaintext server fails), and the error says where from
      assert.rejects(connectClient(load({ address: server.address }), { env: cleanEnv({ TEMPORAL_API_KEY: API_KEY }) }), (e: Error) => e.message.startsWith(`cannot reach Temporal at ${server.address} over TLS (on for the API key (TEMPORAL_API_KEY)) (`) && !e.message.includes(API_KEY)),
    ]);
  });

  test('worker (child process): SDK metrics on temporal.sdkMetricsAddress, native connection from TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE over mTLS', async () => {
    const metricsPort = await findFreePort();
    const url = (f: string) => pathToFileURL(path.join(ROOT, f)).href;
    const child = `
      const { installTemporalLogging, connectTemporalWithBackoff } = await import(${JSON.stringify(url('keeper/worker.ts'))});
      const { resolveTemporalConnection } = await import(${JSON.stringify(url('keeper/temporalConnection.ts'))});
      const { Worker } = await import('@temporalio/worker');
      const { pino } = await import('pino');
      const log = pino({ level: 'info' }, pino.destination(2));
      const net = await import('node:net');
      const busy = net.createServer();
      await new Promise((r) => busy.listen(0, '127.0.0.1', r));
      try {
        installTemporalLogging(log, 'WARN', { sdkMetricsAddress: '127.0.0.1:' + busy.address().port });
      } catch (e) {
        process.stdout.write('BUSY ' + e.message + '\\n');
      }
      busy.close();
      installTemporalLogging(log, 'WARN', { sdkMetricsAddress: process.env.SDK_METRICS });
      const section = { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'q', defaulted: ['address', 'namespace'] };
      const t = resolveTemporalConnection(section, { env: process.env });
      const connection = await connectTemporalWithBackoff(t, log, { waitSec: 10 });
      const worker = await Worker.create({ connection, namespace: t.namespace, taskQueue: 'sdk-metrics-test', activities: { ping: async () => 'pong' } });
      const running = worker.run();
      process.stdout.write('READY ' + t.namespace + '\\n');
      process.stdin.once('data', () => {
        process.stdin.destroy();
        worker.shutdown();
      });
      await running;
      await connection.close();
      process.stdout.write('STOPPED\\n');
    `;
    const env = { ...cleanEnv(), PATH: process.env.PATH ?? '', SDK_METRICS: `127.0.0.1:${metricsPort}`, TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'tls' };
    const before = proxy.handshakes.length;
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    const killer = setTimeout(() => p.kill('SIGKILL'), 40_000);
    try {
      const t0 = Date.now();
      while (!out.includes('READY') && p.exitCode === null && Date.now() - t0 < 35_000) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /READY ballast-tls/, `child did not start: ${err}`);
      assert.match(out, /^BUSY cannot serve the Temporal SDK's metrics at 127\.0\.0\.1:\d+ \(temporal\.sdkMetricsAddress\): .*Address already in use/m, 'a taken address: an error naming the key');
      // the SDK exports on its own schedule: poll for the worker's metrics
      let text = '';
      for (let i = 0; i < 50 && !/temporal_num_pollers|temporal_worker_task_slots_available/.test(text); i++) {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        assert.equal(res.status, 200);
        text = await res.text();
        if (!/temporal_num_pollers/.test(text)) await new Promise((r) => setTimeout(r, 100));
      }
      const names = [...new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!))];
      assert.ok(names.length > 0 && names.every((m) => m.startsWith(SDK_METRIC_PREFIX)), `every SDK metric is prefixed ${SDK_METRIC_PREFIX}: ${names.join(', ')}`);
      assert.ok(names.some((m) => /^temporal_(num_pollers|worker_task_slots_available)$/.test(m)), `the worker's metrics are there: ${names.join(', ')}`);
      assert.match(text, /namespace="ballast-tls"/);
      assert.ok(!names.some((m) => m.startsWith('ballast_')));
      const hs = proxy.handshakes.slice(before);
      assert.ok(hs.length >= 1 && hs.every((h) => h.authorized && h.cn === 'ballast-keeper'), `the worker connected through the proxy with its client certificate: ${JSON.stringify(hs)}`);
      assert.doesNotMatch(err + out, /SECRET|PRIVATE KEY/);
      p.stdin.write('stop\n');
      assert.equal(await exited, 0, `${out}\n${err}`);
      assert.match(out, /STOPPED/);
    } finally {
      clearTimeout(killer);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  });
});
