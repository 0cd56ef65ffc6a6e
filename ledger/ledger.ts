/**
 * The funds ledger: double-entry bookkeeping of where a rebalance's tokens are, to the base unit.
 *
 * Accounts (per rebalance; the asset is implied):
 *   `vault:<chain>`       tokens in a chain's vault that belong to this rebalance's flow
 *   `route:<chain>`       tokens sitting in a chain's route contract
 *   `inflight:<guid>`     tokens burned on the source and not yet minted on the destination (LayerZero OFT)
 * Every leg and compensation posts one entry moving `amount` from one account to another, so the sum of
 * balances always equals the opening amount (`checkBalanced`). The same balances can be derived from
 * chain state alone (`deriveFromChain`: the contracts record every action by its key), and
 * `reconcile` says exactly which account disagrees and by how much. Pure: no I/O; safe in workflows.
 *
 * Native bridge fees are paid in ETH, not in the asset: they are recorded in `feesPaidWei`, outside the
 * asset's balance equation (an asset-denominated fee would be an account `fees`).
 */

/** Ledger of one rebalance. Plain data: it crosses the Temporal boundary and lives in workflow state. */
export interface Ledger {
  /** Opening value (base units), all in `vault:<from>`. */
  opening: bigint;
  balances: Record<string, bigint>;
  entries: LedgerEntry[];
  feesPaidWei: bigint;
}

export interface LedgerEntry {
  /** The leg or compensation that moved the funds, e.g. `withdraw`, `redeposit`. */
  step: string;
  from: string;
  to: string;
  amount: bigint;
}

/** A disagreement between the ledger and the chain (or between the ledger and its opening value). */
export interface LedgerMismatch {
  account: string;
  expected: bigint;
  observed: bigint;
}

export const vaultAccount = (chain: string): string => `vault:${chain}`;
export const routeAccount = (chain: string): string => `route:${chain}`;
export const inflightAccount = (guid: string): string => `inflight:${guid.toLowerCase()}`;

/** Opens a ledger with `amount` in `vault:<from>`. @throws RangeError when amount ≤ 0. */
export function openLedger(from: string, amount: bigint): Ledger {
  if (amount <= 0n) throw new RangeError(`ledger: opening amount must be > 0 (got ${amount})`);
  return { opening: amount, balances: { [vaultAccount(from)]: amount }, entries: [], feesPaidWei: 0n };
}

/**
 * Posts one entry (returns a new ledger; the input is not changed).
 * @throws RangeError when `amount` ≤ 0 or when `from` holds less than `amount` (the step would create
 *   funds out of nothing: a bookkeeping bug, never silently accepted).
 */
export function post(ledger: Ledger, e: LedgerEntry): Ledger {
  if (e.amount <= 0n) throw new RangeError(`ledger: ${e.step}: amount must be > 0 (got ${e.amount})`);
  const have = ledger.balances[e.from] ?? 0n;
  if (have < e.amount) throw new RangeError(`ledger: ${e.step}: ${e.from} holds ${have}, cannot move ${e.amount} to ${e.to}`);
  const balances = { ...ledger.balances, [e.from]: have - e.amount, [e.to]: (ledger.balances[e.to] ?? 0n) + e.amount };
  return { ...ledger, balances, entries: [...ledger.entries, e] };
}

/** Adds a native fee (wei) paid by a step. */
export function addFee(ledger: Ledger, feeWei: bigint): Ledger {
  return { ...ledger, feesPaidWei: ledger.feesPaidWei + feeWei };
}

/** Sum of balances vs opening: `{ balanced, total, diff = total − opening }`. */
export function checkBalanced(ledger: Ledger): { balanced: boolean; total: bigint; diff: bigint } {
  const total = Object.values(ledger.balances).reduce((a, b) => a + b, 0n);
  return { balanced: total === ledger.opening, total, diff: total - ledger.opening };
}

