/**
 * Ops commands on a real devnet (two anvil chains, every contract deployed; no Temporal: the dry run
 * says the monitor is not reachable and plans on the chains alone):
 * - `ballast plan --dry-run` prints the plan for the live state and sends nothing: no new block, the
 *   keeper's nonce, every vault's and route's balance and the vaults' supplied amounts unchanged;
 * - a leg refused by the vault's outflow cap is counted in `ballast_cap_breached_total` and the outflow
 *   window use is exported, for the BallastCapBreached / BallastOutflowCapExhausted alerts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, createWalletClient, erc20Abi, http, keccak256, toHex, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startDevnet, type Devnet } from '../../devnet/devnet.js';
import { findFreePort } from '../../devnet/temporal.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import { createActivities } from '../../activities/index.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { TWO_CHAINS } from '../workflows/harness.js';
import { runCaptured } from '../../cli/main.js';

const M = 10n ** 6n;
/** `ballast …` in-process (cli/main.ts), its output captured; `env` set (or, undefined, unset) for the run only. */
const ballast = (args: string[], env?: Record<string, string | undefined>) => runCaptured(args, { env });

describe('ops on a devnet: plan --dry-run, cap breach metrics', () => {
  let devnet: Devnet;
  let workDir: string;
  const keeper = privateKeyToAccount(DEVNET_ACCOUNTS.keeper).address;
  const clients = (key: string) => {
    const c = devnet.deployment.chains[key]!;
    const chain = { id: c.chainId, name: key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
    return { c, pub: createPublicClient({ chain, transport: http(c.rpcUrl) }), wallet: (pk: `0x${string}`) => createWalletClient({ chain, transport: http(c.rpcUrl), account: privateKeyToAccount(pk) }) };
  };
  const write = async (key: string, pk: `0x${string}`, functionName: 'borrow' | 'setOutflowCap', args: readonly bigint[]) => {
    const { c, pub, wallet } = clients(key);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const hash = await wallet(pk).writeContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName, args } as any);
    assert.equal((await pub.waitForTransactionReceipt({ hash })).status, 'success');
  };
  /** Everything a sent transaction would change. */
  const chainState = async () => {
    const out: Record<string, { block: bigint; keeperNonce: number; vault: bigint; route: bigint; supplied: bigint }> = {};
    for (const key of Object.keys(devnet.deployment.chains)) {
      const { c, pub } = clients(key);
      const bal = (who: Address) => pub.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [who] });
      out[key] = {
        block: await pub.getBlockNumber({ cacheTime: 0 }),
        keeperNonce: await pub.getTransactionCount({ address: keeper, blockTag: 'pending' }),
        vault: await bal(c.contracts.vault),
        route: await bal(c.contracts.route),
        supplied: await pub.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }),
      };
    }
    return out;
  };

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-plan-'));
    // Temporal is deliberately not running at this address: the dry run must still plan.
    devnet = await startDevnet({ chains: TWO_CHAINS, workDir, temporalAddress: `127.0.0.1:${await findFreePort()}` });
    // alpha 90% utilized (above its 60–80% band), beta 50% (below): the plan moves liquidity beta → alpha.
    await write('alpha', DEVNET_ACCOUNTS.market, 'borrow', [9_000_000n * M]);
    await write('beta', DEVNET_ACCOUNTS.market, 'borrow', [5_000_000n * M]);
    for (const key of ['alpha', 'beta']) {
      // a fresh oracle round (ETH/USD 3000, 8 decimals) stamped with the chain's time
      const { c, pub, wallet } = clients(key);
      const ts = (await pub.getBlock()).timestamp;
      const hash = await wallet(DEVNET_ACCOUNTS.deployer).writeContract({ address: c.contracts.priceFeed, abi: devPriceFeedAbi, functionName: 'setRound', args: [1n, 3_000n * 10n ** 8n, ts, ts, 1n] });
      assert.equal((await pub.waitForTransactionReceipt({ hash })).status, 'success');
    }
  });
  after(async () => {
    await devnet?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('`ballast plan --dry-run --json` prints the plan (beta → alpha within the caps) and sends nothing', async () => {
    const before = await chainState();
    const r = await ballast(['plan', '--dry-run', '-c', devnet.configFile, '--json'], { BALLAST_KEEPER_PRIVATE_KEY: DEVNET_ACCOUNTS.keeper });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      dryRun: boolean;
      keeper: string;
      monitor: { reachable: boolean; note: string };
      snapshot: { freshness: string; chains: { chainKey: string; utilizationWad: string }[] };
      plan: { transfers: { from: string; to: string; amount: string; rebalanceId: string; reason: string }[]; unresolved: { chainKey: string; reason: string }[] };
    };
    assert.equal(out.dryRun, true);
    assert.equal(out.keeper, keeper, 'the keeper address is shown; its key is never used to sign');
    assert.equal(out.monitor.reachable, false);
    assert.match(out.monitor.note, /monitor not reachable .*planned with no in-flight rebalances/);
    assert.equal(out.snapshot.freshness, 'fresh');
    assert.equal(out.snapshot.chains.find((c) => c.chainKey === 'alpha')!.utilizationWad, (9n * 10n ** 17n).toString());
    assert.ok(out.plan.transfers.length >= 1, r.stdout);
    const t = out.plan.transfers[0]!;
    assert.deepEqual([t.from, t.to], ['beta', 'alpha']);
    assert.match(t.amount, /^\d+$/);
    assert.ok(BigInt(t.amount) > 0n && BigInt(t.amount) <= devnet.config.chains[1]!.caps.maxTransfer, 'within the per-transfer cap');
    assert.match(t.rebalanceId, /^0x[0-9a-f]{64}$/);
    assert.deepEqual(await chainState(), before, 'no block mined, keeper nonce, balances and supplied unchanged');
  });

  test('the text output shows each chain and each transfer with its amount, id and reason; --offline skips Temporal', async () => {
    const before = await chainState();
    const r = await ballast(['plan', '--dry-run', '--offline', '-c', devnet.configFile], { BALLAST_KEEPER_PRIVATE_KEY: undefined });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DRY RUN: nothing is signed or sent \(deployment devnet, keeper 0x0{40}\)$/m, 'without a key the zero address labels the context');
    assert.match(r.stdout, /^offline: planned with no in-flight rebalances/m);
    assert.match(r.stdout, /^ {2}alpha +block \d+ {2}utilization 90\.00%/m);
    assert.match(r.stdout, /^plan: [1-9]\d* transfer\(s\)$/m);
    assert.match(r.stdout, /^ {2}beta → alpha [\d.]+ USDC \(\d+ base units\)(?: via \w+)? {2}id 0x[0-9a-f]{64}\n {6}(?=\S).*alpha.*$/m, 'the transfer (and its bridge) and, below it, its reason');
    assert.deepEqual(await chainState(), before);
  });

  test('`ballast plan` without --dry-run refuses (exit 2) and sends nothing', async () => {
    const before = await chainState();
    const r = await ballast(['plan', '-c', devnet.configFile]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /only --dry-run is supported/);
    assert.deepEqual(await chainState(), before);
  });

  test('a withdraw refused by the vault outflow cap counts ballast_cap_breached_total; the window use is exported; no leg stays "in progress"', async () => {
    const metrics = new BallastMetrics(false);
    const ctx = buildKeeperContext(devnet.config, privateKeyToAccount(DEVNET_ACCOUNTS.keeper), metrics, createLogger('cap-test', { write: () => undefined } as never));
    const acts = createActivities(ctx);
    await write('alpha', DEVNET_ACCOUNTS.deployer, 'setOutflowCap', [1_000n * M, 3600n]);
    await assert.rejects(acts.withdrawFromVault({ rebalanceId: keccak256(toHex(`cap:${Date.now()}`)), purpose: 'forward', chainKey: 'alpha', amount: 50_000n * M }), /OutflowCapExceeded/);
    const text = await metrics.registry.metrics();
    assert.match(text, /^ballast_cap_breached_total\{chain="alpha",cap="onchain_outflow"\} 1$/m);
    assert.equal(metrics.legs.size, 0);
    assert.doesNotMatch(text, /^ballast_leg_in_progress_seconds\{/m);
    await acts.readSnapshot({});
    assert.match(await metrics.registry.metrics(), /^ballast_outflow_window_used_ratio\{chain="alpha"\} 0$/m);
  });
});
