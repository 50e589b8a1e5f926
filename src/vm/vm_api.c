/*
 * vm_api.c — VirtualAlloc, VirtualFree, VirtualProtect, VirtualQuery,
 * VirtualLock and VirtualUnlock: argument checks and Windows' error codes,
 * then the registry (vm_registry.c), which trusts what it is given.
 *
 * Section numbers (V3.2 …) refer to ../shared/reference/vm.md; the checks are
 * pinned by tests/conformance/vm_*.c.
 */
#include "vm.h"
#include "../os/os.h"

#define ALLOC_TYPES (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO | MEM_TOP_DOWN | \
                     MEM_WRITE_WATCH | MEM_LARGE_PAGES | MEM_PHYSICAL)
#define BASE_PROTECTIONS 0xFFu
#define MODIFIERS (PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE)

static void *fail_ptr(DWORD code) { wm_set_error(code); return NULL; }
static BOOL fail_bool(DWORD code) { wm_set_error(code); return FALSE; }

/* V2.3, V2.4, V2.9: exactly one base protection, at most one modifier, no
 * modifier on PAGE_NOACCESS, no copy-on-write for private memory. */
bool vm_protect_valid(DWORD protect, bool private_memory)
{
    DWORD base = protect & BASE_PROTECTIONS, mods = protect & MODIFIERS;
    if (protect & ~(BASE_PROTECTIONS | MODIFIERS | PAGE_TARGETS_INVALID))
        return false;
    if (!base || (base & (base - 1)) || (mods & (mods - 1)))
        return false;
    if (mods && base == PAGE_NOACCESS)
        return false;
    if (private_memory && (base == PAGE_WRITECOPY || base == PAGE_EXECUTE_WRITECOPY))
        return false;
    return true;
}

int vm_host_prot(DWORD protect)
{
    if (protect & PAGE_GUARD)
        return OS_PROT_NONE;     /* made to fire once by the exceptions layer */
    switch (protect & BASE_PROTECTIONS) {
    case PAGE_READONLY:          return OS_PROT_READ;
    case PAGE_READWRITE:
    case PAGE_WRITECOPY:         return OS_PROT_READ | OS_PROT_WRITE;
    case PAGE_EXECUTE:           return OS_PROT_EXEC;
    case PAGE_EXECUTE_READ:      return OS_PROT_READ | OS_PROT_EXEC;
    case PAGE_EXECUTE_READWRITE:
    case PAGE_EXECUTE_WRITECOPY: return OS_PROT_READ | OS_PROT_WRITE | OS_PROT_EXEC;
    default:                     return OS_PROT_NONE;
    }
}

/* The pages touched by [addr, addr + size); a size of 0 means addr's page.
 * False when the range wraps or passes the highest user address. */
static bool page_range(uintptr_t addr, size_t size, uintptr_t *start, uintptr_t *end)
{
    size_t page = vm_page_size();
    if (addr > VM_MAX_ADDRESS || size > VM_MAX_ADDRESS + 1 - addr)
        return false;
    *start = wm_align_down(addr, page);
    *end = wm_align_up(addr + (size ? size : 1), page);
    return true;
}

/* MEM_RESET and MEM_RESET_UNDO (V6). */
static LPVOID reset_pages(uintptr_t addr, size_t size, DWORD type, DWORD protect)
{
    uintptr_t start, end;
    if (type != MEM_RESET && type != MEM_RESET_UNDO)
        return fail_ptr(ERROR_INVALID_PARAMETER);             /* V2.7 */
    if (!addr || !vm_protect_valid(protect, true) || !page_range(addr, size, &start, &end))
        return fail_ptr(ERROR_INVALID_PARAMETER);             /* V6.4 */
    vm_lock();
    DWORD err = ERROR_INVALID_ADDRESS;                         /* V6.3 */
    if (vm_range_in_alloc(start, end, NULL))
        err = type == MEM_RESET ? vm_reset(start, end) : vm_reset_undo(start, end);
    vm_unlock();
    return err ? fail_ptr(err) : (LPVOID)start;
}

