/*
 * crt_sbh.c — white-box tests of the small-block heap (src/crt/crt_sbh.c):
 * the threshold's limits; small blocks from 4 MiB regions committed 64 KiB
 * at a time, not from the process heap; exact sizes through malloc,
 * realloc, _expand, calloc and _heapwalk; a second 64 KiB of empty groups
 * decommitted, a region released once empty; double and interior frees
 * refused without damage; threads.
 */
#include "crt/crt.h"
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define GROUP ((size_t)64 << 10)
#define REGION ((size_t)4 << 20)

/* Committed bytes of the reservation holding p, and its base. */
static size_t committed_in(const void *p, char **base)
{
    MEMORY_BASIC_INFORMATION m = unit_query(p);
    size_t n = 0;
    *base = m.AllocationBase;
    for (char *a = m.AllocationBase;; a = (char *)m.BaseAddress + m.RegionSize) {
        m = unit_query(a);
        if (m.AllocationBase != *base || m.State == MEM_FREE)
            break;
        n += m.State == MEM_COMMIT ? m.RegionSize : 0;
    }
    return n;
}

static bool heap_block(const void *p)
{
    DWORD e = GetLastError();
    bool yes = HeapSize(GetProcessHeap(), 0, p) != (SIZE_T)-1;
    SetLastError(e);
    return yes;
}

/* Case 1.  The threshold, and which heap blocks come from. */
static void threshold_and_source(void)
{
    CHECK_EQ(winmem__get_sbh_threshold(), 0);
    char *off = winmem_malloc(100);
    CHECK(heap_block(off));
    CHECK_EQ(winmem__set_sbh_threshold(1017), 0);
    CHECK_EQ(winmem__get_sbh_threshold(), 0);
    CHECK_EQ(winmem__set_sbh_threshold(1016), 1);
    CHECK_EQ(winmem__get_sbh_threshold(), 1016);
    char *small = winmem_malloc(1016), *big = winmem_malloc(1017);
    CHECK(small && !heap_block(small) && (uintptr_t)small % 16 == 0);
    CHECK(big && heap_block(big));
    CHECK_EQ(winmem__msize(small), 1016);
    char *base;
    MEMORY_BASIC_INFORMATION m = unit_query(small);
    CHECK_EQ(m.Type, MEM_PRIVATE);
    CHECK_EQ(committed_in(small, &base), GROUP);
    CHECK(unit_query(base + REGION - 1).AllocationBase == base);    /* 4 MiB reserved */
    winmem_free(small);
    winmem_free(big);
    winmem_free(off);
    CHECK_EQ(unit_query(base).State, MEM_FREE);                     /* empty: released */
    CHECK_EQ(winmem__heapchk(), _HEAPOK);
}

/* Case 2.  Commit grows a group at a time; emptied groups beyond one are
 * decommitted; the region goes when its last block does. */
#define C2_N 3000
static void *c2[C2_N];
static void commit_policy(void)
{
    winmem__set_sbh_threshold(512);
    for (int i = 0; i < C2_N; i++)
        c2[i] = winmem_malloc(500);                   /* class 512: ~126 a group */
    char *base;
    size_t full = committed_in(c2[0], &base);
    CHECK(full >= (size_t)C2_N * 512 && full <= (size_t)C2_N * 512 + 3 * GROUP);
    CHECK_EQ(full % GROUP, 0);
    int bad = 0;
    for (int i = 1; i < C2_N; i++) {                  /* all but the first */
        winmem_free(c2[i]);
        bad += committed_in(c2[0], &base) > full;
    }
    CHECK_EQ(bad, 0);
    size_t left = committed_in(c2[0], &base);
    CHECK(left >= GROUP && left <= 2 * GROUP);        /* the live group and at most one spare */
    char *again = winmem_malloc(300);                 /* another class: a spare group, no new commit */
    CHECK(again && committed_in(again, &base) == left);
    winmem_free(again);
    winmem_free(c2[0]);
    CHECK_EQ(unit_query(base).State, MEM_FREE);
}

