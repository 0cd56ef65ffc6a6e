/**
 * LayerZero v2 packets on EVM: decode `PacketSent` with the SDK's `PacketV1Codec` and tell,
 * from the destination EndpointV2's state alone, whether a packet (by GUID / nonce) was delivered.
 *
 * Packet layout (LayerZero v2 `PacketV1Codec`): version(1) | nonce(8) | srcEid(4) | sender(32) |
 * dstEid(4) | receiver(32) | guid(32) | message; guid = keccak256(nonce, srcEid, sender, dstEid, receiver).
 */
import { Options, PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import { decodeEventLog, pad, type Address, type Hex, type Log } from 'viem';
import { endpointV2Abi } from '../../contracts/generated/abis.js';
import type { EvmClients } from './clients.js';

/** A decoded LayerZero v2 packet. Addresses are bytes32 (left-padded EVM addresses). */
export interface DecodedPacket {
  guid: Hex;
  nonce: bigint;
  srcEid: number;
  sender: Hex;
  dstEid: number;
  receiver: Hex;
  message: Hex;
  encoded: Hex;
}

/** Decodes an encoded PacketV1 (from `PacketSent.encodedPayload`). */
export function decodePacket(encodedPayload: Hex): DecodedPacket {
  const p = PacketV1Codec.from(encodedPayload);
  return {
    guid: p.guid() as Hex,
    nonce: BigInt(p.nonce()),
    srcEid: p.srcEid(),
    sender: p.sender() as Hex,
    dstEid: p.dstEid(),
    receiver: p.receiver() as Hex,
    message: p.message() as Hex,
    encoded: encodedPayload,
  };
}

/**
 * Finds and decodes the EndpointV2 `PacketSent` events among a receipt's logs.
 * @param endpoint the source EndpointV2 address (logs from other contracts are ignored).
 */
export function packetsSentIn(logs: readonly Log[], endpoint: Address): DecodedPacket[] {
  const out: DecodedPacket[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== endpoint.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: endpointV2Abi, data: log.data, topics: log.topics });
      if (ev.eventName === 'PacketSent') out.push(decodePacket(ev.args.encodedPayload as Hex));
    } catch {
      // not an EndpointV2 event we know
    }
  }
  return out;
}

export interface DeliveryQuery {
  /** Destination chain clients. */
  clients: EvmClients;
  /** Destination EndpointV2. */
  endpoint: Address;
  /** The OApp receiving on the destination (EVM address). */
  receiver: Address;
  srcEid: number;
  /** The OApp that sent on the source (EVM address). */
  sender: Address;
  nonce: bigint;
}

/** Delivery state of one packet at the destination, read at `blockNumber`. */
export interface DeliveryStatus {
  /** `lzReceive` executed: the message was consumed (payload hash cleared, lazy nonce past it). */
  delivered: boolean;
  /** Verified by the DVN/message library, waiting for execution. */
  verified: boolean;
  blockNumber: bigint;
}

/**
 * Reads, at one block, `lazyInboundNonce(receiver, srcEid, sender)` and
 * `inboundPayloadHash(receiver, srcEid, sender, nonce)` of the destination EndpointV2.
 * Delivered ⇔ lazyInboundNonce ≥ nonce and the payload hash is cleared (EndpointV2 `_clearPayload`).
 */
export async function getDeliveryStatus(q: DeliveryQuery): Promise<DeliveryStatus> {
  const blockNumber = await q.clients.publicClient.getBlockNumber();
  const senderB32 = pad(q.sender);
  const [lazyNonce, payloadHash] = await Promise.all([
    q.clients.publicClient.readContract({ address: q.endpoint, abi: endpointV2Abi, functionName: 'lazyInboundNonce', args: [q.receiver, q.srcEid, senderB32], blockNumber }),
    q.clients.publicClient.readContract({ address: q.endpoint, abi: endpointV2Abi, functionName: 'inboundPayloadHash', args: [q.receiver, q.srcEid, senderB32, q.nonce], blockNumber }),
  ]);
  const empty = /^0x0+$/.test(payloadHash as string);
  return { delivered: (lazyNonce as bigint) >= q.nonce && empty, verified: !empty, blockNumber };
}

/** Where a packet was executed on the destination. */
export interface PacketDeliveredLog {
  txHash: Hex;
  blockNumber: bigint;
}

/**
 * Finds the destination EndpointV2 `PacketDelivered(origin{srcEid, sender, nonce}, receiver)` event of
 * one packet, searching `fromBlock`..`toBlock` (inclusive). The event carries no GUID; the origin
 * (source eid, sender, nonce) and receiver identify the packet exactly as the GUID does.
 * @returns the log's transaction and block, or undefined when not in the range.
 */
export async function findPacketDelivered(q: DeliveryQuery & { fromBlock: bigint; toBlock: bigint }): Promise<PacketDeliveredLog | undefined> {
  const logs = await q.clients.publicClient.getContractEvents({
    address: q.endpoint,
    abi: endpointV2Abi,
    eventName: 'PacketDelivered',
    fromBlock: q.fromBlock,
    toBlock: q.toBlock,
  });
  const sender = pad(q.sender).toLowerCase();
  for (const log of logs) {
    const { origin, receiver } = log.args as { origin?: { srcEid: number; sender: Hex; nonce: bigint }; receiver?: Address };
    if (!origin || !receiver) continue;
    if (origin.srcEid === q.srcEid && origin.nonce === q.nonce && origin.sender.toLowerCase() === sender && receiver.toLowerCase() === q.receiver.toLowerCase()) {
      return { txHash: log.transactionHash as Hex, blockNumber: log.blockNumber as bigint };
    }
  }
  return undefined;
}

/** LayerZero executor options: gas for `lzReceive` on the destination (type-3 options, LayerZero v2 docs). */
export function lzReceiveOptions(gas: number): Hex {
  return Options.newOptions().addExecutorLzReceiveOption(gas, 0).toHex() as Hex;
}
