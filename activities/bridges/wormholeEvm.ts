/**
 * Wormhole on an EVM chain ({@link BridgeEnd}): burn-and-mint through the token's WormholeAdapter.
 *
 *   send     `BallastRoute.sendWormhole(key, dstWormholeChain, amount)` pays the core's `messageFee`; the
 *            adapter burns and publishes (payload v1: version, rebalance key, amount, dst chain, recipient
 *            route; contracts/src/WormholeAdapter.sol). The message is (source Wormhole chain, source adapter
 *            as emitter, sequence). Idempotent on `route.wormholeSends(key)`.
 *   deliver  fetch the VAA from the guardian API, verify it keeper-side (guardian set, quorum, emitter), then
 *            submit `WormholeAdapter.receiveMessage(vaa)` on the destination (the adapter verifies again with
 *            `parseAndVerifyVM`, checks the peer emitter, consumes the VAA hash once and mints to the route).
 *            Idempotent on `adapter.receivedOf(key)`.
 * For the saga's ledger a Wormhole message gets a 32-byte id like a LayerZero GUID (chains/wormhole/messageId.ts).
 *
 * Capacity moves' credit messages over Wormhole live here too (the `CreditMessenger` publishes on the core):
 * `sendCreditWormhole` (and its return), `fetchCreditVaa`, `redeemCreditVaa`.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Abi, Address, Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, creditMessengerAbi, wormholeAdapterAbi } from '../../contracts/generated/abis.js';
import { asRevert } from '../../chains/evm/errors.js';
import { routeEventOf } from '../../chains/evm/routeEvents.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { chainOf, type ChainRuntime, type KeeperContext } from '../context.js';
import { keyedWrite } from '../evmWrite.js';
import { FailureType } from '../failures.js';
import { legKey } from '../legKey.js';
import { awaitVerifiedVaa, wormholeMessageLabel, type FetchedVaa } from '../wormholeVaa.js';
import type { DeliveryResult, LegResult, SendInput, SendResult } from '../types.js';
import { capacityKey, checkCreditAboutToLeave, creditErrorsAbi, messengerOf, type CapacityPurpose, type SendCreditInput } from '../creditMessenger.js';
import { parseVaaEnvelope, readCreditSend, readWormholeCreditSend, wormholeCreditSendsIn, wormholeMessageId } from '../../chains/evm/credit.js';
import type { BridgeEnd, BridgeMessage, RecordedSend } from './port.js';
import { wormholeEmitterOf } from './wormholeEmitter.js';

/** Custom errors our Wormhole calls can bubble up (route → adapter → token). */
const wormholeErrorsAbi: Abi = [...ballastRouteAbi, ...wormholeAdapterAbi, ...ballastTokenAbi, ...collateralVaultAbi].filter((x) => x.type === 'error');

/** The chain's Wormhole settings. @throws non-retryable ConfigError when the chain has no `wormhole` entry. */
export function wormholeOf(c: ChainRuntime): NonNullable<ChainRuntime['wormhole']> {
  if (!c.wormhole) throw ApplicationFailure.nonRetryable(`${c.chainKey}: a Wormhole transfer needs chains[${c.chainKey}].wormhole (chainId, core, adapter) in the config`, FailureType.Config);
  return c.wormhole;
}

/** Whether the adapter of `dst` has minted for `key` (`receivedOf(key) > 0`), read at `blockNumber` when given. */
export async function wormholeDelivered(dst: ChainRuntime, key: Hex, blockNumber?: bigint): Promise<boolean> {
  const received = await dst.clients.publicClient.readContract({ address: wormholeOf(dst).adapter, abi: wormholeAdapterAbi, functionName: 'receivedOf', args: [key], blockNumber });
  return received > 0n;
}

