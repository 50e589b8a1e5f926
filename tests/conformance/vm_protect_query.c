/*
 * vm_protect_query.c — conformance of VirtualProtect (vm.md V7) and
 * VirtualQuery (V9).  VirtualProtect: pages rounded out, every page committed
 * and in one allocation, NULL lpflOldProtect, bad protections, the old
 * protection of the FIRST page with its modifiers, PAGE_NOCACHE added later
 * being ignored.  VirtualQuery: return value and short buffers, addresses
 * above the user range, every field for free, reserved, committed and mixed
 * ranges, merging of runs (never across allocations), address 0, and memory
 * the program did not allocate (its stack, code and static data).
 * Guard pages are set and reported but never touched.  Everything reserved is
 * released again, so the file doubles as a leak check.
 */
#include "conformance.h"
#include <stdint.h>

enum { PG = 0x1000, GRAN = 0x10000 };

#define MAX_ADDRESS 0x7FFFFFFEFFFFULL


/* VirtualProtect must fail with FALSE and last error err. */
#define CHECK_PROTECT_FAILS(addr, size, prot, err) do {                       \
        DWORD old_ = 0;                                                       \
        SetLastError(0xdeadbeef);                                             \
        CHECK_EQ(VirtualProtect((addr), (size), (prot), &old_), FALSE);       \
        CHECK_ERR(err);                                                       \
    } while (0)

/* VirtualQuery must fail with 0 and last error err. */
#define CHECK_QUERY_FAILS(addr, len, err) do {                                \
        MEMORY_BASIC_INFORMATION m_[2];                                       \
        SetLastError(0xdeadbeef);                                             \
        CHECK_EQ(VirtualQuery((addr), m_, (len)), 0);                         \
        CHECK_ERR(err);                                                       \
    } while (0)

int main(void);
static int static_var = 42;

