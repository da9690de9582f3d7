#!/usr/bin/env bash
# ctest wrapper of the browser tests of the page (tests/e2e): real Chromium
# against a real `voxclone serve`.  Chromium and tests/e2e/node_modules are
# required: when they are missing this test FAILS (run scripts/install-e2e.sh;
# make test does), it never skips.
#   usage: bash test_e2e_browser.sh BINARY SHARED_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:?usage: test_e2e_browser.sh BINARY SHARED_DIR}
shared=${2:-$root/../shared}
chromium=${VX_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "test_e2e_browser: FAIL: Chromium is missing ($chromium). Run scripts/install-e2e.sh." >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "test_e2e_browser: FAIL: node is missing. Run scripts/install-e2e.sh." >&2
  exit 1
fi
if [ ! -f "$root/tests/e2e/node_modules/playwright-core/package.json" ]; then
  echo "test_e2e_browser: FAIL: tests/e2e/node_modules is missing. Run scripts/install-e2e.sh." >&2
  exit 1
fi
# each build (release, asan) keeps its own screenshots
out_default="$(dirname "$bin")/e2e-out"
export VX_E2E_OUT=${VX_E2E_OUT:-$out_default}
# the sanitizer build is several times slower
case "$(basename "$(dirname "$bin")")" in *asan*) export VX_E2E_TIMEOUT_MS=${VX_E2E_TIMEOUT_MS:-180000} ;; esac
exec bash "$root/tests/e2e/run.sh" "$bin" "$shared"
