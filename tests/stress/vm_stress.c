/*
 * vm_stress.c — four threads churn 10,000 live reservations through the
 * VirtualAlloc family in one process-wide registry, each checking every
 * answer against its own page-by-page model, while the registry is checked
 * against its invariants (R1-R6) and against the host's map (R7) once a
 * second.
 *
 * Each thread owns 2,500 slots, so it knows exactly what each of its
 * reservations must look like: per page, committed or not, the protection,
 * whether it is locked, and its contents (zero, or a stamp: an 8-byte value
 * at each end of the page, written when the page first becomes read-write
 * and unique to the thread, slot, page and stamping).  The mix: release and
 * reserve again (1-32 pages, sometimes MEM_TOP_DOWN, sometimes committed at
 * once), commit and protect page ranges, decommit, VirtualQuery at random
 * addresses and region by region, VirtualLock/Unlock, and calls that must
 * fail with Windows' error and change nothing.  Guard and no-access pages
 * are never touched, so no exception is ever raised.
 *
 * The only failure accepted is the host refusing (vm.max_map_count): the
 * call fails with ERROR_NOT_ENOUGH_MEMORY (ERROR_WORKING_SET_QUOTA for
 * VirtualLock, vm_registry.c) and the slot must be exactly as it was.  Those
 * are counted.  10,000 reservations stay far below the host's limit, so
 * thread 0 also makes the host refuse, through the os seam's failure
 * injector, one call every 20 ms.  Anything else is reported, the run goes
 * on, and the program ends with "N passed, N failed" and exit status 1.
 *
 * At the end, with the threads joined: every slot is walked, every granule
 * tail a host mapping reaches into is queried, the commit charge, reserved
 * and locked bytes are compared with the models, and after releasing
 * everything the counters must be back where they started, with no
 * allocation left and the registry still valid.
 *
 * WINMEM_STRESS_SECONDS (default 10) sets the run time, WINMEM_STRESS_SEED
 * the seed (printed; it fixes each thread's sequence of operations, though
 * not how the threads interleave).
 */
#define _GNU_SOURCE
#include "vm/vm.h"
#include "os/os.h"
#include <winmem.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define SLOTS 10000
#define SLOTS_PER_THREAD (SLOTS / THREADS)
#define MAX_PAGES 32
#define LOCK_BUDGET 64               /* pages one thread may hold locked */
#define LOCK_SLOTS 16                /* slots one thread may hold locks in */
#define LOCK_QUOTA ((SIZE_T)16 << 20) /* working-set minimum: far above 4 budgets */
#define MAX_REPORTS 30               /* failure lines printed per thread */
#define NS ((uint64_t)1000000000)
#define INJECT_EVERY (NS / 50)       /* one host refusal injected per 20 ms */
/* A query of free memory reads the host's map up to the address (vm_query.c;
 * all of it near the top, where MEM_TOP_DOWN goes), so the granule tails are
 * checked in one walk in 32 and one query in 64, and all at the end. */
#ifndef TAIL_IN_WALKS
#define TAIL_IN_WALKS 32
#endif
#ifndef TAIL_IN_QUERIES
#define TAIL_IN_QUERIES 64
#endif

enum op { OP_RESERVE, OP_RELEASE, OP_COMMIT, OP_PROTECT, OP_DECOMMIT, OP_QUERY,
          OP_WALK, OP_LOCK, OP_UNLOCK, OP_NEGATIVE, OP_VALIDATE, OP_KINDS };
static const char *const op_names[OP_KINDS] = {
    "reserve", "release", "commit", "protect", "decommit", "query",
    "walk", "lock", "unlock", "negative", "validate" };

enum content { C_NONE, C_ZERO, C_STAMP };

struct page_model {
    DWORD prot;                      /* 0 while reserved */
    uint32_t epoch;                  /* which stamping wrote the stamp */
    uint8_t committed, content, locked;
};

struct slot {
    uintptr_t base;                  /* 0: empty, the host refused a reserve */
    unsigned pages;
    DWORD alloc_protect;
    struct page_model pg[MAX_PAGES];
};

struct worker {
    int index;                       /* THREADS for the main thread */
    uint64_t rng;
    struct slot *slots;
    unsigned locked_pages;
    size_t lock_slots[LOCK_SLOTS];   /* every slot with a locked page is here */
    unsigned lock_slots_len;
    uint32_t epoch;
    const char *phase;               /* fill, mix or final: for reports */
    size_t cur;                      /* the slot being worked on */
    unsigned long op_no;
    unsigned long ops[OP_KINDS];
    unsigned long passed, failed, refused, lock_refused, reports;
    pthread_t thread;
};

static size_t page;
static uint64_t seed, run_ns, run_started;
static pthread_barrier_t filled;
static unsigned long max_maps;      /* written by thread 0, read after join */
static unsigned long injections;    /* likewise */

/* ThreadSanitizer (clang 14) drops an mmap hint outside its application
 * ranges, which turns vm_space.c's MAP_FIXED_NOREPLACE at the arena into a
 * mapping at address 0 and a fatal "mmap at bad address" (every winmem
 * program dies so).  Under TSan the test therefore refuses exact placements
 * through the os seam, and every reservation takes the host's placement,
 * vm_space.c's own fallback: the arena is not exercised in that build. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

#ifdef UNDER_TSAN
static struct os_ops tsan_ops;

static int map_anywhere(void **addr, size_t size, int prot, unsigned flags)
{
    return (flags & OS_MAP_EXACT) ? ENOMEM : os_host_ops()->map(addr, size, prot, flags);
}

static void avoid_arena(void)
{
    tsan_ops = *os_host_ops();
    tsan_ops.map = map_anywhere;
    os_set_ops(&tsan_ops);
    printf("  (ThreadSanitizer: exact placements refused, the arena is not used)\n");
}
#else
static void avoid_arena(void) {}
#endif

/* ------------------------------------------------------------ utilities */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t z)     /* splitmix64's finalizer */
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rnd(struct worker *w, unsigned n)   /* uniform in [0, n) */
{
    w->rng += 0x9E3779B97F4A7C15ull;
    return (unsigned)(((mix(w->rng) >> 32) * n) >> 32);
}

