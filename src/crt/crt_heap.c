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

static struct heap *crt_heap_handle;

static struct heap *process_heap(void)
{
    struct heap *h = __atomic_load_n(&crt_heap_handle, __ATOMIC_RELAXED);
    if (wm_unlikely(!h)) {
        h = winmem_GetProcessHeap();
        __atomic_store_n(&crt_heap_handle, h, __ATOMIC_RELAXED);
    }
    return h;
}

static bool ours(const void *p) { return heap_map_find(p) != NULL; }

/* Small-block-heap blocks (crt_sbh.c), likewise only once there are any:
 * their size, or 0 with *mine false for any other pointer. */
static size_t sbh_size(const void *p, bool *mine)
{
    *mine = false;
    return wm_unlikely(__atomic_load_n(&crt_sbh_active, __ATOMIC_ACQUIRE)) ? crt_sbh_size(p, mine) : 0;
}

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

/* malloc when the fast path cannot serve. */
__attribute__((noinline))
static void *malloc_slow(size_t size)
{
    void *p;
    if (wm_unlikely(size > _HEAP_MAXREQ)) {                        /* R3 */
        errno = ENOMEM;
        return NULL;
    }
    if (wm_unlikely(size - 1 < __atomic_load_n(&crt_sbh_limit, __ATOMIC_RELAXED)) &&
        (p = crt_sbh_alloc(size)) != NULL)
        return p;
    if (wm_unlikely(!(p = winmem_HeapAlloc(process_heap(), 0, size))))
        errno = ENOMEM;
    return p;                                                       /* R1: size 0 too */
}

/* The heap's own fast path (heap.h), inlined: a small block costs what
 * HeapAlloc's fast path does, without the call.  Sizes the small-block
 * heap takes, and a thread whose last heap was another, go the long way. */
WINMEM_API void *winmem_malloc(size_t size)
{
    struct heap_thread *t = hf_state_fast(__atomic_load_n(&crt_heap_handle, __ATOMIC_RELAXED));
    void *p;
    if (wm_likely(t && size <= HEAP_FRONT_MAX) &&
        wm_likely(size - 1 >= __atomic_load_n(&crt_sbh_limit, __ATOMIC_RELAXED)) &&
        wm_likely((p = hf_alloc_fast(t, hf_class_growable(size), size)) != NULL))
        return p;
    return malloc_slow(size);
}

WINMEM_API void *winmem_calloc(size_t count, size_t size)
{
    void *p;
    if (size && count > _HEAP_MAXREQ / size) {                     /* R4 */
        errno = ENOMEM;
        return NULL;
    }
    if (wm_unlikely(count * size - 1 < __atomic_load_n(&crt_sbh_limit, __ATOMIC_RELAXED)) &&
        (p = crt_sbh_alloc(count * size)) != NULL)
        return memset(p, 0, count * size);
    if (!(p = winmem_HeapAlloc(process_heap(), HEAP_ZERO_MEMORY, count * size)))
        errno = ENOMEM;
    return p;
}

/* free when the fast path cannot: every kind of block, and bad pointers;
 * errno is set (EINVAL) only for a pointer that is no busy block. */
__attribute__((noinline))
static void free_slow(void *mem)
{
    if (!mem)
        return;
    int sbh = wm_unlikely(__atomic_load_n(&crt_sbh_active, __ATOMIC_ACQUIRE)) ? crt_sbh_free(mem) : 0;
    if (sbh)
        errno = sbh < 0 ? EINVAL : errno;       /* -1: not a busy block there */
    else if (wm_unlikely(!ours(mem)))
        crt_foreign.free(mem);
    else if (wm_unlikely(__atomic_load_n(&crt_debug_used, __ATOMIC_RELAXED)) && crt_debug_free(mem))
        return;
    else if (!winmem_HeapFree(process_heap(), 0, mem))
        failed();
}

/* The heap's free fast path, inlined: a block of a page this thread owns
 * in the process heap.  It takes exact block starts only, so a debug
 * block's data or a small-block-heap pointer always goes the long way. */
static inline bool free_fast(void *mem)
{
    struct heap *h = __atomic_load_n(&crt_heap_handle, __ATOMIC_RELAXED);
    struct heap_thread *t = hf_state_fast(h);
    struct heap_span *span = heap_map_find(mem);
    return wm_likely(t && span && span->heap == h && span->kind == HEAP_SPAN_PAGE) &&
           wm_likely(hf_free_fast(t, wm_container_of(span, struct heap_page, span), mem));
}

WINMEM_API void winmem_free(void *mem)
{
    if (!free_fast(mem))
        free_slow(mem);
}

