/**
 * The Solana adapter (chains/solana) against the real devnet Solana RPC (devnet/solana/rpcServer.ts, LiteSVM):
 * reserve layout, one-RPC state read, memo transfers (idempotency, simulation failures, lookups), all through a
 * web3.js `Connection` whose requests are counted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from '@solana/web3.js';
import { getAccount } from '@solana/spl-token';
import { startSolanaRpc, type SolanaRpcServer } from '../../devnet/solana/rpcServer.js';
import { createSplMint, createTokenAccount, mintTo } from '../../devnet/solana/bootstrap.js';
import { decodeDevReserve, encodeDevReserve, RESERVE_DISCRIMINATOR, RESERVE_SIZE, ReserveDecodeError } from '../../chains/solana/reserve.js';
import { readSolanaState, type SolanaAccounts } from '../../chains/solana/readSolanaState.js';
import { findMemoTransfer, listMemoTransfers, parseRpcMemos, transferWithMemo } from '../../chains/solana/memoTransfer.js';
import { SolanaConfirmTimeoutError, SolanaReadError, SolanaSimulationError } from '../../chains/solana/errors.js';
import { encodePriceUpdateV2, PYTH_RECEIVER_PROGRAM_ID, type PriceUpdateV2 } from '../../chains/solana/pyth.js';
import { WAD } from '../../planner/types.js';

const DECIMALS = 6;
/** Reserve figures: 250 available + 750 borrowed = 1,000 supplied, 75% utilization. */
const LIQUIDITY = 250_000_000n;
const BORROWED = 750_000_000n;
const TREASURY = 5_000_000n;
const CUSTODY = 1_000_000n;
/** A 0x + 64 hex key as legKey produces (values here are arbitrary test keys). */
const key = (n: number): `0x${string}` => `0x${n.toString(16).padStart(64, '0')}`;