/* Calls fn(start, end, line) for each line of the host's map, in address
 * order (read with plain read(): stdio could allocate); false if unreadable. */
static bool walk_host_map(void (*fn)(uintptr_t, uintptr_t, const char *, void *), void *ctx)
{
    char buf[1 << 16], line[512];
    size_t len = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (len < sizeof line - 1)
                    line[len++] = buf[i];
                continue;
            }
            line[len] = 0;
            len = 0;
            char *end;
            uintptr_t lo = (uintptr_t)strtoull(line, &end, 16);
            fn(lo, (uintptr_t)strtoull(end + 1, NULL, 16), line, ctx);
        }
    close(fd);
    return true;
}

static void count_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx)
{
    (void)lo, (void)hi, (void)line;
    ++*(unsigned long *)ctx;
}

struct range { uintptr_t lo, hi; };

static void print_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx)
{
    const struct range *r = ctx;
    if (lo < r->hi && hi > r->lo)
        printf("    host: %s\n", line);
}

/* --------------------------------------------------------------- checks */
static bool expect(struct worker *w, bool ok, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool expect(struct worker *w, bool ok, int line, const char *fmt, ...)
{
    if (ok) {
        w->passed++;
        return true;
    }
    w->failed++;
    if (w->reports++ >= MAX_REPORTS)
        return false;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const struct slot *s = w->slots ? &w->slots[w->cur] : NULL;
    printf("FAIL vm_stress.c:%d: thread %d %s op %lu slot %zu (base %#" PRIxPTR ", %u pages): "
           "%s\n", line, w->index, w->phase, w->op_no, w->cur, s ? s->base : 0,
           s ? s->pages : 0, msg);
    return false;
}
#define EXPECT(w, cond, ...) expect((w), (cond), __LINE__, __VA_ARGS__)

/* A call the model says must succeed: true if it did.  If the host refused
 * (the one failure allowed) the refusal is counted; any other error is
 * reported.  The caller then checks that the slot did not change. */
static bool succeeded(struct worker *w, bool ok, DWORD refusal, int line, const char *call)
{
    if (ok) {
        w->passed++;
        return true;
    }
    DWORD err = GetLastError();
    if (err == ERROR_NOT_ENOUGH_MEMORY || err == refusal) {
        w->passed++;
        if (err == ERROR_NOT_ENOUGH_MEMORY)
            w->refused++;
        else
            w->lock_refused++;
        return false;
    }
    expect(w, false, line, "%s failed with error %u", call, (unsigned)err);
    return false;
}
#define SUCCEEDED(w, ok, call) succeeded((w), (ok), ERROR_NOT_ENOUGH_MEMORY, __LINE__, (call))

/* A call that must fail with the given error (and change nothing). */
#define EXPECT_ERROR(w, ok, want, call) do {                                     \
        DWORD got_ = (ok) ? 0 : GetLastError();                                 \
        EXPECT((w), got_ == (want), "%s: got error %u, want %u", (call),         \
               (unsigned)got_, (unsigned)(want));                               \
    } while (0)

/* ---------------------------------------------------------------- model */
static uintptr_t page_addr(const struct slot *s, unsigned i) { return s->base + i * page; }

static bool readable(DWORD prot)
{
    DWORD base = prot & 0xFF;
    return !(prot & PAGE_GUARD) &&
           (base == PAGE_READONLY || base == PAGE_READWRITE || base == PAGE_EXECUTE_READ);
}

static bool writable(DWORD prot) { return prot == PAGE_READWRITE; }

static bool same_region(const struct page_model *a, const struct page_model *b)
{
    return a->committed == b->committed && (!a->committed || a->prot == b->prot);
}

/* The end of the VirtualQuery region holding page i: equal neighbours merge. */
static unsigned region_end(const struct slot *s, unsigned i)
{
    unsigned j = i + 1;
    while (j < s->pages && same_region(&s->pg[i], &s->pg[j]))
        j++;
    return j;
}

static uint64_t stamp(const struct worker *w, size_t k, const struct slot *s, unsigned i, int end)
{
    uint64_t id = ((uint64_t)w->index << 60) ^ ((uint64_t)k << 44) ^
                  ((uint64_t)s->pg[i].epoch << 12) ^ ((uint64_t)i << 1) ^ (uint64_t)end;
    return mix(id ^ seed) | 1;
}

static DWORD pick_protect(struct worker *w)
{
    unsigned r = rnd(w, 20);
    return r < 9 ? PAGE_READWRITE : r < 13 ? PAGE_READONLY : r < 16 ? PAGE_EXECUTE_READ
         : r < 19 ? PAGE_NOACCESS : PAGE_READWRITE | PAGE_GUARD;
}

/* A page range of n pages: the whole slot, a few pages, or any run. */
static void pick_range(struct worker *w, unsigned n, unsigned *p0, unsigned *p1)
{
    unsigned r = rnd(w, 8);
    if (r == 0) {
        *p0 = 0;
        *p1 = n;
        return;
    }
    *p0 = rnd(w, n);
    unsigned room = n - *p0;
    *p1 = *p0 + 1 + rnd(w, r < 5 && room > 4 ? 4 : room);
}

