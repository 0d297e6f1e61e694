/* coro.c — the uring model's runtime: the loop model's coroutines over
 * io_uring instead of epoll (the API is ../loop/coro.h, unchanged).
 *
 * Everything that is not the kernel interface is the loop's, included below
 * as it is: stacks, the switch, the ready queue, timers, co__suspend() and
 * co__wake(), the fairness budget, channels, co_run(). What changes:
 *
 *   loop (readiness)                      uring (completion)
 *   epoll says "fd is readable"; the      co_read queues a RECV into the
 *   coroutine then calls read(2)          caller's buffer and parks; the
 *                                         completion carries the bytes
 *   read(2) + write(2) + a share of one   a share of ONE io_uring_enter per
 *   epoll_wait per message                loop turn: it submits every queued
 *                                         operation and reaps every completion
 *   accept4(2) per connection             one multishot ACCEPT per listener:
 *                                         each connection is a completion
 *
 * Three hooks put the ring where the loop had epoll, without touching the
 * loop's file: epoll_create1() in co_init() becomes the ring's setup,
 * epoll_wait() in co__poll() becomes "submit everything, wait for at least
 * one completion or the nearest deadline, wake whoever completed" (and
 * returns no epoll events), and the loop's readiness I/O calls are compiled
 * under other names, unused, while this file defines co_read, co_write,
 * co_accept, co_connect, co_wait_fd, co_close and co_cancel.
 *
 * The rule that keeps this safe: the kernel writes into the caller's buffer
 * (on the coroutine's stack) until the operation completes, so no I/O call
 * returns before its completion has arrived — not even when a deadline,
 * co_cancel() or co_close() wakes the coroutine early. Then it asks the
 * kernel to cancel the operation (IORING_OP_ASYNC_CANCEL) and waits for the
 * operation's own completion, in a wait nothing else can end (co__drain). */
#include "coro.h"

#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

static int co__ring_create(int flags);
static int co__ring_wait(int epfd, struct epoll_event *ev, int maxevents, int timeout);
#define epoll_create1(flags) co__ring_create(flags)
#define epoll_wait(epfd, ev, maxevents, timeout) co__ring_wait(epfd, ev, maxevents, timeout)
#define co_read co__epoll_read
#define co_write co__epoll_write
#define co_accept co__epoll_accept
#define co_connect co__epoll_connect
#define co_wait_fd co__epoll_wait_fd
#define co_close co__epoll_close
#define co_cancel co__epoll_cancel
#include "../loop/coro.c"
#undef epoll_create1
#undef epoll_wait
#undef co_read
#undef co_write
#undef co_accept
#undef co_connect
#undef co_wait_fd
#undef co_close
#undef co_cancel

enum {
    CO_RING_SQ = 4096,   /* submission slots: a turn queuing more submits early (co__sqe) */
    CO_RING_CQ = 16384,  /* completion slots: every connection's read may complete in one turn */
};

/* One operation in flight. It lives on the stack of the coroutine that
 * waits for it, and its address is the submission's user_data. */
struct co_op {
    co_t *c;             /* the coroutine waiting for it */
    int res;             /* the completion's result: >= 0, or -errno */
    int done;            /* the completion has arrived */
};

/* A listening socket with a multishot accept: each new connection arrives
 * as one completion, whether or not anyone waits in co_accept just then. */
struct co_acc {
    int lfd;             /* the listening socket */
    uint32_t id;         /* names it in user_data: a late completion finds no one */
    int armed;           /* a multishot accept is in flight */
    int err;             /* an error it ended with, for the next co_accept */
    int *q;              /* accepted connections not yet taken, a ring of cap */
    size_t head, len, cap; /* ... oldest, how many, room */
    struct co_acc *next; /* the next listener of this thread */
};

/* user_data of a completion: the address of a struct co_op (even), a
 * listener's id shifted left with the low bit set, or 0 (a cancel request,
 * whose completion tells nothing). A listener is named by an id, not its
 * address, so co_close() can free it at once: completions still on their
 * way then find no listener, and a connection they bring is closed. */
#define CO_TAG_ACC 1u

static __thread struct io_uring co__R;      /* this thread's ring */
static __thread struct co_acc *co__accs;    /* its listeners */
static __thread uint32_t co__acc_ids;       /* the last listener id given */

/* === the ring ============================================================= */

