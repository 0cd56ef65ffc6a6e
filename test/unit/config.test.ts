import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import {
  ConfigError,
  CONFIG_DEFAULTS,
  chainPolicies,
  exampleConfig,
  loadConfig,
  parseConfig,
  percentToWad,
  writeConfigFile,
  type BallastConfigInput,
} from '../../config/index.js';
import { WAD } from '../../planner/types.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-config-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** lower-case addresses that are valid hex, distinct per chain and role */
function addr(chain: number, role: number): string {
  return `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'ab'.repeat(18)}`;
}

function validInput(): BallastConfigInput {
  return exampleConfig({
    chains: [1, 2, 3].map((i) => ({
      key: ['arbitrum', 'base', 'optimism'][i - 1]!,
      chainId: 31_336 + i,
      rpcUrl: `http://127.0.0.1:${8544 + i}`,
      eid: 40_000 + i,
      contracts: {
        multicall3: addr(i, 1),
        endpoint: addr(i, 2),
        token: addr(i, 3),
        vault: addr(i, 4),
        route: addr(i, 5),
        priceFeed: addr(i, 6),
      },
    })),
  });
}

/** The error lines of `fn`, which must throw a ConfigError. */
function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

const MINIMAL_YAML = `
deployment: devnet
asset: { symbol: USDC, decimals: 6 }
chains:
  - key: arbitrum
    chainId: 42161
    rpcUrl: http://127.0.0.1:8545
    eid: 30110
    contracts:
      multicall3: 0xca11bde05977b3631167028862be2a173976ca11
      endpoint: 0x1a44076050125825900e736c501f859c50fe728c
      token: 0xaf88d065e77c8cc2239327c5edb3a432268e5831
      vault: 0x0000000000000000000000000000000000000aaa
      route: 0x0000000000000000000000000000000000000bbb
      priceFeed: 0x50834f3163758fcc1df9973b6e91f0f0f0434ad3
    band: { lowPct: 60, highPct: 80 }
    minBuffer: "250000000000"
    caps: { maxOutflowPerWindow: 1000000000000, windowSec: 3600, maxTransfer: "250000000000", minTransfer: "100000000" }
    oracle: { maxStalenessSec: 3600, maxDeviationBps: 500 }
  - key: base
    chainId: 8453
    rpcUrl: https://base.example.org/rpc
    eid: 30184
    contracts:
      multicall3: 0xca11bde05977b3631167028862be2a173976ca11
      endpoint: 0x1a44076050125825900e736c501f859c50fe728c
      token: 0x833589fcd6edb6e08f4c7c32d4f71b54bda02913
      vault: 0x0000000000000000000000000000000000000ccc
      route: 0x0000000000000000000000000000000000000ddd
      priceFeed: 0x71041dddad3595f9ced3dccfbe3d1f4b0a16bb70
    band: { lowPct: 55.5, highPct: "85.25" }
    minBuffer: 0
    caps: { maxOutflowPerWindow: "1000000000000", windowSec: 600, maxTransfer: "250000000000", minTransfer: "100000000" }
    oracle: { maxStalenessSec: 86400, maxDeviationBps: 10000 }
    confirmations: 3
`;

