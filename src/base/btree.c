/*
 * btree.c — the B+tree map declared in base.h.
 *
 * A change walks down once, remembering the path, then repairs upwards: a
 * node that overflows splits in two and gives its parent a separator; a node
 * left with fewer than BT_MIN entries borrows one from a sibling that can
 * spare it, or else merges with that sibling and takes a separator from the
 * parent.  Only the root may hold fewer than BT_MIN entries (an internal root
 * at least two), so the depth stays within log base 7 of the count.
 */
#include "base.h"

#include <string.h>

#define BT_MAX_DEPTH 24          /* 7^24 entries would be needed to go deeper */

/* Slots whose key is <= key: unused slots hold UINTPTR_MAX and never count,
 * an internal key[0] of 0 always does.  A fixed trip count lets the
 * compiler do it without branches. */
static inline unsigned rank(const struct bt_node *n, uintptr_t key)
{
    unsigned r = 0;
    for (unsigned i = 0; i < BT_SLOTS; i++)
        r += n->key[i] <= key;
    return r;
}

static struct bt_node *node_new(struct bt_tree *t, bool leaf)
{
    struct bt_node *n = wm_pool_get(t->pool);
    WM_ASSERT(n);
    n->count = 0;
    n->leaf = leaf;
    for (unsigned i = 0; i < BT_SLOTS; i++) {
        n->key[i] = UINTPTR_MAX;
        n->slot[i] = NULL;
    }
    n->prev = n->next = NULL;
    return n;
}

static void put_at(struct bt_node *n, unsigned i, uintptr_t key, void *slot)
{
    WM_ASSERT(n->count < BT_SLOTS && i <= n->count);
    memmove(&n->key[i + 1], &n->key[i], (n->count - i) * sizeof n->key[0]);
    memmove(&n->slot[i + 1], &n->slot[i], (n->count - i) * sizeof n->slot[0]);
    n->key[i] = key;
    n->slot[i] = slot;
    n->count++;
}

static void take_at(struct bt_node *n, unsigned i)
{
    WM_ASSERT(i < n->count);
    memmove(&n->key[i], &n->key[i + 1], (n->count - i - 1) * sizeof n->key[0]);
    memmove(&n->slot[i], &n->slot[i + 1], (n->count - i - 1) * sizeof n->slot[0]);
    n->count--;
    n->key[n->count] = UINTPTR_MAX;
    n->slot[n->count] = NULL;
}

bool bt_reserve(struct bt_tree *t, size_t inserts)
{
    /* An insert splits at most one node per level and may add a root. */
    return wm_pool_reserve(t->pool, inserts * (t->depth + 2));
}

/* Puts (key, slot) at position i of n.  When n is full it splits: the upper
 * half moves to a new right sibling, returned with its separator. */
static struct bt_node *insert_split(struct bt_tree *t, struct bt_node *n, unsigned i,
                                    uintptr_t key, void *slot, uintptr_t *sep)
{
    if (n->count < BT_SLOTS) {
        put_at(n, i, key, slot);
        return NULL;
    }
    uintptr_t keys[BT_SLOTS + 1];
    void *slots[BT_SLOTS + 1];
    memcpy(keys, n->key, i * sizeof keys[0]);
    memcpy(slots, n->slot, i * sizeof slots[0]);
    keys[i] = key;
    slots[i] = slot;
    memcpy(&keys[i + 1], &n->key[i], (BT_SLOTS - i) * sizeof keys[0]);
    memcpy(&slots[i + 1], &n->slot[i], (BT_SLOTS - i) * sizeof slots[0]);

    const unsigned keep = (BT_SLOTS + 2) / 2;
    struct bt_node *right = node_new(t, n->leaf);
    for (unsigned j = 0; j < BT_SLOTS; j++) {
        n->key[j] = j < keep ? keys[j] : UINTPTR_MAX;
        n->slot[j] = j < keep ? slots[j] : NULL;
    }
    n->count = keep;
    for (unsigned j = keep; j <= BT_SLOTS; j++)
        put_at(right, right->count, keys[j], slots[j]);
    *sep = right->key[0];
    if (n->leaf) {
        right->next = n->next;
        if (n->next)
            n->next->prev = right;
        n->next = right;
        right->prev = n;
    } else {
        right->key[0] = 0;      /* an internal node's first child has no separator */
    }
    return right;
}

