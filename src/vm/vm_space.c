/*
 * vm_space.c — where new allocations go in the address space.
 *
 * Windows hands out reservations bottom-up (MEM_TOP_DOWN asks for the top).
 * winmem keeps an arena for bottom-up reservations well away from where Linux
 * puts its own mappings (the program, brk, the mmap area near the stack) and
 * from the sanitizers' shadow ranges, and places each reservation with one
 * host call at a known-free, 64 KiB-aligned address: the next-fit cursor,
 * moved back down when a lower allocation is released so freed space is used
 * again first.  Consecutive reservations are adjacent, so the host merges
 * their PROT_NONE mappings and the mapping count stays low.
 *
 * MEM_TOP_DOWN reservations come down from the arena's top (ARENA_HIGH), so
 * they lie above every bottom-up one wherever the host puts its own mappings
 * (under an emulator such as qemu-user it puts them low).  A large view of
 * a file starts on 2 MiB (VM_ALLOC_ALIGN_LARGE): the host maps a file's
 * large folios with one fault each only where the address agrees with the
 * file offset, and a 64 KiB-aligned view of a 1 GiB file took 8.5 times the
 * faults of a plain mmap (docs/PERFORMANCE.md).  Large pages, and
 * any reservation the arena cannot take, go to the host's own placement,
 * aligned to 64 KiB by mapping a little more and trimming when the host's
 * choice is not aligned.
 */
#include "vm.h"
#include "../os/os.h"

#include <errno.h>

#define ARENA_LOW  ((uintptr_t)0x0000200000000000)   /* 32 TiB */
#define ARENA_HIGH ((uintptr_t)0x0000500000000000)   /* 80 TiB, below PIE programs */
#define ARENA_STEPS 64                               /* obstacles skipped before giving up */

/* The arena's first granule holds a permanent inaccessible sentinel.  Without
 * it, releasing the only reservation in the arena empties its page-table
 * region, and the host frees those tables with a TLB flush on every
 * decommit and release: measured at twice the raw cost of a whole cycle
 * (docs/PERFORMANCE.md).  VirtualQuery reports it as reserved host memory. */
#define ARENA_FIRST (ARENA_LOW + VM_GRANULARITY)

static uintptr_t cursor = ARENA_FIRST;    /* under the registry lock */
static uintptr_t frontier = ARENA_FIRST;  /* end of the highest bottom-up placement */
static uintptr_t top_cursor = ARENA_HIGH; /* base of the last top-down placement */
static bool sentinel_tried;

static void place_sentinel(void)
{
    sentinel_tried = true;
    void *p = (void *)ARENA_LOW;
    os_map(&p, VM_GRANULARITY, OS_PROT_NONE, OS_MAP_EXACT);   /* best effort */
}

static DWORD map_error(int err)
{
    return err == EEXIST ? ERROR_INVALID_ADDRESS : ERROR_NOT_ENOUGH_MEMORY;
}

/* The end (granule-aligned) of whatever allocation occupies part of
 * [a, a + span), or 0 when the registry has none there. */
static uintptr_t registry_obstacle(uintptr_t a, size_t span)
{
    uintptr_t low, high;
    struct vm_run *r = vm_run_from(a);
    if (!r || r->start >= a + span)
        return vm_warm_overlap(a, span, &low, &high) ? high : 0;
    return r->alloc->base + r->alloc->host_size;
}

/* ThreadSanitizer (clang 14) does not know MAP_FIXED_NOREPLACE: it drops a
 * hint outside its own application ranges and maps at 0.  Under it, every
 * reservation takes the host's placement. */
#if defined(__SANITIZE_THREAD__)
#define ARENA_USABLE 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ARENA_USABLE 0
#endif
#endif
#ifndef ARENA_USABLE
#define ARENA_USABLE 1
#endif

