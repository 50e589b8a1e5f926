/*
 * heap_alloc.c — heap lifetime and HeapAlloc (reference H1-H15, H39):
 * the process heap and the heap list, HeapCreate's options and HeapDestroy,
 * HeapSize's exact answer for every size class, alignment, size 0,
 * HEAP_ZERO_MEMORY over recycled memory, sizes that cannot be served,
 * fixed-size heaps up to exhaustion, and large blocks (64 MiB) in growable
 * heaps, released by HeapFree and by HeapDestroy.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Not pinned: the order of GetProcessHeaps' entries after the first (H2),
 * what HeapCreate commits up front (Wine commits more than asked), how
 * many blocks a fixed heap holds beyond "their sizes fit in its maximum",
 * the large-block threshold, and where heap handles sit (H4).
 */
#include "conformance.h"

#define ALIGN (2 * sizeof(void *))       /* MEMORY_ALLOCATION_ALIGNMENT (H7) */
#define MIB ((SIZE_T)1 << 20)

static DWORD state_of(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0, sizeof m);
    VirtualQuery(p, &m, sizeof m);
    return m.State;
}

static DWORD protect_of(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0, sizeof m);
    VirtualQuery(p, &m, sizeof m);
    return m.Protect;
}

/* How many times h is in the process's heap list; the list's length in *n. */
static int listed(HANDLE h, DWORD *n)
{
    static HANDLE heaps[256];
    DWORD i;
    int k = 0;
    *n = GetProcessHeaps(256, heaps);
    for (i = 0; i < *n && i < 256; i++)
        k += heaps[i] == h;
    return k;
}

/* H1-H3, H6. */
static void test_process_heap(void)
{
    HANDLE ph = GetProcessHeap(), heaps[256], one[1];
    DWORD n, m;
    CHECK(ph != NULL);
    CHECK_EQ(GetProcessHeap(), ph);
    n = GetProcessHeaps(0, NULL);
    CHECK(n >= 1 && n <= 256);
    CHECK_EQ(GetProcessHeaps(256, heaps), n);
    CHECK_EQ(heaps[0], ph);                            /* entry 0 (H2) */

    HANDLE h = HeapCreate(0, 0, 0);
    CHECK(h != NULL && h != ph);
    CHECK_EQ(listed(h, &m), 1);                        /* H3 */
    CHECK_EQ(m, n + 1);
    one[0] = (HANDLE)0x1234;
    CHECK_EQ(GetProcessHeaps(1, one), n + 1);          /* too small: count only */
    CHECK_EQ(one[0], 0x1234);
    CHECK_EQ(HeapDestroy(h), TRUE);
    CHECK_EQ(listed(h, &m), 0);
    CHECK_EQ(m, n);

    SetLastError(0xdead);
    CHECK_EQ(HeapDestroy(ph), FALSE);                  /* H6 */
    CHECK_ERR(ERROR_INVALID_HANDLE);
    char *p = HeapAlloc(ph, HEAP_ZERO_MEMORY, 300);
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(ph, 0, p), 300);
    CHECK_EQ(count_not(p, 300, 0), 0);
    CHECK_EQ(HeapFree(ph, 0, p), TRUE);
    CHECK_EQ(HeapValidate(ph, 0, NULL), TRUE);
    CHECK_EQ(GetProcessHeap(), ph);
}