void bt_insert(struct bt_tree *t, uintptr_t key, void *value)
{
    WM_ASSERT(key != UINTPTR_MAX);
    if (!t->root)
        t->root = node_new(t, true);
    struct bt_node *path[BT_MAX_DEPTH];
    unsigned at[BT_MAX_DEPTH];
    struct bt_node *n = t->root;
    for (unsigned d = 0; d < t->depth; d++) {
        path[d] = n;
        at[d] = rank(n, key) - 1;
        n = n->slot[at[d]];
    }
    unsigned i = rank(n, key);
    WM_ASSERT(i == 0 || n->key[i - 1] != key);
    t->count++;
    uintptr_t sep;
    struct bt_node *right = insert_split(t, n, i, key, value, &sep);
    for (unsigned d = t->depth; right && d-- > 0;)
        right = insert_split(t, path[d], at[d] + 1, sep, right, &sep);
    if (!right)
        return;
    struct bt_node *root = node_new(t, false);
    put_at(root, 0, 0, t->root);
    put_at(root, 1, sep, right);
    t->root = root;
    t->depth++;
    WM_ASSERT(t->depth < BT_MAX_DEPTH);
}

/* Moves the last entry of p's child ci - 1 to the front of child ci. */
static void borrow_left(struct bt_node *p, unsigned ci)
{
    struct bt_node *l = p->slot[ci - 1], *c = p->slot[ci];
    unsigned last = l->count - 1;
    if (c->leaf) {
        put_at(c, 0, l->key[last], l->slot[last]);
        p->key[ci] = c->key[0];
    } else {
        put_at(c, 0, 0, l->slot[last]);
        c->key[1] = p->key[ci];         /* the old first child's lower bound */
        p->key[ci] = l->key[last];
    }
    take_at(l, last);
}

/* Moves the first entry of p's child ci + 1 to the end of child ci. */
static void borrow_right(struct bt_node *p, unsigned ci)
{
    struct bt_node *c = p->slot[ci], *r = p->slot[ci + 1];
    if (c->leaf) {
        put_at(c, c->count, r->key[0], r->slot[0]);
        take_at(r, 0);
        p->key[ci + 1] = r->key[0];
    } else {
        put_at(c, c->count, p->key[ci + 1], r->slot[0]);
        p->key[ci + 1] = r->key[1];
        take_at(r, 0);
        r->key[0] = 0;
    }
}

/* Appends p's child li + 1 to child li and frees it. */
static void merge(struct bt_tree *t, struct bt_node *p, unsigned li)
{
    struct bt_node *l = p->slot[li], *r = p->slot[li + 1];
    WM_ASSERT(l->count + r->count <= BT_SLOTS);
    for (unsigned j = 0; j < r->count; j++)
        put_at(l, l->count, j == 0 && !r->leaf ? p->key[li + 1] : r->key[j], r->slot[j]);
    if (r->leaf) {
        l->next = r->next;
        if (r->next)
            r->next->prev = l;
    }
    take_at(p, li + 1);
    wm_pool_put(t->pool, r);
}

/* Child ci of p has one entry too few. */
static void rebalance(struct bt_tree *t, struct bt_node *p, unsigned ci)
{
    if (ci > 0 && ((struct bt_node *)p->slot[ci - 1])->count > BT_MIN)
        borrow_left(p, ci);
    else if (ci + 1 < p->count && ((struct bt_node *)p->slot[ci + 1])->count > BT_MIN)
        borrow_right(p, ci);
    else
        merge(t, p, ci > 0 ? ci - 1 : ci);
}

void bt_remove(struct bt_tree *t, uintptr_t key)
{
    struct bt_node *path[BT_MAX_DEPTH];
    unsigned at[BT_MAX_DEPTH];
    struct bt_node *n = t->root;
    WM_ASSERT(n);
    for (unsigned d = 0; d < t->depth; d++) {
        path[d] = n;
        at[d] = rank(n, key) - 1;
        n = n->slot[at[d]];
    }
    unsigned i = rank(n, key);
    WM_ASSERT(i > 0 && n->key[i - 1] == key);
    take_at(n, i - 1);
    t->count--;
    for (unsigned d = t->depth; d-- > 0 && n->count < BT_MIN;) {
        rebalance(t, path[d], at[d]);
        n = path[d];
    }
    struct bt_node *root = t->root;
    if (t->depth && root->count == 1) {
        t->root = root->slot[0];
        t->depth--;
        wm_pool_put(t->pool, root);
    } else if (!t->depth && root->count == 0) {
        t->root = NULL;
        wm_pool_put(t->pool, root);
    }
}

