/**
 * Bad input on real chains: oracle rounds published into the real DevPriceFeed on anvil, and chain
 * reads that partly fail, go through the keeper's own activities (`readSnapshot`, `planRebalances`).
 *
 * Promise under test (issue 4, "Bad input"): a chain whose oracle round is stale, all-zero, deviating
 * or carried over is left out of planning, the reason is said (snapshot, log) and exported
 * (`ballast_oracle_rejected{chain} = 1`); a multicall that partly fails means no plan at all that tick.
 *
 * Set-up: three chains a, b, c with 10M tokens supplied each; the market account borrows 95% on `a`
 * (band 60–80%), so a healthy snapshot plans b→a and c→a.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { privateKeyToAccount } from 'viem/accounts';
import type { Address } from 'viem';
import { collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import { loadBytecode } from '../../contracts/artifacts.js';
import { exampleConfig, parseConfig, type BallastConfigInput } from '../../config/index.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { loadInvalidRounds } from '../../devnet/marketData.js';
import { buildKeeperContext } from '../../keeper/runtime.js';
import { BallastMetrics } from '../../keeper/metrics.js';
import { createLogger } from '../../keeper/logger.js';
import { readSnapshot } from '../../activities/snapshot.js';
import { planRebalances } from '../../activities/plan.js';
import type { KeeperContext } from '../../activities/context.js';
import type { Snapshot } from '../../planner/types.js';
import { mined, startDevnetFixture, type DevnetFixture } from './devnetFixture.js';

const TOKENS = 10n ** 6n;
const LIQUIDITY = 10_000_000n * TOKENS;
const PRICE = 2_000n * 10n ** 8n; // 2000 USD, 8 decimals
const MAX_STALENESS_SEC = 3600; // exampleConfig's oracle limits
const MAX_DEVIATION_BPS = 500;

let fx: DevnetFixture;
/** Next unused round id per chain (the feed's latest round is the highest id written). */
const nextRoundId = new Map<string, bigint>();

/** The keeper's config for the fixture's chains; `edit` changes the raw input before validation. */
function keeperConfigInput(edit?: (c: BallastConfigInput) => void): BallastConfigInput {
  const input = exampleConfig({
    deployment: 'bad-input',
    chains: fx.keys.map((key) => {
      const c = fx.deployment.chains[key]!;
      const { multicall3, endpoint, token, vault, route, priceFeed } = c.contracts;
      return { key, chainId: c.chainId, rpcUrl: c.rpcUrl, eid: c.eid, contracts: { multicall3, endpoint, token, vault, route, priceFeed } };
    }),
  });
  edit?.(input);
  return input;
}

interface Keeper {
  ctx: KeeperContext;
  metrics: BallastMetrics;
  logs: string[];
}

function keeper(edit?: (c: BallastConfigInput) => void): Keeper {
  const logs: string[] = [];
  const metrics = new BallastMetrics(false);
  const log = createLogger('bad-input-test', { write: (s: string) => void logs.push(s) });
  const ctx = buildKeeperContext(parseConfig(keeperConfigInput(edit)), privateKeyToAccount(DEVNET_ACCOUNTS.keeper), metrics, log);
  return { ctx, metrics, logs };
}

async function gauge(metrics: BallastMetrics, name: string, chain: string): Promise<number | undefined> {
  const m = metrics.registry.getSingleMetric(name);
  assert.ok(m, `metric ${name} is registered`);
  return (await m.get()).values.find((v) => v.labels.chain === chain)?.value;
}

async function latestTimestamp(key: string): Promise<bigint> {
  return (await fx.clients(key).pub.getBlock({ blockTag: 'latest' })).timestamp;
}

/** Writes a round into chain `key`'s DevPriceFeed as its owner (the deployer); returns its id. */
async function setRound(key: string, r: { roundId?: bigint; answer: bigint; updatedAtSec: bigint; startedAtSec?: bigint; answeredInRound?: bigint }): Promise<bigint> {
  const roundId = r.roundId ?? nextRoundId.get(key) ?? 1n;
  const next = nextRoundId.get(key) ?? 1n;
  nextRoundId.set(key, roundId >= next ? roundId + 1n : next);
  const cc = fx.clients(key);
  await mined(
    cc.pub,
    cc.deployer.writeContract({
      address: cc.chain.contracts.priceFeed,
      abi: devPriceFeedAbi,
      functionName: 'setRound',
      args: [roundId, r.answer, r.startedAtSec ?? r.updatedAtSec, r.updatedAtSec, r.answeredInRound ?? roundId],
    }),
  );
  return roundId;
}

