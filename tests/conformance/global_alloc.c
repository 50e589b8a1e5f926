/*
 * global_alloc.c — GlobalAlloc/LocalAlloc constants and fixed blocks
 * (reference G1-G4, G9, G10, G14): the GMEM_* and LMEM_* values; a fixed
 * block is its own handle, a 16-aligned process-heap block of exactly the
 * size asked for (but GlobalAlloc(GMEM_FIXED, 0) has size 1, LocalAlloc's
 * 0); unlocking one is TRUE for Global* and FALSE with ERROR_NOT_LOCKED for
 * Local*; reallocating a fixed block with GMEM_MOVEABLE keeps it fixed,
 * GMEM_MODIFY ignores the size and turns it into a moveable handle for
 * Global* only; impossible sizes fail with ERROR_NOT_ENOUGH_MEMORY and leave
 * the block alone.  Moveable handles are pinned in global_moveable.c.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Windows 10 1703+ refuses to reallocate a fixed block with flags 0 even at
 * its own size, where Wine 8 succeeds in place (G9 [W≠D]): WINDOWS_ONLY.
 * Not pinned: whether GMEM_MOVEABLE moves a fixed block (Windows does, Wine
 * need not), the last error of calls that succeed, GlobalFree of a freed
 * fixed block (it crashes 64-bit Windows).
 */
#include "conformance.h"

#define HUGE_SIZE ((SIZE_T)-1 / 2)

/* G1. */
static void test_constants(void)
{
    CHECK_EQ(GMEM_FIXED, 0);
    CHECK_EQ(GMEM_MOVEABLE, 0x2);
    CHECK_EQ(GMEM_NOCOMPACT, 0x10);
    CHECK_EQ(GMEM_NODISCARD, 0x20);
    CHECK_EQ(GMEM_ZEROINIT, 0x40);
    CHECK_EQ(GMEM_MODIFY, 0x80);
    CHECK_EQ(GMEM_DISCARDABLE, 0x100);
    CHECK_EQ(GMEM_NOT_BANKED, 0x1000);
    CHECK_EQ(GMEM_LOWER, 0x1000);
    CHECK_EQ(GMEM_DDESHARE, 0x2000);
    CHECK_EQ(GMEM_SHARE, 0x2000);
    CHECK_EQ(GMEM_NOTIFY, 0x4000);
    CHECK_EQ(GMEM_VALID_FLAGS, 0x7F72);
    CHECK_EQ(GHND, 0x42);
    CHECK_EQ(GPTR, 0x40);
    CHECK_EQ(GMEM_DISCARDED, 0x4000);
    CHECK_EQ(GMEM_LOCKCOUNT, 0xFF);
    CHECK_EQ(GMEM_INVALID_HANDLE, 0x8000);

    CHECK_EQ(LMEM_FIXED, 0);
    CHECK_EQ(LMEM_MOVEABLE, 0x2);
    CHECK_EQ(LMEM_NOCOMPACT, 0x10);
    CHECK_EQ(LMEM_NODISCARD, 0x20);
    CHECK_EQ(LMEM_ZEROINIT, 0x40);
    CHECK_EQ(LMEM_MODIFY, 0x80);
    CHECK_EQ(LMEM_DISCARDABLE, 0xF00);
    CHECK_EQ(LMEM_VALID_FLAGS, 0xF72);
    CHECK_EQ(LHND, 0x42);
    CHECK_EQ(LPTR, 0x40);
    CHECK_EQ(LMEM_DISCARDED, 0x4000);
    CHECK_EQ(LMEM_LOCKCOUNT, 0xFF);
    CHECK_EQ(LMEM_INVALID_HANDLE, 0x8000);
}

/* G2, G4: a fixed block is its own handle and a process-heap block. */
static void test_fixed(void)
{
    HANDLE ph = GetProcessHeap();
    char *g = GlobalAlloc(GMEM_FIXED, 100);
    CHECK(g != NULL);
    CHECK_EQ((ULONG_PTR)g % 16, 0);
    cf_fill(g, 100, 1);
    CHECK_EQ(GlobalLock(g), g);
    CHECK_EQ(GlobalFlags(g), 0);                       /* no lock count kept */
    CHECK_EQ(GlobalHandle(g), g);
    CHECK_EQ(GlobalSize(g), 100);
    CHECK_EQ(HeapSize(ph, 0, g), 100);
    CHECK_EQ(HeapValidate(ph, 0, g), TRUE);
    CHECK_EQ(GlobalUnlock(g), TRUE);                   /* G4, however often */
    CHECK_EQ(GlobalUnlock(g), TRUE);
    CHECK_EQ(GlobalFlags(g), 0);
    CHECK_EQ(cf_bad(g, 100, 1), 0);
    CHECK_EQ(GlobalFree(g), NULL);

    char *l = LocalAlloc(LMEM_FIXED, 200);
    CHECK(l != NULL);
    CHECK_EQ((ULONG_PTR)l % 16, 0);
    cf_fill(l, 200, 2);
    CHECK_EQ(LocalLock(l), l);
    CHECK_EQ(LocalFlags(l), 0);
    CHECK_EQ(LocalHandle(l), l);
    CHECK_EQ(LocalSize(l), 200);
    CHECK_EQ(HeapSize(ph, 0, l), 200);
    CHECK_EQ(HeapValidate(ph, 0, l), TRUE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalUnlock(l), FALSE);                   /* G4: unlike GlobalUnlock */
    CHECK_ERR(ERROR_NOT_LOCKED);
    CHECK_EQ(cf_bad(l, 200, 2), 0);
    CHECK_EQ(LocalFree(l), NULL);
}

