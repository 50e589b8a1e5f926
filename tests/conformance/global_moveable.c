/*
 * global_moveable.c — moveable Global/Local handles (reference G1, G5-G9,
 * G11-G13): a handle is not its data pointer and GlobalHandle maps the one
 * to the other; the handle table holds 0x10000 handles for Global* and
 * Local* together; the lock count in GlobalFlags' low byte saturates at 255
 * and GlobalUnlock's three outcomes (non-zero, FALSE with NO_ERROR, FALSE
 * with ERROR_NOT_LOCKED); GMEM_DISCARDABLE and GMEM_DISCARDED in the flags;
 * blocks of size 0 are born discarded; GlobalReAlloc keeps the handle and
 * the bytes, zeroes growth under GMEM_ZEROINIT, discards at size 0 and
 * revives a discarded handle in place; GlobalDiscard refuses locked blocks;
 * freed and bogus handles fail with ERROR_INVALID_HANDLE.  Fixed blocks are
 * pinned in global_alloc.c.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * GlobalUnlock of a freed or bogus handle returns TRUE on Windows and FALSE
 * on Wine (G12 [W≠D]); both set ERROR_INVALID_HANDLE, so only the return
 * value is WINDOWS_ONLY.  Not pinned: where handles live (≡ 8 mod 16 on
 * x64; only that a handle is never a heap block is), GlobalSize of a
 * moveable block beyond "at least the size asked for" (G13), whether a
 * reallocated block moves, GlobalReAlloc of a locked block or of size 0
 * without GMEM_MOVEABLE, the last error of GlobalDiscard on a locked block,
 * and GlobalHandle given a handle instead of a pointer.
 */
#include "conformance.h"

#define TABLE_SIZE 0x10000
#define BOGUS ((HGLOBAL)(ULONG_PTR)0xdeadbee8)    /* handle-shaped, in no table */

/* Global* when local is 0, else its Local* twin. */
static HGLOBAL alloc(int local, UINT flags, SIZE_T n)
{
    return local ? LocalAlloc(flags, n) : GlobalAlloc(flags, n);
}

static char *lock(int local, HGLOBAL h)
{
    return local ? LocalLock(h) : GlobalLock(h);
}

static BOOL unlock(int local, HGLOBAL h)
{
    return local ? LocalUnlock(h) : GlobalUnlock(h);
}

static UINT flags_of(int local, HGLOBAL h)
{
    return local ? LocalFlags(h) : GlobalFlags(h);
}

static HGLOBAL release(int local, HGLOBAL h)
{
    return local ? LocalFree(h) : GlobalFree(h);
}

/* G5: the table holds 0x10000 handles, Global's and Local's together; fixed
 * blocks need no entry.  Run first, while the process holds no handle. */
static void test_handle_table(void)
{
    static HGLOBAL h[TABLE_SIZE + 1];
    int n = 0, i, freed = 0;
    while (n < TABLE_SIZE + 1 && (h[n] = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE, 0)))
        n++;
    CHECK_EQ(n, TABLE_SIZE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalAlloc(GMEM_MOVEABLE, 16), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalAlloc(LMEM_MOVEABLE | LMEM_DISCARDABLE, 0), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    HGLOBAL f = GlobalAlloc(GMEM_FIXED, 16);
    CHECK(f != NULL);
    CHECK_EQ(GlobalFree(f), NULL);

    CHECK_EQ(GlobalFree(h[n / 2]), NULL);              /* one slot back */
    h[n / 2] = LocalAlloc(LMEM_MOVEABLE, 16);
    CHECK(h[n / 2] != NULL);
    for (i = 0; i < n; i++)
        freed += GlobalFree(h[i]) == NULL;
    CHECK_EQ(freed, n);
}

