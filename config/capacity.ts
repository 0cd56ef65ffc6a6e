/**
 * What the keeper needs from a validated config for capacity moves and the keeper side of Wormhole: the
 * per-chain capacity policies (config `chains[].capacity`) and the guardian API and guardian sets (config
 * `wormhole`). Pure mapping, no I/O (a guardian-sets file is read later, by the activity that needs it).
 */
import type { CapacityPolicy } from '../planner/capacity.js';
import type { GuardianSet } from '../chains/wormhole/guardianSets.js';
import type { BallastConfig } from './schema.js';

/** A bridge a capacity message can go over. */
export type CapacityBridge = 'layerzero' | 'wormhole';

/** Capacity moves as configured: one policy per chain that has `capacity`, and its preferred bridge. */
export interface CapacitySettings {
  /** In config order; only chains with a `capacity` entry. */
  policies: CapacityPolicy[];
  /** Preferred bridge per chain key (`auto`: the cheaper quote; see activities/capacityPlan.ts). */
  bridges: Record<string, CapacityBridge | 'auto'>;
}

/** The keeper side of the Wormhole route (config `wormhole`). */
export interface WormholeSettings {
  /** Guardian REST API base URL (`GET /v1/signed_vaa/{chain}/{emitter}/{sequence}`). */
  guardianUrl: string;
  /** The guardian sets written in the config (exclusive with `guardianSetsFile`). */
  guardianSets?: GuardianSet[];
  /** A guardian-sets JSON file (chains/wormhole/guardianSets.ts format), read when first needed. */
  guardianSetsFile?: string;
  /** How long a Wormhole delivery (VAA signed and redeemed) may take before the saga ends `stranded`, seconds. */
  deliveryDeadlineSec: number;
  /** How often a VAA not served yet (404) is asked for again, ms. */
  vaaPollIntervalMs: number;
}

/**
 * The capacity settings of a validated config.
 * @returns undefined when fewer than two chains have a `capacity` entry (no move is possible).
 */
export function capacitySettings(config: BallastConfig): CapacitySettings | undefined {
  const policies: CapacityPolicy[] = [];
  const bridges: Record<string, CapacityBridge | 'auto'> = {};
  for (const c of config.chains) {
    if (!c.capacity) continue;
    policies.push({ chainKey: c.key, highWad: c.capacity.highWad, lowWad: c.capacity.lowWad, minMove: c.capacity.minMove, maxMove: c.capacity.maxMove });
    bridges[c.key] = c.capacity.bridge;
  }
  return policies.length >= 2 ? { policies, bridges } : undefined;
}

/** The Wormhole settings of a validated config; undefined without a `wormhole` section. */
export function wormholeSettings(config: BallastConfig): WormholeSettings | undefined {
  const w = config.wormhole;
  if (!w) return undefined;
  return {
    guardianUrl: w.guardianUrl,
    ...(w.guardianSets ? { guardianSets: w.guardianSets.map((s) => ({ index: s.index, keys: s.keys })) } : {}),
    ...(w.guardianSetsFile ? { guardianSetsFile: w.guardianSetsFile } : {}),
    deliveryDeadlineSec: w.deliveryDeadlineSec,
    vaaPollIntervalMs: w.vaaPollIntervalMs,
  };
}
