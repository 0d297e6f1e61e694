/* bench.c — runs the echo comparison and writes down what it saw.
 *
 * For every repetition, every connection count and every model (the model
 * order rotates, so no model always runs first on a cold or warm machine):
 *
 *   1. start the model's echo server ($BIN/echo-MODEL) and wait for its ready
 *      line "listening on 127.0.0.1:PORT";
 *   2. sample the server's memory while idle (the baseline);
 *   3. run bin/loadgen against it and, while it runs, sample the server's
 *      whole process tree from /proc about every 100 ms: RSS and PSS from
 *      /proc/PID/smaps_rollup, the number of processes and threads; keep peaks;
 *   4. stop the server with SIGTERM and take its CPU time from wait4(), which
 *      includes every child the server itself reaped (the fork model's
 *      per-connection processes);
 *   5. append one row to DIR/echo.csv.
 *
 * Beside the CSV it writes DIR/meta.txt (machine, commit, compiler, matrix),
 * DIR/commands.txt (every command it ran) and, at the end,
 * DIR/echo-summary.csv (medians per model x connections). `--summarize CSV`
 * prints the summary of an existing CSV and exits.
 *
 * Every wait has a deadline. The runner only signals processes it started: the
 * server (and the process group it was put in at start, which holds only its
 * own descendants) and loadgen.
 */
#include "flags.h"
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "bench"

enum {
    BENCH_MAX_MODELS = 16,  /* --models entries */
    BENCH_MAX_CONNS = 32,   /* --conns entries */
    BENCH_READY_MS = 10000, /* how long a server may take to print its ready line */
    BENCH_STOP_MS = 10000,  /* how long a server may take to exit after SIGTERM */
    BENCH_SAMPLE_MS = 100,  /* target interval between /proc samples */
    BENCH_OUT_MAX = 16384,  /* loadgen output we keep (a header and one row) */
};

/* The columns of echo.csv, in order. The summary and the charts find columns
 * by these names. */
static const char *const bench_columns =
    "model,conns,msg_bytes,work,rep,secs,msgs,msgs_per_s,p50_us,p90_us,p99_us,p999_us,"
    "max_us,errors,connect_s,cpu_user_s,cpu_sys_s,cpu_us_per_msg,cores_busy,rss_peak_kib,"
    "pss_idle_kib,pss_peak_kib,pss_per_conn_kib,procs_peak,threads_peak,server_exit";

/* The loadgen columns copied into each row, as loadgen printed them. */
static const char *const bench_lg_columns[] = {
    "secs", "msgs", "msgs_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
    "errors", "connect_s", NULL,
};

struct bench_opts {
    const char *models;     /* comma-separated model names (--models) */
    const char *conns;      /* comma-separated connection counts (--conns) */
    double secs;            /* seconds loadgen drives each run (--secs) */
    long reps;              /* repetitions of the whole matrix (--reps) */
    long msg_bytes;         /* bytes per echo message (--msg-bytes) */
    long work;              /* CPU work units per message, passed to the server (--work) */
    const char *out;        /* results folder (--out) */
    const char *bin;        /* folder holding echo-MODEL and loadgen (--bin) */
    const char *pin;        /* "none" or "split" (--pin) */
    long lg_threads;        /* loadgen threads (--loadgen-threads) */
    long stack_kib;         /* per-connection stack for the server, 0 = its default (--stack-kib) */
    const char *summarize;  /* print the summary of this CSV and exit (--summarize) */
};

/* The matrix, parsed from the options. */
struct bench_matrix {
    char *model[BENCH_MAX_MODELS]; /* model names, in the order given */
    int nmodels;                   /* how many */
    long conns[BENCH_MAX_CONNS];   /* connection counts, in the order given */
    int nconns;                    /* how many */
    int cpu_server, cpu_loadgen;   /* CPU to pin each to, -1 for no pinning */
};

/* Everything about one run, filled in as it goes. */
struct bench_run {
    const char *model;       /* model name */
    long conns;              /* connections loadgen opens */
    long rep;                /* repetition, from 1 */
    pid_t server;            /* server pid (also its process group), 0 when gone */
    int server_out;          /* read end of the server's stdout pipe, -1 when closed */
    int port;                /* port from the ready line */
    pid_t loadgen;           /* loadgen pid, 0 when gone */
    struct procstat_tree idle; /* the server tree before any load */
    struct procstat_tree peak; /* per-field maxima during the run */
    double wall_s;           /* loadgen's wall time: start to exit */
    struct rusage ru;        /* server CPU time, reaped children included */
    char exit_note[32];      /* server_exit column: "0", "exit:N", "signal:N", "timeout", "orphans" */
    char lg_out[BENCH_OUT_MAX]; /* loadgen's stdout */
    size_t lg_len;           /* bytes in lg_out */
};

/* Processes to kill if the runner itself is interrupted. */
static volatile pid_t bench_live_server, bench_live_loadgen;

/* --- small helpers ------------------------------------------------------- */

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

/* "1m20s" or "45s" into buf. */
static const char *bench_fmt_dur(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%lds", t);
    return buf;
}

/* Print a number for a CSV: whole numbers without decimals, others with six
 * significant digits (enough for every figure we write). */
