/**
 * Every branch of the collateral saga (`rebalanceWorkflow`, workflows/rebalance.ts), over LayerZero and over
 * Wormhole, on Temporal's time-skipping test server: the REAL workflow code (keeper/worker.ts `workflowsPath`,
 * the bundle the keeper's worker runs) in a Worker whose activities are doubles under the real names
 * (test/workflows/sagaDoubles.ts: real input and result types, a model of the chains' records so the saga's
 * ledger reconciles, every call recorded). Deadlines and retry backoffs are skipped, not waited out: every
 * assertion is on results and recorded calls (server time, never wall time).
 *
 * The outcome of every fault schedule, for both move kinds and both bridges, is the matrix in sagaMatrix.test.ts
 * (outcome, legs, ledger = chains, location, each leg once). This file keeps what is the collateral kind's own: the
 * activities' inputs, the polling against the deadline, the mismatch texts, retries, the monitor.
 *
 * Branches of rebalanceWorkflow found in the code, and the case(s) covering each ([both] = once per bridge;
 * [matrix] = in sagaMatrix.test.ts):
 *  1. withdraw → send → deliver → deposit → `completed` ........................................ [both] completes
 *  2. withdraw fails (revert) → nothing to compensate → `compensated` ........................... [matrix]
 *  3. send fails → redeposit into the source vault → `compensated` .............................. [both] send reverts
 *  4. send fails, redeposit fails → `stranded`, funds located (no GUID: nothing sent) ........... [both] failing compensation
 *  5. deliver past the deadline → `stranded` at the deadline, funds located by GUID / Wormhole id,
 *     no deposit ........................................................................... [both] delivery never comes
 *  6. deliver fails non-retryably (ConfigError) → `stranded` at once, not at the deadline ........ config error
 *  7. deliver late but inside the deadline → `completed` ........................................ [matrix]
 *  8. deposit fails → return over the same bridge, deliver it back, deposit at the source →
 *     `compensated` ........................................................................ [both] deposit reverts
 *  9. deposit fails, the return send fails → `stranded` .......................................... [matrix]
 * 10. deposit fails, the return never arrives → `stranded` at the deadline, in flight under the
 *     return's GUID ......................................................................... return never delivered
 * 11. deposit fails, the return's deposit fails → `stranded`, funds in the source route ......... [matrix]
 * 12. ledger mismatch at open (a front-run write under the saga's id) → `stranded`, accounts named,
 *     no leg runs, mismatch reported ..................................................... [both] front-run at open
 * 13. ledger mismatch after a leg, inside deliver's catch (rethrown, not "not delivered") ....... mismatch after deliver
 * 14. ledger mismatch during a compensation → `stranded` by the mismatch ....................... mismatch in compensation
 * 15. a retryable failure retried by the writes policy, then ok (leg recorded once); a retry after
 *     the write landed answers alreadyDone ................................................. retried legs
 * 16. retryable failures past the writes policy's 5 attempts → the leg fails → compensation ..... [matrix]
 * 17. the audit read (observeRebalanceFunds) fails transiently (StaleRead) → retried, saga goes on . stale reads
 * 18. locateFunds fails transiently → retried by the books policy → `stranded`, located ......... locate retried
 *     (past its 10 attempts: see 22)
 * 19. Wormhole: the guardians serve a VAA that does not verify (VaaRejected, retryable) → retried
 *     until a good one → `completed` ....................................................... VAA refused then good
 * 20. the monitor is told the outcome (signal `rebalanceFinished`: stranded in-flight GUID/nonce, a
 *     ledger mismatch halts it); a monitor that is gone → warning, the outcome stands ......... monitor cases
 * 21. an input without `bridge` (from before Wormhole) goes over LayerZero ...................... no bridge field
 * 22. `locateFunds` failing past the books policy's 10 attempts: still `stranded`, the reason says the funds
 *     could not be located (rebalance.ts `stranded()`, as the capacity saga's). Before, after a missed deadline
 *     the failure reached the outer catch and the saga ended `compensated` with the funds in flight ... locate fails
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { keccak256, toHex, type Hex } from 'viem';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import type { MonitorInput } from '../../workflows/types.js';
import type { MonitorStatus } from '../../workflows/messages.js';
import { legKey } from '../../activities/legKey.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { nonZero } from '../../ledger/ledger.js';
import { afterWrite, always, firstAttempts, revert, startSagaWorld, transient, WORMHOLE, type CollateralOptions, type CollateralScenario, type SagaWorld } from './sagaDoubles.js';

const AMOUNT = 50_000n * 10n ** 6n;
/** The delivery deadline of these cases, seconds (skipped, never waited). */
const DEADLINE = 120;
/** The delivery wait's largest retry interval (workflows/rebalance.ts): the last poll is at most this long before the deadline. */
const MAX_POLL_MS = 10_000;

