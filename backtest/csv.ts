/**
 * The backtest's documented input shapes (README, "backtest"): a lending-rate history CSV and a Chainlink
 * price-round CSV. Any file in these shapes runs through `ballast backtest --history FILE [--prices FILE]`;
 * the fixtures' Aave v3 file (`lending/aave_v3_daily_rates_13chains.csv`) is one such file.
 *
 * History CSV (comma-separated, header row, no quoted fields; extra columns are ignored):
 * | column                                   | meaning                                                                  |
 * |------------------------------------------|--------------------------------------------------------------------------|
 * | `date` (YYYY-MM-DD) or `timestamp`       | the observation's UTC day; `timestamp` = unix seconds or an ISO date-time |
 * | `network`                                | chain key (one of backtest/model.ts CHAIN_PARAMS: `arbitrum`, `base`, …)   |
 * | `symbol`                                 | asset symbol (exact match: `USDC.e` is not `USDC`)                         |
 * | `utilization` or `implied_utilization`   | borrowed / supplied of the market, a decimal fraction (`0.8123`)           |
 * | `liquidity_rate` or `supply_rate`        | the market's supply APR as a decimal fraction (`0.0412` = 4.12%/yr), as Aave's `currentLiquidityRate` / 1e27 |
 * | `asset_address` (optional)               | reserve id: per (network, symbol) the reserve with the most rows is used (ties: smallest) |
 * | `snapshot_time` (optional)               | several rows of one day: the latest snapshot wins (else the later row)     |
 *
 * Rows with an empty utilization or rate are skipped. Only days present for every network of a symbol are kept
 * (oldest first); utilization is clamped to [0, 0.99] (as devnet/marketData.ts does), a negative rate is an error.
 * Rates are kept in RAY (1e27 = 100%/yr) and utilization in WAD, parsed from the decimal text without floats.
 *
 * Price CSV (Chainlink `getRoundData` shape): columns `roundId`, `answer`, `startedAt`, `updatedAt`,
 * `answeredInRound` (integers; the fixtures' `round`, `start`, `update` names are accepted too), any row order.
 * Decimals are not in the file: the caller passes them (`--price-decimals`, default 8 as ETH/USD).
 *
 * Gas history CSV (`--gas-history FILE`; comma-separated, header row, extra columns ignored, any row order):
 * | column                             | meaning                                                                        |
 * |------------------------------------|--------------------------------------------------------------------------------|
 * | `timestamp` or `date`              | when: unix seconds or an ISO date-time (`timestamp`), or a UTC day `YYYY-MM-DD` (`date`, taken at 00:00 UTC) |
 * | `network`                          | chain key (as the history's: `ethereum`, `arbitrum`, …)                          |
 * | `base_fee_gwei`                    | the block base fee in ETH-EQUIVALENT gwei per gas, a decimal (`23.5`, `0.012`); for a chain whose gas token is not ETH, the ETH value of its gas (base fee × token/ETH price) |
 *
 * Each value holds until the network's next sample. At most 9 decimals (1 wei); a negative or malformed value is an
 * error; two rows of one network at one time: the later row wins.
 */
import fs from 'node:fs';
import { decimalToWad, MAX_REPLAY_UTILIZATION_WAD, type PriceRound } from '../devnet/marketData.js';

/** 1e27: Aave's RAY, the unit of supply rates here (a rate of 1 RAY = 100% per year). */
export const RAY = 10n ** 27n;

/** One symbol's aligned daily history. */
export interface RateHistory {
  symbol: string;
  /** Networks with a usable history (sorted). */
  networks: string[];
  /** Networks left out, with why (too few days, no rows). */
  skipped: string[];
  /** ISO dates, oldest first, common to every network of {@link networks}. */
  days: string[];
  /** network → utilization per day (WAD, in [0, 0.99 WAD]). */
  utilization: Record<string, bigint[]>;
  /** network → supply APR per day (RAY). */
  supplyRate: Record<string, bigint[]>;
  /** network → reserve id used (`asset_address`, or `-` when the file has none). */
  reserves: Record<string, string>;
  clamped: number;
}

/** Thrown for a malformed history or price file (the message names the file and line). */
export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

interface Row {
  line: number;
  get(col: string): string;
}

