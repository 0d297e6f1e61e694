/* fetch-threads — download many URLs at once, one thread per request.
 *
 * The main thread starts a thread for each URL, but never more than C at
 * once: before starting one it waits on a condition variable until a slot is
 * free. Each thread fetches its URL on a plain blocking socket — the kernel
 * switches to another thread while it waits — then takes the mutex, counts
 * its result in the shared totals and histogram, frees its slot and ends.
 * All threads share one address space: the mutex is the price of that.
 *
 * We chose "a thread per request" over "C worker threads pulling from a
 * counter" because it is the model the question is about: the thread is the
 * unit of concurrency, created and destroyed per task, like a process in
 * fetch-fork and a coroutine in fetch-loop. With --keepalive a connection
 * must outlive a request, so the model becomes C long-lived worker threads,
 * each reusing its connection, taking the next job number under the mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

static const char about[] =
    "Fetch every URL, a thread per request in flight (at most C at once); each thread\n"
    "counts its result under a mutex and ends. With --keepalive: C long-lived worker\n"
    "threads, each reusing its own connection, take URL numbers under the mutex.\n"
    "Prints a summary; exit 0 only if every fetch succeeded.";

enum {
    THREADS_STACK = 256 * 1024, /* per thread; a fetch needs ~20 KiB of it */
    THREADS_IDLE_TRIES = 100,   /* pthread_create retries, 1 ms apart, when no thread runs */
};

/* What every thread shares. */
struct threads_state {
    struct fetch_run *run;   /* the list and the totals (guarded by lock) */
    pthread_mutex_t lock;    /* guards run's totals, running and next */
    pthread_cond_t freed;    /* signalled when a thread ends */
    long running;            /* threads started and not yet finished */
    size_t next;             /* --keepalive: next job to take */
};

/* What one per-request thread is given. */
struct threads_task {
    struct threads_state *s; /* shared state */
    size_t job;              /* the one job it fetches */
};

static void threads_record(struct threads_state *s, const struct fetch_result *res)
{
    pthread_mutex_lock(&s->lock);
    fetch_record(s->run, res);
    pthread_mutex_unlock(&s->lock);
}

/* The thread's last act: give its slot back and wake the main thread. */
static void threads_exit(struct threads_state *s)
{
    pthread_mutex_lock(&s->lock);
    s->running--;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

/* One request: fetch, count, end. */
static void *threads_one(void *arg)
{
    struct threads_task *t = arg;
    struct threads_state *s = t->s;
    struct fetch_result res;
    fetch_one(s->run, &fetch_io_blocking, t->job, NULL, &res);
    free(t);
    threads_record(s, &res);
    threads_exit(s);
    return NULL;
}

/* --keepalive: one connection, many requests. */
static void *threads_worker(void *arg)
{
    struct threads_state *s = arg;
    struct fetch_conn conn;
    fetch_conn_init(&conn);
    for (;;) {
        struct fetch_result res;
        pthread_mutex_lock(&s->lock);
        size_t job = s->next < s->run->njobs ? s->next++ : SIZE_MAX;
        pthread_mutex_unlock(&s->lock);
        if (job == SIZE_MAX)
            break;
        fetch_one(s->run, &fetch_io_blocking, job, &conn, &res);
        threads_record(s, &res);
    }
    fetch_conn_close(&fetch_io_blocking, &conn);
    threads_exit(s);
    return NULL;
}

/* Start a detached thread. When the system refuses one (EAGAIN: a thread
 * or memory limit), a thread that is running will end and give its
 * resources back: wait for that and try again. Only when nothing runs —
 * after a short grace, since the last thread may still be unwinding — does
 * the fetch fail (counted as failed if `job` names one). A keep-alive worker
 * (once_busy) is not waited for: the workers already running take its jobs. */
static int threads_start(struct threads_state *s, pthread_attr_t *attr, void *(*fn)(void *),
                         void *arg, size_t job, int once_busy)
{
    pthread_t tid;
    int err;
    for (int idle_tries = 0;;) {
        pthread_mutex_lock(&s->lock);
        s->running++;
        pthread_mutex_unlock(&s->lock);
        err = pthread_create(&tid, attr, fn, arg);
        if (err == 0)
            return 0;
        pthread_mutex_lock(&s->lock);
        long others = --s->running;
        if (others > 0 && once_busy) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        while (s->running >= others && others > 0)
            pthread_cond_wait(&s->freed, &s->lock); /* one of them ends */
        pthread_mutex_unlock(&s->lock);
        if (others == 0 && ++idle_tries > THREADS_IDLE_TRIES)
            break;
        if (others == 0)
            usleep(1000);
    }
    struct fetch_result res = {.job = (uint32_t)job};
    snprintf(res.reason, sizeof res.reason, "pthread_create: %s", strerror(err));
    if (job != SIZE_MAX)
        threads_record(s, &res);
    return -1;
}

/* Wait until fewer than `limit` threads run. */
static void threads_wait_below(struct threads_state *s, long limit)
{
    pthread_mutex_lock(&s->lock);
    while (s->running >= limit)
        pthread_cond_wait(&s->freed, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

static void threads_per_request(struct threads_state *s, pthread_attr_t *attr)
{
    for (size_t job = 0; job < s->run->njobs; job++) {
        threads_wait_below(s, s->run->inflight);
        struct threads_task *t = malloc(sizeof *t);
        if (!t) {
            struct fetch_result res = {.job = (uint32_t)job};
            snprintf(res.reason, sizeof res.reason, "out of memory");
            threads_record(s, &res);
            continue;
        }
        *t = (struct threads_task){.s = s, .job = job};
        if (threads_start(s, attr, threads_one, t, job, 0) < 0)
            free(t);
    }
}

static void threads_keepalive(struct threads_state *s, pthread_attr_t *attr)
{
    for (long i = 0; i < s->run->inflight; i++)
        if (threads_start(s, attr, threads_worker, s, SIZE_MAX, 1) < 0)
            break; /* the workers already running take every job */
}

int main(int argc, char **argv)
{
    struct fetch_run run;
    struct threads_state s = {.run = &run};
    pthread_attr_t attr;
    int r = fetch_setup(&run, "fetch-threads", about, argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.freed, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREADS_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (run.opt.keepalive)
        threads_keepalive(&s, &attr);
    else
        threads_per_request(&s, &attr);
    threads_wait_below(&s, 1); /* every thread has counted its result */
    pthread_attr_destroy(&attr);
    return fetch_finish(&run);
}
