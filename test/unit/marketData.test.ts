/**
 * devnet/marketData.ts: the market driver's utilization paths and price rounds, from the real fixtures
 * (skipped with a reason when absent), from small hand-made CSVs, and synthetic when the files are missing.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixturePath } from '../../config/fixtures.js';
import {
  AAVE_RATES_FIXTURE,
  MAX_REPLAY_UTILIZATION_WAD,
  decimalToWad,
  isInvalidRound,
  loadInvalidRounds,
  loadPriceRounds,
  loadUtilizationPaths,
  type PriceRound,
} from '../../devnet/marketData.js';
import { WAD } from '../../planner/types.js';

const NETWORKS = ['ethereum', 'arbitrum', 'base'];

/** Runs `fn` with BALLAST_FIXTURES_DIR set to `dir`, restoring the previous value after. */
function withFixturesDir<T>(dir: string, fn: () => T): T {
  const saved = process.env.BALLAST_FIXTURES_DIR;
  process.env.BALLAST_FIXTURES_DIR = dir;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.BALLAST_FIXTURES_DIR;
    else process.env.BALLAST_FIXTURES_DIR = saved;
  }
}

function assertOldestFirst(rounds: PriceRound[]): void {
  for (let i = 1; i < rounds.length; i++) {
    assert.ok(rounds[i]!.roundId > rounds[i - 1]!.roundId, `roundId strictly increasing at ${i}`);
    assert.ok(rounds[i]!.updatedAtSec >= rounds[i - 1]!.updatedAtSec, `updatedAt non-decreasing at ${i}`);
  }
}

describe('decimalToWad', () => {
  test('parses plain decimals, integers and exponents exactly', () => {
    assert.equal(decimalToWad('0.5'), WAD / 2n);
    assert.equal(decimalToWad('1'), WAD);
    assert.equal(decimalToWad('1.0'), WAD);
    assert.equal(decimalToWad('.25'), WAD / 4n);
    assert.equal(decimalToWad('0.123456789012345678'), 123456789012345678n);
    assert.equal(decimalToWad('6.5e-05'), 65n * 10n ** 12n);
    assert.equal(decimalToWad('1E+2'), 100n * WAD);
    assert.equal(decimalToWad('-0.1'), -(WAD / 10n));
  });

  test('truncates digits past the 18th decimal instead of rounding through a float', () => {
    assert.equal(decimalToWad('0.1234567890123456789'), 123456789012345678n);
    assert.equal(decimalToWad('1e-19'), 0n);
  });

  test('rejects text that is not a number and names where it came from', () => {
    for (const bad of ['', 'abc', '1.2.3', '.', 'e5', '0x10', '1e']) {
      assert.throws(() => decimalToWad(bad, 'file.csv:7 implied_utilization'), /file\.csv:7 implied_utilization: '.*' is not a decimal number/, bad);
    }
  });
});

