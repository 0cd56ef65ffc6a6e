/**
 * Real parts for workflow tests: a Temporal dev server, anvil chains with every contract deployed,
 * the LayerZero relayer, and the keeper worker, all on 127.0.0.1. One per test file.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPublicClient, createWalletClient, erc20Abi, http, pad, zeroHash, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startTemporalDevServer, type TemporalDevServer } from '../../devnet/temporal.js';
import { startDevnet, type Devnet, type DevnetChainSpec } from '../../devnet/devnet.js';
import { devnetSolanaKeeperEnv } from '../../devnet/solanaDevnet.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { createKeeperWorker, type KeeperWorker } from '../../keeper/worker.js';
import { createLogger } from '../../keeper/logger.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { ballastRouteAbi, collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import type { BallastConfigInput } from '../../config/index.js';

/**
 * Polls `fn` (every 300 ms; a throw counts as "not yet") until it returns a value, or throws naming `what`
 * after `timeoutMs`.
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export const TWO_CHAINS: DevnetChainSpec[] = [
  { key: 'alpha', chainId: 31201, eid: 40201 },
  { key: 'beta', chainId: 31202, eid: 40202 },
];

export interface Harness {
  temporal: TemporalDevServer;
  devnet: Devnet;
  keeper: KeeperWorker;
  client: Client;
  taskQueue: string;
  workDir: string;
  /** Admin (deployer) writes used to inject faults. */
  admin: {
    setOutflowCap(chainKey: string, maxOutflowPerWindow: bigint, windowSec: bigint): Promise<void>;
    setKeeperFlowsPaused(chainKey: string, outflowPaused: boolean, inflowPaused: boolean): Promise<void>;
    /** Removes (peer = undefined) or restores the route's allow-listed peer for `toKey`. */
    setPeerRoute(chainKey: string, toKey: string, restore: boolean): Promise<void>;
    /** Publishes a fresh oracle round (8 decimals) stamped with the chain's latest block time. */
    setPrice(chainKey: string, answer: bigint, roundId: bigint): Promise<void>;
  };
  /** The market account borrows from a vault (raises utilization). */
  borrow(chainKey: string, amount: bigint): Promise<void>;
  /** The market account repays part of its debt to a vault (lowers utilization). */
  repay(chainKey: string, amount: bigint): Promise<void>;
  /** Token balances: every vault, every route. */
  balances(): Promise<{ vaults: Record<string, bigint>; routes: Record<string, bigint>; total: bigint }>;
  vaultSupplied(chainKey: string): Promise<bigint>;
  stop(): Promise<void>;
}

/**
 * Starts everything. `configOverrides` tweaks the generated keeper config. `solana: true` also starts the devnet's
 * Solana chain `solana` (`h.devnet.solana`) and gives the keeper its devnet Solana key.
 */
