/**
 * Pyth `PriceUpdateV2` accounts on Solana (the Pyth Solana Receiver's "pull" price accounts): decode, encode (for the
 * devnet) and a freshness / confidence check.
 *
 * Layout source: Pyth's published Anchor IDL of the receiver program,
 * `@pythnetwork/pyth-solana-receiver/lib/idl/pyth_solana_receiver.json` (account `priceUpdateV2`, types
 * `VerificationLevel`, `PriceFeedMessage`), coded with Anchor's Borsh coder (`@coral-xyz/anchor` 0.29). See also
 * https://docs.pyth.network/price-feeds/use-real-time-data/solana and the Rust struct `PriceUpdateV2` in
 * pyth-crosschain `target_chains/solana/pyth_solana_receiver_sdk/src/price_update.rs`:
 * ```
 * discriminator[8] = sha256("account:PriceUpdateV2")[0..8] = 22f123639d7ef4cd
 * write_authority Pubkey | verification_level enum { Partial { num_signatures u8 } = 0, Full = 1 }
 * | price_message { feed_id [u8;32], price i64, conf u64, exponent i32, publish_time i64, prev_publish_time i64,
 *                   ema_price i64, ema_conf u64 }
 * | posted_slot u64
 * ```
 * Borsh, little-endian. The account is allocated `PriceUpdateV2::LEN` = 134 bytes; a `Full` account uses 133 of
 * them (the last byte is unused).
 *
 * The package root of `@pythnetwork/pyth-solana-receiver` crashes on Node 20: only its IDL JSON file is loaded.
 */
import { createRequire } from 'node:module';
import anchor, { BorshAccountsCoder, BorshCoder, type Idl } from '@coral-xyz/anchor';
import { PublicKey } from '@solana/web3.js';

export { PYTH_RECEIVER_PROGRAM_ID } from './programs.js';

/** Size in bytes of a `PriceUpdateV2` account (`PriceUpdateV2::LEN` in the Pyth receiver SDK). */
export const PRICE_UPDATE_V2_LEN = 134;

/** The account's name in Pyth's IDL (Anchor camelCases it; the discriminator hashes `account:PriceUpdateV2`). */
const ACCOUNT = 'priceUpdateV2';

/** `BN` is re-exported by anchor's CommonJS build through a getter Node's ESM loader cannot see: take it off the default. */
const { BN } = anchor;
type BN = InstanceType<typeof BN>;

const require = createRequire(import.meta.url);
const IDL = require('@pythnetwork/pyth-solana-receiver/lib/idl/pyth_solana_receiver.json') as Idl;
const accountsCoder = new BorshAccountsCoder(IDL);
/**
 * Anchor 0.29's `BorshAccountsCoder.encode` is async (for no reason: its body is synchronous). To encode synchronously
 * the IDL's own `priceUpdateV2` struct is also registered as a type of a `BorshCoder`, whose types coder is sync: the
 * same `IdlCoder.typeDefLayout` of the same IDL definition, so the same bytes (checked by test/unit/pyth.test.ts
 * against real accounts and against `BorshAccountsCoder.encode`).
 */
const typesCoder = new BorshCoder({
  ...IDL,
  types: [...(IDL.types ?? []), ...(IDL.accounts ?? []).filter((a) => a.name === ACCOUNT)],
}).types;
const DISCRIMINATOR = BorshAccountsCoder.accountDiscriminator(ACCOUNT);
/** Other accounts of the receiver program, to name them when handed in by mistake. */
const OTHER_ACCOUNTS = (IDL.accounts ?? []).filter((a) => a.name !== ACCOUNT).map((a) => ({ name: a.name, disc: BorshAccountsCoder.accountDiscriminator(a.name) }));

/**
 * How many Wormhole guardian signatures the receiver checked when the update was posted. `Full`: a guardian quorum.
 * `Partial`: only `numSignatures` (at least the receiver config's `minimum_signatures`), not a quorum.
 */
export type VerificationLevel = { kind: 'Full' } | { kind: 'Partial'; numSignatures: number };

/**
 * A decoded `PriceUpdateV2` account. The price is `price × 10^exponent` (e.g. price 100000132, exponent -8 =
 * 1.00000132 USD); `conf`, `emaPrice`, `emaConf` use the same exponent. Times are unix seconds (the Pythnet publish
 * time, not the Solana slot time); `postedSlot` is the Solana slot at which the update was posted.
 */
