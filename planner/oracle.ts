/**
 * Oracle round checks (pure). A chain whose round fails is left out of planning.
 *
 * Source of the rules: Chainlink `AggregatorV3Interface.latestRoundData()` consumers' checks —
 * a non-positive answer, `updatedAt == 0` (round never completed), a stale round,
 * `answeredInRound < roundId` (answer carried over from an earlier round), and a jump from the
 * previous answer larger than the configured deviation.
 *
 * The deviation guard recovers ({@link guardOracle}, issue 14): the deviation reference is the last
 * accepted answer, and a refused jump never moves it by itself — but `reanchorRounds` consecutive
 * rounds (distinct, increasing round ids; each complete, positive, fresh, not carried over; each refused
 * for deviation alone) that agree with each other within `reanchorAgreementBps` are evidence that the
 * market moved, and the last of them is accepted and becomes the reference. The rule re-anchors on
 * evidence only, never on elapsed time: a price that stays put past a refused jump, whatever the wall
 * clock says, re-anchors only when the feed has published enough agreeing rounds. Without it, a real
 * move larger than the limit (a +5.5% day) leaves every chain out until the price comes back: a guard
 * that cannot recover is a denial of service.
 */
import type { ChainState, OracleCheck, OracleEvidence, OracleRound } from './types.js';

/**
 * Rounds of agreeing evidence that re-anchor the deviation reference when the limits do not say
 * (config `chains[].oracle.reanchorRounds`; config/schema.ts `CONFIG_DEFAULTS.oracle.reanchorRounds` is the same
 * value). 3 = one refused jump and two more rounds that confirm it: a single spike (one round) or two (one
 * round and its echo) never re-anchors.
 */
export const DEFAULT_REANCHOR_ROUNDS = 3;

/** Per-chain oracle limits (from config `chains[].oracle`). */
export interface OracleLimits {
  /** Oldest acceptable round, seconds before `nowSec`. */
  maxStalenessSec: number;
  /** Largest accepted move from the previous answer, basis points (10_000 = 100%). */
  maxDeviationBps: number;
  /**
   * Consecutive agreeing rounds refused for deviation alone that re-anchor the reference (see
   * {@link guardOracle}); 0 = never re-anchor (the guard before issue 14: a refused move locks the chain out
   * until the price comes back within `maxDeviationBps` of the old reference); 1 is not meaningful (every jump
   * accepted at once) and config refuses it. Absent = {@link DEFAULT_REANCHOR_ROUNDS}.
   */
  reanchorRounds?: number;
  /**
   * How close the evidence rounds must be to each other, bps of the smaller of each pair (every pair of the
   * evidence within it). Absent = `maxDeviationBps`.
   */
  reanchorAgreementBps?: number;
}

export type { OracleEvidence };

/**
 * What the guard carries for one feed from one read to the next: plain data (bigint and arrays), so it
 * crosses the Temporal payload boundary and replays deterministically. In the keeper it lives in the chain's
 * {@link ChainState} of the monitor's last snapshot (`lastAcceptedAnswer`, `oracleEvidence`; see
 * {@link guardStateOf}), i.e. in workflow state, carried through continue-as-new with that snapshot.
 */
export interface OracleGuardState {
  /** The deviation reference: the last accepted answer; absent = none yet (no deviation check). */
  reference?: bigint;
  /** Agreeing rounds refused for deviation alone since the reference, oldest first (at most `reanchorRounds − 1`). */
  evidence: readonly OracleEvidence[];
}

/**
 * The first failed rule of a refused read, in checking order, for the `reason` label of
 * `ballast_oracle_refusals_total` (a bounded set): `source` = a refusal by the oracle's own checks
 * (Pyth: confidence, verification) passed in through `extraReasons`.
 */
export type OracleRefusalKind = 'invalid_answer' | 'incomplete_round' | 'stale' | 'carried_over' | 'deviation' | 'source';

/** Verdict of {@link guardOracle}: the check, the state to carry, and what happened (for logs and metrics). */
export interface OracleGuardResult {
  /** As {@link checkOracle}'s, with the evidence count appended to a deviation reason. */
  check: OracleCheck;
  /** The state to carry to the next read of this feed. */
  state: OracleGuardState;
  /** Present when refused: the first failed rule, the agreeing rounds held as evidence now and the number needed (0 = never). */
  refusal?: { kind: OracleRefusalKind; evidence: number; needed: number };
  /** Present when this read re-anchored the reference: old and new reference, and the evidence's round ids (oldest first, this round last). */
  reanchor?: { from: bigint; to: bigint; roundIds: bigint[] };
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
  const { findings, ageSec } = oracleFindings(round, nowSec, limits, previousAnswer);
  return findings.length === 0 ? { ok: true, ageSec } : { ok: false, reason: findings.map((f) => f.text).join('; '), ageSec };
}

