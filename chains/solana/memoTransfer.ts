/**
 * SPL token transfers tagged with a memo: the idempotency mechanism of every Solana leg (scratch/SOLANA.md,
 * "Memos"). A leg first looks its memo up in the source account's history; found = already done. Otherwise it
 * sends one transaction [priority fee, compute limit, TransferChecked, Memo]: simulated first, then sent with
 * preflight, then confirmed at the wanted commitment.
 *
 * Memo lookup uses `getSignaturesForAddress` (whose `memo` field is Solana's `"[<utf8 byte length>] <text>"`,
 * several memos joined by "; ") and `getTransaction` for the slot and the amount (pre/post token balances).
 *
 * A memo lookup alone cannot stop a double move: a transaction still in flight (sent, not yet landed) is not in
 * history, and a retry that signs anew with a fresh blockhash lets both land. So a leg keeps its signed
 * transaction with its `lastValidBlockHeight` ({@link PendingSolanaTx}, handed out through
 * {@link SolanaTxJournal}.record before it is broadcast) and a retry passes it back: the retry rebroadcasts
 * those same bytes while they can still land, and signs anew only once the block height has passed
 * `lastValidBlockHeight` and the memo is still not on chain (DESIGN.md, "Exactly once, per chain").
 *
 * Audits read every match ({@link findMemoTransfers}), so a double move shows up as a ledger mismatch.
 *
 * The devnet's Wormhole custody stand-in numbers its messages with {@link listCustodySends} (see there): the same
 * rule the keeper uses to learn the sequence of its own send.
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
import { parseWormholeSendMemo, WORMHOLE_SEND_MEMO } from './memos.js';

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
 * Every successful transaction touching `account` whose memo equals `memo` exactly and which moves tokens into or
 * out of `account` (and matches the filter), OLDEST first: what an audit reads, so a memo that moved funds twice
 * shows up twice (the ledger then sums them and reports the mismatch). Same search as {@link findMemoTransfer}
 * (up to `searchLimit` signatures, default 1000, newest first, then one `getTransaction` per match) but it does
 * not stop at the first match.
 * @returns the matching transfers, oldest first; [] when none.
 * @throws whatever web3.js throws on transport errors (retryable).
 * @example
 *   const all = await findMemoTransfers({ connection, account: reserveLiquidity, memo: `ballast:withdraw:${key}`, commitment: 'confirmed' });
 *   const withdrawn = all.reduce((s, t) => s + t.amount, 0n); // > the leg's amount: it moved twice
 */