describe('loadConfig', () => {
  test('a YAML file loads with defaults filled, bigint amounts, WAD bands and checksummed addresses', () => {
    const cfg = loadConfig(write('ok.yaml', MINIMAL_YAML));
    assert.equal(cfg.deployment, 'devnet');
    assert.deepEqual(cfg.temporal, CONFIG_DEFAULTS.temporal);
    assert.deepEqual(cfg.metrics, CONFIG_DEFAULTS.metrics);
    assert.deepEqual(cfg.tick, CONFIG_DEFAULTS.tick);
    assert.deepEqual(cfg.keeper, { privateKeyEnv: 'BALLAST_KEEPER_PRIVATE_KEY', keystorePasswordEnv: 'BALLAST_KEYSTORE_PASSWORD' });
    assert.deepEqual(cfg.layerzero, CONFIG_DEFAULTS.layerzero);
    const [arb, base] = cfg.chains;
    assert.ok(arb && base);
    assert.equal(arb.minBuffer, 250_000_000_000n);
    assert.equal(arb.caps.maxOutflowPerWindow, 1_000_000_000_000n);
    assert.equal(base.minBuffer, 0n);
    assert.deepEqual(arb.band, { lowWad: (WAD * 60n) / 100n, highWad: (WAD * 80n) / 100n });
    assert.deepEqual(base.band, { lowWad: 555n * 10n ** 15n, highWad: 8525n * 10n ** 14n });
    // unquoted 0x… in YAML stays an address (not a hex integer) and comes back EIP-55 checksummed
    assert.equal(arb.contracts.token, '0xaf88d065e77c8cC2239327C5EDb3A432268e5831');
    assert.equal(arb.confirmations, 1);
    assert.equal(base.confirmations, 3);
  });

  test('a JSON file with the same content loads to the same config', () => {
    const fromYaml = loadConfig(write('same.yaml', MINIMAL_YAML));
    const json = JSON.stringify(parseYamlForTest(MINIMAL_YAML));
    const fromJson = loadConfig(write('same.json', json));
    assert.deepEqual(fromJson, fromYaml);
  });

  test('an amount above 2^53 is exact when written as a YAML integer or a string, and refused as a JSON number', () => {
    const big = '123456789012345678901';
    const y = MINIMAL_YAML.replace('minBuffer: "250000000000"', `minBuffer: ${big}`);
    assert.equal(loadConfig(write('big.yaml', y)).chains[0]?.minBuffer, BigInt(big));
    const obj = parseYamlForTest(MINIMAL_YAML) as { chains: { minBuffer: unknown }[] };
    obj.chains[0]!.minBuffer = big;
    assert.equal(loadConfig(write('big-str.json', JSON.stringify(obj))).chains[0]?.minBuffer, BigInt(big));
    const file = write('big.json', JSON.stringify(obj).replace(`"${big}"`, big));
    const lines = errorLines(() => loadConfig(file));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /chains\[0\]\.minBuffer: integer above 2\^53 .* quoted string/);
  });

  test('a missing file, an unknown extension and broken YAML are ConfigErrors naming the file', () => {
    const missing = path.join(dir, 'nope.yaml');
    assert.match(errorLines(() => loadConfig(missing))[0]!, new RegExp(`^${escape(missing)}: \\(root\\): cannot read the file \\(ENOENT\\)`));
    const toml = write('c.toml', 'x = 1');
    assert.match(errorLines(() => loadConfig(toml))[0]!, /unknown config format; name the file \*\.yaml/);
    const broken = write('broken.yaml', 'chains: [\n  - key: a\n');
    assert.match(errorLines(() => loadConfig(broken))[0]!, /broken\.yaml: \(root\): not valid YAML/);
  });
});