void *bt_find_le(const struct bt_tree *t, uintptr_t key)
{
    const struct bt_node *n = t->root;
    if (!n)
        return NULL;
    if (key == UINTPTR_MAX)
        key--;                          /* no stored key is UINTPTR_MAX */
    for (unsigned d = t->depth; d > 0; d--)
        n = n->slot[rank(n, key) - 1];
    unsigned i = rank(n, key);
    if (i)
        return n->slot[i - 1];
    /* key lies below this leaf's first key but not below its separator: the
     * answer is the last key of the leaf before. */
    return n->prev ? n->prev->slot[n->prev->count - 1] : NULL;
}

void bt_for_each(const struct bt_tree *t, void (*fn)(uintptr_t, void *, void *), void *ctx)
{
    const struct bt_node *n = t->root;
    if (!n)
        return;
    while (!n->leaf)
        n = n->slot[0];
    for (; n; n = n->next)
        for (unsigned i = 0; i < n->count; i++)
            fn(n->key[i], n->slot[i], ctx);
}

/* ------------------------------------------------------------ validation */
struct bt_walk {
    const struct bt_tree *tree;
    const struct bt_node *last_leaf;
    size_t count;
    const char *why;
};

static bool fail(struct bt_walk *w, const char *why)
{
    w->why = why;
    return false;
}

/* Keys under n must lie in [lo, hi); hi == UINTPTR_MAX means unbounded. */
static bool check_node(struct bt_walk *w, const struct bt_node *n, unsigned height,
                       uintptr_t lo, uintptr_t hi)
{
    bool root = n == w->tree->root;
    if ((bool)n->leaf != (height == 0))
        return fail(w, "leaves are not all at the same depth");
    if (n->count > BT_SLOTS || (!root && n->count < BT_MIN) || (root && !n->leaf && n->count < 2))
        return fail(w, "node is over- or under-full");
    for (unsigned i = n->count; i < BT_SLOTS; i++)
        if (n->key[i] != UINTPTR_MAX || n->slot[i])
            return fail(w, "unused slot is not cleared");
    for (unsigned i = n->leaf ? 0 : 1; i < n->count; i++) {
        if (n->key[i] < lo || n->key[i] >= hi)
            return fail(w, "key lies outside its parent's separators");
        if (i > (n->leaf ? 0u : 1u) && n->key[i] <= n->key[i - 1])
            return fail(w, "keys are not in increasing order");
    }
    if (n->leaf) {
        if (n->prev != w->last_leaf || (w->last_leaf && w->last_leaf->next != n))
            return fail(w, "leaf chain does not follow key order");
        w->last_leaf = n;
        w->count += n->count;
        return true;
    }
    if (n->key[0] != 0)
        return fail(w, "internal node's first key is not 0");
    for (unsigned i = 0; i < n->count; i++) {
        const struct bt_node *c = n->slot[i];
        if (!c)
            return fail(w, "internal node has a missing child");
        uintptr_t clo = i ? n->key[i] : lo, chi = i + 1 < n->count ? n->key[i + 1] : hi;
        if (!check_node(w, c, height - 1, clo, chi))
            return false;
    }
    return true;
}

bool bt_validate(const struct bt_tree *t, const char **why)
{
    struct bt_walk w = { t, NULL, 0, NULL };
    if (!t->root) {
        if (t->count || t->depth)
            return *why = "empty tree has a count or a depth", false;
        return *why = NULL, true;
    }
    if (!check_node(&w, t->root, t->depth, 0, UINTPTR_MAX))
        return *why = w.why, false;
    if (w.last_leaf->next)
        return *why = "last leaf has a successor", false;
    if (w.count != t->count)
        return *why = "tree's count differs from its entries", false;
    return *why = NULL, true;
}
