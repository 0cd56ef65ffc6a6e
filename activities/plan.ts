/**
 * Activity `planRebalances`: runs the (pure) planner on a snapshot and gives each transfer its
 * deterministic rebalance id. Run as an activity so the plan is recorded in history: a replay
 * re-reads it instead of re-deriving it with newer code.
 */
import { planGreedy } from '../planner/greedy.js';
import { rebalanceId } from '../planner/rebalanceId.js';
import type { ChainPolicy, InFlight, Snapshot } from '../planner/types.js';
import type { KeeperContext } from './context.js';
import type { PlannedTransfer } from './types.js';
import { effectivePolicies, routeKey, type CapsState } from '../workflows/caps.js';
import { clipToMandates, noMandates, type LpAllowance, type MandatePlanInput } from '../planner/mandates.js';

export interface PlanResult {
  /** `lpAllowances`: the LPs a transfer is attributed to, when LP mandates bounded it (planner/mandates.ts). */
  transfers: (PlannedTransfer & { lpAllowances?: LpAllowance[] })[];
  unresolved: { chainKey: string; reason: string }[];
}

/**
 * Plans on a `fresh` snapshot only (a partial or stale one yields no transfers and says why).
 * Ids: `rebalanceId(deployment, every chain's block, route, amount, sequence in plan)`.
 * With config `lp.requireMandates`, transfers are then clipped to the LPs' mandates (`input.lp`; none = nothing moves).
 */
export function planRebalances(ctx: KeeperContext, input: { snapshot: Snapshot; inFlight: InFlight[]; caps?: CapsState; lp?: MandatePlanInput }): PlanResult {
  const { snapshot, inFlight } = input;
  if (snapshot.freshness !== 'fresh') {
    return { transfers: [], unresolved: snapshot.excluded.map((e) => ({ chainKey: e.chainKey, reason: `not planned: snapshot ${snapshot.freshness}: ${e.reason}` })) };
  }
  // Run-time caps (the monitor's, set by the risk team) replace the config's; a route cap clips the transfer.
  const configured = [...ctx.chains.values()].map((c) => c.policy);
  const { policies, routeMaxTransfer } = input.caps ? effectivePolicies(configured, input.caps) : { policies: configured, routeMaxTransfer: {} };
  const planned = planGreedy({ chains: snapshot.chains, policies, inFlight });
  const routed = clipToRouteCaps(planned.transfers, policies, routeMaxTransfer);
  const lp = ctx.lp?.requireMandates ? clipToMandates(routed, input.lp ?? noMandates(), policies) : { transfers: routed, dropped: [] };
  const plan = { transfers: lp.transfers, unresolved: [...planned.unresolved, ...lp.dropped] };
  const blockRefs = snapshot.chains.map((c) => ({ chainKey: c.chainKey, blockNumber: c.blockNumber }));
  const transfers = plan.transfers.map((t, sequence) => ({
    ...t,
    rebalanceId: rebalanceId({ deployment: ctx.deployment, blockRefs, from: t.from, to: t.to, amount: t.amount, sequence }),
  }));
  return { transfers, unresolved: plan.unresolved };
}

/**
 * Clips each transfer to its route's `maxTransfer` (run-time route caps); a clipped amount below the larger
 * `minTransfer` of both ends drops the transfer. Amounts in base units.
 */
export function clipToRouteCaps<T extends { from: string; to: string; amount: bigint; reason: string }>(transfers: readonly T[], policies: readonly ChainPolicy[], routeMaxTransfer: Record<string, bigint>): T[] {
  const min = (k: string) => policies.find((p) => p.chainKey === k)?.caps.minTransfer ?? 0n;
  const out: T[] = [];
  for (const t of transfers) {
    const cap = routeMaxTransfer[routeKey(t.from, t.to)];
    if (cap === undefined || t.amount <= cap) {
      out.push(t);
      continue;
    }
    const floor = min(t.from) > min(t.to) ? min(t.from) : min(t.to);
    if (cap >= floor && cap > 0n) out.push({ ...t, amount: cap, reason: `${t.reason}; clipped to route cap ${cap}` });
  }
  return out;
}
