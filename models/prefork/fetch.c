/* fetch-prefork — download many URLs at once with a pool of N worker
 * processes forked at start (what Python's multiprocessing.Pool does).
 *
 * The parent forks N workers (--workers, never more than -c) before any
 * fetching starts. Each worker takes the next job number from a counter the
 * processes share — one page mapped MAP_SHARED before fork(), the only memory
 * they have in common — with an atomic add, so no two take the same job and
 * no lock is needed. It fetches on a plain blocking socket and sends its
 * result, a small fixed-size struct, up a pipe to the parent, as the workers
 * of ../fork/fetch.c do; when the counter runs past the last job it exits.
 * The parent reads the results and reaps the workers. Compare with
 * ../fork/fetch.c: there a process is forked per request; here N are forked
 * once, and a request costs no fork(). With --keepalive each worker keeps
 * its connection between the jobs it takes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"

static const char about[] =
    "Fetch every URL with a pool of N worker processes forked at start (--workers,\n"
    "at most -c); each takes the next URL number from a counter in shared memory and\n"
    "sends its result to the parent over a pipe. More URLs than workers wait their\n"
    "turn. With --keepalive each worker reuses its own connection. Prints a summary;\n"
    "exit 0 only if every fetch succeeded.";

enum { PREFORK_WORKERS = 64 }; /* --workers by default */

_Static_assert(sizeof(struct fetch_result) <= PIPE_BUF, "a result must fit one atomic pipe write");

/* The parent's state. */
struct prefork_state {
    struct fetch_run *run;    /* the list and the totals */
    atomic_size_t *next;      /* the next job to take: in memory shared with the workers */
    pid_t *pids;              /* run->inflight workers; 0 once reaped */
    int results[2];           /* workers write results to [1], the parent reads [0] */
    long alive;               /* workers not yet reaped */
};

/* ---- a worker ------------------------------------------------------------- */

static void prefork_worker(struct prefork_state *s)
{
    struct fetch_conn conn;
    close(s->results[0]);
    fetch_conn_init(&conn);
    for (;;) {
        size_t job = atomic_fetch_add(s->next, 1); /* take a number: ours alone */
        if (job >= s->run->njobs)
            break;
        struct fetch_result res;
        fetch_one(s->run, &fetch_io_blocking, job, s->run->opt.keepalive ? &conn : NULL, &res);
        if (write(s->results[1], &res, sizeof res) != (ssize_t)sizeof res)
            _exit(3); /* the parent reports our job as missing */
    }
    fetch_conn_close(&fetch_io_blocking, &conn);
    _exit(0);
}

/* ---- the parent ----------------------------------------------------------- */

/* Read every result waiting in the pipe (the read end is non-blocking). */
static void prefork_drain(struct prefork_state *s)
{
    struct fetch_result res;
    while (read(s->results[0], &res, sizeof res) == (ssize_t)sizeof res)
        fetch_record(s->run, &res);
}

/* Reap the workers that have exited. */
static void prefork_reap(struct prefork_state *s)
{
    for (long i = 0; i < s->run->inflight; i++) {
        if (s->pids[i] != 0 && waitpid(s->pids[i], NULL, WNOHANG) == s->pids[i]) {
            s->pids[i] = 0;
            s->alive--;
        }
    }
}

/* Fork the pool: as many workers as we can, at most run->inflight. */
static void prefork_start(struct prefork_state *s)
{
    fflush(NULL); /* nothing buffered may be written twice */
    for (long i = 0; i < s->run->inflight; i++) {
        pid_t pid = fork();
        if (pid == 0)
            prefork_worker(s);
        if (pid < 0) { /* out of processes: the workers we have take every job */
            fprintf(stderr, "%s: fork: %s; %ld workers instead of %ld\n", s->run->prog,
                    strerror(errno), i, s->run->inflight);
            return;
        }
        s->pids[i] = pid;
        s->alive++;
    }
}

int main(int argc, char **argv)
{
    struct fetch_run run;
    struct prefork_state s = {.run = &run, .results = {-1, -1}};
    int r = fetch_setup_pool(&run, "fetch-prefork", about, PREFORK_WORKERS, argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    s.pids = calloc((size_t)run.inflight, sizeof *s.pids);
    s.next = mmap(NULL, sizeof *s.next, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!s.pids || s.next == MAP_FAILED || pipe2(s.results, O_CLOEXEC) < 0) {
        fprintf(stderr, "fetch-prefork: out of memory or descriptors\n");
        return 1;
    }
    atomic_init(s.next, 0);
    fcntl(s.results[0], F_SETFL, O_NONBLOCK);
    prefork_start(&s);
    while (s.alive > 0) {
        struct pollfd p = {.fd = s.results[0], .events = POLLIN};
        poll(&p, 1, 50); /* a result, or a moment to notice a worker that died */
        prefork_drain(&s);
        prefork_reap(&s);
    }
    prefork_drain(&s); /* what the last workers wrote before they exited */
    /* jobs a dead worker took with it are reported by fetch_finish as missing */
    close(s.results[0]);
    close(s.results[1]);
    munmap(s.next, sizeof *s.next);
    free(s.pids);
    return fetch_finish(&run);
}
