/**
 * The devnet's stand-in for the Wormhole guardian network: a service separate from the keeper that
 * watches `LogMessagePublished` on every chain's Wormhole core, builds each message's VAA with the
 * Wormhole SDK (`createVAA`, signed by a one-guardian `mocks.MockGuardians` set holding the devnet
 * guardian key, `serialize`; from `@wormhole-foundation/sdk-definitions`, which the main SDK
 * re-exports, because it loads in ~0.5 s instead of ~3 s), and serves it over HTTP on 127.0.0.1 the
 * way the guardians' public REST API does:
 *
 *   GET /v1/signed_vaa/{chainId}/{emitterHex64}/{sequence}  → 200 {"vaaBytes": "<base64>"}
 *                                                             404 {"code":5,"message":"requested VAA not found in store","details":[]}
 *   GET /v1/guardianset/current                             → 200 {"guardianSet":{"index":0,"addresses":["0x…"]}}
 *
 * `emitterHex64` is the emitter address left-padded to 32 bytes, 64 hex digits (with or without 0x,
 * any case). It is the LayerZero relayer's counterpart (devnet/relayer.ts), with fault controls for
 * tests: `pause()`/`resume()`, `setDelayMs(ms)`, `drop(chain, sequence)` and `serveBadSignature(chain, sequence)`.
 *
 * Spec of the VAA layout: Wormhole VAA v1 (header: version, guardian set index, signatures; body:
 * timestamp, nonce, emitter chain, emitter address, sequence, consistency level, payload).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient, getAbiItem, http as viemHttp, pad, type Address, type Chain, type Hex, type PublicClient, type Transport } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { wormholeImplementationAbi } from '../contracts/generated/abis.js';
import { DEVNET_WORMHOLE_GUARDIAN_KEY } from './accounts.js';

/** One chain the guardian observes. */
export interface GuardianChainConfig {
  chainKey: string;
  rpcUrl: string;
  /** Wormhole chain id of this chain (the core's `chainId()`), e.g. 2, 23, 30. */
  whChainId: number;
  /** Wormhole core contract (proxy) address. */
  core: Address;
}

export interface DevnetGuardianOptions {
  chains: GuardianChainConfig[];
  /** Guardian key that signs; default the public devnet guardian key (devnet/accounts.ts). */
  guardianKey?: Hex;
  /** Index of the guardian set the key belongs to on every core; default 0. */
  guardianSetIndex?: number;
  /** HTTP host; default 127.0.0.1. */
  host?: string;
  /** HTTP port; default 0 (any free port; read `url` after `start()`). */
  port?: number;
  /** Delay between polls, ms; default 200. */
  pollIntervalMs?: number;
  /** First block scanned on every chain; default 0. */
  fromBlock?: bigint;
  log?: (msg: string) => void;
}

/** A message seen in a `LogMessagePublished` log. */
export interface ObservedMessage {
  /** Wormhole chain id of the chain it was published on. */
  emitterChain: number;
  /** Emitter (the `sender` of the log) left-padded to 32 bytes, lowercase 0x + 64 hex. */
  emitterAddress: Hex;
  sequence: bigint;
  nonce: number;
  consistencyLevel: number;
  payload: Hex;
  /** Timestamp of the block holding the log, seconds (what real guardians put in the VAA). */
  timestamp: number;
  /** The emitting transaction: an EVM hash, or a Solana signature (base58). */
  txHash: string;
  /** Block number (EVM) or slot (Solana) of that transaction. */
  blockNumber: bigint;
}

/** A VAA answered with 200 by the HTTP API. */
export interface ServedVaa {
  emitterChain: number;
  emitterAddress: Hex;
  sequence: bigint;
  /** The bytes served (corrupted when `badSignature`). */
  vaa: Uint8Array;
  /** True when served with a corrupted signature (`serveBadSignature`). */
  badSignature: boolean;
}

