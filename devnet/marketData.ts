/**
 * The market driver's data: real history read at run time from the fixtures folder (see config/fixtures.ts).
 *
 * - Utilization: Aave v3 daily reserve data, `lending/aave_v3_daily_rates_13chains.csv`, column
 *   `implied_utilization` (= liquidity_rate / (variable_borrow_rate × (1 − reserve_factor)), derived and
 *   approximate; see the fixtures README). Parsed to WAD from the decimal string, no float math.
 * - Prices: Chainlink ETH/USD rounds, `prices/eth_usd_*.csv` (columns: index, round, answer, start, update,
 *   answeredInRound; answer has 8 decimals; rows newest first).
 *
 * When a file is absent, each loader returns deterministic synthetic data with `source: 'synthetic'` and a
 * `note` saying which file was not found, so a caller can (and the market driver does) print it. Nothing
 * falls back silently.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fixturePath, fixturesDir } from '../config/fixtures.js';
import { WAD } from '../planner/types.js';
import { mulberry32 } from './prng.js';

/** The PRNG as 32-bit unsigned integers (mulberry32's raw output). */
const prng = (seed: number): (() => number) => {
  const next = mulberry32(seed);
  return () => Math.floor(next() * 4294967296);
};

/** Where a data set came from. `synthetic` = generated here because the fixture file was absent. */
export type MarketDataSource = 'fixture' | 'synthetic';

/** Fixture file of Aave v3 daily reserve data, relative to the fixtures folder. */
export const AAVE_RATES_FIXTURE = 'lending/aave_v3_daily_rates_13chains.csv';
/** Fixture folder holding the Chainlink ETH/USD CSV (`eth_usd_<aggregator proxy>.csv`). */
export const PRICES_FIXTURE_DIR = 'prices';
/** Decimals of the Chainlink ETH/USD answer. */
export const ETH_USD_DECIMALS = 8;
/** Upper clamp of replayed utilization: 0.99 WAD (a market at 100% cannot be replayed as borrow demand). */
export const MAX_REPLAY_UTILIZATION_WAD = (WAD * 99n) / 100n;

/** Result of {@link loadUtilizationPaths}. */
export interface UtilizationPaths {
  source: MarketDataSource;
  /** One line for logs: where the data came from (file path or "not found … synthetic"), day count, date range. */
  note: string;
  /** Days of the replay, oldest first: ISO dates (`2025-07-22`) from the fixture, `synthetic-day-001`… otherwise. */
  days: string[];
  /** network → utilization per day (WAD, in [0, 0.99 WAD]), aligned with `days`. */
  paths: Record<string, bigint[]>;
  /** network → the reserve (asset address) the path was taken from; `synthetic` for generated paths. */
  reserves: Record<string, string>;
  /** How many values were clamped into [0, 0.99 WAD]. */
  clampedCount: number;
}

/** One Chainlink round, as `AggregatorV3Interface.getRoundData` would return it. */
export interface PriceRound {
  /** `phaseId << 64 | aggregatorRoundId`. */
  roundId: bigint;
  /** USD per ETH scaled by 1e8 ({@link ETH_USD_DECIMALS}). */
  answer: bigint;
  startedAtSec: bigint;
  updatedAtSec: bigint;
  answeredInRound: bigint;
}

/** Result of {@link loadPriceRounds} / {@link loadInvalidRounds}. */
export interface PriceRounds {
  source: MarketDataSource;
  note: string;
  decimals: number;
  /** Oldest first, `roundId` strictly increasing. */
  rounds: PriceRound[];
}

/**
 * Parses a non-negative or negative decimal string (`0.672854`, `1.0`, `6.5e-05`, `1E+2`) to a WAD bigint,
 * truncating digits past the 18th decimal. No floating point is involved.
 * @throws Error when `text` is not a decimal number (the message quotes it and `where`).
 * @example decimalToWad('0.5') === 500000000000000000n
 */
export function decimalToWad(text: string, where = 'value'): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new Error(`${where}: '${text}' is not a decimal number`);
  }
  const sign = m[1] === '-' ? -1n : 1n;
  const digits = `${m[2]}${m[3] ?? ''}`;
  // value = digits × 10^(exp − fractionLength); in WAD: × 10^18.
  const exp = Number(m[4] ?? '0');
  if (Math.abs(exp) > 1000) throw new Error(`${where}: '${text}' has an exponent out of range`);
  const shift = 18 + exp - (m[3] ?? '').length;
  const n = BigInt(digits);
  const wad = shift >= 0 ? n * 10n ** BigInt(shift) : n / 10n ** BigInt(-shift);
  return sign * wad;
}

