/**
 * `ballast` command line (commander), callable in-process: {@link run} builds a fresh command tree per call,
 * prints through a {@link CliIo} and returns the exit status instead of exiting.
 *
 * Conventions:
 * - exit 0: done (also `--help`, `--version`/`-V`, which prints package.json's version);
 * - exit 2: usage error (unknown command or option, missing required option or argument, bad option value,
 *   a flag combination the command refuses): the command's help on stderr, then the error as the LAST line;
 * - exit 1: runtime error (config file missing or invalid, Temporal unreachable, RPC or decode error, …): ONE
 *   line on stderr, `ballast: <message>` (the stack trace before it only with `BALLAST_DEBUG=1`); commands
 *   that verify something also exit 1 when it does not verify (replay mismatch, invalid VAA, `dev --until` not
 *   reached in time), with their report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, repoDir } from '../config/index.js';
import { createLogger } from '../keeper/logger.js';
import { connectClient, monitorStatus, setPaused, startMonitor } from '../keeper/client.js';
import { rebalanceProgressQuery } from '../workflows/messages.js';
import { nonZero } from '../ledger/ledger.js';
import { deploymentLedgerLines } from './ledgerReport.js';
import { toDisplayNumber, wadToNumber } from '../keeper/metrics.js';
import { captureIo, commandPath, errorLine, processIo, toJson, UsageError, type CliContext, type CliIo } from './io.js';
import { registerReplay } from './replay.js';
import { registerPlan } from './plan.js';
import { registerInspect } from './inspect.js';
import { registerCaps } from './caps.js';
import { registerBacktest } from './backtest.js';
import { registerLp } from './lp.js';
import { registerConfig } from './config.js';
import { registerDeploy } from './deploy.js';

export { captureIo, processIo, UsageError, type CapturedIo, type CliContext, type CliIo } from './io.js';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be a positive integer (got "${v}")`);
  return n;
};

/**
 * The version in the repository's package.json, read at each call (so a checkout's version is what prints).
 * @throws Error when package.json is unreadable or has no version string.
 */
export function packageVersion(): string {
  const file = path.join(repoDir(), 'package.json');
  const v = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version;
  if (typeof v !== 'string') throw new Error(`${file} has no "version" string`);
  return v;
}

/** A pino destination printing each log line through `print` (pino ends every record with `\n`). */
const lineDestination = (print: (text: string) => void) => ({ write: (s: string) => print(s.replace(/\n$/, '')) });

/**
 * Builds a fresh `ballast` command tree whose actions print through `ctx.io` and set `ctx.exitCode`. Errors are
 * not handled here: {@link run} adds the exit override and output configuration and maps them to exit statuses.
 * @param version what `--version` prints.
 */
