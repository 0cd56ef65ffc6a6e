/**
 * LayerZero v2 between EVM chains, the collateral saga's default bridge ({@link BridgeEnd}): the route sends
 * through the token's OFT (burn here, mint there), LayerZero's executor delivers on its own, and the delivery
 * is read from the destination EndpointV2 by the packet's nonce (`inboundPayloadHash` / `lazyInboundNonce`).
 *
 *   send     `BallastRoute.send(key, dstEid, amount, options)` paying the quoted native fee; GUID and nonce
 *            from this transaction's `RouteSent` + `PacketSent` (decoded with `PacketV1Codec`). Idempotent on
 *            `route.sends(key)`.
 *   deliver  waits (bounded, in the activity) until the destination EndpointV2 shows the packet executed.
 *
 * Capacity moves' credit messages over LayerZero live here too (the `CreditMessenger` OApp): `quoteCreditFee`,
 * `sendCredit` (and its return), `awaitCreditDelivery`.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Abi, Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, endpointV2Abi } from '../../contracts/generated/abis.js';
import { asRevert } from '../../chains/evm/errors.js';
import { findPacketDelivered, getDeliveryStatus, lzReceiveOptions, packetsSentIn } from '../../chains/evm/layerzero.js';
import { routeEventOf } from '../../chains/evm/routeEvents.js';
import { chainOf, type ChainRuntime, type KeeperContext } from '../context.js';
import { keyedWrite } from '../evmWrite.js';
import { classified, FailureType } from '../failures.js';
import { legKey } from '../legKey.js';
import { DELIVERY_POLL, waitFor } from '../waitFor.js';
import type { DeliveryInput, DeliveryResult, SendInput, SendResult } from '../types.js';
import { capacityKey, checkCreditAboutToLeave, creditErrorsAbi, messengerOf, type SendCreditInput } from '../creditMessenger.js';
import { creditSendsIn, readCreditSend, readWormholeCreditSend } from '../../chains/evm/credit.js';
import { creditMessengerAbi } from '../../contracts/generated/abis.js';
import type { BridgeEnd, BridgeMessage, RecordedSend } from './port.js';

const ZERO32 = /^0x0{64}$/;

/** How far back (blocks) a delivery looks for the `PacketDelivered` event once delivery is seen. */
const DELIVERY_LOG_WINDOW = 2_000n;

/** Custom errors a route call can bubble up (route → vault, route → OFT → EndpointV2), decoded by name. */
const routeErrorsAbi: Abi = [...collateralVaultAbi, ...ballastRouteAbi, ...ballastTokenAbi, ...endpointV2Abi].filter((x) => x.type === 'error');

/**
 * Quotes the native fee (wei) of sending `amount` from `from` to `to` through the route's OFT (`quoteSend`).
 * @throws non-retryable `ContractRevert` when the route refuses (e.g. no peer).
 */
export async function quoteLayerZeroFee(ctx: KeeperContext, input: { from: string; to: string; amount: bigint }): Promise<bigint> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  return classified(async () => {
    try {
      return await src.clients.publicClient.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSend', args: [dst.eid, input.amount, lzReceiveOptions(ctx.lzReceiveGas)] });
    } catch (err) {
      throw asRevert(err, src.chainKey, 'quoteSend') ?? err;
    }
  });
}

/** The EndpointV2 query of a packet from `from`'s OFT to `to`'s OFT with `nonce`. */
function packetQuery(src: ChainRuntime, dst: ChainRuntime, nonce: bigint) {
  return { clients: dst.clients, endpoint: dst.contracts.endpoint, receiver: dst.contracts.token, srcEid: src.eid, sender: src.contracts.token, nonce };
}

/**
 * Waits (bounded: `DELIVERY_POLL`, in the activity) until the destination EndpointV2 shows the packet of `query`
 * executed, then finds its `PacketDelivered` transaction (in the last {@link DELIVERY_LOG_WINDOW} blocks) for the
 * record. `what` names the message in the wait and in the failure (e.g. `GUID 0x…`, `capacity message 0x…`).
 * @throws retryable `DeliveryPending` naming the last status seen when the wait ended undelivered.
 */
async function awaitPacketExecuted(query: ReturnType<typeof packetQuery>, what: string, guid: Hex): Promise<DeliveryResult> {
  const dstKey = query.clients.chainKey;
  let last: Awaited<ReturnType<typeof getDeliveryStatus>> | undefined;
  const status = await waitFor(
    async () => {
      last = await getDeliveryStatus(query);
      return last.delivered ? last : undefined;
    },
    {
      ...DELIVERY_POLL,
      what: `${what} delivered on ${dstKey}`,
      onTimeout: () =>
        ApplicationFailure.retryable(`${what} (nonce ${query.nonce}) not delivered on ${dstKey} as of block ${last?.blockNumber} (${last?.verified ? 'verified, awaiting execution' : 'not verified yet'})`, FailureType.DeliveryPending),
    },
  );
  const fromBlock = status.blockNumber > DELIVERY_LOG_WINDOW ? status.blockNumber - DELIVERY_LOG_WINDOW : 0n;
  const log = await findPacketDelivered({ ...query, fromBlock, toBlock: status.blockNumber });
  return { guid, deliveredAtBlock: log?.blockNumber ?? status.blockNumber, txHash: log?.txHash };
}

