/**
 * `ballast inspect`: offline decoding and checking of bridge messages, for operators.
 *
 * ```
 * ballast inspect vaa <hex|base64> [--guardian-sets FILE] [--testnet] [--now SEC] [--allow-emitter CHAIN:ADDRESS]... [--json]
 * ballast inspect packet <hex> [--json]
 * ballast inspect pyth <base64> [--json]
 * ```
 * `pyth` decodes a Pyth `PriceUpdateV2` account's data (Solana `getAccountInfo`, base64) and names known feeds.
 * Exit status: 0 valid; 1 invalid input or failed verification (the reasons on stderr); 2 usage error.
 * `--json` prints one JSON object on stdout (bigints as decimal strings), also when invalid.
 */
import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { Hex } from 'viem';
import { fixturePath, fixturesDir } from '../config/fixtures.js';
import { inspectPacket, PacketDecodeError, type PacketInspection } from '../chains/evm/inspectPacket.js';
import { loadGuardianSets, GuardianSetsFileError, type GuardianSet } from '../chains/wormhole/guardianSets.js';
import type { PriceUpdateV2 } from '../chains/solana/pyth.js';
import { unixSecToIso, vaaBytesFromText, verifyVaa, type AllowedEmitter, type VaaVerification } from '../chains/wormhole/verifyVaa.js';
import { toJson as jsonText, type CliContext } from './io.js';

/** Where the default guardian sets live, relative to the fixtures folder. */
const DEFAULT_GUARDIAN_SETS = 'wormhole/guardian_sets_mainnet.json';

const unixSec = (v: string): bigint => {
  if (!/^\d{1,12}$/.test(v)) throw new InvalidArgumentError(`must be unix seconds, a non-negative integer (got "${v}")`);
  return BigInt(v);
};

const allowEmitter = (v: string, prev: AllowedEmitter[]): AllowedEmitter[] => {
  const m = /^(\d{1,5}):(0x[0-9a-fA-F]{64}|0x[0-9a-fA-F]{40})$/.exec(v);
  if (!m || Number(m[1]) > 0xffff) {
    throw new InvalidArgumentError(`must be <wormhole chain id>:<0x + 64 hex universal address or 0x + 40 hex EVM address> (got "${v}")`);
  }
  return [...prev, { chain: Number(m[1]), emitter: m[2] as Hex }];
};

/** Prints each line to stderr prefixed with the command; sets exit status 1. */
function failWith(ctx: CliContext, cmd: string, lines: string[]): void {
  for (const l of lines) ctx.io.err(`ballast inspect ${cmd}: ${l}`);
  ctx.exitCode = 1;
}

interface VaaOptions {
  guardianSets?: string;
  testnet?: boolean;
  now?: bigint;
  allowEmitter: AllowedEmitter[];
  json?: boolean;
}

