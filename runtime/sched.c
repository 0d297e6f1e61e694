/* sched.c — the scheduler: who runs next, how a coroutine waits and is woken,
 * and the loop that asks the kernel (through the backend, backend.h) what
 * happened while everyone waited.
 *
 * A coroutine runs until it waits. Then it hands the CPU STRAIGHT to the next
 * ready coroutine (co__switch_away; libdill's way: one switch, not two via
 * the scheduler). The scheduler's own stack, co_run(), is entered only when
 * the loop must look outside: the turn is over and someone waits for a
 * descriptor or a timer, or co_stop(), or nobody is ready. Then co__poll()
 * asks the backend for I/O, fires the timers, and the next turn begins. */
#include "backend.h"
#include "core.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__thread struct co_loop co__L;

void co__die(const char *what)
{
    fprintf(stderr, "coro: internal error: %s\n", what);
    abort();
}

/* Switch to `to` (NULL: the scheduler). Every switch into a coroutine
 * refills its fairness budget (budget.c): a fresh turn. */
static void co__resume(co_t *from, co_t *to, int final)
{
    if (to) {
        to->state = CO_RUNNING;
        co__budget_refill();
    }
    co__jump(from, to, final);
}

/* The next coroutine to hand off to, or NULL for the scheduler. A turn that
 * ends with only CPU work left (coroutines that yield, nobody waiting on I/O,
 * a timer or an idle stack pool's trim) starts the next turn in place, and
 * marks the clock stale instead of reading it (co__now reads it when asked):
 * two coroutines ping-ponging never leave their stacks. */
static co_t *co__next(void)
{
    if (L.stop || !L.ready_head)
        return NULL;
    if (L.turn_left == 0) {
        int64_t trim_at;
        if (L.fd_waiters > 0 || heap_top(&L.timers) || co__stack_trim_due(&trim_at))
            return NULL;
        L.turn_left = L.nready; /* a new turn, with nothing to poll */
        L.now_stale = 1;
    }
    L.turn_left--;
    return co__ready_pop();
}

/* The running coroutine c stops running: it has queued itself (yield),
 * parked (a wait) or finished (`final`; L.dead is c). Checks its canary on
 * the way out (overflow.c). */
void co__switch_away(co_t *c, int final)
{
    if (!c->guarded)
        co__canary_check(c);
    co_t *next = co__next();
    if (next == c) { /* it was the only one ready: carry on */
        c->state = CO_RUNNING;
        co__budget_refill();
        return;
    }
    co__resume(c, next, final);
}

/* --- waiting and waking ------------------------------------------------------ */

/* Channel waiter queues: doubly linked so a wake can unlink from the middle. */
static void co__q_remove(struct co_waitq *q, co_t *c)
{
    if (c->q_prev)
        c->q_prev->q_next = c->q_next;
    else
        q->head = c->q_next;
    if (c->q_next)
        c->q_next->q_prev = c->q_prev;
    else
        q->tail = c->q_prev;
    c->q_next = c->q_prev = NULL;
}

/* Undo whatever registration the waiting coroutine c made. */
static void co__unwait(co_t *c)
{
    heap_remove(&L.timers, &c->timer);
    switch (c->wait) {
    case CO_W_FD:
        co__fd_unpark(c);
        break;
    case CO_W_DRAIN:
        L.fd_waiters--;
        break;
    case CO_W_JOIN:
        c->join_target->joiner = NULL;
        break;
    case CO_W_CHAN:
        co__q_remove(c->wait_q, c);
        break;
    case CO_W_NONE:
        break;
    }
    c->wait = CO_W_NONE;
}

/* Make a waiting coroutine ready; its wait returns `err` (0 = success). */
void co__wake(co_t *c, int err)
{
    if (c->state != CO_WAITING)
        return;
    co__unwait(c);
    c->wake_err = err;
    co__ready(c);
}

/* Park the running coroutine (the caller has filled in c->wait and friends)
 * until co__wake, or until `deadline` (ETIMEDOUT). Returns the wake reason. */