/** Non-zero balances only, sorted by account: what a human wants to read. */
export function nonZero(balances: Record<string, bigint>): Record<string, bigint> {
  return Object.fromEntries(Object.entries(balances).filter(([, v]) => v !== 0n).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * What the chains record about one rebalance (all amounts base units; 0 when the action did not happen).
 * Keys: the forward move uses the rebalance id; compensations use `legKey(id, purpose)` (activities/legKey.ts).
 */
export interface RebalanceChainFacts {
  from: string;
  to: string;
  amount: bigint;
  /** `vault[from].outflowOf(id)`. */
  withdrawn: bigint;
  /** `vault[from].inflowOf(key(id,'redeposit'))`. */
  redeposited: bigint;
  /** `route[from].sends(id)`: amount and GUID (undefined when not sent), and whether the destination executed it. */
  sent?: { amount: bigint; guid: string; delivered: boolean };
  /** `vault[to].inflowOf(id)`. */
  deposited: bigint;
  /** `route[to].sends(key(id,'return'))`. */
  returned?: { amount: bigint; guid: string; delivered: boolean };
  /** `vault[from].inflowOf(key(id,'return-deposit'))`. */
  returnDeposited: bigint;
}

/** GUIDs whose delivery the ledger has posted (an entry out of `inflight:<guid>`). */
export function postedDeliveries(ledger: Ledger): string[] {
  return ledger.entries.filter((e) => e.from.startsWith('inflight:')).map((e) => e.from.slice('inflight:'.length));
}

/**
 * The ledger balances implied by chain state alone (see {@link RebalanceChainFacts}).
 * Conservation holds by construction whenever every recorded action moved exactly its amount.
 */
export function deriveFromChain(f: RebalanceChainFacts, opts: { postedDeliveries?: readonly string[] } = {}): Record<string, bigint> {
  // The bridge delivers on its own schedule, so the chain may be AHEAD of the saga's ledger by a delivery
  // the saga has not observed yet. With `postedDeliveries`, a delivery the ledger has not posted counts
  // as still in flight: being ahead is not a mismatch; anything else still is.
  const posted = opts.postedDeliveries?.map((g) => g.toLowerCase());
  const isDelivered = (x?: { guid: string; delivered: boolean }) => !!x?.delivered && (posted === undefined || posted.includes(x.guid.toLowerCase()));
  const sentAmt = f.sent?.amount ?? 0n;
  const fwdDelivered = isDelivered(f.sent) ? sentAmt : 0n;
  const retAmt = f.returned?.amount ?? 0n;
  const retDelivered = isDelivered(f.returned) ? retAmt : 0n;
  const b: Record<string, bigint> = {
    [vaultAccount(f.from)]: f.amount - f.withdrawn + f.redeposited + f.returnDeposited,
    [routeAccount(f.from)]: f.withdrawn - f.redeposited - sentAmt + retDelivered - f.returnDeposited,
    [routeAccount(f.to)]: fwdDelivered - f.deposited - retAmt,
    [vaultAccount(f.to)]: f.deposited,
  };
  if (f.sent) b[inflightAccount(f.sent.guid)] = sentAmt - fwdDelivered;
  if (f.returned) b[inflightAccount(f.returned.guid)] = retAmt - retDelivered;
  return b;
}

/**
 * Compares the ledger's balances with observed ones (every account of either side; a missing account is 0).
 * @returns the accounts that disagree, sorted; empty when the ledger matches the chain to the base unit.
 */
export function reconcile(expected: Record<string, bigint>, observed: Record<string, bigint>): LedgerMismatch[] {
  const accounts = [...new Set([...Object.keys(expected), ...Object.keys(observed)])].sort();
  return accounts
    .map((account) => ({ account, expected: expected[account] ?? 0n, observed: observed[account] ?? 0n }))
    .filter((m) => m.expected !== m.observed);
}

/** One line per mismatch: `route:alpha expected 50000000 observed 0`. */
export function describeMismatches(ms: readonly LedgerMismatch[]): string {
  return ms.map((m) => `${m.account} expected ${m.expected} observed ${m.observed} (diff ${m.observed - m.expected})`).join('; ');
}
