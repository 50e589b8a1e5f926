/*
 * vm_bench.c — the virtual-memory layer against raw system calls, side by
 * side in one run, as ratios (winmem time / raw time).  Never pass/fail: the
 * goal column states what the issue asks for; the reader judges.
 *
 *   1. A reserve/commit/decommit/release cycle through VirtualAlloc and
 *      VirtualFree against the same four host calls made directly.
 *   2. VirtualQuery among 10,000 live reservations against a binary search
 *      over a sorted array of the same regions.
 *   3. The host's mapping count after commit/protect churn that leaves many
 *      equal neighbours, next to the registry's run count.
 *
 * Each timing is the best of REPS measurements of enough operations to last
 * at least MIN_NS; winmem and raw measurements alternate so drift in the
 * machine hits both.  Where the kernel lets a process count its own system
 * calls (the raw_syscalls:sys_enter tracepoint through perf_event_open, in
 * counting mode), the bench also prints system calls per operation; and it
 * times the cycles once more with the host calls stubbed out, which leaves
 * winmem's own work.  `vm_bench loop winmem|raw BYTES COUNT [touch]` runs
 * just one side's cycles, for strace -c, perf stat and perf record.
 *
 * The raw side calls mmap directly, which no layer above os/ may do; a bench
 * is not a layer, and it has to.
 */
#define _GNU_SOURCE
#include "vm/vm.h"
#include "os/os.h"
#include "bench.h"

#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define LIVE 1000                   /* other reservations in the "live" cases */
#define QUERY_RESERVATIONS 10000
#define QUERY_ADDRS 65536           /* power of two */
#define MAP_RESERVATIONS 10000

static size_t page;

static void die(const char *what)
{
    fprintf(stderr, "vm_bench: %s failed (error %u)\n", what, (unsigned)GetLastError());
    exit(1);
}

/* ------------------------------------------------- counting host events */
/* A counter of this thread's system calls, where the kernel allows it:
 * counting (not sampling) a tracepoint for one's own task needs only tracefs
 * to read the tracepoint's id.  -1 when unavailable. */
static int syscall_fd = -1;

static int tracepoint_open(const char *event)
{
    static const char *roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
    unsigned long long id = 0;
    for (size_t i = 0; i < sizeof roots / sizeof *roots && !id; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/events/%s/id", roots[i], event);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%llu", &id) != 1)
                id = 0;
            fclose(f);
        }
    }
    if (!id)
        return -1;
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = id;
    attr.disabled = 1;
    return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static long long events_during(int fd, void (*body)(void *, uint64_t), void *ctx, uint64_t n)
{
    uint64_t count = 0;
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    body(ctx, n);
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(fd, &count, sizeof count) != sizeof count)
        return -1;
    return (long long)count;
}

/* Events per operation, net of the counter's own (an empty run). */
static double events_per_op(int fd, void (*body)(void *, uint64_t), void *ctx, uint64_t n)
{
    if (fd < 0)
        return -1;
    body(ctx, 16);                               /* warm: first-use host reads */
    long long base = events_during(fd, body, ctx, 0), all = events_during(fd, body, ctx, n);
    return base < 0 || all < 0 ? -1 : (double)(all - base) / (double)n;
}

static void print_count(double v)
{
    if (v < 0)
        printf(" | %10s", "n/a");
    else
        printf(" | %10.2f", v);
}

