/**
 * Builds the activities' {@link KeeperContext} from a validated config.
 */
import type { Account } from 'viem';
import { chainPolicies, type BallastConfig } from '../config/index.js';
import { createEvmClients } from '../chains/evm/clients.js';
import type { ChainRuntime, KeeperContext } from '../activities/context.js';
import type { BallastMetrics } from './metrics.js';
import type { Logger } from './logger.js';

/** One {@link ChainRuntime} per configured chain, with clients signing as `account`. */
export function buildKeeperContext(config: BallastConfig, account: Account, metrics: BallastMetrics, log: Logger): KeeperContext {
  const policies = new Map(chainPolicies(config).map((p) => [p.chainKey, p]));
  const chains = new Map<string, ChainRuntime>();
  for (const c of config.chains) {
    chains.set(c.key, {
      chainKey: c.key,
      chainId: c.chainId,
      eid: c.eid,
      contracts: c.contracts,
      clients: createEvmClients({ chainKey: c.key, chainId: c.chainId, rpcUrl: c.rpcUrl, multicall3: c.contracts.multicall3 }, account),
      policy: policies.get(c.key)!,
      oracleLimits: c.oracle,
      confirmations: c.confirmations,
      receiptTimeoutMs: c.receiptTimeoutSec * 1000,
    });
  }
  return { deployment: config.deployment, asset: config.asset, chains, lzReceiveGas: config.layerzero.lzReceiveGas, metrics, log };
}
