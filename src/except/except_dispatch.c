/*
 * except_dispatch.c — one exception's way through the handlers (the order is
 * in except.h), the translation of host faults into exception records, and
 * the try frames behind WINMEM_TRY.
 *
 * Host faults arrive in signal context, on the thread's alternate stack.
 * Everything here is safe there: no allocation, no stdio, and the only lock
 * taken (the handler lists') is never held while a handler runs.  A fault
 * inside winmem's own dispatch code, or inside the registry lock, is
 * winmem's bug, not the program's: it is reported as such and the process
 * ends, rather than handing the program an exception it cannot fix.
 */
#include "except.h"
#include "../os/os.h"
#include "../vm/vm.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))

static TLS winmem_try_frame *try_top;     /* innermost active frame */
static TLS bool in_dispatch_code;         /* winmem's code, not a handler, runs */

LPTOP_LEVEL_EXCEPTION_FILTER except_top_filter;

enum outcome { RESUME_CONTEXT, RESUME_AS_HOST_LEFT_IT };

/* ---------------------------------------------------------- try frames */
WINMEM_API void winmem_try_enter(winmem_try_frame *frame, WINMEM_TRY_FILTER filter, void *context)
{
    except_arm();
    os_altstack_ensure();     /* once per thread: a stack overflow is reported */
    frame->outer = try_top;
    frame->filter = filter;
    frame->context = context;
    frame->record.ExceptionCode = 0;
    try_top = frame;
}

WINMEM_API void winmem_try_leave(winmem_try_frame *frame)
{
    /* Frames above this one were left without winmem_try_leave (their body
     * was exited early); they are dead, so drop them too (E2). */
    for (winmem_try_frame *f = try_top; f; f = f->outer)
        if (f == frame) {
            try_top = frame->outer;
            return;
        }
}

/* Calls the filters of the thread's frames, innermost first.  Unwinds to a
 * frame whose filter says EXCEPTION_EXECUTE_HANDLER; returns
 * EXCEPTION_CONTINUE_EXECUTION or EXCEPTION_CONTINUE_SEARCH otherwise. */
