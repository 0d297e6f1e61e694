/* tasks-sleep — how much memory do N sleeping tasks need? Start N tasks of
 * one kind that each sleep S seconds, wait for all of them, exit. The method
 * of pkolaczk's 2023 comparison ("How much memory do you need to run 1
 * million concurrent tasks?"); bin/tasks-run measures what it costs (memory
 * cgroup peak, max RSS, wall time) and scripts/bench-tasks.sh draws it.
 *
 *   tasks-sleep --kind KIND --count N [--sleep S]
 *
 * The kinds, from the heaviest unit to no unit at all:
 *   process    fork() per task; the child sleeps and exits; the parent reaps all
 *   thread     pthread_create() per task, with a small stack (--stack KiB)
 *   coroutine  co_spawn() per task (the loop model's runtime, a stack each);
 *              the task calls co_sleep(); the first coroutine joins them all
 *   stackless  a proto-model task per task (models/proto/tasks.c): a struct,
 *              a function that returns while it waits, a deadline in the heap
 *   floor      a 16-byte record per task in one array, and one thread that
 *              sleeps until the last deadline: what the bookkeeping alone costs
 *
 * Each task sleeps S seconds from the moment it was started (like
 * `sleep(10)` in the original programs), so the wall time is the time to
 * start them all + S + the time to finish them.
 *
 * What it prints on stdout, one line each (bin/tasks-run reads them):
 *   started K               all K tasks exist (K = N unless it stopped)
 *   stopped LIMIT after K: DETAIL   a task could not be started; LIMIT is
 *                           pid_max, threads-max, vm.max_map_count, memory or
 *                           error; the K started ones are still waited for
 *   done in T s             every started task finished (T: since the start)
 * Exit status: 0 all done, 3 stopped early, 1 an error, 2 a bad flag.
 *
 * --mem-floor MIB: stop starting tasks (LIMIT = memory) when the machine's
 * MemAvailable falls below it, so that a kind that would need more memory
 * than the machine has stops by itself instead of calling the OOM killer. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../models/proto/tasks.h"
#include "coro.h"
#include "flags.h"
#include "net.h"
#include "procstat.h"

static const char *prog = "tasks-sleep";

static const char *opt_kind = "";   /* --kind */
static long opt_count = 1000;       /* --count: N */
static double opt_sleep = 10;       /* --sleep: S, seconds */
static long opt_stack_kib = 0;      /* --stack: a thread's or coroutine's stack, KiB; 0: see below */
static long opt_mem_floor_mib = 1024; /* --mem-floor: stop starting below this MemAvailable */

static long long sleep_ms(void) { return (long long)(opt_sleep * 1000 + 0.5); }
static double seconds_since(long long t0) { return (net_now_ns() - t0) / 1e9; }

/* --- why a task could not be started ------------------------------------------ */

