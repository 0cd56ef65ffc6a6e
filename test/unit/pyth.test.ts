import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BorshAccountsCoder, type Idl } from '@coral-xyz/anchor';
import { createRequire } from 'node:module';
import { fixturePath, fixturesDir } from '../../config/fixtures.js';
import { runCaptured, type CapturedRun } from '../../cli/main.js';
import {
  checkPythPrice,
  decodePriceUpdateV2,
  encodePriceUpdateV2,
  formatPythDecimal,
  PRICE_UPDATE_V2_LEN,
  PythDecodeError,
  type PriceUpdateV2,
} from '../../chains/solana/pyth.js';

/** Fields of `pyth/price_update_v2_accounts.json` `accounts[]` used here. */
interface PythFixture {
  base64: string;
  provenance: { path: string; line: number; variable: string };
  decoded: {
    dataLen: number;
    writeAuthority: string;
    verificationLevel: { kind: 'Full' } | { kind: 'Partial'; numSignatures: number };
    feedId: string;
    feedName?: string;
    price: string;
    conf: string;
    exponent: number;
    publishTime: number;
    publishTimeIso: string;
    prevPublishTime: number;
    emaPrice: string;
    emaConf: string;
    postedSlot: number;
    trailingBytes: string;
    priceDecimal: string;
    confDecimal: string;
  };
}

const REL = 'pyth/price_update_v2_accounts.json';
const file = fixturePath(REL);
const absent = `fixture ${REL} absent under ${fixturesDir()}`;
const fixture = file ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { knownFeedIds: Record<string, string>; accounts: PythFixture[] }) : undefined;
const accounts = fixture?.accounts ?? [];
const label = (a: PythFixture) => `${a.provenance.path}:${a.provenance.line} ${a.provenance.variable}`;

/** A synthetic, valid, Full-verified update (no fixture needed). */
const sample = (over: Partial<PriceUpdateV2> = {}): PriceUpdateV2 => ({
  writeAuthority: 'SysvarC1ock11111111111111111111111111111111',
  verificationLevel: { kind: 'Full' },
  feedId: `0x${'ab'.repeat(32)}`,
  price: 200_000_000n,
  conf: 100_000n,
  exponent: -8,
  publishTimeSec: 1_700_000_000n,
  prevPublishTimeSec: 1_699_999_999n,
  emaPrice: 199_000_000n,
  emaConf: 90_000n,
  postedSlot: 300_000_000n,
  ...over,
});

describe('decodePriceUpdateV2 on real accounts (pyth fixture)', () => {
  test('every fixture account decodes to exactly its `decoded` entry', (t) => {
    if (!fixture) return t.skip(absent);
    assert.ok(accounts.length > 0, 'the fixture has accounts');
    for (const a of accounts) {
      const bytes = Buffer.from(a.base64, 'base64');
      const d = a.decoded;
      const u = decodePriceUpdateV2(bytes);
      const at = label(a);
      assert.equal(bytes.length, d.dataLen, at);
      assert.equal(u.writeAuthority, d.writeAuthority, at);
      assert.deepEqual(u.verificationLevel, d.verificationLevel, at);
      assert.equal(u.feedId, d.feedId, at);
      assert.equal(u.price, BigInt(d.price), at);
      assert.equal(u.conf, BigInt(d.conf), at);
      assert.equal(u.exponent, d.exponent, at);
      assert.equal(u.publishTimeSec, BigInt(d.publishTime), at);
      assert.equal(new Date(Number(u.publishTimeSec) * 1000).toISOString().replace('.000Z', 'Z'), d.publishTimeIso, at);
      assert.equal(u.prevPublishTimeSec, BigInt(d.prevPublishTime), at);
      assert.equal(u.emaPrice, BigInt(d.emaPrice), at);
      assert.equal(u.emaConf, BigInt(d.emaConf), at);
      assert.equal(u.postedSlot, BigInt(d.postedSlot), at);
      assert.equal(formatPythDecimal(u.price, u.exponent), d.priceDecimal, at);
      assert.equal(formatPythDecimal(u.conf, u.exponent), d.confDecimal, at);
      assert.equal(fixture.knownFeedIds[u.feedId], d.feedName, at);
      // Content is 133 bytes (Full) or 134 (Partial) of the 134-byte account; the rest is the fixture's trailingBytes.
      const contentLen = u.verificationLevel.kind === 'Full' ? PRICE_UPDATE_V2_LEN - 1 : PRICE_UPDATE_V2_LEN;
      assert.equal(bytes.subarray(contentLen).toString('hex'), d.trailingBytes, at);
    }
  });

  test('the fixture covers both verification levels', (t) => {
    if (!fixture) return t.skip(absent);
    const kinds = new Set(accounts.map((a) => decodePriceUpdateV2(Buffer.from(a.base64, 'base64')).verificationLevel.kind));
    assert.deepEqual([...kinds].sort(), ['Full', 'Partial']);
  });
});

