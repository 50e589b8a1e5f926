/*
 * ops.c — the operations of the random mix, one call each on a slot of the
 * thread's own, chosen by one_op: release and reserve again, commit,
 * protect, decommit, query, walk, lock/unlock, and calls that must fail.
 * Each checks the answer and updates the model only when the call
 * succeeded, then checks the slot against it; after a refused call the
 * slot is walked, and must be exactly as it was.
 */
#include "stress.h"

/* ----------------------------------------------------------- operations */
void reserve_slot(struct worker *w, size_t k, struct slot *s)
{
    unsigned n = 1 + rnd(w, MAX_PAGES);
    size_t size = n * page - (rnd(w, 4) ? 0 : rnd(w, (unsigned)page));
    unsigned r = rnd(w, 16);
    DWORD type = r < 3 ? MEM_RESERVE | MEM_COMMIT : r < 4 ? MEM_COMMIT : MEM_RESERVE;
    if (rnd(w, 4) == 0)
        type |= MEM_TOP_DOWN;
    DWORD prot = pick_protect(w);
    w->ops[OP_RESERVE]++;
    void *p = VirtualAlloc(NULL, size, type, prot);
    if (!CALL_OK(w, p != NULL, "VirtualAlloc(NULL, MEM_RESERVE)"))
        return;
    EXPECT(w, ((uintptr_t)p & (VM_GRANULARITY - 1)) == 0 && (uintptr_t)p >= VM_MIN_ADDRESS &&
              (uintptr_t)p + n * page - 1 <= VM_MAX_ADDRESS,
           "VirtualAlloc(NULL, %#zx, %#x, %#x) returned %p", size, (unsigned)type,
           (unsigned)prot, p);
    bool commit = type & MEM_COMMIT;
    *s = (struct slot){ .base = (uintptr_t)p, .pages = n, .alloc_protect = prot };
    for (unsigned i = 0; i < n; i++)
        s->pg[i] = (struct page_model){ .committed = commit, .prot = commit ? prot : 0,
                                        .content = commit ? C_ZERO : C_NONE };
    touch(w, k, s, 0, n);
}

static void negative_release(struct worker *w, struct slot *s)
{
    BOOL ok;
    if (s->pages > 1 && rnd(w, 2)) {        /* not the base (V10.1) */
        ok = VirtualFree((LPVOID)page_addr(s, 1 + rnd(w, s->pages - 1)), 0, MEM_RELEASE);
        EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualFree(inside, 0, MEM_RELEASE)");
    } else {                                 /* a size (V10.1) */
        ok = VirtualFree((LPVOID)s->base, page, MEM_RELEASE);
        EXPECT_ERROR(w, ok, ERROR_INVALID_PARAMETER, "VirtualFree(base, page, MEM_RELEASE)");
    }
}

void release_slot(struct worker *w, struct slot *s)
{
    w->ops[OP_RELEASE]++;
    if (!CALL_OK(w, VirtualFree((LPVOID)s->base, 0, MEM_RELEASE), "VirtualFree(MEM_RELEASE)"))
        return;
    for (unsigned i = 0; i < s->pages; i++)
        w->locked_pages -= s->pg[i].locked;
    s->base = 0;
}

static void op_release(struct worker *w, size_t k, struct slot *s)
{
    if (s->base) {
        release_slot(w, s);
        if (s->base) {                       /* refused: nothing may have changed */
            walk_slot(w, k, s);
            return;
        }
    }
    reserve_slot(w, k, s);
}

static void op_commit(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0, p1;
    uintptr_t addr;
    size_t size;
    pick_range(w, s->pages, &p0, &p1);
    fuzz_range(w, s, p0, p1, &addr, &size);
    DWORD prot = pick_protect(w);
    w->ops[OP_COMMIT]++;
    void *r = VirtualAlloc((LPVOID)addr, size, MEM_COMMIT, prot);
    if (!CALL_OK(w, r != NULL, "VirtualAlloc(MEM_COMMIT)")) {
        walk_slot(w, k, s);
        return;
    }
    EXPECT(w, (uintptr_t)r == page_addr(s, p0), "VirtualAlloc(%#" PRIxPTR ", %#zx, MEM_COMMIT) "
           "returned %p, want %#" PRIxPTR, addr, size, r, page_addr(s, p0));
    for (unsigned i = p0; i < p1; i++) {
        struct page_model *p = &s->pg[i];
        if (!p->committed)
            *p = (struct page_model){ .committed = 1, .content = C_ZERO };
        p->prot = prot;                      /* contents kept if committed (V5) */
    }
    touch(w, k, s, p0, p1);
}

