#!/usr/bin/env bash
# programs.sh BUILD_DIR [NAME...] — real programs that nobody here wrote, run
# once plainly and once with LD_PRELOAD=BUILD_DIR/libwinmem-malloc.so; what
# each prints (stdout, normalised where it holds timings, and every step's
# exit status) must be the same both times.  Cases (all when none is named):
#   python   Debian's python3 running part of its own regression suite
#   git      fast-import, clone, log, blame, commit, merge, gc, fsck
#   sqlite3  a generated workload on a fresh database file
#   gcc      winmem's own sources compiled to assembly, and a program linked
#            and run
# The check "preload" always runs first: without it a pass proves nothing.
# It asks the preloaded python3 whether its malloc hands out blocks of
# winmem's process heap (and the plain one must not even see winmem), and
# ld.so whether each program's malloc binds to the library.
# The two runs of a case go side by side, each in its own directory, under
# a temporary one that is removed (kept with WINMEM_PROGRAMS_KEEP=1).
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: programs.sh BUILD_DIR [NAME...]" >&2; exit 2; }
lib=$(cd "$1" && pwd)/libwinmem-malloc.so
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$lib" ] || { echo "programs.sh: no $lib" >&2; exit 2; }
all=(python git sqlite3 gcc)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
  [[ " ${all[*]} " == *" $n "* ]] || { echo "programs.sh: no case $n (${all[*]})" >&2; exit 2; }
done

work=$(mktemp -d)
if [ -n "${WINMEM_PROGRAMS_KEEP:-}" ]; then echo "programs.sh: keeping $work" >&2
else trap 'rm -rf "$work"' EXIT; fi
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "$1 ok"; }
# bad NAME WHY [FILE] — the failure, and FILE's first lines if one is named.
bad() {
  fail=$((fail + 1)); echo "$1 FAILED: $2"
  [ -z "${3:-}" ] && return
  sed -n '1,12s/^/    /p' "$3"
  local n; n=$(wc -l <"$3")
  [ "$n" -le 12 ] || echo "    ... $((n - 12)) more lines"
}

# The same surroundings for both runs, and none of the user's.  LIMIT bounds
# one step: a hang under the preload fails its case instead of the whole test.
export LC_ALL=C TZ=UTC HOME=$work/home TMPDIR=$work/tmp GIT_CONFIG_NOSYSTEM=1 PAGER=cat GIT_PAGER=cat
unset XDG_CONFIG_HOME PYTHONPATH PYTHONHOME PYTHONSTARTUP LD_PRELOAD MALLOC_CHECK_ MALLOC_PERTURB_
mkdir -p "$HOME" "$TMPDIR"
LIMIT=${WINMEM_PROGRAMS_LIMIT:-300}
PY=/usr/bin/python3             # Debian's, whose test suite is installed

# run MODE CMD... — CMD, with the library preloaded when MODE is preload.
# timeout and env run plainly; only CMD and its children get the library.
run() {
  local mode=$1; shift
  if [ "$mode" = preload ]; then timeout -k 5 "$LIMIT" env LD_PRELOAD="$lib" "$@"
  else timeout -k 5 "$LIMIT" "$@"; fi
}
# step MODE CMD... — run, its stdout and then its exit status, for comparing.
step() { local mode=$1; shift; echo "== $*"; run "$mode" "$@"; echo "== exit $?"; }

# both NAME — case_NAME once in each mode, side by side, in $work/NAME/MODE,
# stdout to MODE.out and stderr to MODE.err; then the comparison.
both() {
  local name=$1 dir=$work/$1 mode
  for mode in plain preload; do
    mkdir -p "$dir/$mode"
    (cd "$dir/$mode" && "case_$name" "$mode") >"$dir/$mode.out" 2>"$dir/$mode.err" &
  done
  wait
  if [ ! -s "$dir/plain.out" ]; then
    bad "$name" "the plain run printed nothing" "$dir/plain.err"
  elif cmp -s "$dir/plain.out" "$dir/preload.out"; then
    ok "$name"
  else
    diff "$dir/plain.out" "$dir/preload.out" >"$dir/diff"
    bad "$name" "output differs under the preload (< plain, > preloaded)" "$dir/diff"
    if [ -s "$dir/preload.err" ]; then
      echo "    the preloaded run's stderr ends:"; tail -n 4 "$dir/preload.err" | sed 's/^/    /'
    fi
  fi
}

