/*
 * heap_front.c — the heap's front end (heap.h): size classes up to
 * HEAP_FRONT_MAX served from pages that each belong to one thread.
 *
 * A page is a 64 KiB (classes up to 1 KiB), 256 KiB (up to 16 KiB) or
 * 512 KiB span cut from one of the heap's areas (heap_area.c: a page costs
 * no call to vm), recorded in the map, with its descriptor and tag array
 * out of band.  A page on its owner's avail queue that has nothing busy any
 * more goes at once (hf_retire), its units left committed, warm, for the
 * next page of any class and size.  A page belongs to the thread that took it until
 * that thread ends: the owner allocates from `local_free` and frees into it
 * with no lock and no atomic operation, whichever of its pages the block is
 * in.  A thread that frees a block of a page it does not own pushes it onto
 * `thread_free` with one compare-exchange, and the owner takes that list
 * back in one exchange when it looks for room.  A thread's pages of a class
 * are its current page, its `avail` queue (pages a free gave room, oldest
 * first), and its `full` list; it moves on from an exhausted current page
 * to the available one that has waited longest, then to a full one other
 * threads have freed into, then to a page of the heap's (given up by an
 * ended thread), and only then maps a new one.  Blocks are threaded onto the
 * free list a few KiB at a time (carve), so the fast path serves them and
 * the page is touched as it fills.
 *
 * Free-list links are stored in the free blocks XOR the page's key, and
 * checked to lie in the page when followed; tags say which blocks are busy,
 * so a double free, an interior pointer or a stale one is refused exactly.
 */
#include "heap.h"
#include "../os/os.h"

#include <string.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define SMALL_PAGE ((size_t)64 << 10)
#define BIG_PAGE ((size_t)256 << 10)
#define HUGE_PAGE ((size_t)512 << 10)
#define CACHE HF_TL_CACHE

static const uint32_t class_size[HF_CLASSES] = {
    16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048,
    2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384,
    20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536,
};

const uint8_t hf_small_class[HF_SMALL_MAX / 16 + 1] = {
    0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,    /* up to 256: 16 apart */
    16, 16, 16, 16, 17, 17, 17, 17, 18, 18, 18, 18, 19, 19, 19, 19,
    20, 20, 20, 20, 20, 20, 20, 20, 21, 21, 21, 21, 21, 21, 21, 21,
    22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23, 23, 23,
};

/* ------------------------------------------------------- thread states */
#define tl_entry hf_tl_entry
#define tl_cache hf_tl_cache
TLS struct hf_tl_entry hf_tl_cache[HF_TL_CACHE];
static TLS struct heap_thread *tl_states;          /* this thread's, all heaps */
static pthread_mutex_t front_mutex = PTHREAD_MUTEX_INITIALIZER;   /* states' lifetime */
static struct wm_pool state_pool = WM_POOL_INIT(struct heap_thread);
static struct wm_pool page_pool = WM_POOL_INIT(struct heap_page);
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;


void hf_count(struct heap *h, int cls)
{
    if (h->front_count[cls] < HEAP_FRONT_AFTER && ++h->front_count[cls] == HEAP_FRONT_AFTER)
        __atomic_store_n(&h->front_on[cls], 1, __ATOMIC_RELEASE);
}

/* The smallest class that holds size bytes and whose blocks all start on a
 * multiple of align (pages start on 64 KiB), or -1. */
int hf_class_aligned(const struct heap *h, size_t size, size_t align)
{
    int cls = hf_class(h, size ? size : 1);
    if (cls < 0)
        return -1;
    while (cls < HF_CLASSES && class_size[cls] % align)
        cls++;
    return cls < HF_CLASSES ? cls : -1;
}

void hf_turn_on(struct heap *h, int cls)
{
    h->front_count[cls] = HEAP_FRONT_AFTER;
    __atomic_store_n(&h->front_on[cls], 1, __ATOMIC_RELEASE);
}

static void give_up_all(struct heap *h, struct heap_thread *t);

