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
 *
 * Gas: every asset carries a base-fee series per chain ({@link BacktestAsset.gas}) for the fixed fees and the gas
 * timing: a `--gas-history` CSV on the asset's clock ({@link gasReplayFor}), else (the fixtures have none) a SYNTHETIC
 * series (backtest/model.ts `syntheticGasHistory`), named in `sources.gas`.
 */
import path from 'node:path';
import { fixturePath, fixturesDir } from '../config/fixtures.js';
import { alignObservations, loadGasCsv, loadPriceCsv, loadRateHistory, readObservations } from './csv.js';
import type { GasHistoryFile } from './csv.js';
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
import { syntheticGasHistory } from './model.js';
import type { FeeConversion, GasReplay } from './model.js';
import { WAD } from '../planner/types.js';

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
  /**
   * network → the market's supply APR per day (RAY, 1e27 = 100%/yr), aligned with `days`: the rate a vault's
   * supplied amount earns that whole day (held, not interpolated). Synthetic histories: a labelled synthetic rate.
   */
  supplyRate: Record<string, bigint[]>;
  /** Where the history, the prices and the base fees were read from (file paths, or `SYNTHETIC …`): the report names them. */
  sources: { history: string; prices: string; gas?: string };
  /** network → nominal vault size (base units): initial supply, and borrow demand = utilization × size. */
  sizes: Map<string, bigint>;
  policies: ChainPolicy[];
  feed: FeedReplay;
  source: 'fixture' | 'synthetic';
  notes: string[];
  /** Base fees per chain on the asset's clock (set by {@link loadBacktestAssets}; absent: the engine uses the synthetic series). */
  gas?: GasReplay;
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

/**
 * Publication times and origin of a feed's rounds (see the module doc).
 * @param originSec feed time of step time 0; default 00:00 UTC of the first published round's day.
 */
export function feedReplay(name: string, file: string, decimals: number, rounds: PriceRound[], limits: OracleLimits, conversion: FeeConversion, originSec?: bigint): FeedReplay {
  const publishedSec: bigint[] = [];
  let last = -1n;
  for (const r of rounds) {
    // updatedAt 0 = never completed: current from its predecessor's publication (or from the start).
    if (r.updatedAtSec > 0n && r.updatedAtSec > last) last = r.updatedAtSec;
    publishedSec.push(last);
  }
  const first = publishedSec.find((p) => p > 0n);
  if (first === undefined) throw new Error(`${file}: no round of ${name} was ever published (every updatedAt is 0)`);
  return { name, file, decimals, rounds, publishedSec, originSec: originSec ?? (first / DAY) * DAY, lastPublishedSec: last, limits, conversion };
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
  /** A history CSV in the documented shape (backtest/csv.ts) instead of the fixtures' Aave v3 file. */
  historyFile?: string;
  /** A Chainlink-shaped price CSV (backtest/csv.ts) as the oracle and fee-conversion feed of a `historyFile` run. */
  pricesFile?: string;
  /** Decimals of `pricesFile`'s answers (default 8, as ETH/USD). */
  priceDecimals?: number;
  /**
   * Symbols to run: of `historyFile` (default every symbol with ≥ 2 networks), or of the fixtures' assets (`USDC`,
   * `stETH`; default both).
   */
  symbols?: readonly string[];
  /** A gas history CSV (backtest/csv.ts `loadGasCsv`) for the fixed fees and the gas timing; default a SYNTHETIC series. */
  gasHistoryFile?: string;
}

/** The fixtures' assets, by symbol (what `--symbol` may name without `--history`). */
export const FIXTURE_SYMBOLS = ['USDC', 'stETH'] as const;

