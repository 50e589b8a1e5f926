/*
 * heap_front.c — white-box tests of the heap's front end (src/heap/heap_front.c):
 * memory freed from several threads comes back to the host on HeapCompact; a
 * page given room by a local free, by other threads' frees or by its owner's
 * end is used again before a new page is taken; a destroyed heap's per-thread
 * state neither misdirects a later heap nor piles up; bad pointers into a
 * page are refused without damage; pages given room are used oldest first;
 * HeapAlloc's class table agrees with hf_class; a page emptied on the avail
 * queue leaves its units warm for a page of any class, and idle units are
 * decommitted after the purge delay; growth by HeapReAlloc turns
 * a class's front end on; blocks carved but never handed out are refused.
 * Pages are read through the map
 * (heap_map_find) and the heap's own fields.
 */
#include "heap/heap.h"
#include "unit.h"

#include <stdlib.h>

#define MIB ((size_t)1 << 20)
#define BS 48                              /* the class cases 2-4 and 7 use */
#define PAGE ((size_t)64 << 10)            /* its pages' size */
#define CAP ((int)(PAGE / BS))             /* and blocks per page */
#define WARM ((int)HEAP_FRONT_AFTER)       /* a fresh heap's first blocks: the back end */

static void *blocks[8192], *again[8192];

static struct heap_page *page_of(const void *p)
{
    struct heap_span *s = heap_map_find(p);
    return s && s->kind == HEAP_SPAN_PAGE ? wm_container_of(s, struct heap_page, span) : NULL;
}

/* The calling thread's state in h, from its cache of recent heaps. */
static struct heap_thread *self_in(const struct heap *h)
{
    for (int i = 0; i < HF_TL_CACHE; i++)
        if (hf_tl_cache[i].h == h && hf_tl_cache[i].id == h->id)
            return hf_tl_cache[i].t;
    return NULL;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    return pthread_create(&t, NULL, fn, arg) ? (abort(), t) : t;
}

static void fill(HANDLE h, void **b, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = HeapAlloc(h, 0, BS);
}

#define C1_BLOCKS 20000
#define C1_THREADS 4
static struct { HANDLE heap; void *blocks[C1_BLOCKS]; pthread_barrier_t step; int bad, mode; } c1;

/* Block i: 16 B to 32 KiB, log-spread (all 40 classes, about one block in
 * 24 past 16 KiB for the back end); allocated by slot i % 4 and freed by
 * the same slot, but every third block by the next slot. */
static size_t c1_size(unsigned i)
{
    uint32_t x = (i + 1) * 2654435761u;
    x ^= x >> 15, x *= 2246822519u, x ^= x >> 13;
    return 16 + (x >> 8) % (16u << (x % 12));
}

static void c1_alloc_free(int slot, bool alloc)
{
    for (unsigned i = 0; i < C1_BLOCKS; i++) {
        int who = (int)(i % C1_THREADS), freer = i % 3 ? who : (who + 1) % C1_THREADS;
        if (alloc ? who == slot && !(c1.blocks[i] = HeapAlloc(c1.heap, 0, c1_size(i)))
                  : freer == slot && !HeapFree(c1.heap, 0, c1.blocks[i]))
            __atomic_add_fetch(&c1.bad, 1, __ATOMIC_RELAXED);
    }
}

/* Slot 0 is main.  Mode 0 allocates, 1 frees, 2 does both, and then slots
 * 1-3 stay idle until main has compacted. */
static void *c1_thread(void *arg)
{
    int slot = (int)(intptr_t)arg, mode = c1.mode;
    if (mode != 1)
        c1_alloc_free(slot, true);
    if (mode == 2)
        pthread_barrier_wait(&c1.step);                     /* all allocated */
    if (mode != 0)
        c1_alloc_free(slot, false);
    for (int i = 0; i < 1 + (slot != 0) && mode == 2; i++)
        pthread_barrier_wait(&c1.step);                     /* all freed; compacted */
    return NULL;
}

