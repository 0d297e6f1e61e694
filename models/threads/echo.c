/* echo-threads — the echo server with one POSIX thread per connection.
 *
 * The main thread accepts; every connection gets a thread of its own that
 * reads and writes with ordinary blocking calls. When a thread blocks, the
 * KERNEL decides which thread runs next: switching is preemptive, and the
 * threads can run on every core at once. The price: a kernel thread and a
 * stack per connection, and shared data (the list of connections below)
 * needs a lock. Compare with ../loop/echo.c: the same serve() loop, but there
 * the coroutines decide when to switch. */
#include "net.h"
#include "server.h"
#include "work.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *prog = "echo-threads";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};

/* The open connections, so that stopping can wake every blocked thread. */
struct conn {
    int fd;                   /* the connection's socket */
    struct conn *prev, *next; /* neighbours in the list of open connections */
};
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the three below */
static pthread_cond_t conns_gone = PTHREAD_COND_INITIALIZER;   /* signalled when nconns drops */
static struct conn *conns;                                     /* head of the list */
static long nconns;                                            /* its length */

static struct conn *conn_add(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    pthread_mutex_lock(&conns_lock);
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    nconns++;
    pthread_mutex_unlock(&conns_lock);
    return c;
}

/* Unlink and close under the lock, so stop_all() never touches a closed fd. */
static void conn_forget(struct conn *c)
{
    pthread_mutex_lock(&conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->fd);
    nconns--;
    pthread_cond_signal(&conns_gone);
    pthread_mutex_unlock(&conns_lock);
    free(c);
}

/* One connection's whole life: echo until the peer closes or fails. The
 * read() and write() block this thread only; the others go on. */
static void *serve(void *arg)
{
    struct conn *c = arg;
    char buf[SERVER_BUF];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) /* 0: the peer closed its side (all it sent was echoed); <0: reset */
            break;
        work_do(opts.work, buf, (size_t)n);
        if (net_write_all(c->fd, buf, (size_t)n) < 0)
            break;
    }
    conn_forget(c);
    return NULL;
}

/* Wake every thread (shutdown makes its blocked read or write return) and
 * wait until all of them have closed their connection. */
static void stop_all(void)
{
    pthread_mutex_lock(&conns_lock);
    for (struct conn *c = conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    while (nconns > 0)
        pthread_cond_wait(&conns_gone, &conns_lock);
    pthread_mutex_unlock(&conns_lock);
}

/* Start a thread for the connection. Returns 0, or 1 if it cannot (EAGAIN:
 * out of threads or memory): the connection is refused and the caller
 * pauses a moment, keeping the connections it has. */
static int start_thread(int fd, pthread_attr_t *attr)
{
    pthread_t t;
    struct conn *c = conn_add(fd);
    int err = c ? pthread_create(&t, attr, serve, c) : ENOMEM;
    if (err == 0)
        return 0;
    if (c)
        conn_forget(c);
    else
        close(fd);
    server_complain(prog, "pthread_create", err);
    return 1;
}

int main(int argc, char **argv)
{
    int pr = server_parse(&opts, prog,
                          "An echo server with one POSIX thread per connection: whatever arrives is\n"
                          "sent back byte for byte. SIGINT or SIGTERM stops it cleanly.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    int sigfd = server_signals(0); /* blocked in every thread; main waits on the fd */
    char why[160];
    int lfd = server_listen(&opts, why, sizeof why);
    if (lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    net_set_nonblock(lfd);         /* a connection reset before accept() must not block us */

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (opts.stack_kib > 0 && pthread_attr_setstacksize(&attr, (size_t)opts.stack_kib * 1024) != 0) {
        fprintf(stderr, "%s: --stack-kib %ld: too small for a thread\n", prog, opts.stack_kib);
        return 2;
    }

    int status = 0, ev;
    while ((ev = server_wait(lfd, sigfd, prog)) == SERVER_READY) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        /* r: 0 served; 1 out of something, the newcomer refused: pause; -1 stop */
        int r = fd >= 0 ? start_thread(fd, &attr) : server_accept_failed(lfd, errno, prog);
        if (r < 0) {
            status = 1;
            break;
        }
        if (r > 0 && server_pause(sigfd, 100)) /* SIGINT/SIGTERM during the pause */
            break;
    }
    if (ev == SERVER_FAILED)
        status = 1;
    stop_all();
    close(lfd);
    return status;
}
