/**
 * `capacityMoveWorkflow`: one capacity move (lending capacity as credit, no tokens) as a saga, with the
 * shape and guarantees of `rebalanceWorkflow` (workflows/rebalance.ts):
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
import { addFee, inflightAccount, postedDeliveries, type Ledger } from '../ledger/ledger.js';
import { deriveCapacityFromChain, limitAccount, openCapacityLedger, pendingAccount, reservedAccount } from '../ledger/credit.js';
import { rebalanceFinishedSignal } from './messages.js';
import { audit, books, deliveryWaitFor, failureMessage, LedgerMismatchError, SagaSteps, writes, type StepRecord } from './saga.js';

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
  let result: CapacityMoveResult | undefined;
  let forward: Sent | undefined;
  let back: Sent | undefined;
  const saga = new SagaSteps<CapacityLeg>(rebalanceId, openCapacityLedger(from, amount), async (minBlocks, ledger) => {
    const { facts } = await audit.observeCapacityFunds({ rebalanceId, from, to, amount, minBlocks });
    return deriveCapacityFromChain(facts, { postedDeliveries: postedDeliveries(ledger) });
  });
  setHandler(capacityProgressQuery, () => ({ legs: saga.legs, result, ledger: saga.ledger }));
  const deliveryWait = deliveryWaitFor(input.deliveryDeadlineSec, bridge === 'wormhole' ? input.vaaPollIntervalMs : undefined);

  /** Sends `purpose`'s message from `src` to `dst` over the saga's bridge; `account` is where the credit leaves from. */
  const send = async (leg: 'send' | 'return', kind: CapacityLegRecord['kind'], src: string, dst: string, account: string): Promise<Sent> => {
    const purpose = leg === 'send' ? 'forward' : 'return';
    if (bridge === 'wormhole') {
      const r = await saga.step(leg, kind, () => writes.sendCreditWormhole({ rebalanceId, purpose, from: src, to: dst, amount }), (x) => ({ step: leg, from: account, to: inflightAccount(x.messageId), amount }), (x) => [src, x.blockNumber]);
      saga.ledger = addFee(saga.ledger, r.feeWei);
      return { bridge, id: r.messageId, emitterChain: r.emitterChain, emitter: r.emitter, sequence: r.sequence };
    }
    const r = await saga.step(leg, kind, () => writes.sendCredit({ rebalanceId, purpose, from: src, to: dst, amount }), (x) => ({ step: leg, from: account, to: inflightAccount(x.guid), amount }), (x) => [src, x.blockNumber]);
    saga.ledger = addFee(saga.ledger, r.nativeFeeWei);
    return { bridge, id: r.guid, guid: r.guid, nonce: r.nonce };
  };

  /** Waits for `m` to arrive on `dst` (LayerZero: executed; Wormhole: VAA fetched, verified, redeemed); credit then pending there. */
  const deliver = (leg: 'deliver' | 'return-deliver', kind: CapacityLegRecord['kind'], m: Sent, src: string, dst: string) =>
    saga.step(
      leg,
      kind,
      async (): Promise<{ txHash?: string; alreadyDone?: boolean; blockNumber: bigint }> => {
        if (m.bridge === 'layerzero') {
          const d = await deliveryWait.awaitCreditDelivery({ from: src, to: dst, guid: m.guid, nonce: m.nonce });
          return { txHash: d.txHash, blockNumber: d.deliveredAtBlock };
        }
        const purpose = leg === 'deliver' ? 'forward' : 'return';
        const vaa = await deliveryWait.fetchCreditVaa({ rebalanceId, purpose, from: src, to: dst, emitterChain: m.emitterChain, emitter: m.emitter, sequence: m.sequence });
        return writes.redeemCreditVaa({ rebalanceId, purpose, chainKey: dst, vaa: vaa.vaa, from: src });
      },
      () => ({ step: leg, from: inflightAccount(m.id), to: pendingAccount(dst), amount }),
      (r) => [dst, r.blockNumber],
    );

  const restore = () =>
    saga.step('restore', 'compensation', () => writes.restoreCredit({ rebalanceId, chainKey: from }), () => ({ step: 'restore', from: reservedAccount(from), to: limitAccount(from), amount }), (r) => [from, r.blockNumber]);

  const returnOverBridge = async () => {
    back = await send('return', 'compensation', to, from, pendingAccount(to));
    await deliver('return-deliver', 'compensation', back, to, from);
    await saga.step('return-apply', 'compensation', () => writes.applyCredit({ rebalanceId, purpose: 'return', chainKey: from }), () => ({ step: 'return-apply', from: pendingAccount(from), to: limitAccount(from), amount }), (r) => [from, r.blockNumber]);
  };

  const finish = async (outcome: RebalanceOutcome, reason?: string, creditLocation?: CreditLocation, ledgerMismatch?: string): Promise<CapacityMoveResult> => {
    const durationSec = Math.round((Date.now() - startedAtMs) / 1000);
    const feePaidWei = saga.ledger.feesPaidWei;
    result = { kind: 'capacity', rebalanceId, outcome, from, to, amount, bridge, legs: saga.legs, messageId: forward?.id, nonce: forward?.bridge === 'layerzero' ? forward.nonce : undefined, returnMessageId: back?.id, feePaidWei, reason, creditLocation, durationSec, ledger: saga.ledger, ledgerMismatch };
    const messageIds = [forward?.id, back?.id].filter((x): x is string => x !== undefined);
    await books.recordCapacityOutcome({ rebalanceId, from, to, amount, bridge, outcome, reason, durationSec, messageIds, where: creditLocation?.summary });
    if (input.monitorWorkflowId) {
      try {
        await getExternalWorkflowHandle(input.monitorWorkflowId).signal(rebalanceFinishedSignal, { rebalanceId, outcome, ledgerMismatch, feePaidWei });
      } catch (err) {
        log.warn('could not notify the monitor', { monitor: input.monitorWorkflowId, error: failureMessage(err) });
      }
    }
    return result;
  };

  /** Ends `stranded` with the credit located (or the reason it could not be: never silently). */
  const stranded = async (reason: string, ledgerMismatch?: string) => {
    try {
      const where = await books.locateCredit({ rebalanceId, from, to });
      return await finish('stranded', reason, where, ledgerMismatch);
    } catch (err) {
      return await finish('stranded', `${reason}; the credit could not be located: ${failureMessage(err)}`, undefined, ledgerMismatch);
    }
  };

  await books.recordCapacityStarted({ rebalanceId, from, to, amount, bridge });
  const compensations: { leg: CapacityLeg; run: () => Promise<unknown> }[] = [];
  try {
    await saga.audited('open');
    await saga.step('reserve', 'leg', () => writes.reserveCredit({ rebalanceId, chainKey: from, amount }), () => ({ step: 'reserve', from: limitAccount(from), to: reservedAccount(from), amount }), (r) => [from, r.blockNumber]);
    compensations.unshift({ leg: 'restore', run: restore });

    forward = await send('send', 'leg', from, to, reservedAccount(from));
    // The messenger took the reservation: restoring it is no longer possible (returning it is, once delivered).
    compensations.length = 0;

    try {
      await deliver('deliver', 'leg', forward, from, to);
    } catch (err) {
      if (err instanceof LedgerMismatchError) throw err;
      return await stranded(`delivery of capacity message ${forward.id} not done within ${input.deliveryDeadlineSec}s: ${failureMessage(err)}`);
    }

    compensations.unshift({ leg: 'return', run: returnOverBridge });
    await saga.step('apply', 'leg', () => writes.applyCredit({ rebalanceId, purpose: 'forward', chainKey: to }), () => ({ step: 'apply', from: pendingAccount(to), to: limitAccount(to), amount }), (r) => [to, r.blockNumber]);
    return await finish('completed');
  } catch (err) {
    if (err instanceof LedgerMismatchError) return stranded(err.message, err.message);
    const reason = failureMessage(err);
    log.warn('capacity leg failed; compensating', { rebalanceId, reason });
    for (const c of compensations) {
      try {
        await c.run();
      } catch (compErr) {
        if (compErr instanceof LedgerMismatchError) return stranded(compErr.message, compErr.message);
        return await stranded(`${reason}; compensation ${c.leg} failed: ${failureMessage(compErr)}`);
      }
    }
    return await finish('compensated', reason);
  }
}
