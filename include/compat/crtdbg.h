/*
 * crtdbg.h — MSVC's debug heap for ported sources.  As with MSVC, the debug
 * heap is what a _DEBUG build gets: malloc, calloc, realloc, free, _msize,
 * _expand and _recalloc become their _dbg forms (recording __FILE__ and
 * __LINE__ when _CRTDBG_MAP_ALLOC is defined too), and _CrtCheckMemory,
 * _CrtDumpMemoryLeaks, _CrtSetDbgFlag and the rest do their work; without
 * _DEBUG they compile to the plain heap and to nothing, as in a release
 * build.  The functions themselves are winmem_ names in winmem.h, always
 * there to call.  Reports go to stderr.
 */
#ifndef WINMEM_COMPAT_CRTDBG_H
#define WINMEM_COMPAT_CRTDBG_H
#include <malloc.h>
#include <winmem.h>

#ifdef _DEBUG
#define _malloc_dbg                     winmem__malloc_dbg
#define _calloc_dbg                     winmem__calloc_dbg
#define _realloc_dbg                    winmem__realloc_dbg
#define _recalloc_dbg                   winmem__recalloc_dbg
#define _expand_dbg                     winmem__expand_dbg
#define _free_dbg                       winmem__free_dbg
#define _msize_dbg                      winmem__msize_dbg
#define _CrtCheckMemory                 winmem__CrtCheckMemory
#define _CrtDumpMemoryLeaks             winmem__CrtDumpMemoryLeaks
#define _CrtSetDbgFlag                  winmem__CrtSetDbgFlag
#define _CrtSetBreakAlloc               winmem__CrtSetBreakAlloc
#define _CrtMemCheckpoint               winmem__CrtMemCheckpoint
#define _CrtMemDifference               winmem__CrtMemDifference
#define _CrtMemDumpStatistics           winmem__CrtMemDumpStatistics
#define _CrtMemDumpAllObjectsSince      winmem__CrtMemDumpAllObjectsSince
#define _CrtIsValidHeapPointer          winmem__CrtIsValidHeapPointer
#define _CrtIsMemoryBlock               winmem__CrtIsMemoryBlock
#define _CrtReportBlockType             winmem__CrtReportBlockType
#ifdef _CRTDBG_MAP_ALLOC
#define WINMEM_DBG_FILE_ __FILE__
#define WINMEM_DBG_LINE_ __LINE__
#else
#define WINMEM_DBG_FILE_ NULL
#define WINMEM_DBG_LINE_ 0
#endif
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef _msize
#undef _expand
#undef _recalloc
#define malloc(s)       winmem__malloc_dbg((s), _NORMAL_BLOCK, WINMEM_DBG_FILE_, WINMEM_DBG_LINE_)
#define calloc(c, s)    winmem__calloc_dbg((c), (s), _NORMAL_BLOCK, WINMEM_DBG_FILE_, WINMEM_DBG_LINE_)
#define realloc(p, s)   winmem__realloc_dbg((p), (s), _NORMAL_BLOCK, WINMEM_DBG_FILE_, WINMEM_DBG_LINE_)
#define _recalloc(p, c, s) winmem__recalloc_dbg((p), (c), (s), _NORMAL_BLOCK, WINMEM_DBG_FILE_, WINMEM_DBG_LINE_)
#define _expand(p, s)   winmem__expand_dbg((p), (s), _NORMAL_BLOCK, WINMEM_DBG_FILE_, WINMEM_DBG_LINE_)
#define free(p)         winmem__free_dbg((p), _NORMAL_BLOCK)
#define _msize(p)       winmem__msize_dbg((p), _NORMAL_BLOCK)
#define _ASSERTE(expr)  ((expr) ? (void)0 : winmem_crt_assert_failed_(#expr, __FILE__, __LINE__))
#define _ASSERT(expr)   _ASSERTE(expr)
#else
#define _malloc_dbg(s, t, f, l)         malloc(s)
#define _calloc_dbg(c, s, t, f, l)      calloc((c), (s))
#define _realloc_dbg(p, s, t, f, l)     realloc((p), (s))
#define _recalloc_dbg(p, c, s, t, f, l) _recalloc((p), (c), (s))
#define _expand_dbg(p, s, t, f, l)      _expand((p), (s))
#define _free_dbg(p, t)                 free(p)
#define _msize_dbg(p, t)                _msize(p)
#define _CrtCheckMemory()               ((int)1)
#define _CrtDumpMemoryLeaks()           ((int)0)
#define _CrtSetDbgFlag(f)               ((int)0)
#define _CrtSetBreakAlloc(r)            ((long)0)
#define _CrtMemCheckpoint(s)            ((void)0)
#define _CrtMemDifference(d, a, b)      ((int)0)
#define _CrtMemDumpStatistics(s)        ((void)0)
#define _CrtMemDumpAllObjectsSince(s)   ((void)0)
#define _CrtIsValidHeapPointer(p)       ((int)1)
#define _CrtIsMemoryBlock(p, s, r, f, l) ((int)1)
#define _CrtReportBlockType(p)          ((int)-1)
#define _ASSERTE(expr)                  ((void)0)
#define _ASSERT(expr)                   ((void)0)
#endif

/* An _ASSERTE that failed: the report, then the end of the process. */
#include <stdio.h>
#include <stdlib.h>
static inline void winmem_crt_assert_failed_(const char *expr, const char *file, int line)
{
    fprintf(stderr, "%s(%d) : Assertion failed: %s\n", file, line, expr);
    abort();
}
#endif