static void op_protect(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0, p1;
    uintptr_t addr;
    size_t size;
    DWORD prot = pick_protect(w), old = 0xDEAD;
    if (!pick_span(w, s, is_committed, &p0, &p1)) {
        if (pick_span(w, s, is_reserved, &p0, &p1)) {
            w->ops[OP_NEGATIVE]++;           /* a reserved page (V7.1) */
            fuzz_range(w, s, p0, p1, &addr, &size);
            BOOL ok = VirtualProtect((LPVOID)addr, size, prot, &old);
            EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualProtect(reserved)");
        }
        return;
    }
    fuzz_range(w, s, p0, p1, &addr, &size);
    w->ops[OP_PROTECT]++;
    BOOL ok = VirtualProtect((LPVOID)addr, size, prot, &old);
    if (!CALL_OK(w, ok, "VirtualProtect")) {
        walk_slot(w, k, s);
        return;
    }
    EXPECT(w, old == s->pg[p0].prot, "VirtualProtect(pages %u-%u, %#x): old protection %#x, "
           "want the first page's %#x (V7.4)", p0, p1 - 1, (unsigned)prot, (unsigned)old,
           (unsigned)s->pg[p0].prot);
    for (unsigned i = p0; i < p1; i++)
        s->pg[i].prot = prot;
    touch(w, k, s, p0, p1);
}

static void op_decommit(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0 = 0, p1 = s->pages;
    uintptr_t addr = s->base;
    size_t size = 0;                          /* size 0 at the base: everything */
    if (rnd(w, 8)) {
        pick_range(w, s->pages, &p0, &p1);
        fuzz_range(w, s, p0, p1, &addr, &size);
    }
    w->ops[OP_DECOMMIT]++;
    if (!CALL_OK(w, VirtualFree((LPVOID)addr, size, MEM_DECOMMIT), "VirtualFree(MEM_DECOMMIT)")) {
        walk_slot(w, k, s);
        return;
    }
    for (unsigned i = p0; i < p1; i++) {
        w->locked_pages -= s->pg[i].locked;  /* decommit drops locks (V11.4) */
        s->pg[i] = (struct page_model){ 0 };
    }
    if (rnd(w, 4) == 0)
        check_query(w, s, p0, page_addr(s, p0));
}

static void op_query(struct worker *w, size_t k, struct slot *s)
{
    w->ops[OP_QUERY]++;
    if (rnd(w, TAIL_IN_QUERIES) == 0) {
        check_tail(w, s, 0);
        return;
    }
    unsigned i = rnd(w, s->pages);
    unsigned end = check_query(w, s, i, page_addr(s, i) + rnd(w, (unsigned)page));
    touch(w, k, s, i, end);
}

static void negative_unlock(struct worker *w, struct slot *s)
{
    unsigned i = rnd(w, s->pages), tries = 0;
    while (s->pg[i].locked && ++tries < s->pages)
        i = (i + 1) % s->pages;
    if (s->pg[i].locked)
        return;
    w->ops[OP_NEGATIVE]++;                   /* not locked (V11.3) */
    BOOL ok = VirtualUnlock((LPVOID)(page_addr(s, i) + rnd(w, (unsigned)page)), 1);
    EXPECT_ERROR(w, ok, ERROR_NOT_LOCKED, "VirtualUnlock(unlocked page)");
}

static void lock_range(struct worker *w, size_t k, struct slot *s, unsigned p0, unsigned p1,
                       bool lock)
{
    uintptr_t addr;
    size_t size;
    unsigned newly = 0;
    for (unsigned i = p0; i < p1; i++)
        newly += !s->pg[i].locked;
    fuzz_range(w, s, p0, p1, &addr, &size);
    w->ops[lock ? OP_LOCK : OP_UNLOCK]++;
    BOOL ok = lock ? VirtualLock((LPVOID)addr, size) : VirtualUnlock((LPVOID)addr, size);
    /* The thread's budget keeps the quota out of reach, so a lock refused
     * is the host's mlock refusing (vm_registry.c maps it to 1453). */
    if (!succeeded(w, ok, lock ? ERROR_WORKING_SET_QUOTA : ERROR_NOT_ENOUGH_MEMORY, __FILE__,
                   __LINE__, lock ? "VirtualLock" : "VirtualUnlock")) {
        walk_slot(w, k, s);
        return;
    }
    for (unsigned i = p0; i < p1; i++)
        s->pg[i].locked = lock;
    w->locked_pages = lock ? w->locked_pages + newly : w->locked_pages - (p1 - p0);
    touch(w, k, s, p0, p1);
}

