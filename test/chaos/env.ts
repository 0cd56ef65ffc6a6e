/**
 * The chaos environment, one per run: a Temporal dev server persisted to a SQLite file (restartable on
 * the same file and port), two anvil chains with everything deployed (`startDevnet`: LayerZero EndpointV2 and the
 * relayer, Wormhole cores, adapters and the devnet guardian, credit messengers) plus the devnet Solana chain
 * (LiteSVM RPC, Wormhole custody), one fault-injecting RPC proxy per chain in front of the keeper (the Solana one
 * also relays the websocket), and the keeper worker(s) as child processes (`node bin/ballast.mjs worker -c
 * <config>`) that can be SIGKILLed and are supervised: a worker that exits by itself (e.g. Temporal unreachable for
 * too long at start) is restarted with backoff, as a process supervisor would.
 *
 * With `market: 'aave'` the EVM chains are the Aave devnet (a real Aave v3 Pool per chain, the treasury's aTokens in an
 * AaveAllocator that the collateral legs call); the outflow cap raised is then the allocator's, the credit cap stays
 * the CollateralVault's (capacity moves stay on its credit lines).
 *
 * The keeper talks to the chains only through the proxies; the relayer, the guardian, the custody and the checks
 * talk to the chains directly. Everything started is stopped by `stop()` (also on a failed start), and a
 * process `exit` hook SIGKILLs the child processes should the runner die without reaching its `finally`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Connection as SolanaConnection } from '@solana/web3.js';
import { createPublicClient, createWalletClient, defineChain, http, type Chain, type PublicClient, type Transport, type WalletClient, type Account } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startTemporalDevServer, findFreePort, type TemporalDevServer } from '../../devnet/temporal.js';
import { startDevnet, type Devnet, type DevnetChainSpec } from '../../devnet/devnet.js';
import { devnetSolanaKeeperEnv } from '../../devnet/solanaDevnet.js';
import { startRpcFaultProxy, type RpcFaultProxy, type InjectedFault } from '../../devnet/rpcFaultProxy.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { stopProcess } from '../../devnet/anvil.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { repoDir } from '../../config/fixtures.js';
import { aaveAllocatorAbi, collateralVaultAbi } from '../../contracts/generated/abis.js';
import type { DevnetMarket } from '../../devnet/deploy.js';
import { loadConfig, writeConfigFile, type BallastConfigInput } from '../../config/index.js';

export const CHAOS_CHAINS: DevnetChainSpec[] = [
  { key: 'alpha', chainId: 31301, eid: 40301 },
  { key: 'beta', chainId: 31302, eid: 40302 },
];
/** The Solana chain's key (devnet/solanaDevnet.ts). */
export const SOLANA_KEY = 'solana';

/** Direct (unproxied) clients of one chain, for checks and admin writes. */
export interface DirectChain {
  key: string;
  rpcUrl: string;
  pub: PublicClient<Transport, Chain>;
  deployer: WalletClient<Transport, Chain, Account>;
  relayer: WalletClient<Transport, Chain, Account>;
}

export interface ChaosEnv {
  workDir: string;
  /**
   * Where the treasury's liquidity sits on the EVM chains: `vault` (the CollateralVault) or `aave` (a real Aave v3
   * Pool per chain, the treasury's aTokens held by an AaveAllocator, which the collateral legs call). Capacity moves
   * stay on the CollateralVault's credit lines either way (README "Aave v3 markets").
   */
  market: DevnetMarket;
  devnet: Devnet;
  temporal: TemporalDevServer;
  client: Client;
  taskQueue: string;
  /** One proxy per chain the keeper uses, by chain key (the EVM chains and `solana`). */
  proxies: Record<string, RpcFaultProxy>;
  /** The EVM chains, direct. */
  chains: Record<string, DirectChain>;
  /** The Solana chain, direct (undefined when started without Solana). */
  solana?: SolanaConnection;
  /** Seconds between blocks (undefined: automine). */
  blockTimeSec?: number;
  /** The keeper's receipt timeout (EVM) and confirmation timeout (Solana), seconds. */
  receiptTimeoutSec: number;
  confirmTimeoutSec: number;
  /** Worker processes on the task queue. */
  workers: number;
  /** Where the current schedule's log lines go (worker output, relayer, faults). */
  setLogSink(write: (line: string) => void): void;
  log(line: string): void;
  /** SIGKILLs every worker (no graceful shutdown); they stay down until `startWorker()`. */
  killWorker(): Promise<void>;
  /** Starts the workers that are not running and waits until each says "worker ready" (retrying failed starts). */
  startWorker(): Promise<void>;
  /** Times a worker exited without being killed by us (restarted automatically). */
  readonly workerCrashes: number;
  /** Set when the supervisor gave up on a worker (it kept failing to start): the run cannot go on. */
  readonly fatal?: string;
  /** Stops the Temporal server, waits `pauseMs`, starts it again on the same port and database file. */
  restartTemporal(pauseMs: number): Promise<void>;
  /** Block production on an EVM chain: off holds every transaction in the pool; on mines them (one block at once). */
  setMining(chainKey: string, on: boolean): Promise<void>;
  stop(): Promise<void>;
}

