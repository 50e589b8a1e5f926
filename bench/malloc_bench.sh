#!/usr/bin/env bash
# malloc_bench.sh BUILD_DIR [NAME...] — malloc under LD_PRELOAD, side by side:
# every benchmark below run as a whole process with glibc's malloc (nothing
# preloaded), mimalloc, jemalloc, tcmalloc (Debian's shared libraries,
# preloaded) and winmem (BUILD_DIR/libwinmem-malloc.so, preloaded).  Never
# pass/fail: per benchmark a table of wall time, peak RSS and the ratios the
# goals are written in; then a summary and the issue's goals for winmem.
#
# Benchmarks (all when none is named):
#   bench/malloc/*.c, written for winmem after the standard allocator
#   benchmarks and built here with plain cc, without winmem:
#     larson  xmalloc  cache-scratch  glibc-simple  rptest  small  mixed
#   whole programs (their inputs generated here, before any timing):
#     python3         /usr/bin/python3 on an allocation-heavy script (dicts,
#                     lists, strings, JSON round trips); pymalloc serves its
#                     objects up to 512 bytes itself
#     python3-malloc  the same with PYTHONMALLOC=malloc: every object is malloc's
#     git             gc --aggressive, then log -p, on a generated repository
#     sqlite3         a generated SQL workload on a fresh database file
#     gcc             a few of winmem's sources compiled with -O2
#
# Each run is one process (with its children), started by a small wrapper
# that sets LD_PRELOAD for it alone and takes the wall time from fork to
# wait4 and the peak RSS from wait4's ru_maxrss: the largest resident set of
# any one process of the run (gcc's cc1, git's pack-objects).  Every
# allocator runs every benchmark ROUNDS times, the allocators taking turns;
# a row shows the best time and the largest peak.  A run that exits non-zero,
# dies of a signal, outlives LIMIT seconds, or (whole programs) prints other
# than the benchmark's first successful run (glibc's, normally) printed, is
# FAILED and is not timed; a library that is not installed is n/a.  Before anything runs, a probe checks that each
# preloaded library really is the one answering malloc.
#
# Environment: MALLOC_BENCH_ROUNDS (3), MALLOC_BENCH_LIMIT (seconds, 180),
# MALLOC_BENCH_ALLOCATORS (a subset of "glibc mimalloc jemalloc tcmalloc
# winmem"), CC (cc).  The benchmark binaries stay in BUILD_DIR/malloc_bench/
# (for perf: LD_PRELOAD=... BUILD_DIR/malloc_bench/larson), and each run's
# stderr in BUILD_DIR/malloc_bench/logs/.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: malloc_bench.sh BUILD_DIR [NAME...]" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
shift
src=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${MALLOC_BENCH_ROUNDS:-3}
LIMIT=${MALLOC_BENCH_LIMIT:-180}
CC=${CC:-cc}
PY=/usr/bin/python3

c_benches=(larson xmalloc cache-scratch glibc-simple rptest small mixed)
programs=(python3 python3-malloc git sqlite3 gcc)
all=("${c_benches[@]}" "${programs[@]}")
read -ra allocators <<<"${MALLOC_BENCH_ALLOCATORS:-glibc mimalloc jemalloc tcmalloc winmem}"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
  [[ " ${all[*]} " == *" $n "* ]] || { echo "malloc_bench.sh: no benchmark $n (${all[*]})" >&2; exit 2; }
done

