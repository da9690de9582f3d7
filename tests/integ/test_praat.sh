#!/usr/bin/env bash
# Agreement of the detailed voice metrics with Praat (the reference named by
# SPEC section 2): jitter (local), shimmer (local), mean HNR (cc) and the
# F1-F3 medians of `voxclone analyze --json --detailed` against
# scripts/praat/voice_report.praat run on the original file.
#
# Pass criteria (each metric separately, >= 90 % of the clips):
#   F1, F2, F3 within 10 %, HNR within 1.5 dB, jitter and shimmer within
#   20 % relative.  A value both tools call undefined counts as agreement.
# The clips are a fixed mix of evaldata: FDA (male), Keele f1/m1, PTDB-TUG
# F01/M01 (48 kHz), VCTK p225 (F) / p226 (M), LibriSpeech (F and M).
#
# usage: test_praat.sh path/to/voxclone shared-dir
set -u
bin=${1:?usage: test_praat.sh path/to/voxclone shared-dir}
shared=${2:-}
if ! command -v praat >/dev/null 2>&1; then
  echo "SKIP: praat not installed (Debian package praat)"; exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../scripts/praat/voice_report.praat"
if [ -z "$shared" ] || [ ! -d "$shared/evaldata" ]; then
  echo "SKIP: shared dir with evaldata/ not found (got '${shared}')"; exit 0
fi
if [ ! -x "$bin" ]; then
  echo "FAIL: voxclone binary not found: $bin"; exit 1
fi

clips="
f0/fda-rl001.wav
f0/fda-rl010.wav
f0/fda-rl021.wav
f0/fda-rl028.wav
f0/fda-rl040.wav
f0/keele-f1nw0000.wav
f0/keele-m1nw0000.wav
f0/ptdb-F01_sa1.wav
f0/ptdb-M01_sa1.wav
speakers/vctk-p225/p225_003.wav
speakers/vctk-p225/p225_011.wav
speakers/vctk-p225/p225_019.wav
speakers/vctk-p225/p225_023.wav
speakers/vctk-p226/p226_005.wav
speakers/vctk-p226/p226_016.wav
speakers/vctk-p226/p226_022.wav
speakers/libri-1998/1998-15444-0001.wav
speakers/libri-1998/1998-15444-0004.wav
speakers/libri-1998/1998-15444-0007.wav
speakers/libri-1688/1688-142285-0003.wav
speakers/libri-1688/1688-142285-0008.wav
speakers/libri-2033/2033-164914-0001.wav
speakers/libri-2414/2414-128291-0006.wav
speakers/libri-2609/2609-156975-0005.wav
"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
missing=0
for c in $clips; do
  i=$((i + 1))
  f="$shared/evaldata/$c"
  if [ ! -f "$f" ]; then
    echo "FAIL - missing clip $c"; missing=$((missing + 1)); continue
  fi
  echo "$c" > "$tmp/$i.name"
  # Praat and voxclone side by side (two processes at a time)
  ( praat --run "$script" "$f" > "$tmp/$i.praat" 2> "$tmp/$i.praat.err" ) &
  "$bin" analyze --json --detailed "$f" > "$tmp/$i.json" 2> "$tmp/$i.vx.err"
  echo $? > "$tmp/$i.vx.rc"
  wait
done
[ "$missing" -eq 0 ] || exit 1

python3 - "$tmp" "$i" <<'EOF'
import json, math, sys
tmp, n = sys.argv[1], int(sys.argv[2])
names = ["jitter %", "shimmer %", "HNR dB", "F1 Hz", "F2 Hz", "F3 Hz"]

def num(s):
    try:
        v = float(s)
        return v if math.isfinite(v) else None
    except ValueError:
        return None  # Praat's --undefined--

def agree(k, p, m):
    if p is None or m is None:
        return p is None and m is None
    if k == 2:
        return abs(m - p) <= 1.5
    if k < 2:
        return abs(m - p) <= 0.20 * abs(p)
    return abs(m - p) <= 0.10 * abs(p)

ok = [0] * 6
rows = 0
fail_run = 0
print("%-40s %s" % ("clip (praat / voxclone)", "  ".join("%-19s" % x for x in names)))
for i in range(1, n + 1):
    name = open("%s/%d.name" % (tmp, i)).read().strip()
    praat = open("%s/%d.praat" % (tmp, i)).read().split()
    rc = int(open("%s/%d.vx.rc" % (tmp, i)).read())
    if len(praat) != 6 or rc != 0:
        print("FAIL - %s: praat output %r, voxclone exit %d: %s" % (
            name, praat, rc, open("%s/%d.vx.err" % (tmp, i)).read().strip()))
        fail_run += 1
        continue
    try:
        m = json.load(open("%s/%d.json" % (tmp, i)))["metrics"]
    except (ValueError, KeyError) as e:
        print("FAIL - %s: no metrics object in the JSON (%s)" % (name, e))
        fail_run += 1
        continue
    p = [num(x) for x in praat]
    fm = m.get("formants_hz") or [None, None, None]
    mv = [m.get("jitter_local_pct"), m.get("shimmer_local_pct"), m.get("hnr_db")] + list(fm)
    mv = [None if v is None else float(v) for v in mv]
    cells = []
    for k in range(6):
        good = agree(k, p[k], mv[k])
        ok[k] += good
        fmt = lambda v: "undef" if v is None else "%.3f" % v if k < 3 else "%.1f" % v
        cells.append(("%s/%s" % (fmt(p[k]), fmt(mv[k]))).ljust(18) + (" " if good else "*"))
    rows += 1
    print("%-40s %s" % (name[-40:], " ".join(cells)))

total = rows + fail_run
print("agreement (* = outside tolerance): " + ", ".join(
    "%s %d/%d" % (names[k], ok[k], total) for k in range(6)))
bad = [names[k] for k in range(6) if ok[k] < 0.9 * total]
if fail_run or bad:
    print("FAIL - below 90%% agreement: %s%s" % (", ".join(bad) or "-",
          "; %d clips not analysed" % fail_run if fail_run else ""))
    sys.exit(1)
print("ok   - every metric agrees with Praat on >= 90%% of %d clips" % total)
EOF
