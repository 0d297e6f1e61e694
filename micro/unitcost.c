/* unitcost.c — what one unit of concurrency costs: a process (the fork
 * model), a thread (the threads model) or a coroutine (the loop model).
 *
 * Three questions, each answered for each kind with the same method:
 *
 *   create  — time to create one unit that does nothing and finishes, and to
 *             reap it: fork + _exit + waitpid, pthread_create + pthread_join
 *             (default attributes), co_spawn + co_join. One unit at a time,
 *             so stack caches (glibc's and the runtime's) are used as a
 *             server that keeps creating units would use them.
 *   memory  — 1000 units alive at once, all blocked (processes and threads in
 *             read() on a pipe, coroutines in co_chan_recv), then: user-space
 *             memory = PSS of the whole process tree minus before, and
 *             kernel memory = KernelStack + PageTables + SUnreclaim from
 *             /proc/meminfo minus before (machine-wide, so noisy).
 *   switch  — two units ping-pong: one byte each way over two pipes for
 *             processes and threads, co_yield (or a pair of channels) for
 *             coroutines. A round trip is two switches. Run once with the
 *             two units free to use every CPU and once pinned to one CPU:
 *             on a 2-core machine the unpinned round trip often pays for
 *             waking the other core, the pinned one is a pure switch.
 *
 * Every figure is repeated --reps times, the kinds interleaved within each
 * repetition, and reported as median (min..max) nanoseconds per unit or per
 * switch. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coro.h"
#include "flags.h"
#include "procstat.h"

enum { UC_MAX_REPS = 100, UC_NKERN = 3 };

enum uc_kind { UC_PROCESS, UC_THREAD, UC_COROUTINE, UC_NKINDS };
static const char *const uc_kind_name[UC_NKINDS] = {"process", "thread", "coroutine"};

/* The kernel's share of memory, from /proc/meminfo, in this order. */
static const char *const uc_kern_key[UC_NKERN] = {"KernelStack", "PageTables", "SUnreclaim"};

/* What a memory run found: totals over all live units, KiB. */
struct uc_mem {
    double pss_kib;              /* PSS of the process tree, after minus before */
    double kern_kib[UC_NKERN];   /* /proc/meminfo fields, after minus before */
};

/* One line of the report: a kind, a question, pinned or not. */
struct uc_case {
    enum uc_kind kind;           /* process, thread or coroutine */
    const char *what;            /* "create", "switch" or "switch-chan" (CSV column) */
    const char *how;             /* the mechanism, for the table */
    int pinned;                  /* all participants on one CPU? */
    int (*run)(long n, long long *ns);      /* one repetition: total ns for n units/round trips */
    int (*live)(long n, struct uc_mem *m);  /* memory of n live units, or NULL */
    double per[UC_MAX_REPS];     /* ns per unit (create) or per switch, one per rep */
    struct uc_mem mem[UC_MAX_REPS]; /* per live unit, one per rep (create rows) */
    int nrep;                    /* repetitions done */
};

static long uc_count = 10000;       /* --count: units created per repetition */
static long uc_switches = 200000;   /* --switches: round trips per repetition */
static long uc_reps = 5;            /* --reps */
static long uc_live_n = 1000;       /* --live: units kept alive to measure memory */
static const char *uc_what = "all"; /* --what */
static const char *uc_kinds = "process,thread,coroutine"; /* --kind */
static int uc_csv;                  /* --csv */

/* === small helpers ======================================================== */

static long long uc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Write one byte; -1 + errno on failure (EPIPE once the reader is gone). */
static int uc_put(int fd)
{
    for (;;) {
        ssize_t w = write(fd, "x", 1);
        if (w == 1)
            return 0;
        if (w < 0 && errno != EINTR)
            return -1;
    }
}

