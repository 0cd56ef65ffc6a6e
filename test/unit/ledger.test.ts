import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBalanced, deriveFromChain, describeMismatches, inflightAccount, nonZero, openLedger, post, reconcile, routeAccount, vaultAccount, type RebalanceChainFacts } from '../../ledger/ledger.js';

const A = 50_000_000_000n;
const G = '0xAB'.padEnd(66, '0');

test('a completed rebalance posts withdraw → send → deliver → deposit and stays balanced at every step', () => {
  let l = openLedger('alpha', A);
  const steps = [
    { step: 'withdraw', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: A },
    { step: 'send', from: routeAccount('alpha'), to: inflightAccount(G), amount: A },
    { step: 'deliver', from: inflightAccount(G), to: routeAccount('beta'), amount: A },
    { step: 'deposit', from: routeAccount('beta'), to: vaultAccount('beta'), amount: A },
  ];
  for (const s of steps) {
    l = post(l, s);
    assert.equal(checkBalanced(l).balanced, true, s.step);
  }
  assert.deepEqual(nonZero(l.balances), { 'vault:beta': A });
  assert.equal(l.entries.length, 4);
});

test('posting more than an account holds is refused (no funds out of nothing)', () => {
  const l = openLedger('alpha', A);
  assert.throws(() => post(l, { step: 'send', from: routeAccount('alpha'), to: inflightAccount(G), amount: 1n }), /route:alpha holds 0, cannot move 1/);
  assert.throws(() => post(l, { step: 'x', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: 0n }), /amount must be > 0/);
  assert.throws(() => openLedger('alpha', 0n), /opening amount must be > 0/);
});

test('post does not mutate its input (safe in workflow state)', () => {
  const l = openLedger('alpha', A);
  const copy = structuredClone(l);
  post(l, { step: 'withdraw', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: A });
  assert.deepEqual(l, copy);
});

const base: RebalanceChainFacts = { from: 'alpha', to: 'beta', amount: A, withdrawn: 0n, redeposited: 0n, deposited: 0n, returnDeposited: 0n };

test('balances derived from chain facts match the ledger after each step of the forward path', () => {
  let l = openLedger('alpha', A);
  assert.deepEqual(reconcile(l.balances, deriveFromChain(base)), []);
  l = post(l, { step: 'withdraw', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: A });
  assert.deepEqual(reconcile(l.balances, deriveFromChain({ ...base, withdrawn: A })), []);
  l = post(l, { step: 'send', from: routeAccount('alpha'), to: inflightAccount(G), amount: A });
  assert.deepEqual(reconcile(l.balances, deriveFromChain({ ...base, withdrawn: A, sent: { amount: A, guid: G, delivered: false } })), []);
  l = post(l, { step: 'deliver', from: inflightAccount(G), to: routeAccount('beta'), amount: A });
  assert.deepEqual(reconcile(l.balances, deriveFromChain({ ...base, withdrawn: A, sent: { amount: A, guid: G, delivered: true } })), []);
  l = post(l, { step: 'deposit', from: routeAccount('beta'), to: vaultAccount('beta'), amount: A });
  assert.deepEqual(reconcile(l.balances, deriveFromChain({ ...base, withdrawn: A, sent: { amount: A, guid: G, delivered: true }, deposited: A })), []);
});

test('the return path (deposit compensation) derives back to the source vault', () => {
  const R = '0xCD'.padEnd(66, '0');
  const facts: RebalanceChainFacts = { ...base, withdrawn: A, sent: { amount: A, guid: G, delivered: true }, returned: { amount: A, guid: R, delivered: true }, returnDeposited: A };
  assert.deepEqual(nonZero(deriveFromChain(facts)), { 'vault:alpha': A });
});

test('reconcile names the account that disagrees, and by how much', () => {
  const l = post(openLedger('alpha', A), { step: 'withdraw', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: A });
  // the chain says the withdraw never happened
  const ms = reconcile(l.balances, deriveFromChain(base));
  assert.deepEqual(ms, [
    { account: 'route:alpha', expected: A, observed: 0n },
    { account: 'vault:alpha', expected: 0n, observed: A },
  ]);
  assert.match(describeMismatches(ms), /route:alpha expected 50000000000 observed 0 \(diff -50000000000\)/);
});

test('a partial withdraw recorded on chain (less than the amount) is a mismatch, not balanced away', () => {
  const l = post(openLedger('alpha', A), { step: 'withdraw', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: A });
  const ms = reconcile(l.balances, deriveFromChain({ ...base, withdrawn: A - 1n }));
  assert.equal(ms.length, 2);
  assert.ok(ms.every((m) => m.observed - m.expected === 1n || m.observed - m.expected === -1n));
});

test('a delivery the saga has not posted yet is the bridge running ahead, not a mismatch; any other difference still is', async () => {
  const { postedDeliveries } = await import('../../ledger/ledger.js');
  let l = post(openLedger('alpha', A), { step: 'withdraw', from: vaultAccount('alpha'), to: routeAccount('alpha'), amount: A });
  l = post(l, { step: 'send', from: routeAccount('alpha'), to: inflightAccount(G), amount: A });
  const delivered: RebalanceChainFacts = { ...base, withdrawn: A, sent: { amount: A, guid: G, delivered: true } };
  assert.equal(reconcile(l.balances, deriveFromChain(delivered)).length, 2, 'unmasked: the chain is ahead');
  assert.deepEqual(reconcile(l.balances, deriveFromChain(delivered, { postedDeliveries: postedDeliveries(l) })), []);
  const short = { ...delivered, sent: { amount: A - 1n, guid: G, delivered: true } };
  assert.notDeepEqual(reconcile(l.balances, deriveFromChain(short, { postedDeliveries: postedDeliveries(l) })), []);
  l = post(l, { step: 'deliver', from: inflightAccount(G), to: routeAccount('beta'), amount: A });
  assert.deepEqual(postedDeliveries(l), [G.toLowerCase()]);
  assert.deepEqual(reconcile(l.balances, deriveFromChain(delivered, { postedDeliveries: postedDeliveries(l) })), []);
});