/* Set up the ring, in place of epoll_create1 in co_init(); returns its fd.
 *
 * IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (Linux 6.1): only
 * this thread submits, and the kernel's end of each completion (task_work:
 * copying the data, posting the completion) waits until this thread next
 * enters io_uring_enter to wait, instead of interrupting it wherever it runs
 * (see docs/models/uring.md). A kernel that refuses them gets a plain ring
 * and one line saying so. C10K_URING_PLAIN=1 asks for the plain ring: the
 * experiment that measures the difference. */
static int co__ring_create(int flags)
{
    (void)flags;
    const char *plain = getenv("C10K_URING_PLAIN");
    int defer = !(plain && *plain && strcmp(plain, "0") != 0);
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = CO_RING_CQ;
    if (defer)
        p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int r = io_uring_queue_init_params(CO_RING_SQ, &co__R, &p);
    if (r == -EINVAL && defer) {
        fprintf(stderr, "%s: io_uring: this kernel refuses SINGLE_ISSUER|DEFER_TASKRUN "
                        "(Linux >= 6.1): running without them, at a higher CPU cost\n",
                program_invocation_short_name);
        memset(&p, 0, sizeof p);
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = CO_RING_CQ;
        r = io_uring_queue_init_params(CO_RING_SQ, &co__R, &p);
    }
    if (r < 0) {
        fprintf(stderr, "%s: io_uring_setup: %s (needs Linux >= 5.19 with io_uring allowed: "
                        "see /proc/sys/kernel/io_uring_disabled)\n",
                program_invocation_short_name, strerror(-r));
        errno = -r;
        return -1;
    }
    return co__R.ring_fd;
}

/* A free submission slot. A turn that queued CO_RING_SQ operations already
 * submits them now to make room: a system call more, only under that load. */
static struct io_uring_sqe *co__sqe(void)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&co__R);
    if (!sqe) {
        io_uring_submit(&co__R);
        sqe = io_uring_get_sqe(&co__R);
    }
    if (!sqe)
        errno = EBUSY;
    return sqe;
}

static void co__acc_complete(uint32_t id, int res, unsigned flags);

/* One completion: record an operation's result and wake its coroutine (if
 * it is still parked on it: a coroutine woken early by its deadline is
 * already ready, and finds op->done when it runs). */
static void co__complete(uint64_t data, int res, unsigned flags)
{
    if (data == 0)
        return; /* a cancel request's failure: the operation's own completion follows */
    if (data & CO_TAG_ACC) {
        co__acc_complete((uint32_t)(data >> 1), res, flags);
        return;
    }
    struct co_op *op = (struct co_op *)(uintptr_t)data;
    op->res = res;
    op->done = 1;
    co__wake(op->c, 0);
}

/* The loop's one system call per turn, in place of epoll_wait in
 * co__poll(): submit every operation the coroutines queued since the last
 * turn, wait until at least one completes or `timeout` ms pass (the nearest
 * deadline, which co__poll computed from the timer heap; -1: none), and hand
 * every completion to its coroutine. With DEFER_TASKRUN this is also when the
 * kernel finishes the operations that became ready meanwhile. Returns 0 (no
 * epoll events: the completions have woken their coroutines), or -1 + errno. */
static int co__ring_wait(int epfd, struct epoll_event *ev, int maxevents, int timeout)
{
    (void)epfd, (void)ev, (void)maxevents;
    struct io_uring_cqe *cqe;
    int r;
    if (timeout < 0) {
        r = io_uring_submit_and_wait(&co__R, 1);
    } else {
        struct __kernel_timespec ts = {.tv_sec = timeout / 1000,
                                       .tv_nsec = (long long)(timeout % 1000) * 1000000};
        r = io_uring_submit_and_wait_timeout(&co__R, &cqe, 1, &ts, NULL);
    }
    /* ETIME: the deadline came first; EBUSY: completions overflowed the ring
     * and wait in the kernel — reaping these makes room for them. */
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY) {
        errno = -r;
        return -1;
    }
    unsigned head, n = 0;
    io_uring_for_each_cqe(&co__R, head, cqe)
    {
        co__complete(cqe->user_data, cqe->res, cqe->flags);
        n++;
    }
    io_uring_cq_advance(&co__R, n);
    if (r == -EINTR) {
        errno = EINTR; /* co__poll goes on */
        return -1;
    }
    return 0;
}

