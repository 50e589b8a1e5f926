/*
 * vm_warm.c — white-box tests of the memory vm keeps warm for the heap
 * (src/vm/vm_warm.c).  A span released warm must look released to the
 * program (MEM_FREE, off the commit charge) while the host keeps its pages;
 * it is taken again only by vm_warm_alloc with the same size and protection,
 * contents intact, and it gives way to everything else: an allocation at its
 * address gets fresh zeroed memory, placement steps over it, and the purge
 * delay or vm_warm_purge unmaps it.  Each case starts with nothing kept.
 */
#include "vm/vm.h"
#include "os/os.h"
#include "unit.h"

#include <string.h>

enum { PG = 0x1000, K64 = 64 << 10, K128 = 128 << 10, K256 = 256 << 10, M1 = 1 << 20 };

/* Under ThreadSanitizer the host places every reservation (vm_space.c),
 * some with a second call to align it: no host-call count to pin. */
#if defined(__SANITIZE_THREAD__)
#define HOST_PLACES 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HOST_PLACES 1
#endif
#endif
#ifndef HOST_PLACES
#define HOST_PLACES 0
#endif

static size_t charge(void)
{
    struct vm_counters c;
    vm_counters(&c);
    return c.commit_charge;
}

static bool kept(const void *p)
{
    uintptr_t lo, hi;
    vm_lock();
    bool found = vm_warm_find((uintptr_t)p, &lo, &hi);
    vm_unlock();
    return found;
}

/* Whether the host maps any page of [p, p + size). */
static bool host_maps(const void *p, size_t size)
{
    struct os_mapping m;
    return os_mapping_after((uintptr_t)p, &m) && m.start < (uintptr_t)p + size;
}

static char *alloc(size_t size, DWORD type) { return VirtualAlloc(NULL, size, type, PAGE_READWRITE); }
static char *alloc64(void) { return alloc(K64, MEM_RESERVE | MEM_COMMIT); }

/* 1. Released warm: free and uncharged to the program, still mapped. */
static char *test_release_keeps(void)
{
    vm_warm_purge();
    size_t c0 = charge();
    char *p = alloc64();
    CHECK(p != NULL);
    memset(p, 0xa5, K64);
    CHECK_EQ(charge(), c0 + K64);
    CHECK(vm_warm_release(p));
    MEMORY_BASIC_INFORMATION m = unit_query(p);
    CHECK(m.State == MEM_FREE && m.AllocationBase == NULL);
    CHECK_EQ(charge(), c0);
    CHECK_EQ(vm_warm_bytes(), K64);
    CHECK(kept(p) && kept(p + K64 - 1) && !kept(p + K64) && host_maps(p, K64));
    CHECK(!vm_warm_release(p));                    /* no longer an allocation */
    CHECK_VALID();
    return p;
}

/* 2. Taken again: the same base, the old bytes (warm, not zeroed: the
 * point of keeping it), registered and charged as a fresh allocation. */
static void test_take_back(char *p)
{
    size_t c0 = charge(), committed = 0;
    char *q = vm_warm_alloc(K64, K64, PAGE_READWRITE, &committed);
    CHECK(q == p);
    if (!q)
        return;
    CHECK_EQ(committed, K64);
    CHECK(q[0] == (char)0xa5 && q[K64 - 1] == (char)0xa5);
    MEMORY_BASIC_INFORMATION m = unit_query(q);
    CHECK(m.State == MEM_COMMIT && m.Protect == PAGE_READWRITE && m.Type == MEM_PRIVATE);
    CHECK(m.AllocationBase == q && m.AllocationProtect == PAGE_READWRITE && m.RegionSize == K64);
    CHECK_EQ(charge(), c0 + K64);
    CHECK(vm_warm_bytes() == 0 && !kept(q));
    CHECK(vm_warm_alloc(K64, K64, PAGE_READWRITE, &committed) == NULL);
    CHECK_VALID();
    CHECK(VirtualFree(q, 0, MEM_RELEASE));        /* VirtualFree never keeps */
    CHECK(vm_warm_bytes() == 0 && !host_maps(q, K64));
    CHECK_EQ(charge(), c0);
}

