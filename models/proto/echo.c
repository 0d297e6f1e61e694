/* echo-proto — the echo server with one stackless task per connection, all
 * on one thread over epoll.
 *
 * Open it beside ../loop/echo.c. There, serve() is a coroutine with a stack of
 * its own: co_read() switches away in the middle of the function and comes
 * back to it, locals and all. Here, serve() is a protothread (pt.h): to wait,
 * it RETURNS to the loop (tasks.c), and the loop calls it again when epoll
 * says its socket is ready; PT_WAIT_UNTIL jumps back to the line it left.
 * Its frame is gone in between, so everything that must outlive a wait lives
 * in struct conn — that is the price, and what it buys: an idle connection is
 * that struct and its socket, no stack at all. Read buffers need not survive
 * a wait, so every task reads into the one buffer below. */
#include "net.h"
#include "server.h"
#include "tasks.h"
#include "work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *prog = "echo-proto";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};
static int lfd;              /* the listening socket */
static int sigfd;            /* becomes readable on SIGINT/SIGTERM */
static char buf[SERVER_BUF]; /* the one read buffer every task shares: nothing in it survives a wait */

/* What one connection keeps across its waits: the task, and the bytes the
 * kernel would not take yet. */
struct conn {
    struct task task; /* the runtime's part: the saved line, the socket, the links */
    char *pend;       /* bytes read but not yet written back, NULL when none */
    size_t off;       /* where the unwritten part of pend starts */
    size_t len;       /* where it ends */
};

/* Keep the n bytes at p that write() did not take: they must outlive a wait,
 * and the shared buffer will not. 0, or -1 (out of memory). */
static int keep(struct conn *c, const char *p, size_t n)
{
    c->pend = malloc(n);
    if (!c->pend)
        return -1;
    memcpy(c->pend, p, n);
    c->off = 0;
    c->len = n;
    return 0;
}

/* Write what is kept: 1 when all of it is gone, 0 when the kernel takes no
 * more for now (wait), -1 when the peer is gone. */
static int flush(struct conn *c)
{
    ssize_t w = write(c->task.fd, c->pend + c->off, c->len - c->off);
    if (task_again(w))
        return 0;
    if (w < 0)
        return -1;
    c->off += (size_t)w;
    if (c->off < c->len)
        return 0;
    free(c->pend);
    c->pend = NULL;
    return 1;
}

/* One connection's whole life: echo until the peer closes or fails. Each
 * PT_WAIT_UNTIL returns to the loop when its call finds nothing to do (EAGAIN)
 * and resumes on that line at the next event. n, w and r are locals: each is
 * set in the condition that ends a wait and used before the next one. */
static int serve(struct task *t)
{
    struct conn *c = (struct conn *)t;
    ssize_t n, w;
    int r;
    PT_BEGIN(&t->pt);
    for (;;) {
        PT_WAIT_UNTIL(&t->pt, !task_again(n = read(t->fd, buf, sizeof buf)));
        if (n <= 0) /* 0: the peer closed its side (all it sent was echoed); <0: reset */
            break;
        work_do(opts.work, buf, (size_t)n);
        w = write(t->fd, buf, (size_t)n);
        if (w < 0 && !task_again(w))
            break;
        if (w < 0)
            w = 0; /* EAGAIN: the kernel took nothing */
        if (w < n) { /* it took part: keep the rest, read nothing until it is gone */
            if (keep(c, buf + w, (size_t)(n - w)) < 0)
                break;
            PT_WAIT_UNTIL(&t->pt, (r = flush(c)) != 0);
            if (r < 0)
                break;
        }
        if (task_tired(t)) /* 16 messages or 10 ms in this turn: let the others run */
            PT_YIELD(&t->pt);
    }
    PT_END(&t->pt);
}

/* After serve() ended: close the socket (which takes it out of epoll), free. */
static void conn_end(struct task *t)
{
    struct conn *c = (struct conn *)t;
    close(t->fd);
    free(c->pend);
    free(c);
}

/* Start a task for a new connection: 0, or -1 (out of memory). */
static int conn_start(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c || task_start(&c->task, serve, conn_end, fd) < 0) {
        free(c);
        return -1;
    }
    net_set_nodelay(fd);
    return 0;
}

/* Accept connections and start a task for each. A task too, with no state
 * but its saved line: fd and r are set after a wait and used before the next. */
static int acceptor(struct task *t)
{
    int fd, r;
    PT_BEGIN(&t->pt);
    for (;;) {
        PT_WAIT_UNTIL(&t->pt, !task_again(fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)));
        if (fd >= 0 && conn_start(fd) < 0) { /* out of memory for the task */
            server_complain(prog, "task_start", errno);
            close(fd);
            r = 1;
        } else {
            r = fd < 0 ? server_accept_failed(lfd, errno, prog) : 0;
        }
        if (r < 0) {
            tasks_stop();
            PT_EXIT(&t->pt);
        }
        if (r > 0) { /* out of descriptors or memory: refuse for a moment, serve the rest */
            task_deadline(t, tasks_now() + 100);
            PT_WAIT_UNTIL(&t->pt, t->expired);
        }
        if (task_tired(t))
            PT_YIELD(&t->pt);
    }
    PT_END(&t->pt);
}

/* Wait for SIGINT/SIGTERM, then stop the loop: tasks_run() returns. */
static int stopper(struct task *t)
{
    PT_BEGIN(&t->pt);
    PT_WAIT_UNTIL(&t->pt, server_signal_read(sigfd) != 0);
    tasks_stop();
    PT_END(&t->pt);
}

int main(int argc, char **argv)
{
    static struct task accepting, stopping;
    int pr = server_parse(&opts, prog,
                          "An echo server with one stackless task per connection, all on one thread\n"
                          "over epoll: whatever arrives is sent back byte for byte. A task has no\n"
                          "stack, so --stack-kib is checked like the other models' and ignored.\n"
                          "SIGINT or SIGTERM stops it.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    net_raise_nofile(); /* room for 10000 clients: the soft descriptor limit up to the hard one */
    sigfd = server_signals(0);
    char why[160];
    lfd = server_listen(&opts, why, sizeof why);
    if (lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    net_set_nonblock(lfd);
    if (sigfd < 0 || tasks_init() < 0 || task_start(&accepting, acceptor, NULL, lfd) < 0 ||
        task_start(&stopping, stopper, NULL, sigfd) < 0) {
        fprintf(stderr, "%s: cannot start the runtime: %s\n", prog, strerror(errno));
        return 1;
    }
    return tasks_run() < 0 ? 1 : 0;
}
