#!/usr/bin/env bash
# Installs the npm packages at the versions package-lock.json locks, whatever other platforms' packages the
# registry serves today. Used by scripts/setup.sh (everything) and the Dockerfile (`--omit=dev`: the production set).
#
# The scheme (why it holds on any day):
#   1. `npm ci`: the locked tree, nothing else. This is the normal path.
#   2. When `npm ci` refuses the lock only because entries are missing from it ("Missing: X from lock file": other
#      platforms' optional binaries that the registry did not serve on the day the lock was made, or serves now at a
#      version it did not then), `npm install` against the same lock installs the same locked versions and adds
#      entries only for what this platform skips. The committed lock is restored byte for byte afterwards.
#   3. Either way, scripts/check-install.mjs compares what is installed with the lock, version by version, for the
#      packages THIS platform needs (not the lock's bytes): a package at another version, a needed one missing, or
#      one the lock does not name fails the set-up, naming the package and what to do.
# A stamp (hash of package.json, the lock, the Node version and the flags) skips all of it when nothing changed.
#
# Usage: bash scripts/install-npm.sh [--omit=dev]
set -euo pipefail
cd "$(dirname "$0")/.."

OMIT=()
[[ "${1:-}" == "--omit=dev" ]] && OMIT=(--omit=dev)

fail() {
  echo "[install-npm] ERROR: $*" >&2
  exit 1
}

[[ -f package-lock.json ]] || fail "package-lock.json is missing: the set-up installs only locked versions (run npm install once and commit the lock)"

STAMP_FILE=node_modules/.ballast-install-stamp
stamp="$(cat package.json package-lock.json | node -e '
const h = require("node:crypto").createHash("sha256");
process.stdin.on("data", (d) => h.update(d)).on("end", () => console.log(h.update(process.version + " " + process.argv.slice(1).join(" ")).digest("hex")));
' -- "${OMIT[@]}")"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$stamp" ]] && node scripts/check-install.mjs --quiet "${OMIT[@]}"; then
  exit 0
fi

LOG="$(mktemp "${TMPDIR:-/tmp}/ballast-npm.XXXXXX")"
LOCK_BACKUP="$LOG.lock"
trap 'rm -f "$LOG" "$LOCK_BACKUP"' EXIT
# npm 11 warns about install scripts it does not run (none of ours needs one: the binaries ship inside the
# packages, and setup.sh checks that they run); the noise hides real errors.
quiet() { grep -v -e 'Unknown user config' -e 'install-scripts' || true; }

echo "[install-npm] npm ci ${OMIT[*]}"
if npm ci --no-audit --no-fund "${OMIT[@]}" >"$LOG" 2>&1; then
  quiet <"$LOG"
else
  missing="$(grep -oE 'Missing: [^ ]+ from lock file' "$LOG" | sed -E 's/Missing: (.*) from lock file/\1/' | tr '\n' ' ' || true)"
  if grep -q 'EUSAGE' "$LOG" && [[ -n "$missing" ]]; then
    echo "[install-npm] npm ci refused the lock: entries missing from it ($missing)."
    echo "[install-npm] Installing the same locked versions with npm install; the committed lock is restored after."
    cp package-lock.json "$LOCK_BACKUP"
    if ! npm install --no-audit --no-fund "${OMIT[@]}" >"$LOG" 2>&1; then
      cp "$LOCK_BACKUP" package-lock.json
      quiet <"$LOG" >&2
      pkg="$(grep -oE "(404|ETARGET|notarget).*" "$LOG" | head -3 | tr '\n' ' ' || true)"
      fail "npm install failed${pkg:+ ($pkg)}; output above. If the registry no longer serves a locked version, choose a served one in package.json, run npm install and commit the lock."
    fi
    quiet <"$LOG"
    cp "$LOCK_BACKUP" package-lock.json
  else
    quiet <"$LOG" >&2
    pkg="$(grep -oE "(404|ETARGET|notarget|EBADPLATFORM|EINTEGRITY).*" "$LOG" | head -3 | tr '\n' ' ' || true)"
    fail "npm ci failed${pkg:+ ($pkg)}; output above."
  fi
fi

node scripts/check-install.mjs "${OMIT[@]}" || fail "the installed packages differ from package-lock.json (listed above)"
echo "$stamp" >"$STAMP_FILE"
