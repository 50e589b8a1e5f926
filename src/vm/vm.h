/*
 * vm.h — the virtual-memory layer: the region registry (Windows' VAD tree),
 * page states and protections, the commit charge and page locks.
 *
 * Objects
 *   struct vm_alloc   one allocation: a reservation made by VirtualAlloc, or
 *                     a view of a section (MapViewOfFile, type MEM_MAPPED,
 *                     its pages a file's, mapped shared or copy-on-write).
 *                     Its base is 64 KiB-aligned; it covers
 *                     `size` bytes (whole pages) and holds `host_size` bytes of
 *                     host address space (size rounded up to the granularity:
 *                     the tail belongs to nobody and reads as free, V3.4).
 *   struct vm_run     a run of pages of one allocation that share a state, a
 *                     protection and run flags.  The registry is a list of
 *                     runs in address order, indexed by a B+tree keyed by
 *                     each run's start (base.h): a lookup touches four or
 *                     five nodes of four cache lines each, where a binary
 *                     tree with as many runs would touch fifteen or more
 *                     scattered ones (docs/PERFORMANCE.md).
 *
 * Invariants (vm_validate checks each, one reason string per violation)
 *   R1. The index obeys the B+tree rules (bt_validate) and maps each run's
 *       start to that run and nothing else; the list's links agree both
 *       ways and its ends are first_run and last_run.
 *   R2. Runs are page-aligned, non-empty, ordered and do not overlap.
 *   R3. The runs of an allocation are contiguous and cover exactly
 *       [base, base + size); allocations do not overlap; each holds
 *       host_size = size rounded up to 64 KiB at the host.
 *   R4. Neighbouring runs of one allocation differ in state, protection or
 *       flags (equal neighbours are merged, so commit/protect churn never
 *       grows the registry, nor the host's mapping count, without bound).
 *   R5. A reserved run has protection 0 and no run flags.
 *   R6. alloc->committed and alloc->locked are the byte sums of its committed
 *       and locked runs; the process's commit charge and locked bytes are the
 *       sums over all allocations (the charge over private ones only: a
 *       view's pages are its section's, charged to no process, as
 *       Windows keeps sections out of a process's private bytes).
 *   R7. The host protection of every page equals vm_host_prot() of its run
 *       (checked against /proc/self/maps by the stress test, not here).
 *
 * Locking: one mutex serializes the registry and the host calls that mirror
 * it, so the registry and the host never disagree where another thread can
 * see it.  The heap's hot path never comes here.
 *
 * Contract for the vm_* functions below the API: the caller (vm_api.c) has
 * checked every argument, rounded addresses to pages and holds the lock where
 * noted; they return 0 or a Win32 error code and leave the registry valid and
 * unchanged on failure.
 */
#ifndef WINMEM_VM_H
#define WINMEM_VM_H

#include "../base/base.h"

#define VM_MIN_ADDRESS  ((uintptr_t)0x10000)
#define VM_MAX_ADDRESS  ((uintptr_t)0x7FFFFFFEFFFF)   /* last byte a program may use */
#define VM_GRANULARITY  ((uintptr_t)0x10000)

enum vm_state { VM_RESERVED = 1, VM_COMMITTED = 2 };

/* Run flags. */
#define VM_RUN_LOCKED 0x1u     /* VirtualLock'ed */
#define VM_RUN_RESET  0x2u     /* MEM_RESET: contents may be dropped by the host */

/* Allocation flags. */
#define VM_ALLOC_WRITE_WATCH 0x1u
#define VM_ALLOC_LARGE_PAGES 0x2u
#define VM_ALLOC_TOP_DOWN    0x4u
#define VM_ALLOC_ALIGN_LARGE 0x8u   /* placement only: on VM_LARGE_ALIGN (large views) */
#define VM_LARGE_ALIGN       ((uintptr_t)2 << 20)

struct vm_view_hooks;
struct vm_alloc {
    uintptr_t base;
    size_t size;
    size_t host_size;       /* size rounded up to the granularity: held at the host */
    DWORD protect;          /* AllocationProtect, as given at reserve time */
    DWORD type;             /* MEM_PRIVATE or MEM_MAPPED */
    unsigned flags;         /* VM_ALLOC_* */
    size_t committed;       /* bytes */
    size_t locked;          /* bytes */
    struct vm_watch *watch; /* MEM_WRITE_WATCH state, or NULL (vm_watch.c) */
    /* A view's: its section layer's record and hooks, and the most access a
     * page of it may be given (its section's protection, as the view's
     * access allows: M4.3). */
    void *view;
    const struct vm_view_hooks *hooks;
    DWORD max_protect;
    int view_fd;                /* the file and where the view starts in it */
    uint64_t view_offset;
    bool view_copy;             /* mapped copy-on-write (FILE_MAP_COPY) */
};

