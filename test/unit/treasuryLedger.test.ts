/**
 * The treasury ledger's pure check (ledger/treasury.ts) and its `status --ledger` lines (cli/ledgerReport.ts), on
 * fake readings: balanced after keeper moves, a 1-wei deficit named, a surplus reported without halting, interest and
 * rounding dust reported apart from principal, the allocator counter identity, vault chains, the operator's
 * acknowledgement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTreasuryLedger, type AllocatorReading, type VaultReading } from '../../ledger/treasury.js';
import { treasuryLedgerLines } from '../../cli/ledgerReport.js';

const U = 10n ** 6n;
const INITIAL = 10_000_000n * U;
const MOVED = 1_000_000n * U + 123_457n;

/** An allocator reading with a consistent principal() from its counters (override any field). */
function allocator(chainKey: string, over: Partial<AllocatorReading> = {}): AllocatorReading {
  const a: AllocatorReading = {
    chainKey,
    block: 100n,
    principal: 0n,
    suppliedBalance: 0n,
    cumulativeSupplied: INITIAL,
    cumulativeWithdrawn: 0n,
    cumulativeWithdrawnToRoute: 0n,
    cumulativeDepositedFromRoute: 0n,
    routeBalance: 0n,
    ...over,
  };
  const p = a.cumulativeSupplied - a.cumulativeWithdrawn - (a.cumulativeWithdrawnToRoute - a.cumulativeDepositedFromRoute);
  return { ...a, principal: over.principal ?? (p > 0n ? p : 0n), suppliedBalance: over.suppliedBalance ?? p };
}

/** After one move alpha → beta: alpha earned 55 wei of interest, beta's aTokens rounded 1 wei below principal. */
const afterMove = () => [
  allocator('alpha', { cumulativeWithdrawnToRoute: MOVED, suppliedBalance: INITIAL - MOVED + 55n }),
  allocator('beta', { cumulativeDepositedFromRoute: MOVED, suppliedBalance: INITIAL + MOVED - 1n }),
];

test('balanced after a completed move: principal exact, interest and rounding dust reported per chain, apart from principal', () => {
  const t = checkTreasuryLedger({ allocators: afterMove(), vaults: [], solana: [], inFlightUndelivered: 0n });
  assert.equal(t.balanced, true);
  assert.equal(t.halts, false);
  assert.equal(t.where, undefined);
  assert.deepEqual(t.findings, []);
  const [alpha, beta] = t.allocators;
  assert.deepEqual(
    { principal: alpha!.principal, gain: alpha!.gain, interest: alpha!.interest, dust: alpha!.roundingDust, net: alpha!.keeperNetOutflow },
    { principal: INITIAL - MOVED, gain: 55n, interest: 55n, dust: 0n, net: MOVED },
  );
  assert.deepEqual(
    { principal: beta!.principal, gain: beta!.gain, interest: beta!.interest, dust: beta!.roundingDust, net: beta!.keeperNetOutflow },
    { principal: INITIAL + MOVED, gain: -1n, interest: 0n, dust: -1n, net: -MOVED },
  );
  // suppliedBalance = principal + interest + dust, exactly, on every chain and in total.
  for (const a of t.allocators) assert.equal(a.suppliedBalance, a.principal + a.interest + a.roundingDust);
  assert.deepEqual(t.totals, {
    principal: 2n * INITIAL,
    principalFromCounters: 2n * INITIAL,
    treasuryFlows: 2n * INITIAL,
    keeperNetOutflow: 0n,
    suppliedBalance: 2n * INITIAL + 54n,
    interest: 55n,
    roundingDust: -1n,
  });
  assert.deepEqual(t.keeperFlows, {
    checked: true,
    netOutflow: 0n,
    inRoutes: 0n,
    inFlightUndelivered: 0n,
    acceptedDiff: 0n,
    diff: 0n,
    perChain: [
      { chainKey: 'alpha', netOutflow: MOVED, route: 0n },
      { chainKey: 'beta', netOutflow: -MOVED, route: 0n },
    ],
  });
});

