/**
 * LayerZero fee quotes on EVM: the native fee `BallastRoute.quoteSend(dstEid, amount, options)` asks as
 * `msg.value` for a send to each destination, read for all destinations of one source chain in ONE
 * Multicall3 `aggregate3` call (one block, one round trip).
 *
 * `options` are LayerZero v2 type-3 options, e.g. `Options.newOptions().addExecutorLzReceiveOption(gas, 0)`
 * from `@layerzerolabs/lz-v2-utilities` (activities/legs.ts `lzReceiveOptions`); the quote must use the same
 * options the send will use, since the executor's fee depends on the gas asked for.
 */
import type { Address, BlockTag, Hex } from 'viem';
import { ballastRouteAbi } from '../../contracts/generated/abis.js';
import type { EvmClients } from './clients.js';
import { asRevert } from './errors.js';

/** One destination to quote. */
export interface LayerZeroQuoteRequest {
  /** Destination LayerZero endpoint id. */
  dstEid: number;
  /** Amount to send, base units (the OFT debits it in the quote; the fee does not depend on it for OFT v2). */
  amount: bigint;
}

/** The quote of one request: the native fee (wei), or why there is none (a revert is named, e.g. `NoPeerRoute(40202)`). */
export type LayerZeroQuote = { dstEid: number; ok: true; nativeFeeWei: bigint } | { dstEid: number; ok: false; error: string };

/** Where and how to quote: the source chain's clients, its Multicall3 and BallastRoute, the send options. */
export interface QuoteLayerZeroParams {
  clients: EvmClients;
  multicall3: Address;
  route: Address;
  options: Hex;
  requests: readonly LayerZeroQuoteRequest[];
  /** Block to read at (default `latest`). */
  block?: BlockTag | bigint;
}

/**
 * Reads `quoteSend` for every request from the source chain's route, in one multicall.
 * @returns one {@link LayerZeroQuote} per request, in request order; a request whose call reverted is
 *   `ok: false` with the decoded error (e.g. `NoPeerRoute(dstEid)` when the route has no peer for it).
 * @throws the transport error when the multicall itself fails (RPC down, timeout): retryable by the caller.
 * @example
 *   const [q] = await quoteLayerZeroFees({ clients, multicall3, route, options: lzReceiveOptions(200_000), requests: [{ dstEid: 40202, amount: 1_000_000n }] });
 *   if (q.ok) q.nativeFeeWei; // e.g. 12_000_000_000_000n
 */
export async function quoteLayerZeroFees(p: QuoteLayerZeroParams): Promise<LayerZeroQuote[]> {
  if (p.requests.length === 0) return [];
  const blockArg = typeof p.block === 'bigint' ? { blockNumber: p.block } : { blockTag: p.block ?? 'latest' };
  const results = await p.clients.publicClient.multicall({
    multicallAddress: p.multicall3,
    allowFailure: true,
    ...blockArg,
    contracts: p.requests.map((r) => ({ address: p.route, abi: ballastRouteAbi, functionName: 'quoteSend' as const, args: [r.dstEid, r.amount, p.options] as const })),
  });
  return results.map((r, i): LayerZeroQuote => {
    const dstEid = p.requests[i]!.dstEid;
    if (r.status === 'success') return { dstEid, ok: true, nativeFeeWei: r.result as bigint };
    const revert = asRevert(r.error, p.clients.chainKey, `quoteSend(${dstEid})`);
    return { dstEid, ok: false, error: revert?.message ?? `${p.clients.chainKey}: quoteSend(${dstEid}) failed: ${r.error.message.split('\n')[0]}` };
  });
}
