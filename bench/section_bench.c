/*
 * section_bench.c — winmem's sections (CreateFileMapping, MapViewOfFile)
 * against the host's shared-memory and file calls, side by side in one run,
 * as ratios (winmem time / raw time).  Never pass/fail: the issue (6) names
 * no ratio for sections, so the goal column says "—".
 *
 *   1. A cycle of a page-file section: CreateFileMappingA(INVALID_HANDLE_
 *      VALUE, PAGE_READWRITE) + MapViewOfFile(FILE_MAP_WRITE) + a write to
 *      every page + UnmapViewOfFile + CloseHandle, at 64 KiB and at 1 MiB,
 *      against memfd_create + ftruncate + mmap(MAP_SHARED) + the same
 *      writes + munmap + close, and against the same with shm_open of a
 *      name unlinked at once (POSIX's way to an unnamed object).  The named
 *      cycle gives the section a name and compares with shm_open of a name
 *      that lives while the object is used, then shm_unlink.  Rows without
 *      the writes show the fixed cost of a cycle, which the page faults of
 *      the writes otherwise hide.
 *   2. A file read through a view: every byte of a 1 GiB file summed
 *      8 bytes at a time, through CreateFileA + CreateFileMappingA
 *      (PAGE_READONLY) + MapViewOfFile(FILE_MAP_READ, the whole file) +
 *      UnmapViewOfFile + CloseHandle; through open + mmap(PROT_READ,
 *      MAP_SHARED) + munmap + close; and through read(2) into a 1 MiB
 *      buffer.  The file is written with write(2) and fsync'd first, so it
 *      is in the page cache (the bench checks with mincore) and no disk is
 *      read: what is measured is mapping, page faults and reading memory.
 *      The ratios are to the raw mmap row.  With less than 1 GiB free in
 *      $TMPDIR (or /tmp) the file is the largest power of two that fits,
 *      and the output says so.
 *
 * Each timing is the best of REPS measurements of enough operations to last
 * at least MIN_NS; winmem and raw measurements alternate.  `section_bench
 * loop CASE BYTES COUNT [nowrite]` runs only one side, quietly, for strace
 * -c, perf stat and perf record (CASE: winmem, winmem-named, memfd, shm,
 * shm-named; or view, mmap, read on a file of BYTES).
 *
 * The raw side calls the host directly, which no layer above os/ may do; a
 * bench is not a layer, and it has to.
 */
#define _GNU_SOURCE
#include <winmem.h>
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#define READ_BYTES ((size_t)1 << 30)    /* the file, when it fits */
#define CHUNK ((size_t)1 << 20)         /* read(2)'s buffer, and the writes that fill the file */
#define SPACE_MARGIN ((uint64_t)64 << 20)   /* left free on the file system */
#define PATTERN 0x9E3779B97F4A7C15ull   /* word i of the file is i * PATTERN */

static size_t page;

static void die_win(const char *what)
{
    fprintf(stderr, "section_bench: %s failed (error %u)\n", what, (unsigned)GetLastError());
    exit(1);
}

static void die_errno(const char *what)
{
    int err = errno;
    fprintf(stderr, "section_bench: %s failed (errno %d, %s)\n", what, err, strerror(err));
    exit(1);
}

/* ------------------------------------------------------------ 1. cycle */
struct cycle {
    size_t size;
    bool write;                 /* one byte per page, through the view */
    char win_name[64];          /* winmem's name, for the named cycle */
    char shm_name[64];          /* shm_open's */
};

static void write_pages(char *p, size_t size)
{
    for (size_t off = 0; off < size; off += page)
        ((volatile char *)p)[off] = 1;
}

static void cycle_winmem(const struct cycle *c, const char *name, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                      (DWORD)c->size, name);
        if (!h)
            die_win("CreateFileMappingA");
        if (name && GetLastError() == ERROR_ALREADY_EXISTS) {
            fprintf(stderr, "section_bench: CreateFileMappingA found %s still there\n", name);
            exit(1);
        }
        char *p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        if (!p)
            die_win("MapViewOfFile");
        if (c->write)
            write_pages(p, c->size);
        if (!UnmapViewOfFile(p))
            die_win("UnmapViewOfFile");
        if (!CloseHandle(h))
            die_win("CloseHandle");
    }
}

static void cycle_winmem_unnamed(void *ctx, uint64_t n) { cycle_winmem(ctx, NULL, n); }

static void cycle_winmem_named(void *ctx, uint64_t n)
{
    const struct cycle *c = ctx;
    cycle_winmem(c, c->win_name, n);
}