static long lines_in(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Threads alive in the whole system: the 4th field of /proc/loadavg, "1/123". */
static long system_threads(void)
{
    FILE *f = fopen("/proc/loadavg", "re");
    long run = 0, all = -1;
    if (f) {
        if (fscanf(f, "%*s %*s %*s %ld/%ld", &run, &all) != 2)
            all = -1;
        fclose(f);
    }
    return all;
}

/* Name the limit that made starting a task fail with err: the kernel's
 * limits are compared with what is in use now (with a margin: other
 * processes come and go). "error" when none of them is near. */
static const char *limit_hit(int err)
{
    long maps = lines_in("/proc/self/maps");
    long long max_maps = procstat_read_ll("/proc/sys/vm/max_map_count");
    if (err == ENOMEM && maps > 0 && max_maps > 0 && maps >= max_maps - 64)
        return "vm.max_map_count";
    long threads = system_threads();
    long long tmax = procstat_read_ll("/proc/sys/kernel/threads-max");
    long long pmax = procstat_read_ll("/proc/sys/kernel/pid_max");
    if (err == EAGAIN && threads > 0 && tmax > 0 && threads >= tmax - 512)
        return "threads-max";
    if (err == EAGAIN && threads > 0 && pmax > 0 && threads >= pmax - 1024)
        return "pid_max"; /* every thread needs a PID, and 300 of them are reserved */
    if (err == ENOMEM || err == EAGAIN)
        return "memory";
    return "error";
}

/* Is there still room for more tasks? Checked every 1024 tasks. */
static int memory_left(long i)
{
    if (i % 1024 != 0 || opt_mem_floor_mib <= 0)
        return 1;
    long avail = procstat_field("/proc/meminfo", "MemAvailable");
    return avail < 0 || avail / 1024 >= opt_mem_floor_mib;
}

static void report_stop(const char *limit, long started, const char *detail)
{
    printf("stopped %s after %ld: %s\n", limit, started, detail);
    fflush(stdout);
}

/* Starting task number `started` failed with err: say which limit stopped
 * us. Returns the exit status for a run that stopped early. */
static int start_failed(long started, int err)
{
    report_stop(limit_hit(err), started, strerror(err));
    return 3;
}

static int memory_stop(long started)
{
    char d[128];
    snprintf(d, sizeof d, "MemAvailable fell below --mem-floor %ld MiB", opt_mem_floor_mib);
    report_stop("memory", started, d);
    return 3;
}

static void report_started(long k)
{
    printf("started %ld\n", k);
    fflush(stdout);
}

/* --- process: fork() per task -------------------------------------------------- */

static int run_processes(void)
{
    long k = 0;
    int rc = 0;
    for (; k < opt_count; k++) {
        if (!memory_left(k)) {
            rc = memory_stop(k);
            break;
        }
        pid_t pid = fork();
        if (pid == 0) { /* the task: sleep, then go */
            struct timespec ts = {sleep_ms() / 1000, sleep_ms() % 1000 * 1000000};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
            }
            _exit(0);
        }
        if (pid < 0) {
            rc = start_failed(k, errno);
            break;
        }
    }
    if (rc == 0)
        report_started(k);
    int st;
    long bad = 0;
    while (wait(&st) > 0 || errno == EINTR)
        bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (bad) { /* e.g. the memory cgroup's OOM killer took some */
        fprintf(stderr, "%s: %ld of %ld processes did not exit normally\n", prog, bad, k);
        return rc ? rc : 1;
    }
    return rc;
}

/* --- thread: pthread_create() per task, small stacks --------------------------- */

