/* spawn.c — what one unit of concurrency costs to create. Start 10,000
 * processes, threads or coroutines that do nothing and finish; report the
 * time per unit and, while they are all alive, the memory per unit.
 *
 * To measure memory every unit first waits for a "go" that comes once all of
 * them exist: processes and threads block reading a pipe that is then closed
 * (EOF wakes them all), coroutines wait on a channel that is then closed.
 * --no-mem skips the measuring (that is how scripts/demo-spawn.sh times it). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "coro.h"
#include "demo.h"
#include "flags.h"
#include "registry.h"

struct spawn_res {
    long made;         /* units actually created */
    double seconds;    /* creating them all + all of them finishing */
    long user_kib;     /* PSS they added, all alive (user space) */
    long total_kib;    /* MemAvailable drop, all alive (user + kernel) */
    long long measure_ns; /* time spent measuring: not counted in `seconds` */
};

static long spawn_count = 10000; /* --count */
enum {
    SPAWN_MAX_OS = 20000,   /* --count for processes and threads */
    SPAWN_MAX_CO = 1000000, /* --count for coroutines */
};
static int spawn_nomem;          /* --no-mem: do not hold units to measure memory */
static int spawn_gate[2] = {-1, -1}; /* the "go" pipe: read end blocks until closed */

static long spawn_avail_kib(void) { return procstat_field("/proc/meminfo", "MemAvailable"); }

/* Block until the gate is closed (or return at once in --no-mem mode). */
static void spawn_wait_gate(void)
{
    char c;
    if (spawn_gate[0] >= 0)
        while (read(spawn_gate[0], &c, 1) < 0 && errno == EINTR) {
        }
}

static int spawn_open_gate(void)
{
    if (spawn_nomem)
        return 0;
    return pipe2(spawn_gate, O_CLOEXEC);
}

static void spawn_close_gate(void)
{
    if (spawn_gate[1] >= 0)
        close(spawn_gate[1]);
    spawn_gate[1] = -1;
}

/* --- processes ------------------------------------------------------------ */

/* PSS of the children, from a sample of at most 500 of them, scaled up. */
static long spawn_children_pss(const pid_t *pid, long n)
{
    long step = n > 500 ? n / 500 : 1, sum = 0, seen = 0;
    for (long i = 0; i < n; i += step) {
        long k = procstat_pss_kib(pid[i]);
        if (k >= 0)
            sum += k, seen++;
    }
    return seen ? sum * n / seen : 0;
}

static int spawn_fork(struct spawn_res *r)
{
    pid_t *pid = calloc((size_t)spawn_count, sizeof *pid);
    if (!pid || spawn_open_gate() < 0)
        return free(pid), -1;
    long avail0 = spawn_avail_kib(), self0 = procstat_pss_kib(getpid());
    long long t0 = net_now_ns();
    int rc = 0;
    for (r->made = 0; r->made < spawn_count; r->made++) {
        pid_t p = fork();
        if (p < 0) {
            fprintf(stderr, "demo-spawn: fork #%ld: %s\n", r->made + 1, strerror(errno));
            rc = -1;
            break;
        }
        if (p == 0) {
            if (spawn_gate[1] >= 0)
                close(spawn_gate[1]);
            spawn_wait_gate();
            _exit(0);
        }
        pid[r->made] = p;
    }
    if (!spawn_nomem) {
        long long m0 = net_now_ns();
        r->total_kib = avail0 - spawn_avail_kib();
        r->user_kib = spawn_children_pss(pid, r->made) + procstat_pss_kib(getpid()) - self0;
        r->measure_ns = net_now_ns() - m0;
    }
    spawn_close_gate();
    for (long i = 0; i < r->made; i++)
        waitpid(pid[i], NULL, 0);
    r->seconds = demo_since(t0) - (double)r->measure_ns / 1e9;
    free(pid);
    return rc;
}

/* --- threads -------------------------------------------------------------- */

static void *spawn_thread_fn(void *arg)
{
    spawn_wait_gate();
    return NULL;
}

static int spawn_threads(struct spawn_res *r)
{
    pthread_t *t = calloc((size_t)spawn_count, sizeof *t);
    if (!t || spawn_open_gate() < 0)
        return free(t), -1;
    long avail0 = spawn_avail_kib(), self0 = procstat_pss_kib(getpid());
    long long t0 = net_now_ns();
    int rc = 0;
    for (r->made = 0; r->made < spawn_count; r->made++) {
        int err = pthread_create(&t[r->made], NULL, spawn_thread_fn, NULL);
        if (err) {
            fprintf(stderr, "demo-spawn: pthread_create #%ld: %s\n", r->made + 1, strerror(err));
            rc = -1;
            break;
        }
    }
    if (!spawn_nomem) {
        long long m0 = net_now_ns();
        r->total_kib = avail0 - spawn_avail_kib();
        r->user_kib = procstat_pss_kib(getpid()) - self0;
        r->measure_ns = net_now_ns() - m0;
    }
    spawn_close_gate();
    for (long i = 0; i < r->made; i++)
        pthread_join(t[i], NULL);
    r->seconds = demo_since(t0) - (double)r->measure_ns / 1e9;
    free(t);
    return rc;
}

/* --- coroutines ------------------------------------------------------------ */

static co_chan_t *spawn_chan; /* the coroutines' gate: closed = go */

static void spawn_co_fn(void *arg)
{
    void *v;
    if (spawn_chan)
        co_chan_recv(spawn_chan, &v, -1); /* fails with EPIPE once closed */
}

