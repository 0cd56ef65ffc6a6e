/**
 * The keeper's capacity wiring without chains: config `chains[].capacity` (parsing, defaults, every
 * validation message) and what the context gets from it (`capacitySettings`, `wormholeSettings`), capacity
 * move ids (deterministic, never a collateral rebalance id), the collateral filter of in-flight lists, and
 * the guardian REST fetch (`fetchSignedVaa`) against a real local HTTP server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, exampleConfig, parseConfig, type BallastConfigInput } from '../../config/index.js';
import { capacitySettings, wormholeSettings } from '../../config/capacity.js';
import { capacityMoveId, rebalanceId, type RebalanceIdInput } from '../../planner/rebalanceId.js';
import { collateralInFlight, WAD, type InFlight } from '../../planner/types.js';
import { fetchSignedVaa, signedVaaPath } from '../../chains/wormhole/fetchVaa.js';

const addr = (chain: number, role: number): string => `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'cd'.repeat(18)}`;
const GUARDIAN = '0xbefa429d57cd18b7f8a4d91a2da9ab4af05d0fbe';

function baseInput(capacity: (i: number) => Record<string, unknown> | undefined): BallastConfigInput {
  const input = exampleConfig({
    chains: [1, 2, 3].map((i) => ({
      key: ['ethereum', 'arbitrum', 'base'][i - 1]!,
      chainId: 31_100 + i,
      rpcUrl: `http://127.0.0.1:${8544 + i}`,
      eid: 40_100 + i,
      contracts: { multicall3: addr(i, 1), endpoint: addr(i, 2), token: addr(i, 3), vault: addr(i, 4), route: addr(i, 5), priceFeed: addr(i, 6) },
    })),
    wormhole: { guardianUrl: 'http://127.0.0.1:7071', guardianSets: [{ index: 0, keys: [GUARDIAN] }] },
  });
  return { ...input, chains: input.chains.map((c, i) => ({ ...c, ...(capacity(i) ? { capacity: capacity(i) } : {}) })) } as BallastConfigInput;
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

describe('config: chains[].capacity', () => {
  test('absent on every chain: the config stays valid and the context gets no capacity settings', () => {
    const cfg = parseConfig(baseInput(() => undefined));
    assert.ok(cfg.chains.every((c) => c.capacity === undefined));
    assert.equal(capacitySettings(cfg), undefined);
  });

  test('parses percents to WAD exactly and amounts to bigint base units; bridge defaults to layerzero', () => {
    const cfg = parseConfig(baseInput((i) => (i < 2 ? { highPct: 92.5, lowPct: '85', minMove: '1000000000', maxMove: '2000000000000', ...(i === 1 ? { bridge: 'wormhole' } : {}) } : undefined)));
    assert.deepEqual(cfg.chains[0]!.capacity, { highWad: 925n * 10n ** 15n, lowWad: 85n * 10n ** 16n, minMove: 1_000_000_000n, maxMove: 2_000_000_000_000n, bridge: 'layerzero' });
    assert.equal(cfg.chains[1]!.capacity?.bridge, 'wormhole');
    assert.equal(cfg.chains[2]!.capacity, undefined);
    assert.deepEqual(capacitySettings(cfg), {
      policies: [
        { chainKey: 'ethereum', highWad: (925n * WAD) / 1000n, lowWad: (85n * WAD) / 100n, minMove: 1_000_000_000n, maxMove: 2_000_000_000_000n },
        { chainKey: 'arbitrum', highWad: (925n * WAD) / 1000n, lowWad: (85n * WAD) / 100n, minMove: 1_000_000_000n, maxMove: 2_000_000_000_000n },
      ],
      bridges: { ethereum: 'layerzero', arbitrum: 'wormhole' },
    });
  });

  test('one chain with capacity is not enough for a move: no settings', () => {
    const cfg = parseConfig(baseInput((i) => (i === 0 ? { highPct: 90, lowPct: 70, minMove: 1, maxMove: 10 } : undefined)));
    assert.equal(cfg.chains[0]!.capacity?.maxMove, 10n);
    assert.equal(capacitySettings(cfg), undefined);
  });

  test('refuses low ≥ high, a zero low mark, minMove > maxMove, a zero maxMove, an unknown bridge and unknown fields, naming each path', () => {
    const lines = errorLines(() =>
      parseConfig(
        baseInput((i) =>
          [
            { highPct: 80, lowPct: 80, minMove: 1, maxMove: 10 },
            { highPct: 90, lowPct: 0, minMove: 11, maxMove: 10, bridge: 'ccip' },
            { highPct: 90, lowPct: 70, minMove: 0, maxMove: '0', extra: 1 },
          ][i],
        ),
      ),
    );
    assert.deepEqual(lines, [
      '<inline>: chains[0].capacity.lowPct: must be < capacity.highPct (80.00%) (got 80)',
      '<inline>: chains[1].capacity.bridge: must be "layerzero", "wormhole" or "auto" (got "ccip")',
      '<inline>: chains[1].capacity.lowPct: must be > 0 (got 0)',
      '<inline>: chains[1].capacity.minMove: must be ≤ capacity.maxMove (10) (got 11)',
      '<inline>: chains[2].capacity.extra: unknown key (check the spelling; unknown keys are refused) (got 1)',
      '<inline>: chains[2].capacity.maxMove: must be > 0 (got "0")',
    ]);
  });

  test('wormholeSettings copies the guardian API, the sets and the deadlines; none without the section', () => {
    const cfg = parseConfig(baseInput(() => undefined));
    assert.deepEqual(wormholeSettings(cfg), { guardianUrl: 'http://127.0.0.1:7071', guardianSets: [{ index: 0, keys: ['0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe'] }], deliveryDeadlineSec: 1800, vaaPollIntervalMs: 1000 });
    const { wormhole: _w, ...rest } = baseInput(() => undefined);
    assert.equal(wormholeSettings(parseConfig(rest)), undefined);
  });
});

describe('capacity move ids and in-flight kinds', () => {
  const input: RebalanceIdInput = {
    deployment: 'devnet',
    blockRefs: [
      { chainKey: 'base', blockNumber: 120n },
      { chainKey: 'arbitrum', blockNumber: 77n },
    ],
    from: 'base',
    to: 'arbitrum',
    amount: 1_500_000n * 10n ** 6n,
    sequence: 0,
  };

  test('a capacity id is deterministic, independent of blockRefs order, and differs per sequence, amount and blocks', () => {
    const id = capacityMoveId(input);
    assert.match(id, /^0x[0-9a-f]{64}$/);
    assert.equal(capacityMoveId({ ...input, blockRefs: [...input.blockRefs].reverse() }), id);
    assert.notEqual(capacityMoveId({ ...input, sequence: 1 }), id);
    assert.notEqual(capacityMoveId({ ...input, amount: input.amount + 1n }), id);
    assert.notEqual(capacityMoveId({ ...input, blockRefs: [{ chainKey: 'base', blockNumber: 121n }, input.blockRefs[1]!] }), id);
  });

  test('a capacity id never equals the collateral rebalance id of the same route, amount, blocks and sequence', () => {
    for (let sequence = 0; sequence < 20; sequence++) assert.notEqual(capacityMoveId({ ...input, sequence }), rebalanceId({ ...input, sequence }));
  });

  test('capacity ids refuse what rebalance ids refuse', () => {
    assert.throws(() => capacityMoveId({ ...input, to: 'base' }), /from and to are both "base"/);
    assert.throws(() => capacityMoveId({ ...input, amount: 0n }), /amount must be > 0/);
  });

  test('collateralInFlight keeps collateral entries (kind absent or collateral) and drops capacity ones', () => {
    const list: InFlight[] = [
      { rebalanceId: '0x01', from: 'a', to: 'b', amount: 1n },
      { rebalanceId: '0x02', from: 'a', to: 'b', amount: 2n, kind: 'capacity' },
      { rebalanceId: '0x03', from: 'b', to: 'a', amount: 3n, kind: 'collateral' },
    ];
    assert.deepEqual(collateralInFlight(list).map((f) => f.rebalanceId), ['0x01', '0x03']);
  });
});

describe('fetchSignedVaa against a guardian REST API', () => {
  const EMITTER = '0x00000000000000000000000000000000000000aa' as const;
  const VAA = Buffer.from('01000000000100' + 'ab'.repeat(60), 'hex');
  const seen: string[] = [];
  let server: http.Server;
  let url: string;
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      const seq = (req.url ?? '').split('/').pop();
      if (seq === '7') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ vaaBytes: VAA.toString('base64') }));
      else if (seq === '8') res.writeHead(404).end(JSON.stringify({ code: 5, message: 'requested VAA not found in store', details: [] }));
      else if (seq === '9') res.writeHead(200).end(JSON.stringify({ data: 'x' }));
      else res.writeHead(503).end('overloaded');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  test('the path pads the emitter to 32 bytes, lowercase; bad references are refused', () => {
    assert.equal(signedVaaPath({ emitterChain: 23, emitter: '0x00000000000000000000000000000000000000AA', sequence: 5n }), `/v1/signed_vaa/23/${'0'.repeat(62)}aa/5`);
    assert.throws(() => signedVaaPath({ emitterChain: 0, emitter: EMITTER, sequence: 1n }), /Wormhole chain id 1\.\.65535/);
    assert.throws(() => signedVaaPath({ emitterChain: 2, emitter: '0x1234', sequence: 1n }), /40 or 64 hex digits/);
    assert.throws(() => signedVaaPath({ emitterChain: 2, emitter: EMITTER, sequence: -1n }), /sequence must be ≥ 0/);
  });

  test('200 → the decoded bytes; 404 → undefined (not signed yet)', async () => {
    const got = await fetchSignedVaa(url, { emitterChain: 2, emitter: EMITTER, sequence: 7n });
    assert.deepEqual(Buffer.from(got!), VAA);
    assert.equal(seen.at(-1), `/v1/signed_vaa/2/${'0'.repeat(62)}aa/7`, 'no double slash from the trailing one');
    assert.equal(await fetchSignedVaa(url, { emitterChain: 2, emitter: EMITTER, sequence: 8n }), undefined);
  });

  test('another status, a body without vaaBytes, or an unreachable API is an error naming the URL', async () => {
    await assert.rejects(fetchSignedVaa(url, { emitterChain: 2, emitter: EMITTER, sequence: 10n }), /signed_vaa\/2\/.*\/10 answered HTTP 503: overloaded/);
    await assert.rejects(fetchSignedVaa(url, { emitterChain: 2, emitter: EMITTER, sequence: 9n }), /answered 200 without a base64 "vaaBytes" field/);
    await assert.rejects(fetchSignedVaa('http://127.0.0.1:1', { emitterChain: 2, emitter: EMITTER, sequence: 7n }, { timeoutMs: 2000 }), /guardian API http:\/\/127\.0\.0\.1:1\/v1\/signed_vaa\/.*request failed/);
  });
});
