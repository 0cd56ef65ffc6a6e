/**
 * SPL token transfers tagged with a memo: the idempotency mechanism of every Solana leg (scratch/SOLANA.md,
 * "Memos"). A leg first looks its memo up in the source account's history; found = already done. Otherwise it
 * sends one transaction [priority fee, compute limit, TransferChecked, Memo]: simulated first, then sent with
 * preflight, then confirmed at the wanted commitment.
 *
 * Memo lookup uses `getSignaturesForAddress` (whose `memo` field is Solana's `"[<utf8 byte length>] <text>"`,
 * several memos joined by "; ") and `getTransaction` for the slot and the amount (pre/post token balances).
 */
import { createMemoInstruction } from '@solana/spl-memo';
import { createTransferCheckedInstruction, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import {
  ComputeBudgetProgram,
  SendTransactionError,
  TransactionExpiredBlockheightExceededError,
  TransactionMessage,
  VersionedTransaction,
  type ConfirmedSignatureInfo,
  type Connection,
  type Finality,
  type Keypair,
  type PublicKey,
  type TransactionSignature,
  type VersionedTransactionResponse,
} from '@solana/web3.js';
import { SolanaConfirmTimeoutError, SolanaSimulationError, SolanaTransactionFailedError } from './errors.js';

/** One memo-tagged token transfer found on chain. Amounts are base units of the mint. */
export interface MemoTransfer {
  signature: string;
  /** Slot the transaction landed in (on the devnet: unique per transaction). */
  slot: bigint;
  /** Block time, unix seconds, when the node knows it. */
  blockTimeSec?: bigint;
  /** Base units moved into `destination`, from the transaction's pre/post token balances. */
  amount: bigint;
  /** Token account debited (the transfer instruction's source). */
  source: PublicKey;
  /** Token account credited (the transfer instruction's destination). */
  destination: PublicKey;
  /** The matching memo text (without the `[len] ` prefix of the RPC's memo field). */
  memo: string;
}

/** Default number of signatures searched (newest first) by {@link findMemoTransfer} / {@link listMemoTransfers}. */
export const DEFAULT_MEMO_SEARCH_LIMIT = 1000;
/** Default compute unit limit of {@link transferWithMemo} (TransferChecked + Memo + ComputeBudget use ~10k). */
export const DEFAULT_COMPUTE_UNIT_LIMIT = 60_000;
/** The RPC's page size limit for getSignaturesForAddress. */
const MAX_PAGE = 1000;

/**
 * Split the RPC's `memo` field into memo texts: `"[5] hello; [3] abc"` → `['hello', 'abc']`. Uses the byte
 * length prefixes, so a memo containing "; " is kept whole; falls back to splitting on "; " if the field does not
 * follow the format.
 * @example parseRpcMemos('[12] ballast:x:1') // ['ballast:x:1'] (prefix must match the UTF-8 byte length)
 */
export function parseRpcMemos(field: string): string[] {
  const bytes = Buffer.from(field, 'utf8');
  const out: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (out.length > 0) {
      if (bytes.toString('utf8', i, i + 2) !== '; ') return fallback();
      i += 2;
    }
    const m = /^\[(\d+)\] /.exec(bytes.toString('latin1', i, Math.min(bytes.length, i + 24)));
    if (!m) return fallback();
    const len = Number(m[1]);
    const start = i + m[0].length;
    if (start + len > bytes.length) return fallback();
    out.push(bytes.toString('utf8', start, start + len));
    i = start + len;
  }
  return out;

  function fallback(): string[] {
    return field.split('; ').map((s) => s.replace(/^\[\d+\] /, ''));
  }
}

/** Optional filters of a memo search: the transfer must debit `from` / credit `to`. */
export interface TransferFilter {
  /** Only transfers whose source is this token account. */
  from?: PublicKey;
  /** Only transfers whose destination is this token account. */
  to?: PublicKey;
}

/**
 * Find the successful transaction touching `account` whose memo equals `memo` exactly and which moves tokens
 * into or out of `account` (a memo-only transaction that merely lists the account does not count). Searches up to
 * `searchLimit` signatures (default 1000), newest first, paged with `before`; then one `getTransaction` per
 * matching signature.
 * @returns the newest matching transfer, or undefined.
 * @throws whatever web3.js throws on transport errors (retryable).
 * @example
 *   const t = await findMemoTransfer({ connection, account: treasury, memo: `ballast:deposit:${key}`, commitment: 'confirmed' });
 *   if (t) console.log(t.amount, t.slot);
 */
