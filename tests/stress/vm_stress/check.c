/*
 * check.c — how vm_stress reports: EXPECT counts a check and prints the
 * first MAX_REPORTS failures of a thread with the slot it was working on;
 * CALL_OK accepts the one failure allowed, the host refusing.  Also the
 * reader of the host's map (/proc/self/maps) that the checks compare with.
 */
#include "stress.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------- host map */
/* Calls fn(start, end, line) for each line of the host's map, in address
 * order (read with plain read(): stdio could allocate); false if unreadable. */
bool walk_host_map(void (*fn)(uintptr_t, uintptr_t, const char *, void *), void *ctx)
{
    char buf[1 << 16], line[512];
    size_t len = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (len < sizeof line - 1)
                    line[len++] = buf[i];
                continue;
            }
            line[len] = 0;
            len = 0;
            char *end;
            uintptr_t lo = (uintptr_t)strtoull(line, &end, 16);
            fn(lo, (uintptr_t)strtoull(end + 1, NULL, 16), line, ctx);
        }
    close(fd);
    return true;
}

void count_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx)
{
    (void)lo, (void)hi, (void)line;
    ++*(unsigned long *)ctx;
}

void print_line(uintptr_t lo, uintptr_t hi, const char *line, void *ctx)
{
    const struct range *r = ctx;
    if (lo < r->hi && hi > r->lo)
        printf("    host: %s\n", line);
}

/* --------------------------------------------------------------- checks */
/* file is __FILE__; a report names only its last component ("ops.c:123"). */
bool expect(struct worker *w, bool ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        w->passed++;
        return true;
    }
    w->failed++;
    if (w->reports++ >= MAX_REPORTS)
        return false;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const struct slot *s = w->slots ? &w->slots[w->cur] : NULL;
    const char *name = strrchr(file, '/');
    printf("FAIL %s:%d: thread %d %s op %lu slot %zu (base %#" PRIxPTR ", %u pages): "
           "%s\n", name ? name + 1 : file, line, w->index, w->phase, w->op_no, w->cur,
           s ? s->base : 0, s ? s->pages : 0, msg);
    return false;
}

/* A call the model says must succeed: true if it did.  If the host refused
 * (the one failure allowed) the refusal is counted; any other error is
 * reported.  The caller then checks that the slot did not change. */
bool succeeded(struct worker *w, bool ok, DWORD refusal, const char *file, int line,
               const char *call)
{
    if (ok) {
        w->passed++;
        return true;
    }
    DWORD err = GetLastError();
    if (err == ERROR_NOT_ENOUGH_MEMORY || err == refusal) {
        w->passed++;
        if (err == ERROR_NOT_ENOUGH_MEMORY)
            w->refused++;
        else
            w->lock_refused++;
        return false;
    }
    expect(w, false, file, line, "%s failed with error %u", call, (unsigned)err);
    return false;
}
