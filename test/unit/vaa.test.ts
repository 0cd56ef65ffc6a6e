import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createVAA, deserialize, serialize, UniversalAddress, type VAA } from '@wormhole-foundation/sdk-definitions';
import { mocks } from '@wormhole-foundation/sdk-definitions/testing';
import { getAddress, hexToBytes, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { fixturePath, fixturesDir } from '../../config/fixtures.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { GUARDIAN_SET_EXPIRY_SEC, GuardianSetsFileError, loadGuardianSets, parseGuardianSets, type GuardianSet, type LoadedGuardianSets } from '../../chains/wormhole/guardianSets.js';
import { assertVaaVerified, quorum, vaaBytesFromText, VaaVerificationError, verifyVaa, type AllowedEmitter } from '../../chains/wormhole/verifyVaa.js';

/** Shape of `wormhole/vaas.json` `vaas[]` and `governance_registration_vaas_mainnet.json` `vaas[]` (fields used here). */
interface VaaFixture {
  network?: 'Mainnet' | 'Testnet';
  name?: string;
  note?: string;
  guardianSetIndex: number;
  signerIndices: number[];
  timestamp: number;
  nonce: number;
  emitterChain: number;
  emitterAddress: string;
  sequence: string;
  consistencyLevel: number;
  payloadLen: number;
  /** Despite the name: keccak256(keccak256(body)), the signed digest (checked below). */
  bodyHash_keccak: string;
  vaaHex: string;
  vaaBase64: string;
  governance?: { module: string; registeredEmitterChain: number; registeredEmitterAddress: string };
}
interface GuardianSetsFixture {
  guardianSets: Record<string, string[]>;
  upgradeVaas: { signedByGuardianSet: number; newGuardianSetIndex: number; timestamp: number }[];
  testnetGuardianSet0?: string[];
}

const setsFile = fixturePath('wormhole/guardian_sets_mainnet.json');
const vaasFile = fixturePath('wormhole/vaas.json');
const govFile = fixturePath('wormhole/governance_registration_vaas_mainnet.json');
const absent = (rel: string) => `fixture ${rel} absent under ${fixturesDir()}`;
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

const rawSets = setsFile ? readJson<GuardianSetsFixture>(setsFile) : undefined;
const vaas = vaasFile ? readJson<{ vaas: VaaFixture[] }>(vaasFile).vaas : [];
const govVaas = govFile ? readJson<{ vaas: VaaFixture[] }>(govFile).vaas : [];
const mainnetVaas = vaas.filter((v) => v.network === 'Mainnet');
const testnetVaas = vaas.filter((v) => v.network === 'Testnet');

let loadedOnce: Promise<LoadedGuardianSets> | undefined;
/** The mainnet sets, loaded (and their upgrade chain verified) once per file run. */
const mainnet = (): Promise<LoadedGuardianSets> => (loadedOnce ??= loadGuardianSets(setsFile!));

/** A time at which the VAA's set was current: the VAA's own timestamp, or (governance VAAs carry 0) the set's install time. */
function whenCurrent(v: VaaFixture, sets: readonly GuardianSet[]): bigint {
  const set = sets.find((s) => s.index === v.guardianSetIndex);
  assert.ok(set, `fixture VAA signed by unknown set ${v.guardianSetIndex}`);
  const installed = set.installedAtSec ?? 0n;
  return BigInt(v.timestamp) > installed ? BigInt(v.timestamp) : installed;
}

const bytesOf = (v: VaaFixture): Uint8Array => hexToBytes(`0x${v.vaaHex}`);
const flipped = (b: Uint8Array, at: number): Uint8Array => {
  const c = Uint8Array.from(b);
  c[at] = c[at]! ^ 0x01;
  return c;
};
/** Re-encode a VAA after changing its signatures, through the SDK (no hand-written layout). */
function withSignatures(bytes: Uint8Array, edit: (s: VAA<'Uint8Array'>['signatures']) => VAA<'Uint8Array'>['signatures']): Uint8Array {
  const v = deserialize('Uint8Array', bytes);
  return serialize({ ...v, signatures: edit(v.signatures) });
}
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

describe('guardian sets file', () => {
  test('loads the mainnet sets with EIP-55 keys, proves each upgrade, and derives expiries from the upgrade VAAs', async (t) => {
    if (!setsFile || !rawSets) return t.skip(absent('wormhole/guardian_sets_mainnet.json'));
    const g = await mainnet();
    const indices = Object.keys(rawSets.guardianSets).map(Number).sort((a, b) => a - b);
    assert.deepEqual(g.sets.map((s) => s.index), indices);
    assert.equal(g.currentIndex, indices[indices.length - 1]);
    for (const s of g.sets) {
      const raw: string[] = rawSets.guardianSets[String(s.index)]!;
      assert.deepEqual(s.keys, raw.map((k) => getAddress(k)), `set ${s.index} keys, EIP-55`);
    }
    // Every set after the genesis one is carried by a verified GuardianSetUpgrade VAA.
    assert.deepEqual(g.provenByUpgrade, rawSets.upgradeVaas.map((u) => u.newGuardianSetIndex).sort((a, b) => a - b));
    for (const u of rawSets.upgradeVaas) {
      const prev = g.sets.find((s) => s.index === u.signedByGuardianSet)!;
      const next = g.sets.find((s) => s.index === u.newGuardianSetIndex)!;
      assert.equal(prev.expirationTimeSec, BigInt(u.timestamp) + GUARDIAN_SET_EXPIRY_SEC, `set ${prev.index} expires a day after set ${next.index}'s upgrade`);
      assert.equal(next.installedAtSec, BigInt(u.timestamp));
    }
    assert.equal(g.sets.find((s) => s.index === g.currentIndex)!.expirationTimeSec, undefined, 'the current set never expires');
    if (rawSets.testnetGuardianSet0) assert.deepEqual(g.testnet, [{ index: 0, keys: rawSets.testnetGuardianSet0.map((k) => getAddress(k)) }]);
  });

  test('refuses a file whose listed keys differ from those its upgrade VAA carries, naming the file and field', async (t) => {
    if (!rawSets) return t.skip(absent('wormhole/guardian_sets_mainnet.json'));
    const u = rawSets.upgradeVaas[rawSets.upgradeVaas.length - 1]!;
    const tampered = structuredClone(rawSets);
    const keys = tampered.guardianSets[String(u.newGuardianSetIndex)]!;
    keys[3] = privateKeyToAddress(DEVNET_ACCOUNTS.market).toLowerCase();
    await assert.rejects(parseGuardianSets(tampered, 'tampered.json'), (err: unknown) => {
      assert.ok(err instanceof GuardianSetsFileError);
      assert.match(err.message, new RegExp(`^tampered\\.json: guardianSets\\.${u.newGuardianSetIndex}\\[3\\]: differs from the keys carried by its upgrade VAA`));
      return true;
    });
  });

  test('refuses malformed keys, duplicate keys and an empty set, one issue per field', async () => {
    const bad = {
      guardianSets: {
        '0': ['0x1234'],
        '1': [privateKeyToAddress(DEVNET_ACCOUNTS.deployer), privateKeyToAddress(DEVNET_ACCOUNTS.deployer).toLowerCase()],
      },
    };
    await assert.rejects(parseGuardianSets(bad, 'bad.json'), (err: unknown) => {
      assert.ok(err instanceof GuardianSetsFileError);
      assert.deepEqual(err.issues.map((i) => i.path), ['guardianSets.0[0]']);
      assert.match(err.message, /bad\.json: guardianSets\.0\[0\]: must be a guardian address: 0x \+ 40 hex digits \(got "0x1234"\)/);
      return true;
    });
    await assert.rejects(parseGuardianSets({ guardianSets: { '1': bad.guardianSets['1'] } }, 'dup.json'), /dup\.json: guardianSets\.1\[1\]: duplicate of guardianSets\.1\[0\]/);
    await assert.rejects(parseGuardianSets({ guardianSets: { '0': [] } }, 'empty.json'), /empty\.json: guardianSets\.0: a guardian set needs at least one key/);
    await assert.rejects(loadGuardianSets('/nonexistent/sets.json'), /\/nonexistent\/sets\.json: \(file\): cannot read the guardian-sets file: ENOENT/);
  });
});

describe('verifyVaa on real VAAs', () => {
  test('every mainnet VAA in vaas.json verifies under the mainnet sets, with the fixture\'s decoded fields', async (t) => {
    if (!setsFile || !vaasFile) return t.skip(absent('wormhole/vaas.json or guardian_sets_mainnet.json'));
    assert.ok(mainnetVaas.length > 0, 'the fixture has mainnet VAAs');
    const { sets } = await mainnet();
    for (const v of mainnetVaas) {
      const r = await verifyVaa(bytesOf(v), { guardianSets: sets, nowSec: whenCurrent(v, sets) });
      const what = `${v.note?.slice(0, 60)} (set ${v.guardianSetIndex}, seq ${v.sequence})`;
      assert.deepEqual(r.reasons, [], what);
      assert.equal(r.ok, true, what);
      const d = r.decoded!;
      assert.equal(d.version, 1);
      assert.equal(d.guardianSetIndex, v.guardianSetIndex);
      assert.equal(d.emitterChain, v.emitterChain);
      assert.equal(d.emitterAddress, `0x${v.emitterAddress}`);
      assert.equal(d.sequence, BigInt(v.sequence));
      assert.equal(d.nonce, v.nonce);
      assert.equal(d.timestamp, v.timestamp);
      assert.equal(d.consistencyLevel, v.consistencyLevel);
      assert.equal((d.payload.length - 2) / 2, v.payloadLen);
      // The fixture's "bodyHash_keccak" is the double hash: the digest the guardians sign.
      assert.equal(d.digest, `0x${v.bodyHash_keccak}`);
      assert.deepEqual(r.signerIndices, v.signerIndices);
      assert.ok(r.signatures.every((s) => s.valid && s.recovered === s.expectedKey));
      assert.deepEqual(r.quorum, { needed: quorum(19), held: v.signerIndices.length, met: true });
    }
  });

  test('all 54 mainnet RegisterChain governance VAAs verify (signed by sets 3 and 4)', async (t) => {
    if (!setsFile || !govFile) return t.skip(absent('wormhole/governance_registration_vaas_mainnet.json'));
    const { sets } = await mainnet();
    for (const v of govVaas) {
      const r = await verifyVaa(bytesOf(v), { guardianSets: sets, nowSec: whenCurrent(v, sets) });
      assert.equal(r.ok, true, `${v.name}: ${r.reasons.map((x) => x.message).join('; ')}`);
      assert.equal(r.quorum?.held, v.signerIndices.length);
    }
    assert.ok(govVaas.length >= 1);
  });

  test('a byte flipped in the body makes every signature fail and the quorum fail', async (t) => {
    if (!setsFile || !vaasFile) return t.skip(absent('wormhole/vaas.json'));
    const { sets } = await mainnet();
    const v = mainnetVaas[0]!;
    const b = bytesOf(v);
    const r = await verifyVaa(flipped(b, b.length - 1), { guardianSets: sets, nowSec: whenCurrent(v, sets) });
    assert.equal(r.ok, false);
    assert.equal(r.decoded?.sequence, BigInt(v.sequence), 'still decodes: only the payload changed');
    assert.deepEqual(codes(r), [...v.signerIndices.map(() => 'signature-mismatch'), 'quorum-not-met']);
    assert.equal(r.quorum?.held, 0);
    assert.ok(r.signatures.every((s) => !s.valid && s.recovered !== undefined && s.recovered !== s.expectedKey));
  });

  test('a byte flipped in one signature fails that signature and, at exactly quorum, the quorum', async (t) => {
    if (!setsFile || !vaasFile) return t.skip(absent('wormhole/vaas.json'));
    const { sets } = await mainnet();
    const v = mainnetVaas.find((x) => x.signerIndices.length === quorum(19))!;
    // Header: version(1) guardianSet(4) count(1); signature k at 6 + 66k: index(1) r(32) s(32) v(1). Flip a byte of r of signature 1.
    const r = await verifyVaa(flipped(bytesOf(v), 6 + 66 * 1 + 1 + 5), { guardianSets: sets, nowSec: whenCurrent(v, sets) });
    assert.equal(r.ok, false);
    assert.deepEqual(codes(r), ['signature-mismatch', 'quorum-not-met']);
    assert.match(r.reasons[0]!.message, new RegExp(`guardian index ${v.signerIndices[1]} `));
    assert.deepEqual(r.signatures.map((s) => s.valid), v.signerIndices.map((_, i) => i !== 1));
    assert.deepEqual(r.quorum, { needed: 13, held: 12, met: false });
  });

  test('a testnet VAA fails under the mainnet sets (wrong key at index 0) and verifies under the testnet set', async (t) => {
    if (!setsFile || !vaasFile) return t.skip(absent('wormhole/vaas.json'));
    if (testnetVaas.length === 0) return t.skip('vaas.json has no testnet VAA');
    const g = await mainnet();
    for (const v of testnetVaas) {
      const now = BigInt(v.timestamp);
      const r = await verifyVaa(bytesOf(v), { guardianSets: g.sets, nowSec: now });
      assert.equal(r.ok, false);
      assert.ok(codes(r).includes('signature-mismatch'), codes(r).join());
      assert.equal(r.signatures[0]!.expectedKey, g.sets[0]!.keys[0]);
      assert.equal(r.signatures[0]!.recovered, g.testnet[0]?.keys[0]);
      const ok = await verifyVaa(bytesOf(v), { guardianSets: g.testnet, nowSec: now });
      assert.equal(ok.ok, true, ok.reasons.map((x) => x.message).join('; '));
    }
  });

  test('a VAA signed by a superseded set is refused once the set expired (one day after the next upgrade), accepted until then', async (t) => {
    if (!setsFile || !vaasFile) return t.skip(absent('wormhole/vaas.json'));
    const { sets } = await mainnet();
    const v = mainnetVaas.find((x) => sets.find((s) => s.index === x.guardianSetIndex)?.expirationTimeSec !== undefined)!;
    const exp = sets.find((s) => s.index === v.guardianSetIndex)!.expirationTimeSec!;
    const atExpiry = await verifyVaa(bytesOf(v), { guardianSets: sets, nowSec: exp });
    assert.equal(atExpiry.ok, true, 'valid up to and including expirationTime (core: expirationTime < block.timestamp)');
    const after = await verifyVaa(bytesOf(v), { guardianSets: sets, nowSec: exp + 1n });
    assert.deepEqual(codes(after), ['guardian-set-expired']);
    assert.equal(after.guardianSet?.expired, true);
    const today = await verifyVaa(bytesOf(v), { guardianSets: sets });
    assert.ok(today.nowSec > exp, 'the wall clock is past the fixture set expiry');
    assert.deepEqual(codes(today), ['guardian-set-expired']);
  });

  test('quorum is floor(2n/3)+1; one signature fewer than quorum fails, one more than quorum survives losing one', async (t) => {
    assert.deepEqual([1, 2, 3, 4, 7, 19, 255].map(quorum), [1, 2, 3, 3, 5, 13, 171]);
    assert.throws(() => quorum(256), RangeError);
    if (!setsFile || !vaasFile || !govFile) return t.skip(absent('wormhole fixtures'));
    const { sets } = await mainnet();
    const at13 = mainnetVaas.find((x) => x.signerIndices.length === 13)!;
    const short = await verifyVaa(withSignatures(bytesOf(at13), (s) => s.slice(0, -1)), { guardianSets: sets, nowSec: whenCurrent(at13, sets) });
    assert.deepEqual(codes(short), ['quorum-not-met']);
    assert.deepEqual(short.quorum, { needed: 13, held: 12, met: false });
    assert.ok(short.signatures.every((s) => s.valid), 'the 12 remaining signatures are valid');
    const at14 = govVaas.find((x) => x.signerIndices.length === 14)!;
    const minusOne = await verifyVaa(withSignatures(bytesOf(at14), (s) => s.slice(1)), { guardianSets: sets, nowSec: whenCurrent(at14, sets) });
    assert.equal(minusOne.ok, true);
    assert.deepEqual(minusOne.quorum, { needed: 13, held: 13, met: true });
  });

  test('an emitter allow-list built from the RegisterChain VAAs admits the Token Bridge transfer and refuses other emitters', async (t) => {
    if (!setsFile || !vaasFile || !govFile) return t.skip(absent('wormhole fixtures'));
    const { sets } = await mainnet();
    const tokenBridges: AllowedEmitter[] = govVaas
      .filter((g) => g.governance?.module === 'TokenBridge')
      .map((g) => ({ chain: g.governance!.registeredEmitterChain, emitter: `0x${g.governance!.registeredEmitterAddress}` as Hex }));
    const transfer = mainnetVaas.find((v) => tokenBridges.some((e) => e.chain === v.emitterChain && e.emitter === `0x${v.emitterAddress}`));
    assert.ok(transfer, 'vaas.json holds a Token Bridge transfer from a registered emitter');
    const now = whenCurrent(transfer, sets);
    const ok = await verifyVaa(bytesOf(transfer), { guardianSets: sets, nowSec: now, allowedEmitters: tokenBridges });
    assert.equal(ok.ok, true);
    assert.equal(ok.emitterAllowed, true);
    const others = tokenBridges.filter((e) => e.chain !== transfer.emitterChain);
    const refused = await verifyVaa(bytesOf(transfer), { guardianSets: sets, nowSec: now, allowedEmitters: others });
    assert.deepEqual(codes(refused), ['emitter-not-allowed']);
    assert.equal(refused.emitterAllowed, false);
    // A non-Token-Bridge emitter (the governance VAAs in vaas.json) is refused by the same list.
    const nonTb = mainnetVaas.find((v) => v !== transfer && !tokenBridges.some((e) => e.chain === v.emitterChain && e.emitter === `0x${v.emitterAddress}`))!;
    assert.deepEqual(codes(await verifyVaa(bytesOf(nonTb), { guardianSets: sets, nowSec: whenCurrent(nonTb, sets), allowedEmitters: tokenBridges })), ['emitter-not-allowed']);
    await assert.rejects(verifyVaa(bytesOf(transfer), { guardianSets: sets, allowedEmitters: [{ chain: 2, emitter: '0x1234' }] }), /allowedEmitters\[0\]\.emitter must be 0x \+ 64 hex/);
  });

  test('hex, 0x-hex and base64 of the same VAA read to the same bytes; other text is refused', (t) => {
    if (!vaasFile) return t.skip(absent('wormhole/vaas.json'));
    const v = vaas[0]!;
    const b = bytesOf(v);
    assert.deepEqual(vaaBytesFromText(v.vaaHex), b);
    assert.deepEqual(vaaBytesFromText(`0x${v.vaaHex}`), b);
    assert.deepEqual(vaaBytesFromText(v.vaaBase64), b);
    assert.throws(() => vaaBytesFromText('not a vaa!'), /a VAA must be hex .* or base64; got 10 characters/);
    assert.throws(() => vaaBytesFromText(''), /a VAA must be hex/);
  });
});

describe('verifyVaa on devnet VAAs (SDK createVAA + MockGuardians)', () => {
  const body = (guardianSet = 0) =>
    createVAA('Uint8Array', {
      guardianSet,
      signatures: [],
      nonce: 7,
      timestamp: 1_700_000_000,
      sequence: 42n,
      emitterChain: 'Ethereum',
      emitterAddress: new UniversalAddress(`0x${'00'.repeat(12)}${privateKeyToAddress(DEVNET_ACCOUNTS.deployer).slice(2)}`),
      consistencyLevel: 200,
      payload: new Uint8Array([1, 2, 3, 4]),
    });
  const devnet = mocks.devnetGuardianSet();
  const devnetKey = privateKeyToAddress(`0x${devnet.signers[0]!.key.replace(/^0x/, '')}` as Hex);
  const oneKeySet: GuardianSet[] = [{ index: 0, keys: [devnetKey] }];

  test('a VAA signed by the devnet guardian verifies under a one-key set (quorum 1 of 1)', async () => {
    const bytes = serialize(devnet.addSignatures(body()));
    const r = await assertVaaVerified(bytes, { guardianSets: oneKeySet });
    assert.deepEqual(r.quorum, { needed: 1, held: 1, met: true });
    assert.equal(r.signatures[0]!.recovered, devnetKey);
    assert.equal(r.decoded.sequence, 42n);
    assert.equal(r.decoded.emitterChain, 2);
    assert.equal(r.decoded.payload, '0x01020304');
    const tampered = flipped(bytes, bytes.length - 1);
    await assert.rejects(assertVaaVerified(tampered, { guardianSets: oneKeySet }), (err: unknown) => {
      assert.ok(err instanceof VaaVerificationError);
      assert.deepEqual(err.reasons.map((x) => x.code), ['signature-mismatch', 'quorum-not-met']);
      assert.match(err.message, /VAA from chain 2 emitter 0x0{24}[0-9a-f]{40} sequence 42 refused: \[signature-mismatch\]/);
      return true;
    });
  });

  // Three guardians from anvil's public test keys: quorum 3 of 3.
  const three = new mocks.MockGuardians(0, [DEVNET_ACCOUNTS.deployer, DEVNET_ACCOUNTS.keeper, DEVNET_ACCOUNTS.relayer].map((k) => k.slice(2)));
  const threeSet: GuardianSet[] = [{ index: 0, keys: [DEVNET_ACCOUNTS.deployer, DEVNET_ACCOUNTS.keeper, DEVNET_ACCOUNTS.relayer].map((k) => privateKeyToAddress(k)) }];
  const signedByThree = () => serialize(three.addSignatures(body()));

  test('unsorted or duplicate signer indices are refused', async () => {
    assert.equal((await verifyVaa(signedByThree(), { guardianSets: threeSet })).ok, true, 'control: in order it verifies');
    const swapped = withSignatures(signedByThree(), (s) => [s[1]!, s[0]!, s[2]!]);
    assert.deepEqual(codes(await verifyVaa(swapped, { guardianSets: threeSet })), ['signer-indices-not-ascending']);
    const dup = withSignatures(signedByThree(), (s) => [s[0]!, s[1]!, s[1]!]);
    const r = await verifyVaa(dup, { guardianSets: threeSet });
    assert.deepEqual(codes(r), ['signer-indices-not-ascending']);
    assert.match(r.reasons[0]!.message, /strictly ascending/);
  });

  test('a signer index beyond the set, an unknown set index and unparseable bytes are refused with their reason', async () => {
    const beyond = withSignatures(signedByThree(), (s) => [s[0]!, s[1]!, { ...s[2]!, guardianIndex: 5 }]);
    const r = await verifyVaa(beyond, { guardianSets: threeSet });
    assert.deepEqual(codes(r), ['signer-index-out-of-range', 'quorum-not-met']);
    assert.match(r.reasons[0]!.message, /guardian index 5, but set 0 has 3 keys/);

    const unknown = await verifyVaa(serialize(devnet.addSignatures(body())), { guardianSets: [{ index: 4, keys: [devnetKey] }] });
    assert.deepEqual(codes(unknown), ['unknown-guardian-set']);
    assert.match(unknown.reasons[0]!.message, /guardian set 0 is not among the known sets \(4\)/);

    for (const junk of [new Uint8Array(0), new Uint8Array([1, 0, 0]), hexToBytes('0x02000000000000'), signedByThree().slice(0, 40)]) {
      const u = await verifyVaa(junk, { guardianSets: threeSet });
      assert.deepEqual(codes(u), ['unparseable'], `${junk.length} bytes`);
      assert.equal(u.decoded, undefined);
    }
  });

  test('the devnet VAA fails under the mainnet sets (set 0 is the mainnet genesis key)', async (t) => {
    if (!setsFile) return t.skip(absent('wormhole/guardian_sets_mainnet.json'));
    const { sets } = await mainnet();
    const r = await verifyVaa(serialize(devnet.addSignatures(body())), { guardianSets: sets, nowSec: 0n });
    assert.deepEqual(codes(r), ['signature-mismatch', 'quorum-not-met']);
  });
});