/** LayerZero v2 between EVM chains. */
export const layerzeroEvm: BridgeEnd = {
  bridge: 'layerzero',
  family: 'evm',

  /**
   * @throws ContractRevert (non-retryable) e.g. NoPeerRoute, InsufficientBalance; `PacketMismatch` when the
   *   receipt lacks the RouteSent/PacketSent pair for the key.
   */
  async send(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
    const src = chainOf(ctx, input.from);
    const dst = chainOf(ctx, input.to);
    const key = legKey(input.rebalanceId, input.purpose);
    const pc = src.clients.publicClient;
    const readRecord = () => pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'sends', args: [key] });
    const isDone = async () => !ZERO32.test((await readRecord())[0]);
    const options = lzReceiveOptions(ctx.lzReceiveGas);
    let fee = 0n;
    const r = await keyedWrite(src, key, isDone, async () => {
      fee = await quoteLayerZeroFee(ctx, input);
      return { address: src.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [key, dst.eid, input.amount, options], value: fee, errorsAbi: routeErrorsAbi } as const;
    });
    if (r.alreadyDone) {
      const rec = await readRecord();
      // This leg's own earlier transaction did it: its value is the fee this saga paid.
      const paid = r.txHash ? (await pc.getTransaction({ hash: r.txHash })).value : 0n;
      return { legKey: key, alreadyDone: true, guid: rec[0], nonce: rec[3], nativeFeeWei: paid, blockNumber: r.receipt?.blockNumber ?? (await pc.getBlockNumber({ cacheTime: 0 })) };
    }
    const { txHash, receipt } = r;
    // The GUID comes from this transaction's own events (RouteSent for our key, PacketSent decoded with
    // PacketV1Codec): no state read that a lagging node could answer from an older block.
    const routeGuid = routeEventOf(receipt, src.contracts.route, key, 'RouteSent')?.guid;
    const packet = packetsSentIn(receipt.logs, src.contracts.endpoint).find((p) => p.guid.toLowerCase() === routeGuid?.toLowerCase());
    if (!routeGuid || !packet) {
      throw ApplicationFailure.nonRetryable(`${src.chainKey}: send tx ${txHash} has no RouteSent/PacketSent pair for key ${key} (route GUID ${routeGuid ?? 'none'})`, 'PacketMismatch');
    }
    ctx.metrics.bridgeFeePaid.inc({ kind: 'collateral', route: `${input.from}->${input.to}`, bridge: 'layerzero' }, Number(fee));
    ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, guid: packet.guid, nonce: packet.nonce.toString(), feeWei: fee.toString(), txHash }, 'sent over LayerZero');
    return { legKey: key, txHash, alreadyDone: false, guid: packet.guid, nonce: packet.nonce, nativeFeeWei: fee, blockNumber: receipt.blockNumber };
  },

  /** Done once the destination EndpointV2 shows the packet executed; `DeliveryPending` (retryable) until then. */
  async awaitDelivery(ctx: KeeperContext, m: BridgeMessage): Promise<DeliveryResult> {
    return awaitPacketExecuted(packetQuery(chainOf(ctx, m.from), chainOf(ctx, m.to), m.nonce), `GUID ${m.guid}`, m.guid);
  },

  async locate(ctx: KeeperContext, m: BridgeMessage) {
    const dst = chainOf(ctx, m.to);
    const s = await getDeliveryStatus(packetQuery(chainOf(ctx, m.from), dst, m.nonce));
    return { delivered: s.delivered, verified: s.verified, summary: `LayerZero GUID ${m.guid} nonce ${m.nonce} ${s.delivered ? 'delivered' : s.verified ? 'verified, not executed' : 'not delivered'} on ${dst.chainKey}` };
  },

  reader(ctx: KeeperContext, chainKey: string, blockNumber: bigint) {
    const c = chainOf(ctx, chainKey);
    return {
      async sent(key: Hex): Promise<RecordedSend | undefined> {
        const rec = await c.clients.publicClient.readContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'sends', args: [key], blockNumber });
        return ZERO32.test(rec[0]) ? undefined : { amount: rec[2], guid: rec[0], nonce: rec[3] };
      },
      async received(_key: Hex, from: string, sent: RecordedSend): Promise<boolean> {
        return (await getDeliveryStatus(packetQuery(chainOf(ctx, from), c, sent.nonce))).delivered;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Capacity credit messages over LayerZero (CreditMessenger OApp)

/**
 * Quotes the native fee (wei) of one capacity message from `from` to `to` (`messenger.quoteSend`).
 * @throws ContractRevert (non-retryable) e.g. `NoPeer` when the messengers are not peers.
 */
export async function quoteCreditFee(ctx: KeeperContext, input: { from: string; to: string }): Promise<bigint> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const messenger = await messengerOf(src);
  return classified(async () => {
    try {
      return await src.clients.publicClient.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'quoteSend', args: [dst.eid, lzReceiveOptions(ctx.lzReceiveGas)] });
    } catch (err) {
      throw asRevert(err, src.chainKey, 'quoteSend') ?? err;
    }
  });
}

