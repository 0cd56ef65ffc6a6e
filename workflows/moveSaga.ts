/**
 * The one saga of every move the keeper makes, whatever it moves (collateral tokens or lending capacity) and
 * over whichever bridge:
 *
 *   debit ─► send ─► deliver ─► credit                                          → completed
 *   compensations, pushed as legs succeed, run in reverse on failure:
 *     after debit:   undo the debit on the source                (only until the send took it)
 *     after deliver: return over the same bridge, deliver it back, credit the source
 *   deliver has no compensation: it waits until the deadline, then the saga ends `stranded` with the
 *   message located. A compensation that fails is never swallowed: `stranded`.
 *
 * A move kind ({@link MoveKind}) supplies its legs (collateral: withdraw / send / deliver / deposit, with
 * redeposit and return-deposit; capacity: reserve / send / deliver / apply, with restore and return-apply),
 * its ledger accounts and its locate. The kinds are workflows/rebalance.ts and workflows/capacity.ts; a new
 * move kind is one new adapter, not a new saga.
 *
 * The invariant, for every saga: the outcome label matches what the chains show —
 * - `completed`: the amount is credited at the destination;
 * - `compensated`: the amount is back where it started on the source (or never left it);
 * - `stranded`: the amount is exactly where the location (`locate`) says, and the in-flight message, if any,
 *   is the one the result names (the return's, once a return was sent);
 * and no leg key moves funds twice (the activities check the chain before acting; see activities/).
 *
 * The ledger is reconciled with the chains after every step (workflows/saga.ts {@link SagaSteps}). A
 * reconciliation that DISAGREES stops the saga (`stranded`, accounts named). A reconciliation that cannot be
 * read (the audit activity failing past its deadline: RPC outage, stale node) is a different fact from the leg
 * it follows: it is recorded (`unauditedSteps`, metric) and never picks the outcome — the legs' own results do.
 * Before the first leg, an audit that cannot be read stops the saga with nothing moved (`compensated`).
 *
 * A write leg whose outcome is UNKNOWN after its retries (its transaction signed and maybe still landing: a receipt
 * or confirmation timeout) is not a failed leg: the saga calls it again through the settling policy
 * (workflows/saga.ts `settlingWrites`: each attempt settles the leg's own journaled transaction first) and, if it is
 * still unknown at the deadline, ends `stranded` naming it — never `compensated` on a guess.
 *
 * Deterministic: no I/O here, only activities and workflow APIs.
 */
import { log } from '@temporalio/workflow';
import type { Hex } from 'viem';
import type { RebalanceOutcome } from '../activities/types.js';
import { addFee, inflightAccount, type LedgerEntry } from '../ledger/ledger.js';
import { AuditUnavailableError, failureMessage, LedgerMismatchError, LegUnsettledError, settlingWrites, unsettledType, writesFor, type SagaSteps } from './saga.js';

/** The write activities as the saga hands them to a kind's leg: the normal policy, or the settling one. */
export type WriteProxy = ReturnType<typeof writesFor>;

/** Which message of a move: the move itself, or the compensation sending delivered funds back. */
export type MovePurpose = 'forward' | 'return';

/** What a leg or compensation on one chain returns, as far as the saga needs it. */
export interface StepOutcome {
  /** EVM transaction hash or Solana signature (absent when the leg was already done). */
  txHash?: string;
  alreadyDone?: boolean;
  /** The block (EVM) or slot (Solana) the step reached on its chain. */
  blockNumber: bigint;
}

/** A message the saga sent: `id` is its ledger in-flight id (LayerZero GUID or Wormhole message id). */
export interface SentMessage {
  id: string;
}

/** What a send returns: the message, its fee and the block it reached on the sending chain. */
export type SendOutcome<M extends SentMessage> = StepOutcome & { message: M; feeWei: bigint };

/** The legs of a move kind, by role (the leg names are the kind's own, e.g. `withdraw` for `debit`). */
export interface MoveLegNames<Leg extends string> {
  debit: Leg;
  undoDebit: Leg;
  credit: Leg;
  returnCredit: Leg;
}

