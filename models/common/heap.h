/* heap.h — one intrusive binary min-heap of timers, shared by the coroutine
 * runtime (runtime/clock.c), fetchd and loadgen.
 *
 * "Intrusive": the thing being timed embeds a struct heap_node, and the heap
 * holds pointers to those nodes. Each node knows its own index in the heap,
 * so any node — not only the top — can be removed or given a new key in
 * O(log n), which is what a timer that is cancelled or re-armed needs. Equal
 * keys leave in the order they were pushed (a sequence number breaks ties),
 * so two coroutines sleeping until the same millisecond wake in the order
 * they went to sleep. A zeroed node (calloc) is a node in no heap. No allocation happens in push when heap_reserve() made
 * room first, so a caller can make push impossible to fail. */
#ifndef HEAP_H
#define HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap_node {
    int64_t key;   /* when the timer fires (the caller's unit): smallest on top */
    uint64_t seq;  /* tie-break between equal keys: push order */
    size_t pos;    /* 1 + its index in the heap's array; 0 when not in it (so a zeroed node is "out") */
};

struct heap {
    struct heap_node **v; /* the array; v[0] has the smallest (key, seq) */
    size_t len;           /* entries in use */
    size_t cap;           /* room in v */
    uint64_t seq;         /* the next tie-break number */
};

/* The struct holding a node: heap_entry(n, struct conn, timer). */
#define heap_entry(node, type, member) ((type *)(void *)((char *)(node) - offsetof(type, member)))

static inline void heap_node_init(struct heap_node *n) { n->pos = 0; }
static inline int heap_has(const struct heap_node *n) { return n->pos != 0; }
static inline struct heap_node *heap_top(const struct heap *h) { return h->len ? h->v[0] : NULL; }

int heap_reserve(struct heap *h, size_t n);                 /* room for n entries: 0, or -1 + ENOMEM */
int heap_push(struct heap *h, struct heap_node *n, int64_t key); /* add, or re-key if in: 0, or -1 + ENOMEM */
void heap_remove(struct heap *h, struct heap_node *n);      /* take n out; nothing if it is not in */
struct heap_node *heap_pop(struct heap *h);                 /* take out and return the top; NULL if empty */
void heap_free(struct heap *h);                             /* release the array (not the nodes) */

#endif