export async function findMemoTransfer(
  p: { connection: Connection; account: PublicKey; memo: string; commitment: 'confirmed' | 'finalized'; searchLimit?: number } & TransferFilter,
): Promise<MemoTransfer | undefined> {
  let found: MemoTransfer | undefined;
  await scanSignatures(p.connection, p.account, p.commitment, p.searchLimit ?? DEFAULT_MEMO_SEARCH_LIMIT, async (s) => {
    const memos = successfulMemos(s);
    if (!memos.includes(p.memo)) return 'continue';
    const t = await loadTransfer(p.connection, s, p.memo, p.account, p.commitment, p);
    if (!t) return 'continue';
    found = t;
    return 'stop';
  });
  return found;
}

/**
 * All successful memo-tagged transfers into or out of `account` whose memo starts with `memoPrefix`, oldest first
 * (for the guardian watching custody). Searches up to `searchLimit` signatures (default 1000) newest first and
 * stops at the first signature older than `sinceSlot` (inclusive bound: slot ≥ sinceSlot is returned).
 * @throws whatever web3.js throws on transport errors (retryable).
 * @example
 *   const sends = await listMemoTransfers({ connection, account: custody, memoPrefix: 'ballast:wormhole:v1:', commitment: 'finalized', sinceSlot: 100n });
 */
export async function listMemoTransfers(
  p: { connection: Connection; account: PublicKey; memoPrefix: string; commitment: 'confirmed' | 'finalized'; sinceSlot?: bigint; searchLimit?: number } & TransferFilter,
): Promise<MemoTransfer[]> {
  const out: MemoTransfer[] = [];
  await scanSignatures(p.connection, p.account, p.commitment, p.searchLimit ?? DEFAULT_MEMO_SEARCH_LIMIT, async (s) => {
    if (p.sinceSlot !== undefined && BigInt(s.slot) < p.sinceSlot) return 'stop';
    const memo = successfulMemos(s).find((m) => m.startsWith(p.memoPrefix));
    if (memo === undefined) return 'continue';
    const t = await loadTransfer(p.connection, s, memo, p.account, p.commitment, p);
    if (t) out.push(t);
    return 'continue';
  });
  return out.reverse();
}

/** Page through getSignaturesForAddress (newest first) until `limit` signatures were seen or `visit` says stop. */
async function scanSignatures(
  connection: Connection,
  account: PublicKey,
  commitment: Finality,
  limit: number,
  visit: (s: ConfirmedSignatureInfo) => Promise<'continue' | 'stop'>,
): Promise<void> {
  let before: TransactionSignature | undefined;
  let seen = 0;
  while (seen < limit) {
    const want = Math.min(MAX_PAGE, limit - seen);
    const page = await connection.getSignaturesForAddress(account, { before, limit: want }, commitment);
    for (const s of page) {
      if ((await visit(s)) === 'stop') return;
    }
    seen += page.length;
    const last = page[page.length - 1];
    if (page.length < want || !last) return;
    before = last.signature;
  }
}

/** The memo texts of a successful transaction's signature entry ([] for failed ones or no memo). */
function successfulMemos(s: ConfirmedSignatureInfo): string[] {
  if (s.err !== null && s.err !== undefined) return [];
  if (!s.memo) return [];
  return parseRpcMemos(s.memo);
}

const TOKEN_PROGRAMS = [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID];
/** spl-token instruction tags: Transfer = 3 [source, destination, authority], TransferChecked = 12 [source, mint, destination, authority]. */
const TRANSFER = 3;
const TRANSFER_CHECKED = 12;

/**
 * getTransaction for a matching signature and extract the token transfer touching `account` (and the filter's
 * ends): source/destination from the top-level Transfer/TransferChecked instruction, amount from the destination's
 * pre/post token balances. Returns undefined when the transaction failed or has no such transfer.
 */
