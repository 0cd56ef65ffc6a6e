/**
 * The leg journal end to end through Temporal's activity context (issue 11, defect 3, as wired in the keeper):
 * an EVM leg whose receipt wait times out while its transaction is still pending records that transaction in its
 * heartbeat details BEFORE broadcasting it; the retry (a new attempt, given the last heartbeat details as Temporal
 * gives them) settles that same transaction instead of signing a second one. Runs the real activity
 * (`withdrawFromVault`) on a real anvil devnet (automine off while the first attempt waits), in
 * `MockActivityEnvironment` (the activity context with heartbeats and `info.heartbeatDetails`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keccak256, toHex, type Hex } from 'viem';
import { exampleConfig, parseConfig } from '../../config/index.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { loadKeeperAccount } from '../../keeper/keys.js';
import { withdrawFromVault } from '../../activities/legs.js';
import type { KeeperContext } from '../../activities/context.js';
import type { LegResult } from '../../activities/types.js';
import { collateralVaultAbi } from '../../contracts/generated/abis.js';
import { ReceiptTimeoutError } from '../../chains/evm/errors.js';
import { startDevnetFixture, type DevnetFixture } from './devnetFixture.js';

const AMOUNT = 10_000n * 10n ** 6n;

describe('the leg journal: a retry settles the leg’s own pending transaction (heartbeat details)', { timeout: 60_000 }, () => {
  let fx: DevnetFixture;
  let ctx: KeeperContext;

  before(async () => {
    fx = await startDevnetFixture({ chainCount: 2 });
    const config = parseConfig(
      exampleConfig({
        deployment: 'leg-journal',
        chains: fx.keys.map((key) => {
          const c = fx.deployment.chains[key]!;
          const { multicall3, endpoint, token, vault, route, priceFeed } = c.contracts;
          return { key, chainId: c.chainId, rpcUrl: c.rpcUrl, eid: c.eid, contracts: { multicall3, endpoint, token, vault, route, priceFeed } };
        }),
      }),
    );
    const account = loadKeeperAccount(config, { [config.keeper.privateKeyEnv]: DEVNET_ACCOUNTS.keeper });
    ctx = buildKeeperContext(config, account, new BallastMetrics(true), createLogger('leg-journal-test', { write: () => undefined }));
    ctx.chains.get('a')!.receiptTimeoutMs = 1_500;
  });
  after(async () => {
    await fx?.stop();
  });

  test('first attempt: receipt timeout, the signed tx journaled; retry with the details: the same tx, done, one transaction in all', async () => {
    const c = ctx.chains.get('a')!;
    const pc = c.clients.publicClient;
    const keeper = c.clients.walletClient!.account.address;
    const rebalanceId = keccak256(toHex(`leg-journal:${process.pid}:${Date.now()}`)) as Hex;
    const input = { rebalanceId, purpose: 'forward' as const, chainKey: 'a', amount: AMOUNT };
    const nonceBefore = await pc.getTransactionCount({ address: keeper, blockTag: 'latest' });

    await pc.request({ method: 'evm_setAutomine' as never, params: [false] as never });
    const first = new MockActivityEnvironment({ attempt: 1 });
    let details: unknown;
    first.on('heartbeat', (d: unknown) => {
      if (d !== undefined) details = d;
    });
    await assert.rejects(first.run(() => withdrawFromVault(ctx, input)), (err: unknown) => err instanceof ReceiptTimeoutError);
    const journaled = Object.values((details as { legJournal: Record<string, { hash: Hex; nonce: number }> }).legJournal);
    assert.equal(journaled.length, 1, 'one transaction journaled for the leg');
    const tx = journaled[0]!;
    assert.equal(tx.nonce, nonceBefore);

    // The retry starts while the first transaction is still pending; a block is mined while it waits.
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: details });
    const mine = new Promise<void>((resolve) => setTimeout(() => void pc.request({ method: 'evm_mine' as never, params: [] as never }).then(() => resolve()), 300));
    const r: LegResult = await retry.run(() => withdrawFromVault(ctx, input));
    await mine;
    await pc.request({ method: 'evm_setAutomine' as never, params: [true] as never });

    assert.equal(r.alreadyDone, true, 'the retry found the leg done by its own first transaction');
    assert.equal(r.txHash, tx.hash, 'the journaled transaction is the one that did it');
    assert.equal(await pc.getTransactionCount({ address: keeper, blockTag: 'latest' }), nonceBefore + 1, 'exactly one transaction sent for the leg');
    assert.equal(await pc.readContract({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'outflowOf', args: [rebalanceId] }), AMOUNT, 'withdrawn once');
  });
});