/** The text form of a VAA verification (stdout). */
function vaaText(r: VaaVerification, setsSource: string | undefined): string {
  const out: string[] = [];
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(19)} ${v}`);
  out.push(`Wormhole VAA: ${!setsSource ? 'NOT VERIFIED (no guardian sets)' : r.ok ? 'VALID' : 'INVALID'}`);
  const d = r.decoded;
  if (d) {
    row('version', String(d.version));
    const gs = r.guardianSet;
    row(
      'guardian set',
      `${d.guardianSetIndex}${gs ? ` (${gs.size} keys; ${gs.expirationTimeSec === undefined ? 'current set, no expiry' : `${gs.expired ? 'EXPIRED' : 'expires'} at ${gs.expirationTimeSec} ${unixSecToIso(gs.expirationTimeSec)}`})` : ' (unknown)'}`,
    );
    row('emitter', `chain ${d.emitterChain} (${d.emitterChainName}) ${d.emitterAddress}`);
    row('sequence', d.sequence.toString());
    row('nonce', String(d.nonce));
    row('timestamp', `${d.timestamp} (${unixSecToIso(d.timestamp)})`);
    row('consistency level', String(d.consistencyLevel));
    row('payload', `${(d.payload.length - 2) / 2} bytes ${d.payload}`);
    row('body hash', `${d.bodyHash}  keccak256(body)`);
    row('digest', `${d.digest}  keccak256(keccak256(body)), what the guardians sign`);
    row('signers', `${r.signerIndices.length}: guardian indices ${r.signerIndices.join(' ') || '(none)'}`);
    if (setsSource && r.guardianSet) {
      const bad = r.signatures.filter((s) => !s.valid);
      row('signatures', `${r.signatures.length - bad.length} recover to their set key, ${bad.length} do not`);
      for (const s of bad) row('', `index ${s.guardianIndex}: ${s.recovered ? `recovers to ${s.recovered}` : (s.error ?? 'no recovery')}, set key ${s.expectedKey ?? '(none: index out of range)'}`);
    }
    if (r.quorum) row('quorum', `${r.quorum.needed} of ${r.guardianSet?.size} needed, ${r.quorum.held} held: ${r.quorum.met ? 'met' : 'NOT met'}`);
    row('emitter allow-list', r.emitterAllowed === undefined ? 'none given' : r.emitterAllowed ? 'allowed' : 'NOT allowed');
  }
  if (setsSource) row('checked', `at ${r.nowSec} (${unixSecToIso(r.nowSec)}) against guardian sets from ${setsSource}`);
  return out.join('\n');
}

async function inspectVaaAction(ctx: CliContext, input: string, o: VaaOptions): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = vaaBytesFromText(input);
  } catch (err) {
    return failWith(ctx, 'vaa', [(err as Error).message]);
  }
  const file = o.guardianSets ?? fixturePath(DEFAULT_GUARDIAN_SETS);
  let sets: GuardianSet[] | undefined;
  if (file) {
    try {
      const loaded = await loadGuardianSets(file);
      sets = o.testnet ? loaded.testnet : loaded.sets;
      if (o.testnet && sets.length === 0) return failWith(ctx, 'vaa', [`${file} has no testnetGuardianSet0: --testnet needs a file with the testnet guardian set`]);
    } catch (err) {
      if (err instanceof GuardianSetsFileError) return failWith(ctx, 'vaa', [err.message.split('\n').join('; ')]); // one line: a runtime error
      throw err;
    }
  }
  const r = await verifyVaa(bytes, { guardianSets: sets ?? [], nowSec: o.now, allowedEmitters: o.allowEmitter.length ? o.allowEmitter : undefined });
  const setsSource = sets ? `${file}${o.testnet ? ' (testnet set)' : ''}` : undefined;
  ctx.io.out(o.json ? jsonText({ ...r, guardianSetsSource: setsSource ?? null, verified: sets !== undefined }) : vaaText(r, setsSource));
  if (!sets) {
    const why = r.decoded ? [] : r.reasons.map((x) => x.message);
    return failWith(ctx, 'vaa', [
      ...why,
      `verification not possible: no guardian sets. Pass --guardian-sets FILE (format of ${DEFAULT_GUARDIAN_SETS}; the default ${fixturesDir()}/${DEFAULT_GUARDIAN_SETS} is absent)`,
    ]);
  }
  if (!r.ok) failWith(ctx, 'vaa', ['INVALID', ...r.reasons.map((x) => `[${x.code}] ${x.message}`)]);
}

/** The text form of a packet inspection (stdout). */
function packetText(p: PacketInspection): string {
  const out: string[] = [`LayerZero v2 packet (PacketV1, ${p.form === 'full' ? 'header | guid | message' : p.form === 'header+guid' ? 'header | guid, no message' : 'header only'})`];
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(12)} ${v}`);
  row('version', String(p.version));
  row('nonce', p.nonce.toString());
  row('srcEid', String(p.srcEid));
  row('sender', p.sender);
  row('dstEid', String(p.dstEid));
  row('receiver', p.receiver);
  if (p.guidMatches === undefined) row('guid', `${p.guidRecomputed}  (recomputed from the header; the input carries none)`);
  else row('guid', `${p.guid}  ${p.guidMatches ? 'recomputes from the header' : `DOES NOT recompute: the header gives ${p.guidRecomputed}`}`);
  if (p.form === 'full') row('message', `${p.messageBytes} bytes ${p.message}`);
  if (p.payloadHash) row('payloadHash', `${p.payloadHash}  keccak256(guid | message)`);
  return out.join('\n');
}

function inspectPacketAction(ctx: CliContext, input: string, o: { json?: boolean }): void {
  let p: PacketInspection;
  try {
    p = inspectPacket(input);
  } catch (err) {
    if (err instanceof PacketDecodeError) return failWith(ctx, 'packet', [err.message]);
    throw err;
  }
  ctx.io.out(o.json ? jsonText(p) : packetText(p));
  if (p.guidMatches === false) failWith(ctx, 'packet', [`INVALID: the packet's GUID ${p.guid} is not keccak256(nonce, srcEid, sender, dstEid, receiver) = ${p.guidRecomputed}`]);
}

/** Feed id → name from the fixtures' `pyth/price_update_v2_accounts.json` `knownFeedIds`; empty when absent. */
function knownPythFeeds(): Record<string, string> {
  const file = fixturePath('pyth/price_update_v2_accounts.json');
  try {
    return file ? ((JSON.parse(fs.readFileSync(file, 'utf8')) as { knownFeedIds?: Record<string, string> }).knownFeedIds ?? {}) : {};
  } catch {
    return {};
  }
}