async function loadTransfer(
  connection: Connection,
  s: ConfirmedSignatureInfo,
  memo: string,
  account: PublicKey,
  commitment: Finality,
  filter: TransferFilter,
): Promise<MemoTransfer | undefined> {
  const tx = await connection.getTransaction(s.signature, { commitment, maxSupportedTransactionVersion: 0 });
  if (!tx || !tx.meta || tx.meta.err) return undefined;
  const keys = accountKeysOf(tx);
  for (const ix of tx.transaction.message.compiledInstructions) {
    const program = keys[ix.programIdIndex];
    if (!program || !TOKEN_PROGRAMS.some((t) => t.equals(program))) continue;
    const tag = ix.data[0];
    const srcIdx = ix.accountKeyIndexes[0];
    const dstIdx = tag === TRANSFER ? ix.accountKeyIndexes[1] : tag === TRANSFER_CHECKED ? ix.accountKeyIndexes[2] : undefined;
    if (srcIdx === undefined || dstIdx === undefined) continue;
    const source = keys[srcIdx];
    const destination = keys[dstIdx];
    if (!source || !destination) continue;
    if (!source.equals(account) && !destination.equals(account)) continue;
    if (filter.from && !source.equals(filter.from)) continue;
    if (filter.to && !destination.equals(filter.to)) continue;
    const balance = (list: typeof tx.meta.preTokenBalances): bigint => {
      const b = list?.find((e) => e.accountIndex === dstIdx);
      return b ? BigInt(b.uiTokenAmount.amount) : 0n;
    };
    const amount = balance(tx.meta.postTokenBalances) - balance(tx.meta.preTokenBalances);
    const blockTime = tx.blockTime ?? s.blockTime;
    return {
      signature: s.signature,
      slot: BigInt(tx.slot),
      ...(blockTime !== null && blockTime !== undefined ? { blockTimeSec: BigInt(blockTime) } : {}),
      amount,
      source,
      destination,
      memo,
    };
  }
  return undefined;
}

function accountKeysOf(tx: VersionedTransactionResponse): PublicKey[] {
  const ak = tx.transaction.message.getAccountKeys({ accountKeysFromLookups: tx.meta?.loadedAddresses ?? undefined });
  const out: PublicKey[] = [];
  for (let i = 0; i < ak.length; i++) {
    const k = ak.get(i);
    if (k) out.push(k);
  }
  return out;
}

/** Parameters of {@link transferWithMemo}. Amount in base units; fees in micro-lamports per compute unit. */
export interface TransferWithMemoParams {
  connection: Connection;
  /** Pays the fees; also the token owner signing the transfer unless `owner` is given. */
  payer: Keypair;
  /** Owner (authority) of `source`; default `payer`. */
  owner?: Keypair;
  mint: PublicKey;
  /** The mint's decimals (TransferChecked verifies them). */
  decimals: number;
  /** Token account debited. */
  source: PublicKey;
  /** Token account credited. */
  destination: PublicKey;
  /** Base units, > 0. */
  amount: bigint;
  /** The idempotency memo, e.g. `ballast:deposit:0x…`. */
  memo: string;
  /** ComputeBudget priority fee, micro-lamports per compute unit. */
  priorityFeeMicroLamports: number;
  /** Default {@link DEFAULT_COMPUTE_UNIT_LIMIT}. */
  computeUnitLimit?: number;
  commitment: 'confirmed' | 'finalized';
  /** Bound on the confirmation wait after sending. */
  timeoutMs: number;
  /** Signatures searched for the memo before sending (default 1000). */
  searchLimit?: number;
}

/**
 * Move `amount` from `source` to `destination` with `memo`, at most once per memo:
 * 1. {@link findMemoTransfer} on `source` at 'confirmed' (transfers source → destination only; a memo someone else
 *    posts on a transfer INTO `source` does not count): found → `{ alreadyDone: true }`, nothing sent (with
 *    commitment 'finalized' it first waits, up to timeoutMs, until that transfer is finalized).
 * 2. Build [setComputeUnitPrice, setComputeUnitLimit, TransferChecked, Memo] with a fresh blockhash, sign
 *    (payer, owner), `simulateTransaction`; a failure throws {@link SolanaSimulationError} (never sent).
 * 3. `sendRawTransaction` with preflight (a preflight rejection also throws SolanaSimulationError).
 * 4. `confirmTransaction({ signature, blockhash, lastValidBlockHeight }, commitment)` (needs the node's websocket,
 *    web3.js derives it from the URL or takes `wsEndpoint`) bounded by `timeoutMs`; a timeout or an expired
 *    blockhash (block height past lastValidBlockHeight) throws {@link SolanaConfirmTimeoutError} naming the
 *    signature; retrying the same call is safe (step 1 finds a transfer that did land). Then one
 *    `getSignatureStatuses` for the landed slot.
 *    A landed-but-failed transaction throws {@link SolanaTransactionFailedError}.
 * Not safe against two CONCURRENT calls with the same memo (both lookups may miss): one leg runs one call at a time.
 * @returns the signature and slot of the transfer (the earlier one when alreadyDone).
 * @throws RangeError for amount ≤ 0 or ≥ 2^64.
 * @example
 *   const r = await transferWithMemo({ connection, payer: keeper, mint, decimals: 6, source: treasury,
 *     destination: reserveLiquidity, amount: 1_000_000n, memo: `ballast:deposit:${key}`,
 *     priorityFeeMicroLamports: 1000, commitment: 'confirmed', timeoutMs: 60_000 });
 */
