/* echo-loops — the echo server with one coroutine loop per core: N threads,
 * each running the loop model's server on a listening socket of its own.
 *
 * serve(), acceptor() and stopper() are ../loop/echo.c's, included as they
 * are; the one change they needed is `__thread` on the two descriptors they
 * use, so each thread has its own. What is new is how the loops get connections:
 * N listening sockets bound to the same port with SO_REUSEPORT, one per loop,
 * and the KERNEL spreads new connections across them (a hash of each
 * connection's addresses picks the socket). A connection then lives its whole
 * life on the loop that accepted it. The loops share nothing while they
 * serve — no queue, no counter, no lock — and each switches between its own
 * coroutines exactly as echo-loop does, while the kernel runs the N threads
 * on every core at once. With --loops 1 this is echo-loop. */
#define ECHO_LOOP_NO_MAIN
#include "../loop/echo.c" /* serve(), acceptor(), stopper(), and the options they read */

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- N loops ---------------------------------------------------------------- */

/* What main() prepares for one loop before it starts. */
struct loop {
    int lfd;       /* its listening socket, on the shared port */
    int sigfd;     /* its own signalfd */
    pthread_t tid; /* the thread running it (loop 0 runs on main's) */
};

/* One loop's thread: what echo-loop's main() does once it listens. A loop
 * that cannot run asks the process to stop (the signal every loop's
 * stopper waits for): a dead loop's socket would still be given its share
 * of the connections, and nobody would accept them. Returns NULL, or
 * (void *)1 if this loop failed. */
static void *loop_run(void *arg)
{
    struct loop *l = arg;
    lfd = l->lfd;
    sigfd = l->sigfd;
    if (co_init((size_t)opts.stack_kib * 1024) < 0 || co_go(acceptor, NULL) < 0 ||
        co_go(stopper, NULL) < 0) {
        fprintf(stderr, "%s: cannot start a loop's runtime: %s\n", prog, strerror(errno));
        kill(getpid(), SIGTERM);
        return (void *)1;
    }
    if (co_run() < 0) {
        fprintf(stderr, "%s: a loop failed: %s\n", prog, strerror(errno));
        kill(getpid(), SIGTERM);
        return (void *)1;
    }
    return NULL;
}

/* A listening socket on host:port that other sockets may share. Every one
 * of the loops' sockets sets SO_REUSEPORT before bind(), the first included:
 * that is what lets them all bind one port, and what makes the kernel deal
 * the connections out among them. Returns the fd and the port it got, or -1
 * with errno. */
static int reuseport_listen(const char *host, int port, int backlog, int *bound)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1;
    if (net_addr(host, port, &sa) < 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* SO_REUSEPORT would also let us join the sockets of another server of the
 * same user that already listens on a port we were given: check first that
 * nothing listens there (a plain bind, as every other model does), so a
 * port in use is refused with EADDRINUSE here too. 0, or -1 with errno.
 * (Port 0 needs no check: the kernel never hands out a port in use.) */
static int port_free(const char *host, int port)
{
    struct sockaddr_in sa;
    int one = 1;
    if (net_addr(host, port, &sa) < 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

/* Open every loop's listening socket and signalfd; the first socket fixes
 * the port (a free one if --port 0), the others bind it. Returns the port,
 * or -1 with a one-line reason in why[len]. */
static int loops_listen(struct loop *loops, long n, char *why, size_t len)
{
    int port = (int)opts.port;
    if (port != 0 && port_free(opts.bind, port) < 0)
        goto fail;
    for (long i = 0; i < n; i++) {
        loops[i].lfd = reuseport_listen(opts.bind, port, (int)opts.backlog, &port);
        if (loops[i].lfd < 0)
            goto fail;
        loops[i].sigfd = server_signals(0); /* blocks the signals in every thread to come */
        if (loops[i].sigfd < 0) {
            snprintf(why, len, "signalfd: %s", strerror(errno));
            return -1;
        }
    }
    return port;
fail:
    snprintf(why, len, "cannot listen on %s:%ld: %s", opts.bind, opts.port, strerror(errno));
    return -1;
}

/* The default --loops: one per online CPU. */
static long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : n;
}

int main(int argc, char **argv)
{
    prog = "echo-loops";
    opts.loops = online_cpus();
    int pr = server_parse(&opts, prog,
                          "An echo server with one coroutine loop per core: N threads, each running\n"
                          "echo-loop's server on its own listening socket, all bound to one port with\n"
                          "SO_REUSEPORT; the kernel spreads the connections across them. Whatever\n"
                          "arrives is sent back byte for byte. SIGINT or SIGTERM stops every loop.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    struct loop *loops = calloc((size_t)opts.loops, sizeof *loops);
    char why[160];
    if (!loops) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    int port = loops_listen(loops, opts.loops, why, sizeof why);
    if (port < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    server_ready(&opts, port); /* every loop listens: the ready line */

    /* Loop 0 runs on this thread; the others get one each. */
    int status = 0;
    long started = 1;
    for (; started < opts.loops; started++) {
        int err = pthread_create(&loops[started].tid, NULL, loop_run, &loops[started]);
        if (err != 0) {
            fprintf(stderr, "%s: cannot start loop %ld: %s\n", prog, started, strerror(err));
            kill(getpid(), SIGTERM); /* stop the loops already running */
            status = 1;
            break;
        }
    }
    if (loop_run(&loops[0]) != NULL)
        status = 1;
    for (long i = 1; i < started; i++) {
        void *r;
        pthread_join(loops[i].tid, &r);
        if (r != NULL)
            status = 1;
    }
    free(loops);
    return status;
}
