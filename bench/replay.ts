/**
 * Replay of the Aave v3 daily utilization history (`../shared/fixtures/lending/aave_v3_daily_rates_13chains.csv`,
 * read at run time through config/fixtures.ts and devnet/marketData.ts) through both planners.
 *
 * Model, per asset: every network with a usable history (≥ 30 days of `implied_utilization` for the symbol)
 * gets one vault of a seeded nominal size (5M–100M tokens). On day t its borrow demand is
 * `utilization(t) × nominal size`; its supply starts at the nominal size and then moves only by the
 * planner's transfers (each planner keeps its own state, delivery within the day, a fresh outflow window
 * each day). Band 75–85% as on the devnet. Edges: the bench's two bridges (bench/instances.ts).
 */
import fs from 'node:fs';
import { fixturePath } from '../config/fixtures.js';
import { AAVE_RATES_FIXTURE, loadUtilizationPaths } from '../devnet/marketData.js';
import type { UtilizationPaths } from '../devnet/marketData.js';
import { WAD } from '../planner/types.js';
import type { ChainPolicy } from '../planner/types.js';
import type { BridgeEdge, OptimalInput } from '../planner/optimal.js';
import { benchEdges, benchPolicy, seedOf, tokens, vaultState } from './instances.js';
import { mulberry32 } from '../devnet/prng.js';

/** One asset's replay setup. */
export interface ReplayAsset {
  symbol: string;
  decimals: number;
  networks: string[];
  /** Networks of the file left out (too little history for the symbol), with why. */
  skipped: string[];
  paths: UtilizationPaths;
  sizes: Map<string, bigint>;
  policies: ChainPolicy[];
  edges: BridgeEdge[];
}

/** The networks named in the fixture's `network` column, sorted. */
function fixtureNetworks(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const col = lines[0]!.split(',').indexOf('network');
  if (col < 0) throw new Error(`${file}: no 'network' column in the header`);
  return [...new Set(lines.slice(1).filter((l) => l.trim() !== '').map((l) => l.split(',')[col]!))].sort();
}

/**
 * The replay's assets, or `undefined` with a reason when the fixture is absent.
 * @param maxDays keep only the first `maxDays` common days (quick runs).
 */
export function loadReplay(symbols: readonly { symbol: string; decimals: number }[], maxDays: number): { assets: ReplayAsset[] } | { skipped: string } {
  const file = fixturePath(AAVE_RATES_FIXTURE);
  if (!file) return { skipped: `fixture ${AAVE_RATES_FIXTURE} not found under the fixtures folder (BALLAST_FIXTURES_DIR); Aave replay skipped` };
  const all = fixtureNetworks(file);
  const assets: ReplayAsset[] = [];
  for (const { symbol, decimals } of symbols) {
    const networks: string[] = [];
    const skipped: string[] = [];
    for (const n of all) {
      try {
        const one = loadUtilizationPaths({ networks: [n], symbol });
        if (one.days.length >= 30) networks.push(n);
        else skipped.push(`${n} (${one.days.length} day(s) of ${symbol} utilization)`);
      } catch {
        skipped.push(`${n} (no ${symbol} utilization)`);
      }
    }
    if (networks.length < 2) continue;
    const full = loadUtilizationPaths({ networks, symbol });
    const days = full.days.slice(0, maxDays);
    const paths: UtilizationPaths = { ...full, days, paths: Object.fromEntries(Object.entries(full.paths).map(([k, v]) => [k, v.slice(0, maxDays)])) };
    const rng = mulberry32(seedOf(`replay/${symbol}`));
    const sizes = new Map(networks.map((n) => [n, tokens(5e6 + rng() * 95e6, decimals)]));
    const policies = networks.map((n) => benchPolicy(n, sizes.get(n)!, [75, 85], tokens(1000, decimals)));
    const typical = [...sizes.values()].reduce((s, x) => s + x, 0n) / BigInt(networks.length);
    assets.push({ symbol, decimals, networks, skipped, paths, sizes, policies, edges: benchEdges(rng, networks, decimals, typical) });
  }
  return { assets };
}

/** The planning input of day `day` given a planner's current supplies. */
export function replayInput(a: ReplayAsset, day: number, supplied: ReadonlyMap<string, bigint>): OptimalInput {
  const now = 1_750_000_000n + BigInt(day) * 86_400n;
  const chains = a.networks.map((n) => {
    const size = a.sizes.get(n)!;
    const borrowed = (a.paths.paths[n]![day]! * size) / WAD;
    return vaultState(n, supplied.get(n)!, borrowed, now, 0n, (size * 30n) / 100n);
  });
  return { chains, policies: a.policies, inFlight: [], edges: a.edges };
}