# ------------------------------------------------------------------ preload
check_preload() {
  cat >"$work/probe.py" <<'PY'
import ctypes
c = ctypes.CDLL(None)
if not hasattr(c, "winmem_GetProcessHeap"):
    print(False)
else:
    c.malloc.restype = ctypes.c_void_p
    c.malloc.argtypes = [ctypes.c_size_t]
    c.winmem_GetProcessHeap.restype = ctypes.c_void_p
    c.winmem_HeapSize.restype = ctypes.c_size_t
    c.winmem_HeapSize.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]
    heap, p = c.winmem_GetProcessHeap(), c.malloc(1000)
    print(bool(heap) and 1000 <= c.winmem_HeapSize(heap, 0, p) < 1 << 20)
PY
  local plain preloaded why="" prog bindings
  plain=$(run plain "$PY" "$work/probe.py" 2>&1)
  preloaded=$(run preload "$PY" "$work/probe.py" 2>&1)
  [ "$plain" = False ] || why="plain python3 says '$plain', not False; "
  [ "$preloaded" = True ] || why+="preloaded python3 says '$preloaded', not True (malloc is not winmem's); "
  for prog in "$PY" git sqlite3 gcc "$(gcc -print-prog-name=cc1)"; do
    bindings=$(LD_DEBUG=bindings run preload "$prog" --version </dev/null 2>&1 >/dev/null)
    [[ "$bindings" == *"to $lib [0]: normal symbol \`malloc'"* ]] || why+="$prog: malloc not bound to the library; "
  done
  if [ -z "$why" ]; then ok preload; else bad preload "${why%; }"; fi
}

# ------------------------------------------------------------------- python
PY_TESTS="test_list test_dict test_set test_unicode test_json test_re test_collections
  test_bytes test_itertools test_long test_sort test_heapq test_array test_struct test_deque
  test_tuple test_float test_memoryview test_functools test_decimal test_zlib test_gc
  test_pickle test_weakref"
# Kept: each test's "[n/N] test_x" line (which also tells how the one before
# failed, if it did) and the summary from "== Tests result" on.  Dropped: the
# clock and load average before each line, the note of a test that passed
# slowly (30 s or more), durations, "Total duration", and whatever a
# failing test prints (tracebacks hold addresses).
case_python() {
  # shellcheck disable=SC2086
  TMPDIR=$PWD run "$1" "$PY" -m test $PY_TESTS >raw 2>&1
  echo "== exit $?"
  sed -E -e 's/^[0-9]+:[0-9]{2}:[0-9]{2} (load avg: [0-9.]+ )?//' \
         -e 's/ -- [a-z_0-9.]+ passed in .*$//' -e 's/ -- running: .*$//' \
         -e 's/ in ([0-9]+ (hour|min) )*[0-9.]+ (hour|min|sec|ms)$//' raw \
    | awk '/^== Tests result/ {tail = 1}
           tail && !/^Total duration/ {print; next}
           /^\[ *[0-9]+\/[0-9]+(\/[0-9]+)?\] test_/ {print}'
}

# ---------------------------------------------------------------------- git
# One history of 300 commits over about 40 files (modified, added, deleted;
# fixed names and dates), as a fast-import stream made plainly once.
make_history() {
  "$PY" -I - >"$work/history.fi" <<'PY'
import sys
seed = 12345
def rnd(n):
    global seed
    seed = (seed * 1103515245 + 12345) % (1 << 31)
    return (seed >> 8) % n
words = "alpha beta gamma delta heap page commit reserve protect guard region span block free list".split()
def line(f, k):
    return f"{f}:{k} " + " ".join(words[rnd(len(words))] for _ in range(3 + rnd(8)))
files = {}
for i in range(36):
    path = ["src", "docs", "lib/core", "lib/util", "tests"][i % 5] + f"/file{i:02d}.txt"
    files[path] = [line(path, k) for k in range(60 + rnd(200))]
out = sys.stdout
def data(s):
    b = s.encode()
    out.write(f"data {len(b)}\n{s}\n")
t = 1600000000
for c in range(1, 301):
    changed, deleted = [], []
    paths = sorted(files)
    for _ in range(1 + rnd(4)):
        p = paths[rnd(len(paths))]
        body = files[p]
        for _ in range(1 + rnd(6)):
            k = rnd(len(body) + 1)
            op = rnd(3)
            if op == 0 or not body:
                body.insert(k, line(p, c))
            elif op == 1:
                body[min(k, len(body) - 1)] = line(p, c)
            else:
                del body[min(k, len(body) - 1)]
        changed.append(p)
    if rnd(12) == 0:
        p = f"new/c{c:03d}.txt"
        files[p] = [line(p, k) for k in range(20 + rnd(50))]
        changed.append(p)
    if rnd(25) == 0 and c > 1 and len(files) > 30:
        p = paths[rnd(len(paths))]
        if p not in changed:
            del files[p]; deleted.append(p)
    t += 3600 + rnd(7200)
    out.write(f"commit refs/heads/main\nmark :{c}\n")
    out.write(f"author A U Thor <author@example.com> {t} +0000\n")
    out.write(f"committer C O Mitter <committer@example.com> {t} +0000\n")
    data(f"commit {c}: " + ", ".join(changed) + "\n\nchanged " + str(len(changed)) + " files")
    if c > 1:
        out.write(f"from :{c - 1}\n")
    for p in deleted:
        out.write(f"D {p}\n")
    for p in sorted(set(changed)):
        out.write(f"M 100644 inline {p}\n")
        data("\n".join(files[p]))
    out.write("\n")
PY
}

