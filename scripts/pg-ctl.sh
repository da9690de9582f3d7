#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for tests and local runs.
#
#   pg-ctl.sh start DIR PORT    create (first time) and start a cluster in DIR,
#                               listening on 127.0.0.1:PORT and on a unix socket
#                               inside DIR, trust authentication, database
#                               "voxclone"; prints its URL on stdout:
#                               postgresql://USER@127.0.0.1:PORT/voxclone
#   pg-ctl.sh stop DIR          stop it and delete the cluster (DIR itself is
#                               removed when it is then empty)
#   pg-ctl.sh stop DIR --keep   stop it, keep the data (start DIR PORT resumes)
#
# PostgreSQL refuses to run as root: when run as root, the server runs as the
# "postgres" system user (Debian package postgresql) and DIR is handed to it.
# Everything is inside DIR: data/ (the cluster), postgres.log, the socket.
set -euo pipefail

usage() { echo "usage: pg-ctl.sh start DIR PORT | stop DIR [--keep]" >&2; exit 2; }
die() { echo "pg-ctl.sh: $*" >&2; exit 1; }

find_bin() {
  local d
  for d in "${PG_BIN:-}" /usr/lib/postgresql/15/bin; do
    if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  d=$(command -v pg_ctl 2>/dev/null || true)
  [ -n "$d" ] && { dirname "$d"; return 0; }
  return 1
}

BIN=$(find_bin) || die "PostgreSQL not found (apt-get install postgresql, or set PG_BIN)"

# run a command as the cluster owner
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user"
  OWNER=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

cmd=${1:-}
case "$cmd" in
start)
  [ $# -eq 3 ] || usage
  dir=$2 port=$3
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port: $port"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  cd /  # the server user may not be allowed into the caller's directory
  # unix socket paths are limited to 107 bytes
  [ ${#dir} -le 80 ] || die "DIR path too long for a unix socket: $dir"
  if [ "$OWNER" = postgres ]; then
    chown postgres: "$dir"
    chmod 700 "$dir"
    as_owner test -w "$dir" ||
      die "user postgres cannot write $dir (is a parent directory closed to it?)"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$dir/data" -U "$OWNER" --auth=trust -E UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$dir/initdb.log"
    # throw-away cluster: no durability needed, start fast
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
EOF
    created=1
  else
    created=0
  fi
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start \
    >/dev/null || { tail -n 20 "$dir/postgres.log" >&2 || true; die "server did not start"; }
  if [ "$created" -eq 1 ]; then
    as_owner "$BIN/createdb" -h "$dir" -p "$port" -U "$OWNER" voxclone ||
      die "createdb voxclone failed"
  fi
  echo "postgresql://$OWNER@127.0.0.1:$port/voxclone"
  ;;
stop)
  [ $# -ge 2 ] && [ $# -le 3 ] || usage
  dir=$2 keep=0
  if [ $# -eq 3 ]; then [ "$3" = --keep ] || usage; keep=1; fi
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd)
  cd /
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  if [ "$keep" -eq 0 ]; then
    # only what this script created
    [ -f "$dir/data/PG_VERSION" ] && rm -rf "$dir/data"
    rm -f "$dir/postgres.log" "$dir/initdb.log"
    rmdir "$dir" 2>/dev/null || true
  fi
  ;;
*)
  usage
  ;;
esac