export interface PriceUpdateV2 {
  /** Who may overwrite the account (base58 public key). */
  writeAuthority: string;
  verificationLevel: VerificationLevel;
  /** The Pyth price feed id, 0x + 64 hex lowercase (32 bytes). */
  feedId: `0x${string}`;
  /** i64, in units of 10^exponent. */
  price: bigint;
  /** u64 confidence interval, in units of 10^exponent. */
  conf: bigint;
  /** i32 power of ten, usually negative. */
  exponent: number;
  /** i64 unix seconds. */
  publishTimeSec: bigint;
  /** i64 unix seconds of the previous price update of the feed. */
  prevPublishTimeSec: bigint;
  /** i64 exponentially-weighted moving average price, in units of 10^exponent. */
  emaPrice: bigint;
  /** u64 EMA confidence, in units of 10^exponent. */
  emaConf: bigint;
  /** u64 Solana slot. */
  postedSlot: bigint;
}

/** Thrown by {@link decodePriceUpdateV2} when the data is not a `PriceUpdateV2` account; the message says why. */
export class PythDecodeError extends Error {
  override name = 'PythDecodeError';
}

/** Anchor's decoded shape of the IDL's `priceUpdateV2` account. */
interface AnchorPriceUpdateV2 {
  writeAuthority: PublicKey;
  verificationLevel: { partial: { numSignatures: number } } | { full: Record<string, never> };
  priceMessage: {
    feedId: number[];
    price: BN;
    conf: BN;
    exponent: number;
    publishTime: BN;
    prevPublishTime: BN;
    emaPrice: BN;
    emaConf: BN;
  };
  postedSlot: BN;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const big = (x: BN): bigint => BigInt(x.toString());

/**
 * Decodes the data of a Pyth `PriceUpdateV2` account (layout: see the module comment).
 * @param data the account data (134 bytes for an account on chain; 133 is accepted for `Full`, whose last byte is
 *   unused).
 * @returns the decoded account, prices in units of 10^exponent, times in unix seconds.
 * @throws {PythDecodeError} when the discriminator is not `PriceUpdateV2`'s (naming the receiver's other account type
 *   if it is one), the verification level tag is not 0 or 1, or the length is wrong (truncated or longer than 134).
 * @example
 *   const u = decodePriceUpdateV2(Buffer.from(accountInfo.data)); // u.price * 10n ** ... with u.exponent
 */
export function decodePriceUpdateV2(data: Uint8Array): PriceUpdateV2 {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 8) {
    throw new PythDecodeError(`not a Pyth PriceUpdateV2 account: ${buf.length} bytes, too short for even the 8-byte discriminator (a PriceUpdateV2 account is ${PRICE_UPDATE_V2_LEN} bytes)`);
  }
  const disc = buf.subarray(0, 8);
  if (!disc.equals(DISCRIMINATOR)) {
    const other = OTHER_ACCOUNTS.find((a) => a.disc.equals(disc));
    throw new PythDecodeError(
      other
        ? `not a PriceUpdateV2: the discriminator ${hex(disc)} is the Pyth receiver's "${other.name}" account`
        : `not a Pyth PriceUpdateV2 account: wrong discriminator ${hex(disc)}, expected ${hex(DISCRIMINATOR)} (sha256("account:PriceUpdateV2")[0..8])`,
    );
  }
  if (buf.length < 41) throw new PythDecodeError(`PriceUpdateV2 truncated: ${buf.length} bytes, the verification level tag is at byte 40 (an account is ${PRICE_UPDATE_V2_LEN} bytes)`);
  const tag = buf[40];
  if (tag !== 0 && tag !== 1) throw new PythDecodeError(`not a valid PriceUpdateV2: verification level tag ${tag} at byte 40, expected 0 (Partial) or 1 (Full)`);
  const needed = tag === 0 ? PRICE_UPDATE_V2_LEN : PRICE_UPDATE_V2_LEN - 1;
  if (buf.length < needed) {
    throw new PythDecodeError(`PriceUpdateV2 truncated: ${buf.length} bytes, a ${tag === 0 ? 'Partial' : 'Full'}-verified update needs ${needed} (the account is ${PRICE_UPDATE_V2_LEN})`);
  }
  if (buf.length > PRICE_UPDATE_V2_LEN) {
    throw new PythDecodeError(`not a Pyth PriceUpdateV2 account: ${buf.length} bytes, longer than PriceUpdateV2::LEN = ${PRICE_UPDATE_V2_LEN}`);
  }
  let a: AnchorPriceUpdateV2;
  try {
    a = accountsCoder.decode<AnchorPriceUpdateV2>(ACCOUNT, buf);
  } catch (err) {
    throw new PythDecodeError(`PriceUpdateV2 does not decode with the Pyth receiver IDL: ${(err as Error).message}`);
  }
  const m = a.priceMessage;
  return {
    writeAuthority: a.writeAuthority.toBase58(),
    verificationLevel: 'partial' in a.verificationLevel ? { kind: 'Partial', numSignatures: a.verificationLevel.partial.numSignatures } : { kind: 'Full' },
    feedId: `0x${hex(Uint8Array.from(m.feedId))}`,
    price: big(m.price),
    conf: big(m.conf),
    exponent: m.exponent,
    publishTimeSec: big(m.publishTime),
    prevPublishTimeSec: big(m.prevPublishTime),
    emaPrice: big(m.emaPrice),
    emaConf: big(m.emaConf),
    postedSlot: big(a.postedSlot),
  };
}

