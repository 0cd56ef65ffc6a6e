/**
 * Keeper-side verification of Wormhole VAAs (version 1): parse with the Wormhole SDK, recover every
 * guardian signature with viem, and apply the core contract's rules, returning a structured result
 * instead of a single boolean so the keeper and `ballast inspect vaa` can say exactly what failed.
 *
 * Rules (Wormhole core, `ethereum/contracts/Messages.sol` `parseAndVerifyVM` → `verifyVM` →
 * `verifyHeader` + `verifySignatures`; Getters.sol `quorum`):
 * - the guardian set named by the VAA must be known and non-empty ("invalid guardian set");
 * - a set other than the current one is refused once `expirationTime < block.timestamp`
 *   ("guardian set has expired"); superseded sets expire 86 400 s after the upgrade (Setters.sol
 *   `expireGuardianSet`); here a set without `expirationTimeSec` is the current one;
 * - at least `quorum(n) = floor(2n/3) + 1` signatures for a set of n keys ("no quorum");
 * - guardian indices strictly ascending ("signature indices must be ascending"), each below n
 *   ("guardian index out of bounds"), and every signature must `ecrecover` to `keys[guardianIndex]`
 *   ("VM signature invalid");
 * - the signed digest is `vm.hash = keccak256(keccak256(body))` where body = everything after the
 *   signatures (timestamp … payload) (Messages.sol `parseVM1`: `doubleKeccak256(body)`), recovered
 *   with `v + 27` (the VAA stores the raw recovery id 0/1).
 * See also https://wormhole.com/docs/protocol/infrastructure/vaas/ .
 *
 * The VAA layout is never parsed by hand: `deserialize('Uint8Array', bytes)` from
 * `@wormhole-foundation/sdk-definitions` (the module `@wormhole-foundation/sdk` re-exports it from; it
 * loads in ~0.5 s instead of ~3 s). The SDK exposes `hash = keccak256(body)` (ONE keccak); the digest
 * the guardians sign is `keccak256(hash)`. Both are reported (`bodyHash`, `digest`).
 */
import { deserialize, envelopeLayout, type VAA } from '@wormhole-foundation/sdk-definitions';
import { bytesToHex, getAddress, hexToBytes, isHex, keccak256, numberToHex, pad, recoverAddress, type Address, type Hex } from 'viem';
import type { GuardianSet } from './guardianSets.js';

/** An emitter allowed to deliver: Wormhole chain id and its 32-byte universal address (a 20-byte EVM address is left-padded). */
export interface AllowedEmitter {
  /** Wormhole chain id (uint16), e.g. 2 for Ethereum; not an EVM chain id. */
  chain: number;
  /** Emitter address: 0x + 64 hex (universal) or 0x + 40 hex (EVM, left-padded to 32 bytes). Case-insensitive. */
  emitter: Hex;
}

/** Options of {@link verifyVaa}. */
export interface VerifyVaaOptions {
  /** Known guardian sets (any order; indices must be distinct), e.g. `loadGuardianSets(file).sets`. */
  guardianSets: readonly GuardianSet[];
  /** "Now" for the expiry check, unix seconds. Default: the wall clock. */
  nowSec?: bigint;
  /** When given, the VAA's (emitter chain, emitter address) must be one of these. An empty list refuses every VAA. */
  allowedEmitters?: readonly AllowedEmitter[];
}

/** The VAA's fields, as the SDK decoded them. Hex strings are lowercase, 0x-prefixed. */
export interface DecodedVaa {
  /** VAA version; always 1 (the SDK refuses any other). */
  version: 1;
  /** Guardian set index the VAA claims to be signed by (uint32). */
  guardianSetIndex: number;
  /** Observation time, unix seconds (uint32, set by the emitter chain; 0 in many governance VAAs). */
  timestamp: number;
  /** Emitter-chosen nonce (uint32). */
  nonce: number;
  /** Wormhole chain id of the emitter (uint16). */
  emitterChain: number;
  /** The SDK's name for {@link emitterChain}, e.g. `Ethereum`. */
  emitterChainName: string;
  /** Emitter address, 32 bytes. */
  emitterAddress: Hex;
  /** Emitter sequence number (uint64). */
  sequence: bigint;
  /** Consistency (finality) level requested by the emitter (uint8). */
  consistencyLevel: number;
  /** The payload bytes. */
  payload: Hex;
  /** keccak256(body): the SDK's `vaa.hash`. Body = timestamp … payload. */
  bodyHash: Hex;
  /** keccak256(keccak256(body)): what the guardians sign; the core contract's `vm.hash` (replay-protection key). */
  digest: Hex;
}

