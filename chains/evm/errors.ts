/**
 * Typed errors of the EVM adapter. Activities translate them into Temporal failures:
 * a revert is deterministic (non-retryable), a transport error is not.
 */
import { BaseError, ContractFunctionRevertedError } from 'viem';

/** A contract call reverted (in simulation or on chain). `errorName` is the decoded custom error, when known. */
export class ContractRevertError extends Error {
  override readonly name = 'ContractRevertError';
  constructor(
    readonly chainKey: string,
    readonly functionName: string,
    readonly errorName: string | undefined,
    readonly errorArgs: readonly unknown[] | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A multicall read where some calls failed: the snapshot of that chain is unusable (fail closed). */
export class PartialReadError extends Error {
  override readonly name = 'PartialReadError';
  constructor(
    readonly chainKey: string,
    readonly failed: string[],
  ) {
    super(`${chainKey}: multicall read failed for ${failed.join(', ')}; no plan on a partial snapshot`);
  }
}

/**
 * An RPC URL without what may carry secrets (userinfo, path, query, fragment: API keys live there), for
 * messages, logs and Temporal histories: `scheme://host:port`, or the input's host alone when it does not parse.
 * @example redactRpcUrl('https://user:pw@eth-mainnet.g.alchemy.com/v2/KEY?x=1') // 'https://eth-mainnet.g.alchemy.com'
 */
export function redactRpcUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^[^@/]*@/, '').split(/[/?#]/)[0] || '(unparsable URL)';
  }
}

/**
 * `text` with every URL in it reduced by {@link redactRpcUrl} (viem puts the request URL, API key included, in its
 * error messages): for reasons that reach logs, `/readyz`, snapshots and Temporal histories.
 */
export function redactUrls(text: string): string {
  return text.replace(/\b(?:https?|wss?):\/\/[^\s"'<>()\]]+/gi, (u) => redactRpcUrl(u));
}

/** Node / undici network error codes, as the cause of an unreachable RPC says them. */
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  EPIPE: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
};

/** The errors below `err`: its `cause` chain and the members of an AggregateError (undici's happy eyeballs). */
function* errorChain(err: unknown, depth = 0): Generator<unknown> {
  if (err === undefined || err === null || depth > 12) return;
  yield err;
  if (err instanceof AggregateError) for (const e of err.errors) yield* errorChain(e, depth + 1);
  if (typeof err === 'object' && 'cause' in err) yield* errorChain((err as { cause?: unknown }).cause, depth + 1);
}

/**
 * When `err` is a transport failure (the RPC did not answer: refused, reset, DNS, timeout, an HTTP error status),
 * a short cause without the URL, e.g. `connection refused (ECONNREFUSED)`, `timeout after 10000 ms`, `HTTP 503`;
 * undefined for anything else (a revert, a decode error: the RPC answered).
 * @param timeoutMs the transport's request timeout, named in a timeout's cause.
 */
export function transportCause(err: unknown, timeoutMs?: number): string | undefined {
  let http: string | undefined;
  let fetchFailed: string | undefined;
  for (const e of errorChain(err)) {
    if (!(e instanceof Error)) continue;
    if (e.name === 'TimeoutError') return timeoutMs !== undefined ? `timeout after ${timeoutMs} ms` : 'timeout';
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
    const status = (e as { status?: unknown }).status;
    if (e.name === 'HttpRequestError' && typeof status === 'number') http ??= `HTTP ${status}`;
    if (e.name === 'HttpRequestError' || e.name === 'WebSocketRequestError' || e.name === 'SocketClosedError') fetchFailed ??= 'request failed';
    if (e.message === 'fetch failed') fetchFailed = 'fetch failed';
    if (fetchFailed && e.message && e.message !== 'fetch failed' && !(e instanceof BaseError) && e.message.length < 120 && !/:\/\//.test(e.message)) fetchFailed = `fetch failed: ${e.message}`;
  }
  return http ?? fetchFailed;
}

/** A chain's RPC did not answer (refused, reset, DNS, timeout, HTTP error): its key, the redacted URL, the cause. */
export class RpcUnreachableError extends Error {
  override readonly name = 'RpcUnreachableError';
  constructor(
    readonly chainKey: string,
    /** `scheme://host:port` only ({@link redactRpcUrl}). */
    readonly url: string,
    readonly transport: string,
  ) {
    super(`${chainKey}: RPC ${url} unreachable: ${transport}`);
  }
}

/**
 * If `err` is a viem revert, returns a {@link ContractRevertError} naming the custom error and its args;
 * otherwise returns undefined (transport errors, timeouts: retryable).
 */
export function asRevert(err: unknown, chainKey: string, functionName: string): ContractRevertError | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return undefined;
  const errorName = revert.data?.errorName ?? (revert.reason ? 'Error' : undefined);
  const errorArgs = revert.data?.args;
  const detail = errorName
    ? `${errorName}(${(errorArgs ?? []).map((a) => String(a)).join(', ')})`
    : (revert.reason ?? revert.shortMessage);
  return new ContractRevertError(chainKey, functionName, errorName, errorArgs, `${chainKey}: ${functionName} reverted: ${detail}`);
}

/**
 * A sent transaction's receipt did not arrive within the wait (`timeoutMs`): the transaction may still be pending,
 * mine later, or have been dropped. Retryable; the retry must look it up by `hash` (or `nonce`) before sending
 * another one (`writeOnce` with `pending`), or the same action may be sent twice.
 */
export class ReceiptTimeoutError extends Error {
  override readonly name = 'ReceiptTimeoutError';
  constructor(
    readonly chainKey: string,
    readonly functionName: string,
    /** The transaction hash (0x, 32 bytes). */
    readonly hash: `0x${string}`,
    /** The account nonce the transaction was signed with. */
    readonly nonce: number,
    readonly timeoutMs: number,
  ) {
    super(`${chainKey}: ${functionName} tx ${hash} (nonce ${nonce}) has no receipt after ${timeoutMs} ms; it may still mine: look it up by hash before sending again`);
  }
}

/**
 * A transaction could not be broadcast because its nonce kept colliding (another writer from the same key took
 * it: "nonce too low", "replacement transaction underpriced", ...) after `attempts` re-reads of the chain's
 * nonce. Retryable: nothing was sent under this call.
 */
export class NonceConflictError extends Error {
  override readonly name = 'NonceConflictError';
  constructor(
    readonly chainKey: string,
    readonly functionName: string,
    readonly address: `0x${string}`,
    readonly attempts: number,
    /** The node's last refusal, without URLs. */
    readonly lastRefusal: string,
  ) {
    super(`${chainKey}: ${functionName} from ${address}: nonce refused ${attempts} times (last: ${lastRefusal}); another writer is using this key`);
  }
}

/**
 * A sent transaction will never mine: another transaction with the same account nonce (`replacementHash`, from
 * another process writing with the same key) was mined or took its place in the pool. Retryable: the action of
 * `hash` did not happen; re-check the chain before sending it again.
 */
export class TxReplacedError extends Error {
  override readonly name = 'TxReplacedError';
  constructor(
    readonly chainKey: string,
    readonly functionName: string,
    readonly hash: `0x${string}`,
    readonly nonce: number,
    readonly replacementHash: `0x${string}` | undefined,
  ) {
    super(`${chainKey}: ${functionName} tx ${hash} (nonce ${nonce}) was replaced${replacementHash ? ` by ${replacementHash}` : ''}; it will never mine`);
  }
}
