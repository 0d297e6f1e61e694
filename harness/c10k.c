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
#include <sched.h>
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
    C10K_SERVER_FDS = 16,  /* descriptors beyond N that a one-process server needs (listener, epoll, stdio) */
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
    const char *server_cpus; /* --server-cpus: the server's CPU set ("" = not pinned) */
    const char *client_cpus; /* --client-cpus: our own (the clients') CPU set */
    /* across hosts (docs/hosts.md): the runner, the server half, the client half */
    int serve;               /* --serve: the server half, on the server host */
    int hold;                /* --hold: the client half, on a load host */
    const char *bind;        /* --bind: the server's address (--serve) */
    const char *host;        /* --host: the server to connect to (--hold) */
    long port;               /* --port: the server's port (--serve: 0 = a free one; --hold) */
    const char *server_cmd;  /* --server-cmd: run the server half through CMD (ssh) */
    const char *load_cmd;    /* --load-cmd: run the client halves through CMD HOST */
    const char *load_hosts;  /* --load-hosts: the hosts that hold the connections */
};

static struct c10k_opts opt = {.model = "", .conns = "1,10,100,1000,5000,10000", .reps = 3, .out = "",
                               .rate = 5000, .inflight = 256, .settle_ms = 1000, .step_s = 60, .bindir = "",
                               .server_cpus = "", .client_cpus = "", .bind = "127.0.0.1", .host = "127.0.0.1",
                               .server_cmd = "", .load_cmd = "", .load_hosts = ""};
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

/* "0-3,6" into a CPU set; -1 if it is not such a list. */
static int c10k_cpu_set(const char *list, cpu_set_t *set)
{
    CPU_ZERO(set);
    for (const char *p = list; *p;) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0 || a >= CPU_SETSIZE)
            return -1;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a || b >= CPU_SETSIZE)
                return -1;
        }
        for (long c = a; c <= b; c++)
            CPU_SET(c, set);
        if (*end && *end != ',')
            return -1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* --server-cpus, parsed once in main (proc_spawn pins the server to it) */
static cpu_set_t c10k_server_set;

/* In the child, before exec: join the server's cgroup BEFORE it can accept
 * anything. */
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
    char port[16];
    snprintf(port, sizeof port, "%ld", opt.serve ? opt.port : 0);
    char *argv[12] = {(char *)path, "--port", port};
    int k = 3;
    if (opt.serve) { /* across hosts: on the address the load hosts reach */
        argv[k++] = "--bind";
        argv[k++] = (char *)opt.bind;
    }
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
                          .cpus = opt.server_cpus[0] ? &c10k_server_set : NULL,
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
    int load_hosts;            /* where the clients were: 1 here, else the load hosts */
    char by_host[512];         /* across hosts: "HOST CONNS KIB;...": each host's connections and client side per conn */
    int both_ends;             /* 1: meminfo holds both ends (one kernel: here, or namespace hosts) */
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

/* The kernel memory the client side's cgroup gained, per connection, in KiB. */
static double c10k_client_per(const struct cgroup_reading *b, const struct cgroup_reading *a, long n)
{
    double k = c10k_per(b->kmem, a->kmem, n, 1);
    /* v1 counts TCP buffers apart from kmem; v2's kmem figure holds them already */
    double t = c10k_cg.version == 1 ? c10k_per(b->tcp, a->tcp, n, 1) : 0;
    return k + (isnan(t) ? 0 : t);
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
    r->client_kernel = c10k_client_per(&b->cli, &a->cli, n);
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
    char last[160] = "";
    if (s) /* NULL: the client half on a load host, the server is elsewhere */
        c10k_server_last_line(s, last, sizeof last);
    const char *server_errno = last[0] ? c10k_errno_in(last) : NULL;
    const char *name = st->first_err ? strerrorname_np(st->first_err) : "EOF";
    if (c10k_interrupted)
        snprintf(r->stop, sizeof r->stop, "interrupted after %ld of %ld connections", r->reached, r->n);
    else if (s && s->p.pid > 0 && proc_wait(&s->p, 0) == 0)
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

/* Does N plus slack fit under RLIMIT_NOFILE? */
static int c10k_fits(struct c10k_result *r, long slack)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(r->n + slack) <= rl.rlim_cur)
        return 1;
    snprintf(r->stop, sizeof r->stop, "EMFILE: RLIMIT_NOFILE %lu (N + %ld descriptors needed)",
             (unsigned long)rl.rlim_cur, slack);
    c10k_say("%ld connections need %ld descriptors but RLIMIT_NOFILE is %lu (soft = hard here):"
             " raise it (ulimit -n, limits.conf) or lower --conns",
             r->n, r->n + slack, (unsigned long)rl.rlim_cur);
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

