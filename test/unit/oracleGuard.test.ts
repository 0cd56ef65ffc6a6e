/**
 * The recovering oracle guard (planner/oracle.ts `guardOracle`, issue 14): the deviation reference re-anchors on
 * evidence (`reanchorRounds` consecutive agreeing rounds refused for deviation alone), never on elapsed time.
 * Synthetic sequences for each rule, then the real Chainlink rounds of the fixtures (read at run time from
 * config/fixtures.ts `fixturesDir()`; skipped with the reason when absent).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir } from '../../config/fixtures.js';
import { CONFIG_DEFAULTS, exampleConfig, parseConfig } from '../../config/index.js';
import { DEFAULT_REANCHOR_ROUNDS, checkOracle, guardOracle, guardStateFields, guardStateOf, type OracleGuardResult, type OracleGuardState, type OracleLimits } from '../../planner/oracle.js';
import type { OracleRound } from '../../planner/types.js';
import { bigintReplacer, bigintReviver } from '../../workflows/payloadConverter.js';

const USD = 10n ** 8n;
const LIMITS: OracleLimits = { maxStalenessSec: 3600, maxDeviationBps: 500, reanchorRounds: 3 };

/** A complete, fresh round `id` at `answer` (8 decimals), published at `id * 60` s. */
const round = (id: number, answer: bigint): OracleRound => ({ roundId: BigInt(id), answer, decimals: 8, updatedAtSec: BigInt(id * 60), answeredInRound: BigInt(id) });

/** Feeds `reads` (each read at its round's publication + 30 s unless `nowSec` is given) through the guard. */
function replay(reads: readonly { r: OracleRound; nowSec?: bigint }[], limits: OracleLimits = LIMITS, start: OracleGuardState = { evidence: [] }): { results: OracleGuardResult[]; state: OracleGuardState } {
  let state = start;
  const results: OracleGuardResult[] = [];
  for (const { r, nowSec } of reads) {
    const g = guardOracle(r, nowSec ?? r.updatedAtSec + 30n, limits, state);
    results.push(g);
    state = g.state;
  }
  return { results, state };
}

const accepted = { evidence: [] as const, reference: 2000n * USD };