test('tokens between legs (in a route) and stranded in flight are accounted for: balanced', () => {
  const X = 777n * U + 1n;
  const Y = 5n * U;
  const [alpha, beta] = afterMove();
  const allocators = [
    { ...alpha!, cumulativeWithdrawnToRoute: MOVED + X + Y, principal: alpha!.principal - X - Y, routeBalance: X },
    beta!,
  ];
  const t = checkTreasuryLedger({ allocators, vaults: [], solana: [], inFlightUndelivered: Y });
  assert.equal(t.balanced, true, t.where);
  assert.equal(t.keeperFlows.checked && t.keeperFlows.netOutflow, X + Y);
  assert.equal(t.keeperFlows.checked && t.keeperFlows.inRoutes, X);
});

test('off by 1 wei: a route holds 1 base unit less than the keeper sent out: a deficit, named to the base unit, halts', () => {
  const X = 777n * U;
  const [alpha, beta] = afterMove();
  const allocators = [{ ...alpha!, cumulativeWithdrawnToRoute: MOVED + X, principal: alpha!.principal - X, routeBalance: X - 1n }, beta!];
  const t = checkTreasuryLedger({ allocators, vaults: [], solana: [], inFlightUndelivered: 0n });
  assert.equal(t.balanced, false);
  assert.equal(t.halts, true);
  assert.equal(t.findings.length, 1);
  const f = t.findings[0]!;
  assert.equal(f.kind, 'keeper-flow-deficit');
  assert.equal(f.diff, -1n);
  assert.equal(f.halts, true);
  assert.equal(f.chainKey, undefined, 'deployment-wide: a route differs from its chain\'s net outflow by what was bridged');
  assert.match(f.text, /diff -1 \(deficit: 1 base units/);
  assert.match(f.text, new RegExp(`\\[alpha ${MOVED + X}, beta -${MOVED}\\] vs Σ routes ${X - 1n} \\[alpha ${X - 1n}, beta 0\\]`), 'every chain\'s terms are listed');
  assert.equal(t.where, f.text);
  // Interest and dust do not enter the check: the same books with more interest are still 1 wei short, no more.
  const richer = checkTreasuryLedger({ allocators: allocators.map((a) => ({ ...a, suppliedBalance: a.suppliedBalance + 10n ** 9n })), vaults: [], solana: [], inFlightUndelivered: 0n });
  assert.equal(richer.findings[0]!.diff, -1n);
});

test('a surplus in a route (a third party\'s transfer) is reported, not halting', () => {
  const [alpha, beta] = afterMove();
  const t = checkTreasuryLedger({ allocators: [{ ...alpha!, routeBalance: 1n }, beta!], vaults: [], solana: [], inFlightUndelivered: 0n });
  assert.equal(t.balanced, false);
  assert.equal(t.halts, false);
  assert.deepEqual(t.findings.map((f) => [f.kind, f.diff, f.halts]), [['keeper-flow-surplus', 1n, false]]);
  assert.match(t.where!, /diff \+1 \(surplus/);
});

test('an allocator whose principal() disagrees with its counters is named with the difference and halts', () => {
  const [alpha, beta] = afterMove();
  const t = checkTreasuryLedger({ allocators: [alpha!, { ...beta!, principal: beta!.principal + 1n }], vaults: [], solana: [], inFlightUndelivered: 0n });
  assert.equal(t.halts, true);
  assert.deepEqual(t.findings.map((f) => [f.chainKey, f.kind, f.diff]), [['beta', 'principal-counters', 1n]]);
  assert.match(t.where!, /^beta: allocator principal\(\) 11000000123458 ≠ \(supplied 10000000000000 − withdrawn 0\) − \(to route 0 − from route 1000000123457\) = 11000000123457: diff 1 at block 100$/);
});

test('principal() saturates at 0 when the admin withdrew interest too: consistent, the counters\' value is signed', () => {
  const a = allocator('alpha', { cumulativeWithdrawn: INITIAL + 40n, suppliedBalance: 3n });
  assert.equal(a.principal, 0n);
  const t = checkTreasuryLedger({ allocators: [a], vaults: [], solana: [], inFlightUndelivered: 0n });
  assert.equal(t.balanced, true, t.where);
  assert.equal(t.allocators[0]!.principalFromCounters, -40n);
  assert.equal(t.allocators[0]!.interest, 43n);
  assert.equal(t.allocators[0]!.roundingDust, 0n);
});

test('with a vault or a Solana chain the keeper-flow line is not checked (no totals there); a vault off its books is reported', () => {
  const vault: VaultReading = { chainKey: 'gamma', block: 7n, totalSupplied: INITIAL, totalBorrowed: 4n * U, vaultBalance: INITIAL - 4n * U + 2n, routeBalance: 0n };
  const t = checkTreasuryLedger({
    allocators: afterMove(),
    vaults: [vault],
    solana: [{ chainKey: 'solana', slot: 9n, supplied: INITIAL, borrowed: 0n, reserveLiquidity: INITIAL, keeperAccount: 0n }],
    inFlightUndelivered: 0n,
    acceptedDiff: 5n,
  });
  assert.deepEqual(t.keeperFlows, { checked: false, reason: 'keeper flows not totalled on gamma (CollateralVault: keeper flows per rebalance id only), solana (Solana reserve: memo-tagged transfers)', acceptedDiff: 5n });
  assert.equal(t.vaults[0]!.idle, INITIAL - 4n * U);
  assert.deepEqual(t.findings.map((f) => [f.chainKey, f.kind, f.diff, f.halts]), [['gamma', 'vault-balance', 2n, false]]);
  assert.equal(t.halts, false);
});

test('resume acknowledges the difference found then; a further 1 wei is named again', () => {
  const [alpha, beta] = afterMove();
  const short = [{ ...alpha!, cumulativeWithdrawnToRoute: MOVED + 10n, principal: alpha!.principal - 10n, routeBalance: 7n }, beta!];
  const reopened = checkTreasuryLedger({ allocators: short, vaults: [], solana: [], inFlightUndelivered: 0n, reopen: true });
  assert.equal(reopened.balanced, true);
  assert.equal(reopened.keeperFlows.acceptedDiff, -3n);
  const next = checkTreasuryLedger({ allocators: short, vaults: [], solana: [], inFlightUndelivered: 0n, acceptedDiff: -3n });
  assert.equal(next.balanced, true);
  const worse = checkTreasuryLedger({ allocators: [{ ...short[0]!, routeBalance: 6n }, beta!], vaults: [], solana: [], inFlightUndelivered: 0n, acceptedDiff: -3n });
  assert.deepEqual(worse.findings.map((f) => [f.kind, f.diff]), [['keeper-flow-deficit', -1n]]);
  assert.match(worse.where!, /\+ acknowledged -3: diff -1/);
});

test('status --ledger lines: per chain principal / aToken balance / interest / signed dust, the identities, the verdict or the diff', () => {
  const balanced = treasuryLedgerLines(checkTreasuryLedger({ allocators: afterMove(), vaults: [], solana: [], inFlightUndelivered: 0n }), 'USDC');
  assert.equal(balanced[0], 'treasury ledger (USDC, base units): balanced');
  assert.match(balanced[1]!, /^ {2}alpha {6}Aave {3}principal 8999999876543 {2}aToken balance 8999999876598 {2}interest 55 {2}rounding dust 0 {2}\(supplied 10000000000000 − withdrawn 0; to route 1000000123457 − from route 0; route holds 0\) {2}block 100$/);
  assert.match(balanced[2]!, /^ {2}beta {7}Aave {3}principal 11000000123457 {2}aToken balance 11000000123456 {2}interest 0 {2}rounding dust -1 /);
  assert.equal(balanced[3], '  Σ principal 20000000000000 = Σ(supplied − withdrawn) 20000000000000 − Σ(to route − from route) 0: balanced;  Σ aToken balance 20000000000054 = principal + interest 55 + rounding dust -1');
  assert.equal(balanced[4], '  keeper flows: Σ(to route − from route) 0 = Σ routes 0 + in flight 0: balanced');
  assert.equal(balanced.length, 5);

  const [alpha, beta] = afterMove();
  const off = treasuryLedgerLines(checkTreasuryLedger({ allocators: [{ ...alpha!, cumulativeWithdrawnToRoute: MOVED + 5n, principal: alpha!.principal - 5n, routeBalance: 4n }, beta!], vaults: [], solana: [], inFlightUndelivered: 0n }), 'USDC');
  assert.equal(off[0], 'treasury ledger (USDC, base units): NOT BALANCED (new rebalances halted)');
  assert.equal(off[4], '  keeper flows: Σ(to route − from route) 5 = Σ routes 4 + in flight 0: diff -1 (deficit)');
  assert.match(off[5]!, /^ {2}MISMATCH: keeper flows: .*diff -1 \(deficit/);
  assert.deepEqual(treasuryLedgerLines(undefined, 'USDC'), ['treasury ledger (USDC, base units): not checked yet']);
});