declare -A title=(
  [larson]="larson: 2 threads x 5,000 slots of 8-1000 B; new threads take over the slots every round"
  [xmalloc]="xmalloc: 1 thread allocates 8-128 B, another frees (batches of 256)"
  [cache-scratch]="cache-scratch: 2 threads each free a neighbour-allocated 8 B object, then allocate and write their own"
  [glibc-simple]="glibc-simple: 1 thread, batches of 25-1,600 blocks of 8-512 B allocated, then freed in order"
  [rptest]="rptest: 2 threads x 4,000 slots of 16 B-16 KiB (skewed small), 1 free in 16 on the other thread"
  [small]="small: 1 thread, 50,000 live blocks of 8-256 B, free and malloc at a random slot"
  [mixed]="mixed: 1 thread, 2,000 live blocks of 8 B-64 KiB (log), free and malloc at a random slot"
  [python3]="python3: dicts, lists, strings and JSON round trips, pure Python (pymalloc on)"
  [python3-malloc]="python3, PYTHONMALLOC=malloc: the same script, every object from malloc"
  [git]="git: gc --aggressive, then log -p, on a generated repository (600 commits)"
  [sqlite3]="sqlite3: a generated workload (inserts, indexes, joins, window functions, vacuum)"
  [gcc]="gcc: 5 of winmem's sources compiled to assembly with -O2"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$build/malloc_bench
logs=$out/logs
mkdir -p "$out" "$logs"
rm -f "$logs"/*.err

# The same surroundings for every run, and none of the user's.
export LC_ALL=C TZ=UTC HOME=$work/home TMPDIR=$work/tmp GIT_CONFIG_NOSYSTEM=1 PAGER=cat GIT_PAGER=cat
export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0 \
       GIT_CONFIG_KEY_1=maintenance.auto GIT_CONFIG_VALUE_1=false
unset LD_PRELOAD MALLOC_CHECK_ MALLOC_PERTURB_ MALLOC_ARENA_MAX PYTHONMALLOC PYTHONPATH PYTHONHOME \
      PYTHONSTARTUP MIMALLOC_VERBOSE MALLOC_CONF TCMALLOC_RELEASE_RATE
mkdir -p "$HOME" "$TMPDIR"
start=$SECONDS

# --------------------------------------------------------------- helpers
# measure LIMIT PRELOAD IN OUT ERR CMD...: CMD with LD_PRELOAD=PRELOAD (none
# when empty) in its environment alone, stdin from IN, stdout to OUT and
# stderr to ERR; prints "HOW N SECONDS PEAK_KIB", HOW N being "exit STATUS",
# "signal NUMBER" or "timeout 0".  The run is a process group of its own, killed
# whole when it outlives LIMIT.
cat >"$work/measure.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t expired;
static void on_alarm(int sig) { (void)sig; expired = 1; }

static int redirect(const char *path, int fd, int flags)
{
    int f = open(path, flags, 0644);
    return f >= 0 && dup2(f, fd) >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    struct timespec t0, t1;
    struct sigaction sa = { .sa_handler = on_alarm };      /* no SA_RESTART: wait4 returns */
    sigaction(SIGALRM, &sa, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        setpgid(0, 0);
        if (argv[2][0])
            setenv("LD_PRELOAD", argv[2], 1);
        else
            unsetenv("LD_PRELOAD");
        if (redirect(argv[3], 0, O_RDONLY) || redirect(argv[4], 1, O_WRONLY | O_CREAT | O_TRUNC)
            || redirect(argv[5], 2, O_WRONLY | O_CREAT | O_TRUNC))
            _exit(126);
        execvp(argv[6], argv + 6);
        _exit(127);
    }
    setpgid(pid, pid);
    alarm((unsigned)atoi(argv[1]));
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR)
            return 2;
        if (expired)
            kill(-pid, SIGKILL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kill(-pid, SIGKILL);                                   /* anything it left running */
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (expired)
        printf("timeout 0 %.3f %ld\n", s, ru.ru_maxrss);
    else if (WIFSIGNALED(status))
        printf("signal %d %.3f %ld\n", WTERMSIG(status), s, ru.ru_maxrss);
    else
        printf("exit %d %.3f %ld\n", WEXITSTATUS(status), s, ru.ru_maxrss);
    return 0;
}
C
# probe: the file that defines the malloc this process calls.
cat >"$work/probe.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    Dl_info info;
    void *f = dlsym(RTLD_DEFAULT, "malloc"), *p = malloc(100);
    free(p);
    if (!f || !p || !dladdr(f, &info) || !info.dli_fname)
        return 1;
    printf("%s\n", info.dli_fname);
    return 0;
}
C
if ! "$CC" -O2 -o "$work/measure" "$work/measure.c" || ! "$CC" -O2 -o "$work/probe" "$work/probe.c" -ldl; then
  echo "malloc_bench.sh: cannot build the wrapper with $CC" >&2; exit 2
fi
for b in "${c_benches[@]}"; do
  "$CC" -O2 -g -pthread -Wall -Wextra -o "$out/$b" "$src/bench/malloc/$b.c" \
    || { echo "malloc_bench.sh: cannot build bench/malloc/$b.c" >&2; exit 2; }