struct vm_run {
    struct vm_run *next, *prev;     /* neighbours in address order */
    uintptr_t start, end;
    struct vm_alloc *alloc;
    DWORD protect;          /* Win32 protection with modifiers; 0 when reserved */
    uint8_t state;          /* enum vm_state */
    uint8_t flags;          /* VM_RUN_* */
};

/* ------------------------------------------------------------- registry */
void vm_lock(void);
void vm_unlock(void);
bool vm_lock_is_mine(void);     /* the calling thread holds the registry lock */

struct vm_run *vm_run_at(uintptr_t addr);              /* the run holding addr */
struct vm_run *vm_run_after(uintptr_t addr);           /* first run starting above addr */
struct vm_run *vm_run_from(uintptr_t addr);            /* vm_run_at, else vm_run_after */
struct vm_run *vm_run_next(const struct vm_run *run);  /* NULL at the end */
struct vm_run *vm_run_prev(const struct vm_run *run);
struct vm_run *vm_run_last(void);

/* True when [start, end) lies inside one allocation (returned in *alloc). */
bool vm_range_in_alloc(uintptr_t start, uintptr_t end, struct vm_alloc **alloc);
/* Bytes of [start, end) whose run has the given state. */
size_t vm_range_bytes(uintptr_t start, uintptr_t end, enum vm_state state);
/* True when every page of [start, end) is committed (and, with locked, locked). */
bool vm_range_all(uintptr_t start, uintptr_t end, enum vm_state state, unsigned flags);

/* Changes of state; each returns 0 or a Win32 error code. */
DWORD vm_reserve(uintptr_t addr, size_t size, DWORD protect, unsigned flags,
                 DWORD commit_protect, uintptr_t *out);
DWORD vm_commit(uintptr_t start, uintptr_t end, DWORD protect);
DWORD vm_decommit(uintptr_t start, uintptr_t end);
DWORD vm_protect(uintptr_t start, uintptr_t end, DWORD protect, DWORD *old);
DWORD vm_release(struct vm_alloc *alloc);
DWORD vm_reset(uintptr_t start, uintptr_t end);
DWORD vm_reset_undo(uintptr_t start, uintptr_t end);
DWORD vm_lock_pages(uintptr_t start, uintptr_t end);
DWORD vm_unlock_pages(uintptr_t start, uintptr_t end);
void vm_trim_working_set(void);

/* ---------------------------------------------------------------- views */
/* What the section layer hears from vm about a view, under the registry
 * lock.  commit: VirtualAlloc(MEM_COMMIT) of [start, end) in a view of a
 * SEC_RESERVE section; the section records the pages as committed (every
 * view of it then shows them) and returns 0, or an error and nothing
 * changes. */
struct vm_view_hooks {
    DWORD (*commit)(void *view, uintptr_t start, uintptr_t end);
    /* Whether the section has the page at addr of the view committed (by
     * this process or another). */
    bool (*committed)(void *view, uintptr_t addr);
};
/* Maps size bytes of fd from offset as a new view at addr (64 KiB-aligned,
 * or 0 for anywhere): shared, or copy-on-write with copy; its pages
 * committed with protect, or reserved (protect is then the allocation's
 * protection only) when !committed.  max_protect bounds VirtualProtect. */
DWORD vm_map_view(uintptr_t addr, size_t size, int fd, uint64_t offset, DWORD protect,
                  DWORD max_protect, bool committed, bool copy, void *view,
                  const struct vm_view_hooks *hooks, uintptr_t *out);
/* Marks [start, end) of view a committed with protect, without the hook:
 * for the section when another view of it committed those pages. */
DWORD vm_view_commit(struct vm_alloc *a, uintptr_t start, uintptr_t end, DWORD protect);
/* Brings the reserved pages of [start, end) in view a that its section has
 * committed meanwhile (another process did) to committed. */
void vm_view_sync(struct vm_alloc *a, uintptr_t start, uintptr_t end);
/* True when protect is within what view a allows (M4.3). */
bool vm_view_allows(const struct vm_alloc *a, DWORD protect);
static inline bool vm_is_copy_on_write(DWORD protect)
{
    return (protect & 0xFF) == PAGE_WRITECOPY || (protect & 0xFF) == PAGE_EXECUTE_WRITECOPY;
}

/* VirtualQuery's answer for the page at addr (already below the maximum). */
void vm_query(uintptr_t addr, MEMORY_BASIC_INFORMATION *mbi);

/* Checks R1-R6; false with *why set at the first violation. */
bool vm_validate(const char **why);

/* Checks R7: every run's pages are mapped at the host with the protection
 * the run implies.  Reads /proc/self/maps under the lock: for tests and
 * tools, not for hot paths. */
bool vm_validate_host(const char **why);

/* Walks allocations in address order (for tools and tests), under the lock. */
void vm_for_each_alloc(void (*fn)(const struct vm_alloc *, void *), void *ctx);

