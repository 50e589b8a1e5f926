/*
 * heap_workloads.h — what a heap_bench child runs: the five workloads, each
 * written once and instantiated per allocator API so that every call is a
 * direct one.  Included by heap_bench.c only (the helper build too), with
 * _GNU_SOURCE defined first (CPU affinity).
 *
 *   small    one free and one allocation at a random slot of 50,000 live
 *            blocks of 8-256 bytes (uniform).
 *   log      the same over 2,000 live blocks of 8 B-64 KiB, every power of
 *            two equally likely.
 *   pc       a producer thread allocates 8-256 byte blocks and hands them
 *            through a ring of 1,024 to a consumer thread, which frees them;
 *            each on a CPU of its own.
 *   arena    a private heap created, 1,000 blocks of 8-1024 bytes (log)
 *            allocated, the heap destroyed.  mimalloc: mi_heap_new,
 *            mi_heap_malloc, mi_heap_destroy.  Allocators without heaps
 *            free each block instead.
 *   realloc  256 buffers that start at 16 bytes and grow, by 1 byte to half
 *            their size at a time, to 64 KiB, then start again.
 *
 * Every allocator gets the same sizes in the same order (the seed is fixed
 * per workload) and the same warm-up before timing.  Each block is written
 * where it starts, where it ends and once per 4 KiB between, so its pages are
 * really used; the first word and the last byte are checked before it is
 * freed (and after it is reallocated), winmem's heaps are checked with
 * HeapValidate after the workload, and every failure is counted.
 */
#ifndef WINMEM_HEAP_WORKLOADS_H
#define WINMEM_HEAP_WORKLOADS_H

#include <winmem.h>
#include "bench.h"
#ifdef HEAP_BENCH_MIMALLOC
#include <mimalloc.h>
#endif

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define SMALL_LIVE 50000
#define SMALL_WARM 500000           /* operations before timing, the same for all */
#define LOG_LIVE 2000
#define LOG_WARM 40000
#define PC_RING 1024                /* power of two */
#define PC_BATCH 32                 /* indices are published every PC_BATCH blocks */
#define PC_WARM 200000
#define ARENA_BLOCKS 1000
#define ARENA_WARM 20
#define GROW_LIVE 256
#define GROW_START 16
#define GROW_MAX 65536
#define GROW_WARM 100000
#define TOUCH_STRIDE 4096
#define ERRORS_SHOWN 5              /* failures a child describes on stderr */

/* How a child calls its allocator. */
enum api { API_WINMEM, API_MALLOC, API_MI, API_MI_HEAP, API_COUNT };
#define PROCESS_HEAP 0xFFFFFFFFu    /* `create` of the process-heap row */

/* A block the workload owns: where, how big, and the tag written into it. */
struct slot {
    void *p;
    uint32_t size;
    uint32_t tag;
};

struct child {
    const char *name;               /* the allocator's, for messages */
    enum api api;
    DWORD create;                   /* winmem: HeapCreate options, or PROCESS_HEAP */
    void *heap;                     /* HANDLE or mi_heap_t *, where the api has one */
    uint32_t serial;                /* the last tag given */
    unsigned long errors;           /* any thread; atomic */
    double c2c[2];                  /* pc: core-to-core latency before, after; or -1 */
};

static struct slot slots[SMALL_LIVE];   /* the largest live set; no allocator's memory */
_Static_assert(SMALL_LIVE >= LOG_LIVE && SMALL_LIVE >= ARENA_BLOCKS && SMALL_LIVE >= GROW_LIVE,
               "slots holds every workload's live set");

__attribute__((cold, noinline))
static void failed(struct child *c, const char *what, const void *p, size_t size)
{
    unsigned long n = __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    if (n < ERRORS_SHOWN)
        fprintf(stderr, "heap_bench: %s: %s (block %p, %zu bytes, last error %u)\n",
                c->name, what, p, size, (unsigned)GetLastError());
}

