/**
 * The keyed idempotent write: a leg key owns at most one live transaction, a retry re-checks that transaction
 * first, and no revert of the keyed write is called a failure before the chain has been re-read.
 */
import { ApplicationFailure } from '@temporalio/common';
import { TransactionReceiptNotFoundError, type Hash, type Hex, type TransactionReceipt } from 'viem';
import type { EvmClients } from './clients.js';
import { ContractRevertError, TxReplacedError } from './errors.js';
import { nonceRefusalOf, waitForEvmTx, type EvmNonceManager, type PendingEvmTx, type WriteResult } from './writeContract.js';

export interface WriteOnceParams {
  /** The chain's key; must equal `pending.chainKey` when `pending` is given. */
  chainKey: string;
  /** The leg key (bytes32) the contract records the action under. */
  key: Hex;
  /** Reads the chain: true when the action under `key` already happened (by us or anyone). */
  isDone: () => Promise<boolean>;
  /**
   * Sends the keyed write and waits for it, e.g. `(onSigned) => simulateAndWrite({ ..., onSigned })`; it must pass
   * `onSigned` on so the signed transaction is journaled before it is broadcast.
   */
  write: (onSigned?: (tx: PendingEvmTx) => void | Promise<void>) => Promise<WriteResult>;
  /** The leg's own transaction from an earlier attempt (what `record` was given then), looked up first. */
  pending?: PendingEvmTx;
  /** Journals the leg's transaction before broadcast (e.g. into Temporal heartbeat details); passed to `write`. */
  record?: (tx: PendingEvmTx) => void | Promise<void>;
  /** Clients of `chainKey`, with the keeper's account (the one `write` signs with). */
  clients: EvmClients;
  /** Bound of the wait for `pending`'s receipt, ms (default 60 s; use the chain's receipt timeout). */
  receiptTimeoutMs?: number;
  /** Confirmations for `pending`'s receipt (default 1). */
  confirmations?: number;
  /**
   * Bound of the wait, after a revert, for the account's transactions that were pending at that moment to mine,
   * ms (default 12 s).
   */
  settleTimeoutMs?: number;
  /**
   * Custom errors that mean "this key is used on chain" (default `RebalanceIdUsed`, `VaaAlreadyConsumed`): when the
   * record still reads empty after such a revert, the node is lagging and a retryable `StaleRead` is thrown.
   */
  keyUsedErrors?: readonly string[];
  /** The nonce manager `write` uses, reset when `pending` turns out lost (default: the process-wide one). */
  nonceManager?: EvmNonceManager;
}

/**
 * `alreadyDone: true`: the action under the key happened before this call (found by `isDone`, or it is the mined
 * `pending` transaction, whose hash and receipt are then given); `alreadyDone: false`: this call's write.
 */
export type WriteOnceResult = { alreadyDone: true; txHash?: Hash; receipt?: TransactionReceipt } | ({ alreadyDone: false } & WriteResult);

/** Poll interval of the settle and lagging-node waits, ms. */
const POLL_MS = 250;
/** How many times a write whose transaction was replaced (nonce taken by another writer) is tried again. */
const REPLACED_ROUNDS = 3;

/**
 * The idempotent keyed write, in this order:
 * 1. `pending` (the leg's own transaction from an earlier attempt): mined with success → done (its hash and
 *    receipt); mined reverted, or still in the pool → waited for (bounded by `receiptTimeoutMs`), then decided
 *    by `isDone`; not found and its nonce consumed by another transaction → go on; not found and its nonce free →
 *    rebroadcast `serialized` (same hash) and wait for it.
 * 2. `isDone()` → `{ alreadyDone: true }`.
 * 3. `write(record)`.
 * 4. Any revert of the write (simulation revert of any name, or a mined revert) is re-checked against the chain:
 *    wait (bounded by `settleTimeoutMs`) until the account's transactions pending at that moment have mined, then
 *    `isDone()` → `{ alreadyDone: true }`; a key-used revert (`RebalanceIdUsed`) whose record keeps reading empty
 *    → retryable `StaleRead`; otherwise the revert is rethrown.
 * @throws ContractRevertError when the write reverted and the chain shows the action not done (deterministic);
 *   retryable ApplicationFailure `StaleRead` (key used but record empty: lagging node) or `WritePending` (the
 *   account's transactions did not mine within `settleTimeoutMs`, so the revert cannot be judged yet);
 *   ReceiptTimeoutError when `pending`, or the write's transaction, has no receipt in time (retry with it as
 *   `pending`); NonceConflictError, TxReplacedError (after 3 rounds), transport errors as they are; Error when
 *   `pending.chainKey` differs from `chainKey`.
 * @example
 *   const r = await writeOnce({ chainKey, key, clients, isDone, pending: lastTx, record: (tx) => heartbeat(tx),
 *     write: (onSigned) => simulateAndWrite({ clients, address, abi, functionName: 'act', args: [key], onSigned }) });
 */
