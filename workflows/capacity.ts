/**
 * `capacityMoveWorkflow`: one capacity move (lending capacity as credit, no tokens) as the one saga of
 * workflows/moveSaga.ts, with the shape and guarantees of `rebalanceWorkflow` (workflows/rebalance.ts):
 *
 *   reserve ─► send ─► deliver ─► apply                                      → completed
 *   compensations, pushed as legs succeed, run in reverse on failure:
 *     after reserve: restore the reservation into the source's borrowLimit   (only until the send took it)
 *     after deliver: return over the same bridge, deliver it back, apply it on the source (purpose `return`)
 *   deliver has no compensation: it waits until the deadline, then the saga ends `stranded` with the
 *   credit located. A compensation that fails is never swallowed: `stranded`.
 *
 * Bridges: LayerZero (`sendCredit`, then `awaitCreditDelivery` until the relayer executed the message) or
 * Wormhole (`sendCreditWormhole`, then `fetchCreditVaa` until the guardians serve a VAA that verifies
 * keeper-side, then `redeemCreditVaa` on the destination).
 *
 * The capacity ledger (ledger/credit.ts: accounts `limit:`, `reserved:`, `inflight:<guid | Wormhole id>`,
 * `pending:`) is posted by every leg and compensation and reconciled with the chains after every step
 * (`observeCapacityFunds` + `deriveCapacityFromChain`); a disagreement stops the saga at once (`stranded`,
 * the accounts named) and tells the monitor, which stops new moves. The monitor is told the outcome with the
 * same `rebalanceFinished` signal as a collateral saga.
 *
 * Deterministic: no I/O here, only activities, timers and workflow APIs.
 */
