#!/usr/bin/env bash
# test_api_pg.sh -- the HTTP API integration suite (tests/integ/api_test.py) against a
# real PostgreSQL and Redis, both started here on free loopback ports in a temp dir
# with scripts/pg-ctl.sh and scripts/redis-ctl.sh (Debian packages postgresql and
# redis-server).  Same checks as test_api_sqlite.sh, plus the Redis-down part: Redis
# is stopped mid-suite (the service must keep working uncached and say so in /health
# and /metrics) and restarted on the same port (the service must recover).
# Both servers are stopped and the temp dir removed on every exit (trap).
#
# usage (ctest): bash test_api_pg.sh BINARY_DIR/voxclone [SHARED_DIR]
# Skips (exit 0) only when PostgreSQL or redis-server is not installed.
set -u
bin=${1:?usage: test_api_pg.sh path/to/voxclone [shared-dir]}
shared=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(cd "$here/../../scripts" && pwd)
pgctl="$scripts/pg-ctl.sh"
redisctl="$scripts/redis-ctl.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "FAIL: python3 not found"; exit 1
fi
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable"; exit 1; }
for f in "$pgctl" "$redisctl"; do
  [ -f "$f" ] || { echo "FAIL: $f is missing"; exit 1; }
done
if ! command -v redis-server >/dev/null 2>&1; then
  echo "SKIP: redis-server not installed (Debian package redis-server)"; exit 0
fi
if ! command -v pg_ctl >/dev/null 2>&1 && [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ] &&
   ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  echo "SKIP: PostgreSQL not installed (Debian package postgresql)"; exit 0
fi

# short path: the PostgreSQL unix socket lives in the cluster dir (<= 80 bytes)
work=$(mktemp -d /tmp/vx-apipg.XXXXXX)
chmod 755 "$work"   # the cluster runs as user postgres when we are root
cleanup() {
  bash "$redisctl" stop "$work/redis" >/dev/null 2>&1
  bash "$pgctl" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

source "$scripts/services.bash"
start=$(date +%s)
vx_start_pg "$work/pg" || exit 1
vx_start_redis "$work/redis" || exit 1
db=$VX_PG_URL cache=$VX_REDIS_URL redisport=$VX_REDIS_PORT
echo "PostgreSQL at $db, Redis at $cache (started in $(( $(date +%s) - start )) s)"

args=(--bin "$bin" --db "$db" --cache "$cache" --redis-dir "$work/redis" --redis-port "$redisport")
[ -n "$shared" ] && [ -d "$shared" ] && args+=(--shared "$shared")
python3 "$here/api_test.py" "${args[@]}"
rc=$?
echo "test_api_pg: exit $rc after $(( $(date +%s) - start )) s"
exit $rc
