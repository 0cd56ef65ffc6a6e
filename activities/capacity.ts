/**
 * The legs of a capacity move (lending capacity, no tokens) as idempotent activities, mirroring the
 * collateral legs in activities/legs.ts leg for leg:
 *
 *   reserve  vault[from].reserveCredit(id, amount)          comp: restoreCredit(id) while still reserved
 *   send     messenger[from].sendCredit(id, eid[to])         (LayerZero OApp message: id, amount)
 *   deliver  wait until messenger[to] holds the credit as pending (retry = Temporal's retry policy)
 *   apply    vault[to].applyCredit(id)                       comp: return over the same bridge
 *                                                             (messenger[to].returnCredit(id) →
 *                                                              deliver → vault[from].applyCredit(returnKey))
 *
 * Over Wormhole the same saga uses `sendCreditWormhole` (publish on the core; emitter = the messenger)
 * and `redeemCreditVaa` (submit the guardian-signed VAA on the destination) in place of send and
 * deliver, the VAA fetched from the guardian API and verified keeper-side by `fetchCreditVaa`; reserve,
 * apply and the compensations are the same calls. `createCapacityActivities(ctx)` is what the worker
 * registers (activities/index.ts), with the plan (activities/capacityPlan.ts) and the capacity ledger reads.
 *
 * Each activity takes `(ctx, input)` like legs.ts, reads the chain first to see whether it already
 * happened, and only then simulates and sends (`keyedWrite`, activities/evmWrite.ts: the leg journal, `writeOnce`, `simulateAndWrite`); the contracts also
 * refuse a reused key (`RebalanceIdUsed`). Reverts become the non-retryable `ContractRevert`.
 * The messenger of a chain is discovered from its vault (`vault.creditMessenger()`), so the keeper
 * config needs no new field.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Abi, Address, Hex } from 'viem';
import { collateralVaultAbi, creditMessengerAbi, endpointV2Abi } from '../contracts/generated/abis.js';
import { asRevert } from '../chains/evm/errors.js';
import { findPacketDelivered, getDeliveryStatus, lzReceiveOptions } from '../chains/evm/layerzero.js';
import { creditSendsIn, parseVaaEnvelope, readAppliedCredit, readCreditMessenger, readCreditSend, readPendingCredit, readReservation, readWormholeCreditSend, wormholeCreditSendsIn, wormholeMessageId } from '../chains/evm/credit.js';
import { chainOf, type ChainRuntime, type KeeperContext } from './context.js';
import { classified, FailureType } from './failures.js';
import { legKey } from './legKey.js';
import { keyedWrite } from './evmWrite.js';
import type { DeliveryInput, DeliveryResult, LegResult, RebalanceOutcome, SendResult } from './types.js';
import type { InFlight } from '../planner/types.js';
import { awaitVerifiedVaa, type FetchedVaa } from './wormholeVaa.js';
import { DELIVERY_POLL, waitFor } from './waitFor.js';
import { planCapacityMoves } from './capacityPlan.js';
import { observeCapacityFunds, checkCapacityLedger, type ObserveCapacityInput } from './capacityLedger.js';
import { timed } from './timed.js';

/** How far back (blocks) `awaitCreditDelivery` looks for the `PacketDelivered` event once delivery is seen. */
const DELIVERY_LOG_WINDOW = 2_000n;

/** Custom errors our capacity calls can bubble up (vault ↔ messenger ↔ EndpointV2), decoded by name. */
const creditErrorsAbi: Abi = [...collateralVaultAbi, ...creditMessengerAbi, ...endpointV2Abi].filter((x) => x.type === 'error');

/**
 * Which message a capacity leg acts on: `forward` = the move itself (key = rebalance id); `return` =
 * the compensation sending delivered credit back (key = `legKey(id, 'return')`, which equals the
 * messenger's on-chain `returnKeyOf(id)`).
 */
export type CapacityPurpose = 'forward' | 'return';

/** Input of `reserveCredit`. */
export interface ReserveCreditInput {
  rebalanceId: Hex;
  /** The source chain (its vault reserves). */
  chainKey: string;
  /** Capacity, asset base units. */
  amount: bigint;
}

/** Input of `restoreCredit` (compensation of reserve; acts on the reservation under the rebalance id). */
export interface RestoreCreditInput {
  rebalanceId: Hex;
  chainKey: string;
}

