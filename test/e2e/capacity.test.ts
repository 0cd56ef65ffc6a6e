/**
 * Capacity moves (lending capacity as credit, no tokens) on a real two-chain devnet (`startDevnet`:
 * anvil chains, LayerZero EndpointV2 + SimpleMessageLib, CreditMessenger OApps, the devnet relayer):
 * the capacity activities run against the chains, the capacity ledger is reconciled with the chain
 * after every step, and Σ borrowLimit (+ credit in flight) is conserved through a completed move, a
 * compensated one and a misbehaving keeper's orphaned message. The contracts' refusals are checked
 * by simulation and on chain.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createPublicClient, createWalletClient, http, keccak256, pad, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ballastTokenAbi, collateralVaultAbi, creditMessengerAbi } from '../../contracts/generated/abis.js';
import { compileContracts } from '../../contracts/compile.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { DEFAULT_INITIAL_LIQUIDITY } from '../../devnet/deploy.js';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import type { KeeperContext } from '../../activities/context.js';
import type { SendResult } from '../../activities/types.js';
import { applyCredit, awaitCreditDelivery, capacityKey, locateCredit, quoteCreditFee, redeemCreditVaa, reserveCredit, restoreCredit, sendCredit, sendCreditWormhole, type WormholeCreditSendResult } from '../../activities/capacity.js';
import { checkCapacityLedger, observeCapacityFunds } from '../../activities/capacityLedger.js';
import { readCreditLines, readCreditSend, readCreditState, readPendingCredit, readReservation } from '../../chains/evm/credit.js';
import { checkBalanced, describeMismatches, inflightAccount, nonZero, post, postedDeliveries, reconcile, type Ledger } from '../../ledger/ledger.js';
import { deriveCapacityFromChain, limitAccount, openCapacityLedger, pendingAccount, reservedAccount } from '../../ledger/credit.js';
import { expectRevert, mined } from './devnetFixture.js';

const UNIT = 10n ** 6n;
const L = DEFAULT_INITIAL_LIQUIDITY; // each vault's borrowLimit at deploy
const CHAINS = [
  { key: 'a', chainId: 31337, eid: 40101 },
  { key: 'b', chainId: 31338, eid: 40102 },
  { key: 'c', chainId: 31339, eid: 40103 },
];
const id = (label: string): Hex => keccak256(toHex(`capacity.test:${process.pid}:${label}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The failure an activity threw: a non-retryable ContractRevert naming the decoded custom error. */
async function contractRevert(p: Promise<unknown>, errorName: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, 'ContractRevert');
    assert.equal(err.nonRetryable, true);
    assert.equal((err.details?.[0] as { errorName?: string }).errorName, errorName, err.message);
    return true;
  });
}