/* One row: case | system calls/op winmem | raw. */
static void print_events(const char *name, void (*winmem)(void *, uint64_t), void (*raw)(void *, uint64_t), void *ctx, uint64_t n)
{
    printf("  %-36s", name);
    print_count(events_per_op(syscall_fd, winmem, ctx, n));
    print_count(events_per_op(syscall_fd, raw, ctx, n));
    printf("\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ 1. cycle */
struct cycle {
    size_t size;
    bool touch;         /* write one byte per page after the commit */
};

static void touch_pages(char *p, size_t size)
{
    for (size_t off = 0; off < size; off += page)
        ((volatile char *)p)[off] = 1;
}

static void cycle_winmem(void *ctx, uint64_t n)
{
    const struct cycle *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        char *p = VirtualAlloc(NULL, c->size, MEM_RESERVE, PAGE_READWRITE);
        if (!p || VirtualAlloc(p, c->size, MEM_COMMIT, PAGE_READWRITE) != p)
            die("VirtualAlloc");
        if (c->touch)
            touch_pages(p, c->size);
        if (!VirtualFree(p, c->size, MEM_DECOMMIT) || !VirtualFree(p, 0, MEM_RELEASE))
            die("VirtualFree");
    }
}

/* Decommit is a fresh PROT_NONE mapping over the range: Windows' decommit
 * both drops the pages (a later commit reads zeros) and makes them
 * inaccessible, and this is the one host call that does both.  madvise
 * (MADV_DONTNEED) plus mprotect(PROT_NONE) would be two calls, MADV_FREE
 * alone neither drops at once nor blocks access.  It is also what winmem's
 * os layer does, so the difference measured is winmem's own bookkeeping. */
static void cycle_raw(void *ctx, uint64_t n)
{
    const struct cycle *c = ctx;
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    for (uint64_t i = 0; i < n; i++) {
        char *p = mmap(NULL, c->size, PROT_NONE, anon, -1, 0);
        if (p == MAP_FAILED || mprotect(p, c->size, PROT_READ | PROT_WRITE) != 0)
            die("mmap/mprotect");
        if (c->touch)
            touch_pages(p, c->size);
        if (mmap(p, c->size, PROT_NONE, anon | MAP_FIXED, -1, 0) != p || munmap(p, c->size))
            die("mmap/munmap");
    }
}

/* LIVE other reservations on each side, 64 KiB with the first page
 * committed read-write, so neither the registry nor the host's map is a
 * single merged range. */
struct live {
    char *winmem[LIVE], *raw[LIVE];
};

static void live_create(struct live *l)
{
    for (int i = 0; i < LIVE; i++) {
        l->winmem[i] = VirtualAlloc(NULL, 0x10000, MEM_RESERVE, PAGE_READWRITE);
        if (!l->winmem[i] || !VirtualAlloc(l->winmem[i], page, MEM_COMMIT, PAGE_READWRITE))
            die("VirtualAlloc (live)");
        l->raw[i] = mmap(NULL, 0x10000, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (l->raw[i] == MAP_FAILED || mprotect(l->raw[i], page, PROT_READ | PROT_WRITE))
            die("mmap (live)");
    }
}

static void live_destroy(struct live *l)
{
    for (int i = 0; i < LIVE; i++) {
        VirtualFree(l->winmem[i], 0, MEM_RELEASE);
        munmap(l->raw[i], 0x10000);
    }
}

static const struct cycle_case {
    const char *name;
    struct cycle c;
    bool live;
} cycle_cases[] = {
    { "cycle 64 KiB",                   { 0x10000, false },  false },
    { "cycle 1 MiB",                    { 0x100000, false }, false },
    { "cycle 64 KiB, touch every page", { 0x10000, true },   false },
    { "cycle 1 MiB, touch every page",  { 0x100000, true },  false },
    { "cycle 64 KiB, 1000 others live", { 0x10000, false },  true },
    { "cycle 1 MiB, 1000 others live",  { 0x100000, false }, true },
};
#define CYCLE_CASES (sizeof cycle_cases / sizeof *cycle_cases)

/* winmem's own work in a cycle: the same calls with the host operations
 * replaced by stubs that succeed without a system call.  Placement asks for
 * exact addresses, which the stub grants; the metadata pool's maps (never
 * exact) still go to the host.  Only for cycles that do not touch pages. */
static int stub_map(void **addr, size_t size, int prot, unsigned flags)
{
    return (flags & OS_MAP_EXACT) ? 0 : os_host_ops()->map(addr, size, prot, flags);
}
static int stub_range(void *addr, size_t size)
{
    (void)addr, (void)size;
    return 0;
}
static int stub_protect(void *addr, size_t size, int prot)
{
    (void)addr, (void)size, (void)prot;
    return 0;
}

static double cycle_own_ns(const struct cycle *c)
{
    struct os_ops stubs = *os_host_ops();
    stubs.map = stub_map;
    stubs.unmap = stubs.decommit = stub_range;
    stubs.protect = stub_protect;
    const struct os_ops *prev = os_set_ops(&stubs);
    uint64_t n = calibrate(cycle_winmem, (void *)c);
    double best = 1e300;
    for (int rep = 0; rep < REPS; rep++) {
        double t = (double)time_body(cycle_winmem, (void *)c, n) / (double)n;
        best = t < best ? t : best;
    }
    os_set_ops(prev);
    return best;
}

/* ------------------------------------------------------------ 2. query */
struct region {
    uintptr_t start, end;
    DWORD protect;
};

struct query_set {
    char *base[QUERY_RESERVATIONS];
    size_t size[QUERY_RESERVATIONS];
    struct region *regions;
    size_t count;
    uintptr_t addrs[QUERY_ADDRS];
};

static void query_winmem(void *ctx, uint64_t n)
{
    const struct query_set *q = ctx;
    MEMORY_BASIC_INFORMATION mbi;
    uintptr_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        VirtualQuery((void *)q->addrs[i & (QUERY_ADDRS - 1)], &mbi, sizeof mbi);
        sum += (uintptr_t)mbi.BaseAddress + mbi.RegionSize + mbi.Protect;
    }
    sink = sum;
}

/* The region holding a (regions sorted, a inside one of them).  Not
 * inlined, so each lookup is a call, as VirtualQuery is. */
__attribute__((noinline))
static const struct region *region_find(const struct region *r, size_t count, uintptr_t a)
{
    size_t lo = 0, hi = count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].start <= a)
            lo = mid;
        else
            hi = mid;
    }
    return &r[lo];
}

