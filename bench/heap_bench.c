/*
 * heap_bench.c — winmem's heap against glibc malloc, mimalloc, jemalloc and
 * tcmalloc, side by side in one run.  Never pass/fail: each table prints
 * ns/op, peak RSS and the ratios the goals are written in (issue 4); the
 * reader judges.  The workloads are in heap_workloads.h.
 *
 * The allocators all define malloc, so each runs in its own process: the
 * bench re-executes itself as `bench_heap_bench child WORKLOAD ALLOCATOR`.
 * glibc is the plain libc; jemalloc and tcmalloc are preloaded into the
 * child (LD_PRELOAD, Debian's shared libraries); mimalloc's own API runs in
 * heap_bench_mimalloc, this file built with HEAP_BENCH_MIMALLOC and linked
 * with libmimalloc.  A child first checks that the allocator it was given is
 * the one answering, times the workload with best_ns() (bench.h), and writes
 * one line to the pipe that is its stdout: ns/op, peak RSS (VmHWM), errors,
 * page faults per op, and for pc the core-to-core latency it saw.  Each
 * allocator runs ROUNDS such children per workload (PC_ROUNDS for pc), in
 * turns with the others; a row keeps the best time and the largest peak.
 * An allocator whose library is missing, or whose child fails, gets "n/a"
 * and the reason in its rows.
 *
 * `bench_heap_bench WORKLOAD...` runs only those tables;
 * `bench_heap_bench child WORKLOAD ALLOCATOR` runs one child in the
 * foreground, for perf and strace (names: see the tables below).
 */
#define _GNU_SOURCE
#include "heap_workloads.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#ifndef HEAP_BENCH_JEMALLOC
#define HEAP_BENCH_JEMALLOC ""      /* the shared library's path; "" when not found */
#endif
#ifndef HEAP_BENCH_TCMALLOC
#define HEAP_BENCH_TCMALLOC ""
#endif

#define ROUNDS 2                    /* processes per allocator and workload, in turns */
#define PC_ROUNDS 4                 /* the same for pc, whose times move with the vCPUs */
#define CHILD_TIMEOUT_S 120         /* a child still running then is killed */

extern char **environ;

/* ------------------------------------------------------------ allocators */
enum {
    AL_WINMEM_PROCESS, AL_WINMEM_PRIVATE, AL_WINMEM_NOSERIAL, AL_GLIBC,
    AL_MIMALLOC, AL_MI_HEAP, AL_JEMALLOC, AL_TCMALLOC, AL_COUNT
};
#define ROW(al) (1u << (al))
#define ALL_ROWS ((1u << AL_COUNT) - 1)

static const struct allocator {
    const char *name;               /* the child's argument */
    const char *label;              /* its rows */
    enum api api;
    DWORD create;                   /* winmem: HeapCreate options, or PROCESS_HEAP */
    const char *preload;            /* LD_PRELOAD for the child, or NULL */
    bool helper;                    /* runs in heap_bench_mimalloc */
} allocators[AL_COUNT] = {
    [AL_WINMEM_PROCESS]  = { "winmem-process", "winmem, process heap", API_WINMEM, PROCESS_HEAP, NULL, false },
    [AL_WINMEM_PRIVATE]  = { "winmem-private", "winmem, private heap", API_WINMEM, 0, NULL, false },
    [AL_WINMEM_NOSERIAL] = { "winmem-noserialize", "winmem, HEAP_NO_SERIALIZE heap", API_WINMEM,
                             HEAP_NO_SERIALIZE, NULL, false },
    [AL_GLIBC]           = { "glibc", "glibc malloc", API_MALLOC, 0, NULL, false },
    [AL_MIMALLOC]        = { "mimalloc", "mimalloc mi_malloc", API_MI, 0, NULL, true },
    [AL_MI_HEAP]         = { "mi-heap", "mimalloc mi_heap", API_MI_HEAP, 0, NULL, true },
    [AL_JEMALLOC]        = { "jemalloc", "jemalloc malloc", API_MALLOC, 0, HEAP_BENCH_JEMALLOC, false },
    [AL_TCMALLOC]        = { "tcmalloc", "tcmalloc malloc", API_MALLOC, 0, HEAP_BENCH_TCMALLOC, false },
};