done

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# --------------------------------------------------------- the allocators
# libpath NAME: where the dynamic linker finds the shared library NAME.
libpath() {
  local ldc; ldc=$(command -v ldconfig || echo /sbin/ldconfig)
  "$ldc" -p 2>/dev/null | awk -v n="$1" '$1 == n { print $NF; exit }'
}
# pkgver PATH: "package version" of the Debian package that holds PATH.
pkgver() {
  local p pkg=""
  for p in "$1" "/usr$1" "$(readlink -f "$1")"; do     # merged /usr: dpkg knows one of them
    pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$pkg" ] && break
  done
  if [ -n "$pkg" ]; then echo "$pkg $(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)"
  else echo "(not from a Debian package)"; fi
}
declare -A lib note avail
lib[glibc]="" lib[winmem]=$build/libwinmem-malloc.so
lib[mimalloc]=$(libpath libmimalloc.so.2)
lib[jemalloc]=$(libpath libjemalloc.so.2)
lib[tcmalloc]=$(libpath libtcmalloc_minimal.so.4)
declare -A soname=([mimalloc]=libmimalloc.so.2 [jemalloc]=libjemalloc.so.2 [tcmalloc]=libtcmalloc_minimal.so.4
                   [winmem]=libwinmem-malloc.so [glibc]=libc.so.6)

echo "malloc_bench: whole processes under glibc, mimalloc, jemalloc, tcmalloc and winmem (LD_PRELOAD)"
machine="$(uname -s) $(uname -r) $(uname -m)"
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: $machine, $(nproc) CPUs (${model:-unknown}), page $(getconf PAGESIZE) bytes"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "timing: wall time of the whole process, best of $ROUNDS runs, allocators taking turns;"
echo "  peak RSS: the largest ru_maxrss of the runs (the largest single process of a run);"
echo "  ratio to best = time / the fastest allocator's time on the same benchmark"
echo
echo "allocators:"
for a in "${allocators[@]}"; do
  case $a in glibc|mimalloc|jemalloc|tcmalloc|winmem) ;; *) echo "malloc_bench.sh: no allocator $a" >&2; exit 2 ;; esac
  avail[$a]=0
  if [ "$a" != glibc ] && [ ! -f "${lib[$a]}" ]; then
    note[$a]="n/a: ${soname[$a]} not installed (scripts/deps.sh bench)"
    [ "$a" = winmem ] && note[$a]="n/a: no ${lib[$a]} (make)"
  else
    answer=$(LD_PRELOAD=${lib[$a]} "$work/probe" 2>&1)
    if [ "${answer##*/}" != "${soname[$a]}" ]; then
      note[$a]="n/a: malloc answered by '$answer', not ${soname[$a]}"
    else
      avail[$a]=1
      case $a in
        glibc)  note[$a]="glibc $(getconf GNU_LIBC_VERSION | awk '{ print $2 }'), no preload" ;;
        winmem) note[$a]="$(git -C "$src" describe --always --dirty 2>/dev/null || echo "this tree"), ${lib[$a]}" ;;
        *)      note[$a]="$(pkgver "${lib[$a]}"), ${lib[$a]}" ;;
      esac
    fi
  fi
  printf "  %-10s %s\n" "$a" "${note[$a]}"
done
echo

# ------------------------------------------------- whole-program inputs
py_script() {
  cat >"$work/alloc.py" <<'PY'
# Allocation-heavy pure Python, deterministic: records as dicts of strings,
# lists and numbers; JSON round trips; an index rebuilt as records churn;
# string building and splitting.  Prints a digest of what it computed.
import hashlib, json, sys

seed = 20261123
def rnd(n):
    global seed
    seed = (seed * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
    return (seed >> 33) % n

syll = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "ze", "pu", "an", "el"]
def word():
    return "".join(syll[rnd(12)] for _ in range(1 + rnd(4)))

def record(i):
    return {"id": i, "name": word().capitalize() + " " + word().capitalize(),
            "tags": [word() for _ in range(rnd(6))],
            "score": rnd(100000) / 100.0,
            "history": [{"t": rnd(1 << 30), "v": word() * (1 + rnd(3))} for _ in range(rnd(4))],
            "note": " ".join(word() for _ in range(rnd(40)))}

digest = hashlib.sha256()
records = [record(i) for i in range(12000)]
for rounds in range(3):
    text = json.dumps(records)
    back = json.loads(text)
    if back != records:
        sys.exit("json round trip differs")
    digest.update(str(len(text)).encode())
    index = {}
    for r in back:
        for t in r["tags"]:
            index.setdefault(t, []).append(r["id"])
    digest.update(repr(sorted((k, len(v)) for k, v in index.items())[:50]).encode())
    for _ in range(4000):                       # churn: a third of the records replaced
        k = rnd(len(records))
        records[k] = record(records[k]["id"] + 100000 * (rounds + 1))
    words = " ".join(r["note"] for r in records).split()
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    digest.update(repr(top).encode())
    lines = ["%d;%s;%.2f;%s" % (r["id"], r["name"], r["score"], ",".join(r["tags"])) for r in records]
    parsed = [l.split(";") for l in lines]
    digest.update(str(sum(len(p[3]) for p in parsed)).encode())
    del text, back, index, words, counts, lines, parsed
print(digest.hexdigest())
PY
}

