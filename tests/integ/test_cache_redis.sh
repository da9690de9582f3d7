#!/usr/bin/env bash
# test_cache_redis.sh -- the Redis cache back-end against a real, throw-away
# redis-server: put/get/del, TTL, binary and large values, 4 threads (the
# VX_TEST_REDIS_URL cases of test_cache), then an outage: Redis is stopped
# while a cache is open (calls must fail with EUNAVAIL in < 1 s, healthy()
# 0), restarted on the same port (the cache must recover within 1.5 s).
#
# usage: test_cache_redis.sh BINARY_DIR/voxclone [shared-dir]
# (test_cache is taken from the same directory as voxclone.)
set -u
bin=${1:?usage: test_cache_redis.sh path/to/voxclone [shared-dir]}
bindir=$(cd "$(dirname "$bin")" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
ctl="$here/../../scripts/redis-ctl.sh"
test_cache="$bindir/test_cache"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "SKIP: redis-server not installed (Debian package redis-server)"; exit 0
fi
if [ ! -x "$test_cache" ]; then
  echo "FAIL: $test_cache not built"; exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vx-redis.XXXXXX")
child=
cleanup() {
  [ -n "$child" ] && kill "$child" 2>/dev/null
  bash "$ctl" stop "$work/redis" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# a free port: random in 20000..59999, a few tries (start can still lose a race)
url=
for _ in 1 2 3 4 5; do
  port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  port_free "$port" || continue
  if url=$(bash "$ctl" start "$work/redis" "$port"); then break; fi
  url=
done
if [ -z "$url" ]; then
  echo "FAIL: could not start redis-server"; cat "$work/redis/redis.log" 2>/dev/null; exit 1
fi
echo "redis at $url"

fail=0
# part 1: the Redis cases of the unit test binary (plus the memory ones)
if ! VX_TEST_REDIS_URL="$url" "$test_cache"; then
  echo "FAIL: test_cache with VX_TEST_REDIS_URL"; fail=1
fi

# part 2: outage while a cache is open
steps="$work/steps"; mkdir -p "$steps"
VX_TEST_REDIS_URL="$url" VX_TEST_REDIS_OUTAGE_DIR="$steps" "$test_cache" &
child=$!
wait_file() {  # name seconds
  local n=$(( $2 * 20 ))
  while [ ! -e "$steps/$1" ]; do
    kill -0 "$child" 2>/dev/null || return 1
    n=$((n - 1)); [ "$n" -gt 0 ] || return 1
    sleep 0.05
  done
}
if wait_file ready 20; then
  bash "$ctl" stop "$work/redis"
  touch "$steps/stopped"
  if wait_file down-checked 20; then
    if bash "$ctl" start "$work/redis" "$port" >/dev/null; then
      touch "$steps/restarted"
    else
      echo "FAIL: could not restart redis on port $port"; fail=1
    fi
  fi
fi
if ! wait "$child"; then
  echo "FAIL: outage scenario"; fail=1
fi
child=

[ "$fail" = 0 ] && echo "test_cache_redis: ok"
exit "$fail"