describe('real fixtures', () => {
  const skip = fixturePath(AAVE_RATES_FIXTURE) ? false : `fixture ${AAVE_RATES_FIXTURE} absent (set BALLAST_FIXTURES_DIR or provide ../shared/fixtures)`;
  const skipPrices = loadPriceRounds().source === 'fixture' ? false : 'fixture prices/eth_usd_*.csv absent';

  test('utilization paths cover the requested networks, aligned day by day, oldest first, in [0, 0.99]', { skip }, () => {
    const u = loadUtilizationPaths({ networks: NETWORKS, symbol: 'USDC' });
    assert.equal(u.source, 'fixture');
    assert.match(u.note, /Aave v3 USDC implied utilization from .*aave_v3_daily_rates_13chains\.csv/);
    assert.deepEqual(Object.keys(u.paths).sort(), [...NETWORKS].sort());
    assert.ok(u.days.length > 30, `only ${u.days.length} common days`);
    for (let i = 0; i < u.days.length; i++) {
      assert.match(u.days[i]!, /^\d{4}-\d{2}-\d{2}$/);
      if (i > 0) assert.ok(u.days[i]! > u.days[i - 1]!, `days strictly increasing at ${i}`);
    }
    for (const n of NETWORKS) {
      const p = u.paths[n]!;
      assert.equal(p.length, u.days.length, `${n} aligned with days`);
      assert.ok(p.every((v) => v >= 0n && v <= MAX_REPLAY_UTILIZATION_WAD), `${n} values in [0, 0.99 WAD]`);
      assert.ok(new Set(p).size > 10, `${n} path actually varies`);
      assert.match(u.reserves[n]!, /^0x[0-9a-f]{40}$/);
    }
  });

  test('per network the reserve with the most rows is chosen (native USDC over bridged)', { skip }, () => {
    const file = fixturePath(AAVE_RATES_FIXTURE)!;
    const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
    const col = (name: string): number => header!.split(',').indexOf(name);
    const [iNet, iSym, iAsset, iU] = [col('network'), col('symbol'), col('asset_address'), col('implied_utilization')];
    const u = loadUtilizationPaths({ networks: NETWORKS, symbol: 'USDC' });
    for (const n of NETWORKS) {
      const counts = new Map<string, number>();
      for (const l of lines) {
        const c = l.split(',');
        if (c[iNet] === n && c[iSym] === 'USDC' && c[iU] !== '') counts.set(c[iAsset]!, (counts.get(c[iAsset]!) ?? 0) + 1);
      }
      const max = Math.max(...counts.values());
      assert.equal(counts.get(u.reserves[n]!), max, `${n}: chosen reserve has the most rows`);
    }
  });

  test('loading again, networks in another order, gives identical days and paths', { skip }, () => {
    const a = loadUtilizationPaths({ networks: NETWORKS, symbol: 'USDC' });
    const b = loadUtilizationPaths({ networks: [...NETWORKS].reverse(), symbol: 'USDC' });
    assert.deepEqual(b.days, a.days);
    for (const n of NETWORKS) assert.deepEqual(b.paths[n], a.paths[n], n);
  });

  test('an unknown network fails with the list of networks that have the symbol', { skip }, () => {
    assert.throws(() => loadUtilizationPaths({ networks: ['ethereum', 'atlantis'], symbol: 'USDC' }), /no USDC rows .* for network 'atlantis'\. Networks with USDC: .*ethereum/);
  });

  test('price rounds are oldest first with strictly increasing round ids and positive answers', { skip: skipPrices }, () => {
    const p = loadPriceRounds();
    assert.equal(p.source, 'fixture');
    assert.equal(p.decimals, 8);
    assert.ok(p.rounds.length > 1000, `only ${p.rounds.length} rounds`);
    assertOldestFirst(p.rounds);
    assert.ok(p.rounds.every((r) => !isInvalidRound(r) && r.answeredInRound === r.roundId));
    // 8 decimals: ETH/USD between 100 and 100 000 USD
    assert.ok(p.rounds.every((r) => r.answer > 100n * 10n ** 8n && r.answer < 100_000n * 10n ** 8n));
  });

  test('the real all-zero round is held out of the replay and available from loadInvalidRounds', { skip: skipPrices }, () => {
    const invalid = loadInvalidRounds();
    assert.equal(invalid.source, 'fixture');
    assert.ok(invalid.rounds.length >= 1);
    const zero = invalid.rounds.find((r) => r.answer === 0n && r.updatedAtSec === 0n && r.startedAtSec === 0n);
    assert.ok(zero, 'an all-zero round is among the invalid rounds');
    const replayIds = new Set(loadPriceRounds().rounds.map((r) => r.roundId));
    assert.ok(invalid.rounds.every((r) => !replayIds.has(r.roundId)), 'no invalid round in the replay');
  });
});

