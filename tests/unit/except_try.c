/*
 * except_try.c — white-box tests of WINMEM_TRY / WINMEM_EXCEPT (winmem.h)
 * and of the dispatch order behind them (except.h): a frame catches an
 * access violation and a raised exception with their records; a filter that
 * passes the exception on lets the outer frame catch it without the inner
 * handler running; a filter that fixes the page resumes the body; vectored
 * handlers answer before any frame; frames that are done are gone (a later
 * exception reaches the top-level filter, not a dead frame).  Also
 * os_try_copy, which must turn a bad pointer into EFAULT without raising,
 * and a vectored handler that still works in a child after fork().
 */
#include "except/except.h"
#include "os/os.h"
#include "vm/vm.h"
#include "unit.h"
#include "except_unit.h"

#include <errno.h>
#include <string.h>

static size_t PG;

static char *reserve(size_t pages)
{
    char *p = VirtualAlloc(NULL, pages * PG, MEM_RESERVE, PAGE_READWRITE);
    CHECK(p != NULL);
    return p;
}

static DWORD state_of(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0, sizeof m);
    VirtualQuery(p, &m, sizeof m);
    return m.State;
}

/* ------------------------------------------------------------- handlers */
struct filter_log {
    volatile int calls;
    volatile int order;            /* the value of `sequence` at the last call */
    volatile DWORD code;
    volatile ULONG_PTR address;    /* ExceptionInformation[1] */
    volatile LONG answer;          /* what the filter answers */
};
static volatile int sequence;

/* A WINMEM_TRY filter that logs into its context and answers as told; for
 * EXCEPTION_CONTINUE_EXECUTION it first commits the faulting page. */
