#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (no build step). Both hooks: ESM for our modules, CJS because
// the Temporal SDK require()s the payload converter module by path.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerEsm();
registerCjs();
const { run } = await import('../cli/main.ts');
// The exit status, not process.exit(): long-running commands (dev, worker) end once their work and handles are
// closed, and stdout/stderr are flushed.
process.exitCode = await run(process.argv.slice(2));