/* === waiting for one operation ============================================ */

/* Ask the kernel to cancel op, then wait for op's own completion — which
 * says -ECANCELED, or the result, if it completed first. Nothing but that
 * completion ends this wait (co_cancel leaves it alone, co_close and
 * deadlines do not know it), so the coroutine resumes exactly once, and
 * only when the kernel is done with its buffer. */
static void co__drain(co_t *c, struct co_op *op)
{
    int asked = 0;
    while (!op->done) {
        if (!asked) {
            struct io_uring_sqe *sqe = co__sqe();
            if (sqe) {
                io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
                io_uring_sqe_set_data64(sqe, 0);
                sqe->flags |= IOSQE_CQE_SKIP_SUCCESS; /* only a failure tells something */
                asked = 1;
            }
        }
        c->wait = CO_W_FD;
        c->wait_fd = -1;
        c->wait_dirs = 0; /* marks a drain: see co_cancel */
        L.fd_waiters++;   /* so co__poll asks the kernel */
        if (!asked) {     /* no submission slot free: try again next turn */
            c->wait = CO_W_NONE;
            L.fd_waiters--;
            co__ready(c);
            co__switch_away(c, 0);
            continue;
        }
        co__suspend(c, -1);
    }
}

/* Queue sqe (prepared for fd by the caller) as op, park the running
 * coroutine c in fd's reader and/or writer slot (`dirs`) until its
 * completion, the deadline, co_cancel or co_close, and return the result:
 * >= 0, or -1 + errno. A result that arrived is returned even if the
 * coroutine was woken early for another reason, so no byte read is lost;
 * the reason shows at the next call. */
static int co__op_wait(co_t *c, struct co_op *op, struct io_uring_sqe *sqe, int fd, int dirs,
                       int64_t deadline)
{
    op->c = c;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op);
    struct co_fd *s = &L.fds[fd];
    if (dirs & CO_READ)
        s->reader = c;
    if (dirs & CO_WRITE)
        s->writer = c;
    c->wait = CO_W_FD;
    c->wait_fd = fd;
    c->wait_dirs = dirs;
    L.fd_waiters++;
    int err = co__suspend(c, deadline);
    if (!op->done)
        co__drain(c, op);
    if (op->res >= 0)
        return op->res;
    errno = op->res == -ECANCELED && err ? err : -op->res;
    return -1;
}

/* The checks every I/O call starts with: a coroutine that may wait, within
 * its budget (../loop/coro.c), and fd's slot free in `dirs`. Returns the
 * running coroutine, or NULL + errno. */
static co_t *co__op_begin(int fd, int dirs, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return NULL;
    struct co_fd *s = co__fd(fd);
    if (!s)
        return NULL;
    if (((dirs & CO_READ) && s->reader) || ((dirs & CO_WRITE) && s->writer)) {
        errno = EBUSY; /* one reader and one writer per descriptor */
        return NULL;
    }
    return c;
}

/* === the public API: I/O ================================================== */

/* A RECV into the caller's buffer. Provided buffers (the kernel picks a
 * buffer of a ring the program gave it) would save the memory of idle
 * connections' buffers, but co_read's contract is the caller's buffer: they
 * would add a copy, and the echo's buffer is on the coroutine's stack
 * anyway. Not a socket (ENOTSOCK): the same as a READ, like read(2). */
ssize_t co_read(int fd, void *buf, size_t len, int64_t deadline)
{
    co_t *c = co__op_begin(fd, CO_READ, deadline);
    struct io_uring_sqe *sqe = c ? co__sqe() : NULL;
    if (!sqe)
        return -1;
    struct co_op op = {0};
    io_uring_prep_recv(sqe, fd, buf, len, 0);
    int n = co__op_wait(c, &op, sqe, fd, CO_READ, deadline);
    if (n < 0 && errno == ENOTSOCK && (sqe = co__sqe())) {
        struct co_op op2 = {0};
        io_uring_prep_read(sqe, fd, buf, (unsigned)len, (uint64_t)-1);
        n = co__op_wait(c, &op2, sqe, fd, CO_READ, deadline);
    }
    return n;
}

/* Write one SEND (MSG_NOSIGNAL: a vanished peer is EPIPE, as the servers'
 * ignored SIGPIPE makes it anyway), or a WRITE if fd is not a socket. */
