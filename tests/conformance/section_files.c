/*
 * section_files.c — conformance of the small file API that makes file
 * mappings possible, of kernel handles, and of file-backed sections.
 *
 * Pinned:
 * - CreateFileA's creation dispositions: CREATE_NEW on an existing file fails
 *   with ERROR_FILE_EXISTS; CREATE_ALWAYS and OPEN_ALWAYS succeed with last
 *   error ERROR_ALREADY_EXISTS when the file existed and 0 when it did not
 *   (CREATE_ALWAYS truncates, OPEN_ALWAYS keeps the contents); OPEN_EXISTING
 *   and TRUNCATE_EXISTING on a missing file fail with ERROR_FILE_NOT_FOUND;
 *   TRUNCATE_EXISTING truncates; a disposition of 0 or 6 is
 *   ERROR_INVALID_PARAMETER; a missing directory is ERROR_PATH_NOT_FOUND.  A
 *   failed CreateFileA returns INVALID_HANDLE_VALUE, never NULL.
 * - Access: ReadFile on a write-only handle and WriteFile on a read-only handle
 *   fail with ERROR_ACCESS_DENIED and report 0 bytes; FlushFileBuffers and
 *   SetEndOfFile need write access.  Share modes within one process:
 *   incompatible opens fail with ERROR_SHARING_VIOLATION.
 * - ReadFile/WriteFile byte counts, the zero-byte transfer, reading at and past
 *   the end of the file, SetFilePointerEx from each origin and the position it
 *   reports, ERROR_NEGATIVE_SEEK (and that the position does not move),
 *   SetEndOfFile growing and shrinking, GetFileSize and GetFileSizeEx.
 * - DeleteFileA, and DeleteFileA of a missing file (ERROR_FILE_NOT_FOUND).
 * - Handles: CloseHandle of a closed handle and of NULL (ERROR_INVALID_HANDLE),
 *   the same for the other calls taking a handle; DuplicateHandle within the
 *   process (a new value, one shared file position, both must be closed, the
 *   access asked for, DUPLICATE_CLOSE_SOURCE); GetHandleInformation and
 *   SetHandleInformation with HANDLE_FLAG_INHERIT and
 *   HANDLE_FLAG_PROTECT_FROM_CLOSE; CloseHandle leaves a protected handle open.
 * - File-backed sections (vm.md M13, M8, M2-M6): an empty file with size 0 is
 *   ERROR_FILE_INVALID; a larger size grows the file; a read-only file refuses
 *   PAGE_READWRITE (ERROR_ACCESS_DENIED) and a PAGE_READONLY section larger
 *   than the file (ERROR_NOT_ENOUGH_MEMORY); views beyond the section are
 *   ERROR_ACCESS_DENIED; size 0 maps the whole file (MEM_MAPPED, RegionSize
 *   rounded up to pages); a view at a 64 KiB offset shows the file's bytes
 *   there; bytes written before mapping are seen; bytes written through a view
 *   reach the file after FlushViewOfFile and after UnmapViewOfFile +
 *   CloseHandle; FILE_MAP_COPY writes never reach the section or the file.
 *
 * Where Wine and Windows disagree (WINDOWS_ONLY): TRUNCATE_EXISTING without
 * GENERIC_WRITE fails on Windows (the documentation requires GENERIC_WRITE;
 * Wine's own test records ERROR_INVALID_PARAMETER), Wine 8 truncates.
 *
 * The bytes a growing section adds read zero as vm.md M13.2 says; note that
 * CreateFileMapping's documentation leaves them to the file system ("not
 * guaranteed to be zero").
 *
 * Deliberately not pinned (Microsoft's documentation leaves them open even
 * where Wine shows a value):
 * - whether a view sees later WriteFile calls, or ReadFile sees view writes
 *   before a flush: MapViewOfFile's documentation says a view "is not
 *   guaranteed to be coherent" with ReadFile/WriteFile (Wine is coherent);
 * - the bytes SetEndOfFile adds: "the contents of the file between the old end
 *   of the file and the new end of the file are not defined" (Wine: zeros);
 * - the error code of CloseHandle on a protected handle (Wine:
 *   ERROR_INVALID_HANDLE; the documentation only says the handle stays open),
 *   of SetEndOfFile on a read-only handle (Wine: ERROR_INVALID_PARAMETER) and
 *   of SetFilePointerEx with an undefined move method (Wine: 87);
 * - whether DUPLICATE_CLOSE_SOURCE may return the source's own value (Wine
 *   does), so the test observes the closing through the share mode instead.
 *
 * Files are created in the current directory with names built from the
 * process id, and every one of them is deleted again.  Windows raises an
 * exception from CloseHandle on an invalid handle only under a debugger; run
 * this program without one.
 */
#include "conformance.h"

enum { PG = 0x1000, GRAN = 0x10000 };

/* The size of the patterned file the section tests map: not a multiple of
 * the page size, and longer than one 64 KiB granule. */
#define BIG 0x12345

static char big[BIG];     /* the pattern, written to files */
static char back[BIG];    /* what is read back from them */