export async function transferWithMemo(p: TransferWithMemoParams): Promise<{ alreadyDone: boolean; signature: string; slot: bigint }> {
  if (p.amount <= 0n || p.amount >= 1n << 64n) throw new RangeError(`transferWithMemo: amount ${p.amount} must be a positive u64 (base units)`);
  const what = `transfer ${p.amount} of ${p.mint.toBase58()} ${p.source.toBase58()} -> ${p.destination.toBase58()} memo "${p.memo}"`;
  const done = await findMemoTransfer({
    connection: p.connection,
    account: p.source,
    memo: p.memo,
    // Always 'confirmed' (the freshest view history offers): a lookup at 'finalized' would miss a transfer that
    // landed but is not yet final, and a retry would then move the funds twice.
    commitment: 'confirmed',
    from: p.source,
    to: p.destination,
    ...(p.searchLimit !== undefined ? { searchLimit: p.searchLimit } : {}),
  });
  if (done) {
    if (p.commitment === 'finalized') await waitFinalized(p.connection, done.signature, p.timeoutMs);
    return { alreadyDone: true, signature: done.signature, slot: done.slot };
  }

  const owner = p.owner ?? p.payer;
  const { blockhash, lastValidBlockHeight } = await p.connection.getLatestBlockhash(p.commitment);
  const instructions = [
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports: p.priorityFeeMicroLamports }),
    ComputeBudgetProgram.setComputeUnitLimit({ units: p.computeUnitLimit ?? DEFAULT_COMPUTE_UNIT_LIMIT }),
    createTransferCheckedInstruction(p.source, p.mint, p.destination, owner.publicKey, p.amount, p.decimals),
    createMemoInstruction(p.memo),
  ];
  const labels = ['ComputeBudget setComputeUnitPrice', 'ComputeBudget setComputeUnitLimit', 'spl-token TransferChecked', 'spl-memo Memo'];
  const message = new TransactionMessage({ payerKey: p.payer.publicKey, recentBlockhash: blockhash, instructions }).compileToLegacyMessage();
  const tx = new VersionedTransaction(message);
  tx.sign(owner.publicKey.equals(p.payer.publicKey) ? [p.payer] : [p.payer, owner]);

  const sim = await p.connection.simulateTransaction(tx, { sigVerify: false, commitment: p.commitment });
  if (sim.value.err) {
    const logs = sim.value.logs ?? [];
    throw new SolanaSimulationError(what, describeTransactionError(sim.value.err, logs, labels), logs, sim.value.err);
  }

  let signature: string;
  try {
    signature = await p.connection.sendRawTransaction(tx.serialize(), { skipPreflight: false, preflightCommitment: p.commitment });
  } catch (err) {
    if (err instanceof SendTransactionError) {
      const logs = err.logs ?? [];
      throw new SolanaSimulationError(`${what} (node preflight)`, describeTransactionError(err.transactionError.message, logs, labels), logs, err.transactionError.message);
    }
    throw err;
  }
  const slot = await confirmBounded(p.connection, signature, blockhash, lastValidBlockHeight, p.commitment, p.timeoutMs);
  return { alreadyDone: false, signature, slot };
}

