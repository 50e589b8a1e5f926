/*
 * except_threads.c — faults from several threads at once through one
 * vectored handler (except.h, vm_fault.c).
 *
 * Sparse array: THREADS threads write into a 64 MiB reservation whose pages
 * a vectored handler commits on first touch; some pages every thread writes
 * at the same moment, the others one thread each.  Only the handler commits,
 * so each touched page has at least one handler call with an address in it;
 * each touch faults at most once, so a page has at most as many calls as
 * threads touching it (fewer when a thread's fault lost the race to another
 * thread's commit and vm_fault_check retried it silently).  Every thread's
 * data must survive the others' late commits of the same page.
 *
 * Guard pages: all threads read the same guard pages at the same moment;
 * vm_fault_check takes each guard once under the registry lock, so each
 * page raises exactly one STATUS_GUARD_PAGE_VIOLATION per arming.
 *
 * Try frames are per thread: each thread's own frame catches its fault.
 */
#include "except/except.h"
#include "os/os.h"
#include "vm/vm.h"
#include "unit.h"
#include "except_unit.h"

#include <pthread.h>
#include <string.h>

#define THREADS 4
#define SPARSE_PAGES 16384          /* 64 MiB of 4 KiB pages */
#define SHARED_PAGES 512            /* written by every thread */
#define PRIVATE_PAGES 1024          /* per thread, spread out */
#define PRIVATE_STRIDE (3 * THREADS)
#define GUARD_PAGES 256
#define GUARD_ROUNDS 4

static size_t PG;
static char *sparse, *guarded, *nowhere;
static uint32_t sparse_calls[SPARSE_PAGES];   /* handler calls per page */
static uint32_t guard_calls[GUARD_PAGES];
static uint32_t other_calls, commit_failures;
static pthread_barrier_t barrier;

static void bump(uint32_t *n) { __atomic_add_fetch(n, 1, __ATOMIC_RELAXED); }

static LONG CALLBACK handler(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *r = info->ExceptionRecord;
    char *at = (char *)r->ExceptionInformation[1];
    if (r->ExceptionCode == STATUS_GUARD_PAGE_VIOLATION &&
        at >= guarded && at < guarded + GUARD_PAGES * PG) {
        bump(&guard_calls[(size_t)(at - guarded) / PG]);
        return EXCEPTION_CONTINUE_EXECUTION;    /* the guard is gone already */
    }
    if (r->ExceptionCode == EXCEPTION_ACCESS_VIOLATION &&
        at >= sparse && at < sparse + SPARSE_PAGES * PG) {
        bump(&sparse_calls[(size_t)(at - sparse) / PG]);
        if (VirtualAlloc(at, 1, MEM_COMMIT, PAGE_READWRITE))
            return EXCEPTION_CONTINUE_EXECUTION;
        bump(&commit_failures);
        return EXCEPTION_CONTINUE_SEARCH;
    }
    bump(&other_calls);
    return EXCEPTION_CONTINUE_SEARCH;
}

static size_t private_page(int t, int k) { return SHARED_PAGES + (size_t)k * PRIVATE_STRIDE + (size_t)t; }
static uint64_t stamp(size_t page, int t) { return ((uint64_t)page << 8) | (uint64_t)(t + 1); }

/* Where thread t writes in a page: its own word. */
static uint64_t *slot(size_t page, int t) { return (uint64_t *)(sparse + page * PG) + 8 * t; }

static void store(uint64_t *at, uint64_t v)
{
    FENCE();
    *(volatile uint64_t *)at = v;
    FENCE();
}

static LONG frame_filter(EXCEPTION_POINTERS *info, void *context)
{
    *(volatile DWORD *)context = GetCurrentThreadId();
    return EXCEPTION_EXECUTE_HANDLER;
}

struct worker { int t; DWORD tid; volatile DWORD filter_tid; volatile int caught; int guard_reads_nonzero; };

static void *work(void *arg)
{
    struct worker *w = arg;
    int t = w->t;
    w->tid = GetCurrentThreadId();
    pthread_barrier_wait(&barrier);
    for (size_t page = 0; page < SHARED_PAGES; page++)    /* all threads, same order */
        store(slot(page, t), stamp(page, t));
    for (int k = 0; k < PRIVATE_PAGES; k++) {
        size_t page = private_page(t, k);
        store(slot(page, t), stamp(page, t));
    }

    for (int round = 0; round < GUARD_ROUNDS; round++) {
        pthread_barrier_wait(&barrier);                     /* guards armed */
        for (size_t page = 0; page < GUARD_PAGES; page++) {
            FENCE();
            w->guard_reads_nonzero += *(volatile char *)(guarded + page * PG) != 0;
            FENCE();
        }
        pthread_barrier_wait(&barrier);                     /* all done reading */
    }

    pthread_barrier_wait(&barrier);
    WINMEM_TRY(frame_filter, (void *)&w->filter_tid) {
        FENCE();
        (void)*(volatile char *)(nowhere + (size_t)t * PG);
        FENCE();
    } WINMEM_EXCEPT {
        w->caught++;
    } WINMEM_END_TRY;
    return NULL;
}

