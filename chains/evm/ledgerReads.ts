/**
 * What the deployment ledger reads of one EVM chain, in ONE multicall at one block: the token's supply (the supply
 * check), the route's balance and the treasury holder's books (the treasury check, ledger/treasury.ts).
 */
import type { Address } from 'viem';
import { erc20Abi, parseAbi } from 'viem';
import { aaveAllocatorAbi, collateralVaultAbi } from '../../contracts/generated/abis.js';
import type { EvmClients } from './clients.js';
import { PartialReadError, RpcUnreachableError, redactRpcUrl, transportCause } from './errors.js';

const multicall3BlockAbi = parseAbi(['function getBlockNumber() view returns (uint256 blockNumber)']);

/** The allocator's counters (AaveAllocator.sol), underlying base units. */
export interface AllocatorBooks {
  principal: bigint;
  suppliedBalance: bigint;
  cumulativeSupplied: bigint;
  cumulativeWithdrawn: bigint;
  cumulativeWithdrawnToRoute: bigint;
  cumulativeDepositedFromRoute: bigint;
}

/** The CollateralVault's books, its keeper-flow counters (KeeperFlows.sol) and its token balance, base units. */
export interface VaultBooks {
  totalSupplied: bigint;
  totalBorrowed: bigint;
  vaultBalance: bigint;
  /**
   * Σ `withdrawToRoute` and Σ `depositFromRoute` (KeeperFlows.sol). Absent when the vault's bytecode predates the
   * counters (both getters revert: a vault deployed before them); any other failure fails the read.
   */
  keeperFlows?: { cumulativeWithdrawnToRoute: bigint; cumulativeDepositedFromRoute: bigint };
}

/** One chain's ledger figures, all at `blockNumber`. Amounts: the asset's base units. */
export interface LedgerChainRead {
  chainKey: string;
  blockNumber: bigint;
  /** The asset token's `totalSupply()` on this chain. */
  tokenTotalSupply: bigint;
  /** `token.balanceOf(route)`. */
  routeBalance: bigint;
  /** Present when the treasury holder is an AaveAllocator. */
  allocator?: AllocatorBooks;
  /** Present when the treasury holder is the CollateralVault. */
  vault?: VaultBooks;
}

const ALLOCATOR_FNS = ['principal', 'suppliedBalance', 'cumulativeSupplied', 'cumulativeWithdrawn', 'cumulativeWithdrawnToRoute', 'cumulativeDepositedFromRoute'] as const;
/** The vault's keeper-flow counters, read last in the vault's tail (KeeperFlows.sol, shared with the allocator). */
const VAULT_COUNTER_NAMES = ['vault.cumulativeWithdrawnToRoute', 'vault.cumulativeDepositedFromRoute'] as const;

/**
 * One `eth_call` to Multicall3 (`aggregate3`) at the latest block: the block number, `token.totalSupply()`,
 * `token.balanceOf(route)` and, with `allocator`, the allocator's `principal()`, `suppliedBalance()` and four
 * cumulative counters; without it, the vault's `totalSupplied()`, `totalBorrowed()`, `token.balanceOf(vault)` and its
 * two keeper-flow counters (`cumulativeWithdrawnToRoute()`, `cumulativeDepositedFromRoute()`). All amounts: the
 * asset's base units.
 * A per-call failure inside one `aggregate3` is a revert (the transport fails the whole call): when exactly the vault's
 * two counters revert, the vault predates them and `vault.keeperFlows` is absent (the treasury check then says so).
 * @throws RpcUnreachableError when the RPC does not answer (every call failed on the transport).
 * @throws PartialReadError naming the calls that failed (fail closed: no ledger on half a read).
 */
export async function readLedgerChain(p: { clients: EvmClients; contracts: { multicall3: Address; token: Address; route: Address; vault: Address }; allocator?: Address }): Promise<LedgerChainRead> {
  const { multicall3, token, route, vault } = p.contracts;
  const unreachable = (err: unknown): RpcUnreachableError | undefined => {
    const cause = transportCause(err, p.clients.timeoutMs);
    return cause ? new RpcUnreachableError(p.clients.chainKey, redactRpcUrl(p.clients.rpcUrl ?? p.clients.chain.rpcUrls.default.http[0] ?? ''), cause) : undefined;
  };
  const common = [
    { address: multicall3, abi: multicall3BlockAbi, functionName: 'getBlockNumber' },
    { address: token, abi: erc20Abi, functionName: 'totalSupply' },
    { address: token, abi: erc20Abi, functionName: 'balanceOf', args: [route] },
  ] as const;
  const allocator = p.allocator;
  const tail = allocator
    ? ALLOCATOR_FNS.map((functionName) => ({ address: allocator, abi: aaveAllocatorAbi, functionName }))
    : [
        { address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' },
        { address: vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' },
        { address: token, abi: erc20Abi, functionName: 'balanceOf', args: [vault] },
        { address: vault, abi: collateralVaultAbi, functionName: 'cumulativeWithdrawnToRoute' },
        { address: vault, abi: collateralVaultAbi, functionName: 'cumulativeDepositedFromRoute' },
      ];
  const names: string[] = ['getBlockNumber', 'token.totalSupply', 'token.balanceOf(route)', ...(allocator ? ALLOCATOR_FNS.map((f) => `allocator.${f}`) : ['vault.totalSupplied', 'vault.totalBorrowed', 'token.balanceOf(vault)', ...VAULT_COUNTER_NAMES])];
  const results = await p.clients.publicClient
    .multicall({ multicallAddress: multicall3, allowFailure: true, blockTag: 'latest', contracts: [...common, ...tail] as unknown as typeof common })
    .catch((err: unknown) => {
      throw unreachable(err) ?? err;
    });
  const down = results.every((r) => r.status === 'failure') ? unreachable(results[0]?.error) : undefined;
  if (down) throw down;
  const failed = results.flatMap((r, i) => (r.status === 'failure' ? [names[i] ?? `call ${i}`] : []));
  const noVaultCounters = !allocator && failed.length === VAULT_COUNTER_NAMES.length && VAULT_COUNTER_NAMES.every((n) => failed.includes(n));
  if (failed.length > 0 && !noVaultCounters) throw new PartialReadError(p.clients.chainKey, failed);
  const v = (results as readonly { result?: unknown }[]).map((r) => r.result as bigint);
  const [blockNumber, tokenTotalSupply, routeBalance] = v as [bigint, bigint, bigint];
  const rest = v.slice(common.length);
  return {
    chainKey: p.clients.chainKey,
    blockNumber,
    tokenTotalSupply,
    routeBalance,
    ...(allocator
      ? { allocator: Object.fromEntries(ALLOCATOR_FNS.map((f, i) => [f, rest[i]!])) as unknown as AllocatorBooks }
      : {
          vault: {
            totalSupplied: rest[0]!,
            totalBorrowed: rest[1]!,
            vaultBalance: rest[2]!,
            ...(noVaultCounters ? {} : { keeperFlows: { cumulativeWithdrawnToRoute: rest[3]!, cumulativeDepositedFromRoute: rest[4]! } }),
          },
        }),
  };
}