static int co__write_some(co_t *c, int fd, const char *p, size_t len, int64_t deadline)
{
    struct io_uring_sqe *sqe = co__sqe();
    if (!sqe)
        return -1;
    struct co_op op = {0};
    io_uring_prep_send(sqe, fd, p, len, MSG_NOSIGNAL);
    int n = co__op_wait(c, &op, sqe, fd, CO_WRITE, deadline);
    if (n < 0 && errno == ENOTSOCK && (sqe = co__sqe())) {
        struct co_op op2 = {0};
        io_uring_prep_write(sqe, fd, p, (unsigned)len, (uint64_t)-1);
        n = co__op_wait(c, &op2, sqe, fd, CO_WRITE, deadline);
    }
    return n;
}

ssize_t co_write(int fd, const void *buf, size_t len, int64_t deadline)
{
    co_t *c = co__op_begin(fd, CO_WRITE, deadline);
    if (!c)
        return -1;
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        /* After a short write the deadline and cancellation are checked
         * again, as the loop's co__budget does before every call. */
        if (done > 0 && co__expired(c, deadline) < 0)
            return -1;
        int n = co__write_some(c, fd, p + done, len - done, deadline);
        if (n < 0)
            return -1;
        done += (size_t)n;
    }
    return (ssize_t)len;
}

/* --- accept: one multishot ACCEPT per listener ----------------------------- */

/* The listener state of lfd, made on first use; NULL + errno. */
static struct co_acc *co__acc(int lfd, int create)
{
    for (struct co_acc *a = co__accs; a; a = a->next)
        if (a->lfd == lfd)
            return a;
    if (!create)
        return NULL;
    struct co_acc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->lfd = lfd;
    a->id = ++co__acc_ids;
    a->next = co__accs;
    co__accs = a;
    return a;
}

/* Queue an accepted connection; 0, or -1 when out of memory. */
static int co__acc_push(struct co_acc *a, int fd)
{
    if (a->len == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int *q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < a->len; i++)
            q[i] = a->q[(a->head + i) % a->cap];
        free(a->q);
        a->q = q;
        a->head = 0;
        a->cap = cap;
    }
    a->q[(a->head + a->len++) % a->cap] = fd;
    return 0;
}

static int co__acc_pop(struct co_acc *a)
{
    int fd = a->q[a->head];
    a->head = (a->head + 1) % a->cap;
    a->len--;
    return fd;
}

static void co__acc_free(struct co_acc *a)
{
    while (a->len > 0)
        close(co__acc_pop(a));
    free(a->q);
    free(a);
}

static uint64_t co__acc_data(const struct co_acc *a)
{
    return (uint64_t)a->id << 1 | CO_TAG_ACC;
}

/* A completion of a listener's multishot accept: a new connection (res >=
 * 0) or the error that ended it. Without IORING_CQE_F_MORE the accept is
 * over (an error, EMFILE say, or a cancel): the next co_accept arms another.
 * A listener co_close()d meanwhile is gone: its connection is closed. */
static void co__acc_complete(uint32_t id, int res, unsigned flags)
{
    struct co_acc *a = co__accs;
    while (a && a->id != id)
        a = a->next;
    if (!a) {
        if (res >= 0)
            close(res);
        return;
    }
    if (!(flags & IORING_CQE_F_MORE))
        a->armed = 0;
    if (res >= 0 && co__acc_push(a, res) < 0) {
        close(res);
        res = -ENOMEM;
    }
    /* A connection that was reset before it was accepted, or an interrupted
     * accept, is not worth a caller's attention (accept4 is retried on them
     * in ../loop/coro.c too). */
    if (res < 0 && res != -ECONNABORTED && res != -EINTR && res != -ECANCELED)
        a->err = -res;
    co_t *w = (size_t)a->lfd < L.nfds ? L.fds[a->lfd].reader : NULL;
    if (w)
        co__wake(w, 0);
}

static int co__acc_arm(struct co_acc *a)
{
    struct io_uring_sqe *sqe = co__sqe();
    if (!sqe)
        return -1;
    io_uring_prep_multishot_accept(sqe, a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, co__acc_data(a));
    a->armed = 1;
    return 0;
}

/* The next connection of lfd, from the queue its multishot accept fills:
 * no system call per connection. Waiting for one needs no drain — the
 * kernel writes nothing into the coroutine's memory, only completions. */
