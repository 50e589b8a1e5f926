/*
 * crt_heap.c — the MSVC C runtime heap (reference R1-R8): malloc(0) gives a
 * unique block of _msize 0; malloc memory is 16-aligned and _msize is the
 * size asked for, and the heap _get_heap_handle() names holds every block
 * (HeapValidate and HeapSize on it agree with _msize); impossible sizes
 * fail with ENOMEM; calloc zeroes recycled memory and refuses a wrapping
 * count × size; realloc(NULL, n) allocates, realloc(p, 0) frees and returns
 * NULL (MSVC, unlike glibc), a failed realloc leaves the block as it was;
 * _expand works in place only; _heapchk, _heapwalk and _heapmin on a
 * healthy heap; _aligned_malloc and _aligned_realloc keep alignment and
 * bytes and refuse an alignment that is not a power of two with EINVAL.
 *
 * Expected values confirmed under Wine 8's msvcrt.dll with mingw-w64, using
 * ../shared/tools/win32-oracle.  There msvcrt's malloc uses a private heap:
 * the one _get_heap_handle() returns, not GetProcessHeap() (R2), so HeapSize
 * is pinned on that handle and the test says nothing about which heap it
 * is (winmem's is the process heap).  Where Wine and the documentation
 * disagree the documented behaviour is WINDOWS_ONLY: errno after a failed
 * realloc, _aligned_realloc and non-wrapping calloc (Wine leaves it alone),
 * errno after _expand beyond _HEAP_MAXREQ, _heapmin's 0 (Wine's HeapCompact
 * is a stub), _aligned_realloc(p, 0, a) freeing p (Wine refuses it with
 * EINVAL and keeps p), and _aligned_malloc(SIZE_MAX, a) failing (Wine's
 * size arithmetic wraps and it returns a small block).
 *
 * Not pinned: _recalloc and _aligned_msize (msvcrt.dll exports neither under
 * Wine and mingw-w64's msvcrt import library has no _recalloc, so nothing
 * could be confirmed); _msize(NULL) and the invalid-parameter handler (R9:
 * Wine's _msize(NULL) faults inside HeapSize, and mingw-w64's
 * _set_invalid_parameter_handler for msvcrt only records the handler in
 * the program, so msvcrt never calls it; a bad _aligned_malloc alignment
 * returns NULL with EINVAL there without calling any handler, so the test
 * installs one that returns and pins only the error); _heapwalk's
 * free entries (where they start after a free merges neighbours, their
 * sizes) and how many entries there are.
 */
#include "conformance.h"
#include <stdlib.h>
#include <malloc.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#define MIB ((size_t)1 << 20)

/* A size the compiler cannot see, so that gcc's -Walloc-size-larger-than
 * lets the impossible requests through. */
static size_t opaque(size_t n)
{
    volatile size_t v = n;
    return v;
}

/* A pointer the compiler cannot follow: gcc's -Wuse-after-free takes every
 * realloc to free its argument, even the ones meant to fail. */
static void *opaque_ptr(void *p)
{
    void *volatile v = p;
    return v;
}

/* call returns NULL and sets errno to ENOMEM (R3). */
#define NOMEM(call) do {                                                     \
        errno = 0;                                                          \
        CHECK((call) == NULL);                                              \
        CHECK_EQ(errno, ENOMEM);                                            \
    } while (0)

/* One _heapwalk from the start (R7), looking at the address at. */
struct walk {
    int entries, used, freed, odd;  /* _HEAPOK answers, by _useflag */
    int end;                        /* what ended it: _HEAPEND when healthy */
    int flag;                       /* _useflag of the entry at `at`, or -1 */
    size_t size;                    /* that entry's _size */
    int covering;                   /* used entries whose bytes hold `at` */
};

static void walk(uintptr_t at, struct walk *w)
{
    _HEAPINFO hi;
    memset(w, 0, sizeof *w);
    w->flag = -1;
    hi._pentry = NULL;
    while ((w->end = _heapwalk(&hi)) == _HEAPOK && w->entries < 1000000) {
        uintptr_t e = (uintptr_t)hi._pentry;
        w->entries++;
        if (hi._useflag == _USEDENTRY) w->used++;
        else if (hi._useflag == _FREEENTRY) w->freed++;
        else w->odd++;
        if (e == at) {
            w->flag = hi._useflag;
            w->size = hi._size;
        }
        if (hi._useflag == _USEDENTRY && e <= at && at < e + hi._size)
            w->covering++;
    }
}