/** Header + rows of a simple CSV; quoted fields are refused rather than misread. */
function readTable(file: string): { header: string[]; rows: Row[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new HistoryFormatError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const index = new Map(header.map((h, i) => [h, i]));
  const rows: Row[] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '') continue;
    if (l.includes('"')) throw new HistoryFormatError(`${file}:${i + 1}: quoted CSV fields are not supported`);
    const cells = l.split(',');
    rows.push({ line: i + 1, get: (col) => (index.has(col) ? (cells[index.get(col)!] ?? '').trim() : '') });
  }
  return { header, rows };
}

/** The first of `names` present in `header`, or an error naming the accepted names. */
function column(file: string, header: readonly string[], names: readonly string[], what: string): string {
  const c = names.find((n) => header.includes(n));
  if (!c) throw new HistoryFormatError(`${file}: no ${what} column (expected one of ${names.join(', ')}); header is '${header.join(',')}'`);
  return c;
}

/** UTC day (YYYY-MM-DD) of a `date` or `timestamp` cell. */
function dayOf(file: string, line: number, col: string, v: string): string {
  if (col === 'date') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new HistoryFormatError(`${file}:${line}: date '${v}' is not YYYY-MM-DD`);
    return v;
  }
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) throw new HistoryFormatError(`${file}:${line}: timestamp '${v}' is neither unix seconds nor an ISO date-time`);
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Every symbol's daily history from a history CSV (shape: module doc).
 * @param minDays a network with fewer usable days than `min(minDays, the symbol's longest network)` is left out
 *   (listed in `skipped`); default 30, as the bench's replay.
 * @param symbols only these symbols (default: every symbol of the file).
 * @returns one {@link RateHistory} per symbol that has ≥ 2 networks left (sorted by symbol).
 * @throws {HistoryFormatError} when the file cannot be read, lacks a column, or holds a malformed value.
 */
export function loadRateHistory(file: string, opts: { minDays?: number; symbols?: readonly string[] } = {}): RateHistory[] {
  const obs = readObservations(file, opts.symbols);
  const out: RateHistory[] = [];
  for (const symbol of [...obs.bySymbol.keys()].sort()) {
    const nets = obs.bySymbol.get(symbol)!;
    const best = new Map<string, { reserve: string; days: Map<string, Observation> }>();
    for (const network of [...nets.keys()].sort()) {
      const [reserve, days] = [...nets.get(network)!.entries()].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0]!;
      best.set(network, { reserve, days });
    }
    const longest = Math.max(...[...best.values()].map((c) => c.days.size));
    const minDays = Math.min(opts.minDays ?? 30, longest);
    const skipped: string[] = [];
    for (const [network, c] of best) {
      if (c.days.size < minDays) {
        skipped.push(`${network} (${c.days.size} day(s) of ${symbol})`);
        best.delete(network);
      }
    }
    if (best.size < 2) continue;
    const reserves = Object.fromEntries([...best].map(([n, c]) => [n, c.reserve]));
    const common = [...best.values()].map((c) => new Set(c.days.keys())).reduce((acc, s) => new Set([...acc].filter((d) => s.has(d))));
    const days = [...common].sort();
    if (days.length === 0) continue;
    const { utilization, supplyRate, clamped } = alignObservations(obs, symbol, reserves, days);
    out.push({ symbol, networks: [...best.keys()].sort(), skipped, days, utilization, supplyRate, reserves, clamped });
  }
  return out;
}

/** One day's observation of one reserve: the raw cells and where they are. */
export interface Observation {
  snap: number;
  line: number;
  u: string;
  r: string;
}

/** Every usable row of a history CSV: symbol → network → reserve → UTC day → latest observation. */
export interface Observations {
  file: string;
  uCol: string;
  rCol: string;
  bySymbol: Map<string, Map<string, Map<string, Map<string, Observation>>>>;
}

/**
 * The usable rows of a history CSV (shape: module doc), one per (symbol, network, reserve, day).
 * @throws {HistoryFormatError} when the file cannot be read, lacks a column, or holds a malformed date.
 */
