/**
 * The collateral saga's bridge legs over Wormhole (burn-and-mint through the token's WormholeAdapter):
 *
 *   send     `BallastRoute.sendWormhole(key, dstWormholeChain, amount)` pays the core's `messageFee`; the
 *            adapter burns and publishes (payload v1: version, rebalance key, amount, dst chain, recipient
 *            route; contracts/src/WormholeAdapter.sol). The message is (source Wormhole chain, source adapter
 *            as emitter, sequence).
 *   deliver  fetch the VAA from the guardian API, verify it keeper-side (guardian set, quorum, emitter), then
 *            submit `WormholeAdapter.receiveMessage(vaa)` on the destination (the adapter verifies again with
 *            `parseAndVerifyVM`, checks the peer emitter, consumes the VAA hash once and mints to the route).
 *
 * Both are idempotent on chain records (`route.wormholeSends(key)`, `adapter.receivedOf(key)`) like the
 * LayerZero legs in legs.ts, whose `writeOnce` they share. For the saga's ledger a Wormhole message gets a
 * 32-byte id like a LayerZero GUID: {@link wormholeGuid}.
 */
import { ApplicationFailure } from '@temporalio/common';
import { encodePacked, keccak256, pad, type Abi, type Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, wormholeAdapterAbi } from '../contracts/generated/abis.js';
import { ContractRevertError } from '../chains/evm/errors.js';
import { simulateAndWrite } from '../chains/evm/writeContract.js';
import { chainOf, solanaChainOf, type ChainRuntime, type KeeperContext } from './context.js';
import { solanaUniversalAddress } from './solanaLegs.js';
import { classified, FailureType } from './failures.js';
import { legKey } from './legKey.js';
import { routeEventOf, writeOnce } from './legs.js';
import { fetchVerifiedVaa, wormholeMessageLabel } from './wormholeVaa.js';
import type { DeliveryResult, SendInput, SendResult } from './types.js';

/** Custom errors our Wormhole calls can bubble up (route → adapter → token). */
const wormholeErrorsAbi: Abi = [...ballastRouteAbi, ...wormholeAdapterAbi, ...ballastTokenAbi, ...collateralVaultAbi].filter((x) => x.type === 'error');

/**
 * The ledger id of a Wormhole message: `keccak256(abi.encodePacked(uint16 emitterChain, bytes32 emitter,
 * uint64 sequence))` — the VAA id (Wormhole docs: a message is identified by emitter chain, emitter address
 * and sequence) hashed to 32 bytes so it keys the same accounts as a LayerZero GUID.
 */
export function wormholeGuid(emitterChain: number, emitter: Hex, sequence: bigint): Hex {
  return keccak256(encodePacked(['uint16', 'bytes32', 'uint64'], [emitterChain, pad(emitter, { size: 32 }), sequence]));
}

/** The chain's Wormhole settings. @throws non-retryable ConfigError when the chain has no `wormhole` entry. */
export function wormholeOf(c: ChainRuntime): NonNullable<ChainRuntime['wormhole']> {
  if (!c.wormhole) throw ApplicationFailure.nonRetryable(`${c.chainKey}: a Wormhole transfer needs chains[${c.chainKey}].wormhole (chainId, core, adapter) in the config`, FailureType.Config);
  return c.wormhole;
}

/**
 * The Wormhole emitter of `chainKey`'s messages: an EVM chain's WormholeAdapter, or a Solana chain's custody
 * account (32 bytes). @throws non-retryable ConfigError when an EVM chain has no `wormhole` entry.
 */
export function wormholeEmitterOf(ctx: KeeperContext, chainKey: string): { chainId: number; emitter: Hex } {
  const sc = solanaChainOf(ctx, chainKey);
  if (sc) return { chainId: sc.wormholeChainId, emitter: solanaUniversalAddress(sc, 'custody') };
  const w = wormholeOf(chainOf(ctx, chainKey));
  return { chainId: w.chainId, emitter: w.adapter };
}

/**
 * Leg `send` (and the compensation `return`) over Wormhole. `nonce` of the result is the Wormhole sequence,
 * `guid` the message's {@link wormholeGuid}. Idempotent on `route.wormholeSends(key)`.
 * @throws ContractRevert (non-retryable) e.g. NoPeer, WrongMessageFee, InsufficientBalance; ConfigError when
 *   either chain has no Wormhole entry; PacketMismatch when the receipt lacks the route's event.
 */
