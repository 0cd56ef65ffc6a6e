/**
 * The treasury ledger's pure check (ledger/treasury.ts) and its `status --ledger` lines (cli/ledgerReport.ts), on
 * fake readings: balanced after keeper moves, a 1-wei deficit named, a surplus reported without halting, interest and
 * rounding dust reported apart from principal, the allocator counter identity, vault chains (counted by their
 * KeeperFlows counters), Solana reserves (counted by a figure derived from their opening supply), a deficit found on
 * each kind of holder, the operator's acknowledgement; and the vault read of chains/evm/ledgerReads.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { checkTreasuryLedger, type AllocatorReading, type SolanaTreasuryReading, type VaultReading } from '../../ledger/treasury.js';
import { treasuryLedgerLines } from '../../cli/ledgerReport.js';
import { readLedgerChain } from '../../chains/evm/ledgerReads.js';
import { PartialReadError } from '../../chains/evm/errors.js';
import type { EvmClients } from '../../chains/evm/clients.js';

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

/** A vault reading whose books match its tokens (override any field); counters at 0 unless given. */
function vault(chainKey: string, over: Partial<VaultReading> = {}): VaultReading {
  const v: VaultReading = { chainKey, block: 7n, totalSupplied: INITIAL, totalBorrowed: 4n * U, vaultBalance: 0n, routeBalance: 0n, cumulativeWithdrawnToRoute: 0n, cumulativeDepositedFromRoute: 0n, ...over };
  return { ...v, vaultBalance: over.vaultBalance ?? v.totalSupplied - v.totalBorrowed };
}

/** A Solana reserve reading: supplied = available + borrowed. */
function solanaReading(over: Partial<SolanaTreasuryReading> & { supplied: bigint }): SolanaTreasuryReading {
  const borrowed = over.borrowed ?? 3n * U;
  return { chainKey: 'solana', slot: 50n, borrowed, reserveLiquidity: over.supplied - borrowed, keeperAccount: 0n, ...over };
}

test('a vault chain is counted by its KeeperFlows counters: a move alpha (Aave) → gamma (vault) balances, its terms listed', () => {
  const [alpha] = afterMove();
  const t = checkTreasuryLedger({
    allocators: [alpha!],
    vaults: [vault('gamma', { totalSupplied: INITIAL + MOVED, cumulativeDepositedFromRoute: MOVED })],
    solana: [],
    inFlightUndelivered: 0n,
  });
  assert.equal(t.balanced, true, t.where);
  assert.equal(t.vaults[0]!.keeperNetOutflow, -MOVED);
  assert.deepEqual(t.keeperFlows, {
    checked: true,
    netOutflow: 0n,
    inRoutes: 0n,
    inFlightUndelivered: 0n,
    acceptedDiff: 0n,
    diff: 0n,
    perChain: [
      { chainKey: 'alpha', netOutflow: MOVED, route: 0n },
      { chainKey: 'gamma', netOutflow: -MOVED, route: 0n },
    ],
  });
  // Vault chains only (the vault devnet): counted too; tokens between legs sit in the vault's route.
  const X = 42n * U + 1n;
  const vaultsOnly = checkTreasuryLedger({
    allocators: [],
    vaults: [vault('a', { totalSupplied: INITIAL - X, cumulativeWithdrawnToRoute: X, routeBalance: X }), vault('b')],
    solana: [],
    inFlightUndelivered: 0n,
  });
  assert.equal(vaultsOnly.balanced, true, vaultsOnly.where);
  assert.deepEqual(vaultsOnly.keeperFlows.checked && [vaultsOnly.keeperFlows.netOutflow, vaultsOnly.keeperFlows.inRoutes], [X, X]);
});

test('a deficit on a vault chain: its route holds 1 base unit less than its counters sent out: named, halts', () => {
  const X = 42n * U;
  const t = checkTreasuryLedger({
    allocators: [],
    vaults: [vault('a', { totalSupplied: INITIAL - X, cumulativeWithdrawnToRoute: X, routeBalance: X - 1n }), vault('b')],
    solana: [],
    inFlightUndelivered: 0n,
  });
  assert.equal(t.halts, true);
  assert.deepEqual(t.findings.map((f) => [f.kind, f.diff, f.halts]), [['keeper-flow-deficit', -1n, true]]);
  assert.match(t.where!, new RegExp(`\\[a ${X}, b 0\\] vs Σ routes ${X - 1n} \\[a ${X - 1n}, b 0\\] \\+ in flight 0: diff -1 \\(deficit: 1 base units`));
});

