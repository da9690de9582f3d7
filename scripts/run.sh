#!/usr/bin/env bash
# `make run`: the service on its embedded defaults -- SQLite in ./data,
# in-process cache, API + page on http://127.0.0.1:8080 (override with the
# VOXCLONE_* variables, see `voxclone serve --help`).  On first run a token
# for the admin user "demo" is created and kept in ./data/demo-token (mode
# 600) so you can sign in on the page; delete the file to make a new one.
set -euo pipefail
bin=${1:-build/voxclone}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
data=${VOXCLONE_DATA:-./data}
mkdir -p "$data"
if [ ! -s "$data/demo-token" ]; then
  (umask 077; "$bin" token create --user demo --admin --data "$data" | tail -1 > "$data/demo-token")
fi
echo "voxclone: page and API on http://${VOXCLONE_LISTEN:-127.0.0.1:8080}"
echo "voxclone: sign in as 'demo' (admin) with the token in $data/demo-token:"
echo "  $(cat "$data/demo-token")"
echo "voxclone: stop with Ctrl-C"
exec "$bin" serve --data "$data"
