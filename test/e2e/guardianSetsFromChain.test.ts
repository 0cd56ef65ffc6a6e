/**
 * Issue 13, "Guardian sets from the chain": on a devnet (two anvils, Wormhole's real core, the devnet guardian as
 * set 0) the keeper verifies VAAs against the guardian sets read from the core, not the config's; a guardian-set
 * rotation by governance VAA (`submitNewGuardianSet`, signed by the devnet guardian) is picked up without a config
 * edit; the config's sets remain the fallback when no core can be read.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { encodePacked, hexToBytes, pad, parseEventLogs, toHex, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { wormholeImplementationAbi } from '../../contracts/generated/abis.js';
import { compileContracts } from '../../contracts/compile.js';
import { DEVNET_ACCOUNTS, DEVNET_WORMHOLE_GUARDIAN_KEY } from '../../devnet/accounts.js';
import { DEVNET_WORMHOLE_GOVERNANCE } from '../../devnet/deploy.js';
import { startDevnet, type Devnet, type DevnetChainSpec } from '../../devnet/devnet.js';
import { DevnetGuardian, signDevnetVaa } from '../../devnet/guardian.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { fetchVerifiedVaa, keeperGuardianSets } from '../../activities/wormholeVaa.js';
import type { ChainRuntime, KeeperContext } from '../../activities/context.js';
import { CoreGuardianSetsCache, vaaGuardianSetIndex, type CoreGuardianSets } from '../../chains/wormhole/coreGuardianSets.js';
import { fetchSignedVaa } from '../../chains/wormhole/fetchVaa.js';
import { verifyVaa } from '../../chains/wormhole/verifyVaa.js';
import { mined } from './devnetFixture.js';

const CHAINS: DevnetChainSpec[] = [
  { key: 'alpha', chainId: 31431, eid: 40431, whChainId: 2 },
  { key: 'beta', chainId: 31432, eid: 40432, whChainId: 23 },
];
const DEVNET_GUARDIAN = privateKeyToAccount(DEVNET_WORMHOLE_GUARDIAN_KEY).address;
/** A guardian the config names, wrongly: the chain's set must win. */
const WRONG_GUARDIAN = privateKeyToAccount(generatePrivateKey()).address;

