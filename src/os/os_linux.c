/*
 * os_linux.c — the host operations on Linux (and other POSIX systems where the
 * calls exist): mmap and friends behind the replaceable table, the failure
 * injector in front of it, and the host facts the upper layers report.
 *
 * Reservations are PROT_NONE, MAP_NORESERVE mappings: address space only.
 * winmem keeps its own commit charge (vm layer), so nothing here asks the
 * host to account memory except internal metadata (OS_MAP_COMMITTED).
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_FREE
#define MADV_FREE 8
#endif

static int host_prot(int prot)
{
    return ((prot & OS_PROT_READ) ? PROT_READ : 0) |
           ((prot & OS_PROT_WRITE) ? PROT_WRITE : 0) |
           ((prot & OS_PROT_EXEC) ? PROT_EXEC : 0);
}

/* ------------------------------------------------------ host operations */
static int host_map(void **addr, size_t size, int prot, unsigned flags)
{
    int mflags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (!(flags & OS_MAP_COMMITTED))
        mflags |= MAP_NORESERVE;
    if (flags & OS_MAP_EXACT)
        mflags |= MAP_FIXED_NOREPLACE;
    if (flags & OS_MAP_HUGE)
        mflags |= MAP_HUGETLB;
    void *want = (flags & (OS_MAP_EXACT | OS_MAP_HINT)) ? *addr : NULL;
    void *p = mmap(want, size, host_prot(prot), mflags, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    if ((flags & OS_MAP_EXACT) && p != want) {
        /* A kernel older than 4.17 takes NOREPLACE as a hint. */
        munmap(p, size);
        return EEXIST;
    }
    *addr = p;
    return 0;
}

static int host_unmap(void *addr, size_t size)
{
    return munmap(addr, size) == 0 ? 0 : errno;
}

static int host_protect(void *addr, size_t size, int prot)
{
    return mprotect(addr, size, host_prot(prot)) == 0 ? 0 : errno;
}

/* One call both drops the pages and makes the range inaccessible: a fresh
 * PROT_NONE mapping over the old one.  The next commit reads zeros. */
static int host_decommit(void *addr, size_t size)
{
    void *p = mmap(addr, size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? errno : 0;
}

static bool reset_discards;   /* the host has no MADV_FREE: reset loses data */

static int host_reset(void *addr, size_t size)
{
    if (!reset_discards && madvise(addr, size, MADV_FREE) == 0)
        return 0;
    int err = errno;
    if (!reset_discards && err != EINVAL)
        return err;
    /* EINVAL: either the kernel predates MADV_FREE (4.5), or the range is one
     * it will not free (locked).  Only the first learns from DONTNEED working. */
    if (madvise(addr, size, MADV_DONTNEED) != 0)
        return errno;
    reset_discards = true;
    return 0;
}

static int host_lock(void *addr, size_t size)
{
    return mlock(addr, size) == 0 ? 0 : errno;
}

static int host_unlock(void *addr, size_t size)
{
    return munlock(addr, size) == 0 ? 0 : errno;
}

static const struct os_ops host_ops = {
    host_map, host_unmap, host_protect, host_decommit, host_reset, host_lock, host_unlock,
};
static const struct os_ops *ops = &host_ops;

const struct os_ops *os_host_ops(void) { return &host_ops; }

const struct os_ops *os_set_ops(const struct os_ops *next)
{
    const struct os_ops *prev = ops;
    ops = next ? next : &host_ops;
    return prev;
}

/* ----------------------------------------------------- failure injection */
static unsigned long inject_calls, inject_at;
static bool inject_repeat;

void os_fail_at(unsigned long n, bool repeat)
{
    __atomic_store_n(&inject_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&inject_repeat, repeat, __ATOMIC_SEQ_CST);
    __atomic_store_n(&inject_at, n, __ATOMIC_SEQ_CST);
}

unsigned long os_call_count(void)
{
    return __atomic_load_n(&inject_calls, __ATOMIC_RELAXED);
}

/* True when this call is to fail.  Counting costs one atomic add per host
 * call, which is noise next to the system call itself. */
bool os_injected(void)
{
    unsigned long n = __atomic_add_fetch(&inject_calls, 1, __ATOMIC_RELAXED);
    unsigned long at = __atomic_load_n(&inject_at, __ATOMIC_RELAXED);
    return at && (n == at || (__atomic_load_n(&inject_repeat, __ATOMIC_RELAXED) && n > at));
}

int os_map(void **addr, size_t size, int prot, unsigned flags)
{
    return os_injected() ? ENOMEM : ops->map(addr, size, prot, flags);
}
int os_unmap(void *addr, size_t size)
{
    /* Unmapping is never injected: release paths must not be able to fail
     * half-way, and the host only refuses munmap for bad arguments. */
    return ops->unmap(addr, size);
}
int os_protect(void *addr, size_t size, int prot)
{
    return os_injected() ? ENOMEM : ops->protect(addr, size, prot);
}
int os_decommit(void *addr, size_t size)
{
    return os_injected() ? ENOMEM : ops->decommit(addr, size);
}
int os_reset(void *addr, size_t size)
{
    return os_injected() ? ENOMEM : ops->reset(addr, size);
}
int os_lock(void *addr, size_t size)
{
    return os_injected() ? ENOMEM : ops->lock(addr, size);
}
int os_unlock(void *addr, size_t size)
{
    return ops->unlock(addr, size);
}

/* ------------------------------------------------------------ host facts */
size_t os_page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* Reads a small /proc file whole into buf; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

/* The value after "key:" in a /proc key-value file, times 1024 if in kB. */
static uint64_t proc_value(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == ':' || *p == ' ' || *p == '\t')
        p++;
    uint64_t v = strtoull(p, (char **)&p, 10);
    while (*p == ' ')
        p++;
    return (p[0] == 'k' && p[1] == 'B') ? v * 1024 : v;
}

size_t os_huge_page_size(void)
{
    static size_t huge = (size_t)-1;
    if (huge == (size_t)-1) {
        char buf[4096];
        huge = read_small("/proc/meminfo", buf, sizeof buf) > 0
                   ? (size_t)proc_value(buf, "\nHugepagesize") : 0;
    }
    return huge;
}

int os_meminfo(struct os_meminfo *info)
{
    char buf[8192];
    if (read_small("/proc/meminfo", buf, sizeof buf) <= 0)
        return errno ? errno : EIO;
    info->total_ram = proc_value(buf, "MemTotal");
    info->avail_ram = proc_value(buf, "\nMemAvailable");
    if (!info->avail_ram)
        info->avail_ram = proc_value(buf, "\nMemFree");
    info->total_swap = proc_value(buf, "\nSwapTotal");
    info->free_swap = proc_value(buf, "\nSwapFree");
    return 0;
}

size_t os_resident_bytes(size_t *peak)
{
    char buf[8192];
    size_t rss = 0, hwm = 0;
    if (read_small("/proc/self/status", buf, sizeof buf) > 0) {
        rss = (size_t)proc_value(buf, "\nVmRSS");
        hwm = (size_t)proc_value(buf, "\nVmHWM");
    }
    if (peak)
        *peak = hwm > rss ? hwm : rss;
    return rss;
}

unsigned long os_page_faults(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (unsigned long)(ru.ru_minflt + ru.ru_majflt);
}

bool os_page_resident(const void *page)
{
    unsigned char v = 0;
    return mincore((void *)page, os_page_size(), &v) == 0 && (v & 1);
}

unsigned os_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

void os_cpu_signature(unsigned *family, unsigned *model, unsigned *stepping)
{
    *family = *model = *stepping = 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        unsigned fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
        if (fam == 0xf)
            fam += (a >> 20) & 0xff;
        if (fam == 0x6 || fam >= 0xf)
            mod |= ((a >> 16) & 0xf) << 4;
        *family = fam;
        *model = mod;
        *stepping = a & 0xf;
    }
#endif
}

