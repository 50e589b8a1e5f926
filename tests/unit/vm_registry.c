/*
 * vm_registry.c — white-box tests of the region registry.  After every step
 * the registry is validated (R1-R6) and compared with the host's map (R7).
 *
 * What only a white-box test can see: that equal neighbours merge, in the
 * tree and at the host (so churn never grows the host's mapping count), that
 * placement reuses freed space and keeps MEM_TOP_DOWN above it, and that the
 * commit charge and lock accounting return to where they started.
 */
#include "vm/vm.h"
#include "os/os.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const size_t PG = 0x1000;

struct span_count { uintptr_t lo, hi; int n; };
static bool count_in(const struct os_mapping *m, void *ctx)
{
    struct span_count *c = ctx;
    if (m->end > c->lo && m->start < c->hi)
        c->n++;
    return true;
}
/* Host mappings that overlap [p, p + size). */
static int host_mappings(const void *p, size_t size)
{
    struct span_count c = { (uintptr_t)p, (uintptr_t)p + size, 0 };
    os_mappings_walk(count_in, &c);
    return c.n;
}

static void test_merging(void)
{
    enum { PAGES = 64 };
    char *p = VirtualAlloc(NULL, PAGES * PG, MEM_RESERVE, PAGE_READWRITE);
    CHECK(p != NULL);
    for (int i = 0; i < PAGES; i++) {
        CHECK(VirtualAlloc(p + i * PG, PG, MEM_COMMIT, PAGE_READWRITE) == p + i * PG);
        CHECK_VALID();
    }
    MEMORY_BASIC_INFORMATION m = unit_query(p);
    CHECK_EQ(m.RegionSize, PAGES * PG);
    CHECK_EQ(host_mappings(p, PAGES * PG), 1);

    DWORD old;
    for (int i = 0; i < PAGES; i += 2)
        CHECK(VirtualProtect(p + i * PG, PG, PAGE_READONLY, &old) && old == PAGE_READWRITE);
    CHECK_VALID();
    CHECK_EQ(unit_query(p).RegionSize, PG);
    CHECK_EQ(host_mappings(p, PAGES * PG), PAGES);
    CHECK(VirtualProtect(p, PAGES * PG, PAGE_READWRITE, &old) && old == PAGE_READONLY);
    CHECK_VALID();
    CHECK_EQ(unit_query(p).RegionSize, PAGES * PG);
    CHECK_EQ(host_mappings(p, PAGES * PG), 1);

    /* A lock splits a run in the tree but not in VirtualQuery's answer. */
    CHECK(VirtualLock(p + 4 * PG, 2 * PG));
    CHECK_VALID();
    CHECK_EQ(unit_query(p).RegionSize, PAGES * PG);
    CHECK(VirtualUnlock(p + 4 * PG, 2 * PG));

    /* Decommitting the middle and committing it again reads zeros. */
    memset(p, 0x5a, PAGES * PG);
    CHECK(VirtualFree(p + 8 * PG, 8 * PG, MEM_DECOMMIT));
    CHECK_VALID();
    CHECK_EQ(unit_query(p + 8 * PG).State, MEM_RESERVE);
    CHECK(VirtualAlloc(p + 8 * PG, 8 * PG, MEM_COMMIT, PAGE_READWRITE) == p + 8 * PG);
    CHECK_VALID();
    CHECK_EQ(p[8 * PG], 0);
    CHECK_EQ(p[16 * PG - 1], 0);
    CHECK_EQ((unsigned char)p[7 * PG], 0x5a);
    CHECK_EQ(unit_query(p).RegionSize, PAGES * PG);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    CHECK_VALID();
    CHECK_EQ(host_mappings(p, PAGES * PG), 0);
}