/** The check of one signature in the VAA. */
export interface VaaSignatureCheck {
  /** Position of the signer in the guardian set (uint8). */
  guardianIndex: number;
  /** The set's key at `guardianIndex`, or undefined when the set is unknown or the index out of range. */
  expectedKey?: Address;
  /** Address recovered from (digest, r, s, v); undefined when recovery failed. */
  recovered?: Address;
  /** `recovered === expectedKey`. */
  valid: boolean;
  /** Why the signature could not be recovered (bad recovery id, r/s not on the curve). */
  error?: string;
}

/** Why a VAA was refused. */
export type VaaRejectionCode =
  | 'unparseable'
  | 'signer-indices-not-ascending'
  | 'unknown-guardian-set'
  | 'invalid-guardian-set'
  | 'guardian-set-expired'
  | 'signer-index-out-of-range'
  | 'signature-mismatch'
  | 'quorum-not-met'
  | 'emitter-not-allowed';

/** One reason a VAA was refused: a stable code and a message naming the offending values. */
export interface VaaRejection {
  code: VaaRejectionCode;
  message: string;
}

/** Result of {@link verifyVaa}. `ok` ⇔ `reasons` is empty. */
export interface VaaVerification {
  /** True when every rule held. */
  ok: boolean;
  /** Every rule that failed (several may fail at once, e.g. a tampered body fails every signature and the quorum). */
  reasons: VaaRejection[];
  /** The decoded VAA; undefined only when the bytes did not parse. */
  decoded?: DecodedVaa;
  /** Guardian indices of the signatures, in VAA order. */
  signerIndices: number[];
  /** Per-signature checks, in VAA order. */
  signatures: VaaSignatureCheck[];
  /** The guardian set used; undefined when unparseable or unknown. */
  guardianSet?: {
    index: number;
    /** Number of keys n. */
    size: number;
    /** Copied from the set; undefined: no expiry (current set). */
    expirationTimeSec?: bigint;
    /** `nowSec > expirationTimeSec`. */
    expired: boolean;
  };
  /** Quorum: `needed = floor(2n/3)+1`; `held` = signatures that recover to their key. Undefined when the set is unknown. */
  quorum?: { needed: number; held: number; met: boolean };
  /** Whether the emitter is in `allowedEmitters`; undefined when no allow-list was given. */
  emitterAllowed?: boolean;
  /** The "now" used for the expiry check, unix seconds. */
  nowSec: bigint;
}

/**
 * Wormhole quorum for a guardian set of `n` keys: `floor(2n/3) + 1` (core Getters.sol `quorum`;
 * 13 of 19 on mainnet, 1 of 1 on a devnet).
 * @throws RangeError when n is not an integer in 0..255 (a guardian index is a uint8).
 */
export function quorum(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`quorum: guardian set size must be an integer in 0..255 (got ${n})`);
  return Math.floor((2 * n) / 3) + 1;
}

/** The SDK's own chain-name → chain-id mapping: the inverse of what `deserialize` applied to the emitter chain. */
const emitterChainItem = envelopeLayout[2];
if (emitterChainItem.name !== 'emitterChain') throw new Error('verifyVaa: @wormhole-foundation/sdk-definitions envelopeLayout changed (no emitterChain at [2])');

const wallClockSec = (): bigint => BigInt(Math.floor(Date.now() / 1000));

/** Lowercase 32-byte form of an allow-list emitter; throws on anything else. */
function emitter32(e: AllowedEmitter, i: number): Hex {
  if (!Number.isInteger(e.chain) || e.chain < 0 || e.chain > 0xffff) throw new TypeError(`verifyVaa: allowedEmitters[${i}].chain must be a Wormhole chain id 0..65535 (got ${e.chain})`);
  if (!isHex(e.emitter, { strict: true }) || (e.emitter.length !== 66 && e.emitter.length !== 42)) {
    throw new TypeError(`verifyVaa: allowedEmitters[${i}].emitter must be 0x + 64 hex (universal address) or 0x + 40 hex (EVM address) (got ${JSON.stringify(e.emitter)})`);
  }
  return pad(e.emitter.toLowerCase() as Hex, { size: 32 });
}