/* ----------------------------------------------------------- workloads */
static const struct workload {
    const char *name, *title, *op;
    uint64_t seed, warm;            /* warm: operations before timing */
    void (*setup)(struct child *), (*teardown)(struct child *);
    void (*body[API_COUNT])(void *, uint64_t);
    unsigned rows;                  /* ROW(al) for each allocator in its table */
    int goal_row, goal_base;        /* goal: goal_row / goal_base (-1: the fastest) */
    double goal;
    int rss_base;                   /* peak RSS is compared with this row's */
    const char *note;
    bool c2c;                       /* its rows say the core-to-core latency */
} workloads[] = {
    { "small", "small blocks: 8-256 B, 50,000 live",
      "one HeapFree/free and one HeapAlloc/malloc at a random slot",
      0x5EED0001, SMALL_WARM, small_setup, small_teardown, BODIES(small_run),
      ALL_ROWS, AL_WINMEM_PROCESS, -1, 1.10, AL_MIMALLOC, NULL, false },
    { "log", "log-distributed sizes: 8 B-64 KiB, 2,000 live",
      "one free and one allocation at a random slot",
      0x5EED0002, LOG_WARM, small_setup, log_teardown, BODIES(log_run),
      ALL_ROWS, AL_WINMEM_PROCESS, -1, 1.20, AL_MIMALLOC, NULL, false },
    { "pc", "producer/consumer: 2 threads, 8-256 B, frees on the other thread",
      "one block allocated by the producer and freed by the consumer",
      0x5EED0003, PC_WARM, pc_setup, pc_teardown, BODIES(pc_produce),
      ALL_ROWS & ~ROW(AL_WINMEM_NOSERIAL), AL_WINMEM_PROCESS, -1, 1.20, AL_MIMALLOC,
      "a HEAP_NO_SERIALIZE heap is not run here: two threads use the heap at once;\n"
      "  c2c ns: core-to-core latency measured by the child before and after", true },
    { "arena", "arenas: create, 1,000 blocks of 8-1024 B (log), destroy",
      "one arena",
      0x5EED0004, ARENA_WARM, arena_setup, arena_teardown, BODIES(arena_run),
      ALL_ROWS & ~ROW(AL_WINMEM_PROCESS), AL_WINMEM_PRIVATE, AL_MI_HEAP, 1.00, AL_MI_HEAP,
      "winmem rows: HeapCreate, HeapAlloc x1000, HeapDestroy; mi_heap: mi_heap_new,\n"
      "  mi_heap_malloc x1000, mi_heap_destroy; the others malloc x1000 and free each", false },
    { "realloc", "HeapReAlloc growth: 256 buffers growing 16 B -> 64 KiB",
      "one reallocation (1 in ~40: a free and a new 16 B block)",
      0x5EED0005, GROW_WARM, small_setup, grow_teardown, BODIES(grow_run),
      ALL_ROWS, AL_WINMEM_PROCESS, -1, 1.20, AL_MIMALLOC, NULL, false },
};
#define WORKLOADS (sizeof workloads / sizeof *workloads)

static const struct workload *workload_named(const char *name)
{
    for (size_t i = 0; i < WORKLOADS; i++)
        if (!strcmp(workloads[i].name, name))
            return &workloads[i];
    return NULL;
}

static const struct allocator *allocator_named(const char *name)
{
    for (int i = 0; i < AL_COUNT; i++)
        if (!strcmp(allocators[i].name, name))
            return &allocators[i];
    return NULL;
}

