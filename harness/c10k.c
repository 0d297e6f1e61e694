/* c10k — what N idle connections cost an echo server, user side and kernel side.
 *
 * For one model's echo server (bin/echo-MODEL) and each connection count N:
 *
 *   1. start the server (port 0) inside a memory cgroup of its own, let it settle;
 *   2. read the figures BEFORE: /proc/meminfo (kernel stacks, page tables, slab),
 *      /proc/net/sockstat (TCP socket-buffer pages), the PSS of the server's
 *      process tree, the server cgroup's counters and our own (client) cgroup's;
 *   3. open N connections from this process, paced, each proving itself with one
 *      small echo round trip (connect_s: how long reaching N took);
 *   4. let the tree settle, read the same figures AFTER;
 *   5. one more echo round trip on every connection (errors are counted), close
 *      them all, stop the server with SIGTERM (by PID) and check it exits 0.
 *
 * Memory per connection = (after - before) / N, two ways:
 *   meminfo: machine-wide, so it holds BOTH ends of every loopback connection
 *            (our client sockets too), plus whatever else the machine did;
 *   cgroup:  only what the kernel charged to the server's cgroup (its pages and
 *            the kernel objects it allocated); our own cgroup measures the client
 *            side, which is subtracted from the meminfo figure to compare the two.
 * docs/c10k.md says what each figure includes. One CSV row per N and repetition. */
#include "c10k_conns.h"
#include "cgroup.h"
#include "flags.h"
#include "net.h"
#include "proc.h"
#include "procstat.h"
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Paths and messages are cut to fit their buffers on purpose: a long cgroup
 * path in a progress line loses its tail, nothing worse. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

enum {
    C10K_MAX_COUNTS = 32,  /* connection counts in one --conns list */
    C10K_SLACK_FDS = 64,   /* descriptors beyond N that the client needs (stdio, pipes, files) */
    C10K_READY_MS = 5000,  /* how long a server may take to print its ready line */
    C10K_STOP_MS = 30000,  /* how long it may take to exit after SIGTERM (10,000 children) */
};

struct c10k_opts {
    const char *model;   /* --model: which echo server, bin/echo-MODEL */
    const char *conns;   /* --conns: the list of connection counts */
    long reps;           /* --reps: repetitions of each count */
    const char *out;     /* --out: CSV file to append to ("" = stdout) */
    long rate;           /* --rate: new connections per second */
    long inflight;       /* --inflight: connections being set up at once, at most */
    long settle_ms;      /* --settle-ms: quiet time before each reading */
    long step_s;         /* --step-s: time limit of each step (connect, echo) */
    const char *bindir;  /* --bin: where the echo servers are ("" = beside this program) */
    int no_cgroup;       /* --no-cgroup: skip the cgroup cross-check */
};

static struct c10k_opts opt = {"", "1,10,100,1000,5000,10000", 3, "", 5000, 256, 1000, 60, "", 0};
static volatile sig_atomic_t c10k_interrupted; /* SIGINT/SIGTERM: finish the step, clean up, stop */

static void c10k_on_signal(int sig) { c10k_interrupted = 1; }

/* A progress line on stderr: "c10k: ..." */
static void c10k_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void c10k_say(const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "c10k: %s\n", line);
}

static void c10k_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && !c10k_interrupted) {
    }
}

/* The memory cgroups (harness/lib/cgroup.c): where ours are, or why none. */
static struct cgroup_env c10k_cg;

/* Remove a group we made; say so if it stays. */
static void c10k_cg_remove(const char *dir)
{
    if (cgroup_remove(dir) < 0)
        c10k_say("warning: could not remove cgroup %s: %s", dir, strerror(errno));
}

/* ==== the server ================================================================ */

/* One echo server we started. */
struct c10k_server {
    struct proc p;        /* the process (harness/lib/proc.c): pid, port, exit */
    int err_fd;           /* a temporary file that receives its stderr */
    char cgroup[PATH_MAX];/* its cgroup's directory, "" if none */
};

/* In the child, before exec: join the server's cgroup BEFORE it can accept anything. */
static int c10k_join_cgroup(void *dir)
{
    return cgroup_join(dir, 0);
}

