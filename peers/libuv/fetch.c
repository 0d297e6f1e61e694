/* fetch-libuv — the fetcher on libuv: -c slots, each one connection at a time
 * driven by callbacks (uv_tcp_connect, uv_write, uv_read_start) and a
 * uv_timer for the deadline, all on one thread. The flags, the URL list, the
 * HTTP codec and the summary are the C fetchers' own (models/common/fetch.h,
 * http.h), so only the waiting differs from models/loop/fetch.c: where a
 * coroutine writes fetch_one() as straight-line code, here each step of a
 * request is a callback that starts the next one. */
#include "fetch.h"
#include "net.h"
#include "pattern.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

static const char *prog = "fetch-libuv";
static struct fetch_run run;
static size_t next_job; /* the next job to start */

enum { REQ_MAX = HTTP_PATH_MAX + 256, READ_BUF = 65536 };

/* One request in flight at a time, over one connection at a time. */
struct slot {
    uv_tcp_t tcp;                 /* the connection (valid while open) */
    uv_timer_t timer;             /* the current request's deadline */
    int open;                     /* tcp is initialised and not yet closed */
    int connect_after_close;      /* on_tcp_closed starts a fresh connect */
    int reused;                   /* this attempt runs on a kept-alive connection */
    int attempt;                  /* 0, or 1 after a stale kept-alive connection */
    unsigned gen;                 /* bumped per attempt: late callbacks of an old one are ignored */
    int busy;                     /* a request is in progress */
    size_t job;                   /* which one */
    const struct fetch_target *to; /* the target tcp is connected to */
    long long start;              /* when the request began, ns */
    struct fetch_result res;      /* its outcome */
    struct http_resp resp;        /* the response parser */
    int bad;                      /* the body check failed: reason in res */
    char req[REQ_MAX];            /* the request bytes */
    char buf[READ_BUF];           /* one read's bytes (the slot reads one thing at a time) */
};

/* A connect or write request, tagged with the attempt it belongs to. */
struct tagged {
    union { uv_connect_t c; uv_write_t w; } u; /* libuv's request */
    struct slot *s;                            /* whose */
    unsigned gen;                              /* which attempt */
};

static void slot_begin(struct slot *s);
static void slot_connect(struct slot *s);

/* Is the status a success? Only then is the body the one we asked for. */
static int status_ok(int status) { return status >= 200 && status <= 299; }

static int check_body(void *ctx, uint64_t off, const unsigned char *p, size_t n)
{
    struct slot *s = ctx;
    const struct fetch_target *t = &run.targets[run.jobs[s->job]];
    if (!status_ok(s->resp.status))
        return 0; /* an error page: the status is the news, not its bytes */
    if (t->expect >= 0 && off + n > (uint64_t)t->expect) {
        snprintf(s->res.reason, sizeof s->res.reason, "body longer than the %lld bytes expected", (long long)t->expect);
        s->bad = 1;
        return -1;
    }
    if (!t->verify)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern_byte(off + i)) {
            snprintf(s->res.reason, sizeof s->res.reason, "pattern mismatch at byte %llu", (unsigned long long)(off + i));
            s->bad = 1;
            return -1;
        }
    return 0;
}

static void on_tcp_closed(uv_handle_t *h)
{
    struct slot *s = h->data;
    s->open = 0;
    if (s->connect_after_close) {
        s->connect_after_close = 0;
        slot_connect(s);
    }
}

static void slot_close(struct slot *s, int then_connect)
{
    s->connect_after_close = then_connect;
    s->gen++; /* whatever the old connection still reports is ignored */
    if (s->open && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, on_tcp_closed);
    else if (then_connect && !s->open)
        slot_connect(s);
}

/* The request is over (res filled): count it, then start the next one. */
static void slot_end(struct slot *s, int keep)
{
    uv_timer_stop(&s->timer);
    s->busy = 0;
    s->res.latency_ns = (uint64_t)(net_now_ns() - s->start);
    fetch_record(&run, &s->res);
    if (s->open && keep)
        uv_read_stop((uv_stream_t *)&s->tcp);
    else
        slot_close(s, 0);
    slot_begin(s);
}

