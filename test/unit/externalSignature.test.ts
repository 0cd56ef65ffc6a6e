/**
 * Signing where the signer is (issue 13): `ballast lp mandate|revoke` and `ballast caps set|approve|…` export the
 * EIP-712 typed data as JSON (no key), an external wallet signs the parsed JSON, and `--signature` submits it
 * only once it recovers to the LP / a configured approver. No Temporal here (the config points at a closed
 * port): a refused signature is run through the CLI in-process (it exits before connecting); an accepted one
 * would go on to submit over Temporal (a refused connection takes the SDK's 5 s deadline), so it is checked
 * with the functions the CLI verifies with (`checkMandateSignature`, `checkCapSignature`, …). `cast wallet sign
 * --data` is used too when foundry's `cast` is on PATH or in node_modules/.bin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bytesToHex, getAddress, recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { runCaptured } from '../../cli/main.js';
import { typedDataJson } from '../../cli/signer.js';
import { checkMandateSignature, checkRevocationSignature, mandateFromTypedDataFile, revocationFromTypedDataFile } from '../../cli/lp.js';
import { capRequestFromTypedDataFile, checkCapSignature } from '../../cli/caps.js';
import { mandateTypedData } from '../../activities/mandateSignature.js';
import { capChangeId, capTypedData } from '../../activities/capApproval.js';
import { exampleConfig, loadConfig, type BallastConfig } from '../../config/index.js';
import type { CapChangeRequest } from '../../workflows/caps.js';

// Anvil's public test accounts 5, 6 and 7 (devnet only).
const KEY_A = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba';
const LP_A = privateKeyToAccount(KEY_A);
const LP_B = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e');
const C = privateKeyToAccount('0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356');
const NO_KEYS = { BALLAST_LP_PRIVATE_KEY: undefined, BALLAST_APPROVER_PRIVATE_KEY: undefined };

/** `cast` from foundry, if installed here (not shipped by the npm package that brings anvil). */
function findCast(): string | undefined {
  const local = path.resolve('node_modules/.bin/cast');
  if (fs.existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && fs.existsSync(path.join(dir, 'cast'))) return path.join(dir, 'cast');
  return undefined;
}
const CAST = findCast();

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** What an external wallet does with the file: parse the JSON as is and sign it (eth_signTypedData_v4). */
const walletSign = (account: typeof LP_A, file: string) => account.signTypedData(JSON.parse(fs.readFileSync(file, 'utf8')) as Parameters<typeof account.signTypedData>[0]);
const lastLine = (t: string) => t.trim().split('\n').pop() ?? '';

