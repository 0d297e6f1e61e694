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
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static const char *prog = "measure";

/* A snapshot of the process table: who is whose parent. */
struct measure_procs {
    int *pid;        /* process ids */
    int *ppid;       /* their parents */
    size_t n, cap;   /* how many, room for how many */
    char *in_tree;   /* in_tree[pid]: pid is the command or one of its descendants */
    size_t max_pid;  /* size of in_tree */
};

/* Read a small /proc file into buf (NUL-terminated). Returns its length or -1. */
static ssize_t measure_slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == cap - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* The parent of pid from /proc/pid/stat: "pid (comm) S ppid ...", where comm
 * may itself hold spaces and parentheses, so we look after the last ')'. */
static int measure_ppid(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (measure_slurp(path, buf, sizeof buf) < 0)
        return -1;
    char *close_paren = strrchr(buf, ')');
    int ppid;
    if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
        return -1;
    return ppid;
}

static void measure_scan(struct measure_procs *p)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    p->n = 0;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || (size_t)pid >= p->max_pid)
            continue;
        int ppid = measure_ppid((int)pid);
        if (ppid < 0)
            continue; /* it exited meanwhile */
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 1024;
            int *a = realloc(p->pid, cap * sizeof *a), *b;
            if (!a)
                break;
            p->pid = a;
            b = realloc(p->ppid, cap * sizeof *b);
            if (!b)
                break;
            p->ppid = b;
            p->cap = cap;
        }
        p->pid[p->n] = (int)pid;
        p->ppid[p->n++] = ppid;
    }
    closedir(d);
}

/* PSS of one process in KiB, 0 if it is gone. */
static long measure_pss(int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    if (measure_slurp(path, buf, sizeof buf) < 0)
        return 0;
    char *s = strstr(buf, "\nPss:");
    return s ? strtol(s + 5, NULL, 10) : 0;
}

/* Sum the PSS of root and all its descendants, in KiB. */
static long measure_tree_pss(struct measure_procs *p, int root)
{
    long sum = 0;
    int grew = 1;
    measure_scan(p);
    memset(p->in_tree, 0, p->max_pid);
    p->in_tree[root] = 1;
    while (grew) { /* add children of members until nothing changes */
        grew = 0;
        for (size_t i = 0; i < p->n; i++)
            if (!p->in_tree[p->pid[i]] && p->ppid[i] > 0 && (size_t)p->ppid[i] < p->max_pid &&
                p->in_tree[p->ppid[i]]) {
                p->in_tree[p->pid[i]] = 1;
                grew = 1;
            }
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->in_tree[p->pid[i]])
            sum += measure_pss(p->pid[i]);
    return sum;
}

static size_t measure_pid_max(void)
{
    char buf[32];
    if (measure_slurp("/proc/sys/kernel/pid_max", buf, sizeof buf) < 0)
        return 4194305;
    return (size_t)strtoul(buf, NULL, 10) + 1;
}

/* Append the CSV line, with the header first if the file is new or empty. */
static int measure_write(const char *out, const char *line)
{
    static const char header[] = "label,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples\n";
    if (!out) {
        fprintf(stderr, "%s%s", header, line);
        return 0;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        goto fail;
    if (st.st_size == 0 && net_write_all(fd, header, sizeof header - 1) < 0)
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

int main(int argc, char **argv)
{
    const char *out = NULL, *label = NULL;
    long interval_ms = 50;
    const struct flag table[] = {
        {"out", 'o', FLAG_STR, &out, 0, 0, "FILE", "append the CSV line to FILE (default: stderr)"},
        {"label", 'l', FLAG_STR, &label, 0, 0, "L", "first column of the line (default: CMD's name)"},
        {"interval", 0, FLAG_INT, &interval_ms, 1, 60000, "MS", "how often to sample the tree's PSS"},
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
                 "(128+N if a signal N killed it, 127 if it could not be run).",
        .flags = table,
        .max_positional = -1,
    };
    int n = flags_parse(&spec, argc, argv);
    if (n == 0)
        flags_die(&spec, "no command given");
    if (label && strpbrk(label, ",\n\""))
        flags_die(&spec, "--label: no commas, quotes or newlines please");
    if (!label)
        label = argv[1];

    struct measure_procs procs = {.max_pid = measure_pid_max()};
    procs.in_tree = calloc(procs.max_pid, 1);
    if (!procs.in_tree) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 125;
    }
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);

    long long start = net_now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        return 125;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[1], &argv[1]);
        fprintf(stderr, "%s: %s: %s\n", prog, argv[1], strerror(errno));
        _exit(127);
    }

    long peak_pss = 0, samples = 0;
    int status = 0;
    struct rusage ru;
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "%s: wait4: %s\n", prog, strerror(errno));
            return 125;
        }
        long long t0 = net_now_ns();
        long pss = measure_tree_pss(&procs, pid);
        if (pss > peak_pss)
            peak_pss = pss;
        samples++;
        /* keep sampling cheap: wait at least twice as long as the sample took */
        long long took_ms = (net_now_ns() - t0) / 1000000;
        long wait_ms = interval_ms > 2 * took_ms ? interval_ms : (long)(2 * took_ms);
        struct timespec ts = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            kill(pid, sig); /* pass it on; we report when the command ends */
    }
    double wall = (double)(net_now_ns() - start) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char line[512];
    snprintf(line, sizeof line, "%s,%d,%.4f,%.4f,%.4f,%ld,%ld,%ld\n", label, code, wall,
             measure_tv(ru.ru_utime), measure_tv(ru.ru_stime), ru.ru_maxrss, peak_pss,
             samples);
    int wr = measure_write(out, line);
    free(procs.in_tree);
    free(procs.pid);
    free(procs.ppid);
    if (wr < 0 && code == 0)
        return 125;
    return code;
}