/* Read one byte; -1 + errno on failure, EPIPE at end of file. */
static int uc_get(int fd)
{
    char c;
    for (;;) {
        ssize_t r = read(fd, &c, 1);
        if (r == 1)
            return 0;
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* n round trips of one byte: the pinger writes first, the ponger reads first. */
static int uc_pipe_rounds(int rfd, int wfd, long n, int ping)
{
    for (long i = 0; i < n; i++) {
        if (ping && uc_put(wfd) < 0)
            return -1;
        if (uc_get(rfd) < 0)
            return -1;
        if (!ping && uc_put(wfd) < 0)
            return -1;
    }
    return 0;
}

static void uc_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Round trips done before the clock starts: both sides running, caches warm. */
static long uc_warmup(long n)
{
    return n / 10 < 1000 ? n / 10 : 1000;
}

/* The kernel-side fields of /proc/meminfo; 0, or -1 if one is missing. */
static int uc_meminfo(long out[UC_NKERN])
{
    for (int i = 0; i < UC_NKERN; i++)
        if ((out[i] = procstat_field("/proc/meminfo", uc_kern_key[i])) < 0)
            return -1;
    return 0;
}

/* Kernel memory after minus before, into m. */
static void uc_kern_delta(struct uc_mem *m, const long before[UC_NKERN], const long after[UC_NKERN])
{
    for (int i = 0; i < UC_NKERN; i++)
        m->kern_kib[i] = (double)(after[i] - before[i]);
}

/* Let the kernel finish freeing what earlier runs left behind (exited tasks
 * release their stacks, page tables and slab objects a little later, via
 * RCU and work queues): else it shows up as a drop in the next memory run.
 * Waits until the kernel fields of /proc/meminfo stop falling, at most 1 s. */
static void uc_settle(void)
{
    long prev = -1;
    for (int i = 0; i < 50; i++) {
        long k[UC_NKERN];
        if (uc_meminfo(k) < 0)
            return;
        long sum = k[0] + k[1] + k[2];
        if (prev >= 0 && sum >= prev)
            return;
        prev = sum;
        usleep(20 * 1000);
    }
}

/* Pin the calling thread — and every process or thread it creates from now
 * on, which inherit the mask — to one CPU: the first it may use. */
static int uc_pin(cpu_set_t *saved)
{
    if (sched_getaffinity(0, sizeof *saved, saved) < 0)
        return -1;
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, saved)) {
            CPU_SET(c, &one);
            break;
        }
    return sched_setaffinity(0, sizeof one, &one);
}

/* === create: one unit at a time, created, finished, reaped ================ */

static int uc_create_process(long n, long long *ns)
{
    long long t0 = uc_now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0)
            _exit(0);
        int st;
        if (waitpid(pid, &st, 0) < 0)
            return -1;
    }
    *ns = uc_now_ns() - t0;
    return 0;
}

static void *uc_thread_nothing(void *arg)
{
    return arg;
}

static int uc_create_thread(long n, long long *ns)
{
    long long t0 = uc_now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        int err = pthread_create(&t, NULL, uc_thread_nothing, NULL);
        if (!err)
            err = pthread_join(t, NULL);
        if (err) {
            errno = err;
            return -1;
        }
    }
    *ns = uc_now_ns() - t0;
    return 0;
}

/* A coroutine job run inside co_run(): its input and what it found. */
struct uc_co_job {
    long n;              /* units or round trips */
    long long ns;        /* time measured inside the loop */
    int err;             /* errno of the first failure, 0 if none */
};

static void uc_co_nothing(void *arg)
{
    (void)arg;
}

/* The driver: spawn one coroutine, wait for it to finish, n times. */
static void uc_co_create_driver(void *arg)
{
    struct uc_co_job *j = arg;
    long long t0 = uc_now_ns();
    for (long i = 0; i < j->n; i++) {
        co_t *c = co_spawn(uc_co_nothing, NULL);
        if (!c || co_join(c, -1) < 0) {
            j->err = errno;
            return;
        }
    }
    j->ns = uc_now_ns() - t0;
}

/* Start fn(job) as the only coroutine and run the loop until it is done. */
static int uc_co_run_job(void (*fn)(void *), struct uc_co_job *j)
{
    if (co_go(fn, j) < 0 || co_run() < 0)
        return -1;
    if (j->err) {
        errno = j->err;
        return -1;
    }
    return 0;
}

