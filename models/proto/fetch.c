/* fetch-proto — download many URLs at once with C stackless tasks, all on one
 * thread over epoll.
 *
 * The other fetchers run fetch_one() (../common/fetch.c), written as if it
 * could block: a thread blocks, a coroutine switches stacks. A stackless task
 * can do neither — when it waits, it returns to the loop and its frame is
 * gone — so fetching one URL is written again here as a protothread, worker(),
 * around the same incremental HTTP codec (../common/http.h). Set its lines
 * beside fetch_exchange() in ../common/fetch.c: every variable that lives
 * across a wait there (the parser, how much of the request went out, the
 * attempt number, the start time) is a field of struct worker here.
 *
 * C tasks (C = -c) each take the next URL number from a shared counter (no
 * lock: one task runs at a time) until none is left. Without --keepalive each
 * request has a connection of its own; with it, a task keeps its connection
 * for the next request when the response allows. */
#include "fetch.h"
#include "net.h"
#include "pattern.h"
#include "tasks.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char about[] =
    "Fetch every URL with C stackless tasks (at most C requests in flight), all on one\n"
    "thread over epoll; each task takes URL numbers from a shared counter, one\n"
    "connection per request, or with --keepalive one connection per task, reused.\n"
    "Prints a summary; exit 0 only if every fetch succeeded.";

enum { REQ_MAX = HTTP_PATH_MAX + 256, READ_BUF = 16384 };

static struct fetch_run run; /* the list and the totals: one thread, no lock */
static size_t next_job;      /* the next URL number to take */
static char req[REQ_MAX];    /* the request being written: rebuilt from the URL after every wait */
static char rbuf[READ_BUF];  /* the one read buffer every task shares: fed to the parser at once */

/* What one task keeps across its waits. */
struct worker {
    struct task task;                 /* the runtime's part: saved line, socket (task.fd), deadline */
    const struct fetch_target *to;    /* the target the socket is connected to */
    const struct fetch_target *t;     /* what this request fetches */
    struct fetch_result res;          /* its outcome, counted at the end */
    long long start_ns;               /* when it began, for its latency */
    int attempt;                      /* 0, or 1 when retrying after a stale kept-alive connection */
    int reused;                       /* the socket carried an earlier request */
    int len;                          /* the request's length */
    size_t sent;                      /* request bytes written so far */
    struct fetch_check check;         /* what the body is checked against, and how it failed */
    struct http_resp resp;            /* the parser: its 4 KiB line buffer is most of the task */
};

/* ---- the small parts of a fetch ----------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->res.reason, sizeof w->res.reason, fmt, ap);
    va_end(ap);
    w->res.ok = 0;
}

/* Close the task's socket, if any (closing also takes it out of epoll). */
static void hang_up(struct worker *w)
{
    if (w->task.fd >= 0)
        close(w->task.fd);
    w->task.fd = -1;
    w->to = NULL;
}

/* Take job number `job`: reset the outcome, start the clock and the deadline,
 * drop a kept connection that cannot serve it: one connected elsewhere, or
 * one the server closed or sent bytes on that nobody asked for
 * (fetch_idle_clean, a peek that does not wait). */
static void begin(struct worker *w, size_t job)
{
    w->t = &run.targets[run.jobs[job]];
    memset(&w->res, 0, sizeof w->res);
    w->res.job = (uint32_t)job;
    w->start_ns = net_now_ns();
    task_deadline(&w->task, tasks_now() + run.opt.timeout_ms);
    if (w->task.fd >= 0 && memcmp(&w->to->addr, &w->t->addr, sizeof w->t->addr) != 0)
        hang_up(w); /* connected elsewhere */
    if (w->task.fd >= 0 && !fetch_idle_clean(w->task.fd))
        hang_up(w);
}

/* A new socket, connecting (it completes while the task waits to write). */
static int dial(struct worker *w)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if ((connect(fd, (const struct sockaddr *)&w->t->addr, sizeof w->t->addr) < 0 &&
         errno != EINPROGRESS) || task_watch(&w->task, fd) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    w->to = w->t;
    return 0;
}

/* Write more of the request: 1 when all of it is out, 0 to wait (still
 * connecting, or the socket is full), -1 + errno on failure. The request is
 * not kept: it is written again into the shared buffer from the URL. */
