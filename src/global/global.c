/*
 * global.c — Global* and Local* memory (global.h) on the process heap.
 *
 * Every public function resolves its handle once (resolve): a moveable
 * handle to its live entry, anything else to a fixed block if the process
 * heap says it is the start of one of its busy blocks; whatever is neither
 * gets Windows' answer for a bad handle.  Nothing here reads memory at a
 * handle before the table's bounds or the heap have vouched for it, so a
 * freed, forged or foreign handle cannot make these functions fault.
 */
#include "global.h"
#include "../os/os.h"

#include <pthread.h>
#include <string.h>

static pthread_mutex_t gm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t gm_once = PTHREAD_ONCE_INIT;
static struct gm_entry *table;  /* GM_ENTRIES reserved */
static uint32_t committed;      /* entries committed, from the first */
static uint32_t top;            /* entries ever handed out, from the first */
static uint32_t free_head;      /* index + 1 of the first free entry below top, or 0 */
static uint32_t used;
static uintptr_t key;           /* prefix check */

/* The flavour of the call: Global* and Local* differ in a few answers. */
enum api { GLOBAL, LOCAL };

static void fork_prepare(void) { pthread_mutex_lock(&gm_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&gm_lock); }
static void fork_child(void) { pthread_mutex_init(&gm_lock, NULL); }

static void init(void)
{
    winmem_GetProcessHeap();    /* its fork handlers first: ours then run before its */
    os_random(&key, sizeof key);
    key |= 1;
    os_atfork(fork_prepare, fork_parent, fork_child);
}

static void lock(void)
{
    pthread_once(&gm_once, init);
    pthread_mutex_lock(&gm_lock);
}

static void unlock(void) { pthread_mutex_unlock(&gm_lock); }

/* ------------------------------------------------------------- entries */
static HANDLE handle_of(struct gm_entry *e) { return &e->data; }

/* The live entry whose handle h is, or NULL.  Under the lock. */
static struct gm_entry *entry_of(const void *h)
{
    uintptr_t a = (uintptr_t)h, base = (uintptr_t)table;
    if (!table || (a & 15) != offsetof(struct gm_entry, data) || a < base ||
        a >= base + (uintptr_t)top * sizeof(struct gm_entry))
        return NULL;
    struct gm_entry *e = (struct gm_entry *)(a - offsetof(struct gm_entry, data));
    return e->state == GM_USED ? e : NULL;
}

/* A free entry, committing the table as it grows; NULL when it is full. */
static struct gm_entry *entry_new(void)
{
    struct gm_entry *e;
    if (free_head) {
        e = &table[free_head - 1];
        free_head = e->next_free;
    } else {
        if (top == GM_ENTRIES)
            return NULL;
        if (!table && !(table = winmem_VirtualAlloc(NULL, GM_ENTRIES * sizeof *table, MEM_RESERVE,
                                                    PAGE_READWRITE)))
            return NULL;
        if (top == committed) {
            size_t page = os_page_size();
            if (!winmem_VirtualAlloc(&table[committed], page, MEM_COMMIT, PAGE_READWRITE))
                return NULL;
            committed += (uint32_t)(page / sizeof *table);
        }
        e = &table[top++];
    }
    *e = (struct gm_entry){ .state = GM_USED };
    used++;
    return e;
}

static void entry_free(struct gm_entry *e)
{
    *e = (struct gm_entry){ .state = GM_FREE, .next_free = free_head };
    free_head = (uint32_t)(e - table) + 1;
    used--;
}

/* ---------------------------------------------------------------- data */
static HANDLE heap(void) { return winmem_GetProcessHeap(); }

/* HeapSize of a process-heap block, or (SIZE_T)-1; the last error kept. */
static SIZE_T block_size(const void *p)
{
    DWORD saved = winmem_GetLastError();
    SIZE_T size = p && !((uintptr_t)p & 15) ? winmem_HeapSize(heap(), 0, p) : (SIZE_T)-1;
    winmem_SetLastError(saved);
    return size;
}

static bool is_fixed(const void *p) { return block_size(p) != (SIZE_T)-1; }

static struct gm_prefix *prefix_of(const void *data)
{
    return (struct gm_prefix *)((char *)data - GM_PREFIX);
}

