/**
 * `monitorWorkflow`: one per deployment, long-running. Each tick: read a snapshot (activity), plan
 * (activity, so the plan is in history), start one child `rebalanceWorkflow` per transfer (workflow id
 * = rebalance id; never two on the same route at once). Signals pause/resume; queries status and the
 * latest snapshot; Updates `proposeCapChange` / `approveCapChange` change run-time caps (workflows/caps.ts),
 * Update `capControl` cancels a pending change, freezes chains or proposes their unfreeze, and query `caps`
 * shows them (a frozen chain gets no new outflow: the planner is told and the start of a transfer planned
 * before the freeze is re-checked); Updates `registerMandate` / `revokeMandate` and query `lpMandates` are LP mandates
 * (workflows/mandates.ts). Each tick also folds every market's debt into its forecast (planner/forecast.ts, carried in
 * `status.forecast`) and gives it to the plan (the yield planner's utilization forecast), and samples each chain's base
 * fee into a bounded history (`status.gasHistory`, {@link observeBaseFees}) the plan's gas timing weighs the base fee
 * now against (planner/timing.ts). Continues-as-new every
 * `maxTicksBeforeContinueAsNew` ticks, after its handlers finish, carrying its state (in-flight sagas keep running:
 * parent-close policy ABANDON, and they signal back).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { collateralInFlight, type Snapshot } from '../planner/types.js';
import { DEFAULT_FORECAST_PARAMS, observeDebtForecasts } from '../planner/forecast.js';
import type { BaseFeeSample } from '../planner/timing.js';
import {
  approveCapChangeUpdate,
  capControlUpdate,
  capsQuery,
  monitorStatusQuery,
  pauseSignal,
  proposeCapChangeUpdate,
  rebalanceFinishedSignal,
  resumeSignal,
  snapshotQuery,
  type MonitorStatus,
} from './messages.js';
import { applyCapControl, approveCapChange, effectivePolicies, emptyCapsState, findPending, proposeCapChange, settlePendingCaps, validateCapApproval, validateCapChange, validateCapControl, type CapAuditRecord } from './caps.js';
import type { CapsContext } from '../activities/caps.js';
import { installLpMandates } from './mandates.js';
import type { MonitorInput } from './types.js';
import { rebalanceWorkflow } from './rebalance.js';
import { planAndStartCapacityMoves } from './capacityMonitor.js';

const reads = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 3 },
});

/** Cap changes: a refused signature is final; the activity is cheap. */
const risk = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 3, nonRetryableErrorTypes: ['CapApprovalRefused'] },
});

/** How many finished rebalances the status keeps. */
const RECENT_LIMIT = 20;

/** How far back the base-fee history reaches, seconds (24 h: the gas timing's default window, its largest allowed). */
export const GAS_HISTORY_SEC = 86_400;
/**
 * Most base-fee samples kept per chain: 96, one per 15 min over the 24 h (the history rides in every plan activity's
 * input, so in the workflow history once per tick: ~4.4 KB per chain per tick, not the ~13 KB of one sample per 5 min).
 */
export const MAX_GAS_SAMPLES = 96;
/** Least time between two samples of a chain, seconds (900: 96 samples span the 24 h whatever the tick). */
export const GAS_SAMPLE_SPACING_SEC = GAS_HISTORY_SEC / MAX_GAS_SAMPLES;

/**
 * Folds one snapshot's base fees into the monitor's history (pure): per chain with a `baseFeeWei`, a sample
 * `{ atSec: nowSec, baseFeeWei }` appended unless its last one is less than {@link GAS_SAMPLE_SPACING_SEC} old (a tick
 * woken early, or ticks shorter than that, sample nothing); then every chain keeps only its samples of the last
 * {@link GAS_HISTORY_SEC} (`atSec >= nowSec - GAS_HISTORY_SEC`) and at most {@link MAX_GAS_SAMPLES} (the newest); a
 * chain with none left is dropped. The input is not modified.
 * @example observeBaseFees({}, [{ chainKey: 'a', baseFeeWei: 7n }], 1000) → { a: [{ atSec: 1000, baseFeeWei: 7n }] }
 */
export function observeBaseFees(history: Readonly<Record<string, readonly BaseFeeSample[]>>, chains: readonly { chainKey: string; baseFeeWei?: bigint }[], nowSec: number): Record<string, BaseFeeSample[]> {
  const out: Record<string, BaseFeeSample[]> = {};
  for (const [k, xs] of Object.entries(history)) out[k] = [...xs];
  for (const c of chains) {
    if (c.baseFeeWei === undefined) continue;
    const xs = out[c.chainKey] ?? [];
    const last = xs[xs.length - 1];
    if (last && nowSec - last.atSec < GAS_SAMPLE_SPACING_SEC) continue;
    out[c.chainKey] = [...xs, { atSec: nowSec, baseFeeWei: c.baseFeeWei }];
  }
  for (const [k, xs] of Object.entries(out)) {
    const kept = xs.filter((x) => x.atSec >= nowSec - GAS_HISTORY_SEC).slice(-MAX_GAS_SAMPLES);
    if (kept.length > 0) out[k] = kept;
    else delete out[k];
  }
  return out;
}