describe('hand-made fixture files', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-marketdata-'));
    fs.mkdirSync(path.join(dir, 'lending'));
    fs.mkdirSync(path.join(dir, 'prices'));
    const H = 'date,snapshot_time,source_commit,network,symbol,asset_address,liquidity_rate,variable_borrow_rate,reserve_factor,liquidity_index,variable_borrow_index,reserve_last_update_ts,implied_utilization,supply_cap,borrow_cap,frozen,paused';
    const row = (date: string, snap: string, net: string, sym: string, asset: string, u: string): string =>
      `${date},${snap},c,${net},${sym},${asset},0,0,0,1,1,0,${u},0,0,False,False`;
    fs.writeFileSync(
      path.join(dir, 'lending', 'aave_v3_daily_rates_13chains.csv'),
      [
        H,
        // net A: native reserve (3 rows) and bridged (1 row, higher values): native must win.
        row('2025-01-03', '2025-01-03T12:00:00-05:00', 'a', 'USDC', '0xNATIVE', '0.7'),
        row('2025-01-01', '2025-01-01T12:00:00-05:00', 'a', 'USDC', '0xnative', '0.5'),
        row('2025-01-02', '2025-01-02T12:00:00-05:00', 'a', 'USDC', '0xnative', '6.5e-01'),
        row('2025-01-01', '2025-01-01T12:00:00-05:00', 'a', 'USDC', '0xbridged', '0.9'),
        row('2025-01-01', '2025-01-01T12:00:00-05:00', 'a', 'USDC.e', '0xother', '0.1'),
        // net B: two snapshots on 01-02 (later wins), a value above 1 (clamped), an empty value (skipped), 01-04 not common.
        row('2025-01-01', '2025-01-01T10:00:00-04:00', 'b', 'USDC', '0xb', '1.000002'),
        row('2025-01-02', '2025-01-02T10:00:00-04:00', 'b', 'USDC', '0xb', '0.2'),
        row('2025-01-02', '2025-01-02T23:00:00-04:00', 'b', 'USDC', '0xb', '0.3'),
        row('2025-01-03', '2025-01-03T10:00:00-04:00', 'b', 'USDC', '0xb', '0.4'),
        row('2025-01-03', '2025-01-03T11:00:00-04:00', 'b', 'USDC', '0xempty', ''),
        row('2025-01-04', '2025-01-04T10:00:00-04:00', 'b', 'USDC', '0xb', '0.4'),
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'prices', 'eth_usd_0xtest.csv'),
      [',round,answer,start,update,answeredInRound', '0,12,300000000000,1200,1200,12', '1,11,0,0,0,11', '2,10,200000000000,1000,1000,10', ''].join('\n'),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('picks the reserve with most rows, the latest snapshot per day, common days only, and clamps', () => {
    const u = withFixturesDir(dir, () => loadUtilizationPaths({ networks: ['a', 'b'], symbol: 'USDC' }));
    assert.equal(u.source, 'fixture');
    assert.deepEqual(u.days, ['2025-01-01', '2025-01-02', '2025-01-03']);
    assert.deepEqual(u.reserves, { a: '0xnative', b: '0xb' });
    assert.deepEqual(u.paths.a, [decimalToWad('0.5'), decimalToWad('0.65'), decimalToWad('0.7')]);
    assert.deepEqual(u.paths.b, [MAX_REPLAY_UTILIZATION_WAD, decimalToWad('0.3'), decimalToWad('0.4')]);
    assert.equal(u.clampedCount, 1);
  });

  test('price rounds come back oldest first, the zero round held out', () => {
    const [p, inv] = withFixturesDir(dir, () => [loadPriceRounds(), loadInvalidRounds()] as const);
    assert.deepEqual(
      p.rounds.map((r) => [r.roundId, r.answer, r.updatedAtSec]),
      [
        [10n, 200000000000n, 1000n],
        [12n, 300000000000n, 1200n],
      ],
    );
    assert.deepEqual(inv.rounds.map((r) => r.roundId), [11n]);
  });

  test('a malformed utilization value fails with file and line', () => {
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-marketdata-bad-'));
    try {
      fs.mkdirSync(path.join(bad, 'lending'));
      fs.writeFileSync(
        path.join(bad, 'lending', 'aave_v3_daily_rates_13chains.csv'),
        'date,snapshot_time,network,symbol,asset_address,implied_utilization\n2025-01-01,2025-01-01T00:00:00Z,a,USDC,0xa,n/a\n',
      );
      assert.throws(() => withFixturesDir(bad, () => loadUtilizationPaths({ networks: ['a'], symbol: 'USDC' })), /aave_v3_daily_rates_13chains\.csv:2 implied_utilization: 'n\/a' is not a decimal number/);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('without fixtures', () => {
  let empty: string;
  before(() => (empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-nofixtures-'))));
  after(() => fs.rmSync(empty, { recursive: true, force: true }));

  test('utilization is synthetic, says the file was not found, and is deterministic and in range', () => {
    const u = withFixturesDir(empty, () => loadUtilizationPaths({ networks: NETWORKS, symbol: 'USDC' }));
    assert.equal(u.source, 'synthetic');
    assert.match(u.note, /^SYNTHETIC utilization: fixture file not found at /);
    assert.ok(u.note.includes(path.join(empty, AAVE_RATES_FIXTURE)), 'note names the missing path');
    assert.deepEqual(Object.keys(u.paths).sort(), [...NETWORKS].sort());
    assert.ok(u.days.every((d) => d.startsWith('synthetic-day-')), 'days cannot be mistaken for real dates');
    for (const n of NETWORKS) {
      assert.equal(u.paths[n]!.length, u.days.length);
      assert.ok(u.paths[n]!.every((v) => v >= 0n && v <= MAX_REPLAY_UTILIZATION_WAD));
    }
    assert.notDeepEqual(u.paths.ethereum, u.paths.base, 'networks get different paths');
    const again = withFixturesDir(empty, () => loadUtilizationPaths({ networks: ['base'], symbol: 'USDC' }));
    assert.deepEqual(again.paths.base, u.paths.base, 'same seed per network, independent of the other networks');
  });

  test('price rounds are synthetic, labelled, oldest first, with a synthetic invalid round', () => {
    const [p, inv] = withFixturesDir(empty, () => [loadPriceRounds(), loadInvalidRounds()] as const);
    assert.equal(p.source, 'synthetic');
    assert.match(p.note, /^SYNTHETIC ETH\/USD prices: fixture file not found at .*eth_usd_\*\.csv/);
    assert.ok(p.rounds.length > 100);
    assertOldestFirst(p.rounds);
    assert.ok(p.rounds.every((r) => !isInvalidRound(r)));
    assert.equal(inv.source, 'synthetic');
    assert.ok(inv.rounds.length === 1 && inv.rounds[0]!.answer === 0n && isInvalidRound(inv.rounds[0]!));
  });
});
