/**
 * The devnet Solana chain (devnet/solana/rpcServer.ts) seen through @solana/web3.js 1.x `Connection`, exactly as
 * the keeper's adapter sees a real node: real SPL transactions built with spl-token / spl-memo, sent and confirmed
 * over JSON-RPC + the signatureSubscribe websocket.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ComputeBudgetProgram, Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SendTransactionError, Transaction,
  TransactionMessage, VersionedTransaction, sendAndConfirmTransaction, type TransactionInstruction,
} from '@solana/web3.js';
import { createTransferCheckedInstruction, unpackAccount } from '@solana/spl-token';
import { createMemoInstruction } from '@solana/spl-memo';
import { startSolanaRpc, type SolanaRpcServer } from '../../devnet/solana/rpcServer.js';
import { createSplMint, createTokenAccount, mintTo } from '../../devnet/solana/bootstrap.js';

const DECIMALS = 6;
const MINTED = 1_000_000_000n; // 1000 tokens at 6 decimals
const SENT = 250_500_000n; // 250.5 tokens
const PRICE_MICRO_LAMPORTS = 10_000n;
const MEMO = 'ballast:withdraw:0x' + 'ab'.repeat(32) + ' — ü';

/** POST a raw JSON-RPC body; returns the parsed answer. */
async function rawRpc(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return res.json();
}

