/**
 * The wrapper every write activity runs in: leg timing, the running-leg tracker, a heartbeat while it
 * runs, and the cap-breach counter. Shared by activities/index.ts and the capacity activities.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from './failures.js';
import type { KeeperContext } from './context.js';
import type { LegLabels } from '../keeper/metrics.js';
import { legJournalDetails } from './legJournal.js';

/**
 * Times one leg into `ballast_leg_duration_seconds{kind,leg,route}` (also on failure) and heartbeats every
 * second while it runs, so a worker killed mid-leg is noticed within the heartbeat timeout (the workflow
 * sets it), not after the whole start-to-close timeout. Outside an activity (direct calls in tests) it
 * only times. With `trackKey`, the leg shows in `ballast_leg_in_progress_seconds` while it runs.
 * @param labels the saga kind (default `collateral`) and, for a leg over a bridge, the bridge (its SLO is per bridge).
 */
export async function timed<T>(ctx: KeeperContext, leg: string, route: string, fn: () => Promise<T>, trackKey?: string, labels: LegLabels = {}): Promise<T> {
  const end = ctx.metrics.legDurationSeconds.startTimer({ kind: labels.kind ?? 'collateral', leg, route });
  if (trackKey) ctx.metrics.legs.start(leg, route, trackKey, labels);
  try {
    return await heartbeating(fn);
  } catch (err) {
    countCapBreach(ctx, err);
    throw err;
  } finally {
    if (trackKey) ctx.metrics.legs.end(leg, route, trackKey);
    end();
  }
}

/**
 * Runs `fn` heartbeating every second when inside a Temporal activity (outside one it just runs `fn`), so the
 * workflow can set a short heartbeat timeout: a worker killed mid-activity is noticed within it, not after the whole
 * start-to-close timeout. The heartbeat carries the leg journal (activities/legJournal.ts), so it never blanks it.
 * Used by every write leg (through {@link timed}) and by the ledger audits (a saga's audit retried on another worker).
 */
export async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  let activity: Context | undefined;
  try {
    activity = Context.current();
  } catch {
    activity = undefined;
  }
  const beat = activity ? setInterval(() => activity.heartbeat(legJournalDetails()), 1000) : undefined;
  try {
    return await fn();
  } finally {
    if (beat) clearInterval(beat);
  }
}

/**
 * A vault revert `OutflowCapExceeded` counts into `ballast_cap_breached_total{chain, cap="onchain_outflow"}`,
 * `CreditCapExceeded` (a capacity reservation over the vault's credit cap) into `cap="onchain_credit"`.
 */
export function countCapBreach(ctx: KeeperContext, err: unknown): void {
  if (!(err instanceof ApplicationFailure) || err.type !== FailureType.ContractRevert) return;
  const d = (err.details?.[0] ?? {}) as { chainKey?: string; errorName?: string | null };
  if (d.errorName === 'OutflowCapExceeded') ctx.metrics.capBreached.inc({ chain: d.chainKey ?? 'unknown', cap: 'onchain_outflow' });
  if (d.errorName === 'CreditCapExceeded') ctx.metrics.capBreached.inc({ chain: d.chainKey ?? 'unknown', cap: 'onchain_credit' });
}