/* 3. Partly committed: the warm prefix comes back as it is, even when less
 * is asked for; a larger commit is added behind it, accessible and charged. */
static void test_partial(void)
{
    vm_warm_purge();
    size_t c0 = charge(), committed = 0;
    char *p = alloc(M1, MEM_RESERVE);
    CHECK(p && VirtualAlloc(p, K128, MEM_COMMIT, PAGE_READWRITE) == p);
    memset(p, 0x3c, K128);
    CHECK(vm_warm_release(p));
    CHECK(vm_warm_bytes() == M1 && charge() == c0);
    char *q = vm_warm_alloc(M1, K64, PAGE_READWRITE, &committed);
    CHECK(q == p);
    if (!q)
        return;
    CHECK_EQ(committed, K128);
    CHECK_EQ(charge(), c0 + K128);
    CHECK_EQ(q[K128 - 1], 0x3c);
    MEMORY_BASIC_INFORMATION m = unit_query(q);
    CHECK(m.State == MEM_COMMIT && m.RegionSize == K128 && m.AllocationBase == q);
    m = unit_query(q + K128);
    CHECK(m.State == MEM_RESERVE && m.RegionSize == M1 - K128 && m.AllocationBase == q);
    CHECK_VALID();
    CHECK(vm_warm_release(q));                     /* kept again, 128 KiB warm */
    q = vm_warm_alloc(M1, K256, PAGE_READWRITE, &committed);
    CHECK(q == p);
    if (!q)
        return;
    CHECK_EQ(committed, K256);
    CHECK_EQ(charge(), c0 + K256);
    CHECK(q[K128 - 1] == 0x3c && q[K128] == 0);    /* warm prefix, new zero pages */
    q[K256 - 1] = 1;                               /* writable to its end */
    CHECK(unit_query(q).RegionSize == K256 && unit_query(q + K256).State == MEM_RESERVE);
    CHECK_VALID();
    CHECK(VirtualFree(q, 0, MEM_RELEASE));
    CHECK_EQ(charge(), c0);
}

/* Released for real: nothing kept, nothing left at the host. */
static void check_not_kept(char *p, size_t size, const char *what)
{
    int failed = unit_failed;
    size_t w = vm_warm_bytes();
    CHECK(p && vm_warm_release(p));
    CHECK_EQ(vm_warm_bytes(), w);
    CHECK_EQ(unit_query(p).State, MEM_FREE);
    CHECK(!host_maps(p, wm_align_up(size, K64)));
    if (unit_failed != failed)
        printf("  ... for the allocation with %s\n", what);
}

/* 4. Only plain allocations are kept.  Watch state, a lock, a second
 * protection, a reset, a commit that is not a prefix, a size that is not
 * the host's, top-down placement or a size too large to keep: none is
 * memory the heap could take back as it is. */
static void test_not_plain(void)
{
    vm_warm_purge();
    size_t c0 = charge();
    DWORD old;
    check_not_kept(alloc(K64, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH), K64, "write watch");
    char *p = alloc(K256, MEM_RESERVE | MEM_COMMIT);
    CHECK(VirtualProtect(p + K128, PG, PAGE_READONLY, &old));
    check_not_kept(p, K256, "a read-only page in the middle");
    p = alloc64();
    CHECK(VirtualProtect(p, K64, PAGE_READONLY, &old));
    check_not_kept(p, K64, "all its pages read-only");
    p = alloc64();
    if (VirtualLock(p + K128 / 4, PG))
        check_not_kept(p, K64, "a locked page");
    else
        VirtualFree(p, 0, MEM_RELEASE);           /* no lock quota: nothing to check */
    check_not_kept(alloc(8 << 10, MEM_RESERVE | MEM_COMMIT), 8 << 10, "8 KiB");
    p = alloc64();
    CHECK(VirtualAlloc(p, K64, MEM_RESET, PAGE_READWRITE) == p);
    check_not_kept(p, K64, "reset pages");
    p = alloc(K256, MEM_RESERVE);
    CHECK(VirtualAlloc(p + K64, K64, MEM_COMMIT, PAGE_READWRITE) == p + K64);
    check_not_kept(p, K256, "a reserved first page");
    check_not_kept(alloc(K64, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN), K64, "MEM_TOP_DOWN");
    size_t big = VM_WARM_BYTES / 4 + K64;
    check_not_kept(alloc(big, MEM_RESERVE), big, "a size too large to keep");
    CHECK(vm_warm_bytes() == 0 && charge() == c0);
    CHECK_VALID();
}

