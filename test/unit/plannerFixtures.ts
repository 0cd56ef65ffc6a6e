/**
 * Shared fixtures of the planner tests: instance builders, the seeded random instance generator and
 * the invariant checker, used by the greedy and the optimal planner's tests alike.
 */
import assert from 'node:assert/strict';
import { WAD } from '../../planner/index.js';
import type { ChainPolicy, ChainState, InFlight, Plan } from '../../planner/index.js';
import type { AaveMarketState } from '../../chains/evm/aaveReserve.js';

export const UNIT = 10n ** 6n;
export const M = (x: number): bigint => BigInt(Math.round(x * 1_000_000)) * UNIT;
export const pct = (p: number): bigint => (BigInt(Math.round(p * 100)) * WAD) / 10_000n;
export const NOW = 1_700_000_000n;

export function chain(key: string, suppliedM: number, borrowedM: number, over: Partial<ChainState> = {}): ChainState {
  const supplied = M(suppliedM);
  const borrowed = M(borrowedM);
  return {
    chainKey: key,
    blockNumber: 1000n,
    blockTimestampSec: NOW,
    supplied,
    borrowed,
    idle: supplied > borrowed ? supplied - borrowed : 0n,
    utilizationWad: supplied === 0n ? 0n : (borrowed * WAD) / supplied,
    onChainCap: { maxOutflowPerWindow: M(1000), windowSec: 3600n, outflowInWindow: 0n, windowStartSec: NOW - 10n },
    oracle: { roundId: 1n, answer: 100_000_000n, decimals: 8, updatedAtSec: NOW, answeredInRound: 1n },
    oracleCheck: { ok: true, ageSec: 0n },
    tokenTotalSupply: supplied,
    ...over,
  };
}

/**
 * An Aave-market chain: `availableM` + `debtM` million tokens supplied, the treasury holding `treasuryM` of it (reserve
 * factor 10%, active, no caps); `over` as {@link chain}'s.
 */
export function aaveMarketChain(key: string, availableM: number, debtM: number, treasuryM: number, over: Partial<ChainState> = {}): ChainState {
  const available = M(availableM);
  const debt = M(debtM);
  const m: AaveMarketState = {
    protocol: 'aave-v3',
    totalSupply: available + debt,
    totalDebt: debt,
    availableLiquidity: available,
    liquidityRateRay: 0n,
    supplyApyBps: 0n,
    variableBorrowRateRay: 0n,
    configuration: { ltvBps: 0n, liquidationThresholdBps: 0n, decimals: 6, active: true, frozen: false, borrowingEnabled: true, paused: false, reserveFactorBps: 1000n, borrowCapTokens: 0n, supplyCapTokens: 0n },
    treasuryBalance: M(treasuryM),
  };
  return { ...chain(key, availableM + debtM, debtM, over), market: m };
}

export function policy(key: string, over: { band?: [number, number]; minBufferM?: number; caps?: Partial<ChainPolicy['caps']> } = {}): ChainPolicy {
  const [low, high] = over.band ?? [60, 80];
  return {
    chainKey: key,
    band: { lowWad: pct(low), highWad: pct(high) },
    minBufferAmount: M(over.minBufferM ?? 0),
    caps: { maxOutflowPerWindow: M(1000), windowSec: 3600n, maxTransfer: M(1000), minTransfer: M(0.001), ...over.caps },
  };
}

export const utilAfter = (c: ChainState, plan: Plan): bigint => {
  const delta = plan.transfers.reduce((s, t) => s + (t.to === c.chainKey ? t.amount : 0n) - (t.from === c.chainKey ? t.amount : 0n), 0n);
  return (c.borrowed * WAD) / (c.supplied + delta);
};
export const target = (p: ChainPolicy): bigint => (p.band.lowWad + p.band.highWad) / 2n;
export const required = (c: ChainState, p: ChainPolicy): bigint => (c.borrowed * WAD + target(p) - 1n) / target(p);

/**
 * Every rule of the planner, checked from the outside. `rule`: `one` transfer per ordered pair (planGreedy's
 * default), or `several` (each ≤ maxTransfer, at most `maxPerRoute` per ordered pair: 4 per bridge × 2 bridges).
 */