static LPVOID reserve(uintptr_t addr, size_t size, DWORD type, DWORD protect)
{
    size_t page = vm_page_size();
    uintptr_t base = 0, end;
    if (addr) {                                                /* V3.2 */
        if (size > VM_MAX_ADDRESS + 1 - addr)
            return fail_ptr(ERROR_INVALID_PARAMETER);
        base = wm_align_down(addr, VM_GRANULARITY);
        end = wm_align_up(addr + size, page);
    } else {
        end = wm_align_up(size, page);                         /* V3.1 */
    }
    unsigned flags = ((type & MEM_WRITE_WATCH) ? VM_ALLOC_WRITE_WATCH : 0) |
                     ((type & MEM_LARGE_PAGES) ? VM_ALLOC_LARGE_PAGES : 0) |
                     ((type & MEM_TOP_DOWN) ? VM_ALLOC_TOP_DOWN : 0);
    DWORD commit_protect = (type & MEM_COMMIT) ? protect : 0;
    uintptr_t out = 0;
    vm_lock();
    DWORD err = vm_reserve(base, end - base, protect, flags, commit_protect, &out);
    vm_unlock();
    return err ? fail_ptr(err) : (LPVOID)out;
}

/* A guard page fires through winmem's fault handler (vm_fault.c): make sure
 * it is installed before the first guard exists. */
static void guard_needs_faults(DWORD protect)
{
    static bool armed;
    if ((protect & PAGE_GUARD) && !__atomic_load_n(&armed, __ATOMIC_ACQUIRE) &&
        os_fault_arm() == 0)
        __atomic_store_n(&armed, true, __ATOMIC_RELEASE);
}

WINMEM_API LPVOID winmem_VirtualAlloc(LPVOID address, SIZE_T size, DWORD type, DWORD protect)
{
    uintptr_t addr = (uintptr_t)address;
    if (!size || !type || (type & ~ALLOC_TYPES))
        return fail_ptr(ERROR_INVALID_PARAMETER);             /* V2.1, V2.2 */
    if (type & (MEM_RESET | MEM_RESET_UNDO))
        return reset_pages(addr, size, type, protect);
    protect &= ~PAGE_TARGETS_INVALID;     /* a control-flow-guard hint: nothing to do */
    if (!(type & (MEM_COMMIT | MEM_RESERVE)) || (type & MEM_PHYSICAL) ||
        !vm_protect_valid(protect, true))
        return fail_ptr(ERROR_INVALID_PARAMETER);             /* V2.2, V2.3, V2.4 */
    if ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE))
        return fail_ptr(ERROR_INVALID_PARAMETER);             /* V2.5 */
    if (type & MEM_LARGE_PAGES) {                              /* V2.6 */
        size_t large = winmem_GetLargePageMinimum();
        if ((type & (MEM_RESERVE | MEM_COMMIT)) != (MEM_RESERVE | MEM_COMMIT) || !large ||
            size % large || addr % large)
            return fail_ptr(ERROR_INVALID_PARAMETER);
    }
    if (addr > VM_MAX_ADDRESS || (addr && addr < VM_MIN_ADDRESS) ||
        size > VM_MAX_ADDRESS + 1 - VM_MIN_ADDRESS)
        return fail_ptr(ERROR_INVALID_PARAMETER);             /* V2.8 */
    if (type & MEM_COMMIT)
        guard_needs_faults(protect);
    if ((type & MEM_RESERVE) || !addr)
        return reserve(addr, size, type | ((type & MEM_RESERVE) ? 0 : MEM_RESERVE), protect);

    uintptr_t start, end;                                      /* V4.1 */
    if (!page_range(addr, size, &start, &end))
        return fail_ptr(ERROR_INVALID_PARAMETER);
    vm_lock();
    struct vm_alloc *a;
    DWORD err = ERROR_INVALID_ADDRESS;                         /* V4.2, V4.4 */
    if (vm_range_in_alloc(start, end, &a))
        err = a->view && !vm_view_allows(a, protect) ? ERROR_INVALID_PARAMETER   /* M12 */
                                                     : vm_commit(start, end, protect);
    vm_unlock();
    return err ? fail_ptr(err) : (LPVOID)start;
}

