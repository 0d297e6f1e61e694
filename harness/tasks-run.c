/* tasks-run — run one "N sleeping tasks" program and write down what it
 * cost, as one CSV row: the peak of a memory cgroup made for it alone, its
 * max RSS, its wall time, and how far it got.
 *
 *   tasks-run --kind KIND --count N [--timeout S] [--mem-max MIB] -- CMD ARGS...
 *   tasks-run --header       (prints the CSV header line)
 *
 * The program (bin/tasks-sleep, tasks/sleep.py, ...) prints "started K" once
 * its K tasks exist, or "stopped LIMIT after K: why" when a task could not be
 * started. tasks-run reads those lines, waits for it to exit (killing its
 * whole process group after --timeout seconds) and prints:
 *
 *   kind,n,started,wall_s,maxrss_kib,cgroup_peak_kib,bytes_per_task,stopped,exit
 *
 * maxrss_kib: wait4()'s ru_maxrss, the largest SINGLE process of the tree
 *   (for the process kind, one task or the parent, not their sum).
 * cgroup_peak_kib: the most the memory cgroup ever held: every process of the
 *   tree, user pages and what the kernel allocated for them (v1
 *   memory.max_usage_in_bytes, v2 memory.peak); empty when no cgroup.
 * bytes_per_task: cgroup peak (or max RSS without cgroups) / started.
 * stopped: empty when every task ran; else pid_max, threads-max,
 *   vm.max_map_count, memory (the program's guard, or the cgroup's OOM
 *   killer), timeout, or error (the program failed; its stderr says why).
 *
 * --mem-max puts a limit on the cgroup, so that a kind which would take more
 * memory than the machine can spare is stopped by the cgroup's OOM killer
 * rather than the machine's. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "flags.h"
#include "net.h"
#include "proc.h"
#include "procstat.h"

static const char header[] = "kind,n,started,wall_s,maxrss_kib,cgroup_peak_kib,bytes_per_task,stopped,exit";

/* What the program said on stdout. */
struct said {
    long started;       /* K of "started K" or "stopped ... after K"; -1 before */
    char stopped[32];   /* the LIMIT of "stopped LIMIT after K", "" if none */
    char line[256];     /* the part being read (lines are short) */
    size_t len;         /* bytes in line */
};

static void said_line(struct said *s, const char *line)
{
    long k;
    char limit[32];
    if (sscanf(line, "started %ld", &k) == 1)
        s->started = k;
    else if (sscanf(line, "stopped %31s after %ld", limit, &k) == 2) {
        s->started = k;
        snprintf(s->stopped, sizeof s->stopped, "%s", limit);
    }
}

/* Feed what was read into lines. */
static void said_feed(struct said *s, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (s->len < sizeof s->line - 1)
                s->line[s->len++] = buf[i];
            continue;
        }
        s->line[s->len] = '\0';
        said_line(s, s->line);
        s->len = 0;
    }
}

/* In the child, before exec: into the measured group. */
static int join_group(void *dir) { return cgroup_join(dir, 0); }

static long long group_file(const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return procstat_read_ll(path);
}

/* "oom_kill N" of v1 memory.oom_control or v2 memory.events: did the
 * cgroup's OOM killer act? */