/* Start bin/echo-MODEL --port 0 in the server's cgroup and read its ready
 * line. A model with a fixed pool (about.txt's pool_flag, e.g. --workers) is
 * given one worker per connection: N idle connections held, not queued.
 * Returns 0, or -1 with a message. */
static int c10k_server_start(struct c10k_server *s, const char *path, long n)
{
    char errname[] = "/tmp/c10k-server-err-XXXXXX";
    s->err_fd = mkostemp(errname, O_CLOEXEC);
    if (s->err_fd < 0) {
        c10k_say("cannot make a temporary file: %s", strerror(errno));
        return -1;
    }
    unlink(errname); /* we keep the descriptor; the name goes away */
    char flag[64], size[32];
    char *argv[8] = {(char *)path, "--port", "0"};
    int k = 3;
    if (!registry_is_peer(opt.model)) { /* a peer keeps its own backlog: 4096, or somaxconn (Go) */
        argv[k++] = "--backlog";
        argv[k++] = "4096";
    }
    if (registry_about(opt.model, "pool_flag", flag, sizeof flag) == 0) {
        snprintf(size, sizeof size, "%ld", n);
        argv[k++] = flag;
        argv[k++] = size;
    }
    argv[k] = NULL;
    struct proc_opts o = {.pipe_stdout = 1, .err_fd = s->err_fd,
                          .before_exec = s->cgroup[0] ? c10k_join_cgroup : NULL, .arg = s->cgroup};
    if (proc_spawn(&s->p, argv, &o) < 0) {
        c10k_say("cannot start %s: %s", path, strerror(errno));
        return -1;
    }
    if (proc_wait_ready(&s->p, C10K_READY_MS) < 0) {
        c10k_say("%s", s->p.why);
        return -1;
    }
    close(s->p.out_fd); /* a server prints nothing after its ready line */
    s->p.out_fd = -1;
    return 0;
}

/* SIGTERM the server by PID and reap it; returns its exit status, 128+signal
 * if a signal ended it, 124 if it had to be killed, -1 if none. */
static int c10k_server_stop(struct c10k_server *s)
{
    if (s->p.pid <= 0)
        return -1;
    if (proc_stop(&s->p, C10K_STOP_MS) < 0)
        c10k_say("%s", s->p.why);
    return proc_exit_code(&s->p);
}

