import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturePath, fixturesDir, repoDir } from '../../config/fixtures.js';
import { inspectPacket, PacketDecodeError } from '../../chains/evm/inspectPacket.js';
import { runCaptured, type CapturedRun } from '../../cli/main.js';

/** Fields of `wormhole/vaas.json` `vaas[]` used here. */
interface VaaFixture {
  network: 'Mainnet' | 'Testnet';
  guardianSetIndex: number;
  emitterChain: number;
  emitterAddress: string;
  sequence: string;
  nonce: number;
  timestamp: number;
  vaaHex: string;
  vaaBase64: string;
}
/** Fields of `layerzero/packets.json` `packets[]` used here. */
interface PacketFixture {
  id: string;
  encodedPacket?: string;
  headerPlusGuid?: string;
  packetHeader?: string;
  decoded: { nonce: string; srcEid: number; dstEid: number; sender: string; receiver: string; guidComputedFromHeader: string };
}

const vaasFile = fixturePath('wormhole/vaas.json');
const setsFile = fixturePath('wormhole/guardian_sets_mainnet.json');
const packetsFile = fixturePath('layerzero/packets.json');
const absent = (rel: string) => `fixture ${rel} absent under ${fixturesDir()}`;

/** A mainnet VAA signed at a time (its own timestamp) when its guardian set was current. */
const vaa = vaasFile ? (JSON.parse(fs.readFileSync(vaasFile, 'utf8')) as { vaas: VaaFixture[] }).vaas.find((v) => v.network === 'Mainnet' && v.timestamp > 0) : undefined;
const packets = packetsFile ? (JSON.parse(fs.readFileSync(packetsFile, 'utf8')) as { packets: PacketFixture[] }).packets : [];
const packet = packets.find((p) => p.encodedPacket);

/** Runs `ballast inspect …` in-process (cli/main.ts), its output captured; `env` set for the run only. */
function ballast(args: string[], env?: Record<string, string | undefined>): Promise<CapturedRun> {
  return runCaptured(['inspect', ...args], { env });
}

/** Flip one bit of the last byte (the payload) of a hex VAA. */
const flipLast = (hex: string): string => hex.slice(0, -2) + (parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, '0');