static void bench_put_num(FILE *f, double v)
{
    if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else if (fabs(v) >= 1e6)
        fprintf(f, "%.1f", v);
    else
        fprintf(f, "%.6g", v);
}

/* Split s in place at commas; returns the number of fields (at most cap). */
static int bench_split(char *s, char **field, int cap)
{
    int n = 0;
    char *p = s;
    while (n < cap) {
        field[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

/* Strip a trailing newline / carriage return. */
static void bench_chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Run a shell command and keep the first line of its output in buf; "unknown"
 * if it printed nothing. Used only for meta.txt. */
static void bench_first_line(const char *cmd, char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(buf, (int)n, p))
        bench_chomp(buf);
    else
        snprintf(buf, n, "unknown");
    pclose(p);
}

/* --- the summary ----------------------------------------------------------- */

/* A CSV held in memory: the header and rows as arrays of fields. */
struct csv {
    char **col;     /* column names */
    int ncols;      /* how many */
    char ***row;    /* row[i][j]: field j of row i */
    int nrows;      /* how many rows */
    char *text;     /* the file's bytes; every field points into it */
};

enum { CSV_MAX_COLS = 64 };

static void csv_free(struct csv *c)
{
    for (int i = 0; i < c->nrows; i++)
        free(c->row[i]);
    free(c->row);
    free(c->col);
    free(c->text);
}

static int csv_find(const struct csv *c, const char *name)
{
    for (int j = 0; j < c->ncols; j++)
        if (strcmp(c->col[j], name) == 0)
            return j;
    return -1;
}

/* Read a whole file into a NUL-terminated buffer; NULL with errno on failure. */
static char *bench_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger; /* NULL ends the loop: out of memory */
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Load a CSV; prints one line and returns -1 if it is missing or malformed. */
static int csv_load(const char *path, struct csv *c)
{
    memset(c, 0, sizeof *c);
    c->text = bench_slurp(path);
    if (!c->text) {
        fprintf(stderr, "%s: cannot read %s: %s\n", PROG, path, strerror(errno));
        return -1;
    }
    char *save = NULL;
    char *line = strtok_r(c->text, "\n", &save);
    if (!line) {
        fprintf(stderr, "%s: %s is empty\n", PROG, path);
        goto fail;
    }
    bench_chomp(line);
    c->col = calloc(CSV_MAX_COLS, sizeof *c->col);
    c->ncols = bench_split(line, c->col, CSV_MAX_COLS);
    for (char *l; (l = strtok_r(NULL, "\n", &save));) {
        bench_chomp(l);
        if (!*l)
            continue;
        char **f = calloc(CSV_MAX_COLS, sizeof *f);
        char ***more = realloc(c->row, (c->nrows + 1) * sizeof *c->row);
        if (!f || !more) {
            free(f);
            fprintf(stderr, "%s: out of memory reading %s\n", PROG, path);
            goto fail;
        }
        c->row = more;
        if (bench_split(l, f, CSV_MAX_COLS) != c->ncols) {
            fprintf(stderr, "%s: %s: row %d has a different number of fields than the header\n",
                    PROG, path, c->nrows + 2);
            free(f);
            goto fail;
        }
        c->row[c->nrows++] = f;
    }
    if (csv_find(c, "model") < 0 || csv_find(c, "conns") < 0) {
        fprintf(stderr, "%s: %s has no 'model' and 'conns' columns\n", PROG, path);
        goto fail;
    }
    return 0;
fail:
    csv_free(c);
    return -1;
}

static int bench_is_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && !errno && isfinite(*v);
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n-1] (sorts v). */
static double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Columns that get _min and _max beside their median, for error bars. */
static const char *const bench_spread_cols[] = {
    "msgs_per_s", "p99_us", "pss_per_conn_kib", "cpu_us_per_msg", NULL,
};

/* Print one summary row for the rows `idx[0..n-1]` of c. numeric[j] says
 * whether column j is summarised. */
static void bench_summary_row(FILE *out, const struct csv *c, const int *idx, int n,
                              const int *numeric)
{
    double *v = malloc((size_t)n * sizeof *v);
    int jm = csv_find(c, "model"), jc = csv_find(c, "conns");
    int je = csv_find(c, "errors"), jx = csv_find(c, "server_exit");
    fprintf(out, "%s,%s", c->row[idx[0]][jm], c->row[idx[0]][jc]);
    for (int j = 0; j < c->ncols; j++) {
        if (!numeric[j] || j == jc)
            continue;
        for (int i = 0; i < n; i++)
            bench_is_num(c->row[idx[i]][j], &v[i]);
        fputc(',', out);
        bench_put_num(out, bench_median(v, n));
    }
    for (int s = 0; bench_spread_cols[s]; s++) {
        int j = csv_find(c, bench_spread_cols[s]);
        if (j < 0 || !numeric[j])
            continue;
        for (int i = 0; i < n; i++)
            bench_is_num(c->row[idx[i]][j], &v[i]);
        qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
        fputc(',', out);
        bench_put_num(out, v[0]);
        fputc(',', out);
        bench_put_num(out, v[n - 1]);
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        double e = 0;
        if (je >= 0 && bench_is_num(c->row[idx[i]][je], &e) && e > 0)
            bad++;
        else if (jx >= 0 && strcmp(c->row[idx[i]][jx], "0") != 0)
            bad++;
    }
    fprintf(out, ",%d,%d\n", n, bad);
    free(v);
}

/* Order groups: models by first appearance, then connections ascending. */
struct bench_group {
    int model_rank; /* position of the model's first appearance */
    double conns;   /* connection count */
    int first;      /* first row of the group, to recover the names */
};

static int bench_cmp_group(const void *a, const void *b)
{
    const struct bench_group *x = a, *y = b;
    if (x->model_rank != y->model_rank)
        return x->model_rank - y->model_rank;
    return (x->conns > y->conns) - (x->conns < y->conns);
}

/* Write the summary of the CSV at `path` to `out`: one row per model x conns
 * with the median of every numeric column, min/max of a few, the number of
 * repetitions and of bad runs (loadgen errors or a server that did not exit
 * cleanly). Returns 0, or -1 after one line on stderr. */
static int bench_summarize(const char *path, FILE *out)
{
    struct csv c;
    if (csv_load(path, &c) < 0)
        return -1;
    int numeric[CSV_MAX_COLS] = {0};
    int jm = csv_find(&c, "model"), jc = csv_find(&c, "conns"), jr = csv_find(&c, "rep");
    int jx = csv_find(&c, "server_exit");
    for (int j = 0; j < c.ncols; j++) {
        double v;
        numeric[j] = j != jm && j != jr && j != jx && c.nrows > 0;
        for (int i = 0; i < c.nrows && numeric[j]; i++)
            numeric[j] = bench_is_num(c.row[i][j], &v);
    }
    if (c.nrows > 0 && !numeric[jc]) {
        fprintf(stderr, "%s: %s: the conns column is not numeric\n", PROG, path);
        csv_free(&c);
        return -1;
    }
    /* the header */
    fprintf(out, "model,conns");
    for (int j = 0; j < c.ncols; j++)
        if (numeric[j] && j != jc)
            fprintf(out, ",%s", c.col[j]);
    for (int s = 0; bench_spread_cols[s]; s++) {
        int j = csv_find(&c, bench_spread_cols[s]);
        if (j >= 0 && numeric[j])
            fprintf(out, ",%s_min,%s_max", c.col[j], c.col[j]);
    }
    fprintf(out, ",reps,bad_runs\n");

    /* group rows by (model, conns) */
    struct bench_group *g = calloc((size_t)c.nrows + 1, sizeof *g);
    int *idx = calloc((size_t)c.nrows + 1, sizeof *idx);
    int ng = 0;
    for (int i = 0; i < c.nrows; i++) {
        double conns;
        bench_is_num(c.row[i][jc], &conns);
        int rank = i;
        for (int k = 0; k < i; k++)
            if (strcmp(c.row[k][jm], c.row[i][jm]) == 0) {
                rank = k;
                break;
            }
        int seen = 0;
        for (int k = 0; k < ng && !seen; k++)
            seen = g[k].model_rank == rank && g[k].conns == conns;
        if (!seen)
            g[ng++] = (struct bench_group){rank, conns, i};
    }
    qsort(g, (size_t)ng, sizeof *g, bench_cmp_group);
    for (int k = 0; k < ng; k++) {
        int n = 0;
        for (int i = 0; i < c.nrows; i++) {
            double conns;
            bench_is_num(c.row[i][jc], &conns);
            if (conns == g[k].conns && strcmp(c.row[i][jm], c.row[g[k].first][jm]) == 0)
                idx[n++] = i;
        }
        bench_summary_row(out, &c, idx, n, numeric);
    }
    free(idx);
    free(g);
    csv_free(&c);
    return 0;
}

/* --- looking at a process tree ---------------------------------------------- */

static void tree_peak(struct procstat_tree *peak, const struct procstat_tree *s)
{
    if (s->rss_kib > peak->rss_kib) peak->rss_kib = s->rss_kib;
    if (s->pss_kib > peak->pss_kib) peak->pss_kib = s->pss_kib;
    if (s->procs > peak->procs) peak->procs = s->procs;
    if (s->threads > peak->threads) peak->threads = s->threads;
}

/* --- starting and stopping processes ------------------------------------------ */

/* Fork and exec argv with stdout on a new pipe (stderr shared with ours).
 * cpu >= 0 pins the child to that CPU before exec; own_group puts it in a
 * new process group so its whole tree can be stopped together. Returns the
 * pid and the pipe's read end in *out_fd, or -1. */
static pid_t bench_spawn(char *const argv[], int cpu, int own_group, int *out_fd)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (own_group)
            setpgid(0, 0);
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            if (sched_setaffinity(0, sizeof set, &set) < 0)
                fprintf(stderr, "%s: cannot pin %s to CPU %d: %s\n", PROG, argv[0], cpu,
                        strerror(errno));
        }
        dup2(fds[1], STDOUT_FILENO);
        execv(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", PROG, argv[0], strerror(errno));
        _exit(127);
    }
    if (own_group)
        setpgid(pid, pid); /* also here, so the group exists before we ever signal it */
    close(fds[1]);
    *out_fd = fds[0];
    return pid;
}

