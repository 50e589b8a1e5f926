/*
 * crt_sbh.c — the small-block heap of the Win32-era CRT (crt.h), off until
 * _set_sbh_threshold turns it on: blocks of up to the threshold (at most
 * 1016 bytes) come from regions of their own instead of the process heap,
 * under the documented policy: a region reserves 4 MiB, is committed
 * 64 KiB (a group) at a time, gives a group's commit back when 128 KiB of
 * committed groups stand empty, and is released once nothing in it is busy.
 *
 * A group, once committed, serves one size class (16 to 1024 bytes in
 * steps of 16) and begins with its header: the class, a busy bitmap (the
 * truth about which blocks are live, so a double free or a pointer into the
 * middle of a block is refused exactly) and each busy block's size asked
 * for (so _msize is exact).  The blocks follow, 16-byte aligned.  Groups of
 * a class with room are on that class's list; empty committed groups on
 * the spare list.  One lock covers it all: this is the legacy path.
 *
 * The x64 builds of msvcrt never had a small-block heap: there
 * _set_sbh_threshold refuses every value (0; the oracle, Wine's msvcrt,
 * agrees) and _get_sbh_threshold says 0.  winmem keeps the 32-bit CRT's
 * behaviour instead, which the Win32-era code that calls these expects;
 * with the threshold left at 0 nothing differs from x64.
 */
#include "crt.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define SBH_REGION      ((size_t)4 << 20)
#define SBH_GROUP       ((size_t)64 << 10)
#define SBH_GROUPS      (SBH_REGION / SBH_GROUP)
#define SBH_UNIT        16u
#define SBH_CLASSES     64u                     /* 16 … 1024 */
#define SBH_MAX_BLOCKS  ((SBH_GROUP) / SBH_UNIT)
#define SBH_SPARE_MAX   (2 * SBH_GROUP)         /* empty commit kept before one group goes */

struct sbh_group {
    struct sbh_group *next, *prev;      /* the class's list, or the spare list */
    struct sbh_region *region;
    uint32_t cls;                       /* block size / SBH_UNIT - 1 */
    uint32_t blocks, busy;
    uint32_t first;                     /* offset of block 0 from the group */
    uint64_t map[SBH_MAX_BLOCKS / 64];  /* busy bits */
    uint16_t size[];                    /* asked for, per block */
};

struct sbh_region {
    struct sbh_region *next;
    char *base;
    uint64_t committed;                 /* a bit per group */
    uint32_t in_use;                    /* groups with a class */
};

static pthread_mutex_t sbh_lock = PTHREAD_MUTEX_INITIALIZER;
size_t crt_sbh_limit;                   /* the threshold; 0: off.  Atomic: malloc reads it unlocked */
static struct sbh_region *regions;
static struct sbh_group *with_room[SBH_CLASSES], *spare;
static size_t spare_bytes;
int crt_sbh_active;                     /* regions exist: pointers must be asked about */

static size_t class_bytes(uint32_t cls) { return ((size_t)cls + 1) * SBH_UNIT; }

static void list_push(struct sbh_group **head, struct sbh_group *g)
{
    g->prev = NULL;
    g->next = *head;
    if (*head)
        (*head)->prev = g;
    *head = g;
}

static void list_pull(struct sbh_group **head, struct sbh_group *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        *head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    g->next = g->prev = NULL;
}

/* -------------------------------------------------------------- regions */
static struct sbh_group *group_at(struct sbh_region *r, size_t i)
{
    return (struct sbh_group *)(r->base + i * SBH_GROUP);
}

/* A committed group with no class: from the spare list, else committed
 * from a region, else from a new region; NULL when the host refuses. */
static struct sbh_group *group_take(void)
{
    struct sbh_group *g = spare;
    if (g) {
        list_pull(&spare, g);
        spare_bytes -= SBH_GROUP;
        return g;
    }
    struct sbh_region *r = regions;
    while (r && r->committed == ~0ull)
        r = r->next;
    if (!r) {
        void *base = winmem_VirtualAlloc(NULL, SBH_REGION, MEM_RESERVE, PAGE_READWRITE);
        if (!base || !(r = winmem_VirtualAlloc(base, SBH_GROUP, MEM_COMMIT, PAGE_READWRITE))) {
            if (base)
                winmem_VirtualFree(base, 0, MEM_RELEASE);
            return NULL;
        }
        /* The region's own record lives in its first group's header room. */
        r = (struct sbh_region *)((char *)base + SBH_GROUP - sizeof *r);
        *r = (struct sbh_region){ .next = regions, .base = base, .committed = 1 };
        regions = r;
        __atomic_store_n(&crt_sbh_active, 1, __ATOMIC_RELEASE);
        g = group_at(r, 0);
    } else {
        unsigned i = (unsigned)__builtin_ctzll(~r->committed);
        if (!winmem_VirtualAlloc(group_at(r, i), SBH_GROUP, MEM_COMMIT, PAGE_READWRITE))
            return NULL;
        r->committed |= 1ull << i;
        g = group_at(r, i);
    }
    g->region = r;
    return g;
}