static void query_raw(void *ctx, uint64_t n)
{
    const struct query_set *q = ctx;
    uintptr_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uintptr_t a = q->addrs[i & (QUERY_ADDRS - 1)], pg = a & ~(uintptr_t)(page - 1);
        const struct region *r = region_find(q->regions, q->count, a);
        sum += pg + (r->end - pg) + r->protect;
    }
    sink = sum;
}

static int region_cmp(const void *a, const void *b)
{
    const struct region *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Commits up to two segments of each reservation with different
 * protections, so most hold several runs (reserved, committed, reserved…). */
static void query_commit_segments(char *p, size_t pages)
{
    static const DWORD prots[] = { PAGE_READWRITE, PAGE_READONLY, PAGE_NOACCESS };
    int segments = (int)(rng() % 3);
    for (int s = 0; s < segments; s++) {
        size_t half = pages / 2, len = 1 + rng() % 7;   /* half >= 8 */
        size_t first = (size_t)s * half + rng() % (half - len);
        DWORD prot = prots[rng() % 3];
        if (!VirtualAlloc(p + first * page, len * page, MEM_COMMIT, prot))
            die("VirtualAlloc (query commit)");
    }
}

/* Records the regions of every reservation as VirtualQuery reports them. */
static void query_record_regions(struct query_set *q)
{
    size_t cap = (size_t)QUERY_RESERVATIONS * 6;
    q->regions = malloc(cap * sizeof *q->regions);
    q->count = 0;
    for (int i = 0; i < QUERY_RESERVATIONS; i++) {
        uintptr_t a = (uintptr_t)q->base[i], end = a + q->size[i];
        while (a < end) {
            MEMORY_BASIC_INFORMATION mbi;
            if (!VirtualQuery((void *)a, &mbi, sizeof mbi) || q->count == cap)
                die("VirtualQuery (setup)");
            q->regions[q->count++] = (struct region){ a, a + mbi.RegionSize,
                                                      mbi.State == MEM_COMMIT ? mbi.Protect : 0 };
            a += mbi.RegionSize;
        }
    }
    qsort(q->regions, q->count, sizeof *q->regions, region_cmp);
}

static void query_create(struct query_set *q)
{
    for (int i = 0; i < QUERY_RESERVATIONS; i++) {
        size_t pages = (0x10000 + rng() % (0x100000 - 0x10000 + 1)) / page;
        q->size[i] = pages * page;
        q->base[i] = VirtualAlloc(NULL, q->size[i], MEM_RESERVE, PAGE_READWRITE);
        if (!q->base[i])
            die("VirtualAlloc (query reserve)");
        query_commit_segments(q->base[i], pages);
    }
    query_record_regions(q);
    for (int i = 0; i < QUERY_ADDRS; i++) {
        size_t k = rng() % QUERY_RESERVATIONS;
        q->addrs[i] = (uintptr_t)q->base[k] + rng() % q->size[k];
    }
    /* Both sides must give the same answers before their times mean anything. */
    query_winmem(q, QUERY_ADDRS);
    uintptr_t w = sink;
    query_raw(q, QUERY_ADDRS);
    if (w != sink) {
        fprintf(stderr, "vm_bench: VirtualQuery and the sorted array disagree\n");
        exit(1);
    }
}

static void query_destroy(struct query_set *q)
{
    for (int i = 0; i < QUERY_RESERVATIONS; i++)
        if (!VirtualFree(q->base[i], 0, MEM_RELEASE))
            die("VirtualFree (query)");
    free(q->regions);
}

/* ------------------------------------------------------- 3. host maps */
static long read_long(const char *path)
{
    long v = -1;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static long host_mapping_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    long lines = 0;
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < got; i++)
            lines += buf[i] == '\n';
    fclose(f);
    return lines;
}