/* Read what is available on fd into buf (at most cap-1 bytes kept, the rest
 * discarded). Returns 0 at end of file, 1 otherwise. */
static int bench_drain(int fd, char *buf, size_t *len, size_t cap)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (buf && *len + 1 < cap) {
        size_t keep = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;
        memcpy(buf + *len, tmp, keep);
        *len += keep;
        buf[*len] = '\0';
    }
    return 1;
}

/* Describe a wait status as the server_exit column wants it. */
static void bench_exit_note(int status, char *buf, size_t n)
{
    if (WIFEXITED(status))
        snprintf(buf, n, WEXITSTATUS(status) ? "exit:%d" : "%d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "signal:%d", WTERMSIG(status));
    else
        snprintf(buf, n, "unknown");
}

/* Wait up to BENCH_READY_MS for "listening on ADDR:PORT"; stores the port.
 * Returns 0, or -1 after saying why on stderr. */
static int bench_wait_ready(struct bench_run *r)
{
    char line[512];
    size_t len = 0;
    double deadline = bench_now() + BENCH_READY_MS / 1000.0;
    for (;;) {
        char *nl;
        while ((nl = memchr(line, '\n', len))) {
            *nl = '\0';
            const char *colon = strrchr(line, ':');
            if (strncmp(line, "listening on ", 13) == 0 && colon) {
                r->port = atoi(colon + 1);
                if (r->port > 0 && r->port < 65536)
                    return 0;
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len);
        }
        int left_ms = (int)((deadline - bench_now()) * 1000);
        if (left_ms <= 0) {
            fprintf(stderr, "%s: echo-%s printed no ready line within %d s\n", PROG, r->model,
                    BENCH_READY_MS / 1000);
            return -1;
        }
        struct pollfd pfd = {r->server_out, POLLIN, 0};
        if (poll(&pfd, 1, left_ms) <= 0)
            continue;
        ssize_t n = read(r->server_out, line + len, sizeof line - 1 - len);
        if (n <= 0) {
            fprintf(stderr, "%s: echo-%s closed its output before printing a ready line\n",
                    PROG, r->model);
            return -1;
        }
        len += (size_t)n;
        if (len == sizeof line - 1)
            len = 0; /* an absurdly long line: forget it */
    }
}

/* SIGTERM the server, wait for it (draining its output so it cannot block on
 * a full pipe), SIGKILL its group after BENCH_STOP_MS. Fills ru and exit_note. */
static void bench_stop_server(struct bench_run *r)
{
    int status = 0;
    pid_t got = 0;
    kill(r->server, SIGTERM);
    double deadline = bench_now() + BENCH_STOP_MS / 1000.0;
    while ((got = wait4(r->server, &status, WNOHANG, &r->ru)) == 0 && bench_now() < deadline) {
        if (r->server_out >= 0) {
            struct pollfd pfd = {r->server_out, POLLIN, 0};
            if (poll(&pfd, 1, 20) > 0 && !bench_drain(r->server_out, NULL, NULL, 0)) {
                close(r->server_out);
                r->server_out = -1;
            }
        } else {
            bench_sleep_ms(20);
        }
    }
    if (got == 0) {
        kill(-r->server, SIGKILL);
        wait4(r->server, &status, 0, &r->ru);
        snprintf(r->exit_note, sizeof r->exit_note, "timeout");
    } else {
        bench_exit_note(status, r->exit_note, sizeof r->exit_note);
    }
    /* Anything left in the server's process group outlived it: a server bug. */
    if (kill(-r->server, 0) == 0) {
        kill(-r->server, SIGKILL);
        if (strcmp(r->exit_note, "0") == 0)
            snprintf(r->exit_note, sizeof r->exit_note, "orphans");
    }
    if (r->server_out >= 0)
        close(r->server_out);
    r->server_out = -1;
    r->server = 0;
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
    int lg_out = -1;
    r->loadgen = bench_spawn(lg_argv, cpu, 0, &lg_out);
    if (r->loadgen < 0) {
        fprintf(stderr, "%s: cannot start loadgen: %s\n", PROG, strerror(errno));
        return -1;
    }
    bench_live_loadgen = r->loadgen;
    double start = bench_now(), next_sample = start;
    /* loadgen paces its connects (about 0.5 ms each), then runs --secs */
    double deadline = start + secs + r->conns * 0.002 + 30.0;
    int timed_out = 0;
    for (;;) {
        if (waitpid(r->loadgen, lg_status, WNOHANG) == r->loadgen)
            break;
        double now = bench_now();
        if (now > deadline) {
            fprintf(stderr, "%s: loadgen still running after %.0f s: killing it\n", PROG,
                    now - start);
            kill(r->loadgen, SIGKILL);
            waitpid(r->loadgen, lg_status, 0);
            timed_out = 1;
            break;
        }
        if (now >= next_sample) {
            struct procstat_tree s;
            if (procstat_tree(r->server, &s) == 0)
                tree_peak(&r->peak, &s);
            /* a big tree (1000 fork children) costs time to read: sample less
             * often rather than steal the CPU the server is measured on */
            double cost = bench_now() - now;
            next_sample = now + fmax(BENCH_SAMPLE_MS / 1000.0, 4 * cost);
        }
        struct pollfd pfd[2] = {{lg_out, POLLIN, 0}, {r->server_out, POLLIN, 0}};
        int wait_ms = (int)((next_sample - bench_now()) * 1000) + 1;
        if (poll(pfd, 2, wait_ms < 1 ? 1 : wait_ms) <= 0)
            continue;
        if (pfd[0].revents && lg_out >= 0 &&
            !bench_drain(lg_out, r->lg_out, &r->lg_len, sizeof r->lg_out)) {
            close(lg_out);
            lg_out = -1; /* loadgen is exiting; poll ignores negative fds */
        }
        if (pfd[1].revents && r->server_out >= 0 && !bench_drain(r->server_out, NULL, NULL, 0)) {
            close(r->server_out);
            r->server_out = -1;
        }
        if (lg_out < 0 && r->server_out < 0)
            bench_sleep_ms(10);
    }
    r->wall_s = bench_now() - start;
    /* whatever loadgen wrote just before exiting */
    while (lg_out >= 0 && bench_drain(lg_out, r->lg_out, &r->lg_len, sizeof r->lg_out)) {
        struct pollfd pfd = {lg_out, POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0)
            break;
    }
    if (lg_out >= 0)
        close(lg_out);
    r->loadgen = 0;
    bench_live_loadgen = 0;
    return timed_out ? -1 : 0;
}

/* Find loadgen's header and data row (the header is the line holding
 * "msgs_per_s"); fill vals[] in bench_lg_columns order. Returns 0, or -1
 * after naming what is missing. */
static int bench_parse_loadgen(struct bench_run *r, char *vals[])
{
    char *hdr = strstr(r->lg_out, "msgs_per_s");
    if (!hdr) {
        fprintf(stderr, "%s: loadgen printed no CSV header\n", PROG);
        return -1;
    }
    while (hdr > r->lg_out && hdr[-1] != '\n')
        hdr--;
    char *row = strchr(hdr, '\n');
    if (!row || !row[1]) {
        fprintf(stderr, "%s: loadgen printed a CSV header but no row\n", PROG);
        return -1;
    }
    *row++ = '\0';
    char *end = strchr(row, '\n');
    if (end)
        *end = '\0';
    bench_chomp(hdr);
    bench_chomp(row);
    char *h[CSV_MAX_COLS], *v[CSV_MAX_COLS];
    int nh = bench_split(hdr, h, CSV_MAX_COLS), nv = bench_split(row, v, CSV_MAX_COLS);
    if (nh != nv) {
        fprintf(stderr, "%s: loadgen's CSV row has %d fields, its header %d\n", PROG, nv, nh);
        return -1;
    }
    for (int k = 0; bench_lg_columns[k]; k++) {
        vals[k] = NULL;
        for (int j = 0; j < nh; j++)
            if (strcmp(h[j], bench_lg_columns[k]) == 0 && *v[j])
                vals[k] = v[j];
        if (!vals[k]) {
            fprintf(stderr, "%s: loadgen's CSV has no value for '%s'\n", PROG,
                    bench_lg_columns[k]);
            return -1;
        }
    }
    return 0;
}

static double bench_tv(struct timeval tv)
{
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Append the run's row to the CSV. */
static void bench_write_row(FILE *csv, const struct bench_opts *o, const struct bench_run *r,
                            char *lg[])
{
    double user = bench_tv(r->ru.ru_utime), sys = bench_tv(r->ru.ru_stime);
    double msgs = atof(lg[1]);
    fprintf(csv, "%s,%ld,%ld,%ld,%ld", r->model, r->conns, o->msg_bytes, o->work, r->rep);
    for (int k = 0; bench_lg_columns[k]; k++)
        fprintf(csv, ",%s", lg[k]);
    fprintf(csv, ",%.3f,%.3f,", user, sys);
    bench_put_num(csv, msgs > 0 ? (user + sys) * 1e6 / msgs : 0);
    fputc(',', csv);
    bench_put_num(csv, r->wall_s > 0 ? (user + sys) / r->wall_s : 0);
    fprintf(csv, ",%ld,%ld,%ld,", r->peak.rss_kib, r->idle.pss_kib, r->peak.pss_kib);
    bench_put_num(csv, (double)(r->peak.pss_kib - r->idle.pss_kib) / (double)r->conns);
    fprintf(csv, ",%ld,%ld,%s\n", r->peak.procs, r->peak.threads, r->exit_note);
    fflush(csv);
}

/* Result of one run for the progress line. */
struct bench_result {
    int ok;            /* a row was written */
    int clean;         /* ... and the server exited 0 and loadgen saw no errors */
    char brief[128];   /* "41234 msgs/s  p99 812 us  PSS/conn 9.1 KiB" */
};

/* Start the server, drive it, stop it, write the row. */
static void bench_one(const struct bench_opts *o, const struct bench_matrix *m,
                      struct bench_run *r, FILE *csv, FILE *cmds, int index,
                      struct bench_result *res)
{
    char path[4096], work[32], stack[32], port[16], conns[32], bytes[32], secs[32], thr[32];
    char lpath[4096], line[8192];
    snprintf(path, sizeof path, "%s/echo-%s", o->bin, r->model);
    snprintf(lpath, sizeof lpath, "%s/loadgen", o->bin);
    snprintf(work, sizeof work, "%ld", o->work);
    snprintf(stack, sizeof stack, "%ld", o->stack_kib);
    char *srv_argv[] = {path, "--port", "0", "--bind", "127.0.0.1", "--work", work,
                        "--stack-kib", stack, NULL};
    memset(res, 0, sizeof *res);
    r->server_out = -1;
    snprintf(r->exit_note, sizeof r->exit_note, "0");

    bench_join(srv_argv, line, sizeof line);
    fprintf(cmds, "run %d: rep %ld, %s, conns=%ld\n  server:  %s\n", index, r->rep, r->model,
            r->conns, line);
    r->server = bench_spawn(srv_argv, m->cpu_server, 1, &r->server_out);
    if (r->server < 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", PROG, path, strerror(errno));
        return;
    }
    bench_live_server = r->server;
    if (bench_wait_ready(r) < 0) {
        bench_stop_server(r);
        snprintf(res->brief, sizeof res->brief, "FAILED: server did not start (%s)",
                 r->exit_note);
        return;
    }
    procstat_tree(r->server, &r->idle);
    r->peak = r->idle;

    snprintf(port, sizeof port, "%d", r->port);
    snprintf(conns, sizeof conns, "%ld", r->conns);
    snprintf(bytes, sizeof bytes, "%ld", o->msg_bytes);
    snprintf(secs, sizeof secs, "%g", o->secs);
    snprintf(thr, sizeof thr, "%ld", o->lg_threads);
    char *lg_argv[] = {lpath, "--port", port, "-c", conns, "--msg-bytes", bytes, "--secs", secs,
                       "--threads", thr, "--csv", NULL};
    bench_join(lg_argv, line, sizeof line);
    fprintf(cmds, "  loadgen: %s\n", line);
    fflush(cmds);

    int lg_status = 0;
    int driven = bench_drive(r, lg_argv, o->secs, m->cpu_loadgen, &lg_status);
    bench_stop_server(r);
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
    char *lg[16];
    if (bench_parse_loadgen(r, lg) < 0) {
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
    snprintf(res->brief, sizeof res->brief, "%8.0f msgs/s  p99 %s us  PSS/conn %.1f KiB%s",
             atof(lg[2]), lg[5], (double)(r->peak.pss_kib - r->idle.pss_kib) / r->conns,
             res->clean ? "" : "  (marked)");
}

/* --- set-up: checks, limits, metadata ------------------------------------------------ */

/* Parse --models, --conns and --pin into the matrix; exits 2 on bad input. */
static void bench_matrix_parse(const struct flags_spec *spec, const struct bench_opts *o,
                               struct bench_matrix *m)
{
    static char models[1024];
    memset(m, 0, sizeof *m);
    if (strlen(o->models) >= sizeof models)
        flags_die(spec, "--models: too long");
    snprintf(models, sizeof models, "%s", o->models);
    m->nmodels = bench_split(models, m->model, BENCH_MAX_MODELS);
    if (strchr(m->model[m->nmodels - 1], ','))
        flags_die(spec, "--models: at most %d models", BENCH_MAX_MODELS);
    for (int i = 0; i < m->nmodels; i++) {
        const char *s = m->model[i];
        if (!*s || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s))
            flags_die(spec, "--models: '%s' is not a model name (like fork,threads,loop)", s);
    }
    m->nconns = flags_int_list(o->conns, m->conns, BENCH_MAX_CONNS, 1, 1000000);
    if (m->nconns < 0)
        flags_die(spec, "--conns: '%s' is not a list of counts like 10,100,1000", o->conns);
    m->cpu_server = m->cpu_loadgen = -1;
    if (strcmp(o->pin, "split") == 0) {
        m->cpu_server = 0;
        m->cpu_loadgen = 1;
    } else if (strcmp(o->pin, "none") != 0) {
        flags_die(spec, "--pin: '%s' is not none or split", o->pin);
    }
}

/* Every program the matrix needs must exist; one line and exit 1 otherwise. */
static void bench_check_programs(const struct bench_opts *o, const struct bench_matrix *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/loadgen", o->bin);
    if (access(path, X_OK) < 0) {
        fprintf(stderr, "%s: %s is missing or not executable (run make)\n", PROG, path);
        exit(1);
    }
    for (int i = 0; i < m->nmodels; i++) {
        snprintf(path, sizeof path, "%s/echo-%s", o->bin, m->model[i]);
        if (access(path, X_OK) < 0) {
            fprintf(stderr, "%s: model '%s' has no program: %s is missing or not executable "
                    "(run make, or check --models/--bin)\n", PROG, m->model[i], path);
            exit(1);
        }
    }
}

/* Raise the open-file limit so the biggest run fits: loadgen and the server
 * each hold one socket per connection. Children inherit the limit. */
static void bench_check_nofile(const struct bench_matrix *m)
{
    long most = 0;
    for (int i = 0; i < m->nconns; i++)
        if (m->conns[i] > most)
            most = m->conns[i];
    rlim_t need = (rlim_t)most + 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr, "%s: %ld connections need about %lu open files, but the hard limit "
                "(RLIMIT_NOFILE) is %lu; raise it (ulimit -Hn as root, or limits.conf)\n",
                PROG, most, (unsigned long)need, (unsigned long)rl.rlim_max);
        exit(1);
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "%s: cannot raise the open-file limit to %lu: %s\n", PROG,
                (unsigned long)need, strerror(errno));
        exit(1);
    }
}

