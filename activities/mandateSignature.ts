/**
 * Signed LP mandates: the EIP-712 typed data an LP signs (`ballast lp mandate|revoke`) and its verification
 * by the keeper (an activity, so the workflow only sees the verified result).
 *
 * Layout: EIP-712 (https://eips.ethereum.org/EIPS/eip-712), domain `{ name: "Ballast LP mandate", version: "1" }`
 * (no chainId: the mandate is off chain and names the deployment instead), primary types
 *   `Mandate(address lp,string deployment,string[] chains,string[] bridges,uint16 maxShareBps,uint16 maxFeeBps,uint64 expiresAtSec,uint64 nonce)`
 *   `RevokeMandate(address lp,string deployment,uint64 nonce)`
 * (`string[]` is encoded as keccak256 of the concatenated keccak256 of each element, per the spec). The
 * signer must be `lp` itself. A mandate's id is its EIP-712 digest (`hashTypedData`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { getAddress, hashTypedData, isAddress, recoverTypedDataAddress, type Address, type Hex, type TypedDataDomain } from 'viem';
import type { Mandate } from '../planner/mandates.js';

/** The EIP-712 domain of LP mandates and revocations. */
export const MANDATE_DOMAIN: TypedDataDomain = { name: 'Ballast LP mandate', version: '1' };

/** The EIP-712 types of LP mandates and revocations. */
export const MANDATE_TYPES = {
  Mandate: [
    { name: 'lp', type: 'address' },
    { name: 'deployment', type: 'string' },
    { name: 'chains', type: 'string[]' },
    { name: 'bridges', type: 'string[]' },
    { name: 'maxShareBps', type: 'uint16' },
    { name: 'maxFeeBps', type: 'uint16' },
    { name: 'expiresAtSec', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
  RevokeMandate: [
    { name: 'lp', type: 'address' },
    { name: 'deployment', type: 'string' },
    { name: 'nonce', type: 'uint64' },
  ],
} as const;

/** A signed revocation: every mandate of `lp` on `deployment` with a nonce ≤ `nonce` is void from now on. */
export interface MandateRevocation {
  lp: `0x${string}`;
  deployment: string;
  nonce: bigint;
}

/** The typed data of a mandate (what the LP's key signs), for `signTypedData` / `hashTypedData`. */
export function mandateTypedData(m: Mandate) {
  return {
    domain: MANDATE_DOMAIN,
    types: MANDATE_TYPES,
    primaryType: 'Mandate' as const,
    message: { lp: getAddress(m.lp), deployment: m.deployment, chains: m.chains, bridges: m.bridges, maxShareBps: m.maxShareBps, maxFeeBps: m.maxFeeBps, expiresAtSec: m.expiresAtSec, nonce: m.nonce },
  };
}

/** The typed data of a revocation. */
export function revocationTypedData(r: MandateRevocation) {
  return { domain: MANDATE_DOMAIN, types: MANDATE_TYPES, primaryType: 'RevokeMandate' as const, message: { lp: getAddress(r.lp), deployment: r.deployment, nonce: r.nonce } };
}

/** A mandate's id: its EIP-712 digest. @throws Error (viem) when `m.lp` is not an address. */
export function mandateId(m: Mandate): Hex {
  return hashTypedData(mandateTypedData(m));
}

const refuse = (why: string) => ApplicationFailure.nonRetryable(why, 'MandateRefused');

async function recover(what: string, lp: string, fn: () => Promise<Address>): Promise<Address> {
  if (!isAddress(lp, { strict: false })) throw refuse(`${what} refused: lp ${String(lp)} is not an address (0x + 40 hex)`);
  let signer: Address;
  try {
    signer = await fn();
  } catch (err) {
    throw refuse(`${what} refused: malformed signature: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (getAddress(signer) !== getAddress(lp)) throw refuse(`${what} refused: signed by ${signer}, not by the LP ${getAddress(lp)}; the LP's own key must sign`);
  return getAddress(signer);
}

/**
 * Checks a mandate for this keeper and recovers its signer, which must be `mandate.lp`.
 * @param known the deployment, its chain keys and the bridges this keeper can use.
 * @returns the LP's checksummed address and the mandate id.
 * @throws non-retryable `MandateRefused` (ApplicationFailure) when the mandate names another deployment, an
 *   unknown chain or bridge, the signature is malformed, or the signer is not the LP.
 */
export async function verifyMandateSignature(known: { deployment: string; chains: readonly string[]; bridges: readonly string[] }, input: { mandate: Mandate; signature: Hex }): Promise<{ lp: Address; mandateId: Hex }> {
  const m = input.mandate;
  if (m.deployment !== known.deployment) throw refuse(`mandate refused: it is for deployment "${m.deployment}", this keeper runs "${known.deployment}"`);
  const badChain = m.chains.find((c) => !known.chains.includes(c));
  if (badChain !== undefined) throw refuse(`mandate refused: unknown chain "${badChain}" (this deployment has ${known.chains.join(', ')})`);
  const badBridge = m.bridges.find((b) => !known.bridges.includes(b));
  if (badBridge !== undefined) throw refuse(`mandate refused: unknown bridge "${badBridge}" (known: ${known.bridges.join(', ')})`);
  const lp = await recover('mandate', m.lp, () => recoverTypedDataAddress({ ...mandateTypedData(m), signature: input.signature }));
  return { lp, mandateId: mandateId(m) };
}

/**
 * Recovers a revocation's signer, which must be `revocation.lp`.
 * @returns the LP's checksummed address.
 * @throws non-retryable `MandateRefused` when it names another deployment, the signature is malformed or the
 *   signer is not the LP.
 */
export async function verifyRevocationSignature(deployment: string, input: { revocation: MandateRevocation; signature: Hex }): Promise<Address> {
  const r = input.revocation;
  if (r.deployment !== deployment) throw refuse(`revocation refused: it is for deployment "${r.deployment}", this keeper runs "${deployment}"`);
  return recover('revocation', r.lp, () => recoverTypedDataAddress({ ...revocationTypedData(r), signature: input.signature }));
}
