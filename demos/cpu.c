/* cpu.c — the same CPU-bound job split across N workers, three ways.
 * Coroutines all run on the loop's one thread, so N of them take as long as
 * one doing everything: one core. Threads and processes are scheduled by the
 * kernel on every core. The table shows wall time and "cores used" = CPU time
 * (user + system, from getrusage) / wall time. This is why asyncio is for
 * waiting, not for computing. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "coro.h"
#include "demo.h"
#include "flags.h"
#include "work.h"

static long cpu_workers = 4;  /* --workers: how many pieces the job is cut into */
static long cpu_job_ms = 1500; /* --job-ms: the whole job's length on one core */
static long cpu_units;         /* work_do units per worker, from calibration */

/* One worker's share of the job (the same function in all three models). */
static void cpu_share(long id)
{
    long long t0 = net_now_ns();
    work_do(cpu_units, &id, sizeof id);
    demo_say("  worker %ld done (%.3f s of work)", id, demo_since(t0));
}

/* --- the three ways --------------------------------------------------------- */

static void cpu_co_worker(void *arg) { cpu_share((long)(intptr_t)arg); }

static int cpu_run_loop(void)
{
    for (long i = 0; i < cpu_workers; i++)
        if (co_go(cpu_co_worker, (void *)(intptr_t)i) < 0)
            return -1;
    return co_run();
}

static void *cpu_thread_worker(void *arg)
{
    cpu_share((long)(intptr_t)arg);
    return NULL;
}

static int cpu_run_threads(void)
{
    pthread_t t[64];
    long n = 0;
    int rc = 0;
    for (; n < cpu_workers; n++) {
        int err = pthread_create(&t[n], NULL, cpu_thread_worker, (void *)(intptr_t)n);
        if (err) {
            errno = err;
            rc = -1;
            break;
        }
    }
    for (long i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return rc;
}

static int cpu_run_fork(void)
{
    long n = 0;
    int rc = 0;
    for (; n < cpu_workers; n++) {
        pid_t pid = fork();
        if (pid < 0) {
            rc = -1;
            break;
        }
        if (pid == 0) {
            cpu_share(n);
            _exit(0);
        }
    }
    while (n-- > 0)
        wait(NULL); /* RUSAGE_CHILDREN counts a child once it is reaped */
    return rc;
}

/* --- measuring ------------------------------------------------------------ */

/* CPU seconds (user + system) of this process and its reaped children. */
static double cpu_seconds(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double s = 0;
    s += (double)self.ru_utime.tv_sec + (double)self.ru_utime.tv_usec / 1e6;
    s += (double)self.ru_stime.tv_sec + (double)self.ru_stime.tv_usec / 1e6;
    s += (double)kids.ru_utime.tv_sec + (double)kids.ru_utime.tv_usec / 1e6;
    s += (double)kids.ru_stime.tv_sec + (double)kids.ru_stime.tv_usec / 1e6;
    return s;
}

struct cpu_row {
    const char *unit;   /* the unit of concurrency: coroutine, thread or process */
    const char *model;  /* the model it runs as (demo_model_for), NULL: skipped */
    int (*run)(void);   /* runs the whole job that way */
    double wall_s;      /* elapsed time */
    double cpu_s;       /* CPU time spent */
};

static int cpu_measure(struct cpu_row *r)
{
    demo_title(r->model);
    double c0 = cpu_seconds();
    long long t0 = net_now_ns();
    demo_say("%ld workers start", cpu_workers);
    int rc = r->run();
    r->wall_s = demo_since(t0);
    r->cpu_s = cpu_seconds() - c0;
    if (rc < 0)
        fprintf(stderr, "demo-cpu: %s: %s\n", r->model, strerror(errno));
    demo_say("all done: wall %.3f s, cpu %.3f s, cores used %.2f", r->wall_s, r->cpu_s,
             r->cpu_s / r->wall_s);
    return rc;
}

/* Size each worker's share so the whole job takes ~job_ms on one core. */
static void cpu_calibrate(void)
{
    long units = 1000;
    long long ns;
    for (;;) {
        long long t0 = demo_thread_cpu_ns();
        work_do(units, "cal", 3);
        ns = demo_thread_cpu_ns() - t0;
        if (ns > 50000000LL)
            break;
        units *= 2;
    }
    double per_ms = (double)units * 1e6 / (double)ns;
    cpu_units = (long)(per_ms * (double)cpu_job_ms / (double)cpu_workers) + 1;
}

int main(int argc, char **argv)
{
    const char *model = "all";
    char models_help[512];
    const struct flag flags[] = {
        {"model", 'm', FLAG_STR, &model, 0, 0, "M", demo_models_help(models_help, sizeof models_help)},
        {"workers", 'n', FLAG_INT, &cpu_workers, 1, 64, "N", "workers the job is split across"},
        {"job-ms", 0, FLAG_INT, &cpu_job_ms, 10, 20000, "MS", "the whole job's length on one core"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-cpu", "[flags]",
        "One CPU-bound job (work_do) split across N workers as coroutines, threads\n"
        "and processes: wall time, CPU time and cores used. Coroutines share one\n"
        "core; threads and processes use them all. A model runs the variant of the\n"
        "unit its about.txt names for a connection.",
        flags, 0};
    static const char *const units[] = {"coroutine", "thread", "process", NULL};
    int fr = demo_parse(&spec, argc, argv, &model, units);
    if (fr < 0)
        return flags_exit(fr);
    struct cpu_row rows[] = {
        {"coroutine", NULL, cpu_run_loop, 0, 0},
        {"thread", NULL, cpu_run_threads, 0, 0},
        {"process", NULL, cpu_run_fork, 0, 0},
    };
    for (int i = 0; i < 3; i++)
        rows[i].model = demo_model_for(model, rows[i].unit);
    if (co_init(0) < 0) {
        fprintf(stderr, "demo-cpu: co_init: %s\n", strerror(errno));
        return 1;
    }

    cpu_calibrate();
    printf("job: %ld ms of work_do on one core, split across %ld workers; %ld cores online\n",
           cpu_job_ms, cpu_workers, sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
    int rc = 0;
    for (int i = 0; i < 3; i++)
        if (rows[i].model)
            rc |= cpu_measure(&rows[i]);

    printf("\n%-8s %8s %8s %11s\n", "model", "wall_s", "cpu_s", "cores_used");
    for (int i = 0; i < 3; i++)
        if (rows[i].model)
            printf("%-8s %8.3f %8.3f %11.2f\n", rows[i].model, rows[i].wall_s, rows[i].cpu_s,
                   rows[i].cpu_s / rows[i].wall_s);
    return rc ? 1 : 0;
}
