/**
 * Activity doubles for the sagas (`rebalanceWorkflow`, `capacityMoveWorkflow`), registered under the real
 * activity names (activities/index.ts, activities/capacity.ts) with the real input and result types, for
 * workflow tests on Temporal's time-skipping test server (test/workflows/timeSkipping.ts).
 *
 * Each double acts on a small model of the two chains' records of one saga — the same facts the real
 * `observeRebalanceFunds` / `observeCapacityFunds` read (`RebalanceChainFacts`, `CapacityChainFacts`) —
 * so the saga's ledger reconciles against what its legs did, exactly as on real chains:
 * - writes are idempotent on the record (a retry after the write landed answers `alreadyDone: true`);
 * - a message arrives `arrival` ms of SERVER time after its send (never, with `'never'`): LayerZero's
 *   executor delivers on its own (the chain may be ahead of the saga), a Wormhole VAA is served then and
 *   redeemed by the deliver leg; until then the wait throws the real retryable `DeliveryPending` / `VaaPending`;
 * - a fault (per leg, per attempt) throws what the real activity throws: a revert goes through the real
 *   `classified` (activities/failures.ts) as the non-retryable `ContractRevert`; anything else is retryable;
 * - `onLeg` hooks change the chain after a leg (someone else acting on chain: a ledger mismatch).
 * Every call is recorded (activity, leg, input, attempt, server time, result), so tests assert which legs
 * ran, with which keys, how often. Time is the server's (the time-skipping clock, read at each call), never
 * the wall clock. One scenario at a time: tests on one environment run one after the other.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { keccak256, toHex, type Address, type Hex } from 'viem';
import type { Activities } from '../../activities/index.js';
import type { CapsContext } from '../../activities/caps.js';
import type { ApplyCreditInput, CreditLocation, FetchCreditVaaInput, RedeemCreditVaaInput, ReserveCreditInput, RestoreCreditInput, SendCreditInput, WormholeCreditSendResult } from '../../activities/capacity.js';
import type { ObserveCapacityInput } from '../../activities/capacityLedger.js';
import type { ObserveInput } from '../../activities/ledger.js';
import type { DeliveryInput, DeliveryResult, FundsLocation, LegResult, SendInput, SendResult, VaultLegInput } from '../../activities/types.js';
import type { FetchedVaa } from '../../activities/wormholeVaa.js';
import { classified, FailureType } from '../../activities/failures.js';
import { legKey } from '../../activities/legKey.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { wormholeMessageId } from '../../chains/evm/credit.js';
import { ContractRevertError } from '../../chains/evm/errors.js';
import { deriveFromChain, type LedgerMismatch, type RebalanceChainFacts } from '../../ledger/ledger.js';
import { deriveCapacityFromChain, type CapacityChainFacts } from '../../ledger/credit.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { payloadConverter } from '../../workflows/payloadConverter.js';
import { workflowsPath } from '../../keeper/worker.js';
import { loadWorkflowBundle } from '../../keeper/workflowBundle.js';
import { createTimeSkippingEnv } from './timeSkipping.js';

// ---------------------------------------------------------------------------------------------------------
// Faults

/** What a fault throws: an error before the write, or after it landed (`afterWrite`: the receipt wait failed). */
export type Thrown = Error | { error: Error; afterWrite: true };
/** Decides, per attempt of one leg, whether it fails (undefined: it runs normally). `atMs` is server time. */
export type Fault = (c: { attempt: number; atMs: number }) => Thrown | undefined;

/** A decoded revert, as `simulateAndWrite` raises it (`<chain>: <fn> reverted: <Error>()`): non-retryable once classified. */
export const revert = (chainKey: string, functionName: string, errorName: string) => (): Error =>
  new ContractRevertError(chainKey, functionName, errorName, [], `${chainKey}: ${functionName} reverted: ${errorName}()`);
/** A transport error (RPC down, timeout): retryable with the activity's policy. */
export const transient = (message: string) => (): Error => new Error(message);
/** Every attempt fails with `make()`. */
export const always = (make: () => Error): Fault => () => make();
/** The first `n` attempts fail with `make()`, later ones run. */
export const firstAttempts = (n: number, make: () => Error): Fault => ({ attempt }) => (attempt <= n ? make() : undefined);
/** The first `n` attempts write (the chain records the action), then fail with `make()` (a lost receipt). */
export const afterWrite = (n: number, make: () => Error): Fault => ({ attempt }) => (attempt <= n ? { error: make(), afterWrite: true } : undefined);

// ---------------------------------------------------------------------------------------------------------
// The call log

/** One activity call (one attempt) as a double saw it. */
export interface Call {
  activity: string;
  /** The saga leg it belongs to (`withdraw`, `return-deliver`, `reserve`, …), for legs and compensations. */
  leg?: string;
  input: unknown;
  attempt: number;
  /** Server time the attempt ran at (time-skipped), ms. */
  atMs: number;
  status: 'ok' | 'failed';
  error?: string;
  /** The result as the workflow received it (through the keeper's payload converter). */
  result?: unknown;
}