/* An address and size that the API rounds out to exactly pages [p0, p1). */
static void fuzz_range(struct worker *w, const struct slot *s, unsigned p0, unsigned p1,
                       uintptr_t *addr, size_t *size)
{
    uintptr_t lo = page_addr(s, p0), hi = page_addr(s, p1);
    size_t in = 0, cut = 0;
    if (rnd(w, 2)) {
        in = rnd(w, (unsigned)page);
        cut = rnd(w, (unsigned)page);
        if (p1 - p0 == 1 && in + cut >= page)
            cut = page - 1 - in;
    }
    *addr = lo + in;
    *size = hi - cut - *addr;
}

/* The span around a random page where every page satisfies pred, narrowed to
 * a random sub-range holding that page; false when no page does. */
static bool pick_span(struct worker *w, const struct slot *s,
                      bool (*pred)(const struct page_model *), unsigned *p0, unsigned *p1)
{
    unsigned n = s->pages, first = rnd(w, n);
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (first + k) % n, a = i, b = i + 1;
        if (!pred(&s->pg[i]))
            continue;
        while (a > 0 && pred(&s->pg[a - 1]))
            a--;
        while (b < n && pred(&s->pg[b]))
            b++;
        *p0 = a + rnd(w, i - a + 1);
        *p1 = i + 1 + rnd(w, b - i);
        return true;
    }
    return false;
}

static bool is_committed(const struct page_model *p) { return p->committed; }
static bool is_reserved(const struct page_model *p) { return !p->committed; }
static bool is_locked(const struct page_model *p) { return p->locked; }
static bool is_lockable(const struct page_model *p) { return p->committed && readable(p->prot); }

/* ------------------------------------------------------------- contents */
/* Reads (and stamps) pages under a SIGSEGV/SIGBUS catcher, so a page the
 * host protects differently from the registry is a reported failure, not a
 * crash.  SA_NODEFER lets the handler jump out without saving signal masks. */
static _Thread_local sigjmp_buf *fault_jump;
static _Thread_local uintptr_t fault_addr;

static void on_fault(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    sigjmp_buf *jump = fault_jump;
    if (jump) {
        fault_jump = NULL;
        fault_addr = (uintptr_t)info->si_addr;
        siglongjmp(*jump, 1);
    }
    signal(sig, SIG_DFL);            /* not a probe of ours: die as we would have */
}

static void install_fault_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

struct touch {
    struct worker *w;
    size_t k;
    struct slot *s;
    unsigned p0, p1;
};

/* Every readable page of [p0, p1) must hold what the model says: zero since
 * its commit, or its stamp.  A read-write page still zero gets its stamp. */
static void touch_pages(struct touch *t)
{
    struct worker *w = t->w;
    for (unsigned i = t->p0; i < t->p1; i++) {
        struct page_model *p = &t->s->pg[i];
        if (!p->committed || !readable(p->prot))
            continue;
        volatile uint64_t *lo = (volatile uint64_t *)page_addr(t->s, i);
        volatile uint64_t *hi = (volatile uint64_t *)(page_addr(t->s, i) + page - 8);
        uint64_t want_lo = p->content == C_STAMP ? stamp(w, t->k, t->s, i, 0) : 0;
        uint64_t want_hi = p->content == C_STAMP ? stamp(w, t->k, t->s, i, 1) : 0;
        uint64_t got_lo = *lo, got_hi = *hi;
        EXPECT(w, got_lo == want_lo && got_hi == want_hi,
               "page %u (protect %#x, %s): reads %#" PRIx64 "/%#" PRIx64 ", want %#" PRIx64
               "/%#" PRIx64, i, (unsigned)p->prot, p->content == C_STAMP ? "stamped" : "zero",
               got_lo, got_hi, want_lo, want_hi);
        if (p->content == C_ZERO && writable(p->prot)) {
            p->epoch = ++w->epoch;
            p->content = C_STAMP;
            *lo = stamp(w, t->k, t->s, i, 0);
            *hi = stamp(w, t->k, t->s, i, 1);
        }
    }
}

static void touch(struct worker *w, size_t k, struct slot *s, unsigned p0, unsigned p1)
{
    struct touch t = { w, k, s, p0, p1 };
    sigjmp_buf jump;
    if (sigsetjmp(jump, 0)) {
        unsigned i = (unsigned)((fault_addr - s->base) / page);
        EXPECT(w, false, "fault at %#" PRIxPTR " (page %u, model: %s, protect %#x)",
               fault_addr, i, i < s->pages && s->pg[i].committed ? "committed" : "reserved",
               i < s->pages ? (unsigned)s->pg[i].prot : 0u);
        return;
    }
    fault_jump = &jump;
    touch_pages(&t);
    fault_jump = NULL;
}

/* ------------------------------------------------------------- queries */
static bool mbi_equal(const MEMORY_BASIC_INFORMATION *a, const MEMORY_BASIC_INFORMATION *b)
{
    return a->BaseAddress == b->BaseAddress && a->AllocationBase == b->AllocationBase &&
           a->AllocationProtect == b->AllocationProtect && a->RegionSize == b->RegionSize &&
           a->State == b->State && a->Protect == b->Protect && a->Type == b->Type;
}

