/**
 * The devnet's Solana chain: a Solana JSON-RPC 2.0 server (HTTP + the `signatureSubscribe` websocket) backed by
 * LiteSVM, so `@solana/web3.js` 1.x `Connection` talks to it exactly as to a real node (scratch/SOLANA.md,
 * "The devnet Solana chain").
 *
 * Rules (a real node's behaviour where it matters to a client):
 * - ONE transaction per slot: after every landed transaction (and airdrop) the slot advances by 1 (`warpToSlot`)
 *   and the Clock's `unix_timestamp` follows wall-clock seconds, so a transaction's slot identifies it.
 *   Block height = slot.
 * - Blockhashes: every `getLatestBlockhash` call issues a NEW blockhash (LiteSVM `expireBlockhash`), valid while the
 *   block height is <= its `lastValidBlockHeight` (issue slot + 150). web3.js needs the blockhash to change: it will
 *   not resend a legacy `Transaction` whose signature it already sent and instead polls for a new blockhash (~10 s,
 *   then "Unable to obtain a new blockhash"). LiteSVM only knows its latest blockhash, so its own check is off and
 *   the server checks the blockhash itself (`BlockhashNotFound`); durable-nonce transactions are not checked.
 *   Resending identical bytes fails with `AlreadyProcessed`, like a real node.
 * - `sendTransaction` runs a preflight simulation unless `skipPreflight`; a failing preflight answers JSON-RPC
 *   error -32002 `Transaction simulation failed: ...` with `data: { err, logs, accounts, unitsConsumed, returnData }`
 *   (web3.js raises `SendTransactionError` carrying the logs). With `skipPreflight`, a transaction failing in a
 *   program lands (fee charged, recorded with its `err`); one rejected before execution (bad blockhash, duplicate,
 *   fee payer unfunded) is answered with -32002 too (a real node would drop it silently; here the caller learns why).
 * - A landed transaction is at once `finalized` (LiteSVM has no forks).
 * - History (in memory): signature -> slot, blockTime, wire bytes, meta (err, fee, logs, pre/post lamport and SPL
 *   token balances, inner instructions) for `getTransaction` / `getSignaturesForAddress` (memo field in Solana's
 *   format `"[<utf8 byte length>] <text>"`, several joined by `"; "`, from Memo v2 and v1 instructions).
 *   Airdrops are in `getSignatureStatuses` only (not in getTransaction / getSignaturesForAddress).
 * - Websocket: on the HTTP port itself and, as web3.js derives it (`ws://host:<port+1>`), on port+1; only
 *   `signatureSubscribe` / `signatureUnsubscribe` (what `confirmTransaction` needs) and `ping`; a notification is
 *   sent at once when the signature is already known.
 *
 * Methods: getAccountInfo, getMultipleAccounts (web3.js `getMultipleAccountsInfo`), getBalance, getLatestBlockhash,
 * getSlot, getBlockHeight, getMinimumBalanceForRentExemption, getFeeForMessage, sendTransaction, simulateTransaction,
 * getSignatureStatuses, getSignaturesForAddress, getTransaction, getTokenAccountBalance, getRecentPrioritizationFees,
 * requestAirdrop, getVersion, getHealth, getGenesisHash, getEpochInfo, isBlockhashValid, and the DEVNET-ONLY
 * `ballastDevnet_setAccount(pubkey, { lamports, data: [b64, 'base64'], owner, executable? })` (overwrites an
 * account, for what a real chain does through programs we do not have: a Pyth price account, a reserve).
 * Unknown method -> -32601 naming it; malformed params -> -32602 with the reason; batch requests supported.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { LiteSVM, FailedTransactionMetadata, type TransactionMetadata } from 'litesvm';
import { address, lamports as kitLamports, getTransactionDecoder, getBase58Decoder, getBase58Encoder, type Transaction as KitTransaction } from '@solana/kit';
import { AddressLookupTableAccount, PublicKey, VersionedMessage, VersionedTransaction } from '@solana/web3.js';
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, unpackAccount, unpackMint } from '@solana/spl-token';

/** A running devnet Solana RPC server. */
export interface SolanaRpcServer {
  /** HTTP JSON-RPC endpoint, e.g. `http://127.0.0.1:40123` (websocket on the same port and on port+1). */
  url: string;
  /** The LiteSVM behind it (in-process callers may read it; prefer the RPC/this object's methods for writes). */
  svm: LiteSVM;
  /** Current slot (the next transaction lands in it). */
  slot(): bigint;
  /** DEVNET-ONLY: create or overwrite an account (lamports in base units, owner base58). */
  setAccount(pubkey: string, acct: { lamports: bigint; data: Uint8Array; owner: string; executable?: boolean }): void;
  /** The account's data, or undefined when it does not exist. */
  getAccountData(pubkey: string): Uint8Array | undefined;
  /**
   * DEVNET-ONLY fault switch: while held (`true`), transactions still land (balances, history, memos) but their
   * confirmation is withheld: `getSignatureStatuses` answers `null` for them and `signatureSubscribe` does not
   * notify. Releasing (`false`) reports every held status and notifies the waiting subscribers. Lets a test make a
   * client's confirmation wait time out deterministically, without racing the server.
   */
  holdConfirmations(held: boolean): void;
  /**
   * Close the HTTP and websocket listeners and every open connection. Websocket peers get a close frame with code
   * 1000 so web3.js does not reconnect; a client still waiting on a confirmation at that moment would retry the
   * websocket forever (web3.js behaviour), so stop after the clients are done.
   */
  stop(): Promise<void>;
}

/** A JSON-RPC error raised by a handler: code, message, optional data. */
class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

const MEMO_V2 = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr';
const MEMO_V1 = 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo';
const COMPUTE_BUDGET = 'ComputeBudget111111111111111111111111111111';
/** Programs counted as builtins for the default compute-unit limit (3,000 CU each instead of 200,000). */
const BUILTINS = new Set([
  '11111111111111111111111111111111', COMPUTE_BUDGET, 'Vote111111111111111111111111111111111111111',
  'Stake11111111111111111111111111111111111111', 'Config1111111111111111111111111111111111111',
  'BPFLoader1111111111111111111111111111111111', 'BPFLoader2111111111111111111111111111111111',
  'BPFLoaderUpgradeab1e11111111111111111111111', 'LoaderV411111111111111111111111111111111111',
  'AddressLookupTab1e1111111111111111111111111',
]);
const LAMPORTS_PER_SIGNATURE = 5000n;
const MAX_CU_LIMIT = 1_400_000n;
const RENT_EPOCH_EXEMPT = Number(2n ** 64n - 1n);
const SYSTEM_PROGRAM = '11111111111111111111111111111111';
const BLOCKHASH_VALID_SLOTS = 150n;
const MAX_TRACKED_BLOCKHASHES = 10_000;
const GENESIS_HASH = new PublicKey(createHash('sha256').update('ballast-devnet-solana').digest()).toBase58();

