/**
 * The planner: pure functions from a snapshot and policies to a plan. No I/O.
 * - `planGreedy`: the greedy baseline planner (an optimal MILP planner comes later).
 * - `checkOracle`: decides whether a chain's oracle round is usable.
 * - `rebalanceId`: the deterministic identity of a planned transfer's saga.
 */
export * from './types.js';
export { planGreedy, formatWadPct, type GreedyInput } from './greedy.js';
export { checkOracle, formatPrice, type OracleLimits } from './oracle.js';
export { rebalanceId, REBALANCE_ID_DOMAIN, type BlockRef, type RebalanceIdInput } from './rebalanceId.js';
