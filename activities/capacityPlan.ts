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
import type { CapacityBridge } from '../config/capacity.js';
import { messengerOf } from './capacity.js';
import type { KeeperContext } from './context.js';

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
 * Bridge: Wormhole when both ends prefer it and the config has a `wormhole` section, else LayerZero.
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
  const moves = plan.moves.map((m, sequence): PlannedCapacityMove => {
    const id = capacityMoveId({ deployment: ctx.deployment, blockRefs, from: m.from, to: m.to, amount: m.amount, sequence });
    const wantsWormhole = settings.bridges[m.from] === 'wormhole' && settings.bridges[m.to] === 'wormhole';
    if (wantsWormhole && ctx.wormhole) {
      return { ...m, rebalanceId: id, bridge: 'wormhole', deliveryDeadlineSec: ctx.wormhole.deliveryDeadlineSec, vaaPollIntervalMs: ctx.wormhole.vaaPollIntervalMs };
    }
    return { ...m, rebalanceId: id, bridge: 'layerzero', reason: wantsWormhole ? `${m.reason}; over LayerZero: both ends prefer Wormhole but the config has no wormhole section` : m.reason };
  });
  const result = { enabled: true, moves, unresolved: [...unresolved, ...plan.unresolved].sort((a, b) => (a.chainKey < b.chainKey ? -1 : a.chainKey > b.chainKey ? 1 : 0)), chains };
  if (moves.length > 0) ctx.log.info({ moves: moves.map((m) => ({ id: m.rebalanceId, from: m.from, to: m.to, amount: m.amount.toString(), bridge: m.bridge })), unresolved: result.unresolved.length }, 'capacity plan');
  return result;
}