static int place_in_arena(uintptr_t *out, size_t size, int prot, uintptr_t align)
{
    if (!ARENA_USABLE)
        return ENOMEM;
    if (!sentinel_tried)
        place_sentinel();
    size_t span = size;                  /* a whole number of granules */
    uintptr_t a = cursor;
    for (int step = 0; step < ARENA_STEPS; step++) {
        if (step == ARENA_STEPS / 4 && a < frontier)
            a = frontier;       /* many small holes: stop searching them */
        a = wm_align_up(a, align);
        if (a + span > ARENA_HIGH || a + span < a)
            return ENOMEM;
        uintptr_t past = registry_obstacle(a, span);
        if (past) {
            a = past;
            continue;
        }
        void *p = (void *)a;
        int err = os_map(&p, size, prot, OS_MAP_EXACT);
        if (err == 0) {
            *out = a;
            cursor = a + span;
            if (cursor > frontier)
                frontier = cursor;
            return 0;
        }
        if (err != EEXIST)
            return err;
        struct os_mapping m;    /* a mapping winmem did not make is in the way */
        if (!os_mapping_after(a, &m))
            return err;
        a = wm_align_up(m.end, VM_GRANULARITY);
    }
    return ENOMEM;
}

/* The highest free span below top_cursor: the first allocation in the way
 * sends the search below its base, and so does a mapping winmem did not
 * make.  Stops before meeting the bottom-up placements. */
static int place_top_down(uintptr_t *out, size_t size, int prot)
{
    if (!ARENA_USABLE)
        return ENOMEM;
    if (!sentinel_tried)
        place_sentinel();
    uintptr_t top = top_cursor;
    for (int step = 0; step < ARENA_STEPS; step++) {
        if (top < frontier + size)
            return ENOMEM;
        uintptr_t a = top - size;
        struct vm_run *r = vm_run_from(a);
        uintptr_t low, high;
        if (r && r->start < top) {
            top = r->alloc->base;
            continue;
        }
        if (vm_warm_overlap(a, size, &low, &high)) {
            top = low;
            continue;
        }
        void *p = (void *)a;
        int err = os_map(&p, size, prot, OS_MAP_EXACT);
        if (err == 0) {
            *out = a;
            top_cursor = a;
            return 0;
        }
        struct os_mapping m;
        if (err != EEXIST || !os_mapping_after(a, &m) || m.start >= top)
            return err;
        top = wm_align_down(m.start, VM_GRANULARITY);
    }
    return ENOMEM;
}

static int place_by_host(uintptr_t *out, size_t size, int prot, unsigned os_flags)
{
    void *p = NULL;
    int err = os_map(&p, size, prot, os_flags);
    if (err)
        return err;
    if (((uintptr_t)p & (VM_GRANULARITY - 1)) == 0) {
        *out = (uintptr_t)p;
        return 0;
    }
    os_unmap(p, size);
    size_t over = size + VM_GRANULARITY - vm_page_size();
    p = NULL;
    if ((err = os_map(&p, over, prot, os_flags)) != 0)
        return err;
    uintptr_t lo = (uintptr_t)p, a = wm_align_up(lo, VM_GRANULARITY);
    if (a > lo)
        os_unmap(p, a - lo);
    if (lo + over > a + size)
        os_unmap((void *)(a + size), lo + over - (a + size));
    *out = a;
    return 0;
}

DWORD vm_space_map(uintptr_t *addr, size_t size, int prot, unsigned flags)
{
    unsigned os_flags = (flags & VM_ALLOC_LARGE_PAGES) ? OS_MAP_HUGE : 0;
    int err;
    if (*addr) {
        void *p = (void *)*addr;
        err = os_map(&p, size, prot, OS_MAP_EXACT | os_flags);
        return err ? map_error(err) : 0;
    }
    if (!(flags & VM_ALLOC_LARGE_PAGES)) {
        uintptr_t align = (flags & VM_ALLOC_ALIGN_LARGE) ? VM_LARGE_ALIGN : VM_GRANULARITY;
        err = (flags & VM_ALLOC_TOP_DOWN) ? place_top_down(addr, size, prot)
                                          : place_in_arena(addr, size, prot, align);
        if (err == 0)
            return 0;
    }
    err = place_by_host(addr, size, prot, os_flags);
    return err ? ERROR_NOT_ENOUGH_MEMORY : 0;
}

void vm_space_released(uintptr_t base)
{
    if (base >= ARENA_FIRST && base < cursor)
        cursor = base;
    if (base >= top_cursor && base < ARENA_HIGH)
        top_cursor = ARENA_HIGH;        /* room above: search from the top again */
}
