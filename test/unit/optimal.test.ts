/**
 * Specification of the optimal planner (planner/optimal.ts): a MILP over (chain, chain, bridge) edges solved
 * by HiGHS, never worse than the greedy baseline, every rule of greedy kept, with a checkable certificate.
 * Amounts are USDC-like base units (6 decimals); `M(x)` is x million tokens.
 *
 * The random instances are the greedy property test's (test/unit/planner.test.ts: same generator, same
 * seed, copied below because a test file cannot be imported without running its tests), plus quoted edges
 * drawn from a second, independent stream.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { planGreedy, WAD } from '../../planner/index.js';
import { planOptimal, planOptimalAssets, planGreedyOnEdges, verifyRoutedPlan, UNMET_NEED_WEIGHT } from '../../planner/optimal.js';
import type { BridgeEdge, OptimalInput, OptimalPlan } from '../../planner/optimal.js';
import type { ChainPolicy, ChainState, InFlight } from '../../planner/index.js';
import { mulberry32 } from '../../devnet/prng.js';
import { rebalanceId } from '../../planner/rebalanceId.js';
import { generatedInstance } from '../../bench/instances.js';
import { M, chain, checkInvariants, policy, randBig, randomInstance, required, shuffle } from './plannerFixtures.js';

const BUDGET = { timeLimitMs: 2000 };




/** Every ordered pair over each bridge, the same quote everywhere unless `price` says otherwise. */
function allEdges(keys: readonly string[], price: (from: string, to: string, bridge: string) => Partial<BridgeEdge> = () => ({})): BridgeEdge[] {
  const out: BridgeEdge[] = [];
  for (const from of keys) {
    for (const to of keys) {
      if (from === to) continue;
      out.push({ from, to, bridge: 'layerzero', feeBps: 0, fixedFee: M(0.000002), latencySec: 60, ...price(from, to, 'layerzero') });
      out.push({ from, to, bridge: 'wormhole', feeBps: 2, fixedFee: M(0.0000005), latencySec: 900, ...price(from, to, 'wormhole') });
    }
  }
  return out;
}

/** The objective recomputed from scratch: weight · unmet need + Σ (fixed + bps · amount), base units with 6 exact decimals. */
function objectiveOf(inst: OptimalInput, transfers: OptimalPlan['transfers']): string {
  const policies = new Map(inst.policies.map((p) => [p.chainKey, p]));
  const inbound = new Map<string, bigint>();
  for (const f of inst.inFlight) inbound.set(f.to, (inbound.get(f.to) ?? 0n) + f.amount);
  let micro = 0n;
  for (const t of transfers) {
    const e = inst.edges.find((q) => q.from === t.from && q.to === t.to && q.bridge === t.bridge)!;
    micro += e.fixedFee * 1_000_000n + BigInt(Math.round(e.feeBps * 100)) * t.amount;
  }
  for (const c of inst.chains) {
    const p = policies.get(c.chainKey);
    if (!p || !c.oracleCheck.ok || !(c.borrowed * WAD > p.band.highWad * c.supplied)) continue;
    const need = required(c, p) - c.supplied - (inbound.get(c.chainKey) ?? 0n);
    const got = transfers.filter((t) => t.to === c.chainKey).reduce((s, t) => s + t.amount, 0n);
    if (need > got) micro += UNMET_NEED_WEIGHT * 1_000_000n * (need - got);
  }
  return `${micro / 1_000_000n}.${(micro % 1_000_000n).toString().padStart(6, '0')}`;
}

