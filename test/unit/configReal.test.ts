/**
 * Configuration for real use: `${VAR}` substitution (and that the substituted value never reaches an error), several
 * RPC URLs per chain and the fallback transport built from them, amounts in token units, the BALLAST_TEMPORAL_*
 * overrides, and deploy/ballast.example.yaml.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import YAML from 'yaml';
import {
  ConfigError,
  exampleConfig,
  loadConfig,
  parseAmountWithUnits,
  parseConfig,
  repoDir,
  substituteEnv,
  type BallastConfigInput,
} from '../../config/index.js';
import { createEvmClients } from '../../chains/evm/clients.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-config-real-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const addr = (chain: number, role: number): string => `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'ab'.repeat(18)}`;

function validInput(): BallastConfigInput {
  return exampleConfig({
    chains: [1, 2].map((i) => ({
      key: ['arbitrum', 'base'][i - 1]!,
      chainId: 31_336 + i,
      rpcUrl: `http://127.0.0.1:${8544 + i}`,
      eid: 40_000 + i,
      contracts: { multicall3: addr(i, 1), endpoint: addr(i, 2), token: addr(i, 3), vault: addr(i, 4), route: addr(i, 5), priceFeed: addr(i, 6) },
    })),
  });
}

/** Writes `obj` as YAML and loads it with `env`. */
function load(name: string, obj: unknown, env: Record<string, string | undefined> = {}) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, YAML.stringify(obj));
  return loadConfig(file, { env });
}

/** The error lines of `fn`, which must throw a ConfigError, without the `<file>: ` prefix. */
function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message.split('\n').map((l) => l.replace(/^[^:]*\.yaml: |^<inline>: /, ''));
  }
  assert.fail('expected a ConfigError');
}

describe('${VAR} substitution', () => {
  test('replaces ${NAME} in any string from the environment; $${ is a literal ${', () => {
    const input = validInput() as unknown as { chains: { rpcUrl: string }[]; deployment: string };
    input.chains[0]!.rpcUrl = 'https://arb.example.org/v2/${ARB_KEY}?x=$${literal}';
    input.deployment = '${DEPLOYMENT}';
    const c = load('subst.yaml', input, { ARB_KEY: 'k3y', DEPLOYMENT: 'prod-1' });
    assert.equal(c.chains[0]!.rpcUrl, 'https://arb.example.org/v2/k3y?x=${literal}');
    assert.equal(c.deployment, 'prod-1');
  });

  test('a variable not set is an error naming it and the config path; every one is reported, and the rest is still validated', () => {
    const input = validInput() as unknown as { chains: { rpcUrl: string; chainId: unknown }[] };
    input.chains[1]!.rpcUrl = 'https://base.example.org/v2/${ALCHEMY_KEY}';
    input.chains[0]!.rpcUrl = 'https://a.example.org/${EMPTY}/${BAD-NAME}/${OPEN';
    input.chains[0]!.chainId = 'x';
    const lines = errorLines(() => load('missing.yaml', input, { EMPTY: '' }));
    assert.deepEqual(lines, [
      'chains[0].rpcUrl: ${EMPTY} is not set: EMPTY is empty (got "https://a.example.org/${EMPTY}/${BAD-NAME}/${OPEN")',
      'chains[0].rpcUrl: "${BAD-NAME}" is not an environment variable reference: write ${NAME} (letters, digits, _), or $${ for a literal "${" (got "https://a.example.org/${EMPTY}/${BAD-NAME}/${OPEN")',
      'chains[0].rpcUrl: unterminated "${": write ${NAME} for an environment variable, or $${ for a literal "${" (got "https://a.example.org/${EMPTY}/${BAD-NAME}/${OPEN")',
      `chains[1].rpcUrl: \${ALCHEMY_KEY} is not set (export ALCHEMY_KEY in the keeper's environment) (got "https://base.example.org/v2/\${ALCHEMY_KEY}")`,
      'chains[0].chainId: must be a positive integer (EVM chain id) (got "x")',
    ]);
  });

  test('an error on a substituted field shows the value as written, never the secret', () => {
    const input = validInput() as unknown as { chains: { rpcUrl: string }[] };
    input.chains[0]!.rpcUrl = '${RPC}';
    const text = errorLines(() => load('secret.yaml', input, { RPC: 'not-a-url-TOPSECRET' })).join('\n');
    assert.match(text, /chains\[0\]\.rpcUrl: must be an http\(s\):\/\/ or ws\(s\):\/\/ URL \(got "\$\{RPC\}"\)/);
    assert.doesNotMatch(text, /TOPSECRET/);
  });

  test('only strings are substituted; keys, numbers and parseConfig (no environment) are left alone', () => {
    assert.deepEqual(substituteEnv({ '${K}': 1, n: 2, l: ['${A}'] }, { K: 'x', A: 'a' }).value, { '${K}': 1, n: 2, l: ['a'] });
    const input = validInput() as unknown as { deployment: string };
    input.deployment = '${X}';
    assert.match(errorLines(() => parseConfig(input))[0]!, /^deployment: must be a lowercase id/);
  });
});

