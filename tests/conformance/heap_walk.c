/*
 * heap_walk.c — looking at a heap (reference H26-H40): HeapWalk's sequence
 * (a REGION first, each live block once BUSY with its requested size, freed
 * blocks no longer busy, the end at ERROR_NO_MORE_ITEMS, the same entries
 * on a restart), HeapValidate on whole heaps and single blocks (never
 * touching the last error, FALSE for pointers that are not blocks of that
 * heap and after a block header is overwritten), HeapCompact, HeapLock
 * nesting, and HeapCompatibilityInformation.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Wine's HeapSetInformation accepts every value and its query keeps
 * reporting 0; what Windows does instead (H38, H40, as Wine's own tests
 * record it) is WINDOWS_ONLY.  Not pinned: HeapCompact's return value (Wine's
 * is a stub), entries other than the first REGION and the busy blocks
 * (free blocks, uncommitted ranges, cbOverhead, iRegionIndex), and where
 * the REGION entry points.
 */
#include "conformance.h"

#define MIB ((SIZE_T)1 << 20)
#define MAXE 1024

static PROCESS_HEAP_ENTRY walked[MAXE], again[MAXE];
static DWORD walk_error;

/* Walk h from the start into out; the number of entries (at most MAXE). */
static int walk(HANDLE h, PROCESS_HEAP_ENTRY *out)
{
    PROCESS_HEAP_ENTRY e;
    int n = 0;
    memset(&e, 0xcd, sizeof e);
    e.lpData = NULL;
    SetLastError(0xdead);
    while (HeapWalk(h, &e))
        if (n < MAXE) out[n++] = e;
    walk_error = GetLastError();
    return n;
}

/* How many entries of out[0, n) are busy blocks at p; the last one's size. */
static int busy_at(const PROCESS_HEAP_ENTRY *out, int n, const void *p, DWORD *size)
{
    int i, k = 0;
    for (i = 0; i < n; i++)
        if ((out[i].wFlags & PROCESS_HEAP_ENTRY_BUSY) && out[i].lpData == p) {
            k++;
            *size = out[i].cbData;
        }
    return k;
}

static int busy_total(const PROCESS_HEAP_ENTRY *out, int n)
{
    int i, k = 0;
    for (i = 0; i < n; i++)
        k += (out[i].wFlags & PROCESS_HEAP_ENTRY_BUSY) != 0;
    return k;
}

