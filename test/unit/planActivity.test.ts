/**
 * The `planRebalances` activity (activities/plan.ts) picks the planner from config `planner`, and with the
 * optimal planner returns a plan over quoted bridges with a certificate never worse than greedy's; the
 * quotes (activities/quotes.ts) become edges only between chains both ends of a bridge are enabled on.
 *
 * No chain is contacted: the quotes are given to the activity (as a replay does) or come from fake quoters;
 * the quoting against a real BallastRoute is test/e2e/planOptimal.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { exampleConfig, parseConfig, type BallastConfigInput } from '../../config/index.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { planRebalances } from '../../activities/plan.js';
import { edgesFromQuotes, quoteRoutes, type BridgeQuoter, type RouteQuote } from '../../activities/quotes.js';
import { planGreedy } from '../../planner/greedy.js';
import { verifyRoutedPlan } from '../../planner/optimal.js';
import { nativeFeeToAsset } from '../../planner/bridgeFees.js';
import type { Snapshot } from '../../planner/types.js';
import { chain } from './plannerFixtures.js';

const KEYS = ['a', 'b', 'c', 'd'];
const addr = (i: number, j: number): `0x${string}` => `0x${(i * 16 + j + 1).toString(16).padStart(40, '0')}`;

/**
 * A config for chains a..d (example policies: band 60–80%, maxTransfer 250k, minTransfer 100 tokens) with `over`
 * merged in; `withWormhole`: every chain also on the Wormhole route (chain ids 2..5).
 */
function config(over: Partial<BallastConfigInput> = {}, opts: { withWormhole?: boolean } = {}) {
  const base = exampleConfig({
    chains: KEYS.map((key, i) => ({
      key,
      chainId: 31_000 + i,
      rpcUrl: `http://127.0.0.1:${1 + i}`, // never contacted
      eid: 40_000 + i,
      contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) },
      ...(opts.withWormhole ? { wormhole: { chainId: 2 + i, core: addr(i, 7), adapter: addr(i, 8) } } : {}),
    })),
  });
  return parseConfig({ ...base, ...over });
}

/** a is 95% utilized and needs ~357k to reach 70%; b, c, d are at 40% and can each give up to 250k per transfer; gas token at 3000 USD everywhere. */
function snapshot(): Snapshot {
  return {
    takenAtMs: 1,
    chains: [chain('a', 1, 0.95), chain('b', 2, 0.8), chain('c', 2, 0.8), chain('d', 2, 0.8)].map((c) => ({ ...c, oracle: { ...c.oracle, answer: 3000n * 10n ** 8n } })),
    excluded: [],
    freshness: 'fresh',
  };
}

const PRICE = { answer: 3000n * 10n ** 8n, decimals: 8 };
/** One quote: `feeWei` of the source's gas token at 3000 USD (fixed fee in USDC base units), `feeBps` from config. */
function quote(from: string, to: string, bridge: string, feeWei: bigint, feeBps = 0): RouteQuote {
  return { from, to, bridge, quotedAmount: 100n * 10n ** 6n, nativeFeeWei: feeWei, price: PRICE, fixedFee: nativeFeeToAsset(feeWei, PRICE, 6), feeBps, latencySec: 120 };
}
/** LayerZero from b to a costs 0.01 ETH (30 USDC) per message, every other route 0.0002 ETH (0.6 USDC); Wormhole 0.00001 ETH + 5 bps everywhere. */
const QUOTES: RouteQuote[] = ['b', 'c', 'd'].flatMap((from) => [quote(from, 'a', 'layerzero', from === 'b' ? 10n ** 16n : 2n * 10n ** 14n), quote(from, 'a', 'wormhole', 10n ** 13n, 5)]);
const exact = (d: string): bigint => BigInt(d.replace('.', ''));

