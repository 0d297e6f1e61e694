/* server.c — see server.h. */
#include "server.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

int server_parse(struct server_opts *o, const char *prog, const char *about, int argc,
                  char **argv)
{
    struct flag flags[] = {
        {"port", 'p', FLAG_INT, &o->port, 0, 65535, "PORT", "TCP port; 0 asks the kernel for a free one"},
        {"bind", 'b', FLAG_STR, &o->bind, 0, 0, "ADDR", "IPv4 address to listen on"},
        {"backlog", 0, FLAG_INT, &o->backlog, 1, 1 << 20, "N", "listen backlog (the kernel caps it at net.core.somaxconn)"},
        {"work", 'w', FLAG_INT, &o->work, 0, 100000000, "N", "units of CPU work per message (see docs/methodology.md)"},
        {"stack-kib", 0, FLAG_INT, &o->stack_kib, 0, 1 << 20, "KIB",
         "stack per connection for threads and coroutines: 0 = model default, else at least "
         STR(SERVER_STACK_MIN_KIB)},
        {0}, /* room for the model's own flag, below */
        {0}, /* and for --offload */
        {0},
    };
    /* --workers (a pool) and --loops only for a model that set its default
     * beforehand: the others neither list nor accept them. */
    struct flag *own = &flags[sizeof flags / sizeof *flags - 3];
    if (o->workers > 0)
        *own = (struct flag){"workers", 0, FLAG_INT, &o->workers, 1, 100000, "N",
                             "processes or threads in the pool, each serving one connection at a time"};
    else if (o->loops > 0)
        *own = (struct flag){"loops", 0, FLAG_INT, &o->loops, 1, 1024, "N",
                             "event loops, one thread and one listening socket each; one per online CPU"};
    if (o->offload_flag) /* own[1]: after --workers/--loops, or in their empty slot's place */
        own[own->name ? 1 : 0] = (struct flag){"offload", 0, FLAG_BOOL, &o->offload, 0, 0, NULL,
                                               "do --work on a pool of worker threads while the connection waits"};
    const struct flags_spec spec = {prog, "[flags]", about, flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return fr;
    /* serve() keeps a SERVER_BUF buffer on its stack (see server.h): refuse
     * at start a stack it would overflow on the first connection. */
    if (o->stack_kib != 0 && o->stack_kib < SERVER_STACK_MIN_KIB)
        return flags_error(&spec, "--stack-kib: %ld is too small for a connection's %d KiB buffer; at least %d",
                           o->stack_kib, SERVER_BUF / 1024, SERVER_STACK_MIN_KIB);
    return 0;
}

/* One descriptor kept in reserve from the start: when the process runs out,
 * closing it makes room to accept a pending connection and close it at once,
 * so the client is refused instead of waiting in the backlog. */
static int spare_fd = -1;

int server_listen(const struct server_opts *o, char *why, size_t len)
{
    int port = 0;
    int fd = net_listen(o->bind, (int)o->port, (int)o->backlog, &port);
    if (fd < 0) {
        int err = errno;
        snprintf(why, len, "cannot listen on %s:%ld: %s", o->bind, o->port, strerror(err));
        errno = err;
        return -1;
    }
    server_ready(o, port);
    return fd;
}

void server_ready(const struct server_opts *o, int port)
{
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    printf("listening on %s:%d\n", o->bind, port);
    fflush(stdout);
}

int server_signals(int with_sigchld)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (with_sigchld)
        sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int server_signal_read(int sigfd)
{
    struct signalfd_siginfo si;
    if (read(sigfd, &si, sizeof si) != (ssize_t)sizeof si)
        return 0;
    return (int)si.ssi_signo;
}

void server_signals_reset(int sigfd)
{
    sigset_t set;
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
    close(sigfd);
}

/* Read every signal waiting on sigfd: SERVER_STOP if SIGINT or SIGTERM was
 * among them, else SERVER_CHILD if SIGCHLD was, else 0. Everything is read,
 * so that a waiting SIGCHLD cannot hide a stop signal behind it. */
static int signals_drain(int sigfd)
{
    int sig, seen = 0;
    while ((sig = server_signal_read(sigfd)) != 0) {
        if (sig == SIGINT || sig == SIGTERM)
            seen = SERVER_STOP;
        else if (sig == SIGCHLD && seen == 0)
            seen = SERVER_CHILD;
    }
    return seen;
}

static struct ratelog complaints; /* all of a server's complaints share one line a second */

void server_complain(const char *prog, const char *what, int err)
{
    ratelog(&complaints, "%s: %s: %s; refusing new connections for a moment", prog, what,
            strerror(err));
}

int server_accept_failed(int listen_fd, int err, const char *prog)
{
    switch (err) {
    case EINTR: case EAGAIN: case ECONNABORTED: case EPERM:
    case EPROTO: case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
    case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
        return 0;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
        server_complain(prog, "accept", err);
        /* Taken with an atomic exchange: in echo-loops several threads may get
         * here at once, and only one of them may close the spare. */
        int spare = __atomic_exchange_n(&spare_fd, -1, __ATOMIC_ACQ_REL);
        if (spare >= 0) {
            close(spare);
            int c = accept(listen_fd, NULL, NULL);
            if (c >= 0)
                close(c);
            __atomic_store_n(&spare_fd, open("/dev/null", O_RDONLY | O_CLOEXEC), __ATOMIC_RELEASE);
        }
        return 1;
    default:
        fprintf(stderr, "%s: accept: %s\n", prog, strerror(err));
        return -1;
    }
}

int server_pause(int sigfd, int ms)
{
    long long end = net_now_ns() + (long long)ms * 1000000;
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    for (;;) {
        long long left = end - net_now_ns();
        if (left <= 0)
            return 0;
        int n = poll(&p, 1, (int)((left + 999999) / 1000000));
        if (n < 0 && errno != EINTR) { /* cannot watch sigfd: sleep; a signal stays queued */
            struct timespec ts = {left / 1000000000, left % 1000000000};
            nanosleep(&ts, NULL);
            return 0;
        }
        if (n > 0 && signals_drain(sigfd) == SERVER_STOP)
            return 1;
    }
}

int server_wait(int fd, int sigfd, const char *prog)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            fprintf(stderr, "%s: poll: %s\n", prog, strerror(err));
            errno = err;
            return SERVER_FAILED;
        }
        int sig = p[1].revents ? signals_drain(sigfd) : 0;
        if (sig)
            return sig;
        if (p[0].revents)
            return SERVER_READY;
    }
}
/* SO_REUSEPORT would also let us join the sockets of another server of the
 * same user that already listens on a port we were given: check first that
 * nothing listens there (a plain bind, as every other model does), so a
 * port in use is refused with EADDRINUSE here too. 0, or -1 with errno.
 * (Port 0 needs no check: the kernel never hands out a port in use.) */
static int port_free(const char *host, int port)
{
    int fd = net_listen(host, port, 1, NULL);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* n listening sockets on one port, SO_REUSEPORT: the first fixes the port
 * (a free one if --port 0), the others bind it, and the KERNEL spreads new
 * connections across them (a hash of each connection's addresses picks the
 * socket). Then the ready line, as server_listen() prints it. */
int server_listen_shared(const struct server_opts *o, int *fds, long n, char *why, size_t len)
{
    int port = (int)o->port;
    if (port != 0 && port_free(o->bind, port) < 0)
        goto fail;
    for (long i = 0; i < n; i++) {
        fds[i] = net_listen_shared(o->bind, port, (int)o->backlog, &port);
        if (fds[i] < 0)
            goto fail;
    }
    server_ready(o, port);
    return 0;
fail:
    snprintf(why, len, "cannot listen on %s:%ld: %s", o->bind, o->port, strerror(errno));
    return -1;
}
