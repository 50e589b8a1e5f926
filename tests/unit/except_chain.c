/*
 * except_chain.c — winmem's fault handler living with a SIGSEGV handler the
 * program installs itself (os_fault.c, except.h step 3).  Each case runs in
 * a forked child, so this process never arms winmem and its signal state
 * stays clean; the parent checks how the child ended and what it printed.
 *
 * The program's handler owns a region it mapped PROT_NONE itself and fixes
 * faults there with mprotect; winmem's vectored handler commits pages of a
 * reservation on demand.  Each must get exactly its own faults:
 *   - program handler installed before winmem arms (winmem chains to it);
 *   - winmem first, then the program's handler replaces winmem's, then
 *     AddVectoredExceptionHandler takes the signal back and keeps the
 *     program's handler behind it;
 *   - a program handler that passes foreign faults on to the handler it
 *     replaced (winmem's): the winmem region still works, and a fault in
 *     neither region ends the process through winmem's last-chance path
 *     (the top-level filter, else the report and SIGSEGV) without looping,
 *     whether or not winmem took the signal back since.
 */
#define _GNU_SOURCE
#include "except/except.h"
#include "os/os.h"
#include "vm/vm.h"
#include "unit.h"
#include "except_unit.h"

#include <stdio.h>
#include <sys/mman.h>        /* the program's own memory, unknown to winmem */

#define PAGES 8
static char *volatile neither = (char *)0x18;     /* in no one's region */

static size_t PG;
static char *prog, *win;                  /* the program's region, winmem's */

/* ------------------------------------------------- the program's handler */
static volatile int prog_calls, prog_foreign;
static volatile bool prog_chains;         /* pass foreign faults to `replaced` */
static volatile bool prog_logs;           /* log each fault into winmem's last page */
static struct sigaction replaced;         /* what the program's handler replaced */

static void program_handler(int signo, siginfo_t *si, void *uc)
{
    char *at = si->si_addr;
    if (at >= prog && at < prog + PAGES * PG) {
        int n = prog_calls++;
        if (prog_logs)                    /* may fault: winmem commits it */
            write_at(win + (PAGES - 1) * PG + 100 + n, (char)(n + 1));
        mprotect((void *)((uintptr_t)at & ~(uintptr_t)(PG - 1)), PG, PROT_READ | PROT_WRITE);
        return;
    }
    prog_foreign++;
    if (prog_chains && (replaced.sa_flags & SA_SIGINFO)) {
        replaced.sa_sigaction(signo, si, uc);
        return;
    }
    child_mark("program handler: a fault outside its region\n");
    _exit(97);                            /* returning would fault forever */
}

static void install_program_handler(bool chains, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = program_handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    prog_chains = chains;
    CHECK_EQ(sigaction(SIGSEGV, &sa, &replaced), 0);
}