static void bench_mkdirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    mkdir(path, 0755);
}

static FILE *bench_open(const char *dir, const char *name, const char *mode)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (!f)
        fprintf(stderr, "%s: cannot write %s: %s\n", PROG, path, strerror(errno));
    return f;
}

#ifndef BENCH_BUILD_FLAGS
#define BENCH_BUILD_FLAGS "unknown (not built by make)"
#endif

/* meta.txt: what someone needs to reproduce or judge the numbers. */
static int bench_write_meta(const struct bench_opts *o, const struct bench_matrix *m,
                            const char *cmdline)
{
    FILE *f = bench_open(o->out, "meta.txt", "w");
    if (!f)
        return -1;
    char buf[512], dirty[64];
    bench_first_line("git rev-parse --short HEAD 2>/dev/null", buf, sizeof buf);
    /* results/ and docs/ do not count: the reference run rewrites them */
    bench_first_line("git diff --quiet HEAD -- . ':(exclude)results' ':(exclude)docs' "
                     "2>/dev/null || echo -dirty", dirty,
                     sizeof dirty);
    fprintf(f, "commit: %s%s\n", buf, strcmp(dirty, "-dirty") == 0 ? "-dirty" : "");
    struct utsname u;
    fprintf(f, "kernel: %s\n", uname(&u) == 0 ? u.release : "unknown");
    bench_first_line("sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1", buf,
                     sizeof buf);
    fprintf(f, "cpu_model: %s\n", buf);
    fprintf(f, "cores: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    bench_first_line("cc --version 2>/dev/null", buf, sizeof buf);
    fprintf(f, "compiler: %s\n", buf);
    const char *env_flags = getenv("CFLAGS_USED");
    fprintf(f, "cflags: %s\n", env_flags && *env_flags ? env_flags : BENCH_BUILD_FLAGS);
    time_t now = time(NULL);
    struct tm tm;
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(f, "date: %s\n", buf);
    fprintf(f, "pinning: %s\n", m->cpu_server < 0
                                    ? "none (server, loadgen and bench share all cores)"
                                    : "split (server on CPU 0; loadgen and bench on CPU 1)");
    fprintf(f, "command: %s\n", cmdline);
    fprintf(f, "matrix: models=%s conns=%s reps=%ld secs=%g msg_bytes=%ld work=%ld "
            "loadgen_threads=%ld stack_kib=%ld\n", o->models, o->conns, o->reps, o->secs,
            o->msg_bytes, o->work, o->lg_threads, o->stack_kib);
    bench_first_line("cat /proc/loadavg", buf, sizeof buf);
    fprintf(f, "loadavg_start: %s\n", buf); /* others' work on a shared machine shows here */
    fclose(f);
    return 0;
}

/* At the end: how long it took, how it went, how busy the machine was. */
static void bench_finish_meta(const char *dir, double secs, int runs, int failed, int marked)
{
    FILE *f = bench_open(dir, "meta.txt", "a");
    if (!f)
        return;
    char buf[256];
    bench_first_line("cat /proc/loadavg", buf, sizeof buf);
    fprintf(f, "loadavg_end: %s\n", buf);
    fprintf(f, "duration_s: %.0f\n", secs);
    fprintf(f, "runs: %d (%d failed, %d marked: loadgen errors or unclean server exit)\n", runs,
            failed, marked);
    fclose(f);
}

/* The command line as typed, for meta.txt (before flags_parse reorders argv). */
static void bench_cmdline(int argc, char **argv, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && len < n; i++) {
        int quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t'\"$") != NULL;
        len += (size_t)snprintf(buf + len, n - len, quote ? "%s'%s'" : "%s%s", i ? " " : "",
                                argv[i]);
    }
}

