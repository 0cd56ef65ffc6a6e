/**
 * viem clients for one configured EVM chain.
 */
import { createPublicClient, createWalletClient, defineChain, http, type Account, type Address, type Chain, type PublicClient, type Transport, type WalletClient } from 'viem';

/** What the adapter needs to know about a chain to talk to it. */
export interface EvmChainEndpoint {
  chainKey: string;
  chainId: number;
  rpcUrl: string;
  /** Multicall3 address on this chain (deployed by the devnet, canonical on mainnets). */
  multicall3: Address;
}

export interface EvmClients {
  chainKey: string;
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  /** Present when an account was given. */
  walletClient?: WalletClient<Transport, Chain, Account>;
  /** The RPC URL (may carry an API key: print it only through `redactRpcUrl`). */
  rpcUrl?: string;
  /** The HTTP transport's request timeout, ms. */
  timeoutMs?: number;
}

/**
 * Creates a public client (and a wallet client when `account` is given) for one chain.
 * HTTP requests time out after `timeoutMs` (default 10 s) and are retried by viem twice.
 * @example
 *   const { publicClient } = createEvmClients({ chainKey: 'base', chainId: 8453, rpcUrl, multicall3 });
 */
export function createEvmClients(endpoint: EvmChainEndpoint, account?: Account, timeoutMs = 10_000): EvmClients {
  const chain = defineChain({
    id: endpoint.chainId,
    name: endpoint.chainKey,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [endpoint.rpcUrl] } },
    contracts: { multicall3: { address: endpoint.multicall3 } },
  });
  const transport = http(endpoint.rpcUrl, { timeout: timeoutMs, retryCount: 2 });
  // cacheTime 0: `getBlockNumber()` asks the node every time. viem's default memoizes eth_blockNumber per client for
  // min(pollingInterval, blockTime / 2) = 250 ms here, so a read right after our own transaction saw the block before
  // it (the audits' `StaleRead` on automine, the delivery check reading an older block).
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 250, cacheTime: 0 });
  const walletClient = account ? createWalletClient({ chain, transport, account }) : undefined;
  return { chainKey: endpoint.chainKey, chain, publicClient, walletClient, rpcUrl: endpoint.rpcUrl, timeoutMs };
}
