/* bench_run.c — one run of bin/bench; see bench_run.h. Every wait has a
 * deadline. It only signals processes it started: the server (and the process
 * group it was put in at start, which holds only its own descendants) and
 * loadgen. */
#include "bench_run.h"
#include "bench_summary.h"
#include "proc.h"
#include "procstat.h"
#include "registry.h"
#include "sysload.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "bench"

enum {
    BENCH_READY_MS = 10000, /* how long a server may take to print its ready line */
    BENCH_STOP_MS = 10000,  /* how long a server may take to exit after SIGTERM */
    BENCH_SAMPLE_MS = 100,  /* target interval between /proc samples */
    BENCH_OUT_MAX = 16384,  /* loadgen output we keep (a header and one row) */
};

/* The columns of echo.csv, in order (see bench_run.h). */
const char *const bench_columns =
    "model,conns,msg_bytes,work,rep,secs,msgs,msgs_per_s,p50_us,p90_us,p99_us,p999_us,"
    "max_us,errors,connect_s,cpu_user_s,cpu_sys_s,cpu_us_per_msg,cores_busy,rss_peak_kib,"
    "pss_idle_kib,pss_peak_kib,pss_per_conn_kib,procs_peak,threads_peak,server_exit,"
    "no_reply,msgs_conn_min,msgs_conn_median,msgs_conn_max,jain,per_conn,connects,conns_per_s,"
    "cpu_us_per_conn,other_cpu_s,disturbed,load_hosts,start_spread_ms";

/* The loadgen columns copied into each row, as loadgen printed them: the
 * first BENCH_LG_MID after `rep`, the others (fairness, churn) at the end. */
static const char *const bench_lg_columns[] = {
    "secs", "msgs", "msgs_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
    "errors", "connect_s",
    "no_reply", "msgs_conn_min", "msgs_conn_median", "msgs_conn_max", "jain", "per_conn",
    "connects", "conns_per_s", NULL,
};
/* The same, from bin/loadmerge through --load-cmd (load hosts): two more. */
static const char *const bench_lg_columns_hosts[] = {
    "secs", "msgs", "msgs_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
    "errors", "connect_s",
    "no_reply", "msgs_conn_min", "msgs_conn_median", "msgs_conn_max", "jain", "per_conn",
    "connects", "conns_per_s", "load_hosts", "start_spread_ms", NULL,
};
enum { BENCH_LG_MID = 10, BENCH_LG_CONNECTS = 16, BENCH_LG_HOSTS = 18 };

/* Everything about one run, filled in as it goes. */
struct bench_run {
    const char *model;       /* model name */
    long conns;              /* connections loadgen opens */
    long rep;                /* repetition, from 1 */
    struct proc server;      /* the echo server: pid, stdout pipe, port, exit, CPU time */
    struct procstat_tree idle; /* the server tree before any load */
    struct procstat_tree peak; /* per-field maxima during the run */
    double wall_s;           /* loadgen's wall time: start to exit */
    char exit_note[32];      /* server_exit column: "0", "exit:N", "signal:N", "timeout", "orphans" */
    char lg_out[BENCH_OUT_MAX]; /* loadgen's stdout */
    size_t lg_len;           /* bytes in lg_out */
    struct sysload_mark m0, m1; /* the machine before the server starts, after it is reaped */
    int remote;              /* the server runs on a server host (--server-cmd) */
    int stdin_w;             /* remote: write end of the server command's stdin, -1 once closed */
    char served[1024];       /* remote: what `bench --serve` printed, its "served" line */
    size_t served_len;       /* bytes in served */
};

/* Processes to kill if the runner itself is interrupted. */
static volatile pid_t bench_live_server, bench_live_loadgen;

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void tree_peak(struct procstat_tree *peak, const struct procstat_tree *s)
{
    if (s->rss_kib > peak->rss_kib) peak->rss_kib = s->rss_kib;
    if (s->pss_kib > peak->pss_kib) peak->pss_kib = s->pss_kib;
    if (s->procs > peak->procs) peak->procs = s->procs;
    if (s->threads > peak->threads) peak->threads = s->threads;
}

