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
 * The credit messages (send, deliver, return) live with their bridge: LayerZero in
 * activities/bridges/layerzeroEvm.ts (`sendCredit`, `awaitCreditDelivery`), Wormhole in
 * activities/bridges/wormholeEvm.ts (`sendCreditWormhole` publishing on the core; `fetchCreditVaa` +
 * `redeemCreditVaa` delivering); they are re-exported here. Reserve, apply and the compensations are the same
 * calls whatever the bridge; what the legs share is activities/creditMessenger.ts. `createCapacityActivities(ctx)` (activities/capacityActivities.ts) is what the worker
 * registers (activities/index.ts), with the plan (activities/capacityPlan.ts) and the capacity ledger reads.
 *
 * Each activity takes `(ctx, input)` like legs.ts, reads the chain first to see whether it already
 * happened, and only then simulates and sends (`keyedWrite`, activities/evmWrite.ts: the leg journal, `writeOnce`, `simulateAndWrite`); the contracts also
 * refuse a reused key (`RebalanceIdUsed`). Reverts become the non-retryable `ContractRevert`.
 * The messenger of a chain is discovered from its vault (`vault.creditMessenger()`), so the keeper
 * config needs no new field.
 */
import type { Hex } from 'viem';
import { collateralVaultAbi, creditMessengerAbi } from '../contracts/generated/abis.js';
import { readAppliedCredit, readCreditSend, readPendingCredit, readReservation, readWormholeCreditSend, wormholeMessageId } from '../chains/evm/credit.js';
import { chainOf, type ChainRuntime, type KeeperContext } from './context.js';
import { keyedWrite } from './evmWrite.js';
import { capacityKey, creditErrorsAbi, messengerOf, type ApplyCreditInput, type ReserveCreditInput, type RestoreCreditInput } from './creditMessenger.js';
import type { LegResult } from './types.js';
import type { Address } from 'viem';

export { capacityKey, messengerOf, type ApplyCreditInput, type CapacityPurpose, type ReserveCreditInput, type RestoreCreditInput, type SendCreditInput } from './creditMessenger.js';
export { awaitCreditDelivery, quoteCreditFee, sendCredit } from './bridges/layerzeroEvm.js';
export { fetchCreditVaa, redeemCreditVaa, sendCreditWormhole, type FetchCreditVaaInput, type RedeemCreditVaaInput, type WormholeCreditSendResult } from './bridges/wormholeEvm.js';

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