/**
 * Per-network daily utilization paths for one symbol, from the Aave v3 fixture.
 *
 * Choice of rows, all deterministic: rows of `symbol` (exact match, so `USDC.e` is not `USDC`) with a
 * non-empty `implied_utilization`; per network the reserve (`asset_address`) with the most such rows (ties:
 * smallest address), e.g. native USDC over bridged USDC; per date the row with the latest `snapshot_time`;
 * only dates present for every network, oldest first. Values are clamped to [0, {@link MAX_REPLAY_UTILIZATION_WAD}].
 *
 * When the file is absent: a seeded mean-reverting walk per network (0.55..0.95), 365 days, `source: 'synthetic'`.
 * @throws Error when the file exists but lacks a column, has a malformed value, has no rows for a requested
 *   network (the message lists the networks that do have `symbol`), or the networks share no date.
 * @example
 *   const u = loadUtilizationPaths({ networks: ['ethereum', 'arbitrum', 'base'], symbol: 'USDC' });
 *   console.log(u.note); u.paths.base[0] // e.g. 0.73e18
 */
export function loadUtilizationPaths(opts: { networks: string[]; symbol: string }): UtilizationPaths {
  const networks = [...new Set(opts.networks)];
  if (networks.length === 0) throw new Error('loadUtilizationPaths: networks is empty; pass e.g. ["ethereum", "arbitrum", "base"]');
  const file = fixturePath(AAVE_RATES_FIXTURE);
  if (!file) return syntheticUtilization(networks, opts.symbol, path.join(fixturesDir(), AAVE_RATES_FIXTURE));

  const table = readCsv(file, ['date', 'snapshot_time', 'network', 'symbol', 'asset_address', 'implied_utilization']);
  // network -> asset -> date -> { snapshotMs, utilization text, line }
  const byNet = new Map<string, Map<string, Map<string, { snapshotMs: number; text: string; line: number }>>>();
  const networksWithSymbol = new Set<string>();
  for (const row of table.rows) {
    if (row.get('symbol') !== opts.symbol) continue;
    const network = row.get('network');
    networksWithSymbol.add(network);
    const text = row.get('implied_utilization');
    if (!networks.includes(network) || text === '') continue;
    const asset = row.get('asset_address').toLowerCase();
    const date = row.get('date');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`${file}:${row.line}: date '${date}' is not YYYY-MM-DD`);
    const snapshotMs = Date.parse(row.get('snapshot_time'));
    const assets = byNet.get(network) ?? new Map();
    byNet.set(network, assets);
    const dates = assets.get(asset) ?? new Map();
    assets.set(asset, dates);
    const prev = dates.get(date);
    if (!prev || snapshotMs > prev.snapshotMs) dates.set(date, { snapshotMs, text, line: row.line });
  }

  const chosen = new Map<string, { asset: string; dates: Map<string, { text: string; line: number }> }>();
  for (const network of networks) {
    const assets = byNet.get(network);
    if (!assets || assets.size === 0) {
      throw new Error(
        `${file}: no ${opts.symbol} rows with implied_utilization for network '${network}'. ` +
          `Networks with ${opts.symbol}: ${[...networksWithSymbol].sort().join(', ') || '(none)'}.`,
      );
    }
    const [asset, dates] = [...assets.entries()].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0]!;
    chosen.set(network, { asset, dates });
  }

  const days = [...chosen.values()]
    .map((c) => new Set(c.dates.keys()))
    .reduce((acc, s) => new Set([...acc].filter((d) => s.has(d))))
    .values();
  const sortedDays = [...days].sort();
  if (sortedDays.length === 0) throw new Error(`${file}: networks ${networks.join(', ')} share no date with ${opts.symbol} data`);

  let clampedCount = 0;
  const paths: Record<string, bigint[]> = {};
  const reserves: Record<string, string> = {};
  for (const [network, { asset, dates }] of chosen) {
    reserves[network] = asset;
    paths[network] = sortedDays.map((d) => {
      const { text, line } = dates.get(d)!;
      const raw = decimalToWad(text, `${file}:${line} implied_utilization`);
      const v = raw < 0n ? 0n : raw > MAX_REPLAY_UTILIZATION_WAD ? MAX_REPLAY_UTILIZATION_WAD : raw;
      if (v !== raw) clampedCount++;
      return v;
    });
  }
  const note =
    `Aave v3 ${opts.symbol} implied utilization from ${file}: ${sortedDays.length} days common to ${networks.join(', ')} ` +
    `(${sortedDays[0]} .. ${sortedDays[sortedDays.length - 1]}); reserves ${networks.map((n) => `${n}=${reserves[n]}`).join(', ')}; ` +
    `${clampedCount} value(s) clamped to [0, 0.99]`;
  return { source: 'fixture', note, days: sortedDays, paths, reserves, clampedCount };
}

