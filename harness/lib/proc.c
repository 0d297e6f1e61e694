/* proc.c — start, wait for, stop and reap a program under test; see proc.h. */
#include "proc.h"
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* "12 s" for whole seconds, else "1500 ms": the deadlines in messages. */
static void proc_fmt_ms(int ms, char *buf, size_t cap)
{
    if (ms % 1000 == 0)
        snprintf(buf, cap, "%d s", ms / 1000);
    else
        snprintf(buf, cap, "%d ms", ms);
}

/* The child's side of proc_spawn: set up, exec, and on failure send errno
 * down `report` (close-on-exec, so a successful exec sends nothing). */
static void proc_child(char *const argv[], const struct proc_opts *o, int out_w, int report)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int err = 0;
    if (o->own_group)
        setpgid(0, 0);
    if (o->cpus && sched_setaffinity(0, sizeof *o->cpus, o->cpus) < 0)
        err = errno;
    if (!err && o->before_exec && o->before_exec(o->arg) < 0)
        err = errno ? errno : EPERM;
    if (!err && out_w >= 0 && dup2(out_w, STDOUT_FILENO) < 0)
        err = errno;
    if (!err && o->err_fd > 2 && dup2(o->err_fd, STDERR_FILENO) < 0)
        err = errno;
    if (!err) {
        if (o->search_path)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        err = errno;
    }
    ssize_t w = write(report, &err, sizeof err);
    (void)w; /* the parent sees a short read as "exec failed" either way */
    _exit(127);
}

int proc_spawn(struct proc *p, char *const argv[], const struct proc_opts *o)
{
    static const struct proc_opts defaults;
    if (!o)
        o = &defaults;
    memset(p, 0, sizeof *p);
    p->out_fd = -1;
    p->own_group = o->own_group;
    const char *base = strrchr(argv[0], '/');
    snprintf(p->name, sizeof p->name, "%s", base ? base + 1 : argv[0]);
    int out[2] = {-1, -1}, report[2] = {-1, -1};
    if ((o->pipe_stdout && pipe2(out, O_CLOEXEC) < 0) || pipe2(report, O_CLOEXEC) < 0)
        goto fail;
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0)
        proc_child(argv, o, out[1], report[1]);
    if (o->own_group)
        setpgid(pid, pid); /* also here, so the group exists before we ever signal it */
    close(report[1]);
    report[1] = -1;
    int err = 0;
    ssize_t n;
    while ((n = read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
    }
    close(report[0]);
    if (out[1] >= 0)
        close(out[1]);
    if (n > 0) { /* the child could not exec: reap it, give its errno */
        waitpid(pid, NULL, 0);
        if (out[0] >= 0)
            close(out[0]);
        errno = n == (ssize_t)sizeof err && err ? err : ECHILD;
        return -1;
    }
    p->pid = pid;
    p->out_fd = out[0];
    return 0;
fail:;
    int saved = errno;
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (report[i] >= 0)
            close(report[i]);
    }
    errno = saved;
    return -1;
}

/* The port of a "listening on ADDR:PORT" line, or 0. */
static int proc_ready_port(const char *line)
{
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening on ", 13) != 0 || !colon)
        return 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return (*end == '\0' || *end == '\r') && port > 0 && port < 65536 ? (int)port : 0;
}

/* Why the program ended before its ready line, if it did (reaping it). */
static int proc_ended_early(struct proc *p)
{
    if (waitpid(p->pid, &p->status, WNOHANG) != p->pid)
        return 0;
    p->pid = 0;
    if (WIFEXITED(p->status))
        snprintf(p->why + strlen(p->why), sizeof p->why - strlen(p->why),
                 "exited with status %d before its ready line", WEXITSTATUS(p->status));
    else
        snprintf(p->why + strlen(p->why), sizeof p->why - strlen(p->why),
                 "killed by signal %d before its ready line", WTERMSIG(p->status));
    return 1;
}

