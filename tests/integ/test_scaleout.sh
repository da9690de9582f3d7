#!/usr/bin/env bash
# test_scaleout.sh -- gateway + workers end to end (issue 8): one `voxclone gateway`
# and `voxclone worker` processes on loopback, a throw-away PostgreSQL and Redis
# (scripts/pg-ctl.sh, scripts/redis-ctl.sh) on free ports in a temp dir.  The checks
# are in scaleout_test.py: a 3-language message over 2 workers, SIGKILL of the worker
# running an item (the job still completes, nothing duplicated), no worker at all
# (503 + Retry-After, then recovery when a worker connects), SIGKILL of the gateway
# right after a 202 (the restarted gateway finishes the job from the store),
# `promtool check metrics` on the gateway's /metrics.
# Every process, both servers and the temp dir are removed on any exit (trap).
#
# usage (ctest): bash test_scaleout.sh BINARY_DIR/voxclone [SHARED_DIR]
# Skips (exit 0) only when PostgreSQL or redis-server is not installed.
set -u
bin=${1:?usage: test_scaleout.sh path/to/voxclone [shared-dir]}
shared=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(cd "$here/../../scripts" && pwd)
pgctl="$scripts/pg-ctl.sh"
redisctl="$scripts/redis-ctl.sh"

command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 not found"; exit 1; }
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable"; exit 1; }
for f in "$pgctl" "$redisctl"; do
  [ -f "$f" ] || { echo "FAIL: $f is missing"; exit 1; }
done
if ! command -v redis-server >/dev/null 2>&1; then
  echo "SKIP: redis-server not installed (Debian package redis-server)"; exit 0
fi
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 &&
   [ -z "${PG_BIN:-}" ]; then
  echo "SKIP: PostgreSQL not installed (Debian package postgresql)"; exit 0
fi

# short path: the PostgreSQL unix socket lives in the cluster dir (<= 80 bytes)
work=$(mktemp -d /tmp/vx-scale.XXXXXX)
chmod 755 "$work"   # the cluster runs as user postgres when we are root
pypid=
cleanup() {
  # the Python suite kills its own processes; if it is still running (we were
  # interrupted), stop it first so its finally-block runs, then kill it
  if [ -n "$pypid" ] && kill -0 "$pypid" 2>/dev/null; then
    kill -TERM "$pypid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pypid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pypid" 2>/dev/null
  fi
  bash "$redisctl" stop "$work/redis" >/dev/null 2>&1
  bash "$pgctl" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

source "$scripts/services.bash"
start=$(date +%s)
vx_start_pg "$work/pg" || exit 1
vx_start_redis "$work/redis" || exit 1
db=$VX_PG_URL cache=$VX_REDIS_URL
echo "PostgreSQL at $db, Redis at $cache (started in $(( $(date +%s) - start )) s)"

args=(--bin "$bin" --db "$db" --cache "$cache")
[ -n "$shared" ] && [ -d "$shared/evaldata/speakers" ] && args+=(--shared "$shared")
python3 "$here/scaleout_test.py" "${args[@]}" &
pypid=$!
wait "$pypid"
rc=$?
pypid=
echo "test_scaleout: exit $rc after $(( $(date +%s) - start )) s"
exit $rc