import { defineQuery, getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import type { Hex } from 'viem';
import type { CreditLocation } from '../activities/capacity.js';
import type { RebalanceOutcome } from '../activities/types.js';
import { postedDeliveries, type Ledger } from '../ledger/ledger.js';
import { deriveCapacityFromChain, limitAccount, openCapacityLedger, pendingAccount, reservedAccount } from '../ledger/credit.js';
import { rebalanceFinishedSignal } from './messages.js';
import { auditFor, bookkeeping, books, deliveryWaitFor, failureMessage, SagaSteps, writesFor, type StepRecord } from './saga.js';
import { runMoveSaga, type MoveKind } from './moveSaga.js';

/** Input of {@link capacityMoveWorkflow}. */
export interface CapacityMoveInput {
  /** The move's id (planner/rebalanceId.ts `capacityMoveId`); also the workflow id and the on-chain key. */
  rebalanceId: Hex;
  /** Chain giving capacity (its borrowLimit goes down). */
  from: string;
  /** Chain taking capacity (its borrowLimit goes up). */
  to: string;
  /** Lending capacity, base units. */
  amount: bigint;
  reason: string;
  /** The bridge the credit message goes over; default `layerzero`. */
  bridge?: 'layerzero' | 'wormhole';
  /** How long `deliver` (and a compensation's delivery) waits before the saga escalates, seconds. */
  deliveryDeadlineSec: number;
  /** Wormhole: how often a VAA not served yet is asked for again, ms (default 500, growing). */
  vaaPollIntervalMs?: number;
  /** Workflow id of the monitor to notify at the end (optional: a move can be started by hand). */
  monitorWorkflowId?: string;
  /** How long one ledger reconciliation may retry before it counts as unavailable, seconds (default 600). */
  auditDeadlineSec?: number;
  /** How long a write leg whose outcome is unknown is settled before the saga ends `stranded`, seconds (default 600). */
  settleDeadlineSec?: number;
  /** Heartbeat timeout of the saga's write and delivery activities, seconds (default 10). */
  heartbeatTimeoutSec?: number;
}

/** The legs and compensations of a capacity move. */
export type CapacityLeg = 'reserve' | 'send' | 'deliver' | 'apply' | 'restore' | 'return' | 'return-deliver' | 'return-apply';

/** One leg or compensation of a capacity move as it happened. */
export type CapacityLegRecord = StepRecord<CapacityLeg>;

/** The result of {@link capacityMoveWorkflow}. */
export interface CapacityMoveResult {
  kind: 'capacity';
  rebalanceId: Hex;
  outcome: RebalanceOutcome;
  from: string;
  to: string;
  /** Base units of lending capacity. */
  amount: bigint;
  bridge: 'layerzero' | 'wormhole';
  legs: CapacityLegRecord[];
  /** The forward message: LayerZero GUID, or `wormhole/<chain>/<emitter>/<sequence>`. */
  messageId?: string;
  /** LayerZero outbound nonce of the forward message. */
  nonce?: bigint;
  /** The compensation's return message, when one was sent. */
  returnMessageId?: string;
  /** Native fees paid over every message of this saga, wei. */
  feePaidWei: bigint;
  /** Why the saga did not complete (compensated and stranded). */
  reason?: string;
  /** Where the credit is, for a stranded saga (undefined when it could not be read; the reason says so). */
  creditLocation?: CreditLocation;
  durationSec: number;
  /** The capacity ledger at the end: where every base unit of `amount` is. */
  ledger: Ledger;
  /** Set when the ledger disagreed with the chain: which accounts, expected vs observed. */
  ledgerMismatch?: string;
  /** Steps after which the ledger could not be read back from the chains (the outcome stands on the legs). */
  unauditedSteps?: string[];
}

/** A capacity move's progress: legs so far, its ledger, and the result once ended (same query name as a rebalance's). */
export const capacityProgressQuery = defineQuery<{ legs: CapacityLegRecord[]; result?: CapacityMoveResult; ledger: Ledger }>('progress');

/** A message sent by this saga: its ledger id, and what the matching delivery wait needs. */
type Sent =
  | { bridge: 'layerzero'; id: string; guid: Hex; nonce: bigint }
  | { bridge: 'wormhole'; id: string; emitterChain: number; emitter: Hex; sequence: bigint };

/** Runs one capacity move; see the module doc. Never throws for a failed leg: the outcome says what happened. */
export async function capacityMoveWorkflow(input: CapacityMoveInput): Promise<CapacityMoveResult> {
  const startedAtMs = Date.now(); // workflow time: deterministic
  const { rebalanceId, from, to, amount } = input;
  const bridge = input.bridge ?? 'layerzero';
  /** The result once the saga ended (the progress query reads it). */
  const ended: { result?: CapacityMoveResult } = {};
  const audit = auditFor(input.auditDeadlineSec, input.heartbeatTimeoutSec);
  const saga = new SagaSteps<CapacityLeg>(
    rebalanceId,
    openCapacityLedger(from, amount),
    async (minBlocks, ledger) => {
      const { facts } = await audit.observeCapacityFunds({ rebalanceId, from, to, amount, minBlocks });
      return deriveCapacityFromChain(facts, { postedDeliveries: postedDeliveries(ledger) });
    },
    'capacity',
  );
  setHandler(capacityProgressQuery, () => ({ legs: saga.legs, result: ended.result, ledger: saga.ledger }));
  const deliveryWait = deliveryWaitFor(input.deliveryDeadlineSec, bridge === 'wormhole' ? input.vaaPollIntervalMs : undefined, input.heartbeatTimeoutSec);
  const redeem = writesFor(input.heartbeatTimeoutSec);
  const ends = (purpose: 'forward' | 'return') => (purpose === 'forward' ? { src: from, dst: to } : { src: to, dst: from });

  const capacity: MoveKind<CapacityLeg, Sent> = {
    names: { debit: 'reserve', undoDebit: 'restore', credit: 'apply', returnCredit: 'return-apply' },
    accounts: { held: limitAccount, debited: reservedAccount, arrived: pendingAccount },
    debit: (w) => w.reserveCredit({ rebalanceId, chainKey: from, amount }),
    undoDebit: (w) => w.restoreCredit({ rebalanceId, chainKey: from }),
    async send(purpose, w) {
      const { src, dst } = ends(purpose);
      if (bridge === 'wormhole') {
        const r = await w.sendCreditWormhole({ rebalanceId, purpose, from: src, to: dst, amount });
        return { ...r, feeWei: r.feeWei, message: { bridge, id: r.messageId, emitterChain: r.emitterChain, emitter: r.emitter, sequence: r.sequence } };
      }
      const r = await w.sendCredit({ rebalanceId, purpose, from: src, to: dst, amount });
      return { ...r, feeWei: r.nativeFeeWei, message: { bridge, id: r.guid, guid: r.guid, nonce: r.nonce } };
    },
    /** LayerZero: executed on the destination; Wormhole: VAA fetched, verified keeper-side, redeemed. Credit then pending there. */
    async deliver(purpose, m) {
      const { src, dst } = ends(purpose);
      if (m.bridge === 'layerzero') {
        const d = await deliveryWait.awaitCreditDelivery({ from: src, to: dst, guid: m.guid, nonce: m.nonce });
        return { txHash: d.txHash, blockNumber: d.deliveredAtBlock };
      }
      const vaa = await deliveryWait.fetchCreditVaa({ rebalanceId, purpose, from: src, to: dst, emitterChain: m.emitterChain, emitter: m.emitter, sequence: m.sequence });
      return redeem.redeemCreditVaa({ rebalanceId, purpose, chainKey: dst, vaa: vaa.vaa, from: src });
    },
    credit: (purpose, w) => w.applyCredit({ rebalanceId, purpose, chainKey: purpose === 'forward' ? to : from }),
    describe: (m) => `capacity message ${m.id}`,
  };

  const record = bookkeeping();
  await record.recordCapacityStarted({ rebalanceId, from, to, amount, bridge });
  const end = await runMoveSaga(saga, capacity, input);
  const { forward, back, outcome, ledgerMismatch } = end;
  let reason = end.reason;
  let creditLocation: CreditLocation | undefined;
  if (outcome === 'stranded') {
    try {
      // Reads every record of both messages (forward and return) on both chains.
      creditLocation = await books.locateCredit({ rebalanceId, from, to });
    } catch (err) {
      reason = `${reason}; the credit could not be located: ${failureMessage(err)}`;
    }
  }
  const durationSec = Math.round((Date.now() - startedAtMs) / 1000);
  const feePaidWei = saga.ledger.feesPaidWei;
  const result: CapacityMoveResult = {
    kind: 'capacity',
    rebalanceId,
    outcome,
    from,
    to,
    amount,
    bridge,
    legs: saga.legs,
    messageId: forward?.id,
    nonce: forward?.bridge === 'layerzero' ? forward.nonce : undefined,
    returnMessageId: back?.id,
    feePaidWei,
    reason,
    creditLocation,
    durationSec,
    ledger: saga.ledger,
    ledgerMismatch,
    ...(saga.unaudited.length > 0 ? { unauditedSteps: saga.unaudited.map((u) => u.after) } : {}),
  };
  ended.result = result;
  const messageIds = [forward?.id, back?.id].filter((x): x is string => x !== undefined);
  await record.recordCapacityOutcome({ rebalanceId, from, to, amount, bridge, outcome, reason, durationSec, messageIds, where: creditLocation?.summary });
  if (input.monitorWorkflowId) {
    try {
      await getExternalWorkflowHandle(input.monitorWorkflowId).signal(rebalanceFinishedSignal, { rebalanceId, outcome, ledgerMismatch, feePaidWei });
    } catch (err) {
      log.warn('could not notify the monitor', { monitor: input.monitorWorkflowId, error: failureMessage(err) });
    }
  }
  return result;
}
