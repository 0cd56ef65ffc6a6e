/**
 * What the keeper's sagas share (`rebalanceWorkflow`: collateral, `capacityMoveWorkflow`: lending capacity):
 * the activity proxies with their retry policies, {@link failureMessage}, {@link LedgerMismatchError}, and
 * {@link SagaSteps}, the step pattern: run one leg or compensation, record it, post its ledger entry when it
 * succeeded, and reconcile the ledger with the chains after it whether it succeeded or not.
 *
 * Deterministic: no I/O here, only activities and workflow APIs.
 */
import { ActivityFailure, ApplicationFailure, TemporalFailure, TimeoutFailure, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Hex } from 'viem';
import type { Activities } from '../activities/index.js';
import { checkBalanced, describeMismatches, post, reconcile, type Ledger, type LedgerEntry, type LedgerMismatch } from '../ledger/ledger.js';

/** Default heartbeat timeout of the saga's write and delivery activities, seconds (they heartbeat every second). */
export const DEFAULT_HEARTBEAT_TIMEOUT_SEC = 10;

/**
 * Writes: a revert is final (the saga decides); transport errors retry a few times.
 * @param heartbeatTimeoutSec how soon a killed worker's running leg is retried elsewhere (default 10 s).
 */
export function writesFor(heartbeatTimeoutSec: number = DEFAULT_HEARTBEAT_TIMEOUT_SEC) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    // The write activities heartbeat every second: a killed worker is noticed in 10 s, not 2 minutes.
    heartbeatTimeout: `${heartbeatTimeoutSec} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['ContractRevert', 'PacketMismatch', 'ConfigError'] },
  });
}


/**
 * Failure types that leave a write's outcome UNKNOWN: its transaction was signed and may still land (a receipt or
 * confirmation that did not come in time; a revert that cannot be judged while the keeper's transactions are
 * pending). A leg failing with one of these after the writes policy's attempts is not a failed leg: see
 * {@link settlingWrites}.
 */
export const UNSETTLED_FAILURE_TYPES = ['ReceiptTimeoutError', 'SolanaConfirmTimeoutError', 'WritePending'] as const;

/** Default bound on settling a write whose outcome is unknown, seconds. */
export const DEFAULT_SETTLE_DEADLINE_SEC = 600;

/**
 * The writes again, for a leg whose outcome is unknown after the writes policy gave up: retried without an attempt
 * cap for up to `deadlineSec` (each attempt first settles the leg's own journaled transaction, activities/legJournal.ts),
 * so the saga never labels a leg failed while its transaction may still land.
 */
export function settlingWrites(deadlineSec: number = DEFAULT_SETTLE_DEADLINE_SEC, heartbeatTimeoutSec: number = DEFAULT_HEARTBEAT_TIMEOUT_SEC) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: `${heartbeatTimeoutSec} seconds`,
    scheduleToCloseTimeout: `${deadlineSec} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['ContractRevert', 'PacketMismatch', 'ConfigError'] },
  });
}

/** The innermost failure's type when it is one of {@link UNSETTLED_FAILURE_TYPES}. */
export function unsettledType(err: unknown): string | undefined {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  const type = e instanceof ApplicationFailure ? e.type : undefined;
  return type && (UNSETTLED_FAILURE_TYPES as readonly string[]).includes(type) ? type : undefined;
}

/**
 * A leg whose outcome is still unknown at the settle deadline: the saga stops, `stranded`, never `compensated`.
 * When the audit right after it finds the leg's own effect on the chains (its transaction landed after all),
 * {@link SagaSteps.step} posts the leg's entry and sets `landed`; `summary` says so.
 */
export class LegUnsettledError extends Error {
  /** Set by the audit after the leg: true when the chains show the leg done (its entry posted), false when not. */
  landed?: boolean;
  constructor(
    readonly leg: string,
    readonly reason: string,
  ) {
    super(`${leg}: outcome unknown (its transaction may still land): ${reason}`);
  }

  /** The message with what the audit after the leg found, when it could read the chains (the saga's stranded reason). */
  get summary(): string {
    if (this.landed === undefined) return this.message;
    return `${this.message}; the chains show it ${this.landed ? 'done (landed after the settle deadline; its ledger entry posted)' : 'not done as of the audit'}`;
  }
}

/** Bookkeeping activities: cheap, retried generously. */
export const books = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

