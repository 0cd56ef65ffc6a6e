/**
 * The Wormhole route on two real anvil chains started by `startDevnet`: Wormhole's real core contract
 * (Implementation behind the Wormhole proxy, one devnet guardian), the WormholeAdapter, and the devnet
 * guardian service serving signed VAAs over HTTP. route.sendWormhole -> guardian -> adapter.receiveMessage.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Options } from '@layerzerolabs/lz-v2-utilities';
import { deserialize } from '@wormhole-foundation/sdk-definitions';
import { mocks } from '@wormhole-foundation/sdk-definitions/testing';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodePacked,
  http,
  keccak256,
  pad,
  parseEventLogs,
  toHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  ballastRouteAbi,
  ballastTokenAbi,
  collateralVaultAbi,
  wormholeAdapterAbi,
  wormholeImplementationAbi,
} from '../../contracts/generated/abis.js';
import { compileContracts } from '../../contracts/compile.js';
import { DEVNET_ACCOUNTS, DEVNET_WORMHOLE_GUARDIAN_KEY } from '../../devnet/accounts.js';
import { DEVNET_WORMHOLE_GOVERNANCE } from '../../devnet/deploy.js';
import { startDevnet, type Devnet, type DevnetChainSpec } from '../../devnet/devnet.js';
import type { DevnetChainDeployment } from '../../devnet/deploy.js';
import { signDevnetVaa, type ServedVaa } from '../../devnet/guardian.js';
import { expectRevert, mined } from './devnetFixture.js';

const UNIT = 10n ** 6n;
const CHAINS: DevnetChainSpec[] = [
  { key: 'alpha', chainId: 31401, eid: 40401, whChainId: 2 },
  { key: 'beta', chainId: 31402, eid: 40402, whChainId: 23 },
];
const id = (label: string): Hex => keccak256(toHex(`wormhole.test:${label}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Wallet = WalletClient<Transport, Chain, Account>;
interface Clients {
  chain: DevnetChainDeployment;
  pub: PublicClient<Transport, Chain>;
  deployer: Wallet;
  keeper: Wallet;
  market: Wallet;
}

describe('Wormhole route between two anvils: real core, WormholeAdapter, devnet guardian', () => {
  let devnet: Devnet;
  let workDir: string;
  const clients = new Map<string, Clients>();
  const served: ServedVaa[] = [];

  const c = (key: 'alpha' | 'beta'): Clients => clients.get(key)!;

  before(async () => {
    await compileContracts({ log: () => {} });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-wormhole-'));
    devnet = await startDevnet({ chains: CHAINS, workDir, temporalAddress: '127.0.0.1:7233', guardianPollMs: 50, relayerPollMs: 50 });
    devnet.guardian.on('served', (v) => served.push(v));
    for (const [key, dep] of Object.entries(devnet.deployment.chains)) {
      const chain = defineChain({ id: dep.chainId, name: key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [dep.rpcUrl] } } });
      const transport = http(dep.rpcUrl);
      const wallet = (k: Hex): Wallet => createWalletClient({ account: privateKeyToAccount(k), chain, transport, pollingInterval: 20 });
      clients.set(key, {
        chain: dep,
        pub: createPublicClient({ chain, transport, pollingInterval: 20 }),
        deployer: wallet(DEVNET_ACCOUNTS.deployer),
        keeper: wallet(DEVNET_ACCOUNTS.keeper),
        market: wallet(DEVNET_ACCOUNTS.market),
      });
    }
  });
  after(async () => {
    await devnet?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  // ---------------------------------------------------------------- helpers

  /** GET the guardian API for a VAA: status and bytes (hex) when 200. */
  async function getVaa(emitterChain: number, emitter: Address | Hex, sequence: bigint): Promise<{ status: number; vaa?: Hex }> {
    const res = await fetch(`${devnet.guardianUrl}/v1/signed_vaa/${emitterChain}/${pad(emitter, { size: 32 }).slice(2)}/${sequence}`);
    const body = (await res.json()) as { vaaBytes?: string };
    return { status: res.status, vaa: body.vaaBytes ? toHex(Buffer.from(body.vaaBytes, 'base64')) : undefined };
  }

  /** Polls the guardian API until it serves the VAA. */
  async function waitForVaa(emitterChain: number, emitter: Address | Hex, sequence: bigint, timeoutMs = 10_000): Promise<Hex> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await getVaa(emitterChain, emitter, sequence);
      if (r.status === 200 && r.vaa) return r.vaa;
      assert.equal(r.status, 404, `guardian answered ${r.status}`);
      if (Date.now() > deadline) assert.fail(`VAA ${emitterChain}/${emitter}/${sequence} not served within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  const balanceOf = (k: 'alpha' | 'beta', who: Address) =>
    c(k).pub.readContract({ address: c(k).chain.contracts.token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [who] });
  const totalSupply = (k: 'alpha' | 'beta') => c(k).pub.readContract({ address: c(k).chain.contracts.token, abi: ballastTokenAbi, functionName: 'totalSupply' });

  /** Owner-mints `amount` straight to alpha's route (faucet), so a send needs no vault withdrawal. */
  async function fundRoute(k: 'alpha' | 'beta', amount: bigint): Promise<void> {
    const x = c(k);
    const sim = await x.pub.simulateContract({ account: x.deployer.account, address: x.chain.contracts.token, abi: ballastTokenAbi, functionName: 'mint', args: [x.chain.contracts.route, amount] });
    await mined(x.pub, x.deployer.writeContract(sim.request));
  }

  /** Keeper: route.sendWormhole on alpha to beta; returns the sequence and the receipt's events. */
  async function sendAlphaToBeta(rebalanceId: Hex, amount: bigint) {
    const a = c('alpha');
    const fee = await a.pub.readContract({ address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSendWormhole' });
    const sim = await a.pub.simulateContract({
      account: a.keeper.account,
      address: a.chain.contracts.route,
      abi: ballastRouteAbi,
      functionName: 'sendWormhole',
      args: [rebalanceId, c('beta').chain.whChainId, amount],
      value: fee,
    });
    const receipt = await mined(a.pub, a.keeper.writeContract(sim.request));
    const [routeEvent] = parseEventLogs({ abi: ballastRouteAbi, eventName: 'RouteSentWormhole', logs: receipt.logs });
    const [adapterEvent] = parseEventLogs({ abi: wormholeAdapterAbi, eventName: 'WormholeSent', logs: receipt.logs });
    assert.ok(routeEvent && adapterEvent, 'RouteSentWormhole / WormholeSent not emitted');
    assert.equal(routeEvent.args.sequence, sim.result);
    return { sequence: sim.result, fee, routeEvent, adapterEvent };
  }

  /** Anyone (here the market account) redeems `vaa` on beta's adapter. */
  async function redeemOnBeta(vaa: Hex) {
    const b = c('beta');
    const sim = await b.pub.simulateContract({ account: b.market.account, address: b.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [vaa] });
    const receipt = await mined(b.pub, b.market.writeContract(sim.request));
    return { result: sim.result, receipt };
  }

  const simulateRedeemOnBeta = (vaa: Hex) =>
    c('beta').pub.simulateContract({ account: c('beta').market.account, address: c('beta').chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [vaa] });

  /** A VAA signed by the devnet guardian (the trust root of the devnet cores) with any content. */
  async function forgeVaa(opts: { emitterChain: number; emitter: Hex; sequence: bigint; payload: Hex }): Promise<Hex> {
    const vaa = await signDevnetVaa({
      emitterChain: opts.emitterChain,
      emitterAddress: opts.emitter,
      sequence: opts.sequence,
      nonce: 0,
      timestamp: Math.floor(Date.now() / 1000),
      consistencyLevel: 1,
      payload: opts.payload,
    });
    return toHex(vaa);
  }

  /** The version-1 payload layout documented in WormholeAdapter.sol. */
  const payload = (rebalanceId: Hex, amount: bigint, dstChain: number, recipient: Address | Hex): Hex =>
    encodePacked(['uint8', 'bytes32', 'uint256', 'uint16', 'bytes32'], [1, rebalanceId, amount, dstChain, pad(recipient, { size: 32 })]).toLowerCase() as Hex;

  // ---------------------------------------------------------------- tests

  test('startDevnet deploys the real core with the devnet guardian and wires adapters, token, route and the config', async () => {
    for (const [k, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const x = c(k);
      const { wormholeCore, wormholeAdapter, token, route } = x.chain.contracts;
      assert.equal(await x.pub.readContract({ address: wormholeCore, abi: wormholeImplementationAbi, functionName: 'chainId' }), x.chain.whChainId);
      assert.equal(await x.pub.readContract({ address: wormholeCore, abi: wormholeImplementationAbi, functionName: 'evmChainId' }), BigInt(x.chain.chainId));
      const set = await x.pub.readContract({ address: wormholeCore, abi: wormholeImplementationAbi, functionName: 'getGuardianSet', args: [0] });
      assert.deepEqual(set.keys, [privateKeyToAccount(DEVNET_WORMHOLE_GUARDIAN_KEY).address]);
      assert.equal(await x.pub.readContract({ address: wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'wormholeChainId' }), x.chain.whChainId);
      assert.equal(await x.pub.readContract({ address: wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'route' }), route);
      const o = c(other).chain;
      assert.equal(await x.pub.readContract({ address: wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'peerAdapter', args: [o.whChainId] }), pad(o.contracts.wormholeAdapter).toLowerCase());
      assert.equal(await x.pub.readContract({ address: wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'peerRoute', args: [o.whChainId] }), pad(o.contracts.route).toLowerCase());
      assert.equal(await x.pub.readContract({ address: token, abi: ballastTokenAbi, functionName: 'wormholeAdapter' }), wormholeAdapter);
      assert.equal(await x.pub.readContract({ address: route, abi: ballastRouteAbi, functionName: 'wormholeAdapter' }), wormholeAdapter);
    }
    // The key in devnet/accounts.ts is the SDK's well-known devnet guardian.
    assert.deepEqual(mocks.devnetGuardianSet().signers.map((g) => `0x${g.key}`), [DEVNET_WORMHOLE_GUARDIAN_KEY]);
    const alphaCfg = devnet.config.chains.find((ch) => ch.key === 'alpha')!;
    assert.deepEqual(alphaCfg.wormhole, { chainId: 2, core: c('alpha').chain.contracts.wormholeCore, adapter: c('alpha').chain.contracts.wormholeAdapter });
    assert.equal(devnet.config.wormhole?.guardianUrl, devnet.guardianUrl);
    assert.deepEqual(devnet.config.wormhole?.guardianSets, [{ index: 0, keys: [privateKeyToAccount(DEVNET_WORMHOLE_GUARDIAN_KEY).address] }]);
    const current = (await (await fetch(`${devnet.guardianUrl}/v1/guardianset/current`)).json()) as { guardianSet: { index: number; addresses: string[] } };
    assert.deepEqual(current.guardianSet, { index: 0, addresses: [privateKeyToAccount(DEVNET_WORMHOLE_GUARDIAN_KEY).address] });
  });

  test('sendWormhole burns on alpha; the guardian serves the VAA; redeeming it on beta mints to beta\'s route and records it', async () => {
    const a = c('alpha');
    const b = c('beta');
    const amount = 12_345n * UNIT;
    const rebalanceId = id('happy');
    const supplyBefore = [await totalSupply('alpha'), await totalSupply('beta')] as const;
    const w = await a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [rebalanceId, amount] });
    await mined(a.pub, a.keeper.writeContract(w.request));
    assert.equal(await balanceOf('alpha', a.chain.contracts.route), amount);

    const { sequence, fee, routeEvent, adapterEvent } = await sendAlphaToBeta(rebalanceId, amount);
    assert.equal(fee, 0n, 'the devnet core starts with messageFee 0');
    assert.equal(sequence, 0n, 'first message of alpha\'s adapter');
    assert.deepEqual(
      { id: routeEvent.args.rebalanceId, seq: routeEvent.args.sequence, dst: routeEvent.args.dstChain, amount: routeEvent.args.amount, fee: routeEvent.args.fee },
      { id: rebalanceId, seq: 0n, dst: b.chain.whChainId, amount, fee: 0n },
    );
    assert.equal(adapterEvent.args.recipient, pad(b.chain.contracts.route).toLowerCase());
    assert.deepEqual(await a.pub.readContract({ address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [rebalanceId] }), [b.chain.whChainId, 0n, amount]);
    assert.equal(await balanceOf('alpha', a.chain.contracts.route), 0n);
    assert.equal(await totalSupply('alpha'), supplyBefore[0] - amount, 'burnt on alpha');

    const vaa = await waitForVaa(a.chain.whChainId, a.chain.contracts.wormholeAdapter, sequence);
    const parsed = deserialize('Uint8Array', Buffer.from(vaa.slice(2), 'hex'));
    assert.equal(parsed.emitterChain, 'Ethereum');
    assert.equal(parsed.emitterAddress.toString().toLowerCase(), pad(a.chain.contracts.wormholeAdapter).toLowerCase());
    assert.equal(parsed.sequence, 0n);
    assert.equal(parsed.signatures.length, 1);
    assert.equal(toHex(parsed.payload), payload(rebalanceId, amount, b.chain.whChainId, b.chain.contracts.route));
    assert.deepEqual(
      await b.pub.readContract({ address: b.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'decodePayload', args: [toHex(parsed.payload)] }),
      [rebalanceId, amount, b.chain.whChainId, pad(b.chain.contracts.route).toLowerCase()],
    );
    assert.ok(served.some((s) => s.sequence === 0n && s.emitterChain === a.chain.whChainId && !s.badSignature), "'served' event not emitted");

    const routeBefore = await balanceOf('beta', b.chain.contracts.route);
    const { result, receipt } = await redeemOnBeta(vaa);
    assert.deepEqual(result, [rebalanceId, amount]);
    const [received] = parseEventLogs({ abi: wormholeAdapterAbi, eventName: 'WormholeReceived', logs: receipt.logs });
    assert.ok(received, 'WormholeReceived not emitted');
    assert.equal(received.args.emitterChain, a.chain.whChainId);
    assert.equal(received.args.sequence, 0n);
    assert.equal(await balanceOf('beta', b.chain.contracts.route), routeBefore + amount);
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receivedOf', args: [rebalanceId] }), amount);
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'consumed', args: [received.args.vmHash!] }), true);
    assert.equal(await totalSupply('alpha') + (await totalSupply('beta')), supplyBefore[0] + supplyBefore[1], 'supply conserved across the two chains');

    // The delivered amount continues like a LayerZero arrival: deposit into beta's vault.
    const d = await b.pub.simulateContract({ account: b.keeper.account, address: b.chain.contracts.route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [rebalanceId, amount] });
    await mined(b.pub, b.keeper.writeContract(d.request));
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [rebalanceId] }), amount);

    // Redeeming the same VAA again is refused, in a simulation and in a mined transaction.
    await expectRevert(simulateRedeemOnBeta(vaa), 'VaaAlreadyConsumed', [received.args.vmHash]);
    const hash = await b.market.writeContract({ address: b.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [vaa], gas: 500_000n });
    assert.equal((await b.pub.waitForTransactionReceipt({ hash })).status, 'reverted');
    assert.equal(await b.pub.readContract({ address: b.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receivedOf', args: [rebalanceId] }), amount);
  });

  test('a VAA with one flipped byte, or served with a bad signature, is refused on chain (InvalidVaa from parseAndVerifyVM)', async () => {
    const a = c('alpha');
    const amount = 50n * UNIT;
    await fundRoute('alpha', amount);
    const { sequence } = await sendAlphaToBeta(id('flipped'), amount);
    const vaa = await waitForVaa(a.chain.whChainId, a.chain.contracts.wormholeAdapter, sequence);

    const bytes = Buffer.from(vaa.slice(2), 'hex');
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0x01; // a byte of the payload's amount
    await expectRevert(simulateRedeemOnBeta(toHex(bytes)), 'InvalidVaa', ['VM signature invalid']);
    const truncated = toHex(Buffer.from(vaa.slice(2), 'hex').subarray(0, 50));
    await expectRevert(simulateRedeemOnBeta(truncated), 'InvalidVaa');

    devnet.guardian.serveBadSignature(a.chain.whChainId, sequence);
    const bad = await getVaa(a.chain.whChainId, a.chain.contracts.wormholeAdapter, sequence);
    assert.equal(bad.status, 200);
    assert.notEqual(bad.vaa, vaa);
    assert.ok(served.some((s) => s.sequence === sequence && s.badSignature));
    await expectRevert(simulateRedeemOnBeta(bad.vaa!), 'InvalidVaa', ['VM signature invalid']);
    devnet.guardian.clearFaults();

    // The genuine VAA still redeems: nothing was consumed by the refused ones.
    const { result } = await redeemOnBeta(vaa);
    assert.deepEqual(result, [id('flipped'), amount]);
  });

  test('a VAA from an emitter that is not the registered peer adapter is refused (UnknownEmitter)', async () => {
    const a = c('alpha');
    const b = c('beta');
    // The deployer EOA publishes a well-formed payload on alpha's real core; the guardian signs it.
    const msg = payload(id('rogue'), 1_000_000n * UNIT, b.chain.whChainId, b.chain.contracts.route);
    const fee = await a.pub.readContract({ address: a.chain.contracts.wormholeCore, abi: wormholeImplementationAbi, functionName: 'messageFee' });
    const sim = await a.pub.simulateContract({ account: a.deployer.account, address: a.chain.contracts.wormholeCore, abi: wormholeImplementationAbi, functionName: 'publishMessage', args: [0, msg, 1], value: fee });
    await mined(a.pub, a.deployer.writeContract(sim.request));
    const vaa = await waitForVaa(a.chain.whChainId, a.deployer.account.address, sim.result);
    await expectRevert(simulateRedeemOnBeta(vaa), 'UnknownEmitter', [a.chain.whChainId, pad(a.deployer.account.address).toLowerCase()]);

    // The right emitter address on a chain with no registered peer is refused too.
    const other = await forgeVaa({ emitterChain: 30, emitter: a.chain.contracts.wormholeAdapter, sequence: 7n, payload: msg });
    await expectRevert(simulateRedeemOnBeta(other), 'UnknownEmitter', [30, pad(a.chain.contracts.wormholeAdapter).toLowerCase()]);
  });

  test('a signed VAA from the peer adapter for another chain or another recipient is refused (WrongDestination, WrongRecipient)', async () => {
    const a = c('alpha');
    const b = c('beta');
    const emitter = a.chain.contracts.wormholeAdapter;
    const wrongDst = await forgeVaa({ emitterChain: a.chain.whChainId, emitter, sequence: 900n, payload: payload(id('wrong-dst'), UNIT, 30, b.chain.contracts.route) });
    await expectRevert(simulateRedeemOnBeta(wrongDst), 'WrongDestination', [30, b.chain.whChainId]);
    const wrongTo = await forgeVaa({ emitterChain: a.chain.whChainId, emitter, sequence: 901n, payload: payload(id('wrong-to'), UNIT, b.chain.whChainId, b.market.account.address) });
    await expectRevert(simulateRedeemOnBeta(wrongTo), 'WrongRecipient', [pad(b.market.account.address).toLowerCase(), pad(b.chain.contracts.route).toLowerCase()]);
    const badVersion = await forgeVaa({ emitterChain: a.chain.whChainId, emitter, sequence: 902n, payload: `0x02${payload(id('v2'), UNIT, b.chain.whChainId, b.chain.contracts.route).slice(4)}` });
    await expectRevert(simulateRedeemOnBeta(badVersion), 'UnsupportedPayloadVersion', [2]);
    // Control: the same forging with a correct payload is accepted, so the refusals above are the payload checks.
    const { result } = await redeemOnBeta(await forgeVaa({ emitterChain: a.chain.whChainId, emitter, sequence: 903n, payload: payload(id('forged-ok'), UNIT, b.chain.whChainId, b.chain.contracts.route) }));
    assert.deepEqual(result, [id('forged-ok'), UNIT]);
  });

  test('a dropped sequence is never served (404) while the next one is; its genuine VAA stays redeemable', async () => {
    const a = c('alpha');
    const emitter = a.chain.contracts.wormholeAdapter;
    const next = await a.pub.readContract({ address: a.chain.contracts.wormholeCore, abi: wormholeImplementationAbi, functionName: 'nextSequence', args: [emitter] });
    devnet.guardian.drop(a.chain.whChainId, next);
    await fundRoute('alpha', 30n * UNIT);
    const dropped = await sendAlphaToBeta(id('dropped'), 10n * UNIT);
    const later = await sendAlphaToBeta(id('after-dropped'), 20n * UNIT);
    assert.equal(dropped.sequence, next);
    await devnet.guardian.waitForObservation(a.chain.whChainId, emitter, dropped.sequence);
    assert.ok(await waitForVaa(a.chain.whChainId, emitter, later.sequence));
    for (let i = 0; i < 5; i++) {
      assert.equal((await getVaa(a.chain.whChainId, emitter, dropped.sequence)).status, 404);
      await sleep(60);
    }
    assert.ok(!served.some((s) => s.sequence === dropped.sequence && s.emitterChain === a.chain.whChainId));
    // The message exists on chain; only the guardian withholds it.
    const genuine = devnet.guardian.signedVaa(a.chain.whChainId, emitter, dropped.sequence);
    assert.ok(genuine);
    const { result } = await redeemOnBeta(toHex(genuine));
    assert.deepEqual(result, [id('dropped'), 10n * UNIT]);
    devnet.guardian.clearFaults();
  });

  test('pause() withholds new VAAs until resume(); setDelayMs() holds each one after observation', async () => {
    const a = c('alpha');
    const emitter = a.chain.contracts.wormholeAdapter;
    await fundRoute('alpha', 2n * UNIT);
    devnet.guardian.pause();
    const { sequence } = await sendAlphaToBeta(id('paused'), UNIT);
    await devnet.guardian.waitForObservation(a.chain.whChainId, emitter, sequence);
    await sleep(200);
    assert.equal((await getVaa(a.chain.whChainId, emitter, sequence)).status, 404);
    devnet.guardian.resume();
    assert.ok(await waitForVaa(a.chain.whChainId, emitter, sequence));

    devnet.guardian.setDelayMs(600);
    const sentAt = Date.now();
    const delayed = await sendAlphaToBeta(id('delayed'), UNIT);
    await waitForVaa(a.chain.whChainId, emitter, delayed.sequence);
    assert.ok(Date.now() - sentAt >= 600, `served after ${Date.now() - sentAt} ms, expected >= 600`);
    devnet.guardian.setDelayMs(0);
    // Bad requests get a 400 naming the expected path.
    assert.equal((await fetch(`${devnet.guardianUrl}/v1/signed_vaa/2/abc/0`)).status, 400);
  });

  test('a rebalance id is sent once across LayerZero and Wormhole (RebalanceIdUsed both ways)', async () => {
    const a = c('alpha');
    const b = c('beta');
    const options = Options.newOptions().addExecutorLzReceiveOption(200000, 0).toHex() as Hex;
    await fundRoute('alpha', 40n * UNIT);

    const lzFirst = id('lz-first');
    const lzFee = await a.pub.readContract({ address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSend', args: [b.chain.eid, 10n * UNIT, options] });
    const s = await a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [lzFirst, b.chain.eid, 10n * UNIT, options], value: lzFee });
    await mined(a.pub, a.keeper.writeContract(s.request));
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [lzFirst, b.chain.whChainId, 10n * UNIT] }),
      'RebalanceIdUsed',
      [lzFirst],
    );

    const whFirst = id('wh-first');
    await sendAlphaToBeta(whFirst, 10n * UNIT);
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [whFirst, b.chain.eid, 10n * UNIT, options], value: lzFee }),
      'RebalanceIdUsed',
      [whFirst],
    );
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [whFirst, b.chain.whChainId, 10n * UNIT] }),
      'RebalanceIdUsed',
      [whFirst],
    );
  });

  test('only the keeper sends, only the route uses the adapter, only the adapter mints, only registered chains are reachable', async () => {
    const a = c('alpha');
    const b = c('beta');
    await fundRoute('alpha', 5n * UNIT);
    await expectRevert(
      a.pub.simulateContract({ account: a.market.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [id('not-keeper'), b.chain.whChainId, UNIT] }),
      'AccessControlUnauthorizedAccount',
    );
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'send', args: [id('direct'), b.chain.whChainId, UNIT] }),
      'NotRoute',
      [a.keeper.account.address],
    );
    await expectRevert(
      a.pub.simulateContract({ account: a.deployer.account, address: a.chain.contracts.token, abi: ballastTokenAbi, functionName: 'wormholeMint', args: [a.deployer.account.address, UNIT] }),
      'NotWormholeAdapter',
      [a.deployer.account.address],
    );
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [id('no-peer'), 30, UNIT] }),
      'NoPeer',
      [30],
    );
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [id('too-much'), b.chain.whChainId, 10n ** 30n] }),
      'InsufficientBalance',
    );
  });

  test('a message fee set by a guardian-signed governance VAA is quoted, required exactly and paid to the core', async () => {
    const a = c('alpha');
    const b = c('beta');
    const newFee = 12_345n;
    // Core governance SetMessageFee: module "Core" (bytes32), action 3, chain (uint16), fee (uint256).
    const governancePayload = encodePacked(['bytes32', 'uint8', 'uint16', 'uint256'], [pad(toHex('Core')), 3, a.chain.whChainId, newFee]);
    const gov = await forgeVaa({ emitterChain: DEVNET_WORMHOLE_GOVERNANCE.chainId, emitter: DEVNET_WORMHOLE_GOVERNANCE.contract, sequence: 1n, payload: governancePayload });
    const g = await a.pub.simulateContract({ account: a.deployer.account, address: a.chain.contracts.wormholeCore, abi: wormholeImplementationAbi, functionName: 'submitSetMessageFee', args: [gov] });
    await mined(a.pub, a.deployer.writeContract(g.request));
    assert.equal(await a.pub.readContract({ address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSendWormhole' }), newFee);

    await fundRoute('alpha', UNIT);
    await expectRevert(
      a.pub.simulateContract({ account: a.keeper.account, address: a.chain.contracts.route, abi: ballastRouteAbi, functionName: 'sendWormhole', args: [id('fee-short'), b.chain.whChainId, UNIT], value: newFee - 1n }),
      'WrongMessageFee',
      [newFee, newFee - 1n],
    );
    const coreBalance = await a.pub.getBalance({ address: a.chain.contracts.wormholeCore });
    const { fee, routeEvent, sequence } = await sendAlphaToBeta(id('fee-paid'), UNIT);
    assert.equal(fee, newFee);
    assert.equal(routeEvent.args.fee, newFee);
    assert.equal(await a.pub.getBalance({ address: a.chain.contracts.wormholeCore }), coreBalance + newFee);
    const { result } = await redeemOnBeta(await waitForVaa(a.chain.whChainId, a.chain.contracts.wormholeAdapter, sequence));
    assert.deepEqual(result, [id('fee-paid'), UNIT]);
  });
});
