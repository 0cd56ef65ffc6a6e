/**
 * The keeper's side of a Wormhole delivery, common to every message it redeems (collateral and capacity):
 * fetch the signed VAA from the guardian API and verify it keeper-side before anything is submitted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DELIVERY_POLL, waitFor } from './waitFor.js';
import { bytesToHex, type Hex } from 'viem';
import { fetchSignedVaa, type SignedVaaRef } from '../chains/wormhole/fetchVaa.js';
import { assertVaaVerified, VaaVerificationError } from '../chains/wormhole/verifyVaa.js';
import { loadGuardianSets, type GuardianSet } from '../chains/wormhole/guardianSets.js';
import type { KeeperContext } from './context.js';
import { FailureType } from './failures.js';

/** `wormhole/<chain>/<emitter, 64 hex>/<sequence>`: a message's id as the guardian API addresses it. */
export function wormholeMessageLabel(ref: SignedVaaRef): string {
  return `wormhole/${ref.emitterChain}/${ref.emitter.slice(2).toLowerCase().padStart(64, '0')}/${ref.sequence}`;
}

const guardianSetsCache = new WeakMap<KeeperContext, Promise<GuardianSet[]>>();

/**
 * The guardian sets VAAs are verified against: config `wormhole.guardianSets`, or `guardianSetsFile` read
 * once per worker (a failed read is retried on the next call).
 * @throws non-retryable `ConfigError` without a `wormhole` section or when the file cannot be loaded.
 */
export async function keeperGuardianSets(ctx: KeeperContext): Promise<GuardianSet[]> {
  const w = ctx.wormhole;
  if (!w) throw ApplicationFailure.nonRetryable('a Wormhole message needs the config\'s wormhole section (guardianUrl, guardian sets)', FailureType.Config);
  if (w.guardianSets) return w.guardianSets;
  let p = guardianSetsCache.get(ctx);
  if (!p) {
    const file = w.guardianSetsFile!;
    p = loadGuardianSets(file).then((l) => l.sets);
    guardianSetsCache.set(ctx, p);
    p.catch(() => guardianSetsCache.delete(ctx));
  }
  try {
    return await p;
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`wormhole.guardianSetsFile: ${err instanceof Error ? err.message : String(err)}`, FailureType.Config);
  }
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
 * Asks the guardian API (config `wormhole.guardianUrl`) for the VAA of `ref` and verifies it: the config's
 * guardian sets, every signature, quorum, the emitter = `ref`'s (the only allowed one), and that the served VAA
 * is the asked-for message (chain, sequence). `what` names the message in errors.
 * @throws retryable `VaaPending` while the API answers 404 (the workflow's retry policy is the wait loop,
 *   bounded by the delivery deadline); retryable `VaaRejected` when the served VAA does not verify (a guardian
 *   may serve a well-signed one later; past the deadline the saga ends `stranded` with the reason);
 *   non-retryable `ConfigError` without a `wormhole` section.
 */
export async function fetchVerifiedVaa(ctx: KeeperContext, ref: SignedVaaRef, what: string): Promise<FetchedVaa> {
  const guardianSets = await keeperGuardianSets(ctx);
  const w = ctx.wormhole!;
  const label = wormholeMessageLabel(ref);
  const bytes = await fetchSignedVaa(w.guardianUrl, ref);
  if (!bytes) throw ApplicationFailure.retryable(`${what}: message ${label} not signed by the guardians yet (${w.guardianUrl} answered 404)`, 'VaaPending');
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
 * other error, is thrown at once.
 * @throws retryable `VaaPending` (the last answer) when the wait ended without a signed VAA.
 */
export async function awaitVerifiedVaa(ctx: KeeperContext, ref: SignedVaaRef, what: string): Promise<FetchedVaa> {
  let pending: Error | undefined;
  return waitFor(
    async () => {
      try {
        return await fetchVerifiedVaa(ctx, ref, what);
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
