/* bench.c — runs the echo comparison and writes down what it saw.
 *
 * For every repetition, every connection count and every model (the model
 * order rotates, so no model always runs first on a cold or warm machine):
 *
 *   1. start the model's echo server ($BIN/echo-MODEL) and wait for its ready
 *      line "listening on 127.0.0.1:PORT" (harness/lib/proc.c);
 *   2. sample the server's memory while idle (the baseline);
 *   3. run bin/loadgen against it and, while it runs, sample the server's
 *      whole process tree from /proc about every 100 ms: RSS and PSS from
 *      /proc/PID/smaps_rollup, the number of processes and threads; keep peaks
 *      (models/common/procstat.c);
 *   4. stop the server with SIGTERM and take its CPU time from wait4(), which
 *      includes every child the server itself reaped (the fork model's
 *      per-connection processes);
 *   5. append one row to DIR/echo.csv.
 *
 * Beside the CSV it writes DIR/meta.txt (through scripts/meta.sh, the one
 * metadata writer: machine, commit, compiler, then the matrix), DIR/commands.txt
 * (every command it ran) and, at the end, DIR/echo-summary.csv (medians per
 * model x connections, harness/lib/bench_summary.c). `--summarize CSV` prints
 * the summary of an existing CSV and exits; `--compare CSV --base MODEL`
 * prints every model's ratio to MODEL with its interval from the rounds
 * (harness/lib/bench_stats.c) and exits. Each row also says how much CPU the
 * rest of the machine took during the run (other_cpu_s, harness/lib/sysload.c)
 * and whether that was more than --disturbed cores (disturbed). The models are those of the
 * registry (models/NAME/about.txt, harness/lib/registry.c).
 *
 * Every wait has a deadline. The runner only signals processes it started: the
 * server (and the process group it was put in at start, which holds only its
 * own descendants) and loadgen.
 */
#include "bench_run.h"
#include "bench_stats.h"
#include "bench_summary.h"
#include "flags.h"
#include "meta.h"
#include "proc.h"
#include "procstat.h"
#include "registry.h"
#include "work.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "bench"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

/* --- set-up: checks, limits, metadata ------------------------------------------------ */

/* The CPUs we may run on (our affinity, as taskset and nproc see it): the
 * first `half` of them for the server, the next up to `last` for loadgen and
 * bench — halves: half = n / 2, last = n (as scripts/lib.sh's pin_halves);
 * split: one each. -1 with fewer than 2 CPUs. */
static int bench_cpu_sets(struct bench_matrix *m, int split)
{
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof mine, &mine) < 0 || CPU_COUNT(&mine) < 2)
        return -1;
    int n = CPU_COUNT(&mine), half = split ? 1 : n / 2, last = split ? 2 : n, k = 0;
    CPU_ZERO(&m->cpus_server);
    CPU_ZERO(&m->cpus_loadgen);
    for (int c = 0; c < CPU_SETSIZE && k < last; c++) {
        if (!CPU_ISSET(c, &mine))
            continue;
        CPU_SET(c, k < half ? &m->cpus_server : &m->cpus_loadgen);
        k++;
    }
    m->pinned = 1;
    return 0;
}

/* "0,1,2" — the CPUs of a set, for meta.txt */
static const char *bench_cpus_str(const cpu_set_t *set, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int c = 0; c < CPU_SETSIZE && len + 8 < n; c++)
        if (CPU_ISSET(c, set))
            len += (size_t)snprintf(buf + len, n - len, len ? ",%d" : "%d", c);
    return buf;
}

/* Parse --models, --conns and --pin into the matrix: 0, or FLAGS_BAD after
 * one line naming the flag. */