describe('encodePriceUpdateV2', () => {
  test('re-encoding every fixture account gives its exact 134 bytes back', (t) => {
    if (!fixture) return t.skip(absent);
    for (const a of accounts) {
      const bytes = Buffer.from(a.base64, 'base64');
      assert.equal(encodePriceUpdateV2(decodePriceUpdateV2(bytes)).toString('hex'), bytes.toString('hex'), label(a));
    }
  });

  test("agrees byte for byte with Anchor's BorshAccountsCoder.encode over the same Pyth IDL", async () => {
    const idl = createRequire(import.meta.url)('@pythnetwork/pyth-solana-receiver/lib/idl/pyth_solana_receiver.json') as Idl;
    const coder = new BorshAccountsCoder(idl);
    for (const u of [sample(), sample({ verificationLevel: { kind: 'Partial', numSignatures: 5 }, price: -42n, exponent: 3 })]) {
      const ours = encodePriceUpdateV2(u);
      const decodedByAnchor = coder.decode('priceUpdateV2', ours) as Record<string, unknown>;
      const anchors = await coder.encode('priceUpdateV2', decodedByAnchor);
      assert.equal(ours.subarray(0, anchors.length).toString('hex'), anchors.toString('hex'));
      assert.equal(ours.length, PRICE_UPDATE_V2_LEN);
      assert.ok(ours.subarray(anchors.length).every((b) => b === 0), 'padding to 134 bytes is zero');
    }
  });

  test('encode → decode round-trips, including the extremes of every integer type', () => {
    const cases: PriceUpdateV2[] = [
      sample(),
      sample({ verificationLevel: { kind: 'Partial', numSignatures: 0 } }),
      sample({
        verificationLevel: { kind: 'Partial', numSignatures: 255 },
        price: -(1n << 63n),
        conf: (1n << 64n) - 1n,
        exponent: -(2 ** 31),
        publishTimeSec: (1n << 63n) - 1n,
        prevPublishTimeSec: -(1n << 63n),
        emaPrice: (1n << 63n) - 1n,
        emaConf: 0n,
        postedSlot: (1n << 64n) - 1n,
        feedId: `0x${'ff'.repeat(32)}`,
      }),
      sample({ exponent: 2 ** 31 - 1, price: 0n, feedId: `0x${'00'.repeat(32)}`, writeAuthority: '11111111111111111111111111111111' }),
    ];
    for (const u of cases) {
      const bytes = encodePriceUpdateV2(u);
      assert.equal(bytes.length, PRICE_UPDATE_V2_LEN);
      assert.deepEqual(decodePriceUpdateV2(bytes), u);
    }
  });

  test('refuses values that do not fit their Borsh type, with the field named', () => {
    assert.throws(() => encodePriceUpdateV2(sample({ price: 1n << 63n })), (e: Error) => e instanceof RangeError && /price .*i64/.test(e.message));
    assert.throws(() => encodePriceUpdateV2(sample({ conf: -1n })), /conf = -1 does not fit u64/);
    assert.throws(() => encodePriceUpdateV2(sample({ postedSlot: 1n << 64n })), /postedSlot .* u64/);
    assert.throws(() => encodePriceUpdateV2(sample({ exponent: 2 ** 31 })), /exponent .* i32/);
    assert.throws(() => encodePriceUpdateV2(sample({ verificationLevel: { kind: 'Partial', numSignatures: 256 } })), /numSignatures = 256 is not a u8/);
    assert.throws(() => encodePriceUpdateV2(sample({ feedId: '0x1234' })), /feedId must be 0x \+ 64 hex/);
    assert.throws(() => encodePriceUpdateV2(sample({ writeAuthority: 'not-base58!' })), /writeAuthority .* base58/);
  });
});