/* H4, H5: options and sizes HeapCreate accepts; what HeapDestroy releases. */
static void test_create_destroy(void)
{
    HANDLE a = HeapCreate(0, 12345, 0);                /* unaligned sizes */
    HANDLE b = HeapCreate(HEAP_NO_SERIALIZE, 5000, 100001);
    CHECK(a != NULL && b != NULL);
    char *small = HeapAlloc(a, 0, 100), *large = HeapAlloc(a, 0, 4 * MIB);
    char *other = HeapAlloc(b, 0, 1000);
    CHECK(small && large && other);
    memset(other, 0x3C, 1000);
    CHECK_EQ(state_of(small), MEM_COMMIT);
    CHECK_EQ(state_of(large), MEM_COMMIT);
    CHECK_EQ(protect_of(small), PAGE_READWRITE);      /* never executable (H4) */
    CHECK_EQ(protect_of(large), PAGE_READWRITE);

    CHECK_EQ(HeapDestroy(a), TRUE);                    /* no HeapFree needed */
    CHECK_EQ(state_of(small), MEM_FREE);
    CHECK_EQ(state_of(large), MEM_FREE);
    CHECK_EQ(HeapSize(b, 0, other), 1000);             /* other heaps untouched */
    CHECK_EQ(count_not(other, 1000, 0x3C), 0);
    CHECK_EQ(HeapValidate(b, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(b), TRUE);
    CHECK_EQ(state_of(other), MEM_FREE);

    HANDLE x = HeapCreate(HEAP_CREATE_ENABLE_EXECUTE, 0, 0);
    CHECK(x != NULL);
    char *xs = HeapAlloc(x, 0, 64), *xl = HeapAlloc(x, 0, 4 * MIB);
    CHECK(xs && xl);
    CHECK_EQ(protect_of(xs), PAGE_EXECUTE_READWRITE);
    CHECK_EQ(protect_of(xl), PAGE_EXECUTE_READWRITE);
    CHECK_EQ(HeapDestroy(x), TRUE);
}

/* H7-H9: every size class and the large path, exact HeapSize, aligned. */
static void test_sizes(void)
{
    static const SIZE_T sizes[] = {
        0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 100, 255, 256, 1000, 1024, 4095,
        4096, 10000, 65535, 65536, 100000, 0x7FFF0, 0xFDFFF, 0xFE000, MIB + 1, 3 * MIB,
    };
    enum { N = sizeof sizes / sizeof sizes[0] };
    char *p[N];
    HANDLE h = HeapCreate(0, 0, 0);
    int i, misaligned = 0, freed = 0;
    for (i = 0; i < N; i++) {
        p[i] = HeapAlloc(h, 0, sizes[i]);
        CHECK(p[i] != NULL);
        if (!p[i]) continue;
        misaligned += ((ULONG_PTR)p[i] & (ALIGN - 1)) != 0;
        memset(p[i], 0x77, sizes[i]);                  /* all of it is writable */
        CHECK_EQ(HeapSize(h, 0, p[i]), sizes[i]);
    }
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    for (i = 0; i < N; i++)
        freed += p[i] && HeapFree(h, 0, p[i]);
    CHECK_EQ(freed, N);

    /* Size 0: a unique, valid block each time (H8). */
    char *z1 = HeapAlloc(h, 0, 0), *z2 = HeapAlloc(h, 0, 0);
    CHECK(z1 != NULL && z2 != NULL && z1 != z2);
    CHECK_EQ(HeapSize(h, 0, z1), 0);
    CHECK_EQ(HeapSize(h, 0, z2), 0);
    CHECK_EQ(HeapValidate(h, 0, z1), TRUE);
    CHECK_EQ(HeapFree(h, 0, z1), TRUE);
    CHECK_EQ(HeapFree(h, 0, z2), TRUE);

    /* Sizes of every class, many at once: every block aligned. */
    static char *many[600];
    misaligned = 0;
    for (i = 0; i < 600; i++) {
        many[i] = HeapAlloc(h, 0, (SIZE_T)(i * 7 % 300));
        misaligned += !many[i] || ((ULONG_PTR)many[i] & (ALIGN - 1)) != 0;
    }
    CHECK_EQ(misaligned, 0);
    for (i = 0, freed = 0; i < 600; i++)
        freed += HeapFree(h, 0, many[i]) != 0;
    CHECK_EQ(freed, 600);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H10, H11: zeroing covers recycled memory; per-call flags are accepted. */
static void test_zero_memory(void)
{
    static const SIZE_T sizes[] = { 24, 200, 3000, 70000, 2 * MIB };
    HANDLE h = HeapCreate(0, 0, 0);
    int i, j;
    for (i = 0; i < 5; i++) {
        char *dirty[4], *q;
        for (j = 0; j < 4; j++) {
            dirty[j] = HeapAlloc(h, 0, sizes[i]);
            memset(dirty[j], 0xAA, sizes[i]);
        }
        for (j = 0; j < 4; j++)
            HeapFree(h, 0, dirty[j]);
        q = HeapAlloc(h, HEAP_ZERO_MEMORY, sizes[i]);
        CHECK(q != NULL);
        CHECK_EQ(count_not(q, sizes[i], 0), 0);
        HeapFree(h, 0, q);
    }
    char *p = HeapAlloc(h, HEAP_NO_SERIALIZE | HEAP_ZERO_MEMORY, 100);
    CHECK(p != NULL);
    CHECK_EQ(count_not(p, 100, 0), 0);
    CHECK_EQ(HeapSize(h, HEAP_NO_SERIALIZE, p), 100);
    CHECK_EQ(HeapFree(h, HEAP_NO_SERIALIZE, p), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H12: sizes that cannot be served fail cleanly, on every kind of heap. */
static void test_huge(void)
{
    static const SIZE_T sizes[] = {
        ~(SIZE_T)0, ~(SIZE_T)0 - 7, ~(SIZE_T)0 - 0xFFFF, (SIZE_T)1 << 63,
    };
    HANDLE heaps[3];
    int i, k;
    heaps[0] = GetProcessHeap();
    heaps[1] = HeapCreate(0, 0, 0);
    heaps[2] = HeapCreate(0, 0, 0x100000);
    for (k = 0; k < 3; k++)
        for (i = 0; i < 4; i++) {
            SetLastError(0xdead);
            CHECK_EQ(HeapAlloc(heaps[k], k == 1 ? HEAP_ZERO_MEMORY : 0, sizes[i]), NULL);
            CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
        }
    for (k = 0; k < 3; k++)
        CHECK_EQ(HeapValidate(heaps[k], 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(heaps[1]), TRUE);
    CHECK_EQ(HeapDestroy(heaps[2]), TRUE);
}

/* H15: a fixed-size heap counts its headers and refuses what does not fit. */
static void test_fixed(void)
{
    static char *blocks[1024];
    HANDLE h = HeapCreate(0, 0, 0x10000);
    int n = 0;
    CHECK(h != NULL);
    SetLastError(0xdead);
    while (n < 1024 && (blocks[n] = HeapAlloc(h, 0, 256)) != NULL)
        n++;
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK(n > 0 && n < 1024);
    CHECK_EQ(n * 256 <= 0x10000, 1);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapFree(h, 0, blocks[n / 2]), TRUE);
    blocks[n / 2] = HeapAlloc(h, 0, 256);              /* room again after a free */
    CHECK(blocks[n / 2] != NULL);
    CHECK_EQ(HeapSize(h, 0, blocks[n / 2]), 256);
    SetLastError(0xdead);
    CHECK_EQ(HeapAlloc(h, 0, 0x20000), NULL);          /* bigger than the heap */
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(HeapDestroy(h), TRUE);

    h = HeapCreate(0, 0, 0x10000);
    SetLastError(0xdead);
    CHECK_EQ(HeapAlloc(h, 0, 0x20000), NULL);          /* even when empty */
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(HeapDestroy(h), TRUE);

    /* No large-block fallback: 256 KiB fits in 4 MiB, 2 MiB does not. */
    h = HeapCreate(0, 0, 4 * MIB);
    char *q = HeapAlloc(h, 0, 256 << 10);
    CHECK(q != NULL);
    CHECK_EQ(HeapSize(h, 0, q), 256 << 10);
    SetLastError(0xdead);
    CHECK_EQ(HeapAlloc(h, 0, 2 * MIB), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(HeapFree(h, 0, q), TRUE);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H14: 64 MiB blocks in growable heaps, zeroed on request, given back. */
static void test_large(void)
{
    const SIZE_T big = 64 * MIB;
    HANDLE h = HeapCreate(0, 0, 0);
    char *p = HeapAlloc(h, 0, big);
    CHECK(p != NULL);
    CHECK_EQ((ULONG_PTR)p & (ALIGN - 1), 0);
    CHECK_EQ(HeapSize(h, 0, p), big);
    p[0] = 1;
    p[big - 1] = 2;
    CHECK_EQ(HeapValidate(h, 0, p), TRUE);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);
    CHECK_EQ(state_of(p), MEM_FREE);                   /* back to the system */

    p = HeapAlloc(h, HEAP_ZERO_MEMORY, big);
    CHECK(p != NULL);
    CHECK_EQ(count_not(p, big, 0), 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);

    p = HeapAlloc(GetProcessHeap(), 0, big);          /* the process heap too */
    CHECK(p != NULL);
    CHECK_EQ(HeapSize(GetProcessHeap(), 0, p), big);
    p[big - 1] = 3;
    CHECK_EQ(HeapFree(GetProcessHeap(), 0, p), TRUE);
}

int main(void)
{
    test_process_heap();
    test_create_destroy();
    test_sizes();
    test_zero_memory();
    test_huge();
    test_fixed();
    test_large();
    /* H39: process-wide and irreversible, so last, and in this file, which
     * hands no heap a bad pointer. */
    SetLastError(0xdead);
    CHECK_EQ(HeapSetInformation(NULL, HeapEnableTerminationOnCorruption, NULL, 0), TRUE);
    CHECK_ERR(0xdead);
    return cf_finish();
}
