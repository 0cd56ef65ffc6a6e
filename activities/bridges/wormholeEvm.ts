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
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Abi, Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, wormholeAdapterAbi } from '../../contracts/generated/abis.js';
import { routeEventOf } from '../../chains/evm/routeEvents.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { chainOf, type ChainRuntime, type KeeperContext } from '../context.js';
import { keyedWrite } from '../evmWrite.js';
import { FailureType } from '../failures.js';
import { legKey } from '../legKey.js';
import { awaitVerifiedVaa, wormholeMessageLabel } from '../wormholeVaa.js';
import type { DeliveryResult, SendInput, SendResult } from '../types.js';
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
    const { vaa } = await awaitVerifiedVaa(ctx, ref, `rebalance key ${m.key} (${m.from}->${m.to})`);
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
