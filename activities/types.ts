/**
 * Inputs and results of the activities: plain data (bigint amounts) that cross the Temporal boundary.
 */
import type { Hex } from 'viem';
import type { Transfer } from '../planner/types.js';

/**
 * Which step of a saga an on-chain action belongs to. Each purpose gets its own on-chain key
 * (see `legKey`), so the forward deposit and a compensation's deposit can never collide.
 * - `forward`: the move itself (withdraw, send, deposit).
 * - `redeposit`: compensation of withdraw (tokens back from the source route into the source vault).
 * - `return`: compensation of deposit: send back over the same bridge.
 * - `return-deposit`: the returned tokens deposited into the source vault.
 */
export type LegPurpose = 'forward' | 'redeposit' | 'return' | 'return-deposit';

/**
 * A transfer the plan asks for, with its deterministic rebalance id and the bridge it goes over
 * (`layerzero`, `wormhole`, …: the name of config `bridges.<name>`). `fee` (base units: the quoted native
 * fee converted into the asset plus the bridge's proportional fee) and `latencySec` are the optimal
 * planner's estimate; the greedy planner does not quote and leaves them out.
 */
export interface PlannedTransfer extends Transfer {
  rebalanceId: Hex;
  bridge: string;
  fee?: bigint;
  latencySec?: number;
  /**
   * Wormhole only: how long the saga's `deliver` waits before `stranded`, seconds (config `wormhole.deliveryDeadlineSec`).
   * Absent: the monitor's (`layerzero.deliveryDeadlineSec`), as in every plan recorded before it existed.
   */
  deliveryDeadlineSec?: number;
}

export interface VaultLegInput {
  rebalanceId: Hex;
  purpose: LegPurpose;
  chainKey: string;
  /** Base units. */
  amount: bigint;
}

export interface LegResult {
  /** The key the contracts recorded this action under. */
  legKey: Hex;
  /**
   * Transaction id: an EVM transaction hash (0x…) or a Solana transaction signature (base58); undefined when the
   * chain showed the action already done (idempotent retry).
   */
  txHash?: string;
  alreadyDone: boolean;
  blockNumber: bigint;
}

export interface SendInput {
  rebalanceId: Hex;
  purpose: 'forward' | 'return';
  from: string;
  to: string;
  amount: bigint;
  /** `layerzero` (default) or `wormhole`. */
  bridge?: string;
}

export interface SendResult extends LegResult {
  /** LayerZero GUID, or for Wormhole the message's `wormholeGuid` (activities/wormholeLegs.ts). */
  guid: Hex;
  /** LayerZero outbound nonce of the packet (source EndpointV2, per path); for Wormhole the sequence. */
  nonce: bigint;
  /** Native fee paid, wei. */
  nativeFeeWei: bigint;
}

export interface DeliveryInput {
  from: string;
  to: string;
  /** LayerZero GUID, or a Wormhole message's `wormholeGuid`. */
  guid: Hex;
  /** LayerZero outbound nonce, or the Wormhole sequence. */
  nonce: bigint;
  /** `layerzero` (default) or `wormhole`. */
  bridge?: string;
  /** The send's leg key (Wormhole: the adapter records the mint under it). */
  key?: Hex;
}

export interface DeliveryResult {
  guid: Hex;
  deliveredAtBlock: bigint;
  /** The destination transaction that executed the packet or redeemed the VAA, when found (EVM hash or Solana signature). */
  txHash?: string;
}

/** Where the funds of a rebalance are, as far as the chains show. */
export interface FundsLocation {
  summary: string;
  sourceRouteBalance: bigint;
  destinationRouteBalance: bigint;
  guid?: Hex;
  delivered?: boolean;
  verified?: boolean;
}

export type RebalanceOutcome = 'completed' | 'compensated' | 'stranded';
