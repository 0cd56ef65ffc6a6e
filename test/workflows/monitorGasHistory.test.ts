/**
 * The monitor's base-fee history (workflows/monitor.ts, patch `gas-history`) on the REAL `monitorWorkflow` (the
 * keeper's workflow bundle) on Temporal's time-skipping test server (test/workflows/timeSkipping.ts):
 * 1. each tick samples each chain's snapshot `baseFeeWei` into `status.gasHistory` (a chain without one, e.g. no
 *    EIP-1559, is not sampled) and every `planRebalances` receives it with the tick's `nowSec` (the sample's `atSec`);
 * 2. the history survives continue-as-new (4 ticks per run here) and is bounded: hourly ticks keep the last 24 h;
 * 3. a tick woken early (a signal) samples nothing (samples are at least 900 s apart);
 * 4. the plan's `deferred` transfers are shown in `status.lastDeferred`;
 * 5. the runs it recorded (patch marker included) replay deterministically against the current workflow code.
 *
 * Real: the monitor workflow and the caps activities on a read-only keeper context. Doubles: `readSnapshot` (alpha's
 * base fee is the read's number in gwei, beta has none), `planRebalances` (records its input, plans nothing, and
 * defers one transfer on even reads), `checkDeploymentLedger` (balanced), `planCapacityMoves` (not configured).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { replayHistories } from '../../keeper/replay.js';
import type { DeferredPlanTransfer, PlanInput, PlanResult } from '../../activities/plan.js';
import { resumeSignal } from '../../workflows/messages.js';
import type { Snapshot } from '../../planner/types.js';
import { chain } from '../unit/plannerFixtures.js';
import { eventually } from './timeSkipping.js';
import { startMonitorWorld, type MonitorWorld } from './monitorWorld.js';

const DEPLOYMENT = 'monitor-gas-history';
const TICK_SEC = 3600;
const TICKS_PER_RUN = 4;
const TICKS = 30;
const GWEI = 1_000_000_000n;

/** The n-th snapshot (1-based): alpha's base fee n gwei, beta without one. */
const snapshotOf = (n: number): Snapshot => ({
  takenAtMs: n,
  chains: [chain('alpha', 100, 50, { blockNumber: BigInt(1000 + n), baseFeeWei: BigInt(n) * GWEI }), chain('beta', 100, 40, { blockNumber: BigInt(2000 + n) })],
  excluded: [],
  freshness: 'fresh',
});

const DEFERRED: DeferredPlanTransfer = { transfer: { from: 'alpha', to: 'beta', amount: 5n, reason: 'yield', bridge: 'layerzero', fee: 1n, latencySec: 120 }, rules: ['gas'], reason: 'waits: base fee 9 gwei > p50 4 gwei of the last 24 h', fixedFee: 1n };


describe('the monitor carries each chain\'s base-fee history (time-skipping server, activity doubles)', () => {
  let w: MonitorWorld;
  let reads = 0;
  let firstRunId = '';
  const plans: { input: PlanInput; reads: number }[] = [];

  before(async () => {
    w = await startMonitorWorld({
      deployment: DEPLOYMENT,
      doubles: () => ({
        readSnapshot: async () => snapshotOf(++reads),
        planRebalances: async (i): Promise<PlanResult> => {
          plans.push({ input: i, reads });
          return { transfers: [], unresolved: [], planner: 'optimal', ...(reads % 2 === 0 ? { deferred: [DEFERRED] } : {}) };
        },
      }),
    });
  });

  after(async () => w?.stop());

  test('one sample per tick, given to every plan, bounded to the last 24 h, across continue-as-new', async () => {
    firstRunId = await w.start({ tickIntervalSec: TICK_SEC, maxTicksBeforeContinueAsNew: TICKS_PER_RUN });
    await w.tickUntil(() => plans.length, TICKS, TICK_SEC);
    const desc = await w.handle().describe();
    assert.notEqual(desc.runId, firstRunId, 'the monitor continued as new');
    for (const [i, p] of plans.slice(0, TICKS).entries()) {
      assert.equal(p.reads, i + 1, 'one snapshot per tick');
      const gas = p.input.gas;
      assert.ok(gas, `plan ${i + 1} received the history`);
      assert.deepEqual(Object.keys(gas.chains), ['alpha'], 'beta has no base fee: never sampled');
      const xs = gas.chains.alpha!;
      const last = xs[xs.length - 1]!;
      assert.equal(last.baseFeeWei, BigInt(i + 1) * GWEI, `plan ${i + 1}: this tick's sample is the newest`);
      assert.equal(last.atSec, gas.nowSec, 'sampled at the tick\'s now (not history for the percentile)');
      // One sample per tick (oldest first, an hour apart), across continue-as-new, until 24 h are covered.
      if (i < 24) assert.equal(xs.length, i + 1, `plan ${i + 1}: every tick so far`);
      else assert.ok(xs.length >= 24 && xs.length <= 25, `plan ${i + 1}: ${xs.length} samples, the last 24 h only`);
      assert.ok(xs.every((x, j) => j === 0 || x.atSec - xs[j - 1]!.atSec >= TICK_SEC), 'a tick apart');
      assert.ok(xs.every((x) => x.atSec >= gas.nowSec - 86_400), 'within 24 h');
      assert.deepEqual(xs.map((x) => x.baseFeeWei), Array.from({ length: xs.length }, (_, j) => BigInt(i + 2 - xs.length + j) * GWEI), 'the consecutive ticks\' base fees');
    }
    const st = await w.status();
    assert.ok(st.totalTicks >= TICKS && st.ticks <= TICKS_PER_RUN, `ticks ${st.ticks} of ${st.totalTicks}: a later run`);
    assert.deepEqual(st.gasHistory, plans[plans.length - 1]!.input.gas!.chains, 'the status carries the same history');
  });

  test('a tick woken early samples nothing; the status shows the last plan\'s deferred transfers', async () => {
    const before = plans.length;
    const prev = plans[before - 1]!.input.gas!;
    await w.handle().signal(resumeSignal); // not paused: it only wakes the monitor
    await eventually('the woken tick\'s plan', async () => plans.length > before);
    const woken = plans[before]!;
    assert.equal(woken.reads, plans[before - 1]!.reads + 1, 'a new snapshot was read');
    assert.deepEqual(woken.input.gas!.chains, prev.chains, 'no sample less than 900 s after the last');
    assert.ok(woken.input.gas!.nowSec >= prev.nowSec);
    const st = await w.status();
    if (woken.reads % 2 === 0) assert.deepEqual(st.lastDeferred, [DEFERRED]);
    else assert.equal(st.lastDeferred, undefined);
  });

  test('the recorded runs (the first, continued as new, and the current) replay deterministically', async () => {
    const { histories, patchIds, firstEvents: first } = await w.recordedRuns(firstRunId);
    assert.ok(patchIds.includes('gas-history'), `the first run recorded the patch marker (${patchIds.join(', ')})`);
    assert.ok(first[first.length - 1]?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continue-as-new');
    const outcomes = await replayHistories(histories);
    assert.deepEqual(outcomes.filter((o) => !o.ok), []);
    assert.equal(outcomes.length, 2);
  });
});
