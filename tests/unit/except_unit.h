/*
 * except_unit.h — what the exception layer's unit tests share.
 *
 * Fenced accesses: handlers run in the middle of the accesses that fault,
 * which the compiler cannot know, so what tests share with handlers is
 * volatile and each such access is fenced so no other memory access moves
 * across it (as in tests/conformance/except_faults.c).
 *
 * Children: part of a test runs in a forked child when it must not happen
 * to the test's own process: signal handlers installed or replaced,
 * crashes on purpose.  The child's stdout and stderr come back through one
 * pipe, so the parent can read a crash report; CHECKs in the child print
 * their failures there and make it exit with status 1.  A child still
 * running after CHILD_SECONDS is stuck (a fault retried forever) and dies
 * of SIGALRM, which no check accepts.
 */
#ifndef WINMEM_UNIT_EXCEPT_H
#define WINMEM_UNIT_EXCEPT_H

#include "unit.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FENCE() __asm__ volatile("" ::: "memory")

static inline char read_at(const char *p)
{
    FENCE();
    char v = *(const volatile char *)p;
    FENCE();
    return v;
}

static inline void write_at(char *p, char v)
{
    FENCE();
    *(volatile char *)p = v;
    FENCE();
}

#define CHILD_SECONDS 10
#define CHILD_OUTPUT_MAX 16384

struct child {
    int status;                       /* waitpid's; -1 when fork failed */
    size_t len;
    char out[CHILD_OUTPUT_MAX];       /* stdout and stderr, NUL-terminated */
};

static inline void child_run(struct child *c, void (*body)(void))
{
    int fds[2];
    c->status = -1;
    c->len = 0;
    c->out[0] = 0;
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        alarm(CHILD_SECONDS);
        unit_passed = unit_failed = 0;
        body();
        fflush(stdout);
        _exit(unit_failed ? 1 : 0);
    }
    close(fds[1]);
    ssize_t n;
    while (pid > 0 && (n = read(fds[0], c->out + c->len, sizeof c->out - 1 - c->len)) > 0)
        c->len += (size_t)n;
    c->out[c->len] = 0;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &c->status, 0);
}

static inline bool child_exited(const struct child *c, int code)
{
    return c->status != -1 && WIFEXITED(c->status) && WEXITSTATUS(c->status) == code;
}

static inline bool child_killed(const struct child *c, int signo)
{
    return c->status != -1 && WIFSIGNALED(c->status) && WTERMSIG(c->status) == signo;
}

static inline bool child_says(const struct child *c, const char *text)
{
    return strstr(c->out, text) != NULL;
}

/* After the checks on one child: shows what it printed if any of them
 * failed (failed_before is unit_failed before those checks). */
static inline void child_explain(const struct child *c, const char *name, int failed_before)
{
    if (unit_failed == failed_before)
        return;
    printf("-- child \"%s\": status 0x%x, output:\n%s-- end of child \"%s\"\n",
           name, (unsigned)c->status, c->out, name);
}

/* Gives SIGSEGV and SIGBUS back their default action.  Outside sanitizers
 * that is what they have already; under AddressSanitizer it removes ASan's
 * own handler, which winmem would otherwise keep as "the program's handler"
 * (except.h step 3) and chain to before its top-level filter and report. */
static inline void child_default_fault_signals(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGSEGV, &dfl, NULL);
    sigaction(SIGBUS, &dfl, NULL);
}

/* Writes a marker line from a handler (no stdio in signal context). */
static inline void child_mark(const char *text)
{
    ssize_t r = write(STDERR_FILENO, text, strlen(text));
    (void)r;
}

#endif