static void c1_run(pthread_t *t, int mode)
{
    c1.mode = mode;
    for (intptr_t s = 1; s < C1_THREADS; s++)
        t[s] = spawn(c1_thread, (void *)s);
    c1_thread(0);
    for (int s = 1; s < C1_THREADS && mode != 2; s++)
        pthread_join(t[s], NULL);
}

/* Case 1.  Pins the Done-when: 20,000 blocks of 16 B-32 KiB,
 * allocated by main and three threads, a third of them freed by a thread
 * other than their allocator; after HeapCompact the commit charge is within
 * 1 MiB of its value before HeapCreate.  ended: the three end before the
 * frees (fresh threads do theirs), so every page is the heap's or main's and
 * all can go.  Otherwise they are alive and idle at HeapCompact, and the
 * design lets only a page's owner touch it: the bound is 1 MiB plus exactly
 * the pages those three own (nothing else may stay), and once they end a
 * second HeapCompact must meet the plain 1 MiB. */
static void memory_returned(bool ended)
{
    size_t before = unit_charge();
    struct heap *h = c1.heap = HeapCreate(0, 0, 0);
    pthread_t t[C1_THREADS];
    c1.bad = 0;
    pthread_barrier_init(&c1.step, NULL, C1_THREADS);
    c1_run(t, ended ? 0 : 2);
    if (ended)
        c1_run(t, 1);
    CHECK_EQ(c1.bad, 0);
    HeapCompact(h, 0);
    struct heap_thread *self = self_in(h);
    size_t kept = 0, others = 0, added = unit_charge() - before;
    for (struct heap_page *pg = h->pages; pg; pg = pg->all_next) {
        kept += pg->span.size;
        others += pg->owner && pg->owner != self ? pg->span.size : 0;
    }
    printf("  case 1 (threads %s): charge +%zu KiB after HeapCompact; pages kept %zu KiB, "
           "of them live threads' %zu KiB\n", ended ? "ended" : "idle", added >> 10,
           kept >> 10, others >> 10);
    CHECK_EQ(kept, others);                    /* nothing of main's or the heap's stays */
    CHECK(added <= MIB + others);
    if (!ended) {
        pthread_barrier_wait(&c1.step);
        for (int s = 1; s < C1_THREADS; s++)
            pthread_join(t[s], NULL);
        HeapCompact(h, 0);
        added = unit_charge() - before;
        printf("  case 1 (threads idle, then ended): charge +%zu KiB\n", added >> 10);
        CHECK_EQ(h->page_bytes, 0);
    }
    CHECK(added <= MIB);
    CHECK(HeapValidate(h, 0, NULL));
    pthread_barrier_destroy(&c1.step);
    HeapDestroy(h);
}

/* Three pages of BS blocks, the third (current) full; the count made. */
static int three_full_pages(HANDLE heap)
{
    struct heap *h = heap;
    int n = 0;
    for (struct heap_page *last = NULL; n < 8192; n++) {
        if (h->page_bytes >= 3 * PAGE && last && last->used == last->capacity)
            break;
        blocks[n] = HeapAlloc(heap, 0, BS);
        last = page_of(blocks[n]);
    }
    return n;
}

/* Case 2.  Pins a local free into a full page: the page moves to the thread's
 * avail list, and its freed blocks are all used again before any new page. */
static void full_page_gets_room(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    struct heap *h = heap;
    int n = three_full_pages(heap), freed = 0, in_first = 0;
    struct heap_page *first = page_of(blocks[WARM]);
    CHECK(!page_of(blocks[WARM - 1]) && first && first->where == HF_FULL && first->capacity == CAP);
    CHECK_EQ(h->page_bytes, 3 * PAGE);
    for (int i = 0; i < n; i++)
        if (page_of(blocks[i]) == first && in_first++ % 2 == 0)
            freed += HeapFree(heap, 0, blocks[i]);
    CHECK_EQ(in_first, CAP);
    CHECK_EQ(freed, (CAP + 1) / 2);
    CHECK_EQ(first->where, HF_AVAIL);
    fill(heap, again, freed);
    CHECK_EQ(h->page_bytes, 3 * PAGE);
    int on_first = 0;                       /* the first page full again: the freed blocks */
    for (int i = 0; i < freed; i++)
        on_first += page_of(again[i]) == first;
    CHECK(on_first == freed && first->used == (uint32_t)CAP);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapDestroy(heap);
}