static bool expect_query(struct worker *w, int line, uintptr_t addr,
                         const MEMORY_BASIC_INFORMATION *got, SIZE_T ret,
                         const MEMORY_BASIC_INFORMATION *want)
{
    if (ret != sizeof *got)
        return expect(w, false, line, "VirtualQuery(%#" PRIxPTR ") returned %zu, error %u",
                      addr, (size_t)ret, (unsigned)GetLastError());
    return expect(w, mbi_equal(got, want), line,
                  "VirtualQuery(%#" PRIxPTR "): got {base %p alloc %p/%#x size %#zx state %#x "
                  "protect %#x type %#x}, want {base %p alloc %p/%#x size %#zx state %#x "
                  "protect %#x type %#x}", addr,
                  got->BaseAddress, got->AllocationBase, (unsigned)got->AllocationProtect,
                  (size_t)got->RegionSize, (unsigned)got->State, (unsigned)got->Protect,
                  (unsigned)got->Type, want->BaseAddress, want->AllocationBase,
                  (unsigned)want->AllocationProtect, (size_t)want->RegionSize,
                  (unsigned)want->State, (unsigned)want->Protect, (unsigned)want->Type);
}

/* Queries an address in page i and checks every field against the model;
 * returns the end of the model's region. */
static unsigned check_query(struct worker *w, const struct slot *s, unsigned i, uintptr_t addr)
{
    const struct page_model *p = &s->pg[i];
    unsigned end = region_end(s, i);
    MEMORY_BASIC_INFORMATION got, want = {
        .BaseAddress = (PVOID)page_addr(s, i), .AllocationBase = (PVOID)s->base,
        .AllocationProtect = s->alloc_protect, .RegionSize = (end - i) * page,
        .State = p->committed ? MEM_COMMIT : MEM_RESERVE,
        .Protect = p->committed ? p->prot : 0, .Type = MEM_PRIVATE,
    };
    memset(&got, 0xA5, sizeof got);
    SIZE_T ret = VirtualQuery((LPCVOID)addr, &got, sizeof got);
    expect_query(w, __LINE__, addr, &got, ret, &want);
    return end;
}

/* The unused end of the last 64 KiB granule belongs to nobody (V3.4): an
 * address in it (0: any) must read free at least to the granule's end. */
static void check_tail(struct worker *w, const struct slot *s, uintptr_t addr)
{
    uintptr_t end = page_addr(s, s->pages), granule_end = wm_align_up(end, VM_GRANULARITY);
    if (end == granule_end)
        return;
    if (!addr)
        addr = end + rnd(w, (unsigned)(granule_end - end));
    uintptr_t at = wm_align_down(addr, page);
    MEMORY_BASIC_INFORMATION got;
    memset(&got, 0xA5, sizeof got);
    SIZE_T ret = VirtualQuery((LPCVOID)addr, &got, sizeof got);
    /* Free memory runs to the next allocation: at least to the granule's end. */
    MEMORY_BASIC_INFORMATION want = {
        .BaseAddress = (PVOID)at, .RegionSize = got.RegionSize,
        .State = MEM_FREE, .Protect = PAGE_NOACCESS,
    };
    if (ret == sizeof got && (got.RegionSize < granule_end - at || got.RegionSize % page))
        want.RegionSize = granule_end - at;
    if (!expect_query(w, __LINE__, addr, &got, ret, &want) && w->reports <= MAX_REPORTS)
        walk_host_map(print_line, &(struct range){ end, granule_end });
}

/* Every region of the slot, its contents, and now and then its granule tail. */
static void walk_slot(struct worker *w, size_t k, struct slot *s)
{
    for (unsigned i = 0; i < s->pages;)
        i = check_query(w, s, i, page_addr(s, i) + rnd(w, (unsigned)page));
    if (rnd(w, TAIL_IN_WALKS) == 0)
        check_tail(w, s, 0);
    touch(w, k, s, 0, s->pages);
}

/* ----------------------------------------------------------- operations */
static void reserve_slot(struct worker *w, size_t k, struct slot *s)
{
    unsigned n = 1 + rnd(w, MAX_PAGES);
    size_t size = n * page - (rnd(w, 4) ? 0 : rnd(w, (unsigned)page));
    unsigned r = rnd(w, 16);
    DWORD type = r < 3 ? MEM_RESERVE | MEM_COMMIT : r < 4 ? MEM_COMMIT : MEM_RESERVE;
    if (rnd(w, 4) == 0)
        type |= MEM_TOP_DOWN;
    DWORD prot = pick_protect(w);
    w->ops[OP_RESERVE]++;
    void *p = VirtualAlloc(NULL, size, type, prot);
    if (!SUCCEEDED(w, p != NULL, "VirtualAlloc(NULL, MEM_RESERVE)"))
        return;
    EXPECT(w, ((uintptr_t)p & (VM_GRANULARITY - 1)) == 0 && (uintptr_t)p >= VM_MIN_ADDRESS &&
              (uintptr_t)p + n * page - 1 <= VM_MAX_ADDRESS,
           "VirtualAlloc(NULL, %#zx, %#x, %#x) returned %p", size, (unsigned)type,
           (unsigned)prot, p);
    bool commit = type & MEM_COMMIT;
    *s = (struct slot){ .base = (uintptr_t)p, .pages = n, .alloc_protect = prot };
    for (unsigned i = 0; i < n; i++)
        s->pg[i] = (struct page_model){ .committed = commit, .prot = commit ? prot : 0,
                                        .content = commit ? C_ZERO : C_NONE };
    touch(w, k, s, 0, n);
}

