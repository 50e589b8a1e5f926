/*
 * base.h — what every winmem layer shares: the export and visibility rules,
 * assertion levels, the thread's last error, a pool for fixed-size metadata
 * objects, an intrusive red-black tree and a B+tree map.
 *
 * Assertion levels (set WINMEM_DEBUG at build time):
 *   0  release: only the cheap checks that guard against bad input (they are
 *      code paths, not assertions, and return Windows' errors);
 *   1  debug: WM_ASSERT cross-checks internal contracts;
 *   2  expensive: WM_EXPENSIVE runs whole-structure validation after every
 *      change (the test suite runs a build at this level too).
 */
#ifndef WINMEM_BASE_H
#define WINMEM_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <winmem.h>

#ifndef WINMEM_DEBUG
#define WINMEM_DEBUG 0
#endif

#define WM_HIDDEN __attribute__((visibility("hidden")))
#define wm_likely(x) __builtin_expect(!!(x), 1)
#define wm_unlikely(x) __builtin_expect(!!(x), 0)

void wm_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

#if WINMEM_DEBUG >= 1
#define WM_ASSERT(x) ((x) ? (void)0 : wm_assert_fail(#x, __FILE__, __LINE__))
#else
#define WM_ASSERT(x) ((void)0)
#endif
#if WINMEM_DEBUG >= 2
#define WM_EXPENSIVE(x) ((x) ? (void)0 : wm_assert_fail(#x, __FILE__, __LINE__))
#else
#define WM_EXPENSIVE(x) ((void)0)
#endif

/* ------------------------------------------------------------ last error */
/* Sets the calling thread's last error; returns nothing so an API can write
 * `return wm_fail(ERROR_X), NULL;` style code without casts. */
void wm_set_error(DWORD code);

/* ------------------------------------------------------------- alignment */
static inline uintptr_t wm_align_down(uintptr_t x, uintptr_t a) { return x & ~(a - 1); }
static inline uintptr_t wm_align_up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }

/* UTF-16 (NUL-terminated) to UTF-8 in out[room], NUL-terminated: the bytes
 * written before the NUL, (size_t)-1 for an unpaired surrogate, (size_t)-2
 * when it does not fit (text.c). */
size_t wm_utf16_to_utf8(const WCHAR *in, char *out, size_t room);

/* ----------------------------------------------------------- object pool */
/* A pool of fixed-size objects carved from host pages, for metadata that
 * cannot come from malloc (winmem may be the malloc).  Not thread-safe: the
 * owner serializes.  Pages are never returned, so a stale pointer read under
 * a racing lookup never faults.  wm_pool_reserve(n) guarantees the next n
 * wm_pool_get calls succeed: callers reserve before they change anything, so
 * an operation never fails half-done. */
struct wm_pool {
    size_t object_size;
    void *free_list;
    size_t free_count;
    size_t live;                 /* objects handed out and not put back */
    size_t chunk_bytes;          /* host memory taken, for statistics */
};
#define WM_POOL_INIT(type) { sizeof(type) < sizeof(void *) ? sizeof(void *) : sizeof(type), 0, 0, 0, 0 }
bool wm_pool_reserve(struct wm_pool *pool, size_t n);
void *wm_pool_get(struct wm_pool *pool);
void wm_pool_put(struct wm_pool *pool, void *object);

/* ------------------------------------------------------ red-black tree */
/* Intrusive, with parent pointers for in-order walks.  The colour lives in
 * the low bit of the parent pointer.  Ordering and lookup are the user's: it
 * finds the link where a node belongs and calls rb_link + rb_insert_fixup. */
struct rb_node {
    uintptr_t parent_color;
    struct rb_node *left, *right;
};
struct rb_tree {
    struct rb_node *root;
    size_t count;
};

static inline struct rb_node *rb_parent(const struct rb_node *n)
{
    return (struct rb_node *)(n->parent_color & ~(uintptr_t)1);
}
void rb_link(struct rb_tree *t, struct rb_node *n, struct rb_node *parent, struct rb_node **link);
void rb_insert_fixup(struct rb_tree *t, struct rb_node *n);
void rb_erase(struct rb_tree *t, struct rb_node *n);
struct rb_node *rb_first(const struct rb_tree *t);
struct rb_node *rb_last(const struct rb_tree *t);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);
/* Checks the red-black rules, the parent links and the node count; on the
 * first violation returns false and points *why at one reason string. */
bool rb_validate(const struct rb_tree *t, const char **why);

/* ---------------------------------------------------------------- B+tree */
/* An ordered map from address-sized keys to pointers, for lookups that must
 * stay cheap when the map outgrows the caches: a node is four cache lines
 * holding up to BT_SLOTS keys, so a search from 100,000 keys touches four
 * or five nodes where a binary tree touches seventeen.  Values live in the
 * leaves; an internal node's key[i] (i > 0) is a separator no greater than
 * any key under child i and greater than every key under child i - 1.  Its
 * key[0] is 0 and unused slots hold UINTPTR_MAX, so one branch-free count
 * finds the way down.  Nodes come from the caller's pool (whose object size
 * must be sizeof(struct bt_node)); bt_reserve before a change makes the
 * inserts that follow unable to fail.  Not thread-safe: the owner locks. */
#define BT_SLOTS 14
#define BT_MIN (BT_SLOTS / 2)

struct bt_node {
    uint32_t count;
    uint32_t leaf;
    uintptr_t key[BT_SLOTS];
    void *slot[BT_SLOTS];            /* values in a leaf, children otherwise */
    struct bt_node *prev, *next;     /* neighbouring leaves, in key order */
} __attribute__((aligned(64)));

struct bt_tree {
    struct bt_node *root;
    size_t count;
    unsigned depth;                  /* levels above the leaves */
    struct wm_pool *pool;
};
#define BT_INIT(pool_ptr) { NULL, 0, 0, (pool_ptr) }

/* Makes the next `inserts` calls to bt_insert unable to fail. */
bool bt_reserve(struct bt_tree *t, size_t inserts);
/* Adds key (which must be absent) with its value; the pool must be reserved. */
void bt_insert(struct bt_tree *t, uintptr_t key, void *value);
/* Removes key, which must be present. */
void bt_remove(struct bt_tree *t, uintptr_t key);
/* The value of the greatest key <= key, or NULL when there is none. */
void *bt_find_le(const struct bt_tree *t, uintptr_t key);
/* Visits every entry in key order. */
void bt_for_each(const struct bt_tree *t, void (*fn)(uintptr_t, void *, void *), void *ctx);
/* Checks order, separators, fill, equal leaf depth, the leaf chain and the
 * count; on the first violation returns false with one reason in *why. */
bool bt_validate(const struct bt_tree *t, const char **why);

#define wm_container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

#endif
