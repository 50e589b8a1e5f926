/*
 * vm_write_watch.c — MEM_WRITE_WATCH, GetWriteWatch and ResetWriteWatch
 * (reference V12): which pages are reported, in what order, what a reset
 * clears, writes made by the system into the buffer (a read from a pipe),
 * and every refusal.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Not pinned: what a decommit does to a page's state (Wine keeps it written;
 * winmem forgets it; Windows does not document it).
 *
 * Against winmem the test also runs with WINMEM_WRITE_WATCH=protect (the
 * fallback for hosts before Linux 6.7), where a read() into a watched page
 * fails with EFAULT, as docs/EXCEPTIONS.md says: that check is skipped
 * whenever winmem_write_watch_mechanism() says the fallback is in use.
 */
#include "conformance.h"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
static int make_pipe(int fds[2]) { return _pipe(fds, 65536, _O_BINARY); }
#define pipe_read(fd, buf, n) _read((fd), (buf), (unsigned)(n))
#define pipe_write(fd, buf, n) _write((fd), (buf), (unsigned)(n))
#else
#include <unistd.h>
static int make_pipe(int fds[2]) { return pipe(fds); }
#define pipe_read read
#define pipe_write write
#endif

static SIZE_T page;
static PVOID addrs[64];

/* GetWriteWatch over [p, p + size) into addrs; the count, or -1. */
static long written(DWORD flags, char *p, SIZE_T size, ULONG_PTR max)
{
    ULONG_PTR n = max;
    DWORD gran = 0;
    if (GetWriteWatch(flags, p, size, addrs, &n, &gran) != 0)
        return -1;
    CHECK_EQ(gran, page);
    return (long)n;
}

