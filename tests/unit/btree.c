/*
 * btree.c — the B+tree map under random inserts and removals, checked after
 * every step against a plain array of flags: bt_validate (order, separators,
 * fill, depth, leaf chain, count), find_le at and around every change, and
 * the full in-order walk every so often.  Phases grow the tree to several
 * levels, shrink it to nothing (so every borrow and merge, and the root's
 * collapse, happen), and churn at a steady size.  Nodes come from a pool
 * whose live count must return to zero.
 */
#include "base/base.h"
#include "unit.h"

#include <stdlib.h>

#define KEYS 6000             /* keys are (i + 1) * 16, so gaps exist between them */

static bool present[KEYS];
static size_t live;
static struct wm_pool pool = WM_POOL_INIT(struct bt_node);
static struct bt_tree tree = BT_INIT(&pool);
static unsigned long rng_state = 12345;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(rng_state >> 33) % n;
}

static uintptr_t key_of(int i) { return (uintptr_t)(i + 1) * 16; }
static void *value_of(int i) { return &present[i]; }

/* What find_le must answer for `at`, from the reference flags. */
static void *model_le(uintptr_t at)
{
    for (int i = (int)(at / 16) - 1 < KEYS ? (int)(at / 16) - 1 : KEYS - 1; i >= 0; i--)
        if (present[i] && key_of(i) <= at)
            return value_of(i);
    return NULL;
}

static bool probe_ok(int i)
{
    uintptr_t k = key_of(i);
    return bt_find_le(&tree, k) == model_le(k) && bt_find_le(&tree, k - 1) == model_le(k - 1) &&
           bt_find_le(&tree, k + 7) == model_le(k + 7);
}

static bool valid(void)
{
    const char *why = NULL;
    if (bt_validate(&tree, &why))
        return true;
    printf("  bt_validate: %s\n", why);
    return false;
}

static size_t walked;
static bool walk_ok;
static void walk(uintptr_t key, void *value, void *ctx)
{
    (void)ctx;
    int i = (int)(key / 16) - 1;
    if (i < 0 || i >= KEYS || !present[i] || value != value_of(i) || key != key_of(i))
        walk_ok = false;
    walked++;
}

static bool walk_matches(void)
{
    walked = 0;
    walk_ok = true;
    bt_for_each(&tree, walk, NULL);
    return walk_ok && walked == live;
}

/* One step: toggles key i; checks everything it can see. */
static int step(int i)
{
    int bad = 0;
    if (!bt_reserve(&tree, 1))
        return 1;
    if (present[i]) {
        bt_remove(&tree, key_of(i));
        present[i] = false;
        live--;
    } else {
        bt_insert(&tree, key_of(i), value_of(i));
        present[i] = true;
        live++;
    }
    bad += !valid();
    bad += tree.count != live;
    bad += !probe_ok(i);
    bad += !probe_ok(rnd(KEYS));
    return bad;
}

static void phase(const char *name, int steps, int bias_insert_percent)
{
    int bad = 0;
    for (int s = 0; s < steps; s++) {
        int i = rnd(KEYS);
        bool want_insert = (int)rnd(100) < bias_insert_percent;
        for (int tries = 0; tries < KEYS && present[i] == want_insert; tries++)
            i = (i + 1) % KEYS;
        bad += step(i);
        if (s % 997 == 0)
            bad += !walk_matches();
    }
    bad += !walk_matches();
    if (bad)
        printf("  phase %s: %d bad steps\n", name, bad);
    CHECK(bad == 0);
}

int main(void)
{
    CHECK(bt_find_le(&tree, 12345) == NULL);
    CHECK(valid());

    /* Ascending and descending runs split at the edges of the tree. */
    int bad = 0;
    for (int i = 0; i < 500; i++)
        bad += step(i);
    for (int i = 1999; i >= 1500; i--)
        bad += step(i);
    CHECK_EQ(bad, 0);
    CHECK_EQ(tree.count, 1000);
    CHECK(tree.depth >= 2);
    CHECK(bt_find_le(&tree, 15) == NULL);
    CHECK(bt_find_le(&tree, 16) == value_of(0));
    CHECK(bt_find_le(&tree, 1000 * 16) == value_of(499));    /* in the gap */
    CHECK(bt_find_le(&tree, UINTPTR_MAX) == value_of(1999));

    phase("grow", 12000, 85);
    CHECK(tree.depth >= 3);
    phase("churn", 20000, 50);
    phase("shrink", 12000, 10);

    /* Remove what is left in key order, then in reverse, to empty. */
    bad = 0;
    for (int i = 0; i < KEYS; i += 2)
        if (present[i])
            bad += step(i);
    for (int i = KEYS - 1; i >= 0; i--)
        if (present[i])
            bad += step(i);
    CHECK_EQ(bad, 0);
    CHECK_EQ(tree.count, 0);
    CHECK(tree.root == NULL);
    CHECK_EQ(tree.depth, 0);
    CHECK(valid());
    CHECK_EQ(pool.live, 0);
    return unit_finish();
}