describe('planRebalances: the planner named in config', () => {
  test('planner.kind greedy: the greedy baseline, every transfer over layerzero, no certificate and no quotes', async () => {
    const ctx = buildReadOnlyKeeperContext(config({ planner: { kind: 'greedy' } }));
    const plan = await planRebalances(ctx, { snapshot: snapshot(), inFlight: [] });
    const greedy = planGreedy({ chains: snapshot().chains, policies: [...ctx.chains.values()].map((c) => c.policy), inFlight: [] });
    assert.equal(plan.planner, 'greedy');
    assert.equal(plan.certificate, undefined);
    assert.equal(plan.quotes, undefined);
    assert.deepEqual(plan.transfers.map((t) => [t.from, t.to, t.amount, t.bridge]), greedy.transfers.map((t) => [t.from, t.to, t.amount, 'layerzero']));
    assert.deepEqual(plan.transfers.map((t) => t.from), ['b', 'c'], 'greedy takes b first (ties by key), whatever b charges');
    assert.match(plan.transfers[0]!.rebalanceId, /^0x[0-9a-f]{64}$/);
  });

  test('default (optimal): a certificate whose exact objective is below greedy\'s on the same quotes, the cheap routes, bridge and fee per transfer', async () => {
    const cfg = config();
    assert.deepEqual(cfg.planner, { kind: 'optimal', timeBudgetMs: 1000 }, 'optimal is the default');
    const ctx = buildReadOnlyKeeperContext(cfg);
    const plan = await planRebalances(ctx, { snapshot: snapshot(), inFlight: [] }, { quotes: QUOTES });
    const c = plan.certificate;
    assert.ok(c, 'the optimal plan carries its certificate');
    assert.equal(plan.planner, 'optimal');
    assert.equal(c.status, 'Optimal');
    assert.equal(c.optimal, true);
    assert.ok(c.gapPct <= 0.1, `gap ${c.gapPct}%`);
    assert.ok(exact(c.exact.objective) < exact(c.exact.greedyObjective), `objective ${c.exact.objective} < greedy ${c.exact.greedyObjective}`);
    assert.equal(plan.transfers.length, 2, 'two messages (c and d, or two on one route when maxTransfer binds: the same fees)');
    assert.ok(plan.transfers.every((t) => t.from === 'c' || t.from === 'd'), 'the expensive b → a route is avoided');
    for (const t of plan.transfers) {
      assert.equal(t.bridge, 'layerzero', `${t.from} → a: a 0.6 USDC message beats 5 bps of ${t.amount}`);
      assert.equal(t.fee, 600_000n, 'fee = the quoted 0.0002 ETH at 3000 USD = 0.6 USDC, in base units');
      assert.equal(t.latencySec, 120);
    }
    assert.equal(plan.totals?.fees, 1_200_000n);
    assert.equal(plan.totals?.volume, plan.transfers.reduce((s, t) => s + t.amount, 0n));
    assert.deepEqual(plan.quotes, QUOTES, 'the quotes it planned from are recorded with the plan');
    const edges = edgesFromQuotes(QUOTES);
    assert.deepEqual(verifyRoutedPlan({ chains: snapshot().chains, policies: [...ctx.chains.values()].map((x) => x.policy), inFlight: [], edges }, plan.transfers), [], 'every rule holds');
    assert.deepEqual(c.perTransferReasons, plan.transfers.map((t) => t.reason));
    assert.match(plan.transfers[0]!.reason, /over layerzero: fee 600000 = fixed 600000 \+ 0 bps/);
  });

  test('the cost is never above greedy\'s: with b as cheap as the others the plan costs at most greedy\'s, in exact base units', async () => {
    const flat = QUOTES.map((q) => (q.from === 'b' && q.bridge === 'layerzero' ? quote('b', 'a', 'layerzero', 2n * 10n ** 14n) : q));
    const plan = await planRebalances(buildReadOnlyKeeperContext(config()), { snapshot: snapshot(), inFlight: [] }, { quotes: flat });
    const c = plan.certificate!;
    assert.ok(exact(c.exact.objective) <= exact(c.exact.greedyObjective));
    assert.equal(plan.totals?.fees, 1_200_000n, 'two messages of 0.6 USDC cover the need');
  });

  test('a Wormhole transfer carries Wormhole\'s delivery deadline; a LayerZero one leaves the monitor\'s', async () => {
    const GUARDIAN = '0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe';
    const base = config();
    const cfg = config(
      { bridges: { layerzero: {}, wormhole: {} }, wormhole: { guardianUrl: 'http://127.0.0.1:7071', guardianSets: [{ index: 0, keys: [GUARDIAN] }], deliveryDeadlineSec: 1234 } },
      { withWormhole: true },
    );
    assert.equal(base.layerzero.deliveryDeadlineSec, 600);
    const planWith = async (cheap: 'layerzero' | 'wormhole') => {
      const quotes: RouteQuote[] = ['b', 'c', 'd'].flatMap((from) => [quote(from, 'a', 'layerzero', cheap === 'layerzero' ? 10n ** 12n : 10n ** 16n), quote(from, 'a', 'wormhole', cheap === 'wormhole' ? 10n ** 12n : 10n ** 16n)]);
      const plan = await planRebalances(buildReadOnlyKeeperContext(cfg), { snapshot: snapshot(), inFlight: [] }, { quotes });
      assert.ok(plan.transfers.length > 0 && plan.transfers.every((t) => t.bridge === cheap), plan.transfers.map((t) => `${t.from}->${t.to} ${t.bridge}`).join(', '));
      return plan.transfers;
    };
    for (const t of await planWith('wormhole')) assert.equal(t.deliveryDeadlineSec, 1234);
    for (const t of await planWith('layerzero')) assert.equal(t.deliveryDeadlineSec, undefined, 'the monitor passes layerzero.deliveryDeadlineSec');
  });

  test('an edge whose quote failed is not planned on; the plan moves over the other routes and records the failure', async () => {
    const failed = QUOTES.map((q) => (q.from === 'c' ? { ...q, nativeFeeWei: undefined, fixedFee: undefined, error: 'c: quoteSend(40000) reverted: NoPeerRoute(40000)' } : q));
    const plan = await planRebalances(buildReadOnlyKeeperContext(config()), { snapshot: snapshot(), inFlight: [] }, { quotes: failed });
    assert.ok(!plan.transfers.some((t) => t.from === 'c'), 'nothing from c');
    assert.ok(plan.transfers.some((t) => t.from === 'd'));
    assert.equal(plan.quotes?.filter((q) => q.error !== undefined).length, 2);
  });

  test('no fresh snapshot, no plan: the planner says why without quoting', async () => {
    const plan = await planRebalances(buildReadOnlyKeeperContext(config()), { snapshot: { ...snapshot(), freshness: 'partial', excluded: [{ chainKey: 'd', reason: 'rpc down' }] }, inFlight: [] });
    assert.deepEqual(plan.transfers, []);
    assert.match(plan.unresolved[0]!.reason, /not planned: snapshot partial: rpc down/);
  });

  test('exports ballast_plan_* per tick: objective, bound, gaps (objective, fees, unmet need), solver status, plan time, fees planned', async () => {
    const ctx = buildReadOnlyKeeperContext(config());
    const plan = await planRebalances(ctx, { snapshot: snapshot(), inFlight: [] }, { quotes: QUOTES });
    const text = await ctx.metrics.registry.metrics();
    assert.match(text, /^ballast_plan_gap_ratio 0$/m);
    assert.match(text, new RegExp(`^ballast_plan_fee_gap_ratio ${plan.certificate!.feeGapPct / 100}$`, 'm'));
    assert.ok(plan.certificate!.feeGapPct <= 0.1, 'the fee gap is proven within 0.1%');
    assert.match(text, /^ballast_plan_shortfall_gap_ratio 0$/m);
    assert.match(text, /^ballast_plan_optimal 1$/m);
    assert.match(text, new RegExp(`^ballast_plan_solver_status\\{status="Optimal",chosen="${plan.certificate!.chosen}"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^ballast_plan_objective ${plan.certificate!.objective}$`, 'm'));
    assert.match(text, /^ballast_plan_bound \d+(\.\d+)?(e\+\d+)?$/m);
    assert.match(text, /^ballast_plan_fees_planned\{planner="optimal"\} 1\.2$/m);
    assert.match(text, /^ballast_plan_transfers\{planner="optimal"\} 2$/m);
    assert.match(text, /^ballast_plan_duration_seconds_count\{planner="optimal"\} 1$/m);
  });
});

