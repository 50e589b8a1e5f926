/*
 * mixed.c — the malloc twin of heap_bench's "log" workload: one thread, a
 * live set of 2,000 blocks of 8 B-64 KiB, log-distributed (a power of two
 * from 8 B to 32 KiB, each equally likely, plus up to as much again).  Each
 * operation frees the block in a random slot and puts a new one there
 * (churn.h: how blocks are written and checked).
 *
 *   mixed [OPS] [LIVE] [SEED]      defaults 15000000 2000 1
 */
#include "churn.h"

static uint32_t mixed_size(uint64_t *state)
{
    size_t low = (size_t)8 << (rnd(state) % 13);
    return (uint32_t)(low + rnd(state) % (low + 1));
}

int main(int argc, char **argv)
{
    return churn_main(argc, argv, "mixed", 15000000, 2000, mixed_size);
}
