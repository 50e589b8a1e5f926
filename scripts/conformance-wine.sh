#!/usr/bin/env bash
# conformance-wine.sh — builds every conformance test as a real Win32 program
# with mingw-w64 and runs it under Wine.  The same sources run against winmem
# in `make check`; here they show that each expectation is Win32's, not ours.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build-wine"
mkdir -p "$out"
wine=/usr/lib/wine/wine64
export WINEDEBUG=-all WINEPREFIX="${WINEPREFIX:-$out/prefix}"
passed=0 failed=0
cd "$out"        # tests that make files make them here
for src in "$top"/tests/conformance/*.c; do
  name=$(basename "$src" .c)
  x86_64-w64-mingw32-gcc -O1 -g -Wall -Werror -I"$top/tests/conformance" "$src" -o "$out/$name.exe" -lole32 -luuid -lpthread
  if log=$("$wine" "$out/$name.exe" 2>&1); then
    passed=$((passed + 1)); status=ok
  else
    failed=$((failed + 1)); status=FAILED
  fi
  summary=$(printf '%s\n' "$log" | grep -E '^[0-9]+ passed' | tail -n 1)
  printf '%-28s %-7s %s\n' "$name" "$status" "$summary"
  [ "$status" = ok ] || printf '%s\n' "$log" | grep -E '^FAIL' || true
done
echo "conformance-wine: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