/** Events emitted by {@link DevnetGuardian}. */
export interface DevnetGuardianEvents {
  observed: [ObservedMessage];
  /** The guardian signed the message's VAA (it is available from now on, unless dropped). */
  signed: [{ emitterChain: number; emitterAddress: Hex; sequence: bigint; vaa: Uint8Array }];
  served: [ServedVaa];
}

interface Observation {
  message: ObservedMessage;
  observedAtMs: number;
  vaa?: Uint8Array;
}

interface ChainRuntime {
  config: GuardianChainConfig;
  pub: PublicClient<Transport, Chain | undefined>;
  nextBlock: bigint;
}

type WormholeDefinitions = typeof import('@wormhole-foundation/sdk-definitions');
type WormholeTesting = typeof import('@wormhole-foundation/sdk-definitions/testing');
type GuardianSigner = InstanceType<WormholeTesting['mocks']['MockGuardians']>;
interface LoadedSdk {
  sdk: WormholeDefinitions;
  mocks: WormholeTesting['mocks'];
}

let sdkPromise: Promise<LoadedSdk> | undefined;

/**
 * Starts importing the Wormhole SDK (~0.5 s the first time) so a later `DevnetGuardian.start()` does
 * not wait for it. Safe to call many times.
 */
export function preloadWormholeSdk(): Promise<LoadedSdk> {
  sdkPromise ??= Promise.all([import('@wormhole-foundation/sdk-definitions'), import('@wormhole-foundation/sdk-definitions/testing')]).then(
    ([sdk, testing]) => ({ sdk, mocks: testing.mocks }),
  );
  return sdkPromise;
}

/** The fields of a VAA that the guardians sign (its body), as observed on the emitter chain. */
export interface VaaBody {
  /** Wormhole chain id of the emitter chain (one the SDK knows, e.g. 1, 2, 23, 30). */
  emitterChain: number;
  /** Emitter address: 20 bytes (left-padded) or 32 bytes. */
  emitterAddress: Hex;
  sequence: bigint;
  nonce: number;
  /** Unix seconds. */
  timestamp: number;
  consistencyLevel: number;
  payload: Hex;
}

/** createVAA + MockGuardians.addSignatures (guardian 0 of a one-guardian set) + serialize. */
function buildSignedVaa(loaded: LoadedSdk, signer: GuardianSigner, guardianSetIndex: number, body: VaaBody): Uint8Array {
  const { sdk } = loaded;
  const unsigned = sdk.createVAA('Uint8Array', {
    guardianSet: guardianSetIndex,
    signatures: [],
    timestamp: body.timestamp,
    nonce: body.nonce,
    // The SDK names chains; its chain layout item maps a Wormhole chain id to that name (throws for an unknown id).
    emitterChain: sdk.layoutItems.chainItem().custom.to(body.emitterChain),
    emitterAddress: new sdk.UniversalAddress(emitter32(body.emitterAddress)),
    sequence: body.sequence,
    consistencyLevel: body.consistencyLevel,
    payload: hexToBytes(body.payload),
  });
  return sdk.serialize(signer.addSignatures(unsigned, [0]));
}

/**
 * Builds and signs a VAA exactly as {@link DevnetGuardian} does, for any body: tests use it for VAAs
 * the devnet never publishes (a forged payload from a registered emitter, a core governance action
 * from the governance emitter, chain 1 / `0x…04`).
 * @param opts.guardianKey Signing key; default the public devnet guardian key (the devnet cores' only guardian).
 * @param opts.guardianSetIndex Guardian set index written in the VAA; default 0.
 * @returns the serialized VAA (what `/v1/signed_vaa` serves base64-encoded).
 * @throws Error when `emitterChain` is not a Wormhole chain id the SDK knows.
 * @example
 *   const vaa = await signDevnetVaa({ emitterChain: 2, emitterAddress: adapter, sequence: 0n, nonce: 0, timestamp: 0, consistencyLevel: 1, payload });
 */
