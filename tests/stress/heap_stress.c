/*
 * heap_stress.c — one serialized heap under 8 threads: random HeapAlloc
 * (some with HEAP_ZERO_MEMORY), HeapReAlloc and HeapFree over per-thread
 * slots, with a share of the blocks handed to the next thread, which frees
 * them (cross-thread frees).  Every block carries its owner's pattern and
 * its exact HeapSize; both are checked before each free and realloc, and
 * HeapValidate must hold at the end, after which HeapDestroy gives back the
 * heap's commit.  Meanwhile the main thread forks children that must find
 * the heap usable (fork while other threads hold the heap's lock).
 *
 * WINMEM_HEAP_STRESS_OPS sets the operations per thread (default 100,000;
 * the full run is 5,000,000).
 */
#include <winmem.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define SLOTS 1024
#define MAILBOX 256

struct block { unsigned char *p; size_t size; unsigned char fill; };

struct worker {
    pthread_t thread;
    int index;
    unsigned long long rng, ops, failures;
    struct block slots[SLOTS];
    /* Blocks handed over by the previous thread, freed by this one. */
    pthread_mutex_t mail_lock;
    struct block mail[MAILBOX];
    int mail_count;
};

static HANDLE heap;
static struct worker workers[THREADS];
static unsigned long long ops_per_thread = 100000;
static volatile int done_threads;

static unsigned rnd(struct worker *w, unsigned n)
{
    w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
    return (unsigned)(w->rng % n);
}

static size_t random_size(struct worker *w)
{
    unsigned k = rnd(w, 100);
    if (k < 70) return rnd(w, 256);             /* mostly small */
    if (k < 95) return rnd(w, 16384);
    if (k < 99) return rnd(w, 300000);
    return 0xFE000 + rnd(w, 1 << 20);           /* large blocks now and then */
}

static int check(const struct block *b)
{
    if (HeapSize(heap, 0, b->p) != b->size)
        return 1;
    for (size_t i = 0; i < b->size; i += 1 + i / 8)    /* sample long blocks */
        if (b->p[i] != b->fill)
            return 1;
    return b->size && b->p[b->size - 1] != b->fill;
}

static void fill(struct block *b, unsigned char value)
{
    b->fill = value;
    memset(b->p, value, b->size);
}

static void hand_over(struct worker *w, struct block *b)
{
    struct worker *next = &workers[(w->index + 1) % THREADS];
    pthread_mutex_lock(&next->mail_lock);
    if (next->mail_count < MAILBOX) {
        next->mail[next->mail_count++] = *b;
        b->p = NULL;
    }
    pthread_mutex_unlock(&next->mail_lock);
}

static void free_mail(struct worker *w)
{
    pthread_mutex_lock(&w->mail_lock);
    for (int i = 0; i < w->mail_count; i++) {
        w->failures += check(&w->mail[i]);
        w->failures += !HeapFree(heap, 0, w->mail[i].p);
    }
    w->mail_count = 0;
    pthread_mutex_unlock(&w->mail_lock);
}

static void one_op(struct worker *w)
{
    struct block *b = &w->slots[rnd(w, SLOTS)];
    if (!b->p) {
        b->size = random_size(w);
        bool zero = rnd(w, 4) == 0;
        b->p = HeapAlloc(heap, zero ? HEAP_ZERO_MEMORY : 0, b->size);
        if (!b->p) {
            w->failures++;
            return;
        }
        if (zero)
            for (size_t i = 0; i < b->size; i += 61)
                w->failures += b->p[i] != 0;
        fill(b, (unsigned char)(w->index * 31 + w->ops));
        return;
    }
    w->failures += check(b);
    unsigned k = rnd(w, 10);
    if (k < 5) {
        w->failures += !HeapFree(heap, 0, b->p);
        b->p = NULL;
    } else if (k < 8) {
        size_t size = random_size(w);
        unsigned char *p = HeapReAlloc(heap, 0, b->p, size);
        if (!p) {
            w->failures++;
            return;
        }
        size_t kept = size < b->size ? size : b->size;
        for (size_t i = 0; i < kept; i += 1 + i / 8)
            w->failures += p[i] != b->fill;
        b->p = p;
        b->size = size;
        fill(b, b->fill);
    } else {
        hand_over(w, b);
    }
}

static void *run(void *arg)
{
    struct worker *w = arg;
    for (w->ops = 0; w->ops < ops_per_thread; w->ops++) {
        one_op(w);
        if ((w->ops & 255) == 0)
            free_mail(w);
    }
    __atomic_add_fetch(&done_threads, 1, __ATOMIC_RELEASE);
    return NULL;
}

static PROCESS_MEMORY_COUNTERS counters(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc);
    return pmc;
}

int main(void)
{
    const char *env = getenv("WINMEM_HEAP_STRESS_OPS");
    if (env)
        ops_per_thread = strtoull(env, NULL, 0);
    size_t charge_before = counters().PagefileUsage;
    heap = HeapCreate(0, 0, 0);
    if (!heap)
        return printf("HeapCreate failed\n"), 1;
    for (int i = 0; i < THREADS; i++) {
        workers[i].index = i;
        workers[i].rng = 0x9E3779B97F4A7C15ull * (unsigned)(i + 1);
        pthread_mutex_init(&workers[i].mail_lock, NULL);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_create(&workers[i].thread, NULL, run, &workers[i]);

    int forks = 0, fork_failures = 0;
    while (__atomic_load_n(&done_threads, __ATOMIC_ACQUIRE) < THREADS && forks < 20) {
        pid_t pid = fork();
        if (pid == 0) {
            void *p = HeapAlloc(heap, 0, 1000);
            _exit(p && HeapFree(heap, 0, p) && HeapValidate(heap, 0, NULL) ? 0 : 1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        fork_failures += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        forks++;
        usleep(20000);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(workers[i].thread, NULL);

    unsigned long long failures = 0, total = 0;
    for (int i = 0; i < THREADS; i++) {
        free_mail(&workers[i]);
        for (int s = 0; s < SLOTS; s++)
            if (workers[i].slots[s].p)
                failures += check(&workers[i].slots[s]);
        failures += workers[i].failures;
        total += workers[i].ops;
    }
    int valid = HeapValidate(heap, 0, NULL);
    int destroyed = HeapDestroy(heap);
    size_t charge_after = counters().PagefileUsage;
    printf("%llu operations on %d threads, %d forks (%d failed), %llu failures, valid %d, "
           "commit %zu -> %zu bytes\n", total, THREADS, forks, fork_failures, failures, valid,
           charge_before, charge_after);
    int ok = failures == 0 && fork_failures == 0 && valid && destroyed &&
             charge_after <= charge_before + 0x10000;
    printf("%d passed, %d failed\n", ok, !ok);
    return !ok;
}
