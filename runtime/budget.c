/* budget.c — the fairness budget (after Tokio's cooperative budget).
 *
 * An I/O call that finds its data or room ready completes without waiting,
 * so a coroutine fed by a peer that never pauses would never wait: it would
 * keep the thread, the clock (read once per turn) would stand still, its
 * deadline would never be checked, and nobody else would run — not even the
 * coroutine that handles SIGTERM. So every I/O call spends one unit of a
 * budget of CO_BUDGET, which is refilled whenever the scheduler resumes the
 * coroutine (after any real wait or yield: co__budget_refill in sched.c);
 * every CO_CLOCK_EVERY units it also reads the clock, and the turn is over
 * after CO_SLICE_MS too (a clock read costs ~80 ns on a virtual machine: too
 * dear for every call, cheap once per eight). The call that finds the budget
 * spent first goes round the loop once, as co_yield() does — everyone ready
 * runs, the kernel is asked, the clock is read — and then fails with
 * ECANCELED if the coroutine was cancelled meanwhile, or ETIMEDOUT if its
 * deadline has passed. Checked before the I/O, never after, so no byte read
 * is ever thrown away. A coroutine that waits now and then (every echo or
 * fetch under normal load) never reaches the clock check. */
#include "core.h"

/* Has c been cancelled, or has its deadline passed by the clock of this
 * turn? -1 with ECANCELED or ETIMEDOUT, else 0. Costs no system call. */
int co__expired(const co_t *c, int64_t deadline)
{
    if (c->cancelled) {
        errno = ECANCELED;
        return -1;
    }
    if (deadline >= 0 && co__now() >= deadline) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

int co__budget(co_t *c, int64_t deadline)
{
    /* First the free check against the clock of this turn: a coroutine woken
     * by data every turn is never woken by its timer (events are handed out
     * before timers fire), so a peer that drips fast enough would keep it
     * past its deadline. */
    if (co__expired(c, deadline) < 0)
        return -1;
    if (L.budget > 0) {
        L.budget--;
        if (L.budget % CO_CLOCK_EVERY != 0 || co__clock() - co__now() < CO_SLICE_MS)
            return 0;
    }
    co__ready(c);
    co__switch_away(c, 0); /* back with a full budget */
    if (co__expired(c, deadline) < 0)
        return -1;
    L.budget--;
    return 0;
}
