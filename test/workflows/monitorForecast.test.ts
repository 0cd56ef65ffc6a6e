/**
 * The monitor's debt forecast (workflows/monitor.ts, patch `debt-forecast`) on the REAL `monitorWorkflow` (the
 * keeper's workflow bundle) on Temporal's time-skipping test server (test/workflows/timeSkipping.ts):
 * 1. each tick folds each market's debt into its forecast state (planner/forecast.ts `observeDebtForecasts`: the
 *    reference fixed at the first observation, 2 × the supply then), carried in `status.forecast`;
 * 2. the state survives continue-as-new (3 ticks per run here) and keeps counting observations;
 * 3. every `planRebalances` receives it (the monitor's tick as the step) and the real plan activity, with
 *    `planner.objective: yield`, turns it into the yield planner's utilization forecast `planner.forecastHorizonSec`
 *    ahead (the forecast debt over the supply now), recorded in the plan and in the yield certificate's markets;
 * 4. a tick woken early (a signal) plans with the state as it is and observes nothing;
 * 5. the runs it recorded (patch marker included) replay deterministically against the current workflow code.
 *
 * What is real: the monitor workflow, the caps activities and `planRebalances` (yield objective, no quotes: no edge,
 * so nothing moves) on a read-only keeper context. Doubles: `readSnapshot` (alpha's debt rises 1M per read on a 100M
 * market, beta flat at 40M; alpha's supply jumps by 20M at the 5th read — a keeper's own move, no debt trend),
 * `checkDeploymentLedger` (balanced), `planCapacityMoves` (not configured). Time: the server's (skipped).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { replayHistories } from '../../keeper/replay.js';
import { planRebalances, type PlanInput, type PlanResult } from '../../activities/plan.js';
import { resumeSignal } from '../../workflows/messages.js';
import { DEFAULT_FORECAST_PARAMS, forecastUtilizationFromDebt, stepDebtForecast, type DebtForecastState } from '../../planner/forecast.js';
import type { Snapshot } from '../../planner/types.js';
import { M, chain } from '../unit/plannerFixtures.js';
import { eventually } from './timeSkipping.js';
import { startMonitorWorld, type MonitorWorld } from './monitorWorld.js';

const DEPLOYMENT = 'monitor-forecast';
const TICK_SEC = 60;
const TICKS_PER_RUN = 3;
const HORIZON_SEC = 3_600;

/** The n-th snapshot (1-based): alpha's debt 50M + n M on 100M (120M from the 5th read on), beta 40M on 100M. */
const snapshotOf = (n: number): Snapshot => ({
  takenAtMs: n,
  chains: [chain('alpha', n >= 5 ? 120 : 100, 50 + n, { blockNumber: BigInt(1000 + n) }), chain('beta', 100, 40, { blockNumber: BigInt(2000 + n) })],
  excluded: [],
  freshness: 'fresh',
});