/** The text form of a Pyth price update (stdout). `d` holds the decimal strings. */
function pythText(u: PriceUpdateV2, feedName: string | undefined, d: Record<'price' | 'conf' | 'emaPrice' | 'emaConf', string>): string {
  const out = ['Pyth PriceUpdateV2 (Pyth Solana receiver account)'];
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(20)} ${v}`);
  row('feed id', `${u.feedId}${feedName ? ` (${feedName})` : ''}`);
  row('price', `${d.price}  (${u.price} × 10^${u.exponent})`);
  row('conf', `${d.conf}  (${u.conf})`);
  row('exponent', String(u.exponent));
  row('publish time', `${u.publishTimeSec} (${unixSecToIso(u.publishTimeSec)})`);
  row('prev publish time', `${u.prevPublishTimeSec} (${unixSecToIso(u.prevPublishTimeSec)})`);
  row('EMA price', `${d.emaPrice}  (${u.emaPrice})`);
  row('EMA conf', `${d.emaConf}  (${u.emaConf})`);
  const v = u.verificationLevel;
  row('verification level', v.kind === 'Full' ? 'Full (guardian quorum)' : `Partial (${v.numSignatures} guardian signatures, not a quorum)`);
  row('posted slot', u.postedSlot.toString());
  row('write authority', u.writeAuthority);
  return out.join('\n');
}

async function inspectPythAction(ctx: CliContext, input: string, o: { json?: boolean }): Promise<void> {
  // Loaded on use: it pulls in Anchor and @solana/web3.js, which every other command can do without.
  const { decodePriceUpdateV2, formatPythDecimal, PythDecodeError } = await import('../chains/solana/pyth.js');
  const text = input.trim();
  const bytes = /^0x([0-9a-fA-F]{2})*$/.test(text)
    ? Buffer.from(text.slice(2), 'hex')
    : /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0
      ? Buffer.from(text, 'base64')
      : undefined;
  if (!bytes) return failWith(ctx, 'pyth', [`input is neither base64 nor 0x-hex account data (${text.length} characters starting "${text.slice(0, 16)}")`]);
  let u: PriceUpdateV2;
  try {
    u = decodePriceUpdateV2(bytes);
  } catch (err) {
    if (err instanceof PythDecodeError) return failWith(ctx, 'pyth', [err.message]);
    throw err;
  }
  const feedName = knownPythFeeds()[u.feedId];
  const d = {
    price: formatPythDecimal(u.price, u.exponent),
    conf: formatPythDecimal(u.conf, u.exponent),
    emaPrice: formatPythDecimal(u.emaPrice, u.exponent),
    emaConf: formatPythDecimal(u.emaConf, u.exponent),
  };
  ctx.io.out(
    o.json
      ? jsonText({ ...u, feedName: feedName ?? null, priceDecimal: d.price, confDecimal: d.conf, emaPriceDecimal: d.emaPrice, emaConfDecimal: d.emaConf, publishTimeIso: unixSecToIso(u.publishTimeSec), prevPublishTimeIso: unixSecToIso(u.prevPublishTimeSec), dataLen: bytes.length })
      : pythText(u, feedName, d),
  );
}

/**
 * Adds `inspect vaa`, `inspect packet` and `inspect pyth` to the `ballast` program.
 * @param program the root commander program.
 * @param ctx where the actions print; they set `ctx.exitCode` to 1 for invalid input or a failed verification.
 */
export function registerInspect(program: Command, ctx: CliContext): void {
  const inspect = program
    .command('inspect')
    .description('decode and check a Wormhole VAA, a LayerZero v2 packet or a Pyth PriceUpdateV2 account (offline; exit 0 valid, 1 invalid, 2 usage)');
  inspect
    .command('vaa')
    .description('decode a Wormhole VAA and verify its guardian signatures, quorum and guardian-set expiry')
    .argument('<vaa>', 'the signed VAA as hex (0x optional) or base64')
    .option('--guardian-sets <file>', `guardian sets JSON (format of the fixtures' ${DEFAULT_GUARDIAN_SETS}; default: that file under the fixtures folder when present)`)
    .option('--testnet', "verify against the file's testnet guardian set (testnetGuardianSet0) instead of the mainnet sets")
    .option('--now <unixSec>', 'check guardian-set expiry at this time (unix seconds) instead of the wall clock', unixSec)
    .option('--allow-emitter <chain:address>', 'refuse the VAA unless its emitter is one of these (repeatable)', allowEmitter, [] as AllowedEmitter[])
    .option('--json', 'print JSON (bigints as decimal strings)')
    .action((input: string, o: VaaOptions) => inspectVaaAction(ctx, input, o));
  inspect
    .command('packet')
    .description('decode a LayerZero v2 packet (PacketV1) and check that its GUID recomputes from the header')
    .argument('<hex>', 'encoded packet (PacketSent.encodedPayload), header | guid, or the 81-byte header; 0x optional')
    .option('--json', 'print JSON (bigints as decimal strings)')
    .action((input: string, o: { json?: boolean }) => inspectPacketAction(ctx, input, o));
  inspect
    .command('pyth')
    .description("decode a Pyth PriceUpdateV2 account (the Pyth Solana receiver's price account): price, conf, times, verification level")
    .argument('<base64>', 'the account data as base64 (getAccountInfo encoding base64); 0x-hex also accepted')
    .option('--json', 'print JSON (bigints as decimal strings)')
    .action((input: string, o: { json?: boolean }) => inspectPythAction(ctx, input, o));
}
