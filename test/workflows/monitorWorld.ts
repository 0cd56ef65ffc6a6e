/**
 * The REAL `monitorWorkflow` (the keeper's workflow bundle) on Temporal's time-skipping test server with a read-only
 * keeper context for two config-only chains (alpha, beta: no chain is ever contacted), for tests of what the monitor
 * carries from tick to tick. Real: the workflow and the caps activities. The test gives `readSnapshot` and
 * `planRebalances`; `checkDeploymentLedger` answers balanced and `planCapacityMoves` not configured.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { exampleConfig, parseConfig, type BallastConfigInput } from '../../config/index.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { loadWorkflowBundle } from '../../keeper/workflowBundle.js';
import { workflowsPath } from '../../keeper/worker.js';
import { monitorWorkflowId } from '../../keeper/client.js';
import { createCapActivities } from '../../activities/caps.js';
import type { Activities } from '../../activities/index.js';
import type { KeeperContext } from '../../activities/context.js';
import { monitorStatusQuery, type MonitorStatus } from '../../workflows/messages.js';
import { createTimeSkippingEnv, eventually } from './timeSkipping.js';

/** A running monitor world (see the module doc). */
export interface MonitorWorld {
  env: TestWorkflowEnvironment;
  ctx: KeeperContext;
  /** The monitor's handle (its workflow id; the current run). */
  handle(): WorkflowHandle;
  /** The monitor's status query. */
  status(): Promise<MonitorStatus>;
  /** Starts the monitor; resolves with its first run id. */
  start(args: { tickIntervalSec: number; maxTicksBeforeContinueAsNew: number }): Promise<string>;
  /** Skips one tick of server time at a time until `count()` reaches `n` (waiting for each new count). */
  tickUntil(count: () => number, n: number, tickSec: number): Promise<void>;
  /** The histories of the first run and the current one, with the patch ids the first recorded. */
  recordedRuns(firstRunId: string): Promise<{ histories: { workflowId: string; history: temporal.api.history.v1.IHistory; source: string }[]; patchIds: string[]; firstEvents: temporal.api.history.v1.IHistoryEvent[] }>;
  /** Terminates the monitor, stops the worker and the server. */
  stop(): Promise<void>;
}

/**
 * Starts the server, the worker and a read-only keeper context for `deployment`.
 * @param doubles the test's `readSnapshot` and `planRebalances`, given the context.
 * @param planner the config's `planner` section (default: the example's).
 */
export async function startMonitorWorld(opts: { deployment: string; planner?: BallastConfigInput['planner']; doubles: (ctx: KeeperContext) => Pick<Activities, 'readSnapshot' | 'planRebalances'> }): Promise<MonitorWorld> {
  const env = await createTimeSkippingEnv();
  const taskQueue = `${opts.deployment}-${process.pid}`;
  const addr = (i: number, j: number): `0x${string}` => `0x${(i * 16 + j + 1).toString(16).padStart(40, '0')}`;
  const input: BallastConfigInput = {
    ...exampleConfig({
      deployment: opts.deployment,
      chains: ['alpha', 'beta'].map((key, i) => ({ key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${1 + i}`, eid: 40_000 + i, contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) } })),
    }),
    temporal: { address: env.address, taskQueue },
    ...(opts.planner ? { planner: opts.planner } : {}),
  };
  const ctx = buildReadOnlyKeeperContext(parseConfig(input)); // never contacts a chain: every chain read is a double
  const activities: Pick<Activities, 'capsContext' | 'recordCapAudit' | 'readSnapshot' | 'planRebalances' | 'checkDeploymentLedger' | 'planCapacityMoves'> = {
    ...createCapActivities(ctx),
    ...opts.doubles(ctx),
    checkDeploymentLedger: async (i) => ({ totalSupply: 0n, perChain: {}, blocks: {}, inFlightUndelivered: 0n, openingSupply: i.openingSupply ?? 0n, balanced: true }),
    planCapacityMoves: async () => ({ enabled: false, moves: [], unresolved: [], chains: [] }),
  };
  const bundle = await loadWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code: bundle.code }, activities, dataConverter });
  const running = worker.run();
  const id = monitorWorkflowId(opts.deployment);
  const handle = (): WorkflowHandle => env.client.workflow.getHandle(id);
  return {
    env,
    ctx,
    handle,
    status: () => handle().query(monitorStatusQuery),
    start: async (a) => (await env.client.workflow.start('monitorWorkflow', { taskQueue, workflowId: id, args: [{ deployment: opts.deployment, ...a, deliveryDeadlineSec: 600 }] })).firstExecutionRunId,
    tickUntil: async (count, n, tickSec) => {
      await eventually('the first plan', async () => count() >= 1);
      while (count() < n) {
        const before = count();
        await env.sleep(tickSec * 1000);
        await eventually(`plan ${before + 1}`, async () => count() > before);
      }
    },
    recordedRuns: async (firstRunId) => {
      const current = (await handle().describe()).runId;
      const histories = await Promise.all(
        [firstRunId, current].map(async (runId) => ({ workflowId: id, history: await env.client.workflow.getHandle(id, runId).fetchHistory(), source: `temporal:${id}/${runId}` })),
      );
      const firstEvents = histories[0]!.history.events ?? [];
      const patchIds = firstEvents.flatMap((e) => {
        const m = e.markerRecordedEventAttributes;
        const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
        return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
      });
      return { histories, patchIds, firstEvents };
    },
    stop: async () => {
      await handle()
        .terminate('done')
        .catch(() => undefined);
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
