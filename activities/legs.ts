/**
 * The saga's legs as idempotent activities. Each one is keyed by `legKey(rebalanceId, purpose)`,
 * reads the chain to see whether it already happened (a retry after a crash, a replay), and only
 * then simulates and sends. The contracts also refuse a reused key (`RebalanceIdUsed`), so even a
 * race cannot move funds twice.
 */
import { Options } from '@layerzerolabs/lz-v2-utilities';
import { ApplicationFailure } from '@temporalio/common';
import { decodeEventLog, erc20Abi, pad, type Abi, type Hex, type TransactionReceipt } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, endpointV2Abi } from '../contracts/generated/abis.js';
import { asRevert, ContractRevertError } from '../chains/evm/errors.js';
import { simulateAndWrite, type WriteResult } from '../chains/evm/writeContract.js';
import { findPacketDelivered, getDeliveryStatus, packetsSentIn } from '../chains/evm/layerzero.js';
import { chainOf, solanaChainOf, type KeeperContext } from './context.js';
import { solanaAwaitDelivery, solanaDeposit, solanaRedeemOf, solanaSend, solanaWithdraw } from './solanaLegs.js';
import { classified, FailureType } from './failures.js';
import { legKey } from './legKey.js';
import { awaitWormholeDelivery, sendOverWormhole, wormholeDelivered, wormholeEmitterOf } from './wormholeLegs.js';
import type { DeliveryInput, DeliveryResult, FundsLocation, LegResult, SendInput, SendResult, VaultLegInput } from './types.js';

const ZERO32 = /^0x0{64}$/;

/** How far back (blocks) `awaitDelivery` looks for the `PacketDelivered` event once delivery is seen. */
const DELIVERY_LOG_WINDOW = 2_000n;

/**
 * Every custom error our calls can bubble up (route → vault, route → OFT → EndpointV2), so a nested
 * revert is decoded by name instead of shown as a bare selector.
 */
const ballastErrorsAbi: Abi = [...collateralVaultAbi, ...ballastRouteAbi, ...ballastTokenAbi, ...endpointV2Abi].filter((x) => x.type === 'error');

/**
 * The idempotent write: skip when the chain already records the action under `key`; otherwise simulate
 * and send. A `RebalanceIdUsed` revert means the action DID happen (an earlier attempt whose answer was
 * lost, seen late by a lagging node): the record is re-read until it shows, and the leg is reported as
 * already done — never as a failure that would trigger a compensation.
 * @throws retryable `StaleRead` when the contract says the key is used but the record keeps reading empty.
 */
export async function writeOnce(chainKey: string, key: Hex, isDone: () => Promise<boolean>, write: () => Promise<WriteResult>): Promise<{ alreadyDone: true } | ({ alreadyDone: false } & WriteResult)> {
  if (await isDone()) return { alreadyDone: true };
  try {
    return { alreadyDone: false, ...(await write()) };
  } catch (err) {
    if (!(err instanceof ContractRevertError && err.errorName === 'RebalanceIdUsed')) throw err;
    for (let i = 0; i < 10; i++) {
      if (await isDone()) return { alreadyDone: true };
      await new Promise((r) => setTimeout(r, 300));
    }
    throw ApplicationFailure.retryable(`${chainKey}: key ${key} is used on chain but its record reads empty (lagging node); retrying`, 'StaleRead');
  }
}

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
  const sc = solanaChainOf(ctx, input.chainKey);
  if (sc) return solanaWithdraw(ctx, sc, input);
  const c = chainOf(ctx, input.chainKey);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = c.clients.publicClient;
  const isDone = async () => (await pc.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'outflowOf', args: [key] })) > 0n;
  const r = await classified(() =>
    writeOnce(c.chainKey, key, isDone, () =>
      simulateAndWrite({ clients: c.clients, address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [key, input.amount], confirmations: c.confirmations, timeoutMs: c.receiptTimeoutMs, errorsAbi: ballastErrorsAbi }),
    ),
  );
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  ctx.log.info({ rebalanceId: input.rebalanceId, chain: c.chainKey, amount: input.amount.toString(), txHash: r.txHash }, 'withdrawn to route');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