/** Input of `sendCredit`: `forward` sends the reservation from → to; `return` sends credit pending on `from` back to `to`. */
export interface SendCreditInput {
  rebalanceId: Hex;
  purpose: CapacityPurpose;
  from: string;
  to: string;
  /** Expected amount (base units): the send is refused when the chain's record says otherwise. */
  amount: bigint;
}

/** Input of `applyCredit`: `forward` on the destination, `return` on the source (the compensation's restore). */
export interface ApplyCreditInput {
  rebalanceId: Hex;
  purpose: CapacityPurpose;
  chainKey: string;
}

/** Message key of a capacity leg: the rebalance id (`forward`) or `legKey(id, 'return')`. */
export function capacityKey(rebalanceId: Hex, purpose: CapacityPurpose): Hex {
  return legKey(rebalanceId, purpose);
}

const messengers = new WeakMap<ChainRuntime, Promise<Address>>();

/**
 * The `CreditMessenger` of a chain, read once per chain runtime from `vault.creditMessenger()`.
 * @throws non-retryable `ConfigError` when the vault has none (capacity moves disabled there).
 */
export async function messengerOf(c: ChainRuntime): Promise<Address> {
  let p = messengers.get(c);
  if (!p) {
    p = readCreditMessenger(c.clients, c.contracts.vault);
    messengers.set(c, p);
    p.catch(() => messengers.delete(c));
  }
  try {
    return await p;
  } catch (err) {
    if (err instanceof Error && /no credit messenger/.test(err.message)) throw ApplicationFailure.nonRetryable(err.message, FailureType.Config);
    throw err;
  }
}

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
 * Leg `reserve`: `vault.reserveCredit(id, amount)` on the source lowers its `borrowLimit` and holds the
 * amount for the messenger. Idempotent on `vault.creditReservations(id)` (any status but `none` = done).
 * @throws ContractRevert (non-retryable) e.g. `InsufficientCredit` (would go below totalBorrowed),
 *   `CreditCapExceeded`, `OutflowPaused`, `AccessControlUnauthorizedAccount`.
 */
