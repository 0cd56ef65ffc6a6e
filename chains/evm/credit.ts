/**
 * Readers of lending capacity (credit lines) on one EVM chain: the vault's `borrowLimit`, reservations,
 * applied credit and per-remote credit lines, and the `CreditMessenger`'s sends (LayerZero and Wormhole),
 * pending credit and totals; plus the VAA envelope a Wormhole redeem needs. Amounts are base units of the vault's asset; remote chains are LayerZero endpoint ids.
 * Knows nothing of strategy; see contracts/src/CollateralVault.sol and CreditMessenger.sol for the model.
 */
import { bytesToHex, decodeEventLog, hexToBigInt, hexToBytes, keccak256, parseAbi, type Address, type Hex, type Log } from 'viem';
import { collateralVaultAbi, creditMessengerAbi } from '../../contracts/generated/abis.js';
import type { EvmClients } from './clients.js';

const ZERO32 = /^0x0{64}$/;
const multicall3BlockAbi = parseAbi(['function getBlockNumber() view returns (uint256 blockNumber)']);

/** `CollateralVault.ReservationStatus`, by its Solidity order. */
export const RESERVATION_STATUS = ['none', 'reserved', 'sent', 'restored'] as const;
/** A credit reservation's status: `reserved` → `sent` (taken by the messenger) or `restored`. */
export type ReservationStatus = (typeof RESERVATION_STATUS)[number];

/** `CreditMessenger.PendingStatus`, by its Solidity order. */
export const PENDING_STATUS = ['none', 'pending', 'applied', 'returned'] as const;
/** Status of credit delivered to a messenger: `pending` → `applied` (by the vault) or `returned`. */
export type PendingStatus = (typeof PENDING_STATUS)[number];

/** Maps a status number read from a contract to its name. @throws RangeError for an unknown value. */
function statusName<T extends string>(names: readonly T[], n: number, what: string): T {
  const name = names[n];
  if (name === undefined) throw new RangeError(`${what} status ${n} is unknown (expected 0..${names.length - 1}); are the ABIs up to date?`);
  return name;
}

/** Lending capacity of one vault and its messenger's totals, all at `blockNumber`. */
export interface CreditState {
  chainKey: string;
  blockNumber: bigint;
  /** Vault `borrowLimit`: borrowing stops at it. */
  borrowLimit: bigint;
  /** Vault `totalBorrowed`. */
  borrowed: bigint;
  /** `borrowLimit − borrowed`, 0 when borrowed is at or above the limit. */
  spare: bigint;
  /** Reserved for the messenger, not sent nor restored yet. */
  reservedCredit: bigint;
  /** The vault's own credit cap and the current window's usage (0 when the window has expired). */
  creditCap: { maxCreditOutPerWindow: bigint; windowSec: bigint; creditOutInWindow: bigint; windowStartSec: bigint };
  messenger: Address;
  /** Messenger totals: sent and received cumulative; pending and orphaned now. */
  messengerTotals: { sent: bigint; received: bigint; pending: bigint; orphaned: bigint };
}

/**
 * The vault's credit messenger (`vault.creditMessenger()`).
 * @throws Error naming the chain and vault when none is set (capacity moves are disabled there).
 */
export async function readCreditMessenger(clients: EvmClients, vault: Address): Promise<Address> {
  const m = await clients.publicClient.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'creditMessenger' });
  if (/^0x0{40}$/i.test(m)) {
    throw new Error(`${clients.chainKey}: vault ${vault} has no credit messenger (creditMessenger() = 0): capacity moves are disabled there; the admin sets it with setCreditMessenger`);
  }
  return m;
}

/**
 * Reads a vault's capacity and its messenger's totals in ONE multicall at one block.
 * `p.messenger` is the vault's messenger (see {@link readCreditMessenger}); `p.block` defaults to the latest
 * (its number is read by Multicall3 in the same call).
 * @throws the multicall's error when any call fails (fail closed).
 * @example
 *   const s = await readCreditState({ clients, multicall3, vault, messenger });
 *   s.spare; // capacity not borrowed
 */
