/*
 * object.h — kernel objects and the process's handle table: what CloseHandle,
 * DuplicateHandle and Get/SetHandleInformation work on, and what the file
 * and section layers hand out as HANDLEs.
 *
 * Objects
 *   struct wm_object   the part every kernel object starts with: its type,
 *                      a reference count (one per handle, one per other
 *                      holder such as a mapped view) and the handle count.
 *                      The type's ops destroy it when the last reference
 *                      goes and hear when its last handle closes (a named
 *                      section's name lives only while handles do, M9.2).
 *   handle table       handle values are 4, 8, 12 ... as on Windows: entry
 *                      value / 4 - 1 of a two-level table (chunks of 4,096
 *                      entries mapped as needed, up to 2^24 handles), each
 *                      entry the object, the access the handle was opened
 *                      with, and its HANDLE_FLAG_* bits.  Closed entries are
 *                      reused most recent first.
 *
 * Pseudo-handles: (HANDLE)-1 is the current process and (HANDLE)-2 the
 * current thread; CloseHandle accepts them and does nothing, as Windows
 * does.  NULL and every value that is not an open handle get
 * ERROR_INVALID_HANDLE.
 *
 * Invariants (obj_validate)
 *   H1. An entry is in use exactly when it holds an object; the free entries
 *       form one list through `next_free`.
 *   H2. Each object's handle count is the number of entries that hold it,
 *       and its reference count is at least that.
 *
 * Locking: one mutex guards the table and every object's handle count;
 * reference counts are atomic.  Ops are called without the lock.
 */
#ifndef WINMEM_OBJECT_H
#define WINMEM_OBJECT_H

#include "../base/base.h"

enum obj_type { OBJ_FILE = 1, OBJ_SECTION, OBJ_TYPES };

struct wm_object;
struct obj_ops {
    const char *name;
    void (*destroy)(struct wm_object *obj);         /* the last reference went */
    void (*last_handle)(struct wm_object *obj);     /* the last handle closed, or NULL */
    /* The handle's inherit flag changed (a file descriptor's close-on-exec). */
    void (*inherit)(struct wm_object *obj, bool inherit);
};

struct wm_object {
    const struct obj_ops *ops;
    uint32_t type;              /* enum obj_type */
    uint32_t refs;              /* atomic */
    uint32_t handles;           /* under the table's lock */
};

void obj_init(struct wm_object *obj, enum obj_type type, const struct obj_ops *ops);
void obj_retain(struct wm_object *obj);
void obj_release(struct wm_object *obj);

/* A new handle to obj with the given access and HANDLE_FLAG_* bits; it
 * takes a reference of its own.  NULL with ERROR_NO_SYSTEM_RESOURCES or
 * ERROR_NOT_ENOUGH_MEMORY when the table is full or cannot grow. */
HANDLE obj_handle_new(struct wm_object *obj, DWORD access, DWORD flags);
/* The object behind handle with a reference for the caller, when it is of
 * type (0: any type); its access in *access (may be NULL).  NULL with
 * ERROR_INVALID_HANDLE otherwise. */
struct wm_object *obj_from_handle(HANDLE handle, enum obj_type type, DWORD *access);
/* True when handle is a pseudo-handle of the current process. */
static inline bool obj_is_current_process(HANDLE handle) { return handle == (HANDLE)(LONG_PTR)-1; }

/* Handles open now, and a check of H1-H2 (for tests). */
size_t obj_handle_count(void);
bool obj_validate(const char **why);

#endif