export async function reserveCredit(ctx: KeeperContext, input: ReserveCreditInput): Promise<LegResult> {
  const c = chainOf(ctx, input.chainKey);
  const key = input.rebalanceId;
  const pc = c.clients.publicClient;
  const isDone = async () => (await readReservation(c.clients, c.contracts.vault, key)).status !== 'none';
  const r = await keyedWrite(c, key, isDone, { address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'reserveCredit', args: [key, input.amount], errorsAbi: creditErrorsAbi } as const);
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  ctx.log.info({ rebalanceId: input.rebalanceId, chain: c.chainKey, amount: input.amount.toString(), txHash: r.txHash }, 'capacity reserved');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

/**
 * Compensation of `reserve`: `vault.restoreCredit(id)` gives a reservation that was not sent back to
 * the source's `borrowLimit`. Idempotent on the reservation's status (`restored` = done).
 * @throws ContractRevert (non-retryable) `CreditNotReserved` when the reservation was already sent
 *   (the credit left: compensate by returning it instead) or never made.
 */
export async function restoreCredit(ctx: KeeperContext, input: RestoreCreditInput): Promise<LegResult> {
  const c = chainOf(ctx, input.chainKey);
  const key = input.rebalanceId;
  const pc = c.clients.publicClient;
  const isDone = async () => (await readReservation(c.clients, c.contracts.vault, key)).status === 'restored';
  const r = await keyedWrite(c, key, isDone, { address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'restoreCredit', args: [key], errorsAbi: creditErrorsAbi } as const);
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  ctx.log.info({ rebalanceId: input.rebalanceId, chain: c.chainKey, txHash: r.txHash }, 'capacity reservation restored');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

/**
 * Before a capacity send (either bridge): what is about to leave must be exactly what the saga expects — the
 * vault's reservation (forward) or the messenger's pending credit, which can only go back where it came from
 * (return). @throws the `mismatch` failure (non-retryable `PacketMismatch`) naming the difference.
 */
async function checkCreditAboutToLeave(src: ChainRuntime, dst: ChainRuntime, messenger: Address, input: SendCreditInput, mismatch: (what: string) => Error): Promise<void> {
  if (input.purpose === 'forward') {
    const res = await readReservation(src.clients, src.contracts.vault, input.rebalanceId);
    if (res.status === 'reserved' && res.amount !== input.amount) throw mismatch(`vault reserved ${res.amount}, the saga expects ${input.amount}`);
  } else {
    const p = await readPendingCredit(src.clients, messenger, input.rebalanceId);
    if (p.status === 'pending' && p.amount !== input.amount) throw mismatch(`messenger holds ${p.amount} pending, the saga expects ${input.amount}`);
    if (p.status === 'pending' && p.srcEid !== dst.eid) throw mismatch(`the credit came from eid ${p.srcEid}, not ${dst.chainKey} (eid ${dst.eid}); it can only go back there`);
  }
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
  const query = { clients: dst.clients, endpoint: dst.contracts.endpoint, receiver, srcEid: src.eid, sender, nonce: input.nonce };
  let last: Awaited<ReturnType<typeof getDeliveryStatus>> | undefined;
  const status = await waitFor(
    async () => {
      last = await getDeliveryStatus(query);
      return last.delivered ? last : undefined;
    },
    {
      ...DELIVERY_POLL,
      what: `capacity message ${input.guid} delivered on ${dst.chainKey}`,
      onTimeout: () =>
        ApplicationFailure.retryable(
          `capacity message ${input.guid} (nonce ${input.nonce}) not delivered on ${dst.chainKey} as of block ${last?.blockNumber} (${last?.verified ? 'verified, awaiting execution' : 'not verified yet'})`,
          FailureType.DeliveryPending,
        ),
    },
  );
  const fromBlock = status.blockNumber > DELIVERY_LOG_WINDOW ? status.blockNumber - DELIVERY_LOG_WINDOW : 0n;
  const log = await findPacketDelivered({ ...query, fromBlock, toBlock: status.blockNumber });
  return { guid: input.guid, deliveredAtBlock: log?.blockNumber ?? status.blockNumber, txHash: log?.txHash };
}

/**
 * Leg `apply` (and the compensation's restore at the source, `purpose: 'return'`): `vault.applyCredit(key)`
 * claims the credit pending on the chain's messenger and raises `borrowLimit` and
 * `creditReceivedFrom[srcEid]`. Idempotent on `vault.appliedCreditOf(key)`.
 * @throws ContractRevert (non-retryable) e.g. `InflowPaused`, `CreditNotPending` (not delivered, or returned).
 */
export async function applyCredit(ctx: KeeperContext, input: ApplyCreditInput): Promise<LegResult> {
  const c = chainOf(ctx, input.chainKey);
  const key = capacityKey(input.rebalanceId, input.purpose);
  await messengerOf(c); // a clear ConfigError when capacity moves are disabled on this chain
  const pc = c.clients.publicClient;
  const isDone = async () => (await readAppliedCredit(c.clients, c.contracts.vault, key)) > 0n;
  const r = await keyedWrite(c, key, isDone, { address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'applyCredit', args: [key], errorsAbi: creditErrorsAbi } as const);
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, blockNumber: await pc.getBlockNumber() };
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: c.chainKey, txHash: r.txHash }, 'capacity applied');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

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

/** Where a capacity move's credit is, as far as the chains show (for a `stranded` outcome). */
export interface CreditLocation {
  summary: string;
  /** Source vault reservation under the rebalance id. */
  reservation: { amount: bigint; status: string };
  /** The forward message, when sent: its id (LayerZero GUID or Wormhole message id), amount, and whether the destination messenger holds it. */
  sent?: { bridge: 'layerzero' | 'wormhole'; id: string; amount: bigint; delivered: boolean };
  /** Destination messenger's record of the forward message. */
  pendingAtDestination: { amount: bigint; status: string };
  /** Applied on the destination vault (base units). */
  applied: bigint;
  /** The return message, when sent. */
  returned?: { bridge: 'layerzero' | 'wormhole'; id: string; amount: bigint; delivered: boolean };
  /** Source messenger's record of the return message. */
  pendingAtSource: { amount: bigint; status: string };
  /** Applied back on the source vault (base units). */
  returnApplied: bigint;
}