/** Every failed rule of one round, in checking order (see {@link checkOracle}). */
function oracleFindings(round: OracleRound, nowSec: bigint, limits: OracleLimits, previousAnswer?: bigint): { findings: { kind: OracleRefusalKind; text: string }[]; ageSec: bigint } {
  const findings: { kind: OracleRefusalKind; text: string }[] = [];
  const ageSec = round.updatedAtSec === 0n ? nowSec : nowSec > round.updatedAtSec ? nowSec - round.updatedAtSec : 0n;

  if (round.answer <= 0n) findings.push({ kind: 'invalid_answer', text: `invalid answer: ${round.answer} ≤ 0 (round ${round.roundId})` });
  if (round.updatedAtSec === 0n) {
    findings.push({ kind: 'incomplete_round', text: `incomplete round: updatedAt is 0 (round ${round.roundId} never completed)` });
  } else if (ageSec > BigInt(limits.maxStalenessSec)) {
    findings.push({ kind: 'stale', text: `stale: age ${ageSec}s > maxStalenessSec ${limits.maxStalenessSec}` });
  }
  if (round.answeredInRound < round.roundId) {
    findings.push({ kind: 'carried_over', text: `carried-over answer: answeredInRound ${round.answeredInRound} < roundId ${round.roundId}` });
  }
  if (previousAnswer !== undefined && previousAnswer > 0n && round.answer > 0n && !within(round.answer, previousAnswer, limits.maxDeviationBps)) {
    const diff = round.answer > previousAnswer ? round.answer - previousAnswer : previousAnswer - round.answer;
    findings.push({
      kind: 'deviation',
      text:
        `deviation: ${formatPrice(round.answer, round.decimals)} vs previous ${formatPrice(previousAnswer, round.decimals)} ` +
        `moved ${bpsString(diff, previousAnswer)} bps > maxDeviationBps ${limits.maxDeviationBps}`,
    });
  }
  return { findings, ageSec };
}

/** |answer − base| / base ≤ bps / 10_000, cross-multiplied to stay exact (`base` > 0). */
function within(answer: bigint, base: bigint, bps: number): boolean {
  const diff = answer > base ? answer - base : base - answer;
  return diff * 10_000n <= BigInt(bps) * base;
}

/** Two positive answers agree: their difference is at most `bps` of the smaller one. */
function agree(a: bigint, b: bigint, bps: number): boolean {
  return within(a > b ? a : b, a > b ? b : a, bps);
}

/**
 * Check one read of a feed with the recovering deviation guard, and return the state to carry to the next read.
 *
 * Rule (re-anchor on evidence, never on time alone):
 * - a round that passes every {@link checkOracle} rule against `state.reference` (and has no `extraReasons`) is
 *   accepted; it becomes the reference and the evidence is dropped;
 * - a round refused for deviation ALONE that is new (round id above the last evidence's) is evidence: it is kept
 *   with the longest run of the latest evidence rounds that agree with it (every pair within
 *   `reanchorAgreementBps`, default `maxDeviationBps`); when the evidence reaches `reanchorRounds` rounds, this
 *   round is accepted and becomes the reference (a re-anchor: `result.reanchor`);
 * - a round with a non-positive answer, an incomplete round (updatedAt 0), a carried-over answer or an
 *   `extraReasons` refusal is refused, is never evidence and breaks the run (the evidence is dropped), whatever its
 *   round id (an all-zero read says roundId 0);
 * - otherwise a re-read of a round already judged (round id ≤ the last evidence's: the same round on the next
 *   tick, or a lagging RPC's older one) is refused and changes nothing: no new evidence, and staleness acquired
 *   since it was first read does not undo what it showed when fresh;
 * - a new round stale when first seen is refused, never evidence, and breaks the run.
 * With `reanchorRounds` 0 no evidence is kept and a refused jump locks the chain out until the price comes back
 * within `maxDeviationBps` of the reference (the rule before issue 14).
 *
 * So a single spike (one round, or one round re-read for hours) is refused and never re-anchors; noise that
 * alternates across the reference never agrees with itself and never re-anchors; a step to a new level
 * re-anchors after `reanchorRounds` of its rounds. The evidence is the feed's own rounds: a feed that publishes
 * a wrong level for `reanchorRounds` rounds in a row is believed (a second source is not consulted).
 *
 * @param round the round as read (answer scaled by `10 ** decimals`).
 * @param nowSec reference time in seconds (the block timestamp the round was read at).
 * @param limits staleness, deviation and re-anchor limits.
 * @param state the state carried from the previous read of this feed (`{ evidence: [] }` for the first read).
 * @param extraReasons refusals by the oracle's own checks (e.g. Pyth confidence), joined into the reason; such a
 *   round is refused and is never evidence.
 * @returns the check, the next state, and `refusal` or `reanchor` for logs and metrics. Pure and deterministic;
 *   never throws.
 * @example
 *   let st: OracleGuardState = { evidence: [] };
 *   const r = guardOracle(round, block.timestamp, { maxStalenessSec: 3600, maxDeviationBps: 500, reanchorRounds: 3 }, st);
 *   st = r.state;
 */