/* The values of <malloc.h> and <errno.h> this file relies on (R3, R7). */
static void test_constants(void)
{
    CHECK_EQ(_HEAP_MAXREQ, ~(size_t)0 - 0x1F);
    CHECK_EQ(_HEAPEMPTY, -1);
    CHECK_EQ(_HEAPOK, -2);
    CHECK_EQ(_HEAPBADBEGIN, -3);
    CHECK_EQ(_HEAPBADNODE, -4);
    CHECK_EQ(_HEAPEND, -5);
    CHECK_EQ(_HEAPBADPTR, -6);
    CHECK_EQ(_FREEENTRY, 0);
    CHECK_EQ(_USEDENTRY, 1);
    CHECK_EQ(ENOMEM, 12);
    CHECK_EQ(EINVAL, 22);
}

/* R1: each malloc(0) is a block of its own, of size 0. */
static void test_malloc_zero(void)
{
    char *a = malloc(0), *b = malloc(0);
    CHECK(a != NULL && b != NULL);
    CHECK(a != b);
    CHECK_EQ(_msize(a), 0);
    CHECK_EQ(_msize(b), 0);
    CHECK_EQ((uintptr_t)a % 16, 0);
    free(a);
    free(b);
    free(NULL);                                        /* a no-op */
    CHECK_EQ(_heapchk(), _HEAPOK);
}

/* R2: alignment and exact sizes, every size from 1 to 1024 live at once
 * and some large ones; the heap _get_heap_handle() names holds them. */
static void test_sizes(void)
{
    static char *blocks[1025];
    static const size_t large[] = { 4095, 4097, 65536, 100000, 1 * MIB - 1,
                                    2 * MIB, 2 * MIB + 1, 5 * MIB - 3 };
    HANDLE crt = (HANDLE)_get_heap_handle();
    size_t n, failed = 0, misaligned = 0, wrong = 0, foreign = 0, damaged = 0;

    CHECK(crt != NULL);
    CHECK_EQ(HeapValidate(crt, 0, NULL), TRUE);
    for (n = 1; n <= 1024; n++) {
        char *p = blocks[n] = malloc(n);
        if (!p) { failed++; continue; }
        misaligned += (uintptr_t)p % 16 != 0;
        wrong += _msize(p) != n;
        foreign += !HeapValidate(crt, 0, p) || HeapSize(crt, 0, p) != n;
        memset(p, (int)n, n);
    }
    for (n = 1; n <= 1024; n++)
        if (blocks[n]) {
            damaged += count_not(blocks[n], n, (char)n) != 0;
            free(blocks[n]);
        }
    CHECK_EQ(failed, 0);
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(foreign, 0);
    CHECK_EQ(damaged, 0);

    char *p = malloc(100000), *q = malloc(2 * MIB);
    CHECK(p != NULL && q != NULL);
    CHECK_EQ((uintptr_t)p % 16, 0);
    CHECK_EQ((uintptr_t)q % 16, 0);
    CHECK_EQ(_msize(p), 100000);
    CHECK_EQ(_msize(q), 2 * MIB);
    CHECK_EQ(HeapValidate(crt, 0, q), TRUE);
    CHECK_EQ(HeapSize(crt, 0, p), 100000);
    CHECK_EQ(HeapSize(crt, 0, q), 2 * MIB);
    free(p);
    free(q);

    failed = misaligned = wrong = foreign = 0;
    for (n = 0; n < sizeof large / sizeof large[0]; n++) {
        p = malloc(large[n]);
        if (!p) { failed++; continue; }
        misaligned += (uintptr_t)p % 16 != 0;
        wrong += _msize(p) != large[n];
        foreign += HeapSize(crt, 0, p) != large[n];
        free(p);
    }
    CHECK_EQ(failed, 0);
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(foreign, 0);
    CHECK_EQ(HeapValidate(crt, 0, NULL), TRUE);
}

/* R3: sizes above _HEAP_MAXREQ fail at once, and so do impossible ones
 * below it. */
