/* cancel.c — a worker prints "working" every second until it is cancelled
 * after 3.5 s. In the loop, co_cancel() makes the worker's current wait (its
 * co_sleep) fail with ECANCELED: the worker sees an error return at its await
 * point, cleans up, and returns — asyncio's Task.cancel() and CancelledError.
 * The threads analogue uses pthread_cancel(), which acts at the next
 * cancellation point (nanosleep) and runs the cleanup handlers. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "demo.h"
#include "flags.h"

static long cancel_every_ms = 1000; /* --every-ms: time between "working" lines */
static long cancel_after_ms = 3500; /* --after-ms: when the worker is cancelled */

/* --- the loop ------------------------------------------------------------- */

/* The worker owns a buffer it must give back however it stops. */
static void cancel_co_worker(void *arg)
{
    char *buf = malloc(4096);
    if (!buf)
        return;
    for (;;) {
        demo_say("worker: working");
        if (co_sleep(cancel_every_ms) < 0)
            break; /* the await point: ECANCELED once cancelled */
    }
    int err = errno; /* co_cancelled() tells a cancel from any other failure */
    demo_say("worker: co_sleep failed with %s: %s, cleaning up", err == ECANCELED ? "ECANCELED" : strerror(err),
             co_cancelled() ? "cancelled" : "not a cancel");
    free(buf);
    demo_say("worker: buffer freed, returning");
}

/* main: start the worker, wait, cancel it, wait for it to finish. */
static void cancel_co_main(void *arg)
{
    co_t *w = co_spawn(cancel_co_worker, NULL);
    if (!w) {
        fprintf(stderr, "demo-cancel: co_spawn: %s\n", strerror(errno));
        return;
    }
    co_sleep(cancel_after_ms);
    demo_say("main: co_cancel(worker)");
    co_cancel(w);
    if (co_join(w, co_now() + 5000) < 0) {
        fprintf(stderr, "demo-cancel: co_join: %s\n", strerror(errno));
        return;
    }
    demo_say("main: worker joined");
}

static int cancel_run_loop(void)
{
    demo_title("loop: co_cancel() makes the worker's co_sleep fail with ECANCELED");
    if (co_init(0) < 0 || co_go(cancel_co_main, NULL) < 0 || co_run() < 0) {
        fprintf(stderr, "demo-cancel: loop: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* --- threads -------------------------------------------------------------- */

/* Runs inside the cancelled thread, as pthread_cancel unwinds it. */
static void cancel_thread_cleanup(void *buf)
{
    demo_say("worker: cancelled inside nanosleep, cleaning up");
    free(buf);
    demo_say("worker: buffer freed, thread ends");
}

static void *cancel_thread_worker(void *arg)
{
    char *buf = malloc(4096);
    if (!buf)
        return NULL;
    pthread_cleanup_push(cancel_thread_cleanup, buf);
    for (;;) {
        demo_say("worker: working");
        demo_block_ms(cancel_every_ms); /* nanosleep: a cancellation point */
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static int cancel_run_threads(void)
{
    demo_title("threads: pthread_cancel() acts at the worker's next cancellation point");
    pthread_t t;
    int err = pthread_create(&t, NULL, cancel_thread_worker, NULL);
    if (err) {
        fprintf(stderr, "demo-cancel: pthread_create: %s\n", strerror(err));
        return -1;
    }
    demo_block_ms(cancel_after_ms);
    demo_say("main: pthread_cancel(worker)");
    pthread_cancel(t);
    void *res;
    pthread_join(t, &res);
    demo_say("main: worker joined (%s)", res == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "returned");
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = "all";
    char models_help[512];
    const struct flag flags[] = {
        {"model", 'm', FLAG_STR, &model, 0, 0, "M", demo_models_help(models_help, sizeof models_help)},
        {"every-ms", 0, FLAG_INT, &cancel_every_ms, 10, 10000, "MS", "time between \"working\" lines"},
        {"after-ms", 0, FLAG_INT, &cancel_after_ms, 0, 60000, "MS", "cancel the worker after this long"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-cancel", "[flags]",
        "A worker says \"working\" every second and is cancelled after 3.5 s: in the\n"
        "loop its co_sleep fails with ECANCELED and it cleans up; with threads\n"
        "pthread_cancel unwinds it through its cleanup handler. A model runs the\n"
        "variant of the unit its about.txt names (coroutine or thread).",
        flags, 0};
    static const char *const units[] = {"coroutine", "thread", NULL};
    int fr = demo_parse(&spec, argc, argv, &model, units);
    if (fr < 0)
        return flags_exit(fr);

    int rc = 0;
    if (demo_model_for(model, "coroutine"))
        rc |= cancel_run_loop();
    if (demo_model_for(model, "thread"))
        rc |= cancel_run_threads();
    return rc ? 1 : 0;
}
