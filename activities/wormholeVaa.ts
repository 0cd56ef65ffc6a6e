/**
 * The keeper's side of a Wormhole delivery, common to every message it redeems (collateral and capacity):
 * fetch the signed VAA from the guardian API and verify it keeper-side, against the guardian sets of a Wormhole
 * core on chain (config `wormhole.guardianSets` / `guardianSetsFile` only as the fallback), before anything is
 * submitted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DELIVERY_POLL, waitFor } from './waitFor.js';
import { bytesToHex, type Hex } from 'viem';
import { fetchSignedVaa, type SignedVaaRef } from '../chains/wormhole/fetchVaa.js';
import { assertVaaVerified, VaaVerificationError } from '../chains/wormhole/verifyVaa.js';
import { loadGuardianSets, type GuardianSet } from '../chains/wormhole/guardianSets.js';
import { CoreGuardianSetsCache, readCoreGuardianSets, vaaGuardianSetIndex } from '../chains/wormhole/coreGuardianSets.js';
import type { ChainRuntime, KeeperContext } from './context.js';
import { FailureType } from './failures.js';

/** `wormhole/<chain>/<emitter, 64 hex>/<sequence>`: a message's id as the guardian API addresses it. */
export function wormholeMessageLabel(ref: SignedVaaRef): string {
  return `wormhole/${ref.emitterChain}/${ref.emitter.slice(2).toLowerCase().padStart(64, '0')}/${ref.sequence}`;
}

const fileSetsCache = new WeakMap<KeeperContext, Promise<GuardianSet[]>>();

/** How long guardian sets read from a Wormhole core stay cached, ms (a VAA naming a set not cached re-reads at once). */
export const GUARDIAN_SETS_TTL_MS = 5 * 60_000;

/** Per chain runtime (so per process: a worker builds its context once): the core's guardian sets, cached. */
const coreSetsCache = new WeakMap<ChainRuntime, CoreGuardianSetsCache>();

/** Options of {@link keeperGuardianSets}. */
export interface KeeperGuardianSetsOptions {
  /** The chain the VAA is for (its core will verify it): read first when it is an EVM chain with `wormhole.core`. */
  dstChainKey?: string;
  /** The guardian set index the VAA names: when the cache lacks it (a rotation), the core is re-read at once. */
  guardianSetIndex?: number;
}

/** The cache of `chain`'s core, created on first use; logs (info) the first read and every change of the current index. */
function coreCache(ctx: KeeperContext, chain: ChainRuntime & { wormhole: NonNullable<ChainRuntime['wormhole']> }): CoreGuardianSetsCache {
  let c = coreSetsCache.get(chain);
  if (!c) {
    const { core } = chain.wormhole;
    c = new CoreGuardianSetsCache((o) => readCoreGuardianSets(chain.clients.publicClient, core, o), {
      ttlMs: GUARDIAN_SETS_TTL_MS,
      onRead: (read, previousIndex) => {
        if (read.currentIndex === previousIndex) return;
        const fields = { chain: chain.chainKey, core, guardianSetIndex: read.currentIndex, previousIndex, sets: read.sets.map((s) => s.index) };
        ctx.log.info(fields, previousIndex === undefined ? 'Wormhole guardian set read from the core' : 'Wormhole guardian set index changed on the core');
      },
    });
    coreSetsCache.set(chain, c);
  }
  return c;
}

/** The EVM chains with a Wormhole core, the destination (when it is one) first, then in config order. */
function coreChains(ctx: KeeperContext, dstChainKey: string | undefined): (ChainRuntime & { wormhole: NonNullable<ChainRuntime['wormhole']> })[] {
  const all = [...ctx.chains.values()].filter((c): c is ChainRuntime & { wormhole: NonNullable<ChainRuntime['wormhole']> } => c.wormhole !== undefined);
  const dst = all.find((c) => c.chainKey === dstChainKey);
  return dst ? [dst, ...all.filter((c) => c !== dst)] : all;
}