static HANDLE c3_heap;
static void *c3_freer(void *unused)
{
    for (int i = WARM; i < WARM + 3 * CAP; i++)
        CHECK(HeapFree(c3_heap, 0, blocks[i]));
    return unused;
}

/* Thread A: three pages' worth, freed by B while A lives, then as many again. */
static void *c3_owner(void *unused)
{
    struct heap *h = c3_heap;
    fill(c3_heap, blocks, WARM + 3 * CAP);
    CHECK_EQ(h->page_bytes, 3 * PAGE);
    pthread_join(spawn(c3_freer, NULL), NULL);
    fill(c3_heap, again, 3 * CAP);
    CHECK_EQ(h->page_bytes, 3 * PAGE);
    CHECK(page_of(again[3 * CAP - 1]) && page_of(again[3 * CAP - 1])->owner == self_in(h));
    CHECK(HeapValidate(c3_heap, 0, NULL));
    return unused;
}

/* Case 3.  Pins cross-thread frees into a live owner's pages: the owner finds
 * them (current page, then its full pages with thread_free) before a new
 * page. */
static void cross_thread_frees_found(void)
{
    pthread_join(spawn(c3_owner, c3_heap = HeapCreate(0, 0, 0)), NULL);
    HeapDestroy(c3_heap);
}

static void *c4_owner(void *heap) { fill(heap, blocks, WARM + 5 * CAP / 2); return NULL; }

/* Case 4.  Pins thread exit: every page of an ended thread is the heap's, a
 * free into it from another thread is taken (and a second one refused), and
 * the next thread adopts those pages instead of mapping new ones. */
static void thread_exit_gives_pages_up(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    struct heap *h = heap;
    int n = WARM + 5 * CAP / 2, pages = 0;
    pthread_join(spawn(c4_owner, heap), NULL);
    for (struct heap_page *pg = h->pages; pg; pg = pg->all_next, pages++)
        CHECK(!pg->owner && (pg->where == HF_HEAP_SPARE || pg->where == HF_HEAP_FULL));
    CHECK_EQ(pages, 3);
    for (int i = 0; i < n; i++)
        CHECK(HeapFree(heap, 0, blocks[i]));
    SetLastError(0);
    CHECK(!HeapFree(heap, 0, blocks[n - 1]));                 /* double free, unowned page */
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    fill(heap, again, n - WARM);
    CHECK_EQ(h->page_bytes, 3 * PAGE);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapDestroy(heap);
}

static struct { HANDLE h, h2; pthread_barrier_t step; } c5;
static void c5_gone(HANDLE heap)
{
    SetLastError(0);
    CHECK(HeapAlloc(heap, 0, 64) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
}

static void *c5_thread(void *unused)
{
    int bad = 0;
    fill(c5.h, blocks, 100);
    pthread_barrier_wait(&c5.step);                         /* main destroys H, creates H2 */
    pthread_barrier_wait(&c5.step);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 400; i++) {
            again[i] = HeapAlloc(c5.h2, 0, 16 + (size_t)(i % 8) * 48);
            struct heap_page *pg = page_of(again[i]);
            bad += !again[i] || (pg && (pg->span.heap != c5.h2 || pg->owner->heap != c5.h2));
        }
        for (int i = 0; i < 400; i++)
            bad += !HeapFree(c5.h2, 0, again[i]);
    }
    CHECK_EQ(bad, 0);
    CHECK(HeapValidate(c5.h2, 0, NULL));
    if (c5.h != c5.h2)
        c5_gone(c5.h);
    pthread_barrier_wait(&c5.step);                         /* main destroys H2 */
    pthread_barrier_wait(&c5.step);
    c5_gone(c5.h2);                                         /* destroyed, not reused */
    return unused;
}

