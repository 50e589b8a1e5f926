/*
 * vm_registry.c — the region registry: the list of page runs with its B+tree
 * index, and the state changes (reserve, commit, decommit, protect, release,
 * lock) that keep it and the host in step.
 *
 * Every change follows one order: reserve the metadata it may need, make the
 * host call, and only then touch the registry.  A failed host call thus
 * leaves the registry as it was, and the host is put back from the registry.
 */
#include "vm.h"
#include "../os/os.h"

#include <pthread.h>

static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct wm_pool run_pool = WM_POOL_INIT(struct vm_run);
static struct wm_pool alloc_pool = WM_POOL_INIT(struct vm_alloc);
static struct wm_pool index_pool = WM_POOL_INIT(struct bt_node);
static struct bt_tree run_index = BT_INIT(&index_pool);     /* start -> run */
static struct vm_run *first_run, *last_run;
size_t vm_locked_bytes, vm_reserved_bytes;

static __thread __attribute__((tls_model("initial-exec"))) bool holding;

void vm_lock(void)
{
    pthread_mutex_lock(&registry_mutex);
    holding = true;
}

bool vm_lock_is_mine(void) { return holding; }

/* At the expensive assertion level registry changes are followed by a full
 * validation before another thread can see the registry: every one while the
 * tree is small, every 1024th once it is large (validation is linear, and a
 * stress test with 10,000 reservations would otherwise become quadratic). */
void vm_unlock(void)
{
#if WINMEM_DEBUG >= 2
    static unsigned long unlocks;
    const char *why = NULL;
    if ((run_index.count <= 4096 || (++unlocks & 1023) == 0) && !vm_validate(&why))
        wm_assert_fail(why, __FILE__, __LINE__);
#endif
    holding = false;
    pthread_mutex_unlock(&registry_mutex);
}

/* fork() from a thread while another holds the registry would leave the
 * child with a lock nobody releases; hold it across the fork instead. */
static void fork_child(void)
{
    holding = false;
    pthread_mutex_init(&registry_mutex, NULL);
}
/* Registered first, so its fork preparation runs last: the heaps take
 * their locks before this one, as they do when they grow. */
__attribute__((constructor(110))) static void registry_init(void)
{
    os_atfork(vm_lock, vm_unlock, fork_child);
}

size_t vm_page_size(void) { return os_page_size(); }

/* --------------------------------------------------------------- lookups */
/* The run found last, or NULL.  One Win32 call looks up the same few runs
 * many times (checks, split, the loop over the range, merge), so a hit here
 * or on its successor saves most descents of the index.  It is only ever a
 * live run: run_remove moves it off a run it frees. */
static struct vm_run *recent;

/* True when r is the run with the greatest start <= addr. */
static inline bool last_at_or_below(const struct vm_run *r, uintptr_t addr)
{
    return r->start <= addr && (!r->next || addr < r->next->start);
}

/* The run with the greatest start <= addr, or NULL. */
static struct vm_run *run_le(uintptr_t addr)
{
    if (recent) {
        if (last_at_or_below(recent, addr))
            return recent;
        if (recent->next && last_at_or_below(recent->next, addr))
            return recent = recent->next;
    }
    struct vm_run *r = bt_find_le(&run_index, addr);
    if (r)
        recent = r;
    return r;
}

struct vm_run *vm_run_at(uintptr_t addr)
{
    struct vm_run *r = run_le(addr);
    return r && addr < r->end ? r : NULL;
}

struct vm_run *vm_run_after(uintptr_t addr)
{
    struct vm_run *r = run_le(addr);
    return r ? r->next : first_run;
}

struct vm_run *vm_run_from(uintptr_t addr)
{
    struct vm_run *r = run_le(addr);
    if (r && addr < r->end)
        return r;
    return r ? r->next : first_run;
}

struct vm_run *vm_run_next(const struct vm_run *run) { return run->next; }
struct vm_run *vm_run_prev(const struct vm_run *run) { return run->prev; }
struct vm_run *vm_run_last(void) { return last_run; }

/* Makes the next n run_insert calls unable to fail. */
static bool reserve_runs(size_t n)
{
    return wm_pool_reserve(&run_pool, n) && bt_reserve(&run_index, n);
}