describe('validation messages', () => {
  test('a negative amount names the exact path and the value as written', () => {
    const input = validInput();
    input.chains[2]!.caps.maxOutflowPerWindow = '-5';
    assert.deepEqual(errorLines(() => parseConfig(input, 'ballast.yaml')), [
      'ballast.yaml: chains[2].caps.maxOutflowPerWindow: must be ≥ 0 (got "-5")',
    ]);
  });

  test('every issue is reported at once, one per line', () => {
    const input = validInput() as unknown as Record<string, unknown> & { chains: Record<string, unknown>[] };
    input.deployment = 'Dev Net';
    input.chains[0]!.rpcUrl = 'ftp://x';
    input.chains[1]!.minBuffer = '12.5';
    input.chains[2]!.oracle = { maxStalenessSec: 0, maxDeviationBps: 20_000 };
    const lines = errorLines(() => parseConfig(input));
    assert.deepEqual(lines, [
      '<inline>: deployment: must be a lowercase id: a-z, 0-9, "-" or "_", e.g. "devnet" (got "Dev Net")',
      '<inline>: chains[0].rpcUrl: must be an http(s):// or ws(s):// URL (got "ftp://x")',
      '<inline>: chains[1].minBuffer: must be a whole number of base units as a decimal string, e.g. "250000000000" (no decimals, units or separators) (got "12.5")',
      '<inline>: chains[2].oracle.maxStalenessSec: must be a positive integer number of seconds (got 0)',
      '<inline>: chains[2].oracle.maxDeviationBps: must be ≤ 10000 bps (100%) (got 20000)',
    ]);
  });

  test('band low must be below high, both within 0..100 with at most 2 decimals', () => {
    const input = validInput();
    input.chains[0]!.band = { lowPct: 80, highPct: 80 };
    input.chains[1]!.band = { lowPct: -1, highPct: 100.5 };
    input.chains[2]!.band = { lowPct: '60.123', highPct: 70 };
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      '<inline>: chains[0].band.lowPct: must be < band.highPct (80.00%) (got 80)',
      '<inline>: chains[1].band.lowPct: must be a percent between 0 and 100 with at most 2 decimals, e.g. 60 or 72.5 (got -1)',
      '<inline>: chains[1].band.highPct: must be between 0 and 100 (got 100.5)',
      '<inline>: chains[2].band.lowPct: must be a percent between 0 and 100 with at most 2 decimals, e.g. 60 or 72.5 (got "60.123")',
    ]);
  });

  test('percents convert to WAD exactly, without float math', () => {
    const cases: [number | string, bigint][] = [
      [0, 0n],
      [0.01, 10n ** 14n],
      [72.5, 725n * 10n ** 15n],
      ['33.33', 3333n * 10n ** 14n],
      [100, WAD],
    ];
    for (const [pct, wad] of cases) assert.deepEqual(percentToWad(pct), { ok: true, value: wad }, `percent ${pct}`);
    assert.equal(percentToWad(0.1 + 0.2).ok, false, '0.30000000000000004 has more than 2 decimals');
  });

  test('minTransfer above maxTransfer is refused', () => {
    const input = validInput();
    input.chains[1]!.caps.minTransfer = '300';
    input.chains[1]!.caps.maxTransfer = 200;
    assert.deepEqual(errorLines(() => parseConfig(input)), ['<inline>: chains[1].caps.minTransfer: must be ≤ caps.maxTransfer (200) (got "300")']);
  });

  test('duplicate chain keys, chainIds and eids are refused, naming the first occurrence', () => {
    const input = validInput();
    input.chains[2]!.key = input.chains[0]!.key;
    input.chains[2]!.chainId = input.chains[1]!.chainId;
    input.chains[1]!.eid = input.chains[0]!.eid;
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      '<inline>: chains[2].key: duplicate: chains[0].key has the same value (got "arbitrum")',
      '<inline>: chains[2].chainId: duplicate: chains[1].chainId has the same value (got 31338)',
      '<inline>: chains[1].eid: duplicate: chains[0].eid has the same value (got 40001)',
    ]);
  });

  test('fewer than two chains is refused', () => {
    const input = validInput();
    input.chains = input.chains.slice(0, 1);
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      '<inline>: chains: needs at least 2 chains to rebalance between (got [{"key":"arbitrum","chainId":31337,"rpcUrl":"http://127.0.0.1:8545","eid":400...)',
    ]);
  });

  test('bad addresses: wrong length and wrong EIP-55 checksum', () => {
    const input = validInput();
    input.chains[0]!.contracts.vault = '0x1234';
    input.chains[1]!.contracts.token = '0xAF88d065e77c8cC2239327C5EDb3A432268e5831';
    const lines = errorLines(() => parseConfig(input));
    assert.deepEqual(lines, [
      '<inline>: chains[0].contracts.vault: must be an EVM address: 0x followed by 40 hex digits (got "0x1234")',
      '<inline>: chains[1].contracts.token: bad EIP-55 checksum (mixed case that does not match); write it all-lowercase or correctly checksummed (got "0xAF88d065e77c8cC2239327C5EDb3A432268e5831")',
    ]);
  });

  test('unknown keys are refused, and a private key in the file gets pointed to the env var without being echoed', () => {
    const input = { ...validInput(), keeper: { privateKey: '0x01' }, tick: { intervalSecs: 5 } };
    const lines = errorLines(() => parseConfig(input));
    assert.equal(lines.length, 2);
    lines.sort();
    assert.match(lines[0]!, /^<inline>: keeper\.privateKey: private keys never go in the config file; .*keeper\.privateKeyEnv .* \(got \[redacted\]\)$/);
    assert.equal(lines[1], '<inline>: tick.intervalSecs: unknown key (check the spelling; unknown keys are refused) (got 5)');
  });

  test('a secret pasted into the file is never echoed: a key or password under any name, or 32 bytes of hex in any field', () => {
    const key = '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'; // anvil's public test key #1
    const input = validInput() as unknown as Record<string, unknown> & { chains: Record<string, unknown>[] };
    input.keeper = { privateKeyEnv: `0x${key}`, keystorePasswordEnv: 'hunter2 secret', keystorePassword: 'hunter2', mnemonic: 'test test junk' };
    input.chains[1]!.rpcUrl = key.toUpperCase();
    const text = errorLines(() => parseConfig(input)).join('\n');
    for (const secret of [key, key.toUpperCase(), 'hunter2', 'test test junk']) assert.ok(!text.includes(secret), `error leaks ${secret}: ${text}`);
    assert.match(text, /keeper\.privateKeyEnv: must be an environment variable name.* \(got \[redacted\]\)/);
    assert.match(text, /keeper\.keystorePasswordEnv: must be an environment variable name.* \(got \[redacted\]\)/);
    assert.match(text, /keeper\.keystorePassword: passwords never go in the config file; .*keeper\.keystorePasswordEnv .*\(got \[redacted\]\)/);
    assert.match(text, /keeper\.mnemonic: private keys never go in the config file; .*\(got \[redacted\]\)/);
    assert.match(text, /chains\[1\]\.rpcUrl: must be an http\(s\):\/\/ or ws\(s\):\/\/ URL \(got \[redacted\]\)/);
  });

  test('negative caps and buffers are refused wherever they are, naming each path', () => {
    const input = validInput();
    input.chains[0]!.minBuffer = -1;
    input.chains[1]!.caps.maxTransfer = '-250';
    input.chains[1]!.caps.minTransfer = -1;
    input.chains[2]!.caps.windowSec = -3600;
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      '<inline>: chains[0].minBuffer: must be ≥ 0 (got -1)',
      '<inline>: chains[1].caps.maxTransfer: must be ≥ 0 (got "-250")',
      '<inline>: chains[1].caps.minTransfer: must be ≥ 0 (got -1)',
      '<inline>: chains[2].caps.windowSec: must be a positive integer number of seconds (got -3600)',
    ]);
  });

  test('a contract at the zero address, or one address in two roles, is refused', () => {
    const input = validInput();
    input.chains[0]!.contracts.vault = '0x0000000000000000000000000000000000000000';
    input.chains[1]!.contracts.route = input.chains[1]!.contracts.vault;
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      "<inline>: chains[0].contracts.vault: must not be the zero address: set the deployed contract's address (got \"0x0000000000000000000000000000000000000000\")",
      `<inline>: chains[1].contracts.route: same address as contracts.vault; each contract has its own address (got "${input.chains[1]!.contracts.vault}")`,
    ]);
  });

  test('wrong types name the path and the value: a string chain id, a list where an object goes, a float port', () => {
    const input = validInput() as unknown as Record<string, unknown> & { chains: Record<string, unknown>[] };
    input.chains[0]!.chainId = '42161';
    input.chains[1]!.oracle = [3600, 500];
    input.metrics = { port: 9464.5 };
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      '<inline>: metrics.port: must be a TCP port 0..65535 (got 9464.5)',
      '<inline>: chains[0].chainId: must be a positive integer (EVM chain id) (got "42161")',
      '<inline>: chains[1].oracle: must be an object (got [3600,500])',
    ]);
  });

  test('a missing field says required', () => {
    const input = validInput() as unknown as { asset: Record<string, unknown> };
    delete input.asset.decimals;
    assert.deepEqual(errorLines(() => parseConfig(input)), ['<inline>: asset.decimals: required (got nothing)']);
  });

  test('defaults can be overridden', () => {
    const cfg = parseConfig({ ...validInput(), metrics: { port: 0 }, tick: { intervalSec: 2 }, keeper: { keystoreFile: 'k.json' } });
    assert.deepEqual(cfg.metrics, { port: 0, host: '127.0.0.1' });
    assert.deepEqual(cfg.tick, { intervalSec: 2, maxTicksBeforeContinueAsNew: 100 });
    assert.deepEqual(cfg.keeper, { privateKeyEnv: 'BALLAST_KEEPER_PRIVATE_KEY', keystorePasswordEnv: 'BALLAST_KEYSTORE_PASSWORD', keystoreFile: 'k.json' });
  });
});