/* A result with nothing measured yet. */
static void c10k_result_init(struct c10k_result *r, long n, int rep)
{
    memset(r, 0, sizeof *r);
    r->n = n, r->rep = rep, r->server_exit = -1, r->load_hosts = 1, r->both_ends = 1;
    r->connect_s = r->pss = r->kstack = r->pagetables = r->slab = r->sunreclaim = r->sock = r->kernel = NAN;
    r->cg_total = r->cg_kmem = r->cg_tcp = r->client_kernel = r->meminfo_server = r->cg_server = r->agree_pct = NAN;
    r->proc_slab = NAN;
}

/* One run: N connections to a fresh server. Returns 0 if N was reached, every
 * echo came back and the server exited 0; -1 otherwise. */
static int c10k_run(const char *path, long n, int rep, struct c10k_result *r)
{
    c10k_result_init(r, n, rep);
    char tag[128];
    snprintf(tag, sizeof tag, "echo-%s N=%ld rep %d", opt.model, n, rep);
    if (!c10k_fits(r, C10K_SLACK_FDS))
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
    "cg_server_kib_per_conn,agree_pct,proc_slab_kib_per_conn,load_hosts,client_kib_per_conn_by_host,"
    "meminfo_both_ends,stop_reason";

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
    fprintf(f, ",%d,%s,%d,%s\n", r->load_hosts, r->by_host, r->both_ends, r->stop);
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

/* ==== across hosts (docs/hosts.md) ============================================
 *
 * The same run cut in two halves, each measured where it happens, driven by
 * the runner over ssh (scripts/hosts.sh run HOST):
 *
 *   bin/c10k --serve   on the server host: start the server in its cgroup,
 *                      settle, read BEFORE, print "listening on ADDR:PORT";
 *                      on the line "after R": settle, read AFTER, print
 *                      "measured k=v ..." (per connection over R); when stdin
 *                      ends: stop the server, print "stopped exit=S last=...".
 *   bin/c10k --hold    on each load host: open its share of the connections
 *                      (paced, each echoes once) in a cgroup of its own, settle,
 *                      print "held reached=... client_kernel=..."; on the next
 *                      line echo once more on each, print "echoed done=D",
 *                      close them and exit. Stdin ending first: close, exit 1.
 *
 * The runner (--server-cmd, --load-cmd, --load-hosts) starts the server half,
 * then every client half at once, and writes one row: the server's figures,
 * connect_s the longest host's, errors summed, the client side per host. */

/* A line from stdin within timeout_ms: 1, or 0 at its end, -1 on timeout. */
static int c10k_stdin_line(char *buf, size_t cap, long timeout_ms)
{
    long long deadline = net_now_ns() + timeout_ms * 1000000LL;
    size_t len = 0;
    while (net_now_ns() < deadline && !c10k_interrupted) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (c == '\n') {
            buf[len] = '\0';
            return 1;
        }
        if (len + 1 < cap)
            buf[len++] = c;
    }
    return -1;
}

/* This kernel's boot id: two hosts with the same one share one kernel (namespaces). */
static void c10k_boot_id(char *out, size_t cap)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f || !fgets(out, (int)cap, f))
        snprintf(out, cap, "unknown");
    if (f)
        fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

/* Room for want descriptors, raising the hard limit too where we may (root):
 * the server (which inherits it) or the client half holds `want` sockets. */
static void c10k_nofile_for(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)want) {
        struct rlimit up = {(rlim_t)want, (rlim_t)want};
        setrlimit(RLIMIT_NOFILE, &up); /* not root: stays, and c10k_fits says so */
    }
    net_raise_nofile();
}

