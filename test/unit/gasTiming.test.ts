/**
 * planner/timing.ts (issue 14): gas-aware timing and batching of a plan's transfers. Pure unit tests, no solver.
 * Run: node --import tsx --test test/unit/gasTiming.test.ts
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chainsInNeed, DEFAULT_TIMING_POLICY, formatGweiPair, percentileWei, timeTransfers } from '../../planner/timing.js';
import type { BaseFeeSample, TimingInput } from '../../planner/timing.js';
import type { BridgeEdge } from '../../planner/routing.js';
import type { RoutedTransfer } from '../../planner/reasons.js';
import { chain, M, policy } from './plannerFixtures.js';

const GWEI = 1_000_000_000n;
const HOUR = 3600;
const NOW = 100 * HOUR;

/** Hourly samples of the last `hours` hours before NOW, values in gwei × 10 (so 198 = 19.8 gwei). */
function hourly(tenthsGwei: readonly number[]): BaseFeeSample[] {
  return tenthsGwei.map((v, i) => ({ atSec: NOW - (tenthsGwei.length - i) * HOUR, baseFeeWei: (BigInt(v) * GWEI) / 10n }));
}

const edge = (from: string, to: string, fixedFee: bigint, bridge = 'layerzero', feeBps = 0): BridgeEdge => ({ from, to, bridge, feeBps, fixedFee, latencySec: 60 });
const tr = (from: string, to: string, amount: bigint, fee = 0n, bridge = 'layerzero'): RoutedTransfer => ({ from, to, amount, bridge, fee, latencySec: 60, reason: `${from} → ${to}` });

/** 24 hourly samples 10.0 .. 33.0 gwei: p50 (12th smallest) = 21.0 gwei. */
const DAY_OF_FEES = hourly(Array.from({ length: 24 }, (_, i) => 100 + i * 10));

function input(over: Partial<TimingInput<RoutedTransfer>> & { transfers: RoutedTransfer[] }): TimingInput<RoutedTransfer> {
  return {
    urgent: over.transfers.map(() => false),
    nowSec: NOW,
    baseFees: { ethereum: { history: DAY_OF_FEES, currentWei: 312n * (GWEI / 10n) } },
    edges: [edge('ethereum', 'base', 5_000_000n), edge('base', 'arbitrum', 100_000n), edge('arbitrum', 'base', 100_000n)],
    ...over,
  };
}

describe('percentileWei (nearest rank)', () => {
  test('the ⌈p·n/100⌉-th smallest; order of the input does not matter', () => {
    assert.equal(percentileWei([5n, 1n, 3n, 2n], 50), 2n);
    assert.equal(percentileWei([5n, 1n, 3n, 2n], 51), 3n);
    assert.equal(percentileWei([5n, 1n, 3n, 2n], 100), 5n);
    assert.equal(percentileWei([5n, 1n, 3n, 2n], 1), 1n);
    assert.equal(percentileWei(DAY_OF_FEES.map((s) => s.baseFeeWei), 50), 21n * GWEI);
  });
  test('refuses an empty list and a percentile outside 1..100 or not an integer', () => {
    assert.throws(() => percentileWei([], 50), /no values/);
    assert.throws(() => percentileWei([1n], 0), /integer in 1\.\.100/);
    assert.throws(() => percentileWei([1n], 50.5), /integer in 1\.\.100/);
  });
});

