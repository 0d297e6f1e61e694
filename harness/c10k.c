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
#include "flags.h"
#include "net.h"
#include "procstat.h"

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

/* The probe each connection echoes: small, and recognisable. */
static const char c10k_msg[] = "c10k-ok\n";
#define C10K_MSG_LEN (sizeof c10k_msg - 1)

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

static struct c10k_opts opt = {"loop", "1,10,100,1000,5000,10000", 3, "", 5000, 256, 1000, 60, "", 0};
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

/* ==== memory cgroups: the server's alone, and ours ============================== */

/* Where our cgroups live and which interface the kernel offers. */
struct cg {
    int version;            /* 1 or 2; 0 = no writable memory cgroup: figures skipped */
    char base[PATH_MAX];    /* our own memory cgroup's directory: new groups go inside it */
    char note[256];         /* why cgroups are off, for the progress lines and docs */
};

/* One reading of a cgroup's counters, in bytes; -1 if unknown. */
struct cg_reading {
    long long total;  /* v1 memory.usage_in_bytes (user + kernel, no TCP buffers); v2 memory.current (all) */
    long long kmem;   /* v1 memory.kmem.usage_in_bytes; v2 memory.stat kernel + sock */
    long long tcp;    /* v1 memory.kmem.tcp.usage_in_bytes; v2 memory.stat sock */
};

static struct cg c10k_cg;

static int cg_write(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int err = errno;
    close(fd);
    errno = err;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Our memory cgroup's path inside its hierarchy, from /proc/self/cgroup:
 * "4:memory:/a/b" (v1) or "0::/a/b" (v2). Returns 1 for v1, 2 for v2, 0. */
static int cg_self_path(char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return 0;
    char line[PATH_MAX + 64];
    int version = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (strstr(ctrls, "memory")) { /* a v1 memory hierarchy wins */
            snprintf(out, cap, "%s", path);
            version = 1;
            break;
        }
        if (*ctrls == '\0' && line[0] == '0') {
            snprintf(out, cap, "%s", path);
            version = 2;
        }
    }
    fclose(f);
    return version;
}

/* Find a memory cgroup we may create groups in: inside our own, so that
 * whatever limits we run under still apply to the server. */
static void cg_init(void)
{
    struct cg *c = &c10k_cg;
    char self[PATH_MAX];
    c->version = cg_self_path(self, sizeof self);
    if (strcmp(self, "/") == 0)
        self[0] = '\0';
    if (c->version == 1) {
        snprintf(c->base, sizeof c->base, "/sys/fs/cgroup/memory%s", self);
    } else if (c->version == 2) {
        const char *mnt = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
                                                                                : "/sys/fs/cgroup/unified";
        snprintf(c->base, sizeof c->base, "%s%s", mnt, self);
        char sub[PATH_MAX + 32], ctl[256] = "";
        snprintf(sub, sizeof sub, "%s/cgroup.subtree_control", c->base);
        FILE *f = fopen(sub, "re");
        if (f) {
            if (!fgets(ctl, sizeof ctl, f))
                ctl[0] = '\0';
            fclose(f);
        }
        /* v2 forbids processes in a group that hands controllers to its children,
         * so only a group with memory already delegated (the root, typically) works. */
        if (!strstr(ctl, "memory")) {
            snprintf(c->note, sizeof c->note,
                     "cgroup v2: memory is not enabled in %s/cgroup.subtree_control; cgroup figures skipped",
                     c->base);
            c->version = 0;
        }
    } else {
        snprintf(c->note, sizeof c->note, "no memory cgroup in /proc/self/cgroup; cgroup figures skipped");
    }
    if (c->version && access(c->base, W_OK) != 0) {
        snprintf(c->note, sizeof c->note, "%s is not writable (%s; root needed); cgroup figures skipped",
                 c->base, strerror(errno));
        c->version = 0;
    }
}

/* Make a new group `name` inside ours; its directory goes to out. */
static int cg_create(const char *name, char *out, size_t cap)
{
    if (!c10k_cg.version)
        return -1;
    snprintf(out, cap, "%s/%s", c10k_cg.base, name);
    if (mkdir(out, 0755) < 0 && errno != EEXIST) {
        snprintf(c10k_cg.note, sizeof c10k_cg.note, "cannot create %s: %s; cgroup figures skipped", out,
                 strerror(errno));
        c10k_cg.version = 0;
        return -1;
    }
    /* v1 counts TCP buffer memory only once a TCP limit has been set: set it
     * to "unlimited", which switches the counting on and limits nothing. */
    if (c10k_cg.version == 1)
        cg_write(out, "memory.kmem.tcp.limit_in_bytes", "-1");
    return 0;
}