/* ------------------------------------------------- the child's process */
/* The peak resident set so far, in KiB (VmHWM), or -1. */
static long peak_rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* Checks that a's allocator is the one answering malloc in this process
 * (a preload that failed leaves glibc's), and writes its version. */
static bool allocator_verify(const struct allocator *a, char *version, size_t len)
{
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    const char *(*tc_version)(int *, int *, const char **) =
        (const char *(*)(int *, int *, const char **))dlsym(RTLD_DEFAULT, "tc_version");
    const char *je = NULL;
    size_t je_len = sizeof je;
    int major, minor;
    const char *patch;

    if (a->helper) {
#ifdef HEAP_BENCH_MIMALLOC
        int v = mi_version();
        snprintf(version, len, "mimalloc %d.%d.%d", v / 100, v / 10 % 10, v % 10);
        return true;
#else
        snprintf(version, len, "mimalloc rows run in heap_bench_mimalloc");
        return false;
#endif
    }
    if (a->preload && mallctl && !mallctl("version", &je, &je_len, NULL, 0) && je) {
        snprintf(version, len, "jemalloc %s", je);
        return a == &allocators[AL_JEMALLOC];
    }
    if (a->preload && tc_version) {
        snprintf(version, len, "%s", tc_version(&major, &minor, &patch));
        return a == &allocators[AL_TCMALLOC];
    }
    if (mallctl || tc_version || dlsym(RTLD_DEFAULT, "mi_version")) {
        snprintf(version, len, "another malloc is loaded");
        return false;
    }
    if (a->preload) {
        snprintf(version, len, "%s was preloaded but is not %s", a->preload, a->name);
        return false;
    }
    if (a->api == API_WINMEM)
        snprintf(version, len, "winmem, this tree");
    else
        snprintf(version, len, "glibc %s", gnu_get_libc_version());
    return true;
}

/* Page faults this process has taken so far (every thread). */
static long faults_so_far(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt + u.ru_majflt;
}

/* child WORKLOAD|version ALLOCATOR: one line on stdout,
 * "ns/op peak_rss_kib errors faults/op c2c_before c2c_after version".
 * Faults are counted over another `warm` operations after the timing, so
 * every allocator's count covers the same operations. */
static int child_main(const char *wname, const char *aname)
{
    char version[128];
    const struct allocator *a = allocator_named(aname);
    const struct workload *w = workload_named(wname);
    alarm(CHILD_TIMEOUT_S);
    if (!a || (!w && strcmp(wname, "version"))) {
        fprintf(stderr, "heap_bench: no workload %s or allocator %s\n", wname, aname);
        return 2;
    }
    if (!allocator_verify(a, version, sizeof version)) {
        printf("n/a: %s\n", version);                  /* the parent's note */
        return 3;
    }
    if (!w) {
        printf("0 0 0 0 -1 -1 %s\n", version);
        return 0;
    }
    struct child c = { .name = a->name, .api = a->api, .create = a->create, .c2c = { -1, -1 } };
    rng_state = w->seed;
    w->setup(&c);
    w->body[a->api](&c, w->warm);
    double ns = best_ns(w->body[a->api], &c);
    long faults = faults_so_far();
    w->body[a->api](&c, w->warm);
    faults = faults_so_far() - faults;
    w->teardown(&c);
    printf("%.2f %ld %lu %.3f %.1f %.1f %s\n", ns, peak_rss_kib(), c.errors,
           (double)faults / (double)w->warm, c.c2c[0], c.c2c[1], version);
    return 0;
}

/* ============================================================== parent */
#ifndef HEAP_BENCH_MIMALLOC
struct result {
    bool ok;                        /* ran, and its line was read */
    double ns;
    long rss_kib;
    unsigned long errors;
    double faults;                  /* page faults per operation */
    double c2c[2];                  /* core-to-core ns before and after, or -1 */
    char note[160];                 /* the version, or why there is no result */
};

static char self_path[PATH_MAX], helper_path[PATH_MAX + 32];

static void find_programs(void)
{
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    self_path[n > 0 ? n : 0] = 0;
    char *slash = strrchr(self_path, '/');
    snprintf(helper_path, sizeof helper_path, "%.*s/heap_bench_mimalloc",
             slash ? (int)(slash - self_path) : 1, slash ? self_path : ".");
}

/* This process's environment without LD_PRELOAD, plus the child's own. */
static char **child_env(const char *preload)
{
    static char *env[1024];
    static char line[PATH_MAX + 16];
    size_t n = 0;
    for (char **e = environ; *e && n < 1022; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11))
            env[n++] = *e;
    if (preload) {
        snprintf(line, sizeof line, "LD_PRELOAD=%s", preload);
        env[n++] = line;
    }
    env[n] = NULL;
    return env;
}

