/*
 * heap_api.c — the Win32 heap functions: handles, the process heap, and
 * every pointer a caller hands in resolved through the map before anything
 * trusts it (heap.h).  Reference ../shared/reference/heap.md, Part H.
 *
 * Small blocks of a busy class come from the front end without the heap's
 * lock; the rest take the lock for the back end or the large-block path.
 */
#include "heap.h"
#include "../os/os.h"

#include <string.h>

#define CREATE_OPTIONS (HEAP_NO_SERIALIZE | HEAP_GENERATE_EXCEPTIONS | HEAP_CREATE_ENABLE_EXECUTE)
#define CALL_FLAGS (HEAP_NO_SERIALIZE | HEAP_GENERATE_EXCEPTIONS | HEAP_ZERO_MEMORY | \
                    HEAP_REALLOC_IN_PLACE_ONLY)

static pthread_mutex_t list_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct heap *heap_list;                    /* process heap first */
static size_t heap_count;
static uint32_t next_id = 1;
static struct wm_pool heap_pool = WM_POOL_INIT(struct heap);
static struct heap *process_heap;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static bool terminate_on_corruption;

/* ------------------------------------------------------------ lifetime */
static struct heap *heap_new(DWORD options, size_t initial, size_t maximum)
{
    pthread_mutex_lock(&list_mutex);
    struct heap *h = wm_pool_get(&heap_pool);
    pthread_mutex_unlock(&list_mutex);
    if (!h)
        return NULL;
    memset(h, 0, sizeof *h);
    DWORD protect = (options & HEAP_CREATE_ENABLE_EXECUTE) ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
    if (hb_init(&h->back, h, initial, maximum, protect) != 0) {
        pthread_mutex_lock(&list_mutex);
        wm_pool_put(&heap_pool, h);
        pthread_mutex_unlock(&list_mutex);
        return NULL;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&h->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    h->flags = (options & CREATE_OPTIONS) | (maximum ? 0 : HEAP_GROWABLE);
    pthread_mutex_lock(&list_mutex);
    __atomic_store_n(&h->id, next_id++, __ATOMIC_RELEASE);
    h->magic = HEAP_MAGIC;
    struct heap **at = heap_list ? &heap_list->next : &heap_list;   /* keep the process heap first */
    h->prev = heap_list ? heap_list : NULL;
    h->next = *at;
    if (*at)
        (*at)->prev = h;
    *at = h;
    heap_count++;
    pthread_mutex_unlock(&list_mutex);
    return h;
}

static void make_process_heap(void) { process_heap = heap_new(0, 0, 0); }

/* fork() while another thread holds a heap would leave the child a lock
 * nobody releases: every heap is held across the fork, and the child
 * starts its locks afresh.  (DESIGN.md: fork leaves the child working heaps.) */
static void fork_prepare(void)
{
    hf_fork_lock();
    pthread_mutex_lock(&list_mutex);
    for (struct heap *h = heap_list; h; h = h->next)
        pthread_mutex_lock(&h->lock);
}

static void fork_parent(void)
{
    for (struct heap *h = heap_list; h; h = h->next)
        pthread_mutex_unlock(&h->lock);
    pthread_mutex_unlock(&list_mutex);
    hf_fork_unlock();
}

static void fork_child(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    for (struct heap *h = heap_list; h; h = h->next) {
        pthread_mutex_init(&h->lock, &attr);
        hf_fork_child_heap(h);
    }
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&list_mutex, NULL);
    hf_fork_child();
}

__attribute__((constructor)) static void heap_api_init(void)
{
    os_atfork(fork_prepare, fork_parent, fork_child);
}

WINMEM_API HANDLE winmem_GetProcessHeap(void)
{
    pthread_once(&process_once, make_process_heap);
    return process_heap;
}

/* The heap behind a handle, or NULL (and ERROR_INVALID_HANDLE) when it is
 * not a live heap.  Heap structures come from a pool that is never given
 * back to the host, so reading a stale handle's magic cannot fault. */
struct heap *heap_of(HANDLE handle)
{
    struct heap *h = handle;
    if (h == NULL || ((uintptr_t)h & 7) || __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != HEAP_MAGIC) {
        wm_set_error(ERROR_INVALID_HANDLE);
        return NULL;
    }
    return h;
}

