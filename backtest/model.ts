/**
 * The backtest's bridge model: for every ordered chain pair and each of two bridges, a quote
 * (fixed fee per message, proportional fee, latency) as the planners take it ({@link BridgeEdge}).
 *
 * Fixed fee. Both bridges charge native gas, paid by the keeper (not taken out of the moved amount):
 *   fixedWei = srcGas · gasPrice(src) + dstGas · gasPrice(dst) · dstMarkup + flatWei
 * with `srcGas` = 150 000 (withdraw + send on the source, assumed), `dstGas` = 200 000 (the config's default
 * `layerzero.lzReceiveGas`, used for both bridges' destination execution), gas prices in ETH-equivalent
 * wei per gas (the ETH value of one unit of the chain's gas; for chains whose gas token is not ETH the ETH value of
 * their gas: the fixtures have no POL/AVAX/BNB/xDAI/CELO history). The gas price of a step is the chain's BASE FEE at
 * that step ({@link GasReplay}: a `--gas-history` CSV, or the {@link syntheticGasHistory} whose mean is
 * {@link CHAIN_PARAMS}' `gasPriceGwei`); without a series, the constant `gasPriceGwei`. The fee in wei is converted to the asset's
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
import type { BaseFeeSample } from '../planner/timing.js';
import { seedOf } from '../bench/instances.js';
import { mulberry32 } from '../devnet/prng.js';

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

/** A step's gas price per chain: ETH-equivalent wei per unit of gas (the base fee), by chain key. */
export type GasPriceWei = (chain: string) => bigint;

