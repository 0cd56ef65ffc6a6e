/**
 * The Wormhole emitter of a chain's messages, by chain family.
 */
import { ApplicationFailure } from '@temporalio/common';
import { bytesToHex, type Hex } from 'viem';
import { chainOf, solanaChainOf, type KeeperContext } from '../context.js';
import { FailureType } from '../failures.js';

/**
 * The Wormhole emitter of `chainKey`'s messages: an EVM chain's WormholeAdapter, or a Solana chain's custody
 * account (32 bytes), with the chain's Wormhole chain id.
 * @throws non-retryable ConfigError when an EVM chain has no `wormhole` entry.
 */
export function wormholeEmitterOf(ctx: KeeperContext, chainKey: string): { chainId: number; emitter: Hex } {
  const sc = solanaChainOf(ctx, chainKey);
  if (sc) return { chainId: sc.wormholeChainId, emitter: bytesToHex(sc.accounts.custody.toBytes()) };
  const c = chainOf(ctx, chainKey);
  if (!c.wormhole) throw ApplicationFailure.nonRetryable(`${chainKey}: a Wormhole transfer needs chains[${chainKey}].wormhole (chainId, core, adapter) in the config`, FailureType.Config);
  return { chainId: c.wormhole.chainId, emitter: c.wormhole.adapter };
}