WINMEM_API HANDLE winmem_HeapCreate(DWORD options, SIZE_T initial, SIZE_T maximum)
{
    winmem_GetProcessHeap();
    struct heap *h = heap_new(options, initial, maximum);
    if (!h)
        wm_set_error(ERROR_NOT_ENOUGH_MEMORY);
    return h;
}

WINMEM_API BOOL winmem_HeapDestroy(HANDLE handle)
{
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    if (h == winmem_GetProcessHeap())
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;       /* H6 */
    pthread_mutex_lock(&list_mutex);
    __atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&h->id, 0, __ATOMIC_RELEASE);     /* no thread's cache entry matches */
    h->prev->next = h->next;
    if (h->next)
        h->next->prev = h->prev;
    heap_count--;
    pthread_mutex_unlock(&list_mutex);
    hf_destroy(h);
    hl_destroy_all(h);
    hb_destroy(&h->back);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_lock(&list_mutex);
    wm_pool_put(&heap_pool, h);
    pthread_mutex_unlock(&list_mutex);
    return TRUE;
}

WINMEM_API DWORD winmem_GetProcessHeaps(DWORD count, PHANDLE heaps)
{
    winmem_GetProcessHeap();
    pthread_mutex_lock(&list_mutex);
    DWORD total = (DWORD)heap_count, i = 0;
    if (count >= total)
        for (struct heap *h = heap_list; h; h = h->next)
            heaps[i++] = h;
    pthread_mutex_unlock(&list_mutex);
    return total;                                                /* H2 */
}

/* -------------------------------------------------------------- locking */
void heap_lock(struct heap *h, DWORD flags)
{
    if (!((flags | h->flags) & HEAP_NO_SERIALIZE))
        pthread_mutex_lock(&h->lock);
}

void heap_unlock(struct heap *h, DWORD flags)
{
    if (!((flags | h->flags) & HEAP_NO_SERIALIZE))
        pthread_mutex_unlock(&h->lock);
}

WINMEM_API BOOL winmem_HeapLock(HANDLE handle)
{
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    pthread_mutex_lock(&h->lock);
    return TRUE;
}

WINMEM_API BOOL winmem_HeapUnlock(HANDLE handle)
{
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    pthread_mutex_unlock(&h->lock);
    return TRUE;
}

/* ------------------------------------------------------------- pointers */
enum heap_owner heap_resolve(struct heap *h, const void *p, struct heap_segment **seg,
                             struct heap_large **large, struct heap_page **page)
{
    struct heap_span *span = heap_map_find(p);
    if (!span || span->heap != h)
        return OWN_NONE;
    switch (span->kind) {
    case HEAP_SPAN_PAGE:
        *page = wm_container_of(span, struct heap_page, span);
        return OWN_PAGE;
    case HEAP_SPAN_SEGMENT:
        *seg = wm_container_of(span, struct heap_segment, span);
        return OWN_BACK;
    case HEAP_SPAN_LARGE:
        if (span->base != (uintptr_t)p)
            return OWN_NONE;
        *large = wm_container_of(span, struct heap_large, span);
        return OWN_LARGE;
    default:
        return OWN_NONE;
    }
}

/* A detected corruption, after HeapEnableTerminationOnCorruption. */
static void corruption(const void *p)
{
    if (!__atomic_load_n(&terminate_on_corruption, __ATOMIC_ACQUIRE))
        return;
    static const char text[] = "winmem: heap corruption detected (STATUS_HEAP_CORRUPTION 0xc0000374)\n";
    os_write_err(text, sizeof text - 1);
    (void)p;
    os_abort();
}

static BOOL bad_pointer(enum hb_check c, const void *p)
{
    if (c == HB_CORRUPT)
        corruption(p);
    return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;          /* H24 */
}

/* ----------------------------------------------------------- allocation */
/* H12, H13: ERROR_NOT_ENOUGH_MEMORY, or STATUS_NO_MEMORY raised (after the
 * lock is dropped) with the size asked for; NULL if a handler continues. */
static void *out_of_memory(DWORD flags, size_t size)
{
    wm_set_error(ERROR_NOT_ENOUGH_MEMORY);
    if (flags & HEAP_GENERATE_EXCEPTIONS) {
        ULONG_PTR arg = size;
        winmem_RaiseException(STATUS_NO_MEMORY, 0, 1, &arg);
    }
    return NULL;
}