/* The main coroutine: start them all, let each reach its wait, measure, go. */
static void spawn_co_main(void *arg)
{
    struct spawn_res *r = arg;
    long avail0 = spawn_avail_kib(), self0 = procstat_pss_kib(getpid());
    for (r->made = 0; r->made < spawn_count; r->made++)
        if (co_go(spawn_co_fn, NULL) < 0) {
            fprintf(stderr, "demo-spawn: co_go #%ld: %s\n", r->made + 1, strerror(errno));
            break;
        }
    co_yield(); /* every new coroutine runs up to its first wait */
    if (spawn_chan) {
        long long m0 = net_now_ns();
        r->total_kib = avail0 - spawn_avail_kib();
        r->user_kib = procstat_pss_kib(getpid()) - self0;
        r->measure_ns = net_now_ns() - m0;
        co_chan_close(spawn_chan);
    }
}

static int spawn_loop(struct spawn_res *r)
{
    /* Fresh stacks for every coroutine model: co_init() empties the stack
     * pool an earlier one filled, whose pages would otherwise count as 0. */
    if (co_init(0) < 0 || (!spawn_nomem && !(spawn_chan = co_chan_new(1))))
        return -1;
    long long t0 = net_now_ns();
    int rc = co_go(spawn_co_main, r) < 0 || co_run() < 0 ? -1 : 0;
    r->seconds = demo_since(t0) - (double)r->measure_ns / 1e9;
    if (spawn_chan)
        co_chan_free(spawn_chan);
    spawn_chan = NULL;
    if (r->made < spawn_count)
        rc = -1;
    return rc;
}

/* --- the report ------------------------------------------------------------ */

/* What one unit of concurrency is, and how to make many. A model's unit is
 * the one its models/NAME/about.txt names for a connection (registry_unit). */
struct spawn_kind {
    const char *word;                 /* the unit, as registry_unit() says it */
    const char *unit;                 /* what many units are called */
    int (*run)(struct spawn_res *);   /* creates them */
};

static const struct spawn_kind spawn_kinds[] = {
    {"process", "processes", spawn_fork},
    {"thread", "threads", spawn_threads},
    {"coroutine", "coroutines", spawn_loop},
};

/* How to create the units of the model `name`, or NULL. */
static const struct spawn_kind *spawn_kind_of(const char *name)
{
    const char *unit = registry_unit(name);
    for (size_t i = 0; unit && i < sizeof spawn_kinds / sizeof spawn_kinds[0]; i++)
        if (strcmp(unit, spawn_kinds[i].word) == 0)
            return &spawn_kinds[i];
    return NULL;
}

static int spawn_one(const char *name, const struct spawn_kind *k)
{
    struct spawn_res r = {0, 0, 0, 0, 0};
    demo_say("%s: creating %ld %s...", name, spawn_count, k->unit);
    int rc = k->run(&r);
    if (r.made == 0)
        return -1;
    demo_say("%s: %ld %s created and finished in %.3f s = %.1f us each", name, r.made, k->unit,
             r.seconds, r.seconds * 1e6 / (double)r.made);
    if (!spawn_nomem)
        demo_say("%s: all alive: PSS +%.1f KiB each (user space); MemAvailable drop %.1f KiB each (with kernel; machine-wide, noisy)",
                 name, (double)r.user_kib / (double)r.made, (double)r.total_kib / (double)r.made);
    return rc;
}

int main(int argc, char **argv)
{
    const char *kind = "all";
    char models[512], kind_help[600];
    size_t len = 0; /* the models whose connection is a unit this demo can make */
    models[0] = '\0';
    for (const char *const *m = registry_models(); *m; m++)
        if (spawn_kind_of(*m) && len < sizeof models)
            len += (size_t)snprintf(models + len, sizeof models - len, "%s%s", len ? ", " : "", *m);
    snprintf(kind_help, sizeof kind_help, "%s or all", models);
    const struct flag flags[] = {
        {"kind", 'k', FLAG_STR, &kind, 0, 0, "K", kind_help},
        {"count", 'n', FLAG_INT, &spawn_count, 1, SPAWN_MAX_CO, "N",
         "units to create: up to 20000 processes or threads, 1000000 coroutines"},
        {"no-mem", 0, FLAG_BOOL, &spawn_nomem, 0, 0, NULL, "do not hold the units alive to measure memory (for timing)"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-spawn", "[flags]",
        "Create N processes, threads or coroutines that do nothing and finish:\n"
        "time per unit, and memory per unit while all of them are alive. A model's\n"
        "unit is the one its models/NAME/about.txt names for a connection.\n"
        "MemAvailable is machine-wide: other programs running at once blur it.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    int all = strcmp(kind, "all") == 0;
    if (!all && !registry_has(kind))
        return flags_exit(flags_error(&spec, "--kind: '%s' is not %s or all", kind, models));
    if (!all && !spawn_kind_of(kind))
        return flags_exit(flags_error(&spec, "--kind: model '%s' gives a connection no process, thread or coroutine", kind));
    /* A process or thread per unit stops far sooner (pid_max, threads-max). */
    const struct spawn_kind *only = all ? NULL : spawn_kind_of(kind);
    if (spawn_count > SPAWN_MAX_OS && (!only || only->run != spawn_loop))
        return flags_exit(flags_error(&spec, "--count: above %d only for coroutines (a --kind whose unit is a coroutine)",
                                      SPAWN_MAX_OS));
    if (co_init(0) < 0) {
        fprintf(stderr, "demo-spawn: co_init: %s\n", strerror(errno));
        return 1;
    }
    int rc = 0;
    for (const char *const *m = registry_models(); *m; m++) {
        const struct spawn_kind *k = spawn_kind_of(*m);
        if (!all && strcmp(kind, *m) != 0)
            continue;
        if (k)
            rc |= spawn_one(*m, k);
        else
            demo_say("%s: skipped: its connection is no process, thread or coroutine", *m);
    }
    return rc ? 1 : 0;
}
