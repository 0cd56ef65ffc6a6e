/**
 * Simulate, then sign, journal and broadcast, then wait for the receipt: the only way Ballast writes to a chain.
 *
 * Nonces: every signed transaction takes its nonce from an {@link EvmNonceManager} that serializes sign+broadcast
 * per (chain, account) in this process and reconciles with the chain (`max(local next, pending count)`). Another
 * process writing with the same key has its own manager; a collision ("nonce too low", "replacement transaction
 * underpriced", ...) is resolved by re-reading the chain and re-signing, a bounded number of times.
 *
 * Journal: `onSigned` receives the signed transaction (hash, nonce, raw bytes) BEFORE it is broadcast, so a caller
 * can keep it with the leg; a retry then looks that transaction up (`writeOnce` with `pending`) instead of sending
 * a second one.
 */
import {
  BaseError,
  encodeFunctionData,
  keccak256,
  WaitForTransactionReceiptTimeoutError,
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import type { EvmClients } from './clients.js';
import { asRevert, ContractRevertError, NonceConflictError, ReceiptTimeoutError, redactUrls, TxReplacedError } from './errors.js';

/**
 * One of the keeper's own transactions, journaled before it is broadcast: enough to find it again after a crash
 * or a receipt timeout (`hash`), to tell whether its slot was taken by another transaction (`nonce`), and to
 * broadcast it again if the node lost it (`serialized`, the signed raw transaction).
 */
export interface PendingEvmTx {
  /** keccak256 of `serialized`, 0x + 64 hex. */
  hash: Hex;
  /** The account nonce it was signed with. */
  nonce: number;
  chainKey: string;
  /** The signed raw transaction (EIP-2718 envelope); absent when only the hash was kept. */
  serialized?: Hex;
}

/** What a nonce manager keeps per (chain, account): the next nonce this process would use, when known. */
interface NonceSlot {
  next: number | undefined;
  /** Resolves when the holder of the slot releases it. */
  tail: Promise<void>;
}

/**
 * Per-(chain key, account address) serialization of sign+broadcast and the account's next nonce in this process.
 * One instance per process is the rule ({@link defaultNonceManager}); independent instances behave like
 * independent processes (their collisions are resolved on chain by re-read and re-sign), which tests use.
 */
export class EvmNonceManager {
  readonly #slots = new Map<string, NonceSlot>();

  /**
   * Runs `fn` with exclusive use of the account's nonce sequence in this manager; `fn` reads and sets `slot.next`.
   * Calls for the same (chain, account) run one after the other in call order; other accounts are not blocked.
   */
  async exclusive<T>(chainKey: string, address: Address, fn: (slot: { next: number | undefined }) => Promise<T>): Promise<T> {
    const slot = this.#slot(chainKey, address);
    const previous = slot.tail;
    let release!: () => void;
    slot.tail = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await fn(slot);
    } finally {
      release();
    }
  }

  /**
   * Forgets the local next nonce of (chain, account): the next send takes the chain's pending count. Called when
   * one of our transactions may have left the pool (receipt timeout, replaced), so no nonce gap is left behind.
   */
  reset(chainKey: string, address: Address): void {
    const slot = this.#slots.get(EvmNonceManager.#key(chainKey, address));
    if (slot) slot.next = undefined;
  }

  /** The next nonce this manager would use for (chain, account) before reading the chain; undefined when unknown. */
  peek(chainKey: string, address: Address): number | undefined {
    return this.#slots.get(EvmNonceManager.#key(chainKey, address))?.next;
  }

  static #key(chainKey: string, address: Address): string {
    return `${chainKey}:${address.toLowerCase()}`;
  }

  #slot(chainKey: string, address: Address): NonceSlot {
    const key = EvmNonceManager.#key(chainKey, address);
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { next: undefined, tail: Promise.resolve() };
      this.#slots.set(key, slot);
    }
    return slot;
  }
}

/** The process-wide nonce manager every write uses unless told otherwise. */
export const defaultNonceManager = new EvmNonceManager();

/** Sign+broadcast attempts on nonce refusals before {@link NonceConflictError}. */
const DEFAULT_NONCE_ATTEMPTS = 6;

