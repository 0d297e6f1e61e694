/* epoll.c — the epoll backend (backend.h): readiness. The kernel says "this
 * descriptor became readable", the coroutine then calls read(2) itself.
 *
 * One epoll instance per loop; each descriptor is added once, for
 * everything, edge-triggered: no epoll_ctl per wait. Edge-triggered epoll
 * reports a change, not a level, so the runtime remembers the last known
 * state per descriptor as two HINTS, readable and writable:
 *   - "readable" is set by an edge. A read() that returns fewer bytes than
 *     asked on a stream has drained the queue, so the hint is cleared: the
 *     next co_read parks at once instead of calling read() to get EAGAIN.
 *     Any data arriving later makes a new edge, so nothing is missed.
 *   - EAGAIN clears the hint too (a stale edge, or a datagram socket).
 *   - EOF and errors are sticky (rd_closed): reads then never park.
 * An echo message thus costs one read(), one write() and a share of one
 * epoll_wait — the same as a hand-written level-triggered epoll server. */
#include "backend.h"
#include "core.h"

#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum {
    CO_EVENT_BATCH = 256,      /* epoll events taken per loop turn */
    CO_AUDIT_MS = 1000,        /* a descriptor wait this old gets its registration checked */
};

const char *co_backend(void)
{
    return "epoll";
}

int co__backend_init(void)
{
    L.kfd = epoll_create1(EPOLL_CLOEXEC);
    return L.kfd < 0 ? -1 : 0;
}

/* Add fd to the epoll set once, for everything, edge-triggered.
 * EPOLL_CTL_ADD reports a descriptor that is already ready, so nothing that
 * happened before registration is missed. */
static int co__fd_register(int fd, struct co_fd *s)
{
    if (s->registered)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(L.kfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* EEXIST means exactly "this file under this number is in the set
         * already" (our state for it was reset, e.g. by co_accept after a
         * plain close()): set our mask. Any other failure is returned. */
        if (errno != EEXIST || epoll_ctl(L.kfd, EPOLL_CTL_MOD, fd, &ev) < 0)
            return -1;
    }
    s->registered = 1;
    return 0;
}

/* An epoll event for fd: turn it into hints and wake the waiters. A hang-up
 * or an error is sticky: from then on every read/write just tries, and gets
 * its 0 or its error from the kernel. */
static void co__fd_event(int fd, uint32_t ev)
{
    if (fd < 0 || (size_t)fd >= L.nfds || !L.fds[fd].registered)
        return;
    struct co_fd *s = &L.fds[fd];
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->rd_closed = 1;
    if (ev & (EPOLLHUP | EPOLLERR))
        s->wr_closed = 1;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        s->readable = 1;
        if (s->reader)
            co__wake(s->reader, 0);
    }
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        s->writable = 1;
        if (s->writer)
            co__wake(s->writer, 0);
    }
}

/* The loop's wait: epoll_wait for at most `timeout` ms — less when a wait
 * is due for its audit (below) — then hand out the events. */
int co__backend_poll(int timeout)
{
    struct epoll_event ev[CO_EVENT_BATCH];
    if (L.audit_head) {
        int64_t a = L.audit_head->parked_at + CO_AUDIT_MS - L.now;
        int ms = a < 0 ? 0 : a > INT_MAX ? INT_MAX : (int)a;
        if (timeout < 0 || ms < timeout)
            timeout = ms;
    }
    int n = epoll_wait(L.kfd, ev, CO_EVENT_BATCH, timeout);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++)
        co__fd_event(ev[i].data.fd, ev[i].events);
    return 0;
}

/* Check that a descriptor someone has waited on for CO_AUDIT_MS is really in
 * the epoll set. The runtime keeps a "registered" flag per fd NUMBER, but the
 * kernel drops a file from the set when it is closed; if the program closed
 * it with plain close() (not co_close) and the kernel gave the number to a
 * new file, the flag lies, no event will ever come, and the wait would last
 * until its deadline. Checking every wait would cost a system call per
 * message; checking the few that last long costs at most one epoll_ctl per
 * CO_AUDIT_MS of waiting. EPOLL_CTL_MOD answers without guessing:
 *   0       it is there (MOD also reports readiness that already exists);
 *   ENOENT  the number names a file that is not in the set: a reused number.
 *           Forget what we knew about the old file, ADD the new one (ADD
 *           reports its readiness, which wakes the waiter);
 *   EBADF   the number is closed: wake the waiters with EBADF;
 *   else    (EPERM: a file epoll cannot watch) wake them with that error. */
