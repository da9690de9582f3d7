#!/usr/bin/env bash
# test_api_sqlite.sh -- the HTTP API integration suite (tests/integ/api_test.py) against
# the default back-ends: SQLite in a temp data dir and the in-process cache.
# Every route, auth (401/403), the bad-request table (nothing stored), profile
# versions, history, jobs, a restart in the middle of a job, SIGTERM, /metrics through
# promtool, and docs/openapi.json kept true.
#
# usage (ctest): bash test_api_sqlite.sh BINARY_DIR/voxclone [SHARED_DIR]
# Uses the clips of SHARED_DIR/evaldata/speakers when present, generated audio otherwise.
set -u
bin=${1:?usage: test_api_sqlite.sh path/to/voxclone [shared-dir]}
shared=${2:-}
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v python3 >/dev/null 2>&1; then
  echo "FAIL: python3 not found"; exit 1
fi
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable"; exit 1; }

args=(--bin "$bin" --cache memory)
[ -n "$shared" ] && [ -d "$shared" ] && args+=(--shared "$shared")
start=$(date +%s)
python3 "$here/openapi_test.py" "$bin"
orc=$?
python3 "$here/api_test.py" "${args[@]}"
rc=$?
[ $rc -eq 0 ] && rc=$orc
echo "test_api_sqlite: exit $rc after $(( $(date +%s) - start )) s"
exit $rc
