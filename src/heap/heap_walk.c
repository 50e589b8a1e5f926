/*
 * heap_walk.c — looking at a heap as a whole: HeapWalk, HeapValidate,
 * HeapCompact and HeapSummary (reference H26-H36, H41).
 *
 * HeapWalk's cursor is the entry the caller hands back: for each back-end
 * segment a REGION entry, then its blocks in address order (busy ones with
 * the size asked for, free ones with their capacity), then its uncommitted
 * tail; then each front-end page as a REGION followed by its blocks; large
 * blocks come last.  Every cursor is checked against the heap
 * before it is followed, so a stale or forged entry ends the walk with
 * ERROR_INVALID_PARAMETER instead of reading at random.
 */
#include "heap.h"
#include "../os/os.h"

#include <string.h>

#define LARGE_REGION_INDEX 64         /* what Wine reports for large blocks */
#define PAGE_REGION_INDEX 65          /* front-end pages and their blocks */
#define UNIT 16u

_Static_assert(sizeof(PROCESS_HEAP_ENTRY) == 40, "PROCESS_HEAP_ENTRY is 40 bytes on x64");

static struct heap_segment *region(struct heap *h, unsigned index)
{
    struct heap_segment *s = h->back.segments;
    while (s && index--)
        s = s->next;
    return s;
}

static void region_entry(PROCESS_HEAP_ENTRY *e, const struct heap_segment *s, unsigned index)
{
    memset(e, 0, sizeof *e);
    e->lpData = (void *)s->base;
    e->cbData = (DWORD)(s->reserved_end - s->base);
    e->iRegionIndex = (BYTE)index;
    e->wFlags = PROCESS_HEAP_REGION;
    e->Region.dwCommittedSize = (DWORD)(s->committed_end - s->base);
    e->Region.dwUnCommittedSize = (DWORD)(s->reserved_end - s->committed_end);
    e->Region.lpFirstBlock = (void *)s->base;
    e->Region.lpLastBlock = (void *)s->reserved_end;
}

static bool block_entry(struct heap *h, PROCESS_HEAP_ENTRY *e, const struct heap_segment *s,
                        uintptr_t block, unsigned index)
{
    struct hb_block_info info;
    if (!hb_block_info(&h->back, s, block, &info))
        return false;
    memset(e, 0, sizeof *e);
    e->lpData = (void *)(block + UNIT);
    e->cbData = (DWORD)info.size;
    e->cbOverhead = (BYTE)(UNIT + info.capacity - info.size);
    e->iRegionIndex = (BYTE)index;
    e->wFlags = info.busy ? PROCESS_HEAP_ENTRY_BUSY : 0;
    return true;
}

static void large_entry(PROCESS_HEAP_ENTRY *e, const struct heap_large *l)
{
    memset(e, 0, sizeof *e);
    e->lpData = (void *)l->span.base;
    e->cbData = (DWORD)l->size;
    e->iRegionIndex = LARGE_REGION_INDEX;
    e->wFlags = PROCESS_HEAP_ENTRY_BUSY;
}

static void page_entry(PROCESS_HEAP_ENTRY *e, const struct heap_page *pg)
{
    memset(e, 0, sizeof *e);
    e->lpData = (void *)pg->span.base;
    e->cbData = (DWORD)pg->span.size;
    e->iRegionIndex = PAGE_REGION_INDEX;
    e->wFlags = PROCESS_HEAP_REGION;
    e->Region.dwCommittedSize = (DWORD)pg->span.size;
    e->Region.lpFirstBlock = (void *)pg->span.base;
    e->Region.lpLastBlock = (void *)(pg->span.base + pg->span.size);
}

/* Front-end pages, then large blocks: the entry after `pg` (NULL: after the
 * back end's last region); false at the very end. */