static void co__fd_audit(int fd)
{
    struct co_fd *s = &L.fds[fd];
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(L.kfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return;
    int err = errno;
    if (err == ENOENT) {
        co_t *r = s->reader, *w = s->writer;
        memset(s, 0, sizeof *s);
        s->reader = r;
        s->writer = w;
        if (co__fd_register(fd, s) == 0)
            return;
        err = errno;
    }
    if (s->reader)
        co__wake(s->reader, err);
    if (s->writer)
        co__wake(s->writer, err);
    memset(s, 0, sizeof *s);
}

/* After the timers: audit the descriptor waits that began CO_AUDIT_MS ago
 * or earlier. */
void co__backend_tick(void)
{
    while (L.audit_head && L.audit_head->parked_at + CO_AUDIT_MS <= L.now) {
        co_t *c = L.audit_head;
        co__audit_remove(c);
        co__fd_audit(c->wait_fd);
    }
}

/* Park the running coroutine c until fd gives an edge in one of `dirs`
 * (CO_READ, CO_WRITE), or the deadline, cancellation or co_close. */
static int co__fd_wait(co_t *c, int fd, int dirs, int64_t deadline)
{
    struct co_fd *s = co__fd(fd);
    if (!s)
        return -1;
    if (co__fd_register(fd, s) < 0)
        return -1;
    if (((dirs & CO_READ) && s->reader) || ((dirs & CO_WRITE) && s->writer)) {
        errno = EBUSY; /* one reader and one writer per descriptor */
        return -1;
    }
    co__fd_park(c, fd, dirs);
    c->parked_at = co__now();
    co__audit_push(c);
    int err = co__suspend(c, deadline);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int co_wait_fd(int fd, int events, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    if (events == 0 || (events & ~(CO_READ | CO_WRITE))) {
        errno = EINVAL;
        return -1;
    }
    struct co_fd *s = co__fd(fd);
    if (!s)
        return -1;
    /* A registered descriptor whose hints say "not ready" was drained when
     * they were cleared, and any change since makes an edge: wait for it, no
     * system call (the idle echo connection's path). A hint that says
     * "ready" may be stale when the caller did its own read()/write(), so
     * only then ask the kernel once. An unregistered one is registered by
     * the wait, and EPOLL_CTL_ADD reports readiness that is already there. */
    int hinted = ((events & CO_READ) && s->readable) || ((events & CO_WRITE) && s->writable);
    if (s->registered && hinted) {
        struct pollfd p = {.fd = fd};
        p.events = (short)(((events & CO_READ) ? POLLIN : 0) | ((events & CO_WRITE) ? POLLOUT : 0));
        if (poll(&p, 1, 0) < 0)
            return -1;
        if (p.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        if (p.revents)
            return 0;
        if (events & CO_READ)
            s->readable = 0;
        if (events & CO_WRITE)
            s->writable = 0;
    }
    return co__fd_wait(c, fd, events, deadline);
}

/* What every I/O call starts with: the running coroutine *c, which may wait
 * (co__waiter) and has budget left (budget.c), and fd's state. NULL + errno. */
static struct co_fd *co__io_begin(int fd, int64_t deadline, co_t **c)
{
    *c = co__waiter();
    if (!*c || co__budget(*c, deadline) < 0)
        return NULL;
    return co__fd(fd);
}

/* A descriptor not yet registered is registered and waited on without a
 * read first: a read right after connecting or sending a request finds
 * nothing far more often than not, and EPOLL_CTL_ADD reports data that is
 * already there. (co_write and co_accept do try first: room to write, and a
 * waiting connection, are the usual case; so does the first co_read of a
 * connection from co_accept, whose client has usually sent already.) */
ssize_t co_read(int fd, void *buf, size_t len, int64_t deadline)
{
    co_t *c;
    struct co_fd *s = co__io_begin(fd, deadline, &c);
    if (!s)
        return -1;
    if (!s->registered && !s->readable && co__fd_register(fd, s) < 0) {
        if (errno != EPERM)
            return -1;
        /* A file epoll cannot watch (a regular file, /dev/zero) never makes
         * a reader wait: read it as it is, for ever. */
        s->readable = s->rd_closed = 1;
    }
    for (;;) {
        if (s->readable) {
            ssize_t n = read(fd, buf, len);
            if (n > 0) {
                if ((size_t)n < len && s->stream && !s->rd_closed)
                    s->readable = 0;
                return n;
            }
            if (n == 0)
                return 0;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            s->readable = 0;
        }
        if (co__fd_wait(c, fd, CO_READ, deadline) < 0)
            return -1;
        s = &L.fds[fd]; /* the table may have grown while we waited */
    }
}

ssize_t co_write(int fd, const void *buf, size_t len, int64_t deadline)
{
    co_t *c;
    struct co_fd *s = co__io_begin(fd, deadline, &c);
    if (!s)
        return -1;
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        if (!s->registered || s->writable) {
            ssize_t n = write(fd, p + done, len - done);
            if (n > 0) {
                done += (size_t)n;
                if (done < len && !s->wr_closed)
                    s->writable = 0; /* a short write: the send buffer is full */
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            s->writable = 0;
        }
        if (co__fd_wait(c, fd, CO_WRITE, deadline) < 0)
            return -1;
        s = &L.fds[fd];
    }
    return (ssize_t)len;
}

/* A connection accepted from lfd: forget stale state under its number (a
 * plain close()), and give it the listener's type — a connection of a
 * SOCK_STREAM listener is a stream — so it is never probed. */
static void co__fd_accepted(int lfd, int fd)
{
    co__fd_forget(fd);
    struct co_fd *s = co__fd(fd); /* may move the table: take lfd's slot after */
    if (!s)
        return; /* out of memory: the first wait will fail and say so */
    struct co_fd *ls = &L.fds[lfd];
    if (!ls->stream_known) {
        ls->stream = (unsigned char)co__fd_is_stream(lfd);
        ls->stream_known = 1;
    }
    s->stream = ls->stream;
    s->stream_known = 1;
    /* A client usually sends its first request right after connecting, so
     * the first co_read tries at once instead of waiting a loop turn for
     * the registration's event (at worst one EAGAIN per connection). */
    s->readable = 1;
}

int co_accept(int lfd, int64_t deadline)
{
    co_t *c;
    struct co_fd *s = co__io_begin(lfd, deadline, &c);
    if (!s)
        return -1;
    for (;;) {
        if (!s->registered || s->readable) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                co__fd_accepted(lfd, fd);
                return fd;
            }
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1; /* EMFILE and friends: the caller decides */
            s->readable = 0;
        }
        if (co__fd_wait(c, lfd, CO_READ, deadline) < 0)
            return -1;
        s = &L.fds[lfd];
    }
}

/* Connecting costs what it costs a hand-written epoll client (fetch-epoll):
 * one connect(), nothing else. A non-blocking connect() answers EINPROGRESS
 * even when, as over loopback, the kernel has already run the whole handshake
 * inside the call. Asking whether it has (a poll(), then getsockopt(SO_ERROR))
 * would be two more system calls per connection, so co_connect does not ask:
 * it returns 0, and the descriptor's first co_write or co_read tries at once.
 * If the handshake is still going on, that write() or read() gets EAGAIN and
 * the coroutine waits for the socket, with its deadline, as for any I/O; if
 * the handshake failed, it fails with the reason (ECONNREFUSED, ETIMEDOUT),
 * which a blocking connect() would have given one call earlier. */
int co_connect(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    co__fd_forget(fd);
    if (connect(fd, sa, len) == 0 || errno == EINPROGRESS)
        return 0;
    if (errno == EINTR)
        return 0; /* a non-blocking connect goes on without us */
    return -1;
}

/* No EPOLL_CTL_DEL: closing the file takes it out of the epoll set (a
 * system call per connection saved). Only a file that is still open
 * elsewhere (dup'ed, inherited by a child) stays in the set; its events
 * then arrive under this number as hints for whatever file holds it next —
 * a wasted read() that finds EAGAIN, never a lost wake. */
int co_close(int fd)
{
    co__fd_forget(fd);
    return close(fd);
}
