/**
 * Risk caps as the monitor holds them: the per-chain and per-route limits a risk team sets at run time,
 * the raises and unfreezes waiting for a second approver (or a raise's delay), the frozen chains, the ids of
 * the signed requests already used, and the audit trail of every change.
 *
 * Pure and deterministic (no I/O, no clock: times are passed in, the monitor passes workflow time), so the
 * monitor workflow runs it and a replay re-derives the same state. The signature checks happen in an
 * activity (`verifyCapSignature`, activities/capApproval.ts) before any of this runs.
 *
 * Rules (after Morpho's caps: a risk cut is immediate, a risk increase is not):
 * - a change that only LOWERS risk (a smaller `maxOutflowPerWindow` or `maxTransfer`, a longer `windowSec`,
 *   a larger `minBuffer`) takes effect at once;
 * - a change that raises any field is `pending` until a second, different approver approves it within
 *   `approvalWindowSec`, or, when `raiseDelaySec` is set, until that delay has passed with no cancellation;
 * - an approval (or the delay) is judged against the caps IN FORCE when it applies, not when it was proposed:
 *   a field of a pending raise that was cut after the proposal (any applied change that made that field of
 *   the same scope less risky) is HELD: approving applies the less risky of the proposed value and the value
 *   in force (the smaller cap, the longer window, the larger buffer); its other fields apply as proposed. The
 *   Update's validator refuses an approval that would change nothing (propose the raise again against the
 *   caps in force); a delayed raise that would change nothing is dropped (`superseded`). {@link previewApproval}
 *   says per field what approving now would do (`ballast caps show`);
 * - `cancel`: any approver (the proposer too) cancels a pending raise or unfreeze; it never applies;
 * - `freeze`: any ONE approver freezes chains (or all), at once: the planner plans no outflow from a frozen
 *   chain (activities/plan.ts, with the reason in the plan's unresolved list) and the monitor starts none;
 *   inflow and the sagas already running continue;
 * - `unfreeze`: proposed by one approver, applied by a second, different one within `approvalWindowSec`
 *   (`raiseDelaySec` never releases a freeze). It releases only the freezes in force when it was proposed:
 *   a chain frozen again since stays frozen;
 * - replay: every accepted request's `changeId` is kept in `used` until the request expires (also across
 *   continue-as-new), so a signed request is refused however many audit records came after it; requests
 *   may live at most {@link MAX_REQUEST_LIFETIME_SEC}, which bounds `used` by time, not by count;
 * - every proposal, approval, application, expiry, cancellation, freeze and unfreeze is an audit record
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

/**
 * A signed request to cancel a pending raise or unfreeze (`ballast caps cancel`). Its own `changeId` (content
 * and a salt, like a cap change's) makes it single-use; `target` is the pending change's id.
 */
export interface CapCancelRequest {
  changeId: `0x${string}`;
  action: 'cancel';
  target: `0x${string}`;
  reason: string;
  /** Unix seconds after which the request is void. */
  expiresAtSec: bigint;
}

/**
 * A signed request to freeze chains (applies at once) or to propose their unfreeze (needs a second approver):
 * `ballast caps freeze|unfreeze`. `chains`: chain keys, or `all` (freeze: every configured chain; unfreeze:
 * every chain frozen when it is proposed).
 */
export interface CapFreezeRequest {
  changeId: `0x${string}`;
  action: 'freeze' | 'unfreeze';
  chains: 'all' | string[];
  reason: string;
  /** Unix seconds after which the request (and an unfreeze's approval) is void. */
  expiresAtSec: bigint;
}

/** The emergency requests: cancel, freeze, unfreeze (Update `capControl`). */
export type CapControlRequest = CapCancelRequest | CapFreezeRequest;
/** Any signed request the monitor accepts; its `changeId` is single-use (see {@link CapsState.used}). */
export type SignedCapRequest = CapChangeRequest | CapControlRequest;

