/**
 * Activity `planCapacityMoves`: reads every capacity-enabled chain's lending capacity (vault `borrowLimit`,
 * `totalBorrowed`, credit cap: one multicall per chain at one block, chains/evm/credit.ts `readCreditState`),
 * runs the pure planner (planner/capacity.ts `planCapacity`) with the config's capacity policies and the
 * capacity moves in flight, picks each move's bridge and gives it a deterministic id
 * (planner/rebalanceId.ts `capacityMoveId`: domain `ballast.capacity.v1`, so never a collateral rebalance id).
 * Run as an activity so the plan is recorded in the monitor's history.
 */
import type { Hex } from 'viem';
import { planCapacity, type CapacityChainState, type CapacityMove } from '../planner/capacity.js';
import { capacityMoveId } from '../planner/rebalanceId.js';
import type { InFlight } from '../planner/types.js';
import { readCreditState } from '../chains/evm/credit.js';
import type { CapacityBridge, CapacitySettings } from '../config/capacity.js';
import { creditMessengerAbi } from '../contracts/generated/abis.js';
import { messengerOf, quoteCreditFee } from './capacity.js';
import { chainOf, type KeeperContext } from './context.js';

/** One capacity move to start: the planner's move, its id, its bridge and that bridge's delivery settings. */
export interface PlannedCapacityMove extends CapacityMove {
  rebalanceId: Hex;
  bridge: CapacityBridge;
  /** Wormhole only: how long the delivery may take before the saga ends `stranded`, seconds (LayerZero: the monitor's). */
  deliveryDeadlineSec?: number;
  /** Wormhole only: how often a VAA not served yet is asked for again, ms. */
  vaaPollIntervalMs?: number;
}

/** The result of {@link planCapacityMoves}, as recorded in the monitor's history. */
export interface CapacityPlanResult {
  /** False when fewer than two chains have capacity configured (nothing read, nothing planned). */
  enabled: boolean;
  /** In planning order. */
  moves: PlannedCapacityMove[];
  /** Chains left out (unreadable, no messenger) or still above their high mark, with why. */
  unresolved: { chainKey: string; reason: string }[];
  /** What each chain read, at which block (the ids hash these blocks). */
  chains: (CapacityChainState & { blockNumber: bigint })[];
}

/**
 * Plans capacity moves between the chains that have `capacity` configured (config/capacity.ts). A chain whose
 * capacity cannot be read (RPC down, no credit messenger) is left out with the reason; the others are planned.
 * `inFlight`: the monitor's in-flight list; only its `capacity` entries count (routes busy, amounts on the way).
 * Bridge: {@link capacityBridge} (preferences, and quotes where an end says `auto`).
 * @throws what planner/capacity.ts throws on malformed policies (a config bug, not a market condition).
 */
