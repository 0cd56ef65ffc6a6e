/**
 * A ready-to-write example config: the devnet script passes what it deployed (chain ids, RPC URLs,
 * LayerZero eids, contract addresses) and gets a config with sensible policies, to hand to
 * `writeConfigFile`. The policy numbers are examples for a devnet, not advice for mainnet.
 */
import type { BallastConfigInput, ChainConfigInput } from './schema.js';

/** What the devnet knows about one chain it started. */
export interface ExampleChain {
  key: string;
  chainId: number;
  rpcUrl: string;
  eid: number;
  contracts: ChainConfigInput['contracts'];
  /** The chain's Wormhole chain id, core and adapter, when it is on the Wormhole route. */
  wormhole?: ChainConfigInput['wormhole'];
}

/**
 * Build an example config. Amounts are scaled by `asset.decimals` and written as base-unit strings:
 * buffer 10,000 tokens; per chain window cap 1,000,000 tokens per hour; transfers 100 .. 250,000 tokens.
 * Band 60%..80%; oracle at most 1 hour old and 5% from the previous round. `wormhole` (guardian URL and
 * sets) is copied as given, for chains that carry a `wormhole` entry.
 * @example writeConfigFile('.devnet/ballast.yaml', exampleConfig({ chains }))
 */
export function exampleConfig(opts: {
  chains: ExampleChain[];
  deployment?: string;
  asset?: { symbol: string; decimals: number };
  wormhole?: BallastConfigInput['wormhole'];
}): BallastConfigInput {
  const asset = opts.asset ?? { symbol: 'USDC', decimals: 6 };
  const tokens = (n: bigint): string => (n * 10n ** BigInt(asset.decimals)).toString();
  return {
    deployment: opts.deployment ?? 'devnet',
    asset,
    chains: opts.chains.map((c) => ({
      key: c.key,
      chainId: c.chainId,
      rpcUrl: c.rpcUrl,
      eid: c.eid,
      contracts: c.contracts,
      ...(c.wormhole ? { wormhole: c.wormhole } : {}),
      band: { lowPct: 60, highPct: 80 },
      minBuffer: tokens(10_000n),
      caps: {
        maxOutflowPerWindow: tokens(1_000_000n),
        windowSec: 3600,
        maxTransfer: tokens(250_000n),
        minTransfer: tokens(100n),
      },
      oracle: { maxStalenessSec: 3600, maxDeviationBps: 500 },
    })),
    ...(opts.wormhole ? { wormhole: opts.wormhole } : {}),
  };
}
