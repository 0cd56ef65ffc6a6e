/**
 * Wormhole guardian sets from a JSON file, validated (zod) and, where the file carries the
 * GuardianSetUpgrade VAAs, proven: each upgrade VAA must verify under the previous set and carry
 * exactly the keys the file lists for the new set (a chain of trust from the genesis set).
 *
 * File format (that of `wormhole/guardian_sets_mainnet.json` in the shared fixtures):
 * ```
 * { "guardianSets": { "<index>": ["0x<40 hex>", ...], ... },           required; keys in guardian order
 *   "upgradeVaas": [ { "signedByGuardianSet": 3, "newGuardianSetIndex": 4,
 *                      "timestamp": <unix sec>, "vaaHex": "<hex>", ... } ], optional
 *   "testnetGuardianSet0": ["0x<40 hex>", ...],                           optional (Testnet set 0)
 *   ...other keys (provenance, labels) are ignored }
 * ```
 * The file holds no expiration times. They are derived as the core contract sets them: when set i+1
 * is installed, set i expires 86 400 s later (`Setters.sol` `expireGuardianSet`: `block.timestamp +
 * 86400`). The install block time is not in the file; the upgrade VAA's timestamp (when it was signed,
 * at or before the install) stands in for it, so a derived expiry is at or before the on-chain one
 * (conservative: an old-set VAA may be refused a little early, never accepted late). A superseded set
 * with no upgrade VAA in the file gets `expirationTimeSec = 0` (refused: its expiry is unknown). The
 * highest index is the current set and never expires.
 */
import fs from 'node:fs';
import { deserializePayload } from '@wormhole-foundation/sdk-definitions';
import { getAddress, hexToBytes, type Address } from 'viem';
import { z } from 'zod';
import { formatGot, formatPath } from '../../config/load.js';
import { verifyVaa, type AllowedEmitter } from './verifyVaa.js';

/** One guardian set. */
export interface GuardianSet {
  /** Guardian set index (uint32, as in a VAA header). */
  index: number;
  /** Guardian addresses (EIP-55) in guardian-index order: a signature with guardianIndex i must recover to keys[i]. 1..255 keys. */
  keys: Address[];
  /**
   * Unix seconds after which a VAA signed by this set is refused (refused when now > this).
   * Undefined: no expiry (the current set).
   */
  expirationTimeSec?: bigint;
  /** Unix seconds: timestamp of the GuardianSetUpgrade VAA that installed this set; undefined for the genesis set or when the file has none. */
  installedAtSec?: bigint;
}

/** What {@link loadGuardianSets} returns. */
export interface LoadedGuardianSets {
  /** The file read (or the source name given to {@link parseGuardianSets}). */
  source: string;
  /** The network's sets, ascending by index. */
  sets: GuardianSet[];
  /** Highest index: the current set. */
  currentIndex: number;
  /** Indices of sets whose keys were proven by a GuardianSetUpgrade VAA signed by the previous set. */
  provenByUpgrade: number[];
  /** Testnet set 0 when the file has `testnetGuardianSet0`, else empty. Never mix with `sets`. */
  testnet: GuardianSet[];
}

/** Options of {@link loadGuardianSets} / {@link parseGuardianSets}. */
export interface GuardianSetsOptions {
  /** Seconds a superseded set stays valid after the upgrade. Default {@link GUARDIAN_SET_EXPIRY_SEC} (core contract). */
  guardianSetExpirySec?: bigint;
  /** Verify each upgrade VAA (signatures, governance emitter, payload keys). Default true (~0.1 s for the 7 mainnet upgrades). */
  verifyUpgrades?: boolean;
}

/** Seconds a superseded guardian set stays valid: Wormhole core `Setters.sol` `expireGuardianSet` (block.timestamp + 86400). */
export const GUARDIAN_SET_EXPIRY_SEC = 86_400n;

/**
 * The Wormhole governance emitter, which alone may sign core governance (GuardianSetUpgrade): chain 1
 * (Solana), address 0x…04 (core contract init `INIT_GOV_CHAIN_ID=0x1`, `INIT_GOV_CONTRACT=0x…04`).
 */
export const WORMHOLE_GOVERNANCE_EMITTER: AllowedEmitter = { chain: 1, emitter: `0x${'00'.repeat(31)}04` };

/** One problem with a guardian-sets file: the field path, what is wrong, the value found. */
export interface GuardianSetsIssue {
  path: string;
  message: string;
  got: string;
}

