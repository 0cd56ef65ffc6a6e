/**
 * Every branch of the capacity saga (`capacityMoveWorkflow`, workflows/capacity.ts, steps in workflows/saga.ts),
 * over LayerZero and over Wormhole, on Temporal's time-skipping test server: the REAL workflow code (keeper/worker.ts
 * `workflowsPath`) in a Worker whose activities are doubles under the real names (test/workflows/sagaDoubles.ts:
 * real input and result types, a model of the vault and messenger records so the capacity ledger reconciles,
 * every call recorded). Deadlines and backoffs are skipped; assertions are on results and recorded calls only.
 * The collateral saga's branches are in sagaBranches.test.ts.
 *
 * The outcome of every fault schedule, for both move kinds and both bridges, is the matrix in sagaMatrix.test.ts;
 * this file keeps what is the capacity kind's own (activity inputs, Wormhole redemption, polling, mismatch texts).
 *
 * Branches of capacityMoveWorkflow found in the code, and the case(s) covering each ([both] = once per bridge;
 * [matrix] = in sagaMatrix.test.ts):
 *  1. reserve → send → deliver → apply → `completed` (LayerZero: sendCredit, awaitCreditDelivery; Wormhole:
 *     sendCreditWormhole, fetchCreditVaa, redeemCreditVaa) ........................................ [both] completes
 *  2. reserve fails (revert) → nothing to compensate → `compensated` ................................ [matrix]
 *  3. send fails → restore the reservation → `compensated` ........................................... [both] send reverts
 *  4. send fails, restore fails → `stranded`, credit located (reservation still reserved) ............ [both] failing restore
 *  5. deliver past the deadline → `stranded` at the deadline, credit located (sent, not delivered),
 *     no apply ......................................................................... [both] delivery never comes
 *  6. deliver late but inside the deadline → `completed` ............................................. [matrix]
 *  7. apply fails → return over the same bridge, deliver back, re-apply at the source → `compensated` .. [both] apply reverts
 *  8. apply fails, the return send fails → `stranded` ................................................. [matrix]
 *  9. apply fails, the return never arrives → `stranded` at the deadline, in flight under the return id . return never delivered
 * 10. apply fails, the return's apply fails → `stranded` ............................................. [matrix]
 * 11. Wormhole: the VAA redeem reverts (non-retryable) → the deliver step fails → `stranded` at once .. redeem reverts
 * 12. Wormhole: VAAs refused keeper-side (VaaRejected) retried until a good one → `completed` ........ VAA refused then good
 * 13. Wormhole: the VAA poll interval is the input's `vaaPollIntervalMs` (LayerZero: 500 ms) .......... poll interval
 * 14. ledger mismatch at open / after a leg (inside deliver's catch, rethrown) / during a compensation
 *     → `stranded`, accounts named, reported .......................................... [both] front-run; mismatch cases
 * 15. `locateCredit` fails past the books policy (10 attempts) → still `stranded`, the reason says the credit
 *     could not be located (never silently) ............................................................ locate fails
 * 16. retryable failures retried by the writes policy (leg recorded once; alreadyDone after a lost receipt);
 *     past 5 attempts the leg fails → compensation ................................... retried legs; [matrix]
 * 17. the monitor is told the outcome (a mismatch halts it); a monitor that is gone → warning, outcome stands
 * 18. an input without `bridge` goes over LayerZero ..................................................... no bridge field
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { keccak256, toHex, type Hex } from 'viem';
import type { CapacityMoveInput, CapacityMoveResult } from '../../workflows/capacity.js';
import type { MonitorInput } from '../../workflows/types.js';
import type { MonitorStatus } from '../../workflows/messages.js';
import { legKey } from '../../activities/legKey.js';
import { wormholeMessageId } from '../../chains/evm/credit.js';
import { nonZero } from '../../ledger/ledger.js';
import { afterWrite, always, firstAttempts, revert, startSagaWorld, transient, WORMHOLE, type CapacityOptions, type CapacityScenario, type SagaWorld } from './sagaDoubles.js';

const X = 250_000n * 10n ** 6n;
/** The delivery deadline of these cases, seconds (skipped, never waited). */
const DEADLINE = 120;
/** The delivery waits' largest retry interval (workflows/saga.ts `deliveryWaitFor`). */
const MAX_POLL_MS = 10_000;

