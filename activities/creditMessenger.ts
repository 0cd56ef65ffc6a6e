/**
 * What every capacity leg shares, whatever the bridge: the purposes and inputs of the legs, the message key of a
 * capacity leg, the chain's `CreditMessenger` (discovered from its vault) and the check that what is about to
 * leave a messenger is exactly what the saga expects. The legs: activities/capacity.ts (reserve, restore, apply,
 * locate) and the credit messages of the bridge ends (activities/bridges/layerzeroEvm.ts, wormholeEvm.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Abi, Address, Hex } from 'viem';
import { collateralVaultAbi, creditMessengerAbi, endpointV2Abi } from '../contracts/generated/abis.js';
import { readCreditMessenger, readPendingCredit, readReservation } from '../chains/evm/credit.js';
import type { ChainRuntime } from './context.js';
import { FailureType } from './failures.js';
import { legKey } from './legKey.js';

/** Custom errors our capacity calls can bubble up (vault ↔ messenger ↔ EndpointV2), decoded by name. */
export const creditErrorsAbi: Abi = [...collateralVaultAbi, ...creditMessengerAbi, ...endpointV2Abi].filter((x) => x.type === 'error');

/**
 * Which message a capacity leg acts on: `forward` = the move itself (key = rebalance id); `return` =
 * the compensation sending delivered credit back (key = `legKey(id, 'return')`, which equals the
 * messenger's on-chain `returnKeyOf(id)`).
 */
export type CapacityPurpose = 'forward' | 'return';

/** Input of `reserveCredit`. */
export interface ReserveCreditInput {
  rebalanceId: Hex;
  /** The source chain (its vault reserves). */
  chainKey: string;
  /** Capacity, asset base units. */
  amount: bigint;
}

/** Input of `restoreCredit` (compensation of reserve; acts on the reservation under the rebalance id). */
export interface RestoreCreditInput {
  rebalanceId: Hex;
  chainKey: string;
}

/** Input of `sendCredit`: `forward` sends the reservation from → to; `return` sends credit pending on `from` back to `to`. */
export interface SendCreditInput {
  rebalanceId: Hex;
  purpose: CapacityPurpose;
  from: string;
  to: string;
  /** Expected amount (base units): the send is refused when the chain's record says otherwise. */
  amount: bigint;
}

/** Input of `applyCredit`: `forward` on the destination, `return` on the source (the compensation's restore). */
export interface ApplyCreditInput {
  rebalanceId: Hex;
  purpose: CapacityPurpose;
  chainKey: string;
}

/** Message key of a capacity leg: the rebalance id (`forward`) or `legKey(id, 'return')`. */
export function capacityKey(rebalanceId: Hex, purpose: CapacityPurpose): Hex {
  return legKey(rebalanceId, purpose);
}

const messengers = new WeakMap<ChainRuntime, Promise<Address>>();

/**
 * The `CreditMessenger` of a chain, read once per chain runtime from `vault.creditMessenger()`.
 * @throws non-retryable `ConfigError` when the vault has none (capacity moves disabled there).
 */
export async function messengerOf(c: ChainRuntime): Promise<Address> {
  let p = messengers.get(c);
  if (!p) {
    p = readCreditMessenger(c.clients, c.contracts.vault);
    messengers.set(c, p);
    p.catch(() => messengers.delete(c));
  }
  try {
    return await p;
  } catch (err) {
    if (err instanceof Error && /no credit messenger/.test(err.message)) throw ApplicationFailure.nonRetryable(err.message, FailureType.Config);
    throw err;
  }
}

/**
 * Before a capacity send (either bridge): what is about to leave must be exactly what the saga expects — the
 * vault's reservation (forward) or the messenger's pending credit, which can only go back where it came from
 * (return). @throws the `mismatch` failure (non-retryable `PacketMismatch`) naming the difference.
 */
export async function checkCreditAboutToLeave(src: ChainRuntime, dst: ChainRuntime, messenger: Address, input: SendCreditInput, mismatch: (what: string) => Error): Promise<void> {
  if (input.purpose === 'forward') {
    const res = await readReservation(src.clients, src.contracts.vault, input.rebalanceId);
    if (res.status === 'reserved' && res.amount !== input.amount) throw mismatch(`vault reserved ${res.amount}, the saga expects ${input.amount}`);
  } else {
    const p = await readPendingCredit(src.clients, messenger, input.rebalanceId);
    if (p.status === 'pending' && p.amount !== input.amount) throw mismatch(`messenger holds ${p.amount} pending, the saga expects ${input.amount}`);
    if (p.status === 'pending' && p.srcEid !== dst.eid) throw mismatch(`the credit came from eid ${p.srcEid}, not ${dst.chainKey} (eid ${dst.eid}); it can only go back there`);
  }
}