/** TransactionError variants without fields, in LiteSVM's (agave's) enum order. */
const TX_ERR_NAMES = [
  'AccountInUse', 'AccountLoadedTwice', 'AccountNotFound', 'ProgramAccountNotFound', 'InsufficientFundsForFee',
  'InvalidAccountForFee', 'AlreadyProcessed', 'BlockhashNotFound', 'CallChainTooDeep', 'MissingSignatureForFee',
  'InvalidAccountIndex', 'SignatureFailure', 'InvalidProgramForExecution', 'SanitizeFailure', 'ClusterMaintenance',
  'AccountBorrowOutstanding', 'WouldExceedMaxBlockCostLimit', 'UnsupportedVersion', 'InvalidWritableAccount',
  'WouldExceedMaxAccountCostLimit', 'WouldExceedAccountDataBlockLimit', 'TooManyAccountLocks',
  'AddressLookupTableNotFound', 'InvalidAddressLookupTableOwner', 'InvalidAddressLookupTableData',
  'InvalidAddressLookupTableIndex', 'InvalidRentPayingAccount', 'WouldExceedMaxVoteCostLimit',
  'WouldExceedAccountDataTotalLimit', 'MaxLoadedAccountsDataSizeExceeded', 'ResanitizationNeeded',
  'InvalidLoadedAccountsDataSizeLimit', 'UnbalancedTransaction', 'ProgramCacheHitMaxLimit', 'CommitCancelled',
];
/** InstructionError variants without fields, in enum order. */
const IX_ERR_NAMES = [
  'GenericError', 'InvalidArgument', 'InvalidInstructionData', 'InvalidAccountData', 'AccountDataTooSmall',
  'InsufficientFunds', 'IncorrectProgramId', 'MissingRequiredSignature', 'AccountAlreadyInitialized',
  'UninitializedAccount', 'UnbalancedInstruction', 'ModifiedProgramId', 'ExternalAccountLamportSpend',
  'ExternalAccountDataModified', 'ReadonlyLamportChange', 'ReadonlyDataModified', 'DuplicateAccountIndex',
  'ExecutableModified', 'RentEpochModified', 'NotEnoughAccountKeys', 'AccountDataSizeChanged', 'AccountNotExecutable',
  'AccountBorrowFailed', 'AccountBorrowOutstanding', 'DuplicateAccountOutOfSync', 'InvalidError',
  'ExecutableDataModified', 'ExecutableLamportChange', 'ExecutableAccountNotRentExempt', 'UnsupportedProgramId',
  'CallDepth', 'MissingAccount', 'ReentrancyNotAllowed', 'MaxSeedLengthExceeded', 'InvalidSeeds', 'InvalidRealloc',
  'ComputationalBudgetExceeded', 'PrivilegeEscalation', 'ProgramEnvironmentSetupFailure', 'ProgramFailedToComplete',
  'ProgramFailedToCompile', 'Immutable', 'IncorrectAuthority', 'AccountNotRentExempt', 'InvalidAccountOwner',
  'ArithmeticOverflow', 'UnsupportedSysvar', 'IllegalOwner', 'MaxAccountsDataAllocationsExceeded',
  'MaxAccountsExceeded', 'MaxInstructionTraceLengthExceeded', 'BuiltinProgramsMustConsumeComputeUnits', 'BorshIoError',
];
const TX_ERR_TEXT: Record<string, string> = {
  AccountNotFound: 'Attempt to debit an account but found no record of a prior credit.',
  AlreadyProcessed: 'This transaction has already been processed',
  BlockhashNotFound: 'Blockhash not found',
  InsufficientFundsForFee: 'Insufficient funds for fee',
  SignatureFailure: 'Transaction did not pass signature verification',
};

/** A LiteSVM instruction error as Solana's JSON (`"InvalidArgument"`, `{ Custom: 1 }`, `{ BorshIoError: msg }`). */
function ixErrToJson(e: unknown): unknown {
  if (typeof e === 'number') return IX_ERR_NAMES[e] ?? `InstructionError${e}`;
  const o = e as { code?: number; msg?: string };
  if (typeof o.code === 'number') return { Custom: o.code };
  if (typeof o.msg === 'string') return { BorshIoError: o.msg };
  return String(e);
}

/** A LiteSVM transaction error as Solana's JSON (`"BlockhashNotFound"`, `{ InstructionError: [0, { Custom: 1 }] }`). */
function txErrToJson(e: unknown): unknown {
  if (typeof e === 'number') return TX_ERR_NAMES[e] ?? `TransactionError${e}`;
  const o = e as { constructor: { name: string }; index?: number; accountIndex?: number; err?: () => unknown };
  const name = o.constructor.name;
  if (name.endsWith('InstructionError') && typeof o.err === 'function') return { InstructionError: [o.index, ixErrToJson(o.err())] };
  if (name.endsWith('DuplicateInstruction')) return { DuplicateInstruction: o.index };
  if (name.endsWith('InsufficientFundsForRent')) return { InsufficientFundsForRent: { account_index: o.accountIndex } };
  if (name.endsWith('ProgramExecutionTemporarilyRestricted')) return { ProgramExecutionTemporarilyRestricted: { account_index: o.accountIndex } };
  return String(e);
}

/** Human text of a JSON transaction error, as a real node words it in "Transaction simulation failed: ...". */
function describeErr(err: unknown): string {
  if (typeof err === 'string') return TX_ERR_TEXT[err] ?? err;
  const ie = (err as { InstructionError?: [number, unknown] }).InstructionError;
  if (ie) {
    const [i, inner] = ie;
    const custom = (inner as { Custom?: number }).Custom;
    const text = typeof custom === 'number' ? `custom program error: 0x${custom.toString(16)}` : typeof inner === 'string' ? inner : JSON.stringify(inner);
    return `Error processing Instruction ${i}: ${text}`;
  }
  return JSON.stringify(err);
}

/** An SPL token balance entry of getTransaction's pre/postTokenBalances (and getTokenAccountBalance's value). */
interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: UiTokenAmount;
}
interface UiTokenAmount { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string }

/** `amount` base units at `decimals` as Solana's uiAmountString ("1.5", "100", "0.000001"). */
function uiAmountString(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const s = amount.toString().padStart(decimals + 1, '0');
  const frac = s.slice(-decimals).replace(/0+$/, '');
  const int = s.slice(0, -decimals);
  return frac ? `${int}.${frac}` : int;
}
function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  const str = uiAmountString(amount, decimals);
  return { amount: amount.toString(), decimals, uiAmount: Number(str), uiAmountString: str };
}

