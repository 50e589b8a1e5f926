/*
 * crt_debug.c — the debug heap of MSVC's debug CRT (reference R11): each
 * block a process-heap block holding a struct _CrtMemBlockHeader, four
 * guard bytes (0xFD), the data (0xCD when new, 0xDD once freed) and four
 * more guard bytes; every tracked block on one list, newest first, with
 * counts and sizes by block type; leaks and damage reported in the debug
 * CRT's words, to crt_report_file (stderr).
 *
 * A pointer is taken for a debug block only if the 48 bytes before it are a
 * busy process-heap block exactly the size the header claims and the
 * header is linked into the list (or marked as an untracked _IGNORE_BLOCK),
 * so the plain CRT functions can tell debug blocks from their own and a
 * stray pointer is refused instead of followed.
 */
#include "crt.h"
#include "../heap/heap.h"
#include "../os/os.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 4
#define CLEAN 0xCD
#define DEAD 0xDD
#define NO_MANS_LAND 0xFD
#define IGNORED ((struct _CrtMemBlockHeader *)(uintptr_t)0xFEEDC0DE0ull)   /* links of untracked blocks */

struct _CrtMemBlockHeader {
    struct _CrtMemBlockHeader *next;    /* older */
    struct _CrtMemBlockHeader *prev;    /* newer */
    const char *file;
    int line;
    int use;
    size_t size;
    int32_t request;
    unsigned char gap[GUARD];
};
_Static_assert(sizeof(struct _CrtMemBlockHeader) == 48, "MSVC's x64 header is 48 bytes");

int crt_debug_used;
FILE *crt_report_file;
void (*crt_describe_code)(const void *address, char *buf, size_t size);

static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t dbg_once = PTHREAD_ONCE_INIT;
static struct _CrtMemBlockHeader *newest;
static int32_t next_request = 1;
static long break_at = -1;
static int flags = _CRTDBG_ALLOC_MEM_DF;
static bool exit_check;
static _CrtMemState stats;
static size_t current;

static const char *const type_names[_MAX_BLOCKS] = { "Free", "Normal", "CRT", "Ignore", "Client" };

static void fork_prepare(void) { pthread_mutex_lock(&dbg_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&dbg_lock); }
static void fork_child(void) { pthread_mutex_init(&dbg_lock, NULL); }
static void init(void) { os_atfork(fork_prepare, fork_parent, fork_child); }

static void lock(void)
{
    pthread_once(&dbg_once, init);
    pthread_mutex_lock(&dbg_lock);
}

static void unlock(void) { pthread_mutex_unlock(&dbg_lock); }

/* Reports are formatted on the stack and written in one piece, without
 * stdio's buffers: a report made under the lock must not allocate (the
 * LD_PRELOAD library's malloc would come back here for the lock). */
static void report(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (crt_report_file)
        fwrite(line, 1, len, crt_report_file);
    else
        os_write_err(line, len);
}

static HANDLE heap(void) { return winmem_GetProcessHeap(); }
static unsigned char *data_of(struct _CrtMemBlockHeader *h) { return (unsigned char *)(h + 1); }
static int type_of(const struct _CrtMemBlockHeader *h) { return _BLOCK_TYPE(h->use); }

/* HeapSize of a process-heap block, or (size_t)-1; the last error kept. */
static size_t block_bytes(const void *p)
{
    DWORD saved = winmem_GetLastError();
    size_t n = heap_map_find(p) ? winmem_HeapSize(heap(), 0, p) : (size_t)-1;
    winmem_SetLastError(saved);
    return n;
}

/* The header of the debug block at p, or NULL.  Under the lock. */
static struct _CrtMemBlockHeader *header_of(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (!crt_debug_used || (a & (HEAP_ALIGN - 1)) || a < sizeof(struct _CrtMemBlockHeader) ||
        !heap_map_find(p))
        return NULL;
    struct _CrtMemBlockHeader *h = (struct _CrtMemBlockHeader *)p - 1;
    size_t bytes = block_bytes(h);
    if (bytes == (size_t)-1 || bytes < sizeof *h + GUARD || h->size != bytes - sizeof *h - GUARD)
        return NULL;
    if (h->next == IGNORED && h->prev == IGNORED)
        return h;
    /* The neighbours are read only once the heap says they are blocks: a
     * header forged in a plain block's data must not send us astray. */
    if ((h->prev && block_bytes(h->prev) == (size_t)-1) || (h->next && block_bytes(h->next) == (size_t)-1))
        return NULL;
    bool linked = h->prev ? h->prev->next == h : newest == h;
    return linked && (!h->next || h->next->prev == h) ? h : NULL;
}