/** Node refusals that mean "this nonce is taken" (geth, anvil, reth, erigon, nethermind wordings; viem's rewording). */
const NONCE_REFUSAL = /nonce too low|lower than the current nonce|replacement transaction underpriced|already known|transaction already imported|known transaction|nonce has already been used|oldnonce/i;

/**
 * When `err` is a node's refusal of a transaction because its nonce is taken (mined, or another transaction holds it
 * in the pool, or the very same transaction is already there), the refusal text without URLs; undefined otherwise.
 */
export function nonceRefusalOf(err: unknown): string | undefined {
  const texts: string[] = [];
  if (err instanceof BaseError) {
    err.walk((e) => {
      if (e instanceof BaseError) texts.push(e.details, e.shortMessage);
      else if (e instanceof Error) texts.push(e.message);
      return false;
    });
  } else if (err instanceof Error) texts.push(err.message);
  const hit = texts.find((t) => typeof t === 'string' && NONCE_REFUSAL.test(t));
  return hit === undefined ? undefined : redactUrls(hit).split('\n')[0]!.slice(0, 200);
}

/** Whether the node knows the transaction `hash` (in the pool or mined). */
async function isKnown(clients: EvmClients, hash: Hash): Promise<boolean> {
  try {
    await clients.publicClient.getTransaction({ hash });
    return true;
  } catch {
    return false;
  }
}

export interface BroadcastParams {
  clients: EvmClients;
  /** Recipient (contract or account). */
  to: Address;
  /** Calldata; absent for a plain transfer. */
  data?: Hex;
  /** Native value, wei. */
  value?: bigint;
  /** Gas limit; estimated by the node when absent. */
  gas?: bigint;
  /** Names the call in errors and logs (the contract function, or e.g. `transfer`). */
  label: string;
  /**
   * Called with each signed transaction BEFORE it is broadcast (journal it with the leg). Called again when a nonce
   * refusal made us re-sign: the last call is the transaction that was broadcast. If it throws, nothing is sent.
   */
  onSigned?: (tx: PendingEvmTx) => void | Promise<void>;
  /** Default {@link defaultNonceManager}. */
  nonceManager?: EvmNonceManager;
  /** Sign+broadcast attempts on nonce refusals (default 6). */
  maxNonceAttempts?: number;
}

/**
 * Signs a transaction from the wallet's account with the next nonce of (chain, account) and broadcasts it
 * (`eth_sendRawTransaction`), under the nonce manager's per-account lock. Next nonce = max(this process's next,
 * the chain's `pending` transaction count). A nonce refusal re-reads the chain and re-signs (backoff with jitter),
 * unless the node already knows our very hash (a lost answer to an earlier send: then it counts as sent).
 * @returns the broadcast transaction (hash, nonce, chainKey, serialized); the receipt is not awaited.
 * @throws NonceConflictError after `maxNonceAttempts` refusals; Error when the clients have no account; transport
 *   errors as viem throws them (then the journaled transaction may or may not have reached the node).
 * @example
 *   const tx = await signAndBroadcast({ clients, to: recipient, value: 1n, label: 'transfer' });
 */
export async function signAndBroadcast(p: BroadcastParams): Promise<PendingEvmTx & { serialized: Hex }> {
  const wallet = p.clients.walletClient;
  if (!wallet) throw new Error(`${p.clients.chainKey}: no signing account configured; cannot send ${p.label}`);
  const address = wallet.account.address;
  const manager = p.nonceManager ?? defaultNonceManager;
  const maxAttempts = p.maxNonceAttempts ?? DEFAULT_NONCE_ATTEMPTS;
  return manager.exclusive(p.clients.chainKey, address, async (slot) => {
    let lastRefusal = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const chainNext = await p.clients.publicClient.getTransactionCount({ address, blockTag: 'pending' });
      const nonce = Math.max(slot.next ?? 0, chainNext);
      const prepared = await wallet.prepareTransactionRequest({ to: p.to, data: p.data, value: p.value, gas: p.gas, nonce });
      // viem's prepared-request type is a deep conditional over every transaction type; the value is what signTransaction takes.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const serialized = (await wallet.signTransaction(prepared as any)) as Hex;
      const tx = { hash: keccak256(serialized), nonce, chainKey: p.clients.chainKey, serialized };
      await p.onSigned?.(tx);
      try {
        await wallet.sendRawTransaction({ serializedTransaction: serialized });
        slot.next = nonce + 1;
        return tx;
      } catch (err) {
        const refusal = nonceRefusalOf(err);
        if (refusal === undefined) throw err;
        if (await isKnown(p.clients, tx.hash)) {
          slot.next = nonce + 1;
          return tx;
        }
        // The nonce is taken (mined, or held in the pool by another writer): never go below the next one again.
        slot.next = nonce + 1;
        lastRefusal = refusal;
        if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, 25 * attempt + Math.floor(Math.random() * 75)));
      }
    }
    throw new NonceConflictError(p.clients.chainKey, p.label, address, maxAttempts, lastRefusal);
  });
}