static void test_protect(void)
{
    DWORD old;
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ(VirtualAlloc(p, 0x4000, MEM_COMMIT, PAGE_READWRITE), p);

    /* V7.1 the range is rounded out to pages: p+0x10 .. p+0x1010 is two pages */
    old = 0;
    CHECK_EQ(VirtualProtect(p + 0x10, PG, PAGE_READONLY, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK_MBI(p, p, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);
    CHECK_MBI(p + 0x2000, p + 0x2000, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);

    /* V7.1 every page must be committed: a reserved page, a partly committed range */
    CHECK_PROTECT_FAILS(p + 0x4000, PG, PAGE_READONLY, ERROR_INVALID_ADDRESS);
    CHECK_PROTECT_FAILS(p + 0x3000, 0x2000, PAGE_READONLY, ERROR_INVALID_ADDRESS);
    CHECK_PROTECT_FAILS(p, GRAN, PAGE_READONLY, ERROR_INVALID_ADDRESS);
    /* V7.2 lpflOldProtect NULL */
    SetLastError(0xdeadbeef);
    CHECK_EQ(VirtualProtect(p + 0x2000, PG, PAGE_READONLY, NULL), FALSE);
    CHECK_ERR(ERROR_NOACCESS);
    /* V7.3 protection 0, two base protections, copy-on-write on private memory */
    CHECK_PROTECT_FAILS(p + 0x2000, PG, 0, ERROR_INVALID_PARAMETER);
    CHECK_PROTECT_FAILS(p + 0x2000, PG, PAGE_READONLY | PAGE_READWRITE, ERROR_INVALID_PARAMETER);
    CHECK_PROTECT_FAILS(p + 0x2000, PG, PAGE_WRITECOPY, ERROR_INVALID_PARAMETER);
    CHECK_PROTECT_FAILS(p + 0x2000, PG, PAGE_EXECUTE_WRITECOPY, ERROR_INVALID_PARAMETER);
    /* ... none of the failures changed anything */
    CHECK_MBI(p, p, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);
    CHECK_MBI(p + 0x2000, p + 0x2000, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_MBI(p + 0x4000, p + 0x4000, p, PAGE_READWRITE, 0xC000, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V7.4 the old protection is the first page's, even when later ones differ */
    CHECK_EQ(VirtualProtect(p + 0x3000, PG, PAGE_EXECUTE_READ, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK_EQ(VirtualProtect(p, 0x4000, PAGE_READWRITE, &old), TRUE);
    CHECK_EQ(old, PAGE_READONLY);
    CHECK_MBI(p, p, p, PAGE_READWRITE, 0x4000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_EQ(VirtualProtect(p + 0x1000, PG, PAGE_EXECUTE_READWRITE, &old), TRUE);
    CHECK_EQ(VirtualProtect(p, 0x2000, PAGE_READONLY, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK_EQ(VirtualProtect(p + 0x1000, 0x3000, PAGE_READWRITE, &old), TRUE);
    CHECK_EQ(old, PAGE_READONLY);

    /* V7.4 ... including PAGE_GUARD (set and reported, never touched) */
    CHECK_EQ(VirtualProtect(p, PG, PAGE_READWRITE | PAGE_GUARD, &old), TRUE);
    CHECK_EQ(old, PAGE_READONLY);
    CHECK_MBI(p, p, p, PAGE_READWRITE, PG, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD, MEM_PRIVATE);
    CHECK_EQ(VirtualProtect(p, 0x2000, PAGE_READONLY, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE | PAGE_GUARD);
    CHECK_MBI(p, p, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);

    /* V7.6 PAGE_NOCACHE added to memory allocated without it is ignored */
    CHECK_EQ(VirtualProtect(p + 0x2000, PG, PAGE_READWRITE | PAGE_NOCACHE, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK_MBI(p + 0x2000, p + 0x2000, p, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);

    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);

    /* V7.4 ... and PAGE_NOCACHE of memory allocated with it */
    p = VirtualAlloc(NULL, 0x2000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ(VirtualProtect(p + 0x1000, PG, PAGE_READONLY | PAGE_NOCACHE, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE | PAGE_NOCACHE);
    CHECK_EQ(VirtualProtect(p, 0x2000, PAGE_READONLY | PAGE_NOCACHE, &old), TRUE);
    CHECK_EQ(old, PAGE_READWRITE | PAGE_NOCACHE);
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_NOCACHE, 0x2000, MEM_COMMIT,
              PAGE_READONLY | PAGE_NOCACHE, MEM_PRIVATE);
    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
}

static void test_protect_two_allocations(void)
{
    char *a = free_range(0x20000);
    DWORD old = 0;
    CHECK(a != NULL);
    if (!a) return;
    CHECK_EQ(VirtualAlloc(a, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE), a);
    CHECK_EQ(VirtualAlloc(a + GRAN, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE), a + GRAN);

    /* V7.5 [W≠D]: a range crossing into another allocation fails; Windows
     * says ERROR_INVALID_ADDRESS, Wine ERROR_INVALID_PARAMETER. */
    SetLastError(0xdeadbeef);
    CHECK_EQ(VirtualProtect(a + 0xF000, 0x2000, PAGE_READONLY, &old), FALSE);
    WINDOWS_ONLY { CHECK_ERR(ERROR_INVALID_ADDRESS); }
    CHECK_MBI(a, a, a, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(a + GRAN, a + GRAN, a + GRAN, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);

    /* V9.2 a run never crosses an allocation boundary, even between equal pages */
    CHECK_MBI(a + 0x8000, a + 0x8000, a, PAGE_READWRITE, 0x8000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);

    CHECK_EQ(VirtualFree(a, 0, MEM_RELEASE), TRUE);
    CHECK_EQ(VirtualFree(a + GRAN, 0, MEM_RELEASE), TRUE);
}

static void test_query_arguments(void)
{
    MEMORY_BASIC_INFORMATION m[2];
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(p != NULL);
    if (!p) return;

    /* V9.1 returns 48 on success, even with a larger buffer */
    CHECK_EQ(sizeof(MEMORY_BASIC_INFORMATION), 48);
    CHECK_EQ(VirtualQuery(p, m, sizeof m[0]), 48);
    CHECK_EQ(VirtualQuery(p, m, sizeof m), 48);
    /* V9.1 a buffer shorter than 48 */
    CHECK_QUERY_FAILS(p, sizeof m[0] - 1, ERROR_BAD_LENGTH);
    CHECK_QUERY_FAILS(p, 0, ERROR_BAD_LENGTH);
    /* V9.1 an address above lpMaximumApplicationAddress */
    CHECK_QUERY_FAILS((void *)(ULONG_PTR)(MAX_ADDRESS + 1), sizeof m[0], ERROR_INVALID_PARAMETER);
    CHECK_QUERY_FAILS((void *)(ULONG_PTR)0x800000000000ULL, sizeof m[0], ERROR_INVALID_PARAMETER);
    CHECK_QUERY_FAILS((void *)~(ULONG_PTR)0, sizeof m[0], ERROR_INVALID_PARAMETER);

    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
}

static void test_query_regions(void)
{
    char *a = free_range(0x30000), *z;
    CHECK(a != NULL);
    if (!a) return;
    CHECK_EQ(VirtualAlloc(a, GRAN, MEM_RESERVE, PAGE_READWRITE), a);
    z = VirtualAlloc(a + 0x20000, GRAN, MEM_RESERVE, PAGE_EXECUTE_READWRITE);
    CHECK_EQ(z, a + 0x20000);

    /* V9.3 free memory: the run reaches the next allocation */
    CHECK_MBI(a + 0x10000, a + 0x10000, NULL, 0, 0x10000, MEM_FREE, PAGE_NOACCESS, 0);
    /* V9.2 BaseAddress is the queried address rounded down to its page */
    CHECK_MBI(a + 0x18123, a + 0x18000, NULL, 0, 0x8000, MEM_FREE, PAGE_NOACCESS, 0);

    /* V9.4 reserved pages: the reserve protection, Protect 0 */
    CHECK_MBI(z, z, z, PAGE_EXECUTE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);
    CHECK_MBI(z + 0xFFFF, z + 0xF000, z, PAGE_EXECUTE_READWRITE, 0x1000, MEM_RESERVE, 0,
              MEM_PRIVATE);

    /* V9.2, V9.5 a mixed reservation: adjacent commits of equal protection
     * merge, a different protection or state splits the run */
    CHECK_EQ(VirtualAlloc(a + 0x2000, PG, MEM_COMMIT, PAGE_READWRITE), a + 0x2000);
    CHECK_EQ(VirtualAlloc(a + 0x3000, PG, MEM_COMMIT, PAGE_READWRITE), a + 0x3000);
    CHECK_EQ(VirtualAlloc(a + 0x6000, PG, MEM_COMMIT, PAGE_READONLY), a + 0x6000);
    {
        static const struct { ULONG_PTR off, size; DWORD state, prot; } want[] = {
            { 0x0000, 0x2000, MEM_RESERVE, 0 },
            { 0x2000, 0x2000, MEM_COMMIT, PAGE_READWRITE },
            { 0x4000, 0x2000, MEM_RESERVE, 0 },
            { 0x6000, 0x1000, MEM_COMMIT, PAGE_READONLY },
            { 0x7000, 0x9000, MEM_RESERVE, 0 },
        };
        char *q = a;
        unsigned i;
        for (i = 0; i < sizeof want / sizeof want[0]; i++) {
            CHECK_MBI(q, a + want[i].off, a, PAGE_READWRITE, want[i].size, want[i].state,
                      want[i].prot, MEM_PRIVATE);
            q = a + want[i].off + want[i].size;
        }
        CHECK_EQ(q, a + GRAN);
    }
    CHECK_MBI(a + 0x2abc, a + 0x2000, a, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);
    CHECK_MBI(a + 0x3000, a + 0x3000, a, PAGE_READWRITE, 0x1000, MEM_COMMIT, PAGE_READWRITE,
              MEM_PRIVATE);

    /* V9.6 decommitted pages merge back into the reserved run (committed
     * with the reservation's protection, so Wine agrees) */
    CHECK_EQ(VirtualFree(a + 0x2000, 0x2000, MEM_DECOMMIT), TRUE);
    CHECK_MBI(a, a, a, PAGE_READWRITE, 0x6000, MEM_RESERVE, 0, MEM_PRIVATE);
    /* V9.6 [W≠D]: also pages that had another protection; Wine keeps the stale
     * protection and splits the reserved run at a+0x6000. */
    CHECK_EQ(VirtualFree(a + 0x6000, PG, MEM_DECOMMIT), TRUE);
    WINDOWS_ONLY {
        CHECK_MBI(a, a, a, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);
    }

    CHECK_EQ(VirtualFree(a, 0, MEM_RELEASE), TRUE);
    CHECK_EQ(VirtualFree(z, 0, MEM_RELEASE), TRUE);
}

/* V9.7 memory the program did not allocate is committed and not free; its
 * AllocationBase, AllocationProtect and size are the host's business. */
static void check_foreign(const void *addr, DWORD want_prot, DWORD want_type)
{
    MEMORY_BASIC_INFORMATION m;
    ULONG_PTR x = (ULONG_PTR)addr;
    CHECK_EQ(VirtualQuery(addr, &m, sizeof m), sizeof m);
    CHECK_EQ(m.BaseAddress, x & ~(ULONG_PTR)(PG - 1));
    CHECK_EQ(m.State, MEM_COMMIT);
    CHECK(m.AllocationBase != NULL && (ULONG_PTR)m.AllocationBase <= x);
    CHECK((ULONG_PTR)m.BaseAddress + m.RegionSize > x);
    if (want_prot) CHECK_EQ(m.Protect, want_prot);
    if (want_type) CHECK_EQ(m.Type, want_type);
    else CHECK(m.Type == MEM_IMAGE || m.Type == MEM_MAPPED || m.Type == MEM_PRIVATE);
}

static void test_query_foreign(void)
{
    int local = 1;
    MEMORY_BASIC_INFORMATION m;

    /* V9.3 address 0 is free (the size of the run is not pinned) */
    memset(&m, 0xcc, sizeof m);
    CHECK_EQ(VirtualQuery(NULL, &m, sizeof m), sizeof m);
    CHECK_EQ(m.BaseAddress, NULL);
    CHECK_EQ(m.AllocationBase, NULL);
    CHECK_EQ(m.AllocationProtect, 0);
    CHECK_EQ(m.State, MEM_FREE);
    CHECK_EQ(m.Protect, PAGE_NOACCESS);
    CHECK_EQ(m.Type, 0);

    /* V9.7 the stack: committed private read-write memory.  (A host stack at
     * the very top, as without ASLR on Linux, lies above the user range, and
     * V9.1 applies instead.) */
    if ((ULONG_PTR)&local <= MAX_ADDRESS) {
        check_foreign(&local, PAGE_READWRITE, MEM_PRIVATE);
    } else {
        CHECK_QUERY_FAILS(&local, sizeof m, ERROR_INVALID_PARAMETER);
    }
    /* V9.7 the program's code: part of its image, execute-read */
    check_foreign((const void *)(ULONG_PTR)main, PAGE_EXECUTE_READ, MEM_IMAGE);
    /* V9.7 a static variable: committed and writable (copy-on-write in an
     * image on Windows, so the exact protection and type are not pinned) */
    static_var++;
    check_foreign(&static_var, 0, 0);
    CHECK_EQ(VirtualQuery(&static_var, &m, sizeof m), sizeof m);
    CHECK(m.Protect == PAGE_READWRITE || m.Protect == PAGE_WRITECOPY ||
          m.Protect == PAGE_EXECUTE_READWRITE || m.Protect == PAGE_EXECUTE_WRITECOPY);
    CHECK_EQ(static_var, 43);
}

int main(void)
{
    test_protect();
    test_protect_two_allocations();
    test_query_arguments();
    test_query_regions();
    test_query_foreign();
    return cf_finish();
}