static void test_tail_and_placement(void)
{
    /* V3.4: the tail of the last granule is free and nobody's. */
    char *a = VirtualAlloc(NULL, 0x11000, MEM_RESERVE, PAGE_READWRITE);
    CHECK(a != NULL);
    MEMORY_BASIC_INFORMATION m = unit_query(a + 0x11000);
    CHECK_EQ(m.State, MEM_FREE);
    CHECK_EQ(m.AllocationBase, NULL);
    SetLastError(0);
    CHECK(VirtualAlloc(a + 0x18000, PG, MEM_RESERVE, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);

    /* The tail is held at the host, so nothing else can be mapped into it,
     * wherever the allocation was placed and whether or not it was committed
     * (the host's own placement top-down would otherwise fill it). */
    for (int i = 0; i < 4; i++) {
        DWORD type = MEM_RESERVE | (i & 1 ? MEM_COMMIT : 0) | (i & 2 ? MEM_TOP_DOWN : 0);
        char *t = VirtualAlloc(NULL, PG, type, PAGE_READWRITE);
        CHECK(t != NULL);
        m = unit_query(t + PG);
        CHECK_EQ(m.State, MEM_FREE);
        CHECK_EQ(m.RegionSize >= 0x10000 - PG, 1);
        CHECK_EQ(host_mappings(t, 0x10000), i & 1 ? 2 : 1);   /* ours: page (+ tail) */
        CHECK_VALID();
        CHECK(VirtualFree(t, 0, MEM_RELEASE));
        CHECK_EQ(host_mappings(t, 0x10000), 0);
    }

    /* Freed space is used again first; MEM_TOP_DOWN stays above it all. */
    char *b = VirtualAlloc(NULL, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    char *c = VirtualAlloc(NULL, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    CHECK(b && c);
    CHECK(VirtualFree(b, 0, MEM_RELEASE));
    char *b2 = VirtualAlloc(NULL, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    CHECK(b2 == b);
    char *top = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    CHECK(top != NULL);
    CHECK(top > c && top > b2 && top > a);
    CHECK_EQ((uintptr_t)top & 0xffff, 0);
    CHECK_VALID();

    /* Top-down goes down; the highest free room is used again first. */
    char *lower = VirtualAlloc(NULL, 0x30000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    CHECK(lower && lower + 0x30000 <= top && lower > c);
    CHECK(VirtualFree(top, 0, MEM_RELEASE));
    char *again = VirtualAlloc(NULL, 0x8000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    CHECK(again == top);
    top = again;
    CHECK(VirtualFree(lower, 0, MEM_RELEASE));
    CHECK_VALID();
    VirtualFree(a, 0, MEM_RELEASE);
    VirtualFree(b2, 0, MEM_RELEASE);
    VirtualFree(c, 0, MEM_RELEASE);
    VirtualFree(top, 0, MEM_RELEASE);
    CHECK_VALID();
}

static int some_function(int x) { return x * 3; }
static int initialized_data = 42;

static void test_foreign(void)
{
    int local = 1;
    MEMORY_BASIC_INFORMATION m = unit_query(&local);
    CHECK_EQ(m.State, MEM_COMMIT);
    CHECK_EQ(m.Protect, PAGE_READWRITE);
    CHECK_EQ(m.Type, MEM_PRIVATE);
    CHECK((char *)m.BaseAddress <= (char *)&local &&
          (char *)&local < (char *)m.BaseAddress + m.RegionSize);

    m = unit_query((void *)(uintptr_t)some_function);
    CHECK_EQ(m.State, MEM_COMMIT);
    CHECK_EQ(m.Protect, PAGE_EXECUTE_READ);
    CHECK_EQ(m.Type, MEM_IMAGE);
    CHECK(some_function(initialized_data) == 126);
    m = unit_query(&initialized_data);
    CHECK_EQ(m.Type, MEM_IMAGE);
    CHECK_EQ(m.Protect, PAGE_READWRITE);

    /* A large malloc block is an anonymous host mapping: private data. */
    char *big = malloc(8 << 20);
    big[0] = 1;
    m = unit_query(big + 4096);
    CHECK_EQ(m.State, MEM_COMMIT);
    CHECK_EQ(m.Type, MEM_PRIVATE);
    CHECK_EQ(m.Protect, PAGE_READWRITE);
    free(big);

    /* Address 0 is free up to the first mapping of any kind. */
    m = unit_query(NULL);
    CHECK_EQ(m.State, MEM_FREE);
    CHECK_EQ(m.BaseAddress, NULL);
    CHECK(m.RegionSize >= 0x10000);
}

static void test_charge_and_locks(void)
{
    size_t before = unit_charge();
    char *p = VirtualAlloc(NULL, 1 << 20, MEM_RESERVE, PAGE_READWRITE);
    CHECK_EQ(unit_charge(), before);                     /* reserve is not commit */
    VirtualAlloc(p, 256 << 10, MEM_COMMIT, PAGE_READWRITE);
    CHECK_EQ(unit_charge(), before + (256 << 10));
    VirtualAlloc(p, 512 << 10, MEM_COMMIT, PAGE_READONLY);  /* half already committed */
    CHECK_EQ(unit_charge(), before + (512 << 10));
    VirtualFree(p + (128 << 10), 128 << 10, MEM_DECOMMIT);
    CHECK_EQ(unit_charge(), before + (384 << 10));

    /* Locks are bounded by the minimum working set (200 KiB by default). */
    VirtualAlloc(p, 1 << 20, MEM_COMMIT, PAGE_READWRITE);
    SetLastError(0);
    CHECK(!VirtualLock(p, 512 << 10));
    CHECK_EQ(GetLastError(), ERROR_WORKING_SET_QUOTA);
    CHECK(VirtualLock(p, 64 << 10));
    SIZE_T mn, mx;
    CHECK(GetProcessWorkingSetSize(GetCurrentProcess(), &mn, &mx));
    CHECK(SetProcessWorkingSetSize(GetCurrentProcess(), 2 << 20, 4 << 20));
    CHECK(VirtualLock(p, 512 << 10));
    CHECK_VALID();
    struct vm_counters c;
    vm_counters(&c);
    CHECK_EQ(c.locked, 512 << 10);
    CHECK(VirtualFree(p, 256 << 10, MEM_DECOMMIT));   /* decommit drops locks */
    vm_counters(&c);
    CHECK_EQ(c.locked, 256 << 10);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    vm_counters(&c);
    CHECK_EQ(c.locked, 0);
    CHECK_EQ(unit_charge(), before);
    CHECK(SetProcessWorkingSetSize(GetCurrentProcess(), mn, mx));
    CHECK_VALID();
}

static void test_reset_undo(void)
{
    char *p = VirtualAlloc(NULL, 16 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    memset(p, 0x77, 16 * PG);
    CHECK(VirtualAlloc(p, 16 * PG, MEM_RESET, PAGE_READWRITE) == p);
    CHECK_VALID();
    /* No memory pressure here: the pages are still resident, so undo vouches
     * for them and the contents are intact. */
    CHECK(VirtualAlloc(p, 16 * PG, MEM_RESET_UNDO, PAGE_READWRITE) == p);
    CHECK_EQ((unsigned char)p[5 * PG + 7], 0x77);
    CHECK_VALID();
    /* Locked pages cannot be dropped; resetting a range that holds some still
     * succeeds (the host refuses MADV_FREE on them, winmem skips them). */
    CHECK(VirtualLock(p + 2 * PG, 2 * PG));
    SetLastError(0);
    CHECK(VirtualAlloc(p, 16 * PG, MEM_RESET, PAGE_READWRITE) == p);
    CHECK_EQ(GetLastError(), 0);
    CHECK_EQ((unsigned char)p[2 * PG], 0x77);
    CHECK_VALID();
    VirtualFree(p, 0, MEM_RELEASE);
}

/* fork() leaves the child with the parent's registry, intact and usable. */
static void test_fork(void)
{
    char *p = VirtualAlloc(NULL, 16 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    p[0] = 42;
    pid_t child = fork();
    if (child == 0) {
        const char *why;
        vm_lock();
        bool ok = vm_validate(&why);
        vm_unlock();
        MEMORY_BASIC_INFORMATION m = unit_query(p);
        char *q = VirtualAlloc(NULL, 4 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        ok = ok && m.State == MEM_COMMIT && m.RegionSize == 16 * PG && p[0] == 42 && q &&
             VirtualFree(q, 0, MEM_RELEASE) && VirtualFree(p, 0, MEM_RELEASE) &&
             vm_validate_host(&why);
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(unit_query(p).State, MEM_COMMIT);        /* the parent's is untouched */
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    CHECK_VALID();
}

int main(void)
{
    CHECK_VALID();
    test_merging();
    test_tail_and_placement();
    test_foreign();
    test_charge_and_locks();
    test_reset_undo();
    test_fork();
    return unit_finish();
}
