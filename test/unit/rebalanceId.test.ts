import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAbiParameters, keccak256, parseAbiParameters } from 'viem';
import { rebalanceId, REBALANCE_ID_DOMAIN, type RebalanceIdInput } from '../../planner/rebalanceId.js';

const input: RebalanceIdInput = {
  deployment: 'devnet',
  blockRefs: [
    { chainKey: 'base', blockNumber: 200n },
    { chainKey: 'arbitrum', blockNumber: 100n },
    { chainKey: 'optimism', blockNumber: 300n },
  ],
  from: 'arbitrum',
  to: 'base',
  amount: 1_000_000_000n,
  sequence: 0,
};

describe('rebalanceId', () => {
  test('is keccak256 of the documented ABI layout, with blockRefs sorted by chainKey', () => {
    const expected = keccak256(
      encodeAbiParameters(parseAbiParameters('string, string, (string, uint64)[], string, string, uint256, uint32'), [
        REBALANCE_ID_DOMAIN,
        'devnet',
        [
          ['arbitrum', 100n],
          ['base', 200n],
          ['optimism', 300n],
        ],
        'arbitrum',
        'base',
        1_000_000_000n,
        0,
      ]),
    );
    assert.equal(rebalanceId(input), expected);
  });

  test('is pinned: a change of encoding would orphan open sagas, so it must be deliberate', () => {
    assert.equal(
      rebalanceId({ ...input, blockRefs: input.blockRefs.slice(0, 2) }),
      '0x4a66394bfec2a07664bfc98c65e4d9e13e5a9143e95300e4b8811dd8d2a5d19f',
    );
  });

  test('is stable across calls and independent of blockRefs order (retries and replays agree)', () => {
    const a = rebalanceId(input);
    assert.equal(rebalanceId({ ...input }), a);
    assert.equal(rebalanceId({ ...input, blockRefs: [...input.blockRefs].reverse() }), a);
    assert.match(a, /^0x[0-9a-f]{64}$/);
  });

  test('does not mutate the caller’s blockRefs', () => {
    const refs = [...input.blockRefs];
    rebalanceId({ ...input, blockRefs: refs });
    assert.deepEqual(refs, input.blockRefs);
  });

  test('every field changes the id', () => {
    const base = rebalanceId(input);
    const variants: RebalanceIdInput[] = [
      { ...input, deployment: 'testnet' },
      { ...input, blockRefs: [...input.blockRefs.slice(0, 2), { chainKey: 'optimism', blockNumber: 301n }] },
      { ...input, blockRefs: input.blockRefs.slice(0, 2) },
      { ...input, from: 'optimism' },
      { ...input, to: 'optimism' },
      { ...input, from: 'base', to: 'arbitrum' },
      { ...input, amount: input.amount + 1n },
      { ...input, sequence: 1 },
    ];
    const ids = new Set(variants.map(rebalanceId));
    assert.equal(ids.size, variants.length, 'variants are distinct from each other');
    assert.ok(!ids.has(base), 'and from the original');
  });

  test('refuses ambiguous or meaningless input', () => {
    assert.throws(() => rebalanceId({ ...input, blockRefs: [...input.blockRefs, { chainKey: 'base', blockNumber: 1n }] }), /chain "base" appears twice/);
    assert.throws(() => rebalanceId({ ...input, to: 'arbitrum' }), /from and to are both "arbitrum"/);
    assert.throws(() => rebalanceId({ ...input, amount: 0n }), /amount must be > 0 \(got 0\)/);
    assert.throws(() => rebalanceId({ ...input, sequence: -1 }), /sequence must be an integer/);
    assert.throws(() => rebalanceId({ ...input, sequence: 1.5 }), /sequence must be an integer/);
  });
});
