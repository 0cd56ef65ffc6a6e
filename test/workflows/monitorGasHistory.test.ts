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
import type { DeferredPlanTransfer, PlanInput, PlanResult } from '../../activities/plan.js';
import type { Activities } from '../../activities/index.js';
import { monitorStatusQuery, resumeSignal, type MonitorStatus } from '../../workflows/messages.js';
import type { Snapshot } from '../../planner/types.js';
import { chain } from '../unit/plannerFixtures.js';
import { createTimeSkippingEnv, eventually } from './timeSkipping.js';

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
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `monitor-gas-history-${process.pid}`;
  let reads = 0;
  let firstRunId = '';
  const plans: { input: PlanInput; reads: number }[] = [];
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
    };
    const ctx = buildReadOnlyKeeperContext(parseConfig(input)); // never contacts a chain: every chain read is a double below
    const activities: Pick<Activities, 'capsContext' | 'recordCapAudit' | 'readSnapshot' | 'planRebalances' | 'checkDeploymentLedger' | 'planCapacityMoves'> = {
      ...createCapActivities(ctx),
      readSnapshot: async () => snapshotOf(++reads),
      planRebalances: async (i): Promise<PlanResult> => {
        plans.push({ input: i, reads });
        return { transfers: [], unresolved: [], planner: 'optimal', ...(reads % 2 === 0 ? { deferred: [DEFERRED] } : {}) };
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

  test('one sample per tick, given to every plan, bounded to the last 24 h, across continue-as-new', async () => {
    const handle = await env.client.workflow.start('monitorWorkflow', { taskQueue, workflowId: monitorWorkflowId(DEPLOYMENT), args: [{ deployment: DEPLOYMENT, tickIntervalSec: TICK_SEC, maxTicksBeforeContinueAsNew: TICKS_PER_RUN, deliveryDeadlineSec: 600 }] });
    firstRunId = handle.firstExecutionRunId;
    await eventually('the first plan', async () => plans.length >= 1);
    while (plans.length < TICKS) {
      const before = plans.length;
      await env.sleep(TICK_SEC * 1000);
      await eventually(`plan ${before + 1}`, async () => plans.length > before);
    }
    const desc = await handle.describe();
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
    const st = await status();
    assert.ok(st.totalTicks >= TICKS && st.ticks <= TICKS_PER_RUN, `ticks ${st.ticks} of ${st.totalTicks}: a later run`);
    assert.deepEqual(st.gasHistory, plans[plans.length - 1]!.input.gas!.chains, 'the status carries the same history');
  });

  test('a tick woken early samples nothing; the status shows the last plan\'s deferred transfers', async () => {
    const before = plans.length;
    const prev = plans[before - 1]!.input.gas!;
    await env.client.workflow.getHandle(monitorWorkflowId(DEPLOYMENT)).signal(resumeSignal); // not paused: it only wakes the monitor
    await eventually('the woken tick\'s plan', async () => plans.length > before);
    const woken = plans[before]!;
    assert.equal(woken.reads, plans[before - 1]!.reads + 1, 'a new snapshot was read');
    assert.deepEqual(woken.input.gas!.chains, prev.chains, 'no sample less than 900 s after the last');
    assert.ok(woken.input.gas!.nowSec >= prev.nowSec);
    const st = await status();
    if (woken.reads % 2 === 0) assert.deepEqual(st.lastDeferred, [DEFERRED]);
    else assert.equal(st.lastDeferred, undefined);
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
    assert.ok(patchIds.includes('gas-history'), `the first run recorded the patch marker (${patchIds.join(', ')})`);
    assert.ok(first[first.length - 1]?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continue-as-new');
    const outcomes = await replayHistories(histories);
    assert.deepEqual(outcomes.filter((o) => !o.ok), []);
    assert.equal(outcomes.length, 2);
  });
});
