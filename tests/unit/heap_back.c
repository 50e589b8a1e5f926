/*
 * heap_back.c — the heap's back end (src/heap/heap_back.c) against a model:
 * random allocations (0 B to 200 KiB), frees and in-place resizes over 2,000
 * slots, each block's bytes and exact size checked, hb_validate (P1-P3)
 * after every step early on and every 64th later; bad pointers (interior,
 * freed, double free) answered without damage; a fixed-size heap filled to
 * exhaustion, with its headers counted against the maximum; a corrupted
 * header caught by validation; and everything returned on destroy.
 */
#include "heap/heap.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 2000

struct slot { unsigned char *p; size_t size; unsigned char fill; };
static struct slot slots[SLOTS];
static struct heap_back back;
static int owner;                          /* stands in for the struct heap */
static unsigned long rng = 7;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(rng >> 33) % n;
}

static size_t random_size(void)
{
    unsigned shift = rnd(18);              /* log-distributed up to ~256 KiB */
    return rnd(8) == 0 ? 0 : ((size_t)1 << shift) + rnd(1u << shift) % 200000;
}

static struct heap_segment *seg(const void *p)
{
    struct heap_span *s = heap_map_find(p);
    return s && s->kind == HEAP_SPAN_SEGMENT ? wm_container_of(s, struct heap_segment, span) : NULL;
}

static bool valid(void)
{
    const char *why = NULL;
    if (hb_validate(&back, &why))
        return true;
    printf("  hb_validate: %s\n", why);
    return false;
}

static int check_slot(const struct slot *s)
{
    size_t size = (size_t)-1;
    if (!s->p)
        return 0;
    if (hb_size(&back, seg(s->p), s->p, &size) != HB_OK || size != s->size)
        return 1;
    for (size_t i = 0; i < s->size; i++)
        if (s->p[i] != s->fill)
            return 1;
    return 0;
}

static int step(int n)
{
    struct slot *s = &slots[rnd(SLOTS)];
    int bad = 0;
    if (!s->p) {
        size_t size = random_size();
        void *p = NULL;
        if (hb_alloc(&back, size, &p) != 0)
            return 1;
        bad += ((uintptr_t)p & 15) != 0;
        s->p = p;
        s->size = size;
        s->fill = (unsigned char)n;
        memset(s->p, s->fill, size);
    } else if (rnd(3)) {
        bad += check_slot(s);
        bad += hb_free(&back, seg(s->p), s->p) != HB_OK;
        /* Freeing it again: not busy, or no block at all once it merged
         * with a free block before it. */
        enum hb_check again = hb_free(&back, seg(s->p), s->p);
        bad += again != HB_NOT_BUSY && again != HB_NOT_A_BLOCK;
        s->p = NULL;
    } else {
        size_t size = random_size();
        enum hb_check c = hb_resize(&back, seg(s->p), s->p, size);
        if (c == HB_OK) {
            if (size > s->size)
                memset(s->p + s->size, s->fill, size - s->size);
            s->size = size;
        } else {
            bad += c != HB_NO_ROOM || size <= s->size;   /* shrinking always works */
        }
        bad += check_slot(s);
    }
    return bad;
}

static void random_mix(void)
{
    int bad = 0;
    for (int n = 0; n < 40000; n++) {
        bad += step(n);
        if ((n < 2000 || n % 64 == 0) && !valid())
            bad++;
    }
    for (int i = 0; i < SLOTS; i++)
        bad += check_slot(&slots[i]);
    CHECK_EQ(bad, 0);
    CHECK(valid());
}

static void bad_pointers(void)
{
    void *p = NULL, *q = NULL;
    size_t size;
    CHECK_EQ(hb_alloc(&back, 100, &p), 0);
    CHECK_EQ(hb_alloc(&back, 100, &q), 0);
    CHECK_EQ(hb_size(&back, seg(p), (char *)p + 16, &size), HB_NOT_A_BLOCK);
    CHECK_EQ(hb_free(&back, seg(p), (char *)p + 8), HB_NOT_A_BLOCK);
    CHECK_EQ(hb_free(&back, seg(p), p), HB_OK);
    CHECK_EQ(hb_size(&back, seg(p), p, &size), HB_NOT_BUSY);
    CHECK_EQ(hb_free(&back, seg(p), p), HB_NOT_BUSY);
    CHECK_EQ(hb_check_block(&back, seg(q), q), HB_OK);
    CHECK(valid());
    CHECK_EQ(hb_free(&back, seg(q), q), HB_OK);
}

/* H15: a 64 KiB fixed heap holds at least 237 blocks of 256 bytes (Wine's
 * figure), never more than its maximum, and works again after a free. */
static void fixed_heap(void)
{
    struct heap_back f;
    void *blocks[512];
    int n = 0;
    CHECK_EQ(hb_init(&f, &owner, 0, 0x10000, PAGE_READWRITE), 0);
    while (n < 512 && hb_alloc(&f, 256, &blocks[n]) == 0)
        n++;
    CHECK(n >= 237 && n * 256 <= 0x10000);
    CHECK(f.committed <= 0x10000 && f.reserved == 0x10000);
    void *big;
    CHECK_EQ(hb_alloc(&f, 0x20000, &big), ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(hb_free(&f, seg(blocks[0]), blocks[0]), HB_OK);
    CHECK_EQ(hb_alloc(&f, 256, &blocks[0]), 0);
    const char *why;
    CHECK(hb_validate(&f, &why));
    hb_destroy(&f);
}

int main(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    winmem_GetProcessMemoryInfo(winmem_GetCurrentProcess(), &pmc, sizeof pmc);
    size_t charge_before = pmc.PagefileUsage, map_before = heap_map_count();

    CHECK_EQ(hb_init(&back, &owner, 0, 0, PAGE_READWRITE), 0);
    CHECK(valid());
    random_mix();
    bad_pointers();
    fixed_heap();

    /* A header overwritten, as by an overflow of the block before it, in
     * a heap of its own so the two blocks are neighbours. */
    struct heap_back c;
    void *a = NULL, *b = NULL;
    CHECK_EQ(hb_init(&c, &owner, 0, 0, PAGE_READWRITE), 0);
    CHECK_EQ(hb_alloc(&c, 64, &a), 0);
    CHECK_EQ(hb_alloc(&c, 64, &b), 0);
    CHECK((char *)b == (char *)a + 80);
    memset((char *)a + 64, 0x41, 16 + 8);              /* 8 bytes into b's header */
    const char *why = NULL;
    CHECK(!hb_validate(&c, &why));
    CHECK(why && strstr(why, "corrupt"));
    CHECK_EQ(hb_free(&c, seg(b), b), HB_CORRUPT);
    CHECK_EQ(hb_check_block(&c, seg(a), a), HB_CORRUPT);
    hb_destroy(&c);

    hb_destroy(&back);
    CHECK_EQ(heap_map_count(), map_before);
    winmem_GetProcessMemoryInfo(winmem_GetCurrentProcess(), &pmc, sizeof pmc);
    CHECK_EQ(pmc.PagefileUsage, charge_before);
    return unit_finish();
}
