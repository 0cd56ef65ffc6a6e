/**
 * The rebalance saga between an EVM chain and Solana, over Wormhole, on real parts: Temporal dev server, two
 * anvil chains with Wormhole's core contracts and the WormholeAdapter, the devnet guardian, the devnet Solana
 * chain (LiteSVM JSON-RPC: SPL mint, reserve liquidity, keeper treasury, Wormhole custody and its redeem
 * service) and the keeper worker with its devnet Solana key. Every case checks where every base unit went:
 * the EVM vaults and routes, the Solana reserve liquidity and treasury, the saga's ledger, and the deployment's
 * conservation Σ EVM totalSupply + (Solana mint supply − custody balance).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, erc20Abi, http, keccak256, toHex, type Hex } from 'viem';
import fs from 'node:fs';
import path from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { PublicKey } from '@solana/web3.js';
import { unpackMint } from '@solana/spl-token';
import { startHarness, type Harness } from './harness.js';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import { nonZero } from '../../ledger/ledger.js';
import { awaitDelivery, depositToVault, sendOverBridge, withdrawFromVault } from '../../activities/legs.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { devnetSolanaKeypair } from '../../devnet/solanaDevnet.js';

const AMOUNT = 40_000n * 10n ** 6n; // 40,000 tokens (6 decimals)
/** A base58 Solana transaction signature (64 bytes: 86–88 base58 characters). */
const SOLANA_SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{86,88}$/;

