/**
 * Run-time caps in an emergency, on the REAL `monitorWorkflow` (the keeper's workflow bundle) on Temporal's
 * time-skipping test server (test/workflows/timeSkipping.ts), through the real Updates and the `caps` query,
 * and through the CLI (`run()` from cli/main.ts, in-process) for `caps show|approve|cancel|freeze|unfreeze`:
 * 1. a cut survives a raise proposed before it and approved after it (the cut field is held; `caps show`
 *    said so before the approval; a raise with nothing left to apply is refused: propose again);
 * 2. a cancelled raise never applies: neither by approval nor after `raiseDelaySec` (time skipped);
 * 3. a signed request whose audit record was evicted (> 500 records later) is refused, also after a
 *    continue-as-new, until it expires (time skipped);
 * 4. a freeze by one approver is instant (no tick needed) and the next plan gives nothing from the chain
 *    (its reason in the plan's unresolved list); an unfreeze needs a second, different approver.
 *
 * What is real: the monitor workflow, the caps activities (`capsContext`, `verifyCapSignature` with EIP-712
 * signatures of two approver keys, `recordCapAudit` with its metrics) and the `planRebalances` activity
 * (greedy planner) on a read-only keeper context built from the test's config. Doubles: `readSnapshot` (a
 * fixed snapshot: alpha at 95% utilization, beta at 40%, so beta would give to alpha),
 * `checkDeploymentLedger` (balanced) and `planCapacityMoves` (not configured). The monitor runs paused
 * except in the freeze test, so no saga starts. Time: the server's (skipped), never the wall clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { privateKeyToAccount } from 'viem/accounts';
import { exampleConfig, parseConfig, writeConfigFile, type BallastConfigInput } from '../../config/index.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { loadWorkflowBundle } from '../../keeper/workflowBundle.js';
import { workflowsPath } from '../../keeper/worker.js';
import { monitorWorkflowId, setPaused, updateRefusal } from '../../keeper/client.js';
import { approveCaps, controlCaps, proposeCaps, readCaps } from '../../keeper/caps.js';
import { createCapActivities } from '../../activities/caps.js';
import { planRebalances } from '../../activities/plan.js';
import type { Activities } from '../../activities/index.js';
import type { CapacityPlanResult } from '../../activities/capacityPlan.js';
import type { KeeperContext } from '../../activities/context.js';
import { monitorStatusQuery, proposeCapChangeUpdate, type MonitorStatus } from '../../workflows/messages.js';
import type { CapRules } from '../../workflows/caps.js';
import type { Snapshot } from '../../planner/types.js';
import { runCaptured } from '../../cli/main.js';
import { chain } from '../unit/plannerFixtures.js';
import { createTimeSkippingEnv, eventually } from './timeSkipping.js';

/** Base units per token (6 decimals). */
const T = 10n ** 6n;
// Anvil's public test accounts 5 and 6 (devnet only): two approvers.
const KEY_A = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba' as const;
const KEY_B = '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e' as const;
const riskA = privateKeyToAccount(KEY_A);
const riskB = privateKeyToAccount(KEY_B);
const DEPLOYMENT = 'caps-emergency';
const TICK_SEC = 60;
const TICKS_PER_RUN = 5;
/** alpha, beta and 48 more chains: a `freeze --all` writes 50 audit records (one per chain). */
const CHAIN_KEYS = ['alpha', 'beta', ...Array.from({ length: 48 }, (_, i) => `c${String(i + 2).padStart(2, '0')}`)];

const SNAPSHOT: Snapshot = { takenAtMs: 1, chains: [chain('alpha', 1, 0.95), chain('beta', 2, 0.8)], excluded: [], freshness: 'fresh' };