/**
 * The bookkeeping of a saga's start and end (metrics, a log line: no chain I/O) as LOCAL activities: run in the
 * workflow task that schedules them, without a round trip through the server (two workflow tasks fewer per saga).
 * Sagas started before this existed replay with {@link books} (`patched('bookkeeping-local-activities')`).
 */
export const localBooks = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

/** The proxy for a saga's start/end bookkeeping: local activities, except when replaying a saga from before them. */
export function bookkeeping(): typeof books {
  return patched('bookkeeping-local-activities') ? localBooks : books;
}

/** Default bound on one ledger reconciliation read, retries included (stale nodes, RPC outages), seconds. */
export const DEFAULT_AUDIT_DEADLINE_SEC = 600;

/** The saga's ledger reconciliation reads (the audit after each step). */
export type AuditReads = Pick<Activities, 'observeRebalanceFunds' | 'observeCapacityFunds'>;

/** The audit retry policy's first interval, ms, doubling up to {@link AUDIT_MAX_INTERVAL_MS}. */
export const AUDIT_INITIAL_INTERVAL_MS = 500;
/** The audit retry policy's longest interval, ms. */
export const AUDIT_MAX_INTERVAL_MS = 15_000;

/**
 * How many attempts the audit retry policy needs for its waits between attempts to cover `deadlineSec`
 * (500 ms doubling to 15 s: 0.5 + 1 + 2 + 4 + 8 + 15 + 15 + … ≥ deadlineSec). Pure.
 */
export function auditAttemptsWithin(deadlineSec: number): number {
  let waitedMs = 0;
  let intervalMs = AUDIT_INITIAL_INTERVAL_MS;
  let attempts = 1;
  while (waitedMs < deadlineSec * 1000) {
    waitedMs += intervalMs;
    intervalMs = Math.min(intervalMs * 2, AUDIT_MAX_INTERVAL_MS);
    attempts++;
  }
  return attempts;
}

/**
 * Ledger reconciliation reads, retried (stale nodes, RPC outages) for up to `deadlineSec` in all; past it the audit is
 * unavailable (see {@link SagaSteps.audited}), never a leg failure.
 *
 * New sagas (`patched('audit-local-activities')`) run them as LOCAL activities: the audit after a leg runs inside the
 * workflow task that the leg's completion starts, without a round trip through the server (10 workflow tasks per
 * completed saga → 6). They are reads, so at-least-once is fine: a worker killed mid-audit is noticed by the workflow
 * task timeout and another worker replays the saga and reads again. The retry policy is Temporal's (500 ms doubling
 * to 15 s); waits longer than a second run on a workflow timer (`localRetryThreshold`), not in the worker. The
 * deadline is bounded twice: by the attempts whose waits cover it ({@link auditAttemptsWithin}: workflow time, which
 * Temporal's time-skipping test server skips) and by the schedule-to-close (the worker's clock, which it cannot skip:
 * alone, an audit outage of 30 s took 30 s of wall time per test case).
 *
 * Sagas started before replay with remote activities (schedule-to-close `deadlineSec`) that heartbeat every second: a
 * worker killed mid-audit is retried on another after `heartbeatTimeoutSec`, not after the 30 s start-to-close (which,
 * over a short audit deadline, made the audit at open unavailable: found by
 * `npm run chaos -- --seed 58 --block-time 2 --workers 2`).
 */
export function auditFor(deadlineSec: number = DEFAULT_AUDIT_DEADLINE_SEC, heartbeatTimeoutSec: number = DEFAULT_HEARTBEAT_TIMEOUT_SEC): AuditReads {
  if (patched('audit-local-activities')) {
    return proxyLocalActivities<Activities>({
      startToCloseTimeout: '30 seconds',
      scheduleToCloseTimeout: `${deadlineSec} seconds`,
      localRetryThreshold: '1 second',
      retry: {
        initialInterval: `${AUDIT_INITIAL_INTERVAL_MS} milliseconds`,
        backoffCoefficient: 2,
        maximumInterval: `${AUDIT_MAX_INTERVAL_MS} milliseconds`,
        maximumAttempts: auditAttemptsWithin(deadlineSec),
      },
    });
  }
  return remoteAudits(deadlineSec, heartbeatTimeoutSec);
}

/** The audits as remote activities (sagas started before `audit-local-activities`). */
function remoteAudits(deadlineSec: number, heartbeatTimeoutSec: number): AuditReads {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    heartbeatTimeout: `${heartbeatTimeoutSec} seconds`,
    scheduleToCloseTimeout: `${deadlineSec} seconds`,
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds' },
  });
}