case_git() {
  local m=$1
  export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL=author@example.com GIT_AUTHOR_DATE="2021-01-01T00:00:00Z"
  export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL=committer@example.com GIT_COMMITTER_DATE="2021-01-01T00:00:00Z"
  # No automatic gc left running behind a step, no colour.
  export GIT_CONFIG_COUNT=3 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0 \
         GIT_CONFIG_KEY_1=maintenance.auto GIT_CONFIG_VALUE_1=false GIT_CONFIG_KEY_2=color.ui GIT_CONFIG_VALUE_2=never
  step "$m" git init -q -b main src
  step "$m" git -C src fast-import --quiet <"$work/history.fi"
  step "$m" git -C src reset -q --hard
  step "$m" git clone -q --no-hardlinks src clone
  step "$m" git -C clone log --stat
  step "$m" git -C clone log -p -n 40 --format=raw
  step "$m" git -C clone blame -s src/file00.txt
  step "$m" git -C clone checkout -q -b side HEAD~60
  for i in 1 2 3 4 5 6; do
    printf 'side %s\n' "$i" >>"clone/side$i.txt"
    step "$m" git -C clone add "side$i.txt"
    step "$m" git -C clone commit -q -m "side $i"
  done
  step "$m" git -C clone checkout -q main
  sed -i '1s/^/edited on main: /' clone/docs/file01.txt
  step "$m" git -C clone commit -q -a -m "main edit"
  step "$m" git -C clone merge -q --no-edit side
  step "$m" git -C clone log --graph --oneline -n 20
  step "$m" git -C clone diff --stat HEAD~30 HEAD
  step "$m" git -C clone gc -q --aggressive
  step "$m" git -C clone fsck --full --strict --no-progress
  step "$m" git -C clone rev-list --count HEAD
  step "$m" git -C clone rev-list --objects --all
  step "$m" git -C clone cat-file --batch-all-objects --batch-check
  echo "== archive"; run "$m" git -C clone archive --format=tar HEAD | sha256sum; echo "== exit ${PIPESTATUS[0]}"
  step "$m" git -C src gc -q
  step "$m" git -C src fsck --no-progress
}

# ------------------------------------------------------------------ sqlite3
make_workload() {
  "$PY" -I - >"$work/workload.sql" <<'PY'
seed = 4242
def rnd(n):
    global seed
    seed = (seed * 1103515245 + 12345) % (1 << 31)
    return (seed >> 8) % n
cities = ["Oslo", "Lima", "Kyiv", "Quito", "Dakar", "Hanoi", "Perth", "Turin", "Cork", "Bern"]
syll = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "ze", "pu"]
def name():
    return "".join(syll[rnd(10)] for _ in range(2 + rnd(4))).capitalize()
print("PRAGMA cache_size = -2000;")
print("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, joined INTEGER);")
print("CREATE TABLE product (id INTEGER PRIMARY KEY, title TEXT, price REAL);")
print("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customer, product INTEGER REFERENCES product, qty INTEGER, note TEXT);")
print("BEGIN;")
for i in range(1, 3001):
    print(f"INSERT INTO customer VALUES ({i}, '{name()}', '{cities[rnd(10)]}', {1500000000 + rnd(100000000)});")
for i in range(1, 501):
    print(f"INSERT INTO product VALUES ({i}, '{name()} {name()}', {rnd(100000) / 100});")
