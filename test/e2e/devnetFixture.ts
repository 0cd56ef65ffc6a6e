/**
 * Shared e2e setup: N real anvil chains on free ports, contracts compiled (cached) and deployed with
 * `deployDevnet`, plus viem clients for each devnet account, and a revert-matching helper.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../../contracts/compile.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { deployDevnet, type DevnetChainDeployment, type DevnetDeployment } from '../../devnet/deploy.js';
import type { RelayerChainConfig } from '../../devnet/relayer.js';

export type Wallet = WalletClient<Transport, Chain, Account>;

export interface ChainClients {
  chain: DevnetChainDeployment;
  pub: PublicClient<Transport, Chain>;
  deployer: Wallet;
  keeper: Wallet;
  market: Wallet;
}

export interface DevnetFixture {
  deployment: DevnetDeployment;
  anvils: AnvilInstance[];
  /** Chain keys in order: "a", "b", ... */
  keys: string[];
  clients(chainKey: string): ChainClients;
  /** Relayer config for every chain. */
  relayerChains(): RelayerChainConfig[];
  /** Measured deployDevnet wall time, ms. */
  deployMs: number;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (listen on port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `chainCount` anvils (chain ids 31337+i, eids 40101+i, keys "a", "b", ...), compiles the
 * contracts if needed and deploys the devnet on them (`market`: the treasury in CollateralVaults, default, or in real
 * Aave v3 Pools through AaveAllocators: devnet/deploy.ts).
 */
export async function startDevnetFixture(opts: { chainCount: number; initialLiquidity?: bigint; market?: 'vault' | 'aave' }): Promise<DevnetFixture> {
  await compileContracts({ log: () => {} });
  const keys = Array.from({ length: opts.chainCount }, (_, i) => String.fromCharCode(97 + i));
  const anvils: AnvilInstance[] = [];
  try {
    for (let i = 0; i < opts.chainCount; i++) {
      anvils.push(await startAnvil({ chainId: 31337 + i }));
    }
    const started = Date.now();
    const deployment = await deployDevnet({
      chains: anvils.map((a, i) => ({ chainKey: keys[i]!, rpcUrl: a.rpcUrl, chainId: a.chainId, eid: 40101 + i })),
      initialLiquidity: opts.initialLiquidity,
      ...(opts.market ? { market: opts.market } : {}),
    });
    const deployMs = Date.now() - started;
    const cache = new Map<string, ChainClients>();
    return {
      deployment,
      anvils,
      keys,
      deployMs,
      clients(chainKey) {
        const hit = cache.get(chainKey);
        if (hit) return hit;
        const chainDep = deployment.chains[chainKey];
        if (!chainDep) throw new Error(`fixture: unknown chain ${chainKey}`);
        const chain = defineChain({
          id: chainDep.chainId,
          name: chainKey,
          nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
          rpcUrls: { default: { http: [chainDep.rpcUrl] } },
        });
        const transport = http(chainDep.rpcUrl);
        const wallet = (key: Hex): Wallet => createWalletClient({ account: privateKeyToAccount(key), chain, transport, pollingInterval: 20 });
        const clients: ChainClients = {
          chain: chainDep,
          pub: createPublicClient({ chain, transport, pollingInterval: 20 }),
          deployer: wallet(DEVNET_ACCOUNTS.deployer),
          keeper: wallet(DEVNET_ACCOUNTS.keeper),
          market: wallet(DEVNET_ACCOUNTS.market),
        };
        cache.set(chainKey, clients);
        return clients;
      },
      relayerChains() {
        return Object.values(deployment.chains).map((c) => ({
          chainKey: c.chainKey,
          rpcUrl: c.rpcUrl,
          eid: c.eid,
          endpoint: c.contracts.endpoint,
          sendLib: c.contracts.sendLib,
        }));
      },
      stop: async () => {
        await Promise.all(anvils.map((a) => a.stop()));
      },
    };
  } catch (err) {
    await Promise.all(anvils.map((a) => a.stop()));
    throw err;
  }
}

/**
 * Asserts that `promise` rejects with the custom error `errorName` (decoded from the ABI), and
 * optionally with exactly `args`.
 */
export async function expectRevert(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BaseError, `expected a viem error, got ${String(err)}`);
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    assert.ok(revert instanceof ContractFunctionRevertedError, `expected a contract revert ${errorName}, got: ${err.shortMessage}`);
    assert.equal(revert.data?.errorName, errorName, `expected ${errorName}, got ${revert.data?.errorName ?? revert.shortMessage}`);
    if (args) assert.deepEqual(revert.data?.args, args);
    return;
  }
  assert.fail(`expected revert ${errorName}, but the call succeeded`);
}

/** Waits for a tx and asserts it succeeded; returns the receipt. */
export async function mined(pub: PublicClient<Transport, Chain>, hash: Promise<Hex> | Hex) {
  const receipt = await pub.waitForTransactionReceipt({ hash: await hash, pollingInterval: 20 });
  assert.equal(receipt.status, 'success', `tx ${receipt.transactionHash} reverted`);
  return receipt;
}
