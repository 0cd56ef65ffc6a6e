/**
 * Gas timing in the keeper's plan activity (activities/plan.ts, `planner.objective: yield`, config `planner.gasTiming`)
 * and the monitor's base-fee history (workflows/monitor.ts `observeBaseFees`):
 * - a yield plan with an URGENT transfer (to a chain above its band) and a YIELD-ONLY one, every source's base fee far
 *   above its 24 h median and the wait worth more than the yield it forgoes: the yield-only one is held back with its
 *   reason (returned in `deferred`, counted in `ballast_plan_deferred_total{rule}`), the urgent one is sent;
 * - `gasTiming: false`, no history from the monitor (a plan recorded before it), a base fee under the median, or a wait
 *   that saves less than the yield it forgoes: everything planned is sent;
 * - the monitor's history: one sample per chain at most every 900 s, the last 24 h, at most 96 per chain.
 *
 * Doubles: a read-only keeper context (no chain is contacted) whose chains' policies are replaced by the test's, and the
 * quotes given to the activity (as a replay does).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleConfig, parseConfig } from '../../config/index.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { planRebalances, type PlanGasInput } from '../../activities/plan.js';
import type { RouteQuote } from '../../activities/quotes.js';
import type { KeeperContext } from '../../activities/context.js';
import type { ChainState, Snapshot } from '../../planner/types.js';
import type { BaseFeeSample } from '../../planner/timing.js';
import { GAS_HISTORY_SEC, GAS_SAMPLE_SPACING_SEC, MAX_GAS_SAMPLES, observeBaseFees } from '../../workflows/monitor.js';
import { M, aaveMarketChain, policy } from './plannerFixtures.js';

const KEYS = ['a', 'b', 'c', 'd'];
const GWEI = 1_000_000_000n;
const NOW_SEC = 1_800_000_000;

const market = (key: string, availableM: number, debtM: number, treasuryM: number, baseFeeWei?: bigint): ChainState =>
  aaveMarketChain(key, availableM, debtM, treasuryM, baseFeeWei !== undefined ? { baseFeeWei } : {});

/**
 * c is above its band (90% > 80%): what goes to c is urgent. d (85%, band 60–90%) pays more than a and b earn at home:
 * what goes to d is for yield alone. Every chain's base fee now: `nowGwei` (null: none, no EIP-1559).
 */
function snapshot(nowGwei: bigint | null = 100n): Snapshot {
  const fee = nowGwei === null ? undefined : nowGwei * GWEI;
  return {
    takenAtMs: NOW_SEC * 1000,
    chains: [market('a', 50, 50, 40, fee), market('b', 55, 45, 40, fee), market('c', 10, 90, 5, fee), market('d', 15, 85, 5, fee)],
    excluded: [],
    freshness: 'fresh',
  };
}

