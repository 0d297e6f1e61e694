/* echo-loop — the echo server with one coroutine per connection, all on one
 * thread over epoll.
 *
 * serve() reads like the blocking version in ../threads/echo.c, line for
 * line. The one difference: co_read() and co_write() never block the thread.
 * When there is nothing to read, the coroutine WAITS — it switches to another
 * coroutine that can run, and the runtime (coro.c) resumes it when epoll says
 * its socket is ready. Coroutines decide when to switch (cooperative), so one
 * thread and one core serve every connection, with a small stack each and no
 * lock anywhere. */
#include "coro.h"
#include "net.h"
#include "offload.h"
#include "server.h"
#include "work.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *prog = "echo-loop";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};
/* __thread: the loops model runs serve(), acceptor() and stopper() on N
 * threads at once, each with descriptors of its own (../loops/echo.c); in
 * this one-thread server it changes nothing. */
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

#ifndef ECHO_LOOP_NO_MAIN /* ../loops/echo.c takes the functions above, not main() */
int main(int argc, char **argv)
{
    opts.offload_flag = 1;
    int pr = server_parse(&opts, prog,
                          "An echo server with one coroutine per connection, all on one thread over\n"
                          "epoll: whatever arrives is sent back byte for byte. SIGINT or SIGTERM stops it.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    sigfd = server_signals(0);
    char why[160];
    lfd = server_listen(&opts, why, sizeof why);
    if (lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    net_set_nonblock(lfd);
    if (co_init((size_t)opts.stack_kib * 1024) < 0 || co_go(acceptor, NULL) < 0 ||
        co_go(stopper, NULL) < 0) {
        fprintf(stderr, "%s: cannot start the runtime: %s\n", prog, strerror(errno));
        return 1;
    }
    return co_run() < 0 ? 1 : 0;
}
#endif