/* G2: GPTR and LPTR are fixed and zeroed, at every size class. */
static void test_fixed_zeroed(void)
{
    static const SIZE_T sizes[] = { 1, 24, 1000, 70000, 3 << 20 };
    int i, wrong = 0;
    for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
        char *g = GlobalAlloc(GPTR, sizes[i]);
        char *l = LocalAlloc(LPTR, sizes[i]);
        wrong += g == NULL || (ULONG_PTR)g % 16 != 0 || GlobalLock(g) != g;
        wrong += GlobalSize(g) != sizes[i] || count_not(g, sizes[i], 0) != 0;
        wrong += l == NULL || (ULONG_PTR)l % 16 != 0 || LocalLock(l) != l;
        wrong += LocalSize(l) != sizes[i] || count_not(l, sizes[i], 0) != 0;
        wrong += GlobalFree(g) != NULL || LocalFree(l) != NULL;
    }
    CHECK_EQ(wrong, 0);
}

/* G3: size 0. */
static void test_fixed_size0(void)
{
    HANDLE ph = GetProcessHeap();
    HGLOBAL g = GlobalAlloc(GMEM_FIXED, 0);
    CHECK(g != NULL);
    CHECK_EQ(GlobalSize(g), 1);
    CHECK_EQ(HeapSize(ph, 0, g), 1);
    CHECK_EQ(GlobalLock(g), g);
    CHECK_EQ(GlobalFree(g), NULL);

    HLOCAL l = LocalAlloc(LMEM_FIXED, 0);
    CHECK(l != NULL);
    CHECK_EQ(LocalSize(l), 0);
    CHECK_EQ(HeapSize(ph, 0, l), 0);
    CHECK_EQ(LocalLock(l), l);
    CHECK_EQ(LocalFree(l), NULL);
}

/* G9, G10: resizing a fixed block (Global* when local is 0, else Local*). */
static void test_fixed_realloc(int local)
{
    HANDLE ph = GetProcessHeap();
    char *p = local ? LocalAlloc(LMEM_FIXED, 10) : GlobalAlloc(GMEM_FIXED, 10), *r;
    CHECK(p != NULL);
    cf_fill(p, 10, 3);

    SetLastError(0xdeadbeef);
    r = local ? LocalReAlloc(p, 10, 0) : GlobalReAlloc(p, 10, 0);
    WINDOWS_ONLY {           /* G9: Windows 10 1703+ refuses; Wine 8 succeeds in place */
        CHECK_EQ(r, NULL);
        CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    }
    if (r)
        p = r;
    CHECK_EQ(HeapSize(ph, 0, p), 10);                 /* either way, untouched */
    CHECK_EQ(cf_bad(p, 10, 3), 0);

    /* G10: GMEM_MODIFY alone ignores the size. */
    CHECK_EQ(local ? LocalReAlloc(p, 9, LMEM_MODIFY) : GlobalReAlloc(p, 9, GMEM_MODIFY), p);
    CHECK_EQ(local ? LocalReAlloc(p, 1 << 20, LMEM_MODIFY)
                   : GlobalReAlloc(p, 1 << 20, GMEM_MODIFY), p);
    CHECK_EQ(HeapSize(ph, 0, p), 10);
    CHECK_EQ(cf_bad(p, 10, 3), 0);

    /* G9: with GMEM_MOVEABLE it may move and stays fixed; ZEROINIT zeroes the growth. */
    r = local ? LocalReAlloc(p, 5000, LMEM_MOVEABLE | LMEM_ZEROINIT)
              : GlobalReAlloc(p, 5000, GMEM_MOVEABLE | GMEM_ZEROINIT);
    CHECK(r != NULL);
    CHECK_EQ((ULONG_PTR)r % 16, 0);
    CHECK_EQ(local ? LocalLock(r) : GlobalLock(r), r);
    CHECK_EQ(local ? LocalFlags(r) : GlobalFlags(r), 0);
    CHECK_EQ(local ? LocalHandle(r) : GlobalHandle(r), r);
    CHECK_EQ(local ? LocalSize(r) : GlobalSize(r), 5000);
    CHECK_EQ(HeapSize(ph, 0, r), 5000);
    CHECK_EQ(cf_bad(r, 10, 3), 0);
    CHECK_EQ(count_not(r + 10, 4990, 0), 0);

    p = local ? LocalReAlloc(r, 4, LMEM_MOVEABLE) : GlobalReAlloc(r, 4, GMEM_MOVEABLE);
    CHECK(p != NULL);
    CHECK_EQ(local ? LocalSize(p) : GlobalSize(p), 4);
    CHECK_EQ(cf_bad(p, 4, 3), 0);
    CHECK_EQ(local ? LocalFree(p) : GlobalFree(p), NULL);
}