ALWAYS_INLINE void *xalloc(enum api api, void *heap, size_t size)
{
    switch (api) {
    case API_WINMEM:  return HeapAlloc(heap, 0, size);
    case API_MALLOC:  return malloc(size);
#ifdef HEAP_BENCH_MIMALLOC
    case API_MI:      return mi_malloc(size);
    case API_MI_HEAP: return mi_heap_malloc(heap, size);
#endif
    default:          abort();
    }
}

ALWAYS_INLINE void xfree(struct child *c, enum api api, void *heap, void *p)
{
    switch (api) {
    case API_WINMEM:
        if (!HeapFree(heap, 0, p))
            failed(c, "HeapFree returned FALSE", p, 0);
        return;
    case API_MALLOC:  free(p); return;
#ifdef HEAP_BENCH_MIMALLOC
    case API_MI:
    case API_MI_HEAP: mi_free(p); return;
#endif
    default:          abort();
    }
}

ALWAYS_INLINE void *xrealloc(enum api api, void *heap, void *p, size_t size)
{
    switch (api) {
    case API_WINMEM:  return HeapReAlloc(heap, 0, p, size);
    case API_MALLOC:  return realloc(p, size);
#ifdef HEAP_BENCH_MIMALLOC
    case API_MI:      return mi_realloc(p, size);
    case API_MI_HEAP: return mi_heap_realloc(heap, p, size);
#endif
    default:          abort();
    }
}

/* ---------------------------------------------------------- the blocks */
static inline uint64_t tag_word(uint32_t tag) { return tag * 0x9E3779B97F4A7C15ull; }

/* The byte written elsewhere in a block: the word's last byte, so that an
 * 8-byte block's last byte and its word agree. */
static inline char tag_byte(uint32_t tag)
{
    uint64_t w = tag_word(tag);
    char b[sizeof w];
    memcpy(b, &w, sizeof w);
    return b[sizeof w - 1];
}

/* Writes bytes [from, to) of a block the way the workloads use memory: its
 * first word (from 0), one byte per TOUCH_STRIDE, its last byte. */
static inline void block_fill(char *p, size_t from, size_t to, uint32_t tag)
{
    if (from == 0) {
        uint64_t w = tag_word(tag);
        memcpy(p, &w, sizeof w);
    }
    for (size_t off = (from | (TOUCH_STRIDE - 1)) + 1; off < to; off += TOUCH_STRIDE)
        p[off] = tag_byte(tag);
    p[to - 1] = tag_byte(tag);
}

static inline bool block_intact(const char *p, size_t size, uint32_t tag)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w == tag_word(tag) && p[size - 1] == tag_byte(tag);
}

ALWAYS_INLINE void slot_alloc(struct child *c, enum api api, void *heap, struct slot *s, size_t size)
{
    char *p = xalloc(api, heap, size);
    s->p = p;
    s->size = (uint32_t)size;
    s->tag = ++c->serial;
    if (!p)
        failed(c, "allocation returned NULL", NULL, size);
    else
        block_fill(p, 0, size, s->tag);
}

ALWAYS_INLINE void slot_free(struct child *c, enum api api, void *heap, struct slot *s)
{
    if (!s->p)
        return;
    if (!block_intact(s->p, s->size, s->tag))
        failed(c, "block overwritten while live", s->p, s->size);
    xfree(c, api, heap, s->p);
    s->p = NULL;
}

/* The heap the process-heap workloads use, and giving it back. */
static void *heap_open(struct child *c)
{
    void *heap = NULL;
    if (c->api == API_WINMEM)
        heap = c->create == PROCESS_HEAP ? GetProcessHeap() : HeapCreate(c->create, 0, 0);
#ifdef HEAP_BENCH_MIMALLOC
    if (c->api == API_MI_HEAP)
        heap = mi_heap_new();
#endif
    if (!heap && (c->api == API_WINMEM || c->api == API_MI_HEAP)) {
        failed(c, "creating the heap", NULL, 0);
        exit(4);
    }
    return heap;
}

/* Checks winmem's heap with HeapValidate (untimed), frees the live slots,
 * and destroys a private heap. */
