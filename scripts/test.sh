#!/usr/bin/env bash
# The test suite (`npm test` runs scripts/setup.sh, then this). Arguments replace the default file list:
# `npm test -- test/unit/config.test.ts`.
#
# Default: node --test over
#   - test/unit/all.ts: every unit test file in ONE process (saves a process start and module load per file);
#   - each e2e, workflow and chaos file in its own process (each starts real Temporal servers, anvil chains,
#     workers: every port is picked by the OS, nothing is shared between files);
# four files at a time on 2 cores: the real-parts files spend most of their wall time waiting on chains, servers and
# deadlines (the chaos suite ~170 s of mostly waiting: user CPU about half its wall time), so more lanes fill the
# idle time; the longest (the chaos suite) first so the others run beside it. Measured on this machine, quiet, the
# same files: 312 s with 2 lanes, 258 s with 3 (session 5's files); with this session's files (the saga matrix, the
# 2 s-block chaos schedule, the Aave tests) 353 s with 3 lanes in a fresh clone's .ci/run and 217 s with 4 in the
# checkout (`time BALLAST_TEST_CONCURRENCY=N bash scripts/test.sh`).
#
# BALLAST_HIGHS_BASELINE=1: every process that plans would otherwise compile the HiGHS WebAssembly module with
# TurboFan up front (planner/lp.ts: ~5 s of CPU per process, for faster large solves the tests do not need).
# test/unit/optimal.test.ts runs the production (TurboFan) load once in a child process without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export BALLAST_HIGHS_BASELINE=1
if [[ $# -gt 0 ]]; then
  exec node --import tsx --test --test-concurrency=1 "$@"
fi
files=(test/chaos/chaos.test.ts test/unit/all.ts)
for f in test/e2e/*.test.ts test/workflows/*.test.ts test/chaos/*.test.ts; do
  [[ "$f" == test/chaos/chaos.test.ts ]] || files+=("$f")
done
# --test-timeout: a file that has not finished in 10 minutes fails (named) instead of holding the suite until CI's own
# limit (a time-skipping file once never finished in CI: 5279 s until CI stopped it, with no name in the output).
exec node --import tsx --test --test-concurrency="${BALLAST_TEST_CONCURRENCY:-4}" --test-timeout=600000 "${files[@]}"
