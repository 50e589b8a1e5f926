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
 * page and large-block descriptors, and the out-of-band buffers kept for
 * reuse), a leaf taken under a heap's lock.
 */
#include "heap.h"
#include "../os/os.h"

#include <pthread.h>
#include <string.h>

#define MAP_ADDRESS_BITS HEAP_MAP_ADDRESS_BITS
#define MAP_GRANULE_BITS HEAP_MAP_GRANULE_BITS
#define MAP_LEAF_BITS    HEAP_MAP_LEAF_BITS
#define MAP_LEAF_SIZE    ((size_t)1 << MAP_LEAF_BITS)

typedef heap_map_leaf map_leaf;

heap_map_leaf *heap_map_top[(size_t)1 << HEAP_MAP_TOP_BITS];
#define top heap_map_top
static pthread_mutex_t map_mutex = PTHREAD_MUTEX_INITIALIZER;
static size_t mapped_granules;            /* under map_mutex */

#define in_range heap_map_in_range
#define top_index heap_map_top_index
#define leaf_index heap_map_leaf_index

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

/* ------------------------------------------------------------------ keys */
/* Keys for headers and free lists: a per-thread generator (wyrand's step
 * and fold) seeded once from the host's random source, so a new page or
 * heap costs no system call.  Not cryptographic; a key only has to be
 * unknown to whoever overflows a block. */
static __thread __attribute__((tls_model("initial-exec"))) uint64_t key_state;

uint64_t heap_key(void)
{
    while (wm_unlikely(!key_state))
        os_random(&key_state, sizeof key_state);
    key_state += 0xa0761d6478bd642full;
    __uint128_t m = (__uint128_t)key_state * (key_state ^ 0xe7037ed1a0b428dbull);
    return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* -------------------------------------------------- out-of-band buffers */
/* Tag arrays and start bitmaps are whole host pages.  A span given back
 * leaves its buffer here for the next span of the same kind, so reuse
 * costs neither a host call nor a page fault.  Kept buffers are zero but
 * for their first word, the list's link. */
#define BUF_SIZES 8
#define BUF_KEEP 64

struct buf_list { size_t bytes; void *head; unsigned n; };
static struct buf_list bufs[BUF_SIZES];   /* under meta_mutex */

void *heap_buf_get(size_t bytes)
{
    void *p = NULL;
    pthread_mutex_lock(&meta_mutex);
    for (int i = 0; i < BUF_SIZES; i++)
        if (bufs[i].bytes == bytes && bufs[i].head) {
            p = bufs[i].head;
            bufs[i].head = *(void **)p;
            bufs[i].n--;
            break;
        }
    pthread_mutex_unlock(&meta_mutex);
    if (p)
        *(void **)p = NULL;
    else if (os_map(&p, bytes, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_COMMITTED) != 0)
        return NULL;
    return p;
}

void heap_buf_put(void *p, size_t bytes, size_t dirty)
{
    memset(p, 0, dirty < bytes ? dirty : bytes);
    pthread_mutex_lock(&meta_mutex);
    struct buf_list *l = NULL;
    for (int i = 0; i < BUF_SIZES && !l; i++)
        if (bufs[i].bytes == bytes || bufs[i].n == 0)
            l = &bufs[i];
    if (l && l->n < BUF_KEEP) {
        l->bytes = bytes;
        *(void **)p = l->head;
        l->head = p;
        l->n++;
        p = NULL;
    }
    pthread_mutex_unlock(&meta_mutex);
    if (p)
        os_unmap(p, bytes);
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
    key_state = 0;                  /* the child's keys are not the parent's */
}
__attribute__((constructor(120))) static void fork_init(void)
{
    os_atfork(fork_prepare, fork_parent, fork_child);
}
