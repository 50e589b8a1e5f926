/*
 * vm_fault.c — what a host fault means for winmem's memory: a guard page's
 * one-shot exception, or a race that has already been settled.
 *
 * A page that faults is inaccessible at the host.  If the registry says it
 * is a committed guard page, this thread is the first to touch it since the
 * guard was set: the guard is cleared on that page alone, before any
 * handler runs, exactly as Windows does (reference V8.2).  If the registry
 * says the page allows the access, another thread made it so between the
 * fault and this look (a commit, a protection change, a guard taken): the
 * access is simply run again.  A page whose host protection disagreed with
 * the registry (R7 broken) would fault forever that way, so a thread that
 * retries the same address too often gets its exception after all.
 */
#include "vm.h"
#include "../os/os.h"

#define RETRY_LIMIT 8
#define RETRY_WINDOW_NS 1000000     /* retries further apart are new races */

static __thread __attribute__((tls_model("initial-exec"))) struct {
    uintptr_t page;
    unsigned count;
    uint64_t last_ns;
} retries;

static bool allows(DWORD protect, int access)
{
    DWORD base = protect & 0xFFu;
    switch (access) {
    case OS_ACCESS_WRITE:
        return base & (PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE |
                       PAGE_EXECUTE_WRITECOPY);
    case OS_ACCESS_EXEC:
        return base & (PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE |
                       PAGE_EXECUTE_WRITECOPY);
    default:
        return base & ~(DWORD)(PAGE_NOACCESS | PAGE_EXECUTE);
    }
}

enum vm_fault_verdict vm_fault_check(uintptr_t addr, int access)
{
    WM_ASSERT(!vm_lock_is_mine());
    uintptr_t page = wm_align_down(addr, vm_page_size());
    enum vm_fault_verdict verdict = VM_FAULT_RAISE;
    if (addr > VM_MAX_ADDRESS)
        return verdict;
    vm_lock();
    struct vm_run *r = vm_run_at(page);
    if (r && r->state == VM_RESERVED && r->alloc->view) {
        /* A page of a view that another process committed (M12.2). */
        vm_view_sync(r->alloc, page, page + vm_page_size());
        r = vm_run_at(page);
    }
    if (r && r->state == VM_COMMITTED) {
        DWORD old;
        if ((verdict = vm_watch_fault(r, page, access)) == VM_FAULT_RETRY) {
            vm_unlock();
            return verdict;                 /* a watched page's first write */
        }
        if (r->protect & PAGE_GUARD) {
            if (vm_protect(page, page + vm_page_size(), r->protect & ~PAGE_GUARD, &old) == 0)
                verdict = VM_FAULT_GUARD;
        } else if (!(r->protect & PAGE_GUARD) && allows(r->protect, access)) {
            verdict = VM_FAULT_RETRY;
        }
    }
    vm_unlock();
    if (verdict == VM_FAULT_RETRY) {
        uint64_t now = os_monotonic_ns();
        bool again = retries.page == page && now - retries.last_ns < RETRY_WINDOW_NS;
        retries.count = again ? retries.count + 1 : 1;
        retries.page = page;
        retries.last_ns = now;
        if (retries.count > RETRY_LIMIT)
            verdict = VM_FAULT_RAISE;
    } else {
        retries.page = 0;
    }
    return verdict;
}
