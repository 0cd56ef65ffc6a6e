/**
 * activities/plan.ts `markWithdrawn`: the in-flight transfers' `outflowOf(legKey(id, 'forward'))` reads are ONE
 * Multicall3 per source chain at the snapshot's block (viem `multicall`, `allowFailure`), with the semantics of one
 * read each: > 0 withdrawn, 0 not yet; a failed call, or a failed multicall, counts as not withdrawn and is logged; a
 * source that is not an EVM chain of the snapshot, or an id that is not a 32-byte hash, is not withdrawn without a
 * read; an entry already marked is left as it is. The chains are fake public clients counting their multicalls.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toHex, type Address, type Hex } from 'viem';
import { markWithdrawn } from '../../activities/plan.js';
import { legKey } from '../../activities/legKey.js';
import type { ChainRuntime, KeeperContext } from '../../activities/context.js';
import type { InFlight, Snapshot } from '../../planner/types.js';
import { chain } from './plannerFixtures.js';

const addr = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
const id = (s: string): Hex => keccak256(toHex(s));

interface Call {
  address: Address;
  functionName: string;
  args: readonly [Hex];
}

/** A fake EVM chain: `outflows` by leg key (absent = 0), `revert` leg keys whose call fails, `down` = the whole multicall throws. */
function fakeChain(key: string, holder: Address, opts: { outflows?: Record<Hex, bigint>; revert?: Hex[]; down?: boolean; aave?: boolean }) {
  const multicalls: { multicallAddress: Address; blockNumber?: bigint; allowFailure?: boolean; calls: Call[] }[] = [];
  const publicClient = {
    multicall: async (a: { multicallAddress: Address; blockNumber?: bigint; allowFailure?: boolean; contracts: Call[] }) => {
      multicalls.push({ multicallAddress: a.multicallAddress, blockNumber: a.blockNumber, allowFailure: a.allowFailure, calls: a.contracts });
      if (opts.down) throw new Error('fetch failed\nsecond line');
      return a.contracts.map((c) => {
        const k = c.args[0];
        if (opts.revert?.includes(k)) return { status: 'failure', error: new Error('execution reverted\ndetails') };
        return { status: 'success', result: opts.outflows?.[k] ?? 0n };
      });
    },
    readContract: async () => {
      throw new Error('markWithdrawn must not read one by one');
    },
  };
  const contracts = { multicall3: addr(0xca11), endpoint: addr(1), token: addr(2), vault: opts.aave ? addr(0x7a) : holder, route: addr(3), priceFeed: addr(4) };
  const rt = { chainKey: key, contracts, clients: { chainKey: key, publicClient }, ...(opts.aave ? { aave: { pool: addr(5), asset: addr(2), aToken: addr(6), variableDebtToken: addr(7), stableDebtToken: addr(8), holder } } : {}) } as unknown as ChainRuntime;
  return { rt, multicalls };
}

function context(chains: ChainRuntime[]) {
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const ctx = { chains: new Map(chains.map((c) => [c.chainKey, c])), log: { warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }) } } as unknown as KeeperContext;
  return { ctx, warnings };
}

const snapshot: Snapshot = {
  takenAtMs: 1,
  chains: [chain('alpha', 10, 5, { blockNumber: 111n }), chain('beta', 10, 5, { blockNumber: 222n }), chain('solana', 10, 5, { blockNumber: 333n })],
  excluded: [],
  freshness: 'fresh',
};
const f = (rebalanceId: string, from: string, amount: bigint, extra: Partial<InFlight> = {}): InFlight => ({ rebalanceId, from, to: 'gamma', amount, ...extra });

