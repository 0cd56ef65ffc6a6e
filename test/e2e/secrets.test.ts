/**
 * The keeper's private key never leaks: a real rebalance's legs (withdraw, send, deliver by the devnet
 * LayerZero relayer, deposit) run through the keeper's activities on two anvils, errors are provoked
 * (reverts at each leg, an unreachable RPC, a bad key), and everything the keeper emits is searched
 * for the key: the pino log (with the worker's `err` serializer), the Prometheus text, and every
 * thrown error (message, stack, causes, JSON).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { exampleConfig, parseConfig, type BallastConfig } from '../../config/index.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { LayerZeroRelayer } from '../../devnet/relayer.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { loadKeeperAccount } from '../../keeper/keys.js';
import { awaitDelivery, depositToVault, sendOverBridge, withdrawFromVault } from '../../activities/legs.js';
import { readSnapshot } from '../../activities/snapshot.js';
import type { KeeperContext } from '../../activities/context.js';
import { freePort, startDevnetFixture, type DevnetFixture } from './devnetFixture.js';

const KEY = DEVNET_ACCOUNTS.keeper;
const UNIT = 10n ** 6n;
const AMOUNT = 50_000n * UNIT;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The forms a leaked key could take: hex with or without 0x in any case (searched case-insensitively), and base64 of its bytes. */
const KEY_HEX = KEY.slice(2).toLowerCase();
const KEY_B64 = Buffer.from(KEY_HEX, 'hex').toString('base64');

function assertNoKey(where: string, text: string): void {
  assert.ok(text.length > 0, `${where}: nothing to search`);
  const lower = text.toLowerCase();
  assert.ok(!lower.includes(KEY_HEX), `${where} contains the keeper's private key (hex)`);
  assert.ok(!text.includes(KEY_B64), `${where} contains the keeper's private key (base64)`);
}

