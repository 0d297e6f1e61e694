/* fetch-pool — download many URLs at once with a pool of N worker threads
 * started once (what Python's concurrent.futures.ThreadPoolExecutor does).
 *
 * The main thread starts N threads (--workers, never more than -c) and waits
 * for them. Each takes the next job number under the mutex, fetches it on a
 * plain blocking socket — the kernel switches to another thread while it
 * waits — counts its result under the same mutex, and takes the next, until
 * none is left. Compare with ../threads/fetch.c: there a thread is created
 * per request; here N are created once, and a request costs no
 * pthread_create(). With --keepalive each worker keeps its connection
 * between the jobs it takes. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static const char about[] =
    "Fetch every URL with a pool of N threads started once (--workers, at most -c);\n"
    "each takes the next URL number under a mutex, fetches it and counts its result.\n"
    "More URLs than workers wait their turn. With --keepalive each worker reuses its own\n"
    "connection. Prints a summary; exit 0 only if every fetch succeeded.";

enum {
    POOL_WORKERS = 64,          /* --workers by default */
    POOL_STACK = 256 * 1024,    /* per thread; a fetch needs ~20 KiB of it */
};

/* What every worker shares. */
struct pool_state {
    struct fetch_run *run; /* the list and the totals (guarded by lock) */
    pthread_mutex_t lock;  /* guards run's totals and next */
    size_t next;           /* the next job to take */
};

/* Take the next job number: ours alone. SIZE_MAX when none is left. */
static size_t pool_take(struct pool_state *s)
{
    pthread_mutex_lock(&s->lock);
    size_t job = s->next < s->run->njobs ? s->next++ : SIZE_MAX;
    pthread_mutex_unlock(&s->lock);
    return job;
}

static void *pool_worker(void *arg)
{
    struct pool_state *s = arg;
    struct fetch_conn conn;
    size_t job;
    fetch_conn_init(&conn);
    while ((job = pool_take(s)) != SIZE_MAX) {
        struct fetch_result res;
        fetch_one(s->run, &fetch_io_blocking, job, s->run->opt.keepalive ? &conn : NULL, &res);
        pthread_mutex_lock(&s->lock);
        fetch_record(s->run, &res);
        pthread_mutex_unlock(&s->lock);
    }
    fetch_conn_close(&fetch_io_blocking, &conn);
    return NULL;
}

int main(int argc, char **argv)
{
    struct fetch_run run;
    struct pool_state s = {.run = &run};
    pthread_attr_t attr;
    int r = fetch_setup_pool(&run, "fetch-pool", about, POOL_WORKERS, argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    pthread_t *tids = calloc((size_t)run.inflight, sizeof *tids);
    if (!tids) {
        fprintf(stderr, "fetch-pool: out of memory\n");
        return 1;
    }
    pthread_mutex_init(&s.lock, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, POOL_STACK);
    long n = 0;
    for (; n < run.inflight; n++) {
        int err = pthread_create(&tids[n], &attr, pool_worker, &s);
        if (err != 0) { /* out of threads: the workers we have take every job */
            fprintf(stderr, "fetch-pool: pthread_create: %s; %ld workers instead of %ld\n",
                    strerror(err), n, run.inflight);
            break;
        }
    }
    if (n == 0) /* nobody to take the jobs: this thread takes them all */
        pool_worker(&s);
    for (long i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_attr_destroy(&attr);
    free(tids);
    return fetch_finish(&run);
}