/* The last line the server wrote on stderr ("" if none), for stop reasons. */
static void c10k_server_last_line(const struct c10k_server *s, char *out, size_t cap)
{
    char buf[4096];
    out[0] = '\0';
    off_t end = lseek(s->err_fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(s->err_fd, buf, sizeof buf - 1, from);
    if (n <= 0)
        return;
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    char *last = strrchr(buf, '\n');
    snprintf(out, cap, "%s", last ? last + 1 : buf);
}

/* ==== one run: N connections, before/after readings ============================ */

/* Everything read at one moment. */
struct c10k_snap {
    struct procstat_mem mem;    /* machine-wide kernel memory */
    struct procstat_tree tree;  /* the server's process tree */
    struct cgroup_reading srv;      /* the server's cgroup */
    struct cgroup_reading cli;      /* our own (client) cgroup */
};

/* The figures of one run, per connection in KiB (NAN: unknown). */
struct c10k_result {
    long n, reached;           /* connections asked for, and established and echoed */
    int rep;                   /* repetition, from 1 */
    double connect_s;          /* time to reach `reached` connections */
    long errors;               /* failed echo round trips in the final pass */
    int server_exit;           /* the server's exit status after SIGTERM (-1: not started) */
    double pss, kstack, pagetables, slab, sunreclaim, sock, kernel; /* meminfo split, both ends */
    double cg_total, cg_kmem, cg_tcp;  /* server cgroup */
    double client_kernel;      /* our cgroup: kernel memory of the client side */
    double meminfo_server;     /* pss + kernel - client_kernel: the server by meminfo */
    double cg_server;          /* cg_total (+ TCP buffers in v1): the server by cgroup */
    double agree_pct;          /* (meminfo_server - cg_server) / cg_server, in % */
    double proc_slab;          /* /proc's own inodes and dentries: left out of slab */
    long procs, threads;       /* the server tree at the AFTER reading */
    char stop[256];            /* why N was not reached, "" if it was */
};

static char c10k_client_cg[PATH_MAX]; /* our own cgroup's directory, "" if none */

static void c10k_snap(pid_t server, const char *srv_cg, struct c10k_snap *s)
{
    memset(s, 0, sizeof *s);
    procstat_meminfo(&s->mem);
    procstat_tree(server, &s->tree);
    cgroup_read(&c10k_cg, srv_cg, &s->srv);
    cgroup_read(&c10k_cg, c10k_client_cg, &s->cli);
}

/* (after - before) / n, in KiB, from KiB or (bytes != 0) bytes; NAN if unknown. */
static double c10k_per(long long before, long long after, long n, int bytes)
{
    if (before < 0 || after < 0 || n <= 0)
        return NAN;
    return (double)(after - before) / (bytes ? 1024.0 : 1.0) / (double)n;
}

static void c10k_compute(struct c10k_result *r, const struct c10k_snap *b, const struct c10k_snap *a)
{
    long n = r->reached;
    r->pss = c10k_per(b->tree.pss_kib, a->tree.pss_kib, n, 0);
    r->kstack = c10k_per(b->mem.kernel_stack, a->mem.kernel_stack, n, 0);
    r->pagetables = c10k_per(b->mem.page_tables, a->mem.page_tables, n, 0);
    /* /proc's inodes grow when anything lists the descriptors we open (here:
     * the VM's agent, every second); they are not the connections' cost. */
    r->proc_slab = c10k_per(b->mem.proc_slab, a->mem.proc_slab, n, 0);
    r->slab = c10k_per(b->mem.slab, a->mem.slab, n, 0) - (isnan(r->proc_slab) ? 0 : r->proc_slab);
    r->sunreclaim = c10k_per(b->mem.sunreclaim, a->mem.sunreclaim, n, 0);
    r->sock = c10k_per(b->mem.tcp_mem_kib, a->mem.tcp_mem_kib, n, 0);
    r->kernel = r->kstack + r->pagetables + r->slab + r->sock;
    r->cg_total = c10k_per(b->srv.total, a->srv.total, n, 1);
    r->cg_kmem = c10k_per(b->srv.kmem, a->srv.kmem, n, 1);
    r->cg_tcp = c10k_per(b->srv.tcp, a->srv.tcp, n, 1);
    r->cg_server = c10k_per(cgroup_all(&c10k_cg, &b->srv), cgroup_all(&c10k_cg, &a->srv), n, 1);
    double cli_k = c10k_per(b->cli.kmem, a->cli.kmem, n, 1);
    /* v1 counts TCP buffers apart from kmem; v2's kmem figure holds them already */
    double cli_t = c10k_cg.version == 1 ? c10k_per(b->cli.tcp, a->cli.tcp, n, 1) : 0;
    r->client_kernel = cli_k + (isnan(cli_t) ? 0 : cli_t);
    r->meminfo_server = r->pss + r->kernel - r->client_kernel;
    r->agree_pct = 100.0 * (r->meminfo_server - r->cg_server) / r->cg_server;
    r->procs = a->tree.procs;
    r->threads = a->tree.threads;
}

/* The errno a server's complaint names, from its strerror() text. */
static const char *c10k_errno_in(const char *text)
{
    static const struct {
        const char *name; /* errno's name */
        const char *says; /* what strerror() says for it */
    } known[] = {
        {"ENFILE", "Too many open files in system"}, /* before EMFILE: it starts the same */
        {"EMFILE", "Too many open files"},
        {"EAGAIN", "Resource temporarily unavailable"},
        {"ENOMEM", "Cannot allocate memory"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strstr(text, known[i].says))
            return known[i].name;
    return NULL;
}

/* One step of the clients (harness/lib/c10k_conns.c) at --rate and
 * --inflight, within --step-s, until interrupted. */
static int c10k_step(struct c10k_step *st)
{
    st->rate = opt.rate;
    st->inflight = opt.inflight;
    st->stop = &c10k_interrupted;
    int rc = c10k_step_run(st, opt.step_s);
    if (st->oom)
        c10k_say("out of memory");
    return rc;
}

/* Why the connections stopped short of N, in one CSV-safe cell. */
static void c10k_stop_reason(struct c10k_result *r, const struct c10k_step *st, struct c10k_server *s)
{
    char last[160];
    c10k_server_last_line(s, last, sizeof last);
    const char *server_errno = c10k_errno_in(last);
    const char *name = st->first_err ? strerrorname_np(st->first_err) : "EOF";
    if (c10k_interrupted)
        snprintf(r->stop, sizeof r->stop, "interrupted after %ld of %ld connections", r->reached, r->n);
    else if (s->p.pid > 0 && proc_wait(&s->p, 0) == 0)
        snprintf(r->stop, sizeof r->stop, "server died (%s %d) at connection %ld: %s",
                 WIFEXITED(s->p.status) ? "exit" : "signal",
                 WIFEXITED(s->p.status) ? WEXITSTATUS(s->p.status) : WTERMSIG(s->p.status), r->reached, last);
    else if (st->failed == 0)
        snprintf(r->stop, sizeof r->stop, "timeout: %ld of %ld connections after %ld s", r->reached, r->n, opt.step_s);
    else if (st->first_err == EMFILE && strcmp(st->first_what, "socket/connect") == 0) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        snprintf(r->stop, sizeof r->stop, "EMFILE: RLIMIT_NOFILE %lu (client, connection %ld)",
                 (unsigned long)rl.rlim_cur, st->first_index);
    } else if (server_errno)
        snprintf(r->stop, sizeof r->stop, "%s: server at connection %ld: %s%s", server_errno, st->first_index, last,
                 strcmp(server_errno, "EAGAIN") ? "" : " (threads-max, pid_max or RLIMIT_NPROC)");
    else
        snprintf(r->stop, sizeof r->stop, "%s: %s failed at connection %ld%s%s", name ? name : "error",
                 st->first_what, st->first_index, last[0] ? "; server said: " : "", last);
    for (char *p = r->stop; *p; p++) /* one CSV cell: no commas, no quotes */
        if (*p == ',' || *p == '"' || *p == '\n')
            *p = *p == ',' ? ';' : '\'';
}

/* Does N plus the client's own slack fit under RLIMIT_NOFILE? */
static int c10k_fits(struct c10k_result *r)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(r->n + C10K_SLACK_FDS) <= rl.rlim_cur)
        return 1;
    snprintf(r->stop, sizeof r->stop, "EMFILE: RLIMIT_NOFILE %lu (N + %d descriptors needed)",
             (unsigned long)rl.rlim_cur, C10K_SLACK_FDS);
    c10k_say("%ld connections need %ld descriptors but RLIMIT_NOFILE is %lu (soft = hard here):"
             " raise it (ulimit -n, limits.conf) or lower --conns",
             r->n, r->n + C10K_SLACK_FDS, (unsigned long)rl.rlim_cur);
    return 0;
}

