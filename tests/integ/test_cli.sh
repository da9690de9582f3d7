#!/usr/bin/env bash
# CLI contract: exit codes, one-line errors on stderr, --help everywhere,
# exactly one JSON object per file with --json, the --frames shape, compare.
# usage: test_cli.sh path/to/voxclone [shared-dir]
set -u
bin=$1
shared=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok()   { echo "ok   - $1"; }
bad()  { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# test signals made here: a voiced-like 130 Hz sawtooth, a 0.3 s clip, junk
sox -V1 -n -r 16000 -b 16 "$tmp/voice.wav" synth 2 sawtooth 130 lowpass 2500 vol 0.4
sox -n -r 44100 -b 16 -c 2 "$tmp/stereo.flac" synth 1.5 sine 220 vol 0.5
sox -n -r 16000 -b 16 "$tmp/short.wav" synth 0.3 sine 200
printf 'not audio at all' > "$tmp/junk.wav"
: > "$tmp/empty.wav"
head -c 3000 "$tmp/voice.wav" > "$tmp/trunc.wav"

for c in "" analyze compare presets; do
  check "help $c" bash -c "'$bin' $c --help | grep -q usage"
done
check "version" bash -c "'$bin' version | grep -q voxclone"
"$bin" >/dev/null 2>&1; check "no command exits 2" test $? -eq 2
"$bin" bogus >/dev/null 2>"$tmp/err"; check "unknown command exits 2" test $? -eq 2
check "unknown command message" grep -q "unknown command" "$tmp/err"

# analysis needs none of the server/TTS libraries: they are dlopen'ed on first
# use (src/core/dynlib.h), so `analyze` must not map them at all
LD_DEBUG=files "$bin" analyze --json "$tmp/voice.wav" 2>"$tmp/ldfiles" >/dev/null
check "analyze loads libsndfile" grep -q "file=libsndfile" "$tmp/ldfiles"
check "analyze maps no server/TTS library" \
  bash -c "! grep -E 'file=lib(pq|zmq|microhttpd|espeak-ng|flite|mecab)' '$tmp/ldfiles'"

out=$("$bin" analyze "$tmp/voice.wav"); check "summary exit 0" test $? -eq 0
check "summary names voice type" bash -c "echo '$out' | grep -q 'Low (male)'"

"$bin" analyze --json "$tmp/voice.wav" > "$tmp/one.json"
check "--json one object, one line" test "$(wc -l < "$tmp/one.json")" -eq 1
check "--json parses with SPEC fields" python3 -c "
import json,sys
d=json.load(open('$tmp/one.json'))
for k in ['pitch','voice_type','spectral','mfcc','duration_seconds','sample_rate','pitch_hz','pitch_std','brightness','duration']:
    assert k in d, k
assert d['mfcc'] is None
assert abs(d['pitch']['mean_hz']-130) < 3, d['pitch']
assert d['sample_rate']==22050 and abs(d['duration']-2.0)<1e-9
"
"$bin" analyze --json --detailed "$tmp/voice.wav" "$tmp/stereo.flac" > "$tmp/two.json"
check "two files -> two JSON lines with 13 MFCC" python3 -c "
import json
ls=open('$tmp/two.json').read().splitlines()
assert len(ls)==2
for l in ls:
    d=json.loads(l); assert len(d['mfcc']['coefficients'])==13
"
"$bin" analyze --frames "$tmp/voice.wav" > "$tmp/frames.json"
check "--frames shape" python3 -c "
import json
d=json.load(open('$tmp/frames.json'))['frames']
n=len(d['times'])
assert n == 1 + 44100//512, n
for k in ['f0','voiced_flag','voiced_prob','centroid','mfcc']:
    assert len(d[k])==n, k
assert all(len(r)==13 for r in d['mfcc'])
assert all((f is None) == (not v) for f, v in zip(d['f0'], d['voiced_flag']))
"

for f in short junk empty trunc; do
  "$bin" analyze "$tmp/$f.wav" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "$f: non-zero exit" test $rc -ne 0
  check "$f: one-line error naming the file" bash -c "test \$(wc -l < '$tmp/err') -eq 1 && grep -q '$f.wav' '$tmp/err'"
  check "$f: nothing on stdout" test ! -s "$tmp/out"
done
grep -q "0.30 s" <("$bin" analyze "$tmp/short.wav" 2>&1) && ok "too short says the duration" || bad "too short says the duration"
"$bin" analyze --max-duration 1 "$tmp/voice.wav" 2>"$tmp/err"; check "--max-duration refuses" test $? -ne 0
check "--max-duration names the limit" grep -q "maximum is 1.00 s" "$tmp/err"
"$bin" analyze --threads -3 "$tmp/voice.wav" 2>/dev/null; check "bad --threads exits 2" test $? -eq 2
"$bin" analyze 2>/dev/null; check "no file exits 2" test $? -eq 2

"$bin" compare --json "$tmp/voice.wav" "$tmp/voice.wav" > "$tmp/cmp.json"
check "compare self = 1.0" python3 -c "
import json
d=json.load(open('$tmp/cmp.json'))
for k in ['pitch_similarity','brightness_similarity','mfcc_similarity','overall','overall_similarity','original_metrics','cloned_metrics']:
    assert k in d, k
assert abs(d['overall']-1.0)<1e-9 and d['overall']==d['overall_similarity']
"
"$bin" compare "$tmp/voice.wav" 2>/dev/null; check "compare needs two files" test $? -eq 2
"$bin" compare "$tmp/voice.wav" "$tmp/junk.wav" 2>/dev/null; check "compare bad file fails" test $? -ne 0

if [ -n "$shared" ] && [ -f "$shared/evaldata/f0/fda-rl001.wav" ]; then
  check "real speech analyses" bash -c "'$bin' analyze --json '$shared/evaldata/f0/fda-rl001.wav' | grep -q '\"n_frames\":65'"
else
  echo "skip - real-speech check: ../shared not found"
fi

echo "cli: $fails failure(s)"
[ $fails -eq 0 ]
