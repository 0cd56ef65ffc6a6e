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
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { exampleConfig, parseConfig, type BallastConfigInput } from '../../config/index.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { loadWorkflowBundle } from '../../keeper/workflowBundle.js';
import { workflowsPath } from '../../keeper/worker.js';
import { monitorWorkflowId } from '../../keeper/client.js';
import { replayHistories } from '../../keeper/replay.js';
import { createCapActivities } from '../../activities/caps.js';
import { planRebalances, type PlanInput, type PlanResult } from '../../activities/plan.js';
import type { Activities } from '../../activities/index.js';
import type { KeeperContext } from '../../activities/context.js';
import { monitorStatusQuery, resumeSignal, type MonitorStatus } from '../../workflows/messages.js';
import { DEFAULT_FORECAST_PARAMS, forecastUtilizationFromDebt, stepDebtForecast, type DebtForecastState } from '../../planner/forecast.js';
import type { Snapshot } from '../../planner/types.js';
import { M, chain } from '../unit/plannerFixtures.js';
import { createTimeSkippingEnv, eventually } from './timeSkipping.js';

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
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let ctx: KeeperContext;
  const taskQueue = `monitor-forecast-${process.pid}`;
  let reads = 0;
  let firstRunId = '';
  const plans: { input: PlanInput; result: PlanResult; reads: number }[] = [];
  const status = (): Promise<MonitorStatus> => env.client.workflow.getHandle(monitorWorkflowId(DEPLOYMENT)).query(monitorStatusQuery);

  before(async () => {
    env = await createTimeSkippingEnv();
    const addr = (i: number, j: number): `0x${string}` => `0x${(i * 16 + j + 1).toString(16).padStart(40, '0')}`;
    const input: BallastConfigInput = {
      ...exampleConfig({
        deployment: DEPLOYMENT,
        chains: ['alpha', 'beta'].map((key, i) => ({ key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${1 + i}`, eid: 40_000 + i, contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) } })),
      }),
      temporal: { address: env.address, taskQueue },
      planner: { kind: 'optimal', objective: 'yield', timeBudgetMs: 200, forecastHorizonSec: HORIZON_SEC },
    };
    ctx = buildReadOnlyKeeperContext(parseConfig(input)); // never contacts a chain: every chain read is a double below
    const activities: Pick<Activities, 'capsContext' | 'recordCapAudit' | 'readSnapshot' | 'planRebalances' | 'checkDeploymentLedger' | 'planCapacityMoves'> = {
      ...createCapActivities(ctx),
      readSnapshot: async () => snapshotOf(++reads),
      planRebalances: async (i) => {
        const result = await planRebalances(ctx, i, { quotes: [] }); // no quotes: no edge, nothing moves
        plans.push({ input: i, result, reads });
        return result;
      },
      checkDeploymentLedger: async (i) => ({ totalSupply: 0n, perChain: {}, blocks: {}, inFlightUndelivered: 0n, openingSupply: i.openingSupply ?? 0n, balanced: true }),
      planCapacityMoves: async () => ({ enabled: false, moves: [], unresolved: [], chains: [] }),
    };
    const bundle = await loadWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath });
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code: bundle.code }, activities, dataConverter });
    running = worker.run();
  });

  after(async () => {
    await env?.client.workflow
      .getHandle(monitorWorkflowId(DEPLOYMENT))
      .terminate('done')
      .catch(() => undefined);
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  test('the state advances one observation per tick, survives continue-as-new, and every plan receives it', async () => {
    const handle = await env.client.workflow.start('monitorWorkflow', { taskQueue, workflowId: monitorWorkflowId(DEPLOYMENT), args: [{ deployment: DEPLOYMENT, tickIntervalSec: TICK_SEC, maxTicksBeforeContinueAsNew: TICKS_PER_RUN, deliveryDeadlineSec: 600 }] });
    firstRunId = handle.firstExecutionRunId;
    await eventually('the first plan', async () => plans.length >= 1);
    // Ticks 2..7 (two continue-as-new on the way): one step of skipped time each.
    while (plans.length < 7) {
      const before = plans.length;
      await env.sleep(TICK_SEC * 1000);
      await eventually(`plan ${before + 1}`, async () => plans.length > before);
    }
    const desc = await handle.describe();
    assert.notEqual(desc.runId, firstRunId, 'the monitor continued as new');
    const st = await status();
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
    await env.client.workflow.getHandle(monitorWorkflowId(DEPLOYMENT)).signal(resumeSignal); // not paused: it only wakes the monitor
    await eventually('the woken tick\'s plan', async () => plans.length > before);
    const woken = plans[before]!;
    assert.equal(woken.reads, plans[before - 1]!.reads + 1, 'a new snapshot was read');
    assert.equal(woken.input.forecast!.chains.alpha!.share.n, nBefore, 'no observation less than a tick after the last');
    assert.deepEqual(woken.input.forecast!.chains.alpha, plans[before - 1]!.input.forecast!.chains.alpha);
    // The next regular tick observes again.
    await env.sleep(TICK_SEC * 1000);
    await eventually('the next tick\'s plan', async () => plans.length > before + 1);
    assert.equal(plans[before + 1]!.input.forecast!.chains.alpha!.share.n, nBefore + 1);
  });

  test('the recorded runs (the first, continued as new, and the current) replay deterministically', async () => {
    const id = monitorWorkflowId(DEPLOYMENT);
    const current = (await env.client.workflow.getHandle(id).describe()).runId;
    const histories = await Promise.all(
      [firstRunId, current].map(async (runId) => ({ workflowId: id, history: await env.client.workflow.getHandle(id, runId).fetchHistory(), source: `temporal:${id}/${runId}` })),
    );
    const first = histories[0]!.history.events ?? [];
    const patchIds = first.flatMap((e) => {
      const m = e.markerRecordedEventAttributes;
      const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
      return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
    });
    assert.ok(patchIds.includes('debt-forecast'), `the first run recorded the patch marker (${patchIds.join(', ')})`);
    assert.ok(first[first.length - 1]?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continue-as-new');
    const outcomes = await replayHistories(histories);
    assert.deepEqual(outcomes.filter((o) => !o.ok), []);
    assert.equal(outcomes.length, 2);
  });
});
