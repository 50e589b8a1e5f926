#!/usr/bin/env bash
# leaks.sh BUILD_DIR — the leak report of `winmem run --leaks` (issue 5):
# a program with a known leak gets MSVC's report naming the block's size
# and the function that allocated it; a clean program, and the same
# program's freed blocks, get nothing; the debug heap under --debug-heap
# leaves the program's output alone; --stats prints the heap's figures;
# both reports come also from a program that closed its stderr before
# exiting (as coreutils do).
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cat > "$work/leak.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((noinline)) char *keep_forever(size_t n)
{
    char *p = malloc(n);
    memset(p, 'k', n);
    return p;
}
__attribute__((noinline)) void use_and_free(void)
{
    char *p = calloc(3, 111);
    p = realloc(p, 5000);
    free(p);
}
int main(int argc, char **argv)
{
    use_and_free();
    if (argc > 1)
        keep_forever(37);
    printf("done\n");
    if (argc > 2)
        close(2);                       /* as coreutils' close_stdout does */
    return 0;
}
C
cc -O1 -rdynamic "$work/leak.c" -o "$work/leak"

"$build/winmem" run --leaks -- "$work/leak" leak > "$work/out" 2> "$work/err"
[ "$(cat "$work/out")" = done ] && ok || bad "output changed under --leaks"
grep -q '^Detected memory leaks!$' "$work/err" && ok || bad "no leak report: $(cat "$work/err")"
grep -Eq '^keep_forever\+0x[0-9a-f]+ \(leak\) : \{[0-9]+\} normal block at 0x[0-9A-F]{16}, 37 bytes long\.$' "$work/err" \
  && ok || bad "the leaked block's line: $(cat "$work/err")"
grep -q '^ Data: <kkkkkkkkkkkkkkkk> 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B 6B $' "$work/err" \
  && ok || bad "the leaked block's data line"
[ "$(grep -c 'block at' "$work/err")" = 1 ] && ok || bad "blocks reported that were freed: $(cat "$work/err")"
grep -q '^winmem: 1 blocks, 37 bytes still allocated at exit$' "$work/err" && ok || bad "the closing count"

"$build/winmem" run --leaks -- "$work/leak" > "$work/out" 2> "$work/err"
[ ! -s "$work/err" ] && ok || bad "a clean run reported: $(cat "$work/err")"

"$build/winmem" run --debug-heap -- "$work/leak" leak > "$work/out" 2> "$work/err"
[ "$(cat "$work/out")" = done ] && [ ! -s "$work/err" ] && ok || bad "--debug-heap changed the run"

"$build/winmem" run --stats -- "$work/leak" > "$work/out" 2> "$work/err"
grep -Eq '^winmem: process heap at exit: [0-9]+ bytes allocated, [0-9]+ committed, [0-9]+ reserved; peak commit charge [0-9]+ bytes$' \
  "$work/err" && ok || bad "--stats: $(cat "$work/err")"

"$build/winmem" run --stats --leaks -- "$work/leak" leak close > "$work/out" 2> "$work/err"
grep -q '^winmem: process heap at exit: ' "$work/err" && grep -q '37 bytes long\.$' "$work/err" \
  && ok || bad "reports lost when the program closed stderr: $(cat "$work/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