/** Certificate fields agree with each other and with the plan. */
function checkCertificate(inst: OptimalInput, plan: OptimalPlan, label: string): void {
  const c = plan.certificate;
  assert.equal(c.solver, 'highs');
  assert.ok(c.gapPct >= 0, `${label}: gap ${c.gapPct} ≥ 0`);
  assert.ok(c.bound <= c.objective, `${label}: bound ${c.bound} ≤ objective ${c.objective}`);
  if (c.optimal) assert.ok(c.gapPct <= 0.1, `${label}: optimal ⇒ gap ${c.gapPct}% ≤ 0.1%`);
  assert.equal(c.optimal, c.proven.fees && c.proven.shortfall, `${label}: optimal ⇔ proven on unmet need and on fees`);
  const slack = 1e-12 * c.objective;
  if (c.proven.fees) assert.ok(c.feeGapPct <= 0.1 || c.objective - c.bound <= slack, `${label}: proven on fees ⇒ fee gap ${c.feeGapPct}% ≤ 0.1%`);
  if (c.proven.shortfall) {
    const within = c.shortfallGapPct <= 0.1 || c.objective - c.bound <= slack || (c.objective - c.bound) / c.unmetNeedWeight <= Number(c.resolution);
    assert.ok(within || plan.totals.shortfall === 0n, `${label}: proven on unmet need ⇒ gap ${c.shortfallGapPct}% ≤ 0.1% or below the resolution ${c.resolution}`);
  }
  assert.ok(c.shortfallGapPct >= 0 && c.shortfallGapPct <= 100, `${label}: unmet-need gap in [0, 100]%`);
  for (const r of c.perTransferReasons) assert.match(r, /; certificate \w+: unmet need (NOT )?proven optimal \(gap [\d.]+%\), fees (NOT )?proven optimal \(gap [\d.]+%\)$/, `${label}: the reason carries the certificate`);
  if (c.optimal) assert.ok(c.status === 'Optimal' || c.status === 'Trivial', `${label}: optimal ⇒ status ${c.status}`);
  assert.ok(c.objective <= c.greedyObjective, `${label}: objective ${c.objective} ≤ greedy ${c.greedyObjective}`);
  const exact = (d: string): bigint => BigInt(d.replace('.', ''));
  assert.equal(c.chosen !== 'greedy', exact(c.exact.objective) < exact(c.exact.greedyObjective), `${label}: another plan than greedy's is taken iff strictly cheaper`);
  assert.ok(c.feeGapPct >= 0 && c.feeGapPct >= c.gapPct * (c.objective / Math.max(1, Number(plan.totals.fees))) * 0.999999, `${label}: fee gap consistent`);
  assert.ok(exact(c.exact.objective) <= exact(c.exact.greedyObjective), `${label}: exact objective ≤ greedy's`);
  assert.equal(c.exact.objective, objectiveOf(inst, plan.transfers), `${label}: the objective recomputes from the plan`);
  assert.ok(Math.abs(Number(c.exact.objective) - c.objective) <= 1e-9 * Math.max(1, c.objective), `${label}: number and exact objective agree`);
  assert.deepEqual(c.perTransferReasons, plan.transfers.map((t) => t.reason), `${label}: one reason per transfer`);
  assert.equal(plan.totals.volume, plan.transfers.reduce((s, t) => s + t.amount, 0n));
  assert.equal(plan.totals.fees, plan.transfers.reduce((s, t) => s + t.fee, 0n));
  assert.ok(c.timeMs >= 0 && Number.isFinite(c.bound));
}