/* --serve: the server half. Returns 0, or 1 (it said why on stderr). */
static int c10k_serve(const char *path, long n, int rep)
{
    struct c10k_result r;
    c10k_result_init(&r, n, rep);
    c10k_nofile_for(n + C10K_SERVER_FDS);
    /* a process per connection (about.txt's unit): each child holds one socket */
    char unit[32] = "";
    registry_about(opt.model, "unit", unit, sizeof unit);
    if (strcmp(unit, "process") != 0 && !c10k_fits(&r, C10K_SERVER_FDS))
        return 1;
    struct c10k_server s = {.err_fd = -1};
    char name[96], line[128], boot[64];
    snprintf(name, sizeof name, "c10k-%d-%ld-%d", (int)getpid(), n, rep);
    if (c10k_cg.version && cgroup_create(&c10k_cg, name, s.cgroup, sizeof s.cgroup) < 0)
        s.cgroup[0] = '\0';
    int status = 1;
    if (c10k_server_start(&s, path, n) < 0) {
        char last[160] = "";
        if (s.err_fd >= 0)
            c10k_server_last_line(&s, last, sizeof last);
        c10k_say("serve: echo-%s did not start on %s:%ld%s%s", opt.model, opt.bind, opt.port,
                 last[0] ? ": " : "", last); /* its own reason: the address is taken, say */
        goto out;
    }
    struct c10k_snap before, after;
    c10k_sleep_ms(opt.settle_ms);
    c10k_snap(s.p.pid, s.cgroup, &before);
    printf("listening on %s:%d\n", opt.bind, s.p.port);
    fflush(stdout);
    /* the clients open their connections on the load hosts, then the runner says how many */
    int got = c10k_stdin_line(line, sizeof line, (opt.step_s * 2 + 120) * 1000L);
    if (got != 1 || sscanf(line, "after %ld", &r.reached) != 1) {
        if (got != 0) /* its end: the runner stopped the run and says why */
            c10k_say("serve: no 'after N' line from the runner: stopping the server");
        goto out;
    }
    c10k_sleep_ms(opt.settle_ms);
    c10k_snap(s.p.pid, s.cgroup, &after);
    c10k_compute(&r, &before, &after);
    c10k_boot_id(boot, sizeof boot);
    printf("measured pss=%.4f kstack=%.4f pagetables=%.4f slab=%.4f sunreclaim=%.4f sock=%.4f kernel=%.4f"
           " cg_total=%.4f cg_kmem=%.4f cg_tcp=%.4f cg_server=%.4f proc_slab=%.4f procs=%ld threads=%ld boot=%s\n",
           r.pss, r.kstack, r.pagetables, r.slab, r.sunreclaim, r.sock, r.kernel, r.cg_total, r.cg_kmem, r.cg_tcp,
           r.cg_server, r.proc_slab, r.procs, r.threads, boot);
    fflush(stdout);
    while (c10k_stdin_line(line, sizeof line, 1000) != 0 && !c10k_interrupted) {
    } /* until the runner closes our stdin: the clients are gone */
    status = 0;
out:
    if (s.p.pid > 0)
        r.server_exit = c10k_server_stop(&s);
    char last[160] = "";
    if (s.err_fd >= 0) {
        c10k_server_last_line(&s, last, sizeof last);
        close(s.err_fd);
    }
    printf("stopped exit=%d last=%s\n", r.server_exit, last);
    fflush(stdout);
    c10k_cg_remove(s.cgroup);
    return status;
}

/* --hold: the client half, --conns connections to --host:--port. Returns 0, or 1. */
static int c10k_hold(long n)
{
    struct c10k_result r;
    c10k_result_init(&r, n, 1);
    c10k_nofile_for(n + C10K_SLACK_FDS);
    if (!c10k_fits(&r, C10K_SLACK_FDS))
        return 1;
    struct c10k_conn *conns = malloc((size_t)n * sizeof *conns);
    if (!conns) {
        c10k_say("hold: cannot allocate %ld connections", n);
        return 1;
    }
    for (long i = 0; i < n; i++)
        conns[i] = (struct c10k_conn){-1, C10K_IDLE, 0};
    struct cgroup_reading before, after;
    cgroup_read(&c10k_cg, c10k_client_cg, &before);
    struct c10k_step open_step = {.conns = conns, .n = n, .mode = C10K_OPEN, .host = opt.host, .port = (int)opt.port};
    long long t0 = net_now_ns();
    if (c10k_step(&open_step) < 0)
        c10k_stop_reason(&r, &open_step, NULL);
    double connect_s = (double)(net_now_ns() - t0) / 1e9;
    c10k_sleep_ms(opt.settle_ms);
    cgroup_read(&c10k_cg, c10k_client_cg, &after);
    char boot[64], line[64];
    c10k_boot_id(boot, sizeof boot);
    printf("held reached=%ld failed=%ld connect_s=%.6f client_kernel=%.4f boot=%s stop=%s\n", open_step.done,
           open_step.failed, connect_s, c10k_client_per(&before, &after, open_step.done), boot, r.stop);
    fflush(stdout);
    int status = 1;
    if (c10k_stdin_line(line, sizeof line, (opt.step_s + 120) * 1000L) == 1) {
        struct c10k_step echo_step = {.conns = conns, .n = open_step.next, .mode = C10K_ECHO, .host = opt.host,
                                      .port = (int)opt.port};
        c10k_step(&echo_step);
        printf("echoed done=%ld\n", echo_step.done);
        fflush(stdout);
        status = 0;
    }
    c10k_close_all(conns, n);
    free(conns);
    return status;
}

