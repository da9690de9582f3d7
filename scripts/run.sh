#!/usr/bin/env bash
# `make run`: the HTTP service (voxclone serve) is not built yet (issue 6), so
# this runs the CLI on a real recording from ../shared when present, or on a
# generated 2-second voice-like tone otherwise, and shows the commands.
set -euo pipefail
bin=${1:-build/voxclone}
root=$(cd "$(dirname "$0")/.." && pwd)
sample="$root/../shared/evaldata/f0/fda-rl001.wav"
if [ ! -f "$sample" ]; then
  sample=/tmp/voxclone-demo.wav
  sox -n -r 16000 -b 16 "$sample" synth 2 sawtooth 130 lowpass 2500 vol 0.5 2>/dev/null
fi
echo "voxclone: the HTTP service is not implemented yet; running the analysis CLI instead."
echo "\$ $bin analyze --detailed $sample"
"$bin" analyze --detailed "$sample"
echo "\$ $bin analyze --json $sample"
"$bin" analyze --json "$sample"
