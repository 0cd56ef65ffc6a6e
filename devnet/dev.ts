/**
 * `ballast dev`: the whole keeper on a local devnet in one process tree — three anvil chains with
 * every contract (by default the treasury's liquidity in real Aave v3 Pools through AaveAllocators;
 * `market: 'vault'` for the CollateralVaults), a real Temporal dev server (with Web UI), the LayerZero
 * relayer, the market driver replaying real history, the keeper worker with `/metrics`, and the monitor.
 * Prints each rebalance and, about once per day of history, every chain's utilization (and, on Aave, the
 * supply APY) from the keeper's snapshot; when the run stops, before anything is stopped, the deployment ledger
 * exactly as `ballast status --ledger` prints it ({@link printLedgerAtStop}).
 */
import fs from 'node:fs';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { formatEther } from 'viem';
import { startTemporalDevServer, findFreePort, temporalCliPath, DEFAULT_TEMPORAL_PORT, preferredPortOrAny, temporalAccessLines, type TemporalDevServer } from './temporal.js';
import { startDevnet, DEFAULT_DEVNET_CHAINS, type Devnet } from './devnet.js';
import type { DevnetMarket } from './deploy.js';
import { MarketDriver } from './marketDriver.js';
import { devnetSolanaKeeperEnv } from './solanaDevnet.js';
import { DEVNET_ACCOUNTS } from './accounts.js';
import { createKeeperWorker, type KeeperWorker } from '../keeper/worker.js';
import { connectClient, monitorStatus, startMonitor } from '../keeper/client.js';
import { createLogger } from '../keeper/logger.js';
import { toDisplayNumber } from '../keeper/metrics.js';
import { repoDir } from '../config/fixtures.js';
import type { RebalanceResult } from '../workflows/types.js';
import type { CapacityMoveResult } from '../workflows/capacity.js';
import type { ChainState, Snapshot } from '../planner/types.js';
import type { MonitorStatus } from '../workflows/messages.js';
import { deploymentLedgerLines } from '../cli/ledgerReport.js';

export interface DevOptions {
  /** Stop after this many rebalances completed (exit 0); undefined = run until Ctrl-C. */
  until?: number;
  /** With `until`: give up after this many seconds (exit 1). Default 300. */
  timeoutSec?: number;
  /** Wall-clock milliseconds per day of market history. Default 4000. */
  dayMs?: number;
  /** Monitor tick, seconds. Default 3. */
  tickSec?: number;
  /** Metrics port (default 9464; 0 = any free port). */
  metricsPort?: number;
  /** Web UI port (default 8233; 0 = any free port). */
  uiPort?: number;
  /** Temporal frontend port (default 7233 when free, else any free port; 0 = any free port). */
  temporalPort?: number;
  /** Also run the Solana chain (LiteSVM JSON-RPC) and move liquidity to and from it over Wormhole. Default true. */
  solana?: boolean;
  /**
   * Where the EVM chains keep the treasury's liquidity (devnet/deploy.ts `market`). Default `aave`: a real Aave v3 Pool
   * per chain (the treasury's aTokens in an AaveAllocator, borrow demand replayed on the Pool); `vault`: the Ballast
   * CollateralVault. Solana keeps its devnet reserve either way.
   */
  market?: DevnetMarket;
}

const say = (msg: string) => process.stdout.write(`[ballast dev] ${msg}\n`);

/**
 * Runs the devnet until Ctrl-C or `until` rebalances completed. Resolves with the exit code
 * (0 ok, 1 when `until` was not reached in time). Every process it started is stopped before it resolves.
 */