static int uc_create_coroutine(long n, long long *ns)
{
    struct uc_co_job j = {.n = n};
    if (uc_co_run_job(uc_co_create_driver, &j) < 0)
        return -1;
    *ns = j.ns;
    return 0;
}

/* === memory: n units alive at once, all blocked =========================== */

/* The two pipes of a memory run: units report "ready" on one, then block
 * reading the other (the gate) until it is closed. */
struct uc_gate {
    int gate[2];         /* units block reading [0]; closing [1] releases them */
    int ready[2];        /* each unit writes one byte to [1] just before it blocks */
};

#define UC_GATE_INIT {{-1, -1}, {-1, -1}}

static int uc_gate_open(struct uc_gate *g)
{
    if (pipe2(g->gate, O_CLOEXEC) < 0 || pipe2(g->ready, O_CLOEXEC) < 0)
        return -1;
    return 0;
}

static void uc_gate_close(struct uc_gate *g)
{
    uc_close(&g->gate[0]);
    uc_close(&g->gate[1]);
    uc_close(&g->ready[0]);
    uc_close(&g->ready[1]);
}

/* A unit's life: say ready, then wait until the gate closes (read gives EOF). */
static void uc_gate_wait(struct uc_gate *g)
{
    char c;
    uc_put(g->ready[1]);
    while (read(g->gate[0], &c, 1) < 0 && errno == EINTR) {
    }
}

/* Wait for n "ready" bytes; -1 (EPIPE) if the units died first. */
static int uc_gate_ready(struct uc_gate *g, long n)
{
    for (long i = 0; i < n; i++)
        if (uc_get(g->ready[0]) < 0)
            return -1;
    return 0;
}

static int uc_live_process(long n, struct uc_mem *m)
{
    struct uc_gate g = UC_GATE_INIT;
    long made = 0, k0[UC_NKERN], k1[UC_NKERN], pss0, pss1;
    int rc = -1, err = 0;
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!pids || uc_gate_open(&g) < 0)
        goto out;
    if (uc_meminfo(k0) < 0 || (pss0 = procstat_pss_kib(getpid())) < 0)
        goto out;
    for (; made < n; made++) {
        pid_t pid = fork();
        if (pid < 0)
            goto out;
        if (pid == 0) {
            close(g.gate[1]); /* else this child would hold its own gate open */
            uc_gate_wait(&g);
            _exit(0);
        }
        pids[made] = pid;
    }
    uc_close(&g.ready[1]); /* only the children write: EOF if they all die */
    if (uc_gate_ready(&g, n) < 0 || uc_meminfo(k1) < 0 || (pss1 = procstat_pss_kib(getpid())) < 0)
        goto out;
    for (long i = 0; i < n; i++) {
        long p = procstat_pss_kib(pids[i]);
        if (p < 0)
            goto out;
        pss1 += p;
    }
    m->pss_kib = (double)(pss1 - pss0);
    uc_kern_delta(m, k0, k1);
    rc = 0;
out:
    err = errno;
    uc_close(&g.gate[1]); /* every child reads EOF and exits */
    for (long i = 0; i < made; i++)
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {
        }
    uc_gate_close(&g);
    free(pids);
    errno = err;
    return rc;
}

static void *uc_live_thread_fn(void *arg)
{
    uc_gate_wait(arg);
    return NULL;
}

static int uc_live_thread(long n, struct uc_mem *m)
{
    struct uc_gate g = UC_GATE_INIT;
    long made = 0, k0[UC_NKERN], k1[UC_NKERN], pss0, pss1;
    int rc = -1, err = 0;
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    if (!tids || uc_gate_open(&g) < 0)
        goto out;
    if (uc_meminfo(k0) < 0 || (pss0 = procstat_pss_kib(getpid())) < 0)
        goto out;
    for (; made < n; made++) {
        int e = pthread_create(&tids[made], NULL, uc_live_thread_fn, &g);
        if (e) {
            errno = e;
            goto out;
        }
    }
    if (uc_gate_ready(&g, n) < 0 || uc_meminfo(k1) < 0 || (pss1 = procstat_pss_kib(getpid())) < 0)
        goto out;
    m->pss_kib = (double)(pss1 - pss0);
    uc_kern_delta(m, k0, k1);
    rc = 0;
out:
    err = errno;
    uc_close(&g.gate[1]); /* every thread reads EOF and returns */
    for (long i = 0; i < made; i++)
        pthread_join(tids[i], NULL);
    uc_gate_close(&g);
    free(tids);
    errno = err;
    return rc;
}

