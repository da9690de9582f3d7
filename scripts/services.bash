# services.bash -- sourced (not run) by the tests and benchmarks that need
# throw-away PostgreSQL and Redis servers on loopback: one place for picking
# free ports and retrying a start that lost its port to another process.
#   source scripts/services.bash
#   vx_start_pg DIR     || exit 1   # sets VX_PG_URL, VX_PG_PORT
#   vx_start_redis DIR  || exit 1   # sets VX_REDIS_URL, VX_REDIS_PORT
# Stop them with scripts/pg-ctl.sh stop DIR / scripts/redis-ctl.sh stop DIR.
VX_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

vx_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# vx__start CTL DIR LOG NAME: 3 tries on fresh free ports; the URL on stdout
# of CTL, the port in VX__PORT.  On failure: a FAIL line and the log tail.
vx__start() {
  local ctl=$1 dir=$2 log=$3 name=$4 url
  for _ in 1 2 3; do
    VX__PORT=$(vx_free_port)
    if url=$(bash "$VX_SCRIPTS_DIR/$ctl" start "$dir" "$VX__PORT"); then
      VX__URL=$url
      return 0
    fi
  done
  echo "FAIL: could not start $name"
  tail -20 "$dir/$log" 2>/dev/null
  return 1
}

vx_start_pg() {
  vx__start pg-ctl.sh "$1" postgres.log PostgreSQL || return 1
  VX_PG_URL=$VX__URL
  VX_PG_PORT=$VX__PORT
}

vx_start_redis() {
  vx__start redis-ctl.sh "$1" redis.log redis-server || return 1
  VX_REDIS_URL=$VX__URL
  VX_REDIS_PORT=$VX__PORT
}