export function guardOracle(round: OracleRound, nowSec: bigint, limits: OracleLimits, state: OracleGuardState, extraReasons: readonly string[] = []): OracleGuardResult {
  const needed = limits.reanchorRounds ?? DEFAULT_REANCHOR_ROUNDS;
  const { findings, ageSec } = oracleFindings(round, nowSec, limits, state.reference);
  const texts = [...findings.map((f) => f.text), ...extraReasons];
  if (texts.length === 0) return { check: { ok: true, ageSec }, state: { reference: round.answer, evidence: [] } };

  const refused = (kind: OracleRefusalKind, next: OracleGuardState, reason: string[] = texts): OracleGuardResult => ({
    check: { ok: false, reason: [...new Set(reason)].join('; '), ageSec },
    state: next,
    refusal: { kind, evidence: next.evidence.length, needed },
  });
  const kind: OracleRefusalKind = findings[0]?.kind ?? 'source';
  const reset: OracleGuardState = { ...state, evidence: [] };
  // A broken round (non-positive, incomplete, carried over, refused by the source's own checks) is never
  // evidence and breaks the run, whatever its round id (an all-zero read says roundId 0).
  const broken = extraReasons.length > 0 || findings.some((f) => f.kind !== 'stale' && f.kind !== 'deviation');
  if (broken || needed === 0) return refused(kind, reset);
  const last = state.evidence[state.evidence.length - 1];
  // A re-read of a round already judged (or a lagging RPC's older one): no new evidence, and staleness acquired
  // since it was first read does not undo what it showed when fresh.
  if (last !== undefined && round.roundId <= last.roundId) return refused(kind, state, withEvidence(texts, findings, state.evidence.length, needed));
  // A new round stale when first seen never counts, and breaks the run.
  if (findings.some((f) => f.kind === 'stale')) return refused(kind, reset);

  const agreementBps = limits.reanchorAgreementBps ?? limits.maxDeviationBps;
  let keep = state.evidence.length;
  while (keep > 0 && agree(state.evidence[keep - 1]!.answer, round.answer, agreementBps)) keep--;
  const evidence = [...state.evidence.slice(keep), { roundId: round.roundId, answer: round.answer, updatedAtSec: round.updatedAtSec }];
  if (evidence.length >= needed) {
    return {
      check: { ok: true, ageSec },
      state: { reference: round.answer, evidence: [] },
      reanchor: { from: state.reference!, to: round.answer, roundIds: evidence.map((e) => e.roundId) },
    };
  }
  const next = { ...state, evidence };
  return refused('deviation', next, withEvidence(texts, findings, evidence.length, needed));
}

/** The reason texts with the evidence count appended to the deviation one (kept inside it: no new `; ` part). */
function withEvidence(texts: string[], findings: { kind: OracleRefusalKind }[], evidence: number, needed: number): string[] {
  if (needed === 0) return texts;
  return texts.map((t, i) => (findings[i]?.kind === 'deviation' ? `${t} (re-anchor evidence ${evidence}/${needed} agreeing rounds)` : t));
}

/**
 * The guard state carried in a chain's last snapshot entry (`lastAcceptedAnswer`, `oracleEvidence`); an absent
 * entry, or one recorded before the guard recovered (no `oracleEvidence`), starts with no evidence.
 */
export function guardStateOf(previous: Pick<ChainState, 'lastAcceptedAnswer' | 'oracleEvidence'> | undefined): OracleGuardState {
  return { ...(previous?.lastAcceptedAnswer !== undefined ? { reference: previous.lastAcceptedAnswer } : {}), evidence: previous?.oracleEvidence ?? [] };
}

/** The chain-state fields that carry a guard state to the next snapshot (`oracleEvidence` omitted when empty). */
export function guardStateFields(state: OracleGuardState): Pick<ChainState, 'lastAcceptedAnswer' | 'oracleEvidence'> {
  return { lastAcceptedAnswer: state.reference, ...(state.evidence.length > 0 ? { oracleEvidence: [...state.evidence] } : {}) };
}