static bool after_page(struct heap *h, PROCESS_HEAP_ENTRY *e, const struct heap_page *pg)
{
    const struct heap_page *next = pg ? pg->all_next : h->pages;
    if (next) {
        page_entry(e, next);
        return true;
    }
    if (h->large) {
        large_entry(e, h->large);
        return true;
    }
    return false;
}

/* The entry after the end of region `index`: the next region, or what
 * follows the back end; false at the very end. */
static bool after_region(struct heap *h, PROCESS_HEAP_ENTRY *e, unsigned index)
{
    struct heap_segment *next = region(h, index + 1);
    if (next) {
        region_entry(e, next, index + 1);
        return true;
    }
    return after_page(h, e, NULL);
}

/* The entry after e, which is inside page pg: its REGION entry when
 * at_region, else one of its blocks. */
static DWORD page_next(struct heap *h, PROCESS_HEAP_ENTRY *e, struct heap_page *pg, bool at_region)
{
    uint32_t i = 0;
    if (!at_region) {
        uintptr_t at = (uintptr_t)e->lpData;
        i = (uint32_t)((at - pg->span.base) / pg->block_size) + 1;
    }
    size_t size;
    bool busy;
    if (hf_block_at(pg, i, &size, &busy)) {
        memset(e, 0, sizeof *e);
        e->lpData = (void *)(pg->span.base + (uintptr_t)i * pg->block_size);
        e->cbData = (DWORD)size;
        e->cbOverhead = (BYTE)(pg->block_size - size);
        e->iRegionIndex = PAGE_REGION_INDEX;
        e->wFlags = busy ? PROCESS_HEAP_ENTRY_BUSY : 0;
        return 0;
    }
    return after_page(h, e, pg) ? 0 : ERROR_NO_MORE_ITEMS;
}

/* Advances e; 0, ERROR_NO_MORE_ITEMS or ERROR_INVALID_PARAMETER. */
static DWORD walk_next(struct heap *h, PROCESS_HEAP_ENTRY *e)
{
    if (!e->lpData) {
        struct heap_segment *first = region(h, 0);
        if (!first)
            return ERROR_NO_MORE_ITEMS;
        region_entry(e, first, 0);
        return 0;
    }
    unsigned index = e->iRegionIndex;
    struct heap_segment *seg;
    struct heap_large *l;
    struct heap_page *pg;
    if (index == PAGE_REGION_INDEX) {
        if (heap_resolve(h, e->lpData, &seg, &l, &pg) != OWN_PAGE)
            return ERROR_INVALID_PARAMETER;
        return page_next(h, e, pg, e->wFlags & PROCESS_HEAP_REGION);
    }
    if (index == LARGE_REGION_INDEX && !(e->wFlags & PROCESS_HEAP_REGION)) {
        if (heap_resolve(h, e->lpData, &seg, &l, &pg) != OWN_LARGE)
            return ERROR_INVALID_PARAMETER;
        if (!l->next)
            return ERROR_NO_MORE_ITEMS;
        large_entry(e, l->next);
        return 0;
    }
    struct heap_segment *s = region(h, index);
    if (!s)
        return ERROR_INVALID_PARAMETER;
    uintptr_t next;
    if (e->wFlags & PROCESS_HEAP_REGION) {
        if ((uintptr_t)e->lpData != s->base)
            return ERROR_INVALID_PARAMETER;
        next = s->base;
    } else if (e->wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE) {
        return after_region(h, e, index) ? 0 : ERROR_NO_MORE_ITEMS;
    } else {
        struct hb_block_info info;
        uintptr_t block = (uintptr_t)e->lpData - UNIT;
        if (!hb_block_info(&h->back, s, block, &info))
            return ERROR_INVALID_PARAMETER;
        next = info.next;
    }
    if (next < s->committed_end)
        return block_entry(h, e, s, next, index) ? 0 : ERROR_INVALID_PARAMETER;
    if (s->committed_end < s->reserved_end) {
        memset(e, 0, sizeof *e);
        e->lpData = (void *)s->committed_end;
        e->cbData = (DWORD)(s->reserved_end - s->committed_end);
        e->iRegionIndex = (BYTE)index;
        e->wFlags = PROCESS_HEAP_UNCOMMITTED_RANGE;
        return 0;
    }
    return after_region(h, e, index) ? 0 : ERROR_NO_MORE_ITEMS;
}

