/* echo-fork — the echo server with one process per connection.
 *
 * The parent accepts; every connection gets a child process, made by fork(),
 * that reads and writes with ordinary blocking calls. The KERNEL decides which
 * process runs, on every core at once. Processes share no memory, so nothing
 * needs a lock — but each costs a whole address space (page tables, a kernel
 * stack, copy-on-write pages), and the parent must reap every child that
 * exits. Compare with ../threads/echo.c: the same serve() loop. */
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
#include <unistd.h>

static const char *prog = "echo-fork";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};

/* The children alive, so that stopping can end them all. Only the parent's
 * single thread touches this: no lock. */
static pid_t *kids;    /* their PIDs, in no order */
static long nkids;     /* how many */
static long kids_cap;  /* room in kids[] */

static int kids_add(pid_t pid)
{
    if (nkids == kids_cap) {
        long cap = kids_cap ? kids_cap * 2 : 256;
        pid_t *k = realloc(kids, (size_t)cap * sizeof *k);
        if (!k)
            return -1;
        kids = k;
        kids_cap = cap;
    }
    kids[nkids++] = pid;
    return 0;
}

static void kids_remove(pid_t pid)
{
    for (long i = 0; i < nkids; i++) {
        if (kids[i] == pid) {
            kids[i] = kids[--nkids];
            return;
        }
    }
}

/* Collect every child that has exited, so none stays a zombie. */
static void reap(void)
{
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        kids_remove(pid);
}

/* One connection's whole life, in the child: echo until the peer closes. */
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

/* Fork a child for the connection. The parent closes its copy of the socket
 * at once: the child's copy is the one that lives. Returns 0, or 1 if fork()
 * failed (EAGAIN: out of processes or memory): the connection is refused and
 * the caller pauses a moment, keeping the children it has. */
static int start_child(int fd, int lfd, int sigfd)
{
    pid_t pid = fork();
    if (pid == 0) {
        server_signals_reset(sigfd);       /* SIGTERM ends a child the default way */
        prctl(PR_SET_PDEATHSIG, SIGTERM);  /* and so does the parent's death */
        close(lfd);
        serve(fd);
        _exit(0);
    }
    close(fd);
    if (pid < 0) {
        server_complain(prog, "fork", errno);
        return 1;
    }
    if (kids_add(pid) < 0) { /* cannot keep track of it: do not leave it behind */
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return 0;
}

/* End every child and wait for each, so the server leaves no zombie. */
static void stop_all(void)
{
    for (long i = 0; i < nkids; i++)
        kill(kids[i], SIGTERM);
    while (nkids > 0) {
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        kids_remove(pid);
    }
}

/* Wait for a connection, reaping the children that SIGCHLD says have exited
 * meanwhile. Returns SERVER_READY, SERVER_STOP or SERVER_FAILED. */
static int wait_for_work(int lfd, int sigfd)
{
    int ev;
    while ((ev = server_wait(lfd, sigfd, prog)) == SERVER_CHILD)
        reap();
    return ev;
}

/* Refuse new connections for a moment (out of descriptors or processes).
 * Returns 1 if SIGINT or SIGTERM came meanwhile. A SIGCHLD does not end the
 * pause (only the stop signals may stop a server), so reap after it. */
static int pause_a_moment(int sigfd)
{
    int stop = server_pause(sigfd, 100);
    reap();
    return stop;
}

int main(int argc, char **argv)
{
    int pr = server_parse(&opts, prog,
                          "An echo server with one process per connection: whatever arrives is\n"
                          "sent back byte for byte. SIGINT or SIGTERM stops it and its children cleanly.",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    int sigfd = server_signals(1); /* SIGCHLD too: a child exited, reap it */
    char why[160];
    int lfd = server_listen(&opts, why, sizeof why);
    if (lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    net_set_nonblock(lfd);         /* a connection reset before accept() must not block us */

    int status = 0, ev;
    while ((ev = wait_for_work(lfd, sigfd)) == SERVER_READY) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        /* r: 0 served; 1 out of something, the newcomer refused: pause; -1 stop */
        int r = fd >= 0 ? start_child(fd, lfd, sigfd) : server_accept_failed(lfd, errno, prog);
        if (r < 0) {
            status = 1;
            break;
        }
        if (r > 0 && pause_a_moment(sigfd))
            break;
    }
    if (ev == SERVER_FAILED)
        status = 1;
    stop_all();
    close(lfd);
    return status;
}
