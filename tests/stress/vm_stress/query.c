/*
 * query.c — VirtualQuery checked against the model: any address of a
 * slot's pages answers with the model's region, field by field, and the
 * unused end of a slot's last granule reads free (V3.4), now and then during
 * the run and all at once at the end with one sweep of the host's map.  Also
 * the registry's own validation (R1-R6) and against the host (R7).
 */
#include "stress.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- queries */
static bool mbi_equal(const MEMORY_BASIC_INFORMATION *a, const MEMORY_BASIC_INFORMATION *b)
{
    return a->BaseAddress == b->BaseAddress && a->AllocationBase == b->AllocationBase &&
           a->AllocationProtect == b->AllocationProtect && a->RegionSize == b->RegionSize &&
           a->State == b->State && a->Protect == b->Protect && a->Type == b->Type;
}

/* EXPECT for a query's answer; line is the caller's (all in this file). */
static bool expect_query(struct worker *w, int line, uintptr_t addr,
                         const MEMORY_BASIC_INFORMATION *got, SIZE_T ret,
                         const MEMORY_BASIC_INFORMATION *want)
{
    if (ret != sizeof *got)
        return expect(w, false, __FILE__, line,
                      "VirtualQuery(%#" PRIxPTR ") returned %zu, error %u", addr, (size_t)ret,
                      (unsigned)GetLastError());
    return expect(w, mbi_equal(got, want), __FILE__, line,
                  "VirtualQuery(%#" PRIxPTR "): got {base %p alloc %p/%#x size %#zx state %#x "
                  "protect %#x type %#x}, want {base %p alloc %p/%#x size %#zx state %#x "
                  "protect %#x type %#x}", addr,
                  got->BaseAddress, got->AllocationBase, (unsigned)got->AllocationProtect,
                  (size_t)got->RegionSize, (unsigned)got->State, (unsigned)got->Protect,
                  (unsigned)got->Type, want->BaseAddress, want->AllocationBase,
                  (unsigned)want->AllocationProtect, (size_t)want->RegionSize,
                  (unsigned)want->State, (unsigned)want->Protect, (unsigned)want->Type);
}

/* Queries an address in page i and checks every field against the model;
 * returns the end of the model's region. */
unsigned check_query(struct worker *w, const struct slot *s, unsigned i, uintptr_t addr)
{
    const struct page_model *p = &s->pg[i];
    unsigned end = region_end(s, i);
    MEMORY_BASIC_INFORMATION got, want = {
        .BaseAddress = (PVOID)page_addr(s, i), .AllocationBase = (PVOID)s->base,
        .AllocationProtect = s->alloc_protect, .RegionSize = (end - i) * page,
        .State = p->committed ? MEM_COMMIT : MEM_RESERVE,
        .Protect = p->committed ? p->prot : 0, .Type = MEM_PRIVATE,
    };
    memset(&got, 0xA5, sizeof got);
    SIZE_T ret = VirtualQuery((LPCVOID)addr, &got, sizeof got);
    expect_query(w, __LINE__, addr, &got, ret, &want);
    return end;
}

/* The unused end of the last 64 KiB granule belongs to nobody (V3.4): an
 * address in it (0: any) must read free at least to the granule's end. */
void check_tail(struct worker *w, const struct slot *s, uintptr_t addr)
{
    uintptr_t end = page_addr(s, s->pages), granule_end = wm_align_up(end, VM_GRANULARITY);
    if (end == granule_end)
        return;
    if (!addr)
        addr = end + rnd(w, (unsigned)(granule_end - end));
    uintptr_t at = wm_align_down(addr, page);
    MEMORY_BASIC_INFORMATION got;
    memset(&got, 0xA5, sizeof got);
    SIZE_T ret = VirtualQuery((LPCVOID)addr, &got, sizeof got);
    /* Free memory runs to the next allocation: at least to the granule's end. */
    MEMORY_BASIC_INFORMATION want = {
        .BaseAddress = (PVOID)at, .RegionSize = got.RegionSize,
        .State = MEM_FREE, .Protect = PAGE_NOACCESS,
    };
    if (ret == sizeof got && (got.RegionSize < granule_end - at || got.RegionSize % page))
        want.RegionSize = granule_end - at;
    if (!expect_query(w, __LINE__, addr, &got, ret, &want) && w->reports <= MAX_REPORTS)
        walk_host_map(print_line, &(struct range){ end, granule_end });
}

/* Every region of the slot, its contents, and now and then its granule tail. */
void walk_slot(struct worker *w, size_t k, struct slot *s)
{
    for (unsigned i = 0; i < s->pages;)
        i = check_query(w, s, i, page_addr(s, i) + rnd(w, (unsigned)page));
    if (rnd(w, TAIL_IN_WALKS) == 0)
        check_tail(w, s, 0);
    touch(w, k, s, 0, s->pages);
}

/* ----------------------------------------------------------- validation */
void validate_registry(struct worker *w, const char *when)
{
    const char *why = NULL;
    w->ops[OP_VALIDATE]++;
    vm_lock();                                /* vm_validate takes no lock */
    bool ok = vm_validate(&why);
    vm_unlock();
    EXPECT(w, ok, "%s: vm_validate: %s", when, why);
    ok = vm_validate_host(&why);             /* takes the lock itself */
    EXPECT(w, ok, "%s: vm_validate_host: %s", when, why);
    unsigned long maps = 0;
    walk_host_map(count_line, &maps);
    if (maps > max_maps)
        max_maps = maps;
}

/* Every granule tail that a host mapping reaches into, found with one read
 * of the host's map (a query per tail would read it up to 10,000 times), and
 * then queried: each must still read free (V3.4). */
struct tail_sweep { struct tail *tails; size_t n, at; };

static void sweep_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx)
{
    struct tail_sweep *sw = ctx;
    (void)line;
    while (sw->at < sw->n && sw->tails[sw->at].hi <= lo)
        sw->at++;
    for (size_t j = sw->at; j < sw->n && sw->tails[j].lo < hi; j++)
        if (!sw->tails[j].hit)
            sw->tails[j].hit = lo > sw->tails[j].lo ? lo : sw->tails[j].lo;
}

static int tail_order(const void *a, const void *b)
{
    const struct tail *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* tails has room for SLOTS; it is allocated before the first reservation,
 * as malloc could otherwise map it into a tail itself (it did). */
size_t sweep_tails(struct worker *m, struct worker *workers, struct tail *tails)
{
    size_t n = 0, hits = 0;
    for (int t = 0; t < THREADS; t++)
        for (size_t k = 0; k < SLOTS_PER_THREAD; k++) {
            const struct slot *s = &workers[t].slots[k];
            uintptr_t end = page_addr(s, s->pages);
            if (s->base && end % VM_GRANULARITY)
                tails[n++] = (struct tail){ end, wm_align_up(end, VM_GRANULARITY), 0,
                                            &workers[t], k };
        }
    qsort(tails, n, sizeof *tails, tail_order);
    struct tail_sweep sw = { tails, n, 0 };
    EXPECT(m, walk_host_map(sweep_line, &sw), "cannot read the host's map");
    for (size_t i = 0; i < n; i++)
        if (tails[i].hit) {
            struct worker *w = tails[i].w;
            w->cur = tails[i].k;
            check_tail(w, &w->slots[w->cur], tails[i].hit);
            hits++;
        }
    return hits;
}