/** Whether `r` is a cancel, freeze or unfreeze (not a cap change). */
export function isControlRequest(r: SignedCapRequest): r is CapControlRequest {
  return 'action' in r;
}

/** What an audit record says happened. */
export type CapAuditAction =
  | 'applied'
  | 'proposed'
  | 'approved'
  | 'applied-after-delay'
  | 'expired'
  | 'cancelled'
  /** A pending change that would change nothing any more when it applied (every field held, every chain re-frozen): dropped. */
  | 'superseded'
  | 'frozen'
  | 'unfreeze-proposed'
  | 'unfrozen';

/** One audit record. `who` is the recovered signer (`name (address)`; `monitor` for automatic transitions). */
export interface CapAuditRecord {
  /** The change the record is about (for a cancellation: the cancelled change; for a freeze: the freeze). */
  changeId: `0x${string}`;
  action: CapAuditAction;
  who: string;
  atMs: number;
  scope: string;
  old: Record<string, string>;
  new: Record<string, string>;
  reason: string;
  /** The id of the request that made this record when it is not `changeId` (a cancellation's own id). */
  requestId?: `0x${string}`;
  /** What else to know, e.g. which fields an approval held at the value in force. */
  note?: string;
}

/** A raise waiting for its second approver or its delay. */
export interface PendingCapRaise {
  request: CapChangeRequest;
  proposedBy: string;
  proposedAtMs: number;
  /** With a raise delay configured: when it takes effect without a second approver (ms). */
  effectiveAtMs?: number;
  /** Fields of the request that were cut after the proposal: held at the value in force when it applies. */
  cutSince?: CapField[];
}

/** An unfreeze waiting for its second approver. */
export interface PendingUnfreeze {
  request: CapFreezeRequest;
  proposedBy: string;
  proposedAtMs: number;
  /** The freezes it releases, chain key → the freeze's id, as they were when it was proposed. */
  releases: Record<string, `0x${string}`>;
}

/** Why a chain is frozen. */
export interface ChainFreeze {
  /** The freeze request's id (an unfreeze names the freezes it releases by it). */
  changeId: `0x${string}`;
  by: string;
  atMs: number;
  reason: string;
}

/** Per-route limits (base units). */
export interface RouteCap {
  maxTransfer?: bigint;
}

/**
 * The caps state the monitor carries (also across continue-as-new). The optional fields are absent in
 * states carried from runs before they existed (read as empty).
 */
export interface CapsState {
  /** Effective per-chain values that differ from the config's. */
  chains: Record<string, CapValues>;
  /** Effective per-route limits, keyed `from->to`. */
  routes: Record<string, RouteCap>;
  pending: PendingCapRaise[];
  audit: CapAuditRecord[];
  /** Frozen chains by key. */
  frozen?: Record<string, ChainFreeze>;
  /** Unfreezes waiting for a second approver. */
  unfreezes?: PendingUnfreeze[];
  /** Ids of every accepted signed request → its expiry (unix ms); an id is dropped once its request has expired. */
  used?: Record<string, number>;
}

/** Rules of the game, from config `risk`. */
export interface CapRules {
  approvalWindowSec: number;
  /** When set, a raise applies after this many seconds with one approval (never an unfreeze). */
  raiseDelaySec?: number;
}

/** The audit keeps this many records in workflow state (every record is also logged and counted by the activity). */
export const AUDIT_LIMIT = 500;

/**
 * The longest a signed request may live (`expiresAtSec` at most this many seconds after it is submitted):
 * `used` keeps every accepted id until its expiry, so this bounds it by time. Checked by the Updates'
 * validators (a request already in history is not re-judged).
 */
export const MAX_REQUEST_LIFETIME_SEC = 7 * 86_400;

const HEX32 = /^0x[0-9a-f]{64}$/;

