/**
 * Client side of LP mandates: build and sign a mandate or a revocation (EIP-712, activities/mandateSignature.ts),
 * send it to the monitor as a Temporal Update, and read one LP's mandates and attribution.
 */
import type { Client } from '@temporalio/client';
import type { LocalAccount } from 'viem';
import { mandateTypedData, revocationTypedData, type MandateRevocation } from '../activities/mandateSignature.js';
import type { Mandate } from '../planner/mandates.js';
import { currentRecord, lpMandatesQuery, registerMandateUpdate, revokeMandateUpdate, type LpAttribution, type LpMandatesView, type MandateOutcome, type PendingMove } from '../workflows/mandates.js';
import { monitorWorkflowId } from './client.js';

/** What an LP chooses when it signs a mandate. */
export interface MandateTerms {
  chains: string[];
  bridges: string[];
  /** bps of the LP's position on the source chain one move may take (1..10000). */
  maxShareBps: number;
  /** bps of the moved amount a move's fee may reach (0..10000). */
  maxFeeBps: number;
  expiresInSec: number;
  /** Default: one above the LP's last nonce on the monitor. */
  nonce?: bigint;
  /** Default: the wall clock. */
  nowSec?: bigint;
}

/**
 * Signs a mandate with the LP's key and registers it on the deployment's monitor (it replaces the LP's
 * current one).
 * @param account the LP's local account (from the environment or a keystore).
 * @throws WorkflowUpdateFailedError (from @temporalio/client) with the reason when the monitor refuses it: bps out
 *   of range, expired, nonce not above the last one, unknown chain or bridge, mandates not enforced, bad signature.
 * @example
 *   await registerLpMandate(client, 'devnet', lp, { chains: ['alpha', 'beta'], bridges: ['layerzero'], maxShareBps: 500, maxFeeBps: 10, expiresInSec: 86_400 });
 */
export async function registerLpMandate(client: Client, deployment: string, account: LocalAccount, terms: MandateTerms): Promise<{ mandate: Mandate; outcome: MandateOutcome }> {
  const handle = client.workflow.getHandle(monitorWorkflowId(deployment));
  let nonce = terms.nonce;
  if (nonce === undefined) {
    const view = await handle.query(lpMandatesQuery);
    nonce = (view.lastNonce[account.address.toLowerCase()] ?? 0n) + 1n;
  }
  const nowSec = terms.nowSec ?? BigInt(Math.floor(Date.now() / 1000));
  const mandate: Mandate = {
    lp: account.address,
    deployment,
    chains: terms.chains,
    bridges: terms.bridges,
    maxShareBps: terms.maxShareBps,
    maxFeeBps: terms.maxFeeBps,
    expiresAtSec: nowSec + BigInt(terms.expiresInSec),
    nonce,
  };
  const signature = await account.signTypedData(mandateTypedData(mandate));
  const outcome = await handle.executeUpdate(registerMandateUpdate, { args: [{ mandate, signature }] });
  return { mandate, outcome };
}

/**
 * Signs a revocation of the LP's current mandate (nonce: that mandate's, unless given) and sends it. Immediate:
 * from the moment this returns the keeper plans no move under it.
 * @throws Error when the LP has no current mandate; WorkflowUpdateFailedError when the monitor refuses it.
 */
export async function revokeLpMandate(client: Client, deployment: string, account: LocalAccount, nonce?: bigint): Promise<MandateOutcome> {
  const handle = client.workflow.getHandle(monitorWorkflowId(deployment));
  if (nonce === undefined) {
    const view = await handle.query(lpMandatesQuery);
    const cur = currentRecord({ records: view.mandates, lastNonce: {}, pending: {}, attribution: {} }, account.address);
    if (!cur) throw new Error(`${account.address} has no mandate on ${deployment} to revoke (see \`ballast lp show ${account.address}\`)`);
    nonce = cur.mandate.nonce;
  }
  const revocation: MandateRevocation = { lp: account.address, deployment, nonce };
  const signature = await account.signTypedData(revocationTypedData(revocation));
  return handle.executeUpdate(revokeMandateUpdate, { args: [{ revocation, signature }] });
}

/** One LP as `ballast lp show` prints it. */
export interface LpView {
  lp: string;
  /** Whether the keeper enforces mandates (undefined until the monitor has planned with one). */
  enforced?: boolean;
  /** Its mandates, newest first, with their status now. */
  mandates: LpMandatesView['mandates'];
  attribution: LpAttribution;
  /** Its moves still in flight (rebalance id → move). */
  inFlight: Record<string, PendingMove>;
}

/** Reads one LP's mandates, attribution and moves in flight from the monitor. */
export async function readLp(client: Client, deployment: string, lp: string): Promise<LpView> {
  const view = await client.workflow.getHandle(monitorWorkflowId(deployment)).query(lpMandatesQuery);
  const k = lp.toLowerCase();
  return {
    lp,
    enforced: view.enforced,
    mandates: view.mandates.filter((r) => r.mandate.lp.toLowerCase() === k).reverse(),
    attribution: view.attribution[k] ?? { lp: k, moved: 0n, feesWei: 0n, feesBaseUnits: 0n, moves: 0, recent: [] },
    inFlight: Object.fromEntries(Object.entries(view.pending).filter(([, p]) => p.allowances.some((a) => a.lp === k))),
  };
}
