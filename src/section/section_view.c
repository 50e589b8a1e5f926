/*
 * section_view.c — views of sections (section.h): MapViewOfFile(Ex),
 * UnmapViewOfFile and FlushViewOfFile, and what vm asks of a view
 * (VirtualAlloc committing pages of a SEC_RESERVE section).
 */
#include "section.h"
#include "../os/os.h"

static struct wm_pool view_pool = WM_POOL_INIT(struct section_view);


/* What a view asks for, decoded from FILE_MAP_* (M2). */
struct view_access { bool read, write, copy, execute; };

static bool decode_access(DWORD access, struct view_access *v)
{
    *v = (struct view_access){ 0 };
    if (access & ~(DWORD)(FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE))
        return false;
    /* FILE_MAP_COPY is SECTION_QUERY's bit, which FILE_MAP_ALL_ACCESS has
     * too: with FILE_MAP_WRITE it is a write view. */
    v->write = access & FILE_MAP_WRITE;
    v->copy = (access & FILE_MAP_COPY) && !v->write;
    v->read = (access & (FILE_MAP_READ | FILE_MAP_WRITE)) || v->copy;
    v->execute = access & FILE_MAP_EXECUTE;
    return v->read || v->execute;
}

/* M2, M11.2: the handle must grant the view's access, and the section's
 * protection must allow it. */
static bool view_permitted(const struct view_access *v, DWORD handle_access, DWORD section_protect)
{
    DWORD base = BASE_PROTECT(section_protect);
    bool writable = base == PAGE_READWRITE || base == PAGE_EXECUTE_READWRITE;
    bool executable = base >= PAGE_EXECUTE_READ;
    if (v->write && (!(handle_access & SECTION_MAP_WRITE) || !writable))
        return false;
    if (v->read && !v->write && !v->copy && !(handle_access & SECTION_MAP_READ))
        return false;
    if (v->copy && !(handle_access & (SECTION_MAP_READ | SECTION_MAP_WRITE)))
        return false;
    if (v->execute && (!(handle_access & SECTION_MAP_EXECUTE) || !executable))
        return false;
    return true;
}

/* M4.2: the protection a view's pages get. */
static DWORD view_protect(const struct view_access *v)
{
    if (v->copy)
        return v->execute ? PAGE_EXECUTE_WRITECOPY : PAGE_WRITECOPY;
    if (v->write)
        return v->execute ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
    return v->execute ? PAGE_EXECUTE_READ : PAGE_READONLY;
}

/* ------------------------------------------------------------ vm's hooks */
/* VirtualAlloc(MEM_COMMIT) in a view of a SEC_RESERVE section: the pages
 * are the section's from now on, in every view of it (M12.2).  Under the
 * registry lock. */
static DWORD view_commit(void *view, uintptr_t start, uintptr_t end)
{
    struct section_view *v = view;
    struct section *s = v->section;
    if (!(s->attributes & SEC_RESERVE))
        return 0;
    size_t page = os_page_size();
    uint64_t first = (v->offset + (start - v->base)) / page;
    uint64_t last = (v->offset + (end - v->base)) / page;
    section_commit_pages(s, first, last);
    pthread_mutex_lock(&section_lock);
    for (struct section_view *o = s->views; o; o = o->next) {
        uint64_t lo = o->offset / page, hi = (o->offset + o->size) / page;
        lo = lo > first ? lo : first;
        hi = hi < last ? hi : last;
        if (o == v || lo >= hi)
            continue;
        struct vm_run *r = vm_run_at(o->base);
        uintptr_t a = o->base + (lo * page - o->offset), b = o->base + (hi * page - o->offset);
        if (r && vm_range_bytes(a, b, VM_RESERVED))
            vm_view_commit(r->alloc, a, b, o->protect);
    }
    pthread_mutex_unlock(&section_lock);
    return 0;
}

static bool view_committed(void *view, uintptr_t addr)
{
    const struct section_view *v = view;
    return section_page_committed(v->section, (v->offset + (addr - v->base)) / os_page_size());
}

static const struct vm_view_hooks hooks = { view_commit, view_committed };

