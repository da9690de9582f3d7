#!/usr/bin/env bash
# Installs every Debian package voxclone needs to build, run and test.
# Idempotent and quiet when everything is already present.
set -euo pipefail
PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libsndfile1-dev libsoxr-dev libfftw3-dev libjansson-dev libcmocka-dev
      libespeak-ng-dev espeak-ng-data flite1-dev libsptk-dev libmp3lame-dev
      libmecab-dev mecab-ipadic-utf8 pocketsphinx pocketsphinx-en-us
      sox praat python3 python3-numpy
      libmicrohttpd-dev libsqlite3-dev libpq-dev libhiredis-dev libsodium-dev libzmq3-dev
      postgresql redis-server prometheus wrk curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# the browser tests: Debian's chromium + playwright-core from npm (pinned)
bash "$(dirname "$0")/install-e2e.sh"
