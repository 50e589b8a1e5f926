/*
 * object.c — the handle table (object.h) and the handle functions of
 * kernel32: CloseHandle, DuplicateHandle, GetHandleInformation and
 * SetHandleInformation.
 */
#include "object.h"
#include "../os/os.h"

#include <pthread.h>

#define CHUNK_BITS 12
#define CHUNK ((size_t)1 << CHUNK_BITS)          /* entries per chunk */
#define CHUNKS ((size_t)1 << 12)                 /* 2^24 handles at most */
#define NO_FREE UINT32_MAX
#define HANDLE_FLAGS (HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE)

struct entry {
    struct wm_object *obj;      /* NULL: free */
    DWORD access;
    uint32_t flags;             /* HANDLE_FLAG_* */
    uint32_t next_free;         /* free: the next free entry, or NO_FREE */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static struct entry *chunks[CHUNKS];
static uint32_t first_free = NO_FREE;
static uint32_t entries;         /* made so far: every index below is in a chunk */
static size_t open_handles;

void obj_init(struct wm_object *obj, enum obj_type type, const struct obj_ops *ops)
{
    *obj = (struct wm_object){ ops, type, 1, 0 };
}

void obj_retain(struct wm_object *obj) { __atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED); }

void obj_release(struct wm_object *obj)
{
    if (__atomic_sub_fetch(&obj->refs, 1, __ATOMIC_ACQ_REL) == 0)
        obj->ops->destroy(obj);
}

/* fork(): the table is taken across it, so the child's is whole. */
static void fork_prepare(void) { pthread_mutex_lock(&table_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&table_lock); }
static void fork_child(void) { pthread_mutex_init(&table_lock, NULL); }
static void table_init(void) { os_atfork(fork_prepare, fork_parent, fork_child); }

static void lock_table(void)
{
    pthread_once(&table_once, table_init);
    pthread_mutex_lock(&table_lock);
}

static struct entry *entry_at(uint32_t i) { return &chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]; }
static HANDLE handle_of(uint32_t i) { return (HANDLE)(uintptr_t)(((uintptr_t)i + 1) * 4); }

/* The entry of an open handle, under the lock; NULL for anything else. */
static struct entry *lookup(HANDLE handle)
{
    uintptr_t v = (uintptr_t)handle;
    if (v == 0 || v % 4 || v / 4 > entries)
        return NULL;
    struct entry *e = entry_at((uint32_t)(v / 4 - 1));
    return e->obj ? e : NULL;
}

static uint32_t index_of(HANDLE handle) { return (uint32_t)((uintptr_t)handle / 4 - 1); }

/* A free entry, making a chunk when none is left; under the lock. */
static bool take_entry(uint32_t *index)
{
    if (first_free == NO_FREE) {
        size_t c = entries >> CHUNK_BITS;
        if (c >= CHUNKS)
            return wm_set_error(ERROR_NO_SYSTEM_RESOURCES), false;
        void *mem = NULL;
        if (os_map(&mem, CHUNK * sizeof(struct entry), OS_PROT_READ | OS_PROT_WRITE,
                   OS_MAP_COMMITTED) != 0)
            return wm_set_error(ERROR_NOT_ENOUGH_MEMORY), false;
        chunks[c] = mem;
        for (size_t i = CHUNK; i-- > 0;) {             /* lowest index first */
            chunks[c][i].next_free = first_free;
            first_free = (uint32_t)(entries + i);
        }
        entries += (uint32_t)CHUNK;
    }
    *index = first_free;
    first_free = entry_at(first_free)->next_free;
    return true;
}

HANDLE obj_handle_new(struct wm_object *obj, DWORD access, DWORD flags)
{
    uint32_t i;
    lock_table();
    if (!take_entry(&i)) {
        pthread_mutex_unlock(&table_lock);
        return NULL;
    }
    *entry_at(i) = (struct entry){ obj, access, flags & HANDLE_FLAGS, NO_FREE };
    obj->handles++;
    open_handles++;
    obj_retain(obj);
    pthread_mutex_unlock(&table_lock);
    if ((flags & HANDLE_FLAG_INHERIT) && obj->ops->inherit)
        obj->ops->inherit(obj, true);
    return handle_of(i);
}

struct wm_object *obj_from_handle(HANDLE handle, enum obj_type type, DWORD *access)
{
    lock_table();
    struct entry *e = lookup(handle);
    struct wm_object *obj = e && (!type || e->obj->type == (uint32_t)type) ? e->obj : NULL;
    if (obj) {
        obj_retain(obj);
        if (access)
            *access = e->access;
    }
    pthread_mutex_unlock(&table_lock);
    if (!obj)
        wm_set_error(ERROR_INVALID_HANDLE);
    return obj;
}

/* Frees the slot of handle (open), under the lock; the object's reference
 * and, when it was its last handle, the last_handle call are the caller's
 * (*last). */
