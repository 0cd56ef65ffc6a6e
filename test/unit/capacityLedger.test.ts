/**
 * ledger/credit.ts: the capacity ledger posts every step of a capacity move and its compensations,
 * stays balanced, and agrees with the balances derived from chain facts at every step; the
 * deployment check finds capacity created or lost to the base unit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkBalanced, inflightAccount, nonZero, post, postedDeliveries, reconcile, type Ledger } from '../../ledger/ledger.js';
import { checkCapacityConservation, deriveCapacityFromChain, limitAccount, openCapacityLedger, pendingAccount, reservedAccount, type CapacityChainFacts, type CapacityChainTotals } from '../../ledger/credit.js';

const AMOUNT = 1_250_000n;
const G1 = '0x' + '11'.repeat(32);
const G2 = '0x' + '22'.repeat(32);

function facts(over: Partial<CapacityChainFacts> = {}): CapacityChainFacts {
  return {
    from: 'a',
    to: 'b',
    amount: AMOUNT,
    reservation: { amount: 0n, status: 'none' },
    pendingAtDestination: { amount: 0n, status: 'none' },
    applied: 0n,
    pendingAtSource: { amount: 0n, status: 'none' },
    returnApplied: 0n,
    ...over,
  };
}

/** Asserts the ledger is balanced and matches the chain-derived balances exactly. */
function agrees(ledger: Ledger, f: CapacityChainFacts, step: string): void {
  assert.ok(checkBalanced(ledger).balanced, `${step}: ledger balanced`);
  assert.deepEqual(reconcile(ledger.balances, deriveCapacityFromChain(f, { postedDeliveries: postedDeliveries(ledger) })), [], `${step}: ledger matches the chain`);
}

describe('capacity ledger', () => {
  test('a completed move: reserve, send, deliver, apply — balanced and matching the chain at every step', () => {
    let l = openCapacityLedger('a', AMOUNT);
    let f = facts();
    agrees(l, f, 'open');
    l = post(l, { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: AMOUNT });
    f = { ...f, reservation: { amount: AMOUNT, status: 'reserved' } };
    agrees(l, f, 'reserve');
    l = post(l, { step: 'send', from: reservedAccount('a'), to: inflightAccount(G1), amount: AMOUNT });
    f = { ...f, reservation: { amount: AMOUNT, status: 'sent' }, sent: { amount: AMOUNT, guid: G1 } };
    agrees(l, f, 'send');
    // The chain delivers before the saga observes it: not a mismatch.
    agrees(l, { ...f, pendingAtDestination: { amount: AMOUNT, status: 'pending' } }, 'delivered, not posted yet');
    l = post(l, { step: 'deliver', from: inflightAccount(G1), to: pendingAccount('b'), amount: AMOUNT });
    f = { ...f, pendingAtDestination: { amount: AMOUNT, status: 'pending' } };
    agrees(l, f, 'deliver');
    l = post(l, { step: 'apply', from: pendingAccount('b'), to: limitAccount('b'), amount: AMOUNT });
    f = { ...f, pendingAtDestination: { amount: AMOUNT, status: 'applied' }, applied: AMOUNT };
    agrees(l, f, 'apply');
    assert.deepEqual(nonZero(l.balances), { [limitAccount('b')]: AMOUNT });
  });

  test('compensations: restore after reserve, and return + re-apply after a refused apply', () => {
    let l = post(openCapacityLedger('a', AMOUNT), { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: AMOUNT });
    l = post(l, { step: 'restore', from: reservedAccount('a'), to: limitAccount('a'), amount: AMOUNT });
    agrees(l, facts({ reservation: { amount: AMOUNT, status: 'restored' } }), 'restore');

    let r = openCapacityLedger('a', AMOUNT);
    for (const [step, from, to] of [
      ['reserve', limitAccount('a'), reservedAccount('a')],
      ['send', reservedAccount('a'), inflightAccount(G1)],
      ['deliver', inflightAccount(G1), pendingAccount('b')],
      ['return', pendingAccount('b'), inflightAccount(G2)],
    ] as const) r = post(r, { step, from, to, amount: AMOUNT });
    const returned = facts({
      reservation: { amount: AMOUNT, status: 'sent' },
      sent: { amount: AMOUNT, guid: G1 },
      pendingAtDestination: { amount: AMOUNT, status: 'returned' },
      returned: { amount: AMOUNT, guid: G2 },
    });
    agrees(r, returned, 'return');
    r = post(r, { step: 'return-deliver', from: inflightAccount(G2), to: pendingAccount('a'), amount: AMOUNT });
    r = post(r, { step: 'return-apply', from: pendingAccount('a'), to: limitAccount('a'), amount: AMOUNT });
    agrees(r, { ...returned, pendingAtSource: { amount: AMOUNT, status: 'applied' }, returnApplied: AMOUNT }, 'return-apply');
    assert.deepEqual(nonZero(r.balances), { [limitAccount('a')]: AMOUNT });
  });

  test('a chain that disagrees by one base unit is named', () => {
    const l = post(openCapacityLedger('a', AMOUNT), { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: AMOUNT });
    const ms = reconcile(l.balances, deriveCapacityFromChain(facts({ reservation: { amount: AMOUNT - 1n, status: 'reserved' } })));
    assert.deepEqual(ms, [
      { account: limitAccount('a'), expected: 0n, observed: 1n },
      { account: reservedAccount('a'), expected: AMOUNT, observed: AMOUNT - 1n },
    ]);
  });

  test('deployment conservation: Σ limits + reserved + in flight + pending + orphaned, to the base unit', () => {
    const chain = (chainKey: string, over: Partial<CapacityChainTotals> = {}): CapacityChainTotals => ({ chainKey, borrowLimit: 10n, reservedCredit: 0n, sent: 0n, received: 0n, pending: 0n, orphaned: 0n, ...over });
    const opening = checkCapacityConservation([chain('a'), chain('b')]);
    assert.equal(opening.total, 20n);
    // a reserved 3, sent 2 (1 delivered to b, pending there); b orphaned nothing.
    const mid = checkCapacityConservation([chain('a', { borrowLimit: 5n, reservedCredit: 3n, sent: 2n }), chain('b', { received: 1n, pending: 1n })], 20n);
    assert.deepEqual({ balanced: mid.balanced, inFlight: mid.inFlight, total: mid.total }, { balanced: true, inFlight: 1n, total: 20n });
    const lost = checkCapacityConservation([chain('a', { borrowLimit: 9n }), chain('b')], 20n);
    assert.equal(lost.balanced, false);
    assert.equal(lost.diff, -1n);
    assert.match(lost.where!, /borrow limits a=9 b=10 .* opening 20 \(diff -1\)/);
    assert.throws(() => checkCapacityConservation([chain('a'), chain('a')]), /appears twice/);
    assert.throws(() => checkCapacityConservation([chain('a', { pending: -1n })]), /a\.pending is negative/);
  });
});