describe('planOptimal — the MILP planner', () => {
  test('finds a cheaper pairing than greedy: greedy sends the largest surplus to the largest deficit over an expensive route', async () => {
    // a and b above band; c and d both far below target. Greedy pairs a (largest need) with c (largest
    // spare per transfer, c before d by chainKey), but every bridge from c to a charges 50 bps.
    const chains = [chain('a', 10, 9.5), chain('b', 10, 9), chain('c', 20, 4), chain('d', 20, 4)];
    const inst: OptimalInput = {
      chains,
      policies: chains.map((c) => policy(c.chainKey)),
      inFlight: [],
      edges: allEdges(['a', 'b', 'c', 'd'], (from, to) => (from === 'c' && to === 'a' ? { feeBps: 50 } : {})),
    };
    const greedy = planGreedyOnEdges(inst);
    assert.deepEqual(greedy.transfers.map((t) => [t.from, t.to]), [['c', 'a'], ['d', 'b']], 'greedy takes the expensive c→a');
    const plan = await planOptimal(inst, BUDGET);
    checkInvariants(inst, plan, 'hand', 'several');
    checkCertificate(inst, plan, 'hand');
    assert.ok(!plan.transfers.some((t) => t.from === 'c' && t.to === 'a'), 'the optimal plan avoids c→a');
    assert.equal(plan.totals.volume, greedy.totals.volume, 'the same need is covered');
    assert.equal(plan.totals.shortfall, 0n);
    assert.ok(plan.totals.fees * 10n < greedy.totals.fees, `fees ${plan.totals.fees} are a fraction of greedy's ${greedy.totals.fees}`);
    assert.notEqual(plan.certificate.chosen, 'greedy', 'the MILP (or its fee-aware start) replaces greedy');
    assert.equal(plan.certificate.optimal, true);
    assert.match(plan.transfers[0]!.reason, /^a utilization 95\.00% > high 80\.00%, needs \d+ to reach target 70\.00% .* over (layerzero|wormhole): fee \d+ = fixed \d+ \+ \d+ bps, latency \d+s; other bridges: .*; chosen by the (MILP|fee-aware heuristic)/);
  });

  test('covers a need greedy leaves unmet when greedy strands a donor below minTransfer', async () => {
    // Needs: A 6M, B 5M; spares: X 7M, Y 4M; minTransfer 2M. Greedy: A←X 6, B←Y 4, then X's last 1M < 2M.
    // Optimal: A←Y 4 + A←X 2, B←X 5.
    const chains = [chain('A', 10, 11.2), chain('B', 10, 10.5), chain('X', 20, 9.1), chain('Y', 20, 11.2)];
    const policies = chains.map((c) => policy(c.chainKey, { caps: { minTransfer: M(2) } }));
    const inst: OptimalInput = { chains, policies, inFlight: [], edges: allEdges(['A', 'B', 'X', 'Y']) };
    const greedy = planGreedyOnEdges(inst);
    assert.equal(greedy.totals.shortfall, M(1), 'greedy leaves B 1M short');
    const plan = await planOptimal(inst, BUDGET);
    checkInvariants(inst, plan, 'stranded', 'several');
    checkCertificate(inst, plan, 'stranded');
    assert.equal(plan.totals.shortfall, 0n, 'every need is met');
    assert.equal(plan.transfers.length, 3);
    assert.deepEqual(plan.unresolved, [], 'every chain ends in band (X and Y give down to their target)');
  });

  test('chooses the bridge per transfer: fixed fee for large amounts, proportional for small ones', async () => {
    const chains = [chain('big', 10, 9.9), chain('small', 10, 7.002), chain('donor', 100, 10)];
    const keys = ['big', 'small', 'donor'];
    const edges = allEdges(keys, (_f, _t, bridge) => (bridge === 'layerzero' ? { feeBps: 0, fixedFee: M(0.00001) } : { feeBps: 5, fixedFee: 0n }));
    const inst: OptimalInput = { chains, policies: chains.map((c) => policy(c.chainKey, { band: [69.99, 70.01] })), inFlight: [], edges };
    const plan = await planOptimal(inst, BUDGET);
    checkInvariants(inst, plan, 'bridges', 'several');
    checkCertificate(inst, plan, 'bridges');
    const by = new Map(plan.transfers.map((t) => [t.to, t]));
    // big needs ~4.1M: 5 bps ≈ 2071 tokens ≫ 10 tokens fixed; small needs ~2857 tokens: 5 bps ≈ 1.4 tokens ≪ 10 tokens.
    assert.equal(by.get('big')?.bridge, 'layerzero');
    assert.equal(by.get('small')?.bridge, 'wormhole');
  });

  test('route capacity, route minimum and in-flight pairs are respected; a capped route is topped up from another donor', async () => {
    const chains = [chain('a', 10, 9.5), chain('b', 20, 4), chain('c', 20, 4), chain('d', 20, 4)];
    const keys = ['a', 'b', 'c', 'd'];
    const need = required(chains[0]!, policy('a')) - chains[0]!.supplied;
    const edges = allEdges(keys, (from, to) => {
      if (to !== 'a') return {};
      if (from === 'b') return { capacity: M(1), feeBps: 0, fixedFee: 0n }; // cheapest, but small
      if (from === 'c') return { minTransfer: M(100) }; // never usable
      return {};
    });
    const inFlight: InFlight[] = [{ rebalanceId: '0x01', from: 'a', to: 'd', amount: 1n }]; // blocks d→a too
    const inst: OptimalInput = { chains, policies: keys.map((k) => policy(k)), inFlight, edges };
    const plan = await planOptimal(inst, BUDGET);
    checkInvariants(inst, plan, 'caps', 'several');
    checkCertificate(inst, plan, 'caps');
    assert.deepEqual(verifyRoutedPlan(inst, plan.transfers), []);
    assert.ok(!plan.transfers.some((t) => t.from === 'c' || t.from === 'd'), 'c (route minimum) and d (in flight) do not send');
    assert.deepEqual(plan.transfers.map((t) => [t.from, t.to, t.bridge, t.amount]), [['b', 'a', 'layerzero', M(1)], ['b', 'a', 'wormhole', M(1)]], 'both bridges of the capped route carry their capacity');
    assert.equal(plan.totals.shortfall, need - M(2), 'short of target, though back in band (79.17%)');
    const one = await planOptimal(inst, { ...BUDGET, messagesPerRoute: 'one' });
    checkInvariants(inst, one, 'caps, one rule', 'one');
    assert.deepEqual(one.transfers.map((t) => [t.from, t.to, t.amount]), [['b', 'a', M(1)]], 'one message per pair: one capped message');
    assert.equal(one.totals.shortfall, need - M(1));
    assert.match(one.unresolved.find((u) => u.chainKey === 'a')!.reason, /still short \d+ of target 70\.00%/);
  });

  test('verifyRoutedPlan names each broken rule', () => {
    const chains = [chain('a', 10, 9.5), chain('b', 20, 4)];
    const inst: OptimalInput = { chains, policies: [policy('a'), policy('b', { caps: { maxTransfer: M(1) } })], inFlight: [], edges: allEdges(['a', 'b'], () => ({ capacity: M(0.5) })) };
    const plan = [
      { from: 'b', to: 'a', bridge: 'layerzero', amount: M(2) },
      { from: 'b', to: 'a', bridge: 'wormhole', amount: M(0.1) },
      { from: 'b', to: 'a', bridge: 'nope', amount: M(0.1) },
    ];
    const bad = verifyRoutedPlan(inst, plan, { messagesPerRoute: 'one' });
    assert.ok(bad.some((m) => /above b maxTransfer/.test(m)));
    assert.ok(bad.some((m) => /above route capacity/.test(m)));
    assert.ok(bad.some((m) => /second transfer on the route b→a/.test(m)));
    assert.ok(bad.some((m) => /no quoted edge/.test(m)));
    // Several messages per (route, bridge): each within the caps, together within the route capacity and the count.
    assert.ok(!verifyRoutedPlan(inst, plan).some((m) => /second transfer/.test(m)), 'two bridges on one route are allowed');
    const lz = (amount: bigint) => ({ from: 'b', to: 'a', bridge: 'layerzero', amount });
    assert.deepEqual(verifyRoutedPlan(inst, [lz(M(0.25)), lz(M(0.25))]), [], 'two messages filling the capacity');
    assert.ok(verifyRoutedPlan(inst, [lz(M(0.3)), lz(M(0.3))]).some((m) => /above route capacity 500000000000 \(2 messages together send 600000000000\)/.test(m)));
    assert.ok(verifyRoutedPlan(inst, Array.from({ length: 5 }, () => lz(M(0.01)))).some((m) => /more than 4 messages on the route b→a over layerzero/.test(m)));
  });

  test('malformed edges are refused with what is wrong', async () => {
    const chains = [chain('a', 10, 9.5), chain('b', 20, 4)];
    const base = { chains, policies: [policy('a'), policy('b')], inFlight: [] };
    const e: BridgeEdge = { from: 'b', to: 'a', bridge: 'layerzero', feeBps: 1, fixedFee: 0n, latencySec: 1 };
    await assert.rejects(planOptimal({ ...base, edges: [e, e] }, BUDGET), /edge b→a over layerzero appears twice/);
    await assert.rejects(planOptimal({ ...base, edges: [{ ...e, feeBps: 0.001 }] }, BUDGET), /feeBps 0\.001 must be a multiple of 0\.01/);
    await assert.rejects(planOptimal({ ...base, edges: [{ ...e, to: 'b' }] }, BUDGET), /from a chain to itself/);
    await assert.rejects(planOptimal({ ...base, edges: [{ ...e, fixedFee: -1n }] }, BUDGET), /negative/);
    await assert.rejects(planOptimal({ ...base, edges: [] }, { timeLimitMs: 0 }), /timeLimitMs must be > 0/);
  });

  test('nothing to do gives an empty plan with a trivial, optimal certificate', async () => {
    const chains = [chain('a', 10, 7), chain('b', 10, 7)];
    const inst: OptimalInput = { chains, policies: [policy('a'), policy('b')], inFlight: [], edges: allEdges(['a', 'b']) };
    const plan = await planOptimal(inst, BUDGET);
    assert.deepEqual(plan.transfers, []);
    assert.equal(plan.certificate.status, 'Trivial');
    assert.equal(plan.certificate.objective, 0);
    assert.equal(plan.certificate.optimal, true);
  });

  test('assets are planned separately and each plan equals its single-asset plan', async () => {
    const rng = mulberry32(99);
    const usdc = withEdges(rng, randomInstance(rng, 6));
    const weth = withEdges(rng, randomInstance(rng, 5));
    const both = await planOptimalAssets([{ asset: 'WETH', input: weth }, { asset: 'USDC', input: usdc }], { timeLimitMs: 4000 });
    assert.deepEqual(both.map((p) => p.asset), ['USDC', 'WETH']);
    assert.deepEqual(both[0]!.plan.transfers, (await planOptimal(usdc, BUDGET)).transfers);
    assert.deepEqual(both[1]!.plan.transfers, (await planOptimal(weth, BUDGET)).transfers);
    await assert.rejects(planOptimalAssets([{ asset: 'X', input: usdc }, { asset: 'X', input: weth }], BUDGET), /asset "X" appears twice/);
  });

  test('deterministic: the same input, in any order, gives a deep-equal plan and certificate (time aside)', async () => {
    const rng = mulberry32(7);
    const inst = withEdges(rng, randomInstance(rng, 8));
    const strip = (p: OptimalPlan): unknown => ({ ...p, certificate: { ...p.certificate, timeMs: 0, search: { ...p.certificate.search, solveMs: 0 } } });
    const first = await planOptimal(inst, BUDGET);
    assert.ok(first.transfers.length > 1, 'the instance is interesting');
    assert.equal(first.certificate.optimal, true);
    assert.deepEqual(strip(await planOptimal(inst, BUDGET)), strip(first));
    for (let i = 0; i < 5; i++) {
      const shuffled = { chains: shuffle(rng, inst.chains), policies: shuffle(rng, inst.policies), inFlight: shuffle(rng, inst.inFlight), edges: shuffle(rng, inst.edges) };
      assert.deepEqual(strip(await planOptimal(shuffled, BUDGET)), strip(first));
    }
  });

  test('property: on the greedy property test\'s 400 seeded instances every rule holds, the objective is ≤ greedy\'s and the certificate is consistent', async () => {
    const rng = mulberry32(20_240_601);
    const edgeRng = mulberry32(4242);
    let better = 0;
    let optimal = 0;
    let transfers = 0;
    for (let i = 0; i < 400; i++) {
      const inst = withEdges(edgeRng, randomInstance(rng, 2 + Math.floor(rng() * 6)));
      const plan = await planOptimal(inst, BUDGET);
      const label = `instance ${i}`;
      transfers += plan.transfers.length;
      assert.deepEqual(verifyRoutedPlan(inst, plan.transfers), [], label);
      checkInvariants(inst, plan, label, 'several');
      checkCertificate(inst, plan, label);
      assert.equal(plan.certificate.greedyObjective, planGreedyOnEdges(inst).objective, `${label}: greedyObjective is the greedy baseline's`);
      if (plan.certificate.objective < plan.certificate.greedyObjective) better++;
      if (plan.certificate.optimal) optimal++;
    }
    assert.ok(transfers > 150, `the instances exercise the planner (${transfers} transfers)`);
    assert.ok(better > 20, `the MILP beats greedy on a fair share of instances (${better}/400)`);
    assert.equal(optimal, 400, 'instances of ≤ 7 chains are solved to proven optimality within the budget');
  });

  test('the greedy plan itself is legal on routes without capacity limits (the baseline is a fair floor)', () => {
    const rng = mulberry32(20_240_601);
    for (let i = 0; i < 100; i++) {
      const inst = randomInstance(rng, 2 + Math.floor(rng() * 6));
      const keys = inst.chains.map((c) => c.chainKey);
      const open = { ...inst, edges: allEdges(keys) };
      const g = planGreedyOnEdges(open);
      assert.equal(g.transfers.length, planGreedy(inst, { messagesPerRoute: 'several' }).transfers.length, `instance ${i}: no greedy transfer dropped`);
      assert.deepEqual(verifyRoutedPlan(open, g.transfers), [], `instance ${i}`);
    }
  });
});

