/* fetch.c — see fetch.h. */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flags.h"
#include "net.h"
#include "pattern.h"

enum { FETCH_BUF = 8192, FETCH_REQ_MAX = HTTP_PATH_MAX + 256 };

/* ---- the command line and the URL list --------------------------------- */

/* Say why setup failed, in run->error; returns -1. */
__attribute__((format(printf, 2, 3)))
static int fetch_error(struct fetch_run *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->error, sizeof run->error, fmt, ap);
    va_end(ap);
    return -1;
}

static int fetch_add_target(struct fetch_run *run, const char *text, int verify_mode)
{
    char err[300];
    struct fetch_target *t;
    if (run->ntargets % 64 == 0) {
        t = realloc(run->targets, (run->ntargets + 64) * sizeof *t);
        if (!t)
            return fetch_error(run, "out of memory reading URLs");
        run->targets = t;
    }
    t = &run->targets[run->ntargets];
    if (http_url_parse(text, &t->url, err, sizeof err) < 0)
        return fetch_error(run, "%s", err);
    if (net_addr(t->url.host, t->url.port, &t->addr) < 0)
        return fetch_error(run, "'%.200s': cannot use host %s", text, t->url.host);
    t->text = strdup(text);
    if (!t->text)
        return fetch_error(run, "out of memory reading URLs");
    t->expect = http_bytes_path(&t->url);
    t->verify = verify_mode == 1 || (verify_mode == 2 && t->expect >= 0);
    if (verify_mode == 0)
        t->expect = -1;
    run->ntargets++;
    return 0;
}

/* One URL per line; blank lines and lines starting with '#' are skipped. */
static int fetch_read_file(struct fetch_run *run, int verify_mode)
{
    FILE *f = strcmp(run->opt.input, "-") == 0 ? stdin : fopen(run->opt.input, "r");
    char line[HTTP_PATH_MAX + 256];
    int rc = 0;
    if (!f)
        return fetch_error(run, "-i %s: %s", run->opt.input, strerror(errno));
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = fetch_error(run, "-i %s: line too long", run->opt.input);
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                           line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#')
            continue;
        rc = fetch_add_target(run, s, verify_mode);
    }
    if (rc == 0 && ferror(f))
        rc = fetch_error(run, "-i %s: read error", run->opt.input);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Every target, opt.count times over, in order. */
static int fetch_make_jobs(struct fetch_run *run)
{
    unsigned long long n = (unsigned long long)run->ntargets * (unsigned long long)run->opt.count;
    if (n > 100000000ULL)
        return fetch_error(run, "%llu fetches is too many (at most 100000000)", n);
    run->njobs = (size_t)n;
    run->jobs = malloc(run->njobs * sizeof *run->jobs);
    if (!run->jobs)
        return fetch_error(run, "out of memory for %zu fetches", run->njobs);
    size_t k = 0;
    for (size_t i = 0; i < run->ntargets; i++)
        for (long r = 0; r < run->opt.count; r++)
            run->jobs[k++] = (uint32_t)i;
    return 0;
}

/* The work of the three fetch_setup*() below. `workers`: the pool's default
 * size (fetch_setup_pool), else 0. */
