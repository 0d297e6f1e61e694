/* co.c — coroutines: start one, wait for it to finish, cancel it, give the
 * CPU away for a turn. A coroutine is a struct co (core.h) and a stack
 * (stack.c); starting one builds its first frame (switch.c) and queues it
 * (sched.c). */
#include "core.h"

#include <stdlib.h>

static co_t *co__new(void (*fn)(void *), void *arg, int detached)
{
    if (!fn) {
        errno = EINVAL;
        return NULL;
    }
    if ((!L.inited && co_init(0) < 0) || heap_reserve(&L.timers, L.alive + 1) < 0)
        return NULL;
    co_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->map = co__stack_get(&c->guarded);
    if (!c->map) {
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->id = ++L.next_id;
    c->fn = fn;
    c->arg = arg;
    c->detached = detached;
    heap_node_init(&c->timer);
    co__san_created(&c->san);
    co__ctx_init(c);
    L.alive++;
    co__ready(c);
    return c;
}

int co_go(void (*fn)(void *), void *arg)
{
    return co__new(fn, arg, 1) ? 0 : -1;
}

co_t *co_spawn(void (*fn)(void *), void *arg)
{
    return co__new(fn, arg, 0);
}

int co_join(co_t *c, int64_t deadline)
{
    if (!c || c->detached) {
        errno = EINVAL;
        return -1;
    }
    if (c->state != CO_DONE) {
        co_t *self = co__waiter();
        if (!self)
            return -1;
        if (c == self) {
            errno = EDEADLK;
            return -1;
        }
        if (c->joiner) {
            errno = EBUSY;
            return -1;
        }
        c->joiner = self;
        self->wait = CO_W_JOIN;
        self->join_target = c;
        int err = co__suspend(self, deadline);
        if (err) {
            errno = err;
            return -1;
        }
    }
    free(c); /* its stack went back when it finished */
    return 0;
}

/* A coroutine draining an I/O operation (uring.c: the kernel still owns its
 * buffer) is only marked: its next call fails, but it stays parked until the
 * kernel has given the operation back. */
int co_cancel(co_t *c)
{
    if (!c) {
        errno = EINVAL;
        return -1;
    }
    if (c->state == CO_DONE)
        return 0;
    c->cancelled = 1;
    if (c->wait != CO_W_DRAIN)
        co__wake(c, ECANCELED); /* does nothing unless it is parked */
    return 0;
}

int co_cancelled(void)
{
    return L.current ? L.current->cancelled : 0;
}

co_t *co_self(void)
{
    return L.current;
}

int co_yield(void)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    co__ready(c); /* to the back of the queue: everyone ready runs first */
    co__switch_away(c, 0);
    if (c->cancelled) {
        errno = ECANCELED;
        return -1;
    }
    return 0;
}