/* One half, started by the runner through ssh: a pipe on its stdin and one on its stdout. */
struct c10k_peer {
    struct proc p;        /* the ssh (or whatever --server-cmd/--load-cmd is) */
    int in_w;             /* the write end of its stdin, -1 once closed */
    const char *host;     /* where it runs */
    const char *role;     /* "server host" or "load host" */
    char buf[2048];       /* what it printed and we have not taken as lines yet */
    size_t len;           /* bytes in buf */
    char line[2048];      /* the line awaited last */
    int want, got, done;  /* awaiting a line; it came; it may end now */
};

static int c10k_lost;         /* a host went away, or its half failed: the whole run stops */
static char c10k_why[400];    /* why, said once every half has ended (their own words come first) */

/* In the child, before exec: the pipe's read end becomes stdin. */
static int c10k_stdin_hook(void *arg)
{
    return dup2(*(int *)arg, STDIN_FILENO) < 0 ? -1 : 0; /* the pipe's own fds are close-on-exec */
}

/* Start CMD's words, then HOST (unless NULL), then the words of rest. */
static int c10k_peer_start(struct c10k_peer *pe, const char *cmd, const char *host, char *const rest[])
{
    char words[1024], *argv[64];
    int k = 0;
    snprintf(words, sizeof words, "%s", cmd);
    for (char *w = strtok(words, " "); w && k < 40; w = strtok(NULL, " "))
        argv[k++] = w;
    if (host)
        argv[k++] = (char *)host;
    for (int i = 0; rest[i] && k < 63; i++)
        argv[k++] = rest[i];
    argv[k] = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    struct proc_opts o = {.pipe_stdout = 1, .search_path = 1, .before_exec = c10k_stdin_hook, .arg = &fds[0]};
    int rc = proc_spawn(&pe->p, argv, &o);
    close(fds[0]);
    pe->in_w = fds[1];
    return rc;
}

/* Tell a half one line; -1 if it cannot hear it any more. */
static int c10k_peer_tell(struct c10k_peer *pe, const char *line)
{
    size_t n = strlen(line);
    return pe->in_w >= 0 && write(pe->in_w, line, n) == (ssize_t)n ? 0 : -1;
}

/* Take the complete lines pe printed; keep the first one starting with prefix. */
static void c10k_peer_lines(struct c10k_peer *pe, const char *prefix)
{
    char *nl;
    while ((nl = memchr(pe->buf, '\n', pe->len))) {
        *nl = '\0';
        if (pe->want && !pe->got && strncmp(pe->buf, prefix, strlen(prefix)) == 0) {
            snprintf(pe->line, sizeof pe->line, "%s", pe->buf);
            pe->got = 1;
        }
        pe->len -= (size_t)(nl + 1 - pe->buf);
        memmove(pe->buf, nl + 1, pe->len);
    }
}

/* Wait up to timeout_ms for a line starting with prefix from every half
 * marked want. A half that ends meanwhile without being done, or the time
 * running out, stops the run: one line naming its host. Returns 0 or -1. */