/* ------------------------------------------------------------------ map */
static LPVOID map_view(HANDLE mapping, DWORD access, uint64_t offset, SIZE_T size, uintptr_t address)
{
    DWORD handle_access;
    struct section *s = section_from_handle(mapping, &handle_access);
    if (!s)
        return NULL;                                            /* M3.3 */
    struct view_access va;
    DWORD err = 0;
    if (!decode_access(access, &va))
        err = ERROR_INVALID_PARAMETER;
    else if (!view_permitted(&va, handle_access, s->protect))
        err = ERROR_ACCESS_DENIED;                              /* M2, M11.2 */
    else if (offset % VM_GRANULARITY || address % VM_GRANULARITY)
        err = ERROR_MAPPED_ALIGNMENT;                           /* M3.1, M3.4 */
    uint64_t limit = wm_align_up(s->size, os_page_size());
    if (!err && size == 0) {
        if (offset >= limit)
            err = ERROR_INVALID_PARAMETER;                      /* M3.2 */
        else
            size = (SIZE_T)(limit - offset);                    /* to the end */
    } else if (!err && (offset > limit || size > limit - offset)) {
        err = ERROR_ACCESS_DENIED;                              /* M3.2, M13.4 */
    }
    if (!err && address && (address < VM_MIN_ADDRESS || address > VM_MAX_ADDRESS ||
                            size > VM_MAX_ADDRESS + 1 - address))
        err = ERROR_INVALID_ADDRESS;
    if (err) {
        section_release(s);
        return wm_set_error(err), NULL;
    }
    size_t bytes = wm_align_up(size, os_page_size());
    if (s->attributes & SEC_RESERVE)
        os_fault_arm();             /* pages other processes commit arrive as faults */
    vm_lock();
    pthread_mutex_lock(&section_lock);
    struct section_view *v = wm_pool_get(&view_pool);
    pthread_mutex_unlock(&section_lock);
    uintptr_t base = 0;
    DWORD protect = view_protect(&va);
    bool committed = !(s->attributes & SEC_RESERVE);
    if (!v) {
        err = ERROR_NOT_ENOUGH_MEMORY;
    } else {
        *v = (struct section_view){ s, 0, bytes, offset, protect, va.copy, NULL };
        err = vm_map_view(address, bytes, s->fd, s->data_offset + offset, protect, protect,
                          committed, va.copy, v, &hooks, &base);
    }
    if (!err) {
        v->base = base;
        pthread_mutex_lock(&section_lock);
        v->next = s->views;
        s->views = v;
        pthread_mutex_unlock(&section_lock);
        if (!committed)                         /* what the section has committed (M12.2) */
            vm_view_sync(vm_run_at(base)->alloc, base, base + bytes);
    } else if (v) {
        pthread_mutex_lock(&section_lock);
        wm_pool_put(&view_pool, v);
        pthread_mutex_unlock(&section_lock);
    }
    vm_unlock();
    if (err) {
        section_release(s);                                     /* the view would have held it */
        return wm_set_error(err), NULL;
    }
    return (LPVOID)base;
}

WINMEM_API LPVOID winmem_MapViewOfFile(HANDLE mapping, DWORD access, DWORD offset_high,
                                       DWORD offset_low, SIZE_T size)
{
    return map_view(mapping, access, (uint64_t)offset_high << 32 | offset_low, size, 0);
}

WINMEM_API LPVOID winmem_MapViewOfFileEx(HANDLE mapping, DWORD access, DWORD offset_high,
                                         DWORD offset_low, SIZE_T size, LPVOID address)
{
    return map_view(mapping, access, (uint64_t)offset_high << 32 | offset_low, size,
                    (uintptr_t)address);
}

/* The view holding addr, under the registry lock, or NULL. */
static struct vm_alloc *view_at(uintptr_t addr)
{
    if (addr > VM_MAX_ADDRESS)
        return NULL;
    struct vm_run *r = vm_run_at(wm_align_down(addr, os_page_size()));
    return r && r->alloc->view ? r->alloc : NULL;
}

WINMEM_API BOOL winmem_UnmapViewOfFile(LPCVOID address)
{
    vm_lock();
    struct vm_alloc *a = view_at((uintptr_t)address);
    struct section_view *v = a ? a->view : NULL;
    if (!v || vm_release(a) != 0) {
        vm_unlock();
        return wm_set_error(ERROR_INVALID_ADDRESS), FALSE;      /* M7.2 */
    }
    struct section *s = v->section;
    pthread_mutex_lock(&section_lock);
    for (struct section_view **link = &s->views; *link; link = &(*link)->next)
        if (*link == v) {
            *link = v->next;
            break;
        }
    wm_pool_put(&view_pool, v);
    pthread_mutex_unlock(&section_lock);
    vm_unlock();
    section_release(s);                                        /* M9.1: may be the last */
    return TRUE;
}

WINMEM_API BOOL winmem_FlushViewOfFile(LPCVOID address, SIZE_T size)
{
    uintptr_t addr = (uintptr_t)address;
    vm_lock();
    struct vm_alloc *a = view_at(addr);
    DWORD err = 0;
    uintptr_t start = 0, end = 0;
    if (!a) {
        err = ERROR_INVALID_ADDRESS;                            /* M8.2: not a view */
    } else {
        uintptr_t view_end = a->base + a->size;
        start = wm_align_down(addr, os_page_size());
        end = size ? wm_align_up(addr + size, os_page_size()) : view_end;   /* M8.1 */
        if (size > view_end - addr)
            err = ERROR_INVALID_PARAMETER;                      /* M8.2 */
        else if (!a->view_copy && os_flush_mapped((void *)start, end - start) != 0)
            err = ERROR_NOT_ENOUGH_MEMORY;
    }
    vm_unlock();
    return err ? (wm_set_error(err), FALSE) : TRUE;
}