/* SIGTERM the server and reap it (proc_stop: SIGKILL to its group after
 * BENCH_STOP_MS); the server_exit column says how it ended. */
static void bench_stop_server(struct bench_run *r)
{
    struct proc *s = &r->server;
    if (proc_stop(s, BENCH_STOP_MS) < 0)
        fprintf(stderr, "%s: %s\n", PROG, s->why);
    if (s->killed)
        snprintf(r->exit_note, sizeof r->exit_note, "timeout");
    else if (WIFEXITED(s->status))
        snprintf(r->exit_note, sizeof r->exit_note, WEXITSTATUS(s->status) ? "exit:%d" : "%d",
                 WEXITSTATUS(s->status));
    else if (WIFSIGNALED(s->status))
        snprintf(r->exit_note, sizeof r->exit_note, "signal:%d", WTERMSIG(s->status));
    else
        snprintf(r->exit_note, sizeof r->exit_note, "unknown");
    /* Anything left in the server's process group outlived it: a server bug. */
    if (s->orphans && strcmp(r->exit_note, "0") == 0)
        snprintf(r->exit_note, sizeof r->exit_note, "orphans");
    bench_live_server = 0;
}

/* --- one run ------------------------------------------------------------------- */

/* Build a command line for commands.txt. */
static void bench_join(char *const argv[], char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; argv[i] && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, i ? " %s" : "%s", argv[i]);
}

/* Run loadgen while sampling the server tree. Returns 0 if loadgen finished
 * (any exit status: the caller judges its output), -1 on a timeout. */
static int bench_drive(struct bench_run *r, char *const lg_argv[], double secs, const cpu_set_t *cpus,
                       int *lg_status)
{
    struct proc lg;
    struct proc_opts lo = {.pipe_stdout = 1, .cpus = cpus};
    if (proc_spawn(&lg, lg_argv, &lo) < 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", PROG, lg_argv[0], strerror(errno));
        return -1;
    }
    bench_live_loadgen = lg.pid;
    double start = bench_now(), next_sample = start;
    /* loadgen paces its connects (about 0.5 ms each), then runs --secs */
    double deadline = start + secs + r->conns * 0.002 + 30.0;
    int timed_out = 0;
    while (proc_wait(&lg, 0) == 1) {
        double now = bench_now();
        if (now > deadline) {
            fprintf(stderr, "%s: loadgen still running after %.0f s: killing it\n", PROG,
                    now - start);
            proc_kill_now(lg.pid, 0);
            proc_wait(&lg, -1);
            timed_out = 1;
            break;
        }
        if (now >= next_sample && !r->remote) {
            struct procstat_tree s;
            if (procstat_tree(r->server.pid, &s) == 0)
                tree_peak(&r->peak, &s);
            /* a big tree (1000 fork children) costs time to read: sample less
             * often rather than steal the CPU the server is measured on */
            double cost = bench_now() - now;
            next_sample = now + fmax(BENCH_SAMPLE_MS / 1000.0, 4 * cost);
        }
        struct pollfd pfd[2] = {{lg.out_fd, POLLIN, 0}, {r->server.out_fd, POLLIN, 0}};
        int wait_ms = (int)((next_sample - bench_now()) * 1000) + 1;
        if (poll(pfd, 2, wait_ms < 1 ? 1 : wait_ms) <= 0)
            continue;
        if (pfd[0].revents)
            proc_read(&lg, r->lg_out, &r->lg_len, sizeof r->lg_out); /* closed: loadgen is exiting */
        if (pfd[1].revents)
            proc_read(&r->server, r->served, &r->served_len, sizeof r->served);
        if (lg.out_fd < 0 && r->server.out_fd < 0)
            bench_sleep_ms(10); /* poll ignores negative fds: do not spin */
    }
    r->wall_s = bench_now() - start;
    /* whatever loadgen wrote just before exiting */
    for (int i = 0; i < 100 && proc_read(&lg, r->lg_out, &r->lg_len, sizeof r->lg_out); i++)
        bench_sleep_ms(10);
    if (lg.out_fd >= 0)
        close(lg.out_fd);
    *lg_status = lg.status;
    bench_live_loadgen = 0;
    return timed_out ? -1 : 0;
}

