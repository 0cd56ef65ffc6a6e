/**
 * Prebuilds the worker's workflow bundle (keeper/workflowBundle.ts `buildPrebuiltWorkflowBundle`): production
 * images run it once at build time (`npm run build:bundle`), so a starting worker loads the bundle instead of
 * spending ~5 s of CPU on webpack. Writes `dist/workflow-bundle.js` and `dist/workflow-bundle.manifest.json` (the
 * entry, the payload converter, the code's sha256 and every bundled file's sha256). The worker uses it only while
 * it matches the sources (else it logs why and bundles); `BALLAST_WORKFLOW_BUNDLE=<file>` pins another.
 *
 *   npx tsx scripts/build-bundle.ts [--out <file.js>] [--workflows <entry.ts>] [--payload-converter <file> | --no-payload-converter]
 *
 * Defaults: `--out dist/workflow-bundle.js`, the keeper's `workflows/index.ts` and payload converter.
 * Exit 0 with one line saying what was written; exit 1 with the bundler's error.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { payloadConverterPath as keeperPayloadConverter } from '../keeper/dataConverter.js';
import { DEFAULT_PREBUILT_BUNDLE, DEFAULT_WORKFLOWS_PATH, buildPrebuiltWorkflowBundle } from '../keeper/workflowBundle.js';

/** `file` relative to the working directory when it is below it, else absolute. */
const shown = (file: string): string => {
  const r = path.relative(process.cwd(), file);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : file;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      workflows: { type: 'string' },
      'payload-converter': { type: 'string' },
      'no-payload-converter': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write('usage: tsx scripts/build-bundle.ts [--out <file.js>] [--workflows <entry.ts>] [--payload-converter <file> | --no-payload-converter]\n');
    return;
  }
  const t0 = Date.now();
  const workflowsPath = path.resolve(values.workflows ?? DEFAULT_WORKFLOWS_PATH);
  const payloadConverterPath = values['no-payload-converter'] ? undefined : path.resolve(values['payload-converter'] ?? keeperPayloadConverter);
  const r = await buildPrebuiltWorkflowBundle({ workflowsPath, ...(payloadConverterPath ? { payloadConverterPath } : {}), outFile: values.out ?? DEFAULT_PREBUILT_BUNDLE });
  process.stdout.write(
    `[build-bundle] wrote ${shown(r.file)} (${Math.round(r.bytes / 1024)} KiB, ${Object.keys(r.manifest.inputs).length} input files, sha256 ${r.manifest.codeSha256.slice(0, 12)}…) and its manifest in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`[build-bundle] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