/* 5. A kept span matches only its own size and protection; a miss leaves
 * it kept.  6. A VirtualAlloc at its address evicts it: VirtualAlloc
 * promises zeroed memory, which a warm span is not. */
static void test_mismatch_and_evict(void)
{
    vm_warm_purge();
    size_t committed = 0, nonzero = 0;
    char *p = alloc64();
    memset(p, 0xee, K64);
    CHECK(vm_warm_release(p));
    CHECK(vm_warm_alloc(K64, K64, PAGE_EXECUTE_READWRITE, &committed) == NULL);
    CHECK(vm_warm_alloc(K128, K64, PAGE_READWRITE, &committed) == NULL);
    CHECK(vm_warm_bytes() == K64 && kept(p));
    char *r = VirtualAlloc(p, K64, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(r == p);
    for (size_t i = 0; r && i < K64; i++)
        nonzero += r[i] != 0;
    CHECK_EQ(nonzero, 0);
    CHECK(!kept(p) && vm_warm_bytes() == 0 && unit_query(p).State == MEM_COMMIT);
    CHECK_VALID();
    CHECK(VirtualFree(r, 0, MEM_RELEASE));
}

/* 7. Placement steps over kept spans.  A hole released for real below
 * them brings the next-fit cursor back down, so the reservations that
 * follow meet the kept spans and must go around them, knowing them as
 * obstacles: one host call each, no map that fails on them first. */
static void test_placement(void)
{
    vm_warm_purge();
    enum { KEEP = 4, N = 20 };
    char *hole = alloc64(), *keep[KEEP], *got[N];
    for (int i = 0; i < KEEP; i++)
        CHECK((keep[i] = alloc64()) != NULL && vm_warm_release(keep[i]));
    CHECK(VirtualFree(hole, 0, MEM_RELEASE));
    for (int i = 0; i < N; i++) {
        size_t size = (i % 3 + 1) * K64;
        os_fail_at(0, false);                      /* counts host calls from here */
        got[i] = alloc(size, MEM_RESERVE);
        if (!HOST_PLACES)
            CHECK_EQ(os_call_count(), 1);
        CHECK(got[i] && !kept(got[i]) && !kept(got[i] + size - 1));
        for (int k = 0; got[i] && k < KEEP; k++)
            CHECK(keep[k] + K64 <= got[i] || got[i] + size <= keep[k]);
    }
    CHECK_EQ(vm_warm_bytes(), KEEP * K64);       /* stepped over, not evicted */
    CHECK_VALID();
    for (int i = 0; i < N; i++)
        CHECK(VirtualFree(got[i], 0, MEM_RELEASE));
}

/* 8. The purge delay: kept across a call made at once, unmapped by the
 * first reserve or release after VM_WARM_DELAY_MS, not by time alone. */
static void test_delay(void)
{
    vm_warm_purge();
    char *p = alloc64();
    CHECK(vm_warm_release(p));
    char *q = alloc(K64, MEM_RESERVE);
    CHECK(q && VirtualFree(q, 0, MEM_RELEASE));
    CHECK_EQ(vm_warm_bytes(), K64);
    os_sleep_ms(VM_WARM_DELAY_MS + 50);
    CHECK_EQ(vm_warm_bytes(), K64);
    q = alloc(K64, MEM_RESERVE);
    CHECK(q && VirtualFree(q, 0, MEM_RELEASE));
    CHECK(vm_warm_bytes() == 0 && !host_maps(p, K64));
    CHECK_EQ(unit_query(p).State, MEM_FREE);
    CHECK_VALID();
}

/* 9. vm_warm_purge unmaps everything kept, whatever its age, and gives
 * the address space back to placement. */
static void test_purge(void)
{
    vm_warm_purge();
    char *a = alloc64(), *b = alloc(M1, MEM_RESERVE);
    CHECK(vm_warm_release(a) && vm_warm_release(b));
    CHECK_EQ(vm_warm_bytes(), K64 + M1);
    vm_warm_purge();
    CHECK_EQ(vm_warm_bytes(), 0);
    CHECK(!host_maps(a, K64) && !host_maps(b, M1));
    CHECK(unit_query(a).State == MEM_FREE && unit_query(b).State == MEM_FREE);
    CHECK_VALID();
    char *again = alloc(K64, MEM_RESERVE);
    CHECK(again == a);                         /* placement may use the space again */
    VirtualFree(again, 0, MEM_RELEASE);
}

/* n blocks of 16 to 2,000 bytes, each written through; how many were made. */
static int fill_heap(HANDLE h, void **blocks, int n)
{
    int made = 0;
    for (int i = 0; i < n; i++) {
        size_t size = 16 + (size_t)(i * 7919u) % 1985;
        if ((blocks[i] = HeapAlloc(h, 0, size)) != NULL) {
            memset(blocks[i], i, size);
            made++;
        }
    }
    return made;
}

/* 10. The heap on top: a destroyed heap's memory is released to the
 * program at once, and a new heap doing the same work finds its pages
 * warm (no page faults to speak of).  HeapCompact gives it all back. */
static void test_heap(void)
{
    enum { N = 2000 };
    static void *blocks[N];
    vm_warm_purge();
    size_t c0 = charge();
    HANDLE h = HeapCreate(0, 0, 0);
    CHECK(h && fill_heap(h, blocks, N) == N);
    void *former = blocks[N / 2];
    CHECK(HeapDestroy(h));
    CHECK_EQ(unit_query(former).State, MEM_FREE);
    CHECK(charge() <= c0 + K64 && charge() + K64 >= c0 && vm_warm_bytes() > 0);
    CHECK_VALID();
    unsigned long f0 = os_page_faults();
    h = HeapCreate(0, 0, 0);
    CHECK(h && fill_heap(h, blocks, N) == N);
    CHECK(os_page_faults() - f0 < 20);
    CHECK(HeapDestroy(h) && vm_warm_bytes() > 0);
    HANDLE other = HeapCreate(0, 0, 0);
    CHECK(other && HeapAlloc(other, 0, 100));
    HeapCompact(other, 0);
    CHECK_EQ(vm_warm_bytes(), 0);
    CHECK(HeapDestroy(other));
    vm_warm_purge();
    CHECK_VALID();
}

/* The host merges a kept span with a neighbour of the same protection
 * into one mapping: VirtualQuery must still end the neighbour's region at
 * the span.  A is a host mapping winmem did not make (inaccessible, so
 * reported reserved), B a winmem reservation right above it, released warm. */
static void test_query_merged(void)
{
    vm_warm_purge();
    char *a = VirtualAlloc(NULL, 2 * K64, MEM_RESERVE, PAGE_READWRITE), *b = a + K64;
    CHECK(a != NULL);
    CHECK_EQ(VirtualFree(a, 0, MEM_RELEASE), TRUE);
    void *at = a;
    CHECK_EQ(os_map(&at, K64, OS_PROT_NONE, OS_MAP_EXACT), 0);
    CHECK_EQ(VirtualAlloc(b, K64, MEM_RESERVE, PAGE_READWRITE), b);
    CHECK_EQ(vm_warm_release(b), TRUE);
    CHECK(kept(b));
    MEMORY_BASIC_INFORMATION m = unit_query(a);
    CHECK_EQ(m.State, MEM_RESERVE);
    CHECK_EQ(m.RegionSize, K64);                 /* not A and B as one */
    m = unit_query(b);
    CHECK_EQ(m.State, MEM_FREE);
    CHECK_EQ(m.BaseAddress, b);
    vm_warm_purge();
    os_unmap(a, K64);
    CHECK_VALID();
}

int main(void)
{
    CHECK_EQ(vm_warm_bytes(), 0);
    test_take_back(test_release_keeps());
    test_partial();
    test_not_plain();
    test_mismatch_and_evict();
    test_placement();
    test_delay();
    test_purge();
    test_heap();
    test_query_merged();
    return unit_finish();
}
