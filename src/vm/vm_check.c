/*
 * vm_check.c — invariant R7: the registry and the host's map agree.
 *
 * Every page of every run must be mapped at the host, with exactly the host
 * protection its run implies (reserved pages: none).  The two sequences are
 * both in address order, so one pass over /proc/self/maps checks them all.
 */
#include "vm.h"
#include "../os/os.h"

struct host_check {
    struct vm_run *run;      /* the run being matched */
    uintptr_t at;            /* how far into it the host's mappings reach */
    const char *why;
};

static int expected_prot(const struct vm_run *r)
{
    return r->state == VM_COMMITTED ? vm_host_prot(r->protect) : OS_PROT_NONE;
}

static bool check_mapping(const struct os_mapping *m, void *ctx)
{
    struct host_check *c = ctx;
    while (c->run && m->end > c->at) {
        struct vm_run *r = c->run;
        if (m->start > c->at)
            return c->why = "a registered page is not mapped at the host", false;
        int want = expected_prot(r);
        bool watched = vm_watch_relaxed(r->alloc);   /* unwritten pages lack write */
        if (m->prot != want && !(watched && m->prot == (want & ~OS_PROT_WRITE)))
            return c->why = "a page's host protection differs from its run", false;
        if (m->end < r->end) {
            c->at = m->end;
            return true;
        }
        c->run = vm_run_next(r);
        c->at = c->run ? c->run->start : 0;
    }
    return true;
}

bool vm_validate_host(const char **why)
{
    vm_lock();
    struct vm_run *first = vm_run_after(0);
    struct vm_run *at0 = vm_run_at(0);
    struct host_check c = { at0 ? at0 : first, 0, NULL };
    if (c.run)
        c.at = c.run->start;
    bool read = os_mappings_walk(check_mapping, &c);
    if (read && !c.why && c.run)
        c.why = "a registered page is not mapped at the host";
    if (!read)
        c.why = "the host's map could not be read";
    vm_unlock();
    *why = c.why;
    return c.why == NULL;
}