describe('gas timing', () => {
  const policy = { gas: { percentile: 50, windowSec: 86_400 } };

  test('a yield-only transfer waits while its source base fee is above the window p50, with the reason', () => {
    const t = tr('ethereum', 'base', M(1));
    const r = timeTransfers(input({ transfers: [t] }), policy);
    assert.deepEqual(r.send, []);
    assert.equal(r.deferred.length, 1);
    assert.equal(r.deferred[0]!.transfer, t);
    assert.deepEqual(r.deferred[0]!.rules, ['gas']);
    assert.equal(r.deferred[0]!.reason, 'waits: base fee 31.2 gwei > p50 21 gwei of the last 24 h');
    assert.equal(r.deferred[0]!.fixedFee, 5_000_000n);
  });

  test('an urgent transfer (destination in need) is sent whatever the gas', () => {
    const t = tr('ethereum', 'base', M(1));
    const r = timeTransfers(input({ transfers: [t], urgent: [true] }), policy);
    assert.deepEqual(r.send, [t]);
    assert.deepEqual(r.deferred, []);
  });

  test('at or under the percentile it is sent (strictly above waits)', () => {
    const t = tr('ethereum', 'base', M(1));
    for (const cur of [21n * GWEI, 10n * GWEI]) {
      const r = timeTransfers(input({ transfers: [t], baseFees: { ethereum: { history: DAY_OF_FEES, currentWei: cur } } }), policy);
      assert.deepEqual(r.send, [t], `current ${cur}`);
    }
    const r = timeTransfers(input({ transfers: [t], baseFees: { ethereum: { history: DAY_OF_FEES, currentWei: 21n * GWEI + 1n } } }), policy);
    assert.equal(r.deferred.length, 1);
    assert.match(r.deferred[0]!.reason, /^waits: base fee 21\.000000001 gwei > p50 21 gwei/, 'decimals enough to tell them apart');
  });

  test('only the window counts: older samples and samples at or after now are ignored', () => {
    const t = tr('ethereum', 'base', M(1));
    // 24 cheap samples older than the window, then 4 dear ones inside it: p50 of the window = 40 gwei.
    const history: BaseFeeSample[] = [
      ...Array.from({ length: 24 }, (_, i) => ({ atSec: NOW - 48 * HOUR + i * HOUR, baseFeeWei: 1n * GWEI })),
      ...[40n, 40n, 50n, 50n].map((g, i) => ({ atSec: NOW - 4 * HOUR + i * HOUR, baseFeeWei: g * GWEI })),
      { atSec: NOW, baseFeeWei: 1n },
    ];
    const r = timeTransfers(input({ transfers: [t], baseFees: { ethereum: { history, currentWei: 45n * GWEI } } }), policy);
    assert.equal(r.deferred.length, 1);
    assert.equal(r.deferred[0]!.reason, 'waits: base fee 45 gwei > p50 40 gwei of the last 24 h');
    const short = timeTransfers(input({ transfers: [t], baseFees: { ethereum: { history, currentWei: 45n * GWEI } } }), { gas: { percentile: 50, windowSec: 2 * HOUR } });
    assert.deepEqual(short.send, [t], 'the last 2 h are 50 and 50 gwei: 45 is under their p50');
  });

  test('too few samples, or no base fees for the source: the rule cannot judge and the transfer goes', () => {
    const t = tr('ethereum', 'base', M(1));
    const few = timeTransfers(input({ transfers: [t] }), { gas: { percentile: 50, windowSec: 86_400, minSamples: 25 } });
    assert.deepEqual(few.send, [t]);
    const none = timeTransfers(input({ transfers: [t], baseFees: {} }), policy);
    assert.deepEqual(none.send, [t]);
    const empty = timeTransfers(input({ transfers: [t], baseFees: { ethereum: { history: [], currentWei: 99n * GWEI } } }), policy);
    assert.deepEqual(empty.send, [t]);
  });

  test('sub-gwei L2 base fees are shown with the decimals they need', () => {
    assert.deepEqual(formatGweiPair(62_000_000n, 48_500_000n), ['0.062', '0.0485']);
    assert.deepEqual(formatGweiPair(31_200_000_000n, 19_800_000_000n), ['31.2', '19.8']);
    assert.deepEqual(formatGweiPair(50_000_001n, 50_000_000n), ['0.050000001', '0.05']);
  });
});

describe('batching', () => {
  const policy = { batching: { maxFixedFeeBps: 10 } };

  test('a yield-only transfer waits while its fixed fee is more than 10 bps of its amount; at 10 bps or less it goes', () => {
    // fixed fee 5 USDC: 10 bps of 5000 USDC.
    const small = tr('ethereum', 'base', 4_999_999_999n);
    const exact = tr('ethereum', 'base', 5_000_000_000n);
    const r = timeTransfers(input({ transfers: [small, exact] }), policy);
    assert.deepEqual(r.send, [exact]);
    assert.equal(r.deferred.length, 1);
    assert.deepEqual(r.deferred[0]!.rules, ['batch']);
    assert.equal(r.deferred[0]!.reason, 'waits: fixed fee 5000000 = 10.0 bps of 4999999999 > 10 bps (batched: the next plan moves the spare in one larger message)');
  });

  test('nothing is carried: the next plan proposing a larger move on the route sends it', () => {
    const first = timeTransfers(input({ transfers: [tr('base', 'arbitrum', 50_000_000n)] }), policy); // 0.1 USDC fee on 50 USDC = 20 bps
    assert.equal(first.deferred.length, 1);
    const next = timeTransfers(input({ transfers: [tr('base', 'arbitrum', 150_000_000n)] }), policy); // the spare grew: 6.7 bps
    assert.equal(next.send.length, 1);
  });

  test('an urgent small transfer is never batched; both rules are named when both hold', () => {
    const t = tr('ethereum', 'base', M(0.001));
    assert.equal(timeTransfers(input({ transfers: [t], urgent: [true] }), { ...policy, gas: { percentile: 50, windowSec: 86_400 } }).send.length, 1);
    const r = timeTransfers(input({ transfers: [t] }), { ...policy, gas: { percentile: 50, windowSec: 86_400 } });
    assert.deepEqual(r.deferred[0]!.rules, ['gas', 'batch']);
    assert.match(r.deferred[0]!.reason, /^waits: base fee 31\.2 gwei > p50 21 gwei of the last 24 h; fixed fee 5000000 = 50\.0 bps of 1000000000 > 10 bps/);
  });

  test('the default policy is p50 of 24 h and 10 bps; without rules nothing waits', () => {
    assert.deepEqual(DEFAULT_TIMING_POLICY, { gas: { percentile: 50, windowSec: 86_400, minSamples: 1, expectedWaitSec: 6 * 3600 }, batching: { maxFixedFeeBps: 10 } });
    const ts = [tr('ethereum', 'base', 1n), tr('base', 'arbitrum', 1n)];
    assert.deepEqual(timeTransfers(input({ transfers: ts }), {}).send, ts);
  });
});