git_repo() {
  "$PY" -I - >"$work/history.fi" <<'PY'
import sys
seed = 777
def rnd(n):
    global seed
    seed = (seed * 1103515245 + 12345) % (1 << 31)
    return (seed >> 8) % n
words = "alpha beta gamma delta heap page commit reserve protect guard region span block free list".split()
def line(k):
    return f"{k} " + " ".join(words[rnd(len(words))] for _ in range(3 + rnd(9)))
files = {}
for i in range(60):
    files[f"{['src', 'docs', 'lib', 'tests'][i % 4]}/f{i:02d}.txt"] = [line(k) for k in range(100 + rnd(300))]
out = sys.stdout
def data(s):
    b = s.encode()
    out.write(f"data {len(b)}\n{s}\n")
t = 1600000000
for c in range(1, 601):
    changed = []
    paths = sorted(files)
    for _ in range(1 + rnd(5)):
        p = paths[rnd(len(paths))]
        body = files[p]
        for _ in range(1 + rnd(8)):
            k = rnd(len(body) + 1)
            op = rnd(3)
            if op == 0 or not body:
                body.insert(k, line(c))
            elif op == 1:
                body[min(k, len(body) - 1)] = line(c)
            else:
                del body[min(k, len(body) - 1)]
        changed.append(p)
    t += 3600 + rnd(7200)
    out.write(f"commit refs/heads/main\nmark :{c}\n")
    out.write(f"author A U Thor <author@example.com> {t} +0000\n")
    out.write(f"committer C O Mitter <committer@example.com> {t} +0000\n")
    data(f"commit {c}: " + ", ".join(changed))
    if c > 1:
        out.write(f"from :{c - 1}\n")
    for p in sorted(set(changed)):
        out.write(f"M 100644 inline {p}\n")
        data("\n".join(files[p]))
    out.write("\n")
PY
  git init -q -b main "$work/repo" && git -C "$work/repo" fast-import --quiet <"$work/history.fi"
}

sql_workload() {
  "$PY" -I - >"$work/workload.sql" <<'PY'
seed = 99
def rnd(n):
    global seed
    seed = (seed * 1103515245 + 12345) % (1 << 31)
    return (seed >> 8) % n
syll = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "ze", "pu"]
def name():
    return "".join(syll[rnd(10)] for _ in range(2 + rnd(4))).capitalize()
print("PRAGMA cache_size = -4000;")
print("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, joined INTEGER);")
print("CREATE TABLE product (id INTEGER PRIMARY KEY, title TEXT, price REAL);")
print("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, product INTEGER, qty INTEGER, note TEXT);")
print("BEGIN;")
for i in range(1, 5001):
    print(f"INSERT INTO customer VALUES ({i}, '{name()}', 'c{rnd(40)}', {1500000000 + rnd(100000000)});")
for i in range(1, 1001):
    print(f"INSERT INTO product VALUES ({i}, '{name()} {name()}', {rnd(100000) / 100});")
print("COMMIT;")
for t in range(12):
    print("BEGIN;")
    for i in range(5000):
        note = "'" + " ".join(name() for _ in range(rnd(8))) + "'" if rnd(4) else "NULL"
        print(f"INSERT INTO orders (customer, product, qty, note) VALUES ({1 + rnd(5000)}, {1 + rnd(1000)}, {1 + rnd(20)}, {note});")
    print("COMMIT;")