describe('issue 15: optimal means optimal on fees too; several messages per route when maxTransfer binds', () => {
  test('a bench instance with unmet need whose fees were 8× their minimum is proven optimal on fees, with both gaps in the certificate', async () => {
    // generatedInstance(8, 3, 2) (USDC-like, 6 decimals): need stays unmet, so the weighted objective is ~10^16
    // base units and a 0.01% relative gap let the solve stop at the root with fees of 7,838 tokens (minimum
    // ~963) while `optimal` was true (feeGapPct 78–88%). Under the one-message rule of that report:
    const inst = generatedInstance(8, 3, 2);
    const plan = await planOptimal(inst, { ...BUDGET, messagesPerRoute: 'one' });
    const c = plan.certificate;
    assert.ok(plan.totals.shortfall > 0n, 'need stays unmet');
    assert.ok(plan.totals.fees < 1000n * 10n ** 6n, `fees ${plan.totals.fees} near their minimum (~963 tokens), not 7,838`);
    assert.ok(c.feeGapPct <= 0.1, `fee gap ${c.feeGapPct}% ≤ 0.1%`);
    assert.equal(c.optimal, true, `proven optimal (${c.status}, fee gap ${c.feeGapPct}%)`);
    assert.deepEqual(c.proven, { shortfall: true, fees: true });
    checkInvariants(inst, plan, '8/3/2 one', 'one');
    checkCertificate(inst, plan, '8/3/2 one');
    assert.match(plan.transfers[0]!.reason, /fees proven optimal \(gap 0\.0\d{3}%\)$/);
    // And under the default rule (several messages per route) the same holds.
    const several = await planOptimal(inst, BUDGET);
    checkCertificate(inst, several, '8/3/2 several');
    assert.equal(several.certificate.optimal, true);
    assert.ok(several.totals.shortfall <= plan.totals.shortfall, 'several messages never cover less');
  });

  test('a need larger than the donor maxTransfer is covered by several capped messages on one route (one message left it short)', async () => {
    const chains = [chain('a', 10, 9.5), chain('b', 20, 4)];
    const inst: OptimalInput = { chains, policies: [policy('a'), policy('b', { caps: { maxTransfer: M(1) } })], inFlight: [], edges: allEdges(['a', 'b']) };
    const need = required(chains[0]!, policy('a')) - chains[0]!.supplied; // ~3.57M
    const one = await planOptimal(inst, { ...BUDGET, messagesPerRoute: 'one' });
    assert.equal(one.totals.shortfall, need - M(1), 'one message per pair: 1M of ~3.57M');
    const plan = await planOptimal(inst, BUDGET);
    assert.equal(plan.totals.shortfall, 0n, 'every need is met');
    checkInvariants(inst, plan, 'several', 'several');
    checkCertificate(inst, plan, 'several');
    assert.deepEqual(verifyRoutedPlan(inst, plan.transfers), []);
    assert.deepEqual(plan.transfers.map((t) => [t.from, t.to, t.bridge, t.amount]), [
      ['b', 'a', 'layerzero', M(1)],
      ['b', 'a', 'layerzero', M(1)],
      ['b', 'a', 'layerzero', M(1)],
      ['b', 'a', 'layerzero', need - M(3)],
    ], 'four messages over the cheaper bridge for this size, each ≤ maxTransfer');
    assert.equal(plan.certificate.optimal, true);
    assert.match(plan.transfers[0]!.reason, /message 1 of 4 on b→a/);
    // One rebalance id per message, even for equal amounts on one route (the sequence is in the id).
    const blockRefs = chains.map((c) => ({ chainKey: c.chainKey, blockNumber: c.blockNumber }));
    const ids = plan.transfers.map((t, sequence) => rebalanceId({ deployment: 'd', blockRefs, from: t.from, to: t.to, amount: t.amount, sequence }));
    assert.equal(new Set(ids).size, ids.length);
    // The greedy baseline plays by the same rule.
    const greedy = planGreedyOnEdges(inst);
    assert.equal(greedy.totals.shortfall, 0n);
    assert.equal(planGreedyOnEdges(inst, { messagesPerRoute: 'one' }).totals.shortfall, need - M(1));
  });
});