/* A coroutine memory run: n units parked on one channel. */
struct uc_co_live {
    long n;              /* units to start */
    long ready;          /* units that reached their wait */
    co_chan_t *gate;     /* units wait on it; closing it releases them */
    struct uc_mem *m;    /* where the result goes */
    int err;             /* errno of the first failure, 0 if none */
};

static void uc_co_live_unit(void *arg)
{
    struct uc_co_live *L = arg;
    void *v;
    L->ready++;
    co_chan_recv(L->gate, &v, -1); /* fails with EPIPE once the gate closes */
}

static void uc_co_live_driver(void *arg)
{
    struct uc_co_live *L = arg;
    long k0[UC_NKERN], k1[UC_NKERN], pss0, pss1;
    if (uc_meminfo(k0) < 0 || (pss0 = procstat_pss_kib(getpid())) < 0)
        goto fail;
    for (long i = 0; i < L->n; i++)
        if (co_go(uc_co_live_unit, L) < 0)
            goto fail;
    while (L->ready < L->n) /* each yield lets every new coroutine run once */
        if (co_yield() < 0)
            goto fail;
    if (uc_meminfo(k1) < 0 || (pss1 = procstat_pss_kib(getpid())) < 0)
        goto fail;
    L->m->pss_kib = (double)(pss1 - pss0);
    uc_kern_delta(L->m, k0, k1);
    co_chan_close(L->gate);
    return;
fail:
    L->err = errno;
    co_chan_close(L->gate);
}

static int uc_live_coroutine(long n, struct uc_mem *m)
{
    struct uc_co_live L = {.n = n, .m = m};
    /* Drop the runtime's cache of finished stacks, so the units get fresh
     * ones and the baseline holds no stack that they will reuse. */
    if (co_init(0) < 0 || !(L.gate = co_chan_new(1)))
        return -1;
    int rc = 0;
    if (co_go(uc_co_live_driver, &L) < 0 || co_run() < 0)
        rc = -1;
    else if (L.err) {
        errno = L.err;
        rc = -1;
    }
    int err = errno;
    co_chan_free(L.gate);
    errno = err;
    return rc;
}

/* === switch: two units ping-pong ========================================== */

/* Two pipes between the measuring side and its partner. */
struct uc_pingpong {
    int to[2];           /* measurer -> partner */
    int back[2];         /* partner -> measurer */
    long rounds;         /* round trips the partner answers */
};

#define UC_PP_INIT {{-1, -1}, {-1, -1}, 0}

static int uc_pp_open(struct uc_pingpong *p, long rounds)
{
    p->rounds = rounds;
    if (pipe2(p->to, O_CLOEXEC) < 0 || pipe2(p->back, O_CLOEXEC) < 0)
        return -1;
    return 0;
}

static void uc_pp_close(struct uc_pingpong *p)
{
    uc_close(&p->to[0]);
    uc_close(&p->to[1]);
    uc_close(&p->back[0]);
    uc_close(&p->back[1]);
}

/* The measuring side: warm up, then time n round trips. */
static int uc_pp_measure(struct uc_pingpong *p, long n, long long *ns)
{
    if (uc_pipe_rounds(p->back[0], p->to[1], p->rounds - n, 1) < 0)
        return -1;
    long long t0 = uc_now_ns();
    if (uc_pipe_rounds(p->back[0], p->to[1], n, 1) < 0)
        return -1;
    *ns = uc_now_ns() - t0;
    return 0;
}