static int c10k_await(struct c10k_peer *pe, int np, const char *prefix, long timeout_ms)
{
    long long deadline = net_now_ns() + timeout_ms * 1000000LL;
    for (;;) {
        int missing = -1;
        for (int i = 0; i < np; i++)
            if (pe[i].want && !pe[i].got)
                missing = i;
        if (missing < 0)
            return 0;
        if (net_now_ns() >= deadline || c10k_interrupted) {
            snprintf(c10k_why, sizeof c10k_why, "%s %s: no '%s' line within %ld s%s", pe[missing].role,
                     pe[missing].host, prefix, timeout_ms / 1000, c10k_interrupted ? " (interrupted)" : "");
            return -1;
        }
        struct pollfd pfd[64];
        for (int i = 0; i < np; i++)
            pfd[i] = (struct pollfd){pe[i].p.out_fd, POLLIN, 0};
        if (poll(pfd, (nfds_t)np, 200) <= 0)
            continue;
        for (int i = 0; i < np; i++) {
            if (!pfd[i].revents)
                continue;
            ssize_t n = read(pe[i].p.out_fd, pe[i].buf + pe[i].len, sizeof pe[i].buf - 1 - pe[i].len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n > 0) {
                pe[i].len += (size_t)n;
                c10k_peer_lines(&pe[i], prefix);
                if (pe[i].len == sizeof pe[i].buf - 1)
                    pe[i].len = 0; /* no line of ours is that long */
                continue;
            }
            close(pe[i].p.out_fd);
            pe[i].p.out_fd = -1;
            if (pe[i].done || (pe[i].want && pe[i].got))
                continue;
            proc_wait(&pe[i].p, 3000);
            snprintf(c10k_why, sizeof c10k_why, "%s %s: its half ended (%s %d) before its '%s' line", pe[i].role,
                     pe[i].host,
                     WIFSIGNALED(pe[i].p.status) ? "signal" : "exit status",
                     WIFSIGNALED(pe[i].p.status) ? WTERMSIG(pe[i].p.status) : WEXITSTATUS(pe[i].p.status), prefix);
            return -1;
        }
    }
}

/* Close every half's stdin (each then stops what it runs and exits), wait
 * for them, the load hosts first; SIGTERM what is still there after 30 s. */
static void c10k_peers_end(struct c10k_peer *pe, int np)
{
    for (int i = np - 1; i >= 0; i--) {
        if (pe[i].in_w >= 0)
            close(pe[i].in_w);
        pe[i].in_w = -1;
        for (int t = 0; t < 300 && pe[i].p.pid > 0 && proc_wait(&pe[i].p, 0) != 0; t++) {
            proc_drain(&pe[i].p);
            c10k_sleep_ms(100);
        }
        if (pe[i].p.pid > 0)
            proc_stop(&pe[i].p, 5000);
    }
}

/* A number after "key=" in line, NAN if none. */
static double c10k_kv(const char *line, const char *key)
{
    char k[48];
    snprintf(k, sizeof k, " %s=", key);
    const char *p = strstr(line, k);
    return p ? strtod(p + strlen(k), NULL) : NAN;
}

/* The text after "key=" up to the next space (or the line's end, with rest). */
static void c10k_kv_str(const char *line, const char *key, int rest, char *out, size_t cap)
{
    char k[48];
    snprintf(k, sizeof k, " %s=", key);
    const char *p = strstr(line, k);
    out[0] = '\0';
    if (p)
        snprintf(out, cap, "%.*s", rest ? (int)cap : (int)strcspn(p + strlen(k), " "), p + strlen(k));
}

/* The server half's "measured" line into r. */
static void c10k_take_server(struct c10k_result *r, const char *line)
{
    r->pss = c10k_kv(line, "pss"), r->kstack = c10k_kv(line, "kstack");
    r->pagetables = c10k_kv(line, "pagetables"), r->slab = c10k_kv(line, "slab");
    r->sunreclaim = c10k_kv(line, "sunreclaim"), r->sock = c10k_kv(line, "sock");
    r->kernel = c10k_kv(line, "kernel"), r->cg_total = c10k_kv(line, "cg_total");
    r->cg_kmem = c10k_kv(line, "cg_kmem"), r->cg_tcp = c10k_kv(line, "cg_tcp");
    r->cg_server = c10k_kv(line, "cg_server"), r->proc_slab = c10k_kv(line, "proc_slab");
    r->procs = (long)c10k_kv(line, "procs"), r->threads = (long)c10k_kv(line, "threads");
}

/* The client halves' "held" and "echoed" lines into r: connections summed,
 * connect_s the longest, the client side per connection over all of them and
 * per host; meminfo's server figure takes the client side out where the
 * load hosts share the server's kernel (namespaces), as it does here. */
