#!/usr/bin/env bash
# The store test suite (test_store) against a real PostgreSQL 15: starts a
# throw-away cluster with scripts/pg-ctl.sh on a free loopback port in a
# temporary directory, runs BINARY_DIR/test_store with VX_TEST_PG_URL (every
# test on freshly dropped tables), including the test that stops the server
# under an open store (EUNAVAIL, no hang) and starts it again (reconnect).
# The cluster is always stopped and removed (trap).
#
# usage: test_store_pg.sh BINARY_DIR/voxclone [shared-dir]
set -u
bin=${1:?usage: test_store_pg.sh BINARY_DIR/voxclone [shared-dir]}
here=$(cd "$(dirname "$0")" && pwd)
pgctl="$here/../../scripts/pg-ctl.sh"
test_bin="$(cd "$(dirname "$bin")" && pwd)/test_store"

if [ ! -x "$test_bin" ]; then
  echo "FAIL: $test_bin not built"; exit 1
fi
if [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ] && ! command -v pg_ctl >/dev/null 2>&1 &&
   [ -z "${PG_BIN:-}" ]; then
  echo "SKIP: PostgreSQL not installed (Debian package postgresql; scripts/install-deps.sh)"
  exit 0
fi

dir=$(mktemp -d /tmp/vxpg-XXXXXX) || { echo "FAIL: mktemp"; exit 1; }
cleanup() { bash "$pgctl" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$here/../../scripts/services.bash"
vx_start_pg "$dir" || exit 1
url=$VX_PG_URL port=$VX_PG_PORT
echo "# PostgreSQL at $url"

# the suite stops and restarts the server itself (same port, data kept)
export VX_TEST_PG_URL="$url"
export VX_TEST_PG_STOP_CMD="bash '$pgctl' stop '$dir' --keep"
export VX_TEST_PG_START_CMD="bash '$pgctl' start '$dir' '$port' >/dev/null"
export CMOCKA_MESSAGE_OUTPUT=stdout
timeout 600 "$test_bin"
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: test_store against PostgreSQL (exit $rc)"
  tail -n 20 "$dir/postgres.log" 2>/dev/null
  exit 1
fi
echo "test_store_pg: ok"