/* Case 5.  Pins HeapDestroy under a thread with state in the heap: that state
 * is dropped, not followed, when the thread uses the next heap (perhaps at
 * the same address) or the destroyed handle. */
static void destroy_under_a_thread(void)
{
    pthread_barrier_init(&c5.step, NULL, 2);
    c5.h = HeapCreate(0, 0, 0);
    pthread_t a = spawn(c5_thread, NULL);
    pthread_barrier_wait(&c5.step);
    CHECK(HeapDestroy(c5.h));
    c5.h2 = HeapCreate(0, 0, 0);
    printf("  case 5: H2 %s H's struct\n", c5.h2 == c5.h ? "reuses" : "does not reuse");
    pthread_barrier_wait(&c5.step);
    pthread_barrier_wait(&c5.step);
    CHECK(HeapDestroy(c5.h2));
    pthread_barrier_wait(&c5.step);
    pthread_join(a, NULL);
    pthread_barrier_destroy(&c5.step);
}

/* Case 6.  Pins that a thread's states in destroyed heaps do not pile up
 * (they did, and every new heap scanned them): after 20,000 heaps, each
 * with four classes on, the thread holds at most one state more than
 * before (the last heap's, freed at its next lookup). */
static void many_heaps_one_thread(void)
{
    static const size_t sizes[4] = { 24, 100, 700, 3000 };
    size_t before = hf_thread_states();
    for (int k = 0; k < 20000; k++) {
        HANDLE heap = HeapCreate(0, 0, 0);
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < 40; i++)
                HeapAlloc(heap, 0, sizes[c]);
        if (k == 19999)
            CHECK(HeapValidate(heap, 0, NULL) && ((struct heap *)heap)->page_bytes > 0);
        HeapDestroy(heap);
    }
    CHECK(hf_thread_states() <= before + 1);
}

/* Case 7.  Pins bad pointers into a page the caller owns: a double free, an
 * interior pointer and another heap's block are refused with
 * ERROR_INVALID_PARAMETER and leave the page as it was. */
static void bad_pointers_refused(void)
{
    HANDLE heap = HeapCreate(0, 0, 0), other = HeapCreate(0, 0, 0);
    fill(other, again, WARM + 1);
    fill(heap, blocks, WARM + 2);              /* the thread's latest heap: frees are local */
    void *a = blocks[WARM], *b = blocks[WARM + 1], *o = again[WARM];
    void *bad[3] = { a, (char *)b + 16, o };           /* freed, interior, other heap's */
    CHECK(page_of(a) && page_of(a) == page_of(b) && page_of(o) && page_of(o) != page_of(a));
    CHECK(HeapFree(heap, 0, a));
    for (int i = 0; i < 3; i++) {
        SetLastError(0);
        CHECK(!HeapFree(heap, 0, bad[i]));
        CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    }
    CHECK(HeapValidate(heap, 0, NULL));
    CHECK_EQ(HeapSize(heap, 0, b), BS);
    CHECK_EQ(HeapSize(other, 0, o), BS);
    CHECK(HeapFree(heap, 0, b));
    /* Both come back before the page is left (in the page's order). */
    int found = 0;
    for (int i = 0; i <= CAP && found < 2; i++) {
        void *x = HeapAlloc(heap, 0, BS);
        found += x == a || x == b;
    }
    CHECK_EQ(found, 2);
    CHECK_EQ(((struct heap *)heap)->page_bytes, PAGE);
    CHECK(HeapValidate(heap, 0, NULL) && HeapValidate(other, 0, NULL));
    HeapDestroy(other);
    HeapDestroy(heap);
}

/* Case 8.  Pins the avail list as a queue: of two pages given room, the one
 * given room first is used first (it has had the longest to gather frees;
 * taking the newest took a page with one free block, over and over). */