print("""
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_product ON orders(product, qty);
CREATE INDEX customer_city ON customer(city, name);
SELECT count(*), sum(qty), total(length(note)) FROM orders;
SELECT c.city, count(*), printf('%.2f', sum(o.qty * p.price)) FROM orders o
  JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product GROUP BY c.city ORDER BY 1;
SELECT c.name, count(o.id) AS n FROM customer c LEFT JOIN orders o ON o.customer = c.id
  GROUP BY c.id ORDER BY n DESC, c.name LIMIT 20;
SELECT customer, sum(n) FROM (SELECT customer, qty * row_number() OVER (PARTITION BY customer ORDER BY qty, id) AS n
  FROM orders) GROUP BY customer ORDER BY 2 DESC, 1 LIMIT 10;
SELECT city, length(group_concat(name, ',')) FROM (SELECT city, name FROM customer ORDER BY name) GROUP BY city;
CREATE TABLE big AS SELECT o.id, c.name || ' bought ' || p.title || ' x' || o.qty || ' ' || coalesce(o.note, '') AS line
  FROM orders o JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product;
SELECT count(DISTINCT line), max(length(line)), min(line), max(line) FROM big;
SELECT substr(line, 1, 40) FROM big ORDER BY line DESC, id LIMIT 10;
CREATE INDEX big_line ON big(line);
SELECT count(*) FROM big WHERE line LIKE 'Ka%';
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
  SELECT count(*), sum(i % 977), max(hex(i)) FROM n;
SELECT json_group_array(json_object('id', id, 'name', name)) FROM customer WHERE id % 500 = 0;
UPDATE orders SET note = coalesce(note, '') || ' (updated)' WHERE qty > 12;
DELETE FROM orders WHERE qty % 3 = 0;
DROP TABLE big;
VACUUM;
PRAGMA integrity_check;
SELECT count(*), sum(qty), total(length(note)) FROM orders;
""")
PY
}

# --------------------------------------------------------------- running
# cmd NAME: sets the command line of one run of NAME in run_cmd and its
# stdin in run_in, after what each run needs afresh (untimed).
# shellcheck disable=SC2016      # the bash -c scripts expand their own arguments
cmd() {
  run_in=/dev/null
  case $1 in
    python3|python3-malloc) run_cmd=("$PY" -s -B "$work/alloc.py") ;;
    git)
      rm -rf "$work/run.git" && cp -a "$work/repo" "$work/run.git"
      run_cmd=(bash -c 'set -eo pipefail; git -C "$1" gc -q --aggressive; git -C "$1" log -p | sha256sum' _ "$work/run.git") ;;
    sqlite3)
      rm -f "$work/run.db"
      run_cmd=(sqlite3 -batch -bail "$work/run.db"); run_in=$work/workload.sql ;;
    gcc)
      run_cmd=(bash -c 'set -e; cd "$1"; for f in "${@:2}"; do gcc -std=gnu11 -O2 -fPIC \
                 -fvisibility=hidden -DWINMEM_DEBUG=0 -Isrc -Iinclude -S -o - "$f"; done' _ "$work/tree"
               src/heap/heap_back.c src/heap/heap_front.c src/vm/vm_registry.c src/heap/heap_api.c
               src/crt/crt_debug.c) ;;
    *) run_cmd=("$out/$1") ;;
  esac
}
is_program() { [[ " ${programs[*]} " == *" $1 "* ]]; }

