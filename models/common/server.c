/* server.c — see server.h. */
#include "server.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void server_parse(struct server_opts *o, const char *prog, const char *about, int argc,
                  char **argv)
{
    const struct flag flags[] = {
        {"port", 'p', FLAG_INT, &o->port, 0, 65535, "PORT", "TCP port; 0 asks the kernel for a free one"},
        {"bind", 'b', FLAG_STR, &o->bind, 0, 0, "ADDR", "IPv4 address to listen on"},
        {"backlog", 0, FLAG_INT, &o->backlog, 1, 1 << 20, "N", "listen backlog (the kernel caps it at net.core.somaxconn)"},
        {"work", 'w', FLAG_INT, &o->work, 0, 100000000, "N", "units of CPU work per message (see docs/methodology.md)"},
        {"stack-kib", 0, FLAG_INT, &o->stack_kib, 0, 1 << 20, "KIB", "stack per connection for threads and coroutines; 0 = model default"},
        {0},
    };
    const struct flags_spec spec = {prog, "[flags]", about, flags, 0};
    flags_parse(&spec, argc, argv);
}

/* One descriptor kept in reserve from the start: when the process runs out,
 * closing it makes room to accept a pending connection and close it at once,
 * so the client is refused instead of waiting in the backlog. */
static int spare_fd = -1;

int server_listen(const struct server_opts *o, const char *prog)
{
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int port = 0;
    signal(SIGPIPE, SIG_IGN);
    int fd = net_listen(o->bind, (int)o->port, (int)o->backlog, &port);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot listen on %s:%ld: %s\n", prog, o->bind, o->port,
                strerror(errno));
        _exit(1);
    }
    printf("listening on %s:%d\n", o->bind, port);
    fflush(stdout);
    return fd;
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

void server_complain(const char *prog, const char *what, int err)
{
    static time_t last;
    time_t now = time(NULL);
    if (now == last)
        return;
    last = now;
    fprintf(stderr, "%s: %s: %s; refusing new connections for a moment\n", prog, what,
            strerror(err));
}

int server_accept_failed(int listen_fd, int err, const char *prog)
{
    switch (err) {
    case EINTR: case EAGAIN: case ECONNABORTED: case EPROTO: case EPERM:
        return 0;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
        server_complain(prog, "accept", err);
        if (spare_fd >= 0) {
            close(spare_fd);
            int c = accept(listen_fd, NULL, NULL);
            if (c >= 0)
                close(c);
            spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        return 1;
    default:
        fprintf(stderr, "%s: accept: %s\n", prog, strerror(err));
        return -1;
    }
}

int server_pause(int sigfd, int ms)
{
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

int server_wait(int fd, int sigfd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    for (;;) {
        int n = poll(p, 2, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (p[1].revents)
            return 0;
        return n == 0 ? 2 : 1;
    }
}