static int send_more(struct worker *w)
{
    if (w->task.expired)
        return errno = ETIMEDOUT, -1;
    w->len = http_request(req, sizeof req, &w->t->url, run.opt.keepalive);
    ssize_t n = write(w->task.fd, req + w->sent, (size_t)w->len - w->sent);
    if (task_again(n) || (n < 0 && errno == ENOTCONN))
        return 0;
    if (n < 0)
        return -1;
    w->sent += (size_t)n;
    return w->sent == (size_t)w->len;
}

/* Read what has arrived into the shared buffer, as read(2) does; -1 with
 * ETIMEDOUT once the deadline has passed. */
static ssize_t receive(struct worker *w)
{
    if (w->task.expired)
        return errno = ETIMEDOUT, -1;
    return read(w->task.fd, rbuf, sizeof rbuf);
}

/* ---- one task: fetch URLs until none is left ----------------------------- */

static int worker(struct task *tk)
{
    struct worker *w = (struct worker *)tk;
    ssize_t n; /* locals: set after a wait, used before the next one */
    int r;
    PT_BEGIN(&tk->pt);
    while (next_job < run.njobs) {
        begin(w, next_job++);
        for (w->attempt = 0; w->attempt < 2; w->attempt++) {
            w->reused = tk->fd >= 0;
            if (!w->reused && dial(w) < 0) {
                fetch_fail_errno(&w->res, errno, "connect", run.opt.timeout_ms);
                break;
            }
            if (http_request(req, sizeof req, &w->t->url, run.opt.keepalive) < 0) {
                fail(w, "request too long");
                break;
            }
            w->sent = 0;
            PT_WAIT_UNTIL(&tk->pt, (r = send_more(w)) != 0);
            if (r < 0 && w->reused && (errno == EPIPE || errno == ECONNRESET)) {
                hang_up(w); /* the server closed it while idle: once more, fresh */
                continue;
            }
            if (r < 0) {
                fetch_fail_errno(&w->res, errno, w->reused ? "write" : "connect", run.opt.timeout_ms);
                break;
            }
            http_resp_init(&w->resp);
            w->check = (struct fetch_check){.t = w->t, .resp = &w->resp};
            for (;;) {
                PT_WAIT_UNTIL(&tk->pt, !task_again(n = receive(w)));
                if (n <= 0 && w->reused && w->resp.received == 0 && (n == 0 || errno == ECONNRESET))
                    break; /* stale: retried below */
                if (n < 0) {
                    fetch_fail_errno(&w->res, errno, "read", run.opt.timeout_ms);
                    break;
                }
                r = fetch_take(&w->check, rbuf, n, &w->res);
                if (r != HTTP_MORE)
                    break;
                if (task_tired(tk)) /* a server that never stops sending: let the others run */
                    PT_YIELD(&tk->pt);
            }
            if (w->res.reason[0] == '\0' && !w->res.ok) { /* the stale case above */
                hang_up(w);
                continue;
            }
            if (!w->res.ok || !run.opt.keepalive || !http_resp_reusable(&w->resp))
                hang_up(w);
            break;
        }
        if (w->attempt == 2) /* stale twice */
            fail(w, "connection closed before the response");
        task_deadline(tk, -1);
        w->res.latency_ns = (uint64_t)(net_now_ns() - w->start_ns);
        fetch_record(&run, &w->res);
    }
    hang_up(w);
    PT_END(&tk->pt);
}

int main(int argc, char **argv)
{
    int r = fetch_setup(&run, "fetch-proto", about, argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    struct worker *workers = calloc((size_t)run.inflight, sizeof *workers);
    if (!workers || tasks_init() < 0) {
        fprintf(stderr, "fetch-proto: cannot start: %s\n", strerror(errno));
        return 1;
    }
    for (long i = 0; i < run.inflight; i++)
        if (task_start(&workers[i].task, worker, NULL, -1) < 0) {
            fprintf(stderr, "fetch-proto: cannot start a task: %s\n", strerror(errno));
            return 1;
        }
    if (tasks_run() < 0) {
        fprintf(stderr, "fetch-proto: epoll_wait: %s\n", strerror(errno));
        return 1;
    }
    free(workers);
    return fetch_finish(&run);
}