/* The byte at offset i of the patterned file.  Unlike cf_fill's pattern,
 * whose period is 256 bytes, it differs between offsets 64 KiB apart, so a
 * view at the wrong offset cannot pass for the right one. */
static char pat(SIZE_T i)
{
    return (char)(i * 13 + (i >> 12) * 7 + 1);
}

/* How many of the n bytes at p differ from the pattern at file offset off. */
static SIZE_T pat_bad(const char *p, SIZE_T off, SIZE_T n)
{
    SIZE_T i, k = 0;
    for (i = 0; i < n; i++)
        k += p[i] != pat(off + i);
    return k;
}

/* name = "winmem-sf-<pid>-<tag>.tmp" in the current directory. */
static void file_name(char *name, size_t size, const char *tag)
{
    snprintf(name, size, "winmem-sf-%lu-%s.tmp", (unsigned long)GetCurrentProcessId(), tag);
}

static HANDLE open_file(const char *name, DWORD access, DWORD share, DWORD disposition)
{
    return CreateFileA(name, access, share, NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
}

/* CreateFileA must fail with INVALID_HANDLE_VALUE and last error err.  Should
 * it wrongly succeed, the handle is closed again. */
#define CHECK_OPEN_FAILS(name, access, share, disposition, err) do {          \
        HANDLE h_;                                                            \
        SetLastError(0xdeadbeef);                                             \
        h_ = open_file((name), (access), (share), (disposition));             \
        CHECK_EQ(h_, INVALID_HANDLE_VALUE);                                   \
        CHECK_ERR(err);                                                       \
        if (h_ != INVALID_HANDLE_VALUE) CloseHandle(h_);                      \
    } while (0)

/* The size of the file behind h, through GetFileSizeEx. */
static LONGLONG size_of(HANDLE h)
{
    LARGE_INTEGER s;
    s.QuadPart = -1;
    if (!GetFileSizeEx(h, &s)) return -1;
    return s.QuadPart;
}

/* Moves h's file pointer and returns the new position (-1 on failure). */
static LONGLONG seek(HANDLE h, LONGLONG distance, DWORD method)
{
    LARGE_INTEGER d, pos;
    d.QuadPart = distance;
    pos.QuadPart = -1;
    if (!SetFilePointerEx(h, d, &pos, method)) return -1;
    return pos.QuadPart;
}

/* Reads n bytes at offset off of h into p; returns the byte count read. */
static DWORD read_at(HANDLE h, LONGLONG off, void *p, DWORD n)
{
    DWORD got = 0;
    if (seek(h, off, FILE_BEGIN) != off) return 0;
    if (!ReadFile(h, p, n, &got, NULL)) return 0;
    return got;
}

/* Creates name holding size bytes of the pattern; TRUE when it worked. */
static BOOL make_pattern_file(const char *name, DWORD size)
{
    HANDLE h = open_file(name, GENERIC_WRITE, 0, CREATE_NEW);
    DWORD n = 0;
    BOOL ok;
    if (h == INVALID_HANDLE_VALUE) return FALSE;
    ok = WriteFile(h, big, size, &n, NULL) && n == size;
    return CloseHandle(h) && ok;
}