static int bench_matrix_parse(const struct flags_spec *spec, const struct bench_opts *o,
                              struct bench_matrix *m)
{
    static char models[1024];
    char known[512];
    memset(m, 0, sizeof *m);
    if (strlen(o->models) >= sizeof models)
        return flags_error(spec, "--models: too long");
    snprintf(models, sizeof models, "%s", o->models);
    /* count before splitting: csv_split stops at its cap, and the names past
     * it would be dropped without a word */
    int given = 1;
    for (const char *p = models; (p = strchr(p, ',')); p++)
        given++;
    if (given > BENCH_MAX_MODELS)
        return flags_error(spec, "--models: %d models, at most %d", given, BENCH_MAX_MODELS);
    m->nmodels = csv_split(models, m->model, BENCH_MAX_MODELS);
    for (int i = 0; i < m->nmodels; i++)
        if (!registry_known(m->model[i])) /* a model, or a peer (PEERS=1: docs/peers.md) */
            return flags_error(spec, "--models: '%s' is not a model (registered: %s)", m->model[i],
                               registry_count() ? registry_join(", ", known, sizeof known) : "none");
    m->nconns = flags_int_list(o->conns, m->conns, BENCH_MAX_CONNS, 1, 1000000);
    if (m->nconns < 0)
        return flags_error(spec, "--conns: '%s' is not a list of counts like 10,100,1000", o->conns);
    cpu_set_t mine;
    int cores = sched_getaffinity(0, sizeof mine, &mine) == 0 ? CPU_COUNT(&mine) : 1;
    int split = strcmp(o->pin, "split") == 0;
    int halves = strcmp(o->pin, "halves") == 0 || (strcmp(o->pin, "auto") == 0 && cores >= 4 && !o->server_cmd);
    if (!split && !halves && strcmp(o->pin, "none") != 0 && strcmp(o->pin, "auto") != 0)
        return flags_error(spec, "--pin: '%s' is not auto, none, split or halves", o->pin);
    if ((split || halves) && bench_cpu_sets(m, split) < 0)
        return flags_error(spec, "--pin %s: needs at least 2 CPUs to run on (this process may use %d)", o->pin, cores);
    return 0;
}

/* Every program the matrix needs must exist: 0, or -1 after one line. */
static int bench_check_programs(const struct bench_opts *o, const struct bench_matrix *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/loadgen", o->bin);
    if (access(path, X_OK) < 0) {
        fprintf(stderr, "%s: %s is missing or not executable (run make)\n", PROG, path);
        return -1;
    }
    for (int i = 0; i < m->nmodels; i++) {
        snprintf(path, sizeof path, "%s/echo-%s", o->bin, m->model[i]);
        if (access(path, X_OK) < 0) {
            fprintf(stderr, "%s: model '%s' has no program: %s is missing or not executable "
                    "(run make, or check --models/--bin)\n", PROG, m->model[i], path);
            return -1;
        }
    }
    return 0;
}

/* Raise the open-file limit so the biggest run fits: loadgen and the server
 * each hold one socket per connection. Children inherit the limit. */
static int bench_check_nofile(const struct bench_matrix *m)
{
    long most = 0;
    for (int i = 0; i < m->nconns; i++)
        if (m->conns[i] > most)
            most = m->conns[i];
    rlim_t need = (rlim_t)most + 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr, "%s: %ld connections need about %lu open files, but the hard limit "
                "(RLIMIT_NOFILE) is %lu; raise it (ulimit -Hn as root, or limits.conf)\n",
                PROG, most, (unsigned long)need, (unsigned long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "%s: cannot raise the open-file limit to %lu: %s\n", PROG,
                (unsigned long)need, strerror(errno));
        return -1;
    }
    return 0;
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

/* meta.txt: what someone needs to reproduce or judge the numbers — the
 * machine and build (scripts/meta.sh's own keys), then the matrix and the
 * command. */
