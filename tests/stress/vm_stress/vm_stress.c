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
 *
 * This file holds main, the threads' loop and the final checks; stress.h
 * lists the others.
 */
#include "stress.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *const op_names[] = {
    "reserve", "release", "commit", "protect", "decommit", "query",
    "walk", "lock", "unlock", "negative", "validate" };
_Static_assert(sizeof op_names / sizeof *op_names == OP_KINDS, "a name for each enum op");

size_t page;                        /* shared with the other files (stress.h) */
uint64_t seed;
unsigned long max_maps;             /* written by thread 0, read after join */
static uint64_t run_ns, run_started;
static pthread_barrier_t filled;
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

/* -------------------------------------------------------------- threads */
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