/** A fresh, valid round at `answer` on every chain (or the given ones). */
async function freshRounds(answer = PRICE, keys = fx.keys): Promise<void> {
  for (const key of keys) await setRound(key, { answer, updatedAtSec: await latestTimestamp(key) });
}

/** Asserts the snapshot read every chain, refused exactly `bad`'s oracle with a reason matching `reason`, and exported it. */
async function assertOracleRefused(k: Keeper, snap: Snapshot, bad: string, reason: RegExp): Promise<void> {
  assert.equal(snap.freshness, 'fresh', 'every chain was read: an oracle refusal is not a read failure');
  assert.deepEqual(snap.excluded, []);
  for (const c of snap.chains) {
    if (c.chainKey === bad) {
      assert.equal(c.oracleCheck.ok, false, `${bad}'s round is refused`);
      assert.match(c.oracleCheck.reason ?? '', reason);
      assert.equal(await gauge(k.metrics, 'ballast_oracle_rejected', bad), 1, `ballast_oracle_rejected{chain="${bad}"} is 1`);
    } else {
      assert.equal(c.oracleCheck.ok, true, `${c.chainKey}'s round is fine: ${c.oracleCheck.reason ?? ''}`);
      assert.equal(await gauge(k.metrics, 'ballast_oracle_rejected', c.chainKey), 0);
    }
  }
  const text = await k.metrics.registry.metrics();
  assert.match(text, new RegExp(`ballast_oracle_rejected\\{chain="${bad}"\\} 1`), 'exported on /metrics');
  const warned = k.logs.map((l) => JSON.parse(l) as { chain?: string; reason?: string; msg: string }).find((l) => l.chain === bad && /oracle round refused/.test(l.msg));
  assert.ok(warned, `a warning names ${bad}`);
  assert.match(warned.reason ?? '', reason, 'the log says why');
}

/** Plans on `snap` and asserts no transfer touches `bad`, which is listed as unresolved because of its oracle. */
async function assertNoTransferTouches(k: Keeper, snap: Snapshot, bad: string) {
  const plan = await planRebalances(k.ctx, { snapshot: snap, inFlight: [] });
  const touching = plan.transfers.filter((t) => t.from === bad || t.to === bad);
  assert.deepEqual(touching, [], `no transfer from or to ${bad}`);
  const why = plan.unresolved.find((u) => u.chainKey === bad);
  if (bad === 'a') assert.match(why?.reason ?? '', /oracle refused/, 'the needy chain is reported unresolved because of its oracle');
  return plan;
}