static long long group_oom_kills(const struct cgroup_env *c, const char *dir)
{
    char path[PATH_MAX + 64], line[128];
    snprintf(path, sizeof path, "%s/%s", dir, c->version == 1 ? "memory.oom_control" : "memory.events");
    FILE *f = fopen(path, "re");
    long long n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "oom_kill %lld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static int group_limit(const struct cgroup_env *c, const char *dir, long mib)
{
    char path[PATH_MAX + 64], text[32];
    snprintf(path, sizeof path, "%s/%s", dir, c->version == 1 ? "memory.limit_in_bytes" : "memory.max");
    snprintf(text, sizeof text, "%lld\n", (long long)mib << 20);
    FILE *f = fopen(path, "we");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *kind = "";
    long count = 0, timeout_s = 70, mem_max = 0;
    int want_header = 0;
    static const char *const about =
        "Run CMD (an N-sleeping-tasks program) in a memory cgroup of its own, read its\n"
        "\"started K\" / \"stopped LIMIT after K\" lines, and print one CSV row:\n"
        "kind,n,started,wall_s,maxrss_kib,cgroup_peak_kib,bytes_per_task,stopped,exit";
    const struct flag flags[] = {
        {"kind", 'k', FLAG_STR, &kind, 0, 0, "KIND", "the row's kind (a label)"},
        {"count", 'n', FLAG_INT, &count, 1, 100000000, "N", "the N the program was asked for"},
        {"timeout", 't', FLAG_INT, &timeout_s, 1, 86400, "S", "kill its process group after S seconds (70)"},
        {"mem-max", 0, FLAG_INT, &mem_max, 0, 1 << 24, "MIB", "limit the cgroup to MIB (0: no limit)"},
        {"header", 0, FLAG_BOOL, &want_header, 0, 0, NULL, "print the CSV header and exit"},
        {0},
    };
    const struct flags_spec spec = {.prog = "tasks-run",
                                    .usage = "--kind KIND --count N [--timeout S] [--mem-max MIB] -- CMD ARGS...",
                                    .about = about,
                                    .flags = flags,
                                    .max_positional = -1};
    int npos = flags_parse(&spec, argc, argv);
    if (npos < 0)
        return flags_exit(npos);
    if (want_header)
        return puts(header) < 0;
    if (!kind[0] || count <= 0)
        return flags_exit(flags_error(&spec, "--kind and --count are required"));
    if (npos < 1)
        return flags_exit(flags_error(&spec, "no command given after --"));

    struct cgroup_env cg;
    char dir[PATH_MAX] = "", name[64];
    if (cgroup_init(&cg)) {
        snprintf(name, sizeof name, "tasks-run-%d", (int)getpid());
        if (cgroup_create(&cg, name, dir, sizeof dir) < 0)
            dir[0] = '\0';
    }
    if (!dir[0])
        fprintf(stderr, "tasks-run: %s\n", cg.note);
    if (dir[0] && mem_max > 0 && group_limit(&cg, dir, mem_max) < 0)
        fprintf(stderr, "tasks-run: could not limit %s to %ld MiB: %s\n", dir, mem_max, strerror(errno));

    argv[npos + 1] = NULL;
    struct proc p;
    struct proc_opts o = {.pipe_stdout = 1, .own_group = 1, .search_path = 1,
                          .before_exec = dir[0] ? join_group : NULL, .arg = dir};
    long long t0 = net_now_ns();
    if (proc_spawn(&p, argv + 1, &o) < 0) {
        fprintf(stderr, "tasks-run: cannot start %s: %s\n", argv[1], strerror(errno));
        cgroup_remove(dir);
        return 1;
    }
    struct said s = {.started = -1};
    long long deadline = t0 + timeout_s * 1000000000LL;
    int timed_out = 0;
    char buf[4096];
    while (p.out_fd >= 0) { /* read its lines until it closes stdout (exits) */
        long long left_ms = (deadline - net_now_ns()) / 1000000;
        if (left_ms <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf = {.fd = p.out_fd, .events = POLLIN};
        int r = poll(&pf, 1, left_ms > 1000 ? 1000 : (int)left_ms);
        if (r <= 0)
            continue;
        ssize_t n = read(p.out_fd, buf, sizeof buf);
        if (n > 0) {
            said_feed(&s, buf, (size_t)n);
            fwrite(buf, 1, (size_t)n, stderr); /* its progress, for the log */
        } else if (n == 0 || errno != EINTR) {
            close(p.out_fd);
            p.out_fd = -1;
        }
    }
    while (!timed_out && proc_wait(&p, 1000) == 1)
        timed_out = net_now_ns() >= deadline;
    if (timed_out) {
        proc_kill_now(p.pid, 1); /* the whole group: a forked task too */
        proc_wait(&p, -1);
        if (p.out_fd >= 0)
            close(p.out_fd);
    }
    double wall = (net_now_ns() - t0) / 1e9;
    int code = WIFEXITED(p.status) ? WEXITSTATUS(p.status) : 128 + WTERMSIG(p.status);
    if (timed_out)
        code = 124;

    long long peak = -1, ooms = 0;
    if (dir[0]) {
        peak = group_file(dir, cg.version == 1 ? "memory.max_usage_in_bytes" : "memory.peak");
        ooms = group_oom_kills(&cg, dir);
        if (cgroup_remove(dir) < 0)
            fprintf(stderr, "tasks-run: could not remove %s: %s\n", dir, strerror(errno));
    }
    const char *stopped = s.stopped;
    if (ooms > 0)
        stopped = "memory"; /* the cgroup's OOM killer took tasks (--mem-max) */
    else if (timed_out)
        stopped = "timeout";
    else if (!stopped[0] && (code != 0 || s.started < 0))
        stopped = "error";
    long started = s.started < 0 ? 0 : s.started;
    long maxrss = p.ru.ru_maxrss;
    double per = started > 0 ? (peak >= 0 ? peak : maxrss * 1024.0) / started : 0;
    char peak_s[32] = "";
    if (peak >= 0)
        snprintf(peak_s, sizeof peak_s, "%lld", peak / 1024);
    printf("%s,%ld,%ld,%.2f,%ld,%s,%.0f,%s,%d\n", kind, count, started, wall, maxrss, peak_s, per, stopped, code);
    return 0;
}
