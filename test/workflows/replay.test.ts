/**
 * Determinism in CI: every history recorded from a real devnet run (test/histories/*.json, written by
 * scripts/record-histories.ts) must replay against the current workflow code. A deliberately changed
 * workflow must fail, proving the check can fail. `ballast replay` (determinism and --decisions) is run
 * on the same files. No server is needed: replay runs in the worker's replayer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { repoDir } from '../../config/fixtures.js';
import { loadConfig } from '../../config/index.js';
import { diffPlans, loadHistoryFile, recordedDecisions, rederiveDecisions, replayHistories } from '../../keeper/replay.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { runCaptured } from '../../cli/main.js';

const dir = path.join(repoDir(), 'test', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
const recordedConfig = path.join(dir, 'ballast.recorded.yaml');
const changedWorkflows = path.join(repoDir(), 'test', 'workflows', 'nondeterministic', 'workflows.ts');
const REGENERATE = 'If the workflow change is intended, make it replay-safe (workflow.patched()) for running workflows, or regenerate the recorded histories with `npx tsx scripts/record-histories.ts` and commit test/histories/.';
/** `ballast …` in-process (cli/main.ts), its output captured. */
const ballast = (args: string[]) => runCaptured(args);

describe('recorded histories replay against the current workflow code', () => {
  test('test/histories holds real monitor and rebalance histories (completed and compensated sagas)', () => {
    const types = files.map((f) => loadHistoryFile(f).history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name);
    assert.ok(types.includes('monitorWorkflow'), `a monitor history in ${dir}`);
    assert.ok(types.filter((t) => t === 'rebalanceWorkflow').length >= 4, 'completed and compensated rebalance histories, from before and after the one saga (workflows/moveSaga.ts)');
    const patchedSagas = files.filter((f) => fs.readFileSync(f, 'utf8').includes('MARKER_RECORDED') && path.basename(f).startsWith('rebalance-'));
    assert.ok(patchedSagas.length >= 2, 'sagas recorded with the patch markers of the current code replay too (the older ones through patched())');
    /** The patch ids a history's `core_patch` markers record (each a JSON payload `{ id, deprecated }`). */
    const patchIds = (f: string): string[] =>
      (loadHistoryFile(f).history.events ?? []).flatMap((e) => {
        const m = e.markerRecordedEventAttributes;
        const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
        return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
      });
    const localAudits = files.filter((f) => path.basename(f).startsWith('rebalance-') && patchIds(f).includes('audit-local-activities'));
    assert.ok(localAudits.length >= 2, 'completed and compensated sagas with the audits as local activities (workflows/saga.ts auditFor) replay too');
    const completedTypes = files.map((f) => {
      const events = loadHistoryFile(f).history.events ?? [];
      const last = events[events.length - 1];
      return last?.workflowExecutionCompletedEventAttributes ? 'completed' : last?.workflowExecutionContinuedAsNewEventAttributes ? 'continued-as-new' : 'other';
    });
    assert.ok(completedTypes.every((t) => t !== 'other'), `every recorded run is closed (${completedTypes.join(', ')})`);
  });

  test('every history in test/histories replays deterministically (Worker.runReplayHistories)', async () => {
    const outcomes = await replayHistories(files.map(loadHistoryFile));
    assert.equal(outcomes.length, files.length);
    const failed = outcomes.filter((o) => !o.ok);
    assert.deepEqual(failed, [], `nondeterminism against recorded histories:\n${failed.map((f) => `  ${f.source}: ${f.errorName}: ${f.error}`).join('\n')}\n${REGENERATE}`);
  });

  test('a deliberately changed workflow (a timer added before the first step) fails replay with a DeterminismViolationError', async () => {
    const outcomes = await replayHistories(files.map(loadHistoryFile), { workflowsPath: changedWorkflows });
    assert.equal(outcomes.length, files.length);
    for (const o of outcomes) {
      assert.equal(o.ok, false, `${o.source} should not replay against the changed code`);
      assert.equal(o.errorName, 'DeterminismViolationError', `${o.source}: ${o.error}`);
    }
  });

  test('`ballast replay --file` prints ok and exits 0; against the changed workflows it prints the error and exits 1', async () => {
    const file = files.find((f) => path.basename(f) === 'rebalance-completed.json')!;
    const ok = await ballast(['replay', '--file', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: .*rebalance-completed\.json \(\d+ events\) replays deterministically/m);
    const bad = await ballast(['replay', '--file', file, '--workflows', changedWorkflows]);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /^FAILED: .*rebalance-completed\.json: DeterminismViolationError: /m);
  });

  test('`ballast replay` without a workflow id or --file is a usage error (exit 2)', async () => {
    const r = await ballast(['replay']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give a workflow id .* or --file/);
  });
});