/* Say what one run measured, per connection. */
static void c10k_report(const char *tag, const struct c10k_result *r)
{
    c10k_say("%s: per connection: user %.2f KiB + kernel %.2f KiB (stacks %.2f, page tables %.2f, slab %.2f,"
             " sockets %.2f; meminfo, both ends of the connection)",
             tag, r->pss, r->kernel, r->kstack, r->pagetables, r->slab, r->sock);
    if (!isnan(r->cg_server))
        c10k_say("%s: server cgroup %.2f KiB (kernel %.2f, TCP buffers %.2f); client side %.2f KiB;"
                 " server by meminfo %.2f KiB: %+.0f%% against the cgroup",
                 tag, r->cg_server, r->cg_kmem, r->cg_tcp, r->client_kernel, r->meminfo_server, r->agree_pct);
}

/* One run: N connections to a fresh server. Returns 0 if N was reached, every
 * echo came back and the server exited 0; -1 otherwise. */
static int c10k_run(const char *path, long n, int rep, struct c10k_result *r)
{
    memset(r, 0, sizeof *r);
    r->n = n, r->rep = rep, r->server_exit = -1;
    r->connect_s = r->pss = r->kstack = r->pagetables = r->slab = r->sunreclaim = r->sock = r->kernel = NAN;
    r->cg_total = r->cg_kmem = r->cg_tcp = r->client_kernel = r->meminfo_server = r->cg_server = r->agree_pct = NAN;
    r->proc_slab = NAN;
    char tag[128];
    snprintf(tag, sizeof tag, "echo-%s N=%ld rep %d", opt.model, n, rep);
    if (!c10k_fits(r))
        return -1;
    struct c10k_server s = {.err_fd = -1};
    struct c10k_conn *conns = malloc((size_t)n * sizeof *conns);
    if (!conns) {
        snprintf(r->stop, sizeof r->stop, "ENOMEM: client array of %ld connections", n);
        return -1;
    }
    for (long i = 0; i < n; i++)
        conns[i] = (struct c10k_conn){-1, C10K_IDLE, 0};
    char name[96];
    snprintf(name, sizeof name, "c10k-%d-%ld-%d", (int)getpid(), n, rep);
    if (c10k_cg.version && cgroup_create(&c10k_cg, name, s.cgroup, sizeof s.cgroup) < 0)
        s.cgroup[0] = '\0';
    if (c10k_server_start(&s, path, n) < 0) {
        snprintf(r->stop, sizeof r->stop, "server did not start");
        goto out;
    }
    c10k_say("%s: server pid %d on port %d%s%s", tag, (int)s.p.pid, s.p.port, s.cgroup[0] ? ", cgroup " : "",
             s.cgroup[0] ? s.cgroup : "");
    struct c10k_snap before, after;
    c10k_sleep_ms(opt.settle_ms);
    c10k_snap(s.p.pid, s.cgroup, &before);

    struct c10k_step open_step = {.conns = conns, .n = n, .mode = C10K_OPEN, .port = s.p.port};
    long long t0 = net_now_ns();
    int reached_all = c10k_step(&open_step) == 0;
    r->connect_s = (double)(net_now_ns() - t0) / 1e9;
    r->reached = open_step.done;
    if (!reached_all)
        c10k_stop_reason(r, &open_step, &s);
    c10k_say("%s: %ld of %ld connections established and echoing in %.3f s%s%s", tag, r->reached, n, r->connect_s,
             r->stop[0] ? "; stopped: " : "", r->stop);

    c10k_sleep_ms(opt.settle_ms);
    c10k_snap(s.p.pid, s.cgroup, &after);
    c10k_compute(r, &before, &after);
    if (r->reached > 0)
        c10k_report(tag, r);

    struct c10k_step echo_step = {.conns = conns, .n = open_step.next, .mode = C10K_ECHO, .port = s.p.port};
    c10k_step(&echo_step);
    r->errors = open_step.failed + (r->reached - echo_step.done);
    c10k_close_all(conns, n);
    r->server_exit = c10k_server_stop(&s);
    c10k_say("%s: final echo on every connection: %ld errors; server exit status %d", tag, r->errors, r->server_exit);
    if (r->server_exit != 0) {
        char last[160];
        c10k_server_last_line(&s, last, sizeof last);
        if (last[0])
            c10k_say("%s: the server's last words: %s", tag, last);
    }
out:
    c10k_close_all(conns, n);
    if (s.p.pid > 0)
        r->server_exit = c10k_server_stop(&s);
    if (s.err_fd >= 0)
        close(s.err_fd);
    c10k_cg_remove(s.cgroup);
    free(conns);
    return r->reached == n && r->errors == 0 && r->server_exit == 0 ? 0 : -1;
}

