#!/usr/bin/env bash
# package.sh SOURCE_DIR BUILD_DIR — what users and scripts rely on:
#  1. libwinmem.so exports winmem_* functions and nothing else;
#  2. the README's line builds a Win32 program against build/libwinmem.a;
#  3. make install's pkg-config file and CMake package both build one;
#  4. libwinmem-malloc.so exports the C allocation API and winmem_* only,
#     and the installed `winmem run` preloads the installed library.
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 pass=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

others=$(nm -D --defined-only "$build/libwinmem.so" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | grep -v '^winmem_' || true)
[ -z "$others" ] && ok || bad "exported without the winmem_ prefix: $others"
# (into a variable first: grep -q leaving early would fail the pipe under pipefail)
exported=$(nm -D --defined-only "$build/libwinmem.so")
grep -q ' T winmem_VirtualAlloc$' <<<"$exported" && ok || bad "winmem_VirtualAlloc not exported"

cat > "$work/prog.c" <<'C'
#include <windows.h>
#include <stdio.h>
int main(void)
{
    char *p = VirtualAlloc(NULL, 1 << 20, MEM_RESERVE, PAGE_NOACCESS);
    if (!p || VirtualAlloc(p, 4096, MEM_COMMIT, PAGE_READWRITE) != p) return 1;
    p[0] = 'x';
    MEMORY_BASIC_INFORMATION m;
    if (VirtualQuery(p, &m, sizeof m) != sizeof m || m.State != MEM_COMMIT) return 2;
    if (!VirtualFree(p, 0, MEM_RELEASE)) return 3;
    puts("ok");
    return 0;
}
C
cc -Wall -Werror -I"$src/include/compat" -I"$src/include" "$work/prog.c" "$build/libwinmem.a" -lpthread -o "$work/readme" \
  && [ "$("$work/readme")" = ok ] && ok || bad "the README's compile line"

cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig:$work/prefix/lib64/pkgconfig"
if command -v pkg-config >/dev/null; then
  # shellcheck disable=SC2046
  cc -Wall -Werror -I"$(pkg-config --variable=includedir winmem)/compat" "$work/prog.c" \
     $(pkg-config --cflags --libs --static winmem) -Wl,-rpath,"$(pkg-config --variable=libdir winmem)" -o "$work/pc" \
    && [ "$("$work/pc")" = ok ] && ok || bad "pkg-config build"
fi

mkdir -p "$work/cm"
cat > "$work/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.16)
project(user C)
find_package(winmem REQUIRED)
add_executable(prog $work/prog.c)
target_include_directories(prog PRIVATE \${WINMEM_COMPAT_DIR})
get_target_property(inc winmem::winmem_static INTERFACE_INCLUDE_DIRECTORIES)
target_include_directories(prog PRIVATE \${inc}/compat)
target_link_libraries(prog PRIVATE winmem::winmem_static)
CM
cmake -S "$work/cm" -B "$work/cm/b" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null \
  && cmake --build "$work/cm/b" >/dev/null && [ "$("$work/cm/b/prog")" = ok ] && ok || bad "CMake package build"

malloc_api="__libc_calloc __libc_free __libc_malloc __libc_memalign __libc_pvalloc __libc_realloc __libc_valloc aligned_alloc calloc free malloc malloc_trim malloc_usable_size memalign posix_memalign pvalloc realloc reallocarray valloc"
got=$(nm -D --defined-only "$build/libwinmem-malloc.so" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | grep -v '^winmem_' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$malloc_api" ] && ok || bad "libwinmem-malloc.so exports '$got', not '$malloc_api'"
lib=$("$work/prefix/bin/winmem" run -- /bin/sh -c 'echo "$LD_PRELOAD"')
[ -f "$lib" ] && [ "${lib#"$work/prefix/"}" != "$lib" ] && ok || bad "installed winmem run preloads '$lib'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
