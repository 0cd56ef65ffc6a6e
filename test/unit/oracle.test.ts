import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir } from '../../config/fixtures.js';
import { checkOracle, formatPrice } from '../../planner/oracle.js';
import type { OracleRound } from '../../planner/types.js';

/** Chainlink ETH/USD answers have 8 decimals (fixtures README). */
const ETH_USD_DECIMALS = 8;
const HOUR = { maxStalenessSec: 3600, maxDeviationBps: 10_000 };

/** Rounds of the real ETH/USD CSV in file order (newest first), or a skip reason. */
function loadEthUsd(): { rounds: OracleRound[] } | { skip: string } {
  const folder = path.join(fixturesDir(), 'prices');
  const name = fs.existsSync(folder) ? fs.readdirSync(folder).find((f) => /^eth_usd_.*\.csv$/.test(f)) : undefined;
  if (name === undefined) return { skip: `fixture prices/eth_usd_*.csv absent under ${fixturesDir()}` };
  const [header, ...rows] = fs.readFileSync(path.join(folder, name), 'utf8').trim().split('\n');
  assert.equal(header?.trim(), ',round,answer,start,update,answeredInRound', 'CSV columns changed');
  const rounds = rows.map((line) => {
    const [, round, answer, , update, answeredInRound] = line.trim().split(',');
    return {
      roundId: BigInt(round!),
      answer: BigInt(answer!),
      decimals: ETH_USD_DECIMALS,
      updatedAtSec: BigInt(update!),
      answeredInRound: BigInt(answeredInRound!),
    };
  });
  return { rounds };
}

const data = loadEthUsd();
const skip = 'skip' in data ? data.skip : false;
const rounds = 'rounds' in data ? data.rounds : [];

describe('checkOracle on real Chainlink ETH/USD rounds', () => {
  test('the real all-zero invalid round (last row) is refused for its zero answer and zero updatedAt', { skip }, () => {
    const last = rounds.at(-1)!;
    assert.equal(last.answer, 0n, 'the last row of the fixture is the all-zero round');
    const newest = rounds[0]!;
    const r = checkOracle(last, newest.updatedAtSec, HOUR);
    assert.equal(r.ok, false);
    assert.match(r.reason!, /^invalid answer: 0 ≤ 0 \(round \d+\); incomplete round: updatedAt is 0/);
    assert.equal(r.ageSec, newest.updatedAtSec);
  });

  test('every other real round is accepted when read within its heartbeat', { skip }, () => {
    for (const round of rounds.slice(0, -1)) {
      const r = checkOracle(round, round.updatedAtSec + 60n, HOUR);
      assert.deepEqual(r, { ok: true, ageSec: 60n }, `round ${round.roundId}`);
    }
  });

  test('a real round is stale one second past maxStalenessSec, and fine at exactly maxStalenessSec', { skip }, () => {
    const round = rounds[0]!;
    assert.deepEqual(checkOracle(round, round.updatedAtSec + 3600n, HOUR), { ok: true, ageSec: 3600n });
    const stale = checkOracle(round, round.updatedAtSec + 3601n, HOUR);
    assert.deepEqual(stale, { ok: false, reason: 'stale: age 3601s > maxStalenessSec 3600', ageSec: 3601n });
  });

  test('the largest move between consecutive real rounds is refused just below it and accepted at it', { skip }, () => {
    const valid = rounds.filter((r) => r.answer > 0n);
    let best = { bpsCeil: 0n, cur: valid[0]!, prev: valid[0]!.answer };
    // file order is newest first: rounds[i + 1] is the round before rounds[i]
    for (let i = 0; i + 1 < valid.length; i++) {
      const cur = valid[i]!;
      const prev = valid[i + 1]!.answer;
      const diff = cur.answer > prev ? cur.answer - prev : prev - cur.answer;
      const bpsCeil = (diff * 10_000n + prev - 1n) / prev;
      if (bpsCeil > best.bpsCeil) best = { bpsCeil, cur, prev };
    }
    assert.ok(best.bpsCeil > 1n, 'ETH moved in the period');
    const limits = (bps: bigint) => ({ maxStalenessSec: 3600, maxDeviationBps: Number(bps) });
    const at = best.cur.updatedAtSec;
    assert.equal(checkOracle(best.cur, at, limits(best.bpsCeil), best.prev).ok, true);
    const refused = checkOracle(best.cur, at, limits(best.bpsCeil - 1n), best.prev);
    assert.equal(refused.ok, false);
    assert.match(
      refused.reason!,
      new RegExp(
        `^deviation: ${escape(formatPrice(best.cur.answer, ETH_USD_DECIMALS))} vs previous ${escape(formatPrice(best.prev, ETH_USD_DECIMALS))} moved \\d+\\.\\d\\d bps > maxDeviationBps ${best.bpsCeil - 1n}$`,
      ),
    );
  });

  test('an answer carried over from an earlier round (answeredInRound < roundId) is refused', { skip }, () => {
    const round = { ...rounds[0]!, answeredInRound: rounds[0]!.roundId - 1n };
    const r = checkOracle(round, round.updatedAtSec, HOUR);
    assert.equal(r.ok, false);
    assert.equal(r.reason, `carried-over answer: answeredInRound ${round.roundId - 1n} < roundId ${round.roundId}`);
  });
});

describe('checkOracle rules', () => {
  const base: OracleRound = { roundId: 10n, answer: 200_000_000_000n, decimals: 8, updatedAtSec: 1_000n, answeredInRound: 10n };

  test('a negative answer is refused', () => {
    const r = checkOracle({ ...base, answer: -1n }, 1_000n, HOUR);
    assert.deepEqual(r, { ok: false, reason: 'invalid answer: -1 ≤ 0 (round 10)', ageSec: 0n });
  });

  test('a round timestamped after nowSec is accepted with age 0', () => {
    assert.deepEqual(checkOracle(base, 900n, HOUR), { ok: true, ageSec: 0n });
  });

  test('deviation is measured against the previous answer, exactly at the limit is accepted', () => {
    const limits = { maxStalenessSec: 3600, maxDeviationBps: 500 };
    assert.equal(checkOracle({ ...base, answer: 210_000_000_000n }, 1_000n, limits, 200_000_000_000n).ok, true, '+5.00% is at the limit');
    const r = checkOracle({ ...base, answer: 189_999_999_999n }, 1_000n, limits, 200_000_000_000n);
    assert.deepEqual(r, {
      ok: false,
      reason: 'deviation: 1899.99999999 vs previous 2000 moved 500.00 bps > maxDeviationBps 500',
      ageSec: 0n,
    });
  });

  test('without a previous answer there is no deviation check', () => {
    assert.equal(checkOracle({ ...base, answer: 1n }, 1_000n, { maxStalenessSec: 1, maxDeviationBps: 1 }).ok, true);
  });

  test('several failures are all reported', () => {
    const r = checkOracle({ ...base, answeredInRound: 9n }, 10_000n, { maxStalenessSec: 3600, maxDeviationBps: 500 }, 100_000_000_000n);
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.reason!.split('; ').map((s) => s.split(':')[0]),
      ['stale', 'carried-over answer', 'deviation'],
    );
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
