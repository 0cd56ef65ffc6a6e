/**
 * Activities of the funds ledger: read what the chains record about a rebalance (to reconcile the
 * saga's ledger after each step) and check the deployment's supply conservation.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Hex } from 'viem';
import { ballastRouteAbi, collateralVaultAbi, wormholeAdapterAbi } from '../contracts/generated/abis.js';
import { wormholeDelivered, wormholeGuid, wormholeOf } from './wormholeLegs.js';
import { getDeliveryStatus } from '../chains/evm/layerzero.js';
import { readChainState } from '../chains/evm/readChainState.js';
import { deriveFromChain, type RebalanceChainFacts } from '../ledger/ledger.js';
import { chainOf, solanaChainOf, type ChainRuntime, type KeeperContext, type SolanaChainRuntime } from './context.js';
import { solanaRedeemOf, solanaReserveTransferOf, solanaSendOf, solanaUniversalAddress } from './solanaLegs.js';
import { readSolanaChain } from './solanaSnapshot.js';
import { legKey } from './legKey.js';

const ZERO32 = /^0x0{64}$/;

export interface ObserveInput {
  rebalanceId: Hex;
  from: string;
  to: string;
  amount: bigint;
  /** Per chain, the lowest block the read may be at: the newest block a leg of this saga reached there. */
  minBlocks: Record<string, bigint>;
  /** `layerzero` (default) or `wormhole`: which send records and delivery evidence to read. */
  bridge?: string;
}

/** The block to read a chain at: its latest, which must not be older than what the saga already saw. */
async function readBlock(c: ChainRuntime, minBlock: bigint | undefined): Promise<bigint> {
  const bn = await c.clients.publicClient.getBlockNumber();
  if (minBlock !== undefined && bn < minBlock) {
    throw ApplicationFailure.retryable(`${c.chainKey}: node answered block ${bn}, older than block ${minBlock} already seen by this saga (stale read); retrying`, 'StaleRead');
  }
  return bn;
}

/**
 * Reads every on-chain record of one rebalance (vault `outflowOf`/`inflowOf`, route `sends`, delivery by
 * nonce) at one block per chain, no older than `minBlocks`, and returns the facts and the ledger
 * balances they imply. @throws retryable `StaleRead` when a node is behind what the saga already saw.
 */
export async function observeRebalanceFunds(ctx: KeeperContext, input: ObserveInput): Promise<{ facts: RebalanceChainFacts; balances: Record<string, bigint> }> {
  if (solanaChainOf(ctx, input.from) || solanaChainOf(ctx, input.to)) return observeWithSolana(ctx, input);
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const [srcBlock, dstBlock] = await Promise.all([readBlock(src, input.minBlocks[src.chainKey]), readBlock(dst, input.minBlocks[dst.chainKey])]);
  const id = input.rebalanceId;
  const [[withdrawn, redeposited, returnDeposited], [deposited], sends] = await Promise.all([
    src.clients.publicClient.multicall({
      multicallAddress: src.contracts.multicall3,
      blockNumber: srcBlock,
      allowFailure: false,
      contracts: [
        { address: src.contracts.vault, abi: collateralVaultAbi, functionName: 'outflowOf', args: [id] },
        { address: src.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [legKey(id, 'redeposit')] },
        { address: src.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [legKey(id, 'return-deposit')] },
      ] as const,
    }),
    dst.clients.publicClient.multicall({
      multicallAddress: dst.contracts.multicall3,
      blockNumber: dstBlock,
      allowFailure: false,
      contracts: [{ address: dst.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [id] }] as const,
    }),
    input.bridge === 'wormhole' ? observeWormholeSends(id, src, dst, srcBlock, dstBlock) : observeLayerZeroSends(id, src, dst, srcBlock, dstBlock),
  ]);
  const facts: RebalanceChainFacts = { from: input.from, to: input.to, amount: input.amount, withdrawn, redeposited, deposited, returnDeposited, ...sends };
  return { facts, balances: deriveFromChain(facts) };
}

/** The bridge part of a rebalance's facts: the forward send (on the source) and the return (on the destination). */
type ObservedSends = Pick<RebalanceChainFacts, 'sent' | 'returned'>;

/** LayerZero: `route.sends(key)` (GUID, amount, nonce), delivery by nonce on the receiving EndpointV2. */
async function observeLayerZeroSends(id: Hex, src: ChainRuntime, dst: ChainRuntime, srcBlock: bigint, dstBlock: bigint): Promise<ObservedSends> {
  const read = (c: ChainRuntime, key: Hex, blockNumber: bigint) => c.clients.publicClient.readContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'sends', args: [key], blockNumber });
  const [fwd, ret] = await Promise.all([read(src, id, srcBlock), read(dst, legKey(id, 'return'), dstBlock)]);
  const delivered = async (send: readonly [Hex, number, bigint, bigint], from: ChainRuntime, to: ChainRuntime) =>
    (await getDeliveryStatus({ clients: to.clients, endpoint: to.contracts.endpoint, receiver: to.contracts.token, srcEid: from.eid, sender: from.contracts.token, nonce: send[3] })).delivered;
  return {
    sent: ZERO32.test(fwd[0]) ? undefined : { amount: fwd[2], guid: fwd[0], delivered: await delivered(fwd, src, dst) },
    returned: ZERO32.test(ret[0]) ? undefined : { amount: ret[2], guid: ret[0], delivered: await delivered(ret, dst, src) },
  };
}

