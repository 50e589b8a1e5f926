/*
 * heap_back.c — the heap's back end: variable-size blocks with encoded
 * 16-byte headers in segments reserved and committed through vm (heap.h,
 * invariants P1, P2, P3 for back-end blocks, P5).
 *
 * A segment's blocks tile [base, committed_end); past that, up to the end of
 * the reservation, nothing is committed.  A request no bin can serve grows
 * the committed part of a segment whose last block is free (or adds a block
 * there), and only then reserves a new segment (growable heaps).  Sizes are
 * in units of 16 bytes, header included; the smallest block is two units,
 * room for the header and a free block's two links.
 *
 * The caller (the heap's API) holds the heap's lock and has resolved the
 * pointer's segment through the map; these functions check everything else
 * a bad pointer could get wrong and answer with an error, never a fault.
 */
#include "heap.h"
#include "../os/os.h"

#include <pthread.h>
#include <string.h>

#define UNIT 16u
#define MIN_UNITS 2u
#define FIRST_SEGMENT ((size_t)1 << 20)
#define MAX_SEGMENT ((size_t)64 << 20)
#define COMMIT_STEP ((size_t)64 << 10)

struct hb_free_links { uint64_t next, prev; };    /* encoded header addresses */

/* ------------------------------------------------------------ headers */
static uint8_t fold(const struct hb_header *h)
{
    uint64_t x = (uint64_t)h->units ^ ((uint64_t)h->prev_units << 32) ^
                 ((uint64_t)h->slack << 8) ^ h->flags;
    x ^= x >> 32;
    x ^= x >> 16;
    x ^= x >> 8;
    return (uint8_t)(x ^ 0x5a);
}

static void put_header(const struct heap_back *b, uintptr_t at, struct hb_header h)
{
    h.check = fold(&h);
    uint64_t w[2];
    memcpy(w, &h, sizeof w);
    ((uint64_t *)at)[0] = w[0] ^ b->key[0];
    ((uint64_t *)at)[1] = w[1] ^ b->key[1];
}

static bool get_header(const struct heap_back *b, uintptr_t at, struct hb_header *h)
{
    uint64_t w[2] = { ((const uint64_t *)at)[0] ^ b->key[0], ((const uint64_t *)at)[1] ^ b->key[1] };
    memcpy(h, w, sizeof w);
    return h->check == fold(h) && h->units >= MIN_UNITS;
}

/* ------------------------------------------------------- block starts */
static size_t start_bit(const struct heap_segment *s, uintptr_t at) { return (at - s->base) / UNIT; }

static void mark_start(struct heap_segment *s, uintptr_t at, bool on)
{
    size_t i = start_bit(s, at);
    if (on)
        s->starts[i / 64] |= 1ull << (i % 64);
    else
        s->starts[i / 64] &= ~(1ull << (i % 64));
}

static bool is_start(const struct heap_segment *s, uintptr_t at)
{
    if (at < s->base || at >= s->committed_end || (at - s->base) % UNIT)
        return false;
    size_t i = start_bit(s, at);
    return s->starts[i / 64] >> (i % 64) & 1;
}

/* ---------------------------------------------------------------- bins */
static unsigned bin_of(uint32_t units)
{
    if (units <= 128)
        return units - MIN_UNITS;
    unsigned log = 31u - (unsigned)__builtin_clz(units);
    return 127 + 4 * (log - 7) + ((units >> (log - 2)) & 3);
}

static struct hb_free_links *links(uintptr_t block) { return (struct hb_free_links *)(block + UNIT); }

static void bin_insert(struct heap_back *b, uintptr_t block, uint32_t units)
{
    unsigned i = bin_of(units);
    uintptr_t head = b->bins[i];
    links(block)->next = head ^ b->key[0];
    links(block)->prev = 0 ^ b->key[0];
    if (head)
        links(head)->prev = block ^ b->key[0];
    b->bins[i] = block;
    b->bin_map[i / 64] |= 1ull << (i % 64);
}

