/*
 * except.h — the exception layer: Windows' dispatch of hardware faults and
 * raised exceptions to vectored handlers, try frames and the unhandled
 * filter.  It sits above vm (it asks vm whether a fault hit a guard page)
 * and takes its faults from os.
 *
 * Objects
 *   struct except_handler   one vectored exception or continue handler.
 *   winmem_try_frame        one active WINMEM_TRY (winmem.h), on the stack
 *                           of the thread that entered it.
 *
 * Dispatch (RtlDispatchException's order, reference X3):
 *   1. vectored exception handlers, head to tail;
 *   2. the thread's try frames, innermost first (a filter that answers
 *      EXCEPTION_EXECUTE_HANDLER unwinds to its frame by longjmp);
 *   3. for a hardware fault, the signal handler the program had installed
 *      before winmem (it owns faults Win32 code does not know about);
 *   4. the unhandled filter (UnhandledExceptionFilter): the program's
 *      top-level filter, then a crash report and the end of the process.
 *   Whoever answers EXCEPTION_CONTINUE_EXECUTION ends the walk; the vectored
 *   continue handlers then run, head to tail, and the thread resumes with
 *   the CONTEXT as the handlers left it.
 *
 * Invariants
 *   E1. Each handler list is a doubly linked list under list_mutex; a handle
 *       is valid exactly while its entry is on a list (Remove checks, so a
 *       stale or foreign handle is refused without being dereferenced).
 *   E2. A thread's try frames are chained innermost first.  A frame whose
 *       body was left early (return, break: documented misuse) stays on the
 *       chain until the frame around it is left, which drops it too.
 *   E3. Dispatch never holds list_mutex while a handler runs, so handlers
 *       may add and remove handlers, raise, and call every winmem API.
 */
#ifndef WINMEM_EXCEPT_H
#define WINMEM_EXCEPT_H

#include "../base/base.h"

struct os_fault;

enum except_list { EXCEPT_VECTORED, EXCEPT_CONTINUE };

/* Registration (except_handlers.c). */
void *except_handler_add(enum except_list list, bool first, PVECTORED_EXCEPTION_HANDLER fn);
bool except_handler_remove(enum except_list list, void *handle);
/* Calls the list's handlers head to tail until one answers
 * EXCEPTION_CONTINUE_EXECUTION; returns that answer or CONTINUE_SEARCH. */
LONG except_handlers_call(enum except_list list, EXCEPTION_POINTERS *info);
size_t except_handler_count(enum except_list list);

/* Dispatch (except_dispatch.c).  Returns when execution continues (with
 * *ctx); unwinds to a try frame by longjmp; never returns when unhandled. */
void except_dispatch(EXCEPTION_RECORD *rec, CONTEXT *ctx, struct os_fault *fault);
/* Installs the host fault handlers (once, and again after a program took
 * the signals); from every API entry point that creates a way to fault. */
void except_arm(void);

/* The program's top-level filter, and the last-chance handling. */
extern LPTOP_LEVEL_EXCEPTION_FILTER except_top_filter;
void except_report(const EXCEPTION_RECORD *rec, const CONTEXT *ctx);

#endif