let w: SagaWorld;
before(async () => {
  w = await startSagaWorld();
});
after(async () => {
  await w?.stop();
});

let seq = 0;
const idFor = (name: string): Hex => keccak256(toHex(`capacity-branches:${name}:${++seq}`));
const scenario = (name: string, opts: Omit<CapacityOptions, 'rebalanceId' | 'amount'> = {}): CapacityScenario => w.lab.capacity({ rebalanceId: idFor(name), amount: X, ...opts });
const run = (s: CapacityScenario, over: Partial<CapacityMoveInput> = {}): Promise<CapacityMoveResult> =>
  w.execute<CapacityMoveResult>('capacityMoveWorkflow', { rebalanceId: s.rebalanceId, from: s.from, to: s.to, amount: s.amount, reason: 'test', deliveryDeadlineSec: DEADLINE, bridge: s.bridge, ...over } satisfies CapacityMoveInput);

const legsOf = (r: CapacityMoveResult) => r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`);
const writesOf = (s: CapacityScenario) => s.calls.filter((c) => c.leg && c.leg !== 'observe' && c.leg !== 'locate').map((c) => `${c.activity}:${c.leg}:${c.status}`);
const only = <T>(xs: T[], what: string): T => {
  assert.equal(xs.length, 1, `exactly one ${what}`);
  return xs[0]!;
};
const recorded = (s: CapacityScenario) => only(s.callsOf('recordCapacityOutcome'), 'recordCapacityOutcome').input as { outcome: string; messageIds: string[]; where?: string; bridge: string };

for (const bridge of ['layerzero', 'wormhole'] as const) {
  /** The activities of this bridge's send and delivery (forward `leg`s: send, deliver; the return's: return, return-deliver). */
  const sendActivity = bridge === 'wormhole' ? 'sendCreditWormhole' : 'sendCredit';
  const waitActivity = bridge === 'wormhole' ? 'fetchCreditVaa' : 'awaitCreditDelivery';
  /** The write calls of a delivered message: the wait (and over Wormhole the redeem). */
  const delivered = (leg: 'deliver' | 'return-deliver') => (bridge === 'wormhole' ? [`fetchCreditVaa:${leg}:ok`, `redeemCreditVaa:${leg === 'deliver' ? 'redeem' : 'return-redeem'}:ok`] : [`awaitCreditDelivery:${leg}:ok`]);

  describe(`capacityMoveWorkflow over ${bridge} (time-skipping, activity doubles)`, () => {
    const sc = (name: string, opts: Omit<CapacityOptions, 'rebalanceId' | 'amount' | 'bridge'> = {}) => scenario(`${bridge}:${name}`, { bridge, ...opts });

    test('completes: reserve, send, deliver, apply once each with the saga keys; the capacity ledger ends in the destination limit', async () => {
      const s = sc('completed');
      const r = await run(s);
      assert.equal(r.outcome, 'completed', r.reason);
      assert.equal(r.kind, 'capacity');
      assert.equal(r.bridge, bridge);
      assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:apply:ok']);
      assert.deepEqual(writesOf(s), ['reserveCredit:reserve:ok', `${sendActivity}:send:ok`, ...delivered('deliver'), 'applyCredit:apply:ok']);
      assert.deepEqual(s.callsOf('reserveCredit')[0]!.input, { rebalanceId: s.rebalanceId, chainKey: 'alpha', amount: X });
      assert.deepEqual(s.callsOf(sendActivity)[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', amount: X });
      if (bridge === 'wormhole') {
        const m = WORMHOLE.alpha!;
        assert.equal(r.messageId, wormholeMessageId(m.chainId, m.messenger, 1n));
        assert.equal(r.nonce, undefined, 'no LayerZero nonce');
        assert.deepEqual(s.callsOf('fetchCreditVaa')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'forward', from: 'alpha', to: 'beta', emitterChain: m.chainId, emitter: m.messenger, sequence: 1n });
        const fetched = s.callsOf('fetchCreditVaa')[0]!.result as { vaa: Hex };
        assert.deepEqual(s.callsOf('redeemCreditVaa')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'forward', chainKey: 'beta', vaa: fetched.vaa, from: 'alpha' }, 'the fetched VAA is redeemed on the destination');
      } else {
        assert.match(r.messageId ?? '', /^0x[0-9a-f]{64}$/);
        assert.deepEqual(s.callsOf('awaitCreditDelivery')[0]!.input, { from: 'alpha', to: 'beta', guid: r.messageId, nonce: r.nonce });
      }
      assert.deepEqual(s.callsOf('applyCredit')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'forward', chainKey: 'beta' });
      assert.equal(r.feePaidWei, 1_000n);
      assert.deepEqual(nonZero(r.ledger.balances), { 'limit:beta': X });
      assert.equal(r.ledger.entries.length, 4);
      assert.equal(s.callsOf('observeCapacityFunds').length, 5);
      assert.deepEqual(recorded(s), { rebalanceId: s.rebalanceId, from: 'alpha', to: 'beta', amount: X, bridge, outcome: 'completed', durationSec: r.durationSec, messageIds: [r.messageId] });
      assert.equal(s.callsOf('locateCredit').length, 0);
    });

    test('send reverts (NoPeer) → the reservation is restored → compensated', async () => {
      const s = sc('send-reverts', { faults: { send: always(revert('alpha', sendActivity, bridge === 'wormhole' ? 'NoWormholePeer' : 'NoPeer')) } });
      const r = await run(s);
      assert.equal(r.outcome, 'compensated');
      assert.match(r.reason ?? '', /NoPeer|NoWormholePeer/);
      assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:failed', 'compensation:restore:ok']);
      assert.deepEqual(writesOf(s), ['reserveCredit:reserve:ok', `${sendActivity}:send:failed`, 'restoreCredit:restore:ok']);
      assert.deepEqual(s.callsOf('restoreCredit')[0]!.input, { rebalanceId: s.rebalanceId, chainKey: 'alpha' });
      assert.deepEqual(nonZero(r.ledger.balances), { 'limit:alpha': X });
      assert.equal(r.messageId, undefined);
    });

    test('send reverts and the restore reverts → stranded, the credit located (still reserved on the source)', async () => {
      const s = sc('restore-fails', { faults: { send: always(revert('alpha', sendActivity, 'OutflowPaused')), restore: always(revert('alpha', 'restoreCredit', 'OutflowPaused')) } });
      const r = await run(s);
      assert.equal(r.outcome, 'stranded');
      assert.match(r.reason ?? '', /OutflowPaused.*; compensation restore failed: alpha: restoreCredit reverted: OutflowPaused/);
      assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:failed', 'compensation:restore:failed']);
      const locate = only(s.callsOf('locateCredit'), 'locateCredit');
      assert.deepEqual(locate.input, { rebalanceId: s.rebalanceId, from: 'alpha', to: 'beta' });
      assert.deepEqual(r.creditLocation, locate.result);
      assert.deepEqual(r.creditLocation?.reservation, { amount: X, status: 'reserved' });
      assert.equal(recorded(s).where, r.creditLocation?.summary);
      assert.deepEqual(nonZero(r.ledger.balances), { 'reserved:alpha': X });
    });

    test('delivery never comes → stranded at the deadline (time skipped): the credit located as sent, not delivered; no apply', async () => {
      const s = sc('never', { arrival: { forward: 'never' } });
      const r = await run(s);
      assert.equal(r.outcome, 'stranded');
      assert.match(r.reason ?? '', new RegExp(`^delivery of capacity message ${r.messageId} not seen within ${DEADLINE}s: `));
      assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:failed']);
      assert.equal(s.callsOf('applyCredit').length + s.callsOf('redeemCreditVaa').length, 0, 'nothing redeemed or applied');
      const polls = s.callsOf(waitActivity);
      const strandedAt = r.legs[2]!.atMs;
      assert.ok(polls.length > 10 && polls.every((c) => c.status === 'failed'), `${polls.length} polls, all "not yet"`);
      assert.ok(polls.at(-1)!.atMs <= polls[0]!.atMs + DEADLINE * 1000, 'no poll after the deadline');
      assert.ok(polls.at(-1)!.atMs + MAX_POLL_MS > polls[0]!.atMs + DEADLINE * 1000, 'the next poll would have been past the deadline');
      assert.ok(strandedAt >= polls.at(-1)!.atMs && strandedAt <= polls[0]!.atMs + DEADLINE * 1000);
      assert.ok(r.creditLocation, 'credit located');
      assert.deepEqual(r.creditLocation.sent, { bridge, id: r.messageId, amount: X, delivered: false });
      assert.equal(r.creditLocation.reservation.status, 'sent');
      assert.deepEqual(nonZero(r.ledger.balances), { [`inflight:${r.messageId!.toLowerCase()}`]: X });
      assert.deepEqual(recorded(s).messageIds, [r.messageId]);
    });

    test('apply reverts (InflowPaused) → returned over the same bridge, delivered back, re-applied on the source → compensated', async () => {
      const s = sc('apply-reverts', { faults: { apply: always(revert('beta', 'applyCredit', 'InflowPaused')) } });
      const r = await run(s);
      assert.equal(r.outcome, 'compensated', r.reason);
      assert.match(r.reason ?? '', /InflowPaused/);
      assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:apply:failed', 'compensation:return:ok', 'compensation:return-deliver:ok', 'compensation:return-apply:ok']);
      assert.deepEqual(writesOf(s), ['reserveCredit:reserve:ok', `${sendActivity}:send:ok`, ...delivered('deliver'), 'applyCredit:apply:failed', `${sendActivity}:return:ok`, ...delivered('return-deliver'), 'applyCredit:return-apply:ok']);
      assert.deepEqual(s.callsOf(sendActivity, 'return')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'return', from: 'beta', to: 'alpha', amount: X });
      if (bridge === 'wormhole') {
        assert.equal((s.callsOf('fetchCreditVaa', 'return-deliver')[0]!.input as { purpose: string; emitterChain: number }).purpose, 'return');
        assert.equal((s.callsOf('fetchCreditVaa', 'return-deliver')[0]!.input as { emitterChain: number }).emitterChain, WORMHOLE.beta!.chainId, 'the return is emitted by beta');
        assert.deepEqual((s.callsOf('redeemCreditVaa', 'return-redeem')[0]!.input as { chainKey: string; purpose: string }).chainKey, 'alpha');
      } else {
        assert.deepEqual(s.callsOf('awaitCreditDelivery', 'return-deliver')[0]!.input, { from: 'beta', to: 'alpha', guid: r.returnMessageId, nonce: s.returned!.nonce });
      }
      assert.deepEqual(s.callsOf('applyCredit', 'return-apply')[0]!.input, { rebalanceId: s.rebalanceId, purpose: 'return', chainKey: 'alpha' });
      assert.ok(r.returnMessageId && r.returnMessageId !== r.messageId);
      assert.equal(r.feePaidWei, 2_000n);
      assert.deepEqual(nonZero(r.ledger.balances), { 'limit:alpha': X }, 'the capacity is back in the source limit');
      assert.deepEqual(recorded(s).messageIds, [r.messageId, r.returnMessageId]);
    });

    test('a ledger mismatch at open (a reservation under the saga id already exists) → stranded, accounts named, no leg runs', async () => {
      const s = sc('front-run', { preset: { reservation: { amount: X, status: 'reserved' } } });
      const r = await run(s);
      assert.equal(r.outcome, 'stranded');
      assert.equal(r.ledgerMismatch, `ledger mismatch after open: limit:alpha expected ${X} observed 0 (diff ${-X}); reserved:alpha expected 0 observed ${X} (diff ${X})`);
      assert.equal(r.legs.length, 0);
      assert.deepEqual(writesOf(s), []);
      assert.equal((only(s.callsOf('reportLedgerMismatch'), 'report').input as { step: string }).step, 'open');
      assert.equal(s.callsOf('locateCredit').length, 1);
    });
  });
}

describe('capacityMoveWorkflow: compensation failures, Wormhole redemption, mismatches, retries (time-skipping, activity doubles)', () => {
  const applyReverts = always(revert('beta', 'applyCredit', 'InflowPaused'));

  test('apply reverts, the return never arrives → stranded at the deadline, in flight under the return message', async () => {
    const s = scenario('return-never', { faults: { apply: applyReverts }, arrival: { return: 'never' } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.reason ?? '', /; compensation return failed: capacity message 0x[0-9a-f]{64} \(nonce 2\) not delivered on alpha/);
    assert.deepEqual(legsOf(r).slice(4), ['compensation:return:ok', 'compensation:return-deliver:failed']);
    const polls = s.callsOf('awaitCreditDelivery', 'return-deliver');
    assert.ok(polls.at(-1)!.atMs - polls[0]!.atMs <= DEADLINE * 1000 && polls.at(-1)!.atMs - polls[0]!.atMs > DEADLINE * 1000 - MAX_POLL_MS);
    assert.equal(r.creditLocation?.returned?.delivered, false);
    assert.deepEqual(nonZero(r.ledger.balances), { [`inflight:${r.returnMessageId!.toLowerCase()}`]: X });
  });

  test('Wormhole: the VAA redeem reverts (InvalidVaa, non-retryable) → the deliver step fails at once → stranded', async () => {
    const s = scenario('redeem-reverts', { bridge: 'wormhole', faults: { redeem: always(revert('beta', 'receiveCreditVaa', 'InvalidVaa')) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.reason ?? '', new RegExp(`^delivery of capacity message ${r.messageId} not seen within ${DEADLINE}s: beta: receiveCreditVaa reverted: InvalidVaa`));
    assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:failed']);
    assert.deepEqual(writesOf(s), ['reserveCredit:reserve:ok', 'sendCreditWormhole:send:ok', 'fetchCreditVaa:deliver:ok', 'redeemCreditVaa:redeem:failed']);
    assert.ok(r.durationSec < 5, 'not waited out to the deadline');
    assert.equal(r.creditLocation?.sent?.delivered, false);
  });

  test('Wormhole: VAAs refused keeper-side (VaaRejected) are fetched again until a good one → completed', async () => {
    const rejected = () => ApplicationFailure.retryable('capacity forward 0x… (alpha->beta): message wormhole/10201/…/1: signature 0 does not verify', 'VaaRejected');
    const s = scenario('vaa-rejected', { bridge: 'wormhole', faults: { deliver: firstAttempts(2, rejected) } });
    const r = await run(s);
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(s.callsOf('fetchCreditVaa').map((c) => c.status), ['failed', 'failed', 'ok']);
    assert.equal(s.callsOf('redeemCreditVaa').length, 1, 'only the good VAA is submitted');
  });

  test('the VAA poll interval is the input’s vaaPollIntervalMs over Wormhole; LayerZero polls from 500 ms', async () => {
    const gaps = (s: CapacityScenario, activity: string) => {
      const t = s.callsOf(activity).map((c) => c.atMs);
      return t.slice(1).map((x, i) => x - t[i]!);
    };
    const wormhole = scenario('poll-wormhole', { bridge: 'wormhole', arrival: { forward: 20_000 } });
    await run(wormhole, { vaaPollIntervalMs: 4_000 });
    const wg = gaps(wormhole, 'fetchCreditVaa');
    assert.ok(wg[0]! >= 4_000 && wg[0]! < 5_000, `first retry after ${wg[0]} ms`);
    const lz = scenario('poll-lz', { arrival: { forward: 20_000 } });
    await run(lz, { vaaPollIntervalMs: 4_000 });
    const lg = gaps(lz, 'awaitCreditDelivery');
    assert.ok(lg[0]! >= 500 && lg[0]! < 1_500, `first retry after ${lg[0]} ms (vaaPollIntervalMs does not apply)`);
  });

  test('a ledger mismatch after deliver (1 unit applied under the id by someone else) → stranded by the mismatch, not "not delivered"; no apply', async () => {
    const s = scenario('mismatch-deliver', { onLeg: { deliver: (f) => void (f.applied += 1n) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.equal(r.ledgerMismatch, `ledger mismatch after deliver: limit:beta expected 0 observed 1 (diff 1); pending:beta expected ${X} observed ${X - 1n} (diff -1)`);
    assert.equal(r.reason, r.ledgerMismatch);
    assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:ok']);
    assert.equal(s.callsOf('applyCredit').length, 0);
    assert.equal((only(s.callsOf('reportLedgerMismatch'), 'report').input as { step: string }).step, 'deliver');
  });

  test('a ledger mismatch during a compensation (after return-deliver) → stranded by the mismatch; no return-apply', async () => {
    const s = scenario('mismatch-comp', { faults: { apply: applyReverts }, onLeg: { 'return-deliver': (f) => void (f.returnApplied += 1n) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.ledgerMismatch ?? '', /^ledger mismatch after return-deliver: limit:alpha expected 0 observed 1 \(diff 1\); pending:alpha expected 250000000000 observed 249999999999 \(diff -1\)$/);
    assert.equal(s.callsOf('applyCredit', 'return-apply').length, 0);
  });

  test('locateCredit failing past the books policy (10 attempts) → still stranded, the reason says the credit could not be located', async () => {
    const s = scenario('locate-fails', { arrival: { forward: 'never' }, faults: { locate: always(transient('beta: RPC down')) } });
    const r = await run(s);
    assert.equal(r.outcome, 'stranded');
    assert.match(r.reason ?? '', /not seen within 120s: .*; the credit could not be located: beta: RPC down$/);
    assert.equal(r.creditLocation, undefined);
    assert.equal(s.callsOf('locateCredit').length, 10);
    assert.equal(recorded(s).outcome, 'stranded');
  });

  test('retryable failures are retried and the leg recorded once: reserve (RPC down ×2), send (receipt lost after the write → alreadyDone)', async () => {
    const s = scenario('retried', { faults: { reserve: firstAttempts(2, transient('fetch failed')), send: afterWrite(1, transient('receipt wait timed out')) } });
    const r = await run(s);
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(legsOf(r), ['leg:reserve:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:apply:ok']);
    assert.deepEqual(s.callsOf('reserveCredit').map((c) => `${c.attempt}:${c.status}`), ['1:failed', '2:failed', '3:ok']);
    assert.deepEqual(s.callsOf('sendCredit').map((c) => `${c.attempt}:${c.status}`), ['1:failed', '2:ok']);
    assert.equal(r.legs[1]!.alreadyDone, true);
    assert.equal(s.sent!.nonce, 1n, 'one message sent');
  });

  test('an input without a bridge goes over LayerZero; the return key is legKey(id, "return")', async () => {
    const s = scenario('no-bridge', { faults: { apply: applyReverts } });
    const r = await run(s, { bridge: undefined });
    assert.equal(r.bridge, 'layerzero');
    assert.equal(r.outcome, 'compensated');
    assert.equal((s.callsOf('sendCredit', 'return')[0]!.result as { legKey: Hex }).legKey, legKey(s.rebalanceId, 'return'));
  });
});

describe('capacityMoveWorkflow tells its monitor (time-skipping; the real monitorWorkflow, paused)', () => {
  /**
   * The stranded case waits out a short delivery deadline: what it checks is the signal, not the deadline. With a second
   * workflow (the monitor) open, the time-skipping server sometimes stops skipping (test/workflows/sagaBranches.test.ts
   * saw a 120 s deadline take 115 s of wall time; a CI run of this file with the 120 s deadline never finished).
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

  test('a stranded move and a ledger mismatch are signalled: counted, and the mismatch halts the monitor', async () => {
    const handle = await w.env.client.workflow.start('monitorWorkflow', { taskQueue: w.taskQueue, workflowId: 'ballast-monitor-capacity', args: [monitorInput('capacity')] });
    try {
      const never = await run(scenario('monitor-never', { arrival: { forward: 'never' } }), { monitorWorkflowId: handle.workflowId, deliveryDeadlineSec: SHORT_DEADLINE_SEC });
      assert.equal(never.outcome, 'stranded');
      let status = await handle.query<MonitorStatus>('status');
      assert.deepEqual(status.finished, { completed: 0, compensated: 0, stranded: 1 });
      assert.deepEqual(status.ledger.stranded, [], 'credit is not in the token ledger');
      assert.equal(status.ledger.halted, undefined);
      const s = scenario('monitor-mismatch', { preset: { reservation: { amount: X, status: 'reserved' } } });
      const mismatch = await run(s, { monitorWorkflowId: handle.workflowId });
      status = await handle.query<MonitorStatus>('status');
      assert.equal(status.finished.stranded, 2);
      assert.equal(status.ledger.halted, `rebalance ${s.rebalanceId}: ${mismatch.ledgerMismatch}`);
    } finally {
      await handle.terminate('saga branch test done');
    }
  });

  test('a monitor that is gone: the signal fails, the outcome stands', async () => {
    const s = scenario('monitor-gone');
    const r = await run(s, { monitorWorkflowId: 'ballast-monitor-no-such-deployment' });
    assert.equal(r.outcome, 'completed');
    assert.equal(recorded(s).outcome, 'completed');
  });
});
