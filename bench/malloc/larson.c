/*
 * larson.c — a server-style workload after Larson and Krishnan's benchmark:
 * each of THREADS workers owns an array of SLOTS blocks and, ROUNDS times,
 * does OPS replacements in it (free the block in a random slot, allocate one
 * of MIN-MAX bytes, uniform, in its place).  At the end of a round every
 * worker exits and a new set of threads starts, each taking over the array
 * its neighbour worked on: the blocks it frees were allocated by a thread
 * that no longer exists, as when a server hands a connection's state from
 * one short-lived thread to the next.  What it measures: the fast paths
 * under threads, frees of memory owned by another (or a dead) thread, and
 * what the allocator does with a thread's caches when the thread ends.
 *
 *   larson [THREADS] [SLOTS] [OPS] [ROUNDS] [MIN] [MAX] [SEED]
 *          defaults   2   5000  400000  30   8  1000  1
 *
 * Deterministic: each array has a random stream of its own, seeded from
 * SEED, that follows it from thread to thread.  Each block carries a word
 * derived from its serial number at its start and that word's top byte at
 * its end, checked before it is freed; a mismatch exits 1.  Prints the
 * seconds the rounds took.  Uses malloc, free and pthreads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

struct slot { unsigned char *p; uint32_t size, serial; };

struct array {
    struct slot *slot;
    uint64_t rng;                   /* this array's stream, carried across threads */
    uint32_t serial;                /* the last serial given in this array */
};

static size_t slots, min_size, span;
static uint64_t ops;

static void put(struct array *a, struct slot *s)
{
    s->size = (uint32_t)(min_size + rnd(&a->rng) % span);
    s->serial = ++a->serial;
    s->p = malloc(s->size);
    if (!s->p) {
        fprintf(stderr, "larson: malloc(%u) returned NULL\n", s->size);
        exit(1);
    }
    uint64_t w = stamp_of(s->serial);
    memcpy(s->p, &w, sizeof w);
    s->p[s->size - 1] = (unsigned char)(w >> 56);
}

static void take(const struct slot *s)
{
    uint64_t w, want = stamp_of(s->serial);
    memcpy(&w, s->p, sizeof w);
    if (w != want || s->p[s->size - 1] != (unsigned char)(want >> 56)) {
        fprintf(stderr, "larson: block %p of %u bytes (serial %u) overwritten while live\n",
                (void *)s->p, s->size, s->serial);
        exit(1);
    }
    free(s->p);
}

static void *worker(void *arg)
{
    struct array *a = arg;
    for (uint64_t i = 0; i < ops; i++) {
        struct slot *s = &a->slot[rnd(&a->rng) % slots];
        take(s);
        put(a, s);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    size_t threads = argc > 1 ? strtoull(argv[1], NULL, 0) : 2;
    slots = argc > 2 ? strtoull(argv[2], NULL, 0) : 5000;
    ops = argc > 3 ? strtoull(argv[3], NULL, 0) : 400000;
    unsigned rounds = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 30;
    min_size = argc > 5 ? strtoull(argv[5], NULL, 0) : 8;
    size_t max_size = argc > 6 ? strtoull(argv[6], NULL, 0) : 1000;
    uint64_t seed = argc > 7 ? strtoull(argv[7], NULL, 0) : 1;
    if (!threads || !slots || min_size < 8 || max_size < min_size) {
        fprintf(stderr, "usage: larson [THREADS] [SLOTS] [OPS] [ROUNDS] [MIN>=8] [MAX>=MIN] [SEED]\n");
        return 2;
    }
    span = max_size - min_size + 1;
    struct array *array = calloc(threads, sizeof *array);
    pthread_t *tid = calloc(threads, sizeof *tid);
    if (!array || !tid)
        return 1;
    double t0 = seconds();
    for (size_t t = 0; t < threads; t++) {      /* the main thread fills every array */
        array[t].rng = (seed * 0x9E3779B97F4A7C15ull + t * 0xBF58476D1CE4E5B9ull) | 1;
        array[t].slot = calloc(slots, sizeof *array[t].slot);
        if (!array[t].slot)
            return 1;
        for (size_t i = 0; i < slots; i++)
            put(&array[t], &array[t].slot[i]);
    }
    for (unsigned r = 0; r < rounds; r++) {
        for (size_t t = 0; t < threads; t++)    /* round r: thread t takes array t + r */
            if (pthread_create(&tid[t], NULL, worker, &array[(t + r) % threads])) {
                fprintf(stderr, "larson: pthread_create failed\n");
                return 1;
            }
        for (size_t t = 0; t < threads; t++)
            pthread_join(tid[t], NULL);
    }
    for (size_t t = 0; t < threads; t++) {
        for (size_t i = 0; i < slots; i++)
            take(&array[t].slot[i]);
        free(array[t].slot);
    }
    printf("%.3f\n", seconds() - t0);
    free(array);
    free(tid);
    return 0;
}