describe('guardian sets from the Wormhole core (devnet)', { timeout: 60_000 }, () => {
  let devnet: Devnet;
  let ctx: KeeperContext;
  let workDir: string;
  const logLines: { msg: string; guardianSetIndex?: number; previousIndex?: number; chain?: string }[] = [];
  const extraGuardians: DevnetGuardian[] = [];

  before(async () => {
    await compileContracts({ log: () => {} });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-gsets-'));
    devnet = await startDevnet({
      chains: CHAINS,
      workDir,
      temporalAddress: '127.0.0.1:7233',
      guardianPollMs: 50,
      relayerPollMs: 50,
      configOverrides: (c) => ({ ...c, wormhole: { ...c.wormhole!, guardianSets: [{ index: 0, keys: [WRONG_GUARDIAN] }] } }),
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as (typeof logLines)[number]);
        cb();
      },
    });
    ctx = buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), createLogger('test', sink as never));
  });
  after(async () => {
    for (const g of extraGuardians) await g.stop();
    await devnet?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  const chain = (k: 'alpha' | 'beta'): ChainRuntime => ctx.chains.get(k)!;

  /** The market account publishes a message on `k`'s core; returns its Wormhole ref (emitter = the market account). */
  async function publish(k: 'alpha' | 'beta', text: string) {
    const c = chain(k);
    const pub = c.clients.publicClient;
    const market = privateKeyToAccount(DEVNET_ACCOUNTS.market);
    const fee = await pub.readContract({ address: c.wormhole!.core, abi: wormholeImplementationAbi, functionName: 'messageFee' });
    const sim = await pub.simulateContract({ account: market, address: c.wormhole!.core, abi: wormholeImplementationAbi, functionName: 'publishMessage', args: [0, toHex(text), 1], value: fee });
    const receipt = await mined(pub, c.clients.walletClient!.writeContract({ ...sim.request, account: market }));
    assert.equal(parseEventLogs({ abi: wormholeImplementationAbi, eventName: 'LogMessagePublished', logs: receipt.logs }).length, 1);
    return { emitterChain: c.wormhole!.chainId, emitter: market.address as Address, sequence: sim.result };
  }

  /** Polls a guardian API until it serves the VAA of `ref`. */
  async function waitServed(url: string, ref: { emitterChain: number; emitter: Hex; sequence: bigint }): Promise<Uint8Array> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const b = await fetchSignedVaa(url, ref);
      if (b) return b;
      if (Date.now() > deadline) assert.fail(`${url} did not serve ${ref.emitterChain}/${ref.emitter}/${ref.sequence}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('the keeper reads set 0 (the devnet guardian) from the core, ignoring a wrong config set; a devnet VAA verifies', async () => {
    const t0 = Date.now();
    assert.deepEqual(ctx.wormhole!.guardianSets, [{ index: 0, keys: [WRONG_GUARDIAN] }], 'the config names a wrong guardian');
    const sets = await keeperGuardianSets(ctx);
    assert.deepEqual(sets, [{ index: 0, keys: [DEVNET_GUARDIAN] }], 'set 0 from the core, current: no expiry');
    const first = logLines.find((l) => l.msg === 'Wormhole guardian set read from the core');
    assert.equal(first?.guardianSetIndex, 0);
    assert.equal(first?.chain, 'alpha', 'no destination given: the first chain with a core');

    // No guardian sets in the config at all: same sets (the config is not consulted while a core answers).
    const noSets: KeeperContext = { ...ctx, wormhole: { guardianUrl: ctx.wormhole!.guardianUrl, deliveryDeadlineSec: 60, vaaPollIntervalMs: 100 } };
    assert.deepEqual(await keeperGuardianSets(noSets, { dstChainKey: 'beta' }), [{ index: 0, keys: [DEVNET_GUARDIAN] }]);

    const ref = await publish('alpha', 'hello from alpha');
    const bytes = await waitServed(devnet.guardianUrl, ref);
    const fetched = await fetchVerifiedVaa(noSets, ref, 'test message', { dstChainKey: 'beta' });
    assert.equal(fetched.guardianSetIndex, 0);
    assert.deepEqual(fetched.quorum, { held: 1, needed: 1 });
    assert.equal((await fetchVerifiedVaa(ctx, ref, 'test message')).digest, fetched.digest, 'the wrong config set is ignored');
    // Under the config's (wrong) set, the same VAA would have been refused.
    const underConfig = await verifyVaa(bytes, { guardianSets: ctx.wormhole!.guardianSets! });
    assert.ok(underConfig.reasons.some((r) => r.code === 'signature-mismatch'));
    console.log(`  sets from the core + devnet VAA verified: ${Date.now() - t0} ms`);
  });

  test('a guardian-set rotation by governance VAA is picked up at the first VAA of the new set, without a config edit', async () => {
    const t0 = Date.now();
    const newKey = generatePrivateKey();
    const newGuardian = privateKeyToAccount(newKey).address;
    // Core governance GuardianSetUpgrade: module "Core" (bytes32), action 2, chain 0 (all), new index, n keys, keys.
    const payload = encodePacked(['bytes32', 'uint8', 'uint16', 'uint32', 'uint8', 'address'], [pad(toHex('Core')), 2, 0, 1, 1, newGuardian]);
    const gov = toHex(
      await signDevnetVaa({ emitterChain: DEVNET_WORMHOLE_GOVERNANCE.chainId, emitterAddress: DEVNET_WORMHOLE_GOVERNANCE.contract, sequence: 7n, nonce: 0, timestamp: Math.floor(Date.now() / 1000), consistencyLevel: 1, payload }),
    );
    const deployer = privateKeyToAccount(DEVNET_ACCOUNTS.deployer);
    const upgradeTime = new Map<string, bigint>();
    for (const k of ['alpha', 'beta'] as const) {
      const c = chain(k);
      const sim = await c.clients.publicClient.simulateContract({ account: deployer, address: c.wormhole!.core, abi: wormholeImplementationAbi, functionName: 'submitNewGuardianSet', args: [gov] });
      const receipt = await mined(c.clients.publicClient, c.clients.walletClient!.writeContract({ ...sim.request, account: deployer }));
      upgradeTime.set(k, (await c.clients.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp);
      assert.equal(await c.clients.publicClient.readContract({ address: c.wormhole!.core, abi: wormholeImplementationAbi, functionName: 'getCurrentGuardianSetIndex' }), 1);
    }

    // Within the TTL and without a VAA of the new set, the cache still answers (no read per call).
    assert.deepEqual((await keeperGuardianSets(ctx, { dstChainKey: 'beta' })).map((s) => s.index), [0]);

    // A guardian of the new set signs what it observes from now on; the devnet guardian (set 0) keeps signing too.
    const g1 = new DevnetGuardian({
      chains: Object.values(devnet.deployment.chains).map((c) => ({ chainKey: c.chainKey, rpcUrl: c.rpcUrl, whChainId: c.whChainId, core: c.contracts.wormholeCore })),
      guardianKey: newKey,
      guardianSetIndex: 1,
      pollIntervalMs: 50,
      fromBlock: await chain('alpha').clients.publicClient.getBlockNumber(),
      log: () => {},
    });
    extraGuardians.push(g1);
    await g1.start();

    const ref = await publish('alpha', 'after the rotation');
    const signedByNew = await waitServed(g1.url, ref);
    assert.equal(vaaGuardianSetIndex(signedByNew), 1);
    // Same config (still the wrong set 0), only the guardian API differs: the keeper re-reads the core at once.
    const viaNewGuardian: KeeperContext = { ...ctx, wormhole: { ...ctx.wormhole!, guardianUrl: g1.url } };
    const fetched = await fetchVerifiedVaa(viaNewGuardian, ref, 'after rotation', { dstChainKey: 'beta' });
    assert.equal(fetched.guardianSetIndex, 1);
    const changed = logLines.find((l) => l.msg === 'Wormhole guardian set index changed on the core' && l.chain === 'beta');
    assert.ok(changed, 'the index change is logged');
    assert.equal(changed.previousIndex, 0);
    assert.equal(changed.guardianSetIndex, 1);

    const sets = await keeperGuardianSets(ctx, { dstChainKey: 'beta' });
    assert.deepEqual(sets.map((s) => s.index), [0, 1]);
    assert.deepEqual(sets[1], { index: 1, keys: [newGuardian] }, 'the new set is current: no expiry');
    assert.equal(sets[0]!.expirationTimeSec, upgradeTime.get('beta')! + 86_400n, 'set 0 expires 24 h after the upgrade block (Setters.sol expireGuardianSet)');

    // Set 0 still verifies until then (as on the core), and is refused after.
    const signedByOld = await waitServed(devnet.guardianUrl, ref);
    assert.equal((await fetchVerifiedVaa(ctx, ref, 'old set, in its grace period', { dstChainKey: 'beta' })).guardianSetIndex, 0);
    const late = await verifyVaa(signedByOld, { guardianSets: sets, nowSec: sets[0]!.expirationTimeSec! + 1n });
    assert.deepEqual(late.reasons.map((r) => r.code), ['guardian-set-expired']);
    assert.ok((await verifyVaa(signedByNew, { guardianSets: sets, nowSec: sets[0]!.expirationTimeSec! + 1n })).ok);
    console.log(`  rotation 0 -> 1 by governance VAA, picked up: ${Date.now() - t0} ms`);
  });

  test('no readable core: the config sets are the fallback (a warning names the failed read)', async () => {
    const t0 = Date.now();
    const noCores: KeeperContext = { ...ctx, chains: new Map() };
    assert.deepEqual(await keeperGuardianSets(noCores), [{ index: 0, keys: [WRONG_GUARDIAN] }]);
    // A "core" that is not one (the token contract): the read fails, the config answers.
    const a = chain('alpha');
    const broken: ChainRuntime = { ...a, wormhole: { ...a.wormhole!, core: a.contracts.token } };
    const warnsBefore = logLines.filter((l) => l.msg === 'cannot read the Wormhole guardian sets from any core').length;
    assert.deepEqual(await keeperGuardianSets({ ...ctx, chains: new Map([['alpha', broken]]) }), [{ index: 0, keys: [WRONG_GUARDIAN] }]);
    assert.equal(logLines.filter((l) => l.msg === 'cannot read the Wormhole guardian sets from any core').length, warnsBefore + 1);
    // Neither a core nor config sets: refused (config error).
    await assert.rejects(keeperGuardianSets({ ...noCores, wormhole: { guardianUrl: 'http://127.0.0.1:1', deliveryDeadlineSec: 60, vaaPollIntervalMs: 100 } }), /no chain has wormhole\.core/);
    console.log(`  fallback to the config: ${Date.now() - t0} ms`);
  });
});

describe('CoreGuardianSetsCache (stubbed reader)', () => {
  test('TTL, a re-read at once for an index not cached, one shared read for concurrent callers, failures not cached', async () => {
    let nowMs = 0;
    let current = 0;
    let reads = 0;
    let fail = false;
    const seen: [number, number | undefined][] = [];
    const keyOf = (i: number): Address => `0x${(i + 1).toString(16).padStart(40, '0')}`;
    const reader = async ({ extraIndices }: { extraIndices?: readonly number[] }): Promise<CoreGuardianSets> => {
      reads++;
      if (fail) throw new Error('rpc down');
      const idx = [...new Set([Math.max(0, current - 1), current, ...(extraIndices ?? [])])].sort((a, b) => a - b);
      return { core: keyOf(99), currentIndex: current, sets: idx.map((i) => (i === current ? { index: i, keys: [keyOf(i)] } : { index: i, keys: [keyOf(i)], expirationTimeSec: 1n })) };
    };
    const cache = new CoreGuardianSetsCache(reader, { ttlMs: 1000, now: () => nowMs, onRead: (r, prev) => seen.push([r.currentIndex, prev]) });
    await Promise.all([cache.get(), cache.get(0)]);
    assert.equal(reads, 1, 'concurrent callers share one read');
    nowMs = 999;
    assert.equal((await cache.get(0)).currentIndex, 0);
    assert.equal(reads, 1, 'fresh and holding set 0: no read');
    current = 1;
    assert.equal((await cache.get(0)).currentIndex, 0, 'the rotation is not seen while fresh');
    assert.deepEqual((await cache.get(1)).sets.map((s) => s.index), [0, 1], 'a VAA of set 1: re-read at once');
    assert.equal(reads, 2);
    current = 3;
    nowMs = 5000;
    assert.deepEqual((await cache.get()).sets.map((s) => s.index), [2, 3], 'stale: re-read');
    assert.deepEqual((await cache.get(0)).sets.map((s) => s.index), [0, 2, 3], 'an older index not cached is asked for explicitly');
    assert.deepEqual(seen, [[0, undefined], [1, 0], [3, 1], [3, 3]]);
    fail = true;
    nowMs = 10_000;
    await assert.rejects(cache.get(), /rpc down/);
    assert.equal(cache.cached?.currentIndex, 3, 'a failed read keeps the last good one');
    fail = false;
    assert.equal((await cache.get()).currentIndex, 3);
    assert.equal(vaaGuardianSetIndex(hexToBytes('0x01000000ff00')), 255);
    assert.equal(vaaGuardianSetIndex(hexToBytes('0x02000000ff00')), undefined);
  });
});