test('a vault without the counters (deployed before them) leaves the keeper-flow line unchecked, saying which; a vault off its books is reported', () => {
  const old = vault('gamma', { vaultBalance: INITIAL - 4n * U + 2n });
  delete old.cumulativeWithdrawnToRoute;
  delete old.cumulativeDepositedFromRoute;
  const t = checkTreasuryLedger({ allocators: afterMove(), vaults: [old], solana: [], inFlightUndelivered: 0n, acceptedDiff: 5n });
  assert.deepEqual(t.keeperFlows, { checked: false, reason: 'keeper flows not totalled on gamma (CollateralVault without keeper-flow counters: deployed before them)', acceptedDiff: 5n });
  assert.equal(t.vaults[0]!.idle, INITIAL - 4n * U);
  assert.equal(t.vaults[0]!.keeperNetOutflow, undefined);
  assert.deepEqual(t.findings.map((f) => [f.chainKey, f.kind, f.diff, f.halts]), [['gamma', 'vault-balance', 2n, false]]);
  assert.equal(t.halts, false);
  assert.match(treasuryLedgerLines(t, 'USDC')[3]!, /^ {2}gamma {6}vault {2}supplied 10000000000000 {2}borrowed 4000000 {2}idle 9999996000000 {2}vault holds 9999996000002 \(\+2 off its books\) {2}\(no keeper-flow counters; route holds 0\) {2}block 7$/);
});

test('Solana: the first check opens the reserve (derived net outflow 0); after a move alpha → solana the derived −MOVED balances alpha\'s counter', () => {
  const S0 = 8_000_000n * U;
  // The first check: nothing carried yet ({}): the reserve is opened at this reading.
  const first = checkTreasuryLedger({ allocators: [allocator('alpha'), allocator('beta')], vaults: [], solana: [solanaReading({ supplied: S0, slot: 10n })], inFlightUndelivered: 0n, solanaOpening: {} });
  assert.equal(first.balanced, true, first.where);
  assert.deepEqual(first.solanaOpening, { solana: { supplied: S0, slot: 10n } });
  assert.deepEqual([first.solana[0]!.openedNow, first.solana[0]!.keeperNetOutflow], [true, 0n]);
  assert.deepEqual(first.keeperFlows.checked && first.keeperFlows.perChain.at(-1), { chainKey: 'solana', netOutflow: 0n, route: 0n, derived: true });

  // The market borrows and repays in between (supplied unchanged), the keeper moved MOVED from alpha into the reserve.
  const after = checkTreasuryLedger({
    allocators: [allocator('alpha', { cumulativeWithdrawnToRoute: MOVED }), allocator('beta')],
    vaults: [],
    solana: [solanaReading({ supplied: S0 + MOVED, borrowed: 5n * U, slot: 99n })],
    inFlightUndelivered: 0n,
    solanaOpening: first.solanaOpening,
  });
  assert.equal(after.balanced, true, after.where);
  assert.deepEqual(after.solanaOpening, { solana: { supplied: S0, slot: 10n } }, 'the opening is carried unchanged');
  assert.deepEqual([after.solana[0]!.openedNow, after.solana[0]!.keeperNetOutflow], [undefined, -MOVED]);
  assert.deepEqual(after.keeperFlows, {
    checked: true,
    netOutflow: 0n,
    inRoutes: 0n,
    inFlightUndelivered: 0n,
    acceptedDiff: 0n,
    diff: 0n,
    perChain: [
      { chainKey: 'alpha', netOutflow: MOVED, route: 0n },
      { chainKey: 'beta', netOutflow: 0n, route: 0n },
      { chainKey: 'solana', netOutflow: -MOVED, route: 0n, derived: true },
    ],
  });
  // Tokens between Solana legs sit in the keeper's account (the Solana route): still balanced.
  const Y = 9n * U;
  const betweenLegs = checkTreasuryLedger({ allocators: [allocator('alpha'), allocator('beta')], vaults: [], solana: [solanaReading({ supplied: S0 - Y, keeperAccount: Y })], inFlightUndelivered: 0n, solanaOpening: first.solanaOpening });
  assert.equal(betweenLegs.balanced, true, betweenLegs.where);
  assert.deepEqual(betweenLegs.keeperFlows.checked && [betweenLegs.keeperFlows.netOutflow, betweenLegs.keeperFlows.inRoutes], [Y, Y]);

  const lines = treasuryLedgerLines(after, 'USDC');
  assert.equal(lines[3], `  solana     Solana reserve supplied ${S0 + MOVED}  borrowed 5000000  available ${S0 + MOVED - 5n * U}  (keeper net outflow (derived) -${MOVED} = opening supplied ${S0} (slot 10) − supplied ${S0 + MOVED}; keeper account 0)  slot 99`);
  assert.equal(lines[5], '  keeper flows: Σ(to route − from route) 0 (solana: derived, opening supplied − supplied) = Σ routes 0 + in flight 0: balanced');
  assert.match(treasuryLedgerLines(first, 'USDC')[3]!, /\(opened here: keeper net outflow \(derived\) = opening supplied 8000000000000 − supplied 8000000000000 = 0 from slot 10; keeper account 0\)/);
});

