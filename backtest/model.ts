/**
 * The backtest's bridge model: for every ordered chain pair and each of two bridges, a quote
 * (fixed fee per message, proportional fee, latency) as the planners take it ({@link BridgeEdge}).
 *
 * Fixed fee. Both bridges charge native gas, paid by the keeper (not taken out of the moved amount):
 *   fixedWei = srcGas · gasPrice(src) + dstGas · gasPrice(dst) · dstMarkup + flatWei
 * with `srcGas` = 150 000 (withdraw + send on the source, assumed), `dstGas` = 200 000 (the config's default
 * `layerzero.lzReceiveGas`, used for both bridges' destination execution), gas prices in ETH-equivalent
 * gwei per chain ({@link CHAIN_PARAMS}; for chains whose gas token is not ETH the price is the ETH value of
 * their gas: the fixtures have no POL/AVAX/BNB/xDAI/CELO history). The fee in wei is converted to the asset's
 * base units with the asset's Chainlink price AT THAT STEP of the replay ({@link weiToAssetUnits}): USD per ETH
 * for a stablecoin, ETH per token for an ETH-pegged asset. Rounded up.
 *
 * | bridge      | dstMarkup | flatWei                      | feeBps | latency                                  |
 * |-------------|-----------|------------------------------|--------|------------------------------------------|
 * | `layerzero` | 1.2       | 50 000 gwei (DVNs, executor) | 0      | confirmations · blockTime + 60 s         |
 * | `wormhole`  | 1.0       | 10 000 gwei (relayer)        | 1      | source finality + 60 s                   |
 *
 * LayerZero's proportional fee is 0 (an OFT burns and mints the amount). The Wormhole route's 1 bps stands for a
 * relayer's value-based fee. Markups, flat fees and the 1 bps are ASSUMPTIONS of this model, not quotes.
 *
 * Latency: LayerZero delivers after the source's block confirmations (LayerZero's published default
 * confirmations per source chain: docs.layerzero.network, v1 "Default Config" `defaultBlockConfs`) times the
 * block time, plus 60 s for the DVNs and the executor (assumed). Wormhole's guardians sign once the source
 * block is `finalized` (wormhole.com/docs "Consistency levels", column "Time to Finalize"), plus 60 s for the
 * relayer (assumed). Where a chain's value is not from those tables {@link ChainParams.assumed} says which.
 */
import type { BridgeEdge } from '../planner/optimal.js';

/** Per-chain parameters of the bridge model. */
export interface ChainParams {
  /** Average block time (seconds). */
  blockTimeSec: number;
  /** LayerZero default block confirmations for messages from this chain. */
  lzConfirmations: number;
  /** Seconds until a block is `finalized` for Wormhole's guardians. */
  whFinalitySec: number;
  /** Gas price in ETH-equivalent gwei (the ETH value of one unit of gas, ×1e9). */
  gasPriceGwei: number;
  /** Which of the above are assumptions rather than values from the cited tables. */
  assumed: string[];
}

/**
 * The model's chains (the Aave v3 fixture's 13 networks). Cited: LayerZero confirmations (all); Wormhole
 * finality for ethereum (~19 min), arbitrum and base (~18 min), avalanche (~2 s), bnb (~48 s), celo (~10 s).
 * Gas prices are assumptions (no gas history in the fixtures): 20 gwei on Ethereum, 0.05 gwei elsewhere.
 */