describe('Solana adapter on the devnet Solana RPC', () => {
  let rpc: SolanaRpcServer;
  let connection: Connection;
  /** JSON-RPC methods sent over HTTP by `connection`, in order. */
  const methods: string[] = [];
  const keeper = Keypair.generate();
  const custodyAuthority = Keypair.generate();
  let accounts: SolanaAccounts;
  let price: PriceUpdateV2;

  const balance = async (a: PublicKey): Promise<bigint> => (await getAccount(connection, a, 'confirmed')).amount;

  before(async () => {
    rpc = await startSolanaRpc({ port: 0 });
    connection = new Connection(rpc.url, {
      commitment: 'confirmed',
      fetchMiddleware: (info, init, fetch) => {
        const body: unknown = JSON.parse(String(init?.body ?? 'null'));
        for (const r of Array.isArray(body) ? body : [body]) methods.push((r as { method: string }).method);
        fetch(info, init);
      },
    });
    await connection.confirmTransaction(await connection.requestAirdrop(keeper.publicKey, 10 * LAMPORTS_PER_SOL), 'confirmed');
    const mint = await createSplMint(connection, keeper, keeper.publicKey, DECIMALS);
    const reserveLiquidity = await createTokenAccount(connection, keeper, mint, keeper.publicKey);
    const treasury = await createTokenAccount(connection, keeper, mint, keeper.publicKey);
    const custody = await createTokenAccount(connection, keeper, mint, custodyAuthority.publicKey);
    await mintTo(connection, keeper, mint, reserveLiquidity, keeper, LIQUIDITY);
    await mintTo(connection, keeper, mint, treasury, keeper, TREASURY);
    await mintTo(connection, keeper, mint, custody, keeper, CUSTODY);
    const reserve = Keypair.generate().publicKey;
    rpc.setAccount(reserve.toBase58(), {
      lamports: 1_000_000_000n,
      data: encodeDevReserve({ liquidityMint: mint, liquiditySupply: reserveLiquidity, borrowedAmount: BORROWED, lastUpdateSlot: rpc.slot() }),
      owner: Keypair.generate().publicKey.toBase58(), // stand-in lending program
    });
    const pythPrice = Keypair.generate().publicKey;
    const nowSec = BigInt(Math.floor(Date.now() / 1000));
    price = {
      writeAuthority: Keypair.generate().publicKey.toBase58(),
      verificationLevel: { kind: 'Full' },
      feedId: key(0xfeed),
      price: 99_987_654n,
      conf: 12_345n,
      exponent: -8,
      publishTimeSec: nowSec,
      prevPublishTimeSec: nowSec - 1n,
      emaPrice: 99_990_000n,
      emaConf: 10_000n,
      postedSlot: rpc.slot(),
    };
    rpc.setAccount(pythPrice.toBase58(), { lamports: 1_000_000_000n, data: encodePriceUpdateV2(price), owner: PYTH_RECEIVER_PROGRAM_ID });
    accounts = { mint, reserve, reserveLiquidity, treasury, custody, pythPrice };
  });

  after(async () => {
    await rpc?.stop();
  });

  test('reserve layout: encode/decode round trip (88 bytes, discriminator first); a wrong discriminator or short data is named', () => {
    const r = { liquidityMint: Keypair.generate().publicKey, liquiditySupply: Keypair.generate().publicKey, borrowedAmount: 2n ** 64n - 1n, lastUpdateSlot: 12_345n };
    const data = encodeDevReserve(r);
    assert.equal(data.length, 88);
    assert.equal(RESERVE_SIZE, 88);
    assert.deepEqual(data.subarray(0, 8), RESERVE_DISCRIMINATOR);
    assert.equal(data.readBigUInt64LE(72), r.borrowedAmount);
    assert.equal(data.readBigUInt64LE(80), r.lastUpdateSlot);
    const back = decodeDevReserve(data);
    assert.ok(back.liquidityMint.equals(r.liquidityMint));
    assert.ok(back.liquiditySupply.equals(r.liquiditySupply));
    assert.equal(back.borrowedAmount, r.borrowedAmount);
    assert.equal(back.lastUpdateSlot, r.lastUpdateSlot);

    const bad = Buffer.from(data);
    bad[0] = bad[0]! ^ 0xff;
    assert.throws(() => decodeDevReserve(bad), (err: unknown) => err instanceof ReserveDecodeError && /discriminator is 0x[0-9a-f]{16}, expected 0x/.test(err.message));
    assert.throws(() => decodeDevReserve(data.subarray(0, 87)), (err: unknown) => err instanceof ReserveDecodeError && /87 bytes, expected at least 88/.test(err.message));
    assert.throws(() => encodeDevReserve({ ...r, borrowedAmount: -1n }), RangeError);
  });

  test('readSolanaState returns supplied, borrowed, utilization, balances, mint supply, price and clock in ONE getMultipleAccounts RPC', async () => {
    methods.length = 0;
    const s = await readSolanaState({ connection, chainKey: 'solana', accounts, commitment: 'confirmed' });
    assert.deepEqual(methods, ['getMultipleAccounts']);
    assert.equal(s.chainKey, 'solana');
    assert.equal(s.borrowed, BORROWED);
    assert.equal(s.reserveLiquidity, LIQUIDITY);
    assert.equal(s.supplied, LIQUIDITY + BORROWED);
    assert.equal(s.utilizationWad, (BORROWED * WAD) / (LIQUIDITY + BORROWED));
    assert.equal(s.utilizationWad, 750_000_000_000_000_000n);
    assert.equal(s.treasury, TREASURY);
    assert.equal(s.custody, CUSTODY);
    assert.equal(s.mintSupply, LIQUIDITY + TREASURY + CUSTODY);
    assert.deepEqual(s.price, price);
    assert.equal(s.slot, rpc.slot());
    const now = BigInt(Math.floor(Date.now() / 1000));
    assert.ok(s.clockUnixSec >= now - 5n && s.clockUnixSec <= now + 1n, `clock ${s.clockUnixSec} vs now ${now}`);
  });

  test('readSolanaState fails closed naming a missing account and a reserve pointing at another liquidity account', async () => {
    const ghost = Keypair.generate().publicKey;
    await assert.rejects(readSolanaState({ connection, chainKey: 'sol-x', accounts: { ...accounts, custody: ghost }, commitment: 'confirmed' }), (err: unknown) => {
      assert.ok(err instanceof SolanaReadError);
      assert.equal(err.chainKey, 'sol-x');
      assert.deepEqual(err.failed, [`custody ${ghost.toBase58()}: account not found`]);
      assert.match(err.message, /^sol-x: .*custody .*account not found/);
      return true;
    });
    // reserveLiquidity swapped for the treasury: the reserve's liquidity_supply no longer matches
    await assert.rejects(readSolanaState({ connection, chainKey: 'sol-x', accounts: { ...accounts, reserveLiquidity: accounts.treasury }, commitment: 'confirmed' }), (err: unknown) => {
      assert.ok(err instanceof SolanaReadError);
      assert.equal(err.failed.length, 1);
      assert.match(err.failed[0]!, /liquidity_supply is .* expected reserveLiquidity/);
      return true;
    });
    // a token account given as the price account: wrong owner, named
    await assert.rejects(readSolanaState({ connection, chainKey: 'sol-x', accounts: { ...accounts, pythPrice: accounts.treasury }, commitment: 'confirmed' }), /pythPrice .*owner is TokenkegQ.*expected the Pyth receiver/);
  });

  test('transferWithMemo moves the amount once; a second call with the same memo is alreadyDone and sends nothing', async () => {
    const memo = `ballast:deposit:${key(1)}`;
    const [t0, r0] = [await balance(accounts.treasury), await balance(accounts.reserveLiquidity)];
    methods.length = 0;
    const started = performance.now();
    const first = await transferWithMemo({
      connection, payer: keeper, mint: accounts.mint, decimals: DECIMALS, source: accounts.treasury, destination: accounts.reserveLiquidity,
      amount: 1_234_567n, memo, priorityFeeMicroLamports: 1_000, commitment: 'confirmed', timeoutMs: 30_000,
    });
    const elapsedMs = performance.now() - started;
    console.log(`transferWithMemo against the devnet RPC: ${elapsedMs.toFixed(0)} ms, RPCs: ${methods.join(', ')}`);
    assert.equal(first.alreadyDone, false);
    assert.equal(methods.filter((m) => m === 'sendTransaction').length, 1);
    assert.ok(methods.indexOf('simulateTransaction') < methods.indexOf('sendTransaction'), 'simulated before sending');
    assert.equal(await balance(accounts.treasury), t0 - 1_234_567n);
    assert.equal(await balance(accounts.reserveLiquidity), r0 + 1_234_567n);

    methods.length = 0;
    const second = await transferWithMemo({
      connection, payer: keeper, mint: accounts.mint, decimals: DECIMALS, source: accounts.treasury, destination: accounts.reserveLiquidity,
      amount: 1_234_567n, memo, priorityFeeMicroLamports: 1_000, commitment: 'confirmed', timeoutMs: 30_000,
    });
    assert.deepEqual(second, { alreadyDone: true, signature: first.signature, slot: first.slot });
    assert.ok(!methods.includes('sendTransaction') && !methods.includes('simulateTransaction'), `no send on retry: ${methods.join(', ')}`);
    assert.equal(await balance(accounts.treasury), t0 - 1_234_567n);
    assert.equal(await balance(accounts.reserveLiquidity), r0 + 1_234_567n);

    const found = await findMemoTransfer({ connection, account: accounts.treasury, memo, commitment: 'confirmed' });
    assert.ok(found);
    assert.equal(found.signature, first.signature);
    assert.equal(found.slot, first.slot);
    assert.equal(found.amount, 1_234_567n);
    assert.ok(found.source.equals(accounts.treasury) && found.destination.equals(accounts.reserveLiquidity));
    assert.equal(found.memo, memo);
    assert.ok(found.blockTimeSec !== undefined && found.blockTimeSec > 0n);
    // also found from the destination's history; another memo is not
    assert.equal((await findMemoTransfer({ connection, account: accounts.reserveLiquidity, memo, commitment: 'finalized' }))?.signature, first.signature);
    assert.equal(await findMemoTransfer({ connection, account: accounts.treasury, memo: `ballast:deposit:${key(2)}`, commitment: 'confirmed' }), undefined);
    assert.equal(await findMemoTransfer({ connection, account: accounts.treasury, memo: memo.slice(0, -1), commitment: 'confirmed' }), undefined, 'exact match only');
  });

  test('an overdraft fails in simulation with the decoded reason and the logs; nothing is sent, balances unchanged', async () => {
    const [t0, r0] = [await balance(accounts.treasury), await balance(accounts.reserveLiquidity)];
    methods.length = 0;
    await assert.rejects(
      transferWithMemo({
        connection, payer: keeper, mint: accounts.mint, decimals: DECIMALS, source: accounts.treasury, destination: accounts.reserveLiquidity,
        amount: t0 + 1n, memo: `ballast:deposit:${key(3)}`, priorityFeeMicroLamports: 1_000, commitment: 'confirmed', timeoutMs: 30_000,
      }),
      (err: unknown) => {
        assert.ok(err instanceof SolanaSimulationError, String(err));
        assert.match(err.reason, /instruction 2 \(spl-token TransferChecked\): InsufficientFunds: insufficient funds/);
        assert.ok(err.logs.some((l) => /insufficient funds/i.test(l)), err.logs.join('\n'));
        assert.match(err.message, /simulation failed, not sent/);
        return true;
      },
    );
    assert.ok(!methods.includes('sendTransaction'), `never sent: ${methods.join(', ')}`);
    assert.equal(await balance(accounts.treasury), t0);
    assert.equal(await balance(accounts.reserveLiquidity), r0);
  });

  test('listMemoTransfers returns the transfers whose memo has the prefix, oldest first, from sinceSlot on', async () => {
    const send = (n: number, amount: bigint): Promise<{ alreadyDone: boolean; slot: bigint; signature: string }> =>
      transferWithMemo({
        connection, payer: keeper, mint: accounts.mint, decimals: DECIMALS, source: accounts.treasury, destination: accounts.custody,
        amount, memo: `ballast:wormhole:v1:${key(n)}:2:${key(0xbeef)}`, priorityFeeMicroLamports: 0, commitment: 'finalized', timeoutMs: 30_000,
      });
    const a = await send(10, 100n);
    // the custody service's redeem: custody -> treasury, signed by the custody authority, fee paid by the keeper
    const redeem = await transferWithMemo({
      connection, payer: keeper, owner: custodyAuthority, mint: accounts.mint, decimals: DECIMALS, source: accounts.custody, destination: accounts.treasury,
      amount: 7n, memo: `ballast:redeem:${key(11)}`, priorityFeeMicroLamports: 0, commitment: 'confirmed', timeoutMs: 30_000,
    });
    const b = await send(12, 200n);
    assert.ok(a.slot < redeem.slot && redeem.slot < b.slot);
    assert.deepEqual(await send(10, 100n), { alreadyDone: true, signature: a.signature, slot: a.slot }, 'finalized retry of a landed send');

    const sends = await listMemoTransfers({ connection, account: accounts.custody, memoPrefix: 'ballast:wormhole:v1:', commitment: 'finalized' });
    assert.deepEqual(sends.map((t) => [t.signature, t.slot, t.amount]), [[a.signature, a.slot, 100n], [b.signature, b.slot, 200n]]);
    assert.ok(sends.every((t) => t.destination.equals(accounts.custody) && t.source.equals(accounts.treasury) && t.memo.startsWith('ballast:wormhole:v1:')));

    const redeems = await listMemoTransfers({ connection, account: accounts.custody, memoPrefix: 'ballast:redeem:', commitment: 'confirmed' });
    assert.equal(redeems.length, 1);
    assert.equal(redeems[0]!.amount, 7n);
    assert.ok(redeems[0]!.source.equals(accounts.custody));

    const since = await listMemoTransfers({ connection, account: accounts.custody, memoPrefix: 'ballast:wormhole:v1:', commitment: 'finalized', sinceSlot: redeem.slot });
    assert.deepEqual(since.map((t) => t.signature), [b.signature]);
    const paged = await listMemoTransfers({ connection, account: accounts.custody, memoPrefix: 'ballast:', commitment: 'finalized', searchLimit: 2 });
    assert.deepEqual(paged.map((t) => t.signature), [redeem.signature, b.signature], 'searchLimit bounds the signatures searched (newest first)');
  });

  test('a memo posted by someone else (a transfer INTO the source) does not make transferWithMemo skip its transfer', async () => {
    const memo = `ballast:deposit:${key(20)}`;
    // custody authority sends 1 unit into the treasury with the keeper's deposit memo
    await transferWithMemo({
      connection, payer: keeper, owner: custodyAuthority, mint: accounts.mint, decimals: DECIMALS, source: accounts.custody, destination: accounts.treasury,
      amount: 1n, memo, priorityFeeMicroLamports: 0, commitment: 'confirmed', timeoutMs: 30_000,
    });
    const r0 = await balance(accounts.reserveLiquidity);
    const r = await transferWithMemo({
      connection, payer: keeper, mint: accounts.mint, decimals: DECIMALS, source: accounts.treasury, destination: accounts.reserveLiquidity,
      amount: 10n, memo, priorityFeeMicroLamports: 0, commitment: 'confirmed', timeoutMs: 30_000,
    });
    assert.equal(r.alreadyDone, false);
    assert.equal(await balance(accounts.reserveLiquidity), r0 + 10n);
  });

  test('a confirmation timeout throws SolanaConfirmTimeoutError naming the signature; the retry finds the landed transfer', async () => {
    // The devnet withholds confirmations (the transfer lands, its status is not reported) so the wait times out
    // whatever the timing; released before the retry.
    const memo = `ballast:withdraw:${key(30)}`;
    const params = {
      connection, payer: keeper, mint: accounts.mint, decimals: DECIMALS, source: accounts.reserveLiquidity, destination: accounts.treasury,
      amount: 42n, memo, priorityFeeMicroLamports: 0, commitment: 'confirmed' as const,
    };
    const t0 = await balance(accounts.treasury);
    let signature = '';
    rpc.holdConfirmations(true);
    try {
      await assert.rejects(transferWithMemo({ ...params, timeoutMs: 300 }), (err: unknown) => {
        assert.ok(err instanceof SolanaConfirmTimeoutError, String(err));
        assert.equal(err.expired, false);
        signature = err.signature;
        assert.ok(err.message.includes(signature) && /within 300 ms/.test(err.message), err.message);
        return true;
      });
    } finally {
      rpc.holdConfirmations(false);
    }
    const retry = await transferWithMemo({ ...params, timeoutMs: 30_000 });
    assert.deepEqual([retry.alreadyDone, retry.signature], [true, signature]);
    assert.equal(await balance(accounts.treasury), t0 + 42n, 'moved exactly once');
  });

  test('parseRpcMemos splits the RPC memo field by byte lengths, keeping a memo that contains "; "', () => {
    assert.deepEqual(parseRpcMemos('[5] hello'), ['hello']);
    assert.deepEqual(parseRpcMemos('[4] a; b; [3] xyz'), ['a; b', 'xyz']);
    assert.deepEqual(parseRpcMemos('[6] café; [1] x'), ['café', 'x']);
    assert.deepEqual(parseRpcMemos('plain; [2] ab'), ['plain', 'ab'], 'falls back to "; " splitting');
  });
});