static int bench_write_meta(const struct bench_opts *o, const struct bench_matrix *m,
                            const char *cmdline)
{
    /* the flags this program was built with, unless make says them already */
    const char *env_flags = getenv("CFLAGS_USED");
    if (env_flags && *env_flags)
        setenv("C10K_FLAGS", env_flags, 1);
    else if (!getenv("C10K_FLAGS"))
        setenv("C10K_FLAGS", BENCH_BUILD_FLAGS, 1);
    char file[4096], why[512], set[13][256], cs[96], cl[96];
    snprintf(file, sizeof file, "%s/meta.txt", o->out);
    if (o->server_cmd)
        snprintf(set[0], sizeof set[0], "pinning=hosts (the server on the server host, loadgen on the load hosts: host_* keys)");
    else if (!m->pinned)
        snprintf(set[0], sizeof set[0], "pinning=none (server, loadgen and bench share all cores)");
    else
        snprintf(set[0], sizeof set[0], "pinning=%s (server on CPUs %s; loadgen and bench on CPUs %s)",
                 CPU_COUNT(&m->cpus_server) == 1 && CPU_COUNT(&m->cpus_loadgen) == 1 ? "split" : "halves",
                 bench_cpus_str(&m->cpus_server, cs, sizeof cs), bench_cpus_str(&m->cpus_loadgen, cl, sizeof cl));
    snprintf(set[1], sizeof set[1], "workload=echo");
    snprintf(set[2], sizeof set[2], "models=%s", o->models);
    snprintf(set[3], sizeof set[3], "conns=%s", o->conns);
    snprintf(set[4], sizeof set[4], "reps=%ld", o->reps);
    snprintf(set[5], sizeof set[5], "secs=%g", o->secs);
    snprintf(set[6], sizeof set[6], "msg_bytes=%ld", o->msg_bytes);
    snprintf(set[7], sizeof set[7], "work=%ld", o->work);
    snprintf(set[8], sizeof set[8], "loadgen_threads=%ld", o->lg_threads);
    snprintf(set[9], sizeof set[9], "stack_kib=%ld", o->stack_kib);
    snprintf(set[10], sizeof set[10], "per_conn=%ld", o->per_conn);
    snprintf(set[11], sizeof set[11], "pool_size=%ld", o->pool_size);
    snprintf(set[12], sizeof set[12], "disturbed_cores=%g", o->disturbed_cores);
    char *sets[] = {set[0], set[1], set[2], set[3], set[4], set[5], set[6], set[7], set[8], set[9],
                    set[10], set[11], set[12], NULL};
    char *commands[] = {(char *)cmdline, NULL};
    if (meta_write(file, sets, commands, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "%s: cannot write %s: %s\n", PROG, file, why);
    return -1;
}

/* At the end: how long it took and how busy the machine was (meta.sh
 * --finish), then how the runs went. */
static void bench_finish_meta(const char *dir, int runs, int failed, int marked)
{
    char file[4096], why[512];
    snprintf(file, sizeof file, "%s/meta.txt", dir);
    if (meta_finish(file, why, sizeof why) < 0)
        fprintf(stderr, "%s: cannot finish %s: %s\n", PROG, file, why);
    FILE *f = bench_open(dir, "meta.txt", "a");
    if (!f)
        return;
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
    bench_kill_live();
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
    int total = (int)o->reps * m->nconns * m->nmodels, done = 0, failed = 0, marked = 0;
    int rc = 1;
    if (!csv || !cmds)
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
                struct bench_result res;
                bench_one(o, m, m->model[mi], m->conns[ci], rep + 1, csv, cmds, done + 1, &res);
                done++;
                failed += !res.ok;
                marked += res.ok && !res.clean;
                if (res.fatal) { /* a host lost: the other runs would fail the same way */
                    fprintf(stderr, "%s: stopped after run %d of %d: %s\n", PROG, done, total, res.brief);
                    bench_finish_meta(o->out, done, failed, marked);
                    goto out;
                }
                double elapsed = bench_now() - start;
                char left[32];
                fprintf(stderr, "[%*d/%d] rep %ld/%ld  %-8s conns=%-6ld %s  about %s left\n",
                        total >= 100 ? 3 : 2, done, total, rep + 1, o->reps, m->model[mi], m->conns[ci],
                        res.brief, bench_fmt_dur(elapsed / done * (total - done), left,
                                                 sizeof left));
            }
        }
    }
    char took[32];
    fprintf(stderr, "%s: %d runs in %s: %d failed, %d marked (errors or unclean exit); "
            "rows in %s/echo.csv\n", PROG, total, bench_fmt_dur(bench_now() - start, took,
            sizeof took), failed, marked, o->out);
    bench_finish_meta(o->out, total, failed, marked);
    rc = failed || marked ? 1 : 0;
