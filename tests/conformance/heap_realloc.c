/*
 * heap_realloc.c — HeapReAlloc (reference H16-H21): a NULL pointer is not
 * an allocation, growth and shrinkage keep min(old, new) bytes across the
 * small, medium and large paths, HEAP_ZERO_MEMORY zeroes from the old
 * *requested* size, HEAP_REALLOC_IN_PLACE_ONLY returns the same block or
 * NULL with the block untouched, size 0 keeps a block, and a failure leaves
 * the old block valid with its size and bytes.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Windows sets NO_ERROR on HeapReAlloc(NULL) where Wine leaves the last
 * error alone (H16): that check is WINDOWS_ONLY.  Not pinned: whether a
 * growth moves the block, and whether a large block shrunk in place can
 * grow back in place (Windows decommits the tail, H19).
 */
#include "conformance.h"

#define MIB ((SIZE_T)1 << 20)

static void fill(char *p, SIZE_T n, int seed)
{
    SIZE_T i;
    for (i = 0; i < n; i++)
        p[i] = (char)(seed + i * 7 + (i >> 12));
}

/* How many of the first n bytes at p differ from fill(p, n, seed). */
static SIZE_T bad(const char *p, SIZE_T n, int seed)
{
    SIZE_T i, k = 0;
    for (i = 0; i < n; i++)
        k += p[i] != (char)(seed + i * 7 + (i >> 12));
    return k;
}

/* H16: not an allocation. */
static void test_null(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(h, 0, NULL, 16), NULL);
    WINDOWS_ONLY CHECK_ERR(NO_ERROR);                 /* H16: Wine leaves 0xdead */
    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(h, HEAP_ZERO_MEMORY, NULL, 0), NULL);
    WINDOWS_ONLY CHECK_ERR(NO_ERROR);
    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(GetProcessHeap(), 0, NULL, 100), NULL);
    WINDOWS_ONLY CHECK_ERR(NO_ERROR);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H17: a chain of sizes through every path keeps min(old, new) bytes and
 * reports the new size exactly. */
static void test_chain(HANDLE h)
{
    static const SIZE_T sizes[] = {
        100, 1000, 50, 1, 17, 16, 4000, 33, 70000, 0xFE000, 200, 2 * MIB, 8 * MIB,
        3 * MIB, 64, 0x7FFF0, 5, 0,
    };
    enum { N = sizeof sizes / sizeof sizes[0] };
    char *p = HeapAlloc(h, 0, sizes[0]);
    int i;
    CHECK(p != NULL);
    fill(p, sizes[0], 0);
    for (i = 1; i < N; i++) {
        SIZE_T keep = sizes[i] < sizes[i - 1] ? sizes[i] : sizes[i - 1];
        char *q = HeapReAlloc(h, 0, p, sizes[i]);
        CHECK(q != NULL);
        if (!q) return;
        p = q;
        CHECK_EQ(HeapSize(h, 0, p), sizes[i]);
        CHECK_EQ(bad(p, keep, i - 1), 0);
        CHECK_EQ((ULONG_PTR)p & (2 * sizeof(void *) - 1), 0);
        fill(p, sizes[i], i);
    }
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);
}

/* H18: zeroing starts at the old requested size, even when the block's
 * capacity (or bytes left by a shrink) lie beyond it. */