/**
 * Leg `send` (and the compensation `return`): the messenger on `from` sends a LayerZero message with
 * (key, amount) to its peer on `to`, paying the quoted native fee.
 * - `forward`: `sendCredit(id, eid[to])` takes the vault's reservation `id` (must be `reserved` for `amount`);
 * - `return`: `returnCredit(id)` sends the credit pending under `id` on `from` back where it came from
 *   (`to` must be that chain) under `legKey(id, 'return')`.
 * GUID and nonce come from this transaction's `CreditSent`/`CreditReturned` event. Idempotent on
 * `messenger.sends(key)` (a record for another destination or amount is a `PacketMismatch`, never "done").
 * @throws ContractRevert (non-retryable) e.g. `NoPeer`, `CreditNotReserved`, `CreditNotPending`, `OutflowPaused`;
 *   non-retryable `PacketMismatch` when the chain's record disagrees with `amount`/`to`, or the receipt has no send event.
 */
export async function sendCredit(ctx: KeeperContext, input: SendCreditInput): Promise<SendResult> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const key = capacityKey(input.rebalanceId, input.purpose);
  const messenger = await messengerOf(src);
  const pc = src.clients.publicClient;
  const isDone = async () => (await readCreditSend(src.clients, messenger, key)) !== undefined;
  const options = lzReceiveOptions(ctx.lzReceiveGas);
  const mismatch = (what: string) => ApplicationFailure.nonRetryable(`${src.chainKey}: capacity ${input.purpose} send of ${input.rebalanceId}: ${what}`, 'PacketMismatch');
  let fee = 0n;
  const r = await keyedWrite(src, key, isDone, async () => {
    if (await readWormholeCreditSend(src.clients, messenger, key)) throw mismatch(`key ${key} was already sent over Wormhole; a key leaves a messenger once, over one bridge`);
    // What is about to leave must be exactly what the saga expects.
    await checkCreditAboutToLeave(src, dst, messenger, input, mismatch);
    fee = await quoteCreditFee(ctx, input);
    return input.purpose === 'forward'
      ? ({ address: messenger, abi: creditMessengerAbi, functionName: 'sendCredit', args: [key, dst.eid, options], value: fee, errorsAbi: creditErrorsAbi } as const)
      : ({ address: messenger, abi: creditMessengerAbi, functionName: 'returnCredit', args: [input.rebalanceId, options], value: fee, errorsAbi: creditErrorsAbi } as const);
  });
  if (r.alreadyDone) {
    const rec = (await readCreditSend(src.clients, messenger, key))!;
    // The key was used: it must be this leg's message, not another one under the same key.
    if (rec.dstEid !== dst.eid || rec.amount !== input.amount) throw mismatch(`key ${key} was already sent ${rec.amount} to eid ${rec.dstEid}; this leg sends ${input.amount} to ${dst.chainKey} (eid ${dst.eid})`);
    return { legKey: key, alreadyDone: true, guid: rec.guid, nonce: rec.nonce, nativeFeeWei: 0n, blockNumber: await pc.getBlockNumber() };
  }
  const ev = creditSendsIn(r.receipt.logs, messenger).find((e) => e.key.toLowerCase() === key.toLowerCase());
  if (!ev) throw mismatch(`tx ${r.txHash} has no CreditSent/CreditReturned event for key ${key}`);
  ctx.metrics.bridgeFeePaid.inc({ kind: 'capacity', route: `${input.from}->${input.to}`, bridge: 'layerzero' }, Number(fee));
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, amount: ev.amount.toString(), guid: ev.guid, nonce: ev.nonce.toString(), feeWei: fee.toString(), txHash: r.txHash }, 'capacity sent over LayerZero');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, guid: ev.guid, nonce: ev.nonce, nativeFeeWei: fee, blockNumber: r.receipt.blockNumber };
}

/**
 * Leg `deliver` of a capacity message: succeeds once the destination EndpointV2 shows the packet
 * executed (the destination messenger then holds the credit as pending). Until then it throws the
 * retryable `DeliveryPending`; the workflow's retry policy is the wait loop.
 */
export async function awaitCreditDelivery(ctx: KeeperContext, input: DeliveryInput): Promise<DeliveryResult> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const [sender, receiver] = await Promise.all([messengerOf(src), messengerOf(dst)]);
  return awaitPacketExecuted({ ...packetQuery(src, dst, input.nonce), receiver, sender }, `capacity message ${input.guid}`, input.guid);
}

