#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (no build step). Both hooks: ESM for our modules, CJS because
// the Temporal SDK require()s the payload converter module by path.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerEsm();
registerCjs();
await import('../cli/main.ts');
