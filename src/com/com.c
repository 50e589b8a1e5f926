/*
 * com.c — the COM task allocator (reference ../shared/reference/heap.md,
 * C1-C8): CoTaskMemAlloc, CoTaskMemRealloc, CoTaskMemFree and the process's
 * one IMalloc, all on the process heap, so the two kinds of block are one
 * kind and need no CoInitialize.  The IMalloc is a static object: AddRef
 * and Release count nothing and can never destroy it.
 */
#include "../base/base.h"

WINMEM_API const IID winmem_IID_IUnknown = { 0x00000000, 0x0000, 0x0000, { 0xC0, 0, 0, 0, 0, 0, 0, 0x46 } };
WINMEM_API const IID winmem_IID_IMalloc = { 0x00000002, 0x0000, 0x0000, { 0xC0, 0, 0, 0, 0, 0, 0, 0x46 } };

static HANDLE heap(void) { return winmem_GetProcessHeap(); }

/* A busy block of the process heap (C7), the last error kept. */
static bool owns(const void *p)
{
    DWORD saved = winmem_GetLastError();
    bool mine = winmem_HeapSize(heap(), 0, p) != (SIZE_T)-1;
    winmem_SetLastError(saved);
    return mine;
}

WINMEM_API LPVOID winmem_CoTaskMemAlloc(SIZE_T bytes)
{
    return winmem_HeapAlloc(heap(), 0, bytes);                     /* C2 */
}

WINMEM_API LPVOID winmem_CoTaskMemRealloc(LPVOID mem, SIZE_T bytes)
{
    if (!mem)
        return winmem_CoTaskMemAlloc(bytes);                        /* C3 */
    if (!bytes) {
        winmem_CoTaskMemFree(mem);
        return NULL;
    }
    return winmem_HeapReAlloc(heap(), 0, mem, bytes);               /* NULL: mem untouched */
}

WINMEM_API void winmem_CoTaskMemFree(LPVOID mem)
{
    if (mem)                                                        /* C4 */
        winmem_HeapFree(heap(), 0, mem);
}

/* ------------------------------------------------------------- IMalloc */
static HRESULT m_query(IMalloc *self, REFIID riid, void **object)
{
    if (!object)
        return E_POINTER;
    if (riid && (winmem_IsEqualGUID(riid, &winmem_IID_IUnknown) ||
                 winmem_IsEqualGUID(riid, &winmem_IID_IMalloc))) {
        *object = self;
        return S_OK;
    }
    *object = NULL;
    return E_NOINTERFACE;
}

/* The object is static: the counts are what a live singleton reports. */
static ULONG m_addref(IMalloc *self) { return 2; }
static ULONG m_release(IMalloc *self) { return 1; }
static void *m_alloc(IMalloc *self, SIZE_T bytes) { return winmem_CoTaskMemAlloc(bytes); }
static void *m_realloc(IMalloc *self, void *mem, SIZE_T bytes) { return winmem_CoTaskMemRealloc(mem, bytes); }
static void m_free(IMalloc *self, void *mem) { winmem_CoTaskMemFree(mem); }

static SIZE_T m_size(IMalloc *self, void *mem)
{
    if (!mem)
        return (SIZE_T)-1;                                          /* C6 */
    DWORD saved = winmem_GetLastError();
    SIZE_T size = winmem_HeapSize(heap(), 0, mem);
    winmem_SetLastError(saved);
    return size;
}

static int m_did_alloc(IMalloc *self, void *mem)
{
    return !mem ? -1 : owns(mem);                                   /* C7 */
}

static void m_minimize(IMalloc *self) { winmem_HeapCompact(heap(), 0); }

static const IMallocVtbl task_malloc_vtbl = {
    m_query, m_addref, m_release, m_alloc, m_realloc, m_free, m_size, m_did_alloc, m_minimize,
};
static IMalloc task_malloc = { &task_malloc_vtbl };

WINMEM_API HRESULT winmem_CoGetMalloc(DWORD context, LPMALLOC *malloc_out)
{
    if (!malloc_out)
        return E_INVALIDARG;
    if (context != MEMCTX_TASK) {
        *malloc_out = NULL;                                         /* C5 */
        return E_INVALIDARG;
    }
    *malloc_out = &task_malloc;
    return S_OK;
}
