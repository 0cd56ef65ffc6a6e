/**
 * The Bridge port: what the collateral saga needs of a bridge, one module per bridge end (a bridge on one chain
 * family), chosen in one place (activities/bridges/index.ts):
 *
 *   layerzeroEvm.ts    LayerZero v2 between EVM chains (the route's OFT; EndpointV2 delivery by nonce)
 *   wormholeEvm.ts     Wormhole on an EVM chain (the token's WormholeAdapter publishes and redeems VAAs)
 *   wormholeSolana.ts  Wormhole on a Solana chain (the custody: sends into it, releases from it)
 *
 * A route is its source end's `send` and its destination end's `awaitDelivery` (EVM → Solana over Wormhole is
 * wormholeEvm's send and wormholeSolana's delivery). A new bridge is one new module implementing
 * {@link BridgeEnd} and one line in index.ts; the saga (workflows/moveSaga.ts) does not change.
 * The legs are idempotent (keyed by `legKey(rebalanceId, purpose)`, the chain read before acting).
 */
import type { Hex } from 'viem';
import type { KeeperContext } from '../context.js';
import type { DeliveryResult, SendInput, SendResult } from '../types.js';

/** The bridges (config `bridges.<name>`, `RebalanceInput.bridge`). */
export type BridgeName = 'layerzero' | 'wormhole';

/** A chain family: how a chain is read and written. */
export type ChainFamily = 'evm' | 'solana';

/** A message of a saga as a delivery, locate or observe sees it: ends, id, nonce (or sequence) and leg key. */
export interface BridgeMessage {
  /** The chain it was sent from. */
  from: string;
  /** The chain it goes to (this end, for delivery and locate). */
  to: string;
  /** Ledger id: LayerZero GUID or the Wormhole message id (chains/wormhole/messageId.ts). */
  guid: Hex;
  /** LayerZero outbound nonce or Wormhole sequence. */
  nonce: bigint;
  /** The send's leg key (`legKey(rebalanceId, purpose)`). */
  key: Hex;
}

/** A send as the chain records it under its leg key. Amounts in base units. */
export interface RecordedSend {
  amount: bigint;
  guid: Hex;
  nonce: bigint;
}

/** The bridge records of one end at one block (slot): what the saga's ledger audit reads. */
export interface BridgeEndReader {
  /** Every send recorded under `key` on this end (more than one amount summed: a double send shows). */
  sent(key: Hex): Promise<RecordedSend | undefined>;
  /** Whether the message `sent` (from chain `from`, under `key`) was delivered on this end. */
  received(key: Hex, from: string, sent: RecordedSend): Promise<boolean>;
}

/** One bridge on one chain family. Errors: retryable unless the chain refused for good (`ContractRevert`, `ConfigError`). */
export interface BridgeEnd {
  readonly bridge: BridgeName;
  readonly family: ChainFamily;
  /**
   * Leg `send` (and the compensation `return`) from `input.from` (a chain of this end) to `input.to`: at most
   * once per leg key. `nonce` of the result is the LayerZero nonce or the Wormhole sequence; `guid` the ledger id.
   */
  send(ctx: KeeperContext, input: SendInput): Promise<SendResult>;
  /**
   * Leg `deliver` (and `return-deliver`) onto `m.to` (a chain of this end): done once the chain shows the message
   * delivered (redeeming it first where the keeper relays, e.g. a Wormhole VAA). Until then it throws a retryable
   * `DeliveryPending` / `VaaPending` after a bounded wait.
   */
  awaitDelivery(ctx: KeeperContext, m: BridgeMessage): Promise<DeliveryResult>;
  /** Whether `m` is delivered on `m.to` (this end), and one phrase saying so, for a stranded saga's location. */
  locate(ctx: KeeperContext, m: BridgeMessage): Promise<{ delivered: boolean; verified?: boolean; summary: string }>;
  /** The records of chain `chainKey` (this end) at `block` (EVM block or Solana slot, already waited for). */
  reader(ctx: KeeperContext, chainKey: string, block: bigint): BridgeEndReader;
}