static double bench_tv(struct timeval tv)
{
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Append the run's row to the CSV. */
static void bench_write_row(FILE *csv, const struct bench_opts *o, const struct bench_run *r,
                            char *lg[])
{
    double user = bench_tv(r->server.ru.ru_utime), sys = bench_tv(r->server.ru.ru_stime);
    double msgs = atof(lg[1]);
    fprintf(csv, "%s,%ld,%ld,%ld,%ld", r->model, r->conns, o->msg_bytes, o->work, r->rep);
    for (int k = 0; k < BENCH_LG_MID; k++)
        fprintf(csv, ",%s", lg[k]);
    fprintf(csv, ",%.3f,%.3f,", user, sys);
    csv_put_num(csv, msgs > 0 ? (user + sys) * 1e6 / msgs : 0);
    fputc(',', csv);
    /* remote: loadgen's wall time would hold ssh and the hosts' lead before
     * the start; the load's window (the merge's secs) is the busy time */
    double wall = r->remote ? atof(lg[0]) : r->wall_s;
    csv_put_num(csv, wall > 0 ? (user + sys) / wall : 0);
    fprintf(csv, ",%ld,%ld,%ld,", r->peak.rss_kib, r->idle.pss_kib, r->peak.pss_kib);
    csv_put_num(csv, (double)(r->peak.pss_kib - r->idle.pss_kib) / (double)r->conns);
    fprintf(csv, ",%ld,%ld,%s", r->peak.procs, r->peak.threads, r->exit_note);
    for (int k = BENCH_LG_MID; bench_lg_columns[k]; k++)
        fprintf(csv, ",%s", lg[k]);
    double connects = atof(lg[BENCH_LG_CONNECTS]); /* the server accepted each: its cost per connection */
    fputc(',', csv);
    csv_put_num(csv, connects > 0 ? (user + sys) * 1e6 / connects : 0);
    /* what the rest of the machine took meanwhile; over the threshold: disturbed */
    double other = sysload_other_s(&r->m0, &r->m1), window = r->m1.wall_s - r->m0.wall_s;
    fputc(',', csv);
    csv_put_num(csv, other < 0 ? NAN : round(other * 100) / 100);
    fprintf(csv, ",%d", other > o->disturbed_cores * window);
    if (r->remote) /* load hosts: how many, and how far apart their traffic began */
        fprintf(csv, ",%s,%s\n", lg[BENCH_LG_HOSTS], lg[BENCH_LG_HOSTS + 1]);
    else
        fprintf(csv, ",1,0\n");
    fflush(csv);
}

/* The arguments of a command given as one string (--server-cmd, --load-cmd):
 * split at spaces into argv[0..], at most cap-1 words; the string is copied
 * into buf. Returns how many words. */
static int bench_words(const char *cmd, char *buf, size_t n, char **argv, int cap)
{
    int k = 0;
    snprintf(buf, n, "%s", cmd);
    for (char *w = strtok(buf, " "); w && k < cap - 1; w = strtok(NULL, " "))
        argv[k++] = w;
    argv[k] = NULL;
    return k;
}

/* Text buffers of a server's command line (they outlive bench_server_argv). */
struct bench_srv_args {
    char path[4096], port[16], work[32], stack[32], pool_flag[64], pool_n[32];
};

/* The echo server's command line for `model` into argv (room for 16). */
static void bench_server_argv(const struct bench_opts *o, const char *model, struct bench_srv_args *a,
                              char *argv[])
{
    snprintf(a->path, sizeof a->path, "%s/echo-%s", o->bin, model);
    snprintf(a->port, sizeof a->port, "%ld", o->port);
    snprintf(a->work, sizeof a->work, "%ld", o->work);
    snprintf(a->stack, sizeof a->stack, "%ld", o->stack_kib);
    snprintf(a->pool_n, sizeof a->pool_n, "%ld", o->pool_size);
    int k = 0;
    argv[k++] = a->path;
    argv[k++] = "--port";
    argv[k++] = a->port;
    argv[k++] = "--bind";
    argv[k++] = (char *)o->bind;
    argv[k++] = "--work";
    argv[k++] = a->work;
    /* --stack-kib only when asked for: 0 is every model's default, and the
     * peers (peers/NAME/, PEERS=1) have no such flag */
    if (o->stack_kib) {
        argv[k++] = "--stack-kib";
        argv[k++] = a->stack;
    }
    /* a model with a fixed pool (about.txt pool_flag) gets --pool-size workers, if given */
    if (o->pool_size > 0 && registry_about(model, "pool_flag", a->pool_flag, sizeof a->pool_flag) == 0) {
        argv[k++] = a->pool_flag;
        argv[k++] = a->pool_n;
    }
    argv[k] = NULL;
}

/* --server-cmd: `bin/bench --serve MODEL ...` on the server host, through the
 * command (ssh), into argv (room for 48); the words live in buf. */
static void bench_remote_argv(const struct bench_opts *o, const char *model, struct bench_srv_args *a,
                              char *buf, size_t n, char *argv[])
{
    int k = bench_words(o->server_cmd, buf, n, argv, 24);
    snprintf(a->port, sizeof a->port, "%ld", o->port);
    snprintf(a->work, sizeof a->work, "%ld", o->work);
    snprintf(a->stack, sizeof a->stack, "%ld", o->stack_kib);
    snprintf(a->pool_n, sizeof a->pool_n, "%ld", o->pool_size);
    char *rest[] = {"bin/bench", "--serve", (char *)model, "--bind", (char *)o->bind, "--port", a->port,
                    "--work", a->work, "--stack-kib", a->stack, "--pool-size", a->pool_n, NULL};
    for (int i = 0; rest[i]; i++)
        argv[k++] = rest[i];
    argv[k] = NULL;
}

/* In the child, before exec: the read end of the pipe becomes stdin. */
static int bench_stdin_hook(void *arg)
{
    const int *fds = arg;
    return dup2(fds[0], STDIN_FILENO) < 0 ? -1 : 0; /* the pipe's own fds are close-on-exec */
}

/* Start the server (or, remote, `bench --serve` through --server-cmd with a
 * pipe on its stdin) and wait for its ready line; 0, or -1 with res->brief
 * set (res->fatal too when the server host is the trouble). */
static int bench_start_server(const struct bench_opts *o, const struct bench_matrix *m,
                              struct bench_run *r, char *const argv[], struct bench_result *res)
{
    int fds[2] = {-1, -1};
    struct proc_opts so = {.pipe_stdout = 1, .own_group = 1, .cpus = m->pinned ? &m->cpus_server : NULL};
    if (r->remote) {
        if (pipe2(fds, O_CLOEXEC) < 0) {
            fprintf(stderr, "%s: pipe: %s\n", PROG, strerror(errno));
            return -1;
        }
        so.before_exec = bench_stdin_hook;
        so.arg = fds;
    }
    int spawned = proc_spawn(&r->server, argv, &so);
    if (fds[0] >= 0)
        close(fds[0]);
    r->stdin_w = fds[1];
    if (spawned < 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", PROG, argv[0], strerror(errno));
        return -1;
    }
    bench_live_server = r->server.pid;
    if (proc_wait_ready(&r->server, BENCH_READY_MS) == 0)
        return 0;
    if (r->remote) { /* its own line (bind refused, no such program) came through ssh's stderr */
        fprintf(stderr, "%s: server host: %s --serve %s did not get ready; the run stops\n", PROG,
                o->server_cmd, r->model);
        res->fatal = 1;
    } else {
        fprintf(stderr, "%s: %s\n", PROG, r->server.why);
    }
    bench_stop_server(r);
    if (r->remote)
        snprintf(res->brief, sizeof res->brief, "FAILED: echo-%s did not start on the server host (%s)",
                 r->model, o->server_cmd);
    else
        snprintf(res->brief, sizeof res->brief, "FAILED: server did not start (%s)", r->exit_note);
    return -1;
}

/* Remote: close the server command's stdin (`bench --serve` stops the server
 * and prints its "served" line), read that line, reap ssh; fill in what the
 * local run would have sampled. 0, or -1 after one line (the host is lost). */
static int bench_stop_remote(const struct bench_opts *o, struct bench_run *r)
{
    struct proc *s = &r->server;
    if (r->stdin_w >= 0)
        close(r->stdin_w);
    r->stdin_w = -1;
    double deadline = bench_now() + BENCH_STOP_MS / 1000.0 + 5;
    while (s->out_fd >= 0 && bench_now() < deadline) {
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) > 0)
            proc_read(s, r->served, &r->served_len, sizeof r->served);
    }
    int waited = proc_wait(s, (int)fmax(0, (deadline - bench_now()) * 1000));
    if (waited != 0)
        bench_stop_server(r);
    bench_live_server = 0;
    const char *line = strstr(r->served, "served ");
    struct procstat_tree *i = &r->idle, *p = &r->peak;
    double user = 0, sys = 0;
    char exit_note[32] = "";
    if (!line || sscanf(line, "served cpu_user_s=%lf cpu_sys_s=%lf rss_peak_kib=%ld pss_idle_kib=%ld "
                        "pss_peak_kib=%ld procs_peak=%ld threads_peak=%ld exit=%31s",
                        &user, &sys, &p->rss_kib, &i->pss_kib, &p->pss_kib, &p->procs, &p->threads,
                        exit_note) != 8) {
        fprintf(stderr, "%s: server host lost: %s ended (%s %d) without the server's figures\n", PROG,
                o->server_cmd, waited == 0 && WIFEXITED(s->status) ? "exit status" : "signal",
                waited == 0 && WIFEXITED(s->status) ? WEXITSTATUS(s->status) : WTERMSIG(s->status));
        return -1;
    }
    s->ru.ru_utime.tv_sec = (time_t)user;
    s->ru.ru_utime.tv_usec = (suseconds_t)((user - (double)(time_t)user) * 1e6);
    s->ru.ru_stime.tv_sec = (time_t)sys;
    s->ru.ru_stime.tv_usec = (suseconds_t)((sys - (double)(time_t)sys) * 1e6);
    snprintf(r->exit_note, sizeof r->exit_note, "%s", exit_note);
    return 0;
}