/* Why al cannot run at all, or NULL. */
static const char *missing(int al)
{
    const struct allocator *a = &allocators[al];
    if (a->preload && (!a->preload[0] || access(a->preload, R_OK)))
        return "n/a: library not found";
    if (a->helper && access(helper_path, X_OK))
        return "n/a: heap_bench_mimalloc not built (no libmimalloc-dev)";
    return NULL;
}

static void child_status(int status, struct result *r)
{
    if (WIFSIGNALED(status))
        snprintf(r->note, sizeof r->note, "n/a: killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)),
                 WTERMSIG(status) == SIGALRM ? ", over the time limit" : "");
    else
        snprintf(r->note, sizeof r->note, "n/a: child exited with status %d",
                 WEXITSTATUS(status));
}

static void run_child(int al, const char *workload, struct result *r)
{
    const struct allocator *a = &allocators[al];
    const char *why = missing(al);
    memset(r, 0, sizeof *r);
    if (why) {
        snprintf(r->note, sizeof r->note, "%s", why);
        return;
    }
    const char *exe = a->helper ? helper_path : self_path;
    char *argv[] = { (char *)exe, "child", (char *)workload, (char *)a->name, NULL };
    char **env = child_env(a->preload);
    int fd[2];
    if (pipe2(fd, O_CLOEXEC)) {
        snprintf(r->note, sizeof r->note, "n/a: pipe failed");
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        execve(exe, argv, env);
        _exit(127);
    }
    close(fd[1]);
    char buf[512];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof buf - 1 && (k = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)k;
    buf[got] = 0;
    close(fd[0]);
    int status = 0, used = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        snprintf(r->note, sizeof r->note, "n/a: fork failed");
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        child_status(status, r);
        if (!strncmp(buf, "n/a: ", 5))                  /* the child said why */
            snprintf(r->note, sizeof r->note, "%.*s", (int)strcspn(buf, "\n"), buf);
        return;
    }
    if (sscanf(buf, "%lf %ld %lu %lf %lf %lf %n", &r->ns, &r->rss_kib, &r->errors, &r->faults,
               &r->c2c[0], &r->c2c[1], &used) < 6) {
        snprintf(r->note, sizeof r->note, "n/a: unreadable answer");
        return;
    }
    buf[strcspn(buf, "\n")] = 0;
    snprintf(r->note, sizeof r->note, "%s", buf + used);
    r->ok = true;
}

/* ----------------------------------------------------------- the tables */
static bool usable(const struct result *r) { return r->ok && r->errors == 0; }

static void print_header(const struct workload *w)
{
    printf("%s\n  op = %s\n", w->title, w->op);
    bool c2c = w->c2c;
    printf("  %-32s | %10s | %10s | %7s | %12s | %9s%s\n", "allocator", "ns/op", "peak RSS",
           "ratio", "RSS/mimalloc", "faults/op", c2c ? " | c2c ns" : "");
    printf("  %-32s-+-%10s-+-%10s-+-%7s-+-%12s-+-%9s%s\n", "--------------------------------",
           "----------", "----------", "-------", "------------", "---------",
           c2c ? "-+--------" : "");
}