/** One landed transaction. */
interface TxRecord {
  signature: string;
  slot: bigint;
  blockTime: number;
  wire: Uint8Array;
  message: VersionedMessage;
  accountKeys: string[];
  loadedAddresses: { writable: string[]; readonly: string[] };
  err: unknown;
  fee: bigint;
  computeUnitPrice: bigint;
  logs: string[];
  unitsConsumed: number;
  innerInstructions: Array<{ index: number; instructions: Array<{ programIdIndex: number; accounts: number[]; data: string; stackHeight: number }> }>;
  preBalances: number[];
  postBalances: number[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  memo: string | null;
}

const b58dec = getBase58Decoder();
const b58enc = getBase58Encoder();
const kitTxDecoder = getTransactionDecoder();

function b58(bytes: Uint8Array): string {
  return b58dec.decode(bytes);
}

/** Compute-budget settings of a message: unit limit (explicit or default) and unit price (micro-lamports). */
function computeBudgetOf(keys: string[], ixs: ReadonlyArray<{ programIdIndex: number; data: Uint8Array }>): { limit: bigint; price: bigint } {
  let limit: bigint | undefined;
  let price = 0n;
  let defaultLimit = 0n;
  for (const ix of ixs) {
    const program = keys[ix.programIdIndex] ?? '';
    const d = Buffer.from(ix.data);
    if (program === COMPUTE_BUDGET) {
      if (d[0] === 2 && d.length >= 5) limit = BigInt(d.readUInt32LE(1));
      if (d[0] === 3 && d.length >= 9) price = d.readBigUInt64LE(1);
    }
    defaultLimit += BUILTINS.has(program) ? 3000n : 200_000n;
  }
  const l = limit ?? defaultLimit;
  return { limit: l > MAX_CU_LIMIT ? MAX_CU_LIMIT : l, price };
}

/** Fee in lamports: 5,000 per signature + ceil(limit * price / 1e6) (what LiteSVM charges). */
function feeOf(numSignatures: number, budget: { limit: bigint; price: bigint }): bigint {
  return LAMPORTS_PER_SIGNATURE * BigInt(numSignatures) + (budget.limit * budget.price + 999_999n) / 1_000_000n;
}

/** Memo field of a transaction in Solana's format: `"[<byte length>] <text>"` per memo, joined by "; "; or null. */
function memoOf(keys: string[], ixs: ReadonlyArray<{ programIdIndex: number; data: Uint8Array }>): string | null {
  const memos: string[] = [];
  for (const ix of ixs) {
    const program = keys[ix.programIdIndex];
    if (program === MEMO_V2 || program === MEMO_V1) memos.push(`[${ix.data.length}] ${Buffer.from(ix.data).toString('utf8')}`);
  }
  return memos.length ? memos.join('; ') : null;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Param `i` as a string (base58 pubkey / signature / encoded tx), else -32602. */
function strParam(params: unknown[], i: number, what: string): string {
  const v = params[i];
  if (typeof v !== 'string' || v.length === 0) throw new RpcError(-32602, `Invalid params: param ${i} (${what}) must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}
function cfgParam(params: unknown[], i: number): Record<string, unknown> {
  const v = params[i];
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new RpcError(-32602, `Invalid params: param ${i} (config) must be an object, got ${JSON.stringify(v)}`);
  return v;
}
function pubkeyParam(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new RpcError(-32602, `Invalid params: ${what} must be a base58 string, got ${JSON.stringify(v)}`);
  try {
    return new PublicKey(v).toBase58();
  } catch {
    throw new RpcError(-32602, `Invalid param: Invalid ${what} ${JSON.stringify(v)} (not a base58 32-byte public key)`);
  }
}
function signatureParam(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new RpcError(-32602, `Invalid params: ${what} must be a base58 signature string, got ${JSON.stringify(v)}`);
  let bytes: Uint8Array;
  try {
    bytes = b58enc.encode(v) as Uint8Array;
  } catch {
    throw new RpcError(-32602, `Invalid param: Invalid signature ${JSON.stringify(v)} (not base58)`);
  }
  if (bytes.length !== 64) throw new RpcError(-32602, `Invalid param: Invalid signature ${JSON.stringify(v)} (${bytes.length} bytes, expected 64)`);
  return v;
}
function decodeEncoded(data: string, encoding: unknown, what: string): Uint8Array {
  if (encoding === undefined || encoding === 'base58') {
    try {
      return new Uint8Array(b58enc.encode(data));
    } catch {
      throw new RpcError(-32602, `Invalid params: ${what} is not base58 (pass { encoding: 'base64' } for base64)`);
    }
  }
  if (encoding === 'base64') return new Uint8Array(Buffer.from(data, 'base64'));
  throw new RpcError(-32602, `Invalid params: unsupported encoding ${JSON.stringify(encoding)} for ${what} (base58 or base64)`);
}

/**
 * Start the devnet Solana RPC on 127.0.0.1.
 * @param opts.port - HTTP port (0 or absent = a free one; the websocket also listens on port+1, so both must be free)
 * @param opts.log - receives one line per landed transaction / airdrop / rejected send
 * @returns the running server; `stop()` it to release the ports.
 * @throws when the given port or port+1 is taken
 * @example
 *   const rpc = await startSolanaRpc();
 *   const connection = new Connection(rpc.url, 'confirmed');
 *   await connection.confirmTransaction(await connection.requestAirdrop(kp.publicKey, 1e9));
 *   await rpc.stop();
 */
export async function startSolanaRpc(opts: { port?: number; log?: (m: string) => void } = {}): Promise<SolanaRpcServer> {
  const log = opts.log ?? (() => {});
  const svm = new LiteSVM().withBlockhashCheck(false);
  const nowSec = (): bigint => BigInt(Math.floor(Date.now() / 1000));
  {
    const c = svm.getClock();
    c.unixTimestamp = nowSec();
    svm.setClock(c);
  }
  const history: TxRecord[] = [];
  const bySignature = new Map<string, TxRecord>();
  const statuses = new Map<string, { slot: bigint; err: unknown }>();
  const sigSubscribers = new Map<string, Array<{ ws: WsConn; id: number }>>();
  let nextSubId = 1;

  const currentSlot = (): bigint => svm.getClock().slot;
  /** blockhash -> slot it was issued at (valid while slot <= issued + 150). */
  const blockhashes = new Map<string, bigint>([[svm.latestBlockhash(), currentSlot()]]);
  function issueBlockhash(): { blockhash: string; lastValidBlockHeight: number } {
    svm.expireBlockhash();
    const blockhash = svm.latestBlockhash();
    const slot = currentSlot();
    blockhashes.set(blockhash, slot);
    if (blockhashes.size > MAX_TRACKED_BLOCKHASHES) {
      const oldest = blockhashes.keys().next().value;
      if (oldest !== undefined) blockhashes.delete(oldest);
    }
    return { blockhash, lastValidBlockHeight: Number(slot + BLOCKHASH_VALID_SLOTS) };
  }
  function blockhashValid(blockhash: string): boolean {
    const issued = blockhashes.get(blockhash);
    return issued !== undefined && currentSlot() <= issued + BLOCKHASH_VALID_SLOTS;
  }
  /** A transaction's blockhash is acceptable: known and unexpired, or a durable-nonce transaction (not checked). */
  function lifetimeOk(message: VersionedMessage): boolean {
    const first = message.compiledInstructions[0];
    const program = first ? message.staticAccountKeys[first.programIdIndex]?.toBase58() : undefined;
    const isNonceAdvance = program === SYSTEM_PROGRAM && first !== undefined && first.data.length >= 4 && Buffer.from(first.data).readUInt32LE(0) === 4;
    return isNonceAdvance || blockhashValid(message.recentBlockhash);
  }
  const blockhashNotFound = (): RpcError =>
    new RpcError(-32002, 'Transaction simulation failed: Blockhash not found', { err: 'BlockhashNotFound', logs: [], accounts: null, unitsConsumed: 0, returnData: null, innerInstructions: null });
  const context = (): { slot: number; apiVersion: string } => ({ slot: Number(currentSlot()), apiVersion: '2.2.0' });
  const withContext = (value: unknown): unknown => ({ context: context(), value });

  /** Advance one slot; the Clock follows the wall clock. */
  function advanceSlot(): void {
    const next = currentSlot() + 1n;
    svm.warpToSlot(next);
    const c = svm.getClock();
    c.unixTimestamp = nowSec();
    svm.setClock(c);
  }

  /** Statuses withheld by holdConfirmations(true), in landing order. */
  let heldStatuses: Map<string, { slot: bigint; err: unknown }> | undefined;

  function recordStatus(signature: string, slot: bigint, err: unknown): void {
    if (heldStatuses) {
      heldStatuses.set(signature, { slot, err });
      return;
    }
    statuses.set(signature, { slot, err });
    const subs = sigSubscribers.get(signature);
    if (subs) {
      sigSubscribers.delete(signature);
      for (const s of subs) notifySignature(s.ws, s.id, slot, err);
    }
  }

  function notifySignature(ws: WsConn, sub: number, slot: bigint, err: unknown): void {
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'signatureNotification', params: { result: { context: { slot: Number(slot) }, value: { err } }, subscription: sub } }));
  }

  function accountJson(pubkey: string, cfg: Record<string, unknown>): unknown {
    const a = svm.getAccount(address(pubkey));
    if (!a.exists) return null;
    let data = a.data as Uint8Array;
    const slice = cfg.dataSlice;
    if (isObj(slice)) {
      const off = Number(slice.offset ?? 0);
      const len = Number(slice.length ?? data.length);
      data = data.subarray(off, off + len);
    }
    const enc = cfg.encoding ?? 'base64';
    let encoded: [string, string];
    if (enc === 'base64' || enc === 'jsonParsed') encoded = [Buffer.from(data).toString('base64'), 'base64'];
    else if (enc === 'base58') encoded = [b58(data), 'base58'];
    else throw new RpcError(-32602, `Invalid params: unsupported account encoding ${JSON.stringify(enc)} (base64 or base58)`);
    return { data: encoded, executable: a.executable, lamports: Number(a.lamports), owner: a.programAddress, rentEpoch: RENT_EPOCH_EXEMPT, space: Number(a.space) };
  }

  function lamportsOf(pubkey: string): number {
    return Number(svm.getBalance(address(pubkey)) ?? 0n);
  }

  /** SPL token balance of a token account (Token or Token-2022), or null when `pubkey` is not one. */
  function tokenBalanceOf(pubkey: string, accountIndex: number): TokenBalance | null {
    const a = svm.getAccount(address(pubkey));
    if (!a.exists) return null;
    const owner = a.programAddress as string;
    const programId = owner === TOKEN_PROGRAM_ID.toBase58() ? TOKEN_PROGRAM_ID : owner === TOKEN_2022_PROGRAM_ID.toBase58() ? TOKEN_2022_PROGRAM_ID : null;
    if (!programId) return null;
    try {
      const info = { data: Buffer.from(a.data), owner: programId, lamports: Number(a.lamports), executable: a.executable };
      const acct = unpackAccount(new PublicKey(pubkey), info, programId);
      const m = svm.getAccount(address(acct.mint.toBase58()));
      if (!m.exists) return null;
      const mint = unpackMint(acct.mint, { data: Buffer.from(m.data), owner: programId, lamports: Number(m.lamports), executable: false }, programId);
      return { accountIndex, mint: acct.mint.toBase58(), owner: acct.owner.toBase58(), programId: programId.toBase58(), uiTokenAmount: uiTokenAmount(acct.amount, mint.decimals) };
    } catch {
      return null;
    }
  }
  function tokenBalances(keys: string[]): TokenBalance[] {
    const out: TokenBalance[] = [];
    keys.forEach((k, i) => {
      const tb = tokenBalanceOf(k, i);
      if (tb) out.push(tb);
    });
    return out;
  }

  /** Decode a wire transaction for both web3.js (inspection) and kit (LiteSVM). */
  function decodeTx(wire: Uint8Array): { vtx: VersionedTransaction; ktx: KitTransaction } {
    try {
      return { vtx: VersionedTransaction.deserialize(wire), ktx: kitTxDecoder.decode(wire) };
    } catch (e) {
      throw new RpcError(-32602, `Invalid params: failed to deserialize the transaction (${(e as Error).message}); send a signed wire transaction`);
    }
  }

  /** Static + lookup-table keys of a message (lookup tables read from the current state). */
  function accountKeysOf(message: VersionedMessage): { keys: string[]; loaded: { writable: string[]; readonly: string[] } } {
    const statics = message.staticAccountKeys.map((k) => k.toBase58());
    const loaded = { writable: [] as string[], readonly: [] as string[] };
    for (const l of message.addressTableLookups) {
      const a = svm.getAccount(address(l.accountKey.toBase58()));
      if (!a.exists) continue;
      const table = new AddressLookupTableAccount({ key: l.accountKey, state: AddressLookupTableAccount.deserialize(a.data as Uint8Array) });
      for (const i of l.writableIndexes) { const k = table.state.addresses[i]; if (k) loaded.writable.push(k.toBase58()); }
      for (const i of l.readonlyIndexes) { const k = table.state.addresses[i]; if (k) loaded.readonly.push(k.toBase58()); }
    }
    return { keys: [...statics, ...loaded.writable, ...loaded.readonly], loaded };
  }

  /** Run LiteSVM's simulation with sigverify set as asked, restoring the default (on) after. */
  function simulate(ktx: KitTransaction, sigVerify: boolean): ReturnType<LiteSVM['simulateTransaction']> {
    svm.withSigverify(sigVerify);
    try {
      return svm.simulateTransaction(ktx);
    } finally {
      svm.withSigverify(true);
    }
  }

  function preflightError(meta: FailedTransactionMetadata): RpcError {
    const err = txErrToJson(meta.err());
    const m = meta.meta();
    return new RpcError(-32002, `Transaction simulation failed: ${describeErr(err)}`, {
      err, logs: m.logs(), accounts: null, unitsConsumed: Number(m.computeUnitsConsumed()), returnData: null, innerInstructions: null,
    });
  }

  function sendTransaction(params: unknown[]): string {
    const cfg = cfgParam(params, 1);
    const wire = decodeEncoded(strParam(params, 0, 'transaction'), cfg.encoding, 'transaction');
    const { vtx, ktx } = decodeTx(wire);
    const sig0 = vtx.signatures[0];
    if (!sig0) throw new RpcError(-32602, 'Invalid params: transaction has no signature');
    const signature = b58(sig0);
    if (!lifetimeOk(vtx.message)) {
      log(`solana rpc: rejected ${signature}: blockhash ${vtx.message.recentBlockhash} not found or expired`);
      throw blockhashNotFound();
    }
    if (cfg.skipPreflight !== true) {
      let sim;
      try {
        sim = svm.simulateTransaction(ktx);
      } catch (e) {
        throw new RpcError(-32003, `Transaction signature verification failure (${(e as Error).message})`);
      }
      if (sim instanceof FailedTransactionMetadata) {
        const e = preflightError(sim);
        log(`solana rpc: preflight failed ${signature}: ${e.message}`);
        throw e;
      }
    }
    const message = vtx.message;
    const { keys, loaded } = accountKeysOf(message);
    const preBalances = keys.map(lamportsOf);
    const preTokenBalances = tokenBalances(keys);
    let res: TransactionMetadata | FailedTransactionMetadata;
    try {
      res = svm.sendTransaction(ktx);
    } catch (e) {
      throw new RpcError(-32003, `Transaction signature verification failure (${(e as Error).message})`);
    }
    let err: unknown = null;
    let meta: TransactionMetadata;
    if (res instanceof FailedTransactionMetadata) {
      err = txErrToJson(res.err());
      meta = res.meta();
      // Rejected before execution (not charged, not landed): answer like a failed preflight.
      if (typeof err === 'string') {
        const e = preflightError(res);
        log(`solana rpc: rejected ${signature}: ${e.message}`);
        throw e;
      }
    } else {
      meta = res;
    }
    const slot = currentSlot();
    const ixs = message.compiledInstructions.map((ix) => ({ programIdIndex: ix.programIdIndex, data: ix.data }));
    const budget = computeBudgetOf(keys, ixs);
    const rec: TxRecord = {
      signature, slot, blockTime: Number(svm.getClock().unixTimestamp), wire, message, accountKeys: keys, loadedAddresses: loaded, err,
      fee: feeOf(message.header.numRequiredSignatures, budget), computeUnitPrice: budget.price,
      logs: meta.logs(), unitsConsumed: Number(meta.computeUnitsConsumed()),
      innerInstructions: meta.innerInstructions().map((list, index) => ({
        index,
        instructions: list.map((ii) => {
          const ci = ii.instruction();
          return { programIdIndex: ci.programIdIndex(), accounts: Array.from(ci.accounts()), data: b58(ci.data()), stackHeight: ii.stackHeight() };
        }),
      })).filter((x) => x.instructions.length > 0),
      preBalances, postBalances: keys.map(lamportsOf), preTokenBalances, postTokenBalances: tokenBalances(keys),
      memo: memoOf(keys, ixs),
    };
    history.push(rec);
    bySignature.set(signature, rec);
    advanceSlot();
    recordStatus(signature, slot, err);
    log(`solana rpc: tx ${signature} slot ${slot}${err ? ` failed ${JSON.stringify(err)}` : ''}`);
    return signature;
  }

  function simulateTransaction(params: unknown[]): unknown {
    const cfg = cfgParam(params, 1);
    const wire = decodeEncoded(strParam(params, 0, 'transaction'), cfg.encoding, 'transaction');
    const sigVerify = cfg.sigVerify === true;
    const replace = cfg.replaceRecentBlockhash === true;
    if (sigVerify && replace) throw new RpcError(-32602, 'Invalid params: sigVerify may not be used with replaceRecentBlockhash');
    const { vtx, ktx } = decodeTx(wire);
    if (!replace && !lifetimeOk(vtx.message)) {
      return withContext({ err: 'BlockhashNotFound', logs: [], accounts: null, unitsConsumed: 0, returnData: null, innerInstructions: null });
    }
    let sim;
    try {
      sim = simulate(ktx, sigVerify);
    } catch (e) {
      throw new RpcError(-32003, `Transaction signature verification failure (${(e as Error).message})`);
    }
    if (sim instanceof FailedTransactionMetadata) {
      const m = sim.meta();
      return withContext({ err: txErrToJson(sim.err()), logs: m.logs(), accounts: null, unitsConsumed: Number(m.computeUnitsConsumed()), returnData: null, innerInstructions: null });
    }
    const m = sim.meta();
    let accounts: unknown = null;
    const acfg = cfg.accounts;
    if (isObj(acfg) && Array.isArray(acfg.addresses)) {
      const post = new Map(sim.postAccounts().map((a) => [a.address as string, a]));
      accounts = acfg.addresses.map((raw: unknown) => {
        const k = pubkeyParam(raw, 'accounts.addresses[]');
        const a = post.get(k);
        if (!a) return accountJson(k, { encoding: acfg.encoding ?? 'base64' });
        return { data: [Buffer.from(a.data).toString('base64'), 'base64'], executable: a.executable, lamports: Number(a.lamports), owner: a.programAddress, rentEpoch: RENT_EPOCH_EXEMPT, space: a.data.length };
      });
    }
    const rd = m.returnData();
    const rdData = rd.data();
    const returnData = rdData.length ? { programId: b58(rd.programId()), data: [Buffer.from(rdData).toString('base64'), 'base64'] } : null;
    const replacementBlockhash = replace ? { replacementBlockhash: { blockhash: svm.latestBlockhash(), lastValidBlockHeight: Number(currentSlot() + BLOCKHASH_VALID_SLOTS) } } : {};
    return withContext({ err: null, logs: m.logs(), accounts, unitsConsumed: Number(m.computeUnitsConsumed()), returnData, innerInstructions: null, ...replacementBlockhash });
  }

  function requestAirdrop(params: unknown[]): string {
    const to = pubkeyParam(params[0], 'pubkey');
    const amount = params[1];
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) throw new RpcError(-32602, `Invalid params: lamports must be a positive integer, got ${JSON.stringify(amount)}`);
    const slot = currentSlot();
    let signature: string;
    const res = svm.airdrop(address(to), kitLamports(BigInt(amount)));
    if (res && !(res instanceof FailedTransactionMetadata)) {
      signature = b58(res.signature());
    } else {
      // LiteSVM's airdrop tx is deterministic (same payer, blockhash, amount): a repeat is AlreadyProcessed.
      // Credit directly instead, under a fresh signature.
      const a = svm.getAccount(address(to));
      svm.setAccount({
        address: address(to), lamports: kitLamports((a.exists ? BigInt(a.lamports) : 0n) + BigInt(amount)),
        programAddress: a.exists ? a.programAddress : address('11111111111111111111111111111111'), executable: a.exists ? a.executable : false,
        data: a.exists ? a.data : new Uint8Array(0), space: a.exists ? a.space : 0n,
      });
      signature = b58(randomBytes(64));
    }
    advanceSlot();
    recordStatus(signature, slot, null);
    log(`solana rpc: airdrop ${amount} lamports to ${to} (${signature}) slot ${slot}`);
    return signature;
  }

  function setAccount(pubkey: string, acct: { lamports: bigint; data: Uint8Array; owner: string; executable?: boolean }): void {
    svm.setAccount({
      address: address(new PublicKey(pubkey).toBase58()), lamports: kitLamports(acct.lamports), programAddress: address(new PublicKey(acct.owner).toBase58()),
      executable: acct.executable ?? false, data: acct.data, space: BigInt(acct.data.length),
    });
  }

  function txJson(rec: TxRecord, cfg: Record<string, unknown>): unknown {
    const encoding = cfg.encoding ?? 'json';
    const version = rec.message.version;
    if (version !== 'legacy' && (cfg.maxSupportedTransactionVersion === undefined || Number(cfg.maxSupportedTransactionVersion) < version)) {
      throw new RpcError(-32015, `Transaction version (${version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": ${version}`);
    }
    let transaction: unknown;
    if (encoding === 'base64') transaction = [Buffer.from(rec.wire).toString('base64'), 'base64'];
    else if (encoding === 'json') {
      const m = rec.message;
      transaction = {
        signatures: VersionedTransaction.deserialize(rec.wire).signatures.map(b58),
        message: {
          accountKeys: m.staticAccountKeys.map((k) => k.toBase58()),
          header: m.header,
          recentBlockhash: m.recentBlockhash,
          instructions: m.compiledInstructions.map((ix) => ({ programIdIndex: ix.programIdIndex, accounts: ix.accountKeyIndexes, data: b58(ix.data), stackHeight: null })),
          ...(version === 'legacy' ? {} : { addressTableLookups: m.addressTableLookups.map((l) => ({ accountKey: l.accountKey.toBase58(), writableIndexes: l.writableIndexes, readonlyIndexes: l.readonlyIndexes })) }),
        },
      };
    } else throw new RpcError(-32602, `Invalid params: unsupported transaction encoding ${JSON.stringify(encoding)} (json or base64; jsonParsed is not implemented on the devnet)`);
    return {
      slot: Number(rec.slot), blockTime: rec.blockTime, transaction,
      // like a real node: `version` only when the client said which versions it supports
      ...(cfg.maxSupportedTransactionVersion === undefined ? {} : { version }),
      meta: {
        err: rec.err, status: rec.err === null ? { Ok: null } : { Err: rec.err }, fee: Number(rec.fee),
        preBalances: rec.preBalances, postBalances: rec.postBalances, innerInstructions: rec.innerInstructions,
        logMessages: rec.logs, preTokenBalances: rec.preTokenBalances, postTokenBalances: rec.postTokenBalances,
        rewards: [], loadedAddresses: rec.loadedAddresses, computeUnitsConsumed: rec.unitsConsumed,
      },
    };
  }

  function getSignaturesForAddress(params: unknown[]): unknown {
    const addr = pubkeyParam(params[0], 'address');
    const cfg = cfgParam(params, 1);
    const limit = cfg.limit === undefined ? 1000 : cfg.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RpcError(-32602, `Invalid param: limit must be an integer in 1..1000, got ${JSON.stringify(cfg.limit)}`);
    const before = cfg.before === undefined || cfg.before === null ? undefined : signatureParam(cfg.before, 'before');
    const until = cfg.until === undefined || cfg.until === null ? undefined : signatureParam(cfg.until, 'until');
    let i = history.length - 1;
    if (before !== undefined) {
      const b = history.findIndex((r) => r.signature === before);
      if (b < 0) return [];
      i = b - 1;
    }
    const out: unknown[] = [];
    for (; i >= 0 && out.length < limit; i--) {
      const r = history[i];
      if (!r) continue;
      if (until !== undefined && r.signature === until) break;
      if (!r.accountKeys.includes(addr)) continue;
      out.push({ signature: r.signature, slot: Number(r.slot), err: r.err, memo: r.memo, blockTime: r.blockTime, confirmationStatus: 'finalized' });
    }
    return out;
  }

  function epochInfo(): unknown {
    const slot = currentSlot();
    const s = svm.getEpochSchedule();
    let epoch: bigint;
    let slotIndex: bigint;
    let slotsInEpoch = s.slotsPerEpoch;
    if (slot >= s.firstNormalSlot) {
      epoch = s.firstNormalEpoch + (slot - s.firstNormalSlot) / s.slotsPerEpoch;
      slotIndex = (slot - s.firstNormalSlot) % s.slotsPerEpoch;
    } else {
      epoch = svm.getClock().epoch;
      slotIndex = 0n;
      slotsInEpoch = s.slotsPerEpoch;
    }
    return { absoluteSlot: Number(slot), blockHeight: Number(slot), epoch: Number(epoch), slotIndex: Number(slotIndex), slotsInEpoch: Number(slotsInEpoch), transactionCount: history.length };
  }

  const methods: Record<string, (params: unknown[]) => unknown> = {
    getHealth: () => 'ok',
    getVersion: () => ({ 'solana-core': '2.2.0', 'feature-set': 0 }),
    getGenesisHash: () => GENESIS_HASH,
    getSlot: () => Number(currentSlot()),
    getBlockHeight: () => Number(currentSlot()),
    getEpochInfo: epochInfo,
    getLatestBlockhash: () => withContext(issueBlockhash()),
    isBlockhashValid: (p) => withContext(blockhashValid(strParam(p, 0, 'blockhash'))),
    getAccountInfo: (p) => withContext(accountJson(pubkeyParam(p[0], 'pubkey'), cfgParam(p, 1))),
    getMultipleAccounts: (p) => {
      const keys = p[0];
      if (!Array.isArray(keys)) throw new RpcError(-32602, `Invalid params: param 0 must be an array of base58 pubkeys, got ${JSON.stringify(keys)}`);
      if (keys.length > 100) throw new RpcError(-32602, `Too many inputs provided; max 100 (got ${keys.length})`);
      const cfg = cfgParam(p, 1);
      return withContext(keys.map((k, i) => accountJson(pubkeyParam(k, `pubkeys[${i}]`), cfg)));
    },
    getBalance: (p) => withContext(lamportsOf(pubkeyParam(p[0], 'pubkey'))),
    getMinimumBalanceForRentExemption: (p) => {
      const len = p[0];
      if (typeof len !== 'number' || !Number.isInteger(len) || len < 0) throw new RpcError(-32602, `Invalid params: data length must be a non-negative integer, got ${JSON.stringify(len)}`);
      return Number(svm.minimumBalanceForRentExemption(BigInt(len)));
    },
    getFeeForMessage: (p) => {
      const raw = Buffer.from(strParam(p, 0, 'message'), 'base64');
      let m: VersionedMessage;
      try {
        m = VersionedMessage.deserialize(raw);
      } catch (e) {
        throw new RpcError(-32602, `Invalid params: failed to deserialize the base64 message (${(e as Error).message})`);
      }
      const keys = accountKeysOf(m).keys;
      return withContext(Number(feeOf(m.header.numRequiredSignatures, computeBudgetOf(keys, m.compiledInstructions))));
    },
    sendTransaction,
    simulateTransaction,
    getSignatureStatuses: (p) => {
      const sigs = p[0];
      if (!Array.isArray(sigs)) throw new RpcError(-32602, `Invalid params: param 0 must be an array of signatures, got ${JSON.stringify(sigs)}`);
      if (sigs.length > 256) throw new RpcError(-32602, `Too many inputs provided; max 256 (got ${sigs.length})`);
      return withContext(sigs.map((s, i) => {
        const st = statuses.get(signatureParam(s, `signatures[${i}]`));
        if (!st) return null;
        return { slot: Number(st.slot), confirmations: null, err: st.err, status: st.err === null ? { Ok: null } : { Err: st.err }, confirmationStatus: 'finalized' };
      }));
    },
    getSignaturesForAddress,
    getTransaction: (p) => {
      const rec = bySignature.get(signatureParam(p[0], 'signature'));
      const cfg = typeof p[1] === 'string' ? { encoding: p[1] } : cfgParam(p, 1);
      return rec ? txJson(rec, cfg) : null;
    },
    getTokenAccountBalance: (p) => {
      const k = pubkeyParam(p[0], 'pubkey');
      const tb = tokenBalanceOf(k, 0);
      if (!tb) throw new RpcError(-32602, `Invalid param: could not find account or not a Token account: ${k}`);
      return withContext(tb.uiTokenAmount);
    },
    getRecentPrioritizationFees: (p) => {
      const filter = Array.isArray(p[0]) ? p[0].map((k, i) => pubkeyParam(k, `addresses[${i}]`)) : [];
      const from = currentSlot() - 150n;
      return history
        .filter((r) => r.slot >= from && (filter.length === 0 || filter.some((k) => r.accountKeys.includes(k))))
        .map((r) => ({ slot: Number(r.slot), prioritizationFee: Number(r.computeUnitPrice) }));
    },
    requestAirdrop,
    ballastDevnet_setAccount: (p) => {
      const k = pubkeyParam(p[0], 'pubkey');
      const a = p[1];
      if (!isObj(a)) throw new RpcError(-32602, 'Invalid params: param 1 must be { lamports, data: [base64, "base64"], owner, executable? }');
      const lamports = a.lamports;
      if (!(typeof lamports === 'number' && Number.isSafeInteger(lamports) && lamports >= 0) && !(typeof lamports === 'string' && /^\d+$/.test(lamports))) {
        throw new RpcError(-32602, `Invalid params: lamports must be a non-negative integer (number or decimal string), got ${JSON.stringify(lamports)}`);
      }
      const d = a.data;
      const b64 = Array.isArray(d) && d[1] === 'base64' && typeof d[0] === 'string' ? d[0] : typeof d === 'string' ? d : undefined;
      if (b64 === undefined) throw new RpcError(-32602, `Invalid params: data must be [base64, "base64"], got ${JSON.stringify(d)}`);
      setAccount(k, { lamports: BigInt(lamports), data: new Uint8Array(Buffer.from(b64, 'base64')), owner: pubkeyParam(a.owner, 'owner'), executable: a.executable === true });
      return null;
    },
  };

  function handleOne(req: unknown): Record<string, unknown> | undefined {
    if (!isObj(req) || typeof req.method !== 'string') {
      return { jsonrpc: '2.0', id: isObj(req) ? (req.id ?? null) : null, error: { code: -32600, message: 'Invalid Request: expected { jsonrpc: "2.0", id, method, params }' } };
    }
    const id = req.id ?? null;
    const fn = methods[req.method];
    if (!fn) return { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${req.method} (the Ballast devnet Solana RPC does not implement it)` } };
    const params = req.params === undefined ? [] : req.params;
    if (!Array.isArray(params)) return { jsonrpc: '2.0', id, error: { code: -32602, message: `Invalid params: params of ${req.method} must be an array` } };
    try {
      const result = fn(params);
      return req.id === undefined ? undefined : { jsonrpc: '2.0', id, result };
    } catch (e) {
      if (e instanceof RpcError) return { jsonrpc: '2.0', id, error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) } };
      log(`solana rpc: internal error in ${req.method}: ${(e as Error).stack ?? String(e)}`);
      return { jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error in ${req.method}: ${(e as Error).message}` } };
    }
  }

  function handleBody(body: string): unknown {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the request body is not JSON' } };
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: empty batch' } };
      return parsed.map(handleOne).filter((r) => r !== undefined);
    }
    return handleOne(parsed) ?? null;
  }

