/**
 * LP mandates on the monitor: the Updates `registerMandate` / `revokeMandate`, the query `lpMandates`, the
 * mandates and per-LP attribution the monitor carries (also across continue-as-new), and the hooks the monitor
 * calls around planning and when a saga finishes. planner/mandates.ts has the rule (what a mandate allows,
 * the clip, the pro-rata split); activities/mandateSignature.ts the EIP-712 layout and signature checks.
 *
 * Lifecycle of a mandate (one current mandate per LP):
 * - `registerMandate`: the validator refuses malformed mandates (bps out of range, expired, no chains or
 *   bridges, a nonce not above the LP's last one) before they enter history; the handler has the signature
 *   verified by an activity (the signer must be the LP), then records it. It supersedes the LP's previous one.
 * - `revokeMandate`: signed by the LP with a nonce ≥ its mandate's; from the moment the Update completes the
 *   planner never uses it, and a transfer planned before but not started yet is re-checked and not started
 *   ({@link admitTransfer}). A move already started finishes (and is attributed).
 * - Expiry needs nothing: an expired mandate is not eligible.
 *
 * Attribution: a started transfer's eligible LPs and their allowances are kept until its saga signals
 * `rebalanceFinished`; then its amount (completed moves only) and fees (every outcome: the fee was paid) are
 * split over them pro rata ({@link attributeMove}). Totals per LP, the last {@link LP_RECENT_LIMIT} moves per
 * LP, at most {@link MANDATE_RECORD_LIMIT} mandate records and {@link ATTRIBUTION_LP_LIMIT} LPs are kept.
 *
 * Pure state functions first (no I/O, times passed in), then {@link installLpMandates}, the one call the
 * monitor makes to set the handlers up.
 */
