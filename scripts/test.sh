#!/usr/bin/env bash
# The test suite (`npm test` runs scripts/setup.sh, then this): node:test over test/*/*.test.ts, one file at a time
# (the e2e and workflow files start real Temporal servers, anvil chains and workers). Arguments replace the file
# list: `npm test -- test/unit/config.test.ts`.
#
# BALLAST_HIGHS_BASELINE=1: every process that plans would otherwise compile the HiGHS WebAssembly module with
# TurboFan up front (planner/lp.ts: ~5 s of CPU per process, for faster large solves the tests do not need).
# test/unit/optimal.test.ts runs the production (TurboFan) load once in a child process without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export BALLAST_HIGHS_BASELINE=1
if [[ $# -gt 0 ]]; then files=("$@"); else files=(test/*/*.test.ts); fi
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
