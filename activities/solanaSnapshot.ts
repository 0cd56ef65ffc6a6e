/**
 * A Solana chain's part of the tick's snapshot: one `getMultipleAccountsInfo` (chains/solana/readSolanaState.ts)
 * turned into the planner's {@link ChainState}, with the Pyth price judged twice: by the checks every oracle gets
 * (planner/oracle.ts: staleness, deviation from the last accepted answer) and by Pyth's own (verification level,
 * confidence width; chains/solana/pyth.ts `checkPythPrice`).
 */
import { readSolanaState, type SolanaChainRead } from '../chains/solana/readSolanaState.js';
import { checkPythPrice } from '../chains/solana/pyth.js';
import { guardOracle, guardStateFields, type OracleGuardResult, type OracleGuardState } from '../planner/oracle.js';
import type { ChainState } from '../planner/types.js';
import type { RawChainState } from '../chains/evm/readChainState.js';
import type { SolanaChainRuntime } from './context.js';

/** The largest u64: a Solana reserve has no on-chain outflow cap (config caps apply alone). */
const NO_CAP = (1n << 64n) - 1n;

/**
 * Maps a Solana read onto the planner's chain state: `blockNumber` = slot, `blockTimestampSec` = the Clock's
 * unix time, idle = the reserve's available liquidity, the oracle round = the Pyth update (answer = price,
 * decimals = −exponent, round id = posted slot, updatedAt = publish time), `tokenTotalSupply` = the mint's
 * supply outside the Wormhole custody (what the deployment's conservation check counts on this chain).
 * @throws RangeError for a positive Pyth exponent (not a price with decimals).
 */
export function solanaRawChainState(r: SolanaChainRead): RawChainState {
  if (r.price.exponent > 0) throw new RangeError(`${r.chainKey}: Pyth exponent ${r.price.exponent} > 0 is not supported`);
  return {
    chainKey: r.chainKey,
    blockNumber: r.slot,
    blockTimestampSec: r.clockUnixSec,
    supplied: r.supplied,
    borrowed: r.borrowed,
    idle: r.reserveLiquidity,
    utilizationWad: r.utilizationWad,
    onChainCap: { maxOutflowPerWindow: NO_CAP, windowSec: 1n, outflowInWindow: 0n, windowStartSec: 0n },
    oracle: { roundId: r.price.postedSlot, answer: r.price.price, decimals: -r.price.exponent, updatedAtSec: r.price.publishTimeSec, answeredInRound: r.price.postedSlot },
    tokenTotalSupply: r.mintSupply - r.custody,
  };
}

/**
 * Reads one Solana chain and judges its Pyth price with the oracle guard (planner/oracle.ts `guardOracle`:
 * staleness, deviation from the reference, re-anchoring on agreeing updates) and Pyth's own checks (a Pyth refusal
 * is never re-anchor evidence); `guard` is the state carried in the previous snapshot (default: none, no reference).
 * @returns the chain state, the raw read (for metrics) and the guard's verdict (for logs and metrics).
 * @throws SolanaReadError when an account is missing or undecodable (the snapshot then excludes the chain).
 */
export async function readSolanaChain(sc: SolanaChainRuntime, guard: OracleGuardState = { evidence: [] }): Promise<{ state: ChainState; read: SolanaChainRead; guard: OracleGuardResult }> {
  const read = await readSolanaState({ connection: sc.connection, chainKey: sc.chainKey, accounts: sc.accounts, commitment: sc.commitment, pythReceiver: sc.pythReceiver });
  const raw = solanaRawChainState(read);
  const pyth = checkPythPrice(read.price, raw.blockTimestampSec, { maxStalenessSec: sc.oracleLimits.maxStalenessSec, maxConfBps: sc.oracleLimits.maxConfBps });
  const verdict = guardOracle(raw.oracle, raw.blockTimestampSec, sc.oracleLimits, guard, pyth.ok ? [] : [`pyth: ${pyth.reason}`]);
  return { state: { ...raw, oracleCheck: verdict.check, ...guardStateFields(verdict.state) }, read, guard: verdict };
}