describe('run-time caps in an emergency: the real monitor on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let ctx: KeeperContext;
  let configFile: string;
  let tmp: string;
  const taskQueue = `caps-emergency-${process.pid}`;
  /** `ballast …` in-process with approver `key` in the environment. */
  const ballast = (argv: string[], key: `0x${string}` = KEY_A) => runCaptured(argv, { env: { BALLAST_APPROVER_PRIVATE_KEY: key } });
  const serverNowSec = async () => BigInt(Math.floor((await env.currentTimeMs()) / 1000));
  const view = async () => (await readCaps(env.client, DEPLOYMENT))!;
  const status = (): Promise<MonitorStatus> => env.client.workflow.getHandle(monitorWorkflowId(DEPLOYMENT)).query(monitorStatusQuery);

  /** Ends the previous scenario's monitor and starts a new one with `rules` (paused unless told), after its first tick. */
  async function freshMonitor(rules: CapRules, opts: { paused?: boolean } = {}): Promise<WorkflowHandle> {
    ctx.risk = { approvers: ctx.risk!.approvers, rules };
    const id = monitorWorkflowId(DEPLOYMENT);
    await env.client.workflow
      .getHandle(id)
      .terminate('next scenario')
      .catch(() => undefined);
    const paused = opts.paused ?? true;
    const carried = paused
      ? { status: { deployment: DEPLOYMENT, paused: true, pauseReason: 'caps test', ticks: 0, totalTicks: 0, inFlight: [], lastUnresolved: [], started: 0, finished: { completed: 0, compensated: 0, stranded: 0 }, recent: [], ledger: { stranded: [] } } }
      : undefined;
    const handle = await env.client.workflow.start('monitorWorkflow', { taskQueue, workflowId: id, args: [{ deployment: DEPLOYMENT, tickIntervalSec: TICK_SEC, maxTicksBeforeContinueAsNew: TICKS_PER_RUN, deliveryDeadlineSec: 600, carried }] });
    await eventually('the monitor to tick', () => readCaps(env.client, DEPLOYMENT));
    return handle;
  }

  /** What the `planCapacityMoves` double returns (capacity moves off unless a test plans one). */
  let capacityPlan: CapacityPlanResult = { enabled: false, moves: [], unresolved: [], chains: [] };

  before(async () => {
    env = await createTimeSkippingEnv();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-caps-emergency-'));
    const addr = (i: number, j: number): `0x${string}` => `0x${(i * 16 + j + 1).toString(16).padStart(40, '0')}`;
    const input: BallastConfigInput = {
      ...exampleConfig({
        deployment: DEPLOYMENT,
        chains: CHAIN_KEYS.map((key, i) => ({ key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${1 + i}`, eid: 40_000 + i, contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) } })),
      }),
      temporal: { address: env.address, taskQueue },
      risk: { capApprovers: [{ name: 'risk-a', address: riskA.address }, { name: 'risk-b', address: riskB.address }], approvalWindowSec: 600 },
      planner: { kind: 'greedy' },
    };
    configFile = path.join(tmp, 'ballast.yaml');
    writeConfigFile(configFile, input);
    ctx = buildReadOnlyKeeperContext(parseConfig(input)); // never contacts a chain: every chain read is a double below
    const activities: Pick<Activities, 'capsContext' | 'verifyCapSignature' | 'recordCapAudit' | 'readSnapshot' | 'planRebalances' | 'checkDeploymentLedger' | 'planCapacityMoves'> = {
      ...createCapActivities(ctx),
      readSnapshot: async () => SNAPSHOT,
      planRebalances: (i) => planRebalances(ctx, i),
      checkDeploymentLedger: async (i) => ({ totalSupply: 0n, perChain: {}, blocks: {}, inFlightUndelivered: 0n, openingSupply: i.openingSupply ?? 0n, balanced: true }),
      planCapacityMoves: async () => capacityPlan,
    };
    const bundle = await loadWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath });
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code: bundle.code }, activities, dataConverter });
    running = worker.run();
  });

  after(async () => {
    await env?.client.workflow
      .getHandle(monitorWorkflowId(DEPLOYMENT))
      .terminate('done')
      .catch(() => undefined);
    worker?.shutdown();
    await running;
    await env?.teardown();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('1. a cut survives a raise proposed before it and approved after it; `caps show` says so first', async () => {
    await freshMonitor({ approvalWindowSec: 600 });
    const nowSec = await serverNowSec();
    const raise = await proposeCaps(env.client, DEPLOYMENT, riskA, { scope: { chainKey: 'alpha' }, set: { maxOutflowPerWindow: 2_000_000n * T, maxTransfer: 400_000n * T }, reason: 'more room for the migration', nowSec });
    assert.equal(raise.outcome.status, 'pending');
    const onlyTransfer = await proposeCaps(env.client, DEPLOYMENT, riskA, { scope: { chainKey: 'alpha' }, set: { maxTransfer: 300_000n * T }, reason: 'bigger transfers', nowSec });
    assert.equal(onlyTransfer.outcome.status, 'pending');
    // The emergency cut, by the other approver: at once.
    const cut = await ballast(['caps', 'set', '-c', configFile, '--chain', 'alpha', '--max-transfer', (50_000n * T).toString(), '--reason', 'incident: bridge paused'], KEY_B);
    assert.equal(cut.code, 0, cut.stderr);
    assert.match(cut.stdout, /^applied 0x/);

    const show = await ballast(['caps', 'show', '-c', configFile]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`PENDING ${raise.request.changeId} chain alpha .*\\n  approving now: maxOutflowPerWindow 1000000000000 → 2000000000000; maxTransfer stays 50000000000 \\(held: cut after the proposal; proposed 400000000000\\)`));
    assert.match(show.stdout, new RegExp(`PENDING ${onlyTransfer.request.changeId} chain alpha .*\\n  approving now: changes nothing \\(maxTransfer stays 50000000000 .*\\); propose again against the caps in force`));
    const json = JSON.parse((await ballast(['caps', 'show', '-c', configFile, '--json'])).stdout) as { approvals: { changeId: string; changes: boolean; fields: { field: string; applies: string; held: boolean }[] }[] };
    assert.deepEqual(json.approvals.find((a) => a.changeId === raise.request.changeId)?.fields.map((f) => [f.field, f.applies, f.held]), [['maxOutflowPerWindow', (2_000_000n * T).toString(), false], ['maxTransfer', (50_000n * T).toString(), true]]);

    // The approval after the cut applies only what still raises from the caps in force.
    const approved = await ballast(['caps', 'approve', raise.request.changeId, '-c', configFile], KEY_B);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approved and applied 0x[0-9a-f]{64}: .*maxTransfer stays 50000000000 \(held/);
    const alpha = (await view()).effective.find((p) => p.chainKey === 'alpha')!;
    assert.equal(alpha.caps.maxTransfer, 50_000n * T, 'the cut survives the later-approved raise');
    assert.equal(alpha.caps.maxOutflowPerWindow, 2_000_000n * T, 'the field not cut is raised');
    const rec = (await view()).state.audit.find((a) => a.changeId === raise.request.changeId && a.action === 'approved');
    assert.deepEqual(rec?.new, { maxOutflowPerWindow: (2_000_000n * T).toString(), maxTransfer: (50_000n * T).toString() });

    // A raise with nothing left to apply is refused by the validator (exit 1) and stays pending.
    const refused = await ballast(['caps', 'approve', onlyTransfer.request.changeId, '-c', configFile], KEY_B);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /would change nothing .*propose the raise again/);
    assert.ok((await view()).state.pending.some((p) => p.request.changeId === onlyTransfer.request.changeId));
  });

  test('2. a cancelled raise never applies: not by approval, not after raiseDelaySec; one not cancelled does', async () => {
    await freshMonitor({ approvalWindowSec: 600, raiseDelaySec: 120 });
    const nowSec = await serverNowSec();
    const cancelled = await proposeCaps(env.client, DEPLOYMENT, riskA, { scope: { chainKey: 'beta' }, set: { maxTransfer: 400_000n * T }, reason: 'bigger transfers', nowSec });
    const kept = await proposeCaps(env.client, DEPLOYMENT, riskA, { scope: { chainKey: 'beta' }, set: { minBuffer: 0n }, reason: 'free the buffer', nowSec });
    assert.equal(cancelled.outcome.status, 'pending');
    assert.equal(kept.outcome.status, 'pending');

    const out = await ballast(['caps', 'cancel', cancelled.request.changeId, '-c', configFile, '--reason', 'not during the incident'], KEY_B);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`^cancelled ${cancelled.request.changeId} \\(cancel request 0x[0-9a-f]{64}\\)`));
    await assert.rejects(approveCaps(env.client, DEPLOYMENT, riskB, cancelled.request.changeId), /no pending cap raise or unfreeze/);

    const ticks = (await status()).totalTicks;
    await env.sleep(10 * TICK_SEC * 1000); // past the 120 s delay: ten ticks settle the pending raises
    await eventually('ticks after the delay', async () => (await status()).totalTicks >= ticks + 5);
    const v = await view();
    const beta = v.effective.find((p) => p.chainKey === 'beta')!;
    assert.equal(beta.caps.maxTransfer, 250_000n * T, 'the cancelled raise never applied');
    assert.equal(beta.minBufferAmount, 0n, 'the raise not cancelled applied after the delay');
    assert.deepEqual(v.state.audit.filter((a) => a.changeId === cancelled.request.changeId).map((a) => [a.action, a.who, a.reason]), [
      ['proposed', `risk-a (${riskA.address})`, 'bigger transfers'],
      ['cancelled', `risk-b (${riskB.address})`, 'not during the incident'],
    ]);
    assert.deepEqual(v.state.audit.filter((a) => a.changeId === kept.request.changeId).map((a) => a.action), ['proposed', 'applied-after-delay']);
  });

  test('3. a signed request whose audit record was evicted is refused, across continue-as-new, until it expires', async () => {
    await freshMonitor({ approvalWindowSec: 600 });
    const handle = env.client.workflow.getHandle(monitorWorkflowId(DEPLOYMENT));
    const firstRun = (await handle.describe()).runId;
    const nowSec = await serverNowSec();
    const r = await proposeCaps(env.client, DEPLOYMENT, riskA, { scope: { chainKey: 'alpha' }, set: { maxTransfer: 200_000n * T }, reason: 'lower alpha transfers', expiresInSec: 900, nowSec });
    assert.equal(r.outcome.status, 'applied');
    // 11 freezes of all 50 chains: 550 audit records after r's.
    for (let i = 0; i < 11; i += 1) await controlCaps(env.client, DEPLOYMENT, i % 2 ? riskA : riskB, { action: 'freeze', chains: 'all', reason: `drill ${i}` }, { nowSec });
    let v = await view();
    assert.equal(v.state.audit.length, 500);
    assert.ok(!v.state.audit.some((a) => a.changeId === r.request.changeId), "r's audit record was evicted");
    assert.ok(v.state.used?.[r.request.changeId], 'its id is still used');

    // Continue-as-new: the used ids are carried.
    await env.sleep((TICKS_PER_RUN + 1) * TICK_SEC * 1000);
    await eventually('a continue-as-new', async () => (await handle.describe()).runId !== firstRun);
    const resend = () => env.client.workflow.getHandle(monitorWorkflowId(DEPLOYMENT)).executeUpdate(proposeCapChangeUpdate, { args: [{ request: r.request, salt: r.salt, signature: r.signature }] });
    await assert.rejects(resend(), (e) => /already submitted/.test(updateRefusal(e)));

    // Once it has expired, its id is forgotten (bounded by expiry, not count) and the request is refused as expired.
    await env.sleep(900 * 1000);
    await eventually('the used id to be forgotten', async () => (await view()).state.used?.[r.request.changeId] === undefined);
    await assert.rejects(resend(), (e) => /expired/.test(updateRefusal(e)));
    v = await view();
    assert.equal(v.effective.find((p) => p.chainKey === 'alpha')!.caps.maxTransfer, 200_000n * T);
  });

  test('4. a freeze by one approver is instant and the plan gives nothing from the chain; an unfreeze needs a second approver', async () => {
    await freshMonitor({ approvalWindowSec: 600 });
    const frozen = await ballast(['caps', 'freeze', '-c', configFile, '--chain', 'beta', '--reason', 'bridge exploit', '--expires-in-sec', '86400']);
    assert.equal(frozen.code, 0, frozen.stderr);
    assert.match(frozen.stdout, /^frozen beta \(0x[0-9a-f]{64}\): no new outflow/);
    // Instant: the Update's answer already holds; no tick ran, no time was skipped.
    const v = await view();
    assert.equal(v.state.frozen?.beta?.by, `risk-a (${riskA.address})`);
    assert.equal(v.state.frozen?.beta?.reason, 'bridge exploit');
    const show = await ballast(['caps', 'show', '-c', configFile]);
    assert.match(show.stdout, /FROZEN chain beta since .* by risk-a \(0x[0-9a-fA-F]{40}\): bridge exploit/);
    assert.match(await ctx.metrics.registry.metrics(), /ballast_cap_frozen\{chain="beta"\} 1/);

    // Planning resumes: beta would give to alpha, and the capacity planner would move credit out of beta, but it is frozen.
    capacityPlan = {
      enabled: true,
      moves: [{ kind: 'capacity', rebalanceId: `0x${'c'.repeat(64)}`, from: 'beta', to: 'alpha', amount: 1_000_000n, reason: 'test: capacity out of a frozen chain', bridge: 'layerzero' }],
      unresolved: [],
      chains: [],
    };
    await setPaused(env.client, DEPLOYMENT, false);
    const st = await eventually('a plan and a capacity plan', async () => {
      const s = await status();
      return s.lastPlanAtMs !== undefined && s.lastCapacityUnresolved?.length ? s : undefined;
    });
    capacityPlan = { enabled: false, moves: [], unresolved: [], chains: [] };
    assert.equal(st.started, 0, 'no rebalance and no capacity move out of the frozen chain');
    assert.ok(st.lastCapacityUnresolved!.some((u) => u.chainKey === 'beta' && /beta frozen by risk-a .*: no capacity move out of it/.test(u.reason)), JSON.stringify(st.lastCapacityUnresolved));
    assert.ok(st.lastUnresolved.some((u) => u.chainKey === 'beta' && /beta frozen by risk-a .*\(bridge exploit\); no outflow planned from it/.test(u.reason)), JSON.stringify(st.lastUnresolved));
    await setPaused(env.client, DEPLOYMENT, true, 'caps test: no saga once unfrozen');
    await eventually('paused', async () => (await status()).paused);

    const proposed = await ballast(['caps', 'unfreeze', '-c', configFile, '--chain', 'beta', '--reason', 'exploit patched', '--expires-in-sec', '86400', '--json']);
    assert.equal(proposed.code, 0, proposed.stderr);
    const unfreeze = JSON.parse(proposed.stdout) as { changeId: `0x${string}`; status: string };
    assert.equal(unfreeze.status, 'pending');
    assert.ok((await view()).state.frozen?.beta, 'one approver cannot unfreeze');
    assert.match((await ballast(['caps', 'show', '-c', configFile])).stdout, new RegExp(`PENDING UNFREEZE ${unfreeze.changeId} beta by risk-a .*\\n  approving now: unfreezes beta`));
    const self = await ballast(['caps', 'approve', unfreeze.changeId, '-c', configFile]);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /an unfreeze needs a second, different approver/);
    assert.ok((await view()).state.frozen?.beta);

    const second = await ballast(['caps', 'approve', unfreeze.changeId, '-c', configFile], KEY_B);
    assert.equal(second.code, 0, second.stderr);
    const done = await view();
    assert.equal(done.state.frozen?.beta, undefined);
    assert.deepEqual(done.state.audit.filter((a) => a.scope === 'chain beta' && /frozen|unfree/.test(a.action)).map((a) => [a.action, a.who.split(' ')[0]]), [
      ['frozen', 'risk-a'],
      ['unfreeze-proposed', 'risk-a'],
      ['unfrozen', 'risk-b'],
    ]);
    assert.match(await ctx.metrics.registry.metrics(), /ballast_cap_frozen\{chain="beta"\} 0/);
  });
});
