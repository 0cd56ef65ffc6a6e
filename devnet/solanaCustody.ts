/**
 * The devnet's stand-in for Wormhole's token bridge on Solana (whose program cannot run here): a custody token
 * account held by a custody authority key, and a service that
 *
 * - watches the custody account for sends (memo `ballast:wormhole:v1:<key>:<dstChain>:<recipient>`,
 *   chains/solana/memos.ts) and reports each to the devnet guardian as an observed message: emitter chain = the
 *   chain's Wormhole chain id, emitter = the custody account, sequence = the custody's per-emitter message
 *   counter like Wormhole core's (0 for the first send, +1 per send): the send's ordinal among all sends into
 *   custody in chain order (slot, then position in the block), chains/solana/memoTransfer.ts `listCustodySends`.
 *   Real core keeps that counter in a Sequence account and logs `Sequence: N` in the posting transaction; the
 *   stand-in has no program, so it derives the counter from chain history, by the same function the keeper
 *   uses to learn the sequence of its send (activities/solanaLegs.ts `solanaSendSequence`): both agree, and a
 *   restarted watcher numbers the same sends the same way. Payload v1 exactly as
 *   `WormholeAdapter.encodePayload` builds it (version 1, key, amount = what the custody actually received,
 *   dstChain, recipient);
 * - redeems VAAs addressed to this chain: `POST /v1/custody/redeem {"vaa": "0x…"}` verifies the VAA (guardian
 *   set, quorum, emitter = a registered peer adapter, payload v1, destination = this chain, recipient = the
 *   treasury), then releases the amount custody → treasury with the memo `ballast:redeem:<key>`, once per key.
 *   Answers `200 {signature, slot}`, `200 {code: "consumed", signature, slot}` when it was released before,
 *   `400 {code: "rejected", error}` for a VAA it refuses for good, `500 {error}` otherwise (retry).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesToHex, encodePacked, hexToBigInt, hexToBytes, pad, size, slice, type Hex } from 'viem';
import type { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { findMemoTransfer, listCustodySends, transferWithMemo } from '../chains/solana/memoTransfer.js';
import { parseWormholeSendMemo, redeemMemo } from '../chains/solana/memos.js';
import { assertVaaVerified, VaaVerificationError } from '../chains/wormhole/verifyVaa.js';
import type { GuardianSet } from '../chains/wormhole/guardianSets.js';
import type { DevnetGuardian } from './guardian.js';

/** Options of {@link DevnetSolanaCustody}. */
export interface DevnetSolanaCustodyOptions {
  chainKey: string;
  connection: Connection;
  /** Wormhole chain id of this Solana chain (1). */
  whChainId: number;
  mint: PublicKey;
  decimals: number;
  custody: PublicKey;
  /** The keeper's treasury: the only recipient of releases. */
  treasury: PublicKey;
  /** Owner of the custody token account; pays the release fees. */
  authority: Keypair;
  guardian: DevnetGuardian;
  /** The guardian sets VAAs are verified against. */
  guardianSets: GuardianSet[];
  /** Registered peer adapters (the only accepted emitters): Wormhole chain id → emitter (20 or 32 bytes). */
  peers: ReadonlyMap<number, Hex>;
  pollIntervalMs?: number;
  port?: number;
  log?: (m: string) => void;
}

/** Length of the WormholeAdapter payload v1: version (1) | key (32) | amount (32) | dstChain (2) | recipient (32). */
const PAYLOAD_V1_LEN = 99;

class Rejected extends Error {}

/** See the module comment. */
export class DevnetSolanaCustody {
  private server: http.Server | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: Promise<void> | undefined;
  private running = false;
  /** Where the watcher resumes: the first slot not read yet and the sequence of the next send (listCustodySends). */
  private cursor = { slot: 0n, sequence: 0n };
  private baseUrl: string | undefined;
  /** Releases in progress by key: one at a time per key (the memo lookup then sees the first one). */
  private readonly redeeming = new Map<string, Promise<{ signature: string; slot: bigint; consumed: boolean }>>();
  private readonly log: (m: string) => void;
  private readonly custodyHex: Hex;

  constructor(private readonly opts: DevnetSolanaCustodyOptions) {
    this.log = opts.log ?? (() => undefined);
    this.custodyHex = bytesToHex(opts.custody.toBytes());
  }