/**
 * Parses and verifies a signed VAA (version 1) against known guardian sets, like the core contract's
 * `parseAndVerifyVM`, plus an optional emitter allow-list. Never throws for a bad VAA: every failure is a
 * {@link VaaRejection} in `reasons` (unparseable bytes, unknown or expired set, unsorted/duplicate or
 * out-of-range signer index, a signature not recovering to its key, quorum not met, emitter not allowed).
 *
 * @param bytes the serialized VAA (header | signatures | body).
 * @param opts guardian sets, `nowSec` (unix seconds, default wall clock), optional `allowedEmitters`.
 * @returns the decoded fields, per-signature checks, quorum, and `ok` + `reasons`.
 * @throws (rejects with) TypeError only for bad options (duplicate guardian set index, malformed allow-list entry).
 * @example
 *   const { sets } = await loadGuardianSets(file);
 *   const r = await verifyVaa(bytes, { guardianSets: sets, allowedEmitters: [{ chain: 2, emitter: tokenBridge }] });
 *   if (!r.ok) console.error(r.reasons.map((x) => x.message).join('; '));
 */
export async function verifyVaa(bytes: Uint8Array, opts: VerifyVaaOptions): Promise<VaaVerification> {
  const nowSec = opts.nowSec ?? wallClockSec();
  const byIndex = new Map<number, GuardianSet>();
  for (const s of opts.guardianSets) {
    if (byIndex.has(s.index)) throw new TypeError(`verifyVaa: guardianSets holds index ${s.index} twice`);
    byIndex.set(s.index, s);
  }
  const allowed = opts.allowedEmitters?.map((e, i) => ({ chain: e.chain, emitter: emitter32(e, i) }));
  const reasons: VaaRejection[] = [];
  const fail = (code: VaaRejectionCode, message: string) => reasons.push({ code, message });

  let vaa: VAA<'Uint8Array'>;
  try {
    vaa = deserialize('Uint8Array', bytes);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // The SDK enforces Messages.sol's "signature indices must be ascending" while parsing.
    if (/ascending order/i.test(msg)) fail('signer-indices-not-ascending', `signature guardian indices must be strictly ascending (a duplicate or unsorted index): ${msg}`);
    else fail('unparseable', `not a VAA the Wormhole SDK can parse (${bytes.length} bytes): ${msg}`);
    return { ok: false, reasons, signerIndices: [], signatures: [], nowSec };
  }

  const bodyHash = bytesToHex(vaa.hash);
  const digest = keccak256(bodyHash);
  const decoded: DecodedVaa = {
    version: 1,
    guardianSetIndex: vaa.guardianSet,
    timestamp: vaa.timestamp,
    nonce: vaa.nonce,
    emitterChain: emitterChainItem.custom.from(vaa.emitterChain),
    emitterChainName: vaa.emitterChain,
    emitterAddress: bytesToHex(vaa.emitterAddress.toUint8Array()),
    sequence: vaa.sequence,
    consistencyLevel: vaa.consistencyLevel,
    payload: bytesToHex(vaa.payload),
    bodyHash,
    digest,
  };
  const signerIndices = vaa.signatures.map((s) => s.guardianIndex);

  // Defensive: the SDK already refuses these, but the rule is ours to enforce.
  for (let i = 1; i < signerIndices.length; i++) {
    if (signerIndices[i]! <= signerIndices[i - 1]!) {
      fail('signer-indices-not-ascending', `signature ${i} has guardian index ${signerIndices[i]} after ${signerIndices[i - 1]}: indices must be strictly ascending`);
      break;
    }
  }

  const set = byIndex.get(decoded.guardianSetIndex);
  const signatures: VaaSignatureCheck[] = await Promise.all(
    vaa.signatures.map(async ({ guardianIndex, signature: { r, s, v } }) => {
      const expectedKey = set?.keys[guardianIndex] !== undefined ? getAddress(set.keys[guardianIndex]) : undefined;
      if (v !== 0 && v !== 1) return { guardianIndex, expectedKey, valid: false, error: `recovery id v must be 0 or 1 (got ${v})` };
      try {
        const recovered = await recoverAddress({ hash: digest, signature: { r: numberToHex(r, { size: 32 }), s: numberToHex(s, { size: 32 }), yParity: v } });
        return { guardianIndex, expectedKey, recovered, valid: expectedKey !== undefined && recovered === expectedKey };
      } catch (err) {
        return { guardianIndex, expectedKey, valid: false, error: `signature does not recover: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
      }
    }),
  );

  let guardianSet: VaaVerification['guardianSet'];
  let q: VaaVerification['quorum'];
  if (!set) {
    const known = [...byIndex.keys()].sort((a, b) => a - b);
    fail('unknown-guardian-set', `guardian set ${decoded.guardianSetIndex} is not among the known sets (${known.length ? known.join(', ') : 'none given'})`);
  } else if (set.keys.length === 0 || set.keys.length > 255) {
    fail('invalid-guardian-set', `guardian set ${set.index} has ${set.keys.length} keys (must be 1..255)`);
  } else {
    const expired = set.expirationTimeSec !== undefined && nowSec > set.expirationTimeSec;
    guardianSet = { index: set.index, size: set.keys.length, expirationTimeSec: set.expirationTimeSec, expired };
    if (expired) {
      fail('guardian-set-expired', `guardian set ${set.index} expired at ${set.expirationTimeSec} (${unixSecToIso(set.expirationTimeSec!)}), before now ${nowSec} (${unixSecToIso(nowSec)})`);
    }
    for (const c of signatures) {
      if (c.guardianIndex >= set.keys.length) {
        fail('signer-index-out-of-range', `signature by guardian index ${c.guardianIndex}, but set ${set.index} has ${set.keys.length} keys (0..${set.keys.length - 1})`);
      } else if (!c.valid) {
        fail('signature-mismatch', `signature by guardian index ${c.guardianIndex} ${c.recovered ? `recovers to ${c.recovered}` : `does not recover (${c.error})`}, not to the set ${set.index} key ${c.expectedKey}`);
      }
    }
    const held = signatures.filter((c) => c.valid).length;
    const needed = quorum(set.keys.length);
    q = { needed, held, met: held >= needed };
    if (!q.met) fail('quorum-not-met', `${held} valid signature(s) of the ${needed} needed (quorum of ${set.keys.length} guardians in set ${set.index}; ${signatures.length} present)`);
  }

  let emitterAllowed: boolean | undefined;
  if (allowed) {
    emitterAllowed = allowed.some((e) => e.chain === decoded.emitterChain && e.emitter === decoded.emitterAddress);
    if (!emitterAllowed) fail('emitter-not-allowed', `emitter ${decoded.emitterAddress} on chain ${decoded.emitterChain} (${decoded.emitterChainName}) is not in the allow-list (${allowed.length} entries)`);
  }

  return { ok: reasons.length === 0, reasons, decoded, signerIndices, signatures, guardianSet, quorum: q, emitterAllowed, nowSec };
}

/** A VAA that passed {@link verifyVaa}: `decoded` is always present. */
export type VerifiedVaa = VaaVerification & { ok: true; decoded: DecodedVaa };

/**
 * A VAA was refused by {@link assertVaaVerified}. `message` lists every reason; `reasons` holds them with
 * their codes and `verification` the whole result (decoded fields when the bytes parsed).
 */
export class VaaVerificationError extends Error {
  override readonly name = 'VaaVerificationError';
  /** The structured reasons (never empty). */
  readonly reasons: VaaRejection[];
  constructor(readonly verification: VaaVerification) {
    const d = verification.decoded;
    const what = d ? `VAA from chain ${d.emitterChain} emitter ${d.emitterAddress} sequence ${d.sequence}` : 'VAA';
    super(`${what} refused: ${verification.reasons.map((r) => `[${r.code}] ${r.message}`).join('; ')}`);
    this.reasons = verification.reasons;
  }
}

/**
 * {@link verifyVaa}, throwing when the VAA is refused: for the keeper's delivery leg, which must never
 * act on an unverified VAA.
 * @returns the verification (ok, with decoded fields).
 * @throws {VaaVerificationError} with every reason when any rule fails; TypeError for bad options.
 */
export async function assertVaaVerified(bytes: Uint8Array, opts: VerifyVaaOptions): Promise<VerifiedVaa> {
  const r = await verifyVaa(bytes, opts);
  if (!r.ok || !r.decoded) throw new VaaVerificationError(r);
  return r as VerifiedVaa;
}

/**
 * Reads a VAA written as hex (`0x` optional) or base64 (standard or URL-safe; as Wormholescan serves it).
 * Hex wins when the text is valid as both (only hex digits, even length).
 * @throws Error saying the text is neither, with its length.
 */
export function vaaBytesFromText(text: string): Uint8Array {
  const t = text.trim();
  const hex = t.startsWith('0x') || t.startsWith('0X') ? t.slice(2) : t;
  if (hex.length > 0 && hex.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(hex)) return hexToBytes(`0x${hex}`);
  if (t.length > 0 && t.length % 4 !== 1 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length > 0) return new Uint8Array(b);
  }
  throw new Error(`a VAA must be hex (0x optional, an even number of hex digits) or base64; got ${t.length} characters starting ${JSON.stringify(t.slice(0, 16))}`);
}

/**
 * Unix seconds → ISO-8601 UTC (`2024-04-27T18:06:52.000Z`), or `out of Date range` beyond ±8.64e15 ms.
 * @param sec unix seconds (VAA timestamps, expiries).
 */
export function unixSecToIso(sec: bigint | number): string {
  const ms = Number(sec) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : 'out of Date range';
}