/**
 * Wormhole: `route.wormholeSends(key)` (dst chain, sequence, amount), delivery from the receiving adapter's
 * `receivedOf(key)`, message ids by `wormholeGuid`.
 */
async function observeWormholeSends(id: Hex, src: ChainRuntime, dst: ChainRuntime, srcBlock: bigint, dstBlock: bigint): Promise<ObservedSends> {
  const retKey = legKey(id, 'return');
  const srcWh = wormholeOf(src);
  const dstWh = wormholeOf(dst);
  const side = (c: ChainRuntime, adapter: Hex, sendKey: Hex, receiveKey: Hex, blockNumber: bigint) =>
    c.clients.publicClient.multicall({
      multicallAddress: c.contracts.multicall3,
      blockNumber,
      allowFailure: false,
      contracts: [
        { address: c.contracts.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [sendKey] },
        { address: adapter, abi: wormholeAdapterAbi, functionName: 'receivedOf', args: [receiveKey] },
      ] as const,
    });
  const [[fwd, returnReceived], [ret, fwdReceived]] = await Promise.all([side(src, srcWh.adapter, id, retKey, srcBlock), side(dst, dstWh.adapter, retKey, id, dstBlock)]);
  return {
    sent: fwd[2] === 0n ? undefined : { amount: fwd[2], guid: wormholeGuid(srcWh.chainId, srcWh.adapter, fwd[1]), delivered: fwdReceived > 0n },
    returned: ret[2] === 0n ? undefined : { amount: ret[2], guid: wormholeGuid(dstWh.chainId, dstWh.adapter, ret[1]), delivered: returnReceived > 0n },
  };
}

/** One end of a rebalance with a Solana chain on either side: what its records say, read by family. */
interface EndReader {
  /** Amount withdrawn from (`withdraw`) or deposited into (`deposit`) the vault / reserve under `key` (0 = none). */
  vault(kind: 'withdraw' | 'deposit', key: Hex): Promise<bigint>;
  /** The Wormhole send recorded under `key` on this end, if any: amount and message id. */
  sent(key: Hex): Promise<{ amount: bigint; guid: Hex } | undefined>;
  /** Whether a Wormhole message for `key` was redeemed on this end. */
  received(key: Hex): Promise<boolean>;
}

/** Reads a Solana end from its memo-tagged transfers (activities/solanaLegs.ts), once its slot reached `minSlot`. */
async function solanaEnd(sc: SolanaChainRuntime, minSlot: bigint | undefined): Promise<EndReader> {
  const slot = BigInt(await sc.connection.getSlot(sc.commitment));
  if (minSlot !== undefined && slot < minSlot) {
    throw ApplicationFailure.retryable(`${sc.chainKey}: node answered slot ${slot}, older than slot ${minSlot} already seen by this saga (stale read); retrying`, 'StaleRead');
  }
  const custody = solanaUniversalAddress(sc, 'custody');
  return {
    vault: async (kind, key) => (await solanaReserveTransferOf(sc, kind, key))?.amount ?? 0n,
    sent: async (key) => {
      const t = await solanaSendOf(sc, key);
      return t ? { amount: t.amount, guid: wormholeGuid(sc.wormholeChainId, custody, t.slot) } : undefined;
    },
    received: async (key) => (await solanaRedeemOf(sc, key)) !== undefined,
  };
}

/** Reads an EVM end at one block no older than `minBlock`: vault flows, route Wormhole sends, adapter receipts. */
async function evmEnd(c: ChainRuntime, minBlock: bigint | undefined): Promise<EndReader> {
  const blockNumber = await readBlock(c, minBlock);
  const wh = wormholeOf(c);
  const pc = c.clients.publicClient;
  return {
    vault: (kind, key) => pc.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: kind === 'withdraw' ? 'outflowOf' : 'inflowOf', args: [key], blockNumber }),
    sent: async (key) => {
      const r = await pc.readContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [key], blockNumber });
      return r[2] === 0n ? undefined : { amount: r[2], guid: wormholeGuid(wh.chainId, wh.adapter, r[1]) };
    },
    received: async (key) => (await pc.readContract({ address: wh.adapter, abi: wormholeAdapterAbi, functionName: 'receivedOf', args: [key], blockNumber })) > 0n,
  };
}

/**
 * {@link observeRebalanceFunds} for a rebalance with a Solana end (always over Wormhole): the same facts, read
 * from the EVM end's contracts and the Solana end's memo-tagged transfers.
 */
