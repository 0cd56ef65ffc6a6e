/**
 * `rebalanceWorkflow`: one collateral move (tokens) as the one saga of workflows/moveSaga.ts:
 *
 *   withdraw ─► send ─► deliver ─► deposit                      → completed
 *   compensations, pushed as legs succeed, run in reverse on failure:
 *     after withdraw: redeposit into the source vault
 *     after deliver:  return over the same bridge, then deposit into the source vault
 *   deliver has no compensation: it retries until the deadline, then the saga ends `stranded`
 *   with the funds located by the message in flight (the return's, once a return was sent): GUID (LayerZero)
 *   or VAA id (Wormhole).
 *   `input.bridge` picks the bridge of the send, the delivery and the return: `layerzero` (LayerZero v2 OFT,
 *   delivered by the executor) or `wormhole` (the adapter publishes; the keeper fetches, verifies and redeems
 *   the VAA as the deliver leg). A compensation that fails is never swallowed: `stranded`.
 *
 * The funds ledger (ledger/ledger.ts: accounts `vault:`, `route:`, `inflight:<guid>`) is posted by every leg and
 * compensation and reconciled with the chains after every step; a disagreement stops the saga at once
 * (`stranded`, exact accounts named) and tells the monitor, which stops new rebalances. An audit that cannot
 * read the chains never picks the outcome (moveSaga.ts).
 *
 * Deterministic: no I/O here, only activities, timers and workflow APIs.
 */
import { getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import type { Hex } from 'viem';
import { deriveFromChain, openLedger, postedDeliveries, routeAccount, vaultAccount } from '../ledger/ledger.js';
import { rebalanceFinishedSignal, rebalanceProgressQuery } from './messages.js';
import type { LegRecord, RebalanceInput, RebalanceResult } from './types.js';
import { auditFor, bookkeeping, books, deliveryWaitFor, failureMessage, SagaSteps } from './saga.js';
import { runMoveSaga, type MoveEnd, type MoveKind, type MovePurpose } from './moveSaga.js';

export { failureMessage };

/** A collateral message: LayerZero GUID and nonce, or the Wormhole message id and sequence; the send's leg key. */
interface CollateralMessage {
  id: Hex;
  guid: Hex;
  nonce: bigint;
  legKey: Hex;
}

export async function rebalanceWorkflow(input: RebalanceInput): Promise<RebalanceResult> {
  const startedAtMs = Date.now(); // workflow time: deterministic
  const { rebalanceId, from, to, amount } = input;
  /** Both the move and its return go over this bridge (absent in inputs from before Wormhole: LayerZero). */
  const bridge = input.bridge ?? 'layerzero';
  const audit = auditFor(input.auditDeadlineSec, input.heartbeatTimeoutSec);
  const saga = new SagaSteps<LegRecord['leg']>(
    rebalanceId,
    openLedger(from, amount),
    async (minBlocks, ledger) => {
      const { facts } = await audit.observeRebalanceFunds({ rebalanceId, from, to, amount, minBlocks, bridge });
      return deriveFromChain(facts, { postedDeliveries: postedDeliveries(ledger) });
    },
    'collateral',
  );
  /** The result once the saga ended (the progress query reads it). */
  const ended: { result?: RebalanceResult } = {};
  setHandler(rebalanceProgressQuery, () => ({ legs: saga.legs, result: ended.result, ledger: saga.ledger }));
  /** The delivery wait: `DeliveryPending` until delivered (a Wormhole delivery also redeems: heartbeats keep it honest). */
  const deliveryWait = deliveryWaitFor(input.deliveryDeadlineSec, undefined, input.heartbeatTimeoutSec);
  const ends = (purpose: MovePurpose) => (purpose === 'forward' ? { src: from, dst: to } : { src: to, dst: from });

  const collateral: MoveKind<LegRecord['leg'], CollateralMessage> = {
    names: { debit: 'withdraw', undoDebit: 'redeposit', credit: 'deposit', returnCredit: 'return-deposit' },
    accounts: { held: vaultAccount, debited: routeAccount, arrived: routeAccount },
    debit: (w) => w.withdrawFromVault({ rebalanceId, purpose: 'forward', chainKey: from, amount }),
    undoDebit: (w) => w.depositToVault({ rebalanceId, purpose: 'redeposit', chainKey: from, amount }),
    async send(purpose, w) {
      const { src, dst } = ends(purpose);
      const r = await w.sendOverBridge({ rebalanceId, purpose, from: src, to: dst, amount, bridge });
      return { ...r, feeWei: r.nativeFeeWei, message: { id: r.guid, guid: r.guid, nonce: r.nonce, legKey: r.legKey } };
    },
    async deliver(purpose, m) {
      const { src, dst } = ends(purpose);
      const d = await deliveryWait.awaitDelivery({ from: src, to: dst, guid: m.guid, nonce: m.nonce, bridge, key: m.legKey });
      return { txHash: d.txHash, blockNumber: d.deliveredAtBlock };
    },
    credit: (purpose, w) => w.depositToVault({ rebalanceId, purpose: purpose === 'forward' ? 'forward' : 'return-deposit', chainKey: purpose === 'forward' ? to : from, amount }),
    describe: (m) => `GUID ${m.guid}`,
  };

  const record = bookkeeping();
  await record.recordStarted({ rebalanceId, from, to, amount, bridge });
  const end: MoveEnd<CollateralMessage> = await runMoveSaga(saga, collateral, input);

  // The message a stranded saga's funds may be in: the undelivered one, else the newest sent (the return's once sent).
  const inFlight = end.undelivered ?? end.back ?? end.forward;
  const returned = inFlight !== undefined && inFlight === end.back;
  const inFlightEnds = returned ? ends('return') : ends('forward');
  let fundsLocation: RebalanceResult['fundsLocation'];
  let reason = end.reason;
  if (end.outcome === 'stranded') {
    try {
      fundsLocation = await books.locateFunds({ from, to, guid: inFlight?.guid, nonce: inFlight?.nonce, bridge, key: inFlight?.legKey ?? rebalanceId, ...(returned ? { returned } : {}) });
    } catch (err) {
      reason = `${reason}; the funds could not be located: ${failureMessage(err)}`;
    }
  }
  const durationSec = Math.round((Date.now() - startedAtMs) / 1000);
  const { outcome, ledgerMismatch } = end;
  const result: RebalanceResult = {
    rebalanceId,
    outcome,
    from,
    to,
    amount,
    legs: saga.legs,
    bridge,
    guid: end.forward?.guid,
    nonce: end.forward?.nonce,
    ...(end.back ? { returnGuid: end.back.guid, returnNonce: end.back.nonce } : {}),
    feePaidWei: saga.ledger.feesPaidWei,
    reason,
    fundsLocation,
    durationSec,
    ledger: saga.ledger,
    ledgerMismatch,
    ...(saga.unaudited.length > 0 ? { unauditedSteps: saga.unaudited.map((u) => u.after) } : {}),
  };
  ended.result = result;
  await record.recordOutcome({ rebalanceId, from, to, amount, outcome, reason, durationSec, guid: end.forward?.guid, bridge });
  if (input.monitorWorkflowId) {
    try {
      await getExternalWorkflowHandle(input.monitorWorkflowId).signal(rebalanceFinishedSignal, {
        rebalanceId,
        outcome,
        ledgerMismatch,
        feePaidWei: saga.ledger.feesPaidWei,
        stranded: outcome === 'stranded' && inFlight !== undefined ? { rebalanceId, from: inFlightEnds.src, to: inFlightEnds.dst, amount, guid: inFlight.guid, nonce: inFlight.nonce, bridge, ...(returned ? { key: inFlight.legKey } : {}) } : undefined,
      });
    } catch (err) {
      log.warn('could not notify the monitor', { monitor: input.monitorWorkflowId, error: failureMessage(err) });
    }
  }
  return result;
}
