/**
 * The backtest's inputs: the real histories of the fixtures folder (config/fixtures.ts), loaded through the
 * bench's Aave replay loader (bench/replay.ts `loadReplay`) and the devnet's Chainlink loaders
 * (devnet/marketData.ts), and put on one clock.
 *
 * Assets:
 * - `USDC`: borrow demand from the Aave v3 USDC `implied_utilization` of every network with ≥ 30 days of it
 *   (the bench's choice, seeded vault sizes 5M–100M tokens, band 75–85%, buffer 2%, outflow window 25%/day,
 *   per transfer 10%, minTransfer 1000 tokens); oracle and fee conversion: Chainlink ETH/USD (as on the devnet,
 *   where every chain's feed replays ETH/USD).
 * - `stETH` (depeg-sensitive): an ETH liquid-staking token whose value in ETH follows Chainlink stETH/ETH
 *   (the June 2022 discount included). The fixtures have no Aave wstETH reserve with a utilization, so its
 *   borrow demand follows Aave v3 WETH (the ETH market), with the bench's seeded sizes ÷ 1000 (5k–100k tokens,
 *   so fixed fees weigh as for an ETH vault, not a 100M-ETH one) and minTransfer 1 token. The feed drives its
 *   oracle checks (a tighter deviation limit than ETH/USD: 200 bps) and its fee conversion (fee in ETH ÷ ETH per
 *   token). Utilization does not depend on the price in this model, so the depeg acts through the oracle checks
 *   and the fees only; the report says how many steps it excluded.
 *
 * Clock: the histories do not overlap in time (Aave 2025-07 .. 2026-08, ETH/USD 2023-04 .. 2024-01, stETH/ETH
 * 2022-01 .. 2024-01), so each is replayed from its own start: step time `t` (seconds from the start) is Aave
 * day `⌊t / 86400⌋` (utilization linearly interpolated to the next day) and feed time `origin + t`, where
 * `origin` is 00:00 UTC of the day of the feed's first published round. The feed's current round at a feed time
 * is the last one (in roundId order) published by then; a round with `updatedAt` 0 is current from its
 * predecessor's publication (ETH/USD: the real all-zero round is the first round id, current until the next
 * round is published 22.6 h into day 0). Before a feed's first round there is none (checked as an all-zero
 * round, as a fresh aggregator would answer). A run lasts as long as every history it uses.
 */
import path from 'node:path';
import { fixturePath, fixturesDir } from '../config/fixtures.js';
import { loadReplay } from '../bench/replay.js';
import { benchPolicy, seedOf, tokens } from '../bench/instances.js';
import { mulberry32 } from '../devnet/prng.js';
import {
  AAVE_RATES_FIXTURE,
  ETH_USD_DECIMALS,
  PRICES_FIXTURE_DIR,
  STETH_ETH_DECIMALS,
  loadFeedHistory,
  loadInvalidRounds,
  loadPriceRounds,
  loadUtilizationPaths,
  type PriceRound,
} from '../devnet/marketData.js';
import type { OracleLimits } from '../planner/oracle.js';
import type { ChainPolicy } from '../planner/types.js';
import type { FeeConversion } from './model.js';

/** A Chainlink feed replayed on the backtest clock. */
export interface FeedReplay {
  /** `ETH/USD`, `stETH/ETH`. */
  name: string;
  /** The CSV read, or a `SYNTHETIC …` label. */
  file: string;
  decimals: number;
  /** Every round in roundId order, invalid ones included. */
  rounds: PriceRound[];
  /** Publication time (feed clock, seconds) of each round, non-decreasing; −1 for invalid rounds before the first valid one. */
  publishedSec: bigint[];
  /** Feed time of step time 0 (00:00 UTC of the first published round's day). */
  originSec: bigint;
  /** Publication time of the last round. */
  lastPublishedSec: bigint;
  /** The keeper's oracle limits for this feed. */
  limits: OracleLimits;
  conversion: FeeConversion;
}

/** One asset of the backtest: its vaults, their demand history, policies and price feed. */
export interface BacktestAsset {
  symbol: string;
  /** One line: what the asset stands for and where each history comes from. */
  label: string;
  decimals: number;
  /** The Aave v3 symbol whose utilization drives borrow demand. */
  demandSymbol: string;
  networks: string[];
  /** Aave dates of the replayed days (or `synthetic-day-…`). */
  days: string[];
  /** network → utilization per day (WAD), aligned with `days`. */
  paths: Record<string, bigint[]>;
  /** network → nominal vault size (base units): initial supply, and borrow demand = utilization × size. */
  sizes: Map<string, bigint>;
  policies: ChainPolicy[];
  feed: FeedReplay;
  source: 'fixture' | 'synthetic';
  notes: string[];
}

