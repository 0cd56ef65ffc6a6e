/**
 * Full rebalance path over a real LayerZero EndpointV2 between two anvils, delivered by the devnet
 * LayerZeroRelayer: vault.withdrawToRoute -> route.send -> relayer -> route.depositToVault.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Options } from '@layerzerolabs/lz-v2-utilities';
import { keccak256, parseEventLogs, toHex, type Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi } from '../../contracts/generated/abis.js';
import { LayerZeroRelayer, type DeliveredPacket } from '../../devnet/relayer.js';
import { mined, startDevnetFixture, type DevnetFixture } from './devnetFixture.js';

const UNIT = 10n ** 6n;
const LIQUIDITY = 1_000_000n * UNIT;
const OPTIONS = Options.newOptions().addExecutorLzReceiveOption(200000, 0).toHex() as Hex;
const id = (label: string): Hex => keccak256(toHex(`relayer.test:${label}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LayerZeroRelayer delivers Ballast route sends between two anvils', () => {
  let fx: DevnetFixture;
  let relayer: LayerZeroRelayer;
  const delivered: DeliveredPacket[] = [];

  before(async () => {
    fx = await startDevnetFixture({ chainCount: 2, initialLiquidity: LIQUIDITY });
    relayer = new LayerZeroRelayer({ chains: fx.relayerChains(), pollIntervalMs: 50 });
    relayer.on('delivered', (p) => delivered.push(p));
    relayer.start();
  });
  after(async () => {
    await relayer?.stop();
    await fx?.stop();
  });

  /** Keeper: vault -> route on `a`, then route.send to `b`; returns the guid and the fee paid. */
  async function sendAtoB(rebalanceId: Hex, amount: bigint): Promise<{ guid: Hex; fee: bigint }> {
    const a = fx.clients('a');
    const b = fx.clients('b');
    const w = await a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [rebalanceId, amount] });
    await mined(a.pub, a.keeper.writeContract(w.request));
    const fee = await a.pub.readContract({ address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSend', args: [b.chain.eid, amount, OPTIONS] });
    const s = await a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [rebalanceId, b.chain.eid, amount, OPTIONS], value: fee });
    const receipt = await mined(a.pub, a.keeper.writeContract(s.request));
    const [sent] = parseEventLogs({ abi: ballastRouteAbi, eventName: 'RouteSent', logs: receipt.logs });
    assert.ok(sent, 'RouteSent not emitted');
    assert.equal(sent.args.guid, s.result);
    assert.equal(sent.args.nativeFee, fee);
    return { guid: sent.args.guid, fee };
  }

  test('a sent amount arrives at the peer route and can be deposited into the destination vault', async (t) => {
    const a = fx.clients('a');
    const b = fx.clients('b');
    const amount = 123_456n * UNIT;
    const rebalanceId = id('happy');
    const { guid, fee } = await sendAtoB(rebalanceId, amount);
    assert.ok(fee > 0n, 'quoteSend returned no fee');
    t.diagnostic(`route.quoteSend native fee: ${fee} wei; deployDevnet took ${fx.deployMs} ms for 2 chains`);

    const record = await a.pub.readContract({ address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sends', args: [rebalanceId] });
    assert.deepEqual(record, [guid, b.chain.eid, amount, 1n]);
    assert.equal(await a.pub.readContract({ address: a.chain.contracts.token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [a.chain.contracts.route] }), 0n, 'source route should have burned the amount');

    const delivery = await relayer.waitForDelivery(guid, 10_000);
    assert.equal(delivery.srcEid, a.chain.eid);
    assert.equal(delivery.dstEid, b.chain.eid);
    assert.equal(delivery.nonce, 1n);
    assert.ok(delivered.some((p) => p.guid === guid), "'delivered' event not emitted");

    const routeB = b.chain.contracts.route;
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [routeB] }), amount);
    const received = await b.pub.getContractEvents({ address: b.chain.contracts.token, abi: ballastTokenAbi, eventName: 'OFTReceived', args: { guid }, fromBlock: 0n });
    assert.equal(received.length, 1);
    assert.equal(received[0]!.args.toAddress, routeB);
    assert.equal(received[0]!.args.amountReceivedLD, amount);

    const before = await b.pub.readContract({ address: b.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'totalSupplied' });
    const d = await b.pub.simulateContract({ account: b.keeper.account, address: routeB, abi: ballastRouteAbi, functionName: 'depositToVault', args: [rebalanceId, amount] });
    await mined(b.pub, b.keeper.writeContract(d.request));
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }), before + amount);
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [rebalanceId] }), amount);
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [routeB] }), 0n);
  });

  test('a packet already delivered is not delivered again by a fresh relayer', async () => {
    const again = new LayerZeroRelayer({ chains: fx.relayerChains(), pollIntervalMs: 50 });
    await again.pollOnce();
    assert.equal(again.deliveredCount, 0);
    assert.equal(again.pendingCount, 0);
  });

  test('with setDropAll(true) nothing arrives on the destination', async () => {
    const b = fx.clients('b');
    relayer.setDropAll(true);
    const droppedBefore = relayer.droppedCount;
    const deliveredBefore = relayer.deliveredCount;
    const amount = 1_000n * UNIT;
    const { guid } = await sendAtoB(id('dropped'), amount);
    const deadline = Date.now() + 5_000;
    while (relayer.droppedCount === droppedBefore && Date.now() < deadline) await sleep(25);
    assert.equal(relayer.droppedCount, droppedBefore + 1, 'relayer did not see the packet');
    relayer.setDropAll(false);
    await sleep(300); // several more polls: a dropped packet stays lost
    assert.equal(relayer.deliveredCount, deliveredBefore);
    assert.equal(relayer.deliveryOf(guid), undefined);
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [b.chain.contracts.route] }), 0n);
    const received = await b.pub.getContractEvents({ address: b.chain.contracts.token, abi: ballastTokenAbi, eventName: 'OFTReceived', args: { guid }, fromBlock: 0n });
    assert.equal(received.length, 0);
  });
  test('a later packet waits behind a dropped one on the same path; replayDropped delivers both in nonce order', async () => {
    const b = fx.clients('b');
    const routeBalance = () => b.pub.readContract({ address: b.chain.contracts.token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [b.chain.contracts.route] });
    const amount = 2_000n * UNIT;
    const { guid } = await sendAtoB(id('behind-dropped'), amount);
    // The relayer picks it up and holds it: lzReceive reverts LZ_InvalidNonce (nonce 2 missing) until the dropped
    // packet is replayed, so it cannot be delivered whatever the timing. Wait until it is pending, then check.
    const deadline = Date.now() + 10_000;
    while (relayer.pendingCount === 0 && Date.now() < deadline) await sleep(25);
    assert.equal(relayer.deliveryOf(guid), undefined);
    assert.equal(relayer.pendingCount, 1);
    assert.equal(await routeBalance(), 0n);

    assert.equal(relayer.replayDropped(), 1);
    const later = await relayer.waitForDelivery(guid, 10_000);
    assert.equal(later.nonce, 3n);
    const dropped = delivered.find((p) => p.nonce === 2n);
    assert.ok(dropped, 'the replayed packet (nonce 2) was not delivered');
    assert.ok(delivered.indexOf(dropped) < delivered.indexOf(later), 'nonce 2 must be delivered before nonce 3');
    assert.equal(await routeBalance(), 1_000n * UNIT + amount);
  });

  test('pause() holds packets and setDelayMs() delays them; resume() delivers', async () => {
    relayer.pause();
    const sentAt = Date.now();
    const { guid } = await sendAtoB(id('paused'), 10n * UNIT);
    await sleep(300);
    assert.equal(relayer.deliveryOf(guid), undefined, 'delivered while paused');
    relayer.setDelayMs(700);
    relayer.resume();
    await relayer.waitForDelivery(guid, 10_000);
    // seen within ~1 poll of the send, then held at least 700 ms
    assert.ok(Date.now() - sentAt >= 700, `delivered after ${Date.now() - sentAt} ms, expected >= 700`);
    relayer.setDelayMs(0);
  });
});