static void negative_release(struct worker *w, struct slot *s)
{
    BOOL ok;
    if (s->pages > 1 && rnd(w, 2)) {        /* not the base (V10.1) */
        ok = VirtualFree((LPVOID)page_addr(s, 1 + rnd(w, s->pages - 1)), 0, MEM_RELEASE);
        EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualFree(inside, 0, MEM_RELEASE)");
    } else {                                 /* a size (V10.1) */
        ok = VirtualFree((LPVOID)s->base, page, MEM_RELEASE);
        EXPECT_ERROR(w, ok, ERROR_INVALID_PARAMETER, "VirtualFree(base, page, MEM_RELEASE)");
    }
}

static void release_slot(struct worker *w, struct slot *s)
{
    w->ops[OP_RELEASE]++;
    if (!SUCCEEDED(w, VirtualFree((LPVOID)s->base, 0, MEM_RELEASE), "VirtualFree(MEM_RELEASE)"))
        return;
    for (unsigned i = 0; i < s->pages; i++)
        w->locked_pages -= s->pg[i].locked;
    s->base = 0;
}

static void op_release(struct worker *w, size_t k, struct slot *s)
{
    if (s->base) {
        release_slot(w, s);
        if (s->base) {                       /* refused: nothing may have changed */
            walk_slot(w, k, s);
            return;
        }
    }
    reserve_slot(w, k, s);
}

static void op_commit(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0, p1;
    uintptr_t addr;
    size_t size;
    pick_range(w, s->pages, &p0, &p1);
    fuzz_range(w, s, p0, p1, &addr, &size);
    DWORD prot = pick_protect(w);
    w->ops[OP_COMMIT]++;
    void *r = VirtualAlloc((LPVOID)addr, size, MEM_COMMIT, prot);
    if (!SUCCEEDED(w, r != NULL, "VirtualAlloc(MEM_COMMIT)")) {
        walk_slot(w, k, s);
        return;
    }
    EXPECT(w, (uintptr_t)r == page_addr(s, p0), "VirtualAlloc(%#" PRIxPTR ", %#zx, MEM_COMMIT) "
           "returned %p, want %#" PRIxPTR, addr, size, r, page_addr(s, p0));
    for (unsigned i = p0; i < p1; i++) {
        struct page_model *p = &s->pg[i];
        if (!p->committed)
            *p = (struct page_model){ .committed = 1, .content = C_ZERO };
        p->prot = prot;                      /* contents kept if committed (V5) */
    }
    touch(w, k, s, p0, p1);
}

static void op_protect(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0, p1;
    uintptr_t addr;
    size_t size;
    DWORD prot = pick_protect(w), old = 0xDEAD;
    if (!pick_span(w, s, is_committed, &p0, &p1)) {
        if (pick_span(w, s, is_reserved, &p0, &p1)) {
            w->ops[OP_NEGATIVE]++;           /* a reserved page (V7.1) */
            fuzz_range(w, s, p0, p1, &addr, &size);
            BOOL ok = VirtualProtect((LPVOID)addr, size, prot, &old);
            EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualProtect(reserved)");
        }
        return;
    }
    fuzz_range(w, s, p0, p1, &addr, &size);
    w->ops[OP_PROTECT]++;
    BOOL ok = VirtualProtect((LPVOID)addr, size, prot, &old);
    if (!SUCCEEDED(w, ok, "VirtualProtect")) {
        walk_slot(w, k, s);
        return;
    }
    EXPECT(w, old == s->pg[p0].prot, "VirtualProtect(pages %u-%u, %#x): old protection %#x, "
           "want the first page's %#x (V7.4)", p0, p1 - 1, (unsigned)prot, (unsigned)old,
           (unsigned)s->pg[p0].prot);
    for (unsigned i = p0; i < p1; i++)
        s->pg[i].prot = prot;
    touch(w, k, s, p0, p1);
}

static void op_decommit(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0 = 0, p1 = s->pages;
    uintptr_t addr = s->base;
    size_t size = 0;                          /* size 0 at the base: everything */
    if (rnd(w, 8)) {
        pick_range(w, s->pages, &p0, &p1);
        fuzz_range(w, s, p0, p1, &addr, &size);
    }
    w->ops[OP_DECOMMIT]++;
    if (!SUCCEEDED(w, VirtualFree((LPVOID)addr, size, MEM_DECOMMIT), "VirtualFree(MEM_DECOMMIT)")) {
        walk_slot(w, k, s);
        return;
    }
    for (unsigned i = p0; i < p1; i++) {
        w->locked_pages -= s->pg[i].locked;  /* decommit drops locks (V11.4) */
        s->pg[i] = (struct page_model){ 0 };
    }
    if (rnd(w, 4) == 0)
        check_query(w, s, p0, page_addr(s, p0));
}

static void op_query(struct worker *w, size_t k, struct slot *s)
{
    w->ops[OP_QUERY]++;
    if (rnd(w, TAIL_IN_QUERIES) == 0) {
        check_tail(w, s, 0);
        return;
    }
    unsigned i = rnd(w, s->pages);
    unsigned end = check_query(w, s, i, page_addr(s, i) + rnd(w, (unsigned)page));
    touch(w, k, s, i, end);
}

static void negative_unlock(struct worker *w, struct slot *s)
{
    unsigned i = rnd(w, s->pages), tries = 0;
    while (s->pg[i].locked && ++tries < s->pages)
        i = (i + 1) % s->pages;
    if (s->pg[i].locked)
        return;
    w->ops[OP_NEGATIVE]++;                   /* not locked (V11.3) */
    BOOL ok = VirtualUnlock((LPVOID)(page_addr(s, i) + rnd(w, (unsigned)page)), 1);
    EXPECT_ERROR(w, ok, ERROR_NOT_LOCKED, "VirtualUnlock(unlocked page)");
}