/* Case 3.  Sizes, contents and moves. */
static void sizes_and_moves(void)
{
    winmem__set_sbh_threshold(256);
    char *p = winmem_malloc(20);
    memcpy(p, "twenty bytes long!!", 20);
    CHECK(winmem_realloc(p, 30) == p);                 /* class 32: in place */
    CHECK_EQ(winmem__msize(p), 30);
    CHECK(winmem__expand(p, 10) == p);
    CHECK_EQ(winmem__msize(p), 10);
    errno = 0;
    CHECK(winmem__expand(p, 100) == NULL);            /* another class: not in place */
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(winmem__msize(p), 10);
    char *q = winmem_realloc(p, 5000);                /* beyond the threshold: the heap */
    CHECK(q && heap_block(q) && !memcmp(q, "twenty byt", 10));
    winmem_free(q);
    unsigned char *r = winmem_malloc(48);
    memset(r, 0xAB, 48);
    winmem_free(r);
    unsigned char *z = winmem_calloc(6, 8);           /* likely r's block again */
    int nonzero = 0;
    for (int i = 0; i < 48; i++)
        nonzero += z[i] != 0;
    CHECK_EQ(nonzero, 0);
    CHECK(!heap_block(z));
    /* _heapwalk reaches small blocks with their sizes. */
    char *w = winmem_malloc(77);
    _HEAPINFO e = { 0 };
    int seen = 0;
    while (winmem__heapwalk(&e) == _HEAPOK)
        if (e._pentry == (int *)w)
            seen += e._size == 77 && e._useflag == _USEDENTRY;
    CHECK_EQ(seen, 1);
    winmem_free(w);
    winmem_free(z);
}

/* Case 4.  Bad frees inside the regions are refused; nothing is damaged. */
static void bad_frees(void)
{
    winmem__set_sbh_threshold(128);
    char *a = winmem_malloc(64), *b = winmem_malloc(64);
    memset(b, 0x5C, 64);
    winmem_free(a);
    errno = 0;
    winmem_free(a);                                   /* twice */
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    winmem_free(b + 16);                              /* inside a block */
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(winmem__msize(a), (size_t)-1);
    CHECK_EQ(winmem__msize(b + 16), (size_t)-1);
    CHECK_EQ(winmem__msize(b), 64);
    int intact = 0;
    for (int i = 0; i < 64; i++)
        intact += (unsigned char)b[i] == 0x5C;
    CHECK_EQ(intact, 64);
    CHECK_EQ(winmem__heapchk(), _HEAPOK);
    winmem_free(b);
}

/* Case 5.  Threads at once. */
static int c5_bad;
static void *c5_run(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg + 1;
    unsigned char *live[64] = { 0 };
    size_t sizes[64] = { 0 };
    int bad = 0;
    for (int i = 0; i < 40000; i++) {
        int k = (int)(rand_r(&seed) % 64);
        if (live[k]) {
            bad += live[k][0] != (unsigned char)k || winmem__msize(live[k]) != sizes[k];
            winmem_free(live[k]);
            live[k] = NULL;
        } else {
            sizes[k] = 1 + rand_r(&seed) % 900;
            if ((live[k] = winmem_malloc(sizes[k])) != NULL)
                live[k][0] = (unsigned char)k;
            bad += !live[k];
        }
    }
    for (int k = 0; k < 64; k++)
        winmem_free(live[k]);
    __atomic_add_fetch(&c5_bad, bad, __ATOMIC_RELAXED);
    return arg;
}

static void threads(void)
{
    winmem__set_sbh_threshold(1016);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, c5_run, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(c5_bad, 0);
    CHECK_EQ(winmem__heapchk(), _HEAPOK);
    winmem__set_sbh_threshold(0);
}

int main(void)
{
    threshold_and_source();
    commit_policy();
    sizes_and_moves();
    bad_frees();
    threads();
    return unit_finish();
}