/**
 * The backtest's assets from the fixtures folder ({@link fixturesDir}), or from `historyFile`; only `symbols` when
 * given. Each asset carries its base-fee series ({@link BacktestAsset.gas}): `gasHistoryFile`'s on the asset's clock
 * ({@link gasReplayFor}), else a SYNTHETIC one (backtest/model.ts `syntheticGasHistory`), named in `sources.gas`.
 * @returns the assets (each trimmed to the days all its histories cover, and to `days`) and notes (what was
 *   read, what was left out and why).
 * @throws {BacktestDataError} naming the missing files when the Aave v3 rates or the ETH/USD rounds are absent
 *   and `synthetic` is not set, or when `symbols` names none of the fixtures' assets; {@link HistoryFormatError}
 *   for a malformed `gasHistoryFile`.
 */
export function loadBacktestAssets(opts: LoadOptions = {}): { assets: BacktestAsset[]; notes: string[] } {
  const loaded = opts.historyFile !== undefined ? loadCsvAssets(opts.historyFile, opts) : loadFixtureAssets(opts);
  const gasFile = opts.gasHistoryFile !== undefined ? loadGasCsv(path.resolve(opts.gasHistoryFile)) : undefined;
  const assets = loaded.assets.map((a) => {
    const gas = gasReplayFor(a, gasFile);
    return { ...a, gas, sources: { ...a.sources, gas: gas.source } };
  });
  return { assets, notes: loaded.notes };
}

/**
 * An asset's base-fee series on its clock (step time 0 = 00:00 UTC of its first day).
 * - no file: {@link syntheticGasHistory} over the asset's days (labelled SYNTHETIC);
 * - a file: each network's samples at `unixSec − origin`, where origin is the asset's first day when the file covers
 *   it (a sample at or before its end and one at or after its start), else 00:00 UTC of the file's first sample's day
 *   (the file replayed from its own start, as prices are; noted). A network of the asset the file lacks takes the
 *   synthetic series (noted, and named in the source).
 */
export function gasReplayFor(a: BacktestAsset, file: GasHistoryFile | undefined): GasReplay {
  const durationSec = a.days.length * Number(DAY);
  if (!file) return syntheticGasHistory(a.networks, durationSec);
  const all = Object.values(file.perNetwork).flat();
  const first = Math.min(...all.map((x) => x.unixSec));
  const last = Math.max(...all.map((x) => x.unixSec));
  const origin = /^\d{4}-\d{2}-\d{2}$/.test(a.days[0] ?? '') ? Date.parse(`${a.days[0]}T00:00:00Z`) / 1000 : undefined;
  const aligned = origin !== undefined && first <= origin + Number(DAY) && last >= origin;
  const shift = aligned ? origin : Math.floor(first / Number(DAY)) * Number(DAY);
  const iso = (sec: number): string => new Date(sec * 1000).toISOString().slice(0, 16) + 'Z';
  const notes = [
    aligned
      ? `gas history ${file.file} on the history's clock from ${a.days[0]}`
      : `gas history ${file.file} replayed from its own first day ${iso(shift).slice(0, 10)} (it does not cover ${a.days[0]})`,
  ];
  const perChain: GasReplay['perChain'] = {};
  const missing: string[] = [];
  for (const n of [...a.networks].sort()) {
    const xs = file.perNetwork[n];
    if (!xs || xs.length === 0) {
      missing.push(n);
      continue;
    }
    perChain[n] = xs.map((x) => ({ atSec: x.unixSec - shift, baseFeeWei: x.baseFeeWei }));
    const end = xs[xs.length - 1]!.unixSec - shift;
    if (end < durationSec - Number(DAY)) notes.push(`gas history of ${n} ends at ${iso(xs[xs.length - 1]!.unixSec)}, day ${Math.floor(end / Number(DAY))} of ${a.days.length}: its last base fee is held after`);
  }
  if (missing.length > 0) {
    const syn = syntheticGasHistory(missing, durationSec);
    Object.assign(perChain, syn.perChain);
    notes.push(`no gas history for ${missing.join(', ')} in ${file.file}: SYNTHETIC series for them`);
  }
  return {
    source: missing.length > 0 ? `${file.file}; SYNTHETIC gas history for ${missing.join(', ')}` : file.file,
    synthetic: missing.length > 0,
    perChain,
    notes,
  };
}

