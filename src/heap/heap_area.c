/*
 * heap_area.c — the areas front-end pages are cut from (heap.h, struct
 * hf_area).
 *
 * A heap reserves an area of 1 MiB, then 2, then 4 MiB for each one after,
 * committed whole, and cuts its pages from them in HF_UNIT pieces, the
 * oldest area first and committed (warm) units before decommitted ones, so
 * that a page costs no call to vm.  A unit given back stays committed for
 * the next page of any class and size until the purge delay has passed;
 * then the next page taken or given back decommits it.  An area with no
 * page goes back to vm (which keeps it warm for the next heap), but for the
 * heap's last one, which HeapCompact and HeapDestroy give back too.  All
 * under the heap's lock.
 */
#include "heap.h"
#include "../os/os.h"

#define AREA_FIRST ((size_t)1 << 20)       /* then twice that, then AREA_MAX */
#define AREA_MAX ((size_t)4 << 20)
#define PURGE_DELAY_NS ((uint64_t)VM_WARM_DELAY_MS * 1000000)
static struct wm_pool area_pool = WM_POOL_INIT(struct hf_area);

static uint64_t unit_mask(unsigned first, unsigned n)
{
    return (n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << first;
}

/* Where n set bits in a row start in bits, or -1. */
static int run_of(uint64_t bits, unsigned n)
{
    uint64_t m = bits;
    for (unsigned k = 1; k < n && m; k++)
        m &= bits >> k;
    return m ? __builtin_ctzll(m) : -1;
}

static struct hf_area *area_new(struct heap *h)
{
    unsigned count = 0;
    struct hf_area **link = &h->areas;
    for (; *link; link = &(*link)->next)
        count++;
    size_t bytes = count >= 2 ? AREA_MAX : AREA_FIRST << count, committed;
    struct hf_area *a = heap_meta_get(&area_pool);
    if (!a)
        return NULL;
    void *base = vm_warm_alloc(bytes, bytes, h->back.protect, &committed);
    if (!base)
        base = winmem_VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, h->back.protect);
    if (!base) {
        heap_meta_put(&area_pool, a);
        return NULL;
    }
    unsigned units = (unsigned)(bytes / HF_UNIT);
    *a = (struct hf_area){ NULL, (uintptr_t)base, units, unit_mask(0, units), unit_mask(0, units), 0 };
    *link = a;                                   /* the oldest first: they fill first */
    h->area_bytes += bytes;
    h->area_committed += bytes;
    return a;
}

static void area_release(struct heap *h, struct hf_area *a)
{
    for (struct hf_area **link = &h->areas; *link; link = &(*link)->next)
        if (*link == a) {
            *link = a->next;
            break;
        }
    h->area_bytes -= (size_t)a->units * HF_UNIT;
    h->area_committed -= (size_t)__builtin_popcountll(a->committed) * HF_UNIT;
    vm_warm_release((void *)a->base);
    heap_meta_put(&area_pool, a);
}

/* Decommits the free units that have waited out the purge delay (all of
 * them with all), and gives back empty areas but the only one (every one
 * with all).  Sets h->purge_at for what is left waiting. */
void hf_areas_purge(struct heap *h, bool all)
{
    uint64_t now = os_coarse_ns(), next = 0;
    for (struct hf_area *a = h->areas, *following; a; a = following) {
        following = a->next;
        uint64_t idle = a->free & a->committed;
        if (a->free == unit_mask(0, a->units) && (all || h->areas != a || a->next)) {
            area_release(h, a);
            continue;
        }
        if (!idle)
            continue;
        if (!all && now - a->freed_at < PURGE_DELAY_NS) {
            uint64_t at = a->freed_at + PURGE_DELAY_NS;
            next = next && next < at ? next : at;
            continue;
        }
        for (int i; (i = __builtin_ffsll((long long)idle) - 1) >= 0;) {
            uint64_t past = ~(idle >> i);              /* the run of idle units at i ends */
            unsigned n = past ? (unsigned)__builtin_ctzll(past) : 64u - (unsigned)i;
            if (winmem_VirtualFree((void *)(a->base + (uintptr_t)i * HF_UNIT), n * HF_UNIT, MEM_DECOMMIT)) {
                a->committed &= ~unit_mask((unsigned)i, n);
                h->area_committed -= n * HF_UNIT;
            }
            idle &= ~unit_mask((unsigned)i, n);
        }
    }
    h->purge_at = next;
}

