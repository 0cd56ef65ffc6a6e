#!/usr/bin/env bash
# Installs what Ballast needs, idempotently: npm packages (when missing or older than the lock file),
# the Temporal CLI (scripts/install-temporal.sh), and the compiled contracts (cached by source hash).
# `npm run dev` and `npm test` call it first, so a fresh clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund
fi
bash scripts/install-temporal.sh
npx tsx contracts/compile.ts
