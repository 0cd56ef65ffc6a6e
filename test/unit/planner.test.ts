/**
 * Specification of the greedy baseline planner (planner/greedy.ts).
 * Amounts are USDC-like base units (6 decimals); `M(x)` is x million tokens.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { planGreedy, formatWadPct } from '../../planner/index.js';
import type { InFlight } from '../../planner/index.js';
import { mulberry32 } from '../../devnet/prng.js';
import { M, NOW, chain, checkInvariants, pct, policy, randomInstance, required, shuffle, target, utilAfter } from './plannerFixtures.js';


describe('planGreedy — the greedy baseline planner', () => {
  describe('bands are reached when liquidity allows', () => {
    test('a chain above its band is brought back to its target from a chain below target', () => {
      const chains = [chain('arbitrum', 10, 9), chain('base', 10, 4)];
      const policies = [policy('arbitrum'), policy('base')];
      const plan = planGreedy({ chains, policies, inFlight: [] });
      // arbitrum needs ceil(9M / 70%) − 10M; base can give far more
      const need = required(chains[0]!, policies[0]!) - chains[0]!.supplied;
      assert.deepEqual(
        plan.transfers.map(({ from, to, amount }) => ({ from, to, amount })),
        [{ from: 'base', to: 'arbitrum', amount: need }],
      );
      assert.ok(utilAfter(chains[0]!, plan) <= pct(70) && utilAfter(chains[0]!, plan) > pct(69.99), 'arbitrum lands on its target');
      assert.deepEqual(plan.unresolved, [{ chainKey: 'base', reason: plan.unresolved[0]?.reason }], 'base is still below its band');
      assert.match(plan.unresolved[0]!.reason, /^base utilization 56\.00% < low 60\.00% of band \[60\.00%, 80\.00%\]: no chain above its band needs its liquidity$/);
    });

    test('chains inside their band give and receive nothing', () => {
      const plan = planGreedy({ chains: [chain('a', 10, 6), chain('b', 10, 8)], policies: [policy('a'), policy('b')], inFlight: [] });
      assert.deepEqual(plan, { transfers: [], unresolved: [] });
    });

    test('a chain between target and high neither gives nor receives', () => {
      const plan = planGreedy({ chains: [chain('a', 10, 9), chain('b', 10, 7.5)], policies: [policy('a'), policy('b')], inFlight: [] });
      assert.equal(plan.transfers.length, 0);
      assert.match(plan.unresolved.find((u) => u.chainKey === 'a')!.reason, /no other chain can spare liquidity/);
    });

    test('a need larger than one donor can give is filled from several donors, the largest first', () => {
      const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 5.5), chain('optimism', 10, 5)];
      const policies = chains.map((c) => policy(c.chainKey));
      const plan = planGreedy({ chains, policies, inFlight: [] });
      assert.deepEqual(
        plan.transfers.map((t) => [t.from, t.to]),
        [
          ['optimism', 'arbitrum'],
          ['base', 'arbitrum'],
        ],
      );
      assert.equal(plan.transfers[0]!.amount, chains[2]!.supplied - required(chains[2]!, policies[2]!), 'optimism gives down to its target');
      assert.ok(utilAfter(chains[0]!, plan) <= pct(80), 'arbitrum back in band');
      for (const c of chains.slice(1)) assert.ok(utilAfter(c, plan) <= pct(70), `${c.chainKey} not pushed past target`);
    });

    test('the largest need is served first by the largest donor', () => {
      const chains = [chain('a', 10, 9.9), chain('b', 10, 8.5), chain('c', 10, 1), chain('d', 10, 5)];
      const plan = planGreedy({ chains, policies: chains.map((c) => policy(c.chainKey)), inFlight: [] });
      assert.deepEqual(plan.transfers[0] && [plan.transfers[0].from, plan.transfers[0].to], ['c', 'a']);
      assert.deepEqual(plan.transfers[1] && [plan.transfers[1].from, plan.transfers[1].to], ['c', 'b']);
      assert.deepEqual(plan.unresolved.map((u) => u.chainKey), ['c', 'd'], 'only the (still) below-band donors remain');
    });
  });

  describe('caps and buffers are never broken', () => {
    test('no transfer exceeds the donor maxTransfer; the rest comes over another route', () => {
      const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 2), chain('optimism', 10, 2)];
      const policies = [policy('arbitrum'), policy('base', { caps: { maxTransfer: M(1) } }), policy('optimism', { caps: { maxTransfer: M(0.5) } })];
      const plan = planGreedy({ chains, policies, inFlight: [] });
      assert.deepEqual(
        plan.transfers.map((t) => [t.from, t.amount]),
        [
          ['base', M(1)],
          ['optimism', M(0.5)],
        ],
      );
      assert.match(plan.transfers[0]!.reason, /base maxTransfer 1000000000000/);
      const arb = plan.unresolved.find((u) => u.chainKey === 'arbitrum')!;
      assert.match(arb.reason, /still short \d+ of target 70\.00%; donors blocked: base: route already used in this plan; optimism: route already used in this plan$/);
    });

    test('under the several-messages rule a donor capped by maxTransfer sends more messages on the same route', () => {
      const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 2), chain('optimism', 10, 2)];
      const policies = [policy('arbitrum'), policy('base', { caps: { maxTransfer: M(1) } }), policy('optimism', { caps: { maxTransfer: M(0.5) } })];
      const need = required(chains[0]!, policies[0]!) - chains[0]!.supplied;
      const plan = planGreedy({ chains, policies, inFlight: [] }, { messagesPerRoute: 'several' });
      checkInvariants({ chains, policies, inFlight: [] }, plan, 'several', 'several', 4);
      assert.deepEqual(plan.transfers.map((t) => [t.from, t.amount]), [
        ['base', M(1)],
        ['base', M(1)],
        ['base', M(1)],
        ['base', need - M(3)],
      ]);
      assert.ok(!plan.unresolved.some((u) => u.chainKey === 'arbitrum'), 'arbitrum back in band');
      const small = [policy('arbitrum'), policy('base', { caps: { maxTransfer: M(0.5) } }), policy('optimism', { caps: { maxTransfer: M(0.25) } })];
      const two = planGreedy({ chains, policies: small, inFlight: [] }, { messagesPerRoute: 'several', maxMessagesPerRoute: 2 });
      assert.deepEqual(two.transfers.map((t) => [t.from, t.amount]), [['base', M(0.5)], ['base', M(0.5)], ['optimism', M(0.25)], ['optimism', M(0.25)]]);
      assert.match(two.unresolved.find((u) => u.chainKey === 'arbitrum')!.reason, /base: route carries its 2 messages in this plan/);
      assert.throws(() => planGreedy({ chains, policies, inFlight: [] }, { messagesPerRoute: 'several', maxMessagesPerRoute: 0 }), /maxMessagesPerRoute must be an integer ≥ 1/);
    });

    test('outflow is limited by min(policy cap, on-chain cap) minus what the current window has used', () => {
      const onChainCap = { maxOutflowPerWindow: M(3), windowSec: 3600n, outflowInWindow: M(2.5), windowStartSec: NOW - 100n };
      const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 2, { onChainCap })];
      const byPolicy = planGreedy({ chains, policies: [policy('arbitrum'), policy('base', { caps: { maxOutflowPerWindow: M(2.7) } })], inFlight: [] });
      assert.deepEqual(byPolicy.transfers.map((t) => t.amount), [M(0.2)], 'policy cap 2.7M − used 2.5M');
      assert.match(byPolicy.transfers[0]!.reason, /base limited by the outflow window cap/);
      const byChain = planGreedy({ chains, policies: [policy('arbitrum'), policy('base')], inFlight: [] });
      assert.deepEqual(byChain.transfers.map((t) => t.amount), [M(0.5)], 'on-chain cap 3M − used 2.5M');
    });

    test('an expired on-chain window counts as unused', () => {
      const onChainCap = { maxOutflowPerWindow: M(3), windowSec: 3600n, outflowInWindow: M(3), windowStartSec: NOW - 3600n };
      const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 2, { onChainCap })];
      const plan = planGreedy({ chains, policies: [policy('arbitrum'), policy('base')], inFlight: [] });
      assert.deepEqual(plan.transfers.map((t) => t.amount), [M(3)]);
      const live = planGreedy({ chains: [chain('arbitrum', 10, 9.5), chain('base', 10, 2, { onChainCap: { ...onChainCap, windowStartSec: NOW - 3599n } })], policies: [policy('arbitrum'), policy('base')], inFlight: [] });
      assert.deepEqual(live.transfers, [], 'one second earlier the window is still full');
    });

    test('the donor keeps minBuffer idle', () => {
      const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 5)];
      const plan = planGreedy({ chains, policies: [policy('arbitrum'), policy('base', { minBufferM: 4.2 })], inFlight: [] });
      assert.deepEqual(plan.transfers.map((t) => t.amount), [M(0.8)], 'idle 5M − buffer 4.2M');
      assert.match(plan.transfers[0]!.reason, /limited by its buffer \(idle 5000000000000 − minBuffer 4200000000000\)/);
    });

    test('a donor gives only down to its own target, never past it', () => {
      const chains = [chain('arbitrum', 10, 9.9), chain('base', 10, 6.9)];
      const policies = [policy('arbitrum'), policy('base')];
      const plan = planGreedy({ chains, policies, inFlight: [] });
      assert.equal(plan.transfers[0]!.amount, chains[1]!.supplied - required(chains[1]!, policies[1]!));
      assert.ok(utilAfter(chains[1]!, plan) <= target(policies[1]!));
    });
  });

  test('transfers below minTransfer (the larger of both ends) are skipped, and the reason says so', () => {
    const chains = [chain('arbitrum', 10, 8.01), chain('base', 10, 5)];
    const need = required(chains[0]!, policy('arbitrum')) - chains[0]!.supplied;
    assert.ok(need < M(2));
    const plan = planGreedy({ chains, policies: [policy('arbitrum', { caps: { minTransfer: M(2) } }), policy('base')], inFlight: [] });
    assert.deepEqual(plan.transfers, []);
    assert.match(plan.unresolved.find((u) => u.chainKey === 'arbitrum')!.reason, new RegExp(`donors blocked: base: ${need} < minTransfer ${M(2)}$`));
    const ok = planGreedy({ chains, policies: [policy('arbitrum'), policy('base')], inFlight: [] });
    assert.deepEqual(ok.transfers.map((t) => t.amount), [need], 'with small minTransfers it goes');
  });

  describe('in-flight transfers', () => {
    const chains = [chain('arbitrum', 10, 9.5), chain('base', 10, 4), chain('optimism', 10, 5)];
    const policies = chains.map((c) => policy(c.chainKey));

    test('a route carrying an in-flight transfer is not used again, in either direction', () => {
      for (const inFlight of [
        [{ rebalanceId: '0x01', from: 'base', to: 'arbitrum', amount: M(0.01) }],
        [{ rebalanceId: '0x01', from: 'arbitrum', to: 'base', amount: M(0.01) }],
      ]) {
        const plan = planGreedy({ chains, policies, inFlight });
        assert.ok(plan.transfers.length > 0);
        for (const t of plan.transfers) assert.notDeepEqual([t.from, t.to].sort(), ['arbitrum', 'base'], `${t.from}→${t.to}`);
        assert.equal(plan.transfers[0]!.from, 'optimism', 'the next donor serves instead');
      }
    });

    test('what is already on its way counts against the need', () => {
      const need = required(chains[0]!, policies[0]!) - chains[0]!.supplied;
      const inFlight: InFlight[] = [{ rebalanceId: '0x02', from: 'optimism', to: 'arbitrum', amount: M(0.5) }];
      const plan = planGreedy({ chains, policies, inFlight });
      assert.deepEqual(plan.transfers.map((t) => [t.from, t.to, t.amount]), [['base', 'arbitrum', need - M(0.5)]]);
      const covered = planGreedy({ chains, policies, inFlight: [{ ...inFlight[0]!, amount: need }] });
      assert.deepEqual(covered.transfers, []);
      assert.match(covered.unresolved.find((u) => u.chainKey === 'arbitrum')!.reason, /in-flight transfers bringing \d+ cover .*waiting for delivery$/);
    });
  });

  test('a chain whose oracle was refused is left out, as donor and as recipient', () => {
    const stale = { ok: false, reason: 'stale: age 4000s > maxStalenessSec 3600', ageSec: 4000n };
    const donorStale = planGreedy({
      chains: [chain('arbitrum', 10, 9.5), chain('base', 10, 2, { oracleCheck: stale }), chain('optimism', 10, 6.5)],
      policies: [policy('arbitrum'), policy('base'), policy('optimism')],
      inFlight: [],
    });
    assert.ok(donorStale.transfers.length > 0);
    assert.ok(donorStale.transfers.every((t) => t.from !== 'base' && t.to !== 'base'));
    assert.match(donorStale.unresolved.find((u) => u.chainKey === 'base')!.reason, /left out of planning: oracle refused \(stale: age 4000s/);

    const recipientStale = planGreedy({
      chains: [chain('arbitrum', 10, 9.5, { oracleCheck: stale }), chain('base', 10, 2)],
      policies: [policy('arbitrum'), policy('base')],
      inFlight: [],
    });
    assert.deepEqual(recipientStale.transfers, []);
    assert.match(recipientStale.unresolved[0]!.reason, /^arbitrum utilization 95\.00% outside band \[60\.00%, 80\.00%\] but left out of planning/);
  });

  test('a chain without a policy is left out and reported', () => {
    const plan = planGreedy({ chains: [chain('a', 10, 9.5), chain('b', 10, 2), chain('zz', 10, 1)], policies: [policy('a'), policy('b')], inFlight: [] });
    assert.ok(plan.transfers.every((t) => t.from !== 'zz'));
    assert.deepEqual(plan.unresolved.find((u) => u.chainKey === 'zz'), { chainKey: 'zz', reason: 'zz left out of planning: no policy configured for it' });
  });

  test('each transfer says why, with utilizations as percentages', () => {
    const plan = planGreedy({ chains: [chain('arbitrum', 10, 9.1234), chain('base', 10, 4.1)], policies: [policy('arbitrum'), policy('base')], inFlight: [] });
    assert.match(
      plan.transfers[0]!.reason,
      /^arbitrum utilization 91\.23% > high 80\.00%, needs \d+ to reach target 70\.00%; base utilization 41\.00% ≤ target 70\.00%, can spare \d+; moves \d+ \(all arbitrum still needs\): arbitrum → 69\.99%, base → 5\d\.\d\d%$/,
    );
    assert.equal(formatWadPct(912_345_678_901_234_567n), '91.23%');
  });

  test('a vault with borrowed but nothing supplied is above any band and can be helped', () => {
    const empty = chain('a', 0, 0, { borrowed: M(1) });
    const plan = planGreedy({ chains: [empty, chain('b', 10, 2)], policies: [policy('a'), policy('b')], inFlight: [] });
    assert.deepEqual(plan.transfers.map((t) => t.amount), [required(empty, policy('a'))]);
  });

  test('malformed input is refused with what is wrong', () => {
    assert.throws(() => planGreedy({ chains: [chain('a', 1, 1), chain('a', 1, 1)], policies: [], inFlight: [] }), /chain "a" appears twice/);
    assert.throws(() => planGreedy({ chains: [], policies: [policy('a'), policy('a')], inFlight: [] }), /policy for "a" appears twice/);
    assert.throws(() => planGreedy({ chains: [], policies: [policy('a', { band: [80, 60] })], inFlight: [] }), /band .* must satisfy 0 ≤ low < high ≤ WAD/);
  });

  describe('determinism', () => {
    test('the same input gives a deep-equal plan, whatever the order of chains, policies and in-flight', () => {
      const rng = mulberry32(7);
      const inst = randomInstance(rng, 8);
      const first = planGreedy(inst);
      assert.ok(first.transfers.length > 1, 'the instance is interesting');
      assert.deepEqual(planGreedy(inst), first);
      for (let i = 0; i < 20; i++) {
        const shuffled = { chains: shuffle(rng, inst.chains), policies: shuffle(rng, inst.policies), inFlight: shuffle(rng, inst.inFlight) };
        assert.deepEqual(planGreedy(shuffled), first);
      }
    });

    test('ties are broken by chainKey', () => {
      const chains = [chain('zeta', 10, 9.5), chain('alpha', 10, 9.5), chain('mid', 20, 4)];
      const plan = planGreedy({ chains, policies: chains.map((c) => policy(c.chainKey)), inFlight: [] });
      assert.deepEqual(plan.transfers.map((t) => t.to), ['alpha', 'zeta']);
    });
  });

  test('property: over 400 seeded random instances no cap, buffer or idle is broken and no chain is pushed past its target', () => {
    const rng = mulberry32(20_240_601);
    let transfers = 0;
    for (let i = 0; i < 400; i++) {
      const inst = randomInstance(rng, 2 + Math.floor(rng() * 6));
      const plan = planGreedy(inst);
      transfers += plan.transfers.length;
      checkInvariants(inst, plan, `instance ${i}`);
    }
    assert.ok(transfers > 200, `the generator exercises the planner (${transfers} transfers)`);
  });
});

