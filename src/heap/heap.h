/*
 * heap.h — the heap layer: HeapCreate … HeapWalk on winmem's own
 * VirtualAlloc, laid out as Windows lays its heap out (a back end of
 * segments with block headers, a low-fragmentation front end that takes
 * over a size once it is busy, large blocks straight from VirtualAlloc),
 * with the front end built for speed the way mimalloc is.
 *
 * Files: heap_map.c (the map), heap_back.c (back end), heap_front.c (front
 * end), heap_area.c (what front-end pages are cut from), heap_large.c (large
 * blocks), heap_api.c (the Win32 calls), heap_walk.c (HeapWalk,
 * HeapValidate, HeapCompact, HeapSummary).  Still to
 * come (issue 4): host calls outside the heap's lock, and decommitting the
 * back end's free runs after a quiet period.
 *
 * Memory given back (HeapDestroy, HeapCompact, a released segment or page)
 * goes to vm_warm_release: released to the program at once, its host pages
 * kept warm for the next segment or page of its size until the purge delay
 * (VM_WARM_DELAY_MS) has passed.  HeapCompact purges at once.
 *
 * Tiers (reference ../shared/reference/heap.md, H4-H15)
 *   back end   Variable-size blocks in segments the heap reserves through
 *              vm and commits as it grows.  Every block has a 16-byte
 *              header in front of it, encoded with the heap's key and
 *              checksummed (Windows' HEAP_ENTRY does the same), holding its
 *              size, its neighbour's size, its state and its slack (capacity
 *              minus the size asked for, so HeapSize is exact).  Free blocks
 *              sit in size bins (exact 16-byte bins up to 2 KiB, then four per
 *              doubling) with a bitmap of non-empty bins; neighbours coalesce
 *              on free; free runs of whole pages at a segment's end are
 *              decommitted by HeapCompact.
 *              Serves every size in fixed-size heaps, and the first
 *              allocations of every size in growable ones.
 *   front end  Once a size class has been allocated HEAP_FRONT_AFTER times
 *              in a heap, its blocks come from pages of one class, 64 to
 *              512 KiB spans cut from the heap's areas (larger
 *              reservations, so that a page costs no call to vm; struct
 *              hf_area).  A page belongs to the thread that took it (its
 *              owner allocates and frees there without a lock) until that
 *              thread ends; other threads free into the page's atomic
 *              list, which the owner takes back in one exchange.  No
 *              per-block header: the page's out-of-band tag array holds
 *              each block's slack (plus one), or HEAP_TAG_FREE.
 *   large      Blocks of HEAP_LARGE_MIN bytes and more in growable heaps get
 *              their own VirtualAlloc reservation, released by HeapFree.
 *
 * Objects
 *   struct heap            one Win32 heap; its handle is its address, the
 *                          base of its first segment (64 KiB-aligned, H4).
 *   struct heap_segment    a back-end reservation: blocks, its commit map
 *                          and its block-start bitmap (out of band).
 *   struct heap_page       a front-end page: class, free lists, tag array.
 *   struct hf_area         a reservation front-end pages are cut from.
 *   struct heap_thread     one thread's state in one heap: its current page
 *                          for each class.  Belongs to the heap (HeapDestroy
 *                          frees it; a thread's cache entry holds the heap's
 *                          id, so a stale entry misses instead of reading a
 *                          destroyed heap's state).
 *   struct heap_large      a large block's descriptor.
 *   heap map               one process-wide radix table from every 64 KiB
 *                          granule any heap owns to its span descriptor
 *                          (segment, page or large block): how a pointer
 *                          handed to HeapFree, HeapSize or HeapValidate is
 *                          resolved without trusting a byte next to it.
 *
 * Invariants (heap_validate checks each, one reason per violation)
 *   P1. Back end: the blocks of a segment tile its committed part; each
 *       header decodes, checksums, and its size matches the next block's
 *       previous-size; the block-start bitmap has exactly their starts.
 *   P2. No two free back-end blocks are neighbours; every free block is in
 *       the bin of its size exactly once; the bin bitmap says which bins
 *       are non-empty.
 *   P3. A busy block's slack is below its capacity; HeapSize = capacity -
 *       slack.  Front-end tags: HEAP_TAG_FREE exactly for the blocks on the
 *       page's free lists (local, deferred and cross-thread), counted in
 *       page->used as the rest.
 *   P4. The map holds exactly the granules of live spans, each pointing at
 *       its span's descriptor, whose heap is the owner.
 *   P5. A fixed-size heap never reserves beyond its maximum and has no
 *       front end and no large blocks (H15); its usage counts headers.
 *   P6. Commit: the heap's committed bytes are the sum over its spans and
 *       its areas' committed units; the process's commit charge (vm)
 *       includes them.  Every page lies on units of one of its heap's areas
 *       that are in use and committed, and the units in use are the pages'.
 *
 * Metadata placement: everything but back-end headers and free-list links
 * lives out of band (the map, descriptors, bitmaps, tags), where an overflow
 * of a block cannot reach it; what is in band is encoded and checked, so an
 * overflow is detected (HeapValidate, and every free) instead of followed.
 *
 * Bad pointers (H24, H25, H28): the map rejects memory no heap owns; the
 * descriptor's heap rejects another heap's blocks; the block-start bitmap
 * (back end) or the page's block size (front end) rejects interior
 * pointers; the header's state or the tag rejects freed blocks.  Each
 * gets FALSE with ERROR_INVALID_PARAMETER, or ends the process with a
 * report after HeapEnableTerminationOnCorruption.
 *
 * Locking: each serialized heap has one recursive, owner-tracked lock
 * (HeapLock); the back end, large blocks and page hand-over take it; the
 * front end's allocate, free, HeapSize and in-class HeapReAlloc do not.
 * HEAP_NO_SERIALIZE heaps take no lock and keep one front-end owner.  Host
 * calls are still made under a heap's lock where the heap grows or gives
 * back (new segments and pages, commits, HeapCompact's decommits); STYLE.md
 * 10 wants them outside it, and that is still to come (above).
 */