static int uc_switch_process(long n, long long *ns)
{
    struct uc_pingpong p = UC_PP_INIT;
    pid_t pid = -1;
    int rc = -1, err, st;
    if (uc_pp_open(&p, n + uc_warmup(n)) < 0)
        goto out;
    if ((pid = fork()) < 0)
        goto out;
    if (pid == 0) {
        close(p.to[1]);  /* so that we see EOF if the parent goes */
        close(p.back[0]);
        _exit(uc_pipe_rounds(p.to[0], p.back[1], p.rounds, 0) < 0 ? 1 : 0);
    }
    uc_close(&p.back[1]); /* so that we see EOF if the child goes */
    rc = uc_pp_measure(&p, n, ns);
out:
    err = errno;
    uc_close(&p.to[1]); /* a child still waiting reads EOF and exits */
    if (pid > 0 && waitpid(pid, &st, 0) == pid && rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        err = EPROTO;
        rc = -1;
    }
    uc_pp_close(&p);
    errno = err;
    return rc;
}

static void *uc_pong_thread(void *arg)
{
    struct uc_pingpong *p = arg;
    intptr_t rc = uc_pipe_rounds(p->to[0], p->back[1], p->rounds, 0);
    uc_close(&p->back[1]); /* the measurer reads EOF if we stopped early */
    return (void *)rc;
}

static int uc_switch_thread(long n, long long *ns)
{
    struct uc_pingpong p = UC_PP_INIT;
    pthread_t t;
    int rc = -1, err, started = 0;
    if (uc_pp_open(&p, n + uc_warmup(n)) < 0)
        goto out;
    if ((err = pthread_create(&t, NULL, uc_pong_thread, &p)) != 0) {
        errno = err;
        goto out;
    }
    started = 1;
    rc = uc_pp_measure(&p, n, ns);
out:
    err = errno;
    if (started) {
        void *res;
        uc_close(&p.to[1]); /* a partner still waiting reads EOF and returns */
        pthread_join(t, &res);
        if (rc == 0 && res != NULL) {
            err = EPROTO;
            rc = -1;
        }
    }
    uc_pp_close(&p);
    errno = err;
    return rc;
}

/* Two coroutines taking turns; `last` proves that they alternate. */
struct uc_co_pair {
    long n;              /* round trips */
    int last;            /* id of the side that ran last, -1 at first */
    int err;             /* errno of the first failure, 0 if none */
    co_chan_t *ab, *ba;  /* the channels of the channel variant */
};

/* One side of the pair; both point at the pair and carry their id. */
struct uc_co_side {
    struct uc_co_pair *pair;  /* shared state */
    int id;                   /* 0 or 1 */
};

static void uc_co_yield_side(void *arg)
{
    struct uc_co_side *s = arg;
    struct uc_co_pair *p = s->pair;
    for (long i = 0; i < p->n && !p->err; i++) {
        if (p->last == s->id) {
            p->err = EPROTO; /* ran twice in a row: no ping-pong */
            return;
        }
        p->last = s->id;
        if (co_yield() < 0)
            p->err = errno;
    }
}

static void uc_co_chan_side(void *arg)
{
    struct uc_co_side *s = arg;
    struct uc_co_pair *p = s->pair;
    co_chan_t *in = s->id ? p->ab : p->ba, *out = s->id ? p->ba : p->ab;
    void *v = NULL;
    for (long i = 0; i < p->n; i++) {
        /* side 0 sends first and side 1 answers: one round trip per loop */
        if ((s->id == 0 && co_chan_send(out, p, -1) < 0) || co_chan_recv(in, &v, -1) < 0 ||
            (s->id == 1 && co_chan_send(out, p, -1) < 0)) {
            p->err = errno;
            break;
        }
        if (v != p) {
            p->err = EPROTO; /* not what was sent */
            break;
        }
    }
    co_chan_close(out); /* the other side stops waiting if we stopped early */
}

static int uc_co_pair_run(void (*fn)(void *), struct uc_co_pair *p, long long *ns)
{
    struct uc_co_side a = {p, 0}, b = {p, 1};
    long long t0 = uc_now_ns();
    if (co_go(fn, &a) < 0 || co_go(fn, &b) < 0 || co_run() < 0)
        return -1;
    *ns = uc_now_ns() - t0;
    if (p->err) {
        errno = p->err;
        return -1;
    }
    return 0;
}