static size_t group_end(const struct sbh_group *g)
{
    /* The first group of a region ends where its region record begins. */
    const struct sbh_region *r = g->region;
    return (char *)g == r->base ? SBH_GROUP - sizeof *r : SBH_GROUP;
}

static void group_format(struct sbh_group *g, uint32_t cls)
{
    size_t bs = class_bytes(cls), end = group_end(g);
    size_t blocks = (end - sizeof *g) / (bs + sizeof(uint16_t));
    size_t first;
    while ((first = wm_align_up(sizeof *g + blocks * sizeof(uint16_t), SBH_UNIT)) + blocks * bs > end)
        blocks--;
    struct sbh_region *r = g->region;
    memset(g->map, 0, sizeof g->map);
    g->cls = cls;
    g->blocks = (uint32_t)blocks;
    g->busy = 0;
    g->first = (uint32_t)first;
    r->in_use++;
}

/* An empty group goes spare; past SBH_SPARE_MAX one spare group's commit
 * goes back; a region with nothing in use goes back whole. */
static void group_empty(struct sbh_group *g)
{
    struct sbh_region *r = g->region;
    list_pull(&with_room[g->cls], g);
    r->in_use--;
    list_push(&spare, g);
    spare_bytes += SBH_GROUP;
    if (r->in_use == 0) {
        for (size_t i = 0; i < SBH_GROUPS; i++)
            if (r->committed & (1ull << i)) {
                list_pull(&spare, group_at(r, i));
                spare_bytes -= SBH_GROUP;
            }
        struct sbh_region **link = &regions;
        while (*link != r)
            link = &(*link)->next;
        *link = r->next;
        winmem_VirtualFree(r->base, 0, MEM_RELEASE);
        return;
    }
    if (spare_bytes >= SBH_SPARE_MAX) {
        /* Decommit a spare group that is not a region's first (which holds
         * the region's record). */
        for (struct sbh_group *s = spare; s; s = s->next)
            if ((char *)s != s->region->base) {
                struct sbh_region *sr = s->region;
                list_pull(&spare, s);
                spare_bytes -= SBH_GROUP;
                sr->committed &= ~(1ull << (((char *)s - sr->base) / SBH_GROUP));
                winmem_VirtualFree(s, SBH_GROUP, MEM_DECOMMIT);
                break;
            }
    }
}

/* -------------------------------------------------------------- blocks */
static struct sbh_region *region_of(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (struct sbh_region *r = regions; r; r = r->next)
        if (a >= (uintptr_t)r->base && a < (uintptr_t)r->base + SBH_REGION)
            return r;
    return NULL;
}

/* The group and index of the block starting at p, or NULL (also for a
 * pointer inside a region that starts no block). */
static struct sbh_group *group_of(const void *p, uint32_t *index)
{
    struct sbh_region *r = region_of(p);
    if (!r)
        return NULL;
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)r->base;
    size_t gi = (a - base) / SBH_GROUP;
    if (!(r->committed & (1ull << gi)))
        return NULL;
    struct sbh_group *g = group_at(r, gi);
    size_t off = a - (uintptr_t)g, bs;
    if (!g->blocks || off < g->first || (off - g->first) % (bs = class_bytes(g->cls)))
        return NULL;
    *index = (uint32_t)((off - g->first) / bs);
    return *index < g->blocks ? g : NULL;
}

static bool busy(const struct sbh_group *g, uint32_t i) { return g->map[i / 64] >> (i % 64) & 1; }

void *crt_sbh_alloc(size_t size)
{
    void *p = NULL;
    pthread_mutex_lock(&sbh_lock);
    if (size <= __atomic_load_n(&crt_sbh_limit, __ATOMIC_RELAXED)) {
        uint32_t cls = size ? (uint32_t)((size - 1) / SBH_UNIT) : 0;
        struct sbh_group *g = with_room[cls];
        if (!g && (g = group_take()) != NULL) {
            group_format(g, cls);
            list_push(&with_room[cls], g);
        }
        if (g) {
            uint32_t w = 0;
            while (g->map[w] == ~0ull)
                w++;
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(~g->map[w]);
            g->map[w] |= 1ull << (i % 64);
            g->size[i] = (uint16_t)size;
            if (++g->busy == g->blocks)
                list_pull(&with_room[cls], g);
            p = (char *)g + g->first + (size_t)i * class_bytes(cls);
        }
    }
    pthread_mutex_unlock(&sbh_lock);
    return p;
}

