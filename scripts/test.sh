#!/usr/bin/env bash
# The test suite (`npm test` runs scripts/setup.sh, then this). Arguments replace the default file list and run
# through `node --test`: `npm test -- test/unit/config.test.ts`.
#
# Default: (1) every unit test file in one process (test/unit/all.ts: saves a process start per file), then
# (2) the e2e, workflow and chaos files through `node --test`, one file at a time (each starts real Temporal
# servers, anvil chains and workers). Both run even when the first fails; the exit status is 1 if either failed.
#
# BALLAST_HIGHS_BASELINE=1: every process that plans would otherwise compile the HiGHS WebAssembly module with
# TurboFan up front (planner/lp.ts: ~5 s of CPU per process, for faster large solves the tests do not need).
# test/unit/optimal.test.ts runs the production (TurboFan) load once in a child process without it.
set -uo pipefail
cd "$(dirname "$0")/.."
export BALLAST_HIGHS_BASELINE=1
if [[ $# -gt 0 ]]; then
  exec node --import tsx --test --test-concurrency=1 "$@"
fi
status=0
echo "# unit tests (test/unit/all.ts, one process)"
node --import tsx test/unit/all.ts || status=1
echo "# e2e, workflow and chaos tests (node --test, one file at a time)"
node --import tsx --test --test-concurrency=1 test/e2e/*.test.ts test/workflows/*.test.ts test/chaos/*.test.ts || status=1
exit $status
