/* echo-pool — the echo server with a pool of N worker threads.
 *
 * N threads (--workers) are started once. The main thread accepts, as in
 * ../threads/echo.c, but instead of starting a thread for the connection it
 * puts the socket into a bounded queue; a worker takes it and serves it to
 * the end with the same blocking serve() loop, then takes the next. The
 * queue is a ring of descriptors under a mutex, with a condition variable
 * the idle workers sleep on. A connection costs no pthread_create(): the
 * threads are made once. The price is a fixed number: with more clients than
 * workers the others wait, connected but unserved, in the queue (N more) and
 * beyond it in the kernel's accept queue. Java's ThreadPoolExecutor servers
 * work this way; so does UNP's pre-threaded server (Stevens, ch. 30). */
#include "net.h"
#include "server.h"
#include "work.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *prog = "echo-pool";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096, .workers = 64};

/* The hand-off queue and the workers' connections, under one lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards everything below */
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER; /* signalled when a socket is queued or we stop */
static int *ring;      /* opts.workers slots of accepted sockets waiting for a worker */
static long head, len; /* the oldest waiting socket's slot, how many wait */
static int *serving;   /* per worker: the socket it serves, or -1 (so stopping can wake it) */
static int stopping;   /* set once: workers take no more sockets */

/* Queue an accepted socket for the workers. The caller made sure of room. */
static void hand_off(int fd)
{
    pthread_mutex_lock(&lock);
    ring[(head + len++) % opts.workers] = fd;
    pthread_cond_signal(&queued); /* wake one idle worker */
    pthread_mutex_unlock(&lock);
}

static int queue_full(void)
{
    pthread_mutex_lock(&lock);
    int full = len == opts.workers;
    pthread_mutex_unlock(&lock);
    return full;
}

/* A worker waits for a socket and marks it as the one it serves. Returns it,
 * or -1 when the server stops. */
static int take(long me)
{
    pthread_mutex_lock(&lock);
    while (len == 0 && !stopping)
        pthread_cond_wait(&queued, &lock);
    int fd = -1;
    if (!stopping) {
        fd = ring[head];
        head = (head + 1) % opts.workers;
        len--;
    }
    serving[me] = fd;
    pthread_mutex_unlock(&lock);
    return fd;
}

/* Close under the lock, so stop_all() never shuts down a closed fd. */
static void done(long me)
{
    pthread_mutex_lock(&lock);
    close(serving[me]);
    serving[me] = -1;
    pthread_mutex_unlock(&lock);
}

/* One connection's whole life: echo until the peer closes or fails. The
 * read() and write() block this worker only; the others go on. */
static void serve(int fd)
{
    char buf[SERVER_BUF];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) /* 0: the peer closed its side (all it sent was echoed); <0: reset */
            break;
        work_do(opts.work, buf, (size_t)n);
        if (net_write_all(fd, buf, (size_t)n) < 0)
            break;
    }
}

/* A worker's whole life: take a connection, serve it, take the next. */
static void *worker(void *arg)
{
    long me = (long)arg;
    int fd;
    while ((fd = take(me)) >= 0) {
        serve(fd);
        done(me);
    }
    return NULL;
}

/* Wake every worker (shutdown makes its blocked read or write return, the
 * condition variable its wait), wait for each to end, close what still
 * waits in the queue. */
static void stop_all(pthread_t *tids, long n)
{
    pthread_mutex_lock(&lock);
    stopping = 1;
    for (long i = 0; i < n; i++)
        if (serving[i] >= 0)
            shutdown(serving[i], SHUT_RDWR);
    pthread_cond_broadcast(&queued);
    pthread_mutex_unlock(&lock);
    for (long i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    for (; len > 0; len--, head = (head + 1) % opts.workers)
        close(ring[head]);
}

/* Start the pool: as many workers as we can, at most opts.workers. Returns
 * how many started; says so on stderr if fewer. */
static long start_workers(pthread_t *tids, pthread_attr_t *attr)
{
    for (long i = 0; i < opts.workers; i++) {
        serving[i] = -1;
        int err = pthread_create(&tids[i], attr, worker, (void *)i);
        if (err != 0) {
            fprintf(stderr, "%s: pthread_create: %s; %ld workers instead of %ld\n", prog,
                    strerror(err), i, opts.workers);
            return i;
        }
    }
    return opts.workers;
}

int main(int argc, char **argv)
{
    int pr = server_parse(&opts, prog,
                          "An echo server with a pool of N threads started once (--workers): the main\n"
                          "thread accepts and hands each connection through a queue to a free worker, which\n"
                          "serves it to the end. With more clients than workers the rest wait, unserved, in\n"
                          "the queue and the kernel's accept queue. SIGINT or SIGTERM stops it cleanly.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    int sigfd = server_signals(0); /* blocked in every thread; main waits on the fd */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (opts.stack_kib > 0 && pthread_attr_setstacksize(&attr, (size_t)opts.stack_kib * 1024) != 0) {
        fprintf(stderr, "%s: --stack-kib %ld: too small for a thread\n", prog, opts.stack_kib);
        return 2;
    }
    /* The pool first, the ready line after: a client that connects once it
     * is printed must find the main thread accepting, not starting threads. */
    pthread_t *tids = calloc((size_t)opts.workers, sizeof *tids);
    ring = calloc((size_t)opts.workers, sizeof *ring);
    serving = calloc((size_t)opts.workers, sizeof *serving);
    long nworkers = tids && ring && serving ? start_workers(tids, &attr) : 0;
    if (nworkers == 0) {
        fprintf(stderr, "%s: cannot start a single worker thread\n", prog);
        return 1;
    }
    char why[160];
    int lfd = server_listen(&opts, why, sizeof why);
    if (lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        stop_all(tids, nworkers);
        return 1;
    }
    net_set_nonblock(lfd);         /* a connection reset before accept() must not block us */

    int status = 0, ev;
    while ((ev = server_wait(lfd, sigfd, prog)) == SERVER_READY) {
        /* A full queue: leave the newcomers in the kernel's accept queue. A
         * condition variable cannot also wait for SIGTERM, so look every 10 ms. */
        if (queue_full()) {
            if (server_pause(sigfd, 10))
                break;
            continue;
        }
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            hand_off(fd);
            continue;
        }
        int r = server_accept_failed(lfd, errno, prog);
        if (r < 0) {
            status = 1;
            break;
        }
        if (r > 0 && server_pause(sigfd, 100)) /* SIGINT/SIGTERM during the pause */
            break;
    }
    if (ev == SERVER_FAILED)
        status = 1;
    stop_all(tids, nworkers);
    close(lfd);
    pthread_attr_destroy(&attr);
    free(tids);
    free(ring);
    free(serving);
    return status;
}