#ifndef WINMEM_HEAP_H
#define WINMEM_HEAP_H

#include "../vm/vm.h"

#include <pthread.h>

#define HEAP_ALIGN          16u
/* Windows turns an LFH bucket on after about 17 allocations of its size.
 * A page costs less here (carved and touched as it fills), and a heap made
 * for a few hundred blocks (an arena) would spend most of its time in the
 * back end at 17; at 2 the first blocks of each size still sit behind
 * checked headers, side by side, as in a fresh Windows heap. */
#define HEAP_FRONT_AFTER    2u
#define HEAP_FRONT_MAX      (64u * 1024)    /* largest front-end class */
#define HEAP_LARGE_MIN      ((size_t)0xFE000)   /* Windows' VirtualMemoryThreshold, x64 */
#define HEAP_TAG_FREE       0u      /* a free (or never used) block's tag */

/* ------------------------------------------------------------ the map */
/* The span that owns a granule, as recorded by heap_map_set. */
enum heap_span_kind { HEAP_SPAN_SEGMENT = 1, HEAP_SPAN_PAGE, HEAP_SPAN_LARGE };
struct heap_span {
    uint8_t kind;               /* enum heap_span_kind */
    struct heap *heap;
    uintptr_t base;
    size_t size;
};

/* Two levels over the 47-bit user address space (heap_map.c). */
#define HEAP_MAP_ADDRESS_BITS 47
#define HEAP_MAP_GRANULE_BITS 16
#define HEAP_MAP_LEAF_BITS    16
#define HEAP_MAP_TOP_BITS     (HEAP_MAP_ADDRESS_BITS - HEAP_MAP_GRANULE_BITS - HEAP_MAP_LEAF_BITS)
typedef struct heap_span *heap_map_leaf[(size_t)1 << HEAP_MAP_LEAF_BITS];
extern heap_map_leaf *heap_map_top[(size_t)1 << HEAP_MAP_TOP_BITS];

static inline bool heap_map_in_range(uintptr_t a) { return (a >> HEAP_MAP_ADDRESS_BITS) == 0; }
static inline size_t heap_map_top_index(uintptr_t a)
{
    return a >> (HEAP_MAP_GRANULE_BITS + HEAP_MAP_LEAF_BITS);
}
static inline size_t heap_map_leaf_index(uintptr_t a)
{
    return (a >> HEAP_MAP_GRANULE_BITS) & (((size_t)1 << HEAP_MAP_LEAF_BITS) - 1);
}

