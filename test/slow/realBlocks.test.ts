/**
 * One chaos schedule end to end with real block times and the keeper scaled out: anvil mining every 2 s
 * (`--block-time 2`, no automine hiding concurrency) and TWO worker processes on the task queue, on the same real
 * environment as the chaos suite (Temporal server, anvil chains, EndpointV2 and its relayer, the vaults). Seed 92 runs
 * three sagas at once — two from alpha and one from beta, collateral and a capacity move — all signed by the one
 * keeper key, so concurrent writes from one key on one chain meet in the same blocks (before the per-chain nonce
 * manager, three such sends over five rounds on `anvil --block-time 2` were refused 10 times "nonce too low"), and the
 * worker processes are SIGKILLed and restarted while the sagas run. Same promises as the chaos suite: nothing lost,
 * nothing sent twice, no outcome contradicted by the chain. The Solana chain is not started (no Solana route in seed 92).
 * Not in `npm test` (about a minute of two cores: the suite's 5-minute budget): `npm run test:real-blocks`; the same
 * schedule through the CLI: `npm run chaos -- --seed 92 --block-time 2 --workers 2`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTally, injectedByKind, replayCommand, runChaos } from '../chaos/run.js';

test('2 s blocks, two worker processes: three concurrent sagas from one key (seed 92, worker kill) lose nothing, send nothing twice', async (t) => {
  const tally = await runChaos({ mode: 'custom', seeds: [92], blockTimeSec: 2, workers: 2, solana: false, progress: (l) => t.diagnostic(l) });
  const text = formatTally(tally, (seed) => replayCommand(seed, { blockTimeSec: 2, workers: 2 }));
  for (const line of text.split('\n')) t.diagnostic(line);
  assert.deepEqual(tally.options, { blockTimeSec: 2, workers: 2 });
  assert.equal(tally.rebalances, 3, text);
  assert.equal(tally.outcomes.completed + tally.outcomes.compensated + tally.outcomes.stranded, 3, text);
  assert.ok(injectedByKind(tally)['process:workerKill'], `the worker kill was injected\n${text}`);
  assert.equal(tally.fundsLost, 0n, text);
  assert.equal(tally.doubleSends, 0, text);
  assert.equal(tally.contradicted, 0, text);
  assert.deepEqual(tally.violations, [], text);
});
