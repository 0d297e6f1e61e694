/* unit_offload.c — tests of co_offload (models/loop/offload.c), with real
 * worker threads: a result comes back; the loop keeps running while a
 * worker works; a deadline and a cancellation end the wait and drop the
 * result without touching the caller's memory (ASan and TSan watch this in
 * `make test-sanitize`); a job whose waiter left before a worker took it is
 * skipped; many coroutines offloading at once each get their own answer.
 * Timing is only bounded generously. */
#include "check.h"
#include "coro.h"
#include "offload.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { WORKERS = 2 };

struct sq {
    long in;       /* the question */
    long out;      /* the answer: in * in */
    long sleep_ms; /* how long the worker takes */
    int mark;      /* which job this is, for calls[] */
};

static int calls[16]; /* how many times fn ran per mark (atomically) */

static void square(void *data)
{
    struct sq *q = data;
    if (q->sleep_ms)
        usleep((useconds_t)q->sleep_ms * 1000);
    q->out = q->in * q->in;
    __atomic_add_fetch(&calls[q->mark], 1, __ATOMIC_RELAXED);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_loop(const char *name)
{
    if (co_run() < 0 || co_count() != 0) {
        char why[128];
        snprintf(why, sizeof why, "co_run: %s, %zu left", strerror(errno), co_count());
        check(0, name, why);
    }
}

/* Wait (off the loop) until the pool has no job of ours left running. */
static void settle(int mark, int want)
{
    for (int i = 0; i < 300 && __atomic_load_n(&calls[mark], __ATOMIC_RELAXED) < want; i++)
        usleep(10000);
}

/* --- a result comes back, and the loop ran meanwhile -------------------------------- */

static int ticks, ticker_stop;
static void ticker(void *arg)
{
    while (!ticker_stop && co_sleep(10) == 0)
        ticks++;
}

static int result_rc = -2;
static struct sq result_q;
static void result_main(void *arg)
{
    co_t *t = co_spawn(ticker, NULL);
    result_q = (struct sq){.in = 12345, .sleep_ms = 200, .mark = 0};
    result_rc = co_offload(square, &result_q, sizeof result_q, -1);
    ticker_stop = 1;
    co_join(t, -1);
}

static void test_result(void)
{
    co_go(result_main, NULL);
    run_loop("offload_result_loop");
    check(result_rc == 0 && result_q.out == 12345L * 12345L, "offload_result", "wrong answer or error");
    char why[96];
    snprintf(why, sizeof why, "only %d ticks of 10 ms during 200 ms of offloaded work", ticks);
    check(ticks >= 5, "offload_loop_not_blocked", why);
}

/* --- a deadline: the wait ends, the result is dropped ------------------------------------ */

static int dl_rc, dl_err;
static double dl_waited;
static long dl_out_after;
static void deadline_main(void *arg)
{
    /* on this coroutine's stack: gone once it returns, while the worker still works */
    struct sq q = {.in = 7, .out = -1, .sleep_ms = 600, .mark = 1};
    double t0 = now_s();
    dl_rc = co_offload(square, &q, sizeof q, co_now() + 50);
    dl_err = errno;
    dl_waited = now_s() - t0;
    dl_out_after = q.out;
}

static void test_deadline(void)
{
    struct co_offload_stats a, b;
    co_offload_stats(&a);
    co_go(deadline_main, NULL);
    run_loop("offload_deadline_loop");
    check(dl_rc == -1 && dl_err == ETIMEDOUT, "offload_deadline_etimedout", "co_offload did not fail with ETIMEDOUT");
    char why[96];
    snprintf(why, sizeof why, "waited %.3f s for a 50 ms deadline on 600 ms of work", dl_waited);
    check(dl_waited < 0.45, "offload_deadline_on_time", why);
    check(dl_out_after == -1, "offload_deadline_data_untouched", "the caller's data changed after the wait failed");
    settle(1, 1); /* the worker finishes on its copy; nothing of the caller's is touched */
    co_offload_stats(&b);
    check(b.dropped == a.dropped + 1 && b.ran == a.ran + 1 && b.delivered == a.delivered,
          "offload_deadline_dropped", "stats: want one more dropped and ran, no delivery");
}

/* --- cancellation ------------------------------------------------------------------------- */

static int cx_rc, cx_err;
static double cx_waited;
static void cancel_victim(void *arg)
{
    struct sq q = {.in = 3, .sleep_ms = 600, .mark = 2};
    double t0 = now_s();
    cx_rc = co_offload(square, &q, sizeof q, -1);
    cx_err = errno;
    cx_waited = now_s() - t0;
}
static void cancel_main(void *arg)
{
    co_t *v = co_spawn(cancel_victim, NULL);
    co_sleep(30);
    co_cancel(v);
    co_join(v, -1);
}

static void test_cancel(void)
{
    co_go(cancel_main, NULL);
    run_loop("offload_cancel_loop");
    check(cx_rc == -1 && cx_err == ECANCELED, "offload_cancel_ecanceled", "co_offload did not fail with ECANCELED");
    char why[96];
    snprintf(why, sizeof why, "the cancelled wait took %.3f s (work: 600 ms)", cx_waited);
    check(cx_waited < 0.45, "offload_cancel_prompt", why);
    settle(2, 1);
}

/* --- a job whose waiter left before any worker took it is skipped -------------------------- */

static int sk_rc;
static void busy(void *arg)
{
    struct sq q = {.in = 1, .sleep_ms = 500, .mark = 3};
    co_offload(square, &q, sizeof q, -1);
}
static void skip_main(void *arg)
{
    co_t *b[WORKERS];
    for (int i = 0; i < WORKERS; i++) /* every worker busy for 500 ms */
        b[i] = co_spawn(busy, NULL);
    co_sleep(20);
    struct sq q = {.in = 5, .mark = 4};
    sk_rc = co_offload(square, &q, sizeof q, co_now() + 30); /* queued, given up at 30 ms */
    for (int i = 0; i < WORKERS; i++)
        co_join(b[i], -1);
}

static void test_skip(void)
{
    struct co_offload_stats a, b;
    co_offload_stats(&a);
    co_go(skip_main, NULL);
    run_loop("offload_skip_loop");
    for (int i = 0; i < 50; i++) { /* let a worker reach the abandoned job */
        co_offload_stats(&b);
        if (b.skipped > a.skipped)
            break;
        usleep(10000);
    }
    check(sk_rc == -1 && b.skipped == a.skipped + 1 && calls[4] == 0, "offload_skip_abandoned",
          "the abandoned job was not skipped (or its fn ran)");
}

/* --- many at once, each its own answer ---------------------------------------------------- */

enum { MANY = 200 };
static int many_bad;
static void many_one(void *arg)
{
    long i = (long)(intptr_t)arg;
    struct sq q = {.in = i, .mark = 5};
    if (co_offload(square, &q, sizeof q, -1) < 0 || q.out != i * i)
        many_bad++;
}
static void many_main(void *arg)
{
    co_t *c[MANY];
    for (long i = 0; i < MANY; i++)
        c[i] = co_spawn(many_one, (void *)(intptr_t)i);
    for (long i = 0; i < MANY; i++)
        co_join(c[i], -1);
}

static void test_many(void)
{
    co_go(many_main, NULL);
    run_loop("offload_many_loop");
    char why[64];
    snprintf(why, sizeof why, "%d of %d wrong or failed", many_bad, MANY);
    check(many_bad == 0 && calls[5] == MANY, "offload_many", why);
}

/* --- bad arguments, and --work's helper ----------------------------------------------------- */

static int einval_rc, einval_err, work_rc;
static void args_main(void *arg)
{
    struct sq q = {0};
    einval_rc = co_offload(square, &q, 0, -1);
    einval_err = errno;
    work_rc = co_offload_work(1000, "hello", 5, -1);
}

static void test_args(void)
{
    struct co_offload_stats a, b;
    co_offload_stats(&a);
    co_go(args_main, NULL);
    run_loop("offload_args_loop");
    check(einval_rc == -1 && einval_err == EINVAL, "offload_size_zero_einval", "size 0 was accepted");
    co_offload_stats(&b);
    check(work_rc == 0 && b.delivered == a.delivered + 1, "offload_work", "co_offload_work did not run on a worker");
}

int main(void)
{
    plan(13);
    if (co_init(0) < 0 || co_offload_init(WORKERS) < 0) {
        check(0, "offload_init", strerror(errno));
        return 1;
    }
    struct co_offload_stats s;
    co_offload_stats(&s);
    check(s.workers == WORKERS, "offload_workers", "the pool does not have the threads asked for");
    test_result();
    test_deadline();
    test_cancel();
    test_skip();
    test_many();
    test_args();
    return check_done();
}
