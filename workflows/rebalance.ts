/**
 * `rebalanceWorkflow`: one move as a saga.
 *
 *   withdraw ─► send ─► deliver ─► deposit                      → completed
 *   compensations, pushed as legs succeed, run in reverse on failure:
 *     after withdraw: redeposit into the source vault
 *     after deliver:  return over the same bridge, then deposit into the source vault
 *   deliver has no compensation: it retries until the deadline, then the saga ends `stranded`
 *   with the funds located by GUID (LayerZero) or VAA id (Wormhole).
 *   `input.bridge` picks the bridge of the send, the delivery and the return: `layerzero` (LayerZero v2 OFT,
 *   delivered by the executor) or `wormhole` (the adapter publishes; the keeper fetches, verifies and redeems
 *   the VAA as the deliver leg). A compensation that fails is never swallowed: `stranded`.
 *
 * The funds ledger (ledger/ledger.ts) is posted by every leg and compensation and reconciled with the
 * chains after every step; a disagreement stops the saga at once (`stranded`, exact accounts named) and
 * tells the monitor, which stops new rebalances.
 *
 * Deterministic: no I/O here, only activities, timers and workflow APIs.
 */
import { getExternalWorkflowHandle, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { addFee, checkBalanced, deriveFromChain, inflightAccount, postedDeliveries, openLedger, post, reconcile, routeAccount, vaultAccount, type Ledger, type LedgerEntry } from '../ledger/ledger.js';
import { rebalanceFinishedSignal, rebalanceProgressQuery } from './messages.js';
import type { LegRecord, RebalanceInput, RebalanceResult } from './types.js';
// The activity proxies, failureMessage and LedgerMismatchError are shared with the capacity saga (workflows/saga.ts).
import { audit, books, failureMessage, LedgerMismatchError, writes } from './saga.js';

export { failureMessage };

export async function rebalanceWorkflow(input: RebalanceInput): Promise<RebalanceResult> {
  const startedAtMs = Date.now(); // workflow time: deterministic
  const legs: LegRecord[] = [];
  let result: RebalanceResult | undefined;
  const { rebalanceId, from, to, amount } = input;
  /** Both the move and its return go over this bridge (absent in inputs from before Wormhole: LayerZero). */
  const bridge = input.bridge ?? 'layerzero';
  let ledger: Ledger = openLedger(from, amount);
  /** Per chain, the newest block a step of this saga reached: reconciliation never reads older state. */
  const minBlocks: Record<string, bigint> = {};
  setHandler(rebalanceProgressQuery, () => ({ legs, result, ledger }));

  /** Waits for delivery: the activity throws `DeliveryPending` until the packet executes; retry is the loop. */
  const deliveryWait = proxyActivities<Activities>({
    // A Wormhole delivery also submits the VAA (a write with its receipt wait): heartbeats keep it honest.
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: `${input.deliveryDeadlineSec} seconds`,
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 1.5, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['ConfigError'] },
  });

  let guid: RebalanceResult['guid'];
  let nonce: bigint | undefined;

  const seen = (chainKey: string, block: bigint | undefined) => {
    if (block !== undefined && (minBlocks[chainKey] === undefined || block > minBlocks[chainKey]!)) minBlocks[chainKey] = block;
  };

  /** Reconciles the ledger with the chains; throws LedgerMismatchError (the saga stops) on any difference. */
  async function audited(after: string): Promise<void> {
    const bal = checkBalanced(ledger);
    if (!bal.balanced) throw new LedgerMismatchError(after, [{ account: '(sum of accounts)', expected: ledger.opening, observed: bal.total }]);
    const { facts } = await audit.observeRebalanceFunds({ rebalanceId, from, to, amount, minBlocks, bridge });
    const mismatches = reconcile(ledger.balances, deriveFromChain(facts, { postedDeliveries: postedDeliveries(ledger) }));
    if (mismatches.length > 0) {
      await books.reportLedgerMismatch({ rebalanceId, step: after, mismatches });
      throw new LedgerMismatchError(after, mismatches);
    }
  }

  /**
   * Runs one leg or compensation, records it, posts its ledger entry when it succeeded, and reconciles
   * the ledger with the chains whether it succeeded or not.
   */
  async function step<T extends object>(leg: LegRecord['leg'], kind: LegRecord['kind'], fn: () => Promise<T>, entry: (r: T) => LedgerEntry, chainOfBlock: (r: T) => [string, bigint | undefined]): Promise<T> {
    let r: T;
    try {
      r = await fn();
    } catch (err) {
      legs.push({ leg, kind, status: 'failed', error: failureMessage(err), atMs: Date.now() });
      await audited(`${leg} (failed)`);
      throw err;
    }
    const w = r as { txHash?: string; alreadyDone?: boolean };
    legs.push({ leg, kind, status: 'ok', txHash: w.txHash, alreadyDone: w.alreadyDone, atMs: Date.now() });
    ledger = post(ledger, entry(r));
    seen(...chainOfBlock(r));
    await audited(leg);
    return r;
  }

  const finish = async (outcome: RebalanceResult['outcome'], reason?: string, fundsLocation?: RebalanceResult['fundsLocation'], ledgerMismatch?: string): Promise<RebalanceResult> => {
    const durationSec = Math.round((Date.now() - startedAtMs) / 1000);
    result = { rebalanceId, outcome, from, to, amount, legs, bridge, guid, nonce, feePaidWei: ledger.feesPaidWei, reason, fundsLocation, durationSec, ledger, ledgerMismatch };
    await books.recordOutcome({ rebalanceId, from, to, amount, outcome, reason, durationSec, guid, bridge });
    if (input.monitorWorkflowId) {
      try {
        await getExternalWorkflowHandle(input.monitorWorkflowId).signal(rebalanceFinishedSignal, {
          rebalanceId,
          outcome,
          ledgerMismatch,
          feePaidWei: ledger.feesPaidWei,
          stranded: outcome === 'stranded' && guid !== undefined && nonce !== undefined ? { rebalanceId, from, to, amount, guid, nonce, bridge } : undefined,
        });
      } catch (err) {
        log.warn('could not notify the monitor', { monitor: input.monitorWorkflowId, error: failureMessage(err) });
      }
    }
    return result;
  };

  /**
   * Ends `stranded` with the funds located, or with the reason they could not be (never silently, and never a
   * different outcome: a locate that fails after its retries must not reach the compensation path).
   */
  const stranded = async (reason: string, at: { guid?: RebalanceResult['guid']; nonce?: bigint }, ledgerMismatch?: string) => {
    let where: RebalanceResult['fundsLocation'];
    try {
      where = await books.locateFunds({ from, to, guid: at.guid, nonce: at.nonce, bridge, key: rebalanceId });
    } catch (err) {
      return await finish('stranded', `${reason}; the funds could not be located: ${failureMessage(err)}`, undefined, ledgerMismatch);
    }
    return await finish('stranded', reason, where, ledgerMismatch);
  };
  const strandedByMismatch = (err: LedgerMismatchError) => stranded(err.message, { guid, nonce }, err.message);

  await books.recordStarted({ rebalanceId, from, to, amount, bridge });
  const compensations: { leg: LegRecord['leg']; run: () => Promise<unknown> }[] = [];

  const redeposit = () =>
    step('redeposit', 'compensation', () => writes.depositToVault({ rebalanceId, purpose: 'redeposit', chainKey: from, amount }), () => ({ step: 'redeposit', from: routeAccount(from), to: vaultAccount(from), amount }), (r) => [from, r.blockNumber]);

  const returnOverBridge = async () => {
    const back = await step('return', 'compensation', () => writes.sendOverBridge({ rebalanceId, purpose: 'return', from: to, to: from, amount, bridge }), (r) => ({ step: 'return', from: routeAccount(to), to: inflightAccount(r.guid), amount }), (r) => [to, r.blockNumber]);
    ledger = addFee(ledger, back.nativeFeeWei);
    await step('return-deliver', 'compensation', () => deliveryWait.awaitDelivery({ from: to, to: from, guid: back.guid, nonce: back.nonce, bridge, key: back.legKey }), () => ({ step: 'return-deliver', from: inflightAccount(back.guid), to: routeAccount(from), amount }), (r) => [from, r.deliveredAtBlock]);
    await step('return-deposit', 'compensation', () => writes.depositToVault({ rebalanceId, purpose: 'return-deposit', chainKey: from, amount }), () => ({ step: 'return-deposit', from: routeAccount(from), to: vaultAccount(from), amount }), (r) => [from, r.blockNumber]);
  };

  try {
    await audited('open');
    await step('withdraw', 'leg', () => writes.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: from, amount }), () => ({ step: 'withdraw', from: vaultAccount(from), to: routeAccount(from), amount }), (r) => [from, r.blockNumber]);
    compensations.unshift({ leg: 'redeposit', run: redeposit });

    const sent = await step('send', 'leg', () => writes.sendOverBridge({ rebalanceId, purpose: 'forward', from, to, amount, bridge }), (r) => ({ step: 'send', from: routeAccount(from), to: inflightAccount(r.guid), amount }), (r) => [from, r.blockNumber]);
    guid = sent.guid;
    nonce = sent.nonce;
    ledger = addFee(ledger, sent.nativeFeeWei);
    // The tokens left the source route (burned): redepositing there is no longer possible.
    compensations.length = 0;

    try {
      await step('deliver', 'leg', () => deliveryWait.awaitDelivery({ from, to, guid: sent.guid, nonce: sent.nonce, bridge, key: sent.legKey }), () => ({ step: 'deliver', from: inflightAccount(sent.guid), to: routeAccount(to), amount }), (r) => [to, r.deliveredAtBlock]);
    } catch (err) {
      if (err instanceof LedgerMismatchError) throw err;
      return await stranded(`delivery of GUID ${sent.guid} not seen within ${input.deliveryDeadlineSec}s: ${failureMessage(err)}`, { guid: sent.guid, nonce: sent.nonce });
    }

    compensations.unshift({ leg: 'return', run: returnOverBridge });
    await step('deposit', 'leg', () => writes.depositToVault({ rebalanceId, purpose: 'forward', chainKey: to, amount }), () => ({ step: 'deposit', from: routeAccount(to), to: vaultAccount(to), amount }), (r) => [to, r.blockNumber]);
    return await finish('completed');
  } catch (err) {
    if (err instanceof LedgerMismatchError) return strandedByMismatch(err);
    const reason = failureMessage(err);
    log.warn('leg failed; compensating', { rebalanceId, reason });
    for (const c of compensations) {
      try {
        await c.run();
      } catch (compErr) {
        if (compErr instanceof LedgerMismatchError) return strandedByMismatch(compErr);
        return await stranded(`${reason}; compensation ${c.leg} failed: ${failureMessage(compErr)}`, { guid, nonce });
      }
    }
    return await finish('compensated', reason);
  }
}
