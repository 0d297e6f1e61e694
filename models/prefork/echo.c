/* echo-prefork — the echo server with N processes forked at start.
 *
 * The parent listens, then forks N children (--workers) and serves nobody
 * itself. Every child blocks in accept() on the SAME listening socket, which
 * it inherited; the kernel hands each new connection to one of the children
 * waiting there (Linux wakes one, not all), and that child serves it to the
 * end with the same blocking serve() loop as ../fork/echo.c before it accepts
 * the next. A connection costs no fork(): the processes are made once. The
 * price is a fixed number: with more clients than children, the others wait
 * in the kernel's accept queue, connected but unserved, until a child is
 * free. The parent only waits for signals: it forks a new child for one that
 * dies, and on SIGTERM ends and reaps them all. Apache's prefork MPM works
 * this way; so does UNP's pre-forked server (Stevens, ch. 30). */
#include "net.h"
#include "server.h"
#include "work.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "echo-prefork";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096, .workers = 64};

/* The children, one slot each. Only the parent's single thread touches
 * this: no lock. */
static pid_t *kids; /* opts.workers slots: a child's PID, or 0 for a slot to fill */

/* One connection's whole life, in a child: echo until the peer closes. */
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
    close(fd);
}

/* A child's whole life: accept, serve, accept the next. It never returns;
 * SIGTERM (from the parent, or the parent's death) ends it. */
static void child(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            serve(fd);
            continue;
        }
        int r = server_accept_failed(lfd, errno, prog);
        if (r < 0)
            _exit(1); /* a bug, said on stderr: the parent forks a replacement */
        if (r > 0) {  /* out of descriptors: refuse for a moment, like the others */
            struct timespec pause = {0, 100 * 1000000};
            nanosleep(&pause, NULL);
        }
    }
}

/* Fork a child into every empty slot. Returns 0, or -1 if fork() failed
 * (EAGAIN: out of processes or memory): the caller pauses a moment and
 * tries again, serving with the children it has meanwhile. */
static int fill(int lfd, int sigfd)
{
    for (long i = 0; i < opts.workers; i++) {
        if (kids[i] != 0)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            server_signals_reset(sigfd);      /* SIGTERM ends a child the default way */
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* and so does the parent's death */
            if (getppid() == 1)               /* the parent died before prctl() */
                _exit(0);
            child(lfd);
        }
        if (pid < 0) {
            server_complain(prog, "fork", errno);
            return -1;
        }
        kids[i] = pid;
    }
    return 0;
}

/* Collect every child that has exited (none stays a zombie), emptying its
 * slot for fill(). */
static void reap(void)
{
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        for (long i = 0; i < opts.workers; i++)
            if (kids[i] == pid)
                kids[i] = 0;
}

/* End every child and wait for each, so the server leaves no zombie. */
static void stop_all(void)
{
    long alive = 0;
    for (long i = 0; i < opts.workers; i++)
        if (kids[i] != 0) {
            kill(kids[i], SIGTERM);
            alive++;
        }
    while (alive > 0) {
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        alive--;
    }
}

int main(int argc, char **argv)
{
    int pr = server_parse(&opts, prog,
                          "An echo server with N processes forked at start (--workers), each blocking in\n"
                          "accept() and serving one connection at a time: whatever arrives is sent back\n"
                          "byte for byte. With more clients than workers the rest wait, unserved, in the\n"
                          "kernel's accept queue. SIGINT or SIGTERM stops it and its children cleanly.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    kids = calloc((size_t)opts.workers, sizeof *kids);
    int sigfd = server_signals(1); /* SIGCHLD too: a child died, fork another */
    char why[160];
    int lfd = kids ? server_listen(&opts, why, sizeof why) : -1;
    if (lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, kids ? why : "out of memory");
        return 1;
    }
    /* The parent serves nobody: it keeps every slot filled and waits for
     * signals (poll() ignores the fd -1). */
    int status = 0, ev = SERVER_STOP;
    for (;;) {
        reap();
        if (fill(lfd, sigfd) < 0) { /* out of processes: try again in a moment */
            if (server_pause(sigfd, 100))
                break; /* SIGINT/SIGTERM during the pause */
            continue;
        }
        if ((ev = server_wait(-1, sigfd, prog)) != SERVER_CHILD)
            break;
    }
    if (ev == SERVER_FAILED)
        status = 1;
    stop_all();
    close(lfd);
    free(kids);
    return status;
}