/* A thread ends: its pages are given up to their heaps. */
static void thread_exit(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&front_mutex);
    for (struct heap_thread *t = tl_states, *next; t; t = next) {
        next = t->tl_next;
        struct heap *h = t->heap;
        if (h && __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == HEAP_MAGIC && h->id == t->heap_id) {
            heap_lock(h, 0);
            give_up_all(h, t);
            t->heap = NULL;                      /* the heap no longer lists it */
            for (struct heap_thread **link = &h->threads; *link; link = &(*link)->next)
                if (*link == t) {
                    *link = t->next;
                    break;
                }
            heap_unlock(h, 0);
        }
        wm_pool_put(&state_pool, t);
    }
    tl_states = NULL;
    memset(tl_cache, 0, sizeof tl_cache);
    pthread_mutex_unlock(&front_mutex);
}

static void make_exit_key(void) { pthread_key_create(&exit_key, thread_exit); }

__attribute__((noinline, cold))
static struct heap_thread *state_slow(struct heap *h)
{
    for (int i = 1; i < CACHE; i++)
        if (tl_cache[i].h == h && tl_cache[i].id == h->id) {
            struct tl_entry e = tl_cache[i];
            memmove(&tl_cache[1], &tl_cache[0], (size_t)i * sizeof e);
            tl_cache[0] = e;
            return e.t;
        }
    pthread_once(&exit_once, make_exit_key);
    pthread_mutex_lock(&front_mutex);
    struct heap_thread *t = NULL;
    for (struct heap_thread **link = &tl_states, *s; (s = *link) != NULL;) {
        if (!s->heap) {                   /* its heap was destroyed: done with */
            *link = s->tl_next;
            wm_pool_put(&state_pool, s);
            continue;
        }
        if (s->heap == h && s->heap_id == h->id)
            t = s;
        link = &s->tl_next;
    }
    if (!t && (t = wm_pool_get(&state_pool)) != NULL) {
        memset(t, 0, sizeof *t);
        t->heap = h;
        t->heap_id = h->id;
        t->tl_next = tl_states;
        tl_states = t;
        heap_lock(h, 0);
        t->next = h->threads;
        h->threads = t;
        heap_unlock(h, 0);
        pthread_setspecific(exit_key, (void *)1);
    }
    pthread_mutex_unlock(&front_mutex);
    if (!t)
        return NULL;
    memmove(&tl_cache[1], &tl_cache[0], (CACHE - 1) * sizeof tl_cache[0]);
    tl_cache[0] = (struct tl_entry){ h, h->id, t };
    return t;
}

static inline struct heap_thread *state_of(struct heap *h)
{
    if (wm_likely(tl_cache[0].h == h && tl_cache[0].id == h->id))
        return tl_cache[0].t;
    return state_slow(h);
}

#define index_of hf_index_of
#define next_of hf_next_of

/* ----------------------------------------------------------------- pages */
static struct heap_page *page_new(struct heap *h, int cls)
{
    uint32_t bs = class_size[cls];
    size_t bytes = bs <= 1024 ? SMALL_PAGE : bs <= 16384 ? BIG_PAGE : HUGE_PAGE;
    size_t capacity = bytes / bs;
    size_t meta = wm_align_up(capacity * sizeof(uint16_t), os_page_size());
    unsigned units = (unsigned)(bytes / HF_UNIT);
    void *tags = NULL;
    hf_areas_tick(h);
    struct heap_page *pg = heap_meta_get(&page_pool);
    if (!pg)
        return NULL;
    memset(pg, 0, sizeof *pg);
    uintptr_t base = hf_units_take(h, units);
    pg->span = (struct heap_span){ HEAP_SPAN_PAGE, h, base, bytes };
    if (!base || !(tags = heap_buf_get(meta)) || !heap_map_set(base, bytes, &pg->span)) {
        if (tags)
            heap_buf_put(tags, meta, 0);
        if (base)
            hf_units_give(h, base, units);
        heap_meta_put(&page_pool, pg);
        return NULL;
    }
    pg->tags = tags;
    pg->meta_bytes = meta;
    pg->block_size = bs;
    pg->inv = (uint32_t)((((uint64_t)1 << 32) + bs - 1) / bs);
    pg->capacity = (uint32_t)capacity;
    pg->cls = (uint8_t)cls;
    pg->key = pg->thread_key = heap_key();
    pg->all_next = h->pages;
    if (h->pages)
        h->pages->all_prev = pg;
    h->pages = pg;
    h->page_bytes += bytes;
    return pg;
}

