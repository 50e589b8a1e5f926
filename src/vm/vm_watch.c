/*
 * vm_watch.c — MEM_WRITE_WATCH: which pages of an allocation were written
 * since the watch was last reset (reference V12).
 *
 * Two ways to know, chosen once per process:
 *   host     the kernel records writes itself (os_watch_*: userfaultfd
 *            asynchronous write-protect, Linux 6.7+).  A write costs one
 *            minor fault handled inside the kernel, writes the kernel makes
 *            for the program (read() into the buffer) count, and reading the
 *            state is one PAGEMAP_SCAN per call.
 *   protect  the fallback: a watched page that may be written but has not
 *            been is mapped without write access; its first write faults,
 *            vm_watch_fault sets the page's bit and gives the access back.
 *            A write by the kernel into such a page fails with EFAULT
 *            instead (read() returns -1): the host gives no other way.
 * WINMEM_WRITE_WATCH=host or =protect forces one (tests use both).
 *
 * Both forget a page's state when it is decommitted: it reads as not
 * written until written again.  (Wine keeps the old state; Windows does
 * not document it, and no conformance check pins it.)
 *
 * Everything here runs under the registry lock.
 */
#include "vm.h"
#include "../os/os.h"

#include <errno.h>
#include <string.h>

enum watch_mode { WATCH_UNDECIDED, WATCH_HOST, WATCH_PROTECT };
static enum watch_mode mode;

struct vm_watch {
    unsigned long *written;   /* protect mode: one bit per page of the allocation */
    size_t bitmap_bytes;
};
static struct wm_pool watch_pool = WM_POOL_INIT(struct vm_watch);

#define BITS (8 * sizeof(unsigned long))

static enum watch_mode decide(void)
{
    if (mode == WATCH_UNDECIDED) {
        const char *forced = os_getenv("WINMEM_WRITE_WATCH");
        if (forced && !strcmp(forced, "protect"))
            mode = WATCH_PROTECT;
        else
            mode = os_watch_open() == 0 ? WATCH_HOST : WATCH_PROTECT;
    }
    return mode;
}

/* winmem's own extension (winmem.h): which mechanism this process uses. */
WINMEM_API const char *winmem_write_watch_mechanism(void)
{
    vm_lock();
    const char *name = decide() == WATCH_HOST ? "host" : "protect";
    vm_unlock();
    return name;
}

static size_t page_index(const struct vm_alloc *a, uintptr_t addr)
{
    return (addr - a->base) / vm_page_size();
}

static bool bit(const struct vm_watch *w, size_t i)
{
    return w->written[i / BITS] >> (i % BITS) & 1;
}

static void set_bit(struct vm_watch *w, size_t i, bool on)
{
    unsigned long m = 1ul << (i % BITS);
    w->written[i / BITS] = on ? w->written[i / BITS] | m : w->written[i / BITS] & ~m;
}

/* Protect mode: the host protection of [start, end) from the registry and
 * the written bits (unwritten pages lose write access). */
static void apply_protection(struct vm_alloc *a, uintptr_t start, uintptr_t end)
{
    size_t page = vm_page_size();
    for (struct vm_run *r = vm_run_from(start); r && r->start < end; r = vm_run_next(r)) {
        uintptr_t lo = r->start > start ? r->start : start, hi = r->end < end ? r->end : end;
        int prot = r->state == VM_COMMITTED ? vm_host_prot(r->protect) : OS_PROT_NONE;
        if (!(prot & OS_PROT_WRITE))
            continue;                        /* already as the registry says */
        while (lo < hi) {
            bool w = bit(a->watch, page_index(a, lo));
            uintptr_t run_end = lo + page;
            while (run_end < hi && bit(a->watch, page_index(a, run_end)) == w)
                run_end += page;
            os_restore_protect((void *)lo, run_end - lo, w ? prot : prot & ~OS_PROT_WRITE);
            lo = run_end;
        }
    }
}

