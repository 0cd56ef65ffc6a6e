/**
 * Risk caps as the monitor holds them: the per-chain and per-route limits a risk team sets at run time,
 * the raises waiting for a second approver or their delay, and the audit trail of every change.
 *
 * Pure and deterministic (no I/O, no clock: times are passed in), so the monitor workflow runs it and a
 * replay re-derives the same state. The signature checks happen in an activity (`verifyCapSignature`)
 * before any of this runs.
 *
 * Rules (after Morpho's caps: a risk cut is immediate, a risk increase is not):
 * - a change that only LOWERS risk (a smaller `maxOutflowPerWindow` or `maxTransfer`, a longer `windowSec`,
 *   a larger `minBuffer`) takes effect at once;
 * - a change that raises any field is `pending` until a second, different approver approves it within
 *   `approvalWindowSec`, or, when `raiseDelaySec` is set, until that delay has passed with no cancellation;
 * - every proposal, approval, application, expiry and cancellation is an audit record
 *   (who, when, scope, old, new, reason).
 */
import type { ChainPolicy } from '../planner/types.js';

/** The fields a cap change may set. Amounts are base units; `windowSec` seconds. */
export interface CapValues {
  maxOutflowPerWindow?: bigint;
  windowSec?: bigint;
  maxTransfer?: bigint;
  minBuffer?: bigint;
}

/** The field names of {@link CapValues}, in display order. */
export const CAP_FIELDS = ['maxOutflowPerWindow', 'windowSec', 'maxTransfer', 'minBuffer'] as const;
export type CapField = (typeof CAP_FIELDS)[number];

/** What a change applies to: one chain (all four fields) or one route (`maxTransfer` only). */
export type CapScope = { chainKey: string } | { route: { from: string; to: string } };

/** A signed request to change caps (the signature is verified by the activity, not here). */
export interface CapChangeRequest {
  /** keccak256 of the request's content (see `capChangeId` in activities/capApproval.ts). */
  changeId: `0x${string}`;
  scope: CapScope;
  set: CapValues;
  reason: string;
  /** Unix seconds after which the request (and its approval) is void. */
  expiresAtSec: bigint;
}

/** One audit record. `who` is the recovered signer address (`monitor` for automatic transitions). */
export interface CapAuditRecord {
  changeId: `0x${string}`;
  action: 'applied' | 'proposed' | 'approved' | 'applied-after-delay' | 'expired' | 'cancelled';
  who: string;
  atMs: number;
  scope: string;
  old: Record<string, string>;
  new: Record<string, string>;
  reason: string;
}

/** A raise waiting for its second approver or its delay. */
export interface PendingCapRaise {
  request: CapChangeRequest;
  proposedBy: string;
  proposedAtMs: number;
  /** With a raise delay configured: when it takes effect without a second approver (ms). */
  effectiveAtMs?: number;
}

/** Per-route limits (base units). */
export interface RouteCap {
  maxTransfer?: bigint;
}

/** The caps state the monitor carries (also across continue-as-new). */
export interface CapsState {
  /** Effective per-chain values that differ from the config's. */
  chains: Record<string, CapValues>;
  /** Effective per-route limits, keyed `from->to`. */
  routes: Record<string, RouteCap>;
  pending: PendingCapRaise[];
  audit: CapAuditRecord[];
}

/** Rules of the game, from config `risk`. */
export interface CapRules {
  approvalWindowSec: number;
  /** When set, a raise applies after this many seconds with one approval. */
  raiseDelaySec?: number;
}

/** The audit keeps this many records in workflow state (every record is also logged and counted by the activity). */
export const AUDIT_LIMIT = 500;

/** An empty state: every cap is the config's. */
export function emptyCapsState(): CapsState {
  return { chains: {}, routes: {}, pending: [], audit: [] };
}

/** `from->to`, the key of a route. */
export function routeKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/** `chain arbitrum` or `route arbitrum->base`. */
export function scopeLabel(scope: CapScope): string {
  return 'chainKey' in scope ? `chain ${scope.chainKey}` : `route ${routeKey(scope.route.from, scope.route.to)}`;
}

/** The config's values of one chain as {@link CapValues}. */
function configValues(policy: ChainPolicy): Required<CapValues> {
  return { maxOutflowPerWindow: policy.caps.maxOutflowPerWindow, windowSec: policy.caps.windowSec, maxTransfer: policy.caps.maxTransfer, minBuffer: policy.minBufferAmount };
}

/** Current effective values of `scope` (route: the route's maxTransfer, else the source chain's). */
export function currentValues(state: CapsState, policies: readonly ChainPolicy[], scope: CapScope): CapValues {
  if ('chainKey' in scope) {
    const p = policies.find((x) => x.chainKey === scope.chainKey);
    if (!p) return {};
    return { ...configValues(p), ...state.chains[scope.chainKey] };
  }
  const src = policies.find((x) => x.chainKey === scope.route.from);
  const chainMax = src ? (state.chains[src.chainKey]?.maxTransfer ?? src.caps.maxTransfer) : undefined;
  return { maxTransfer: state.routes[routeKey(scope.route.from, scope.route.to)]?.maxTransfer ?? chainMax };
}

