/*
 * except_faults.c — hardware faults as exceptions (reference X2, X7, V8):
 * the record and CONTEXT of read, write and execute violations, a handler
 * that changes registers and resumes, a division by zero and an undefined
 * instruction, guard pages that fire once, and the
 * sparse array that commits each page the first time it is touched.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 */
#include "conformance.h"

static SIZE_T page;

/* The handlers run in the middle of the accesses below, which the compiler
 * cannot know: everything they share with the test is volatile, and each
 * access that faults is fenced so no other memory access moves across it. */
#define FENCE() __asm__ __volatile__("" ::: "memory")
static char read_at(const char *p)
{
    FENCE();
    char v = *(const volatile char *)p;
    FENCE();
    return v;
}
static void write_at(char *p, char v)
{
    FENCE();
    *(volatile char *)p = v;
    FENCE();
}

/* ------------------------------------------------- recording violations */
static EXCEPTION_RECORD last;
static volatile ULONG_PTR last_pc;
static volatile int faults;
static char *volatile fix_base; /* the handler commits pages in [fix_base, +fix_size) */
static volatile SIZE_T fix_size;
static volatile DWORD fix_protect;

static ULONG_PTR context_pc(const CONTEXT *ctx)
{
#if defined(__x86_64__)
    return ctx->Rip;
#else
    return ctx->Pc;
#endif
}

