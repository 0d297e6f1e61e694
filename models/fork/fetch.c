/* fetch-fork — download many URLs at once, one process per request.
 *
 * The parent keeps up to C children alive. Each child fetches one URL on a
 * plain blocking socket, writes its result (a small fixed-size struct) into a
 * pipe shared by all children, and exits. The parent reads results from the
 * pipe, reaps each child with waitpid() — so no zombie outlives its result —
 * and starts the next one. Processes share no memory: the only way back to
 * the parent is the pipe. A write of at most PIPE_BUF bytes into a pipe is
 * atomic, so results from many children never interleave.
 *
 * With --keepalive a process per request cannot reuse anything, so the model
 * changes shape: C long-lived workers each keep one connection open and pull
 * job numbers from a second pipe until it runs dry.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"

static const char about[] =
    "Fetch every URL, a worker process per request in flight (at most C at once); each\n"
    "child sends its result to the parent over a pipe and exits; the parent reaps it.\n"
    "With --keepalive: C long-lived worker processes, each reusing its own connection,\n"
    "pull URL numbers from a pipe. Prints a summary; exit 0 only if every fetch succeeded.";

/* What a child writes up the results pipe. */
struct fork_msg {
    int32_t slot;             /* which child slot it comes from (per-request mode) */
    struct fetch_result res;  /* the outcome */
};

_Static_assert(sizeof(struct fork_msg) <= PIPE_BUF, "a result must fit one atomic pipe write");

/* A child process the parent is waiting for. */
struct fork_slot {
    pid_t pid;      /* the child, or 0 if the slot is free */
    uint32_t job;   /* the job it fetches (per-request mode) */
    int reported;   /* its result has arrived (per-request mode) */
};

/* The parent's state. */
struct fork_state {
    struct fetch_run *run;    /* the list and the totals */
    struct fork_slot *slots;  /* run->inflight of them */
    int results[2];           /* children write results to [1], parent reads [0] */
    int jobs[2];              /* --keepalive: parent writes job numbers to [1], workers read [0] */
    size_t next;              /* next job to hand out */
    size_t done;              /* results counted */
    long alive;               /* children not yet reaped */
};

/* ---- the children -------------------------------------------------------- */

static void fork_send(int fd, int slot, const struct fetch_result *res)
{
    struct fork_msg msg = {.slot = slot, .res = *res};
    if (write(fd, &msg, sizeof msg) != (ssize_t)sizeof msg)
        _exit(3); /* the parent counts our job as failed when it reaps us */
}

/* Per-request child: one fetch, one result, exit. */
static void fork_child_one(struct fork_state *s, int slot, size_t job)
{
    struct fetch_result res;
    close(s->results[0]);
    fetch_one(s->run, &fetch_io_blocking, job, NULL, &res);
    fork_send(s->results[1], slot, &res);
    _exit(0);
}

/* Keep-alive worker: read job numbers until the pipe is empty and closed. */
static void fork_worker(struct fork_state *s, int slot)
{
    struct fetch_conn conn;
    uint32_t job;
    close(s->results[0]);
    close(s->jobs[1]);
    fetch_conn_init(&conn);
    /* 4-byte writes and 4-byte reads: each read takes exactly one job number */
    while (read(s->jobs[0], &job, sizeof job) == (ssize_t)sizeof job) {
        struct fetch_result res;
        fetch_one(s->run, &fetch_io_blocking, job, &conn, &res);
        fork_send(s->results[1], slot, &res);
    }
    fetch_conn_close(&fetch_io_blocking, &conn);
    _exit(0);
}

/* ---- the parent ---------------------------------------------------------- */

static int fork_start(struct fork_state *s, int slot, size_t job)
{
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (s->run->opt.keepalive)
            fork_worker(s, slot);
        fork_child_one(s, slot, job);
    }
    s->slots[slot] = (struct fork_slot){.pid = pid, .job = (uint32_t)job};
    s->alive++;
    return 0;
}

/* A child that died before reporting: count its job as failed. */
static void fork_lost(struct fork_state *s, uint32_t job, int status)
{
    struct fetch_result res = {.job = job};
    if (WIFSIGNALED(status))
        snprintf(res.reason, sizeof res.reason, "worker killed by signal %d", WTERMSIG(status));
    else
        snprintf(res.reason, sizeof res.reason, "worker exited %d without a result",
                 WEXITSTATUS(status));
    fetch_record(s->run, &res);
    s->done++;
}

