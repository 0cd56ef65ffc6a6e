/**
 * Amounts in token units: the config's amount fields (`minBuffer`, `caps.*` except `windowSec`, `capacity.minMove`
 * and `maxMove`, `bridges.*.rateLimit`) accept, besides whole base units (`"250000000000"`, `250000`):
 * - `"250000 USDC"`, `"0.5 USDC"`, `"1_000_000 USDC"`: a decimal number of tokens and the asset's symbol
 *   (`asset.symbol`, case-insensitive), scaled by `asset.decimals`;
 * - `"250k"`, `"5m"`, `"1.5b"` (thousand, million, billion; optionally followed by the symbol: `"5m USDC"`): tokens.
 *
 * Conversion is exact (bigint; no floats): `"0.5 USDC"` with 6 decimals is 500000 base units; an amount finer than
 * one base unit (`"0.0000001 USDC"`) is an error, never rounded. A plain integer string stays base units, and a
 * decimal without a unit (`"0.5"`) is refused as ambiguous.
 */
import { parseAmount, type UnconvertibleAmount } from './schema.js';

/** The asset's symbol and decimals, from the config's `asset` section. */
export interface AssetUnits {
  symbol: string;
  decimals: number;
}

/** number (digits, `_` between groups, optional fraction), optional k/m/b suffix, optional symbol after a space. */
const TOKEN_AMOUNT = /^(-?)(\d+(?:_\d+)*)(?:\.(\d+))?([kmb])?(?:\s+(\S+))?$/i;
const SUFFIX_EXP: Readonly<Record<string, number>> = { k: 3, m: 6, b: 9 };

/** Whether `v` is written in token units (`"250000 USDC"`, `"5m"`, `"0.5 USDC"`), not in base units. */
export function isTokenUnits(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const m = TOKEN_AMOUNT.exec(v.trim());
  return m !== null && (m[4] !== undefined || m[5] !== undefined);
}

/** `10^decimals` base units written as tokens, e.g. 6 → `0.000001`. */
function smallest(decimals: number): string {
  return decimals === 0 ? '1' : `0.${'0'.repeat(decimals - 1)}1`;
}

/**
 * Parses an amount in base units or token units (see the module comment) into base units, exactly.
 * @param asset the asset's symbol and decimals; undefined when the config's `asset` is invalid (token units are
 *   then refused: they cannot be converted).
 * @returns the amount in base units, or a message saying why it is not one.
 * @example parseAmountWithUnits('0.5 USDC', { symbol: 'USDC', decimals: 6 }) // { ok: true, value: 500000n }
 * @example parseAmountWithUnits('5m', { symbol: 'USDC', decimals: 6 }) // { ok: true, value: 5000000000000n }
 */
export function parseAmountWithUnits(v: unknown, asset: AssetUnits | undefined): { ok: true; value: bigint } | { ok: false; message: string } {
  if (typeof v !== 'string') return parseAmount(v);
  const s = v.trim();
  if (/^-?\d+$/.test(s)) return parseAmount(s);
  const m = TOKEN_AMOUNT.exec(s);
  const forms = '"250000 USDC", "0.5 USDC", "250k", "5m" (token units) or "250000000000" (base units)';
  if (!m) return { ok: false, message: `must be an amount: ${forms.replace(/USDC/g, asset?.symbol ?? 'USDC')}` };
  const [, sign, whole, frac = '', suffix, symbol] = m as unknown as [string, string, string, string | undefined, string | undefined, string | undefined];
  if (suffix === undefined && symbol === undefined) {
    return { ok: false, message: `a decimal amount needs a unit: "${s} ${asset?.symbol ?? 'USDC'}" (token units), or write whole base units without a decimal point` };
  }
  if (asset === undefined) return { ok: false, message: 'token units need a valid asset (asset.symbol and asset.decimals); write base units or fix asset' };
  if (symbol !== undefined && symbol.toLowerCase() !== asset.symbol.toLowerCase()) {
    return { ok: false, message: `unit "${symbol}" is not the asset: amounts are in ${asset.symbol} (asset.symbol)` };
  }
  if (sign === '-') return { ok: false, message: 'must be ≥ 0' };
  const digits = BigInt(`${whole.replace(/_/g, '')}${frac}`);
  const exp = asset.decimals + (suffix ? SUFFIX_EXP[suffix.toLowerCase()]! : 0) - frac.length;
  if (exp >= 0) return { ok: true, value: digits * 10n ** BigInt(exp) };
  const div = 10n ** BigInt(-exp);
  if (digits % div !== 0n) {
    return {
      ok: false,
      message: `has more decimals than ${asset.symbol}'s ${asset.decimals} (asset.decimals): the smallest amount is ${smallest(asset.decimals)} ${asset.symbol}`,
    };
  }
  return { ok: true, value: digits / div };
}

