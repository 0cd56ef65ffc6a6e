/**
 * The saga's legs as idempotent activities. Each one is keyed by `legKey(rebalanceId, purpose)`,
 * reads the chain to see whether it already happened (a retry after a crash, a replay), and only
 * then simulates and sends. The contracts also refuse a reused key (`RebalanceIdUsed`), so even a
 * race cannot move funds twice.
 */
import { Options } from '@layerzerolabs/lz-v2-utilities';
import { ApplicationFailure } from '@temporalio/common';
import { erc20Abi, formatEther, type Abi, type Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, endpointV2Abi } from '../contracts/generated/abis.js';
import { asRevert } from '../chains/evm/errors.js';
import { simulateAndWrite } from '../chains/evm/writeContract.js';
import { findPacketDelivered, getDeliveryStatus, packetsSentIn } from '../chains/evm/layerzero.js';
import { chainOf, type KeeperContext } from './context.js';
import { classified, FailureType } from './failures.js';
import { legKey } from './legKey.js';
import type { DeliveryInput, DeliveryResult, FundsLocation, LegResult, SendInput, SendResult, VaultLegInput } from './types.js';

const ZERO32 = /^0x0{64}$/;

/** How far back (blocks) `awaitDelivery` looks for the `PacketDelivered` event once delivery is seen. */
const DELIVERY_LOG_WINDOW = 2_000n;

/**
 * Every custom error our calls can bubble up (route → vault, route → OFT → EndpointV2), so a nested
 * revert is decoded by name instead of shown as a bare selector.
 */
const ballastErrorsAbi: Abi = [...collateralVaultAbi, ...ballastRouteAbi, ...ballastTokenAbi, ...endpointV2Abi].filter((x) => x.type === 'error');

/** LayerZero executor options: gas for `lzReceive` on the destination (type-3 options, LayerZero v2 docs). */
export function lzReceiveOptions(gas: number): Hex {
  return Options.newOptions().addExecutorLzReceiveOption(gas, 0).toHex() as Hex;
}

/**
 * Quotes the native fee (wei) of sending `amount` from `from` to `to` through the route's OFT (`quoteSend`).
 */
export async function quoteBridgeFee(ctx: KeeperContext, input: { from: string; to: string; amount: bigint }): Promise<bigint> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  return classified(async () => {
    try {
      return await src.clients.publicClient.readContract({
        address: src.contracts.route,
        abi: ballastRouteAbi,
        functionName: 'quoteSend',
        args: [dst.eid, input.amount, lzReceiveOptions(ctx.lzReceiveGas)],
      });
    } catch (err) {
      throw asRevert(err, src.chainKey, 'quoteSend') ?? err;
    }
  });
}

/**
 * Leg `withdraw`: source vault → source route (`CollateralVault.withdrawToRoute`).
 * Idempotent on `vault.outflowOf(key)`. @throws ContractRevert (non-retryable) e.g. OutflowCapExceeded.
 */
export async function withdrawFromVault(ctx: KeeperContext, input: VaultLegInput): Promise<LegResult> {
  const c = chainOf(ctx, input.chainKey);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = c.clients.publicClient;
  const done = await pc.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'outflowOf', args: [key] });
  if (done > 0n) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  const { txHash, receipt } = await classified(() =>
    simulateAndWrite({ clients: c.clients, address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [key, input.amount], confirmations: c.confirmations, errorsAbi: ballastErrorsAbi }),
  );
  ctx.log.info({ rebalanceId: input.rebalanceId, chain: c.chainKey, amount: input.amount.toString(), txHash }, 'withdrawn to route');
  return { legKey: key, txHash, alreadyDone: false, blockNumber: receipt.blockNumber };
}

/**
 * Leg `deposit` (and the compensations `redeposit`, `return-deposit`): route → vault on `chainKey`
 * (`BallastRoute.depositToVault`). Idempotent on `vault.inflowOf(key)`.
 * @throws ContractRevert (non-retryable) e.g. InflowPaused, or ERC20 balance errors when the tokens are not there.
 */
export async function depositToVault(ctx: KeeperContext, input: VaultLegInput): Promise<LegResult> {
  const c = chainOf(ctx, input.chainKey);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = c.clients.publicClient;
  const done = await pc.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [key] });
  if (done > 0n) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  const { txHash, receipt } = await classified(() =>
    simulateAndWrite({ clients: c.clients, address: c.contracts.route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [key, input.amount], confirmations: c.confirmations, errorsAbi: ballastErrorsAbi }),
  );
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: c.chainKey, amount: input.amount.toString(), txHash }, 'deposited into vault');
  return { legKey: key, txHash, alreadyDone: false, blockNumber: receipt.blockNumber };
}