  // ---- websocket (signatureSubscribe only) ----
  const wsConns = new Set<WsConn>();
  function onWsMessage(ws: WsConn, text: string): void {
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    if (!isObj(req) || typeof req.method !== 'string') return;
    const id = req.id;
    const params = Array.isArray(req.params) ? req.params : [];
    const reply = (body: Record<string, unknown>): void => {
      if (id !== undefined) ws.send(JSON.stringify({ jsonrpc: '2.0', id, ...body }));
    };
    if (req.method === 'ping') return;
    if (req.method === 'signatureSubscribe') {
      let sig: string;
      try {
        sig = signatureParam(params[0], 'signature');
      } catch (e) {
        reply({ error: { code: -32602, message: (e as Error).message } });
        return;
      }
      const sub = nextSubId++;
      reply({ result: sub });
      const st = statuses.get(sig);
      if (st) notifySignature(ws, sub, st.slot, st.err);
      else sigSubscribers.set(sig, [...(sigSubscribers.get(sig) ?? []), { ws, id: sub }]);
      return;
    }
    if (req.method.endsWith('Unsubscribe')) {
      const sub = params[0];
      for (const [sig, subs] of sigSubscribers) {
        const rest = subs.filter((s) => s.id !== sub);
        if (rest.length) sigSubscribers.set(sig, rest);
        else sigSubscribers.delete(sig);
      }
      reply({ result: true });
      return;
    }
    reply({ error: { code: -32601, message: `Method not found: ${req.method} (the devnet websocket implements signatureSubscribe only)` } });
  }
  function dropWs(ws: WsConn): void {
    wsConns.delete(ws);
    for (const [sig, subs] of sigSubscribers) {
      const rest = subs.filter((s) => s.ws !== ws);
      if (rest.length) sigSubscribers.set(sig, rest);
      else sigSubscribers.delete(sig);
    }
  }