import { ApplicationFailure, defineQuery, defineUpdate, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { MandateRevocation } from '../activities/mandateSignature.js';
import { BPS, DEFAULT_BRIDGE, attributeMove, type LpAllowance, type Mandate, type MandatePlanInput } from '../planner/mandates.js';
import type { Snapshot } from '../planner/types.js';
import type { RebalanceOutcome } from '../activities/types.js';

/** A mandate as the monitor holds it. */
export interface MandateRecord {
  mandate: Mandate;
  /** EIP-712 digest of the mandate. */
  mandateId: `0x${string}`;
  registeredAtMs: number;
  /** Set when the LP revoked it (the revocation's nonce in `revokedNonce`). */
  revokedAtMs?: number;
  revokedNonce?: bigint;
  /** Set when a newer mandate of the same LP replaced it. */
  supersededAtMs?: number;
}

/** `active` (usable), `expired`, `revoked` or `superseded` (by a newer mandate of the LP). */
export type MandateStatus = 'active' | 'expired' | 'revoked' | 'superseded';

/** One finished move as attributed to one LP. Amounts base units, fees wei / base units. */
export interface LpMoveRecord {
  rebalanceId: string;
  from: string;
  to: string;
  bridge: string;
  outcome: RebalanceOutcome;
  /** The whole move (base units). */
  moveAmount: bigint;
  /** The LP's part of the move (0 unless completed). */
  amount: bigint;
  feeWei: bigint;
  feeBaseUnits: bigint;
  atMs: number;
}

/** Totals attributed to one LP. */
export interface LpAttribution {
  /** Lowercase address. */
  lp: string;
  /** Base units moved in completed moves. */
  moved: bigint;
  /** Native fees, wei. */
  feesWei: bigint;
  /** Fees paid in the asset, base units. */
  feesBaseUnits: bigint;
  /** Finished moves the LP took part in (any outcome). */
  moves: number;
  /** The last {@link LP_RECENT_LIMIT} moves, newest first. */
  recent: LpMoveRecord[];
}

/** A started transfer waiting for its saga to finish. */
export interface PendingMove {
  from: string;
  to: string;
  bridge: string;
  amount: bigint;
  allowances: LpAllowance[];
}

/** What the monitor carries. Keys of `lastNonce` and `attribution` are lowercase addresses. */
export interface MandatesState {
  records: MandateRecord[];
  /** Highest nonce registered or revoked per LP: a mandate needs a higher one. */
  lastNonce: Record<string, bigint>;
  /** Started transfers by rebalance id. */
  pending: Record<string, PendingMove>;
  attribution: Record<string, LpAttribution>;
  /** Whether the worker enforces mandates (config `lp.requireMandates`), as it last said; undefined before. */
  enforced?: boolean;
}

/** Mandate records kept (current ones first; the oldest inactive ones are dropped). */
export const MANDATE_RECORD_LIMIT = 200;
/** Moves kept per LP in {@link LpAttribution.recent}. */
export const LP_RECENT_LIMIT = 20;
/** LPs whose attribution is kept (the ones with the oldest last move are dropped beyond it). */
export const ATTRIBUTION_LP_LIMIT = 500;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const UINT64_MAX = 2n ** 64n - 1n;

/** An empty state. */
export function emptyMandatesState(): MandatesState {
  return { records: [], lastNonce: {}, pending: {}, attribution: {} };
}

/** The status of `r` at `nowMs`. */
export function mandateStatus(r: MandateRecord, nowMs: number): MandateStatus {
  if (r.revokedAtMs !== undefined) return 'revoked';
  if (r.supersededAtMs !== undefined) return 'superseded';
  if (r.mandate.expiresAtSec * 1000n <= BigInt(nowMs)) return 'expired';
  return 'active';
}

/** The LP's current record (neither revoked nor superseded; may be expired), if any. */
export function currentRecord(state: MandatesState, lp: string): MandateRecord | undefined {
  const k = lp.toLowerCase();
  return state.records.find((r) => r.mandate.lp.toLowerCase() === k && r.revokedAtMs === undefined && r.supersededAtMs === undefined);
}

/** Mandates usable at `nowMs` (what the planner gets). */
export function activeMandates(state: MandatesState, nowMs: number): Mandate[] {
  return state.records.filter((r) => mandateStatus(r, nowMs) === 'active').map((r) => r.mandate);
}

/**
 * Why a mandate is refused before its signature is even checked, or undefined. Used by the Update validator
 * (synchronous) and again by the handler after the signature check.
 */
export function validateMandate(state: MandatesState, m: Mandate, nowMs: number): string | undefined {
  if (typeof m.lp !== 'string' || !ADDRESS.test(m.lp)) return `lp must be an address, 0x + 40 hex (got ${String(m.lp)})`;
  if (typeof m.deployment !== 'string' || m.deployment.length === 0) return 'deployment must name the deployment';
  for (const [field, list] of [['chains', m.chains], ['bridges', m.bridges]] as const) {
    if (!Array.isArray(list) || list.length === 0) return `${field} must list at least one`;
    const bad = list.find((x) => typeof x !== 'string' || !NAME.test(x));
    if (bad !== undefined) return `${field}: "${String(bad)}" is not a key (lowercase letters, digits, dashes)`;
    if (new Set(list).size !== list.length) return `${field} lists one twice`;
  }
  if (m.chains.length < 2) return 'chains must list at least two (a move has a source and a destination)';
  if (!Number.isInteger(m.maxShareBps) || m.maxShareBps < 1 || m.maxShareBps > Number(BPS)) return `maxShareBps must be an integer in 1..10000 (got ${m.maxShareBps})`;
  if (!Number.isInteger(m.maxFeeBps) || m.maxFeeBps < 0 || m.maxFeeBps > Number(BPS)) return `maxFeeBps must be an integer in 0..10000 (got ${m.maxFeeBps})`;
  if (typeof m.expiresAtSec !== 'bigint' || m.expiresAtSec > UINT64_MAX) return 'expiresAtSec must be a uint64 (unix seconds)';
  if (m.expiresAtSec * 1000n <= BigInt(nowMs)) return `the mandate expired at ${m.expiresAtSec} (unix s)`;
  if (typeof m.nonce !== 'bigint' || m.nonce < 0n || m.nonce > UINT64_MAX) return 'nonce must be a uint64';
  const last = state.lastNonce[m.lp.toLowerCase()];
  if (last !== undefined && m.nonce <= last) return `nonce ${m.nonce} is not above the LP's last nonce ${last} (sign a new mandate with nonce ${last + 1n})`;
  const current = currentRecord(state, m.lp);
  if (!current && state.records.filter((r) => mandateStatus(r, nowMs) === 'active').length >= MANDATE_RECORD_LIMIT) return `too many mandates (${MANDATE_RECORD_LIMIT})`;
  return undefined;
}

function prune(state: MandatesState): void {
  if (state.records.length <= MANDATE_RECORD_LIMIT) return;
  // Drop the oldest records that are no longer current (revoked or superseded), then the oldest at all.
  const drop = state.records.length - MANDATE_RECORD_LIMIT;
  const inactive = state.records.filter((r) => r.revokedAtMs !== undefined || r.supersededAtMs !== undefined).slice(0, drop);
  state.records = state.records.filter((r) => !inactive.includes(r));
  if (state.records.length > MANDATE_RECORD_LIMIT) state.records.splice(0, state.records.length - MANDATE_RECORD_LIMIT);
}

/** Records a verified mandate: it supersedes the LP's current one. Mutates `state`; returns the new record. */
export function registerMandate(state: MandatesState, m: Mandate, mandateId: `0x${string}`, nowMs: number): MandateRecord {
  const prev = currentRecord(state, m.lp);
  if (prev) prev.supersededAtMs = nowMs;
  const rec: MandateRecord = { mandate: m, mandateId, registeredAtMs: nowMs };
  state.records.push(rec);
  state.lastNonce[m.lp.toLowerCase()] = m.nonce;
  prune(state);
  return rec;
}

/** Why a revocation is refused (validator side), or undefined. */
export function validateRevocation(state: MandatesState, r: MandateRevocation): string | undefined {
  if (typeof r.lp !== 'string' || !ADDRESS.test(r.lp)) return `lp must be an address, 0x + 40 hex (got ${String(r.lp)})`;
  if (typeof r.nonce !== 'bigint' || r.nonce < 0n || r.nonce > UINT64_MAX) return 'nonce must be a uint64';
  const cur = currentRecord(state, r.lp);
  if (!cur) return `${r.lp} has no mandate to revoke (see \`ballast lp show ${r.lp}\`)`;
  if (r.nonce < cur.mandate.nonce) return `nonce ${r.nonce} is below the mandate's nonce ${cur.mandate.nonce}: sign the revocation with nonce ≥ ${cur.mandate.nonce}`;
  return undefined;
}

/**
 * Revokes the LP's current mandate (verified revocation). Mutates `state`; returns the revoked record.
 * @throws Error when there is nothing to revoke (see {@link validateRevocation}).
 */
export function revokeMandate(state: MandatesState, r: MandateRevocation, nowMs: number): MandateRecord {
  const why = validateRevocation(state, r);
  if (why) throw new Error(why);
  const cur = currentRecord(state, r.lp)!;
  cur.revokedAtMs = nowMs;
  cur.revokedNonce = r.nonce;
  const k = r.lp.toLowerCase();
  const last = state.lastNonce[k];
  if (last === undefined || r.nonce > last) state.lastNonce[k] = r.nonce;
  return cur;
}

/** A planned transfer as the monitor sees it (with `lpAllowances` when mandates bounded it). */
export interface MandatedPlannedTransfer {
  rebalanceId: string;
  from: string;
  to: string;
  amount: bigint;
  bridge?: string;
  lpAllowances?: LpAllowance[];
}

/**
 * Why a planned transfer may no longer start (a mandate it counts on was revoked, replaced or has expired since
 * the plan, so the remaining LPs allow less than its amount), or undefined. A transfer planned without mandates
 * (none required) is always admitted.
 */
export function admitTransfer(state: MandatesState, t: MandatedPlannedTransfer, nowMs: number): string | undefined {
  if (!t.lpAllowances) return undefined;
  let still = 0n;
  for (const a of t.lpAllowances) {
    const cur = currentRecord(state, a.lp);
    if (cur && cur.mandate.nonce === a.nonce && mandateStatus(cur, nowMs) === 'active') still += a.allowance;
  }
  return still >= t.amount ? undefined : `its LPs' mandates now allow ${still} < ${t.amount} (revoked, replaced or expired since the plan)`;
}

/** Remembers a started transfer's LPs until its saga finishes. Mutates `state`. */
export function recordStarted(state: MandatesState, t: MandatedPlannedTransfer): void {
  if (!t.lpAllowances || t.lpAllowances.length === 0) return;
  state.pending[t.rebalanceId] = { from: t.from, to: t.to, bridge: t.bridge ?? DEFAULT_BRIDGE, amount: t.amount, allowances: t.lpAllowances };
}

/**
 * Attributes a finished saga to its LPs: its amount when `completed`, its fees whatever the outcome. Unknown
 * ids (moves made without mandates) are ignored. Mutates `state`; returns the per-LP records written (with the LP).
 */
export function attributeFinished(
  state: MandatesState,
  f: { rebalanceId: string; outcome: RebalanceOutcome; feePaidWei?: bigint; feeBaseUnits?: bigint },
  nowMs: number,
): (LpMoveRecord & { lp: string })[] {
  const p = state.pending[f.rebalanceId];
  if (!p) return [];
  delete state.pending[f.rebalanceId];
  const shares = attributeMove(p.allowances, f.outcome === 'completed' ? p.amount : 0n, f.feePaidWei ?? 0n, f.feeBaseUnits ?? 0n);
  const written: (LpMoveRecord & { lp: string })[] = [];
  for (const s of shares) {
    const rec: LpMoveRecord = { rebalanceId: f.rebalanceId, from: p.from, to: p.to, bridge: p.bridge, outcome: f.outcome, moveAmount: p.amount, amount: s.amount, feeWei: s.feeWei, feeBaseUnits: s.feeBaseUnits, atMs: nowMs };
    const a = (state.attribution[s.lp] ??= { lp: s.lp, moved: 0n, feesWei: 0n, feesBaseUnits: 0n, moves: 0, recent: [] });
    a.moved += s.amount;
    a.feesWei += s.feeWei;
    a.feesBaseUnits += s.feeBaseUnits;
    a.moves += 1;
    a.recent.unshift(rec);
    a.recent.length = Math.min(a.recent.length, LP_RECENT_LIMIT);
    written.push({ ...rec, lp: s.lp });
  }
  const lps = Object.values(state.attribution);
  if (lps.length > ATTRIBUTION_LP_LIMIT) {
    lps.sort((x, y) => (x.recent[0]?.atMs ?? 0) - (y.recent[0]?.atMs ?? 0));
    for (const x of lps.slice(0, lps.length - ATTRIBUTION_LP_LIMIT)) delete state.attribution[x.lp];
  }
  return written;
}

// ------------------------------------------------------------------ messages

/** Argument of {@link registerMandateUpdate}: the mandate and the LP's EIP-712 signature of it. */
export interface RegisterMandate {
  mandate: Mandate;
  signature: `0x${string}`;
}
/** Argument of {@link revokeMandateUpdate}: the revocation and the LP's EIP-712 signature of it. */
export interface RevokeMandate {
  revocation: MandateRevocation;
  signature: `0x${string}`;
}
/** What a mandate Update did. */
export interface MandateOutcome {
  status: 'registered' | 'revoked';
  mandateId: `0x${string}`;
  lp: string;
  nonce: bigint;
}
/** Update: register (or replace) an LP's signed mandate. */
export const registerMandateUpdate = defineUpdate<MandateOutcome, [RegisterMandate]>('registerMandate');
/** Update: revoke an LP's mandate (signed by the LP); immediate. */
export const revokeMandateUpdate = defineUpdate<MandateOutcome, [RevokeMandate]>('revokeMandate');

/** What `ballast lp show` reads: every mandate record with its status now, the attribution, moves in flight. */
export interface LpMandatesView {
  enforced?: boolean;
  nowMs: number;
  mandates: (MandateRecord & { status: MandateStatus })[];
  attribution: Record<string, LpAttribution>;
  pending: Record<string, PendingMove>;
  /** Highest nonce used per LP (lowercase): a new mandate needs a higher one. */
  lastNonce: Record<string, bigint>;
}
/** Query: the mandates and the per-LP attribution. */
export const lpMandatesQuery = defineQuery<LpMandatesView>('lpMandates');

// ------------------------------------------------------------------ installer

/** Signature checks: a refusal is final. */
const verify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 3, nonRetryableErrorTypes: ['MandateRefused'] },
});
const reads = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 3 },
});

