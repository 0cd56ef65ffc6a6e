/**
 * planner/capacity.ts: capacity moves from chains with spare lending capacity to chains above their
 * high water mark, with hand-made cases and invariants on seeded random instances.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../devnet/prng.js';
import { WAD } from '../../planner/types.js';
import { planCapacity, type CapacityChainState, type CapacityInFlight, type CapacityPlan, type CapacityPolicy } from '../../planner/capacity.js';
import { M, pct, randBig, shuffle } from './plannerFixtures.js';

const st = (chainKey: string, borrowedM: number, limitM: number, over: Partial<CapacityChainState> = {}): CapacityChainState => ({ chainKey, borrowed: M(borrowedM), borrowLimit: M(limitM), ...over });
const pol = (chainKey: string, over: { marks?: [number, number]; minMoveM?: number; maxMoveM?: number } = {}): CapacityPolicy => {
  const [low, high] = over.marks ?? [60, 80];
  return { chainKey, lowWad: pct(low), highWad: pct(high), minMove: M(over.minMoveM ?? 0.001), maxMove: M(over.maxMoveM ?? 1000) };
};
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const limitAfter = (s: CapacityChainState, plan: CapacityPlan): bigint =>
  plan.moves.reduce((l, m) => l + (m.to === s.chainKey ? m.amount : 0n) - (m.from === s.chainKey ? m.amount : 0n), s.borrowLimit);

/** Every rule of the capacity planner, checked from the outside. */
function checkInvariants(inst: { chains: CapacityChainState[]; policies: CapacityPolicy[]; inFlight: CapacityInFlight[] }, plan: CapacityPlan, label: string): void {
  const states = new Map(inst.chains.map((c) => [c.chainKey, c]));
  const policies = new Map(inst.policies.map((p) => [p.chainKey, p]));
  const inFlightRoutes = new Set(inst.inFlight.flatMap((f) => [`${f.from}>${f.to}`, `${f.to}>${f.from}`]));
  const routes = new Set<string>();
  let moved = 0n;
  for (const m of plan.moves) {
    const at = `${label}: ${m.from}→${m.to} ${m.amount}`;
    const [fs, ts, fp, tp] = [states.get(m.from), states.get(m.to), policies.get(m.from), policies.get(m.to)];
    assert.ok(fs && ts && fp && tp, `${at}: both ends are known chains with a policy`);
    assert.equal(m.kind, 'capacity');
    assert.notEqual(m.from, m.to, `${at}: not a self move`);
    assert.ok(m.amount > 0n, `${at}: positive`);
    assert.ok(m.amount <= fp.maxMove && m.amount <= tp.maxMove, `${at}: within both maxMove`);
    assert.ok(m.amount >= fp.minMove && m.amount >= tp.minMove, `${at}: at least both minMove`);
    assert.ok(!routes.has(`${m.from}>${m.to}`), `${at}: route used once`);
    assert.ok(!inFlightRoutes.has(`${m.from}>${m.to}`), `${at}: no move on a route with capacity in flight`);
    assert.ok(ts.borrowed * WAD > tp.highWad * ts.borrowLimit, `${at}: the taker was above its high mark`);
    routes.add(`${m.from}>${m.to}`);
    moved += m.amount;
  }
  let gained = 0n;
  for (const s of inst.chains) {
    const p = policies.get(s.chainKey);
    const after = limitAfter(s, plan);
    gained += after - s.borrowLimit;
    const out = plan.moves.filter((m) => m.from === s.chainKey).reduce((a, m) => a + m.amount, 0n);
    const inn = plan.moves.filter((m) => m.to === s.chainKey).reduce((a, m) => a + m.amount, 0n);
    assert.ok(out === 0n || inn === 0n, `${label}: ${s.chainKey} both gives and takes`);
    if (out > 0n && p) {
      // A donor never ends above its low mark (counting what it already has in flight out).
      const outbound = inst.inFlight.filter((f) => f.from === s.chainKey).reduce((a, f) => a + f.amount, 0n);
      assert.ok(s.borrowed * WAD <= p.lowWad * (after - outbound), `${label}: donor ${s.chainKey} pushed above its low mark`);
      if (s.creditWindowLeft !== undefined) assert.ok(out <= s.creditWindowLeft, `${label}: ${s.chainKey} over its credit window cap`);
    }
    if (inn > 0n && p) {
      // A taker is never given more than it needs to reach the middle of its marks.
      const target = (p.lowWad + p.highWad) / 2n;
      const inbound = inst.inFlight.filter((f) => f.to === s.chainKey).reduce((a, f) => a + f.amount, 0n);
      assert.ok(after + inbound <= ceilDiv(s.borrowed * WAD, target), `${label}: ${s.chainKey} given more than it needs`);
    }
    const stillAbove = p !== undefined && s.borrowed * WAD > p.highWad * after;
    const reported = plan.unresolved.some((u) => u.chainKey === s.chainKey);
    if (p) assert.equal(reported, stillAbove, `${label}: ${s.chainKey} reported iff still above its high mark`);
  }
  assert.equal(gained, 0n, `${label}: Σ borrowLimit conserved by the plan (moved ${moved})`);
}

