/**
 * The chaos suite as part of `npm test`: the schedules of `suiteSeeds()` (test/chaos/run.ts), a small set of seeded
 * fault schedules that together plan every fault kind (each RPC fault, audit-only read failures, receipt and Solana
 * confirmation timeouts with the transaction landing late, worker kills between signing and broadcast and right
 * after it, each bridge fault, worker SIGKILL, Temporal restart) over every route (LayerZero and Wormhole EVM↔EVM,
 * EVM↔Solana both ways, capacity moves over both bridges), on the same real environment as `npm run chaos`. Every
 * fault kind must be INJECTED at least once (counted when it happened, not when scheduled); every saga ends
 * completed / compensated / stranded with the funds located, nothing is lost to the base unit, nothing is sent
 * twice, no outcome is contradicted by the chain. A failure names the seeds and the command that replays each one.
 * `npm run chaos` runs 20 consecutive schedules, `chaos:long` 200.
 *
 * The seeds are split over two environments (`suiteSplit()`): some on the CollateralVault devnet, the others on the
 * Aave devnet (`market: 'aave'`: real Aave v3 Pools, the treasury's aTokens held by AaveAllocators; the checks read
 * the allocators' `principal()` and counters), covering every collateral route on Aave. The Aave environment starts
 * while the vault's schedules run and runs its schedules after them, so the suite's wall time grows by little more
 * than its stop; the same number of schedules as one environment would run. `npm run chaos -- --market aave` runs
 * the 20 schedules on Aave.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLLATERAL_ROUTES, FAULT_KINDS, ROUTES, formatTally, injectedByKind, mergeTallies, planSchedule, plannedFaultKinds, replayCommand, runChaos, suiteSeeds, suiteSplit } from './run.js';

const seeds = suiteSeeds();
const split = suiteSplit(seeds);

test('the suite seeds plan every fault kind over every route', () => {
  const planned = new Set(seeds.flatMap((s) => plannedFaultKinds(planSchedule(s))));
  assert.deepEqual([...FAULT_KINDS].filter((k) => !planned.has(k)), []);
  const routes = new Set(seeds.flatMap((s) => planSchedule(s).rebalances.map((r) => r.route)));
  assert.deepEqual(ROUTES.filter((r) => !routes.has(r)), []);
  assert.ok(seeds.length < 20, `a covering set smaller than the 20 schedules of npm run chaos (got ${seeds.length})`);
  assert.deepEqual([...split.vault, ...split.aave].sort((a, b) => a - b), seeds, 'the split runs each seed once');
  assert.ok(split.vault.length > 0 && split.aave.length > 0);
  const onAave = new Set(split.aave.flatMap((s) => planSchedule(s).rebalances.map((r) => r.route)));
  assert.deepEqual(COLLATERAL_ROUTES.filter((r) => !onAave.has(r)), [], 'every collateral route runs on Aave');
});

test(`chaos suite: seeds ${split.vault.join(', ')} on the vault and ${split.aave.join(', ')} on Aave (every fault kind, every route) lose nothing and send nothing twice`, async (t) => {
  // The Aave environment starts now, beside the vault's schedules, and runs its own once they are done.
  let go: () => void = () => undefined;
  const vaultDone = new Promise<void>((resolve) => (go = resolve));
  const aaveRun = runChaos({ mode: 'custom', seeds: split.aave, market: 'aave', waitBeforeSchedules: vaultDone, progress: (l) => t.diagnostic(`[aave] ${l}`) });
  const vaultRun = runChaos({ mode: 'custom', seeds: split.vault, progress: (l) => t.diagnostic(`[vault] ${l}`) }).finally(go);
  // Both settle (each stops its own environment) before either's failure is reported.
  const [vaultSettled, aaveSettled] = await Promise.allSettled([vaultRun, aaveRun]);
  if (vaultSettled.status === 'rejected') throw vaultSettled.reason;
  if (aaveSettled.status === 'rejected') throw aaveSettled.reason;
  for (const [label, x] of [['vault', vaultSettled.value], ['aave', aaveSettled.value]] as const) {
    for (const line of formatTally(x, (s) => replayCommand(s, x.options)).split('\n')) t.diagnostic(`[${label}] ${line}`);
  }
  const tally = mergeTallies(vaultSettled.value, aaveSettled.value);
  const text = formatTally(tally, (s) => replayCommand(s, { market: split.aave.includes(s) ? 'aave' : 'vault' }));
  assert.equal(tally.schedulesRun, seeds.length);
  assert.ok(tally.rebalances >= seeds.length, 'at least one saga per schedule');
  assert.equal(tally.outcomes.completed + tally.outcomes.compensated + tally.outcomes.stranded + tally.hung, tally.rebalances - tally.violations.filter((v) => v.kind === 'sagaFailed').length);
  const inj = injectedByKind(tally);
  assert.deepEqual(FAULT_KINDS.filter((k) => !inj[k]), [], `every fault kind injected at least once\n${text}`);
  assert.equal(tally.fundsLost, 0n, text);
  assert.equal(tally.contradicted, 0, text);
  assert.equal(tally.doubleSends, 0, text);
  assert.deepEqual(tally.violations, [], text);
});
