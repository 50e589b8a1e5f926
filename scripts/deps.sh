#!/usr/bin/env bash
# deps.sh GROUP... — installs, from Debian's packages, what a make target needs
# and the machine lacks.  Nothing is ever installed by hand: every target that
# needs a tool calls this first.  Groups:
#   build     a C compiler, make, cmake
#   wine      mingw-w64 and wine64 (make conformance-wine)
#   bench     mimalloc, jemalloc, tcmalloc for side-by-side runs (make bench)
#   sanitize  clang with its sanitizer and fuzzer runtimes
#   aarch64   a cross compiler and qemu-user (make check-aarch64)
#   programs  python3 with its own regression suite, git, sqlite3, gcc, g++:
#             the programs tests/programs/*.sh run under the preload
set -euo pipefail

need=() again=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || need+=("$1"); }

for group in "$@"; do
  case "$group" in
    build)    command -v cc >/dev/null && command -v cmake >/dev/null && command -v make >/dev/null \
                || { want gcc; want make; want cmake; want libc6-dev; } ;;
    wine)     want mingw-w64; want wine64 ;;
    bench)    want libmimalloc-dev; want libjemalloc-dev; want libtcmalloc-minimal4 ;;
    sanitize) want clang; want libclang-rt-14-dev ;;
    aarch64)  want gcc-aarch64-linux-gnu; want libc6-dev-arm64-cross; want qemu-user ;;
    # The test-suite package is named for the version of Debian's python3
    # (libpython3.11-testsuite on Debian 12), which only that python3 can
    # tell: without one, python3 goes in first and the group runs again.
    programs) want git; want sqlite3; want gcc; want g++; want libc6-dev
              if [ -x /usr/bin/python3 ]; then
                want "libpython$(/usr/bin/python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-testsuite"
              else
                want python3; again+=(programs)
              fi ;;
    *) echo "deps.sh: unknown group $group" >&2; exit 2 ;;
  esac
done

[ ${#need[@]} -eq 0 ] && exit 0
echo "deps.sh: installing ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ ${#again[@]} -eq 0 ] || exec "$0" "${again[@]}"