export async function startHarness(opts: { chains?: DevnetChainSpec[]; configOverrides?: (c: BallastConfigInput) => BallastConfigInput; solana?: boolean } = {}): Promise<Harness> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-test-'));
  const temporal = await startTemporalDevServer({ logFile: path.join(workDir, 'temporal.log') });
  let devnet: Devnet | undefined;
  let keeper: KeeperWorker | undefined;
  try {
    const taskQueue = `ballast-test-${process.pid}`;
    devnet = await startDevnet({
      chains: opts.chains ?? TWO_CHAINS,
      workDir,
      temporalAddress: temporal.address,
      relayerPollMs: 200,
      ...(opts.solana ? { solana: true } : {}),
      configOverrides: (c) => {
        const base = { ...c, temporal: { ...c.temporal, taskQueue }, tick: { intervalSec: 2, maxTicksBeforeContinueAsNew: 20 } };
        return opts.configOverrides ? opts.configOverrides(base) : base;
      },
    });
    const log = createLogger('ballast-test', fs.createWriteStream(path.join(workDir, 'keeper.log')) as never);
    keeper = await createKeeperWorker(devnet.config, log, {
      env: { BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper, ...(opts.solana ? { BALLAST_SOLANA_KEEPER_KEY: devnetSolanaKeeperEnv() } : {}) },
      metrics: new BallastMetrics(false),
    });
    void keeper.run();
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, dataConverter });
    const dn = devnet;
    const deployer = privateKeyToAccount(DEVNET_ACCOUNTS.deployer);
    const clientsOf = (chainKey: string) => {
      const c = dn.deployment.chains[chainKey];
      if (!c) throw new Error(`no chain ${chainKey}`);
      const transport = http(c.rpcUrl);
      const chain = { id: c.chainId, name: chainKey, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
      return { c, pub: createPublicClient({ chain, transport }), wallet: createWalletClient({ chain, transport, account: deployer }) };
    };
    const market = privateKeyToAccount(DEVNET_ACCOUNTS.market);
    const send = async (chainKey: string, address: Address, abi: typeof collateralVaultAbi | typeof ballastRouteAbi | typeof devPriceFeedAbi | typeof erc20Abi, functionName: string, args: unknown[], account = deployer) => {
      const { pub, wallet } = clientsOf(chainKey);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const { request } = await pub.simulateContract({ address, abi, functionName, args, account } as any);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const hash = await wallet.writeContract({ ...(request as any), account });
      const r = await pub.waitForTransactionReceipt({ hash });
      if (r.status !== 'success') throw new Error(`${chainKey} ${functionName} reverted`);
    };
    const harness: Harness = {
      temporal,
      devnet: dn,
      keeper,
      client,
      taskQueue,
      workDir,
      admin: {
        setOutflowCap: (k, max, win) => send(k, clientsOf(k).c.contracts.vault, collateralVaultAbi, 'setOutflowCap', [max, win]),
        setKeeperFlowsPaused: (k, o, i) => send(k, clientsOf(k).c.contracts.vault, collateralVaultAbi, 'setKeeperFlowsPaused', [o, i]),
        setPeerRoute: (k, to, restore) => {
          const dst = clientsOf(to).c;
          const peer: Hex = restore ? pad(dst.contracts.route) : zeroHash;
          return send(k, clientsOf(k).c.contracts.route, ballastRouteAbi, 'setPeerRoute', [dst.eid, peer]);
        },
        setPrice: async (k, answer, roundId) => {
          const block = await clientsOf(k).pub.getBlock();
          await send(k, clientsOf(k).c.contracts.priceFeed, devPriceFeedAbi, 'setRound', [roundId, answer, block.timestamp, block.timestamp, roundId]);
        },
      },
      borrow: (k, amount) => send(k, clientsOf(k).c.contracts.vault, collateralVaultAbi, 'borrow', [amount], market),
      async repay(k, amount) {
        const { c } = clientsOf(k);
        await send(k, c.contracts.token, erc20Abi, 'approve', [c.contracts.vault, amount], market);
        await send(k, c.contracts.vault, collateralVaultAbi, 'repay', [amount], market);
      },
      async balances() {
        const vaults: Record<string, bigint> = {};
        const routes: Record<string, bigint> = {};
        let total = 0n;
        for (const key of Object.keys(dn.deployment.chains)) {
          const { c, pub } = clientsOf(key);
          const [v, r] = await Promise.all([
            pub.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.contracts.vault] }),
            pub.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.contracts.route] }),
          ]);
          vaults[key] = v;
          routes[key] = r;
          total += v + r;
        }
        return { vaults, routes, total };
      },
      async vaultSupplied(chainKey) {
        const { c, pub } = clientsOf(chainKey);
        return pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'totalSupplied' });
      },
      async stop() {
        await keeper?.shutdown();
        await connection.close();
        await dn.stop();
        await temporal.stop();
        if (!process.env.BALLAST_KEEP_TEST_LOGS) fs.rmSync(workDir, { recursive: true, force: true });
      },
    };
    return harness;
  } catch (err) {
    await keeper?.shutdown().catch(() => {});
    await devnet?.stop();
    await temporal.stop();
    throw err;
  }
}