uint32_t os_process_id(void) { return (uint32_t)getpid(); }
uint32_t os_thread_id(void) { return (uint32_t)syscall(SYS_gettid); }

void os_random(void *buf, size_t n)
{
    unsigned char *out = buf;
    while (n) {
        long got = syscall(SYS_getrandom, out, n, 0);
        if (got <= 0)
            break;
        out += got;
        n -= (size_t)got;
    }
    if (!n)
        return;
    uint64_t x = os_monotonic_ns() ^ (uintptr_t)buf ^ ((uint64_t)getpid() << 32);
    for (size_t i = 0; i < n; i++) {          /* only if getrandom failed */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        out[i] = (unsigned char)x;
    }
}

uint64_t os_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t os_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void os_sleep_ms(uint32_t ms)
{
    if (ms == 0) {
        sched_yield();
        return;
    }
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *os_getenv(const char *name) { return getenv(name); }

void os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    pthread_atfork(prepare, parent, child);
}

/* Used only to put back what a failed call may have changed, so it is not
 * counted by the injector (a test would otherwise fail the repair too). */
int os_restore_protect(void *addr, size_t size, int prot)
{
    return ops->protect(addr, size, prot);
}

void os_pageout(void *addr, size_t size)
{
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
    madvise(addr, size, MADV_PAGEOUT);   /* a hint; older kernels say EINVAL */
}

bool os_all_resident(const void *addr, size_t size)
{
    unsigned char vec[256];
    size_t page = os_page_size();
    const char *p = addr, *end = p + size;
    while (p < end) {
        size_t pages = (size_t)(end - p) / page;
        if (pages > sizeof vec)
            pages = sizeof vec;
        if (mincore((void *)p, pages * page, vec) != 0)
            return false;
        for (size_t i = 0; i < pages; i++)
            if (!(vec[i] & 1))
                return false;
        p += pages * page;
    }
    return true;
}