static void heap_close(struct child *c, size_t live)
{
    if (c->api == API_WINMEM && !HeapValidate(c->heap, 0, NULL))
        failed(c, "HeapValidate returned FALSE after the workload", NULL, 0);
    for (size_t i = 0; i < live; i++)
        slot_free(c, c->api, c->heap, &slots[i]);
    if (c->api == API_WINMEM && c->create != PROCESS_HEAP && !HeapDestroy(c->heap))
        failed(c, "HeapDestroy returned FALSE", c->heap, 0);
#ifdef HEAP_BENCH_MIMALLOC
    if (c->api == API_MI_HEAP)
        mi_heap_delete(c->heap);
#endif
}

/* Each workload's loop is written once, for an api known at compile time,
 * and instantiated per api, so every allocator is called directly. */
#define INSTANTIATE(run)                                                                   \
    static void run##_winmem(void *c, uint64_t n) { run(c, n, API_WINMEM); }               \
    static void run##_malloc(void *c, uint64_t n) { run(c, n, API_MALLOC); }               \
    static void run##_mi(void *c, uint64_t n) { run(c, n, API_MI); }                       \
    static void run##_mi_heap(void *c, uint64_t n) { run(c, n, API_MI_HEAP); }
#define BODIES(run) { run##_winmem, run##_malloc, run##_mi, run##_mi_heap }

/* ------------------------------------------------ small, log: a live set */
static inline size_t size_small(void) { return 8 + rng() % 249; }      /* 8..256 */

/* 8 B..64 KiB: a power of two from 8 to 32 KiB, then up to twice it. */
static inline size_t size_log(void)
{
    size_t low = (size_t)8 << (rng() % 13);
    return low + rng() % (low + 1);
}

ALWAYS_INLINE void churn(struct child *c, uint64_t n, enum api api, size_t live,
                         size_t (*size_of)(void))
{
    for (uint64_t i = 0; i < n; i++) {
        struct slot *s = &slots[rng() % live];
        slot_free(c, api, c->heap, s);
        slot_alloc(c, api, c->heap, s, size_of());
    }
}

ALWAYS_INLINE void small_run(struct child *c, uint64_t n, enum api api)
{
    churn(c, n, api, SMALL_LIVE, size_small);
}
ALWAYS_INLINE void log_run(struct child *c, uint64_t n, enum api api)
{
    churn(c, n, api, LOG_LIVE, size_log);
}
INSTANTIATE(small_run)
INSTANTIATE(log_run)

static void small_setup(struct child *c) { c->heap = heap_open(c); }
static void small_teardown(struct child *c) { heap_close(c, SMALL_LIVE); }
static void log_teardown(struct child *c) { heap_close(c, LOG_LIVE); }

/* ------------------------------------------------ pc: producer, consumer */
/* The producer is the timing thread; the consumer a thread that lives as
 * long as the child and takes one job (a block count) per timed run.  The
 * ring's indices only grow; each side publishes its own every PC_BATCH
 * blocks and at the end of a job. */
