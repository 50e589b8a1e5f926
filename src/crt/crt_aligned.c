/*
 * crt_aligned.c — _aligned_malloc and its family (crt.h; reference R8).
 *
 * An aligned block lives inside an ordinary CRT block, with a struct
 * crt_aligned right below it.  Nothing is read below a pointer handed in
 * until the heap map and VirtualQuery have shown that memory is winmem's
 * and readable, and the header is believed only if the block it names is
 * a busy block of the process heap that holds the aligned one whole, so a
 * pointer that _aligned_malloc did not return is refused, not followed.
 */
#include "crt.h"
#include "../heap/heap.h"

#include <errno.h>
#include <string.h>

#define HEADER sizeof(struct crt_aligned)

static bool power_of_two(size_t a) { return a && !(a & (a - 1)); }

/* The header of the aligned block at p, or NULL when p is not one. */
static struct crt_aligned *header_of(void *p)
{
    MEMORY_BASIC_INFORMATION m;
    uintptr_t a = (uintptr_t)p;
    if ((a & (HEAP_ALIGN - 1)) || a < HEADER || !heap_map_find(p))
        return NULL;
    struct crt_aligned *h = (struct crt_aligned *)(a - HEADER);
    if (winmem_VirtualQuery(h, &m, sizeof m) != sizeof m || m.State != MEM_COMMIT ||
        (m.Protect & (PAGE_NOACCESS | PAGE_GUARD)) || (uintptr_t)m.BaseAddress + m.RegionSize < a)
        return NULL;
    DWORD saved = winmem_GetLastError();
    size_t capacity = h->block && heap_map_find(h->block)
                          ? winmem_HeapSize(winmem_GetProcessHeap(), 0, h->block) : (size_t)-1;
    winmem_SetLastError(saved);
    uintptr_t block = (uintptr_t)h->block;
    if (capacity == (size_t)-1 || block > (uintptr_t)h || h->size > capacity ||
        a + h->size > block + capacity)
        return NULL;
    return h;
}

WINMEM_API void *winmem__aligned_malloc(size_t size, size_t alignment)
{
    if (!power_of_two(alignment)) {
        crt_invalid_parameter();
        errno = EINVAL;
        return NULL;
    }
    if (alignment < HEAP_ALIGN)
        alignment = HEAP_ALIGN;
    if (size > _HEAP_MAXREQ - alignment) {
        errno = ENOMEM;
        return NULL;
    }
    /* The block is 16-byte aligned: size + alignment bytes hold the header
     * and an aligned start at most alignment - 16 bytes past it. */
    char *block = winmem_malloc(size + alignment);
    if (!block)
        return NULL;
    uintptr_t p = wm_align_up((uintptr_t)block + HEADER, alignment);
    struct crt_aligned *h = (struct crt_aligned *)(p - HEADER);
    h->block = block;
    h->size = size;
    return (void *)p;
}

WINMEM_API void winmem__aligned_free(void *mem)
{
    struct crt_aligned *h;
    if (mem && (h = header_of(mem)) != NULL)
        winmem_free(h->block);
}

WINMEM_API size_t winmem__aligned_msize(void *mem, size_t alignment, size_t offset)
{
    struct crt_aligned *h;
    if (!mem || !(h = header_of(mem))) {
        crt_invalid_parameter();
        errno = EINVAL;
        return (size_t)-1;
    }
    return h->size;
}

WINMEM_API void *winmem__aligned_realloc(void *mem, size_t size, size_t alignment)
{
    if (!mem)
        return winmem__aligned_malloc(size, alignment);
    struct crt_aligned *h = header_of(mem);
    if (!h || !power_of_two(alignment)) {
        crt_invalid_parameter();
        errno = EINVAL;
        return NULL;
    }
    if (!size) {
        winmem_free(h->block);
        return NULL;
    }
    void *p = winmem__aligned_malloc(size, alignment);
    if (!p)
        return NULL;                                                /* mem untouched */
    memcpy(p, mem, h->size < size ? h->size : size);
    winmem_free(h->block);
    return p;
}

WINMEM_API void *winmem__aligned_recalloc(void *mem, size_t count, size_t size, size_t alignment)
{
    if (size && count > _HEAP_MAXREQ / size) {
        errno = ENOMEM;
        return NULL;
    }
    struct crt_aligned *h = mem ? header_of(mem) : NULL;
    size_t old = h ? h->size : 0, bytes = count * size;
    char *p = winmem__aligned_realloc(mem, bytes, alignment);
    if (p && bytes > old)
        memset(p + old, 0, bytes - old);
    return p;
}
