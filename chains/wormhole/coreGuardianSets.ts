/**
 * Wormhole guardian sets read from a chain's Wormhole core contract (the `Wormhole` proxy, called with the
 * `Implementation` ABI of contracts/generated/abis.ts: Wormhole's `Getters.sol` `getCurrentGuardianSetIndex()`
 * and `getGuardianSet(uint32) returns (Structs.GuardianSet { address[] keys; uint32 expirationTime })`).
 *
 * Expiry as the core applies it (`Messages.sol` `verifyVMInternal`): a VAA signed by a set that is not the
 * current one is refused once `expirationTime < block.timestamp`; the current set never expires (its
 * `expirationTime` is 0 and ignored). When set i+1 is installed, set i gets `expirationTime = block.timestamp +
 * 86400` (`Setters.sol` `expireGuardianSet`). So the current set is returned without `expirationTimeSec`, and a
 * superseded one with its on-chain expiry (0 when the core has none: refused, as the core refuses it).
 */
import { getAddress, type Address, type Chain, type PublicClient, type Transport } from 'viem';
import { wormholeImplementationAbi } from '../../contracts/generated/abis.js';
import type { GuardianSet } from './guardianSets.js';

/** How many sets before the current one {@link readCoreGuardianSets} reads (superseded sets stay valid 24 h). */
export const PREVIOUS_SETS_READ = 1;

/** What {@link readCoreGuardianSets} read from one core. */
export interface CoreGuardianSets {
  /** The core contract (proxy) read. */
  core: Address;
  /** `getCurrentGuardianSetIndex()`. */
  currentIndex: number;
  /** The current set and the superseded ones read (keys non-empty), ascending by index. */
  sets: GuardianSet[];
}

/** A reader of a core's guardian sets: {@link readCoreGuardianSets}, or a stub in tests. */
export type CoreGuardianSetsReader = (opts: { extraIndices?: readonly number[] }) => Promise<CoreGuardianSets>;

/**
 * Reads one guardian set from a Wormhole core with `getGuardianSet(index)`.
 * @param client a viem public client of the core's chain.
 * @param core the Wormhole core contract (proxy).
 * @param index guardian set index (uint32).
 * @param currentIndex the core's current index: that set gets no expiry (the core ignores it).
 * @returns the set, or undefined when the core has no keys at that index (never installed).
 * @throws the viem error when the call fails (RPC down, not a Wormhole core).
 */
export async function readCoreGuardianSet(client: PublicClient<Transport, Chain | undefined>, core: Address, index: number, currentIndex: number): Promise<GuardianSet | undefined> {
  const s = await client.readContract({ address: core, abi: wormholeImplementationAbi, functionName: 'getGuardianSet', args: [index] });
  if (s.keys.length === 0) return undefined;
  const keys = s.keys.map((k) => getAddress(k));
  return index === currentIndex ? { index, keys } : { index, keys, expirationTimeSec: BigInt(s.expirationTime) };
}

/**
 * Reads the current guardian set index of a Wormhole core, the current set, the {@link PREVIOUS_SETS_READ}
 * sets before it and any `extraIndices` at or below the current index (e.g. the set a VAA names).
 * @param client a viem public client of the core's chain.
 * @param core the Wormhole core contract (proxy).
 * @returns the current index and the sets that have keys, ascending by index.
 * @throws the viem error when a call fails, or Error when the core has no keys for its own current index.
 * @example
 *   const { currentIndex, sets } = await readCoreGuardianSets(chain.clients.publicClient, chain.wormhole.core);
 */
export async function readCoreGuardianSets(
  client: PublicClient<Transport, Chain | undefined>,
  core: Address,
  opts: { extraIndices?: readonly number[] } = {},
): Promise<CoreGuardianSets> {
  const currentIndex = await client.readContract({ address: core, abi: wormholeImplementationAbi, functionName: 'getCurrentGuardianSetIndex' });
  const indices = new Set<number>();
  for (let i = Math.max(0, currentIndex - PREVIOUS_SETS_READ); i <= currentIndex; i++) indices.add(i);
  for (const i of opts.extraIndices ?? []) if (Number.isInteger(i) && i >= 0 && i <= currentIndex) indices.add(i);
  const read = await Promise.all([...indices].sort((a, b) => a - b).map((i) => readCoreGuardianSet(client, core, i, currentIndex)));
  const sets = read.filter((s): s is GuardianSet => s !== undefined);
  if (!sets.some((s) => s.index === currentIndex)) throw new Error(`Wormhole core ${core}: getGuardianSet(${currentIndex}) (the current index) has no keys`);
  return { core, currentIndex, sets };
}

/**
 * The guardian set index a serialized VAA names (header: version uint8, guardian set index uint32 big-endian),
 * without parsing the rest.
 * @returns the index, or undefined when the bytes are too short or not version 1.
 */
export function vaaGuardianSetIndex(bytes: Uint8Array): number | undefined {
  if (bytes.length < 5 || bytes[0] !== 1) return undefined;
  return ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
}

/** Options of {@link CoreGuardianSetsCache}. */
export interface CoreGuardianSetsCacheOptions {
  /** How long a read stays fresh, ms. */
  ttlMs: number;
  /** Called after each read with the previous current index (undefined on the first read). */
  onRead?: (read: CoreGuardianSets, previousIndex: number | undefined) => void;
  /** Clock, ms; default `Date.now`. */
  now?: () => number;
}

/**
 * One core's guardian sets, cached for `ttlMs` and re-read at once when asked for a set index it does not hold
 * (a rotation: the new set is on the chain, not yet in the cache). Concurrent callers share one read; a failed
 * read is not cached.
 */
export class CoreGuardianSetsCache {
  private value?: { read: CoreGuardianSets; atMs: number };
  private inflight?: Promise<CoreGuardianSets>;
  private readonly now: () => number;

  constructor(
    private readonly reader: CoreGuardianSetsReader,
    private readonly opts: CoreGuardianSetsCacheOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The last successful read, if any (fresh or not). */
  get cached(): CoreGuardianSets | undefined {
    return this.value?.read;
  }

  /** Forgets the cached read: the next {@link get} reads the core. */
  invalidate(): void {
    this.value = undefined;
  }

  /**
   * The core's sets: the cached read while fresh and holding `needIndex` (when given), else a new read.
   * @param needIndex a guardian set index the caller needs (the VAA's); missing from the cache = re-read now.
   * @throws whatever the reader throws.
   */
  async get(needIndex?: number): Promise<CoreGuardianSets> {
    const v = this.value;
    const fresh = v !== undefined && this.now() - v.atMs < this.opts.ttlMs;
    const holds = needIndex === undefined || (v?.read.sets.some((s) => s.index === needIndex) ?? false);
    if (v && fresh && holds) return v.read;
    // A VAA naming a set older than the cached current one that the last read did not include: read it too.
    const extra = needIndex !== undefined && v !== undefined && needIndex <= v.read.currentIndex && !holds ? [needIndex] : [];
    this.inflight ??= this.reader({ extraIndices: extra })
      .then((read) => {
        const previousIndex = this.value?.read.currentIndex;
        this.value = { read, atMs: this.now() };
        this.opts.onRead?.(read, previousIndex);
        return read;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
