/* echo-epoll — the baseline echo server: one thread, one level-triggered
 * epoll set, no coroutines, no framework. Each time a connection is readable
 * it does one read() and one write() of what it read. If the kernel takes
 * only part of the write, the rest is kept and the connection waits for
 * EPOLLOUT (and stops reading) until it is flushed, so no byte is lost and a
 * client that does not read cannot make the server buffer without limit.
 *
 * The suite's loop model (bin/echo-loop) should come close to this: the gap is
 * what the coroutine runtime costs. */
#include "net.h"
#include "server.h"
#include "work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "echo-epoll"

struct ee_conn {
    int fd;        /* the client's socket */
    char *pend;    /* bytes read but not yet written back (NULL when none) */
    size_t off;    /* where the unwritten part of pend starts */
    size_t len;    /* where it ends */
};

struct ee_server {
    int ep;                  /* the epoll set */
    int lfd;                 /* listening socket */
    int sigfd;               /* SIGINT/SIGTERM arrive here */
    long work;               /* CPU work units per message (--work) */
    struct ee_conn **conns;  /* indexed by fd; NULL where no connection */
    int nconns;              /* size of conns[] */
    long long paused_until;  /* accept paused until then (out of descriptors), 0 if not */
    char buf[SERVER_BUF];    /* the one read buffer every connection shares */
};

static int ee_watch(struct ee_server *s, int op, int fd, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(s->ep, op, fd, &ev);
}

static void ee_close(struct ee_server *s, struct ee_conn *c)
{
    s->conns[c->fd] = NULL;
    close(c->fd); /* also removes it from the epoll set */
    free(c->pend);
    free(c);
}

/* Make room in conns[] for index fd. */
static int ee_grow(struct ee_server *s, int fd)
{
    if (fd < s->nconns)
        return 0;
    int n = s->nconns ? s->nconns : 1024;
    while (n <= fd)
        n *= 2;
    struct ee_conn **bigger = realloc(s->conns, (size_t)n * sizeof *bigger);
    if (!bigger)
        return -1;
    memset(bigger + s->nconns, 0, (size_t)(n - s->nconns) * sizeof *bigger);
    s->conns = bigger;
    s->nconns = n;
    return 0;
}

static void ee_accept(struct ee_server *s)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int r = server_accept_failed(s->lfd, errno, PROG);
            if (r == 1) { /* out of descriptors: stop accepting for 100 ms */
                s->paused_until = net_now_ns() + 100000000LL;
                ee_watch(s, EPOLL_CTL_MOD, s->lfd, 0);
            }
            return;
        }
        struct ee_conn *c = calloc(1, sizeof *c);
        if (!c || ee_grow(s, fd) < 0 || ee_watch(s, EPOLL_CTL_ADD, fd, EPOLLIN) < 0) {
            free(c);
            close(fd);
            continue;
        }
        net_set_nodelay(fd);
        c->fd = fd;
        s->conns[fd] = c;
    }
}

/* Readable: one read, one write. A short write keeps the rest in c->pend. */
static void ee_on_read(struct ee_server *s, struct ee_conn *c)
{
    ssize_t n = read(c->fd, s->buf, sizeof s->buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* EOF or error: the client is gone */
        ee_close(s, c);
        return;
    }
    work_do(s->work, s->buf, (size_t)n);
    ssize_t w = write(c->fd, s->buf, (size_t)n);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
        ee_close(s, c);
        return;
    }
    if (w == n)
        return;
    if (w < 0)
        w = 0;
    c->pend = malloc((size_t)(n - w));
    if (!c->pend) {
        ee_close(s, c);
        return;
    }
    memcpy(c->pend, s->buf + w, (size_t)(n - w));
    c->off = 0;
    c->len = (size_t)(n - w);
    ee_watch(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT); /* stop reading until flushed */
}

/* Writable again: flush what is pending, then go back to reading. */
static void ee_on_write(struct ee_server *s, struct ee_conn *c)
{
    ssize_t w = write(c->fd, c->pend + c->off, c->len - c->off);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (w < 0) {
        ee_close(s, c);
        return;
    }
    c->off += (size_t)w;
    if (c->off < c->len)
        return;
    free(c->pend);
    c->pend = NULL;
    ee_watch(s, EPOLL_CTL_MOD, c->fd, EPOLLIN);
}

static int ee_run(struct ee_server *s)
{
    struct epoll_event evs[256];
    for (;;) {
        int timeout = -1;
        if (s->paused_until) {
            long long left = s->paused_until - net_now_ns();
            if (left <= 0) {
                s->paused_until = 0;
                ee_watch(s, EPOLL_CTL_MOD, s->lfd, EPOLLIN);
                continue;
            }
            timeout = (int)(left / 1000000) + 1;
        }
        int n = epoll_wait(s->ep, evs, 256, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror(PROG ": epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == s->sigfd && server_signal_read(s->sigfd))
                return 0;
            if (fd == s->lfd) {
                ee_accept(s);
                continue;
            }
            struct ee_conn *c = fd < s->nconns ? s->conns[fd] : NULL;
            if (!c) /* closed earlier in this batch */
                continue;
            if (c->pend)
                ee_on_write(s, c);
            else
                ee_on_read(s, c);
        }
    }
}

int main(int argc, char **argv)
{
    static struct ee_server s; /* static: holds a 16 KiB buffer */
    struct server_opts o = {.bind = "127.0.0.1", .port = 0, .backlog = 4096};
    int pr = server_parse(&o, PROG, "The baseline echo server: one thread, level-triggered epoll, one read()\n"
                          "and one write() per readiness event. --stack-kib is ignored (checked as the models do).",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    int rc = 1;
    net_raise_nofile(); /* room for 10000 clients: the soft descriptor limit up to the hard one */
    s.work = o.work;
    s.sigfd = server_signals(0);
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    if (s.sigfd < 0 || s.ep < 0) {
        perror(PROG ": setup");
        return 1;
    }
    char why[160];
    s.lfd = server_listen(&o, why, sizeof why);
    if (s.lfd < 0) {
        fprintf(stderr, PROG ": %s\n", why);
        goto out;
    }
    net_set_nonblock(s.lfd);
    if (ee_watch(&s, EPOLL_CTL_ADD, s.lfd, EPOLLIN) < 0 ||
        ee_watch(&s, EPOLL_CTL_ADD, s.sigfd, EPOLLIN) < 0) {
        perror(PROG ": epoll_ctl");
        goto out;
    }
    rc = ee_run(&s);
out:
    for (int fd = 0; fd < s.nconns; fd++)
        if (s.conns[fd])
            ee_close(&s, s.conns[fd]);
    free(s.conns);
    close(s.lfd);
    close(s.ep);
    close(s.sigfd);
    return rc;
}