/**
 * Chainlink ETH/USD rounds for the price replay, oldest first, with invalid rounds (answer ≤ 0, updatedAt 0, or
 * answeredInRound < roundId; the fixture's last row is a real all-zero round) left out: get those from
 * {@link loadInvalidRounds}. Reads the first `prices/eth_usd_*.csv` by name.
 *
 * When no such file exists: 2000 hourly synthetic rounds (seeded walk around 2000 USD), `source: 'synthetic'`.
 * @throws Error when the file lacks a column, holds a non-integer, or repeats a round id.
 */
export function loadPriceRounds(): PriceRounds {
  const all = loadAllPriceRounds();
  return { source: all.source, note: all.note, decimals: ETH_USD_DECIMALS, rounds: all.valid };
}

/**
 * The rounds that {@link loadPriceRounds} leaves out of the replay (oldest first), for tests of the oracle
 * checks: from the fixture, the real all-zero round; synthetic: one all-zero round, labelled as such.
 */
export function loadInvalidRounds(): PriceRounds {
  const all = loadAllPriceRounds();
  return { source: all.source, note: all.note, decimals: ETH_USD_DECIMALS, rounds: all.invalid };
}

/** True when a round would be rejected by any sane consumer: no answer, never updated, or answered in an older round. */
export function isInvalidRound(r: PriceRound): boolean {
  return r.answer <= 0n || r.updatedAtSec === 0n || r.answeredInRound < r.roundId;
}

// ---------------------------------------------------------------------------------------------------------

const priceCache = new Map<string, { source: MarketDataSource; note: string; valid: PriceRound[]; invalid: PriceRound[] }>();

function loadAllPriceRounds(): { source: MarketDataSource; note: string; valid: PriceRound[]; invalid: PriceRound[] } {
  const dir = fixturePath(PRICES_FIXTURE_DIR);
  const files = dir ? fs.readdirSync(dir).filter((f) => /^eth_usd_.*\.csv$/i.test(f)).sort() : [];
  if (!dir || files.length === 0) return syntheticPrices(path.join(fixturesDir(), PRICES_FIXTURE_DIR, 'eth_usd_*.csv'));
  const file = path.join(dir, files[0]!);
  const cached = priceCache.get(file);
  if (cached) return cached;

  const rounds = readChainlinkCsv(file);
  const valid = rounds.filter((r) => !isInvalidRound(r));
  const invalid = rounds.filter(isInvalidRound);
  if (valid.length === 0) throw new Error(`${file}: no valid round (all ${rounds.length} have answer <= 0 or updatedAt 0)`);
  const iso = (s: bigint): string => new Date(Number(s) * 1000).toISOString().slice(0, 16) + 'Z';
  const ignored = files.length > 1 ? `; ignored ${files.slice(1).join(', ')}` : '';
  const note =
    `Chainlink ETH/USD rounds from ${file}: ${valid.length} valid rounds, oldest first ` +
    `(${iso(valid[0]!.updatedAtSec)} .. ${iso(valid[valid.length - 1]!.updatedAtSec)}), ${invalid.length} invalid round(s) held out${ignored}`;
  const result = { source: 'fixture' as const, note, valid, invalid };
  priceCache.set(file, result);
  return result;
}

/** Decimals of the Chainlink stETH/ETH answer (the feed's `decimals()`; see the fixtures README). */
export const STETH_ETH_DECIMALS = 18;

/** A Chainlink feed history read from `prices/<prefix>_*.csv`: every round, invalid ones included. */
export interface FeedHistory {
  /** The CSV read (the first `<prefix>_*.csv` by name). */
  file: string;
  decimals: number;
  /** Every round of the file in `roundId` order, the invalid ones (see {@link isInvalidRound}) in their place. */
  rounds: PriceRound[];
}

/**
 * All rounds of a Chainlink feed CSV in the fixtures' `prices/` folder (e.g. prefix `eth_usd`, `steth_eth`),
 * in roundId order, invalid rounds included: for replays that must meet them where the feed had them.
 * No synthetic fallback: `undefined` when no such file exists.
 * @throws Error when the file lacks a column, holds a non-integer, or repeats a round id.
 * @example loadFeedHistory('steth_eth', STETH_ETH_DECIMALS)?.rounds.length
 */
export function loadFeedHistory(prefix: string, decimals: number): FeedHistory | undefined {
  const dir = fixturePath(PRICES_FIXTURE_DIR);
  const pattern = new RegExp(`^${prefix.replace(/[^A-Za-z0-9_]/g, '')}_.*\\.csv$`, 'i');
  const files = dir ? fs.readdirSync(dir).filter((f) => pattern.test(f)).sort() : [];
  if (!dir || files.length === 0) return undefined;
  const file = path.join(dir, files[0]!);
  return { file, decimals, rounds: readChainlinkCsv(file) };
}