static bool wants_large(const struct heap *h, size_t size)
{
    return (h->flags & HEAP_GROWABLE) && size >= HEAP_LARGE_MIN;
}

/* Allocates under the lock; 0 or an error code. */
static DWORD allocate(struct heap *h, size_t size, void **p)
{
    if (!(h->flags & HEAP_GROWABLE) && size > HEAP_LARGE_MIN)
        return ERROR_NOT_ENOUGH_MEMORY;                            /* H15 */
    return wants_large(h, size) ? hl_alloc(h, size, p) : hb_alloc(&h->back, size, p);
}

/* A block of size in h from the front end, or else under the lock; 0 or an
 * error code. */
static DWORD alloc_block(struct heap *h, DWORD flags, size_t size, void **p)
{
    int cls = hf_class(h, size);
    if (cls >= 0 && (*p = hf_alloc(h, cls, size)) != NULL)
        return 0;
    heap_lock(h, flags);
    DWORD err = allocate(h, size, p);
    if (!err && cls >= 0)
        hf_count(h, cls);
    heap_unlock(h, flags);
    return err;
}

DWORD heap_alloc_aligned(struct heap *h, size_t size, size_t align, void **out)
{
    if (align <= HEAP_ALIGN)
        return alloc_block(h, h->flags, size, out);
    if (align > VM_GRANULARITY || !(h->flags & HEAP_GROWABLE))
        return ERROR_NOT_SUPPORTED;
    int cls = align <= 4096 ? hf_class_aligned(h, size, align) : -1;
    if (cls >= 0) {
        if (!__atomic_load_n(&h->front_on[cls], __ATOMIC_ACQUIRE)) {
            heap_lock(h, h->flags);
            hf_turn_on(h, cls);
            heap_unlock(h, h->flags);
        }
        if ((*out = hf_alloc(h, cls, size)) != NULL)
            return 0;
    }
    /* Large blocks start on the allocation granularity. */
    heap_lock(h, h->flags);
    DWORD err = hl_alloc(h, size, out);
    heap_unlock(h, h->flags);
    return err;
}

/* HeapAlloc when the fast path cannot serve: any heap handle, any size. */
__attribute__((noinline))
static void *alloc_slow(HANDLE handle, DWORD flags, size_t size)
{
    struct heap *h = heap_of(handle);
    void *p = NULL;
    if (!h)
        return NULL;
    flags |= h->flags;
    if (alloc_block(h, flags, size, &p))
        return out_of_memory(flags, size);
    if (flags & HEAP_ZERO_MEMORY)
        memset(p, 0, size);                                        /* H10 */
    return p;
}

/* The fast path: a front-end block from the current page of the heap this
 * thread used last.  No lock, no call, no stack frame. */
WINMEM_API LPVOID winmem_HeapAlloc(HANDLE handle, DWORD flags, SIZE_T size)
{
    struct heap_thread *t = hf_state_fast(handle);
    void *p;
    if (wm_likely(t && size <= HEAP_FRONT_MAX) &&
        wm_likely((p = hf_alloc_fast(t, hf_class_growable(size), size)) != NULL)) {
        if (wm_unlikely(flags & HEAP_ZERO_MEMORY))
            memset(p, 0, size);                                    /* H10 */
        return p;
    }
    return alloc_slow(handle, flags, size);
}

/* HeapFree when the fast path cannot: every bad handle and pointer too. */
__attribute__((noinline))
static BOOL free_slow(HANDLE handle, DWORD flags, void *mem)
{
    struct heap *h = heap_of(handle);
    struct heap_segment *seg;
    struct heap_large *large;
    struct heap_page *page;
    if (!h)
        return FALSE;
    if (!mem)
        return TRUE;                                               /* H22 */
    flags |= h->flags;
    enum hb_check c = HB_NOT_A_BLOCK;
    enum heap_owner owner = heap_resolve(h, mem, &seg, &large, &page);
    if (owner == OWN_PAGE) {
        c = hf_free(h, page, mem);                 /* no lock: the front end */
    } else if (owner != OWN_NONE) {
        heap_lock(h, flags);
        if (heap_resolve(h, mem, &seg, &large, &page) == OWN_BACK)
            c = hb_free(&h->back, seg, mem);
        else if (heap_resolve(h, mem, &seg, &large, &page) == OWN_LARGE)
            hl_free(h, large), c = HB_OK;
        heap_unlock(h, flags);
    }
    return c == HB_OK ? TRUE : bad_pointer(c, mem);
}