static void c10k_take_clients(struct c10k_result *r, struct c10k_peer *pe, int np, const char *server_line)
{
    char sboot[64], boot[64], stop[200];
    c10k_kv_str(server_line, "boot", 0, sboot, sizeof sboot);
    double ck = 0;
    r->connect_s = 0, r->both_ends = 1;
    for (int i = 1; i < np; i++) {
        long reached = (long)c10k_kv(pe[i].line, "reached"), failed = (long)c10k_kv(pe[i].line, "failed");
        double c = c10k_kv(pe[i].line, "client_kernel");
        r->reached += reached;
        r->errors += failed + reached - (long)c10k_kv(pe[i].line, "done");
        if (c10k_kv(pe[i].line, "connect_s") > r->connect_s)
            r->connect_s = c10k_kv(pe[i].line, "connect_s");
        ck += isnan(c) ? 0 : c * (double)reached;
        size_t used = strlen(r->by_host);
        snprintf(r->by_host + used, sizeof r->by_host - used, "%s%s %ld %.3f", used ? ";" : "", pe[i].host, reached, c);
        c10k_kv_str(pe[i].line, "boot", 0, boot, sizeof boot);
        r->both_ends &= strcmp(boot, sboot) == 0;
        c10k_kv_str(pe[i].line, "stop", 1, stop, sizeof stop);
        if (stop[0] && !r->stop[0])
            snprintf(r->stop, sizeof r->stop, "load host %s: %s", pe[i].host, stop);
    }
    r->client_kernel = r->reached > 0 ? ck / (double)r->reached : NAN;
    r->meminfo_server = r->pss + r->kernel - (r->both_ends ? r->client_kernel : 0);
    r->agree_pct = 100.0 * (r->meminfo_server - r->cg_server) / r->cg_server;
    for (char *p = r->by_host; *p; p++) /* one CSV cell */
        if (*p == ',')
            *p = ';';
}

/* The words of the client half's command for load host i of k. */
static void c10k_hold_argv(long n, int rep, int port, int i, int k, char bufs[4][32], char *argv[])
{
    long share = n / k + (i < n % k ? 1 : 0), rate = opt.rate / k > 0 ? opt.rate / k : 1;
    snprintf(bufs[0], 32, "%ld", share);
    snprintf(bufs[1], 32, "%d", port);
    snprintf(bufs[2], 32, "%ld", rate);
    snprintf(bufs[3], 32, "%ld", opt.settle_ms);
    char *a[] = {"bin/c10k", "--hold", "--conns", bufs[0], "--host", (char *)opt.bind, "--port", bufs[1],
                 "--rate", bufs[2], "--settle-ms", bufs[3], opt.no_cgroup ? "--no-cgroup" : NULL, NULL};
    int j = 0;
    for (; a[j]; j++)
        argv[j] = a[j];
    argv[j] = NULL;
    (void)rep;
}

/* One run across hosts: the server half on the server host, N connections
 * shared out over the load hosts. Returns 0 if clean, -1 otherwise
 * (c10k_lost set if a host or a half failed: the sweep stops). */