static int uc_switch_co_yield(long n, long long *ns)
{
    struct uc_co_pair p = {.n = n, .last = -1};
    return uc_co_pair_run(uc_co_yield_side, &p, ns);
}

static int uc_switch_co_chan(long n, long long *ns)
{
    struct uc_co_pair p = {.n = n, .last = -1};
    int rc = -1, err;
    if (!(p.ab = co_chan_new(1)) || !(p.ba = co_chan_new(1)))
        goto out;
    rc = uc_co_pair_run(uc_co_chan_side, &p, ns);
out:
    err = errno;
    co_chan_free(p.ab);
    co_chan_free(p.ba);
    errno = err;
    return rc;
}

/* === the plan: every case, in the order of the report ===================== */

#define UC_CASE(k, w, h, pin, fn, mem) {.kind = k, .what = w, .how = h, .pinned = pin, .run = fn, .live = mem}
static struct uc_case uc_cases[] = {
    UC_CASE(UC_PROCESS, "create", "fork + _exit + waitpid", 0, uc_create_process, uc_live_process),
    UC_CASE(UC_THREAD, "create", "pthread_create + join", 0, uc_create_thread, uc_live_thread),
    UC_CASE(UC_COROUTINE, "create", "co_spawn + co_join", 0, uc_create_coroutine, uc_live_coroutine),
    UC_CASE(UC_PROCESS, "create", "fork + _exit + waitpid", 1, uc_create_process, NULL),
    UC_CASE(UC_THREAD, "create", "pthread_create + join", 1, uc_create_thread, NULL),
    UC_CASE(UC_COROUTINE, "create", "co_spawn + co_join", 1, uc_create_coroutine, NULL),
    UC_CASE(UC_PROCESS, "switch", "pipe ping-pong", 0, uc_switch_process, NULL),
    UC_CASE(UC_THREAD, "switch", "pipe ping-pong", 0, uc_switch_thread, NULL),
    UC_CASE(UC_COROUTINE, "switch", "co_yield", 0, uc_switch_co_yield, NULL),
    UC_CASE(UC_COROUTINE, "switch-chan", "co_chan ping-pong", 0, uc_switch_co_chan, NULL),
    UC_CASE(UC_PROCESS, "switch", "pipe ping-pong", 1, uc_switch_process, NULL),
    UC_CASE(UC_THREAD, "switch", "pipe ping-pong", 1, uc_switch_thread, NULL),
    UC_CASE(UC_COROUTINE, "switch", "co_yield", 1, uc_switch_co_yield, NULL),
    UC_CASE(UC_COROUTINE, "switch-chan", "co_chan ping-pong", 1, uc_switch_co_chan, NULL),
};
enum { UC_NCASES = sizeof uc_cases / sizeof uc_cases[0] };

static int uc_is_create(const struct uc_case *c)
{
    return strcmp(c->what, "create") == 0;
}

/* Run one case once and record its figures; 0, or -1 + errno. */
static int uc_case_run(struct uc_case *c)
{
    long n = uc_is_create(c) ? uc_count : uc_switches;
    long long ns = 0;
    cpu_set_t saved;
    if (c->pinned && uc_pin(&saved) < 0)
        return -1;
    int rc = c->run(n, &ns);
    int err = errno;
    if (c->pinned)
        sched_setaffinity(0, sizeof saved, &saved);
    if (c->kind == UC_COROUTINE)
        co_init(0); /* unmap cached stacks: a later fork would copy their mappings */
    if (rc < 0) {
        errno = err;
        return -1;
    }
    /* a round trip is two switches: there and back */
    c->per[c->nrep] = (double)ns / (double)n / (uc_is_create(c) ? 1 : 2);
    if (c->live) {
        struct uc_mem *m = &c->mem[c->nrep];
        uc_settle();
        rc = c->live(uc_live_n, m);
        if (c->kind == UC_COROUTINE)
            co_init(0);
        if (rc < 0)
            return -1;
        m->pss_kib /= (double)uc_live_n;
        for (int i = 0; i < UC_NKERN; i++)
            m->kern_kib[i] /= (double)uc_live_n;
    }
    c->nrep++;
    return 0;
}