int co__suspend(co_t *c, int64_t deadline)
{
    /* Room was reserved when the coroutine was created: this cannot fail. */
    if (deadline >= 0 && heap_push(&L.timers, &c->timer, deadline) < 0)
        co__die("timer heap full");
    c->state = CO_WAITING;
    co__switch_away(c, 0);
    return c->wake_err;
}

/* --- the loop ---------------------------------------------------------------- */

/* Every coroutine starts here (via co__stub) and ends here. */
void co__entry(void)
{
    co_t *c = L.current;
    co__landed(c);
    c->fn(c->arg);
    c->state = CO_DONE;
    L.alive--;
    if (c->joiner)
        co__wake(c->joiner, 0);
    L.dead = c; /* whoever runs next gives its stack back */
    co__switch_away(c, 1);
    co__die("a finished coroutine was resumed");
}

/* Run a turn: the coroutines that are ready now, each handing off to the
 * next (co__next). Those made ready meanwhile (a co_yield, a new co_go) wait
 * for the next turn, so I/O is polled between. */
static void co__run_ready(void)
{
    L.turn_left = L.nready;
    while (L.turn_left > 0 && L.ready_head && !L.stop) {
        L.turn_left--;
        co__resume(NULL, co__ready_pop(), 0);
    }
    L.turn_left = 0;
}

/* One look at the outside world: the backend's I/O, then the timers. */
static int co__poll(void)
{
    L.now = co__clock();
    L.now_stale = 0;
    if (L.nready > 0 && L.fd_waiters == 0) {
        /* Only CPU work and timers: no need to ask the kernel. */
        co__timers_expire();
        return 0;
    }
    int timeout = co__timers_timeout();
    if (timeout < 0 && L.fd_waiters == 0) {
        errno = EDEADLK; /* everyone waits on a channel or join, for ever */
        return -1;
    }
    /* A pool worth trimming wakes the loop when it has been idle long enough. */
    int64_t trim_at;
    if (co__stack_trim_due(&trim_at)) {
        int64_t t = trim_at - L.now;
        if (t < 0)
            t = 0;
        if (timeout < 0 || t < timeout)
            timeout = (int)t;
    }
    int r = co__backend_poll(timeout);
    L.now = co__clock();
    L.now_stale = 0;
    if (r < 0)
        return -1;
    co__timers_expire();
    co__backend_tick();
    co__stack_trim();
    return 0;
}

/* --- the public API: the runtime -------------------------------------------- */

int co_init(size_t stack_bytes)
{
    if (L.alive > 0 || L.running) {
        errno = EBUSY; /* the stack size of live coroutines cannot change */
        return -1;
    }
    if (stack_bytes == 0)
        stack_bytes = CO_STACK_DEFAULT;
    if (stack_bytes < CO_STACK_MIN) {
        errno = EINVAL;
        return -1;
    }
    if (!L.inited) {
        if (co__backend_init() < 0)
            return -1;
        L.page = (size_t)sysconf(_SC_PAGESIZE);
        co__overflow_install();
    }
    if (co__stack_init(stack_bytes) < 0)
        return -1;
    L.now = co__clock();
    L.now_stale = 0;
    L.inited = 1;
    return 0;
}

int co_run(void)
{
    if (!L.inited && co_init(0) < 0)
        return -1;
    if (L.running) {
        errno = EBUSY; /* co_run inside co_run */
        return -1;
    }
    L.running = 1;
    L.stop = 0;
    co__san_sched_enter(&L.san);
    int rc = 0;
    L.now = co__clock();
    L.now_stale = 0;
    while (!L.stop && L.alive > 0) {
        co__run_ready();
        if (L.stop || L.alive == 0)
            break;
        if (co__poll() < 0) {
            rc = -1;
            break;
        }
    }
    L.running = 0;
    return rc;
}

void co_stop(void)
{
    L.stop = 1; /* one store: safe from a signal handler on this thread */
}

size_t co_count(void)
{
    return L.alive;
}