/* ==== output ================================================================== */

static const char c10k_header[] =
    "model,conns,rep,connect_s,errors,server_exit,pss_kib_per_conn,kstack_kib_per_conn,"
    "pagetables_kib_per_conn,slab_kib_per_conn,sock_kib_per_conn,kernel_kib_per_conn,"
    "cg_total_kib_per_conn,cg_kmem_kib_per_conn,cg_tcp_kib_per_conn,procs,threads,reached,"
    "sunreclaim_kib_per_conn,client_kernel_kib_per_conn,meminfo_server_kib_per_conn,"
    "cg_server_kib_per_conn,agree_pct,proc_slab_kib_per_conn,stop_reason";

/* A figure, or NaN (what gnuplot and spreadsheets read as missing). */
static void c10k_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs(",NaN", f);
    else
        fprintf(f, ",%.3f", v);
}

static void c10k_row(FILE *f, const struct c10k_result *r)
{
    fprintf(f, "%s,%ld,%d", opt.model, r->n, r->rep);
    if (isnan(r->connect_s))
        fputs(",NaN", f);
    else
        fprintf(f, ",%.6f", r->connect_s); /* microseconds: one connection takes well under a millisecond */
    fprintf(f, ",%ld,%d", r->errors, r->server_exit);
    const double a[] = {r->pss, r->kstack, r->pagetables, r->slab, r->sock, r->kernel,
                        r->cg_total, r->cg_kmem, r->cg_tcp};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        c10k_num(f, a[i]);
    fprintf(f, ",%ld,%ld,%ld", r->procs, r->threads, r->reached);
    const double b[] = {r->sunreclaim, r->client_kernel, r->meminfo_server, r->cg_server, r->agree_pct,
                        r->proc_slab};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        c10k_num(f, b[i]);
    fprintf(f, ",%s\n", r->stop);
    fflush(f);
}