describe('ballast inspect (CLI, in-process)', () => {
  test('inspect vaa: a real mainnet VAA (base64, --json, --now at its timestamp) is valid: exit 0 and its fields', async (t) => {
    if (!vaa || !setsFile) return t.skip(absent('wormhole/vaas.json and guardian_sets_mainnet.json'));
    const r = await ballast(['vaa', vaa.vaaBase64, '--json', '--now', String(vaa.timestamp)]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { ok: boolean; verified: boolean; decoded: Record<string, unknown>; quorum: { needed: number; held: number; met: boolean }; nowSec: string; guardianSetsSource: string };
    assert.equal(j.ok, true);
    assert.equal(j.verified, true);
    assert.equal(j.decoded.sequence, vaa.sequence, 'sequence as a decimal string');
    assert.equal(j.decoded.emitterChain, vaa.emitterChain);
    assert.equal(j.decoded.emitterAddress, `0x${vaa.emitterAddress}`);
    assert.equal(j.decoded.nonce, vaa.nonce);
    assert.equal(j.decoded.guardianSetIndex, vaa.guardianSetIndex);
    assert.equal(j.quorum.met, true);
    assert.equal(j.nowSec, String(vaa.timestamp));
    assert.equal(j.guardianSetsSource, setsFile);
    assert.equal(r.stderr, '');
  });

  test('inspect vaa: one flipped payload byte exits 1 with the failing signatures on stderr, fields still printed', async (t) => {
    if (!vaa || !setsFile) return t.skip(absent('wormhole/vaas.json and guardian_sets_mainnet.json'));
    const r = await ballast(['vaa', flipLast(vaa.vaaHex), '--now', String(vaa.timestamp), '--guardian-sets', setsFile]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Wormhole VAA: INVALID/);
    assert.match(r.stdout, new RegExp(`sequence\\s+${vaa.sequence}\\n`));
    assert.match(r.stderr, /\[signature-mismatch\] signature by guardian index \d+ recovers to 0x[0-9a-fA-F]{40}, not to the set \d+ key/);
    assert.match(r.stderr, /\[quorum-not-met\] 0 valid signature\(s\) of the 13 needed/);
  });

  test('inspect vaa: without any guardian sets it decodes, says verification was not possible, exit 1', async (t) => {
    if (!vaa) return t.skip(absent('wormhole/vaas.json'));
    const r = await ballast(['vaa', vaa.vaaHex], { BALLAST_FIXTURES_DIR: path.join(repoDir(), 'scratch', 'no-such-fixtures') });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Wormhole VAA: NOT VERIFIED \(no guardian sets\)/);
    assert.match(r.stdout, new RegExp(`emitter\\s+chain ${vaa.emitterChain} \\(\\w+\\) 0x${vaa.emitterAddress}`));
    assert.match(r.stderr, /verification not possible: no guardian sets\. Pass --guardian-sets FILE .*no-such-fixtures\/wormhole\/guardian_sets_mainnet\.json is absent/);
  });

  test('inspect vaa: text that is neither hex nor base64 exits 1 with the reason; a missing argument is a usage error (exit 2)', async () => {
    const garbage = await ballast(['vaa', 'this is not a VAA!']);
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /ballast inspect vaa: a VAA must be hex \(0x optional, an even number of hex digits\) or base64/);
    assert.equal(garbage.stdout, '');
    const usage = await ballast(['vaa']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing required argument 'vaa'/);
  });

  test('inspect packet: a real Stargate packet decodes (--json) and its GUID recomputes: exit 0; garbage exits 1', async (t) => {
    if (!packet) return t.skip(absent('layerzero/packets.json'));
    const r = await ballast(['packet', packet.encodedPacket!, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.nonce, packet.decoded.nonce);
    assert.equal(j.srcEid, packet.decoded.srcEid);
    assert.equal(j.dstEid, packet.decoded.dstEid);
    assert.equal(j.sender, packet.decoded.sender.toLowerCase());
    assert.equal(j.receiver, packet.decoded.receiver.toLowerCase());
    assert.equal(j.guid, packet.decoded.guidComputedFromHeader.toLowerCase());
    assert.equal(j.guidRecomputed, j.guid);
    assert.equal(j.guidMatches, true);
    assert.equal(j.form, 'full');

    const bad = await ballast(['packet', '0x01deadbeef']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ballast inspect packet: a LayerZero v2 packet has an 81-byte header; got 5 bytes/);
  });
});

describe('inspectPacket', () => {
  test('every fixture packet form decodes and its GUID recomputes; a tampered GUID or header is reported as not matching', (t) => {
    if (!packetsFile) return t.skip(absent('layerzero/packets.json'));
    const forms = new Set<string>();
    for (const p of packets) {
      const hex = p.encodedPacket ?? p.headerPlusGuid ?? p.packetHeader!;
      const r = inspectPacket(hex);
      forms.add(r.form);
      assert.equal(r.nonce, BigInt(p.decoded.nonce), p.id);
      assert.equal(r.guidRecomputed, p.decoded.guidComputedFromHeader.toLowerCase(), p.id);
      assert.equal(r.guidMatches, r.form === 'header' ? undefined : true, p.id);
      if (r.form !== 'header') {
        // Flip one bit of the GUID (bytes 81..112), then of the nonce (byte 8): both break the match.
        const at = (byte: number) => hex.slice(0, 2 + byte * 2) + (parseInt(hex.slice(2 + byte * 2, 4 + byte * 2), 16) ^ 1).toString(16).padStart(2, '0') + hex.slice(4 + byte * 2);
        assert.equal(inspectPacket(at(81)).guidMatches, false, `${p.id}: tampered guid`);
        const n = inspectPacket(at(8));
        assert.equal(n.guidMatches, false, `${p.id}: tampered nonce`);
        assert.equal(n.nonce, BigInt(p.decoded.nonce) ^ 1n);
      }
    }
    assert.ok(forms.has('full'), 'at least one full packet in the fixture');
    assert.throws(() => inspectPacket('0x' + '01'.repeat(100)), (e: unknown) => e instanceof PacketDecodeError && /cut inside the GUID/.test(e.message));
    assert.throws(() => inspectPacket('0x02' + '00'.repeat(80)), /packet version 2: only PacketV1/);
    assert.throws(() => inspectPacket('xyz'), /a packet must be hex/);
  });
});