/* G10: GMEM_MODIFY | GMEM_MOVEABLE turns a fixed block into a moveable
 * handle with the same size and bytes; LMEM_MODIFY | LMEM_MOVEABLE leaves a
 * fixed block fixed. */
static void test_modify_moveable(void)
{
    char *p = GlobalAlloc(GMEM_FIXED, 300), *d;
    CHECK(p != NULL);
    cf_fill(p, 300, 4);
    HGLOBAL h = GlobalReAlloc(p, 0, GMEM_MODIFY | GMEM_MOVEABLE);
    CHECK(h != NULL && h != (HGLOBAL)p);
    CHECK_EQ(GlobalSize(h), 300);
    CHECK_EQ(GlobalFlags(h), 0);
    d = GlobalLock(h);
    CHECK(d != NULL && d != (char *)h);
    CHECK_EQ((ULONG_PTR)d % 16, 0);
    CHECK_EQ(cf_bad(d, 300, 4), 0);
    CHECK_EQ(GlobalHandle(d), h);
    CHECK_EQ(GlobalFlags(h), 1);                       /* now counts locks */
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalUnlock(h), FALSE);
    CHECK_ERR(NO_ERROR);
    CHECK_EQ(GlobalFree(h), NULL);

    char *l = LocalAlloc(LMEM_FIXED, 300);
    CHECK(l != NULL);
    cf_fill(l, 300, 5);
    CHECK_EQ(LocalReAlloc(l, 0, LMEM_MODIFY | LMEM_MOVEABLE), l);
    CHECK_EQ(LocalSize(l), 300);
    CHECK_EQ(LocalFlags(l), 0);
    CHECK_EQ(LocalLock(l), l);
    CHECK_EQ(LocalHandle(l), l);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalUnlock(l), FALSE);                   /* still fixed (G4) */
    CHECK_ERR(ERROR_NOT_LOCKED);
    CHECK_EQ(cf_bad(l, 300, 5), 0);
    CHECK_EQ(LocalFree(l), NULL);
}

/* G14: sizes that cannot be served. */
static void test_alloc_failure(void)
{
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalAlloc(GMEM_MOVEABLE, HUGE_SIZE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalAlloc(GMEM_FIXED, HUGE_SIZE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalAlloc(GPTR, ~(SIZE_T)0), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalAlloc(LMEM_MOVEABLE, HUGE_SIZE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalAlloc(LMEM_FIXED, HUGE_SIZE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
}

/* G14: a failed GlobalReAlloc leaves the block as it was. */
static void test_realloc_failure(void)
{
    char *p = GlobalAlloc(GMEM_FIXED, 40), *d;
    HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE, 40);
    CHECK(p != NULL && h != NULL);
    cf_fill(p, 40, 6);
    d = GlobalLock(h);
    cf_fill(d, 40, 7);
    CHECK_EQ(GlobalUnlock(h), FALSE);

    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalReAlloc(p, HUGE_SIZE, GMEM_MOVEABLE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(GlobalSize(p), 40);
    CHECK_EQ(cf_bad(p, 40, 6), 0);

    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalReAlloc(h, HUGE_SIZE, GMEM_MOVEABLE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK(GlobalSize(h) >= 40);
    CHECK_EQ(GlobalFlags(h), 0);
    d = GlobalLock(h);
    CHECK(d != NULL);
    CHECK_EQ(cf_bad(d, 40, 7), 0);
    CHECK_EQ(GlobalUnlock(h), FALSE);

    SetLastError(0xdeadbeef);
    CHECK_EQ(LocalReAlloc(h, HUGE_SIZE, LMEM_MOVEABLE), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK(LocalSize(h) >= 40);

    CHECK_EQ(GlobalFree(p), NULL);
    CHECK_EQ(GlobalFree(h), NULL);
}

/* G9, G12: NULL handles. */
static void test_null_handle(void)
{
    CHECK_EQ(GlobalReAlloc(NULL, 10, GMEM_MOVEABLE), NULL);
    CHECK_EQ(GlobalReAlloc(NULL, 10, 0), NULL);
    CHECK_EQ(LocalReAlloc(NULL, 10, LMEM_MOVEABLE), NULL);
    CHECK_EQ(GlobalFree(NULL), NULL);
    CHECK_EQ(LocalFree(NULL), NULL);
}

int main(void)
{
    test_constants();
    test_fixed();
    test_fixed_zeroed();
    test_fixed_size0();
    test_fixed_realloc(0);
    test_fixed_realloc(1);
    test_modify_moveable();
    test_alloc_failure();
    test_realloc_failure();
    test_null_handle();
    return cf_finish();
}