export async function writeOnce(p: WriteOnceParams): Promise<WriteOnceResult> {
  if (p.pending) {
    const mined = await settlePending(p, p.pending);
    if (mined) return { alreadyDone: true, txHash: mined.transactionHash, receipt: mined };
  }
  for (let round = 1; ; round++) {
    if (await p.isDone()) return { alreadyDone: true };
    try {
      return { alreadyDone: false, ...(await p.write(p.record)) };
    } catch (err) {
      if (err instanceof TxReplacedError && round < REPLACED_ROUNDS) continue;
      if (!(err instanceof ContractRevertError)) throw err;
      return await recheckRevert(p, err);
    }
  }
}

/**
 * Resolves the leg's earlier transaction: its receipt when it mined with success; undefined when the caller must
 * go on to `isDone` (it reverted, was replaced, or is lost with its nonce consumed).
 */
async function settlePending(p: WriteOnceParams, tx: PendingEvmTx): Promise<TransactionReceipt | undefined> {
  if (tx.chainKey !== p.chainKey) throw new Error(`writeOnce(${p.chainKey}, ${p.key}): pending tx ${tx.hash} belongs to chain ${tx.chainKey}`);
  const pc = p.clients.publicClient;
  const label = `pending tx of key ${p.key}`;
  const wait = async () => {
    try {
      return await waitForEvmTx(p.clients, tx, { label, confirmations: p.confirmations, timeoutMs: p.receiptTimeoutMs, nonceManager: p.nonceManager });
    } catch (err) {
      if (err instanceof TxReplacedError) return undefined;
      throw err;
    }
  };
  const receipt = await pc.getTransactionReceipt({ hash: tx.hash }).catch((err: unknown) => {
    if (err instanceof TransactionReceiptNotFoundError) return undefined;
    throw err;
  });
  let settled: TransactionReceipt | undefined;
  if (receipt || (await inPool(p.clients, tx.hash))) {
    settled = await wait();
  } else {
    const address = p.clients.walletClient?.account.address;
    const consumed = address !== undefined && (await pc.getTransactionCount({ address, blockTag: 'latest' })) > tx.nonce;
    if (consumed || !tx.serialized) return undefined;
    try {
      await pc.sendRawTransaction({ serializedTransaction: tx.serialized });
    } catch (err) {
      // The node holds another transaction with this nonce, or ours arrived meanwhile: both are decided on chain.
      if (nonceRefusalOf(err) === undefined) throw err;
      if (!(await inPool(p.clients, tx.hash))) return undefined;
    }
    settled = await wait();
  }
  return settled?.status === 'success' ? settled : undefined;
}

/** Whether the node knows transaction `hash` (pool or chain). */
async function inPool(clients: EvmClients, hash: Hash): Promise<boolean> {
  try {
    await clients.publicClient.getTransaction({ hash });
    return true;
  } catch {
    return false;
  }
}

/** Step 4: a revert is a failure only once the account's in-flight transactions have mined and `isDone` still says no. */
async function recheckRevert(p: WriteOnceParams, revert: ContractRevertError): Promise<WriteOnceResult> {
  const settled = await accountSettled(p);
  if (await p.isDone()) return { alreadyDone: true };
  const keyUsed = revert.errorName !== undefined && (p.keyUsedErrors ?? ['RebalanceIdUsed', 'VaaAlreadyConsumed']).includes(revert.errorName);
  if (keyUsed) {
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      if (await p.isDone()) return { alreadyDone: true };
    }
    throw ApplicationFailure.retryable(`${p.chainKey}: key ${p.key} is used on chain but its record reads empty (lagging node); retrying`, 'StaleRead');
  }
  if (!settled) {
    throw ApplicationFailure.retryable(`${p.chainKey}: ${revert.message}; but the keeper account still has transactions pending after ${p.settleTimeoutMs ?? 12_000} ms, so key ${p.key} cannot be judged yet; retrying`, 'WritePending');
  }
  throw revert;
}

/**
 * Waits until every transaction the account had pending when called has mined (latest nonce ≥ that pending nonce),
 * polling every 250 ms up to `settleTimeoutMs`. @returns false when the bound passed first.
 */
async function accountSettled(p: WriteOnceParams): Promise<boolean> {
  const address = p.clients.walletClient?.account.address;
  if (!address) return true;
  const pc = p.clients.publicClient;
  const target = await pc.getTransactionCount({ address, blockTag: 'pending' });
  const deadline = Date.now() + (p.settleTimeoutMs ?? 12_000);
  for (;;) {
    if ((await pc.getTransactionCount({ address, blockTag: 'latest' })) >= target) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
