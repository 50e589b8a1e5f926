/*
 * heap_map.c — the process-wide map from 64 KiB granules to the heap spans
 * that own them (heap.h, invariant P4).
 *
 * Two levels over the 47-bit user address space: a static top table of
 * 2^15 leaf pointers, and leaves of 2^16 span pointers (512 KiB each, one
 * per 4 GiB of address space) mapped when first needed.  The host supplies
 * a leaf's pages as they are first written, so a leaf covering a few spans
 * costs a few pages.  Leaves are never unmapped: a reader holding no lock
 * may be looking at one, and must never fault.
 *
 * Also here: the one lock around the heap layer's metadata pools (segment,
 * page and large-block descriptors), a leaf taken under a heap's lock.
 */
#include "heap.h"
#include "../os/os.h"

#include <pthread.h>

#define MAP_ADDRESS_BITS 47
#define MAP_GRANULE_BITS 16
#define MAP_LEAF_BITS    16
#define MAP_TOP_BITS     (MAP_ADDRESS_BITS - MAP_GRANULE_BITS - MAP_LEAF_BITS)
#define MAP_LEAF_SIZE    ((size_t)1 << MAP_LEAF_BITS)

typedef struct heap_span *map_leaf[MAP_LEAF_SIZE];

static map_leaf *top[(size_t)1 << MAP_TOP_BITS];
static pthread_mutex_t map_mutex = PTHREAD_MUTEX_INITIALIZER;
static size_t mapped_granules;            /* under map_mutex */

static inline bool in_range(uintptr_t a) { return (a >> MAP_ADDRESS_BITS) == 0; }
static inline size_t top_index(uintptr_t a) { return a >> (MAP_GRANULE_BITS + MAP_LEAF_BITS); }
static inline size_t leaf_index(uintptr_t a) { return (a >> MAP_GRANULE_BITS) & (MAP_LEAF_SIZE - 1); }

static map_leaf *leaf_for(uintptr_t a)
{
    map_leaf *leaf = __atomic_load_n(&top[top_index(a)], __ATOMIC_ACQUIRE);
    if (leaf)
        return leaf;
    void *p = NULL;
    if (os_map(&p, sizeof(map_leaf), OS_PROT_READ | OS_PROT_WRITE, OS_MAP_COMMITTED) != 0)
        return NULL;
    leaf = p;
    __atomic_store_n(&top[top_index(a)], leaf, __ATOMIC_RELEASE);
    return leaf;
}

/* Stores span in every granule of [base, end); the leaves exist. */
static void store(uintptr_t base, uintptr_t end, struct heap_span *span)
{
    for (uintptr_t a = base; a < end; a += (uintptr_t)1 << MAP_GRANULE_BITS) {
        map_leaf *leaf = top[top_index(a)];
        struct heap_span *old = (*leaf)[leaf_index(a)];
        mapped_granules += (span != NULL) - (old != NULL);
        __atomic_store_n(&(*leaf)[leaf_index(a)], span, __ATOMIC_RELEASE);
    }
}

bool heap_map_set(uintptr_t base, size_t size, struct heap_span *span)
{
    uintptr_t end = base + size;
    WM_ASSERT(span && size && !((base | size) & (VM_GRANULARITY - 1)));
    if (!in_range(end - 1) || end < base)
        return false;
    pthread_mutex_lock(&map_mutex);
    bool ok = true;
    for (uintptr_t a = base; a < end && ok; a = (a | (((uintptr_t)1 << (MAP_GRANULE_BITS + MAP_LEAF_BITS)) - 1)) + 1)
        ok = leaf_for(a) != NULL;         /* every leaf first: nothing half-done */
    if (ok)
        store(base, end, span);
    pthread_mutex_unlock(&map_mutex);
    return ok;
}

void heap_map_clear(uintptr_t base, size_t size)
{
    pthread_mutex_lock(&map_mutex);
    for (uintptr_t a = base; a < base + size; a += (uintptr_t)1 << MAP_GRANULE_BITS) {
        map_leaf *leaf = top[top_index(a)];
        if (leaf && (*leaf)[leaf_index(a)]) {
            mapped_granules--;
            __atomic_store_n(&(*leaf)[leaf_index(a)], NULL, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&map_mutex);
}

struct heap_span *heap_map_find(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (!in_range(a))
        return NULL;
    map_leaf *leaf = __atomic_load_n(&top[top_index(a)], __ATOMIC_ACQUIRE);
    return leaf ? __atomic_load_n(&(*leaf)[leaf_index(a)], __ATOMIC_ACQUIRE) : NULL;
}

size_t heap_map_count(void)
{
    pthread_mutex_lock(&map_mutex);
    size_t n = mapped_granules;
    pthread_mutex_unlock(&map_mutex);
    return n;
}

/* ------------------------------------------------------ metadata pools */
static pthread_mutex_t meta_mutex = PTHREAD_MUTEX_INITIALIZER;

void *heap_meta_get(struct wm_pool *pool)
{
    pthread_mutex_lock(&meta_mutex);
    void *p = wm_pool_get(pool);
    pthread_mutex_unlock(&meta_mutex);
    return p;
}

void heap_meta_put(struct wm_pool *pool, void *p)
{
    pthread_mutex_lock(&meta_mutex);
    wm_pool_put(pool, p);
    pthread_mutex_unlock(&meta_mutex);
}

/* Both locks are taken under a heap's lock: held across fork() after the
 * heaps' own (constructor order: this registers before heap_api.c). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&map_mutex);
    pthread_mutex_lock(&meta_mutex);
}
static void fork_parent(void)
{
    pthread_mutex_unlock(&meta_mutex);
    pthread_mutex_unlock(&map_mutex);
}
static void fork_child(void)
{
    pthread_mutex_init(&map_mutex, NULL);
    pthread_mutex_init(&meta_mutex, NULL);
}
__attribute__((constructor(120))) static void fork_init(void)
{
    os_atfork(fork_prepare, fork_parent, fork_child);
}
