/*
 * os_watch.c — pages written since a point in time, recorded by the host.
 *
 * Linux 6.7 and later can do what MEM_WRITE_WATCH needs with no fault
 * reaching user space: a userfaultfd in asynchronous write-protect mode lets
 * the kernel resolve the first write to a protected page by itself, marking
 * the page written, and the PAGEMAP_SCAN ioctl on /proc/self/pagemap lists
 * the written pages of a range and protects them again in the same walk.
 * Writes the kernel makes for the program (read() into the buffer) count
 * like any other and never fail.  The userfaultfd is opened user-mode-only,
 * which unprivileged processes may do (only faults raised by user code would
 * be delivered, and in asynchronous mode none are delivered at all).
 *
 * The descriptors are opened once per process and kept.  A child made by
 * fork() does not inherit the registrations (winmem does not ask for fork
 * events), so in a child every page of a watched range reads as written.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* From Linux 6.7's uapi headers, which the build host may predate. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define WATCH_FEATURE_WP_UNPOPULATED (1ull << 13)
#define WATCH_FEATURE_WP_ASYNC       (1ull << 15)
struct watch_region { uint64_t start, end, categories; };
struct watch_scan {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define WATCH_PAGEMAP_SCAN       _IOWR('f', 16, struct watch_scan)
#define WATCH_PAGE_IS_WRITTEN    (1ull << 1)
#define WATCH_SCAN_WP_MATCHING   (1ull << 0)
#define WATCH_SCAN_CHECK_WPASYNC (1ull << 1)

static int uffd = -1, pagemap = -1, open_error;
static pthread_once_t open_once = PTHREAD_ONCE_INIT;

static void open_watch(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) {
        open_error = errno;
        return;
    }
    struct uffdio_api api = { .api = UFFD_API,
                              .features = WATCH_FEATURE_WP_ASYNC | WATCH_FEATURE_WP_UNPOPULATED };
    int pm = -1;
    if (ioctl(fd, UFFDIO_API, &api) != 0 || (pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0) {
        open_error = errno ? errno : ENOSYS;
        close(fd);
        return;
    }
    /* A scan of nothing tells whether the kernel has PAGEMAP_SCAN at all. */
    struct watch_scan probe = { .size = sizeof probe };
    if (ioctl(pm, WATCH_PAGEMAP_SCAN, &probe) < 0 && errno == ENOTTY) {
        open_error = ENOSYS;
        close(fd);
        close(pm);
        return;
    }
    uffd = fd;
    pagemap = pm;
}

int os_watch_open(void)
{
    pthread_once(&open_once, open_watch);
    return uffd >= 0 ? 0 : open_error;
}

int os_watch_start(void *addr, size_t size)
{
    struct uffdio_register reg = { .range = { (uintptr_t)addr, size },
                                   .mode = UFFDIO_REGISTER_MODE_WP };
    if (uffd < 0)
        return ENOSYS;
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
        return errno;
    return os_watch_clear(addr, size);
}

int os_watch_stop(void *addr, size_t size)
{
    struct uffdio_range range = { (uintptr_t)addr, size };
    return uffd >= 0 && ioctl(uffd, UFFDIO_UNREGISTER, &range) != 0 ? errno : 0;
}

int os_watch_clear(void *addr, size_t size)
{
    struct uffdio_writeprotect wp = { .range = { (uintptr_t)addr, size },
                                      .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (uffd < 0)
        return ENOSYS;
    return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0 ? errno : 0;
}

long os_watch_scan(void *addr, size_t size, bool clear, uintptr_t *pages, size_t max)
{
    enum { CHUNK = 64 };
    struct watch_region vec[CHUNK];
    size_t page = os_page_size(), found = 0;
    uintptr_t at = (uintptr_t)addr, end = at + size;
    if (pagemap < 0)
        return -ENOSYS;
    while (at < end && found < max) {
        struct watch_scan scan = {
            .size = sizeof scan, .start = at, .end = end,
            .vec = (uintptr_t)vec, .vec_len = CHUNK, .max_pages = max - found,
            .category_mask = WATCH_PAGE_IS_WRITTEN, .return_mask = WATCH_PAGE_IS_WRITTEN,
            .flags = clear ? WATCH_SCAN_WP_MATCHING | WATCH_SCAN_CHECK_WPASYNC : 0,
        };
        long n = ioctl(pagemap, WATCH_PAGEMAP_SCAN, &scan);
        if (n < 0)
            return -errno;
        for (long i = 0; i < n; i++)
            for (uintptr_t p = vec[i].start; p < vec[i].end && found < max; p += page)
                pages[found++] = p;
        if (scan.walk_end <= at)
            break;
        at = scan.walk_end;
    }
    return (long)found;
}