describe('rpcUrls', () => {
  test('rpcUrl or rpcUrls: both give rpcUrls (all, in order) and rpcUrl (the first)', () => {
    const input = validInput() as unknown as { chains: { rpcUrl?: string; rpcUrls?: string[] }[] };
    delete input.chains[0]!.rpcUrl;
    input.chains[0]!.rpcUrls = ['https://a.example.org/v2/k', 'https://b.example.org'];
    const c = parseConfig(input);
    assert.deepEqual(c.chains[0]!.rpcUrls, ['https://a.example.org/v2/k', 'https://b.example.org']);
    assert.equal(c.chains[0]!.rpcUrl, 'https://a.example.org/v2/k');
    assert.deepEqual(c.chains[1]!.rpcUrls, ['http://127.0.0.1:8546']);
    assert.equal(c.chains[1]!.rpcUrl, 'http://127.0.0.1:8546');
  });

  test('neither, both, an empty list, a bad or a duplicate URL are refused with their paths', () => {
    const input = validInput() as unknown as { chains: { rpcUrl?: string; rpcUrls?: unknown }[] };
    delete input.chains[0]!.rpcUrl;
    input.chains[1]!.rpcUrls = ['https://b.example.org'];
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      "chains[0].rpcUrl: required: the chain's RPC URL (rpcUrl), or several in order of preference (rpcUrls: [...]) (got nothing)",
      'chains[1].rpcUrls: set either rpcUrl or rpcUrls, not both (put every URL in rpcUrls) (got ["https://b.example.org"])',
    ]);
    input.chains[0]!.rpcUrls = [];
    delete input.chains[1]!.rpcUrl;
    input.chains[1]!.rpcUrls = ['https://b.example.org', 'ftp://x', 'https://b.example.org'];
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      'chains[0].rpcUrls: needs at least one URL (got [])',
      'chains[1].rpcUrls[1]: must be an http(s):// or ws(s):// URL (got "ftp://x")',
      'chains[1].rpcUrls[2]: duplicate: rpcUrls[0] is the same URL (got "https://b.example.org")',
    ]);
  });
});

