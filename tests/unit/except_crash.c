/*
 * except_crash.c — exceptions nobody handles (except_dispatch.c's
 * last_chance, except_report.c).  Each case crashes a forked child on
 * purpose; the parent reads the child's stderr and checks how it ended:
 *   - an access violation or a guard page: the report (code, what was
 *     accessed and where) and death by SIGSEGV, after the vectored handlers
 *     were asked;
 *   - a raised exception: the report and death by SIGABRT;
 *   - a top-level filter answering EXCEPTION_EXECUTE_HANDLER: a quiet exit
 *     with the code's low byte as status, and no report;
 *   - a stack overflow, in the main thread and in another thread, each with
 *     an alternate stack from AddVectoredExceptionHandler: reported as
 *     0xc00000fd and death by SIGSEGV, not a silent kill.
 * This process never arms winmem itself; each child does.
 */
#include "except/except.h"
#include "os/os.h"
#include "vm/vm.h"
#include "unit.h"
#include "except_unit.h"

#include <pthread.h>
#include <stdio.h>

static size_t PG;
static char *target;                 /* the address the child faults on */
static volatile bool stray_write;    /* write (not read) at target */

/* Marks that vectored handlers ran before the end, and declines. */
static LONG CALLBACK noting_handler(EXCEPTION_POINTERS *info)
{
    child_mark("vectored handler declined\n");
    return EXCEPTION_CONTINUE_SEARCH;
}

static LONG WINAPI quiet_filter(EXCEPTION_POINTERS *info)
{
    child_mark("top-level filter ran\n");
    return EXCEPTION_EXECUTE_HANDLER;
}

/* Prints the fault address for the parent, then faults at `target`. */
static void fault_now(void)
{
    printf("target %p\n", (void *)target);
    fflush(stdout);
    FENCE();
    if (stray_write)
        *(volatile char *)target = 1;
    else
        (void)*(volatile char *)target;
    FENCE();
    printf("the fault returned\n");
}

/* ------------------------------------------------------------ children */
static void violation(void)
{
    child_default_fault_signals();
    target = VirtualAlloc(NULL, PG, MEM_RESERVE, PAGE_READWRITE) + 0x123;
    AddVectoredExceptionHandler(1, noting_handler);
    stray_write = true;
    fault_now();
}

static void guard_page(void)
{
    child_default_fault_signals();
    target = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD) + 8;
    stray_write = false;
    fault_now();
}

static void raised(void)
{
    ULONG_PTR args[2] = { 1, 2 };
    printf("raising\n");
    fflush(stdout);
    RaiseException(0xE0001234, 0, 2, args);
    printf("RaiseException returned\n");
}

static void violation_filtered(void)
{
    child_default_fault_signals();
    target = VirtualAlloc(NULL, PG, MEM_RESERVE, PAGE_READWRITE);
    SetUnhandledExceptionFilter(quiet_filter);
    stray_write = true;
    fault_now();
}

static void raised_filtered(void)
{
    SetUnhandledExceptionFilter(quiet_filter);
    raised();
}

/* Recursion with a frame of about 1 KiB that the compiler cannot drop:
 * smaller than a guard page, so no frame jumps over it. */
static volatile int sink, never = -1;
__attribute__((noinline)) static int recurse(int depth)
{
    volatile char frame[1024];
    if (depth == never)
        return 0;
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    sink = depth;
    return recurse(depth + 1) + frame[depth % (int)sizeof frame];
}

static void overflow_main(void)
{
    child_default_fault_signals();
    AddVectoredExceptionHandler(1, noting_handler);   /* gives this thread an alternate stack */
    printf("recursing\n");
    fflush(stdout);
    recurse(0);
}

static void *overflow_thread_main(void *arg)
{
    AddVectoredExceptionHandler(1, noting_handler);
    printf("recursing\n");
    fflush(stdout);
    recurse(0);
    return NULL;
}

static void overflow_thread(void)
{
    child_default_fault_signals();
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, overflow_thread_main, NULL), 0);
    pthread_join(th, NULL);
    printf("the thread returned\n");
}

/* -------------------------------------------------------------- checks */
/* The child printed "target <address>" before faulting: the report must
 * name that address, with the access, in the form except_report.c uses. */
static void check_address(const struct child *c, const char *access)
{
    const char *line = strstr(c->out, "target ");
    void *at = NULL;
    char want[64];
    CHECK(line && sscanf(line, "target %p", &at) == 1);
    snprintf(want, sizeof want, "%s 0x%016lx", access, (unsigned long)(uintptr_t)at);
    CHECK(child_says(c, want));
}

static void test_violation(void)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, violation);
    CHECK(child_killed(&c, SIGSEGV));
    CHECK(child_says(&c, "vectored handler declined"));
    CHECK(child_says(&c, "winmem: unhandled exception 0xc0000005 (EXCEPTION_ACCESS_VIOLATION)"));
    check_address(&c, "writing to");
    CHECK(strstr(c.out, "vectored handler declined") < strstr(c.out, "unhandled exception"));
    CHECK(!child_says(&c, "the fault returned"));
    child_explain(&c, "access violation", failed);
}

static void test_guard_page(void)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, guard_page);
    CHECK(child_killed(&c, SIGSEGV));
    CHECK(child_says(&c, "winmem: unhandled exception 0x80000001 (STATUS_GUARD_PAGE_VIOLATION)"));
    check_address(&c, "reading from");
    child_explain(&c, "guard page", failed);
}

static void test_raised(void)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, raised);
    CHECK(child_killed(&c, SIGABRT));
    CHECK(child_says(&c, "raising"));
    CHECK(child_says(&c, "winmem: unhandled exception 0xe0001234 (raised by the program)"));
    CHECK(!child_says(&c, "RaiseException returned"));
    child_explain(&c, "raised", failed);
}

static void test_filtered(void)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, violation_filtered);
    CHECK(child_exited(&c, 0x05));                      /* 0xc0000005 & 0xff */
    CHECK(child_says(&c, "top-level filter ran"));
    CHECK(!child_says(&c, "unhandled exception"));
    CHECK(!child_says(&c, "the fault returned"));
    child_explain(&c, "violation, quiet filter", failed);

    failed = unit_failed;
    child_run(&c, raised_filtered);
    CHECK(child_exited(&c, 0x34));                      /* 0xe0001234 & 0xff */
    CHECK(child_says(&c, "top-level filter ran"));
    CHECK(!child_says(&c, "unhandled exception"));
    CHECK(!child_says(&c, "RaiseException returned"));
    child_explain(&c, "raised, quiet filter", failed);
}

static void test_overflow(void (*body)(void), const char *name)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, body);
    CHECK(child_killed(&c, SIGSEGV));
    CHECK(child_says(&c, "recursing"));
    CHECK(child_says(&c, "winmem: unhandled exception 0xc00000fd (EXCEPTION_STACK_OVERFLOW)"));
    CHECK(child_says(&c, "writing to 0x"));
    CHECK(!child_says(&c, "the thread returned"));
    child_explain(&c, name, failed);
}

int main(void)
{
    PG = os_page_size();
    test_violation();
    test_guard_page();
    test_raised();
    test_filtered();
    test_overflow(overflow_main, "stack overflow, main thread");
    test_overflow(overflow_thread, "stack overflow, other thread");
    return unit_finish();
}
