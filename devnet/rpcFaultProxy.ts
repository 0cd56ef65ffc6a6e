/**
 * A fault-injecting JSON-RPC proxy on 127.0.0.1 in front of one EVM node (anvil), for chaos tests.
 *
 * Every HTTP request (a single JSON-RPC call or a batch) may get a fault drawn from a seeded PRNG and a
 * {@link RpcFaultPlan}:
 * - whole HTTP request: `timeout` (forward, then hold the answer past the client's timeout),
 *   `http500` / `http503` (answer 5xx without forwarding), `drop` (forward, then destroy the socket:
 *   the side effect happened, the answer is lost);
 * - per call (also inside a batch): `stale` (eth_call, eth_getBlockByNumber, eth_blockNumber,
 *   eth_getTransactionCount, eth_getBalance: answered at block `latest - k`), `swallowTx`
 *   (eth_sendRawTransaction: the tx hash is returned but the tx is never forwarded, so it is never
 *   mined), `nonceTooLow` (eth_sendRawTransaction answered with a "nonce too low" error, not forwarded).
 *
 * - `auditRead` (eth_call at an explicit block number, i.e. a historical read such as the keeper's ledger audit,
 *   whose `to` is not in `plan.auditReadExempt`): answered with a JSON-RPC error (`header not found`) without
 *   forwarding, so only pinned reads fail while the legs' `latest` reads and writes go through.
 *
 * Targeted, armed one at a time with {@link RpcFaultProxy.armSend} on the next transaction broadcast
 * (`eth_sendRawTransaction`, or Solana's `sendTransaction`):
 * - `killBeforeSend`: run the caller's action (e.g. SIGKILL the keeper) and never forward: the transaction was
 *   signed but never broadcast;
 * - `killAfterSend`: forward, then run the action before answering (the transaction is in, its sender dies);
 * - `lateTx`: answer with the transaction's id at once but forward it only `delayMs` later (a transaction that
 *   lands after the client's confirmation wait gave up).
 *
 * Faults are off until {@link RpcFaultProxy.setPlan} (or `enabled: true` at start); they can be switched
 * on and off at run time and one-shot faults can be queued with {@link RpcFaultProxy.injectNext}.
 * Counts of injected faults by kind are in {@link RpcFaultProxy.counts}.
 *
 * With `wsRelay: true` the proxy also relays raw TCP on its port + 1 to the target's port + 1 (where
 * `@solana/web3.js` looks for a node's websocket), so a Solana `Connection` can be pointed at the proxy.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { keccak256, type Hex } from 'viem';
import { getBase58Decoder } from '@solana/kit';
import { mulberry32 } from './prng.js';

/** Kinds of RPC fault the proxy injects at random (by rate). */
export const RPC_FAULT_KINDS = ['timeout', 'http500', 'http503', 'drop', 'stale', 'swallowTx', 'nonceTooLow'] as const;
/** Kinds injected on purpose: `auditRead` by rate on pinned reads, the others armed with `armSend`. */
export const TARGETED_FAULT_KINDS = ['auditRead', 'killBeforeSend', 'killAfterSend', 'lateTx'] as const;
export type RpcFaultKind = (typeof RPC_FAULT_KINDS)[number] | (typeof TARGETED_FAULT_KINDS)[number];
/** Every kind the proxy can count. */
export const ALL_PROXY_FAULT_KINDS: readonly RpcFaultKind[] = [...RPC_FAULT_KINDS, ...TARGETED_FAULT_KINDS];

/** Methods that broadcast a signed transaction (EVM, Solana). */
const SEND_METHODS = new Set(['eth_sendRawTransaction', 'sendTransaction']);

/** What {@link RpcFaultProxy.armSend} does to the next broadcast. */
export interface SendAction {
  kind: 'killBeforeSend' | 'killAfterSend' | 'lateTx';
  /** killBeforeSend / killAfterSend: run at the broadcast (e.g. SIGKILL the sender); awaited. */
  run?: () => Promise<void>;
  /** lateTx: forward this long after answering, ms. */
  delayMs?: number;
}

/** Faults that apply to a whole HTTP request (single call or batch). */
const REQUEST_FAULTS: readonly RpcFaultKind[] = ['timeout', 'http500', 'http503', 'drop'];

