/**
 * The capacity activities as the worker registers them (spread into `createActivities`, activities/index.ts): the
 * legs of activities/capacity.ts, the plan (activities/capacityPlan.ts) and the capacity ledger reads
 * (activities/capacityLedger.ts).
 */
import type { Hex } from 'viem';
import type { InFlight } from '../planner/types.js';
import { parseVaaEnvelope, wormholeMessageId } from '../chains/evm/credit.js';
import {
  applyCredit,
  awaitCreditDelivery,
  fetchCreditVaa,
  locateCredit,
  quoteCreditFee,
  redeemCreditVaa,
  reserveCredit,
  restoreCredit,
  sendCredit,
  sendCreditWormhole,
  type ApplyCreditInput,
  type FetchCreditVaaInput,
  type RedeemCreditVaaInput,
  type ReserveCreditInput,
  type RestoreCreditInput,
  type SendCreditInput,
} from './capacity.js';
import { checkCapacityLedger, observeCapacityFunds, type ObserveCapacityInput } from './capacityLedger.js';
import { planCapacityMoves } from './capacityPlan.js';
import type { KeeperContext } from './context.js';
import { heartbeating, timed } from './timed.js';
import type { DeliveryInput, RebalanceOutcome } from './types.js';

/**
 * The capacity activities as the worker registers them (spread into `createActivities`): the legs and
 * compensations (writes run in `timed`: leg timing, heartbeat, running-leg tracker), the delivery waits,
 * the capacity ledger reads, the plan, and the saga's start/outcome bookkeeping.
 */
export function createCapacityActivities(ctx: KeeperContext) {
  const route = (from: string, to: string) => `${from}->${to}`;
  const capacity = { kind: 'capacity' } as const; // the `kind` label of this saga's leg metrics
  return {
    async planCapacityMoves(input: { inFlight: InFlight[] }) {
      return planCapacityMoves(ctx, input);
    },
    async quoteCreditFee(input: { from: string; to: string }) {
      return quoteCreditFee(ctx, input);
    },
    async reserveCredit(input: ReserveCreditInput) {
      return timed(ctx, 'reserve', input.chainKey, () => reserveCredit(ctx, input), input.rebalanceId, capacity);
    },
    async restoreCredit(input: RestoreCreditInput) {
      return timed(ctx, 'restore', input.chainKey, () => restoreCredit(ctx, input), input.rebalanceId, capacity);
    },
    async sendCredit(input: SendCreditInput) {
      return timed(ctx, input.purpose === 'forward' ? 'send' : 'return', route(input.from, input.to), () => sendCredit(ctx, input), input.rebalanceId, { ...capacity, bridge: 'layerzero' });
    },
    async sendCreditWormhole(input: SendCreditInput) {
      return timed(ctx, input.purpose === 'forward' ? 'send' : 'return', route(input.from, input.to), () => sendCreditWormhole(ctx, input), input.rebalanceId, { ...capacity, bridge: 'wormhole' });
    },
    async awaitCreditDelivery(input: DeliveryInput) {
      // `deliver` runs from the first check of a message until it is delivered (each check is one attempt).
      const r = route(input.from, input.to);
      ctx.metrics.legs.start('deliver', r, input.guid.toLowerCase(), { ...capacity, bridge: input.bridge ?? 'layerzero' });
      const out = await timed(ctx, 'deliver-check', r, () => awaitCreditDelivery(ctx, input), undefined, capacity);
      ctx.metrics.legs.end('deliver', r, input.guid.toLowerCase());
      return out;
    },
    async fetchCreditVaa(input: FetchCreditVaaInput) {
      const r = route(input.from, input.to);
      const key = wormholeMessageId(input.emitterChain, input.emitter, input.sequence);
      ctx.metrics.legs.start('deliver', r, key, { ...capacity, bridge: 'wormhole' });
      const out = await timed(ctx, 'deliver-check', r, () => fetchCreditVaa(ctx, input), undefined, capacity);
      // the leg stays open until the VAA is redeemed (redeemCreditVaa ends it)
      return out;
    },
    async redeemCreditVaa(input: RedeemCreditVaaInput & { from: string }) {
      const r = route(input.from, input.chainKey);
      const out = await timed(ctx, 'redeem', r, () => redeemCreditVaa(ctx, input), input.rebalanceId, { ...capacity, bridge: 'wormhole' });
      const env = parseVaaEnvelope(input.vaa);
      ctx.metrics.legs.end('deliver', r, wormholeMessageId(env.emitterChain, env.emitterAddress, env.sequence));
      return out;
    },
    async applyCredit(input: ApplyCreditInput) {
      return timed(ctx, input.purpose === 'forward' ? 'apply' : 'return-apply', input.chainKey, () => applyCredit(ctx, input), input.rebalanceId, capacity);
    },
    async locateCredit(input: { rebalanceId: Hex; from: string; to: string }) {
      return locateCredit(ctx, input);
    },
    async observeCapacityFunds(input: ObserveCapacityInput) {
      return heartbeating(() => observeCapacityFunds(ctx, input));
    },
    async checkCapacityLedger(input: { openingCapacity?: bigint } = {}) {
      return checkCapacityLedger(ctx, input);
    },
    /** Metrics and a log line when a capacity saga starts (counted with the rebalances, labelled by its bridge). */
    async recordCapacityStarted(input: { rebalanceId: Hex; from: string; to: string; amount: bigint; bridge: string }) {
      ctx.metrics.rebalancesStarted.inc({ kind: 'capacity', route: route(input.from, input.to), bridge: input.bridge });
      ctx.log.info({ rebalanceId: input.rebalanceId, kind: 'capacity', route: route(input.from, input.to), bridge: input.bridge, amount: input.amount.toString() }, 'capacity move started');
    },
    /** Metrics and a log line when a capacity saga ends; `stranded` is logged at error level (alert). */
    async recordCapacityOutcome(input: { rebalanceId: Hex; from: string; to: string; amount: bigint; bridge: string; outcome: RebalanceOutcome; reason?: string; durationSec: number; messageIds: string[]; where?: string }) {
      const r = route(input.from, input.to);
      ctx.metrics.legs.endKey(input.rebalanceId);
      for (const k of input.messageIds) ctx.metrics.legs.endKey(k.toLowerCase());
      ctx.metrics.rebalancesTotal.inc({ kind: 'capacity', route: r, bridge: input.bridge, outcome: input.outcome });
      const fields = { rebalanceId: input.rebalanceId, kind: 'capacity', route: r, bridge: input.bridge, amount: input.amount.toString(), outcome: input.outcome, reason: input.reason, durationSec: input.durationSec, messages: input.messageIds, where: input.where };
      if (input.outcome === 'stranded') ctx.log.error(fields, 'capacity move STRANDED: credit located, operator action needed');
      else ctx.log.info(fields, `capacity move ${input.outcome}`);
    },
  };
}