describe('decodePriceUpdateV2 refuses what is not a PriceUpdateV2', () => {
  const good = () => encodePriceUpdateV2(sample({ verificationLevel: { kind: 'Partial', numSignatures: 3 } }));

  test('a corrupted discriminator throws PythDecodeError naming it', () => {
    const b = good();
    b.writeUInt8(b.readUInt8(0) ^ 0xff, 0);
    assert.throws(() => decodePriceUpdateV2(b), (e: Error) => e instanceof PythDecodeError && /wrong discriminator dd.*expected 22f123639d7ef4cd/.test(e.message));
  });

  test('the receiver\'s TwapUpdate account is named as such', () => {
    const b = Buffer.concat([BorshAccountsCoder.accountDiscriminator('twapUpdate'), Buffer.alloc(PRICE_UPDATE_V2_LEN - 8)]);
    assert.throws(() => decodePriceUpdateV2(b), (e: Error) => e instanceof PythDecodeError && /"twapUpdate" account/.test(e.message));
  });

  test('truncated buffers throw PythDecodeError with the lengths', () => {
    const partial = good();
    const full = encodePriceUpdateV2(sample());
    assert.throws(() => decodePriceUpdateV2(partial.subarray(0, 133)), (e: Error) => e instanceof PythDecodeError && /truncated: 133 bytes, a Partial-verified update needs 134/.test(e.message));
    assert.throws(() => decodePriceUpdateV2(full.subarray(0, 132)), (e: Error) => e instanceof PythDecodeError && /truncated: 132 bytes, a Full-verified update needs 133/.test(e.message));
    assert.throws(() => decodePriceUpdateV2(full.subarray(0, 40)), (e: Error) => e instanceof PythDecodeError && /truncated: 40 bytes/.test(e.message));
    assert.throws(() => decodePriceUpdateV2(full.subarray(0, 5)), (e: Error) => e instanceof PythDecodeError && /5 bytes, too short/.test(e.message));
    assert.throws(() => decodePriceUpdateV2(new Uint8Array()), PythDecodeError);
    // A Full update's unused last byte may be missing (133 bytes, as Anchor's encoder writes it).
    assert.deepEqual(decodePriceUpdateV2(full.subarray(0, 133)), sample());
  });

  test('an unknown verification level tag and an over-long buffer throw PythDecodeError', () => {
    const b = good();
    b[40] = 2;
    assert.throws(() => decodePriceUpdateV2(b), (e: Error) => e instanceof PythDecodeError && /verification level tag 2 at byte 40/.test(e.message));
    assert.throws(() => decodePriceUpdateV2(Buffer.concat([good(), Buffer.alloc(1)])), (e: Error) => e instanceof PythDecodeError && /135 bytes, longer than PriceUpdateV2::LEN = 134/.test(e.message));
  });

  test('decodes a Uint8Array view at a non-zero offset', () => {
    const inner = encodePriceUpdateV2(sample());
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 10);
    assert.deepEqual(decodePriceUpdateV2(outer.subarray(10)), sample());
  });
});

describe('formatPythDecimal', () => {
  test('formats value × 10^exponent exactly', () => {
    assert.equal(formatPythDecimal(100000132n, -8), '1.00000132');
    assert.equal(formatPythDecimal(240864500000n, -8), '2408.64500000');
    assert.equal(formatPythDecimal(345526n, -10), '0.0000345526');
    assert.equal(formatPythDecimal(-5n, -3), '-0.005');
    assert.equal(formatPythDecimal(0n, -2), '0.00');
    assert.equal(formatPythDecimal(12n, 2), '1200');
    assert.equal(formatPythDecimal(0n, 3), '0');
    assert.equal(formatPythDecimal(-7n, 0), '-7');
    assert.equal(formatPythDecimal((1n << 63n) - 1n, -18), '9.223372036854775807');
  });
});