static void page_release(struct heap *h, struct heap_page *pg)
{
    if (pg->all_prev)
        pg->all_prev->all_next = pg->all_next;
    else
        h->pages = pg->all_next;
    if (pg->all_next)
        pg->all_next->all_prev = pg->all_prev;
    h->page_bytes -= pg->span.size;
    heap_map_clear(pg->span.base, pg->span.size);
    hf_units_give(h, pg->span.base, (unsigned)(pg->span.size / HF_UNIT));
    heap_buf_put(pg->tags, pg->meta_bytes, pg->carved * sizeof(uint16_t));
    heap_meta_put(&page_pool, pg);
}

/* Takes the blocks other threads freed into pg into its local list. */
static void collect(struct heap_page *pg)
{
    if (!__atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED))
        return;                             /* no exchange when there is nothing */
    uintptr_t list = __atomic_exchange_n(&pg->thread_free, 0, __ATOMIC_ACQUIRE);
    while (list) {
        uintptr_t next = next_of(pg, list);
        *(uintptr_t *)list = pg->local_free ^ pg->key;
        pg->local_free = list;
        pg->used--;
        list = next;
    }
}

static bool has_room(const struct heap_page *pg)
{
    return pg->local_free || pg->carved < pg->capacity ||
           __atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED);
}

static void carve(struct heap_page *pg);

/* The page lists: a page is pushed at the front, or appended at the back
 * where the list is a queue (a thread's avail pages: the one waiting longest
 * has gathered the most frees). */
static void list_push(struct hf_list *l, struct heap_page *pg, enum hf_where where)
{
    pg->prev = NULL;
    pg->next = l->first;
    *(l->first ? &l->first->prev : &l->last) = pg;
    l->first = pg;
    pg->where = (uint8_t)where;
}

static void list_append(struct hf_list *l, struct heap_page *pg, enum hf_where where)
{
    pg->next = NULL;
    pg->prev = l->last;
    *(l->last ? &l->last->next : &l->first) = pg;
    l->last = pg;
    pg->where = (uint8_t)where;
}

static void list_unlink(struct hf_list *l, struct heap_page *pg)
{
    *(pg->prev ? &pg->prev->next : &l->first) = pg->next;
    *(pg->next ? &pg->next->prev : &l->last) = pg->prev;
    pg->next = pg->prev = NULL;
}

/* Under the heap's lock: the page no longer has an owner. */
static void give_up_page(struct heap *h, struct heap_page *pg)
{
    __atomic_store_n(&pg->owner, NULL, __ATOMIC_RELAXED);
    if (has_room(pg))
        list_push(&h->spare[pg->cls], pg, HF_HEAP_SPARE);
    else
        list_push(&h->full[pg->cls], pg, HF_HEAP_FULL);
}

/* Under the heap's lock: every page of t goes back to the heap (its
 * thread ends). */
static void give_up_all(struct heap *h, struct heap_thread *t)
{
    for (int c = 0; c < HF_CLASSES; c++) {
        struct heap_page *pg, *lists[3] = { t->page[c], t->avail[c].first, t->full[c].first };
        for (int l = 0; l < 3; l++)
            while ((pg = lists[l]) != NULL) {
                lists[l] = l ? pg->next : NULL;
                give_up_page(h, pg);
            }
        t->page[c] = NULL;
        t->avail[c] = t->full[c] = (struct hf_list){ NULL, NULL };
    }
}

/* The first page of a list that other threads have freed into, or NULL. */
static struct heap_page *freed_into(struct heap_page *pg)
{
    while (pg && !__atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED))
        pg = pg->next;
    return pg;
}

/* Under the heap's lock: an unowned page of class cls with a free block,
 * or a new one, now t's. */
static struct heap_page *adopt_page(struct heap *h, struct heap_thread *t, int cls)
{
    struct heap_page *pg = h->spare[cls].first;
    if (pg) {
        list_unlink(&h->spare[cls], pg);
    } else {
        if ((pg = freed_into(h->full[cls].first)) != NULL)
            list_unlink(&h->full[cls], pg);
        else if (!(pg = page_new(h, cls)))
            return NULL;
    }
    __atomic_store_n(&pg->owner, t, __ATOMIC_RELAXED);
    return pg;
}