/* G5, G13, G1: a moveable handle and its data. */
static void test_moveable(int local)
{
    HGLOBAL h = alloc(local, GMEM_MOVEABLE, 100);
    CHECK(h != NULL);
    CHECK_EQ(HeapValidate(GetProcessHeap(), 0, h), FALSE);   /* never a block */
    CHECK_EQ(flags_of(local, h), 0);
    CHECK(GlobalSize(h) >= 100);                       /* G13 */
    CHECK_EQ(LocalSize(h), GlobalSize(h));             /* G1: one implementation */
    char *d = lock(local, h);
    CHECK(d != NULL && d != (char *)h);
    CHECK_EQ((ULONG_PTR)d % 16, 0);
    CHECK_EQ(local ? LocalHandle(d) : GlobalHandle(d), h);
    cf_fill(d, 100, 1);
    CHECK_EQ(lock(local, h), d);
    CHECK_EQ(unlock(local, h), TRUE);
    CHECK_EQ(unlock(local, h), FALSE);
    d = lock(local, h);
    CHECK_EQ(cf_bad(d, 100, 1), 0);
    CHECK_EQ(release(local, h), NULL);                 /* freed although locked */

    /* GHND / LHND: moveable and zeroed. */
    h = alloc(local, GHND, 70000);
    CHECK(h != NULL);
    d = lock(local, h);
    CHECK(d != NULL && d != (char *)h);
    CHECK_EQ(count_not(d, 70000, 0), 0);
    CHECK_EQ(release(local, h), NULL);
}

/* G6: the lock count, its saturation and the three outcomes of unlocking. */
static void test_lock_count(int local)
{
    HGLOBAL h = alloc(local, GMEM_MOVEABLE, 64);
    int i, same = 0, nonzero = 0;
    char *d = lock(local, h);
    CHECK(d != NULL);
    CHECK_EQ(flags_of(local, h), 1);
    CHECK_EQ(lock(local, h), d);
    CHECK_EQ(flags_of(local, h), 2);
    CHECK(unlock(local, h) != FALSE);                  /* 2 -> 1 */
    CHECK_EQ(flags_of(local, h), 1);
    SetLastError(0xdeadbeef);
    CHECK_EQ(unlock(local, h), FALSE);                 /* 1 -> 0 */
    CHECK_ERR(NO_ERROR);
    CHECK_EQ(flags_of(local, h), 0);
    SetLastError(0xdeadbeef);
    CHECK_EQ(unlock(local, h), FALSE);                 /* not locked */
    CHECK_ERR(ERROR_NOT_LOCKED);
    CHECK_EQ(flags_of(local, h), 0);

    for (i = 0; i < 300; i++)
        same += lock(local, h) == d;
    CHECK_EQ(same, 300);
    CHECK_EQ(flags_of(local, h), GMEM_LOCKCOUNT);      /* saturated at 255 */
    for (i = 0; i < 254; i++)
        nonzero += unlock(local, h) != FALSE;
    CHECK_EQ(nonzero, 254);
    CHECK_EQ(flags_of(local, h), 1);
    SetLastError(0xdeadbeef);
    CHECK_EQ(unlock(local, h), FALSE);
    CHECK_ERR(NO_ERROR);
    CHECK_EQ(flags_of(local, h), 0);
    CHECK_EQ(release(local, h), NULL);
}

/* G7, G1: GlobalFlags = lock count | GMEM_DISCARDABLE | GMEM_DISCARDED |
 * GMEM_DDESHARE; LocalFlags reports LMEM_DISCARDABLE for the same bit. */
static void test_flags(void)
{
    HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE, 10);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDABLE);
    GlobalLock(h);
    GlobalLock(h);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDABLE | 2);
    GlobalUnlock(h);
    GlobalUnlock(h);
    CHECK_EQ(GlobalDiscard(h), h);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDABLE | GMEM_DISCARDED);
    CHECK_EQ(GlobalFree(h), NULL);

    h = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE | GMEM_DDESHARE, 10);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDABLE | GMEM_DDESHARE);
    GlobalLock(h);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDABLE | GMEM_DDESHARE | 1);
    CHECK_EQ(GlobalFree(h), NULL);

    h = LocalAlloc(LMEM_MOVEABLE | LMEM_DISCARDABLE, 10);
    CHECK_EQ(LocalFlags(h), LMEM_DISCARDABLE);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDABLE);
    LocalLock(h);
    CHECK_EQ(LocalFlags(h), LMEM_DISCARDABLE | 1);
    CHECK_EQ(LocalFree(h), NULL);
}

