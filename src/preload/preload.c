/*
 * preload.c — libwinmem-malloc.so: the C allocation API of any glibc
 * program on winmem's C runtime heap (src/crt), for LD_PRELOAD.
 *
 * Exported here, under the host's names: malloc, free, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * malloc_usable_size, malloc_trim and glibc's __libc_* aliases.  C++'s
 * operator new and delete need no symbol of their own: libstdc++ builds
 * every form of them on malloc, aligned_alloc and free, so they land here.
 *
 * POSIX's rules where they differ from MSVC's: free keeps errno; the
 * aligned family answers EINVAL itself instead of calling the invalid-
 * parameter handler, and its blocks are freed by free (heap_alloc_aligned
 * hands out blocks whose start is aligned).
 *
 * Options, read once at start-up from the environment:
 *   WINMEM_DEBUG_HEAP=1  every block is a debug-heap block (guards, fills,
 *                        crt_debug.c), tagged with the address that asked
 *                        for it;
 *   WINMEM_LEAKS=1       the same, and at exit the blocks still allocated
 *                        are dumped as MSVC's leak report, each with its
 *                        call site (function and library, from dladdr);
 *   WINMEM_STATS=1       at exit, the process heap's figures.
 *
 * Start-up: the first call builds the process heap, and the host's code
 * that runs under it (pthread_atfork, for one) may call malloc again on the
 * same thread.  Those calls are served from a static bootstrap arena; its
 * blocks, like any memory no winmem heap owns (ld.so's own early blocks),
 * are never handed to the host: freeing one does nothing, and realloc
 * copies it out when its size is known (crt_foreign below).
 */
#define _GNU_SOURCE                     /* dladdr */
#include "../crt/crt.h"
#include "../heap/heap.h"
#include "../os/os.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define BOOT_BYTES ((size_t)256 << 10)

static struct heap *ready;      /* the process heap, once built */
static TLS int building;        /* this thread is building it */
static int debug_all;           /* WINMEM_DEBUG_HEAP or WINMEM_LEAKS */
static int leaks, stats;

/* ------------------------------------------------------- bootstrap arena */
struct boot_block { size_t size, unused; };
static _Alignas(64) char boot[BOOT_BYTES];
static size_t boot_used;

static bool in_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + BOOT_BYTES;
}

static void *boot_alloc(size_t size)
{
    size_t need = sizeof(struct boot_block) + wm_align_up(size, HEAP_ALIGN);
    if (size > BOOT_BYTES)
        return NULL;
    size_t at = __atomic_fetch_add(&boot_used, need, __ATOMIC_RELAXED);
    if (at + need > BOOT_BYTES)
        return NULL;
    struct boot_block *b = (struct boot_block *)(boot + at);
    b->size = size;
    return b + 1;
}

static size_t boot_size(const void *p) { return ((const struct boot_block *)p - 1)->size; }

/* ---------------------------------------------------- foreign memory */
static void foreign_free(void *p) { (void)p; }

static void *foreign_realloc(void *p, size_t size)
{
    if (!in_boot(p)) {
        errno = ENOMEM;                         /* its size is nobody's to know */
        return NULL;
    }
    void *q = winmem_malloc(size);
    if (q)
        memcpy(q, p, boot_size(p) < size ? boot_size(p) : size);
    return q;
}

static size_t foreign_size(void *p) { return in_boot(p) ? boot_size(p) : (size_t)-1; }

const struct crt_foreign crt_foreign = { foreign_free, foreign_realloc, foreign_size };