static struct pc {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t job, done, count;      /* under mu */
    bool quit;
    _Alignas(64) uint64_t head;     /* blocks published by the producer */
    _Alignas(64) uint64_t tail;     /* blocks freed by the consumer */
    _Alignas(64) struct slot ring[PC_RING];
} pc = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static inline void spin(unsigned *spins)
{
    if (++*spins % 64 == 0) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

ALWAYS_INLINE void pc_produce(struct child *c, uint64_t n, enum api api)
{
    pthread_mutex_lock(&pc.mu);
    pc.count = n;
    pc.job++;
    pthread_cond_broadcast(&pc.cv);
    pthread_mutex_unlock(&pc.mu);

    uint64_t head = pc.head, tail = __atomic_load_n(&pc.tail, __ATOMIC_ACQUIRE);
    for (uint64_t i = 0; i < n; i++) {
        struct slot s;
        slot_alloc(c, api, c->heap, &s, size_small());
        for (unsigned spins = 0; head - tail >= PC_RING; spin(&spins))
            tail = __atomic_load_n(&pc.tail, __ATOMIC_ACQUIRE);
        pc.ring[head % PC_RING] = s;
        if (++head % PC_BATCH == 0 || i + 1 == n)
            __atomic_store_n(&pc.head, head, __ATOMIC_RELEASE);
    }

    pthread_mutex_lock(&pc.mu);
    while (pc.done != pc.job)
        pthread_cond_wait(&pc.cv, &pc.mu);
    pthread_mutex_unlock(&pc.mu);
}

ALWAYS_INLINE void pc_consume(struct child *c, uint64_t n, enum api api)
{
    uint64_t tail = pc.tail, head = __atomic_load_n(&pc.head, __ATOMIC_ACQUIRE);
    for (uint64_t i = 0; i < n; i++) {
        for (unsigned spins = 0; tail == head; spin(&spins))
            head = __atomic_load_n(&pc.head, __ATOMIC_ACQUIRE);
        slot_free(c, api, c->heap, &pc.ring[tail % PC_RING]);
        if (++tail % PC_BATCH == 0 || i + 1 == n)
            __atomic_store_n(&pc.tail, tail, __ATOMIC_RELEASE);
    }
}

static void *pc_thread(void *arg)
{
    struct child *c = arg;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&pc.mu);
        while (pc.job == seen && !pc.quit)
            pthread_cond_wait(&pc.cv, &pc.mu);
        bool quit = pc.quit;
        uint64_t n = pc.count;
        seen = pc.job;
        pthread_mutex_unlock(&pc.mu);
        if (quit)
            return NULL;
        switch (c->api) {
        case API_WINMEM:  pc_consume(c, n, API_WINMEM); break;
        case API_MALLOC:  pc_consume(c, n, API_MALLOC); break;
        case API_MI:      pc_consume(c, n, API_MI); break;
        default:          pc_consume(c, n, API_MI_HEAP); break;
        }
        pthread_mutex_lock(&pc.mu);
        pc.done = seen;
        pthread_cond_broadcast(&pc.cv);
        pthread_mutex_unlock(&pc.mu);
    }
}

INSTANTIATE(pc_produce)

static cpu_set_t cpus;              /* the CPUs the child may use, before pinning */

/* Puts thread on the which-th CPU this process may use.  The two threads
 * get a CPU each: left to the scheduler they sometimes share one, and
 * handing blocks over within one CPU is several times faster than across
 * two, which made this table depend on what else the machine was running. */
static bool pin(pthread_t thread, int which)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &cpus) && seen++ == which) {
            CPU_SET(cpu, &one);
            return pthread_setaffinity_np(thread, sizeof one, &one) == 0;
        }
    return false;
}

/* Core-to-core latency: half the round trip of one cache line between a
 * thread on the first CPU and one on the second, best of PP_BATCHES.  This
 * guest's two vCPUs are sometimes close (a round trip of ~100 ns) and
 * sometimes far (~400 ns), and every allocator's time in this table moves
 * with it, so each row says which it ran with. */
#define PP_ROUNDS 5000
#define PP_BATCHES 4
static uint64_t pp_flag;

static void *pp_thread(void *arg)
{
    (void)arg;
    pin(pthread_self(), 1);
    for (uint64_t i = 0; i < (uint64_t)PP_ROUNDS * PP_BATCHES; i++) {
        for (unsigned spins = 0; __atomic_load_n(&pp_flag, __ATOMIC_ACQUIRE) != 2 * i + 1;)
            spin(&spins);
        __atomic_store_n(&pp_flag, 2 * i + 2, __ATOMIC_RELEASE);
    }
    return NULL;
}

static double c2c_ns(void)
{
    pthread_t t;
    double best = -1;
    __atomic_store_n(&pp_flag, 0, __ATOMIC_RELEASE);
    if (pthread_create(&t, NULL, pp_thread, NULL))
        return -1;
    for (uint64_t i = 0, b = 0; b < PP_BATCHES; b++) {
        uint64_t t0 = now_ns();
        for (uint64_t end = i + PP_ROUNDS; i < end; i++) {
            __atomic_store_n(&pp_flag, 2 * i + 1, __ATOMIC_RELEASE);
            for (unsigned spins = 0; __atomic_load_n(&pp_flag, __ATOMIC_ACQUIRE) != 2 * i + 2;)
                spin(&spins);
        }
        double ns = (double)(now_ns() - t0) / (2.0 * PP_ROUNDS);
        best = best < 0 || ns < best ? ns : best;
    }
    pthread_join(t, NULL);
    return best;
}