static bool guards_intact(struct _CrtMemBlockHeader *h, bool *before)
{
    static const unsigned char fence[GUARD] = { NO_MANS_LAND, NO_MANS_LAND, NO_MANS_LAND, NO_MANS_LAND };
    *before = memcmp(h->gap, fence, GUARD) != 0;
    return !*before && memcmp(data_of(h) + h->size, fence, GUARD) == 0;
}

static void report_where(const struct _CrtMemBlockHeader *h)
{
    if (h->file && h->line != CRT_LINE_CALLER)
        report("Memory allocated at %s(%d).\n", h->file, h->line);
}

/* One block's damage, reported; true if it has none. */
static bool check_block(struct _CrtMemBlockHeader *h)
{
    bool before, ok = true;
    int t = type_of(h);
    if (t == _FREE_BLOCK) {
        for (size_t i = 0; i < h->size && ok; i++)
            ok = data_of(h)[i] == DEAD;
        if (!ok) {
            report("HEAP CORRUPTION DETECTED: on top of Free block at 0x%016llX.\n"
                   "CRT detected that the application wrote to a heap buffer that was freed.\n",
                   (unsigned long long)(uintptr_t)data_of(h));
            report_where(h);
        }
    }
    if (!guards_intact(h, &before)) {
        report("HEAP CORRUPTION DETECTED: %s %s block (#%ld) at 0x%016llX.\n"
               "CRT detected that the application wrote to memory %s heap buffer.\n",
               before ? "before" : "after", t < _MAX_BLOCKS ? type_names[t] : "Unknown",
               (long)h->request, (unsigned long long)(uintptr_t)data_of(h),
               before ? "before start of" : "after end of");
        report_where(h);
        ok = false;
    }
    return ok;
}