/** Where the config holds amounts, as path patterns (`*` = every index of a list or key of an object). */
const AMOUNT_PATHS: readonly (readonly string[])[] = [
  ['chains', '*', 'minBuffer'],
  ['chains', '*', 'caps', 'maxOutflowPerWindow'],
  ['chains', '*', 'caps', 'maxTransfer'],
  ['chains', '*', 'caps', 'minTransfer'],
  ['chains', '*', 'capacity', 'minMove'],
  ['chains', '*', 'capacity', 'maxMove'],
  ['solana', 'chains', '*', 'minBuffer'],
  ['solana', 'chains', '*', 'caps', 'maxOutflowPerWindow'],
  ['solana', 'chains', '*', 'caps', 'maxTransfer'],
  ['solana', 'chains', '*', 'caps', 'minTransfer'],
  ['bridges', '*', 'rateLimit'],
];

/** The raw config's `asset`, when it is valid enough to convert token units with. */
function assetOf(raw: unknown): AssetUnits | undefined {
  const a = (raw as { asset?: { symbol?: unknown; decimals?: unknown } } | null)?.asset;
  if (typeof a?.symbol !== 'string' || a.symbol.length === 0) return undefined;
  if (typeof a.decimals !== 'number' || !Number.isInteger(a.decimals) || a.decimals < 0 || a.decimals > 36) return undefined;
  return { symbol: a.symbol, decimals: a.decimals };
}

/** A problem found while converting amounts: the path of the amount and why. */
export interface AmountIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Rewrites every token-unit amount of a raw config (as read from YAML/JSON) into a string of base units, using the
 * raw config's own `asset`. Values in base units and everything else are left as written (the schema checks them);
 * an amount that cannot be converted becomes an {@link UnconvertibleAmount} the schema reports at its path.
 * @returns a copy of `raw` with the conversions, and one issue per amount that could not be converted.
 * @example convertAmounts({ asset: { symbol: 'USDC', decimals: 6 }, chains: [{ minBuffer: '10k' }] }).value
 *   // { asset: …, chains: [{ minBuffer: '10000000000' }] }
 */
export function convertAmounts(raw: unknown): { value: unknown; issues: AmountIssue[] } {
  const asset = assetOf(raw);
  const issues: AmountIssue[] = [];
  const visit = (node: unknown, pattern: readonly string[], at: PropertyKey[]): unknown => {
    if (pattern.length === 0) {
      if (!isTokenUnits(node)) return node;
      const r = parseAmountWithUnits(node, asset);
      if (r.ok) return r.value.toString();
      issues.push({ path: at, message: r.message });
      return { unconvertibleAmount: r.message } satisfies UnconvertibleAmount;
    }
    const [head, ...rest] = pattern as [string, ...string[]];
    if (Array.isArray(node)) {
      if (head !== '*') return node;
      return node.map((x, i) => visit(x, rest, [...at, i]));
    }
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const keys = head === '*' ? Object.keys(obj) : Object.prototype.hasOwnProperty.call(obj, head) ? [head] : [];
    if (keys.length === 0) return node;
    const copy: Record<string, unknown> = { ...obj };
    for (const k of keys) copy[k] = visit(obj[k], rest, [...at, k]);
    return copy;
  };
  let value = raw;
  for (const p of AMOUNT_PATHS) value = visit(value, p, []);
  return { value, issues };
}