const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const U64 = { min: 0n, max: (1n << 64n) - 1n };
function inRange(name: string, v: bigint, r: { min: bigint; max: bigint }, what: string): BN {
  if (typeof v !== 'bigint' || v < r.min || v > r.max) throw new RangeError(`PriceUpdateV2.${name} = ${String(v)} does not fit ${what} (${r.min}..${r.max})`);
  return new BN(v.toString());
}

/**
 * Encodes a `PriceUpdateV2` as the account's data: the 134 bytes a real account holds (a `Full` update leaves the
 * last byte zero), through Pyth's IDL and Anchor's Borsh coder. `decodePriceUpdateV2(encodePriceUpdateV2(u))`
 * deep-equals `u`. Used by the devnet to write a price account.
 * @throws {RangeError} when a field does not fit its Borsh type (i64, u64, i32, u8), the feed id is not 0x + 64 hex,
 *   or the write authority is not a base58 32-byte public key.
 */
export function encodePriceUpdateV2(u: PriceUpdateV2): Buffer {
  if (!/^0x[0-9a-fA-F]{64}$/.test(u.feedId)) throw new RangeError(`PriceUpdateV2.feedId must be 0x + 64 hex (32 bytes), got "${u.feedId}"`);
  if (!Number.isInteger(u.exponent) || u.exponent < -(2 ** 31) || u.exponent >= 2 ** 31) throw new RangeError(`PriceUpdateV2.exponent = ${u.exponent} is not an i32`);
  const v = u.verificationLevel;
  if (v.kind === 'Partial' && (!Number.isInteger(v.numSignatures) || v.numSignatures < 0 || v.numSignatures > 255)) {
    throw new RangeError(`PriceUpdateV2.verificationLevel.numSignatures = ${v.numSignatures} is not a u8`);
  }
  let writeAuthority: PublicKey;
  try {
    writeAuthority = new PublicKey(u.writeAuthority);
  } catch {
    throw new RangeError(`PriceUpdateV2.writeAuthority "${u.writeAuthority}" is not a base58 32-byte public key`);
  }
  const account: AnchorPriceUpdateV2 = {
    writeAuthority,
    verificationLevel: v.kind === 'Partial' ? { partial: { numSignatures: v.numSignatures } } : { full: {} },
    priceMessage: {
      feedId: [...Buffer.from(u.feedId.slice(2), 'hex')],
      price: inRange('price', u.price, I64, 'i64'),
      conf: inRange('conf', u.conf, U64, 'u64'),
      exponent: u.exponent,
      publishTime: inRange('publishTimeSec', u.publishTimeSec, I64, 'i64'),
      prevPublishTime: inRange('prevPublishTimeSec', u.prevPublishTimeSec, I64, 'i64'),
      emaPrice: inRange('emaPrice', u.emaPrice, I64, 'i64'),
      emaConf: inRange('emaConf', u.emaConf, U64, 'u64'),
    },
    postedSlot: inRange('postedSlot', u.postedSlot, U64, 'u64'),
  };
  const out = Buffer.alloc(PRICE_UPDATE_V2_LEN);
  DISCRIMINATOR.copy(out, 0);
  typesCoder.encode(ACCOUNT, account).copy(out, 8);
  return out;
}