static void lock_range(struct worker *w, size_t k, struct slot *s, unsigned p0, unsigned p1,
                       bool lock)
{
    uintptr_t addr;
    size_t size;
    unsigned newly = 0;
    for (unsigned i = p0; i < p1; i++)
        newly += !s->pg[i].locked;
    fuzz_range(w, s, p0, p1, &addr, &size);
    w->ops[lock ? OP_LOCK : OP_UNLOCK]++;
    BOOL ok = lock ? VirtualLock((LPVOID)addr, size) : VirtualUnlock((LPVOID)addr, size);
    /* The thread's budget keeps the quota out of reach, so a lock refused
     * is the host's mlock refusing (vm_registry.c maps it to 1453). */
    if (!succeeded(w, ok, lock ? ERROR_WORKING_SET_QUOTA : ERROR_NOT_ENOUGH_MEMORY, __LINE__,
                   lock ? "VirtualLock" : "VirtualUnlock")) {
        walk_slot(w, k, s);
        return;
    }
    for (unsigned i = p0; i < p1; i++)
        s->pg[i].locked = lock;
    w->locked_pages = lock ? w->locked_pages + newly : w->locked_pages - (p1 - p0);
    touch(w, k, s, p0, p1);
}

/* Half the time unlocks a span in a slot holding locks, else locks a span of
 * readable committed pages here, within the thread's budget. */
static void op_lock(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0, p1, at = 0, newly = 0;
    if (w->lock_slots_len && rnd(w, 2)) {
        unsigned r = rnd(w, w->lock_slots_len);
        w->cur = k = w->lock_slots[r];
        s = &w->slots[k];
        if (s->base && pick_span(w, s, is_locked, &p0, &p1)) {
            lock_range(w, k, s, p0, p1, false);
            return;
        }
        w->lock_slots[r] = w->lock_slots[--w->lock_slots_len];  /* its locks were dropped */
        if (s->base)
            negative_unlock(w, s);
        return;
    }
    while (at < w->lock_slots_len && w->lock_slots[at] != k)
        at++;
    if (pick_span(w, s, is_lockable, &p0, &p1) && at < LOCK_SLOTS) {
        for (unsigned i = p0; i < p1; i++)
            newly += !s->pg[i].locked;
        if (w->locked_pages + newly <= LOCK_BUDGET) {
            if (at == w->lock_slots_len)
                w->lock_slots[w->lock_slots_len++] = k;
            lock_range(w, k, s, p0, p1, true);
            return;
        }
    }
    if (pick_span(w, s, is_locked, &p0, &p1))
        lock_range(w, k, s, p0, p1, false);
    else
        negative_unlock(w, s);
}

/* Calls that must fail with Windows' error code and change nothing. */
static void op_negative(struct worker *w, size_t k, struct slot *s)
{
    unsigned last = s->pages - 1;
    BOOL ok;
    w->ops[OP_NEGATIVE]++;
    switch (rnd(w, 5)) {
    case 0:
        negative_release(w, s);
        break;
    case 1:                                   /* decommit size 0 off the base (V10.3) */
        if (s->pages > 1) {
            ok = VirtualFree((LPVOID)page_addr(s, 1 + rnd(w, last)), 0, MEM_DECOMMIT);
            EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualFree(inside, 0, MEM_DECOMMIT)");
            break;
        }
        /* fall through */
    case 2:                                   /* decommit past the end (V10.3) */
        ok = VirtualFree((LPVOID)page_addr(s, last), 2 * page, MEM_DECOMMIT);
        EXPECT_ERROR(w, ok, ERROR_INVALID_PARAMETER, "VirtualFree(past the end, MEM_DECOMMIT)");
        break;
    case 3:                                   /* commit past the end (V4.2) */
        ok = VirtualAlloc((LPVOID)page_addr(s, last), 2 * page, MEM_COMMIT, PAGE_READWRITE) != NULL;
        EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualAlloc(past the end, MEM_COMMIT)");
        break;
    default:                                  /* reserve over an allocation (V3.3) */
        ok = VirtualAlloc((LPVOID)(page_addr(s, rnd(w, s->pages)) + rnd(w, (unsigned)page)),
                          page, MEM_RESERVE, PAGE_READWRITE) != NULL;
        EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualAlloc(inside, MEM_RESERVE)");
        break;
    }
    walk_slot(w, k, s);
}

static void one_op(struct worker *w)
{
    size_t k = rnd(w, SLOTS_PER_THREAD);
    struct slot *s = &w->slots[k];
    w->cur = k;
    w->op_no++;
    unsigned r = rnd(w, 100);
    if (!s->base || r < 8)
        op_release(w, k, s);
    else if (r < 30)
        op_commit(w, k, s);
    else if (r < 44)
        op_protect(w, k, s);
    else if (r < 58)
        op_decommit(w, k, s);
    else if (r < 86)
        op_query(w, k, s);
    else if (r < 90) {
        w->ops[OP_WALK]++;
        walk_slot(w, k, s);
    } else if (r < 96)
        op_lock(w, k, s);
    else
        op_negative(w, k, s);
}

