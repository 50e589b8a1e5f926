/*
 * section.c — section objects and their names (section.h):
 * CreateFileMappingA/W and OpenFileMappingA/W.  The views are in
 * section_view.c.
 */
#include "section.h"
#include "../file/file.h"
#include "../os/os.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

pthread_mutex_t section_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wm_pool section_pool = WM_POOL_INIT(struct section);
static struct section *named;               /* this process's, while they have handles */

#define SEC_KNOWN (SEC_COMMIT | SEC_RESERVE | SEC_NOCACHE | SEC_WRITECOMBINE | SEC_LARGE_PAGES)
#define MAX_SECTION ((uint64_t)1 << 46)     /* more than any address space can map */

/* ------------------------------------------------------------- namespace */
static char ns_dir[256];
static bool ns_ready;
static pthread_once_t ns_once = PTHREAD_ONCE_INIT;

/* The first place that can be made a private directory of this user's. */
static void ns_make(void)
{
    uint32_t uid = os_user_id();
    const char *runtime = os_getenv("XDG_RUNTIME_DIR");
    char places[3][256];
    int n = 0;
    snprintf(places[n++], sizeof places[0], "/dev/shm/winmem-%u", uid);
    if (runtime && *runtime == '/')
        snprintf(places[n++], sizeof places[0], "%s/winmem", runtime);
    snprintf(places[n++], sizeof places[0], "/tmp/winmem-%u", uid);
    for (int i = 0; i < n && !ns_ready; i++)
        if (os_dir_private(places[i]) == 0) {
            memcpy(ns_dir, places[i], sizeof ns_dir);
            ns_ready = true;
        }
}

const char *section_namespace(void)
{
    pthread_once(&ns_once, ns_make);
    return ns_ready ? ns_dir : NULL;
}

/* The escaped file name of a section name and its namespace: "Local\" or
 * no prefix is 'L', "Global\" is 'G' (M10.3).  0, or the Win32 error. */
static DWORD parse_name(const char *name, char *ns, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    *ns = 'L';
    if (!strncmp(name, "Local\\", 6))
        name += 6;
    else if (!strncmp(name, "Global\\", 7))
        name += 7, *ns = 'G';
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c == '\\')
            return ERROR_PATH_NOT_FOUND;        /* another prefix ("LOCAL\"), or a path */
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
        if (n + (plain ? 1 : 3) > SECTION_NAME_MAX)
            return ERROR_FILENAME_EXCED_RANGE;
        if (plain) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
    }
    out[n] = '\0';
    return 0;
}

static void name_path(char *path, size_t room, char ns, const char *escaped)
{
    snprintf(path, room, "%s/%c.%s", section_namespace(), ns, escaped);
}

/* -------------------------------------------------------------- objects */
static void section_destroy(struct wm_object *obj)
{
    struct section *s = wm_container_of(obj, struct section, obj);
    if (s->shared)
        os_unmap(s->shared, s->shared_bytes);
    if (s->name_fd >= 0)
        os_file_close(s->name_fd);
    if (s->own_fd && s->fd != s->name_fd)
        os_file_close(s->fd);
    if (s->file)
        obj_release(s->file);
    pthread_mutex_lock(&section_lock);
    wm_pool_put(&section_pool, s);
    pthread_mutex_unlock(&section_lock);
}

/* The last handle in this process is gone: the name goes with it unless
 * another process holds one (M9.2). */
static void section_last_handle(struct wm_object *obj)
{
    struct section *s = wm_container_of(obj, struct section, obj);
    if (!s->ns)
        return;
    pthread_mutex_lock(&section_lock);
    for (struct section **link = &named; *link; link = &(*link)->next_named)
        if (*link == s) {
            *link = s->next_named;
            break;
        }
    pthread_mutex_unlock(&section_lock);
    char path[512];
    struct os_file_id mine, there;
    name_path(path, sizeof path, s->ns, s->name);
    os_file_lock(s->name_fd, OS_LOCK_NONE);
    if (os_file_lock(s->name_fd, OS_LOCK_EXCLUSIVE | OS_LOCK_NOWAIT) == 0) {
        if (os_file_id(s->name_fd, &mine) == 0 && os_file_path_id(path, &there) == 0 &&
            mine.dev == there.dev && mine.ino == there.ino)
            os_file_unlink(path);
        os_file_lock(s->name_fd, OS_LOCK_NONE);
    }
    s->ns = 0;                               /* nameless from now on */
}