DWORD vm_watch_attach(struct vm_alloc *a)
{
    if (!wm_pool_reserve(&watch_pool, 1))
        return ERROR_NOT_ENOUGH_MEMORY;
    struct vm_watch w = { NULL, 0 };
    if (decide() == WATCH_HOST) {
        if (os_watch_start((void *)a->base, a->size) != 0)
            return ERROR_NOT_ENOUGH_MEMORY;
    } else {
        if (os_fault_arm() != 0)            /* the first writes arrive as faults */
            return ERROR_NOT_ENOUGH_MEMORY;
        size_t pages = a->size / vm_page_size();
        w.bitmap_bytes = wm_align_up((pages + BITS - 1) / BITS * sizeof(unsigned long), vm_page_size());
        void *bits = NULL;
        if (os_map(&bits, w.bitmap_bytes, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_COMMITTED) != 0)
            return ERROR_NOT_ENOUGH_MEMORY;
        w.written = bits;
    }
    a->watch = wm_pool_get(&watch_pool);
    *a->watch = w;
    if (mode == WATCH_PROTECT)
        apply_protection(a, a->base, a->base + a->size);
    return 0;
}

void vm_watch_detach(struct vm_alloc *a)
{
    if (!a->watch)
        return;
    if (a->watch->written)
        os_unmap(a->watch->written, a->watch->bitmap_bytes);
    wm_pool_put(&watch_pool, a->watch);
    a->watch = NULL;
}

void vm_watch_changed(struct vm_alloc *a, uintptr_t start, uintptr_t end, bool decommitted)
{
    if (!a->watch)
        return;
    if (mode == WATCH_HOST) {
        /* A decommit maps the range anew, which drops its registration. */
        if (decommitted)
            os_watch_start((void *)start, end - start);
        return;
    }
    if (decommitted)
        for (uintptr_t p = start; p < end; p += vm_page_size())
            set_bit(a->watch, page_index(a, p), false);
    apply_protection(a, start, end);
}

enum vm_fault_verdict vm_watch_fault(struct vm_run *r, uintptr_t page, int access)
{
    struct vm_alloc *a = r->alloc;
    int prot = vm_host_prot(r->protect);
    if (!a->watch || mode != WATCH_PROTECT || access != OS_ACCESS_WRITE ||
        r->state != VM_COMMITTED || !(prot & OS_PROT_WRITE) || bit(a->watch, page_index(a, page)))
        return VM_FAULT_RAISE;
    set_bit(a->watch, page_index(a, page), true);
    os_restore_protect((void *)page, vm_page_size(), prot);
    return VM_FAULT_RETRY;
}

/* Protect mode: up to max written pages of [start, end), cleared with clear. */
static size_t scan_bits(struct vm_alloc *a, uintptr_t start, uintptr_t end, bool clear,
                        uintptr_t *pages, size_t max)
{
    size_t found = 0, page = vm_page_size();
    for (uintptr_t p = start; p < end && found < max; p += page) {
        size_t i = page_index(a, p);
        if (!bit(a->watch, i))
            continue;
        pages[found++] = p;
        if (clear) {
            set_bit(a->watch, i, false);
            apply_protection(a, p, p + page);
        }
    }
    return found;
}

DWORD vm_watch_get(struct vm_alloc *a, uintptr_t start, uintptr_t end, bool clear,
                   PVOID *addresses, ULONG_PTR *count)
{
    enum { CHUNK = 256 };
    uintptr_t pages[CHUNK];
    ULONG_PTR want = *count, stored = 0;
    while (stored < want && start < end) {
        size_t max = want - stored < CHUNK ? (size_t)(want - stored) : CHUNK;
        long n = mode == WATCH_HOST ? os_watch_scan((void *)start, end - start, clear, pages, max)
                                    : (long)scan_bits(a, start, end, clear, pages, max);
        if (n < 0)
            return ERROR_NOT_ENOUGH_MEMORY;
        if (n == 0)
            break;
        if (os_try_copy(addresses + stored, pages, (size_t)n * sizeof *pages) != 0)
            return ERROR_NOACCESS;
        stored += (ULONG_PTR)n;
        start = pages[n - 1] + vm_page_size();
    }
    *count = stored;
    return 0;
}

DWORD vm_watch_reset(struct vm_alloc *a, uintptr_t start, uintptr_t end)
{
    if (mode == WATCH_HOST)
        return os_watch_clear((void *)start, end - start) == 0 ? 0 : ERROR_NOT_ENOUGH_MEMORY;
    for (uintptr_t p = start; p < end; p += vm_page_size())
        set_bit(a->watch, page_index(a, p), false);
    apply_protection(a, start, end);
    return 0;
}

bool vm_watch_relaxed(const struct vm_alloc *a)
{
    return a->watch && mode == WATCH_PROTECT;
}
