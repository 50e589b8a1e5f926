/*
 * vm_free.c — conformance of VirtualFree (vm.md V10): MEM_RELEASE wants size 0
 * and the exact allocation base, frees the whole reservation and never spans
 * two allocations; the allocation type is checked; MEM_DECOMMIT with size 0
 * wants the base, with a size rounds out to pages inside one allocation, and
 * accepts pages that are only reserved; decommitted pages read as zero when
 * committed again (V4.3).  Every failing call is shown to change nothing.
 * Everything reserved is released again, so the file doubles as a leak check.
 */
#include "conformance.h"
#include <stdint.h>

enum { PG = 0x1000, GRAN = 0x10000 };


/* Query addr, which must be free; the size of a free run is not pinned. */
#define CHECK_FREE(addr) do {                                                 \
        MEMORY_BASIC_INFORMATION m_;                                          \
        memset(&m_, 0xcc, sizeof m_);                                         \
        CHECK_EQ(VirtualQuery((addr), &m_, sizeof m_), sizeof m_);            \
        CHECK_EQ(m_.BaseAddress, (addr));                                     \
        CHECK_EQ(m_.AllocationBase, NULL);                                    \
        CHECK_EQ(m_.State, MEM_FREE);                                         \
        CHECK_EQ(m_.Protect, PAGE_NOACCESS);                                  \
        CHECK_EQ(m_.Type, 0);                                                 \
    } while (0)

/* VirtualFree must fail with FALSE and last error err. */
#define CHECK_FREE_FAILS(addr, size, type, err) do {                          \
        SetLastError(0xdeadbeef);                                             \
        CHECK_EQ(VirtualFree((addr), (size), (type)), FALSE);                 \
        CHECK_ERR(err);                                                       \
    } while (0)

static void test_release(void)
{
    char *r = VirtualAlloc(NULL, 0x30000, MEM_RESERVE, PAGE_READWRITE);
    CHECK(r != NULL);
    if (!r) return;
    CHECK_EQ(VirtualAlloc(r + 0x10000, 0x2000, MEM_COMMIT, PAGE_READWRITE), r + 0x10000);
    r[0x10000] = 0x3C;

    /* V10.1 MEM_RELEASE with a size: ERROR_INVALID_PARAMETER, even the full size */
    CHECK_FREE_FAILS(r, 0x30000, MEM_RELEASE, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(r, PG, MEM_RELEASE, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(r + 0x10000, 0x2000, MEM_RELEASE, ERROR_INVALID_PARAMETER);
    /* V10.1 not the allocation base: ERROR_INVALID_ADDRESS */
    CHECK_FREE_FAILS(r + 0x1000, 0, MEM_RELEASE, ERROR_INVALID_ADDRESS);
    CHECK_FREE_FAILS(r + 0x10000, 0, MEM_RELEASE, ERROR_INVALID_ADDRESS);
    CHECK_FREE_FAILS(r + 0x2F000, 0, MEM_RELEASE, ERROR_INVALID_ADDRESS);
    /* ... and nothing was freed */
    CHECK_MBI(r, r, r, PAGE_READWRITE, 0x10000, MEM_RESERVE, 0, MEM_PRIVATE);
    CHECK_MBI(r + 0x10000, r + 0x10000, r, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_EQ(r[0x10000], 0x3C);

    /* V10.1 the base and size 0 free the whole reservation, committed or not */
    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);
    CHECK_FREE(r);
    CHECK_FREE(r + 0x10000);
    CHECK_FREE(r + 0x2F000);
    /* the whole range can be reserved again at the same base */
    CHECK_EQ(VirtualAlloc(r, 0x30000, MEM_RESERVE, PAGE_READWRITE), r);
    CHECK_MBI(r, r, r, PAGE_READWRITE, 0x30000, MEM_RESERVE, 0, MEM_PRIVATE);
    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);

    /* V10.5 [W≠D]: releasing free memory (twice, or NULL) fails; Windows says
     * ERROR_INVALID_ADDRESS, Wine ERROR_INVALID_PARAMETER. */
    SetLastError(0xdeadbeef);
    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), FALSE);
    WINDOWS_ONLY { CHECK_ERR(ERROR_INVALID_ADDRESS); }
    SetLastError(0xdeadbeef);
    CHECK_EQ(VirtualFree(NULL, 0, MEM_RELEASE), FALSE);
    WINDOWS_ONLY { CHECK_ERR(ERROR_INVALID_ADDRESS); }
}

