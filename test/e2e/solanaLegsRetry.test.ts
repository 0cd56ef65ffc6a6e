/**
 * Solana legs under retry, against the real devnet Solana RPC (devnet/solana/rpcServer.ts, LiteSVM) — issue 11,
 * defects 2 and 5:
 * - a leg whose confirmation times out while its transaction is still IN FLIGHT (sent, not landed) and is then
 *   retried moves the funds exactly once: the retry rebroadcasts the journaled transaction instead of signing a
 *   second one; once the transaction has expired the retry signs anew (and the stale copy can no longer land);
 * - the Wormhole sequence of a Solana send is the custody's per-emitter counter, the same number the keeper
 *   computes, the custody watcher reports and the guardian signs, not the slot;
 * - the audit reads every transfer under a memo, so a forced double move is summed and shows as a ledger mismatch.
 *
 * "In flight" is made by a JSON-RPC proxy in front of the devnet that, while holding, answers `sendTransaction`
 * with the transaction's signature without forwarding it (a leader that accepted it and has not produced the
 * block yet), and forwards the held transactions on `release()`. Confirmations go over the devnet's own
 * websocket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import { createTransferCheckedInstruction, getAccount } from '@solana/spl-token';
import { createMemoInstruction } from '@solana/spl-memo';
import { getBase58Decoder } from '@solana/kit';
import { bytesToHex, hexToBigInt, hexToBytes, keccak256, pad, size, slice, toHex, type Hex } from 'viem';
import { startSolanaRpc, type SolanaRpcServer } from '../../devnet/solana/rpcServer.js';
import { createSplMint, createTokenAccount, mintTo } from '../../devnet/solana/bootstrap.js';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { DevnetGuardian } from '../../devnet/guardian.js';
import { DevnetSolanaCustody } from '../../devnet/solanaCustody.js';
import { findMemoTransfer, findMemoTransfers, listCustodySends, listMemoTransfers, type PendingSolanaTx } from '../../chains/solana/memoTransfer.js';
import { depositMemo, withdrawMemo, wormholeSendMemo } from '../../chains/solana/memos.js';
import { SolanaConfirmTimeoutError } from '../../chains/solana/errors.js';
import { assertVaaVerified } from '../../chains/wormhole/verifyVaa.js';
import { solanaDeposit, solanaWithdraw } from '../../activities/solanaLegs.js';
import { solanaSend, solanaSendsOf } from '../../activities/bridges/wormholeSolana.js';
import { observeRebalanceFunds } from '../../activities/ledger.js';
import { fetchVerifiedVaa } from '../../activities/wormholeVaa.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { createLogger } from '../../keeper/logger.js';
import { deriveFromChain, reconcile } from '../../ledger/ledger.js';
import type { KeeperContext, SolanaChainRuntime } from '../../activities/context.js';
import type { ChainPolicy } from '../../planner/types.js';

const DECIMALS = 6;
const LIQUIDITY = 500_000_000n;
const TREASURY = 500_000_000n;
const AMOUNT = 7_000_000n;
const SOLANA_WH = 1;
/** A fresh rebalance id per case (0x + 64 hex). */
const idFor = (name: string): Hex => keccak256(toHex(`solana-legs-retry:${name}:${process.pid}:${Date.now()}`));

/** A JSON-RPC proxy that can hold `sendTransaction`s "in flight" (answered with their signature, not forwarded). */
interface InFlightProxy {
  url: string;
  /** While true, every sendTransaction is answered with its signature and held, not forwarded. */
  hold: boolean;
  /** JSON-RPC methods received, in order. */
  methods: string[];
  /** Signatures of the held transactions. */
  held(): string[];
  /** Forwards the held transactions to the node, in order; resolves with the node's answers. */
  release(): Promise<Array<{ result?: string; error?: { message: string } }>>;
  stop(): Promise<void>;
}