/** Thrown when the fixtures the backtest needs are absent (and no synthetic run was asked for). */
export class BacktestDataError extends Error {
  override name = 'BacktestDataError';
}

/** Oracle limits for Chainlink ETH/USD: the example config's (heartbeat 1 h; 5% deviation). */
export const ETH_USD_LIMITS: OracleLimits = { maxStalenessSec: 3600, maxDeviationBps: 500 };
/** Oracle limits for Chainlink stETH/ETH: heartbeat 24 h + 1 h; 2% deviation (a pegged asset's guard). */
export const STETH_ETH_LIMITS: OracleLimits = { maxStalenessSec: 90_000, maxDeviationBps: 200 };
/** Networks of a synthetic run. */
export const SYNTHETIC_NETWORKS = ['arbitrum', 'base', 'ethereum', 'optimism'] as const;

const DAY = 86_400n;

/** Publication times and origin of a feed's rounds (see the module doc). */
export function feedReplay(name: string, file: string, decimals: number, rounds: PriceRound[], limits: OracleLimits, conversion: FeeConversion): FeedReplay {
  const publishedSec: bigint[] = [];
  let last = -1n;
  for (const r of rounds) {
    // updatedAt 0 = never completed: current from its predecessor's publication (or from the start).
    if (r.updatedAtSec > 0n && r.updatedAtSec > last) last = r.updatedAtSec;
    publishedSec.push(last);
  }
  const first = publishedSec.find((p) => p > 0n);
  if (first === undefined) throw new Error(`${file}: no round of ${name} was ever published (every updatedAt is 0)`);
  return { name, file, decimals, rounds, publishedSec, originSec: (first / DAY) * DAY, lastPublishedSec: last, limits, conversion };
}

/**
 * The feed's current round at feed time `feedSec`: the last round (roundId order) published by then, or an
 * all-zero round (roundId 0) before the first one, as an aggregator without rounds answers.
 */
export function roundAt(feed: FeedReplay, feedSec: bigint): PriceRound {
  let lo = 0;
  let hi = feed.rounds.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (feed.publishedSec[mid]! <= feedSec) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? { roundId: 0n, answer: 0n, startedAtSec: 0n, updatedAtSec: 0n, answeredInRound: 0n } : feed.rounds[found]!;
}

/** Whole days a feed covers from its origin (a run past them would read an ever staler round). */
export function feedDays(feed: FeedReplay): number {
  return Number((feed.lastPublishedSec - feed.originSec) / DAY);
}

/** Options of {@link loadBacktestAssets}. */
export interface LoadOptions {
  /** Keep at most this many days. */
  days?: number;
  /** Where fixtures are absent, run a clearly labelled synthetic history instead of failing. */
  synthetic?: boolean;
}

/**
 * The backtest's assets from the fixtures folder ({@link fixturesDir}).
 * @returns the assets (each trimmed to the days all its histories cover, and to `days`) and notes (what was
 *   read, what was left out and why).
 * @throws {BacktestDataError} naming the missing files when the Aave v3 rates or the ETH/USD rounds are absent
 *   and `synthetic` is not set.
 */