/* Under the heap's lock: n units in a row for a page, committed, warm ones
 * first; 0 when memory ran out. */
uintptr_t hf_units_take(struct heap *h, unsigned n)
{
    struct hf_area *a = NULL;
    int at = -1;
    for (int pass = 0; pass < 2 && at < 0; pass++)
        for (a = h->areas; a && (at = run_of(pass ? a->free : a->free & a->committed, n)) < 0;)
            a = a->next;
    if (at < 0) {
        if (!(a = area_new(h)))
            return 0;
        at = 0;
    }
    uint64_t m = unit_mask((unsigned)at, n), cold = m & ~a->committed;
    uintptr_t base = a->base + (uintptr_t)at * HF_UNIT;
    for (int i; (i = __builtin_ffsll((long long)cold) - 1) >= 0; cold &= cold - 1) {
        if (!winmem_VirtualAlloc((void *)(a->base + (uintptr_t)i * HF_UNIT), HF_UNIT, MEM_COMMIT,
                                 h->back.protect))
            return 0;                  /* the units committed so far stay so, free */
        a->committed |= (uint64_t)1 << i;
        h->area_committed += HF_UNIT;
    }
    a->free &= ~m;
    return base;
}

/* The area of h that holds address p, or NULL. */
static struct hf_area *area_of(const struct heap *h, uintptr_t p)
{
    struct hf_area *a = h->areas;
    while (a && !(a->base <= p && p - a->base < (uintptr_t)a->units * HF_UNIT))
        a = a->next;
    return a;
}

void hf_units_give(struct heap *h, uintptr_t base, unsigned n)
{
    struct hf_area *a = area_of(h, base);
    WM_ASSERT(a);
    a->free |= unit_mask((unsigned)((base - a->base) / HF_UNIT), n);
    a->freed_at = os_coarse_ns();
    if (a->free == unit_mask(0, a->units) || !h->purge_at)
        hf_areas_purge(h, false);
}

void hf_areas_tick(struct heap *h)
{
    if (h->purge_at && os_coarse_ns() >= h->purge_at)
        hf_areas_purge(h, false);
}

bool hf_units_in_use(const struct heap *h, uintptr_t base, size_t size)
{
    const struct hf_area *a = area_of(h, base);
    if (!a || base + size > a->base + (uintptr_t)a->units * HF_UNIT)
        return false;
    return !(a->free & unit_mask((unsigned)((base - a->base) / HF_UNIT), (unsigned)(size / HF_UNIT)));
}

/* P6 for the areas: their maps, totals and the units the pages use. */
bool hf_areas_validate(const struct heap *h, const char **why)
{
    size_t used_units = 0, committed = 0, reserved = 0;
    for (const struct hf_area *a = h->areas; a; a = a->next) {
        if ((a->free | a->committed) & ~unit_mask(0, a->units))
            return *why = "an area's unit maps go past its end", false;
        used_units += a->units - (size_t)__builtin_popcountll(a->free);
        committed += (size_t)__builtin_popcountll(a->committed) * HF_UNIT;
        reserved += (size_t)a->units * HF_UNIT;
        if (~a->free & ~a->committed & unit_mask(0, a->units))
            return *why = "a page's units are not committed", false;
    }
    if (committed != h->area_committed || reserved != h->area_bytes)
        return *why = "the heap's area totals differ from its areas", false;
    if (used_units * HF_UNIT != h->page_bytes)
        return *why = "the units in use differ from the pages", false;
    return true;
}