/** Rounds of a Chainlink CSV (columns round, answer, start, update, answeredInRound), sorted by roundId. */
function readChainlinkCsv(file: string): PriceRound[] {
  const table = readCsv(file, ['round', 'answer', 'start', 'update', 'answeredInRound']);
  const int = (row: CsvRow, col: string): bigint => {
    const v = row.get(col);
    if (!/^-?\d+$/.test(v)) throw new Error(`${file}:${row.line}: column ${col} = '${v}' is not an integer`);
    return BigInt(v);
  };
  const rounds: PriceRound[] = table.rows.map((row) => ({
    roundId: int(row, 'round'),
    answer: int(row, 'answer'),
    startedAtSec: int(row, 'start'),
    updatedAtSec: int(row, 'update'),
    answeredInRound: int(row, 'answeredInRound'),
  }));
  rounds.sort((a, b) => (a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0));
  for (let i = 1; i < rounds.length; i++) {
    if (rounds[i]!.roundId === rounds[i - 1]!.roundId) throw new Error(`${file}: round ${rounds[i]!.roundId} appears twice`);
  }
  return rounds;
}

/** Row of {@link readCsv}: `get(col)` returns the cell ('' when the row is short); `line` is 1-based. */
interface CsvRow {
  line: number;
  get(col: string): string;
}

/**
 * Reads a simple CSV (comma-separated, no quoted commas; `"` quoting is rejected rather than misread).
 * @throws Error naming the file when a required column is missing or a line has quotes.
 */
function readCsv(file: string, required: string[]): { header: string[]; rows: CsvRow[] } {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const index = new Map(header.map((h, i) => [h, i]));
  const missing = required.filter((c) => !index.has(c));
  if (missing.length) throw new Error(`${file}: missing column(s) ${missing.join(', ')}; header is '${lines[0]}'`);
  const rows: CsvRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === '') continue;
    if (text.includes('"')) throw new Error(`${file}:${i + 1}: quoted CSV fields are not supported by this reader`);
    const cells = text.split(',');
    rows.push({ line: i + 1, get: (col) => (cells[index.get(col)!] ?? '').trim() });
  }
  return { header, rows };
}


/** FNV-1a of a string, as a seed. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const SYNTHETIC_DAYS = 365;

function syntheticUtilization(networks: string[], symbol: string, missingFile: string): UtilizationPaths {
  const days = Array.from({ length: SYNTHETIC_DAYS }, (_, i) => `synthetic-day-${String(i + 1).padStart(3, '0')}`);
  const paths: Record<string, bigint[]> = {};
  const reserves: Record<string, string> = {};
  const BPS_TO_WAD = 10n ** 14n;
  for (const network of networks) {
    // Integer walk in basis points: mean-reverting toward 8000 bps, steps of ±150 bps, bounded to 5500..9500.
    const next = prng(seedOf(`ballast-synthetic-utilization/${network}/${symbol}`));
    let bps = 6500 + (next() % 2500);
    paths[network] = days.map(() => {
      bps += (next() % 301) - 150 + Math.trunc((8000 - bps) / 20);
      bps = Math.min(9500, Math.max(5500, bps));
      return BigInt(bps) * BPS_TO_WAD;
    });
    reserves[network] = 'synthetic';
  }
  const note =
    `SYNTHETIC utilization: fixture file not found at ${missingFile}; using a deterministic seeded walk ` +
    `(${SYNTHETIC_DAYS} days, 0.55..0.95) for ${networks.join(', ')} ${symbol}, not market history`;
  return { source: 'synthetic', note, days, paths, reserves, clampedCount: 0 };
}

function syntheticPrices(missingFile: string): { source: MarketDataSource; note: string; valid: PriceRound[]; invalid: PriceRound[] } {
  const next = prng(seedOf('ballast-synthetic-eth-usd'));
  const phase = 1n << 64n;
  const startSec = 1_700_000_000n;
  let cents = 200_000; // 2000.00 USD
  const valid: PriceRound[] = [];
  for (let i = 1; i <= 2000; i++) {
    // ±0.5% per hour at most, integer cents, floor 500 USD.
    cents = Math.max(50_000, cents + Math.trunc((cents * ((next() % 101) - 50)) / 10_000));
    const roundId = phase + BigInt(i);
    const t = startSec + BigInt(i) * 3600n;
    valid.push({ roundId, answer: BigInt(cents) * 10n ** 6n, startedAtSec: t, updatedAtSec: t, answeredInRound: roundId });
  }
  const invalid: PriceRound[] = [{ roundId: phase, answer: 0n, startedAtSec: 0n, updatedAtSec: 0n, answeredInRound: phase }];
  const note =
    `SYNTHETIC ETH/USD prices: fixture file not found at ${missingFile}; using 2000 deterministic seeded hourly rounds ` +
    `around 2000 USD (8 decimals) and one synthetic all-zero invalid round, not market history`;
  return { source: 'synthetic', note, valid, invalid };
}