export interface ChaosEnvOptions {
  workDir: string;
  /** Proxy PRNG seed. */
  seed: number;
  onProxyFault?: (chainKey: string, f: InjectedFault) => void;
  /** anvil `--block-time` (default: automine). */
  blockTimeSec?: number;
  /** Worker processes on the task queue (default 1). */
  workers?: number;
  /** Start the Solana chain (default true). */
  solana?: boolean;
  /** Keeper receipt timeout, seconds (default 4; with a block time, 4 + 3 × block time). */
  receiptTimeoutSec?: number;
  /** Keeper Solana confirmation timeout, seconds (default 4). */
  confirmTimeoutSec?: number;
  /** Where the treasury's liquidity sits on the EVM chains (default `vault`): see {@link ChaosEnv.market}. */
  market?: DevnetMarket;
}

/**
 * The contract that holds the treasury's liquidity on an EVM chain and answers the collateral legs (`withdrawToRoute`,
 * `depositFromRoute`, `outflowOf`, `inflowOf`, the same ABI on both): the AaveAllocator on an Aave chain, else the
 * CollateralVault. Capacity (credit lines) is always the CollateralVault's.
 */
export function treasuryHolderOf(env: Pick<ChaosEnv, 'devnet'>, chainKey: string): `0x${string}` {
  const c = env.devnet.deployment.chains[chainKey]!.contracts;
  return c.aave?.allocator ?? c.vault;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One JSON-RPC call straight to a node. */
async function rpcCall(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const j = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}

/** A supervised worker process slot. */
interface WorkerSlot {
  index: number;
  child?: ChildProcess;
  ready: boolean;
  killedByUs: boolean;
  starting?: Promise<void>;
}

/** Starts everything; on failure stops what was started and rethrows. */
export async function startChaosEnv(opts: ChaosEnvOptions): Promise<ChaosEnv> {
  const { workDir } = opts;
  const withSolana = opts.solana ?? true;
  const market: DevnetMarket = opts.market ?? 'vault';
  const workerCount = Math.max(1, opts.workers ?? 1);
  const receiptTimeoutSec = opts.receiptTimeoutSec ?? 4 + 3 * (opts.blockTimeSec ?? 0);
  const confirmTimeoutSec = opts.confirmTimeoutSec ?? 4;
  fs.mkdirSync(workDir, { recursive: true });
  let sink: (line: string) => void = () => {};
  const log = (line: string) => sink(`${new Date().toISOString()} ${line}\n`);
  const temporalPort = await findFreePort();
  const dbFile = path.join(workDir, 'temporal.db');
  const temporalLog = path.join(workDir, 'temporal.log');
  let temporal = await startTemporalDevServer({ port: temporalPort, dbFile, logFile: temporalLog });
  const proxies: Record<string, RpcFaultProxy> = {};
  let devnet: Devnet | undefined;
  const slots: WorkerSlot[] = Array.from({ length: workerCount }, (_, index) => ({ index, ready: false, killedByUs: false }));
  let workerCrashes = 0;
  let connection: Connection | undefined;
  let stopping = false;

  // Should this process die without reaching stop() (an uncaught error), leave nothing running behind it.
  const killChildrenOnExit = () => {
    for (const s of slots) s.child?.kill('SIGKILL');
    for (const a of Object.values(devnet?.anvils ?? {})) a.process.kill('SIGKILL');
    temporal.process.kill('SIGKILL');
  };
  process.on('exit', killChildrenOnExit);
  // Interrupted (Ctrl-C, a test runner's SIGTERM): stop the children too, then die of the same signal.
  const onSignal = (sig: NodeJS.Signals) => {
    killChildrenOnExit();
    process.off('exit', killChildrenOnExit);
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let fatal: string | undefined;

  const stopAll = async () => {
    stopping = true;
    await Promise.all(slots.map((s) => (s.child ? stopProcess(s.child, 500) : undefined)));
    await connection?.close().catch(() => {});
    await Promise.all(Object.values(proxies).map((p) => p.stop()));
    await devnet?.stop();
    await temporal.stop();
    process.off('exit', killChildrenOnExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  try {
    const taskQueue = `ballast-chaos-${process.pid}-${Date.now()}`;
    let generated: BallastConfigInput | undefined;
    devnet = await startDevnet({
      chains: CHAOS_CHAINS,
      workDir,
      temporalAddress: temporal.address,
      metricsPort: 0,
      relayerPollMs: 200,
      guardianPollMs: 200,
      ...(opts.blockTimeSec ? { blockTimeSec: opts.blockTimeSec } : {}),
      solana: withSolana,
      market,
      log: (m) => log(`[devnet] ${m}`),
      configOverrides: (c) => (generated = { ...c, temporal: { ...c.temporal, taskQueue } }),
    });
    // One proxy per chain in front of its node; the keeper's config points at the proxies.
    for (const s of CHAOS_CHAINS) {
      const direct = devnet.deployment.chains[s.key]!.rpcUrl;
      proxies[s.key] = await startRpcFaultProxy({ target: direct, seed: opts.seed, onFault: (f) => opts.onProxyFault?.(s.key, f) });
    }
    if (devnet.solana) proxies[SOLANA_KEY] = await startRpcFaultProxy({ target: devnet.solana.rpcUrl, seed: opts.seed, wsRelay: true, onFault: (f) => opts.onProxyFault?.(SOLANA_KEY, f) });
    if (!generated) throw new Error('chaos: startDevnet did not call configOverrides (cannot rewrite the keeper config)');
    const base = generated;
    const configFile = path.join(workDir, 'ballast.chaos.yaml');
    // Short waits, so "accepted but not mined in time" costs seconds: the receipt and confirmation timeouts.
    writeConfigFile(configFile, {
      ...base,
      chains: base.chains.map((ch) => ({ ...ch, rpcUrl: proxies[ch.key]!.url, receiptTimeoutSec })),
      ...(base.solana ? { solana: { ...base.solana, chains: base.solana.chains.map((ch) => ({ ...ch, rpcUrl: proxies[ch.key]!.url, confirmTimeoutSec })) } } : {}),
    });
    const written = loadConfig(configFile);
    for (const c of [...written.chains, ...(written.solana?.chains ?? [])]) {
      if (c.rpcUrl !== proxies[c.key]?.url) throw new Error(`chaos: ${configFile}: chain ${c.key} rpcUrl is ${c.rpcUrl}, expected the proxy ${proxies[c.key]?.url}`);
    }

    const chains: Record<string, DirectChain> = {};
    for (const s of CHAOS_CHAINS) {
      const d = devnet.deployment.chains[s.key]!;
      const chain = defineChain({ id: d.chainId, name: s.key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [d.rpcUrl] } } });
      const transport = http(d.rpcUrl);
      chains[s.key] = {
        key: s.key,
        rpcUrl: d.rpcUrl,
        pub: createPublicClient({ chain, transport, pollingInterval: 50 }),
        deployer: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) }),
        relayer: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.relayer) }),
      };
      // The on-chain outflow and credit window caps would otherwise end hundreds of schedules in
      // OutflowCapExceeded / CreditCapExceeded: raise them (amounts stay within the config's per-transfer caps). The
      // outflow cap is the treasury holder's (the AaveAllocator on an Aave chain, the same setter), the credit cap
      // the CollateralVault's (capacity moves stay on its credit lines).
      const w = chains[s.key]!.deployer;
      const allocator = d.contracts.aave?.allocator;
      const caps: [string, () => Promise<`0x${string}`>][] = [
        ['setCreditCap', () => w.writeContract({ address: d.contracts.vault, abi: collateralVaultAbi, functionName: 'setCreditCap', args: [10n ** 30n, 3600n] })],
        allocator
          ? ['allocator.setOutflowCap', () => w.writeContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'setOutflowCap', args: [10n ** 30n, 3600n] })]
          : ['setOutflowCap', () => w.writeContract({ address: d.contracts.vault, abi: collateralVaultAbi, functionName: 'setOutflowCap', args: [10n ** 30n, 3600n] })],
      ];
      for (const [label, write] of caps) {
        const rc = await chains[s.key]!.pub.waitForTransactionReceipt({ hash: await write() });
        if (rc.status !== 'success') throw new Error(`chaos: ${s.key}: ${label} reverted`);
      }
    }

    const spawnWorker = (slot: WorkerSlot): ChildProcess => {
      const child = spawn(process.execPath, ['bin/ballast.mjs', 'worker', '-c', configFile], {
        cwd: repoDir(),
        env: {
          ...process.env,
          BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper,
          ...(withSolana ? { BALLAST_SOLANA_KEEPER_KEY: devnetSolanaKeeperEnv() } : {}),
          BALLAST_LOG_LEVEL: 'info',
          BALLAST_TEMPORAL_LOG_LEVEL: 'WARN',
          BALLAST_TEMPORAL_CONNECT_WAIT_SEC: '60',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const tag = workerCount > 1 ? `[worker ${slot.index}] ` : '';
      child.stdout!.on('data', (b: Buffer) => sink(tag ? b.toString('utf8').replace(/^(?=.)/gm, tag) : b.toString('utf8')));
      child.stderr!.on('data', (b: Buffer) => sink(tag ? b.toString('utf8').replace(/^(?=.)/gm, tag) : b.toString('utf8')));
      return child;
    };
    const alive = (c: ChildProcess | undefined) => c !== undefined && c.exitCode === null && c.signalCode === null;

    /** Spawns the slot's worker and waits for "worker ready"; rejects when it exits first or stays silent 90 s. */
    const spawnReady = (slot: WorkerSlot): Promise<void> => {
      const child = spawnWorker(slot);
      slot.child = child;
      slot.ready = false;
      slot.killedByUs = false;
      const ready = new Promise<void>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`chaos: worker ${slot.index} did not say "worker ready" within 90 s (see the schedule log)`)), 90_000);
        const onData = (b: Buffer) => {
          buf += b.toString('utf8');
          if (buf.includes('worker ready')) {
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            slot.ready = true;
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        child.once('exit', (code, sig) => {
          clearTimeout(timer);
          reject(new Error(`chaos: worker ${slot.index} exited during start-up (${sig ?? code})`));
        });
      });
      child.once('exit', (code, sig) => {
        slot.ready = false;
        if (slot.killedByUs || stopping || slot.child !== child || !ready) return;
        // Only a worker that was ready counts as a crash here; a failed start is retried by supervise().
        void ready.then(
          () => {
            workerCrashes++;
            log(`[chaos] worker ${slot.index} exited by itself (${sig ?? code}); restarting it`);
            void supervise(slot).catch((e: unknown) => log(`[chaos] worker ${slot.index} restart failed: ${String(e)}`));
          },
          () => undefined,
        );
      });
      return ready;
    };

    /** Starts the slot's worker, retrying a start that fails (exit during start-up) with backoff, like a supervisor. */
    const supervise = (slot: WorkerSlot): Promise<void> => {
      if (alive(slot.child) && slot.ready) return Promise.resolve();
      slot.starting ??= (async () => {
        let delay = 500;
        const giveUp = Date.now() + 120_000;
        try {
          for (let attempt = 1; ; attempt++) {
            if (stopping) return;
            if (alive(slot.child) && slot.ready) return;
            try {
              await spawnReady(slot);
              if (attempt > 1) log(`[chaos] worker ${slot.index} ready after ${attempt} start(s)`);
              return;
            } catch (err) {
              if (stopping || slot.killedByUs) return;
              if (Date.now() > giveUp) {
                fatal = `the supervisor gave up on worker ${slot.index} after 120 s of failed starts: ${err instanceof Error ? err.message : String(err)} (see the schedule log for its output)`;
                throw err;
              }
              log(`[chaos] ${err instanceof Error ? err.message : String(err)}; the supervisor restarts it in ${delay} ms`);
              if (alive(slot.child)) await stopProcess(slot.child!, 500);
              await sleep(delay);
              delay = Math.min(delay * 2, 5000);
            }
          }
        } finally {
          slot.starting = undefined;
        }
      })();
      return slot.starting;
    };
    const startWorker = async (): Promise<void> => {
      await Promise.all(slots.map((s) => supervise(s)));
    };
    await startWorker();
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, dataConverter });
    const blockTimeSec = opts.blockTimeSec;

    return {
      workDir,
      market,
      devnet,
      get temporal() {
        return temporal;
      },
      client,
      taskQueue,
      proxies,
      chains,
      ...(devnet.solana ? { solana: devnet.solana.connection } : {}),
      ...(blockTimeSec ? { blockTimeSec } : {}),
      receiptTimeoutSec,
      confirmTimeoutSec,
      workers: workerCount,
      setLogSink(write) {
        sink = write;
      },
      log,
      get workerCrashes() {
        return workerCrashes;
      },
      get fatal() {
        return fatal;
      },
      async killWorker() {
        await Promise.all(
          slots.map(async (s) => {
            const w = s.child;
            s.killedByUs = true;
            if (!w || !alive(w)) return;
            const exited = new Promise((r) => w.once('exit', r));
            w.kill('SIGKILL');
            await exited;
          }),
        );
      },
      startWorker,
      async restartTemporal(pauseMs) {
        await temporal.stop();
        await sleep(pauseMs);
        temporal = await startTemporalDevServer({ port: temporalPort, dbFile, logFile: temporalLog });
      },
      async setMining(chainKey, on) {
        const url = chains[chainKey]!.rpcUrl;
        if (blockTimeSec) {
          await rpcCall(url, 'evm_setIntervalMining', [on ? blockTimeSec : 0]);
          if (on) await rpcCall(url, 'evm_mine');
          return;
        }
        await rpcCall(url, 'evm_setAutomine', [on]);
        if (on) await rpcCall(url, 'evm_mine');
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}