export async function planCapacityMoves(ctx: KeeperContext, input: { inFlight: readonly InFlight[] }): Promise<CapacityPlanResult> {
  const settings = ctx.capacity;
  if (!settings || settings.policies.length < 2) return { enabled: false, moves: [], unresolved: [], chains: [] };
  const unresolved: CapacityPlanResult['unresolved'] = [];
  const read = await Promise.all(
    settings.policies.map(async (p) => {
      const c = ctx.chains.get(p.chainKey);
      if (!c) {
        unresolved.push({ chainKey: p.chainKey, reason: `${p.chainKey}: capacity policy for a chain that is not configured` });
        return undefined;
      }
      try {
        const s = await readCreditState({ clients: c.clients, multicall3: c.contracts.multicall3, vault: c.contracts.vault, messenger: await messengerOf(c) });
        const cap = s.creditCap;
        const creditWindowLeft = cap.maxCreditOutPerWindow > cap.creditOutInWindow ? cap.maxCreditOutPerWindow - cap.creditOutInWindow : 0n;
        return { chainKey: c.chainKey, borrowed: s.borrowed, borrowLimit: s.borrowLimit, creditWindowLeft, blockNumber: s.blockNumber };
      } catch (err) {
        unresolved.push({ chainKey: p.chainKey, reason: `${p.chainKey} left out of capacity planning: its capacity could not be read (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` });
        return undefined;
      }
    }),
  );
  const chains = read.filter((x): x is NonNullable<typeof x> => x !== undefined);
  const policies = settings.policies.filter((p) => chains.some((c) => c.chainKey === p.chainKey));
  const inFlight = input.inFlight.filter((f) => f.kind === 'capacity').map((f) => ({ from: f.from, to: f.to, amount: f.amount }));
  const plan = chains.length >= 2 ? planCapacity({ chains: chains.map(({ blockNumber: _b, ...s }) => s), policies, inFlight }) : { moves: [], unresolved: [] };
  const blockRefs = chains.map((c) => ({ chainKey: c.chainKey, blockNumber: c.blockNumber }));
  const moves: PlannedCapacityMove[] = [];
  for (const [sequence, m] of plan.moves.entries()) {
    const id = capacityMoveId({ deployment: ctx.deployment, blockRefs, from: m.from, to: m.to, amount: m.amount, sequence });
    const choice = await capacityBridge(ctx, settings, m.from, m.to);
    if (choice.bridge === 'wormhole' && ctx.wormhole) {
      moves.push({ ...m, rebalanceId: id, bridge: 'wormhole', reason: choice.why ? `${m.reason}; ${choice.why}` : m.reason, deliveryDeadlineSec: ctx.wormhole.deliveryDeadlineSec, vaaPollIntervalMs: ctx.wormhole.vaaPollIntervalMs });
    } else {
      moves.push({ ...m, rebalanceId: id, bridge: 'layerzero', reason: choice.why ? `${m.reason}; ${choice.why}` : m.reason });
    }
  }
  const result = { enabled: true, moves, unresolved: [...unresolved, ...plan.unresolved].sort((a, b) => (a.chainKey < b.chainKey ? -1 : a.chainKey > b.chainKey ? 1 : 0)), chains };
  if (moves.length > 0) ctx.log.info({ moves: moves.map((m) => ({ id: m.rebalanceId, from: m.from, to: m.to, amount: m.amount.toString(), bridge: m.bridge })), unresolved: result.unresolved.length }, 'capacity plan');
  return result;
}

/**
 * The bridge of one capacity move from the two ends' preferences (config `chains[].capacity.bridge`):
 * both `wormhole` → Wormhole; both accept Wormhole (`wormhole` or `auto`) with at least one `auto`, and Wormhole
 * configured on both chains → the lower native-fee quote (LayerZero: the messenger's `quoteSend`; Wormhole: its
 * `quoteSendWormhole` = the core's message fee, plus `bridges.wormhole.relayGas` × the destination's gas price,
 * as activities/quotes.ts prices collateral moves; ties go to LayerZero); anything else → LayerZero. A quote that
 * fails leaves the move on LayerZero, saying why.
 */
export async function capacityBridge(ctx: KeeperContext, settings: CapacitySettings, from: string, to: string): Promise<{ bridge: CapacityBridge; why?: string }> {
  const a = settings.bridges[from] ?? 'layerzero';
  const b = settings.bridges[to] ?? 'layerzero';
  if (a === 'wormhole' && b === 'wormhole') return { bridge: 'wormhole', why: ctx.wormhole ? undefined : 'over LayerZero: both ends prefer Wormhole but the config has no wormhole section' };
  if (a === 'layerzero' || b === 'layerzero') return { bridge: 'layerzero' };
  const src = chainOf(ctx, from);
  const dst = chainOf(ctx, to);
  if (!ctx.wormhole || !src.wormhole || !dst.wormhole) return { bridge: 'layerzero' };
  try {
    const messenger = await messengerOf(src);
    const relayGas = BigInt(ctx.bridges?.wormhole?.relayGas ?? 0);
    const [lz, messageFee, gasPrice] = await Promise.all([
      quoteCreditFee(ctx, { from, to }),
      src.clients.publicClient.readContract({ address: messenger, abi: creditMessengerAbi, functionName: 'quoteSendWormhole' }),
      relayGas > 0n ? dst.clients.publicClient.getGasPrice() : Promise.resolve(0n),
    ]);
    const wh = messageFee + relayGas * gasPrice;
    return wh < lz ? { bridge: 'wormhole', why: `over Wormhole: quoted ${wh} wei vs LayerZero ${lz} wei` } : { bridge: 'layerzero', why: `over LayerZero: quoted ${lz} wei vs Wormhole ${wh} wei` };
  } catch (err) {
    return { bridge: 'layerzero', why: `over LayerZero: quoting the bridges failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}