/**
 * Validates a request against the chains the deployment has and the rules of each field. Returns the
 * reason it is refused, or undefined. Used by the monitor's Update validator (synchronous, before the
 * request is accepted into history).
 */
export function validateCapChange(state: CapsState, policies: readonly ChainPolicy[], req: CapChangeRequest, nowMs: number): string | undefined {
  const keys = new Set(policies.map((p) => p.chainKey));
  if (!/^0x[0-9a-f]{64}$/.test(req.changeId)) return `changeId must be 32 bytes of lowercase hex (got ${String(req.changeId)})`;
  if (state.audit.some((a) => a.changeId === req.changeId) || state.pending.some((p) => p.request.changeId === req.changeId)) return `change ${req.changeId} was already submitted`;
  if (typeof req.reason !== 'string' || req.reason.trim().length === 0) return 'reason must not be empty: say why the cap changes';
  if (req.expiresAtSec * 1000n <= BigInt(nowMs)) return `request expired at ${req.expiresAtSec} (unix s)`;
  if ('chainKey' in req.scope) {
    if (!keys.has(req.scope.chainKey)) return `unknown chain "${req.scope.chainKey}" (known: ${[...keys].join(', ')})`;
  } else {
    const { from, to } = req.scope.route;
    if (!keys.has(from) || !keys.has(to)) return `unknown route ${routeKey(from, to)} (known chains: ${[...keys].join(', ')})`;
    if (from === to) return `route ${routeKey(from, to)} goes nowhere`;
    const extra = Object.keys(req.set).filter((f) => f !== 'maxTransfer');
    if (extra.length > 0) return `a route cap sets maxTransfer only (got ${extra.join(', ')})`;
  }
  const fields = CAP_FIELDS.filter((f) => req.set[f] !== undefined);
  if (fields.length === 0) return 'the request sets no cap';
  for (const f of fields) {
    const v = req.set[f]!;
    if (typeof v !== 'bigint') return `${f} must be an integer (base units${f === 'windowSec' ? '; seconds' : ''})`;
    if (v < 0n) return `${f} must be ≥ 0 (got ${v})`;
    if (f === 'windowSec' && v === 0n) return 'windowSec must be > 0';
  }
  const next = { ...currentValues(state, policies, req.scope), ...req.set };
  if (next.maxTransfer !== undefined && next.maxOutflowPerWindow !== undefined && next.maxTransfer > next.maxOutflowPerWindow) {
    return `maxTransfer ${next.maxTransfer} would exceed maxOutflowPerWindow ${next.maxOutflowPerWindow}`;
  }
  return undefined;
}

/**
 * Which fields of `set` raise risk compared with `old`: a larger outflow or transfer cap, a shorter window,
 * a smaller buffer. Empty when the change only lowers risk (or changes nothing).
 */
export function raisedFields(old: CapValues, set: CapValues): CapField[] {
  const raised: CapField[] = [];
  for (const f of CAP_FIELDS) {
    const n = set[f];
    const o = old[f];
    if (n === undefined) continue;
    if (o === undefined) {
      raised.push(f);
      continue;
    }
    const riskier = f === 'windowSec' || f === 'minBuffer' ? n < o : n > o;
    if (riskier) raised.push(f);
  }
  return raised;
}

function asStrings(v: CapValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of CAP_FIELDS) if (v[f] !== undefined) out[f] = v[f]!.toString();
  return out;
}

/** The common fields of an audit record for `req`: old values as they are now, new values as requested. */
function auditBase(state: CapsState, policies: readonly ChainPolicy[], req: CapChangeRequest, who: string, nowMs: number): Omit<CapAuditRecord, 'action'> {
  const old = currentValues(state, policies, req.scope);
  const shownOld: CapValues = {};
  for (const f of CAP_FIELDS) if (req.set[f] !== undefined) shownOld[f] = old[f];
  return { changeId: req.changeId, who, atMs: nowMs, scope: scopeLabel(req.scope), old: asStrings(shownOld), new: asStrings(req.set), reason: req.reason };
}

function pushAudit(state: CapsState, rec: CapAuditRecord): CapAuditRecord {
  state.audit.push(rec);
  if (state.audit.length > AUDIT_LIMIT) state.audit.splice(0, state.audit.length - AUDIT_LIMIT);
  return rec;
}

function apply(state: CapsState, req: CapChangeRequest): void {
  if ('chainKey' in req.scope) {
    state.chains[req.scope.chainKey] = { ...state.chains[req.scope.chainKey], ...req.set };
  } else {
    const k = routeKey(req.scope.route.from, req.scope.route.to);
    state.routes[k] = { ...state.routes[k], maxTransfer: req.set.maxTransfer };
  }
}