/** Reads every record of one capacity move on both chains and says where its credit is. */
export async function locateCredit(ctx: KeeperContext, input: { rebalanceId: Hex; from: string; to: string }): Promise<CreditLocation> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const [srcM, dstM] = await Promise.all([messengerOf(src), messengerOf(dst)]);
  const id = input.rebalanceId;
  const ret = capacityKey(id, 'return');
  const [reservation, pendingAtDestination, applied, pendingAtSource, returnApplied, sent, returned] = await Promise.all([
    readReservation(src.clients, src.contracts.vault, id),
    readPendingCredit(dst.clients, dstM, id),
    readAppliedCredit(dst.clients, dst.contracts.vault, id),
    readPendingCredit(src.clients, srcM, ret),
    readAppliedCredit(src.clients, src.contracts.vault, ret),
    anySend(src, srcM, id),
    anySend(dst, dstM, ret),
  ]);
  if (sent) sent.delivered = pendingAtDestination.status !== 'none';
  if (returned) returned.delivered = pendingAtSource.status !== 'none';
  const parts = [`${src.chainKey} reservation ${reservation.status} (${reservation.amount})`];
  if (sent) parts.push(`${sent.bridge} message ${sent.id} (${sent.amount}) ${sent.delivered ? `delivered, ${pendingAtDestination.status} on ${dst.chainKey}` : `not delivered to ${dst.chainKey}`}`);
  if (applied > 0n) parts.push(`${dst.chainKey} applied ${applied}`);
  if (returned) parts.push(`return ${returned.bridge} message ${returned.id} (${returned.amount}) ${returned.delivered ? `delivered, ${pendingAtSource.status} on ${src.chainKey}` : `not delivered to ${src.chainKey}`}`);
  if (returnApplied > 0n) parts.push(`${src.chainKey} re-applied ${returnApplied}`);
  return {
    summary: parts.join('; '),
    reservation,
    sent,
    pendingAtDestination,
    applied,
    returned,
    pendingAtSource,
    returnApplied,
  };
}

/**
 * The message a messenger sent under `key`, over either bridge: its id (LayerZero GUID, or
 * `wormhole/<chain>/<emitter>/<sequence>`) and amount; undefined when none. `delivered` is filled by the caller.
 */
export async function anySend(c: ChainRuntime, messenger: Address, key: Hex, block?: bigint): Promise<{ bridge: 'layerzero' | 'wormhole'; id: string; amount: bigint; delivered: boolean } | undefined> {
  const [lz, wh] = await Promise.all([readCreditSend(c.clients, messenger, key, block), readWormholeCreditSend(c.clients, messenger, key, block)]);
  if (lz) return { bridge: 'layerzero', id: lz.guid, amount: lz.amount, delivered: false };
  if (!wh) return undefined;
  const emitterChain = await c.clients.publicClient.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'wormholeChainId', blockNumber: block });
  return { bridge: 'wormhole', id: wormholeMessageId(emitterChain, messenger, wh.sequence), amount: wh.amount, delivered: false };
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
  return awaitVerifiedVaa(ctx, { emitterChain: input.emitterChain, emitter: input.emitter, sequence: input.sequence }, `capacity ${input.purpose} ${input.rebalanceId} (${input.from}->${input.to})`);
}

/**
 * The capacity activities as the worker registers them (spread into `createActivities`): the legs and
 * compensations (writes run in `timed`: leg timing, heartbeat, running-leg tracker), the delivery waits,
 * the capacity ledger reads, the plan, and the saga's start/outcome bookkeeping.
 */