static void test_dispositions(void)
{
    char name[64], missing[64], nodir[96];
    HANDLE h;
    DWORD n;

    file_name(name, sizeof name, "disp");
    file_name(missing, sizeof missing, "missing");
    snprintf(nodir, sizeof nodir, "winmem-sf-%lu-nodir/x.tmp", (unsigned long)GetCurrentProcessId());

    /* A file that does not exist: the opening dispositions fail, and a
     * failed CreateFileA returns INVALID_HANDLE_VALUE, not NULL. */
    CHECK_OPEN_FAILS(missing, GENERIC_READ, 0, OPEN_EXISTING, ERROR_FILE_NOT_FOUND);
    CHECK_OPEN_FAILS(missing, GENERIC_READ | GENERIC_WRITE, 0, TRUNCATE_EXISTING,
                     ERROR_FILE_NOT_FOUND);
    SetLastError(0xdeadbeef);
    CHECK_EQ(DeleteFileA(missing), FALSE);
    CHECK_ERR(ERROR_FILE_NOT_FOUND);

    /* A directory in the path that does not exist */
    CHECK_OPEN_FAILS(nodir, GENERIC_READ, 0, OPEN_EXISTING, ERROR_PATH_NOT_FOUND);
    CHECK_OPEN_FAILS(nodir, GENERIC_READ | GENERIC_WRITE, 0, CREATE_ALWAYS, ERROR_PATH_NOT_FOUND);

    /* OPEN_ALWAYS creates a missing file and sets the last error to 0 */
    SetLastError(0xdeadbeef);
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, OPEN_ALWAYS);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_ERR(0);
    if (h == INVALID_HANDLE_VALUE) return;
    CHECK_EQ(WriteFile(h, "abc", 3, &n, NULL), TRUE);
    CHECK_EQ(CloseHandle(h), TRUE);

    /* ... and opens an existing one with ERROR_ALREADY_EXISTS, keeping it */
    SetLastError(0xdeadbeef);
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, OPEN_ALWAYS);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_ERR(ERROR_ALREADY_EXISTS);
    CHECK_EQ(size_of(h), 3);
    CloseHandle(h);

    /* CREATE_NEW refuses an existing file */
    CHECK_OPEN_FAILS(name, GENERIC_READ | GENERIC_WRITE, 0, CREATE_NEW, ERROR_FILE_EXISTS);

    /* CREATE_ALWAYS on an existing file: ERROR_ALREADY_EXISTS and truncated */
    SetLastError(0xdeadbeef);
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, CREATE_ALWAYS);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_ERR(ERROR_ALREADY_EXISTS);
    CHECK_EQ(size_of(h), 0);
    CHECK_EQ(WriteFile(h, "0123456789", 10, &n, NULL), TRUE);
    CloseHandle(h);

    /* TRUNCATE_EXISTING with write access truncates */
    h = open_file(name, GENERIC_WRITE, 0, TRUNCATE_EXISTING);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_EQ(size_of(h), 0);
    CHECK_EQ(WriteFile(h, "0123456789", 10, &n, NULL), TRUE);
    CloseHandle(h);

    /* TRUNCATE_EXISTING without GENERIC_WRITE: the documentation requires
     * GENERIC_WRITE, and Wine's own test records ERROR_INVALID_PARAMETER on
     * Windows (todo_wine there).  Wine 8 opens and truncates the file, so the
     * call is not made under Wine at all. */
    WINDOWS_ONLY {
        CHECK_OPEN_FAILS(name, GENERIC_READ, 0, TRUNCATE_EXISTING, ERROR_INVALID_PARAMETER);
        h = open_file(name, GENERIC_READ, 0, OPEN_EXISTING);
        CHECK_EQ(size_of(h), 10);
        if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
    }

    /* A disposition that is none of the five values */
    CHECK_OPEN_FAILS(name, GENERIC_READ, 0, 0, ERROR_INVALID_PARAMETER);
    CHECK_OPEN_FAILS(name, GENERIC_READ, 0, 6, ERROR_INVALID_PARAMETER);

    /* CREATE_ALWAYS on a missing file sets the last error to 0 */
    CHECK_EQ(DeleteFileA(name), TRUE);
    SetLastError(0xdeadbeef);
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, CREATE_ALWAYS);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_ERR(0);
    if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
    CHECK_EQ(DeleteFileA(name), TRUE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(DeleteFileA(name), FALSE);
    CHECK_ERR(ERROR_FILE_NOT_FOUND);
}

