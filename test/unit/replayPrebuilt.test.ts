/**
 * `ballast replay` (keeper/replay.ts) replays through the workflow bundle the worker runs: the prebuilt one
 * (`npm run build:bundle`, keeper/workflowBundle.ts) while its manifest matches the sources, else bundled from the
 * sources, with a line saying so and why. Built here into a temp dir (never the shared dist/), then real recorded
 * histories (test/histories/) replay through it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoDir } from '../../config/fixtures.js';
import { dataConverter } from '../../keeper/dataConverter.js';
import { loadHistoryFile, loadReplayBundle, replayHistories } from '../../keeper/replay.js';
import { workflowsPath } from '../../keeper/worker.js';
import { buildPrebuiltWorkflowBundle, prebuiltManifestPath, type PrebuiltBundleManifest } from '../../keeper/workflowBundle.js';

const histories = path.join(repoDir(), 'test', 'histories');
const historyFiles = fs.readdirSync(histories).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(histories, f));

describe('replay through the prebuilt workflow bundle', () => {
  let dir = '';
  let prebuilt = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-replay-prebuilt-'));
    prebuilt = path.join(dir, 'dist', 'workflow-bundle.js');
    // What `npm run build:bundle` writes (scripts/build-bundle.ts): the keeper's workflows with its payload converter.
    await buildPrebuiltWorkflowBundle({ workflowsPath, payloadConverterPath: dataConverter.payloadConverterPath, outFile: prebuilt });
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every recorded history replays deterministically through the prebuilt bundle, and the line says prebuilt', async () => {
    const lines: string[] = [];
    const bundle = await loadReplayBundle({ prebuiltFile: prebuilt, env: {}, log: (l) => lines.push(l) });
    assert.equal(bundle.source, 'prebuilt');
    assert.equal(bundle.code, fs.readFileSync(prebuilt, 'utf8'), 'the code replayed is the prebuilt file');
    assert.deepEqual(lines, [`workflow bundle: prebuilt (${prebuilt})`]);

    lines.length = 0;
    assert.ok(historyFiles.length >= 5, `histories in ${histories}`);
    const outcomes = await replayHistories(historyFiles.map(loadHistoryFile), { prebuiltFile: prebuilt, env: {}, log: (l) => lines.push(l) });
    assert.deepEqual(lines, [`workflow bundle: prebuilt (${prebuilt})`]);
    assert.equal(outcomes.length, historyFiles.length);
    assert.deepEqual(outcomes.filter((o) => !o.ok), [], 'every history replays through the prebuilt bundle');
  });

  test('no prebuilt bundle, or a stale one: falls back to the sources with a line saying why, and still replays', async () => {
    const history = loadHistoryFile(historyFiles.find((f) => path.basename(f) === 'rebalance-completed.json')!);

    const absent = path.join(dir, 'absent', 'workflow-bundle.js');
    const missing: string[] = [];
    const [a] = await replayHistories([history], { prebuiltFile: absent, env: {}, log: (l) => missing.push(l) });
    assert.equal(a!.ok, true, a!.error);
    assert.equal(missing.length, 1);
    assert.match(missing[0]!, new RegExp(`^workflow bundle: no prebuilt bundle at ${absent.replace(/[.]/g, '\\.')} \\(\`npm run build:bundle\` writes it\\); falling back to the sources \\((bundle cache: no bundled file changed|bundled now)\\)$`));

    // A copy whose manifest says a bundled file changed since the build: refused, the file named.
    const stale = path.join(dir, 'stale', 'workflow-bundle.js');
    fs.mkdirSync(path.dirname(stale), { recursive: true });
    fs.copyFileSync(prebuilt, stale);
    const manifest = JSON.parse(fs.readFileSync(prebuiltManifestPath(prebuilt), 'utf8')) as PrebuiltBundleManifest;
    manifest.inputs['workflows/index.ts'] = '0'.repeat(64);
    fs.writeFileSync(prebuiltManifestPath(stale), JSON.stringify(manifest));
    const refused: string[] = [];
    const b = await loadReplayBundle({ prebuiltFile: stale, env: {}, log: (l) => refused.push(l) });
    assert.notEqual(b.source, 'prebuilt');
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /^workflow bundle: prebuilt bundle .*stale\/workflow-bundle\.js refused: workflows\/index\.ts changed since the bundle was built; run `npm run build:bundle` to rebuild it; falling back to the sources \(/);
    const [c] = await replayHistories([history], { prebuiltFile: stale, env: {}, log: () => {} });
    assert.equal(c!.ok, true, c!.error);
  });

  test('BALLAST_WORKFLOW_BUNDLE pins the file a replay runs, as for the worker', async () => {
    const lines: string[] = [];
    const b = await loadReplayBundle({ prebuiltFile: path.join(dir, 'absent.js'), env: { BALLAST_WORKFLOW_BUNDLE: prebuilt }, log: (l) => lines.push(l) });
    assert.equal(b.source, 'env');
    assert.deepEqual(lines, [`workflow bundle: BALLAST_WORKFLOW_BUNDLE (${prebuilt})`]);
  });
});