/* Unlinks a free block, checking its neighbours point back at it. */
static bool bin_remove(struct heap_back *b, uintptr_t block, uint32_t units)
{
    unsigned i = bin_of(units);
    uintptr_t next = links(block)->next ^ b->key[0], prev = links(block)->prev ^ b->key[0];
    if ((prev ? links(prev)->next ^ b->key[0] : b->bins[i]) != block ||
        (next && (links(next)->prev ^ b->key[0]) != block))
        return false;
    if (prev)
        links(prev)->next = next ^ b->key[0];
    else
        b->bins[i] = next;
    if (next)
        links(next)->prev = prev ^ b->key[0];
    if (!b->bins[i])
        b->bin_map[i / 64] &= ~(1ull << (i % 64));
    return true;
}

/* ------------------------------------------------------------ segments */
static struct wm_pool segment_pool = WM_POOL_INIT(struct heap_segment);

static struct heap_segment *segment_of(uintptr_t at)
{
    struct heap_span *span = heap_map_find((void *)at);
    return span && span->kind == HEAP_SPAN_SEGMENT
               ? wm_container_of(span, struct heap_segment, span) : NULL;
}

static void set_prev_of_next(struct heap_back *b, struct heap_segment *s, uintptr_t block, uint32_t units)
{
    uintptr_t next = block + (uintptr_t)units * UNIT;
    struct hb_header h;
    if (next < s->committed_end && get_header(b, next, &h)) {
        h.prev_units = units;
        put_header(b, next, h);
    }
}

/* Reserves a segment of `reserve` bytes (a granule multiple) and commits
 * `commit`, as one free block. */
static struct heap_segment *segment_new(struct heap_back *b, size_t reserve, size_t limit, size_t commit)
{
    if (reserve / UNIT > UINT32_MAX)
        return NULL;
    struct heap_segment *s = heap_meta_get(&segment_pool);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    void *bits = NULL;
    size_t bits_bytes = wm_align_up(reserve / UNIT / 8, os_page_size());
    char *base = b->fixed ? NULL : vm_warm_alloc(reserve, commit, b->protect, &commit);
    if (!base && (!(base = winmem_VirtualAlloc(NULL, reserve, MEM_RESERVE, b->protect)) ||
                  !winmem_VirtualAlloc(base, commit, MEM_COMMIT, b->protect)))
        goto fail;
    if (!(bits = heap_buf_get(bits_bytes)))
        goto fail;
    s->span = (struct heap_span){ HEAP_SPAN_SEGMENT, b->owner, (uintptr_t)base, reserve };
    if (!heap_map_set((uintptr_t)base, reserve, &s->span))
        goto fail;
    s->base = (uintptr_t)base;
    s->committed_end = s->base + commit;
    s->reserved_end = s->base + limit;
    s->starts = bits;
    s->starts_bytes = bits_bytes;
    s->last = s->base;
    put_header(b, s->base, (struct hb_header){ .units = (uint32_t)(commit / UNIT) });
    mark_start(s, s->base, true);
    bin_insert(b, s->base, (uint32_t)(commit / UNIT));
    s->next = b->segments;
    b->segments = s;
    b->reserved += reserve;
    b->committed += commit;
    return s;
fail:
    if (bits)
        heap_buf_put(bits, bits_bytes, 0);
    if (base)
        vm_warm_release(base);
    heap_meta_put(&segment_pool, s);
    return NULL;
}

/* Gives a segment's memory back: its pages to vm, which keeps them warm
 * for a while, and its bitmap, cleared, for the next segment. */
static void segment_free(struct heap_segment *s)
{
    heap_map_clear(s->base, s->span.size);
    vm_warm_release((void *)s->base);
    heap_buf_put(s->starts, s->starts_bytes, (s->committed_end - s->base) / UNIT / 8 + 8);
    heap_meta_put(&segment_pool, s);
}

DWORD hb_init(struct heap_back *b, void *owner, size_t initial, size_t maximum, DWORD protect)
{
    size_t page = os_page_size();
    memset(b, 0, sizeof *b);
    b->owner = owner;
    b->protect = protect;
    b->key[0] = heap_key();
    b->key[1] = heap_key();
    size_t commit = wm_align_up(initial ? initial : 1, page);
    if (maximum) {
        size_t limit = wm_align_up(maximum > initial ? maximum : initial, page);
        b->fixed = true;
        commit = commit < limit ? commit : limit;
        return segment_new(b, wm_align_up(limit, VM_GRANULARITY), limit, commit)
                   ? 0 : ERROR_NOT_ENOUGH_MEMORY;
    }
    size_t reserve = wm_align_up(commit > FIRST_SEGMENT ? commit : FIRST_SEGMENT, VM_GRANULARITY);
    b->next_segment = reserve * 2 < MAX_SEGMENT ? reserve * 2 : MAX_SEGMENT;
    return segment_new(b, reserve, reserve, commit) ? 0 : ERROR_NOT_ENOUGH_MEMORY;
}