/* ----------------------------------------------------------- validation */
static void validate_registry(struct worker *w, const char *when)
{
    const char *why = NULL;
    w->ops[OP_VALIDATE]++;
    vm_lock();                                /* vm_validate takes no lock */
    bool ok = vm_validate(&why);
    vm_unlock();
    EXPECT(w, ok, "%s: vm_validate: %s", when, why);
    ok = vm_validate_host(&why);             /* takes the lock itself */
    EXPECT(w, ok, "%s: vm_validate_host: %s", when, why);
    unsigned long maps = 0;
    walk_host_map(count_line, &maps);
    if (maps > max_maps)
        max_maps = maps;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->phase = "fill";
    for (size_t k = 0; k < SLOTS_PER_THREAD; k++) {
        w->cur = k;
        w->op_no++;
        reserve_slot(w, k, &w->slots[k]);
    }
    if (pthread_barrier_wait(&filled) == PTHREAD_BARRIER_SERIAL_THREAD)
        run_started = now_ns();
    w->phase = "mix";
    uint64_t now = now_ns(), deadline = now + run_ns, next_check = now + NS;
    uint64_t next_inject = now + INJECT_EVERY;
    for (;;) {
        for (int i = 0; i < 64; i++)
            one_op(w);
        now = now_ns();
        if (now >= deadline)
            break;
        if (w->index == 0 && now >= next_inject) {
            os_fail_at(1 + rnd(w, 32), false);   /* some thread's next host calls */
            injections++;
            next_inject += INJECT_EVERY;
        }
        if (w->index == 0 && now >= next_check) {
            validate_registry(w, "periodic");
            next_check += NS;
        }
    }
    return NULL;
}

/* Every granule tail that a host mapping reaches into, found with one read
 * of the host's map (a query per tail would read it up to 10,000 times), and
 * then queried: each must still read free (V3.4). */
struct tail { uintptr_t lo, hi, hit; struct worker *w; size_t k; };
struct tail_sweep { struct tail *tails; size_t n, at; };

static void sweep_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx)
{
    struct tail_sweep *sw = ctx;
    (void)line;
    while (sw->at < sw->n && sw->tails[sw->at].hi <= lo)
        sw->at++;
    for (size_t j = sw->at; j < sw->n && sw->tails[j].lo < hi; j++)
        if (!sw->tails[j].hit)
            sw->tails[j].hit = lo > sw->tails[j].lo ? lo : sw->tails[j].lo;
}

