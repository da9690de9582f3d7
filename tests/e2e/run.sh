#!/usr/bin/env bash
# Browser tests of the page: starts `voxclone serve` on a free loopback port
# with a fresh temporary store, creates tokens, runs the node:test files in
# tests/e2e against it with the system Chromium (playwright-core), stops the
# server.  Screenshots go to $VX_E2E_OUT (default tests/e2e/out/).
#
#   usage: tests/e2e/run.sh BINARY SHARED_DIR [node --test file...]
#
# Needs /usr/bin/chromium (or $VX_CHROMIUM) and tests/e2e/node_modules:
# scripts/install-e2e.sh installs both.  Missing ones are a failure, not a skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:?usage: run.sh BINARY SHARED_DIR}
shared=${2:-}
shift 2 || shift $#
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
# canonical paths: Chromium refuses a fake-capture file whose path has '..'
[ -n "$shared" ] && [ -d "$shared" ] && shared=$(cd "$shared" && pwd -P)

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }

[ -x "$bin" ] || fail "voxclone binary '$bin' not found or not executable"
chromium=${VX_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || fail "Chromium not found at $chromium: run scripts/install-e2e.sh (apt-get install chromium) or set VX_CHROMIUM"
command -v node >/dev/null || fail "node not found: run scripts/install-e2e.sh"
[ -f "$here/node_modules/playwright-core/package.json" ] ||
  fail "tests/e2e/node_modules is missing playwright-core: run scripts/install-e2e.sh (npm ci --prefix tests/e2e)"

export VX_E2E_OUT=${VX_E2E_OUT:-$here/out}
mkdir -p "$VX_E2E_OUT" || fail "cannot create $VX_E2E_OUT"
VX_E2E_OUT=$(cd "$VX_E2E_OUT" && pwd) # the tests run from tests/e2e
rm -f "$VX_E2E_OUT"/*.png

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vx-e2e.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

data="$tmp/data"
mkdir -p "$data"

# samples: two voices from the shared evaluation set, else generated ones
sample1="$shared/evaldata/speakers/arctic-slt/slt_arctic_a0001.wav"
sample2="$shared/evaldata/speakers/keele-m1/m1nw0000_seg01.wav"
if [ ! -f "$sample1" ] || [ ! -f "$sample2" ]; then
  echo "e2e: evaldata not found under '$shared': using generated voices" >&2
  node "$here/gen-wav.mjs" "$tmp/voice-high.wav" 210 || fail "cannot generate a WAV"
  node "$here/gen-wav.mjs" "$tmp/voice-low.wav" 115 || fail "cannot generate a WAV"
  sample1="$tmp/voice-high.wav"
  sample2="$tmp/voice-low.wav"
fi

token() { "$bin" token create --user "$1" --data "$data" | tail -n 1; }
VX_E2E_TOKEN=$(token alice) || fail "cannot create a token"
VX_E2E_TOKEN2=$(token bob) || fail "cannot create a token"
VX_E2E_TOKEN3=$(token carol) || fail "cannot create a token"

"$bin" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data "$data" --web "$root/web" \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; fail "the server exited at start"; }
  sleep 0.1
done
[ -s "$tmp/port" ] || { cat "$tmp/server.log" >&2; fail "the server wrote no port file in 30 s"; }
port=$(cat "$tmp/port")
url="http://127.0.0.1:$port/"
for _ in $(seq 1 100); do
  curl -fsS "${url}health" >/dev/null 2>&1 && break
  sleep 0.1
done

export VX_E2E_URL=$url VX_E2E_TOKEN VX_E2E_TOKEN2 VX_E2E_TOKEN3 VX_BINARY=$bin VX_CHROMIUM=$chromium
export VX_E2E_SAMPLE=$sample1 VX_E2E_SAMPLE2=$sample2 VX_ROOT=$root
echo "e2e: server on $url (data $data), screenshots in $VX_E2E_OUT"

if [ $# -gt 0 ]; then files=("$@"); else files=("$here"/*.test.mjs); fi
cd "$here" || fail "cannot cd to $here"
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
rc=$?

echo "e2e: screenshots:"
ls -1 "$VX_E2E_OUT"/*.png 2>/dev/null | sed 's/^/  /'
if [ $rc -ne 0 ]; then
  echo "e2e: server log (last 40 lines):"
  tail -n 40 "$tmp/server.log"
fi
exit $rc
