/*
 * small.c — the malloc twin of heap_bench's "small" workload: one thread, a
 * live set of 50,000 blocks of 8-256 bytes (uniform).  Each operation frees
 * the block in a random slot and puts a new one of a random size there
 * (churn.h: how blocks are written and checked).
 *
 *   small [OPS] [LIVE] [SEED]      defaults 40000000 50000 1
 */
#include "churn.h"

static uint32_t small_size(uint64_t *state) { return 8 + (uint32_t)(rnd(state) % 249); }

int main(int argc, char **argv)
{
    return churn_main(argc, argv, "small", 40000000, 50000, small_size);
}