out:
    if (csv)
        fclose(csv);
    if (cmds)
        fclose(cmds);
    return rc;
}

/* DIR/echo-summary.csv from DIR/echo.csv. */
static int bench_write_summary(const char *dir)
{
    char in[4096], why[512];
    snprintf(in, sizeof in, "%s/echo.csv", dir);
    FILE *f = bench_open(dir, "echo-summary.csv", "w");
    if (!f)
        return -1;
    int rc = summary_write(in, f, why, sizeof why);
    fclose(f);
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", PROG, why);
    return rc;
}

static long long bench_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --calibrate-work: what one unit of the servers' --work costs here, in
 * nanoseconds of this thread's CPU time: the median of 7 timings of about
 * 50 ms each (work_do() is the servers' own function, models/common/work.c).
 * scripts/bench-work.sh turns microseconds into units with it. */
static int bench_calibrate_work(void)
{
    long units = 1000;
    long long ns = 0;
    for (;;) { /* grow the batch until it takes 50 ms */
        long long t0 = bench_thread_cpu_ns();
        work_do(units, "calibrate", 9);
        ns = bench_thread_cpu_ns() - t0;
        if (ns > 50000000LL || units > (1L << 40))
            break;
        units *= 2;
    }
    double per[7];
    for (int i = 0; i < 7; i++) {
        long long t0 = bench_thread_cpu_ns();
        work_do(units, "calibrate", 9);
        per[i] = (double)(bench_thread_cpu_ns() - t0) / (double)units;
    }
    for (int i = 1; i < 7; i++) /* insertion sort: 7 values */
        for (int j = i; j > 0 && per[j] < per[j - 1]; j--) {
            double x = per[j];
            per[j] = per[j - 1];
            per[j - 1] = x;
        }
    printf("work_unit_ns %.3f\nunits_per_us %.3f\n", per[3], 1000.0 / per[3]);
    return 0;
}

/* --compare CSV --base MODEL: the ratios and their intervals on stdout. */
static int bench_compare(const struct bench_opts *o)
{
    char why[512];
    if (!o->base) {
        fprintf(stderr, "%s: --compare needs --base MODEL\n", PROG);
        return 2;
    }
    if (stats_compare_write(o->compare, o->base, o->metrics, stdout, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", PROG, why);
    return 1;
}

/* --summarize CSV: the summary on stdout. */
static int bench_summarize(const char *csv)
{
    char why[512];
    if (summary_write(csv, stdout, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", PROG, why);
    return 1;
}

int main(int argc, char **argv)
{
    char models[512], listed[512], about[1536];
    struct bench_opts o = {
        .models = registry_join(",", models, sizeof models), .conns = "10,100,1000", .secs = 2, .reps = 6,
        .msg_bytes = 64, .work = 0, .out = "results/latest", .bin = "bin", .pin = "auto",
        .lg_threads = 1, .stack_kib = 0, .summarize = NULL, .disturbed_cores = 0.25,
        .metrics = "msgs_per_s", .bind = "127.0.0.1", .port = 0,
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
        {"pin", 0, FLAG_STR, &o.pin, 0, 0, "MODE", "auto (halves on 4+ cores, else none), none, split (server on CPU 0, loadgen on CPU 1), halves (server on the first half of the CPUs, loadgen on the rest)"},
        {"loadgen-threads", 0, FLAG_INT, &o.lg_threads, 1, 256, "T", "threads in loadgen"},
        {"stack-kib", 0, FLAG_INT, &o.stack_kib, 0, 1 << 20, "KIB", "per-connection stack for the server; 0 = its default"},
        {"summarize", 0, FLAG_STR, &o.summarize, 0, 0, "CSV", "print the summary of an existing echo.csv and exit"},
        {"per-conn", 0, FLAG_INT, &o.per_conn, 0, 1000000000L, "K", "loadgen --per-conn K: a new connection every K messages; 0 = keep them open"},
        {"pool-size", 0, FLAG_INT, &o.pool_size, 0, 100000, "N", "a model with a fixed pool (about.txt pool_flag) gets N workers; 0 = its default"},
        {"compare", 0, FLAG_STR, &o.compare, 0, 0, "CSV", "print each model's ratio to --base with its interval from the rounds of an existing CSV and exit"},
        {"base", 0, FLAG_STR, &o.base, 0, 0, "MODEL", "the model --compare divides by"},
        {"metrics", 0, FLAG_STR, &o.metrics, 0, 0, "LIST", "the columns --compare compares"},
        {"disturbed", 0, FLAG_DOUBLE, &o.disturbed_cores, 0, 1000, "CORES", "mark a run disturbed when other processes used more than this many cores during it"},
        {"bind", 0, FLAG_STR, &o.bind, 0, 0, "ADDR", "the server's address (default 127.0.0.1); loadgen connects to it"},
        {"port", 0, FLAG_INT, &o.port, 0, 65535, "PORT", "the server's port; 0: a free one"},
        {"serve", 0, FLAG_STR, &o.serve, 0, 0, "MODEL", "server half only, on a server host: start echo-MODEL (or echo-epoll, the baseline), pass on its ready line, sample it until stdin ends, print a 'served' line"},
        {"server-cmd", 0, FLAG_STR, &o.server_cmd, 0, 0, "CMD", "run 'bin/bench --serve' through CMD (scripts/hosts.sh run HOST): the server on another host"},
        {"load-cmd", 0, FLAG_STR, &o.load_cmd, 0, 0, "CMD", "run CMD with loadgen's flags instead of loadgen (scripts/hosts.sh load: the load hosts); with --server-cmd"},
        {"calibrate-work", 0, FLAG_BOOL, &o.calibrate_work, 0, 0, NULL, "print the CPU time of one --work unit on this machine (work_unit_ns) and exit"},
        {0},
    };
    snprintf(about, sizeof about,
             "Runs the echo servers of several models under the same load (bin/loadgen),\n"
             "interleaved and repeated, and records throughput, latency, memory (RSS, PSS of\n"
             "the whole server process tree) and CPU (server plus reaped children) in\n"
             "DIR/echo.csv, one row per run, with DIR/meta.txt, DIR/commands.txt and the\n"
             "medians in DIR/echo-summary.csv. Progress goes to stderr.\n"
             "Models (models/NAME/about.txt): %s.\n"
             "Exit status: 0 all runs clean, 1 a run failed or was marked, 2 bad flags.",
             registry_count() ? registry_join(", ", listed, sizeof listed) : "none found");
    const struct flags_spec spec = {PROG, "[flags]", about, flags, 0};
    char cmdline[4096];
    bench_cmdline(argc, argv, cmdline, sizeof cmdline);
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    if (o.summarize)
        return bench_summarize(o.summarize);
    if (o.compare)
        return bench_compare(&o);
    if (o.calibrate_work)
        return bench_calibrate_work();
    signal(SIGPIPE, SIG_IGN);
    if (o.serve) {
        /* a model, a peer, or the hand-written baseline (harness/echo-epoll.c, the
         * same flags), which bench-latency draws beside the models on a server host too */
        if (!registry_known(o.serve) && strcmp(o.serve, "epoll") != 0)
            return flags_exit(flags_error(&spec, "--serve: '%s' is not a model", o.serve));
        struct rlimit rl; /* room for every connection the runner may bring */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        signal(SIGINT, bench_on_signal);
        signal(SIGTERM, bench_on_signal);
        signal(SIGHUP, bench_on_signal);
        return bench_serve(&o);
    }
    if (!o.server_cmd != !o.load_cmd)
        return flags_exit(flags_error(&spec, "--server-cmd and --load-cmd go together"));

    struct bench_matrix m;
    if (bench_matrix_parse(&spec, &o, &m) < 0)
        return 2;
    if ((!o.server_cmd && bench_check_programs(&o, &m) < 0) || bench_check_nofile(&m) < 0)
        return 1;
    if (m.pinned)
        sched_setaffinity(0, sizeof m.cpus_loadgen, &m.cpus_loadgen); /* the sampler stays off the server's CPUs */
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
