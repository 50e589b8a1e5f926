/*
 * except_bus.c — a file mapped past its end: touching a page the file does
 * not reach raises SIGBUS at the host, which winmem turns into
 * EXCEPTION_IN_PAGE_ERROR (0xC0000006) with the access, the address and
 * STATUS_END_OF_FILE (reference X2.4).  The handler lengthens the file and
 * continues; the access runs again and reads the file's new zeros.
 *
 * The mapping is made here with mmap, as the file-mapping layer will make
 * its views; the exception layer only sees the signal.
 */
#define _GNU_SOURCE
#include <winmem.h>
#include "except_unit.h"

#include <stdlib.h>
#include <sys/mman.h>

static int fd;
static size_t page;
static EXCEPTION_RECORD seen;
static volatile int calls;

static LONG CALLBACK lengthen_file(EXCEPTION_POINTERS *info)
{
    if (info->ExceptionRecord->ExceptionCode != EXCEPTION_IN_PAGE_ERROR)
        return EXCEPTION_CONTINUE_SEARCH;
    seen = *info->ExceptionRecord;
    calls++;
    return ftruncate(fd, (off_t)(2 * page)) == 0 ? EXCEPTION_CONTINUE_EXECUTION
                                                  : EXCEPTION_CONTINUE_SEARCH;
}

int main(void)
{
    char path[] = "/tmp/winmem-bus-XXXXXX";
    page = (size_t)sysconf(_SC_PAGESIZE);
    fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK_EQ(ftruncate(fd, (off_t)page), 0);
    char *view = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(view != MAP_FAILED);
    write_at(view, 'a');

    PVOID h = AddVectoredExceptionHandler(1, lengthen_file);
    CHECK_EQ(read_at(view + page + 10), 0);          /* past the end: SIGBUS */
    CHECK_EQ(calls, 1);
    CHECK_EQ(seen.ExceptionCode, EXCEPTION_IN_PAGE_ERROR);
    CHECK_EQ(seen.ExceptionFlags, 0);
    CHECK_EQ(seen.NumberParameters, 3);
    CHECK_EQ(seen.ExceptionInformation[0], 0);               /* read */
    CHECK_EQ(seen.ExceptionInformation[1], (ULONG_PTR)(view + page + 10));
    CHECK_EQ(seen.ExceptionInformation[2], 0xC0000011);      /* STATUS_END_OF_FILE */

    calls = 0;
    write_at(view + page + 20, 'b');                 /* the file reaches it now */
    CHECK_EQ(calls, 0);
    CHECK_EQ(view[0], 'a');
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    munmap(view, 2 * page);
    close(fd);
    return unit_finish();
}
