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
 * Start-up: the first call builds the process heap, and the host's code
 * that runs under it (pthread_atfork, for one) may call malloc again on the
 * same thread.  Those calls are served from a static bootstrap arena; its
 * blocks, like any memory no winmem heap owns (ld.so's own early blocks),
 * are never handed to the host: freeing one does nothing, and realloc
 * copies it out when its size is known (crt_foreign below).
 */
#include "../crt/crt.h"
#include "../heap/heap.h"
#include "../os/os.h"

#include <errno.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define BOOT_BYTES ((size_t)256 << 10)

static struct heap *ready;      /* the process heap, once built */
static TLS int building;        /* this thread is building it */

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
    building = 0;
    __atomic_store_n(&ready, h, __ATOMIC_RELEASE);
    return h != NULL;
}

/* ----------------------------------------------------------- the API */
EXPORT void *malloc(size_t size)
{
    return wm_likely(heap_up()) ? winmem_malloc(size) : boot_alloc(size);
}

EXPORT void free(void *p)
{
    if (!p)
        return;
    int saved = errno;
    winmem_free(p);
    errno = saved;
}

EXPORT void *calloc(size_t count, size_t size)
{
    if (wm_likely(heap_up()))
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
