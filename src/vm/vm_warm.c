/*
 * vm_warm.c — released memory kept warm for the heap (vm.h).
 *
 * On this class of machine a page fault costs about 10 µs and an unmap
 * flushes the TLBs of every CPU the process ran on, so a program that
 * creates and destroys heaps, or a heap whose pages empty and fill again,
 * would spend most of its time in the host if each release went straight
 * back.  The heap releases its spans here instead: to the program they are
 * released at once (out of the registry, so VirtualQuery reads MEM_FREE
 * there, and off the commit charge, as after VirtualFree), while the host
 * mapping and its touched pages are kept for the next span of the same
 * size and protection.  What is not taken again within VM_WARM_DELAY_MS is
 * unmapped at the next call that comes here (a purge delay), as is the
 * oldest span when more than VM_WARM_BYTES are kept.
 *
 * Only the heap takes memory from here: its contents are whatever the last
 * owner left, which a heap may hand out but VirtualAlloc may not.
 *
 * The address range of a kept span is invisible to the program but not
 * free at the host: placement steps over it (vm_warm_overlap), a
 * VirtualAlloc at an address inside it unmaps it first (vm_warm_evict),
 * and VirtualQuery reports it free (vm_warm_find).  All under the registry
 * lock.
 */
#include "vm.h"
#include "../os/os.h"

#define SLOTS 64

struct warm {
    uintptr_t base;
    size_t size;            /* host bytes, a granule multiple */
    size_t committed;       /* accessible from base at the host */
    DWORD protect;
    uint64_t since;         /* os_coarse_ns at release */
};

static struct warm kept[SLOTS];       /* oldest first */
static unsigned count;
static size_t kept_bytes;

/* Takes slot i off the list (its span is the caller's now). */
static void take(unsigned i)
{
    kept_bytes -= kept[i].size;
    for (unsigned j = i + 1; j < count; j++)
        kept[j - 1] = kept[j];
    count--;
}

/* Gives slot i's span back to the host. */
static void drop(unsigned i)
{
    os_unmap((void *)kept[i].base, kept[i].size);
    vm_space_released(kept[i].base);
    take(i);
}

/* Unmaps what has waited longer than the delay (everything with all). */
static void purge(bool all)
{
    if (!count)
        return;
    uint64_t now = os_coarse_ns(), delay = (uint64_t)VM_WARM_DELAY_MS * 1000000;
    while (count && (all || now - kept[0].since >= delay))
        drop(0);
}

void vm_warm_tick(void)
{
    if (count)
        purge(false);
}

void vm_warm_purge(void)
{
    vm_lock();
    purge(true);
    vm_unlock();
}

void *vm_warm_alloc(size_t size, size_t commit, DWORD protect, size_t *committed)
{
    WM_ASSERT(size % VM_GRANULARITY == 0 && commit <= size);
    vm_lock();
    purge(false);
    for (unsigned i = count; i-- > 0;) {            /* the most recent is warmest */
        struct warm w = kept[i];
        if (w.size != size || w.protect != protect)
            continue;
        size_t have = w.committed > commit ? w.committed : commit;
        if (have > w.committed &&
            os_protect((void *)(w.base + w.committed), have - w.committed, vm_host_prot(protect)))
            break;
        if (vm_adopt(w.base, size, have, protect) != 0) {
            if (have > w.committed)
                os_protect((void *)(w.base + w.committed), have - w.committed, OS_PROT_NONE);
            break;
        }
        take(i);
        vm_unlock();
        *committed = have;
        return (void *)w.base;
    }
    vm_unlock();
    return NULL;
}

BOOL vm_warm_release(void *base)
{
    size_t committed;
    vm_lock();
    struct vm_run *r = vm_run_at((uintptr_t)base);
    if (!r || r->start != (uintptr_t)base || r->alloc->base != (uintptr_t)base) {
        vm_unlock();
        return FALSE;
    }
    struct vm_alloc *a = r->alloc;
    size_t size = a->host_size;
    DWORD protect = a->protect;
    if (size > VM_WARM_BYTES / 4 || !vm_release_kept(a, &committed)) {
        DWORD err = vm_release(a);
        vm_unlock();
        return err == 0;
    }
    purge(false);
    while (count == SLOTS || (count && kept_bytes + size > VM_WARM_BYTES))
        drop(0);
    kept[count++] = (struct warm){ (uintptr_t)base, size, committed, protect, os_coarse_ns() };
    kept_bytes += size;
    vm_unlock();
    return TRUE;
}

/* ------------------------------------------------ the rest of vm asks */
bool vm_warm_overlap(uintptr_t a, size_t span, uintptr_t *low, uintptr_t *high)
{
    bool any = false;
    for (unsigned i = 0; i < count; i++) {
        uintptr_t b = kept[i].base, e = b + kept[i].size;
        if (b < a + span && a < e) {
            *low = any && *low < b ? *low : b;
            *high = any && *high > e ? *high : e;
            any = true;
        }
    }
    return any;
}

void vm_warm_evict(uintptr_t a, size_t span)
{
    for (unsigned i = count; i-- > 0;)
        if (kept[i].base < a + span && a < kept[i].base + kept[i].size)
            drop(i);
}

bool vm_warm_find(uintptr_t addr, uintptr_t *start, uintptr_t *end)
{
    for (unsigned i = 0; i < count; i++)
        if (kept[i].base <= addr && addr < kept[i].base + kept[i].size) {
            *start = kept[i].base;
            *end = kept[i].base + kept[i].size;
            return true;
        }
    return false;
}

size_t vm_warm_bytes(void)
{
    vm_lock();
    size_t n = kept_bytes;
    vm_unlock();
    return n;
}

/* For vm_validate: kept spans lie outside every allocation and apart. */
bool vm_warm_validate(const char **why)
{
    size_t bytes = 0;
    for (unsigned i = 0; i < count; i++) {
        struct vm_run *r = vm_run_from(kept[i].base);
        if (r && r->start < kept[i].base + kept[i].size)
            return *why = "a span kept warm overlaps an allocation", false;
        if (i && kept[i].since < kept[i - 1].since)
            return *why = "spans kept warm are out of age order", false;
        uintptr_t low, high;
        if (vm_warm_overlap(kept[i].base, kept[i].size, &low, &high) &&
            (low != kept[i].base || high != kept[i].base + kept[i].size))
            return *why = "spans kept warm overlap", false;
        bytes += kept[i].size;
    }
    if (bytes != kept_bytes)
        return *why = "the bytes kept warm differ from the spans", false;
    return true;
}
