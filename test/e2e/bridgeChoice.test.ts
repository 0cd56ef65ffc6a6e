/**
 * The bridge is chosen per move from real quotes on a devnet whose chains price LayerZero differently
 * (SimpleMessageLib fee per chain, devnet/devnet.ts): collateral edges (activities/quotes.ts) and capacity
 * moves with `bridge: auto` (activities/capacityPlan.ts `capacityBridge`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { findFreePort } from '../../devnet/temporal.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { capacityBridge } from '../../activities/capacityPlan.js';
import { BRIDGE_QUOTERS } from '../../activities/quotes.js';
import { capacitySettings } from '../../config/capacity.js';
import { privateKeyToAccount } from 'viem/accounts';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import type { KeeperContext } from '../../activities/context.js';

const CHAINS = [
  { key: 'dear', chainId: 31401, eid: 40401, whChainId: 2, lzNativeFeeWei: 10n ** 18n }, // LayerZero priced far above any relay
  { key: 'cheap', chainId: 31402, eid: 40402, whChainId: 23 }, // SimpleMessageLib's own 100 wei
];

describe('bridge chosen per move from quotes (devnet with per-chain LayerZero fees)', { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let ctx: KeeperContext;
  before(async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-bridge-'));
    devnet = await startDevnet({
      chains: CHAINS,
      workDir,
      temporalAddress: `127.0.0.1:${await findFreePort()}`,
      configOverrides: (c) => ({ ...c, chains: c.chains.map((ch) => ({ ...ch, capacity: { highPct: 90, lowPct: 80, minMove: '1', maxMove: '1000000', bridge: 'auto' as const } })) }),
    });
    ctx = buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), new BallastMetrics(false), createLogger('test', fs.createWriteStream(path.join(workDir, 'keeper.log')) as never));
  });
  after(async () => {
    await devnet?.stop();
  });

  test('collateral quotes: Wormhole undercuts LayerZero out of the dear chain, not out of the cheap one', async () => {
    const dear = ctx.chains.get('dear')!;
    const cheap = ctx.chains.get('cheap')!;
    const block = async (c: typeof dear) => c.clients.publicClient.getBlockNumber();
    const [lzFromDear] = await BRIDGE_QUOTERS.layerzero!.quoteNativeFees(ctx, dear, [cheap], 1_000_000n, await block(dear));
    const [whFromDear] = await BRIDGE_QUOTERS.wormhole!.quoteNativeFees(ctx, dear, [cheap], 1_000_000n, await block(dear));
    const [lzFromCheap] = await BRIDGE_QUOTERS.layerzero!.quoteNativeFees(ctx, cheap, [dear], 1_000_000n, await block(cheap));
    const [whFromCheap] = await BRIDGE_QUOTERS.wormhole!.quoteNativeFees(ctx, cheap, [dear], 1_000_000n, await block(cheap));
    assert.ok(lzFromDear?.ok && whFromDear?.ok && lzFromCheap?.ok && whFromCheap?.ok);
    assert.equal(lzFromDear.nativeFeeWei, 10n ** 18n, 'the dear chain charges its configured LayerZero fee');
    assert.equal(lzFromCheap.nativeFeeWei, 100n);
    assert.ok(whFromDear.nativeFeeWei < lzFromDear.nativeFeeWei, `wormhole ${whFromDear.nativeFeeWei} < layerzero ${lzFromDear.nativeFeeWei}`);
    assert.ok(whFromCheap.nativeFeeWei > lzFromCheap.nativeFeeWei, `wormhole ${whFromCheap.nativeFeeWei} > layerzero ${lzFromCheap.nativeFeeWei} (relay gas costs more than 100 wei)`);
  });

  test('capacity moves with bridge auto take the cheaper quote in each direction; a fixed preference wins over quotes', async () => {
    const settings = capacitySettings(devnet.config)!;
    const out = await capacityBridge(ctx, settings, 'dear', 'cheap');
    assert.equal(out.bridge, 'wormhole');
    assert.match(out.why ?? '', /over Wormhole: quoted \d+ wei vs LayerZero 1000000000000000000 wei/);
    const back = await capacityBridge(ctx, settings, 'cheap', 'dear');
    assert.equal(back.bridge, 'layerzero');
    assert.match(back.why ?? '', /over LayerZero: quoted 100 wei vs Wormhole \d+ wei/);
    const fixed = await capacityBridge(ctx, { ...settings, bridges: { dear: 'layerzero', cheap: 'auto' } }, 'dear', 'cheap');
    assert.equal(fixed.bridge, 'layerzero', 'an end that insists on LayerZero is honoured');
  });
});