/**
 * Leg `deposit` (and the compensations `redeposit`, `return-deposit`): route → vault on `chainKey`
 * (`BallastRoute.depositToVault`). Idempotent on `vault.inflowOf(key)`.
 * @throws ContractRevert (non-retryable) e.g. InflowPaused, or ERC20 balance errors when the tokens are not there.
 */
export async function depositToVault(ctx: KeeperContext, input: VaultLegInput): Promise<LegResult> {
  const sc = solanaChainOf(ctx, input.chainKey);
  if (sc) return solanaDeposit(ctx, sc, input);
  const c = chainOf(ctx, input.chainKey);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = c.clients.publicClient;
  const isDone = async () => (await pc.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [key] })) > 0n;
  const r = await classified(() =>
    writeOnce(c.chainKey, key, isDone, () =>
      simulateAndWrite({ clients: c.clients, address: c.contracts.route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [key, input.amount], confirmations: c.confirmations, timeoutMs: c.receiptTimeoutMs, errorsAbi: ballastErrorsAbi }),
    ),
  );
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: c.chainKey, amount: input.amount.toString(), txHash: r.txHash }, 'deposited into vault');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

/**
 * Leg `send` (and the compensation `return`): the route sends `amount` through the OFT to the
 * peer route on `to` (burn here, mint there), paying the quoted native fee. The GUID is read from
 * the `PacketSent` event (decoded with `PacketV1Codec`) and checked against the route's record.
 * Idempotent on `route.sends(key)`.
 * @throws ContractRevert (non-retryable) e.g. NoPeerRoute, InsufficientBalance.
 */
export async function sendOverBridge(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
  const solanaSrc = solanaChainOf(ctx, input.from);
  if (solanaSrc || solanaChainOf(ctx, input.to)) {
    if (input.bridge !== 'wormhole') throw ApplicationFailure.nonRetryable(`${input.from} -> ${input.to}: a move to or from Solana goes over Wormhole (got bridge "${input.bridge ?? 'layerzero'}")`, FailureType.Config);
    if (solanaSrc) {
      const dstSc = solanaChainOf(ctx, input.to);
      if (dstSc) throw ApplicationFailure.nonRetryable(`${input.from} -> ${input.to}: Solana-to-Solana moves are not supported`, FailureType.Config);
      const dst = chainOf(ctx, input.to);
      return solanaSend(ctx, solanaSrc, input, { chainId: wormholeEmitterOf(ctx, input.to).chainId, recipient: pad(dst.contracts.route, { size: 32 }) });
    }
  }
  if (input.bridge === 'wormhole') return sendOverWormhole(ctx, input);
  if (input.bridge !== undefined && input.bridge !== 'layerzero') throw ApplicationFailure.nonRetryable(`unknown bridge "${input.bridge}" (layerzero | wormhole)`, FailureType.Config);
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = src.clients.publicClient;
  const readRecord = () => pc.readContract({ address: src.contracts.route, abi: ballastRouteAbi, functionName: 'sends', args: [key] });
  const isDone = async () => !ZERO32.test((await readRecord())[0]);
  const options = lzReceiveOptions(ctx.lzReceiveGas);
  let fee = 0n;
  const r = await classified(() =>
    writeOnce(src.chainKey, key, isDone, async () => {
      fee = await quoteBridgeFee(ctx, input);
      return simulateAndWrite({ clients: src.clients, address: src.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [key, dst.eid, input.amount, options], value: fee, confirmations: src.confirmations, timeoutMs: src.receiptTimeoutMs, errorsAbi: ballastErrorsAbi });
    }),
  );
  if (r.alreadyDone) {
    const rec = await readRecord();
    return { legKey: key, alreadyDone: true, guid: rec[0], nonce: rec[3], nativeFeeWei: 0n, blockNumber: await pc.getBlockNumber() };
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
}

/**
 * The route's `eventName` event for rebalance key `key` in `receipt` (`RouteSent` carries the LayerZero GUID,
 * `RouteSentWormhole` the Wormhole sequence), decoded with the route's ABI; undefined when the receipt has none.
 */
export function routeEventOf(receipt: TransactionReceipt, route: Hex, key: Hex, eventName: 'RouteSent'): { guid: Hex } | undefined;
export function routeEventOf(receipt: TransactionReceipt, route: Hex, key: Hex, eventName: 'RouteSentWormhole'): { sequence: bigint } | undefined;
export function routeEventOf(receipt: TransactionReceipt, route: Hex, key: Hex, eventName: 'RouteSent' | 'RouteSentWormhole'): { guid: Hex } | { sequence: bigint } | undefined {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== route.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: ballastRouteAbi, data: log.data, topics: log.topics });
      if ((ev.eventName === 'RouteSent' || ev.eventName === 'RouteSentWormhole') && ev.eventName === eventName && ev.args.rebalanceId.toLowerCase() === key.toLowerCase()) return ev.args;
    } catch {
      // another event of the route
    }
  }
  return undefined;
}

