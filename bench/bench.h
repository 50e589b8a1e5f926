/*
 * bench.h — what every bench shares: timing (the best of REPS measurements
 * of enough operations to last MIN_NS each), one table row per comparison,
 * and the machine line.  Header-only; each bench is one program.
 */
#ifndef WINMEM_BENCH_H
#define WINMEM_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define REPS 5
#define MIN_NS 100000000ull         /* each measurement lasts at least 100 ms */

static volatile uintptr_t sink;     /* keeps every result observable */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state __attribute__((unused)) = 0x9E3779B97F4A7C15ull;
static inline uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ----------------------------------------------------------- measuring */
/* A benchmark body, void body(void *ctx, uint64_t n), runs n operations. */
static inline uint64_t time_body(void (*body)(void *, uint64_t), void *ctx, uint64_t n)
{
    uint64_t t0 = now_ns();
    body(ctx, n);
    return now_ns() - t0;
}

/* The operation count that makes one measurement last at least MIN_NS. */
static inline uint64_t calibrate(void (*body)(void *, uint64_t), void *ctx)
{
    uint64_t n = 1;
    for (;;) {
        uint64_t t = time_body(body, ctx, n);
        if (t >= MIN_NS)
            return n;
        if (t < MIN_NS / 100)
            n *= 10;
        else
            n = n * MIN_NS / t + n / 8 + 1;
    }
}

static inline void print_rule(void)
{
    printf("  %-36s-+-%12s-+-%12s-+-%7s-+-%s\n", "------------------------------------",
           "------------", "------------", "-------", "------");
}

/* Times both sides and prints one row: case | winmem | raw | ratio | goal. */
static inline void compare(const char *name, const char *goal, void (*winmem)(void *, uint64_t), void (*raw)(void *, uint64_t), void *ctx)
{
    uint64_t nw = calibrate(winmem, ctx), nr = calibrate(raw, ctx);
    double best_w = 1e300, best_r = 1e300;
    for (int rep = 0; rep < REPS; rep++) {
        double w = (double)time_body(winmem, ctx, nw) / (double)nw;
        double r = (double)time_body(raw, ctx, nr) / (double)nr;
        best_w = w < best_w ? w : best_w;
        best_r = r < best_r ? r : best_r;
    }
    printf("  %-36s | %12.1f | %12.1f | %6.2fx | %s\n", name, best_w, best_r,
           best_w / best_r, goal);
    fflush(stdout);
}

/* The best time per operation of one side alone. */
static inline double best_ns(void (*body)(void *, uint64_t), void *ctx)
{
    uint64_t n = calibrate(body, ctx);
    double best = 1e300;
    for (int rep = 0; rep < REPS; rep++) {
        double t = (double)time_body(body, ctx, n) / (double)n;
        best = t < best ? t : best;
    }
    return best;
}

static inline void print_machine(const char *title, const char *ratio)
{
    struct utsname u;
    char model[256] = "unknown", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    }
    if (f)
        fclose(f);
    uname(&u);
    printf("%s\n", title);
    printf("machine: %s %s %s, %ld CPUs (%s), page %zu bytes\n", u.sysname, u.release,
           u.machine, sysconf(_SC_NPROCESSORS_ONLN), model, (size_t)sysconf(_SC_PAGESIZE));
    printf("timing: best of %d runs of >= %llu ms each; ratio = %s\n\n", REPS,
           MIN_NS / 1000000, ratio);
}

#endif