/** Wormhole on an EVM chain. */
export const wormholeEvm: BridgeEnd = {
  bridge: 'wormhole',
  family: 'evm',

  /**
   * `nonce` of the result is the Wormhole sequence, `guid` the message id.
   * @throws ContractRevert (non-retryable) e.g. NoPeer, WrongMessageFee, InsufficientBalance; ConfigError when
   *   either chain has no Wormhole entry; PacketMismatch when the receipt lacks the route's event.
   */
  async send(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
    const src = chainOf(ctx, input.from);
    const srcWh = wormholeOf(src);
    const dstChainId = wormholeEmitterOf(ctx, input.to).chainId;
    const key = legKey(input.rebalanceId, input.purpose);
    const pc = src.clients.publicClient;
    const readRecord = () => pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [key] });
    const isDone = async () => (await readRecord())[2] > 0n;
    let fee = 0n;
    const r = await keyedWrite(src, key, isDone, async () => {
      fee = await pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSendWormhole' });
      return { address: src.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [key, dstChainId, input.amount], value: fee, errorsAbi: wormholeErrorsAbi } as const;
    });
    if (r.alreadyDone) {
      const rec = await readRecord();
      const paid = r.txHash ? (await pc.getTransaction({ hash: r.txHash })).value : 0n;
      return { legKey: key, alreadyDone: true, guid: wormholeGuid(srcWh.chainId, srcWh.adapter, rec[1]), nonce: rec[1], nativeFeeWei: paid, blockNumber: r.receipt?.blockNumber ?? (await pc.getBlockNumber({ cacheTime: 0 })) };
    }
    const sequence = routeEventOf(r.receipt, src.contracts.route, key, 'RouteSentWormhole')?.sequence;
    if (sequence === undefined) throw ApplicationFailure.nonRetryable(`${src.chainKey}: sendWormhole tx ${r.txHash} has no RouteSentWormhole event for key ${key}`, 'PacketMismatch');
    const guid = wormholeGuid(srcWh.chainId, srcWh.adapter, sequence);
    ctx.metrics.bridgeFeePaid.inc({ kind: 'collateral', route: `${input.from}->${input.to}`, bridge: 'wormhole' }, Number(fee));
    ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, message: wormholeMessageLabel({ emitterChain: srcWh.chainId, emitter: srcWh.adapter, sequence }), feeWei: fee.toString(), txHash: r.txHash }, 'sent over Wormhole');
    return { legKey: key, txHash: r.txHash, alreadyDone: false, guid, nonce: sequence, nativeFeeWei: fee, blockNumber: r.receipt.blockNumber };
  },

  /**
   * Done when the destination adapter shows `receivedOf(key)`; otherwise fetch and verify the VAA (retryable
   * `VaaPending` / `VaaRejected` until the guardians serve a good one) and submit `receiveMessage(vaa)`. A revert
   * (e.g. `VaaAlreadyConsumed`: another submitter, or an earlier attempt, redeemed it) is re-checked against the
   * adapter's record before it is called a failure (chains/evm/writeOnce.ts).
   * @throws ContractRevert (non-retryable) for a revert the chain confirms (e.g. UnknownEmitter, WrongRecipient).
   */
  async awaitDelivery(ctx: KeeperContext, m: BridgeMessage): Promise<DeliveryResult> {
    const source = wormholeEmitterOf(ctx, m.from);
    const dst = chainOf(ctx, m.to);
    const pc = dst.clients.publicClient;
    if (await wormholeDelivered(dst, m.key)) return { guid: m.guid, deliveredAtBlock: await pc.getBlockNumber({ cacheTime: 0 }) };
    const ref = { emitterChain: source.chainId, emitter: source.emitter, sequence: m.nonce };
    const { vaa } = await awaitVerifiedVaa(ctx, ref, `rebalance key ${m.key} (${m.from}->${m.to})`, { dstChainKey: m.to });
    const r = await keyedWrite(dst, m.key, () => wormholeDelivered(dst, m.key), { address: wormholeOf(dst).adapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [vaa], errorsAbi: wormholeErrorsAbi } as const);
    if (r.alreadyDone) return { guid: m.guid, deliveredAtBlock: r.receipt?.blockNumber ?? (await pc.getBlockNumber({ cacheTime: 0 })), txHash: r.txHash };
    ctx.log.info({ key: m.key, message: wormholeMessageLabel(ref), txHash: r.txHash }, 'VAA redeemed on the destination');
    return { guid: m.guid, deliveredAtBlock: r.receipt.blockNumber, txHash: r.txHash };
  },

  async locate(ctx: KeeperContext, m: BridgeMessage) {
    const delivered = await wormholeDelivered(chainOf(ctx, m.to), m.key);
    const e = wormholeEmitterOf(ctx, m.from);
    return { delivered, summary: `Wormhole message ${e.chainId}/${e.emitter}/${m.nonce} ${delivered ? 'redeemed' : 'not redeemed'} on ${m.to}` };
  },

  reader(ctx: KeeperContext, chainKey: string, blockNumber: bigint) {
    const c = chainOf(ctx, chainKey);
    const wh = wormholeOf(c);
    return {
      async sent(key: Hex): Promise<RecordedSend | undefined> {
        const r = await c.clients.publicClient.readContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [key], blockNumber });
        return r[2] === 0n ? undefined : { amount: r[2], guid: wormholeGuid(wh.chainId, wh.adapter, r[1]), nonce: r[1] };
      },
      received: (key: Hex) => wormholeDelivered(c, key, blockNumber),
    };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Capacity credit messages over Wormhole (CreditMessenger on the core)