void crt_free_quiet(void *mem)
{
    if (!free_fast(mem)) {
        int saved = errno;
        free_slow(mem);
        errno = saved;
    }
}

/* realloc of a small-block-heap block of size old (or -1: not busy). */
static void *realloc_small(void *mem, size_t old, size_t size)
{
    if (old == (size_t)-1) {
        errno = EINVAL;
        return NULL;
    }
    if (!size) {
        winmem_free(mem);
        return NULL;
    }
    if (crt_sbh_resize(mem, size))
        return mem;
    void *p = winmem_malloc(size);
    if (p) {
        memcpy(p, mem, old < size ? old : size);
        winmem_free(mem);
    }
    return p;
}

WINMEM_API void *winmem_realloc(void *mem, size_t size)
{
    if (!mem)
        return winmem_malloc(size);                                 /* R5 */
    bool sbh;
    size_t old = sbh_size(mem, &sbh);
    if (sbh)
        return realloc_small(mem, old, size);
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
    bool sbh;
    size_t small = sbh_size(mem, &sbh);
    if (sbh)
        return small;                                               /* -1: not busy */
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
    bool sbh;
    sbh_size(mem, &sbh);
    if (sbh)
        return crt_sbh_resize(mem, size) ? mem : (errno = ENOMEM, NULL);
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
    return winmem_HeapValidate(process_heap(), 0, NULL) && crt_sbh_validate() ? _HEAPOK
                                                                               : _HEAPBADNODE;   /* R7 */
}

WINMEM_API intptr_t winmem__get_heap_handle(void) { return (intptr_t)process_heap(); }

/* _heapwalk's cursor: HeapWalk needs the whole entry, _HEAPINFO keeps only
 * the block, so each thread keeps the last entry it returned; a caller
 * that resumes from any other block costs a walk from the start.  The
 * process heap's blocks come first, then the small-block heap's. */
static __thread PROCESS_HEAP_ENTRY walk_cursor;
static __thread void *walk_small;              /* the last small block returned */
static __thread bool walk_in_small;

static int walk_step(PROCESS_HEAP_ENTRY *e)
{
    do {
        if (!winmem_HeapWalk(process_heap(), e))
            return winmem_GetLastError() == ERROR_NO_MORE_ITEMS ? _HEAPEND : _HEAPBADNODE;
    } while (e->wFlags & (PROCESS_HEAP_REGION | PROCESS_HEAP_UNCOMMITTED_RANGE));
    return _HEAPOK;
}

/* Puts the cursor on `at`, a block a walk returned: _HEAPOK or why not. */
static int walk_seek(void *at)
{
    bool small;
    PROCESS_HEAP_ENTRY *e = &walk_cursor;
    int r;
    if (walk_in_small ? walk_small == at : e->lpData == at)
        return _HEAPOK;
    sbh_size(at, &small);
    if (small) {
        walk_in_small = true;
        walk_small = at;
        return _HEAPOK;
    }
    walk_in_small = false;
    memset(e, 0, sizeof *e);
    while ((r = walk_step(e)) == _HEAPOK && e->lpData != at)
        ;
    return r == _HEAPOK ? _HEAPOK : _HEAPBADNODE;   /* not an entry of the heap */
}

WINMEM_API int winmem__heapwalk(_HEAPINFO *entry)
{
    if (!entry) {
        crt_invalid_parameter();
        errno = EINVAL;
        return _HEAPBADPTR;
    }
    DWORD saved = winmem_GetLastError();
    int r = _HEAPOK;
    if (!entry->_pentry) {
        memset(&walk_cursor, 0, sizeof walk_cursor);
        walk_in_small = false;
        walk_small = NULL;
    } else {
        r = walk_seek(entry->_pentry);
    }
    if (r == _HEAPOK && !walk_in_small) {
        if ((r = walk_step(&walk_cursor)) == _HEAPOK) {
            entry->_pentry = walk_cursor.lpData;
            entry->_size = walk_cursor.cbData;
            entry->_useflag = walk_cursor.wFlags & PROCESS_HEAP_ENTRY_BUSY ? _USEDENTRY : _FREEENTRY;
        } else if (r == _HEAPEND) {
            walk_in_small = true;
            walk_small = NULL;
        }
    }
    if (walk_in_small && (r == _HEAPOK || r == _HEAPEND)) {
        size_t size;
        bool busy;
        void *block;
        r = _HEAPEND;
        if (crt_sbh_next(walk_small, &block, &size, &busy)) {
            walk_small = block;
            entry->_pentry = block;
            entry->_size = size;
            entry->_useflag = busy ? _USEDENTRY : _FREEENTRY;
            r = _HEAPOK;
        }
    }
    winmem_SetLastError(saved);
    return r;
}