describe('markWithdrawn: one multicall per source chain', () => {
  test('five transfers from two chains: two multicalls at each chain\'s snapshot block, the same results as one read each', async () => {
    const [a1, a2, a3, b1, b2] = ['a1', 'a2', 'a3', 'b1', 'b2'].map(id) as [Hex, Hex, Hex, Hex, Hex];
    const alpha = fakeChain('alpha', addr(0xaa), { outflows: { [legKey(a1, 'forward')]: 7n, [legKey(a3, 'forward')]: 1n } });
    const beta = fakeChain('beta', addr(0xbb), { outflows: { [legKey(b2, 'forward')]: 9n }, aave: true });
    const { ctx, warnings } = context([alpha.rt, beta.rt]);
    const list = [f(a1, 'alpha', 7n), f(b1, 'beta', 3n), f(a2, 'alpha', 2n), f(b2, 'beta', 9n), f(a3, 'alpha', 1n)];
    const out = await markWithdrawn(ctx, snapshot, list);
    assert.deepEqual(out.map((x) => [x.rebalanceId, x.withdrawn]), [[a1, true], [b1, false], [a2, false], [b2, true], [a3, true]], 'in the input order');
    assert.equal(alpha.multicalls.length, 1);
    assert.equal(beta.multicalls.length, 1);
    assert.deepEqual([alpha.multicalls[0]!.blockNumber, beta.multicalls[0]!.blockNumber], [111n, 222n], "each at its chain's snapshot block");
    assert.deepEqual([alpha.multicalls[0]!.multicallAddress, alpha.multicalls[0]!.allowFailure], [addr(0xca11), true]);
    assert.deepEqual(alpha.multicalls[0]!.calls.map((c) => [c.address, c.functionName, c.args[0]]), [a1, a2, a3].map((r) => [addr(0xaa), 'outflowOf', legKey(r, 'forward')]));
    assert.deepEqual(beta.multicalls[0]!.calls.map((c) => c.address), [addr(0xbb), addr(0xbb)], "an Aave chain's holder is its allocator");
    assert.deepEqual(warnings, []);
    assert.equal(list[0]!.withdrawn, undefined, 'the input is not modified');
  });

  test('a failed call counts as not withdrawn (logged), the others of the batch stand; a failed multicall: all of its chain', async () => {
    const [a1, a2, b1] = ['x1', 'x2', 'y1'].map(id) as [Hex, Hex, Hex];
    const alpha = fakeChain('alpha', addr(0xaa), { outflows: { [legKey(a1, 'forward')]: 5n, [legKey(a2, 'forward')]: 5n }, revert: [legKey(a2, 'forward')] });
    const beta = fakeChain('beta', addr(0xbb), { down: true });
    const { ctx, warnings } = context([alpha.rt, beta.rt]);
    const out = await markWithdrawn(ctx, snapshot, [f(a1, 'alpha', 5n), f(a2, 'alpha', 5n), f(b1, 'beta', 5n)]);
    assert.deepEqual(out.map((x) => x.withdrawn), [true, false, false]);
    assert.deepEqual(warnings.map((w) => [w.obj.rebalanceId, w.obj.from, w.obj.error, w.msg]), [
      [a2, 'alpha', 'execution reverted', 'in-flight withdraw not confirmed; its source spare is planned net of it'],
      [b1, 'beta', 'fetch failed', 'in-flight withdraw not confirmed; its source spare is planned net of it'],
    ]);
  });

  test('no read for: an entry already marked, a source not an EVM chain of the snapshot, an id that is not a hash; nothing in flight: no multicall', async () => {
    const alpha = fakeChain('alpha', addr(0xaa), {});
    const { ctx } = context([alpha.rt]);
    const marked = f(id('m'), 'alpha', 1n, { withdrawn: true });
    const out = await markWithdrawn(ctx, snapshot, [marked, f(id('s'), 'solana', 1n), f('not-a-hash', 'alpha', 1n), f(id('g'), 'gone', 1n)]);
    assert.equal(out[0], marked);
    assert.deepEqual(out.slice(1).map((x) => x.withdrawn), [false, false, false]);
    assert.equal(alpha.multicalls.length, 0);
    assert.deepEqual(await markWithdrawn(ctx, snapshot, []), []);
    assert.equal(alpha.multicalls.length, 0);
  });
});