describe('quoteRoutes and edgesFromQuotes: which bridges give edges', () => {
  /** A fake quoter: `fee` wei per message, enabled on `on` only; records what it was asked. */
  function fakeQuoter(fee: bigint, on: readonly string[] | 'all', calls: string[]): BridgeQuoter {
    return {
      enabledOn: (_ctx, chain) => on === 'all' || on.includes(chain.chainKey),
      async quoteNativeFees(_ctx, from, to, amount, block) {
        calls.push(`${from.chainKey}→${to.map((t) => t.chainKey).join(',')} ${amount} @${block}`);
        return to.map((t) => (t.chainKey === 'd' ? { ok: false as const, error: `NoPeerRoute(${t.eid})` } : { ok: true as const, nativeFeeWei: fee }));
      },
    };
  }

  test('a bridge gets edges only between chains both enabled; fees converted with the source chain\'s price; one call per source', async () => {
    const ctx = buildReadOnlyKeeperContext(config({ bridges: { layerzero: {}, wormhole: { feeBps: 2.5, latencySec: 900, rateLimit: '100000000000' } } }));
    const snap = snapshot();
    snap.chains[1] = { ...snap.chains[1]!, oracle: { ...snap.chains[1]!.oracle, answer: 2000n * 10n ** 8n } }; // b's gas token at 2000 USD
    const calls: string[] = [];
    const pairs = [{ from: 'b', to: 'a' }, { from: 'c', to: 'a' }, { from: 'b', to: 'd' }];
    const quotes = await quoteRoutes(ctx, snap, pairs, [...ctx.chains.values()].map((c) => c.policy), { layerzero: fakeQuoter(10n ** 14n, 'all', calls), wormhole: fakeQuoter(10n ** 12n, ['a', 'b'], calls) });
    const rows = quotes.map((q) => `${q.from}→${q.to} ${q.bridge} ${q.fixedFee ?? q.error}`);
    assert.deepEqual(rows, [
      'b→a layerzero 200000', // 0.0001 ETH at 2000 USD = 0.2 USDC
      'b→a wormhole 2000',
      'b→d layerzero NoPeerRoute(40003)',
      'c→a layerzero 300000', // c pays at its own price, 3000 USD
    ], 'wormhole only on b→a (c and d are not on it); the refused destination is recorded');
    assert.deepEqual(calls.sort(), ['b→a 100000000 @1000', 'b→a,d 100000000 @1000', 'c→a 100000000 @1000'], 'one call per (source, bridge), at the snapshot block, for the larger minTransfer (100 tokens)');
    const wh = quotes.find((q) => q.bridge === 'wormhole')!;
    assert.equal(wh.feeBps, 2.5);
    assert.equal(wh.latencySec, 900);
    const edges = edgesFromQuotes(quotes, { 'b->a': 50_000_000_000n });
    assert.deepEqual(edges.map((e) => `${e.from}→${e.to} ${e.bridge} cap ${e.capacity ?? '-'}`), ['b→a layerzero cap 50000000000', 'b→a wormhole cap 50000000000', 'c→a layerzero cap -'], 'capacity = min(bridge rate limit, route cap); failed quotes give no edge');
  });

  test('a bridge enabled in config without a quoter, and a quoter that fails, leave their edges out with the reason', async () => {
    const ctx = buildReadOnlyKeeperContext(config({ bridges: { layerzero: {}, wormhole: {} } }));
    const broken: BridgeQuoter = { enabledOn: () => true, quoteNativeFees: () => Promise.reject(new Error('fetch failed: ECONNREFUSED')) };
    const quotes = await quoteRoutes(ctx, snapshot(), [{ from: 'b', to: 'a' }], [...ctx.chains.values()].map((c) => c.policy), { layerzero: broken });
    assert.deepEqual(quotes.map((q) => `${q.bridge}: ${q.error}`), [
      'layerzero: layerzero quote from b failed: fetch failed: ECONNREFUSED',
      'wormhole: no quoter for bridge "wormhole" (activities/quotes.ts BRIDGE_QUOTERS); config enables it but the keeper cannot price it',
    ]);
    assert.deepEqual(edgesFromQuotes(quotes), []);
  });

  test('config: bridges.layerzero defaults to 0 bps, 120 s; wormhole absent unless set; enabled: false drops a bridge', () => {
    assert.deepEqual(buildReadOnlyKeeperContext(config()).bridges, { layerzero: { feeBps: 0, latencySec: 120 } });
    assert.deepEqual(buildReadOnlyKeeperContext(config({ bridges: { layerzero: { enabled: false }, wormhole: { feeBps: 1.5 } } })).bridges, { wormhole: { feeBps: 1.5, latencySec: 1200 } });
    assert.throws(() => config({ bridges: { layerzero: { feeBps: 0.001 } } }), /bridges\.layerzero\.feeBps: must be a multiple of 0\.01 bps/);
    assert.throws(() => config({ planner: { kind: 'magic' as never } }), /planner\.kind: must be "optimal" or "greedy"/);
    assert.throws(() => config({ planner: { timeBudgetMs: 0 } }), /planner\.timeBudgetMs: must be a positive integer number of milliseconds/);
  });
});

