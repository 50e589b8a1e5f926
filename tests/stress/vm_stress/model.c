/*
 * model.c — the model's rules (which pages read, which merge into one
 * VirtualQuery region, what a stamp holds), the random choices of
 * protections and page ranges, and the contents check: every readable page
 * is read, and stamped when first read-write, under a SIGSEGV/SIGBUS
 * catcher, so a page the host protects differently is a reported failure.
 */
#include "stress.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

/* ---------------------------------------------------------------- model */

static bool readable(DWORD prot)
{
    DWORD base = prot & 0xFF;
    return !(prot & PAGE_GUARD) &&
           (base == PAGE_READONLY || base == PAGE_READWRITE || base == PAGE_EXECUTE_READ);
}

static bool writable(DWORD prot) { return prot == PAGE_READWRITE; }

static bool same_region(const struct page_model *a, const struct page_model *b)
{
    return a->committed == b->committed && (!a->committed || a->prot == b->prot);
}

/* The end of the VirtualQuery region holding page i: equal neighbours merge. */
unsigned region_end(const struct slot *s, unsigned i)
{
    unsigned j = i + 1;
    while (j < s->pages && same_region(&s->pg[i], &s->pg[j]))
        j++;
    return j;
}

static uint64_t stamp(const struct worker *w, size_t k, const struct slot *s, unsigned i, int end)
{
    uint64_t id = ((uint64_t)w->index << 60) ^ ((uint64_t)k << 44) ^
                  ((uint64_t)s->pg[i].epoch << 12) ^ ((uint64_t)i << 1) ^ (uint64_t)end;
    return mix(id ^ seed) | 1;
}

DWORD pick_protect(struct worker *w)
{
    unsigned r = rnd(w, 20);
    return r < 9 ? PAGE_READWRITE : r < 13 ? PAGE_READONLY : r < 16 ? PAGE_EXECUTE_READ
         : r < 19 ? PAGE_NOACCESS : PAGE_READWRITE | PAGE_GUARD;
}

/* A page range of n pages: the whole slot, a few pages, or any run. */
void pick_range(struct worker *w, unsigned n, unsigned *p0, unsigned *p1)
{
    unsigned r = rnd(w, 8);
    if (r == 0) {
        *p0 = 0;
        *p1 = n;
        return;
    }
    *p0 = rnd(w, n);
    unsigned room = n - *p0;
    *p1 = *p0 + 1 + rnd(w, r < 5 && room > 4 ? 4 : room);
}

/* An address and size that the API rounds out to exactly pages [p0, p1). */
void fuzz_range(struct worker *w, const struct slot *s, unsigned p0, unsigned p1,
                uintptr_t *addr, size_t *size)
{
    uintptr_t lo = page_addr(s, p0), hi = page_addr(s, p1);
    size_t in = 0, cut = 0;
    if (rnd(w, 2)) {
        in = rnd(w, (unsigned)page);
        cut = rnd(w, (unsigned)page);
        if (p1 - p0 == 1 && in + cut >= page)
            cut = page - 1 - in;
    }
    *addr = lo + in;
    *size = hi - cut - *addr;
}

/* The span around a random page where every page satisfies pred, narrowed to
 * a random sub-range holding that page; false when no page does. */
bool pick_span(struct worker *w, const struct slot *s,
               bool (*pred)(const struct page_model *), unsigned *p0, unsigned *p1)
{
    unsigned n = s->pages, first = rnd(w, n);
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (first + k) % n, a = i, b = i + 1;
        if (!pred(&s->pg[i]))
            continue;
        while (a > 0 && pred(&s->pg[a - 1]))
            a--;
        while (b < n && pred(&s->pg[b]))
            b++;
        *p0 = a + rnd(w, i - a + 1);
        *p1 = i + 1 + rnd(w, b - i);
        return true;
    }
    return false;
}

bool is_committed(const struct page_model *p) { return p->committed; }
bool is_reserved(const struct page_model *p) { return !p->committed; }
bool is_locked(const struct page_model *p) { return p->locked; }
bool is_lockable(const struct page_model *p) { return p->committed && readable(p->prot); }

/* ------------------------------------------------------------- contents */
/* Reads (and stamps) pages under a SIGSEGV/SIGBUS catcher, so a page the
 * host protects differently from the registry is a reported failure, not a
 * crash.  SA_NODEFER lets the handler jump out without saving signal masks. */
static _Thread_local sigjmp_buf *fault_jump;
static _Thread_local uintptr_t fault_addr;

static void on_fault(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    sigjmp_buf *jump = fault_jump;
    if (jump) {
        fault_jump = NULL;
        fault_addr = (uintptr_t)info->si_addr;
        siglongjmp(*jump, 1);
    }
    signal(sig, SIG_DFL);            /* not a probe of ours: die as we would have */
}

void install_fault_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

struct touch {
    struct worker *w;
    size_t k;
    struct slot *s;
    unsigned p0, p1;
};

/* Every readable page of [p0, p1) must hold what the model says: zero since
 * its commit, or its stamp.  A read-write page still zero gets its stamp. */
static void touch_pages(struct touch *t)
{
    struct worker *w = t->w;
    for (unsigned i = t->p0; i < t->p1; i++) {
        struct page_model *p = &t->s->pg[i];
        if (!p->committed || !readable(p->prot))
            continue;
        volatile uint64_t *lo = (volatile uint64_t *)page_addr(t->s, i);
        volatile uint64_t *hi = (volatile uint64_t *)(page_addr(t->s, i) + page - 8);
        uint64_t want_lo = p->content == C_STAMP ? stamp(w, t->k, t->s, i, 0) : 0;
        uint64_t want_hi = p->content == C_STAMP ? stamp(w, t->k, t->s, i, 1) : 0;
        uint64_t got_lo = *lo, got_hi = *hi;
        EXPECT(w, got_lo == want_lo && got_hi == want_hi,
               "page %u (protect %#x, %s): reads %#" PRIx64 "/%#" PRIx64 ", want %#" PRIx64
               "/%#" PRIx64, i, (unsigned)p->prot, p->content == C_STAMP ? "stamped" : "zero",
               got_lo, got_hi, want_lo, want_hi);
        if (p->content == C_ZERO && writable(p->prot)) {
            p->epoch = ++w->epoch;
            p->content = C_STAMP;
            *lo = stamp(w, t->k, t->s, i, 0);
            *hi = stamp(w, t->k, t->s, i, 1);
        }
    }
}

void touch(struct worker *w, size_t k, struct slot *s, unsigned p0, unsigned p1)
{
    struct touch t = { w, k, s, p0, p1 };
    sigjmp_buf jump;
    if (sigsetjmp(jump, 0)) {
        unsigned i = (unsigned)((fault_addr - s->base) / page);
        EXPECT(w, false, "fault at %#" PRIxPTR " (page %u, model: %s, protect %#x)",
               fault_addr, i, i < s->pages && s->pg[i].committed ? "committed" : "reserved",
               i < s->pages ? (unsigned)s->pg[i].prot : 0u);
        return;
    }
    fault_jump = &jump;
    touch_pages(&t);
    fault_jump = NULL;
}
