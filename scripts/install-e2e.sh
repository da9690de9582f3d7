#!/usr/bin/env bash
# Installs what the browser tests (tests/e2e) need: Debian's Chromium, Node.js
# with npm, and tests/e2e/node_modules (playwright-core, pinned in
# package-lock.json; it drives the system Chromium, no browser download).
# Idempotent and quiet when everything is already present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
e2e="$root/tests/e2e"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-e2e: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# node_modules is stale when package-lock.json changed since the last npm ci
# (npm ci writes node_modules/.package-lock.json, a copy of what it installed).
stamp="$e2e/node_modules/.package-lock.json"
if [ ! -f "$e2e/node_modules/playwright-core/package.json" ] || [ ! -f "$stamp" ] ||
   [ "$e2e/package-lock.json" -nt "$stamp" ]; then
  echo "install-e2e: npm ci --prefix tests/e2e" >&2
  npm ci --prefix "$e2e" --no-audit --no-fund --loglevel=error >/dev/null
fi