export async function monitorWorkflow(input: MonitorInput): Promise<void> {
  const status: MonitorStatus = input.carried?.status ?? {
    deployment: input.deployment,
    paused: false,
    ticks: 0,
    totalTicks: 0,
    inFlight: [],
    lastUnresolved: [],
    started: 0,
    finished: { completed: 0, compensated: 0, stranded: 0 },
    recent: [],
    ledger: { stranded: [] },
  };
  status.ticks = 0;
  let lastSnapshot: Snapshot | undefined = input.carried?.lastSnapshot;
  let wake = false;
  const caps = input.carried?.caps ?? emptyCapsState();
  /** The worker config's policies and approval rules, refreshed every tick (undefined before the first). */
  let capsCtx: CapsContext | undefined = input.carried?.capsContext;
  /** LP mandates (workflows/mandates.ts): Updates registerMandate/revokeMandate, query lpMandates, attribution. */
  const lpMandates = installLpMandates(input.carried?.lp, () => (wake = true));

  setHandler(snapshotQuery, () => lastSnapshot);
  setHandler(capsQuery, () => {
    if (!capsCtx) return undefined;
    const eff = effectivePolicies(capsCtx.policies, caps);
    return { policies: capsCtx.policies, effective: eff.policies, routeMaxTransfer: eff.routeMaxTransfer, state: caps, rules: capsCtx.rules };
  });
  const audited = async (records: CapAuditRecord[]) => {
    if (records.length > 0 && capsCtx) await risk.recordCapAudit({ records, state: caps, policies: capsCtx.policies });
  };
  setHandler(
    proposeCapChangeUpdate,
    async ({ request, salt, signature }) => {
      const who = await risk.verifyCapSignature({ action: 'propose', request, salt, signature });
      // State may have moved while the signature was checked: validate again before acting.
      const why = capsCtx ? validateCapChange(caps, capsCtx.policies, request, Date.now()) : 'the monitor has not ticked yet';
      if (why || !capsCtx) throw ApplicationFailure.nonRetryable(`cap change refused: ${why}`, 'CapChangeRefused');
      const records = proposeCapChange(caps, capsCtx.policies, capsCtx.rules, request, `${who.name} (${who.address})`, Date.now());
      await audited(records);
      wake = true;
      return { status: records[0]?.action === 'applied' ? 'applied' : 'pending', audit: records };
    },
    {
      validator: ({ request }) => {
        const why = capsCtx ? validateCapChange(caps, capsCtx.policies, request, Date.now(), { atAdmission: true }) : 'the monitor has not ticked yet; retry in a moment';
        if (why) throw new Error(`cap change refused: ${why}`);
      },
    },
  );
  setHandler(
    approveCapChangeUpdate,
    async ({ changeId, signature }) => {
      // A pending raise, or (since freezes exist) a pending unfreeze: both are approved by a second approver.
      const pending = findPending(caps, changeId);
      if (!pending || !capsCtx) throw ApplicationFailure.nonRetryable(`cap change refused: no pending raise ${changeId}`, 'CapChangeRefused');
      const who = await risk.verifyCapSignature({ action: 'approve', request: pending.pending.request, signature });
      const why = validateCapApproval(caps, changeId, Date.now(), capsCtx.rules);
      if (why) throw ApplicationFailure.nonRetryable(`cap approval refused: ${why}`, 'CapChangeRefused');
      let records: CapAuditRecord[];
      try {
        records = approveCapChange(caps, capsCtx.policies, changeId, `${who.name} (${who.address})`, Date.now());
      } catch (err) {
        throw ApplicationFailure.nonRetryable(`cap approval refused: ${err instanceof Error ? err.message : String(err)}`, 'CapChangeRefused');
      }
      await audited(records);
      wake = true;
      return { status: records.some((r) => r.action === 'superseded') ? 'superseded' : 'approved', audit: records };
    },
    {
      validator: ({ changeId }) => {
        // With the policies: also refused when approving now would change nothing (a later cut holds every field).
        const why = capsCtx ? validateCapApproval(caps, changeId, Date.now(), capsCtx.rules, capsCtx.policies) : 'the monitor has not ticked yet; retry in a moment';
        if (why) throw new Error(`cap approval refused: ${why}`);
      },
    },
  );
  setHandler(
    capControlUpdate,
    async ({ request, salt, signature }) => {
      const who = await risk.verifyCapSignature({ action: request.action, request, salt, signature });
      // State may have moved while the signature was checked: validate again before acting.
      const why = capsCtx ? validateCapControl(caps, capsCtx.policies, request, Date.now()) : 'the monitor has not ticked yet';
      if (why || !capsCtx) throw ApplicationFailure.nonRetryable(`cap ${request.action} refused: ${why}`, 'CapChangeRefused');
      const { status, records } = applyCapControl(caps, capsCtx.policies, request, `${who.name} (${who.address})`, Date.now());
      await audited(records);
      wake = true;
      return { status, audit: records };
    },
    {
      validator: ({ request }) => {
        const why = capsCtx ? validateCapControl(caps, capsCtx.policies, request, Date.now(), { atAdmission: true }) : 'the monitor has not ticked yet; retry in a moment';
        if (why) throw new Error(`cap ${String(request?.action)} refused: ${why}`);
      },
    },
  );
  setHandler(monitorStatusQuery, () => status);
  setHandler(pauseSignal, (arg) => {
    status.paused = true;
    status.pauseReason = arg?.reason;
    log.info('monitor paused', { reason: arg?.reason });
  });
  setHandler(resumeSignal, () => {
    status.paused = false;
    status.pauseReason = undefined;
    if (status.ledger.halted) {
      log.warn('resumed by an operator after a ledger halt', { halted: status.ledger.halted });
      status.ledger.halted = undefined;
      status.ledger.openingSupply = undefined; // re-open the deployment ledger from the chains as they are now
      status.ledger.treasuryReopen = true; // and acknowledge the treasury's keeper-flow difference as it is now
    }
    wake = true;
    log.info('monitor resumed');
  });
  setHandler(rebalanceFinishedSignal, ({ rebalanceId, outcome, ledgerMismatch, stranded, feePaidWei, feeBaseUnits }) => {
    lpMandates.finished({ rebalanceId, outcome, feePaidWei, feeBaseUnits });
    if (ledgerMismatch) status.ledger.halted = `rebalance ${rebalanceId}: ${ledgerMismatch}`;
    if (stranded) status.ledger.stranded.push(stranded);
    const i = status.inFlight.findIndex((f) => f.rebalanceId === rebalanceId);
    if (i >= 0) status.inFlight.splice(i, 1);
    status.finished[outcome] += 1;
    const r = status.recent.find((x) => x.rebalanceId === rebalanceId);
    if (r) r.outcome = outcome;
    wake = true; // a route is free again: plan now rather than at the next tick
  });

  while (status.ticks < input.maxTicksBeforeContinueAsNew) {
    status.ticks += 1;
    status.totalTicks += 1;
    // A tick whose reads fail (an RPC outage past the retries, a feed with no round yet) is skipped and
    // reported in the status; the monitor keeps ticking instead of failing.
    try {
      capsCtx = await reads.capsContext();
      await audited(settlePendingCaps(caps, capsCtx.policies, capsCtx.rules, Date.now()));
      if (!status.paused && !status.ledger.halted && status.inFlight.length === 0) {
        // Deployment ledger: checked when no saga is mid-flight, so every token is in a vault, a route or a
        // known stranded packet. Its first check opens it.
        // The treasury's books (ledger/treasury.ts) halt too; patched: histories recorded before them replay unchanged.
        const treasuryLedger = patched('treasury-ledger');
        // The Solana reserves' opening figure (their keeper flows are derived from it: ledger/treasury.ts), carried
        // like the opening supply; patched: histories recorded before it replay unchanged.
        const solanaOpening = treasuryLedger && patched('treasury-solana-opening') ? { solanaOpening: status.ledger.treasurySolanaOpening ?? {} } : {};
        const treasury = treasuryLedger ? { treasury: { acceptedDiff: status.ledger.treasuryAcceptedDiff, reopen: status.ledger.treasuryReopen, ...solanaOpening } } : {};
        const dl = await reads.checkDeploymentLedger({ openingSupply: status.ledger.openingSupply, stranded: status.ledger.stranded, ...treasury });
        status.ledger.openingSupply = dl.openingSupply;
        status.ledger.last = dl;
        status.ledger.checkedAtMs = Date.now();
        if (!dl.balanced) status.ledger.halted = `deployment ledger: ${dl.where}`;
        if (treasuryLedger && dl.treasury) {
          status.ledger.treasuryAcceptedDiff = dl.treasury.keeperFlows.acceptedDiff;
          status.ledger.treasuryReopen = undefined;
          if (dl.treasury.solanaOpening) status.ledger.treasurySolanaOpening = dl.treasury.solanaOpening;
          if (dl.treasury.halts && !status.ledger.halted) status.ledger.halted = `treasury ledger: ${dl.treasury.findings.filter((f) => f.halts).map((f) => f.text).join('; ')}`;
        }
      }
      if (!status.paused && !status.ledger.halted) {
        lastSnapshot = await reads.readSnapshot({ previous: lastSnapshot });
        // Each market's debt forecast: one observation per tick (a tick woken early observes nothing), the tick as the
        // step, carried in the status; the plan divides the forecast debt by the supply now. Patched: histories
        // recorded before it replay unchanged.
        const forecasting = patched('debt-forecast');
        if (forecasting) status.forecast = observeDebtForecasts(status.forecast ?? {}, lastSnapshot.chains, Date.now(), { ...DEFAULT_FORECAST_PARAMS, stepSec: input.tickIntervalSec });
        const forecast = forecasting && status.forecast ? { forecast: { stepSec: input.tickIntervalSec, chains: status.forecast } } : {};
        // Each chain's base fee, sampled into a bounded history carried in the status (the plan's gas timing weighs the
        // base fee now against it). Patched: histories recorded before it replay unchanged.
        const nowSec = Math.floor(Date.now() / 1000);
        const gasSampling = patched('gas-history');
        if (gasSampling) status.gasHistory = observeBaseFees(status.gasHistory ?? {}, lastSnapshot.chains, nowSec);
        const gas = gasSampling && status.gasHistory ? { gas: { nowSec, chains: status.gasHistory } } : {};
        const plan = await reads.planRebalances({ snapshot: lastSnapshot, inFlight: collateralInFlight(status.inFlight), caps, lp: await lpMandates.planInput(lastSnapshot), ...forecast, ...gas });
        status.lastPlanAtMs = Date.now();
        status.lastUnresolved = plan.unresolved;
        status.lastDeferred = plan.deferred && plan.deferred.length > 0 ? plan.deferred : undefined;
        // Never a new rebalance on a route that already had one in flight when this tick planned (the planner is
        // told too; this is the guard). The messages of one plan on one route (several when maxTransfer binds)
        // all start: the planner bounded them together (spare, window, route capacity).
        const busyRoutes = new Set(collateralInFlight(status.inFlight).map((f) => `${f.from}\u0000${f.to}`));
        for (const t of plan.transfers) {
          if (busyRoutes.has(`${t.from}\u0000${t.to}`)) continue;
          if (!lpMandates.admit(t)) continue; // a mandate it counts on was revoked since the plan
          if (caps.frozen?.[t.from]) {
            // frozen while this tick planned: no new outflow from it (never true in histories before freezes)
            log.warn('rebalance not started: its source chain was frozen since the plan', { rebalanceId: t.rebalanceId, from: t.from, freeze: caps.frozen[t.from]!.changeId });
            continue;
          }
          try {
            await startChild(rebalanceWorkflow, {
              workflowId: t.rebalanceId,
              args: [{ rebalanceId: t.rebalanceId, from: t.from, to: t.to, amount: t.amount, reason: t.reason, deliveryDeadlineSec: t.deliveryDeadlineSec ?? input.deliveryDeadlineSec, monitorWorkflowId: workflowInfo().workflowId, bridge: t.bridge }],
              parentClosePolicy: ParentClosePolicy.ABANDON,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            });
            status.inFlight.push({ rebalanceId: t.rebalanceId, from: t.from, to: t.to, amount: t.amount });
            lpMandates.started(t);
            status.started += 1;
            status.recent.unshift({ rebalanceId: t.rebalanceId, from: t.from, to: t.to, amount: t.amount });
            status.recent.length = Math.min(status.recent.length, RECENT_LIMIT);
            log.info('rebalance started', { rebalanceId: t.rebalanceId, from: t.from, to: t.to, amount: t.amount.toString(), reason: t.reason });
          } catch (err) {
            // Same id already ran (a replayed plan): it is not started twice.
            log.warn('rebalance not started', { rebalanceId: t.rebalanceId, error: err instanceof Error ? err.message : String(err) });
          }
        }
        // Capacity moves (workflows/capacityMonitor.ts); patched: histories recorded before them replay unchanged.
        if (patched('capacity-moves')) await planAndStartCapacityMoves(status, { deliveryDeadlineSec: input.deliveryDeadlineSec, recentLimit: RECENT_LIMIT, frozen: caps.frozen });
      }
      status.lastTickError = undefined;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      status.lastTickError = { atMs: Date.now(), error: err.cause instanceof Error ? err.cause.message : err.message };
      log.warn('tick skipped: an activity failed after its retries', { error: status.lastTickError.error });
    }
    wake = false;
    await condition(() => wake, `${input.tickIntervalSec} seconds`);
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof monitorWorkflow>({ ...input, carried: { status, lastSnapshot, caps, capsContext: capsCtx, lp: lpMandates.state } });
}