export async function readCreditState(p: { clients: EvmClients; multicall3: Address; vault: Address; messenger: Address; block?: bigint }): Promise<CreditState> {
  const [blockNumber, borrowLimit, borrowed, reservedCredit, cap, sent, received, pending, orphaned] = await p.clients.publicClient.multicall({
    multicallAddress: p.multicall3,
    allowFailure: false,
    // The block is read inside the same call: never a cached block number.
    ...(p.block !== undefined ? { blockNumber: p.block } : { blockTag: 'latest' as const }),
    contracts: [
      { address: p.multicall3, abi: multicall3BlockAbi, functionName: 'getBlockNumber' },
      { address: p.vault, abi: collateralVaultAbi, functionName: 'borrowLimit' },
      { address: p.vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' },
      { address: p.vault, abi: collateralVaultAbi, functionName: 'reservedCredit' },
      { address: p.vault, abi: collateralVaultAbi, functionName: 'creditCap' },
      { address: p.messenger, abi: creditMessengerAbi, functionName: 'totalSent' },
      { address: p.messenger, abi: creditMessengerAbi, functionName: 'totalReceived' },
      { address: p.messenger, abi: creditMessengerAbi, functionName: 'totalPending' },
      { address: p.messenger, abi: creditMessengerAbi, functionName: 'totalOrphaned' },
    ] as const,
  });
  return {
    chainKey: p.clients.chainKey,
    blockNumber,
    borrowLimit,
    borrowed,
    spare: borrowLimit > borrowed ? borrowLimit - borrowed : 0n,
    reservedCredit,
    creditCap: { maxCreditOutPerWindow: cap[0], windowSec: BigInt(cap[1]), creditOutInWindow: cap[2], windowStartSec: BigInt(cap[3]) },
    messenger: p.messenger,
    messengerTotals: { sent, received, pending, orphaned },
  };
}

/** One credit line of a vault with a remote chain (cumulative amounts). */
export interface CreditLine {
  remoteEid: number;
  /** Credit sent to the remote. */
  sent: bigint;
  /** Credit received from the remote and applied here. */
  received: bigint;
  /** `received − sent`: positive when this chain holds capacity that came from the remote. */
  net: bigint;
}

/**
 * Reads the vault's credit lines with `remoteEids` (`creditLine(eid)`) in one multicall at one block.
 * @returns one line per remote, in the order given.
 */
export async function readCreditLines(p: { clients: EvmClients; multicall3: Address; vault: Address; remoteEids: readonly number[]; block?: bigint }): Promise<CreditLine[]> {
  if (p.remoteEids.length === 0) return [];
  const lines = await p.clients.publicClient.multicall({
    multicallAddress: p.multicall3,
    allowFailure: false,
    ...(p.block !== undefined ? { blockNumber: p.block } : {}),
    contracts: p.remoteEids.map((eid) => ({ address: p.vault, abi: collateralVaultAbi, functionName: 'creditLine' as const, args: [eid] as const })),
  });
  return lines.map(([sent, received], i) => ({ remoteEid: p.remoteEids[i]!, sent, received, net: received - sent }));
}

/** A vault's reservation under one key. */
export interface CreditReservation {
  amount: bigint;
  status: ReservationStatus;
}

/** `vault.creditReservations(key)`, optionally at `block`. */
export async function readReservation(clients: EvmClients, vault: Address, key: Hex, block?: bigint): Promise<CreditReservation> {
  const [amount, status] = await clients.publicClient.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'creditReservations', args: [key], blockNumber: block });
  return { amount, status: statusName(RESERVATION_STATUS, status, 'reservation') };
}

/** `vault.appliedCreditOf(key)` (0 = not applied), optionally at `block`. */
export async function readAppliedCredit(clients: EvmClients, vault: Address, key: Hex, block?: bigint): Promise<bigint> {
  return clients.publicClient.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'appliedCreditOf', args: [key], blockNumber: block });
}

/** Credit delivered to a messenger under one key. */
export interface PendingCreditRecord {
  amount: bigint;
  /** LayerZero eid it came from (0 when nothing was delivered). */
  srcEid: number;
  status: PendingStatus;
  /** GUID of the message that delivered it (zero when none). */
  guid: Hex;
}

/** `messenger.pendingCredit(key)`, optionally at `block`. */
export async function readPendingCredit(clients: EvmClients, messenger: Address, key: Hex, block?: bigint): Promise<PendingCreditRecord> {
  const [amount, srcEid, status, guid] = await clients.publicClient.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'pendingCredit', args: [key], blockNumber: block });
  return { amount, srcEid, status: statusName(PENDING_STATUS, status, 'pending credit'), guid };
}

/** A messenger's send under one key. */
export interface CreditSendRecord {
  guid: Hex;
  dstEid: number;
  amount: bigint;
  /** LayerZero outbound nonce (source endpoint, per path). */
  nonce: bigint;
}

/** `messenger.sends(key)`, or undefined when nothing was sent under `key`; optionally at `block`. */
export async function readCreditSend(clients: EvmClients, messenger: Address, key: Hex, block?: bigint): Promise<CreditSendRecord | undefined> {
  const [guid, dstEid, amount, nonce] = await clients.publicClient.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'sends', args: [key], blockNumber: block });
  if (amount === 0n && ZERO32.test(guid)) return undefined;
  return { guid, dstEid, amount, nonce };
}

/** A `CreditSent` or `CreditReturned` event of a messenger, decoded. `key` is the message key. */
export interface CreditSentEvent {
  kind: 'sent' | 'returned';
  key: Hex;
  guid: Hex;
  dstEid: number;
  amount: bigint;
  nonce: bigint;
  nativeFee: bigint;
}

/**
 * Finds the messenger's `CreditSent` / `CreditReturned` events among a receipt's logs (logs from other
 * contracts ignored). For `CreditReturned`, `key` is the return key the message travelled under.
 */