export function loadBacktestAssets(opts: LoadOptions = {}): { assets: BacktestAsset[]; notes: string[] } {
  const aaveFile = fixturePath(AAVE_RATES_FIXTURE);
  const ethUsd = loadFeedHistory('eth_usd', ETH_USD_DECIMALS);
  const stEth = loadFeedHistory('steth_eth', STETH_ETH_DECIMALS);
  const missing = [
    ...(aaveFile ? [] : [path.join(fixturesDir(), AAVE_RATES_FIXTURE)]),
    ...(ethUsd ? [] : [path.join(fixturesDir(), PRICES_FIXTURE_DIR, 'eth_usd_*.csv')]),
  ];
  const notes: string[] = [];
  if (missing.length > 0 && !opts.synthetic) {
    throw new BacktestDataError(
      `backtest: fixture file(s) not found: ${missing.join(', ')} (fixtures folder ${fixturesDir()}, set by --fixtures or BALLAST_FIXTURES_DIR). ` +
        'The backtest replays real history only; pass --synthetic to run a clearly labelled synthetic history instead.',
    );
  }
  const maxDays = opts.days ?? 100_000;
  const assets: BacktestAsset[] = [];
  const usdFeed = ethUsd
    ? feedReplay('ETH/USD', ethUsd.file, ethUsd.decimals, ethUsd.rounds, ETH_USD_LIMITS, { kind: 'usd-per-eth' })
    : syntheticEthUsd();
  if (!ethUsd) notes.push(`SYNTHETIC ETH/USD: ${usdFeed.file}`);

  const replay = aaveFile ? loadReplay([{ symbol: 'USDC', decimals: 6 }, { symbol: 'WETH', decimals: 18 }], maxDays) : undefined;
  const replayed = replay && 'assets' in replay ? replay.assets : [];
  const usdc = replayed.find((a) => a.symbol === 'USDC');
  if (usdc) {
    const days = Math.min(usdc.paths.days.length, feedDays(usdFeed), maxDays);
    assets.push(
      trim(
        {
          symbol: 'USDC',
          label: `USDC: Aave v3 USDC utilization (${AAVE_RATES_FIXTURE}), Chainlink ETH/USD (${path.basename(usdFeed.file)}) for oracle checks and fee conversion`,
          decimals: 6,
          demandSymbol: 'USDC',
          networks: usdc.networks,
          days: usdc.paths.days,
          paths: usdc.paths.paths,
          sizes: usdc.sizes,
          policies: usdc.policies,
          feed: usdFeed,
          source: ethUsd ? 'fixture' : 'synthetic',
          notes: usdc.skipped.length > 0 ? [`networks left out (too little USDC history): ${usdc.skipped.join(', ')}`] : [],
        },
        days,
      ),
    );
  } else {
    // Only reachable with --synthetic: no Aave file.
    const networks = [...SYNTHETIC_NETWORKS];
    const u = loadUtilizationPaths({ networks, symbol: 'USDC' });
    const rng = mulberry32(seedOf('backtest/synthetic/USDC'));
    const sizes = new Map(networks.map((n) => [n, tokens(5e6 + rng() * 95e6, 6)]));
    notes.push(u.note);
    assets.push(
      trim(
        {
          symbol: 'USDC',
          label: `USDC (SYNTHETIC utilization: ${u.note})`,
          decimals: 6,
          demandSymbol: 'USDC',
          networks,
          days: u.days,
          paths: u.paths,
          sizes,
          policies: networks.map((n) => benchPolicy(n, sizes.get(n)!, [75, 85], tokens(1000, 6))),
          feed: usdFeed,
          source: 'synthetic',
          notes: [u.note],
        },
        Math.min(u.days.length, feedDays(usdFeed), maxDays),
      ),
    );
  }

  const weth = replayed.find((a) => a.symbol === 'WETH');
  if (!stEth) notes.push(`stETH asset left out: no prices/steth_eth_*.csv under ${fixturesDir()}`);
  else if (!weth) notes.push('stETH asset left out: no Aave v3 WETH utilization history to drive its demand');
  else {
    const feed = feedReplay('stETH/ETH', stEth.file, stEth.decimals, stEth.rounds, STETH_ETH_LIMITS, { kind: 'eth-per-token' });
    const sizes = new Map([...weth.sizes].map(([n, s]) => [n, s / 1000n]));
    assets.push(
      trim(
        {
          symbol: 'stETH',
          label:
            `stETH (depeg-sensitive): value in ETH from Chainlink stETH/ETH (${path.basename(stEth.file)}), oracle checks on that feed; ` +
            `borrow demand from Aave v3 WETH utilization (no wstETH utilization in the fixture); vault sizes = the bench's WETH sizes ÷ 1000`,
          decimals: 18,
          demandSymbol: 'WETH',
          networks: weth.networks,
          days: weth.paths.days,
          paths: weth.paths.paths,
          sizes,
          policies: weth.networks.map((n) => benchPolicy(n, sizes.get(n)!, [75, 85], tokens(1, 18))),
          feed,
          source: 'fixture',
          notes: weth.skipped.length > 0 ? [`networks left out (too little WETH history): ${weth.skipped.join(', ')}`] : [],
        },
        Math.min(weth.paths.days.length, feedDays(feed), maxDays),
      ),
    );
  }
  if (replay && 'skipped' in replay) notes.push(replay.skipped);
  return { assets, notes };
}

function trim(a: BacktestAsset, days: number): BacktestAsset {
  return { ...a, days: a.days.slice(0, days), paths: Object.fromEntries(Object.entries(a.paths).map(([k, v]) => [k, v.slice(0, days)])) };
}

function syntheticEthUsd(): FeedReplay {
  const valid = loadPriceRounds();
  const invalid = loadInvalidRounds();
  const rounds = [...valid.rounds, ...invalid.rounds].sort((a, b) => (a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0));
  return feedReplay('ETH/USD', `SYNTHETIC (${valid.note})`, valid.decimals, rounds, ETH_USD_LIMITS, { kind: 'usd-per-eth' });
}
