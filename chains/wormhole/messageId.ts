/**
 * The ledger id of a Wormhole message.
 */
import { encodePacked, keccak256, pad, type Hex } from 'viem';

/**
 * The ledger id of a Wormhole message: `keccak256(abi.encodePacked(uint16 emitterChain, bytes32 emitter,
 * uint64 sequence))` — the VAA id (Wormhole docs: a message is identified by emitter chain, emitter address
 * and sequence) hashed to 32 bytes so it keys the same accounts as a LayerZero GUID.
 * @example wormholeGuid(10_002, '0x…adapter', 7n) // 0x… (32 bytes)
 */
export function wormholeGuid(emitterChain: number, emitter: Hex, sequence: bigint): Hex {
  return keccak256(encodePacked(['uint16', 'bytes32', 'uint64'], [emitterChain, pad(emitter, { size: 32 }), sequence]));
}
