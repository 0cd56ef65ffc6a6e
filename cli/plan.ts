/**
 * `ballast plan --dry-run`: read the live state of every chain (one multicall each, oracle checked, as
 * the monitor's `readSnapshot` activity does) and print the plan the keeper's planner (`planRebalances`,
 * the activity's own function) makes from it. Nothing is signed or sent: the context's account refuses
 * to sign (keeper/runtime.ts `readOnlyAccount`).
 *
 * When the deployment's monitor answers, its in-flight rebalances and last snapshot (the oracle guard's state:
 * the deviation reference and any re-anchor evidence) are used, so the plan is the one the monitor would make now;
 * the dry run's own read never feeds back into the monitor (its guard state is not carried). `--offline` skips
 * Temporal.
 *
 * Exit status: 0 printed, 1 failure (the reason printed), 2 usage (no `--dry-run`: the monitor plans and acts).
 */
import type { Command } from 'commander';
import { zeroAddress, type Address } from 'viem';
import { loadConfig, type BallastConfig } from '../config/index.js';
import { connectClient, monitorStatus } from '../keeper/client.js';
import { readCaps } from '../keeper/caps.js';
import type { CapsState } from '../workflows/caps.js';
import { loadKeeperAccount } from '../keeper/keys.js';
import { toDisplayNumber, wadToNumber } from '../keeper/metrics.js';
import type { PlanResult } from '../activities/plan.js';
import { collateralInFlight, type InFlight, type Snapshot } from '../planner/types.js';
import { toJson, UsageError, type CliContext, type CliIo } from './io.js';

/** What `ballast plan --dry-run` found and decided. */
export interface DryRunResult {
  dryRun: true;
  deployment: string;
  /** The keeper's address when its key is configured (only the address is used), else the zero address. */
  keeper: Address;
  monitor: { reachable: boolean; note: string; inFlight: InFlight[] };
  snapshot: Snapshot;
  /** The plan result as the planner returned it (transfers, unresolved, and whatever else it carries, e.g. a certificate). */
  plan: PlanResult & Record<string, unknown>;
}

/**
 * Reads the live state and plans, sending nothing.
 * @param opts.offline do not ask Temporal for the monitor's in-flight rebalances and last snapshot.
 * @throws Error when every chain is excluded (one line naming each chain and why: an unreachable RPC with its
 *   transport cause), or when the planner throws; a chain excluded among readable ones is not an error (the
 *   snapshot says why).
 */