/* H30-H33, H35. */
static void test_walk(DWORD options)
{
    static const SIZE_T sizes[] = { 10, 100, 1000, 70000, 2 * MIB, 0 };
    enum { N = sizeof sizes / sizeof sizes[0] };
    HANDLE h = HeapCreate(options, 0, 0);
    void *p[N];
    DWORD size;
    int i, n, m, differ = 0;
    for (i = 0; i < N; i++)
        p[i] = HeapAlloc(h, 0, sizes[i]);

    n = walk(h, walked);
    CHECK_EQ(walk_error, ERROR_NO_MORE_ITEMS);
    CHECK(n >= N + 1 && n < MAXE);
    CHECK_EQ(walked[0].wFlags & PROCESS_HEAP_REGION, PROCESS_HEAP_REGION);
    for (i = 0; i < N; i++) {
        size = 0xdead;
        CHECK_EQ(busy_at(walked, n, p[i], &size), 1);
        CHECK_EQ(size, sizes[i]);
    }
    CHECK_EQ(busy_total(walked, n), N);

    m = walk(h, again);                                /* a restart: the same */
    CHECK_EQ(walk_error, ERROR_NO_MORE_ITEMS);
    CHECK_EQ(m, n);
    for (i = 0; i < n && i < m; i++)
        differ += walked[i].lpData != again[i].lpData || walked[i].cbData != again[i].cbData ||
                  walked[i].wFlags != again[i].wFlags;
    CHECK_EQ(differ, 0);

    CHECK_EQ(HeapFree(h, 0, p[1]), TRUE);
    CHECK_EQ(HeapFree(h, 0, p[4]), TRUE);
    n = walk(h, walked);
    CHECK_EQ(walk_error, ERROR_NO_MORE_ITEMS);
    CHECK_EQ(busy_at(walked, n, p[1], &size), 0);
    CHECK_EQ(busy_at(walked, n, p[4], &size), 0);
    CHECK_EQ(busy_at(walked, n, p[3], &size), 1);
    CHECK_EQ(size, 70000);
    CHECK_EQ(busy_total(walked, n), N - 2);

    p[1] = HeapReAlloc(h, 0, p[0], 5000);              /* the new size shows */
    n = walk(h, walked);
    CHECK_EQ(busy_at(walked, n, p[1], &size), 1);
    CHECK_EQ(size, 5000);
    CHECK_EQ(busy_total(walked, n), N - 2);

    HeapFree(h, 0, p[1]);
    HeapFree(h, 0, p[2]);
    HeapFree(h, 0, p[3]);
    HeapFree(h, 0, p[5]);
    n = walk(h, walked);
    CHECK_EQ(walk_error, ERROR_NO_MORE_ITEMS);
    CHECK_EQ(walked[0].wFlags & PROCESS_HEAP_REGION, PROCESS_HEAP_REGION);
    CHECK_EQ(busy_total(walked, n), 0);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H33: many blocks of a few sizes (sizes that Windows' low-fragmentation
 * front end takes over after ~18 allocations): each listed once, busy,
 * with its size, until freed. */
static void test_walk_many(void)
{
    static char *p[300];
    HANDLE h = HeapCreate(0, 0, 0);
    DWORD size;
    int i, n, wrong = 0;
    for (i = 0; i < 300; i++)
        p[i] = HeapAlloc(h, 0, (SIZE_T)(40 + 960 * (i % 3 == 0)));
    n = walk(h, walked);
    CHECK_EQ(walk_error, ERROR_NO_MORE_ITEMS);
    for (i = 0; i < 300; i++)
        wrong += busy_at(walked, n, p[i], &size) != 1 || size != 40 + 960 * (i % 3 == 0);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(busy_total(walked, n), 300);

    for (i = 0; i < 300; i += 2)
        HeapFree(h, 0, p[i]);
    n = walk(h, walked);
    CHECK_EQ(walk_error, ERROR_NO_MORE_ITEMS);
    for (i = 0, wrong = 0; i < 300; i++)
        wrong += busy_at(walked, n, p[i], &size) != (i & 1);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(busy_total(walked, n), 150);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapValidate(h, 0, p[1]), TRUE);
    CHECK_EQ(HeapValidate(h, 0, p[2]), FALSE);        /* freed */
    CHECK_EQ(HeapValidate(h, 0, p[1] + 16), FALSE);   /* interior */
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* The process heap, walked under its lock (H35). */
static void test_walk_process_heap(void)
{
    HANDLE ph = GetProcessHeap();
    char *p = HeapAlloc(ph, 0, 777);
    static PROCESS_HEAP_ENTRY e;
    DWORD size = 0;
    int k = 0;
    CHECK_EQ(HeapLock(ph), TRUE);
    memset(&e, 0, sizeof e);
    SetLastError(0xdead);
    CHECK_EQ(HeapWalk(ph, &e), TRUE);
    CHECK_EQ(e.wFlags & PROCESS_HEAP_REGION, PROCESS_HEAP_REGION);
    do
        if ((e.wFlags & PROCESS_HEAP_ENTRY_BUSY) && e.lpData == p) {
            k++;
            size = e.cbData;
        }
    while (HeapWalk(ph, &e));
    CHECK_EQ(GetLastError(), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(HeapUnlock(ph), TRUE);
    CHECK_EQ(k, 1);
    CHECK_EQ(size, 777);
    CHECK_EQ(HeapFree(ph, 0, p), TRUE);
}

#define VALID(h, p, want) do {                                               \
        SetLastError(0xdead);                                               \
        CHECK_EQ(!!HeapValidate((h), 0, (p)), (want));                      \
        CHECK_ERR(0xdead);                                                  \
    } while (0)

/* H26-H28. */
static void test_validate(void)
{
    static char outside[64];
    HANDLE h = HeapCreate(0, 0, 0), g = HeapCreate(0, 0, 0);
    char *a = HeapAlloc(h, 0, 100), *b = HeapAlloc(h, 0, 200);
    char *big = HeapAlloc(h, 0, 2 * MIB), *x = HeapAlloc(g, 0, 100);
    VALID(h, NULL, 1);
    VALID(h, a, 1);
    VALID(h, big, 1);
    VALID(g, x, 1);
    VALID(h, a + 16, 0);                               /* interior */
    VALID(h, big + 4096, 0);
    VALID(h, outside + 16, 0);                         /* static data */
    VALID(h, x, 0);                                    /* another heap's */
    VALID(g, a, 0);
    CHECK_EQ(HeapFree(h, 0, b), TRUE);
    VALID(h, b, 0);                                    /* freed */
    VALID(h, NULL, 1);
    VALID(GetProcessHeap(), NULL, 1);
    VALID(GetProcessHeap(), a, 0);
    CHECK_EQ(HeapDestroy(h), TRUE);
    CHECK_EQ(HeapDestroy(g), TRUE);
}

/* H29: an overflow of one block into its neighbour's header is found.
 * The heap is made for this alone and left alone afterwards: what
 * HeapDestroy does with a corrupted heap is not anyone's contract. */
static void test_corruption(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    char *a = HeapAlloc(h, 0, 32), *b = HeapAlloc(h, 0, 32);
    int i, n = walk(h, walked), ia = -1;
    for (i = 0; i + 1 < n; i++)
        if (walked[i].lpData == a) ia = i;
    /* b is a's next block, just above it: the bytes between are a's slack
     * and b's header. */
    CHECK(ia >= 0);
    CHECK_EQ(ia >= 0 && walked[ia + 1].lpData == b, 1);
    CHECK_EQ(b > a && b - a <= 32 + 64, 1);
    VALID(h, NULL, 1);
    VALID(h, b, 1);
    if (ia < 0 || b <= a || b - a > 32 + 64) return;
    memset(a, 0x5A, (SIZE_T)(b - a));
    VALID(h, NULL, 0);
    VALID(h, b, 0);
}

/* H36: live blocks survive compaction; the heap stays valid. */
static void test_compact(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    static char *p[40];
    int i, bad = 0;
    for (i = 0; i < 40; i++) {
        SIZE_T n = (SIZE_T)(i * 997 % 20000) + (i % 7 == 0 ? MIB : 0);
        p[i] = HeapAlloc(h, 0, n);
        memset(p[i], i, n);
    }
    for (i = 0; i < 40; i += 2)
        HeapFree(h, 0, p[i]);
    HeapCompact(h, 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    for (i = 1; i < 40; i += 2) {
        SIZE_T n = (SIZE_T)(i * 997 % 20000) + (i % 7 == 0 ? MIB : 0);
        bad += HeapSize(h, 0, p[i]) != n || count_not(p[i], n, (char)i) != 0;
    }
    CHECK_EQ(bad, 0);
    char *q = HeapAlloc(h, HEAP_ZERO_MEMORY, 30000);  /* still serves */
    CHECK(q != NULL);
    CHECK_EQ(count_not(q, 30000, 0), 0);
    HeapCompact(GetProcessHeap(), 0);
    CHECK_EQ(HeapValidate(GetProcessHeap(), 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H37: the lock is recursive for its owner. */
static void test_lock(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    CHECK_EQ(HeapLock(h), TRUE);
    CHECK_EQ(HeapLock(h), TRUE);
    char *p = HeapAlloc(h, 0, 64);
    CHECK(p != NULL);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);
    CHECK_EQ(HeapUnlock(h), TRUE);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapUnlock(h), TRUE);
    CHECK_EQ(HeapLock(GetProcessHeap()), TRUE);
    CHECK_EQ(HeapUnlock(GetProcessHeap()), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H38, H40. */
static void test_information(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    ULONG v[2];
    SIZE_T ret;

#define QUERY(heap, buf, len, ok, err) do {                                  \
        v[0] = v[1] = 0xcccc;                                               \
        ret = 99;                                                           \
        SetLastError(0xdead);                                               \
        CHECK_EQ(HeapQueryInformation((heap), HeapCompatibilityInformation,  \
                                      (buf), (len), &ret), (ok));           \
        CHECK_ERR(err);                                                     \
    } while (0)
    QUERY(h, v, sizeof(ULONG), TRUE, 0xdead);          /* a new heap: standard */
    CHECK_EQ(v[0], 0);
    CHECK_EQ(ret, 4);
    QUERY(h, v, sizeof v, TRUE, 0xdead);               /* larger buffer */
    CHECK_EQ(v[0], 0);
    CHECK_EQ(v[1], 0xcccc);
    CHECK_EQ(ret, 4);
    QUERY(h, v, 2, FALSE, ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(v[0], 0xcccc);
    CHECK_EQ(ret, 4);
    QUERY(h, NULL, 0, FALSE, ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(ret, 4);
    v[0] = 0xcccc;
    CHECK_EQ(HeapQueryInformation(h, HeapCompatibilityInformation, v, 4, NULL), TRUE);
    CHECK_EQ(v[0], 0);
    WINDOWS_ONLY {                                     /* H40: heap NULL */
        QUERY(NULL, v, sizeof(ULONG), FALSE, ERROR_NOACCESS);
    }

    v[0] = 2;                                          /* H38: LFH on */
    SetLastError(0xdead);
    CHECK_EQ(HeapSetInformation(h, HeapCompatibilityInformation, v, sizeof(ULONG)), TRUE);
    CHECK_ERR(0xdead);
    WINDOWS_ONLY {                                     /* H38, H40: Wine keeps 0, accepts all */
        QUERY(h, v, sizeof(ULONG), TRUE, 0xdead);
        CHECK_EQ(v[0], 2);
        v[0] = 0;
        SetLastError(0xdead);
        CHECK_EQ(HeapSetInformation(h, HeapCompatibilityInformation, v, sizeof(ULONG)), FALSE);
        CHECK_ERR(ERROR_GEN_FAILURE);
        v[0] = 1;
        SetLastError(0xdead);
        CHECK_EQ(HeapSetInformation(h, HeapCompatibilityInformation, v, sizeof(ULONG)), FALSE);
        CHECK_ERR(ERROR_GEN_FAILURE);
    }
    char *p = HeapAlloc(h, 0, 48);                     /* still a working heap */
    CHECK_EQ(HeapSize(h, 0, p), 48);
    CHECK_EQ(HeapFree(h, 0, p), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);

    h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
    QUERY(h, v, sizeof(ULONG), TRUE, 0xdead);
    CHECK_EQ(v[0], 0);
    /* H38: no LFH without the lock; the error is Windows' as Wine's own
     * kernel32 heap test records it. */
    WINDOWS_ONLY {
        v[0] = 2;
        SetLastError(0xdead);
        CHECK_EQ(HeapSetInformation(h, HeapCompatibilityInformation, v, sizeof(ULONG)), FALSE);
        CHECK_ERR(ERROR_INVALID_PARAMETER);
        QUERY(h, v, sizeof(ULONG), TRUE, 0xdead);
        CHECK_EQ(v[0], 0);
    }
    CHECK_EQ(HeapDestroy(h), TRUE);
#undef QUERY
}

int main(void)
{
    CHECK_EQ(sizeof(PROCESS_HEAP_ENTRY), sizeof(void *) == 8 ? 40 : 28);   /* H30 */
    test_walk(0);
    test_walk(HEAP_NO_SERIALIZE);
    test_walk_many();
    test_walk_process_heap();
    test_validate();
    test_compact();
    test_lock();
    test_information();
    test_corruption();
    return cf_finish();
}
