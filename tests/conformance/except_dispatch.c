/*
 * except_dispatch.c — vectored handlers, RaiseException and the unhandled
 * filter (reference X1, X3, X4, X5): the order handlers are called in, what
 * stops the walk, what removal returns, the record a handler sees, and
 * nested and noncontinuable exceptions.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Wine never calls vectored continue handlers; when Windows calls them
 * (after a handler answers EXCEPTION_CONTINUE_EXECUTION, as ReactOS and
 * Microsoft's RtlDispatchException do) is pinned in WINDOWS_ONLY blocks.
 */
#include "conformance.h"

static char trail[64];
static int trail_len;

static void note(char c)
{
    if (trail_len < (int)sizeof trail - 1)
        trail[trail_len++] = c;
    trail[trail_len] = 0;
}

static void trail_reset(void)
{
    trail_len = 0;
    trail[0] = 0;
}

#define HANDLER(name, mark, answer) \
    static LONG CALLBACK name(EXCEPTION_POINTERS *info) { (void)info; note(mark); return answer; }
HANDLER(veh_a, 'a', EXCEPTION_CONTINUE_SEARCH)
HANDLER(veh_b, 'b', EXCEPTION_CONTINUE_SEARCH)
HANDLER(veh_c, 'c', EXCEPTION_CONTINUE_EXECUTION)
HANDLER(veh_d, 'd', EXCEPTION_CONTINUE_SEARCH)
HANDLER(vch_a, 'A', EXCEPTION_CONTINUE_SEARCH)
HANDLER(vch_b, 'B', EXCEPTION_CONTINUE_EXECUTION)
HANDLER(vch_c, 'C', EXCEPTION_CONTINUE_SEARCH)

