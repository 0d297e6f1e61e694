/* blocking.c — one blocking call stops the whole loop. Tickers wake every
 * 200 ms and print how late they woke. Half a second in, one coroutine does
 * something that does not wait through the loop: a blocking sleep(1), or a
 * second of CPU work. No other coroutine can run until it is done, and every
 * ticker's lateness jumps to hundreds of milliseconds. Then the fix: co_sleep
 * instead of sleep, and the CPU work cut into slices with a co_yield between
 * them — and the ticks are on time again. Last, the offload: the same CPU
 * work handed to a worker thread with co_offload (runtime/offload.h,
 * asyncio's run_in_executor): the offender waits like co_sleep does, the
 * work runs on another core, and the ticks never notice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "demo.h"
#include "flags.h"
#include "offload.h"
#include "work.h"

struct blk_opts {
    long tickers;     /* --tickers: how many ticking coroutines */
    long tick_ms;     /* --tick-ms: their period */
    long phase_ms;    /* --phase-ms: how long each phase lasts */
    long block_ms;    /* --block-ms: how long the offender blocks */
    const char *what; /* --what: sleep, cpu, offload or all */
};

static struct blk_opts blk = {2, 200, 2000, 1000, "all"};
static double blk_worst_ms;      /* worst lateness seen in the current phase */
static long blk_units_per_ms;    /* work_do units per millisecond, measured once */
static int blk_done;             /* set when the phase is over: tickers stop */

/* A ticker: sleep a period, report how much later than asked it woke. */
static void blk_ticker(void *arg)
{
    long id = (long)(intptr_t)arg;
    while (!blk_done) {
        long long want = net_now_ns() + blk.tick_ms * 1000000LL;
        if (co_sleep(blk.tick_ms) < 0)
            return;
        /* Timers have millisecond resolution: a wake up to 1 ms early counts as on time. */
        double late = (double)(net_now_ns() - want) / 1e6;
        if (late < 0)
            late = 0;
        if (late > blk_worst_ms)
            blk_worst_ms = late;
        demo_say("tick %c  late %7.1f ms%s", (int)('A' + id), late, late > 50 ? "   <-- late!" : "");
    }
}

/* The offenders and their fixes; each takes ~block_ms. */
static void blk_sleep_blocking(void)
{
    sleep((unsigned)(blk.block_ms / 1000)); /* the thread stops: so does every coroutine */
    usleep((useconds_t)(blk.block_ms % 1000) * 1000);
}
static void blk_sleep_coop(void) { co_sleep(blk.block_ms); }

static void blk_cpu_blocking(void) { work_do(blk.block_ms * blk_units_per_ms, "cpu", 3); }

/* The same work in 5 ms slices with an await point between them. */
static void blk_cpu_sliced(void)
{
    for (long done = 0; done < blk.block_ms; done += 5) {
        work_do(5 * blk_units_per_ms, "cpu", 3);
        co_yield();
    }
}

/* The same work on a worker thread: this coroutine waits, the loop runs on. */
static void blk_cpu_offload(void)
{
    if (co_offload_work(blk.block_ms * blk_units_per_ms, "cpu", 3, -1) < 0)
        demo_say("co_offload failed: %s", strerror(errno));
}

struct blk_phase {
    const char *title;      /* what the class should look for */
    const char *tag;        /* short name in the summary line */
    const char *doing;      /* the offender's line */
    void (*offend)(void);   /* the call made half a second in */
};

static const struct blk_phase blk_phases[] = {
    {"blocking: one coroutine calls sleep(1) — the whole loop stops",
     "sleep blocking", "calls sleep(1): blocks the thread", blk_sleep_blocking},
    {"fixed: it calls co_sleep(1000) instead — only it waits",
     "sleep fixed", "calls co_sleep(1000): waits in the loop", blk_sleep_coop},
    {"blocking: one coroutine does 1 s of CPU work in one go",
     "cpu blocking", "starts 1 s of CPU work, no await inside", blk_cpu_blocking},
    {"fixed: the same CPU work in 5 ms slices, co_yield() between them",
     "cpu fixed", "starts 1 s of CPU work in 5 ms slices", blk_cpu_sliced},
    {"offloaded: the same CPU work on a worker thread (co_offload); the coroutine waits",
     "cpu offload", "hands 1 s of CPU work to a worker thread (co_offload)", blk_cpu_offload},
};

