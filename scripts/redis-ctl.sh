#!/usr/bin/env bash
# redis-ctl.sh -- a throw-away redis-server for tests and local runs.
#
#   redis-ctl.sh start DIR PORT   start on 127.0.0.1:PORT (no persistence,
#                                 working dir DIR, daemonised, pidfile
#                                 DIR/redis.pid, log DIR/redis.log); prints
#                                 redis://127.0.0.1:PORT once it answers PING
#   redis-ctl.sh stop DIR         stop the server whose pidfile is in DIR
#
# DESIGN: everything the server writes stays in DIR, nothing is saved to
# disk (save "", appendonly no), and it listens on loopback only, so several
# test runs can each have their own on different ports.  start fails (exit 1)
# when the server does not answer within 5 s; stop is idempotent and
# escalates to SIGKILL after 5 s.
set -u

usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

ping_ok() {  # port
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

cmd=${1:-}
case "$cmd" in
start)
  dir=${2:-}; port=${3:-}
  [ -n "$dir" ] && [ -n "$port" ] || usage
  case "$port" in ''|*[!0-9]*) echo "redis-ctl: bad port '$port'" >&2; exit 2;; esac
  command -v redis-server >/dev/null 2>&1 || { echo "redis-ctl: redis-server not installed" >&2; exit 1; }
  mkdir -p "$dir" || exit 1
  dir=$(cd "$dir" && pwd)
  rm -f "$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --protected-mode yes >/dev/null 2>&1 || {
      echo "redis-ctl: redis-server failed to start (see $dir/redis.log)" >&2; exit 1; }
  for _ in $(seq 1 100); do
    if [ -s "$dir/redis.pid" ] && ping_ok "$port"; then
      echo "redis://127.0.0.1:$port"; exit 0
    fi
    sleep 0.05
  done
  echo "redis-ctl: redis-server on port $port did not answer in 5 s (see $dir/redis.log)" >&2
  "$0" stop "$dir" >/dev/null 2>&1
  exit 1
  ;;
stop)
  dir=${2:-}
  [ -n "$dir" ] || usage
  pidfile="$dir/redis.pid"
  [ -s "$pidfile" ] || exit 0
  pid=$(cat "$pidfile")
  case "$pid" in ''|*[!0-9]*) rm -f "$pidfile"; exit 0;; esac
  kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; exit 0; }
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; exit 0; }
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
  exit 0
  ;;
*) usage ;;
esac
