/*
 * file.h — files: CreateFile and the calls that read, write, size and
 * delete them, as much of kernel32's file API as mapping files needs; and
 * the file objects the section layer maps.
 *
 * Objects
 *   struct wm_file   one successful CreateFile: a kernel object (object.h)
 *                    that DuplicateHandle may give more handles to, holding
 *                    one host descriptor.  The descriptor's offset is the
 *                    file pointer, so every handle to the object shares it,
 *                    as on Windows.  Its path is the absolute UTF-8 name it
 *                    was opened by, so that a named file mapping can be
 *                    opened again by another process.
 *   open list        the objects that hold share access: each from its
 *                    CreateFile until its last handle closes, when its
 *                    access reads, writes or deletes (an open with none of
 *                    those, such as a query-only open with access 0, takes
 *                    no share access, as on Windows).  Share modes hold
 *                    among the opens of this process only: the host has no
 *                    share modes.
 *
 * Access is kept as Windows grants it: the generic rights mapped to the
 * file's specific ones (GENERIC_READ to FILE_GENERIC_READ, which holds
 * FILE_READ_DATA; GENERIC_WRITE to FILE_GENERIC_WRITE, which holds
 * FILE_WRITE_DATA and FILE_APPEND_DATA ...) and the generic bits cleared.
 * A handle's data rights are further limited to the object's (those its
 * descriptor was opened for), so a duplicate asking for more gets no more.
 * A query-only open still holds a descriptor opened for reading (not
 * O_PATH: the file pointer, the size and the section layer all need a
 * descriptor the host can seek and map), so it needs the host's read
 * permission on the file.
 *
 * Invariants (file_validate)
 *   F1. Every object on the open list is marked listed, has a descriptor
 *       and an absolute, NUL-terminated path; the list's links agree both
 *       ways and it holds no more objects than are alive.
 *   F2. Any two listed objects of the same file (device, inode) are
 *       compatible: neither has read, write or delete access that the other
 *       did not share.
 *
 * Locking: one mutex of this layer guards the object pool and the open
 * list; no host call is made under it.
 */
#ifndef WINMEM_FILE_H
#define WINMEM_FILE_H

#include "../object/object.h"
#include "../os/os.h"

#define FILE_PATH_MAX 4096      /* bytes of a path with its NUL (Linux's PATH_MAX) */

struct wm_file {
    struct wm_object obj;       /* first: the section layer casts between them */
    int fd;
    DWORD access;               /* granted to the open (specific rights only) */
    DWORD share;                /* FILE_SHARE_* */
    bool delete_on_close;       /* FILE_FLAG_DELETE_ON_CLOSE */
    bool listed;                /* on the open list: holds share access */
    struct os_file_id id;
    struct wm_file *prev, *next;    /* the open list */
    char path[FILE_PATH_MAX];
};

/* The file object behind handle h, with a reference for the caller, and the
 * handle's access (specific rights, limited to the object's) in *access
 * (may be NULL).  NULL with ERROR_INVALID_HANDLE for anything that is not
 * an open file handle, a file mapping's included. */
struct wm_file *file_from_handle(HANDLE h, DWORD *access);
void file_release(struct wm_file *f);

static inline int file_fd(const struct wm_file *f) { return f->fd; }
/* What the file was opened for, generic rights mapped: GENERIC_READ implies
 * FILE_READ_DATA and GENERIC_WRITE implies FILE_WRITE_DATA. */
static inline DWORD file_access(const struct wm_file *f) { return f->access; }
/* The absolute UTF-8 path it was opened by. */
static inline const char *file_path(const struct wm_file *f) { return f->path; }

/* Generic rights mapped to a file's specific rights, the generic bits
 * cleared (RtlMapGenericMask with the file type's mapping). */
DWORD file_map_access(DWORD access);

/* The Win32 error for a host errno.  With path (absolute), ENOENT becomes
 * ERROR_PATH_NOT_FOUND when the directory that would hold path is missing,
 * ERROR_FILE_NOT_FOUND otherwise.  0 for 0. */
DWORD file_error(int err, const char *path);

/* File objects alive (for leak checks), and a check of F1-F2. */
size_t file_live(void);
bool file_validate(const char **why);

#endif
