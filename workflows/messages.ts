/**
 * Signals and queries of the keeper's workflows (shared by workflows, worker, client and CLI).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { InFlight, Snapshot } from '../planner/types.js';
import type { RebalanceOutcome } from '../activities/types.js';
import type { LegRecord, RebalanceResult } from './types.js';

/** Stop planning new rebalances (open sagas continue). */
export const pauseSignal = defineSignal<[{ reason?: string }?]>('pause');
/** Resume planning. */
export const resumeSignal = defineSignal('resume');
/** Sent by a rebalance saga to its monitor when it ends, so the route is free again. */
export const rebalanceFinishedSignal = defineSignal<[{ rebalanceId: string; outcome: RebalanceOutcome }]>('rebalanceFinished');

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
}
export const monitorStatusQuery = defineQuery<MonitorStatus>('status');

/** A rebalance's progress: legs done so far, compensations run, and the result once ended. */
export const rebalanceProgressQuery = defineQuery<{ legs: LegRecord[]; result?: RebalanceResult }>('progress');