static LONG call_frames(EXCEPTION_POINTERS *info)
{
    for (winmem_try_frame *f = try_top; f; f = f->outer) {
        LONG answer = EXCEPTION_EXECUTE_HANDLER;
        if (f->filter) {
            in_dispatch_code = false;
            answer = f->filter(info, f->context);
            in_dispatch_code = true;
        }
        /* As compiled __except filters read it: below 0 continues, 0
         * searches on, above 0 runs the handler. */
        if (answer < 0)
            return EXCEPTION_CONTINUE_EXECUTION;
        if (answer == EXCEPTION_CONTINUE_SEARCH)
            continue;
        f->record = *info->ExceptionRecord;
        f->record.ExceptionRecord = NULL;
        try_top = f->outer;
        in_dispatch_code = false;
        siglongjmp(f->jump, 1);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

/* ------------------------------------------------------------- dispatch */
static void raise_nested(DWORD code, EXCEPTION_RECORD *cause, CONTEXT *ctx)
{
    EXCEPTION_RECORD rec = { .ExceptionCode = code, .ExceptionFlags = EXCEPTION_NONCONTINUABLE,
                             .ExceptionRecord = cause,
                             .ExceptionAddress = cause->ExceptionAddress };
    except_dispatch(&rec, ctx, NULL);
}

/* Nobody took the exception: the program's top-level filter decides, as
 * UnhandledExceptionFilter does, and otherwise the process ends. */
static LONG last_chance(EXCEPTION_POINTERS *info, struct os_fault *fault)
{
    LONG answer = EXCEPTION_CONTINUE_SEARCH;
    LPTOP_LEVEL_EXCEPTION_FILTER top = __atomic_load_n(&except_top_filter, __ATOMIC_ACQUIRE);
    if (top) {
        in_dispatch_code = false;
        answer = top(info);
        in_dispatch_code = true;
    }
    if (answer == EXCEPTION_CONTINUE_EXECUTION)
        return answer;
    if (answer == EXCEPTION_EXECUTE_HANDLER)     /* the filter chose a quiet end */
        os_exit((int)info->ExceptionRecord->ExceptionCode);
    except_report(info->ExceptionRecord, info->ContextRecord);
    if (fault)
        os_fault_die(fault->signo);
    os_abort();
}

static enum outcome dispatch(EXCEPTION_RECORD *rec, CONTEXT *ctx, struct os_fault *fault)
{
    EXCEPTION_POINTERS info = { rec, ctx };
    in_dispatch_code = false;
    LONG answer = except_handlers_call(EXCEPT_VECTORED, &info);
    in_dispatch_code = true;
    /* A vectored handler may continue even a noncontinuable exception, as
     * on Windows: only frame handlers and the top-level filter are checked. */
    bool by_vectored = answer == EXCEPTION_CONTINUE_EXECUTION;
    if (!by_vectored)
        answer = call_frames(&info);
    if (answer != EXCEPTION_CONTINUE_EXECUTION && fault) {
        in_dispatch_code = false;
        bool chained = os_fault_chain(fault);
        in_dispatch_code = true;
        if (chained)
            return RESUME_AS_HOST_LEFT_IT;
    }
    if (answer != EXCEPTION_CONTINUE_EXECUTION)
        answer = last_chance(&info, fault);
    if (!by_vectored && (rec->ExceptionFlags & EXCEPTION_NONCONTINUABLE))
        raise_nested(STATUS_NONCONTINUABLE_EXCEPTION, rec, ctx);   /* X5.4 */
    in_dispatch_code = false;
    except_handlers_call(EXCEPT_CONTINUE, &info);
    in_dispatch_code = true;
    return RESUME_CONTEXT;
}

void except_dispatch(EXCEPTION_RECORD *rec, CONTEXT *ctx, struct os_fault *fault)
{
    bool was = in_dispatch_code;
    in_dispatch_code = true;
    dispatch(rec, ctx, fault);
    in_dispatch_code = was;
}

/* ------------------------------------------------------------ host faults */
static DWORD fault_code(int kind)
{
    switch (kind) {
    case OS_FAULT_BUS:           return STATUS_IN_PAGE_ERROR;
    case OS_FAULT_STACK:         return STATUS_STACK_OVERFLOW;
    case OS_FAULT_ILLEGAL:       return STATUS_ILLEGAL_INSTRUCTION;
    case OS_FAULT_PRIVILEGED:    return STATUS_PRIVILEGED_INSTRUCTION;
    case OS_FAULT_INT_DIVIDE:    return STATUS_INTEGER_DIVIDE_BY_ZERO;
    case OS_FAULT_INT_OVERFLOW:  return STATUS_INTEGER_OVERFLOW;
    case OS_FAULT_FLT_DIVIDE:    return STATUS_FLOAT_DIVIDE_BY_ZERO;
    case OS_FAULT_FLT_OVERFLOW:  return STATUS_FLOAT_OVERFLOW;
    case OS_FAULT_FLT_UNDERFLOW: return STATUS_FLOAT_UNDERFLOW;
    case OS_FAULT_FLT_INEXACT:   return STATUS_FLOAT_INEXACT_RESULT;
    case OS_FAULT_FLT_INVALID:   return STATUS_FLOAT_INVALID_OPERATION;
    case OS_FAULT_FLT_SUBSCRIPT: return STATUS_ARRAY_BOUNDS_EXCEEDED;
    default:                     return STATUS_ACCESS_VIOLATION;
    }
}

/* The record Windows builds for the fault (reference X2, V8); guard is true
 * when the fault took a guard page's guard. */
static void fault_record(const struct os_fault *f, bool guard, EXCEPTION_RECORD *rec)
{
    *rec = (EXCEPTION_RECORD){ .ExceptionCode = fault_code(f->kind),
                               .ExceptionAddress = (PVOID)f->pc };
    switch (f->kind) {
    case OS_FAULT_ACCESS:
        if (guard)
            rec->ExceptionCode = STATUS_GUARD_PAGE_VIOLATION;
        /* fall through */
    case OS_FAULT_STACK:
        rec->NumberParameters = 2;
        rec->ExceptionInformation[0] = (ULONG_PTR)f->access;
        rec->ExceptionInformation[1] = f->addr;
        break;
    case OS_FAULT_BUS:
        /* On Linux the usual cause is a view whose file was cut short. */
        rec->NumberParameters = 3;
        rec->ExceptionInformation[0] = (ULONG_PTR)f->access;
        rec->ExceptionInformation[1] = f->addr;
        rec->ExceptionInformation[2] = 0xC0000011;        /* STATUS_END_OF_FILE */
        break;
    default:
        break;
    }
}

static void internal_fault(const struct os_fault *f, const char *what)
{
    static const char head[] = "winmem: internal error: a fault inside ";
    os_write_err(head, sizeof head - 1);
    os_write_err(what, __builtin_strlen(what));
    os_write_err("\n", 1);
    EXCEPTION_RECORD rec;
    CONTEXT ctx;
    fault_record(f, false, &rec);
    os_context_read(f->host_context, &ctx);
    except_report(&rec, &ctx);
    os_fault_die(f->signo);
}

static bool on_fault(struct os_fault *f)
{
    if (in_dispatch_code)
        internal_fault(f, "winmem's exception dispatch");
    if (vm_lock_is_mine())
        internal_fault(f, "the region registry's lock");
    enum vm_fault_verdict verdict = VM_FAULT_RAISE;
    if (f->kind == OS_FAULT_ACCESS)
        verdict = vm_fault_check(f->addr, f->access);
    if (verdict == VM_FAULT_RETRY)
        return true;
    EXCEPTION_RECORD rec;
    CONTEXT ctx;
    fault_record(f, verdict == VM_FAULT_GUARD, &rec);
    os_context_read(f->host_context, &ctx);
    in_dispatch_code = true;
    enum outcome out = dispatch(&rec, &ctx, f);
    in_dispatch_code = false;
    if (out == RESUME_CONTEXT)
        os_context_write(f->host_context, &ctx);
    return true;
}

__attribute__((constructor)) static void except_init(void)
{
    os_fault_set_handler(on_fault);
}

void except_arm(void)
{
    static bool armed;
    if (__atomic_load_n(&armed, __ATOMIC_ACQUIRE))
        return;
    if (os_fault_arm() == 0)
        __atomic_store_n(&armed, true, __ATOMIC_RELEASE);
}