static LONG WINAPI top_continue(EXCEPTION_POINTERS *info)
{
    (void)info;
    note('T');
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* X3: First != 0 puts a handler at the head; CONTINUE_EXECUTION stops the
 * walk; X4: removal returns nonzero once, then 0. */
static void test_order_and_removal(void)
{
    PVOID a = AddVectoredExceptionHandler(0, veh_a);
    PVOID b = AddVectoredExceptionHandler(1, veh_b);
    PVOID c = AddVectoredExceptionHandler(0, veh_c);
    PVOID d = AddVectoredExceptionHandler(0, veh_d);
    CHECK(a && b && c && d);
    CHECK(a != b && b != c && c != d);

    trail_reset();
    RaiseException(0xE0000001, 0, 0, NULL);
    note('|');                        /* RaiseException returned (X5.3) */
    CHECK(strcmp(trail, "bac|") == 0);

    CHECK_EQ(RemoveVectoredExceptionHandler(c), 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(c), 0);
    CHECK_EQ(RemoveVectoredExceptionHandler(NULL), 0);
    CHECK_EQ(RemoveVectoredContinueHandler(a), 0);     /* not on that list */

    /* Nobody continues now: the top-level filter does.  (A C runtime may
     * have installed a filter of its own before main: mingw's does.) */
    LPTOP_LEVEL_EXCEPTION_FILTER before = SetUnhandledExceptionFilter(top_continue);
    trail_reset();
    RaiseException(0xE0000002, 0, 0, NULL);
    CHECK(strcmp(trail, "badT") == 0);
    CHECK(SetUnhandledExceptionFilter(before) == top_continue);

    /* A handler added again after removal is called again, at the tail. */
    c = AddVectoredExceptionHandler(0, veh_c);
    CHECK_EQ(RemoveVectoredExceptionHandler(d), 1);
    trail_reset();
    RaiseException(0xE0000003, 0, 0, NULL);
    CHECK(strcmp(trail, "bac") == 0);

    CHECK_EQ(RemoveVectoredExceptionHandler(a), 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(b), 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(c), 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(a), 0);
}

/* Continue handlers run after a handler continued execution, head to tail
 * with First honoured, until one answers CONTINUE_EXECUTION. */
static void test_continue_handlers(void)
{
    PVOID c = AddVectoredExceptionHandler(0, veh_c);
    PVOID ca = AddVectoredContinueHandler(0, vch_a);
    PVOID cb = AddVectoredContinueHandler(0, vch_b);
    PVOID cc = AddVectoredContinueHandler(1, vch_c);
    CHECK(ca && cb && cc);
    trail_reset();
    RaiseException(0xE0000004, 0, 0, NULL);
    CHECK(trail[0] == 'c');
    WINDOWS_ONLY CHECK(strcmp(trail, "cCAB") == 0);
    CHECK_EQ(RemoveVectoredContinueHandler(ca), 1);
    CHECK_EQ(RemoveVectoredContinueHandler(ca), 0);
    CHECK_EQ(RemoveVectoredExceptionHandler(cb), 0);   /* not on that list */
    CHECK_EQ(RemoveVectoredContinueHandler(cb), 1);
    CHECK_EQ(RemoveVectoredContinueHandler(cc), 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(c), 1);
}

static EXCEPTION_RECORD seen;

static LONG CALLBACK keep_record(EXCEPTION_POINTERS *info)
{
    seen = *info->ExceptionRecord;
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* X5: the record RaiseException builds. */
static void test_raise_record(void)
{
    ULONG_PTR args[20];
    int i;
    for (i = 0; i < 20; i++)
        args[i] = 100 + (ULONG_PTR)i;
    PVOID h = AddVectoredExceptionHandler(1, keep_record);

    memset(&seen, 0xcc, sizeof seen);
    RaiseException(0xE0000010, 0, 2, args);
    CHECK_EQ(seen.ExceptionCode, 0xE0000010);
    CHECK_EQ(seen.ExceptionFlags, 0);
    CHECK(seen.ExceptionRecord == NULL);
    CHECK(seen.ExceptionAddress != NULL);
    CHECK_EQ(seen.NumberParameters, 2);
    CHECK_EQ(seen.ExceptionInformation[0], 100);
    CHECK_EQ(seen.ExceptionInformation[1], 101);

    RaiseException(0xE0000011, 0, 20, args);                /* cut to 15 */
    CHECK_EQ(seen.NumberParameters, EXCEPTION_MAXIMUM_PARAMETERS);
    CHECK_EQ(seen.ExceptionInformation[14], 114);

    RaiseException(0xE0000012, 0, 3, NULL);                 /* no arguments */
    CHECK_EQ(seen.NumberParameters, 0);

    RaiseException(0x12345678, 0x10, 0, NULL);              /* flags other than 1 dropped */
    CHECK_EQ(seen.ExceptionCode, 0x12345678);
    CHECK_EQ(seen.ExceptionFlags, 0);
    RaiseException(0xE0000013, 0xFFFFFFFEu, 0, NULL);
    CHECK_EQ(seen.ExceptionFlags, 0);

    /* A NULL handler can be registered (calling it would fault). */
    PVOID null_handler = AddVectoredExceptionHandler(1, NULL);
    CHECK(null_handler != NULL);
    CHECK_EQ(RemoveVectoredExceptionHandler(null_handler), 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
}

/* A handler may raise; the inner exception is dispatched from the top. */
static int inner_seen, outer_seen;

static LONG CALLBACK nesting_handler(EXCEPTION_POINTERS *info)
{
    DWORD code = info->ExceptionRecord->ExceptionCode;
    if (code == 0xE0000020) {
        outer_seen++;
        RaiseException(0xE0000021, 0, 0, NULL);
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (code == 0xE0000021) {
        inner_seen++;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static void test_nested(void)
{
    PVOID h = AddVectoredExceptionHandler(0, nesting_handler);
    RaiseException(0xE0000020, 0, 0, NULL);
    CHECK_EQ(outer_seen, 1);
    CHECK_EQ(inner_seen, 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
}

/* X5.4: a vectored handler may continue a noncontinuable exception
 * (RaiseException returns); the top-level filter may not: that raises
 * STATUS_NONCONTINUABLE_EXCEPTION, itself noncontinuable.  Windows chains
 * the first record to it; Wine leaves ExceptionRecord NULL. */
static void *escape[5];
static DWORD second_code, second_flags, chained_code;
static int continued;

static LONG CALLBACK continue_anything(EXCEPTION_POINTERS *info)
{
    (void)info;
    continued++;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static LONG CALLBACK catch_noncontinuable(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    if (rec->ExceptionCode == STATUS_NONCONTINUABLE_EXCEPTION) {
        second_code = rec->ExceptionCode;
        second_flags = rec->ExceptionFlags;
        chained_code = rec->ExceptionRecord ? rec->ExceptionRecord->ExceptionCode : 0;
        __builtin_longjmp(escape, 1);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static void test_noncontinuable(void)
{
    PVOID h = AddVectoredExceptionHandler(1, continue_anything);
    RaiseException(0xE0000030, EXCEPTION_NONCONTINUABLE, 0, NULL);
    CHECK_EQ(continued, 1);
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);

    LPTOP_LEVEL_EXCEPTION_FILTER before = SetUnhandledExceptionFilter(top_continue);
    h = AddVectoredExceptionHandler(1, catch_noncontinuable);
    if (!__builtin_setjmp(escape)) {
        RaiseException(0xE0000031, EXCEPTION_NONCONTINUABLE, 0, NULL);
        CHECK(!"RaiseException returned from a noncontinuable exception");
    }
    CHECK_EQ(second_code, STATUS_NONCONTINUABLE_EXCEPTION);
    CHECK_EQ(second_flags & EXCEPTION_NONCONTINUABLE, EXCEPTION_NONCONTINUABLE);
    WINDOWS_ONLY CHECK_EQ(chained_code, 0xE0000031);
    CHECK_EQ(RemoveVectoredExceptionHandler(h), 1);
    SetUnhandledExceptionFilter(before);
}

int main(void)
{
    test_order_and_removal();
    test_continue_handlers();
    test_raise_record();
    test_nested();
    test_noncontinuable();
    return cf_finish();
}