/**
 * A move kind: what the one saga needs to know about what it moves. Every function calls activities only.
 * - `accounts`: the ledger accounts: `held(c)` where the amount rests on chain `c` (vault / borrowLimit),
 *   `debited(c)` where a debit puts it before the send (route / reservation), `arrived(c)` where a delivery
 *   puts it (route / pending credit).
 * - `debit()` / `undoDebit()` on the source; `credit(purpose)` on the destination (`forward`) or back on the
 *   source (`return`); `send(purpose)` from the source (`forward`) or the destination (`return`);
 *   `deliver(purpose, m)` waits for `m` (bounded by the delivery deadline) and redeems it where needed.
 * - `describe(m)`: the message in a reason (e.g. `GUID 0x…`).
 */
export interface MoveKind<Leg extends string, M extends SentMessage> {
  names: MoveLegNames<Leg>;
  accounts: { held(chain: string): string; debited(chain: string): string; arrived(chain: string): string };
  /** The write legs take the proxy to call their activity through (`w`): the saga may call them again to settle. */
  debit(w: WriteProxy): Promise<StepOutcome>;
  undoDebit(w: WriteProxy): Promise<StepOutcome>;
  send(purpose: MovePurpose, w: WriteProxy): Promise<SendOutcome<M>>;
  deliver(purpose: MovePurpose, m: M): Promise<StepOutcome>;
  credit(purpose: MovePurpose, w: WriteProxy): Promise<StepOutcome>;
  describe(m: M): string;
}

/** How a move ended, before the kind turns it into its result (and reads the location of a stranded one). */
export interface MoveEnd<M extends SentMessage> {
  outcome: RebalanceOutcome;
  reason?: string;
  ledgerMismatch?: string;
  /** The forward message, once sent. */
  forward?: M;
  /** The return message, once sent. */
  back?: M;
  /**
   * The message whose delivery was not seen when the saga stopped (the one in flight on the bridge):
   * the forward message when its delivery failed, the return when the return's delivery failed.
   */
  undelivered?: M;
}

/**
 * Runs the saga of one move over `saga` (its ledger opened by the caller) and says how it ended. Never throws
 * for a failed leg: the outcome says what happened. The caller locates a `stranded` move's funds (by
 * `undelivered`, else `back`, else `forward`) and records the outcome.
 * @param deliveryDeadlineSec only quoted in the stranded reason (the kind's `deliver` applies it).
 */