/** Result of {@link sendCreditWormhole}: the Wormhole message to fetch from the guardians and redeem. */
export interface WormholeCreditSendResult extends LegResult {
  /** Source Wormhole chain id (the emitter's chain). */
  emitterChain: number;
  /** The source messenger: the VAA's emitter (EVM address; left-pad to 32 bytes for the REST path). */
  emitter: Address;
  sequence: bigint;
  /** `wormhole/<chain>/<emitter>/<sequence>`: the ledger's in-flight id for this message. */
  messageId: string;
  /** Core message fee paid, wei (0 when already done). */
  feeWei: bigint;
}

/**
 * Leg `send` over Wormhole (and the compensation `return` over Wormhole): the messenger on `from`
 * publishes (key, amount, destination chain, peer) on the Wormhole core, paying `messageFee()`.
 * - `forward`: `sendCreditWormhole(id, eid[to])` takes the vault's reservation `id`;
 * - `return`: `returnCreditWormhole(id)` sends the credit pending under `id` back where it came from.
 * Idempotent on `messenger.wormholeSends(key)` (a record for another destination or amount is a `PacketMismatch`).
 * @throws ContractRevert (non-retryable) e.g. `NoWormholePeer`, `WormholeNotSet`, `CreditNotReserved`,
 *   `CreditNotPending`, `RebalanceIdUsed` (the key went over LayerZero); non-retryable `PacketMismatch`.
 */
export async function sendCreditWormhole(ctx: KeeperContext, input: SendCreditInput): Promise<WormholeCreditSendResult> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const key = capacityKey(input.rebalanceId, input.purpose);
  const messenger = await messengerOf(src);
  const pc = src.clients.publicClient;
  const mismatch = (what: string) => ApplicationFailure.nonRetryable(`${src.chainKey}: capacity ${input.purpose} Wormhole send of ${input.rebalanceId}: ${what}`, 'PacketMismatch');
  const emitterChain = await pc.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'wormholeChainId' });
  const isDone = async () => (await readWormholeCreditSend(src.clients, messenger, key)) !== undefined;
  let fee = 0n;
  const r = await keyedWrite(src, key, isDone, async () => {
    if (await readCreditSend(src.clients, messenger, key)) throw mismatch(`key ${key} was already sent over LayerZero; a key leaves a messenger once, over one bridge`);
    await checkCreditAboutToLeave(src, dst, messenger, input, mismatch);
    try {
      fee = await pc.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'quoteSendWormhole' });
    } catch (err) {
      throw asRevert(err, src.chainKey, 'quoteSendWormhole') ?? err;
    }
    const common = { address: messenger, abi: creditMessengerAbi, value: fee, errorsAbi: creditErrorsAbi } as const;
    return input.purpose === 'forward' ? ({ ...common, functionName: 'sendCreditWormhole', args: [key, dst.eid] } as const) : ({ ...common, functionName: 'returnCreditWormhole', args: [input.rebalanceId] } as const);
  });
  const result = (sequence: bigint, alreadyDone: boolean, blockNumber: bigint, txHash?: Hex): WormholeCreditSendResult => ({
    legKey: key,
    txHash,
    alreadyDone,
    blockNumber,
    emitterChain,
    emitter: messenger,
    sequence,
    messageId: wormholeMessageId(emitterChain, messenger, sequence),
    feeWei: alreadyDone ? 0n : fee,
  });
  if (r.alreadyDone) {
    const rec = (await readWormholeCreditSend(src.clients, messenger, key))!;
    if (rec.dstEid !== dst.eid || rec.amount !== input.amount) throw mismatch(`key ${key} was already sent ${rec.amount} to eid ${rec.dstEid}; this leg sends ${input.amount} to ${dst.chainKey} (eid ${dst.eid})`);
    return result(rec.sequence, true, await pc.getBlockNumber());
  }
  const ev = wormholeCreditSendsIn(r.receipt.logs, messenger).find((e) => e.key.toLowerCase() === key.toLowerCase());
  if (!ev) throw mismatch(`tx ${r.txHash} has no CreditSentWormhole/CreditReturnedWormhole event for key ${key}`);
  ctx.metrics.bridgeFeePaid.inc({ kind: 'capacity', route: `${input.from}->${input.to}`, bridge: 'wormhole' }, Number(fee));
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, amount: ev.amount.toString(), sequence: ev.sequence.toString(), emitterChain, feeWei: fee.toString(), txHash: r.txHash }, 'capacity sent over Wormhole');
  return result(ev.sequence, false, r.receipt.blockNumber, r.txHash);
}