/** Quoted edges for every ordered pair of the instance's chains: 2 bridges, random fees, some capacities and minimums, a few pairs unquoted. */
function withEdges(rng: () => number, inst: { chains: ChainState[]; policies: ChainPolicy[]; inFlight: InFlight[] }): OptimalInput {
  const keys = inst.chains.map((c) => c.chainKey).sort();
  const edges: BridgeEdge[] = [];
  for (const from of keys) {
    for (const to of keys) {
      if (from === to || rng() < 0.05) continue;
      edges.push({
        from,
        to,
        bridge: 'layerzero',
        feeBps: Math.floor(rng() * 3),
        fixedFee: randBig(rng, M(0.000005)),
        latencySec: 60,
        ...(rng() < 0.3 ? { capacity: randBig(rng, M(10)) } : {}),
        ...(rng() < 0.2 ? { minTransfer: randBig(rng, M(0.5)) } : {}),
      });
      edges.push({
        from,
        to,
        bridge: 'wormhole',
        feeBps: Math.floor(rng() * 3000) / 100,
        fixedFee: randBig(rng, M(0.000001)),
        latencySec: 900,
        ...(rng() < 0.3 ? { capacity: randBig(rng, M(10)) } : {}),
        ...(rng() < 0.2 ? { minTransfer: randBig(rng, M(0.5)) } : {}),
      });
    }
  }
  return { ...inst, edges };
}


