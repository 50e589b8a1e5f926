/*
 * section.h — file mappings (Windows' sections): CreateFileMapping,
 * OpenFileMapping, MapViewOfFile(Ex), UnmapViewOfFile, FlushViewOfFile, and
 * the named objects that let processes share them.  Behaviour: reference
 * vm.md, part M.
 *
 * Objects
 *   struct section      one section object (a kernel object, object.h).
 *                       Its bytes live in a host file: an anonymous one
 *                       (memfd) for an unnamed page-file section, a file of
 *                       the user's namespace directory for a named one, or
 *                       the user's own file (CreateFile) for a file-backed
 *                       one.  A page-file section's file starts with a
 *                       struct section_shared header (its size, protection,
 *                       and for SEC_RESERVE a bit per page committed), its
 *                       data from header_bytes on; every view, in every
 *                       process, maps the same file, which makes views
 *                       coherent (M5) with no copying.
 *   struct section_view a view: an allocation of vm's (type MEM_MAPPED)
 *                       whose `view` points here; it holds a reference on
 *                       its section, so a section outlives its handles
 *                       while it is mapped (M9.1).
 *
 * Names (M10, M14)
 *   The namespace of one user is a directory only that user may enter,
 *   /dev/shm/winmem-UID (or $XDG_RUNTIME_DIR/winmem, or /tmp/winmem-UID);
 *   an object named N is the file "L.N" there ("G.N" under Global\), N
 *   escaped to file-name characters.  Every process with a handle to a named
 *   object holds a shared flock on its file; the last handle's close drops
 *   it and removes the name when no other process holds one.  A process
 *   killed with handles open loses its lock with its descriptors, so a
 *   name nobody holds a lock on is stale: the next create or open removes
 *   it and goes on as if it was not there (no stale name is ever found).
 *   A new object is built under a temporary name and published with
 *   link(2), so two processes creating one name at once make one object and
 *   the loser opens the winner's, fully built.
 *
 * Invariants (section_validate)
 *   S1. A section's reference count is its handles plus its views in this
 *       process; a named one is in the process's name list exactly while it
 *       has a handle.
 *   S2. Every view lies inside its section (offset + size within the
 *       page-rounded size) and is an allocation of vm's that points back to
 *       it; a SEC_RESERVE section's committed bits cover every committed
 *       page of its views, and its views show every page the bits cover as
 *       committed once vm has seen the fault or query that syncs them.
 *
 * Locking: the registry lock (vm), then the section lock; the commit hook
 * runs under the registry lock and takes the section lock.
 */
#ifndef WINMEM_SECTION_H
#define WINMEM_SECTION_H

#include "../object/object.h"
#include "../vm/vm.h"

#include <pthread.h>

#define SECTION_MAGIC 0x43534d57u      /* "WMSC" */
#define BASE_PROTECT(p) ((p) & 0xFFu)   /* PAGE_* without SEC_* or modifiers */
#define SECTION_NAME_MAX 200            /* bytes of a name, escaped */

/* The header at the start of a page-file section's file (shared memory:
 * every field but `committed` is written once, before the object is
 * published). */
struct section_shared {
    uint32_t magic;
    uint32_t type;              /* OBJ_SECTION */
    uint32_t protect;           /* PAGE_*, the section's */
    uint32_t attributes;        /* SEC_* */
    uint64_t size;              /* bytes a view may cover (page-rounded) */
    uint64_t header_bytes;      /* where the data starts in the file */
    uint64_t file_size;         /* file-backed (named): the file's section size */
    char path[4096];            /* file-backed (named): the file, for other processes */
    uint64_t committed[];       /* SEC_RESERVE: a bit per page, set atomically */
};

struct section_view;

struct section {
    struct wm_object obj;
    int fd;                     /* where the bytes are */
    uint64_t data_offset;       /* byte 0 of the section in fd */
    uint64_t size;              /* page-rounded for a page-file section */
    DWORD protect;              /* base PAGE_* protection */
    DWORD attributes;           /* SEC_COMMIT or SEC_RESERVE, and modifiers */
    struct section_shared *shared;  /* mapped header (page-file), or NULL */
    size_t shared_bytes;
    struct wm_object *file;     /* file-backed: the file object, held */
    struct section_view *views; /* this process's */
    /* Named: the escaped name, and the process's list of named sections. */
    char name[SECTION_NAME_MAX + 3];
    char ns;                    /* 'L' or 'G', 0 when unnamed */
    struct section *next_named;
    int name_fd;                /* named: holds the shared flock while this process has handles */
    bool own_fd;                /* fd is the section's to close (when it is not name_fd) */
};

struct section_view {
    struct section *section;
    uintptr_t base;
    size_t size;
    uint64_t offset;            /* in the section */
    DWORD protect;              /* the view's protection when committed */
    bool copy;
    struct section_view *next;
};

/* S1-S2 for every section of this process (tests). */
bool section_validate(const char **why);
/* The namespace directory, made if needed; NULL when none can be had. */
const char *section_namespace(void);

/* Between section.c and section_view.c. */
extern pthread_mutex_t section_lock;
/* The section behind a handle, with a reference, and the handle's access. */
struct section *section_from_handle(HANDLE handle, DWORD *access);
static inline void section_release(struct section *s) { obj_release(&s->obj); }
/* SEC_RESERVE: whether page `page` (its index in the section) is committed,
 * and marking pages [first, end) committed. */
bool section_page_committed(const struct section *s, uint64_t page);
void section_commit_pages(struct section *s, uint64_t first, uint64_t end);

#endif
