/* measure — run a command and write down what it cost: wall time, CPU time,
 * and peak memory, as one CSV line.
 *
 *   measure [--out FILE] [--label L] -- CMD ARGS...
 *
 * CPU and ru_maxrss come from wait4(), which reports the command together with
 * every descendant it reaped. But ru_maxrss is the largest SINGLE process,
 * not a sum: for fetch-fork (a parent and up to C children) it says how big
 * one process got, not how much the whole tree held. So measure also samples
 * the tree every --interval ms: it sums the PSS (proportional set size: each
 * shared page divided among the processes sharing it) of the command and all
 * its descendants from /proc/PID/smaps_rollup, and records the peak. PSS sums
 * honestly: pages shared after fork() are not counted twice.
 *
 * Across hosts (scripts/bench-fetch.sh with LOAD_HOSTS) every load host runs
 * its share under measure through ssh: --start-at makes them all start at one
 * wall-clock time and counts the wall time from it (a late start is counted,
 * and said in a ninth column, late_ms), --until-eof stops the command when
 * ssh's session ends (the runner or its host went away), and --out - writes
 * the line on stdout, back to the runner.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flags.h"
#include "net.h"
#include "proc.h"
#include "procstat.h"

static const char *prog = "measure";

/* PSS of `root` and all its descendants, in KiB (models/common/procstat.c),
 * 0 once it is gone. */
static long measure_tree_pss(pid_t root)
{
    struct procstat_tree t;
    return procstat_tree(root, &t) == 0 ? t.pss_kib : 0;
}

/* Append the CSV line, with the header first if the file is new or empty
 * (to stdout, header first, for "-"). With --start-at the line has a ninth
 * column, late_ms. */
