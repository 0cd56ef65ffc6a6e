/**
 * The `BallastDevReserve` account layout (scratch/SOLANA.md, "Accounts"): Ballast's own stand-in for a lending
 * reserve's state on Solana (a real market — Kamino, Solend — has its own layout and program; not implemented).
 *
 * Borsh, little-endian, 88 bytes:
 * ```
 *  0  discriminator     [8]   sha256("account:BallastDevReserve")[0..8]  (Anchor account discriminator)
 *  8  liquidity_mint    Pubkey (32)
 * 40  liquidity_supply  Pubkey (32)   the SPL token account holding the reserve's available liquidity
 * 72  borrowed_amount   u64           base units of the mint
 * 80  last_update_slot  u64
 * ```
 */
import { createHash } from 'node:crypto';
import { blob, struct, type Layout } from '@solana/buffer-layout';
import * as layoutUtils from '@solana/buffer-layout-utils';
import type { PublicKey } from '@solana/web3.js';
import { ReserveDecodeError } from './errors.js';

export { ReserveDecodeError };

// @solana/buffer-layout-utils' type declarations use extensionless ESM re-exports that NodeNext resolution sees as
// empty; the runtime module is fine, so its two layouts are typed here.
const { publicKey, u64 } = layoutUtils as unknown as { publicKey: (property: string) => Layout<PublicKey>; u64: (property: string) => Layout<bigint> };

/** `sha256("account:BallastDevReserve")[0..8]`: the first 8 bytes of every BallastDevReserve account. */
export const RESERVE_DISCRIMINATOR: Buffer = createHash('sha256').update('account:BallastDevReserve').digest().subarray(0, 8);

/** The decoded fields of a BallastDevReserve (amounts in base units of `liquidityMint`). */
export interface DevReserve {
  /** The SPL mint the reserve lends. */
  liquidityMint: PublicKey;
  /** The SPL token account holding the reserve's available (not borrowed) liquidity. */
  liquiditySupply: PublicKey;
  /** Base units currently borrowed. supplied = balance(liquiditySupply) + borrowedAmount. */
  borrowedAmount: bigint;
  /** Slot of the reserve's last update. */
  lastUpdateSlot: bigint;
}

interface RawReserve extends DevReserve {
  discriminator: Uint8Array;
}

const RESERVE_LAYOUT = struct<RawReserve>([
  blob(8, 'discriminator'),
  publicKey('liquidityMint'),
  publicKey('liquiditySupply'),
  u64('borrowedAmount'),
  u64('lastUpdateSlot'),
]);

/** Byte length of a BallastDevReserve account: 88. */
export const RESERVE_SIZE: number = RESERVE_LAYOUT.span;

const U64_MAX = (1n << 64n) - 1n;

/**
 * Encode a BallastDevReserve account's data (88 bytes, discriminator included).
 * @throws RangeError when an amount is not a u64 (negative or ≥ 2^64).
 * @example
 *   const data = encodeDevReserve({ liquidityMint: mint, liquiditySupply: liq, borrowedAmount: 750n, lastUpdateSlot: 0n });
 *   data.length; // 88
 */
export function encodeDevReserve(r: DevReserve): Buffer {
  for (const [field, v] of [['borrowedAmount', r.borrowedAmount], ['lastUpdateSlot', r.lastUpdateSlot]] as const) {
    if (v < 0n || v > U64_MAX) throw new RangeError(`encodeDevReserve: ${field} ${v} is not a u64`);
  }
  const data = Buffer.alloc(RESERVE_SIZE);
  RESERVE_LAYOUT.encode({ ...r, discriminator: RESERVE_DISCRIMINATOR }, data);
  return data;
}

/**
 * Decode a BallastDevReserve account's data. Trailing bytes beyond 88 are ignored (Anchor accounts may be
 * allocated larger).
 * @throws ReserveDecodeError when the data is shorter than 88 bytes or the discriminator is not
 *   {@link RESERVE_DISCRIMINATOR} (the account is something else).
 * @example
 *   const r = decodeDevReserve(accountInfo.data);
 *   r.borrowedAmount; // 750n
 */
export function decodeDevReserve(data: Uint8Array): DevReserve {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < RESERVE_SIZE) throw new ReserveDecodeError(`data is ${buf.length} bytes, expected at least ${RESERVE_SIZE}`);
  const disc = buf.subarray(0, 8);
  if (!disc.equals(RESERVE_DISCRIMINATOR)) {
    throw new ReserveDecodeError(`discriminator is 0x${disc.toString('hex')}, expected 0x${RESERVE_DISCRIMINATOR.toString('hex')} (sha256("account:BallastDevReserve")[0..8])`);
  }
  const { liquidityMint, liquiditySupply, borrowedAmount, lastUpdateSlot } = RESERVE_LAYOUT.decode(buf);
  return { liquidityMint, liquiditySupply, borrowedAmount, lastUpdateSlot };
}