static void section_inherit(struct wm_object *obj, bool inherit)
{
    struct section *s = wm_container_of(obj, struct section, obj);
    if (!s->file && s->fd >= 0)
        os_file_keep(s->fd, inherit);
}

static const struct obj_ops section_ops = {
    "Section", section_destroy, section_last_handle, section_inherit,
};

static struct section *section_new(void)
{
    pthread_mutex_lock(&section_lock);
    struct section *s = wm_pool_get(&section_pool);
    pthread_mutex_unlock(&section_lock);
    if (!s)
        return wm_set_error(ERROR_NOT_ENOUGH_MEMORY), NULL;
    memset(s, 0, sizeof *s);
    obj_init(&s->obj, OBJ_SECTION, &section_ops);
    s->fd = s->name_fd = -1;
    return s;
}

/* Maps the header of s's file and takes size and protection from it. */
static DWORD attach_shared(struct section *s)
{
    struct section_shared head;
    size_t done;
    if (os_file_pread(s->fd, &head, sizeof head, 0, &done) != 0 || done != sizeof head ||
        head.magic != SECTION_MAGIC || head.type != OBJ_SECTION)
        return ERROR_INVALID_HANDLE;                    /* not a section's file (M10.4) */
    /* The header is the user's own file: believe no size it gives blindly. */
    size_t page = os_page_size();
    uint64_t bitmap = (head.attributes & SEC_RESERVE) ? (head.size / page + 63) / 64 * 8 : 0;
    if (head.header_bytes % page || head.header_bytes > ((uint64_t)1 << 32) ||
        head.header_bytes < sizeof head + bitmap || head.size > MAX_SECTION ||
        head.path[sizeof head.path - 1])
        return ERROR_INVALID_HANDLE;
    void *p = NULL;
    if (os_map(&p, head.header_bytes, OS_PROT_NONE, 0) != 0 ||
        os_map_file(p, head.header_bytes, OS_PROT_READ | OS_PROT_WRITE, true, s->fd, 0) != 0) {
        if (p)
            os_unmap(p, head.header_bytes);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    s->shared = p;
    s->shared_bytes = head.header_bytes;
    s->size = head.size;
    s->protect = head.protect;
    s->attributes = head.attributes;
    s->data_offset = head.header_bytes;
    return 0;
}

/* Builds a page-file section's file on fd: header, then size bytes of
 * zeros. */
static DWORD build_file(int fd, uint64_t size, DWORD protect, DWORD attributes)
{
    size_t page = os_page_size();
    uint64_t pages = size / page;
    size_t bitmap = (attributes & SEC_RESERVE) ? (size_t)((pages + 63) / 64) * 8 : 0;
    uint64_t header = wm_align_up(sizeof(struct section_shared) + bitmap, page);
    int err = os_file_resize(fd, header + size);
    if (err)
        return err == EFBIG || err == ENOSPC ? ERROR_NOT_ENOUGH_MEMORY : file_error(err, NULL);
    struct section_shared head = { SECTION_MAGIC, OBJ_SECTION, protect, attributes, size, header,
                                   0, "" };
    size_t done;
    if (os_file_pwrite(fd, &head, sizeof head, 0, &done) != 0 || done != sizeof head)
        return ERROR_NOT_ENOUGH_MEMORY;
    return 0;
}

/* ------------------------------------------------------- named objects */
/* Opens the object published at path, when one is and some process holds
 * it; a stale one (nobody's) is removed.  0 with the section, or
 * ERROR_FILE_NOT_FOUND, or another error. */
static DWORD open_published(const char *path, struct section *s)
{
    for (;;) {
        int fd;
        int err = os_file_open(path, OS_OPEN_READ | OS_OPEN_WRITE, 0, &fd);
        if (err == ENOENT)
            return ERROR_FILE_NOT_FOUND;
        if (err)
            return file_error(err, NULL);
        if (os_file_lock(fd, OS_LOCK_EXCLUSIVE | OS_LOCK_NOWAIT) == 0) {
            /* Nobody holds it: a holder was killed.  Gone, as on Windows. */
            struct os_file_id mine, there;
            if (os_file_id(fd, &mine) == 0 && os_file_path_id(path, &there) == 0 &&
                mine.dev == there.dev && mine.ino == there.ino)
                os_file_unlink(path);
            os_file_close(fd);
            return ERROR_FILE_NOT_FOUND;
        }
        os_file_lock(fd, OS_LOCK_SHARED);
        struct os_file_id mine, there;
        if (os_file_id(fd, &mine) != 0 || os_file_path_id(path, &there) != 0 ||
            mine.dev != there.dev || mine.ino != there.ino) {
            os_file_close(fd);                 /* removed meanwhile: look again */
            continue;
        }
        s->fd = s->name_fd = fd;
        DWORD e = attach_shared(s);
        if (!e && s->shared->path[0]) {        /* file-backed: its bytes are the file's */
            unsigned mode = (BASE_PROTECT(s->protect) == PAGE_READWRITE ||
                             BASE_PROTECT(s->protect) == PAGE_EXECUTE_READWRITE)
                                ? OS_OPEN_READ | OS_OPEN_WRITE : OS_OPEN_READ;
            int data;
            err = os_file_open(s->shared->path, mode, 0, &data);
            if (err)
                e = file_error(err, NULL);
            else
                s->fd = data, s->own_fd = true, s->data_offset = 0, s->size = s->shared->file_size;
        }
        return e;
    }
}

/* Publishes a new object at path, built on a temporary file; 0, or
 * ERROR_ALREADY_EXISTS when another process published one first. */
static DWORD publish(const char *path, struct section *s, uint64_t size, DWORD protect,
                     DWORD attributes, const char *file_path, uint64_t file_size)
{
    char tmp[600];
    uint64_t r;
    os_random(&r, sizeof r);
    snprintf(tmp, sizeof tmp, "%s/.new-%u-%llx", section_namespace(), os_process_id(),
             (unsigned long long)r);
    int fd;
    int err = os_file_open(tmp, OS_OPEN_READ | OS_OPEN_WRITE | OS_OPEN_CREATE | OS_OPEN_EXCL,
                           0600, &fd);
    if (err)
        return file_error(err, NULL);
    DWORD e = build_file(fd, file_path ? 0 : size, protect, attributes);
    if (!e && file_path) {
        struct section_shared head;
        size_t done;
        os_file_pread(fd, &head, sizeof head, 0, &done);
        head.file_size = file_size;
        snprintf(head.path, sizeof head.path, "%s", file_path);
        if (os_file_pwrite(fd, &head, sizeof head, 0, &done) != 0 || done != sizeof head)
            e = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (!e && os_file_lock(fd, OS_LOCK_SHARED) != 0)
        e = ERROR_NOT_ENOUGH_MEMORY;
    if (!e) {
        err = os_file_link(tmp, path);
        e = err == EEXIST ? ERROR_ALREADY_EXISTS : err ? file_error(err, NULL) : 0;
    }
    os_file_unlink(tmp);
    if (e) {
        os_file_close(fd);
        return e;
    }
    s->fd = s->name_fd = fd;
    return attach_shared(s);
}

/* This process's live section named (ns, escaped), with a reference. */
static struct section *find_named(char ns, const char *escaped)
{
    pthread_mutex_lock(&section_lock);
    struct section *s = named;
    while (s && (s->ns != ns || strcmp(s->name, escaped)))
        s = s->next_named;
    if (s)
        obj_retain(&s->obj);
    pthread_mutex_unlock(&section_lock);
    return s;
}

static void list_named(struct section *s, char ns, const char *escaped)
{
    s->ns = ns;
    memcpy(s->name, escaped, strlen(escaped) + 1);
    pthread_mutex_lock(&section_lock);
    s->next_named = named;
    named = s;
    pthread_mutex_unlock(&section_lock);
}

/* ---------------------------------------------------------------- create */
/* The access a handle gets from the protection it was created with (M10.1). */
static DWORD access_of(DWORD protect)
{
    switch (BASE_PROTECT(protect)) {
    case PAGE_READWRITE:         return SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE;
    case PAGE_EXECUTE_READ:
    case PAGE_EXECUTE_WRITECOPY: return SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_EXECUTE;
    case PAGE_EXECUTE_READWRITE: return SECTION_ALL_ACCESS;
    default:                     return SECTION_QUERY | SECTION_MAP_READ;
    }
}

/* M1.3: one of the six protections a section may have, and at most one of
 * SEC_COMMIT and SEC_RESERVE. */
static bool protection_valid(DWORD protect)
{
    DWORD base = BASE_PROTECT(protect), attributes = protect & ~0xFFu;
    if (attributes & ~(DWORD)SEC_KNOWN)
        return false;
    if ((attributes & SEC_COMMIT) && (attributes & SEC_RESERVE))
        return false;
    return base == PAGE_READONLY || base == PAGE_READWRITE || base == PAGE_WRITECOPY ||
           base == PAGE_EXECUTE_READ || base == PAGE_EXECUTE_READWRITE ||
           base == PAGE_EXECUTE_WRITECOPY;
}

static bool writes_file(DWORD protect)
{
    return BASE_PROTECT(protect) == PAGE_READWRITE || BASE_PROTECT(protect) == PAGE_EXECUTE_READWRITE;
}

/* A file-backed section's size and its file: M13. */
static DWORD file_backed(struct section *s, HANDLE file, uint64_t *size, DWORD protect)
{
    DWORD access;
    struct wm_file *f = file_from_handle(file, &access);
    if (!f)
        return ERROR_INVALID_HANDLE;
    s->file = (struct wm_object *)f;
    s->fd = file_fd(f);
    bool can_read = access & FILE_READ_DATA, can_write = access & FILE_WRITE_DATA;
    bool executes = BASE_PROTECT(protect) >= PAGE_EXECUTE_READ;
    if (!can_read || (writes_file(protect) && !can_write) || (executes && !(access & FILE_EXECUTE)))
        return ERROR_ACCESS_DENIED;                            /* M13.3 */
    uint64_t now;
    if (os_file_size(s->fd, &now) != 0)
        return ERROR_INVALID_HANDLE;
    if (*size == 0) {
        if (now == 0)
            return ERROR_FILE_INVALID;                         /* M13.1 */
        *size = now;
    } else if (*size > now) {
        if (!writes_file(protect))
            return ERROR_NOT_ENOUGH_MEMORY;                    /* M13.3: STATUS_SECTION_TOO_BIG */
        int err = os_file_resize(s->fd, *size);                /* M13.2 */
        if (err)
            return file_error(err, NULL);
    }
    s->size = *size;
    s->protect = BASE_PROTECT(protect);
    s->attributes = SEC_COMMIT;
    return 0;
}

/* CreateFileMapping with its name in UTF-8 (or NULL). */
static HANDLE create_mapping(HANDLE file, LPSECURITY_ATTRIBUTES security, DWORD protect,
                             uint64_t size, const char *name)
{
    if (!protection_valid(protect))
        return wm_set_error(ERROR_INVALID_PARAMETER), NULL;    /* M1.3 */
    bool page_file = file == INVALID_HANDLE_VALUE;
    if (page_file && size == 0)
        return wm_set_error(ERROR_INVALID_PARAMETER), NULL;    /* M1.1 */
    if (size > MAX_SECTION)
        return wm_set_error(ERROR_NOT_ENOUGH_MEMORY), NULL;    /* M1.5 */
    if ((protect & SEC_LARGE_PAGES))
        return wm_set_error(ERROR_PRIVILEGE_NOT_HELD), NULL;
    DWORD flags = security && security->bInheritHandle ? HANDLE_FLAG_INHERIT : 0;
    char ns = 0, escaped[SECTION_NAME_MAX + 1], path[512];
    if (name && *name) {
        DWORD e = parse_name(name, &ns, escaped);
        if (e)
            return wm_set_error(e), NULL;
        if (!section_namespace())
            return wm_set_error(ERROR_ACCESS_DENIED), NULL;
        struct section *old = find_named(ns, escaped);
        if (old) {                                             /* M10.1 */
            HANDLE h = obj_handle_new(&old->obj, access_of(protect), flags);
            section_release(old);
            if (h)
                wm_set_error(ERROR_ALREADY_EXISTS);
            return h;
        }
        name_path(path, sizeof path, ns, escaped);
    }
    struct section *s = section_new();
    if (!s)
        return NULL;
    DWORD attributes = (protect & SEC_RESERVE) ? SEC_RESERVE : SEC_COMMIT;
    attributes |= protect & (SEC_NOCACHE | SEC_WRITECOMBINE);
    uint64_t rounded = wm_align_up(size, os_page_size());
    DWORD err = 0;
    bool existed = false;
    if (!page_file) {
        err = file_backed(s, file, &size, protect);
        if (!err && ns) {
            for (;;) {                 /* the name: existing object, or ours published */
                err = open_published(path, s);
                if (err != ERROR_FILE_NOT_FOUND) {
                    existed = !err;
                    break;
                }
                err = publish(path, s, 0, s->protect, SEC_COMMIT, file_path((struct wm_file *)s->file),
                              size);
                if (err != ERROR_ALREADY_EXISTS)
                    break;
            }
            if (!err && existed) {      /* another process's object: not this file */
                obj_release(s->file);
                s->file = NULL;
            } else if (!err) {
                s->fd = file_fd((struct wm_file *)s->file);
                s->data_offset = 0;
                s->size = size;
            }
        }
    } else if (ns) {
        for (;;) {
            err = open_published(path, s);
            if (err != ERROR_FILE_NOT_FOUND) {
                existed = !err;
                break;
            }
            err = publish(path, s, rounded, BASE_PROTECT(protect), attributes, NULL, 0);
            if (err != ERROR_ALREADY_EXISTS)
                break;
        }
    } else {
        int e = os_file_anonymous(0, &s->fd);
        s->own_fd = !e;
        err = e ? file_error(e, NULL) : build_file(s->fd, rounded, BASE_PROTECT(protect), attributes);
        if (!err)
            err = attach_shared(s);
    }
    if (err) {
        section_release(s);
        return wm_set_error(err), NULL;
    }
    HANDLE h = obj_handle_new(&s->obj, access_of(protect), flags);
    if (h && ns)
        list_named(s, ns, escaped);            /* never a section without a handle (S1) */
    section_release(s);                        /* the handle holds it now */
    if (h)
        wm_set_error(existed ? ERROR_ALREADY_EXISTS : 0);      /* M1.6, M10.2 */
    return h;
}

static uint64_t join(DWORD high, DWORD low) { return (uint64_t)high << 32 | low; }

WINMEM_API HANDLE winmem_CreateFileMappingA(HANDLE file, LPSECURITY_ATTRIBUTES security,
                                            DWORD protect, DWORD size_high, DWORD size_low,
                                            LPCSTR name)
{
    return create_mapping(file, security, protect, join(size_high, size_low), name);
}

WINMEM_API HANDLE winmem_CreateFileMappingW(HANDLE file, LPSECURITY_ATTRIBUTES security,
                                            DWORD protect, DWORD size_high, DWORD size_low,
                                            LPCWSTR name)
{
    char utf8[4 * SECTION_NAME_MAX];
    if (name && wm_utf16_to_utf8(name, utf8, sizeof utf8) >= sizeof utf8)
        return wm_set_error(ERROR_INVALID_NAME), NULL;
    return create_mapping(file, security, protect, join(size_high, size_low), name ? utf8 : NULL);
}

/* ------------------------------------------------------------------ open */
/* The handle access OpenFileMapping's access asks for: FILE_MAP_COPY is
 * SECTION_QUERY, which a copy-on-write view also accepts (M11). */
static HANDLE open_mapping(DWORD access, BOOL inherit, const char *name)
{
    if (!name)
        return wm_set_error(ERROR_INVALID_PARAMETER), NULL;    /* M11.1 */
    char ns, escaped[SECTION_NAME_MAX + 1], path[512];
    DWORD err = parse_name(name, &ns, escaped);
    if (err)
        return wm_set_error(err), NULL;
    DWORD flags = inherit ? HANDLE_FLAG_INHERIT : 0;
    struct section *s = find_named(ns, escaped);
    if (s) {
        HANDLE h = obj_handle_new(&s->obj, access, flags);
        section_release(s);
        return h;
    }
    if (!section_namespace())
        return wm_set_error(ERROR_FILE_NOT_FOUND), NULL;
    if (!(s = section_new()))
        return NULL;
    name_path(path, sizeof path, ns, escaped);
    err = open_published(path, s);
    if (err) {
        section_release(s);
        return wm_set_error(err), NULL;
    }
    HANDLE h = obj_handle_new(&s->obj, access, flags);
    if (h)
        list_named(s, ns, escaped);
    section_release(s);
    return h;
}

WINMEM_API HANDLE winmem_OpenFileMappingA(DWORD access, BOOL inherit, LPCSTR name)
{
    return open_mapping(access, inherit, name);
}

WINMEM_API HANDLE winmem_OpenFileMappingW(DWORD access, BOOL inherit, LPCWSTR name)
{
    char utf8[4 * SECTION_NAME_MAX];
    if (name && wm_utf16_to_utf8(name, utf8, sizeof utf8) >= sizeof utf8)
        return wm_set_error(ERROR_INVALID_NAME), NULL;
    return open_mapping(access, inherit, name ? utf8 : NULL);
}

/* ------------------------------------------------------------- for views */
struct section *section_from_handle(HANDLE handle, DWORD *access)
{
    struct wm_object *obj = obj_from_handle(handle, OBJ_SECTION, access);
    return obj ? wm_container_of(obj, struct section, obj) : NULL;
}

bool section_page_committed(const struct section *s, uint64_t page)
{
    if (!(s->attributes & SEC_RESERVE))
        return true;
    uint64_t word = __atomic_load_n(&s->shared->committed[page / 64], __ATOMIC_ACQUIRE);
    return (word >> (page % 64)) & 1;
}

void section_commit_pages(struct section *s, uint64_t first, uint64_t end)
{
    for (uint64_t p = first; p < end; p++)
        __atomic_fetch_or(&s->shared->committed[p / 64], (uint64_t)1 << (p % 64),
                          __ATOMIC_RELEASE);
}

/* S1 for the named sections, S2 for their views (unnamed sections are
 * reached only through their handles and views). */
bool section_validate(const char **why)
{
    *why = NULL;
    vm_lock();
    pthread_mutex_lock(&section_lock);
    for (struct section *s = named; s && !*why; s = s->next_named) {
        if (!s->ns || !s->obj.handles)
            *why = "a section without a name or a handle is on the name list";
        uint32_t views = 0;
        for (const struct section_view *v = s->views; v && !*why; v = v->next, views++) {
            const struct vm_run *r = vm_run_at(v->base);
            if (!r || r->alloc->view != v || r->alloc->base != v->base || r->alloc->size != v->size)
                *why = "a view is not the vm allocation that points back to it";
            else if (v->offset + v->size > wm_align_up(s->size, os_page_size()))
                *why = "a view reaches past its section";
        }
        if (!*why && __atomic_load_n(&s->obj.refs, __ATOMIC_RELAXED) != s->obj.handles + views)
            *why = "a section's references are not its handles and views";
    }
    pthread_mutex_unlock(&section_lock);
    vm_unlock();
    return !*why;
}