/** One bridge of the model: how it prices and how fast it delivers a message from `from` to `to`. */
export interface BridgeModel {
  name: string;
  /** Proportional fee, basis points (a multiple of 0.01, as {@link BridgeEdge.feeBps}). */
  feeBps: number;
  /**
   * Fixed fee of one message (wei of ETH-equivalent native gas) at the gas prices `gasPriceWei` (default
   * {@link constantGasPriceWei}: CHAIN_PARAMS' `gasPriceGwei`).
   */
  fixedFeeWei(from: string, to: string, gasPriceWei?: GasPriceWei): bigint;
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

/**
 * A chain's constant ETH-equivalent gas price in wei per gas: CHAIN_PARAMS' `gasPriceGwei` (given to 0.001 gwei).
 * @throws Error for a chain the model has no parameters for.
 */
export function constantGasPriceWei(chain: string): bigint {
  return (BigInt(Math.round(chainParams(chain).gasPriceGwei * 1000)) * GWEI) / 1000n;
}

/** Gas cost in wei of `gas` units on `chain` at `price` (wei per gas). */
const gasWei = (gas: bigint, chain: string, price: GasPriceWei): bigint => gas * price(chain);

/** The two bridges of the model (see the module doc for the formulas and which numbers are assumed). */
export function defaultBridges(): BridgeModel[] {
  return [
    {
      name: 'layerzero',
      feeBps: 0,
      fixedFeeWei: (from, to, price = constantGasPriceWei) => gasWei(SOURCE_GAS, from, price) + (gasWei(DESTINATION_GAS, to, price) * 12n) / 10n + 50_000n * GWEI,
      latencySec: (from) => {
        const p = chainParams(from);
        return Math.ceil(p.lzConfirmations * p.blockTimeSec) + 60;
      },
    },
    {
      name: 'wormhole',
      feeBps: 1,
      fixedFeeWei: (from, to, price = constantGasPriceWei) => gasWei(SOURCE_GAS, from, price) + gasWei(DESTINATION_GAS, to, price) + 10_000n * GWEI,
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
 * @param gasPriceWei the step's gas price per chain (wei per gas, ETH-equivalent); default the constant model.
 * @throws Error for a chain the model has no parameters for.
 */
export function quoteEdges(chains: readonly string[], bridges: readonly BridgeModel[], toAsset: (wei: bigint) => bigint, gasPriceWei: GasPriceWei = constantGasPriceWei): BridgeEdge[] {
  const edges: BridgeEdge[] = [];
  for (const from of chains) {
    for (const to of chains) {
      if (from === to) continue;
      for (const b of bridges) {
        edges.push({ from, to, bridge: b.name, feeBps: b.feeBps, fixedFee: toAsset(b.fixedFeeWei(from, to, gasPriceWei)), latencySec: b.latencySec(from, to) });
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

/**
 * A base-fee series per chain on the backtest clock (seconds from the run's start; samples before 0 are the history
 * the first steps look back on). The fixed fees of a step use each chain's {@link baseFeeAt} that step, and the gas
 * timing (planner/timing.ts) compares it with the chain's recent samples.
 */
export interface GasReplay {
  /** Where the series came from: the CSV's path, or a label starting `SYNTHETIC gas history`. */
  source: string;
  /** True when any chain's series is synthetic. */
  synthetic: boolean;
  /** chainKey → samples, oldest first, ETH-equivalent wei per gas. */
  perChain: Record<string, BaseFeeSample[]>;
  /** What the reader should know (alignment, held values, chains filled with the synthetic series). */
  notes: string[];
}

/** Parameters of {@link syntheticGasHistory}. */
export interface SyntheticGasParams {
  /** Sample spacing (seconds, default 3600). */
  stepSec?: number;
  /** Samples before 0 (seconds, default 7 days): the history the first steps' percentile looks back on. */
  warmupSec?: number;
  /** Amplitude of the daily cycle of ln(base fee) (default 0.35: peak ÷ trough ≈ 2). */
  dailyAmplitude?: number;
  /** Hour (UTC) of the cycle's peak (default 15, the US/EU overlap). */
  peakHourUtc?: number;
  /** Standard deviation of the noise on ln(base fee) (default 0.3) and its hour-to-hour autocorrelation (default 0.8). */
  noiseSigma?: number;
  noiseRho?: number;
}

/**
 * A SYNTHETIC base-fee series per chain (the fixtures have no gas history), seeded and deterministic (one seed per
 * chain: `backtest/gas/<chain>`). Per sample at time t (hourly by default, from −`warmupSec` to `durationSec`):
 *   ln m(t) = A · cos(2π (hourUtc(t) − peakHour) / 24) + ε(t),  ε AR(1): ε(t) = ρ ε(t−1) + σ √(1−ρ²) z, z ~ N(0, 1)
 * (lognormal around a daily cycle), then scaled so that the mean over [0, `durationSec`) is the chain's
 * CHAIN_PARAMS `gasPriceGwei` (the constant of the fee model before issue 14): base fee(t) = mean · m(t) / mean(m).
 * The clock's 0 is taken as 00:00 UTC. Labelled `SYNTHETIC gas history` in its source.
 * @throws Error for a chain the model has no parameters for, or `durationSec` ≤ 0.
 */
export function syntheticGasHistory(chains: readonly string[], durationSec: number, params: SyntheticGasParams = {}): GasReplay {
  if (!(durationSec > 0)) throw new Error(`syntheticGasHistory: durationSec must be > 0 (got ${durationSec})`);
  const stepSec = params.stepSec ?? 3600;
  const warmup = params.warmupSec ?? 7 * 86_400;
  const amp = params.dailyAmplitude ?? 0.35;
  const peak = params.peakHourUtc ?? 15;
  const sigma = params.noiseSigma ?? 0.3;
  const rho = params.noiseRho ?? 0.8;
  const perChain: Record<string, BaseFeeSample[]> = {};
  for (const chain of [...chains].sort()) {
    const meanWei = constantGasPriceWei(chain);
    const rng = mulberry32(seedOf(`backtest/gas/${chain}`));
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const times: number[] = [];
    const m: number[] = [];
    let eps = sigma * normal();
    for (let t = -Math.ceil(warmup / stepSec) * stepSec; t < durationSec; t += stepSec) {
      const hour = (((t % 86_400) + 86_400) % 86_400) / 3600;
      eps = rho * eps + sigma * Math.sqrt(1 - rho * rho) * normal();
      times.push(t);
      m.push(Math.exp(amp * Math.cos((2 * Math.PI * (hour - peak)) / 24) + eps));
    }
    const inRun = m.filter((_, i) => times[i]! >= 0);
    const mean = inRun.reduce((s, x) => s + x, 0) / inRun.length;
    // Scaled in millionths so the wei stay exact integers: wei = meanWei · round(1e6 · m / mean) / 1e6.
    perChain[chain] = times.map((t, i) => ({ atSec: t, baseFeeWei: (meanWei * BigInt(Math.round((m[i]! / mean) * 1e6))) / 1_000_000n }));
  }
  return {
    source: `SYNTHETIC gas history (seeded lognormal daily cycle + AR(1) noise, mean = backtest/model.ts CHAIN_PARAMS gasPriceGwei per chain; no gas history in the fixtures)`,
    synthetic: true,
    perChain,
    notes: [],
  };
}

/**
 * A chain's base fee at `tSec`: the last sample at or before it, else the first sample (a series starting later holds
 * its first value backwards).
 * @throws Error when `samples` is empty.
 */
export function baseFeeAt(samples: readonly BaseFeeSample[], tSec: number): bigint {
  if (samples.length === 0) throw new Error('baseFeeAt: no samples');
  let lo = 0;
  let hi = samples.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.atSec <= tSec) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return samples[found]!.baseFeeWei;
}

/**
 * The samples of `samples` in [fromSec, toSec) (binary search; `samples` oldest first).
 */
export function samplesBetween(samples: readonly BaseFeeSample[], fromSec: number, toSec: number): BaseFeeSample[] {
  const first = (x: number): number => {
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.atSec < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return samples.slice(first(fromSec), first(toSec));
}
