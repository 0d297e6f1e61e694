/* fd.c — waiting on descriptors, what both backends share: a table of what
 * the runtime knows per descriptor number (struct co_fd in core.h: who waits
 * to read, who waits to write, the epoll backend's hints), parking a
 * coroutine in a descriptor's reader or writer slot, and forgetting a
 * descriptor when it is closed. How the kernel is asked — readiness (epoll.c)
 * or completions (uring.c) — is the backend's. */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* The state of fd, growing the table on demand. The table may move, so
 * never keep a pointer into it across a wait. */
struct co_fd *co__fd(int fd)
{
    if (fd < 0) {
        errno = EBADF;
        return NULL;
    }
    if ((size_t)fd < L.nfds)
        return &L.fds[fd];
    size_t n = L.nfds ? L.nfds : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct co_fd *t = realloc(L.fds, n * sizeof *t);
    if (!t)
        return NULL;
    memset(t + L.nfds, 0, (n - L.nfds) * sizeof *t);
    L.fds = t;
    L.nfds = n;
    return &L.fds[fd];
}

/* Is fd a byte stream (pipe, FIFO, SOCK_STREAM)? Only then does a short read
 * prove the queue was drained; a datagram socket may hold more datagrams. */
int co__fd_is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
        return type == SOCK_STREAM; /* a socket: one system call tells */
    struct stat st;
    return errno == ENOTSOCK && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Put the running coroutine c in fd's reader and/or writer slot (`dirs`:
 * CO_READ, CO_WRITE; the caller checked they are free and fd is in the
 * table). The caller then suspends it; a wake undoes this (co__fd_unpark). */
void co__fd_park(co_t *c, int fd, int dirs)
{
    struct co_fd *s = &L.fds[fd];
    if (dirs & CO_READ)
        s->reader = c;
    if (dirs & CO_WRITE)
        s->writer = c;
    c->wait = CO_W_FD;
    c->wait_fd = fd;
    c->wait_dirs = dirs;
    L.fd_waiters++;
}

void co__fd_unpark(co_t *c)
{
    if (c->wait_dirs & CO_READ)
        L.fds[c->wait_fd].reader = NULL;
    if (c->wait_dirs & CO_WRITE)
        L.fds[c->wait_fd].writer = NULL;
    L.fd_waiters--;
    co__audit_remove(c);
}

/* Forget fd: wake its waiters with EBADF, reset what we knew of it. */
void co__fd_forget(int fd)
{
    if (fd < 0 || (size_t)fd >= L.nfds)
        return;
    if (L.fds[fd].reader)
        co__wake(L.fds[fd].reader, EBADF);
    if (L.fds[fd].writer)
        co__wake(L.fds[fd].writer, EBADF);
    memset(&L.fds[fd], 0, sizeof L.fds[fd]);
}

/* The audit list: descriptor waits in the order they began, doubly linked
 * so a wake can unlink from the middle. The epoll backend checks the old
 * ones (epoll.c, co__fd_audit); the io_uring backend puts nothing in it. */
void co__audit_push(co_t *c)
{
    c->in_audit = 1;
    c->audit_next = NULL;
    c->audit_prev = L.audit_tail;
    if (L.audit_tail)
        L.audit_tail->audit_next = c;
    else
        L.audit_head = c;
    L.audit_tail = c;
}

void co__audit_remove(co_t *c)
{
    if (!c->in_audit)
        return;
    c->in_audit = 0;
    if (c->audit_prev)
        c->audit_prev->audit_next = c->audit_next;
    else
        L.audit_head = c->audit_next;
    if (c->audit_next)
        c->audit_next->audit_prev = c->audit_prev;
    else
        L.audit_tail = c->audit_prev;
    c->audit_next = c->audit_prev = NULL;
}
