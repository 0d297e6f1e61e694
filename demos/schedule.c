/* schedule.c — "Hello!" after 1 s and "Hi!" after 2 s: one after the other
 * takes 3 s, at the same time takes 2 s. The same two waits are run
 * concurrently three ways — coroutines in the loop, threads, processes — and
 * each prints its total, so the class sees that waiting overlaps in all three
 * models; only who does the switching differs.
 *
 * This is the first example of Python's asyncio tutorial, say_after(), in C. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "coro.h"
#include "demo.h"
#include "flags.h"

struct sched_job {
    long delay_ms;    /* how long to wait before speaking */
    const char *text; /* what to say */
};

static long sched_unit_ms = 1000; /* --unit-ms: 1 s by default, smaller for quick runs */

/* --- the loop: coroutines that wait with co_sleep --------------------------- */

/* say_after in the loop: co_sleep suspends this coroutine only. */
static void sched_co_say(void *arg)
{
    const struct sched_job *j = arg;
    if (co_sleep(j->delay_ms) < 0)
        return;
    demo_say("%s", j->text);
}

/* Sequential: one coroutine awaits each say_after in turn (3 s). */
static void sched_co_sequential(void *arg)
{
    struct sched_job *jobs = arg;
    sched_co_say(&jobs[0]);
    sched_co_say(&jobs[1]);
}

/* Concurrent: two coroutines, started together, joined (2 s). */
static void sched_co_concurrent(void *arg)
{
    struct sched_job *jobs = arg;
    co_t *a = co_spawn(sched_co_say, &jobs[0]);
    co_t *b = co_spawn(sched_co_say, &jobs[1]);
    if (a)
        co_join(a, -1);
    if (b)
        co_join(b, -1);
}

static int sched_run_loop(void (*main_fn)(void *), struct sched_job *jobs)
{
    if (co_go(main_fn, jobs) < 0 || co_run() < 0) {
        fprintf(stderr, "demo-schedule: loop: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* --- threads: each blocks in nanosleep, the kernel runs the other ----------- */

static void *sched_thread_say(void *arg)
{
    const struct sched_job *j = arg;
    demo_block_ms(j->delay_ms);
    demo_say("%s", j->text);
    return NULL;
}

static int sched_run_threads(struct sched_job *jobs)
{
    pthread_t t[2];
    int started = 0, rc = 0;
    for (; started < 2; started++) {
        int err = pthread_create(&t[started], NULL, sched_thread_say, &jobs[started]);
        if (err) {
            fprintf(stderr, "demo-schedule: pthread_create: %s\n", strerror(err));
            rc = -1;
            break;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    return rc;
}

/* --- processes: each child blocks in nanosleep, then exits ----------------- */

static int sched_run_fork(struct sched_job *jobs)
{
    pid_t pid[2];
    int started = 0, rc = 0;
    for (; started < 2; started++) {
        pid[started] = fork();
        if (pid[started] < 0) {
            fprintf(stderr, "demo-schedule: fork: %s\n", strerror(errno));
            rc = -1;
            break;
        }
        if (pid[started] == 0) {
            sched_thread_say(&jobs[started]);
            _exit(0);
        }
    }
    for (int i = 0; i < started; i++)
        waitpid(pid[i], NULL, 0);
    return rc;
}

/* --- the lesson ------------------------------------------------------------ */

/* Run one variant between a "started" and a "total" line. */
static int sched_variant(const char *title, const char *tag, int (*run)(struct sched_job *),
                         struct sched_job *jobs)
{
    demo_title(title);
    long long t0 = net_now_ns();
    demo_say("started");
    int rc = run(jobs);
    demo_say("total %.3f s  [%s]", demo_since(t0), tag);
    return rc;
}

static int sched_loop_sequential(struct sched_job *j) { return sched_run_loop(sched_co_sequential, j); }
static int sched_loop_concurrent(struct sched_job *j) { return sched_run_loop(sched_co_concurrent, j); }

int main(int argc, char **argv)
{
    const char *model = "all";
    char models_help[512];
    const struct flag flags[] = {
        {"model", 'm', FLAG_STR, &model, 0, 0, "M", demo_models_help(models_help, sizeof models_help)},
        {"unit-ms", 0, FLAG_INT, &sched_unit_ms, 1, 10000, "MS", "the '1 s' of the lesson, in milliseconds"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-schedule", "[flags]",
        "Say \"Hello!\" after 1 s and \"Hi!\" after 2 s: first one after the other\n"
        "(3 s in total), then concurrently (2 s) with coroutines, threads and\n"
        "processes. Every line carries the wall clock: the timing is the lesson.\n"
        "A model runs the variant of the unit its about.txt names for a connection.",
        flags, 0};
    static const char *const units[] = {"coroutine", "thread", "process", NULL};
    int fr = demo_parse(&spec, argc, argv, &model, units);
    if (fr < 0)
        return flags_exit(fr);

    struct sched_job jobs[2] = {{1 * sched_unit_ms, "Hello!"}, {2 * sched_unit_ms, "Hi!"}};
    if (co_init(0) < 0) {
        fprintf(stderr, "demo-schedule: co_init: %s\n", strerror(errno));
        return 1;
    }
    int rc = 0;
    char title[160], tag[80];
    const char *m;
    if ((m = demo_model_for(model, "coroutine"))) {
        snprintf(tag, sizeof tag, "sequential %s", m);
        rc |= sched_variant("sequential: one coroutine awaits say_after(1 s), then say_after(2 s)", tag,
                            sched_loop_sequential, jobs);
        snprintf(title, sizeof title, "concurrent, %s: two coroutines on one thread, co_sleep", m);
        snprintf(tag, sizeof tag, "concurrent %s", m);
        rc |= sched_variant(title, tag, sched_loop_concurrent, jobs);
    }
    if ((m = demo_model_for(model, "thread"))) {
        snprintf(title, sizeof title, "concurrent, %s: two pthreads, blocking nanosleep", m);
        snprintf(tag, sizeof tag, "concurrent %s", m);
        rc |= sched_variant(title, tag, sched_run_threads, jobs);
    }
    if ((m = demo_model_for(model, "process"))) {
        snprintf(title, sizeof title, "concurrent, %s: two child processes, blocking nanosleep", m);
        snprintf(tag, sizeof tag, "concurrent %s", m);
        rc |= sched_variant(title, tag, sched_run_fork, jobs);
    }
    return rc ? 1 : 0;
}
