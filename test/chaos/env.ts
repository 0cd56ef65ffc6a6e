/**
 * The chaos environment, one per run: a Temporal dev server persisted to a SQLite file (restartable on
 * the same file and port), two anvil chains with everything deployed (`startDevnet`), the LayerZero
 * relayer, one fault-injecting RPC proxy per chain in front of the keeper, and the keeper worker as a
 * child process (`node bin/ballast.mjs worker -c <config>`) that can be SIGKILLed and restarted.
 *
 * The keeper talks to the chains only through the proxies; the relayer and the checks talk to anvil directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPublicClient, createWalletClient, defineChain, http, type Chain, type PublicClient, type Transport, type WalletClient, type Account } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startTemporalDevServer, findFreePort, type TemporalDevServer } from '../../devnet/temporal.js';
import { startDevnet, type Devnet, type DevnetChainSpec } from '../../devnet/devnet.js';
import { startRpcFaultProxy, type RpcFaultProxy, type InjectedFault } from '../../devnet/rpcFaultProxy.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { stopProcess } from '../../devnet/anvil.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { repoDir } from '../../config/fixtures.js';
import { collateralVaultAbi } from '../../contracts/generated/abis.js';
import { loadConfig, writeConfigFile, type BallastConfigInput } from '../../config/index.js';

export const CHAOS_CHAINS: DevnetChainSpec[] = [
  { key: 'alpha', chainId: 31301, eid: 40301 },
  { key: 'beta', chainId: 31302, eid: 40302 },
];

/** Direct (unproxied) clients of one chain, for checks and admin writes. */
export interface DirectChain {
  key: string;
  pub: PublicClient<Transport, Chain>;
  deployer: WalletClient<Transport, Chain, Account>;
  relayer: WalletClient<Transport, Chain, Account>;
}