describe('chainPolicies', () => {
  test('maps each chain to a planner policy in config order', () => {
    const cfg = loadConfig(write('p.yaml', MINIMAL_YAML));
    assert.deepEqual(chainPolicies(cfg), [
      {
        chainKey: 'arbitrum',
        band: { lowWad: 6n * 10n ** 17n, highWad: 8n * 10n ** 17n },
        minBufferAmount: 250_000_000_000n,
        caps: { maxOutflowPerWindow: 1_000_000_000_000n, windowSec: 3600n, maxTransfer: 250_000_000_000n, minTransfer: 100_000_000n },
      },
      {
        chainKey: 'base',
        band: { lowWad: 555n * 10n ** 15n, highWad: 8525n * 10n ** 14n },
        minBufferAmount: 0n,
        caps: { maxOutflowPerWindow: 1_000_000_000_000n, windowSec: 600n, maxTransfer: 250_000_000_000n, minTransfer: 100_000_000n },
      },
    ]);
  });
});

describe('writeConfigFile', () => {
  test('writes YAML that loads back to the same config, amounts as quoted base-unit strings', () => {
    const input = validInput();
    input.chains[0]!.minBuffer = 123_456_789_012_345_678_901n;
    const file = path.join(dir, 'gen', 'ballast.yaml');
    writeConfigFile(file, input);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /minBuffer: "123456789012345678901"/);
    assert.match(text, /maxTransfer: "250000000000"/);
    assert.deepEqual(loadConfig(file), parseConfig(input));
  });

  test('writes JSON when the name ends in .json', () => {
    const file = path.join(dir, 'gen.json');
    writeConfigFile(file, validInput());
    assert.deepEqual(loadConfig(file), parseConfig(validInput()));
  });

  test('refuses an invalid config and writes nothing', () => {
    const input = validInput();
    input.chains[0]!.caps.windowSec = -1;
    const file = path.join(dir, 'never.yaml');
    assert.throws(() => writeConfigFile(file, input), (e: unknown) => e instanceof ConfigError && /never\.yaml: chains\[0\]\.caps\.windowSec/.test(e.message));
    assert.equal(fs.existsSync(file), false);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parseYamlForTest(text: string): unknown {
  // a plain YAML 1.1-style read would turn the addresses into numbers; keep them as strings here
  return YAML.parse(text, {
    customTags: (tags) => tags.filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:int' && t.format === 'HEX')),
  });
}
