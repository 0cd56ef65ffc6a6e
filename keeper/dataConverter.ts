/**
 * The data converter options shared by the worker and every client (bigint-aware payloads).
 * Not imported by workflow code; it resolves a file path, which needs Node.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const here = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'workflows');

/** Absolute path of `workflows/payloadConverter.ts` (or `.js` in a build). */
export const payloadConverterPath = fs.existsSync(path.join(here, 'payloadConverter.ts'))
  ? path.join(here, 'payloadConverter.ts')
  : path.join(here, 'payloadConverter.js');

/** Pass as `dataConverter` to `Worker.create`, `new Client` and `TestWorkflowEnvironment`. */
export const dataConverter = { payloadConverterPath };