static int c10k_run_hosts(long n, int rep, struct c10k_result *r)
{
    c10k_result_init(r, n, rep);
    char hosts[1024], *host[32];
    int k = 0;
    snprintf(hosts, sizeof hosts, "%s", opt.load_hosts);
    for (char *h = strtok(hosts, " "); h && k < 32; h = strtok(NULL, " "))
        host[k++] = h;
    struct c10k_peer pe[33];
    memset(pe, 0, sizeof pe);
    for (int i = 0; i <= k; i++)
        pe[i].in_w = -1, pe[i].p.out_fd = -1;
    char sn[32], srep[32], sport[32], ssettle[32], sstep[32];
    snprintf(sn, sizeof sn, "%ld", n), snprintf(srep, sizeof srep, "%d", rep);
    snprintf(sport, sizeof sport, "%ld", opt.port), snprintf(ssettle, sizeof ssettle, "%ld", opt.settle_ms);
    snprintf(sstep, sizeof sstep, "%ld", opt.step_s);
    char *srv[] = {"bin/c10k", "--serve", "--model", (char *)opt.model, "--conns", sn, "--first-rep", srep,
                   "--bind", (char *)opt.bind, "--port", sport, "--settle-ms", ssettle, "--step-s", sstep,
                   opt.no_cgroup ? "--no-cgroup" : NULL, NULL};
    pe[0].host = "(server)", pe[0].role = "server host";
    snprintf(r->by_host, sizeof r->by_host, "%s", "");
    r->load_hosts = k;
    int np = 1, ok = -1;
    if (c10k_peer_start(&pe[0], opt.server_cmd, NULL, srv) < 0 ||
        proc_wait_ready(&pe[0].p, (int)(opt.settle_ms + 60000)) < 0) {
        snprintf(c10k_why, sizeof c10k_why, "echo-%s N=%ld: the server half did not start on the server host (%s): %s",
                 opt.model, n, opt.server_cmd, pe[0].p.why[0] ? pe[0].p.why : strerror(errno));
        snprintf(r->stop, sizeof r->stop, "server half did not start");
        goto out;
    }
    c10k_say("echo-%s N=%ld rep %d: server on %s:%d; %d load hosts open their shares", opt.model, n, rep, opt.bind,
             pe[0].p.port, k);
    for (int i = 0; i < k; i++, np++) {
        char bufs[4][32], *argv[16];
        c10k_hold_argv(n, rep, pe[0].p.port, i, k, bufs, argv);
        pe[np].host = host[i], pe[np].role = "load host", pe[np].want = 1;
        if (c10k_peer_start(&pe[np], opt.load_cmd, host[i], argv) < 0) {
            snprintf(c10k_why, sizeof c10k_why, "cannot start %s: %s", opt.load_cmd, strerror(errno));
            goto out;
        }
    }
    if (c10k_await(pe, np, "held", (opt.step_s + opt.settle_ms / 1000 + 60) * 1000L) < 0)
        goto out;
    long reached = 0;
    for (int i = 1; i < np; i++)
        reached += (long)c10k_kv(pe[i].line, "reached");
    char after[64];
    snprintf(after, sizeof after, "after %ld\n", reached);
    pe[0].want = 1;
    for (int i = 1; i < np; i++)
        pe[i].want = 0;
    if (c10k_peer_tell(&pe[0], after) < 0 || c10k_await(pe, np, "measured", opt.settle_ms + 60000) < 0)
        goto out;
    char server_line[2048];
    snprintf(server_line, sizeof server_line, "%s", pe[0].line);
    c10k_take_server(r, server_line);
    char held[32][2048];
    for (int i = 1; i < np; i++) {
        snprintf(held[i - 1], sizeof held[0], "%s", pe[i].line);
        pe[i].want = 1, pe[i].got = 0;
        if (c10k_peer_tell(&pe[i], "echo\n") < 0)
            goto out;
    }
    pe[0].want = 0;
    if (c10k_await(pe, np, "echoed", (opt.step_s + 60) * 1000L) < 0)
        goto out;
    for (int i = 1; i < np; i++) { /* " done=D held ..." for c10k_take_clients (stop= stays last) */
        char done[48];
        snprintf(done, sizeof done, " done=%ld ", (long)c10k_kv(pe[i].line, "done"));
        snprintf(pe[i].line, sizeof pe[i].line, "%s%s", done, held[i - 1]);
        pe[i].done = 1;
    }
    c10k_take_clients(r, pe, np, server_line);
    c10k_peers_end(pe + 1, np - 1);
    pe[0].want = 1, pe[0].got = 0;
    close(pe[0].in_w), pe[0].in_w = -1;
    if (c10k_await(pe, 1, "stopped", C10K_STOP_MS + 30000) < 0)
        goto out;
    r->server_exit = (int)c10k_kv(pe[0].line, "exit");
    c10k_report("across hosts", r);
    c10k_say("echo-%s N=%ld rep %d: %ld of %ld connections in %.3f s over %d hosts; %ld errors; server exit %d",
             opt.model, n, rep, r->reached, n, r->connect_s, k, r->errors, r->server_exit);
    ok = 0;
out:
    c10k_peers_end(pe, np);
    if (ok < 0) {
        c10k_lost = 1;
        c10k_say("%s", c10k_why[0] ? c10k_why : "a half could not be told its next step");
    }
    return ok == 0 && r->reached == n && r->errors == 0 && r->server_exit == 0 ? 0 : -1;
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

/* The runner across hosts: every count and repetition, one row each; a lost
 * host stops the sweep (exit status 3). */
static int c10k_hosts_main(const long *counts, int ncounts, long first_rep)
{
    FILE *out = c10k_open_out();
    int status = out ? 0 : 1;
    for (int i = 0; out && i < ncounts && !c10k_interrupted && !c10k_lost; i++) {
        for (long rep = first_rep; rep < first_rep + opt.reps && !c10k_interrupted && !c10k_lost; rep++) {
            struct c10k_result r;
            if (c10k_run_hosts(counts[i], (int)rep, &r) < 0)
                status = 1;
            if (!c10k_lost)
                c10k_row(out, &r);
        }
    }
    if (out && out != stdout)
        fclose(out);
    return c10k_lost ? 3 : c10k_interrupted ? 1 : status;
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
        {"server-cpus", 0, FLAG_STR, &opt.server_cpus, 0, 0, "LIST", "pin the server to these CPUs (e.g. 0-1); default: not pinned"},
        {"client-cpus", 0, FLAG_STR, &opt.client_cpus, 0, 0, "LIST", "pin this program (the clients) to these CPUs (e.g. 2-3)"},
        {"server-cmd", 0, FLAG_STR, &opt.server_cmd, 0, 0, "CMD", "across hosts: run the server half ('bin/c10k --serve') through CMD (scripts/hosts.sh run HOST)"},
        {"load-cmd", 0, FLAG_STR, &opt.load_cmd, 0, 0, "CMD", "across hosts: run each client half ('bin/c10k --hold') through 'CMD HOST' (scripts/hosts.sh run)"},
        {"load-hosts", 0, FLAG_STR, &opt.load_hosts, 0, 0, "HOSTS", "across hosts: the load hosts, space-separated; each opens its share of N"},
        {"bind", 0, FLAG_STR, &opt.bind, 0, 0, "ADDR", "across hosts: the server's address on the server host (default 127.0.0.1)"},
        {"port", 0, FLAG_INT, &opt.port, 0, 65535, "PORT", "across hosts: the server's port (0: a free one); with --hold, the port to connect to"},
        {"serve", 0, FLAG_BOOL, &opt.serve, 0, 0, NULL, "the server half, on a server host: start echo-M, read BEFORE, print its ready line; 'after R' on stdin: read AFTER, print 'measured'; stdin ends: stop it, print 'stopped'"},
        {"hold", 0, FLAG_BOOL, &opt.hold, 0, 0, NULL, "the client half, on a load host: open --conns connections to --host:--port, print 'held'; next stdin line: echo once more, print 'echoed', close"},
        {"host", 0, FLAG_STR, &opt.host, 0, 0, "ADDR", "with --hold: the server's address (default 127.0.0.1)"},
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
        "One CSV row per N and repetition; progress on stderr. See docs/c10k.md.\n"
        "Across hosts (--server-cmd, --load-cmd, --load-hosts; docs/hosts.md) the server\n"
        "half runs on the server host (--serve) and each load host holds its share of\n"
        "N (--hold); the row adds load_hosts and the client side per host.",
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
    int hosts = opt.server_cmd[0] || opt.load_cmd[0] || opt.load_hosts[0];
    if (hosts && !(opt.server_cmd[0] && opt.load_cmd[0] && opt.load_hosts[0]))
        return flags_exit(flags_error(&spec, "--server-cmd, --load-cmd and --load-hosts go together"));
    if ((opt.serve || opt.hold) && ncounts != 1)
        return flags_exit(flags_error(&spec, "--conns: --serve and --hold take one count"));
    cpu_set_t set;
    if ((opt.server_cpus[0] && c10k_cpu_set(opt.server_cpus, &c10k_server_set) < 0) ||
        (opt.client_cpus[0] && c10k_cpu_set(opt.client_cpus, &set) < 0))
        return flags_exit(flags_error(&spec, "--server-cpus/--client-cpus: not a CPU list like 0-1,3"));
    if (opt.client_cpus[0] && sched_setaffinity(0, sizeof set, &set) < 0) {
        c10k_say("--client-cpus %s: %s", opt.client_cpus, strerror(errno));
        return 1;
    }
    char path[PATH_MAX + 64] = "";
    if (!hosts && !opt.hold && c10k_server_path(path, sizeof path) < 0)
        return 1;

    struct sigaction sa = {.sa_handler = c10k_on_signal}; /* no SA_RESTART: poll() wakes up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    net_raise_nofile(); /* every connection is a descriptor */
    if (hosts)
        return c10k_hosts_main(counts, ncounts, first_rep);
    if (opt.no_cgroup)
        snprintf(c10k_cg.note, sizeof c10k_cg.note, "--no-cgroup: cgroup figures skipped");
    else
        cgroup_init(&c10k_cg);
    if (opt.serve) {
        if (!c10k_cg.version)
            c10k_say("serve: %s", c10k_cg.note);
        return c10k_serve(path, counts[0], (int)first_rep);
    }
    c10k_client_cgroup();
    if (opt.hold) {
        int rc = c10k_hold(counts[0]);
        c10k_client_cgroup_leave();
        return rc;
    }
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