static void *thread_task(void *arg)
{
    struct timespec ts = {sleep_ms() / 1000, sleep_ms() % 1000 * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    return NULL;
}

static int run_threads(void)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    /* 16 KiB unless --stack says: the smallest glibc accepts (PTHREAD_STACK_MIN) */
    size_t stack = (size_t)(opt_stack_kib ? opt_stack_kib : 16) * 1024;
    if (stack < (size_t)PTHREAD_STACK_MIN)
        stack = PTHREAD_STACK_MIN;
    pthread_attr_setstacksize(&at, stack);
    pthread_t *tid = malloc((size_t)opt_count * sizeof *tid);
    if (!tid)
        return perror(prog), 1;
    long k = 0;
    int rc = 0;
    for (; k < opt_count; k++) {
        if (!memory_left(k)) {
            rc = memory_stop(k);
            break;
        }
        int err = pthread_create(&tid[k], &at, thread_task, NULL);
        if (err) {
            rc = start_failed(k, err);
            break;
        }
    }
    if (rc == 0)
        report_started(k);
    for (long i = 0; i < k; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    pthread_attr_destroy(&at);
    return rc;
}

/* --- coroutine: co_spawn() per task, co_sleep(), joined by the first one ------- */

static int co_rc;

static void co_task(void *arg) { co_sleep(sleep_ms()); }

static void co_main(void *arg)
{
    co_t **all = malloc((size_t)opt_count * sizeof *all);
    if (!all) {
        co_rc = 1;
        perror(prog);
        return;
    }
    long k = 0;
    for (; k < opt_count; k++) {
        if (!memory_left(k)) {
            co_rc = memory_stop(k);
            break;
        }
        all[k] = co_spawn(co_task, NULL);
        if (!all[k]) {
            co_rc = start_failed(k, errno);
            break;
        }
    }
    if (co_rc == 0)
        report_started(k);
    for (long i = 0; i < k; i++)
        co_join(all[i], -1);
    free(all);
}

static int run_coroutines(void)
{
    size_t stack = (size_t)opt_stack_kib * 1024; /* 0: the runtime's own default */
    if (co_init(stack) < 0 || co_go(co_main, NULL) < 0 || co_run() < 0)
        return perror(prog), 1;
    return co_rc;
}

/* --- stackless: a proto-model task per task ---------------------------------- */

/* The whole task: its runtime struct. Nothing survives the wait but the
 * line it stopped at (in t->pt) and its deadline (in the timer heap). */
static int stackless_task(struct task *t)
{
    PT_BEGIN(&t->pt);
    task_deadline(t, tasks_now() + sleep_ms());
    PT_WAIT_UNTIL(&t->pt, t->expired);
    PT_END(&t->pt);
}

static void stackless_end(struct task *t) {}

static int run_stackless(void)
{
    /* one array for all of them: one allocation, and each task is its struct */
    struct task *all = calloc((size_t)opt_count, sizeof *all);
    if (!all || tasks_init() < 0)
        return perror(prog), 1;
    long k = 0;
    int rc = 0;
    for (; k < opt_count; k++) {
        if (!memory_left(k)) {
            rc = memory_stop(k);
            break;
        }
        if (task_start(&all[k], stackless_task, stackless_end, -1) < 0) {
            rc = start_failed(k, errno);
            break;
        }
    }
    if (rc == 0)
        report_started(k);
    if (tasks_run() < 0)
        return perror(prog), 1;
    free(all);
    return rc;
}

/* --- floor: a 16-byte record per task, one sleeping thread --------------------- */

/* What any runtime must keep per sleeping task at the very least: when it
 * wakes, and which task it is. */
struct floor_rec {
    int64_t deadline_ns; /* when this task wakes (CLOCK_MONOTONIC) */
    uint64_t id;         /* which task */
};

static int run_floor(void)
{
    _Static_assert(sizeof(struct floor_rec) == 16, "a record is 16 bytes");
    struct floor_rec *rec = malloc((size_t)opt_count * sizeof *rec);
    if (!rec)
        return report_stop("memory", 0, strerror(errno)), 3;
    for (long i = 0; i < opt_count; i++)
        rec[i] = (struct floor_rec){net_now_ns() + sleep_ms() * 1000000, (uint64_t)i};
    report_started(opt_count);
    /* the records were written in deadline order: the last one wakes last */
    int64_t last = rec[opt_count - 1].deadline_ns;
    struct timespec ts = {last / 1000000000, last % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
    long done = 0;
    for (long i = 0; i < opt_count; i++)
        done += rec[i].deadline_ns <= net_now_ns();
    free(rec);
    return done == opt_count ? 0 : 1;
}

/* --- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct flag flags[] = {
        {"kind", 'k', FLAG_STR, &opt_kind, 0, 0, "KIND", "process, thread, coroutine, stackless or floor"},
        {"count", 'n', FLAG_INT, &opt_count, 1, 10000000, "N", "tasks to start (1000)"},
        {"sleep", 's', FLAG_DOUBLE, &opt_sleep, 0, 3600, "S", "seconds each task sleeps (10)"},
        {"stack", 0, FLAG_INT, &opt_stack_kib, 0, 65536, "KIB",
         "stack of a thread or coroutine, KiB (0: 16 for a thread, the runtime's default for a coroutine)"},
        {"mem-floor", 0, FLAG_INT, &opt_mem_floor_mib, 0, 1 << 24, "MIB",
         "stop starting tasks when MemAvailable falls below this (1024; 0: never)"},
        {0},
    };
    static const struct flags_spec spec = {
        .prog = "tasks-sleep",
        .usage = "--kind KIND [--count N] [--sleep S]",
        .about = "Start N tasks of one kind that each sleep S seconds, wait for all of them.\n"
                 "Prints \"started K\", \"stopped LIMIT after K: why\" and \"done K in T s\".",
        .flags = flags,
        .max_positional = 0,
    };
    int r = flags_parse(&spec, argc, argv);
    if (r < 0)
        return flags_exit(r);
    long long t0 = net_now_ns();
    int rc;
    if (strcmp(opt_kind, "process") == 0)
        rc = run_processes();
    else if (strcmp(opt_kind, "thread") == 0)
        rc = run_threads();
    else if (strcmp(opt_kind, "coroutine") == 0)
        rc = run_coroutines();
    else if (strcmp(opt_kind, "stackless") == 0)
        rc = run_stackless();
    else if (strcmp(opt_kind, "floor") == 0)
        rc = run_floor();
    else
        return flags_exit(flags_error(&spec, "--kind '%s' is not one of process, thread, coroutine, stackless, floor",
                                      opt_kind));
    if (rc != 1)
        printf("done in %.2f s\n", seconds_since(t0));
    return rc;
}