/* Records span for every granule of [base, base + size) (both multiples of
 * the granularity); false when the map's memory cannot be had.  Readers may
 * race with writers: a reader sees the old or the new pointer, never a torn
 * one, and the map's own memory is never returned to the host. */
bool heap_map_set(uintptr_t base, size_t size, struct heap_span *span);
void heap_map_clear(uintptr_t base, size_t size);
/* The span owning the granule of p, or NULL.  No lock, two loads. */
static inline struct heap_span *heap_map_find(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (!heap_map_in_range(a))
        return NULL;
    heap_map_leaf *leaf = __atomic_load_n(&heap_map_top[heap_map_top_index(a)], __ATOMIC_ACQUIRE);
    return leaf ? __atomic_load_n(&(*leaf)[heap_map_leaf_index(a)], __ATOMIC_ACQUIRE) : NULL;
}
/* Granules recorded (for tests and the validator). */
size_t heap_map_count(void);

/* The layer's descriptor pools, under one leaf lock (heap_map.c). */
void *heap_meta_get(struct wm_pool *pool);
void heap_meta_put(struct wm_pool *pool, void *p);
/* A fresh random key (heap_map.c). */
uint64_t heap_key(void);
/* A zeroed buffer of bytes (whole pages) for out-of-band metadata; put
 * clears the first `dirty` bytes and keeps it for the next get. */
void *heap_buf_get(size_t bytes);
void heap_buf_put(void *p, size_t bytes, size_t dirty);

/* ------------------------------------------------------------ back end */
#define HB_BINS 256
#define HB_BUSY 0x1u
#define HB_MAX_REQUEST ((size_t)1 << 35)    /* beyond any segment (units are 32 bits) */

/* A block header as it reads decoded; stored XOR the heap's key. */
struct hb_header {
    uint32_t units;             /* the block's size in 16-byte units, header included */
    uint32_t prev_units;        /* the block before it in its segment; 0 for the first */
    uint16_t slack;             /* busy: capacity minus the size asked for */
    uint8_t flags;              /* HB_* */
    uint8_t check;              /* a fold of the fields above */
    uint32_t reserved;
};
_Static_assert(sizeof(struct hb_header) == 16, "block headers are 16 bytes");

struct heap_segment {
    struct heap_span span;      /* in the map for every granule of the reservation */
    struct heap_segment *next;
    uintptr_t base, committed_end, reserved_end;
    uintptr_t last;             /* the block ending at committed_end */
    uint64_t *starts;           /* one bit per 16 bytes: where blocks start */
    size_t starts_bytes;
};

struct heap_back {
    uint64_t key[2];            /* header and link encoding */
    void *owner;                /* the struct heap, for the map's spans */
    struct heap_segment *segments;
    uintptr_t bins[HB_BINS];    /* free blocks, by size */
    uint64_t bin_map[HB_BINS / 64];
    size_t reserved, committed, busy_blocks;
    size_t next_segment;        /* growable: the next reservation's size */
    DWORD protect;
    bool fixed;
};

/* What a pointer check found. */
enum hb_check { HB_OK, HB_NOT_A_BLOCK, HB_NOT_BUSY, HB_CORRUPT, HB_NO_ROOM };

/* The caller holds the heap's lock; s is the segment the map gives for p. */
DWORD hb_init(struct heap_back *b, void *owner, size_t initial, size_t maximum, DWORD protect);
void hb_destroy(struct heap_back *b);
DWORD hb_alloc(struct heap_back *b, size_t size, void **out);
enum hb_check hb_free(struct heap_back *b, struct heap_segment *s, void *p);
enum hb_check hb_size(struct heap_back *b, struct heap_segment *s, const void *p, size_t *size);
enum hb_check hb_resize(struct heap_back *b, struct heap_segment *s, void *p, size_t size);
enum hb_check hb_check_block(struct heap_back *b, struct heap_segment *s, const void *p);
bool hb_validate(const struct heap_back *b, const char **why);

/* ---------------------------------------------------------- large blocks */
struct heap_large {
    struct heap_span span;      /* kind LARGE; base is the block's data */
    struct heap_large *next, *prev;
    size_t size;                /* asked for */
    size_t committed;           /* bytes committed from base */
};

/* ------------------------------------------------------------ the heap */
#define HEAP_MAGIC 0x50414548u  /* "HEAP" while the heap lives */

/* ------------------------------------------------------------ front end */
#define HF_CLASSES 48