describe('amounts in token units', () => {
  const usdc = { symbol: 'USDC', decimals: 6 };
  test('exact conversion with bigint: symbol, k/m/b shorthands, fractions; integer strings stay base units', () => {
    const cases: [unknown, bigint][] = [
      ['250000 USDC', 250_000_000_000n],
      ['0.5 USDC', 500_000n],
      ['0.000001 usdc', 1n],
      ['1_000_000 USDC', 1_000_000_000_000n],
      ['1.0000000 USDC', 1_000_000n],
      ['5m', 5_000_000_000_000n],
      ['250k', 250_000_000_000n],
      ['1.5b USDC', 1_500_000_000_000_000n],
      ['2.5K', 2_500_000_000n],
      ['250000', 250_000n],
      [250000, 250_000n],
    ];
    for (const [v, want] of cases) assert.deepEqual(parseAmountWithUnits(v, usdc), { ok: true, value: want }, String(v));
    // 18 decimals, beyond 2^53 and beyond float precision: exact.
    assert.deepEqual(parseAmountWithUnits('123456789.123456789123456789 WETH', { symbol: 'WETH', decimals: 18 }), { ok: true, value: 123456789123456789123456789n });
  });

  test('refused: finer than a base unit, another symbol, negative, a unitless decimal, garbage', () => {
    const msg = (v: unknown, asset: { symbol: string; decimals: number } | undefined = usdc) => {
      const r = parseAmountWithUnits(v, asset);
      assert.equal(r.ok, false, String(v));
      return (r as { message: string }).message;
    };
    assert.equal(msg('0.0000001 USDC'), "has more decimals than USDC's 6 (asset.decimals): the smallest amount is 0.000001 USDC");
    assert.equal(msg('1.5 X', { symbol: 'X', decimals: 0 }), "has more decimals than X's 0 (asset.decimals): the smallest amount is 1 X");
    assert.equal(msg('0.0000000001k'), "has more decimals than USDC's 6 (asset.decimals): the smallest amount is 0.000001 USDC");
    assert.equal(msg('5 ETH'), 'unit "ETH" is not the asset: amounts are in USDC (asset.symbol)');
    assert.equal(msg('-5 USDC'), 'must be ≥ 0');
    assert.match(msg('0.5'), /^a decimal amount needs a unit: "0\.5 USDC"/);
    assert.match(msg('5 million'), /^unit "million" is not the asset/);
    assert.match(msg('1,000 USDC'), /^must be an amount: "250000 USDC", "0\.5 USDC", "250k", "5m" \(token units\)/);
    const noAsset = parseAmountWithUnits('5m', undefined);
    assert.ok(!noAsset.ok && /^token units need a valid asset/.test(noAsset.message));
  });

  test('every amount field of the config takes them; errors name the path and show the value as written', () => {
    const input = validInput() as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    Object.assign(input.chains[0], { minBuffer: '10k', caps: { maxOutflowPerWindow: '1m', windowSec: 60, maxTransfer: '250000 USDC', minTransfer: '0.5 USDC' } });
    input.chains[0].capacity = { highPct: 80, lowPct: 50, minMove: '1k', maxMove: '2.5m USDC' };
    input.bridges = { layerzero: { rateLimit: '100k' } };
    const c = parseConfig(input);
    assert.equal(c.chains[0]!.minBuffer, 10_000_000_000n);
    assert.deepEqual(c.chains[0]!.caps, { maxOutflowPerWindow: 1_000_000_000_000n, windowSec: 60, maxTransfer: 250_000_000_000n, minTransfer: 500_000n });
    assert.equal(c.chains[0]!.capacity!.minMove, 1_000_000_000n);
    assert.equal(c.chains[0]!.capacity!.maxMove, 2_500_000_000_000n);
    assert.equal(c.bridges.layerzero.rateLimit, 100_000_000_000n);

    input.chains[1].caps.minTransfer = '0.0000001 USDC';
    input.chains[1].minBuffer = '3 DAI';
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      'chains[1].minBuffer: unit "DAI" is not the asset: amounts are in USDC (asset.symbol) (got "3 DAI")',
      'chains[1].caps.minTransfer: has more decimals than USDC\'s 6 (asset.decimals): the smallest amount is 0.000001 USDC (got "0.0000001 USDC")',
    ]);
  });
});