export interface WaitForEvmTxOptions {
  /** Names the call in errors. */
  label: string;
  /** Confirmations to wait for (default 1). */
  confirmations?: number;
  /** Receipt wait timeout, ms (default 60 s). */
  timeoutMs?: number;
  /** Reset on timeout or replacement (default {@link defaultNonceManager}). */
  nonceManager?: EvmNonceManager;
}

/**
 * Waits for the receipt of our transaction `tx` (sent from the wallet's account).
 * @returns the receipt of `tx.hash` itself (status `success` or `reverted`), never another transaction's.
 * @throws ReceiptTimeoutError (hash, nonce) when no receipt came within `timeoutMs` and the nonce is not taken by a
 *   mined transaction; TxReplacedError when another transaction with the same nonce was mined instead (ours will
 *   never mine); transport errors as viem throws them.
 */
export async function waitForEvmTx(clients: EvmClients, tx: Pick<PendingEvmTx, 'hash' | 'nonce'>, o: WaitForEvmTxOptions): Promise<TransactionReceipt> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const address = clients.walletClient?.account.address;
  let receipt: TransactionReceipt;
  try {
    receipt = await clients.publicClient.waitForTransactionReceipt({ hash: tx.hash, confirmations: o.confirmations ?? 1, timeout: timeoutMs });
  } catch (err) {
    if (!(err instanceof WaitForTransactionReceiptTimeoutError)) throw err;
    if (address) {
      (o.nonceManager ?? defaultNonceManager).reset(clients.chainKey, address);
      const mined = await clients.publicClient.getTransactionCount({ address, blockTag: 'latest' });
      if (mined > tx.nonce && !(await isKnown(clients, tx.hash))) throw new TxReplacedError(clients.chainKey, o.label, tx.hash, tx.nonce, undefined);
    }
    throw new ReceiptTimeoutError(clients.chainKey, o.label, tx.hash, tx.nonce, timeoutMs);
  }
  if (receipt.transactionHash.toLowerCase() !== tx.hash.toLowerCase()) {
    if (address) (o.nonceManager ?? defaultNonceManager).reset(clients.chainKey, address);
    throw new TxReplacedError(clients.chainKey, o.label, tx.hash, tx.nonce, receipt.transactionHash);
  }
  return receipt;
}

export interface WriteParams<abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>> {
  clients: EvmClients;
  address: Address;
  abi: abi;
  functionName: fn;
  args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', fn>;
  /** Native value in wei (payable functions). */
  value?: bigint;
  /** Confirmations to wait for (default 1). */
  confirmations?: number;
  /** Receipt wait timeout (default 60 s). */
  timeoutMs?: number;
  /**
   * Extra custom-error definitions used to decode a revert that comes from a contract called by
   * `address` (e.g. the vault reverting inside a route call).
   */
  errorsAbi?: Abi;
  /**
   * Journal hook: receives the signed transaction BEFORE it is broadcast (see {@link BroadcastParams.onSigned}).
   * Keep it with the leg and pass it back as `writeOnce`'s `pending` on a retry.
   */
  onSigned?: (tx: PendingEvmTx) => void | Promise<void>;
  /** Default {@link defaultNonceManager} (one per process). */
  nonceManager?: EvmNonceManager;
}

export interface WriteResult {
  txHash: Hash;
  receipt: TransactionReceipt;
  /** The simulated return value. */
  result: unknown;
  /** The account nonce the transaction was sent with. */
  nonce: number;
}