/* Three groups, a cache line or more apart, so that another thread's free
 * (which reads the first and writes the third) does not take the owner's
 * line away on every call, and the owner's allocation and free each touch
 * two lines of it, the first and the second. */
struct heap_page {
    /* Read by every thread that frees into the page; written seldom. */
    struct heap_span span;      /* kind PAGE */
    struct heap_thread *owner;  /* the thread whose page it is, or NULL (the heap's lock) */
    uint16_t *tags;             /* out of band: hf_tag per block, or HEAP_TAG_FREE */
    uint32_t block_size, inv;
    uint32_t carved;            /* blocks threaded onto a list so far */
    uint8_t cls;
    /* The owner's (or, unowned, the heap lock's). */
    _Alignas(64) uintptr_t local_free;  /* encoded */
    uint64_t key;               /* links are stored XOR this */
    uint32_t used, capacity;
    uint8_t where;              /* enum hf_where */
    struct heap_page *next, *prev;  /* in the list `where` says */
    struct heap_page *all_next, *all_prev;  /* every page of the heap */
    size_t meta_bytes;
    /* Other threads'. */
    _Alignas(64) uintptr_t thread_free; /* atomic: frees from other threads, encoded links */
    uint64_t thread_key;        /* key, copied here so that they need not read the owner's line */
};
_Static_assert(offsetof(struct heap_page, cls) < 64, "what every free reads fits one cache line");

/* An area: one reservation of the heap's that its pages are cut from, in
 * HF_UNIT pieces, so that a page costs no call to vm.  Free units stay
 * committed (warm) until the purge delay has passed. */
#define HF_UNIT ((size_t)64 << 10)
struct hf_area {
    struct hf_area *next;
    uintptr_t base;
    uint32_t units;
    uint64_t free;              /* a bit per unit: no page there */
    uint64_t committed;         /* a bit per unit */
    uint64_t freed_at;          /* os_coarse_ns when a unit last became free */
};

/* Where a page is: an owned page is its thread's current page of its
 * class, or on the thread's list of pages that may have free blocks, or on
 * its list of full ones; an unowned page is on one of the heap's lists. */
enum hf_where { HF_CURRENT, HF_AVAIL, HF_FULL, HF_HEAP_SPARE, HF_HEAP_FULL };
/* A list of pages, doubly linked through next and prev. */
struct hf_list { struct heap_page *first, *last; };

struct heap_thread {
    struct heap *heap;          /* NULL once the heap is destroyed */
    uint32_t heap_id;
    struct heap_thread *next;   /* the heap's list */
    struct heap_thread *tl_next;/* the thread's own list */
    struct heap_page *page[HF_CLASSES];     /* current */
    struct hf_list avail[HF_CLASSES];   /* oldest first: the most freed into */
    struct hf_list full[HF_CLASSES];
};

struct heap {
    uint32_t magic;
    uint32_t id;                /* unique per heap ever created */
    DWORD flags;                /* HEAP_NO_SERIALIZE, HEAP_GENERATE_EXCEPTIONS, ... */
    ULONG compat;               /* HeapCompatibilityInformation: 0, or 2 once set */
    struct heap *next, *prev;   /* every heap, process heap first (heap_list) */
    pthread_mutex_t lock;       /* recursive; HeapLock takes it too */
    struct heap_back back;
    struct heap_large *large;
    size_t large_bytes;
    /* Front end: a class is served here once it has been asked for often. */
    uint16_t front_count[HF_CLASSES];
    uint8_t front_on[HF_CLASSES];
    struct heap_thread *threads;
    struct heap_page *pages;    /* all, through all_next */
    struct hf_list spare[HF_CLASSES], full[HF_CLASSES];
    size_t page_bytes;          /* the pages' spans */
    struct hf_area *areas;      /* what pages are cut from (heap_front.c) */
    size_t area_bytes, area_committed;
    uint64_t purge_at;          /* os_coarse_ns after which free units are decommitted; 0: none */
};

/* The thread's most recent heaps and its state in each (heap_front.c). */
#define HF_TL_CACHE 4
struct hf_tl_entry { struct heap *h; uint32_t id; struct heap_thread *t; };
extern __thread __attribute__((tls_model("initial-exec"))) struct hf_tl_entry hf_tl_cache[HF_TL_CACHE];