/* The part every raw cycle shares, once it has a descriptor: size it, map
 * it, write, unmap. */
static void raw_use(int fd, const struct cycle *c)
{
    if (ftruncate(fd, (off_t)c->size) != 0)
        die_errno("ftruncate");
    char *p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die_errno("mmap");
    if (c->write)
        write_pages(p, c->size);
    if (munmap(p, c->size) != 0)
        die_errno("munmap");
}

static void cycle_memfd(void *ctx, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int fd = memfd_create("section-bench", MFD_CLOEXEC);
        if (fd < 0)
            die_errno("memfd_create");
        raw_use(fd, ctx);
        if (close(fd) != 0)
            die_errno("close");
    }
}

static int shm_create(const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        die_errno("shm_open");
    return fd;
}

/* An object nobody else can find: the name goes as soon as it is open. */
static void cycle_shm(void *ctx, uint64_t n)
{
    const struct cycle *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int fd = shm_create(c->shm_name);
        if (shm_unlink(c->shm_name) != 0)
            die_errno("shm_unlink");
        raw_use(fd, c);
        if (close(fd) != 0)
            die_errno("close");
    }
}

/* The name lives while the object is in use, as the section's does. */
static void cycle_shm_named(void *ctx, uint64_t n)
{
    const struct cycle *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int fd = shm_create(c->shm_name);
        raw_use(fd, c);
        if (close(fd) != 0)
            die_errno("close");
        if (shm_unlink(c->shm_name) != 0)
            die_errno("shm_unlink");
    }
}

static void cycle_names(struct cycle *c)
{
    snprintf(c->win_name, sizeof c->win_name, "Local\\section-bench-%d", (int)getpid());
    snprintf(c->shm_name, sizeof c->shm_name, "/section-bench-%d", (int)getpid());
}

static void bench_cycles(void)
{
    static const struct {
        const char *label;
        size_t size;
        bool write;
    } sizes[] = {
        { "64 KiB", 0x10000, true },
        { "1 MiB", 0x100000, true },
        { "64 KiB, no write", 0x10000, false },
    };
    printf("  %-36s | %12s | %12s | %7s | %s\n", "cycle (ns per cycle)", "winmem ns/op",
           "raw ns/op", "ratio", "goal");
    print_rule();
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        struct cycle c = { sizes[i].size, sizes[i].write, "", "" };
        char row[80];
        cycle_names(&c);
        snprintf(row, sizeof row, "%s: memfd_create", sizes[i].label);
        compare(row, "—", cycle_winmem_unnamed, cycle_memfd, &c);
        snprintf(row, sizeof row, "%s: shm_open, unlinked", sizes[i].label);
        compare(row, "—", cycle_winmem_unnamed, cycle_shm, &c);
        snprintf(row, sizeof row, "%s, named: shm_open", sizes[i].label);
        compare(row, "—", cycle_winmem_named, cycle_shm_named, &c);
    }
}

/* ------------------------------------------------------- 2. file read */
struct read_file {
    char dir[256], path[300];
    size_t size;
    uint64_t expect;            /* the sum of the file's words */
    uint64_t *buf;              /* CHUNK bytes */
};

static struct read_file file;   /* one, so the exit and signal handlers find it */

static void file_remove(void)
{
    if (file.path[0])
        unlink(file.path);
    if (file.dir[0])
        rmdir(file.dir);
}

static void file_remove_on_signal(int sig)
{
    file_remove();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The sum of words[0, count), four at a time, so the loop is not bound by
 * one add chain; the same code for every side. */
__attribute__((noinline))
static uint64_t sum_words(const uint64_t *w, size_t count)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        a += w[i];
        b += w[i + 1];
        c += w[i + 2];
        d += w[i + 3];
    }
    for (; i < count; i++)
        a += w[i];
    return a + b + c + d;
}

static void check_sum(uint64_t sum, const char *how)
{
    sink = sum;
    if (sum != file.expect) {
        fprintf(stderr, "section_bench: %s read a sum of %llx, the file's is %llx\n", how,
                (unsigned long long)sum, (unsigned long long)file.expect);
        exit(1);
    }
}

static void read_view(void *ctx, uint64_t n)
{
    (void)ctx;
    for (uint64_t i = 0; i < n; i++) {
        HANDLE f = CreateFileA(file.path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
        if (f == INVALID_HANDLE_VALUE)
            die_win("CreateFileA");
        HANDLE m = CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0, NULL);
        if (!m)
            die_win("CreateFileMappingA (file)");
        const uint64_t *p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
        if (!p)
            die_win("MapViewOfFile (file)");
        check_sum(sum_words(p, file.size / 8), "a view");
        if (!UnmapViewOfFile(p))
            die_win("UnmapViewOfFile (file)");
        if (!CloseHandle(m) || !CloseHandle(f))
            die_win("CloseHandle (file)");
    }
}

