/* offload.h — the loop's answer to CPU work: run a function on a small pool
 * of worker threads while the calling coroutine waits (asyncio's
 * run_in_executor). The loop thread stays free: every other coroutine keeps
 * running while the work is done elsewhere.
 *
 * How the coroutine waits: each call makes an eventfd; the coroutine waits
 * for it to become readable with co_wait_fd() (so the wait is an ordinary
 * wait of the runtime: a deadline, cancellation and EBADF apply to it), and
 * the worker writes to it when fn has returned.
 *
 * Why the data is COPIED: the wait may end before the work does (the
 * deadline passes, the coroutine is cancelled). The worker cannot be stopped
 * half-way through fn, so it must never touch the caller's memory: fn works
 * on a copy of `size` bytes of `data` held by the job, and the copy is written
 * back into `data` only if the coroutine is still waiting when fn returns.
 * The job is reference-counted (the waiter and the worker): whoever lets go
 * last frees it, so a result nobody waits for is dropped without a
 * use-after-free. A pointer inside data must point at memory that outlives
 * fn (the heap, a global) — or at nothing. */
#ifndef OFFLOAD_H
#define OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "coro.h"

enum { CO_OFFLOAD_MAX_DATA = 64 * 1024 }; /* the largest copy co_offload accepts */

/* Start the pool with `workers` threads (0: one per online CPU, at most 8).
 * Optional: the first co_offload starts it with the default. Once per
 * process; later calls change nothing. 0, or -1 + errno. */
int co_offload_init(int workers);

/* Run fn(copy of data) on a worker thread; the calling coroutine waits until
 * it is done, the deadline (co_now() milliseconds, -1: none) passes, or it is
 * cancelled. Returns 0 with fn's changes copied back into data; or -1 with
 * errno ETIMEDOUT or ECANCELED (fn may still run, on its copy: data is left
 * as it was; a job not started yet is skipped), EINVAL (size 0 or above
 * CO_OFFLOAD_MAX_DATA), ENOMEM/EMFILE (no job could be made: nothing ran). */
int co_offload(void (*fn)(void *data), void *data, size_t size, int64_t deadline);

/* work_do(units, msg, len) (work.h) on a worker: what echo-loop --offload
 * does with --work. Falls back to doing the work here, on the loop, when no
 * job can be made. 0, or -1 + errno (ETIMEDOUT, ECANCELED) as co_offload. */
int co_offload_work(long units, const void *msg, size_t len, int64_t deadline);

/* What the pool has done so far (for tests and demos). */
struct co_offload_stats {
    long ran;        /* jobs whose fn a worker ran to the end */
    long skipped;    /* jobs a worker took after their waiter had gone: fn never ran */
    long delivered;  /* results copied back to a waiting coroutine */
    long dropped;    /* waits that ended first (deadline, cancellation): result dropped */
    int workers;     /* threads in the pool */
};
void co_offload_stats(struct co_offload_stats *s);

#endif
