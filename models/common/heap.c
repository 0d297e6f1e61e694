/* heap.c — the intrusive binary min-heap of heap.h. The parent of index i is
 * (i - 1) / 2, its children 2i + 1 and 2i + 2; every parent is smaller than
 * its children, so the smallest is v[0]. */
#include "heap.h"

#include <errno.h>
#include <stdlib.h>

static int heap_less(const struct heap_node *a, const struct heap_node *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    return a->seq < b->seq;
}

static void heap_set(struct heap *h, size_t i, struct heap_node *n)
{
    h->v[i] = n;
    n->pos = i + 1;
}

/* Move the node at i up while it is smaller than its parent. */
static void heap_up(struct heap *h, size_t i)
{
    struct heap_node *n = h->v[i];
    while (i > 0 && heap_less(n, h->v[(i - 1) / 2])) {
        heap_set(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(h, i, n);
}

/* Move the node at i down while a child is smaller. */
static void heap_down(struct heap *h, size_t i)
{
    struct heap_node *n = h->v[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= h->len)
            break;
        if (k + 1 < h->len && heap_less(h->v[k + 1], h->v[k]))
            k++;
        if (!heap_less(h->v[k], n))
            break;
        heap_set(h, i, h->v[k]);
        i = k;
    }
    heap_set(h, i, n);
}

int heap_reserve(struct heap *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof *h->v) {
            errno = ENOMEM;
            return -1;
        }
        cap *= 2;
    }
    struct heap_node **v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return -1;
    h->v = v;
    h->cap = cap;
    return 0;
}

int heap_push(struct heap *h, struct heap_node *n, int64_t key)
{
    if (n->pos) { /* re-arm: a new key, and a new place among equals */
        n->key = key;
        n->seq = h->seq++;
        heap_up(h, n->pos - 1);
        heap_down(h, n->pos - 1);
        return 0;
    }
    if (heap_reserve(h, h->len + 1) < 0)
        return -1;
    n->key = key;
    n->seq = h->seq++;
    heap_set(h, h->len++, n);
    heap_up(h, n->pos - 1);
    return 0;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
    if (!n->pos)
        return;
    size_t i = n->pos - 1;
    n->pos = 0;
    struct heap_node *last = h->v[--h->len];
    if (last == n)
        return;
    heap_set(h, i, last); /* the last one fills the hole, then finds its place */
    heap_up(h, i);
    heap_down(h, last->pos - 1);
}

struct heap_node *heap_pop(struct heap *h)
{
    struct heap_node *top = heap_top(h);
    if (top)
        heap_remove(h, top);
    return top;
}

void heap_free(struct heap *h)
{
    free(h->v);
    h->v = NULL;
    h->len = h->cap = 0;
}