export function readObservations(file: string, symbols?: readonly string[]): Observations {
  const { header, rows } = readTable(file);
  const dayCol = column(file, header, ['date', 'timestamp'], 'date');
  const netCol = column(file, header, ['network'], 'network');
  const symCol = column(file, header, ['symbol'], 'symbol');
  const uCol = column(file, header, ['utilization', 'implied_utilization'], 'utilization');
  const rCol = column(file, header, ['liquidity_rate', 'supply_rate'], 'supply rate');
  const bySymbol: Observations['bySymbol'] = new Map();
  for (const row of rows) {
    const symbol = row.get(symCol);
    if (symbols && !symbols.includes(symbol)) continue;
    const u = row.get(uCol);
    const r = row.get(rCol);
    if (symbol === '' || u === '' || r === '') continue;
    const network = row.get(netCol);
    if (network === '') throw new HistoryFormatError(`${file}:${row.line}: empty network`);
    const day = dayOf(file, row.line, dayCol, row.get(dayCol));
    const reserve = (row.get('asset_address') || '-').toLowerCase();
    const snapText = row.get('snapshot_time');
    const snap = snapText === '' ? row.line : Date.parse(snapText);
    const nets = bySymbol.get(symbol) ?? new Map<string, Map<string, Map<string, Observation>>>();
    bySymbol.set(symbol, nets);
    const reserves = nets.get(network) ?? new Map<string, Map<string, Observation>>();
    nets.set(network, reserves);
    const days = reserves.get(reserve) ?? new Map<string, Observation>();
    reserves.set(reserve, days);
    const prev = days.get(day);
    if (!prev || snap >= prev.snap) days.set(day, { snap, line: row.line, u, r });
  }
  return { file, uCol, rCol, bySymbol };
}

/**
 * Utilization (WAD, clamped to [0, 0.99]) and supply rate (RAY) of `symbol` per network on `days`, from the
 * given reserve of each network. A day a network lacks takes the previous day's values (the first day: the next
 * available one); the count of such days is not an error but is returned in `filled`.
 * @throws {HistoryFormatError} when a network has no row of the reserve, or a value is malformed or a rate negative.
 */
export function alignObservations(
  obs: Observations,
  symbol: string,
  reserves: Record<string, string>,
  days: readonly string[],
): { utilization: Record<string, bigint[]>; supplyRate: Record<string, bigint[]>; clamped: number; filled: number } {
  let clamped = 0;
  let filled = 0;
  const utilization: Record<string, bigint[]> = {};
  const supplyRate: Record<string, bigint[]> = {};
  for (const [network, reserve] of Object.entries(reserves)) {
    const rows = obs.bySymbol.get(symbol)?.get(network)?.get(reserve.toLowerCase());
    if (!rows || rows.size === 0) throw new HistoryFormatError(`${obs.file}: no ${symbol} rows with ${obs.uCol} and ${obs.rCol} for ${network} reserve ${reserve}`);
    const sorted = [...rows.keys()].sort();
    utilization[network] = [];
    supplyRate[network] = [];
    for (const d of days) {
      let o = rows.get(d);
      if (!o) {
        filled++;
        const prev = sorted.filter((x) => x < d).pop() ?? sorted.find((x) => x > d)!;
        o = rows.get(prev)!;
      }
      const raw = parseDecimal(obs.file, o.line, obs.uCol, o.u);
      const v = raw < 0n ? 0n : raw > MAX_REPLAY_UTILIZATION_WAD ? MAX_REPLAY_UTILIZATION_WAD : raw;
      if (v !== raw) clamped++;
      utilization[network].push(v);
      const wad = parseDecimal(obs.file, o.line, obs.rCol, o.r);
      if (wad < 0n) throw new HistoryFormatError(`${obs.file}:${o.line}: ${obs.rCol} '${o.r}' is negative`);
      supplyRate[network].push(wad * 10n ** 9n);
    }
  }
  return { utilization, supplyRate, clamped, filled };
}

function parseDecimal(file: string, line: number, col: string, text: string): bigint {
  try {
    return decimalToWad(text, `${file}:${line} ${col}`);
  } catch (e) {
    throw new HistoryFormatError((e as Error).message);
  }
}

/**
 * Rounds of a Chainlink-shaped price CSV, in roundId order (invalid rounds kept: the replay meets them where the
 * feed had them).
 * @throws {HistoryFormatError} on a missing column, a non-integer cell or a repeated round id.
 */
