/* fetch-loop — download many URLs at once, one coroutine per request, all on
 * one thread over epoll (what asyncio.gather over aiohttp does).
 *
 * The main coroutine starts a coroutine for each URL, but never more than C
 * at once: when C are running it waits on a channel until one of them says
 * it is done. Each coroutine runs the same fetch_one() as the other models;
 * the only difference is the I/O it is given: co_connect/co_read/co_write,
 * which, instead of blocking the thread, switch to another coroutine until
 * epoll says the socket is ready. Nobody else runs while a coroutine runs, so
 * the totals need no lock.
 *
 * With --keepalive a connection must outlive a request, so the model becomes
 * C long-lived coroutines, each reusing its connection, taking the next job
 * number from a shared counter (no lock: only one coroutine runs at a time).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "coro.h"
#include "fetch.h"

static const char about[] =
    "Fetch every URL, a coroutine per request in flight (at most C at once), all on one\n"
    "thread over epoll. With --keepalive: C long-lived coroutines, each reusing its own\n"
    "connection, take URL numbers from a shared counter. Prints a summary; exit 0 only\n"
    "if every fetch succeeded.";

/* __thread: the loops model runs this file's coroutines on N threads at
 * once, each on its own share of the list (../loops/fetch.c); in this
 * one-thread fetcher it changes nothing. */
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

#ifndef FETCH_LOOP_NO_MAIN /* ../loops/fetch.c takes the functions above, not main() */
int main(int argc, char **argv)
{
    int r = fetch_setup(&run, "fetch-loop", about, argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    done = NULL;
    if (co_init(0) < 0 || !(done = co_chan_new((size_t)run.inflight)) ||
        co_go(loop_main, NULL) < 0 || co_run() < 0) {
        fprintf(stderr, "%s: runtime failed: %s\n", run.prog, strerror(errno));
        return 1;
    }
    co_chan_free(done);
    return fetch_finish(&run);
}
#endif