function randomInstance(rng: () => number, n: number) {
  const keys = shuffle(rng, ['arbitrum', 'base', 'optimism', 'polygon', 'bsc', 'avalanche', 'linea', 'scroll']).slice(0, n);
  const chains: CapacityChainState[] = [];
  const policies: CapacityPolicy[] = [];
  for (const key of keys) {
    const borrowLimit = rng() < 0.05 ? 0n : randBig(rng, M(50));
    const borrowed = randBig(rng, borrowLimit + (rng() < 0.1 ? M(2) : 0n));
    chains.push({ chainKey: key, borrowed, borrowLimit, ...(rng() < 0.5 ? { creditWindowLeft: randBig(rng, M(20)) } : {}) });
    if (rng() < 0.05) continue;
    const low = 1 + Math.floor(rng() * 8000);
    const high = low + 1 + Math.floor(rng() * (10_000 - low - 1));
    const maxMove = 1n + randBig(rng, M(10));
    policies.push({ chainKey: key, lowWad: (BigInt(low) * WAD) / 10_000n, highWad: (BigInt(high) * WAD) / 10_000n, minMove: randBig(rng, maxMove / 20n), maxMove });
  }
  const inFlight: CapacityInFlight[] = [];
  for (let i = 0, k = Math.floor(rng() * 3); i < k && keys.length >= 2; i++) {
    const [from, to] = shuffle(rng, keys);
    inFlight.push({ from: from!, to: to!, amount: 1n + randBig(rng, M(3)) });
  }
  return { chains, policies, inFlight };
}

