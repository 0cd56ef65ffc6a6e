/**
 * Records the workflow histories that CI replays (test/workflows/replay.test.ts) from REAL devnet runs:
 * a Temporal dev server, two anvil chains with LayerZero's EndpointV2, the devnet relayer and the keeper
 * worker (test/workflows/harness.ts). Writes, under test/histories/:
 *   monitor-run1.json, monitor-run2.json  two runs of the monitor (the second carried over by continue-as-new)
 *   rebalance-completed.json              a saga the monitor started that completed
 *   rebalance-compensated.json            a saga whose deposit reverted: returned over the bridge, redeposited
 *   ballast.recorded.yaml                 the config of that devnet (for `ballast replay --decisions`)
 *
 * Run it again whenever a workflow change is nondeterministic on purpose (the replay test says so):
 *   npx tsx scripts/record-histories.ts            (about a minute)
 * Or, to ADD the sagas of a newer workflow version next to the older ones (both must replay: the older through
 * `patched()`), with `--sagas-only NAME`: writes only rebalance-completed-NAME.json and rebalance-compensated-NAME.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { keccak256, toHex, type Hex } from 'viem';
import { startHarness } from '../test/workflows/harness.js';
import { monitorStatus, monitorWorkflowId, setPaused, startMonitor } from '../keeper/client.js';
import { saveHistoryFile, type History } from '../keeper/replay.js';
import { repoDir } from '../config/fixtures.js';
import type { RebalanceInput, RebalanceResult } from '../workflows/types.js';

const M = 10n ** 6n;
const outDir = path.join(repoDir(), 'test', 'histories');
const say = (m: string) => process.stdout.write(`[record-histories] ${m}\n`);

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  say('starting Temporal, 2 anvil chains, relayer, worker…');
  const h = await startHarness({
    configOverrides: (c) => ({
      ...c,
      tick: { intervalSec: 1, maxTicksBeforeContinueAsNew: 8 },
      chains: c.chains.map((ch) => ({ ...ch, caps: { ...ch.caps, maxOutflowPerWindow: (5_000_000n * M).toString() } })),
    }),
  });
  try {
    const config = h.devnet.config;
    // alpha 90% utilized (above its band), beta 50%: the monitor moves liquidity beta → alpha.
    await h.borrow('alpha', 9_000_000n * M);
    await h.borrow('beta', 5_000_000n * M);
    await h.admin.setPrice('alpha', 3_000n * 10n ** 8n, 1n);
    await h.admin.setPrice('beta', 3_000n * 10n ** 8n, 1n);
    await startMonitor(h.client, config);
    const monitor = h.client.workflow.getHandle(monitorWorkflowId(config.deployment));
    const run1 = (await monitor.describe()).runId;
    say(`monitor started (run ${run1}); waiting for a completed rebalance…`);
    const st = await waitFor('a completed rebalance', async () => {
      const s = await monitorStatus(h.client, config.deployment);
      return s.status.finished.completed >= 1 ? s : undefined;
    });
    const done = st.status.recent.find((r) => r.outcome === 'completed')!;
    say(`rebalance ${done.rebalanceId} completed (${done.from} → ${done.to} ${done.amount})`);
    const seenIn = (await monitor.describe()).runId;
    const runs = [run1];
    if (seenIn !== run1) runs.push(seenIn);
    else {
      const next = await waitFor('the monitor to continue as new', async () => {
        const id = (await monitor.describe()).runId;
        return id !== run1 ? id : undefined;
      });
      runs.push(next);
    }
    // the second run must be closed (continued as new) so its history is complete
    await waitFor('the second monitor run to continue as new', async () => ((await monitor.describe()).runId !== runs[1] ? true : undefined));
    await setPaused(h.client, config.deployment, true, 'recording a compensated saga');
    await waitFor('in-flight rebalances to finish', async () => ((await monitorStatus(h.client, config.deployment)).status.inFlight.length === 0 ? true : undefined));

    say('running a saga whose deposit reverts (destination inflow paused) → compensated…');
    await h.admin.setKeeperFlowsPaused('beta', false, true);
    const rebalanceId: Hex = keccak256(toHex(`record-histories:compensated:${Date.now()}`));
    const input: RebalanceInput = { rebalanceId, from: 'alpha', to: 'beta', amount: 50_000n * M, reason: 'record-histories: deposit reverts', deliveryDeadlineSec: 60 };
    const comp: RebalanceResult = await h.client.workflow.execute('rebalanceWorkflow', { taskQueue: h.taskQueue, workflowId: rebalanceId, args: [input] });
    await h.admin.setKeeperFlowsPaused('beta', false, false);
    if (comp.outcome !== 'compensated') throw new Error(`expected a compensated saga, got ${comp.outcome}: ${comp.reason}`);

    fs.mkdirSync(outDir, { recursive: true });
    const sagasOnly = process.argv.indexOf('--sagas-only') >= 0 ? process.argv[process.argv.indexOf('--sagas-only') + 1] : undefined;
    if (sagasOnly !== undefined && !/^[a-z0-9-]+$/.test(sagasOnly)) throw new Error(`--sagas-only NAME: NAME must be [a-z0-9-]+ (got "${sagasOnly}")`);
    const suffix = sagasOnly ? `-${sagasOnly}` : '';
    const files: [string, Promise<History>][] = [
      ...(sagasOnly
        ? []
        : ([
            ['monitor-run1.json', h.client.workflow.getHandle(monitor.workflowId, runs[0]).fetchHistory()],
            ['monitor-run2.json', h.client.workflow.getHandle(monitor.workflowId, runs[1]).fetchHistory()],
          ] as [string, Promise<History>][])),
      [`rebalance-completed${suffix}.json`, h.client.workflow.getHandle(done.rebalanceId).fetchHistory()],
      [`rebalance-compensated${suffix}.json`, h.client.workflow.getHandle(rebalanceId).fetchHistory()],
    ];
    for (const [name, history] of files) {
      const hist = await history;
      saveHistoryFile(path.join(outDir, name), hist);
      say(`wrote test/histories/${name} (${hist.events?.length ?? 0} events)`);
    }
    if (!sagasOnly) {
      fs.copyFileSync(h.devnet.configFile, path.join(outDir, 'ballast.recorded.yaml'));
      say('wrote test/histories/ballast.recorded.yaml');
    }
  } finally {
    await h.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[record-histories] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
