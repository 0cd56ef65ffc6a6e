/**
 * `ballast config check` in-process (runCaptured) against real anvil chains and a real Temporal dev server: a good
 * config passes every check (exit 0); a wrong chain id, an unreachable RPC (its API key never printed), an address
 * without code and an unreachable Temporal each fail with a line naming what and why (exit 1); usage errors exit 2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import YAML from 'yaml';
import { Keypair } from '@solana/web3.js';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { findFreePort, startTemporalDevServer, type TemporalDevServer } from '../../devnet/temporal.js';
import { runCaptured } from '../../cli/main.js';

const addr = (chain: number, role: number): string => `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'ab'.repeat(18)}`;

/** The parts of a raw config the tests edit. */
interface RawChain {
  chainId: number;
  rpcUrl?: string;
  rpcUrls?: string[];
  contracts: Record<string, string>;
  caps: Record<string, unknown>;
}
interface RawConfig {
  temporal: { address: string; namespace: string };
  chains: RawChain[];
}

describe('ballast config check', () => {
  let dir: string;
  let a: AnvilInstance;
  let b: AnvilInstance;
  let temporal: TemporalDevServer;
  let closedPort: number;

  /** A config over the two anvils (chain ids 31337, 31338); `edit` changes the raw object before it is written. */
  const writeConfig = (name: string, edit: (c: RawConfig) => void = () => undefined): string => {
    const chain = (i: number, key: string, anvil: AnvilInstance): RawChain & Record<string, unknown> => ({
      key,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      eid: 40_100 + i,
      contracts: { multicall3: addr(i, 1), endpoint: addr(i, 2), token: addr(i, 3), vault: addr(i, 4), route: addr(i, 5), priceFeed: addr(i, 6) },
      band: { lowPct: 60, highPct: 80 },
      minBuffer: '10000 USDC',
      caps: { maxOutflowPerWindow: '1m', windowSec: 3600, maxTransfer: '250k', minTransfer: '100 USDC' },
      oracle: { maxStalenessSec: 3600, maxDeviationBps: 500 },
    });
    const c: RawConfig & Record<string, unknown> = {
      deployment: 'check',
      asset: { symbol: 'USDC', decimals: 6 },
      temporal: { address: temporal.address, namespace: 'default' },
      chains: [chain(1, 'alpha', a), chain(2, 'beta', b)],
    };
    edit(c);
    const file = path.join(dir, name);
    fs.writeFileSync(file, YAML.stringify(c));
    return file;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-config-check-'));
    [a, b, temporal, closedPort] = await Promise.all([
      startAnvil({ chainId: 31337 }),
      startAnvil({ chainId: 31338 }),
      startTemporalDevServer({ logFile: path.join(dir, 'temporal.log') }),
      findFreePort(),
    ]);
    // Code at every configured address (a byte is enough for eth_getCode), except beta's vault.
    for (const [i, anvil] of [[1, a], [2, b]] as const) {
      for (let role = 1; role <= 6; role++) {
        if (i === 2 && role === 4) continue;
        await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setCode', params: [addr(i, role), '0x00'] }) });
      }
    }
    await fetch(b.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setCode', params: [addr(2, 4), '0x6000'] }) });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), temporal?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a good config passes every check: RPCs, contract code, Temporal and its namespace (exit 0)', async () => {
    const r = await runCaptured(['config', 'check', '-c', writeConfig('good.yaml'), '--timeout', '3']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^✓ config .*good\.yaml: valid: deployment check, asset USDC \(6 decimals\), 2 EVM chain\(s\)$/m);
    assert.match(r.stdout, new RegExp(`^✓ alpha rpcUrls\\[0\\] http://127\\.0\\.0\\.1:${a.port}: chain id 31337, latest block \\d+ \\(\\d+ s old\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^✓ beta contracts\\.vault ${addr(2, 4)}: has code \\(2 bytes\\)$`, 'im'));
    assert.equal(r.stdout.match(/^✓ (alpha|beta) contracts\.\w+ 0x[0-9a-fA-F]{40}: has code/gm)?.length, 12);
    assert.match(r.stdout, new RegExp(`^✓ temporal\\.address ${temporal.address}: Temporal server \\S+ answers \\(getSystemInfo\\)$`, 'm'));
    assert.match(r.stdout, /^✓ temporal\.namespace default: exists$/m);
    assert.doesNotMatch(r.stdout, /✗/);
  });

  test('a wrong chain id fails naming the chain, the id found and the config field', async () => {
    const file = writeConfig('wrong-id.yaml', (c) => (c.chains[1]!.chainId = 8453));
    const r = await runCaptured(['config', 'check', '-c', file, '--no-temporal']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^✗ beta rpcUrls\[0\] http:\/\/127\.0\.0\.1:\d+: wrong chain: the RPC reports chain id 31338, chains\[1\]\.chainId is 8453$/m);
    assert.match(r.stdout, /^✗ beta contracts: not checked \(6 addresses\): no RPC URL of beta answered with chain id 8453$/m);
    assert.match(r.stdout, /^✓ alpha rpcUrls\[0\]/m);
    assert.match(r.stdout, /^- temporal: not checked \(--no-temporal\)$/m);
  });

  test('an unreachable RPC fails naming the chain key and the cause, URL redacted (the ${VAR} API key is never printed); the next URL is still checked', async () => {
    const file = writeConfig('dead-rpc.yaml', (c) => {
      delete c.chains[0]!.rpcUrl;
      c.chains[0]!.rpcUrls = [`http://127.0.0.1:${closedPort}/v2/\${CHECK_API_KEY}`, a.rpcUrl];
    });
    const r = await runCaptured(['config', 'check', '-c', file, '--no-temporal', '--timeout', '2'], { env: { CHECK_API_KEY: 'SECRETKEY123' } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^✗ alpha rpcUrls\\[0\\] http://127\\.0\\.0\\.1:${closedPort}: unreachable: connection refused \\(ECONNREFUSED\\)$`, 'm'));
    assert.match(r.stdout, /^✓ alpha rpcUrls\[1\] .*chain id 31337/m);
    assert.match(r.stdout, /^✓ alpha contracts\.multicall3 /m);
    assert.doesNotMatch(r.stdout + r.stderr, /SECRETKEY123|\/v2\//);
  });

  test('an address without code fails naming the chain, the field and the address', async () => {
    const file = writeConfig('no-code.yaml', (c) => (c.chains[1]!.contracts.route = addr(2, 9)));
    const r = await runCaptured(['config', 'check', '-c', file, '--no-temporal']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^✗ beta contracts\\.route ${addr(2, 9)}: no code at this address on chain 31338 \\(not deployed here, or a wrong address\\)$`, 'im'));
  });

  test('an unreachable Temporal fails naming temporal.address within the timeout', async () => {
    const file = writeConfig('no-temporal.yaml', (c) => (c.temporal.address = `127.0.0.1:${closedPort}`));
    const t0 = Date.now();
    const r = await runCaptured(['config', 'check', '-c', file, '--timeout', '1.5']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.match(r.stdout, new RegExp(`^✗ temporal\\.address 127\\.0\\.0\\.1:${closedPort}: cannot connect within 1\\.5 s: .+check temporal\\.address\\)$`, 'm'));
    assert.match(r.stdout, /^✓ beta rpcUrls\[0\]/m);
  });

  test('BALLAST_TEMPORAL_ADDRESS overrides temporal.address, and the line says so', async () => {
    const file = writeConfig('override.yaml', (c) => (c.temporal.address = `127.0.0.1:${closedPort}`));
    const r = await runCaptured(['config', 'check', '-c', file, '--timeout', '3'], { env: { BALLAST_TEMPORAL_ADDRESS: temporal.address } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^✓ temporal\\.address ${temporal.address} \\(from BALLAST_TEMPORAL_ADDRESS\\): `, 'm'));
  });

  test('wormhole addresses are checked too; a Solana chain: its slot and each account (a stand-in JSON-RPC server)', async () => {
    // A minimal Solana JSON-RPC stand-in: getSlot, and getMultipleAccounts where the custody account does not exist.
    const accounts = { mint: '', reserve: '', reserveLiquidity: '', treasury: '', custody: '', pythPrice: '' };
    for (const k of Object.keys(accounts) as (keyof typeof accounts)[]) accounts[k] = Keypair.generate().publicKey.toBase58();
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const rq = JSON.parse(body) as { id: number; method: string; params: unknown[] };
        seen.push(rq.method);
        const result =
          rq.method === 'getSlot'
            ? 4242
            : { context: { slot: 4242 }, value: (rq.params[0] as string[]).map((a) => (a === accounts.custody ? null : { lamports: 1, owner: '11111111111111111111111111111111', data: ['', 'base64'], executable: false, rentEpoch: 0 })) };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ jsonrpc: '2.0', id: rq.id, result }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const file = writeConfig('wormhole-solana.yaml', (c) => {
        c.chains.forEach((ch, i) => Object.assign(ch, { wormhole: { chainId: 10_002 + i, core: addr(i + 1, 7), adapter: addr(i + 1, 8) } }));
        Object.assign(c, {
          wormhole: { guardianUrl: 'http://127.0.0.1:7071', guardianSets: [{ index: 0, keys: ['0xbefa429d57cd18b7f8a4d91a2da9ab4af05d0fbe'] }] },
          solana: {
            custodyUrl: 'http://127.0.0.1:7072',
            chains: [{ key: 'solana', rpcUrl: `http://127.0.0.1:${port}/?api-key=\${CHECK_SOL_KEY}`, accounts, band: { lowPct: 60, highPct: 80 }, minBuffer: '10k', caps: { maxOutflowPerWindow: '1m', windowSec: 3600, maxTransfer: '250k', minTransfer: '100 USDC' }, oracle: { maxStalenessSec: 3600, maxDeviationBps: 500 } }],
          },
        });
      });
      const r = await runCaptured(['config', 'check', '-c', file, '--no-temporal'], { env: { CHECK_SOL_KEY: 'SOLSECRET' } });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /1 Solana chain\(s\)/);
      // wormhole.core has no code (role 7 was not given any), wormhole.adapter neither: both named.
      assert.match(r.stdout, new RegExp(`^✗ alpha wormhole\\.core ${addr(1, 7)}: no code at this address`, 'im'));
      assert.match(r.stdout, new RegExp(`^✗ beta wormhole\\.adapter ${addr(2, 8)}: no code at this address`, 'im'));
      assert.match(r.stdout, new RegExp(`^✓ solana rpcUrl http://127\\.0\\.0\\.1:${port}: slot 4242 \\(confirmed\\)$`, 'm'));
      assert.match(r.stdout, new RegExp(`^✓ solana accounts\\.mint ${accounts.mint}: exists$`, 'm'));
      assert.match(r.stdout, new RegExp(`^✗ solana accounts\\.custody ${accounts.custody}: no such account on this cluster$`, 'm'));
      assert.deepEqual(seen, ['getSlot', 'getMultipleAccounts']);
      assert.doesNotMatch(r.stdout + r.stderr, /SOLSECRET/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('an invalid config lists every issue with its path and probes nothing (exit 1); usage errors exit 2', async () => {
    const file = writeConfig('invalid.yaml', (c) => {
      c.chains[0]!.caps.minTransfer = '0.0000001 USDC';
      c.chains[1]!.rpcUrl = `http://127.0.0.1:1/\${CHECK_UNSET_VAR}`;
    });
    const r = await runCaptured(['config', 'check', '-c', file], { env: { CHECK_UNSET_VAR: undefined } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^✗ config .*invalid\.yaml: 2 issue\(s\):$/m);
    assert.match(r.stdout, /chains\[1\]\.rpcUrl: \$\{CHECK_UNSET_VAR\} is not set/);
    assert.match(r.stdout, /chains\[0\]\.caps\.minTransfer: has more decimals than USDC's 6 \(asset\.decimals\)/);
    assert.doesNotMatch(r.stdout, /rpcUrls\[0\]/);

    const missing = await runCaptured(['config', 'check']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr.trim().split('\n').at(-1)!, /^ballast config check: required option '-c, --config <file>' not specified$/);
    const badTimeout = await runCaptured(['config', 'check', '-c', file, '--timeout', '0']);
    assert.equal(badTimeout.code, 2);
    const noFile = await runCaptured(['config', 'check', '-c', path.join(dir, 'absent.yaml')]);
    assert.equal(noFile.code, 1);
    assert.match(noFile.stdout, /absent\.yaml: \(root\): cannot read the file \(ENOENT\)/);
  });
});
