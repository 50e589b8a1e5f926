/*
 * small.c — the malloc twin of heap_bench's "small" workload: one thread, a
 * live set of 50,000 blocks of 8-256 bytes (uniform).  Each operation frees
 * the block in a random slot and puts a new one of a random size there.
 *
 *   small [OPS] [LIVE] [SEED]      defaults 40000000 50000 1
 *
 * Every block carries a word derived from its serial number at its start and
 * that word's top byte at its end; both are checked before the block is
 * freed, so an allocator that hands out overlapping or recycled-while-live
 * memory makes the program exit 1.  Prints the seconds the operations took
 * (the set filled, churned and freed).  Uses only malloc and free.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

static uint64_t state;                          /* rnd(&state) */

struct slot { unsigned char *p; uint32_t size, serial; };

static inline void stamp(struct slot *s)
{
    uint64_t w = stamp_of(s->serial);
    memcpy(s->p, &w, sizeof w);
    s->p[s->size - 1] = (unsigned char)(w >> 56);
}

static void check(const struct slot *s)
{
    uint64_t w, want = stamp_of(s->serial);
    memcpy(&w, s->p, sizeof w);
    if (w != want || s->p[s->size - 1] != (unsigned char)(want >> 56)) {
        fprintf(stderr, "small: block %p of %u bytes (serial %u) overwritten while live\n",
                (void *)s->p, s->size, s->serial);
        exit(1);
    }
}

static void put(struct slot *s, uint32_t serial)
{
    s->size = 8 + (uint32_t)(rnd(&state) % 249);
    s->serial = serial;
    s->p = malloc(s->size);
    if (!s->p) {
        fprintf(stderr, "small: malloc(%u) returned NULL\n", s->size);
        exit(1);
    }
    stamp(s);
}

int main(int argc, char **argv)
{
    uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 0) : 40000000;
    size_t live = argc > 2 ? strtoull(argv[2], NULL, 0) : 50000;
    state = (argc > 3 ? strtoull(argv[3], NULL, 0) : 1) * 0x9E3779B97F4A7C15ull | 1;
    if (!live) {
        fprintf(stderr, "usage: small [OPS] [LIVE>0] [SEED]\n");
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
