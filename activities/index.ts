/**
 * The activities the worker registers, bound to one {@link KeeperContext}. Workflows import only the
 * `Activities` TYPE from here (through `proxyActivities`), never the code.
 */
import type { Hex } from 'viem';
import { heartbeating, timed } from './timed.js';
import { createCapacityActivities } from './capacityActivities.js';
import { WAD, type InFlight, type Snapshot } from '../planner/types.js';
import type { KeeperContext } from './context.js';
import { readSnapshot } from './snapshot.js';
import { planRebalances, type PlanForecastInput, type PlanGasInput } from './plan.js';
import { createCapActivities } from './caps.js';
import { createMandateActivities } from './mandates.js';
import type { MandatePlanInput } from '../planner/mandates.js';
import type { CapsState } from '../workflows/caps.js';
import { awaitDelivery, depositToVault, locateFunds, quoteBridgeFee, sendOverBridge, withdrawFromVault } from './legs.js';
import type { DeliveryInput, RebalanceOutcome, SendInput, VaultLegInput } from './types.js';
import { toDisplayNumber, wadToNumber } from '../keeper/metrics.js';
import { checkDeploymentLedger, observeRebalanceFunds, type DeploymentLedgerInput, type ObserveInput } from './ledger.js';
import { describeMismatches, type LedgerMismatch } from '../ledger/ledger.js';