/* The entry whose data p is, or NULL.  Under the lock. */
static struct gm_entry *entry_of_data(const void *p)
{
    if (!p || (uintptr_t)p < GM_PREFIX || !is_fixed(prefix_of(p)))
        return NULL;
    const struct gm_prefix *pre = prefix_of(p);
    if (pre->check != ((uintptr_t)pre->entry ^ key))
        return NULL;
    struct gm_entry *e = entry_of(handle_of(pre->entry));
    return e && e->data == p ? e : NULL;
}

static void data_set(struct gm_entry *e, void *block)
{
    struct gm_prefix *pre = block;
    pre->entry = e;
    pre->check = (uintptr_t)e ^ key;
    e->data = (char *)block + GM_PREFIX;
}

/* Gives e bytes of new data; false with the heap's error. */
static bool data_new(struct gm_entry *e, SIZE_T bytes, DWORD heap_flags)
{
    void *block;
    if (bytes > (SIZE_T)-1 - GM_PREFIX) {
        wm_set_error(ERROR_NOT_ENOUGH_MEMORY);
        return false;
    }
    if (!(block = winmem_HeapAlloc(heap(), heap_flags, bytes + GM_PREFIX)))
        return false;
    data_set(e, block);
    return true;
}

static void data_drop(struct gm_entry *e)
{
    if (e->data)
        winmem_HeapFree(heap(), 0, prefix_of(e->data));
    e->data = NULL;
}

/* ------------------------------------------------------------ the calls */
static DWORD heap_flags(UINT flags) { return flags & GMEM_ZEROINIT ? HEAP_ZERO_MEMORY : 0; }

static uint8_t entry_flags(UINT flags, enum api api)
{
    return (uint8_t)((flags & (api == LOCAL ? LMEM_DISCARDABLE : GMEM_DISCARDABLE) ? GM_DISCARDABLE : 0) |
                     (api == GLOBAL && (flags & GMEM_DDESHARE) ? GM_SHARE : 0));
}

static HANDLE mem_alloc(UINT flags, SIZE_T bytes, enum api api)
{
    if (!(flags & GMEM_MOVEABLE))
        return winmem_HeapAlloc(heap(), heap_flags(flags), api == GLOBAL && !bytes ? 1 : bytes); /* G3 */
    lock();
    struct gm_entry *e = entry_new();
    HANDLE h = NULL;
    if (!e) {
        wm_set_error(ERROR_NOT_ENOUGH_MEMORY);                     /* G5, G14 */
    } else if (bytes && !data_new(e, bytes, heap_flags(flags))) {
        entry_free(e);
    } else {
        e->flags = entry_flags(flags, api);                         /* size 0: born discarded, G8 */
        h = handle_of(e);
    }
    unlock();
    return h;
}

