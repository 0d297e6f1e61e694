/* fetch-loops — download many URLs at once with one coroutine loop per core:
 * N threads, each running fetch-loop's code on its own share of the list.
 *
 * The list is dealt out like cards: job j goes to loop j mod N, and the C
 * requests in flight are dealt the same way (loop i may have C/N in flight,
 * the first C mod N loops one more), so at most C are in flight in all, as
 * in every fetcher. Then each loop runs exactly what fetch-loop runs —
 * loop_one(), loop_worker() and loop_main() are ../loop/fetch.c's, included
 * as they are — over a runtime of its own, with totals of its own: `run`, `done`
 * and `next_job` are per thread (`__thread`), so the loops share nothing
 * while they fetch and need no lock. When every loop is done, main() adds
 * their totals up (counts, latency histograms, failure lines) and prints
 * the one summary.
 *
 * The price of sharing nothing: a loop that finishes its share early stays
 * idle while another still works (nobody steals work). With --loops 1 this
 * is fetch-loop.
 */
#define FETCH_LOOP_NO_MAIN
#include "../loop/fetch.c" /* loop_one(), loop_worker(), loop_main() and their per-thread state */

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "flags.h"

static const char loops_about[] =
    "Fetch every URL with N coroutine loops, one thread each: the URLs and the C requests\n"
    "in flight are dealt out among the loops, and each runs fetch-loop on its share (a\n"
    "coroutine per request; with --keepalive, long-lived coroutines each reusing its own\n"
    "connection). The loops share nothing until the end, when their totals are added up.\n"
    "Prints a summary; exit 0 only if every fetch succeeded.";

/* ---- N loops ---------------------------------------------------------------- */

/* One loop's share, prepared by main() and handed back when the loop ends. */
struct share {
    struct fetch_run run; /* its jobs, its in-flight limit, its totals */
    pthread_t tid;        /* the thread running it */
    int threaded;         /* tid is a thread to join (else main runs the share) */
};

/* A loop: copy its share into this thread's `run`, fetch it as fetch-loop
 * does, copy the totals back. If the runtime cannot start, the share's
 * fetches report no result, and the summary says so (exit 1). */
static void *share_run(void *arg)
{
    struct share *s = arg;
    run = s->run;
    next_job = 0;
    done = NULL;
    if (co_init(0) < 0 || !(done = co_chan_new((size_t)run.inflight)) ||
        co_go(loop_main, NULL) < 0 || co_run() < 0)
        fprintf(stderr, "%s: a loop's runtime failed: %s\n", run.prog, strerror(errno));
    if (done)
        co_chan_free(done);
    s->run = run;
    return NULL;
}

/* Deal the jobs and the in-flight limit of `all` out to n shares: share i
 * gets jobs i, i+n, i+2n... and may have as many in flight as there are
 * numbers below all->inflight in that series. The URL list and the flags
 * stay in `all`, read by every loop and written by none; the totals start at
 * zero in each share. Returns 0, or -1 if out of memory. */
static int deal(const struct fetch_run *all, struct share *sh, long n)
{
    for (long i = 0; i < n; i++) {
        struct fetch_run *r = &sh[i].run;
        *r = *all;
        r->njobs = (all->njobs - (size_t)i + (size_t)n - 1) / (size_t)n;
        r->inflight = (all->inflight - i + n - 1) / n;
        r->ok = r->failed = r->bytes = 0;
        r->nfailures = 0;
        r->jobs = malloc(r->njobs * sizeof *r->jobs);
        r->hist = hist_new();
        r->failures = calloc(FETCH_LIST_MAX, sizeof *r->failures);
        if (!r->jobs || !r->hist || !r->failures)
            return -1;
        for (size_t k = 0; k < r->njobs; k++)
            r->jobs[k] = all->jobs[(size_t)i + k * (size_t)n];
    }
    return 0;
}

/* Add one share's totals to `all` and free what was its own. The first
 * FETCH_LIST_MAX failure lines of all the loops are kept, the rest counted. */
static void gather(struct fetch_run *all, struct share *s)
{
    struct fetch_run *r = &s->run;
    all->ok += r->ok;
    all->failed += r->failed;
    all->bytes += r->bytes;
    hist_merge(all->hist, r->hist);
    for (size_t k = 0; k < r->nfailures; k++) {
        if (all->nfailures < FETCH_LIST_MAX)
            all->failures[all->nfailures++] = r->failures[k];
        else
            free(r->failures[k]);
    }
    hist_free(r->hist);
    free(r->failures);
    free(r->jobs);
}

/* The default --loops: one per online CPU. */
static long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : n;
}

int main(int argc, char **argv)
{
    struct fetch_run all;
    long nloops = online_cpus();
    const struct flag mine[] = {
        {"loops", 0, FLAG_INT, &nloops, 1, 1024, "N",
         "event loops, one thread each, sharing out the URLs and -c; one per online CPU"},
        {0},
    };
    int r = fetch_setup_extra(&all, "fetch-loops", loops_about, mine, argc, argv);
    if (r < 0)
        return fetch_usage_error(&all, r);
    long n = nloops < all.inflight ? nloops : all.inflight; /* each loop needs a request in flight */
    struct share *sh = calloc((size_t)n, sizeof *sh);
    if (!sh || deal(&all, sh, n) < 0) {
        fprintf(stderr, "fetch-loops: out of memory\n");
        return 1;
    }
    /* Loop 0 runs on this thread, the others on one each; a loop whose
     * thread cannot start runs here too, after loop 0. */
    for (long i = 1; i < n; i++)
        sh[i].threaded = pthread_create(&sh[i].tid, NULL, share_run, &sh[i]) == 0;
    for (long i = 0; i < n; i++)
        if (!sh[i].threaded)
            share_run(&sh[i]);
    for (long i = 0; i < n; i++) {
        if (sh[i].threaded)
            pthread_join(sh[i].tid, NULL);
        gather(&all, &sh[i]);
    }
    free(sh);
    return fetch_finish(&all);
}
