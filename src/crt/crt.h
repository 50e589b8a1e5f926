/*
 * crt.h — the C runtime's heap as MSVC's CRT builds it (reference
 * ../shared/reference/heap.md, R1-R10): malloc and its family, MSVC's
 * additions (_msize, _expand, _recalloc, _aligned_*, _heapwalk …) and the
 * invalid-parameter handler, on the process heap as in the UCRT, so that
 * HeapSize(GetProcessHeap(), 0, p) and _msize(p) agree.
 *
 * Foreign pointers: a pointer handed to free, realloc or _msize that no
 * winmem heap owns (the heap map, heap.h, has no span for it) was not
 * allocated here; it goes to the host's allocator through crt_foreign,
 * which each library that contains this layer defines for itself:
 * libwinmem (crt_host.c) hands it to the process's own malloc, and the
 * LD_PRELOAD library, which *is* the process's malloc, ignores it.
 *
 * Aligned blocks (_aligned_*): a CRT block with room for the alignment and
 * a struct crt_aligned just below the aligned address, naming the block it
 * lives in and the size asked for, checked before it is trusted.
 */
#ifndef WINMEM_CRT_H
#define WINMEM_CRT_H

#include "../base/base.h"

#include <stdio.h>

/* What to do with memory winmem did not allocate. */
struct crt_foreign {
    void (*free)(void *p);
    void *(*realloc)(void *p, size_t size);     /* NULL: refuse (NULL, ENOMEM) */
    size_t (*size)(void *p);                    /* (size_t)-1 when unknown */
};
extern const struct crt_foreign crt_foreign;

/* free without setting errno, for POSIX's free (the LD_PRELOAD library). */
void crt_free_quiet(void *mem);

/* Calls the invalid-parameter handler (crt_param.c); returns if it does. */
void crt_invalid_parameter(void);

/* The debug heap (crt_debug.c).  crt_debug_used turns non-zero with the
 * first debug block, and only then do the plain functions ask whether a
 * pointer is one (crt_debug_free: false if not; crt_debug_size: -1). */
extern int crt_debug_used;
extern FILE *crt_report_file;          /* where reports go; NULL: stderr */
void *crt_debug_alloc(size_t size, int use, const char *file, int line, bool zero);
void *crt_debug_realloc(void *p, size_t size, int use, const char *file, int line);
bool crt_debug_free(void *p);
size_t crt_debug_size(const void *p);
/* A block whose `file` is the code address that allocated it (the
 * LD_PRELOAD library's call sites) has this line; crt_describe_code, when
 * set, names such an address for the leak dump. */
#define CRT_LINE_CALLER (-1)
extern void (*crt_describe_code)(const void *address, char *buf, size_t size);
/* The leak dump's closing count: blocks and bytes still tracked. */
void crt_debug_totals(size_t *blocks, size_t *bytes);

/* The small-block heap (crt_sbh.c), off while the threshold is 0. */
#define CRT_SBH_MAX 1016u                       /* the largest threshold */
extern int crt_sbh_active;
extern size_t crt_sbh_limit;                    /* the threshold, read without a lock */
void *crt_sbh_alloc(size_t size);               /* NULL: use the heap */
int crt_sbh_free(void *p);                      /* 1 freed, 0 not its, -1 not busy */
size_t crt_sbh_size(const void *p, bool *mine);
bool crt_sbh_resize(void *p, size_t size);
bool crt_sbh_next(const void *after, void **block, size_t *size, bool *busy);
bool crt_sbh_validate(void);

struct crt_aligned {
    void *block;                /* the CRT block the aligned one lies in */
    size_t size;                /* asked for */
};
_Static_assert(sizeof(struct crt_aligned) == 16, "the header keeps 16-byte alignment");

#endif