/* A fixed block becomes a moveable one with the same bytes (G10). */
static HANDLE make_moveable(void *p, UINT flags, enum api api)
{
    SIZE_T size = block_size(p);
    struct gm_entry *e = entry_new();
    if (!e) {
        wm_set_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    if (size && !data_new(e, size, 0)) {
        entry_free(e);
        return NULL;
    }
    if (size)
        memcpy(e->data, p, size);
    e->flags = entry_flags(flags, api);
    winmem_HeapFree(heap(), 0, p);
    return handle_of(e);
}

/* GlobalReAlloc of a moveable block (G9, G11). */
static HANDLE realloc_moveable(struct gm_entry *e, SIZE_T bytes, UINT flags)
{
    if (!bytes && !(flags & GMEM_MOVEABLE)) {
        wm_set_error(ERROR_INVALID_PARAMETER);     /* discarding takes GMEM_MOVEABLE */
        return NULL;
    }
    if (!bytes) {
        if (e->locks)
            return NULL;                            /* G11; the last error untouched */
        data_drop(e);
        return handle_of(e);
    }
    if (!e->data)
        return data_new(e, bytes, heap_flags(flags)) ? handle_of(e) : NULL;
    if (bytes > (SIZE_T)-1 - GM_PREFIX) {
        wm_set_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    /* A locked block moves only when the caller allows it. */
    DWORD hf = heap_flags(flags) | (e->locks && !(flags & GMEM_MOVEABLE) ? HEAP_REALLOC_IN_PLACE_ONLY : 0);
    void *block = winmem_HeapReAlloc(heap(), hf, prefix_of(e->data), bytes + GM_PREFIX);
    if (!block)
        return NULL;
    data_set(e, block);
    return handle_of(e);
}

static HANDLE mem_realloc(HANDLE h, SIZE_T bytes, UINT flags, enum api api)
{
    if (!h) {
        wm_set_error(ERROR_INVALID_HANDLE);
        return NULL;
    }
    lock();
    struct gm_entry *e = entry_of(h);
    HANDLE ret = NULL;
    if (e && (flags & GMEM_MODIFY)) {
        e->flags |= entry_flags(flags, api);                        /* G10: attributes only */
        ret = h;
    } else if (e) {
        ret = realloc_moveable(e, bytes, flags);
    } else if (!is_fixed(h)) {
        wm_set_error(ERROR_INVALID_HANDLE);
    } else if (flags & GMEM_MODIFY) {
        /* G10: Global makes the block moveable; Local leaves it fixed. */
        ret = api == GLOBAL && (flags & GMEM_MOVEABLE) ? make_moveable(h, flags, api) : h;
    } else if (flags & GMEM_MOVEABLE) {
        ret = winmem_HeapReAlloc(heap(), heap_flags(flags), h, api == GLOBAL && !bytes ? 1 : bytes);
    } else {
        /* G9: since Windows 10 1703 a fixed block is not reallocated without
         * GMEM_MOVEABLE, even to its own size (Wine 8 does it in place). */
        wm_set_error(ERROR_NOT_ENOUGH_MEMORY);
    }
    unlock();
    return ret;
}

static HANDLE mem_free(HANDLE h)
{
    if (!h)
        return NULL;                                                /* G12 */
    lock();
    struct gm_entry *e = entry_of(h);
    HANDLE ret = NULL;
    if (e) {
        data_drop(e);
        entry_free(e);
    } else if (!is_fixed(h) || !winmem_HeapFree(heap(), 0, h)) {
        wm_set_error(ERROR_INVALID_HANDLE);
        ret = h;
    }
    unlock();
    return ret;
}

static void *mem_lock(HANDLE h)
{
    lock();
    struct gm_entry *e = entry_of(h);
    void *p = NULL;
    if (e && !e->data) {
        wm_set_error(ERROR_DISCARDED);                              /* G8 */
    } else if (e) {
        e->locks += e->locks < GM_LOCK_MAX;                          /* G6 */
        p = e->data;
    } else if (is_fixed(h)) {
        p = h;                                                      /* G2 */
    } else {
        wm_set_error(ERROR_INVALID_HANDLE);                         /* G12 */
    }
    unlock();
    return p;
}

static BOOL mem_unlock(HANDLE h, enum api api)
{
    lock();
    struct gm_entry *e = entry_of(h);
    BOOL ret = FALSE;
    if (e && e->locks) {
        ret = --e->locks != 0;                                      /* G6 */
        if (!ret)
            wm_set_error(NO_ERROR);
    } else if (e) {
        wm_set_error(ERROR_NOT_LOCKED);
    } else if (is_fixed(h)) {
        ret = api == GLOBAL;                                        /* G4 */
        if (api == LOCAL)
            wm_set_error(ERROR_NOT_LOCKED);
    } else {
        /* G12: Windows' GlobalUnlock says TRUE even here (Wine: FALSE). */
        ret = api == GLOBAL;
        wm_set_error(ERROR_INVALID_HANDLE);
    }
    unlock();
    return ret;
}

static SIZE_T mem_size(HANDLE h)
{
    lock();
    struct gm_entry *e = entry_of(h);
    SIZE_T size = 0;
    if (e) {
        size = e->data ? block_size(prefix_of(e->data)) - GM_PREFIX : 0;     /* G8, G13 */
    } else if ((size = block_size(h)) == (SIZE_T)-1) {
        size = 0;
        wm_set_error(ERROR_INVALID_HANDLE);                         /* G12 */
    }
    unlock();
    return size;
}

static UINT mem_flags(HANDLE h, enum api api)
{
    lock();
    struct gm_entry *e = entry_of(h);
    UINT f = 0;
    if (e) {
        f = e->locks;                                               /* G7 */
        if (e->flags & GM_DISCARDABLE)
            f |= api == LOCAL ? LMEM_DISCARDABLE : GMEM_DISCARDABLE;
        if (e->flags & GM_SHARE)
            f |= GMEM_DDESHARE;
        if (!e->data)
            f |= GMEM_DISCARDED;
    } else if (!is_fixed(h)) {
        f = GMEM_INVALID_HANDLE;
        wm_set_error(ERROR_INVALID_HANDLE);
    }
    unlock();
    return f;
}

static HANDLE mem_handle(const void *p)
{
    lock();
    struct gm_entry *e;
    HANDLE h = NULL;
    if (is_fixed(p))
        h = (HANDLE)p;                                              /* G2 */
    else if ((e = entry_of_data(p)) != NULL)
        h = handle_of(e);                                           /* G5 */
    else
        wm_set_error(ERROR_INVALID_HANDLE);     /* a handle too: it is no block's address */
    unlock();
    return h;
}

WINMEM_API HGLOBAL winmem_GlobalAlloc(UINT flags, SIZE_T bytes) { return mem_alloc(flags, bytes, GLOBAL); }
WINMEM_API HGLOBAL winmem_GlobalReAlloc(HGLOBAL mem, SIZE_T bytes, UINT flags)
{
    return mem_realloc(mem, bytes, flags, GLOBAL);
}
WINMEM_API HGLOBAL winmem_GlobalFree(HGLOBAL mem) { return mem_free(mem); }
WINMEM_API LPVOID winmem_GlobalLock(HGLOBAL mem) { return mem_lock(mem); }
WINMEM_API BOOL winmem_GlobalUnlock(HGLOBAL mem) { return mem_unlock(mem, GLOBAL); }
WINMEM_API SIZE_T winmem_GlobalSize(HGLOBAL mem) { return mem_size(mem); }
WINMEM_API UINT winmem_GlobalFlags(HGLOBAL mem) { return mem_flags(mem, GLOBAL); }
WINMEM_API HGLOBAL winmem_GlobalHandle(LPCVOID mem) { return mem_handle(mem); }

WINMEM_API HLOCAL winmem_LocalAlloc(UINT flags, SIZE_T bytes) { return mem_alloc(flags, bytes, LOCAL); }
WINMEM_API HLOCAL winmem_LocalReAlloc(HLOCAL mem, SIZE_T bytes, UINT flags)
{
    return mem_realloc(mem, bytes, flags, LOCAL);
}
WINMEM_API HLOCAL winmem_LocalFree(HLOCAL mem) { return mem_free(mem); }
WINMEM_API LPVOID winmem_LocalLock(HLOCAL mem) { return mem_lock(mem); }
WINMEM_API BOOL winmem_LocalUnlock(HLOCAL mem) { return mem_unlock(mem, LOCAL); }
WINMEM_API SIZE_T winmem_LocalSize(HLOCAL mem) { return mem_size(mem); }
WINMEM_API UINT winmem_LocalFlags(HLOCAL mem) { return mem_flags(mem, LOCAL); }
WINMEM_API HLOCAL winmem_LocalHandle(LPCVOID mem) { return mem_handle(mem); }

/* ----------------------------------------------------------- validation */
bool gm_validate(const char **why)
{
    lock();
    uint32_t in_use = 0, listed = 0;
    *why = NULL;
    for (uint32_t i = 0; i < top && !*why; i++) {
        struct gm_entry *e = &table[i];
        if (e->state == GM_USED) {
            in_use++;
            if (e->data && entry_of_data(e->data) != e)
                *why = "a moveable block's data is not a process-heap block naming its handle";
        } else if (e->state != GM_FREE) {
            *why = "a handle-table entry is neither free nor in use";
        }
    }
    for (uint32_t f = free_head; f && !*why; f = table[f - 1].next_free) {
        if (f > top || table[f - 1].state != GM_FREE)
            *why = "the handle table's free list holds an entry in use or beyond its top";
        else if (++listed > top)
            *why = "the handle table's free list loops";
    }
    if (!*why && in_use != used)
        *why = "the count of handles in use is wrong";
    if (!*why && in_use + listed != top)
        *why = "a free handle-table entry is not on the free list";
    unlock();
    return *why == NULL;
}

size_t gm_handles_in_use(void)
{
    lock();
    size_t n = used;
    unlock();
    return n;
}