/** The config's guardian sets (`wormhole.guardianSets`, or `guardianSetsFile` read once per context), or undefined when it has none. */
async function configGuardianSets(ctx: KeeperContext): Promise<GuardianSet[] | undefined> {
  const w = ctx.wormhole!;
  if (w.guardianSets) return w.guardianSets;
  if (!w.guardianSetsFile) return undefined;
  let p = fileSetsCache.get(ctx);
  if (!p) {
    p = loadGuardianSets(w.guardianSetsFile).then((l) => l.sets);
    fileSetsCache.set(ctx, p);
    p.catch(() => fileSetsCache.delete(ctx));
  }
  try {
    return await p;
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`wormhole.guardianSetsFile: ${err instanceof Error ? err.message : String(err)}`, FailureType.Config);
  }
}

/**
 * The guardian sets VAAs are verified against, read from a Wormhole core on chain (`getCurrentGuardianSetIndex`,
 * `getGuardianSet`: chains/wormhole/coreGuardianSets.ts), so a guardian-set rotation needs no config edit. The
 * core read is that of `opts.dstChainKey` when it is an EVM chain with `wormhole.core`, else the first such chain
 * that answers; reads are cached per chain for {@link GUARDIAN_SETS_TTL_MS} and redone at once when
 * `opts.guardianSetIndex` is not among the cached sets. A superseded set carries the core's expiry (refused once
 * past, as the core refuses it). When no core can be read (no chain with `wormhole.core`, every read failed), the
 * config's `wormhole.guardianSets` / `guardianSetsFile` is the fallback (a warning is logged when a read failed).
 * @throws non-retryable `ConfigError` without a `wormhole` section, or when no chain has a Wormhole core and the
 *   config has no guardian sets, or the guardian-sets file cannot be loaded; retryable `GuardianSetsUnavailable`
 *   when every core read failed and the config has no guardian sets.
 */
