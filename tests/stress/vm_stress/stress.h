/*
 * stress.h — what the files of the vm_stress test share: its sizes and
 * rates, the page-by-page model of a thread's reservations (struct
 * page_model, struct slot) and the thread itself (struct worker), the check
 * macros, and each file's entry points.  The test is described in
 * vm_stress.c; every file includes this header first.
 *
 *   vm_stress.c  main, the worker loop, final checks and the summary
 *   check.c      EXPECT/CALL_OK reporting and reading the host's map
 *   model.c      the model's rules, random ranges, and contents under a
 *                fault catcher
 *   query.c      VirtualQuery against the model, granule tails, validation
 *   ops.c        the operations of the random mix
 */
#ifndef VM_STRESS_H
#define VM_STRESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "vm/vm.h"
#include "os/os.h"
#include <winmem.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define SLOTS 10000
#define SLOTS_PER_THREAD (SLOTS / THREADS)
#define MAX_PAGES 32
#define LOCK_BUDGET 64               /* pages one thread may hold locked */
#define LOCK_SLOTS 16                /* slots one thread may hold locks in */
#define LOCK_QUOTA ((SIZE_T)16 << 20) /* working-set minimum: far above 4 budgets */
#define MAX_REPORTS 30               /* failure lines printed per thread */
#define NS ((uint64_t)1000000000)
#define INJECT_EVERY (NS / 50)       /* one host refusal injected per 20 ms */
/* A query of free memory reads the host's map up to the address (vm_query.c;
 * all of it near the top, where MEM_TOP_DOWN goes), so the granule tails are
 * checked in one walk in 32 and one query in 64, and all at the end. */
#ifndef TAIL_IN_WALKS
#define TAIL_IN_WALKS 32
#endif
#ifndef TAIL_IN_QUERIES
#define TAIL_IN_QUERIES 64
#endif

/* Kinds of call counted in the summary; op_names (vm_stress.c) in this order. */
enum op { OP_RESERVE, OP_RELEASE, OP_COMMIT, OP_PROTECT, OP_DECOMMIT, OP_QUERY,
          OP_WALK, OP_LOCK, OP_UNLOCK, OP_NEGATIVE, OP_VALIDATE, OP_KINDS };

enum content { C_NONE, C_ZERO, C_STAMP };

struct page_model {
    DWORD prot;                      /* 0 while reserved */
    uint32_t epoch;                  /* which stamping wrote the stamp */
    uint8_t committed, content, locked;
};

struct slot {
    uintptr_t base;                  /* 0: empty, the host refused a reserve */
    unsigned pages;
    DWORD alloc_protect;
    struct page_model pg[MAX_PAGES];
};

struct worker {
    int index;                       /* THREADS for the main thread */
    uint64_t rng;
    struct slot *slots;
    unsigned locked_pages;
    size_t lock_slots[LOCK_SLOTS];   /* every slot with a locked page is here */
    unsigned lock_slots_len;
    uint32_t epoch;
    const char *phase;               /* fill, mix or final: for reports */
    size_t cur;                      /* the slot being worked on */
    unsigned long op_no;
    unsigned long ops[OP_KINDS];
    unsigned long passed, failed, refused, lock_refused, reports;
    pthread_t thread;
};

/* A granule tail holding a host mapping, found by sweep_tails (query.c). */
struct tail { uintptr_t lo, hi, hit; struct worker *w; size_t k; };

struct range { uintptr_t lo, hi; };

/* Defined in vm_stress.c; page and seed are set before any thread starts. */
extern size_t page;
extern uint64_t seed;
extern unsigned long max_maps;      /* written by thread 0, read after join */

/* ---------------------------------------------------- inline utilities */
static inline uint64_t mix(uint64_t z)     /* splitmix64's finalizer */
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline unsigned rnd(struct worker *w, unsigned n)   /* uniform in [0, n) */
{
    w->rng += 0x9E3779B97F4A7C15ull;
    return (unsigned)(((mix(w->rng) >> 32) * n) >> 32);
}

static inline uintptr_t page_addr(const struct slot *s, unsigned i) { return s->base + i * page; }

/* ------------------------------------------------------------- check.c */
bool walk_host_map(void (*fn)(uintptr_t, uintptr_t, const char *, void *), void *ctx);
void count_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx);
void print_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx);

bool expect(struct worker *w, bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define EXPECT(w, cond, ...) expect((w), (cond), __FILE__, __LINE__, __VA_ARGS__)

bool succeeded(struct worker *w, bool ok, DWORD refusal, const char *file, int line,
               const char *call);
#define CALL_OK(w, ok, call) \
    succeeded((w), (ok), ERROR_NOT_ENOUGH_MEMORY, __FILE__, __LINE__, (call))

/* A call that must fail with the given error (and change nothing). */
#define EXPECT_ERROR(w, ok, want, call) do {                                     \
        DWORD got_ = (ok) ? 0 : GetLastError();                                 \
        EXPECT((w), got_ == (want), "%s: got error %u, want %u", (call),         \
               (unsigned)got_, (unsigned)(want));                               \
    } while (0)

/* ------------------------------------------------------------- model.c */
unsigned region_end(const struct slot *s, unsigned i);
DWORD pick_protect(struct worker *w);
void pick_range(struct worker *w, unsigned n, unsigned *p0, unsigned *p1);
void fuzz_range(struct worker *w, const struct slot *s, unsigned p0, unsigned p1,
                uintptr_t *addr, size_t *size);
bool pick_span(struct worker *w, const struct slot *s,
               bool (*pred)(const struct page_model *), unsigned *p0, unsigned *p1);
bool is_committed(const struct page_model *p);
bool is_reserved(const struct page_model *p);
bool is_locked(const struct page_model *p);
bool is_lockable(const struct page_model *p);
void install_fault_handler(void);
void touch(struct worker *w, size_t k, struct slot *s, unsigned p0, unsigned p1);

/* ------------------------------------------------------------- query.c */
unsigned check_query(struct worker *w, const struct slot *s, unsigned i, uintptr_t addr);
void check_tail(struct worker *w, const struct slot *s, uintptr_t addr);
void walk_slot(struct worker *w, size_t k, struct slot *s);
void validate_registry(struct worker *w, const char *when);
size_t sweep_tails(struct worker *m, struct worker *workers, struct tail *tails);

/* --------------------------------------------------------------- ops.c */
void reserve_slot(struct worker *w, size_t k, struct slot *s);
void release_slot(struct worker *w, struct slot *s);
void one_op(struct worker *w);

#endif
