/*
 * os.h — the only seam between winmem and the host.
 *
 * Every call that touches the host's memory, signals, files or /proc goes
 * through this layer; nothing above includes <sys/mman.h>.  The calls that can
 * fail for lack of resources go through a table of operations (struct os_ops)
 * that a test may replace or wrap, and a failure injector that makes the Nth
 * call fail, or every call from the Nth on (the rpmalloc/SQLite seam).
 *
 * Contract: every function returns 0 or a valid pointer on success and an
 * errno value (or NULL, with the errno in *err) on failure; it never aborts.
 * Protections here are host protections (OS_PROT_*), never Win32 ones.
 *
 * Invariants:
 *   O1. os_page_size() is a power of two and divides OS_GRANULARITY.
 *   O2. A failed call has no effect on the host, except os_protect and
 *       os_decommit on ranges the host had to split (the host itself may have
 *       changed part of the range; callers restore from their own records).
 */
#ifndef WINMEM_OS_H
#define WINMEM_OS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define OS_GRANULARITY ((size_t)0x10000)   /* Windows' allocation granularity */

enum { OS_PROT_NONE = 0, OS_PROT_READ = 1, OS_PROT_WRITE = 2, OS_PROT_EXEC = 4 };

/* The replaceable host operations.  Each returns 0 or an errno value. */
struct os_ops {
    int (*map)(void **addr, size_t size, int prot, unsigned flags);
    int (*unmap)(void *addr, size_t size);
    int (*protect)(void *addr, size_t size, int prot);
    int (*decommit)(void *addr, size_t size);   /* drop contents, PROT_NONE */
    int (*reset)(void *addr, size_t size);      /* contents no longer needed */
    int (*lock)(void *addr, size_t size);
    int (*unlock)(void *addr, size_t size);
};

/* Flags for os_map. */
#define OS_MAP_EXACT     0x1u   /* at *addr or fail with EEXIST (no replace) */
#define OS_MAP_HINT      0x2u   /* prefer *addr; anywhere else is fine */
#define OS_MAP_HUGE      0x4u   /* back with huge pages (MAP_HUGETLB) */
#define OS_MAP_COMMITTED 0x8u   /* host may account it: internal metadata */

int os_map(void **addr, size_t size, int prot, unsigned flags);
int os_unmap(void *addr, size_t size);
int os_protect(void *addr, size_t size, int prot);
int os_decommit(void *addr, size_t size);
int os_reset(void *addr, size_t size);
int os_lock(void *addr, size_t size);
int os_unlock(void *addr, size_t size);

/* Test seam: install another table (NULL restores the host's); returns the
 * previous one so a wrapper can call through. */
const struct os_ops *os_set_ops(const struct os_ops *ops);
const struct os_ops *os_host_ops(void);

/* Failure injection over the os_ops calls.  os_fail_at(n, repeat): the n-th
 * call from now fails with ENOMEM (n >= 1); with repeat, every call from the
 * n-th on fails.  os_fail_at(0, false) turns injection off.  os_call_count()
 * counts the calls made since the last os_fail_at. */
void os_fail_at(unsigned long n, bool repeat);
unsigned long os_call_count(void);
/* Counts one host call for the injector; true when it is to fail. */
bool os_injected(void);

/* Host facts, read once. */
size_t os_page_size(void);
size_t os_huge_page_size(void);          /* 0 when the host has none */
unsigned os_cpu_count(void);
void os_cpu_signature(unsigned *family, unsigned *model, unsigned *stepping);

struct os_meminfo {
    uint64_t total_ram, avail_ram, total_swap, free_swap;
};
int os_meminfo(struct os_meminfo *info);
size_t os_resident_bytes(size_t *peak);   /* the process's working set */
unsigned long os_page_faults(void);
bool os_page_resident(const void *page);

/* Process and time. */
uint32_t os_process_id(void);
uint32_t os_thread_id(void);
uint64_t os_monotonic_ns(void);
uint64_t os_coarse_ns(void);    /* the same clock to a few ms, without reading the hardware */
/* Random bits for keys (getrandom; never fails: falls back to mixing the
 * clock and addresses, which is weaker but still differs per process). */
