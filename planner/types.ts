/**
 * Domain types shared by the planner, the activities and the workflows.
 *
 * Units: every amount is a `bigint` in the asset's base units (USDC-like: 6 decimals);
 * ratios are WAD (1e18 = 100%) or basis points (10_000 = 100%); times are named in the
 * identifier (`...Sec`, `...Ms`). These types contain no classes so they cross the
 * Temporal payload boundary (see `workflows/payloadConverter.ts`, which carries bigint).
 */

import type { AaveMarketState } from '../chains/evm/aaveReserve.js';

/** 1e18: the fixed-point unit for utilization and other ratios. */
export const WAD = 10n ** 18n;

/** Oracle round as read from a Chainlink `AggregatorV3Interface.latestRoundData()`. */
export interface OracleRound {
  roundId: bigint;
  /** Price scaled by `10 ** decimals`. */
  answer: bigint;
  decimals: number;
  updatedAtSec: bigint;
  answeredInRound: bigint;
}

/**
 * One round refused for deviation alone, kept as evidence that the market moved (planner/oracle.ts `guardOracle`):
 * `reanchorRounds` agreeing ones re-anchor the deviation reference. Answer scaled by `10 ** decimals`.
 */
export interface OracleEvidence {
  roundId: bigint;
  answer: bigint;
  updatedAtSec: bigint;
}

/** Verdict on one chain's oracle round. `ok: false` means the chain is left out of planning. */
export interface OracleCheck {
  ok: boolean;
  /** Human-readable reason when `ok` is false, e.g. `stale: age 4000s > maxStalenessSec 3600`. */
  reason?: string;
  ageSec: bigint;
}

/** State of one chain's vault at one block, read in one multicall. */
export interface ChainState {
  chainKey: string;
  blockNumber: bigint;
  /** Block timestamp (seconds) of `blockNumber`. */
  blockTimestampSec: bigint;
  /**
   * The block's EIP-1559 base fee, wei per gas (Multicall3 `getBasefee()` in the snapshot's multicall, same block).
   * Absent on a chain without EIP-1559 (the call reverts), on Solana chains and in snapshots recorded before it: the
   * gas timing (planner/timing.ts) then never holds a transfer from this chain back for gas.
   */
  baseFeeWei?: bigint;
  /** Vault `totalSupplied` (base units). */
  supplied: bigint;
  /** Vault `totalBorrowed` (base units). */
  borrowed: bigint;
  /** Tokens the vault holds and does not lend out: supplied - borrowed (base units). */
  idle: bigint;
  /** borrowed * WAD / supplied; 0 when supplied is 0. */
  utilizationWad: bigint;
  /** The vault's own keeper outflow cap per window and how much of the current window is used. */
  onChainCap: { maxOutflowPerWindow: bigint; windowSec: bigint; outflowInWindow: bigint; windowStartSec: bigint };
  oracle: OracleRound;
  oracleCheck: OracleCheck;
  /** The asset token's total supply on this chain (base units); the deployment ledger sums it. */
  tokenTotalSupply: bigint;
  /**
   * Where the chain's liquidity is an Aave v3 reserve (chains/evm/aaveReserve.ts): the reserve and the treasury's
   * position in it. Then `supplied` = available liquidity + total debt, `borrowed` = total debt and `idle` = available
   * liquidity (so `utilizationWad` is Aave's own utilization), and the planners also bound a chain's spare by the
   * treasury's aToken balance and its need by the reserve's supply cap; a frozen, paused or inactive reserve receives
   * nothing. Absent: the liquidity is a Ballast `CollateralVault`.
   */
  market?: AaveMarketState;
  /**
   * The last oracle answer that passed the checks (this round's when it passed), carried from snapshot to
   * snapshot: the reference for the deviation check, so a refused jump never becomes the reference.
   */
  lastAcceptedAnswer?: bigint;
  /**
   * Rounds refused for deviation alone since `lastAcceptedAnswer` that agree with each other, oldest first: the
   * evidence the oracle guard counts towards re-anchoring the reference (planner/oracle.ts `guardOracle`). Absent =
   * none (and in snapshots recorded before the guard recovered).
   */
  oracleEvidence?: OracleEvidence[];
}

/** A snapshot across all chains. `freshness` is `fresh` only when every chain was read and passed its checks. */
export interface Snapshot {
  takenAtMs: number;
  chains: ChainState[];
  /** Chains that could not be read (any call of the chain's multicall failed), with the reason. A chain whose
   * oracle round was refused stays in `chains` with `oracleCheck.ok = false`. */
  excluded: { chainKey: string; reason: string }[];
  freshness: 'fresh' | 'partial' | 'stale';
}

/** Per-chain planning policy (from config). */
export interface ChainPolicy {
  chainKey: string;
  /** Target utilization band, WAD. Inside [lowWad, highWad] nothing moves. */
  band: { lowWad: bigint; highWad: bigint };
  /** Minimum idle liquidity left in the vault after any outflow (base units). */
  minBufferAmount: bigint;
  caps: {
    /** Keeper outflow allowed per `windowSec` (base units). */
    maxOutflowPerWindow: bigint;
    windowSec: bigint;
    /** Largest single transfer out of this chain (base units). */
    maxTransfer: bigint;
    /** Smallest transfer worth bridging (base units). */
    minTransfer: bigint;
  };
}

/** An amount already moving between chains (from our own open sagas). */
export interface InFlight {
  rebalanceId: string;
  from: string;
  to: string;
  amount: bigint;
  /** What the move moves; absent = `collateral` (entries made before capacity moves existed). */
  kind?: MoveKind;
  /**
   * Whether the source's withdraw already happened at the snapshot's block (so the snapshot's supply of `from` no
   * longer counts `amount`). `false`: started but not yet withdrawn — the donor's spare is net of it (planner/greedy.ts
   * `chainStanding`'s `outbound`), so two ticks never plan the same liquidity twice. Absent: treated as withdrawn
   * (the semantics of every entry made before this field: the backtest debits the source when it plans).
   * activities/plan.ts sets it from the source vault's `outflowOf(legKey(rebalanceId, 'forward'))` at the snapshot's block.
   */
  withdrawn?: boolean;
}

/** What `from` still has to withdraw for transfers already started: Σ amount of in-flight entries with `withdrawn === false`, per chain. */
export function outboundNotWithdrawn(list: readonly InFlight[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const f of list) if (f.withdrawn === false) out.set(f.from, (out.get(f.from) ?? 0n) + f.amount);
  return out;
}

/** What a move moves: `collateral` (tokens, `rebalanceWorkflow`) or `capacity` (lending capacity as credit, `capacityMoveWorkflow`). */
export type MoveKind = 'collateral' | 'capacity';

/** The collateral moves of an in-flight list (the ones the collateral planners account for). */
export function collateralInFlight<T extends { kind?: MoveKind }>(list: readonly T[]): T[] {
  return list.filter((f) => (f.kind ?? 'collateral') === 'collateral');
}

/** One move the planner asks for. */
export interface Transfer {
  from: string;
  to: string;
  /** Base units. */
  amount: bigint;
  /** Why, e.g. `arbitrum utilization 91.2% > high 80.0%; base 41.0% < low 60.0%`. */
  reason: string;
}

export interface Plan {
  transfers: Transfer[];
  /** Chains still outside their band after the plan, with why they could not be helped. */
  unresolved: { chainKey: string; reason: string }[];
}
