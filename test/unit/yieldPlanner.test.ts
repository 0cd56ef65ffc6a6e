/**
 * The yield-aware planner (planner/yield.ts) and the rate model it uses (planner/rateModel.ts): it moves liquidity
 * toward the higher supply APY when the band allows, not when the fee is more than the horizon's gain, not so far that
 * the destination's APY falls below the source's, and never against a band's hard rule; a chain forecast above its
 * high mark is in need now; donors are net of what they still have to withdraw for transfers in flight.
 * Run with BALLAST_HIGHS_BASELINE=1 (scripts/test.sh): HiGHS loads once, without the TurboFan compile.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RAY } from '../../chains/evm/aaveReserve.js';
import { chainStanding, planGreedy } from '../../planner/greedy.js';
import { plannedChains } from '../../planner/routing.js';
import type { BridgeEdge, OptimalInput } from '../../planner/routing.js';
import { borrowRateRay, DEFAULT_RATE_MODEL, supplyRateRay, treasuryYieldPerYear } from '../../planner/rateModel.js';
import { planYield } from '../../planner/yield.js';
import type { YieldPlan } from '../../planner/yield.js';
import { WAD } from '../../planner/types.js';
import type { ChainState, InFlight } from '../../planner/types.js';
import { M, aaveMarketChain, chain, policy } from './plannerFixtures.js';

const DAY = 86_400;

const market = (key: string, availableM: number, debtM: number, treasuryM: number): ChainState => aaveMarketChain(key, availableM, debtM, treasuryM);

const edge = (from: string, to: string, fixedFeeTokens = 1, feeBps = 0): BridgeEdge => ({ from, to, bridge: 'layerzero', feeBps, fixedFee: BigInt(fixedFeeTokens) * 10n ** 6n, latencySec: 120 });
const allEdges = (keys: string[], fee = 1, bps = 0): BridgeEdge[] => keys.flatMap((a) => keys.filter((b) => b !== a).map((b) => edge(a, b, fee, bps)));
const marketOf = (p: YieldPlan, k: string) => p.certificate.markets.find((x) => x.chainKey === k)!;
const sent = (p: YieldPlan, from: string, to: string): bigint => p.transfers.filter((t) => t.from === from && t.to === to).reduce((s, t) => s + t.amount, 0n);
const OPTS = { timeLimitMs: 1500, horizonSec: 30 * DAY, assetSymbol: 'USDC' };

describe('rate model (Aave v3 DefaultReserveInterestRateStrategy)', () => {
  test('borrow rate is piecewise linear with its kink at the optimal usage; supply = borrow · U · (1 − RF)', () => {
    const m = DEFAULT_RATE_MODEL;
    assert.equal(borrowRateRay(m, (45n * RAY) / 100n), (55n * RAY) / 2000n, 'half of slope1 at half of Uopt');
    assert.equal(borrowRateRay(m, (90n * RAY) / 100n), (55n * RAY) / 1000n, 'slope1 at the kink');
    assert.equal(borrowRateRay(m, (95n * RAY) / 100n), (55n * RAY) / 1000n + (30n * RAY) / 100n, 'half of slope2 half way above the kink');
    assert.equal(supplyRateRay(m, (90n * RAY) / 100n), ((((55n * RAY) / 1000n) * 9n) / 10n) * 9n / 10n);
    // Supplying more lowers the rate: the treasury's marginal yield is below the rate (rate impact).
    const y0 = treasuryYieldPerYear(m, M(100), M(88), M(20), 0);
    const y1 = treasuryYieldPerYear(m, M(100), M(88), M(20), Number(M(10)));
    assert.ok(y1 > y0 && y1 - y0 < (Number(M(10)) * y0) / Number(M(20)), 'more supply earns more, at a lower rate');
  });
});

describe('planYield', () => {
  test('moves liquidity toward the higher supply APY when the band allows, and says what it earns', async () => {
    // a: 60% utilization (supply APY ~2%), b: 88% (~4.3%); both inside [50, 95]; the treasury holds 20 M on each.
    const input: OptimalInput = { chains: [market('a', 40, 60, 20), market('b', 12, 88, 20)], policies: [policy('a', { band: [50, 95] }), policy('b', { band: [50, 95] })], inFlight: [], edges: allEdges(['a', 'b']) };
    const greedy = planGreedy(input);
    assert.equal(greedy.transfers.length, 0, 'the band planner moves nothing: both chains are inside their band');
    const p = await planYield(input, OPTS);
    const moved = sent(p, 'a', 'b');
    assert.ok(moved > 0n, 'liquidity moves a → b');
    assert.equal(sent(p, 'b', 'a'), 0n);
    assert.ok(p.certificate.gainAtHorizon > p.certificate.fees, `the gain ${p.certificate.gainAtHorizon} beats the fees ${p.certificate.fees}`);
    assert.ok(marketOf(p, 'b').supplyApyAfterBps < marketOf(p, 'b').supplyApyBeforeBps && marketOf(p, 'a').supplyApyAfterBps > marketOf(p, 'a').supplyApyBeforeBps, 'the move has its rate impact on both ends');
    assert.match(p.transfers[0]!.reason, /^moves \d+ a → b over layerzero: \+\d+\.\d\d USDC at the horizon \(2592000s; \+\d+\.\d\d USDC\/yr\): supply APY 4\.\d\d% → \d\.\d\d% on b, 1\.\d\d% → \d\.\d\d% on a, fee 1000000/);
    assert.match(p.certificate.summary, /^yield plan \(solver, Optimal\): \+\d+/);
    // The band's hard rule on the donor: a stays at or below its target (72.5%).
    assert.ok(moved <= chainStanding(input.chains[0]!, input.policies[0]!, 0n).spare);
    assert.ok(marketOf(p, 'a').utilizationAfterWad <= (725n * WAD) / 1000n);
  });

  test('does not move when the fee is more than what the move earns over the horizon', async () => {
    const chains = [market('a', 40, 60, 20), market('b', 12, 88, 20)];
    const policies = [policy('a', { band: [50, 95] }), policy('b', { band: [50, 95] })];
    const cheap = await planYield({ chains, policies, inFlight: [], edges: allEdges(['a', 'b']) }, OPTS);
    const gain = cheap.certificate.gainAtHorizon;
    assert.ok(gain > 0n);
    // A fee above the 30-day gain: nothing moves.
    const dear = await planYield({ chains, policies, inFlight: [], edges: allEdges(['a', 'b'], Number(gain / 10n ** 6n) * 2 + 10) }, OPTS);
    assert.equal(dear.transfers.length, 0);
    assert.equal(dear.certificate.gainAtHorizon, 0n);
    // The same fee pays over a horizon long enough.
    const long = await planYield({ chains, policies, inFlight: [], edges: allEdges(['a', 'b'], Number(gain / 10n ** 6n) * 2 + 10) }, { ...OPTS, horizonSec: 365 * DAY });
    assert.ok(long.transfers.length > 0, 'a year earns more than the fee');
  });

  test('respects the rate impact: moves less than it could, and the destination APY never ends below the source APY', async () => {
    // a: a 1,000 M market at 40% (supply APY ~0.9%), the treasury holds 300 M of it; b: a 200 M market at 92%, above
    // the kink (~15.6%). Moving all a can spare (327 M) would sink b's rate far below a's.
    for (const treasuryB of [2, 5]) {
      const input: OptimalInput = { chains: [market('a', 600, 400, 300), market('b', 16, 184, treasuryB)], policies: [policy('a', { band: [20, 99] }), policy('b', { band: [20, 99] })], inFlight: [], edges: allEdges(['a', 'b']) };
      const p = await planYield(input, OPTS);
      const spare = chainStanding(input.chains[0]!, input.policies[0]!, 0n).spare;
      const moved = sent(p, 'a', 'b');
      assert.ok(moved > 0n, `treasury ${treasuryB} M on b: something moves`);
      assert.ok(moved < spare / 2n, `treasury ${treasuryB} M on b: far less than a can spare (${moved} of ${spare})`);
      assert.ok(marketOf(p, 'b').supplyApyAfterBps >= marketOf(p, 'a').supplyApyAfterBps, `b ${marketOf(p, 'b').supplyApyAfterBps} bps ≥ a ${marketOf(p, 'a').supplyApyAfterBps} bps`);
    }
    // A treasury holding 30 M of b's 200 M: supplying more would cost its own supply there more than it earns.
    const big = await planYield({ chains: [market('a', 600, 400, 300), market('b', 16, 184, 30)], policies: [policy('a', { band: [20, 99] }), policy('b', { band: [20, 99] })], inFlight: [], edges: allEdges(['a', 'b']) }, OPTS);
    assert.equal(big.transfers.length, 0);
  });

  test('never breaks a band hard rule: a chain above its band is brought back first, donors stay under target', async () => {
    // c is above its band (90% > 80%); a and b could earn more by sending elsewhere, but c's need comes first.
    const chains = [market('a', 50, 50, 40), market('b', 55, 45, 40), market('c', 10, 90, 5), market('d', 15, 85, 5)];
    const policies = [policy('a'), policy('b'), policy('c'), policy('d', { band: [60, 90] })];
    const input: OptimalInput = { chains, policies, inFlight: [], edges: allEdges(['a', 'b', 'c', 'd']) };
    const p = await planYield(input, OPTS);
    // c gets all it needs but what no legal message can carry (a's spare ends 1 base unit short of c's need, below
    // every minTransfer), as the greedy baseline.
    const needC = plannedChains(input).find((n) => n.key === 'c')!.need;
    assert.ok(p.totals.shortfall < policies[0]!.caps.minTransfer, `unmet need ${p.totals.shortfall}`);
    assert.ok(p.transfers.filter((t) => t.to === 'c').reduce((s, t) => s + t.amount, 0n) >= needC - p.totals.shortfall);
    assert.ok(sent(p, 'b', 'd') > 0n, "b's spare earns more on d than it does at home");
    for (const c of chains) {
      const pol = policies.find((x) => x.chainKey === c.chainKey)!;
      const after = marketOf(p, c.chainKey).utilizationAfterWad;
      assert.ok(after <= pol.band.highWad, `${c.chainKey} ends at ${after} ≤ high ${pol.band.highWad}`);
      const gave = p.transfers.filter((t) => t.from === c.chainKey).reduce((s, t) => s + t.amount, 0n);
      if (gave > 0n) assert.ok(gave <= chainStanding(c, pol, 0n).spare, `${c.chainKey} gives within its spare`);
    }
    assert.ok(p.certificate.objective <= p.certificate.greedyObjective + 1e-6, 'never worse than greedy under the yield objective');
  });

  test('a chain forecast to cross its high mark within the horizon is in need now', async () => {
    // b at 78% (inside [60, 80]) but forecast at 86%: it receives even though a fee this high stops yield-only moves.
    const chains = [market('a', 50, 50, 40), market('b', 22, 78, 10)];
    const policies = [policy('a'), policy('b')];
    const input: OptimalInput = { chains, policies, inFlight: [], edges: allEdges(['a', 'b'], 1_000_000) };
    const none = await planYield(input, OPTS);
    assert.equal(none.transfers.length, 0, 'no forecast: nothing worth the fee');
    const p = await planYield(input, { ...OPTS, forecastUtilizationWad: { b: (86n * WAD) / 100n } });
    assert.ok(sent(p, 'a', 'b') > 0n);
    assert.equal(marketOf(p, 'b').inNeedByForecast, true);
    assert.match(p.transfers[0]!.reason, /^b forecast 86\.00% within the horizon > high 80\.00%, needs \d+/);
  });
});

describe('donors net of what is already leaving (in flight, not yet withdrawn)', () => {
  const chains = [chain('a', 100, 40), chain('b', 100, 90), chain('c', 100, 95)];
  const policies = [policy('a'), policy('b'), policy('c')];
  test("a donor's spare subtracts its outbound transfers not yet withdrawn; withdrawn or unknown ones are in the snapshot already", () => {
    const spare0 = chainStanding(chains[0]!, policies[0]!, 0n).spare;
    const f: InFlight = { rebalanceId: 'r1', from: 'a', to: 'b', amount: M(10), withdrawn: false };
    const net = plannedChains({ chains, policies, inFlight: [f] }).find((n) => n.key === 'a')!;
    assert.equal(net.spare, spare0 - M(10));
    assert.match(net.spareBound, /net of 10000000000000 in flight not yet withdrawn/);
    assert.equal(plannedChains({ chains, policies, inFlight: [{ ...f, withdrawn: true }] }).find((n) => n.key === 'a')!.spare, spare0);
    assert.equal(plannedChains({ chains, policies, inFlight: [{ rebalanceId: 'r1', from: 'a', to: 'b', amount: M(10) }] }).find((n) => n.key === 'a')!.spare, spare0);
  });

  test('two ticks never plan the same liquidity twice (greedy and yield)', async () => {
    const spare = chainStanding(chains[0]!, policies[0]!, 0n).spare;
    // Tick 1: a gives to b and c as much as it can.
    const t1 = planGreedy({ chains, policies, inFlight: [] });
    const out1 = t1.transfers.filter((t) => t.from === 'a').reduce((s, t) => s + t.amount, 0n);
    assert.ok(out1 > 0n);
    // Tick 2, same snapshot (the withdraws have not happened yet): what a gives again stays within what is left.
    const inFlight: InFlight[] = t1.transfers.map((t, i) => ({ rebalanceId: `r${i}`, from: t.from, to: t.to, amount: t.amount, withdrawn: false }));
    const t2 = planGreedy({ chains, policies, inFlight });
    const out2 = t2.transfers.filter((t) => t.from === 'a').reduce((s, t) => s + t.amount, 0n);
    assert.ok(out1 + out2 <= spare, `${out1} + ${out2} ≤ ${spare}`);
    const y2 = await planYield({ chains, policies, inFlight, edges: allEdges(['a', 'b', 'c']) }, OPTS);
    const outY = y2.transfers.filter((t) => t.from === 'a').reduce((s, t) => s + t.amount, 0n);
    assert.ok(out1 + outY <= spare, `yield: ${out1} + ${outY} ≤ ${spare}`);
  });
});
