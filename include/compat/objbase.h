/*
 * objbase.h — the COM task allocator as the SDK spells it: CoTaskMemAlloc,
 * CoTaskMemRealloc, CoTaskMemFree, CoGetMalloc and IMalloc (called through
 * its vtable from C: m->lpVtbl->Alloc(m, n)).  Everything is in winmem.h.
 */
#ifndef WINMEM_COMPAT_OBJBASE_H
#define WINMEM_COMPAT_OBJBASE_H
#include <windows.h>
#endif