static struct wm_object *drop_entry(HANDLE handle, bool *last)
{
    uint32_t i = index_of(handle);
    struct entry *e = entry_at(i);
    struct wm_object *obj = e->obj;
    *e = (struct entry){ NULL, 0, 0, first_free };
    first_free = i;
    open_handles--;
    *last = --obj->handles == 0;
    return obj;
}

static void after_drop(struct wm_object *obj, bool last)
{
    if (last && obj->ops->last_handle)
        obj->ops->last_handle(obj);
    obj_release(obj);
}

WINMEM_API BOOL winmem_CloseHandle(HANDLE handle)
{
    if (handle == (HANDLE)(LONG_PTR)-1 || handle == (HANDLE)(LONG_PTR)-2)
        return TRUE;                         /* pseudo-handles: nothing to close */
    lock_table();
    struct entry *e = lookup(handle);
    if (!e || (e->flags & HANDLE_FLAG_PROTECT_FROM_CLOSE)) {
        pthread_mutex_unlock(&table_lock);
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    }
    bool last;
    struct wm_object *obj = drop_entry(handle, &last);
    pthread_mutex_unlock(&table_lock);
    after_drop(obj, last);
    return TRUE;
}

WINMEM_API BOOL winmem_DuplicateHandle(HANDLE source_process, HANDLE source, HANDLE target_process,
                                       LPHANDLE target, DWORD access, BOOL inherit, DWORD options)
{
    /* Only this process has a handle table here; other processes' come
     * with OpenProcess. */
    if (!obj_is_current_process(source_process) || !obj_is_current_process(target_process))
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    if (options & ~(DWORD)(DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS))
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    lock_table();
    struct entry *e = lookup(source);
    if (!e) {
        pthread_mutex_unlock(&table_lock);
        /* A pseudo-handle would become a real process or thread handle:
         * those are not kept here yet. */
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    }
    struct wm_object *obj = e->obj;
    DWORD new_access = (options & DUPLICATE_SAME_ACCESS) ? e->access : access;
    obj_retain(obj);
    bool last = false;
    struct wm_object *closed = NULL;
    if (options & DUPLICATE_CLOSE_SOURCE)
        closed = drop_entry(source, &last);
    pthread_mutex_unlock(&table_lock);
    HANDLE h = NULL;
    if (target)
        h = obj_handle_new(obj, new_access, inherit ? HANDLE_FLAG_INHERIT : 0);
    if (closed)
        after_drop(closed, last);
    obj_release(obj);
    if (!target)
        return TRUE;                         /* DUPLICATE_CLOSE_SOURCE alone */
    if (!h)
        return FALSE;
    *target = h;
    return TRUE;
}

WINMEM_API BOOL winmem_GetHandleInformation(HANDLE handle, LPDWORD flags)
{
    lock_table();
    struct entry *e = lookup(handle);
    DWORD f = e ? e->flags : 0;
    pthread_mutex_unlock(&table_lock);
    if (!e)
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    if (!flags)
        return wm_set_error(ERROR_NOACCESS), FALSE;
    *flags = f;
    return TRUE;
}

WINMEM_API BOOL winmem_SetHandleInformation(HANDLE handle, DWORD mask, DWORD flags)
{
    lock_table();
    struct entry *e = lookup(handle);
    struct wm_object *obj = NULL;
    bool inherit_changed = false, inherit = false;
    if (e) {
        uint32_t next = (e->flags & ~(mask & HANDLE_FLAGS)) | (flags & mask & HANDLE_FLAGS);
        inherit_changed = (next ^ e->flags) & HANDLE_FLAG_INHERIT;
        inherit = next & HANDLE_FLAG_INHERIT;
        e->flags = next;
        obj = e->obj;
        obj_retain(obj);
    }
    pthread_mutex_unlock(&table_lock);
    if (!obj)
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    if (inherit_changed && obj->ops->inherit)
        obj->ops->inherit(obj, inherit);
    obj_release(obj);
    return TRUE;
}

size_t obj_handle_count(void)
{
    lock_table();
    size_t n = open_handles;
    pthread_mutex_unlock(&table_lock);
    return n;
}

bool obj_validate(const char **why)
{
    lock_table();
    *why = NULL;
    size_t used = 0, free_listed = 0;
    for (uint32_t i = 0; i < entries && !*why; i++) {
        struct entry *e = entry_at(i);
        if (!e->obj)
            continue;
        used++;
        uint32_t holders = 0;
        for (uint32_t k = 0; k < entries; k++)
            holders += entry_at(k)->obj == e->obj;
        if (holders != e->obj->handles)
            *why = "an object's handle count is not the number of its handles";
        else if (__atomic_load_n(&e->obj->refs, __ATOMIC_RELAXED) < e->obj->handles)
            *why = "an object has fewer references than handles";
    }
    for (uint32_t i = first_free; i != NO_FREE && !*why; i = entry_at(i)->next_free)
        if (entry_at(i)->obj || ++free_listed > entries)
            *why = "the free list holds a used entry or loops";
    if (!*why && (used != open_handles || used + free_listed != entries))
        *why = "open and free entries do not add up to the table";
    pthread_mutex_unlock(&table_lock);
    return !*why;
}