/** Methods a `stale` fault applies to, and the index of their block-tag parameter (-1: answer is the block number). */
const STALE_METHODS: Record<string, number> = {
  eth_blockNumber: -1,
  eth_call: 1,
  eth_getBlockByNumber: 0,
  eth_getTransactionCount: 1,
  eth_getBalance: 1,
};

/** What faults to inject. Rates are probabilities per HTTP request (request faults) or per call (call faults), 0..1. */
export interface RpcFaultPlan {
  /** Rate per fault kind; absent = 0. */
  rates: Partial<Record<RpcFaultKind, number>>;
  /** Per-method overrides of `rates` (e.g. `{ eth_sendRawTransaction: { drop: 0.5 } }`); a request fault uses the max over its calls. */
  methodRates?: Record<string, Partial<Record<RpcFaultKind, number>>>;
  /** `auditRead`: `to` addresses (lowercase) whose pinned reads are not failed (e.g. the LayerZero endpoint a delivery check reads). */
  auditReadExempt?: string[];
  /** How long a `timeout` holds the answer, ms (default 11 000: past viem's default 10 s). */
  timeoutHoldMs?: number;
  /** A `stale` read is answered `k` blocks behind, k uniform in 1..maxStaleBlocks (default 3). */
  maxStaleBlocks?: number;
}

/** One fault injected (for logs). */
export interface InjectedFault {
  kind: RpcFaultKind;
  method: string;
  atMs: number;
  detail?: string;
  /** A follow-up note on a fault already reported (e.g. a late transaction finally forwarded): not a new fault. */
  followUp?: boolean;
}

export interface RpcFaultProxyOptions {
  /** URL of the node behind the proxy, e.g. `http://127.0.0.1:8545`. */
  target: string;
  /** PRNG seed (uint32). */
  seed: number;
  /** Initial plan (faults off when absent). */
  plan?: RpcFaultPlan;
  /** Port on 127.0.0.1 (default 0 = any free port). */
  port?: number;
  /** Called for every injected fault. */
  onFault?: (f: InjectedFault) => void;
  /** Also relay raw TCP from port + 1 to the target's port + 1 (a Solana node's websocket, as web3.js derives it). */
  wsRelay?: boolean;
}

/**
 * mulberry32: a small, fast, seeded PRNG; returns floats in [0, 1). Same seed, same sequence.
 * @example const rng = mulberry32(42); rng(); // 0.6011037519201636
 */

interface RpcCall {
  jsonrpc?: string;
  id?: unknown;
  method?: string;
  params?: unknown[];
}