static long registry_run_count(void)
{
    long runs = 0;
    vm_lock();
    for (struct vm_run *r = vm_run_after(0); r; r = vm_run_next(r))
        runs++;
    vm_unlock();
    return runs;
}

/* Three reservations in four get 12 single-page commits, 6 pages made
 * read-only and the same 6 made read-write again, then the last 4 pages
 * decommitted: 25 calls that leave 2 runs (read-write, reserved).  The
 * fourth stays reserved.  Returns the number of calls made. */
static long churn(char *p)
{
    DWORD old;
    long calls = 0;
    for (int i = 0; i < 12; i++, calls++)
        if (!VirtualAlloc(p + i * page, page, MEM_COMMIT, PAGE_READWRITE))
            die("VirtualAlloc (maps)");
    for (DWORD prot = PAGE_READONLY;; prot = PAGE_READWRITE) {
        for (int i = 0; i < 12; i += 2, calls++)
            if (!VirtualProtect(p + i * page, page, prot, &old))
                die("VirtualProtect (maps)");
        if (prot == PAGE_READWRITE)
            break;
    }
    if (!VirtualFree(p + 12 * page, 4 * page, MEM_DECOMMIT))
        die("VirtualFree (maps)");
    return calls + 1;
}

static void host_maps(void)
{
    static char *base[MAP_RESERVATIONS];
    long before = host_mapping_count(), runs_before = registry_run_count(), calls = 0;
    for (int i = 0; i < MAP_RESERVATIONS; i++) {
        base[i] = VirtualAlloc(NULL, 0x10000, MEM_RESERVE, PAGE_READWRITE);
        if (!base[i])
            die("VirtualAlloc (maps)");
        calls++;
        if (i % 4 != 3)
            calls += churn(base[i]);
    }
    const char *why = NULL;
    vm_lock();
    bool valid = vm_validate(&why);
    vm_unlock();
    long after = host_mapping_count(), runs = registry_run_count() - runs_before;
    printf("  reservations (64 KiB; 3 in 4 churned)   %8d\n", MAP_RESERVATIONS);
    printf("  VirtualAlloc/Protect/Free calls made    %8ld\n", calls);
    printf("  registry runs                           %8ld%s\n", runs,
           valid ? "" : "  (registry INVALID)");
    printf("  /proc/self/maps lines, before -> after  %8ld -> %ld (+%ld)\n", before, after,
           after - before);
    printf("  vm.max_map_count                        %8ld\n",
           read_long("/proc/sys/vm/max_map_count"));
    if (!valid)
        printf("  registry: %s\n", why);
    for (int i = 0; i < MAP_RESERVATIONS; i++)
        if (!VirtualFree(base[i], 0, MEM_RELEASE))
            die("VirtualFree (maps)");
}

