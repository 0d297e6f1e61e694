/* proc.h — one way to run a program under test: start it, read its ready
 * line, stop it, reap it.
 *
 * Every server of the suite prints "listening on ADDR:PORT" once it accepts
 * connections and exits on SIGTERM. proc_spawn starts one (stdout on a pipe
 * for that line, stderr where the caller wants it), proc_wait_ready reads the
 * line with a deadline, proc_stop sends SIGTERM, then SIGKILL after a grace
 * period, and reaps it with its CPU time (wait4: itself and every child it
 * reaped). A program that does not get ready or does not stop is described
 * in one format, in p->why, for every tool to print:
 *
 *     echo-loop (pid 123) did not get ready: printed no ready line within 10 s
 *     echo-loop (pid 123) did not stop within 10 s of SIGTERM: killed with SIGKILL
 *
 * Nothing here prints or exits: functions return -1 with errno, or with the
 * reason in p->why. */
#ifndef PROC_H
#define PROC_H

#include <sched.h>
#include <sys/resource.h>
#include <sys/types.h>

/* How to start the program. Zero-initialised means: stdout and stderr
 * shared with ours, same process group, no pinning, no hook. */
struct proc_opts {
    int pipe_stdout;       /* 1: stdout goes to a pipe, read end in p->out_fd */
    int err_fd;            /* > 2: the program's stderr goes to this descriptor */
    int own_group;         /* 1: it leads a process group of its own, so its whole tree
                              can be stopped at once (only its own descendants are in it) */
    const cpu_set_t *cpus; /* not NULL: pin it to these CPUs before exec */
    int search_path;       /* 1: look argv[0] up in $PATH (execvp) */
    /* Runs in the child after fork, before exec (async-signal-safe calls
     * only): e.g. joining a cgroup before the program can do anything. A
     * return of -1 (with errno) makes proc_spawn fail with that errno. */
    int (*before_exec)(void *arg);
    void *arg;             /* passed to before_exec */
};

/* A program we started. */
struct proc {
    pid_t pid;             /* its PID; 0 once reaped (or never started) */
    int out_fd;            /* read end of its stdout pipe, -1 if none or closed */
    int own_group;         /* it leads its own process group (pid == pgid) */
    int port;              /* the port of its ready line, 0 before */
    int status;            /* its wait status, once reaped */
    int killed;            /* 1: it did not stop in time and got SIGKILL */
    int orphans;           /* 1: processes of its group outlived it (were killed) */
    struct rusage ru;      /* CPU time of it and the children it reaped, once reaped */
    char name[64];         /* argv[0]'s last component, for messages */
    char why[256];         /* why the last call failed, in the format above */
};

/* Start argv[0] with arguments argv (NULL-terminated). Returns 0, or -1 with
 * errno (fork, pipe, or the exec or before_exec that failed in the child). */
int proc_spawn(struct proc *p, char *const argv[], const struct proc_opts *o);

/* Wait up to timeout_ms for the line "listening on ADDR:PORT" on the
 * program's stdout (it must have been started with pipe_stdout); stores the
 * port in p->port. Returns 0, or -1 with p->why set (a deadline passed, the
 * program closed its output or exited first). Lines before it are skipped. */
int proc_wait_ready(struct proc *p, int timeout_ms);

/* Read what the program wrote on stdout, without waiting, so that it never
 * blocks on a full pipe: appended to buf (at most cap-1 bytes kept, NUL-
 * terminated, *len updated; the rest discarded), or discarded when buf is
 * NULL. Closes the pipe at end of file. Returns 0 once closed, 1 while open. */
int proc_read(struct proc *p, char *buf, size_t *len, size_t cap);
/* proc_read without keeping anything. */
int proc_drain(struct proc *p);

/* Wait up to timeout_ms (-1: no limit) for it to exit and reap it (its
 * stdout is left alone: drain it meanwhile if it may fill the pipe).
 * Returns 0 once reaped, 1 if it still runs, -1 with errno. */
int proc_wait(struct proc *p, int timeout_ms);

/* Stop it: SIGTERM to the program, up to grace_ms for it to exit (its stdout
 * drained meanwhile), then SIGKILL (to its group, if own_group); reap it.
 * Anything left in its group afterwards is killed and sets p->orphans.
 * Returns 0 if it exited within the grace period (or was reaped already),
 * -1 with p->why set if it had to be killed or could not be reaped. Closes
 * out_fd. */
int proc_stop(struct proc *p, int grace_ms);

/* SIGKILL `pid` (its whole group if own_group) at once, without waiting:
 * for a signal handler (async-signal-safe). Does nothing for pid <= 0. */
void proc_kill_now(pid_t pid, int own_group);

/* Its exit as one number, the shell's way: the exit status, 128+N if signal
 * N ended it, 124 if it had to be killed (proc_stop). */
int proc_exit_code(const struct proc *p);

/* `p`'s process tree now (it and every descendant): up to cap PIDs into
 * out[], itself first; returns how many there are in all, or -1. */
long proc_tree(const struct proc *p, pid_t *out, long cap);

#endif