WINMEM_API BOOL winmem_HeapWalk(HANDLE handle, LPPROCESS_HEAP_ENTRY entry)
{
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    if (!entry)
        return wm_set_error(ERROR_NOACCESS), FALSE;
    heap_lock(h, 0);
    DWORD err = walk_next(h, entry);
    heap_unlock(h, 0);
    return err ? (wm_set_error(err), FALSE) : TRUE;                /* H31 */
}

/* H26-H28: the whole heap, or one block; the last error is left alone. */
WINMEM_API BOOL winmem_HeapValidate(HANDLE handle, DWORD flags, LPCVOID mem)
{
    DWORD saved = winmem_GetLastError();
    struct heap *h = heap_of(handle);
    bool ok = false;
    if (h) {
        struct heap_segment *seg;
        struct heap_large *large;
        struct heap_page *page;
        const char *why;
        size_t size;
        heap_lock(h, flags | h->flags);
        if (!mem)
            ok = hb_validate(&h->back, &why) && hf_validate(h, &why);
        else
            switch (heap_resolve(h, mem, &seg, &large, &page)) {
            case OWN_PAGE:  ok = hf_size(page, mem, &size) == HB_OK; break;
            case OWN_BACK:  ok = hb_check_block(&h->back, seg, mem) == HB_OK; break;
            case OWN_LARGE: ok = true; break;
            case OWN_NONE:  ok = false; break;
            }
        heap_unlock(h, flags | h->flags);
    }
    winmem_SetLastError(saved);
    return ok;
}

/* H36: coalescing is done on every free already; this gives back free
 * pages and empty segments, then reports the largest committed free block;
 * 0 with NO_ERROR when there is none. */
WINMEM_API SIZE_T winmem_HeapCompact(HANDLE handle, DWORD flags)
{
    struct heap *h = heap_of(handle);
    if (!h)
        return 0;
    heap_lock(h, flags | h->flags);
    hf_trim(h);
    hb_trim(&h->back);
    size_t largest = hb_largest_free(&h->back);
    heap_unlock(h, flags | h->flags);
    vm_warm_purge();                     /* and what vm keeps warm goes back now */
    if (!largest)
        wm_set_error(NO_ERROR);
    return largest;
}

WINMEM_API BOOL winmem_HeapSummary(HANDLE handle, DWORD flags, LPHEAP_SUMMARY summary)
{
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    if (!summary || summary->cb != sizeof *summary)
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    heap_lock(h, flags | h->flags);
    size_t allocated = 0, reserved = h->back.reserved;
    for (struct heap_segment *s = h->back.segments; s; s = s->next) {
        struct hb_block_info info;
        for (uintptr_t at = s->base; at < s->committed_end && hb_block_info(&h->back, s, at, &info);
             at = info.next)
            allocated += info.busy ? info.size : 0;
    }
    for (struct heap_large *l = h->large; l; l = l->next) {
        allocated += l->size;
        reserved += l->span.size;
    }
    for (struct heap_page *pg = h->pages; pg; pg = pg->all_next) {
        size_t size;
        bool busy;
        for (uint32_t i = 0; hf_block_at(pg, i, &size, &busy); i++)
            allocated += busy ? size : 0;
    }
    reserved += h->area_bytes;
    summary->cbAllocated = allocated;
    summary->cbCommitted = h->back.committed + h->large_bytes + h->area_committed;
    summary->cbReserved = reserved;
    summary->cbMaxReserve = (h->flags & HEAP_GROWABLE) ? 0 : h->back.reserved;
    heap_unlock(h, flags | h->flags);
    return TRUE;
}