export function buildProgram(ctx: CliContext, version: string): Command {
  const { io } = ctx;
  const program = new Command()
    .name('ballast')
    .description('Ballast: cross-chain liquidity rebalancing keeper (Temporal + LayerZero v2)')
    .version(version, '-V, --version', 'print the version (package.json) and exit');

  program
    .command('dev')
    .description('run everything on a local devnet: 3 anvil chains (real Aave v3 Pools) and a Solana chain, Temporal, LayerZero relayer, Wormhole guardian and custody, market driver, worker, monitor')
    .option('--until <n>', 'stop after N rebalances completed (exit 0; exit 1 if not within --timeout)', positiveInt)
    .option('--timeout <sec>', 'with --until: seconds to wait', positiveInt, 300)
    .option('--day-ms <ms>', 'wall-clock milliseconds per day of market history', positiveInt, 4000)
    .option('--tick <sec>', 'monitor tick interval', positiveInt, 3)
    .option('--no-solana', 'EVM chains only (no Solana chain)')
    .addOption(new Option('--market <kind>', "where the EVM chains keep the treasury's liquidity: aave (real Aave v3 Pools, through the AaveAllocator) or vault (Ballast's CollateralVault)").choices(['aave', 'vault']).default('aave'))
    .action(async (o: { until?: number; timeout: number; dayMs: number; tick: number; solana: boolean; market: 'aave' | 'vault' }) => {
      // devnet/dev.ts prints its progress on process.stdout itself; it handles SIGINT/SIGTERM until it resolves.
      const { runDev } = await import('../devnet/dev.js').catch((err: unknown) => {
        // A production install (npm ci --omit=dev) has no anvil, solc or litesvm: say so instead of a module error.
        if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
          throw new Error(`ballast dev needs the development install (devDependencies: anvil, solc, litesvm): run npm ci without --omit=dev (${(err as Error).message.split('\n')[0]})`);
        }
        throw err;
      });
      ctx.exitCode = await runDev({ until: o.until, timeoutSec: o.timeout, dayMs: o.dayMs, tickSec: o.tick, solana: o.solana, market: o.market });
    });

  program
    .command('worker')
    .description('run the keeper worker (workflows + activities) and serve /metrics')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .action(async (o: { config: string }) => {
      const config = loadConfig(o.config);
      const log = createLogger('ballast', lineDestination(io.out));
      const { createKeeperWorker } = await import('../keeper/worker.js'); // loaded only for this command (Temporal worker, HiGHS)
      const keeper = await createKeeperWorker(config, log);
      const stop = () => {
        log.info('shutting down: finishing running activities');
        void keeper.shutdown();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await keeper.run();
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  program
    .command('start')
    .description("start the deployment's monitor workflow (no-op if it runs)")
    .requiredOption('-c, --config <file>', 'config file')
    .action(async (o: { config: string }) => {
      const config = loadConfig(o.config);
      const client = await connectClient(config);
      try {
        const r = await startMonitor(client, config);
        io.out(r.started ? `started monitor ${r.workflowId}` : `monitor ${r.workflowId} already running`);
      } finally {
        await client.connection.close();
      }
    });

  program
    .command('status')
    .description("print the monitor's status and latest snapshot")
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .option('--ledger', "also print the funds ledger: the deployment's supply conservation, the treasury's books and each recent rebalance's accounts")
    .action(async (o: { config: string; json?: boolean; ledger?: boolean }) => {
      const config = loadConfig(o.config);
      const client = await connectClient(config);
      try {
        const { status, snapshot } = await monitorStatus(client, config.deployment);
        if (o.ledger) {
          const rebalances = await Promise.all(
            status.recent.map(async (r) => {
              const p = await client.workflow.getHandle(r.rebalanceId).query(rebalanceProgressQuery);
              return { ...r, balances: nonZero(p.ledger.balances), entries: p.ledger.entries.length, feesPaidWei: p.ledger.feesPaidWei, mismatch: p.result?.ledgerMismatch };
            }),
          );
          if (o.json) {
            io.out(toJson({ deployment: status.ledger, rebalances }));
            return;
          }
          for (const line of deploymentLedgerLines(status.ledger, config.asset.symbol)) io.out(line);
          for (const r of rebalances) {
            io.out(`  ${r.rebalanceId.slice(0, 10)}… ${r.from} → ${r.to} ${r.amount} ${r.outcome ?? 'in flight'}: ${Object.entries(r.balances).map(([k, v]) => `${k}=${v}`).join(' ')}${r.mismatch ? `  MISMATCH: ${r.mismatch}` : ''}`);
          }
          return;
        }
        if (o.json) {
          io.out(toJson({ status, snapshot }));
          return;
        }
        const d = config.asset.decimals;
        io.out(`deployment ${status.deployment}: ${status.paused ? `PAUSED (${status.pauseReason ?? 'no reason'})` : 'running'}, ticks ${status.totalTicks}`);
        io.out(`rebalances: started ${status.started}, completed ${status.finished.completed}, compensated ${status.finished.compensated}, stranded ${status.finished.stranded}, in flight ${status.inFlight.length}`);
        for (const f of status.inFlight) io.out(`  in flight ${f.rebalanceId.slice(0, 10)}… ${f.from} → ${f.to} ${toDisplayNumber(f.amount, d)} ${config.asset.symbol}`);
        if (snapshot) {
          io.out(`snapshot (${snapshot.freshness}) at ${new Date(snapshot.takenAtMs).toISOString()}:`);
          for (const c of snapshot.chains) {
            // An Aave chain: Aave's utilization and supply APY, and the treasury's supply (its aTokens).
            const aave = c.market ? `  Aave supply APY ${(Number(c.market.supplyApyBps) / 100).toFixed(2)}%  treasury supply ${toDisplayNumber(c.market.treasuryBalance, d)} ${config.asset.symbol}` : '';
            io.out(`  ${c.chainKey.padEnd(10)} block ${c.blockNumber}  utilization ${(wadToNumber(c.utilizationWad) * 100).toFixed(2)}%  idle ${toDisplayNumber(c.idle, d)} ${config.asset.symbol}${aave}  oracle ${c.oracleCheck.ok ? 'ok' : `REFUSED: ${c.oracleCheck.reason}`}`);
          }
          for (const e of snapshot.excluded) io.out(`  ${e.chainKey.padEnd(10)} EXCLUDED: ${e.reason}`);
        }
        for (const u of status.lastUnresolved) io.out(`  unresolved ${u.chainKey}: ${u.reason}`);
        // The last plan's yield-only moves held back by the gas timing (planner/timing.ts), with why.
        for (const x of status.lastDeferred ?? []) io.out(`  deferred ${x.transfer.from} → ${x.transfer.to} ${toDisplayNumber(x.transfer.amount, d)} ${config.asset.symbol}: ${x.reason}`);
        if (status.lastTickError) io.out(`  last tick SKIPPED at ${new Date(status.lastTickError.atMs).toISOString()}: ${status.lastTickError.error}`);
      } finally {
        await client.connection.close();
      }
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
        try {
          await setPaused(client, config.deployment, paused, o.reason);
          io.out(`${name}d monitor of ${config.deployment}`);
        } finally {
          await client.connection.close();
        }
      });
  }

  registerReplay(program, ctx);
  registerPlan(program, ctx);
  registerInspect(program, ctx);
  registerCaps(program, ctx);
  registerBacktest(program, ctx);
  registerLp(program, ctx);
  registerConfig(program, ctx);
  registerDeploy(program, ctx);
  return program;
}

/** Commander's exit (usage error, help, version) raised by `command`, carried out of `parseAsync`. */
class CommanderExit extends Error {
  constructor(
    readonly error: CommanderError,
    readonly command: Command,
  ) {
    super(error.message);
  }
}

/**
 * On `cmd` and every subcommand: commander throws instead of exiting ({@link CommanderExit}), prints help and
 * the version through `io`, and leaves error messages to {@link run} (which prints them last).
 * @param onHelpToStderr called when commander prints help on stderr (a command with subcommands given none).
 */
function routeThroughIo(cmd: Command, io: CliIo, onHelpToStderr: () => void): void {
  cmd
    .exitOverride((e) => {
      throw new CommanderExit(e, cmd);
    })
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => {
        onHelpToStderr();
        io.err(s.replace(/\n$/, ''));
      },
      outputError: () => undefined,
    });
  for (const sub of cmd.commands) routeThroughIo(sub, io, onHelpToStderr);
}

