/**
 * The planner: pure functions from a snapshot and policies to a plan. No I/O.
 * - `planGreedy`: the greedy baseline planner (the optimal MILP planner is planner/optimal.ts).
 * - `checkOracle`: decides whether a chain's oracle round is usable.
 * - `rebalanceId`: the deterministic identity of a planned transfer's saga.
 */
export * from './types.js';
export { planGreedy, formatWadPct, DEFAULT_MAX_MESSAGES_PER_ROUTE, type GreedyInput, type GreedyOptions } from './greedy.js';
export { checkOracle, formatPrice, type OracleLimits } from './oracle.js';
export { rebalanceId, REBALANCE_ID_DOMAIN, type BlockRef, type RebalanceIdInput } from './rebalanceId.js';
