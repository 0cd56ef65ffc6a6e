/**
 * A bounded wait inside an activity: poll a check until it is satisfied, heartbeating meanwhile, instead of
 * throwing a retryable "not yet" and letting Temporal's retry backoff be the wait loop (design card: "Waiting
 * is not failing"). A check that throws is a fault and ends the wait at once (the activity's retry policy
 * handles faults); only "not yet" is waited on.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { legJournalDetails } from './legJournal.js';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** How long to poll in all, ms (the check runs once more at the end). Keep it below the activity's start-to-close timeout. */
  timeoutMs: number;
  /** Pause between two checks, ms (the first pause, with `backoff`). */
  intervalMs: number;
  /**
   * Pauses that grow: each is `factor` × the previous, at most `maxIntervalMs`. For waits that may be short or long
   * (a bridge delivery: ~0.1 s on the devnet, minutes on mainnet): quick at first, cheap on the RPC later.
   */
  backoff?: { factor: number; maxIntervalMs: number };
  /** What is waited for, for the heartbeat details and the default timeout failure, e.g. `alpha: block ≥ 42`. */
  what: string;
  /**
   * The error thrown when `timeoutMs` passed with the check still unsatisfied (e.g. a retryable `DeliveryPending`
   * naming the last status seen). Default: retryable `ApplicationFailure` of type `WaitTimeout` naming `what`.
   */
  onTimeout?: () => Error;
}

/** The running activity's context, or undefined outside an activity (direct calls in tests and scripts). */
function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Time kept between the end of a wait and the activity's own timeout, ms: the wait ends with `onTimeout()`, not a TimeoutFailure. */
const ACTIVITY_MARGIN_MS = 1_000;

/** When the running activity attempt times out (start-to-close of this attempt, schedule-to-close of all), epoch ms. */
function activityDeadlineMs(info: Context['info']): number {
  const ends = [
    info.startToCloseTimeoutMs > 0 ? info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs : Infinity,
    info.scheduleToCloseTimeoutMs > 0 ? info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs : Infinity,
  ];
  return Math.min(...ends);
}

/**
 * Runs `check` until it returns a value other than `undefined` and returns that value. Between checks it sleeps
 * `intervalMs` (never past the deadline); inside a Temporal activity it heartbeats before every sleep (details:
 * `{ waitingFor, elapsedMs, checks }`) and the sleep ends early with a `CancelledFailure` when the activity is
 * cancelled (worker shutdown, workflow cancelled, heartbeat timeout). Inside an activity the wait also ends 1 s
 * before the attempt's start-to-close or the activity's schedule-to-close timeout, whichever comes first, so the
 * caller's `onTimeout()` failure (e.g. `DeliveryPending`) is what the workflow sees, never a TimeoutFailure.
 * @throws `onTimeout()` (default: retryable `WaitTimeout`) when the check is still unsatisfied after `timeoutMs`;
 *   whatever `check` throws, unchanged, at once.
 * @example
 *   const block = await waitFor(async () => { const bn = await pc.getBlockNumber({ cacheTime: 0 }); return bn >= min ? bn : undefined; },
 *     { timeoutMs: 10_000, intervalMs: 50, what: `alpha: block ≥ ${min}` });
 */
export async function waitFor<T>(check: () => Promise<T | undefined>, opts: WaitForOptions): Promise<T> {
  const activity = currentActivity();
  const startedMs = Date.now();
  const deadlineMs = Math.min(startedMs + opts.timeoutMs, activity ? activityDeadlineMs(activity.info) - ACTIVITY_MARGIN_MS : Infinity);
  let intervalMs = opts.intervalMs;
  for (let checks = 1; ; checks++) {
    const value = await check();
    if (value !== undefined) return value;
    const leftMs = deadlineMs - Date.now();
    if (leftMs <= 0) {
      throw opts.onTimeout?.() ?? ApplicationFailure.retryable(`${opts.what}: not reached within ${Date.now() - startedMs} ms (${checks} checks)`, 'WaitTimeout');
    }
    const pauseMs = Math.max(1, Math.min(intervalMs, leftMs));
    if (opts.backoff) intervalMs = Math.min(intervalMs * opts.backoff.factor, opts.backoff.maxIntervalMs);
    if (activity) {
      // The leg journal rides along (activities/legJournal.ts): a wait never blanks the leg's own transaction.
      activity.heartbeat({ ...legJournalDetails(), waitingFor: opts.what, elapsedMs: Date.now() - startedMs, checks });
      await activity.sleep(pauseMs);
    } else {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * The delivery waits' in-activity poll (LayerZero `awaitDelivery`, `awaitCreditDelivery`, the Wormhole VAA fetch):
 * first check at once, then 50 ms pauses growing ×1.25 up to 1 s, for up to 20 s before the retryable
 * `DeliveryPending` / `VaaPending` hands the wait back to the workflow's retry policy. On the devnet a delivery is
 * seen ~0–250 ms after it lands (the relayer polls every 250 ms); on mainnet, where a delivery takes minutes, it
 * costs ~30 reads per 20 s attempt.
 */
export const DELIVERY_POLL = { timeoutMs: 20_000, intervalMs: 50, backoff: { factor: 1.25, maxIntervalMs: 1_000 } } as const satisfies Omit<WaitForOptions, 'what'>;