static void print_row(const struct workload *w, int al, const struct result *r,
                      double best, const struct result *rss_base)
{
    const char *label = allocators[al].label;
    if (!r->ok) {
        printf("  %-32s | %s\n", label, r->note);
        return;
    }
    printf("  %-32s | %10.1f | %6.1f MiB | %6.2fx |", label, r->ns,
           (double)r->rss_kib / 1024, r->ns / best);
    if (usable(rss_base))
        printf(" %6.2fx %4s |", (double)r->rss_kib / (double)rss_base->rss_kib,
               al == w->rss_base ? "base" : "");
    else
        printf(" %12s |", "n/a");
    printf(" %9.2f", r->faults);
    if (r->c2c[0] >= 0)
        printf(" | %3.0f/%-3.0f", r->c2c[0], r->c2c[1]);
    if (r->errors)
        printf("   VERIFICATION FAILED: %lu errors (see stderr)", r->errors);
    printf("\n");
}

/* The goal lines under a table: time, HEAP_NO_SERIALIZE, peak RSS. */
static void print_goals(const struct workload *w, const struct result *res, int fastest)
{
    const struct result *g = &res[w->goal_row];
    int base = w->goal_base < 0 ? fastest : w->goal_base;
    printf("  goal: %s <= %.2fx %s: ", allocators[w->goal_row].label, w->goal,
           w->goal_base < 0 ? "the fastest" : allocators[base].label);
    if (base >= 0 && usable(g) && usable(&res[base]))
        printf("%.2fx%s%s%s\n", g->ns / res[base].ns, w->goal_base < 0 ? " (fastest: " : "",
               w->goal_base < 0 ? allocators[fastest].label : "", w->goal_base < 0 ? ")" : "");
    else
        printf("n/a\n");

    const struct result *ser = &res[AL_WINMEM_PRIVATE], *noser = &res[AL_WINMEM_NOSERIAL];
    if (w->rows & ROW(AL_WINMEM_NOSERIAL)) {
        printf("  goal: HEAP_NO_SERIALIZE heap <= 1.00x the serialized private heap: ");
        if (usable(ser) && usable(noser))
            printf("%.2fx\n", noser->ns / ser->ns);
        else
            printf("n/a\n");
    }

    const struct result *rb = &res[w->rss_base];
    double worst = 0;
    int worst_al = -1;
    for (int al = AL_WINMEM_PROCESS; al <= AL_WINMEM_NOSERIAL; al++) {
        double ratio = usable(&res[al]) && usable(rb)
                       ? (double)res[al].rss_kib / (double)rb->rss_kib : 0;
        if ((w->rows & ROW(al)) && ratio > worst)
            worst = ratio, worst_al = al;
    }
    printf("  goal: peak RSS <= 1.25x %s's: ", allocators[w->rss_base].label);
    if (worst_al >= 0)
        printf("%.2fx at worst (%s)\n", worst, allocators[worst_al].label);
    else
        printf("n/a\n");
}

/* Says so when the rows' best runs saw core-to-core latencies more than
 * twice apart: their times were then not taken on the same machine. */
static void check_c2c(const struct workload *w, const struct result *res)
{
    double lo = 1e300, hi = 0;
    for (int al = 0; al < AL_COUNT; al++)
        for (int k = 0; k < 2; k++)
            if ((w->rows & ROW(al)) && res[al].ok && res[al].c2c[k] > 0) {
                lo = res[al].c2c[k] < lo ? res[al].c2c[k] : lo;
                hi = res[al].c2c[k] > hi ? res[al].c2c[k] : hi;
            }
    if (hi > 2 * lo)
        printf("  WARNING: core-to-core latency varied from %.0f to %.0f ns between rows;\n"
               "  these times are not comparable with each other: run again\n", lo, hi);
}