describe('the monitor carries each market\'s debt forecast (time-skipping server, activity doubles)', () => {
  let w: MonitorWorld;
  let reads = 0;
  let firstRunId = '';
  const plans: { input: PlanInput; result: PlanResult; reads: number }[] = [];

  before(async () => {
    w = await startMonitorWorld({
      deployment: DEPLOYMENT,
      planner: { kind: 'optimal', objective: 'yield', timeBudgetMs: 200, forecastHorizonSec: HORIZON_SEC },
      doubles: (ctx) => ({
        readSnapshot: async () => snapshotOf(++reads),
        planRebalances: async (i) => {
          const result = await planRebalances(ctx, i, { quotes: [] }); // no quotes: no edge, nothing moves
          plans.push({ input: i, result, reads });
          return result;
        },
      }),
    });
  });

  after(async () => w?.stop());

  test('the state advances one observation per tick, survives continue-as-new, and every plan receives it', async () => {
    firstRunId = await w.start({ tickIntervalSec: TICK_SEC, maxTicksBeforeContinueAsNew: TICKS_PER_RUN });
    // Ticks 2..7 (two continue-as-new on the way): one step of skipped time each.
    await w.tickUntil(() => plans.length, 7, TICK_SEC);
    const desc = await w.handle().describe();
    assert.notEqual(desc.runId, firstRunId, 'the monitor continued as new');
    const st = await w.status();
    assert.ok(st.totalTicks >= 7 && st.ticks <= TICKS_PER_RUN, `ticks ${st.ticks} of ${st.totalTicks}: a later run`);

    // The expected states: the observations folded one by one (planner/forecast.ts), the monitor's tick as the step.
    const params = { ...DEFAULT_FORECAST_PARAMS, stepSec: TICK_SEC };
    const expected: Record<string, DebtForecastState | undefined>[] = [];
    let acc: Record<string, DebtForecastState | undefined> = {};
    for (let n = 1; n <= 7; n++) {
      const snap = snapshotOf(n);
      acc = Object.fromEntries(snap.chains.map((c) => [c.chainKey, stepDebtForecast(acc[c.chainKey], c, params)]));
      expected.push(acc);
    }
    for (const [i, p] of plans.slice(0, 7).entries()) {
      assert.equal(p.reads, i + 1, 'one snapshot per tick');
      const fc = p.input.forecast;
      assert.ok(fc, `plan ${i + 1} received the forecast`);
      assert.equal(fc.stepSec, TICK_SEC);
      for (const key of ['alpha', 'beta']) {
        const got: DebtForecastState = fc.chains[key]!;
        assert.deepEqual({ refBaseUnits: got.refBaseUnits, share: got.share }, expected[i]![key], `plan ${i + 1} ${key}: the state after ${i + 1} observations`);
        assert.equal(got.share.n, i + 1, 'one observation per tick, across continue-as-new');
        assert.equal(got.refBaseUnits, M(200), 'the reference: 2 × the first supply, fixed (alpha\'s supply jumped to 120M at read 5)');
      }
      // The plan activity turned it into the yield planner's forecast: the forecast debt HORIZON_SEC ahead over the supply now.
      const snap = snapshotOf(i + 1);
      const want = Object.fromEntries(snap.chains.map((c) => [c.chainKey, forecastUtilizationFromDebt(fc.chains[c.chainKey]!, c.supplied, { ...params, horizonSec: HORIZON_SEC })]));
      assert.deepEqual(p.result.forecastUtilizationWad, want, `plan ${i + 1}: forecastUtilizationWad`);
      assert.deepEqual(
        p.result.yieldCertificate?.markets.map((m) => [m.chainKey, m.forecastWad]),
        snap.chains.map((c) => [c.chainKey, want[c.chainKey]]),
        'the yield planner was given it (its certificate shows the forecast per market)',
      );
    }
    // alpha's debt rises 1M per tick: 60 steps ahead, ~+60M; beta's is flat. At read 7 alpha is 57M on 120M.
    const last = plans[6]!.result.forecastUtilizationWad!;
    assert.ok(last.alpha! > (90n * 10n ** 18n) / 100n, `alpha forecast ${last.alpha} above its 80% high mark well before it gets there (47.5% now)`);
    assert.equal(last.beta, (40n * 10n ** 18n) / 100n, 'beta flat: its utilization now');
    // The status carries the same state (queryable), with when it was last observed.
    assert.deepEqual(
      Object.fromEntries(Object.entries(st.forecast ?? {}).map(([k, e]) => [k, e.share.n])),
      Object.fromEntries(Object.entries(plans[plans.length - 1]!.input.forecast!.chains).map(([k, e]) => [k, e.share.n])),
    );
  });

  test('a tick woken early (a signal) plans with the state as it is and observes nothing', async () => {
    const before = plans.length;
    const nBefore = plans[before - 1]!.input.forecast!.chains.alpha!.share.n;
    await w.handle().signal(resumeSignal); // not paused: it only wakes the monitor
    await eventually('the woken tick\'s plan', async () => plans.length > before);
    const woken = plans[before]!;
    assert.equal(woken.reads, plans[before - 1]!.reads + 1, 'a new snapshot was read');
    assert.equal(woken.input.forecast!.chains.alpha!.share.n, nBefore, 'no observation less than a tick after the last');
    assert.deepEqual(woken.input.forecast!.chains.alpha, plans[before - 1]!.input.forecast!.chains.alpha);
    // The next regular tick observes again.
    await w.env.sleep(TICK_SEC * 1000);
    await eventually('the next tick\'s plan', async () => plans.length > before + 1);
    assert.equal(plans[before + 1]!.input.forecast!.chains.alpha!.share.n, nBefore + 1);
  });

  test('the recorded runs (the first, continued as new, and the current) replay deterministically', async () => {
    const { histories, patchIds, firstEvents: first } = await w.recordedRuns(firstRunId);
    assert.ok(patchIds.includes('debt-forecast'), `the first run recorded the patch marker (${patchIds.join(', ')})`);
    assert.ok(first[first.length - 1]?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continue-as-new');
    const outcomes = await replayHistories(histories);
    assert.deepEqual(outcomes.filter((o) => !o.ok), []);
    assert.equal(outcomes.length, 2);
  });
});
