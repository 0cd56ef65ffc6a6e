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
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS, ROUTES, formatTally, injectedByKind, planSchedule, plannedFaultKinds, replayCommand, runChaos, suiteSeeds } from './run.js';

const seeds = suiteSeeds();

test('the suite seeds plan every fault kind over every route', () => {
  const planned = new Set(seeds.flatMap((s) => plannedFaultKinds(planSchedule(s))));
  assert.deepEqual([...FAULT_KINDS].filter((k) => !planned.has(k)), []);
  const routes = new Set(seeds.flatMap((s) => planSchedule(s).rebalances.map((r) => r.route)));
  assert.deepEqual(ROUTES.filter((r) => !routes.has(r)), []);
  assert.ok(seeds.length < 20, `a covering set smaller than the 20 schedules of npm run chaos (got ${seeds.length})`);
});

test(`chaos suite: seeds ${seeds.join(', ')} (every fault kind, every route) lose nothing and send nothing twice`, async (t) => {
  const tally = await runChaos({ mode: 'custom', seeds, progress: (l) => t.diagnostic(l) });
  const text = formatTally(tally, replayCommand);
  for (const line of text.split('\n')) t.diagnostic(line);
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