/** The hooks {@link installLpMandates} gives the monitor. */
export interface LpMandatesHooks {
  /** The state to carry across continue-as-new. */
  state: MandatesState;
  /**
   * Before each plan: exports new attribution as metrics, and, when a mandate is active, reads the LPs'
   * positions and the route fees at the snapshot's blocks. Returns the planner's `lp` input (undefined when no
   * mandate is active: the planner then allows nothing if mandates are required, and calls no activity here).
   * Never throws: when the positions cannot be read it returns an input with no mandate (fail closed).
   */
  planInput(snapshot: Snapshot): Promise<MandatePlanInput | undefined>;
  /** False (and logs why) when a planned transfer may no longer start; see {@link admitTransfer}. */
  admit(t: MandatedPlannedTransfer): boolean;
  /** After the transfer's saga started. */
  started(t: MandatedPlannedTransfer): void;
  /** From the monitor's `rebalanceFinished` handler. */
  finished(f: { rebalanceId: string; outcome: RebalanceOutcome; feePaidWei?: bigint; feeBaseUnits?: bigint }): void;
}

/**
 * Sets up the mandate Updates and query on the running monitor and returns its hooks.
 * @param carried the state carried across continue-as-new (undefined: empty).
 * @param onChange called when a mandate is registered or revoked (the monitor plans again at once).
 */