/* --------------------------------------------------------------- faults */
/* What a host fault at addr means for winmem's memory.  Called by the
 * exception layer in signal context, never while this thread holds the
 * registry lock.
 *   VM_FAULT_GUARD   the page was a guard page; its guard is now cleared
 *                    (one-shot, reference V8) and the exception to raise is
 *                    STATUS_GUARD_PAGE_VIOLATION;
 *   VM_FAULT_RETRY   the page allows the access by now (another thread
 *                    committed it, changed its protection or took its
 *                    guard meanwhile): run the access again, raise nothing;
 *   VM_FAULT_RAISE   an access violation. */
enum vm_fault_verdict { VM_FAULT_RAISE, VM_FAULT_GUARD, VM_FAULT_RETRY };
enum vm_fault_verdict vm_fault_check(uintptr_t addr, int access);

/* ---------------------------------------------------------- write watch */
/* MEM_WRITE_WATCH (vm_watch.c), all under the registry lock.  attach and
 * changed follow the host calls of reserve, commit, protect and decommit;
 * get stores up to *count written page addresses of [start, end) through
 * os_try_copy (ERROR_NOACCESS when addresses is bad) and sets *count. */
DWORD vm_watch_attach(struct vm_alloc *a);
void vm_watch_detach(struct vm_alloc *a);
void vm_watch_changed(struct vm_alloc *a, uintptr_t start, uintptr_t end, bool decommitted);
enum vm_fault_verdict vm_watch_fault(struct vm_run *r, uintptr_t page, int access);
DWORD vm_watch_get(struct vm_alloc *a, uintptr_t start, uintptr_t end, bool clear,
                   PVOID *addresses, ULONG_PTR *count);
DWORD vm_watch_reset(struct vm_alloc *a, uintptr_t start, uintptr_t end);
/* True when unwritten watched pages are kept without write access at the
 * host (the fallback mechanism): R7 then allows write to be missing. */
bool vm_watch_relaxed(const struct vm_alloc *a);

/* --------------------------------------------------------- protections */
/* True when protect is a legal protection for private memory (V2.3, V2.4,
 * V2.9); with_modifiers false rejects GUARD/NOCACHE/WRITECOMBINE. */
bool vm_protect_valid(DWORD protect, bool private_memory);
int vm_host_prot(DWORD protect);

/* ------------------------------------------------------- address space */
/* Finds room for host_size bytes (a granule multiple) and maps them at the
 * host with prot; *addr in: the exact address wanted, or 0 for anywhere. */
DWORD vm_space_map(uintptr_t *addr, size_t host_size, int prot, unsigned flags);
void vm_space_released(uintptr_t base);

/* ---------------------------------------------------------- warm memory */
/* Released memory kept mapped for the heap (vm_warm.c): out of the registry
 * and the commit charge, unmapped after VM_WARM_DELAY_MS unused. */
#define VM_WARM_DELAY_MS 100u
#define VM_WARM_BYTES ((size_t)64 << 20)     /* kept at most */
/* A kept span of exactly size bytes and protect, registered as one
 * allocation committed from its base for *committed >= commit bytes (the
 * rest reserved), contents not zeroed; NULL when none is kept. */
void *vm_warm_alloc(size_t size, size_t commit, DWORD protect, size_t *committed);
/* VirtualFree(base, 0, MEM_RELEASE), keeping the host's pages when the
 * allocation is plain (vm_release_kept). */
BOOL vm_warm_release(void *base);
void vm_warm_purge(void);                   /* unmaps everything kept now */
size_t vm_warm_bytes(void);
/* Under the registry lock. */
void vm_warm_tick(void);                    /* unmaps what waited too long */
/* Whether kept spans overlap [a, a + span): the lowest base, highest end. */
bool vm_warm_overlap(uintptr_t a, size_t span, uintptr_t *low, uintptr_t *high);
void vm_warm_evict(uintptr_t a, size_t span);           /* unmaps kept spans in the way */
bool vm_warm_find(uintptr_t addr, uintptr_t *start, uintptr_t *end);
bool vm_warm_validate(const char **why);
/* The registry's side: forget a plain allocation without unmapping it
 * (false, and nothing changed, when it is not plain); register one. */
bool vm_release_kept(struct vm_alloc *a, size_t *committed);
DWORD vm_adopt(uintptr_t base, size_t size, size_t committed, DWORD protect);

/* -------------------------------------------------------- commit charge */
struct vm_counters {
    size_t commit_charge, commit_peak, commit_limit;
    size_t locked, lock_quota;
    size_t reserved;        /* host address space held by allocations */
    size_t allocations;
};
bool vm_charge_take(size_t bytes);
void vm_charge_give(size_t bytes);
void vm_counters(struct vm_counters *out);
void vm_set_lock_quota(size_t min_working_set);
size_t vm_lock_quota(void);
extern size_t vm_locked_bytes;       /* under the registry lock */
extern size_t vm_reserved_bytes;     /* under the registry lock */

size_t vm_page_size(void);

#endif