/* The phase's driver: start tickers, offend at 500 ms, end the phase. */
static void blk_phase_main(void *arg)
{
    const struct blk_phase *p = arg;
    co_t *t[26];
    long n = 0;
    for (; n < blk.tickers; n++)
        if (!(t[n] = co_spawn(blk_ticker, (void *)(intptr_t)n)))
            break;
    co_sleep(500);
    long long t0 = net_now_ns();
    demo_say("offender %s", p->doing);
    p->offend();
    demo_say("offender done after %.3f s", demo_since(t0));
    co_sleep(blk.phase_ms > 500 + blk.block_ms ? blk.phase_ms - 500 - blk.block_ms : 0);
    blk_done = 1;
    for (long i = 0; i < n; i++)
        co_join(t[i], -1);
}

static int blk_run_phase(const struct blk_phase *p)
{
    demo_title(p->title);
    blk_worst_ms = 0;
    blk_done = 0;
    if (co_go(blk_phase_main, (void *)p) < 0 || co_run() < 0) {
        fprintf(stderr, "demo-blocking: loop: %s\n", strerror(errno));
        return -1;
    }
    demo_say("worst lateness %.1f ms  [%s]", blk_worst_ms, p->tag);
    return 0;
}

/* How many work_do units make a millisecond on this machine. */
static void blk_calibrate(void)
{
    long units = 1000;
    for (;;) {
        long long t0 = demo_thread_cpu_ns();
        work_do(units, "cal", 3);
        long long ns = demo_thread_cpu_ns() - t0;
        if (ns > 50000000LL) {
            blk_units_per_ms = (long)((double)units * 1e6 / (double)ns) + 1;
            return;
        }
        units *= 2;
    }
}

int main(int argc, char **argv)
{
    const struct flag flags[] = {
        {"what", 'w', FLAG_STR, &blk.what, 0, 0, "W",
         "sleep, cpu, offload or all: which offender to show (offload: the CPU work blocking, then offloaded)"},
        {"tickers", 'n', FLAG_INT, &blk.tickers, 1, 26, "N", "ticking coroutines"},
        {"tick-ms", 0, FLAG_INT, &blk.tick_ms, 10, 5000, "MS", "ticker period"},
        {"block-ms", 0, FLAG_INT, &blk.block_ms, 10, 10000, "MS", "how long the offender blocks"},
        {"phase-ms", 0, FLAG_INT, &blk.phase_ms, 100, 60000, "MS", "length of each phase"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-blocking", "[flags]",
        "Coroutines tick every 200 ms and print how late they woke. One calls a\n"
        "blocking sleep(1) (or does 1 s of CPU work) and every tick slips; then\n"
        "the fix (co_sleep; CPU work in slices with co_yield, or on a worker\n"
        "thread with co_offload) and they are on time.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    int sleep_too = !strcmp(blk.what, "sleep") || !strcmp(blk.what, "all");
    int cpu_too = !strcmp(blk.what, "cpu") || !strcmp(blk.what, "all");
    int offload_only = !strcmp(blk.what, "offload");
    if (!sleep_too && !cpu_too && !offload_only)
        return flags_exit(flags_error(&spec, "--what: '%s' is not sleep, cpu, offload or all", blk.what));

    if (co_init(0) < 0) {
        fprintf(stderr, "demo-blocking: co_init: %s\n", strerror(errno));
        return 1;
    }
    blk_calibrate();
    int rc = 0;
    for (size_t i = 0; i < sizeof blk_phases / sizeof blk_phases[0]; i++) {
        int is_cpu = i >= 2, is_sliced = i == 3;
        if ((is_cpu && (cpu_too || (offload_only && !is_sliced))) || (!is_cpu && sleep_too))
            rc |= blk_run_phase(&blk_phases[i]);
    }
    return rc ? 1 : 0;
}