/**
 * Leg `send` (and the compensation `return`): the route sends `amount` through the OFT to the
 * peer route on `to` (burn here, mint there), paying the quoted native fee. The GUID is read from
 * the `PacketSent` event (decoded with `PacketV1Codec`) and checked against the route's record.
 * Idempotent on `route.sends(key)`.
 * @throws ContractRevert (non-retryable) e.g. NoPeerRoute, InsufficientBalance.
 */
export async function sendOverBridge(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = src.clients.publicClient;
  const readRecord = () => pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'sends', args: [key] });
  const before = await readRecord();
  if (!ZERO32.test(before[0])) {
    return { legKey: key, alreadyDone: true, guid: before[0], nonce: before[3], nativeFeeWei: 0n, blockNumber: await pc.getBlockNumber() };
  }
  const options = lzReceiveOptions(ctx.lzReceiveGas);
  const fee = await quoteBridgeFee(ctx, input);
  const { txHash, receipt } = await classified(() =>
    simulateAndWrite({ clients: src.clients, address: src.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [key, dst.eid, input.amount, options], value: fee, confirmations: src.confirmations, errorsAbi: ballastErrorsAbi }),
  );
  const packets = packetsSentIn(receipt.logs, src.contracts.endpoint);
  const record = await readRecord();
  const packet = packets.find((p) => p.guid.toLowerCase() === record[0].toLowerCase());
  if (!packet) {
    throw ApplicationFailure.nonRetryable(`${src.chainKey}: send tx ${txHash} has no PacketSent with the route's GUID ${record[0]}`, 'PacketMismatch');
  }
  ctx.metrics.bridgeFeePaid.inc({ route: `${input.from}->${input.to}`, bridge: 'layerzero' }, Number(formatEther(fee)));
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, guid: packet.guid, nonce: packet.nonce.toString(), feeWei: fee.toString(), txHash }, 'sent over LayerZero');
  return { legKey: key, txHash, alreadyDone: false, guid: packet.guid, nonce: packet.nonce, nativeFeeWei: fee, blockNumber: receipt.blockNumber };
}

/**
 * Leg `deliver`: succeeds once the destination EndpointV2 shows the packet executed. Until then it
 * throws the retryable `DeliveryPending`; the workflow's retry policy (backoff, schedule-to-close
 * = the delivery deadline) is the wait loop.
 */
export async function awaitDelivery(ctx: KeeperContext, input: DeliveryInput): Promise<DeliveryResult> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const query = {
    clients: dst.clients,
    endpoint: dst.contracts.endpoint,
    receiver: dst.contracts.token,
    srcEid: src.eid,
    sender: src.contracts.token,
    nonce: input.nonce,
  };
  const status = await getDeliveryStatus(query);
  if (!status.delivered) {
    throw ApplicationFailure.retryable(
      `GUID ${input.guid} (nonce ${input.nonce}) not delivered on ${dst.chainKey} as of block ${status.blockNumber} (${status.verified ? 'verified, awaiting execution' : 'not verified yet'})`,
      FailureType.DeliveryPending,
    );
  }
  // The delivery transaction, for the record (searched in the last DELIVERY_LOG_WINDOW blocks).
  const fromBlock = status.blockNumber > DELIVERY_LOG_WINDOW ? status.blockNumber - DELIVERY_LOG_WINDOW : 0n;
  const log = await findPacketDelivered({ ...query, fromBlock, toBlock: status.blockNumber });
  return { guid: input.guid, deliveredAtBlock: log?.blockNumber ?? status.blockNumber, txHash: log?.txHash };
}

/** Reads where a rebalance's tokens are: the two routes' balances and, if sent, the packet's delivery state. */
export async function locateFunds(ctx: KeeperContext, input: { from: string; to: string; guid?: Hex; nonce?: bigint }): Promise<FundsLocation> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const bal = (c: typeof src) => c.clients.publicClient.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.contracts.route] });
  const [sourceRouteBalance, destinationRouteBalance] = await Promise.all([bal(src), bal(dst)]);
  let delivered: boolean | undefined;
  let verified: boolean | undefined;
  if (input.guid && input.nonce !== undefined) {
    const s = await getDeliveryStatus({ clients: dst.clients, endpoint: dst.contracts.endpoint, receiver: dst.contracts.token, srcEid: src.eid, sender: src.contracts.token, nonce: input.nonce });
    delivered = s.delivered;
    verified = s.verified;
  }
  const parts = [`${src.chainKey} route holds ${sourceRouteBalance}`, `${dst.chainKey} route holds ${destinationRouteBalance}`];
  if (input.guid) parts.push(`LayerZero GUID ${input.guid} nonce ${input.nonce} ${delivered ? 'delivered' : verified ? 'verified, not executed' : 'not delivered'} on ${dst.chainKey}`);
  return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid, delivered, verified };
}