async function startInFlightProxy(target: string): Promise<InFlightProxy> {
  const heldBodies: Array<{ signature: string; body: string }> = [];
  const b58 = getBase58Decoder();
  const forward = async (body: string): Promise<string> => (await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const parsed = JSON.parse(body) as { id: unknown; method: string; params: [string, { encoding?: string }?] } | Array<{ method: string }>;
        for (const r of Array.isArray(parsed) ? parsed : [parsed]) proxy.methods.push(r.method);
        let answer: string;
        if (!Array.isArray(parsed) && parsed.method === 'sendTransaction' && proxy.hold) {
          const wire = Buffer.from(parsed.params[0], parsed.params[1]?.encoding === 'base64' ? 'base64' : 'utf8');
          const signature = b58.decode(VersionedTransaction.deserialize(wire).signatures[0]!);
          heldBodies.push({ signature, body });
          answer = JSON.stringify({ jsonrpc: '2.0', id: parsed.id, result: signature });
        } else {
          answer = await forward(body);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      })().catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: InFlightProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: false,
    methods: [],
    held: () => heldBodies.map((h) => h.signature),
    release: async () => {
      const out = [];
      for (const h of heldBodies.splice(0)) out.push(JSON.parse(await forward(h.body)) as { result?: string; error?: { message: string } });
      return out;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

describe('Solana legs retried while a transaction is in flight; custody sequences; double moves visible to the audit', () => {
  let rpc: SolanaRpcServer;
  let direct: Connection;
  let proxy: InFlightProxy;
  let anvil: AnvilInstance;
  let guardian: DevnetGuardian;
  let custodyWatcher: DevnetSolanaCustody;
  let sc: SolanaChainRuntime;
  let ctx: KeeperContext;
  const keeper = Keypair.generate();
  const custodyAuthority = Keypair.generate();
  let mint: PublicKey;
  let reserveLiquidity: PublicKey;
  let treasury: PublicKey;
  let custody: PublicKey;
  let custodyHex: Hex;

  const balance = async (a: PublicKey): Promise<bigint> => (await getAccount(direct, a, 'confirmed')).amount;
  /** Advances the devnet by `n` slots (one airdrop per slot, in one batch request). */
  const advanceSlots = async (n: number): Promise<void> => {
    const to = Keypair.generate().publicKey.toBase58();
    const batch = Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'requestAirdrop', params: [to, 1] }));
    const res = await fetch(rpc.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    assert.equal(((await res.json()) as unknown[]).length, n);
  };
  /**
   * A memo transfer built and sent by hand: no memo lookup, so the same memo can be used twice. A fresh blockhash
   * each time (web3.js's cached one may have expired once a test advanced the slots).
   */
  const rawTransfer = async (source: PublicKey, destination: PublicKey, amount: bigint, memo: string, owner: Keypair = keeper): Promise<string> => {
    const { blockhash, lastValidBlockHeight } = await direct.getLatestBlockhash('confirmed');
    const message = new TransactionMessage({
      payerKey: keeper.publicKey,
      recentBlockhash: blockhash,
      instructions: [createTransferCheckedInstruction(source, mint, destination, owner.publicKey, amount, DECIMALS), createMemoInstruction(memo)],
    }).compileToLegacyMessage();
    const tx = new VersionedTransaction(message);
    tx.sign(owner === keeper ? [keeper] : [keeper, owner]);
    const signature = await direct.sendRawTransaction(tx.serialize());
    const res = await direct.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, 'confirmed');
    assert.equal(res.value.err, null);
    return signature;
  };

  before(async () => {
    rpc = await startSolanaRpc({ port: 0 });
    direct = new Connection(rpc.url, 'confirmed');
    await direct.confirmTransaction(await direct.requestAirdrop(keeper.publicKey, 10 * LAMPORTS_PER_SOL), 'confirmed');
    mint = await createSplMint(direct, keeper, keeper.publicKey, DECIMALS);
    reserveLiquidity = await createTokenAccount(direct, keeper, mint, keeper.publicKey);
    treasury = await createTokenAccount(direct, keeper, mint, keeper.publicKey);
    custody = await createTokenAccount(direct, keeper, mint, custodyAuthority.publicKey);
    await mintTo(direct, keeper, mint, reserveLiquidity, keeper, LIQUIDITY);
    await mintTo(direct, keeper, mint, treasury, keeper, TREASURY);
    custodyHex = bytesToHex(custody.toBytes());
    proxy = await startInFlightProxy(rpc.url);
    // The keeper talks to the node through the proxy; web3.js's confirmation websocket goes to the node itself.
    const connection = new Connection(proxy.url, { commitment: 'confirmed', wsEndpoint: rpc.url.replace(/^http/, 'ws') });
    sc = {
      chainKey: 'solana',
      connection,
      keeper,
      accounts: { mint, reserve: Keypair.generate().publicKey, reserveLiquidity, treasury, custody, pythPrice: Keypair.generate().publicKey },
      pythReceiver: Keypair.generate().publicKey,
      commitment: 'confirmed',
      wormholeChainId: SOLANA_WH,
      policy: {} as ChainPolicy,
      oracleLimits: { maxStalenessSec: 60, maxDeviationBps: 100, maxConfBps: 100 },
      priorityFeeMicroLamports: 0,
      computeUnitLimit: 60_000,
      confirmTimeoutMs: 10_000,
      decimals: DECIMALS,
    };
    anvil = await startAnvil({ chainId: 31337 });
    guardian = new DevnetGuardian({ chains: [{ chainKey: 'evm', rpcUrl: anvil.rpcUrl, whChainId: 2, core: '0x0000000000000000000000000000000000000001' }], pollIntervalMs: 1000 });
    await guardian.start();
    custodyWatcher = watcher(guardian);
    ctx = {
      log: createLogger('solana-legs-retry', { write: () => true } as never),
      chains: new Map(),
      solana: { custodyUrl: 'http://127.0.0.1:1', chains: new Map([['solana', sc], ['solana-b', { ...sc, chainKey: 'solana-b' }]]) },
      wormhole: { guardianUrl: guardian.url, guardianSets: [{ index: 0, keys: [guardian.guardianAddress] }], deliveryDeadlineSec: 60, vaaPollIntervalMs: 100 },
    } as unknown as KeeperContext;
  });

  after(async () => {
    await proxy?.stop();
    await guardian?.stop();
    await anvil?.stop();
    await rpc?.stop();
  });

  /** A custody watcher (not started: driven by pollOnce) reporting to `g`. */
  function watcher(g: DevnetGuardian): DevnetSolanaCustody {
    return new DevnetSolanaCustody({
      chainKey: 'solana', connection: direct, whChainId: SOLANA_WH, mint, decimals: DECIMALS, custody, treasury, authority: custodyAuthority, guardian: g,
      guardianSets: [{ index: 0, keys: [g.guardianAddress] }], peers: new Map(),
    });
  }

  test('a deposit leg whose confirmation times out while its tx is in flight, retried with the journal, moves the funds exactly once', async () => {
    const id = idFor('in-flight');
    const memo = depositMemo(id);
    const input = { rebalanceId: id, purpose: 'forward' as const, chainKey: 'solana', amount: AMOUNT };
    const [t0, r0] = [await balance(treasury), await balance(reserveLiquidity)];
    const recorded: PendingSolanaTx[] = [];
    const sendsAtRecord: number[] = [];
    const sends = () => proxy.methods.filter((m) => m === 'sendTransaction').length;
    const record = (tx: PendingSolanaTx) => {
      recorded.push(tx);
      sendsAtRecord.push(sends());
    };
    const sendsBefore = sends();

    // Attempt 1: the transaction is accepted but held in flight; the confirmation wait times out.
    proxy.hold = true;
    const firstError = await solanaDeposit(ctx, { ...sc, confirmTimeoutMs: 800 }, input, { record }).then(
      () => undefined,
      (err: unknown) => err,
    );
    proxy.hold = false;
    const inFlight = proxy.held();

    // Attempt 2 (the activity retry) while attempt 1's transaction is still in flight.
    const retry = await solanaDeposit(ctx, sc, input, { pending: recorded[recorded.length - 1] ?? (firstError as SolanaConfirmTimeoutError).pending, record });
    // The in-flight copy reaches the node after all.
    const late = await proxy.release();

    const landed = await listMemoTransfers({ connection: direct, account: reserveLiquidity, memoPrefix: memo, commitment: 'confirmed' });
    assert.equal(landed.length, 1, `transfers with memo ${memo}: ${landed.length} (${landed.map((t) => t.signature).join(', ')}): the funds moved ${landed.length} times`);
    assert.equal(await balance(treasury), t0 - AMOUNT, 'treasury debited once');
    assert.equal(await balance(reserveLiquidity), r0 + AMOUNT, 'reserve credited once');

    // How: attempt 1 failed with a timeout carrying its journaled tx; attempt 2 rebroadcast the same bytes.
    assert.ok(firstError instanceof SolanaConfirmTimeoutError, String(firstError));
    assert.equal(firstError.expired, false);
    assert.equal(recorded.length, 1, 'one transaction signed in all');
    assert.deepEqual(firstError.pending, recorded[0]);
    assert.equal(sendsAtRecord[0], sendsBefore, 'recorded before it was sent');
    assert.deepEqual(inFlight, [recorded[0]!.signature]);
    assert.equal(recorded[0]!.memo, memo);
    assert.equal(landed[0]!.signature, recorded[0]!.signature);
    assert.deepEqual([retry.alreadyDone, retry.txHash], [false, recorded[0]!.signature]);
    assert.match(late[0]?.error?.message ?? '', /already been processed/, 'the late copy is refused as a duplicate');

    // Attempt 3 with the same journal: the landed tx is found by its status; nothing is simulated or sent.
    const mark = proxy.methods.length;
    const again = await solanaDeposit(ctx, sc, input, { pending: recorded[0], record });
    assert.deepEqual([again.alreadyDone, again.txHash, again.blockNumber], [true, undefined, landed[0]!.slot]);
    const after3 = proxy.methods.slice(mark);
    assert.ok(!after3.includes('sendTransaction') && !after3.includes('simulateTransaction'), after3.join(', '));
  });

  test('a retry after the in-flight tx expired (block height past lastValidBlockHeight) signs anew; the stale copy can no longer land', async () => {
    const id = idFor('expired');
    const input = { rebalanceId: id, purpose: 'forward' as const, chainKey: 'solana', amount: AMOUNT };
    const [t0, r0] = [await balance(treasury), await balance(reserveLiquidity)];
    const recorded: PendingSolanaTx[] = [];
    const record = (tx: PendingSolanaTx) => void recorded.push(tx);
    proxy.hold = true;
    await assert.rejects(solanaWithdraw(ctx, { ...sc, confirmTimeoutMs: 500 }, input, { record }), SolanaConfirmTimeoutError);
    proxy.hold = false;
    const stale = recorded[0]!;
    await advanceSlots(Number(BigInt(stale.lastValidBlockHeight) - BigInt(await direct.getBlockHeight('confirmed'))) + 1);
    assert.ok((await direct.getBlockHeight('confirmed')) > stale.lastValidBlockHeight);

    const retry = await solanaWithdraw(ctx, sc, input, { pending: stale, record });
    assert.equal(recorded.length, 2, 'signed anew once the first expired');
    assert.notEqual(recorded[1]!.signature, stale.signature);
    assert.deepEqual([retry.alreadyDone, retry.txHash], [false, recorded[1]!.signature]);
    const late = await proxy.release();
    assert.match(late[0]?.error?.message ?? '', /Blockhash not found/, 'the expired copy is refused');
    const landed = await findMemoTransfers({ connection: direct, account: reserveLiquidity, memo: withdrawMemo(id), commitment: 'confirmed' });
    assert.deepEqual(landed.map((t) => t.signature), [recorded[1]!.signature]);
    assert.equal(await balance(reserveLiquidity), r0 - AMOUNT);
    assert.equal(await balance(treasury), t0 + AMOUNT);
  });

  test('two sends get distinct, increasing custody sequences (not slots); the watcher reports and the guardian signs exactly those', async () => {
    const dst = { chainId: 2, recipient: pad('0x00000000000000000000000000000000000000b0', { size: 32 }) };
    const send = (id: Hex) => solanaSend(ctx, sc, { rebalanceId: id, purpose: 'forward', from: 'solana', to: 'evm', amount: AMOUNT, bridge: 'wormhole' }, dst);
    const [id1, id2] = [idFor('send-1'), idFor('send-2')];
    const s1 = await send(id1);
    // other custody traffic in between: a release (custody → treasury) and a non-send transfer into custody
    await rawTransfer(custody, treasury, 1n, `ballast:redeem:${id1}`, custodyAuthority);
    await rawTransfer(treasury, custody, 1n, 'not a send memo');
    const s2 = await send(id2);

    assert.equal(s2.nonce, s1.nonce + 1n, `sequences ${s1.nonce}, ${s2.nonce}: one per send, consecutive`);
    assert.ok(s2.blockNumber - s1.blockNumber > 1n, `slots ${s1.blockNumber}, ${s2.blockNumber}: the sequence is not the slot`);
    assert.equal(s1.guid, wormholeGuid(SOLANA_WH, custodyHex, s1.nonce));
    assert.equal(s2.guid, wormholeGuid(SOLANA_WH, custodyHex, s2.nonce));
    assert.notEqual(s1.guid, s2.guid);
    const again = await send(id1);
    assert.deepEqual([again.alreadyDone, again.nonce, again.guid], [true, s1.nonce, s1.guid], 'a retried send learns the same sequence');

    await custodyWatcher.pollOnce();
    for (const [s, id] of [[s1, id1], [s2, id2]] as const) {
      const observed = guardian.observation(SOLANA_WH, custodyHex, s.nonce);
      assert.equal(observed?.txHash, s.txHash, `sequence ${s.nonce} is the message of the keeper's send`);
      // the keeper's own fetch-and-verify path (what the EVM deliver leg runs)
      const fetched = await fetchVerifiedVaa(ctx, { emitterChain: SOLANA_WH, emitter: custodyHex, sequence: s.nonce }, `send ${id}`);
      const v = await assertVaaVerified(hexToBytes(fetched.vaa), { guardianSets: [{ index: 0, keys: [guardian.guardianAddress] }] });
      assert.equal(v.decoded.sequence, s.nonce);
      assert.equal(v.decoded.emitterAddress, custodyHex);
      assert.equal(size(v.decoded.payload), 99);
      assert.equal(slice(v.decoded.payload, 1, 33), id, 'payload key');
      assert.equal(hexToBigInt(slice(v.decoded.payload, 33, 65)), AMOUNT, 'payload amount');
    }
    assert.equal(guardian.conflictCount, 0);

    // A watcher started afresh numbers the same sends the same way (derived from chain history alone).
    const fresh = new DevnetGuardian({ chains: [{ chainKey: 'evm', rpcUrl: anvil.rpcUrl, whChainId: 2, core: '0x0000000000000000000000000000000000000001' }] });
    await watcher(fresh).pollOnce();
    assert.equal(fresh.observation(SOLANA_WH, custodyHex, s1.nonce)?.txHash, s1.txHash);
    assert.equal(fresh.observation(SOLANA_WH, custodyHex, s2.nonce)?.txHash, s2.txHash);
    const all = await listCustodySends({ connection: direct, custody, commitment: 'confirmed' });
    assert.deepEqual(all.map((t) => t.sequence), all.map((_, i) => BigInt(i)), 'sequences 0, 1, 2, … with no gaps');
  });

  test('a forced double move (same memo twice, lookup bypassed): findMemoTransfers sees both and the ledger read sums them into a mismatch', async () => {
    const id = idFor('double');
    const memo = withdrawMemo(id);
    const w1 = await rawTransfer(reserveLiquidity, treasury, AMOUNT, memo);
    const w2 = await rawTransfer(reserveLiquidity, treasury, AMOUNT, memo);
    const dst = { chainId: 2, recipient: pad('0x00000000000000000000000000000000000000b0', { size: 32 }) };
    const sendMemo = wormholeSendMemo(id, dst.chainId, dst.recipient);
    await rawTransfer(treasury, custody, AMOUNT, sendMemo);
    await rawTransfer(treasury, custody, AMOUNT, sendMemo);

    const all = await findMemoTransfers({ connection: direct, account: reserveLiquidity, memo, commitment: 'confirmed' });
    assert.deepEqual(all.map((t) => [t.signature, t.amount]), [[w1, AMOUNT], [w2, AMOUNT]], 'both, oldest first');
    assert.ok(all[0]!.slot < all[1]!.slot);
    assert.equal((await findMemoTransfer({ connection: direct, account: reserveLiquidity, memo, commitment: 'confirmed' }))?.signature, w2, 'the idempotency lookup still answers (the newest)');
    const sends = await solanaSendsOf(sc, id);
    assert.equal(sends.length, 2);
    assert.equal(sends[1]!.sequence, sends[0]!.sequence + 1n, 'each send is its own message');

    // The ledger's read of this rebalance (solana → solana-b: the same devnet under two keys, so both ends are Solana reads).
    const { facts, balances } = await observeRebalanceFunds(ctx, { rebalanceId: id, from: 'solana', to: 'solana-b', amount: AMOUNT, minBlocks: {}, bridge: 'wormhole' });
    assert.equal(facts.withdrawn, 2n * AMOUNT, 'withdrawn sums both transfers');
    assert.equal(facts.sent?.amount, 2n * AMOUNT, 'sent sums both sends');
    assert.equal(facts.sent?.guid, wormholeGuid(SOLANA_WH, custodyHex, sends[0]!.sequence));
    // What a correct run (one withdraw, one send) would leave; the chain disagrees.
    const expected = deriveFromChain({ ...facts, withdrawn: AMOUNT, sent: { amount: AMOUNT, guid: facts.sent!.guid, delivered: false } });
    const mismatches = reconcile(expected, balances);
    assert.deepEqual(
      mismatches.map((m) => [m.account, m.expected, m.observed]),
      [
        [`inflight:${facts.sent!.guid.toLowerCase()}`, AMOUNT, 2n * AMOUNT],
        ['vault:solana', 0n, -AMOUNT],
      ],
    );
  });
});