static void test_reports(void)
{
    char *p = VirtualAlloc(NULL, 16 * page, MEM_RESERVE | MEM_WRITE_WATCH, PAGE_READWRITE);
    CHECK(p != NULL);
    CHECK_MBI(p, p, p, PAGE_READWRITE, 16 * page, MEM_RESERVE, 0, MEM_PRIVATE);   /* V12.1 */
    CHECK(VirtualAlloc(p, 8 * page, MEM_COMMIT, PAGE_READWRITE) == p);
    CHECK_EQ(written(0, p, 16 * page, 64), 0);

    p[0] = 1;
    p[3 * page + 5] = 1;
    p[5 * page] = 1;
    CHECK_EQ(*(volatile char *)(p + 6 * page), 0);          /* a read is not a write */
    CHECK_EQ(written(0, p, 16 * page, 64), 3);               /* ascending order */
    CHECK(addrs[0] == p && addrs[1] == p + 3 * page && addrs[2] == p + 5 * page);
    CHECK_EQ(written(0, p, 16 * page, 64), 3);               /* reading does not reset */

    /* A reset with room for two reports and clears those two only. */
    CHECK_EQ(written(WRITE_WATCH_FLAG_RESET, p, 16 * page, 2), 2);
    CHECK(addrs[0] == p && addrs[1] == p + 3 * page);
    CHECK_EQ(written(0, p, 16 * page, 64), 1);
    CHECK(addrs[0] == p + 5 * page);

    /* Any base inside the region, rounded down to its page. */
    CHECK_EQ(written(0, p + 100, 16 * page - 100, 64), 1);
    CHECK_EQ(written(0, p + 4 * page, 2 * page, 64), 1);
    CHECK_EQ(written(0, p + 6 * page, 2 * page, 64), 0);

    /* ResetWriteWatch clears; a page written again is reported again; a
     * written page stays reported after its protection changes. */
    CHECK_EQ(ResetWriteWatch(p, 16 * page), 0);
    CHECK_EQ(written(0, p, 16 * page, 64), 0);
    p[page] = 2;
    p[5 * page] = 2;
    DWORD old;
    CHECK(VirtualProtect(p + page, page, PAGE_READONLY, &old));
    CHECK_EQ(written(0, p, 16 * page, 64), 2);
    CHECK(addrs[0] == p + page && addrs[1] == p + 5 * page);
    CHECK_EQ(p[page], 2);

    /* Reserved and committed in one call: nothing written yet. */
    char *q = VirtualAlloc(NULL, 16 * page, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    CHECK(q != NULL);
    CHECK_EQ(written(0, q, 16 * page, 64), 0);
    q[15 * page + 4095] = 1;
    CHECK_EQ(written(0, q, 16 * page, 64), 1);
    CHECK(addrs[0] == q + 15 * page);
    CHECK(VirtualFree(q, 0, MEM_RELEASE));
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

/* V12.5: the system writing into the buffer for the program counts. */
static void test_system_writes(void)
{
    char *p = VirtualAlloc(NULL, 16 * page, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    static char msg[3 * 4096];
    int fds[2];
#ifndef _WIN32
    if (!strcmp(winmem_write_watch_mechanism(), "protect")) {
        cf_skipped++;
        CHECK(VirtualFree(p, 0, MEM_RELEASE));
        return;
    }
#endif
    memset(msg, 'x', sizeof msg);
    CHECK_EQ(make_pipe(fds), 0);
    CHECK_EQ(pipe_write(fds[1], msg, sizeof msg), (int)sizeof msg);
    CHECK_EQ(pipe_read(fds[0], p + 2 * page + 100, sizeof msg), (int)sizeof msg);
    CHECK_EQ(count_not(p + 2 * page + 100, sizeof msg, 'x'), 0);
    CHECK_EQ(written(0, p, 16 * page, 64), 4);                /* pages 2 to 5 */
    CHECK(addrs[0] == p + 2 * page && addrs[3] == p + 5 * page);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

static void test_refusals(void)
{
    char *p = VirtualAlloc(NULL, 16 * page, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    char *plain = VirtualAlloc(NULL, 16 * page, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ULONG_PTR n;
    DWORD gran;
    p[0] = 1;

#define REFUSED(call, error) do {                                              \
        SetLastError(0xdead);                                                 \
        CHECK_EQ((call), (UINT)-1);                                           \
        CHECK_ERR(error);                                                     \
    } while (0)
    n = 64;
    REFUSED(GetWriteWatch(0, p, 17 * page, addrs, &n, &gran), ERROR_INVALID_PARAMETER);
    REFUSED(GetWriteWatch(0, p, 0, addrs, &n, &gran), ERROR_INVALID_PARAMETER);
    REFUSED(GetWriteWatch(2, p, page, addrs, &n, &gran), ERROR_INVALID_PARAMETER);
    REFUSED(GetWriteWatch(0, plain, page, addrs, &n, &gran), ERROR_INVALID_PARAMETER);
    REFUSED(GetWriteWatch(0, free_range(0x10000), page, addrs, &n, &gran), ERROR_INVALID_PARAMETER);
    n = 0;
    REFUSED(GetWriteWatch(0, p, 16 * page, addrs, &n, &gran), ERROR_INVALID_PARAMETER);
    CHECK_EQ(n, 0);
    n = 64;
    REFUSED(GetWriteWatch(0, p, 16 * page, NULL, &n, &gran), ERROR_NOACCESS);
    REFUSED(GetWriteWatch(0, p, 16 * page, addrs, NULL, &gran), ERROR_NOACCESS);
    REFUSED(GetWriteWatch(0, p, 16 * page, addrs, &n, NULL), ERROR_NOACCESS);
    REFUSED(GetWriteWatch(0, p, 16 * page, (PVOID *)16, &n, &gran), ERROR_NOACCESS);
    CHECK_EQ(n, 64);

    REFUSED(ResetWriteWatch(p, 0), ERROR_INVALID_PARAMETER);
    REFUSED(ResetWriteWatch(plain, page), ERROR_INVALID_PARAMETER);
    REFUSED(ResetWriteWatch(p, 17 * page), ERROR_INVALID_PARAMETER);
    SetLastError(0xdead);
    CHECK_EQ(ResetWriteWatch(p, 16 * page), 0);
    CHECK_ERR(0xdead);                                       /* success leaves it */
    /* (MEM_WRITE_WATCH without MEM_RESERVE: vm_reserve_commit.c, V2.5.) */
    CHECK(VirtualFree(plain, 0, MEM_RELEASE));
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

int main(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    page = si.dwPageSize;
    test_reports();
    test_system_writes();
    test_refusals();
    return cf_finish();
}