  const makeServer = (): http.Server => {
    const srv = http.createServer((req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(req.method === 'GET' && req.url === '/health' ? 200 : 405, { 'content-type': 'text/plain' });
        res.end(req.method === 'GET' && req.url === '/health' ? 'ok' : 'POST a JSON-RPC 2.0 request');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const out = handleBody(Buffer.concat(chunks).toString('utf8'));
        const body = JSON.stringify(out);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    srv.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      acceptWebSocket(req, socket as Socket, head, {
        onOpen: (ws) => wsConns.add(ws),
        onText: (ws, text) => onWsMessage(ws, text),
        onClose: (ws) => dropWs(ws),
      });
    });
    return srv;
  };

  const listen = (srv: http.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      srv.once('error', onErr);
      srv.listen(port, '127.0.0.1', () => {
        srv.off('error', onErr);
        resolve((srv.address() as AddressInfo).port);
      });
    });
  const closeServer = (srv: http.Server): Promise<void> =>
    new Promise((resolve) => {
      if (!srv.listening) return resolve();
      srv.close(() => resolve());
      srv.closeAllConnections();
    });

  let main: http.Server | undefined;
  let wsSide: http.Server | undefined;
  for (let attempt = 0; attempt < 20 && !wsSide; attempt++) {
    main = makeServer();
    const port = await listen(main, opts.port ?? 0);
    const side = makeServer();
    try {
      await listen(side, port + 1);
      wsSide = side;
    } catch (e) {
      await closeServer(main);
      if (opts.port) throw new Error(`devnet Solana RPC: port ${port + 1} (websocket, port+1 as web3.js derives it) is taken: ${(e as Error).message}; pick another port or 0`);
    }
  }
  if (!main || !wsSide) throw new Error('devnet Solana RPC: could not find two consecutive free ports (HTTP and websocket port+1) after 20 tries');
  const httpServer = main;
  const wsServer = wsSide;
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  log(`solana rpc: listening on ${url} (websocket on the same port and port+1), slot ${currentSlot()}`);

  let stopped: Promise<void> | undefined;
  return {
    url,
    svm,
    slot: currentSlot,
    setAccount,
    getAccountData(pubkey) {
      const a = svm.getAccount(address(new PublicKey(pubkey).toBase58()));
      return a.exists ? new Uint8Array(a.data) : undefined;
    },
    holdConfirmations(held) {
      if (held) {
        heldStatuses ??= new Map();
        return;
      }
      const pending = heldStatuses;
      heldStatuses = undefined;
      for (const [signature, st] of pending ?? []) recordStatus(signature, st.slot, st.err);
    },
    stop() {
      stopped ??= (async () => {
        for (const ws of wsConns) ws.destroy();
        await Promise.all([closeServer(httpServer), closeServer(wsServer)]);
        // wait (bounded) for the websocket peers to go: their close frames tell clients not to reconnect
        for (let i = 0; i < 50 && wsConns.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
        wsConns.clear();
      })();
      return stopped;
    },
  };
}