/* Puts run into the registry after `after` (NULL: first). */
static void run_insert(struct vm_run *run, struct vm_run *after)
{
    bt_insert(&run_index, run->start, run);
    run->prev = after;
    run->next = after ? after->next : first_run;
    if (run->next)
        run->next->prev = run;
    else
        last_run = run;
    if (after)
        after->next = run;
    else
        first_run = run;
}

static void run_remove(struct vm_run *run)
{
    if (recent == run)
        recent = run->prev;
    bt_remove(&run_index, run->start);
    if (run->prev)
        run->prev->next = run->next;
    else
        first_run = run->next;
    if (run->next)
        run->next->prev = run->prev;
    else
        last_run = run->prev;
    wm_pool_put(&run_pool, run);
}

bool vm_range_in_alloc(uintptr_t start, uintptr_t end, struct vm_alloc **alloc)
{
    struct vm_run *r = vm_run_at(start);
    if (!r || end > r->alloc->base + r->alloc->size)
        return false;
    if (alloc)
        *alloc = r->alloc;
    return true;
}

static inline size_t overlap(const struct vm_run *r, uintptr_t start, uintptr_t end)
{
    uintptr_t lo = r->start > start ? r->start : start;
    uintptr_t hi = r->end < end ? r->end : end;
    return hi > lo ? hi - lo : 0;
}

#define FOR_RUNS_IN(r, start, end) \
    for (struct vm_run *r = vm_run_from(start); r && r->start < (end); r = vm_run_next(r))


size_t vm_range_bytes(uintptr_t start, uintptr_t end, enum vm_state state)
{
    size_t bytes = 0;
    FOR_RUNS_IN(r, start, end)
        if (r->state == state)
            bytes += overlap(r, start, end);
    return bytes;
}

static size_t range_locked_bytes(uintptr_t start, uintptr_t end)
{
    size_t bytes = 0;
    FOR_RUNS_IN(r, start, end)
        if (r->flags & VM_RUN_LOCKED)
            bytes += overlap(r, start, end);
    return bytes;
}

bool vm_range_all(uintptr_t start, uintptr_t end, enum vm_state state, unsigned flags)
{
    uintptr_t covered = start;
    FOR_RUNS_IN(r, start, end) {
        if (r->start > covered || r->state != state || (r->flags & flags) != flags)
            return false;
        covered = r->end;
    }
    return covered >= end;
}

/* ------------------------------------------------------- split and merge */
/* Makes addr a run boundary.  The pool holds a node (callers reserve two). */
static void split_at(uintptr_t addr)
{
    struct vm_run *r = vm_run_at(addr);
    if (!r || r->start == addr)
        return;
    struct vm_run *tail = wm_pool_get(&run_pool);
    WM_ASSERT(tail);
    *tail = *r;
    tail->start = addr;
    r->end = addr;
    run_insert(tail, r);
}

static bool mergeable(const struct vm_run *a, const struct vm_run *b)
{
    return a->end == b->start && a->alloc == b->alloc && a->state == b->state &&
           a->protect == b->protect && a->flags == b->flags;
}

/* Restores R4 around [start, end) after a change inside it. */
static void merge_around(uintptr_t start, uintptr_t end)
{
    struct vm_run *r = vm_run_at(start);
    if (r) {
        struct vm_run *prev = vm_run_prev(r);
        if (prev)
            r = prev;
    } else {
        r = vm_run_after(start);
    }
    while (r && r->start <= end) {
        struct vm_run *next = vm_run_next(r);
        if (next && mergeable(r, next)) {
            r->end = next->end;
            run_remove(next);
        } else {
            r = next;
        }
    }
}

/* Puts the host protection of [start, end) back as the registry records it,
 * after a host call failed part-way. */
static void restore_host(uintptr_t start, uintptr_t end)
{
    FOR_RUNS_IN(r, start, end) {
        uintptr_t lo = r->start > start ? r->start : start;
        uintptr_t hi = r->end < end ? r->end : end;
        int prot = r->state == VM_COMMITTED ? vm_host_prot(r->protect) : OS_PROT_NONE;
        os_restore_protect((void *)lo, hi - lo, prot);
    }
}

static DWORD host_error(int err)
{
    (void)err;
    return ERROR_NOT_ENOUGH_MEMORY;
}

/* --------------------------------------------------------- state changes */
/* Metadata for one new allocation, and [addr, addr + size) free when addr
 * is given (spans kept warm there are given up); 0 or the error. */