/** Per chain: Wormhole chain id and emitter (the token's WormholeAdapter / the CreditMessenger). */
export const WORMHOLE: Record<string, { chainId: number; adapter: Address; messenger: Address }> = {
  alpha: { chainId: 10_201, adapter: '0x00000000000000000000000000000000000a1fa1', messenger: '0x00000000000000000000000000000000000a1fa2' },
  beta: { chainId: 10_202, adapter: '0x00000000000000000000000000000000000be7a1', messenger: '0x00000000000000000000000000000000000be7a2' },
};
const wh = (chainKey: string) => {
  const w = WORMHOLE[chainKey];
  if (!w) throw ApplicationFailure.nonRetryable(`sagaDoubles: no Wormhole settings for chain "${chainKey}" (alpha | beta)`, FailureType.Config);
  return w;
};
const txHashOf = (what: string): Hex => keccak256(toHex(`tx:${what}`));

/** The scenario base: the call log, per-chain blocks, server time, fault lookup. */
abstract class Scenario<Leg extends string> {
  readonly calls: Call[] = [];
  private readonly blocks: Record<string, bigint> = {};
  private sequence = 0n;
  private readonly hooked = new Set<string>();
  /** Server time of the running call, read when it began. */
  private t = 0;

  constructor(
    readonly rebalanceId: Hex,
    readonly from: string,
    readonly to: string,
    readonly amount: bigint,
    readonly bridge: 'layerzero' | 'wormhole',
    private readonly faults: Partial<Record<string, Fault>>,
    /** The server's clock (time-skipped): `TestWorkflowEnvironment.currentTimeMs`. */
    private readonly clock: () => Promise<number>,
  ) {}

  /** Calls of `activity` (every attempt), optionally of one leg. */
  callsOf(activity: string, leg?: string): Call[] {
    return this.calls.filter((c) => c.activity === activity && (leg === undefined || c.leg === leg));
  }

  /** Server time of the running call (time-skipped), ms. */
  protected now(): number {
    return this.t;
  }

  protected nextBlock(chainKey: string): bigint {
    this.blocks[chainKey] = (this.blocks[chainKey] ?? 100n) + 1n;
    return this.blocks[chainKey]!;
  }

  protected block(chainKey: string): bigint {
    return this.blocks[chainKey] ?? 100n;
  }

  protected nextSequence(): bigint {
    this.sequence += 1n;
    return this.sequence;
  }

  protected checkId(id: Hex | undefined, activity: string): void {
    if (id !== undefined && id.toLowerCase() !== this.rebalanceId.toLowerCase()) {
      throw ApplicationFailure.nonRetryable(`sagaDoubles: ${activity} called for ${id}, but the running scenario is ${this.rebalanceId}`, 'DoubleMisuse');
    }
  }

