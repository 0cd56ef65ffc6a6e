/**
 * Activities of the capacity ledger: read what the chains record about one capacity move (to reconcile
 * the saga's capacity ledger after each step, like `observeRebalanceFunds`) and check the deployment's
 * capacity conservation (like `checkDeploymentLedger` for the token supply).
 */
import type { Hex } from 'viem';
import { collateralVaultAbi, creditMessengerAbi } from '../contracts/generated/abis.js';
import { PENDING_STATUS, RESERVATION_STATUS, readCreditState, wormholeMessageId } from '../chains/evm/credit.js';
import { checkCapacityConservation, deriveCapacityFromChain, type CapacityChainFacts, type CapacityConservation } from '../ledger/credit.js';
import { capacityKey, messengerOf } from './capacity.js';
import { chainOf, type KeeperContext } from './context.js';
// The block each chain is read at: its latest, waited for (bounded) until it reaches what the saga already saw.
import { readBlock } from './ledger.js';

const ZERO32 = /^0x0{64}$/;

/** Input of {@link observeCapacityFunds}. */
export interface ObserveCapacityInput {
  rebalanceId: Hex;
  from: string;
  to: string;
  amount: bigint;
  /** Per chain, the lowest block the read may be at: the newest block a leg of this saga reached there. */
  minBlocks: Record<string, bigint>;
}

const reservationStatus = (n: number) => RESERVATION_STATUS[n] ?? 'none';
const pendingStatus = (n: number) => PENDING_STATUS[n] ?? 'none';

/**
 * Reads every on-chain record of one capacity move (source reservation, both messengers' sends over
 * either bridge — a Wormhole message is identified as `wormhole/<chain>/<emitter>/<sequence>` — and
 * pending credit, both vaults' applied credit) in one multicall per chain at one block no older than
 * `minBlocks`, and returns the facts and the capacity-ledger balances they imply (`deriveCapacityFromChain`).
 * @throws retryable `StaleRead` when a node is still behind what the saga already saw after a bounded wait.
 */
export async function observeCapacityFunds(ctx: KeeperContext, input: ObserveCapacityInput): Promise<{ facts: CapacityChainFacts; balances: Record<string, bigint> }> {
  const src = chainOf(ctx, input.from);
  const dst = chainOf(ctx, input.to);
  const [srcM, dstM, srcBlock, dstBlock] = await Promise.all([messengerOf(src), messengerOf(dst), readBlock(src, input.minBlocks[src.chainKey]), readBlock(dst, input.minBlocks[dst.chainKey])]);
  const id = input.rebalanceId;
  const ret = capacityKey(id, 'return');
  const [srcReads, dstReads] = await Promise.all([
    src.clients.publicClient.multicall({
      multicallAddress: src.contracts.multicall3,
      blockNumber: srcBlock,
      allowFailure: false,
      contracts: [
        { address: src.contracts.vault, abi: collateralVaultAbi, functionName: 'creditReservations', args: [id] },
        { address: srcM, abi: creditMessengerAbi, functionName: 'sends', args: [id] },
        { address: srcM, abi: creditMessengerAbi, functionName: 'pendingCredit', args: [ret] },
        { address: src.contracts.vault, abi: collateralVaultAbi, functionName: 'appliedCreditOf', args: [ret] },
        { address: srcM, abi: creditMessengerAbi, functionName: 'wormholeSends', args: [id] },
        { address: srcM, abi: creditMessengerAbi, functionName: 'wormholeChainId' },
      ] as const,
    }),
    dst.clients.publicClient.multicall({
      multicallAddress: dst.contracts.multicall3,
      blockNumber: dstBlock,
      allowFailure: false,
      contracts: [
        { address: dstM, abi: creditMessengerAbi, functionName: 'pendingCredit', args: [id] },
        { address: dst.contracts.vault, abi: collateralVaultAbi, functionName: 'appliedCreditOf', args: [id] },
        { address: dstM, abi: creditMessengerAbi, functionName: 'sends', args: [ret] },
        { address: dstM, abi: creditMessengerAbi, functionName: 'wormholeSends', args: [ret] },
        { address: dstM, abi: creditMessengerAbi, functionName: 'wormholeChainId' },
      ] as const,
    }),
  ]);
  const [reservation, fwdSend, pendingAtSource, returnApplied, fwdWh, srcWhChain] = srcReads;
  const [pendingAtDestination, applied, retSend, retWh, dstWhChain] = dstReads;
  /** The message sent under a key over either bridge: LayerZero GUID, or the Wormhole message id. */
  const sentOf = (lz: readonly [Hex, number, bigint, bigint], wh: readonly [number, number, bigint, bigint], whChain: number, messenger: Hex) =>
    !(lz[2] === 0n && ZERO32.test(lz[0])) ? { amount: lz[2], guid: lz[0] as string } : wh[3] !== 0n ? { amount: wh[3], guid: wormholeMessageId(whChain, messenger, wh[2]) } : undefined;
  const facts: CapacityChainFacts = {
    from: input.from,
    to: input.to,
    amount: input.amount,
    reservation: { amount: reservation[0], status: reservationStatus(reservation[1]) },
    sent: sentOf(fwdSend, fwdWh, srcWhChain, srcM),
    pendingAtDestination: { amount: pendingAtDestination[0], status: pendingStatus(pendingAtDestination[2]) },
    applied,
    returned: sentOf(retSend, retWh, dstWhChain, dstM),
    pendingAtSource: { amount: pendingAtSource[0], status: pendingStatus(pendingAtSource[2]) },
    returnApplied,
  };
  return { facts, balances: deriveCapacityFromChain(facts) };
}

/** Result of {@link checkCapacityLedger}: the conservation check plus what each chain read and at which block. */
export interface DeploymentCapacityLedger extends CapacityConservation {
  perChain: Record<string, { borrowLimit: bigint; reservedCredit: bigint; sent: bigint; received: bigint; pending: bigint; orphaned: bigint }>;
  blocks: Record<string, bigint>;
}

/**
 * Capacity conservation across the deployment (every configured chain): Σ borrowLimit + reserved +
 * in flight + pending + orphaned = `openingCapacity` (the first check's total when not given).
 * Call only when no capacity move is mid-flight. Sets `ballast_ledger_mismatch` to 1 when unbalanced
 * (never back to 0: the supply check owns clearing it).
 */
export async function checkCapacityLedger(ctx: KeeperContext, input: { openingCapacity?: bigint } = {}): Promise<DeploymentCapacityLedger> {
  const chains = [...ctx.chains.values()];
  const states = await Promise.all(
    chains.map(async (c) => readCreditState({ clients: c.clients, multicall3: c.contracts.multicall3, vault: c.contracts.vault, messenger: await messengerOf(c) })),
  );
  const perChain: DeploymentCapacityLedger['perChain'] = {};
  const blocks: Record<string, bigint> = {};
  const totals = states.map((s) => {
    const t = { borrowLimit: s.borrowLimit, reservedCredit: s.reservedCredit, ...s.messengerTotals };
    perChain[s.chainKey] = t;
    blocks[s.chainKey] = s.blockNumber;
    return { chainKey: s.chainKey, ...t };
  });
  const result = checkCapacityConservation(totals, input.openingCapacity);
  if (!result.balanced) {
    ctx.metrics.ledgerMismatch.set(1);
    ctx.log.error({ where: result.where }, 'LEDGER MISMATCH: deployment lending capacity not conserved');
  }
  return { ...result, perChain, blocks };
}
