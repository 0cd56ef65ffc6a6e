/**
 * Client side of run-time caps: build and sign a cap change (EIP-712, activities/capApproval.ts), send it to
 * the monitor as a Temporal Update, approve a pending raise, and read the caps.
 */
import type { Client } from '@temporalio/client';
import { bytesToHex, type LocalAccount } from 'viem';
import { randomBytes } from 'node:crypto';
import { CAP_DOMAIN, CAP_TYPES, capChangeId, capChangeMessage } from '../activities/capApproval.js';
import { approveCapChangeUpdate, capsQuery, proposeCapChangeUpdate, type CapChangeOutcome, type CapsView } from '../workflows/messages.js';
import type { CapChangeRequest, CapScope, CapValues } from '../workflows/caps.js';
import { monitorWorkflowId } from './client.js';

/**
 * Signs and proposes a cap change. A cut applies at once (`applied`); a raise waits for a second approver or
 * the configured delay (`pending`; approve it with {@link approveCaps} using a different key).
 * @param account an approver's local account (from the environment or a keystore, never from a file in the repo).
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
): Promise<{ request: CapChangeRequest; outcome: CapChangeOutcome }> {
  const nowSec = change.nowSec ?? BigInt(Math.floor(Date.now() / 1000));
  const salt = bytesToHex(randomBytes(32));
  const content = { scope: change.scope, set: change.set, reason: change.reason, expiresAtSec: nowSec + BigInt(change.expiresInSec ?? 3600) };
  const request: CapChangeRequest = { ...content, changeId: capChangeId(deployment, content, salt) };
  const signature = await account.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage(deployment, 'propose', request) });
  const outcome = await client.workflow.getHandle(monitorWorkflowId(deployment)).executeUpdate(proposeCapChangeUpdate, { args: [{ request, salt, signature }] });
  return { request, outcome };
}

/**
 * A second approver approves the pending raise `changeId` (signs the same request with action `approve`).
 * @throws Error when no such raise is pending; WorkflowUpdateFailedError when the monitor refuses the approval
 *   (same approver as the proposer, window passed, not an approver).
 */
export async function approveCaps(client: Client, deployment: string, account: LocalAccount, changeId: `0x${string}`): Promise<CapChangeOutcome> {
  const handle = client.workflow.getHandle(monitorWorkflowId(deployment));
  const view = await handle.query(capsQuery);
  const pending = view?.state.pending.find((p) => p.request.changeId === changeId);
  if (!pending) throw new Error(`no pending cap raise ${changeId} on ${deployment} (see \`ballast caps show\`)`);
  const signature = await account.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage(deployment, 'approve', pending.request) });
  return handle.executeUpdate(approveCapChangeUpdate, { args: [{ changeId, signature }] });
}

/** The monitor's caps view (undefined before its first tick). */
export async function readCaps(client: Client, deployment: string): Promise<CapsView | undefined> {
  return client.workflow.getHandle(monitorWorkflowId(deployment)).query(capsQuery);
}