declare -A best peak state digest reference
# run_one NAME ALLOCATOR ROUND: one measured run, folded into best/peak/state.
run_one() {
  local b=$1 a=$2 r=$3 res how n st t kib sum err=$logs/$1.$2.$3.err
  cmd "$b"
  if [ "$b" = python3-malloc ]; then
    res=$(PYTHONMALLOC=malloc "$work/measure" "$LIMIT" "${lib[$a]}" "$run_in" "$work/stdout" "$err" "${run_cmd[@]}")
  else
    res=$("$work/measure" "$LIMIT" "${lib[$a]}" "$run_in" "$work/stdout" "$err" "${run_cmd[@]}")
  fi
  read -r how n t kib <<<"$res"
  case $how in
    exit) st=ok; [ "$n" = 0 ] || st="exit status $n" ;;
    signal) st="killed by signal $n" ;;
    timeout) st="still running after $LIMIT s, killed" ;;
    *) st="the wrapper failed" ;;
  esac
  # A whole program must print what the first run that succeeded printed
  # (glibc's, unless it failed: each benchmark starts with the first allocator).
  if [ "$st" = ok ] && is_program "$b"; then
    sum=$(sha256sum <"$work/stdout" | cut -c1-16)
    if [ -z "${digest[$b]:-}" ]; then digest[$b]=$sum reference[$b]=$a
    elif [ "${digest[$b]}" != "$sum" ]; then st="output differs from the ${reference[$b]} run's"; fi
  fi
  if [ "$st" != ok ]; then
    cp "$work/stdout" "$err.stdout" 2>/dev/null
    [ "${state[$b,$a]:-ok}" = ok ] && state[$b,$a]="FAILED: $st (round $r; $err)"
    return
  fi
  [ -s "$err" ] || rm -f "$err"
  [ -n "${state[$b,$a]:-}" ] && return                  # an earlier round failed
  if [ -z "${best[$b,$a]:-}" ] || awk -v x="$t" -v y="${best[$b,$a]}" 'BEGIN { exit !(x < y) }'; then
    best[$b,$a]=$t
  fi
  [ "${peak[$b,$a]:-0}" -ge "$kib" ] || peak[$b,$a]=$kib
}

# The row of one allocator: time, peak RSS, ratio to best, to mimalloc, RSS to mimalloc's.
print_table() {
  local b=$1 a fastest="" m=mimalloc
  for a in "${allocators[@]}"; do
    if [ -z "${best[$b,$a]:-}" ] || [ -n "${state[$b,$a]:-}" ]; then continue; fi
    if [ -z "$fastest" ] || awk -v x="${best[$b,$a]}" -v y="$fastest" 'BEGIN { exit !(x < y) }'; then
      fastest=${best[$b,$a]}
    fi
  done
  echo "${title[$b]}"
  printf "  %-10s | %9s | %10s | %13s | %17s | %12s\n" allocator time "peak RSS" "ratio to best" \
    "ratio to mimalloc" "RSS/mimalloc"
  printf "  %-10s-+-%9s-+-%10s-+-%13s-+-%17s-+-%12s\n" ---------- --------- ---------- ------------- \
    ----------------- ------------
  for a in "${allocators[@]}"; do
    if [ "${avail[$a]}" = 0 ]; then printf "  %-10s | %s\n" "$a" "${note[$a]}"; continue; fi
    if [ -n "${state[$b,$a]:-}" ]; then printf "  %-10s | %s\n" "$a" "${state[$b,$a]}"; continue; fi
    local t=${best[$b,$a]} kib=${peak[$b,$a]} vm="n/a" rm="n/a"
    if [ -n "${best[$b,$m]:-}" ] && [ -z "${state[$b,$m]:-}" ]; then
      vm="$(ratio "$t" "${best[$b,$m]}")x"
      rm="$(ratio "$kib" "${peak[$b,$m]}")x"
    fi
    printf "  %-10s | %7.2f s | %6.1f MiB | %12sx | %17s | %12s\n" "$a" "$t" \
      "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$(ratio "$t" "$fastest")" "$vm" "$rm"
    ratio_best[$b,$a]=$(ratio "$t" "$fastest")
    [ "$vm" = n/a ] || ratio_mi[$b,$a]=${vm%x}
  done
  echo
}

[ -x "$PY" ] || { echo "malloc_bench.sh: no $PY (scripts/deps.sh programs)" >&2; exit 2; }
for n in "${names[@]}"; do
  case $n in
    python3|python3-malloc) [ -f "$work/alloc.py" ] || py_script ;;
    git) command -v git >/dev/null || { echo "malloc_bench.sh: no git (scripts/deps.sh programs)" >&2; exit 2; }
         git_repo >/dev/null || { echo "malloc_bench.sh: cannot make the git repository" >&2; exit 2; } ;;
    sqlite3) command -v sqlite3 >/dev/null || { echo "malloc_bench.sh: no sqlite3 (scripts/deps.sh programs)" >&2; exit 2; }
             sql_workload ;;
    gcc) command -v gcc >/dev/null || { echo "malloc_bench.sh: no gcc" >&2; exit 2; }
         mkdir -p "$work/tree" && cp -r "$src/src" "$src/include" "$work/tree/" ;;   # one snapshot for every run
  esac
