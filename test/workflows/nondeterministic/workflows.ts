/**
 * A deliberately nondeterministic change of the keeper's workflows, for test/workflows/replay.test.ts:
 * the same workflows with a one-second timer added before they start. A history recorded with the real
 * code schedules an activity first; this code starts a timer first, so replay must fail.
 */
import { sleep } from '@temporalio/workflow';
import { monitorWorkflow as realMonitor, rebalanceWorkflow as realRebalance } from '../../../workflows/index.js';

/** `rebalanceWorkflow` with a timer added before the first leg. */
export async function rebalanceWorkflow(...args: Parameters<typeof realRebalance>): ReturnType<typeof realRebalance> {
  await sleep('1 second');
  return realRebalance(...args);
}

/** `monitorWorkflow` with a timer added before the first tick. */
export async function monitorWorkflow(...args: Parameters<typeof realMonitor>): ReturnType<typeof realMonitor> {
  await sleep('1 second');
  return realMonitor(...args);
}
