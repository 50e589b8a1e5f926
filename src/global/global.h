/*
 * global.h — GlobalAlloc … GlobalHandle and the Local* twins (one
 * implementation; reference ../shared/reference/heap.md, G1-G14), on the
 * process heap.
 *
 * Handles
 *   fixed      the data pointer itself: a busy block of the process heap,
 *              16-byte aligned.
 *   moveable   the address of the `data` field of an entry in the handle
 *              table: entries are 16 bytes and 16-byte aligned with `data`
 *              at offset 8, so a moveable handle is 8 mod 16 and can never
 *              be a data pointer (G5).  The table is one reservation of
 *              GM_ENTRIES entries (G5: 0x10000 for Global and Local
 *              together), committed a host page at a time as it fills, so an
 *              entry never moves and a handle stays valid for as long as
 *              the block lives, whatever GlobalReAlloc does with the data.
 *   data       a moveable block's bytes are a process-heap block with a
 *              16-byte prefix in front (struct gm_prefix) that names the
 *              handle, checked against a per-process key, so GlobalHandle
 *              finds the handle from the data pointer (G5) without a search.
 *
 * Locking: one mutex (gm_lock) serializes every call that reads or writes
 * the table; it is taken before the process heap's lock, never after.
 *
 * Invariants (gm_validate checks each)
 *   G-1. An entry is free (state GM_FREE, on the free list exactly once) or
 *        in use (state GM_USED); `used` counts the latter.
 *   G-2. An in-use entry's data is NULL (discarded, G8) or 16 bytes past a
 *        busy process-heap block whose prefix names this entry's handle.
 *   G-3. A lock count never exceeds GM_LOCK_MAX (G6).
 */
#ifndef WINMEM_GLOBAL_H
#define WINMEM_GLOBAL_H

#include "../base/base.h"

#define GM_ENTRIES      0x10000u        /* moveable handles, Global and Local together */
#define GM_LOCK_MAX     0xFFu           /* a lock count saturates here (G6) */
#define GM_PREFIX       16u             /* bytes in front of a moveable block's data */

enum gm_state { GM_FREE = 0, GM_USED = 0x4D47 /* "GM" */ };
#define GM_DISCARDABLE  0x01u           /* entry flags */
#define GM_SHARE        0x02u

struct gm_entry {
    uint16_t state;             /* enum gm_state */
    uint8_t locks;
    uint8_t flags;              /* GM_DISCARDABLE, GM_SHARE */
    uint32_t next_free;         /* free: index + 1 of the next free entry, 0 at the end */
    void *data;                 /* the handle is &data; NULL once discarded */
};
_Static_assert(sizeof(struct gm_entry) == 16, "entries are 16 bytes: handles are 8 mod 16");

/* In front of a moveable block's data. */
struct gm_prefix {
    struct gm_entry *entry;
    uintptr_t check;            /* entry XOR the process's key */
};
_Static_assert(sizeof(struct gm_prefix) == GM_PREFIX, "the prefix keeps data 16-byte aligned");

/* For tests: every invariant above, under the table's lock; false with a
 * reason in *why at the first violation. */
bool gm_validate(const char **why);
/* Moveable handles in use (for tests). */
size_t gm_handles_in_use(void);

#endif