static void avail_pages_in_order(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    int n = three_full_pages(heap);
    void *in1 = blocks[WARM], *in2 = NULL;
    struct heap_page *p1 = page_of(in1), *p2 = NULL;
    for (int i = WARM; i < n && !p2; i++)
        if (page_of(blocks[i]) != p1)
            p2 = page_of(in2 = blocks[i]);
    CHECK(p1 && p2 && p1->where == HF_FULL && p2->where == HF_FULL);
    CHECK(HeapFree(heap, 0, in1) && HeapFree(heap, 0, in2));
    CHECK(p1->where == HF_AVAIL && p2->where == HF_AVAIL);
    void *x = HeapAlloc(heap, 0, BS), *y = HeapAlloc(heap, 0, BS);
    CHECK(x == in1 && y == in2);
    CHECK_EQ(((struct heap *)heap)->page_bytes, 3 * PAGE);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapDestroy(heap);
}

/* Case 9.  Pins HeapAlloc's class table against hf_class for every size it
 * serves. */
static void small_class_table(void)
{
    struct heap h = { .flags = HEAP_GROWABLE };
    int wrong = 0;
    for (size_t size = 0; size <= HF_SMALL_MAX; size++)
        wrong += hf_small_class[(size + 15) / 16] != hf_class(&h, size);
    CHECK_EQ(wrong, 0);
}

/* Case 10.  Pins the retirement of empty pages: when the last busy block of
 * a page on the avail queue is freed, the page goes, and its units in the
 * heap's area stay committed (warm) for the next page of any class, which
 * takes them instead of committing more. */
static void empty_page_retired(void)
{
    enum { BIG = 20480, OTHER = 65536, SPAN = 512 << 10, PER = SPAN / BIG };
    HANDLE heap = HeapCreate(0, 0, 0);
    struct heap *h = heap;
    for (int i = 0; i < WARM + PER + 1; i++)                  /* one full page, one current */
        blocks[i] = HeapAlloc(heap, 0, BIG);
    struct heap_page *first = page_of(blocks[WARM]);
    CHECK(first && first->capacity == PER && first->span.size == SPAN);
    CHECK(page_of(blocks[WARM + PER]) && page_of(blocks[WARM + PER]) != first);
    CHECK_EQ(h->page_bytes, 2 * (size_t)SPAN);
    uintptr_t base = first->span.base;
    size_t committed = h->area_committed;
    CHECK(committed >= 2 * (size_t)SPAN);
    for (int i = WARM; i < WARM + PER; i++)
        CHECK(HeapFree(heap, 0, blocks[i]));
    CHECK_EQ(h->page_bytes, (size_t)SPAN);
    CHECK(heap_map_find((void *)base) == NULL);
    CHECK_EQ(h->area_committed, committed);                 /* kept warm */
    SetLastError(0);
    CHECK(!HeapFree(heap, 0, blocks[WARM]));                /* gone with its page */
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    for (int i = 0; i < WARM + 1; i++)
        again[i] = HeapAlloc(heap, 0, OTHER);
    CHECK_EQ(h->page_bytes, 2 * (size_t)SPAN);
    CHECK(page_of(again[WARM]) && page_of(again[WARM])->span.base == base);   /* the same units */
    CHECK_EQ(h->area_committed, committed);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapDestroy(heap);
}

/* Case 13.  Pins the purge delay of free units and what HeapCompact gives
 * back: units freed stay committed until the delay has passed, then the
 * next page taken or given back decommits them; HeapCompact gives every
 * empty area back at once. */