static int open_file(void)
{
    int fd = open(file.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die_errno("open");
    return fd;
}

/* The size from fstat, as any reader that does not know it must (and as
 * CreateFileMapping with size 0 does). */
static void read_mmap(void *ctx, uint64_t n)
{
    (void)ctx;
    for (uint64_t i = 0; i < n; i++) {
        int fd = open_file();
        struct stat st;
        if (fstat(fd, &st) != 0)
            die_errno("fstat");
        const uint64_t *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            die_errno("mmap (file)");
        check_sum(sum_words(p, (size_t)st.st_size / 8), "mmap");
        if (munmap((void *)p, (size_t)st.st_size) != 0)
            die_errno("munmap (file)");
        if (close(fd) != 0)
            die_errno("close (file)");
    }
}

/* Fills file.buf, short only at the end of the file; the bytes read. */
static size_t read_chunk(int fd)
{
    size_t got = 0;
    while (got < CHUNK) {
        ssize_t r = read(fd, (char *)file.buf + got, CHUNK - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die_errno("read");
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void read_read(void *ctx, uint64_t n)
{
    (void)ctx;
    for (uint64_t i = 0; i < n; i++) {
        int fd = open_file();
        uint64_t sum = 0;
        size_t got;
        while ((got = read_chunk(fd)) > 0)
            sum += sum_words(file.buf, got / 8);
        check_sum(sum, "read(2)");
        if (close(fd) != 0)
            die_errno("close (file)");
    }
}

/* The largest power of two up to READ_BYTES that leaves SPACE_MARGIN free
 * in dir. */
static size_t file_size_for(const char *dir, uint64_t *avail)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0)
        die_errno("statvfs");
    *avail = (uint64_t)v.f_bavail * v.f_frsize;
    size_t size = READ_BYTES;
    while (size > CHUNK && size + SPACE_MARGIN > *avail)
        size /= 2;
    if (size + SPACE_MARGIN > *avail) {
        fprintf(stderr, "section_bench: %s has %llu MiB free, too little for a file\n", dir,
                (unsigned long long)(*avail >> 20));
        exit(1);
    }
    return size;
}

/* Writes the file with write(2) (word i is i * PATTERN) and fsyncs it, so
 * its pages are in the cache and clean: no writeback during the timing. */
static void file_fill(void)
{
    int fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die_errno("open (create)");
    uint64_t word = 0, sum = 0;
    for (size_t done = 0; done < file.size; done += CHUNK) {
        for (size_t i = 0; i < CHUNK / 8; i++, word++)
            sum += file.buf[i] = word * PATTERN;
        for (size_t put = 0; put < CHUNK;) {
            ssize_t w = write(fd, (char *)file.buf + put, CHUNK - put);
            if (w < 0 && errno != EINTR)
                die_errno("write");
            put += w > 0 ? (size_t)w : 0;
        }
    }
    if (fsync(fd) != 0)
        die_errno("fsync");
    if (close(fd) != 0)
        die_errno("close (create)");
    file.expect = sum;
}

/* Makes the file in a fresh directory under $TMPDIR or /tmp; removed at
 * exit, or on SIGINT/SIGTERM. */
static void file_create(size_t want)
{
    const char *tmp = getenv("TMPDIR");
    uint64_t avail;
    snprintf(file.dir, sizeof file.dir, "%s/section-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(file.dir)) {
        file.dir[0] = 0;
        die_errno("mkdtemp");
    }
    atexit(file_remove);
    signal(SIGINT, file_remove_on_signal);
    signal(SIGTERM, file_remove_on_signal);
    snprintf(file.path, sizeof file.path, "%s/data", file.dir);
    file.size = want ? want : file_size_for(file.dir, &avail);
    if (!want && file.size < READ_BYTES)
        printf("  (only %llu MiB free in %s: the file is %zu MiB, not 1 GiB)\n",
               (unsigned long long)(avail >> 20), file.dir, file.size >> 20);
    file.buf = malloc(CHUNK);
    if (!file.buf)
        die_errno("malloc");
    file_fill();
}

/* The share of the file's pages in the page cache, in percent. */
static double file_resident(void)
{
    int fd = open_file();
    void *p = mmap(NULL, file.size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die_errno("mmap (mincore)");
    size_t pages = file.size / page, in = 0;
    unsigned char *vec = malloc(pages);
    if (!vec)
        die_errno("malloc");
    if (mincore(p, file.size, vec) != 0)
        die_errno("mincore");
    for (size_t i = 0; i < pages; i++)
        in += vec[i] & 1;
    free(vec);
    munmap(p, file.size);
    close(fd);
    return 100.0 * (double)in / (double)pages;
}

static const char *fs_kind(const char *dir)
{
    struct statfs s;
    if (statfs(dir, &s) != 0)
        die_errno("statfs");
    return s.f_type == TMPFS_MAGIC ? "tmpfs" : "a disk file system";
}

/* One row: case | ms per read | GB/s | ratio to the mmap row | goal. */
static void read_row(const char *name, double ns, double mmap_ns)
{
    printf("  %-36s | %12.1f | %12.2f | %6.2fx | %s\n", name, ns / 1e6,
           (double)file.size / ns, ns / mmap_ns, "—");
}

static void bench_read(void)
{
    static void (*const sides[3])(void *, uint64_t) = { read_view, read_mmap, read_read };
    file_create(0);
    double before = file_resident();
    uint64_t n[3];
    double best[3] = { 1e300, 1e300, 1e300 };
    for (int s = 0; s < 3; s++)
        n[s] = calibrate(sides[s], NULL);        /* also a first, untimed pass */
    for (int rep = 0; rep < REPS; rep++)
        for (int s = 0; s < 3; s++) {
            double t = (double)time_body(sides[s], NULL, n[s]) / (double)n[s];
            best[s] = t < best[s] ? t : best[s];
        }
    printf("  %-36s | %12s | %12s | %7s | %s\n", "file read (every byte summed)", "ms/read",
           "GB/s", "ratio", "goal");
    print_rule();
    char name[80];
    snprintf(name, sizeof name, "%zu MiB: winmem view", file.size >> 20);
    read_row(name, best[0], best[1]);
    snprintf(name, sizeof name, "%zu MiB: open + mmap", file.size >> 20);
    read_row(name, best[1], best[1]);
    snprintf(name, sizeof name, "%zu MiB: read(2), 1 MiB buffer", file.size >> 20);
    read_row(name, best[2], best[1]);
    printf("  (the file: %s, %s; in the page cache before/after the timing: %.1f%% / %.1f%%)\n",
           file.path, fs_kind(file.dir), before, file_resident());
}

/* --------------------------------------------------------------- main */
/* section_bench loop CASE BYTES COUNT [nowrite]: only COUNT operations of
 * one side, quietly, for outside tools (strace -c, perf stat, perf record). */
static int loop_only(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*body)(void *, uint64_t);
        bool reads_file;
    } cases[] = {
        { "winmem", cycle_winmem_unnamed, false }, { "winmem-named", cycle_winmem_named, false },
        { "memfd", cycle_memfd, false },           { "shm", cycle_shm, false },
        { "shm-named", cycle_shm_named, false },   { "view", read_view, true },
        { "mmap", read_mmap, true },               { "read", read_read, true },
    };
    for (size_t i = 0; argc >= 5 && i < sizeof cases / sizeof *cases; i++) {
        if (strcmp(argv[2], cases[i].name))
            continue;
        size_t bytes = strtoull(argv[3], NULL, 0);
        uint64_t count = strtoull(argv[4], NULL, 0);
        struct cycle c = { bytes, !(argc > 5 && !strcmp(argv[5], "nowrite")), "", "" };
        cycle_names(&c);
        if (cases[i].reads_file) {
            if (bytes % CHUNK)
                break;
            file_create(bytes);
        }
        cases[i].body(&c, count);
        return 0;
    }
    fprintf(stderr, "usage: %s loop winmem|winmem-named|memfd|shm|shm-named BYTES COUNT [nowrite]\n"
                    "       %s loop view|mmap|read BYTES COUNT   (BYTES a multiple of 1 MiB)\n",
            argv[0], argv[0]);
    return 2;
}

int main(int argc, char **argv)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    if (argc > 1 && !strcmp(argv[1], "loop"))
        return loop_only(argc, argv);
    print_machine("section_bench: winmem's sections against shared memory and files used raw",
                  "winmem / raw (file read: time / the open + mmap row's time)");
    printf("cycle: create, map, write one byte per page, unmap, close; winmem's section,\n"
           "unnamed or named, against the raw calls the row names\n");
    bench_cycles();
    printf("\n");
    bench_read();
    return 0;
}
