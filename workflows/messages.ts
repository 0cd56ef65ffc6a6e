/**
 * Signals and queries of the keeper's workflows (shared by workflows, worker, client and CLI).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { InFlight, MoveKind, Snapshot } from '../planner/types.js';
import type { RebalanceOutcome } from '../activities/types.js';
import type { StrandedInFlight, DeploymentLedger } from '../activities/ledger.js';
import type { Ledger } from '../ledger/ledger.js';
import type { SolanaOpening } from '../ledger/treasury.js';
import type { DebtForecastEntry } from '../planner/forecast.js';
import type { BaseFeeSample } from '../planner/timing.js';
import type { DeferredPlanTransfer } from '../activities/plan.js';
import type { LegRecord, RebalanceResult } from './types.js';
import type { CapAuditRecord, CapChangeRequest, CapControlRequest, CapRules, CapsState } from './caps.js';
import type { ChainPolicy } from '../planner/types.js';

/** Stop planning new rebalances (open sagas continue). */
export const pauseSignal = defineSignal<[{ reason?: string }?]>('pause');
/** Resume planning. */
export const resumeSignal = defineSignal('resume');
/** Sent by a rebalance saga to its monitor when it ends, so the route is free again. */
export const rebalanceFinishedSignal = defineSignal<[RebalanceFinished]>('rebalanceFinished');

/** What a saga tells its monitor when it ends. */
export interface RebalanceFinished {
  rebalanceId: string;
  outcome: RebalanceOutcome;
  /** Set when the saga's ledger disagreed with the chain (the monitor stops new rebalances). */
  ledgerMismatch?: string;
  /** A stranded saga whose tokens were sent: the deployment ledger counts them in flight until delivered. */
  stranded?: StrandedInFlight;
  /** Native fees the saga paid over every send, wei (for LP attribution). */
  feePaidWei?: bigint;
  /** Fees the saga paid in the asset, base units, when its bridge charges any. */
  feeBaseUnits?: bigint;
}

/** The monitor's latest snapshot (undefined before the first tick). */
export const snapshotQuery = defineQuery<Snapshot | undefined>('snapshot');

/** The monitor's status. */
export interface MonitorStatus {
  deployment: string;
  paused: boolean;
  pauseReason?: string;
  ticks: number;
  /** Ticks over all runs (continue-as-new keeps counting). */
  totalTicks: number;
  inFlight: InFlight[];
  lastPlanAtMs?: number;
  lastUnresolved: { chainKey: string; reason: string }[];
  /** The last tick skipped because an activity failed after its retries (cleared by the next good tick). */
  lastTickError?: { atMs: number; error: string };
  started: number;
  finished: Record<RebalanceOutcome, number>;
  /** Latest started moves, newest first; `kind` absent = collateral. */
  recent: { rebalanceId: string; from: string; to: string; amount: bigint; outcome?: RebalanceOutcome; kind?: MoveKind }[];
  /** Chains the last capacity plan left out or could not bring under their high mark (absent: capacity moves not configured). */
  lastCapacityUnresolved?: { chainKey: string; reason: string }[];
  /**
   * Per chainKey, the market's debt forecast (planner/forecast.ts `observeDebtForecasts`: Holt's smoothing of the debt
   * as a share of twice the first supply seen, one observation per tick), carried across continue-as-new with the
   * status and given to the plan activity each tick (the yield planner's utilization forecast). At most
   * `MAX_FORECAST_CHAINS` entries. Absent before the first tick and in runs recorded before it (patch `debt-forecast`).
   */
  forecast?: Record<string, DebtForecastEntry>;
  /**
   * Per chainKey, the base fees the monitor sampled from its snapshots (`baseFeeWei`), oldest first, `atSec` on the
   * monitor's clock: at most one sample per tick and per `GAS_SAMPLE_SPACING_SEC` (300 s), the last `GAS_HISTORY_SEC`
   * (24 h), at most `MAX_GAS_SAMPLES` (288) per chain (workflows/monitor.ts `observeBaseFees`). Carried across
   * continue-as-new with the status and given to the plan activity each tick (the gas timing's history,
   * planner/timing.ts). Absent before the first tick and in runs recorded before it (patch `gas-history`).
   */
  gasHistory?: Record<string, BaseFeeSample[]>;
  /** The transfers the last plan held back for gas (activities/plan.ts `deferred`: the transfer, rules, why); absent when none was. */
  lastDeferred?: DeferredPlanTransfer[];
  /** The deployment's funds ledger: supply conservation, checked on ticks with nothing in flight. */
  ledger: {
    openingSupply?: bigint;
    last?: DeploymentLedger;
    checkedAtMs?: number;
    /** Stranded sagas whose tokens may still be in flight. */
    stranded: StrandedInFlight[];
    /** Why new rebalances are stopped (a ledger mismatch); cleared only by `resume`. */
    halted?: string;
    /** The keeper-flow difference an operator acknowledged by `resume` (signed base units; ledger/treasury.ts). */
    treasuryAcceptedDiff?: bigint;
    /** Set by `resume` after a halt: the next check acknowledges the keeper-flow difference it finds. */
    treasuryReopen?: boolean;
    /** Per Solana chain, the reserve's `supplied` and slot at the check that opened it (its keeper flows are derived from it; ledger/treasury.ts). */
    treasurySolanaOpening?: Record<string, SolanaOpening>;
  };
}
export const monitorStatusQuery = defineQuery<MonitorStatus>('status');

