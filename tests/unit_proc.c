/* unit_proc.c — harness/lib/proc.c against real processes: a program that
 * gets ready and stops on SIGTERM, one that never gets ready, one that
 * ignores SIGTERM, one that exits early, one that cannot be run; the exit
 * codes, the rusage, the process tree and the one message format. */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start `sh -c script` with stdout on a pipe, in a group of its own. */
static int sh(struct proc *p, const char *script)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    struct proc_opts o = {.pipe_stdout = 1, .own_group = 1};
    return proc_spawn(p, argv, &o);
}

static void test_ready_and_stop(void)
{
    struct proc p;
    char why[512];
    if (sh(&p, "echo starting; echo listening on 127.0.0.1:4321; exec sleep 100") < 0) {
        check(0, "ready_spawn", strerror(errno));
        return;
    }
    int rc = proc_wait_ready(&p, 5000);
    snprintf(why, sizeof why, "rc %d port %d why '%s'", rc, p.port, p.why);
    check(rc == 0 && p.port == 4321, "ready_line_read_after_other_lines", why);
    pid_t tree[8];
    long n = proc_tree(&p, tree, 8);
    snprintf(why, sizeof why, "%ld pids, first %d, want %d", n, n > 0 ? (int)tree[0] : 0, (int)p.pid);
    check(n >= 1 && tree[0] == p.pid, "tree_lists_the_root_first", why);
    pid_t pid = p.pid;
    double t0 = now_s();
    rc = proc_stop(&p, 5000);
    snprintf(why, sizeof why, "rc %d code %d after %.2f s", rc, proc_exit_code(&p), now_s() - t0);
    check(rc == 0 && proc_exit_code(&p) == 128 + SIGTERM && !p.killed && now_s() - t0 < 4,
          "sigterm_stops_it_code_143", why);
    check(p.pid == 0 && p.out_fd == -1 && kill(pid, 0) < 0, "stopped_process_is_reaped", "still there");
}

static void test_never_ready(void)
{
    struct proc p;
    if (sh(&p, "echo not yet; exec sleep 100") < 0) {
        check(0, "never_ready_spawn", strerror(errno));
        return;
    }
    double t0 = now_s();
    int rc = proc_wait_ready(&p, 300);
    double took = now_s() - t0;
    char want[128], why[512];
    snprintf(want, sizeof want, "sh (pid %d) did not get ready: printed no ready line within 300 ms", (int)p.pid);
    snprintf(why, sizeof why, "rc %d after %.2f s: '%s'", rc, took, p.why);
    check(rc < 0 && took >= 0.25 && took < 3 && strcmp(p.why, want) == 0, "never_ready_times_out_with_message",
          why);
    check(proc_stop(&p, 5000) == 0 && proc_exit_code(&p) == 128 + SIGTERM, "never_ready_then_stopped",
          p.why);
}

static void test_ignores_sigterm(void)
{
    struct proc p;
    /* the shell ignores TERM and so does the sleep it starts: only SIGKILL ends it */
    if (sh(&p, "trap '' TERM; echo listening on 127.0.0.1:1; sleep 100; sleep 100") < 0) {
        check(0, "stubborn_spawn", strerror(errno));
        return;
    }
    check(proc_wait_ready(&p, 5000) == 0 && p.port == 1, "stubborn_gets_ready", p.why);
    usleep(100000); /* let the shell start its sleep: a child in the group */
    pid_t pid = p.pid;
    double t0 = now_s();
    int rc = proc_stop(&p, 300);
    double took = now_s() - t0;
    char want[128], why[512];
    snprintf(want, sizeof want, "sh (pid %d) did not stop within 300 ms of SIGTERM: killed with SIGKILL", (int)pid);
    snprintf(why, sizeof why, "rc %d code %d after %.2f s: '%s'", rc, proc_exit_code(&p), took, p.why);
    check(rc < 0 && p.killed && proc_exit_code(&p) == 124 && took >= 0.25 && took < 3 && strcmp(p.why, want) == 0,
          "ignores_sigterm_killed_code_124_with_message", why);
    /* the killed sleep is reaped by init (or a subreaper): allow it a moment */
    int alive = 1;
    for (int i = 0; i < 200 && alive; i++) {
        alive = kill(-pid, 0) == 0;
        if (alive)
            usleep(10000);
    }
    check(!alive, "its_whole_group_is_gone", "a process of the group is alive after 2 s");
}

static void test_exits_early(void)
{
    struct proc p;
    if (sh(&p, "echo about to fail >&2; exit 3") < 0) {
        check(0, "early_spawn", strerror(errno));
        return;
    }
    double t0 = now_s();
    int rc = proc_wait_ready(&p, 5000);
    char want[128], why[512];
    snprintf(want, sizeof want, "did not get ready: exited with status 3 before its ready line");
    snprintf(why, sizeof why, "rc %d after %.2f s: '%s'", rc, now_s() - t0, p.why);
    check(rc < 0 && now_s() - t0 < 3 && strstr(p.why, want) && p.pid == 0 && proc_exit_code(&p) == 3,
          "exits_early_reported_at_once", why);
    check(proc_stop(&p, 1000) == 0, "stop_after_early_exit_is_harmless", p.why);
}

static void test_cannot_run(void)
{
    struct proc p;
    char *argv[] = {"/nonexistent/program", NULL};
    errno = 0;
    int rc = proc_spawn(&p, argv, NULL);
    char why[128];
    snprintf(why, sizeof why, "rc %d errno %s", rc, strerror(errno));
    check(rc < 0 && errno == ENOENT, "missing_program_fails_with_enoent", why);
}

/* CPU time of the children the program reaped reaches us through wait4. */
static void test_rusage(void)
{
    struct proc p;
    char *argv[] = {"/bin/sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done", NULL};
    if (proc_spawn(&p, argv, NULL) < 0) {
        check(0, "rusage_spawn", strerror(errno));
        return;
    }
    int rc = proc_wait(&p, 60000);
    double cpu = (double)p.ru.ru_utime.tv_sec + p.ru.ru_utime.tv_usec / 1e6 +
                 (double)p.ru.ru_stime.tv_sec + p.ru.ru_stime.tv_usec / 1e6;
    char why[128];
    snprintf(why, sizeof why, "rc %d code %d cpu %.3f s", rc, proc_exit_code(&p), cpu);
    check(rc == 0 && proc_exit_code(&p) == 0 && cpu > 0, "wait_reaps_with_cpu_time", why);
}

static void test_wait_timeout(void)
{
    struct proc p;
    char *argv[] = {"/bin/sleep", "100", NULL};
    if (proc_spawn(&p, argv, NULL) < 0) {
        check(0, "wait_spawn", strerror(errno));
        return;
    }
    check(proc_wait(&p, 100) == 1 && p.pid > 0, "wait_with_deadline_returns_still_running", "");
    check(proc_stop(&p, 5000) == 0 && p.pid == 0, "then_stopped", p.why);
}

int main(void)
{
    plan(15);
    signal(SIGPIPE, SIG_IGN);
    test_ready_and_stop();
    test_never_ready();
    test_ignores_sigterm();
    test_exits_early();
    test_cannot_run();
    test_rusage();
    test_wait_timeout();
    return check_done();
}
