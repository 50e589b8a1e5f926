/*
 * except_api.c — the Win32 entry points of the exception layer.
 *
 * Registering a handler or a filter also installs winmem's host fault
 * handlers, or takes the signals back if the program installed its own
 * since (the program's handler is then called for faults nobody here
 * handles, except.h step 3).
 */
#include "except.h"
#include "../os/os.h"

static void arm_again(void)
{
    except_arm();
    os_fault_arm();
}

WINMEM_API PVOID winmem_AddVectoredExceptionHandler(ULONG first, PVECTORED_EXCEPTION_HANDLER handler)
{
    arm_again();
    return except_handler_add(EXCEPT_VECTORED, first != 0, handler);
}

WINMEM_API ULONG winmem_RemoveVectoredExceptionHandler(PVOID handle)
{
    return except_handler_remove(EXCEPT_VECTORED, handle);
}

WINMEM_API PVOID winmem_AddVectoredContinueHandler(ULONG first, PVECTORED_EXCEPTION_HANDLER handler)
{
    arm_again();
    return except_handler_add(EXCEPT_CONTINUE, first != 0, handler);
}

WINMEM_API ULONG winmem_RemoveVectoredContinueHandler(PVOID handle)
{
    return except_handler_remove(EXCEPT_CONTINUE, handle);
}

WINMEM_API LPTOP_LEVEL_EXCEPTION_FILTER winmem_SetUnhandledExceptionFilter(LPTOP_LEVEL_EXCEPTION_FILTER filter)
{
    arm_again();
    return __atomic_exchange_n(&except_top_filter, filter, __ATOMIC_ACQ_REL);
}

/* What the last-chance handler does (except_dispatch.c), for a program that
 * calls it from its own filter: the top-level filter's answer when it has
 * one, otherwise the crash report and EXCEPTION_EXECUTE_HANDLER, which tells
 * the caller to end the process. */
WINMEM_API LONG winmem_UnhandledExceptionFilter(EXCEPTION_POINTERS *info)
{
    if (!info || !info->ExceptionRecord)
        return EXCEPTION_CONTINUE_SEARCH;
    LPTOP_LEVEL_EXCEPTION_FILTER top = __atomic_load_n(&except_top_filter, __ATOMIC_ACQUIRE);
    if (top) {
        LONG answer = top(info);
        if (answer != EXCEPTION_CONTINUE_SEARCH)
            return answer;
    }
    except_report(info->ExceptionRecord, info->ContextRecord);
    return EXCEPTION_EXECUTE_HANDLER;
}

/* Reference X5.  The record's address is inside RaiseException, as on
 * Windows; a handler that continues makes RaiseException return (changes
 * it made to the CONTEXT's registers are not applied to a raised
 * exception: only hardware faults resume with the handler's CONTEXT). */
WINMEM_API void winmem_RaiseException(DWORD code, DWORD flags, DWORD count, const ULONG_PTR *arguments)
{
    EXCEPTION_RECORD rec = { .ExceptionCode = code,
                             .ExceptionFlags = flags & EXCEPTION_NONCONTINUABLE };
    CONTEXT ctx;
    os_context_capture(&ctx);
#if defined(__x86_64__)
    rec.ExceptionAddress = (PVOID)(uintptr_t)ctx.Rip;
#else
    rec.ExceptionAddress = (PVOID)(uintptr_t)ctx.Pc;
#endif
    if (arguments) {
        rec.NumberParameters = count < EXCEPTION_MAXIMUM_PARAMETERS ? count : EXCEPTION_MAXIMUM_PARAMETERS;
        for (DWORD i = 0; i < rec.NumberParameters; i++)
            rec.ExceptionInformation[i] = arguments[i];
    }
    except_dispatch(&rec, &ctx, NULL);
}