let dir: string;
let cfgFile: string;
let config: BallastConfig;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-extsig-'));
  const addr = (i: number, role: number) => `0x${(i + 1).toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'cd'.repeat(18)}`;
  const cfg = {
    ...exampleConfig({
      deployment: 'extsig',
      chains: ['alpha', 'beta'].map((key, i) => ({ key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${1 + i}`, eid: 40_000 + i, contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) } })),
    }),
    temporal: { address: `127.0.0.1:${await closedPort()}` },
    risk: { capApprovers: [{ name: 'risk-a', address: LP_A.address }, { name: 'risk-c', address: C.address }] },
  };
  cfgFile = path.join(dir, 'ballast.json');
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
  config = loadConfig(cfgFile);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ballast lp mandate: --export-typed-data, then --signature from an external wallet', () => {
  const exportArgs = (out: string) => ['lp', 'mandate', '-c', cfgFile, '--lp', LP_A.address, '--chains', 'alpha,beta', '--max-share-bps', '500', '--max-fee-bps', '10', '--nonce', '3', '--export-typed-data', out];

  test('the export is the EIP-712 JSON wallets take, needs no key, and is what the verifier checks', async () => {
    const file = path.join(dir, 'mandate.json');
    const r = await runCaptured(exportArgs(file), { env: NO_KEYS });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /cast wallet sign --data --from-file .*mandate\.json.*ballast lp mandate -c .* --typed-data .*mandate\.json --signature <sig>/);
    const td = JSON.parse(fs.readFileSync(file, 'utf8')) as { types: Record<string, { name: string; type: string }[]>; primaryType: string; domain: object; message: Record<string, unknown> };
    assert.deepEqual(Object.keys(td), ['types', 'primaryType', 'domain', 'message']);
    assert.deepEqual(td.types.EIP712Domain, [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }]);
    assert.equal(td.primaryType, 'Mandate');
    assert.deepEqual(td.domain, { name: 'Ballast LP mandate', version: '1' });
    assert.equal(td.message.lp, LP_A.address);
    assert.equal(td.message.deployment, 'extsig');
    assert.equal(td.message.nonce, '3');
    assert.match(String(td.message.expiresAtSec), /^\d+$/);
    // Byte for byte: what the builder (used by the verifier) makes of the file's mandate is the file.
    const mandate = mandateFromTypedDataFile(file);
    assert.equal(`${typedDataJson(mandateTypedData(mandate))}\n`, fs.readFileSync(file, 'utf8'));
    // To stdout with "-" (and with no value): the same JSON, the hint on stderr only.
    const out = await runCaptured(exportArgs('-'), { env: NO_KEYS });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(Object.keys(JSON.parse(out.stdout) as object), ['types', 'primaryType', 'domain', 'message']);
    const bare = await runCaptured(exportArgs('-').slice(0, -1), { env: NO_KEYS });
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal((JSON.parse(bare.stdout) as { primaryType: string }).primaryType, 'Mandate');
  });

  test("the LP's wallet signature is accepted (recovers to the LP); another key's is refused naming both addresses, before connecting", async () => {
    const file = path.join(dir, 'mandate-sign.json');
    assert.equal((await runCaptured(exportArgs(file), { env: NO_KEYS })).code, 0);
    const sig = await walletSign(LP_A, file);
    // The same signature as the local-key path signs (one builder).
    assert.equal(sig, await LP_A.signTypedData(mandateTypedData(mandateFromTypedDataFile(file))));
    assert.equal((await checkMandateSignature(config, mandateFromTypedDataFile(file), sig)).lp, LP_A.address);


    const other = await walletSign(LP_B, file);
    const bad = await runCaptured(['lp', 'mandate', '-c', cfgFile, '--typed-data', file, '--signature', other], { env: NO_KEYS });
    assert.equal(bad.code, 1);
    assert.match(lastLine(bad.stderr), /^ballast: --signature does not verify, nothing sent: mandate refused: signed by 0x[0-9a-fA-F]{40}, not by the LP 0x[0-9a-fA-F]{40}/);
    assert.ok(lastLine(bad.stderr).includes(LP_B.address) && lastLine(bad.stderr).includes(LP_A.address), bad.stderr);
    assert.doesNotMatch(bad.stderr, /temporal|connect/i);
  });

  test('a file edited after export is refused: a term changed no longer recovers to the LP; a changed domain is not Ballast typed data', async () => {
    const file = path.join(dir, 'mandate-edit.json');
    assert.equal((await runCaptured(exportArgs(file), { env: NO_KEYS })).code, 0);
    const sig = await walletSign(LP_A, file);
    const td = JSON.parse(fs.readFileSync(file, 'utf8')) as { domain: { name: string }; message: { maxShareBps: number } };
    fs.writeFileSync(file, JSON.stringify({ ...td, message: { ...td.message, maxShareBps: 10_000 } }));
    const r = await runCaptured(['lp', 'mandate', '-c', cfgFile, '--typed-data', file, '--signature', sig], { env: NO_KEYS });
    assert.equal(r.code, 1);
    assert.match(lastLine(r.stderr), /does not verify, nothing sent: mandate refused: signed by .*not by the LP/);
    fs.writeFileSync(file, JSON.stringify({ ...td, domain: { ...td.domain, name: 'Other' } }));
    const d = await runCaptured(['lp', 'mandate', '-c', cfgFile, '--typed-data', file, '--signature', sig], { env: NO_KEYS });
    assert.equal(d.code, 1);
    assert.match(lastLine(d.stderr), /is not the typed data Ballast builds for its message/);
  });

  test('usage errors exit 2 naming the flag: malformed --signature, --signature without --typed-data, both modes, export without --lp, terms with --typed-data', async () => {
    const file = path.join(dir, 'unused.json');
    const cases: [string[], RegExp][] = [
      [['--typed-data', file, '--signature', '0x1234'], /--signature must be a 65-byte signature, 0x \+ 130 hex digits \(got "0x1234"\)/],
      [['--typed-data', file, '--signature', `0x${'ab'.repeat(64)}05`], /--signature must end with a recovery byte v/],
      [['--typed-data', file, '--signature', `0x${'zz'.repeat(65)}`], /--signature must be a 65-byte signature/],
      [['--signature', `0x${'ab'.repeat(64)}1b`], /--signature needs --typed-data <file>/],
      [['--export-typed-data', '-', '--signature', `0x${'ab'.repeat(64)}1b`], /--export-typed-data .* or --signature .*not both/],
      [['--chains', 'alpha,beta', '--max-share-bps', '5', '--max-fee-bps', '1', '--export-typed-data', '-'], /--export-typed-data needs --lp <address>/],
      [['--chains', 'alpha', '--typed-data', file, '--signature', `0x${'ab'.repeat(64)}1b`], /holds the mandate: drop --chains/],
    ];
    for (const [args, re] of cases) {
      const r = await runCaptured(['lp', 'mandate', '-c', '/nonexistent.json', ...args], { env: NO_KEYS });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(lastLine(r.stderr), re);
    }
  });

  test('lp revoke: export, sign externally, the signature is checked against the LP', async () => {
    const file = path.join(dir, 'revoke.json');
    const r = await runCaptured(['lp', 'revoke', '-c', cfgFile, '--lp', LP_A.address, '--nonce', '3', '--export-typed-data', file], { env: NO_KEYS });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(revocationFromTypedDataFile(file).nonce, 3n);
    const bad = await runCaptured(['lp', 'revoke', '-c', cfgFile, '--typed-data', file, '--signature', await walletSign(LP_B, file)], { env: NO_KEYS });
    assert.equal(bad.code, 1);
    assert.match(lastLine(bad.stderr), new RegExp(`revocation refused: signed by ${LP_B.address}, not by the LP ${LP_A.address}`));
    assert.equal(await checkRevocationSignature(config, revocationFromTypedDataFile(file), await walletSign(LP_A, file)), LP_A.address);
  });

  test(`cast wallet sign --data --from-file signs the export to the same signature${CAST ? '' : ' (skipped: no foundry `cast` on PATH or in node_modules/.bin)'}`, { skip: CAST === undefined }, async () => {
    const file = path.join(dir, 'mandate-cast.json');
    assert.equal((await runCaptured(exportArgs(file), { env: NO_KEYS })).code, 0);
    const sig = execFileSync(CAST!, ['wallet', 'sign', '--data', '--from-file', file, '--private-key', KEY_A], { encoding: 'utf8' }).trim();
    assert.equal(sig, await walletSign(LP_A, file));
    assert.equal((await checkMandateSignature(config, mandateFromTypedDataFile(file), sig as `0x${string}`)).lp, LP_A.address);
  });
});

describe('ballast caps set|approve|freeze: --export-typed-data, then --signature from an approver', () => {
  test('caps set: export (no key), sign the JSON, the approver signature is accepted; a non-approver is refused naming it and the approvers', async () => {
    const file = path.join(dir, 'caps-set.json');
    const salt = bytesToHex(new Uint8Array(32).fill(9));
    const r = await runCaptured(['caps', 'set', '-c', cfgFile, '--chain', 'alpha', '--max-transfer', '5000000', '--reason', 'incident 42', '--salt', salt, '--export-typed-data', file], { env: NO_KEYS });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(`--typed-data ${file} --salt ${salt} --signature <sig>`), r.stderr);
    const td = JSON.parse(fs.readFileSync(file, 'utf8')) as { primaryType: string; message: Record<string, string> };
    assert.equal(td.primaryType, 'CapChange');
    assert.deepEqual({ ...td.message, changeId: '', expiresAtSec: '' }, { deployment: 'extsig', action: 'propose', changeId: '', scope: 'chain:alpha', changes: 'maxTransfer=5000000', reason: 'incident 42', expiresAtSec: '' });
    const request = capRequestFromTypedDataFile(file, 'extsig', 'propose');
    assert.equal(request.changeId, capChangeId('extsig', { ...(request as CapChangeRequest), changeId: undefined } as never, salt));
    assert.equal(`${typedDataJson(capTypedData('extsig', 'propose', request))}\n`, fs.readFileSync(file, 'utf8'));

    const sig = await walletSign(C, file);
    assert.deepEqual(await checkCapSignature(config, { action: 'propose', request, salt, signature: sig }), { name: 'risk-c', address: C.address });

    const bad = await runCaptured(['caps', 'set', '-c', cfgFile, '--typed-data', file, '--salt', salt, '--signature', await walletSign(LP_B, file)], { env: NO_KEYS });
    assert.equal(bad.code, 1);
    assert.equal(lastLine(bad.stderr), `ballast: --signature does not verify, nothing sent: cap change ${request.changeId} refused: signer ${LP_B.address} is not a configured approver (risk-a ${LP_A.address}, risk-c ${C.address})`);
    // Another salt: the id no longer matches the content.
    const salted = await runCaptured(['caps', 'set', '-c', cfgFile, '--typed-data', file, '--salt', `0x${'11'.repeat(32)}`, '--signature', sig], { env: NO_KEYS });
    assert.match(lastLine(salted.stderr), /changeId does not match the request content and salt/);
  });

  test('caps set/approve/freeze usage errors exit 2 naming the flag', async () => {
    const id = `0x${'ab'.repeat(32)}`;
    const cases: [string[], RegExp][] = [
      [['caps', 'approve', id, '--signature', '0xnope'], /--signature must be a 65-byte signature/],
      [['caps', 'approve', id, '--signature', `0x${'ab'.repeat(64)}1b`, '--export-typed-data'], /not both/],
      [['caps', 'set', '--typed-data', 'x.json', '--signature', `0x${'ab'.repeat(63)}`], /--signature must be a 65-byte signature/],
      [['caps', 'set', '--typed-data', 'x.json', '--signature', `0x${'ab'.repeat(64)}1c`], /--signature needs --salt <hex>/],
      [['caps', 'set', '--chain', 'alpha', '--reason', 'x', '--salt', '0x12'], /--salt goes with --export-typed-data or --signature/],
      [['caps', 'set', '--chain', 'alpha', '--reason', 'x', '--salt', '0x12', '--export-typed-data'], /--salt must be 0x \+ 64 hex digits/],
      [['caps', 'freeze', '--all', '--typed-data', 'x.json', '--salt', id, '--signature', `0x${'ab'.repeat(64)}1c`], /holds the request: drop --all/],
      [['caps', 'freeze', '--all'], /required option '--reason <text>' not specified/],
    ];
    for (const [args, re] of cases) {
      const r = await runCaptured([...args, '-c', '/nonexistent.json'], { env: NO_KEYS });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(lastLine(r.stderr), re);
    }
  });

  test("caps approve: the second approver's wallet signs the exported approval (built from the pending request); other keys are refused", async () => {
    // `caps approve --export-typed-data|--signature` reads the pending request from the monitor (Temporal), then
    // exports capTypedData(deployment, 'approve', request) / checks with checkCapSignature: tested here directly.
    const content = { scope: { chainKey: 'beta' }, set: { maxOutflowPerWindow: 9n * 10n ** 12n }, reason: 'raise', expiresAtSec: 2_000_000_000n };
    const request: CapChangeRequest = { ...content, changeId: capChangeId('extsig', content, `0x${'22'.repeat(32)}`) };
    const file = path.join(dir, 'caps-approve.json');
    fs.writeFileSync(file, `${typedDataJson(capTypedData('extsig', 'approve', request))}\n`);
    const sig = await walletSign(LP_A, file);
    assert.equal(await recoverTypedDataAddress({ ...capTypedData('extsig', 'approve', request), signature: sig }), LP_A.address);
    assert.deepEqual(await checkCapSignature(config, { action: 'approve', request, signature: sig }), { name: 'risk-a', address: LP_A.address });
    await assert.rejects(checkCapSignature(config, { action: 'approve', request, signature: await walletSign(LP_B, file) }), new RegExp(`signer ${LP_B.address} is not a configured approver \\(risk-a ${getAddress(LP_A.address)}, risk-c ${C.address}\\)`));
    // A proposal's signature is not an approval's.
    const propose = path.join(dir, 'caps-propose.json');
    fs.writeFileSync(propose, `${typedDataJson(capTypedData('extsig', 'propose', request))}\n`);
    await assert.rejects(checkCapSignature(config, { action: 'approve', request, signature: await walletSign(C, propose) }), /is not a configured approver/);
  });

  test('caps freeze: export, sign, the signature checks out against the approvers', async () => {
    const file = path.join(dir, 'freeze.json');
    const salt = bytesToHex(new Uint8Array(32).fill(3));
    const r = await runCaptured(['caps', 'freeze', '-c', cfgFile, '--chain', 'alpha,beta', '--reason', 'bridge exploit', '--salt', salt, '--export-typed-data', file], { env: NO_KEYS });
    assert.equal(r.code, 0, r.stderr);
    const request = capRequestFromTypedDataFile(file, 'extsig', 'freeze');
    assert.deepEqual('action' in request && request.action === 'freeze' ? request.chains : undefined, ['alpha', 'beta']);
    assert.equal((await checkCapSignature(config, { action: 'freeze', request, salt, signature: await walletSign(C, file) })).name, 'risk-c');
    // Submitting it as an unfreeze is refused: the file's action is freeze.
    const wrong = await runCaptured(['caps', 'unfreeze', '-c', cfgFile, '--typed-data', file, '--salt', salt, '--signature', await walletSign(C, file)], { env: NO_KEYS });
    assert.equal(wrong.code, 1);
    assert.match(lastLine(wrong.stderr), /"action" is "freeze", this command submits "unfreeze"/);
  });
});
