/**
 * Bridge fees in the asset: the native fee a bridge quotes (wei of the source chain's gas token) converted
 * into the asset's base units with the source chain's oracle price, exactly, in integers.
 *
 * Pure: no I/O. The quotes themselves are read by activities/quotes.ts (per-bridge quoters); the planner
 * (planner/optimal.ts) receives the result as each edge's `fixedFee`.
 */
import type { OracleRound } from './types.js';

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/**
 * Converts a native fee in wei (18 decimals of the gas token, e.g. ETH) into asset base units with a
 * Chainlink-style gas-token/USD price (`answer` scaled by `10^feedDecimals`), the asset being worth 1 USD
 * per whole token (a USD stablecoin with `assetDecimals` decimals, 6 for USDC):
 *
 *   fee = ceil( wei · answer / 10^(18 + feedDecimals − assetDecimals) )
 *
 * e.g. with 6 decimals and an 8-decimal feed: `fee = ceil(wei · answer / 10^20)`. Rounded UP, so a fee is
 * never under-counted: any positive native fee costs at least 1 base unit. When `18 + feedDecimals <
 * assetDecimals` the quotient is a product instead (`wei · answer · 10^(assetDecimals − 18 − feedDecimals)`),
 * still exact. Integers only, never a float.
 *
 * @param feeWei the native fee, wei (≥ 0).
 * @param price the oracle round's `answer` (> 0) and `decimals` (0..255), from the snapshot of the chain
 *   that pays the fee (the source chain of the transfer).
 * @param assetDecimals decimals of the asset (0..36).
 * @returns the fee in asset base units (≥ 0; 0 only for a zero native fee).
 * @throws {Error} on a negative fee, a non-positive price, or decimals out of range (the message names them).
 * @example
 *   // 0.0004 ETH at 3000.12345678 USD/ETH (8 decimals) → 1.200049382712 USDC → 1200050 base units (rounded up)
 *   nativeFeeToAsset(400_000_000_000_000n, { answer: 300_012_345_678n, decimals: 8 }, 6) // 1200050n
 */
export function nativeFeeToAsset(feeWei: bigint, price: Pick<OracleRound, 'answer' | 'decimals'>, assetDecimals: number): bigint {
  if (feeWei < 0n) throw new Error(`nativeFeeToAsset: the native fee ${feeWei} wei is negative; a quote is ≥ 0`);
  if (price.answer <= 0n) {
    throw new Error(`nativeFeeToAsset: the oracle answer ${price.answer} is not positive; a chain whose price is unusable cannot pay a fee (leave it out of planning)`);
  }
  if (!Number.isInteger(price.decimals) || price.decimals < 0 || price.decimals > 255) {
    throw new Error(`nativeFeeToAsset: feed decimals ${price.decimals} must be an integer 0..255`);
  }
  if (!Number.isInteger(assetDecimals) || assetDecimals < 0 || assetDecimals > 36) {
    throw new Error(`nativeFeeToAsset: asset decimals ${assetDecimals} must be an integer 0..36`);
  }
  const exp = 18 + price.decimals - assetDecimals;
  const scaled = feeWei * price.answer;
  return exp >= 0 ? ceilDiv(scaled, 10n ** BigInt(exp)) : scaled * 10n ** BigInt(-exp);
}