export interface ChaosEnv {
  workDir: string;
  devnet: Devnet;
  temporal: TemporalDevServer;
  client: Client;
  taskQueue: string;
  proxies: Record<string, RpcFaultProxy>;
  chains: Record<string, DirectChain>;
  /** Where the current schedule's log lines go (worker output, relayer, faults). */
  setLogSink(write: (line: string) => void): void;
  log(line: string): void;
  /** SIGKILLs the worker (no graceful shutdown). */
  killWorker(): Promise<void>;
  /** Starts the worker (if not running) and waits until it says "worker ready". */
  startWorker(): Promise<void>;
  /** Times the worker exited without being killed by us (restarted automatically). */
  readonly workerCrashes: number;
  /** Stops the Temporal server, waits `pauseMs`, starts it again on the same port and database file. */
  restartTemporal(pauseMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ChaosEnvOptions {
  workDir: string;
  /** Proxy PRNG seed. */
  seed: number;
  onProxyFault?: (chainKey: string, f: InjectedFault) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts everything; on failure stops what was started and rethrows. */
export async function startChaosEnv(opts: ChaosEnvOptions): Promise<ChaosEnv> {
  const { workDir } = opts;
  fs.mkdirSync(workDir, { recursive: true });
  let sink: (line: string) => void = () => {};
  const log = (line: string) => sink(`${new Date().toISOString()} ${line}\n`);
  const temporalPort = await findFreePort();
  const dbFile = path.join(workDir, 'temporal.db');
  const temporalLog = path.join(workDir, 'temporal.log');
  let temporal = await startTemporalDevServer({ port: temporalPort, dbFile, logFile: temporalLog });
  const proxies: Record<string, RpcFaultProxy> = {};
  let devnet: Devnet | undefined;
  let worker: ChildProcess | undefined;
  let workerCrashes = 0;
  let connection: Connection | undefined;
  let stopping = false;

  const stopAll = async () => {
    stopping = true;
    if (worker) await stopProcess(worker, 500);
    await connection?.close().catch(() => {});
    await Promise.all(Object.values(proxies).map((p) => p.stop()));
    await devnet?.stop();
    await temporal.stop();
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
      log: (m) => log(`[devnet] ${m}`),
      configOverrides: (c) => (generated = { ...c, temporal: { ...c.temporal, taskQueue } }),
    });
    // One proxy per chain in front of its anvil; the keeper's config points at the proxies.
    for (const s of CHAOS_CHAINS) {
      const direct = devnet.deployment.chains[s.key]!.rpcUrl;
      proxies[s.key] = await startRpcFaultProxy({ target: direct, seed: opts.seed, onFault: (f) => opts.onProxyFault?.(s.key, f) });
    }
    if (!generated) throw new Error('chaos: startDevnet did not call configOverrides (cannot rewrite the keeper config)');
    const base = generated;
    const configFile = path.join(workDir, 'ballast.chaos.yaml');
    // A transaction "accepted but never mined" costs one receipt timeout: 15 s here rather than the 60 s default.
    writeConfigFile(configFile, { ...base, chains: base.chains.map((ch) => ({ ...ch, rpcUrl: proxies[ch.key]!.url, receiptTimeoutSec: 15 })) });
    const written = loadConfig(configFile);
    for (const c of written.chains) {
      if (c.rpcUrl !== proxies[c.key]?.url) throw new Error(`chaos: ${configFile}: chain ${c.key} rpcUrl is ${c.rpcUrl}, expected the proxy ${proxies[c.key]?.url}`);
    }

    const chains: Record<string, DirectChain> = {};
    for (const s of CHAOS_CHAINS) {
      const d = devnet.deployment.chains[s.key]!;
      const chain = defineChain({ id: d.chainId, name: s.key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [d.rpcUrl] } } });
      const transport = http(d.rpcUrl);
      chains[s.key] = {
        key: s.key,
        pub: createPublicClient({ chain, transport, pollingInterval: 50 }),
        deployer: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) }),
        relayer: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.relayer) }),
      };
      // The on-chain outflow window cap would otherwise end hundreds of schedules in OutflowCapExceeded:
      // raise it (amounts stay within the config's per-transfer caps).
      const hash = await chains[s.key]!.deployer.writeContract({ address: d.contracts.vault, abi: collateralVaultAbi, functionName: 'setOutflowCap', args: [10n ** 30n, 3600n] });
      await chains[s.key]!.pub.waitForTransactionReceipt({ hash });
    }

    const spawnWorker = (): ChildProcess => {
      const child = spawn(process.execPath, ['bin/ballast.mjs', 'worker', '-c', configFile], {
        cwd: repoDir(),
        env: { ...process.env, BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper, BALLAST_LOG_LEVEL: 'info', BALLAST_TEMPORAL_LOG_LEVEL: 'WARN' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (b: Buffer) => sink(b.toString('utf8')));
      child.stderr!.on('data', (b: Buffer) => sink(b.toString('utf8')));
      return child;
    };
    let killedByUs = false;
    const startWorker = async (): Promise<void> => {
      if (worker && worker.exitCode === null && worker.signalCode === null) return;
      killedByUs = false;
      const child = spawnWorker();
      worker = child;
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`chaos: the worker did not say "worker ready" within 60 s (see the schedule log)`)), 60_000);
        const onData = (b: Buffer) => {
          buf += b.toString('utf8');
          if (buf.includes('worker ready')) {
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        child.once('exit', (code, sig) => {
          clearTimeout(timer);
          reject(new Error(`chaos: the worker exited during startup (${sig ?? code})`));
        });
      });
      child.once('exit', (code, sig) => {
        if (killedByUs || stopping || worker !== child) return;
        workerCrashes++;
        log(`[chaos] worker exited by itself (${sig ?? code}); restarting it`);
        void startWorker().catch((e: unknown) => log(`[chaos] worker restart failed: ${String(e)}`));
      });
    };
    await startWorker();
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, dataConverter });

    return {
      workDir,
      devnet,
      get temporal() {
        return temporal;
      },
      client,
      taskQueue,
      proxies,
      chains,
      setLogSink(write) {
        sink = write;
      },
      log,
      get workerCrashes() {
        return workerCrashes;
      },
      async killWorker() {
        const w = worker;
        if (!w || w.exitCode !== null || w.signalCode !== null) return;
        killedByUs = true;
        const exited = new Promise((r) => w.once('exit', r));
        w.kill('SIGKILL');
        await exited;
      },
      startWorker,
      async restartTemporal(pauseMs) {
        await temporal.stop();
        await sleep(pauseMs);
        temporal = await startTemporalDevServer({ port: temporalPort, dbFile, logFile: temporalLog });
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}