/* === statistics and the report ============================================ */

static int uc_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorted in place); min and max go to lo and hi. */
static double uc_median(double *v, int n, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, uc_cmp_double);
    if (lo)
        *lo = v[0];
    if (hi)
        *hi = v[n - 1];
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median memory per unit of a create row: PSS, each kernel field, kernel sum. */
static void uc_mem_median(struct uc_case *c, double *pss, double kern[UC_NKERN], double *ksum)
{
    double v[UC_MAX_REPS];
    for (int r = 0; r < c->nrep; r++)
        v[r] = c->mem[r].pss_kib;
    *pss = uc_median(v, c->nrep, NULL, NULL);
    for (int i = 0; i < UC_NKERN; i++) {
        for (int r = 0; r < c->nrep; r++)
            v[r] = c->mem[r].kern_kib[i];
        kern[i] = uc_median(v, c->nrep, NULL, NULL);
    }
    for (int r = 0; r < c->nrep; r++)
        v[r] = c->mem[r].kern_kib[0] + c->mem[r].kern_kib[1] + c->mem[r].kern_kib[2];
    *ksum = uc_median(v, c->nrep, NULL, NULL);
}

static void uc_print_csv(void)
{
    printf("kind,what,pinned,count,ns_per_unit_median,ns_min,ns_max,pss_kib_per_unit,kernel_kib_per_unit\n");
    for (int i = 0; i < UC_NCASES; i++) {
        struct uc_case *c = &uc_cases[i];
        if (c->nrep == 0)
            continue;
        double lo, hi, med = uc_median(c->per, c->nrep, &lo, &hi);
        printf("%s,%s,%s,%ld,%.1f,%.1f,%.1f,", uc_kind_name[c->kind], c->what, c->pinned ? "yes" : "no",
               uc_is_create(c) ? uc_count : uc_switches, med, lo, hi);
        if (c->live) {
            double pss, kern[UC_NKERN], ksum;
            uc_mem_median(c, &pss, kern, &ksum);
            printf("%.2f,%.2f\n", pss, ksum);
        } else {
            printf(",\n");
        }
    }
}

static void uc_print_table(int ncpu)
{
    printf("micro-unitcost: %d CPUs usable; every figure is the median (min..max) of %ld reps\n", ncpu, uc_reps);
    for (int pass = 0; pass < 3; pass++) {
        int header = 0;
        for (int i = 0; i < UC_NCASES; i++) {
            struct uc_case *c = &uc_cases[i];
            if (c->nrep == 0 || uc_is_create(c) != (pass < 2) || (pass == 1 && !c->live))
                continue;
            double lo, hi, med = uc_median(c->per, c->nrep, &lo, &hi);
            if (pass == 0) {
                if (!header++)
                    printf("\ncreate one unit that does nothing, let it finish, reap it (%ld times):\n"
                           "  %-10s %-24s %-10s %12s %12s %12s\n", uc_count, "kind", "how", "CPUs",
                           "ns/unit", "min", "max");
                printf("  %-10s %-24s %-10s %12.0f %12.0f %12.0f\n", uc_kind_name[c->kind], c->how,
                       c->pinned ? "one" : "any", med, lo, hi);
            } else if (pass == 1) {
                double pss, kern[UC_NKERN], ksum;
                uc_mem_median(c, &pss, kern, &ksum);
                if (!header++)
                    printf("\nmemory per live unit (%ld units alive at once, blocked), KiB per unit;\n"
                           "kernel = /proc/meminfo deltas, machine-wide, so noisy:\n"
                           "  %-10s %10s %10s  (%s + %s + %s)\n", uc_live_n, "kind", "user PSS",
                           "kernel", uc_kern_key[0], uc_kern_key[1], uc_kern_key[2]);
                printf("  %-10s %10.1f %10.1f  (%11.1f + %10.1f + %10.1f)\n", uc_kind_name[c->kind], pss,
                       ksum, kern[0], kern[1], kern[2]);
            } else {
                if (!header++)
                    printf("\nswitch between two units (%ld round trips; ns per switch = round trip / 2):\n"
                           "  %-10s %-24s %-10s %12s %12s %12s\n", uc_switches, "kind", "how", "CPUs",
                           "ns/switch", "min", "max");
                printf("  %-10s %-24s %-10s %12.0f %12.0f %12.0f\n", uc_kind_name[c->kind], c->how,
                       c->pinned ? "one" : "any", med, lo, hi);
            }
        }
    }
}

