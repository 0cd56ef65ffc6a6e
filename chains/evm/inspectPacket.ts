/**
 * `ballast inspect packet`: decode a LayerZero v2 packet (PacketV1) and check that its GUID is the one
 * its header hashes to. Decoding is {@link decodePacket} (`PacketV1Codec`); the GUID is recomputed with
 * the SDK's own `calculateGuid`, i.e. LayerZero v2 `GUID.sol`:
 * `keccak256(abi.encodePacked(uint64 nonce, uint32 srcEid, bytes32 sender, uint32 dstEid, bytes32 receiver))`.
 *
 * Accepted inputs (PacketV1Codec layout: version(1) | nonce(8) | srcEid(4) | sender(32) | dstEid(4) |
 * receiver(32) = 81-byte header, then guid(32) | message):
 * - a full encoded packet (`PacketSent.encodedPayload`): header | guid | message;
 * - header | guid (113 bytes, no message);
 * - the bare 81-byte header (no GUID carried: only the recomputed one is shown).
 */
import { calculateGuid, PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import { isHex, type Hex } from 'viem';
import { decodePacket, type DecodedPacket } from './layerzero.js';

/** Bytes in a PacketV1 header (version … receiver). */
export const PACKET_HEADER_BYTES = 81;
/** Bytes in header | guid. */
const HEADER_GUID_BYTES = PACKET_HEADER_BYTES + 32;

/** A decoded packet plus the GUID check. Hex strings are lowercase, 0x-prefixed; addresses are bytes32. */
export interface PacketInspection extends DecodedPacket {
  /** Packet version (PacketV1: 1). */
  version: number;
  /** Which parts the input carried. */
  form: 'full' | 'header+guid' | 'header';
  /** GUID recomputed from the header fields (GUID.sol). */
  guidRecomputed: Hex;
  /** `guid === guidRecomputed`; undefined for a bare header (no GUID to compare). */
  guidMatches?: boolean;
  /** keccak256(guid | message): what the DVNs verify (EndpointV2 inbound payload hash); undefined for a bare header. */
  payloadHash?: Hex;
  /** Message length in bytes. */
  messageBytes: number;
}

/** The text is not a PacketV1 packet. */
export class PacketDecodeError extends Error {
  override readonly name = 'PacketDecodeError';
}

/**
 * Decodes a LayerZero v2 packet and recomputes its GUID.
 * @param text hex, `0x` optional.
 * @returns the fields (nonce as bigint, eids as numbers) and the GUID check; a packet whose GUID does not
 *   recompute is returned with `guidMatches: false` (the caller decides; `ballast inspect` exits 1).
 * @throws {PacketDecodeError} when the text is not hex, shorter than the 81-byte header, cut inside the
 *   GUID, or not version 1.
 */
export function inspectPacket(text: string): PacketInspection {
  const t = text.trim();
  const hex = (t.startsWith('0x') || t.startsWith('0X') ? `0x${t.slice(2)}` : `0x${t}`).toLowerCase() as Hex;
  if (!isHex(hex, { strict: true }) || hex.length % 2 !== 0 || hex.length === 2) {
    throw new PacketDecodeError(`a packet must be hex (0x optional, an even number of hex digits); got ${t.length} characters starting ${JSON.stringify(t.slice(0, 16))}`);
  }
  const size = (hex.length - 2) / 2;
  if (size < PACKET_HEADER_BYTES) throw new PacketDecodeError(`a LayerZero v2 packet has an ${PACKET_HEADER_BYTES}-byte header; got ${size} bytes`);
  if (size > PACKET_HEADER_BYTES && size < HEADER_GUID_BYTES) {
    throw new PacketDecodeError(`${size} bytes: cut inside the GUID (expected the ${PACKET_HEADER_BYTES}-byte header alone, or at least ${HEADER_GUID_BYTES} bytes = header | guid)`);
  }
  const codec = PacketV1Codec.from(hex);
  const version = codec.version();
  if (version !== 1) throw new PacketDecodeError(`packet version ${version}: only PacketV1 (version 1) is known`);

  const p = decodePacket(hex);
  const guidRecomputed = calculateGuid({ version, nonce: p.nonce.toString(), srcEid: p.srcEid, sender: p.sender, dstEid: p.dstEid, receiver: p.receiver }).toLowerCase() as Hex;
  const form = size === PACKET_HEADER_BYTES ? 'header' : size === HEADER_GUID_BYTES ? 'header+guid' : 'full';
  const hasGuid = form !== 'header';
  const guid = p.guid.toLowerCase() as Hex;
  return {
    ...p,
    guid,
    sender: p.sender.toLowerCase() as Hex,
    receiver: p.receiver.toLowerCase() as Hex,
    message: p.message.toLowerCase() as Hex,
    encoded: hex,
    version,
    form,
    guidRecomputed,
    guidMatches: hasGuid ? guid === guidRecomputed : undefined,
    payloadHash: hasGuid ? (codec.payloadHash().toLowerCase() as Hex) : undefined,
    messageBytes: (p.message.length - 2) / 2,
  };
}