export function installLpMandates(carried: MandatesState | undefined, onChange: () => void): LpMandatesHooks {
  const state = carried ?? emptyMandatesState();
  let dirty = false;
  const refusal = (why: string) => ApplicationFailure.nonRetryable(why, 'MandateRefused');

  setHandler(lpMandatesQuery, () => {
    const nowMs = Date.now();
    return { enforced: state.enforced, nowMs, mandates: state.records.map((r) => ({ ...r, status: mandateStatus(r, nowMs) })), attribution: state.attribution, pending: state.pending, lastNonce: state.lastNonce };
  });
  setHandler(
    registerMandateUpdate,
    async ({ mandate, signature }) => {
      const v = await verify.verifyMandateSignature({ mandate, signature });
      // State may have moved while the signature was checked: validate again before acting.
      const why = validateMandate(state, mandate, Date.now());
      if (why) throw refusal(`mandate refused: ${why}`);
      registerMandate(state, mandate, v.mandateId, Date.now());
      log.info('LP mandate registered', { lp: v.lp, mandateId: v.mandateId, chains: mandate.chains.join(','), bridges: mandate.bridges.join(','), maxShareBps: mandate.maxShareBps, maxFeeBps: mandate.maxFeeBps, nonce: mandate.nonce.toString() });
      onChange();
      return { status: 'registered', mandateId: v.mandateId, lp: v.lp, nonce: mandate.nonce };
    },
    {
      validator: ({ mandate }) => {
        const why = validateMandate(state, mandate, Date.now());
        if (why) throw new Error(`mandate refused: ${why}`);
      },
    },
  );
  setHandler(
    revokeMandateUpdate,
    async ({ revocation, signature }) => {
      const lp = await verify.verifyRevocationSignature({ revocation, signature });
      const why = validateRevocation(state, revocation);
      if (why) throw refusal(`revocation refused: ${why}`);
      const rec = revokeMandate(state, revocation, Date.now());
      log.info('LP mandate revoked', { lp, mandateId: rec.mandateId, nonce: revocation.nonce.toString() });
      onChange();
      return { status: 'revoked', mandateId: rec.mandateId, lp, nonce: revocation.nonce };
    },
    {
      validator: ({ revocation }) => {
        const why = validateRevocation(state, revocation);
        if (why) throw new Error(`revocation refused: ${why}`);
      },
    },
  );

  return {
    state,
    async planInput(snapshot) {
      if (dirty) {
        dirty = false;
        try {
          await reads.recordLpAttribution({ totals: Object.values(state.attribution).map((a) => ({ lp: a.lp, moved: a.moved, feesWei: a.feesWei })) });
        } catch (err) {
          dirty = true; // metrics only: try again next tick
          log.warn('LP attribution metrics not exported', { error: err instanceof Error ? err.message : String(err) });
        }
      }
      const nowMs = Date.now();
      const mandates = activeMandates(state, nowMs);
      if (mandates.length === 0) return undefined;
      const lps = [...new Set(mandates.map((m) => m.lp.toLowerCase()))];
      const chains = snapshot.chains.map((c) => ({ chainKey: c.chainKey, blockNumber: c.blockNumber, answer: c.oracle.answer, decimals: c.oracle.decimals }));
      let r: Awaited<ReturnType<Activities['readMandateInputs']>>;
      try {
        r = await reads.readMandateInputs({ lps, chains });
      } catch (err) {
        // Fail closed: no positions, so nothing moves under mandates this tick (if the worker requires them).
        log.warn('LP positions not read: no move under mandates this tick', { error: err instanceof Error ? err.message : String(err) });
        return { mandates: [], positions: {}, routeFees: {}, nowMs };
      }
      state.enforced = r.enforced;
      if (!r.enforced) return undefined;
      // Revocations that landed while the positions were read are honoured: only mandates still active now.
      return { mandates: activeMandates(state, Date.now()), positions: r.positions, routeFees: r.routeFees, nowMs: Date.now() };
    },
    admit(t) {
      const why = admitTransfer(state, t, Date.now());
      if (why) log.warn('rebalance not started: LP mandates', { rebalanceId: t.rebalanceId, from: t.from, to: t.to, amount: t.amount.toString(), why });
      return why === undefined;
    },
    started(t) {
      recordStarted(state, t);
    },
    finished(f) {
      const recs = attributeFinished(state, f, Date.now());
      if (recs.length > 0) {
        dirty = true;
        log.info('rebalance attributed to LPs', { rebalanceId: f.rebalanceId, outcome: f.outcome, lps: recs.map((r) => `${r.lp} moved ${r.amount} fee ${r.feeWei} wei`).join('; ') });
      }
    },
  };
}