static void test_two_allocations(void)
{
    char *a = free_range(0x20000), *x, *y;
    CHECK(a != NULL);
    if (!a) return;
    x = VirtualAlloc(a, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    y = VirtualAlloc(a + GRAN, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK_EQ(x, a);
    CHECK_EQ(y, a + GRAN);
    if (x != a || y != a + GRAN) return;
    x[0xF000] = 0x11;
    y[0] = 0x22;

    /* V10.1 no release spanning two allocations */
    CHECK_FREE_FAILS(x, 0x20000, MEM_RELEASE, ERROR_INVALID_PARAMETER);
    /* V10.3 no decommit spanning two allocations */
    CHECK_FREE_FAILS(x + 0xF000, 0x2000, MEM_DECOMMIT, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(x, 0x20000, MEM_DECOMMIT, ERROR_INVALID_PARAMETER);
    CHECK_MBI(x, x, x, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(y, y, y, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_EQ(x[0xF000], 0x11);
    CHECK_EQ(y[0], 0x22);

    /* V10.2 type 0, MEM_FREE, both MEM_RELEASE and MEM_DECOMMIT, undefined bits */
    CHECK_FREE_FAILS(x, 0, 0, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(x, 0, MEM_FREE, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(x, 0, MEM_RELEASE | MEM_DECOMMIT, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(x, PG, MEM_RELEASE | MEM_DECOMMIT, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(x, 0, MEM_RELEASE | 0x40000000, ERROR_INVALID_PARAMETER);
    CHECK_FREE_FAILS(x, PG, MEM_DECOMMIT | MEM_COMMIT, ERROR_INVALID_PARAMETER);
    CHECK_MBI(x, x, x, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* releasing one leaves its neighbour whole */
    CHECK_EQ(VirtualFree(y, 0, MEM_RELEASE), TRUE);
    CHECK_FREE(y);
    CHECK_MBI(x, x, x, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_EQ(x[0xF000], 0x11);
    /* V10.3 a decommit running past the end into free memory */
    CHECK_FREE_FAILS(x + 0xF000, 0x2000, MEM_DECOMMIT, ERROR_INVALID_PARAMETER);
    CHECK_EQ(VirtualFree(x, 0, MEM_RELEASE), TRUE);
    CHECK_FREE(x);
}

static void test_decommit(void)
{
    char *d = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(d != NULL);
    if (!d) return;
    memset(d, 0xA5, GRAN);

    /* V10.3 size 0 needs the allocation base */
    CHECK_FREE_FAILS(d + 0x1000, 0, MEM_DECOMMIT, ERROR_INVALID_ADDRESS);
    CHECK_MBI(d, d, d, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* V10.3 with a size the range is rounded out to pages */
    CHECK_EQ(VirtualFree(d + 0x1234, 0x10, MEM_DECOMMIT), TRUE);
    CHECK_MBI(d, d, d, PAGE_READWRITE, 0x1000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(d + 0x1000, d + 0x1000, d, PAGE_READWRITE, 0x1000, MEM_RESERVE, 0, MEM_PRIVATE);
    CHECK_MBI(d + 0x2000, d + 0x2000, d, PAGE_READWRITE, 0xE000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_EQ(VirtualFree(d + 0x2FFF, 2, MEM_DECOMMIT), TRUE);
    CHECK_MBI(d + 0x1000, d + 0x1000, d, PAGE_READWRITE, 0x3000, MEM_RESERVE, 0, MEM_PRIVATE);
    CHECK_MBI(d + 0x4000, d + 0x4000, d, PAGE_READWRITE, 0xC000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    /* the pages around keep their contents */
    CHECK_EQ(count_not(d, 0x1000, (char)0xA5), 0);
    CHECK_EQ(count_not(d + 0x4000, 0xC000, (char)0xA5), 0);

    /* V10.4 decommitting pages that are only reserved succeeds, alone or
     * together with committed ones */
    CHECK_EQ(VirtualFree(d + 0x1000, 0x3000, MEM_DECOMMIT), TRUE);
    CHECK_EQ(VirtualFree(d + 0x3000, 0x2000, MEM_DECOMMIT), TRUE);
    CHECK_MBI(d + 0x1000, d + 0x1000, d, PAGE_READWRITE, 0x4000, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V4.3 a decommitted page committed again reads as zero; neighbours keep theirs */
    CHECK_EQ(VirtualAlloc(d + 0x1000, PG, MEM_COMMIT, PAGE_READWRITE), d + 0x1000);
    CHECK_EQ(count_not(d + 0x1000, PG, 0), 0);
    CHECK_EQ(count_not(d, PG, (char)0xA5), 0);

    /* V10.3 the base and size 0 decommit the whole reservation */
    CHECK_EQ(VirtualFree(d, 0, MEM_DECOMMIT), TRUE);
    CHECK_MBI(d, d, d, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);
    /* V10.4 again, now that nothing is committed */
    CHECK_EQ(VirtualFree(d, 0, MEM_DECOMMIT), TRUE);
    CHECK_MBI(d, d, d, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V4.3 the whole reservation committed again reads as zero */
    CHECK_EQ(VirtualAlloc(d, GRAN, MEM_COMMIT, PAGE_READWRITE), d);
    CHECK_EQ(count_not(d, GRAN, 0), 0);
    CHECK_MBI(d, d, d, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    CHECK_EQ(VirtualFree(d, 0, MEM_RELEASE), TRUE);
    CHECK_FREE(d);
}

static void test_decommit_reserved_only(void)
{
    /* V10.4 on a reservation that was never committed */
    char *r = VirtualAlloc(NULL, 0x20000, MEM_RESERVE, PAGE_EXECUTE_READ);
    CHECK(r != NULL);
    if (!r) return;
    CHECK_EQ(VirtualFree(r + 0x4000, 0x3000, MEM_DECOMMIT), TRUE);
    CHECK_EQ(VirtualFree(r, 0, MEM_DECOMMIT), TRUE);
    CHECK_MBI(r, r, r, PAGE_EXECUTE_READ, 0x20000, MEM_RESERVE, 0, MEM_PRIVATE);
    /* V10.3 decommit past the end of the reservation */
    CHECK_FREE_FAILS(r + 0x1F000, 0x2000, MEM_DECOMMIT, ERROR_INVALID_PARAMETER);
    CHECK_EQ(VirtualFree(r, 0, MEM_RELEASE), TRUE);
}

int main(void)
{
    test_release();
    test_two_allocations();
    test_decommit();
    test_decommit_reserved_only();
    return cf_finish();
}
