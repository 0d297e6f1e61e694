/* chan.c — channels: a bounded queue of pointers between coroutines of the
 * same loop (Go's buffered channels, asyncio.Queue). A sender waits while
 * the queue is full, a receiver while it is empty, each in a FIFO of waiters
 * of the channel; closing wakes them all. No lock: only one coroutine of a
 * loop runs at a time. */
#include "core.h"

#include <stdlib.h>

struct co_chan {
    void **buf;                 /* ring buffer of capacity slots */
    size_t cap;                 /* slots */
    size_t head;                /* index of the oldest item */
    size_t len;                 /* items queued */
    int closed;                 /* co_chan_close was called */
    struct co_waitq senders;    /* coroutines waiting for room */
    struct co_waitq receivers;  /* coroutines waiting for an item */
};

co_chan_t *co_chan_new(size_t capacity)
{
    if (capacity == 0) {
        errno = EINVAL; /* no rendezvous channels: at least one slot */
        return NULL;
    }
    co_chan_t *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->buf = calloc(capacity, sizeof *ch->buf);
    if (!ch->buf) {
        free(ch);
        return NULL;
    }
    ch->cap = capacity;
    return ch;
}

/* Add c at the tail of queue q (sched.c's co__wake takes it out). */
static void co__q_push(struct co_waitq *q, co_t *c)
{
    c->q_next = NULL;
    c->q_prev = q->tail;
    if (q->tail)
        q->tail->q_next = c;
    else
        q->head = c;
    q->tail = c;
}

/* Park the running coroutine c in queue q until woken or the deadline. */
static int co__chan_wait(co_t *c, struct co_waitq *q, int64_t deadline)
{
    c->wait = CO_W_CHAN;
    c->wait_q = q;
    co__q_push(q, c);
    int err = co__suspend(c, deadline);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int co_chan_send(co_chan_t *ch, void *v, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    for (;;) {
        if (ch->closed) {
            errno = EPIPE;
            return -1;
        }
        if (ch->len < ch->cap) {
            ch->buf[(ch->head + ch->len++) % ch->cap] = v;
            if (ch->receivers.head)
                co__wake(ch->receivers.head, 0);
            return 0;
        }
        if (co__chan_wait(c, &ch->senders, deadline) < 0)
            return -1;
    }
}

int co_chan_recv(co_chan_t *ch, void **v, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    for (;;) {
        if (ch->len > 0) {
            *v = ch->buf[ch->head];
            ch->head = (ch->head + 1) % ch->cap;
            ch->len--;
            if (ch->senders.head)
                co__wake(ch->senders.head, 0);
            return 0;
        }
        if (ch->closed) {
            errno = EPIPE;
            return -1;
        }
        if (co__chan_wait(c, &ch->receivers, deadline) < 0)
            return -1;
    }
}

void co_chan_close(co_chan_t *ch)
{
    ch->closed = 1;
    while (ch->senders.head)
        co__wake(ch->senders.head, 0);
    while (ch->receivers.head)
        co__wake(ch->receivers.head, 0);
}

void co_chan_free(co_chan_t *ch)
{
    if (!ch)
        return;
    free(ch->buf);
    free(ch);
}
