/*
 * rbtree.c — an intrusive red-black tree with parent pointers.
 *
 * Rules (checked by rb_validate): the root is black; a red node has no red
 * child; every path from a node down to a leaf crosses the same number of
 * black nodes; every child's parent link points back at its parent.
 */
#include "base.h"

#define RB_RED   0u
#define RB_BLACK 1u

static inline bool is_red(const struct rb_node *n) { return n && !(n->parent_color & 1); }
static inline bool is_black(const struct rb_node *n) { return !is_red(n); }
static inline void set_parent(struct rb_node *n, struct rb_node *p)
{
    n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}
static inline void set_color(struct rb_node *n, uintptr_t c)
{
    n->parent_color = (n->parent_color & ~(uintptr_t)1) | c;
}

/* Puts `with` where `old` hangs from `parent` (or at the root). */
static void replace_child(struct rb_tree *t, struct rb_node *parent,
                          struct rb_node *old, struct rb_node *with)
{
    if (!parent)
        t->root = with;
    else if (parent->left == old)
        parent->left = with;
    else
        parent->right = with;
}

static void rotate_left(struct rb_tree *t, struct rb_node *x)
{
    struct rb_node *y = x->right, *p = rb_parent(x);
    x->right = y->left;
    if (y->left)
        set_parent(y->left, x);
    set_parent(y, p);
    replace_child(t, p, x, y);
    y->left = x;
    set_parent(x, y);
}

static void rotate_right(struct rb_tree *t, struct rb_node *x)
{
    struct rb_node *y = x->left, *p = rb_parent(x);
    x->left = y->right;
    if (y->right)
        set_parent(y->right, x);
    set_parent(y, p);
    replace_child(t, p, x, y);
    y->right = x;
    set_parent(x, y);
}

void rb_link(struct rb_tree *t, struct rb_node *n, struct rb_node *parent, struct rb_node **link)
{
    n->parent_color = (uintptr_t)parent | RB_RED;
    n->left = n->right = NULL;
    *link = n;
    t->count++;
}

void rb_insert_fixup(struct rb_tree *t, struct rb_node *n)
{
    struct rb_node *p;
    while ((p = rb_parent(n)) && is_red(p)) {
        struct rb_node *g = rb_parent(p);       /* exists: a red node is never the root */
        bool left = (p == g->left);
        struct rb_node *uncle = left ? g->right : g->left;
        if (is_red(uncle)) {
            set_color(p, RB_BLACK);
            set_color(uncle, RB_BLACK);
            set_color(g, RB_RED);
            n = g;
            continue;
        }
        if (n == (left ? p->right : p->left)) {
            if (left)
                rotate_left(t, p);
            else
                rotate_right(t, p);
            n = p;
            p = rb_parent(n);
        }
        set_color(p, RB_BLACK);
        set_color(g, RB_RED);
        if (left)
            rotate_right(t, g);
        else
            rotate_left(t, g);
    }
    set_color(t->root, RB_BLACK);
}

/* Restores the black height after removing a black node; x (maybe NULL)
 * took its place under parent. */
static void erase_fixup(struct rb_tree *t, struct rb_node *x, struct rb_node *parent)
{
    while (x != t->root && is_black(x)) {
        bool left = (x == parent->left);
        struct rb_node *w = left ? parent->right : parent->left;
        if (is_red(w)) {
            set_color(w, RB_BLACK);
            set_color(parent, RB_RED);
            if (left)
                rotate_left(t, parent);
            else
                rotate_right(t, parent);
            w = left ? parent->right : parent->left;
        }
        if (is_black(w->left) && is_black(w->right)) {
            set_color(w, RB_RED);
            x = parent;
            parent = rb_parent(x);
            continue;
        }
        if (left && is_black(w->right)) {
            set_color(w->left, RB_BLACK);
            set_color(w, RB_RED);
            rotate_right(t, w);
            w = parent->right;
        } else if (!left && is_black(w->left)) {
            set_color(w->right, RB_BLACK);
            set_color(w, RB_RED);
            rotate_left(t, w);
            w = parent->left;
        }
        set_color(w, parent->parent_color & 1);
        set_color(parent, RB_BLACK);
        if (left) {
            set_color(w->right, RB_BLACK);
            rotate_left(t, parent);
        } else {
            set_color(w->left, RB_BLACK);
            rotate_right(t, parent);
        }
        x = t->root;
        break;
    }
    if (x)
        set_color(x, RB_BLACK);
}

