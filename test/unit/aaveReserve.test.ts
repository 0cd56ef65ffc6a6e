/**
 * Reading an Aave v3 reserve (chains/evm/aaveReserve.ts) and what the planners do with it (planner/greedy.ts
 * `chainStanding`, the one definition of a chain's need and spare for both planners): the configuration bitmap as
 * Aave's ReserveConfiguration.sol lays it out, the supply APY from the ray rate, Aave's utilization, and the bounds an
 * Aave market adds: the treasury moves only its own aTokens, a frozen or paused reserve receives nothing, the supply
 * cap bounds what a chain can receive.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aaveUtilizationWad, decodeAaveReserve, decodeReserveConfiguration, RAY, supplyApyBps, type AaveMarketState, type AaveReserveAddresses } from '../../chains/evm/aaveReserve.js';
import { chainStanding, planGreedy } from '../../planner/greedy.js';
import { WAD, type ChainState } from '../../planner/types.js';
import { chain, M, policy, UNIT } from './plannerFixtures.js';

/** A configuration bitmap built field by field at ReserveConfiguration.sol's bit positions. */
function bitmap(f: { ltv?: bigint; lt?: bigint; decimals?: bigint; active?: boolean; frozen?: boolean; borrowing?: boolean; paused?: boolean; rf?: bigint; borrowCap?: bigint; supplyCap?: bigint }): bigint {
  return (
    (f.ltv ?? 0n) |
    ((f.lt ?? 0n) << 16n) |
    ((f.decimals ?? 6n) << 48n) |
    (f.active === false ? 0n : 1n << 56n) |
    (f.frozen ? 1n << 57n : 0n) |
    (f.borrowing === false ? 0n : 1n << 58n) |
    (f.paused ? 1n << 60n : 0n) |
    ((f.rf ?? 1000n) << 64n) |
    ((f.borrowCap ?? 0n) << 80n) |
    ((f.supplyCap ?? 0n) << 116n)
  );
}

describe('Aave v3 reserve reads', () => {
  test('the configuration bitmap decodes at ReserveConfiguration.sol bit positions', () => {
    const c = decodeReserveConfiguration(bitmap({ ltv: 8000n, lt: 8250n, decimals: 6n, frozen: true, rf: 1000n, borrowCap: 1_800_000_000n, supplyCap: 2_000_000_000n }));
    assert.deepEqual(c, { ltvBps: 8000n, liquidationThresholdBps: 8250n, decimals: 6, active: true, frozen: true, borrowingEnabled: true, paused: false, reserveFactorBps: 1000n, borrowCapTokens: 1_800_000_000n, supplyCapTokens: 2_000_000_000n });
    // The caps are 36 bits wide: the largest cap does not spill into the neighbouring fields.
    const max = (1n << 36n) - 1n;
    const m = decodeReserveConfiguration(bitmap({ borrowCap: max, supplyCap: max, paused: true }));
    assert.equal(m.borrowCapTokens, max);
    assert.equal(m.supplyCapTokens, max);
    assert.equal(m.paused, true);
    assert.equal(m.frozen, false);
  });

  test('supply APY compounds the per-year ray rate per second (three terms, as MathUtils.calculateCompoundedInterest)', () => {
    assert.equal(supplyApyBps(0n), 0n);
    // 5.5% per year compounded per second: e^0.055 − 1 = 5.654…% → 565 bps (floor).
    assert.equal(supplyApyBps((55n * RAY) / 1000n), 565n);
    // 2.5% → e^0.025 − 1 = 2.5315% → 253 bps.
    assert.equal(supplyApyBps((25n * RAY) / 1000n), 253n);
  });

  test("utilization is Aave's: debt / (available + debt)", () => {
    assert.equal(aaveUtilizationWad(0n, 0n), 0n);
    assert.equal(aaveUtilizationWad(550n * UNIT, 450n * UNIT), (45n * WAD) / 100n);
  });

  test('a reserve whose aToken is not the configured one is refused, naming both', () => {
    const a: AaveReserveAddresses = { pool: '0x00000000000000000000000000000000000000a1', asset: '0x00000000000000000000000000000000000000a2', aToken: '0x00000000000000000000000000000000000000a3', variableDebtToken: '0x00000000000000000000000000000000000000a4', stableDebtToken: '0x00000000000000000000000000000000000000a5', holder: '0x00000000000000000000000000000000000000a6' };
    const reserve = { configuration: { data: bitmap({}) }, currentLiquidityRate: 0n, currentVariableBorrowRate: 0n, aTokenAddress: '0x00000000000000000000000000000000000000ff' };
    assert.throws(() => decodeAaveReserve(a, [reserve, 0n, 0n, 0n, 0n, 0n]), /has aToken 0x0+ff, the config says 0x0+a3/);
    const ok = decodeAaveReserve(a, [{ ...reserve, aTokenAddress: a.aToken, currentLiquidityRate: (55n * RAY) / 1000n }, 1000n, 400n, 50n, 600n, 300n]);
    assert.equal(ok.totalDebt, 450n);
    assert.equal(ok.availableLiquidity, 600n);
    assert.equal(ok.treasuryBalance, 300n);
    assert.equal(ok.supplyApyBps, 565n);
  });
});