/* Move process `pid` (0: the caller) into the group at dir. */
static int cg_join(const char *dir, pid_t pid)
{
    char text[32];
    snprintf(text, sizeof text, "%d\n", (int)(pid ? pid : getpid()));
    return cg_write(dir, "cgroup.procs", text);
}

/* A "name value" line of a v2 memory.stat, or -1. */
static long long cg_stat(const char *dir, const char *name)
{
    char path[PATH_MAX + 32], line[256];
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long long v = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ' ') {
            v = strtoll(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static long long cg_file(const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return procstat_read_ll(path);
}

static void cg_read(const char *dir, struct cg_reading *r)
{
    r->total = r->kmem = r->tcp = -1;
    if (!dir[0] || !c10k_cg.version)
        return;
    if (c10k_cg.version == 1) {
        r->total = cg_file(dir, "memory.usage_in_bytes");
        r->kmem = cg_file(dir, "memory.kmem.usage_in_bytes");
        r->tcp = cg_file(dir, "memory.kmem.tcp.usage_in_bytes");
        return;
    }
    r->total = cg_file(dir, "memory.current");
    r->tcp = cg_stat(dir, "sock");
    long long kernel = cg_stat(dir, "kernel");
    r->kmem = kernel >= 0 && r->tcp >= 0 ? kernel + r->tcp : -1;
}

/* What the group holds in all, user and kernel, TCP buffers included:
 * v1 keeps TCP buffers outside usage_in_bytes, v2 inside memory.current. */
static long long cg_all(const struct cg_reading *r)
{
    if (r->total < 0)
        return -1;
    return c10k_cg.version == 1 && r->tcp > 0 ? r->total + r->tcp : r->total;
}

/* Remove an empty group; the kernel may need a moment after its last task exits. */
static void cg_remove(const char *dir)
{
    for (int i = 0; dir[0] && i < 50; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return;
        c10k_sleep_ms(100);
    }
    c10k_say("warning: could not remove cgroup %s: %s", dir, strerror(errno));
}

/* ==== the server ================================================================ */

/* One echo server we started. */
struct c10k_server {
    pid_t pid;            /* its PID, 0 when not running */
    int port;             /* where it listens */
    int err_fd;           /* a temporary file that receives its stderr */
    char cgroup[PATH_MAX];/* its cgroup's directory, "" if none */
};

/* Fork, put the child into the cgroup, exec bin/echo-MODEL --port 0, read its
 * ready line. Returns 0, or -1 with a message. */
static int c10k_server_start(struct c10k_server *s, const char *path)
{
    char errname[] = "/tmp/c10k-server-err-XXXXXX";
    int p[2] = {-1, -1};
    s->err_fd = mkostemp(errname, O_CLOEXEC);
    if (s->err_fd < 0 || pipe2(p, O_CLOEXEC) < 0) {
        c10k_say("cannot make a pipe or temporary file: %s", strerror(errno));
        goto fail;
    }
    unlink(errname); /* we keep the descriptor; the name goes away */
    s->pid = fork();
    if (s->pid < 0) {
        c10k_say("fork: %s", strerror(errno));
        s->pid = 0;
        goto fail;
    }
    if (s->pid == 0) { /* the child: join the cgroup BEFORE it can accept anything */
        if (s->cgroup[0] && cg_join(s->cgroup, 0) < 0)
            _exit(126);
        dup2(p[1], STDOUT_FILENO);
        dup2(s->err_fd, STDERR_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execl(path, path, "--port", "0", "--backlog", "4096", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    p[1] = -1;
    char line[256];
    size_t have = 0;
    struct pollfd pf = {p[0], POLLIN, 0};
    while (have < sizeof line - 1 && !memchr(line, '\n', have) && poll(&pf, 1, C10K_READY_MS) > 0) {
        ssize_t n = read(p[0], line + have, sizeof line - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    line[have] = '\0';
    close(p[0]); /* a server prints nothing after its ready line */
    if (sscanf(line, "listening on %*[^:]:%d", &s->port) != 1) {
        c10k_say("%s gave no ready line within %d ms", path, C10K_READY_MS);
        return -1;
    }
    return 0;
fail:
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    return -1;
}

/* SIGTERM the server by PID and wait for it; returns its exit status,
 * 128+signal if a signal ended it, 124 if it had to be killed, -1 if none. */
static int c10k_server_stop(struct c10k_server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < C10K_STOP_MS; waited += 10) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0)
            return -1;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return 124;
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

/* ==== the clients ================================================================ */

enum c10k_state {
    C10K_IDLE,        /* not started in this step */
    C10K_CONNECTING,  /* connect() in progress: waiting to become writable */
    C10K_WAITING,     /* probe sent: waiting for its echo */
    C10K_DONE,        /* echo received in full */
    C10K_FAILED,      /* an error: counted, socket closed */
};

/* One client connection. */
struct c10k_conn {
    int fd;               /* its socket, -1 before it has one */
    unsigned char state;  /* an enum c10k_state */
    unsigned char got;    /* bytes of the echo received so far */
};

/* A step drives every connection through one round: OPEN connects and echoes
 * once; ECHO echoes once more on connections already open. */
enum c10k_mode { C10K_OPEN, C10K_ECHO };

/* The state of one step. */
struct c10k_step {
    struct c10k_conn *conns;  /* all connections of the run */
    long n;                   /* how many this step must handle */
    enum c10k_mode mode;      /* what it does to each */
    int port;                 /* server port */
    long next;                /* next connection to start */
    long *active;             /* indices of connections in flight */
    long nactive;             /* how many */
    long done, failed;        /* connections finished well, and badly */
    int stopping;             /* OPEN: a failure was seen, start no more */
    int first_err;            /* errno of the first failure (0: EOF from the server) */
    char first_what[64];      /* what failed first: "socket", "connect", "echo" */
    long first_index;         /* which connection (1-based) */
};

static void c10k_fail(struct c10k_step *st, struct c10k_conn *c, long idx, const char *what, int err)
{
    if (st->failed++ == 0) {
        st->first_err = err;
        st->first_index = idx + 1;
        snprintf(st->first_what, sizeof st->first_what, "%s", what);
    }
    if (st->mode == C10K_OPEN)
        st->stopping = 1; /* N cannot be reached: finish what is in flight, no more */
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = C10K_FAILED;
}

/* Send the probe; on a fresh loopback socket 8 bytes always fit at once. */
static void c10k_send(struct c10k_step *st, struct c10k_conn *c, long idx)
{
    ssize_t n = send(c->fd, c10k_msg, C10K_MSG_LEN, MSG_NOSIGNAL);
    if (n != (ssize_t)C10K_MSG_LEN) {
        c10k_fail(st, c, idx, "send", n < 0 ? errno : EAGAIN);
        return;
    }
    c->got = 0;
    c->state = C10K_WAITING;
}

/* Begin work on connection idx: connect (OPEN) or send (ECHO). */
static void c10k_begin(struct c10k_step *st, long idx)
{
    struct c10k_conn *c = &st->conns[idx];
    if (st->mode == C10K_ECHO) {
        if (c->state != C10K_DONE) /* it failed in an earlier step: nothing to echo on */
            return;
        c10k_send(st, c, idx);
        return;
    }
    c->fd = net_connect_start("127.0.0.1", st->port);
    if (c->fd < 0) {
        c10k_fail(st, c, idx, "socket/connect", errno);
        return;
    }
    c->state = C10K_CONNECTING;
}

/* The socket of connection idx is ready: advance it. */
static void c10k_advance(struct c10k_step *st, long idx, short revents)
{
    struct c10k_conn *c = &st->conns[idx];
    if (c->state == C10K_CONNECTING) {
        int err = net_connect_result(c->fd);
        if (err) {
            c10k_fail(st, c, idx, "connect", err);
            return;
        }
        c10k_send(st, c, idx);
        return;
    }
    char buf[C10K_MSG_LEN];
    ssize_t n = recv(c->fd, buf, C10K_MSG_LEN - c->got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* 0: the server closed it; <0: reset */
        c10k_fail(st, c, idx, "echo", n < 0 ? errno : 0);
        return;
    }
    if (memcmp(buf, c10k_msg + c->got, (size_t)n) != 0) {
        c10k_fail(st, c, idx, "echo (wrong bytes)", EBADMSG);
        return;
    }
    c->got += (unsigned char)n;
    if (c->got == C10K_MSG_LEN)
        c->state = C10K_DONE;
}

/* Start connections while the pace and the in-flight cap allow. */
static void c10k_start_due(struct c10k_step *st, long long t0)
{
    double elapsed = (double)(net_now_ns() - t0) / 1e9;
    long due = st->mode == C10K_OPEN ? (long)(elapsed * (double)opt.rate) + 1 : st->n;
    while (!st->stopping && st->next < st->n && st->next < due && st->nactive < opt.inflight) {
        long idx = st->next++;
        c10k_begin(st, idx);
        unsigned char s = st->conns[idx].state;
        if (s == C10K_CONNECTING || s == C10K_WAITING)
            st->active[st->nactive++] = idx;
    }
}

/* Poll the connections in flight once (up to 100 ms) and advance them; drop
 * the finished ones from the active list. */
static void c10k_poll_active(struct c10k_step *st, struct pollfd *pfd)
{
    for (long i = 0; i < st->nactive; i++) {
        struct c10k_conn *c = &st->conns[st->active[i]];
        pfd[i] = (struct pollfd){c->fd, c->state == C10K_CONNECTING ? POLLOUT : POLLIN, 0};
    }
    /* more to start: wake within 1 ms to keep the pace; else wait for sockets */
    int more = st->mode == C10K_OPEN && !st->stopping && st->next < st->n;
    int timeout = more ? 1 : 100;
    if (poll(pfd, (nfds_t)st->nactive, timeout) <= 0)
        return;
    long kept = 0;
    for (long i = 0; i < st->nactive; i++) {
        long idx = st->active[i];
        if (pfd[i].revents)
            c10k_advance(st, idx, pfd[i].revents);
        unsigned char s = st->conns[idx].state;
        if (s == C10K_DONE)
            st->done++;
        else if (s != C10K_FAILED)
            st->active[kept++] = idx;
    }
    st->nactive = kept;
}

/* Run one step until every connection is done or failed, or `limit_s` passes.
 * Returns 0 if all n are done, -1 otherwise (st says why). */
static int c10k_step_run(struct c10k_step *st, long limit_s)
{
    struct pollfd *pfd = calloc((size_t)opt.inflight, sizeof *pfd);
    st->active = calloc((size_t)opt.inflight, sizeof *st->active);
    int rc = -1;
    if (!pfd || !st->active) {
        c10k_say("out of memory");
        goto out;
    }
    long long t0 = net_now_ns(), deadline = t0 + limit_s * 1000000000LL;
    while (!c10k_interrupted && net_now_ns() < deadline) {
        c10k_start_due(st, t0);
        if (st->nactive == 0 && (st->stopping || st->next == st->n))
            break;
        c10k_poll_active(st, pfd);
    }
    rc = st->done == st->n ? 0 : -1;
out:
    free(pfd);
    free(st->active);
    st->active = NULL;
    return rc;
}

/* Close every client socket with an immediate reset (SO_LINGER 0): no
 * TIME_WAIT sockets linger for a minute in the slab to blur the next run. */
static void c10k_close_all(struct c10k_conn *conns, long n)
{
    struct linger lg = {1, 0};
    for (long i = 0; i < n; i++) {
        if (conns[i].fd < 0)
            continue;
        setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(conns[i].fd);
        conns[i].fd = -1;
    }
}

/* ==== one run: N connections, before/after readings ============================ */

/* Everything read at one moment. */
struct c10k_snap {
    struct procstat_mem mem;    /* machine-wide kernel memory */
    struct procstat_tree tree;  /* the server's process tree */
    struct cg_reading srv;      /* the server's cgroup */
    struct cg_reading cli;      /* our own (client) cgroup */
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
    cg_read(srv_cg, &s->srv);
    cg_read(c10k_client_cg, &s->cli);
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
    r->cg_server = c10k_per(cg_all(&b->srv), cg_all(&a->srv), n, 1);
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

/* Why the connections stopped short of N, in one CSV-safe cell. */
static void c10k_stop_reason(struct c10k_result *r, const struct c10k_step *st, const struct c10k_server *s)
{
    char last[160];
    c10k_server_last_line(s, last, sizeof last);
    const char *server_errno = c10k_errno_in(last);
    const char *name = st->first_err ? strerrorname_np(st->first_err) : "EOF";
    int status;
    if (c10k_interrupted)
        snprintf(r->stop, sizeof r->stop, "interrupted after %ld of %ld connections", r->reached, r->n);
    else if (s->pid > 0 && waitpid(s->pid, &status, WNOHANG) == s->pid)
        snprintf(r->stop, sizeof r->stop, "server died (%s %d) at connection %ld: %s",
                 WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                 r->reached, last);
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
    if (c10k_cg.version && cg_create(name, s.cgroup, sizeof s.cgroup) < 0)
        s.cgroup[0] = '\0';
    if (c10k_server_start(&s, path) < 0) {
        snprintf(r->stop, sizeof r->stop, "server did not start");
        goto out;
    }
    c10k_say("%s: server pid %d on port %d%s%s", tag, (int)s.pid, s.port, s.cgroup[0] ? ", cgroup " : "",
             s.cgroup[0] ? s.cgroup : "");
    struct c10k_snap before, after;
    c10k_sleep_ms(opt.settle_ms);
    c10k_snap(s.pid, s.cgroup, &before);

    struct c10k_step open_step = {.conns = conns, .n = n, .mode = C10K_OPEN, .port = s.port};
    long long t0 = net_now_ns();
    int reached_all = c10k_step_run(&open_step, opt.step_s) == 0;
    r->connect_s = (double)(net_now_ns() - t0) / 1e9;
    r->reached = open_step.done;
    if (!reached_all)
        c10k_stop_reason(r, &open_step, &s);
    c10k_say("%s: %ld of %ld connections established and echoing in %.3f s%s%s", tag, r->reached, n, r->connect_s,
             r->stop[0] ? "; stopped: " : "", r->stop);

    c10k_sleep_ms(opt.settle_ms);
    c10k_snap(s.pid, s.cgroup, &after);
    c10k_compute(r, &before, &after);
    if (r->reached > 0)
        c10k_report(tag, r);

    struct c10k_step echo_step = {.conns = conns, .n = open_step.next, .mode = C10K_ECHO, .port = s.port};
    c10k_step_run(&echo_step, opt.step_s);
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
    if (s.pid > 0)
        r->server_exit = c10k_server_stop(&s);
    if (s.err_fd >= 0)
        close(s.err_fd);
    cg_remove(s.cgroup);
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
    c10k_say("%s: no such program (%s); --model names bin/echo-MODEL: fork, threads, loop (run make)", out,
             strerror(errno));
    return -1;
}

/* Raise the soft open-files limit to the hard one: every connection is a descriptor. */
static void c10k_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Put this process (the client side) into a cgroup of its own, to measure it. */
static void c10k_client_cgroup(void)
{
    char name[64];
    snprintf(name, sizeof name, "c10k-%d-client", (int)getpid());
    if (cg_create(name, c10k_client_cg, sizeof c10k_client_cg) < 0 || cg_join(c10k_client_cg, 0) < 0) {
        if (c10k_cg.version)
            snprintf(c10k_cg.note, sizeof c10k_cg.note, "cannot join %s: %s; cgroup figures skipped", c10k_client_cg,
                     strerror(errno));
        cg_remove(c10k_client_cg);
        c10k_client_cg[0] = '\0';
        c10k_cg.version = 0;
    }
}

/* Back into the cgroup we came from, and remove ours. */
static void c10k_client_cgroup_leave(void)
{
    if (!c10k_client_cg[0])
        return;
    cg_join(c10k_cg.base, 0);
    cg_remove(c10k_client_cg);
}

int main(int argc, char **argv)
{
    long first_rep = 1;
    const struct flag flags[] = {
        {"model", 'm', FLAG_STR, &opt.model, 0, 0, "M", "echo server to measure: bin/echo-M (fork, threads, loop)"},
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
    flags_parse(&spec, argc, argv);
    long counts[C10K_MAX_COUNTS];
    int ncounts = flags_int_list(opt.conns, counts, C10K_MAX_COUNTS, 1, 1000000);
    if (ncounts <= 0)
        flags_die(&spec, "--conns: '%s' is not a list of counts from 1 to 1000000", opt.conns);
    if (!opt.model[0] || strchr(opt.model, '/'))
        flags_die(&spec, "--model: '%s' is not a model name", opt.model);
    char path[PATH_MAX + 64];
    if (c10k_server_path(path, sizeof path) < 0)
        return 1;

    struct sigaction sa = {.sa_handler = c10k_on_signal}; /* no SA_RESTART: poll() wakes up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    c10k_raise_nofile();
    if (opt.no_cgroup)
        snprintf(c10k_cg.note, sizeof c10k_cg.note, "--no-cgroup: cgroup figures skipped");
    else
        cg_init();
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
