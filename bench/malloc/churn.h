/*
 * churn.h — the loop small.c and mixed.c share: a live set of blocks in
 * slots; each operation frees the block in a random slot and puts a new one
 * of the program's size distribution there.
 *
 * Each block is written as a program would use it: a word derived from its
 * serial number at its start, one byte every 4 KiB and its last byte.  All
 * are checked before the block is freed, so an allocator that hands out
 * overlapping or recycled-while-live memory makes the program exit 1.
 * Prints the seconds the operations took (the set filled, churned and
 * freed).  Uses only malloc and free.
 */
#ifndef CHURN_H
#define CHURN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

#define CHURN_STRIDE 4096

struct churn {
    const char *name;               /* for messages */
    uint64_t state;                 /* rnd(&state) */
    uint32_t (*size)(uint64_t *state);
};
struct slot { unsigned char *p; uint32_t size, serial; };

static inline void churn_stamp(struct slot *s)
{
    uint64_t w = stamp_of(s->serial);
    unsigned char b = (unsigned char)(w >> 56);
    memcpy(s->p, &w, sizeof w);
    for (size_t off = CHURN_STRIDE; off < s->size; off += CHURN_STRIDE)
        s->p[off] = b;
    s->p[s->size - 1] = b;
}

static void churn_check(const struct churn *c, const struct slot *s)
{
    uint64_t w, want = stamp_of(s->serial);
    unsigned char b = (unsigned char)(want >> 56);
    int bad = 0;
    memcpy(&w, s->p, sizeof w);
    bad |= w != want || s->p[s->size - 1] != b;
    for (size_t off = CHURN_STRIDE; off < s->size; off += CHURN_STRIDE)
        bad |= s->p[off] != b;
    if (bad) {
        fprintf(stderr, "%s: block %p of %u bytes (serial %u) overwritten while live\n", c->name,
                (void *)s->p, s->size, s->serial);
        exit(1);
    }
}

static void churn_put(struct churn *c, struct slot *s, uint32_t serial)
{
    s->size = c->size(&c->state);
    s->serial = serial;
    s->p = malloc(s->size);
    if (!s->p) {
        fprintf(stderr, "%s: malloc(%u) returned NULL\n", c->name, s->size);
        exit(1);
    }
    churn_stamp(s);
}

/* main for `NAME [OPS] [LIVE] [SEED]`. */
static int churn_main(int argc, char **argv, const char *name, uint64_t default_ops,
                      size_t default_live, uint32_t (*size)(uint64_t *state))
{
    uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 0) : default_ops;
    size_t live = argc > 2 ? strtoull(argv[2], NULL, 0) : default_live;
    struct churn c = { name, (argc > 3 ? strtoull(argv[3], NULL, 0) : 1) * 0x9E3779B97F4A7C15ull | 1,
                       size };
    if (!live) {
        fprintf(stderr, "usage: %s [OPS] [LIVE>0] [SEED]\n", name);
        return 2;
    }
    struct slot *slots = calloc(live, sizeof *slots);
    if (!slots)
        return 1;
    uint32_t serial = 0;
    double t0 = seconds();
    for (size_t i = 0; i < live; i++)
        churn_put(&c, &slots[i], serial++);
    for (uint64_t i = 0; i < ops; i++) {
        struct slot *s = &slots[rnd(&c.state) % live];
        churn_check(&c, s);
        free(s->p);
        churn_put(&c, s, serial++);
    }
    for (size_t i = 0; i < live; i++) {
        churn_check(&c, &slots[i]);
        free(slots[i].p);
    }
    printf("%.3f\n", seconds() - t0);
    free(slots);
    return 0;
}

#endif