void hb_destroy(struct heap_back *b)
{
    for (struct heap_segment *s = b->segments, *next; s; s = next) {
        next = s->next;
        segment_free(s);
    }
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- growth */
/* Commits more of a segment so that its last block, free or new, has at
 * least `units`; true when one could. */
static bool grow_segment(struct heap_back *b, struct heap_segment *s, uint32_t units)
{
    struct hb_header last;
    if (!get_header(b, s->last, &last))
        return false;
    size_t have = (last.flags & HB_BUSY) ? 0 : (size_t)last.units * UNIT;
    size_t need = (size_t)units * UNIT - have;
    if (s->committed_end + need > s->reserved_end || s->committed_end + need < s->committed_end)
        return false;
    size_t step = wm_align_up(need, COMMIT_STEP);
    if (s->committed_end + step > s->reserved_end)
        step = s->reserved_end - s->committed_end;
    if (!winmem_VirtualAlloc((void *)s->committed_end, step, MEM_COMMIT, b->protect))
        return false;
    uintptr_t old_end = s->committed_end;
    s->committed_end += step;
    b->committed += step;
    if (!(last.flags & HB_BUSY)) {
        bin_remove(b, s->last, last.units);
        last.units += (uint32_t)(step / UNIT);
        put_header(b, s->last, last);
        bin_insert(b, s->last, last.units);
    } else {
        put_header(b, old_end, (struct hb_header){ .units = (uint32_t)(step / UNIT),
                                                   .prev_units = last.units });
        mark_start(s, old_end, true);
        bin_insert(b, old_end, (uint32_t)(step / UNIT));
        s->last = old_end;
    }
    return true;
}

static bool grow(struct heap_back *b, uint32_t units)
{
    for (struct heap_segment *s = b->segments; s; s = s->next)
        if (s->committed_end < s->reserved_end && grow_segment(b, s, units))
            return true;
    if (b->fixed)
        return false;
    size_t bytes = (size_t)units * UNIT;
    size_t reserve = wm_align_up(bytes > b->next_segment ? bytes : b->next_segment, VM_GRANULARITY);
    if (!segment_new(b, reserve, reserve, wm_align_up(bytes, COMMIT_STEP)))
        return false;
    b->next_segment = b->next_segment * 2 < MAX_SEGMENT ? b->next_segment * 2 : MAX_SEGMENT;
    return true;
}

/* ------------------------------------------------------------ allocation */
#define SCAN_LIMIT 32              /* blocks looked at in the request's own bin */

static uintptr_t find_fit(struct heap_back *b, uint32_t units)
{
    unsigned i = bin_of(units);
    uintptr_t at = b->bins[i];
    for (int n = 0; at && n < SCAN_LIMIT; n++) {
        struct hb_header h;
        if (get_header(b, at, &h) && h.units >= units)
            return at;
        at = links(at)->next ^ b->key[0];
    }
    for (unsigned j = i + 1; j < HB_BINS; j++) {
        uint64_t word = b->bin_map[j / 64] >> (j % 64);
        if (!word) {
            j |= 63;                        /* next word */
            continue;
        }
        j += (unsigned)__builtin_ctzll(word);
        return b->bins[j];
    }
    return 0;
}

/* Makes the free block `block` busy with `size` bytes, splitting off what it
 * does not need. */
static void take(struct heap_back *b, uintptr_t block, uint32_t units, size_t size)
{
    struct heap_segment *s = segment_of(block);
    struct hb_header h;
    get_header(b, block, &h);
    bin_remove(b, block, h.units);
    if (h.units - units >= MIN_UNITS) {
        uintptr_t rest = block + (uintptr_t)units * UNIT;
        uint32_t rest_units = h.units - units;
        put_header(b, rest, (struct hb_header){ .units = rest_units, .prev_units = units });
        mark_start(s, rest, true);
        set_prev_of_next(b, s, rest, rest_units);
        bin_insert(b, rest, rest_units);
        if (s->last == block)
            s->last = rest;
        h.units = units;
    }
    h.flags = HB_BUSY;
    h.slack = (uint16_t)((size_t)h.units * UNIT - UNIT - size);
    put_header(b, block, h);
    b->busy_blocks++;
}

static bool units_for(size_t size, uint32_t *units)
{
    if (size > HB_MAX_REQUEST)
        return false;
    size_t u = (size + 2 * UNIT - 1) / UNIT;
    *units = (uint32_t)(u < MIN_UNITS ? MIN_UNITS : u);
    return true;
}

DWORD hb_alloc(struct heap_back *b, size_t size, void **out)
{
    uint32_t units;
    if (!units_for(size, &units))
        return ERROR_NOT_ENOUGH_MEMORY;
    uintptr_t block = find_fit(b, units);
    if (!block && grow(b, units))
        block = find_fit(b, units);
    if (!block)
        return ERROR_NOT_ENOUGH_MEMORY;
    take(b, block, units, size);
    *out = (void *)(block + UNIT);
    return 0;
}

/* ------------------------------------------------------------------ free */
/* The busy block whose data starts at p, checked: HB_OK, or why not. */
static enum hb_check busy_block(struct heap_back *b, struct heap_segment *s, const void *p,
                                uintptr_t *block, struct hb_header *h)
{
    *block = (uintptr_t)p - UNIT;
    if ((uintptr_t)p < UNIT || !is_start(s, *block))
        return HB_NOT_A_BLOCK;
    if (!get_header(b, *block, h))
        return HB_CORRUPT;
    return (h->flags & HB_BUSY) ? HB_OK : HB_NOT_BUSY;
}

/* Turns a block (header h, not in a bin) into a free block merged with its
 * free neighbours.  HB_CORRUPT when a neighbour's header or links are bad;
 * the block is then left busy. */
static enum hb_check release(struct heap_back *b, struct heap_segment *s, uintptr_t block,
                             struct hb_header h)
{
    uintptr_t next = block + (uintptr_t)h.units * UNIT, prev = 0;
    struct hb_header nh = { 0 }, ph = { 0 };
    bool merge_next = false, merge_prev = false;
    if (next < s->committed_end) {
        if (!get_header(b, next, &nh) || nh.prev_units != h.units)
            return HB_CORRUPT;
        merge_next = !(nh.flags & HB_BUSY);
    }
    if (h.prev_units) {
        prev = block - (uintptr_t)h.prev_units * UNIT;
        if (!is_start(s, prev) || !get_header(b, prev, &ph) || ph.units != h.prev_units)
            return HB_CORRUPT;
        merge_prev = !(ph.flags & HB_BUSY);
    }
    if ((merge_next && !bin_remove(b, next, nh.units)) ||
        (merge_prev && !bin_remove(b, prev, ph.units)))
        return HB_CORRUPT;
    if (merge_next) {
        mark_start(s, next, false);
        h.units += nh.units;
        if (s->last == next)
            s->last = block;
    }
    if (merge_prev) {
        mark_start(s, block, false);
        if (s->last == block)
            s->last = prev;
        ph.units += h.units;
        block = prev;
        h = ph;
    }
    h.flags = 0;
    h.slack = 0;
    put_header(b, block, h);
    set_prev_of_next(b, s, block, h.units);
    bin_insert(b, block, h.units);
    return HB_OK;
}

enum hb_check hb_free(struct heap_back *b, struct heap_segment *s, void *p)
{
    uintptr_t block;
    struct hb_header h;
    enum hb_check c = busy_block(b, s, p, &block, &h);
    if (c == HB_OK && (c = release(b, s, block, h)) == HB_OK)
        b->busy_blocks--;
    return c;
}

enum hb_check hb_size(struct heap_back *b, struct heap_segment *s, const void *p, size_t *size)
{
    uintptr_t block;
    struct hb_header h;
    enum hb_check c = busy_block(b, s, p, &block, &h);
    if (c == HB_OK)
        *size = (size_t)h.units * UNIT - UNIT - h.slack;
    return c;
}

/* Resizes in place: shrinking always works; growing takes a free block after
 * this one, or commits more when this block is the segment's last.
 * HB_NO_ROOM when it cannot grow here. */
enum hb_check hb_resize(struct heap_back *b, struct heap_segment *s, void *p, size_t size)
{
    uintptr_t block;
    struct hb_header h;
    uint32_t units;
    enum hb_check c = busy_block(b, s, p, &block, &h);
    if (c != HB_OK)
        return c;
    if (!units_for(size, &units))
        return HB_NO_ROOM;
    if (units > h.units) {
        uintptr_t next = block + (uintptr_t)h.units * UNIT;
        bool at_end = next == s->committed_end;
        struct hb_header nh = { .flags = HB_BUSY };
        if (!at_end && (!get_header(b, next, &nh) || nh.prev_units != h.units))
            return HB_CORRUPT;
        if (at_end || (next == s->last && !(nh.flags & HB_BUSY) && h.units + nh.units < units)) {
            if (!grow_segment(b, s, units - h.units))
                return HB_NO_ROOM;
            if (!get_header(b, next, &nh))
                return HB_CORRUPT;
        }
        if ((nh.flags & HB_BUSY) || h.units + nh.units < units)
            return HB_NO_ROOM;
        if (!bin_remove(b, next, nh.units))
            return HB_CORRUPT;
        mark_start(s, next, false);
        if (s->last == next)
            s->last = block;
        h.units += nh.units;
        set_prev_of_next(b, s, block, h.units);
    }
    uint32_t spare = h.units - units >= MIN_UNITS ? h.units - units : 0;
    h.units -= spare;
    h.slack = (uint16_t)((size_t)h.units * UNIT - UNIT - size);
    put_header(b, block, h);
    if (spare) {                                   /* give back the tail */
        uintptr_t tail = block + (uintptr_t)h.units * UNIT;
        struct hb_header th = { .units = spare, .prev_units = h.units, .flags = HB_BUSY };
        put_header(b, tail, th);
        mark_start(s, tail, true);
        set_prev_of_next(b, s, tail, spare);
        if (s->last == block)
            s->last = tail;
        if (release(b, s, tail, th) != HB_OK)
            return HB_CORRUPT;
    }
    return HB_OK;
}

/* ------------------------------------------------------------ validation */
static size_t bits_set(const uint64_t *bits, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n / 64; i++)
        count += (size_t)__builtin_popcountll(bits[i]);
    if (n % 64)
        count += (size_t)__builtin_popcountll(bits[n / 64] & ((1ull << (n % 64)) - 1));
    return count;
}

