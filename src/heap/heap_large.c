/*
 * heap_large.c — blocks of HEAP_LARGE_MIN bytes and more in growable heaps,
 * each in a reservation of its own (reference H14), released by HeapFree
 * and by HeapDestroy.  The descriptor is out of band and the block's data
 * starts at the reservation's base; the reservation covers whole granules,
 * so a block may grow in place up to the end of its last granule.
 */
#include "heap.h"
#include "../os/os.h"

#include <string.h>

static struct wm_pool large_pool = WM_POOL_INIT(struct heap_large);

static size_t page_up(size_t n) { return wm_align_up(n ? n : 1, os_page_size()); }

DWORD hl_alloc(struct heap *h, size_t size, void **out)
{
    if (size > VM_MAX_ADDRESS / 2)
        return ERROR_NOT_ENOUGH_MEMORY;
    size_t reserve = wm_align_up(size ? size : 1, VM_GRANULARITY), commit = page_up(size);
    struct heap_large *l = heap_meta_get(&large_pool);
    if (!l)
        return ERROR_NOT_ENOUGH_MEMORY;
    char *base = winmem_VirtualAlloc(NULL, reserve, MEM_RESERVE, h->back.protect);
    if (base)
        l->span = (struct heap_span){ HEAP_SPAN_LARGE, h, (uintptr_t)base, reserve };
    if (!base || !winmem_VirtualAlloc(base, commit, MEM_COMMIT, h->back.protect) ||
        !heap_map_set((uintptr_t)base, reserve, &l->span)) {
        if (base)
            winmem_VirtualFree(base, 0, MEM_RELEASE);
        heap_meta_put(&large_pool, l);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    l->size = size;
    l->committed = commit;
    l->prev = NULL;
    l->next = h->large;
    if (h->large)
        h->large->prev = l;
    h->large = l;
    h->large_bytes += commit;
    *out = base;
    return 0;
}

static void release(struct heap_large *l)
{
    heap_map_clear(l->span.base, l->span.size);
    winmem_VirtualFree((void *)l->span.base, 0, MEM_RELEASE);
    heap_meta_put(&large_pool, l);
}

void hl_free(struct heap *h, struct heap_large *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        h->large = l->next;
    if (l->next)
        l->next->prev = l->prev;
    h->large_bytes -= l->committed;
    release(l);
}

/* Windows decommits the tail of a large block shrunk in place (H19). */
bool hl_resize(struct heap *h, struct heap_large *l, size_t size)
{
    size_t commit = page_up(size);
    if (commit > l->span.size)
        return false;
    if (commit > l->committed &&
        !winmem_VirtualAlloc((void *)(l->span.base + l->committed), commit - l->committed,
                             MEM_COMMIT, h->back.protect))
        return false;
    if (commit < l->committed)
        winmem_VirtualFree((void *)(l->span.base + commit), l->committed - commit, MEM_DECOMMIT);
    h->large_bytes += commit - l->committed;
    l->committed = commit;
    l->size = size;
    return true;
}

void hl_destroy_all(struct heap *h)
{
    for (struct heap_large *l = h->large, *next; l; l = next) {
        next = l->next;
        release(l);
    }
    h->large = NULL;
    h->large_bytes = 0;
}

