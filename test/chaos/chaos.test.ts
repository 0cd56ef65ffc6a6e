/**
 * The chaos suite as part of `npm test`: the schedules of `suiteSeeds()` (test/chaos/run.ts), a small set of seeded
 * fault schedules that together plan every fault kind (each RPC fault, each bridge fault, worker SIGKILL, Temporal
 * restart), on the same real environment as `npm run chaos`. Every saga ends completed / compensated / stranded
 * with the funds located, nothing is lost to the base unit, nothing is sent twice. A failure names the seeds and
 * the command that replays each one. `npm run chaos` runs 20 consecutive schedules, `chaos:long` 200.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS, formatTally, planSchedule, plannedFaultKinds, replayCommand, runChaos, suiteSeeds } from './run.js';

const seeds = suiteSeeds();

test('the suite seeds plan every fault kind', () => {
  const planned = new Set(seeds.flatMap((s) => plannedFaultKinds(planSchedule(s))));
  assert.deepEqual([...FAULT_KINDS].filter((k) => !planned.has(k)), []);
  assert.ok(seeds.length < 20, `a covering set smaller than the 20 schedules of npm run chaos (got ${seeds.length})`);
});

test(`chaos suite: seeds ${seeds.join(', ')} (every fault kind) lose nothing and send nothing twice`, async (t) => {
  const tally = await runChaos({ mode: 'custom', seeds, progress: (l) => t.diagnostic(l) });
  const text = formatTally(tally, replayCommand);
  for (const line of text.split('\n')) t.diagnostic(line);
  assert.equal(tally.schedulesRun, seeds.length);
  assert.ok(tally.rebalances >= seeds.length, 'at least one rebalance per schedule');
  assert.equal(tally.outcomes.completed + tally.outcomes.compensated + tally.outcomes.stranded + tally.hung, tally.rebalances - tally.violations.filter((v) => v.kind === 'sagaFailed').length);
  assert.equal(tally.fundsLost, 0n, text);
  assert.equal(tally.fundsMisattributed, 0n, text);
  assert.equal(tally.doubleSends, 0, text);
  assert.deepEqual(tally.violations, [], text);
});