  /** Base URL of the redeem API (config `solana.custodyUrl`). @throws Error before `start()`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('custody service not started');
    return this.baseUrl;
  }

  /** Starts the HTTP API and the custody watcher. @throws Error when the port cannot be bound. */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.running = true;
    this.schedule(0);
    this.log(`Solana custody ${this.opts.custody.toBase58()} (emitter ${this.opts.whChainId}/${this.custodyHex}) redeeming at ${this.baseUrl}`);
  }

  /** Stops the watcher and the API; resolves when both are done. Safe to call twice. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
    await Promise.allSettled([...this.redeeming.values()]);
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /**
   * One pass of the watcher: every new send into custody becomes an observed message of the guardian, with the
   * sequence {@link listCustodySends} gives it (resuming from the last pass's cursor).
   */
  async pollOnce(): Promise<void> {
    const sends = await listCustodySends({ connection: this.opts.connection, custody: this.opts.custody, commitment: 'confirmed', cursor: this.cursor });
    for (const t of sends) {
      // listCustodySends keeps valid send memos only
      const memo = parseWormholeSendMemo(t.memo)!;
      const payload = encodePacked(['uint8', 'bytes32', 'uint256', 'uint16', 'bytes32'], [1, memo.key, t.amount, memo.dstChain, memo.recipient]);
      this.opts.guardian.observe({
        emitterChain: this.opts.whChainId,
        emitterAddress: this.custodyHex,
        sequence: t.sequence,
        nonce: 0,
        consistencyLevel: 1,
        payload,
        timestamp: Number(t.blockTimeSec ?? BigInt(Math.floor(Date.now() / 1000))),
        txHash: t.signature,
        blockNumber: t.slot,
      });
    }
    const last = sends[sends.length - 1];
    if (last) this.cursor = { slot: last.slot + 1n, sequence: last.sequence + 1n };
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.pollOnce()
        .catch((err: unknown) => this.log(`custody: reading ${this.opts.chainKey} failed, will retry: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          this.current = undefined;
          this.schedule(this.opts.pollIntervalMs ?? 250);
        });
    }, ms);
  }

  /**
   * Verifies `vaa` and releases its amount to the treasury (once per rebalance key).
   * @throws Rejected for a VAA refused for good; other errors are transient.
   */
  async redeem(vaaHex: Hex): Promise<{ signature: string; slot: bigint; consumed: boolean }> {
    const allowedEmitters = [...this.opts.peers].map(([chain, emitter]) => ({ chain, emitter }));
    let payload: Hex;
    try {
      const v = await assertVaaVerified(hexToBytes(vaaHex), { guardianSets: this.opts.guardianSets, allowedEmitters });
      payload = v.decoded.payload;
    } catch (err) {
      if (err instanceof VaaVerificationError) throw new Rejected(err.message);
      throw new Rejected(`not a VAA: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (size(payload) !== PAYLOAD_V1_LEN) throw new Rejected(`payload is ${size(payload)} bytes, expected ${PAYLOAD_V1_LEN} (WormholeAdapter payload v1)`);
    const version = hexToBigInt(slice(payload, 0, 1));
    const key = slice(payload, 1, 33);
    const amount = hexToBigInt(slice(payload, 33, 65));
    const dstChain = Number(hexToBigInt(slice(payload, 65, 67)));
    const recipient = slice(payload, 67, 99);
    if (version !== 1n) throw new Rejected(`payload version ${version}, expected 1`);
    if (dstChain !== this.opts.whChainId) throw new Rejected(`VAA is for Wormhole chain ${dstChain}, this custody is on chain ${this.opts.whChainId}`);
    const treasury = pad(bytesToHex(this.opts.treasury.toBytes()), { size: 32 });
    if (recipient.toLowerCase() !== treasury.toLowerCase()) throw new Rejected(`recipient ${recipient} is not the treasury ${this.opts.treasury.toBase58()}`);
    if (amount === 0n || amount >= 1n << 64n) throw new Rejected(`amount ${amount} is not a positive u64`);
    const inFlight = this.redeeming.get(key);
    if (inFlight) return inFlight;
    const p = this.release(key, amount).finally(() => this.redeeming.delete(key));
    this.redeeming.set(key, p);
    return p;
  }

  private async release(key: Hex, amount: bigint): Promise<{ signature: string; slot: bigint; consumed: boolean }> {
    const memo = redeemMemo(key);
    const before = await findMemoTransfer({ connection: this.opts.connection, account: this.opts.treasury, memo, commitment: 'confirmed', from: this.opts.custody, to: this.opts.treasury });
    if (before) return { signature: before.signature, slot: before.slot, consumed: true };
    const r = await transferWithMemo({
      connection: this.opts.connection,
      payer: this.opts.authority,
      mint: this.opts.mint,
      decimals: this.opts.decimals,
      source: this.opts.custody,
      destination: this.opts.treasury,
      amount,
      memo,
      priorityFeeMicroLamports: 0,
      commitment: 'confirmed',
      timeoutMs: 30_000,
    });
    this.log(`custody: released ${amount} to the treasury for ${key} (tx ${r.signature})`);
    return { signature: r.signature, slot: r.slot, consumed: r.alreadyDone };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    try {
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://custody').pathname !== '/v1/custody/redeem') return json(404, { error: `no route ${req.method} ${req.url}` });
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: { vaa?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { vaa?: unknown };
      } catch {
        return json(400, { code: 'rejected', error: 'body must be JSON {"vaa": "0x…"}' });
      }
      if (typeof body.vaa !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(body.vaa)) return json(400, { code: 'rejected', error: 'body.vaa must be the VAA as 0x-hex' });
      const r = await this.redeem(body.vaa as Hex);
      json(200, { ...(r.consumed ? { code: 'consumed' } : {}), signature: r.signature, slot: r.slot });
    } catch (err) {
      if (err instanceof Rejected) return json(400, { code: 'rejected', error: err.message });
      json(500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