static int fetch_setup_all(struct fetch_run *run, const char *prog, const char *about,
                           const struct flag *extra, long workers, int argc, char **argv)
{
    memset(run, 0, sizeof *run);
    run->prog = prog;
    run->opt = (struct fetch_opts){.concurrency = 10, .timeout_ms = 10000, .count = 1,
                                   .verify = "auto", .workers = workers};
    struct flag table[16] = { /* the common flags, then room for the model's own */
        {"concurrency", 'c', FLAG_INT, &run->opt.concurrency, 1, 100000, "C",
         "most requests in flight at once"},
        {"count", 'n', FLAG_INT, &run->opt.count, 1, 100000000, "COUNT",
         "fetch every URL COUNT times"},
        {"input", 'i', FLAG_STR, &run->opt.input, 0, 0, "FILE",
         "read URLs from FILE, one per line ('-' for stdin)"},
        {"timeout", 0, FLAG_INT, &run->opt.timeout_ms, 1, 86400000, "MS",
         "deadline of one request, connect to last byte, in milliseconds"},
        {"keepalive", 0, FLAG_BOOL, &run->opt.keepalive, 0, 0, NULL,
         "reuse connections between requests (see above)"},
        {"verify", 0, FLAG_STR, &run->opt.verify, 0, 0, "MODE",
         "auto|on|off: check body bytes against fetchd's pattern (auto: for /bytes/N)"},
        {"quiet", 'q', FLAG_BOOL, &run->opt.quiet, 0, 0, NULL,
         "print nothing unless a fetch failed"},
    };
    size_t n = 0;
    while (table[n].name)
        n++;
    for (size_t i = 0; extra && extra[i].name; i++) {
        if (n + 1 >= sizeof table / sizeof table[0])
            return fetch_error(run, "too many flags of the model's own"); /* a bug: grow table */
        table[n++] = extra[i];
    }
    const struct flags_spec spec = {
        .prog = prog,
        .usage = "[flags] URL... | -i FILE",
        .about = about,
        .flags = table,
        .max_positional = -1,
    };
    int npos = flags_parse(&spec, argc, argv);
    if (npos < 0)
        return npos; /* --help, or a malformed flag: flags_parse has said so */
    int verify_mode = strcmp(run->opt.verify, "on") == 0     ? 1
                      : strcmp(run->opt.verify, "auto") == 0 ? 2
                      : strcmp(run->opt.verify, "off") == 0  ? 0
                                                             : -1;
    if (verify_mode < 0)
        return fetch_error(run, "--verify: '%s' is not auto, on or off", run->opt.verify);
    for (int i = 1; i <= npos; i++)
        if (fetch_add_target(run, argv[i], verify_mode) < 0)
            return -1;
    if (run->opt.input && fetch_read_file(run, verify_mode) < 0)
        return -1;
    if (run->ntargets == 0)
        return fetch_error(run, "no URLs given");
    if (fetch_make_jobs(run) < 0)
        return -1;
    run->inflight = run->opt.concurrency < (long)run->njobs ? run->opt.concurrency
                                                            : (long)run->njobs;
    if (run->opt.workers > 0 && run->opt.workers < run->inflight)
        run->inflight = run->opt.workers; /* a pool's size bounds what is in flight */
    run->hist = hist_new();
    run->failures = calloc(FETCH_LIST_MAX, sizeof *run->failures);
    if (!run->hist || !run->failures)
        return fetch_error(run, "out of memory");
    net_raise_nofile(); /* -c 1000 needs 1000+ descriptors */
    signal(SIGPIPE, SIG_IGN); /* a peer that vanishes: write() fails with EPIPE instead */
    run->start_ns = net_now_ns();
    return 0;
}

int fetch_setup(struct fetch_run *run, const char *prog, const char *about, int argc, char **argv)
{
    return fetch_setup_all(run, prog, about, NULL, 0, argc, argv);
}

int fetch_setup_pool(struct fetch_run *run, const char *prog, const char *about, long workers,
                     int argc, char **argv)
{
    const struct flag pool[] = {
        {"workers", 0, FLAG_INT, &run->opt.workers, 1, 100000, "N",
         "processes or threads in the pool; never more than -c"},
        {0},
    };
    return fetch_setup_all(run, prog, about, pool, workers, argc, argv);
}

int fetch_setup_extra(struct fetch_run *run, const char *prog, const char *about,
                      const struct flag *extra, int argc, char **argv)
{
    return fetch_setup_all(run, prog, about, extra, 0, argc, argv);
}

int fetch_usage_error(const struct fetch_run *run, int r)
{
    if (r == FLAGS_HELP || r == FLAGS_BAD)
        return flags_exit(r);
    fprintf(stderr, "%s: %s (try --help)\n", run->prog, run->error);
    return 2;
}

/* ---- blocking I/O: poll() bounds every wait ---------------------------- */

