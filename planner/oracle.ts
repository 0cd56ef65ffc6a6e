/**
 * Oracle round checks (pure). A chain whose round fails is left out of planning.
 *
 * Source of the rules: Chainlink `AggregatorV3Interface.latestRoundData()` consumers' checks —
 * a non-positive answer, `updatedAt == 0` (round never completed), a stale round,
 * `answeredInRound < roundId` (answer carried over from an earlier round), and a jump from the
 * previous answer larger than the configured deviation.
 */
import type { OracleCheck, OracleRound } from './types.js';

/** Per-chain oracle limits (from config `chains[].oracle`). */
export interface OracleLimits {
  /** Oldest acceptable round, seconds before `nowSec`. */
  maxStalenessSec: number;
  /** Largest accepted move from the previous answer, basis points (10_000 = 100%). */
  maxDeviationBps: number;
}

/** `answer` scaled by `10 ** decimals` as a decimal string, e.g. `1890.18855732`. */
export function formatPrice(answer: bigint, decimals: number): string {
  const neg = answer < 0n;
  const abs = neg ? -answer : answer;
  if (decimals <= 0) return `${neg ? '-' : ''}${abs}`;
  const scale = 10n ** BigInt(decimals);
  const frac = (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / scale}${frac === '' ? '' : `.${frac}`}`;
}

/** |a − b| · 10_000 / b as a string with 2 decimals (floor), e.g. `512.37`. */
function bpsString(diff: bigint, base: bigint): string {
  const hundredths = (diff * 1_000_000n) / base;
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`;
}

/**
 * Check one oracle round. Every failed rule is reported (joined with `; `), so an all-zero
 * round says both `answer 0 ≤ 0` and `updatedAt 0`.
 *
 * @param round the round as read.
 * @param nowSec reference time in seconds (the block timestamp the round was read at).
 * @param limits staleness and deviation limits.
 * @param previousAnswer the answer accepted last time for this feed; no deviation check without it
 *   (or when it is ≤ 0).
 * @returns `{ ok, reason?, ageSec }`; `ageSec` is `nowSec − updatedAt`, 0 when the round is
 *   timestamped after `nowSec` (clock skew between reads is not a reason to refuse), and `nowSec`
 *   when `updatedAt` is 0.
 * @example checkOracle(round, block.timestamp, { maxStalenessSec: 3600, maxDeviationBps: 500 }, prev)
 */
export function checkOracle(round: OracleRound, nowSec: bigint, limits: OracleLimits, previousAnswer?: bigint): OracleCheck {
  const reasons: string[] = [];
  const ageSec = round.updatedAtSec === 0n ? nowSec : nowSec > round.updatedAtSec ? nowSec - round.updatedAtSec : 0n;

  if (round.answer <= 0n) reasons.push(`invalid answer: ${round.answer} ≤ 0 (round ${round.roundId})`);
  if (round.updatedAtSec === 0n) {
    reasons.push(`incomplete round: updatedAt is 0 (round ${round.roundId} never completed)`);
  } else if (ageSec > BigInt(limits.maxStalenessSec)) {
    reasons.push(`stale: age ${ageSec}s > maxStalenessSec ${limits.maxStalenessSec}`);
  }
  if (round.answeredInRound < round.roundId) {
    reasons.push(`carried-over answer: answeredInRound ${round.answeredInRound} < roundId ${round.roundId}`);
  }
  if (previousAnswer !== undefined && previousAnswer > 0n && round.answer > 0n) {
    const diff = round.answer > previousAnswer ? round.answer - previousAnswer : previousAnswer - round.answer;
    // |answer − previous| / previous > maxDeviationBps / 10_000, cross-multiplied to stay exact.
    if (diff * 10_000n > BigInt(limits.maxDeviationBps) * previousAnswer) {
      reasons.push(
        `deviation: ${formatPrice(round.answer, round.decimals)} vs previous ${formatPrice(previousAnswer, round.decimals)} ` +
          `moved ${bpsString(diff, previousAnswer)} bps > maxDeviationBps ${limits.maxDeviationBps}`,
      );
    }
  }
  return reasons.length === 0 ? { ok: true, ageSec } : { ok: false, reason: reasons.join('; '), ageSec };
}