static DWORD make_room(uintptr_t addr, size_t size)
{
    if (!reserve_runs(1) || !wm_pool_reserve(&alloc_pool, 1))
        return ERROR_NOT_ENOUGH_MEMORY;
    vm_warm_tick();
    if (addr) {
        struct vm_run *next = vm_run_after(addr);
        if (vm_run_at(addr) || (next && next->start < addr + size))
            return ERROR_INVALID_ADDRESS;
        vm_warm_evict(addr, wm_align_up(size, VM_GRANULARITY));   /* free to the program */
    }
    return 0;
}

DWORD vm_reserve(uintptr_t addr, size_t size, DWORD protect, unsigned flags,
                 DWORD commit_protect, uintptr_t *out)
{
    DWORD err = make_room(addr, size);                         /* V3.3 */
    if (err)
        return err;
    if (commit_protect && !vm_charge_take(size))
        return ERROR_COMMITMENT_LIMIT;
    /* The whole granule is held at the host, so nothing else can be mapped
     * in the unused tail (V3.4); the tail stays inaccessible and reads free. */
    size_t host_size = wm_align_up(size, VM_GRANULARITY);
    int prot = commit_protect ? vm_host_prot(commit_protect) : OS_PROT_NONE;
    err = vm_space_map(&addr, host_size, host_size > size ? OS_PROT_NONE : prot, flags);
    if (!err && host_size > size && prot != OS_PROT_NONE &&
        os_protect((void *)addr, size, prot) != 0) {
        os_unmap((void *)addr, host_size);
        err = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (err) {
        if (commit_protect)
            vm_charge_give(size);
        return err;
    }
    struct vm_alloc *a = wm_pool_get(&alloc_pool);
    *a = (struct vm_alloc){ .base = addr, .size = size, .host_size = host_size,
                            .protect = protect,
                            .type = MEM_PRIVATE, .flags = flags,
                            .committed = commit_protect ? size : 0 };
    struct vm_run *r = wm_pool_get(&run_pool);
    *r = (struct vm_run){ .start = addr, .end = addr + size, .alloc = a,
                          .protect = commit_protect,
                          .state = commit_protect ? VM_COMMITTED : VM_RESERVED };
    run_insert(r, run_le(addr));
    vm_reserved_bytes += host_size;
    if ((flags & VM_ALLOC_WRITE_WATCH) && (err = vm_watch_attach(a)) != 0) {
        vm_release(a);
        return err;
    }
    *out = addr;
    return 0;
}

/* vm_commit, telling a view's section of pages newly committed or not (when
 * the section is the one that asks). */
static DWORD commit_pages(uintptr_t start, uintptr_t end, DWORD protect, bool tell_section)
{
    WM_ASSERT(start < end && vm_range_in_alloc(start, end, NULL));
    struct vm_alloc *a = vm_run_at(start)->alloc;
    size_t newly = vm_range_bytes(start, end, VM_RESERVED);
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    bool charged = a->type == MEM_PRIVATE;      /* a view's pages are its section's */
    if (newly && charged && !vm_charge_take(newly))
        return ERROR_COMMITMENT_LIMIT;
    DWORD hooked = newly && tell_section && a->hooks ? a->hooks->commit(a->view, start, end) : 0;
    if (hooked)
        return hooked;
    int err = os_protect((void *)start, end - start, vm_host_prot(protect));
    if (err) {
        if (charged)
            vm_charge_give(newly);
        restore_host(start, end);
        return host_error(err);
    }
    split_at(start);
    split_at(end);
    FOR_RUNS_IN(r, start, end) {
        r->state = VM_COMMITTED;
        r->protect = protect;
        r->flags &= (uint8_t)~VM_RUN_RESET;
    }
    a->committed += newly;
    merge_around(start, end);
    vm_watch_changed(a, start, end, false);
    return 0;
}

DWORD vm_commit(uintptr_t start, uintptr_t end, DWORD protect)
{
    return commit_pages(start, end, protect, true);
}

DWORD vm_decommit(uintptr_t start, uintptr_t end)
{
    WM_ASSERT(start < end && vm_range_in_alloc(start, end, NULL));
    struct vm_alloc *a = vm_run_at(start)->alloc;
    size_t committed = vm_range_bytes(start, end, VM_COMMITTED);
    if (!committed)
        return 0;                                              /* V10.4 */
    size_t locked = range_locked_bytes(start, end);
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    int err = os_decommit((void *)start, end - start);
    if (err)
        return host_error(err);
    split_at(start);
    split_at(end);
    FOR_RUNS_IN(r, start, end) {
        r->state = VM_RESERVED;
        r->protect = 0;
        r->flags = 0;
    }
    a->committed -= committed;
    a->locked -= locked;
    vm_locked_bytes -= locked;
    vm_charge_give(committed);
    merge_around(start, end);
    vm_watch_changed(a, start, end, true);
    return 0;
}


DWORD vm_protect(uintptr_t start, uintptr_t end, DWORD protect, DWORD *old)
{
    WM_ASSERT(start < end && vm_range_in_alloc(start, end, NULL));
    WM_ASSERT(vm_range_all(start, end, VM_COMMITTED, 0));
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    *old = vm_run_at(start)->protect;                          /* V7.4 */
    struct vm_alloc *a = vm_run_at(start)->alloc;
    int err;
    if (a->view && !a->view_copy && vm_is_copy_on_write(protect))
        /* Copy-on-write pages of a shared view: the same file pages mapped
         * privately, so that a write makes this view a copy (M6). */
        err = os_map_file((void *)start, end - start, vm_host_prot(protect), false, a->view_fd,
                          a->view_offset + (start - a->base));
    else
        err = os_protect((void *)start, end - start, vm_host_prot(protect));
    if (err) {
        restore_host(start, end);
        return host_error(err);
    }
    split_at(start);
    split_at(end);
    FOR_RUNS_IN(r, start, end)
        r->protect = protect;
    merge_around(start, end);
    vm_watch_changed(vm_run_at(start)->alloc, start, end, false);
    return 0;
}

/* Takes a out of the registry and its charges back; the host mapping is
 * the caller's to unmap or keep. */
static void forget(struct vm_alloc *a)
{
    if (a->type == MEM_PRIVATE)
        vm_charge_give(a->committed);
    vm_locked_bytes -= a->locked;
    vm_reserved_bytes -= a->host_size;
    struct vm_run *r = vm_run_at(a->base);
    while (r && r->alloc == a) {
        struct vm_run *next = vm_run_next(r);
        run_remove(r);
        r = next;
    }
    vm_watch_detach(a);
    wm_pool_put(&alloc_pool, a);
}

/* ---------------------------------------------------------------- views */
DWORD vm_map_view(uintptr_t addr, size_t size, int fd, uint64_t offset, DWORD protect,
                  DWORD max_protect, bool committed, bool copy, void *view,
                  const struct vm_view_hooks *hooks, uintptr_t *out)
{
    DWORD err = make_room(addr, size);                         /* M3.4 */
    if (err)
        return err;
    size_t host_size = wm_align_up(size, VM_GRANULARITY);
    bool large = !addr && size >= VM_LARGE_ALIGN && offset % VM_LARGE_ALIGN == 0;
    err = vm_space_map(&addr, host_size, OS_PROT_NONE, large ? VM_ALLOC_ALIGN_LARGE : 0);
    if (err)
        return err;
    int prot = committed ? vm_host_prot(protect) : OS_PROT_NONE;
    if (os_map_file((void *)addr, size, prot, !copy, fd, offset) != 0) {
        os_unmap((void *)addr, host_size);
        vm_space_released(addr);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    struct vm_alloc *a = wm_pool_get(&alloc_pool);
    *a = (struct vm_alloc){ .base = addr, .size = size, .host_size = host_size,
                            .protect = protect, .type = MEM_MAPPED,
                            .committed = committed ? size : 0, .view = view, .hooks = hooks,
                            .max_protect = max_protect, .view_fd = fd, .view_offset = offset,
                            .view_copy = copy };
    struct vm_run *r = wm_pool_get(&run_pool);
    *r = (struct vm_run){ .start = addr, .end = addr + size, .alloc = a,
                          .protect = committed ? protect : 0,
                          .state = committed ? VM_COMMITTED : VM_RESERVED };
    run_insert(r, run_le(addr));
    vm_reserved_bytes += host_size;
    *out = addr;
    return 0;
}

DWORD vm_view_commit(struct vm_alloc *a, uintptr_t start, uintptr_t end, DWORD protect)
{
    WM_ASSERT(a->view && start >= a->base && end <= a->base + a->size);
    return commit_pages(start, end, protect, false);      /* the section already knows */
}

void vm_view_sync(struct vm_alloc *a, uintptr_t start, uintptr_t end)
{
    size_t page = vm_page_size();
    if (!a->hooks || !a->hooks->committed || !vm_range_bytes(start, end, VM_RESERVED))
        return;
    for (uintptr_t p = start; p < end;) {
        if (vm_run_at(p)->state != VM_RESERVED || !a->hooks->committed(a->view, p)) {
            p += page;
            continue;
        }
        uintptr_t q = p + page;
        while (q < end && vm_run_at(q)->state == VM_RESERVED && a->hooks->committed(a->view, q))
            q += page;
        vm_view_commit(a, p, q, a->protect);
        p = q;
    }
}

/* The rights a protection grants: read, write, copy-on-write, execute. */
static unsigned rights(DWORD protect)
{
    switch (protect & 0xFF) {
    case PAGE_READONLY:          return 1;
    case PAGE_READWRITE:         return 1 | 2;
    case PAGE_WRITECOPY:         return 1 | 4;
    case PAGE_EXECUTE:           return 8;
    case PAGE_EXECUTE_READ:      return 1 | 8;
    case PAGE_EXECUTE_READWRITE: return 1 | 2 | 8;
    case PAGE_EXECUTE_WRITECOPY: return 1 | 4 | 8;
    default:                     return 0;
    }
}

bool vm_view_allows(const struct vm_alloc *a, DWORD protect)
{
    unsigned want = rights(protect), have = rights(a->max_protect);
    if (have & 2)
        have |= 4;              /* a writable view may also be made copy-on-write */
    return (want & ~have) == 0;
}

DWORD vm_release(struct vm_alloc *a)
{
    if (os_unmap((void *)a->base, a->host_size) != 0)
        return ERROR_INVALID_ADDRESS;
    uintptr_t base = a->base;
    forget(a);
    vm_space_released(base);
    vm_warm_tick();
    return 0;
}

/* A plain allocation: private, one granule multiple, no lock, no watch, no
 * flags; its pages committed from its base with its own protection up to
 * *committed, reserved after that. */
bool vm_release_kept(struct vm_alloc *a, size_t *committed)
{
    if (a->type != MEM_PRIVATE || a->flags || a->locked || a->size != a->host_size)
        return false;
    struct vm_run *r = vm_run_at(a->base), *next = r->next;
    *committed = 0;
    if (r->state == VM_COMMITTED) {
        if (r->protect != a->protect || r->flags)
            return false;
        *committed = r->end - r->start;
        r = next;
        next = r ? r->next : NULL;
    }
    if (r && r->alloc == a && (r->state != VM_RESERVED || (next && next->alloc == a)))
        return false;
    forget(a);
    return true;
}

DWORD vm_adopt(uintptr_t base, size_t size, size_t committed, DWORD protect)
{
    size_t runs = 1 + (committed && committed < size);
    if (!reserve_runs(runs) || !wm_pool_reserve(&alloc_pool, 1))
        return ERROR_NOT_ENOUGH_MEMORY;
    if (committed && !vm_charge_take(committed))
        return ERROR_COMMITMENT_LIMIT;
    struct vm_alloc *a = wm_pool_get(&alloc_pool);
    *a = (struct vm_alloc){ .base = base, .size = size, .host_size = size, .protect = protect,
                            .type = MEM_PRIVATE, .committed = committed };
    struct vm_run *after = run_le(base);
    if (committed) {
        struct vm_run *r = wm_pool_get(&run_pool);
        *r = (struct vm_run){ .start = base, .end = base + committed, .alloc = a,
                              .protect = protect, .state = VM_COMMITTED };
        run_insert(r, after);
        after = r;
    }
    if (committed < size) {
        struct vm_run *r = wm_pool_get(&run_pool);
        *r = (struct vm_run){ .start = base + committed, .end = base + size, .alloc = a,
                              .state = VM_RESERVED };
        run_insert(r, after);
    }
    vm_reserved_bytes += size;
    return 0;
}

/* Sets or clears a run flag over [start, end) on committed runs. */
static void mark_runs(uintptr_t start, uintptr_t end, uint8_t flag, bool on)
{
    split_at(start);
    split_at(end);
    FOR_RUNS_IN(r, start, end)
        if (r->state == VM_COMMITTED)
            r->flags = on ? (uint8_t)(r->flags | flag) : (uint8_t)(r->flags & ~flag);
    merge_around(start, end);
}

DWORD vm_reset(uintptr_t start, uintptr_t end)
{
    WM_ASSERT(start < end && vm_range_in_alloc(start, end, NULL));
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    FOR_RUNS_IN(r, start, end) {
        if (r->state != VM_COMMITTED || (r->flags & VM_RUN_LOCKED))
            continue;       /* locked pages stay in memory: nothing to drop */
        uintptr_t lo = r->start > start ? r->start : start;
        uintptr_t hi = r->end < end ? r->end : end;
        int err = os_reset((void *)lo, hi - lo);
        if (err)
            return host_error(err);
    }
    mark_runs(start, end, VM_RUN_RESET, true);
    return 0;
}

/* MEM_RESET_UNDO (V6.5).  The host drops reset pages only by unmapping them
 * from the page tables, so a reset page still resident kept its contents; a
 * page no longer resident may have been dropped (or was never touched), and
 * the call fails, as Windows does when it cannot vouch for the data.  Pages
 * that survive are written once (an atomic no-op) so the host no longer
 * treats them as free.  A reclaim between the check and the write is not
 * detected: the host offers no way to tell. */
DWORD vm_reset_undo(uintptr_t start, uintptr_t end)
{
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    size_t page = vm_page_size();
    FOR_RUNS_IN(r, start, end) {
        if (r->state != VM_COMMITTED || !(r->flags & VM_RUN_RESET))
            continue;
        uintptr_t lo = r->start > start ? r->start : start;
        uintptr_t hi = r->end < end ? r->end : end;
        if (!os_all_resident((void *)lo, hi - lo))
            return ERROR_INVALID_ADDRESS;
    }
    FOR_RUNS_IN(r, start, end) {
        if (r->state != VM_COMMITTED || !(r->flags & VM_RUN_RESET))
            continue;
        uintptr_t lo = r->start > start ? r->start : start;
        uintptr_t hi = r->end < end ? r->end : end;
        int prot = vm_host_prot(r->protect);
        /* Watched pages may lack write access at the host (vm_watch.c). */
        bool writable = (prot & OS_PROT_WRITE) && !vm_watch_relaxed(r->alloc);
        if (!writable && os_restore_protect((void *)lo, hi - lo, OS_PROT_READ | OS_PROT_WRITE))
            return ERROR_NOT_ENOUGH_MEMORY;
        for (uintptr_t p = lo; p < hi; p += page)
            __atomic_fetch_or((volatile unsigned char *)p, 0, __ATOMIC_RELAXED);
        if (!writable)
            os_restore_protect((void *)lo, hi - lo, prot);
        vm_watch_changed(r->alloc, lo, hi, false);
    }
    mark_runs(start, end, VM_RUN_RESET, false);
    return 0;
}

DWORD vm_lock_pages(uintptr_t start, uintptr_t end)
{
    WM_ASSERT(start < end && vm_range_in_alloc(start, end, NULL));
    struct vm_alloc *a = vm_run_at(start)->alloc;
    size_t newly = (end - start) - range_locked_bytes(start, end);
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    if (vm_locked_bytes + newly > vm_lock_quota())
        return ERROR_WORKING_SET_QUOTA;                        /* V11.4 */
    if (os_lock((void *)start, end - start) != 0)
        return ERROR_WORKING_SET_QUOTA;     /* the host's RLIMIT_MEMLOCK said no */
    mark_runs(start, end, VM_RUN_LOCKED, true);
    a->locked += newly;
    vm_locked_bytes += newly;
    return 0;
}

DWORD vm_unlock_pages(uintptr_t start, uintptr_t end)
{
    WM_ASSERT(start < end && vm_range_in_alloc(start, end, NULL));
    struct vm_alloc *a = vm_run_at(start)->alloc;
    if (!reserve_runs(2))
        return ERROR_NOT_ENOUGH_MEMORY;
    os_unlock((void *)start, end - start);
    mark_runs(start, end, VM_RUN_LOCKED, false);
    a->locked -= end - start;
    vm_locked_bytes -= end - start;
    return 0;
}

void vm_trim_working_set(void)
{
    for (struct vm_run *r = first_run; r; r = r->next) {
        if (r->state == VM_COMMITTED && !(r->flags & VM_RUN_LOCKED))
            os_pageout((void *)r->start, r->end - r->start);
    }
}

void vm_for_each_alloc(void (*fn)(const struct vm_alloc *, void *), void *ctx)
{
    for (struct vm_run *r = first_run; r; r = r->next) {
        if (r->start == r->alloc->base)
            fn(r->alloc, ctx);
    }
}

/* ------------------------------------------------------------ validation */
static bool check_alloc_done(const struct vm_alloc *a, uintptr_t covered,
                             size_t committed, size_t locked, const char **why)
{
    if (covered != a->base + a->size)
        return *why = "runs do not cover their allocation", false;
    if (committed != a->committed)
        return *why = "allocation's committed bytes differ from its runs", false;
    if (locked != a->locked)
        return *why = "allocation's locked bytes differ from its runs", false;
    return true;
}

/* R1: the index is a sound B+tree that maps each listed run's start to it,
 * and the list is linked both ways from first_run to last_run. */
static bool check_index(const char **why)
{
    if (!bt_validate(&run_index, why))
        return false;
    size_t listed = 0;
    const struct vm_run *prev = NULL;
    for (const struct vm_run *r = first_run; r; prev = r, r = r->next) {
        if (r->prev != prev)
            return *why = "run list's back link is wrong", false;
        if (bt_find_le(&run_index, r->start) != r)
            return *why = "index does not lead to a listed run", false;
        listed++;
    }
    if (prev != last_run)
        return *why = "run list does not end at its last run", false;
    if (listed != run_index.count)
        return *why = "index holds runs that are not listed", false;
    return true;
}

bool vm_validate(const char **why)
{
    if (!check_index(why))
        return false;
    size_t page = vm_page_size();
    const struct vm_run *prev = NULL;
    const struct vm_alloc *cur = NULL;
    uintptr_t covered = 0;
    size_t committed = 0, locked = 0, all_locked = 0, reserved = 0, charge = 0;
    for (const struct vm_run *r = first_run; r; r = r->next) {
        if (r->start >= r->end || (r->start | r->end) & (page - 1))
            return *why = "run is empty or not page-aligned", false;
        if (prev && r->start < prev->end)
            return *why = "runs overlap or are out of order", false;
        if (r->state == VM_RESERVED && (r->protect || r->flags))
            return *why = "reserved run has a protection or flags", false;
        if (r->state != VM_RESERVED && r->state != VM_COMMITTED)
            return *why = "run has an unknown state", false;
        if (r->alloc != cur) {
            if (cur && !check_alloc_done(cur, covered, committed, locked, why))
                return false;
            cur = r->alloc;
            if (r->start != cur->base || cur->base & (VM_GRANULARITY - 1) || !cur->size)
                return *why = "allocation does not start at an aligned base", false;
            if (cur->host_size != wm_align_up(cur->size, VM_GRANULARITY))
                return *why = "allocation does not hold its whole last granule", false;
            covered = cur->base;
            committed = locked = 0;
            reserved += cur->host_size;
            charge += cur->type == MEM_PRIVATE ? cur->committed : 0;
            all_locked += cur->locked;
        } else if (prev && mergeable(prev, r)) {
            return *why = "equal neighbouring runs were not merged", false;
        }
        if (r->start != covered)
            return *why = "hole inside an allocation", false;
        covered = r->end;
        if (r->state == VM_COMMITTED)
            committed += r->end - r->start;
        if (r->flags & VM_RUN_LOCKED)
            locked += r->end - r->start;
        prev = r;
    }
    if (cur && !check_alloc_done(cur, covered, committed, locked, why))
        return false;
    if (all_locked != vm_locked_bytes)
        return *why = "process locked bytes differ from the allocations'", false;
    if (reserved != vm_reserved_bytes)
        return *why = "process reserved bytes differ from the allocations'", false;
    if (!vm_warm_validate(why))
        return false;
    struct vm_counters c;
    vm_counters(&c);
    if (charge > c.commit_charge)
        return *why = "commit charge is below what allocations hold", false;
    *why = NULL;
    return true;
}