print("COMMIT;")
for t in range(8):
    print("BEGIN;")
    for i in range(5000):
        note = "'" + " ".join(name() for _ in range(rnd(6))) + "'" if rnd(4) else "NULL"
        print(f"INSERT INTO orders (customer, product, qty, note) VALUES ({1 + rnd(3000)}, {1 + rnd(500)}, {1 + rnd(20)}, {note});")
    print("COMMIT;")
print("""
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_product ON orders(product, qty);
CREATE INDEX customer_city ON customer(city, name);
SELECT count(*), sum(qty), total(length(note)) FROM orders;
SELECT c.city, count(*), sum(o.qty * p.price), max(p.price)
  FROM orders o JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product
  GROUP BY c.city ORDER BY 3 DESC;
SELECT c.name, count(o.id) AS n, printf('%.2f', sum(o.qty * p.price)) AS spent
  FROM customer c LEFT JOIN orders o ON o.customer = c.id LEFT JOIN product p ON p.id = o.product
  GROUP BY c.id ORDER BY n DESC, c.name LIMIT 40;
SELECT p.title, sum(o.qty) FROM product p JOIN orders o ON o.product = p.id
  GROUP BY p.id HAVING sum(o.qty) > 900 ORDER BY 2 DESC, 1;
SELECT upper(substr(name, 1, 3)), length(name), replace(name, 'a', '@'), instr(name, 'ta'), hex(name)
  FROM customer WHERE name LIKE '%ka%' AND name GLOB '*[mn]*' ORDER BY name, id LIMIT 60;
SELECT city, group_concat(name, ',') FROM (SELECT city, name FROM customer ORDER BY name) GROUP BY city;
SELECT customer, id, qty, row_number() OVER (PARTITION BY customer ORDER BY qty DESC, id),
       sum(qty) OVER (PARTITION BY customer ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
  FROM orders WHERE customer < 15 ORDER BY customer, id;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
  SELECT count(*), sum(i), sum(i * i % 7919) FROM n;
WITH RECURSIVE fib(k, a, b) AS (SELECT 1, 0, 1 UNION ALL SELECT k + 1, b, a + b FROM fib WHERE k < 90)
  SELECT k, a FROM fib WHERE k % 10 = 0;
WITH RECURSIVE
  xaxis(x) AS (VALUES(-2.0) UNION ALL SELECT x + 0.05 FROM xaxis WHERE x < 1.2),
  yaxis(y) AS (VALUES(-1.0) UNION ALL SELECT y + 0.1 FROM yaxis WHERE y < 1.0),
  m(iter, cx, cy, x, y) AS (
    SELECT 0, x, y, 0.0, 0.0 FROM xaxis, yaxis
    UNION ALL
    SELECT iter + 1, cx, cy, x * x - y * y + cx, 2.0 * x * y + cy FROM m
     WHERE (x * x + y * y) < 4.0 AND iter < 28),
  m2(iter, cx, cy) AS (SELECT max(iter), cx, cy FROM m GROUP BY cx, cy),
  a(t) AS (SELECT group_concat(substr(' .+*#', 1 + min(iter / 7, 4), 1), '')
           FROM m2 GROUP BY cy)
  SELECT group_concat(rtrim(t), x'0a') FROM a;
SELECT json_group_array(json_object('id', id, 'name', name)) FROM customer WHERE id % 300 = 0;
CREATE TABLE big AS SELECT o.id, c.name || ' bought ' || p.title || ' x' || o.qty AS line
  FROM orders o JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product;
SELECT count(DISTINCT line), max(length(line)), min(line), max(line) FROM big;
SELECT line FROM big ORDER BY line DESC, id LIMIT 20;
UPDATE orders SET note = coalesce(note, '') || ' (updated)' WHERE qty > 15;
DELETE FROM orders WHERE qty % 3 = 0;
DELETE FROM customer WHERE id IN (SELECT customer FROM orders GROUP BY customer HAVING count(*) < 10);
DROP TABLE big;
SELECT count(*), sum(qty), total(length(note)) FROM orders;
SELECT count(*) FROM customer;
VACUUM;
PRAGMA integrity_check;
SELECT city, count(*) FROM customer GROUP BY city ORDER BY city;
""")
PY
}

case_sqlite3() {
  step "$1" sqlite3 -batch -bail test.db <"$work/workload.sql"
  step "$1" sqlite3 -batch test.db "PRAGMA page_count; SELECT count(*) FROM orders;"
}

