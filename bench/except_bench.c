/*
 * except_bench.c — what exceptions and write watch cost.
 *
 *   1. Commit on touch: a page committed by a vectored handler the first
 *      time it is touched (the sparse array), against the same page
 *      committed up front and then touched.  Both sides pay the host's own
 *      first-touch fault; the ratio is what the exception adds.
 *   2. Write watch: the first write to a watched page after a reset, with
 *      the kernel recording it (host) and with the fallback (protect),
 *      against the first write to a fresh committed page and a write to a
 *      page already written.  Then GetWriteWatch over 1 GiB with 1% of the
 *      pages written, without and with WRITE_WATCH_FLAG_RESET.
 *
 * The fallback is measured in a child process that chooses it before its
 * first watched allocation (WINMEM_WRITE_WATCH=protect); a child cannot use
 * the host mechanism (registrations do not survive fork), so that is
 * measured in the parent afterwards.
 */
#define _GNU_SOURCE
#include <winmem.h>
#include "bench.h"

#include <stdlib.h>
#include <sys/wait.h>

#define TOUCH_PAGES 4096                   /* 16 MiB per round */
#define WATCH_SIZE ((SIZE_T)1 << 30)

static size_t page;

static void die(const char *what)
{
    fprintf(stderr, "except_bench: %s failed (error %u)\n", what, (unsigned)GetLastError());
    exit(1);
}

/* ------------------------------------------------------ 1. commit on touch */
static char *touch_base;