/* The fast path: a block of a page this thread owns, in the heap it used
 * last, goes onto the page's local list. */
WINMEM_API BOOL winmem_HeapFree(HANDLE handle, DWORD flags, LPVOID mem)
{
    struct heap_thread *t = hf_state_fast(handle);
    struct heap_span *span = heap_map_find(mem);
    if (wm_likely(t && span && span->heap == handle && span->kind == HEAP_SPAN_PAGE) &&
        wm_likely(hf_free_fast(t, wm_container_of(span, struct heap_page, span), mem)))
        return TRUE;
    return free_slow(handle, flags, mem);
}

/* The size of a busy block of h, or (SIZE_T)-1; under the lock. */
static size_t block_size(struct heap *h, const void *mem, enum hb_check *c)
{
    struct heap_segment *seg;
    struct heap_large *large;
    struct heap_page *page;
    size_t size = (size_t)-1;
    *c = HB_NOT_A_BLOCK;
    switch (heap_resolve(h, mem, &seg, &large, &page)) {
    case OWN_PAGE:  *c = hf_size(page, mem, &size); break;
    case OWN_BACK:  *c = hb_size(&h->back, seg, mem, &size); break;
    case OWN_LARGE: *c = HB_OK; size = large->size; break;
    case OWN_NONE:  break;
    }
    return *c == HB_OK ? size : (size_t)-1;
}

/* The front end's block at mem, if mem lies in one of h's pages: those
 * are sized and resized without the lock (as they are freed). */
static struct heap_page *page_of(const struct heap *h, const void *mem)
{
    struct heap_span *span = heap_map_find(mem);
    return span && span->heap == h && span->kind == HEAP_SPAN_PAGE
               ? wm_container_of(span, struct heap_page, span) : NULL;
}

WINMEM_API SIZE_T winmem_HeapSize(HANDLE handle, DWORD flags, LPCVOID mem)
{
    struct heap *h = heap_of(handle);
    struct heap_page *page;
    enum hb_check c;
    size_t size;
    if (!h)
        return (SIZE_T)-1;
    if ((page = page_of(h, mem)) != NULL) {
        c = hf_size(page, mem, &size);
        size = c == HB_OK ? size : (size_t)-1;
    } else {
        flags |= h->flags;
        heap_lock(h, flags);
        size = block_size(h, mem, &c);
        heap_unlock(h, flags);
    }
    if (c != HB_OK)
        bad_pointer(c, mem);                                       /* H25 */
    return size;
}

/* Resizes in place under the lock: HB_OK, HB_NO_ROOM, or a bad pointer.
 * With stay (HEAP_REALLOC_IN_PLACE_ONLY) a block also shrinks where it is
 * when a fresh one would come from another tier. */
static enum hb_check resize_in_place(struct heap *h, void *mem, size_t size, bool stay)
{
    struct heap_segment *seg;
    struct heap_large *large;
    struct heap_page *page;
    switch (heap_resolve(h, mem, &seg, &large, &page)) {
    case OWN_PAGE:
        return hf_resize(page, mem, size, stay);
    case OWN_BACK:
        if (wants_large(h, size))
            return HB_NO_ROOM;                  /* moves to the large path */
        return hb_resize(&h->back, seg, mem, size);
    case OWN_LARGE:
        if (!wants_large(h, size) && !stay)
            return HB_NO_ROOM;
        return hl_resize(h, large, size) ? HB_OK : HB_NO_ROOM;
    default:
        return HB_NOT_A_BLOCK;
    }
}

/* HeapReAlloc of a front-end block: within its class in place, else moved,
 * with the lock only where the new block comes from the back end. */
