/**
 * Deterministic rebalance ids (pure: viem's hashing and ABI encoding only, no I/O).
 *
 * The id is the identity of one rebalance saga: the same snapshot and plan always give the same
 * id, so a retried activity or a replayed workflow finds the rebalance it already started (the id
 * travels in the bridge message payload), instead of sending twice.
 */
import { encodeAbiParameters, keccak256 } from 'viem';

/** Version tag hashed into every id; bump it only together with a migration of open sagas. */
export const REBALANCE_ID_DOMAIN = 'ballast.rebalance.v1';

/** One chain's block in the snapshot the plan was made from. */
export interface BlockRef {
  chainKey: string;
  blockNumber: bigint;
}

/** Inputs of {@link rebalanceId}. */
export interface RebalanceIdInput {
  deployment: string;
  /** Every chain's block of the snapshot; order does not matter (sorted by chainKey). */
  blockRefs: readonly BlockRef[];
  from: string;
  to: string;
  /** Base units, > 0. */
  amount: bigint;
  /** Index of the transfer in its plan (0-based). */
  sequence: number;
}

const PARAMS = [
  { name: 'domain', type: 'string' },
  { name: 'deployment', type: 'string' },
  {
    name: 'blockRefs',
    type: 'tuple[]',
    components: [
      { name: 'chainKey', type: 'string' },
      { name: 'blockNumber', type: 'uint64' },
    ],
  },
  { name: 'from', type: 'string' },
  { name: 'to', type: 'string' },
  { name: 'amount', type: 'uint256' },
  { name: 'sequence', type: 'uint32' },
] as const;

/**
 * `keccak256(abi.encode(string domain, string deployment, (string chainKey, uint64 blockNumber)[]
 * blockRefs, string from, string to, uint256 amount, uint32 sequence))` with `domain =
 * "ballast.rebalance.v1"` and `blockRefs` sorted by chainKey (code-unit order, locale independent).
 *
 * @throws {Error} on a duplicate chainKey in `blockRefs`, `from === to`, `amount ≤ 0`, or a
 *   `sequence` that is not an integer in 0..2^32−1.
 * @example rebalanceId({ deployment: 'devnet', blockRefs, from: 'arbitrum', to: 'base', amount: 10n ** 9n, sequence: 0 })
 */
export function rebalanceId(input: RebalanceIdInput): `0x${string}` {
  return hashMoveId(REBALANCE_ID_DOMAIN, input);
}

/** Version tag of capacity move ids: a different domain, so a capacity id never equals a collateral rebalance id. */
export const CAPACITY_ID_DOMAIN = 'ballast.capacity.v1';

/**
 * The id of one capacity move (move kind `capacity`, planner/capacity.ts): the same encoding as
 * {@link rebalanceId} with `domain = "ballast.capacity.v1"`, `blockRefs` being the blocks the chains'
 * lending capacity was read at and `sequence` the move's index in its capacity plan. Same input → same id;
 * never equal to a collateral rebalance id of the same route, amount and blocks (different domain).
 * @throws {Error} as {@link rebalanceId}.
 * @example capacityMoveId({ deployment: 'devnet', blockRefs, from: 'base', to: 'arbitrum', amount: 10n ** 12n, sequence: 0 })
 */
export function capacityMoveId(input: RebalanceIdInput): `0x${string}` {
  return hashMoveId(CAPACITY_ID_DOMAIN, input);
}

function hashMoveId(domain: string, input: RebalanceIdInput): `0x${string}` {
  const { deployment, from, to, amount, sequence } = input;
  if (from === to) throw new Error(`rebalanceId: from and to are both "${from}"; a rebalance moves between two chains`);
  if (amount <= 0n) throw new Error(`rebalanceId: amount must be > 0 (got ${amount})`);
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 0xffff_ffff) {
    throw new Error(`rebalanceId: sequence must be an integer 0..4294967295 (got ${sequence})`);
  }
  const blockRefs = [...input.blockRefs].sort((a, b) => (a.chainKey < b.chainKey ? -1 : a.chainKey > b.chainKey ? 1 : 0));
  for (let i = 1; i < blockRefs.length; i++) {
    if (blockRefs[i]!.chainKey === blockRefs[i - 1]!.chainKey) {
      throw new Error(`rebalanceId: chain "${blockRefs[i]!.chainKey}" appears twice in blockRefs; give one block per chain`);
    }
  }
  return keccak256(
    encodeAbiParameters(PARAMS, [
      domain,
      deployment,
      blockRefs.map((r) => ({ chainKey: r.chainKey, blockNumber: r.blockNumber })),
      from,
      to,
      amount,
      sequence,
    ]),
  );
}