export function createCapacityActivities(ctx: KeeperContext) {
  const route = (from: string, to: string) => `${from}->${to}`;
  const capacity = { kind: 'capacity' } as const; // the `kind` label of this saga's leg metrics
  return {
    async planCapacityMoves(input: { inFlight: InFlight[] }) {
      return planCapacityMoves(ctx, input);
    },
    async quoteCreditFee(input: { from: string; to: string }) {
      return quoteCreditFee(ctx, input);
    },
    async reserveCredit(input: ReserveCreditInput) {
      return timed(ctx, 'reserve', input.chainKey, () => reserveCredit(ctx, input), input.rebalanceId, capacity);
    },
    async restoreCredit(input: RestoreCreditInput) {
      return timed(ctx, 'restore', input.chainKey, () => restoreCredit(ctx, input), input.rebalanceId, capacity);
    },
    async sendCredit(input: SendCreditInput) {
      return timed(ctx, input.purpose === 'forward' ? 'send' : 'return', route(input.from, input.to), () => sendCredit(ctx, input), input.rebalanceId, { ...capacity, bridge: 'layerzero' });
    },
    async sendCreditWormhole(input: SendCreditInput) {
      return timed(ctx, input.purpose === 'forward' ? 'send' : 'return', route(input.from, input.to), () => sendCreditWormhole(ctx, input), input.rebalanceId, { ...capacity, bridge: 'wormhole' });
    },
    async awaitCreditDelivery(input: DeliveryInput) {
      // `deliver` runs from the first check of a message until it is delivered (each check is one attempt).
      const r = route(input.from, input.to);
      ctx.metrics.legs.start('deliver', r, input.guid.toLowerCase(), { ...capacity, bridge: input.bridge ?? 'layerzero' });
      const out = await timed(ctx, 'deliver-check', r, () => awaitCreditDelivery(ctx, input), undefined, capacity);
      ctx.metrics.legs.end('deliver', r, input.guid.toLowerCase());
      return out;
    },
    async fetchCreditVaa(input: FetchCreditVaaInput) {
      const r = route(input.from, input.to);
      const key = wormholeMessageId(input.emitterChain, input.emitter, input.sequence);
      ctx.metrics.legs.start('deliver', r, key, { ...capacity, bridge: 'wormhole' });
      const out = await timed(ctx, 'deliver-check', r, () => fetchCreditVaa(ctx, input), undefined, capacity);
      // the leg stays open until the VAA is redeemed (redeemCreditVaa ends it)
      return out;
    },
    async redeemCreditVaa(input: RedeemCreditVaaInput & { from: string }) {
      const r = route(input.from, input.chainKey);
      const out = await timed(ctx, 'redeem', r, () => redeemCreditVaa(ctx, input), input.rebalanceId, { ...capacity, bridge: 'wormhole' });
      const env = parseVaaEnvelope(input.vaa);
      ctx.metrics.legs.end('deliver', r, wormholeMessageId(env.emitterChain, env.emitterAddress, env.sequence));
      return out;
    },
    async applyCredit(input: ApplyCreditInput) {
      return timed(ctx, input.purpose === 'forward' ? 'apply' : 'return-apply', input.chainKey, () => applyCredit(ctx, input), input.rebalanceId, capacity);
    },
    async locateCredit(input: { rebalanceId: Hex; from: string; to: string }) {
      return locateCredit(ctx, input);
    },
    async observeCapacityFunds(input: ObserveCapacityInput) {
      return observeCapacityFunds(ctx, input);
    },
    async checkCapacityLedger(input: { openingCapacity?: bigint } = {}) {
      return checkCapacityLedger(ctx, input);
    },
    /** Metrics and a log line when a capacity saga starts (counted with the rebalances, labelled by its bridge). */
    async recordCapacityStarted(input: { rebalanceId: Hex; from: string; to: string; amount: bigint; bridge: string }) {
      ctx.metrics.rebalancesStarted.inc({ kind: 'capacity', route: route(input.from, input.to), bridge: input.bridge });
      ctx.log.info({ rebalanceId: input.rebalanceId, kind: 'capacity', route: route(input.from, input.to), bridge: input.bridge, amount: input.amount.toString() }, 'capacity move started');
    },
    /** Metrics and a log line when a capacity saga ends; `stranded` is logged at error level (alert). */
    async recordCapacityOutcome(input: { rebalanceId: Hex; from: string; to: string; amount: bigint; bridge: string; outcome: RebalanceOutcome; reason?: string; durationSec: number; messageIds: string[]; where?: string }) {
      const r = route(input.from, input.to);
      ctx.metrics.legs.endKey(input.rebalanceId);
      for (const k of input.messageIds) ctx.metrics.legs.endKey(k.toLowerCase());
      ctx.metrics.rebalancesTotal.inc({ kind: 'capacity', route: r, bridge: input.bridge, outcome: input.outcome });
      const fields = { rebalanceId: input.rebalanceId, kind: 'capacity', route: r, bridge: input.bridge, amount: input.amount.toString(), outcome: input.outcome, reason: input.reason, durationSec: input.durationSec, messages: input.messageIds, where: input.where };
      if (input.outcome === 'stranded') ctx.log.error(fields, 'capacity move STRANDED: credit located, operator action needed');
      else ctx.log.info(fields, `capacity move ${input.outcome}`);
    },
  };
}
