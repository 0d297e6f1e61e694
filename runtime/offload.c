/* offload.c — a small pool of worker threads for the loop's CPU work; see
 * offload.h for what it promises and why the data is copied.
 *
 * One job per call: the caller's coroutine holds one reference, the worker
 * that takes it from the queue the other. The eventfd has two descriptors:
 * the waiter's (registered with the loop by co_wait_fd, closed by co_close)
 * and the worker's (a dup, written once and closed by the worker). Neither
 * side ever closes the other's, so a descriptor number reused by the loop
 * for a new socket can never receive the worker's write. */
#include "offload.h"
#include "work.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
    int refs;                  /* holders: 2 (waiter + worker) at first; the last one frees it */
    int abandoned;             /* set by the waiter when it stops waiting: the result is nobody's */
    int done;                  /* set by the worker once fn returned (release: data is complete) */
    int wfd;                   /* the worker's descriptor of the eventfd */
    void (*fn)(void *data);    /* the work */
    struct job *next;          /* the queue */
    size_t size;               /* bytes in data */
    max_align_t data[];        /* the copy fn works on */
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static struct job *queue_head, *queue_tail; /* jobs not taken yet, first in first out */
static int pool_workers;                    /* threads started; 0 before the first use */
static long st_ran, st_skipped, st_delivered, st_dropped; /* co_offload_stats, atomically updated */

static void job_put(struct job *j)
{
    if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(j);
}

static struct job *queue_pop(void)
{
    pthread_mutex_lock(&pool_mu);
    while (!queue_head)
        pthread_cond_wait(&pool_cv, &pool_mu);
    struct job *j = queue_head;
    queue_head = j->next;
    if (!queue_head)
        queue_tail = NULL;
    pthread_mutex_unlock(&pool_mu);
    return j;
}

static void queue_push(struct job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&pool_mu);
    if (queue_tail)
        queue_tail->next = j;
    else
        queue_head = j;
    queue_tail = j;
    pthread_cond_signal(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
}

/* A worker: take a job, run it unless its waiter has gone already, tell the
 * waiter through the eventfd, let go of the job. Forever. */
static void *worker(void *arg)
{
    for (;;) {
        struct job *j = queue_pop();
        if (__atomic_load_n(&j->abandoned, __ATOMIC_ACQUIRE)) {
            __atomic_add_fetch(&st_skipped, 1, __ATOMIC_RELAXED); /* nobody waits: skip the work */
        } else {
            j->fn(j->data);
            __atomic_add_fetch(&st_ran, 1, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        while (write(j->wfd, &one, sizeof one) < 0 && errno == EINTR) {
        }
        close(j->wfd);
        job_put(j);
    }
    return NULL;
}

int co_offload_init(int workers)
{
    pthread_mutex_lock(&pool_mu);
    int rc = 0;
    if (pool_workers == 0) {
        if (workers <= 0) {
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            workers = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
        }
        /* The workers take no signals: they stay with the loop's thread
         * (echo-loop waits for SIGTERM on a signalfd there). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        for (int i = 0; i < workers; i++) {
            pthread_t t;
            int err = pthread_create(&t, &at, worker, NULL);
            if (err) {
                if (pool_workers == 0) /* none at all: fail; some: make do with them */
                    errno = err, rc = -1;
                break;
            }
            pool_workers++;
        }
        pthread_attr_destroy(&at);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&pool_mu);
    return rc;
}

/* A job holding a copy of data, and the eventfd's two descriptors. */
static struct job *job_new(void (*fn)(void *), const void *data, size_t size, int *efd)
{
    struct job *j = malloc(sizeof *j + size);
    if (!j)
        return NULL;
    *efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    j->wfd = *efd < 0 ? -1 : fcntl(*efd, F_DUPFD_CLOEXEC, 0);
    if (j->wfd < 0) {
        int err = errno;
        if (*efd >= 0)
            close(*efd);
        free(j);
        errno = err;
        return NULL;
    }
    j->refs = 2;
    j->abandoned = 0;
    j->done = 0;
    j->fn = fn;
    j->size = size;
    memcpy(j->data, data, size);
    return j;
}

int co_offload(void (*fn)(void *data), void *data, size_t size, int64_t deadline)
{
    if (size == 0 || size > CO_OFFLOAD_MAX_DATA)
        return errno = EINVAL, -1;
    if (co_offload_init(0) < 0)
        return -1;
    int efd;
    struct job *j = job_new(fn, data, size, &efd);
    if (!j)
        return -1;
    queue_push(j);
    /* An ordinary wait of the runtime: other coroutines run meanwhile. */
    int r = co_wait_fd(efd, CO_READ, deadline);
    int err = errno;
    if (r == 0 && __atomic_load_n(&j->done, __ATOMIC_ACQUIRE)) {
        memcpy(data, j->data, size); /* the worker is done with it: safe to read */
        __atomic_add_fetch(&st_delivered, 1, __ATOMIC_RELAXED);
    } else {
        if (r == 0) /* readable but not done: cannot happen; fail rather than read a half result */
            err = EIO, r = -1;
        __atomic_store_n(&j->abandoned, 1, __ATOMIC_RELEASE);
        __atomic_add_fetch(&st_dropped, 1, __ATOMIC_RELAXED);
    }
    co_close(efd); /* the worker writes through its own descriptor: never this number */
    job_put(j);
    errno = err;
    return r;
}

/* --- echo-loop --offload: --work on a worker ---------------------------------------- */

struct work_job {
    long units;              /* work_do's units */
    size_t len;              /* the message's length (work_do mixes it in) */
    unsigned char head[8];   /* its first bytes: all of it work_do reads */
};

static void work_run(void *data)
{
    struct work_job *w = data;
    work_do(w->units, w->head, w->len);
}

int co_offload_work(long units, const void *msg, size_t len, int64_t deadline)
{
    if (units <= 0)
        return 0;
    struct work_job w = {.units = units, .len = len};
    memcpy(w.head, msg, len < sizeof w.head ? len : sizeof w.head);
    if (co_offload(work_run, &w, sizeof w, deadline) == 0)
        return 0;
    if (errno != ENOMEM && errno != EMFILE && errno != ENFILE && errno != EAGAIN)
        return -1;
    work_do(units, msg, len); /* no job to be had: the work is still owed, do it here */
    return 0;
}

void co_offload_stats(struct co_offload_stats *s)
{
    s->ran = __atomic_load_n(&st_ran, __ATOMIC_RELAXED);
    s->skipped = __atomic_load_n(&st_skipped, __ATOMIC_RELAXED);
    s->delivered = __atomic_load_n(&st_delivered, __ATOMIC_RELAXED);
    s->dropped = __atomic_load_n(&st_dropped, __ATOMIC_RELAXED);
    pthread_mutex_lock(&pool_mu);
    s->workers = pool_workers;
    pthread_mutex_unlock(&pool_mu);
}
