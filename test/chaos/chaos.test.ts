/**
 * The short chaos mode (20 seeded fault schedules, see test/chaos/run.ts) as part of `npm test`:
 * every saga ends completed / compensated / stranded with the funds located, nothing is lost to the
 * base unit, nothing is sent twice. A failure names the seeds and the command that replays each one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTally, replayCommand, runChaos, SHORT_SCHEDULES } from './run.js';

test(`short chaos mode: ${SHORT_SCHEDULES} seeded fault schedules lose nothing and send nothing twice`, async (t) => {
  const tally = await runChaos({ mode: 'short', seeds: Array.from({ length: SHORT_SCHEDULES }, (_, i) => i + 1), progress: (l) => t.diagnostic(l) });
  const text = formatTally(tally, replayCommand);
  for (const line of text.split('\n')) t.diagnostic(line);
  assert.equal(tally.schedulesRun, SHORT_SCHEDULES);
  assert.ok(tally.rebalances >= SHORT_SCHEDULES, 'at least one rebalance per schedule');
  assert.equal(tally.outcomes.completed + tally.outcomes.compensated + tally.outcomes.stranded + tally.hung, tally.rebalances - tally.violations.filter((v) => v.kind === 'sagaFailed').length);
  assert.equal(tally.fundsLost, 0n, text);
  assert.equal(tally.fundsMisattributed, 0n, text);
  assert.equal(tally.doubleSends, 0, text);
  assert.deepEqual(tally.violations, [], text);
});
