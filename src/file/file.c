/*
 * file.c — the file API (file.h): CreateFileA/W, DeleteFileA/W, ReadFile,
 * WriteFile, SetFilePointer(Ex), SetEndOfFile, GetFileSize(Ex) and
 * FlushFileBuffers, over the host's files (os_file_*).
 *
 * The public functions check their arguments and set the last error as
 * Windows does, then call the helpers above them, which trust their inputs
 * and return a Win32 error code (0: success).  tests/unit/file.c pins every
 * case named here.
 *
 * Limits, by design: no overlapped (asynchronous) handles; no drive letters
 * or UNC names; FILE_FLAG_DELETE_ON_CLOSE removes the name when the last
 * handle of that open closes, even if another open of the file remains
 * (Windows waits for every handle to the file).
 */
#include "file.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

/* The file type's generic mapping (FILE_GENERIC_READ ... of the SDK). */
#define SYNCHRONIZE_ACCESS      0x00100000u
#define READ_CONTROL_ACCESS     0x00020000u
#define FILE_GENERIC_READ_      (READ_CONTROL_ACCESS | SYNCHRONIZE_ACCESS | FILE_READ_DATA | 0x88u)
#define FILE_GENERIC_WRITE_     (READ_CONTROL_ACCESS | SYNCHRONIZE_ACCESS | FILE_WRITE_DATA | \
                                 FILE_APPEND_DATA | 0x110u)
#define FILE_GENERIC_EXECUTE_   (READ_CONTROL_ACCESS | SYNCHRONIZE_ACCESS | FILE_EXECUTE | 0x80u)
#define FILE_ALL_ACCESS_        0x001F01FFu
#define GENERIC_ANY             (GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL)

/* The rights share modes are about. */
#define READS   (FILE_READ_DATA | FILE_EXECUTE)
#define WRITES  (FILE_WRITE_DATA | FILE_APPEND_DATA)
#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* NTSTATUS values ReadFile and WriteFile leave in OVERLAPPED.Internal. */
#define STATUS_SUCCESS_         0x00000000u
#define STATUS_END_OF_FILE_     0xC0000011u

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t file_once = PTHREAD_ONCE_INIT;
static struct wm_pool file_pool = WM_POOL_INIT(struct wm_file);
static struct wm_file *open_list;

static void fork_prepare(void) { pthread_mutex_lock(&file_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&file_lock); }
static void fork_child(void) { pthread_mutex_init(&file_lock, NULL); }
static void init(void) { os_atfork(fork_prepare, fork_parent, fork_child); }

static void lock(void)
{
    pthread_once(&file_once, init);
    pthread_mutex_lock(&file_lock);
}

static void unlock(void) { pthread_mutex_unlock(&file_lock); }

static HANDLE fail_handle(DWORD code) { wm_set_error(code); return INVALID_HANDLE_VALUE; }
static BOOL fail_bool(DWORD code) { wm_set_error(code); return FALSE; }

