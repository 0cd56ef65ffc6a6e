/**
 * The config's Wormhole fields: per chain `wormhole: { chainId, core, adapter }` and the top-level
 * `wormhole: { guardianUrl, guardianSetsFile | guardianSets, deliveryDeadlineSec, vaaPollIntervalMs }`,
 * both optional; their validation messages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getAddress } from 'viem';
import { ConfigError, CONFIG_DEFAULTS, exampleConfig, loadConfig, parseConfig, writeConfigFile, type BallastConfigInput } from '../../config/index.js';

/** Lower-case addresses that are valid hex, distinct per chain and role. */
function addr(chain: number, role: number): string {
  return `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'cd'.repeat(18)}`;
}

const GUARDIAN = '0xbefa429d57cd18b7f8a4d91a2da9ab4af05d0fbe';

function baseInput(withWormhole: boolean): BallastConfigInput {
  return exampleConfig({
    chains: [1, 2].map((i) => ({
      key: ['ethereum', 'arbitrum'][i - 1]!,
      chainId: 31_100 + i,
      rpcUrl: `http://127.0.0.1:${8544 + i}`,
      eid: 40_100 + i,
      contracts: { multicall3: addr(i, 1), endpoint: addr(i, 2), token: addr(i, 3), vault: addr(i, 4), route: addr(i, 5), priceFeed: addr(i, 6) },
      ...(withWormhole ? { wormhole: { chainId: [2, 23][i - 1]!, core: addr(i, 7), adapter: addr(i, 8) } } : {}),
    })),
    ...(withWormhole ? { wormhole: { guardianUrl: 'http://127.0.0.1:7071', guardianSets: [{ index: 0, keys: [GUARDIAN] }] } } : {}),
  });
}

function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-config-wormhole-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('config: Wormhole fields', () => {
  test('a config without Wormhole stays valid and has no wormhole section', () => {
    const cfg = parseConfig(baseInput(false));
    assert.equal(cfg.wormhole, undefined);
    assert.ok(cfg.chains.every((c) => c.wormhole === undefined));
  });

  test('per-chain wormhole entries and the wormhole section parse, checksummed, with defaults filled', () => {
    const cfg = parseConfig(baseInput(true));
    assert.deepEqual(cfg.chains[0]!.wormhole, {
      chainId: 2,
      core: getAddress(addr(1, 7)),
      adapter: getAddress(addr(1, 8)),
    });
    assert.equal(cfg.chains[1]!.wormhole?.chainId, 23);
    assert.deepEqual(cfg.wormhole, {
      guardianUrl: 'http://127.0.0.1:7071',
      guardianSets: [{ index: 0, keys: ['0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe'] }],
      deliveryDeadlineSec: CONFIG_DEFAULTS.wormhole.deliveryDeadlineSec,
      vaaPollIntervalMs: CONFIG_DEFAULTS.wormhole.vaaPollIntervalMs,
    });
  });

  test('a YAML file round-trips the Wormhole fields; a guardian-sets file path is accepted instead of inline sets', () => {
    const input = baseInput(true);
    input.wormhole = { guardianUrl: 'https://api.wormholescan.io', guardianSetsFile: 'guardian_sets.json', deliveryDeadlineSec: 600, vaaPollIntervalMs: 250 };
    const file = path.join(dir, 'ballast.yaml');
    writeConfigFile(file, input);
    const cfg = loadConfig(file);
    assert.deepEqual(cfg.wormhole, { guardianUrl: 'https://api.wormholescan.io', guardianSetsFile: 'guardian_sets.json', deliveryDeadlineSec: 600, vaaPollIntervalMs: 250 });
    assert.equal(cfg.chains[1]!.wormhole?.chainId, 23);
  });

  test('a bad Wormhole chain id, a duplicate one and the adapter at the core address are refused, naming each path', () => {
    const input = baseInput(true) as unknown as { chains: { wormhole: Record<string, unknown> }[] };
    input.chains[0]!.wormhole.chainId = 70_000;
    input.chains[1]!.wormhole.adapter = input.chains[1]!.wormhole.core;
    const lines = errorLines(() => parseConfig(input));
    assert.deepEqual(lines, [
      '<inline>: chains[0].wormhole.chainId: must be a Wormhole chain id, an integer 1..65535 (e.g. 2 Ethereum, 23 Arbitrum, 30 Base; not the EVM chain id) (got 70000)',
      `<inline>: chains[1].wormhole.adapter: same address as wormhole.core; the adapter is its own contract (got "${String(input.chains[1]!.wormhole.core)}")`,
    ]);

    const dup = baseInput(true);
    dup.chains[1]!.wormhole!.chainId = 2;
    assert.deepEqual(errorLines(() => parseConfig(dup)), ['<inline>: chains[1].wormhole.chainId: duplicate: chains[0].wormhole.chainId has the same value (got 2)']);

    const str = baseInput(true) as unknown as { chains: { wormhole: Record<string, unknown> }[] };
    str.chains[0]!.wormhole.chainId = '2';
    assert.match(errorLines(() => parseConfig(str))[0]!, /chains\[0\]\.wormhole\.chainId: must be a Wormhole chain id.*\(got "2"\)/);
  });

  test('a chain on the Wormhole route needs the wormhole section', () => {
    const input = baseInput(true);
    delete input.wormhole;
    assert.deepEqual(errorLines(() => parseConfig(input)), [
      '<inline>: wormhole: required when a chain is on the Wormhole route (chains[0].wormhole is set): add wormhole.guardianUrl and the guardian sets (got nothing)',
    ]);
  });

  test('the wormhole section needs an http(s) guardian URL and exactly one source of guardian sets, each well-formed', () => {
    const both = baseInput(true);
    both.wormhole = { guardianUrl: 'ftp://guardian', guardianSetsFile: 'g.json', guardianSets: [{ index: 0, keys: [GUARDIAN] }] };
    const bothLines = errorLines(() => parseConfig(both));
    assert.equal(bothLines.length, 2, bothLines.join('\n'));
    assert.match(bothLines[0]!, /^<inline>: wormhole\.guardianUrl: must be an http\(s\):\/\/ URL of a guardian REST API/);
    assert.match(bothLines[1]!, /^<inline>: wormhole\.guardianSets: set either wormhole\.guardianSetsFile or wormhole\.guardianSets, not both/);

    const neither = baseInput(true);
    neither.wormhole = { guardianUrl: 'http://127.0.0.1:7071' };
    assert.match(errorLines(() => parseConfig(neither))[0]!, /^<inline>: wormhole\.guardianSetsFile: required: the guardian sets VAAs are verified against/);

    const badSets = baseInput(true);
    badSets.wormhole = {
      guardianUrl: 'http://127.0.0.1:7071',
      guardianSets: [
        { index: 0, keys: [] },
        { index: 0, keys: ['0x1234'] },
      ],
    };
    const setLines = errorLines(() => parseConfig(badSets));
    assert.deepEqual(
      setLines.map((l) => l.replace(/ \(got .*\)$/, '')),
      [
        '<inline>: wormhole.guardianSets[0].keys: needs at least one guardian address',
        '<inline>: wormhole.guardianSets[1].keys[0]: must be an EVM address: 0x followed by 40 hex digits',
        '<inline>: wormhole.guardianSets[1].index: duplicate: guardianSets[0].index has the same value',
      ],
    );
  });
});