export async function runMoveSaga<Leg extends string, M extends SentMessage>(
  saga: SagaSteps<Leg | 'send' | 'deliver' | 'return' | 'return-deliver'>,
  kind: MoveKind<Leg, M>,
  move: { from: string; to: string; amount: bigint; deliveryDeadlineSec: number; rebalanceId: Hex; settleDeadlineSec?: number; heartbeatTimeoutSec?: number },
): Promise<MoveEnd<M>> {
  const { from, to, amount } = move;
  const { names, accounts } = kind;
  const w = writesFor(move.heartbeatTimeoutSec);
  const patient = settlingWrites(move.settleDeadlineSec, move.heartbeatTimeoutSec);
  /**
   * Runs a write leg; when it failed with its outcome unknown (a transaction that may still land), runs it again
   * through the settling policy — which settles the leg's own journaled transaction — instead of calling it failed.
   * @throws LegUnsettledError when it is still unknown at the settle deadline; the leg's failure otherwise.
   */
  const settled = async <T>(leg: string, call: (w: WriteProxy) => Promise<T>): Promise<T> => {
    try {
      return await call(w);
    } catch (err) {
      if (!unsettledType(err)) throw err;
      log.warn('leg outcome unknown after its retries; settling it', { rebalanceId: move.rebalanceId, leg, reason: failureMessage(err) });
      try {
        return await call(patient);
      } catch (again) {
        if (unsettledType(again)) throw new LegUnsettledError(leg, failureMessage(again));
        throw again;
      }
    }
  };
  const end: MoveEnd<M> = { outcome: 'completed' };
  const entry = (step: string, fromAcct: string, toAcct: string): LedgerEntry => ({ step, from: fromAcct, to: toAcct, amount });

  const sendLeg = async (purpose: MovePurpose): Promise<M> => {
    const leg = purpose === 'forward' ? 'send' : 'return';
    const [src, source] = purpose === 'forward' ? [from, accounts.debited(from)] : [to, accounts.arrived(to)];
    const r = await saga.step(leg, purpose === 'forward' ? 'leg' : 'compensation', () => settled(leg, (w) => kind.send(purpose, w)), (x) => entry(leg, source, inflightAccount(x.message.id)), (x) => [src, x.blockNumber]);
    saga.ledger = addFee(saga.ledger, r.feeWei);
    return r.message;
  };
  const deliverLeg = (purpose: MovePurpose, m: M) => {
    const leg = purpose === 'forward' ? 'deliver' : 'return-deliver';
    const dst = purpose === 'forward' ? to : from;
    return saga.step(leg, purpose === 'forward' ? 'leg' : 'compensation', () => kind.deliver(purpose, m), () => entry(leg, inflightAccount(m.id), accounts.arrived(dst)), (r) => [dst, r.blockNumber]);
  };
  const creditLeg = (purpose: MovePurpose) => {
    const [leg, chain] = purpose === 'forward' ? [names.credit, to] : [names.returnCredit, from];
    const e = entry(leg, accounts.arrived(chain), accounts.held(chain));
    return saga.step(leg, purpose === 'forward' ? 'leg' : 'compensation', () => settled(leg, (w) => kind.credit(purpose, w)), () => e, (r) => [chain, r.blockNumber], e);
  };
  const undoEntry = entry(names.undoDebit, accounts.debited(from), accounts.held(from));
  const undoDebit = () => saga.step(names.undoDebit, 'compensation', () => settled(names.undoDebit, (w) => kind.undoDebit(w)), () => undoEntry, (r) => [from, r.blockNumber], undoEntry);
  const returnOverBridge = async () => {
    end.back = await sendLeg('return');
    try {
      await deliverLeg('return', end.back);
    } catch (err) {
      if (!(err instanceof LedgerMismatchError)) end.undelivered = end.back;
      throw err;
    }
    await creditLeg('return');
  };

  const stranded = (reason: string, ledgerMismatch?: string): MoveEnd<M> => ({ ...end, outcome: 'stranded', reason, ledgerMismatch });
  const compensations: { leg: string; run: () => Promise<unknown> }[] = [];
  try {
    try {
      await saga.audited('open');
    } catch (err) {
      if (err instanceof AuditUnavailableError) return { outcome: 'compensated', reason: `nothing moved: ${err.message}` };
      throw err;
    }
    const debitEntry = entry(names.debit, accounts.held(from), accounts.debited(from));
    await saga.step(names.debit, 'leg', () => settled(names.debit, (w) => kind.debit(w)), () => debitEntry, (r) => [from, r.blockNumber], debitEntry);
    compensations.unshift({ leg: names.undoDebit, run: undoDebit });

    end.forward = await sendLeg('forward');
    // The message took the debited amount: undoing the debit on the source is no longer possible.
    compensations.length = 0;

    try {
      await deliverLeg('forward', end.forward);
    } catch (err) {
      if (err instanceof LedgerMismatchError) throw err;
      end.undelivered = end.forward;
      return stranded(`delivery of ${kind.describe(end.forward)} not seen within ${move.deliveryDeadlineSec}s: ${failureMessage(err)}`);
    }

    compensations.unshift({ leg: 'return', run: returnOverBridge });
    await creditLeg('forward');
    return end;
  } catch (err) {
    if (err instanceof LedgerMismatchError) return stranded(err.message, err.message);
    // A leg whose transaction may still land is not a failed leg: nothing is compensated on a guess.
    if (err instanceof LegUnsettledError) return stranded(err.summary);
    const reason = failureMessage(err);
    log.warn('leg failed; compensating', { rebalanceId: move.rebalanceId, reason });
    for (const c of compensations) {
      try {
        await c.run();
      } catch (compErr) {
        if (compErr instanceof LedgerMismatchError) return stranded(compErr.message, compErr.message);
        return stranded(`${reason}; compensation ${c.leg} failed: ${compErr instanceof LegUnsettledError ? compErr.summary : failureMessage(compErr)}`);
      }
    }
    return { ...end, outcome: 'compensated', reason };
  }
}