static bool check_all(void)
{
    bool ok = true;
    for (struct _CrtMemBlockHeader *h = newest; h; h = h->next)
        ok &= check_block(h);
    if (!winmem_HeapValidate(heap(), 0, NULL)) {
        report("_CrtCheckMemory: the process heap does not validate.\n");
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------ allocation */
static void link_block(struct _CrtMemBlockHeader *h)
{
    h->prev = NULL;
    h->next = newest;
    if (newest)
        newest->prev = h;
    newest = h;
}

static void unlink_block(struct _CrtMemBlockHeader *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        newest = h->next;
    if (h->next)
        h->next->prev = h->prev;
}

static void count(int t, size_t size, bool add)
{
    if (add) {
        stats.lCounts[t]++, stats.lSizes[t] += size;
        if (t != _FREE_BLOCK) {
            stats.lTotalCount += size;
            current += size;
            if (current > stats.lHighWaterCount)
                stats.lHighWaterCount = current;
        }
    } else {
        stats.lCounts[t]--, stats.lSizes[t] -= size;
        if (t != _FREE_BLOCK)
            current -= size;
    }
}

void *crt_debug_alloc(size_t size, int use, const char *file, int line, bool zero)
{
    if (size > _HEAP_MAXREQ - sizeof(struct _CrtMemBlockHeader) - GUARD) {
        errno = ENOMEM;
        return NULL;
    }
    __atomic_store_n(&crt_debug_used, 1, __ATOMIC_RELAXED);
    lock();
    if (flags & _CRTDBG_CHECK_ALWAYS_DF)
        check_all();
    bool ignore = _BLOCK_TYPE(use) == _IGNORE_BLOCK ||
                  (_BLOCK_TYPE(use) != _CRT_BLOCK && !(flags & _CRTDBG_ALLOC_MEM_DF));
    int32_t request = ignore ? 0 : next_request++;
    unlock();
    if (request && request == break_at)
        winmem_RaiseException(STATUS_BREAKPOINT, 0, 0, NULL);     /* _CrtSetBreakAlloc */
    struct _CrtMemBlockHeader *h =
        winmem_HeapAlloc(heap(), 0, sizeof *h + size + GUARD);
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    *h = (struct _CrtMemBlockHeader){ .file = file, .line = line, .size = size, .request = request,
                                      .use = ignore ? _IGNORE_BLOCK : use };
    memset(h->gap, NO_MANS_LAND, GUARD);
    memset(data_of(h), zero ? 0 : CLEAN, size);
    memset(data_of(h) + size, NO_MANS_LAND, GUARD);
    lock();
    if (ignore) {
        h->next = h->prev = IGNORED;
    } else {
        link_block(h);
        count(type_of(h), size, true);
    }
    unlock();
    return data_of(h);
}

/* Frees p if it is a debug block; false if it is not one. */
bool crt_debug_free(void *p)
{
    lock();
    struct _CrtMemBlockHeader *h = header_of(p);
    if (!h) {
        unlock();
        return false;
    }
    if (flags & _CRTDBG_CHECK_ALWAYS_DF)
        check_all();
    else
        check_block(h);
    if (type_of(h) == _FREE_BLOCK) {
        report("_free_dbg: block at 0x%016llX was freed already.\n", (unsigned long long)(uintptr_t)p);
        unlock();
        return true;
    }
    memset(data_of(h), DEAD, h->size);
    if (h->next == IGNORED) {
        unlock();
        winmem_HeapFree(heap(), 0, h);
        return true;
    }
    count(type_of(h), h->size, false);
    if (flags & _CRTDBG_DELAY_FREE_MEM_DF) {
        h->use = _FREE_BLOCK;                   /* kept, to catch writes after free */
        count(_FREE_BLOCK, h->size, true);
        unlock();
        return true;
    }
    unlink_block(h);
    unlock();
    winmem_HeapFree(heap(), 0, h);
    return true;
}

/* The size of debug block p, or (size_t)-1 if it is not one. */
size_t crt_debug_size(const void *p)
{
    lock();
    struct _CrtMemBlockHeader *h = header_of(p);
    size_t size = h && type_of(h) != _FREE_BLOCK ? h->size : (size_t)-1;
    unlock();
    return size;
}

/* Where debug block p came from (use, file, line); false if it is not one. */
static bool origin(const void *p, int *use, const char **file, int *line)
{
    lock();
    struct _CrtMemBlockHeader *h = header_of(p);
    if (h)
        *use = h->use, *file = h->file, *line = h->line;
    unlock();
    return h && _BLOCK_TYPE(*use) != _FREE_BLOCK;
}

void *crt_debug_realloc(void *p, size_t size, int use, const char *file, int line)
{
    size_t old = crt_debug_size(p);
    void *q = crt_debug_alloc(size, use, file, line, false);
    if (q) {
        memcpy(q, p, old < size ? old : size);
        crt_debug_free(p);
    }
    return q;
}

/* ------------------------------------------------------------ the calls */
WINMEM_API void *winmem__malloc_dbg(size_t size, int use, const char *file, int line)
{
    return crt_debug_alloc(size, use, file, line, false);
}

WINMEM_API void *winmem__calloc_dbg(size_t count_, size_t size, int use, const char *file, int line)
{
    if (size && count_ > _HEAP_MAXREQ / size) {
        errno = ENOMEM;
        return NULL;
    }
    return crt_debug_alloc(count_ * size, use, file, line, true);
}

WINMEM_API void *winmem__realloc_dbg(void *mem, size_t size, int use, const char *file, int line)
{
    if (!mem)
        return crt_debug_alloc(size, use, file, line, false);
    if (crt_debug_size(mem) == (size_t)-1)
        return winmem_realloc(mem, size);       /* a plain block */
    if (!size) {
        crt_debug_free(mem);
        return NULL;
    }
    return crt_debug_realloc(mem, size, use, file, line);
}

WINMEM_API void *winmem__recalloc_dbg(void *mem, size_t count_, size_t size, int use, const char *file,
                                      int line)
{
    if (size && count_ > _HEAP_MAXREQ / size) {
        errno = ENOMEM;
        return NULL;
    }
    size_t old = mem ? winmem__msize(mem) : 0, bytes = count_ * size;
    char *p = winmem__realloc_dbg(mem, bytes, use, file, line);
    if (p && old != (size_t)-1 && bytes > old)
        memset(p + old, 0, bytes - old);
    return p;
}

WINMEM_API void *winmem__expand_dbg(void *mem, size_t size, int use, const char *file, int line)
{
    (void)use, (void)file, (void)line;
    lock();
    struct _CrtMemBlockHeader *h = header_of(mem);
    void *ok = NULL;
    if (!h || type_of(h) == _FREE_BLOCK) {
        unlock();
        return h ? (errno = EINVAL, NULL) : winmem__expand(mem, size);
    }
    size_t old = h->size;
    if (size <= _HEAP_MAXREQ - sizeof *h - GUARD &&
        winmem_HeapReAlloc(heap(), HEAP_REALLOC_IN_PLACE_ONLY, h, sizeof *h + size + GUARD)) {
        if (size > old)
            memset(data_of(h) + old, CLEAN, size - old);
        memset(data_of(h) + size, NO_MANS_LAND, GUARD);
        h->size = size;
        if (h->next != IGNORED) {
            count(type_of(h), old, false);
            count(type_of(h), size, true);
        }
        ok = mem;
    } else {
        errno = ENOMEM;
    }
    unlock();
    return ok;
}

WINMEM_API void winmem__free_dbg(void *mem, int use)
{
    (void)use;
    if (mem && !crt_debug_free(mem))
        winmem_free(mem);                       /* a plain block, or refused there */
}

WINMEM_API size_t winmem__msize_dbg(void *mem, int use)
{
    (void)use;
    size_t size = mem ? crt_debug_size(mem) : (size_t)-1;
    return size != (size_t)-1 ? size : winmem__msize(mem);
}

WINMEM_API int winmem__CrtCheckMemory(void)
{
    if (!(flags & _CRTDBG_ALLOC_MEM_DF))
        return 1;
    lock();
    bool ok = check_all();
    unlock();
    return ok;
}

WINMEM_API long winmem__CrtSetBreakAlloc(long request)
{
    return __atomic_exchange_n(&break_at, request, __ATOMIC_RELAXED);
}

WINMEM_API int winmem__CrtIsValidHeapPointer(const void *mem)
{
    if (!mem)
        return 0;
    lock();
    bool ok = header_of(mem) != NULL;
    unlock();
    return ok || block_bytes(mem) != (size_t)-1;
}

WINMEM_API int winmem__CrtIsMemoryBlock(const void *mem, unsigned int size, long *request, char **file,
                                        int *line)
{
    lock();
    struct _CrtMemBlockHeader *h = header_of(mem);
    bool ok = h && type_of(h) != _FREE_BLOCK && h->size == size;
    if (ok) {
        if (request)
            *request = h->request;
        if (file)
            *file = (char *)h->file;
        if (line)
            *line = h->line;
    }
    unlock();
    return ok;
}

WINMEM_API int winmem__CrtReportBlockType(const void *mem)
{
    int use = -1, line;
    const char *file;
    return mem && origin(mem, &use, &file, &line) ? use : -1;
}

/* ------------------------------------------------------- state, leaks */
WINMEM_API void winmem__CrtMemCheckpoint(_CrtMemState *state)
{
    if (!state)
        return;
    lock();
    *state = stats;
    state->pBlockHeader = newest;
    unlock();
}

WINMEM_API int winmem__CrtMemDifference(_CrtMemState *diff, const _CrtMemState *old_state,
                                        const _CrtMemState *new_state)
{
    bool significant = false;
    if (!diff || !old_state || !new_state)
        return 0;
    for (int t = 0; t < _MAX_BLOCKS; t++) {
        diff->lSizes[t] = new_state->lSizes[t] - old_state->lSizes[t];
        diff->lCounts[t] = new_state->lCounts[t] - old_state->lCounts[t];
        if ((diff->lSizes[t] || diff->lCounts[t]) && t != _FREE_BLOCK && t != _IGNORE_BLOCK &&
            (t != _CRT_BLOCK || (flags & _CRTDBG_CHECK_CRT_DF)))
            significant = true;
    }
    diff->lHighWaterCount = new_state->lHighWaterCount - old_state->lHighWaterCount;
    diff->lTotalCount = new_state->lTotalCount - old_state->lTotalCount;
    diff->pBlockHeader = NULL;
    return significant;
}

WINMEM_API void winmem__CrtMemDumpStatistics(const _CrtMemState *state)
{
    if (!state)
        return;
    for (int t = 0; t < _MAX_BLOCKS; t++)
        report("%zd bytes in %zd %s Blocks.\n", (ssize_t)state->lSizes[t], (ssize_t)state->lCounts[t],
               type_names[t]);
    report("Largest number used: %zd bytes.\n", (ssize_t)state->lHighWaterCount);
    report("Total allocations: %zd bytes.\n", (ssize_t)state->lTotalCount);
}

static bool reported(const struct _CrtMemBlockHeader *h)
{
    int t = type_of(h);
    return t == _NORMAL_BLOCK || t == _CLIENT_BLOCK || (t == _CRT_BLOCK && (flags & _CRTDBG_CHECK_CRT_DF));
}

static void dump_block(struct _CrtMemBlockHeader *h)
{
    char text[17], hex[16 * 3 + 1];
    size_t n = h->size < 16 ? h->size : 16;
    int t = type_of(h);
    if (h->file && h->line == CRT_LINE_CALLER) {
        char where[256];
        snprintf(where, sizeof where, "0x%016llX", (unsigned long long)(uintptr_t)h->file);
        if (crt_describe_code)
            crt_describe_code(h->file, where, sizeof where);
        report("%s : ", where);
    } else if (h->file) {
        report("%s(%d) : ", h->file, h->line);
    }
    report("{%ld} ", (long)h->request);
    if (t == _CLIENT_BLOCK)
        report("client block at 0x%016llX, subtype %x, %zu bytes long.\n",
               (unsigned long long)(uintptr_t)data_of(h), _BLOCK_SUBTYPE(h->use), h->size);
    else
        report("%s block at 0x%016llX, %zu bytes long.\n", t == _CRT_BLOCK ? "crt" : "normal",
               (unsigned long long)(uintptr_t)data_of(h), h->size);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = data_of(h)[i];
        text[i] = isprint(c) ? (char)c : ' ';
        snprintf(hex + 3 * i, 4, "%.2X ", c);
    }
    text[n] = 0;
    hex[3 * n] = 0;
    report(" Data: <%s> %s\n", text, hex);
}

static void dump_since(const struct _CrtMemBlockHeader *stop)
{
    report("Dumping objects ->\n");
    for (struct _CrtMemBlockHeader *h = newest; h && h != stop; h = h->next)
        if (reported(h))
            dump_block(h);
    report("Object dump complete.\n");
}

WINMEM_API void winmem__CrtMemDumpAllObjectsSince(const _CrtMemState *state)
{
    lock();
    dump_since(state ? state->pBlockHeader : NULL);
    unlock();
}

WINMEM_API int winmem__CrtDumpMemoryLeaks(void)
{
    lock();
    bool leaks = stats.lCounts[_NORMAL_BLOCK] || stats.lCounts[_CLIENT_BLOCK] ||
                 ((flags & _CRTDBG_CHECK_CRT_DF) && stats.lCounts[_CRT_BLOCK]);
    if (leaks) {
        report("Detected memory leaks!\n");
        dump_since(NULL);
    }
    unlock();
    return leaks;
}

static void leak_check_at_exit(void)
{
    if (__atomic_load_n(&flags, __ATOMIC_RELAXED) & _CRTDBG_LEAK_CHECK_DF)
        winmem__CrtDumpMemoryLeaks();
}

WINMEM_API int winmem__CrtSetDbgFlag(int new_flags)
{
    lock();
    int old = flags;
    if (new_flags != _CRTDBG_REPORT_FLAG) {
        flags = new_flags;
        if ((new_flags & _CRTDBG_LEAK_CHECK_DF) && !exit_check) {
            exit_check = true;
            atexit(leak_check_at_exit);
        }
    }
    unlock();
    return old;
}

void crt_debug_totals(size_t *blocks, size_t *bytes)
{
    lock();
    *blocks = *bytes = 0;
    for (const struct _CrtMemBlockHeader *h = newest; h; h = h->next)
        if (reported(h))
            ++*blocks, *bytes += h->size;
    unlock();
}