export async function dryRunPlan(config: BallastConfig, opts: { offline?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<DryRunResult> {
  let keeper: Address = zeroAddress;
  try {
    keeper = loadKeeperAccount(config, opts.env).address;
  } catch {
    // no key here: the address only labels the context; nothing signs anyway
  }
  // The keeper's runtime, snapshot and planner (HiGHS) load only when a plan is made: every other CLI command
  // starts without them.
  const [{ buildReadOnlyKeeperContext }, { readSnapshot }, { planRebalances }] = await Promise.all([import('../keeper/runtime.js'), import('../activities/snapshot.js'), import('../activities/plan.js')]);
  const ctx = buildReadOnlyKeeperContext(config, { address: keeper });
  let inFlight: InFlight[] = [];
  let previous: Snapshot | undefined;
  let caps: CapsState | undefined;
  let monitor: DryRunResult['monitor'] = { reachable: false, note: 'offline: planned with no in-flight rebalances and no oracle deviation reference', inFlight };
  if (!opts.offline) {
    try {
      const client = await connectClient(config);
      try {
        const { status, snapshot } = await monitorStatus(client, config.deployment);
        inFlight = collateralInFlight(status.inFlight); // capacity moves do not move collateral
        previous = snapshot;
        caps = (await readCaps(client, config.deployment))?.state; // the risk team's run-time caps, as the monitor plans with them
        monitor = { reachable: true, note: `monitor of ${config.deployment}: ${inFlight.length} rebalance(s) in flight, ${status.paused ? `PAUSED (${status.pauseReason ?? 'no reason'})` : 'running'}`, inFlight };
      } finally {
        await client.connection.close();
      }
    } catch (err) {
      monitor = { reachable: false, note: `monitor not reachable (${err instanceof Error ? err.message : String(err)}): planned with no in-flight rebalances and no oracle deviation reference`, inFlight };
    }
  }
  const snapshot = await readSnapshot(ctx, previous);
  if (snapshot.chains.length === 0 && snapshot.excluded.length > 0) {
    const why = snapshot.excluded.map((e) => (e.reason.startsWith(`${e.chainKey}: `) ? e.reason : `${e.chainKey}: ${e.reason}`));
    throw new Error(`no chain could be read, nothing to plan: ${why.join('; ')}`);
  }
  const plan = (await planRebalances(ctx, { snapshot, inFlight, caps })) as DryRunResult['plan'];
  return { dryRun: true, deployment: config.deployment, keeper, monitor, snapshot, plan };
}

function printText(r: DryRunResult, config: BallastConfig, io: CliIo): void {
  const d = config.asset.decimals;
  const sym = config.asset.symbol;
  io.out(`DRY RUN: nothing is signed or sent (deployment ${r.deployment}, keeper ${r.keeper})`);
  io.out(r.monitor.note);
  io.out(`snapshot ${r.snapshot.freshness} at ${new Date(r.snapshot.takenAtMs).toISOString()}:`);
  for (const c of r.snapshot.chains) {
    io.out(`  ${c.chainKey.padEnd(10)} block ${c.blockNumber}  utilization ${(wadToNumber(c.utilizationWad) * 100).toFixed(2)}%  idle ${toDisplayNumber(c.idle, d)} ${sym}  oracle ${c.oracleCheck.ok ? 'ok' : `REFUSED: ${c.oracleCheck.reason}`}`);
  }
  for (const e of r.snapshot.excluded) io.out(`  ${e.chainKey.padEnd(10)} EXCLUDED: ${e.reason}`);
  const { transfers, unresolved, ...rest } = r.plan;
  io.out(`plan: ${transfers.length} transfer(s)`);
  for (const t of transfers) {
    const bridge = (t as { bridge?: string }).bridge;
    io.out(`  ${t.from} → ${t.to} ${toDisplayNumber(t.amount, d)} ${sym} (${t.amount} base units)${bridge ? ` via ${bridge}` : ''}  id ${t.rebalanceId}`);
    io.out(`      ${t.reason}`);
  }
  if (unresolved.length) io.out('unresolved:');
  for (const u of unresolved) io.out(`  ${u.chainKey}: ${u.reason}`);
  for (const [k, v] of Object.entries(rest)) io.out(`${k}: ${toJson(v)}`);
}

/**
 * Registers `ballast plan` on `program` (only `--dry-run` is supported: the monitor plans and acts); its action
 * prints through `ctx.io`.
 * @throws UsageError (from the action) without `--dry-run`.
 * @example
 *   registerPlan(program, ctx); // ballast plan --dry-run -c ballast.yaml [--json] [--offline]
 */
export function registerPlan(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('print the plan for the live state of the chains, sending nothing (--dry-run)')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--dry-run', 'read and plan only; nothing is signed or sent (required: the monitor workflow is what acts)')
    .option('--json', 'print JSON (amounts as exact integer strings)')
    .option('--offline', "do not ask Temporal for the monitor's in-flight rebalances and last snapshot")
    .action(async (o: { config: string; dryRun?: boolean; json?: boolean; offline?: boolean }, cmd: Command) => {
      if (!o.dryRun) throw new UsageError('only --dry-run is supported (plans are executed by the monitor workflow: `ballast start`)', cmd);
      const config = loadConfig(o.config);
      const r = await dryRunPlan(config, { offline: o.offline });
      if (o.json) ctx.io.out(toJson(r));
      else printText(r, config, ctx.io);
    });
}
