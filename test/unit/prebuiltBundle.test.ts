/**
 * keeper/workflowBundle.ts prebuilt bundles (scripts/build-bundle.ts, `npm run build:bundle`): the worker's loader
 * uses a prebuilt bundle only while its manifest holds; a stale one (a bundled file changed) is refused, the reason
 * given, and the workflows bundled afresh; BALLAST_WORKFLOW_BUNDLE pins a file (missing: an error naming the
 * variable; not matching the sources: used, with a warning; torn: refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPrebuiltWorkflowBundle, checkPrebuiltBundle, loadWorkerWorkflowBundle, prebuiltManifestPath, type PrebuiltBundleManifest } from '../../keeper/workflowBundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('prebuilt bundle: built, used while it matches, refused and rebuilt when stale; BALLAST_WORKFLOW_BUNDLE pins a file; the script writes one', async () => {
  // inside the repo's tree (git-ignored .test-tmp/) so webpack resolves @temporalio/workflow from node_modules
  fs.mkdirSync(path.join(ROOT, '.test-tmp'), { recursive: true });
  const src = fs.mkdtempSync(path.join(ROOT, '.test-tmp', 'prebuilt-'));
  try {
    const entry = path.join(src, 'index.ts');
    const helper = path.join(src, 'helper.ts');
    fs.writeFileSync(helper, "export const greeting = 'first';\n");
    fs.writeFileSync(entry, "import { greeting } from './helper';\nexport async function hello(): Promise<string> { return greeting; }\n");
    const outFile = path.join(src, 'dist', 'workflow-bundle.js');
    const params = { workflowsPath: entry, cacheDir: null, prebuiltFile: outFile, env: {} };

    // build
    const built = await buildPrebuiltWorkflowBundle({ workflowsPath: entry, outFile });
    assert.equal(built.file, outFile);
    assert.equal(built.manifestFile, path.join(src, 'dist', 'workflow-bundle.manifest.json'));
    const manifest = JSON.parse(fs.readFileSync(built.manifestFile, 'utf8')) as PrebuiltBundleManifest;
    const relSrc = path.relative(ROOT, src);
    assert.equal(manifest.workflowsPath, `${relSrc}/index.ts`);
    assert.equal(manifest.payloadConverterPath, null);
    assert.ok(manifest.inputs[`${relSrc}/index.ts`] && manifest.inputs[`${relSrc}/helper.ts`], 'the manifest lists the entry and what it imports, relative to the repository');
    assert.ok(Object.keys(manifest.inputs).some((f) => f.startsWith('node_modules/@temporalio/workflow/')), 'and the SDK files it bundles');
    assert.match(fs.readFileSync(outFile, 'utf8'), /'first'/);

    // used while it matches
    const a = await loadWorkerWorkflowBundle(params);
    assert.deepEqual([a.source, a.file, a.warning], ['prebuilt', outFile, undefined]);
    assert.equal(a.code, fs.readFileSync(outFile, 'utf8'));
    // not for another entry, nor with another payload converter
    assert.match((checkPrebuiltBundle(outFile, { workflowsPath: helper }) as { reason: string }).reason, /built for the workflows .*index\.ts, not .*helper\.ts/);
    assert.match((checkPrebuiltBundle(outFile, { workflowsPath: entry, payloadConverterPath: helper }) as { reason: string }).reason, /built with the payload converter \(none\)/);

    // stale: refused (the reason names the file), and the workflows bundled from the sources
    fs.writeFileSync(helper, "export const greeting = 'second';\n");
    const b = await loadWorkerWorkflowBundle(params);
    assert.equal(b.source, 'bundled');
    assert.match(b.warning ?? '', new RegExp(`prebuilt bundle .*workflow-bundle\\.js refused: ${relSrc.replace(/[.]/g, '\\.')}/helper\\.ts changed since the bundle was built; run \`npm run build:bundle\``));
    assert.match(b.code, /'second'/);
    assert.doesNotMatch(b.code, /'first'/);

    // BALLAST_WORKFLOW_BUNDLE: a missing file is an error naming the variable and the path
    const absent = path.join(src, 'absent.js');
    await assert.rejects(loadWorkerWorkflowBundle({ ...params, env: { BALLAST_WORKFLOW_BUNDLE: absent } }), (e: Error) => e.message.startsWith(`BALLAST_WORKFLOW_BUNDLE=${absent}: no such file (build it with \`npm run build:bundle\``));
    // a pinned file is used as pinned, even stale (e.g. to drain old workflows), with a warning
    const pinned = await loadWorkerWorkflowBundle({ ...params, env: { BALLAST_WORKFLOW_BUNDLE: outFile } });
    assert.deepEqual([pinned.source, pinned.file], ['env', outFile]);
    assert.match(pinned.code, /'first'/);
    assert.match(pinned.warning ?? '', /the pinned bundle does not match the sources: .*helper\.ts changed/);
    // a pinned file that is not the code its manifest describes is refused
    fs.appendFileSync(outFile, '\n// edited\n');
    await assert.rejects(loadWorkerWorkflowBundle({ ...params, env: { BALLAST_WORKFLOW_BUNDLE: outFile } }), /^Error: BALLAST_WORKFLOW_BUNDLE=.*workflow-bundle\.js: .* is not the code its manifest describes \(sha256 differs/);
    // a bundle without its manifest cannot be checked: refused as the default prebuilt
    fs.rmSync(prebuiltManifestPath(outFile));
    assert.match((checkPrebuiltBundle(outFile, { workflowsPath: entry }) as { reason: string }).reason, /its manifest .*workflow-bundle\.manifest\.json cannot be read \(ENOENT\)/);

    // the script, as `npm run build:bundle` runs it (here for the test's entry, to another file)
    const scriptOut = path.join(src, 'out', 'bundle.js');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-bundle.ts', '--out', scriptOut, '--workflows', entry, '--no-payload-converter'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\[build-bundle\] wrote .*out\/bundle\.js \(\d+ KiB, \d+ input files, sha256 [0-9a-f]{12}…\) and its manifest in [\d.]+ s\n$/);
    const c = await loadWorkerWorkflowBundle({ ...params, prebuiltFile: scriptOut });
    assert.deepEqual([c.source, c.warning], ['prebuilt', undefined]);
    assert.match(c.code, /'second'/);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
});