export async function signDevnetVaa(body: VaaBody, opts: { guardianKey?: Hex; guardianSetIndex?: number } = {}): Promise<Uint8Array> {
  const loaded = await preloadWormholeSdk();
  const index = opts.guardianSetIndex ?? 0;
  const signer = new loaded.mocks.MockGuardians(index, [(opts.guardianKey ?? DEVNET_WORMHOLE_GUARDIAN_KEY).replace(/^0x/, '')]);
  return buildSignedVaa(loaded, signer, index, body);
}

const logMessagePublished = getAbiItem({ abi: wormholeImplementationAbi, name: 'LogMessagePublished' });
const MAX_LOG_RANGE = 5_000n;
const SIGNED_VAA_PATH = /^\/v1\/signed_vaa\/(\d+)\/(?:0x)?([0-9a-fA-F]{64})\/(\d+)\/?$/;
const NOT_FOUND = JSON.stringify({ code: 5, message: 'requested VAA not found in store', details: [] });

function vaaKey(chain: number, emitter: Hex, sequence: bigint): string {
  return `${chain}/${emitter.toLowerCase()}/${sequence}`;
}

/** Emitter as lowercase 0x + 64 hex (an address is left-padded). */
function emitter32(emitter: Hex): Hex {
  return (emitter.length === 66 ? emitter : pad(emitter, { size: 32 })).toLowerCase() as Hex;
}

/**
 * Observes Wormhole core contracts and serves signed VAAs over HTTP.
 *
 * Semantics of the test controls:
 * - `pause()` stops signing: messages observed while paused get no VAA (404) until `resume()`;
 *   VAAs signed before stay available (the guardians' store keeps them);
 * - `setDelayMs(ms)` signs each message no earlier than `ms` after the guardian observed it;
 * - `drop(chain, sequence[, emitter])` never serves that VAA (404 forever), before or after it is observed;
 * - `serveBadSignature(chain, sequence[, emitter])` serves that VAA with a corrupted signature byte
 *   (the core's `parseAndVerifyVM` then reports "VM signature invalid").
 *
 * A failed poll is logged and retried; it never stops the loop.
 *
 * @example
 *   const guardian = new DevnetGuardian({ chains: Object.values(dep.chains).map((c) => ({ chainKey: c.chainKey, rpcUrl: c.rpcUrl, whChainId: c.whChainId, core: c.contracts.wormholeCore })) });
 *   await guardian.start();
 *   const res = await fetch(`${guardian.url}/v1/signed_vaa/2/${emitterHex64}/0`); // {"vaaBytes": "..."}
 *   await guardian.stop();
 */
export class DevnetGuardian extends EventEmitter<DevnetGuardianEvents> {
  /** Messages observed by this instance. */
  observedCount = 0;
  /** 200 answers given by the HTTP API. */
  servedCount = 0;
  /** Messages refused by {@link observe} because their id was already another transaction's message. */
  conflictCount = 0;

  private readonly chains = new Map<number, ChainRuntime>();
  private readonly observations = new Map<string, Observation>();
  private readonly dropped = new Set<string>();
  private readonly badSignature = new Set<string>();
  private readonly pollIntervalMs: number;
  private readonly guardianKey: Hex;
  private readonly guardianSetIndex: number;
  private readonly host: string;
  private readonly port: number;
  private readonly log: (msg: string) => void;
  private readonly blockTimes = new Map<string, number>();
  private sdk: LoadedSdk | undefined;
  private signer: GuardianSigner | undefined;
  private server: http.Server | undefined;
  private paused = false;
  private delayMs = 0;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private currentPoll: Promise<void> | undefined;
  private baseUrl: string | undefined;