describe('rebalanceWorkflow between EVM and Solana over Wormhole (custody + devnet guardian + Temporal)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ solana: true });
  });
  after(async () => {
    await h?.stop();
  });

  const sol = () => {
    const s = h.devnet.solana;
    if (!s) throw new Error('the harness did not start the Solana chain');
    return s;
  };
  const idFor = (name: string): Hex => keccak256(toHex(`sol:${name}:${process.pid}:${Date.now()}`));
  const input = (name: string, over: Partial<RebalanceInput> = {}): RebalanceInput => ({
    rebalanceId: idFor(name),
    from: 'alpha',
    to: 'solana',
    amount: AMOUNT,
    reason: `test: ${name}`,
    deliveryDeadlineSec: 60,
    bridge: 'wormhole',
    ...over,
  });
  const execute = (i: RebalanceInput, workflowId: string = i.rebalanceId): Promise<RebalanceResult> =>
    h.client.workflow.execute('rebalanceWorkflow', { taskQueue: h.taskQueue, workflowId, args: [i] });

  /** An SPL token account's balance, base units, read like any client would (web3.js `getTokenAccountBalance`). */
  const tokenBalance = async (account: string): Promise<bigint> => BigInt((await sol().connection.getTokenAccountBalance(new PublicKey(account), 'confirmed')).value.amount);

  /** Every balance the saga can touch, and the deployment's circulating supply. */
  const snapshot = async () => {
    const s = sol();
    const evm = await h.balances();
    const [reserve, treasury, custody] = await Promise.all([tokenBalance(s.accounts.reserveLiquidity), tokenBalance(s.accounts.treasury), tokenBalance(s.accounts.custody)]);
    const mintInfo = await s.connection.getAccountInfo(new PublicKey(s.accounts.mint), 'confirmed');
    if (!mintInfo) throw new Error(`mint ${s.accounts.mint} not found`);
    const mintSupply = unpackMint(new PublicKey(s.accounts.mint), mintInfo).supply;
    let evmSupply = 0n;
    for (const c of Object.values(h.devnet.deployment.chains)) {
      const pc = createPublicClient({ transport: http(c.rpcUrl) });
      evmSupply += await pc.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'totalSupply' });
    }
    return {
      vaults: evm.vaults,
      routes: evm.routes,
      reserve,
      treasury,
      custody,
      mintSupply,
      /** Σ EVM totalSupply + Solana supply outside the custody (lock-and-release there, burn-and-mint on EVM). */
      circulating: evmSupply + (mintSupply - custody),
    };
  };
  type Snap = Awaited<ReturnType<typeof snapshot>>;

  /** Conservation and the untouched accounts: routes and treasury end empty-handed (as they started), supply unchanged. */
  const assertConserved = (b: Snap, a: Snap) => {
    assert.equal(a.circulating, b.circulating, 'Σ EVM totalSupply + (Solana mint supply − custody) unchanged to the base unit');
    assert.equal(a.mintSupply, b.mintSupply, 'no SPL tokens minted or burned (lock-and-release on Solana)');
    assert.deepEqual(a.routes, b.routes, 'EVM routes hold what they held before');
    assert.equal(a.treasury, b.treasury, 'the Solana treasury holds what it held before');
  };

  test('EVM → Solana: withdrawn, burned, VAA redeemed by the custody, deposited into the reserve; balances, ledger and supply exact', async () => {
    const b = await snapshot();
    const r = await execute(input('evm-to-solana'));
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(r.legs.map((l) => `${l.leg}:${l.status}`), ['withdraw:ok', 'send:ok', 'deliver:ok', 'deposit:ok']);
    assert.match(r.legs[0]!.txHash ?? '', /^0x[0-9a-f]{64}$/, 'the withdraw is an EVM transaction');
    assert.match(r.legs[2]!.txHash ?? '', SOLANA_SIGNATURE, 'the deliver leg is the custody release on Solana');
    assert.match(r.legs[3]!.txHash ?? '', SOLANA_SIGNATURE, 'the deposit is a Solana transaction');
    assert.deepEqual(nonZero(r.ledger.balances), { 'vault:solana': AMOUNT });
    assert.equal(r.ledgerMismatch, undefined);
    const a = await snapshot();
    assert.equal(a.vaults.alpha, b.vaults.alpha! - AMOUNT, 'the EVM vault is down by the amount');
    assert.equal(a.vaults.beta, b.vaults.beta, 'the other EVM vault is untouched');
    assert.equal(a.reserve, b.reserve + AMOUNT, 'the Solana reserve liquidity is up by the amount');
    assert.equal(a.custody, b.custody - AMOUNT, 'the custody released the amount');
    assertConserved(b, a);
    const tx = await sol().connection.getTransaction(r.legs[2]!.txHash!, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    assert.ok(tx, 'the deliver signature is a transaction on the Solana chain');
    assert.equal(tx.meta?.err, null);
    const metrics = await h.keeper.metrics.registry.metrics();
    assert.match(metrics, /ballast_rebalances_total\{kind="collateral",route="alpha->solana",bridge="wormhole",outcome="completed"\} 1/);
  });

  test('Solana → EVM: withdrawn from the reserve, locked in custody, VAA redeemed on the EVM adapter, deposited; balances, ledger and supply exact', async () => {
    const b = await snapshot();
    const r = await execute(input('solana-to-evm', { from: 'solana', to: 'beta' }));
    assert.equal(r.outcome, 'completed', r.reason);
    assert.deepEqual(r.legs.map((l) => `${l.leg}:${l.status}`), ['withdraw:ok', 'send:ok', 'deliver:ok', 'deposit:ok']);
    assert.match(r.legs[0]!.txHash ?? '', SOLANA_SIGNATURE, 'the withdraw is a Solana transaction');
    assert.match(r.legs[1]!.txHash ?? '', SOLANA_SIGNATURE, 'the send is the transfer into custody');
    assert.match(r.legs[2]!.txHash ?? '', /^0x[0-9a-f]{64}$/, 'the keeper submitted the VAA to the EVM adapter itself');
    assert.deepEqual(nonZero(r.ledger.balances), { 'vault:beta': AMOUNT });
    assert.equal(r.ledgerMismatch, undefined);
    const a = await snapshot();
    assert.equal(a.reserve, b.reserve - AMOUNT, 'the Solana reserve liquidity is down by the amount');
    assert.equal(a.custody, b.custody + AMOUNT, 'the custody locked the amount');
    assert.equal(a.vaults.beta, b.vaults.beta! + AMOUNT, 'the EVM vault is up by the amount');
    assert.equal(a.vaults.alpha, b.vaults.alpha, 'the other EVM vault is untouched');
    assertConserved(b, a);
  });

  test('Solana → EVM with the EVM deposit reverting (inflow paused) → returned over Wormhole, released by the custody, redeposited into the reserve', async () => {
    await h.admin.setKeeperFlowsPaused('beta', false, true);
    try {
      const b = await snapshot();
      const r = await execute(input('deposit-reverts', { from: 'solana', to: 'beta' }));
      assert.equal(r.outcome, 'compensated', r.reason);
      assert.match(r.reason ?? '', /InflowPaused/);
      assert.deepEqual(
        r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`),
        ['leg:withdraw:ok', 'leg:send:ok', 'leg:deliver:ok', 'leg:deposit:failed', 'compensation:return:ok', 'compensation:return-deliver:ok', 'compensation:return-deposit:ok'],
      );
      assert.match(r.legs[5]!.txHash ?? '', SOLANA_SIGNATURE, 'the return was released by the custody on Solana');
      assert.match(r.legs[6]!.txHash ?? '', SOLANA_SIGNATURE, 'the return-deposit is a Solana transaction');
      assert.deepEqual(nonZero(r.ledger.balances), { 'vault:solana': AMOUNT }, 'the ledger shows the funds back in the Solana reserve');
      assert.equal(r.ledgerMismatch, undefined);
      const a = await snapshot();
      assert.deepEqual(a, b, 'every balance (vaults, routes, reserve, treasury, custody, supplies) back exactly');
      assertConserved(b, a);
    } finally {
      await h.admin.setKeeperFlowsPaused('beta', false, false);
    }
  });

  test('a Solana withdraw above the reserve liquidity fails in simulation: nothing moves, the saga ends with the funds in the reserve', async () => {
    const b = await snapshot();
    const tooMuch = b.reserve + 1n;
    const r = await execute(input('withdraw-too-much', { from: 'solana', to: 'alpha', amount: tooMuch }));
    assert.equal(r.outcome, 'compensated', r.reason);
    assert.deepEqual(r.legs.map((l) => `${l.kind}:${l.leg}:${l.status}`), ['leg:withdraw:failed']);
    assert.match(r.legs[0]!.error ?? '', /^solana: .*simulation failed, not sent: .*InsufficientFunds/, 'refused in simulation, before anything was sent');
    assert.deepEqual(nonZero(r.ledger.balances), { 'vault:solana': tooMuch });
    assert.equal(r.ledgerMismatch, undefined);
    assert.deepEqual(await snapshot(), b, 'no balance moved');
  });

  test('the same rebalance id again: every leg re-run finds its write done (alreadyDone), and a second saga refuses at its opening audit; nothing moves twice', async () => {
    const i = input('idempotent', { from: 'solana', to: 'alpha' });
    const b = await snapshot();
    const first = await execute(i, `${i.rebalanceId}-1`);
    assert.equal(first.outcome, 'completed', first.reason);
    assert.deepEqual(first.legs.map((l) => l.alreadyDone ?? false), [false, false, false, false]);
    const mid = await snapshot();
    assert.equal(mid.reserve, b.reserve - AMOUNT);
    assert.equal(mid.vaults.alpha, b.vaults.alpha! + AMOUNT);

    // Each leg run again, as an activity retry after a lost answer would: the keeper's own leg code on a
    // context built from the same config and keys.
    const ctx = buildKeeperContext(h.devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), createLogger('ballast-test-legs', fs.createWriteStream(path.join(h.workDir, 'legs.log')) as never), devnetSolanaKeypair('keeper'));
    const base = { rebalanceId: i.rebalanceId, purpose: 'forward' as const, amount: AMOUNT };
    const w = await withdrawFromVault(ctx, { ...base, chainKey: 'solana' });
    assert.equal(w.alreadyDone, true, 'the withdraw memo was found');
    assert.equal(w.txHash, undefined);
    const s = await sendOverBridge(ctx, { ...base, from: 'solana', to: 'alpha', bridge: 'wormhole' });
    assert.equal(s.alreadyDone, true, 'the send memo was found');
    assert.equal(s.guid, first.guid, 'the same Wormhole message (custody emitter, slot of the original send)');
    assert.equal(s.nonce, first.nonce);
    const d = await awaitDelivery(ctx, { from: 'solana', to: 'alpha', guid: s.guid, nonce: s.nonce, bridge: 'wormhole', key: s.legKey });
    assert.equal(d.txHash, undefined, 'the adapter already records the message: no second receiveMessage');
    const dep = await depositToVault(ctx, { ...base, chainKey: 'alpha' });
    assert.equal(dep.alreadyDone, true, 'the vault records the inflow');
    assert.deepEqual(await snapshot(), mid, 'the re-run legs moved nothing');

    // A second saga (new workflow id, same rebalance id) opens a fresh ledger (all in the Solana reserve) that
    // the chains contradict: it stops before its first leg.
    const second = await execute(i, `${i.rebalanceId}-2`);
    assert.equal(second.outcome, 'stranded', second.reason);
    assert.deepEqual(second.legs, [], 'no leg ran');
    assert.match(second.ledgerMismatch ?? '', /ledger mismatch after open: .*vault:alpha expected 0 observed 40000000000/);
    assert.deepEqual(await snapshot(), mid, 'the second saga moved nothing');
  });
});
