/**
 * `ballast` command line (commander). Exit codes: 0 ok, 1 failure (the reason is printed), 2 usage.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, ConfigError } from '../config/index.js';
import { createLogger } from '../keeper/logger.js';
import { connectClient, monitorStatus, setPaused, startMonitor } from '../keeper/client.js';
import { rebalanceProgressQuery } from '../workflows/messages.js';
import { nonZero } from '../ledger/ledger.js';
import { toDisplayNumber, wadToNumber } from '../keeper/metrics.js';
import { registerReplay } from './replay.js';
import { registerPlan } from './plan.js';
import { registerInspect } from './inspect.js';
import { registerCaps } from './caps.js';
import { registerBacktest } from './backtest.js';
import { registerLp } from './lp.js';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be a positive integer (got "${v}")`);
  return n;
};

/** JSON with every bigint as an exact decimal string. */
const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2);

const program = new Command()
  .name('ballast')
  .description('Ballast: cross-chain liquidity rebalancing keeper (Temporal + LayerZero v2)')
  .showHelpAfterError();

program
  .command('dev')
  .description('run everything on a local devnet: 3 anvil chains and a Solana chain, Temporal, LayerZero relayer, Wormhole guardian and custody, market driver, worker, monitor')
  .option('--until <n>', 'stop after N rebalances completed (exit 0; exit 1 if not within --timeout)', positiveInt)
  .option('--timeout <sec>', 'with --until: seconds to wait', positiveInt, 300)
  .option('--day-ms <ms>', 'wall-clock milliseconds per day of market history', positiveInt, 4000)
  .option('--tick <sec>', 'monitor tick interval', positiveInt, 3)
  .option('--no-solana', 'EVM chains only (no Solana chain)')
  .action(async (o: { until?: number; timeout: number; dayMs: number; tick: number; solana: boolean }) => {
    const { runDev } = await import('../devnet/dev.js');
    process.exitCode = await runDev({ until: o.until, timeoutSec: o.timeout, dayMs: o.dayMs, tickSec: o.tick, solana: o.solana });
  });

program
  .command('worker')
  .description('run the keeper worker (workflows + activities) and serve /metrics')
  .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
  .action(async (o: { config: string }) => {
    const config = loadConfig(o.config);
    const log = createLogger('ballast');
    const { createKeeperWorker } = await import('../keeper/worker.js'); // loaded only for this command (Temporal worker, HiGHS)
    const keeper = await createKeeperWorker(config, log);
    const stop = () => {
      log.info('shutting down: finishing running activities');
      void keeper.shutdown();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await keeper.run();
  });

program
  .command('start')
  .description("start the deployment's monitor workflow (no-op if it runs)")
  .requiredOption('-c, --config <file>', 'config file')
  .action(async (o: { config: string }) => {
    const config = loadConfig(o.config);
    const client = await connectClient(config);
    const r = await startMonitor(client, config);
    console.log(r.started ? `started monitor ${r.workflowId}` : `monitor ${r.workflowId} already running`);
    await client.connection.close();
  });

program
  .command('status')
  .description("print the monitor's status and latest snapshot")
  .requiredOption('-c, --config <file>', 'config file')
  .option('--json', 'print JSON')
  .option('--ledger', "also print the funds ledger: the deployment's supply conservation and each recent rebalance's accounts")
  .action(async (o: { config: string; json?: boolean; ledger?: boolean }) => {
    const config = loadConfig(o.config);
    const client = await connectClient(config);
    const { status, snapshot } = await monitorStatus(client, config.deployment);
    if (o.ledger) {
      const rebalances = await Promise.all(
        status.recent.map(async (r) => {
          const p = await client.workflow.getHandle(r.rebalanceId).query(rebalanceProgressQuery);
          return { ...r, balances: nonZero(p.ledger.balances), entries: p.ledger.entries.length, feesPaidWei: p.ledger.feesPaidWei, mismatch: p.result?.ledgerMismatch };
        }),
      );
      if (o.json) {
        console.log(toJson({ deployment: status.ledger, rebalances }));
      } else {
        const l = status.ledger;
        console.log(`deployment ledger (${config.asset.symbol}, base units): ${l.halted ? `HALTED: ${l.halted}` : l.last ? (l.last.balanced ? 'balanced' : 'NOT BALANCED') : 'not checked yet (sagas in flight)'}`);
        if (l.last) {
          console.log(`  opening supply ${l.openingSupply}; now ${l.last.totalSupply} (${Object.entries(l.last.perChain).map(([k, v]) => `${k} ${v}`).join(', ')}) + stranded in flight ${l.last.inFlightUndelivered}`);
          console.log(`  checked at ${new Date(l.checkedAtMs ?? 0).toISOString()} at blocks ${Object.entries(l.last.blocks).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        }
        for (const r of rebalances) {
          console.log(`  ${r.rebalanceId.slice(0, 10)}… ${r.from} → ${r.to} ${r.amount} ${r.outcome ?? 'in flight'}: ${Object.entries(r.balances).map(([k, v]) => `${k}=${v}`).join(' ')}${r.mismatch ? `  MISMATCH: ${r.mismatch}` : ''}`);
        }
      }
      await client.connection.close();
      return;
    }
    if (o.json) {
      console.log(toJson({ status, snapshot }));
    } else {
      const d = config.asset.decimals;
      console.log(`deployment ${status.deployment}: ${status.paused ? `PAUSED (${status.pauseReason ?? 'no reason'})` : 'running'}, ticks ${status.totalTicks}`);
      console.log(`rebalances: started ${status.started}, completed ${status.finished.completed}, compensated ${status.finished.compensated}, stranded ${status.finished.stranded}, in flight ${status.inFlight.length}`);
      for (const f of status.inFlight) console.log(`  in flight ${f.rebalanceId.slice(0, 10)}… ${f.from} → ${f.to} ${toDisplayNumber(f.amount, d)} ${config.asset.symbol}`);
      if (snapshot) {
        console.log(`snapshot (${snapshot.freshness}) at ${new Date(snapshot.takenAtMs).toISOString()}:`);
        for (const c of snapshot.chains) {
          console.log(`  ${c.chainKey.padEnd(10)} block ${c.blockNumber}  utilization ${(wadToNumber(c.utilizationWad) * 100).toFixed(2)}%  idle ${toDisplayNumber(c.idle, d)} ${config.asset.symbol}  oracle ${c.oracleCheck.ok ? 'ok' : `REFUSED: ${c.oracleCheck.reason}`}`);
        }
        for (const e of snapshot.excluded) console.log(`  ${e.chainKey.padEnd(10)} EXCLUDED: ${e.reason}`);
      }
      for (const u of status.lastUnresolved) console.log(`  unresolved ${u.chainKey}: ${u.reason}`);
      if (status.lastTickError) console.log(`  last tick SKIPPED at ${new Date(status.lastTickError.atMs).toISOString()}: ${status.lastTickError.error}`);
    }
    await client.connection.close();
  });

for (const [name, paused] of [['pause', true], ['resume', false]] as const) {
  program
    .command(name)
    .description(paused ? 'stop planning new rebalances (open ones finish)' : 'resume planning')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--reason <text>', 'why (recorded in status)')
    .action(async (o: { config: string; reason?: string }) => {
      const config = loadConfig(o.config);
      const client = await connectClient(config);
      await setPaused(client, config.deployment, paused, o.reason);
      console.log(`${name}d monitor of ${config.deployment}`);
      await client.connection.close();
    });
}

registerReplay(program);
registerPlan(program);
registerInspect(program);
registerCaps(program);
registerBacktest(program);
registerLp(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`ballast: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