/* Start the server, drive it, stop it, write the row. */
static void bench_one_run(const struct bench_opts *o, const struct bench_matrix *m,
                          struct bench_run *r, FILE *csv, FILE *cmds, int index,
                          struct bench_result *res)
{
    char port[16], conns[32], bytes[32], secs[32], thr[32], per_conn[32];
    char lpath[4096], line[8192], why[256], srv_words[4096], lg_words[4096];
    struct bench_srv_args sa;
    char *srv_argv[48];
    if (r->remote)
        bench_remote_argv(o, r->model, &sa, srv_words, sizeof srv_words, srv_argv);
    else
        bench_server_argv(o, r->model, &sa, srv_argv);
    memset(res, 0, sizeof *res);
    snprintf(r->exit_note, sizeof r->exit_note, "0");

    bench_join(srv_argv, line, sizeof line);
    sysload_mark(&r->m0);
    fprintf(cmds, "run %d: rep %ld, %s, conns=%ld\n  server:  %s\n", index, r->rep, r->model,
            r->conns, line);
    if (bench_start_server(o, m, r, srv_argv, res) < 0)
        return;
    if (!r->remote)
        procstat_tree(r->server.pid, &r->idle);
    r->peak = r->idle;

    snprintf(port, sizeof port, "%d", r->server.port);
    snprintf(conns, sizeof conns, "%ld", r->conns);
    snprintf(bytes, sizeof bytes, "%ld", o->msg_bytes);
    snprintf(secs, sizeof secs, "%g", o->secs);
    snprintf(thr, sizeof thr, "%ld", o->lg_threads);
    snprintf(per_conn, sizeof per_conn, "%ld", o->per_conn);
    snprintf(lpath, sizeof lpath, "%s/loadgen", o->bin);
    char *lg_argv[48];
    int k = r->remote ? bench_words(o->load_cmd, lg_words, sizeof lg_words, lg_argv, 24) : 0;
    if (!r->remote)
        lg_argv[k++] = lpath;
    char *rest[] = {"--port", port, "-c", conns, "--msg-bytes", bytes, "--secs", secs,
                    "--threads", thr, "--csv", NULL};
    for (int i = 0; rest[i]; i++)
        lg_argv[k++] = rest[i];
    if (o->per_conn) {
        lg_argv[k++] = "--per-conn";
        lg_argv[k++] = per_conn;
    }
    if (r->remote) { /* local: loadgen's default host, as before */
        lg_argv[k++] = "--host";
        lg_argv[k++] = (char *)o->bind;
    }
    lg_argv[k] = NULL;
    bench_join(lg_argv, line, sizeof line);
    fprintf(cmds, "  loadgen: %s\n", line);
    fflush(cmds);

