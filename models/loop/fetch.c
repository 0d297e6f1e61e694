/* fetch-loop — download many URLs at once, one coroutine per request, all on
 * one thread (the runtime, runtime/coro.h; what asyncio.gather over aiohttp
 * does).
 *
 * The main coroutine starts a coroutine for each URL, but never more than C
 * at once: when C are running it waits on a channel until one of them says
 * it is done. Each coroutine runs the same fetch_one() as the other models;
 * the only difference is the I/O it is given: co_connect/co_read/co_write,
 * which, instead of blocking the thread, switch to another coroutine until
 * the kernel says the socket is ready. Nobody else runs while a coroutine
 * runs, so the totals need no lock.
 *
 * With --keepalive a connection must outlive a request, so the model becomes
 * C long-lived coroutines, each reusing its connection, taking the next job
 * number from a shared counter (no lock: only one coroutine runs at a time).
 *
 * Like echo.c here, this file is the loop, uring and loops models' fetcher
 * (their about.txt say `programs: loop`), built against each one's backend.
 * With --loops N (the loops model) the list is dealt out like cards: job j
 * goes to loop j mod N, each loop runs on a thread of its own with its own
 * share of the C requests in flight and totals of its own (`__thread`), so
 * the loops share nothing while they fetch; main() adds the totals up at the
 * end. The price: a loop that finishes early stays idle (nobody steals work).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "coro.h"
#include "fetch.h"
#include "flags.h"
#include "model.h"

#include <pthread.h>
#include <stdlib.h>

/* __thread: with --loops N, this file's coroutines run on N threads at
 * once, each on its own share of the list. */
static __thread struct fetch_run run; /* the list and the totals: one thread, no lock */
static __thread co_chan_t *done;      /* a coroutine sends one token here when it ends */
static __thread size_t next_job;      /* --keepalive: the next job to take */

/* ---- the coroutine runtime's I/O, in fetch_io's shape --------------------- */

static int loop_connect(const struct sockaddr_in *sa, int64_t deadline)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (co_connect(fd, (const struct sockaddr *)sa, sizeof *sa, deadline) < 0) {
        int saved = errno;
        co_close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static const struct fetch_io loop_io = {
    .now_ms = co_now,
    .connect = loop_connect,
    .read = co_read,
    .write = co_write,
    .close = co_close,
};

/* ---- the model ------------------------------------------------------------ */

/* One request: fetch, count, say we are done. */
static void loop_one(void *arg)
{
    struct fetch_result res;
    fetch_one(&run, &loop_io, (size_t)(uintptr_t)arg, NULL, &res);
    fetch_record(&run, &res);
    co_chan_send(done, NULL, -1); /* never waits: the channel holds C tokens */
}

/* --keepalive: one connection, many requests. */
static void loop_worker(void *arg)
{
    struct fetch_conn conn;
    fetch_conn_init(&conn);
    while (next_job < run.njobs) {
        struct fetch_result res;
        fetch_one(&run, &loop_io, next_job++, &conn, &res);
        fetch_record(&run, &res);
    }
    fetch_conn_close(&loop_io, &conn);
    co_chan_send(done, NULL, -1);
}

/* Start coroutines, at most run.inflight at once, and wait for them all. */
static void loop_main(void *arg)
{
    long running = 0;
    void *token;
    for (size_t job = 0; job < run.njobs; job++) {
        if (run.opt.keepalive && job >= (size_t)run.inflight)
            break; /* the workers take the rest themselves */
        if (running == run.inflight && co_chan_recv(done, &token, -1) == 0)
            running--;
        void (*fn)(void *) = run.opt.keepalive ? loop_worker : loop_one;
        if (co_go(fn, (void *)(uintptr_t)job) < 0) {
            struct fetch_result res = {.job = (uint32_t)job};
            snprintf(res.reason, sizeof res.reason, "co_go: %s", strerror(errno));
            if (!run.opt.keepalive)
                fetch_record(&run, &res);
            continue;
        }
        running++;
    }
    while (running > 0 && co_chan_recv(done, &token, -1) == 0)
        running--;
}

/* One loop: fetch run's jobs on a runtime of this thread's own. If the
 * runtime cannot start, its fetches report no result, and the summary says
 * so (exit 1). */
static void *loop_fetch(void *arg)
{
    struct fetch_run *share = arg;
    run = *share;
    next_job = 0;
    done = NULL;
    if (co_init(0) < 0 || !(done = co_chan_new((size_t)run.inflight)) ||
        co_go(loop_main, NULL) < 0 || co_run() < 0)
        fprintf(stderr, "%s: runtime failed: %s\n", run.prog, strerror(errno));
    co_chan_free(done);
    *share = run;
    return NULL;
}

/* --loops N: deal the list out, a thread per loop (loop 0 on this one; a
 * loop whose thread cannot start runs here too, after it), add up. */
static int loops_fetch(struct fetch_run *all, long nloops)
{
    long n = nloops < all->inflight ? nloops : all->inflight; /* each loop needs a request in flight */
    struct fetch_run *sh = calloc((size_t)n, sizeof *sh);
    pthread_t *tid = calloc((size_t)n, sizeof *tid);
    int *threaded = calloc((size_t)n, sizeof *threaded);
    for (long i = 0; sh && tid && threaded && i < n; i++)
        if (fetch_deal(all, &sh[i], i, n) < 0)
            sh = NULL; /* out of memory: said below, the process ends */
    if (!sh || !tid || !threaded) {
        fprintf(stderr, "%s: out of memory\n", all->prog);
        return 1;
    }
    for (long i = 1; i < n; i++)
        threaded[i] = pthread_create(&tid[i], NULL, loop_fetch, &sh[i]) == 0;
    for (long i = 0; i < n; i++)
        if (!threaded[i])
            loop_fetch(&sh[i]);
    for (long i = 0; i < n; i++) {
        if (threaded[i])
            pthread_join(tid[i], NULL);
        fetch_gather(all, &sh[i]);
    }
    free(sh);
    free(tid);
    free(threaded);
    return fetch_finish(all);
}

int main(int argc, char **argv)
{
    char about[600];
    snprintf(about, sizeof about,
             "Fetch every URL over %s, a coroutine per request in flight (at most C at once),\n"
             "%s. With --keepalive: C long-lived coroutines, each reusing its\n"
             "own connection, take URL numbers from a shared counter. Prints a summary; exit 0\n"
             "only if every fetch succeeded.",
             co_backend(),
             MODEL_LOOPS_FLAG ? "on N loops, one thread each, sharing out the URLs and -c" : "all on one thread");
    long nloops = flags_online_cpus();
    const struct flag mine[] = {
        {"loops", 0, FLAG_INT, &nloops, 1, 1024, "N",
         "event loops, one thread each, sharing out the URLs and -c; one per online CPU"},
        {0},
    };
    struct fetch_run all; /* the whole list and the totals; each loop's share is its `run` */
    int r = fetch_setup_extra(&all, "fetch-" MODEL_NAME, about, MODEL_LOOPS_FLAG ? mine : mine + 1, argc, argv);
    if (r < 0)
        return fetch_usage_error(&all, r);
    if (MODEL_LOOPS_FLAG)
        return loops_fetch(&all, nloops);
    loop_fetch(&all);
    return fetch_finish(&all);
}