static int measure_write(const char *out, const char *line, int late_col)
{
    char header[] = "label,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples,late_ms\n";
    if (!late_col)
        strcpy(strstr(header, ",late_ms"), "\n");
    if (!out || strcmp(out, "-") == 0) {
        fprintf(out ? stdout : stderr, "%s%s", header, line);
        return fflush(out ? stdout : stderr) == 0 ? 0 : -1;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        goto fail;
    if (st.st_size == 0 && net_write_all(fd, header, strlen(header)) < 0)
        goto fail;
    if (net_write_all(fd, line, strlen(line)) < 0)
        goto fail;
    close(fd);
    return 0;
fail:
    fprintf(stderr, "%s: %s: %s\n", prog, out, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static double measure_tv(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static long long measure_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --start-at: sleep until that wall-clock time; returns how late we are
 * then, in ns (0 when on time). Refuses a time more than 60 s away. */
static int measure_wait_start(long long at, long long *late)
{
    long long wait = at - measure_realtime_ns();
    if (wait > 60000000000LL) {
        fprintf(stderr, "%s: --start-at is %.0f s away (more than 60 s): clocks apart?\n", prog,
                (double)wait / 1e9);
        return -1;
    }
    if (wait > 0) {
        struct timespec ts = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL};
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
    *late = measure_realtime_ns() - at;
    if (*late < 0)
        *late = 0;
    if (*late > 10000000LL)
        fprintf(stderr, "%s: started %.1f ms after --start-at\n", prog, (double)*late / 1e6);
    return 0;
}

/* --until-eof: has stdin ended (its writer, e.g. ssh's session, gone)? Input
 * before the end is read and dropped. */
static int measure_stdin_ended(void)
{
    struct pollfd pfd = {0, POLLIN, 0};
    char buf[256];
    while (poll(&pfd, 1, 0) == 1) {
        if (pfd.revents & (POLLERR | POLLNVAL))
            return 1;
        ssize_t r = read(0, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
            return 1;
        if (r < 0)
            return 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *label = NULL;
    long interval_ms = 50, start_at = 0, until_eof = 0;
    const struct flag table[] = {
        {"out", 'o', FLAG_STR, &out, 0, 0, "FILE", "append the CSV line to FILE; - writes it on stdout, header first (default: stderr)"},
        {"label", 'l', FLAG_STR, &label, 0, 0, "L", "first column of the line (default: CMD's name)"},
        {"interval", 0, FLAG_INT, &interval_ms, 1, 60000, "MS", "how often to sample the tree's PSS"},
        {"start-at", 0, FLAG_INT, &start_at, 0, 4000000000000000000L, "NS", "start CMD at this wall-clock time (ns since 1970, CLOCK_REALTIME) and count wall_s from it; adds the column late_ms (how late CMD started): load hosts start together"},
        {"until-eof", 0, FLAG_BOOL, &until_eof, 0, 0, NULL, "when stdin ends, stop CMD (SIGTERM; SIGKILL to its process group 2 s later) and whatever is left of its group: when ssh's session goes, so does CMD"},
        {0},
    };
    const struct flags_spec spec = {
        .prog = prog,
        .usage = "[flags] -- CMD [ARGS...]",
        .about = "Run CMD, wait for it, and append one CSV line\n"
                 "  label,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples\n"
                 "(a header first if the file is new). CPU and maxrss come from wait4() and\n"
                 "include reaped descendants; maxrss is the largest single process. peak_pss_kib\n"
                 "is the peak of the PSS summed over CMD and all its descendants, sampled every\n"
                 "--interval ms (slower when there are many processes). Exits with CMD's status\n"
                 "(128+N if a signal N killed it, 127 if it could not be run; --until-eof: 124\n"
                 "if it had to be killed).",
        .flags = table,
        .max_positional = -1,
    };
    int n = flags_parse(&spec, argc, argv);
    if (n < 0)
        return flags_exit(n);
    if (n == 0)
        return flags_exit(flags_error(&spec, "no command given"));
    if (label && strpbrk(label, ",\n\""))
        return flags_exit(flags_error(&spec, "--label: no commas, quotes or newlines please"));
    if (!label)
        label = argv[1];

    /* --until-eof: when ssh's session ends, stdout and stderr go with stdin;
     * a write to them must not kill us before the command is stopped */
    if (until_eof)
        signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);

    long long late = 0;
    if (start_at && measure_wait_start(start_at, &late) < 0)
        return 125;
    long long start = net_now_ns() - late; /* from --start-at: a late start counts */
    struct proc p;
    struct proc_opts po = {.search_path = 1, .own_group = (int)until_eof};
    if (proc_spawn(&p, &argv[1], &po) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, argv[1], strerror(errno));
        p.status = 127 << 8; /* as a shell says it: the command could not be run */
    }

    long peak_pss = 0, samples = 0;
    for (;;) {
        int w = p.pid > 0 ? proc_wait(&p, 0) : 0;
        if (w == 0)
            break;
        if (w < 0) {
            fprintf(stderr, "%s: wait4: %s\n", prog, strerror(errno));
            return 125;
        }
        long long t0 = net_now_ns();
        long pss = measure_tree_pss(p.pid);
        if (pss > peak_pss)
            peak_pss = pss;
        samples++;
        /* keep sampling cheap: wait at least twice as long as the sample took */
        long long took_ms = (net_now_ns() - t0) / 1000000;
        long wait_ms = interval_ms > 2 * took_ms ? interval_ms : (long)(2 * took_ms);
        struct timespec ts = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            kill(p.pid, sig); /* pass it on; we report when the command ends */
        if (until_eof && measure_stdin_ended()) {
            proc_stop(&p, 2000); /* reaps it: p.ru holds its CPU */
            fprintf(stderr, "%s: stdin ended: stopped %s\n", prog, argv[1]);
            break;
        }
    }
    double wall = (double)(net_now_ns() - start) / 1e9;
    int code = proc_exit_code(&p);
    struct rusage ru = p.ru;
    char line[512];
    int len = snprintf(line, sizeof line, "%s,%d,%.4f,%.4f,%.4f,%ld,%ld,%ld", label, code, wall,
                       measure_tv(ru.ru_utime), measure_tv(ru.ru_stime), ru.ru_maxrss, peak_pss,
                       samples);
    if (start_at)
        len += snprintf(line + len, sizeof line - (size_t)len, ",%.1f", (double)late / 1e6);
    snprintf(line + len, sizeof line - (size_t)len, "\n");
    int wr = measure_write(out, line, start_at != 0);
    if (wr < 0 && code == 0)
        return 125;
    return code;
}