/** Everything an error carries: name, message, stack, JSON (bigints as strings), down the cause chain. */
function errorText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 10; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.name, cur.message, cur.stack ?? '');
      try {
        parts.push(JSON.stringify(cur, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      } catch {
        parts.push('[unserialisable]');
      }
      cur = (cur as { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      cur = undefined;
    }
  }
  return parts.join('\n');
}

describe('the keeper key never appears in logs, metrics or errors', { timeout: 120_000 }, () => {
  let fx: DevnetFixture;
  let relayer: LayerZeroRelayer;
  let config: BallastConfig;
  let ctx: KeeperContext;
  let metrics: BallastMetrics;
  const logs: string[] = [];
  const errors: { where: string; error: unknown }[] = [];

  /** Runs `fn`, which must throw; records the error and logs it the way the worker would (`err` serializer). */
  async function failing(where: string, fn: () => Promise<unknown>, expected: RegExp): Promise<void> {
    let caught: unknown;
    try {
      await fn();
    } catch (e) {
      caught = e;
    }
    assert.ok(caught !== undefined, `${where}: expected an error`);
    assert.match(errorText(caught), expected, `${where}: the error says what happened`);
    errors.push({ where, error: caught });
    ctx.log.error({ err: caught, where }, 'activity failed');
  }

  before(async () => {
    fx = await startDevnetFixture({ chainCount: 2 });
    config = parseConfig(
      exampleConfig({
        deployment: 'secrets',
        chains: fx.keys.map((key) => {
          const c = fx.deployment.chains[key]!;
          const { multicall3, endpoint, token, vault, route, priceFeed } = c.contracts;
          return { key, chainId: c.chainId, rpcUrl: c.rpcUrl, eid: c.eid, contracts: { multicall3, endpoint, token, vault, route, priceFeed } };
        }),
      }),
    );
    metrics = new BallastMetrics(true);
    const log = createLogger('secrets-test', { write: (s: string) => void logs.push(s) });
    // The key goes in the way production does it: from the environment, through keeper/keys.ts.
    const account = loadKeeperAccount(config, { [config.keeper.privateKeyEnv]: KEY });
    assert.equal(account.address, privateKeyToAccount(KEY).address);
    ctx = buildKeeperContext(config, account, metrics, log);
    relayer = new LayerZeroRelayer({ chains: fx.relayerChains(), pollIntervalMs: 50, log: (m) => log.info({ component: 'relayer' }, m) });
    relayer.start();
  });
  after(async () => {
    await relayer?.stop();
    await fx?.stop();
  });

  test('a full rebalance a→b through the activities, then errors at each leg; nothing the keeper emitted holds the key', async () => {
    const rebalanceId = keccak256(toHex(`secrets:${process.pid}:${Date.now()}`)) as Hex;
    await readSnapshot(ctx); // fills the per-chain gauges (no price round yet: both chains partial, logged)
    const w = await withdrawFromVault(ctx, { rebalanceId, purpose: 'forward', chainKey: 'a', amount: AMOUNT });
    assert.equal(w.alreadyDone, false);
    const s = await sendOverBridge(ctx, { rebalanceId, purpose: 'forward', from: 'a', to: 'b', amount: AMOUNT });
    let delivered = false;
    for (const deadline = Date.now() + 20_000; !delivered && Date.now() < deadline; ) {
      try {
        await awaitDelivery(ctx, { from: 'a', to: 'b', guid: s.guid, nonce: s.nonce });
        delivered = true;
      } catch (e) {
        errors.push({ where: 'deliver (pending)', error: e });
        await sleep(100);
      }
    }
    assert.ok(delivered, 'the relayer delivered the packet');
    const d = await depositToVault(ctx, { rebalanceId, purpose: 'forward', chainKey: 'b', amount: AMOUNT });
    assert.match(d.txHash ?? '', /^0x[0-9a-f]{64}$/);

    // Error paths: a revert at each leg (decoded), an unreachable RPC, and a malformed key.
    const id2 = keccak256(toHex(`secrets-fail:${process.pid}:${Date.now()}`)) as Hex;
    await failing('withdraw over the cap', () => withdrawFromVault(ctx, { rebalanceId: id2, purpose: 'forward', chainKey: 'a', amount: 1_000_000_000n * UNIT }), /InsufficientIdle|OutflowCapExceeded/);
    await failing('send more than the route holds', () => sendOverBridge(ctx, { rebalanceId: id2, purpose: 'forward', from: 'a', to: 'b', amount: AMOUNT }), /InsufficientBalance/);
    await failing('deposit more than the route holds', () => depositToVault(ctx, { rebalanceId: id2, purpose: 'forward', chainKey: 'b', amount: AMOUNT }), /InsufficientBalance/);
    const deadPort = await freePort();
    const deadConfig = parseConfig({ ...structuredCloneConfig(config, deadPort) });
    const deadCtx = buildKeeperContext(deadConfig, loadKeeperAccount(deadConfig, { BALLAST_KEEPER_PRIVATE_KEY: KEY }), metrics, ctx.log);
    await failing('RPC unreachable', () => withdrawFromVault(deadCtx, { rebalanceId: id2, purpose: 'forward', chainKey: 'a', amount: AMOUNT }), /fetch failed|HTTP request failed|ECONNREFUSED/i);
    await failing('malformed key in the environment', async () => loadKeeperAccount(config, { BALLAST_KEEPER_PRIVATE_KEY: `${KEY}ff` }), /BALLAST_KEEPER_PRIVATE_KEY is not a 32-byte hex private key/);
    await failing('key with a typo', async () => loadKeeperAccount(config, { BALLAST_KEEPER_PRIVATE_KEY: KEY.slice(0, -1) + 'x' }), /value not shown/);

    // What was emitted is real and complete: the three legs and the failures are in the log.
    const logText = logs.join('');
    for (const msg of ['withdrawn to route', 'sent over LayerZero', 'deposited into vault', 'activity failed']) assert.ok(logText.includes(msg), `log has "${msg}"`);
    assert.ok(logText.includes(w.txHash!), 'the withdraw tx hash was logged');
    assert.ok(logs.length >= 8, `log has ${logs.length} lines`);
    const metricsText = await metrics.registry.metrics();
    assert.match(metricsText, /ballast_bridge_fee_paid_wei_total\{kind="collateral",route="a->b",bridge="layerzero"\} [0-9.e+]+/);
    assert.ok(errors.length >= 6);

    assertNoKey('the keeper log', logText);
    assertNoKey('the metrics text', metricsText);
    for (const { where, error } of errors) assertNoKey(`the error of "${where}"`, errorText(error));
  });
});

/** A copy of the validated config's raw form with chain a's RPC pointed at a closed local port. */
function structuredCloneConfig(config: BallastConfig, deadPort: number): object {
  return {
    deployment: config.deployment,
    asset: config.asset,
    chains: config.chains.map((c, i) => ({
      key: c.key,
      chainId: c.chainId,
      rpcUrl: i === 0 ? `http://127.0.0.1:${deadPort}` : c.rpcUrl,
      eid: c.eid,
      contracts: c.contracts,
      band: { lowPct: 60, highPct: 80 },
      minBuffer: c.minBuffer,
      caps: c.caps,
      oracle: c.oracle,
    })),
  };
}