/* === command line ========================================================= */

static const struct flag uc_flags[] = {
    {"what", 'w', FLAG_STR, &uc_what, 0, 0, "WHAT", "create, switch or all (create includes memory per live unit)"},
    {"kind", 'k', FLAG_STR, &uc_kinds, 0, 0, "LIST", "comma-separated: process,thread,coroutine"},
    {"count", 'n', FLAG_INT, &uc_count, 1, 10000000, "N", "units created per repetition"},
    {"switches", 's', FLAG_INT, &uc_switches, 1, 100000000, "N", "ping-pong round trips per repetition"},
    {"reps", 'r', FLAG_INT, &uc_reps, 1, UC_MAX_REPS, "R", "repetitions; figures are medians"},
    {"live", 'l', FLAG_INT, &uc_live_n, 1, 100000, "N", "units kept alive at once to measure memory"},
    {"csv", 0, FLAG_BOOL, &uc_csv, 0, 0, NULL, "print CSV instead of the table"},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL},
};

static const struct flags_spec uc_spec = {
    "micro-unitcost", "[flags]",
    "What one unit of concurrency costs: create a process (fork), a thread (pthread)\n"
    "or a coroutine (the loop runtime); the memory of one that is alive and blocked;\n"
    "and one switch between two of them, free to use every CPU and pinned to one.",
    uc_flags, 0,
};

/* Parse --kind into want[]: 0, or FLAGS_BAD after one line naming the flag. */
static int uc_parse_kinds(int want[UC_NKINDS])
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", uc_kinds);
    int any = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < UC_NKINDS && strcmp(tok, uc_kind_name[k]) != 0)
            k++;
        if (k == UC_NKINDS)
            return flags_error(&uc_spec, "--kind: unknown kind '%s' (process, thread, coroutine)", tok);
        want[k] = any = 1;
    }
    if (!any)
        return flags_error(&uc_spec, "--kind: no kind given");
    return 0;
}

int main(int argc, char **argv)
{
    int fr = flags_parse(&uc_spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    int want[UC_NKINDS] = {0};
    if (uc_parse_kinds(want) < 0)
        return 2;
    int create = strcmp(uc_what, "create") == 0, sw = strcmp(uc_what, "switch") == 0;
    if (strcmp(uc_what, "all") == 0)
        create = sw = 1;
    else if (!create && !sw)
        return flags_exit(flags_error(&uc_spec, "--what: '%s' is not create, switch or all", uc_what));
    signal(SIGPIPE, SIG_IGN); /* a partner gone shows up as EPIPE, not death */

    cpu_set_t mask;
    int ncpu = sched_getaffinity(0, sizeof mask, &mask) == 0 ? CPU_COUNT(&mask) : 1;
    for (long r = 0; r < uc_reps; r++) {
        if (isatty(2) && !uc_csv)
            fprintf(stderr, "\rmicro-unitcost: repetition %ld of %ld ", r + 1, uc_reps);
        for (int i = 0; i < UC_NCASES; i++) {
            struct uc_case *c = &uc_cases[i];
            if (!want[c->kind] || !(uc_is_create(c) ? create : sw))
                continue;
            if (uc_case_run(c) < 0) {
                fprintf(stderr, "\nmicro-unitcost: %s %s (%s): %s\n", uc_kind_name[c->kind], c->what,
                        c->how, strerror(errno));
                return 1;
            }
        }
    }
    if (isatty(2) && !uc_csv)
        fprintf(stderr, "\r%50s\r", "");
    if (uc_csv)
        uc_print_csv();
    else
        uc_print_table(ncpu);
    return 0;
}
