/**
 * keeper/workflowBundle.ts: the workflow bundle is reused from disk only while every file webpack put in it is
 * unchanged; an edit to the workflow (or anything it imports) makes a new bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forgetLoadedWorkflowBundles, loadWorkflowBundle } from '../../keeper/workflowBundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('bundled once, reused while unchanged, rebundled after an edit to an imported module', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-bundle-'));
  const cacheDir = path.join(dir, 'cache');
  try {
    // inside the repo's tree (git-ignored .test-tmp/) so webpack resolves @temporalio/workflow from node_modules
    fs.mkdirSync(path.join(ROOT, '.test-tmp'), { recursive: true });
    const src = fs.mkdtempSync(path.join(ROOT, '.test-tmp', 'bundle-'));
    try {
      const entry = path.join(src, 'index.ts');
      const helper = path.join(src, 'helper.ts');
      fs.writeFileSync(helper, "export const greeting = 'first';\n");
      fs.writeFileSync(entry, "import { greeting } from './helper';\nexport async function hello(): Promise<string> { return greeting; }\n");

      const a = await loadWorkflowBundle({ workflowsPath: entry, cacheDir });
      assert.equal(a.cached, false);
      assert.match(a.code, /'first'/);
      const manifests = fs.readdirSync(cacheDir).filter((f) => f.endsWith('.manifest.json'));
      assert.equal(manifests.length, 1);
      const inputs = Object.keys((JSON.parse(fs.readFileSync(path.join(cacheDir, manifests[0]!), 'utf8')) as { inputs: Record<string, string> }).inputs);
      assert.ok(inputs.includes(entry) && inputs.includes(helper), `the manifest lists the entry and what it imports (${inputs.filter((f) => f.startsWith(src)).join(', ')})`);

      forgetLoadedWorkflowBundles();
      const b = await loadWorkflowBundle({ workflowsPath: entry, cacheDir });
      assert.equal(b.cached, true);
      assert.equal(b.code, a.code);

      fs.writeFileSync(helper, "export const greeting = 'second';\n");
      forgetLoadedWorkflowBundles();
      const c = await loadWorkflowBundle({ workflowsPath: entry, cacheDir });
      assert.equal(c.cached, false, 'an edit to an imported module invalidates the cached bundle');
      assert.match(c.code, /'second'/);
      assert.doesNotMatch(c.code, /'first'/);

    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