/* Interrupted: stop what we started, then leave. Only async-signal-safe calls. */
static void bench_on_signal(int sig)
{
    if (bench_live_loadgen > 0)
        kill(bench_live_loadgen, SIGKILL);
    if (bench_live_server > 0)
        kill(-bench_live_server, SIGKILL);
    static const char msg[] = "bench: interrupted; stopped the running server and loadgen\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(128 + sig);
}

/* --- the matrix ------------------------------------------------------------------------ */

static int bench_run_matrix(const struct bench_opts *o, const struct bench_matrix *m)
{
    FILE *csv = bench_open(o->out, "echo.csv", "w");
    FILE *cmds = bench_open(o->out, "commands.txt", "w");
    struct bench_run *r = calloc(1, sizeof *r);
    int total = (int)o->reps * m->nconns * m->nmodels, done = 0, failed = 0, marked = 0;
    int rc = 1;
    if (!csv || !cmds || !r)
        goto out;
    fprintf(csv, "%s\n", bench_columns);
    fflush(csv);
    double start = bench_now();
    for (long rep = 0; rep < o->reps; rep++) {
        for (int ci = 0; ci < m->nconns; ci++) {
            for (int k = 0; k < m->nmodels; k++) {
                /* rotate by rep and by connection count: each model takes
                 * its turn at going first */
                int mi = (int)((k + rep + ci) % m->nmodels);
                memset(r, 0, sizeof *r);
                r->model = m->model[mi];
                r->conns = m->conns[ci];
                r->rep = rep + 1;
                struct bench_result res;
                bench_one(o, m, r, csv, cmds, done + 1, &res);
                done++;
                failed += !res.ok;
                marked += res.ok && !res.clean;
                double elapsed = bench_now() - start;
                char left[32];
                fprintf(stderr, "[%*d/%d] rep %ld/%ld  %-8s conns=%-6ld %s  about %s left\n",
                        total >= 100 ? 3 : 2, done, total, rep + 1, o->reps, r->model, r->conns,
                        res.brief, bench_fmt_dur(elapsed / done * (total - done), left,
                                                 sizeof left));
            }
        }
    }
    char took[32];
    fprintf(stderr, "%s: %d runs in %s: %d failed, %d marked (errors or unclean exit); "
            "rows in %s/echo.csv\n", PROG, total, bench_fmt_dur(bench_now() - start, took,
            sizeof took), failed, marked, o->out);
    bench_finish_meta(o->out, bench_now() - start, total, failed, marked);
    rc = failed || marked ? 1 : 0;
out:
    if (csv)
        fclose(csv);
    if (cmds)
        fclose(cmds);
    free(r);
    return rc;
}