/** Gas limit from an estimate: the estimate plus a quarter (see {@link simulateAndWrite}). */
export const withGasHeadroom = (estimate: bigint): bigint => estimate + estimate / 4n;

/**
 * The gas limit of a simulated write: the node's estimate + 25% ({@link withGasHeadroom}), for writes sent outside
 * {@link simulateAndWrite} (devnet set-up, the market driver, tests). An exact estimate is not enough for Aave v3's Pool:
 * `ReserveLogic.updateState` skips the index update when the reserve was already updated in the same second
 * (`lastUpdateTimestamp == block.timestamp`), so a write estimated in that second and mined in the next one needs more
 * gas than estimated and reverts out of gas (seen on anvil's automine as a flaky `Pool.supply` / `Pool.withdraw` revert).
 * @param request a request as `simulateContract` returns it (account set).
 * @throws what `estimateContractGas` throws (a revert, a transport error).
 */
export async function estimateWithHeadroom(publicClient: { estimateContractGas(args: never): Promise<bigint> }, request: object): Promise<bigint> {
  // viem's generic parameter types are too deep to express here; `request` is a simulated write.
  return withGasHeadroom(await publicClient.estimateContractGas(request as never));
}

/**
 * Simulates `functionName` with the wallet's account and estimates its gas (plus a quarter of headroom); only if both pass, signs it with the
 * next nonce ({@link signAndBroadcast}), hands it to `onSigned`, broadcasts it and waits for its receipt.
 * @throws ContractRevertError when the simulation or gas estimate reverts (the decoded custom error is in
 *   `errorName` and the message) or the mined transaction has status `reverted` (`errorName` undefined);
 *   ReceiptTimeoutError (hash, nonce) when the receipt did not come in `timeoutMs` — the transaction may still mine;
 *   TxReplacedError when another transaction took its nonce; NonceConflictError when the nonce kept colliding;
 *   transport errors as they are.
 * @example
 *   const { receipt } = await simulateAndWrite({ clients, address: vault, abi: collateralVaultAbi,
 *     functionName: 'withdrawToRoute', args: [rebalanceId, 1_000_000n], onSigned: (tx) => heartbeat(tx) });
 */
export async function simulateAndWrite<abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>>(
  p: WriteParams<abi, fn>,
): Promise<WriteResult> {
  const wallet = p.clients.walletClient;
  if (!wallet) throw new Error(`${p.clients.chainKey}: no signing account configured; cannot call ${p.functionName}`);
  const call = {
    address: p.address,
    abi: p.errorsAbi ? [...p.abi, ...p.errorsAbi] : p.abi,
    functionName: p.functionName,
    args: p.args,
    account: wallet.account,
    value: p.value,
  };
  let result: unknown;
  let gas: bigint;
  try {
    // viem's generic parameter types are too deep to express here; the public signature above is typed.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    result = (await p.clients.publicClient.simulateContract(call as any)).result;
    // The estimate is for the state at the latest block; the transaction mines in a later one, where the same call can
    // cost more (Aave v3's Pool skips part of its reserve update when the reserve was already updated in the same
    // second: estimated in that second, mined in the next, it ran out of gas on the devnet). A quarter of headroom;
    // unused gas is not paid.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    gas = withGasHeadroom(await p.clients.publicClient.estimateContractGas(call as any));
  } catch (err) {
    throw asRevert(err, p.clients.chainKey, p.functionName) ?? err;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const data = encodeFunctionData({ abi: p.abi, functionName: p.functionName, args: p.args } as any);
  const tx = await signAndBroadcast({ clients: p.clients, to: p.address, data, value: p.value, gas, label: p.functionName, onSigned: p.onSigned, nonceManager: p.nonceManager });
  const receipt = await waitForEvmTx(p.clients, tx, { label: p.functionName, confirmations: p.confirmations, timeoutMs: p.timeoutMs, nonceManager: p.nonceManager });
  if (receipt.status !== 'success') {
    throw new ContractRevertError(p.clients.chainKey, p.functionName, undefined, undefined, `${p.clients.chainKey}: ${p.functionName} mined but reverted (tx ${tx.hash}, nonce ${tx.nonce})`);
  }
  return { txHash: tx.hash, receipt, result, nonce: tx.nonce };
}