void os_random(void *buf, size_t n);
void os_sleep_ms(uint32_t ms);
const char *os_getenv(const char *name);
void os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* The host's own description of the address space (/proc/self/maps). */
struct os_mapping {
    uintptr_t start, end;
    uintptr_t file_base;     /* lowest start among mappings of the same file */
    int prot;                /* OS_PROT_* */
    bool shared;
    bool file;               /* backed by a file (path set) */
    bool image;              /* the file also has an executable mapping */
    char path[256];
};
/* The first host mapping that ends above addr; false when there is none or
 * /proc cannot be read. */
bool os_mapping_after(uintptr_t addr, struct os_mapping *out);
/* Calls fn for every host mapping in address order (path, file_base and
 * image are not filled); fn returns false to stop.  False when /proc cannot
 * be read. */
bool os_mappings_walk(bool (*fn)(const struct os_mapping *, void *), void *ctx);

/* Hints and checks that never fail in a way callers must undo. */
int os_restore_protect(void *addr, size_t size, int prot);  /* bypasses injection */
void os_pageout(void *addr, size_t size);                    /* MADV_PAGEOUT if any */
bool os_all_resident(const void *addr, size_t size);

/* ----------------------------------------------------------------- faults */
/* Synchronous faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) described without
 * host types.  The except layer registers one handler; os_fault_arm installs
 * the host handlers (on an alternate stack, with earlier handlers kept for
 * chaining) and may be called again to take the signals back from a handler
 * installed since.  The handler runs in signal context: it may change the
 * registers through os_context_* and returns true to resume there, or false
 * to pass the fault on to the earlier handler, or to the host's default
 * action when there was none (the process then dies of the signal). */
enum os_fault_kind {
    OS_FAULT_ACCESS,          /* the address is not accessible that way */
    OS_FAULT_BUS,             /* e.g. a file page past the end of its file */
    OS_FAULT_STACK,           /* an access just below the thread's stack */
    OS_FAULT_ILLEGAL, OS_FAULT_PRIVILEGED,
    OS_FAULT_INT_DIVIDE, OS_FAULT_INT_OVERFLOW,
    OS_FAULT_FLT_DIVIDE, OS_FAULT_FLT_OVERFLOW, OS_FAULT_FLT_UNDERFLOW,
    OS_FAULT_FLT_INEXACT, OS_FAULT_FLT_INVALID, OS_FAULT_FLT_SUBSCRIPT,
};
/* Access types: the values Windows uses in ExceptionInformation[0]. */
enum { OS_ACCESS_READ = 0, OS_ACCESS_WRITE = 1, OS_ACCESS_EXEC = 8 };

struct os_fault {
    int kind;                 /* enum os_fault_kind */
    int access;               /* OS_ACCESS_*, for ACCESS, BUS and STACK */
    uintptr_t addr;           /* the data address (UINTPTR_MAX: not known) */
    uintptr_t pc, sp;         /* where the thread was */
    int signo;
    void *host_context;       /* the host's saved registers (ucontext_t) */
    void *host_info;          /* the host's description (siginfo_t) */
};
typedef bool (*os_fault_handler)(struct os_fault *fault);

void os_fault_set_handler(os_fault_handler fn);
int os_fault_arm(void);
/* Calls the handler installed before winmem's for this signal; false when
 * there was none (default action or ignore). */
bool os_fault_chain(struct os_fault *fault);
/* Ends the process with the signal's default action (a core dump where the
 * host makes one), from a handler or anywhere else. */
void os_fault_die(int signo) __attribute__((noreturn));
void os_exit(int code) __attribute__((noreturn));   /* _exit: no atexit handlers */
void os_abort(void) __attribute__((noreturn));      /* dies of SIGABRT */

/* Gives the calling thread an alternate signal stack if it has none, so a
 * stack overflow can be reported; it is freed when the thread exits. */
int os_altstack_ensure(void);

/* Copies n bytes and returns 0, or EFAULT when either side cannot be
 * accessed: a fault inside the copy is caught here and nothing is raised.
 * For the API's own reads and writes of caller memory. */
int os_try_copy(void *dst, const void *src, size_t n);

/* Registers, converted between the host's saved context and Windows'
 * CONTEXT (winmem.h) for this architecture. */
struct _CONTEXT;
void os_context_read(const void *host_context, struct _CONTEXT *ctx);
void os_context_write(void *host_context, const struct _CONTEXT *ctx);
/* The caller's registers now (RtlCaptureContext): pc is the return address
 * into the caller. */
void os_context_capture(struct _CONTEXT *ctx);