    int lg_status = 0;
    int driven = bench_drive(r, lg_argv, o->secs, m->pinned ? &m->cpus_loadgen : NULL, &lg_status);
    if (r->remote) {
        if (bench_stop_remote(o, r) < 0) {
            res->fatal = 1;
            snprintf(res->brief, sizeof res->brief, "FAILED: server host lost");
            return;
        }
    } else {
        bench_stop_server(r);
    }
    sysload_mark(&r->m1);
    if (driven < 0) {
        snprintf(res->brief, sizeof res->brief, "FAILED: loadgen timed out");
        res->fatal = r->remote; /* a load host that hangs is a host lost */
        return;
    }
    if (!WIFEXITED(lg_status) || WEXITSTATUS(lg_status) > 1) {
        fprintf(stderr, "%s: %s failed (%s %d)%s\n", PROG, lg_argv[0],
                WIFEXITED(lg_status) ? "exit status" : "signal",
                WIFEXITED(lg_status) ? WEXITSTATUS(lg_status) : WTERMSIG(lg_status),
                r->remote ? "; the run stops" : "");
        snprintf(res->brief, sizeof res->brief, "FAILED: loadgen failed");
        res->fatal = r->remote; /* --load-cmd: exit 3 is a load host lost or failing */
        return;
    }
    char *lg[32];
    if (csv_pick(r->lg_out, "msgs_per_s", r->remote ? bench_lg_columns_hosts : bench_lg_columns, lg,
                 r->remote ? "the load hosts' merge" : "loadgen", why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", PROG, why);
        snprintf(res->brief, sizeof res->brief, "FAILED: loadgen output unreadable");
        return;
    }
    bench_write_row(csv, o, r, lg);
    res->ok = 1;
    res->clean = strcmp(r->exit_note, "0") == 0 && atof(lg[8]) == 0;
    if (strcmp(r->exit_note, "0") != 0)
        fprintf(stderr, "%s: *** WARNING: echo-%s did not exit cleanly after SIGTERM (%s); "
                "row marked server_exit=%s ***\n", PROG, r->model, r->exit_note, r->exit_note);
    if (atof(lg[8]) > 0)
        fprintf(stderr, "%s: warning: loadgen saw %s errors against echo-%s at %ld conns\n",
                PROG, lg[8], r->model, r->conns);
    double other = sysload_other_s(&r->m0, &r->m1);
    snprintf(res->brief, sizeof res->brief, "%8.0f msgs/s  p99 %s us  PSS/conn %.1f KiB  Jain %.2f%s%s",
             atof(lg[2]), lg[5], (double)(r->peak.pss_kib - r->idle.pss_kib) / r->conns,
             atof(lg[14]), res->clean ? "" : "  (marked)",
             other > o->disturbed_cores * (r->m1.wall_s - r->m0.wall_s) ? "  (disturbed)" : "");
}

void bench_one(const struct bench_opts *o, const struct bench_matrix *m, const char *model, long conns,
               long rep, FILE *csv, FILE *cmds, int index, struct bench_result *res)
{
    struct bench_run *r = calloc(1, sizeof *r); /* 16 KiB of loadgen output: not on the stack */
    if (!r) {
        memset(res, 0, sizeof *res);
        snprintf(res->brief, sizeof res->brief, "FAILED: out of memory");
        return;
    }
    r->model = model;
    r->conns = conns;
    r->rep = rep;
    r->server.out_fd = -1;
    r->remote = o->server_cmd != NULL;
    r->stdin_w = -1;
    bench_one_run(o, m, r, csv, cmds, index, res);
    if (r->stdin_w >= 0)
        close(r->stdin_w);
    free(r);
}

enum { BENCH_SERVE_MAX_S = 3600 }; /* --serve never outlives this, runner or not */

int bench_serve(const struct bench_opts *o)
{
    struct bench_matrix m = {.pinned = 0};
    struct bench_result res;
    struct bench_run *r = calloc(1, sizeof *r);
    struct bench_srv_args sa;
    char *argv[16];
    if (!r) {
        fprintf(stderr, "%s --serve: out of memory\n", PROG);
        return 1;
    }
    r->model = o->serve;
    r->conns = 1;
    r->server.out_fd = -1;
    r->stdin_w = -1;
    snprintf(r->exit_note, sizeof r->exit_note, "0");
    bench_server_argv(o, o->serve, &sa, argv);
    memset(&res, 0, sizeof res);
    if (bench_start_server(o, &m, r, argv, &res) < 0) {
        free(r);
        return 1;
    }
    procstat_tree(r->server.pid, &r->idle);
    r->peak = r->idle;
    printf("listening on %s:%d\n", o->bind, r->server.port);
    fflush(stdout);
    /* sample until the runner closes our stdin (or says "stop"), as bench_drive does */
    double start = bench_now(), next_sample = start;
    for (;;) {
        double now = bench_now();
        if (now - start > BENCH_SERVE_MAX_S) {
            fprintf(stderr, "%s --serve: still serving after %d s: stopping\n", PROG, BENCH_SERVE_MAX_S);
            break;
        }
        if (now >= next_sample) {
            struct procstat_tree t;
            if (procstat_tree(r->server.pid, &t) == 0)
                tree_peak(&r->peak, &t);
            double cost = bench_now() - now;
            next_sample = now + fmax(BENCH_SAMPLE_MS / 1000.0, 4 * cost);
        }
        struct pollfd pfd[2] = {{STDIN_FILENO, POLLIN, 0}, {r->server.out_fd, POLLIN, 0}};
        int wait_ms = (int)((next_sample - bench_now()) * 1000) + 1;
        if (poll(pfd, 2, wait_ms < 1 ? 1 : wait_ms) <= 0)
            continue;
        if (pfd[1].revents)
            proc_drain(&r->server);
        if (pfd[0].revents) {
            char buf[64];
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0 || memchr(buf, 's', (size_t)n))
                break; /* EOF (the runner or its ssh is gone) or "stop" */
        }
        if (proc_wait(&r->server, 0) != 1)
            break; /* the server died by itself: say so below */
    }
    bench_stop_server(r);
    printf("served cpu_user_s=%.3f cpu_sys_s=%.3f rss_peak_kib=%ld pss_idle_kib=%ld pss_peak_kib=%ld "
           "procs_peak=%ld threads_peak=%ld exit=%s\n",
           bench_tv(r->server.ru.ru_utime), bench_tv(r->server.ru.ru_stime), r->peak.rss_kib,
           r->idle.pss_kib, r->peak.pss_kib, r->peak.procs, r->peak.threads, r->exit_note);
    fflush(stdout);
    free(r);
    return 0;
}

void bench_kill_live(void)
{
    proc_kill_now(bench_live_loadgen, 0);
    proc_kill_now(bench_live_server, 1);
}
