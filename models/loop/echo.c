/* echo-loop — the echo server with one coroutine per connection, all on one
 * thread (the runtime, runtime/coro.h).
 *
 * serve() reads like the blocking version in ../threads/echo.c, line for
 * line. The one difference: co_read() and co_write() never block the thread.
 * When there is nothing to read, the coroutine WAITS — it switches to another
 * coroutine that can run, and the runtime resumes it when the kernel says its
 * socket is ready. Coroutines decide when to switch (cooperative), so one
 * thread and one core serve every connection, with a small stack each and no
 * lock anywhere.
 *
 * Three models run this same file (their about.txt say `programs: loop`),
 * each built against its own choice of the runtime's backend:
 *   loop    over epoll;
 *   uring   over io_uring: co_read and co_write are submissions, co_accept
 *           takes connections from a multishot accept;
 *   loops   over epoll, N loops (--loops, one per CPU): N threads, each
 *           running the loop below on a listening socket of its own, all
 *           bound to one port with SO_REUSEPORT; the kernel deals the
 *           connections out. A connection lives its whole life on the loop
 *           that accepted it, and the loops share nothing while they serve.
 * The build gives the model's name, its registry entry and its loop count
 * in model.h (scripts/models.sh --header). */
#include "coro.h"
#include "model.h"
#include "net.h"
#include "offload.h"
#include "server.h"
#include "work.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "echo-" MODEL_NAME;
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};
/* __thread: with --loops N, serve(), acceptor() and stopper() run on N
 * threads at once, each with descriptors of its own. */
static __thread int lfd;   /* the listening socket */
static __thread int sigfd; /* becomes readable on SIGINT/SIGTERM */

/* One connection's whole life: echo until the peer closes or fails. Each
 * co_read/co_write may switch to other coroutines while it waits. */
static void serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[SERVER_BUF];
    for (;;) {
        ssize_t n = co_read(fd, buf, sizeof buf, -1);
        if (n <= 0) /* 0: the peer closed its side (all it sent was echoed); <0: reset */
            break;
        if (opts.offload) /* --offload: on a worker thread; this coroutine waits, the others run */
            co_offload_work(opts.work, buf, (size_t)n, -1);
        else
            work_do(opts.work, buf, (size_t)n);
        if (co_write(fd, buf, (size_t)n, -1) < 0)
            break;
    }
    co_close(fd);
}

/* Accept connections and start a coroutine for each. */
static void acceptor(void *arg)
{
    for (;;) {
        int fd = co_accept(lfd, -1);
        if (fd < 0) {
            int r = server_accept_failed(lfd, errno, prog);
            if (r < 0) {
                co_stop();
                return;
            }
            if (r > 0)
                co_sleep(100); /* out of descriptors: refuse for a moment, serve the rest */
            continue;
        }
        if (co_go(serve, (void *)(intptr_t)fd) < 0) { /* out of memory for a stack */
            server_complain(prog, "co_go", errno);
            co_close(fd);
            co_sleep(100);
        }
    }
}

/* Wait for SIGINT/SIGTERM, then stop the loop: co_run() returns. */
static void stopper(void *arg)
{
    if (co_wait_fd(sigfd, CO_READ, -1) == 0)
        co_stop();
}

/* What main() prepares for one loop before it starts. */
struct loop {
    int lfd;       /* its listening socket */
    int sigfd;     /* its own signalfd */
    pthread_t tid; /* the thread running it (loop 0 runs on main's) */
};

/* One loop: its own runtime, acceptor and stopper, until a signal. A loop
 * that cannot run asks the process to stop (the signal every loop's stopper
 * waits for): a dead loop's socket would still be given its share of the
 * connections, and nobody would accept them. NULL, or (void *)1 if it failed. */
static void *loop_run(void *arg)
{
    struct loop *l = arg;
    lfd = l->lfd;
    sigfd = l->sigfd;
    if (co_init((size_t)opts.stack_kib * 1024) < 0 || co_go(acceptor, NULL) < 0 ||
        co_go(stopper, NULL) < 0 || co_run() < 0) {
        fprintf(stderr, "%s: the runtime failed: %s\n", prog, strerror(errno));
        kill(getpid(), SIGTERM);
        return (void *)1;
    }
    return NULL;
}

/* Every loop's signalfd and listening socket: one plain socket, or with
 * --loops one per loop on a shared port. 0, or -1 with the reason in why. */
static int loops_listen(struct loop *loops, long n, char *why, size_t len)
{
    int fds[1024];
    for (long i = 0; i < n; i++)
        if ((loops[i].sigfd = server_signals(0)) < 0) { /* blocks the signals in every thread to come */
            snprintf(why, len, "signalfd: %s", strerror(errno));
            return -1;
        }
    if (opts.loops > 0 && server_listen_shared(&opts, fds, n, why, len) < 0)
        return -1;
    if (opts.loops == 0 && (fds[0] = server_listen(&opts, why, len)) < 0)
        return -1;
    for (long i = 0; i < n; i++) {
        loops[i].lfd = fds[i];
        net_set_nonblock(fds[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    char about[400];
    snprintf(about, sizeof about,
             "An echo server over %s; one connection is\n%s.\n"
             "Whatever arrives is sent back byte for byte. SIGINT or SIGTERM stops it.",
             co_backend(), MODEL_CONNECTION);
    opts.offload_flag = 1;
    opts.loops = MODEL_LOOPS_FLAG ? flags_online_cpus() : 0; /* 0: no --loops flag, one loop */
    int pr = server_parse(&opts, prog, about, argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    long n = opts.loops > 0 ? opts.loops : 1;
    struct loop *loops = calloc((size_t)n, sizeof *loops);
    char why[160];
    if (!loops) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    if (loops_listen(loops, n, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    /* Loop 0 runs on this thread; the others get one each. */
    int status = 0;
    long started = 1;
    for (; started < n; started++) {
        int err = pthread_create(&loops[started].tid, NULL, loop_run, &loops[started]);
        if (err != 0) {
            fprintf(stderr, "%s: cannot start loop %ld: %s\n", prog, started, strerror(err));
            kill(getpid(), SIGTERM); /* stop the loops already running */
            status = 1;
            break;
        }
    }
    if (loop_run(&loops[0]) != NULL)
        status = 1;
    for (long i = 1; i < started; i++) {
        void *r;
        pthread_join(loops[i].tid, &r);
        if (r != NULL)
            status = 1;
    }
    free(loops);
    return status;
}