export function checkInvariants(
  inst: { chains: readonly ChainState[]; policies: readonly ChainPolicy[]; inFlight: readonly InFlight[] },
  plan: Plan,
  label: string,
  rule: 'one' | 'several' = 'one',
  maxPerRoute = 8,
): void {
  const perRoute = new Map<string, number>();
  const chains = new Map(inst.chains.map((c) => [c.chainKey, c]));
  const policies = new Map(inst.policies.map((p) => [p.chainKey, p]));
  const inFlightRoutes = new Set(inst.inFlight.flatMap((f) => [`${f.from}>${f.to}`, `${f.to}>${f.from}`]));
  const routes = new Set<string>();
  const out = new Map<string, bigint>();
  const inn = new Map<string, bigint>();
  for (const t of plan.transfers) {
    const at = `${label}: ${t.from}→${t.to} ${t.amount}`;
    const [fc, tc, fp, tp] = [chains.get(t.from), chains.get(t.to), policies.get(t.from), policies.get(t.to)];
    assert.ok(fc && tc && fp && tp, `${at}: both ends known and with a policy`);
    assert.ok(fc.oracleCheck.ok && tc.oracleCheck.ok, `${at}: both oracles ok`);
    assert.notEqual(t.from, t.to, at);
    assert.ok(t.amount > 0n, `${at}: positive`);
    assert.ok(t.amount <= fp.caps.maxTransfer, `${at}: ≤ maxTransfer ${fp.caps.maxTransfer}`);
    assert.ok(t.amount >= fp.caps.minTransfer && t.amount >= tp.caps.minTransfer, `${at}: ≥ minTransfer of both ends`);
    if (rule === 'one') assert.ok(!routes.has(`${t.from}>${t.to}`), `${at}: route used once`);
    perRoute.set(`${t.from}>${t.to}`, (perRoute.get(`${t.from}>${t.to}`) ?? 0) + 1);
    assert.ok(perRoute.get(`${t.from}>${t.to}`)! <= maxPerRoute, `${at}: at most ${maxPerRoute} messages on the route`);
    assert.ok(!inFlightRoutes.has(`${t.from}>${t.to}`), `${at}: route has nothing in flight`);
    routes.add(`${t.from}>${t.to}`);
    out.set(t.from, (out.get(t.from) ?? 0n) + t.amount);
    inn.set(t.to, (inn.get(t.to) ?? 0n) + t.amount);
  }
  for (const [key, sent] of out) {
    const c = chains.get(key)!;
    const p = policies.get(key)!;
    assert.ok(!inn.has(key), `${label}: ${key} both gives and receives`);
    assert.ok(sent <= c.idle - p.minBufferAmount, `${label}: ${key} sent ${sent} > idle ${c.idle} − minBuffer ${p.minBufferAmount}`);
    const cap = c.onChainCap;
    const used = c.blockTimestampSec >= cap.windowStartSec + cap.windowSec ? 0n : cap.outflowInWindow;
    const limit = p.caps.maxOutflowPerWindow < cap.maxOutflowPerWindow ? p.caps.maxOutflowPerWindow : cap.maxOutflowPerWindow;
    assert.ok(used + sent <= limit, `${label}: ${key} window ${used} + ${sent} > ${limit}`);
    assert.ok(c.borrowed * WAD <= target(p) * (c.supplied - sent), `${label}: ${key} pushed past its target`);
  }
  for (const [key, got] of inn) {
    const c = chains.get(key)!;
    const p = policies.get(key)!;
    assert.ok(c.borrowed * WAD > p.band.highWad * c.supplied, `${label}: ${key} received but was not above its band`);
    const inbound = inst.inFlight.filter((f) => f.to === key).reduce((s, f) => s + f.amount, 0n);
    assert.ok(c.supplied + inbound + got <= required(c, p), `${label}: ${key} pushed past its target (overshoot)`);
  }
  // everything still out of band is reported, and nothing else
  for (const c of inst.chains) {
    const p = policies.get(c.chainKey);
    const reported = plan.unresolved.some((u) => u.chainKey === c.chainKey);
    if (!p) {
      assert.ok(reported, `${label}: ${c.chainKey} without policy reported`);
      continue;
    }
    const s = c.supplied + (inn.get(c.chainKey) ?? 0n) - (out.get(c.chainKey) ?? 0n);
    const outOfBand = c.borrowed * WAD > p.band.highWad * s || c.borrowed * WAD < p.band.lowWad * s;
    assert.equal(reported, outOfBand, `${label}: ${c.chainKey} reported iff out of band after the plan`);
  }
}


export function shuffle<T>(rng: () => number, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** A random bigint in [0, max] (max < 2^64). */
export function randBig(rng: () => number, max: bigint): bigint {
  if (max <= 0n) return 0n;
  const r = (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
  return r % (max + 1n);
}

export function randomInstance(rng: () => number, n: number): { chains: ChainState[]; policies: ChainPolicy[]; inFlight: InFlight[] } {
  const keys = shuffle(rng, ['arbitrum', 'base', 'optimism', 'polygon', 'bsc', 'avalanche', 'linea', 'scroll']).slice(0, n);
  const chains: ChainState[] = [];
  const policies: ChainPolicy[] = [];
  for (const key of keys) {
    const supplied = rng() < 0.05 ? 0n : randBig(rng, M(50));
    const borrowed = randBig(rng, supplied + (rng() < 0.05 ? M(1) : 0n));
    const windowSec = BigInt(60 + Math.floor(rng() * 7200));
    const windowStartSec = NOW - randBig(rng, windowSec * 2n);
    const onChainCap = { maxOutflowPerWindow: randBig(rng, M(20)), windowSec, outflowInWindow: 0n, windowStartSec };
    onChainCap.outflowInWindow = randBig(rng, onChainCap.maxOutflowPerWindow + M(1));
    const ok = rng() > 0.1;
    chains.push(
      chain(key, 0, 0, {
        supplied,
        borrowed,
        idle: supplied > borrowed ? supplied - borrowed : 0n,
        onChainCap,
        oracleCheck: ok ? { ok: true, ageSec: 1n } : { ok: false, reason: 'stale: age 9999s > maxStalenessSec 3600', ageSec: 9999n },
      }),
    );
    if (rng() < 0.05) continue; // a chain without a policy
    const low = 1 + Math.floor(rng() * 8000);
    const high = low + 1 + Math.floor(rng() * (10_000 - low - 1));
    const maxTransfer = randBig(rng, M(10));
    policies.push({
      chainKey: key,
      band: { lowWad: (BigInt(low) * WAD) / 10_000n, highWad: (BigInt(high) * WAD) / 10_000n },
      minBufferAmount: randBig(rng, M(5)),
      caps: { maxOutflowPerWindow: randBig(rng, M(20)), windowSec, maxTransfer, minTransfer: randBig(rng, maxTransfer / 20n) },
    });
  }
  const inFlight: InFlight[] = [];
  const flights = Math.floor(rng() * 3);
  for (let i = 0; i < flights && keys.length >= 2; i++) {
    const [from, to] = shuffle(rng, keys);
    inFlight.push({ rebalanceId: `0x${i}`, from: from!, to: to!, amount: randBig(rng, M(3)) });
  }
  return { chains, policies, inFlight };
}

