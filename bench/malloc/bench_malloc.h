/*
 * bench_malloc.h — what every program in bench/malloc shares: a clock,
 * the one random sequence every allocator gets (xorshift64*), and the word
 * a block is stamped with from its serial number.  Header-only: each
 * program is built alone with plain cc and nothing of winmem's.
 */
#ifndef BENCH_MALLOC_H
#define BENCH_MALLOC_H

#include <stdint.h>
#include <time.h>

static inline double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t stamp_of(uint64_t serial) { return (serial + 1) * 0xD6E8FEB86659FD93ull; }

#endif