/* ------------------------------------------------------------- options */
static bool option(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* "function+0x1c (libfoo.so)" for a call site, as far as dladdr knows. */
static void describe_code(const void *address, char *buf, size_t size)
{
    Dl_info info;
    if (!dladdr(address, &info) || !info.dli_fname)
        return;
    const char *lib = strrchr(info.dli_fname, '/');
    lib = lib ? lib + 1 : info.dli_fname;
    if (info.dli_sname)
        snprintf(buf, size, "%s+0x%llx (%s)", info.dli_sname,
                 (unsigned long long)((uintptr_t)address - (uintptr_t)info.dli_saddr), lib);
    else
        snprintf(buf, size, "%s+0x%llx", lib,
                 (unsigned long long)((uintptr_t)address - (uintptr_t)info.dli_fbase));
}

/* glibc's own buffers (stdio's, for one) go back when asked, as
 * valgrind and mtrace ask; they are not the program's leaks. */
extern void __libc_freeres(void) __attribute__((weak));

/* A report line, written through os_write_err (stderr as it was at start). */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        os_write_err(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void at_exit(void)
{
    if (leaks) {
        size_t blocks, bytes;
        if (__libc_freeres)
            __libc_freeres();
        crt_debug_totals(&blocks, &bytes);
        if (winmem__CrtDumpMemoryLeaks())
            say("winmem: %zu blocks, %zu bytes still allocated at exit\n", blocks, bytes);
    }
    if (stats) {
        HEAP_SUMMARY sum = { .cb = sizeof sum };
        PROCESS_MEMORY_COUNTERS pmc;
        winmem_HeapSummary(ready, 0, &sum);
        winmem_GetProcessMemoryInfo(winmem_GetCurrentProcess(), &pmc, sizeof pmc);
        say("winmem: process heap at exit: %zu bytes allocated, %zu committed, %zu reserved;"
            " peak commit charge %zu bytes\n",
            (size_t)sum.cbAllocated, (size_t)sum.cbCommitted, (size_t)sum.cbReserved,
            (size_t)pmc.PeakPagefileUsage);
    }
}

static void read_options(void)
{
    leaks = option("WINMEM_LEAKS");
    stats = option("WINMEM_STATS");
    debug_all = leaks || option("WINMEM_DEBUG_HEAP");
    crt_describe_code = describe_code;
    if (debug_all || stats)
        os_keep_err();          /* reports at exit, even after the program closed fd 2 */
    if (leaks || stats)
        atexit(at_exit);
}

/* --------------------------------------------------------------- start */
/* False while the calling thread is building the heap: serve from boot. */
static bool heap_up(void)
{
    if (wm_likely(__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != NULL))
        return true;
    if (building)
        return false;
    building = 1;
    struct heap *h = winmem_GetProcessHeap();
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_options);
    building = 0;
    __atomic_store_n(&ready, h, __ATOMIC_RELEASE);
    return h != NULL;
}

/* ----------------------------------------------------------- the API */
/* A debug-heap block tagged with its caller (WINMEM_DEBUG_HEAP, _LEAKS). */
#define CALLER ((const char *)__builtin_return_address(0))

EXPORT void *malloc(size_t size)
{
    if (wm_unlikely(!heap_up()))
        return boot_alloc(size);
    if (wm_unlikely(debug_all))
        return crt_debug_alloc(size, _NORMAL_BLOCK, CALLER, CRT_LINE_CALLER, false);
    return winmem_malloc(size);
}

EXPORT void free(void *p)
{
    crt_free_quiet(p);                          /* POSIX: errno kept */
}

EXPORT void *calloc(size_t count, size_t size)
{
    if (wm_likely(heap_up()) && wm_unlikely(debug_all))
        return winmem__calloc_dbg(count, size, _NORMAL_BLOCK, CALLER, CRT_LINE_CALLER);
    if (wm_likely(ready))
        return winmem_calloc(count, size);
    if (size && count > BOOT_BYTES / size)
        return NULL;
    return boot_alloc(count * size);                /* static memory: zero */
}

EXPORT void *realloc(void *p, size_t size)
{
    if (wm_unlikely(!heap_up())) {
        void *q = boot_alloc(size);
        if (q && p)
            memcpy(q, p, in_boot(p) && boot_size(p) < size ? boot_size(p) : size);
        return q;
    }
    if (wm_unlikely(debug_all))
        return winmem__realloc_dbg(p, size, _NORMAL_BLOCK, CALLER, CRT_LINE_CALLER);
    return winmem_realloc(p, size);
}

EXPORT void *reallocarray(void *p, size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, count * size);
}

/* align is a power of two; 0 or ENOMEM. */
static int aligned(void **out, size_t align, size_t size)
{
    if (!heap_up()) {
        *out = align <= HEAP_ALIGN ? boot_alloc(size) : NULL;
        return *out ? 0 : ENOMEM;
    }
    if (size > _HEAP_MAXREQ || heap_alloc_aligned(ready, size, align, out) != 0) {
        *out = NULL;
        return ENOMEM;
    }
    return 0;
}

static bool power_of_two(size_t a) { return a && !(a & (a - 1)); }

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (!power_of_two(align) || align % sizeof(void *))
        return EINVAL;
    return aligned(out, align, size);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    void *p;
    int err;
    if (!power_of_two(align)) {
        errno = EINVAL;
        return NULL;
    }
    if ((err = aligned(&p, align, size)) != 0)
        errno = err;
    return p;
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (align && !power_of_two(align))
        align = (size_t)1 << (64 - __builtin_clzll(align));       /* as glibc: the next one up */
    return aligned_alloc(align ? align : 1, size);
}

EXPORT void *valloc(size_t size) { return memalign(os_page_size(), size); }

EXPORT void *pvalloc(size_t size)
{
    size_t page = os_page_size();
    if (size > (size_t)-1 - page) {
        errno = ENOMEM;
        return NULL;
    }
    return memalign(page, wm_align_up(size ? size : 1, page));
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    int saved = errno;
    DWORD last = winmem_GetLastError();
    size_t size = winmem__msize(p);
    winmem_SetLastError(last);
    errno = saved;
    return size == (size_t)-1 ? 0 : size;
}

EXPORT int malloc_trim(size_t pad)
{
    (void)pad;
    return heap_up() && winmem__heapmin() == 0;
}

/* glibc's own names for the same functions, which some programs call. */
EXPORT void *__libc_malloc(size_t size) { return malloc(size); }
EXPORT void __libc_free(void *p) { free(p); }
EXPORT void *__libc_calloc(size_t count, size_t size) { return calloc(count, size); }
EXPORT void *__libc_realloc(void *p, size_t size) { return realloc(p, size); }
EXPORT void *__libc_memalign(size_t align, size_t size) { return memalign(align, size); }
EXPORT void *__libc_valloc(size_t size) { return valloc(size); }
EXPORT void *__libc_pvalloc(size_t size) { return pvalloc(size); }