describe('bad oracle input and partial reads, through readSnapshot and planRebalances on anvil', { timeout: 180_000 }, () => {
  before(async () => {
    fx = await startDevnetFixture({ chainCount: 3, initialLiquidity: LIQUIDITY });
    const a = fx.clients('a');
    await mined(a.pub, a.market.writeContract({ address: a.chain.contracts.vault, abi: collateralVaultAbi, functionName: 'borrow', args: [(LIQUIDITY * 95n) / 100n] }));
  });
  after(async () => {
    await fx?.stop();
  });

  test('baseline: with fresh rounds everywhere, a at 95% utilization gets liquidity from b and c', async () => {
    await freshRounds();
    const k = keeper();
    const snap = await readSnapshot(k.ctx);
    assert.equal(snap.freshness, 'fresh');
    assert.ok(snap.chains.every((c) => c.oracleCheck.ok));
    const plan = await planRebalances(k.ctx, { snapshot: snap, inFlight: [] });
    // Routes, not messages: where a capped message cannot carry the need, a route carries several (planner/routing.ts).
    assert.deepEqual([...new Set(plan.transfers.map((t) => `${t.from}->${t.to}`))].sort(), ['b->a', 'c->a']);
    for (const t of plan.transfers) assert.ok(t.amount <= k.ctx.chains.get(t.from)!.policy.caps.maxTransfer, `${t.from}->${t.to} ${t.amount} within maxTransfer`);
  });

  test(`a stale round (updatedAt older than maxStalenessSec ${MAX_STALENESS_SEC}) leaves the chain out`, async () => {
    await freshRounds();
    const old = (await latestTimestamp('a')) - BigInt(MAX_STALENESS_SEC + 600);
    await setRound('a', { answer: PRICE, updatedAtSec: old });
    const k = keeper();
    const snap = await readSnapshot(k.ctx);
    await assertOracleRefused(k, snap, 'a', new RegExp(`stale: age (\\d+)s > maxStalenessSec ${MAX_STALENESS_SEC}`));
    const age = Number(/stale: age (\d+)s/.exec(snap.chains.find((c) => c.chainKey === 'a')!.oracleCheck.reason!)![1]);
    assert.ok(age >= MAX_STALENESS_SEC + 600, `age ${age}s measured against the block time`);
    const plan = await assertNoTransferTouches(k, snap, 'a');
    assert.deepEqual(plan.transfers, [], 'nobody else needs liquidity');
  });

  test('the real all-zero Chainlink round (last row of the ETH/USD fixture) leaves the chain out', async (t) => {
    const invalid = loadInvalidRounds();
    if (invalid.source !== 'fixture') {
      t.skip(`fixtures absent (${invalid.note}); the real all-zero round cannot be replayed`);
      return;
    }
    const zero = invalid.rounds.at(-1);
    assert.ok(zero, 'the fixture has an invalid round');
    assert.equal(zero.answer, 0n, 'the last invalid round is all-zero: answer');
    assert.equal(zero.updatedAtSec, 0n, 'the last invalid round is all-zero: updatedAt');
    await freshRounds();
    await setRound('a', { roundId: zero.roundId, answer: zero.answer, startedAtSec: zero.startedAtSec, updatedAtSec: zero.updatedAtSec, answeredInRound: zero.answeredInRound });
    const k = keeper();
    const snap = await readSnapshot(k.ctx);
    const a = snap.chains.find((c) => c.chainKey === 'a')!;
    assert.equal(a.oracle.roundId, zero.roundId, 'the feed served the real round id');
    await assertOracleRefused(k, snap, 'a', new RegExp(`invalid answer: 0 ≤ 0 \\(round ${zero.roundId}\\); incomplete round: updatedAt is 0`));
    await assertNoTransferTouches(k, snap, 'a');
  });

  test(`a price moving more than maxDeviationBps ${MAX_DEVIATION_BPS} from the previous snapshot leaves the chain out; a smaller move does not`, async () => {
    await freshRounds();
    const k = keeper();
    const previous = await readSnapshot(k.ctx);
    assert.ok(previous.chains.every((c) => c.oracleCheck.ok));
    await setRound('b', { answer: (PRICE * 104n) / 100n, updatedAtSec: await latestTimestamp('b') }); // +4%: accepted
    await setRound('a', { answer: (PRICE * 110n) / 100n, updatedAtSec: await latestTimestamp('a') }); // +10%
    const snap = await readSnapshot(k.ctx, previous);
    await assertOracleRefused(k, snap, 'a', /deviation: 2200 vs previous 2000 moved 1000\.00 bps > maxDeviationBps 500/);
    await assertNoTransferTouches(k, snap, 'a');
    // The refused jump does not become the reference: the next tick still compares with the last accepted 2000.
    const next = await readSnapshot(k.ctx, snap);
    await assertOracleRefused(k, next, 'a', /deviation: 2200 vs previous 2000 moved 1000\.00 bps > maxDeviationBps 500/);
    // Without the previous snapshot there is nothing to deviate from.
    const alone = await readSnapshot(keeper().ctx);
    assert.ok(alone.chains.every((c) => c.oracleCheck.ok));
  });

  test('a carried-over answer (answeredInRound < roundId) leaves the chain out', async () => {
    await freshRounds();
    const id = nextRoundId.get('a')!;
    await setRound('a', { roundId: id, answer: PRICE, updatedAtSec: await latestTimestamp('a'), answeredInRound: id - 1n });
    const k = keeper();
    const snap = await readSnapshot(k.ctx);
    await assertOracleRefused(k, snap, 'a', new RegExp(`carried-over answer: answeredInRound ${id - 1n} < roundId ${id}`));
    await assertNoTransferTouches(k, snap, 'a');
  });

  test('a bad round on a donor chain removes only its transfers: b is stale, c still sends to a', async () => {
    await freshRounds();
    await setRound('b', { answer: PRICE, updatedAtSec: (await latestTimestamp('b')) - BigInt(MAX_STALENESS_SEC * 2) });
    const k = keeper();
    const snap = await readSnapshot(k.ctx);
    await assertOracleRefused(k, snap, 'b', /stale: age \d+s > maxStalenessSec 3600/);
    const plan = await assertNoTransferTouches(k, snap, 'b');
    assert.deepEqual([...new Set(plan.transfers.map((t) => `${t.from}->${t.to}`))], ['c->a']);
  });

  describe('a multicall that partly fails: the snapshot is partial and nothing is planned (fail closed)', () => {
    /** Reads with `edit` applied to chain c's config and checks the fail-closed outcome. */
    async function assertPartial(edit: (contracts: BallastConfigInput['chains'][number]['contracts']) => void, failedCall: RegExp): Promise<void> {
      await freshRounds();
      const k = keeper((cfg) => edit(cfg.chains[2]!.contracts));
      const snap = await readSnapshot(k.ctx);
      assert.equal(snap.freshness, 'partial');
      assert.deepEqual(snap.chains.map((c) => c.chainKey), ['a', 'b'], 'the healthy chains were read');
      assert.equal(snap.excluded.length, 1);
      assert.equal(snap.excluded[0]!.chainKey, 'c');
      assert.match(snap.excluded[0]!.reason, failedCall);
      assert.match(snap.excluded[0]!.reason, /no plan on a partial snapshot/);
      assert.equal(await gauge(k.metrics, 'ballast_snapshot_freshness', 'c'), 0);
      assert.ok(k.logs.some((l) => /"chain":"c".*chain read failed; no plan this tick/.test(l)), 'logged');

      const plan = await planRebalances(k.ctx, { snapshot: snap, inFlight: [] });
      assert.deepEqual(plan.transfers, [], 'no transfer at all, not even b->a between healthy chains');
      assert.equal(plan.unresolved.length, 1);
      assert.match(plan.unresolved[0]!.reason, /not planned: snapshot partial: .*c: multicall read failed/);
      // The same chains with c's config restored would plan: the refusal is the partial read alone.
      const healthy = keeper();
      assert.ok((await planRebalances(healthy.ctx, { snapshot: await readSnapshot(healthy.ctx), inFlight: [] })).transfers.length > 0);
    }

    test('a feed that never published a round (latestRoundData reverts NoRoundData)', async () => {
      const cc = fx.clients('c');
      const hash = await cc.deployer.deployContract({ abi: devPriceFeedAbi, bytecode: loadBytecode('DevPriceFeed'), args: [8, 'ETH / USD (empty)', fx.deployment.accounts.deployer] });
      const emptyFeed = (await mined(cc.pub, hash)).contractAddress as Address;
      await assertPartial((c) => (c.priceFeed = emptyFeed), /c: multicall read failed for feed\.latestRoundData;/);
    });

    test('a priceFeed address with no code (both feed calls fail)', async () => {
      const noCode = fx.deployment.accounts.market; // an EOA
      assert.equal(await fx.clients('c').pub.getCode({ address: noCode }), undefined);
      await assertPartial((c) => (c.priceFeed = noCode), /feed\.latestRoundData, feed\.decimals/);
    });

    test('a vault address that is not a vault (the LayerZero send library)', async () => {
      const notVault = fx.deployment.chains.c!.contracts.sendLib;
      assert.ok(await fx.clients('c').pub.getCode({ address: notVault }), 'it is a contract');
      await assertPartial((c) => (c.vault = notVault), /vault\.totalSupplied, vault\.totalBorrowed, vault\.outflowCap/);
    });
  });
});
