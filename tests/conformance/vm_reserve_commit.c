/*
 * vm_reserve_commit.c — conformance of VirtualAlloc: the argument checks
 * (vm.md V2), reservation rounding, overlap, MEM_TOP_DOWN and the allocation
 * protection (V3), commit rounding and its failures (V4), committing pages
 * that are already committed (V5) and MEM_RESET (V6).  Addresses are always
 * derived from an earlier VirtualAlloc (reserve, release, reuse the base).
 * Everything reserved is released again, so the file doubles as a leak check.
 */
#include "conformance.h"
#include <stdint.h>

enum { PG = 0x1000, GRAN = 0x10000 };


/* VirtualAlloc must fail with NULL and last error err.  Should it wrongly
 * succeed with a NULL address, the new allocation is released again. */
#define CHECK_ALLOC_FAILS(addr, size, type, prot, err) do {                   \
        void *p_;                                                             \
        SetLastError(0xdeadbeef);                                             \
        p_ = VirtualAlloc((addr), (size), (type), (prot));                    \
        CHECK_EQ(p_, NULL);                                                   \
        CHECK_ERR(err);                                                       \
        if (p_ && !(addr)) VirtualFree(p_, 0, MEM_RELEASE);                   \
    } while (0)

static void test_argument_checks(void)
{
    char *r = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    void *p;
    CHECK(r != NULL);
    if (!r) return;

    /* V2.1 size 0 */
    CHECK_ALLOC_FAILS(NULL, 0, MEM_RESERVE, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, 0, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, ERROR_INVALID_PARAMETER);

    /* V2.2 allocation type 0 or an undefined bit */
    CHECK_ALLOC_FAILS(NULL, PG, 0, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE | 0x40000000, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE | 0x10, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE | MEM_RELEASE, PAGE_READWRITE, ERROR_INVALID_PARAMETER);

    /* V2.3 protection 0, two base protections, no base protection */
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, 0, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE | MEM_COMMIT, 0, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_READWRITE | PAGE_READONLY, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_READONLY | PAGE_EXECUTE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_NOCACHE, ERROR_INVALID_PARAMETER);
    /* V2.3: an undefined protection bit.  Wine 8 accepts it (and ignores it). */
    WINDOWS_ONLY {
        CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_READWRITE | 0x100000, ERROR_INVALID_PARAMETER);
    }

    /* V2.4 copy-on-write protections on private memory */
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_WRITECOPY, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_WRITECOPY, ERROR_INVALID_PARAMETER);

    /* V2.5 MEM_WRITE_WATCH without MEM_RESERVE.  Wine 8 accepts it (newer Wine,
     * ReactOS and the documentation reject it). */
    WINDOWS_ONLY {
        CHECK_ALLOC_FAILS(r, PG, MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    }

    /* V2.6 MEM_LARGE_PAGES without both MEM_RESERVE and MEM_COMMIT */
    CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE | MEM_LARGE_PAGES, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(NULL, PG, MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE, ERROR_INVALID_PARAMETER);

    /* V2.7 MEM_RESET / MEM_RESET_UNDO with another type bit */
    CHECK_ALLOC_FAILS(r, PG, MEM_RESET | MEM_RESET_UNDO, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS(r, PG, MEM_RESET_UNDO | MEM_COMMIT, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    /* V2.7 [W≠D]: Wine accepts MEM_RESET with MEM_COMMIT or MEM_RESERVE. */
    WINDOWS_ONLY {
        CHECK_ALLOC_FAILS(r, PG, MEM_RESET | MEM_COMMIT, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
        CHECK_ALLOC_FAILS(r, PG, MEM_RESET | MEM_RESERVE, PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    }

    /* V2.8 an address above lpMaximumApplicationAddress (0x7FFFFFFEFFFF) */
    CHECK_ALLOC_FAILS((void *)(ULONG_PTR)0x800000000000ULL, PG, MEM_RESERVE, PAGE_READWRITE,
                      ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS((void *)(ULONG_PTR)0x800000000000ULL, PG, MEM_RESERVE | MEM_COMMIT,
                      PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_ALLOC_FAILS((void *)(ULONG_PTR)0x7FFFFFFF0000ULL, PG, MEM_RESERVE, PAGE_READWRITE,
                      ERROR_INVALID_PARAMETER);

    /* V2.9 PAGE_NOCACHE is a modifier, reported back in both protections */
    p = VirtualAlloc(NULL, 0x2000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE);
    CHECK(p != NULL);
    if (p) {
        CHECK_MBI(p, p, p, 0x204, 0x2000, MEM_COMMIT, 0x204, MEM_PRIVATE);
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    }
    /* V2.9 PAGE_WRITECOMBINE is accepted; Wine drops the modifier from both
     * protections (reports 4), Windows reports it back like PAGE_NOCACHE. */
    p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_WRITECOMBINE);
    CHECK(p != NULL);
    if (p) {
        MEMORY_BASIC_INFORMATION m;
        CHECK_EQ(VirtualQuery(p, &m, sizeof m), sizeof m);
        CHECK_EQ(m.Protect & 0xFF, PAGE_READWRITE);
        WINDOWS_ONLY {
            CHECK_EQ(m.AllocationProtect, 0x404);
            CHECK_EQ(m.Protect, 0x404);
        }
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    }
    /* V2.9 [W≠D]: the docs forbid NOCACHE with WRITECOMBINE, either of them
     * with GUARD, and GUARD with NOACCESS; Wine accepts all four. */
    WINDOWS_ONLY {
        CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_READWRITE | PAGE_NOCACHE | PAGE_WRITECOMBINE,
                          ERROR_INVALID_PARAMETER);
        CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_NOACCESS | PAGE_GUARD, ERROR_INVALID_PARAMETER);
        CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_READWRITE | PAGE_NOCACHE | PAGE_GUARD,
                          ERROR_INVALID_PARAMETER);
        CHECK_ALLOC_FAILS(NULL, PG, MEM_RESERVE, PAGE_READWRITE | PAGE_WRITECOMBINE | PAGE_GUARD,
                          ERROR_INVALID_PARAMETER);
    }

    /* The failed calls above left r alone. */
    CHECK_MBI(r, r, r, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);
}

static void test_reserve_rounding(void)
{
    char *a, *b, *c, *p;

    /* V3.1 NULL: 64 KiB-aligned base, size rounded up to whole pages */
    p = VirtualAlloc(NULL, 0xFFFC, MEM_RESERVE, PAGE_READWRITE);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ((ULONG_PTR)p % GRAN, 0);
        CHECK_MBI(p, p, p, PAGE_READWRITE, 0x10000, MEM_RESERVE, 0, MEM_PRIVATE);
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    }
    p = VirtualAlloc(NULL, 0x1001, MEM_RESERVE, PAGE_READWRITE);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ((ULONG_PTR)p % GRAN, 0);
        CHECK_MBI(p + 0x1abc, p + 0x1000, p, PAGE_READWRITE, 0x1000, MEM_RESERVE, 0, MEM_PRIVATE);
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    }

    /* V3.2 base rounded down to 64 KiB, size measured from that base */
    a = free_range(0x30000);
    CHECK(a != NULL);
    if (!a) return;
    b = VirtualAlloc(a + 0x11234, 0x1000, MEM_RESERVE, PAGE_READWRITE);
    CHECK_EQ(b, a + 0x10000);
    CHECK_MBI(a + 0x10000, a + 0x10000, a + 0x10000, PAGE_READWRITE, 0x3000, MEM_RESERVE, 0,
              MEM_PRIVATE);
    p = VirtualAlloc(a + 0xFFF, 2, MEM_RESERVE, PAGE_EXECUTE_READ);
    CHECK_EQ(p, a);
    CHECK_MBI(a, a, a, PAGE_EXECUTE_READ, 0x2000, MEM_RESERVE, 0, MEM_PRIVATE);
    c = VirtualAlloc(a + 0x20000, GRAN, MEM_RESERVE, PAGE_READWRITE);
    CHECK_EQ(c, a + 0x20000);

    /* V3.4 the unused tail of b's granule is free and belongs to nobody */
    CHECK_MBI(a + 0x13000, a + 0x13000, NULL, 0, 0xD000, MEM_FREE, PAGE_NOACCESS, 0);
    CHECK_MBI(a + 0x1F123, a + 0x1F000, NULL, 0, 0x1000, MEM_FREE, PAGE_NOACCESS, 0);
    CHECK_ALLOC_FAILS(a + 0x13000, 0x1000, MEM_RESERVE, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
    CHECK_ALLOC_FAILS(a + 0x18000, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                      ERROR_INVALID_ADDRESS);

    /* V3.3 reserving over an existing allocation, fully or in part */
    CHECK_ALLOC_FAILS(b, 0x1000, MEM_RESERVE, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
    CHECK_ALLOC_FAILS(c + 0x8000, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
                      ERROR_INVALID_ADDRESS);
    CHECK_ALLOC_FAILS(b + 0x3000, 0x10000, MEM_RESERVE, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    CHECK_ALLOC_FAILS(a, 0x20000, MEM_RESERVE, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
    /* ... and the failures reserved nothing */
    CHECK_MBI(a, a, NULL, 0, 0x10000, MEM_FREE, PAGE_NOACCESS, 0);
    CHECK_MBI(c, c, c, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    CHECK_EQ(VirtualFree(b, 0, MEM_RELEASE), TRUE);
    CHECK_EQ(VirtualFree(c, 0, MEM_RELEASE), TRUE);
}

static void test_top_down(void)
{
    /* V3.5 MEM_TOP_DOWN allocates above ordinary bottom-up allocations */
    char *up = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    char *top = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    char *top2 = VirtualAlloc(NULL, 0x1800, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN,
                              PAGE_READONLY);
    CHECK(up != NULL && top != NULL && top2 != NULL);
    if (up && top) {
        CHECK((ULONG_PTR)top > (ULONG_PTR)up);
        CHECK_EQ((ULONG_PTR)top % GRAN, 0);
        CHECK((ULONG_PTR)top + GRAN - 1 <= 0x7FFFFFFEFFFFULL);
        CHECK_MBI(top, top, top, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);
    }
    if (up && top2) {
        CHECK((ULONG_PTR)top2 > (ULONG_PTR)up);
        CHECK_EQ((ULONG_PTR)top2 % GRAN, 0);
        CHECK_MBI(top2, top2, top2, PAGE_READONLY, 0x2000, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);
    }
    if (up) CHECK_EQ(VirtualFree(up, 0, MEM_RELEASE), TRUE);
    if (top) CHECK_EQ(VirtualFree(top, 0, MEM_RELEASE), TRUE);
    if (top2) CHECK_EQ(VirtualFree(top2, 0, MEM_RELEASE), TRUE);
}

static void test_allocation_protect(void)
{
    DWORD old = 0;
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READONLY);
    CHECK(p != NULL);
    if (!p) return;

    /* V3.6 AllocationProtect stays what the reservation was given */
    CHECK_EQ(VirtualAlloc(p + 0x3000, PG, MEM_COMMIT, PAGE_READWRITE), p + 0x3000);
    CHECK_MBI(p + 0x3000, p + 0x3000, p, PAGE_READONLY, PG, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_EQ(VirtualProtect(p + 0x3000, PG, PAGE_EXECUTE_READ, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK_MBI(p + 0x3000, p + 0x3000, p, PAGE_READONLY, PG, MEM_COMMIT, PAGE_EXECUTE_READ,
              MEM_PRIVATE);
    CHECK_EQ(VirtualFree(p + 0x3000, PG, MEM_DECOMMIT), TRUE);
    {
        MEMORY_BASIC_INFORMATION m;
        CHECK_EQ(VirtualQuery(p + 0x3000, &m, sizeof m), sizeof m);
        CHECK_EQ(m.AllocationProtect, PAGE_READONLY);
        CHECK_EQ(m.State, MEM_RESERVE);
        CHECK_EQ(m.Protect, 0);
    }
    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);

    /* V3.6 including modifiers (the guard page is never touched) */
    p = VirtualAlloc(NULL, 0x2000, MEM_RESERVE, PAGE_READWRITE | PAGE_GUARD);
    CHECK(p != NULL);
    if (p) {
        CHECK_MBI(p, p, p, 0x104, 0x2000, MEM_RESERVE, 0, MEM_PRIVATE);
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    }
    p = VirtualAlloc(NULL, 0x2000, MEM_RESERVE, PAGE_EXECUTE_READWRITE | PAGE_NOCACHE);
    CHECK(p != NULL);
    if (p) {
        CHECK_MBI(p, p, p, 0x240, 0x2000, MEM_RESERVE, 0, MEM_PRIVATE);
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    }
}

static void test_commit(void)
{
    char *r = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    char *p, *q, *a;
    CHECK(r != NULL);
    if (!r) return;

    /* V4.1 commit rounds to pages only and returns the rounded base */
    CHECK_EQ(VirtualAlloc(r + 0x1234, 0x10, MEM_COMMIT, PAGE_READWRITE), r + 0x1000);
    CHECK_MBI(r, r, r, PAGE_READWRITE, 0x1000, MEM_RESERVE, 0, MEM_PRIVATE);
    CHECK_MBI(r + 0x1000, r + 0x1000, r, PAGE_READWRITE, 0x1000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_EQ(VirtualAlloc(r + 0x2FFF, 2, MEM_COMMIT, PAGE_READWRITE), r + 0x2000);
    CHECK_MBI(r + 0x1000, r + 0x1000, r, PAGE_READWRITE, 0x3000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_MBI(r + 0x4000, r + 0x4000, r, PAGE_READWRITE, 0xC000, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V4.3 freshly committed pages read as zero */
    CHECK_EQ(count_not(r + 0x1000, 0x3000, 0), 0);

    /* V4.2 a commit running past the end of the reservation commits nothing */
    CHECK_ALLOC_FAILS(r + 0xF000, 0x2000, MEM_COMMIT, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
    CHECK_MBI(r + 0x4000, r + 0x4000, r, PAGE_READWRITE, 0xC000, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V4.2 MEM_COMMIT with NULL reserves and commits in one go */
    p = VirtualAlloc(NULL, 0x1800, MEM_COMMIT, PAGE_READWRITE);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ((ULONG_PTR)p % GRAN, 0);
        CHECK_MBI(p, p, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
        CHECK_EQ(count_not(p, 0x2000, 0), 0);
        p[0x1FFF] = 1;
        CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
        /* V4.2 MEM_COMMIT alone never reserves: p is free now */
        CHECK_ALLOC_FAILS(p, PG, MEM_COMMIT, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
        q = VirtualAlloc(p, PG, MEM_RESERVE, PAGE_READWRITE);
        CHECK_EQ(q, p);
        if (q) CHECK_EQ(VirtualFree(q, 0, MEM_RELEASE), TRUE);
    }

    /* V4.4 a commit may not span two allocations */
    a = free_range(0x20000);
    CHECK(a != NULL);
    if (a) {
        CHECK_EQ(VirtualAlloc(a, GRAN, MEM_RESERVE, PAGE_READWRITE), a);
        CHECK_EQ(VirtualAlloc(a + GRAN, GRAN, MEM_RESERVE, PAGE_READWRITE), a + GRAN);
        CHECK_ALLOC_FAILS(a + 0xF000, 0x2000, MEM_COMMIT, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
        CHECK_MBI(a + 0xF000, a + 0xF000, a, PAGE_READWRITE, 0x1000, MEM_RESERVE, 0, MEM_PRIVATE);
        CHECK_MBI(a + GRAN, a + GRAN, a + GRAN, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);
        CHECK_EQ(VirtualFree(a, 0, MEM_RELEASE), TRUE);
        CHECK_EQ(VirtualFree(a + GRAN, 0, MEM_RELEASE), TRUE);
    }

    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);
}

static void test_recommit(void)
{
    char *r = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    CHECK(r != NULL);
    if (!r) return;

    /* V5.1 re-commit keeps the contents and applies the new protection */
    CHECK_EQ(VirtualAlloc(r + 0x5000, PG, MEM_COMMIT, PAGE_READWRITE), r + 0x5000);
    r[0x5000] = 0x5A;
    r[0x5FFF] = 0x6B;
    CHECK_EQ(VirtualAlloc(r + 0x5010, 1, MEM_COMMIT, PAGE_READONLY), r + 0x5000);
    CHECK_EQ(r[0x5000], 0x5A);
    CHECK_EQ(r[0x5FFF], 0x6B);
    CHECK_MBI(r + 0x5000, r + 0x5000, r, PAGE_READWRITE, PG, MEM_COMMIT, PAGE_READONLY,
              MEM_PRIVATE);

    /* V5.1 over a committed and a reserved page: the whole range changes */
    CHECK_EQ(VirtualAlloc(r + 0x6000, PG, MEM_COMMIT, PAGE_READWRITE), r + 0x6000);
    r[0x6000] = 0x7C;
    CHECK_EQ(VirtualAlloc(r + 0x6000, 0x2000, MEM_COMMIT, PAGE_READONLY), r + 0x6000);
    CHECK_EQ(r[0x6000], 0x7C);
    CHECK_EQ(r[0x7000], 0);
    CHECK_MBI(r + 0x5000, r + 0x5000, r, PAGE_READWRITE, 0x3000, MEM_COMMIT, PAGE_READONLY,
              MEM_PRIVATE);

    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);
}

static void test_reset(void)
{
    char *r = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    char *m = VirtualAlloc(NULL, 0x4000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(r != NULL && m != NULL);
    if (!r || !m) return;
    memset(m, 0x77, 0x4000);

    /* V6.1 returns the rounded address; State and Protect do not change */
    CHECK_EQ(VirtualAlloc(m + 0x1000, 0x1000, MEM_RESET, PAGE_READWRITE), m + 0x1000);
    CHECK_EQ(VirtualAlloc(m + 0x2010, 0x10, MEM_RESET, PAGE_READWRITE), m + 0x2000);
    CHECK_MBI(m, m, m, PAGE_READWRITE, 0x4000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    /* the reset pages stay usable; what they held is undefined (not checked) */
    m[0x1000] = 0x12;
    CHECK_EQ(m[0x1000], 0x12);
    CHECK_EQ(count_not(m, 0x1000, 0x77), 0);

    /* V6.2 legal on reserved pages, which stay reserved */
    CHECK_EQ(VirtualAlloc(r + 0x8000, 0x2000, MEM_RESET, PAGE_READWRITE), r + 0x8000);
    CHECK_MBI(r, r, r, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V6.3 a range running past the end of the reservation */
    CHECK_ALLOC_FAILS(r + 0xF000, 0x2000, MEM_RESET, PAGE_READWRITE, ERROR_INVALID_ADDRESS);
    CHECK_ALLOC_FAILS(m + 0x3000, 0x2000, MEM_RESET, PAGE_READWRITE, ERROR_INVALID_ADDRESS);

    /* V6.5 [W≠D]: MEM_RESET_UNDO either restores the reset pages with their
     * contents intact and returns the address, or fails; Wine 8 rejects it
     * with ERROR_INVALID_PARAMETER. */
    WINDOWS_ONLY {
        char *u;
        memset(m + 0x3000, 0x55, 0x1000);
        CHECK_EQ(VirtualAlloc(m + 0x3000, 0x1000, MEM_RESET, PAGE_READWRITE), m + 0x3000);
        u = VirtualAlloc(m + 0x3000, 0x1000, MEM_RESET_UNDO, PAGE_READWRITE);
        CHECK(u == m + 0x3000 || u == NULL);
        if (u) CHECK_EQ(count_not(m + 0x3000, 0x1000, 0x55), 0);
        CHECK_MBI(m, m, m, PAGE_READWRITE, 0x4000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    }

    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);
    CHECK_EQ(VirtualFree(m, 0, MEM_RELEASE), TRUE);
}

int main(void)
{
    test_argument_checks();
    test_reserve_rounding();
    test_top_down();
    test_allocation_protect();
    test_commit();
    test_recommit();
    test_reset();
    return cf_finish();
}
