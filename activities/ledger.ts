/**
 * Activities of the funds ledger: read what the chains record about a rebalance (to reconcile the
 * saga's ledger after each step) and check the deployment's conservation: the token supply and the treasury's books.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Hex } from 'viem';
import { collateralVaultAbi } from '../contracts/generated/abis.js';
import { bridgeEndOf, routeEnds } from './bridges/index.js';
import { readLedgerChain } from '../chains/evm/ledgerReads.js';
import { checkTreasuryLedger, type AllocatorReading, type SolanaOpening, type SolanaTreasuryReading, type TreasuryLedger, type VaultReading } from '../ledger/treasury.js';
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


/** The deployment ledger: supply conservation (the token's terms) and the treasury section (the treasury's terms). */
export interface DeploymentLedger {
  /** Σ over chains of the asset token's totalSupply (base units) at `blocks`. */
  totalSupply: bigint;
  perChain: Record<string, bigint>;
  blocks: Record<string, bigint>;
  /** Stranded amounts still in flight (not delivered) now. */
  inFlightUndelivered: bigint;
  /** The value the deployment opened with (the first check's total when `openingSupply` was not given). */
  openingSupply: bigint;
  /** Supply conservation holds (the treasury section has its own verdict, `treasury.balanced` / `treasury.halts`). */
  balanced: boolean;
  /** What is wrong, to the base unit, when not balanced. */
  where?: string;
  /**
   * The treasury's books (ledger/treasury.ts `checkTreasuryLedger`: per-chain positions, principal / interest /
   * rounding dust on Aave chains, the allocator counter identity and the keeper-flow conservation), read at the same
   * blocks. Absent in results recorded before it existed.
   */
  treasury?: TreasuryLedger;
}

/** What the monitor passes to {@link checkDeploymentLedger}. */
export interface DeploymentLedgerInput {
  /** The supply the deployment opened with (base units); absent = open it now from the chains. */
  openingSupply?: bigint;
  /** Stranded sagas whose tokens may still be in flight. */
  stranded: StrandedInFlight[];
  /**
   * The treasury check's state: `acceptedDiff` = the keeper-flow difference an operator acknowledged (signed base
   * units, default 0); `reopen` = acknowledge the difference found now (the first check after `ballast resume`);
   * `solanaOpening` = per Solana chain the reserve's `supplied` (base units) and slot at the check that opened it,
   * its keeper flows' derived figure (ledger/treasury.ts; `{}` = open every Solana chain now; absent = Solana not
   * counted). The result's `treasury.solanaOpening` is what to pass next time.
   */
  treasury?: { acceptedDiff?: bigint; reopen?: boolean; solanaOpening?: Record<string, SolanaOpening> };
}

/**
 * The deployment's conservation, to the base unit, when no saga is mid-flight (the monitor calls it only then):
 * - supply (burn-and-mint OFT): Σ totalSupply + stranded in-flight = opening supply;
 * - the treasury's books (ledger/treasury.ts): per Aave chain the allocator's principal against its counters, and
 *   over every treasury holder Σ keeper net outflow = Σ route balances + stranded in flight (+ the acknowledged
 *   difference), the net outflow a counter on EVM chains (allocator and vault: cumulativeWithdrawnToRoute −
 *   cumulativeDepositedFromRoute) and derived on Solana (opening supplied − supplied, with `treasury.solanaOpening`);
 *   interest and rounding dust reported per chain, never in the checks.
 * Reads: ONE multicall per EVM chain (chains/evm/ledgerReads.ts: block, supply, route balance, the holder's books),
 * one `getMultipleAccountsInfo` per Solana chain, all in parallel, and a delivery lookup per stranded send just
 * before and just after them (a send delivered in between would be in no term: the chains are read again, up to
 * {@link LEDGER_READ_ATTEMPTS} times). Sets `ballast_ledger_mismatch` to 1 when the supply is unbalanced or a
 * treasury finding halts, 0 otherwise; logs every finding (error when it halts, warn when only reported).
 * @throws RpcUnreachableError / PartialReadError / SolanaReadError when a chain cannot be read (the tick is skipped);
 *   retryable `LedgerReadRace` when stranded sends kept being delivered during the reads.
 */
export async function checkDeploymentLedger(ctx: KeeperContext, input: DeploymentLedgerInput): Promise<DeploymentLedger> {
  // Which stranded sends are delivered, looked up before AND after the reads: a send delivered in between (the
  // relayer finishing a late packet) would be counted neither in flight nor on its destination, a false mismatch;
  // then everything is read again (LayerZero's delivery evidence cannot be pinned to the block read).
  const locate = () =>
    Promise.all(
      input.stranded.map(async (r) => {
        const { dst } = routeEnds(ctx, r.bridge, r.from, r.to);
        return (await dst.locate(ctx, { from: r.from, to: r.to, guid: r.guid, nonce: r.nonce, key: r.key ?? r.rebalanceId })).delivered;
      }),
    );
  for (let attempt = 1; ; attempt++) {
    const before = await locate();
    const chains = await readDeploymentChains(ctx);
    const after = await locate();
    if (before.every((d, i) => d === after[i])) {
      const inFlightUndelivered = input.stranded.reduce((sum, r, i) => (after[i] ? sum : sum + r.amount), 0n);
      return deploymentLedgerOf(ctx, input, chains, inFlightUndelivered);
    }
    if (attempt >= LEDGER_READ_ATTEMPTS) throw ApplicationFailure.retryable(`a stranded send was delivered while the deployment ledger read the chains, ${attempt} times in a row; retrying`, 'LedgerReadRace');
  }
}