WINMEM_API BOOL winmem_VirtualFree(LPVOID address, SIZE_T size, DWORD type)
{
    uintptr_t addr = (uintptr_t)address, start, end;
    if (type != MEM_RELEASE && type != MEM_DECOMMIT)
        return fail_bool(ERROR_INVALID_PARAMETER);            /* V10.2 */
    if (type == MEM_RELEASE && size)
        return fail_bool(ERROR_INVALID_PARAMETER);            /* V10.1 */
    if (addr > VM_MAX_ADDRESS)
        return fail_bool(ERROR_INVALID_PARAMETER);
    vm_lock();
    struct vm_run *run = vm_run_at(wm_align_down(addr, vm_page_size()));
    struct vm_alloc *a = run ? run->alloc : NULL;
    DWORD err = 0;
    if (size == 0) {                                           /* V10.1, V10.3 */
        if (!a || a->base != addr)
            err = ERROR_INVALID_ADDRESS;
        start = addr;
        end = a ? a->base + a->size : addr;
    } else if (!page_range(addr, size, &start, &end)) {
        err = ERROR_INVALID_PARAMETER;
    } else if (!a) {
        err = ERROR_INVALID_ADDRESS;                           /* V10.5 */
    } else if (!vm_range_in_alloc(start, end, NULL)) {
        err = ERROR_INVALID_PARAMETER;                         /* V10.3 */
    }
    if (!err && a->type != MEM_PRIVATE)
        err = ERROR_INVALID_PARAMETER;                         /* V10.6 */
    if (!err)
        err = type == MEM_RELEASE ? vm_release(a) : vm_decommit(start, end);
    vm_unlock();
    return err ? fail_bool(err) : TRUE;
}

/* The caller's out-parameters are written through os_try_copy, so a bad
 * pointer gets ERROR_NOACCESS as on Windows, whose kernel probes them,
 * instead of a fault inside winmem (tests/conformance/vm_bad_pointers.c). */
static bool writable_out(void *p, size_t n) { return p && os_try_copy(p, p, n) == 0; }

WINMEM_API BOOL winmem_VirtualProtect(LPVOID address, SIZE_T size, DWORD protect, PDWORD old_out)
{
    uintptr_t start, end;
    if (!writable_out(old_out, sizeof *old_out))
        return fail_bool(ERROR_NOACCESS);                     /* V7.2 */
    protect &= ~PAGE_TARGETS_INVALID;
    if (!vm_protect_valid(protect, false) || !page_range((uintptr_t)address, size, &start, &end))
        return fail_bool(ERROR_INVALID_PARAMETER);            /* V7.3 */
    guard_needs_faults(protect);
    vm_lock();
    struct vm_alloc *a = NULL;
    DWORD err = 0, old = 0;
    if (!vm_range_in_alloc(start, end, &a) || !vm_range_all(start, end, VM_COMMITTED, 0))
        err = ERROR_INVALID_ADDRESS;                           /* V7.1, V7.5 */
    else if (a->type == MEM_PRIVATE && !vm_protect_valid(protect, true))
        err = ERROR_INVALID_PARAMETER;                         /* V7.3 */
    else if (a->view && !vm_view_allows(a, protect))
        err = ERROR_INVALID_PARAMETER;                         /* M4.3 */
    if (!err) {
        /* V7.6: a caching modifier the allocation was not made with is ignored. */
        if (!(a->protect & (PAGE_NOCACHE | PAGE_WRITECOMBINE)))
            protect &= ~(PAGE_NOCACHE | PAGE_WRITECOMBINE);
        err = vm_protect(start, end, protect, &old);
    }
    vm_unlock();
    if (!err && os_try_copy(old_out, &old, sizeof old) != 0)
        err = ERROR_NOACCESS;
    return err ? fail_bool(err) : TRUE;
}

