/**
 * The collateral saga's vault legs on a Solana chain (the Solana chain family; its Wormhole end is
 * activities/bridges/wormholeSolana.ts): SPL transfers tagged with a memo naming the leg key
 * (chains/solana/memos.ts), so every leg is idempotent by rebalance id — the transfer's memo is looked up on
 * chain before anything is sent (chains/solana/memoTransfer.ts) — and simulated before it is sent.
 *
 * A leg owns at most one live transaction: every leg takes an optional {@link SolanaLegJournal}; its `record`
 * receives each newly signed transaction (signature, bytes, lastValidBlockHeight) before it is broadcast, and a
 * retry passes the last one back as `pending`, so a retry while that transaction is still in flight rebroadcasts
 * it instead of signing a second transfer (the caller keeps it, e.g. in Temporal heartbeat details).
 *
 *   withdraw  reserveLiquidity → treasury        (the EVM vault → route)
 *   deposit   treasury → reserveLiquidity        (route → vault; also redeposit and return-deposit)
 *
 * Solana fees are paid in lamports by the keeper's key and are not added to the saga's wei fee total.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Hex } from 'viem';
import type { Keypair } from '@solana/web3.js';
import { findMemoTransfers, transferWithMemo, type MemoTransfer, type PendingSolanaTx, type SolanaTxJournal } from '../chains/solana/memoTransfer.js';
import { depositMemo, withdrawMemo } from '../chains/solana/memos.js';
import { SolanaSimulationError } from '../chains/solana/errors.js';
import type { KeeperContext, SolanaChainRuntime } from './context.js';
import { FailureType } from './failures.js';
import { legKey } from './legKey.js';
import { pendingLegTx, recordLegTx } from './legJournal.js';
import type { LegResult, VaultLegInput } from './types.js';

export type { PendingSolanaTx };

/** The keeper's Solana key. @throws non-retryable ConfigError in a read-only context (no key loaded). */
function signer(sc: SolanaChainRuntime): Keypair {
  if (!sc.keeper) throw ApplicationFailure.nonRetryable(`${sc.chainKey}: no Solana keeper key loaded (config solana.keeper); this context is read-only`, FailureType.Config);
  return sc.keeper;
}

/**
 * Runs a Solana write; a failed simulation (deterministic: e.g. insufficient funds) becomes the non-retryable
 * `ContractRevert` the saga compensates on, like an EVM revert. Timeouts and transport errors stay retryable
 * (the journal's pending transaction and the memo lookup keep the retry from moving funds twice).
 */
async function solanaClassified<T>(sc: SolanaChainRuntime, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SolanaSimulationError) {
      throw ApplicationFailure.create({ type: FailureType.ContractRevert, message: `${sc.chainKey}: ${err.message}`, nonRetryable: true, details: [{ chainKey: sc.chainKey, functionName: 'transferChecked', errorName: err.reason }] });
    }
    throw err;
  }
}

/**
 * The journal of one Solana leg's transaction (chains/solana/memoTransfer.ts `SolanaTxJournal`):
 * `pending` = the transaction a previous attempt of this leg signed (`PendingSolanaTx`: signature, base64 bytes,
 * blockhash, lastValidBlockHeight, memo); `record(tx)` is awaited with every newly signed transaction before it is
 * sent (if it throws, nothing is sent). A journal whose `pending` carries another leg's memo is ignored.
 */
export type SolanaLegJournal = SolanaTxJournal;

/**
 * One memo-tagged transfer by the keeper, idempotent on `memo` (see chains/solana/memoTransfer.ts), with the
 * leg's transaction journal: `journal` when given, else the activity's leg journal (activities/legJournal.ts,
 * Temporal heartbeat details) under the memo.
 */