// ---- a minimal RFC 6455 server side: text frames, ping/pong, close; no extensions ----

interface WsConn {
  send(text: string): void;
  destroy(): void;
}

function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) header = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

function acceptWebSocket(
  req: http.IncomingMessage,
  socket: Socket,
  head: Buffer,
  on: { onOpen: (c: WsConn) => void; onText: (c: WsConn, t: string) => void; onClose: (c: WsConn) => void },
): void {
  const key = req.headers['sec-websocket-key'];
  const conn: WsConn = {
    send: (text) => {
      if (!socket.destroyed && socket.writable) socket.write(wsFrame(0x1, Buffer.from(text, 'utf8')));
    },
    // A close frame with code 1000 (normal) tells web3.js's websocket client not to reconnect; an abrupt
    // disconnect (1006) makes it retry forever, which would keep the client's process alive.
    destroy: () => {
      if (socket.destroyed) return;
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      if (socket.writable) socket.end(wsFrame(0x8, code));
      setTimeout(() => socket.destroy(), 200).unref();
    },
  };
  socket.on('error', () => socket.destroy());
  if (typeof key !== 'string' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    return;
  }
  on.onOpen(conn);
  socket.on('close', () => on.onClose(conn));
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  const onData = (chunk: Buffer): void => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) return;
      const b0 = buf[0] as number;
      const b1 = buf[1] as number;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (buf[maskAt + (i & 3)] as number);
      buf = buf.subarray(off + len);
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode === 0x8) {
        if (!socket.destroyed) socket.end(wsFrame(0x8, payload.subarray(0, 2)));
        return;
      }
      if (opcode === 0x9) {
        if (!socket.destroyed) socket.write(wsFrame(0xa, payload));
        continue;
      }
      if (opcode === 0xa) continue;
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(fragments).toString('utf8');
          fragments = [];
          on.onText(conn, text);
        }
      }
    }
  };
  socket.on('data', onData);
  if (head.length) onData(head);
}