static void slot_fail(struct slot *s, int uverr)
{
    int err = -uverr;
    s->res.ok = 0;
    if (err == ETIMEDOUT)
        snprintf(s->res.reason, sizeof s->res.reason, "timeout after %ld ms", run.opt.timeout_ms);
    else if (err == ECONNREFUSED)
        snprintf(s->res.reason, sizeof s->res.reason, "connection refused");
    else if (err == ECONNRESET)
        snprintf(s->res.reason, sizeof s->res.reason, "connection reset by peer");
    else
        snprintf(s->res.reason, sizeof s->res.reason, "%s", uv_strerror(uverr));
    slot_end(s, 0);
}

/* A kept-alive connection died before any byte of the answer: the server
 * closed it while idle. Retry once on a fresh one, like fetch_one(). */
static int slot_stale(struct slot *s, int uverr)
{
    if (!s->reused || s->resp.received != 0 || s->attempt > 0 ||
        (uverr != UV_EOF && uverr != UV_ECONNRESET && uverr != UV_EPIPE))
        return 0;
    s->attempt = 1;
    slot_close(s, 1);
    return 1;
}

static void on_timeout(uv_timer_t *t)
{
    struct slot *s = t->data;
    if (s->busy)
        slot_fail(s, UV_ETIMEDOUT);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct slot *s = h->data;
    *buf = uv_buf_init(s->buf, sizeof s->buf);
}

static void judge(struct slot *s)
{
    const struct fetch_target *t = &run.targets[run.jobs[s->job]];
    s->res.ok = 0;
    if (!status_ok(s->resp.status))
        snprintf(s->res.reason, sizeof s->res.reason, "HTTP status %d", s->resp.status);
    else if (t->expect >= 0 && s->resp.body != (uint64_t)t->expect)
        snprintf(s->res.reason, sizeof s->res.reason, "truncated body: %llu of %lld bytes",
                 (unsigned long long)s->resp.body, (long long)t->expect);
    else
        s->res.ok = 1;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct slot *s = st->data;
    if (!s->busy || n == 0)
        return;
    if (n < 0 && slot_stale(s, (int)n))
        return;
    if (n < 0 && n != UV_EOF) {
        slot_fail(s, (int)n);
        return;
    }
    int r = n == UV_EOF ? http_resp_eof(&s->resp)
                        : http_resp_feed(&s->resp, buf->base, (size_t)n, check_body, s);
    s->res.bytes = status_ok(s->resp.status) ? s->resp.body : 0;
    if (r == HTTP_ERR && s->resp.status >= 200 && !status_ok(s->resp.status)) {
        /* the status first, as fetch_exchange() says it: "HTTP status 500; truncated body: ..." */
        snprintf(s->res.reason, sizeof s->res.reason, "HTTP status %d; %.70s", s->resp.status, s->resp.reason);
        s->res.ok = 0;
        slot_end(s, 0);
    } else if (r == HTTP_ERR) {
        if (!s->bad)
            snprintf(s->res.reason, sizeof s->res.reason, "%s", s->resp.reason);
        s->res.ok = 0;
        slot_end(s, 0);
    } else if (r == HTTP_DONE) {
        judge(s);
        slot_end(s, s->res.ok && run.opt.keepalive && n != UV_EOF && http_resp_reusable(&s->resp));
    }
}

static void on_write(uv_write_t *w, int status)
{
    struct tagged *tg = (struct tagged *)w;
    struct slot *s = tg->s;
    if (status < 0 && tg->gen == s->gen && s->busy && !slot_stale(s, status))
        slot_fail(s, status);
    free(tg);
}