int proc_wait_ready(struct proc *p, int timeout_ms)
{
    char line[512];
    size_t len = 0;
    long long deadline = proc_now_ms() + timeout_ms;
    snprintf(p->why, sizeof p->why, "%s (pid %d) did not get ready: ", p->name, (int)p->pid);
    if (p->out_fd < 0) {
        snprintf(p->why + strlen(p->why), sizeof p->why - strlen(p->why), "its output is not a pipe");
        return -1;
    }
    for (;;) {
        char *nl;
        while ((nl = memchr(line, '\n', len))) {
            *nl = '\0';
            if ((p->port = proc_ready_port(line)) > 0) {
                p->why[0] = '\0';
                return 0;
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len);
        }
        int left = (int)(deadline - proc_now_ms());
        if (left <= 0) {
            char t[32];
            proc_fmt_ms(timeout_ms, t, sizeof t);
            snprintf(p->why + strlen(p->why), sizeof p->why - strlen(p->why),
                     "printed no ready line within %s", t);
            return -1;
        }
        struct pollfd pfd = {p->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, left) <= 0)
            continue;
        ssize_t n = read(p->out_fd, line + len, sizeof line - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* its output closed: most likely it exited; give it a moment to be reaped */
            for (int i = 0; i < 50 && !proc_ended_early(p); i++)
                usleep(10000);
            if (p->pid)
                snprintf(p->why + strlen(p->why), sizeof p->why - strlen(p->why),
                         "closed its output before printing a ready line");
            return -1;
        }
        len += (size_t)n;
        if (len == sizeof line - 1)
            len = 0; /* an absurdly long line: forget it */
    }
}

int proc_read(struct proc *p, char *buf, size_t *len, size_t cap)
{
    if (p->out_fd < 0)
        return 0;
    char tmp[4096];
    for (;;) {
        struct pollfd pfd = {p->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0)
            return 1;
        ssize_t n = read(p->out_fd, tmp, sizeof tmp);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 1;
        if (n <= 0) {
            close(p->out_fd);
            p->out_fd = -1;
            return 0;
        }
        if (buf && *len + 1 < cap) {
            size_t keep = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;
            memcpy(buf + *len, tmp, keep);
            *len += keep;
            buf[*len] = '\0';
        }
    }
}

int proc_drain(struct proc *p)
{
    return proc_read(p, NULL, NULL, 0);
}

int proc_wait(struct proc *p, int timeout_ms)
{
    if (p->pid <= 0)
        return errno = ECHILD, -1;
    long long deadline = proc_now_ms() + timeout_ms;
    for (;;) {
        pid_t got = wait4(p->pid, &p->status, WNOHANG, &p->ru);
        if (got == p->pid) {
            p->pid = 0;
            return 0;
        }
        if (got < 0 && errno != EINTR)
            return -1;
        if (timeout_ms >= 0 && proc_now_ms() >= deadline)
            return 1;
        usleep(timeout_ms >= 0 && timeout_ms < 10 ? 1000 : 10000);
    }
}

int proc_stop(struct proc *p, int grace_ms)
{
    p->why[0] = '\0';
    if (p->pid <= 0)
        return 0;
    pid_t pid = p->pid;
    kill(pid, SIGTERM);
    long long deadline = proc_now_ms() + grace_ms;
    int rc = 0;
    for (;;) {
        proc_drain(p); /* it must not block writing to a full pipe while it stops */
        int w = proc_wait(p, 20);
        if (w == 0)
            break;
        if (w < 0) { /* not our child any more: nothing left to wait for or kill */
            snprintf(p->why, sizeof p->why, "%s (pid %d) could not be reaped: %s", p->name, (int)pid,
                     strerror(errno));
            p->pid = 0;
            rc = -1;
            break;
        }
        if (proc_now_ms() < deadline)
            continue;
        char t[32];
        proc_fmt_ms(grace_ms, t, sizeof t);
        snprintf(p->why, sizeof p->why, "%s (pid %d) did not stop within %s of SIGTERM: killed with SIGKILL",
                 p->name, (int)pid, t);
        kill(p->own_group ? -pid : pid, SIGKILL);
        while (wait4(pid, &p->status, 0, &p->ru) < 0 && errno == EINTR) {
        }
        p->pid = 0;
        p->killed = 1;
        rc = -1;
        break;
    }
    /* Anything left in its process group outlived it: a bug in the program. */
    if (p->own_group && kill(-pid, 0) == 0) {
        kill(-pid, SIGKILL);
        p->orphans = 1;
    }
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->out_fd = -1;
    return rc;
}

void proc_kill_now(pid_t pid, int own_group)
{
    if (pid > 0)
        kill(own_group ? -pid : pid, SIGKILL);
}

int proc_exit_code(const struct proc *p)
{
    if (p->killed)
        return 124;
    if (WIFEXITED(p->status))
        return WEXITSTATUS(p->status);
    return WIFSIGNALED(p->status) ? 128 + WTERMSIG(p->status) : -1;
}

long proc_tree(const struct proc *p, pid_t *out, long cap)
{
    if (p->pid <= 0)
        return 0;
    return procstat_tree_pids(p->pid, out, cap);
}
