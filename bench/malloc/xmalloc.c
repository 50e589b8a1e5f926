/*
 * xmalloc.c — cross-thread frees, after the xmalloc-test stress test:
 * PRODUCERS threads only allocate and CONSUMERS threads only free.  A
 * producer fills a batch with BATCH blocks of 8-MAX bytes (uniform) and
 * queues it; a consumer takes a batch, checks and frees every block in it.
 * The queue holds at most DEPTH batches, so a producer that runs ahead
 * waits: the live set stays bounded.  What it measures: frees that land in
 * another thread's memory, all the time, and how the allocator gets that
 * memory back to the thread that allocates.
 *
 *   xmalloc [PRODUCERS] [CONSUMERS] [BLOCKS] [MAX] [BATCH] [DEPTH] [SEED]
 *           defaults  1  1  6000000  128  256  64  1
 *
 * BLOCKS is the total over all producers.  Each producer draws its sizes
 * from its own stream, seeded from SEED.  Each block carries a word derived
 * from its producer and serial number at its start and that word's top byte
 * at its end, checked by the consumer; a mismatch exits 1.  The batches and
 * the queue are allocated once, before the clock starts.  Prints the
 * seconds from the first allocation to the last free.  Uses malloc, free
 * and pthreads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

struct batch {
    unsigned n;
    unsigned char **p;
    uint32_t *size;
    uint64_t *stamp;
};

/* The DEPTH batches: a stack of empty ones and a FIFO ring of full ones. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t room, work;      /* an empty batch is free; a full one is queued */
    struct batch **empty, **full;
    size_t depth, n_empty, head, tail;  /* full: [tail, head) modulo depth */
    size_t producers_left;
} q = { .mu = PTHREAD_MUTEX_INITIALIZER, .room = PTHREAD_COND_INITIALIZER,
        .work = PTHREAD_COND_INITIALIZER };

static uint64_t per_producer, seed;
static size_t max_size, batch_len;

static struct batch *get_empty(void)
{
    pthread_mutex_lock(&q.mu);
    while (q.n_empty == 0)
        pthread_cond_wait(&q.room, &q.mu);
    struct batch *b = q.empty[--q.n_empty];
    pthread_mutex_unlock(&q.mu);
    return b;
}

static void put_empty(struct batch *b)
{
    pthread_mutex_lock(&q.mu);
    q.empty[q.n_empty++] = b;
    pthread_cond_signal(&q.room);
    pthread_mutex_unlock(&q.mu);
}

/* The oldest full batch; NULL once there is none and no producer is left. */
static struct batch *get_full(void)
{
    struct batch *b = NULL;
    pthread_mutex_lock(&q.mu);
    while (q.head == q.tail && q.producers_left)
        pthread_cond_wait(&q.work, &q.mu);
    if (q.head != q.tail)
        b = q.full[q.tail++ % q.depth];
    pthread_mutex_unlock(&q.mu);
    return b;
}

static void put_full(struct batch *b)
{
    pthread_mutex_lock(&q.mu);
    q.full[q.head++ % q.depth] = b;
    pthread_cond_signal(&q.work);
    pthread_mutex_unlock(&q.mu);
}

static void *producer(void *arg)
{
    uint64_t id = (uintptr_t)arg, rng = (seed * 0x9E3779B97F4A7C15ull + id * 0xBF58476D1CE4E5B9ull) | 1;
    for (uint64_t made = 0; made < per_producer;) {
        struct batch *b = get_empty();
        b->n = 0;
        for (; b->n < batch_len && made < per_producer; b->n++, made++) {
            uint32_t size = (uint32_t)(8 + rnd(&rng) % (max_size - 7));
            uint64_t w = ((id << 40) + made + 1) * 0xD6E8FEB86659FD93ull;
            unsigned char *p = malloc(size);
            if (!p) {
                fprintf(stderr, "xmalloc: malloc(%u) returned NULL\n", size);
                exit(1);
            }
            memcpy(p, &w, sizeof w);
            p[size - 1] = (unsigned char)(w >> 56);
            b->p[b->n] = p, b->size[b->n] = size, b->stamp[b->n] = w;
        }
        put_full(b);
    }
    pthread_mutex_lock(&q.mu);
    if (--q.producers_left == 0)
        pthread_cond_broadcast(&q.work);        /* the consumers may stop when it is empty */
    pthread_mutex_unlock(&q.mu);
    return NULL;
}

static void *consumer(void *arg)
{
    uint64_t freed = 0;
    struct batch *b;
    while ((b = get_full()) != NULL) {
        for (unsigned i = 0; i < b->n; i++) {
            uint64_t w;
            memcpy(&w, b->p[i], sizeof w);
            if (w != b->stamp[i] || b->p[i][b->size[i] - 1] != (unsigned char)(b->stamp[i] >> 56)) {
                fprintf(stderr, "xmalloc: block %p of %u bytes overwritten before it was freed\n",
                        (void *)b->p[i], b->size[i]);
                exit(1);
            }
            free(b->p[i]);
        }
        freed += b->n;
        put_empty(b);
    }
    *(uint64_t *)arg = freed;
    return NULL;
}

int main(int argc, char **argv)
{
    size_t producers = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    size_t consumers = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    uint64_t blocks = argc > 3 ? strtoull(argv[3], NULL, 0) : 6000000;
    max_size = argc > 4 ? strtoull(argv[4], NULL, 0) : 128;
    batch_len = argc > 5 ? strtoull(argv[5], NULL, 0) : 256;
    size_t depth = argc > 6 ? strtoull(argv[6], NULL, 0) : 64;
    seed = argc > 7 ? strtoull(argv[7], NULL, 0) : 1;
    if (!producers || !consumers || max_size < 8 || !batch_len || !depth) {
        fprintf(stderr, "usage: xmalloc [PRODUCERS] [CONSUMERS] [BLOCKS] [MAX>=8] [BATCH] [DEPTH] [SEED]\n");
        return 2;
    }
    per_producer = blocks / producers;
    q.depth = depth;
    q.empty = calloc(depth, sizeof *q.empty);
    q.full = calloc(depth, sizeof *q.full);
    uint64_t *freed = calloc(consumers, sizeof *freed);
    pthread_t *tid = calloc(producers + consumers, sizeof *tid);
    if (!q.empty || !q.full || !freed || !tid)
        return 1;
    for (size_t i = 0; i < depth; i++) {
        struct batch *b = calloc(1, sizeof *b);
        if (!b || !(b->p = calloc(batch_len, sizeof *b->p)) || !(b->size = calloc(batch_len, sizeof *b->size))
            || !(b->stamp = calloc(batch_len, sizeof *b->stamp)))
            return 1;
        q.empty[q.n_empty++] = b;
    }
    q.producers_left = producers;
    double t0 = seconds();
    for (size_t i = 0; i < consumers; i++)
        if (pthread_create(&tid[producers + i], NULL, consumer, &freed[i]))
            return 1;
    for (size_t i = 0; i < producers; i++)
        if (pthread_create(&tid[i], NULL, producer, (void *)(uintptr_t)i))
            return 1;
    uint64_t total = 0;
    for (size_t i = 0; i < producers + consumers; i++)
        pthread_join(tid[i], NULL);
    double t = seconds() - t0;
    for (size_t i = 0; i < consumers; i++)
        total += freed[i];
    if (total != per_producer * producers) {
        fprintf(stderr, "xmalloc: %llu blocks freed of %llu allocated\n", (unsigned long long)total,
                (unsigned long long)(per_producer * producers));
        return 1;
    }
    printf("%.3f\n", t);
    return 0;
}