/* A later round's result into the first's: the best time, the larger peak,
 * every error; a failure replaces a result. */
static void merge(struct result *into, const struct result *r)
{
    if (!r->ok) {
        if (into->ok)
            *into = *r;
        return;
    }
    if (into->ok) {
        if (r->ns < into->ns)
            into->ns = r->ns, into->c2c[0] = r->c2c[0], into->c2c[1] = r->c2c[1];
        into->rss_kib = r->rss_kib > into->rss_kib ? r->rss_kib : into->rss_kib;
        into->errors += r->errors;
        into->faults = r->faults > into->faults ? r->faults : into->faults;
    }
}

static void run_workload(const struct workload *w, const bool *available, char notes[][160])
{
    struct result res[AL_COUNT], r;
    double best = 1e300;
    int fastest = -1;
    print_header(w);
    memset(res, 0, sizeof res);
    for (int round = 0; round < (w->c2c ? PC_ROUNDS : ROUNDS); round++) {
        for (int al = 0; al < AL_COUNT; al++) {
            if (!(w->rows & ROW(al)))
                continue;
            if (!available[al]) {
                memcpy(res[al].note, notes[al], sizeof res[al].note);
                continue;
            }
            run_child(al, w->name, round ? &r : &res[al]);
            if (round)
                merge(&res[al], &r);
        }
    }
    for (int al = 0; al < AL_COUNT; al++)
        if ((w->rows & ROW(al)) && usable(&res[al]) && res[al].ns < best)
            best = res[al].ns, fastest = al;
    for (int al = 0; al < AL_COUNT; al++)
        if (w->rows & ROW(al))
            print_row(w, al, &res[al], best, &res[w->rss_base]);
    if (w->note)
        printf("  (%s)\n", w->note);
    if (w->c2c)
        check_c2c(w, res);
    print_goals(w, res, fastest);
    printf("\n");
    fflush(stdout);
}

/* Asks each allocator's child for its version; one that cannot answer is
 * n/a in every table. */
static void probe_allocators(bool *available, char notes[][160])
{
    printf("allocators:\n");
    for (int al = 0; al < AL_COUNT; al++) {
        struct result r;
        run_child(al, "version", &r);
        available[al] = r.ok;
        snprintf(notes[al], 160, "%s", r.note);
        if (al == AL_WINMEM_PRIVATE || al == AL_WINMEM_NOSERIAL || al == AL_MI_HEAP)
            continue;                                   /* the same library as a row above */
        printf("  %-10.*s %s\n", (int)strcspn(allocators[al].name, "-"), allocators[al].name,
               r.note);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "child"))
        return child_main(argv[2], argv[3]);
    uint64_t t0 = now_ns();
    bool available[AL_COUNT];
    char notes[AL_COUNT][160];
    find_programs();
    print_machine("heap_bench: winmem's heap against glibc, mimalloc, jemalloc and tcmalloc",
                  "ns/op / the fastest row's ns/op in the same table");
    printf("each allocator runs each workload in %d processes of its own (pc: %d), taking turns\n"
           "with the others; ns/op is the best of them, peak RSS (VmHWM) the largest\n\n",
           ROUNDS, PC_ROUNDS);
    probe_allocators(available, notes);
    for (size_t i = 0; i < WORKLOADS; i++) {
        bool chosen = argc < 2;
        for (int k = 1; k < argc; k++)
            chosen |= !strcmp(argv[k], workloads[i].name);
        if (chosen)
            run_workload(&workloads[i], available, notes);
    }
    printf("total run time: %.0f s\n", (double)(now_ns() - t0) / 1e9);
    return 0;
}

#else
/* heap_bench_mimalloc: only ever a child. */
int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "child"))
        return child_main(argv[2], argv[3]);
    fprintf(stderr, "usage: %s child WORKLOAD ALLOCATOR (run by bench_heap_bench)\n", argv[0]);
    return 2;
}
#endif