/* P1 and P3 for one segment; counts its free and busy blocks. */
static bool check_segment(const struct heap_back *b, const struct heap_segment *s,
                          size_t *free_blocks, size_t *busy, const char **why)
{
    uintptr_t at = s->base, last = 0;
    uint32_t prev = 0;
    bool prev_free = false;
    size_t blocks = 0;
    while (at < s->committed_end) {
        struct hb_header h;
        if (!get_header(b, at, &h))
            return *why = "a block header is corrupt", false;
        if (h.prev_units != prev)
            return *why = "a block's previous size does not match its neighbour", false;
        if (!is_start(s, at))
            return *why = "a block's start is missing from the start bitmap", false;
        if (at + (uintptr_t)h.units * UNIT > s->committed_end)
            return *why = "a block runs past the committed end of its segment", false;
        bool is_free = !(h.flags & HB_BUSY);
        if (is_free && prev_free)
            return *why = "two free blocks are neighbours", false;
        if (!is_free && h.slack > (size_t)h.units * UNIT - UNIT)
            return *why = "a busy block's slack exceeds its capacity", false;
        *free_blocks += is_free;
        *busy += !is_free;
        blocks++;
        prev = h.units;
        prev_free = is_free;
        last = at;
        at += (uintptr_t)h.units * UNIT;
    }
    if (at != s->committed_end || last != s->last)
        return *why = "the blocks do not tile their segment's committed part", false;
    if (bits_set(s->starts, (s->committed_end - s->base) / UNIT) != blocks)
        return *why = "the start bitmap marks a place where no block starts", false;
    return true;
}