# ---------------------------------------------------------------------- gcc
# Every .c of winmem's to assembly, as the build compiles it; then a program
# (make_prog) compiled, linked (collect2 and ld under the same mode), its
# bytes compared, and run in the same mode.
case_gcc() {
  local f
  for f in "$src"/src/*/*.c; do
    step "$1" gcc -std=gnu11 -O2 -fPIC -fvisibility=hidden -DWINMEM_DEBUG=0 \
      -I"$src/src" -I"$src/include" -S -o - "$f"
  done
  cp "$work/prog.c" prog.c
  step "$1" gcc -O2 -Wall -pthread prog.c -o prog
  echo "== prog"; sha256sum <prog
  step "$1" ./prog
}

make_prog() {
  cat >"$work/prog.c" <<'C'
/* Allocation-heavy and deterministic: a hash table of strings, sorted, and
 * threads that free what others allocated. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char *key; unsigned count; };
static uint32_t seed = 7;
static uint32_t rnd(void) { return seed = seed * 1664525u + 1013904223u; }
static int by_key(const void *a, const void *b)
{
    return strcmp((*(struct node *const *)a)->key, (*(struct node *const *)b)->key);
}

#define SLOTS 4096
static struct node *slot[SLOTS];
static void *handoff[4][20000];

static void *worker(void *arg)
{
    uintptr_t t = (uintptr_t)arg, sum = 0;
    for (int i = 0; i < 20000; i++) {          /* free the neighbour's blocks */
        unsigned char *p = handoff[(t + 1) % 4][i];
        sum += p[0];
        free(p);
    }
    return (void *)sum;
}

int main(void)
{
    size_t distinct = 0;
    for (int i = 0; i < 200000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "w%u", rnd() % 50000);
        unsigned h = 5381;
        for (int k = 0; k < n; k++) h = h * 33 + (unsigned char)buf[k];
        struct node **at = &slot[h % SLOTS];
        while (*at && strcmp((*at)->key, buf)) at = &(*at)->next;
        if (!*at) {
            *at = calloc(1, sizeof **at);
            (*at)->key = strdup(buf);
            distinct++;
        }
        (*at)->count++;
    }
    struct node **all = malloc(distinct * sizeof *all);
    size_t k = 0;
    for (int s = 0; s < SLOTS; s++)
        for (struct node *n = slot[s]; n; n = n->next) all[k++] = n;
    qsort(all, distinct, sizeof *all, by_key);
    printf("%zu distinct\n", distinct);
    for (size_t i = 0; i < distinct; i += distinct / 10)
        printf("%s %u\n", all[i]->key, all[i]->count);
    char *grow = NULL;
    size_t len = 0;
    for (size_t i = 0; i < distinct; i++) {
        size_t kl = strlen(all[i]->key);
        grow = realloc(grow, len + kl + 1);
        memcpy(grow + len, all[i]->key, kl + 1);
        len += kl;
        free(all[i]->key);
        free(all[i]);
    }
    printf("%zu bytes, ends %s\n", len, grow + len - 12);
    free(grow);
    free(all);

    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 20000; i++) {
            size_t n = 1 + rnd() % (i % 100 == 0 ? 70000 : 300);
            unsigned char *p = malloc(n);
            memset(p, (t * 31 + i) & 0xff, n);
            handoff[t][i] = p;
        }
    pthread_t th[4];
    for (uintptr_t t = 0; t < 4; t++) pthread_create(&th[t], NULL, worker, (void *)t);
    uintptr_t total = 0;
    for (int t = 0; t < 4; t++) { void *r; pthread_join(th[t], &r); total += (uintptr_t)r; }
    printf("threads %lu\n", (unsigned long)total);
    return 0;
}
C
}

# ---------------------------------------------------------------------- run
start=$SECONDS
missing=""
for tool in "$PY" git sqlite3 gcc timeout; do command -v "$tool" >/dev/null || missing+=" $tool"; done
if [ -n "$missing" ]; then
  echo "programs.sh: missing$missing (scripts/deps.sh programs installs them)" >&2
  exit 2
fi
check_preload
for n in "${names[@]}"; do
  case $n in
    python)
      if "$PY" -c 'import test.test_list' 2>/dev/null; then both python
      else bad python "python3's test suite is not installed (scripts/deps.sh programs)"; fi ;;
    git)     make_history && both git ;;
    sqlite3) make_workload && both sqlite3 ;;
    gcc)     make_prog && both gcc ;;
  esac
done
echo "programs.sh: $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