/** Poll getSignatureStatuses (every 400 ms) until `signature` is finalized. @throws SolanaConfirmTimeoutError after timeoutMs. */
async function waitFinalized(connection: Connection, signature: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = (await connection.getSignatureStatuses([signature])).value[0];
    if (st?.err) throw new SolanaTransactionFailedError(signature, st.err);
    if (st?.confirmationStatus === 'finalized') return;
    if (Date.now() >= deadline) throw new SolanaConfirmTimeoutError(signature, timeoutMs, 'finalized', false);
    await new Promise((r) => setTimeout(r, Math.min(400, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * `confirmTransaction` (block-height strategy, websocket `signatureSubscribe` + one status check) bounded by
 * `timeoutMs` through its abortSignal; then the landed slot from `getSignatureStatuses`. See
 * {@link transferWithMemo} step 4.
 */
async function confirmBounded(
  connection: Connection,
  signature: string,
  blockhash: string,
  lastValidBlockHeight: number,
  commitment: 'confirmed' | 'finalized',
  timeoutMs: number,
): Promise<bigint> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new SolanaConfirmTimeoutError(signature, timeoutMs, commitment, false)), timeoutMs);
  try {
    const res = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight, abortSignal: abort.signal }, commitment);
    if (res.value.err) throw new SolanaTransactionFailedError(signature, res.value.err);
  } catch (err) {
    if (err instanceof SolanaConfirmTimeoutError || err instanceof SolanaTransactionFailedError) throw err;
    if (err instanceof TransactionExpiredBlockheightExceededError) throw new SolanaConfirmTimeoutError(signature, timeoutMs, commitment, true);
    // web3.js rejects with the raw TransactionError (not an Error) when the status check finds a failed tx.
    if (!(err instanceof Error)) throw new SolanaTransactionFailedError(signature, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const { value } = await connection.getSignatureStatuses([signature]);
  const st = value[0];
  if (!st) throw new SolanaConfirmTimeoutError(signature, timeoutMs, commitment, false);
  return BigInt(st.slot);
}

/** spl-token `TokenError` variants by custom error code (spl token program error.rs). */
const TOKEN_ERRORS = [
  'NotRentExempt: lamport balance below rent-exempt threshold',
  'InsufficientFunds: insufficient funds',
  'InvalidMint: invalid mint',
  'MintMismatch: account not associated with this mint',
  'OwnerMismatch: owner does not match',
  'FixedSupply: fixed supply',
  'AlreadyInUse: account already in use',
  'InvalidNumberOfProvidedSigners',
  'InvalidNumberOfRequiredSigners',
  'UninitializedState: state is uninitialized',
  'NativeNotSupported',
  'NonNativeHasBalance',
  'InvalidInstruction',
  'InvalidState',
  'Overflow: operation overflowed',
  'AuthorityTypeNotSupported',
  'MintCannotFreeze',
  'AccountFrozen: account is frozen',
  'MintDecimalsMismatch: the provided decimals value differs from the mint decimals',
  'NonNativeNotSupported',
];

/** Transaction-level errors a fee payer can fix, with what to do. */
const TX_ERRORS: Record<string, string> = {
  AccountNotFound: 'the fee payer account does not exist (fund it with SOL)',
  InsufficientFundsForFee: 'the fee payer has not enough SOL for the fee (fund it)',
  BlockhashNotFound: 'the blockhash expired or is unknown (retry with a fresh one)',
  InsufficientFundsForRent: 'an account would fall below rent exemption',
};

/**
 * Human-readable reason of a transaction error: `err` as returned by simulateTransaction (e.g.
 * `{ InstructionError: [2, { Custom: 1 }] }`) or a preflight error message, plus the program logs.
 * @example describeTransactionError({ InstructionError: [2, { Custom: 1 }] }, logs, labels)
 *   // 'instruction 2 (spl-token TransferChecked): InsufficientFunds: insufficient funds (custom error 1)'
 */
export function describeTransactionError(err: unknown, logs: string[], labels: string[] = []): string {
  const logError = [...logs].reverse().find((l) => l.startsWith('Program log: Error: '))?.slice('Program log: Error: '.length);
  if (typeof err === 'string') {
    const known = TX_ERRORS[err];
    if (known) return `${err}: ${known}`;
    return logError ? `${err} (${logError})` : err;
  }
  if (err && typeof err === 'object' && 'InstructionError' in err) {
    const [idx, inner] = (err as { InstructionError: [number, unknown] }).InstructionError;
    const label = labels[idx] ?? 'unknown instruction';
    let detail: string;
    if (inner && typeof inner === 'object' && 'Custom' in inner) {
      const code = Number((inner as { Custom: number }).Custom);
      const tokenErr = label.startsWith('spl-token') ? TOKEN_ERRORS[code] : undefined;
      detail = tokenErr ? `${tokenErr} (custom error ${code})` : `custom program error ${code}${logError ? `: ${logError}` : ''}`;
    } else {
      detail = `${typeof inner === 'string' ? inner : JSON.stringify(inner)}${logError ? ` (${logError})` : ''}`;
    }
    return `instruction ${idx} (${label}): ${detail}`;
  }
  const json = JSON.stringify(err);
  return logError ? `${json} (${logError})` : json;
}
