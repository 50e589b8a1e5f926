#!/usr/bin/env bash
# edge.sh BUILD_DIR — the corners of the C and C++ allocation API under
# LD_PRELOAD=libwinmem-malloc.so (issue 5): edge/edge.c (aligned family,
# errno, thread exit, fork from a thread, dlopen) and edge/newdel.cc (every
# form of operator new and delete through libstdc++), each of which prints
# "ok"; newdel must also pass without the preload, so the test is the
# allocator's and not the program's.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lib="$build/libwinmem-malloc.so"
pass=0 fail=0
check() {   # NAME COMMAND...: must print exactly "ok" and exit 0
  local name=$1 out; shift
  if out=$("$@" 2>&1) && [ "$out" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name: $out"; fi
}
cc -O1 -pthread "$here/edge/edge.c" -o "$work/edge" -ldl
cc -O1 -shared -fPIC "$here/edge/lib.c" -o "$work/libedge.so"
c++ -O1 -std=c++17 "$here/edge/newdel.cc" -o "$work/newdel"
check "edge (preloaded)" env LD_PRELOAD="$lib" "$work/edge" "$work/libedge.so"
check "newdel (plain)" "$work/newdel"
check "newdel (preloaded)" env LD_PRELOAD="$lib" "$work/newdel"
check "newdel (preloaded, debug heap)" env LD_PRELOAD="$lib" WINMEM_DEBUG_HEAP=1 "$work/newdel"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