/**
 * Leg `deliver`: succeeds once the destination EndpointV2 shows the packet executed. Until then it
 * throws the retryable `DeliveryPending`; the workflow's retry policy (backoff, schedule-to-close
 * = the delivery deadline) is the wait loop.
 */
export async function awaitDelivery(ctx: KeeperContext, input: DeliveryInput): Promise<DeliveryResult> {
  if (input.bridge === 'wormhole') {
    if (!input.key) throw ApplicationFailure.nonRetryable('a Wormhole delivery needs the send\'s leg key', FailureType.Config);
    const dstSc = solanaChainOf(ctx, input.to);
    if (dstSc) return solanaAwaitDelivery(ctx, dstSc, { ...input, key: input.key }, wormholeEmitterOf(ctx, input.from));
    return awaitWormholeDelivery(ctx, { ...input, key: input.key });
  }
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

/** The route's (EVM) or treasury's (Solana) token balance on `chainKey`, base units. */
async function routeBalanceOf(ctx: KeeperContext, chainKey: string): Promise<bigint> {
  const sc = solanaChainOf(ctx, chainKey);
  if (sc) return BigInt((await sc.connection.getTokenAccountBalance(sc.accounts.treasury, sc.commitment)).value.amount);
  const c = chainOf(ctx, chainKey);
  return c.clients.publicClient.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.contracts.route] });
}

/**
 * Reads where a rebalance's tokens are: the two routes' (Solana: treasuries') balances and, if sent, the
 * message's delivery state (LayerZero: by nonce; Wormhole: the destination adapter's or custody's record).
 * `from`/`to` are the saga's source and destination; `returned: true` says the message named is the
 * compensation's return, which goes `to` → `from` (its delivery is read on `from`).
 */
export async function locateFunds(ctx: KeeperContext, input: { from: string; to: string; guid?: Hex; nonce?: bigint; bridge?: string; key?: Hex; returned?: boolean }): Promise<FundsLocation> {
  const [sourceRouteBalance, destinationRouteBalance] = await Promise.all([routeBalanceOf(ctx, input.from), routeBalanceOf(ctx, input.to)]);
  let delivered: boolean | undefined;
  let verified: boolean | undefined;
  const parts = [`${input.from} route holds ${sourceRouteBalance}`, `${input.to} route holds ${destinationRouteBalance}`];
  const [msgFrom, msgTo] = input.returned ? [input.to, input.from] : [input.from, input.to];
  const what = input.returned ? 'return ' : '';
  if (input.bridge === 'wormhole') {
    if (input.key && input.nonce !== undefined) {
      const dstSc = solanaChainOf(ctx, msgTo);
      delivered = dstSc ? (await solanaRedeemOf(dstSc, input.key)) !== undefined : await wormholeDelivered(chainOf(ctx, msgTo), input.key);
      const e = wormholeEmitterOf(ctx, msgFrom);
      parts.push(`${what}Wormhole message ${e.chainId}/${e.emitter}/${input.nonce} ${delivered ? 'redeemed' : 'not redeemed'} on ${msgTo}`);
    }
    return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid, delivered, verified };
  }
  const src = chainOf(ctx, msgFrom);
  const dst = chainOf(ctx, msgTo);
  if (input.guid && input.nonce !== undefined) {
    const s = await getDeliveryStatus({ clients: dst.clients, endpoint: dst.contracts.endpoint, receiver: dst.contracts.token, srcEid: src.eid, sender: src.contracts.token, nonce: input.nonce });
    delivered = s.delivered;
    verified = s.verified;
  }
  if (input.guid) parts.push(`${what}LayerZero GUID ${input.guid} nonce ${input.nonce} ${delivered ? 'delivered' : verified ? 'verified, not executed' : 'not delivered'} on ${dst.chainKey}`);
  return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid, delivered, verified };
}