/* Open --out for appending (the header only if the file is new or empty), or stdout. */
static FILE *c10k_open_out(void)
{
    if (!opt.out[0]) {
        puts(c10k_header);
        return stdout;
    }
    FILE *f = fopen(opt.out, "ae");
    if (!f) {
        c10k_say("cannot open %s: %s", opt.out, strerror(errno));
        return NULL;
    }
    if (ftell(f) == 0) {
        fseek(f, 0, SEEK_END);
        if (ftell(f) == 0)
            fprintf(f, "%s\n", c10k_header);
    }
    return f;
}

/* ==== setting up ================================================================ */

/* The echo server's path: --bin, or the directory this program is in. */
static int c10k_server_path(char *out, size_t cap)
{
    char dir[PATH_MAX];
    if (opt.bindir[0]) {
        snprintf(dir, sizeof dir, "%s", opt.bindir);
    } else {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        dir[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, "bin");
    }
    snprintf(out, cap, "%s/echo-%s", dir, opt.model);
    if (access(out, X_OK) == 0)
        return 0;
    char models[512];
    c10k_say("%s: no such program (%s); --model names bin/echo-MODEL: %s (run make%s)", out, strerror(errno),
             registry_join(", ", models, sizeof models), registry_is_peer(opt.model) ? " peers" : "");
    return -1;
}

/* Put this process (the client side) into a cgroup of its own, to measure it. */
static void c10k_client_cgroup(void)
{
    char name[64];
    snprintf(name, sizeof name, "c10k-%d-client", (int)getpid());
    if (cgroup_create(&c10k_cg, name, c10k_client_cg, sizeof c10k_client_cg) < 0 ||
        cgroup_join(c10k_client_cg, 0) < 0) {
        if (c10k_cg.version)
            snprintf(c10k_cg.note, sizeof c10k_cg.note, "cannot join %s: %s; cgroup figures skipped", c10k_client_cg,
                     strerror(errno));
        c10k_cg_remove(c10k_client_cg);
        c10k_client_cg[0] = '\0';
        c10k_cg.version = 0;
    }
}

/* Back into the cgroup we came from, and remove ours. */
static void c10k_client_cgroup_leave(void)
{
    if (!c10k_client_cg[0])
        return;
    cgroup_join(c10k_cg.base, 0);
    c10k_cg_remove(c10k_client_cg);
}

