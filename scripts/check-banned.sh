#!/usr/bin/env bash
# Fails when C sources use functions banned by DEVELOPERS.md (curl-style):
# sprintf, vsprintf, strcpy, strcat, atoi, atol, gets.
set -u
root=${1:-.}
hits=$(grep -RnE '(^|[^_a-zA-Z0-9])(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets)[[:space:]]*\(' \
  "$root/src" "$root/app" "$root/include" "$root/tests" "$root/bench" --include='*.c' --include='*.h' 2>/dev/null)
if [ -n "$hits" ]; then
  echo "banned functions used:"; echo "$hits"; exit 1
fi
echo "check-banned: ok"