describe('guardOracle on synthetic sequences', () => {
  test('a +5.5% step is refused, then re-anchors after reanchorRounds agreeing rounds; re-reads of one round count once', () => {
    const { results, state } = replay(
      [
        { r: round(2, 2110n * USD) }, // +5.5%
        { r: round(2, 2110n * USD), nowSec: 200n }, // the same round on the next ticks: no new evidence
        { r: round(2, 2110n * USD), nowSec: 400n },
        { r: round(3, 2112n * USD) },
        { r: round(4, 2109n * USD) },
        { r: round(5, 2115n * USD) },
      ],
      LIMITS,
      accepted,
    );
    assert.deepEqual(results.map((g) => g.check.ok), [false, false, false, false, true, true]);
    assert.deepEqual(results.slice(0, 4).map((g) => g.refusal), [
      { kind: 'deviation', evidence: 1, needed: 3 },
      { kind: 'deviation', evidence: 1, needed: 3 },
      { kind: 'deviation', evidence: 1, needed: 3 },
      { kind: 'deviation', evidence: 2, needed: 3 },
    ]);
    assert.equal(results[0]!.check.reason, 'deviation: 2110 vs previous 2000 moved 550.00 bps > maxDeviationBps 500 (re-anchor evidence 1/3 agreeing rounds)');
    assert.deepEqual(results[4]!.reanchor, { from: 2000n * USD, to: 2109n * USD, roundIds: [2n, 3n, 4n] });
    assert.equal(results[5]!.reanchor, undefined, 'after the re-anchor, the new level is checked normally');
    assert.deepEqual(state, { reference: 2115n * USD, evidence: [] });
  });

  test('a single outlier spike is refused and does not re-anchor, even re-read for a day; the next normal round is accepted', () => {
    const spike = round(2, 2300n * USD); // +15%
    const reads = [{ r: spike }, ...Array.from({ length: 24 }, (_, h) => ({ r: spike, nowSec: spike.updatedAtSec + BigInt(h * 60) }))];
    const during = replay(reads, { ...LIMITS, maxStalenessSec: 86_400 }, accepted);
    assert.ok(during.results.every((g) => !g.check.ok && g.reanchor === undefined));
    assert.equal(during.state.evidence.length, 1);
    assert.equal(during.state.reference, 2000n * USD);
    const after = replay([{ r: round(3, 2004n * USD) }, { r: round(4, 2006n * USD) }], LIMITS, during.state);
    assert.deepEqual(after.results.map((g) => [g.check.ok, g.reanchor]), [[true, undefined], [true, undefined]]);
    assert.deepEqual(after.state, { reference: 2006n * USD, evidence: [] }, 'the spike left no evidence behind');
  });

  test('two spikes in opposite directions, or alternating noise across the reference, never re-anchor', () => {
    const noise = Array.from({ length: 40 }, (_, i) => ({ r: round(i + 2, i % 2 === 0 ? 2120n * USD : 1880n * USD) }));
    const { results, state } = replay(noise, LIMITS, accepted);
    assert.ok(results.every((g) => !g.check.ok && g.reanchor === undefined), 'every noisy round refused, none re-anchors');
    assert.ok(results.every((g) => g.refusal?.evidence === 1), 'each round disagrees with the one before: the run restarts');
    assert.equal(state.reference, 2000n * USD);
  });

  test('evidence must agree pairwise: a steep run keeps only the agreeing tail', () => {
    // 2110 → 2200 (4.3% apart: 2) → 2330 (5.9% from 2200: a new run of 1) → 2340 (2) → 2335 (3: re-anchor)
    const { results } = replay([{ r: round(2, 2110n * USD) }, { r: round(3, 2200n * USD) }, { r: round(4, 2330n * USD) }, { r: round(5, 2340n * USD) }, { r: round(6, 2335n * USD) }], LIMITS, accepted);
    assert.deepEqual(results.map((g) => g.refusal?.evidence ?? 'ok'), [1, 2, 1, 2, 'ok']);
    assert.deepEqual(results[4]!.reanchor?.roundIds, [4n, 5n, 6n]);
  });

  test('an all-zero round and a non-positive answer are refused, never evidence, and break the run', () => {
    const zero: OracleRound = { roundId: 0n, answer: 0n, decimals: 8, updatedAtSec: 0n, answeredInRound: 0n };
    const { results, state } = replay(
      [{ r: round(2, 2110n * USD) }, { r: round(3, 2111n * USD) }, { r: zero, nowSec: 300n }, { r: round(5, 2112n * USD) }, { r: round(6, -1n) }, { r: round(7, 2110n * USD) }, { r: round(8, 2111n * USD) }, { r: round(9, 2112n * USD) }],
      LIMITS,
      accepted,
    );
    assert.deepEqual(results.map((g) => g.refusal?.kind ?? 'ok'), ['deviation', 'deviation', 'invalid_answer', 'deviation', 'invalid_answer', 'deviation', 'deviation', 'ok']);
    assert.deepEqual(results.map((g) => g.refusal?.evidence ?? 'ok'), [1, 2, 0, 1, 0, 1, 2, 'ok']);
    assert.match(results[2]!.check.reason!, /^invalid answer: 0 ≤ 0 \(round 0\); incomplete round: updatedAt is 0/);
    assert.deepEqual(results[7]!.reanchor?.roundIds, [7n, 8n, 9n]);
    assert.equal(state.reference, 2112n * USD);
    // Any number of distinct all-zero or incomplete rounds never re-anchor.
    const zeros = replay(Array.from({ length: 10 }, (_, i) => ({ r: { ...round(i + 2, i % 2 ? 0n : 2110n * USD), updatedAtSec: 0n }, nowSec: 1000n })), LIMITS, accepted);
    assert.ok(zeros.results.every((g) => !g.check.ok && g.refusal!.evidence === 0));
  });

  test('a stale round never counts and breaks the run; a counted round that goes stale on a re-read does not undo it', () => {
    const r2 = round(2, 2110n * USD);
    const r3 = round(3, 2111n * USD);
    const { results } = replay(
      [
        { r: r2 },
        { r: r2, nowSec: r2.updatedAtSec + 3601n }, // re-read after it aged: still 1
        { r: r3, nowSec: r3.updatedAtSec + 3601n }, // a new round stale when first seen: not evidence, run broken
        { r: round(4, 2112n * USD) },
        { r: round(5, 2110n * USD) },
        { r: round(6, 2113n * USD) },
      ],
      LIMITS,
      accepted,
    );
    assert.deepEqual(results.map((g) => g.refusal?.kind ?? 'ok'), ['deviation', 'stale', 'stale', 'deviation', 'deviation', 'ok']);
    assert.deepEqual(results.map((g) => g.refusal?.evidence ?? 'ok'), [1, 1, 0, 1, 2, 'ok']);
    assert.deepEqual(results[5]!.reanchor?.roundIds, [4n, 5n, 6n]);
    // Distinct rounds, each stale when read, never re-anchor however many there are.
    const stale = replay(Array.from({ length: 10 }, (_, i) => ({ r: round(i + 2, 2110n * USD), nowSec: round(i + 2, 0n).updatedAtSec + 4000n })), LIMITS, accepted);
    assert.ok(stale.results.every((g) => !g.check.ok && g.refusal!.evidence === 0));
  });

  test('a carried-over answer and a refusal by the source (Pyth) are never evidence', () => {
    const carried = { ...round(3, 2111n * USD), answeredInRound: 2n };
    const { results } = replay([{ r: round(2, 2110n * USD) }, { r: carried }, { r: round(4, 2110n * USD) }], LIMITS, accepted);
    assert.deepEqual(results.map((g) => [g.refusal?.kind, g.refusal?.evidence]), [['deviation', 1], ['carried_over', 0], ['deviation', 1]]);
    let st: OracleGuardState = accepted;
    for (let id = 2; id < 8; id++) {
      const g = guardOracle(round(id, 2110n * USD), BigInt(id * 60 + 30), LIMITS, st, ['pyth: confidence 300 bps > maxConfBps 200']);
      assert.deepEqual([g.check.ok, g.refusal?.kind, g.refusal?.evidence], [false, 'deviation', 0]);
      assert.match(g.check.reason!, /; pyth: confidence/);
      st = g.state;
    }
    const pythOnly = guardOracle(round(9, 2001n * USD), 570n, LIMITS, accepted, ['pyth: partially verified']);
    assert.deepEqual([pythOnly.check, pythOnly.refusal?.kind], [{ ok: false, reason: 'pyth: partially verified', ageSec: 30n }, 'source']);
  });

  test('reanchorRounds 0 never re-anchors (the guard before issue 14); reanchorAgreementBps narrows agreement', () => {
    const step = Array.from({ length: 50 }, (_, i) => ({ r: round(i + 2, 2110n * USD + BigInt(i) * USD) }));
    const never = replay(step, { ...LIMITS, reanchorRounds: 0 }, accepted);
    assert.ok(never.results.every((g) => !g.check.ok && g.refusal!.needed === 0 && g.refusal!.evidence === 0));
    assert.equal(never.results[0]!.check.reason, 'deviation: 2110 vs previous 2000 moved 550.00 bps > maxDeviationBps 500', 'no evidence note');
    const tight = replay([{ r: round(2, 2110n * USD) }, { r: round(3, 2140n * USD) }, { r: round(4, 2150n * USD) }, { r: round(5, 2151n * USD) }], { ...LIMITS, reanchorAgreementBps: 100 }, accepted);
    assert.deepEqual(tight.results.map((g) => g.refusal?.evidence ?? 'ok'), [1, 1, 2, 'ok'], '2110 vs 2140 is 1.4% > 1%');
  });

  test('an accepted round clears the evidence; without a reference nothing is refused for deviation', () => {
    const { results, state } = replay([{ r: round(2, 2110n * USD) }, { r: round(3, 2090n * USD) }, { r: round(4, 2115n * USD) }], LIMITS, accepted);
    assert.deepEqual(results.map((g) => g.refusal?.evidence ?? 'ok'), [1, 'ok', 'ok']);
    assert.deepEqual(state, { reference: 2115n * USD, evidence: [] });
    assert.deepEqual(guardOracle(round(2, 1n), 150n, LIMITS, { evidence: [] }), { check: { ok: true, ageSec: 30n }, state: { reference: 1n, evidence: [] } });
  });

  test('the verdict equals checkOracle when no evidence is involved', () => {
    for (const r of [round(2, 2004n * USD), round(2, 2600n * USD), { ...round(2, 0n), updatedAtSec: 0n }]) {
      const c = checkOracle(r, 150n, LIMITS, 2000n * USD);
      const g = guardOracle(r, 150n, { ...LIMITS, reanchorRounds: 0 }, accepted);
      assert.deepEqual(g.check, c);
    }
  });

  test('the state is plain data: it survives the workflow payload JSON and the snapshot fields unchanged, and replays identically', () => {
    const seq = [{ r: round(2, 2110n * USD) }, { r: round(3, 2111n * USD) }];
    const a = replay(seq, LIMITS, accepted);
    const wire = JSON.parse(JSON.stringify(guardStateFields(a.state), bigintReplacer), bigintReviver) as ReturnType<typeof guardStateFields>;
    assert.deepEqual(guardStateOf(wire), a.state);
    const next = guardOracle(round(4, 2112n * USD), 270n, LIMITS, guardStateOf(wire));
    assert.deepEqual(next.reanchor?.roundIds, [2n, 3n, 4n]);
    assert.deepEqual(replay(seq, LIMITS, accepted), a, 'deterministic');
    assert.deepEqual(guardStateOf(undefined), { evidence: [] });
    assert.deepEqual(guardStateOf({ lastAcceptedAnswer: 5n }), { reference: 5n, evidence: [] }, 'a snapshot recorded before the guard recovered');
    assert.deepEqual(guardStateFields({ reference: 5n, evidence: [] }), { lastAcceptedAnswer: 5n }, 'no oracleEvidence field when empty');
  });

  test("config: existing oracle limits stay valid and get the guard's default; 0 and 2.. are accepted, 1 is refused", () => {
    assert.equal(CONFIG_DEFAULTS.oracle.reanchorRounds, DEFAULT_REANCHOR_ROUNDS);
    const addr = (n: number): `0x${string}` => `0x${n.toString(16).padStart(40, '0')}`;
    const contracts = { multicall3: addr(1), endpoint: addr(2), token: addr(3), vault: addr(4), route: addr(5), priceFeed: addr(6) };
    const input = (oracle?: Record<string, number>) => {
      const cfg = exampleConfig({ chains: [{ key: 'alpha', chainId: 31337, rpcUrl: 'http://127.0.0.1:8545', eid: 40101, contracts }, { key: 'beta', chainId: 31338, rpcUrl: 'http://127.0.0.1:8546', eid: 40102, contracts }] });
      if (oracle) for (const c of cfg.chains) c.oracle = { ...c.oracle, ...oracle } as typeof c.oracle;
      return cfg;
    };
    assert.deepEqual(parseConfig(input()).chains[0]!.oracle, { maxStalenessSec: 3600, maxDeviationBps: 500, reanchorRounds: 3 });
    assert.equal(parseConfig(input({ reanchorRounds: 0 })).chains[0]!.oracle.reanchorRounds, 0);
    assert.deepEqual(parseConfig(input({ reanchorRounds: 5, reanchorAgreementBps: 100 })).chains[1]!.oracle, { maxStalenessSec: 3600, maxDeviationBps: 500, reanchorRounds: 5, reanchorAgreementBps: 100 });
    assert.throws(() => parseConfig(input({ reanchorRounds: 1 })), /chains\[0\]\.oracle\.reanchorRounds: must be 0 \(never re-anchor\) or ≥ 2/);
    assert.throws(() => parseConfig(input({ reanchorRounds: 2.5 })), /reanchorRounds: must be an integer number of rounds/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Real Chainlink rounds (fixtures/prices/*.csv: ETH/USD ~hourly 2023-04..2024-01, stETH/ETH daily 2022-01..2024-01).

/** The rounds of a Chainlink CSV of the fixtures in roundId order, or a skip reason. */
function loadFeed(prefix: string, decimals: number): { rounds: OracleRound[] } | { skip: string } {
  const folder = path.join(fixturesDir(), 'prices');
  const name = fs.existsSync(folder) ? fs.readdirSync(folder).find((f) => f.startsWith(prefix) && f.endsWith('.csv')) : undefined;
  if (name === undefined) return { skip: `fixture prices/${prefix}*.csv absent under ${fixturesDir()}` };
  const [header, ...rows] = fs.readFileSync(path.join(folder, name), 'utf8').trim().split('\n');
  assert.equal(header?.trim(), ',round,answer,start,update,answeredInRound', 'CSV columns changed');
  const rounds = rows.map((line) => {
    const [, id, answer, , update, answeredInRound] = line.trim().split(',');
    return { roundId: BigInt(id!), answer: BigInt(answer!), decimals, updatedAtSec: BigInt(update!), answeredInRound: BigInt(answeredInRound!) };
  });
  return { rounds: rounds.sort((a, b) => (a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0)) };
}

/**
 * Reads the feed every `stepSec` (the round current then, as the backtest does) through the guard: hours refused
 * (lock-out), the longest run of them, and the re-anchors.
 */
function sweep(rounds: readonly OracleRound[], limits: OracleLimits, stepSec: bigint): { lockoutSteps: number; longest: number; reanchors: OracleGuardResult['reanchor'][]; refusals: OracleGuardResult[] } {
  const valid = rounds.filter((r) => r.updatedAtSec > 0n);
  let st: OracleGuardState = { evidence: [] };
  let i = 0;
  let lockoutSteps = 0;
  let run = 0;
  let longest = 0;
  const reanchors: OracleGuardResult['reanchor'][] = [];
  const refusals: OracleGuardResult[] = [];
  for (let t = valid[0]!.updatedAtSec; t <= valid[valid.length - 1]!.updatedAtSec; t += stepSec) {
    while (i + 1 < valid.length && valid[i + 1]!.updatedAtSec <= t) i++;
    const g = guardOracle(valid[i]!, t, limits, st);
    st = g.state;
    if (g.reanchor) reanchors.push(g.reanchor);
    if (g.check.ok) run = 0;
    else {
      refusals.push(g);
      lockoutSteps++;
      longest = Math.max(longest, ++run);
    }
  }
  return { lockoutSteps, longest, reanchors, refusals };
}

const eth = loadFeed('eth_usd_', 8);
const ethSkip = 'skip' in eth ? eth.skip : false;
const ethRounds = 'rounds' in eth ? eth.rounds : [];
const steth = loadFeed('steth_eth_', 18);
const stethSkip = 'skip' in steth ? steth.skip : false;
const stethRounds = 'rounds' in steth ? steth.rounds : [];
const HOUR = 3600n;

describe('guardOracle on real Chainlink rounds', () => {
  test('ETH/USD read hourly with a 300 bps limit: the old guard locks out for most of the history, the recovering one for hours', { skip: ethSkip }, () => {
    const limits: OracleLimits = { maxStalenessSec: 3600, maxDeviationBps: 300 };
    const before = sweep(ethRounds, { ...limits, reanchorRounds: 0 }, HOUR);
    const after = sweep(ethRounds, { ...limits, reanchorRounds: 3 }, HOUR);
    // Figures of the run (printed for the report): the old reference is left behind by a real move and never caught up.
    console.log(`ETH/USD hourly, 300 bps: lock-out ${before.lockoutSteps} h (longest ${before.longest} h) → ${after.lockoutSteps} h (longest ${after.longest} h), ${after.reanchors.length} re-anchors`);
    assert.ok(before.longest > 24 * 30, `the old guard stays locked for over a month in one run (${before.longest} h)`);
    assert.equal(before.reanchors.length, 0);
    assert.ok(after.reanchors.length > 0);
    assert.ok(after.longest <= 24, `the recovering guard is never locked out for a day (${after.longest} h)`);
    assert.ok(after.lockoutSteps * 10 < before.lockoutSteps, `at least 10× fewer lock-out hours (${before.lockoutSteps} → ${after.lockoutSteps})`);
    // Every re-anchor is backed by 3 distinct increasing rounds that agree pairwise within the limit.
    const byId = new Map(ethRounds.map((r) => [r.roundId, r]));
    for (const ra of after.reanchors) {
      assert.equal(ra!.roundIds.length, 3);
      assert.ok(ra!.roundIds[0]! < ra!.roundIds[1]! && ra!.roundIds[1]! < ra!.roundIds[2]!);
      const answers = ra!.roundIds.map((id) => byId.get(id)!.answer);
      const lo = answers.reduce((m, a) => (a < m ? a : m));
      const hi = answers.reduce((m, a) => (a > m ? a : m));
      assert.ok((hi - lo) * 10_000n <= 300n * lo, `round ids ${ra!.roundIds.join(', ')} agree`);
    }
  });

  test('ETH/USD with the keeper limits (500 bps): real moves re-anchor only on agreeing rounds, never on elapsed time', { skip: ethSkip }, () => {
    const limits: OracleLimits = { maxStalenessSec: 3600, maxDeviationBps: 500 };
    const before = sweep(ethRounds, { ...limits, reanchorRounds: 0 }, HOUR);
    const after = sweep(ethRounds, limits, HOUR);
    console.log(`ETH/USD hourly, 500 bps: lock-out ${before.lockoutSteps} h (longest ${before.longest} h) → ${after.lockoutSteps} h (longest ${after.longest} h), ${after.reanchors.length} re-anchors`);
    assert.ok(after.lockoutSteps <= before.lockoutSteps);
    // Every refusal that is a re-read of the same round keeps the evidence count; the count never exceeds K − 1.
    assert.ok(after.refusals.every((g) => g.refusal!.evidence <= 2));
  });

  test('the real all-zero ETH/USD round is refused and never evidence, even read between agreeing rounds', { skip: ethSkip }, () => {
    const zero = ethRounds.find((r) => r.answer === 0n)!;
    assert.ok(zero, 'the fixture has its all-zero round');
    const real = ethRounds.filter((r) => r.answer > 0n).slice(1000, 1003);
    const ref = (real[0]!.answer * 90n) / 100n; // a reference 10% below: these three rounds are a real new level
    let st: OracleGuardState = { reference: ref, evidence: [] };
    const kinds: string[] = [];
    for (const r of [real[0]!, real[1]!, zero, zero, zero, real[2]!]) {
      const g = guardOracle(r, r.updatedAtSec === 0n ? real[1]!.updatedAtSec : r.updatedAtSec, { maxStalenessSec: 3600, maxDeviationBps: 500 }, st);
      st = g.state;
      kinds.push(g.reanchor ? 'reanchor' : g.check.ok ? 'ok' : `${g.refusal!.kind}:${g.refusal!.evidence}`);
    }
    assert.deepEqual(kinds, ['deviation:1', 'deviation:2', 'invalid_answer:0', 'invalid_answer:0', 'invalid_answer:0', 'deviation:1']);
    assert.equal(st.reference, ref, 'the zero round broke the run: no re-anchor');
  });

  test('a real ETH/USD round re-read past maxStalenessSec does not count twice', { skip: ethSkip }, () => {
    const r = ethRounds.filter((x) => x.answer > 0n)[5000]!;
    const ref = (r.answer * 100n) / 110n;
    let st: OracleGuardState = { reference: ref, evidence: [] };
    for (let k = 0; k < 48; k++) st = guardOracle(r, r.updatedAtSec + BigInt(k) * 600n, { maxStalenessSec: 3600, maxDeviationBps: 500 }, st).state;
    assert.deepEqual(st, { reference: ref, evidence: [{ roundId: r.roundId, answer: r.answer, updatedAtSec: r.updatedAtSec }] }, 'one round, read 48 times over 8 hours: one piece of evidence, no re-anchor');
  });

  test('stETH/ETH (daily) through the 2022 depeg at 200 bps: every re-anchor is on three agreeing daily rounds', { skip: stethSkip }, () => {
    const limits: OracleLimits = { maxStalenessSec: 90_000, maxDeviationBps: 200 };
    const before = sweep(stethRounds, { ...limits, reanchorRounds: 0 }, HOUR);
    const after = sweep(stethRounds, limits, HOUR);
    console.log(`stETH/ETH hourly reads, 200 bps: lock-out ${before.lockoutSteps} h (longest ${before.longest} h) → ${after.lockoutSteps} h (longest ${after.longest} h), ${after.reanchors.length} re-anchors`);
    assert.ok(after.lockoutSteps <= before.lockoutSteps);
    for (const ra of after.reanchors) assert.equal(new Set(ra!.roundIds).size, 3);
  });
});
