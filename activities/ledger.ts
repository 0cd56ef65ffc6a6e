/**
 * Activities of the funds ledger: read what the chains record about a rebalance (to reconcile the
 * saga's ledger after each step) and check the deployment's supply conservation.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Hex } from 'viem';
import { collateralVaultAbi } from '../contracts/generated/abis.js';
import { bridgeEndOf, routeEnds } from './bridges/index.js';
import { readChainState } from '../chains/evm/readChainState.js';
import { deriveFromChain, type RebalanceChainFacts } from '../ledger/ledger.js';
import { chainOf, solanaChainOf, treasuryHolder, type ChainRuntime, type KeeperContext, type SolanaChainRuntime } from './context.js';
import { solanaReserveTransfersOf } from './solanaLegs.js';
import { readSolanaChain } from './solanaSnapshot.js';
import { legKey } from './legKey.js';
import { waitFor } from './waitFor.js';

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

/** How long an audit waits for a node to reach the block (slot) the saga already saw, ms, and how often it asks. */
const STALE_READ_WAIT = { timeoutMs: 10_000, intervalMs: 100 };

/**
 * The block to read a chain at: its latest (asked of the node, never viem's memoized `eth_blockNumber`), which
 * must not be older than what the saga already saw. A node behind `minBlock` (a lagging replica behind a load
 * balancer) is waited for, up to {@link STALE_READ_WAIT}: waiting is not failing.
 * @throws retryable `StaleRead` when the node is still behind `minBlock` after the wait.
 */
export async function readBlock(c: ChainRuntime, minBlock: bigint | undefined): Promise<bigint> {
  let bn = 0n;
  return waitFor(
    async () => {
      bn = await c.clients.publicClient.getBlockNumber({ cacheTime: 0 });
      return minBlock === undefined || bn >= minBlock ? bn : undefined;
    },
    {
      ...STALE_READ_WAIT,
      what: `${c.chainKey}: block ≥ ${minBlock}`,
      onTimeout: () => ApplicationFailure.retryable(`${c.chainKey}: node still at block ${bn} after ${STALE_READ_WAIT.timeoutMs} ms, older than block ${minBlock} already seen by this saga (stale read); retrying`, 'StaleRead'),
    },
  );
}

/**
 * The slot-equivalent of {@link readBlock}: a Solana chain's slot at its configured commitment, waited for (up to
 * {@link STALE_READ_WAIT}) until it reaches `minSlot`, the newest slot the saga already saw there.
 * @throws retryable `StaleRead` when the node is still behind `minSlot` after the wait.
 */
async function readSlot(sc: SolanaChainRuntime, minSlot: bigint | undefined): Promise<bigint> {
  let slot = 0n;
  return waitFor(
    async () => {
      slot = BigInt(await sc.connection.getSlot(sc.commitment));
      return minSlot === undefined || slot >= minSlot ? slot : undefined;
    },
    {
      ...STALE_READ_WAIT,
      what: `${sc.chainKey}: slot ≥ ${minSlot} (${sc.commitment})`,
      onTimeout: () => ApplicationFailure.retryable(`${sc.chainKey}: node still at slot ${slot} after ${STALE_READ_WAIT.timeoutMs} ms, older than slot ${minSlot} already seen by this saga (stale read); retrying`, 'StaleRead'),
    },
  );
}

/** The vault records of one end of a rebalance, by chain family, at the block (slot) read. */
interface VaultReader {
  /** Amount withdrawn from (`withdraw`) or deposited into (`deposit`) the vault / reserve under `key` (0 = none). */
  vault(kind: 'withdraw' | 'deposit', key: Hex): Promise<bigint>;
}

/**
 * A Solana end's reserve transfers (memo-tagged, activities/solanaLegs.ts), once its slot reached `minSlot`.
 * Amounts are the SUM of every transfer recorded under the key: a leg that moved funds twice shows as a ledger
 * mismatch, not as one transfer.
 */