async function observeWithSolana(ctx: KeeperContext, input: ObserveInput): Promise<{ facts: RebalanceChainFacts; balances: Record<string, bigint> }> {
  const end = (key: string) => {
    const sc = solanaChainOf(ctx, key);
    return sc ? solanaEnd(sc, input.minBlocks[key]) : evmEnd(chainOf(ctx, key), input.minBlocks[key]);
  };
  const [src, dst] = await Promise.all([end(input.from), end(input.to)]);
  const id = input.rebalanceId;
  const retKey = legKey(id, 'return');
  const [withdrawn, redeposited, returnDeposited, deposited, fwd, ret, fwdReceived, retReceived] = await Promise.all([
    src.vault('withdraw', id),
    src.vault('deposit', legKey(id, 'redeposit')),
    src.vault('deposit', legKey(id, 'return-deposit')),
    dst.vault('deposit', id),
    src.sent(id),
    dst.sent(retKey),
    dst.received(id),
    src.received(retKey),
  ]);
  const facts: RebalanceChainFacts = {
    from: input.from,
    to: input.to,
    amount: input.amount,
    withdrawn,
    redeposited,
    deposited,
    returnDeposited,
    sent: fwd ? { ...fwd, delivered: fwdReceived } : undefined,
    returned: ret ? { ...ret, delivered: retReceived } : undefined,
  };
  return { facts, balances: deriveFromChain(facts) };
}

/** A stranded rebalance whose tokens may still be in flight (burned, not minted). */
export interface StrandedInFlight {
  rebalanceId: Hex;
  from: string;
  to: string;
  amount: bigint;
  guid: Hex;
  /** LayerZero nonce, or the Wormhole sequence. */
  nonce: bigint;
  /** `layerzero` (absent: entries from before Wormhole) or `wormhole`. */
  bridge?: string;
}


export interface DeploymentLedger {
  /** Σ over chains of the asset token's totalSupply (base units) at `blocks`. */
  totalSupply: bigint;
  perChain: Record<string, bigint>;
  blocks: Record<string, bigint>;
  /** Stranded amounts still in flight (not delivered) now. */
  inFlightUndelivered: bigint;
  /** The value the deployment opened with (the first check's total when `openingSupply` was not given). */
  openingSupply: bigint;
  balanced: boolean;
  /** What is wrong, to the base unit, when not balanced. */
  where?: string;
}

/**
 * Supply conservation across the deployment (burn-and-mint OFT): Σ totalSupply + stranded in-flight
 * = opening supply, to the base unit. Call only when no saga is mid-flight (the monitor does).
 * Sets `ballast_ledger_mismatch` to 1 when unbalanced, 0 otherwise.
 */
export async function checkDeploymentLedger(ctx: KeeperContext, input: { openingSupply?: bigint; stranded: StrandedInFlight[] }): Promise<DeploymentLedger> {
  const chains = [...ctx.chains.values()];
  const states = await Promise.all(chains.map((c) => readChainState({ clients: c.clients, contracts: c.contracts })));
  const perChain: Record<string, bigint> = {};
  const blocks: Record<string, bigint> = {};
  let totalSupply = 0n;
  states.forEach((s) => {
    perChain[s.chainKey] = s.tokenTotalSupply;
    blocks[s.chainKey] = s.blockNumber;
    totalSupply += s.tokenTotalSupply;
  });
  // A Solana chain counts the mint's supply outside the Wormhole custody (lock-and-release there, burn-and-mint
  // on the EVM chains): a send locks in custody what the EVM side mints, a release frees what it burned.
  for (const sc of ctx.solana?.chains.values() ?? []) {
    const r = await readSolanaChain(sc, undefined);
    perChain[sc.chainKey] = r.state.tokenTotalSupply;
    blocks[sc.chainKey] = r.state.blockNumber;
    totalSupply += r.state.tokenTotalSupply;
  }
  let inFlightUndelivered = 0n;
  for (const r of input.stranded) {
    const dstSc = solanaChainOf(ctx, r.to);
    const delivered = dstSc
      ? (await solanaRedeemOf(dstSc, r.rebalanceId)) !== undefined
      : r.bridge === 'wormhole'
        ? await wormholeDelivered(chainOf(ctx, r.to), r.rebalanceId)
        : await (async () => {
            const src = chainOf(ctx, r.from);
            const dst = chainOf(ctx, r.to);
            return (await getDeliveryStatus({ clients: dst.clients, endpoint: dst.contracts.endpoint, receiver: dst.contracts.token, srcEid: src.eid, sender: src.contracts.token, nonce: r.nonce })).delivered;
          })();
    if (!delivered) inFlightUndelivered += r.amount;
  }
  const openingSupply = input.openingSupply ?? totalSupply + inFlightUndelivered;
  const diff = totalSupply + inFlightUndelivered - openingSupply;
  const balanced = diff === 0n;
  const where = balanced
    ? undefined
    : `supply ${Object.entries(perChain).map(([k, v]) => `${k}=${v}`).join(' ')} + stranded in flight ${inFlightUndelivered} = ${totalSupply + inFlightUndelivered}, opening ${openingSupply} (diff ${diff})`;
  ctx.metrics.ledgerMismatch.set(balanced ? 0 : 1);
  if (!balanced) ctx.log.error({ where }, 'LEDGER MISMATCH: deployment supply not conserved; new rebalances stopped');
  return { totalSupply, perChain, blocks, inFlightUndelivered, openingSupply, balanced, where };
}
