/* uring.c — the io_uring backend (backend.h): completion. Where the epoll
 * backend waits for "readable" and then calls read(2), co_read here queues a
 * RECV into the caller's buffer and parks; the completion carries the bytes.
 *
 *   epoll (readiness)                     io_uring (completion)
 *   read(2) + write(2) + a share of one   a share of ONE io_uring_enter per
 *   epoll_wait per message                loop turn: it submits every queued
 *                                         operation and reaps every completion
 *   accept4(2) per connection             one multishot ACCEPT per listener
 *                                         (uring_accept.c)
 *
 * The rule that keeps this safe: the kernel writes into the caller's buffer
 * (on the coroutine's stack) until the operation completes, so no I/O call
 * returns before its completion has arrived — not even when a deadline,
 * co_cancel() or co_close() wakes the coroutine early. Then it asks the
 * kernel to cancel the operation (IORING_OP_ASYNC_CANCEL) and waits for the
 * operation's own completion, in a wait nothing else can end (co__drain,
 * CO_W_DRAIN: co_cancel only marks such a coroutine). */
#include "backend.h"
#include "uring.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

__thread struct io_uring co__R;

const char *co_backend(void)
{
    return "io_uring";
}

/* === the ring ============================================================= */

/* Set up the ring (co_init, once per thread); its fd goes to L.kfd.
 *
 * IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (Linux 6.1): only
 * this thread submits, and the kernel's end of each completion (task_work:
 * copying the data, posting the completion) waits until this thread next
 * enters io_uring_enter to wait, instead of interrupting it wherever it runs
 * (see docs/models/uring.md). A kernel that refuses them gets a plain ring
 * and one line saying so. C10K_URING_PLAIN=1 asks for the plain ring: the
 * experiment that measures the difference. */
int co__backend_init(void)
{
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
    L.kfd = co__R.ring_fd;
    return 0;
}

/* A free submission slot. A turn that queued CO_RING_SQ operations already
 * submits them now to make room: a system call more, only under that load. */
struct io_uring_sqe *co__sqe(void)
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

/* The loop's one system call per turn: submit every operation the
 * coroutines queued since the last turn, wait until at least one completes
 * or `timeout` ms pass (the nearest deadline, which the scheduler computed
 * from the timer heap; -1: none), and hand every completion to its
 * coroutine. With DEFER_TASKRUN this is also when the kernel finishes the
 * operations that became ready meanwhile. 0, or -1 + errno. */
int co__backend_poll(int timeout)
{
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
    return 0; /* -EINTR included: the loop goes on */
}

/* Nothing to do after the timers: the ring needs no audit (a closed
 * descriptor's operations complete with an error). */
void co__backend_tick(void)
{
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
        if (!asked) { /* no submission slot free: try again next turn */
            co__ready(c);
            co__switch_away(c, 0);
            continue;
        }
        c->wait = CO_W_DRAIN; /* co_cancel leaves it parked (co.c) */
        L.fd_waiters++;       /* so the scheduler asks the kernel */
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
    co__fd_park(c, fd, dirs);
    int err = co__suspend(c, deadline);
    if (!op->done)
        co__drain(c, op);
    if (op->res >= 0)
        return op->res;
    errno = op->res == -ECANCELED && err ? err : -op->res;
    return -1;
}

/* The checks every I/O call starts with: a coroutine that may wait, within
 * its budget (budget.c), and fd's slot free in `dirs`. Returns the
 * running coroutine, or NULL + errno. */
co_t *co__op_begin(int fd, int dirs, int64_t deadline)
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

/* --- connect, waiting for a descriptor, close ------------------------------ */

/* A CONNECT submission. The socket is made non-blocking first (coro.h's
 * contract says every descriptor given to co_* already is; this makes sure,
 * for the fallback below). A kernel whose CONNECT reports EINPROGRESS for
 * such a socket gets the readiness answer: wait until writable (a POLL_ADD),
 * then read SO_ERROR. */
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
 * then) and its state freed with the connections it had queued
 * (uring_accept.c). */
int co_close(int fd)
{
    co__acc_close(fd);
    co__fd_forget(fd);
    return close(fd);
}