/* P2: every bin holds free blocks of its sizes, linked both ways. */
static bool check_bins(const struct heap_back *b, size_t free_blocks, const char **why)
{
    size_t binned = 0;
    for (unsigned i = 0; i < HB_BINS; i++) {
        bool marked = b->bin_map[i / 64] >> (i % 64) & 1;
        if (marked != (b->bins[i] != 0))
            return *why = "the bin bitmap disagrees with a bin", false;
        uintptr_t prev = 0;
        for (uintptr_t at = b->bins[i]; at; at = links(at)->next ^ b->key[0]) {
            struct heap_segment *s = segment_of(at);
            struct hb_header h;
            if (!s || !is_start(s, at) || !get_header(b, at, &h))
                return *why = "a bin holds something that is not a block", false;
            if ((h.flags & HB_BUSY) || bin_of(h.units) != i)
                return *why = "a bin holds a busy block or one of another size", false;
            if ((links(at)->prev ^ b->key[0]) != prev)
                return *why = "a free block's back link is wrong", false;
            if (++binned > free_blocks)
                return *why = "the bins hold more blocks than are free (or a loop)", false;
            prev = at;
        }
    }
    if (binned != free_blocks)
        return *why = "a free block is missing from its bin", false;
    return true;
}

bool hb_validate(const struct heap_back *b, const char **why)
{
    size_t free_blocks = 0, busy = 0;
    for (const struct heap_segment *s = b->segments; s; s = s->next)
        if (!check_segment(b, s, &free_blocks, &busy, why))
            return false;
    if (!check_bins(b, free_blocks, why))
        return false;
    if (busy != b->busy_blocks)
        return *why = "the busy-block count differs from the blocks", false;
    *why = NULL;
    return true;
}