/** Builds the activity implementations for the worker. */
export function createActivities(ctx: KeeperContext) {
  const inflight = new Map<string, { route: string; amount: bigint; bridge: string }>();
  const refreshInflight = () => {
    const byRoute = new Map<string, { route: string; bridge: string; amount: bigint }>();
    for (const v of inflight.values()) {
      const k = `${v.route}|${v.bridge}`;
      byRoute.set(k, { route: v.route, bridge: v.bridge, amount: (byRoute.get(k)?.amount ?? 0n) + v.amount });
    }
    ctx.metrics.inflightAmount.reset();
    for (const v of byRoute.values()) ctx.metrics.inflightAmount.set({ route: v.route, bridge: v.bridge }, toDisplayNumber(v.amount, ctx.asset.decimals));
  };
  return {
    ...createCapActivities(ctx),
    ...createMandateActivities(ctx),
    ...createCapacityActivities(ctx),
    /** `previous`: the monitor's last snapshot, for the oracle deviation check (state lives in the workflow). */
    async readSnapshot(input: { previous?: Snapshot } = {}): Promise<Snapshot> {
      const snapshot = await readSnapshot(ctx, input.previous);
      for (const c of snapshot.chains) {
        const cap = c.onChainCap;
        if (cap.maxOutflowPerWindow > 0n) ctx.metrics.outflowWindowUsedRatio.set({ chain: c.chainKey }, wadToNumber((cap.outflowInWindow * WAD) / cap.maxOutflowPerWindow));
      }
      return snapshot;
    },
    async planRebalances(input: { snapshot: Snapshot; inFlight: InFlight[]; caps?: CapsState; lp?: MandatePlanInput; forecast?: PlanForecastInput; gas?: PlanGasInput }) {
      return planRebalances(ctx, input);
    },
    async quoteBridgeFee(input: { from: string; to: string; amount: bigint }) {
      return quoteBridgeFee(ctx, input);
    },
    async withdrawFromVault(input: VaultLegInput) {
      return timed(ctx, input.purpose === 'forward' ? 'withdraw' : input.purpose, input.chainKey, () => withdrawFromVault(ctx, input), input.rebalanceId);
    },
    async depositToVault(input: VaultLegInput) {
      return timed(ctx, input.purpose === 'forward' ? 'deposit' : input.purpose, input.chainKey, () => depositToVault(ctx, input), input.rebalanceId);
    },
    async sendOverBridge(input: SendInput) {
      return timed(ctx, input.purpose === 'forward' ? 'send' : 'return', `${input.from}->${input.to}`, () => sendOverBridge(ctx, input), input.rebalanceId, { kind: 'collateral', bridge: input.bridge ?? 'layerzero' });
    },
    async awaitDelivery(input: DeliveryInput) {
      // `deliver` runs from the first check of a GUID until it is delivered (each check is one attempt).
      const route = `${input.from}->${input.to}`;
      ctx.metrics.legs.start('deliver', route, input.guid.toLowerCase(), { kind: 'collateral', bridge: input.bridge ?? 'layerzero' });
      const r = await timed(ctx, 'deliver-check', route, () => awaitDelivery(ctx, input));
      ctx.metrics.legs.end('deliver', route, input.guid.toLowerCase());
      return r;
    },
    async locateFunds(input: { from: string; to: string; guid?: Hex; nonce?: bigint; bridge?: string; key?: Hex; returned?: boolean }) {
      if (input.guid) ctx.metrics.legs.endKey(input.guid.toLowerCase());
      return locateFunds(ctx, input);
    },
    async observeRebalanceFunds(input: ObserveInput) {
      return heartbeating(() => observeRebalanceFunds(ctx, input));
    },
    async checkDeploymentLedger(input: DeploymentLedgerInput) {
      return checkDeploymentLedger(ctx, input);
    },
    /** Raises `ballast_ledger_mismatch` and logs exactly where a saga's ledger disagrees with the chain. */
    async reportLedgerMismatch(input: { rebalanceId: Hex; step: string; mismatches: LedgerMismatch[] }) {
      ctx.metrics.ledgerMismatch.set(1);
      ctx.log.error({ rebalanceId: input.rebalanceId, step: input.step, where: describeMismatches(input.mismatches) }, 'LEDGER MISMATCH after a saga step; new rebalances stopped');
    },
    /**
     * Counts into `ballast_ledger_audit_unavailable_total{kind}` and logs a saga step whose ledger reconciliation
     * could not read the chains (the saga goes on by its legs' results; the step is listed in its result).
     */
    async reportAuditUnavailable(input: { rebalanceId: Hex; kind: 'collateral' | 'capacity'; step: string; error: string }) {
      ctx.metrics.auditUnavailable.inc({ kind: input.kind });
      ctx.log.warn({ rebalanceId: input.rebalanceId, kind: input.kind, step: input.step, error: input.error }, 'ledger audit unavailable after a saga step; going on by the legs');
    },
    /** Metrics and a log line when a saga starts. */
    async recordStarted(input: { rebalanceId: Hex; from: string; to: string; amount: bigint; bridge?: string }) {
      const route = `${input.from}->${input.to}`;
      const bridge = input.bridge ?? 'layerzero';
      inflight.set(input.rebalanceId, { route, amount: input.amount, bridge });
      refreshInflight();
      ctx.metrics.rebalancesStarted.inc({ kind: 'collateral', route, bridge });
      ctx.log.info({ rebalanceId: input.rebalanceId, route, amount: input.amount.toString() }, 'rebalance started');
    },
    /** Metrics and a log line when a saga ends; a `stranded` outcome is logged at error level (alert). */
    async recordOutcome(input: { rebalanceId: Hex; from: string; to: string; amount: bigint; outcome: RebalanceOutcome; reason?: string; durationSec: number; guid?: Hex; bridge?: string }) {
      const route = `${input.from}->${input.to}`;
      inflight.delete(input.rebalanceId);
      ctx.metrics.legs.endKey(input.rebalanceId);
      if (input.guid) ctx.metrics.legs.endKey(input.guid.toLowerCase());
      refreshInflight();
      ctx.metrics.rebalancesTotal.inc({ kind: 'collateral', route, bridge: input.bridge ?? 'layerzero', outcome: input.outcome });
      const fields = { rebalanceId: input.rebalanceId, route, amount: input.amount.toString(), outcome: input.outcome, reason: input.reason, durationSec: input.durationSec, guid: input.guid };
      if (input.outcome === 'stranded') ctx.log.error(fields, 'rebalance STRANDED: funds located, operator action needed');
      else ctx.log.info(fields, `rebalance ${input.outcome}`);
    },
  };
}

/** The activity interface workflows proxy (`proxyActivities<Activities>`). */
export type Activities = ReturnType<typeof createActivities>;
