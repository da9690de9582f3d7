#!/usr/bin/env bash
# Re-derive the voiceprint model end to end (docs/voiceprint.md):
#   1. build bench_voiceprint (the library's own feature code),
#   2. dump the pre-projection features of ../shared/evaldata/speakers to
#      data/voiceprint/features.csv,
#   3. train: scripts/voiceprint/train.py -> src/analysis/voiceprint_model.c,
#   4. rebuild and run bench_voiceprint (EER, cost).
#
#   bash scripts/voiceprint/rederive.sh [BUILD_DIR] [--bootstrap]
#
# --bootstrap first writes an all-zero model, needed only when the feature
# layout (src/analysis/voiceprint_model.h) changed, because the old model's
# tables no longer compile.  Needs ../shared (or $VX_SHARED_DIR) and numpy
# for /usr/bin/python3 (Debian python3-numpy).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build"
bootstrap=0
for a in "$@"; do
  case "$a" in
    --bootstrap) bootstrap=1 ;;
    *) build="$a" ;;
  esac
done
shared=${VX_SHARED_DIR:-$root/../shared}
py=/usr/bin/python3
if [ "$bootstrap" = 1 ]; then
  "$py" "$root/scripts/voiceprint/train.py" --bootstrap
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_voiceprint -j "$(nproc)"
"$build/bench_voiceprint" --shared "$shared" --dump-features "$root/data/voiceprint/features.csv" >/dev/null
"$py" "$root/scripts/voiceprint/train.py"
cmake --build "$build" --target bench_voiceprint -j "$(nproc)"
"$build/bench_voiceprint" --shared "$shared"