async function solanaVault(sc: SolanaChainRuntime, minSlot: bigint | undefined): Promise<VaultReader & { block: bigint }> {
  const block = await readSlot(sc, minSlot);
  return { block, vault: async (kind, key) => (await solanaReserveTransfersOf(sc, kind, key)).reduce((sum, t) => sum + t.amount, 0n) };
}

/** An EVM end's vault flows (`outflowOf` / `inflowOf`) at one block no older than `minBlock`. */
async function evmVault(c: ChainRuntime, minBlock: bigint | undefined): Promise<VaultReader & { block: bigint }> {
  const blockNumber = await readBlock(c, minBlock);
  const pc = c.clients.publicClient;
  return { block: blockNumber, vault: (kind, key) => pc.readContract({ address: treasuryHolder(c), abi: collateralVaultAbi, functionName: kind === 'withdraw' ? 'outflowOf' : 'inflowOf', args: [key], blockNumber }) };
}

/**
 * Reads every on-chain record of one rebalance at one block (slot) per chain, no older than `minBlocks`: the
 * vault flows by chain family (EVM `outflowOf`/`inflowOf`, Solana memo-tagged reserve transfers) and the bridge
 * records through the Bridge port (activities/bridges/: each end's `reader`: the forward send on the source, the
 * return on the destination, and whether each was delivered). Returns the facts and the ledger balances they
 * imply. @throws retryable `StaleRead` when a node is still behind what the saga already saw after a bounded wait
 * ({@link readBlock}); ConfigError for a bridge that does not run on an end's chain family.
 */
export async function observeRebalanceFunds(ctx: KeeperContext, input: ObserveInput): Promise<{ facts: RebalanceChainFacts; balances: Record<string, bigint> }> {
  const vaultOf = (key: string) => {
    const sc = solanaChainOf(ctx, key);
    return sc ? solanaVault(sc, input.minBlocks[key]) : evmVault(chainOf(ctx, key), input.minBlocks[key]);
  };
  const [src, dst] = await Promise.all([vaultOf(input.from), vaultOf(input.to)]);
  const srcBridge = bridgeEndOf(ctx, input.bridge, input.from).reader(ctx, input.from, src.block);
  const dstBridge = bridgeEndOf(ctx, input.bridge, input.to).reader(ctx, input.to, dst.block);
  const id = input.rebalanceId;
  const retKey = legKey(id, 'return');
  const [withdrawn, redeposited, returnDeposited, deposited, fwd, ret] = await Promise.all([
    src.vault('withdraw', id),
    src.vault('deposit', legKey(id, 'redeposit')),
    src.vault('deposit', legKey(id, 'return-deposit')),
    dst.vault('deposit', id),
    srcBridge.sent(id),
    dstBridge.sent(retKey),
  ]);
  const [fwdReceived, retReceived] = await Promise.all([fwd ? dstBridge.received(id, input.from, fwd) : false, ret ? srcBridge.received(retKey, input.to, ret) : false]);
  const facts: RebalanceChainFacts = {
    from: input.from,
    to: input.to,
    amount: input.amount,
    withdrawn,
    redeposited,
    deposited,
    returnDeposited,
    sent: fwd ? { amount: fwd.amount, guid: fwd.guid, delivered: fwdReceived } : undefined,
    returned: ret ? { amount: ret.amount, guid: ret.guid, delivered: retReceived } : undefined,
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
  /** The send's leg key (absent: the rebalance id, the forward send's key; a return's is `legKey(id, 'return')`). */
  key?: Hex;
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
  const states = await Promise.all(chains.map((c) => readChainState({ clients: c.clients, contracts: c.contracts, aave: c.aave })));
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
    const { dst } = routeEnds(ctx, r.bridge, r.from, r.to);
    const { delivered } = await dst.locate(ctx, { from: r.from, to: r.to, guid: r.guid, nonce: r.nonce, key: r.key ?? r.rebalanceId });
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