  constructor(opts: DevnetGuardianOptions) {
    super();
    if (opts.chains.length === 0) throw new Error('DevnetGuardian: no chains configured');
    this.pollIntervalMs = opts.pollIntervalMs ?? 200;
    this.guardianKey = opts.guardianKey ?? DEVNET_WORMHOLE_GUARDIAN_KEY;
    this.guardianSetIndex = opts.guardianSetIndex ?? 0;
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.log = opts.log ?? (() => {});
    for (const config of opts.chains) {
      if (this.chains.has(config.whChainId)) throw new Error(`DevnetGuardian: Wormhole chain id ${config.whChainId} configured twice`);
      this.chains.set(config.whChainId, {
        config,
        pub: createPublicClient({ transport: viemHttp(config.rpcUrl), pollingInterval: 20 }),
        nextBlock: opts.fromBlock ?? 0n,
      });
    }
  }

  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:40123`. @throws Error before `start()`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('DevnetGuardian: not started (call and await start() first)');
    return this.baseUrl;
  }

  /** Address of the signing guardian (the one key of guardian set `guardianSetIndex`). */
  get guardianAddress(): Address {
    return privateKeyToAccount(this.guardianKey).address;
  }

  /**
   * Loads the Wormhole SDK, starts the HTTP API and the polling loop (idempotent).
   * @throws Error when the port cannot be bound.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.sdk = await preloadWormholeSdk();
    // A one-guardian set: MockGuardians writes the position among the chosen signers as the guardian
    // index, so signing with a strict subset of a larger set would produce wrong indices.
    this.signer = new this.sdk.mocks.MockGuardians(this.guardianSetIndex, [this.guardianKey.replace(/^0x/, '')]);
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://${this.host}:${port}`;
    this.running = true;
    this.schedule(0);
    this.log(`Wormhole devnet guardian (${this.guardianAddress}, set ${this.guardianSetIndex}) serving VAAs at ${this.baseUrl}`);
  }

  /** Stops polling and closes the HTTP API; resolves once both are done. Safe to call twice. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.currentPoll;
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Stops signing new VAAs until `resume()` (already signed ones stay served). */
  pause(): void {
    this.paused = true;
  }

  /** Resumes signing after `pause()`. */
  resume(): void {
    this.paused = false;
  }

  /** Signs each message no earlier than `ms` after it was observed (0 = at once). */
  setDelayMs(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`DevnetGuardian.setDelayMs: expected ms >= 0, got ${ms}`);
    this.delayMs = ms;
  }

  /**
   * Never serves the VAA of (`emitterChain`, `sequence`) — of every emitter on that chain, or only of
   * `emitterAddress` (20 or 32 bytes) when given. Works before or after the message is observed.
   */
  drop(emitterChain: number, sequence: bigint, emitterAddress?: Hex): void {
    this.dropped.add(faultKey(emitterChain, sequence, emitterAddress));
  }

  /**
   * Serves the VAA of (`emitterChain`, `sequence`[, `emitterAddress`]) with a corrupted signature
   * (one byte of the first signature's `s` flipped). Works before or after it is observed.
   */
  serveBadSignature(emitterChain: number, sequence: bigint, emitterAddress?: Hex): void {
    this.badSignature.add(faultKey(emitterChain, sequence, emitterAddress));
  }

  /** Clears every `drop` and `serveBadSignature`. */
  clearFaults(): void {
    this.dropped.clear();
    this.badSignature.clear();
  }

  /** The message observed for this VAA id, if any. */
  observation(emitterChain: number, emitterAddress: Hex, sequence: bigint): ObservedMessage | undefined {
    return this.observations.get(vaaKey(emitterChain, emitter32(emitterAddress), sequence))?.message;
  }

  /**
   * The correctly signed VAA bytes for this id, if signed (ignores `drop`/`serveBadSignature`; for
   * tests that need the genuine VAA of a dropped message).
   */
  signedVaa(emitterChain: number, emitterAddress: Hex, sequence: bigint): Uint8Array | undefined {
    const obs = this.observations.get(vaaKey(emitterChain, emitter32(emitterAddress), sequence));
    return obs ? this.signIfDue(obs, true) : undefined;
  }

  /**
   * Resolves with the message once this instance has observed (`emitterChain`, `emitterAddress`, `sequence`).
   * @throws Error after `timeoutMs` (default 10 s) naming the VAA id.
   */
  waitForObservation(emitterChain: number, emitterAddress: Hex, sequence: bigint, timeoutMs = 10_000): Promise<ObservedMessage> {
    const key = vaaKey(emitterChain, emitter32(emitterAddress), sequence);
    const done = this.observations.get(key);
    if (done) return Promise.resolve(done.message);
    return new Promise((resolve, reject) => {
      const onObserved = (m: ObservedMessage) => {
        if (vaaKey(m.emitterChain, m.emitterAddress, m.sequence) !== key) return;
        clearTimeout(timer);
        this.off('observed', onObserved);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.off('observed', onObserved);
        reject(new Error(`DevnetGuardian: message ${key} not observed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('observed', onObserved);
    });
  }

  /**
   * Records a message observed by another watcher of this guardian (the Solana custody watcher,
   * devnet/solanaCustody.ts, whose sequences are the custody's per-emitter counter): it is signed and served like
   * one read from an EVM core. A message already observed (same chain, emitter, sequence) is ignored; one that
   * claims an id already taken by ANOTHER transaction is refused and counted in `conflictCount` (a watcher that
   * numbers messages wrongly, e.g. two sends given one sequence), never signed.
   * @returns whether it was new.
   */
  observe(message: ObservedMessage): boolean {
    const m = { ...message, emitterAddress: emitter32(message.emitterAddress) };
    const key = vaaKey(m.emitterChain, m.emitterAddress, m.sequence);
    const before = this.observations.get(key);
    if (before) {
      if (before.message.txHash !== m.txHash || before.message.payload !== m.payload) {
        this.conflictCount++;
        this.log(`guardian: REFUSED ${key} from tx ${m.txHash}: that id is already the message of tx ${before.message.txHash}`);
      }
      return false;
    }
    this.observations.set(key, { message: m, observedAtMs: Date.now() });
    this.observedCount++;
    this.log(`guardian: observed ${key} (tx ${m.txHash})`);
    this.emit('observed', m);
    return true;
  }

  /** Runs one poll now (observe + sign what is due); for tests that drive the guardian by hand. */
  async pollOnce(): Promise<void> {
    if (this.currentPoll) await this.currentPoll;
    const p = this.poll();
    this.currentPoll = p;
    try {
      await p;
    } finally {
      this.currentPoll = undefined;
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.pollOnce().finally(() => this.schedule(this.pollIntervalMs));
    }, ms);
  }

  private async poll(): Promise<void> {
    for (const chain of this.chains.values()) {
      try {
        await this.collect(chain);
      } catch (err) {
        this.log(`guardian: reading LogMessagePublished on ${chain.config.chainKey} failed, will retry: ${errMsg(err)}`);
      }
    }
    for (const obs of this.observations.values()) {
      try {
        this.signIfDue(obs, false);
      } catch (err) {
        this.log(`guardian: signing ${vaaKey(obs.message.emitterChain, obs.message.emitterAddress, obs.message.sequence)} failed: ${errMsg(err)}`);
      }
    }
  }

  private async collect(chain: ChainRuntime): Promise<void> {
    const head = await chain.pub.getBlockNumber();
    while (chain.nextBlock <= head) {
      const toBlock = chain.nextBlock + MAX_LOG_RANGE - 1n < head ? chain.nextBlock + MAX_LOG_RANGE - 1n : head;
      const logs = await chain.pub.getLogs({ address: chain.config.core, event: logMessagePublished, fromBlock: chain.nextBlock, toBlock });
      for (const log of logs) {
        const { sender, sequence, nonce, payload, consistencyLevel } = log.args;
        if (sender === undefined || sequence === undefined || nonce === undefined || payload === undefined || consistencyLevel === undefined) continue;
        const message: ObservedMessage = {
          emitterChain: chain.config.whChainId,
          emitterAddress: emitter32(sender),
          sequence,
          nonce,
          consistencyLevel,
          payload,
          timestamp: await this.blockTime(chain, log.blockHash, log.blockNumber),
          txHash: log.transactionHash,
          blockNumber: log.blockNumber,
        };
        const key = vaaKey(message.emitterChain, message.emitterAddress, message.sequence);
        if (this.observations.has(key)) continue;
        this.observations.set(key, { message, observedAtMs: Date.now() });
        this.observedCount++;
        this.log(`guardian: observed ${key} on ${chain.config.chainKey} (tx ${message.txHash})`);
        this.emit('observed', message);
      }
      chain.nextBlock = toBlock + 1n;
    }
  }

  private async blockTime(chain: ChainRuntime, blockHash: Hex, blockNumber: bigint): Promise<number> {
    const cached = this.blockTimes.get(blockHash);
    if (cached !== undefined) return cached;
    const block = await chain.pub.getBlock({ blockNumber });
    const t = Number(block.timestamp);
    this.blockTimes.set(blockHash, t);
    return t;
  }

  /** Signs `obs` when due (or always with `force`), caching the VAA; returns it if signed. */
  private signIfDue(obs: Observation, force: boolean): Uint8Array | undefined {
    if (obs.vaa) return obs.vaa;
    if (!force && (this.paused || Date.now() < obs.observedAtMs + this.delayMs)) return undefined;
    const m = obs.message;
    obs.vaa = buildSignedVaa(this.sdk!, this.signer!, this.guardianSetIndex, m);
    this.emit('signed', { emitterChain: m.emitterChain, emitterAddress: m.emitterAddress, sequence: m.sequence, vaa: obs.vaa });
    return obs.vaa;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const json = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://guardian');
      if (req.method !== 'GET') return json(405, JSON.stringify({ code: 12, message: `method ${req.method} not allowed`, details: [] }));
      if (url.pathname === '/v1/guardianset/current') {
        return json(200, JSON.stringify({ guardianSet: { index: this.guardianSetIndex, addresses: [this.guardianAddress] } }));
      }
      const m = SIGNED_VAA_PATH.exec(url.pathname);
      if (!m) {
        if (url.pathname.startsWith('/v1/signed_vaa/')) {
          return json(400, JSON.stringify({ code: 3, message: 'expected /v1/signed_vaa/{chainId}/{emitter as 64 hex digits}/{sequence}', details: [] }));
        }
        return json(404, JSON.stringify({ code: 5, message: `no route ${url.pathname}`, details: [] }));
      }
      const chain = Number(m[1]);
      const emitter = `0x${m[2]!.toLowerCase()}` as Hex;
      const sequence = BigInt(m[3]!);
      const obs = this.observations.get(vaaKey(chain, emitter, sequence));
      const faults = [faultKey(chain, sequence), faultKey(chain, sequence, emitter)];
      const vaa = obs && !faults.some((k) => this.dropped.has(k)) ? this.signIfDue(obs, false) : undefined;
      if (!vaa) return json(404, NOT_FOUND);
      const bad = faults.some((k) => this.badSignature.has(k));
      const served = bad ? corruptSignature(vaa) : vaa;
      this.servedCount++;
      json(200, JSON.stringify({ vaaBytes: Buffer.from(served).toString('base64') }));
      this.emit('served', { emitterChain: chain, emitterAddress: emitter, sequence, vaa: served, badSignature: bad });
    } catch (err) {
      json(500, JSON.stringify({ code: 13, message: errMsg(err), details: [] }));
    }
  }
}

function faultKey(chain: number, sequence: bigint, emitter?: Hex): string {
  return emitter ? vaaKey(chain, emitter32(emitter), sequence) : `${chain}/*/${sequence}`;
}

/**
 * A copy of `vaa` with the last byte of the first signature's `s` flipped: `r` stays a curve point, so
 * `ecrecover` yields a wrong address and the core says "VM signature invalid". VAA v1 header: version (1),
 * guardian set index (4), signature count (1), then per signature guardian index (1), r (32), s (32), v (1).
 */
function corruptSignature(vaa: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(vaa);
  if (copy.length < 6 + 66 || copy[5] === 0) throw new Error('cannot corrupt a VAA without signatures');
  const at = 6 + 1 + 32 + 31;
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

function hexToBytes(h: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex'));
}

function errMsg(err: unknown): string {
  if (err instanceof Error) return (err as Error & { shortMessage?: string }).shortMessage ?? err.message;
  return String(err);
}
