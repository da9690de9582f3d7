#!/usr/bin/env bash
# fit.sh -- builds scripts/pitch/fit_voicing.c against a build directory's
# libvoxclone.a and runs it: refits the accurate pitch mode's voicing model on
# the tuning clips and prints in-sample and cross-validated GPE/VDE.
#
#   bash scripts/pitch/fit.sh BUILD_DIR [--shared DIR]
#
# Exit status 2 when the freshly fitted coefficients differ from the ones
# hard-coded in src/analysis/pitch_accurate.c.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: bash scripts/pitch/fit.sh BUILD_DIR [--shared DIR]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
shift
out=$(mktemp -d /tmp/vx_fit_XXXXXX)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow -Wstrict-prototypes \
  -Wmissing-prototypes -I"$root/include" -I"$root/src" \
  "$root/scripts/pitch/fit_voicing.c" "$build/libvoxclone.a" \
  $(pkg-config --libs sndfile soxr fftw3f jansson) -lpthread -lm -o "$out/fit_voicing"
shared=${VX_SHARED_DIR:-$root/../shared}
cd "$root"
"$out/fit_voicing" --shared "$shared" "$@"