static LONG log_filter(EXCEPTION_POINTERS *info, void *context)
{
    struct filter_log *log = context;
    log->calls++;
    log->order = ++sequence;
    log->code = info->ExceptionRecord->ExceptionCode;
    log->address = info->ExceptionRecord->ExceptionInformation[1];
    if (log->answer == EXCEPTION_CONTINUE_EXECUTION &&
        !VirtualAlloc((void *)log->address, 1, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_SEARCH;
    return log->answer;
}

/* The commit-on-demand handler: commits the faulting page when it lies in
 * [fix_lo, fix_hi) and counts its calls. */
static char *volatile fix_lo, *volatile fix_hi;
static volatile int veh_calls;
static LONG CALLBACK commit_handler(EXCEPTION_POINTERS *info)
{
    veh_calls++;
    EXCEPTION_RECORD *r = info->ExceptionRecord;
    char *at = (char *)r->ExceptionInformation[1];
    if (r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || at < fix_lo || at >= fix_hi ||
        !VirtualAlloc(at, 1, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_SEARCH;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static struct filter_log top_log;
static LONG WINAPI top_filter(EXCEPTION_POINTERS *info) { return log_filter(info, &top_log); }

/* ----------------------------------------------------------------- tests */
/* A NULL filter catches everything; the record is Windows' (X2). */
static void test_catch_violation(void)
{
    char *p = reserve(1);
    for (int access = 0; access <= 1; access++) {
        volatile int finished = 0, caught = 0;
        WINMEM_TRY(NULL, NULL) {
            if (access)
                write_at(p + 100, 1);
            else
                read_at(p + 100);
            finished = 1;
        } WINMEM_EXCEPT {
            caught++;
            CHECK_EQ(winmem_exception->ExceptionCode, 0xC0000005);
            CHECK_EQ(winmem_exception->NumberParameters, 2);
            CHECK_EQ(winmem_exception->ExceptionInformation[0], access);
            CHECK_EQ(winmem_exception->ExceptionInformation[1], (ULONG_PTR)(p + 100));
            CHECK(winmem_exception->ExceptionRecord == NULL);
        } WINMEM_END_TRY;
        CHECK_EQ(caught, 1);
        CHECK_EQ(finished, 0);
    }
    CHECK_EQ(state_of(p), MEM_RESERVE);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

static void test_catch_raise(void)
{
    ULONG_PTR args[20];
    for (int i = 0; i < 20; i++)
        args[i] = 0x1000 + (ULONG_PTR)i;
    volatile int caught = 0, returned = 0;
    WINMEM_TRY(NULL, NULL) {
        RaiseException(0xE0000042, EXCEPTION_NONCONTINUABLE, 3, args);
        returned = 1;
    } WINMEM_EXCEPT {
        caught++;
        CHECK_EQ(winmem_exception->ExceptionCode, 0xE0000042);
        CHECK_EQ(winmem_exception->ExceptionFlags, EXCEPTION_NONCONTINUABLE);
        CHECK_EQ(winmem_exception->NumberParameters, 3);
        for (int i = 0; i < 3; i++)
            CHECK_EQ(winmem_exception->ExceptionInformation[i], 0x1000 + i);
    } WINMEM_END_TRY;
    CHECK_EQ(caught, 1);
    CHECK_EQ(returned, 0);

    caught = 0;          /* more arguments than a record holds: the first 15 */
    WINMEM_TRY(NULL, NULL) {
        RaiseException(0xE0000043, 0, 20, args);
    } WINMEM_EXCEPT {
        caught++;
        CHECK_EQ(winmem_exception->NumberParameters, EXCEPTION_MAXIMUM_PARAMETERS);
        CHECK_EQ(winmem_exception->ExceptionInformation[14], 0x1000 + 14);
    } WINMEM_END_TRY;
    CHECK_EQ(caught, 1);
}

/* The inner filter passes the exception on: the outer frame catches it, and
 * neither the inner handler nor the rest of the outer body runs.  Nested
 * once in the same function and once through a call. */
static volatile int inner_handler, outer_rest, outer_handler;

__attribute__((noinline)) static void inner_try(char *at, struct filter_log *inner)
{
    WINMEM_TRY(log_filter, inner) {
        read_at(at);
    } WINMEM_EXCEPT {
        inner_handler++;
    } WINMEM_END_TRY;
}

static void test_nested_search(void)
{
    char *p = reserve(1);
    for (int through_call = 0; through_call <= 1; through_call++) {
        struct filter_log inner = { .answer = EXCEPTION_CONTINUE_SEARCH };
        struct filter_log outer = { .answer = EXCEPTION_EXECUTE_HANDLER };
        inner_handler = outer_rest = outer_handler = 0;
        sequence = 0;
        WINMEM_TRY(log_filter, &outer) {
            if (through_call) {
                inner_try(p + 8, &inner);
            } else {
                WINMEM_TRY(log_filter, &inner) {      /* nested in one function */
                    read_at(p + 8);
                } WINMEM_EXCEPT {
                    inner_handler++;
                } WINMEM_END_TRY;
            }
            outer_rest++;
        } WINMEM_EXCEPT {
            outer_handler++;
            CHECK_EQ(winmem_exception->ExceptionCode, EXCEPTION_ACCESS_VIOLATION);
            CHECK_EQ(winmem_exception->ExceptionInformation[1], (ULONG_PTR)(p + 8));
        } WINMEM_END_TRY;
        CHECK_EQ(inner.calls, 1);
        CHECK_EQ(outer.calls, 1);
        CHECK(inner.order < outer.order);          /* innermost first */
        CHECK_EQ(inner_handler, 0);
        CHECK_EQ(outer_rest, 0);
        CHECK_EQ(outer_handler, 1);
        CHECK_EQ(inner.address, (ULONG_PTR)(p + 8));
    }
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

/* A filter that commits the page resumes the faulting write. */
static void test_filter_continues(void)
{
    char *p = reserve(2);
    struct filter_log log = { .answer = EXCEPTION_CONTINUE_EXECUTION };
    volatile int finished = 0, handler = 0;
    WINMEM_TRY(log_filter, &log) {
        write_at(p + PG + 5, 7);
        finished = 1;
    } WINMEM_EXCEPT {
        handler++;
    } WINMEM_END_TRY;
    CHECK_EQ(log.calls, 1);
    CHECK_EQ(log.code, EXCEPTION_ACCESS_VIOLATION);
    CHECK_EQ(finished, 1);
    CHECK_EQ(handler, 0);
    CHECK_EQ(p[PG + 5], 7);
    CHECK_EQ(state_of(p + PG), MEM_COMMIT);
    CHECK_EQ(state_of(p), MEM_RESERVE);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

/* Vectored handlers come before frames: one that fixes the fault means the
 * frame's filter is never asked. */
static void test_vectored_first(void)
{
    char *p = reserve(1);
    fix_lo = p, fix_hi = p + PG;
    veh_calls = 0;
    PVOID h = AddVectoredExceptionHandler(0, commit_handler);
    CHECK(h != NULL);
    struct filter_log log = { .answer = EXCEPTION_EXECUTE_HANDLER };
    volatile int finished = 0, handler = 0;
    WINMEM_TRY(log_filter, &log) {
        write_at(p + 3, 9);
        finished = 1;
    } WINMEM_EXCEPT {
        handler++;
    } WINMEM_END_TRY;
    CHECK_EQ(veh_calls, 1);
    CHECK_EQ(log.calls, 0);
    CHECK_EQ(finished, 1);
    CHECK_EQ(handler, 0);
    CHECK_EQ(p[3], 9);
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    fix_lo = fix_hi = NULL;
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
}

/* Frames that are done are gone: frames that caught, one whose body ended,
 * one whose filter continued.  Then a fault and a raise outside any frame
 * must reach the top-level filter.  The frames' filter answers
 * EXCEPTION_CONTINUE_SEARCH once its frame is done and logs that call, so a
 * frame still registered shows as stale_calls; it runs in a child so a
 * stale frame that is jumped into cannot take this process with it. */
static volatile bool frames_done;
static struct filter_log stale_log;
static LONG phase_filter(EXCEPTION_POINTERS *info, void *context)
{
    if (!frames_done)
        return log_filter(info, context);
    stale_log.calls++;
    return EXCEPTION_CONTINUE_SEARCH;
}

static void no_stale_frame_body(void)
{
    char *p = reserve(3);
    struct filter_log catching = { .answer = EXCEPTION_EXECUTE_HANDLER };
    struct filter_log fixing = { .answer = EXCEPTION_CONTINUE_EXECUTION };
    volatile int caught = 0;
    for (int i = 0; i < 200; i++) {
        WINMEM_TRY(phase_filter, &catching) {
            read_at(p + i);
        } WINMEM_EXCEPT {
            caught++;
        } WINMEM_END_TRY;
    }
    CHECK_EQ(caught, 200);
    WINMEM_TRY(phase_filter, &catching) {
        caught += 1000;                          /* no exception at all */
    } WINMEM_EXCEPT {
        caught = -1;
    } WINMEM_END_TRY;
    WINMEM_TRY(phase_filter, &fixing) {
        write_at(p + 2 * PG, 1);                 /* the filter commits */
    } WINMEM_EXCEPT {
        caught = -1;
    } WINMEM_END_TRY;
    CHECK_EQ(caught, 1200);
    CHECK_EQ(fixing.calls, 1);
    frames_done = true;

    memset(&top_log, 0, sizeof top_log);
    top_log.answer = EXCEPTION_CONTINUE_EXECUTION;
    SetUnhandledExceptionFilter(top_filter);
    write_at(p + PG + 1, 5);                    /* the top filter commits */
    CHECK_EQ(stale_log.calls, 0);
    CHECK_EQ(top_log.calls, 1);
    CHECK_EQ(top_log.code, EXCEPTION_ACCESS_VIOLATION);
    CHECK_EQ(top_log.address, (ULONG_PTR)(p + PG + 1));
    CHECK_EQ(p[PG + 1], 5);

    /* A raised exception the top filter continues: RaiseException returns. */
    RaiseException(0xE0000044, 0, 0, NULL);
    CHECK_EQ(stale_log.calls, 0);
    CHECK_EQ(top_log.calls, 2);
    CHECK_EQ(top_log.code, 0xE0000044);
    CHECK_EQ(caught, 1200);
    printf("no stale frame: done\n");
}

static void test_no_stale_frame(void)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, no_stale_frame_body);
    CHECK(child_exited(&c, 0));
    CHECK(child_says(&c, "no stale frame: done"));
    child_explain(&c, "no stale frame", failed);
}

/* os_try_copy: EFAULT for a bad side, and nothing raised even with a
 * vectored handler that would commit the page (the copy would then work). */
static void test_try_copy(void)
{
    char *p = reserve(1);
    char *ro = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY);
    CHECK(ro != NULL);
    fix_lo = p, fix_hi = p + PG;
    veh_calls = 0;
    PVOID h = AddVectoredExceptionHandler(1, commit_handler);
    char buf[64], src[64];
    memset(buf, 0x5a, sizeof buf);
    for (int i = 0; i < 64; i++)
        src[i] = (char)i;

    CHECK_EQ(os_try_copy(buf, p + 16, 32), EFAULT);
    CHECK_EQ(os_try_copy(p + 16, src, 32), EFAULT);
    CHECK_EQ(os_try_copy(buf, (void *)0x10, 8), EFAULT);
    CHECK_EQ(os_try_copy((void *)0x10, src, 8), EFAULT);
    CHECK_EQ(os_try_copy(ro, src, 8), EFAULT);
    CHECK_EQ(veh_calls, 0);
    CHECK_EQ(state_of(p), MEM_RESERVE);
    CHECK_EQ(ro[0], 0);
    CHECK_EQ(buf[0], 0x5a);

    CHECK_EQ(os_try_copy(buf, src, sizeof src), 0);
    CHECK(memcmp(buf, src, sizeof src) == 0);
    CHECK_EQ(os_try_copy(buf, ro, 8), 0);       /* reading read-only is fine */
    CHECK_EQ(buf[7], 0);
    CHECK_EQ(veh_calls, 0);

    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    fix_lo = fix_hi = NULL;
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    CHECK(VirtualFree(ro, 0, MEM_RELEASE));
}

/* fork(): the child keeps the parent's vectored handler and signal setup. */
static char *fork_region;
static void fork_child_body(void)
{
    veh_calls = 0;
    for (int i = 0; i < 8; i++)
        write_at(fork_region + (size_t)i * PG + i, (char)(i + 1));
    CHECK_EQ(veh_calls, 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(fork_region[(size_t)i * PG + i], i + 1);
}

static void test_fork(void)
{
    fork_region = reserve(8);
    fix_lo = fork_region, fix_hi = fork_region + 8 * PG;
    PVOID h = AddVectoredExceptionHandler(1, commit_handler);
    struct child c;
    int failed = unit_failed;
    child_run(&c, fork_child_body);
    CHECK(child_exited(&c, 0));
    child_explain(&c, "fork", failed);
    CHECK_EQ(state_of(fork_region), MEM_RESERVE);   /* the parent's is untouched */
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    fix_lo = fix_hi = NULL;
    CHECK(VirtualFree(fork_region, 0, MEM_RELEASE));
}

int main(void)
{
    /* Before anything arms winmem: a fault no handler takes must reach the
     * top-level filter here (test_no_stale_frame), not a sanitizer's. */
    child_default_fault_signals();
    PG = os_page_size();
    test_catch_violation();
    test_catch_raise();
    test_nested_search();
    test_filter_continues();
    test_vectored_first();
    test_no_stale_frame();
    test_try_copy();
    test_fork();
    CHECK_EQ(except_handler_count(EXCEPT_VECTORED), 0);
    return unit_finish();
}
