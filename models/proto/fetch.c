/* fetch-proto — download many URLs at once with C stackless tasks, all on one
 * thread over epoll.
 *
 * The other fetchers run fetch_one() (../common/fetch.c), written as if it
 * could block: a thread blocks, a coroutine switches stacks. A stackless task
 * can do neither — when it waits, it returns to the loop and its frame is
 * gone — so fetching one URL is written again here as a protothread, fetch(),
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
    int bad;                          /* the body did not match (verify) */
    char why[HTTP_REASON_MAX];        /* which way */
    struct http_resp resp;            /* the parser: its 4 KiB line buffer is most of the task */
};

/* ---- the small parts of a fetch ----------------------------------------- */

static int status_ok(int status) { return status >= 200 && status <= 299; }

__attribute__((format(printf, 2, 3)))
static void fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->res.reason, sizeof w->res.reason, fmt, ap);
    va_end(ap);
    w->res.ok = 0;
}

/* The same words as the other fetchers for a failed system call. */
static void fail_errno(struct worker *w, int err, const char *during)
{
    if (err == ETIMEDOUT)
        fail(w, "timeout after %ld ms", run.opt.timeout_ms);
    else if (err == ECONNREFUSED)
        fail(w, "connection refused");
    else if (err == ECONNRESET)
        fail(w, "connection reset by peer");
    else
        fail(w, "%s: %s", during, strerror(err));
}

/* The parser's body callback: check the bytes against what we expect. */
static int check_body(void *ctx, uint64_t off, const unsigned char *p, size_t n)
{
    struct worker *w = ctx;
    if (!status_ok(w->resp.status))
        return 0; /* an error page: the status is the news, not its bytes */
    if (w->t->expect >= 0 && off + n > (uint64_t)w->t->expect) {
        snprintf(w->why, sizeof w->why, "body longer than the %lld bytes expected",
                 (long long)w->t->expect);
        return w->bad = -1;
    }
    for (size_t i = 0; w->t->verify && i < n; i++)
        if (p[i] != pattern_byte(off + i)) {
            snprintf(w->why, sizeof w->why, "pattern mismatch at byte %llu",
                     (unsigned long long)(off + i));
            return w->bad = -1;
        }
    return 0;
}

/* The complete response: is it what we asked for? */
static void judge(struct worker *w)
{
    w->res.ok = 0;
    if (!status_ok(w->resp.status))
        fail(w, "HTTP status %d", w->resp.status);
    else if (w->t->expect >= 0 && w->resp.body != (uint64_t)w->t->expect)
        fail(w, "truncated body: %llu of %lld bytes", (unsigned long long)w->resp.body,
             (long long)w->t->expect);
    else
        w->res.ok = 1;
}

/* Close the task's socket, if any (closing also takes it out of epoll). */
static void hang_up(struct worker *w)
{
    if (w->task.fd >= 0)
        close(w->task.fd);
    w->task.fd = -1;
    w->to = NULL;
}

/* May the idle kept-alive socket carry the next request? Not if the server
 * closed it or sent bytes nobody asked for. A peek that does not wait. */
static int idle_clean(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Take job number `job`: reset the outcome, start the clock and the deadline,
 * drop a kept connection that cannot serve it. */
static void begin(struct worker *w, size_t job)
{
    w->t = &run.targets[run.jobs[job]];
    memset(&w->res, 0, sizeof w->res);
    w->res.job = (uint32_t)job;
    w->start_ns = net_now_ns();
    task_deadline(&w->task, tasks_now() + run.opt.timeout_ms);
    if (w->task.fd >= 0 && memcmp(&w->to->addr, &w->t->addr, sizeof w->t->addr) != 0)
        hang_up(w); /* connected elsewhere */
    if (w->task.fd >= 0 && !idle_clean(w->task.fd))
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
                fail_errno(w, errno, "connect");
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
                fail_errno(w, errno, w->reused ? "write" : "connect");
                break;
            }
            http_resp_init(&w->resp);
            w->bad = 0;
            for (;;) {
                PT_WAIT_UNTIL(&tk->pt, !task_again(n = receive(w)));
                if (n <= 0 && w->reused && w->resp.received == 0 && (n == 0 || errno == ECONNRESET))
                    break; /* stale: retried below */
                if (n < 0) {
                    fail_errno(w, errno, "read");
                    break;
                }
                r = n == 0 ? http_resp_eof(&w->resp)
                           : http_resp_feed(&w->resp, rbuf, (size_t)n, check_body, w);
                w->res.bytes = status_ok(w->resp.status) ? w->resp.body : 0;
                if (r == HTTP_ERR && w->resp.status >= 200 && !status_ok(w->resp.status))
                    fail(w, "HTTP status %d; %.70s", w->resp.status, w->resp.reason);
                else if (r == HTTP_ERR)
                    fail(w, "%s", w->bad ? w->why : w->resp.reason);
                else if (r == HTTP_DONE)
                    judge(w);
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