/* ---------------------------------------------------------------- errors */
/* Whether the directory that would hold path (absolute) exists. */
static bool parent_exists(const char *path)
{
    char dir[FILE_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return true;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    return os_file_is_directory(dir);
}

DWORD file_error(int err, const char *path)
{
    switch (err) {
    case 0:             return 0;
    case ENOENT:        return path && !parent_exists(path) ? ERROR_PATH_NOT_FOUND : ERROR_FILE_NOT_FOUND;
    case ENOTDIR:       return ERROR_PATH_NOT_FOUND;
    case EACCES: case EPERM: case EROFS: case EISDIR:
                        return ERROR_ACCESS_DENIED;
    case EEXIST:        return ERROR_FILE_EXISTS;
    case EMFILE: case ENFILE:
                        return ERROR_TOO_MANY_OPEN_FILES;
    case ENOSPC: case EFBIG: case EDQUOT:
                        return ERROR_DISK_FULL;
    case ENAMETOOLONG:  return ERROR_FILENAME_EXCED_RANGE;
    case ENOMEM:        return ERROR_NOT_ENOUGH_MEMORY;
    case EFAULT:        return ERROR_NOACCESS;          /* a bad buffer, as Windows probes it */
    case EINVAL:        return ERROR_INVALID_PARAMETER; /* e.g. an offset past the host's limit */
    case ETXTBSY: case EBUSY:
                        return ERROR_SHARING_VIOLATION; /* a running program, a busy device */
    case EBADF:         return ERROR_INVALID_HANDLE;
    default:            return ERROR_GEN_FAILURE;
    }
}

/* ----------------------------------------------------------------- names */
/* The host path of a Win32 name in UTF-8, into out[FILE_PATH_MAX]:
 * backslashes are separators and a relative name is taken from the current
 * directory.  There are no drives, so "C:..." names no path.  0 or the
 * Win32 error. */
static DWORD path_of(const char *name, char *out)
{
    if (!name || !*name)
        return ERROR_PATH_NOT_FOUND;
    char lower = (char)(name[0] | 0x20);
    if (lower >= 'a' && lower <= 'z' && name[1] == ':')
        return ERROR_PATH_NOT_FOUND;
    size_t n = 0;
    if (name[0] != '/' && name[0] != '\\') {
        int err = os_file_cwd(out, FILE_PATH_MAX);
        if (err)
            return err == ERANGE ? ERROR_FILENAME_EXCED_RANGE : file_error(err, NULL);
        n = strlen(out);
        if (out[n - 1] != '/')
            out[n++] = '/';             /* getcwd left room: it fit with its NUL */
    }
    for (; *name; name++) {
        if (n + 1 >= FILE_PATH_MAX)
            return ERROR_FILENAME_EXCED_RANGE;
        out[n++] = *name == '\\' ? '/' : *name;
    }
    out[n] = '\0';
    return 0;
}

/* A W function's name in UTF-8 (NULL stays NULL); 0 or the Win32 error. */
static DWORD utf8_of(LPCWSTR name, char *out, const char **result)
{
    *result = NULL;
    if (!name)
        return 0;
    size_t n = wm_utf16_to_utf8(name, out, FILE_PATH_MAX);
    if (n == (size_t)-1)
        return ERROR_INVALID_NAME;                      /* an unpaired surrogate */
    if (n == (size_t)-2)
        return ERROR_FILENAME_EXCED_RANGE;
    *result = out;
    return 0;
}

/* ---------------------------------------------------------------- access */
DWORD file_map_access(DWORD access)
{
    static const DWORD map[4][2] = {
        { GENERIC_READ, FILE_GENERIC_READ_ }, { GENERIC_WRITE, FILE_GENERIC_WRITE_ },
        { GENERIC_EXECUTE, FILE_GENERIC_EXECUTE_ }, { GENERIC_ALL, FILE_ALL_ACCESS_ },
    };
    DWORD out = access & ~GENERIC_ANY;
    for (int i = 0; i < 4; i++)
        if (access & map[i][0])
            out |= map[i][1];
    return out;
}

/* True when an open with `access` takes a right that `share` (another
 * open's share mode) does not grant. */
static bool takes_unshared(DWORD access, DWORD share)
{
    return ((access & READS) && !(share & FILE_SHARE_READ)) ||
           ((access & WRITES) && !(share & FILE_SHARE_WRITE)) ||
           ((access & DELETE) && !(share & FILE_SHARE_DELETE));
}

/* F2: IoCheckShareAccess, taken pairwise. */
static bool compatible(DWORD access_a, DWORD share_a, DWORD access_b, DWORD share_b)
{
    return !takes_unshared(access_a, share_b) && !takes_unshared(access_b, share_a);
}

static bool same_file(const struct os_file_id *a, const struct os_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

/* Whether an open of file id with access and share may join the open list
 * now.  Under the lock. */
static bool share_allows(const struct os_file_id *id, DWORD access, DWORD share)
{
    for (struct wm_file *o = open_list; o; o = o->next)
        if (same_file(&o->id, id) && !compatible(access, share, o->access, o->share))
            return false;
    return true;
}

/* ------------------------------------------------------------ open list */
static void list_add(struct wm_file *f)
{
    f->prev = NULL;
    f->next = open_list;
    if (open_list)
        open_list->prev = f;
    open_list = f;
    f->listed = true;
}

static void list_remove(struct wm_file *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        open_list = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
    f->listed = false;
}

/* -------------------------------------------------------------- objects */
static void file_destroy(struct wm_object *obj)
{
    struct wm_file *f = wm_container_of(obj, struct wm_file, obj);
    os_file_close(f->fd);
    lock();
    if (f->listed)              /* it never had a handle: CreateFile failed late */
        list_remove(f);
    wm_pool_put(&file_pool, f);
    unlock();
}

/* The open's last handle closed: its share access goes (Windows drops it at
 * cleanup, while a mapped view may still hold the file), and its name too
 * with FILE_FLAG_DELETE_ON_CLOSE, unless the name now means another file. */
static void file_last_handle(struct wm_object *obj)
{
    struct wm_file *f = wm_container_of(obj, struct wm_file, obj);
    lock();
    if (f->listed)
        list_remove(f);
    unlock();
    struct os_file_id now;
    if (f->delete_on_close && os_file_path_id(f->path, &now) == 0 && same_file(&now, &f->id))
        os_file_unlink(f->path);
}

/* The descriptor is the object's, so its close-on-exec follows the handle
 * whose inherit flag changed last. */
static void file_inherit(struct wm_object *obj, bool inherit)
{
    os_file_keep(wm_container_of(obj, struct wm_file, obj)->fd, inherit);
}

static const struct obj_ops file_ops = { "file", file_destroy, file_last_handle, file_inherit };

struct wm_file *file_from_handle(HANDLE h, DWORD *access)
{
    DWORD asked;
    struct wm_object *obj = obj_from_handle(h, OBJ_FILE, &asked);
    if (!obj)
        return NULL;
    struct wm_file *f = wm_container_of(obj, struct wm_file, obj);
    if (access)
        *access = file_map_access(asked) & (f->access | ~(DWORD)(READS | WRITES));
    return f;
}

void file_release(struct wm_file *f) { obj_release(&f->obj); }

size_t file_live(void)
{
    lock();
    size_t n = file_pool.live;
    unlock();
    return n;
}

/* F1, under the lock. */
static const char *list_check(void)
{
    size_t n = 0;
    for (struct wm_file *f = open_list; f; f = f->next) {
        if (!f->listed || f->fd < 0 || f->path[0] != '/' || !memchr(f->path, 0, FILE_PATH_MAX))
            return "an open file is unmarked, has no descriptor or no absolute path";
        if ((f->next && f->next->prev != f) || (f->prev ? f->prev->next : open_list) != f)
            return "the open list's links disagree";
        if (++n > file_pool.live)
            return "the open list holds more files than are alive, or loops";
    }
    return NULL;
}

/* F2, under the lock, on a list F1 holds for. */
static const char *share_check(void)
{
    for (struct wm_file *f = open_list; f; f = f->next)
        for (struct wm_file *o = f->next; o; o = o->next)
            if (same_file(&o->id, &f->id) && !compatible(f->access, f->share, o->access, o->share))
                return "two opens of one file take what the other did not share";
    return NULL;
}

bool file_validate(const char **why)
{
    lock();
    *why = list_check();
    if (!*why)
        *why = share_check();
    unlock();
    return !*why;
}

/* ------------------------------------------------------------- opening */
/* What CreateFile asks for, checked. */
struct open_req {
    DWORD access;               /* specific rights, DELETE added for delete-on-close */
    DWORD share;
    DWORD disposition;
    DWORD flags;                /* FILE_FLAG_* and FILE_ATTRIBUTE_* */
    DWORD handle_flags;         /* HANDLE_FLAG_INHERIT */
};

/* Opens path on the host as the disposition says; *existed tells whether
 * the file was there before (for ERROR_ALREADY_EXISTS).  An errno. */
static int host_open(const char *path, const struct open_req *r, int *fd, bool *existed)
{
    bool truncates = r->disposition == CREATE_ALWAYS || r->disposition == TRUNCATE_EXISTING;
    unsigned how = ((r->access & READS) || !(r->access & WRITES) ? OS_OPEN_READ : 0) |
                   ((r->access & WRITES) || truncates ? OS_OPEN_WRITE : 0) |
                   (r->flags & FILE_FLAG_WRITE_THROUGH ? OS_OPEN_SYNC : 0);
    unsigned mode = r->flags & FILE_ATTRIBUTE_READONLY ? 0444 : 0666;
    *existed = r->disposition != CREATE_NEW;
    if (r->disposition != CREATE_ALWAYS && r->disposition != OPEN_ALWAYS)
        return os_file_open(path, how | (*existed ? 0 : OS_OPEN_CREATE | OS_OPEN_EXCL), mode, fd);
    /* Open, else create: tried twice against a racing creator or remover;
     * a dangling symbolic link fails both ways and is then created through. */
    for (int tries = 0; tries < 2; tries++) {
        int err = os_file_open(path, how, mode, fd);
        if (err != ENOENT)
            return *existed = true, err;
        err = os_file_open(path, how | OS_OPEN_CREATE | OS_OPEN_EXCL, mode, fd);
        if (err != EEXIST)
            return *existed = false, err;
    }
    *existed = false;
    return os_file_open(path, how | OS_OPEN_CREATE, mode, fd);
}

/* A new object for descriptor fd, which it owns from here on (closed when
 * there is no object).  NULL when the pool cannot grow. */
static struct wm_file *file_new(int fd, const char *path, const struct open_req *r)
{
    lock();
    struct wm_file *f = wm_pool_get(&file_pool);
    unlock();
    if (!f) {
        os_file_close(fd);
        return NULL;
    }
    obj_init(&f->obj, OBJ_FILE, &file_ops);
    f->fd = fd;
    f->access = r->access;
    f->share = r->share;
    f->delete_on_close = r->flags & FILE_FLAG_DELETE_ON_CLOSE;
    f->listed = false;
    f->id = (struct os_file_id){ 0, 0 };
    f->prev = f->next = NULL;
    memcpy(f->path, path, strlen(path) + 1);
    return f;
}

/* Joins f to the open list if the share modes of the other opens allow it. */
static DWORD file_share(struct wm_file *f)
{
    int err = os_file_id(f->fd, &f->id);
    if (err)
        return file_error(err, NULL);
    if (!(f->access & (READS | WRITES | DELETE)))
        return 0;                                   /* takes no share access */
    lock();
    bool ok = share_allows(&f->id, f->access, f->share);
    if (ok)
        list_add(f);
    unlock();
    return ok ? 0 : ERROR_SHARING_VIOLATION;
}

/* CreateFile past its argument checks: the new handle in *out and whether
 * the file existed, or the Win32 error. */
static DWORD file_open(const char *path, const struct open_req *r, HANDLE *out, bool *existed)
{
    if (r->disposition != CREATE_NEW && os_file_is_directory(path))
        return ERROR_ACCESS_DENIED;                 /* directories are not files */
    int fd;
    int err = host_open(path, r, &fd, existed);
    if (err)
        return file_error(err, path);
    struct wm_file *f = file_new(fd, path, r);
    if (!f)
        return ERROR_NOT_ENOUGH_MEMORY;
    DWORD e = file_share(f);
    /* Truncated only now: an open the share modes refuse changes nothing. */
    if (!e && (r->disposition == TRUNCATE_EXISTING || (r->disposition == CREATE_ALWAYS && *existed)))
        e = file_error(os_file_resize(fd, 0), NULL);
    if (!e && !(*out = obj_handle_new(&f->obj, f->access, r->handle_flags)))
        e = winmem_GetLastError();
    obj_release(&f->obj);                           /* the handle's reference remains */
    return e;
}

/* CreateFileA and CreateFileW, with the name in UTF-8. */
static HANDLE create_file(const char *name, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES security,
                          DWORD disposition, DWORD flags)
{
    char path[FILE_PATH_MAX];
    if (!name || !*name)
        return fail_handle(ERROR_PATH_NOT_FOUND);
    if (disposition < CREATE_NEW || disposition > TRUNCATE_EXISTING || (share & ~(DWORD)SHARE_ALL))
        return fail_handle(ERROR_INVALID_PARAMETER);
    struct open_req r = { file_map_access(access), share, disposition, flags,
                          security && security->bInheritHandle ? HANDLE_FLAG_INHERIT : 0 };
    if (disposition == TRUNCATE_EXISTING && !(r.access & FILE_WRITE_DATA))
        return fail_handle(ERROR_INVALID_PARAMETER);    /* it needs GENERIC_WRITE */
    if (flags & FILE_FLAG_OVERLAPPED)
        return fail_handle(ERROR_NOT_SUPPORTED);        /* no asynchronous I/O here */
    if (flags & FILE_FLAG_DELETE_ON_CLOSE)
        r.access |= DELETE;                             /* as kernel32 asks for it */
    DWORD e = path_of(name, path);
    HANDLE h = INVALID_HANDLE_VALUE;
    bool existed = false;
    if (!e)
        e = file_open(path, &r, &h, &existed);
    if (e)
        return fail_handle(e);
    bool reopened = existed && (disposition == CREATE_ALWAYS || disposition == OPEN_ALWAYS);
    wm_set_error(reopened ? ERROR_ALREADY_EXISTS : NO_ERROR);
    return h;
}

WINMEM_API HANDLE winmem_CreateFileA(LPCSTR name, DWORD access, DWORD share,
                                     LPSECURITY_ATTRIBUTES security, DWORD disposition,
                                     DWORD flags, HANDLE template_file)
{
    return create_file(name, access, share, security, disposition, flags);
}

WINMEM_API HANDLE winmem_CreateFileW(LPCWSTR name, DWORD access, DWORD share,
                                     LPSECURITY_ATTRIBUTES security, DWORD disposition,
                                     DWORD flags, HANDLE template_file)
{
    char utf8[FILE_PATH_MAX];
    const char *n;
    DWORD e = utf8_of(name, utf8, &n);
    if (e)
        return fail_handle(e);
    return create_file(n, access, share, security, disposition, flags);
}

/* ------------------------------------------------------------- deleting */
/* DeleteFile of path (absolute): refused while an open of the file does not
 * share deleting, as Windows' open for DELETE is.  The name goes at once
 * (as with Windows 10's POSIX-semantics delete); opens keep the file. */
static DWORD file_delete(const char *path)
{
    if (os_file_is_directory(path))
        return ERROR_ACCESS_DENIED;
    struct os_file_id id;
    int err = os_file_path_id(path, &id);
    if (err)
        return file_error(err, path);
    lock();
    bool ok = share_allows(&id, DELETE, SHARE_ALL);
    unlock();
    if (!ok)
        return ERROR_SHARING_VIOLATION;
    return file_error(os_file_unlink(path), path);
}

static BOOL delete_file(const char *name)
{
    char path[FILE_PATH_MAX];
    DWORD e = path_of(name, path);
    if (!e)
        e = file_delete(path);
    return e ? fail_bool(e) : TRUE;
}

WINMEM_API BOOL winmem_DeleteFileA(LPCSTR name) { return delete_file(name); }

WINMEM_API BOOL winmem_DeleteFileW(LPCWSTR name)
{
    char utf8[FILE_PATH_MAX];
    const char *n;
    DWORD e = utf8_of(name, utf8, &n);
    return e ? fail_bool(e) : delete_file(n);
}

/* ------------------------------------------------------ reading, writing */
static uint64_t offset_of(const OVERLAPPED *ov)
{
    return (uint64_t)ov->OffsetHigh << 32 | ov->Offset;
}

/* A transfer that named its offset (an OVERLAPPED on a synchronous handle)
 * leaves the file pointer after its bytes, as Windows does, and its status
 * and count in the OVERLAPPED. */
static int positioned_done(struct wm_file *f, OVERLAPPED *ov, uint64_t at, size_t n, int err)
{
    uint64_t pos;
    if (!err)
        err = os_file_seek(f->fd, (int64_t)(at + n), OS_SEEK_SET, &pos);
    if (!err) {
        ov->Internal = STATUS_SUCCESS_;
        ov->InternalHigh = n;
    }
    return err;
}

/* ReadFile at the file pointer, or at ov's offset.  Through an OVERLAPPED,
 * nothing to read at the end of the file is ERROR_HANDLE_EOF (ReadFile's
 * remarks on synchronous handles); without one it is success. */
static DWORD file_read(struct wm_file *f, void *buf, DWORD size, OVERLAPPED *ov, DWORD *done)
{
    size_t n = 0;
    int err;
    if (!ov) {
        err = os_file_read(f->fd, buf, size, &n);
    } else {
        uint64_t at = offset_of(ov);
        err = size ? os_file_pread(f->fd, buf, size, at, &n) : 0;
        if (!err && size && n == 0) {
            ov->Internal = STATUS_END_OF_FILE_;
            ov->InternalHigh = 0;
            return ERROR_HANDLE_EOF;
        }
        err = positioned_done(f, ov, at, n, err);
    }
    *done = (DWORD)n;
    return file_error(err, NULL);
}

/* WriteFile at the file pointer, at ov's offset, or at the end of the file
 * when ov's offset is 0xFFFFFFFF:0xFFFFFFFF or the handle may only append. */
static DWORD file_write(struct wm_file *f, const void *buf, DWORD size, OVERLAPPED *ov,
                        bool append_only, DWORD *done)
{
    size_t n = 0;
    int err = 0;
    uint64_t at = ov ? offset_of(ov) : 0;
    if (!ov && !append_only) {
        err = os_file_write(f->fd, buf, size, &n);
    } else {
        if (append_only || at == UINT64_MAX)
            err = os_file_size(f->fd, &at);
        if (!err)
            err = os_file_pwrite(f->fd, buf, size, at, &n);
        if (ov)
            err = positioned_done(f, ov, at, n, err);
        else if (!err)
            err = os_file_seek(f->fd, (int64_t)(at + n), OS_SEEK_SET, &at);
    }
    *done = (DWORD)n;
    return file_error(err, NULL);
}

/* The checks ReadFile and WriteFile share, in Windows' order: the count is
 * zeroed before anything (a NULL count without an OVERLAPPED is written
 * through on Windows, which faults: here ERROR_NOACCESS), then the handle,
 * the access it needs, the buffer.  The file with a reference and the
 * handle's access, or NULL with the last error set. */
static struct wm_file *transfer_begin(HANDLE file, const void *buf, DWORD size, LPDWORD done,
                                      const OVERLAPPED *ov, DWORD need, DWORD *access)
{
    if (done)
        *done = 0;
    if (!done && !ov)
        return wm_set_error(ERROR_NOACCESS), NULL;
    struct wm_file *f = file_from_handle(file, access);
    if (!f)
        return NULL;
    DWORD e = !(*access & need) ? ERROR_ACCESS_DENIED : !buf && size ? ERROR_NOACCESS : 0;
    if (!e)
        return f;
    file_release(f);
    return wm_set_error(e), NULL;
}

WINMEM_API BOOL winmem_ReadFile(HANDLE file, LPVOID buffer, DWORD size, LPDWORD done,
                                LPOVERLAPPED overlapped)
{
    DWORD access, n = 0;
    struct wm_file *f = transfer_begin(file, buffer, size, done, overlapped, FILE_READ_DATA, &access);
    if (!f)
        return FALSE;
    DWORD e = file_read(f, buffer, size, overlapped, &n);
    file_release(f);
    if (done)
        *done = n;
    return e ? fail_bool(e) : TRUE;
}

WINMEM_API BOOL winmem_WriteFile(HANDLE file, LPCVOID buffer, DWORD size, LPDWORD done,
                                 LPOVERLAPPED overlapped)
{
    DWORD access, n = 0;
    struct wm_file *f = transfer_begin(file, buffer, size, done, overlapped, WRITES, &access);
    if (!f)
        return FALSE;
    DWORD e = file_write(f, buffer, size, overlapped, !(access & FILE_WRITE_DATA), &n);
    file_release(f);
    if (done)
        *done = n;
    return e ? fail_bool(e) : TRUE;
}

/* ---------------------------------------------------- pointer and size */
/* Moves the file pointer distance bytes from method's origin, to at most
 * limit; the new position in *pos.  The sum wraps as Windows' 64-bit sum
 * does; a position before the start is ERROR_NEGATIVE_SEEK and one past
 * limit ERROR_INVALID_PARAMETER, and neither moves the pointer. */
static DWORD file_seek(struct wm_file *f, int64_t distance, DWORD method, uint64_t limit,
                       uint64_t *pos)
{
    uint64_t origin = 0;
    int err = 0;
    if (method == FILE_CURRENT)
        err = os_file_seek(f->fd, 0, OS_SEEK_CUR, &origin);
    else if (method == FILE_END)
        err = os_file_size(f->fd, &origin);
    if (err)
        return file_error(err, NULL);
    int64_t to = (int64_t)(origin + (uint64_t)distance);
    if (to < 0)
        return ERROR_NEGATIVE_SEEK;
    if ((uint64_t)to > limit)
        return ERROR_INVALID_PARAMETER;
    return file_error(os_file_seek(f->fd, to, OS_SEEK_SET, pos), NULL);
}

/* SetFilePointer and SetFilePointerEx past the check of the method. */
static DWORD seek_handle(HANDLE file, int64_t distance, DWORD method, uint64_t limit, uint64_t *pos)
{
    struct wm_file *f = file_from_handle(file, NULL);
    if (!f)
        return ERROR_INVALID_HANDLE;
    DWORD e = file_seek(f, distance, method, limit, pos);
    file_release(f);
    return e;
}

/* Without distance_high the distance is a signed 32-bit value and the new
 * position must fit in 32 bits (ERROR_INVALID_PARAMETER otherwise, as
 * ReactOS answers; the documentation names no code).  On success the last
 * error is set, to NO_ERROR, only when the low part reads as
 * INVALID_SET_FILE_POINTER. */
WINMEM_API DWORD winmem_SetFilePointer(HANDLE file, LONG distance, PLONG distance_high, DWORD method)
{
    if (method > FILE_END)
        return wm_set_error(ERROR_INVALID_PARAMETER), INVALID_SET_FILE_POINTER;
    int64_t d = distance_high ? (int64_t)((uint64_t)(uint32_t)*distance_high << 32 | (uint32_t)distance)
                              : (int64_t)distance;
    uint64_t pos;
    DWORD e = seek_handle(file, d, method, distance_high ? UINT64_MAX : UINT32_MAX, &pos);
    if (e)
        return wm_set_error(e), INVALID_SET_FILE_POINTER;
    if (distance_high)
        *distance_high = (LONG)(uint32_t)(pos >> 32);
    if ((DWORD)pos == INVALID_SET_FILE_POINTER)
        wm_set_error(NO_ERROR);
    return (DWORD)pos;
}

WINMEM_API BOOL winmem_SetFilePointerEx(HANDLE file, LARGE_INTEGER distance, PLARGE_INTEGER position,
                                        DWORD method)
{
    if (method > FILE_END)
        return fail_bool(ERROR_INVALID_PARAMETER);
    uint64_t pos;
    DWORD e = seek_handle(file, distance.QuadPart, method, UINT64_MAX, &pos);
    if (e)
        return fail_bool(e);
    if (position)
        position->QuadPart = (LONGLONG)pos;
    return TRUE;
}

WINMEM_API BOOL winmem_SetEndOfFile(HANDLE file)
{
    DWORD access;
    struct wm_file *f = file_from_handle(file, &access);
    if (!f)
        return FALSE;
    uint64_t pos = 0;
    DWORD e = ERROR_ACCESS_DENIED;
    if (access & FILE_WRITE_DATA) {
        int err = os_file_seek(f->fd, 0, OS_SEEK_CUR, &pos);
        e = file_error(err ? err : os_file_resize(f->fd, pos), NULL);
    }
    file_release(f);
    return e ? fail_bool(e) : TRUE;
}

/* The size of the file behind a handle; false with the last error set. */
static bool size_of(HANDLE file, uint64_t *size)
{
    struct wm_file *f = file_from_handle(file, NULL);
    if (!f)
        return false;
    DWORD e = file_error(os_file_size(f->fd, size), NULL);
    file_release(f);
    if (e)
        wm_set_error(e);
    return !e;
}

/* As with SetFilePointer, a size whose low part reads as INVALID_FILE_SIZE
 * sets the last error to NO_ERROR so that callers can tell it from failure;
 * a failure leaves *size_high alone. */
WINMEM_API DWORD winmem_GetFileSize(HANDLE file, LPDWORD size_high)
{
    uint64_t size;
    if (!size_of(file, &size))
        return INVALID_FILE_SIZE;
    if (size_high)
        *size_high = (DWORD)(size >> 32);
    if ((DWORD)size == INVALID_FILE_SIZE)
        wm_set_error(NO_ERROR);
    return (DWORD)size;
}

/* A NULL size is written through on Windows, which faults: ERROR_NOACCESS. */
WINMEM_API BOOL winmem_GetFileSizeEx(HANDLE file, PLARGE_INTEGER size)
{
    uint64_t s;
    if (!size_of(file, &s))
        return FALSE;
    if (!size)
        return fail_bool(ERROR_NOACCESS);
    size->QuadPart = (LONGLONG)s;
    return TRUE;
}

/* Needs write access (the documentation: GENERIC_WRITE).  A file the host
 * cannot sync (EINVAL: a device such as /dev/null) has nothing to flush. */
WINMEM_API BOOL winmem_FlushFileBuffers(HANDLE file)
{
    DWORD access;
    struct wm_file *f = file_from_handle(file, &access);
    if (!f)
        return FALSE;
    DWORD e = ERROR_ACCESS_DENIED;
    if (access & WRITES) {
        int err = os_file_sync(f->fd);
        e = file_error(err == EINVAL ? 0 : err, NULL);
    }
    file_release(f);
    return e ? fail_bool(e) : TRUE;
}
