/*
 * rptest.c — a mixed multi-threaded workload in the manner of rpmalloc's
 * benchmark: THREADS workers, each with a live set of SLOTS blocks, do OPS
 * replacements each (free the block in a random slot, allocate a new one).
 * Sizes run from 16 B to 16 KiB, skewed towards small: a size class is
 * picked with halving odds (16-64 B one time in two, 64-256 B one in four,
 * 256 B-1 KiB one in eight, 1-4 KiB and 4-16 KiB one in sixteen each), then
 * a size uniformly within it.  One replaced block in CROSS is not freed by
 * its worker but passed to the next worker, which frees it the next time it
 * looks at its mailbox (every 256 operations).  A mailbox holds 4,096
 * blocks; when it is full (its worker is not running) the sender frees the
 * blocks itself, so that the memory in flight, and the peak RSS, stay about
 * the same whatever the scheduling.  What it measures: the
 * allocator's size classes across a wide range, first touches of larger
 * blocks, and a steady trickle of frees from other threads.
 *
 *   rptest [THREADS] [SLOTS] [OPS] [CROSS] [SEED]
 *          defaults  2  4000  6000000  16  1
 *
 * Each worker draws from its own stream, seeded from SEED.  Each block is
 * written at its start (a word derived from its owner and serial number),
 * once every 4 KiB and at its last byte, and all are checked before it is
 * freed, by whichever thread frees it; a mismatch exits 1.  Prints the
 * seconds from the workers' start to their end.  Uses malloc, free and
 * pthreads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

#define STRIDE 4096
#define OUTBOX 64                   /* blocks a worker collects before posting them */
#define MAILBOX 4096                /* blocks a mailbox holds; past that the sender frees */
#define LOOK_EVERY 256              /* operations between looks at one's mailbox */

struct block { unsigned char *p; uint32_t size; uint64_t stamp; };

static struct worker {
    pthread_t tid;
    pthread_mutex_t mu;
    struct block *mail;             /* under mu */
    size_t n_mail;
    uint64_t rng, serial, id;
} *workers;

static size_t threads, slots;
static uint64_t ops, cross;
static pthread_barrier_t done_sending;

static inline uint32_t size_of(uint64_t *rng)
{
    uint64_t r = rnd(rng);
    static const uint32_t low[] = { 16, 64, 256, 1024, 4096 }, high[] = { 64, 256, 1024, 4096, 16384 };
    /* the lowest set bit of four: class 0 one time in 2, ..., 3 one in 16; none: 4 */
    unsigned cls = (unsigned)__builtin_ctzll((r & 0xF) | 0x10);
    return low[cls] + (uint32_t)((r >> 8) % (high[cls] - low[cls] + 1));
}

static void make(struct worker *w, struct block *b)
{
    b->size = size_of(&w->rng);
    b->stamp = ((w->id << 48) + ++w->serial) * 0xD6E8FEB86659FD93ull;
    b->p = malloc(b->size);
    if (!b->p) {
        fprintf(stderr, "rptest: malloc(%u) returned NULL\n", b->size);
        exit(1);
    }
    unsigned char c = (unsigned char)(b->stamp >> 56);
    memcpy(b->p, &b->stamp, sizeof b->stamp);
    for (size_t off = STRIDE; off < b->size; off += STRIDE)
        b->p[off] = c;
    b->p[b->size - 1] = c;
}

static void drop(const struct block *b)
{
    unsigned char c = (unsigned char)(b->stamp >> 56);
    uint64_t word;
    int bad;
    memcpy(&word, b->p, sizeof word);
    bad = word != b->stamp || b->p[b->size - 1] != c;
    for (size_t off = STRIDE; off < b->size; off += STRIDE)
        bad |= b->p[off] != c;
    if (bad) {
        fprintf(stderr, "rptest: block %p of %u bytes overwritten while live\n", (void *)b->p, b->size);
        exit(1);
    }
    free(b->p);
}

/* Frees what others sent this worker.  The mailbox's array is swapped for
 * the caller's spare one under the lock, and freed outside it. */
static void read_mail(struct worker *w, struct block **spare)
{
    pthread_mutex_lock(&w->mu);
    struct block *mail = w->mail;
    size_t n = w->n_mail;
    w->mail = *spare;
    w->n_mail = 0;
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++)
        drop(&mail[i]);
    *spare = mail;
}

static void post(struct worker *to, struct block *out, size_t n)
{
    size_t i = 0;
    pthread_mutex_lock(&to->mu);
    for (; i < n && to->n_mail < MAILBOX; i++)
        to->mail[to->n_mail++] = out[i];
    pthread_mutex_unlock(&to->mu);
    for (; i < n; i++)                          /* a full mailbox: free them here */
        drop(&out[i]);
}

static void *run(void *arg)
{
    struct worker *w = arg, *next = &workers[(w->id + 1) % threads];
    struct block *live = malloc(slots * sizeof *live), *spare = malloc(MAILBOX * sizeof *spare);
    struct block out[OUTBOX];
    size_t n_out = 0;
    if (!live || !spare)
        exit(1);
    for (size_t i = 0; i < slots; i++)
        make(w, &live[i]);
    for (uint64_t i = 0; i < ops; i++) {
        struct block *b = &live[rnd(&w->rng) % slots];
        if (threads > 1 && rnd(&w->rng) % cross == 0) {
            out[n_out++] = *b;
            if (n_out == OUTBOX)
                post(next, out, n_out), n_out = 0;
        } else {
            drop(b);
        }
        make(w, b);
        if (i % LOOK_EVERY == LOOK_EVERY - 1)
            read_mail(w, &spare);
    }
    post(next, out, n_out);
    pthread_barrier_wait(&done_sending);        /* then every block sent is in a mailbox */
    read_mail(w, &spare);
    for (size_t i = 0; i < slots; i++)
        drop(&live[i]);
    free(live);
    free(spare);
    return NULL;
}

int main(int argc, char **argv)
{
    threads = argc > 1 ? strtoull(argv[1], NULL, 0) : 2;
    slots = argc > 2 ? strtoull(argv[2], NULL, 0) : 4000;
    ops = argc > 3 ? strtoull(argv[3], NULL, 0) : 6000000;
    cross = argc > 4 ? strtoull(argv[4], NULL, 0) : 16;
    uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 0) : 1;
    if (!threads || !slots || !cross) {
        fprintf(stderr, "usage: rptest [THREADS] [SLOTS>0] [OPS] [CROSS>0] [SEED]\n");
        return 2;
    }
    workers = calloc(threads, sizeof *workers);
    if (!workers || pthread_barrier_init(&done_sending, NULL, (unsigned)threads))
        return 1;
    for (size_t t = 0; t < threads; t++) {
        workers[t].id = t;
        workers[t].rng = (seed * 0x9E3779B97F4A7C15ull + t * 0xBF58476D1CE4E5B9ull) | 1;
        pthread_mutex_init(&workers[t].mu, NULL);
        if (!(workers[t].mail = malloc(MAILBOX * sizeof *workers[t].mail)))
            return 1;
    }
    double t0 = seconds();
    for (size_t t = 0; t < threads; t++)
        if (pthread_create(&workers[t].tid, NULL, run, &workers[t])) {
            fprintf(stderr, "rptest: pthread_create failed\n");
            return 1;
        }
    for (size_t t = 0; t < threads; t++)
        pthread_join(workers[t].tid, NULL);
    printf("%.3f\n", seconds() - t0);
    for (size_t t = 0; t < threads; t++)
        free(workers[t].mail);
    free(workers);
    return 0;
}
