#!/usr/bin/env bash
# bench/scale.sh -- scale-out throughput of one `voxclone gateway` with 1, 2 and 4
# `voxclone worker` processes (--threads 1 each) on this machine.
#
# For each worker count: N message jobs of 3 languages (en, fr, de; TEXT_CHARS
# characters each) are submitted with at most C in flight (a client thread per slot:
# POST /api/audio-messages, then GET its status every 50 ms until "done").
# Prints one line per worker count: jobs/s, p50/p99 job latency (submit -> done),
# the scaling ratio against 1 worker, and the CPU seconds the gateway, the workers
# and (with PostgreSQL) the database spent per job; with PostgreSQL also the rows
# written and transactions committed per job (pg_stat_database).
#
# usage: bench/scale.sh [BUILD_DIR] [SHARED_DIR] [N_JOBS] [CONCURRENCY]
#   env STORE=sqlite (default: SQLite file in a temp dir, in-process cache)
#       STORE=pg     (throw-away PostgreSQL + Redis via scripts/pg-ctl.sh, redis-ctl.sh)
#       WORKERS="1 2 4"  TEXT_CHARS=200
# The gateway runs with --job-workers C so C jobs really run at once (the default,
# 1, runs one job at a time however many workers there are).
# NOTE: the client, gateway, workers and database share this machine's cores
# (`nproc`); with 2 cores nothing scales past 2 workers.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shared=${2:-$here/../../shared}
njobs=${3:-8}
conc=${4:-4}
store=${STORE:-sqlite}
counts=${WORKERS:-1 2 4}
chars=${TEXT_CHARS:-200}
bin=$(cd "$build" && pwd)/voxclone
[ -x "$bin" ] || { echo "bench/scale.sh: $bin not built" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vx-bscale.XXXXXX)
chmod 755 "$tmp"
pids=()
gw=""
cleanup() {
  for p in "${pids[@]}" $gw; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$store" = pg ]; then
    bash "$here/../scripts/redis-ctl.sh" stop "$tmp/redis" >/dev/null 2>&1 || true
    bash "$here/../scripts/pg-ctl.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

source "$here/../scripts/services.bash"

mkdir -p "$tmp/data"
if [ "$store" = pg ]; then
  vx_start_pg "$tmp/pg" || exit 1
  vx_start_redis "$tmp/redis" || exit 1
  db=$VX_PG_URL cache=$VX_REDIS_URL
else
  db="sqlite:$tmp/data/voxclone.db"
  cache=memory
fi
clip=$(ls "$shared"/evaldata/speakers/arctic-slt/*.wav 2>/dev/null | head -1 || true)
if [ -z "$clip" ]; then
  clip=$tmp/voice.wav
  python3 - "$clip" <<'PY'
import math, struct, sys, wave
sr, f0 = 16000, 150.0
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
fr = []
for i in range(3 * sr):
    t = i / sr
    env = 0.55 + 0.45 * math.sin(2 * math.pi * 4 * t) ** 2
    s = sum(math.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 25))
    fr.append(struct.pack("<h", int(8000 * env * s / 3)))
w.writeframes(b"".join(fr)); w.close()
PY
fi
tok=$("$bin" token create --user bench --db "$db" | tail -1)
bind="tcp://127.0.0.1:$(vx_free_port)"
"$bin" gateway --listen 127.0.0.1:0 --port-file "$tmp/port" --bind "$bind" --db "$db" \
    --cache "$cache" --data "$tmp/data" --job-workers "$conc" 2>"$tmp/gateway.log" &
gw=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")

echo "# voxclone scale-out bench: $(nproc) cores, store $store ($db), cache $cache"
echo "# $njobs jobs x 3 languages ($chars chars each) per worker count, $conc in flight, gateway --job-workers $conc"
echo "# voice: $clip"
python3 - "$bin" "$port" "$bind" "$tok" "$clip" "$njobs" "$conc" "$chars" "$gw" "$db" "$tmp" \
         "$counts" <<'PY'
import http.client, json, os, signal, subprocess, sys, threading, time
(bin_, port, bind, tok, clip, njobs, conc, chars, gwpid, db, tmp, counts) = sys.argv[1:]
port, njobs, conc, chars, gwpid = int(port), int(njobs), int(conc), int(chars), int(gwpid)
counts = [int(x) for x in counts.split()]
TCK = os.sysconf("SC_CLK_TCK")
para = {"en": "The quick brown fox jumps over the lazy dog while the rain keeps falling on the "
              "quiet old town by the sea, and the children run home under their umbrellas. ",
        "fr": "Le vif renard brun saute par-dessus le chien paresseux pendant que la pluie tombe "
              "sur la vieille ville tranquille au bord de la mer. ",
        "de": "Der schnelle braune Fuchs springt ueber den faulen Hund, waehrend der Regen auf "
              "die stille alte Stadt am Meer faellt. "}
targets = [{"language": l, "text": (p * 20)[:chars].rsplit(" ", 1)[0] + "."} for l, p in para.items()]

def req(method, path, body=None, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"Authorization": "Bearer " + tok}
    if body is not None:
        h["Content-Type"] = ctype
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    d = r.read()
    c.close()
    return r.status, d

def cpu(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / TCK
    except OSError:
        return 0.0

def pg_cpu():
    # all postgres server processes of this cluster (children of its postmaster)
    try:
        pm = int(open(os.path.join(tmp, "pg", "data", "postmaster.pid")).readline())
    except (OSError, ValueError):
        return None
    tot = cpu(pm)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1]) == pm:
                    tot += cpu(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return tot

def pg_stats():
    if not db.startswith("postgresql:"):
        return None
    q = ("SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database "
         "WHERE datname = current_database()")
    r = subprocess.run(["psql", db, "-X", "-A", "-t", "-F", " ", "-c", "SELECT pg_stat_clear_snapshot()",
                        "-c", q], capture_output=True, text=True)
    try:
        return [int(x) for x in r.stdout.split()[-4:]]
    except ValueError:
        return None

def workers_connected():
    try:
        return json.loads(req("GET", "/health")[1])["workers"]["connected"]
    except Exception:
        return -1


def run_job():
    t0 = time.time()
    st, b = req("POST", "/api/audio-messages", json.dumps({"targets": targets}).encode())
    if st != 202:
        return None, "submit %d %s" % (st, b[:120])
    jid = json.loads(b)["id"]
    while True:
        st, b = req("GET", "/api/audio-messages/" + jid)
        s = json.loads(b).get("status") if st == 200 else None
        if s in ("done", "failed", "partial"):
            return time.time() - t0, s
        time.sleep(0.05)

def batch(n):
    lat, bad = [], []
    lock = threading.Lock()
    left = [n]
    def slot():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            l, s = run_job()
            with lock:
                (lat.append(l) if s == "done" else bad.append(s))
    th = [threading.Thread(target=slot) for _ in range(min(conc, n))]
    t0 = time.time()
    for t in th: t.start()
    for t in th: t.join()
    return time.time() - t0, sorted(lat), bad

def pct(v, p):
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k); hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)

base = None
procs = []
rows = []
for k in counts:
    while len(procs) < k:
        wid = "b%d" % (len(procs) + 1)
        procs.append(subprocess.Popen([bin_, "worker", "--connect", bind, "--threads", "1",
                                       "--id", wid], stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(tmp, wid + ".log"), "ab")))
    deadline = time.time() + 30
    while workers_connected() != k and time.time() < deadline:
        time.sleep(0.1)
    if k == counts[0]:  # the voice (its analysis runs on a worker)
        st, body = req("POST", "/api/voice-profiles/bench", open(clip, "rb").read(), "audio/wav")
        assert st in (200, 201), (st, body[:200])
    # warm-up: every worker builds (and caches) the voice once
    batch(max(1, (k + 2) // 3) * 2)
    g0, w0, p0, s0 = cpu(gwpid), sum(cpu(p.pid) for p in procs), pg_cpu(), pg_stats()
    wall, lat, bad = batch(njobs)
    g1, w1, p1, s1 = cpu(gwpid), sum(cpu(p.pid) for p in procs), pg_cpu(), pg_stats()
    n = len(lat)
    jps = n / wall if wall > 0 else 0
    if base is None:
        base = jps
    line = ("workers %d: %2d jobs in %6.1f s  %5.3f jobs/s (%5.2f languages/s)  "
            "p50 %5.2f s  p99 %5.2f s  scaling x%.2f  cpu/job: workers %.2f s, gateway %.3f s"
            % (k, n, wall, jps, 3 * jps, pct(lat, 50), pct(lat, 99), jps / base if base else 0,
               (w1 - w0) / max(n, 1), (g1 - g0) / max(n, 1)))
    if p0 is not None and p1 is not None:
        line += ", postgres %.3f s" % ((p1 - p0) / max(n, 1))
    if s0 and s1:
        d = [(b - a) / max(n, 1) for a, b in zip(s0, s1)]
        line += "; db/job: %.1f commits, %.1f rows inserted, %.1f updated" % (d[0], d[1], d[2])
    if bad:
        line += "  FAILED: %s" % bad[:3]
    print(line, flush=True)
for p in procs:
    p.send_signal(signal.SIGTERM)
for p in procs:
    p.wait()
PY