WINMEM_API SIZE_T winmem_VirtualQuery(LPCVOID address, PMEMORY_BASIC_INFORMATION info, SIZE_T length)
{
    if (length < sizeof(MEMORY_BASIC_INFORMATION))
        return wm_set_error(ERROR_BAD_LENGTH), 0;              /* V9.1 */
    if ((uintptr_t)address > VM_MAX_ADDRESS)
        return wm_set_error(ERROR_INVALID_PARAMETER), 0;
    MEMORY_BASIC_INFORMATION mbi;
    vm_query((uintptr_t)address, &mbi);
    if (!info || os_try_copy(info, &mbi, sizeof mbi) != 0)
        return wm_set_error(ERROR_NOACCESS), 0;
    return sizeof(MEMORY_BASIC_INFORMATION);
}

WINMEM_API BOOL winmem_VirtualLock(LPVOID address, SIZE_T size)
{
    uintptr_t start, end;
    if (!page_range((uintptr_t)address, size, &start, &end))
        return fail_bool(ERROR_INVALID_PARAMETER);
    vm_lock();
    DWORD err = ERROR_ACCESS_DENIED;                           /* V11.2, Wine's code */
    if (vm_range_in_alloc(start, end, NULL) && vm_range_all(start, end, VM_COMMITTED, 0))
        err = vm_lock_pages(start, end);
    vm_unlock();
    return err ? fail_bool(err) : TRUE;
}

WINMEM_API BOOL winmem_VirtualUnlock(LPVOID address, SIZE_T size)
{
    uintptr_t start, end;
    if (!page_range((uintptr_t)address, size, &start, &end))
        return fail_bool(ERROR_INVALID_PARAMETER);
    vm_lock();
    DWORD err = ERROR_NOT_LOCKED;                              /* V11.3 */
    if (vm_range_in_alloc(start, end, NULL) &&
        vm_range_all(start, end, VM_COMMITTED, VM_RUN_LOCKED))
        err = vm_unlock_pages(start, end);
    vm_unlock();
    return err ? fail_bool(err) : TRUE;
}

/* ------------------------------------------------------------ write watch */
static UINT fail_uint(DWORD code) { wm_set_error(code); return (UINT)-1; }

/* The watched allocation holding all of [base, base + size), or NULL. */
static struct vm_alloc *watched(uintptr_t base, size_t size, uintptr_t *start, uintptr_t *end)
{
    struct vm_alloc *a;
    if (!size || !page_range(base, size, start, end) || !vm_range_in_alloc(*start, *end, &a))
        return NULL;
    return a->watch ? a : NULL;
}

WINMEM_API UINT winmem_GetWriteWatch(DWORD flags, PVOID base, SIZE_T size, PVOID *addresses,
                                    ULONG_PTR *count, LPDWORD granularity)
{
    ULONG_PTR want = 0;
    if (flags & ~WRITE_WATCH_FLAG_RESET || !size)
        return fail_uint(ERROR_INVALID_PARAMETER);            /* V12.4 */
    if (!addresses || !count || !writable_out(granularity, sizeof *granularity) ||
        os_try_copy(&want, count, sizeof want) != 0)
        return fail_uint(ERROR_NOACCESS);
    if (!want)
        return fail_uint(ERROR_INVALID_PARAMETER);
    uintptr_t start, end;
    vm_lock();
    struct vm_alloc *a = watched((uintptr_t)base, size, &start, &end);
    DWORD err = a ? vm_watch_get(a, start, end, flags & WRITE_WATCH_FLAG_RESET, addresses, &want)
                  : ERROR_INVALID_PARAMETER;                   /* V12.4 */
    vm_unlock();
    DWORD page = (DWORD)vm_page_size();
    if (!err && (os_try_copy(count, &want, sizeof want) != 0 ||
                 os_try_copy(granularity, &page, sizeof page) != 0))
        err = ERROR_NOACCESS;
    return err ? fail_uint(err) : 0;
}

WINMEM_API UINT winmem_ResetWriteWatch(LPVOID base, SIZE_T size)
{
    uintptr_t start, end;
    vm_lock();
    struct vm_alloc *a = watched((uintptr_t)base, size, &start, &end);
    DWORD err = a ? vm_watch_reset(a, start, end) : ERROR_INVALID_PARAMETER;   /* V12.4 */
    vm_unlock();
    return err ? fail_uint(err) : 0;
}
