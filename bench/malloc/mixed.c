/*
 * mixed.c — the malloc twin of heap_bench's "log" workload: one thread, a
 * live set of 2,000 blocks of 8 B-64 KiB, log-distributed (a power of two
 * from 8 B to 32 KiB, each equally likely, plus up to as much again).  Each
 * operation frees the block in a random slot and puts a new one there.
 *
 *   mixed [OPS] [LIVE] [SEED]      defaults 15000000 2000 1
 *
 * Each block is written as a program would use it: a word derived from its
 * serial number at its start, one byte every 4 KiB and its last byte.  All
 * are checked before the block is freed; a mismatch exits 1.  Prints the
 * seconds the operations took.  Uses only malloc and free.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

#define STRIDE 4096

static uint64_t state;                          /* rnd(&state) */

struct slot { unsigned char *p; uint32_t size, serial; };

static inline void stamp(struct slot *s)
{
    uint64_t w = stamp_of(s->serial);
    unsigned char b = (unsigned char)(w >> 56);
    memcpy(s->p, &w, sizeof w);
    for (size_t off = STRIDE; off < s->size; off += STRIDE)
        s->p[off] = b;
    s->p[s->size - 1] = b;
}

static void check(const struct slot *s)
{
    uint64_t w, want = stamp_of(s->serial);
    unsigned char b = (unsigned char)(want >> 56);
    int bad = 0;
    memcpy(&w, s->p, sizeof w);
    bad |= w != want || s->p[s->size - 1] != b;
    for (size_t off = STRIDE; off < s->size; off += STRIDE)
        bad |= s->p[off] != b;
    if (bad) {
        fprintf(stderr, "mixed: block %p of %u bytes (serial %u) overwritten while live\n",
                (void *)s->p, s->size, s->serial);
        exit(1);
    }
}

static void put(struct slot *s, uint32_t serial)
{
    size_t low = (size_t)8 << (rnd(&state) % 13);
    s->size = (uint32_t)(low + rnd(&state) % (low + 1));
    s->serial = serial;
    s->p = malloc(s->size);
    if (!s->p) {
        fprintf(stderr, "mixed: malloc(%u) returned NULL\n", s->size);
        exit(1);
    }
    stamp(s);
}

int main(int argc, char **argv)
{
    uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 0) : 15000000;
    size_t live = argc > 2 ? strtoull(argv[2], NULL, 0) : 2000;
    state = (argc > 3 ? strtoull(argv[3], NULL, 0) : 1) * 0x9E3779B97F4A7C15ull | 1;
    if (!live) {
        fprintf(stderr, "usage: mixed [OPS] [LIVE>0] [SEED]\n");
        return 2;
    }
    struct slot *slots = calloc(live, sizeof *slots);
    if (!slots)
        return 1;
    uint32_t serial = 0;
    double t0 = seconds();
    for (size_t i = 0; i < live; i++)
        put(&slots[i], serial++);
    for (uint64_t i = 0; i < ops; i++) {
        struct slot *s = &slots[rnd(&state) % live];
        check(s);
        free(s->p);
        put(s, serial++);
    }
    for (size_t i = 0; i < live; i++) {
        check(&slots[i]);
        free(slots[i].p);
    }
    printf("%.3f\n", seconds() - t0);
    free(slots);
    return 0;
}