/* One block's check (HeapValidate with a pointer, H26). */
enum hb_check hb_check_block(struct heap_back *b, struct heap_segment *s, const void *p)
{
    uintptr_t block;
    struct hb_header h;
    enum hb_check c = busy_block(b, s, p, &block, &h);
    if (c != HB_OK)
        return c;
    uintptr_t next = block + (uintptr_t)h.units * UNIT;
    struct hb_header nh;
    if (next > s->committed_end || h.slack > (size_t)h.units * UNIT - UNIT ||
        (next < s->committed_end && (!get_header(b, next, &nh) || nh.prev_units != h.units)))
        return HB_CORRUPT;
    return HB_OK;
}

/* --------------------------------------------------------------- walking */
bool hb_block_info(const struct heap_back *b, const struct heap_segment *s, uintptr_t block,
                   struct hb_block_info *out)
{
    struct hb_header h;
    if (!is_start(s, block) || !get_header(b, block, &h))
        return false;
    out->capacity = (size_t)h.units * UNIT - UNIT;
    out->busy = h.flags & HB_BUSY;
    out->size = out->busy ? out->capacity - h.slack : out->capacity;
    out->next = block + (uintptr_t)h.units * UNIT;
    return true;
}

size_t hb_largest_free(const struct heap_back *b)
{
    for (unsigned i = HB_BINS; i-- > 0;) {
        if (!b->bins[i])
            continue;
        uint32_t best = 0;
        for (uintptr_t at = b->bins[i]; at; at = links(at)->next ^ b->key[0]) {
            struct hb_header h;
            if (get_header(b, at, &h) && h.units > best)
                best = h.units;
        }
        return best ? (size_t)best * UNIT - UNIT : 0;
    }
    return 0;
}

/* ----------------------------------------------------------- giving back */
static void segment_release(struct heap_back *b, struct heap_segment *s)
{
    b->reserved -= s->span.size;
    b->committed -= s->committed_end - s->base;
    segment_free(s);
}

/* Returns free memory to the host (HeapCompact): a segment that is one free
 * block is released, unless it is the heap's last; a free block at the end
 * of a segment gives back its whole pages past its header. */
void hb_trim(struct heap_back *b)
{
    size_t page = os_page_size();
    for (struct heap_segment **link = &b->segments, *s; (s = *link) != NULL;) {
        struct hb_header h;
        if (!get_header(b, s->last, &h) || (h.flags & HB_BUSY)) {
            link = &s->next;
            continue;
        }
        if (s->last == s->base && (s != b->segments || s->next) && bin_remove(b, s->last, h.units)) {
            *link = s->next;
            segment_release(b, s);
            continue;
        }
        uintptr_t keep = wm_align_up(s->last + MIN_UNITS * UNIT, page);
        if (keep < s->committed_end && bin_remove(b, s->last, h.units)) {
            winmem_VirtualFree((void *)keep, s->committed_end - keep, MEM_DECOMMIT);
            b->committed -= s->committed_end - keep;
            h.units = (uint32_t)((keep - s->last) / UNIT);
            s->committed_end = keep;
            put_header(b, s->last, h);
            bin_insert(b, s->last, h.units);
        }
        link = &s->next;
    }
}