static void free_units_purged(void)
{
    enum { SPAN = 64 << 10 };
    HANDLE heap = HeapCreate(0, 0, 0);
    struct heap *h = heap;
    int n = WARM + 3 * CAP;                                  /* three pages of BS */
    fill(heap, blocks, n);
    void *keep = HeapAlloc(heap, 0, 4000);                   /* a page of another class */
    for (int i = 0; i < WARM + 1; i++)
        again[i] = HeapAlloc(heap, 0, 4000);
    size_t committed = h->area_committed, areas = h->area_bytes;
    CHECK(areas >= 4 * (size_t)SPAN && committed == areas);
    for (int i = WARM; i < n; i++)                           /* two pages retire */
        HeapFree(heap, 0, blocks[i]);
    CHECK_EQ(h->area_committed, committed);
    CHECK(h->purge_at != 0);
    Sleep(VM_WARM_DELAY_MS + 50);
    void *more = HeapAlloc(heap, 0, 2000);                   /* a new class: a page taken */
    for (int i = 0; i < WARM; i++)
        more = HeapAlloc(heap, 0, 2000);
    CHECK(page_of(more) != NULL);
    CHECK(h->area_committed < committed);                    /* the idle units went */
    CHECK_EQ(h->area_bytes, areas);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapFree(heap, 0, more);
    HeapFree(heap, 0, keep);
    for (int i = 0; i < WARM + 1; i++)
        HeapFree(heap, 0, again[i]);
    HeapCompact(heap, 0);
    CHECK_EQ(h->page_bytes, 0);
    CHECK_EQ(h->area_bytes, 0);
    CHECK_EQ(h->area_committed, 0);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapDestroy(heap);
}

/* Case 11.  Pins that reallocation counts toward a class's front end, as
 * allocation does: a class only ever reached by growing blocks is served
 * by pages after HEAP_FRONT_AFTER moves (it stayed in the back end). */
static void growth_turns_front_on(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    int in_pages = 0;
    for (int i = 0; i < WARM + 4; i++) {
        void *a = HeapAlloc(heap, 0, 16);
        blocks[i] = HeapAlloc(heap, 0, 16);                /* a cannot grow in place */
        void *p = HeapReAlloc(heap, 0, a, 3000);
        CHECK(p != NULL);
        in_pages += page_of(p) != NULL;
    }
    CHECK_EQ(in_pages, 4);
    CHECK(HeapValidate(heap, 0, NULL));
    HeapDestroy(heap);
}

/* Case 12.  Pins that blocks carved but never handed out read as free
 * (their tags are the fresh array's zeros; carving writes none): freeing
 * one, or one past the carved part, is refused.  Also after a heap was
 * destroyed with busy blocks, so that the next page's tag array is one
 * given back dirty. */
static void uncarved_and_unused_refused(void)
{
    for (int round = 0; round < 2; round++) {
        HANDLE heap = HeapCreate(0, 0, 0);
        fill(heap, blocks, WARM + 3);
        struct heap_page *pg = page_of(blocks[WARM]);
        CHECK(pg != NULL && pg->carved < (uint32_t)CAP);
        if (!pg || pg->carved >= (uint32_t)CAP)
            return;
        char *base = (char *)pg->span.base;
        void *unused = base + 3 * BS, *uncarved = base + (size_t)pg->carved * BS;
        CHECK(blocks[WARM + 2] == base + 2 * BS);         /* the page hands out in order */
        size_t size = 1;
        for (int i = 0; i < 2; i++) {
            void *p = i ? uncarved : unused;
            CHECK(!hf_block_at(pg, (uint32_t)(((char *)p - base) / BS), &size, &(bool){ 0 }) ||
                  size == BS);
            SetLastError(0);
            CHECK(!HeapFree(heap, 0, p));
            CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
            CHECK_EQ(HeapSize(heap, 0, p), (SIZE_T)-1);
        }
        CHECK_EQ(HeapSize(heap, 0, blocks[WARM + 2]), BS);
        CHECK(HeapValidate(heap, 0, NULL));
        HeapDestroy(heap);                      /* with its blocks busy: dirty tags go back */
    }
}

int main(void)
{
    GetProcessHeap();                          /* its commit is not case 1's */
    memory_returned(true);
    memory_returned(false);
    full_page_gets_room();
    cross_thread_frees_found();
    thread_exit_gives_pages_up();
    destroy_under_a_thread();
    many_heaps_one_thread();
    bad_pointers_refused();
    avail_pages_in_order();
    small_class_table();
    empty_page_retired();
    growth_turns_front_on();
    uncarved_and_unused_refused();
    free_units_purged();
    return unit_finish();
}