int main(int argc, char **argv)
{
    /* --model's default, from the registry: its first coroutine model (loop) */
    const char *first = registry_first_with_unit("coroutine");
    opt.model = first ? first : registry_count() ? registry_models()[0] : "";
    long first_rep = 1;
    char models[512], peers[512], model_help[1100];
    registry_join(", ", models, sizeof models);
    registry_join_peers(", ", peers, sizeof peers);
    snprintf(model_help, sizeof model_help, "echo server to measure: bin/echo-M (%s), or a peer's (%s)",
             models, *peers ? peers : "none");
    const struct flag flags[] = {
        {"model", 'm', FLAG_STR, &opt.model, 0, 0, "M", model_help},
        {"conns", 'c', FLAG_STR, &opt.conns, 0, 0, "LIST", "connection counts, comma-separated (default 1,10,100,1000,5000,10000)"},
        {"reps", 'r', FLAG_INT, &opt.reps, 1, 100, "N", "repetitions of each count (default 3)"},
        {"first-rep", 0, FLAG_INT, &first_rep, 1, 1000, "R", "number the repetitions from R (for interleaved sweeps)"},
        {"out", 'o', FLAG_STR, &opt.out, 0, 0, "FILE", "append CSV rows to FILE (header if new) (default: stdout)"},
        {"rate", 0, FLAG_INT, &opt.rate, 1, 1000000, "N", "new connections per second (default 5000)"},
        {"inflight", 0, FLAG_INT, &opt.inflight, 1, 10000, "N", "connections being set up at once, at most (default 256)"},
        {"settle-ms", 0, FLAG_INT, &opt.settle_ms, 0, 60000, "MS", "quiet time before each reading (default 1000)"},
        {"step-s", 0, FLAG_INT, &opt.step_s, 1, 3600, "S", "time limit of each step (default 60)"},
        {"bin", 0, FLAG_STR, &opt.bindir, 0, 0, "DIR", "where echo-M is (default: beside this program)"},
        {"no-cgroup", 0, FLAG_BOOL, &opt.no_cgroup, 0, 0, NULL, "skip the memory-cgroup cross-check"},
        {0},
    };
    const struct flags_spec spec = {
        "c10k", "[flags]",
        "Measure what N idle connections cost one model's echo server: for each N,\n"
        "start bin/echo-MODEL in a memory cgroup of its own, open N connections (each\n"
        "proves itself with an echo), and report per connection the user memory (PSS of\n"
        "the server's process tree) and the kernel memory (kernel stacks, page tables,\n"
        "slab, socket buffers from /proc/meminfo and /proc/net/sockstat: machine-wide,\n"
        "both ends of each connection), cross-checked with the cgroup's own counters.\n"
        "One CSV row per N and repetition; progress on stderr. See docs/c10k.md.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    long counts[C10K_MAX_COUNTS];
    int ncounts = flags_int_list(opt.conns, counts, C10K_MAX_COUNTS, 1, 1000000);
    if (ncounts <= 0)
        return flags_exit(flags_error(&spec, "--conns: '%s' is not a list of counts from 1 to 1000000", opt.conns));
    if (!registry_known(opt.model)) /* a model, or a peer (peers/NAME/: docs/peers.md) */
        return flags_exit(flags_error(&spec, "--model: '%s' is not a model (registered: %s) nor a peer (%s)", opt.model,
                  registry_count() ? models : "none", *peers ? peers : "none"));
    char path[PATH_MAX + 64];
    if (c10k_server_path(path, sizeof path) < 0)
        return 1;

    struct sigaction sa = {.sa_handler = c10k_on_signal}; /* no SA_RESTART: poll() wakes up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    net_raise_nofile(); /* every connection is a descriptor */
    if (opt.no_cgroup)
        snprintf(c10k_cg.note, sizeof c10k_cg.note, "--no-cgroup: cgroup figures skipped");
    else
        cgroup_init(&c10k_cg);
    c10k_client_cgroup();
    c10k_say("%s", c10k_cg.version ? "memory cgroups: server and client each in a group of their own" : c10k_cg.note);

    FILE *out = c10k_open_out();
    int status = out ? 0 : 1;
    for (int i = 0; out && i < ncounts && !c10k_interrupted; i++) {
        for (long rep = first_rep; rep < first_rep + opt.reps && !c10k_interrupted; rep++) {
            struct c10k_result r;
            if (c10k_run(path, counts[i], (int)rep, &r) < 0)
                status = 1;
            c10k_row(out, &r);
        }
    }
    if (out && out != stdout)
        fclose(out);
    c10k_client_cgroup_leave();
    if (c10k_interrupted) {
        c10k_say("interrupted");
        status = 1;
    }
    return status;
}