static bool program_handler_installed(void)
{
    struct sigaction cur;
    sigaction(SIGSEGV, NULL, &cur);
    return (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == program_handler;
}

/* ------------------------------------------------ winmem's handlers */
static volatile int veh_calls, veh_commits, veh_saw_prog;
static LONG CALLBACK commit_handler(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *r = info->ExceptionRecord;
    char *at = (char *)r->ExceptionInformation[1];
    veh_calls++;
    if (at >= prog && at < prog + PAGES * PG)
        veh_saw_prog++;
    if (r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || at < win || at >= win + PAGES * PG ||
        !VirtualAlloc(at, 1, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_SEARCH;
    veh_commits++;
    return EXCEPTION_CONTINUE_EXECUTION;
}
static LONG CALLBACK declining_handler(EXCEPTION_POINTERS *info) { return EXCEPTION_CONTINUE_SEARCH; }

static LONG WINAPI quiet_filter(EXCEPTION_POINTERS *info)
{
    child_mark("top-level filter ran\n");
    return EXCEPTION_EXECUTE_HANDLER;     /* exit with the code's low byte */
}

/* Both regions, created before anything arms winmem. */
static void setup(void)
{
    child_default_fault_signals();
    prog = mmap(NULL, PAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    win = VirtualAlloc(NULL, PAGES * PG, MEM_RESERVE, PAGE_READWRITE);
    CHECK(prog != MAP_FAILED && win != NULL);
}

/* Touches pages [from, to) of both regions, alternating, and checks them. */
static void touch_both(int from, int to)
{
    for (int i = from; i < to; i++) {
        write_at(prog + (size_t)i * PG + i, (char)(0x40 + i));
        write_at(win + (size_t)i * PG + i, (char)(0x60 + i));
    }
    for (int i = from; i < to; i++) {
        CHECK_EQ(prog[(size_t)i * PG + i], 0x40 + i);
        CHECK_EQ(win[(size_t)i * PG + i], 0x60 + i);
    }
}

/* ------------------------------------------------------------------ cases */
static void program_first(void)
{
    setup();
    install_program_handler(false, 0);
    CHECK(AddVectoredExceptionHandler(1, commit_handler) != NULL);
    CHECK(!program_handler_installed());          /* winmem in front of it */
    touch_both(0, PAGES);
    CHECK_EQ(prog_calls, PAGES);
    CHECK_EQ(prog_foreign, 0);
    CHECK_EQ(veh_commits, PAGES);
    CHECK_EQ(veh_saw_prog, PAGES);                /* vectored handlers ask first */
    CHECK_EQ(veh_calls, 2 * PAGES);
}

/* The program's handler (one that passes on what is not its own) logs each
 * of its faults into winmem's commit-on-demand memory, so it faults itself
 * (SA_NODEFER allows that): an ordinary fault for winmem to dispatch.  When
 * winmem called the handler (it was there first), that fault must not be
 * taken for the handler passing its own fault back; when the kernel called
 * it (installed after winmem), it is the control. */
static void handler_faults(bool program_first)
{
    setup();
    prog_logs = true;
    if (program_first)
        install_program_handler(true, SA_NODEFER);
    CHECK(AddVectoredExceptionHandler(1, commit_handler) != NULL);
    if (!program_first)
        install_program_handler(true, SA_NODEFER);
    printf("touching the program's region\n");
    fflush(stdout);
    for (int i = 0; i < 4; i++)
        write_at(prog + (size_t)i * PG, (char)i);
    CHECK_EQ(prog_calls, 4);
    CHECK_EQ(veh_commits, 1);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(win[(PAGES - 1) * PG + 100 + i], i + 1);
}
static void handler_faults_program_first(void) { handler_faults(true); }
static void handler_faults_winmem_first(void) { handler_faults(false); }

static void winmem_first(void)
{
    setup();
    CHECK(AddVectoredExceptionHandler(1, commit_handler) != NULL);
    write_at(win, 1);
    install_program_handler(false, 0);
    CHECK((replaced.sa_flags & SA_SIGINFO) && replaced.sa_sigaction != program_handler);
    for (int i = 0; i < 3; i++)                   /* straight to the program's */
        write_at(prog + (size_t)i * PG + i, (char)(0x40 + i));
    CHECK_EQ(prog_calls, 3);
    CHECK_EQ(veh_calls, 1);
    CHECK(AddVectoredExceptionHandler(0, declining_handler) != NULL);   /* takes it back */
    CHECK(!program_handler_installed());
    touch_both(3, PAGES);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(prog[(size_t)i * PG + i], 0x40 + i);
    CHECK_EQ(prog_calls, PAGES);
    CHECK_EQ(prog_foreign, 0);
    CHECK_EQ(veh_commits, PAGES - 2);             /* win pages 0 and 3-7 */
    CHECK_EQ(veh_saw_prog, PAGES - 3);
}

/* The program's handler passes on what is not its own.  rearm: winmem takes
 * the signal back afterwards (AddVectoredExceptionHandler, or the
 * SetUnhandledExceptionFilter call of `filter`); filter: the program's
 * top-level filter, which must decide the end of a fault in neither region. */
static void chaining(bool rearm, bool filter)
{
    setup();
    CHECK(AddVectoredExceptionHandler(1, commit_handler) != NULL);
    if (filter && !rearm)
        SetUnhandledExceptionFilter(quiet_filter);
    install_program_handler(true, 0);
    if (filter && rearm)
        SetUnhandledExceptionFilter(quiet_filter);
    else if (rearm)
        CHECK(AddVectoredExceptionHandler(0, declining_handler) != NULL);
    CHECK_EQ(program_handler_installed(), !rearm);
    touch_both(0, PAGES);
    CHECK_EQ(prog_calls, PAGES);
    CHECK_EQ(prog_foreign, rearm ? 0 : PAGES);    /* winmem's, passed back */
    CHECK_EQ(veh_commits, PAGES);
    printf("before the stray write\n");
    fflush(stdout);
    write_at(neither, 1);
    printf("the stray write returned\n");
}
static void chain_plain(void) { chaining(false, false); }
static void chain_rearmed(void) { chaining(true, false); }
static void chain_filter(void) { chaining(false, true); }
static void chain_rearmed_filter(void) { chaining(true, true); }

/* ------------------------------------------------------------------ main */
/* The symptom of a fault that came back from the program's handler and was
 * taken for the end of the chain (os_fault.c, on_fault with chain_depth
 * set): the host's default action, without winmem's last chance. */
static void silent_death_note(const struct child *c)
{
    if (child_killed(c, SIGSEGV) && !child_says(c, "unhandled exception") &&
        !child_says(c, "top-level filter ran"))
        printf("   (died of SIGSEGV with neither winmem's top-level filter nor its report: a fault\n"
               "    while winmem called the program's handler ended in the host's default action)\n");
}

static void expect_ok(void (*body)(void), const char *name)
{
    struct child c;
    int failed = unit_failed;
    child_run(&c, body);
    CHECK(child_exited(&c, 0));
    child_explain(&c, name, failed);
    silent_death_note(&c);
}

/* A fault in neither region after the regions worked: with no filter, the
 * report and death by SIGSEGV; with the quiet filter, exit status 5. */
static void expect_end(void (*body)(void), const char *name, bool filter)
{
    struct child c;
    char where[64];
    int failed = unit_failed;
    child_run(&c, body);
    snprintf(where, sizeof where, "writing to 0x%016lx", (unsigned long)(uintptr_t)neither);
    CHECK(child_says(&c, "before the stray write"));
    CHECK(!child_says(&c, "FAIL"));
    CHECK(!child_says(&c, "the stray write returned"));
    CHECK(!child_killed(&c, SIGALRM));            /* no endless chain */
    if (filter) {
        CHECK(child_exited(&c, 5));
        CHECK(child_says(&c, "top-level filter ran"));
        CHECK(!child_says(&c, "unhandled exception"));
    } else {
        CHECK(child_killed(&c, SIGSEGV));
        CHECK(child_says(&c, "winmem: unhandled exception 0xc0000005"));
        CHECK(child_says(&c, where));
    }
    child_explain(&c, name, failed);
    silent_death_note(&c);
}

int main(void)
{
    PG = os_page_size();
    expect_ok(program_first, "program's handler first");
    expect_ok(winmem_first, "winmem first, program's handler, winmem again");
    expect_ok(handler_faults_winmem_first, "winmem first, program's handler faults on winmem's memory");
    expect_ok(handler_faults_program_first, "program's handler first, faults on winmem's memory");
    expect_end(chain_plain, "program's handler chains to winmem's", false);
    expect_end(chain_filter, "filter, then a chaining handler", true);
    expect_end(chain_rearmed, "chaining handler, winmem armed again", false);
    expect_end(chain_rearmed_filter, "chaining handler, then the filter", true);
    return unit_finish();
}