static int64_t fetch_blocking_now(void) { return net_now_ns() / 1000000; }

/* Wait for fd to be ready for `events` until deadline: 0, or -1 + errno. */
static int fetch_poll(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - fetch_blocking_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int fetch_blocking_connect(const struct sockaddr_in *sa, int64_t deadline)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        if (errno != EINPROGRESS || fetch_poll(fd, POLLOUT, deadline) < 0)
            goto fail;
        int err = net_connect_result(fd);
        if (err) {
            errno = err;
            goto fail;
        }
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) /* blocking from now on */
        goto fail;
    net_set_nodelay(fd);
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static ssize_t fetch_blocking_read(int fd, void *buf, size_t n, int64_t deadline)
{
    for (;;) {
        if (fetch_poll(fd, POLLIN, deadline) < 0)
            return -1;
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

static ssize_t fetch_blocking_write(int fd, const void *buf, size_t n, int64_t deadline)
{
    const char *p = buf;
    size_t left = n;
    while (left > 0) {
        if (fetch_poll(fd, POLLOUT, deadline) < 0)
            return -1;
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        left -= (size_t)w;
    }
    return (ssize_t)n;
}

const struct fetch_io fetch_io_blocking = {
    .now_ms = fetch_blocking_now,
    .connect = fetch_blocking_connect,
    .read = fetch_blocking_read,
    .write = fetch_blocking_write,
    .close = close,
};

/* ---- fetching one URL --------------------------------------------------- */

void fetch_conn_init(struct fetch_conn *c)
{
    c->fd = -1;
    c->to = NULL;
}

void fetch_conn_close(const struct fetch_io *io, struct fetch_conn *c)
{
    if (c->fd >= 0)
        io->close(c->fd);
    fetch_conn_init(c);
}

/* Is the status a success? Only then is the body the one we asked for. */
static int fetch_status_ok(int status) { return status >= 200 && status <= 299; }

/* The parser's body callback: the bytes against what we expect. */
static int fetch_check_body(void *ctx, uint64_t off, const unsigned char *p, size_t n)
{
    struct fetch_check *c = ctx;
    if (!fetch_status_ok(c->resp->status))
        return 0; /* an error page: the status is the news, not its bytes */
    if (c->t->expect >= 0 && off + n > (uint64_t)c->t->expect) {
        snprintf(c->reason, sizeof c->reason, "body longer than the %lld bytes expected",
                 (long long)c->t->expect);
        c->bad = 1;
        return -1;
    }
    if (!c->t->verify)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern_byte(off + i)) {
            snprintf(c->reason, sizeof c->reason, "pattern mismatch at byte %llu",
                     (unsigned long long)(off + i));
            c->bad = 1;
            return -1;
        }
    return 0;
}

static void fetch_fail(struct fetch_result *res, const char *why)
{
    res->ok = 0;
    snprintf(res->reason, sizeof res->reason, "%s", why);
}

void fetch_fail_errno(struct fetch_result *res, int err, const char *during, long timeout_ms)
{
    res->ok = 0;
    if (err == ETIMEDOUT)
        snprintf(res->reason, sizeof res->reason, "timeout after %ld ms", timeout_ms);
    else if (err == ECONNREFUSED)
        snprintf(res->reason, sizeof res->reason, "connection refused");
    else if (err == ECONNRESET)
        snprintf(res->reason, sizeof res->reason, "connection reset by peer");
    else
        snprintf(res->reason, sizeof res->reason, "%s: %s", during, strerror(err));
}

int fetch_idle_clean(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* The complete response: is it what we asked for? */
static void fetch_judge(const struct fetch_target *t, const struct http_resp *resp,
                        struct fetch_result *res)
{
    res->ok = 0;
    if (resp->status < 200 || resp->status > 299)
        snprintf(res->reason, sizeof res->reason, "HTTP status %d", resp->status);
    else if (t->expect >= 0 && resp->body != (uint64_t)t->expect)
        snprintf(res->reason, sizeof res->reason, "truncated body: %llu of %lld bytes",
                 (unsigned long long)resp->body, (long long)t->expect);
    else
        res->ok = 1;
}

int fetch_take(struct fetch_check *check, const char *buf, ssize_t n, struct fetch_result *res)
{
    struct http_resp *resp = check->resp;
    int st = n == 0 ? http_resp_eof(resp)
                    : http_resp_feed(resp, buf, (size_t)n, fetch_check_body, check);
    res->bytes = fetch_status_ok(resp->status) ? resp->body : 0;
    if (st == HTTP_ERR && resp->status >= 200 && !fetch_status_ok(resp->status)) {
        /* the status first: "HTTP status 500; truncated body: ..." */
        snprintf(res->reason, sizeof res->reason, "HTTP status %d; %.70s", resp->status,
                 resp->reason);
        res->ok = 0;
    } else if (st == HTTP_ERR) {
        fetch_fail(res, check->bad ? check->reason : resp->reason);
    } else if (st == HTTP_DONE) {
        fetch_judge(check->t, resp, res);
    }
    return st;
}

/* Outcomes of one attempt over one connection. */
enum { FETCH_OK, FETCH_FAILED, FETCH_STALE };

/* Send the request on fd and read the response. FETCH_STALE: a reused
 * connection died before any byte of the answer (the server had closed it
 * while idle) — the caller retries once on a fresh one. */
static int fetch_exchange(const struct fetch_run *run, const struct fetch_io *io, int fd,
                          int reused, const struct fetch_target *t, int64_t deadline,
                          struct http_resp *resp, struct fetch_result *res)
{
    char req[FETCH_REQ_MAX], buf[FETCH_BUF];
    struct fetch_check check = {.t = t, .resp = resp};
    int len = http_request(req, sizeof req, &t->url, run->opt.keepalive);
    if (len < 0) {
        fetch_fail(res, "request too long");
        return FETCH_FAILED;
    }
    http_resp_init(resp);
    if (io->write(fd, req, (size_t)len, deadline) < 0) {
        if (reused && (errno == EPIPE || errno == ECONNRESET))
            return FETCH_STALE;
        fetch_fail_errno(res, errno, "write", run->opt.timeout_ms);
        return FETCH_FAILED;
    }
    for (;;) {
        ssize_t n = io->read(fd, buf, sizeof buf, deadline);
        if (n < 0 && reused && resp->received == 0 && errno == ECONNRESET)
            return FETCH_STALE;
        if (n < 0) {
            fetch_fail_errno(res, errno, "read", run->opt.timeout_ms);
            return FETCH_FAILED;
        }
        if (n == 0 && reused && resp->received == 0)
            return FETCH_STALE;
        int st = fetch_take(&check, buf, n, res);
        if (st != HTTP_MORE)
            return st == HTTP_DONE ? FETCH_OK : FETCH_FAILED; /* FETCH_OK: judged, maybe not ok */
    }
}

void fetch_one(const struct fetch_run *run, const struct fetch_io *io, size_t job,
               struct fetch_conn *conn, struct fetch_result *res)
{
    const struct fetch_target *t = &run->targets[run->jobs[job]];
    struct fetch_conn local;
    struct http_resp resp;
    long long start = net_now_ns();
    int64_t deadline = io->now_ms() + run->opt.timeout_ms;
    memset(res, 0, sizeof *res);
    res->job = (uint32_t)job;
    if (!conn) {
        fetch_conn_init(&local);
        conn = &local;
    }
    if (conn->fd >= 0 && conn->to != t &&
        memcmp(&conn->to->addr, &t->addr, sizeof t->addr) != 0)
        fetch_conn_close(io, conn); /* connected elsewhere */
    if (conn->fd >= 0 && !fetch_idle_clean(conn->fd))
        fetch_conn_close(io, conn); /* closed by the server, or bytes nobody asked for */
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = conn->fd >= 0;
        if (!reused) {
            conn->fd = io->connect(&t->addr, deadline);
            if (conn->fd < 0) {
                fetch_fail_errno(res, errno, "connect", run->opt.timeout_ms);
                break;
            }
        }
        conn->to = t;
        int st = fetch_exchange(run, io, conn->fd, reused, t, deadline, &resp, res);
        if (st == FETCH_STALE) {
            fetch_conn_close(io, conn);
            continue;
        }
        if (st != FETCH_OK || !run->opt.keepalive || !http_resp_reusable(&resp))
            fetch_conn_close(io, conn);
        break;
    }
    if (conn == &local)
        fetch_conn_close(io, conn);
    res->latency_ns = (uint64_t)(net_now_ns() - start);
}

/* ---- results ------------------------------------------------------------ */

void fetch_record(struct fetch_run *run, const struct fetch_result *res)
{
    run->bytes += res->bytes;
    if (res->ok) {
        run->ok++;
        hist_record(run->hist, res->latency_ns);
        return;
    }
    run->failed++;
    if (run->nfailures >= FETCH_LIST_MAX)
        return;
    const char *url = res->job < run->njobs ? run->targets[run->jobs[res->job]].text : "?";
    size_t len = strlen(url) + strlen(res->reason) + 4;
    char *line = malloc(len);
    if (!line)
        return;
    snprintf(line, len, "%s: %s", url, res->reason);
    run->failures[run->nfailures++] = line;
}

int fetch_finish(struct fetch_run *run)
{
    double wall = (double)(net_now_ns() - run->start_ns) / 1e9;
    uint64_t missing = run->njobs - (run->ok + run->failed);
    if (!run->opt.quiet || run->failed || missing) {
        printf("%s: fetched %llu, failed %llu, bytes %llu, wall %.3f s (%.0f fetches/s, c=%ld%s)\n",
               run->prog, (unsigned long long)run->ok, (unsigned long long)run->failed,
               (unsigned long long)run->bytes, wall, wall > 0 ? (double)run->ok / wall : 0.0,
               run->inflight, run->opt.keepalive ? ", keepalive" : "");
        printf("%s: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", run->prog,
               (double)hist_percentile(run->hist, 50) / 1e6,
               (double)hist_percentile(run->hist, 99) / 1e6, (double)hist_max(run->hist) / 1e6);
    }
    fflush(stdout);
    for (size_t i = 0; i < run->nfailures; i++)
        fprintf(stderr, "%s: failed %s\n", run->prog, run->failures[i]);
    if (run->failed > run->nfailures)
        fprintf(stderr, "%s: ... and %llu more failures\n", run->prog,
                (unsigned long long)(run->failed - run->nfailures));
    if (missing)
        fprintf(stderr, "%s: %llu fetches never reported a result\n", run->prog,
                (unsigned long long)missing);
    int status = (run->failed || missing) ? 1 : 0;
    for (size_t i = 0; i < run->nfailures; i++)
        free(run->failures[i]);
    for (size_t i = 0; i < run->ntargets; i++)
        free(run->targets[i].text);
    free(run->failures);
    free(run->targets);
    free(run->jobs);
    hist_free(run->hist);
    memset(run, 0, sizeof *run);
    return status;
}

/* ---- a run dealt out among N loops (fetch-loops) ---------------------------- */

int fetch_deal(const struct fetch_run *all, struct fetch_run *r, long i, long n)
{
    *r = *all;
    r->njobs = (all->njobs - (size_t)i + (size_t)n - 1) / (size_t)n;
    r->inflight = (all->inflight - i + n - 1) / n;
    r->ok = r->failed = r->bytes = 0;
    r->nfailures = 0;
    r->jobs = malloc((r->njobs ? r->njobs : 1) * sizeof *r->jobs);
    r->hist = hist_new();
    r->failures = calloc(FETCH_LIST_MAX, sizeof *r->failures);
    if (!r->jobs || !r->hist || !r->failures)
        return -1;
    for (size_t k = 0; k < r->njobs; k++)
        r->jobs[k] = all->jobs[(size_t)i + k * (size_t)n];
    return 0;
}

void fetch_gather(struct fetch_run *all, struct fetch_run *r)
{
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