describe('planCapacity', () => {
  test('a chain above its high mark gets exactly what brings it to the middle of its marks, from the chain with the most spare', () => {
    // a: 95 of 100 borrowed (95%) > 80%; target 70% → limit ceil(95/0.7) = 135.714286 → needs 35.714286.
    const plan = planCapacity({ chains: [st('a', 95, 100), st('b', 10, 100), st('c', 40, 100)], policies: [pol('a'), pol('b'), pol('c')], inFlight: [] });
    assert.equal(plan.moves.length, 1);
    const [m] = plan.moves;
    assert.deepEqual({ from: m!.from, to: m!.to, amount: m!.amount }, { from: 'b', to: 'a', amount: ceilDiv(M(95) * WAD, pct(70)) - M(100) });
    assert.match(m!.reason, /a usage 95\.00% > high 80\.00%/);
    assert.deepEqual(plan.unresolved, []);
  });

  test('a donor gives only capacity above its low mark, then the next donor helps', () => {
    // b: 50 of 100 → keeps ceil(50/0.6) = 83.333334 → spare 16.666666; c: 30 of 50 → keeps 50 → spare 0; d: 0 of 20 → spare 20.
    const plan = planCapacity({ chains: [st('a', 90, 60), st('b', 50, 100), st('c', 30, 50), st('d', 0, 20)], policies: ['a', 'b', 'c', 'd'].map((k) => pol(k)), inFlight: [] });
    assert.deepEqual(
      plan.moves.map((m) => [m.from, m.to]),
      [['d', 'a'], ['b', 'a']],
    );
    assert.equal(plan.moves[0]!.amount, M(20));
    assert.equal(plan.moves[1]!.amount, M(100) - ceilDiv(M(50) * WAD, pct(60)));
    assert.equal(plan.unresolved.length, 1);
    assert.match(plan.unresolved[0]!.reason, /a usage .* > high 80\.00% after this plan: still short/);
  });

  test('each move stays within both ends’ maxMove and at least their minMove', () => {
    const capped = planCapacity({ chains: [st('a', 95, 100), st('b', 0, 100)], policies: [pol('a', { maxMoveM: 5 }), pol('b')], inFlight: [] });
    assert.deepEqual(capped.moves.map((m) => m.amount), [M(5)]);
    assert.match(capped.moves[0]!.reason, /maxMove/);
    const tooSmall = planCapacity({ chains: [st('a', 81, 100), st('b', 0, 100)], policies: [pol('a'), pol('b', { minMoveM: 50 })], inFlight: [] });
    assert.deepEqual(tooSmall.moves, []);
    assert.match(tooSmall.unresolved[0]!.reason, /< minMove 50000000/);
  });

  test('nothing moves when every chain is at or below its high mark', () => {
    const plan = planCapacity({ chains: [st('a', 80, 100), st('b', 0, 100)], policies: [pol('a'), pol('b')], inFlight: [] });
    assert.deepEqual(plan, { moves: [], unresolved: [] });
  });

  test('capacity in flight counts for the taker and blocks its route both ways', () => {
    const chains = [st('a', 95, 100), st('b', 0, 100), st('c', 0, 100)];
    const policies = ['a', 'b', 'c'].map((k) => pol(k));
    const need = ceilDiv(M(95) * WAD, pct(70)) - M(100);
    const covered = planCapacity({ chains, policies, inFlight: [{ from: 'c', to: 'a', amount: need }] });
    assert.deepEqual(covered.moves, []);
    assert.match(covered.unresolved[0]!.reason, /in-flight capacity moves bringing/);
    const partly = planCapacity({ chains, policies, inFlight: [{ from: 'a', to: 'b', amount: M(1) }] });
    assert.deepEqual(partly.moves.map((m) => [m.from, m.to, m.amount]), [['c', 'a', need]]);
  });

  test('the vault credit window cap bounds what a donor gives', () => {
    const plan = planCapacity({ chains: [st('a', 95, 100), st('b', 0, 100, { creditWindowLeft: M(3) })], policies: [pol('a'), pol('b')], inFlight: [] });
    assert.deepEqual(plan.moves.map((m) => m.amount), [M(3)]);
    assert.match(plan.moves[0]!.reason, /credit window cap/);
  });

  test('a zero limit with debt is a taker; a chain without a policy is left out and said so', () => {
    const plan = planCapacity({ chains: [st('a', 1, 0), st('b', 0, 10), st('x', 99, 100)], policies: [pol('a'), pol('b')], inFlight: [] });
    assert.deepEqual(plan.moves.map((m) => [m.from, m.to, m.amount]), [['b', 'a', ceilDiv(M(1) * WAD, pct(70))]]);
    assert.match(plan.unresolved.find((u) => u.chainKey === 'x')!.reason, /no capacity policy/);
  });

  test('malformed input is refused with the field named', () => {
    assert.throws(() => planCapacity({ chains: [st('a', 1, 1), st('a', 1, 1)], policies: [], inFlight: [] }), /"a" appears twice/);
    assert.throws(() => planCapacity({ chains: [], policies: [pol('a', { marks: [80, 60] })], inFlight: [] }), /0 < low < high ≤ WAD/);
    assert.throws(() => planCapacity({ chains: [], policies: [pol('a', { minMoveM: 2, maxMoveM: 1 })], inFlight: [] }), /minMove ≤ maxMove/);
    assert.throws(() => planCapacity({ chains: [st('a', -1, 1)], policies: [], inFlight: [] }), /negative/);
  });

  test('random instances: every invariant holds and the plan does not depend on input order', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = mulberry32(seed);
      const inst = randomInstance(rng, 2 + Math.floor(rng() * 6));
      const plan = planCapacity(inst);
      checkInvariants(inst, plan, `seed ${seed}`);
      const again = planCapacity({ chains: shuffle(rng, inst.chains), policies: shuffle(rng, inst.policies), inFlight: shuffle(rng, inst.inFlight) });
      assert.deepEqual(again, plan, `seed ${seed}: same plan for shuffled input`);
    }
  });
});