static void *realloc_page(struct heap *h, DWORD flags, struct heap_page *page, void *mem,
                          size_t size, size_t *old, DWORD *err, enum hb_check *c)
{
    void *p = NULL;
    if ((*c = hf_size(page, mem, old)) != HB_OK)
        return NULL;
    if (size > HB_MAX_REQUEST)
        *err = ERROR_NOT_ENOUGH_MEMORY;
    else if ((*c = hf_resize(page, mem, size, flags & HEAP_REALLOC_IN_PLACE_ONLY)) == HB_OK)
        p = mem;
    else if (*c != HB_NO_ROOM)
        return NULL;
    else if (flags & HEAP_REALLOC_IN_PLACE_ONLY)
        *err = ERROR_NOT_ENOUGH_MEMORY;                            /* H19 */
    else if (!(*err = alloc_block(h, flags, size, &p))) {
        memcpy(p, mem, *old < size ? *old : size);
        winmem_HeapFree(h, flags, mem);
    }
    *c = HB_OK;
    return p;
}

WINMEM_API LPVOID winmem_HeapReAlloc(HANDLE handle, DWORD flags, LPVOID mem, SIZE_T size)
{
    struct heap *h = heap_of(handle);
    struct heap_page *page;
    enum hb_check c;
    size_t old = 0;
    DWORD err = 0;
    void *p;
    if (!h)
        return NULL;
    if (!mem)
        return wm_set_error(NO_ERROR), NULL;                       /* H16: not an allocation */
    flags |= h->flags;
    if ((page = page_of(h, mem)) != NULL) {
        p = realloc_page(h, flags, page, mem, size, &old, &err, &c);
    } else {
        heap_lock(h, flags);
        old = block_size(h, mem, &c);
        p = mem;
        if (c == HB_OK && size > HB_MAX_REQUEST)
            err = ERROR_NOT_ENOUGH_MEMORY;
        else if (c == HB_OK && (c = resize_in_place(h, mem, size, flags & HEAP_REALLOC_IN_PLACE_ONLY)) == HB_NO_ROOM) {
            if (flags & HEAP_REALLOC_IN_PLACE_ONLY)
                err = ERROR_NOT_ENOUGH_MEMORY;                     /* H19 */
            else if (!(err = alloc_block(h, flags, size, &p))) {
                memcpy(p, mem, old < size ? old : size);
                winmem_HeapFree(h, flags | HEAP_NO_SERIALIZE, mem);
            }
            c = HB_OK;
        }
        heap_unlock(h, flags);
    }
    if (c != HB_OK)
        return bad_pointer(c, mem), NULL;
    if (err)
        return out_of_memory(flags, size);                         /* H21 */
    if ((flags & HEAP_ZERO_MEMORY) && size > old)
        memset((char *)p + old, 0, size - old);                    /* H18 */
    return p;
}

/* -------------------------------------------------------- information */
WINMEM_API BOOL winmem_HeapSetInformation(HANDLE handle, HEAP_INFORMATION_CLASS info_class,
                                         PVOID info, SIZE_T length)
{
    if (info_class == HeapEnableTerminationOnCorruption) {         /* H39 */
        __atomic_store_n(&terminate_on_corruption, true, __ATOMIC_RELEASE);
        return TRUE;
    }
    if (info_class == HeapOptimizeResources) {
        const HEAP_OPTIMIZE_RESOURCES_INFORMATION *o = info;
        if (!o || length < sizeof *o || o->Version != HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION)
            return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
        if (handle && !heap_of(handle))
            return FALSE;
        return TRUE;            /* free memory is given back by HeapCompact's path */
    }
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    if (info_class != HeapCompatibilityInformation || !info || length < sizeof(ULONG))
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    ULONG value = *(const ULONG *)info;
    if (value == 2 && (h->flags & HEAP_NO_SERIALIZE))
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;       /* H38: no LFH there */
    if (value != 2 && (h->compat == 2 || value > 2))
        return wm_set_error(ERROR_GEN_FAILURE), FALSE;             /* H38 */
    if (value == 2)
        h->compat = 2;
    return TRUE;
}

WINMEM_API BOOL winmem_HeapQueryInformation(HANDLE handle, HEAP_INFORMATION_CLASS info_class,
                                           PVOID info, SIZE_T length, PSIZE_T return_length)
{
    if (!handle)
        return wm_set_error(ERROR_NOACCESS), FALSE;                /* H40 */
    struct heap *h = heap_of(handle);
    if (!h)
        return FALSE;
    if (info_class != HeapCompatibilityInformation)
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    if (return_length)
        *return_length = sizeof(ULONG);
    if (!info || length < sizeof(ULONG))
        return wm_set_error(ERROR_INSUFFICIENT_BUFFER), FALSE;
    *(ULONG *)info = h->compat;
    return TRUE;
}
