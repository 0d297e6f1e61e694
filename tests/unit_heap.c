/* unit_heap.c — tests of the shared timer heap (models/common/heap.c).
 *
 * Each check prints "PASS name" or "FAIL name: why". The heap is checked
 * against the simplest possible reference: an array scanned for its
 * smallest (key, push order) on every step. */
#include "check.h"
#include "heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
    int id;               /* which item, for messages */
    long order;           /* reference: when it was last pushed */
    int in;               /* reference: is it in the heap */
    struct heap_node node;
};

static void pass(const char *name) { check(1, name, ""); }
static void fail(const char *name, const char *why) { check(0, name, why); }

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The reference answer: the smallest (key, order) among the items in. */
static struct item *ref_top(struct item *it, int n)
{
    struct item *best = NULL;
    for (int i = 0; i < n; i++) {
        if (!it[i].in)
            continue;
        if (!best || it[i].node.key < best->node.key ||
            (it[i].node.key == best->node.key && it[i].order < best->order))
            best = &it[i];
    }
    return best;
}

/* Every parent smaller than its children, every node's pos right. */
static int heap_ok(const struct heap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        if (h->v[i]->pos != i + 1)
            return 0;
        if (i > 0) {
            const struct heap_node *p = h->v[(i - 1) / 2], *c = h->v[i];
            if (p->key > c->key || (p->key == c->key && p->seq > c->seq))
                return 0;
        }
    }
    return 1;
}

/* 50,000 random pushes, re-keys, removals and pops over 500 items, with
 * few distinct keys so ties are common. */
static void test_random(void)
{
    enum { N = 500, STEPS = 50000 };
    const char *name = "random_ops_match_reference";
    struct item *it = calloc(N, sizeof *it);
    struct heap h = {0};
    long order = 0;
    char why[200];
    for (int i = 0; i < N; i++) {
        it[i].id = i;
        heap_node_init(&it[i].node);
    }
    for (int step = 0; step < STEPS; step++) {
        struct item *x = &it[rnd() % N];
        switch (rnd() % 4) {
        case 0:
        case 1: /* push, or re-key if in */
            if (heap_push(&h, &x->node, (int64_t)(rnd() % 50)) < 0) {
                fail(name, "heap_push failed");
                goto out;
            }
            x->in = 1;
            x->order = order++;
            break;
        case 2:
            heap_remove(&h, &x->node);
            x->in = 0;
            break;
        case 3: {
            struct item *want = ref_top(it, N);
            struct heap_node *got = heap_pop(&h);
            struct item *g = got ? heap_entry(got, struct item, node) : NULL;
            if (g != want) {
                snprintf(why, sizeof why, "step %d: pop gave item %d, want %d", step, g ? g->id : -1,
                         want ? want->id : -1);
                fail(name, why);
                goto out;
            }
            if (g)
                g->in = 0;
            break;
        }
        }
        if (!heap_ok(&h)) {
            snprintf(why, sizeof why, "step %d: heap order or an index is broken", step);
            fail(name, why);
            goto out;
        }
        for (int i = 0; i < N; i++)
            if (heap_has(&it[i].node) != it[i].in) {
                snprintf(why, sizeof why, "step %d: item %d in=%d but heap_has=%d", step, i, it[i].in,
                         heap_has(&it[i].node));
                fail(name, why);
                goto out;
            }
    }
    pass(name);
out:
    heap_free(&h);
    free(it);
}

/* Equal keys leave in push order; re-arming moves an item behind its equals. */
static void test_ties(void)
{
    const char *name = "equal_keys_fifo_rearm_last";
    struct item it[5];
    struct heap h = {0};
    for (int i = 0; i < 5; i++) {
        it[i].id = i;
        heap_node_init(&it[i].node);
        heap_push(&h, &it[i].node, 7);
    }
    heap_push(&h, &it[1].node, 7); /* re-armed: now the last of the sevens */
    char got[8] = "";
    struct heap_node *n;
    while ((n = heap_pop(&h)))
        got[strlen(got)] = (char)('0' + heap_entry(n, struct item, node)->id);
    if (strcmp(got, "02341") == 0 && h.len == 0 && heap_top(&h) == NULL)
        pass(name);
    else {
        char why[64];
        snprintf(why, sizeof why, "popped %s, want 02341", got);
        fail(name, why);
    }
    heap_free(&h);
}

/* After heap_reserve(n), n pushes never reallocate: a caller can rely on a
 * push that cannot fail (the runtime does, in co__suspend). */
static void test_reserve(void)
{
    const char *name = "reserve_then_push_never_reallocates";
    enum { N = 1000 };
    struct item *it = calloc(N, sizeof *it);
    struct heap h = {0};
    if (heap_reserve(&h, N) < 0) {
        fail(name, "heap_reserve failed");
        free(it);
        return;
    }
    struct heap_node **v = h.v;
    int ok = 1;
    for (int i = 0; i < N; i++) {
        heap_node_init(&it[i].node);
        ok &= heap_push(&h, &it[i].node, N - i) == 0 && h.v == v;
    }
    heap_remove(&h, &it[3].node); /* removing twice is harmless */
    heap_remove(&h, &it[3].node);
    ok &= h.len == N - 1 && !heap_has(&it[3].node) && heap_top(&h) == &it[N - 1].node;
    if (ok)
        pass(name);
    else
        fail(name, "the array moved, or removal/top is wrong");
    heap_free(&h);
    free(it);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    plan(3);
    test_random();
    test_ties();
    test_reserve();
    return check_done();
}