export function solanaTransfer(sc: SolanaChainRuntime, source: 'reserveLiquidity' | 'treasury', destination: 'reserveLiquidity' | 'treasury' | 'custody', amount: bigint, memo: string, journal: SolanaLegJournal | undefined) {
  const payer = signer(sc);
  return solanaClassified(sc, () =>
    transferWithMemo({
      connection: sc.connection,
      payer,
      mint: sc.accounts.mint,
      decimals: sc.decimals,
      source: sc.accounts[source],
      destination: sc.accounts[destination],
      amount,
      memo,
      priorityFeeMicroLamports: sc.priorityFeeMicroLamports,
      computeUnitLimit: sc.computeUnitLimit,
      commitment: sc.commitment,
      timeoutMs: sc.confirmTimeoutMs,
      journal: journal ?? { pending: pendingLegTx<PendingSolanaTx>(sc.chainKey, memo), record: (tx: PendingSolanaTx) => recordLegTx(sc.chainKey, memo, tx) },
    }),
  );
}

/**
 * Leg `withdraw` on Solana: reserveLiquidity → treasury, memo `ballast:withdraw:<key>`.
 * @param journal the leg's transaction journal ({@link SolanaLegJournal}); without it a retry while the first
 *   transaction is in flight may move the funds twice.
 * @throws non-retryable ContractRevert when the simulation fails; SolanaConfirmTimeoutError (retryable, carries
 *   `pending`) when the confirmation times out.
 */
export async function solanaWithdraw(ctx: KeeperContext, sc: SolanaChainRuntime, input: VaultLegInput, journal?: SolanaLegJournal): Promise<LegResult> {
  const key = legKey(input.rebalanceId, input.purpose);
  const r = await solanaTransfer(sc, 'reserveLiquidity', 'treasury', input.amount, withdrawMemo(key), journal);
  if (!r.alreadyDone) ctx.log.info({ rebalanceId: input.rebalanceId, chain: sc.chainKey, amount: input.amount.toString(), signature: r.signature }, 'withdrawn from the Solana reserve');
  return { legKey: key, alreadyDone: r.alreadyDone, ...(r.alreadyDone ? {} : { txHash: r.signature }), blockNumber: r.slot };
}

/**
 * Leg `deposit` (and `redeposit`, `return-deposit`) on Solana: treasury → reserveLiquidity, memo `ballast:deposit:<key>`.
 * @param journal the leg's transaction journal ({@link SolanaLegJournal}), as for {@link solanaWithdraw}.
 * @throws as {@link solanaWithdraw}.
 */
export async function solanaDeposit(ctx: KeeperContext, sc: SolanaChainRuntime, input: VaultLegInput, journal?: SolanaLegJournal): Promise<LegResult> {
  const key = legKey(input.rebalanceId, input.purpose);
  const r = await solanaTransfer(sc, 'treasury', 'reserveLiquidity', input.amount, depositMemo(key), journal);
  if (!r.alreadyDone) ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: sc.chainKey, amount: input.amount.toString(), signature: r.signature }, 'deposited into the Solana reserve');
  return { legKey: key, alreadyDone: r.alreadyDone, ...(r.alreadyDone ? {} : { txHash: r.signature }), blockNumber: r.slot };
}

/**
 * Every reserve transfer (withdraw or deposit) recorded under `key`, oldest first (searching the reserve
 * liquidity account's newest 1000 signatures): more than one means the leg moved funds more than once.
 */
export function solanaReserveTransfersOf(sc: SolanaChainRuntime, kind: 'withdraw' | 'deposit', key: Hex): Promise<MemoTransfer[]> {
  const memo = kind === 'withdraw' ? withdrawMemo(key) : depositMemo(key);
  const [from, to] = kind === 'withdraw' ? [sc.accounts.reserveLiquidity, sc.accounts.treasury] : [sc.accounts.treasury, sc.accounts.reserveLiquidity];
  return findMemoTransfers({ connection: sc.connection, account: sc.accounts.reserveLiquidity, memo, commitment: sc.commitment, from, to });
}

