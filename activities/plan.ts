/**
 * Activity `planRebalances`: runs the (pure) planner on a snapshot and gives each transfer its
 * deterministic rebalance id. Run as an activity so the plan is recorded in history: a replay
 * re-reads it instead of re-deriving it with newer code.
 */
import { planGreedy } from '../planner/greedy.js';
import { rebalanceId } from '../planner/rebalanceId.js';
import type { InFlight, Snapshot } from '../planner/types.js';
import type { KeeperContext } from './context.js';
import type { PlannedTransfer } from './types.js';

export interface PlanResult {
  transfers: PlannedTransfer[];
  unresolved: { chainKey: string; reason: string }[];
}

/**
 * Plans on a `fresh` snapshot only (a partial or stale one yields no transfers and says why).
 * Ids: `rebalanceId(deployment, every chain's block, route, amount, sequence in plan)`.
 */
export function planRebalances(ctx: KeeperContext, input: { snapshot: Snapshot; inFlight: InFlight[] }): PlanResult {
  const { snapshot, inFlight } = input;
  if (snapshot.freshness !== 'fresh') {
    return { transfers: [], unresolved: snapshot.excluded.map((e) => ({ chainKey: e.chainKey, reason: `not planned: snapshot ${snapshot.freshness}: ${e.reason}` })) };
  }
  const policies = [...ctx.chains.values()].map((c) => c.policy);
  const plan = planGreedy({ chains: snapshot.chains, policies, inFlight });
  const blockRefs = snapshot.chains.map((c) => ({ chainKey: c.chainKey, blockNumber: c.blockNumber }));
  const transfers = plan.transfers.map((t, sequence) => ({
    ...t,
    rebalanceId: rebalanceId({ deployment: ctx.deployment, blockRefs, from: t.from, to: t.to, amount: t.amount, sequence }),
  }));
  return { transfers, unresolved: plan.unresolved };
}