static void test_malloc_fails(void)
{
    NOMEM(malloc(opaque(_HEAP_MAXREQ + 1)));
    NOMEM(malloc(opaque(SIZE_MAX)));
    NOMEM(malloc(opaque(_HEAP_MAXREQ)));
    NOMEM(malloc(opaque((size_t)1 << 62)));
    CHECK_EQ(_heapchk(), _HEAPOK);
}

/* R4: calloc zeroes memory just dirtied and freed, and checks count × size. */
static void test_calloc(void)
{
    static const size_t sizes[] = { 1, 24, 100, 1000, 4000, 70000, 2 * MIB };
    size_t i, dirty = 0, failed = 0, wrong = 0;
    int round;

    for (round = 0; round < 4; round++)
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            char *p = malloc(n), *q;
            if (p) memset(p, 0xa5, n);
            free(p);
            q = round & 1 ? calloc(n, 1) : calloc(1, n);
            if (!q) { failed++; continue; }
            dirty += count_not(q, n, 0) != 0;
            wrong += _msize(q) != n;
            memset(q, 0x5a, n);                        /* dirty for the next round */
            free(q);
        }
    CHECK_EQ(failed, 0);
    CHECK_EQ(dirty, 0);
    CHECK_EQ(wrong, 0);

    char *p = calloc(7, 13);
    CHECK(p != NULL);
    CHECK_EQ(_msize(p), 91);
    CHECK_EQ(count_not(p, 91, 0), 0);
    free(p);
    p = calloc(0, 0);
    CHECK(p != NULL);
    CHECK_EQ(_msize(p), 0);
    free(p);

    NOMEM(calloc(opaque(SIZE_MAX / 2 + 1), 2));       /* wraps to 0 */
    NOMEM(calloc(opaque(SIZE_MAX / 3 + 1), 3));       /* wraps to 2 */
    NOMEM(calloc(opaque((size_t)1 << 33), (size_t)1 << 33));
    /* Too big without wrapping: Wine returns NULL but leaves errno. */
    errno = 0;
    CHECK(calloc(opaque(_HEAP_MAXREQ / 16 + 1), 16) == NULL);
    WINDOWS_ONLY CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(calloc(1, opaque(SIZE_MAX)) == NULL);
    WINDOWS_ONLY CHECK_EQ(errno, ENOMEM);
}

/* R5: realloc of NULL, to 0, growing, shrinking and failing. */
static void test_realloc(void)
{
    struct walk w;
    char *p = realloc(NULL, 40), *q;
    CHECK(p != NULL);
    CHECK_EQ(_msize(p), 40);
    CHECK_EQ((uintptr_t)p % 16, 0);
    cf_fill(p, 40, 7);

    q = realloc(p, 1000);                              /* growth keeps the bytes */
    CHECK(q != NULL);
    CHECK_EQ(_msize(q), 1000);
    CHECK_EQ(cf_bad(q, 40, 7), 0);
    cf_fill(q, 1000, 8);
    p = realloc(q, 3 * MIB);
    CHECK(p != NULL);
    CHECK_EQ(_msize(p), 3 * MIB);
    CHECK_EQ((uintptr_t)p % 16, 0);
    CHECK_EQ(cf_bad(p, 1000, 8), 0);
    q = realloc(p, 20);                                /* so does shrinking */
    CHECK(q != NULL);
    CHECK_EQ(_msize(q), 20);
    CHECK_EQ(cf_bad(q, 20, 8), 0);

    /* A failed realloc leaves the block as it was; errno is ENOMEM per the
     * documentation, Wine's msvcrt leaves it alone. */
    cf_fill(q, 20, 9);
    errno = 0;
    p = realloc(opaque_ptr(q), opaque(SIZE_MAX));
    CHECK(p == NULL);
    WINDOWS_ONLY CHECK_EQ(errno, ENOMEM);
    if (!p) {
        CHECK_EQ(_msize(q), 20);
        CHECK_EQ(cf_bad(q, 20, 9), 0);
    }
    errno = 0;
    p = realloc(opaque_ptr(q), opaque((size_t)1 << 62));
    CHECK(p == NULL);
    WINDOWS_ONLY CHECK_EQ(errno, ENOMEM);
    if (!p) {
        CHECK_EQ(_msize(q), 20);
        CHECK_EQ(cf_bad(q, 20, 9), 0);
    }

    /* realloc(p, 0) frees p and returns NULL (glibc returns a new block). */
    uintptr_t at = (uintptr_t)q;
    walk(at, &w);
    CHECK_EQ(w.flag, _USEDENTRY);
    CHECK(realloc(q, 0) == NULL);
    walk(at, &w);
    CHECK_EQ(w.end, _HEAPEND);
    CHECK(w.flag != _USEDENTRY);
    CHECK_EQ(w.covering, 0);
    p = malloc(0);
    at = (uintptr_t)p;
    CHECK(realloc(p, 0) == NULL);
    walk(at, &w);
    CHECK(w.flag != _USEDENTRY);
    CHECK_EQ(_heapchk(), _HEAPOK);
}