/* Makes pg, one of t's pages with a free block, its current page. */
static bool refill(struct heap_page *pg)
{
    collect(pg);
    if (!pg->local_free && pg->carved < pg->capacity)
        carve(pg);
    return pg->local_free != 0;
}

/* -------------------------------------------------------------- allocate */
/* Threads blocks not yet handed out onto the empty local list: at least
 * four, up to CARVE_BYTES worth, so the fast path serves the next ones
 * and the page's memory is touched as it is needed. */
#define CARVE_BYTES 4096u

static void carve(struct heap_page *pg)
{
    uint32_t bs = pg->block_size, carved = pg->carved;
    uint32_t n = CARVE_BYTES / bs;
    n = n < 4 ? 4 : n;
    n = n < pg->capacity - carved ? n : pg->capacity - carved;
    uintptr_t key = pg->key, first = pg->span.base + (uintptr_t)carved * bs, b = first;
    for (uint32_t i = 1; i < n; i++, b += bs)
        *(uintptr_t *)b = (b + bs) ^ key;
    *(uintptr_t *)b = pg->local_free ^ key;
    /* Their tags are HEAP_TAG_FREE already: a page's tags start zero. */
    __atomic_store_n(&pg->carved, carved + n, __ATOMIC_RELEASE);   /* others check against it */
    pg->local_free = first;
}

/* The current page of the class is out of free blocks: take back what
 * other threads freed into it, carve more of it, or move on to another of
 * the thread's pages, to a page another thread gave up, or to a new page. */
__attribute__((noinline, cold))
static void *alloc_slow(struct heap *h, struct heap_thread *t, int cls, size_t size)
{
    struct heap_page *pg = t->page[cls];
    if (pg && !refill(pg)) {
        list_push(&t->full[cls], pg, HF_FULL);
        pg = NULL;
    }
    while (!pg && (pg = t->avail[cls].first) != NULL) {
        list_unlink(&t->avail[cls], pg);
        if (!refill(pg)) {
            list_push(&t->full[cls], pg, HF_FULL);
            pg = NULL;
        }
    }
    if (!pg && (pg = freed_into(t->full[cls].first)) != NULL) {
        list_unlink(&t->full[cls], pg);
        refill(pg);                   /* only this thread empties thread_free */
    }
    if (!pg) {
        heap_lock(h, 0);
        pg = adopt_page(h, t, cls);
        heap_unlock(h, 0);
        if (!pg || !refill(pg))
            return NULL;      /* no memory (an adopted page always has a block) */
    }
    pg->where = HF_CURRENT;
    t->page[cls] = pg;
    return hf_alloc_fast(t, cls, size);          /* pg has a free block */
}

void *hf_alloc(struct heap *h, int cls, size_t size)
{
    if (!__atomic_load_n(&h->front_on[cls], __ATOMIC_RELAXED))
        return NULL;
    struct heap_thread *t = state_of(h);
    if (wm_unlikely(!t))
        return NULL;
    void *p = hf_alloc_fast(t, cls, size);
    return wm_likely(p) ? p : alloc_slow(h, t, cls, size);
}

/* ------------------------------------------------------------ free, size */
/* Page pg, on t's avail queue, has nothing busy: it goes, and its units
 * stay warm in their area for the next page of any class until the purge
 * delay has passed. */
void hf_retire(struct heap_thread *t, struct heap_page *pg)
{
    struct heap *h = t->heap;
    list_unlink(&t->avail[pg->cls], pg);
    heap_lock(h, 0);
    page_release(h, pg);
    heap_unlock(h, 0);
}

/* The index of the busy block at p, or why p is not one. */
static enum hb_check busy_index(const struct heap_page *pg, const void *p, uint32_t *i)
{
    uintptr_t a = (uintptr_t)p;
    *i = index_of(pg, a);
    if (*i >= __atomic_load_n(&pg->carved, __ATOMIC_ACQUIRE) || pg->span.base + (uintptr_t)*i * pg->block_size != a)
        return HB_NOT_A_BLOCK;
    return pg->tags[*i] == HEAP_TAG_FREE ? HB_NOT_BUSY : HB_OK;
}