void rb_erase(struct rb_tree *t, struct rb_node *z)
{
    struct rb_node *x, *xparent;
    uintptr_t removed_color;
    t->count--;
    if (!z->left || !z->right) {
        x = z->left ? z->left : z->right;
        xparent = rb_parent(z);
        removed_color = z->parent_color & 1;
        if (x)
            set_parent(x, xparent);
        replace_child(t, xparent, z, x);
    } else {
        /* y, z's successor, takes z's place and colour. */
        struct rb_node *y = z->right;
        while (y->left)
            y = y->left;
        removed_color = y->parent_color & 1;
        x = y->right;
        if (rb_parent(y) == z) {
            xparent = y;
        } else {
            xparent = rb_parent(y);
            xparent->left = x;
            if (x)
                set_parent(x, xparent);
            y->right = z->right;
            set_parent(z->right, y);
        }
        y->left = z->left;
        set_parent(z->left, y);
        replace_child(t, rb_parent(z), z, y);
        y->parent_color = z->parent_color;
    }
    if (removed_color == RB_BLACK)
        erase_fixup(t, x, xparent);
}

struct rb_node *rb_first(const struct rb_tree *t)
{
    struct rb_node *n = t->root;
    while (n && n->left)
        n = n->left;
    return n;
}

struct rb_node *rb_last(const struct rb_tree *t)
{
    struct rb_node *n = t->root;
    while (n && n->right)
        n = n->right;
    return n;
}

struct rb_node *rb_next(const struct rb_node *n)
{
    if (n->right) {
        n = n->right;
        while (n->left)
            n = n->left;
        return (struct rb_node *)n;
    }
    struct rb_node *p;
    while ((p = rb_parent(n)) && n == p->right)
        n = p;
    return p;
}

struct rb_node *rb_prev(const struct rb_node *n)
{
    if (n->left) {
        n = n->left;
        while (n->right)
            n = n->right;
        return (struct rb_node *)n;
    }
    struct rb_node *p;
    while ((p = rb_parent(n)) && n == p->left)
        n = p;
    return p;
}

/* Black height of the subtree at n, or -1 with *why set. */
static int check_subtree(const struct rb_node *n, size_t *count, const char **why, int depth)
{
    if (!n)
        return 1;
    if (depth > 128)
        return *why = "tree deeper than any balanced tree can be", -1;
    (*count)++;
    if (n->left && rb_parent(n->left) != n)
        return *why = "left child's parent link is wrong", -1;
    if (n->right && rb_parent(n->right) != n)
        return *why = "right child's parent link is wrong", -1;
    if (is_red(n) && (is_red(n->left) || is_red(n->right)))
        return *why = "red node has a red child", -1;
    int l = check_subtree(n->left, count, why, depth + 1);
    if (l < 0)
        return -1;
    int r = check_subtree(n->right, count, why, depth + 1);
    if (r < 0)
        return -1;
    if (l != r)
        return *why = "black heights differ", -1;
    return l + (is_black(n) ? 1 : 0);
}

bool rb_validate(const struct rb_tree *t, const char **why)
{
    const char *reason = NULL;
    size_t count = 0;
    if (t->root && (is_red(t->root) || rb_parent(t->root)))
        reason = "root is red or has a parent";
    else if (check_subtree(t->root, &count, &reason, 0) >= 0 && count != t->count)
        reason = "node count differs from the tree's count";
    if (why)
        *why = reason;
    return reason == NULL;
}