/* Half the time unlocks a span in a slot holding locks, else locks a span of
 * readable committed pages here, within the thread's budget. */
static void op_lock(struct worker *w, size_t k, struct slot *s)
{
    unsigned p0, p1, at = 0, newly = 0;
    if (w->lock_slots_len && rnd(w, 2)) {
        unsigned r = rnd(w, w->lock_slots_len);
        w->cur = k = w->lock_slots[r];
        s = &w->slots[k];
        if (s->base && pick_span(w, s, is_locked, &p0, &p1)) {
            lock_range(w, k, s, p0, p1, false);
            return;
        }
        w->lock_slots[r] = w->lock_slots[--w->lock_slots_len];  /* its locks were dropped */
        if (s->base)
            negative_unlock(w, s);
        return;
    }
    while (at < w->lock_slots_len && w->lock_slots[at] != k)
        at++;
    if (pick_span(w, s, is_lockable, &p0, &p1) && at < LOCK_SLOTS) {
        for (unsigned i = p0; i < p1; i++)
            newly += !s->pg[i].locked;
        if (w->locked_pages + newly <= LOCK_BUDGET) {
            if (at == w->lock_slots_len)
                w->lock_slots[w->lock_slots_len++] = k;
            lock_range(w, k, s, p0, p1, true);
            return;
        }
    }
    if (pick_span(w, s, is_locked, &p0, &p1))
        lock_range(w, k, s, p0, p1, false);
    else
        negative_unlock(w, s);
}

/* Calls that must fail with Windows' error code and change nothing. */
static void op_negative(struct worker *w, size_t k, struct slot *s)
{
    unsigned last = s->pages - 1;
    BOOL ok;
    w->ops[OP_NEGATIVE]++;
    switch (rnd(w, 5)) {
    case 0:
        negative_release(w, s);
        break;
    case 1:                                   /* decommit size 0 off the base (V10.3) */
        if (s->pages > 1) {
            ok = VirtualFree((LPVOID)page_addr(s, 1 + rnd(w, last)), 0, MEM_DECOMMIT);
            EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualFree(inside, 0, MEM_DECOMMIT)");
            break;
        }
        /* fall through */
    case 2:                                   /* decommit past the end (V10.3) */
        ok = VirtualFree((LPVOID)page_addr(s, last), 2 * page, MEM_DECOMMIT);
        EXPECT_ERROR(w, ok, ERROR_INVALID_PARAMETER, "VirtualFree(past the end, MEM_DECOMMIT)");
        break;
    case 3:                                   /* commit past the end (V4.2) */
        ok = VirtualAlloc((LPVOID)page_addr(s, last), 2 * page, MEM_COMMIT, PAGE_READWRITE) != NULL;
        EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualAlloc(past the end, MEM_COMMIT)");
        break;
    default:                                  /* reserve over an allocation (V3.3) */
        ok = VirtualAlloc((LPVOID)(page_addr(s, rnd(w, s->pages)) + rnd(w, (unsigned)page)),
                          page, MEM_RESERVE, PAGE_READWRITE) != NULL;
        EXPECT_ERROR(w, ok, ERROR_INVALID_ADDRESS, "VirtualAlloc(inside, MEM_RESERVE)");
        break;
    }
    walk_slot(w, k, s);
}

void one_op(struct worker *w)
{
    size_t k = rnd(w, SLOTS_PER_THREAD);
    struct slot *s = &w->slots[k];
    w->cur = k;
    w->op_no++;
    unsigned r = rnd(w, 100);
    if (!s->base || r < 8)
        op_release(w, k, s);
    else if (r < 30)
        op_commit(w, k, s);
    else if (r < 44)
        op_protect(w, k, s);
    else if (r < 58)
        op_decommit(w, k, s);
    else if (r < 86)
        op_query(w, k, s);
    else if (r < 90) {
        w->ops[OP_WALK]++;
        walk_slot(w, k, s);
    } else if (r < 96)
        op_lock(w, k, s);
    else
        op_negative(w, k, s);
}