/** The yield planner's test policies (band 60–80%, d 60–90%; maxTransfer 1000 M), in place of the example config's. */
function context(gasTiming?: false | { percentile?: number; windowSec?: number; expectedWaitSec?: number }): KeeperContext {
  const addr = (i: number, j: number): `0x${string}` => `0x${(i * 16 + j + 1).toString(16).padStart(40, '0')}`;
  const cfg = parseConfig({
    ...exampleConfig({
      chains: KEYS.map((key, i) => ({ key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${1 + i}`, eid: 40_000 + i, contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) } })),
    }),
    planner: { kind: 'optimal', objective: 'yield', timeBudgetMs: 1500, ...(gasTiming !== undefined ? { gasTiming } : {}) },
  });
  const ctx = buildReadOnlyKeeperContext(cfg);
  const chains = new Map([...ctx.chains].map(([k, c]) => [k, { ...c, policy: policy(k, k === 'd' ? { band: [60, 90] } : {}) }]));
  return { ...ctx, chains };
}

/** Every ordered pair over layerzero, a fixed fee of `feeTokens` whole tokens per message. */
const quotes = (feeTokens: number): RouteQuote[] =>
  KEYS.flatMap((from) => KEYS.filter((to) => to !== from).map((to) => ({ from, to, bridge: 'layerzero', quotedAmount: M(0.001), fixedFee: BigInt(feeTokens) * 10n ** 6n, feeBps: 0, latencySec: 120 })));

/** 24 hourly samples per chain over the last day, 10..33 gwei (median 21 gwei). */
function history(): PlanGasInput {
  const xs: BaseFeeSample[] = Array.from({ length: 24 }, (_, i) => ({ atSec: NOW_SEC - 86_400 + i * 3600, baseFeeWei: BigInt(10 + i) * GWEI }));
  return { nowSec: NOW_SEC, chains: Object.fromEntries(KEYS.map((k) => [k, xs])) };
}

const route = (t: { from: string; to: string }): string => `${t.from}→${t.to}`;

describe('planRebalances: gas timing of the yield plan (planner.gasTiming)', () => {
  test('the yield-only transfer waits for gas with its reason; the urgent one is sent', async () => {
    const ctx = context();
    const plan = await planRebalances(ctx, { snapshot: snapshot(), inFlight: [], gas: history() }, { quotes: quotes(2000) });
    const deferred = plan.deferred ?? [];
    assert.ok(plan.transfers.some((t) => t.to === 'c'), `the urgent move to c is sent (sent: ${plan.transfers.map(route).join(', ')})`);
    assert.ok(plan.transfers.every((t) => t.to === 'c'), `only urgent moves are sent (sent: ${plan.transfers.map(route).join(', ')})`);
    assert.ok(deferred.length > 0 && deferred.every((d) => d.transfer.to === 'd'), `the yield-only move to d waits (deferred: ${deferred.map((d) => route(d.transfer)).join(', ')})`);
    for (const d of deferred) {
      assert.deepEqual(d.rules, ['gas']);
      assert.equal(d.reason, 'waits: base fee 100 gwei > p50 21 gwei of the last 24 h');
      assert.equal(d.fixedFee, 2000n * 10n ** 6n);
      assert.equal(d.transfer.bridge, 'layerzero');
      assert.ok(d.transfer.amount > 0n);
      assert.match(d.transfer.reason, /→ d over layerzero/);
    }
    // The held-back move is neither started nor in the totals; the yield certificate still shows the plan as solved.
    assert.equal(plan.totals?.volume, plan.transfers.reduce((s, t) => s + t.amount, 0n));
    assert.ok(plan.yieldCertificate);
    const text = await ctx.metrics.registry.metrics();
    assert.match(text, new RegExp(`^ballast_plan_deferred_total\\{rule="gas"\\} ${deferred.length}$`, 'm'));
  });

  test('gasTiming false, no history from the monitor, or a base fee at or under the median: everything planned is sent', async () => {
    const all = await planRebalances(context(false), { snapshot: snapshot(), inFlight: [], gas: history() }, { quotes: quotes(2000) });
    assert.ok(all.transfers.some((t) => t.to === 'd') && all.transfers.some((t) => t.to === 'c'), all.transfers.map(route).join(', '));
    assert.equal(all.deferred, undefined, 'off: timing did not run');
    const recordedBefore = await planRebalances(context(), { snapshot: snapshot(), inFlight: [], forecast: undefined }, { quotes: quotes(2000) });
    assert.deepEqual(recordedBefore.transfers.map(route), all.transfers.map(route), 'no gas history in the input: as before');
    assert.equal(recordedBefore.deferred, undefined);
    const cheapNow = await planRebalances(context(), { snapshot: snapshot(21n), inFlight: [], gas: history() }, { quotes: quotes(2000) });
    assert.deepEqual(cheapNow.transfers.map(route), all.transfers.map(route), 'at the median: nothing waits');
    assert.deepEqual(cheapNow.deferred, []);
    const noBaseFee = await planRebalances(context(), { snapshot: snapshot(null), inFlight: [], gas: history() }, { quotes: quotes(2000) });
    assert.deepEqual(noBaseFee.deferred, [], 'a chain without a base fee (no EIP-1559) never waits for gas');
    // p100 = 33 gwei. At 34 gwei a wait could save at most 2000 × 1/34 ≈ 59 tokens, less than the ~176 the move to d
    // earns in 6 h (+21 148 over 30 days): it goes now. At 200 gwei it could save ~1 670: it waits.
    const slightly = await planRebalances(context({ percentile: 100 }), { snapshot: snapshot(34n), inFlight: [], gas: history() }, { quotes: quotes(2000) });
    assert.deepEqual(slightly.deferred, [], 'above p100, but the wait does not pay');
    const strict = await planRebalances(context({ percentile: 100 }), { snapshot: snapshot(200n), inFlight: [], gas: history() }, { quotes: quotes(2000) });
    assert.ok((strict.deferred ?? []).length > 0, 'p100 = 33 gwei: 200 gwei is far above it');
    assert.match(strict.deferred![0]!.reason, /^waits: base fee 200 gwei > p100 33 gwei of the last 24 h$/);
  });

  test('a wait that saves less than the yield it forgoes over expectedWaitSec: the move goes now', async () => {
    // A 1-token fee: waiting could save under 1 token, the move to d earns far more than that in 6 h.
    const plan = await planRebalances(context(), { snapshot: snapshot(), inFlight: [], gas: history() }, { quotes: quotes(1) });
    assert.ok(plan.transfers.some((t) => t.to === 'd'), plan.transfers.map(route).join(', '));
    assert.deepEqual(plan.deferred, []);
  });
});

describe('the monitor\'s base-fee history (observeBaseFees)', () => {
  test('one sample per chain at most every 900 s; chains without a base fee are not sampled; the input is kept', () => {
    assert.equal(GAS_SAMPLE_SPACING_SEC, 900);
    const h0 = {};
    const h1 = observeBaseFees(h0, [{ chainKey: 'a', baseFeeWei: 5n }, { chainKey: 'sol' }], 1000);
    assert.deepEqual(h0, {});
    assert.deepEqual(h1, { a: [{ atSec: 1000, baseFeeWei: 5n }] });
    const early = observeBaseFees(h1, [{ chainKey: 'a', baseFeeWei: 6n }], 1899);
    assert.deepEqual(early, h1, 'less than 900 s after the last: nothing');
    const h2 = observeBaseFees(h1, [{ chainKey: 'a', baseFeeWei: 6n }], 1900);
    assert.deepEqual(h2.a, [{ atSec: 1000, baseFeeWei: 5n }, { atSec: 1900, baseFeeWei: 6n }]);
    assert.equal(h1.a!.length, 1);
  });

  test('bounded: the last 24 h and at most 96 samples per chain; a chain not seen for 24 h is dropped', () => {
    let h: Record<string, BaseFeeSample[]> = {};
    for (let i = 0; i < 400; i++) h = observeBaseFees(h, [{ chainKey: 'a', baseFeeWei: BigInt(i) }, ...(i < 10 ? [{ chainKey: 'b', baseFeeWei: 1n }] : [])], i * 900);
    assert.equal(h.a!.length, MAX_GAS_SAMPLES);
    assert.equal(h.a![0]!.baseFeeWei, 400n - 96n, 'the newest kept');
    assert.ok(h.a!.every((x) => x.atSec >= 399 * 900 - GAS_HISTORY_SEC));
    assert.equal(h.b, undefined, 'b not seen for more than 24 h');
    // Hourly ticks: 25 samples span 24 h (both ends included), the older ones drop.
    let hourly: Record<string, BaseFeeSample[]> = {};
    for (let i = 0; i < 40; i++) hourly = observeBaseFees(hourly, [{ chainKey: 'a', baseFeeWei: 1n }], i * 3600);
    assert.equal(hourly.a!.length, 25);
  });
});
