/**
 * The devnet's stand-in for LayerZero's DVN + executor: a service separate from the keeper that
 * watches `PacketSent` on every chain's EndpointV2 and delivers each packet on its destination chain
 * with `SimpleMessageLib.validatePacket(packet)` (verification) then `EndpointV2.lzReceive(...)`
 * (execution). Tests can pause it, delay it or make it drop everything.
 *
 * Spec of the packet layout: LayerZero v2 PacketV1 (decoded with `PacketV1Codec` from
 * `@layerzerolabs/lz-v2-utilities`).
 */
import { EventEmitter } from 'node:events';
import { PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import {
  createPublicClient,
  createWalletClient,
  getAbiItem,
  getAddress,
  http,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  type Chain,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { endpointV2Abi, simpleMessageLibAbi } from '../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from './accounts.js';

/** One chain the relayer serves. */
export interface RelayerChainConfig {
  chainKey: string;
  rpcUrl: string;
  /** LayerZero endpoint id of this chain. */
  eid: number;
  /** EndpointV2 address. */
  endpoint: Address;
  /** SimpleMessageLib address (default send and receive library). */
  sendLib: Address;
}

export interface LayerZeroRelayerOptions {
  chains: RelayerChainConfig[];
  /** Key that signs deliveries; default the devnet relayer account (whitelisted on SimpleMessageLib by deployDevnet). */
  privateKey?: Hex;
  /** Delay between polls, ms; default 200. */
  pollIntervalMs?: number;
  /** First block scanned on every chain; default 0 (catch up on everything not yet delivered). */
  fromBlock?: bigint;
  log?: (msg: string) => void;
}

/** A packet delivered on its destination chain. */
export interface DeliveredPacket {
  /** LayerZero message guid (the OFT's `OFTSent`/`OFTReceived` guid). */
  guid: Hex;
  srcEid: number;
  dstEid: number;
  nonce: bigint;
  /** Hash of the `lzReceive` transaction on the destination chain. */
  txHash: Hex;
}

/** Events emitted by {@link LayerZeroRelayer}. */
export interface LayerZeroRelayerEvents {
  delivered: [DeliveredPacket];
  /** A packet was discarded because `setDropAll(true)` was on when it was due. */
  dropped: [{ guid: Hex; srcEid: number; dstEid: number; nonce: bigint }];
}

interface PendingPacket {
  encoded: Hex;
  guid: Hex;
  srcEid: number;
  dstEid: number;
  nonce: bigint;
  sender: Hex;
  receiver: Address;
  message: Hex;
  seenAtMs: number;
  attempts: number;
}

interface ChainRuntime {
  config: RelayerChainConfig;
  pub: PublicClient<Transport, Chain | undefined>;
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  nextBlock: bigint;
}

const packetSentEvent = getAbiItem({ abi: endpointV2Abi, name: 'PacketSent' });
const MAX_LOG_RANGE = 5_000n;
const ZERO_HASH = `0x${'0'.repeat(64)}` as Hex;

function hex(s: string): Hex {
  return (s.startsWith('0x') ? s.toLowerCase() : `0x${s.toLowerCase()}`) as Hex;
}

/**
 * Polls `PacketSent` on every configured endpoint and delivers packets to their destination.
 *
 * Semantics of the test controls:
 * - `pause()` holds packets (they are delivered after `resume()`);
 * - `setDelayMs(ms)` delivers each packet no earlier than `ms` after the relayer first saw it;
 * - `setDropAll(true)` discards every packet that becomes due while it is on (a lost message: it is
 *   not delivered after `setDropAll(false)` either, unless `replayDropped()` re-queues it). LayerZero
 *   paths are ordered, so a dropped packet also blocks later packets on the same path.
 *
 * A failed delivery is logged and retried on the next poll; it never stops the loop. Packets already
 * delivered (e.g. by an earlier relayer run) are recognised from the endpoint's state and skipped.
 *
 * @example
 *   const relayer = new LayerZeroRelayer({ chains: Object.values(dep.chains).map((c) => ({ chainKey: c.chainKey, rpcUrl: c.rpcUrl, eid: c.eid, endpoint: c.contracts.endpoint, sendLib: c.contracts.sendLib })) });
 *   relayer.on('delivered', (p) => console.log(p.guid));
 *   relayer.start();
 *   // ...
 *   await relayer.stop();
 */
export class LayerZeroRelayer extends EventEmitter<LayerZeroRelayerEvents> {
  /** Number of packets delivered by this instance. */
  deliveredCount = 0;
  /** Number of packets discarded by `setDropAll(true)`. */
  droppedCount = 0;

  private readonly chains = new Map<number, ChainRuntime>();
  private readonly pending = new Map<string, PendingPacket>();
  private readonly delivered = new Map<Hex, DeliveredPacket>();
  private readonly droppedPackets = new Map<string, PendingPacket>();
  private readonly pollIntervalMs: number;
  private readonly log: (msg: string) => void;
  private paused = false;
  private dropAll = false;
  private delayMs = 0;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private currentPoll: Promise<void> | undefined;

  constructor(opts: LayerZeroRelayerOptions) {
    super();
    if (opts.chains.length === 0) throw new Error('LayerZeroRelayer: no chains configured');
    this.pollIntervalMs = opts.pollIntervalMs ?? 200;
    this.log = opts.log ?? (() => {});
    const account = privateKeyToAccount(opts.privateKey ?? DEVNET_ACCOUNTS.relayer);
    for (const config of opts.chains) {
      if (this.chains.has(config.eid)) throw new Error(`LayerZeroRelayer: eid ${config.eid} configured twice`);
      const transport = http(config.rpcUrl);
      this.chains.set(config.eid, {
        config,
        pub: createPublicClient({ transport, pollingInterval: 20 }),
        wallet: createWalletClient({ account, transport, pollingInterval: 20 }),
        nextBlock: opts.fromBlock ?? 0n,
      });
    }
  }

  /** Starts polling (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops polling; resolves once an in-flight poll has finished. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.currentPoll;
  }

  /** Holds deliveries until `resume()`; packets keep being collected. */
  pause(): void {
    this.paused = true;
  }

  /** Resumes deliveries held by `pause()`. */
  resume(): void {
    this.paused = false;
  }

  /** Delivers each packet no earlier than `ms` after it was first seen (0 = as soon as possible). */
  setDelayMs(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`LayerZeroRelayer.setDelayMs: expected ms >= 0, got ${ms}`);
    this.delayMs = ms;
  }

  /** When true, packets that become due are discarded and never delivered. */
  setDropAll(drop: boolean): void {
    this.dropAll = drop;
  }

  /**
   * Re-queues every dropped packet (as if a DVN finally verified a lost message); returns how many.
   * Note: LayerZero executes a path (src, sender, dst, receiver) in nonce order, so after a drop
   * later packets on the same path cannot execute (`LZ_InvalidNonce`, retried every poll) until
   * the dropped one is replayed.
   */
  replayDropped(): number {
    const n = this.droppedPackets.size;
    const now = Date.now();
    for (const [key, packet] of this.droppedPackets) this.pending.set(key, { ...packet, seenAtMs: now, attempts: 0 });
    this.droppedPackets.clear();
    return n;
  }

  /** Number of packets seen but not yet delivered or dropped. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The delivery of `guid` by this instance, if any. */
  deliveryOf(guid: Hex): DeliveredPacket | undefined {
    return this.delivered.get(guid.toLowerCase() as Hex);
  }

  /**
   * Resolves when this instance has delivered `guid`.
   * @throws Error after `timeoutMs` (default 10 s) naming the guid.
   */
  waitForDelivery(guid: Hex, timeoutMs = 10_000): Promise<DeliveredPacket> {
    const key = guid.toLowerCase() as Hex;
    const done = this.delivered.get(key);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const onDelivered = (p: DeliveredPacket) => {
        if (p.guid !== key) return;
        clearTimeout(timer);
        this.off('delivered', onDelivered);
        resolve(p);
      };
      const timer = setTimeout(() => {
        this.off('delivered', onDelivered);
        reject(new Error(`LayerZeroRelayer: packet ${guid} not delivered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('delivered', onDelivered);
    });
  }

  /** Runs one poll now (collect + deliver); for tests and scripts that drive the relayer by hand. */
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
        this.log(`relayer: reading PacketSent on ${chain.config.chainKey} failed, will retry: ${errMsg(err)}`);
      }
    }
    const now = Date.now();
    for (const [key, packet] of this.pending) {
      if (now < packet.seenAtMs + this.delayMs) continue;
      if (this.dropAll) {
        this.pending.delete(key);
        this.droppedPackets.set(key, packet);
        this.droppedCount++;
        this.log(`relayer: dropped ${packet.guid} (${packet.srcEid} -> ${packet.dstEid}, nonce ${packet.nonce})`);
        this.emit('dropped', { guid: packet.guid, srcEid: packet.srcEid, dstEid: packet.dstEid, nonce: packet.nonce });
        continue;
      }
      if (this.paused) continue;
      try {
        const result = await this.deliver(packet);
        this.pending.delete(key);
        if (result) {
          this.deliveredCount++;
          this.delivered.set(result.guid, result);
          this.log(`relayer: delivered ${result.guid} (${result.srcEid} -> ${result.dstEid}, nonce ${result.nonce}) in ${result.txHash}`);
          this.emit('delivered', result);
        }
      } catch (err) {
        packet.attempts++;
        this.log(`relayer: delivering ${packet.guid} to eid ${packet.dstEid} failed (attempt ${packet.attempts}), will retry: ${errMsg(err)}`);
      }
    }
  }

  /** Reads new PacketSent logs on `chain` into `pending`. */
  private async collect(chain: ChainRuntime): Promise<void> {
    const head = await chain.pub.getBlockNumber();
    while (chain.nextBlock <= head) {
      const toBlock = chain.nextBlock + MAX_LOG_RANGE - 1n < head ? chain.nextBlock + MAX_LOG_RANGE - 1n : head;
      const logs = await chain.pub.getLogs({
        address: chain.config.endpoint,
        event: packetSentEvent,
        fromBlock: chain.nextBlock,
        toBlock,
      });
      for (const log of logs) {
        const encoded = log.args.encodedPayload;
        if (!encoded) continue;
        const codec = PacketV1Codec.from(encoded);
        const packet: PendingPacket = {
          encoded,
          guid: hex(codec.guid()),
          srcEid: codec.srcEid(),
          dstEid: codec.dstEid(),
          nonce: BigInt(codec.nonce()),
          sender: hex(codec.sender()),
          receiver: getAddress(hex(codec.receiverAddressB20())),
          message: hex(codec.message()),
          seenAtMs: Date.now(),
          attempts: 0,
        };
        if (packet.srcEid !== chain.config.eid) {
          this.log(`relayer: packet ${packet.guid} on ${chain.config.chainKey} claims srcEid ${packet.srcEid}; skipped`);
          continue;
        }
        if (!this.chains.has(packet.dstEid)) {
          this.log(`relayer: packet ${packet.guid} goes to unknown eid ${packet.dstEid}; skipped`);
          continue;
        }
        const key = `${packet.srcEid}:${packet.guid}`;
        if (!this.pending.has(key)) this.pending.set(key, packet);
      }
      chain.nextBlock = toBlock + 1n;
    }
  }

  /**
   * Verifies (unless already verified) and executes `packet` on its destination.
   * @returns the delivery, or undefined when the packet had already been executed.
   */
  private async deliver(packet: PendingPacket): Promise<DeliveredPacket | undefined> {
    const dst = this.chains.get(packet.dstEid)!;
    const { endpoint, sendLib } = dst.config;
    const [payloadHash, lazyNonce] = await Promise.all([
      dst.pub.readContract({
        address: endpoint,
        abi: endpointV2Abi,
        functionName: 'inboundPayloadHash',
        args: [packet.receiver, packet.srcEid, packet.sender, packet.nonce],
      }),
      dst.pub.readContract({
        address: endpoint,
        abi: endpointV2Abi,
        functionName: 'lazyInboundNonce',
        args: [packet.receiver, packet.srcEid, packet.sender],
      }),
    ]);
    if (payloadHash === ZERO_HASH && packet.nonce <= lazyNonce) return undefined; // executed before
    if (payloadHash === ZERO_HASH) {
      const { request } = await dst.pub.simulateContract({
        account: dst.wallet.account,
        address: sendLib,
        abi: simpleMessageLibAbi,
        functionName: 'validatePacket',
        args: [packet.encoded],
      });
      await this.confirm(dst, `validatePacket(${packet.guid})`, await dst.wallet.writeContract({ ...request, chain: null }));
    }
    const { request } = await dst.pub.simulateContract({
      account: dst.wallet.account,
      address: endpoint,
      abi: endpointV2Abi,
      functionName: 'lzReceive',
      args: [{ srcEid: packet.srcEid, sender: packet.sender, nonce: packet.nonce }, packet.receiver, packet.guid, packet.message, '0x'],
    });
    const txHash = await dst.wallet.writeContract({ ...request, chain: null });
    await this.confirm(dst, `lzReceive(${packet.guid})`, txHash);
    return { guid: packet.guid, srcEid: packet.srcEid, dstEid: packet.dstEid, nonce: packet.nonce, txHash };
  }

  private async confirm(chain: ChainRuntime, label: string, hash: Hex): Promise<void> {
    const receipt = await chain.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== 'success') throw new Error(`${label} on ${chain.config.chainKey} reverted (tx ${hash})`);
  }
}

function errMsg(err: unknown): string {
  if (err instanceof Error) return (err as Error & { shortMessage?: string }).shortMessage ?? err.message;
  return String(err);
}