export const CHAIN_PARAMS: Readonly<Record<string, ChainParams>> = {
  ethereum: { blockTimeSec: 12, lzConfirmations: 15, whFinalitySec: 19 * 60, gasPriceGwei: 20, assumed: ['gasPrice'] },
  arbitrum: { blockTimeSec: 0.25, lzConfirmations: 20, whFinalitySec: 18 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice'] },
  base: { blockTimeSec: 2, lzConfirmations: 10, whFinalitySec: 18 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice'] },
  optimism: { blockTimeSec: 2, lzConfirmations: 20, whFinalitySec: 18 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice', 'whFinality (as base: OP Stack)'] },
  avalanche: { blockTimeSec: 2, lzConfirmations: 12, whFinalitySec: 2, gasPriceGwei: 0.05, assumed: ['gasPrice'] },
  bnb: { blockTimeSec: 3, lzConfirmations: 20, whFinalitySec: 48, gasPriceGwei: 0.05, assumed: ['gasPrice'] },
  celo: { blockTimeSec: 5, lzConfirmations: 5, whFinalitySec: 10, gasPriceGwei: 0.05, assumed: ['gasPrice'] },
  polygon: { blockTimeSec: 2, lzConfirmations: 512, whFinalitySec: 60, gasPriceGwei: 0.05, assumed: ['gasPrice', 'whFinality'] },
  gnosis: { blockTimeSec: 5, lzConfirmations: 5, whFinalitySec: 240, gasPriceGwei: 0.05, assumed: ['gasPrice', 'whFinality (≈3 epochs of 80 s)'] },
  linea: { blockTimeSec: 2, lzConfirmations: 10, whFinalitySec: 30 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice', 'whFinality'] },
  scroll: { blockTimeSec: 3, lzConfirmations: 5, whFinalitySec: 30 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice', 'whFinality'] },
  metis: { blockTimeSec: 2, lzConfirmations: 5, whFinalitySec: 18 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice', 'blockTime', 'whFinality'] },
  zksync: { blockTimeSec: 1, lzConfirmations: 20, whFinalitySec: 30 * 60, gasPriceGwei: 0.05, assumed: ['gasPrice', 'whFinality'] },
};

/** One bridge of the model: how it prices and how fast it delivers a message from `from` to `to`. */
export interface BridgeModel {
  name: string;
  /** Proportional fee, basis points (a multiple of 0.01, as {@link BridgeEdge.feeBps}). */
  feeBps: number;
  /** Fixed fee of one message (wei of ETH-equivalent native gas). */
  fixedFeeWei(from: string, to: string): bigint;
  /** Delivery latency (seconds, integer). */
  latencySec(from: string, to: string): number;
}

/** Gas units of the source transaction (withdraw + send), assumed. */
export const SOURCE_GAS = 150_000n;
/** Gas units of the destination execution (the config's default `layerzero.lzReceiveGas`). */
export const DESTINATION_GAS = 200_000n;
const GWEI = 1_000_000_000n;

/** Chain parameters, or an error naming the chains the model knows. */
export function chainParams(chain: string): ChainParams {
  const p = CHAIN_PARAMS[chain];
  if (p === undefined) {
    throw new Error(`backtest model: no bridge parameters for chain "${chain}"; known: ${Object.keys(CHAIN_PARAMS).sort().join(', ')}. Add it to CHAIN_PARAMS in backtest/model.ts`);
  }
  return p;
}

/** Gas cost in wei of `gas` units at a chain's ETH-equivalent gas price (gwei given to 0.001 gwei). */
function gasWei(gas: bigint, chain: string): bigint {
  const milliGwei = BigInt(Math.round(chainParams(chain).gasPriceGwei * 1000));
  return (gas * milliGwei * GWEI) / 1000n;
}

/** The two bridges of the model (see the module doc for the formulas and which numbers are assumed). */
export function defaultBridges(): BridgeModel[] {
  return [
    {
      name: 'layerzero',
      feeBps: 0,
      fixedFeeWei: (from, to) => gasWei(SOURCE_GAS, from) + (gasWei(DESTINATION_GAS, to) * 12n) / 10n + 50_000n * GWEI,
      latencySec: (from) => {
        const p = chainParams(from);
        return Math.ceil(p.lzConfirmations * p.blockTimeSec) + 60;
      },
    },
    {
      name: 'wormhole',
      feeBps: 1,
      fixedFeeWei: (from, to) => gasWei(SOURCE_GAS, from) + gasWei(DESTINATION_GAS, to) + 10_000n * GWEI,
      latencySec: (from) => Math.ceil(chainParams(from).whFinalitySec) + 60,
    },
  ];
}

/** How an asset's price feed converts a fee in wei into the asset's base units. */
export type FeeConversion =
  /** A USD stablecoin priced through a USD-per-ETH feed (Chainlink ETH/USD). */
  | { kind: 'usd-per-eth' }
  /** An ETH-pegged token priced through an ETH-per-token feed (Chainlink stETH/ETH). */
  | { kind: 'eth-per-token' }
  /** A token worth 1 ETH whatever the feed says (WETH of a `--history` file; the feed still drives the oracle checks). */
  | { kind: 'eth-pegged' };

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/**
 * A fee in wei (1e-18 ETH) in the asset's base units, rounded up, at the feed answer `answer` (scaled by
 * `10 ** feedDecimals`).
 * - `usd-per-eth`: `wei · answer · 10^assetDecimals / (10^18 · 10^feedDecimals)` (1 token = 1 USD);
 * - `eth-per-token`: `wei · 10^assetDecimals · 10^feedDecimals / (10^18 · answer)`;
 * - `eth-pegged`: `wei · 10^assetDecimals / 10^18` (1 token = 1 ETH).
 * @throws Error when `answer` ≤ 0 (no price to convert with) or `wei` < 0.
 * @example weiToAssetUnits(10n ** 15n, 6, { kind: 'usd-per-eth' }, 2000_00000000n, 8) === 2_000_000n // 0.001 ETH = 2 USDC
 */
export function weiToAssetUnits(wei: bigint, assetDecimals: number, conv: FeeConversion, answer: bigint, feedDecimals: number): bigint {
  if (answer <= 0n) throw new Error(`weiToAssetUnits: price answer ${answer} ≤ 0; a fee cannot be converted without a valid round`);
  if (wei < 0n) throw new Error(`weiToAssetUnits: negative fee ${wei} wei`);
  const a = 10n ** BigInt(assetDecimals);
  const f = 10n ** BigInt(feedDecimals);
  const e18 = 10n ** 18n;
  if (conv.kind === 'eth-pegged') return ceilDiv(wei * a, e18);
  return conv.kind === 'usd-per-eth' ? ceilDiv(wei * answer * a, e18 * f) : ceilDiv(wei * a * f, e18 * answer);
}

/**
 * Quotes for every ordered pair of `chains` over every bridge, with fixed fees converted by `toAsset`.
 * @param toAsset wei → asset base units (e.g. `(w) => weiToAssetUnits(w, 6, conv, price, 8)`).
 * @throws Error for a chain the model has no parameters for.
 */
export function quoteEdges(chains: readonly string[], bridges: readonly BridgeModel[], toAsset: (wei: bigint) => bigint): BridgeEdge[] {
  const edges: BridgeEdge[] = [];
  for (const from of chains) {
    for (const to of chains) {
      if (from === to) continue;
      for (const b of bridges) {
        edges.push({ from, to, bridge: b.name, feeBps: b.feeBps, fixedFee: toAsset(b.fixedFeeWei(from, to)), latencySec: b.latencySec(from, to) });
      }
    }
  }
  return edges;
}

/** The model per source chain (for the report): each bridge's latency out of it, its gas price, what is assumed. */
export function describeModel(chains: readonly string[], bridges: readonly BridgeModel[]): { chain: string; latencySec: Record<string, number>; gasPriceGwei: number; assumed: string[] }[] {
  return chains.map((chain) => {
    const other = chains.find((c) => c !== chain) ?? chain;
    const p = chainParams(chain);
    return { chain, latencySec: Object.fromEntries(bridges.map((b) => [b.name, b.latencySec(chain, other)])), gasPriceGwei: p.gasPriceGwei, assumed: p.assumed };
  });
}