describe('ballast replay --decisions: recorded plans re-derived with the current planner and config', () => {
  const monitorFiles = files.filter((f) => path.basename(f).startsWith('monitor-'));

  test('every planRebalances tick of the monitor histories is decoded with its snapshot, in-flight list and recorded plan (bigint amounts)', () => {
    assert.ok(monitorFiles.length >= 1);
    for (const f of monitorFiles) {
      const ticks = recordedDecisions(loadHistoryFile(f).history);
      assert.ok(ticks.length >= 3, `${f}: ${ticks.length} ticks`);
      for (const t of ticks) {
        assert.ok(t.recorded, `${f} tick ${t.tick} has a recorded plan`);
        assert.deepEqual(t.input.snapshot.chains.map((c) => c.chainKey).sort(), ['alpha', 'beta']);
        assert.equal(typeof t.input.snapshot.chains[0]!.supplied, 'bigint');
        for (const x of t.recorded.transfers) assert.equal(typeof x.amount, 'bigint');
      }
      assert.ok(ticks.some((t) => t.recorded!.transfers.length > 0), `${f}: at least one tick planned a transfer`);
    }
  });

  test('with the recorded config every tick is diffed and every recorded transfer is accounted for (same, changed or removed)', async () => {
    const ctx = buildReadOnlyKeeperContext(loadConfig(recordedConfig));
    for (const f of monitorFiles) {
      const ticks = await rederiveDecisions(loadHistoryFile(f).history, ctx);
      for (const t of ticks) {
        const accounted = t.diff.same.length + t.diff.changed.length + t.diff.removed.length;
        assert.equal(accounted, t.recorded!.transfers.length, `${f} tick ${t.tick}`);
        assert.equal(t.diff.same.length + t.diff.changed.length + t.diff.added.length, t.current.transfers.length);
      }
    }
  });

  test('with every band widened to 0–100% the current config plans nothing: each recorded transfer is reported removed, exit 1', async () => {
    const cfg = parse(fs.readFileSync(recordedConfig, 'utf8')) as { chains: { band: { lowPct: number; highPct: number } }[] };
    for (const c of cfg.chains) c.band = { lowPct: 0, highPct: 100 };
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-replay-'));
    const wide = path.join(tmp, 'wide.yaml');
    fs.writeFileSync(wide, stringify(cfg));
    try {
      const file = monitorFiles[0]!;
      const recordedTransfers = recordedDecisions(loadHistoryFile(file).history).reduce((n, t) => n + t.recorded!.transfers.length, 0);
      const r = await ballast(['replay', '--file', file, '--decisions', '-c', wide, '--json']);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { ticks: { diff: { status: string; removed: { amount: string }[]; added: unknown[] } }[] };
      assert.equal(out.ticks.reduce((n, t) => n + t.diff.removed.length, 0), recordedTransfers);
      assert.equal(out.ticks.reduce((n, t) => n + t.diff.added.length, 0), 0);
      assert.match(out.ticks.find((t) => t.diff.removed.length > 0)!.diff.removed[0]!.amount, /^\d+$/, 'amounts print as exact integer strings');
      const text = await ballast(['replay', '--file', file, '--decisions', '-c', wide]);
      assert.match(text.stdout, /^ {2}- \w+ → \w+ \d+ {3}\(recorded; the current code does not plan it\)$/m);
      assert.match(text.stdout, /tick\(s\): \d+ same, [1-9]\d* different$/m);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('diffPlans: same, added, removed, changed (amount, bridge; no bridge recorded = layerzero)', () => {
    const t = (from: string, to: string, amount: bigint, bridge?: string) => ({ from, to, amount, bridge });
    assert.equal(diffPlans({ transfers: [t('a', 'b', 5n)], unresolved: [] }, { transfers: [t('a', 'b', 5n, 'layerzero')], unresolved: [] }).status, 'same');
    const d = diffPlans(
      { transfers: [t('a', 'b', 5n), t('c', 'd', 1n), t('e', 'f', 2n)], unresolved: [{ chainKey: 'x', reason: 'r' }] },
      { transfers: [t('a', 'b', 6n), t('e', 'f', 2n, 'wormhole'), t('g', 'h', 3n)], unresolved: [] },
    );
    assert.equal(d.status, 'different');
    assert.deepEqual(d.changed.map((c) => `${c.recorded.from}${c.recorded.to}:${c.fields.join('+')}`), ['ab:amount', 'ef:bridge']);
    assert.deepEqual(d.removed.map((x) => x.from), ['c']);
    assert.deepEqual(d.added.map((x) => x.from), ['g']);
    assert.deepEqual(d.unresolved, { recorded: ['x'], current: [] });
  });
});
