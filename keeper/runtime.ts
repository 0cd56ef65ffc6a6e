/**
 * Builds the activities' {@link KeeperContext} from a validated config.
 */
import { zeroAddress, type Account, type Address } from 'viem';
import { Connection, PublicKey, type Keypair } from '@solana/web3.js';
import { toAccount } from 'viem/accounts';
import { chainPolicies, type BallastConfig } from '../config/index.js';
import { createEvmClients } from '../chains/evm/clients.js';
import { capacitySettings, wormholeSettings } from '../config/capacity.js';
import type { BridgeSettings, ChainRuntime, KeeperContext, SolanaChainRuntime } from '../activities/context.js';
import { BallastMetrics } from './metrics.js';
import { createLogger, type Logger } from './logger.js';

/**
 * One {@link ChainRuntime} per configured EVM chain, with clients signing as `account`, and one
 * {@link SolanaChainRuntime} per Solana chain, signing with `solanaKeeper` (absent: Solana writes refuse).
 */
export function buildKeeperContext(config: BallastConfig, account: Account, metrics: BallastMetrics, log: Logger, solanaKeeper?: Keypair): KeeperContext {
  const policies = new Map(chainPolicies(config).map((p) => [p.chainKey, p]));
  const chains = new Map<string, ChainRuntime>();
  for (const c of config.chains) {
    chains.set(c.key, {
      chainKey: c.key,
      chainId: c.chainId,
      eid: c.eid,
      contracts: c.contracts,
      ...(c.wormhole ? { wormhole: { chainId: c.wormhole.chainId, core: c.wormhole.core, adapter: c.wormhole.adapter } } : {}),
      ...(c.aave ? { aave: { pool: c.aave.pool, asset: c.contracts.token, aToken: c.aave.aToken, variableDebtToken: c.aave.variableDebtToken, stableDebtToken: c.aave.stableDebtToken, holder: c.aave.allocator } } : {}),
      clients: createEvmClients({ chainKey: c.key, chainId: c.chainId, rpcUrl: c.rpcUrl, rpcUrls: c.rpcUrls, multicall3: c.contracts.multicall3 }, account),
      policy: policies.get(c.key)!,
      oracleLimits: c.oracle,
      confirmations: c.confirmations,
      receiptTimeoutMs: c.receiptTimeoutSec * 1000,
    });
  }
  return {
    deployment: config.deployment,
    asset: config.asset,
    chains,
    lzReceiveGas: config.layerzero.lzReceiveGas,
    planner: config.planner,
    bridges: enabledBridges(config),
    metrics,
    log,
    risk: { approvers: config.risk.capApprovers, rules: { approvalWindowSec: config.risk.approvalWindowSec, raiseDelaySec: config.risk.raiseDelaySec } },
    lp: { requireMandates: config.lp.requireMandates },
    capacity: capacitySettings(config),
    wormhole: wormholeSettings(config),
    ...(config.solana ? { solana: { custodyUrl: config.solana.custodyUrl, chains: solanaRuntimes(config, policies, solanaKeeper) } } : {}),
  };
}

/** The Solana chains' runtimes (config `solana.chains[]`), keyed by chain key. */
function solanaRuntimes(config: BallastConfig, policies: ReadonlyMap<string, ReturnType<typeof chainPolicies>[number]>, keeper: Keypair | undefined): Map<string, SolanaChainRuntime> {
  const out = new Map<string, SolanaChainRuntime>();
  for (const c of config.solana?.chains ?? []) {
    const a = c.accounts;
    out.set(c.key, {
      chainKey: c.key,
      connection: new Connection(c.rpcUrl, { commitment: c.commitment, disableRetryOnRateLimit: true }),
      ...(keeper ? { keeper } : {}),
      accounts: { mint: new PublicKey(a.mint), reserve: new PublicKey(a.reserve), reserveLiquidity: new PublicKey(a.reserveLiquidity), treasury: new PublicKey(a.treasury), custody: new PublicKey(a.custody), pythPrice: new PublicKey(a.pythPrice) },
      pythReceiver: new PublicKey(c.pythReceiverProgram),
      commitment: c.commitment,
      wormholeChainId: c.wormholeChainId,
      policy: policies.get(c.key)!,
      oracleLimits: c.oracle,
      priorityFeeMicroLamports: c.priorityFeeMicroLamports,
      computeUnitLimit: c.computeUnitLimit,
      confirmTimeoutMs: c.confirmTimeoutSec * 1000,
      decimals: config.asset.decimals,
    });
  }
  return out;
}

/** The bridges config `bridges` enables (absent or `enabled: false` ones left out), without the `enabled` flag. */
export function enabledBridges(config: BallastConfig): Record<string, BridgeSettings> {
  const out: Record<string, BridgeSettings> = {};
  for (const [name, b] of Object.entries(config.bridges)) {
    if (b === undefined || !b.enabled) continue;
    out[name] = { feeBps: b.feeBps, latencySec: b.latencySec, ...(b.rateLimit !== undefined ? { rateLimit: b.rateLimit } : {}), ...(b.relayGas !== undefined ? { relayGas: b.relayGas } : {}) };
  }
  return out;
}

/**
 * An account that has an address but refuses to sign: every sign call throws. For read-only tools
 * (`ballast plan --dry-run`, `ballast replay --decisions`), so nothing they run can send a transaction.
 */
export function readOnlyAccount(address: Address = zeroAddress): Account {
  const refuse = async (): Promise<never> => {
    throw new Error('read-only account: this command never signs or sends a transaction');
  };
  return toAccount({ address, signMessage: refuse, signTransaction: refuse, signTypedData: refuse });
}

/**
 * A {@link KeeperContext} for read-only tools: the config's chains and policies, a {@link readOnlyAccount}
 * at `address`, metrics on a private registry, and a logger that discards (or `log`).
 */
export function buildReadOnlyKeeperContext(config: BallastConfig, opts: { address?: Address; log?: Logger } = {}): KeeperContext {
  const log = opts.log ?? createLogger('ballast-readonly', { write: () => undefined } as never);
  return buildKeeperContext(config, readOnlyAccount(opts.address), new BallastMetrics(false), log);
}