/* Connected (fresh or kept alive): send the request, read the answer. */
static void slot_send(struct slot *s)
{
    const struct fetch_target *t = &run.targets[run.jobs[s->job]];
    int len = http_request(s->req, sizeof s->req, &t->url, run.opt.keepalive);
    struct tagged *tg = malloc(sizeof *tg);
    http_resp_init(&s->resp);
    s->bad = 0;
    if (len < 0 || !tg) {
        free(tg);
        snprintf(s->res.reason, sizeof s->res.reason, len < 0 ? "request too long" : "out of memory");
        slot_end(s, 0);
        return;
    }
    tg->s = s;
    tg->gen = s->gen;
    uv_buf_t b = uv_buf_init(s->req, (unsigned)len);
    int r = uv_write(&tg->u.w, (uv_stream_t *)&s->tcp, &b, 1, on_write);
    if (r < 0) {
        free(tg);
        if (!slot_stale(s, r))
            slot_fail(s, r);
        return;
    }
    r = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (r < 0)
        slot_fail(s, r);
}

static void on_connect(uv_connect_t *c, int status)
{
    struct tagged *tg = (struct tagged *)c;
    struct slot *s = tg->s;
    unsigned gen = tg->gen;
    free(tg);
    if (gen != s->gen || !s->busy) /* the attempt was abandoned (timeout) */
        return;
    if (status < 0) {
        slot_fail(s, status);
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    slot_send(s);
}

static void slot_connect(struct slot *s)
{
    const struct fetch_target *t = &run.targets[run.jobs[s->job]];
    struct tagged *tg = malloc(sizeof *tg);
    if (!tg) {
        slot_fail(s, UV_ENOMEM);
        return;
    }
    uv_tcp_init(uv_default_loop(), &s->tcp);
    s->tcp.data = s;
    s->open = 1;
    s->reused = 0;
    s->to = t;
    tg->s = s;
    tg->gen = s->gen;
    int r = uv_tcp_connect(&tg->u.c, &s->tcp, (const struct sockaddr *)&t->addr, on_connect);
    if (r < 0) {
        free(tg);
        slot_fail(s, r);
    }
}

/* May the idle kept-alive connection carry the next request? Not if the
 * server closed it, nor if bytes came after the last response (they would
 * be read as the next answer): fetch.c's rule, a peek that does not wait.
 * libuv has no peek of its own; the descriptor is the socket's. */
static int slot_idle_clean(struct slot *s)
{
    uv_os_fd_t fd;
    char b;
    if (uv_fileno((uv_handle_t *)&s->tcp, &fd) < 0)
        return 0;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Start the next job on this slot, or finish the slot if none is left. */
static void slot_begin(struct slot *s)
{
    if (next_job >= run.njobs) {
        if (s->open)
            slot_close(s, 0);
        if (!uv_is_closing((uv_handle_t *)&s->timer))
            uv_close((uv_handle_t *)&s->timer, NULL);
        return;
    }
    s->job = next_job++;
    s->busy = 1;
    s->attempt = 0;
    memset(&s->res, 0, sizeof s->res);
    s->res.job = (uint32_t)s->job;
    s->start = net_now_ns();
    uv_timer_start(&s->timer, on_timeout, (uint64_t)run.opt.timeout_ms, 0);
    const struct fetch_target *t = &run.targets[run.jobs[s->job]];
    if (s->open && !uv_is_closing((uv_handle_t *)&s->tcp) && s->to &&
        memcmp(&s->to->addr, &t->addr, sizeof t->addr) == 0 && slot_idle_clean(s)) {
        s->reused = 1; /* kept alive from the last request, same server */
        s->gen++;
        s->to = t;
        slot_send(s);
        return;
    }
    slot_close(s, 1);
}

int main(int argc, char **argv)
{
    int r = fetch_setup(&run, prog,
                        "Download many URLs at once on libuv: -c slots, each a connection driven by\n"
                        "callbacks (connect, write, read) and a timer, all on one thread.",
                        argc, argv);
    if (r < 0)
        return fetch_usage_error(&run, r);
    struct slot *slots = calloc((size_t)run.inflight, sizeof *slots);
    if (!slots) {
        fprintf(stderr, "%s: out of memory for %ld slots\n", prog, run.inflight);
        return 1;
    }
    for (long i = 0; i < run.inflight; i++) {
        uv_timer_init(uv_default_loop(), &slots[i].timer);
        slots[i].timer.data = &slots[i];
        slot_begin(&slots[i]);
    }
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    free(slots);
    return fetch_finish(&run);
}
