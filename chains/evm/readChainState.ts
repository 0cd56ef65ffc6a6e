/**
 * Read one chain's vault and oracle state in ONE multicall at one block.
 */
import type { Address, BlockTag } from 'viem';
import { erc20Abi, isAddressEqual, parseAbi } from 'viem';
import { collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import type { EvmClients } from './clients.js';
import { PartialReadError, RpcUnreachableError, redactRpcUrl, transportCause } from './errors.js';
import { WAD, type ChainState } from '../../planner/types.js';
import { AAVE_RESERVE_CALL_NAMES, aaveRateStrategyCalls, aaveReserveCalls, aaveUtilizationWad, decodeAaveReserve, decodeRateStrategy, type AaveRateStrategy, type AaveReserveAddresses } from './aaveReserve.js';

/** The Multicall3 block getters (viem's bundled `multicall3Abi` lists only aggregate3 and two getters). */
const multicall3BlockAbi = parseAbi([
  'function getBlockNumber() view returns (uint256 blockNumber)',
  'function getCurrentBlockTimestamp() view returns (uint256 timestamp)',
  'function getBasefee() view returns (uint256 basefee)',
]);

export interface ReadChainStateParams {
  clients: EvmClients;
  contracts: { multicall3: Address; vault: Address; priceFeed: Address; token: Address };
  /**
   * The chain's liquidity is this Aave v3 reserve (`holder`: the treasury's AaveAllocator): the reserve, the treasury's
   * aToken balance and the holder's outflow cap are read in the same multicall instead of the vault's totals.
   */
  aave?: AaveReserveAddresses;
  /** Block to read at: a tag (default `latest`) or a number. The block actually read is returned. */
  block?: BlockTag | bigint;
  /**
   * With `aave`: the reserve's interest rate strategy as last seen (the previous snapshot's
   * `market.interestRateStrategyAddress`), so that its curve is read in the same multicall. Absent: the address this
   * process last read for the reserve ({@link knownRateStrategy}). Either way it is checked against the reserve's
   * `interestRateStrategyAddress` at the block read; when none is known or it changed, the curve is read by a second
   * multicall at the same block.
   */
  rateStrategyHint?: Address;
}

/** Per chain and reserve, the strategy address last read in this process (a hint for the next read's multicall). */
const rateStrategies = new Map<string, Address>();
const reserveKey = (chainKey: string, a: AaveReserveAddresses): string => `${chainKey}|${a.pool.toLowerCase()}|${a.asset.toLowerCase()}`;

/** The strategy address this process last read for `chainKey`'s reserve `a` (undefined before the first read). */
export function knownRateStrategy(chainKey: string, a: AaveReserveAddresses): Address | undefined {
  return rateStrategies.get(reserveKey(chainKey, a));
}

/** Raw on-chain figures of one chain, all from the same block: a {@link ChainState} before the oracle verdict. */
export type RawChainState = Omit<ChainState, 'oracleCheck' | 'lastAcceptedAnswer'>;

/**
 * One `eth_call` to Multicall3 (`aggregate3`) at `block`, reading: block number, timestamp and base fee
 * (`getBasefee()`: `block.basefee`; it reverts on a chain without EIP-1559, which leaves `baseFeeWei` absent and is
 * no partial read),
 * vault `totalSupplied`, `totalBorrowed`, `outflowCap()`, and the feed's `latestRoundData()` and
 * `decimals()`, and the token's `totalSupply()`; with `aave`, instead of the vault's totals, the Aave reserve and the
 * treasury's aToken balance (chains/evm/aaveReserve.ts), the outflow cap read from the treasury's allocator, and
 * supplied/borrowed/utilization taken from the reserve, plus the reserve's rate strategy's curve
 * (`OPTIMAL_USAGE_RATIO`, base rate, slopes: chains/evm/aaveReserve.ts `aaveRateStrategyCalls`) at the strategy address
 * of `rateStrategyHint` (or as last read), checked against the reserve's `interestRateStrategyAddress`: when it differs
 * or none is known, the curve is read by a second multicall pinned to the same block. A strategy that does not answer
 * those getters leaves `market.rateStrategy` absent (never a partial read). Every figure therefore comes from the same block.
 * @throws RpcUnreachableError when the RPC does not answer (refused, reset, DNS, timeout, HTTP error status): the
 *   chain key, the URL without path/query/userinfo and the transport cause.
 * @throws PartialReadError when any call of the batch fails (fail closed: no plan on half a snapshot).
 * @example
 *   const s = await readChainState({ clients, contracts: { multicall3, vault, priceFeed }, block: 'latest' });
 *   s.utilizationWad; // 750000000000000000n = 75%
 */
export async function readChainState(p: ReadChainStateParams): Promise<RawChainState> {
  const { multicall3, vault, priceFeed, token } = p.contracts;
  const blockArg = typeof p.block === 'bigint' ? { blockNumber: p.block } : { blockTag: p.block ?? 'latest' };
  const unreachable = (err: unknown): RpcUnreachableError | undefined => {
    const cause = transportCause(err, p.clients.timeoutMs);
    return cause ? new RpcUnreachableError(p.clients.chainKey, redactRpcUrl(p.clients.rpcUrl ?? p.clients.chain.rpcUrls.default.http[0] ?? ''), cause) : undefined;
  };
  const holder = p.aave?.holder ?? vault;
  const holderName = p.aave ? 'allocator' : 'vault';
  const common = [
    { address: multicall3, abi: multicall3BlockAbi, functionName: 'getBlockNumber' },
    { address: multicall3, abi: multicall3BlockAbi, functionName: 'getCurrentBlockTimestamp' },
    { address: holder, abi: collateralVaultAbi, functionName: 'outflowCap' },
    { address: priceFeed, abi: devPriceFeedAbi, functionName: 'latestRoundData' },
    { address: priceFeed, abi: devPriceFeedAbi, functionName: 'decimals' },
    { address: token, abi: erc20Abi, functionName: 'totalSupply' },
  ] as const;
  // Then where the liquidity is: the vault's totals, or the Aave reserve's calls (same batch, same block). The
  // results' static type covers the common six.
  const tail = p.aave
    ? aaveReserveCalls(p.aave)
    : ([
        { address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' },
        { address: vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' },
      ] as const);
  // With `aave`, the strategy's curve at the address last seen (checked against the reserve's below), last.
  const strategyHint = p.aave ? (p.rateStrategyHint ?? knownRateStrategy(p.clients.chainKey, p.aave)) : undefined;
  const strategyCalls = strategyHint ? aaveRateStrategyCalls(strategyHint) : [];
  // The block's base fee after the chain's own calls (its failure is no partial read), then the strategy's curve.
  const basefeeCall = { address: multicall3, abi: multicall3BlockAbi, functionName: 'getBasefee' } as const;
  const contracts = [...common, ...tail, basefeeCall, ...strategyCalls] as unknown as typeof common;
  const results = await p.clients.publicClient.multicall({
    multicallAddress: multicall3,
    allowFailure: true,
    ...blockArg,
    contracts,
  }).catch((err: unknown) => {
    throw unreachable(err) ?? err;
  });
  const names = ['getBlockNumber', 'getCurrentBlockTimestamp', `${holderName}.outflowCap`, 'feed.latestRoundData', 'feed.decimals', 'token.totalSupply', ...(p.aave ? AAVE_RESERVE_CALL_NAMES : ['vault.totalSupplied', 'vault.totalBorrowed'])];
  // Named in the order a reader knows them: block, the liquidity's figures, the cap, the feed, the token.
  const order = ['getBlockNumber', 'getCurrentBlockTimestamp', 'vault.totalSupplied', 'vault.totalBorrowed'];
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  // The strategy's calls are not the chain's state: their failure is no partial read (the rate model falls back).
  const core = results.slice(0, common.length + tail.length);
  const failed = core.flatMap((r, i) => (r.status === 'failure' ? [names[i] ?? `call ${i}`] : [])).sort((a, b) => rank(a) - rank(b));
  // One batch, one request: when every call failed on the transport, the RPC is unreachable (not a partial read).
  const down = core.every((r) => r.status === 'failure') ? unreachable(core[0]?.error) : undefined;
  if (down) throw down;
  if (failed.length > 0) throw new PartialReadError(p.clients.chainKey, failed);
  const [bn, ts, cap, round, decimals, tokenTotalSupply] = results.map((r) => r.result) as [
    bigint, bigint,
    readonly [bigint, bigint, bigint, bigint],
    readonly [bigint, bigint, bigint, bigint, bigint],
    number,
    bigint,
  ];
  const rest = (core as readonly { result?: unknown }[]).slice(common.length).map((r) => r.result);
  // On an Aave market the market's own figures: supplied = available + debt, so utilization is Aave's.
  const decoded = p.aave ? decodeAaveReserve(p.aave, rest) : undefined;
  let rateStrategy: AaveRateStrategy | undefined;
  const strategy = decoded?.interestRateStrategyAddress;
  if (p.aave && strategy) {
    rateStrategies.set(reserveKey(p.clients.chainKey, p.aave), strategy);
    if (strategyHint && isAddressEqual(strategyHint, strategy)) rateStrategy = decodeRateStrategy(results.slice(core.length + 1));
    else {
      // First read of this reserve (or its strategy was replaced): its curve at the same block, one more multicall.
      const again = await p.clients.publicClient
        .multicall({ multicallAddress: multicall3, allowFailure: true, blockNumber: bn, contracts: aaveRateStrategyCalls(strategy) })
        .catch((err: unknown) => {
          throw unreachable(err) ?? err;
        });
      rateStrategy = decodeRateStrategy(again);
    }
  }
  // A chain without EIP-1559 (BASEFEE reverts) or a Multicall3 without the getter: no base fee, not a partial read.
  const basefee = results[core.length] as { status: string; result?: unknown } | undefined;
  const baseFeeWei = basefee?.status === 'success' && typeof basefee.result === 'bigint' ? basefee.result : undefined;
  const market = decoded ? { ...decoded, ...(rateStrategy ? { rateStrategy } : {}) } : undefined;
  const supplied = market ? market.availableLiquidity + market.totalDebt : (rest[0] as bigint);
  const borrowed = market ? market.totalDebt : (rest[1] as bigint);
  return {
    chainKey: p.clients.chainKey,
    blockNumber: bn,
    blockTimestampSec: ts,
    ...(baseFeeWei !== undefined ? { baseFeeWei } : {}),
    supplied,
    borrowed,
    idle: supplied - borrowed,
    utilizationWad: market ? aaveUtilizationWad(market.availableLiquidity, market.totalDebt) : supplied === 0n ? 0n : (borrowed * WAD) / supplied,
    ...(market ? { market } : {}),
    onChainCap: { maxOutflowPerWindow: cap[0], windowSec: cap[1], outflowInWindow: cap[2], windowStartSec: cap[3] },
    oracle: { roundId: round[0], answer: round[1], decimals: Number(decimals), updatedAtSec: round[3], answeredInRound: round[4] },
    tokenTotalSupply,
  };
}