/* Writes to standard error with no locks or allocation (signal context). */
void os_write_err(const char *text, size_t n);
/* From now on os_write_err writes to a duplicate of today's standard error,
 * so that reports made at exit survive a program that closed fd 2 first
 * (coreutils do).  Idempotent. */
void os_keep_err(void);

/* ------------------------------------------------------------ write watch */
/* Pages written since they were last cleared, recorded by the host
 * (userfaultfd asynchronous write-protect and PAGEMAP_SCAN, Linux 6.7+).
 * os_watch_open returns 0 when the host can do it (an errno otherwise);
 * os_watch_start registers a range and clears it; os_watch_clear marks a
 * range unwritten; os_watch_scan stores the addresses of up to max written
 * pages in order, clearing exactly those with clear, and returns how many
 * (or -errno). */
int os_watch_open(void);
int os_watch_start(void *addr, size_t size);
int os_watch_stop(void *addr, size_t size);
int os_watch_clear(void *addr, size_t size);
long os_watch_scan(void *addr, size_t size, bool clear, uintptr_t *pages, size_t max);

/* ------------------------------------------------------------------ files
 * Files for the file API and file mappings (os_file.c).  Each returns 0 or
 * an errno value; the calls that take resources (open, anonymous files,
 * mapping a file, growing one) go through the failure injector. */
#define OS_OPEN_READ    0x01u
#define OS_OPEN_WRITE   0x02u
#define OS_OPEN_CREATE  0x04u   /* create when missing */
#define OS_OPEN_EXCL    0x08u   /* with CREATE: fail with EEXIST when present */
#define OS_OPEN_TRUNC   0x10u
#define OS_OPEN_SYNC    0x20u   /* writes reach the device before they return */
#define OS_OPEN_KEEP    0x40u   /* survives exec (no close-on-exec) */
int os_file_open(const char *path, unsigned flags, unsigned mode, int *fd);
int os_file_close(int fd);
int os_file_read(int fd, void *buf, size_t n, size_t *done);      /* at the file position */
int os_file_write(int fd, const void *buf, size_t n, size_t *done);
int os_file_pread(int fd, void *buf, size_t n, uint64_t offset, size_t *done);
int os_file_pwrite(int fd, const void *buf, size_t n, uint64_t offset, size_t *done);
enum { OS_SEEK_SET, OS_SEEK_CUR, OS_SEEK_END };
int os_file_seek(int fd, int64_t offset, int whence, uint64_t *position);
int os_file_size(int fd, uint64_t *size);
int os_file_resize(int fd, uint64_t size);
int os_file_sync(int fd);
int os_file_keep(int fd, bool keep);           /* survives exec, or not */
/* Which file fd (or path) is: its device and inode. */
struct os_file_id { uint64_t dev, ino; };
int os_file_id(int fd, struct os_file_id *id);
int os_file_path_id(const char *path, struct os_file_id *id);
bool os_file_is_directory(const char *path);
/* The current directory, NUL-terminated in buf[room]; ERANGE when it does
 * not fit. */
int os_file_cwd(char *buf, size_t room);
int os_file_unlink(const char *path);
int os_file_link(const char *from, const char *to);    /* EEXIST when to exists */
/* Advisory whole-file locks held by an open file (flock). */
enum { OS_LOCK_SHARED = 1, OS_LOCK_EXCLUSIVE = 2, OS_LOCK_NOWAIT = 4, OS_LOCK_NONE = 8 };
int os_file_lock(int fd, int how);
/* A private directory: created 0700 when missing; EACCES unless it is a real
 * directory (not a link) owned by this user and closed to everyone else. */
int os_dir_private(const char *path);
uint32_t os_user_id(void);
/* An anonymous file of size bytes (zero), freed with its last descriptor
 * and mapping. */
int os_file_anonymous(uint64_t size, int *fd);
/* Maps size bytes of fd from offset over [addr, addr + size), which the
 * caller owns (a reservation); shared, or copy-on-write. */
int os_map_file(void *addr, size_t size, int prot, bool shared, int fd, uint64_t offset);
/* Writes a shared file mapping's dirty pages back to its file. */
int os_flush_mapped(void *addr, size_t size);
/* For each of `pages` pages of a private file mapping from start: whether
 * the process has written it (it is a copy now, not the file's page). */
int os_pages_copied(const void *start, size_t pages, bool *copied);

#endif
