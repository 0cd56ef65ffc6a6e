#!/usr/bin/env bash
# Installs what Ballast needs, idempotently: npm packages (when missing or older than the lock file),
# the Temporal CLI (scripts/install-temporal.sh), and the compiled contracts (cached by source hash).
# `npm run dev`, `npm test` and .ci/run call it first, so a fresh clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "[setup] ERROR: $*" >&2
  exit 1
}

npm_install() {
  local log
  log="$(mktemp)"
  if npm ci --no-audit --no-fund >"$log" 2>&1; then
    grep -v 'Unknown user config' "$log" || true
    rm -f "$log"
    return
  fi
  # Known case: package-lock.json has no entries for other platforms' optional binaries
  # (@foundry-rs/anvil-darwin-*, @swc/core-win32-*, …) because the registry reachable here answers 404 for
  # them, and npm 11's `npm ci` then calls the lock "out of sync" (EUSAGE, "Missing: … from lock file").
  # `npm install` installs the same locked versions; check that it did not rewrite the lock.
  if grep -q 'EUSAGE' "$log" && grep -q 'from lock file' "$log"; then
    echo "[setup] npm ci refused the lock (other platforms' optional packages are not in it); npm install with the same lock"
    cp package-lock.json "$log.lock"
    npm install --no-audit --no-fund 2>&1 | grep -v 'Unknown user config' || true
    if ! cmp -s package-lock.json "$log.lock"; then
      cp "$log.lock" package-lock.json
      fail "npm install wanted to change package-lock.json (restored); the lock is out of date: run npm install and commit it"
    fi
    rm -f "$log" "$log.lock"
  else
    grep -v 'Unknown user config' "$log" >&2
    fail "npm ci failed (output above)"
  fi
}

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm packages…"
  npm_install
fi

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
