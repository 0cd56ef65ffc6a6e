/**
 * Client side of run-time caps: build and sign a cap change or an emergency request (EIP-712,
 * activities/capApproval.ts), send it to the monitor as a Temporal Update, approve a pending raise or
 * unfreeze, cancel one, freeze chains, and read the caps.
 */
import type { Client } from '@temporalio/client';
import { bytesToHex, type LocalAccount } from 'viem';
import { randomBytes } from 'node:crypto';
import { CAP_DOMAIN, CAP_TYPES, capChangeId, capChangeMessage, type CapRequestContent } from '../activities/capApproval.js';
import { approveCapChangeUpdate, capControlUpdate, capsQuery, proposeCapChangeUpdate, type CapChangeOutcome, type CapsView } from '../workflows/messages.js';
import { findPending, type CapCancelRequest, type CapChangeRequest, type CapControlRequest, type CapFreezeRequest, type CapScope, type CapValues } from '../workflows/caps.js';
import { monitorWorkflowId } from './client.js';

/** When a request expires: `nowSec` (default the wall clock, unix s) + `expiresInSec` (default 3600). */
function expiry(o: { expiresInSec?: number; nowSec?: bigint }): bigint {
  return (o.nowSec ?? BigInt(Math.floor(Date.now() / 1000))) + BigInt(o.expiresInSec ?? 3600);
}

/**
 * Signs and proposes a cap change. A cut applies at once (`applied`); a raise waits for a second approver or
 * the configured delay (`pending`; approve it with {@link approveCaps} using a different key).
 * @param account an approver's local account (from the environment or a keystore, never from a file in the repo).
 * @param change.expiresInSec the request is void this many seconds after `nowSec` (default 3600; at most 7 days).
 * @throws WorkflowUpdateFailedError (from @temporalio/client) with the reason when the monitor refuses it:
 *   unknown chain, negative value, maxTransfer above maxOutflowPerWindow, not an approver, expired.
 * @example
 *   await proposeCaps(client, 'devnet', approver, { scope: { chainKey: 'base' }, set: { maxTransfer: 50_000_000n }, reason: 'incident 42' });
 */
export async function proposeCaps(
  client: Client,
  deployment: string,
  account: LocalAccount,
  change: { scope: CapScope; set: CapValues; reason: string; expiresInSec?: number; nowSec?: bigint },
): Promise<{ request: CapChangeRequest; outcome: CapChangeOutcome; salt: `0x${string}`; signature: `0x${string}` }> {
  const salt = bytesToHex(randomBytes(32));
  const content = { scope: change.scope, set: change.set, reason: change.reason, expiresAtSec: expiry(change) };
  const request: CapChangeRequest = { ...content, changeId: capChangeId(deployment, content, salt) };
  const signature = await account.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage(deployment, 'propose', request) });
  const outcome = await client.workflow.getHandle(monitorWorkflowId(deployment)).executeUpdate(proposeCapChangeUpdate, { args: [{ request, salt, signature }] });
  return { request, outcome, salt, signature };
}

/**
 * A second approver approves the pending raise or unfreeze `changeId` (signs the same request with action
 * `approve`). A raise applies as judged against the caps in force now: fields cut since its proposal stay
 * (see the outcome's audit `note`).
 * @throws Error when nothing with that id is pending; WorkflowUpdateFailedError when the monitor refuses the
 *   approval (same approver as the proposer, window passed, not an approver, it would change nothing).
 */
export async function approveCaps(client: Client, deployment: string, account: LocalAccount, changeId: `0x${string}`): Promise<CapChangeOutcome> {
  const handle = client.workflow.getHandle(monitorWorkflowId(deployment));
  const view = await handle.query(capsQuery);
  const found = view ? findPending(view.state, changeId) : undefined;
  if (!found) throw new Error(`no pending cap raise or unfreeze ${changeId} on ${deployment} (see \`ballast caps show\`)`);
  const signature = await account.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage(deployment, 'approve', found.pending.request) });
  return handle.executeUpdate(approveCapChangeUpdate, { args: [{ changeId, signature }] });
}

/** What {@link controlCaps} sends, without id and expiry: a cancel (`target`) or a freeze/unfreeze (`chains`). */
export type CapControlInput = Omit<CapCancelRequest, 'changeId' | 'expiresAtSec'> | Omit<CapFreezeRequest, 'changeId' | 'expiresAtSec'>;

/**
 * Signs an emergency request (a fresh salt, so a fresh `changeId`) and sends it as the Update `capControl`:
 * `cancel` a pending raise or unfreeze (`cancelled`), `freeze` chains (`frozen`, at once), or propose an
 * `unfreeze` (`pending`: a second approver runs {@link approveCaps}). One approver's key is enough for each.
 * @param o.expiresInSec the request is void this many seconds after `nowSec` (default 3600; at most 7 days).
 * @returns the signed request (its id, e.g. to approve an unfreeze), salt and signature, and the outcome.
 * @throws WorkflowUpdateFailedError with the reason when the monitor refuses it (not an approver, reused or
 *   expired request, unknown chain, nothing pending to cancel, chains not frozen).
 * @example
 *   await controlCaps(client, 'devnet', approver, { action: 'freeze', chains: 'all', reason: 'bridge exploit' });
 */
export async function controlCaps(
  client: Client,
  deployment: string,
  account: LocalAccount,
  input: CapControlInput,
  o: { expiresInSec?: number; nowSec?: bigint } = {},
): Promise<{ request: CapControlRequest; outcome: CapChangeOutcome; salt: `0x${string}`; signature: `0x${string}` }> {
  const salt = bytesToHex(randomBytes(32));
  const content: CapRequestContent = { ...input, expiresAtSec: expiry(o) };
  const request = { ...content, changeId: capChangeId(deployment, content, salt) } as CapControlRequest;
  const signature = await account.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage(deployment, request.action, request) });
  const outcome = await client.workflow.getHandle(monitorWorkflowId(deployment)).executeUpdate(capControlUpdate, { args: [{ request, salt, signature }] });
  return { request, outcome, salt, signature };
}

/** The monitor's caps view (undefined before its first tick). */
export async function readCaps(client: Client, deployment: string): Promise<CapsView | undefined> {
  return client.workflow.getHandle(monitorWorkflowId(deployment)).query(capsQuery);
}
