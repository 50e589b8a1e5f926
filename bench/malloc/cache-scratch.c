/*
 * cache-scratch.c — passive false sharing, after the Hoard suite's test of
 * that name.  The main thread allocates one small object per worker, one
 * after the other (so they likely share a cache line), and hands each to its
 * worker.  A worker frees the object it was given, then ITERATIONS times
 * allocates an object of SIZE bytes, updates every byte of it WRITES times
 * and frees it.  An allocator that gives the worker back the memory it just
 * freed (from a per-thread cache, say) puts the worker's object in the same
 * cache line as its neighbours', and every write then fights the other
 * cores for that line; one that serves a thread from memory of its own does
 * not.  The time is almost all in the writes: it measures where the
 * allocator puts objects, not how fast it is.
 *
 *   cache-scratch [THREADS] [ITERATIONS] [SIZE] [WRITES]
 *                 defaults 2 200000 8 1000
 *
 * Each object's bytes are checked after its writes (each must have been
 * incremented exactly WRITES times); a mismatch exits 1.  Prints the seconds
 * from the workers' start to their end.  Uses malloc, free and pthreads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

static size_t iterations, size, writes;

static void *worker(void *given)
{
    free(given);
    for (size_t i = 0; i < iterations; i++) {
        unsigned char *p = malloc(size);
        if (!p) {
            fprintf(stderr, "cache-scratch: malloc(%zu) returned NULL\n", size);
            exit(1);
        }
        volatile unsigned char *v = p;              /* every update goes to memory */
        for (size_t k = 0; k < size; k++)
            v[k] = (unsigned char)(i + k);
        for (size_t w = 0; w < writes; w++)
            for (size_t k = 0; k < size; k++)
                v[k] = (unsigned char)(v[k] + 1);
        for (size_t k = 0; k < size; k++)
            if (v[k] != (unsigned char)(i + k + writes)) {
                fprintf(stderr, "cache-scratch: object %p changed by someone else\n", (void *)p);
                exit(1);
            }
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    size_t threads = argc > 1 ? strtoull(argv[1], NULL, 0) : 2;
    iterations = argc > 2 ? strtoull(argv[2], NULL, 0) : 200000;
    size = argc > 3 ? strtoull(argv[3], NULL, 0) : 8;
    writes = argc > 4 ? strtoull(argv[4], NULL, 0) : 1000;
    if (!threads || !size) {
        fprintf(stderr, "usage: cache-scratch [THREADS] [ITERATIONS] [SIZE>0] [WRITES]\n");
        return 2;
    }
    pthread_t *tid = calloc(threads, sizeof *tid);
    void **given = calloc(threads, sizeof *given);
    if (!tid || !given)
        return 1;
    for (size_t t = 0; t < threads; t++)            /* neighbours, from the main thread */
        if (!(given[t] = malloc(size)))
            return 1;
    for (size_t t = 0; t < threads; t++)
        memset(given[t], 0, size);
    double t0 = seconds();
    for (size_t t = 0; t < threads; t++)
        if (pthread_create(&tid[t], NULL, worker, given[t])) {
            fprintf(stderr, "cache-scratch: pthread_create failed\n");
            return 1;
        }
    for (size_t t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    printf("%.3f\n", seconds() - t0);
    free(tid);
    free(given);
    return 0;
}