  /**
   * Runs one attempt of a leg's activity: records it, applies the leg's fault (a revert classified like the
   * real activity's), and `write` (which returns the result; it sees whether the record already existed).
   */
  protected async leg<T>(activity: string, leg: Leg | undefined, input: unknown, write: () => T): Promise<T> {
    const info = Context.current().info;
    this.t = await this.clock();
    const call: Call = { activity, leg, input, attempt: info.attempt, atMs: this.t, status: 'ok' };
    this.calls.push(call);
    try {
      const result = await classified(async () => {
        const fault = leg !== undefined ? this.faults[leg]?.({ attempt: info.attempt, atMs: call.atMs }) : undefined;
        if (fault instanceof Error) throw fault;
        const r = write();
        // Someone else acts on chain right after this leg's first write.
        if (leg !== undefined && !(r as { alreadyDone?: boolean }).alreadyDone && !this.hooked.has(leg)) {
          this.hooked.add(leg);
          this.onLeg(leg);
        }
        if (fault) throw fault.error;
        return r;
      });
      // As the workflow receives it: through the keeper's payload converter (undefined fields dropped).
      call.result = payloadConverter.fromPayload(payloadConverter.toPayload(result));
      return result;
    } catch (err) {
      call.status = 'failed';
      call.error = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  /** Runs the scenario's `onLeg` hook of `leg`, if any, on the chain records. */
  protected abstract onLeg(leg: Leg): void;

  /** Records a bookkeeping call (no fault, no chain effect). */
  async note(activity: string, input: unknown): Promise<void> {
    const info = Context.current().info;
    this.calls.push({ activity, input, attempt: info.attempt, atMs: await this.clock(), status: 'ok' });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Collateral saga (rebalanceWorkflow)

/** The legs and compensations of `rebalanceWorkflow` (workflows/types.ts `LegRecord['leg']`), and `observe`/`locate`. */
export type CollateralLeg = 'withdraw' | 'send' | 'deliver' | 'deposit' | 'redeposit' | 'return' | 'return-deliver' | 'return-deposit' | 'observe' | 'locate';

/** When a message arrives: ms of server time after its send, or never. */
export type Arrival = number | 'never';

export interface CollateralOptions {
  rebalanceId: Hex;
  from?: string;
  to?: string;
  amount: bigint;
  bridge?: 'layerzero' | 'wormhole';
  /** Per leg, when it fails. */
  faults?: Partial<Record<CollateralLeg, Fault>>;
  /** When the forward message and the return arrive (default 0: at once). */
  arrival?: { forward?: Arrival; return?: Arrival };
  /** The chain's records before the saga starts (e.g. a front-run withdrawal under the saga's id). */
  preset?: Partial<Pick<RebalanceChainFacts, 'withdrawn' | 'redeposited' | 'deposited' | 'returnDeposited'>>;
  /** Someone else acting on chain right after a leg succeeded (mutates the records). */
  onLeg?: Partial<Record<CollateralLeg, (facts: RebalanceChainFacts) => void>>;
  /** Native fee per send, wei (default 1_000). */
  feeWei?: bigint;
}

interface Message {
  amount: bigint;
  guid: Hex;
  nonce: bigint;
  legKey: Hex;
  sentAtMs: number;
  arrival: Arrival;
  /** LayerZero: executed by the executor; Wormhole: redeemed by the keeper. */
  redeemed: boolean;
}

/** The chain records of one collateral saga and the doubles acting on them. */
export class CollateralScenario extends Scenario<CollateralLeg> {
  readonly facts: Omit<RebalanceChainFacts, 'sent' | 'returned'>;
  sent?: Message;
  returned?: Message;
  private readonly opts: CollateralOptions;

  constructor(opts: CollateralOptions, clock: () => Promise<number>) {
    super(opts.rebalanceId, opts.from ?? 'alpha', opts.to ?? 'beta', opts.amount, opts.bridge ?? 'layerzero', opts.faults ?? {}, clock);
    this.opts = opts;
    this.facts = { from: this.from, to: this.to, amount: this.amount, withdrawn: 0n, redeposited: 0n, deposited: 0n, returnDeposited: 0n, ...opts.preset };
  }

  /** Whether `m` has arrived at server time `nowMs` (LayerZero: executed; Wormhole: its VAA is served). */
  private arrived(m: Message, nowMs: number): boolean {
    return m.arrival !== 'never' && nowMs >= m.sentAtMs + m.arrival;
  }

  /** Delivered on chain as of `nowMs`: LayerZero's executor needs no keeper; a Wormhole VAA must be redeemed. */
  private delivered(m: Message | undefined, nowMs: number): boolean {
    if (!m) return false;
    return m.redeemed || (this.bridge === 'layerzero' && this.arrived(m, nowMs));
  }

  /** The facts as `observeRebalanceFunds` would read them now. */
  factsAt(nowMs: number): RebalanceChainFacts {
    const msg = (m: Message | undefined) => (m ? { amount: m.amount, guid: m.guid, delivered: this.delivered(m, nowMs) } : undefined);
    return { ...this.facts, sent: msg(this.sent), returned: msg(this.returned) };
  }

  protected onLeg(leg: CollateralLeg): void {
    const hook = this.opts.onLeg?.[leg];
    if (!hook) return;
    const f = this.factsAt(this.now());
    hook(f);
    Object.assign(this.facts, { withdrawn: f.withdrawn, redeposited: f.redeposited, deposited: f.deposited, returnDeposited: f.returnDeposited });
  }

  private vaultLeg(input: VaultLegInput): CollateralLeg {
    if (input.purpose === 'forward') return input.chainKey === this.from ? 'withdraw' : 'deposit';
    if (input.purpose === 'redeposit') return 'redeposit';
    if (input.purpose === 'return-deposit') return 'return-deposit';
    throw ApplicationFailure.nonRetryable(`sagaDoubles: no vault leg for purpose ${input.purpose}`, 'DoubleMisuse');
  }

  async withdrawFromVault(input: VaultLegInput): Promise<LegResult> {
    this.checkId(input.rebalanceId, 'withdrawFromVault');
    const leg = this.vaultLeg(input);
    return this.leg('withdrawFromVault', leg, input, () => {
      const key = legKey(input.rebalanceId, input.purpose);
      if (this.facts.withdrawn > 0n) return { legKey: key, alreadyDone: true, blockNumber: this.block(input.chainKey) };
      this.facts.withdrawn = input.amount;
      return this.done(leg, key, input.chainKey);
    });
  }

  async depositToVault(input: VaultLegInput): Promise<LegResult> {
    this.checkId(input.rebalanceId, 'depositToVault');
    const leg = this.vaultLeg(input);
    const field = leg === 'deposit' ? 'deposited' : leg === 'redeposit' ? 'redeposited' : 'returnDeposited';
    return this.leg('depositToVault', leg, input, () => {
      const key = legKey(input.rebalanceId, input.purpose);
      if (this.facts[field] > 0n) return { legKey: key, alreadyDone: true, blockNumber: this.block(input.chainKey) };
      this.facts[field] = input.amount;
      return this.done(leg, key, input.chainKey);
    });
  }

  private done(leg: CollateralLeg, key: Hex, chainKey: string): LegResult {
    const blockNumber = this.nextBlock(chainKey);
    return { legKey: key, txHash: txHashOf(`${key}:${leg}`), alreadyDone: false, blockNumber };
  }

  async sendOverBridge(input: SendInput): Promise<SendResult> {
    this.checkId(input.rebalanceId, 'sendOverBridge');
    const leg: CollateralLeg = input.purpose === 'forward' ? 'send' : 'return';
    return this.leg('sendOverBridge', leg, input, () => {
      const key = legKey(input.rebalanceId, input.purpose);
      const existing = input.purpose === 'forward' ? this.sent : this.returned;
      if (existing) return { legKey: key, alreadyDone: true, guid: existing.guid, nonce: existing.nonce, nativeFeeWei: 0n, blockNumber: this.block(input.from) };
      const nonce = this.nextSequence();
      const guid = (input.bridge ?? 'layerzero') === 'wormhole' ? wormholeGuid(wh(input.from).chainId, wh(input.from).adapter, nonce) : keccak256(toHex(`lz:${key}:${nonce}`));
      const arrival = (input.purpose === 'forward' ? this.opts.arrival?.forward : this.opts.arrival?.return) ?? 0;
      const m: Message = { amount: input.amount, guid, nonce, legKey: key, sentAtMs: this.now(), arrival, redeemed: false };
      if (input.purpose === 'forward') this.sent = m;
      else this.returned = m;
      const blockNumber = this.nextBlock(input.from);
      return { legKey: key, txHash: txHashOf(`${key}:${leg}`), alreadyDone: false, guid, nonce, nativeFeeWei: this.opts.feeWei ?? 1_000n, blockNumber };
    });
  }

  async awaitDelivery(input: DeliveryInput): Promise<DeliveryResult> {
    const forward = this.sent?.guid === input.guid;
    const m = forward ? this.sent : this.returned?.guid === input.guid ? this.returned : undefined;
    const leg: CollateralLeg = forward ? 'deliver' : 'return-deliver';
    return this.leg('awaitDelivery', leg, input, () => {
      if (!m) throw ApplicationFailure.nonRetryable(`sagaDoubles: no message ${input.guid} was sent`, 'DoubleMisuse');
      if (input.bridge === 'wormhole' && !input.key) throw ApplicationFailure.nonRetryable("a Wormhole delivery needs the send's leg key", FailureType.Config);
      const dst = forward ? this.to : this.from;
      const now = this.now();
      if (!this.delivered(m, now) && !this.arrived(m, now)) {
        if (this.bridge === 'wormhole') throw ApplicationFailure.retryable(`rebalance key ${input.key}: message ${input.nonce} not signed by the guardians yet (answered 404)`, 'VaaPending');
        throw ApplicationFailure.retryable(`GUID ${input.guid} (nonce ${input.nonce}) not delivered on ${dst} as of block ${this.block(dst)} (not verified yet)`, FailureType.DeliveryPending);
      }
      m.redeemed = true;
      const blockNumber = this.nextBlock(dst);
      return { guid: input.guid, deliveredAtBlock: blockNumber, txHash: txHashOf(`${input.guid}:delivered`) };
    });
  }

  async observeRebalanceFunds(input: ObserveInput): Promise<{ facts: RebalanceChainFacts; balances: Record<string, bigint> }> {
    this.checkId(input.rebalanceId, 'observeRebalanceFunds');
    return this.leg('observeRebalanceFunds', 'observe', input, () => {
      const facts = this.factsAt(this.now());
      return { facts, balances: deriveFromChain(facts) };
    });
  }

  async locateFunds(input: { from: string; to: string; guid?: Hex; nonce?: bigint; bridge?: string; key?: Hex; returned?: boolean }): Promise<FundsLocation> {
    // The key of the message named: the forward send's (= the rebalance id) or the return's.
    this.checkId(input.returned && input.key?.toLowerCase() === legKey(this.rebalanceId, 'return').toLowerCase() ? this.rebalanceId : input.key, 'locateFunds');
    return this.leg('locateFunds', 'locate', input, () => {
      const f = this.factsAt(this.now());
      const sentAmt = f.sent?.amount ?? 0n;
      const retAmt = f.returned?.amount ?? 0n;
      const sourceRouteBalance = f.withdrawn - f.redeposited - sentAmt + (f.returned?.delivered ? retAmt : 0n) - f.returnDeposited;
      const destinationRouteBalance = (f.sent?.delivered ? sentAmt : 0n) - f.deposited - retAmt;
      const parts = [`${input.from} route holds ${sourceRouteBalance}`, `${input.to} route holds ${destinationRouteBalance}`];
      // The message named: the forward one, or (returned) the compensation's return, which goes to -> from.
      const m = !input.guid ? undefined : input.returned ? (this.returned?.guid === input.guid ? f.returned : undefined) : this.sent?.guid === input.guid ? f.sent : undefined;
      const delivered = input.guid ? (m?.delivered ?? false) : undefined;
      const [msgFrom, msgTo, what] = input.returned ? [input.to, input.from, 'return '] : [input.from, input.to, ''];
      if (input.bridge === 'wormhole') {
        if (input.key && input.nonce !== undefined) parts.push(`${what}Wormhole message ${wh(msgFrom).chainId}/${wh(msgFrom).adapter}/${input.nonce} ${delivered ? 'redeemed' : 'not redeemed'} on ${msgTo}`);
        return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid, delivered };
      }
      if (input.guid) parts.push(`${what}LayerZero GUID ${input.guid} nonce ${input.nonce} ${delivered ? 'delivered' : 'not delivered'} on ${msgTo}`);
      return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid, delivered, verified: input.guid ? delivered : undefined };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Capacity saga (capacityMoveWorkflow)

/** The legs and compensations of `capacityMoveWorkflow`, its Wormhole redemptions, and `observe`/`locate`. */
export type CapacityLegName = 'reserve' | 'send' | 'deliver' | 'redeem' | 'apply' | 'restore' | 'return' | 'return-deliver' | 'return-redeem' | 'return-apply' | 'observe' | 'locate';

export interface CapacityOptions {
  rebalanceId: Hex;
  from?: string;
  to?: string;
  amount: bigint;
  bridge?: 'layerzero' | 'wormhole';
  faults?: Partial<Record<CapacityLegName, Fault>>;
  arrival?: { forward?: Arrival; return?: Arrival };
  /** The chain's records before the saga starts. */
  preset?: Partial<Pick<CapacityChainFacts, 'reservation' | 'applied'>>;
  /** Someone else acting on chain right after a leg succeeded. */
  onLeg?: Partial<Record<CapacityLegName, (facts: CapacityChainFacts) => void>>;
  feeWei?: bigint;
}

interface CreditMessage {
  amount: bigint;
  /** LayerZero GUID or `wormhole/<chain>/<emitter>/<sequence>`. */
  id: string;
  guid: Hex;
  nonce: bigint;
  sentAtMs: number;
  arrival: Arrival;
  redeemed: boolean;
}

/** The chain records of one capacity move and the doubles acting on them. */
export class CapacityScenario extends Scenario<CapacityLegName> {
  readonly facts: Omit<CapacityChainFacts, 'sent' | 'returned'>;
  sent?: CreditMessage;
  returned?: CreditMessage;
  private readonly opts: CapacityOptions;

  constructor(opts: CapacityOptions, clock: () => Promise<number>) {
    super(opts.rebalanceId, opts.from ?? 'alpha', opts.to ?? 'beta', opts.amount, opts.bridge ?? 'layerzero', opts.faults ?? {}, clock);
    this.opts = opts;
    this.facts = {
      from: this.from,
      to: this.to,
      amount: this.amount,
      reservation: { amount: 0n, status: 'none' },
      pendingAtDestination: { amount: 0n, status: 'none' },
      applied: 0n,
      pendingAtSource: { amount: 0n, status: 'none' },
      returnApplied: 0n,
      ...opts.preset,
    };
  }

  private arrived(m: CreditMessage, nowMs: number): boolean {
    return m.arrival !== 'never' && nowMs >= m.sentAtMs + m.arrival;
  }

  /** Settles LayerZero messages the executor delivered by `nowMs` into the destination messenger's pending credit. */
  private settle(nowMs: number): void {
    if (this.bridge !== 'layerzero') return;
    if (this.sent && !this.sent.redeemed && this.arrived(this.sent, nowMs)) this.deliver(this.sent, true);
    if (this.returned && !this.returned.redeemed && this.arrived(this.returned, nowMs)) this.deliver(this.returned, false);
  }

  private deliver(m: CreditMessage, forward: boolean): void {
    m.redeemed = true;
    if (forward) this.facts.pendingAtDestination = { amount: m.amount, status: 'pending' };
    else this.facts.pendingAtSource = { amount: m.amount, status: 'pending' };
  }

  factsAt(nowMs: number): CapacityChainFacts {
    this.settle(nowMs);
    const msg = (m: CreditMessage | undefined) => (m ? { amount: m.amount, guid: m.id } : undefined);
    return { ...this.facts, reservation: { ...this.facts.reservation }, pendingAtDestination: { ...this.facts.pendingAtDestination }, pendingAtSource: { ...this.facts.pendingAtSource }, sent: msg(this.sent), returned: msg(this.returned) };
  }

  protected onLeg(leg: CapacityLegName): void {
    const hook = this.opts.onLeg?.[leg];
    if (!hook) return;
    const f = this.factsAt(this.now());
    hook(f);
    Object.assign(this.facts, { reservation: f.reservation, pendingAtDestination: f.pendingAtDestination, applied: f.applied, pendingAtSource: f.pendingAtSource, returnApplied: f.returnApplied });
  }

  private wrote(leg: CapacityLegName, key: Hex, chainKey: string): LegResult {
    const blockNumber = this.nextBlock(chainKey);
    return { legKey: key, txHash: txHashOf(`${key}:${leg}`), alreadyDone: false, blockNumber };
  }

  async reserveCredit(input: ReserveCreditInput): Promise<LegResult> {
    this.checkId(input.rebalanceId, 'reserveCredit');
    return this.leg('reserveCredit', 'reserve', input, () => {
      if (this.facts.reservation.status !== 'none') return { legKey: input.rebalanceId, alreadyDone: true, blockNumber: this.block(input.chainKey) };
      this.facts.reservation = { amount: input.amount, status: 'reserved' };
      return this.wrote('reserve', input.rebalanceId, input.chainKey);
    });
  }

  async restoreCredit(input: RestoreCreditInput): Promise<LegResult> {
    this.checkId(input.rebalanceId, 'restoreCredit');
    return this.leg('restoreCredit', 'restore', input, () => {
      if (this.facts.reservation.status === 'restored') return { legKey: input.rebalanceId, alreadyDone: true, blockNumber: this.block(input.chainKey) };
      if (this.facts.reservation.status !== 'reserved') throw revert(input.chainKey, 'restoreCredit', 'CreditNotReserved')();
      this.facts.reservation = { ...this.facts.reservation, status: 'restored' };
      return this.wrote('restore', input.rebalanceId, input.chainKey);
    });
  }

  /** The send of either bridge: takes the reservation (forward) or the pending credit (return). */
  private send(input: SendCreditInput, bridge: 'layerzero' | 'wormhole'): CreditMessage & { alreadyDone: boolean; blockNumber: bigint; key: Hex } {
    const key = legKey(input.rebalanceId, input.purpose);
    const existing = input.purpose === 'forward' ? this.sent : this.returned;
    if (existing) return { ...existing, alreadyDone: true, blockNumber: this.block(input.from), key };
    if (input.purpose === 'forward') {
      if (this.facts.reservation.status !== 'reserved') throw revert(input.from, 'sendCredit', 'CreditNotReserved')();
      this.facts.reservation = { ...this.facts.reservation, status: 'sent' };
    } else {
      if (this.facts.pendingAtDestination.status !== 'pending') throw revert(input.from, 'returnCredit', 'CreditNotPending')();
      this.facts.pendingAtDestination = { ...this.facts.pendingAtDestination, status: 'returned' };
    }
    const nonce = this.nextSequence();
    const guid = bridge === 'wormhole' ? wormholeGuid(wh(input.from).chainId, wh(input.from).messenger, nonce) : keccak256(toHex(`lz-credit:${key}:${nonce}`));
    const id = bridge === 'wormhole' ? wormholeMessageId(wh(input.from).chainId, wh(input.from).messenger, nonce) : guid;
    const arrival = (input.purpose === 'forward' ? this.opts.arrival?.forward : this.opts.arrival?.return) ?? 0;
    const m: CreditMessage = { amount: input.amount, id, guid, nonce, sentAtMs: this.now(), arrival, redeemed: false };
    if (input.purpose === 'forward') this.sent = m;
    else this.returned = m;
    const blockNumber = this.nextBlock(input.from);
    return { ...m, alreadyDone: false, blockNumber, key };
  }

  async sendCredit(input: SendCreditInput): Promise<SendResult> {
    this.checkId(input.rebalanceId, 'sendCredit');
    return this.leg('sendCredit', input.purpose === 'forward' ? 'send' : 'return', input, () => {
      const s = this.send(input, 'layerzero');
      return { legKey: s.key, txHash: s.alreadyDone ? undefined : txHashOf(`${s.key}:send`), alreadyDone: s.alreadyDone, guid: s.guid, nonce: s.nonce, nativeFeeWei: s.alreadyDone ? 0n : (this.opts.feeWei ?? 1_000n), blockNumber: s.blockNumber };
    });
  }

  async sendCreditWormhole(input: SendCreditInput): Promise<WormholeCreditSendResult> {
    this.checkId(input.rebalanceId, 'sendCreditWormhole');
    return this.leg('sendCreditWormhole', input.purpose === 'forward' ? 'send' : 'return', input, () => {
      const s = this.send(input, 'wormhole');
      const w = wh(input.from);
      return { legKey: s.key, txHash: s.alreadyDone ? undefined : txHashOf(`${s.key}:send`), alreadyDone: s.alreadyDone, blockNumber: s.blockNumber, emitterChain: w.chainId, emitter: w.messenger, sequence: s.nonce, messageId: s.id, feeWei: s.alreadyDone ? 0n : (this.opts.feeWei ?? 1_000n) };
    });
  }

  async awaitCreditDelivery(input: DeliveryInput): Promise<DeliveryResult> {
    const forward = this.sent?.guid === input.guid;
    return this.leg('awaitCreditDelivery', forward ? 'deliver' : 'return-deliver', input, () => {
      const m = forward ? this.sent : this.returned?.guid === input.guid ? this.returned : undefined;
      if (!m) throw ApplicationFailure.nonRetryable(`sagaDoubles: no capacity message ${input.guid} was sent`, 'DoubleMisuse');
      this.settle(this.now());
      const dst = forward ? this.to : this.from;
      if (!m.redeemed) throw ApplicationFailure.retryable(`capacity message ${input.guid} (nonce ${input.nonce}) not delivered on ${dst} as of block ${this.block(dst)} (not verified yet)`, FailureType.DeliveryPending);
      const blockNumber = this.nextBlock(dst);
      return { guid: input.guid, deliveredAtBlock: blockNumber, txHash: txHashOf(`${input.guid}:delivered`) };
    });
  }

  /** The serialized VAA a double serves for message `m` (only its identity matters to the doubles). */
  private static vaaOf(m: CreditMessage): Hex {
    return toHex(`vaa:${m.id}`);
  }

  async fetchCreditVaa(input: FetchCreditVaaInput): Promise<FetchedVaa> {
    this.checkId(input.rebalanceId, 'fetchCreditVaa');
    const forward = input.purpose === 'forward';
    return this.leg('fetchCreditVaa', forward ? 'deliver' : 'return-deliver', input, () => {
      const m = forward ? this.sent : this.returned;
      if (!m || m.nonce !== input.sequence) throw ApplicationFailure.nonRetryable(`sagaDoubles: no Wormhole capacity message with sequence ${input.sequence}`, 'DoubleMisuse');
      if (!this.arrived(m, this.now())) throw ApplicationFailure.retryable(`capacity ${input.purpose} ${input.rebalanceId} (${input.from}->${input.to}): message ${m.id} not signed by the guardians yet (answered 404)`, 'VaaPending');
      return { vaa: CapacityScenario.vaaOf(m), digest: keccak256(CapacityScenario.vaaOf(m)), guardianSetIndex: 0, quorum: { held: 1, needed: 1 } };
    });
  }

  async redeemCreditVaa(input: RedeemCreditVaaInput & { from: string }): Promise<LegResult & { vmHash: Hex }> {
    this.checkId(input.rebalanceId, 'redeemCreditVaa');
    const forward = input.purpose === 'forward';
    return this.leg('redeemCreditVaa', forward ? 'redeem' : 'return-redeem', input, () => {
      const m = forward ? this.sent : this.returned;
      if (!m || input.vaa !== CapacityScenario.vaaOf(m)) throw ApplicationFailure.nonRetryable(`${input.chainKey}: the VAA carries another key than this leg's`, 'PacketMismatch');
      const key = legKey(input.rebalanceId, input.purpose);
      const vmHash = keccak256(input.vaa);
      if (m.redeemed) return { legKey: key, alreadyDone: true, blockNumber: this.block(input.chainKey), vmHash };
      this.deliver(m, forward);
      return { ...this.wrote(forward ? 'redeem' : 'return-redeem', key, input.chainKey), vmHash };
    });
  }

  async applyCredit(input: ApplyCreditInput): Promise<LegResult> {
    this.checkId(input.rebalanceId, 'applyCredit');
    const forward = input.purpose === 'forward';
    const leg: CapacityLegName = forward ? 'apply' : 'return-apply';
    return this.leg('applyCredit', leg, input, () => {
      const key = legKey(input.rebalanceId, input.purpose);
      const done = forward ? this.facts.applied > 0n : this.facts.returnApplied > 0n;
      if (done) return { legKey: key, alreadyDone: true, blockNumber: this.block(input.chainKey) };
      const pending = forward ? this.facts.pendingAtDestination : this.facts.pendingAtSource;
      if (pending.status !== 'pending') throw revert(input.chainKey, 'applyCredit', 'CreditNotPending')();
      if (forward) {
        this.facts.applied = pending.amount;
        this.facts.pendingAtDestination = { ...pending, status: 'applied' };
      } else {
        this.facts.returnApplied = pending.amount;
        this.facts.pendingAtSource = { ...pending, status: 'applied' };
      }
      return this.wrote(leg, key, input.chainKey);
    });
  }

  async observeCapacityFunds(input: ObserveCapacityInput): Promise<{ facts: CapacityChainFacts; balances: Record<string, bigint> }> {
    this.checkId(input.rebalanceId, 'observeCapacityFunds');
    return this.leg('observeCapacityFunds', 'observe', input, () => {
      const facts = this.factsAt(this.now());
      return { facts, balances: deriveCapacityFromChain(facts) };
    });
  }

  async locateCredit(input: { rebalanceId: Hex; from: string; to: string }): Promise<CreditLocation> {
    this.checkId(input.rebalanceId, 'locateCredit');
    return this.leg('locateCredit', 'locate', input, () => {
      const f = this.factsAt(this.now());
      const sent = this.sent ? { bridge: this.bridge, id: this.sent.id, amount: this.sent.amount, delivered: f.pendingAtDestination.status !== 'none' } : undefined;
      const returned = this.returned ? { bridge: this.bridge, id: this.returned.id, amount: this.returned.amount, delivered: f.pendingAtSource.status !== 'none' } : undefined;
      const parts = [`${input.from} reservation ${f.reservation.status} (${f.reservation.amount})`];
      if (sent) parts.push(`${sent.bridge} message ${sent.id} (${sent.amount}) ${sent.delivered ? `delivered, ${f.pendingAtDestination.status} on ${input.to}` : `not delivered to ${input.to}`}`);
      if (f.applied > 0n) parts.push(`${input.to} applied ${f.applied}`);
      if (returned) parts.push(`return ${returned.bridge} message ${returned.id} (${returned.amount}) ${returned.delivered ? `delivered, ${f.pendingAtSource.status} on ${input.from}` : `not delivered to ${input.from}`}`);
      if (f.returnApplied > 0n) parts.push(`${input.from} re-applied ${f.returnApplied}`);
      return { summary: parts.join('; '), reservation: f.reservation, sent, pendingAtDestination: f.pendingAtDestination, applied: f.applied, returned, pendingAtSource: f.pendingAtSource, returnApplied: f.returnApplied };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The doubles the worker registers

/** The activities the sagas (and a paused monitor) call, as doubles. */
export type SagaActivityName =
  | 'withdrawFromVault'
  | 'depositToVault'
  | 'sendOverBridge'
  | 'awaitDelivery'
  | 'locateFunds'
  | 'observeRebalanceFunds'
  | 'reportLedgerMismatch'
  | 'reportAuditUnavailable'
  | 'recordStarted'
  | 'recordOutcome'
  | 'reserveCredit'
  | 'restoreCredit'
  | 'sendCredit'
  | 'sendCreditWormhole'
  | 'awaitCreditDelivery'
  | 'fetchCreditVaa'
  | 'redeemCreditVaa'
  | 'applyCredit'
  | 'locateCredit'
  | 'observeCapacityFunds'
  | 'recordCapacityStarted'
  | 'recordCapacityOutcome'
  | 'capsContext';
export type SagaDoubles = Pick<Activities, SagaActivityName>;

/**
 * Holds the running scenario and builds the activity doubles that dispatch to it. `collateral(…)` /
 * `capacity(…)` start a new scenario (the previous one must be finished).
 */
export class SagaLab {
  private current?: CollateralScenario | CapacityScenario;

  /** @param clock the server's clock (`() => env.currentTimeMs()`): the doubles' notion of now. */
  constructor(private readonly clock: () => Promise<number>) {}

  /** The scenario running now (the last one started), for faults that depend on what it did so far. */
  get running(): CollateralScenario | CapacityScenario | undefined {
    return this.current;
  }

  collateral(opts: CollateralOptions): CollateralScenario {
    const s = new CollateralScenario(opts, this.clock);
    this.current = s;
    return s;
  }

  capacity(opts: CapacityOptions): CapacityScenario {
    const s = new CapacityScenario(opts, this.clock);
    this.current = s;
    return s;
  }

  private col(activity: string): CollateralScenario {
    if (!(this.current instanceof CollateralScenario)) throw ApplicationFailure.nonRetryable(`sagaDoubles: ${activity} called without a collateral scenario`, 'DoubleMisuse');
    return this.current;
  }

  private cap(activity: string): CapacityScenario {
    if (!(this.current instanceof CapacityScenario)) throw ApplicationFailure.nonRetryable(`sagaDoubles: ${activity} called without a capacity scenario`, 'DoubleMisuse');
    return this.current;
  }

  private any(activity: string): CollateralScenario | CapacityScenario {
    if (!this.current) throw ApplicationFailure.nonRetryable(`sagaDoubles: ${activity} called without a scenario`, 'DoubleMisuse');
    return this.current;
  }

  /** The doubles, typed as the real activities (names, inputs, results). */
  activities(): SagaDoubles {
    const note = (s: CollateralScenario | CapacityScenario, activity: string, input: unknown) => s.note(activity, input);
    return {
      withdrawFromVault: (input) => this.col('withdrawFromVault').withdrawFromVault(input),
      depositToVault: (input) => this.col('depositToVault').depositToVault(input),
      sendOverBridge: (input) => this.col('sendOverBridge').sendOverBridge(input),
      awaitDelivery: (input) => this.col('awaitDelivery').awaitDelivery(input),
      locateFunds: (input) => this.col('locateFunds').locateFunds(input),
      observeRebalanceFunds: (input) => this.col('observeRebalanceFunds').observeRebalanceFunds(input),
      reportLedgerMismatch: async (input: { rebalanceId: Hex; step: string; mismatches: LedgerMismatch[] }) => note(this.any('reportLedgerMismatch'), 'reportLedgerMismatch', input),
      reportAuditUnavailable: async (input: { rebalanceId: Hex; kind: 'collateral' | 'capacity'; step: string; error: string }) => note(this.any('reportAuditUnavailable'), 'reportAuditUnavailable', input),
      recordStarted: async (input) => note(this.col('recordStarted'), 'recordStarted', input),
      recordOutcome: async (input) => note(this.col('recordOutcome'), 'recordOutcome', input),
      reserveCredit: (input) => this.cap('reserveCredit').reserveCredit(input),
      restoreCredit: (input) => this.cap('restoreCredit').restoreCredit(input),
      sendCredit: (input) => this.cap('sendCredit').sendCredit(input),
      sendCreditWormhole: (input) => this.cap('sendCreditWormhole').sendCreditWormhole(input),
      awaitCreditDelivery: (input) => this.cap('awaitCreditDelivery').awaitCreditDelivery(input),
      fetchCreditVaa: (input) => this.cap('fetchCreditVaa').fetchCreditVaa(input),
      redeemCreditVaa: (input) => this.cap('redeemCreditVaa').redeemCreditVaa(input),
      applyCredit: (input) => this.cap('applyCredit').applyCredit(input),
      locateCredit: (input) => this.cap('locateCredit').locateCredit(input),
      observeCapacityFunds: (input) => this.cap('observeCapacityFunds').observeCapacityFunds(input),
      recordCapacityStarted: async (input) => note(this.cap('recordCapacityStarted'), 'recordCapacityStarted', input),
      recordCapacityOutcome: async (input) => note(this.cap('recordCapacityOutcome'), 'recordCapacityOutcome', input),
      // A paused monitor only reads its caps context each tick (workflows/monitor.ts).
      capsContext: async (): Promise<CapsContext> => ({ policies: [], rules: { approvalWindowSec: 86_400 } }),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// The time-skipping world: test server, the keeper's workflow bundle in a worker with the doubles

/** A time-skipping environment with a running worker (the real `workflowsPath` bundle, the doubles). */
export interface SagaWorld {
  env: TestWorkflowEnvironment;
  lab: SagaLab;
  taskQueue: string;
  /** Starts `workflowType` with `input` (workflow id = `input.rebalanceId`) and awaits its result, skipping time. */
  execute<R>(workflowType: string, input: { rebalanceId: Hex }, workflowId?: string): Promise<R>;
  stop(): Promise<void>;
}

/** Starts the test server and a worker running the keeper's workflows (keeper/worker.ts `workflowsPath`) on the doubles. */
export async function startSagaWorld(): Promise<SagaWorld> {
  const env = await createTimeSkippingEnv();
  try {
    const lab = new SagaLab(() => env.currentTimeMs());
    const taskQueue = `saga-branches-${process.pid}`;
    const bundle = await loadWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath }); // the worker's cached bundle
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code: bundle.code }, activities: lab.activities(), dataConverter });
    const running = worker.run();
    return {
      env,
      lab,
      taskQueue,
      execute: <R>(workflowType: string, input: { rebalanceId: Hex }, workflowId?: string) => env.client.workflow.execute(workflowType, { taskQueue, workflowId: workflowId ?? input.rebalanceId, args: [input] }) as Promise<R>,
      async stop() {
        worker.shutdown();
        // A poll outstanding on the time-skipping server can hold the worker's shutdown for its long-poll timeout
        // (~1 min each): give it 5 s, then stop the server, which ends the polls.
        await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
        await env.teardown();
        // Bounded too: a worker whose server is gone has nothing left to wait for.
        await Promise.race([running.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      },
    };
  } catch (err) {
    await env.teardown();
    throw err;
  }
}
