/**
 * Keeper-side fetch of a signed VAA from a guardian REST API (the public Wormhole guardians' / Wormholescan
 * spy API, or the devnet guardian in devnet/guardian.ts):
 *
 *   GET {guardianUrl}/v1/signed_vaa/{emitterChain}/{emitter, 64 hex, no 0x}/{sequence}
 *     200 {"vaaBytes": "<base64>"}   the VAA (header | signatures | body)
 *     404                            not signed (observed) yet: ask again later
 *
 * It only fetches: the bytes are NOT trusted. Verify them (chains/wormhole/verifyVaa.ts `assertVaaVerified`,
 * against the guardian sets the keeper knows) before acting on them.
 */
import type { Hex } from 'viem';

/** Which message: the emitter's Wormhole chain id, its address (20-byte EVM or 32-byte universal) and sequence. */
export interface SignedVaaRef {
  /** Wormhole chain id of the emitter chain (uint16; not the EVM chain id). */
  emitterChain: number;
  /** Emitter address: 0x + 40 hex (left-padded to 32 bytes) or 0x + 64 hex. */
  emitter: Hex;
  sequence: bigint;
}

/** Options of {@link fetchSignedVaa}. */
export interface FetchVaaOptions {
  /** Abort the request after this many ms; default 10 000. */
  timeoutMs?: number;
  /** The fetch to use (tests); default the global `fetch`. */
  fetchImpl?: typeof fetch;
}

/**
 * The REST path of a VAA: `/v1/signed_vaa/{chain}/{emitter as 64 lowercase hex}/{sequence}`.
 * @throws RangeError for a chain id outside 1..65535, an emitter that is not 20 or 32 bytes of hex, or a negative sequence.
 * @example signedVaaPath({ emitterChain: 2, emitter: '0x00000000000000000000000000000000000000aa', sequence: 7n })
 *   // '/v1/signed_vaa/2/00000000000000000000000000000000000000000000000000000000000000aa/7'
 */
export function signedVaaPath(ref: SignedVaaRef): string {
  if (!Number.isInteger(ref.emitterChain) || ref.emitterChain < 1 || ref.emitterChain > 0xffff) throw new RangeError(`signed VAA: emitter chain must be a Wormhole chain id 1..65535 (got ${ref.emitterChain})`);
  if (!/^0x(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(ref.emitter)) throw new RangeError(`signed VAA: emitter must be 0x + 40 or 64 hex digits (got ${JSON.stringify(ref.emitter)})`);
  if (ref.sequence < 0n) throw new RangeError(`signed VAA: sequence must be ≥ 0 (got ${ref.sequence})`);
  return `/v1/signed_vaa/${ref.emitterChain}/${ref.emitter.slice(2).toLowerCase().padStart(64, '0')}/${ref.sequence}`;
}

/**
 * Asks a guardian REST API for the signed VAA of one message.
 * @param guardianUrl base URL, e.g. `http://127.0.0.1:7071` (a trailing slash is fine).
 * @returns the VAA bytes (unverified), or `undefined` when the API answers 404 (not signed yet).
 * @throws Error naming the URL on any other status, a body without base64 `vaaBytes`, a timeout or a network error.
 * @example
 *   const bytes = await fetchSignedVaa(cfg.wormhole.guardianUrl, { emitterChain: 2, emitter, sequence });
 *   if (bytes) await assertVaaVerified(bytes, { guardianSets });
 */
export async function fetchSignedVaa(guardianUrl: string, ref: SignedVaaRef, opts: FetchVaaOptions = {}): Promise<Uint8Array | undefined> {
  const url = `${guardianUrl.replace(/\/+$/, '')}${signedVaaPath(ref)}`;
  const doFetch = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new Error(`guardian API ${url}: request failed (${err instanceof Error ? err.message : String(err)}); is guardianUrl right and the API up?`);
  }
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const text = await res.text();
  if (res.status !== 200) throw new Error(`guardian API ${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`guardian API ${url} answered 200 with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
  }
  const b64 = (body as { vaaBytes?: unknown } | null)?.vaaBytes;
  if (typeof b64 !== 'string' || b64.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) {
    throw new Error(`guardian API ${url} answered 200 without a base64 "vaaBytes" field (got ${JSON.stringify(text.slice(0, 120))})`);
  }
  return new Uint8Array(Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}