export async function keeperGuardianSets(ctx: KeeperContext, opts: KeeperGuardianSetsOptions = {}): Promise<GuardianSet[]> {
  const w = ctx.wormhole;
  if (!w) throw ApplicationFailure.nonRetryable('a Wormhole message needs the config\'s wormhole section (guardianUrl, guardian sets)', FailureType.Config);
  const chains = coreChains(ctx, opts.dstChainKey);
  const failures: string[] = [];
  let best: GuardianSet[] | undefined;
  for (const chain of chains) {
    try {
      const read = await coreCache(ctx, chain).get(opts.guardianSetIndex);
      // Without a known destination, a core that lags a rotation gives way to one that holds the VAA's set.
      if (opts.guardianSetIndex === undefined || read.sets.some((s) => s.index === opts.guardianSetIndex) || opts.dstChainKey === chain.chainKey) return read.sets;
      best ??= read.sets;
    } catch (err) {
      failures.push(`${chain.chainKey}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  if (best) return best;
  const fromConfig = await configGuardianSets(ctx);
  if (failures.length) {
    ctx.log.warn({ failures, fallback: fromConfig ? 'config' : 'none' }, 'cannot read the Wormhole guardian sets from any core');
    if (!fromConfig) throw ApplicationFailure.retryable(`cannot read the Wormhole guardian sets from any core (${failures.join('; ')}) and the config has none`, 'GuardianSetsUnavailable');
  }
  if (!fromConfig) throw ApplicationFailure.nonRetryable('no chain has wormhole.core to read the guardian sets from, and the config has no wormhole.guardianSets / guardianSetsFile', FailureType.Config);
  return fromConfig;
}

/** A fetched VAA that verified under the keeper's guardian sets. */
export interface FetchedVaa {
  /** The VAA bytes as served (header | signatures | body). */
  vaa: Hex;
  /** keccak256(keccak256(body)): the core's `vm.hash`, what a redeemer consumes. */
  digest: Hex;
  guardianSetIndex: number;
  quorum: { held: number; needed: number };
}

/**
 * Asks the guardian API (config `wormhole.guardianUrl`) for the VAA of `ref` and verifies it: the guardian sets
 * of {@link keeperGuardianSets} (read from a Wormhole core, `opts.dstChainKey`'s first; re-read at once when the
 * VAA names a set index not cached), expiry, every signature, quorum, the emitter = `ref`'s (the only allowed
 * one), and that the served VAA is the asked-for message (chain, sequence). `what` names the message in errors.
 * @throws retryable `VaaPending` while the API answers 404 (the workflow's retry policy is the wait loop,
 *   bounded by the delivery deadline); retryable `VaaRejected` when the served VAA does not verify (a guardian
 *   may serve a well-signed one later; past the deadline the saga ends `stranded` with the reason);
 *   non-retryable `ConfigError` without a `wormhole` section; the errors of {@link keeperGuardianSets}.
 */
export async function fetchVerifiedVaa(ctx: KeeperContext, ref: SignedVaaRef, what: string, opts: { dstChainKey?: string } = {}): Promise<FetchedVaa> {
  const w = ctx.wormhole;
  if (!w) throw ApplicationFailure.nonRetryable('a Wormhole message needs the config\'s wormhole section (guardianUrl, guardian sets)', FailureType.Config);
  const label = wormholeMessageLabel(ref);
  const bytes = await fetchSignedVaa(w.guardianUrl, ref);
  if (!bytes) throw ApplicationFailure.retryable(`${what}: message ${label} not signed by the guardians yet (${w.guardianUrl} answered 404)`, 'VaaPending');
  const guardianSetIndex = vaaGuardianSetIndex(bytes);
  const guardianSets = await keeperGuardianSets(ctx, { ...opts, ...(guardianSetIndex !== undefined ? { guardianSetIndex } : {}) });
  let v: Awaited<ReturnType<typeof assertVaaVerified>>;
  try {
    v = await assertVaaVerified(bytes, { guardianSets, allowedEmitters: [{ chain: ref.emitterChain, emitter: ref.emitter }] });
  } catch (err) {
    if (err instanceof VaaVerificationError) {
      ctx.log.warn({ message: label, what, reasons: err.reasons.map((r) => r.code) }, 'guardian API served a VAA that does not verify; not submitted');
      throw ApplicationFailure.retryable(`${what}: message ${label}: ${err.message}`, 'VaaRejected');
    }
    throw err;
  }
  if (v.decoded.sequence !== ref.sequence || v.decoded.emitterChain !== ref.emitterChain) {
    throw ApplicationFailure.retryable(`${what}: message ${label}: the guardian API served chain ${v.decoded.emitterChain} sequence ${v.decoded.sequence} instead`, 'VaaRejected');
  }
  return { vaa: bytesToHex(bytes), digest: v.decoded.digest, guardianSetIndex: v.decoded.guardianSetIndex, quorum: { held: v.quorum!.held, needed: v.quorum!.needed } };
}

/**
 * {@link fetchVerifiedVaa}, waiting (bounded: `DELIVERY_POLL`, activities/waitFor.ts) while the guardians have not
 * signed the message yet, so a delivery does not use a failure as its wait; a VAA that does not verify, or any
 * other error, is thrown at once. `opts.dstChainKey`: as for {@link fetchVerifiedVaa}.
 * @throws retryable `VaaPending` (the last answer) when the wait ended without a signed VAA.
 */
export async function awaitVerifiedVaa(ctx: KeeperContext, ref: SignedVaaRef, what: string, opts: { dstChainKey?: string } = {}): Promise<FetchedVaa> {
  let pending: Error | undefined;
  return waitFor(
    async () => {
      try {
        return await fetchVerifiedVaa(ctx, ref, what, opts);
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === 'VaaPending') {
          pending = err;
          return undefined;
        }
        throw err;
      }
    },
    { ...DELIVERY_POLL, what: `VAA ${wormholeMessageLabel(ref)} signed`, onTimeout: () => pending ?? ApplicationFailure.retryable(`${what}: message ${wormholeMessageLabel(ref)} not signed yet`, 'VaaPending') },
  );
}
