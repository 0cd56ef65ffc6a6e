/**
 * The one place a bridge end is chosen: by bridge name (`RebalanceInput.bridge`, config `bridges.<name>`) and the
 * chain's family. Adding a bridge, or a bridge on another chain family, is one module and one entry in
 * {@link BRIDGE_ENDS}.
 */
import { ApplicationFailure } from '@temporalio/common';
import { solanaChainOf, type KeeperContext } from '../context.js';
import { FailureType } from '../failures.js';
import { layerzeroEvm } from './layerzeroEvm.js';
import type { BridgeEnd, BridgeName, ChainFamily } from './port.js';
import { wormholeEvm } from './wormholeEvm.js';
import { wormholeSolana } from './wormholeSolana.js';

export type { BridgeEnd, BridgeEndReader, BridgeMessage, BridgeName, ChainFamily, RecordedSend } from './port.js';

/** The bridge ends by bridge and chain family. */
export const BRIDGE_ENDS: Record<BridgeName, Partial<Record<ChainFamily, BridgeEnd>>> = {
  layerzero: { evm: layerzeroEvm },
  wormhole: { evm: wormholeEvm, solana: wormholeSolana },
};

/** The family of chain `chainKey` in this config. */
export function familyOf(ctx: KeeperContext, chainKey: string): ChainFamily {
  return solanaChainOf(ctx, chainKey) ? 'solana' : 'evm';
}

/**
 * The end of `bridge` (absent: `layerzero`) on chain `chainKey`'s family, for reading its records (a route's
 * legs take {@link routeEnds}, which also refuses routes no bridge serves).
 * @throws non-retryable ConfigError for an unknown bridge or one that does not run on the chain's family.
 */
export function bridgeEndOf(ctx: KeeperContext, bridge: string | undefined, chainKey: string): BridgeEnd {
  const name = bridge ?? 'layerzero';
  const ends = BRIDGE_ENDS[name as BridgeName];
  if (!ends) throw ApplicationFailure.nonRetryable(`unknown bridge "${name}" (${Object.keys(BRIDGE_ENDS).join(' | ')})`, FailureType.Config);
  const end = ends[familyOf(ctx, chainKey)];
  if (!end) throw ApplicationFailure.nonRetryable(`${chainKey}: bridge "${name}" does not run on ${familyOf(ctx, chainKey)} chains`, FailureType.Config);
  return end;
}

/**
 * The ends of a route over `bridge` (absent: `layerzero`, as in inputs from before Wormhole): the source's
 * (`send`) and the destination's (`awaitDelivery`).
 * @throws non-retryable ConfigError naming the cause: an unknown bridge, a bridge that does not run on one end's
 *   chain family (a Solana end goes over Wormhole), a Solana-to-Solana move.
 */
export function routeEnds(ctx: KeeperContext, bridge: string | undefined, from: string, to: string): { src: BridgeEnd; dst: BridgeEnd } {
  const name = bridge ?? 'layerzero';
  const ends = BRIDGE_ENDS[name as BridgeName];
  if (!ends) throw ApplicationFailure.nonRetryable(`unknown bridge "${name}" (${Object.keys(BRIDGE_ENDS).join(' | ')})`, FailureType.Config);
  const [fromFamily, toFamily] = [familyOf(ctx, from), familyOf(ctx, to)];
  if (fromFamily === 'solana' && toFamily === 'solana') throw ApplicationFailure.nonRetryable(`${from} -> ${to}: Solana-to-Solana moves are not supported`, FailureType.Config);
  const src = ends[fromFamily];
  const dst = ends[toFamily];
  if (!src || !dst) {
    const over = Object.entries(BRIDGE_ENDS).filter(([, e]) => e[fromFamily] && e[toFamily]).map(([n]) => n);
    throw ApplicationFailure.nonRetryable(`${from} -> ${to}: a move to or from ${fromFamily === 'evm' ? toFamily : fromFamily} goes over ${over.join(' | ') || 'no bridge'} (got bridge "${name}")`, FailureType.Config);
  }
  return { src, dst };
}