static int tail_order(const void *a, const void *b)
{
    const struct tail *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* tails has room for SLOTS; it is allocated before the first reservation,
 * as malloc could otherwise map it into a tail itself (it did). */
static size_t sweep_tails(struct worker *m, struct worker *workers, struct tail *tails)
{
    size_t n = 0, hits = 0;
    for (int t = 0; t < THREADS; t++)
        for (size_t k = 0; k < SLOTS_PER_THREAD; k++) {
            const struct slot *s = &workers[t].slots[k];
            uintptr_t end = page_addr(s, s->pages);
            if (s->base && end % VM_GRANULARITY)
                tails[n++] = (struct tail){ end, wm_align_up(end, VM_GRANULARITY), 0,
                                            &workers[t], k };
        }
    qsort(tails, n, sizeof *tails, tail_order);
    struct tail_sweep sw = { tails, n, 0 };
    EXPECT(m, walk_host_map(sweep_line, &sw), "cannot read the host's map");
    for (size_t i = 0; i < n; i++)
        if (tails[i].hit) {
            struct worker *w = tails[i].w;
            w->cur = tails[i].k;
            check_tail(w, &w->slots[w->cur], tails[i].hit);
            hits++;
        }
    return hits;
}

/* ---------------------------------------------------------------- main */
struct totals { size_t committed, reserved, locked; };

static void model_totals(struct worker *workers, struct totals *t)
{
    *t = (struct totals){ 0 };
    for (int n = 0; n < THREADS; n++)
        for (size_t k = 0; k < SLOTS_PER_THREAD; k++) {
            const struct slot *s = &workers[n].slots[k];
            if (!s->base)
                continue;
            t->reserved += wm_align_up(s->pages * page, VM_GRANULARITY);
            for (unsigned i = 0; i < s->pages; i++) {
                t->committed += s->pg[i].committed * page;
                t->locked += s->pg[i].locked * page;
            }
        }
}

static void count_alloc(const struct vm_alloc *a, void *ctx)
{
    (void)a;
    ++*(size_t *)ctx;
}

static size_t allocations(void)
{
    size_t n = 0;
    vm_lock();
    vm_for_each_alloc(count_alloc, &n);
    vm_unlock();
    return n;
}

static size_t pagefile_usage(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
        return (size_t)-1;
    return pmc.PagefileUsage;
}

/* With every thread joined: each slot and the process's counters against
 * the models, then everything released and the counters back at the start. */
static void final_checks(struct worker *m, struct worker *workers, struct tail *tails,
                         const struct vm_counters *start, size_t start_allocs,
                         size_t start_pagefile)
{
    validate_registry(m, "final");
    for (int n = 0; n < THREADS; n++) {
        struct worker *w = &workers[n];
        w->phase = "final";
        for (size_t k = 0; k < SLOTS_PER_THREAD; k++)
            if (w->slots[k].base) {
                w->cur = k;
                walk_slot(w, k, &w->slots[k]);
            }
    }
    size_t hits = sweep_tails(m, workers, tails);
    struct totals t;
    struct vm_counters c;
    model_totals(workers, &t);
    vm_counters(&c);
    EXPECT(m, c.commit_charge == start->commit_charge + t.committed,
           "commit charge %zu, want %zu + the models' %zu", c.commit_charge,
           start->commit_charge, t.committed);
    EXPECT(m, c.reserved == start->reserved + t.reserved, "reserved %zu, want %zu + %zu",
           c.reserved, start->reserved, t.reserved);
    EXPECT(m, c.locked == start->locked + t.locked, "locked %zu, want %zu + %zu",
           c.locked, start->locked, t.locked);
    printf("  at the end: %zu MiB reserved, %zu MiB committed, %zu KiB locked; "
           "%zu granule tails hold a host mapping\n",
           t.reserved >> 20, t.committed >> 20, t.locked >> 10, hits);

    for (int pass = 0; pass < 3; pass++)      /* a refused release is retried */
        for (int n = 0; n < THREADS; n++)
            for (size_t k = 0; k < SLOTS_PER_THREAD; k++) {
                struct worker *w = &workers[n];
                w->cur = k;
                if (w->slots[k].base)
                    release_slot(w, &w->slots[k]);
            }
    model_totals(workers, &t);
    EXPECT(m, t.reserved == 0, "%zu bytes still reserved after three release passes", t.reserved);
    vm_counters(&c);
    EXPECT(m, c.commit_charge == start->commit_charge, "commit charge %zu after release, "
           "want %zu", c.commit_charge, start->commit_charge);
    EXPECT(m, pagefile_usage() == start_pagefile, "PagefileUsage %zu after release, want %zu",
           pagefile_usage(), start_pagefile);
    EXPECT(m, c.reserved == start->reserved && c.locked == start->locked,
           "after release: reserved %zu locked %zu, want %zu and %zu", c.reserved, c.locked,
           start->reserved, start->locked);
    EXPECT(m, allocations() == start_allocs, "%zu allocations left, want %zu", allocations(),
           start_allocs);
    validate_registry(m, "after release");
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
    const char *v = getenv(name);
    char *end;
    uint64_t x = v && *v ? strtoull(v, &end, 0) : 0;
    return v && *v && !*end ? x : fallback;
}

static void print_summary(struct worker *workers, struct worker *m, double fill_s, double run_s,
                          double final_s)
{
    unsigned long ops[OP_KINDS] = { 0 }, mixed = 0, refused = 0, lock_refused = 0;
    for (int n = 0; n <= THREADS; n++) {
        struct worker *w = n < THREADS ? &workers[n] : m;
        for (int i = 0; i < OP_KINDS; i++)
            ops[i] += w->ops[i];
        refused += w->refused;
        lock_refused += w->lock_refused;
        if (n < THREADS) {
            mixed += w->op_no - SLOTS_PER_THREAD;
            m->passed += w->passed;
            m->failed += w->failed;
        }
    }
    printf("  fill %.2f s, random mix %.2f s, final checks %.2f s\n", fill_s, run_s, final_s);
    printf("  calls by kind (fill and final release included):");
    for (int i = 0; i < OP_KINDS; i++)
        printf(" %s %lu", op_names[i], ops[i]);
    printf("\n  %lu operations in the random mix, %.0f per second\n", mixed,
           run_s > 0 ? (double)mixed / run_s : 0.0);
    printf("  host refusals: %lu ERROR_NOT_ENOUGH_MEMORY, %lu VirtualLock "
           "ERROR_WORKING_SET_QUOTA (%lu injected); most host mappings seen %lu\n",
           refused, lock_refused, injections, max_maps);
}

int main(void)
{
    page = vm_page_size();
    seed = env_u64("WINMEM_STRESS_SEED", mix(now_ns() ^ ((uint64_t)getpid() << 32)));
    const char *sec = getenv("WINMEM_STRESS_SECONDS");
    double seconds = sec && *sec ? strtod(sec, NULL) : 10.0;
    if (!(seconds > 0))
        seconds = 10.0;
    run_ns = (uint64_t)(seconds * 1e9);
    printf("vm_stress: %d threads, %d reservations, %.1f s, seed %#" PRIx64
           " (WINMEM_STRESS_SEED=%#" PRIx64 " repeats it)\n",
           THREADS, SLOTS, seconds, seed, seed);
    avoid_arena();
    fflush(stdout);
    install_fault_handler();

    struct worker m = { .index = THREADS, .rng = seed, .phase = "main" };
    struct worker *workers = calloc(THREADS, sizeof *workers);
    struct slot *slots = calloc(SLOTS, sizeof *slots);
    struct tail *tails = calloc(SLOTS, sizeof *tails);
    if (!workers || !slots || !tails)
        return printf("out of memory\n"), 1;
    EXPECT(&m, SetProcessWorkingSetSize(GetCurrentProcess(), LOCK_QUOTA, 2 * LOCK_QUOTA),
           "SetProcessWorkingSetSize: error %u", (unsigned)GetLastError());
    struct vm_counters start;
    vm_counters(&start);
    size_t start_allocs = allocations(), start_pagefile = pagefile_usage();

    uint64_t t0 = now_ns();
    pthread_barrier_init(&filled, NULL, THREADS);
    for (int n = 0; n < THREADS; n++) {
        workers[n] = (struct worker){ .index = n, .rng = seed + mix((uint64_t)n + 1),
                                      .slots = slots + n * SLOTS_PER_THREAD };
        if (pthread_create(&workers[n].thread, NULL, worker_main, &workers[n]) != 0)
            return printf("pthread_create failed\n"), 1;
    }
    for (int n = 0; n < THREADS; n++)
        pthread_join(workers[n].thread, NULL);
    os_fail_at(0, false);
    uint64_t t1 = now_ns();
    pthread_barrier_destroy(&filled);

    final_checks(&m, workers, tails, &start, start_allocs, start_pagefile);
    uint64_t t2 = now_ns();
    print_summary(workers, &m, (double)(run_started - t0) / 1e9, (double)(t1 - run_started) / 1e9,
                  (double)(t2 - t1) / 1e9);
    printf("%lu passed, %lu failed\n", m.passed, m.failed);
    free(tails);
    free(slots);
    free(workers);
    return m.failed != 0;
}