static DWORD protect_of(const void *p, DWORD *state)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0, sizeof m);
    VirtualQuery(p, &m, sizeof m);
    *state = m.State;
    return m.Protect;
}

static void check_sparse(void)
{
    int touchers[SPARSE_PAGES] = { 0 };
    for (size_t page = 0; page < SHARED_PAGES; page++)
        touchers[page] = THREADS;
    for (int t = 0; t < THREADS; t++)
        for (int k = 0; k < PRIVATE_PAGES; k++)
            touchers[private_page(t, k)]++;

    size_t bad_data = 0, bad_state = 0, too_few = 0, too_many = 0, calls = 0, touches = 0;
    for (size_t page = 0; page < SPARSE_PAGES; page++) {
        DWORD state;
        protect_of(sparse + page * PG, &state);
        calls += sparse_calls[page];
        touches += (size_t)touchers[page];
        bad_state += state != (touchers[page] ? MEM_COMMIT : MEM_RESERVE);
        too_few += touchers[page] && sparse_calls[page] < 1;
        too_many += sparse_calls[page] > (uint32_t)touchers[page];
        if (!touchers[page])
            continue;
        for (int t = 0; t < THREADS; t++) {
            bool wrote = page < SHARED_PAGES || page == private_page(t, (int)((page - SHARED_PAGES) / PRIVATE_STRIDE));
            bad_data += *slot(page, t) != (wrote ? stamp(page, t) : 0);
        }
    }
    CHECK_EQ(bad_data, 0);
    CHECK_EQ(bad_state, 0);
    CHECK_EQ(too_few, 0);
    CHECK_EQ(too_many, 0);
    CHECK(calls >= SHARED_PAGES + THREADS * PRIVATE_PAGES && calls <= touches);
    CHECK_EQ(commit_failures, 0);
    printf("sparse array: %zu handler calls for %d pages, %zu touches\n",
           calls, SHARED_PAGES + THREADS * PRIVATE_PAGES, touches);
}

int main(void)
{
    PG = os_page_size();
    sparse = VirtualAlloc(NULL, SPARSE_PAGES * PG, MEM_RESERVE, PAGE_READWRITE);
    guarded = VirtualAlloc(NULL, GUARD_PAGES * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    nowhere = VirtualAlloc(NULL, THREADS * PG, MEM_RESERVE, PAGE_NOACCESS);
    CHECK(sparse && guarded && nowhere);
    PVOID h = AddVectoredExceptionHandler(1, handler);
    CHECK(h != NULL);
    pthread_barrier_init(&barrier, NULL, THREADS + 1);

    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){ .t = t };
        CHECK_EQ(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    pthread_barrier_wait(&barrier);                         /* start writing */
    DWORD old, state;
    for (int round = 0; round < GUARD_ROUNDS; round++) {
        CHECK(VirtualProtect(guarded, GUARD_PAGES * PG, PAGE_READWRITE | PAGE_GUARD, &old));
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
    }
    pthread_barrier_wait(&barrier);                         /* fault in frames */
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);

    check_sparse();

    size_t wrong = 0;
    for (size_t page = 0; page < GUARD_PAGES; page++)
        wrong += guard_calls[page] != GUARD_ROUNDS;
    CHECK_EQ(wrong, 0);
    CHECK_EQ(protect_of(guarded, &state), PAGE_READWRITE);   /* every guard taken */

    for (int t = 0; t < THREADS; t++) {
        CHECK_EQ(w[t].caught, 1);
        CHECK_EQ(w[t].filter_tid, w[t].tid);                 /* its own frame */
        CHECK_EQ(w[t].guard_reads_nonzero, 0);
    }
    CHECK_EQ(other_calls, THREADS);         /* the frames' faults, declined */

    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    pthread_barrier_destroy(&barrier);
    CHECK(VirtualFree(sparse, 0, MEM_RELEASE));
    CHECK(VirtualFree(guarded, 0, MEM_RELEASE));
    CHECK(VirtualFree(nowhere, 0, MEM_RELEASE));
    return unit_finish();
}