enum hb_check hf_free(struct heap *h, struct heap_page *pg, void *p)
{
    uint32_t i;
    enum hb_check c = busy_index(pg, p, &i);
    if (c != HB_OK)
        return c;
    uintptr_t b = (uintptr_t)p;
    struct heap_thread *t = NULL;
    for (int k = 0; k < CACHE && !t; k++)        /* the caller's state in h, if cached */
        if (tl_cache[k].h == h && tl_cache[k].id == h->id)
            t = tl_cache[k].t;
    if (t && __atomic_load_n(&pg->owner, __ATOMIC_RELAXED) == t) {
        hf_push_local(pg, i, b);
        if (wm_unlikely(pg->where == HF_FULL)) {          /* it has room again */
            list_unlink(&t->full[pg->cls], pg);
            list_append(&t->avail[pg->cls], pg, HF_AVAIL);
        }
        if (pg->used == 0 && pg->where == HF_AVAIL)
            hf_retire(t, pg);
        return HB_OK;
    }
    if (__atomic_exchange_n(&pg->tags[i], HEAP_TAG_FREE, __ATOMIC_RELAXED) == HEAP_TAG_FREE)
        return HB_NOT_BUSY;                      /* two threads freed it at once */
    uintptr_t head = __atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED);
    do
        *(uintptr_t *)b = head ^ pg->thread_key;
    while (!__atomic_compare_exchange_n(&pg->thread_free, &head, b, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
    return HB_OK;
}

enum hb_check hf_size(const struct heap_page *pg, const void *p, size_t *size)
{
    uint32_t i;
    enum hb_check c = busy_index(pg, p, &i);
    if (c == HB_OK)
        *size = hf_tag_size(pg->block_size, pg->tags[i]);
    return c;
}

enum hb_check hf_resize(struct heap_page *pg, void *p, size_t size, bool stay)
{
    uint32_t i;
    enum hb_check c = busy_index(pg, p, &i);
    if (c != HB_OK)
        return c;
    if (size > pg->block_size || (!stay && pg->cls && size <= class_size[pg->cls - 1]))
        return HB_NO_ROOM;                      /* another class: the block moves */
    pg->tags[i] = hf_tag(pg->block_size, size);
    return HB_OK;
}

/* ------------------------------------------------------------ the whole */
/* P3 for every page: tags and free lists agree.  Exact only while no other
 * thread allocates or frees in the heap (HeapValidate's contract, H35). */
bool hf_validate(struct heap *h, const char **why)
{
    if (!hf_areas_validate(h, why))
        return false;
    for (struct heap_page *pg = h->pages; pg; pg = pg->all_next) {
        if (!hf_units_in_use(h, pg->span.base, pg->span.size))
            return *why = "a front-end page lies outside its heap's areas' units in use", false;
        uint32_t free_tags = 0, listed[2] = { 0, 0 };
        for (uint32_t i = 0; i < pg->carved; i++)
            free_tags += pg->tags[i] == HEAP_TAG_FREE;
        uintptr_t lists[2] = { pg->local_free, __atomic_load_n(&pg->thread_free, __ATOMIC_ACQUIRE) };
        for (int l = 0; l < 2; l++)
            for (uintptr_t b = lists[l]; b; b = next_of(pg, b)) {
                uint32_t i = index_of(pg, b);
                if (i >= pg->carved || pg->span.base + (uintptr_t)i * pg->block_size != b)
                    return *why = "a front-end free list leaves its page (overwritten link)", false;
                if (pg->tags[i] != HEAP_TAG_FREE)
                    return *why = "a front-end free list holds a busy block", false;
                if (++listed[l] > pg->carved)
                    return *why = "a front-end free list loops", false;
            }
        if (listed[0] + listed[1] != free_tags)
            return *why = "a freed front-end block is on no free list", false;
        /* Blocks other threads freed are counted as used until collected. */
        if (pg->used != pg->carved - listed[0])
            return *why = "a front-end page's busy count is wrong", false;
    }
    *why = NULL;
    return true;
}

/* Under the heap's lock: pages with nothing busy go back, of those that
 * have no owner and those the calling thread owns (another thread's own
 * pages are its own to touch: they go back when it ends). */
void hf_trim(struct heap *h)
{
    struct heap_thread *self = NULL;
    for (struct heap_thread *t = tl_states; t && !self; t = t->tl_next)
        if (t->heap == h && t->heap_id == h->id)
            self = t;
    for (int c = 0; c < HF_CLASSES; c++) {
        struct hf_list *lists[4] = { &h->spare[c], &h->full[c],
                                     self ? &self->avail[c] : NULL, self ? &self->full[c] : NULL };
        for (int l = 0; l < 4 && lists[l]; l++)
            for (struct heap_page *pg = lists[l]->first, *next; pg; pg = next) {
                next = pg->next;
                collect(pg);
                if (pg->used == 0) {
                    list_unlink(lists[l], pg);
                    page_release(h, pg);
                }
            }
        struct heap_page *pg = self ? self->page[c] : NULL;
        if (pg && (collect(pg), pg->used == 0)) {
            self->page[c] = NULL;            /* the next allocation finds another */
            page_release(h, pg);
        }
    }
    hf_areas_purge(h, true);                    /* free units decommitted, empty areas gone */
}

void hf_destroy(struct heap *h)
{
    pthread_mutex_lock(&front_mutex);
    for (struct heap_thread *t = h->threads; t; t = t->next)
        t->heap = NULL;              /* its thread frees it when it ends */
    h->threads = NULL;
    pthread_mutex_unlock(&front_mutex);
    while (h->pages)
        page_release(h, h->pages);
    hf_areas_purge(h, true);
    memset(h->spare, 0, sizeof h->spare);
    memset(h->full, 0, sizeof h->full);
}

/* Held across fork() before any heap's lock (heap_api.c): the order
 * state_slow and thread_exit take them in. */
void hf_fork_lock(void) { pthread_mutex_lock(&front_mutex); }
void hf_fork_unlock(void) { pthread_mutex_unlock(&front_mutex); }
void hf_fork_child(void)
{
    pthread_mutex_init(&front_mutex, NULL);
}

/* In the child of fork(): the other threads are gone, perhaps in the middle
 * of a lock-free allocation or free.  A page's tags are written last by an
 * allocation and first by a free, so they are the truth: every free list is
 * rebuilt from them, and the gone threads' pages are given up to the heap
 * for the child's threads to adopt.  Called with every lock held or fresh. */
void hf_fork_child_heap(struct heap *h)
{
    struct heap_thread *self = tl_states;
    while (self && self->heap != h)
        self = self->tl_next;
    for (struct heap_thread **link = &h->threads; *link;) {
        if (*link == self) {
            link = &(*link)->next;
            continue;
        }
        (*link)->heap = NULL;
        *link = (*link)->next;
    }
    for (struct heap_page *pg = h->pages; pg; pg = pg->all_next) {
        pg->local_free = 0;
        pg->thread_free = 0;
        pg->used = 0;
        for (uint32_t i = pg->carved; i-- > 0;) {
            uintptr_t b = pg->span.base + (uintptr_t)i * pg->block_size;
            if (pg->tags[i] == HEAP_TAG_FREE) {
                *(uintptr_t *)b = pg->local_free ^ pg->key;
                pg->local_free = b;
            } else {
                pg->used++;
            }
        }
        if (pg->owner && pg->owner != self) {
            give_up_page(h, pg);
        } else if (pg->owner && pg->where == HF_FULL && pg->local_free) {
            list_unlink(&self->full[pg->cls], pg);
            list_append(&self->avail[pg->cls], pg, HF_AVAIL);
        }
    }
}

size_t hf_thread_states(void)
{
    size_t n = 0;
    for (const struct heap_thread *t = tl_states; t; t = t->tl_next)
        n++;
    return n;
}

/* For HeapWalk: the blocks of a page, one at a time. */
bool hf_block_at(const struct heap_page *pg, uint32_t i, size_t *size, bool *busy)
{
    if (i >= __atomic_load_n(&pg->carved, __ATOMIC_ACQUIRE))
        return false;
    *busy = pg->tags[i] != HEAP_TAG_FREE;
    *size = *busy ? hf_tag_size(pg->block_size, pg->tags[i]) : pg->block_size;
    return true;
}
