/**
 * The capacity ledger: double-entry bookkeeping of a capacity move (lending capacity, no tokens),
 * to the base unit, on the same `Ledger` shape and functions as the funds ledger (ledger/ledger.ts:
 * `post`, `checkBalanced`, `reconcile`, `postedDeliveries`, `describeMismatches` all apply unchanged).
 *
 * Accounts (per capacity move):
 *   `limit:<chain>`      capacity in a chain's vault `borrowLimit` that belongs to this move
 *   `reserved:<chain>`   reserved in a chain's vault for its messenger, not sent nor restored
 *   `inflight:<guid>`    sent by a messenger as LayerZero message `guid`, not delivered yet
 *   `pending:<chain>`    delivered to a chain's messenger, not applied nor returned
 *
 * Steps (one entry each): reserve (limit:from → reserved:from), restore (reserved:from → limit:from),
 * send (reserved:from → inflight:guid), deliver (inflight:guid → pending:to), apply (pending:to → limit:to);
 * compensation of apply: return (pending:to → inflight:guid'), return-deliver (inflight:guid' →
 * pending:from), return-apply (pending:from → limit:from).
 *
 * Deployment-wide (`checkCapacityConservation`): Σ borrowLimit + Σ reserved + (Σ messenger sent − Σ
 * received) + Σ pending + Σ orphaned = the opening capacity. Pure: no I/O; safe in workflows.
 */
import { inflightAccount, type Ledger } from './ledger.js';

export const limitAccount = (chain: string): string => `limit:${chain}`;
export const reservedAccount = (chain: string): string => `reserved:${chain}`;
export const pendingAccount = (chain: string): string => `pending:${chain}`;

/** Opens a capacity ledger with `amount` in `limit:<from>`. @throws RangeError when amount ≤ 0. */
export function openCapacityLedger(from: string, amount: bigint): Ledger {
  if (amount <= 0n) throw new RangeError(`capacity ledger: opening amount must be > 0 (got ${amount})`);
  return { opening: amount, balances: { [limitAccount(from)]: amount }, entries: [], feesPaidWei: 0n };
}

/** Status names as the contracts number them (see chains/evm/credit.ts). */
type ReservationStatus = 'none' | 'reserved' | 'sent' | 'restored';
type PendingStatus = 'none' | 'pending' | 'applied' | 'returned';

/**
 * What the chains record about one capacity move (amounts base units; 0 / `none` when it did not happen).
 * Keys: the forward move uses the rebalance id; the return uses `legKey(id, 'return')`.
 */
export interface CapacityChainFacts {
  from: string;
  to: string;
  amount: bigint;
  /** `vault[from].creditReservations(id)`. */
  reservation: { amount: bigint; status: ReservationStatus };
  /** `messenger[from].sends(id)` (undefined when not sent). */
  sent?: { amount: bigint; guid: string };
  /** `messenger[to].pendingCredit(id)`: any status but `none` means the forward message was delivered. */
  pendingAtDestination: { amount: bigint; status: PendingStatus };
  /** `vault[to].appliedCreditOf(id)`. */
  applied: bigint;
  /** `messenger[to].sends(key(id,'return'))`. */
  returned?: { amount: bigint; guid: string };
  /** `messenger[from].pendingCredit(key(id,'return'))`. */
  pendingAtSource: { amount: bigint; status: PendingStatus };
  /** `vault[from].appliedCreditOf(key(id,'return'))`. */
  returnApplied: bigint;
}

/**
 * The capacity ledger balances implied by chain state alone (see {@link CapacityChainFacts}).
 * With `postedDeliveries` (the ledger's `postedDeliveries(ledger)`), a delivery the saga has not
 * posted yet counts as still in flight: the chain being ahead by a delivery is not a mismatch.
 */