describe('capacity moves over LayerZero and Wormhole on a 3-chain devnet', { timeout: 240_000 }, () => {
  let devnet: Devnet;
  let ctx: KeeperContext;
  let opening: bigint;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-capacity-'));
  const logs: string[] = [];

  const chain = (key: string) => {
    const c = devnet.deployment.chains[key]!;
    const transport = http(c.rpcUrl);
    const wallet = (k: Hex) => createWalletClient({ account: privateKeyToAccount(k), transport, chain: ctx.chains.get(key)!.clients.chain, pollingInterval: 20 });
    return { c, pub: createPublicClient({ transport, chain: ctx.chains.get(key)!.clients.chain, pollingInterval: 20 }), deployer: wallet(DEVNET_ACCOUNTS.deployer), keeper: wallet(DEVNET_ACCOUNTS.keeper), market: wallet(DEVNET_ACCOUNTS.market) };
  };
  const limitOf = (key: string) => chain(key).pub.readContract({ address: chain(key).c.contracts.vault, abi: collateralVaultAbi, functionName: 'borrowLimit' });

  /** Retries the delivery check (retryable `DeliveryPending`) as the workflow's retry policy would. */
  async function delivered(from: string, to: string, s: SendResult) {
    for (const deadline = Date.now() + 30_000; ; ) {
      try {
        return await awaitCreditDelivery(ctx, { from, to, guid: s.guid, nonce: s.nonce });
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.type === 'DeliveryPending') || Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  /** The guardian-signed VAA of a Wormhole message, polled from the devnet guardian's REST API. */
  async function fetchVaa(s: WormholeCreditSendResult): Promise<Hex> {
    const url = `${devnet.guardianUrl}/v1/signed_vaa/${s.emitterChain}/${pad(s.emitter).slice(2)}/${s.sequence}`;
    for (const deadline = Date.now() + 30_000; ; ) {
      const res = await fetch(url);
      if (res.status === 200) return toHex(Buffer.from(((await res.json()) as { vaaBytes: string }).vaaBytes, 'base64'));
      assert.equal(res.status, 404, `guardian answered ${res.status} for ${url}`);
      if (Date.now() > deadline) assert.fail(`no VAA at ${url} within 30 s`);
      await sleep(100);
    }
  }

  /**
   * Posts `entry` and reconciles the capacity ledger with the chains, as the saga does after each step:
   * never at a block older than one a leg reached (`seen`), retrying a stale read.
   */
  const minBlocks: Record<string, Record<string, bigint>> = {};
  async function step(ledger: Ledger, rebalanceId: Hex, from: string, to: string, entry: { step: string; from: string; to: string; amount: bigint }, seen: [string, bigint]): Promise<Ledger> {
    const next = post(ledger, entry);
    assert.ok(checkBalanced(next).balanced, `${entry.step}: ledger balanced`);
    const mb = (minBlocks[rebalanceId] ??= {});
    if (mb[seen[0]] === undefined || seen[1] > mb[seen[0]]!) mb[seen[0]] = seen[1];
    let observed: Awaited<ReturnType<typeof observeCapacityFunds>> | undefined;
    for (let i = 0; !observed; i++) {
      try {
        observed = await observeCapacityFunds(ctx, { rebalanceId, from, to, amount: next.opening, minBlocks: mb });
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.type === 'StaleRead') || i > 50) throw err;
        await sleep(100);
      }
    }
    const { facts } = observed;
    const ms = reconcile(next.balances, deriveCapacityFromChain(facts, { postedDeliveries: postedDeliveries(next) }));
    assert.deepEqual(ms, [], `${entry.step}: ledger vs chain: ${describeMismatches(ms)}`);
    return next;
  }

  before(async () => {
    await compileContracts({ log: () => {} });
    devnet = await startDevnet({ chains: CHAINS, workDir, temporalAddress: '127.0.0.1:7233', relayerPollMs: 100 });
    const log = createLogger('capacity-test', { write: (s: string) => void logs.push(s) });
    ctx = buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), log);
    opening = (await checkCapacityLedger(ctx)).total;
  });
  after(async () => {
    await devnet?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('deploy gives every vault its liquidity as borrowLimit and wires the credit messengers as LayerZero peers', async () => {
    assert.equal(opening, 3n * L);
    for (const [self, other] of [['a', 'b'], ['b', 'a']] as const) {
      const { c, pub } = chain(self);
      const o = devnet.deployment.chains[other]!;
      const m = c.contracts.creditMessenger;
      assert.equal(await limitOf(self), L);
      assert.equal(await pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'creditMessenger' }), m);
      assert.equal(await pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'vault' }), c.contracts.vault);
      assert.equal(await pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'peers', args: [o.eid] }), pad(o.contracts.creditMessenger).toLowerCase());
      assert.equal(await pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'isKeeper', args: [devnet.deployment.accounts.keeper] }), true);
      const [maxOut, windowSec] = await pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'creditCap' });
      assert.deepEqual([maxOut, windowSec], [L / 2n, 3600n]);
    }
    assert.ok((await quoteCreditFee(ctx, { from: 'a', to: 'b' })) > 0n, 'a LayerZero fee is quoted for a capacity message');
  });

  test('a→b: reserve, send over LayerZero, the relayer delivers, apply raises b’s limit by exactly the amount; lines, ledger and Σ agree', async () => {
    const rebalanceId = id('forward');
    const X = 1_234_567n * UNIT;
    const [a0, b0] = [await limitOf('a'), await limitOf('b')];
    let ledger = openCapacityLedger('a', X);

    const r = await reserveCredit(ctx, { rebalanceId, chainKey: 'a', amount: X });
    assert.equal(r.alreadyDone, false);
    assert.equal(await limitOf('a'), a0 - X);
    assert.deepEqual(await readReservation(ctx.chains.get('a')!.clients, chain('a').c.contracts.vault, rebalanceId), { amount: X, status: 'reserved' });
    ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: X }, ['a', r.blockNumber]);
    assert.equal((await reserveCredit(ctx, { rebalanceId, chainKey: 'a', amount: X })).alreadyDone, true, 'a retried reserve is already done');

    const s = await sendCredit(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'b', amount: X });
    assert.equal(s.alreadyDone, false);
    assert.ok(s.nativeFeeWei > 0n);
    ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'send', from: reservedAccount('a'), to: inflightAccount(s.guid), amount: X }, ['a', s.blockNumber]);
    const again = await sendCredit(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'b', amount: X });
    assert.deepEqual([again.alreadyDone, again.guid, again.nonce], [true, s.guid, s.nonce], 'a retried send finds the same message');

    const d = await delivered('a', 'b', s);
    const relayed = await devnet.relayer.waitForDelivery(s.guid, 10_000);
    assert.equal(relayed.dstEid, devnet.deployment.chains.b!.eid, 'the devnet relayer delivered the OApp message');
    assert.equal(d.txHash, relayed.txHash, 'the delivery tx is found by PacketDelivered');
    const pending = await readPendingCredit(ctx.chains.get('b')!.clients, chain('b').c.contracts.creditMessenger, rebalanceId);
    assert.deepEqual(pending, { amount: X, srcEid: devnet.deployment.chains.a!.eid, status: 'pending', guid: s.guid });
    assert.equal(await limitOf('b'), b0, 'delivery alone does not raise the limit');
    ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'deliver', from: inflightAccount(s.guid), to: pendingAccount('b'), amount: X }, ['b', d.deliveredAtBlock]);

    const ap = await applyCredit(ctx, { rebalanceId, purpose: 'forward', chainKey: 'b' });
    assert.equal(ap.alreadyDone, false);
    assert.equal(await limitOf('b'), b0 + X, 'b’s limit rises by exactly the amount');
    assert.equal(await limitOf('a'), a0 - X, 'a’s limit stays lowered by the amount');
    ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'apply', from: pendingAccount('b'), to: limitAccount('b'), amount: X }, ['b', ap.blockNumber]);
    assert.equal((await applyCredit(ctx, { rebalanceId, purpose: 'forward', chainKey: 'b' })).alreadyDone, true, 'a retried apply is already done');
    assert.deepEqual(nonZero(ledger.balances), { [limitAccount('b')]: X }, 'the ledger ends with the whole amount in b’s limit');

    const [lineA] = await readCreditLines({ clients: ctx.chains.get('a')!.clients, multicall3: chain('a').c.contracts.multicall3, vault: chain('a').c.contracts.vault, remoteEids: [devnet.deployment.chains.b!.eid] });
    const [lineB] = await readCreditLines({ clients: ctx.chains.get('b')!.clients, multicall3: chain('b').c.contracts.multicall3, vault: chain('b').c.contracts.vault, remoteEids: [devnet.deployment.chains.a!.eid] });
    assert.deepEqual(lineA, { remoteEid: devnet.deployment.chains.b!.eid, sent: X, received: 0n, net: -X });
    assert.deepEqual(lineB, { remoteEid: devnet.deployment.chains.a!.eid, sent: 0n, received: X, net: X });

    const where = await locateCredit(ctx, { rebalanceId, from: 'a', to: 'b' });
    assert.match(where.summary, /a reservation sent .*delivered, applied on b; b applied 1234567000000/);
    const total = await checkCapacityLedger(ctx, { openingCapacity: opening });
    assert.equal(total.balanced, true, total.where);
    assert.equal(total.borrowLimits, opening, 'nothing in flight: Σ borrowLimit alone equals the opening');
  });

  test('the contracts refuse: a reused key, a non-keeper, a reservation below totalBorrowed, a borrow over the limit, calls from the wrong contract', async () => {
    const { c, pub, keeper, market } = chain('a');
    const vault = c.contracts.vault;
    const messenger = c.contracts.creditMessenger;
    const key = id('refusals');
    await mined(pub, keeper.writeContract((await pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'reserveCredit', args: [key, UNIT] })).request));
    await expectRevert(pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'reserveCredit', args: [key, UNIT] }), 'RebalanceIdUsed', [key]);
    const receipt = await pub.waitForTransactionReceipt({ hash: await keeper.writeContract({ address: vault, abi: collateralVaultAbi, functionName: 'reserveCredit', args: [key, UNIT], gas: 200_000n }) });
    assert.equal(receipt.status, 'reverted', 'a reused key reverts on chain too, not only in simulation');

    const keeperRole = await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'KEEPER_ROLE' });
    await expectRevert(pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'reserveCredit', args: [id('market'), UNIT] }), 'AccessControlUnauthorizedAccount', [market.account.address, keeperRole]);
    await expectRevert(pub.simulateContract({ account: market.account, address: messenger, abi: creditMessengerAbi, functionName: 'sendCredit', args: [key, devnet.deployment.chains.b!.eid, '0x'] }), 'NotKeeper', [market.account.address]);
    await expectRevert(pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'releaseReservedCredit', args: [key, devnet.deployment.chains.b!.eid] }), 'NotCreditMessenger', [keeper.account.address]);
    await expectRevert(pub.simulateContract({ account: keeper.account, address: messenger, abi: creditMessengerAbi, functionName: 'claimPendingCredit', args: [key] }), 'NotVault', [keeper.account.address]);
    await expectRevert(pub.simulateContract({ account: keeper.account, address: messenger, abi: creditMessengerAbi, functionName: 'sendCredit', args: [key, 40999, '0x'] }), 'NoPeer', [40999]);

    // Borrow most of the spare capacity: a reservation may never take the limit below totalBorrowed.
    const state = await readCreditState({ clients: ctx.chains.get('a')!.clients, multicall3: c.contracts.multicall3, vault, messenger });
    const borrow = state.spare - 10n * UNIT;
    await mined(pub, market.writeContract((await pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'borrow', args: [borrow] })).request));
    try {
      await contractRevert(reserveCredit(ctx, { rebalanceId: id('below-borrowed'), chainKey: 'a', amount: 11n * UNIT }), 'InsufficientCredit');
      await expectRevert(pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'reserveCredit', args: [id('below-borrowed'), 11n * UNIT] }), 'InsufficientCredit', [11n * UNIT, 10n * UNIT]);
      // The vault still has idle liquidity (supplied − borrowed > 11): the limit is the bound.
      const idle = await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'idle' });
      assert.ok(idle > 11n * UNIT, `idle ${idle}`);
      await expectRevert(pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'borrow', args: [11n * UNIT] }), 'BorrowLimitExceeded', [11n * UNIT, 10n * UNIT]);
    } finally {
      await mined(pub, market.writeContract({ address: c.contracts.token, abi: ballastTokenAbi, functionName: 'approve', args: [vault, borrow] }));
      await mined(pub, market.writeContract((await pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'repay', args: [borrow] })).request));
    }

    // The keeper's own restore of that reservation (compensation of reserve) gives it back, once.
    const before = await limitOf('a');
    assert.equal((await restoreCredit(ctx, { rebalanceId: key, chainKey: 'a' })).alreadyDone, false);
    assert.equal(await limitOf('a'), before + UNIT);
    assert.equal((await restoreCredit(ctx, { rebalanceId: key, chainKey: 'a' })).alreadyDone, true);
    await contractRevert(sendCredit(ctx, { rebalanceId: key, purpose: 'forward', from: 'a', to: 'b', amount: UNIT }), 'CreditNotReserved');
    const total = await checkCapacityLedger(ctx, { openingCapacity: opening });
    assert.equal(total.balanced, true, total.where);
  });

  test('compensation: apply refused on a paused destination → the credit goes back over LayerZero and is re-applied at the source; Σ conserved', async () => {
    const rebalanceId = id('compensated');
    const X = 500_000n * UNIT;
    const b = chain('b');
    const pause = async (paused: boolean) =>
      mined(b.pub, b.deployer.writeContract((await b.pub.simulateContract({ account: b.deployer.account, address: b.c.contracts.vault, abi: collateralVaultAbi, functionName: 'setKeeperFlowsPaused', args: [false, paused] })).request));
    const [a0, b0] = [await limitOf('a'), await limitOf('b')];
    const eidA = devnet.deployment.chains.a!.eid;
    const eidB = devnet.deployment.chains.b!.eid;
    const lines = async (key: string, remote: number) => (await readCreditLines({ clients: ctx.chains.get(key)!.clients, multicall3: chain(key).c.contracts.multicall3, vault: chain(key).c.contracts.vault, remoteEids: [remote] }))[0]!;
    const [lineA0, lineB0] = [await lines('a', eidB), await lines('b', eidA)];
    await pause(true);
    try {
      let ledger = openCapacityLedger('a', X);
      const r = await reserveCredit(ctx, { rebalanceId, chainKey: 'a', amount: X });
      ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: X }, ['a', r.blockNumber]);
      const s = await sendCredit(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'b', amount: X });
      ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'send', from: reservedAccount('a'), to: inflightAccount(s.guid), amount: X }, ['a', s.blockNumber]);
      const d = await delivered('a', 'b', s);
      ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'deliver', from: inflightAccount(s.guid), to: pendingAccount('b'), amount: X }, ['b', d.deliveredAtBlock]);

      // The destination refuses: a deterministic revert; the saga compensates.
      await contractRevert(applyCredit(ctx, { rebalanceId, purpose: 'forward', chainKey: 'b' }), 'InflowPaused');
      // Restoring at the source is no longer possible once the credit left: the return path is the compensation.
      await contractRevert(restoreCredit(ctx, { rebalanceId, chainKey: 'a' }), 'CreditNotReserved');

      const back = await sendCredit(ctx, { rebalanceId, purpose: 'return', from: 'b', to: 'a', amount: X });
      assert.equal(back.legKey, capacityKey(rebalanceId, 'return'));
      assert.equal(await b.pub.readContract({ address: b.c.contracts.creditMessenger, abi: creditMessengerAbi, functionName: 'returnKeyOf', args: [rebalanceId] }), back.legKey, 'the keeper’s return key is the messenger’s');
      ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'return', from: pendingAccount('b'), to: inflightAccount(back.guid), amount: X }, ['b', back.blockNumber]);
      assert.equal((await sendCredit(ctx, { rebalanceId, purpose: 'return', from: 'b', to: 'a', amount: X })).alreadyDone, true, 'a retried return is already done');
      const rd = await delivered('b', 'a', back);
      ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'return-deliver', from: inflightAccount(back.guid), to: pendingAccount('a'), amount: X }, ['a', rd.deliveredAtBlock]);
      const ra = await applyCredit(ctx, { rebalanceId, purpose: 'return', chainKey: 'a' });
      ledger = await step(ledger, rebalanceId, 'a', 'b', { step: 'return-apply', from: pendingAccount('a'), to: limitAccount('a'), amount: X }, ['a', ra.blockNumber]);

      assert.equal(await limitOf('a'), a0, 'the source limit is whole again');
      assert.deepEqual(nonZero(ledger.balances), { [limitAccount('a')]: X }, 'the ledger ends with the whole amount back in a’s limit');
      assert.equal(await limitOf('b'), b0, 'the destination limit never moved');
      const [lineA, lineB] = [await lines('a', eidB), await lines('b', eidA)];
      assert.deepEqual([lineA.sent - lineA0.sent, lineA.received - lineA0.received], [X, X], 'a’s line with b shows the credit out and back');
      assert.deepEqual([lineB.sent, lineB.received], [lineB0.sent, lineB0.received], 'b’s vault line is untouched (the credit never entered it)');
      const total = await checkCapacityLedger(ctx, { openingCapacity: opening });
      assert.equal(total.balanced, true, total.where);
      assert.deepEqual([total.inFlight, total.pending, total.reserved], [0n, 0n, 0n]);
    } finally {
      await pause(false);
    }
  });

  test('a message for a key that already has credit here (a misbehaving keeper on two chains) is held as orphaned: the path keeps working, Σ conserved', async () => {
    // a → b and c → b under the same key K: b's messenger records the first, holds the second as orphaned.
    const K = id('orphan');
    const X = 1_000n * UNIT;
    const bM = chain('b').c.contracts.creditMessenger;
    await reserveCredit(ctx, { rebalanceId: K, chainKey: 'a', amount: X });
    await delivered('a', 'b', await sendCredit(ctx, { rebalanceId: K, purpose: 'forward', from: 'a', to: 'b', amount: X }));
    await reserveCredit(ctx, { rebalanceId: K, chainKey: 'c', amount: 2n * X });
    const second = await sendCredit(ctx, { rebalanceId: K, purpose: 'forward', from: 'c', to: 'b', amount: 2n * X });
    await delivered('c', 'b', second);
    const b = chain('b');
    assert.equal(await b.pub.readContract({ address: bM, abi: creditMessengerAbi, functionName: 'totalOrphaned' }), 2n * X);
    const orphaned = await b.pub.getContractEvents({ address: bM, abi: creditMessengerAbi, eventName: 'CreditOrphaned', fromBlock: 0n });
    assert.deepEqual(orphaned.map((e) => [e.args.key, e.args.guid, e.args.srcEid, e.args.amount]), [[K, second.guid, devnet.deployment.chains.c!.eid, 2n * X]]);
    assert.deepEqual(await readPendingCredit(ctx.chains.get('b')!.clients, bM, K), { amount: X, srcEid: devnet.deployment.chains.a!.eid, status: 'pending', guid: (await readCreditSend(ctx.chains.get('a')!.clients, chain('a').c.contracts.creditMessenger, K))!.guid }, 'the first credit under K is untouched');
    let total = await checkCapacityLedger(ctx, { openingCapacity: opening });
    assert.equal(total.balanced, true, total.where);
    assert.equal(total.orphaned, 2n * X);

    // The c → b path is not blocked: the credit under K still applies, and a new c → b move goes through.
    await applyCredit(ctx, { rebalanceId: K, purpose: 'forward', chainKey: 'b' });
    const next = id('after-orphan');
    await reserveCredit(ctx, { rebalanceId: next, chainKey: 'c', amount: X });
    await delivered('c', 'b', await sendCredit(ctx, { rebalanceId: next, purpose: 'forward', from: 'c', to: 'b', amount: X }));
    await applyCredit(ctx, { rebalanceId: next, purpose: 'forward', chainKey: 'b' });
    assert.equal((await readPendingCredit(ctx.chains.get('b')!.clients, bM, next)).status, 'applied');
    total = await checkCapacityLedger(ctx, { openingCapacity: opening });
    assert.equal(total.balanced, true, total.where);
    assert.deepEqual([total.inFlight, total.pending, total.reserved, total.orphaned], [0n, 0n, 0n, 2n * X]);
  });

  test('a→c over Wormhole: reserve, publish on the core, the guardian signs, redeem, apply; misdirected, replayed and foreign VAAs refused; ledger and Σ agree', async () => {
    const rebalanceId = id('wormhole');
    const X = 321_000n * UNIT;
    const [a0, c0] = [await limitOf('a'), await limitOf('c')];
    const cM = chain('c').c.contracts.creditMessenger;
    let ledger = openCapacityLedger('a', X);
    const r = await reserveCredit(ctx, { rebalanceId, chainKey: 'a', amount: X });
    ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: X }, ['a', r.blockNumber]);
    const s = await sendCreditWormhole(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'c', amount: X });
    assert.equal(s.emitterChain, devnet.deployment.chains.a!.whChainId);
    assert.equal(s.emitter, chain('a').c.contracts.creditMessenger);
    ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'send', from: reservedAccount('a'), to: inflightAccount(s.messageId), amount: X }, ['a', s.blockNumber]);
    const again = await sendCreditWormhole(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'c', amount: X });
    assert.deepEqual([again.alreadyDone, again.sequence], [true, s.sequence], 'a retried Wormhole send finds the same message');
    await assert.rejects(sendCredit(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'c', amount: X }), (e: unknown) => e instanceof ApplicationFailure && e.type === 'PacketMismatch' && /already sent over Wormhole/.test(e.message));

    const vaa = await fetchVaa(s);
    await contractRevert(redeemCreditVaa(ctx, { rebalanceId, purpose: 'forward', chainKey: 'b', vaa }), 'WrongDestination');
    await assert.rejects(redeemCreditVaa(ctx, { rebalanceId: id('someone else'), purpose: 'forward', chainKey: 'c', vaa }), (e: unknown) => e instanceof ApplicationFailure && e.type === 'PacketMismatch', 'a VAA carrying another key is refused before sending');
    const rd = await redeemCreditVaa(ctx, { rebalanceId, purpose: 'forward', chainKey: 'c', vaa });
    assert.equal(rd.alreadyDone, false);
    const pending = await readPendingCredit(ctx.chains.get('c')!.clients, cM, rebalanceId);
    assert.deepEqual(pending, { amount: X, srcEid: devnet.deployment.chains.a!.eid, status: 'pending', guid: rd.vmHash }, 'credit pending on c, named by the VAA hash');
    ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'deliver', from: inflightAccount(s.messageId), to: pendingAccount('c'), amount: X }, ['c', rd.blockNumber]);
    assert.equal((await redeemCreditVaa(ctx, { rebalanceId, purpose: 'forward', chainKey: 'c', vaa })).alreadyDone, true, 'a retried redeem is already done');
    const cc = chain('c');
    await expectRevert(cc.pub.simulateContract({ account: cc.market.account, address: cM, abi: creditMessengerAbi, functionName: 'receiveCreditVaa', args: [vaa] }), 'VaaAlreadyConsumed', [rd.vmHash]);
    const forged = (vaa.slice(0, -2) + (vaa.endsWith('00') ? '01' : '00')) as Hex; // one payload byte changed: the signature no longer matches
    await expectRevert(cc.pub.simulateContract({ account: cc.market.account, address: cM, abi: creditMessengerAbi, functionName: 'receiveCreditVaa', args: [forged] }), 'InvalidVaa');

    const ap = await applyCredit(ctx, { rebalanceId, purpose: 'forward', chainKey: 'c' });
    ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'apply', from: pendingAccount('c'), to: limitAccount('c'), amount: X }, ['c', ap.blockNumber]);
    assert.equal(await limitOf('c'), c0 + X, 'c’s limit rises by exactly the amount');
    assert.equal(await limitOf('a'), a0 - X);
    assert.deepEqual(nonZero(ledger.balances), { [limitAccount('c')]: X });
    const [lineA] = await readCreditLines({ clients: ctx.chains.get('a')!.clients, multicall3: chain('a').c.contracts.multicall3, vault: chain('a').c.contracts.vault, remoteEids: [devnet.deployment.chains.c!.eid] });
    assert.equal(lineA!.sent, X, 'the credit line is named by the LayerZero eid whatever the bridge');
    assert.match((await locateCredit(ctx, { rebalanceId, from: 'a', to: 'c' })).summary, new RegExp(`wormhole message ${s.messageId} \\(${X}\\) delivered, applied on c`));
    const total = await checkCapacityLedger(ctx, { openingCapacity: opening });
    assert.equal(total.balanced, true, total.where);
  });

  test('compensation over Wormhole: apply refused on c → the credit is published back, redeemed and re-applied on a; Σ conserved', async () => {
    const rebalanceId = id('wormhole-compensated');
    const X = 77_000n * UNIT;
    const c = chain('c');
    const pause = async (paused: boolean) =>
      mined(c.pub, c.deployer.writeContract((await c.pub.simulateContract({ account: c.deployer.account, address: c.c.contracts.vault, abi: collateralVaultAbi, functionName: 'setKeeperFlowsPaused', args: [false, paused] })).request));
    const [a0, c0] = [await limitOf('a'), await limitOf('c')];
    await pause(true);
    try {
      let ledger = openCapacityLedger('a', X);
      const r = await reserveCredit(ctx, { rebalanceId, chainKey: 'a', amount: X });
      ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'reserve', from: limitAccount('a'), to: reservedAccount('a'), amount: X }, ['a', r.blockNumber]);
      const s = await sendCreditWormhole(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'c', amount: X });
      ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'send', from: reservedAccount('a'), to: inflightAccount(s.messageId), amount: X }, ['a', s.blockNumber]);
      const rd = await redeemCreditVaa(ctx, { rebalanceId, purpose: 'forward', chainKey: 'c', vaa: await fetchVaa(s) });
      ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'deliver', from: inflightAccount(s.messageId), to: pendingAccount('c'), amount: X }, ['c', rd.blockNumber]);
      await contractRevert(applyCredit(ctx, { rebalanceId, purpose: 'forward', chainKey: 'c' }), 'InflowPaused');

      const back = await sendCreditWormhole(ctx, { rebalanceId, purpose: 'return', from: 'c', to: 'a', amount: X });
      assert.equal(back.legKey, capacityKey(rebalanceId, 'return'));
      ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'return', from: pendingAccount('c'), to: inflightAccount(back.messageId), amount: X }, ['c', back.blockNumber]);
      const rr = await redeemCreditVaa(ctx, { rebalanceId, purpose: 'return', chainKey: 'a', vaa: await fetchVaa(back) });
      ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'return-deliver', from: inflightAccount(back.messageId), to: pendingAccount('a'), amount: X }, ['a', rr.blockNumber]);
      const ra = await applyCredit(ctx, { rebalanceId, purpose: 'return', chainKey: 'a' });
      ledger = await step(ledger, rebalanceId, 'a', 'c', { step: 'return-apply', from: pendingAccount('a'), to: limitAccount('a'), amount: X }, ['a', ra.blockNumber]);

      assert.equal(await limitOf('a'), a0, 'the source limit is whole again');
      assert.equal(await limitOf('c'), c0, 'the destination limit never moved');
      assert.deepEqual(nonZero(ledger.balances), { [limitAccount('a')]: X });
      const total = await checkCapacityLedger(ctx, { openingCapacity: opening });
      assert.equal(total.balanced, true, total.where);
      assert.deepEqual([total.inFlight, total.pending, total.reserved], [0n, 0n, 0n]);
    } finally {
      await pause(false);
    }
  });
});