/* A busy block's tag is its slack plus one, so that a page's fresh (zero)
 * tag array already says "free" and carving writes no tags. */
static inline uint16_t hf_tag(uint32_t block_size, size_t size)
{
    return (uint16_t)(block_size - size + 1);
}
static inline size_t hf_tag_size(uint32_t block_size, uint16_t tag)
{
    return block_size + 1 - (size_t)tag;
}

static inline uint32_t hf_index_of(const struct heap_page *pg, uintptr_t p)
{
    return (uint32_t)(((uint64_t)(p - pg->span.base) * pg->inv) >> 32);
}

static inline uintptr_t hf_next_of(const struct heap_page *pg, uintptr_t block)
{
    return *(const uintptr_t *)block ^ pg->key;
}

/* The class of a size above 256 bytes and up to HEAP_FRONT_MAX: four
 * classes per doubling. */
static inline int hf_class_above_256(size_t size)
{
    unsigned k = 63u - (unsigned)__builtin_clzll(size - 1);
    return (int)(16 + 4 * (k - 8) + (((size - 1) >> (k - 2)) & 3));
}

/* The class of size, or -1 when the front end does not serve it. */
static inline int hf_class(const struct heap *h, size_t size)
{
    if (size > HEAP_FRONT_MAX || !(h->flags & HEAP_GROWABLE))
        return -1;
    if (size <= 256)
        return size ? (int)((size - 1) / 16) : 0;
    return hf_class_above_256(size);
}

/* hf_class of the sizes up to HF_SMALL_MAX in a growable heap, by
 * (size + 15) / 16: every class boundary there is a multiple of 16. */
#define HF_SMALL_MAX 1024u
extern const uint8_t hf_small_class[HF_SMALL_MAX / 16 + 1];

/* The class of a size up to HEAP_FRONT_MAX in a growable heap. */
static inline int hf_class_growable(size_t size)
{
    return size <= HF_SMALL_MAX ? hf_small_class[(size + 15) / 16] : hf_class_above_256(size);
}

/* The calling thread's state in h when h is the heap it used last, or
 * NULL.  A match also proves h live without reading its magic: an entry is
 * made only for a live growable heap, and HeapDestroy zeroes the heap's id,
 * which no entry holds (ids start at 1). */
static inline struct heap_thread *hf_state_fast(const struct heap *h)
{
    const struct hf_tl_entry *e = &hf_tl_cache[0];
    if (!h || e->h != h || e->id != __atomic_load_n(&h->id, __ATOMIC_RELAXED))
        return NULL;
    return e->t;
}

/* The allocation fast path, inlined into HeapAlloc: t's current page of the
 * class has a free block.  NULL: take the slow path. */
static inline void *hf_alloc_fast(struct heap_thread *t, int cls, size_t size)
{
    struct heap_page *pg = t->page[cls];
    uintptr_t b;
    if (!pg || !(b = pg->local_free))
        return NULL;
    pg->local_free = hf_next_of(pg, b);
    pg->used++;
    pg->tags[hf_index_of(pg, b)] = hf_tag(pg->block_size, size);
    return (void *)b;
}

/* Gives back pg, on t's avail queue and with nothing busy (heap_front.c). */
void hf_retire(struct heap_thread *t, struct heap_page *pg);

/* A busy block i of a page the calling thread owns goes onto its local
 * free list (no lock, no atomic operation). */
static inline void hf_push_local(struct heap_page *pg, uint32_t i, uintptr_t b)
{
    pg->tags[i] = HEAP_TAG_FREE;
    *(uintptr_t *)b = pg->local_free ^ pg->key;
    pg->local_free = b;
    pg->used--;
}

/* The free fast path, inlined into HeapFree: p is a busy block of pg, a
 * page t owns and allocates from.  False: take the slow path, which also
 * answers every bad pointer. */
static inline bool hf_free_fast(struct heap_thread *t, struct heap_page *pg, void *p)
{
    if (__atomic_load_n(&pg->owner, __ATOMIC_RELAXED) != t || pg->where == HF_FULL)
        return false;
    uintptr_t b = (uintptr_t)p;
    uint32_t i = hf_index_of(pg, b);
    if (i >= pg->carved || pg->span.base + (uintptr_t)i * pg->block_size != b ||
        pg->tags[i] == HEAP_TAG_FREE)
        return false;
    hf_push_local(pg, i, b);
    if (wm_unlikely(pg->used == 0) && pg->where == HF_AVAIL)
        hf_retire(t, pg);
    return true;
}