/** How many times {@link checkDeploymentLedger} reads again when a stranded send is delivered during its reads. */
const LEDGER_READ_ATTEMPTS = 3;

/** Every chain's ledger figures: one multicall per EVM chain and one account read per Solana chain, in parallel. */
async function readDeploymentChains(ctx: KeeperContext) {
  const [reads, solanaReads] = await Promise.all([
    Promise.all([...ctx.chains.values()].map((c) => readLedgerChain({ clients: c.clients, contracts: c.contracts, ...(c.aave ? { allocator: c.aave.holder } : {}) }))),
    Promise.all([...(ctx.solana?.chains.values() ?? [])].map((sc) => readSolanaChain(sc, undefined))),
  ]);
  const perChain: Record<string, bigint> = {};
  const blocks: Record<string, bigint> = {};
  let totalSupply = 0n;
  const allocators: AllocatorReading[] = [];
  const vaults: VaultReading[] = [];
  for (const r of reads) {
    perChain[r.chainKey] = r.tokenTotalSupply;
    blocks[r.chainKey] = r.blockNumber;
    totalSupply += r.tokenTotalSupply;
    if (r.allocator) allocators.push({ chainKey: r.chainKey, block: r.blockNumber, routeBalance: r.routeBalance, ...r.allocator });
    if (r.vault) {
      const { keeperFlows, ...books } = r.vault;
      vaults.push({ chainKey: r.chainKey, block: r.blockNumber, routeBalance: r.routeBalance, ...books, ...(keeperFlows ?? {}) });
    }
  }
  // A Solana chain counts the mint's supply outside the Wormhole custody (lock-and-release there, burn-and-mint
  // on the EVM chains): a send locks in custody what the EVM side mints, a release frees what it burned.
  const solana: SolanaTreasuryReading[] = [];
  for (const r of solanaReads) {
    perChain[r.state.chainKey] = r.state.tokenTotalSupply;
    blocks[r.state.chainKey] = r.state.blockNumber;
    totalSupply += r.state.tokenTotalSupply;
    solana.push({ chainKey: r.state.chainKey, slot: r.read.slot, supplied: r.read.supplied, borrowed: r.read.borrowed, reserveLiquidity: r.read.reserveLiquidity, keeperAccount: r.read.treasury });
  }
  return { perChain, blocks, totalSupply, allocators, vaults, solana };
}

/** Both checks on the figures read, the metric and the log lines (see {@link checkDeploymentLedger}). */
function deploymentLedgerOf(ctx: KeeperContext, input: DeploymentLedgerInput, chains: Awaited<ReturnType<typeof readDeploymentChains>>, inFlightUndelivered: bigint): DeploymentLedger {
  const { perChain, blocks, totalSupply, allocators, vaults, solana } = chains;
  const openingSupply = input.openingSupply ?? totalSupply + inFlightUndelivered;
  const diff = totalSupply + inFlightUndelivered - openingSupply;
  const balanced = diff === 0n;
  const where = balanced
    ? undefined
    : `supply ${Object.entries(perChain).map(([k, v]) => `${k}=${v}`).join(' ')} + stranded in flight ${inFlightUndelivered} = ${totalSupply + inFlightUndelivered}, opening ${openingSupply} (diff ${diff})`;
  const treasury = checkTreasuryLedger({ allocators, vaults, solana, inFlightUndelivered, acceptedDiff: input.treasury?.acceptedDiff, reopen: input.treasury?.reopen, solanaOpening: input.treasury?.solanaOpening });
  for (const s of treasury.solana) {
    if (s.openedNow) ctx.log.info({ chain: s.chainKey, supplied: s.supplied.toString(), slot: s.slot.toString() }, 'treasury ledger: Solana reserve opened (its keeper flows are derived from supplied at this slot)');
  }
  ctx.metrics.ledgerMismatch.set(balanced && !treasury.halts ? 0 : 1);
  if (!balanced) ctx.log.error({ where }, 'LEDGER MISMATCH: deployment supply not conserved; new rebalances stopped');
  for (const f of treasury.findings) {
    if (f.halts) ctx.log.error({ chain: f.chainKey, kind: f.kind, diff: f.diff.toString(), where: f.text }, 'TREASURY LEDGER MISMATCH: the treasury\'s books do not add up; new rebalances stopped');
    else ctx.log.warn({ chain: f.chainKey, kind: f.kind, diff: f.diff.toString(), where: f.text }, 'treasury ledger: a difference reported (not halting)');
  }
  return { totalSupply, perChain, blocks, inFlightUndelivered, openingSupply, balanced, ...(where ? { where } : {}), treasury };
}
