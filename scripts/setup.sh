#!/usr/bin/env bash
# Installs what Ballast needs, idempotently: npm packages at the locked versions (scripts/install-npm.sh),
# the Temporal CLI (scripts/install-temporal.sh), and the compiled contracts (cached by source hash).
# `npm run dev`, `npm test` and .ci/run call it first, so a fresh clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "[setup] ERROR: $*" >&2
  exit 1
}

bash scripts/install-npm.sh

# npm 11 may not run install scripts; the binaries we need ship inside the packages. Check they run.
npx --no-install tsx -e "
import { anvilBinaryPath } from './devnet/anvil.ts';
import { chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const p = anvilBinaryPath();
chmodSync(p, 0o755);
execFileSync(p, ['--version'], { stdio: 'ignore' });
" || fail "the anvil binary from @foundry-rs/anvil does not run (platform package missing?)"

bash scripts/install-temporal.sh
npx --no-install tsx contracts/compile.ts
