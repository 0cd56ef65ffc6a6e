/**
 * The monitor's capacity step (workflows/monitor.ts calls it on ticks when it plans): plan capacity moves
 * (activity `planCapacityMoves`, so the plan is in history) and start one child `capacityMoveWorkflow` per
 * move (workflow id = the move's id, parent-close policy ABANDON; the saga signals `rebalanceFinished` back),
 * with the same in-flight bookkeeping as collateral rebalances, entries of kind `capacity`. Never two
 * capacity moves on the same route (either direction) at once. A failing plan is logged and skipped: it
 * never stops the monitor.
 *
 * Deterministic: no I/O here, only activities and workflow APIs.
 */
import { ParentClosePolicy, WorkflowIdReusePolicy, log, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { MonitorStatus } from './messages.js';
import { capacityMoveWorkflow } from './capacity.js';
import { failureMessage } from './saga.js';

const reads = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 3 },
});

/**
 * Plans capacity moves and starts their sagas; updates `status` (in flight, started, recent,
 * `lastCapacityUnresolved`).
 * @param opts.deliveryDeadlineSec the LayerZero delivery deadline (a Wormhole move carries its own from the plan).
 * @param opts.recentLimit how many finished moves `status.recent` keeps.
 * @param opts.frozen the chains frozen by the risk team (workflows/caps.ts): no move starts out of them.
 */
export async function planAndStartCapacityMoves(status: MonitorStatus, opts: { deliveryDeadlineSec: number; recentLimit: number; frozen?: Record<string, { changeId: string; by: string }> }): Promise<void> {
  let plan: Awaited<ReturnType<Activities['planCapacityMoves']>>;
  try {
    plan = await reads.planCapacityMoves({ inFlight: status.inFlight });
  } catch (err) {
    log.warn('capacity plan failed; no capacity move this tick', { error: failureMessage(err) });
    return;
  }
  if (!plan.enabled) return;
  status.lastCapacityUnresolved = plan.unresolved;
  for (const m of plan.moves) {
    const freeze = opts.frozen?.[m.from];
    if (freeze) {
      // A frozen chain gives nothing (workflows/caps.ts freeze): no capacity leaves it either. Never true in
      // histories recorded before freezes existed, so they replay unchanged.
      status.lastCapacityUnresolved = [...status.lastCapacityUnresolved, { chainKey: m.from, reason: `${m.from} frozen by ${freeze.by} (${freeze.changeId}): no capacity move out of it` }];
      continue;
    }
    const busy = status.inFlight.some((f) => f.kind === 'capacity' && ((f.from === m.from && f.to === m.to) || (f.from === m.to && f.to === m.from)));
    if (busy) continue;
    try {
      await startChild(capacityMoveWorkflow, {
        workflowId: m.rebalanceId,
        args: [
          {
            rebalanceId: m.rebalanceId,
            from: m.from,
            to: m.to,
            amount: m.amount,
            reason: m.reason,
            bridge: m.bridge,
            deliveryDeadlineSec: m.deliveryDeadlineSec ?? opts.deliveryDeadlineSec,
            ...(m.vaaPollIntervalMs !== undefined ? { vaaPollIntervalMs: m.vaaPollIntervalMs } : {}),
            monitorWorkflowId: workflowInfo().workflowId,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      status.inFlight.push({ rebalanceId: m.rebalanceId, from: m.from, to: m.to, amount: m.amount, kind: 'capacity' });
      status.started += 1;
      status.recent.unshift({ rebalanceId: m.rebalanceId, from: m.from, to: m.to, amount: m.amount, kind: 'capacity' });
      status.recent.length = Math.min(status.recent.length, opts.recentLimit);
      log.info('capacity move started', { rebalanceId: m.rebalanceId, from: m.from, to: m.to, amount: m.amount.toString(), bridge: m.bridge, reason: m.reason });
    } catch (err) {
      // Same id already ran (a replayed plan): it is not started twice.
      log.warn('capacity move not started', { rebalanceId: m.rebalanceId, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