interface RpcAnswer {
  jsonrpc: '2.0';
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

/** A running proxy. */
export interface RpcFaultProxy {
  /** `http://127.0.0.1:<port>`: give this to the client instead of the node's URL. */
  url: string;
  port: number;
  target: string;
  /** Faults injected so far, by kind. */
  readonly counts: Record<RpcFaultKind, number>;
  /** Requests (HTTP) and calls (JSON-RPC, batches counted per call) seen. */
  readonly seen: { requests: number; calls: number };
  /** Replaces the plan and switches faults on. */
  setPlan(plan: RpcFaultPlan): void;
  /** Switches faults on or off (the plan is kept). One-shot faults from `injectNext` fire even when off. */
  setEnabled(on: boolean): void;
  readonly enabled: boolean;
  /**
   * Queues a one-shot fault for the next call of `method` (any method when absent) the fault applies to;
   * with `after`, only once `after.method` has been forwarded `after.times` (default 1) more times.
   * Used to reduce a failing schedule to a minimal fault sequence.
   * @example proxy.injectNext('stale', 'eth_call', { method: 'eth_sendRawTransaction', times: 2 }) // the first read after the 2nd tx
   */
  injectNext(kind: RpcFaultKind, method?: string, after?: { method: string; times?: number }): void;
  /** Drops queued one-shot faults and any armed send action (e.g. at the end of a schedule). */
  clearOneShots(): void;
  /** Arms `action` for the next transaction broadcast (replaces an armed one); fires even when faults are off. */
  armSend(action: SendAction): void;
  /** Calls `cb` once the next transaction broadcast has been forwarded (observes only; injects nothing). */
  watchNextSend(cb: () => void): void;
  /** Whether a send action is armed (not fired yet). */
  readonly sendArmed: boolean;
  /** Late transactions not forwarded yet. */
  readonly lateTxPending: number;
  /** Resets the PRNG (e.g. one seed per schedule). */
  reseed(seed: number): void;
  /** Closes the listener, drops held requests. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the proxy.
 * @throws Error when the port cannot be bound.
 * @example
 *   const proxy = await startRpcFaultProxy({ target: anvil.rpcUrl, seed: 7 });
 *   proxy.setPlan({ rates: { http503: 0.05, stale: 0.1 } });
 *   // ... point the keeper at proxy.url ...
 *   await proxy.stop();
 */
export async function startRpcFaultProxy(opts: RpcFaultProxyOptions): Promise<RpcFaultProxy> {
  let rng = mulberry32(opts.seed);
  let plan: RpcFaultPlan = opts.plan ?? { rates: {} };
  let enabled = opts.plan !== undefined;
  const oneShots: { kind: RpcFaultKind; method?: string; after?: { method: string; remaining: number } }[] = [];
  const counts = Object.fromEntries(ALL_PROXY_FAULT_KINDS.map((k) => [k, 0])) as Record<RpcFaultKind, number>;
  const seen = { requests: 0, calls: 0 };
  const held = new Set<NodeJS.Timeout>();
  const sockets = new Set<import('node:net').Socket>();
  let armed: SendAction | undefined;
  let sendWatcher: (() => void) | undefined;
  let lateTxPending = 0;

  const record = (kind: RpcFaultKind, method: string, detail?: string) => {
    counts[kind]++;
    opts.onFault?.({ kind, method, atMs: Date.now(), detail });
  };
  const rateOf = (kind: RpcFaultKind, method: string): number => plan.methodRates?.[method]?.[kind] ?? plan.rates[kind] ?? 0;
  const applies = (kind: RpcFaultKind, method: string): boolean => {
    if (kind === 'stale') return method in STALE_METHODS;
    if (kind === 'swallowTx' || kind === 'nonceTooLow') return method === 'eth_sendRawTransaction';
    return true;
  };
  /** Draws a fault for `method` among `kinds` (one-shots first). Always consumes the PRNG the same way for a given plan. */
  const draw = (kinds: readonly RpcFaultKind[], method: string): RpcFaultKind | undefined => {
    const i = oneShots.findIndex((o) => !o.after && kinds.includes(o.kind) && applies(o.kind, method) && (o.method === undefined || o.method === method));
    if (i >= 0) return oneShots.splice(i, 1)[0]!.kind;
    if (!enabled) return undefined;
    for (const kind of kinds) {
      if (!applies(kind, method)) continue;
      const rate = rateOf(kind, method);
      if (rate > 0 && rng() < rate) return kind;
    }
    return undefined;
  };

  /** Arms one-shots waiting for `after` once their trigger method has been forwarded. */
  const forwarded = (calls: readonly RpcCall[]) => {
    for (const c of calls) {
      for (const o of oneShots) if (o.after && o.after.method === c.method && --o.after.remaining <= 0) o.after = undefined;
    }
  };
  const forward = async (body: unknown): Promise<{ status: number; text: string }> => {
    const res = await fetch(opts.target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const latestBlock = async (): Promise<bigint> => {
    const { text } = await forward({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
    return BigInt((JSON.parse(text) as { result: Hex }).result);
  };

  /** A pinned (historical) eth_call the plan's `auditRead` applies to. */
  const isAuditRead = (call: RpcCall): boolean => {
    if (call.method !== 'eth_call') return false;
    const tag = call.params?.[1];
    if (typeof tag !== 'string' || !/^0x[0-9a-f]+$/i.test(tag)) return false;
    const to = ((call.params?.[0] as { to?: string } | undefined)?.to ?? '').toLowerCase();
    return !(plan.auditReadExempt ?? []).includes(to);
  };

  /** Answers one call, possibly with a call-level fault; returns undefined to forward it untouched. */
  const callFault = async (call: RpcCall): Promise<{ answer?: RpcAnswer; rewritten?: RpcCall }> => {
    const method = call.method ?? '';
    if (enabled && isAuditRead(call)) {
      const rate = rateOf('auditRead', method);
      if (rate > 0 && rng() < rate) {
        record('auditRead', method, `pinned read at block ${String(call.params?.[1])} failed`);
        return { answer: { jsonrpc: '2.0', id: call.id, error: { code: -32000, message: 'header not found (rpcFaultProxy: injected auditRead)' } } };
      }
    }
    const kind = draw(['stale', 'swallowTx', 'nonceTooLow'], method);
    if (!kind) return {};
    if (kind === 'swallowTx') {
      const raw = (call.params?.[0] ?? '0x') as Hex;
      const hash = keccak256(raw);
      record(kind, method, hash);
      return { answer: { jsonrpc: '2.0', id: call.id, result: hash } };
    }
    if (kind === 'nonceTooLow') {
      record(kind, method);
      return { answer: { jsonrpc: '2.0', id: call.id, error: { code: -32000, message: 'nonce too low' } } };
    }
    // stale
    const latest = await latestBlock();
    const k = BigInt(1 + Math.floor(rng() * (plan.maxStaleBlocks ?? 3)));
    const old = latest > k ? latest - k : 0n;
    const idx = STALE_METHODS[method]!;
    if (idx === -1) {
      record(kind, method, `block ${old} instead of ${latest}`);
      return { answer: { jsonrpc: '2.0', id: call.id, result: `0x${old.toString(16)}` } };
    }
    const params = [...(call.params ?? [])];
    const tag = params[idx];
    if (tag !== undefined && tag !== 'latest' && tag !== 'pending' && tag !== 'safe' && tag !== 'finalized') return {}; // explicit block: not stale-able
    while (params.length < idx) params.push(undefined);
    params[idx] = `0x${old.toString(16)}`;
    record(kind, method, `block ${old} instead of ${tag ?? 'latest'} (${latest})`);
    return { rewritten: { ...call, params } };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    seen.requests++;
    let parsed: RpcCall | RpcCall[];
    try {
      parsed = JSON.parse(text) as RpcCall | RpcCall[];
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'rpcFaultProxy: body is not JSON' } }));
      return;
    }
    const batch = Array.isArray(parsed);
    const calls: RpcCall[] = Array.isArray(parsed) ? parsed : [parsed];
    seen.calls += calls.length;

    // An armed send action takes the first single (unbatched) broadcast.
    const sendCall = !batch && armed && SEND_METHODS.has(calls[0]!.method ?? '') ? calls[0]! : undefined;
    if (sendCall && armed) {
      const action = armed;
      armed = undefined;
      const method = sendCall.method!;
      const txId = transactionId(method, sendCall.params?.[0]);
      if (action.kind === 'killBeforeSend') {
        record('killBeforeSend', method, `${txId} signed, not broadcast`);
        await action.run?.();
        req.socket.destroy();
        return;
      }
      if (action.kind === 'killAfterSend') {
        const fwd = await forward(sendCall);
        forwarded([sendCall]);
        record('killAfterSend', method, `${txId} broadcast (HTTP ${fwd.status}), sender killed before the answer`);
        await action.run?.();
        req.socket.destroy();
        return;
      }
      const delayMs = action.delayMs ?? 10_000;
      record('lateTx', method, `${txId} answered now, forwarded in ${delayMs} ms`);
      lateTxPending++;
      const t = setTimeout(() => {
        held.delete(t);
        forward(sendCall)
          .then((r) => opts.onFault?.({ kind: 'lateTx', method, atMs: Date.now(), detail: `${txId} forwarded late: ${r.text.slice(0, 200)}`, followUp: true }))
          .catch(() => undefined)
          .finally(() => lateTxPending--);
      }, delayMs);
      held.add(t);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: sendCall.id, result: txId }));
      return;
    }

