/*
 * crt_heap.c — malloc and its family with MSVC's rules, and MSVC's
 * additions, on the process heap (crt.h; reference R1-R9).
 *
 * Each call decides once whether a pointer is winmem's (the heap map knows
 * every span of every heap) and hands anything else to crt_foreign, so a
 * pointer from the host's malloc is never read as a heap block.
 */
#include "crt.h"
#include "../heap/heap.h"

#include <errno.h>
#include <string.h>

static HANDLE crt_heap_handle;

static HANDLE process_heap(void)
{
    HANDLE h = __atomic_load_n(&crt_heap_handle, __ATOMIC_RELAXED);
    if (wm_unlikely(!h)) {
        h = winmem_GetProcessHeap();
        __atomic_store_n(&crt_heap_handle, h, __ATOMIC_RELAXED);
    }
    return h;
}

static bool ours(const void *p) { return heap_map_find(p) != NULL; }

/* Debug blocks (crt_debug.c) are looked for only once there are any. */
static bool debug_block(const void *p)
{
    return wm_unlikely(__atomic_load_n(&crt_debug_used, __ATOMIC_RELAXED)) &&
           crt_debug_size(p) != (size_t)-1;
}

/* errno for a heap call that failed, from its last error (the UCRT's
 * mapping for the two the heap gives). */
static void *failed(void)
{
    errno = winmem_GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? ENOMEM : EINVAL;
    return NULL;
}

WINMEM_API void *winmem_malloc(size_t size)
{
    void *p;
    if (wm_unlikely(size > _HEAP_MAXREQ)) {                        /* R3 */
        errno = ENOMEM;
        return NULL;
    }
    if (wm_unlikely(!(p = winmem_HeapAlloc(process_heap(), 0, size))))
        errno = ENOMEM;
    return p;                                                       /* R1: size 0 too */
}

WINMEM_API void *winmem_calloc(size_t count, size_t size)
{
    void *p;
    if (size && count > _HEAP_MAXREQ / size) {                     /* R4 */
        errno = ENOMEM;
        return NULL;
    }
    if (!(p = winmem_HeapAlloc(process_heap(), HEAP_ZERO_MEMORY, count * size)))
        errno = ENOMEM;
    return p;
}

WINMEM_API void winmem_free(void *mem)
{
    if (!mem)
        return;
    if (wm_unlikely(!ours(mem)))
        crt_foreign.free(mem);
    else if (wm_unlikely(__atomic_load_n(&crt_debug_used, __ATOMIC_RELAXED)) && crt_debug_free(mem))
        return;
    else if (!winmem_HeapFree(process_heap(), 0, mem))
        failed();
}

WINMEM_API void *winmem_realloc(void *mem, size_t size)
{
    if (!mem)
        return winmem_malloc(size);                                 /* R5 */
    if (wm_unlikely(!ours(mem))) {
        if (crt_foreign.realloc)
            return crt_foreign.realloc(mem, size);
        errno = ENOMEM;
        return NULL;
    }
    if (!size) {
        winmem_free(mem);                                           /* R5: MSVC frees */
        return NULL;
    }
    if (size > _HEAP_MAXREQ) {
        errno = ENOMEM;
        return NULL;
    }
    if (debug_block(mem))
        return crt_debug_realloc(mem, size, _NORMAL_BLOCK, NULL, 0);
    void *p = winmem_HeapReAlloc(process_heap(), 0, mem, size);
    return p ? p : failed();                                        /* mem untouched */
}

WINMEM_API size_t winmem__msize(void *mem)
{
    if (!mem) {
        crt_invalid_parameter();                                    /* R9 */
        errno = EINVAL;
        return (size_t)-1;
    }
    if (!ours(mem))
        return crt_foreign.size(mem);
    if (debug_block(mem))
        return crt_debug_size(mem);
    return winmem_HeapSize(process_heap(), 0, mem);                 /* R2 */
}

WINMEM_API void *winmem__expand(void *mem, size_t size)
{
    if (!mem) {
        crt_invalid_parameter();
        errno = EINVAL;
        return NULL;
    }
    if (size > _HEAP_MAXREQ || !ours(mem)) {
        errno = ENOMEM;
        return NULL;
    }
    if (debug_block(mem))
        return winmem__expand_dbg(mem, size, _NORMAL_BLOCK, NULL, 0);
    void *p = winmem_HeapReAlloc(process_heap(), HEAP_REALLOC_IN_PLACE_ONLY, mem, size);
    return p ? p : failed();                                        /* R6 */
}

WINMEM_API void *winmem__recalloc(void *mem, size_t count, size_t size)
{
    if (size && count > _HEAP_MAXREQ / size) {
        errno = ENOMEM;
        return NULL;
    }
    size_t old = mem ? winmem__msize(mem) : 0, bytes = count * size;
    if (old == (size_t)-1) {
        errno = EINVAL;
        return NULL;
    }
    char *p = winmem_realloc(mem, bytes);
    if (p && bytes > old)
        memset(p + old, 0, bytes - old);
    return p;
}

/* -------------------------------------------------------- heap as whole */
WINMEM_API int winmem__heapmin(void)
{
    winmem_HeapCompact(process_heap(), 0);
    return 0;
}

WINMEM_API int winmem__heapchk(void)
{
    return winmem_HeapValidate(process_heap(), 0, NULL) ? _HEAPOK : _HEAPBADNODE;   /* R7 */
}

WINMEM_API intptr_t winmem__get_heap_handle(void) { return (intptr_t)process_heap(); }

/* _heapwalk's cursor: HeapWalk needs the whole entry, _HEAPINFO keeps only
 * the block, so each thread keeps the last entry it returned; a caller
 * that resumes from any other block costs a walk from the start. */
static __thread PROCESS_HEAP_ENTRY walk_cursor;

static int walk_step(PROCESS_HEAP_ENTRY *e)
{
    do {
        if (!winmem_HeapWalk(process_heap(), e))
            return winmem_GetLastError() == ERROR_NO_MORE_ITEMS ? _HEAPEND : _HEAPBADNODE;
    } while (e->wFlags & (PROCESS_HEAP_REGION | PROCESS_HEAP_UNCOMMITTED_RANGE));
    return _HEAPOK;
}

WINMEM_API int winmem__heapwalk(_HEAPINFO *entry)
{
    if (!entry) {
        crt_invalid_parameter();
        errno = EINVAL;
        return _HEAPBADPTR;
    }
    DWORD saved = winmem_GetLastError();
    PROCESS_HEAP_ENTRY *e = &walk_cursor;
    int r = _HEAPOK;
    if (!entry->_pentry) {
        memset(e, 0, sizeof *e);
    } else if (e->lpData != entry->_pentry) {
        memset(e, 0, sizeof *e);
        while ((r = walk_step(e)) == _HEAPOK && e->lpData != entry->_pentry)
            ;
        if (r != _HEAPOK)
            r = _HEAPBADNODE;                   /* not an entry of the heap */
    }
    if (r == _HEAPOK && (r = walk_step(e)) == _HEAPOK) {
        entry->_pentry = e->lpData;
        entry->_size = e->cbData;
        entry->_useflag = e->wFlags & PROCESS_HEAP_ENTRY_BUSY ? _USEDENTRY : _FREEENTRY;
    }
    winmem_SetLastError(saved);
    return r;
}