static void test_access_and_sharing(void)
{
    char name[64], buf[16];
    HANDLE w, r, h;
    DWORD n;

    file_name(name, sizeof name, "access");
    w = open_file(name, GENERIC_WRITE, FILE_SHARE_READ, CREATE_NEW);
    CHECK(w != INVALID_HANDLE_VALUE);
    if (w == INVALID_HANDLE_VALUE) return;
    CHECK_EQ(WriteFile(w, "0123456789", 10, &n, NULL), TRUE);

    /* ReadFile on a write-only handle; the count is zeroed first */
    n = 77;
    SetLastError(0xdeadbeef);
    CHECK_EQ(ReadFile(w, buf, 4, &n, NULL), FALSE);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    CHECK_EQ(n, 0);

    /* The writer shares reading only: a reader that does not let the file be
     * written is refused, one that shares writing is let in. */
    CHECK_OPEN_FAILS(name, GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING, ERROR_SHARING_VIOLATION);
    r = open_file(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING);
    CHECK(r != INVALID_HANDLE_VALUE);
    /* ... and a second writer is refused: the first open did not share writing */
    CHECK_OPEN_FAILS(name, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING,
                     ERROR_SHARING_VIOLATION);

    /* WriteFile on a read-only handle */
    n = 77;
    SetLastError(0xdeadbeef);
    CHECK_EQ(WriteFile(r, "x", 1, &n, NULL), FALSE);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    CHECK_EQ(n, 0);

    /* The reader sees what the writer wrote */
    memset(buf, 0, sizeof buf);
    CHECK_EQ(ReadFile(r, buf, sizeof buf, &n, NULL), TRUE);
    CHECK_EQ(n, 10);
    CHECK(memcmp(buf, "0123456789", 10) == 0);

    /* FlushFileBuffers needs GENERIC_WRITE (.NET's tests record
     * ERROR_ACCESS_DENIED on Windows for a read-only handle, as Wine does) */
    CHECK_EQ(FlushFileBuffers(w), TRUE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(FlushFileBuffers(r), FALSE);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    /* SetEndOfFile needs GENERIC_WRITE too; the error code is not pinned */
    CHECK_EQ(SetEndOfFile(r), FALSE);
    CHECK_EQ(size_of(r), 10);

    CHECK_EQ(CloseHandle(r), TRUE);
    CHECK_EQ(CloseHandle(w), TRUE);

    /* An exclusive open (share mode 0) refuses every other open */
    h = open_file(name, GENERIC_READ, 0, OPEN_EXISTING);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_OPEN_FAILS(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING,
                     ERROR_SHARING_VIOLATION);
    if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_read_write_seek(void)
{
    char name[64], buf[64];
    HANDLE h;
    DWORD n, high;
    LARGE_INTEGER d, pos;

    file_name(name, sizeof name, "rw");
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, CREATE_NEW);
    CHECK(h != INVALID_HANDLE_VALUE);
    if (h == INVALID_HANDLE_VALUE) return;

    /* Byte counts; the position follows the data */
    n = 0;
    CHECK_EQ(WriteFile(h, big, 100, &n, NULL), TRUE);
    CHECK_EQ(n, 100);
    CHECK_EQ(seek(h, 0, FILE_CURRENT), 100);
    /* A zero-byte write and read succeed, move nothing and keep the last error */
    n = 77;
    SetLastError(0xdeadbeef);
    CHECK_EQ(WriteFile(h, big, 0, &n, NULL), TRUE);
    CHECK_EQ(n, 0);
    CHECK_ERR(0xdeadbeef);
    n = 77;
    CHECK_EQ(ReadFile(h, buf, 0, &n, NULL), TRUE);
    CHECK_EQ(n, 0);
    CHECK_EQ(seek(h, 0, FILE_CURRENT), 100);

    /* Reading at the end of the file: TRUE with 0 bytes */
    n = 77;
    CHECK_EQ(ReadFile(h, buf, 10, &n, NULL), TRUE);
    CHECK_EQ(n, 0);

    /* SetFilePointerEx from each origin, and the position it reports */
    CHECK_EQ(seek(h, 10, FILE_BEGIN), 10);
    CHECK_EQ(ReadFile(h, buf, 20, &n, NULL), TRUE);
    CHECK_EQ(n, 20);
    CHECK_EQ(pat_bad(buf, 10, 20), 0);
    CHECK_EQ(seek(h, 0, FILE_CURRENT), 30);
    CHECK_EQ(seek(h, -5, FILE_CURRENT), 25);
    CHECK_EQ(seek(h, -10, FILE_END), 90);
    CHECK_EQ(ReadFile(h, buf, 64, &n, NULL), TRUE);
    CHECK_EQ(n, 10);
    CHECK_EQ(pat_bad(buf, 90, 10), 0);
    CHECK_EQ(seek(h, 0, FILE_END), 100);
    /* NULL for the new position is allowed */
    d.QuadPart = 40;
    CHECK_EQ(SetFilePointerEx(h, d, NULL, FILE_BEGIN), TRUE);
    CHECK_EQ(seek(h, 0, FILE_CURRENT), 40);

    /* A resulting position before the start: ERROR_NEGATIVE_SEEK, and the
     * file pointer does not move (SetFilePointer's documentation) */
    d.QuadPart = -1;
    SetLastError(0xdeadbeef);
    CHECK_EQ(SetFilePointerEx(h, d, &pos, FILE_BEGIN), FALSE);
    CHECK_ERR(ERROR_NEGATIVE_SEEK);
    d.QuadPart = -41;
    SetLastError(0xdeadbeef);
    CHECK_EQ(SetFilePointerEx(h, d, &pos, FILE_CURRENT), FALSE);
    CHECK_ERR(ERROR_NEGATIVE_SEEK);
    d.QuadPart = -101;
    SetLastError(0xdeadbeef);
    CHECK_EQ(SetFilePointerEx(h, d, &pos, FILE_END), FALSE);
    CHECK_ERR(ERROR_NEGATIVE_SEEK);
    CHECK_EQ(seek(h, 0, FILE_CURRENT), 40);

    /* A position past the end is allowed and does not grow the file; reading
     * there gives 0 bytes; writing there grows the file to the end of the
     * write (the bytes in between are not defined) */
    CHECK_EQ(seek(h, 150, FILE_BEGIN), 150);
    CHECK_EQ(size_of(h), 100);
    n = 77;
    CHECK_EQ(ReadFile(h, buf, 10, &n, NULL), TRUE);
    CHECK_EQ(n, 0);
    CHECK_EQ(WriteFile(h, "Z", 1, &n, NULL), TRUE);
    CHECK_EQ(size_of(h), 151);

    /* SetEndOfFile grows the file to the file pointer, which stays put ... */
    CHECK_EQ(seek(h, 0x3000, FILE_BEGIN), 0x3000);
    CHECK_EQ(SetEndOfFile(h), TRUE);
    CHECK_EQ(size_of(h), 0x3000);
    CHECK_EQ(seek(h, 0, FILE_CURRENT), 0x3000);
    /* ... and shrinks it; the data before the new end is kept */
    CHECK_EQ(seek(h, 50, FILE_BEGIN), 50);
    CHECK_EQ(SetEndOfFile(h), TRUE);
    CHECK_EQ(size_of(h), 50);
    CHECK_EQ(read_at(h, 0, buf, 64), 50);
    CHECK_EQ(pat_bad(buf, 0, 50), 0);

    /* GetFileSize with and without the high DWORD */
    CHECK_EQ(GetFileSize(h, NULL), 50);
    high = 0xdeadbeef;
    CHECK_EQ(GetFileSize(h, &high), 50);
    CHECK_EQ(high, 0);

    CHECK_EQ(FlushFileBuffers(h), TRUE);
    CHECK_EQ(CloseHandle(h), TRUE);
    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_handle_errors(void)
{
    char name[64], buf[4];
    HANDLE h, d;
    DWORD n, flags;
    LARGE_INTEGER s;

    file_name(name, sizeof name, "handles");
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, CREATE_NEW);
    CHECK(h != INVALID_HANDLE_VALUE);
    if (h == INVALID_HANDLE_VALUE) return;
    CHECK_EQ(CloseHandle(h), TRUE);

    /* h is now closed (and no handle was made since, so its value is free):
     * every call taking it fails with ERROR_INVALID_HANDLE */
    SetLastError(0xdeadbeef);
    CHECK_EQ(CloseHandle(h), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GetHandleInformation(h, &flags), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &d, 0, FALSE,
                             DUPLICATE_SAME_ACCESS), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(ReadFile(h, buf, 1, &n, NULL), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GetFileSize(h, NULL), INVALID_FILE_SIZE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GetFileSizeEx(h, &s), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    /* vm.md M1.4: a bogus file handle */
    SetLastError(0xdeadbeef);
    CHECK_EQ(CreateFileMappingA(h, NULL, PAGE_READONLY, 0, 0, NULL), NULL);
    CHECK_ERR(ERROR_INVALID_HANDLE);

    /* NULL is never a handle */
    SetLastError(0xdeadbeef);
    CHECK_EQ(CloseHandle(NULL), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GetHandleInformation(NULL, &flags), FALSE);
    CHECK_ERR(ERROR_INVALID_HANDLE);

    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_handle_flags(void)
{
    char name[64], buf[4];
    SECURITY_ATTRIBUTES sa;
    HANDLE h, inh;
    DWORD flags, n;

    file_name(name, sizeof name, "flags");
    h = open_file(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, CREATE_NEW);
    CHECK(h != INVALID_HANDLE_VALUE);
    if (h == INVALID_HANDLE_VALUE) return;
    CHECK_EQ(WriteFile(h, "abcdef", 6, &n, NULL), TRUE);

    /* No security attributes: the handle is not inheritable */
    flags = 0xdeadbeef;
    CHECK_EQ(GetHandleInformation(h, &flags), TRUE);
    CHECK_EQ(flags, 0);

    /* bInheritHandle TRUE in the security attributes */
    sa.nLength = sizeof sa;
    sa.lpSecurityDescriptor = NULL;
    sa.bInheritHandle = TRUE;
    inh = CreateFileA(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING,
                      FILE_ATTRIBUTE_NORMAL, NULL);
    CHECK(inh != INVALID_HANDLE_VALUE);
    flags = 0xdeadbeef;
    CHECK_EQ(GetHandleInformation(inh, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_INHERIT);
    if (inh != INVALID_HANDLE_VALUE) CloseHandle(inh);

    /* The mask says which flags change */
    CHECK_EQ(SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT), TRUE);
    CHECK_EQ(GetHandleInformation(h, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_INHERIT);
    CHECK_EQ(SetHandleInformation(h, HANDLE_FLAG_PROTECT_FROM_CLOSE,
                                  HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE), TRUE);
    CHECK_EQ(GetHandleInformation(h, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE);
    CHECK_EQ(SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0), TRUE);
    CHECK_EQ(GetHandleInformation(h, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_PROTECT_FROM_CLOSE);
    CHECK_EQ(SetHandleInformation(h, 0, HANDLE_FLAG_INHERIT), TRUE);
    CHECK_EQ(GetHandleInformation(h, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_PROTECT_FROM_CLOSE);

    /* CloseHandle does not close a protected handle: it fails (the error
     * code is not documented) and the handle keeps working */
    CHECK_EQ(CloseHandle(h), FALSE);
    CHECK_EQ(GetHandleInformation(h, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_PROTECT_FROM_CLOSE);
    CHECK_EQ(read_at(h, 2, buf, 2), 2);
    CHECK(memcmp(buf, "cd", 2) == 0);

    /* Unprotected, it closes */
    CHECK_EQ(SetHandleInformation(h, HANDLE_FLAG_PROTECT_FROM_CLOSE, 0), TRUE);
    CHECK_EQ(CloseHandle(h), TRUE);
    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_duplicate(void)
{
    char name[64], buf[4];
    HANDLE a, d, r, h;
    DWORD n, flags;

    file_name(name, sizeof name, "dup");
    a = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, CREATE_NEW);
    CHECK(a != INVALID_HANDLE_VALUE);
    if (a == INVALID_HANDLE_VALUE) return;

    /* A duplicate is a new handle value for the same file object ... */
    d = NULL;
    CHECK_EQ(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &d, 0, TRUE,
                             DUPLICATE_SAME_ACCESS), TRUE);
    CHECK(d != NULL && d != a);
    /* ... inheritable as asked, while the source stays as it was ... */
    CHECK_EQ(GetHandleInformation(d, &flags), TRUE);
    CHECK_EQ(flags, HANDLE_FLAG_INHERIT);
    CHECK_EQ(GetHandleInformation(a, &flags), TRUE);
    CHECK_EQ(flags, 0);
    /* ... with one file position for both (DuplicateHandle's remarks) */
    CHECK_EQ(WriteFile(a, "abcdef", 6, &n, NULL), TRUE);
    CHECK_EQ(seek(d, 0, FILE_CURRENT), 6);
    CHECK_EQ(seek(d, 2, FILE_BEGIN), 2);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(ReadFile(a, buf, 2, &n, NULL), TRUE);
    CHECK_EQ(n, 2);
    CHECK(memcmp(buf, "cd", 2) == 0);
    CHECK_EQ(seek(d, 0, FILE_CURRENT), 4);

    /* The file object lives while either handle does: a was opened with
     * share mode 0, so any other open fails until both are closed */
    CHECK_EQ(CloseHandle(a), TRUE);
    CHECK_OPEN_FAILS(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING,
                     ERROR_SHARING_VIOLATION);
    CHECK_EQ(size_of(d), 6);
    CHECK_EQ(CloseHandle(d), TRUE);

    /* A duplicate with less access than its source */
    a = open_file(name, GENERIC_READ | GENERIC_WRITE, 0, OPEN_EXISTING);
    CHECK(a != INVALID_HANDLE_VALUE);
    r = NULL;
    CHECK_EQ(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &r, GENERIC_READ, FALSE,
                             0), TRUE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(WriteFile(r, "x", 1, &n, NULL), FALSE);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    CHECK_EQ(read_at(r, 4, buf, 2), 2);
    CHECK(memcmp(buf, "ef", 2) == 0);
    CHECK_EQ(CloseHandle(r), TRUE);

    /* DUPLICATE_CLOSE_SOURCE closes a: once the duplicate is closed too,
     * nothing holds the file and an exclusive open succeeds.  (Whether the
     * duplicate may reuse a's value is not documented, so it is not tested.) */
    d = NULL;
    CHECK_EQ(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &d, 0, FALSE,
                             DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE), TRUE);
    CHECK_EQ(size_of(d), 6);
    CHECK_EQ(CloseHandle(d), TRUE);
    h = open_file(name, GENERIC_READ, 0, OPEN_EXISTING);
    CHECK(h != INVALID_HANDLE_VALUE);
    if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_section_empty_and_grow(void)
{
    char name[64], buf[8];
    HANDLE f, r, m;
    DWORD high;
    char *v;

    file_name(name, sizeof name, "grow");
    f = open_file(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  CREATE_NEW);
    CHECK(f != INVALID_HANDLE_VALUE);
    if (f == INVALID_HANDLE_VALUE) return;

    /* M13.1 an empty file with size 0 */
    SetLastError(0xdeadbeef);
    CHECK_EQ(CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL), NULL);
    CHECK_ERR(ERROR_FILE_INVALID);
    SetLastError(0xdeadbeef);
    CHECK_EQ(CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0, NULL), NULL);
    CHECK_ERR(ERROR_FILE_INVALID);

    /* M13.2 a writable section larger than the file grows the file ... */
    m = CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0x1800, NULL);
    CHECK(m != NULL);
    if (!m) { CloseHandle(f); DeleteFileA(name); return; }
    high = 0xdeadbeef;
    CHECK_EQ(GetFileSize(f, &high), 0x1800);
    CHECK_EQ(high, 0);
    CHECK_EQ(size_of(f), 0x1800);

    /* ... and the new bytes read zero (vm.md M13.2; CreateFileMapping's
     * documentation leaves them to the file system) */
    v = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    CHECK(v != NULL);
    if (v) {
        CHECK_MBI(v, v, v, PAGE_READWRITE, 0x2000, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED);
        CHECK_EQ(count_not(v, 0x1800, 0), 0);

        /* M8.1 a write through the view reaches the file after a flush */
        memcpy(v + 0x100, "VIEW", 4);
        CHECK_EQ(FlushViewOfFile(v, 0), TRUE);
        r = open_file(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING);
        CHECK(r != INVALID_HANDLE_VALUE);
        memset(buf, 0, sizeof buf);
        CHECK_EQ(read_at(r, 0x100, buf, 4), 4);
        CHECK(memcmp(buf, "VIEW", 4) == 0);
        if (r != INVALID_HANDLE_VALUE) CloseHandle(r);
        CHECK_EQ(UnmapViewOfFile(v), TRUE);
    }
    CHECK_EQ(CloseHandle(m), TRUE);
    CHECK_EQ(CloseHandle(f), TRUE);
    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_section_views(void)
{
    char name[64], buf[8];
    HANDLE f, r, m;
    char *v, *w, *c;

    file_name(name, sizeof name, "map");
    CHECK_EQ(make_pattern_file(name, BIG), TRUE);
    f = open_file(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  OPEN_EXISTING);
    CHECK(f != INVALID_HANDLE_VALUE);
    if (f == INVALID_HANDLE_VALUE) { DeleteFileA(name); return; }
    r = open_file(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING);
    CHECK(r != INVALID_HANDLE_VALUE);

    m = CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL);
    CHECK(m != NULL);
    if (!m) { CloseHandle(f); CloseHandle(r); DeleteFileA(name); return; }
    /* size 0 took the file's size: the file did not grow */
    CHECK_EQ(size_of(f), BIG);

    /* M13.4 size 0 maps the whole file; the region is rounded up to pages,
     * and the bytes written with WriteFile before mapping are there */
    v = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
    CHECK(v != NULL);
    w = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0);
    CHECK(w != NULL);
    if (!v || !w) goto out;
    CHECK_MBI(v, v, v, PAGE_READONLY, 0x13000, MEM_COMMIT, PAGE_READONLY, MEM_MAPPED);
    CHECK_MBI(w + 0x12345, w + 0x12000, w, PAGE_READWRITE, PG, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED);
    CHECK_EQ(pat_bad(v, 0, BIG), 0);

    /* A view at a 64 KiB offset shows the file's bytes at that offset and
     * runs to the end of the section */
    c = MapViewOfFile(m, FILE_MAP_READ, 0, GRAN, 0);
    CHECK(c != NULL);
    if (c) {
        CHECK_MBI(c, c, c, PAGE_READONLY, 0x3000, MEM_COMMIT, PAGE_READONLY, MEM_MAPPED);
        CHECK_EQ(pat_bad(c, GRAN, BIG - GRAN), 0);
        CHECK_EQ(UnmapViewOfFile(c), TRUE);
    }

    /* M13.4 views beyond the section; M3.1 an offset off the 64 KiB grid */
    SetLastError(0xdeadbeef);
    CHECK_EQ(MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0x13001), NULL);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    SetLastError(0xdeadbeef);
    CHECK_EQ(MapViewOfFile(m, FILE_MAP_READ, 0, GRAN, 0x3001), NULL);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    SetLastError(0xdeadbeef);
    CHECK_EQ(MapViewOfFile(m, FILE_MAP_READ, 0, PG, PG), NULL);
    CHECK_ERR(ERROR_MAPPED_ALIGNMENT);

    /* M5 a write through one view is seen at once through the other, and
     * M8.1 reaches the file after FlushViewOfFile */
    memcpy(w + 0x11000, "FLUSHED", 7);
    CHECK(memcmp(v + 0x11000, "FLUSHED", 7) == 0);
    CHECK_EQ(FlushViewOfFile(w + 0x11000, 7), TRUE);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read_at(r, 0x11000, buf, 7), 7);
    CHECK(memcmp(buf, "FLUSHED", 7) == 0);

    /* M6 a FILE_MAP_COPY view: PAGE_WRITECOPY, and its writes reach neither
     * the section nor the file */
    c = MapViewOfFile(m, FILE_MAP_COPY, 0, 0, 0);
    CHECK(c != NULL);
    if (c) {
        CHECK_MBI(c, c, c, PAGE_WRITECOPY, 0x13000, MEM_COMMIT, PAGE_WRITECOPY, MEM_MAPPED);
        memcpy(c + 0x5000, "COPY", 4);
        CHECK(memcmp(c + 0x5000, "COPY", 4) == 0);
        CHECK_EQ(pat_bad(v + 0x5000, 0x5000, 4), 0);
        CHECK_EQ(FlushViewOfFile(c, 0), TRUE);
        CHECK_EQ(UnmapViewOfFile(c), TRUE);
    }
    CHECK_EQ(read_at(r, 0x5000, buf, 4), 4);
    CHECK_EQ(pat_bad(buf, 0x5000, 4), 0);

out:
    if (v) UnmapViewOfFile(v);
    if (w) UnmapViewOfFile(w);
    CHECK_EQ(CloseHandle(m), TRUE);

    /* M8.1 after UnmapViewOfFile and CloseHandle the data is in the file */
    m = CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL);
    CHECK(m != NULL);
    w = m ? MapViewOfFile(m, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    CHECK(w != NULL);
    if (w) {
        CHECK_MBI(w, w, w, PAGE_READWRITE, 0x13000, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED);
        memcpy(w + 0x3000, "UNMAP", 5);
        CHECK_EQ(UnmapViewOfFile(w), TRUE);
    }
    if (m) CHECK_EQ(CloseHandle(m), TRUE);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read_at(f, 0x3000, buf, 5), 5);
    CHECK(memcmp(buf, "UNMAP", 5) == 0);
    /* ... and the rest of the file is as it was, up to the bytes flushed */
    CHECK_EQ(read_at(f, 0, back, BIG), BIG);
    CHECK_EQ(pat_bad(back, 0, 0x3000), 0);
    CHECK_EQ(pat_bad(back + 0x3005, 0x3005, 0x11000 - 0x3005), 0);
    CHECK_EQ(pat_bad(back + 0x11007, 0x11007, BIG - 0x11007), 0);

    CloseHandle(r);
    CHECK_EQ(CloseHandle(f), TRUE);
    CHECK_EQ(DeleteFileA(name), TRUE);
}