/* Records the fault and makes the page usable, so the access can run again. */
static LONG CALLBACK record_and_fix(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    if (rec->ExceptionCode != EXCEPTION_ACCESS_VIOLATION &&
        rec->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION)
        return EXCEPTION_CONTINUE_SEARCH;
    last = *rec;
    last_pc = context_pc(info->ContextRecord);
    faults++;
    if (rec->ExceptionCode == STATUS_GUARD_PAGE_VIOLATION)
        return EXCEPTION_CONTINUE_EXECUTION;     /* the guard is gone already */
    char *at = (char *)rec->ExceptionInformation[1];
    if (at < fix_base || at >= fix_base + fix_size)
        return EXCEPTION_CONTINUE_SEARCH;
    DWORD old;
    if (!VirtualAlloc(at, 1, MEM_COMMIT, PAGE_READWRITE) ||
        !VirtualProtect(at, 1, fix_protect, &old))
        return EXCEPTION_CONTINUE_SEARCH;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void expect_violation(DWORD code, ULONG_PTR access, const void *addr)
{
    CHECK_EQ(last.ExceptionCode, code);
    CHECK_EQ(last.ExceptionFlags, 0);
    CHECK(last.ExceptionRecord == NULL);
    CHECK_EQ(last.NumberParameters, 2);
    CHECK_EQ(last.ExceptionInformation[0], access);
    CHECK_EQ(last.ExceptionInformation[1], (ULONG_PTR)addr);
    CHECK_EQ((ULONG_PTR)last.ExceptionAddress, last_pc);
}

/* X2.1-3: reads and writes of reserved, no-access and read-only pages. */
static void test_access_violations(void)
{
    char *p = VirtualAlloc(NULL, 4 * page, MEM_RESERVE, PAGE_NOACCESS);
    PVOID h = AddVectoredExceptionHandler(1, record_and_fix);
    fix_base = p;
    fix_size = 4 * page;

    /* Read of a reserved page: read access, the address itself. */
    fix_protect = PAGE_READWRITE;
    faults = 0;
    CHECK_EQ(read_at(p + 123), 0);
    CHECK_EQ(faults, 1);
    expect_violation(EXCEPTION_ACCESS_VIOLATION, 0, p + 123);

    /* Write to a read-only page: write access; the handler makes it
     * writable and the write lands. */
    CHECK(VirtualAlloc(p + page, page, MEM_COMMIT, PAGE_READONLY) != NULL);
    faults = 0;
    write_at(p + page + 7, 42);
    CHECK_EQ(faults, 1);
    expect_violation(EXCEPTION_ACCESS_VIOLATION, 1, p + page + 7);
    CHECK_EQ(p[page + 7], 42);

    /* Read of a committed no-access page. */
    CHECK(VirtualAlloc(p + 2 * page, page, MEM_COMMIT, PAGE_NOACCESS) != NULL);
    faults = 0;
    CHECK_EQ(read_at(p + 2 * page + 1), 0);
    CHECK_EQ(faults, 1);
    expect_violation(EXCEPTION_ACCESS_VIOLATION, 0, p + 2 * page + 1);

    /* A second access to the repaired pages raises nothing. */
    faults = 0;
    write_at(p + 123, 1);
    write_at(p + 2 * page + 1, 1);
    CHECK_EQ(faults, 0);

    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    fix_base = NULL;
}

/* X2.1: execution of a page without execute access: access 8, and both the
 * exception address and [1] are the target.  A 64-bit process on Windows
 * always has DEP; Wine runs this program without it (the call returns), so
 * the fault is pinned for Windows only. */
static void *escape[5];
static LONG CALLBACK record_and_escape(EXCEPTION_POINTERS *info)
{
    last = *info->ExceptionRecord;
    last_pc = context_pc(info->ContextRecord);
    faults++;
    __builtin_longjmp(escape, 1);
}

static void test_execute_violation(void)
{
    unsigned char *code = VirtualAlloc(NULL, page, MEM_COMMIT, PAGE_READWRITE);
#if defined(__x86_64__)
    code[0] = 0xC3;                                   /* ret */
#else
    *(volatile unsigned *)code = 0xD65F03C0u;         /* ret */
#endif
    void (*fn)(void) = (void (*)(void))code;
    WINDOWS_ONLY {
        PVOID h = AddVectoredExceptionHandler(1, record_and_escape);
        faults = 0;
        FENCE();
        if (!__builtin_setjmp(escape))
            fn();
        FENCE();
        CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
        CHECK_EQ(faults, 1);
        expect_violation(EXCEPTION_ACCESS_VIOLATION, 8, code);
        CHECK(last.ExceptionAddress == code);
    }

    /* With execute access the same call returns. */
    DWORD old;
    CHECK(VirtualProtect(code, page, PAGE_EXECUTE_READ, &old));
    CHECK_EQ(old, PAGE_READWRITE);
    fn();
    CHECK(VirtualFree(code, 0, MEM_RELEASE));
}

/* X2.3: the handler's CONTEXT is where the thread resumes.  The load below
 * is one known instruction; the handler reads its address register, puts a
 * value in its destination register and steps over it. */
#if defined(__x86_64__)
static volatile ULONG_PTR seen_rcx;
static LONG CALLBACK step_over_load(EXCEPTION_POINTERS *info)
{
    CONTEXT *ctx = info->ContextRecord;
    const unsigned char *ip = (const unsigned char *)ctx->Rip;
    if (info->ExceptionRecord->ExceptionCode != EXCEPTION_ACCESS_VIOLATION ||
        ip[0] != 0x48 || ip[1] != 0x8b || ip[2] != 0x01)      /* mov (%rcx),%rax */
        return EXCEPTION_CONTINUE_SEARCH;
    seen_rcx = ctx->Rcx;
    ctx->Rax = 0x1234567890ULL;
    ctx->Rip += 3;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void test_context_resume(void)
{
    char *p = VirtualAlloc(NULL, page, MEM_RESERVE, PAGE_NOACCESS);
    PVOID h = AddVectoredExceptionHandler(1, step_over_load);
    ULONG_PTR out;
    __asm__ volatile(".byte 0x48, 0x8b, 0x01" : "=a"(out) : "c"(p + 40) : "memory");
    CHECK_EQ(out, 0x1234567890ULL);
    CHECK_EQ(seen_rcx, (ULONG_PTR)(p + 40));
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}
#endif

/* Faults other than memory ones: an integer division by zero and an
 * undefined instruction, each stepped over by the handler (x86-64 only:
 * the instructions are known bytes there). */
#if defined(__x86_64__)
static volatile DWORD other_code;
static volatile DWORD other_params;
static LONG CALLBACK step_over_fault(EXCEPTION_POINTERS *info)
{
    CONTEXT *ctx = info->ContextRecord;
    const unsigned char *ip = (const unsigned char *)ctx->Rip;
    DWORD code = info->ExceptionRecord->ExceptionCode;
    if (code == EXCEPTION_INT_DIVIDE_BY_ZERO && ip[0] == 0x48 && ip[1] == 0xf7 && ip[2] == 0xf1)
        ctx->Rip += 3;                                     /* div %rcx */
    else if (code == EXCEPTION_ILLEGAL_INSTRUCTION && ip[0] == 0x0f && ip[1] == 0x0b)
        ctx->Rip += 2;                                     /* ud2 */
    else
        return EXCEPTION_CONTINUE_SEARCH;
    other_code = code;
    other_params = info->ExceptionRecord->NumberParameters;
    CHECK(info->ExceptionRecord->ExceptionAddress == (PVOID)ip);
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void test_other_faults(void)
{
    PVOID h = AddVectoredExceptionHandler(1, step_over_fault);
    ULONG_PTR quotient = 7, remainder = 0;
    __asm__ volatile(".byte 0x48, 0xf7, 0xf1"            /* div %rcx */
                     : "+a"(quotient), "+d"(remainder) : "c"(0ULL) : "cc");
    CHECK_EQ(other_code, EXCEPTION_INT_DIVIDE_BY_ZERO);
    CHECK_EQ(other_params, 0);
    CHECK_EQ(quotient, 7);                                 /* the division never ran */
    other_code = 0;
    __asm__ volatile(".byte 0x0f, 0x0b" ::: "memory");    /* ud2 */
    CHECK_EQ(other_code, EXCEPTION_ILLEGAL_INSTRUCTION);
    CHECK_EQ(other_params, 0);
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
}
#endif

/* V8: a guard page fires once, for that page only, before any handler
 * runs; the neighbours keep their guards. */
static void test_guard_pages(void)
{
    char *p = VirtualAlloc(NULL, 3 * page, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    CHECK(p != NULL);
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_GUARD, 3 * page, MEM_COMMIT,
              PAGE_READWRITE | PAGE_GUARD, MEM_PRIVATE);
    PVOID h = AddVectoredExceptionHandler(1, record_and_fix);

    faults = 0;
    CHECK_EQ(read_at(p + page + 5), 0);              /* read */
    CHECK_EQ(faults, 1);
    expect_violation(STATUS_GUARD_PAGE_VIOLATION, 0, p + page + 5);
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_GUARD, page, MEM_COMMIT,
              PAGE_READWRITE | PAGE_GUARD, MEM_PRIVATE);
    CHECK_MBI(p + page, p + page, p, PAGE_READWRITE | PAGE_GUARD, page, MEM_COMMIT,
              PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(p + 2 * page, p + 2 * page, p, PAGE_READWRITE | PAGE_GUARD, page, MEM_COMMIT,
              PAGE_READWRITE | PAGE_GUARD, MEM_PRIVATE);

    faults = 0;
    write_at(p + page + 6, 9);                       /* no longer guarded */
    CHECK_EQ(read_at(p + page + 6), 9);
    CHECK_EQ(faults, 0);

    write_at(p + 2 * page, 3);                       /* write */
    CHECK_EQ(faults, 1);
    expect_violation(STATUS_GUARD_PAGE_VIOLATION, 1, p + 2 * page);
    CHECK_EQ(p[2 * page], 3);
    write_at(p + 2 * page, 4);
    CHECK_EQ(faults, 1);

    /* VirtualProtect sets a guard again and reports it as the old value. */
    DWORD old;
    CHECK(VirtualProtect(p + page, page, PAGE_READONLY | PAGE_GUARD, &old));
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK(VirtualProtect(p + page, page, PAGE_READONLY | PAGE_GUARD, &old));
    CHECK_EQ(old, PAGE_READONLY | PAGE_GUARD);
    faults = 0;
    CHECK_EQ(read_at(p + page + 6), 9);
    CHECK_EQ(faults, 1);
    expect_violation(STATUS_GUARD_PAGE_VIOLATION, 0, p + page + 6);
    CHECK_MBI(p + page, p + page, p, PAGE_READWRITE | PAGE_GUARD, page, MEM_COMMIT,
              PAGE_READONLY, MEM_PRIVATE);

    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

/* X7: the sparse array.  Reserve 1 GiB; a handler commits each page the
 * first time it is touched.  Exactly one fault per distinct page, all data
 * reads back, and VirtualQuery finds exactly those pages committed. */
#define SPARSE_SIZE ((SIZE_T)1 << 30)
#define SPARSE_TOUCHES 10000

static unsigned char touched[SPARSE_SIZE / 4096 / 8];

static void test_sparse_array(void)
{
    char *base = VirtualAlloc(NULL, SPARSE_SIZE, MEM_RESERVE, PAGE_NOACCESS);
    SIZE_T pages = SPARSE_SIZE / page, distinct = 0, bad = 0, i;
    unsigned long long x = 88172645463325252ULL;
    ULONG_PTR *slots = VirtualAlloc(NULL, SPARSE_TOUCHES * sizeof *slots, MEM_COMMIT, PAGE_READWRITE);
    CHECK(base != NULL && slots != NULL);
    fix_base = base;
    fix_size = SPARSE_SIZE;
    fix_protect = PAGE_READWRITE;
    PVOID h = AddVectoredExceptionHandler(1, record_and_fix);
    faults = 0;
    for (i = 0; i < SPARSE_TOUCHES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        SIZE_T pg = (SIZE_T)(x % pages), off = (SIZE_T)((x >> 32) % (page / 8)) * 8;
        if (!(touched[pg / 8] & (1u << (pg % 8))))
            distinct++;
        touched[pg / 8] |= (unsigned char)(1u << (pg % 8));
        slots[i] = pg * page + off;
        FENCE();
        *(volatile ULONG_PTR *)(base + slots[i]) = slots[i] ^ 0x5a5a5a5a;
        FENCE();
    }
    CHECK_EQ((SIZE_T)faults, distinct);
    for (i = 0; i < SPARSE_TOUCHES; i++) {
        ULONG_PTR v = *(volatile ULONG_PTR *)(base + slots[i]);
        bad += v != (slots[i] ^ 0x5a5a5a5a);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ((SIZE_T)faults, distinct);

    SIZE_T committed = 0, walked = 0, mismatched = 0;
    char *at = base;
    while (at < base + SPARSE_SIZE) {
        MEMORY_BASIC_INFORMATION m;
        if (VirtualQuery(at, &m, sizeof m) != sizeof m || m.AllocationBase != base)
            break;
        SIZE_T first = (SIZE_T)(at - base) / page, n = m.RegionSize / page, k;
        for (k = first; k < first + n; k++)
            mismatched += ((touched[k / 8] >> (k % 8)) & 1) != (m.State == MEM_COMMIT);
        if (m.State == MEM_COMMIT)
            committed += n;
        walked += m.RegionSize;
        at += m.RegionSize;
    }
    CHECK_EQ(walked, SPARSE_SIZE);
    CHECK(at == base + SPARSE_SIZE);
    CHECK_EQ(committed, distinct);
    CHECK_EQ(mismatched, 0);

    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    CHECK(VirtualFree(slots, 0, MEM_RELEASE));
    CHECK(VirtualFree(base, 0, MEM_RELEASE));
    fix_base = NULL;
}

/* The top-level filter sees a fault nobody else took and may repair it. */
static char *volatile filter_page;
static volatile int filter_calls;
static LONG WINAPI commit_in_filter(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    filter_calls++;
    if (rec->ExceptionCode == EXCEPTION_ACCESS_VIOLATION &&
        (char *)rec->ExceptionInformation[1] == filter_page + 8 &&
        VirtualAlloc(filter_page, page, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_EXECUTION;
    return EXCEPTION_CONTINUE_SEARCH;
}

static void test_top_filter(void)
{
    if (CF_SANITIZED) {                 /* ASan's handler would take it first */
        cf_skipped++;
        return;
    }
    filter_page = VirtualAlloc(NULL, page, MEM_RESERVE, PAGE_NOACCESS);
    LPTOP_LEVEL_EXCEPTION_FILTER before = SetUnhandledExceptionFilter(commit_in_filter);
    write_at(filter_page + 8, 77);
    CHECK_EQ(filter_calls, 1);
    CHECK_EQ(filter_page[8], 77);
    CHECK(SetUnhandledExceptionFilter(before) == commit_in_filter);
    CHECK(VirtualFree(filter_page, 0, MEM_RELEASE));
}

int main(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    page = si.dwPageSize;
    test_access_violations();
    test_execute_violation();
#if defined(__x86_64__)
    test_context_resume();
    test_other_faults();
#endif
    test_guard_pages();
    test_sparse_array();
    test_top_filter();
    return cf_finish();
}
