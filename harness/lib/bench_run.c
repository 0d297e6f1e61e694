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
    "cpu_us_per_conn,other_cpu_s,disturbed";

/* The loadgen columns copied into each row, as loadgen printed them: the
 * first BENCH_LG_MID after `rep`, the others (fairness, churn) at the end. */
static const char *const bench_lg_columns[] = {
    "secs", "msgs", "msgs_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
    "errors", "connect_s",
    "no_reply", "msgs_conn_min", "msgs_conn_median", "msgs_conn_max", "jain", "per_conn",
    "connects", "conns_per_s", NULL,
};
enum { BENCH_LG_MID = 10, BENCH_LG_CONNECTS = 16 };

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
static int bench_drive(struct bench_run *r, char *const lg_argv[], double secs, int cpu,
                       int *lg_status)
{
    struct proc lg;
    struct proc_opts lo = {.pipe_stdout = 1, .pin = cpu >= 0, .cpu = cpu};
    if (proc_spawn(&lg, lg_argv, &lo) < 0) {
        fprintf(stderr, "%s: cannot start loadgen: %s\n", PROG, strerror(errno));
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
        if (now >= next_sample) {
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
            proc_drain(&r->server);
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
    csv_put_num(csv, r->wall_s > 0 ? (user + sys) / r->wall_s : 0);
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
    fprintf(csv, ",%d\n", other > o->disturbed_cores * window);
    fflush(csv);
}

/* Start the server and wait for its ready line; 0, or -1 with res->brief set. */
static int bench_start_server(const struct bench_matrix *m, struct bench_run *r, char *const argv[],
                              struct bench_result *res)
{
    struct proc_opts so = {.pipe_stdout = 1, .own_group = 1, .pin = m->cpu_server >= 0,
                           .cpu = m->cpu_server};
    if (proc_spawn(&r->server, argv, &so) < 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", PROG, argv[0], strerror(errno));
        return -1;
    }
    bench_live_server = r->server.pid;
    if (proc_wait_ready(&r->server, BENCH_READY_MS) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", PROG, r->server.why);
    bench_stop_server(r);
    snprintf(res->brief, sizeof res->brief, "FAILED: server did not start (%s)", r->exit_note);
    return -1;
}

/* Start the server, drive it, stop it, write the row. */
static void bench_one_run(const struct bench_opts *o, const struct bench_matrix *m,
                          struct bench_run *r, FILE *csv, FILE *cmds, int index,
                          struct bench_result *res)
{
    char path[4096], work[32], stack[32], port[16], conns[32], bytes[32], secs[32], thr[32];
    char pool_flag[64], pool_n[32], per_conn[32];
    char lpath[4096], line[8192], why[256];
    snprintf(path, sizeof path, "%s/echo-%s", o->bin, r->model);
    snprintf(lpath, sizeof lpath, "%s/loadgen", o->bin);
    snprintf(work, sizeof work, "%ld", o->work);
    snprintf(stack, sizeof stack, "%ld", o->stack_kib);
    /* --stack-kib only when asked for: 0 is every model's default, and the
     * peers (peers/NAME/, PEERS=1) have no such flag */
    char *srv_argv[12] = {path, "--port", "0", "--bind", "127.0.0.1", "--work", work};
    int k = 7;
    if (o->stack_kib) {
        srv_argv[k++] = "--stack-kib";
        srv_argv[k++] = stack;
    }
    /* a model with a fixed pool (about.txt pool_flag) gets --pool-size workers, if given */
    snprintf(pool_n, sizeof pool_n, "%ld", o->pool_size);
    if (o->pool_size > 0 && registry_about(r->model, "pool_flag", pool_flag, sizeof pool_flag) == 0) {
        srv_argv[k++] = pool_flag;
        srv_argv[k++] = pool_n;
    }
    srv_argv[k] = NULL;
    memset(res, 0, sizeof *res);
    snprintf(r->exit_note, sizeof r->exit_note, "0");

    bench_join(srv_argv, line, sizeof line);
    sysload_mark(&r->m0);
    fprintf(cmds, "run %d: rep %ld, %s, conns=%ld\n  server:  %s\n", index, r->rep, r->model,
            r->conns, line);
    if (bench_start_server(m, r, srv_argv, res) < 0)
        return;
    procstat_tree(r->server.pid, &r->idle);
    r->peak = r->idle;

    snprintf(port, sizeof port, "%d", r->server.port);
    snprintf(conns, sizeof conns, "%ld", r->conns);
    snprintf(bytes, sizeof bytes, "%ld", o->msg_bytes);
    snprintf(secs, sizeof secs, "%g", o->secs);
    snprintf(thr, sizeof thr, "%ld", o->lg_threads);
    snprintf(per_conn, sizeof per_conn, "%ld", o->per_conn);
    char *lg_argv[] = {lpath, "--port", port, "-c", conns, "--msg-bytes", bytes, "--secs", secs,
                       "--threads", thr, "--csv", "--per-conn", per_conn, NULL};
    if (o->per_conn == 0)
        lg_argv[12] = NULL;
    bench_join(lg_argv, line, sizeof line);
    fprintf(cmds, "  loadgen: %s\n", line);
    fflush(cmds);

    int lg_status = 0;
    int driven = bench_drive(r, lg_argv, o->secs, m->cpu_loadgen, &lg_status);
    bench_stop_server(r);
    sysload_mark(&r->m1);
    if (driven < 0) {
        snprintf(res->brief, sizeof res->brief, "FAILED: loadgen timed out");
        return;
    }
    if (!WIFEXITED(lg_status) || WEXITSTATUS(lg_status) > 1) {
        fprintf(stderr, "%s: loadgen failed (%s %d)\n", PROG,
                WIFEXITED(lg_status) ? "exit status" : "signal",
                WIFEXITED(lg_status) ? WEXITSTATUS(lg_status) : WTERMSIG(lg_status));
        snprintf(res->brief, sizeof res->brief, "FAILED: loadgen failed");
        return;
    }
    char *lg[32];
    if (csv_pick(r->lg_out, "msgs_per_s", bench_lg_columns, lg, "loadgen", why, sizeof why) < 0) {
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
    bench_one_run(o, m, r, csv, cmds, index, res);
    free(r);
}

void bench_kill_live(void)
{
    proc_kill_now(bench_live_loadgen, 0);
    proc_kill_now(bench_live_server, 1);
}
