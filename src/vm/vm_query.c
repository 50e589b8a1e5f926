/*
 * vm_query.c — VirtualQuery's answer for one address (reference V9).
 *
 * Pages winmem allocated are answered from the registry alone, with no system
 * call: the run holding the page, extended over following runs of the same
 * allocation with the same state and protection (runs may differ in flags
 * that VirtualQuery does not show, such as a lock).
 *
 * Elsewhere the registry knows only that winmem has nothing there; the host's
 * map says whether something else does (a library, the C heap, a stack).
 * Such memory is reported committed with the host's protection, MEM_IMAGE for
 * the mappings of a file that is mapped executable somewhere, MEM_MAPPED for
 * other files, MEM_PRIVATE otherwise; an inaccessible anonymous mapping (a
 * guard gap) is reported reserved, which is what it is.  Spans the heap
 * released but vm keeps warm (vm_warm.c) are free to the program.
 */
#include "vm.h"
#include "../os/os.h"

static DWORD win32_prot(int prot, bool copy_on_write)
{
    bool r = prot & OS_PROT_READ, w = prot & OS_PROT_WRITE, x = prot & OS_PROT_EXEC;
    if (x)
        return w ? (copy_on_write ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READWRITE)
                 : (r ? PAGE_EXECUTE_READ : PAGE_EXECUTE);
    if (w)
        return copy_on_write ? PAGE_WRITECOPY : PAGE_READWRITE;
    return r ? PAGE_READONLY : PAGE_NOACCESS;
}

/* Copy-on-write pages of a view that were written are the process's own
 * now and read PAGE_READWRITE (M6.3); the answer covers the pages from
 * page on that are alike. */
static void query_copies(uintptr_t page, uintptr_t end, MEMORY_BASIC_INFORMATION *mbi)
{
    enum { BATCH = 64 };
    size_t size = vm_page_size();
    bool copied[BATCH];
    bool first = false;
    uintptr_t at = page;
    while (at < end) {
        size_t n = (end - at) / size < BATCH ? (end - at) / size : BATCH;
        if (os_pages_copied((void *)at, n, copied) != 0)
            return;                       /* no pagemap: as mapped */
        if (at == page)
            first = copied[0];
        size_t i = 0;
        while (i < n && copied[i] == first)
            i++;
        at += i * size;
        if (i < n)
            break;
    }
    mbi->RegionSize = at - page;
    if (first)
        mbi->Protect = (mbi->Protect & ~0xFFu) |
                       ((mbi->Protect & 0xFF) == PAGE_EXECUTE_WRITECOPY ? PAGE_EXECUTE_READWRITE
                                                                         : PAGE_READWRITE);
}

static void query_own(const struct vm_run *run, uintptr_t page, MEMORY_BASIC_INFORMATION *mbi)
{
    const struct vm_alloc *a = run->alloc;
    uintptr_t end = run->end;
    for (const struct vm_run *n = vm_run_next(run);
         n && n->alloc == a && n->state == run->state && n->protect == run->protect;
         n = vm_run_next(n))
        end = n->end;
    mbi->BaseAddress = (PVOID)page;
    mbi->AllocationBase = (PVOID)a->base;
    mbi->AllocationProtect = a->protect;
    mbi->RegionSize = end - page;
    mbi->State = run->state == VM_COMMITTED ? MEM_COMMIT : MEM_RESERVE;
    mbi->Protect = run->state == VM_COMMITTED ? run->protect : 0;
    mbi->Type = a->type;
    if (a->view && run->state == VM_COMMITTED && vm_is_copy_on_write(run->protect))
        query_copies(page, end, mbi);
}

/* [page, hi) holds nothing of winmem's; lo is where the previous winmem
 * allocation's host mapping ends (its unused granule tail, if any, is free). */
static void query_foreign(uintptr_t page, uintptr_t lo, uintptr_t hi, MEMORY_BASIC_INFORMATION *mbi)
{
    mbi->BaseAddress = (PVOID)page;
    mbi->AllocationBase = NULL;
    mbi->AllocationProtect = 0;
    mbi->RegionSize = hi - page;
    mbi->State = MEM_FREE;
    mbi->Protect = PAGE_NOACCESS;
    mbi->Type = 0;

    struct os_mapping m;
    uintptr_t from = page > lo ? page : lo;
    if (!os_mapping_after(from, &m) || m.start >= hi)
        return;
    uintptr_t start = m.start > lo ? m.start : lo;
    if (start > page) {                      /* free up to the foreign mapping */
        mbi->RegionSize = start - page;
        return;
    }
    uintptr_t end = m.end < hi ? m.end : hi;
    bool reserved = !m.file && m.prot == OS_PROT_NONE;
    uintptr_t base = m.file && m.file_base >= lo ? m.file_base : start;
    DWORD prot = win32_prot(m.prot, false);
    mbi->AllocationBase = (PVOID)base;
    mbi->AllocationProtect = m.image ? PAGE_EXECUTE_WRITECOPY : (reserved ? PAGE_NOACCESS : prot);
    mbi->RegionSize = end - page;
    mbi->State = reserved ? MEM_RESERVE : MEM_COMMIT;
    mbi->Protect = reserved ? 0 : prot;
    mbi->Type = m.image ? MEM_IMAGE : (m.file || m.shared) ? MEM_MAPPED : MEM_PRIVATE;
}

void vm_query(uintptr_t addr, MEMORY_BASIC_INFORMATION *mbi)
{
    uintptr_t page = wm_align_down(addr, vm_page_size());
    mbi->PartitionId = 0;
    vm_lock();
    struct vm_run *run = vm_run_at(page);
    if (run && run->state == VM_RESERVED && run->alloc->view) {
        vm_view_sync(run->alloc, run->start, run->end);    /* what others committed (M12.2) */
        run = vm_run_at(page);
    }
    if (run) {
        query_own(run, page, mbi);
        vm_unlock();
        return;
    }
    struct vm_run *next = vm_run_after(page);
    uintptr_t hi = next ? next->start : VM_MAX_ADDRESS + 1;
    uintptr_t lo = 0;
    struct vm_run *prev = next ? vm_run_prev(next) : vm_run_last();
    if (prev && prev->end <= page)
        lo = prev->alloc->base + prev->alloc->host_size;   /* its tail is free */
    /* Spans kept warm (vm_warm.c) are free to the program; the host may
     * have merged them with a neighbour, so neither end may run into one. */
    uintptr_t from = page, kept_start, kept_end, low, high;
    if (vm_warm_find(page, &kept_start, &kept_end)) {
        from = kept_end;
        lo = kept_end > lo ? kept_end : lo;
    }
    if (from < hi && vm_warm_overlap(from, hi - from, &low, &high))
        hi = low;
    vm_unlock();
    query_foreign(page, lo, hi, mbi);
}
