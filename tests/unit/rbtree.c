/*
 * rbtree.c — the red-black tree under random inserts and erases, checked
 * against a sorted reference after every step: the red-black rules
 * (rb_validate), the in-order sequence, and walks in both directions.
 */
#include "base/base.h"
#include "unit.h"

#include <stdlib.h>

#define N 2000

struct item {
    struct rb_node node;
    unsigned key;
    bool in;
};

static struct item items[N];
static struct rb_tree tree;

static void insert(struct item *it)
{
    struct rb_node **link = &tree.root, *parent = NULL;
    while (*link) {
        parent = *link;
        struct item *p = wm_container_of(parent, struct item, node);
        link = it->key < p->key ? &parent->left : &parent->right;
    }
    rb_link(&tree, &it->node, parent, link);
    rb_insert_fixup(&tree, &it->node);
    it->in = true;
}

/* The tree's in-order keys must be exactly the inserted items' keys. */
static bool sequence_matches(void)
{
    unsigned last = 0;
    size_t seen = 0, expected = 0;
    for (int i = 0; i < N; i++)
        expected += items[i].in;
    for (struct rb_node *n = rb_first(&tree); n; n = rb_next(n)) {
        struct item *it = wm_container_of(n, struct item, node);
        if (!it->in || (seen && it->key < last))
            return false;
        last = it->key;
        seen++;
    }
    size_t back = 0;
    for (struct rb_node *n = rb_last(&tree); n; n = rb_prev(n))
        back++;
    return seen == expected && back == expected;
}

int main(void)
{
    srand(12345);
    for (int i = 0; i < N; i++)
        items[i].key = (unsigned)rand();
    int bad_rules = 0, bad_seq = 0;
    const char *why;
    for (int step = 0; step < 20000; step++) {
        struct item *it = &items[rand() % N];
        if (it->in) {
            rb_erase(&tree, &it->node);
            it->in = false;
        } else {
            insert(it);
        }
        if (!rb_validate(&tree, &why)) {
            if (!bad_rules++)
                printf("rule broken at step %d: %s\n", step, why);
        }
        if ((step % 97) == 0 && !sequence_matches())
            bad_seq++;
    }
    CHECK_EQ(bad_rules, 0);
    CHECK_EQ(bad_seq, 0);
    CHECK(sequence_matches());
    /* Empty it completely; the rules hold down to the empty tree. */
    for (int i = 0; i < N; i++)
        if (items[i].in) {
            rb_erase(&tree, &items[i].node);
            items[i].in = false;
            if (!rb_validate(&tree, &why))
                bad_rules++;
        }
    CHECK_EQ(bad_rules, 0);
    CHECK(tree.root == NULL);
    CHECK_EQ(tree.count, 0);
    /* The validator itself must catch a broken tree: paint the root red. */
    insert(&items[0]);
    insert(&items[1]);
    tree.root->parent_color &= ~(uintptr_t)1;
    CHECK(!rb_validate(&tree, &why));
    return unit_finish();
}
