/**
 * Activities behind run-time caps (workflows/caps.ts holds the rules): the config's policies and rules for
 * the monitor, the EIP-712 signature check of a cap change, and the audit trail's log lines and metrics.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Hex } from 'viem';
import type { ChainPolicy } from '../planner/types.js';
import { CAP_FIELDS, effectivePolicies, type CapAuditRecord, type CapRules, type CapsState, type SignedCapRequest } from '../workflows/caps.js';
import { verifyCapSignature, type CapAction, type CapApprover } from './capApproval.js';
import { configuredPolicies, type KeeperContext } from './context.js';

/** What the monitor needs to validate cap changes: the config's policies (config order) and the approval rules. */
export interface CapsContext {
  policies: ChainPolicy[];
  rules: CapRules;
}

/** Builds the caps activities bound to `ctx`. */
export function createCapActivities(ctx: KeeperContext) {
  return {
    /** The config's per-chain policies and the approval rules (read each tick, so the monitor follows the worker's config). */
    async capsContext(): Promise<CapsContext> {
      return {
        policies: configuredPolicies(ctx),
        rules: ctx.risk?.rules ?? { approvalWindowSec: 86_400 },
      };
    },
    /**
     * Recovers and checks an approver's signature of a cap change or an emergency request (cancel, freeze, unfreeze).
     * @throws non-retryable `CapApprovalRefused` (see activities/capApproval.ts).
     */
    async verifyCapSignature(input: { action: CapAction; request: SignedCapRequest; salt?: Hex; signature: Hex }): Promise<CapApprover> {
      if (!ctx.risk) throw ApplicationFailure.nonRetryable('cap changes are disabled: no risk section in the worker config', 'CapApprovalRefused');
      return verifyCapSignature(ctx.deployment, ctx.risk.approvers, input);
    },
    /**
     * Logs every audit record (warn level: a risk change is always worth reading), counts it in
     * `ballast_cap_changes_total{scope, action}`, exports the effective caps as `ballast_cap_base_units` and
     * each chain's freeze as `ballast_cap_frozen{chain}` (1 frozen, 0 not).
     */
    async recordCapAudit(input: { records: CapAuditRecord[]; state: CapsState; policies: ChainPolicy[] }): Promise<void> {
      for (const r of input.records) {
        ctx.metrics.capChanges.inc({ scope: r.scope, action: r.action });
        ctx.log.warn({ changeId: r.changeId, action: r.action, who: r.who, scope: r.scope, old: r.old, new: r.new, reason: r.reason, at: new Date(r.atMs).toISOString(), ...(r.requestId ? { requestId: r.requestId } : {}), ...(r.note ? { note: r.note } : {}) }, `cap change ${r.action}`);
      }
      const eff = effectivePolicies(input.policies, input.state);
      for (const p of eff.policies) {
        const values = { maxOutflowPerWindow: p.caps.maxOutflowPerWindow, windowSec: p.caps.windowSec, maxTransfer: p.caps.maxTransfer, minBuffer: p.minBufferAmount };
        for (const f of CAP_FIELDS) ctx.metrics.capValue.set({ scope: `chain ${p.chainKey}`, field: f }, Number(values[f]));
        ctx.metrics.capFrozen.set({ chain: p.chainKey }, input.state.frozen?.[p.chainKey] ? 1 : 0);
      }
      for (const [route, max] of Object.entries(eff.routeMaxTransfer)) ctx.metrics.capValue.set({ scope: `route ${route}`, field: 'maxTransfer' }, Number(max));
    },
  };
}