/** Prints `command`'s help, then `message` as the last line (`ballast <command>: <message>`); returns 2. */
function usageFailure(io: CliIo, command: Command, message: string, withHelp = true): number {
  if (withHelp) io.err(`${command.helpInformation({ error: true }).replace(/\n+$/, '')}\n`);
  const line = message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ');
  io.err(`${commandPath(command)}: ${line}`);
  return 2;
}

/**
 * Runs the `ballast` CLI in-process on a fresh command tree.
 * @param argv the arguments after node and the script, e.g. `['status', '-c', 'ballast.yaml', '--json']`.
 * @param io where every line is printed (default: the process's stdout and stderr).
 * @returns the exit status: 0 done (also `--help`, `--version`), 1 runtime error (one line
 *   `ballast: <message>` on stderr) or a failed verification (replay mismatch, invalid VAA, …), 2 usage error
 *   (the command's help, then the error as the last stderr line).
 *   Never rejects, never calls `process.exit` nor sets `process.exitCode`.
 * @example
 *   const io = captureIo();
 *   const code = await run(['inspect', 'packet', hex, '--json'], io); // 0, JSON in io.stdout
 */
export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  let helpOnStderr = false;
  let program: Command | undefined;
  try {
    program = buildProgram(ctx, packageVersion());
    routeThroughIo(program, io, () => {
      helpOnStderr = true;
    });
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderExit) {
      const { error, command } = err;
      if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
        if (!helpOnStderr) return 0; // --help, help <cmd>, --version
        const names = command.commands.map((c) => c.name()).join(', ');
        io.err(''); // its help is already printed
        return usageFailure(io, command, `missing command: one of ${names}`, false);
      }
      return usageFailure(io, command, error.message);
    }
    if (err instanceof UsageError) return usageFailure(io, err.command ?? program!, err.message);
    if (err instanceof CommanderError && program) return usageFailure(io, program, err.message, false); // e.g. InvalidArgumentError thrown by an action
    if (process.env.BALLAST_DEBUG === '1' && err instanceof Error && err.stack) io.err(err.stack);
    io.err(`ballast: ${errorLine(err)}`);
    return 1;
  }
}

/** What {@link runCaptured} returns: the exit status and everything printed. */
export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with its output captured, e.g. in tests (what `node bin/ballast.mjs …` would exit
 * with and print).
 * @param opts.env variables set (a string) or unset (undefined) in `process.env` for the duration of the run
 *   and restored after: process-wide, so runs with `env` must not overlap.
 * @example
 *   const r = await runCaptured(['inspect', 'vaa', hex], { env: { BALLAST_FIXTURES_DIR: dir } });
 *   assert.equal(r.code, 1, r.stderr);
 */
export async function runCaptured(argv: string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<CapturedRun> {
  const saved = Object.entries(opts.env ?? {}).map(([k, v]) => {
    const had = Object.prototype.hasOwnProperty.call(process.env, k);
    const old = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    return () => {
      if (had) process.env[k] = old;
      else delete process.env[k];
    };
  });
  const io = captureIo();
  try {
    const code = await run(argv, io);
    return { code, stdout: io.stdout, stderr: io.stderr };
  } finally {
    for (const restore of saved.reverse()) restore();
  }
}

/** Run as a script (`tsx cli/main.ts …`, `npm run ballast`): the binary bin/ballast.mjs imports {@link run} instead. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return fs.realpathSync(path.resolve(script)) === fs.realpathSync(fileURLToPath(import.meta.url)) || pathToFileURL(path.resolve(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

// Not a top-level await: this module would stay "evaluating" until the command ends, and a module still evaluating
// cannot be imported (`ballast dev` imports it to run `status --ledger` in-process before it stops: a deadlock).
if (isEntryPoint()) void run(process.argv.slice(2)).then((code) => (process.exitCode = code));