/**
 * Formats `value × 10^exponent` exactly as a decimal string (string arithmetic, no floats), with exactly
 * `-exponent` fraction digits when the exponent is negative.
 * @example formatPythDecimal(100000132n, -8) === '1.00000132'; formatPythDecimal(-5n, -3) === '-0.005';
 *   formatPythDecimal(12n, 2) === '1200'
 */
export function formatPythDecimal(value: bigint, exponent: number): string {
  const neg = value < 0n;
  const digits = (neg ? -value : value).toString();
  let s: string;
  if (exponent >= 0) s = value === 0n ? '0' : digits + '0'.repeat(exponent);
  else {
    const places = -exponent;
    const padded = digits.padStart(places + 1, '0');
    s = `${padded.slice(0, padded.length - places)}.${padded.slice(padded.length - places)}`;
  }
  return neg ? `-${s}` : s;
}

/** How far in the future (seconds) a publish time may be before {@link checkPythPrice} refuses it (clock skew). */
export const MAX_FUTURE_SKEW_SEC = 60n;

/**
 * Whether a price update may be used: verification `Full`, price > 0, publish time at most `maxStalenessSec` old and
 * at most 60 s in the future, and conf / price ≤ `maxConfBps` / 10 000 (integer math: conf × 10 000 ≤ maxConfBps ×
 * price). Boundaries are accepted (age = maxStalenessSec, age = −60 s, conf exactly at maxConfBps).
 * @param u the decoded update.
 * @param nowSec the current time, unix seconds.
 * @param limits `maxStalenessSec` (seconds) and `maxConfBps` (basis points), non-negative integers.
 * @returns `ok` with `ageSec` = nowSec − publishTimeSec (negative when published in the future), or `ok: false`
 *   with every failed rule in `reason` (joined by "; ").
 * @throws {RangeError} when a limit is not a non-negative integer.
 */
export function checkPythPrice(
  u: PriceUpdateV2,
  nowSec: bigint,
  limits: { maxStalenessSec: number; maxConfBps: number },
): { ok: true; ageSec: bigint } | { ok: false; reason: string; ageSec: bigint } {
  for (const k of ['maxStalenessSec', 'maxConfBps'] as const) {
    if (!Number.isSafeInteger(limits[k]) || limits[k] < 0) throw new RangeError(`checkPythPrice: limits.${k} must be a non-negative integer, got ${limits[k]}`);
  }
  const ageSec = nowSec - u.publishTimeSec;
  const reasons: string[] = [];
  const feed = `Pyth feed ${u.feedId}`;
  if (u.verificationLevel.kind === 'Partial') {
    reasons.push(`${feed}: verification level Partial (${u.verificationLevel.numSignatures} guardian signatures checked), Full (a guardian quorum) required; post the update with full verification`);
  }
  if (u.price <= 0n) reasons.push(`${feed}: price ${u.price} (×10^${u.exponent}) is not positive`);
  const maxAge = BigInt(limits.maxStalenessSec);
  if (ageSec > maxAge) reasons.push(`${feed}: stale, published at ${u.publishTimeSec}, ${ageSec} s before now ${nowSec} (max ${maxAge} s)`);
  if (ageSec < -MAX_FUTURE_SKEW_SEC) reasons.push(`${feed}: publish time ${u.publishTimeSec} is ${-ageSec} s in the future of now ${nowSec} (max ${MAX_FUTURE_SKEW_SEC} s of clock skew)`);
  if (u.price > 0n && u.conf * 10_000n > BigInt(limits.maxConfBps) * u.price) {
    reasons.push(`${feed}: confidence too wide, conf ${u.conf} / price ${u.price} = ${(u.conf * 10_000n + u.price - 1n) / u.price} bps (rounded up) > max ${limits.maxConfBps} bps`);
  }
  return reasons.length ? { ok: false, reason: reasons.join('; '), ageSec } : { ok: true, ageSec };
}
