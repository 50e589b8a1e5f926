/*
 * os_file.c — files on the host, for the file API and for file mappings:
 * open, read, write, size, locks, anonymous files and mapping a file over a
 * reservation.  Every function returns 0 or an errno value (os.h).
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001u
#endif

static int host_prot(int prot)
{
    return ((prot & OS_PROT_READ) ? PROT_READ : 0) |
           ((prot & OS_PROT_WRITE) ? PROT_WRITE : 0) |
           ((prot & OS_PROT_EXEC) ? PROT_EXEC : 0);
}

int os_file_open(const char *path, unsigned flags, unsigned mode, int *fd)
{
    if (os_injected())
        return ENOMEM;
    int oflags = (flags & OS_OPEN_KEEP) ? 0 : O_CLOEXEC;
    if ((flags & OS_OPEN_READ) && (flags & OS_OPEN_WRITE))
        oflags |= O_RDWR;
    else if (flags & OS_OPEN_WRITE)
        oflags |= O_WRONLY;
    else
        oflags |= O_RDONLY;
    oflags |= ((flags & OS_OPEN_CREATE) ? O_CREAT : 0) | ((flags & OS_OPEN_EXCL) ? O_EXCL : 0) |
              ((flags & OS_OPEN_TRUNC) ? O_TRUNC : 0) | ((flags & OS_OPEN_SYNC) ? O_DSYNC : 0);
    int f;
    do
        f = open(path, oflags, (mode_t)mode);
    while (f < 0 && errno == EINTR);
    if (f < 0)
        return errno;
    *fd = f;
    return 0;
}

int os_file_close(int fd)
{
    /* Linux frees the descriptor even when close reports EINTR: never retry. */
    return close(fd) == 0 || errno == EINTR ? 0 : errno;
}

/* One loop for the four transfers: over short transfers and EINTR, at the
 * file position or (at) from offset.  A read stops at the end of
 * the file, and an error after some bytes moved ends it with those; a
 * write that moves nothing (a full device) or fails is an error. */
static int transfer(int fd, char *buf, size_t n, bool at, uint64_t offset, bool write_it,
                    size_t *done)
{
    size_t total = 0;
    int err = 0;
    while (total < n) {
        size_t left = n - total;
        off_t where = (off_t)(offset + total);      /* past 2^63: negative, EINVAL */
        ssize_t k = write_it ? (at ? pwrite(fd, buf + total, left, where)
                                   : write(fd, buf + total, left))
                             : (at ? pread(fd, buf + total, left, where)
                                   : read(fd, buf + total, left));
        if (k < 0 && errno == EINTR)
            continue;
        if (k > 0) {
            total += (size_t)k;
            continue;
        }
        if (write_it)
            err = k < 0 ? errno : ENOSPC;
        else if (k < 0 && !total)
            err = errno;
        break;
    }
    *done = total;
    return err;
}

int os_file_read(int fd, void *buf, size_t n, size_t *done)
{
    return transfer(fd, buf, n, false, 0, false, done);
}

int os_file_write(int fd, const void *buf, size_t n, size_t *done)
{
    return transfer(fd, (char *)buf, n, false, 0, true, done);
}

int os_file_pread(int fd, void *buf, size_t n, uint64_t offset, size_t *done)
{
    return transfer(fd, buf, n, true, offset, false, done);
}

int os_file_pwrite(int fd, const void *buf, size_t n, uint64_t offset, size_t *done)
{
    return transfer(fd, (char *)buf, n, true, offset, true, done);
}

int os_file_seek(int fd, int64_t offset, int whence, uint64_t *position)
{
    static const int how[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    off_t at = lseek(fd, (off_t)offset, how[whence]);
    if (at < 0)
        return errno;
    *position = (uint64_t)at;
    return 0;
}

int os_file_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

int os_file_resize(int fd, uint64_t size)
{
    if (os_injected())
        return ENOSPC;
    int err;
    do
        err = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
    while (err == EINTR);
    return err;
}

int os_file_sync(int fd)
{
    return fsync(fd) == 0 ? 0 : errno;
}

int os_file_keep(int fd, bool keep)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0)
        return errno;
    flags = keep ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
    return fcntl(fd, F_SETFD, flags) == 0 ? 0 : errno;
}

int os_file_id(int fd, struct os_file_id *id)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno;
    *id = (struct os_file_id){ (uint64_t)st.st_dev, (uint64_t)st.st_ino };
    return 0;
}

int os_file_path_id(const char *path, struct os_file_id *id)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    *id = (struct os_file_id){ (uint64_t)st.st_dev, (uint64_t)st.st_ino };
    return 0;
}

bool os_file_is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int os_file_cwd(char *buf, size_t room)
{
    return getcwd(buf, room) ? 0 : errno;
}

int os_file_unlink(const char *path)
{
    return unlink(path) == 0 ? 0 : errno;
}

int os_file_link(const char *from, const char *to)
{
    return link(from, to) == 0 ? 0 : errno;
}

int os_file_lock(int fd, int how)
{
    int op = (how & OS_LOCK_NONE) ? LOCK_UN : (how & OS_LOCK_EXCLUSIVE) ? LOCK_EX : LOCK_SH;
    if (how & OS_LOCK_NOWAIT)
        op |= LOCK_NB;
    int err;
    do
        err = flock(fd, op) == 0 ? 0 : errno;
    while (err == EINTR);
    return err;
}

int os_dir_private(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return errno;
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
        return EACCES;
    return 0;
}

uint32_t os_user_id(void) { return (uint32_t)getuid(); }

int os_file_anonymous(uint64_t size, int *fd)
{
    if (os_injected())
        return ENOMEM;
    int f = -1;
#ifdef SYS_memfd_create
    f = (int)syscall(SYS_memfd_create, "winmem-section", MFD_CLOEXEC);
#endif
    if (f < 0)          /* no memfd: an unlinked file on the shared-memory file system */
        f = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (f < 0)
        return errno;
    if (size && ftruncate(f, (off_t)size) != 0) {
        int err = errno;
        close(f);
        return err;
    }
    *fd = f;
    return 0;
}

int os_map_file(void *addr, size_t size, int prot, bool shared, int fd, uint64_t offset)
{
    if (os_injected())
        return ENOMEM;
    void *p = mmap(addr, size, host_prot(prot), (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED,
                   fd, (off_t)offset);
    return p == MAP_FAILED ? errno : 0;
}

int os_flush_mapped(void *addr, size_t size)
{
    return msync(addr, size, MS_SYNC) == 0 ? 0 : errno;
}

/* /proc/self/pagemap: bit 63 present, 62 swapped, 61 a page of a file (or
 * shared).  A private mapping's page that is present and not the file's,
 * or swapped out, is the process's own copy. */
int os_pages_copied(const void *start, size_t pages, bool *copied)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t page = os_page_size();
    uint64_t entries[64];
    int err = 0;
    for (size_t done = 0; done < pages && !err;) {
        size_t n = pages - done < 64 ? pages - done : 64;
        off_t at = (off_t)(((uintptr_t)start / page + done) * sizeof entries[0]);
        ssize_t got = pread(fd, entries, n * sizeof entries[0], at);
        if (got != (ssize_t)(n * sizeof entries[0])) {
            err = got < 0 ? errno : EIO;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t e = entries[i];
            copied[done + i] = ((e >> 63) & 1 && !((e >> 61) & 1)) || ((e >> 62) & 1);
        }
        done += n;
    }
    close(fd);
    return err;
}