export async function findMemoTransfers(
  p: { connection: Connection; account: PublicKey; memo: string; commitment: 'confirmed' | 'finalized'; searchLimit?: number } & TransferFilter,
): Promise<MemoTransfer[]> {
  const found: MemoTransfer[] = [];
  await scanSignatures(p.connection, p.account, p.commitment, p.searchLimit ?? DEFAULT_MEMO_SEARCH_LIMIT, async (s) => {
    if (!successfulMemos(s).includes(p.memo)) return 'continue';
    const t = await loadTransfer(p.connection, s, p.memo, p.account, p.commitment, p);
    if (t) found.push(t);
    return 'continue';
  });
  return found.reverse();
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

/** A send into the Wormhole custody stand-in and the sequence of the message it posts. */
export interface CustodySend extends MemoTransfer {
  /** The emitter's (custody account's) sequence of this message: 0 for its first send, +1 per send after. */
  sequence: bigint;
}

/**
 * The Wormhole messages of the devnet's custody stand-in (devnet/solanaCustody.ts) with their sequences, oldest
 * first. The stand-in behaves like Wormhole core: one message per send, numbered by a per-emitter counter that
 * starts at 0 and grows by one per message. A send is a successful transaction with a token transfer INTO
 * `custody` whose memo is a valid send memo (chains/solana/memos.ts `parseWormholeSendMemo`, from any source);
 * the counter has no account of its own, so the sequence of a send is its ordinal among all sends into
 * `custody` in chain order (slot, then position in the block as `getSignaturesForAddress` lists it). It is
 * derived from chain history alone, identically by the custody watcher (which reports it to the guardian) and
 * by the keeper (which learns the sequence of ITS send), and does not change when either restarts. Real
 * Wormhole core keeps the counter in a per-emitter Sequence account and logs `Sequence: N` in the posting
 * transaction; a port to a real cluster reads it there instead.
 *
 * `cursor` lets a watcher resume: only sends at slot ≥ `cursor.slot` are listed, numbered from
 * `cursor.sequence`, which must be the number of sends before that slot (the next cursor is
 * `{ slot: last.slot + 1n, sequence: last.sequence + 1n }`). Without it the whole history of `custody` is read
 * (every signature, one `getTransaction` per send memo): O(history), acceptable for the devnet.
 * @throws whatever web3.js throws on transport errors (retryable).
 * @example
 *   const sends = await listCustodySends({ connection, custody, commitment: 'confirmed' });
 *   const mine = sends.find((s) => s.signature === signature); // mine.sequence: the VAA's sequence
 */
export async function listCustodySends(p: {
  connection: Connection;
  custody: PublicKey;
  commitment: 'confirmed' | 'finalized';
  cursor?: { slot: bigint; sequence: bigint };
}): Promise<CustodySend[]> {
  const transfers = await listMemoTransfers({
    connection: p.connection,
    account: p.custody,
    memoPrefix: WORMHOLE_SEND_MEMO,
    commitment: p.commitment,
    to: p.custody,
    searchLimit: Number.MAX_SAFE_INTEGER,
    ...(p.cursor ? { sinceSlot: p.cursor.slot } : {}),
  });
  let next = p.cursor?.sequence ?? 0n;
  const out: CustodySend[] = [];
  for (const t of transfers) {
    if (!parseWormholeSendMemo(t.memo)) continue;
    out.push({ ...t, sequence: next++ });
  }
  return out;
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

/**
 * A signed transaction of {@link transferWithMemo} that may still be in flight: what a leg keeps (e.g. in its
 * Temporal heartbeat details) so that its retry can rebroadcast it instead of moving the funds a second time.
 * Plain JSON data.
 */
export interface PendingSolanaTx {
  /** The transaction's first signature (base58): its id. */
  signature: string;
  /** The signed wire transaction, base64: rebroadcast byte for byte. */
  serializedBase64: string;
  /** The last block height at which it can still land (from `getLatestBlockhash`). */
  lastValidBlockHeight: number;
  /** Its recent blockhash (base58). */
  blockhash: string;
  /** The idempotency memo it carries: a pending tx is only reused by a call with the same memo. */
  memo: string;
}

/**
 * The journal of one leg's Solana transaction, optional argument of {@link transferWithMemo}.
 * `record` is called with every NEW transaction after it is signed (and simulated) and BEFORE it is broadcast;
 * when it throws (or rejects) nothing is sent and the error propagates. A retry passes the last recorded
 * transaction back as `pending`.
 */
export interface SolanaTxJournal {
  /** The transaction a previous attempt of this leg signed (and maybe sent). Ignored unless `pending.memo` is this call's memo. */
  pending?: PendingSolanaTx;
  /** Keeps a newly signed transaction durably before it is sent (e.g. as a Temporal heartbeat detail). */
  record?: (tx: PendingSolanaTx) => void | Promise<void>;
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
  /** Bound on the confirmation wait after sending (or rebroadcasting). */
  timeoutMs: number;
  /** Signatures searched for the memo before sending (default 1000). */
  searchLimit?: number;
  /** The leg's transaction journal: the pending transaction of an earlier attempt, and where to record a new one. */
  journal?: SolanaTxJournal;
}

/** What {@link transferWithMemo} did. */
export interface TransferWithMemoResult {
  /** True when the transfer had landed before this call (found by the pending transaction's status or the memo lookup). */
  alreadyDone: boolean;
  /** The transfer's signature (base58). */
  signature: string;
  /** The slot it landed in. */
  slot: bigint;
}

/**
 * Move `amount` from `source` to `destination` with `memo`, at most once per memo:
 * 0. With `journal.pending` for this memo (the transaction an earlier attempt signed), its status
 *    (`getSignatureStatuses`, searching history):
 *    - landed and succeeded → done: `{ alreadyDone: true }` with its signature (waiting, bounded by timeoutMs, for
 *      the wanted commitment if it is not there yet);
 *    - landed and failed → continue at step 1 as if there were no pending transaction;
 *    - not landed, block height (at `commitment`) ≤ its lastValidBlockHeight → it may still land: rebroadcast the
 *      SAME bytes (`sendRawTransaction`, skipPreflight; the node's answer is ignored, e.g. AlreadyProcessed) and
 *      confirm it as in step 4 (`{ alreadyDone: false }` when it lands); nothing new is signed;
 *    - not landed, block height past lastValidBlockHeight → it can never land: its status once more, then step 1
 *      (the memo lookup catches a copy that landed just before expiry), then sign anew.
 * 1. {@link findMemoTransfer} on `source` at 'confirmed' (transfers source → destination only; a memo someone else
 *    posts on a transfer INTO `source` does not count): found → `{ alreadyDone: true }`, nothing sent (with
 *    commitment 'finalized' it first waits, up to timeoutMs, until that transfer is finalized).
 * 2. Build [setComputeUnitPrice, setComputeUnitLimit, TransferChecked, Memo] with a fresh blockhash, sign
 *    (payer, owner), `simulateTransaction`; a failure throws {@link SolanaSimulationError} (never sent).
 *    Then `journal.record(pending)` (awaited; if it throws, nothing is sent).
 * 3. `sendRawTransaction` with preflight (a preflight rejection also throws SolanaSimulationError).
 * 4. `confirmTransaction({ signature, blockhash, lastValidBlockHeight }, commitment)` (needs the node's websocket,
 *    web3.js derives it from the URL or takes `wsEndpoint`) bounded by `timeoutMs`; a timeout or an expired
 *    blockhash (block height past lastValidBlockHeight) throws {@link SolanaConfirmTimeoutError} naming the
 *    signature and carrying the transaction as `pending`: retry the same call with that `pending` (a retry
 *    without it is safe only once the transaction has landed or expired). Then one `getSignatureStatuses` for
 *    the landed slot. A landed-but-failed transaction throws {@link SolanaTransactionFailedError}.
 * Not safe against two CONCURRENT calls with the same memo (both lookups may miss): one leg runs one call at a time.
 * @returns the signature and slot of the transfer (the earlier one when alreadyDone).
 * @throws RangeError for amount ≤ 0 or ≥ 2^64; SolanaSimulationError, SolanaConfirmTimeoutError,
 *   SolanaTransactionFailedError as above; whatever `journal.record` throws; web3.js transport errors (retryable).
 * @example
 *   let pending: PendingSolanaTx | undefined; // kept across attempts, e.g. in heartbeat details
 *   const r = await transferWithMemo({ connection, payer: keeper, mint, decimals: 6, source: treasury,
 *     destination: reserveLiquidity, amount: 1_000_000n, memo: `ballast:deposit:${key}`,
 *     priorityFeeMicroLamports: 1000, commitment: 'confirmed', timeoutMs: 60_000,
 *     journal: { pending, record: (tx) => { pending = tx; } } });
 */
export async function transferWithMemo(p: TransferWithMemoParams): Promise<TransferWithMemoResult> {
  if (p.amount <= 0n || p.amount >= 1n << 64n) throw new RangeError(`transferWithMemo: amount ${p.amount} must be a positive u64 (base units)`);
  const what = `transfer ${p.amount} of ${p.mint.toBase58()} ${p.source.toBase58()} -> ${p.destination.toBase58()} memo "${p.memo}"`;

  const pending = p.journal?.pending?.memo === p.memo ? p.journal.pending : undefined;
  if (pending) {
    const resumed = await resumePending(p, pending);
    if (resumed) return resumed;
  }

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

  const wire = tx.serialize();
  const signed: PendingSolanaTx = { signature: bs58Signature(tx), serializedBase64: Buffer.from(wire).toString('base64'), lastValidBlockHeight, blockhash, memo: p.memo };
  // Kept BEFORE it can land: a retry that finds it in flight rebroadcasts it instead of signing a second transfer.
  await p.journal?.record?.(signed);

  let signature: string;
  try {
    signature = await p.connection.sendRawTransaction(wire, { skipPreflight: false, preflightCommitment: p.commitment });
  } catch (err) {
    if (err instanceof SendTransactionError) {
      const logs = err.logs ?? [];
      throw new SolanaSimulationError(`${what} (node preflight)`, describeTransactionError(err.transactionError.message, logs, labels), logs, err.transactionError.message);
    }
    throw err;
  }
  const slot = await confirmBounded(p.connection, { ...signed, signature }, p.commitment, p.timeoutMs);
  return { alreadyDone: false, signature, slot };
}

/**
 * Step 0 of {@link transferWithMemo}: settle the pending transaction of an earlier attempt. Returns the result
 * when it landed (or was rebroadcast and confirmed); undefined when the caller must go on (it failed on chain,
 * or expired without landing). @throws SolanaConfirmTimeoutError (carrying `pending`) when the rebroadcast is
 * not confirmed in time.
 */
async function resumePending(p: TransferWithMemoParams, pending: PendingSolanaTx): Promise<TransferWithMemoResult | undefined> {
  const landed = await landedStatus(p.connection, pending.signature);
  if (landed === 'failed') return undefined;
  if (landed) return settleLanded(p, pending, landed);
  const height = await p.connection.getBlockHeight(p.commitment);
  if (height > pending.lastValidBlockHeight) {
    // Expired: it can no longer land. One more status read closes the gap between the two reads above.
    const last = await landedStatus(p.connection, pending.signature);
    if (last && last !== 'failed') return settleLanded(p, pending, last);
    return undefined;
  }
  try {
    await p.connection.sendRawTransaction(Buffer.from(pending.serializedBase64, 'base64'), { skipPreflight: true, preflightCommitment: p.commitment });
  } catch (err) {
    // The node answered (e.g. AlreadyProcessed: it landed meanwhile; BlockhashNotFound: it expired): the
    // confirmation below tells which. A transport error is retryable: the caller keeps `pending`.
    if (!(err instanceof SendTransactionError)) throw err;
  }
  const slot = await confirmBounded(p.connection, pending, p.commitment, p.timeoutMs);
  return { alreadyDone: false, signature: pending.signature, slot };
}

/** A landed pending transaction: done once it reaches the wanted commitment (waited for, bounded). */
async function settleLanded(p: TransferWithMemoParams, pending: PendingSolanaTx, st: { slot: bigint; commitment: string }): Promise<TransferWithMemoResult> {
  const reached = st.commitment === 'finalized' || (p.commitment === 'confirmed' && st.commitment === 'confirmed');
  if (reached) return { alreadyDone: true, signature: pending.signature, slot: st.slot };
  const slot = await confirmBounded(p.connection, pending, p.commitment, p.timeoutMs);
  return { alreadyDone: true, signature: pending.signature, slot };
}

/**
 * Whether `signature` landed: undefined = not seen (in flight, dropped or never sent), 'failed' = landed with an
 * error, else its slot and confirmation status.
 */
async function landedStatus(connection: Connection, signature: string): Promise<{ slot: bigint; commitment: string } | 'failed' | undefined> {
  const st = (await connection.getSignatureStatuses([signature], { searchTransactionHistory: true })).value[0];
  if (!st) return undefined;
  if (st.err) return 'failed';
  return { slot: BigInt(st.slot), commitment: st.confirmationStatus ?? 'processed' };
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** The first signature of a signed transaction, base58 (its id; what sendRawTransaction answers). */
function bs58Signature(tx: VersionedTransaction): string {
  const sig = tx.signatures[0];
  if (!sig) throw new Error('transferWithMemo: the transaction has no signature after signing');
  let n = 0n;
  for (const b of sig) n = (n << 8n) | BigInt(b);
  let out = '';
  for (; n > 0n; n /= 58n) out = BASE58[Number(n % 58n)] + out;
  for (const b of sig) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
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
 * `confirmTransaction` (block-height strategy, websocket `signatureSubscribe` + one status check) of `tx` bounded
 * by `timeoutMs` through its abortSignal; then the landed slot from `getSignatureStatuses`. See
 * {@link transferWithMemo} step 4: every SolanaConfirmTimeoutError carries `tx` as its `pending`.
 */
async function confirmBounded(connection: Connection, tx: PendingSolanaTx, commitment: 'confirmed' | 'finalized', timeoutMs: number): Promise<bigint> {
  const { signature, blockhash, lastValidBlockHeight } = tx;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new SolanaConfirmTimeoutError(signature, timeoutMs, commitment, false, tx)), timeoutMs);
  try {
    const res = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight, abortSignal: abort.signal }, commitment);
    if (res.value.err) throw new SolanaTransactionFailedError(signature, res.value.err);
  } catch (err) {
    if (err instanceof SolanaConfirmTimeoutError || err instanceof SolanaTransactionFailedError) throw err;
    if (err instanceof TransactionExpiredBlockheightExceededError) throw new SolanaConfirmTimeoutError(signature, timeoutMs, commitment, true, tx);
    // web3.js rejects with the raw TransactionError (not an Error) when the status check finds a failed tx.
    if (!(err instanceof Error)) throw new SolanaTransactionFailedError(signature, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const { value } = await connection.getSignatureStatuses([signature]);
  const st = value[0];
  if (!st) throw new SolanaConfirmTimeoutError(signature, timeoutMs, commitment, false, tx);
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