describe('checkPythPrice', () => {
  const limits = { maxStalenessSec: 60, maxConfBps: 50 };
  const t0 = 1_700_000_000n;

  test('a fresh, Full, positive, tight price is accepted with its age', () => {
    assert.deepEqual(checkPythPrice(sample(), t0 + 5n, limits), { ok: true, ageSec: 5n });
  });

  test('Partial verification is rejected, saying how many signatures were checked', () => {
    const r = checkPythPrice(sample({ verificationLevel: { kind: 'Partial', numSignatures: 3 } }), t0, limits);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /Partial \(3 guardian signatures checked\), Full .* required/);
  });

  test('staleness: age = maxStalenessSec is accepted, one second more is rejected', () => {
    assert.deepEqual(checkPythPrice(sample(), t0 + 60n, limits), { ok: true, ageSec: 60n });
    const r = checkPythPrice(sample(), t0 + 61n, limits);
    assert.equal(r.ok, false);
    assert.equal(r.ageSec, 61n);
    assert.match(r.ok ? '' : r.reason, /stale, published at 1700000000, 61 s before now 1700000061 \(max 60 s\)/);
    assert.equal(checkPythPrice(sample(), t0, { ...limits, maxStalenessSec: 0 }).ok, true, 'age 0 with max 0');
  });

  test('a publish time up to 60 s in the future is accepted, 61 s is rejected', () => {
    assert.deepEqual(checkPythPrice(sample(), t0 - 60n, limits), { ok: true, ageSec: -60n });
    const r = checkPythPrice(sample(), t0 - 61n, limits);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /61 s in the future/);
  });

  test('price 0 and negative prices are rejected', () => {
    for (const price of [0n, -1n]) {
      const r = checkPythPrice(sample({ price }), t0, limits);
      assert.equal(r.ok, false, String(price));
      assert.match(r.ok ? '' : r.reason, /is not positive/);
    }
  });

  test('confidence: exactly maxConfBps is accepted, one unit wider is rejected (integer math)', () => {
    // price 200_000_000, 50 bps → conf 1_000_000 is exactly at the limit.
    assert.equal(checkPythPrice(sample({ conf: 1_000_000n }), t0, limits).ok, true);
    const r = checkPythPrice(sample({ conf: 1_000_001n }), t0, limits);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /confidence too wide, conf 1000001 \/ price 200000000 = 51 bps \(rounded up\) > max 50 bps/);
    assert.equal(checkPythPrice(sample({ conf: 0n }), t0, { ...limits, maxConfBps: 0 }).ok, true, 'conf 0 with max 0 bps');
    assert.equal(checkPythPrice(sample({ conf: 1n }), t0, { ...limits, maxConfBps: 0 }).ok, false, 'conf 1 with max 0 bps');
  });

  test('every failed rule is reported', () => {
    const r = checkPythPrice(sample({ verificationLevel: { kind: 'Partial', numSignatures: 2 }, conf: 10n ** 9n }), t0 + 1000n, limits);
    assert.equal(r.ok, false);
    const reason = r.ok ? '' : r.reason;
    for (const re of [/Partial/, /stale/, /confidence too wide/]) assert.match(reason, re);
  });

  test('limits that are not non-negative integers throw RangeError', () => {
    assert.throws(() => checkPythPrice(sample(), t0, { maxStalenessSec: -1, maxConfBps: 50 }), RangeError);
    assert.throws(() => checkPythPrice(sample(), t0, { maxStalenessSec: 60, maxConfBps: 0.5 }), /limits.maxConfBps must be a non-negative integer/);
  });

  test('real fixture accounts: the Full ones pass at their publish time, the Partial ones are refused', (t) => {
    if (!fixture) return t.skip(absent);
    for (const a of accounts) {
      const u = decodePriceUpdateV2(Buffer.from(a.base64, 'base64'));
      const r = checkPythPrice(u, u.publishTimeSec + 10n, { maxStalenessSec: 60, maxConfBps: 200 });
      assert.equal(r.ok, u.verificationLevel.kind === 'Full', `${label(a)}: ${r.ok ? 'ok' : r.reason}`);
    }
  });
});