describe('timeTransfers: input errors', () => {
  test('urgency flags of another length, a transfer without a quote, bad rules', () => {
    const t = tr('ethereum', 'base', M(1));
    assert.throws(() => timeTransfers(input({ transfers: [t], urgent: [] }), {}), /0 urgency flags for 1 transfers/);
    assert.throws(() => timeTransfers(input({ transfers: [tr('base', 'ethereum', 1n)] }), {}), /no quote for base → ethereum over layerzero/);
    assert.throws(() => timeTransfers(input({ transfers: [t] }), { gas: { percentile: 0, windowSec: 1 } }), /percentile/);
    assert.throws(() => timeTransfers(input({ transfers: [t] }), { gas: { percentile: 50, windowSec: 0 } }), /windowSec/);
    assert.throws(() => timeTransfers(input({ transfers: [t] }), { batching: { maxFixedFeeBps: -1 } }), /maxFixedFeeBps/);
  });
});

describe('chainsInNeed: what makes a transfer urgent', () => {
  test('above its high mark (net of inbound) or in need by the forecast; an oracle-refused chain is not planned', () => {
    const chains = [chain('a', 100, 90), chain('b', 100, 50), chain('c', 100, 70), chain('d', 100, 95, { oracleCheck: { ok: false, ageSec: 0n, reason: 'stale' } })];
    const policies = chains.map((c) => policy(c.chainKey));
    assert.deepEqual([...chainsInNeed({ chains, policies, inFlight: [] })].sort(), ['a']);
    assert.deepEqual([...chainsInNeed({ chains, policies, inFlight: [] }, ['c'])].sort(), ['a', 'c']);
    // What is already on its way to `a` covers its need: not urgent any more.
    assert.deepEqual([...chainsInNeed({ chains, policies, inFlight: [{ rebalanceId: 'x', from: 'b', to: 'a', amount: M(50) }] })], []);
  });
});

describe('timeTransfers: a wait for gas only when it pays', () => {
  // ethereum → base: fixed fee 5 USDC-units ×10⁶, base fee 31.2 gwei now vs p50 21.0: waiting saves at most
  // 5_000_000 × (31.2 − 21.0) / 31.2 = 1_634_615 base units; over the 6 h expected wait that is 272_435 per hour forgone.
  const gas = { percentile: 50, windowSec: 86_400 };
  test('a move that forgoes less per hour than the wait saves waits; one that forgoes more goes now', () => {
    const t = tr('ethereum', 'base', 10n ** 12n);
    const cheap = timeTransfers(input({ transfers: [t], forgonePerHour: [272_000n] }), { gas });
    assert.equal(cheap.deferred.length, 1, 'forgoes 272 000/h × 6 h < 1 634 615 saved: waits');
    assert.match(cheap.deferred[0]!.reason, /^waits: base fee 31\.2 gwei > p50 21 gwei of the last 24 h/);
    const dear = timeTransfers(input({ transfers: [t], forgonePerHour: [273_000n] }), { gas });
    assert.deepEqual(dear.send, [t], 'forgoes 273 000/h × 6 h > 1 634 615 saved: goes now');
    // Unknown yield: the gas rule alone decides; a zero expected wait forgoes nothing.
    assert.equal(timeTransfers(input({ transfers: [t], forgonePerHour: [undefined] }), { gas }).deferred.length, 1);
    assert.equal(timeTransfers(input({ transfers: [t], forgonePerHour: [10n ** 15n] }), { gas: { ...gas, expectedWaitSec: 0 } }).deferred.length, 1);
  });
});