/* 1 freed, 0 not a small-block-heap pointer, -1 one in its regions that
 * is not a busy block's start. */
int crt_sbh_free(void *p)
{
    uint32_t i;
    pthread_mutex_lock(&sbh_lock);
    struct sbh_group *g = group_of(p, &i);
    int r = g ? (busy(g, i) ? 1 : -1) : region_of(p) ? -1 : 0;
    if (r == 1) {
        g->map[i / 64] &= ~(1ull << (i % 64));
        if (g->busy-- == g->blocks)
            list_push(&with_room[g->cls], g);
        if (g->busy == 0)
            group_empty(g);
    }
    pthread_mutex_unlock(&sbh_lock);
    return r;
}

/* The size of busy block p, (size_t)-1 for any other pointer into the
 * small-block heap's regions, 0 and *mine false for a pointer outside. */
size_t crt_sbh_size(const void *p, bool *mine)
{
    uint32_t i;
    pthread_mutex_lock(&sbh_lock);
    struct sbh_group *g = group_of(p, &i);
    *mine = g || region_of(p);
    size_t size = g && busy(g, i) ? g->size[i] : *mine ? (size_t)-1 : 0;
    pthread_mutex_unlock(&sbh_lock);
    return size;
}

/* Resizes busy block p within its class; false when it does not fit. */
bool crt_sbh_resize(void *p, size_t size)
{
    uint32_t i;
    pthread_mutex_lock(&sbh_lock);
    struct sbh_group *g = group_of(p, &i);
    bool ok = g && busy(g, i) && size <= class_bytes(g->cls) &&
              size <= __atomic_load_n(&crt_sbh_limit, __ATOMIC_RELAXED);
    if (ok)
        g->size[i] = (uint16_t)size;
    pthread_mutex_unlock(&sbh_lock);
    return ok;
}

/* The busy or free block after `after` (NULL: the first), in region,
 * group and address order; false at the end. */
bool crt_sbh_next(const void *after, void **block, size_t *size, bool *is_busy)
{
    pthread_mutex_lock(&sbh_lock);
    struct sbh_region *r = regions;
    size_t gi = 0;
    uint32_t i = 0;
    if (after) {
        struct sbh_group *g = group_of(after, &i);
        if (!g) {
            pthread_mutex_unlock(&sbh_lock);
            return false;
        }
        r = g->region;
        gi = (size_t)((char *)g - r->base) / SBH_GROUP;
        i++;
    }
    for (; r; r = r->next, gi = 0, i = 0)
        for (; gi < SBH_GROUPS; gi++, i = 0) {
            struct sbh_group *g = group_at(r, gi);
            /* Spare groups (nothing busy) are not walked. */
            if (!(r->committed & (1ull << gi)) || g->region != r || !g->busy || i >= g->blocks)
                continue;
            *block = (char *)g + g->first + (size_t)i * class_bytes(g->cls);
            *is_busy = busy(g, i);
            *size = *is_busy ? g->size[i] : class_bytes(g->cls);
            pthread_mutex_unlock(&sbh_lock);
            return true;
        }
    pthread_mutex_unlock(&sbh_lock);
    return false;
}

/* Every group's counts agree with its bitmap and its lists (for _heapchk). */
bool crt_sbh_validate(void)
{
    bool ok = true;
    pthread_mutex_lock(&sbh_lock);
    for (struct sbh_region *r = regions; r && ok; r = r->next) {
        uint32_t in_use = 0;
        for (size_t gi = 0; gi < SBH_GROUPS && ok; gi++) {
            struct sbh_group *g = group_at(r, gi);
            if (!(r->committed & (1ull << gi)) || g->region != r)
                continue;
            uint32_t n = 0;
            for (size_t w = 0; w < SBH_MAX_BLOCKS / 64; w++)
                n += (uint32_t)__builtin_popcountll(g->map[w]);
            ok = n == g->busy && g->busy <= g->blocks;
            in_use += g->busy != 0;
        }
        ok = ok && in_use <= r->in_use;
    }
    pthread_mutex_unlock(&sbh_lock);
    return ok;
}

WINMEM_API int winmem__set_sbh_threshold(size_t size)
{
    if (size > CRT_SBH_MAX)
        return 0;
    __atomic_store_n(&crt_sbh_limit, size, __ATOMIC_RELAXED);
    return 1;
}

WINMEM_API size_t winmem__get_sbh_threshold(void)
{
    return __atomic_load_n(&crt_sbh_limit, __ATOMIC_RELAXED);
}