/** Input of {@link redeemCreditVaa}: the guardian-signed VAA of a capacity message, for the chain it is addressed to. */
export interface RedeemCreditVaaInput {
  rebalanceId: Hex;
  /** Which message: `forward` (key = id) or `return` (key = `legKey(id, 'return')`). */
  purpose: CapacityPurpose;
  /** The destination chain (its messenger redeems). */
  chainKey: string;
  /** The serialized VAA (as the guardians' `/v1/signed_vaa/...` serves it, base64-decoded). */
  vaa: Hex;
}

/**
 * Leg `deliver` over Wormhole: submits the VAA to the destination messenger (`receiveCreditVaa`), which
 * verifies it with the core and records the credit as pending. The VAA's payload must carry this leg's
 * key (checked before sending). Idempotent on `messenger.consumedVaa(hash)`.
 * @throws ContractRevert (non-retryable) e.g. `InvalidVaa`, `UnknownEmitter`, `WrongDestination`,
 *   `WrongRecipient`; non-retryable `PacketMismatch` when the VAA carries another key or is malformed.
 */
export async function redeemCreditVaa(ctx: KeeperContext, input: RedeemCreditVaaInput): Promise<LegResult & { vmHash: Hex }> {
  const c = chainOf(ctx, input.chainKey);
  const key = capacityKey(input.rebalanceId, input.purpose);
  const messenger = await messengerOf(c);
  const pc = c.clients.publicClient;
  let env: ReturnType<typeof parseVaaEnvelope>;
  try {
    env = parseVaaEnvelope(input.vaa);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${c.chainKey}: capacity VAA for ${input.rebalanceId}: ${err instanceof Error ? err.message : String(err)}`, 'PacketMismatch');
  }
  const payloadKey = env.payload.length >= 2 + 66 ? (`0x${env.payload.slice(4, 68)}` as Hex) : undefined;
  if (payloadKey?.toLowerCase() !== key.toLowerCase()) {
    throw ApplicationFailure.nonRetryable(`${c.chainKey}: the VAA (chain ${env.emitterChain}, sequence ${env.sequence}) carries key ${payloadKey ?? 'none'}, not this leg's ${key}`, 'PacketMismatch');
  }
  const isDone = () => pc.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'consumedVaa', args: [env.hash] });
  const r = await keyedWrite(c, env.hash, isDone, { address: messenger, abi: creditMessengerAbi, functionName: 'receiveCreditVaa', args: [input.vaa], errorsAbi: creditErrorsAbi } as const);
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber(), vmHash: env.hash };
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: c.chainKey, emitterChain: env.emitterChain, sequence: env.sequence.toString(), vmHash: env.hash, txHash: r.txHash }, 'capacity VAA redeemed');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber, vmHash: env.hash };
}

/** Input of {@link fetchCreditVaa}: which capacity message (as `sendCreditWormhole` returned it) and where it goes. */
export interface FetchCreditVaaInput {
  rebalanceId: Hex;
  purpose: CapacityPurpose;
  /** The chain that published (its messenger is the emitter). */
  from: string;
  /** The chain it is addressed to. */
  to: string;
  /** Wormhole chain id of `from` (the VAA's emitter chain). */
  emitterChain: number;
  /** The source messenger (EVM address). */
  emitter: Address;
  sequence: bigint;
}

/**
 * Part of leg `deliver` over Wormhole: the signed VAA of a capacity message from the guardian API, verified
 * keeper-side before the saga submits it (activities/wormholeVaa.ts `fetchVerifiedVaa`: the config's guardian
 * sets, every signature, quorum, the emitter allowed = the source messenger on its Wormhole chain, and the
 * served VAA must be the asked-for message).
 * @throws retryable `VaaPending` until the guardians serve it (the workflow's retry policy is the wait loop,
 *   bounded by the delivery deadline); retryable `VaaRejected` when the served VAA does not verify (never
 *   returned, never submitted); non-retryable `ConfigError` without a `wormhole` section.
 */
export async function fetchCreditVaa(ctx: KeeperContext, input: FetchCreditVaaInput): Promise<FetchedVaa> {
  return awaitVerifiedVaa(ctx, { emitterChain: input.emitterChain, emitter: input.emitter, sequence: input.sequence }, `capacity ${input.purpose} ${input.rebalanceId} (${input.from}->${input.to})`, { dstChainKey: input.to });
}