static void pc_setup(struct child *c)
{
    c->heap = heap_open(c);
    if (pthread_create(&pc.thread, NULL, pc_thread, c)) {
        failed(c, "pthread_create", NULL, 0);
        exit(4);
    }
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) >= 2 &&
        pin(pthread_self(), 0) && pin(pc.thread, 1))
        c->c2c[0] = c2c_ns();
}

static void pc_teardown(struct child *c)
{
    if (c->c2c[0] >= 0)
        c->c2c[1] = c2c_ns();
    pthread_mutex_lock(&pc.mu);
    pc.quit = true;
    pthread_cond_broadcast(&pc.cv);
    pthread_mutex_unlock(&pc.mu);
    pthread_join(pc.thread, NULL);
    heap_close(c, 0);
}

/* ---------------------------------------------- arena: create, destroy */
/* 8..1024 bytes: a power of two from 8 to 512, then up to twice it. */
static inline size_t size_arena(void)
{
    size_t low = (size_t)8 << (rng() % 7);
    return low + rng() % (low + 1);
}

/* winmem and mi_heap create and destroy a heap per arena; the others
 * allocate from the one heap they have and free each block. */
ALWAYS_INLINE void arena_run(struct child *c, uint64_t n, enum api api)
{
    bool heaps = api == API_WINMEM || api == API_MI_HEAP;
    for (uint64_t i = 0; i < n; i++) {
        void *heap = NULL;
        if (api == API_WINMEM)
            heap = HeapCreate(c->create, 0, 0);
#ifdef HEAP_BENCH_MIMALLOC
        if (api == API_MI_HEAP)
            heap = mi_heap_new();
#endif
        if (heaps && !heap) {
            failed(c, "creating an arena's heap", NULL, 0);
            continue;
        }
        for (size_t j = 0; j < ARENA_BLOCKS; j++)
            slot_alloc(c, api, heap, &slots[j], size_arena());
        for (size_t j = 0; j < ARENA_BLOCKS; j++) {
            struct slot *s = &slots[j];
            if (heaps && s->p && !block_intact(s->p, s->size, s->tag))
                failed(c, "block overwritten while live", s->p, s->size);
            else if (!heaps)
                slot_free(c, api, heap, s);
        }
        if (api == API_WINMEM && !HeapDestroy(heap))
            failed(c, "HeapDestroy returned FALSE", heap, 0);
#ifdef HEAP_BENCH_MIMALLOC
        if (api == API_MI_HEAP)
            mi_heap_destroy(heap);
#endif
    }
}
INSTANTIATE(arena_run)

static void arena_setup(struct child *c) { (void)c; }
static void arena_teardown(struct child *c) { (void)c; }

/* ----------------------------------------------------- realloc: growth */
/* One reallocation of a random buffer; a buffer that has reached GROW_MAX
 * is freed and started again at GROW_START instead (about 1 op in 40). */
ALWAYS_INLINE void grow_run(struct child *c, uint64_t n, enum api api)
{
    for (uint64_t i = 0; i < n; i++) {
        struct slot *s = &slots[rng() % GROW_LIVE];
        if (!s->p || s->size >= GROW_MAX) {
            slot_free(c, api, c->heap, s);
            slot_alloc(c, api, c->heap, s, GROW_START);
            continue;
        }
        size_t size = s->size + 1 + rng() % (s->size / 2 + 16);
        size = size > GROW_MAX ? GROW_MAX : size;
        char *p = xrealloc(api, c->heap, s->p, size);
        if (!p) {
            failed(c, "reallocation returned NULL", s->p, size);
            continue;
        }
        if (!block_intact(p, s->size, s->tag))
            failed(c, "reallocation lost the block's contents", p, s->size);
        block_fill(p, s->size, size, s->tag);
        s->p = p;
        s->size = (uint32_t)size;
    }
}
INSTANTIATE(grow_run)

static void grow_teardown(struct child *c) { heap_close(c, GROW_LIVE); }

#endif