    // Request-level fault: drawn once per HTTP request, over the methods in it (highest rate wins the draw order).
    let reqFault: RpcFaultKind | undefined;
    for (const c of calls) {
      reqFault = draw(REQUEST_FAULTS, c.method ?? '');
      if (reqFault) break;
    }
    const methods = calls.map((c) => c.method).join(',');
    if (reqFault === 'http500' || reqFault === 'http503') {
      record(reqFault, methods);
      res.writeHead(reqFault === 'http500' ? 500 : 503, { 'content-type': 'text/plain' });
      res.end(`rpcFaultProxy: injected ${reqFault}`);
      return;
    }

    // Call-level faults, then forward what is left (as a batch when the client sent a batch).
    const answers: (RpcAnswer | undefined)[] = [];
    const toForward: { i: number; call: RpcCall }[] = [];
    for (const [i, c] of calls.entries()) {
      const f = await callFault(c);
      answers[i] = f.answer;
      if (!f.answer) toForward.push({ i, call: f.rewritten ?? c });
    }
    let status = 200;
    if (toForward.length > 0) {
      const fwd = await forward(batch ? toForward.map((x) => x.call) : toForward[0]!.call);
      forwarded(toForward.map((x) => x.call));
      if (sendWatcher && toForward.some((x) => SEND_METHODS.has(x.call.method ?? ''))) {
        const cb = sendWatcher;
        sendWatcher = undefined;
        cb();
      }
      status = fwd.status;
      if (fwd.status !== 200) {
        res.writeHead(fwd.status, { 'content-type': 'application/json' });
        res.end(fwd.text);
        return;
      }
      const got = JSON.parse(fwd.text) as RpcAnswer | RpcAnswer[];
      const list = Array.isArray(got) ? got : [got];
      // Match batch answers by id (a node may reorder them).
      for (const x of toForward) answers[x.i] = list.find((a) => a.id === x.call.id) ?? list[toForward.indexOf(x)];
    }
    const out = JSON.stringify(batch ? answers : answers[0]);