export function deriveCapacityFromChain(f: CapacityChainFacts, opts: { postedDeliveries?: readonly string[] } = {}): Record<string, bigint> {
  const posted = opts.postedDeliveries?.map((g) => g.toLowerCase());
  const counted = (x: { guid: string } | undefined, arrived: boolean) => arrived && !!x && (posted === undefined || posted.includes(x.guid.toLowerCase()));
  const reserved = f.reservation.status === 'none' ? 0n : f.reservation.amount;
  const restored = f.reservation.status === 'restored' ? f.reservation.amount : 0n;
  const sentAmt = f.sent?.amount ?? 0n;
  const fwdDelivered = counted(f.sent, f.pendingAtDestination.status !== 'none') ? sentAmt : 0n;
  const retAmt = f.returned?.amount ?? 0n;
  const retDelivered = counted(f.returned, f.pendingAtSource.status !== 'none') ? retAmt : 0n;
  const b: Record<string, bigint> = {
    [limitAccount(f.from)]: f.amount - reserved + restored + f.returnApplied,
    [reservedAccount(f.from)]: reserved - restored - sentAmt,
    [pendingAccount(f.to)]: fwdDelivered - f.applied - retAmt,
    [limitAccount(f.to)]: f.applied,
    [pendingAccount(f.from)]: retDelivered - f.returnApplied,
  };
  if (f.sent) b[inflightAccount(f.sent.guid)] = sentAmt - fwdDelivered;
  if (f.returned) b[inflightAccount(f.returned.guid)] = retAmt - retDelivered;
  return b;
}

/** One chain's capacity figures at one block (vault and its messenger). */
export interface CapacityChainTotals {
  chainKey: string;
  /** Vault `borrowLimit`. */
  borrowLimit: bigint;
  /** Vault `reservedCredit`. */
  reservedCredit: bigint;
  /** Messenger `totalSent` (cumulative). */
  sent: bigint;
  /** Messenger `totalReceived` (cumulative, orphans included). */
  received: bigint;
  /** Messenger `totalPending` (now). */
  pending: bigint;
  /** Messenger `totalOrphaned` (now). */
  orphaned: bigint;
}

/** Result of {@link checkCapacityConservation}. */
export interface CapacityConservation {
  /** Σ borrowLimit + Σ reserved + in flight + Σ pending + Σ orphaned. */
  total: bigint;
  borrowLimits: bigint;
  reserved: bigint;
  /** Σ sent − Σ received over the messengers. */
  inFlight: bigint;
  pending: bigint;
  orphaned: bigint;
  /** The opening capacity (this check's total when none was given). */
  opening: bigint;
  balanced: boolean;
  /** `total − opening`. */
  diff: bigint;
  /** What is wrong, to the base unit, when not balanced. */
  where?: string;
}

/**
 * Capacity conservation across the deployment: Σ borrowLimit + Σ reserved + (Σ sent − Σ received) +
 * Σ pending + Σ orphaned = `opening`, to the base unit. Read every chain when no capacity move is
 * mid-step (chains are read at different blocks). Only the admin's `setBorrowLimit` changes the total.
 * @param opening the deployment's opening capacity; omitted → this total (the first check opens it).
 * @throws RangeError on a duplicate chain or negative figures (a corrupt read, never silently summed).
 * @example
 *   checkCapacityConservation([a, b], 20_000_000n).balanced; // true while no capacity was created or lost
 */
export function checkCapacityConservation(chains: readonly CapacityChainTotals[], opening?: bigint): CapacityConservation {
  const seen = new Set<string>();
  let borrowLimits = 0n;
  let reserved = 0n;
  let sent = 0n;
  let received = 0n;
  let pending = 0n;
  let orphaned = 0n;
  for (const c of chains) {
    if (seen.has(c.chainKey)) throw new RangeError(`capacity conservation: chain "${c.chainKey}" appears twice; pass one reading per chain`);
    seen.add(c.chainKey);
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === 'bigint' && v < 0n) throw new RangeError(`capacity conservation: ${c.chainKey}.${k} is negative (${v}); the reading is corrupt`);
    }
    borrowLimits += c.borrowLimit;
    reserved += c.reservedCredit;
    sent += c.sent;
    received += c.received;
    pending += c.pending;
    orphaned += c.orphaned;
  }
  const inFlight = sent - received;
  const total = borrowLimits + reserved + inFlight + pending + orphaned;
  const open = opening ?? total;
  const diff = total - open;
  const balanced = diff === 0n;
  const where = balanced
    ? undefined
    : `borrow limits ${chains.map((c) => `${c.chainKey}=${c.borrowLimit}`).join(' ')} + reserved ${reserved} + in flight ${inFlight} + pending ${pending} + orphaned ${orphaned} = ${total}, opening ${open} (diff ${diff})`;
  return { total, borrowLimits, reserved, inFlight, pending, orphaned, opening: open, balanced, diff, where };
}