/**
 * A delivery wait: the activity throws a retryable "not yet" (`DeliveryPending`, `VaaPending`) until the
 * message arrives, and the retry policy is the loop, bounded by `deadlineSec` (schedule-to-close).
 * @param deadlineSec how long to wait in all, seconds.
 * @param pollMs first retry interval, ms (default 500; grows ×1.5 up to max(10 s, pollMs)).
 */
export function deliveryWaitFor(deadlineSec: number, pollMs = 500, heartbeatTimeoutSec: number = DEFAULT_HEARTBEAT_TIMEOUT_SEC) {
  return proxyActivities<Activities>({
    // A Wormhole delivery also submits the VAA (a write with its receipt wait): heartbeats keep it honest.
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: `${heartbeatTimeoutSec} seconds`,
    scheduleToCloseTimeout: `${deadlineSec} seconds`,
    retry: { initialInterval: `${pollMs} milliseconds`, backoffCoefficient: 1.5, maximumInterval: `${Math.max(10_000, pollMs)} milliseconds`, nonRetryableErrorTypes: ['ConfigError'] },
  });
}

/** Why an activity failed, in one line (the innermost cause's message). */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof TimeoutFailure) return `timed out (${e.timeoutType})`;
  return e instanceof Error ? e.message : String(e);
}

/** The ledger disagrees with the chain: the saga stops acting. */
export class LedgerMismatchError extends Error {
  constructor(
    readonly step: string,
    readonly mismatches: LedgerMismatch[],
  ) {
    super(`ledger mismatch after ${step}: ${describeMismatches(mismatches)}`);
  }
}

/**
 * The ledger could not be read back from the chains (the audit activity failed past its deadline). Thrown only
 * by an audit that must read (before the first leg); after a leg it is recorded, never a leg failure.
 */
export class AuditUnavailableError extends Error {
  constructor(
    readonly step: string,
    /** Why the chains could not be read (the audit activity's innermost failure). */
    readonly reason: string,
  ) {
    super(`the ledger audit at ${step} could not read the chains: ${reason}`);
  }
}

/** A reconciliation that could not be read: after which step, and why. */
export interface UnauditedStep {
  after: string;
  error: string;
}

/** One leg or compensation of a saga as it happened (`Leg`: the saga's leg names). */
export interface StepRecord<Leg extends string> {
  leg: Leg;
  kind: 'leg' | 'compensation';
  status: 'ok' | 'failed';
  /** EVM transaction hash or Solana signature. */
  txHash?: string;
  alreadyDone?: boolean;
  error?: string;
  atMs: number;
}

/**
 * The step pattern of a saga over its ledger. `observe(minBlocks, ledger)` returns the balances the chains
 * imply for this saga's accounts, read at blocks no older than `minBlocks` (the newest block any step
 * reached per chain), given the ledger as posted so far (deliveries it has not posted count as in flight).
 */
export class SagaSteps<Leg extends string> {
  /** Every leg and compensation run so far, in order. */
  readonly legs: StepRecord<Leg>[] = [];
  /** Per chain, the newest block a step of this saga reached: reconciliation never reads older state. */
  readonly minBlocks: Record<string, bigint> = {};
  /** Reconciliations that could not be read (the outcome stands on the legs' own results). */
  readonly unaudited: UnauditedStep[] = [];

  constructor(
    readonly rebalanceId: Hex,
    /** The saga's ledger (replaced by every posted entry and fee). */
    public ledger: Ledger,
    private readonly observe: (minBlocks: Record<string, bigint>, ledger: Ledger) => Promise<Record<string, bigint>>,
    /** The move kind, for the audit-unavailable report (`collateral` | `capacity`). */
    private readonly kind: 'collateral' | 'capacity' = 'collateral',
  ) {}

  /** Records that a step of the saga reached `block` on `chainKey`. */
  seen(chainKey: string, block: bigint | undefined): void {
    if (block !== undefined && (this.minBlocks[chainKey] === undefined || block > this.minBlocks[chainKey]!)) this.minBlocks[chainKey] = block;
  }