done

declare -A ratio_best ratio_mi
for b in "${names[@]}"; do
  for ((r = 0; r < ROUNDS; r++)); do
    for ((i = 0; i < ${#allocators[@]}; i++)); do          # each round starts one further on
      a=${allocators[(i + r) % ${#allocators[@]}]}
      [ "${avail[$a]}" = 1 ] && run_one "$b" "$a" "$((r + 1))"
    done
  done
  print_table "$b"
done

# ---------------------------------------------------------------- summary
echo "summary over ${#names[@]} benchmarks"
printf "  %-10s | %20s | %-30s | %s\n" allocator "geomean vs mimalloc" "worst ratio to best" "failed"
printf "  %-10s-+-%20s-+-%-30s-+-%s\n" ---------- -------------------- ------------------------------ ------
declare -A geo worst worst_at fails
for a in "${allocators[@]}"; do
  if [ "${avail[$a]}" = 0 ]; then printf "  %-10s | %s\n" "$a" "${note[$a]}"; continue; fi
  local_n=0 logsum=0 w=0 at="" f=0
  for b in "${names[@]}"; do
    if [ -z "${ratio_best[$b,$a]:-}" ]; then f=$((f + 1)); continue; fi
    if [ -n "${ratio_mi[$b,$a]:-}" ]; then
      logsum=$(awk -v s="$logsum" -v x="${ratio_mi[$b,$a]}" 'BEGIN { print s + log(x) }'); local_n=$((local_n + 1))
    fi
    if awk -v x="${ratio_best[$b,$a]}" -v y="$w" 'BEGIN { exit !(x > y) }'; then w=${ratio_best[$b,$a]} at=$b; fi
  done
  geo[$a]=n/a
  [ $local_n -gt 0 ] && geo[$a]=$(awk -v s="$logsum" -v n=$local_n 'BEGIN { printf "%.2f", exp(s / n) }')
  worst[$a]=$w worst_at[$a]=$at fails[$a]=$f
  g=${geo[$a]}; [ "$g" = n/a ] || g="${g}x"
  [ "$local_n" -lt "$(( ${#names[@]} - f ))" ] && g="$g (over $local_n)"
  wl="n/a"; [ -n "$at" ] && wl="${w}x ($at)"
  printf "  %-10s | %20s | %-30s | %s\n" "$a" "$g" "$wl" "$f"
done
echo

# met FIGURE LIMIT: "met" when FIGURE <= LIMIT.
met() { awk -v x="$1" -v y="$2" 'BEGIN { print (x <= y ? "met" : "not met") }'; }
echo "goals (winmem):"
goal_line() {   # goal_line TEXT FIGURE LIMIT
  if [ -z "$2" ] || [ "$2" = n/a ]; then printf "  %-46s %8s   not met\n" "$1" "n/a"
  else printf "  %-46s %7sx   %s\n" "$1" "$2" "$(met "$2" "$3")"; fi
}
if [ "${avail[winmem]:-0}" = 1 ]; then
  [[ " ${names[*]} " == *" small "* ]] && goal_line "small <= 1.10x mimalloc:" "${ratio_mi[small,winmem]:-}" 1.10
  [[ " ${names[*]} " == *" mixed "* ]] && goal_line "mixed <= 1.25x mimalloc:" "${ratio_mi[mixed,winmem]:-}" 1.25
  if [ "${fails[winmem]}" -gt 0 ]; then
    goal_line "geometric mean <= 1.15x mimalloc's:" n/a 0
    echo "    (winmem failed ${fails[winmem]} benchmark(s))"
  else
    goal_line "geometric mean <= 1.15x mimalloc's:" "${geo[winmem]}" 1.15
  fi
  if [ "${fails[winmem]}" -gt 0 ]; then
    goal_line "no benchmark over 2x the best:" n/a 0
    echo "    (a failed benchmark counts as over 2x)"
  else
    goal_line "no benchmark over 2x the best (${worst_at[winmem]:-none}):" "${worst[winmem]}" 2.00
  fi
else
  echo "  ${note[winmem]:-n/a: winmem not run}"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "total run time: $((SECONDS - start)) s"