/** An empty state: every cap is the config's, nothing frozen. */
export function emptyCapsState(): CapsState {
  return { chains: {}, routes: {}, pending: [], audit: [], frozen: {}, unfreezes: [], used: {} };
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

/** Whether `a` is riskier than `b` for field `f`: a larger cap, a shorter window, a smaller buffer. */
function riskier(f: CapField, a: bigint, b: bigint): boolean {
  return f === 'windowSec' || f === 'minBuffer' ? a < b : a > b;
}

/** The less risky of `a` and `b` for field `f`. */
export function lessRisky(f: CapField, a: bigint, b: bigint): bigint {
  return riskier(f, a, b) ? b : a;
}

/** Whether `id` was submitted before: in `used`, the audit trail (also as a cancellation's id) or pending. */
export function wasSubmitted(state: CapsState, id: string): boolean {
  return (
    state.used?.[id] !== undefined ||
    state.audit.some((a) => a.changeId === id || a.requestId === id) ||
    state.pending.some((p) => p.request.changeId === id) ||
    (state.unfreezes ?? []).some((u) => u.request.changeId === id)
  );
}

/** Records `req`'s id as used until its expiry. */
function markUsed(state: CapsState, req: SignedCapRequest): void {
  state.used ??= {};
  state.used[req.changeId] = Number(req.expiresAtSec) * 1000;
}

/** Drops the used ids whose requests have expired by `nowMs` (such a request is refused as expired anyway). */
export function pruneUsed(state: CapsState, nowMs: number): void {
  if (!state.used) return;
  for (const [id, expiresAtMs] of Object.entries(state.used)) if (expiresAtMs <= nowMs) delete state.used[id];
}

/** What every signed request must satisfy: a well-formed, unused id, a reason, not expired (and, at admission, not living too long). */
function validateBasics(state: CapsState, req: SignedCapRequest, nowMs: number, atAdmission: boolean): string | undefined {
  if (typeof req.changeId !== 'string' || !HEX32.test(req.changeId)) return `changeId must be 32 bytes of lowercase hex (got ${String(req.changeId)})`;
  if (wasSubmitted(state, req.changeId)) return `change ${req.changeId} was already submitted (a signed request is used once)`;
  if (typeof req.reason !== 'string' || req.reason.trim().length === 0) return 'reason must not be empty: say why the cap changes';
  if (typeof req.expiresAtSec !== 'bigint') return 'expiresAtSec must be an integer (unix s)';
  if (req.expiresAtSec * 1000n <= BigInt(nowMs)) return `request expired at ${req.expiresAtSec} (unix s)`;
  if (atAdmission && req.expiresAtSec * 1000n > BigInt(nowMs) + BigInt(MAX_REQUEST_LIFETIME_SEC) * 1000n) {
    return `request expires at ${req.expiresAtSec} (unix s), more than ${MAX_REQUEST_LIFETIME_SEC}s from now: sign one that expires sooner`;
  }
  return undefined;
}

/**
 * Validates a request against the chains the deployment has and the rules of each field. Returns the
 * reason it is refused, or undefined. Used by the monitor's Update validator (synchronous, before the
 * request is accepted into history; `atAdmission: true` also refuses a lifetime over
 * {@link MAX_REQUEST_LIFETIME_SEC}) and again by the handler after the signature check.
 */
export function validateCapChange(state: CapsState, policies: readonly ChainPolicy[], req: CapChangeRequest, nowMs: number, opts: { atAdmission?: boolean } = {}): string | undefined {
  const keys = new Set(policies.map((p) => p.chainKey));
  const basic = validateBasics(state, req, nowMs, opts.atAdmission ?? false);
  if (basic) return basic;
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
    if (o === undefined || riskier(f, n, o)) raised.push(f);
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

/**
 * Sets `set` on `scope`. Every field it makes less risky is marked cut on the OTHER pending raises of the same
 * scope that set that field (`cutSince`): they are held at the value in force when they apply.
 */
function apply(state: CapsState, policies: readonly ChainPolicy[], scope: CapScope, set: CapValues, changeId: string): void {
  const before = currentValues(state, policies, scope);
  const label = scopeLabel(scope);
  for (const f of CAP_FIELDS) {
    const n = set[f];
    const o = before[f];
    if (n === undefined || o === undefined || !riskier(f, o, n)) continue;
    for (const p of state.pending) {
      if (p.request.changeId === changeId || scopeLabel(p.request.scope) !== label || p.request.set[f] === undefined) continue;
      p.cutSince ??= [];
      if (!p.cutSince.includes(f)) p.cutSince.push(f);
    }
  }
  if ('chainKey' in scope) {
    state.chains[scope.chainKey] = { ...state.chains[scope.chainKey], ...set };
  } else if (set.maxTransfer !== undefined) {
    const k = routeKey(scope.route.from, scope.route.to);
    state.routes[k] = { ...state.routes[k], maxTransfer: set.maxTransfer };
  }
}

/**
 * A verified proposal from `who`: applied now when it only lowers risk, else pending. Marks its id used.
 * Mutates `state`; returns the audit records written.
 */
export function proposeCapChange(state: CapsState, policies: readonly ChainPolicy[], rules: CapRules, req: CapChangeRequest, who: string, nowMs: number): CapAuditRecord[] {
  const base = auditBase(state, policies, req, who, nowMs);
  markUsed(state, req);
  if (raisedFields(currentValues(state, policies, req.scope), req.set).length === 0) {
    apply(state, policies, req.scope, req.set, req.changeId);
    return [pushAudit(state, { ...base, action: 'applied' })];
  }
  state.pending.push({ request: req, proposedBy: who, proposedAtMs: nowMs, effectiveAtMs: rules.raiseDelaySec !== undefined ? nowMs + rules.raiseDelaySec * 1000 : undefined });
  return [pushAudit(state, { ...base, action: 'proposed' })];
}

/** What applying a pending raise now does to one field. Values in base units (`windowSec` seconds). */
export interface FieldResolution {
  field: CapField;
  /** The value in force now (undefined: none known). */
  inForce?: bigint;
  proposed: bigint;
  /** What it would be set to: `proposed`, or the value in force when the field is held. */
  applies: bigint;
  /** True when the field was cut after the proposal and the value in force is less risky than the proposed one. */
  held: boolean;
}

/** Per field of `p`'s request: what applying it now does ({@link FieldResolution}). */
export function resolveRaise(state: CapsState, policies: readonly ChainPolicy[], p: PendingCapRaise): FieldResolution[] {
  const now = currentValues(state, policies, p.request.scope);
  return CAP_FIELDS.filter((f) => p.request.set[f] !== undefined).map((f) => {
    const proposed = p.request.set[f]!;
    const inForce = now[f];
    const held = (p.cutSince ?? []).includes(f) && inForce !== undefined && riskier(f, proposed, inForce);
    return { field: f, inForce, proposed, applies: held ? inForce! : proposed, held };
  });
}

/** `maxTransfer stays 50 (held: cut after the proposal; proposed 400); windowSec 3600 → 600`. */
function describeFields(fields: readonly FieldResolution[]): string {
  return fields
    .map((r) =>
      r.held
        ? `${r.field} stays ${r.inForce} (held: cut after the proposal; proposed ${r.proposed})`
        : r.inForce === r.applies
          ? `${r.field} stays ${r.applies} (already in force)`
          : `${r.field} ${r.inForce ?? '(none)'} → ${r.applies}`,
    )
    .join('; ');
}

/** What approving a pending change now would do (`ballast caps show`, the approval's validator). */
export type ApprovalPreview =
  | { kind: 'raise'; changeId: `0x${string}`; scope: string; fields: FieldResolution[]; changes: boolean; text: string }
  | { kind: 'unfreeze'; changeId: `0x${string}`; chains: { chainKey: string; releases: boolean; why?: string }[]; changes: boolean; text: string };

/** What approving `u` now would do per chain: release the freeze it names, or not (frozen again since, or not frozen). */
function resolveUnfreeze(state: CapsState, u: PendingUnfreeze): { chainKey: string; releases: boolean; why?: string }[] {
  return Object.entries(u.releases).map(([chainKey, freezeId]) => {
    const f = state.frozen?.[chainKey];
    if (!f) return { chainKey, releases: false, why: 'not frozen any more' };
    if (f.changeId !== freezeId) return { chainKey, releases: false, why: `frozen again since the proposal (${f.changeId} by ${f.by})` };
    return { chainKey, releases: true };
  });
}

/**
 * What approving the pending raise or unfreeze `changeId` now would do, per field or per chain, with a one-line
 * `text`; `changes` false when it would change nothing. Undefined when nothing with that id is pending.
 */
export function previewApproval(state: CapsState, policies: readonly ChainPolicy[], changeId: string): ApprovalPreview | undefined {
  const p = state.pending.find((x) => x.request.changeId === changeId);
  if (p) {
    const fields = resolveRaise(state, policies, p);
    return { kind: 'raise', changeId: p.request.changeId, scope: scopeLabel(p.request.scope), fields, changes: fields.some((r) => r.applies !== r.inForce), text: describeFields(fields) };
  }
  const u = (state.unfreezes ?? []).find((x) => x.request.changeId === changeId);
  if (!u) return undefined;
  const chains = resolveUnfreeze(state, u);
  const text = chains.map((c) => (c.releases ? `unfreezes ${c.chainKey}` : `${c.chainKey} unchanged (${c.why})`)).join('; ');
  return { kind: 'unfreeze', changeId: u.request.changeId, chains, changes: chains.some((c) => c.releases), text };
}

/** The pending raise or unfreeze with id `changeId` (its request), or undefined. */
export function findPending(state: CapsState, changeId: string): { kind: 'raise'; pending: PendingCapRaise } | { kind: 'unfreeze'; pending: PendingUnfreeze } | undefined {
  const p = state.pending.find((x) => x.request.changeId === changeId);
  if (p) return { kind: 'raise', pending: p };
  const u = (state.unfreezes ?? []).find((x) => x.request.changeId === changeId);
  return u ? { kind: 'unfreeze', pending: u } : undefined;
}

/**
 * Reasons a second approval of the pending raise or unfreeze `changeId` is refused, or undefined. With
 * `policies` (the Update's validator) it also refuses an approval that would change nothing (every raised
 * field held by a later cut, every chain frozen again): the message asks for a new proposal.
 */
export function validateCapApproval(state: CapsState, changeId: string, nowMs: number, rules: CapRules, policies?: readonly ChainPolicy[]): string | undefined {
  const found = findPending(state, changeId);
  if (!found) return `no pending cap raise or unfreeze ${changeId} (see \`ballast caps show\`)`;
  const p = found.pending;
  if (nowMs > p.proposedAtMs + rules.approvalWindowSec * 1000) return `the approval window of ${changeId} (${rules.approvalWindowSec}s) has passed`;
  if (p.request.expiresAtSec * 1000n <= BigInt(nowMs)) return `change ${changeId} expired at ${p.request.expiresAtSec} (unix s)`;
  if (policies) {
    const preview = previewApproval(state, policies, changeId)!;
    if (!preview.changes) {
      return found.kind === 'raise'
        ? `approving ${changeId} now would change nothing (${preview.text}): the caps in force were cut after it was proposed; propose the raise again against them`
        : `approving ${changeId} now would unfreeze nothing (${preview.text}); propose the unfreeze again`;
    }
  }
  return undefined;
}

/**
 * A verified second approval from `who` of the pending raise or unfreeze `changeId`. A raise applies each field
 * as {@link resolveRaise} says (a field cut after the proposal is held at the value in force); an unfreeze
 * releases the freezes it named that are still in force. When that changes nothing the pending change is
 * dropped as `superseded`. Mutates `state`; returns the audit records written.
 * @throws Error when nothing with that id is pending or `who` proposed it (a self-approval).
 */
export function approveCapChange(state: CapsState, policies: readonly ChainPolicy[], changeId: string, who: string, nowMs: number): CapAuditRecord[] {
  const found = findPending(state, changeId);
  if (!found) throw new Error(`no pending cap raise or unfreeze ${changeId}`);
  const p = found.pending;
  if (p.proposedBy.toLowerCase() === who.toLowerCase()) {
    throw new Error(`${who} proposed ${changeId}; ${found.kind === 'raise' ? 'a raise' : 'an unfreeze'} needs a second, different approver`);
  }
  if (found.kind === 'unfreeze') return releaseFreezes(state, found.pending, who, nowMs, 'unfrozen');
  return applyRaise(state, policies, found.pending, who, nowMs, 'approved');
}

/** Applies the pending raise `p` as resolved now (or drops it as superseded when that changes nothing). */
function applyRaise(state: CapsState, policies: readonly ChainPolicy[], p: PendingCapRaise, who: string, nowMs: number, action: 'approved' | 'applied-after-delay'): CapAuditRecord[] {
  const fields = resolveRaise(state, policies, p);
  state.pending.splice(state.pending.indexOf(p), 1);
  const old: CapValues = {};
  const set: CapValues = {};
  for (const r of fields) {
    old[r.field] = r.inForce;
    set[r.field] = r.applies;
  }
  const held = fields.filter((r) => r.held);
  const note = held.length > 0 ? describeFields(fields) : undefined;
  const base = { changeId: p.request.changeId, who, atMs: nowMs, scope: scopeLabel(p.request.scope), old: asStrings(old), new: asStrings(set), reason: p.request.reason, ...(note ? { note } : {}) };
  if (!fields.some((r) => r.applies !== r.inForce)) return [pushAudit(state, { ...base, action: 'superseded', note: `changes nothing against the caps in force: ${describeFields(fields)}` })];
  apply(state, policies, p.request.scope, set, p.request.changeId);
  return [pushAudit(state, { ...base, action })];
}

/**
 * Applies pending raises whose delay has passed (as resolved now: held fields stay) and drops the raises and
 * unfreezes whose approval window or expiry has passed; forgets used ids whose requests expired. Called on
 * every tick. Mutates `state`; returns the audit records written.
 */
export function settlePendingCaps(state: CapsState, policies: readonly ChainPolicy[], rules: CapRules, nowMs: number): CapAuditRecord[] {
  const written: CapAuditRecord[] = [];
  for (const p of [...state.pending]) {
    const req = p.request;
    const expired = req.expiresAtSec * 1000n <= BigInt(nowMs);
    if (p.effectiveAtMs !== undefined && p.effectiveAtMs <= nowMs && !expired) {
      written.push(...applyRaise(state, policies, p, 'monitor', nowMs, 'applied-after-delay'));
    } else if (expired || (p.effectiveAtMs === undefined && nowMs > p.proposedAtMs + rules.approvalWindowSec * 1000)) {
      const base = auditBase(state, policies, req, 'monitor', nowMs);
      state.pending.splice(state.pending.indexOf(p), 1);
      written.push(pushAudit(state, { ...base, action: 'expired' }));
    }
  }
  for (const u of [...(state.unfreezes ?? [])]) {
    if (u.request.expiresAtSec * 1000n <= BigInt(nowMs) || nowMs > u.proposedAtMs + rules.approvalWindowSec * 1000) {
      state.unfreezes!.splice(state.unfreezes!.indexOf(u), 1);
      written.push(...freezeRecords(state, Object.keys(u.releases), { changeId: u.request.changeId, action: 'expired', who: 'monitor', atMs: nowMs, reason: u.request.reason }, 'true', 'true'));
    }
  }
  pruneUsed(state, nowMs);
  return written;
}

/** One audit record per chain of a freeze or unfreeze step. */
function freezeRecords(state: CapsState, chains: readonly string[], r: Pick<CapAuditRecord, 'changeId' | 'action' | 'who' | 'atMs' | 'reason'> & { requestId?: `0x${string}`; note?: string }, oldFrozen: string, newFrozen: string): CapAuditRecord[] {
  return chains.map((k) => pushAudit(state, { ...r, scope: `chain ${k}`, old: { frozen: oldFrozen }, new: { frozen: newFrozen } }));
}

/** Releases the freezes `u` names that are still in force (audit `unfrozen` per chain), or drops it as superseded. */
function releaseFreezes(state: CapsState, u: PendingUnfreeze, who: string, nowMs: number, action: 'unfrozen'): CapAuditRecord[] {
  const chains = resolveUnfreeze(state, u);
  state.unfreezes!.splice(state.unfreezes!.indexOf(u), 1);
  const released = chains.filter((c) => c.releases).map((c) => c.chainKey);
  const kept = chains.filter((c) => !c.releases);
  const note = kept.length > 0 ? kept.map((c) => `${c.chainKey} unchanged (${c.why})`).join('; ') : undefined;
  const base = { changeId: u.request.changeId, who, atMs: nowMs, reason: u.request.reason, ...(note ? { note } : {}) };
  if (released.length === 0) return freezeRecords(state, Object.keys(u.releases), { ...base, action: 'superseded' }, 'true', 'true');
  for (const k of released) delete state.frozen![k];
  return freezeRecords(state, released, { ...base, action }, 'true', 'false');
}

/** The chains `req` names: its list, or for `all` every configured chain (freeze) or every frozen one (unfreeze). */
function namedChains(state: CapsState, policies: readonly ChainPolicy[], req: CapFreezeRequest): string[] {
  if (req.chains !== 'all') return req.chains;
  return req.action === 'freeze' ? policies.map((p) => p.chainKey) : Object.keys(state.frozen ?? {});
}

/**
 * Validates a cancel, freeze or unfreeze request; returns the reason it is refused, or undefined (Update
 * `capControl`: its validator with `atAdmission`, its handler again after the signature check).
 * - every request: a well-formed unused id, a reason, not expired (at admission: not living too long);
 * - cancel: `target` is a pending raise or unfreeze;
 * - freeze: `all` or known chains, no duplicates (freezing a frozen chain renews its freeze: a pending
 *   unfreeze of the old one then leaves it frozen);
 * - unfreeze: `all` with at least one chain frozen, or chains that are all frozen.
 */
export function validateCapControl(state: CapsState, policies: readonly ChainPolicy[], req: CapControlRequest, nowMs: number, opts: { atAdmission?: boolean } = {}): string | undefined {
  const basic = validateBasics(state, req, nowMs, opts.atAdmission ?? false);
  if (basic) return basic;
  if (req.action === 'cancel') {
    if (typeof req.target !== 'string' || !HEX32.test(req.target)) return `target must be a change id: 32 bytes of lowercase hex (got ${String(req.target)})`;
    if (!findPending(state, req.target)) return `no pending cap raise or unfreeze ${req.target} to cancel (see \`ballast caps show\`)`;
    return undefined;
  }
  if (req.action !== 'freeze' && req.action !== 'unfreeze') return `unknown action ${String((req as { action: unknown }).action)} (cancel, freeze or unfreeze)`;
  const keys = policies.map((p) => p.chainKey);
  if (req.chains !== 'all') {
    if (!Array.isArray(req.chains) || req.chains.length === 0) return 'name at least one chain, or all';
    const unknown = req.chains.filter((k) => !keys.includes(k));
    if (unknown.length > 0) return `unknown chain${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${keys.join(', ')})`;
    if (new Set(req.chains).size !== req.chains.length) return `a chain is named twice (${req.chains.join(', ')})`;
  }
  if (req.action === 'unfreeze') {
    const named = namedChains(state, policies, req);
    if (named.length === 0) return 'no chain is frozen';
    const notFrozen = named.filter((k) => !state.frozen?.[k]);
    if (notFrozen.length > 0) return `not frozen: ${notFrozen.join(', ')}`;
  }
  return undefined;
}

/**
 * A verified cancel, freeze or unfreeze from `who` (validated by {@link validateCapControl}). Marks its id used.
 * - cancel: the pending raise or unfreeze is dropped (audit `cancelled`, `requestId` = the cancel's id);
 * - freeze: each named chain frozen at once (audit `frozen` per chain);
 * - unfreeze: pending until a second approver approves it (audit `unfreeze-proposed` per chain).
 * Mutates `state`; returns what happened and the audit records written.
 * @throws Error when a cancel's target is not pending (call the validator first).
 */
export function applyCapControl(state: CapsState, policies: readonly ChainPolicy[], req: CapControlRequest, who: string, nowMs: number): { status: 'cancelled' | 'frozen' | 'pending'; records: CapAuditRecord[] } {
  if (req.action === 'cancel') {
    const found = findPending(state, req.target);
    if (!found) throw new Error(`no pending cap raise or unfreeze ${req.target}`);
    markUsed(state, req);
    const meta = { requestId: req.changeId, note: `cancelled before it applied (proposed by ${found.pending.proposedBy})` };
    if (found.kind === 'raise') {
      const base = auditBase(state, policies, found.pending.request, who, nowMs);
      state.pending.splice(state.pending.indexOf(found.pending), 1);
      return { status: 'cancelled', records: [pushAudit(state, { ...base, reason: req.reason, action: 'cancelled', ...meta })] };
    }
    state.unfreezes!.splice(state.unfreezes!.indexOf(found.pending), 1);
    const records = freezeRecords(state, Object.keys(found.pending.releases), { changeId: req.target, action: 'cancelled', who, atMs: nowMs, reason: req.reason, ...meta }, 'true', 'true');
    return { status: 'cancelled', records };
  }
  const chains = namedChains(state, policies, req);
  markUsed(state, req);
  state.frozen ??= {};
  if (req.action === 'freeze') {
    const was = (k: string) => (state.frozen![k] ? 'true' : 'false');
    const records = chains.map((k) => {
      const old = was(k);
      state.frozen![k] = { changeId: req.changeId, by: who, atMs: nowMs, reason: req.reason };
      return freezeRecords(state, [k], { changeId: req.changeId, action: 'frozen', who, atMs: nowMs, reason: req.reason }, old, 'true')[0]!;
    });
    return { status: 'frozen', records };
  }
  const releases: Record<string, `0x${string}`> = {};
  for (const k of chains) releases[k] = state.frozen[k]!.changeId;
  state.unfreezes ??= [];
  state.unfreezes.push({ request: req, proposedBy: who, proposedAtMs: nowMs, releases });
  return { status: 'pending', records: freezeRecords(state, chains, { changeId: req.changeId, action: 'unfreeze-proposed', who, atMs: nowMs, reason: req.reason }, 'true', 'false') };
}

/**
 * The config's policies with the effective caps applied (what the risk team set; `caps show` and the
 * metrics). Route caps are returned separately: the planner clips a transfer on a route to the route's
 * `maxTransfer`. Freezes are not applied here: see {@link plannerPolicies}.
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

/**
 * What the planner uses: {@link effectivePolicies}, and for each frozen chain an outflow window cap of 0 (so
 * neither planner gives from it; it may still receive). `frozen`: the frozen chains' freezes by key.
 */
export function plannerPolicies(policies: readonly ChainPolicy[], state: CapsState): { policies: ChainPolicy[]; routeMaxTransfer: Record<string, bigint>; frozen: Record<string, ChainFreeze> } {
  const eff = effectivePolicies(policies, state);
  const frozen = state.frozen ?? {};
  return { ...eff, policies: eff.policies.map((p) => (frozen[p.chainKey] ? { ...p, caps: { ...p.caps, maxOutflowPerWindow: 0n } } : p)), frozen };
}

/** The unresolved-reason of a frozen chain in a plan: `beta frozen by risk-a (0x…) at …: <reason>; no outflow planned from it`. */
export function frozenReason(chainKey: string, f: ChainFreeze): string {
  return `${chainKey} frozen by ${f.by} at ${new Date(f.atMs).toISOString()} (${f.reason}); no outflow planned from it until unfrozen`;
}