export function creditSendsIn(logs: readonly Log[], messenger: Address): CreditSentEvent[] {
  const out: CreditSentEvent[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== messenger.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: creditMessengerAbi, data: log.data, topics: log.topics });
      if (ev.eventName === 'CreditSent') {
        out.push({ kind: 'sent', key: ev.args.key, guid: ev.args.guid, dstEid: ev.args.dstEid, amount: ev.args.amount, nonce: ev.args.nonce, nativeFee: ev.args.nativeFee });
      } else if (ev.eventName === 'CreditReturned') {
        out.push({ kind: 'returned', key: ev.args.returnKey, guid: ev.args.guid, dstEid: ev.args.dstEid, amount: ev.args.amount, nonce: ev.args.nonce, nativeFee: ev.args.nativeFee });
      }
    } catch {
      // another event of the messenger (or an OApp event we do not need)
    }
  }
  return out;
}

/** A messenger's Wormhole send under one key. */
export interface WormholeCreditSendRecord {
  dstEid: number;
  /** Destination Wormhole chain id. */
  dstChain: number;
  /** The core's sequence of the message (emitter: the messenger). */
  sequence: bigint;
  amount: bigint;
}

/** `messenger.wormholeSends(key)`, or undefined when nothing was sent over Wormhole under `key`; optionally at `block`. */
export async function readWormholeCreditSend(clients: EvmClients, messenger: Address, key: Hex, block?: bigint): Promise<WormholeCreditSendRecord | undefined> {
  const [dstEid, dstChain, sequence, amount] = await clients.publicClient.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'wormholeSends', args: [key], blockNumber: block });
  if (amount === 0n) return undefined;
  return { dstEid, dstChain, sequence, amount };
}

/** A `CreditSentWormhole` or `CreditReturnedWormhole` event of a messenger, decoded. `key` is the message key. */
export interface WormholeCreditSentEvent {
  kind: 'sent' | 'returned';
  key: Hex;
  sequence: bigint;
  dstEid: number;
  dstChain: number;
  amount: bigint;
  fee: bigint;
}

/** Finds the messenger's `CreditSentWormhole` / `CreditReturnedWormhole` events among a receipt's logs. */
export function wormholeCreditSendsIn(logs: readonly Log[], messenger: Address): WormholeCreditSentEvent[] {
  const out: WormholeCreditSentEvent[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== messenger.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: creditMessengerAbi, data: log.data, topics: log.topics });
      if (ev.eventName === 'CreditSentWormhole') {
        out.push({ kind: 'sent', key: ev.args.key, sequence: ev.args.sequence, dstEid: ev.args.dstEid, dstChain: ev.args.dstChain, amount: ev.args.amount, fee: ev.args.fee });
      } else if (ev.eventName === 'CreditReturnedWormhole') {
        out.push({ kind: 'returned', key: ev.args.returnKey, sequence: ev.args.sequence, dstEid: ev.args.dstEid, dstChain: ev.args.dstChain, amount: ev.args.amount, fee: ev.args.fee });
      }
    } catch {
      // another event of the messenger
    }
  }
  return out;
}

/**
 * The id of a Wormhole message as the guardians' REST API names it, `wormhole/<chain>/<emitter, 64 hex>/<sequence>`:
 * the capacity ledger's in-flight account for a capacity message sent over Wormhole.
 * @example wormholeMessageId(2, '0xAbc…', 7n) // 'wormhole/2/000…abc/7'
 */
export function wormholeMessageId(emitterChain: number, emitter: Address | Hex, sequence: bigint): string {
  return `wormhole/${emitterChain}/${emitter.slice(2).toLowerCase().padStart(64, '0')}/${sequence}`;
}

/** The parts of a serialized VAA (v1) a redeemer needs. Spec: Wormhole VAA v1 (header, then body). */
export interface VaaEnvelope {
  /** keccak256(keccak256(body)): the core's `vm.hash` (what `consumedVaa` is keyed by). */
  hash: Hex;
  emitterChain: number;
  /** Emitter address, 32 bytes. */
  emitterAddress: Hex;
  sequence: bigint;
  payload: Hex;
}

/**
 * Splits a serialized VAA: header = version(1) guardianSetIndex(4) signatureCount(1) signatures(66 each),
 * body = timestamp(4) nonce(4) emitterChain(2) emitterAddress(32) sequence(8) consistencyLevel(1) payload.
 * @throws RangeError when the bytes are too short or not version 1.
 */
export function parseVaaEnvelope(vaa: Hex): VaaEnvelope {
  const bytes = hexToBytes(vaa);
  if (bytes.length < 6 || bytes[0] !== 1) throw new RangeError(`not a version-1 VAA (${bytes.length} bytes, version ${bytes[0] ?? 'none'})`);
  const bodyStart = 6 + 66 * bytes[5]!;
  if (bytes.length < bodyStart + 51) throw new RangeError(`VAA too short: ${bytes.length} bytes, body expected at ${bodyStart} with at least 51 bytes`);
  const body = bytes.subarray(bodyStart);
  return {
    hash: keccak256(keccak256(body)),
    emitterChain: (body[8]! << 8) | body[9]!,
    emitterAddress: bytesToHex(body.subarray(10, 42)),
    sequence: hexToBigInt(bytesToHex(body.subarray(42, 50))),
    payload: bytesToHex(body.subarray(51)),
  };
}