/* R6: _expand resizes in place or not at all. */
static void test_expand(void)
{
    char *p = malloc(100), *big = malloc(2 * MIB);
    CHECK(p != NULL && big != NULL);
    cf_fill(p, 100, 4);
    CHECK_EQ(_expand(p, 50), p);                       /* shrinking works */
    CHECK_EQ(_msize(p), 50);
    CHECK_EQ(cf_bad(p, 50, 4), 0);
    CHECK_EQ(_expand(p, 100), p);                      /* back to where it was */
    CHECK_EQ(_msize(p), 100);
    CHECK_EQ(cf_bad(p, 50, 4), 0);

    /* Beyond _HEAP_MAXREQ: NULL, ENOMEM per the documentation (Wine leaves
     * errno alone); the block is untouched. */
    errno = 0;
    CHECK(_expand(p, opaque(SIZE_MAX)) == NULL);
    WINDOWS_ONLY CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(_msize(p), 100);
    CHECK(_expand(p, opaque((size_t)1 << 62)) == NULL);
    CHECK_EQ(_msize(p), 100);
    CHECK_EQ(cf_bad(p, 50, 4), 0);
    free(p);

    cf_fill(big, 2 * MIB, 5);
    CHECK_EQ(_expand(big, MIB), big);
    CHECK_EQ(_msize(big), MIB);
    CHECK_EQ(cf_bad(big, MIB, 5), 0);
    free(big);
    CHECK_EQ(_heapchk(), _HEAPOK);
}

/* R7: _heapchk, _heapwalk and _heapmin on a healthy heap. */
static void test_walk(void)
{
    struct walk w;
    _HEAPINFO hi;
    char *p = malloc(123), *z = malloc(0), *big = malloc(2 * MIB);
    CHECK(p != NULL && z != NULL && big != NULL);
    CHECK_EQ(_heapchk(), _HEAPOK);

    walk((uintptr_t)p, &w);
    CHECK_EQ(w.end, _HEAPEND);
    CHECK(w.used >= 3);
    CHECK_EQ(w.odd, 0);
    CHECK_EQ(w.flag, _USEDENTRY);
    CHECK_EQ(w.size, 123);                             /* the size asked for */
    CHECK_EQ(w.covering, 1);
    walk((uintptr_t)z, &w);
    CHECK_EQ(w.flag, _USEDENTRY);
    CHECK_EQ(w.size, 0);
    walk((uintptr_t)big, &w);
    CHECK_EQ(w.flag, _USEDENTRY);
    CHECK_EQ(w.size, 2 * MIB);
    CHECK_EQ(_expand(p, 60), p);
    walk((uintptr_t)p, &w);
    CHECK_EQ(w.size, 60);

    /* A walk may resume from a live block; an interior pointer is no node. */
    hi._pentry = (int *)p;
    hi._size = 60;
    hi._useflag = _USEDENTRY;
    CHECK_EQ(_heapwalk(&hi), _HEAPOK);
    CHECK(hi._pentry != (int *)p);
    hi._pentry = (int *)(p + 16);
    hi._size = 44;
    hi._useflag = _USEDENTRY;
    CHECK_EQ(_heapwalk(&hi), _HEAPBADNODE);

    uintptr_t at = (uintptr_t)p;
    free(p);
    walk(at, &w);
    CHECK_EQ(w.end, _HEAPEND);
    CHECK(w.flag != _USEDENTRY);
    CHECK_EQ(w.covering, 0);
    free(z);
    free(big);

    WINDOWS_ONLY CHECK_EQ(_heapmin(), 0);              /* Wine: -1 */
    CHECK_EQ(_heapchk(), _HEAPOK);
}

