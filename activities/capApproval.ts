/**
 * Signed cap changes: the EIP-712 typed data a risk approver signs (`ballast caps set|approve`) and its
 * verification by the keeper (an activity, so the workflow only sees the recovered signer).
 *
 * Layout: EIP-712 (https://eips.ethereum.org/EIPS/eip-712), domain `{ name: "Ballast caps", version: "1" }`
 * (no chainId: the approval is off chain and names the deployment instead), primary type
 * `CapChange(string deployment,string action,bytes32 changeId,string scope,string changes,string reason,uint64 expiresAtSec)`.
 * `changes` is `field=value` pairs joined by `;` in {@link CAP_FIELDS} order, e.g. `maxTransfer=100000000`;
 * `changeId = keccak256(abi.encode(deployment, scope, changes, reason, expiresAtSec, salt))`, so an id names
 * exactly one request and a signature cannot be moved to another.
 *
 * The emergency requests (workflows/caps.ts `CapControlRequest`) use the same type and id: `action` is
 * `cancel`, `freeze` or `unfreeze`; `scope` is `change:<the pending change's id>` (cancel) or
 * `chains:alpha,beta` / `chains:all`; `changes` is the action's name. A second approver of an unfreeze signs the
 * same fields with action `approve`.
 */
import { ApplicationFailure } from '@temporalio/common';
import { encodeAbiParameters, getAddress, keccak256, recoverTypedDataAddress, type Address, type Hex, type TypedDataDomain } from 'viem';
import { CAP_FIELDS, isControlRequest, routeKey, type CapScope, type CapValues, type SignedCapRequest } from '../workflows/caps.js';

/** The EIP-712 domain of cap approvals. */
export const CAP_DOMAIN: TypedDataDomain = { name: 'Ballast caps', version: '1' };

/** The EIP-712 types of cap approvals. */
export const CAP_TYPES = {
  CapChange: [
    { name: 'deployment', type: 'string' },
    { name: 'action', type: 'string' },
    { name: 'changeId', type: 'bytes32' },
    { name: 'scope', type: 'string' },
    { name: 'changes', type: 'string' },
    { name: 'reason', type: 'string' },
    { name: 'expiresAtSec', type: 'uint64' },
  ],
} as const;

/**
 * `propose` for the first signature of a cap change, `approve` for the second approver's (of a raise or an
 * unfreeze); `cancel`, `freeze`, `unfreeze` for the emergency requests (the request's own `action`).
 */
export type CapAction = 'propose' | 'approve' | 'cancel' | 'freeze' | 'unfreeze';

/** A request without its id (what the id is computed from). */
export type CapRequestContent = WithoutId<SignedCapRequest>;
type WithoutId<T> = T extends unknown ? Omit<T, 'changeId'> : never;

/** `chain:arbitrum` or `route:arbitrum->base`: the scope as signed. */
export function scopeString(scope: CapScope): string {
  return 'chainKey' in scope ? `chain:${scope.chainKey}` : `route:${routeKey(scope.route.from, scope.route.to)}`;
}

/** The changes as signed: `field=value` pairs in {@link CAP_FIELDS} order, joined by `;`. */
export function changesString(set: CapValues): string {
  return CAP_FIELDS.filter((f) => set[f] !== undefined)
    .map((f) => `${f}=${set[f]!.toString()}`)
    .join(';');
}

/** The `scope` and `changes` strings a request is signed with (cap change or emergency request; see the module doc). */
export function signedParts(req: CapRequestContent): { scope: string; changes: string } {
  if (!('action' in req)) return { scope: scopeString(req.scope), changes: changesString(req.set) };
  if (req.action === 'cancel') return { scope: `change:${req.target}`, changes: 'cancel' };
  return { scope: `chains:${req.chains === 'all' ? 'all' : req.chains.join(',')}`, changes: req.action };
}

/** The id of a request: keccak256 of its content and a random 32-byte `salt` (see the module doc). */
export function capChangeId(deployment: string, req: CapRequestContent, salt: Hex): Hex {
  const { scope, changes } = signedParts(req);
  return keccak256(
    encodeAbiParameters(
      [{ type: 'string' }, { type: 'string' }, { type: 'string' }, { type: 'string' }, { type: 'uint64' }, { type: 'bytes32' }],
      [deployment, scope, changes, req.reason, req.expiresAtSec, salt],
    ),
  );
}

/** The typed data message of `req` for `action` (what the approver's key signs). */
export function capChangeMessage(deployment: string, action: CapAction, req: SignedCapRequest) {
  const { scope, changes } = signedParts(req);
  return {
    deployment,
    action,
    changeId: req.changeId,
    scope,
    changes,
    reason: req.reason,
    expiresAtSec: req.expiresAtSec,
  };
}

/**
 * The typed data `req` is signed with for `action` (what the approver's key or wallet signs, and what
 * {@link verifyCapSignature} recovers from): `ballast caps … --export-typed-data` writes exactly this.
 */
export function capTypedData(deployment: string, action: CapAction, req: SignedCapRequest) {
  return { domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange' as const, message: capChangeMessage(deployment, action, req) };
}

/** A configured approver: a name for the audit and the address its signatures must recover to. */
export interface CapApprover {
  name: string;
  address: Address;
}

/**
 * Recovers the signer of `signature` over `req` for `action`, checks the id matches the content (when `salt`
 * is given: proposals and emergency requests) and the signer is a configured approver. Returns
 * `{ address, name }` of the approver.
 * @throws non-retryable `CapApprovalRefused` (ApplicationFailure) when `action` does not fit the request (a cap
 *   change is proposed or approved; an emergency request carries its own action, an unfreeze is also
 *   approved), the id does not match the content (with `salt`), the signature is malformed, or the signer is
 *   not an approver.
 */
export async function verifyCapSignature(
  deployment: string,
  approvers: readonly CapApprover[],
  input: { action: CapAction; request: SignedCapRequest; salt?: Hex; signature: Hex },
): Promise<CapApprover> {
  const { request, salt, signature, action } = input;
  const refuse = (why: string) => ApplicationFailure.nonRetryable(`cap change ${request.changeId} refused: ${why}`, 'CapApprovalRefused');
  if (approvers.length === 0) throw refuse('no approvers are configured (config risk.capApprovers)');
  const fits = isControlRequest(request) ? action === request.action || (action === 'approve' && request.action === 'unfreeze') : action === 'propose' || action === 'approve';
  if (!fits) throw refuse(`action ${action} does not fit this request`);
  // A proposal proves its id; an approval signs a request already in the monitor's state (id checked then).
  if (salt !== undefined && capChangeId(deployment, request, salt) !== request.changeId) throw refuse('changeId does not match the request content and salt');
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({ ...capTypedData(deployment, action, request), signature });
  } catch (err) {
    throw refuse(`malformed signature: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const found = approvers.find((a) => getAddress(a.address) === getAddress(signer));
  if (!found) throw refuse(`signer ${signer} is not a configured approver (${approvers.map((a) => `${a.name} ${getAddress(a.address)}`).join(', ')})`);
  return { name: found.name, address: getAddress(found.address) };
}
