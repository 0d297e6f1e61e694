/* unit_coro_many.c — the loop runtime at scale (models/loop/coro.c): very
 * many coroutines alive at once, and the overflow check that takes over from
 * guard pages when the process runs out of mappings for them.
 *
 *   many_live_then_joined   N coroutines (200,000; 20,000 under ASan, 1,000 under TSan;
 *                           UNIT_CORO_MANY=N to change it, e.g. 1000000 by
 *                           hand) all sleeping at once, then joined. Far past
 *                           vm.max_map_count: stacks come from arenas.
 *   canary_catches_overflow in a child with no guard pages at all
 *                           (CORO_GUARD_MAPS=0), a coroutine that runs a
 *                           little past its stack's bottom is stopped at its
 *                           next switch, by name.
 * Memory and time are printed as "info" lines, never asserted. */
#include "check.h"
#include "coro.h"
#include "procself.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define MANY_SANITIZED 1
#define MANY_DEFAULT 1000 /* TSan: about 1 MiB of state per fiber, at most 8,128 of them */
#elif defined(__SANITIZE_ADDRESS__)
#define MANY_SANITIZED 1
#define MANY_DEFAULT 20000 /* ASan gives every stack 256 KiB and shadow memory */
#else
#define MANY_SANITIZED 0
#define MANY_DEFAULT 200000
#endif

enum { MANY_STACK = 16 * 1024 };

static int many_failures;

static void many_pass(const char *name)
{
    printf("PASS %s\n", name);
}

static void many_fail(const char *name, const char *why)
{
    printf("FAIL %s: %s\n", name, why);
    many_failures++;
}

static double many_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- many_live_then_joined -------------------------------------------------- */

struct many_run {
    long n;              /* coroutines to start */
    int64_t wake;        /* when they all wake up */
    long woke;           /* how many woke on time and finished */
    long alive_max;      /* co_count() with all of them started */
    long maps;           /* mappings with all of them alive */
    long rss_kib;        /* resident memory with all of them alive */
    long joined;         /* co_join successes */
    char why[160];       /* the first failure */
};

static void many_sleeper(void *arg)
{
    struct many_run *r = arg;
    if (co_sleep_until(r->wake) == 0)
        r->woke++;
}

static void many_driver(void *arg)
{
    struct many_run *r = arg;
    co_t **c = calloc((size_t)r->n, sizeof *c);
    if (!c) {
        snprintf(r->why, sizeof r->why, "calloc: %s", strerror(errno));
        return;
    }
    /* Everyone sleeps until one moment far enough ahead for all to start. */
    r->wake = co_now() + 1000;
    long made = 0;
    for (; made < r->n; made++)
        if (!(c[made] = co_spawn(many_sleeper, r))) {
            snprintf(r->why, sizeof r->why, "co_spawn #%ld: %s", made + 1, strerror(errno));
            break;
        }
    co_yield(); /* each new one runs up to its sleep */
    r->alive_max = (long)co_count();
    r->maps = procself_maps();
    r->rss_kib = procself_rss_kib();
    for (long i = 0; i < made; i++)
        r->joined += co_join(c[i], -1) == 0;
    free(c);
}

static void test_many(long n)
{
    const char *name = "many_live_then_joined";
    struct many_run r = {.n = n};
    long rss0 = procself_rss_kib();
    double t0 = many_secs();
    if (co_go(many_driver, &r) < 0 || co_run() < 0) {
        snprintf(r.why, sizeof r.why, "co_go/co_run: %s", strerror(errno));
        many_fail(name, r.why);
        return;
    }
    double secs = many_secs() - t0;
    char why[400];
    snprintf(why, sizeof why, "%ld started, %ld alive at once (+ the driver), %ld woke, %ld joined, %ld mappings",
             n, r.alive_max - 1, r.woke, r.joined, r.maps);
    long max_maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max_maps) != 1)
            max_maps = 65530;
        fclose(f);
    }
    if (r.why[0])
        many_fail(name, r.why);
    else if (r.alive_max != n + 1 || r.woke != n || r.joined != n)
        many_fail(name, why);
    else if (r.maps < 0 || r.maps >= max_maps)
        many_fail(name, why);
    else {
        printf("info many: %s; resident +%ld KiB = %.2f KiB per coroutine (%d KiB stacks); %.2f s in all = %.2f us "
               "per coroutine (incl. the 1 s sleep)\n",
               why, r.rss_kib - rss0, (double)(r.rss_kib - rss0) / (double)n, MANY_STACK / 1024, secs,
               secs * 1e6 / (double)n);
        many_pass(name);
    }
}

/* --- canary_catches_overflow ------------------------------------------------ */

/* Recurse until this frame is below `stop`, then come back. */
static void __attribute__((noinline)) many_dig(uintptr_t stop)
{
    volatile char pad[128];
    pad[0] = 1;
    if ((uintptr_t)__builtin_frame_address(0) > stop)
        many_dig(stop);
    pad[1] = pad[0];
}

/* Run about 512 bytes past the bottom of a MANY_STACK stack, come back up
 * (nothing has crashed: with no guard page, the page below is plain memory),
 * then switch: the canary check must stop the process here. */
static void many_overflow(void *arg)
{
    uintptr_t top = (uintptr_t)__builtin_frame_address(0);
    many_dig(top - MANY_STACK - 512);
    co_yield();
    *(int *)arg = 1; /* not reached */
}

static int many_child_overflow(void)
{
    int survived = 0;
    if (co_init(MANY_STACK) < 0 || co_go(many_overflow, &survived) < 0)
        return 3;
    co_run();
    return survived ? 4 : 5;
}

static void test_canary(const char *self, const char *argv0)
{
#if MANY_SANITIZED
    (void)self;
    (void)argv0;
    skip("canary_catches_overflow", "not under a sanitizer (its fake stacks move the frames)");
    return;
#else
    const char *name = "canary_catches_overflow";
    int pfd[2];
    if (pipe(pfd) < 0) {
        many_fail(name, "pipe");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        setenv("CORO_GUARD_MAPS", "0", 1);
        execl(self, argv0, "--overflow-child", (char *)NULL);
        _exit(6);
    }
    close(pfd[1]);
    char out[2048];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof out - 1 && (k = read(pfd[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)k;
    out[got] = 0;
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    char why[2300];
    snprintf(why, sizeof why, "status %#x, stderr '%.200s'", st, out);
    const char *want = "stack overflow in coroutine ";
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        many_fail(name, why);
    else if (!strstr(out, want) || !strstr(out, "(stack 16 KiB, caught by its canary)"))
        many_fail(name, why);
    else {
        *strchr(out, '\n') = 0;
        printf("info canary: child says \"%s\"\n", out);
        many_pass(name);
    }
#endif
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--overflow-child") == 0)
        return many_child_overflow();
    long n = MANY_DEFAULT;
    const char *env = getenv("UNIT_CORO_MANY");
    if (env && *env)
        n = strtol(env, NULL, 10);
    if (n < 1) {
        fprintf(stderr, "unit_coro_many: UNIT_CORO_MANY must be a positive count\n");
        return 2;
    }
    plan(2);
    test_canary("/proc/self/exe", argv[0]);
    if (co_init(MANY_STACK) < 0) {
        many_fail("co_init", strerror(errno));
        return 1;
    }
    test_many(n);
    return check_done() || many_failures;
}
