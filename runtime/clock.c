/* clock.c — the clock and the timers. Time is monotonic milliseconds, read
 * once per loop turn and cached (co__now in core.h; a turn a hand-off starts
 * in place only marks it stale). Every wait may have a deadline; a waiting
 * coroutine with one sits in a min-heap keyed by it (models/common/heap.h),
 * so the nearest deadline is the heap's top: it is how long the loop may
 * sleep in the kernel, and the waits whose deadline has passed are woken with
 * ETIMEDOUT after each look at the kernel. */
#include "core.h"

#include <limits.h>

/* The coroutine whose timer node n is. */
static co_t *co__of_timer(struct heap_node *n)
{
    return heap_entry(n, co_t, timer);
}

/* How long the loop may sleep in the kernel: not at all if something is
 * ready, until the nearest deadline if there is one, else -1 (for ever). */
int co__timers_timeout(void)
{
    if (L.nready > 0)
        return 0;
    struct heap_node *t = heap_top(&L.timers);
    if (!t)
        return -1;
    int64_t ms = t->key - L.now;
    if (ms < 0)
        return 0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void co__timers_expire(void)
{
    struct heap_node *t;
    while ((t = heap_top(&L.timers)) && t->key <= L.now)
        co__wake(co__of_timer(t), ETIMEDOUT);
}

int64_t co_now(void)
{
    return L.inited ? co__now() : co__clock();
}

int co_sleep_until(int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    c->wait = CO_W_NONE;
    /* A deadline already passed still goes round the loop once: sleep(0)
     * lets the others run, as asyncio.sleep(0) does. */
    int err = co__suspend(c, deadline);
    if (err == ETIMEDOUT)
        return 0;
    errno = err ? err : EINTR;
    return -1;
}

int co_sleep(int64_t ms)
{
    return co_sleep_until(co_now() + (ms > 0 ? ms : 0));
}