describe('devnet Solana RPC (LiteSVM) through web3.js Connection', () => {
  let rpc: SolanaRpcServer;
  let connection: Connection;
  const payer = Keypair.generate();
  const owner = Keypair.generate();
  let mint: PublicKey;
  let source: PublicKey;
  let destination: PublicKey;
  const sentSignatures: string[] = [];
  let transferSig: string;
  let transferRoundTripMs: number;
  let payerLamportsBeforeTransfer: number;

  /** A signed v0 transaction paid by `payer` with the server's latest blockhash. */
  async function v0Tx(ixs: TransactionInstruction[], signers: Keypair[]): Promise<VersionedTransaction> {
    const { blockhash } = await connection.getLatestBlockhash();
    const msg = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions: ixs }).compileToV0Message();
    const tx = new VersionedTransaction(msg);
    tx.sign(signers);
    return tx;
  }
  function overdraftIxs(): TransactionInstruction[] {
    return [
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 }),
      createTransferCheckedInstruction(source, mint, destination, owner.publicKey, MINTED * 10n, DECIMALS),
    ];
  }
  async function tokenAmount(account: PublicKey): Promise<bigint> {
    return BigInt((await connection.getTokenAccountBalance(account)).value.amount);
  }

  before(async () => {
    rpc = await startSolanaRpc({ port: 0 });
    connection = new Connection(rpc.url, 'confirmed');
    const airdrop = await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL);
    await connection.confirmTransaction({ signature: airdrop, ...(await connection.getLatestBlockhash()) }, 'finalized');
    mint = await createSplMint(connection, payer, payer.publicKey, DECIMALS);
    source = await createTokenAccount(connection, payer, mint, owner.publicKey);
    sentSignatures.push((await connection.getSignaturesForAddress(source, { limit: 1 }))[0]?.signature ?? 'missing');
    destination = await createTokenAccount(connection, payer, mint, payer.publicKey);
    sentSignatures.push((await connection.getSignaturesForAddress(destination, { limit: 1 }))[0]?.signature ?? 'missing');
    sentSignatures.push(await mintTo(connection, payer, mint, source, payer, MINTED));

    payerLamportsBeforeTransfer = await connection.getBalance(payer.publicKey);
    const tx = new Transaction().add(
      ComputeBudgetProgram.setComputeUnitLimit({ units: 50_000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: PRICE_MICRO_LAMPORTS }),
      createTransferCheckedInstruction(source, mint, destination, owner.publicKey, SENT, DECIMALS),
      createMemoInstruction(MEMO, [owner.publicKey]),
    );
    const t0 = performance.now();
    transferSig = await sendAndConfirmTransaction(connection, tx, [payer, owner], { commitment: 'confirmed' });
    transferRoundTripMs = performance.now() - t0;
    sentSignatures.push(transferSig);
  });

  after(async () => {
    await rpc?.stop();
  });

  it('confirms a sendAndConfirmTransaction round trip and reports finalized statuses', async () => {
    console.log(`sendAndConfirmTransaction round trip: ${transferRoundTripMs.toFixed(1)} ms`);
    assert.ok(transferRoundTripMs < 5000, `round trip took ${transferRoundTripMs} ms`);
    const { value } = await connection.getSignatureStatuses([transferSig, ...sentSignatures], { searchTransactionHistory: true });
    for (const st of value) {
      assert.ok(st, 'every sent signature has a status');
      assert.equal(st.confirmationStatus, 'finalized');
      assert.equal(st.err, null);
      assert.equal(st.confirmations, null);
    }
    const unknown = (await connection.getSignatureStatuses(['1'.repeat(64)])).value[0];
    assert.equal(unknown, null);
  });

  it('moves the tokens: getTokenAccountBalance shows both sides', async () => {
    const src = await connection.getTokenAccountBalance(source);
    assert.equal(src.value.amount, (MINTED - SENT).toString());
    assert.equal(src.value.decimals, DECIMALS);
    assert.equal(src.value.uiAmountString, '749.5');
    const dst = await connection.getTokenAccountBalance(destination);
    assert.equal(dst.value.amount, SENT.toString());
    assert.equal(dst.value.uiAmountString, '250.5');
    assert.equal(dst.value.uiAmount, 250.5);
  });

  it('gives every sent transaction its own slot, strictly increasing', async () => {
    const { value } = await connection.getSignatureStatuses(sentSignatures);
    const slots = value.map((s) => s?.slot ?? -1);
    assert.equal(slots.length, 4, 'create x2, mintTo, transfer');
    for (let i = 1; i < slots.length; i++) assert.ok((slots[i] as number) > (slots[i - 1] as number), `slots ${slots.join(', ')}`);
    assert.ok(rpc.slot() > BigInt(slots[slots.length - 1] as number), 'the next transaction lands in a later slot');
    assert.equal(await connection.getSlot(), Number(rpc.slot()));
  });

  it('lists signatures for an address newest first with Solana-formatted memos, honouring limit/before/until', async () => {
    const all = await connection.getSignaturesForAddress(source);
    const createSig = sentSignatures[0];
    assert.deepEqual(all.map((s) => s.signature), [transferSig, sentSignatures[2], createSig]);
    const top = all[0];
    assert.ok(top);
    assert.equal(top.memo, `[${Buffer.byteLength(MEMO, 'utf8')}] ${MEMO}`);
    assert.equal(top.err, null);
    assert.equal(top.confirmationStatus, 'finalized');
    assert.ok(typeof top.blockTime === 'number' && Math.abs(top.blockTime - Date.now() / 1000) < 120, `blockTime ${top.blockTime} follows the wall clock`);
    assert.equal(all[1]?.memo, null);
    const limited = await connection.getSignaturesForAddress(source, { limit: 1 });
    assert.deepEqual(limited.map((s) => s.signature), [transferSig]);
    const older = await connection.getSignaturesForAddress(source, { before: transferSig });
    assert.deepEqual(older.map((s) => s.signature), [sentSignatures[2], createSig]);
    const newer = await connection.getSignaturesForAddress(source, { until: createSig });
    assert.deepEqual(newer.map((s) => s.signature), [transferSig, sentSignatures[2]]);
  });

  it('returns the transaction with pre/post token balances, fee, logs', async () => {
    const tx = await connection.getTransaction(transferSig, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
    assert.ok(tx?.meta);
    const { meta } = tx;
    const keys = tx.transaction.message.staticAccountKeys.map((k) => k.toBase58());
    const idxSrc = keys.indexOf(source.toBase58());
    const idxDst = keys.indexOf(destination.toBase58());
    const amount = (list: typeof meta.preTokenBalances, i: number): string | undefined => list?.find((b) => b.accountIndex === i)?.uiTokenAmount.amount;
    assert.equal(amount(meta.preTokenBalances, idxSrc), MINTED.toString());
    assert.equal(amount(meta.preTokenBalances, idxDst), '0');
    assert.equal(amount(meta.postTokenBalances, idxSrc), (MINTED - SENT).toString());
    assert.equal(amount(meta.postTokenBalances, idxDst), SENT.toString());
    const srcBal = meta.postTokenBalances?.find((b) => b.accountIndex === idxSrc);
    assert.equal(srcBal?.mint, mint.toBase58());
    assert.equal(srcBal?.owner, owner.publicKey.toBase58());
    assert.equal(meta.err, null);
    // 2 signatures x 5000 + ceil(50_000 CU x 10_000 micro-lamports / 1e6) = 10_000 + 500
    const expectedFee = 2 * 5000 + Number((50_000n * PRICE_MICRO_LAMPORTS + 999_999n) / 1_000_000n);
    assert.equal(meta.fee, expectedFee);
    assert.equal(payerLamportsBeforeTransfer - (await connection.getBalance(payer.publicKey)), expectedFee, 'the payer paid exactly the reported fee');
    assert.ok(meta.logMessages?.some((l) => l.includes('Program log: Memo')), meta.logMessages?.join('\n'));
    assert.ok(meta.logMessages?.some((l) => l.startsWith('Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke')), meta.logMessages?.join('\n'));
    const statuses = await connection.getSignatureStatuses([transferSig]);
    assert.equal(tx.slot, statuses.value[0]?.slot);
    assert.equal(await connection.getTransaction('1'.repeat(64), { maxSupportedTransactionVersion: 0 }), null);
  });

  it('reads several accounts in one call with the context slot, null for a missing one', async () => {
    const missing = Keypair.generate().publicKey;
    const res = await connection.getMultipleAccountsInfoAndContext([mint, source, missing]);
    assert.equal(res.context.slot, Number(rpc.slot()));
    assert.equal(res.value.length, 3);
    assert.equal(res.value[2], null);
    const src = res.value[1];
    assert.ok(src);
    assert.equal(src.owner.toBase58(), 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
    assert.equal(unpackAccount(source, src).amount, MINTED - SENT);
    assert.equal(res.value[0]?.data.length, 82);
    const one = await connection.getAccountInfo(source);
    assert.deepEqual(one?.data, src.data);
  });

  it('simulates an overdraft: err + logs, no state change', async () => {
    const slotBefore = rpc.slot();
    const tx = await v0Tx(overdraftIxs(), [payer, owner]);
    const sim = await connection.simulateTransaction(tx, { sigVerify: false, replaceRecentBlockhash: true });
    assert.deepEqual(sim.value.err, { InstructionError: [1, { Custom: 1 }] }, 'spl-token InsufficientFunds = custom error 1');
    assert.ok(sim.value.logs?.some((l) => /insufficient funds/i.test(l)), sim.value.logs?.join('\n'));
    assert.equal(await tokenAmount(source), MINTED - SENT);
    assert.equal(rpc.slot(), slotBefore);
    const ok = await connection.simulateTransaction(await v0Tx([createMemoInstruction('sim only')], [payer]));
    assert.equal(ok.value.err, null);
    assert.ok((ok.value.unitsConsumed ?? 0) > 0);
    assert.equal(rpc.slot(), slotBefore, 'a simulation takes no slot');
  });

  it('rejects a sent overdraft with SendTransactionError carrying the logs, leaving state unchanged', async () => {
    const slotBefore = rpc.slot();
    const lamportsBefore = await connection.getBalance(payer.publicKey);
    const tx = await v0Tx(overdraftIxs(), [payer, owner]);
    await assert.rejects(connection.sendTransaction(tx), (e: unknown) => {
      assert.ok(e instanceof SendTransactionError, String(e));
      assert.match(e.message, /custom program error: 0x1/);
      assert.ok(e.logs?.some((l) => /insufficient funds/i.test(l)), String(e.logs));
      return true;
    });
    assert.equal(await tokenAmount(source), MINTED - SENT);
    assert.equal(await connection.getBalance(payer.publicKey), lamportsBefore, 'a failed preflight charges no fee');
    assert.equal(rpc.slot(), slotBefore);
  });

  it('lands a failing transaction sent with skipPreflight: fee charged, err recorded, tokens unchanged', async () => {
    const slotBefore = rpc.slot();
    const lamportsBefore = await connection.getBalance(payer.publicKey);
    const ixs = overdraftIxs();
    ixs[0] = ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 2 });
    const sig = await connection.sendTransaction(await v0Tx(ixs, [payer, owner]), { skipPreflight: true });
    const st = (await connection.getSignatureStatuses([sig])).value[0];
    assert.deepEqual(st?.err, { InstructionError: [1, { Custom: 1 }] });
    assert.equal(st?.slot, Number(slotBefore));
    assert.equal(rpc.slot(), slotBefore + 1n);
    const tx = await connection.getTransaction(sig, { maxSupportedTransactionVersion: 0 });
    assert.equal(tx?.version, 0);
    assert.deepEqual(tx?.meta?.err, { InstructionError: [1, { Custom: 1 }] });
    assert.equal(lamportsBefore - (await connection.getBalance(payer.publicKey)), tx?.meta?.fee);
    assert.equal(await tokenAmount(source), MINTED - SENT);
    const [latest] = await connection.getSignaturesForAddress(source, { limit: 1 });
    assert.equal(latest?.signature, sig);
    assert.deepEqual(latest?.err, { InstructionError: [1, { Custom: 1 }] });
  });

  it('serves a fresh blockhash per getLatestBlockhash, so web3.js can send the same legacy instructions twice', async () => {
    // web3.js will not send a legacy Transaction whose signature it already sent under its cached blockhash: it
    // polls getLatestBlockhash for a new one and gives up after ~10 s if the blockhash never changes.
    const before = await tokenAmount(source);
    const t0 = performance.now();
    await mintTo(connection, payer, mint, source, payer, 1n);
    await mintTo(connection, payer, mint, source, payer, 1n);
    const tx = new Transaction().add(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 }), createMemoInstruction('sim then send'));
    assert.equal((await connection.simulateTransaction(tx, [payer])).value.err, null);
    const sig = await connection.sendTransaction(tx, [payer]);
    assert.ok(performance.now() - t0 < 3000, `two identical mints + simulate/send took ${performance.now() - t0} ms`);
    assert.equal(await tokenAmount(source), before + 2n);
    assert.equal((await connection.getSignatureStatuses([sig])).value[0]?.err, null);
    const a = await connection.getLatestBlockhash();
    const b = await connection.getLatestBlockhash();
    assert.notEqual(a.blockhash, b.blockhash);
    assert.equal((await connection.isBlockhashValid(a.blockhash)).value, true, 'an earlier blockhash stays valid for 150 slots');
  });

  it('rejects resent identical bytes (AlreadyProcessed) and an unknown blockhash (BlockhashNotFound)', async () => {
    const tx = await v0Tx([createMemoInstruction('once')], [payer]);
    await connection.sendTransaction(tx);
    await assert.rejects(connection.sendTransaction(tx), (e: unknown) => e instanceof SendTransactionError && /already been processed/.test(e.message));
    await assert.rejects(connection.sendTransaction(tx, { skipPreflight: true }), (e: unknown) => e instanceof SendTransactionError && /already been processed/.test(e.message));
    const msg = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: Keypair.generate().publicKey.toBase58(), instructions: [createMemoInstruction('stale')] }).compileToV0Message();
    const stale = new VersionedTransaction(msg);
    stale.sign([payer]);
    await assert.rejects(connection.sendTransaction(stale), (e: unknown) => e instanceof SendTransactionError && /Blockhash not found/.test(e.message));
    const sim = await connection.simulateTransaction(stale);
    assert.equal(sim.value.err, 'BlockhashNotFound');
    const replaced = await connection.simulateTransaction(stale, { sigVerify: false, replaceRecentBlockhash: true });
    assert.equal(replaced.value.err, null);
  });

  it('airdrops the same amount twice (LiteSVM airdrop txs are deterministic)', async () => {
    const kp = Keypair.generate();
    for (let i = 0; i < 2; i++) {
      const sig = await connection.requestAirdrop(kp.publicKey, LAMPORTS_PER_SOL);
      await connection.confirmTransaction({ signature: sig, ...(await connection.getLatestBlockhash()) });
    }
    assert.equal(await connection.getBalance(kp.publicKey), 2 * LAMPORTS_PER_SOL);
  });

  it('answers JSON-RPC errors: unknown method -32601, bad params -32602, batches', async () => {
    const unknown = (await rawRpc(rpc.url, { jsonrpc: '2.0', id: 7, method: 'getBlockProduction', params: [] })) as { id: number; error: { code: number; message: string } };
    assert.equal(unknown.id, 7);
    assert.equal(unknown.error.code, -32601);
    assert.match(unknown.error.message, /getBlockProduction/);
    const bad = (await rawRpc(rpc.url, { jsonrpc: '2.0', id: 8, method: 'getAccountInfo', params: ['not-a-key'] })) as { error: { code: number; message: string } };
    assert.equal(bad.error.code, -32602);
    assert.match(bad.error.message, /not-a-key/);
    const batch = (await rawRpc(rpc.url, [
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', id: 2, method: 'getHealth' },
      { jsonrpc: '2.0', id: 3, method: 'nope' },
    ])) as Array<{ id: number; result?: unknown; error?: { code: number } }>;
    assert.deepEqual(batch.map((r) => r.id), [1, 2, 3]);
    assert.equal(batch[0]?.result, Number(rpc.slot()));
    assert.equal(batch[1]?.result, 'ok');
    assert.equal(batch[2]?.error?.code, -32601);
  });

  it('sets an account through ballastDevnet_setAccount (devnet only) and reads it back', async () => {
    const key = Keypair.generate().publicKey;
    const data = Buffer.from('pyth-like price bytes');
    const progOwner = new PublicKey('rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ');
    const res = (await rawRpc(rpc.url, { jsonrpc: '2.0', id: 1, method: 'ballastDevnet_setAccount', params: [key.toBase58(), { lamports: 1_000_000, data: [data.toString('base64'), 'base64'], owner: progOwner.toBase58() }] })) as { error?: unknown };
    assert.equal(res.error, undefined);
    const info = await connection.getAccountInfo(key);
    assert.ok(info);
    assert.deepEqual(info.data, data);
    assert.ok(info.owner.equals(progOwner));
    assert.equal(info.lamports, 1_000_000);
    assert.deepEqual(Buffer.from(rpc.getAccountData(key.toBase58()) ?? []), data);
    rpc.setAccount(key.toBase58(), { lamports: 5n, data: new Uint8Array([1, 2, 3]), owner: progOwner.toBase58() });
    assert.deepEqual((await connection.getAccountInfo(key))?.data, Buffer.from([1, 2, 3]));
  });

  it('answers the chain-info methods web3.js uses', async () => {
    assert.equal(await connection.getBlockHeight(), Number(rpc.slot()));
    assert.ok((await connection.getMinimumBalanceForRentExemption(165)) > 0);
    const version = await connection.getVersion();
    assert.equal(typeof version['solana-core'], 'string');
    assert.equal((await connection.getEpochInfo()).absoluteSlot, Number(rpc.slot()));
    assert.equal(typeof (await connection.getGenesisHash()), 'string');
    const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [source] });
    assert.ok(fees.some((f) => f.prioritizationFee === Number(PRICE_MICRO_LAMPORTS)), JSON.stringify(fees));
    const msg = (await v0Tx([ComputeBudgetProgram.setComputeUnitLimit({ units: 10_000 }), ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 }), createMemoInstruction('fee')], [payer])).message;
    assert.equal((await connection.getFeeForMessage(msg)).value, 5000 + 10_000);
  });
});