/** A rebalance's progress: legs done so far, compensations run, and the result once ended. */
export const rebalanceProgressQuery = defineQuery<{ legs: LegRecord[]; result?: RebalanceResult; ledger: Ledger }>('progress');

/** Argument of {@link proposeCapChangeUpdate}: the request, its salt (proves `changeId`) and the approver's EIP-712 signature. */
export interface ProposeCapChange {
  request: CapChangeRequest;
  salt: `0x${string}`;
  signature: `0x${string}`;
}
/** Argument of {@link approveCapChangeUpdate}: a pending raise's id and a second approver's signature of it. */
export interface ApproveCapChange {
  changeId: `0x${string}`;
  signature: `0x${string}`;
}
/**
 * What a cap Update did: `applied` (a cut, at once), `pending` (a raise or an unfreeze waiting for a second
 * approver), `approved` (a raise or an unfreeze applied: fields cut since its proposal held, see the audit's
 * `note`), `superseded` (approved, but it changed nothing any more: dropped), `cancelled`, `frozen` (at once).
 */
export interface CapChangeOutcome {
  status: 'applied' | 'pending' | 'approved' | 'superseded' | 'cancelled' | 'frozen';
  audit: CapAuditRecord[];
}
/**
 * Update: propose a cap change signed by an approver. The validator refuses malformed requests (unknown chain,
 * negative value, maxTransfer above maxOutflowPerWindow, expired, reused id) before they enter history.
 */
export const proposeCapChangeUpdate = defineUpdate<CapChangeOutcome, [ProposeCapChange]>('proposeCapChange');
/**
 * Update: a second, different approver approves a pending raise or unfreeze. The validator refuses it when the
 * window or the request expired, or when approving now would change nothing (every raised field was cut since
 * the proposal, every chain frozen again): then propose again.
 */
export const approveCapChangeUpdate = defineUpdate<CapChangeOutcome, [ApproveCapChange]>('approveCapChange');

/** Argument of {@link capControlUpdate}: the request, its salt (proves `changeId`) and an approver's EIP-712 signature of it. */
export interface CapControl {
  request: CapControlRequest;
  salt: `0x${string}`;
  signature: `0x${string}`;
}
/**
 * Update: an emergency request signed by ONE approver (workflows/caps.ts): `cancel` a pending raise or unfreeze
 * (status `cancelled`), `freeze` chains (status `frozen`, at once), or propose their `unfreeze` (status
 * `pending`; a second approver applies it with {@link approveCapChangeUpdate}). The validator refuses a reused
 * or expired request, unknown chains, a cancel of nothing pending, an unfreeze of chains not frozen.
 */
export const capControlUpdate = defineUpdate<CapChangeOutcome, [CapControl]>('capControl');

/**
 * What `ballast caps show` prints: the config's policies, the effective caps (freezes not applied: they are in
 * `state.frozen`), pending raises and unfreezes (`state.pending`, `state.unfreezes`), and the audit trail.
 */
export interface CapsView {
  policies: ChainPolicy[];
  effective: ChainPolicy[];
  routeMaxTransfer: Record<string, bigint>;
  state: CapsState;
  rules: CapRules;
}
export const capsQuery = defineQuery<CapsView | undefined>('caps');