export async function runDev(opts: DevOptions): Promise<number> {
  temporalCliPath(); // fails early, with the install hint, when the CLI is missing
  const workDir = path.join(repoDir(), '.devnet', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(workDir, { recursive: true });
  let temporal: TemporalDevServer | undefined;
  let devnet: Devnet | undefined;
  let driver: MarketDriver | undefined;
  let keeper: KeeperWorker | undefined;
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping: worker, market driver, relayer, guardian, chains, Temporal…');
    await keeper?.shutdown().catch(() => {});
    await driver?.stop().catch(() => {});
    await devnet?.stop().catch(() => {});
    await temporal?.stop().catch(() => {});
    say('stopped cleanly');
  };
  let interrupted: (() => void) | undefined;
  const onSignal = () => interrupted?.();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say(`work dir ${workDir} (logs: temporal.log, keeper.log, anvil-*.log)`);
    say('starting Temporal dev server…');
    const uiPort = opts.uiPort ?? 8233;
    // Temporal's default port when free, so `temporal workflow list` works as the Temporal docs show it; else any.
    const temporalPort = opts.temporalPort ?? (await preferredPortOrAny(DEFAULT_TEMPORAL_PORT));
    const ui = uiPort === 0 ? 0 : (await portFree(uiPort)) ? uiPort : 0;
    const logFile = path.join(workDir, 'temporal.log');
    temporal = await startTemporalDevServer({ port: temporalPort, uiPort: ui, logFile }).catch((err: unknown) => {
      // 7233 taken between the check and the bind (the server exited early): any free port instead.
      if (temporalPort === 0 || !/exited early/.test(err instanceof Error ? err.message : '')) throw err;
      say(`port ${temporalPort} was taken meanwhile; Temporal on a free port instead`);
      return startTemporalDevServer({ port: 0, uiPort: ui, logFile });
    });
    for (const line of temporalAccessLines(temporal, { startupMs: temporal.startupMs })) say(line);
    const market: DevnetMarket = opts.market ?? 'aave';
    if (market !== 'aave' && market !== 'vault') throw new Error(`market ${JSON.stringify(market)}: expected aave or vault`);
    say(`starting 3 anvil chains and deploying EndpointV2, SimpleMessageLib, OFT, vaults, routes, feeds${market === 'aave' ? ', Aave v3 markets (Pool, aTokens, the treasury\'s AaveAllocator)' : ''}${opts.solana ?? true ? ', and a Solana chain (LiteSVM JSON-RPC, SPL mint, reserve, Wormhole custody, Pyth)' : ''}…`);
    say(market === 'aave' ? 'EVM liquidity (market aave): real Aave v3 Pools; the treasury supplies through an AaveAllocator, borrow demand is replayed on the Pools' : 'EVM liquidity (market vault): the CollateralVaults; borrow demand is replayed on them');
    const metricsPort = opts.metricsPort ?? ((await portFree(9464)) ? 9464 : await findFreePort());
    const t0 = Date.now();
    devnet = await startDevnet({
      workDir,
      temporalAddress: temporal.address,
      metricsPort,
      log: (m) => say(`  ${m}`),
      solana: opts.solana ?? true,
      market,
      // The replayed Aave USDC markets run hot (mostly 75–90% utilized), so the devnet's band is 75–85%
      // (target 80%): chains drift above and below it as the history plays, and the keeper has work to do.
      configOverrides: (c) => ({
        ...c,
        tick: { intervalSec: opts.tickSec ?? 3, maxTicksBeforeContinueAsNew: 200 },
        layerzero: { deliveryDeadlineSec: 120 },
        // Capacity moves too: a chain whose borrowed / borrowLimit (the replayed utilization, as the limits start
        // at the supplied liquidity) runs above 92% takes lending capacity from one below 85%. On Aave chains the
        // borrow demand is on the Pool, not on the CollateralVault, so their credit lines stay idle.
        ...(c.solana ? { solana: { ...c.solana, chains: c.solana.chains.map((ch) => ({ ...ch, band: { lowPct: 75, highPct: 85 } })) } } : {}),
        chains: c.chains.map((ch) => ({ ...ch, band: { lowPct: 75, highPct: 85 }, capacity: { highPct: 92, lowPct: 85, minMove: (1_000n * 10n ** BigInt(c.asset.decimals)).toString(), maxMove: (1_000_000n * 10n ** BigInt(c.asset.decimals)).toString(), bridge: 'auto' } })),
      }),
    });
    say(`devnet ready in ${Date.now() - t0} ms; config: ${devnet.configFile}`);
    say(`Wormhole devnet guardian (signed VAAs): ${devnet.guardianUrl}/v1/signed_vaa/{chain}/{emitter}/{sequence}`);
    const networks = Object.fromEntries(DEFAULT_DEVNET_CHAINS.map((c) => [c.key, c.key]));
    driver = new MarketDriver({ deployment: devnet.deployment, networks, dayMs: opts.dayMs ?? 4000, log: say, ...(devnet.solana ? { solana: { network: 'scroll', devnet: devnet.solana } } : {}) });
    await driver.start();
    const log = createLogger('ballast', fs.createWriteStream(path.join(workDir, 'keeper.log')) as never);
    keeper = await createKeeperWorker(devnet.config, log, { env: { ...process.env, BALLAST_KEEPER_PRIVATE_KEY: process.env.BALLAST_KEEPER_PRIVATE_KEY ?? DEVNET_ACCOUNTS.keeper, BALLAST_SOLANA_KEEPER_KEY: process.env.BALLAST_SOLANA_KEEPER_KEY ?? devnetSolanaKeeperEnv() } });
    const workerDone = keeper.run();
    say(`keeper worker running; metrics at http://127.0.0.1:${keeper.metricsPort}/metrics`);
    // Shutdown order: stop polling, abort the pending calls, stop retrying, wait for them to settle, and only then
    // close the connection, so no gRPC retry timer fires on a closed channel.
    let closing = false;
    const client = await connectClient(devnet.config, { stopRetrying: () => closing });
    const { workflowId } = await startMonitor(client, devnet.config);
    say(`monitor ${workflowId} started (tick ${devnet.config.tick.intervalSec}s); watch it at ${temporal.uiUrl ?? 'the Temporal Web UI (off)'} or: temporal workflow describe --address ${temporal.address} -w ${workflowId}`);
    say(opts.until ? `running until ${opts.until} rebalance(s) complete (timeout ${opts.timeoutSec ?? 300}s)…` : 'running; Ctrl-C to stop');

    const decimals = devnet.config.asset.decimals;
    const symbol = devnet.config.asset.symbol;
    const deployment = devnet.config.deployment;
    const seen = new Set<string>();
    let completed = 0;
    const deadline = opts.until ? Date.now() + (opts.timeoutSec ?? 300) * 1000 : Infinity;
    // Every client call below is abortable and tracked, so none is left pending on a closed connection.
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per pending call; they are all released by abort()
    const pending = new Set<Promise<unknown>>();
    const call = <T>(fn: () => Promise<T>): Promise<T> => {
      const p = client.withAbortSignal(abort.signal, fn);
      pending.add(p);
      void p.then(() => pending.delete(p), () => pending.delete(p));
      return p;
    };
    const unreported = new Set<string>(); // started rebalances whose result is not printed yet
    let poll: NodeJS.Timeout | undefined;
    let ticking = false;
    // One line of every chain's market per day of history at most (and at most one per 5 s), from the keeper's snapshot.
    const marketLineEveryMs = Math.max(opts.dayMs ?? 4000, 5000);
    let lastMarketLineAt = 0;
    let lastMarketSnapshot = -1;
    /** When the last saga seen closed (server time, ms), and the last monitor status polled: for the ledger at the end. */
    let lastClosedAtMs: number | undefined;
    let lastPolled: { status: MonitorStatus; atMs: number } | undefined;
    const stopReason = await new Promise<'until' | 'timeout' | 'signal' | 'worker'>((resolve) => {
      interrupted = () => resolve('signal');
      workerDone.catch(() => resolve('worker'));
      const report = (res: RebalanceResult | CapacityMoveResult) => {
        const legs = res.legs.map((l) => `${l.leg}${l.status === 'ok' ? '✓' : '✗'}`).join(' ');
        const capacity = 'kind' in res && res.kind === 'capacity';
        const message = 'kind' in res ? `${res.bridge} message ${res.messageId ?? '-'}` : res.bridge === 'wormhole' ? `wormhole, message sequence ${res.nonce ?? '-'}` : `layerzero GUID ${res.guid ?? '-'}`;
        say(`${res.outcome === 'completed' ? '✔' : '✘'} ${capacity ? 'capacity move' : 'rebalance'} ${res.rebalanceId.slice(0, 10)}… ${res.outcome}: ${res.from} → ${res.to} ${toDisplayNumber(res.amount, decimals)} ${symbol}, ${message}, legs [${legs}], fee ${formatEther(res.feePaidWei)} ETH, ${res.durationSec}s${res.reason ? `, reason: ${res.reason}` : ''}`);
        if (res.outcome === 'completed' && !capacity) completed += 1; // --until counts collateral rebalances
        if (opts.until && completed >= opts.until) resolve('until');
      };
      // Results are read only once a workflow has closed (describe first), so no call is a long poll and every
      // call settles within one RPC (plus at most one retry backoff) once shutdown begins.
      const collect = async (id: string) => {
        const d = await call(() => client.workflow.getHandle(id).describe());
        if (d.status.name === 'RUNNING') return;
        unreported.delete(id);
        lastClosedAtMs = Math.max(lastClosedAtMs ?? 0, d.closeTime?.getTime() ?? Date.now());
        try {
          report((await call(() => client.workflow.getHandle(id).result())) as RebalanceResult | CapacityMoveResult);
        } catch (err) {
          if (!abort.signal.aborted) say(`rebalance ${id} did not report: ${err instanceof Error ? err.message : String(err)}`);
        }
      };
      const tick = async () => {
        if (Date.now() > deadline) return resolve('timeout');
        let st;
        try {
          st = await call(() => monitorStatus(client, deployment));
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError) && !abort.signal.aborted) say(`status query failed: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        lastPolled = { status: st.status, atMs: Date.now() };
        if (st.snapshot && st.snapshot.takenAtMs !== lastMarketSnapshot && Date.now() - lastMarketLineAt >= marketLineEveryMs) {
          lastMarketSnapshot = st.snapshot.takenAtMs;
          lastMarketLineAt = Date.now();
          say(`markets (${driver!.describe()}): ${marketSummary(st.snapshot)}`);
        }
        for (const r of st.status.recent) {
          if (seen.has(r.rebalanceId)) continue;
          seen.add(r.rebalanceId);
          unreported.add(r.rebalanceId);
          say(`▶ ${r.kind === 'capacity' ? 'capacity move' : 'rebalance'} ${r.rebalanceId.slice(0, 10)}… ${r.from} → ${r.to} ${toDisplayNumber(r.amount, decimals)} ${symbol}${r.kind === 'capacity' ? ' of lending capacity' : ''} (${driver!.describe()})`);
        }
        for (const id of [...unreported]) {
          if (abort.signal.aborted) return;
          await collect(id).catch((err: unknown) => {
            if (!abort.signal.aborted) say(`cannot read rebalance ${id}: ${err instanceof Error ? err.message : String(err)}`);
          });
        }
      };
      poll = setInterval(() => {
        if (ticking) return; // one tick at a time: a slow tick is not stacked on
        ticking = true;
        void tick().finally(() => (ticking = false));
      }, 1000);
    });
    clearInterval(poll);
    // The deployment ledger as `ballast status --ledger` prints it, before anything stops (the worker answers the
    // monitor's status query; the monitor may still take the check that follows the last saga).
    if (stopReason === 'worker') say('deployment ledger not printed: the worker stopped, so nothing answers the monitor\'s status query');
    else {
      const server = temporal.process;
      await printLedgerAtStop({
        query: async () => (await call(() => monitorStatus(client, deployment))).status,
        configFile: devnet.configFile,
        symbol,
        afterMs: lastClosedAtMs,
        waitMs: 2 * devnet.config.tick.intervalSec * 1000 + 2000,
        lastPolled,
        // A terminal's Ctrl-C reaches the whole process group: the Temporal server may be stopping too.
        temporalAlive: () => server.exitCode === null && server.signalCode === null,
      });
    }
    closing = true;
    abort.abort();
    const settled = await settleWithin([...pending], 15_000);
    if (!settled) say('some Temporal client calls did not settle within 15 s of stopping; closing anyway');
    try {
      const body = await (await fetch(`http://127.0.0.1:${keeper.metricsPort}/metrics`)).text();
      const solanaKeys = devnet.config.solana?.chains.map((c) => c.key) ?? [];
      const solanaGauge = (l: string) => /^ballast_(utilization_ratio|oracle_price|oracle_age_seconds|pyth_confidence_ratio|pyth_verified|custody_tokens|idle_tokens)\{/.test(l) && solanaKeys.some((k) => l.includes(`chain="${k}"`));
      const lines = body.split('\n').filter((l) => l.startsWith('ballast_rebalances_total') || l.startsWith('ballast_bridge_fee_paid_wei_total') || l.startsWith('ballast_supply_apy_ratio{') || solanaGauge(l));
      say(`from /metrics:${lines.length ? '' : ' (no rebalance counted yet)'}`);
      for (const l of lines) say(`  ${l}`);
    } catch (err) {
      say(`could not read /metrics: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (stopReason === 'timeout') say(`no ${opts.until} completed rebalance(s) within ${opts.timeoutSec ?? 300}s (completed: ${completed}); see ${workDir}/keeper.log`);
    if (stopReason === 'worker') say('the worker stopped unexpectedly; see keeper.log');
    await cleanup();
    await settleWithin([...pending], 15_000);
    await client.connection.close();
    return stopReason === 'until' || stopReason === 'signal' ? 0 : 1;
  } catch (err) {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
    await cleanup();
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * At the end of a run, before anything is stopped: waits (at most `waitMs`, polling `query` every 500 ms, each answer
 * awaited at most 3 s; a Ctrl-C skips the wait) for the monitor to check the deployment ledger at or after `afterMs`
 * (server time, ms: when the last saga seen closed; the monitor checks only with nothing in flight, on a tick), then
 * runs the real CLI in-process, `ballast status --ledger -c <configFile>` (cli/main.ts `run`), and prints its lines,
 * each prefixed `[ballast dev]   `. Says which check it printed: one taken after the last saga that closed (and how many
 * started since are in flight), or the last one before it and why (sagas in flight, a halt, a pause), or none yet.
 * When the CLI cannot answer (`temporalAlive()` false: a terminal's Ctrl-C reached the Temporal server too; or it
 * fails), prints the same sections (cli/ledgerReport.ts `deploymentLedgerLines`) from `lastPolled`, the run's last
 * polled monitor status, saying so. Never throws.
 */
export async function printLedgerAtStop(p: {
  query: () => Promise<MonitorStatus>;
  configFile: string;
  symbol: string;
  afterMs: number | undefined;
  waitMs: number;
  lastPolled?: { status: MonitorStatus; atMs: number };
  /** False once the Temporal server has exited (default: always true). */
  temporalAlive?: () => boolean;
  /** Where the lines go (default: dev's `[ballast dev] ` lines on stdout). */
  print?: (line: string) => void;
}): Promise<void> {
  const out = p.print ?? say;
  const alive = p.temporalAlive ?? (() => true);
  const iso = (ms: number) => new Date(ms).toISOString();
  const within = <T>(ms: number, promise: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
  };
  let skipped = false;
  const skip = () => {
    skipped = true;
  };
  process.on('SIGINT', skip);
  let st: MonitorStatus | undefined;
  let queryError: string | undefined;
  const deadline = Date.now() + p.waitMs;
  const freshOf = (s: MonitorStatus) => s.ledger.checkedAtMs !== undefined && (p.afterMs === undefined || s.ledger.checkedAtMs >= p.afterMs);
  try {
    while (alive()) {
      try {
        st = await within(3_000, p.query(), 'the monitor status query');
        queryError = undefined;
      } catch (err) {
        queryError = err instanceof Error ? err.message : String(err);
      }
      // A halted or paused monitor takes no check: nothing to wait for.
      if ((st && (freshOf(st) || st.ledger.halted || st.paused)) || skipped || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.off('SIGINT', skip);
  }
  const fallback = () => {
    if (!p.lastPolled) return;
    out(`the same sections from the monitor status this run last polled, at ${iso(p.lastPolled.atMs)} (cli/ledgerReport.ts; without the recent rebalances' accounts):`);
    for (const l of deploymentLedgerLines(p.lastPolled.status.ledger, p.symbol)) out(`  ${l}`);
  };
  if (!alive()) {
    out('deployment ledger: the Temporal server has stopped (a terminal\'s Ctrl-C reaches the whole process group), so `ballast status --ledger` cannot run');
    return fallback();
  }
  // Which check the monitor holds (the CLI prints the same one, queried again).
  const after = p.afterMs === undefined ? '' : ` (the last rebalance closed at ${iso(p.afterMs)})`;
  let header: string;
  if (!st) header = `deployment ledger: the monitor's status could not be read (${queryError ?? 'no answer'})`;
  else if (st.ledger.checkedAtMs === undefined) header = `deployment ledger: the monitor has not checked it yet${st.inFlight.length ? ` (${st.inFlight.length} saga(s) in flight)` : ''}`;
  else if (freshOf(st)) {
    const since = st.inFlight.length ? `; ${st.inFlight.length} saga(s) started since are in flight` : '';
    header = `deployment ledger as the monitor checked it at ${iso(st.ledger.checkedAtMs)}, after the last rebalance that closed${after}${since}`;
  } else {
    const why = st.ledger.halted ? `the ledger is halted: ${st.ledger.halted}` : st.paused ? 'the monitor is paused' : skipped ? 'the wait was skipped (Ctrl-C)' : `${st.inFlight.length} saga(s) in flight`;
    header = `deployment ledger: no check after the last rebalance${after} within ${Math.round(p.waitMs / 1000)} s (${why}); the monitor's last check, at ${iso(st.ledger.checkedAtMs)}, taken before it`;
  }

  const lines: string[] = [];
  const errors: string[] = [];
  const io = { out: (t: string) => void lines.push(...t.split('\n')), err: (t: string) => void errors.push(...t.split('\n')) };
  let code: number;
  try {
    code = await within(20_000, (async () => (await import('../cli/main.js')).run(['status', '--ledger', '-c', p.configFile], io))(), 'ballast status --ledger');
  } catch (err) {
    code = 1;
    errors.push(err instanceof Error ? err.message : String(err));
  }
  if (code === 0) {
    out(`${header}; \`ballast status --ledger -c ${p.configFile}\` prints:`);
    for (const l of lines) out(`  ${l}`);
    return;
  }
  out(header);
  out(`ballast status --ledger exited ${code}${errors.length ? `: ${errors.filter(Boolean).join(' ')}` : ''}`);
  fallback();
}

/**
 * Every chain's market from the keeper's snapshot, one line: on an Aave chain the reserve's utilization (Aave's debt /
 * (available + debt)) and supply APY (`market.supplyApyBps`), elsewhere the utilization; excluded chains with why.
 * @example marketSummary(snapshot) // "ethereum Aave 86.12% utilized, supply APY 4.31% · solana 80.00% utilized"
 */
export function marketSummary(snapshot: { chains: readonly Pick<ChainState, 'chainKey' | 'utilizationWad' | 'market'>[]; excluded: Snapshot['excluded'] }): string {
  const pct = (wad: bigint) => `${(Number(BigInt(wad) / 10n ** 14n) / 100).toFixed(2)}%`; // WAD (1e18 = 100%) → percent, 2 decimals
  const parts = snapshot.chains.map((c) =>
    c.market
      ? `${c.chainKey} Aave ${pct(c.utilizationWad)} utilized, supply APY ${(Number(c.market.supplyApyBps) / 100).toFixed(2)}%`
      : `${c.chainKey} ${pct(c.utilizationWad)} utilized`,
  );
  for (const e of snapshot.excluded) parts.push(`${e.chainKey} not read (${e.reason})`);
  return parts.join(' · ') || 'no chain read yet';
}

/** Resolves true once every promise settled, false when `timeoutMs` passed first. Never rejects. */
async function settleWithin(promises: Promise<unknown>[], timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const all = Promise.allSettled(promises).then(() => true as const);
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function portFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