/** A guardian-sets file is missing, unreadable or invalid. `message` has one line per issue: `<file>: <path>: <message> (got <value>)`. */
export class GuardianSetsFileError extends Error {
  override readonly name = 'GuardianSetsFileError';
  constructor(
    readonly source: string,
    readonly issues: GuardianSetsIssue[],
  ) {
    super(issues.map((i) => `${source}: ${i.path}: ${i.message} (got ${i.got})`).join('\n'));
  }
}

const guardianKey = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a guardian address: 0x + 40 hex digits');
const keyList = z.array(guardianKey).min(1, 'a guardian set needs at least one key').max(255, 'a guardian set has at most 255 keys (guardian index is a uint8)');
const setIndex = z.number().int().min(0).max(0xffff_ffff);

const fileSchema = z.looseObject({
  guardianSets: z.record(z.string().regex(/^(0|[1-9]\d{0,9})$/, 'guardian set index must be a non-negative integer (as a JSON key)'), keyList),
  upgradeVaas: z
    .array(
      z.looseObject({
        signedByGuardianSet: setIndex,
        newGuardianSetIndex: setIndex,
        timestamp: z.number().int().min(0).max(0xffff_ffff),
        vaaHex: z.string().regex(/^(0x)?([0-9a-fA-F]{2})+$/, 'must be the VAA as hex'),
      }),
    )
    .optional(),
  testnetGuardianSet0: keyList.optional(),
});
type GuardianSetsFile = z.infer<typeof fileSchema>;

/**
 * Reads and validates a guardian-sets file (see the module doc for the format), derives expirations,
 * and verifies the upgrade VAAs it carries.
 * @param file path of the JSON file.
 * @throws {GuardianSetsFileError} naming the file and each bad field: unreadable, not JSON, schema,
 *   duplicate or zero key, an upgrade VAA that does not verify under the previous set, is not a
 *   GuardianSetUpgrade from the governance emitter, or carries other keys than the file lists.
 */
export async function loadGuardianSets(file: string, opts: GuardianSetsOptions = {}): Promise<LoadedGuardianSets> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new GuardianSetsFileError(file, [{ path: '(file)', message: `cannot read the guardian-sets file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, got: formatGot(file) }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GuardianSetsFileError(file, [{ path: '(root)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}`, got: `${text.length} characters` }]);
  }
  return parseGuardianSets(raw, file, opts);
}

/**
 * {@link loadGuardianSets} on an already-parsed object.
 * @param raw the parsed JSON.
 * @param source name used in errors and in the result (a file path, or e.g. `<inline>`).
 * @throws {GuardianSetsFileError} as {@link loadGuardianSets}.
 */
