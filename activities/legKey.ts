/**
 * On-chain key of one saga action: the rebalance id for the forward move, and a distinct
 * derived key for each compensation, so every action is recorded (and made idempotent) once.
 */
import { encodePacked, keccak256, type Hex } from 'viem';
import type { LegPurpose } from './types.js';

/**
 * `forward` → the rebalance id itself; otherwise keccak256(abi.encodePacked(rebalanceId, purpose)).
 * @example legKey('0xab…', 'redeposit') // 0x… (stable across retries and replays)
 */
export function legKey(rebalanceId: Hex, purpose: LegPurpose): Hex {
  return purpose === 'forward' ? rebalanceId : keccak256(encodePacked(['bytes32', 'string'], [rebalanceId, purpose]));
}
