#!/usr/bin/env bash
# run.sh -- runs the benchmarks (built beforehand: `make bench` builds first).
#
#   bash bench/run.sh BUILD_DIR [bench_analysis options...]
#
# Runs BUILD_DIR/bench_analysis (extra arguments are passed to it),
# bench_pitch, bench_voiceprint, bench_vpindex and bench/api.sh (wrk against
# `voxclone serve`) with the shared data at $VX_SHARED_DIR, by default
# ../shared next to the repository, and prints their output.  Builds nothing.
set -u
if [ $# -lt 1 ]; then
  echo "usage: bash bench/run.sh BUILD_DIR [bench_analysis options...]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || { echo "run.sh: no build dir $1" >&2; exit 2; }
shift
shared=${VX_SHARED_DIR:-$root/../shared}
for b in bench_analysis bench_pitch bench_voiceprint; do
  if [ ! -x "$build/$b" ]; then
    echo "run.sh: $build/$b is missing: build first (make bench)" >&2
    exit 2
  fi
done
cd "$root" || exit 2

rc=0
echo "== bench_analysis =="
"$build/bench_analysis" --shared "$shared" --librosa-ref "$root/bench/librosa_ref.py" "$@" || rc=1
echo
echo "== bench_pitch =="
"$build/bench_pitch" --shared "$shared" || rc=1
echo
echo "== bench_voiceprint =="
"$build/bench_voiceprint" --shared "$shared" || rc=1
echo
echo "== bench_vpindex (nearest voice among 100 000) =="
"$build/bench_vpindex" || rc=1
echo
echo "== bench/api.sh (HTTP, wrk) =="
bash "$root/bench/api.sh" "$build" "$shared" || rc=1
exit $rc