/* Read every result waiting in the pipe (the read end is non-blocking). */
static void fork_drain(struct fork_state *s)
{
    struct fork_msg msg;
    while (read(s->results[0], &msg, sizeof msg) == (ssize_t)sizeof msg) {
        fetch_record(s->run, &msg.res);
        s->done++;
        if (!s->run->opt.keepalive && msg.slot >= 0 && msg.slot < s->run->inflight)
            s->slots[msg.slot].reported = 1;
    }
}

/* Reap children that have exited; block for the ones that reported already
 * (they exit right after writing). Frees their slots. */
static void fork_reap(struct fork_state *s, int block_reported)
{
    for (long i = 0; i < s->run->inflight; i++) {
        struct fork_slot *c = &s->slots[i];
        int status;
        if (c->pid == 0)
            continue;
        int block = block_reported && c->reported;
        if (waitpid(c->pid, &status, block ? 0 : WNOHANG) != c->pid)
            continue;
        if (!s->run->opt.keepalive && !c->reported) {
            fork_drain(s); /* its result may have arrived meanwhile */
            if (!c->reported)
                fork_lost(s, c->job, status);
        }
        c->pid = 0;
        s->alive--;
    }
}

/* Start children into free slots while jobs remain. */
static void fork_fill(struct fork_state *s)
{
    for (long i = 0; i < s->run->inflight && s->next < s->run->njobs; i++) {
        if (s->slots[i].pid != 0)
            continue;
        if (fork_start(s, (int)i, s->next) < 0) {
            if (s->alive == 0) { /* nothing will ever free a slot: give up on this job */
                struct fetch_result res = {.job = (uint32_t)s->next};
                snprintf(res.reason, sizeof res.reason, "fork: %s", strerror(errno));
                fetch_record(s->run, &res);
                s->done++;
                s->next++;
            }
            return; /* retry after some child exits */
        }
        s->next++;
    }
}

/* One request, one process. */
static void fork_per_request(struct fork_state *s)
{
    while (s->done < s->run->njobs || s->alive > 0) {
        fork_fill(s);
        struct pollfd p = {.fd = s->results[0], .events = POLLIN};
        poll(&p, 1, 50); /* a result, or a moment to notice a child that died silently */
        fork_drain(s);
        fork_reap(s, 1);
    }
}

/* Hand out job numbers without blocking: the pipe may hold fewer than all. */
static void fork_feed_jobs(struct fork_state *s)
{
    while (s->next < s->run->njobs) {
        uint32_t job = (uint32_t)s->next;
        if (write(s->jobs[1], &job, sizeof job) != (ssize_t)sizeof job)
            return; /* full: try again after the workers take some */
        s->next++;
    }
    close(s->jobs[1]); /* no more jobs: workers see end of file and exit */
    s->jobs[1] = -1;
}

/* --keepalive: C workers, each with one connection, pull from the jobs pipe. */
static void fork_keepalive(struct fork_state *s)
{
    if (pipe2(s->jobs, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: pipe: %s\n", s->run->prog, strerror(errno));
        return;
    }
    for (long i = 0; i < s->run->inflight; i++)
        if (fork_start(s, (int)i, 0) < 0 && s->alive == 0) {
            fprintf(stderr, "%s: fork: %s\n", s->run->prog, strerror(errno));
            return;
        }
    close(s->jobs[0]);
    fcntl(s->jobs[1], F_SETFL, O_NONBLOCK);
    while (s->alive > 0) {
        if (s->jobs[1] >= 0)
            fork_feed_jobs(s);
        struct pollfd p[2] = {{.fd = s->results[0], .events = POLLIN},
                              {.fd = s->jobs[1], .events = POLLOUT}};
        poll(p, s->jobs[1] >= 0 ? 2 : 1, 50);
        fork_drain(s);
        fork_reap(s, 0);
    }
    fork_drain(s);
    if (s->jobs[1] >= 0)
        close(s->jobs[1]);
    /* jobs a dead worker took with it are reported by fetch_finish as missing */
}

int main(int argc, char **argv)
{
    struct fetch_run run;
    struct fork_state s = {.run = &run, .results = {-1, -1}, .jobs = {-1, -1}};
    int r = fetch_setup(&run, "fetch-fork", about, argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    s.slots = calloc((size_t)run.inflight, sizeof *s.slots);
    if (!s.slots || pipe2(s.results, O_CLOEXEC) < 0) {
        fprintf(stderr, "fetch-fork: out of memory or descriptors\n");
        return 1;
    }
    fcntl(s.results[0], F_SETFL, O_NONBLOCK);
    if (run.opt.keepalive)
        fork_keepalive(&s);
    else
        fork_per_request(&s);
    close(s.results[0]);
    close(s.results[1]);
    free(s.slots);
    return fetch_finish(&run);
}