test('a deficit on Solana: 1 base unit leaves the reserve outside the keeper\'s legs: the derived figure names it, halts', () => {
  const S0 = 8_000_000n * U;
  const opening = { solana: { supplied: S0, slot: 10n } };
  const t = checkTreasuryLedger({ allocators: [allocator('alpha')], vaults: [vault('gamma')], solana: [solanaReading({ supplied: S0 - 1n })], inFlightUndelivered: 0n, solanaOpening: opening });
  assert.equal(t.halts, true);
  assert.deepEqual(t.findings.map((f) => [f.kind, f.diff, f.halts]), [['keeper-flow-deficit', -1n, true]]);
  assert.match(t.where!, /\[alpha 0, gamma 0, solana 1 \(derived\)\] vs Σ routes 0 \[alpha 0, gamma 0, solana 0\] \+ in flight 0: diff -1 \(deficit/);
  // The keeper's account (the Solana route) 1 short after a withdraw leg: the same deficit.
  const Y = 9n * U;
  const short = checkTreasuryLedger({ allocators: [allocator('alpha')], vaults: [], solana: [solanaReading({ supplied: S0 - Y, keeperAccount: Y - 1n })], inFlightUndelivered: 0n, solanaOpening: opening });
  assert.deepEqual(short.findings.map((f) => [f.kind, f.diff]), [['keeper-flow-deficit', -1n]]);
  // A stranded send to Solana still in flight is counted, as on the EVM chains.
  const inFlight = checkTreasuryLedger({ allocators: [allocator('alpha', { cumulativeWithdrawnToRoute: Y })], vaults: [], solana: [solanaReading({ supplied: S0 })], inFlightUndelivered: Y, solanaOpening: opening });
  assert.equal(inFlight.balanced, true, inFlight.where);
});

test('Solana without an opening figure (a caller from before it): not counted, the line says why', () => {
  const t = checkTreasuryLedger({ allocators: afterMove(), vaults: [vault('gamma')], solana: [solanaReading({ supplied: INITIAL })], inFlightUndelivered: 0n });
  assert.deepEqual(t.keeperFlows, { checked: false, reason: 'keeper flows not totalled on solana (Solana reserve: no opening figure given to derive its keeper flows from)', acceptedDiff: 0n });
  assert.equal(t.solanaOpening, undefined);
  assert.equal(t.solana[0]!.keeperNetOutflow, undefined);
  const lines = treasuryLedgerLines(t, 'USDC');
  assert.match(lines[4]!, /^ {2}solana {5}Solana reserve supplied 10000000000000 .*\(keeper flows not derived \(no opening figure\); keeper account 0\) {2}slot 50$/);
  assert.equal(lines.at(-1), '  keeper flows: not checked (keeper flows not totalled on solana (Solana reserve: no opening figure given to derive its keeper flows from))');
});

test('readLedgerChain on a vault chain reads its two counters in the same multicall; a vault predating them reads without them', async () => {
  const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Address;
  const contracts = { multicall3: addr(1), token: addr(2), route: addr(3), vault: addr(4) };
  const ok = (result: bigint) => ({ status: 'success' as const, result });
  const reverted = { status: 'failure' as const, error: new Error('execution reverted') };
  const calls: unknown[][] = [];
  const clientsAnswering = (results: unknown[]) =>
    ({ chainKey: 'a', chain: { id: 1, rpcUrls: { default: { http: ['http://x'] } } }, publicClient: { multicall: async (p: { contracts: unknown[] }) => (calls.push(p.contracts), results) } }) as unknown as EvmClients;
  const head = [ok(77n), ok(1000n), ok(5n), ok(900n), ok(100n), ok(800n)];
  const r = await readLedgerChain({ clients: clientsAnswering([...head, ok(11n), ok(6n)]), contracts });
  assert.equal(calls.length, 1, 'one multicall');
  assert.deepEqual((calls[0] as { functionName: string }[]).map((c) => c.functionName), ['getBlockNumber', 'totalSupply', 'balanceOf', 'totalSupplied', 'totalBorrowed', 'balanceOf', 'cumulativeWithdrawnToRoute', 'cumulativeDepositedFromRoute']);
  assert.deepEqual(r.vault, { totalSupplied: 900n, totalBorrowed: 100n, vaultBalance: 800n, keeperFlows: { cumulativeWithdrawnToRoute: 11n, cumulativeDepositedFromRoute: 6n } });
  const old = await readLedgerChain({ clients: clientsAnswering([...head, reverted, reverted]), contracts });
  assert.deepEqual(old.vault, { totalSupplied: 900n, totalBorrowed: 100n, vaultBalance: 800n });
  // Any other failure still fails the read (fail closed), the counters' included when only one of them reverts.
  await assert.rejects(readLedgerChain({ clients: clientsAnswering([...head.slice(0, 3), reverted, ...head.slice(4), reverted, reverted]), contracts }), PartialReadError);
  await assert.rejects(readLedgerChain({ clients: clientsAnswering([...head, ok(11n), reverted]), contracts }), PartialReadError);
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
