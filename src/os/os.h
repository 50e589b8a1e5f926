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

#endif

/* Hints and checks that never fail in a way callers must undo. */
int os_restore_protect(void *addr, size_t size, int prot);  /* bypasses injection */
void os_pageout(void *addr, size_t size);                    /* MADV_PAGEOUT if any */
bool os_all_resident(const void *addr, size_t size);