/* Front end (heap_front.c).  hf_alloc: NULL when the class is not yet on
 * or memory ran out (the caller then uses the back end). */
void *hf_alloc(struct heap *h, int cls, size_t size);
/* After a back-end allocation of a front-end size, under the heap's lock. */
void hf_count(struct heap *h, int cls);
/* For aligned allocations: a class whose blocks all start on a multiple of
 * align (a power of two up to 4 KiB), or -1; and turning a class on at
 * once, under the heap's lock. */
int hf_class_aligned(const struct heap *h, size_t size, size_t align);
void hf_turn_on(struct heap *h, int cls);
enum hb_check hf_free(struct heap *h, struct heap_page *pg, void *p);
enum hb_check hf_size(const struct heap_page *pg, const void *p, size_t *size);
/* Within the class; or, with stay, any smaller size in the same block
 * (HEAP_REALLOC_IN_PLACE_ONLY shrinking below the class). */
enum hb_check hf_resize(struct heap_page *pg, void *p, size_t size, bool stay);
bool hf_validate(struct heap *h, const char **why);
void hf_trim(struct heap *h);      /* HeapCompact: empty unowned pages go back */
void hf_destroy(struct heap *h);   /* HeapDestroy */
void hf_fork_lock(void);
void hf_fork_unlock(void);
void hf_fork_child(void);
void hf_fork_child_heap(struct heap *h);
/* Block i of a carved page: its size (asked for, or the capacity when free). */
bool hf_block_at(const struct heap_page *pg, uint32_t i, size_t *size, bool *busy);
/* States the calling thread holds, one per heap it used (for tests). */
size_t hf_thread_states(void);

/* Areas, under the heap's lock (heap_area.c).  hf_units_take: n units in a
 * row for a page, committed, or 0; hf_areas_purge decommits free units past
 * the purge delay (all of them, and every empty area, with all);
 * hf_areas_tick purges when the delay has passed. */
uintptr_t hf_units_take(struct heap *h, unsigned n);
void hf_units_give(struct heap *h, uintptr_t base, unsigned n);
void hf_areas_purge(struct heap *h, bool all);
void hf_areas_tick(struct heap *h);
bool hf_units_in_use(const struct heap *h, uintptr_t base, size_t size);
bool hf_areas_validate(const struct heap *h, const char **why);

/* Large blocks, under the heap's lock (heap_large.c). */
DWORD hl_alloc(struct heap *h, size_t size, void **out);
void hl_free(struct heap *h, struct heap_large *l);
bool hl_resize(struct heap *h, struct heap_large *l, size_t size);   /* in place */
void hl_destroy_all(struct heap *h);

/* Shared by the API files (heap_api.c). */
enum heap_owner { OWN_NONE, OWN_BACK, OWN_LARGE, OWN_PAGE };
/* The live heap behind a handle, or NULL with ERROR_INVALID_HANDLE. */
struct heap *heap_of(HANDLE handle);
void heap_lock(struct heap *h, DWORD flags);      /* unless HEAP_NO_SERIALIZE */
void heap_unlock(struct heap *h, DWORD flags);
/* A block of h whose start is a multiple of align (a power of two), freed
 * and sized like any other: for the C runtime's aligned allocations
 * (posix_memalign and the like).  0 or an error code; alignments above the
 * allocation granularity are refused (ERROR_NOT_SUPPORTED). */
DWORD heap_alloc_aligned(struct heap *h, size_t size, size_t align, void **out);
/* Which of h's spans holds the block at p (checked through the map only). */
enum heap_owner heap_resolve(struct heap *h, const void *p, struct heap_segment **seg,
                             struct heap_large **large, struct heap_page **page);

/* Walking the back end (heap_back.c): a block's state, for HeapWalk and
 * HeapSummary; false when `block` is not a block of s. */
struct hb_block_info { size_t capacity, size; bool busy; uintptr_t next; };
bool hb_block_info(const struct heap_back *b, const struct heap_segment *s, uintptr_t block,
                   struct hb_block_info *out);
size_t hb_largest_free(const struct heap_back *b);
/* Gives free memory back to the host (HeapCompact). */
void hb_trim(struct heap_back *b);

#endif