export function loadPriceCsv(file: string): PriceRound[] {
  const { header, rows } = readTable(file);
  const cols = {
    roundId: column(file, header, ['roundId', 'round'], 'roundId'),
    answer: column(file, header, ['answer'], 'answer'),
    startedAt: column(file, header, ['startedAt', 'start'], 'startedAt'),
    updatedAt: column(file, header, ['updatedAt', 'update'], 'updatedAt'),
    answeredInRound: column(file, header, ['answeredInRound'], 'answeredInRound'),
  };
  const int = (row: Row, col: string): bigint => {
    const v = row.get(col);
    if (!/^-?\d+$/.test(v)) throw new HistoryFormatError(`${file}:${row.line}: ${col} '${v}' is not an integer`);
    return BigInt(v);
  };
  const rounds = rows.map((row) => ({
    roundId: int(row, cols.roundId),
    answer: int(row, cols.answer),
    startedAtSec: int(row, cols.startedAt),
    updatedAtSec: int(row, cols.updatedAt),
    answeredInRound: int(row, cols.answeredInRound),
  }));
  rounds.sort((a, b) => (a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0));
  for (let i = 1; i < rounds.length; i++) {
    if (rounds[i]!.roundId === rounds[i - 1]!.roundId) throw new HistoryFormatError(`${file}: round ${rounds[i]!.roundId} appears twice`);
  }
  if (rounds.length === 0) throw new HistoryFormatError(`${file}: no rounds`);
  return rounds;
}

/** One network's base fees from a gas history CSV: unix seconds and wei per gas, oldest first. */
export interface GasHistoryFile {
  file: string;
  /** network → samples (unix seconds, ETH-equivalent wei per gas), oldest first. */
  perNetwork: Record<string, { unixSec: number; baseFeeWei: bigint }[]>;
}

/**
 * `text` gwei (a decimal, at most 9 decimals) in wei, exactly.
 * @throws {HistoryFormatError} (naming `where`) for a malformed or negative value or more than 9 decimals.
 * @example gweiToWei('0.05', 'x') === 50_000_000n
 */
export function gweiToWei(text: string, where: string): bigint {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new HistoryFormatError(`${where}: '${text}' is not a non-negative decimal number of gwei`);
  const frac = m[2] ?? '';
  if (frac.length > 9) throw new HistoryFormatError(`${where}: '${text}' has more than 9 decimals (finer than 1 wei)`);
  return BigInt(m[1] === '' ? '0' : m[1]!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

/**
 * The base fees of a gas history CSV (shape: module doc), per network, oldest first.
 * @throws {HistoryFormatError} when the file cannot be read, lacks a column, holds a malformed time or value, or has no rows.
 */
export function loadGasCsv(file: string): GasHistoryFile {
  const { header, rows } = readTable(file);
  const timeCol = column(file, header, ['timestamp', 'date'], 'time');
  const netCol = column(file, header, ['network'], 'network');
  const feeCol = column(file, header, ['base_fee_gwei'], 'base fee');
  const byNet = new Map<string, Map<number, bigint>>();
  for (const row of rows) {
    const network = row.get(netCol);
    if (network === '') throw new HistoryFormatError(`${file}:${row.line}: empty network`);
    const v = row.get(timeCol);
    let unixSec: number;
    if (timeCol === 'date') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new HistoryFormatError(`${file}:${row.line}: date '${v}' is not YYYY-MM-DD`);
      unixSec = Date.parse(`${v}T00:00:00Z`) / 1000;
    } else {
      unixSec = /^\d+$/.test(v) ? Number(v) : Date.parse(v) / 1000;
    }
    if (!Number.isFinite(unixSec)) throw new HistoryFormatError(`${file}:${row.line}: ${timeCol} '${v}' is neither unix seconds nor an ISO date-time`);
    const wei = gweiToWei(row.get(feeCol), `${file}:${row.line} ${feeCol}`);
    const m = byNet.get(network) ?? new Map<number, bigint>();
    byNet.set(network, m);
    m.set(Math.floor(unixSec), wei);
  }
  if (byNet.size === 0) throw new HistoryFormatError(`${file}: no rows`);
  const perNetwork: GasHistoryFile['perNetwork'] = {};
  for (const [n, m] of [...byNet].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    perNetwork[n] = [...m].sort((a, b) => a[0] - b[0]).map(([unixSec, baseFeeWei]) => ({ unixSec, baseFeeWei }));
  }
  return { file, perNetwork };
}
