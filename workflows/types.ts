/**
 * Inputs and results of the workflows (plain data, bigint amounts).
 */
import type { Hex } from 'viem';
import type { FundsLocation, RebalanceOutcome } from '../activities/types.js';
import type { InFlight, Snapshot } from '../planner/types.js';
import type { Ledger } from '../ledger/ledger.js';
import type { MonitorStatus } from './messages.js';
import type { CapsState } from './caps.js';
import type { CapsContext } from '../activities/caps.js';
import type { MandatesState } from './mandates.js';

export interface RebalanceInput {
  rebalanceId: Hex;
  from: string;
  to: string;
  /** Base units. */
  amount: bigint;
  reason: string;
  /** How long the deliver leg waits for the bridge before the saga escalates (seconds). */
  deliveryDeadlineSec: number;
  /** Workflow id of the monitor to notify at the end (optional: a saga can be started by hand). */
  monitorWorkflowId?: string;
  /** `layerzero` (default) or `wormhole`: the bridge of the send, its delivery and any return. */
  bridge?: string;
  /**
   * How long one ledger reconciliation may retry its chain reads before it counts as unavailable, seconds
   * (default 600). An unavailable audit is recorded (`unauditedSteps`), never a leg failure.
   */
  auditDeadlineSec?: number;
  /**
   * How long a write leg whose outcome is unknown (its transaction may still land) is settled before the saga ends
   * `stranded` naming it, seconds (default 600).
   */
  settleDeadlineSec?: number;
  /** Heartbeat timeout of the saga's write and delivery activities, seconds (default 10: a killed worker's leg is retried after it). */
  heartbeatTimeoutSec?: number;
}

/** One leg or compensation as it happened. */
export interface LegRecord {
  leg: 'withdraw' | 'send' | 'deliver' | 'deposit' | 'redeposit' | 'return' | 'return-deliver' | 'return-deposit';
  kind: 'leg' | 'compensation';
  status: 'ok' | 'failed';
  /** EVM transaction hash or Solana signature. */
  txHash?: string;
  alreadyDone?: boolean;
  error?: string;
  atMs: number;
}

export interface RebalanceResult {
  rebalanceId: Hex;
  outcome: RebalanceOutcome;
  from: string;
  to: string;
  amount: bigint;
  legs: LegRecord[];
  /** The bridge the move went over (`layerzero` | `wormhole`). */
  bridge?: string;
  /** LayerZero GUID, or for Wormhole the message id `keccak256(chain, emitter, sequence)`. */
  guid?: Hex;
  nonce?: bigint;
  /** The compensation's return message (GUID or Wormhole message id), once one was sent. */
  returnGuid?: Hex;
  /** The return message's LayerZero nonce or Wormhole sequence. */
  returnNonce?: bigint;
  /** Native fees paid over every send of this saga, wei. */
  feePaidWei: bigint;
  /** Why the saga did not complete (for compensated and stranded). */
  reason?: string;
  /** Where the funds are, for a stranded saga. */
  fundsLocation?: FundsLocation;
  durationSec: number;
  /** The saga's funds ledger at the end: where every base unit of `amount` is. */
  ledger: Ledger;
  /** Set when the ledger disagreed with the chain: which accounts, expected vs observed. */
  ledgerMismatch?: string;
  /** Steps after which the ledger could not be read back from the chains (the outcome stands on the legs). */
  unauditedSteps?: string[];
}

export interface MonitorInput {
  deployment: string;
  tickIntervalSec: number;
  /** Continue-as-new after this many ticks (keeps history small). */
  maxTicksBeforeContinueAsNew: number;
  deliveryDeadlineSec: number;
  /** State carried across continue-as-new. */
  carried?: {
    status: MonitorStatus;
    lastSnapshot?: Snapshot;
    /** Run-time caps set by the risk team (absent in histories recorded before caps existed). */
    caps?: CapsState;
    /** The config's policies and cap rules as last read (so the caps are known before the new run's first tick). */
    capsContext?: CapsContext;
    /** LP mandates and attribution (absent in histories recorded before mandates existed). */
    lp?: MandatesState;
  };
}

export type { InFlight };
