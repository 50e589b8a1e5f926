/*
 * malloc.h — MSVC's <malloc.h> for ported sources: the host's own
 * <malloc.h>, then the C runtime heap with MSVC's rules (winmem.h) under
 * MSVC's names: malloc, calloc, realloc and free themselves (so that
 * _msize and _expand see the blocks they are given, and realloc(p, 0) frees
 * as on Windows), _msize, _expand, _recalloc, _aligned_*, _heapmin,
 * _heapchk, _heapwalk, _get_heap_handle and the small-block heap's
 * _set_sbh_threshold and _get_sbh_threshold.
 *
 * A block the host's malloc made (strdup's, say) may still be given to
 * free or realloc: winmem recognises it and hands it back to the host.
 * Define WINMEM_NO_CRT_NAMES to get only the MSVC additions' winmem_
 * names and leave malloc and the rest to the host.
 */
#ifndef WINMEM_COMPAT_MALLOC_H
#define WINMEM_COMPAT_MALLOC_H
#include_next <malloc.h>
#include <stdlib.h>
#include <winmem.h>

#ifndef WINMEM_NO_CRT_NAMES
#define malloc                          winmem_malloc
#define calloc                          winmem_calloc
#define realloc                         winmem_realloc
#define free                            winmem_free
#define _msize                          winmem__msize
#define _expand                         winmem__expand
#define _recalloc                       winmem__recalloc
#define _aligned_malloc                 winmem__aligned_malloc
#define _aligned_realloc                winmem__aligned_realloc
#define _aligned_recalloc               winmem__aligned_recalloc
#define _aligned_msize                  winmem__aligned_msize
#define _aligned_free                   winmem__aligned_free
#define _heapmin                        winmem__heapmin
#define _heapchk                        winmem__heapchk
#define _heapwalk                       winmem__heapwalk
#define _get_heap_handle                winmem__get_heap_handle
#define _set_sbh_threshold              winmem__set_sbh_threshold
#define _get_sbh_threshold              winmem__get_sbh_threshold
#define _set_invalid_parameter_handler  winmem__set_invalid_parameter_handler
#define _get_invalid_parameter_handler  winmem__get_invalid_parameter_handler
#endif
#endif