/* --------------------------------------------------------------- main */
/* Runs fn(case) for each cycle case, with its live reservations around it. */
static void for_each_cycle(struct live *live, void (*fn)(const struct cycle_case *))
{
    for (size_t i = 0; i < CYCLE_CASES; i++) {
        const struct cycle_case *k = &cycle_cases[i];
        if (k->live)
            live_create(live);
        fn(k);
        if (k->live)
            live_destroy(live);
    }
}

static void cycle_times(const struct cycle_case *k)
{
    compare(k->name, "<= 1.2x", cycle_winmem, cycle_raw, (void *)&k->c);
}

static void cycle_events(const struct cycle_case *k)
{
    print_events(k->name, cycle_winmem, cycle_raw, (void *)&k->c, 1000);
}

static void cycle_own(const struct cycle_case *k)
{
    if (!k->c.touch)
        printf("  %-36s | %12.1f\n", k->name, cycle_own_ns(&k->c));
}

/* vm_bench loop winmem|raw BYTES COUNT [touch]: only COUNT cycles, quietly,
 * for outside tools (strace -c, perf stat, perf record). */
static int loop_only(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[2], "winmem") && strcmp(argv[2], "raw"))) {
        fprintf(stderr, "usage: %s loop winmem|raw BYTES COUNT [touch]\n", argv[0]);
        return 2;
    }
    struct cycle c = { strtoull(argv[3], NULL, 0), argc > 5 && !strcmp(argv[5], "touch") };
    (strcmp(argv[2], "raw") ? cycle_winmem : cycle_raw)(&c, strtoull(argv[4], NULL, 0));
    return 0;
}

int main(int argc, char **argv)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    if (argc > 1 && !strcmp(argv[1], "loop"))
        return loop_only(argc, argv);
    print_machine("vm_bench: winmem's virtual-memory layer against raw system calls",
                  "winmem / raw");
    syscall_fd = tracepoint_open("raw_syscalls/sys_enter");
    struct live *live = malloc(sizeof *live);
    struct query_set *q = malloc(sizeof *q);
    char name[64];

    printf("  %-36s | %12s | %12s | %7s | %s\n", "case", "winmem ns/op", "raw ns/op",
           "ratio", "goal");
    print_rule();
    for_each_cycle(live, cycle_times);
    query_create(q);
    snprintf(name, sizeof name, "VirtualQuery, %zu regions", q->count);
    compare(name, "<= 3x", query_winmem, query_raw, q);

    printf("\n  %-36s | %10s | %10s\n", "system calls per operation", "winmem", "raw");
    printf("  %-36s-+-%10s-+-%10s\n", "------------------------------------", "----------",
           "----------");
    for_each_cycle(live, cycle_events);
    print_events(name, query_winmem, query_raw, q, 100000);
    query_destroy(q);
    if (syscall_fd < 0)
        printf("  (n/a: the kernel does not let this process count its system calls)\n");

    printf("\n  %-36s | %12s\n", "winmem own work, host calls stubbed", "ns/op");
    printf("  %-36s-+-%12s\n", "------------------------------------", "------------");
    for_each_cycle(live, cycle_own);

    printf("\nhost mappings after commit/protect churn\n");
    host_maps();
    free(q);
    free(live);
    return 0;
}