let w: SagaWorld;
before(async () => {
  w = await startSagaWorld();
});
after(async () => {
  await w?.stop();
});

let seq = 0;
const idFor = (name: string): Hex => keccak256(toHex(`saga-branches:${name}:${++seq}`));

/** A new scenario (the chains' records of one saga) for `name`. */
const scenario = (name: string, opts: Omit<CollateralOptions, 'rebalanceId' | 'amount'> & { amount?: bigint } = {}): CollateralScenario => w.lab.collateral({ rebalanceId: idFor(name), amount: AMOUNT, ...opts });

/** Runs rebalanceWorkflow on the scenario to its result (time skipped). */
const run = (s: CollateralScenario, over: Partial<RebalanceInput> = {}): Promise<RebalanceResult> =>
  w.execute<RebalanceResult>('rebalanceWorkflow', { rebalanceId: s.rebalanceId, from: s.from, to: s.to, amount: s.amount, reason: 'test', deliveryDeadlineSec: DEADLINE, bridge: s.bridge, ...over } satisfies RebalanceInput);

const legsOf = (r: RebalanceResult) => r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`);
/** The write activities the doubles ran (every attempt), as `activity:leg:status`. */
const writesOf = (s: CollateralScenario) => s.calls.filter((c) => c.leg && c.leg !== 'observe' && c.leg !== 'locate').map((c) => `${c.activity}:${c.leg}:${c.status}`);
const only = <T>(xs: T[], what: string): T => {
  assert.equal(xs.length, 1, `exactly one ${what}`);
  return xs[0]!;
};
/** The outcome the saga recorded through `recordOutcome` (metrics and log). */
const recorded = (s: CollateralScenario) => only(s.callsOf('recordOutcome'), 'recordOutcome').input as { outcome: string; guid?: Hex; bridge?: string };

for (const bridge of ['layerzero', 'wormhole'] as const) {
  describe(`rebalanceWorkflow over ${bridge} (time-skipping, activity doubles)`, () => {
    const sc = (name: string, opts: Omit<CollateralOptions, 'rebalanceId' | 'amount' | 'bridge'> = {}) => scenario(`${bridge}:${name}`, { bridge, ...opts });

    test('completes: each leg once with the saga keys, the ledger ends in the destination vault', async () => {
      const s = sc('completed');
      const r = await run(s);
      assert.equal(r.outcome, 'completed', r.reason);
      assert.equal(r.bridge, bridge);
      assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:ok']);
      assert.deepEqual(writesOf(s), ['withdrawFromVault:withdraw:ok', 'sendOverBridge:send:ok', 'awaitDelivery:deliver:ok', 'depositToVault:deposit:ok']);
      const [withdraw, send, deliver, deposit] = s.calls.filter((c) => c.leg && c.leg !== 'observe').map((c) => c.input);
      assert.deepEqual(withdraw, { rebalanceId: s.rebalanceId, purpose: 'forward', chainKey: 'alpha', amount: AMOUNT });
      assert.deepEqual(send, { rebalanceId: s.rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', amount: AMOUNT, bridge });
      assert.deepEqual(deliver, { from: 'alpha', to: 'beta', guid: r.guid, nonce: r.nonce, bridge, key: s.rebalanceId });
      assert.deepEqual(deposit, { rebalanceId: s.rebalanceId, purpose: 'forward', chainKey: 'beta', amount: AMOUNT });
      if (bridge === 'wormhole') assert.equal(r.guid, wormholeGuid(WORMHOLE.alpha!.chainId, WORMHOLE.alpha!.adapter, r.nonce!), 'the Wormhole message id (chain, emitter, sequence)');
      assert.equal(r.feePaidWei, 1_000n);
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:beta': AMOUNT });
      assert.equal(r.ledger.entries.length, 4);
      assert.equal(r.ledgerMismatch, undefined);
      assert.equal(s.callsOf('observeRebalanceFunds').length, 5, 'reconciled at open and after each leg');
      assert.ok(s.callsOf('observeRebalanceFunds').every((c) => (c.input as { bridge?: string }).bridge === bridge));
      assert.equal(s.callsOf('recordStarted').length, 1);
      assert.deepEqual(recorded(s), { rebalanceId: s.rebalanceId, from: 'alpha', to: 'beta', amount: AMOUNT, outcome: 'completed', durationSec: r.durationSec, guid: r.guid, bridge });
      assert.equal(s.callsOf('locateFunds').length, 0);
    });

    test('send reverts (NoPeerRoute) → the withdrawal is redeposited into the source vault → compensated', async () => {
      const s = sc('send-reverts', { faults: { send: always(revert('alpha', 'send', 'NoPeerRoute')) } });
      const r = await run(s);
      assert.equal(r.outcome, 'compensated');
      assert.match(r.reason ?? '', /NoPeerRoute/);
      assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:failed', 'compensation:redeposit:ok']);
      assert.deepEqual(writesOf(s), ['withdrawFromVault:withdraw:ok', 'sendOverBridge:send:failed', 'depositToVault:redeposit:ok']);
      assert.deepEqual(only(s.callsOf('depositToVault'), 'redeposit').input, { rebalanceId: s.rebalanceId, purpose: 'redeposit', chainKey: 'alpha', amount: AMOUNT });
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:alpha': AMOUNT });
      assert.equal(r.guid, undefined, 'nothing was sent');
    });

    test('a failing compensation (redeposit reverts) → stranded, the funds located in the source route', async () => {
      const s = sc('comp-fails', { faults: { send: always(revert('alpha', 'send', 'NoPeerRoute')), redeposit: always(revert('alpha', 'depositFromRoute', 'InflowPaused')) } });
      const r = await run(s);
      assert.equal(r.outcome, 'stranded');
      assert.match(r.reason ?? '', /NoPeerRoute.*; compensation redeposit failed: .*InflowPaused/);
      assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:failed', 'compensation:redeposit:failed']);
      const locate = only(s.callsOf('locateFunds'), 'locateFunds');
      assert.deepEqual(locate.input, { from: 'alpha', to: 'beta', bridge, key: s.rebalanceId });
      assert.deepEqual(r.fundsLocation, locate.result, 'the workflow reports the location as read');
      assert.equal(r.fundsLocation?.sourceRouteBalance, AMOUNT);
      assert.deepEqual(nonZero(r.ledger.balances), { 'route:alpha': AMOUNT }, 'the ledger agrees: in the source route');
      assert.equal(recorded(s).outcome, 'stranded');
    });

    test('delivery never comes → stranded at the deadline (time skipped): funds located by the message id, no deposit', async () => {
      const s = sc('never', { arrival: { forward: 'never' } });
      const r = await run(s);
      assert.equal(r.outcome, 'stranded');
      assert.match(r.reason ?? '', new RegExp(`^delivery of GUID ${r.guid} not seen within ${DEADLINE}s: `));
      assert.match(r.reason ?? '', bridge === 'wormhole' ? /not signed by the guardians yet/ : /not delivered on beta/);
      assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:failed']);
      assert.equal(s.callsOf('depositToVault').length, 0, 'no deposit ran');
      // Temporal's retry policy is the wait: polls until the next poll would start past the deadline.
      const polls = s.callsOf('awaitDelivery');
      const firstPoll = polls[0]!.atMs;
      const lastPoll = polls.at(-1)!.atMs;
      const strandedAt = r.legs[2]!.atMs;
      assert.ok(polls.length > 10 && polls.every((c) => c.status === 'failed'), `${polls.length} polls, all "not yet"`);
      assert.ok(lastPoll <= firstPoll + DEADLINE * 1000, 'no poll after the deadline');
      assert.ok(lastPoll + MAX_POLL_MS > firstPoll + DEADLINE * 1000, 'the next poll would have been past the deadline');
      assert.ok(strandedAt >= lastPoll && strandedAt <= firstPoll + DEADLINE * 1000, `stranded ${strandedAt - firstPoll} ms after the first poll, within the ${DEADLINE} s deadline`);
      assert.ok(r.durationSec >= DEADLINE - MAX_POLL_MS / 1000 && r.durationSec <= DEADLINE, `durationSec ${r.durationSec}`);
      const locate = only(s.callsOf('locateFunds'), 'locateFunds');
      assert.deepEqual(locate.input, { from: 'alpha', to: 'beta', guid: r.guid, nonce: r.nonce, bridge, key: s.rebalanceId });
      assert.deepEqual(r.fundsLocation, locate.result);
      assert.equal(r.fundsLocation?.guid, r.guid);
      assert.equal(r.fundsLocation?.delivered, false);
      if (bridge === 'wormhole') assert.match(r.fundsLocation?.summary ?? '', new RegExp(`Wormhole message ${WORMHOLE.alpha!.chainId}/${WORMHOLE.alpha!.adapter}/${r.nonce} not redeemed on beta`));
      assert.deepEqual(nonZero(r.ledger.balances), { [`inflight:${r.guid!.toLowerCase()}`]: AMOUNT }, 'the ledger holds the amount in flight under its message id');
    });

    test('deposit reverts (InflowPaused) → returned over the same bridge, delivered back, deposited at the source → compensated', async () => {
      const s = sc('deposit-reverts', { faults: { deposit: always(revert('beta', 'depositFromRoute', 'InflowPaused')) } });
      const r = await run(s);
      assert.equal(r.outcome, 'compensated', r.reason);
      assert.match(r.reason ?? '', /InflowPaused/);
      assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:failed', 'compensation:return:ok', 'compensation:return-deliver:ok', 'compensation:return-deposit:ok']);
      assert.deepEqual(writesOf(s), ['withdrawFromVault:withdraw:ok', 'sendOverBridge:send:ok', 'awaitDelivery:deliver:ok', 'depositToVault:deposit:failed', 'sendOverBridge:return:ok', 'awaitDelivery:return-deliver:ok', 'depositToVault:return-deposit:ok']);
      const ret = s.returned!;
      assert.deepEqual(s.callsOf('sendOverBridge', 'return')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'return', from: 'beta', to: 'alpha', amount: AMOUNT, bridge });
      assert.deepEqual(s.callsOf('awaitDelivery', 'return-deliver')[0]!.input, { from: 'beta', to: 'alpha', guid: ret.guid, nonce: ret.nonce, bridge, key: legKey(s.rebalanceId, 'return') });
      assert.deepEqual(s.callsOf('depositToVault', 'return-deposit')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'return-deposit', chainKey: 'alpha', amount: AMOUNT });
      assert.notEqual(ret.guid, r.guid);
      assert.equal(r.feePaidWei, 2_000n, 'both sends paid');
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:alpha': AMOUNT }, 'the ledger shows the funds back in the source vault');
    });

    test('a ledger mismatch at open (a front-run withdrawal under the saga id, 1 unit short) → stranded, accounts named, no leg runs', async () => {
      const s = sc('front-run', { preset: { withdrawn: AMOUNT - 1n } });
      const r = await run(s);
      assert.equal(r.outcome, 'stranded');
      assert.equal(r.ledgerMismatch, `ledger mismatch after open: route:alpha expected 0 observed ${AMOUNT - 1n} (diff ${AMOUNT - 1n}); vault:alpha expected ${AMOUNT} observed 1 (diff ${1n - AMOUNT})`);
      assert.equal(r.reason, r.ledgerMismatch);
      assert.equal(r.legs.length, 0, 'the saga did not act on books that disagree with the chain');
      assert.deepEqual(writesOf(s), []);
      const report = only(s.callsOf('reportLedgerMismatch'), 'reportLedgerMismatch').input as { step: string; mismatches: unknown[] };
      assert.equal(report.step, 'open');
      assert.deepEqual(report.mismatches, [
        { account: 'route:alpha', expected: 0n, observed: AMOUNT - 1n },
        { account: 'vault:alpha', expected: AMOUNT, observed: 1n },
      ]);
      assert.deepEqual(only(s.callsOf('locateFunds'), 'locateFunds').input, { from: 'alpha', to: 'beta', bridge, key: s.rebalanceId });
    });
  });
}

describe('rebalanceWorkflow: compensation failures, mismatches, retries (time-skipping, activity doubles)', () => {
  const depositReverts = always(revert('beta', 'depositFromRoute', 'InflowPaused'));

  test('deposit reverts, the return never arrives → stranded at the deadline, in flight under the return GUID', async () => {
    const s = scenario('return-never', { faults: { deposit: depositReverts }, arrival: { return: 'never' } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.reason ?? '', /InflowPaused.*; compensation return failed: GUID 0x[0-9a-f]{64} \(nonce 2\) not delivered on alpha/);
    assert.deepEqual(legsOf(r).slice(4), ['compensation:return:ok', 'compensation:return-deliver:failed']);
    const polls = s.callsOf('awaitDelivery', 'return-deliver');
    assert.ok(polls.at(-1)!.atMs - polls[0]!.atMs <= DEADLINE * 1000 && polls.at(-1)!.atMs - polls[0]!.atMs > DEADLINE * 1000 - MAX_POLL_MS, 'polled until the deadline');
    assert.equal(s.callsOf('depositToVault', 'return-deposit').length, 0);
    assert.deepEqual(nonZero(r.ledger.balances), { [`inflight:${s.returned!.guid.toLowerCase()}`]: AMOUNT });
  });

  test('a ledger mismatch after deliver (someone deposited 1 unit under the id on beta) → stranded by the mismatch, not "not delivered"; no deposit', async () => {
    const s = scenario('mismatch-deliver', { onLeg: { deliver: (f) => void (f.deposited += 1n) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.equal(r.ledgerMismatch, `ledger mismatch after deliver: route:beta expected ${AMOUNT} observed ${AMOUNT - 1n} (diff -1); vault:beta expected 0 observed 1 (diff 1)`);
    assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok']);
    assert.equal(s.callsOf('depositToVault').length, 0);
    assert.equal((only(s.callsOf('reportLedgerMismatch'), 'report').input as { step: string }).step, 'deliver');
    assert.deepEqual(only(s.callsOf('locateFunds'), 'locateFunds').input, { from: 'alpha', to: 'beta', guid: r.guid, nonce: r.nonce, bridge: 'layerzero', key: s.rebalanceId });
  });

  test('a ledger mismatch during a compensation (after return-deliver) → stranded by the mismatch; the return is not deposited', async () => {
    const s = scenario('mismatch-comp', { faults: { deposit: depositReverts }, onLeg: { 'return-deliver': (f) => void (f.returnDeposited += 1n) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.ledgerMismatch ?? '', /^ledger mismatch after return-deliver: route:alpha expected 50000000000 observed 49999999999 \(diff -1\); vault:alpha expected 0 observed 1 \(diff 1\)$/);
    assert.deepEqual(legsOf(r).slice(4), ['compensation:return:ok', 'compensation:return-deliver:ok']);
    assert.equal(s.callsOf('depositToVault', 'return-deposit').length, 0);
  });

  test('retryable failures are retried by the writes policy and the leg is recorded once: withdraw (RPC down ×2), send (receipt lost after the write → alreadyDone)', async () => {
    const s = scenario('retried', { faults: { withdraw: firstAttempts(2, transient('fetch failed: RPC down')), send: afterWrite(1, transient('receipt wait timed out')) } });
    const r = await run(s);
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:ok']);
    assert.deepEqual(s.callsOf('withdrawFromVault').map((c) => `${c.attempt}:${c.status}`), ['1:failed', '2:failed', '3:ok']);
    assert.deepEqual(s.callsOf('sendOverBridge').map((c) => `${c.attempt}:${c.status}`), ['1:failed', '2:ok']);
    assert.equal(r.legs[1]!.alreadyDone, true, 'the retried send found its own message on chain');
    assert.equal(r.legs[0]!.alreadyDone, false);
    assert.equal(s.sent!.nonce, 1n, 'one message sent');
    assert.deepEqual(nonZero(r.ledger.balances), { 'vault:beta': AMOUNT });
    // The writes policy backs off 1 s, then 2 s (server time).
    const [a1, a2, a3] = s.callsOf('withdrawFromVault').map((c) => c.atMs);
    assert.ok(a2! - a1! >= 1_000 && a3! - a2! >= 2_000, `backoff ${a2! - a1!} ms, ${a3! - a2!} ms`);
  });

  test('a non-retryable delivery failure (ConfigError) strands at once, not at the deadline', async () => {
    const s = scenario('config-error', { faults: { deliver: always(() => ApplicationFailure.nonRetryable('beta: a Wormhole transfer needs chains[beta].wormhole (chainId, core, adapter) in the config', 'ConfigError')) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.reason ?? '', /not seen within 120s: beta: a Wormhole transfer needs chains\[beta\]\.wormhole/);
    assert.equal(s.callsOf('awaitDelivery').length, 1, 'not retried');
    assert.ok(r.durationSec < 5, `stranded after ${r.durationSec} s`);
  });

  test('stale audit reads (StaleRead) are retried by the audit policy; the saga goes on', async () => {
    const stale = () => ApplicationFailure.retryable('alpha: node answered block 100, older than block 101 already seen by this saga (stale read); retrying', 'StaleRead');
    const s = scenario('stale', { faults: { observe: firstAttempts(2, stale) } });
    const r = await run(s);
    assert.equal(r.outcome, 'completed', r.reason);
    // Each of the 5 reads (open and after each leg) answered stale twice, then read fresh.
    assert.deepEqual(s.callsOf('observeRebalanceFunds').map((c) => `${c.attempt}:${c.status}`), Array.from({ length: 5 }, () => ['1:failed', '2:failed', '3:ok']).flat());
  });

  test('locateFunds failing transiently is retried (books policy); the stranded saga is still located', async () => {
    const s = scenario('locate-retried', { arrival: { forward: 'never' }, faults: { locate: firstAttempts(2, transient('beta: RPC timeout')) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.deepEqual(s.callsOf('locateFunds').map((c) => c.status), ['failed', 'failed', 'ok']);
    assert.equal(r.fundsLocation?.guid, r.guid);
  });

  test('locateFunds failing past the books policy (10 attempts) after a missed deadline → still stranded, the reason says so', async () => {
    const s = scenario('locate-fails', { arrival: { forward: 'never' }, faults: { locate: always(transient('beta: RPC down')) } });
    const r = await run(s);
    assert.equal(s.callsOf('locateFunds').length, 10);
    assert.equal(r.outcome, 'stranded', 'the funds are in flight: never `compensated`');
    assert.match(r.reason ?? '', /not seen within 120s: .*the funds could not be located: .*beta: RPC down/);
    assert.equal(r.fundsLocation, undefined);
    assert.equal(s.callsOf('depositToVault').length, 0, 'nothing deposited');
  });

  test('a failing compensation whose funds cannot be located (locateFunds down) → stranded, not a failed workflow', async () => {
    const s = scenario('comp-fails-locate-fails', {
      faults: { send: always(revert('alpha', 'send', 'NoPeerRoute')), redeposit: always(revert('alpha', 'depositFromRoute', 'InflowPaused')), locate: always(transient('alpha: RPC down')) },
    });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.reason ?? '', /compensation redeposit failed: .*; the funds could not be located: .*alpha: RPC down/);
    assert.equal(s.callsOf('locateFunds').length, 10);
  });

  test('Wormhole: VAAs that do not verify keeper-side (VaaRejected) are retried until a good one is served → completed', async () => {
    const rejected = () => ApplicationFailure.retryable('rebalance key 0x…: message 10201/0x…/1: signature 0 does not verify', 'VaaRejected');
    const s = scenario('vaa-rejected', { bridge: 'wormhole', faults: { deliver: firstAttempts(3, rejected) } });
    const r = await run(s);
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(s.callsOf('awaitDelivery').map((c) => c.status), ['failed', 'failed', 'failed', 'ok']);
    assert.deepEqual(legsOf(r), ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:ok']);
  });

  test('an input without a bridge (recorded before Wormhole) goes over LayerZero', async () => {
    const s = scenario('no-bridge');
    const r = await run(s, { bridge: undefined });
    assert.equal(r.outcome, 'completed');
    assert.equal(r.bridge, 'layerzero');
    assert.equal((only(s.callsOf('sendOverBridge'), 'send').input as { bridge?: string }).bridge, 'layerzero');
    assert.equal(recorded(s).bridge, 'layerzero');
  });
});

/**
 * A stranded return is located by the RETURN message (issue 11, defect 4): before, the collateral saga named the
 * forward GUID/nonce (delivered long ago) for funds in flight under the return, to its locate and to the monitor.
 */
describe('rebalanceWorkflow: a stranded return is located by the return message (issue 11, defect 4)', () => {
  test('deposit reverts, the return never arrives → locateFunds and the result name the return GUID and nonce', async () => {
    const s = scenario('return-located', { faults: { deposit: always(revert('beta', 'depositFromRoute', 'InflowPaused')) }, arrival: { return: 'never' } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.equal(r.returnGuid, s.returned!.guid);
    assert.equal(r.returnNonce, s.returned!.nonce);
    assert.deepEqual(only(s.callsOf('locateFunds'), 'locateFunds').input, { from: 'alpha', to: 'beta', guid: s.returned!.guid, nonce: s.returned!.nonce, bridge: 'layerzero', key: legKey(s.rebalanceId, 'return'), returned: true });
    assert.equal(r.fundsLocation?.guid, s.returned!.guid);
    assert.equal(r.fundsLocation?.delivered, false, 'the return is not delivered');
    assert.match(r.fundsLocation?.summary ?? '', new RegExp(`return LayerZero GUID ${s.returned!.guid} nonce ${s.returned!.nonce} not delivered on alpha`));
  });
});

describe('rebalanceWorkflow tells its monitor (time-skipping; the real monitorWorkflow, paused)', () => {
  /**
   * The stranded cases here wait out a short delivery deadline: what they check is the signal, not the deadline. With a
   * second workflow (the monitor) open, the time-skipping server sometimes stopped skipping during the return's
   * delivery wait (seen in fresh-clone CI runs: the 120 s deadline took 115 s of wall time, 2 runs of 3).
   */
  const SHORT_DEADLINE_SEC = 5;
  const monitorInput = (deployment: string): MonitorInput => ({
    deployment,
    tickIntervalSec: 86_400,
    maxTicksBeforeContinueAsNew: 100,
    deliveryDeadlineSec: DEADLINE,
    carried: {
      status: { deployment, paused: true, pauseReason: 'saga branch tests', ticks: 0, totalTicks: 0, inFlight: [], lastUnresolved: [], started: 0, finished: { completed: 0, compensated: 0, stranded: 0 }, recent: [], ledger: { stranded: [] } },
    },
  });
  const withMonitor = async <T>(deployment: string, fn: (monitorId: string) => Promise<T>): Promise<{ result: T; status: MonitorStatus }> => {
    const monitorId = `ballast-monitor-${deployment}`;
    const handle = await w.env.client.workflow.start('monitorWorkflow', { taskQueue: w.taskQueue, workflowId: monitorId, args: [monitorInput(deployment)] });
    try {
      const result = await fn(monitorId);
      return { result, status: await handle.query<MonitorStatus>('status') };
    } finally {
      await handle.terminate('saga branch test done');
    }
  };

  test('a stranded saga signals its GUID and nonce: the monitor counts it in flight for the deployment ledger', async () => {
    const s = scenario('monitor-stranded', { arrival: { forward: 'never' } });
    const { result: r, status } = await withMonitor('stranded', (monitorWorkflowId) => run(s, { monitorWorkflowId, deliveryDeadlineSec: SHORT_DEADLINE_SEC }));
    assert.equal(r.outcome, 'stranded');
    assert.deepEqual(status.finished, { completed: 0, compensated: 0, stranded: 1 });
    assert.deepEqual(status.ledger.stranded, [{ rebalanceId: s.rebalanceId, from: 'alpha', to: 'beta', amount: AMOUNT, guid: r.guid, nonce: r.nonce, bridge: 'layerzero' }]);
    assert.equal(status.ledger.halted, undefined);
  });

  test('a stranded RETURN signals the return GUID and nonce, beta -> alpha (issue 11, defect 4)', async () => {
    const s = scenario('monitor-stranded-return', { faults: { deposit: always(revert('beta', 'depositFromRoute', 'InflowPaused')) }, arrival: { return: 'never' } });
    const { result: r, status } = await withMonitor('stranded-return', (monitorWorkflowId) => run(s, { monitorWorkflowId, deliveryDeadlineSec: SHORT_DEADLINE_SEC }));
    assert.equal(r.outcome, 'stranded');
    assert.deepEqual(status.ledger.stranded, [{ rebalanceId: s.rebalanceId, from: 'beta', to: 'alpha', amount: AMOUNT, guid: s.returned!.guid, nonce: s.returned!.nonce, bridge: 'layerzero', key: legKey(s.rebalanceId, 'return') }]);
  });

  test('a ledger mismatch halts the monitor (new rebalances stop) with the accounts named', async () => {
    const s = scenario('monitor-mismatch', { preset: { withdrawn: AMOUNT - 1n } });
    const { result: r, status } = await withMonitor('mismatch', (monitorWorkflowId) => run(s, { monitorWorkflowId }));
    assert.equal(r.outcome, 'stranded');
    assert.equal(status.ledger.halted, `rebalance ${s.rebalanceId}: ${r.ledgerMismatch}`);
    assert.deepEqual(status.ledger.stranded, [], 'nothing was sent: nothing in flight');
  });

  test('a monitor that is gone: the signal fails, the saga logs it and its outcome stands', async () => {
    const s = scenario('monitor-gone');
    const r = await run(s, { monitorWorkflowId: 'ballast-monitor-no-such-deployment' });
    assert.equal(r.outcome, 'completed');
    assert.equal(recorded(s).outcome, 'completed');
  });
});