static void test_zero(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    char *p = HeapAlloc(h, 0, 64);
    memset(p, 0xAA, 64);
    p = HeapReAlloc(h, 0, p, 16);                      /* leaves 0xAA behind */
    CHECK(p != NULL);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 64);
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(h, 0, p), 64);
    CHECK_EQ(count_not(p, 16, (char)0xAA), 0);
    CHECK_EQ(count_not(p + 16, 48, 0), 0);

    p = HeapReAlloc(h, 0, p, 40);                      /* within capacity */
    memset(p, 0xBB, 40);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 41);
    CHECK_EQ(count_not(p, 40, (char)0xBB), 0);
    CHECK_EQ(p[40], 0);

    memset(p, 0xBB, 41);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 5000);     /* medium */
    CHECK(p != NULL);
    CHECK_EQ(count_not(p, 41, (char)0xBB), 0);
    CHECK_EQ(count_not(p + 41, 5000 - 41, 0), 0);

    memset(p, 0xCC, 5000);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 2 * MIB);  /* into a large block */
    CHECK(p != NULL);
    CHECK_EQ(count_not(p, 5000, (char)0xCC), 0);
    CHECK_EQ(count_not(p + 5000, 2 * MIB - 5000, 0), 0);

    memset(p, 0xDD, 2 * MIB);
    p = HeapReAlloc(h, 0, p, MIB + 3);                 /* large, shrunk */
    CHECK(p != NULL);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 3 * MIB);
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(h, 0, p), 3 * MIB);
    CHECK_EQ(count_not(p, MIB + 3, (char)0xDD), 0);
    CHECK_EQ(count_not(p + MIB + 3, 2 * MIB - 3, 0), 0);

    memset(p, 0xEE, 100);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 100);      /* back to small: no zeroing */
    CHECK(p != NULL);
    CHECK_EQ(count_not(p, 100, (char)0xEE), 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H19: the same pointer or NULL; a refused growth changes nothing. */
static void test_in_place(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    char *p = HeapAlloc(h, 0, 256), *q;
    fill(p, 256, 3);
    q = HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, p, 100);
    CHECK_EQ(q, p);
    CHECK_EQ(HeapSize(h, 0, p), 100);
    CHECK_EQ(bad(p, 100, 3), 0);

    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, p, 64 * MIB), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(HeapSize(h, 0, p), 100);
    CHECK_EQ(bad(p, 100, 3), 0);
    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY | HEAP_ZERO_MEMORY, p, 64 * MIB), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(bad(p, 100, 3), 0);

    q = HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, p, 0);
    CHECK_EQ(q, p);
    CHECK_EQ(HeapSize(h, 0, p), 0);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);

    char *big = HeapAlloc(h, 0, 4 * MIB);              /* a large block */
    CHECK(big != NULL);
    fill(big, 4 * MIB, 4);
    q = HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, big, 2 * MIB + 5);
    CHECK_EQ(q, big);
    CHECK_EQ(HeapSize(h, 0, big), 2 * MIB + 5);
    CHECK_EQ(bad(big, 2 * MIB + 5, 4), 0);
    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, big, 64 * MIB), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(HeapSize(h, 0, big), 2 * MIB + 5);
    CHECK_EQ(bad(big, 2 * MIB + 5, 4), 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapFree(h, 0, big), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H20: size 0 keeps a valid, freeable block; it can grow again. */
static void test_size_zero(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    char *p = HeapAlloc(h, 0, 100);
    p = HeapReAlloc(h, 0, p, 0);
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(h, 0, p), 0);
    CHECK_EQ(HeapValidate(h, 0, p), TRUE);
    p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 10);
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(h, 0, p), 10);
    CHECK_EQ(count_not(p, 10, 0), 0);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);

    char *big = HeapAlloc(h, 0, 2 * MIB);
    big = HeapReAlloc(h, 0, big, 0);
    CHECK(big != NULL);
    CHECK_EQ(HeapSize(h, 0, big), 0);
    CHECK_EQ(HeapFree(h, 0, big), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H21: a refused size leaves the block as it was. */
static void test_failure(void)
{
    static const SIZE_T huge[] = { ~(SIZE_T)0, ~(SIZE_T)0 - 7, (SIZE_T)1 << 63 };
    HANDLE h = HeapCreate(0, 0, 0);
    char *p = HeapAlloc(h, 0, 300), *big = HeapAlloc(h, 0, 2 * MIB);
    int i;
    fill(p, 300, 5);
    fill(big, 2 * MIB, 6);
    for (i = 0; i < 3; i++) {
        SetLastError(0xdead);
        CHECK_EQ(HeapReAlloc(h, 0, p, huge[i]), NULL);
        CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
        SetLastError(0xdead);
        CHECK_EQ(HeapReAlloc(h, HEAP_ZERO_MEMORY, big, huge[i]), NULL);
        CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    }
    CHECK_EQ(HeapSize(h, 0, p), 300);
    CHECK_EQ(bad(p, 300, 5), 0);
    CHECK_EQ(HeapSize(h, 0, big), 2 * MIB);
    CHECK_EQ(bad(big, 2 * MIB, 6), 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);

    /* A fixed-size heap refuses to grow a block past its maximum. */
    h = HeapCreate(0, 0, 0x10000);
    p = HeapAlloc(h, 0, 1000);
    fill(p, 1000, 7);
    SetLastError(0xdead);
    CHECK_EQ(HeapReAlloc(h, 0, p, 0x20000), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(HeapSize(h, 0, p), 1000);
    CHECK_EQ(bad(p, 1000, 7), 0);
    p = HeapReAlloc(h, 0, p, 20000);                   /* what fits still works */
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(h, 0, p), 20000);
    CHECK_EQ(bad(p, 1000, 7), 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

int main(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    test_null();
    test_chain(h);
    test_chain(GetProcessHeap());
    test_zero();
    test_in_place();
    test_size_zero();
    test_failure();
    CHECK_EQ(HeapDestroy(h), TRUE);
    return cf_finish();
}
