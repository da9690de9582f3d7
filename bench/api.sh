#!/usr/bin/env bash
# HTTP benchmarks of `voxclone serve` with wrk (Debian package wrk):
#   1. compare by profile ids   POST /api/voice-analysis/compare (JSON ids)
#      goal (issue 6): >= 5000 req/s and p99 < 20 ms on 2 cores
#   2. upload + analysis        POST /api/voice-profiles/:user (10 s WAV,
#      cache "none" so every request really decodes and analyses)
#   3. /health                  the floor: HTTP + JSON without work
# usage: bench/api.sh [BUILD_DIR] [SHARED_DIR] [SECONDS]
# The server and wrk share the machine's cores, as they would on one box.
set -eu
build=${1:-build}
shared=${2:-../shared}
secs=${3:-8}
bin=$build/voxclone
command -v wrk >/dev/null || { echo "bench/api.sh: wrk is missing (apt-get install wrk)"; exit 1; }
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill -TERM "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

clip=$(ls "$shared"/evaldata/speakers/*/*.wav 2>/dev/null | head -1 || true)
if [ -z "$clip" ]; then
  clip=$tmp/voice.wav
  sox -V1 -n -r 16000 -b 16 "$clip" synth 10 sawtooth 130 lowpass 2500 vol 0.4 tremolo 5 40
fi
dur=$(soxi -D "$clip")
tok=$("$bin" token create --user bench --data "$tmp" | tail -1)

start() { # $1 = cache url
  rm -f "$tmp/port"
  "$bin" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data "$tmp" --cache "$1" \
      --threads 4 2>"$tmp/log" &
  srv=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  port=$(cat "$tmp/port")
}
stop() { kill -TERM "$srv"; wait "$srv" || true; srv=""; }

start memory
url=http://127.0.0.1:$port
id1=$(curl -s -H "Authorization: Bearer $tok" -H "Content-Type: audio/wav" --data-binary @"$clip" \
      "$url/api/voice-profiles/bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cat > "$tmp/cmp.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $tok"
wrk.body = '{"original_profile_id":"$id1","cloned_profile_id":"$id1"}'
LUA
cat > "$tmp/up.lua" <<LUA
local f = io.open("$clip", "rb"); local data = f:read("*all"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "audio/wav"
wrk.headers["Authorization"] = "Bearer $tok"
wrk.body = data
LUA

report() { # name, wrk output file, goal rps, goal p99 ms
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$2")
  p50=$(awk '$1=="50%" {print $2}' "$2")
  p99=$(awk '$1=="99%" {print $2}' "$2")
  printf '%-28s %10s req/s   p50 %-9s p99 %-9s' "$1" "$rps" "$p50" "$p99"
  if [ -n "${3:-}" ]; then
    python3 - "$rps" "$p99" "$3" "$4" <<'PY'
import sys
def ms(t):
    for u, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if t.endswith(u): return float(t[:-len(u)]) * f
    return float(t)
rps, p99, grps, gp99 = float(sys.argv[1]), ms(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"  = {rps/grps:.2f}x the {grps:.0f} req/s goal, p99 {p99:.1f} ms vs {gp99:.0f} ms goal")
PY
  else
    echo
  fi
}

echo "voxclone HTTP bench: $(nproc) cores, ${secs}s per run, clip ${dur}s ($(basename "$clip"))"
wrk -t2 -c16 -d"${secs}s" --latency "$url/health" > "$tmp/health.txt" 2>&1
report "GET /health" "$tmp/health.txt"
wrk -t2 -c16 -d"${secs}s" --latency -s "$tmp/cmp.lua" "$url/api/voice-analysis/compare" > "$tmp/cmp.txt" 2>&1
report "compare by profile ids" "$tmp/cmp.txt" 5000 20
stop

start none
url=http://127.0.0.1:$port
wrk -t2 -c4 -d"${secs}s" --latency -s "$tmp/up.lua" "$url/api/voice-profiles/bench" > "$tmp/up.txt" 2>&1
report "upload + analysis (no cache)" "$tmp/up.txt"
rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/up.txt")
python3 -c "import sys; r=float('$rps'); d=float('$dur'); print(f'  analysis throughput: {r*d:.0f} s of audio per second ({r*d/2:.0f}x real time per core); librosa reference 0.065 s/s -> {r*d*0.065:.0f}x')"
stop