int co_accept(int lfd, int64_t deadline)
{
    co_t *c = co__op_begin(lfd, CO_READ, deadline);
    if (!c)
        return -1;
    for (;;) {
        /* Found again after every wait: a co_close() meanwhile frees it. */
        struct co_acc *a = co__acc(lfd, 1);
        if (!a)
            return -1;
        if (a->len > 0) {
            int fd = co__acc_pop(a);
            co__fd_forget(fd); /* whatever we knew of a file closed under this number */
            return fd;
        }
        if (a->err) {
            errno = a->err;
            a->err = 0;
            return -1; /* EMFILE and friends: the caller decides */
        }
        if (!a->armed && co__acc_arm(a) < 0)
            return -1;
        struct co_fd *s = co__fd(lfd);
        if (!s)
            return -1;
        s->reader = c;
        c->wait = CO_W_FD;
        c->wait_fd = lfd;
        c->wait_dirs = CO_READ;
        L.fd_waiters++;
        int err = co__suspend(c, deadline);
        if (err && (!(a = co__acc(lfd, 0)) || a->len == 0)) {
            errno = err;
            return -1;
        }
    }
}

/* --- connect, waiting for a descriptor, close ------------------------------ */

/* A CONNECT submission. The socket is made non-blocking first, as the loop's
 * co_connect does (the contract: every descriptor given to co_* is). A kernel
 * whose CONNECT reports EINPROGRESS for such a socket gets the loop's answer:
 * wait until writable, then read SO_ERROR. */
int co_connect(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
    co_t *c = co__op_begin(fd, CO_WRITE, deadline);
    if (!c)
        return -1;
    int on = 1;
    if (ioctl(fd, FIONBIO, &on) < 0)
        return -1;
    co__fd_forget(fd);
    struct io_uring_sqe *sqe = co__fd(fd) ? co__sqe() : NULL;
    if (!sqe)
        return -1;
    struct co_op op = {0};
    io_uring_prep_connect(sqe, fd, sa, len);
    if (co__op_wait(c, &op, sqe, fd, CO_WRITE, deadline) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EALREADY)
        return -1;
    if (co_wait_fd(fd, CO_WRITE, deadline) < 0)
        return -1;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* A one-shot POLL_ADD: complete when fd is readable and/or writable. */
int co_wait_fd(int fd, int events, int64_t deadline)
{
    if (events == 0 || (events & ~(CO_READ | CO_WRITE))) {
        errno = EINVAL;
        return -1;
    }
    co_t *c = co__op_begin(fd, events, deadline);
    struct io_uring_sqe *sqe = c ? co__sqe() : NULL;
    if (!sqe)
        return -1;
    struct co_op op = {0};
    unsigned mask = ((events & CO_READ) ? POLLIN : 0) | ((events & CO_WRITE) ? POLLOUT : 0);
    io_uring_prep_poll_add(sqe, fd, mask);
    int r = co__op_wait(c, &op, sqe, fd, events, deadline);
    if (r < 0)
        return -1;
    if (r & POLLNVAL) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

/* Forget fd: its waiters wake with EBADF (and drain their operations). A
 * listener's multishot accept is cancelled (it holds the socket open until
 * then) and its state freed with the connections it had queued. */
int co_close(int fd)
{
    struct co_acc *a = co__acc(fd, 0);
    if (a) {
        struct co_acc **pp = &co__accs;
        while (*pp != a)
            pp = &(*pp)->next;
        *pp = a->next;
        struct io_uring_sqe *sqe = a->armed ? co__sqe() : NULL;
        if (sqe) {
            io_uring_prep_cancel64(sqe, co__acc_data(a), 0);
            io_uring_sqe_set_data64(sqe, 0);
            sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        }
        co__acc_free(a);
    }
    return co__epoll_close(fd); /* the loop's: wake the waiters, close(2) */
}

/* The loop's co_cancel, except for a coroutine draining an operation: it is
 * marked cancelled (its next call fails) but stays parked until the kernel
 * has given the operation back. */
int co_cancel(co_t *c)
{
    if (c && c->state == CO_WAITING && c->wait == CO_W_FD && c->wait_dirs == 0) {
        c->cancelled = 1;
        return 0;
    }
    return co__epoll_cancel(c);
}