// `npm test` loads HiGHS the baseline way (BALLAST_HIGHS_BASELINE=1, scripts/test.sh: seconds of CPU saved per
// process); production compiles it with TurboFan up front (planner/lp.ts). This runs that path once, in a child
// process without the variable: the module compiles and solves a small MIP to its optimum.
test('HiGHS loads the production way (TurboFan up front) and solves a MIP', async () => {
  const { execFile } = await import('node:child_process');
  const env = { ...process.env };
  delete env.BALLAST_HIGHS_BASELINE;
  const script = [
    "import { highsRuntime } from './planner/lp.ts';",
    'const h = await highsRuntime();',
    "const r = h.solve('Minimize\\n obj: x + 1.5 y\\nSubject To\\n c1: x + 2 y >= 3\\nBounds\\n x <= 10\\n y <= 10\\nGeneral\\n y\\nEnd\\n');",
    'console.log(JSON.stringify({ status: r.Status, objective: r.ObjectiveValue, x: r.Columns.x.Primal, y: r.Columns.y.Primal }));',
  ].join('\n');
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, cwd: new URL('../..', import.meta.url).pathname }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
  const r = JSON.parse(out.trim().split('\n').pop()!) as { status: string; objective: number; x: number; y: number };
  assert.deepEqual([r.status, r.objective, r.x, r.y], ['Optimal', 2.5, 1, 1], 'the unique optimum of min x + 1.5y, x + 2y >= 3, y integer');
});