export async function sendOverWormhole(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
  const src = chainOf(ctx, input.from);
  const srcWh = wormholeOf(src);
  const dstWh = { chainId: wormholeEmitterOf(ctx, input.to).chainId };
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = src.clients.publicClient;
  const readRecord = () => pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [key] });
  const isDone = async () => (await readRecord())[2] > 0n;
  let fee = 0n;
  const r = await classified(() =>
    writeOnce(src.chainKey, key, isDone, async () => {
      fee = await pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSendWormhole' });
      return simulateAndWrite({ clients: src.clients, address: src.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [key, dstWh.chainId, input.amount], value: fee, confirmations: src.confirmations, timeoutMs: src.receiptTimeoutMs, errorsAbi: wormholeErrorsAbi });
    }),
  );
  if (r.alreadyDone) {
    const rec = await readRecord();
    return { legKey: key, alreadyDone: true, guid: wormholeGuid(srcWh.chainId, srcWh.adapter, rec[1]), nonce: rec[1], nativeFeeWei: 0n, blockNumber: await pc.getBlockNumber() };
  }
  const sequence = routeEventOf(r.receipt, src.contracts.route, key, 'RouteSentWormhole')?.sequence;
  if (sequence === undefined) throw ApplicationFailure.nonRetryable(`${src.chainKey}: sendWormhole tx ${r.txHash} has no RouteSentWormhole event for key ${key}`, 'PacketMismatch');
  const guid = wormholeGuid(srcWh.chainId, srcWh.adapter, sequence);
  ctx.metrics.bridgeFeePaid.inc({ kind: 'collateral', route: `${input.from}->${input.to}`, bridge: 'wormhole' }, Number(fee));
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, message: wormholeMessageLabel({ emitterChain: srcWh.chainId, emitter: srcWh.adapter, sequence }), feeWei: fee.toString(), txHash: r.txHash }, 'sent over Wormhole');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, guid, nonce: sequence, nativeFeeWei: fee, blockNumber: r.receipt.blockNumber };
}

/** Whether the destination adapter has minted for `key` (`receivedOf(key) > 0`), read at `blockNumber` when given. */
export async function wormholeDelivered(dst: ChainRuntime, key: Hex, blockNumber?: bigint): Promise<boolean> {
  const wh = wormholeOf(dst);
  const received = await dst.clients.publicClient.readContract({ address: wh.adapter, abi: wormholeAdapterAbi, functionName: 'receivedOf', args: [key], blockNumber });
  return received > 0n;
}

/**
 * Leg `deliver` over Wormhole: done when the destination adapter shows `receivedOf(key)`; otherwise fetch and
 * verify the VAA (retryable `VaaPending` / `VaaRejected` until the guardians serve a good one) and submit
 * `receiveMessage(vaa)` (simulated first). A `VaaAlreadyConsumed` revert means another submitter (or an earlier
 * attempt) redeemed it: the leg re-reads the record and reports it delivered.
 * @throws ContractRevert (non-retryable) for any other revert (e.g. UnknownEmitter, WrongRecipient).
 */
export async function awaitWormholeDelivery(ctx: KeeperContext, input: { from: string; to: string; guid: Hex; nonce: bigint; key: Hex }): Promise<DeliveryResult> {
  const source = wormholeEmitterOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const dstWh = wormholeOf(dst);
  const pc = dst.clients.publicClient;
  if (await wormholeDelivered(dst, input.key)) return { guid: input.guid, deliveredAtBlock: await pc.getBlockNumber() };
  const ref = { emitterChain: source.chainId, emitter: source.emitter, sequence: input.nonce };
  const { vaa } = await fetchVerifiedVaa(ctx, ref, `rebalance key ${input.key} (${input.from}->${input.to})`);
  try {
    const r = await classified(() =>
      writeOnce(dst.chainKey, input.key, () => wormholeDelivered(dst, input.key), () =>
        simulateAndWrite({ clients: dst.clients, address: dstWh.adapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [vaa], confirmations: dst.confirmations, timeoutMs: dst.receiptTimeoutMs, errorsAbi: wormholeErrorsAbi }),
      ),
    );
    if (r.alreadyDone) return { guid: input.guid, deliveredAtBlock: await pc.getBlockNumber() };
    ctx.log.info({ key: input.key, message: wormholeMessageLabel(ref), txHash: r.txHash }, 'VAA redeemed on the destination');
    return { guid: input.guid, deliveredAtBlock: r.receipt.blockNumber, txHash: r.txHash };
  } catch (err) {
    const revert = err instanceof ApplicationFailure && err.type === FailureType.ContractRevert ? ((err.details?.[0] ?? {}) as { errorName?: string }).errorName : err instanceof ContractRevertError ? err.errorName : undefined;
    if (revert === 'VaaAlreadyConsumed' && (await wormholeDelivered(dst, input.key))) return { guid: input.guid, deliveredAtBlock: await pc.getBlockNumber() };
    throw err;
  }
}