/**
 * A verified proposal from `who`: applied now when it only lowers risk, else pending. Mutates `state`;
 * returns the audit records written.
 */
export function proposeCapChange(state: CapsState, policies: readonly ChainPolicy[], rules: CapRules, req: CapChangeRequest, who: string, nowMs: number): CapAuditRecord[] {
  const base = auditBase(state, policies, req, who, nowMs);
  if (raisedFields(currentValues(state, policies, req.scope), req.set).length === 0) {
    apply(state, req);
    return [pushAudit(state, { ...base, action: 'applied' })];
  }
  state.pending.push({ request: req, proposedBy: who, proposedAtMs: nowMs, effectiveAtMs: rules.raiseDelaySec !== undefined ? nowMs + rules.raiseDelaySec * 1000 : undefined });
  return [pushAudit(state, { ...base, action: 'proposed' })];
}

/**
 * Reasons a second approval by `who` of `changeId` is refused, or undefined (validator side: synchronous).
 */
export function validateCapApproval(state: CapsState, changeId: string, nowMs: number, rules: CapRules): string | undefined {
  const p = state.pending.find((x) => x.request.changeId === changeId);
  if (!p) return `no pending cap raise ${changeId} (see \`ballast caps show\`)`;
  if (nowMs > p.proposedAtMs + rules.approvalWindowSec * 1000) return `the approval window of ${changeId} (${rules.approvalWindowSec}s) has passed`;
  if (p.request.expiresAtSec * 1000n <= BigInt(nowMs)) return `change ${changeId} expired at ${p.request.expiresAtSec} (unix s)`;
  return undefined;
}

/**
 * A verified second approval from `who`: applies the pending raise. A self-approval (the proposer again)
 * is refused. Mutates `state`; returns the audit records written.
 * @throws Error when the change is not pending or `who` proposed it.
 */
export function approveCapChange(state: CapsState, policies: readonly ChainPolicy[], changeId: string, who: string, nowMs: number): CapAuditRecord[] {
  const i = state.pending.findIndex((x) => x.request.changeId === changeId);
  if (i < 0) throw new Error(`no pending cap raise ${changeId}`);
  const p = state.pending[i]!;
  if (p.proposedBy.toLowerCase() === who.toLowerCase()) throw new Error(`${who} proposed ${changeId}; a raise needs a second, different approver`);
  const base = auditBase(state, policies, p.request, who, nowMs);
  state.pending.splice(i, 1);
  apply(state, p.request);
  return [pushAudit(state, { ...base, action: 'approved' })];
}

/**
 * Applies pending raises whose delay has passed and drops those whose approval window or expiry has passed.
 * Called on every tick. Mutates `state`; returns the audit records written.
 */
export function settlePendingCaps(state: CapsState, policies: readonly ChainPolicy[], rules: CapRules, nowMs: number): CapAuditRecord[] {
  const written: CapAuditRecord[] = [];
  for (const p of [...state.pending]) {
    const req = p.request;
    const base = auditBase(state, policies, req, 'monitor', nowMs);
    const expired = req.expiresAtSec * 1000n <= BigInt(nowMs);
    if (p.effectiveAtMs !== undefined && p.effectiveAtMs <= nowMs && !expired) {
      state.pending.splice(state.pending.indexOf(p), 1);
      apply(state, req);
      written.push(pushAudit(state, { ...base, action: 'applied-after-delay' }));
    } else if (expired || (p.effectiveAtMs === undefined && nowMs > p.proposedAtMs + rules.approvalWindowSec * 1000)) {
      state.pending.splice(state.pending.indexOf(p), 1);
      written.push(pushAudit(state, { ...base, action: 'expired' }));
    }
  }
  return written;
}

/**
 * The config's policies with the effective caps applied (what the planner uses). Route caps are returned
 * separately: the planner clips a transfer on a route to the route's `maxTransfer`.
 */
export function effectivePolicies(policies: readonly ChainPolicy[], state: CapsState): { policies: ChainPolicy[]; routeMaxTransfer: Record<string, bigint> } {
  const out = policies.map((p) => {
    const o = state.chains[p.chainKey];
    if (!o) return p;
    return {
      ...p,
      minBufferAmount: o.minBuffer ?? p.minBufferAmount,
      caps: { ...p.caps, maxOutflowPerWindow: o.maxOutflowPerWindow ?? p.caps.maxOutflowPerWindow, windowSec: o.windowSec ?? p.caps.windowSec, maxTransfer: o.maxTransfer ?? p.caps.maxTransfer },
    };
  });
  const routeMaxTransfer: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(state.routes)) if (v.maxTransfer !== undefined) routeMaxTransfer[k] = v.maxTransfer;
  return { policies: out, routeMaxTransfer };
}