    if (reqFault === 'drop') {
      record('drop', methods);
      req.socket.destroy();
      return;
    }
    if (reqFault === 'timeout') {
      const holdMs = plan.timeoutHoldMs ?? 11_000;
      record('timeout', methods, `held ${holdMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          held.delete(t);
          resolve();
        }, holdMs);
        held.add(t);
      });
      if (res.destroyed || req.socket.destroyed) return;
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(out);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`rpcFaultProxy: upstream ${opts.target} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = (srv: http.Server | net.Server, p: number) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(p, '127.0.0.1', () => {
        srv.off('error', reject);
        resolve();
      });
    });
  let relay: net.Server | undefined;
  const relaySockets = new Set<net.Socket>();
  if (opts.wsRelay) {
    const targetWsPort = Number(new URL(opts.target).port) + 1;
    for (let attempt = 0; ; attempt++) {
      await listen(server, opts.port ?? 0);
      const p = (server.address() as AddressInfo).port;
      const r = net.createServer((sock) => {
        const up = net.connect(targetWsPort, '127.0.0.1');
        for (const x of [sock, up]) {
          relaySockets.add(x);
          x.once('close', () => relaySockets.delete(x));
          x.on('error', () => {
            sock.destroy();
            up.destroy();
          });
        }
        sock.pipe(up);
        up.pipe(sock);
      });
      try {
        await listen(r, p + 1);
        relay = r;
        break;
      } catch (err) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (attempt >= 20 || opts.port) throw err;
      }
    }
  } else {
    await listen(server, opts.port ?? 0);
  }
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    target: opts.target,
    counts,
    seen,
    get enabled() {
      return enabled;
    },
    setPlan(p) {
      plan = p;
      enabled = true;
    },
    setEnabled(on) {
      enabled = on;
    },
    injectNext(kind, method, after) {
      oneShots.push({ kind, method, after: after ? { method: after.method, remaining: after.times ?? 1 } : undefined });
    },
    clearOneShots() {
      oneShots.length = 0;
      armed = undefined;
      sendWatcher = undefined;
    },
    armSend(action) {
      armed = action;
    },
    watchNextSend(cb) {
      sendWatcher = cb;
    },
    get sendArmed() {
      return armed !== undefined;
    },
    get lateTxPending() {
      return lateTxPending;
    },
    reseed(seed) {
      rng = mulberry32(seed);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const t of held) clearTimeout(t);
        held.clear();
        for (const s of sockets) s.destroy();
        for (const s of relaySockets) s.destroy();
        let open = relay ? 2 : 1;
        const done = () => {
          if (--open === 0) resolve();
        };
        relay?.close(done);
        server.close(done);
      });
      return stopped;
    },
  };
}

const base58 = getBase58Decoder();

/**
 * The id a node answers for a broadcast: EVM `keccak256(raw)`; Solana the first signature of the wire transaction
 * (base64 by default, as web3.js sends it; base58 when it does not decode as base64), base58.
 */
function transactionId(method: string, param: unknown): string {
  const raw = typeof param === 'string' ? param : '';
  if (method === 'eth_sendRawTransaction') return keccak256((raw || '0x') as Hex);
  const bytes = Buffer.from(raw, 'base64');
  // compact-u16 signature count (1..127 in one byte), then 64-byte signatures.
  if (bytes.length < 65) return 'unknown-signature';
  return base58.decode(bytes.subarray(1, 65));
}