  /**
   * Reconciles the ledger with the chains. On any difference: `reportLedgerMismatch` (metric, log) and
   * @throws LedgerMismatchError (the saga stops acting), naming the accounts, expected vs observed.
   * When the chains cannot be read (the audit activity failed past its deadline) the audit is recorded in
   * {@link unaudited} and reported (`reportAuditUnavailable`: metric, log) and the saga goes on: an audit that
   * cannot complete never decides a leg's outcome. Only `after === 'open'` (nothing done yet) throws
   * {@link AuditUnavailableError} for it, so that no leg starts unaudited.
   */
  async audited(after: string): Promise<void> {
    const bal = checkBalanced(this.ledger);
    if (!bal.balanced) throw new LedgerMismatchError(after, [{ account: '(sum of accounts)', expected: this.ledger.opening, observed: bal.total }]);
    const observed = await this.readChains(after);
    if (observed === undefined) return;
    const mismatches = reconcile(this.ledger.balances, observed);
    if (mismatches.length > 0) {
      await books.reportLedgerMismatch({ rebalanceId: this.rebalanceId, step: after, mismatches });
      throw new LedgerMismatchError(after, mismatches);
    }
  }

  /**
   * Reads the balances the chains imply for the ledger's accounts, for the audit after `after`.
   * @returns undefined when the chains cannot be read (the audit activity failed past its deadline): recorded in
   *   {@link unaudited} and reported (`reportAuditUnavailable`).
   * @throws AuditUnavailableError for that case at `open` (no leg starts unaudited).
   */
  private async readChains(after: string): Promise<Record<string, bigint> | undefined> {
    try {
      return await this.observe({ ...this.minBlocks }, this.ledger);
    } catch (err) {
      // An activity's failure (remote audits), or a local audit's own failure: the chains could not be read.
      if (!(err instanceof TemporalFailure)) throw err;
      const error = failureMessage(err);
      this.unaudited.push({ after, error });
      await books.reportAuditUnavailable({ rebalanceId: this.rebalanceId, kind: this.kind, step: after, error });
      if (after === 'open') throw new AuditUnavailableError(after, error);
      return undefined;
    }
  }

  /**
   * The audit after a leg whose outcome is unknown ({@link LegUnsettledError}): the chains either agree with the ledger
   * (the leg did not happen: `err.landed = false`) or with the ledger plus the leg's own entry (its transaction landed
   * after the settle deadline: the entry is posted, `err.landed = true`). Anything else is a mismatch, as in
   * {@link audited}; chains that cannot be read leave `err.landed` unset (recorded as unaudited).
   * @throws LedgerMismatchError when the chains match neither.
   */
  private async auditedUnsettled(after: string, err: LegUnsettledError, landed: LedgerEntry): Promise<void> {
    const observed = await this.readChains(after);
    if (observed === undefined) return;
    if (reconcile(this.ledger.balances, observed).length === 0) {
      err.landed = false;
      return;
    }
    const withLeg = post(this.ledger, landed);
    const mismatches = reconcile(withLeg.balances, observed);
    if (mismatches.length === 0) {
      this.ledger = withLeg;
      err.landed = true;
      return;
    }
    const asIs = reconcile(this.ledger.balances, observed);
    await books.reportLedgerMismatch({ rebalanceId: this.rebalanceId, step: after, mismatches: asIs });
    throw new LedgerMismatchError(after, asIs);
  }

  /**
   * Runs one leg or compensation, records it, posts its ledger entry when it succeeded (and notes the
   * block it reached), and reconciles the ledger with the chains whether it succeeded or not.
   * @throws what `fn` threw (after recording and auditing), or LedgerMismatchError.
   */
  async step<T extends object>(
    leg: Leg,
    kind: StepRecord<Leg>['kind'],
    fn: () => Promise<T>,
    entry: (r: T) => LedgerEntry,
    chainOfBlock: (r: T) => [string, bigint | undefined],
    /** The entry the leg posts when it happened, if it does not depend on its result: lets the audit after an UNSETTLED leg tell whether it landed. */
    entryIfLanded?: LedgerEntry,
  ): Promise<T> {
    let r: T;
    try {
      r = await fn();
    } catch (err) {
      this.legs.push({ leg, kind, status: 'failed', error: failureMessage(err), atMs: Date.now() });
      if (err instanceof LegUnsettledError && entryIfLanded && patched('unsettled-leg-audit')) await this.auditedUnsettled(`${leg} (unsettled)`, err, entryIfLanded);
      else await this.audited(`${leg} (failed)`);
      throw err;
    }
    const w = r as { txHash?: string; alreadyDone?: boolean };
    this.legs.push({ leg, kind, status: 'ok', txHash: w.txHash, alreadyDone: w.alreadyDone, atMs: Date.now() });
    this.ledger = post(this.ledger, entry(r));
    this.seen(...chainOfBlock(r));
    await this.audited(leg);
    return r;
  }
}
