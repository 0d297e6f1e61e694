/* c10k_conns.c — N idle client connections for bin/c10k; see c10k_conns.h. */
#include "c10k_conns.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char c10k_msg[] = C10K_MSG;

static void c10k_fail(struct c10k_step *st, struct c10k_conn *c, long idx, const char *what, int err)
{
    if (st->failed++ == 0) {
        st->first_err = err;
        st->first_index = idx + 1;
        snprintf(st->first_what, sizeof st->first_what, "%s", what);
    }
    if (st->mode == C10K_OPEN)
        st->stopping = 1; /* N cannot be reached: finish what is in flight, no more */
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = C10K_FAILED;
}

/* Send the probe; on a fresh loopback socket 8 bytes always fit at once. */
static void c10k_send(struct c10k_step *st, struct c10k_conn *c, long idx)
{
    ssize_t n = send(c->fd, c10k_msg, C10K_MSG_LEN, MSG_NOSIGNAL);
    if (n != (ssize_t)C10K_MSG_LEN) {
        c10k_fail(st, c, idx, "send", n < 0 ? errno : EAGAIN);
        return;
    }
    c->got = 0;
    c->state = C10K_WAITING;
}

/* Begin work on connection idx: connect (OPEN) or send (ECHO). */
static void c10k_begin(struct c10k_step *st, long idx)
{
    struct c10k_conn *c = &st->conns[idx];
    if (st->mode == C10K_ECHO) {
        if (c->state != C10K_DONE) /* it failed in an earlier step: nothing to echo on */
            return;
        c10k_send(st, c, idx);
        return;
    }
    c->fd = net_connect_start(st->host ? st->host : "127.0.0.1", st->port);
    if (c->fd < 0) {
        c10k_fail(st, c, idx, "socket/connect", errno);
        return;
    }
    c->state = C10K_CONNECTING;
}

/* The socket of connection idx is ready: advance it. */
static void c10k_advance(struct c10k_step *st, long idx, short revents)
{
    struct c10k_conn *c = &st->conns[idx];
    if (c->state == C10K_CONNECTING) {
        int err = net_connect_result(c->fd);
        if (err) {
            c10k_fail(st, c, idx, "connect", err);
            return;
        }
        c10k_send(st, c, idx);
        return;
    }
    char buf[C10K_MSG_LEN];
    ssize_t n = recv(c->fd, buf, C10K_MSG_LEN - c->got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* 0: the server closed it; <0: reset */
        c10k_fail(st, c, idx, "echo", n < 0 ? errno : 0);
        return;
    }
    if (memcmp(buf, c10k_msg + c->got, (size_t)n) != 0) {
        c10k_fail(st, c, idx, "echo (wrong bytes)", EBADMSG);
        return;
    }
    c->got += (unsigned char)n;
    if (c->got == C10K_MSG_LEN)
        c->state = C10K_DONE;
}

/* Start connections while the pace and the in-flight cap allow. */
static void c10k_start_due(struct c10k_step *st, long long t0)
{
    double elapsed = (double)(net_now_ns() - t0) / 1e9;
    long due = st->mode == C10K_OPEN ? (long)(elapsed * (double)st->rate) + 1 : st->n;
    while (!st->stopping && st->next < st->n && st->next < due && st->nactive < st->inflight) {
        long idx = st->next++;
        c10k_begin(st, idx);
        unsigned char s = st->conns[idx].state;
        if (s == C10K_CONNECTING || s == C10K_WAITING)
            st->active[st->nactive++] = idx;
    }
}

/* Poll the connections in flight once (up to 100 ms) and advance them; drop
 * the finished ones from the active list. */
static void c10k_poll_active(struct c10k_step *st, struct pollfd *pfd)
{
    for (long i = 0; i < st->nactive; i++) {
        struct c10k_conn *c = &st->conns[st->active[i]];
        pfd[i] = (struct pollfd){c->fd, c->state == C10K_CONNECTING ? POLLOUT : POLLIN, 0};
    }
    /* more to start: wake within 1 ms to keep the pace; else wait for sockets */
    int more = st->mode == C10K_OPEN && !st->stopping && st->next < st->n;
    int timeout = more ? 1 : 100;
    if (poll(pfd, (nfds_t)st->nactive, timeout) <= 0)
        return;
    long kept = 0;
    for (long i = 0; i < st->nactive; i++) {
        long idx = st->active[i];
        if (pfd[i].revents)
            c10k_advance(st, idx, pfd[i].revents);
        unsigned char s = st->conns[idx].state;
        if (s == C10K_DONE)
            st->done++;
        else if (s != C10K_FAILED)
            st->active[kept++] = idx;
    }
    st->nactive = kept;
}

int c10k_step_run(struct c10k_step *st, long limit_s)
{
    struct pollfd *pfd = calloc((size_t)st->inflight, sizeof *pfd);
    st->active = calloc((size_t)st->inflight, sizeof *st->active);
    int rc = -1;
    if (!pfd || !st->active) {
        st->oom = 1;
        goto out;
    }
    long long t0 = net_now_ns(), deadline = t0 + limit_s * 1000000000LL;
    while (!(st->stop && *st->stop) && net_now_ns() < deadline) {
        c10k_start_due(st, t0);
        if (st->nactive == 0 && (st->stopping || st->next == st->n))
            break;
        c10k_poll_active(st, pfd);
    }
    rc = st->done == st->n ? 0 : -1;
out:
    free(pfd);
    free(st->active);
    st->active = NULL;
    return rc;
}

void c10k_close_all(struct c10k_conn *conns, long n)
{
    struct linger lg = {1, 0};
    for (long i = 0; i < n; i++) {
        if (conns[i].fd < 0)
            continue;
        setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(conns[i].fd);
        conns[i].fd = -1;
    }
}