static void test_section_read_only_file(void)
{
    char name[64];
    HANDLE f, m;
    char *v, *c;

    file_name(name, sizeof name, "ro");
    CHECK_EQ(make_pattern_file(name, BIG), TRUE);
    f = open_file(name, GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING);
    CHECK(f != INVALID_HANDLE_VALUE);
    if (f == INVALID_HANDLE_VALUE) { DeleteFileA(name); return; }

    /* M13.3 a read-only file cannot back a writable section ... */
    SetLastError(0xdeadbeef);
    CHECK_EQ(CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL), NULL);
    CHECK_ERR(ERROR_ACCESS_DENIED);
    /* ... nor a read-only one larger than the file, which stays as it was */
    SetLastError(0xdeadbeef);
    CHECK_EQ(CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0x20000, NULL), NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(size_of(f), BIG);

    /* PAGE_READONLY works: read and copy views, no write view (M2) */
    m = CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0, NULL);
    CHECK(m != NULL);
    if (m) {
        v = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
        CHECK(v != NULL);
        c = MapViewOfFile(m, FILE_MAP_COPY, 0, 0, 0);
        CHECK(c != NULL);
        SetLastError(0xdeadbeef);
        CHECK_EQ(MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0), NULL);
        CHECK_ERR(ERROR_ACCESS_DENIED);
        if (v && c) {
            CHECK_MBI(v, v, v, PAGE_READONLY, 0x13000, MEM_COMMIT, PAGE_READONLY, MEM_MAPPED);
            CHECK_MBI(c, c, c, PAGE_WRITECOPY, 0x13000, MEM_COMMIT, PAGE_WRITECOPY, MEM_MAPPED);
            CHECK_EQ(pat_bad(v, 0, BIG), 0);
            c[5] = 'Z';
            CHECK_EQ(c[5], 'Z');
            CHECK_EQ(v[5], pat(5));
        }
        if (v) UnmapViewOfFile(v);
        if (c) UnmapViewOfFile(c);
        CHECK_EQ(CloseHandle(m), TRUE);
    }

    /* PAGE_WRITECOPY works too */
    m = CreateFileMappingA(f, NULL, PAGE_WRITECOPY, 0, 0, NULL);
    CHECK(m != NULL);
    if (m) {
        c = MapViewOfFile(m, FILE_MAP_COPY, 0, 0, 0);
        CHECK(c != NULL);
        SetLastError(0xdeadbeef);
        CHECK_EQ(MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0), NULL);
        CHECK_ERR(ERROR_ACCESS_DENIED);
        if (c) {
            CHECK_MBI(c, c, c, PAGE_WRITECOPY, 0x13000, MEM_COMMIT, PAGE_WRITECOPY, MEM_MAPPED);
            c[0x10000] = 'Y';
            CHECK_EQ(c[0x10000], 'Y');
            CHECK_EQ(UnmapViewOfFile(c), TRUE);
        }
        CHECK_EQ(CloseHandle(m), TRUE);
    }

    /* A section smaller than the file: views end with the section (M13.4) */
    m = CreateFileMappingA(f, NULL, PAGE_READONLY, 0, PG, NULL);
    CHECK(m != NULL);
    if (m) {
        v = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
        CHECK(v != NULL);
        if (v) {
            CHECK_MBI(v, v, v, PAGE_READONLY, PG, MEM_COMMIT, PAGE_READONLY, MEM_MAPPED);
            CHECK_EQ(pat_bad(v, 0, PG), 0);
            CHECK_EQ(UnmapViewOfFile(v), TRUE);
        }
        SetLastError(0xdeadbeef);
        CHECK_EQ(MapViewOfFile(m, FILE_MAP_READ, 0, 0, PG + 1), NULL);
        CHECK_ERR(ERROR_ACCESS_DENIED);
        CHECK_EQ(CloseHandle(m), TRUE);
    }

    /* The copy-on-write views left the file alone */
    CHECK_EQ(read_at(f, 0, back, BIG), BIG);
    CHECK_EQ(pat_bad(back, 0, BIG), 0);
    CHECK_EQ(CloseHandle(f), TRUE);
    CHECK_EQ(DeleteFileA(name), TRUE);
    SetLastError(0xdeadbeef);
    CHECK_EQ(DeleteFileA(name), FALSE);
    CHECK_ERR(ERROR_FILE_NOT_FOUND);
}

int main(void)
{
    SIZE_T i;
    for (i = 0; i < BIG; i++) big[i] = pat(i);

    test_dispositions();
    test_access_and_sharing();
    test_read_write_seek();
    test_handle_errors();
    test_handle_flags();
    test_duplicate();
    test_section_empty_and_grow();
    test_section_views();
    test_section_read_only_file();
    return cf_finish();
}
