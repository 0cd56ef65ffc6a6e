/**
 * Signals and queries of the keeper's workflows (shared by workflows, worker, client and CLI).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { InFlight, Snapshot } from '../planner/types.js';
import type { RebalanceOutcome } from '../activities/types.js';
import type { StrandedInFlight, DeploymentLedger } from '../activities/ledger.js';
import type { Ledger } from '../ledger/ledger.js';
import type { LegRecord, RebalanceResult } from './types.js';

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
  started: number;
  finished: Record<RebalanceOutcome, number>;
  recent: { rebalanceId: string; from: string; to: string; amount: bigint; outcome?: RebalanceOutcome }[];
  /** The deployment's funds ledger: supply conservation, checked on ticks with nothing in flight. */
  ledger: {
    openingSupply?: bigint;
    last?: DeploymentLedger;
    checkedAtMs?: number;
    /** Stranded sagas whose tokens may still be in flight. */
    stranded: StrandedInFlight[];
    /** Why new rebalances are stopped (a ledger mismatch); cleared only by `resume`. */
    halted?: string;
  };
}
export const monitorStatusQuery = defineQuery<MonitorStatus>('status');

/** A rebalance's progress: legs done so far, compensations run, and the result once ended. */
export const rebalanceProgressQuery = defineQuery<{ legs: LegRecord[]; result?: RebalanceResult; ledger: Ledger }>('progress');