/* G8: a moveable block of size 0 is born discarded. */
static void test_born_discarded(int local)
{
    UINT discardable = local ? LMEM_DISCARDABLE : GMEM_DISCARDABLE;
    HGLOBAL h = alloc(local, GMEM_MOVEABLE, 0);
    CHECK(h != NULL);
    CHECK_EQ(flags_of(local, h), GMEM_DISCARDED);
    CHECK_EQ(local ? LocalSize(h) : GlobalSize(h), 0);
    SetLastError(0xdeadbeef);
    CHECK_EQ(lock(local, h), NULL);
    CHECK_ERR(ERROR_DISCARDED);
    CHECK_EQ(flags_of(local, h), GMEM_DISCARDED);      /* the failed lock counted nothing */
    SetLastError(0xdeadbeef);
    CHECK_EQ(unlock(local, h), FALSE);
    CHECK_ERR(ERROR_NOT_LOCKED);
    CHECK_EQ(release(local, h), NULL);

    h = alloc(local, GMEM_MOVEABLE | GMEM_ZEROINIT | discardable, 0);
    CHECK(h != NULL);
    CHECK_EQ(flags_of(local, h), GMEM_DISCARDED | discardable);
    SetLastError(0xdeadbeef);
    CHECK_EQ(lock(local, h), NULL);
    CHECK_ERR(ERROR_DISCARDED);
    CHECK_EQ(release(local, h), NULL);
}

/* G9, G11: resizing, discarding and reviving a moveable block. */
static void test_realloc(void)
{
    HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE, 100);
    char *d = GlobalLock(h);
    cf_fill(d, 100, 2);
    GlobalUnlock(h);

    CHECK_EQ(GlobalReAlloc(h, 100000, GMEM_MOVEABLE), h);   /* may move, same handle */
    CHECK(GlobalSize(h) >= 100000);
    d = GlobalLock(h);
    CHECK(d != NULL);
    CHECK_EQ((ULONG_PTR)d % 16, 0);
    CHECK_EQ(GlobalHandle(d), h);
    CHECK_EQ(cf_bad(d, 100, 2), 0);
    GlobalUnlock(h);

    CHECK_EQ(GlobalReAlloc(h, 200000, GMEM_MOVEABLE | GMEM_ZEROINIT), h);
    CHECK(GlobalSize(h) >= 200000);
    d = GlobalLock(h);
    CHECK_EQ(cf_bad(d, 100, 2), 0);
    CHECK_EQ(count_not(d + 100000, 100000, 0), 0);     /* the growth */
    GlobalUnlock(h);

    CHECK_EQ(GlobalReAlloc(h, 50, GMEM_MOVEABLE), h);
    CHECK(GlobalSize(h) >= 50);
    d = GlobalLock(h);
    CHECK_EQ(cf_bad(d, 50, 2), 0);

    /* G11: locked, it cannot be discarded. */
    CHECK_EQ(GlobalDiscard(h), NULL);
    CHECK_EQ(GlobalFlags(h), 1);
    CHECK_EQ(GlobalLock(h), d);
    CHECK_EQ(cf_bad(d, 50, 2), 0);
    GlobalUnlock(h);
    GlobalUnlock(h);

    /* Size 0 discards: the handle stays, the data goes. */
    CHECK_EQ(GlobalReAlloc(h, 0, GMEM_MOVEABLE), h);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDED);
    CHECK_EQ(GlobalSize(h), 0);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalLock(h), NULL);
    CHECK_ERR(ERROR_DISCARDED);

    /* Revived in place; ZEROINIT zeroes it all, since it grows from 0. */
    CHECK_EQ(GlobalReAlloc(h, 30, GMEM_MOVEABLE | GMEM_ZEROINIT), h);
    CHECK_EQ(GlobalFlags(h), 0);
    CHECK(GlobalSize(h) >= 30);
    d = GlobalLock(h);
    CHECK(d != NULL && d != (char *)h);
    CHECK_EQ(GlobalHandle(d), h);
    CHECK_EQ(count_not(d, 30, 0), 0);
    GlobalUnlock(h);

    /* G11: GlobalDiscard of an unlocked block, twice. */
    CHECK_EQ(GlobalDiscard(h), h);
    CHECK_EQ(GlobalFlags(h), GMEM_DISCARDED);
    CHECK_EQ(GlobalSize(h), 0);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalLock(h), NULL);
    CHECK_ERR(ERROR_DISCARDED);
    CHECK_EQ(GlobalDiscard(h), h);
    CHECK_EQ(GlobalFree(h), NULL);                     /* a discarded handle frees */
}

