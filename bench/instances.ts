/**
 * Seeded planning instances for the planner bench: chains with vault states and policies, and two bridges
 * quoted on every ordered pair with different fee shapes (LayerZero-like: high fixed fee, ~0 bps;
 * Wormhole-like: low fixed fee, a few bps), route-dependent prices, some route rate limits.
 * Deterministic for a (chains, asset, seed) triple.
 */
import { WAD } from '../planner/types.js';
import type { ChainPolicy, ChainState, InFlight } from '../planner/types.js';
import type { BridgeEdge, OptimalInput } from '../planner/optimal.js';
import { mulberry32 } from '../devnet/prng.js';


/** A stable 32-bit seed from a string (FNV-1a). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** `x` whole tokens (may be fractional, 6 significant decimals) in base units of a `decimals` token. */
export function tokens(x: number, decimals: number): bigint {
  return (BigInt(Math.round(x * 1e6)) * 10n ** BigInt(decimals)) / 1_000_000n;
}

const pctWad = (p: number): bigint => (BigInt(Math.round(p * 100)) * WAD) / 10_000n;

/** One vault's state; `borrowed` may exceed `supplied` (idle 0). */
export function vaultState(key: string, supplied: bigint, borrowed: bigint, nowSec: bigint, windowUsed: bigint, windowCap: bigint): ChainState {
  return {
    chainKey: key,
    blockNumber: 1n,
    blockTimestampSec: nowSec,
    supplied,
    borrowed,
    idle: supplied > borrowed ? supplied - borrowed : 0n,
    utilizationWad: supplied === 0n ? 0n : (borrowed * WAD) / supplied,
    onChainCap: { maxOutflowPerWindow: windowCap, windowSec: 86_400n, outflowInWindow: windowUsed, windowStartSec: nowSec - 600n },
    oracle: { roundId: 1n, answer: 100_000_000n, decimals: 8, updatedAtSec: nowSec, answeredInRound: 1n },
    oracleCheck: { ok: true, ageSec: 0n },
    tokenTotalSupply: supplied,
  };
}

/** The bench's policy for a vault of nominal size `size`: band in percent, buffer 2%, window 25%, per transfer 10%. */
export function benchPolicy(key: string, size: bigint, band: [number, number], minTransfer: bigint): ChainPolicy {
  return {
    chainKey: key,
    band: { lowWad: pctWad(band[0]), highWad: pctWad(band[1]) },
    minBufferAmount: (size * 2n) / 100n,
    caps: { maxOutflowPerWindow: (size * 25n) / 100n, windowSec: 86_400n, maxTransfer: (size * 10n) / 100n, minTransfer },
  };
}

/**
 * Quotes for every ordered pair of `keys` over `layerzero` (0–1 bps, fixed 0.5–3 tokens) and `wormhole`
 * (2–8 bps, fixed 0.05–0.3 tokens), each scaled by a per-route factor 0.5–3 (gas and distance), with a
 * route rate limit on 30% of the edges (2–20% of `typicalSize`).
 */
export function benchEdges(rng: () => number, keys: readonly string[], decimals: number, typicalSize: bigint): BridgeEdge[] {
  const edges: BridgeEdge[] = [];
  for (const from of keys) {
    for (const to of keys) {
      if (from === to) continue;
      const route = 0.5 + rng() * 2.5;
      const cap = (): Partial<BridgeEdge> => (rng() < 0.3 ? { capacity: (typicalSize * BigInt(2 + Math.floor(rng() * 19))) / 100n } : {});
      edges.push({ from, to, bridge: 'layerzero', feeBps: Math.round(rng() * 100 * route) / 100, fixedFee: tokens((0.5 + rng() * 2.5) * route, decimals), latencySec: 60 + Math.floor(rng() * 240), ...cap() });
      edges.push({ from, to, bridge: 'wormhole', feeBps: Math.round((2 + rng() * 6) * route * 100) / 100, fixedFee: tokens((0.05 + rng() * 0.25) * route, decimals), latencySec: 900 + Math.floor(rng() * 600), ...cap() });
    }
  }
  return edges;
}

/** Token decimals of the bench's asset number `i` (USDC-like, WETH-like, WBTC-like, …): exercises the solver's scaling. */
export const ASSET_DECIMALS = [6, 18, 8, 6, 18, 6, 8, 18] as const;

/**
 * A generated instance: `n` chains `c00…`, sizes 1M–50M tokens, ~35% above band (82–98%), ~45% below
 * (25–65%), the rest inside the 60–80% band; partial outflow windows; up to 2 transfers in flight.
 */
export function generatedInstance(n: number, asset: number, seed: number): OptimalInput {
  const rng = mulberry32(seedOf(`bench/${n}/${asset}/${seed}`));
  const decimals = ASSET_DECIMALS[asset % ASSET_DECIMALS.length]!;
  const now = 1_750_000_000n;
  const keys = Array.from({ length: n }, (_, i) => `c${i.toString().padStart(2, '0')}`);
  const chains: ChainState[] = [];
  const policies: ChainPolicy[] = [];
  let total = 0n;
  for (const key of keys) {
    const size = tokens(1e6 + rng() * 49e6, decimals);
    total += size;
    const r = rng();
    const util = r < 0.35 ? 0.82 + rng() * 0.16 : r < 0.8 ? 0.25 + rng() * 0.4 : 0.6 + rng() * 0.2;
    const borrowed = (size * BigInt(Math.round(util * 1e6))) / 1_000_000n;
    const windowCap = (size * 30n) / 100n;
    const used = rng() < 0.3 ? (windowCap * BigInt(Math.floor(rng() * 90))) / 100n : 0n;
    chains.push(vaultState(key, size, borrowed, now, used, windowCap));
    policies.push(benchPolicy(key, size, [60, 80], tokens(1000, decimals)));
  }
  const inFlight: InFlight[] = [];
  for (let i = 0; i < Math.min(2, Math.floor(n / 4)); i++) {
    const a = keys[Math.floor(rng() * n)]!;
    const b = keys[Math.floor(rng() * n)]!;
    if (a !== b) inFlight.push({ rebalanceId: `0x${i}`, from: a, to: b, amount: tokens(1e5, decimals) });
  }
  return { chains, policies, inFlight, edges: benchEdges(rng, keys, decimals, total / BigInt(n)) };
}