/** The fixtures' assets (see {@link loadBacktestAssets}). */
function loadFixtureAssets(opts: LoadOptions): { assets: BacktestAsset[]; notes: string[] } {
  const wanted = opts.symbols ?? FIXTURE_SYMBOLS;
  const unknown = wanted.filter((x) => !(FIXTURE_SYMBOLS as readonly string[]).includes(x));
  if (unknown.length === wanted.length) {
    throw new BacktestDataError(`backtest: --symbol ${wanted.join(',')}: the fixtures' assets are ${FIXTURE_SYMBOLS.join(', ')} (other symbols need --history FILE)`);
  }
  const wantUsdc = wanted.includes('USDC');
  const wantSteth = wanted.includes('stETH');
  const aaveFile = fixturePath(AAVE_RATES_FIXTURE);
  const ethUsd = loadFeedHistory('eth_usd', ETH_USD_DECIMALS);
  const stEth = loadFeedHistory('steth_eth', STETH_ETH_DECIMALS);
  const missing = [
    ...(aaveFile ? [] : [path.join(fixturesDir(), AAVE_RATES_FIXTURE)]),
    ...(ethUsd ? [] : [path.join(fixturesDir(), PRICES_FIXTURE_DIR, 'eth_usd_*.csv')]),
  ];
  const notes: string[] = unknown.length > 0 ? [`--symbol: ${unknown.join(', ')} not among the fixtures' assets (${FIXTURE_SYMBOLS.join(', ')}): left out`] : [];
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

  // Only the wanted assets' histories (each symbol's replay is seeded on its own: the others do not change it).
  const replaySymbols = [...(wantUsdc ? [{ symbol: 'USDC', decimals: 6 }] : []), ...(wantSteth ? [{ symbol: 'WETH', decimals: 18 }] : [])];
  const replay = aaveFile ? loadReplay(replaySymbols, maxDays) : undefined;
  const replayed = replay && 'assets' in replay ? replay.assets : [];
  const usdc = replayed.find((a) => a.symbol === 'USDC');
  if (!wantUsdc) {
    // not asked for (--symbol)
  } else if (usdc) {
    const days = Math.min(usdc.paths.days.length, feedDays(usdFeed), maxDays);
    assets.push(
      trim(
        {
          symbol: 'USDC',
          label: `USDC: utilization and supply rate of USDC from ${aaveFile}, ETH/USD rounds from ${usdFeed.file} for oracle checks and fee conversion`,
          decimals: 6,
          demandSymbol: 'USDC',
          networks: usdc.networks,
          days: usdc.paths.days,
          paths: usdc.paths.paths,
          supplyRate: fixtureRates(aaveFile!, 'USDC', usdc.paths.reserves, usdc.paths.days),
          sources: { history: aaveFile!, prices: usdFeed.file },
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
          label: `USDC (SYNTHETIC utilization and supply rate: ${u.note})`,
          decimals: 6,
          demandSymbol: 'USDC',
          networks,
          days: u.days,
          paths: u.paths,
          supplyRate: syntheticRates(u.paths),
          sources: { history: `SYNTHETIC (${u.note})`, prices: usdFeed.file },
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
  if (!wantSteth) {
    // not asked for (--symbol)
  } else if (!stEth) notes.push(`stETH asset left out: no prices/steth_eth_*.csv under ${fixturesDir()}`);
  else if (!weth) notes.push('stETH asset left out: no Aave v3 WETH utilization history to drive its demand');
  else {
    const feed = feedReplay('stETH/ETH', stEth.file, stEth.decimals, stEth.rounds, STETH_ETH_LIMITS, { kind: 'eth-per-token' });
    const sizes = new Map([...weth.sizes].map(([n, s]) => [n, s / 1000n]));
    assets.push(
      trim(
        {
          symbol: 'stETH',
          label:
            `stETH (depeg-sensitive): value in ETH from the stETH/ETH rounds of ${stEth.file}, oracle checks on that feed; ` +
            `borrow demand and supply rate from the WETH rows of ${aaveFile} (no wstETH utilization there); vault sizes = the bench's WETH sizes ÷ 1000`,
          decimals: 18,
          demandSymbol: 'WETH',
          networks: weth.networks,
          days: weth.paths.days,
          paths: weth.paths.paths,
          supplyRate: fixtureRates(aaveFile!, 'WETH', weth.paths.reserves, weth.paths.days),
          sources: { history: aaveFile!, prices: feed.file },
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
  const cut = (r: Record<string, bigint[]>): Record<string, bigint[]> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.slice(0, days)]));
  return { ...a, days: a.days.slice(0, days), paths: cut(a.paths), supplyRate: cut(a.supplyRate) };
}

/** Supply rates (RAY) of the fixture's rows for the reserves and days the utilization loader chose. */
function fixtureRates(file: string, symbol: string, reserves: Record<string, string>, days: readonly string[]): Record<string, bigint[]> {
  return alignObservations(readObservations(file, [symbol]), symbol, reserves, days).supplyRate;
}

/**
 * A labelled synthetic supply rate for a synthetic utilization path (`--synthetic` runs only), Aave's shape:
 * supply rate = borrow rate × u × 0.9 (reserve factor 10%), borrow rate = 5%/yr × u / 0.9.
 */
function syntheticRates(paths: Record<string, bigint[]>): Record<string, bigint[]> {
  const RAY = 10n ** 27n;
  const borrow = (u: bigint): bigint => (5n * RAY * u) / 100n / ((WAD * 9n) / 10n);
  return Object.fromEntries(Object.entries(paths).map(([n, p]) => [n, p.map((u) => (((borrow(u) * u) / WAD) * 9n) / 10n)]));
}

/** Decimals of well-known symbols of a `--history` file; any other symbol is taken as 18 decimals. */
export const KNOWN_DECIMALS: Readonly<Record<string, number>> = { USDC: 6, 'USDC.e': 6, USDbC: 6, USDT: 6, USDT0: 6, PYUSD: 6, EURC: 6, WBTC: 8, cbBTC: 8 };
/** Symbols of a `--history` file valued as 1 ETH per token (fees converted from wei 1:1); any other is valued as 1 USD. */
export const ETH_PEGGED: ReadonlySet<string> = new Set(['WETH', 'ETH', 'stETH', 'wstETH', 'weETH', 'cbETH', 'rETH', 'ezETH']);

/**
 * Assets of a history CSV (backtest/csv.ts): every symbol with ≥ 2 networks (or `opts.symbols`), vault sizes
 * seeded per symbol (5M–100M tokens, as the bench's), the bench's band 75–85%, buffer 2%, window 25%/day,
 * per transfer 10%, minTransfer 1000 tokens for a token of ≤ 6 decimals and 1 token otherwise. Oracle: the rounds
 * of `opts.pricesFile` (else the fixtures' ETH/USD, else a labelled synthetic ETH/USD) with ETH/USD's limits;
 * when the feed covers the history's first day the two are replayed on one clock (feed origin = that day
 * 00:00 UTC), else each from its own start. Fee conversion: ETH-pegged symbols ({@link ETH_PEGGED}) at 1 ETH per
 * token, others at 1 USD per token through the feed's ETH/USD answer.
 * @throws {HistoryFormatError} for a malformed file; {@link BacktestDataError} when no symbol has ≥ 2 networks
 *   with a common day, or the feed covers no whole day.
 */
function loadCsvAssets(file: string, opts: LoadOptions): { assets: BacktestAsset[]; notes: string[] } {
  const abs = path.resolve(file);
  const histories = loadRateHistory(abs, { symbols: opts.symbols });
  if (histories.length === 0) {
    throw new BacktestDataError(
      `backtest: ${abs} has no symbol${opts.symbols ? ` among ${opts.symbols.join(', ')}` : ''} with ≥ 2 networks sharing a day of utilization and supply rate (shape: README, "backtest")`,
    );
  }
  const notes: string[] = [];
  let rounds: PriceRound[];
  let pricesFile: string;
  let decimals = opts.priceDecimals ?? ETH_USD_DECIMALS;
  if (opts.pricesFile !== undefined) {
    pricesFile = path.resolve(opts.pricesFile);
    rounds = loadPriceCsv(pricesFile);
  } else {
    const eth = loadFeedHistory('eth_usd', ETH_USD_DECIMALS);
    if (eth) ({ rounds, file: pricesFile, decimals } = eth);
    else {
      const s = syntheticEthUsd();
      ({ rounds, file: pricesFile, decimals } = s);
      notes.push(`SYNTHETIC ETH/USD: ${s.file}`);
    }
  }
  const assets: BacktestAsset[] = [];
  for (const h of histories) {
    const firstDaySec = /^\d{4}-\d{2}-\d{2}$/.test(h.days[0]!) ? BigInt(Date.parse(`${h.days[0]}T00:00:00Z`) / 1000) : undefined;
    const pegged = ETH_PEGGED.has(h.symbol);
    const conversion: FeeConversion = pegged ? { kind: 'eth-pegged' } : { kind: 'usd-per-eth' };
    const probe = feedReplay('ETH/USD', pricesFile, decimals, rounds, ETH_USD_LIMITS, conversion);
    const aligned = firstDaySec !== undefined && probe.publishedSec.some((p) => p >= 0n && p <= firstDaySec) && probe.lastPublishedSec > firstDaySec;
    const feed = aligned ? feedReplay('ETH/USD', pricesFile, decimals, rounds, ETH_USD_LIMITS, conversion, firstDaySec) : probe;
    const dec = KNOWN_DECIMALS[h.symbol] ?? 18;
    const rng = mulberry32(seedOf(`history/${h.symbol}`));
    const sizes = new Map(h.networks.map((n) => [n, tokens(5e6 + rng() * 95e6, dec)]));
    const minTransfer = tokens(dec <= 6 ? 1000 : 1, dec);
    const days = Math.min(h.days.length, feedDays(feed), opts.days ?? 100_000);
    if (days < 1) throw new BacktestDataError(`backtest: the price feed ${pricesFile} covers no whole day from ${aligned ? h.days[0] : 'its first round'}`);
    const assetNotes = [
      ...(h.skipped.length > 0 ? [`networks left out (too little history): ${h.skipped.join(', ')}`] : []),
      ...(h.clamped > 0 ? [`${h.clamped} utilization value(s) clamped to [0, 0.99]`] : []),
      aligned ? `history and prices on one clock from ${h.days[0]}` : `prices replayed from their own first day (they do not cover ${h.days[0]})`,
      pegged ? `${h.symbol} valued at 1 ETH per token for fees` : `${h.symbol} valued at 1 USD per token for fees`,
    ];
    assets.push(
      trim(
        {
          symbol: h.symbol,
          label: `${h.symbol}: utilization and supply rate from ${abs}, price rounds from ${pricesFile}`,
          decimals: dec,
          demandSymbol: h.symbol,
          networks: h.networks,
          days: h.days,
          paths: h.utilization,
          supplyRate: h.supplyRate,
          sources: { history: abs, prices: pricesFile },
          sizes,
          policies: h.networks.map((n) => benchPolicy(n, sizes.get(n)!, [75, 85], minTransfer)),
          feed,
          source: 'fixture',
          notes: assetNotes,
        },
        days,
      ),
    );
  }
  return { assets, notes };
}


function syntheticEthUsd(): FeedReplay {
  const valid = loadPriceRounds();
  const invalid = loadInvalidRounds();
  const rounds = [...valid.rounds, ...invalid.rounds].sort((a, b) => (a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0));
  return feedReplay('ETH/USD', `SYNTHETIC (${valid.note})`, valid.decimals, rounds, ETH_USD_LIMITS, { kind: 'usd-per-eth' });
}