/* An invalid-parameter handler that lets the call return its error. */
static void keep_going(const wchar_t *expression, const wchar_t *function,
                       const wchar_t *file, unsigned int line, uintptr_t reserved)
{
    (void)expression, (void)function, (void)file, (void)line, (void)reserved;
}

/* R8: aligned blocks, alignments 16 to 4096. */
static void test_aligned(void)
{
    size_t a, failed = 0, misaligned = 0, damaged = 0;
    struct walk w;

    for (a = 16; a <= 4096; a *= 2) {
        char *p = _aligned_malloc(100, a), *q;
        if (!p) { failed++; continue; }
        misaligned += (uintptr_t)p % a != 0;
        cf_fill(p, 100, (int)a);
        q = _aligned_realloc(p, 5000, a);
        if (!q) { failed++; _aligned_free(p); continue; }
        misaligned += (uintptr_t)q % a != 0;
        damaged += cf_bad(q, 100, (int)a) != 0;
        p = _aligned_realloc(q, 30, a);
        if (!p) { failed++; _aligned_free(q); continue; }
        misaligned += (uintptr_t)p % a != 0;
        damaged += cf_bad(p, 30, (int)a) != 0;
        _aligned_free(p);
    }
    CHECK_EQ(failed, 0);
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(damaged, 0);
    for (a = 1; a < 16; a *= 2) {                      /* small ones are kept too */
        char *p = _aligned_malloc(10, a);
        CHECK(p != NULL && (uintptr_t)p % a == 0);
        _aligned_free(p);
    }

    /* Not a power of two: NULL and EINVAL, for realloc too, which keeps p.
     * The documentation has these call the invalid-parameter handler first,
     * whose default ends the process: one that returns is installed (Wine's
     * msvcrt calls none; winmem's unit test crt pins that it is called). */
    _invalid_parameter_handler old_handler = _set_invalid_parameter_handler(keep_going);
    errno = 0;
    CHECK(_aligned_malloc(100, 24) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(_aligned_malloc(100, 3) == NULL);
    CHECK_EQ(errno, EINVAL);
    char *p = _aligned_malloc(64, 64);
    CHECK(p != NULL);
    cf_fill(p, 64, 6);
    errno = 0;
    CHECK(_aligned_realloc(p, 200, 48) == NULL);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(cf_bad(p, 64, 6), 0);
    _set_invalid_parameter_handler(old_handler);

    /* Failure leaves the block; ENOMEM per the documentation. */
    NOMEM(_aligned_malloc(opaque((size_t)1 << 62), 64));
    errno = 0;
    CHECK(_aligned_realloc(p, opaque((size_t)1 << 62), 64) == NULL);
    WINDOWS_ONLY CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(cf_bad(p, 64, 6), 0);
    WINDOWS_ONLY {                   /* Wine: size + alignment wraps, non-NULL */
        errno = 0;
        CHECK(_aligned_malloc(opaque(SIZE_MAX), 64) == NULL);
        CHECK_EQ(errno, ENOMEM);
    }

    /* _aligned_realloc(NULL) allocates; size 0 frees p (Wine refuses it with
     * EINVAL and keeps p, which is left to leak there). */
    char *q = _aligned_realloc(NULL, 64, 32);
    CHECK(q != NULL && (uintptr_t)q % 32 == 0);
    _aligned_free(q);
    uintptr_t at = (uintptr_t)p;
    CHECK(_aligned_realloc(p, 0, 64) == NULL);
    WINDOWS_ONLY {
        walk(at, &w);
        CHECK_EQ(w.covering, 0);
    }
    _aligned_free(NULL);                               /* a no-op */
    CHECK_EQ(_heapchk(), _HEAPOK);
}

int main(void)
{
    test_constants();
    test_malloc_zero();
    test_sizes();
    test_malloc_fails();
    test_calloc();
    test_realloc();
    test_expand();
    test_walk();
    test_aligned();
    return cf_finish();
}
