/**
 * viem clients for one configured EVM chain.
 */
import { createPublicClient, createWalletClient, defineChain, fallback, http, type Account, type Address, type Chain, type PublicClient, type Transport, type WalletClient } from 'viem';

/** What the adapter needs to know about a chain to talk to it. */
export interface EvmChainEndpoint {
  chainKey: string;
  chainId: number;
  rpcUrl: string;
  /**
   * Every RPC URL of the chain in order of preference (config `rpcUrls`); when it has two or more, requests go
   * through viem's `fallback` transport over them (see {@link createEvmClients}). Default: `[rpcUrl]`.
   */
  rpcUrls?: readonly string[];
  /** Multicall3 address on this chain (deployed by the devnet, canonical on mainnets). */
  multicall3: Address;
}

export interface EvmClients {
  chainKey: string;
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  /** Present when an account was given. */
  walletClient?: WalletClient<Transport, Chain, Account>;
  /** The (first) RPC URL (may carry an API key: print it only through `redactRpcUrl`). */
  rpcUrl?: string;
  /** Every RPC URL the transport uses, in order (same caution as `rpcUrl`). */
  rpcUrls?: readonly string[];
  /** The HTTP transport's request timeout, ms. */
  timeoutMs?: number;
}

/** Rounds of the fallback transport: the whole list of URLs is tried `1 + FALLBACK_RETRY_COUNT` times. */
const FALLBACK_RETRY_COUNT = 1;

/**
 * The chain's transport. One URL: viem `http`, each request retried twice (3 attempts). Several URLs: viem
 * `fallback` over one `http` per URL, chosen on purpose:
 * - `rank: false`: requests go to the URLs in the configured order (the operator's preference: e.g. a paid
 *   provider first, a public one last), and no background `eth_blockNumber` pings rank them by latency (ranking
 *   would reorder them, spend provider quota and keep a timer alive per client);
 * - each URL is tried once per round (`retryCount: 0` on its `http`: a dead URL costs one attempt, not three,
 *   before the next one is asked), and the round over all URLs is retried {@link FALLBACK_RETRY_COUNT} time(s)
 *   (viem's backoff, 150 ms): 2 × N attempts in all, at worst about 2 × N × `timeoutMs`;
 * - a revert or a user rejection is not failed over (viem's `shouldThrow`): another node would answer the same.
 */
function rpcTransport(urls: readonly string[], timeoutMs: number): Transport {
  if (urls.length === 1) return http(urls[0], { timeout: timeoutMs, retryCount: 2 });
  return fallback(
    urls.map((u) => http(u, { timeout: timeoutMs, retryCount: 0 })),
    { rank: false, retryCount: FALLBACK_RETRY_COUNT, retryDelay: 150 },
  );
}

/**
 * Creates a public client (and a wallet client when `account` is given) for one chain.
 * HTTP requests time out after `timeoutMs` (default 10 s). With one URL they are retried by viem twice; with
 * several (`rpcUrls`) they fail over from one URL to the next in order (viem `fallback`, see `rpcTransport`).
 * @example
 *   const { publicClient } = createEvmClients({ chainKey: 'base', chainId: 8453, rpcUrl, multicall3 });
 */
export function createEvmClients(endpoint: EvmChainEndpoint, account?: Account, timeoutMs = 10_000): EvmClients {
  const urls = endpoint.rpcUrls !== undefined && endpoint.rpcUrls.length > 0 ? [...endpoint.rpcUrls] : [endpoint.rpcUrl];
  const chain = defineChain({
    id: endpoint.chainId,
    name: endpoint.chainKey,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: urls } },
    contracts: { multicall3: { address: endpoint.multicall3 } },
  });
  const transport = rpcTransport(urls, timeoutMs);
  // cacheTime 0: `getBlockNumber()` asks the node every time. viem's default memoizes eth_blockNumber per client for
  // min(pollingInterval, blockTime / 2) = 250 ms here, so a read right after our own transaction saw the block before
  // it (the audits' `StaleRead` on automine, the delivery check reading an older block).
  // batch.multicall: concurrent plain reads (`readContract` without an account: an audit's vault, route and adapter
  // records) go out as one Multicall3 `aggregate3` per block, one round trip instead of one each (not when no
  // Multicall3 is configured: the zero address).
  const batch = /^0x0{40}$/i.test(endpoint.multicall3) ? undefined : { multicall: { wait: 0 } };
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 250, cacheTime: 0, ...(batch ? { batch } : {}) });
  const walletClient = account ? createWalletClient({ chain, transport, account }) : undefined;
  return { chainKey: endpoint.chainKey, chain, publicClient, walletClient, rpcUrl: urls[0], rpcUrls: urls, timeoutMs };
}