static LONG CALLBACK commit_on_touch(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    char *at = (char *)rec->ExceptionInformation[1];
    if (rec->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || at < touch_base ||
        at >= touch_base + TOUCH_PAGES * page ||
        !VirtualAlloc(at, 1, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_SEARCH;
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* n touches; every TOUCH_PAGES the region is decommitted again (both sides
 * pay that). */
static void touch_on_demand(void *ctx, uint64_t n)
{
    (void)ctx;
    for (uint64_t i = 0; i < n; i++) {
        size_t k = (size_t)(i % TOUCH_PAGES);
        if (k == 0 && i && !VirtualFree(touch_base, TOUCH_PAGES * page, MEM_DECOMMIT))
            die("VirtualFree");
        __asm__ volatile("" ::: "memory");
        ((volatile char *)touch_base)[k * page] = 1;
        __asm__ volatile("" ::: "memory");
    }
    VirtualFree(touch_base, TOUCH_PAGES * page, MEM_DECOMMIT);
}

static void touch_up_front(void *ctx, uint64_t n)
{
    (void)ctx;
    for (uint64_t i = 0; i < n; i++) {
        size_t k = (size_t)(i % TOUCH_PAGES);
        if (k == 0) {
            if (i && !VirtualFree(touch_base, TOUCH_PAGES * page, MEM_DECOMMIT))
                die("VirtualFree");
            if (!VirtualAlloc(touch_base, TOUCH_PAGES * page, MEM_COMMIT, PAGE_READWRITE))
                die("VirtualAlloc");
        }
        ((volatile char *)touch_base)[k * page] = 1;
    }
    VirtualFree(touch_base, TOUCH_PAGES * page, MEM_DECOMMIT);
}

static void bench_commit_on_touch(void)
{
    touch_base = VirtualAlloc(NULL, TOUCH_PAGES * page, MEM_RESERVE, PAGE_NOACCESS);
    if (!touch_base)
        die("VirtualAlloc");
    PVOID h = AddVectoredExceptionHandler(1, commit_on_touch);
    printf("  %-36s | %12s | %12s | %7s | %s\n", "case", "winmem ns/op", "base ns/op",
           "ratio", "base");
    print_rule();
    compare("commit on touch, per page", "committed up front", touch_on_demand, touch_up_front, NULL);
    RemoveVectoredExceptionHandler(h);
    VirtualFree(touch_base, 0, MEM_RELEASE);
}

/* --------------------------------------------------------- 2. write watch */
struct watch_costs {
    double first_write, get_scan, get_reset;
};

static char *watched;

/* Best time per page of TOUCH_PAGES writes to base, with prepare() run
 * untimed before each round. */
static double per_page_ns(char *base, void (*prepare)(void))
{
    double best = 1e300;
    for (int rep = 0; rep < REPS * 4; rep++) {
        prepare();
        uint64_t t0 = now_ns();
        for (size_t k = 0; k < TOUCH_PAGES; k++)
            ((volatile char *)base)[k * page] = (char)rep;
        double t = (double)(now_ns() - t0) / TOUCH_PAGES;
        best = t < best ? t : best;
    }
    return best;
}

static void reset_watched(void)
{
    if (ResetWriteWatch(watched, TOUCH_PAGES * page) != 0)
        die("ResetWriteWatch");
}

static PVOID *report;

static void write_one_percent(void)
{
    for (size_t k = 0; k < WATCH_SIZE / page; k += 100)
        ((volatile char *)watched)[k * page] = 1;
}

static void get_scan(void *ctx, uint64_t n)
{
    (void)ctx;
    for (uint64_t i = 0; i < n; i++) {
        ULONG_PTR count = WATCH_SIZE / page;
        DWORD gran;
        if (GetWriteWatch(0, watched, WATCH_SIZE, report, &count, &gran) != 0)
            die("GetWriteWatch");
        sink += count;
    }
}

/* GetWriteWatch with WRITE_WATCH_FLAG_RESET alone: the 1% is written again
 * before each call, outside the timed part. */
static double get_reset_ns(void)
{
    double best = 1e300;
    for (int rep = 0; rep < REPS * 4; rep++) {
        write_one_percent();
        ULONG_PTR count = WATCH_SIZE / page;
        DWORD gran;
        uint64_t t0 = now_ns();
        if (GetWriteWatch(WRITE_WATCH_FLAG_RESET, watched, WATCH_SIZE, report, &count, &gran) != 0)
            die("GetWriteWatch");
        double t = (double)(now_ns() - t0);
        sink += count;
        best = t < best ? t : best;
    }
    return best;
}

static struct watch_costs measure_watch(void)
{
    struct watch_costs c;
    watched = VirtualAlloc(NULL, WATCH_SIZE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    report = VirtualAlloc(NULL, WATCH_SIZE / page * sizeof *report, MEM_COMMIT, PAGE_READWRITE);
    if (!watched || !report)
        die("VirtualAlloc");
    c.first_write = per_page_ns(watched, reset_watched);
    ResetWriteWatch(watched, WATCH_SIZE);
    write_one_percent();
    c.get_scan = best_ns(get_scan, NULL);
    c.get_reset = get_reset_ns();
    VirtualFree(report, 0, MEM_RELEASE);
    VirtualFree(watched, 0, MEM_RELEASE);
    return c;
}

static struct watch_costs measure_in_child(const char *mechanism)
{
    int fds[2];
    struct watch_costs c = { -1, -1, -1 };
    if (pipe(fds) != 0)
        return c;
    pid_t pid = fork();
    if (pid == 0) {
        setenv("WINMEM_WRITE_WATCH", mechanism, 1);
        c = measure_watch();
        ssize_t w = write(fds[1], &c, sizeof c);
        _exit(w == (ssize_t)sizeof c ? 0 : 1);
    }
    close(fds[1]);
    if (read(fds[0], &c, sizeof c) != (ssize_t)sizeof c)
        c = (struct watch_costs){ -1, -1, -1 };
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return c;
}

/* Baselines: the first write to a freshly committed page, and a write to a
 * page already written. */
static char *plain;

static void recommit(void)
{
    if (!VirtualFree(plain, TOUCH_PAGES * page, MEM_DECOMMIT) ||
        !VirtualAlloc(plain, TOUCH_PAGES * page, MEM_COMMIT, PAGE_READWRITE))
        die("decommit and commit");
}

static void nothing(void) {}

static void print_cost(const char *name, double ns, const char *unit)
{
    if (ns < 0)
        printf("  %-52s | %12s\n", name, "n/a");
    else
        printf("  %-52s | %12.1f %s\n", name, ns, unit);
}

static void bench_write_watch(void)
{
    struct watch_costs prot = measure_in_child("protect");
    struct watch_costs host = measure_watch();
    plain = VirtualAlloc(NULL, TOUCH_PAGES * page, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    double fresh = per_page_ns(plain, recommit);
    double resident = per_page_ns(plain, nothing);
    VirtualFree(plain, 0, MEM_RELEASE);

    printf("\n  %-52s | %s\n", "write watch", "cost");
    printf("  %-52s-+-%s\n", "----------------------------------------------------", "-------------");
    print_cost("write to a page already written (no watch)", resident, "ns");
    print_cost("first write to a freshly committed page (no watch)", fresh, "ns");
    print_cost("first write to a watched page: host", host.first_write, "ns");
    print_cost("first write to a watched page: protect (fallback)", prot.first_write, "ns");
    print_cost("GetWriteWatch, 1 GiB, 1% written: host", host.get_scan / 1000, "us");
    print_cost("GetWriteWatch, 1 GiB, 1% written: protect", prot.get_scan / 1000, "us");
    print_cost("  the same with WRITE_WATCH_FLAG_RESET: host", host.get_reset / 1000, "us");
    print_cost("  the same with WRITE_WATCH_FLAG_RESET: protect", prot.get_reset / 1000, "us");
}

int main(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    print_machine("except_bench: exceptions and write watch", "winmem / base");
    bench_commit_on_touch();
    bench_write_watch();
    return 0;
}
