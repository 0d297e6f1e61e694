/* client-epoll — the baseline load client: N connections on one thread and
 * one epoll set, closed loop. Each connection writes a message, reads until
 * the same number of bytes came back, and writes the next: one write() and
 * (normally) one read() per message. No histogram, no content check, no
 * clock per message: the least a client can do, so that the CPU it spends
 * per message is the floor bin/loadgen is measured against. */
#include "flags.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PROG "client-epoll"

struct ce_conn {
    int fd;         /* the socket */
    size_t sent;    /* bytes of the current message written */
    size_t got;     /* bytes of its echo read back */
    int out;        /* also waiting for EPOLLOUT (a write was short) */
};

struct ce_opts {
    const char *host; /* server address (--host) */
    long port;        /* server port (--port) */
    long conns;       /* connections (-c) */
    long msg_bytes;   /* message size (--msg-bytes) */
    double secs;      /* how long to run (--secs) */
};

static long ce_errors;

static void ce_fail(struct ce_conn *c)
{
    close(c->fd);
    c->fd = -1;
    ce_errors++;
}

/* Write (the rest of) the current message; 0, or -1 if the connection failed. */
static int ce_send(int ep, struct ce_conn *c, const char *msg, size_t len)
{
    ssize_t w = write(c->fd, msg + c->sent, len - c->sent);
    if (w < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
    c->sent += w > 0 ? (size_t)w : 0;
    int out = c->sent < len;
    if (out == c->out)
        return 0;
    c->out = out; /* rare: wait until the rest can be written, or stop waiting */
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Readable: read what came back; a full echo counts one message. */
static int ce_recv(int ep, struct ce_conn *c, char *buf, const char *msg, size_t len, long *msgs)
{
    ssize_t n = read(c->fd, buf, len - c->got);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    c->got += (size_t)n;
    if (c->got < len)
        return 0;
    (*msgs)++;
    c->got = c->sent = 0;
    return ce_send(ep, c, msg, len);
}

int main(int argc, char **argv)
{
    struct ce_opts o = {.host = "127.0.0.1", .port = 0, .conns = 10, .msg_bytes = 64, .secs = 5};
    const struct flag flags[] = {
        {"host", 0, FLAG_STR, &o.host, 0, 0, "HOST", "server address"},
        {"port", 'p', FLAG_INT, &o.port, 0, 65535, "PORT", "server port (required; 0: not given)"},
        {"conns", 'c', FLAG_INT, &o.conns, 1, 10000, "N", "connections"},
        {"msg-bytes", 0, FLAG_INT, &o.msg_bytes, 1, 65536, "B", "bytes per message"},
        {"secs", 0, FLAG_DOUBLE, &o.secs, 0.1, 3600, "S", "how long to run"},
        {0},
    };
    const struct flags_spec spec = {PROG, "--port PORT [flags]",
        "The baseline closed-loop client: one thread, one epoll set, one write() and one read()\n"
        "per message. Prints \"msgs N secs S msgs_per_s R errors E\". Exit 1 if a connection failed.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    if (o.port == 0)
        return flags_exit(flags_error(&spec, "--port is required"));
    signal(SIGPIPE, SIG_IGN);

    int rc = 1, ep = epoll_create1(EPOLL_CLOEXEC);
    size_t len = (size_t)o.msg_bytes;
    char *msg = malloc(len), *buf = malloc(len);
    struct ce_conn *cs = calloc((size_t)o.conns, sizeof *cs);
    if (ep < 0 || !msg || !buf || !cs) {
        perror(PROG);
        goto out;
    }
    memset(msg, 'x', len);
    for (long i = 0; i < o.conns; i++)
        cs[i].fd = -1;
    for (long i = 0; i < o.conns; i++) { /* blocking connects, one at a time */
        cs[i].fd = net_connect(o.host, (int)o.port);
        if (cs[i].fd < 0) {
            fprintf(stderr, "%s: connect %s:%ld: %s\n", PROG, o.host, o.port, strerror(errno));
            goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        if (net_set_nonblock(cs[i].fd) < 0 || net_set_nodelay(cs[i].fd) < 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0) {
            perror(PROG ": socket setup");
            goto out;
        }
    }

    long msgs = 0, live = o.conns;
    long long start = net_now_ns(), end = start + (long long)(o.secs * 1e9), now = start;
    for (long i = 0; i < o.conns; i++)
        if (ce_send(ep, &cs[i], msg, len) < 0)
            ce_fail(&cs[i]), live--;
    struct epoll_event evs[256];
    while (live > 0 && (now = net_now_ns()) < end) {
        int n = epoll_wait(ep, evs, 256, (int)((end - now) / 1000000) + 1);
        if (n < 0 && errno != EINTR) {
            perror(PROG ": epoll_wait");
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct ce_conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            int r = 0;
            if ((evs[i].events & EPOLLOUT) && c->sent < len)
                r = ce_send(ep, c, msg, len);
            if (r == 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                r = ce_recv(ep, c, buf, msg, len, &msgs);
            if (r < 0)
                ce_fail(c), live--;
        }
    }
    double secs = (double)(now - start) / 1e9;
    printf("msgs %ld secs %.3f msgs_per_s %.1f errors %ld\n", msgs, secs, msgs / secs, ce_errors);
    rc = ce_errors ? 1 : 0;
out:
    if (cs)
        for (long i = 0; i < o.conns; i++)
            if (cs[i].fd >= 0)
                close(cs[i].fd);
    free(cs);
    free(msg);
    free(buf);
    if (ep >= 0)
        close(ep);
    return rc;
}
