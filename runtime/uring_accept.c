/* uring_accept.c — the io_uring backend's listeners: one multishot ACCEPT
 * per listening socket, so each new connection arrives as one completion,
 * whether or not anyone waits in co_accept just then, and no system call is
 * made per connection. */
#include "uring.h"

#include <stdlib.h>
#include <unistd.h>

/* A listening socket with a multishot accept. */
struct co_acc {
    int lfd;             /* the listening socket */
    uint32_t id;         /* names it in user_data: a late completion finds no one */
    int armed;           /* a multishot accept is in flight */
    int err;             /* an error it ended with, for the next co_accept */
    int *q;              /* accepted connections not yet taken, a ring of cap */
    size_t head, len, cap; /* ... oldest, how many, room */
    struct co_acc *next; /* the next listener of this thread */
};

/* A listener is named in user_data by an id, not its address, so co_close()
 * can free it at once: completions still on their way then find no
 * listener, and a connection they bring is closed. */
static __thread struct co_acc *co__accs;    /* this thread's listeners */
static __thread uint32_t co__acc_ids;       /* the last listener id given */

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
void co__acc_complete(uint32_t id, int res, unsigned flags)
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
     * accept, is not worth a caller's attention (the epoll backend retries
     * accept4 on them too). */
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
        co__fd_park(c, lfd, CO_READ);
        int err = co__suspend(c, deadline);
        if (err && (!(a = co__acc(lfd, 0)) || a->len == 0)) {
            errno = err;
            return -1;
        }
    }
}

/* co_close of fd, if it is a listener: forget it, cancel its multishot
 * accept (it holds the socket open until then), close the connections it
 * had queued. */
void co__acc_close(int fd)
{
    struct co_acc *a = co__acc(fd, 0);
    if (!a)
        return;
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