/** A chain whose liquidity is an Aave reserve: supplied = available + debt (so utilization is Aave's), the treasury's aTokens. */
function aaveChain(key: string, availableM: number, debtM: number, market: Partial<Omit<AaveMarketState, 'configuration'>> & { configuration?: Partial<AaveMarketState['configuration']> } = {}): ChainState {
  const available = M(availableM);
  const debt = M(debtM);
  const base = chain(key, availableM + debtM, debtM);
  const { configuration, ...rest } = market;
  return {
    ...base,
    market: {
      protocol: 'aave-v3',
      totalSupply: available + debt,
      totalDebt: debt,
      availableLiquidity: available,
      liquidityRateRay: 0n,
      supplyApyBps: 0n,
      variableBorrowRateRay: 0n,
      treasuryBalance: available + debt,
      configuration: { ...decodeReserveConfiguration(bitmap({})), ...configuration },
      ...rest,
    },
  };
}

describe('planning on Aave markets (chainStanding: both planners)', () => {
  test("a donor gives at most the treasury's own aToken balance, and the reason says so", () => {
    // alpha: 10 M available, 2 M debt (17%), but the treasury holds only 1.5 M of its supply.
    const alpha = aaveChain('alpha', 10, 2, { treasuryBalance: M(1.5) });
    const beta = aaveChain('beta', 1, 9); // 90% > 80%
    const st = chainStanding(alpha, policy('alpha'), 0n);
    assert.equal(st.spare, M(1.5));
    assert.match(st.spareBound, /the treasury's Aave supply \(aToken balance 1500000000000\)/);
    const plan = planGreedy({ chains: [alpha, beta], policies: [policy('alpha'), policy('beta')], inFlight: [] });
    assert.deepEqual(plan.transfers.map((t) => [t.from, t.to, t.amount]), [['alpha', 'beta', M(1.5)]]);
    assert.match(plan.transfers[0]!.reason, /limited by the treasury's Aave supply/);
  });

  for (const [state, cfg] of [
    ['frozen', { frozen: true }],
    ['paused', { paused: true }],
    ['inactive', { active: false }],
  ] as const) {
    test(`a ${state} reserve is never a destination: nothing planned to it, the reason names it`, () => {
      const alpha = aaveChain('alpha', 10, 2);
      const beta = aaveChain('beta', 1, 9, { configuration: cfg });
      assert.equal(chainStanding(beta, policy('beta'), 0n).need, 0n);
      const plan = planGreedy({ chains: [alpha, beta], policies: [policy('alpha'), policy('beta')], inFlight: [] });
      assert.deepEqual(plan.transfers, []);
      const why = plan.unresolved.find((u) => u.chainKey === 'beta')?.reason ?? '';
      assert.match(why, new RegExp(`it can receive no more: its Aave reserve is ${state} \\(never a destination\\)`));
    });
  }

  test("the supply cap bounds what a chain can receive (cap × 10^decimals − total supply)", () => {
    const alpha = aaveChain('alpha', 10, 2);
    // beta needs ~1.25 M to reach 70% but its cap leaves room for 0.5 M (cap 10.5 M tokens, total supply 10 M).
    const beta = aaveChain('beta', 1, 9, { configuration: { supplyCapTokens: 10_500_000n, decimals: 6 } });
    const st = chainStanding(beta, policy('beta'), 0n);
    assert.equal(st.need, M(0.5));
    assert.match(st.needBound ?? '', /its Aave supply cap \(10500000 tokens, total supply 10000000000000\)/);
    const plan = planGreedy({ chains: [alpha, beta], policies: [policy('alpha'), policy('beta')], inFlight: [] });
    assert.deepEqual(plan.transfers.map((t) => t.amount), [M(0.5)]);
    assert.match(plan.unresolved.find((u) => u.chainKey === 'beta')?.reason ?? '', /it can receive no more: its Aave supply cap/);
  });

  test('a vault chain (no market) is planned as before', () => {
    const alpha = chain('alpha', 12, 2);
    assert.equal(chainStanding(alpha, policy('alpha'), 0n).needBound, undefined);
    assert.doesNotMatch(chainStanding(alpha, policy('alpha'), 0n).spareBound, /Aave/);
  });
});