/* DIR/echo-summary.csv from DIR/echo.csv. */
static int bench_write_summary(const char *dir)
{
    char in[4096];
    snprintf(in, sizeof in, "%s/echo.csv", dir);
    FILE *f = bench_open(dir, "echo-summary.csv", "w");
    if (!f)
        return -1;
    int rc = bench_summarize(in, f);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {
        .models = "fork,threads,loop", .conns = "10,100,1000", .secs = 3, .reps = 3,
        .msg_bytes = 64, .work = 0, .out = "results/latest", .bin = "bin", .pin = "none",
        .lg_threads = 1, .stack_kib = 0, .summarize = NULL,
    };
    const struct flag flags[] = {
        {"models", 'm', FLAG_STR, &o.models, 0, 0, "LIST", "models to compare; MODEL runs BIN/echo-MODEL"},
        {"conns", 'c', FLAG_STR, &o.conns, 0, 0, "LIST", "connection counts"},
        {"secs", 's', FLAG_DOUBLE, &o.secs, 0.1, 3600, "S", "seconds of load per run"},
        {"reps", 'r', FLAG_INT, &o.reps, 1, 1000, "N", "repetitions of the whole matrix"},
        {"msg-bytes", 0, FLAG_INT, &o.msg_bytes, 1, 1 << 20, "B", "bytes per echo message"},
        {"work", 'w', FLAG_INT, &o.work, 0, 100000000, "N", "CPU work units per message in the server"},
        {"out", 'o', FLAG_STR, &o.out, 0, 0, "DIR", "results folder (echo.csv, meta.txt, ...)"},
        {"bin", 0, FLAG_STR, &o.bin, 0, 0, "DIR", "folder of the programs"},
        {"pin", 0, FLAG_STR, &o.pin, 0, 0, "MODE", "none, or split: server on CPU 0, loadgen on CPU 1"},
        {"loadgen-threads", 0, FLAG_INT, &o.lg_threads, 1, 256, "T", "threads in loadgen"},
        {"stack-kib", 0, FLAG_INT, &o.stack_kib, 0, 1 << 20, "KIB", "per-connection stack for the server; 0 = its default"},
        {"summarize", 0, FLAG_STR, &o.summarize, 0, 0, "CSV", "print the summary of an existing echo.csv and exit"},
        {0},
    };
    const struct flags_spec spec = {
        PROG, "[flags]",
        "Runs the echo servers of several models under the same load (bin/loadgen),\n"
        "interleaved and repeated, and records throughput, latency, memory (RSS, PSS of\n"
        "the whole server process tree) and CPU (server plus reaped children) in\n"
        "DIR/echo.csv, one row per run, with DIR/meta.txt, DIR/commands.txt and the\n"
        "medians in DIR/echo-summary.csv. Progress goes to stderr.\n"
        "Exit status: 0 all runs clean, 1 a run failed or was marked, 2 bad flags.",
        flags, 0,
    };
    char cmdline[4096];
    bench_cmdline(argc, argv, cmdline, sizeof cmdline);
    flags_parse(&spec, argc, argv);
    if (o.summarize)
        return bench_summarize(o.summarize, stdout) < 0 ? 1 : 0;

    struct bench_matrix m;
    bench_matrix_parse(&spec, &o, &m);
    if (m.cpu_server >= 0 && sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        fprintf(stderr, "%s: --pin split needs 2 online CPUs\n", PROG);
        return 1;
    }
    bench_check_programs(&o, &m);
    bench_check_nofile(&m);
    if (m.cpu_loadgen >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(m.cpu_loadgen, &set);
        sched_setaffinity(0, sizeof set, &set); /* the sampler stays off the server's CPU */
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, bench_on_signal);
    signal(SIGTERM, bench_on_signal);
    bench_mkdirs(o.out);
    if (bench_write_meta(&o, &m, cmdline) < 0)
        return 1;
    int rc = bench_run_matrix(&o, &m);
    if (bench_write_summary(o.out) < 0)
        rc = 1;
    return rc;
}