export async function parseGuardianSets(raw: unknown, source: string, opts: GuardianSetsOptions = {}): Promise<LoadedGuardianSets> {
  const r = fileSchema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    throw new GuardianSetsFileError(
      source,
      r.error.issues.map((iss) => ({ path: formatPath(iss.path), message: iss.message, got: formatGot(iss.input) })),
    );
  }
  const f: GuardianSetsFile = r.data;
  const issues: GuardianSetsIssue[] = [];
  const expirySec = opts.guardianSetExpirySec ?? GUARDIAN_SET_EXPIRY_SEC;

  const toSet = (index: number, keys: string[], path: string): GuardianSet => {
    const seen = new Map<string, number>();
    keys.forEach((k, i) => {
      const lower = k.toLowerCase();
      if (/^0x0{40}$/.test(lower)) issues.push({ path: `${path}[${i}]`, message: 'the zero address cannot be a guardian', got: formatGot(k) });
      const j = seen.get(lower);
      if (j !== undefined) issues.push({ path: `${path}[${i}]`, message: `duplicate of ${path}[${j}]: one guardian would count twice toward quorum`, got: formatGot(k) });
      seen.set(lower, i);
    });
    return { index, keys: keys.map((k) => getAddress(k.toLowerCase())) };
  };

  const sets = Object.entries(f.guardianSets)
    .map(([k, keys]) => toSet(Number(k), keys, `guardianSets.${k}`))
    .sort((a, b) => a.index - b.index);
  const byIndex = new Map(sets.map((s) => [s.index, s]));
  const currentIndex = sets.length ? sets[sets.length - 1]!.index : -1;
  if (sets.length === 0) issues.push({ path: 'guardianSets', message: 'no guardian set in the file', got: '{}' });
  const testnet = f.testnetGuardianSet0 ? [toSet(0, f.testnetGuardianSet0, 'testnetGuardianSet0')] : [];

  const provenByUpgrade: number[] = [];
  const installedAt = new Map<number, bigint>();
  for (const [i, u] of (f.upgradeVaas ?? []).entries()) {
    const path = `upgradeVaas[${i}]`;
    const before = issues.length;
    const prev = byIndex.get(u.signedByGuardianSet);
    const next = byIndex.get(u.newGuardianSetIndex);
    if (u.newGuardianSetIndex !== u.signedByGuardianSet + 1) {
      issues.push({ path: `${path}.newGuardianSetIndex`, message: `an upgrade installs the set after its signer (${u.signedByGuardianSet} + 1)`, got: String(u.newGuardianSetIndex) });
    }
    if (!prev) issues.push({ path: `${path}.signedByGuardianSet`, message: 'no such set under guardianSets', got: String(u.signedByGuardianSet) });
    if (!next) issues.push({ path: `${path}.newGuardianSetIndex`, message: 'no such set under guardianSets', got: String(u.newGuardianSetIndex) });
    if (issues.length > before || !prev || !next) continue;
    if (installedAt.has(next.index)) {
      issues.push({ path: `${path}.newGuardianSetIndex`, message: 'a second upgrade VAA for this set', got: String(next.index) });
      continue;
    }
    installedAt.set(next.index, BigInt(u.timestamp));
    if (opts.verifyUpgrades === false) continue;

    const bytes = hexToBytes(`0x${u.vaaHex.replace(/^0x/, '')}`);
    // The signer set verified as current (no expiry) at the VAA's own time, from the governance emitter only.
    const v = await verifyVaa(bytes, { guardianSets: [{ index: prev.index, keys: prev.keys }], nowSec: BigInt(u.timestamp), allowedEmitters: [WORMHOLE_GOVERNANCE_EMITTER] });
    if (!v.ok || !v.decoded) {
      issues.push({ path: `${path}.vaaHex`, message: `does not verify under guardian set ${prev.index}: ${v.reasons.map((x) => x.message).join('; ')}`, got: `${bytes.length} bytes` });
      continue;
    }
    if (v.decoded.timestamp !== u.timestamp) {
      issues.push({ path: `${path}.timestamp`, message: `differs from the VAA's own timestamp ${v.decoded.timestamp}`, got: String(u.timestamp) });
    }
    let args: { guardianSet: number; guardians: string[] };
    try {
      args = deserializePayload('WormholeCore:GuardianSetUpgrade', hexToBytes(v.decoded.payload)).actionArgs as { guardianSet: number; guardians: string[] };
    } catch (err) {
      issues.push({ path: `${path}.vaaHex`, message: `payload is not a WormholeCore GuardianSetUpgrade: ${err instanceof Error ? err.message : String(err)}`, got: `${v.decoded.payload.slice(0, 20)}…` });
      continue;
    }
    if (args.guardianSet !== next.index) {
      issues.push({ path: `${path}.vaaHex`, message: `the VAA installs guardian set ${args.guardianSet}, not ${next.index}`, got: String(args.guardianSet) });
      continue;
    }
    const carried = args.guardians.map((k) => k.toLowerCase());
    const listed = next.keys.map((k) => k.toLowerCase());
    const firstDiff = carried.findIndex((k, j) => k !== listed[j]);
    if (carried.length !== listed.length || firstDiff >= 0) {
      const j = firstDiff >= 0 ? firstDiff : Math.min(carried.length, listed.length);
      issues.push({
        path: `guardianSets.${next.index}[${j}]`,
        message: `differs from the keys carried by its upgrade VAA ${path} (${carried.length} keys; key ${j} is ${carried[j] ?? 'absent'})`,
        got: formatGot(next.keys[j]),
      });
      continue;
    }
    provenByUpgrade.push(next.index);
  }
  if (issues.length) throw new GuardianSetsFileError(source, issues);

  for (const s of sets) {
    s.installedAtSec = installedAt.get(s.index);
    if (s.index === currentIndex) continue;
    const successorInstalled = installedAt.get(s.index + 1);
    s.expirationTimeSec = successorInstalled !== undefined ? successorInstalled + expirySec : 0n;
  }
  return { source, sets, currentIndex, provenByUpgrade, testnet };
}
