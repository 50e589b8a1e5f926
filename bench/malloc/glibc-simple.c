/*
 * glibc-simple.c — in the spirit of glibc's bench-malloc-simple: one thread
 * allocating a batch of small blocks and then freeing the whole batch, in
 * the order they were allocated, over and over.  The batch (the live set)
 * cycles through 25, 100, 400 and 1,600 blocks; sizes are random, 8 bytes
 * to MAX (uniform).  What it measures is the allocator's fastest paths: a
 * thread-local cache for the small batches, the refill and flush of it for
 * the large ones, and no contention at all.
 *
 *   glibc-simple [BLOCKS] [MAX] [SEED]      defaults 40000000 512 1
 *
 * BLOCKS is the total allocated (and freed).  Each block carries a word
 * derived from its serial number at its start and that word's top byte at
 * its end, checked before it is freed; a mismatch exits 1.  Prints the
 * seconds the batches took.  Uses only malloc and free.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_malloc.h"

static const unsigned batch_sizes[] = { 25, 100, 400, 1600 };
#define BATCH_MAX 1600

static uint64_t state;                          /* rnd(&state) */

int main(int argc, char **argv)
{
    uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 0) : 40000000;
    size_t max = argc > 2 ? strtoull(argv[2], NULL, 0) : 512;
    state = (argc > 3 ? strtoull(argv[3], NULL, 0) : 1) * 0x9E3779B97F4A7C15ull | 1;
    if (max < 8) {
        fprintf(stderr, "usage: glibc-simple [BLOCKS] [MAX>=8] [SEED]\n");
        return 2;
    }
    static unsigned char *block[BATCH_MAX];
    static uint32_t size[BATCH_MAX];
    uint64_t serial = 0;
    double t0 = seconds();
    for (unsigned round = 0; serial < total; round++) {
        unsigned n = batch_sizes[round % (sizeof batch_sizes / sizeof *batch_sizes)];
        uint64_t first = serial;
        for (unsigned i = 0; i < n; i++, serial++) {
            size[i] = (uint32_t)(8 + rnd(&state) % (max - 7));
            block[i] = malloc(size[i]);
            if (!block[i]) {
                fprintf(stderr, "glibc-simple: malloc(%u) returned NULL\n", size[i]);
                return 1;
            }
            uint64_t w = stamp_of(serial);
            memcpy(block[i], &w, sizeof w);
            block[i][size[i] - 1] = (unsigned char)(w >> 56);
        }
        for (unsigned i = 0; i < n; i++) {
            uint64_t w, want = stamp_of(first + i);
            memcpy(&w, block[i], sizeof w);
            if (w != want || block[i][size[i] - 1] != (unsigned char)(want >> 56)) {
                fprintf(stderr, "glibc-simple: block %p of %u bytes overwritten while live\n",
                        (void *)block[i], size[i]);
                return 1;
            }
            free(block[i]);
        }
    }
    printf("%.3f\n", seconds() - t0);
    return 0;
}