describe('BALLAST_TEMPORAL_ADDRESS / BALLAST_TEMPORAL_NAMESPACE', () => {
  test('override temporal.address and temporal.namespace when set and not empty', () => {
    const input = validInput();
    assert.deepEqual(load('t0.yaml', input, {}).temporal, { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ballast' });
    const c = load('t1.yaml', input, { BALLAST_TEMPORAL_ADDRESS: 'temporal.prod:7233', BALLAST_TEMPORAL_NAMESPACE: 'ballast-prod' });
    assert.deepEqual(c.temporal, { address: 'temporal.prod:7233', namespace: 'ballast-prod', taskQueue: 'ballast' });
    assert.equal(load('t2.yaml', { ...input, temporal: { address: 'a:1' } }, { BALLAST_TEMPORAL_ADDRESS: '' }).temporal.address, 'a:1');
    assert.deepEqual(errorLines(() => load('t3.yaml', input, { BALLAST_TEMPORAL_ADDRESS: 'no-port' })), [
      'temporal.address: must be host:port, e.g. "127.0.0.1:7233" (set by the environment variable BALLAST_TEMPORAL_ADDRESS) (got "no-port")',
    ]);
  });
});

describe('deploy/ballast.example.yaml', () => {
  const file = path.join(repoDir(), 'deploy', 'ballast.example.yaml');
  test('loads with the loader, given its RPC API keys in the environment', () => {
    const c = loadConfig(file, { env: { ALCHEMY_API_KEY: 'alchemy-test', INFURA_API_KEY: 'infura-test' } });
    assert.deepEqual(
      c.chains.map((ch) => [ch.key, ch.chainId, ch.eid, ch.wormhole?.chainId, ch.rpcUrls.length]),
      [
        ['sepolia', 11155111, 40161, 10002, 2],
        ['arbitrum-sepolia', 421614, 40231, 10003, 2],
      ],
    );
    for (const ch of c.chains) {
      assert.equal(ch.contracts.multicall3, '0xcA11bde05977b3631167028862bE2a173976CA11');
      assert.equal(ch.contracts.endpoint, '0x6EDCE65403992e310A62460808c4b910D972f10f');
      assert.equal(ch.minBuffer, 10_000_000_000n);
      assert.equal(ch.caps.maxOutflowPerWindow, 1_000_000_000_000n);
      assert.equal(ch.caps.maxTransfer, 250_000_000_000n);
      assert.equal(ch.caps.minTransfer, 100_000_000n);
      assert.ok(ch.rpcUrls.every((u) => /alchemy-test|infura-test/.test(u)));
    }
    assert.equal(c.chains[0]!.rpcUrl, 'https://eth-sepolia.g.alchemy.com/v2/alchemy-test');
  });
  test('without the API keys, each missing variable is named with its path', () => {
    const lines = errorLines(() => loadConfig(file, { env: {} }));
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^chains\[0\]\.rpcUrls\[0\]: \$\{ALCHEMY_API_KEY\} is not set/);
    assert.match(lines[3]!, /^chains\[1\]\.rpcUrls\[1\]: \$\{INFURA_API_KEY\} is not set/);
  });
});

describe('fallback transport over rpcUrls', () => {
  /** A JSON-RPC server answering eth_chainId with `chainId`, counting requests. */
  async function rpcServer(chainId: number) {
    let hits = 0;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        hits++;
        const rq = JSON.parse(body) as { id: number };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ jsonrpc: '2.0', id: rq.id, result: `0x${chainId.toString(16)}` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}/v2/KEY`, hits: () => hits, close: () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections(); // viem's keep-alive sockets would keep the test process alive for seconds
        }),
    };
  }

  test('a dead first URL falls over to the next; with both up, requests go to the first (rank: false keeps the order)', async () => {
    const [one, two] = [await rpcServer(7), await rpcServer(7)];
    const deadPort = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    try {
      const dead = createEvmClients({ chainKey: 'x', chainId: 7, rpcUrl: `http://127.0.0.1:${deadPort}`, rpcUrls: [`http://127.0.0.1:${deadPort}`, two.url], multicall3: addr(1, 1) as `0x${string}` }, undefined, 1000);
      assert.equal(dead.publicClient.transport.type, 'fallback');
      assert.deepEqual(dead.rpcUrls, [`http://127.0.0.1:${deadPort}`, two.url]);
      assert.equal(await dead.publicClient.getChainId(), 7);
      assert.equal(two.hits(), 1);

      const both = createEvmClients({ chainKey: 'x', chainId: 7, rpcUrl: one.url, rpcUrls: [one.url, two.url], multicall3: addr(1, 1) as `0x${string}` }, undefined, 1000);
      for (let i = 0; i < 3; i++) await both.publicClient.getChainId();
      assert.equal(one.hits(), 3);
      assert.equal(two.hits(), 1);

      const single = createEvmClients({ chainKey: 'x', chainId: 7, rpcUrl: one.url, multicall3: addr(1, 1) as `0x${string}` });
      assert.equal(single.publicClient.transport.type, 'http');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