/* G9, G11 through Local*. */
static void test_local_realloc(void)
{
    HLOCAL h = LocalAlloc(LMEM_MOVEABLE, 100);
    char *d = LocalLock(h);
    cf_fill(d, 100, 3);
    LocalUnlock(h);

    CHECK_EQ(LocalReAlloc(h, 100000, LMEM_MOVEABLE | LMEM_ZEROINIT), h);
    CHECK(LocalSize(h) >= 100000);
    d = LocalLock(h);
    CHECK_EQ(LocalHandle(d), h);
    CHECK_EQ(cf_bad(d, 100, 3), 0);
    CHECK_EQ(count_not(d + 100, 100000 - 100, 0), 0);
    LocalUnlock(h);

    CHECK_EQ(LocalDiscard(h), h);
    CHECK_EQ(LocalFlags(h), LMEM_DISCARDED);
    CHECK_EQ(LocalSize(h), 0);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalLock(h), NULL);
    CHECK_ERR(ERROR_DISCARDED);

    CHECK_EQ(LocalReAlloc(h, 20, LMEM_MOVEABLE), h);
    CHECK_EQ(LocalFlags(h), 0);
    CHECK(LocalSize(h) >= 20);
    d = LocalLock(h);
    CHECK(d != NULL);
    CHECK_EQ(LocalHandle(d), h);
    CHECK_EQ(LocalFree(h), NULL);
}

/* G12, G7: freed handles. */
static void test_freed_handle(void)
{
    HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE, 256);
    BOOL ok;
    CHECK_EQ(GlobalFree(h), NULL);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalFree(h), h);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalFlags(h), GMEM_INVALID_HANDLE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalSize(h), 0);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalLock(h), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    ok = GlobalUnlock(h);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    WINDOWS_ONLY {                                     /* G12: Wine returns FALSE */
        CHECK_EQ(ok, TRUE);
    }
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalDiscard(h), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);

    h = LocalAlloc(LMEM_MOVEABLE, 256);
    CHECK_EQ(LocalFree(h), NULL);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalFree(h), h);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalFlags(h), LMEM_INVALID_HANDLE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalSize(h), 0);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalLock(h), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalUnlock(h), FALSE);                   /* unlike GlobalUnlock */
    CHECK_ERR(ERROR_INVALID_HANDLE);
}

/* G12, G7: a handle-shaped value that was never allocated. */
static void test_bogus_handle(void)
{
    BOOL ok;
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalFree(BOGUS), BOGUS);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalFlags(BOGUS), GMEM_INVALID_HANDLE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalSize(BOGUS), 0);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalLock(BOGUS), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    ok = GlobalUnlock(BOGUS);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    WINDOWS_ONLY {                                     /* G12: Wine returns FALSE */
        CHECK_EQ(ok, TRUE);
    }
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalReAlloc(BOGUS, 0, GMEM_MOVEABLE), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);

    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalFree(BOGUS), BOGUS);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalFlags(BOGUS), LMEM_INVALID_HANDLE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalUnlock(BOGUS), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalReAlloc(BOGUS, 0, LMEM_MOVEABLE), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);
}

int main(void)
{
    test_handle_table();
    test_moveable(0);
    test_moveable(1);
    test_lock_count(0);
    test_lock_count(1);
    test_flags();
    test_born_discarded(0);
    test_born_discarded(1);
    test_realloc();
    test_local_realloc();
    test_freed_handle();
    test_bogus_handle();
    return cf_finish();
}
