/**
 * The `ballast` CLI's conventions, in-process (cli/main.ts `run`): --version, --help, usage errors (exit 2, the
 * error as the last stderr line), runtime errors (exit 1, one line `ballast: <cause>`), and repeated runs in one
 * process. test/unit/cliProcess.test.ts checks the same through the real binary.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { repoDir } from '../../config/fixtures.js';
import { captureIo, run, runCaptured } from '../../cli/main.js';

const version = (JSON.parse(fs.readFileSync(path.join(repoDir(), 'package.json'), 'utf8')) as { version: string }).version;
const recordedConfig = path.join(repoDir(), 'test', 'histories', 'ballast.recorded.yaml');

/** The non-empty lines of `text`. */
const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A TCP port on 127.0.0.1 nothing listens on (the OS picked it free, then it was closed): connections are refused. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A valid secp256k1 key (anvil's account 9), never a real one. */
const TEST_KEY = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6';
const lastLine = (text: string): string => lines(text).at(-1) ?? '';

/** Asserts a usage error: exit 2, nothing on stdout, the help before and `want` on the last stderr line. */
function assertUsage(r: { code: number; stdout: string; stderr: string }, want: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(lastLine(r.stderr), want, r.stderr);
  assert.match(r.stderr, /^Usage: ballast/m, 'the help comes first');
  assert.ok(r.stderr.indexOf('Usage: ballast') < r.stderr.lastIndexOf(lastLine(r.stderr)));
}

describe('ballast CLI conventions (in-process)', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('--version and -V print package.json\'s version, exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCaptured([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.stderr, '');
    }
  });

  test('--help (root and a command) and `help <command>` print on stdout, exit 0', async () => {
    const root = await runCaptured(['--help']);
    assert.equal(root.code, 0);
    assert.match(root.stdout, /^Usage: ballast \[options\] \[command\]/);
    assert.match(root.stdout, /^ {2}status \[options\]/m);
    assert.equal(root.stderr, '');
    for (const argv of [['status', '--help'], ['help', 'status']]) {
      const r = await runCaptured(argv);
      assert.equal(r.code, 0, argv.join(' '));
      assert.match(r.stdout, /^Usage: ballast status \[options\]/);
      assert.match(r.stdout, /-c, --config <file>/);
    }
  });

  test('an unknown command exits 2, the error last on stderr (with the suggestion on the same line)', async () => {
    assertUsage(await runCaptured(['bogus']), /^ballast: unknown command 'bogus'$/);
    assertUsage(await runCaptured(['stauts']), /^ballast: unknown command 'stauts' \(Did you mean status\?\)$/);
  });

  test('an unknown option exits 2, the error last on stderr', async () => {
    assertUsage(await runCaptured(['status', '-c', 'x.yaml', '--bogus']), /^ballast status: unknown option '--bogus'$/);
  });

  test('a missing required option exits 2 naming it', async () => {
    assertUsage(await runCaptured(['status']), /^ballast status: required option '-c, --config <file>' not specified$/);
    assertUsage(await runCaptured(['caps', 'show']), /^ballast caps show: required option '-c, --config <file>' not specified$/);
  });

  test('a bad option value (positive integer, choice) exits 2 naming the option and the value', async () => {
    assertUsage(await runCaptured(['backtest', '--days', '0']), /^ballast backtest: option '--days <n>' argument '0' is invalid\. must be a positive integer \(got "0"\)$/);
    assertUsage(await runCaptured(['dev', '--until', 'two']), /^ballast dev: option '--until <n>' argument 'two' is invalid\. must be a positive integer \(got "two"\)$/);
    assertUsage(await runCaptured(['backtest', '--planner', 'best']), /^ballast backtest: .*must be both, greedy or optimal \(got "best"\)$/);
  });

  test('usage errors found by the actions exit 2: plan without --dry-run, replay without a workflow id or --file, caps set without a scope', async () => {
    assertUsage(await runCaptured(['plan', '-c', '/nonexistent.yaml']), /^ballast plan: only --dry-run is supported/);
    assertUsage(await runCaptured(['replay']), /^ballast replay: give a workflow id .* or --file/);
    assertUsage(await runCaptured(['replay', 'some-id', '--file', 'h.json']), /^ballast replay: give either a workflow id or --file, not both$/);
    assertUsage(await runCaptured(['caps', 'set', '-c', '/nonexistent.yaml', '--reason', 'x']), /^ballast caps set: give exactly one of --chain <key> or --route <from->to>$/);
    assertUsage(await runCaptured(['lp', 'show', 'not-an-address', '-c', '/nonexistent.yaml']), /^ballast lp show: <address> must be an address/);
  });

  test('a command with subcommands given none exits 2: its help, then the error', async () => {
    const r = await runCaptured(['inspect']);
    assertUsage(r, /^ballast inspect: missing command: one of vaa, packet, pyth$/);
    const none = await runCaptured([]);
    assertUsage(none, /^ballast: missing command: one of dev, worker, start, status/);
  });

  test('a missing config file exits 1 with exactly one stderr line naming the path', async () => {
    const file = path.join(tmp, 'absent.yaml');
    const r = await runCaptured(['status', '-c', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(lines(r.stderr), [`ballast: ${file}: (root): cannot read the file (ENOENT); check the path (got nothing)`]);
  });

  test('an invalid config exits 1 with one stderr line naming the file, the field path and the bad value', async () => {
    const cfg = parse(fs.readFileSync(recordedConfig, 'utf8')) as { chains: { caps: { maxOutflowPerWindow: string } }[] };
    cfg.chains[1]!.caps.maxOutflowPerWindow = '-5';
    const file = path.join(tmp, 'invalid.yaml');
    fs.writeFileSync(file, stringify(cfg));
    for (const argv of [['status', '-c', file], ['plan', '--dry-run', '--offline', '-c', file]]) {
      const r = await runCaptured(argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.equal(r.stdout, '');
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^ballast: ${file.replace(/[.\\/]/g, '\\$&')}: chains\\[1\\]\\.caps\\.maxOutflowPerWindow: .* \\(got "-5"\\)\\n$`));
    }
  });

  test('two config issues still make one line, joined with "; "', async () => {
    const file = path.join(tmp, 'two.yaml');
    fs.writeFileSync(file, 'deployment: x\nchains: []\n');
    const r = await runCaptured(['status', '-c', file]);
    assert.equal(r.code, 1);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^ballast: .*two\.yaml: asset: required \(got nothing\); .*two\.yaml: chains: /);
  });

  test('BALLAST_DEBUG=1 prints the stack trace before the one-line error', async () => {
    const file = path.join(tmp, 'absent.yaml');
    const plain = await runCaptured(['status', '-c', file], { env: { BALLAST_DEBUG: undefined } });
    assert.doesNotMatch(plain.stderr, /^\s+at /m, 'no stack trace without BALLAST_DEBUG');
    const debug = await runCaptured(['status', '-c', file], { env: { BALLAST_DEBUG: '1' } });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^ConfigError: .*\n\s+at loadConfig/m);
    assert.equal(lastLine(debug.stderr), lastLine(plain.stderr));
    assert.equal(process.env.BALLAST_DEBUG, undefined, 'the env override is restored');
  });

  test('repeated in-process runs build a fresh command tree: same results, process.exitCode untouched', async () => {
    const exitCodeBefore = process.exitCode;
    for (let i = 0; i < 3; i++) {
      const io = captureIo();
      assert.equal(await run(['--version'], io), 0);
      assert.equal(io.stdout, `${version}\n`);
      assertUsage(await runCaptured(['status', '--bogus', '-c', 'x.yaml']), /unknown option '--bogus'/);
      const pkt = await runCaptured(['inspect', 'packet', '0x01deadbeef']);
      assert.equal(pkt.code, 1);
      assert.deepEqual(lines(pkt.stderr), ['ballast inspect packet: a LayerZero v2 packet has an 81-byte header; got 5 bytes']);
    }
    assert.equal(process.exitCode, exitCodeBefore);
  });
});

describe('honest errors (in-process)', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-cli-honest-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The recorded devnet config with `edit` applied, written to a temp file; the greedy planner (no HiGHS load). */
  const configWith = (name: string, edit: (c: Record<string, unknown> & { chains: { key: string; rpcUrl: string }[]; temporal: { address: string } }) => void): string => {
    const cfg = parse(fs.readFileSync(recordedConfig, 'utf8')) as Parameters<typeof edit>[0];
    cfg.planner = { kind: 'greedy' };
    edit(cfg);
    const file = path.join(tmp, name);
    fs.writeFileSync(file, stringify(cfg));
    return file;
  };

  test('plan --dry-run with every chain unreachable exits 1, one line naming each chain, the transport cause and the URL without path, query or userinfo', async () => {
    const ports = [await closedPort(), await closedPort()];
    const file = configWith('unreachable.yaml', (c) => {
      c.chains.forEach((ch, i) => (ch.rpcUrl = `http://user:hunter2@127.0.0.1:${ports[i]}/v2/SECRETAPIKEY?token=SECRET2`));
    });
    for (const argv of [['plan', '--dry-run', '--offline', '-c', file], ['plan', '--dry-run', '--offline', '--json', '-c', file]]) {
      const t0 = Date.now();
      const r = await runCaptured(argv, { env: { BALLAST_KEEPER_PRIVATE_KEY: undefined } });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /^ballast: no chain could be read, nothing to plan: /);
      for (const [i, key] of ['alpha', 'beta'].entries()) {
        assert.match(r.stderr, new RegExp(`${key}: RPC ${escapeRe(`http://127.0.0.1:${ports[i]}`)} unreachable: connection refused \\(ECONNREFUSED\\)`), r.stderr);
      }
      assert.doesNotMatch(r.stderr, /SECRET|hunter2|user:|\/v2\//, 'no path, query or userinfo');
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    }
  });

  test('worker with Temporal unreachable exits 1 with one line naming temporal.address and the cause', async () => {
    const port = await closedPort();
    const file = configWith('temporal-down.yaml', (c) => (c.temporal.address = `127.0.0.1:${port}`));
    // No start-up wait (BALLAST_TEMPORAL_CONNECT_WAIT_SEC=0: one attempt); the wait itself: test/chaos/workerStartup.test.ts.
    const r = await runCaptured(['worker', '-c', file], { env: { BALLAST_KEEPER_PRIVATE_KEY: TEST_KEY, BALLAST_TEMPORAL_CONNECT_WAIT_SEC: '0' } });
    assert.equal(r.code, 1, r.stderr);
    const errs = lines(r.stderr);
    assert.equal(errs.length, 1, r.stderr);
    assert.match(errs[0]!, new RegExp(`^ballast: cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(temporal\\.address\\) after 1 attempt\\(s\\) over 0 s: connection refused; check temporal\\.address`));
    assert.doesNotMatch(r.stderr, /tonic|ConnectError/);
  });

  test("each command's missing-key error names its own options: lp mandate, caps approve, worker", async () => {
    const file = configWith('keys.yaml', () => undefined);
    const unset = { BALLAST_LP_PRIVATE_KEY: undefined, BALLAST_APPROVER_PRIVATE_KEY: undefined, BALLAST_KEEPER_PRIVATE_KEY: undefined };
    const lp = await runCaptured(['lp', 'mandate', '-c', file, '--chains', 'alpha,beta', '--max-share-bps', '100', '--max-fee-bps', '10'], { env: unset });
    assert.equal(lp.code, 1, lp.stderr);
    assert.deepEqual(lines(lp.stderr).length, 1, lp.stderr);
    assert.match(lp.stderr, /^ballast: the LP's private key is not set: export BALLAST_LP_PRIVATE_KEY=0x… .*--key-env <name>.*--keystore <file>.*--password-env, default BALLAST_LP_KEYSTORE_PASSWORD/);
    assert.doesNotMatch(lp.stderr, /keeper\./);
    const approve = await runCaptured(['caps', 'approve', `0x${'11'.repeat(32)}`, '-c', file], { env: unset });
    assert.equal(approve.code, 1, approve.stderr);
    assert.match(approve.stderr, /^ballast: the approver's private key is not set: export BALLAST_APPROVER_PRIVATE_KEY=0x… .*--key-env <name>.*--keystore <file>/);
    assert.doesNotMatch(approve.stderr, /keeper\./);
    const keystore = await runCaptured(['lp', 'revoke', '-c', file, '--keystore', path.join(tmp, 'absent.json')], { env: unset });
    assert.match(keystore.stderr, /^ballast: --keystore .*absent\.json: cannot read the keystore \(ENOENT\)/);
    const worker = await runCaptured(['worker', '-c', file], { env: unset });
    assert.equal(worker.code, 1, worker.stderr);
    assert.match(worker.stderr, /^ballast: the keeper's private key is not set: export BALLAST_KEEPER_PRIVATE_KEY=0x… .*keeper\.privateKeyEnv.*keeper\.keystoreFile/m);
  });
});
