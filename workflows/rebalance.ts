/**
 * `rebalanceWorkflow`: one move as a saga.
 *
 *   withdraw ─► send ─► deliver ─► deposit                      → completed
 *   compensations, pushed as legs succeed, run in reverse on failure:
 *     after withdraw: redeposit into the source vault
 *     after deliver:  return over the same bridge, then deposit into the source vault
 *   deliver has no compensation: it retries until the deadline, then the saga ends `stranded`
 *   with the funds located by GUID. A compensation that fails is never swallowed: `stranded`.
 *
 * Deterministic: no I/O here, only activities, timers and workflow APIs.
 */
import { ActivityFailure, TimeoutFailure, getExternalWorkflowHandle, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { rebalanceFinishedSignal, rebalanceProgressQuery } from './messages.js';
import type { LegRecord, RebalanceInput, RebalanceResult } from './types.js';

/** Writes: a revert is final (the saga decides); transport errors retry a few times. */
const writes = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['ContractRevert', 'PacketMismatch', 'ConfigError'] },
});

/** Bookkeeping activities: cheap, retried generously. */
const books = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

/** Why an activity failed, in one line (the innermost cause's message). */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof TimeoutFailure) return `timed out (${e.timeoutType})`;
  return e instanceof Error ? e.message : String(e);
}

export async function rebalanceWorkflow(input: RebalanceInput): Promise<RebalanceResult> {
  const startedAtMs = Date.now(); // workflow time: deterministic
  const legs: LegRecord[] = [];
  let result: RebalanceResult | undefined;
  setHandler(rebalanceProgressQuery, () => ({ legs, result }));

  /** Waits for delivery: the activity throws `DeliveryPending` until the packet executes; retry is the loop. */
  const deliveryWait = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: `${input.deliveryDeadlineSec} seconds`,
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 1.5, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['ConfigError'] },
  });

  const { rebalanceId, from, to, amount } = input;
  let feePaidWei = 0n;
  let guid: RebalanceResult['guid'];
  let nonce: bigint | undefined;

  async function step<T extends object>(leg: LegRecord['leg'], kind: LegRecord['kind'], fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      const w = r as { txHash?: `0x${string}`; alreadyDone?: boolean };
      legs.push({ leg, kind, status: 'ok', txHash: w.txHash, alreadyDone: w.alreadyDone, atMs: Date.now() });
      return r;
    } catch (err) {
      legs.push({ leg, kind, status: 'failed', error: failureMessage(err), atMs: Date.now() });
      throw err;
    }
  }

  const finish = async (outcome: RebalanceResult['outcome'], reason?: string, fundsLocation?: RebalanceResult['fundsLocation']): Promise<RebalanceResult> => {
    const durationSec = Math.round((Date.now() - startedAtMs) / 1000);
    result = { rebalanceId, outcome, from, to, amount, legs, guid, nonce, feePaidWei, reason, fundsLocation, durationSec };
    await books.recordOutcome({ rebalanceId, from, to, amount, outcome, reason, durationSec, guid });
    if (input.monitorWorkflowId) {
      try {
        await getExternalWorkflowHandle(input.monitorWorkflowId).signal(rebalanceFinishedSignal, { rebalanceId, outcome });
      } catch (err) {
        log.warn('could not notify the monitor', { monitor: input.monitorWorkflowId, error: failureMessage(err) });
      }
    }
    return result;
  };

  await books.recordStarted({ rebalanceId, from, to, amount });
  const compensations: { leg: LegRecord['leg']; run: () => Promise<unknown> }[] = [];

  try {
    await step('withdraw', 'leg', () => writes.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: from, amount }));
    compensations.unshift({ leg: 'redeposit', run: () => writes.depositToVault({ rebalanceId, purpose: 'redeposit', chainKey: from, amount }) });

    const sent = await step('send', 'leg', () => writes.sendOverBridge({ rebalanceId, purpose: 'forward', from, to, amount }));
    guid = sent.guid;
    nonce = sent.nonce;
    feePaidWei += sent.nativeFeeWei;
    // The tokens left the source route (burned): redepositing there is no longer possible.
    compensations.length = 0;

    try {
      await step('deliver', 'leg', () => deliveryWait.awaitDelivery({ from, to, guid: sent.guid, nonce: sent.nonce }));
    } catch (err) {
      const where = await books.locateFunds({ from, to, guid: sent.guid, nonce: sent.nonce });
      return await finish('stranded', `delivery of GUID ${sent.guid} not seen within ${input.deliveryDeadlineSec}s: ${failureMessage(err)}`, where);
    }

    compensations.unshift({
      leg: 'return',
      run: async () => {
        const back = await step('return', 'compensation', () => writes.sendOverBridge({ rebalanceId, purpose: 'return', from: to, to: from, amount }));
        feePaidWei += back.nativeFeeWei;
        await step('return-deliver', 'compensation', () => deliveryWait.awaitDelivery({ from: to, to: from, guid: back.guid, nonce: back.nonce }));
        await step('return-deposit', 'compensation', () => writes.depositToVault({ rebalanceId, purpose: 'return-deposit', chainKey: from, amount }));
      },
    });

    await step('deposit', 'leg', () => writes.depositToVault({ rebalanceId, purpose: 'forward', chainKey: to, amount }));
    return await finish('completed');
  } catch (err) {
    const reason = failureMessage(err);
    log.warn('leg failed; compensating', { rebalanceId, reason });
    for (const c of compensations) {
      try {
        if (c.leg === 'return') await c.run();
        else await step(c.leg, 'compensation', c.run as () => Promise<object>);
      } catch (compErr) {
        const where = await books.locateFunds({ from, to, guid, nonce });
        return await finish('stranded', `${reason}; compensation ${c.leg} failed: ${failureMessage(compErr)}`, where);
      }
    }
    return await finish('compensated', reason);
  }
}