/** Runs `ballast inspect pyth …` in-process (cli/main.ts), its output captured; `env` set for the run only. */
function inspectPyth(args: string[], env?: Record<string, string | undefined>): Promise<CapturedRun> {
  return runCaptured(['inspect', 'pyth', ...args], { env });
}

describe('ballast inspect pyth (CLI, in-process)', () => {
  const account = accounts.find((a) => a.decoded.verificationLevel.kind === 'Partial');

  test('text: a real account exits 0 and shows every field, the exact decimal price and the feed name', async (t) => {
    if (!account) return t.skip(absent);
    const d = account.decoded;
    const r = await inspectPyth([account.base64]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const want of [
      `${d.feedId} (${d.feedName})`,
      d.priceDecimal,
      `(${d.price} × 10^${d.exponent})`,
      d.confDecimal,
      `${d.publishTime} (${d.publishTimeIso.replace('Z', '.000Z')})`,
      `prev publish time    ${d.prevPublishTime}`,
      `EMA price            ${formatPythDecimal(BigInt(d.emaPrice), d.exponent)}  (${d.emaPrice})`,
      `EMA conf             ${formatPythDecimal(BigInt(d.emaConf), d.exponent)}  (${d.emaConf})`,
      `Partial (${d.verificationLevel.kind === 'Partial' ? d.verificationLevel.numSignatures : -1} guardian signatures`,
      `posted slot          ${d.postedSlot}`,
      `write authority      ${d.writeAuthority}`,
    ]) {
      assert.ok(r.stdout.includes(want), `stdout shows "${want}":\n${r.stdout}`);
    }
  });

  test('--json: one JSON object, bigints as decimal strings', async (t) => {
    if (!account) return t.skip(absent);
    const d = account.decoded;
    const r = await inspectPyth([account.base64, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.feedId, d.feedId);
    assert.equal(j.feedName, d.feedName);
    assert.equal(j.price, d.price);
    assert.equal(j.conf, d.conf);
    assert.equal(j.exponent, d.exponent);
    assert.equal(j.priceDecimal, d.priceDecimal);
    assert.equal(j.confDecimal, d.confDecimal);
    assert.equal(j.publishTimeSec, String(d.publishTime));
    assert.equal(j.prevPublishTimeSec, String(d.prevPublishTime));
    assert.equal(j.emaPrice, d.emaPrice);
    assert.equal(j.emaConf, d.emaConf);
    assert.equal(j.postedSlot, String(d.postedSlot));
    assert.equal(j.writeAuthority, d.writeAuthority);
    assert.deepEqual(j.verificationLevel, d.verificationLevel);
    assert.equal(j.dataLen, d.dataLen);
  });

  test('garbage input exits 1 with the reason on stderr and nothing on stdout', async () => {
    const notBase64 = await inspectPyth(['this is not base64!']);
    assert.equal(notBase64.code, 1);
    assert.equal(notBase64.stdout, '');
    assert.match(notBase64.stderr, /ballast inspect pyth: input is neither base64 nor 0x-hex/);
    const notPyth = await inspectPyth([Buffer.alloc(134, 7).toString('base64'), '--json']);
    assert.equal(notPyth.code, 1);
    assert.equal(notPyth.stdout, '');
    assert.match(notPyth.stderr, /ballast inspect pyth: not a Pyth PriceUpdateV2 account: wrong discriminator 0707070707070707/);
  });

  test('without the fixtures folder the feed name is omitted, everything else shown', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-nofixtures-'));
    try {
      // A feed id the fixtures name (when they are here): without them it must go unnamed.
      const feedId = (Object.keys(fixture?.knownFeedIds ?? {})[0] ?? `0x${'cd'.repeat(32)}`) as `0x${string}`;
      const u = sample({ feedId });
      const r = await inspectPyth([encodePriceUpdateV2(u).toString('base64'), '--json'], { BALLAST_FIXTURES_DIR: empty });
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(j.feedName, null);
      assert.equal(j.feedId, u.feedId);
      assert.equal(j.priceDecimal, '2.00000000');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
