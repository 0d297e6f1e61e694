/* fetch-epoll — the baseline fetcher: the least a single-threaded program
 * can do to fetch one URL COUNT times with C requests in flight. One epoll
 * set, level-triggered; per request a socket, a connect, one write of the
 * request, reads until the server closes, a close. No coroutines, no HTTP
 * parser (it checks the status line only), no byte pattern, no histogram.
 * The fetchers of the three models are measured against it, as echo-loop is
 * against echo-epoll: what it takes is the floor the kernel sets on this
 * machine, not the cost of a concurrency model. */
#include "flags.h"
#include "http.h"
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "fetch-epoll"

enum { FE_HEAD = 16 }; /* bytes of the answer kept to check "HTTP/1.x 200" */

struct fe_req {
    int fd;              /* the socket, -1 when the slot is free */
    int sent;            /* the request went out */
    size_t got;          /* bytes of the answer so far */
    char head[FE_HEAD];  /* its first bytes */
};

static struct {
    struct sockaddr_in sa;  /* where to connect */
    char req[HTTP_PATH_MAX + 256];
    int req_len;
    long ok, failed, bytes; /* the totals */
} fe;

/* Say what went wrong, the first time only (a refused port fails them all). */
static int fe_said;
static int fe_error(const char *what)
{
    if (!fe_said++)
        fprintf(stderr, "%s: %s: %s\n", PROG, what, strerror(errno));
    return -1;
}

/* Start one request in slot r: connect and, if the connection is already up
 * (loopback usually is), send the request at once. */
static int fe_start(int ep, struct fe_req *r)
{
    memset(r, 0, sizeof *r);
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->fd < 0)
        return fe_error("socket");
    if (connect(r->fd, (struct sockaddr *)&fe.sa, sizeof fe.sa) < 0 && errno != EINPROGRESS)
        return fe_error("connect");
    ssize_t w = write(r->fd, fe.req, (size_t)fe.req_len);
    if (w == fe.req_len)
        r->sent = 1;
    else if (w >= 0) /* short: never seen on a fresh socket, but not to be ignored */
        return errno = EIO, fe_error("write");
    else if (errno != EAGAIN && errno != ENOTCONN) /* refused, reset */
        return fe_error(errno == ECONNREFUSED ? "connect" : "write");
    struct epoll_event ev = {.events = r->sent ? EPOLLIN : EPOLLOUT, .data.ptr = r};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, r->fd, &ev) < 0)
        return fe_error("epoll_ctl");
    return 0;
}

/* The request in slot r is over: count it, free the slot. */
static void fe_finish(struct fe_req *r, int ok)
{
    if (ok && r->got >= 12 && memcmp(r->head, "HTTP/1.", 7) == 0 && memcmp(r->head + 8, " 200", 4) == 0) {
        fe.ok++;
    } else {
        fe.failed++;
        if (ok && !fe_said++)
            fprintf(stderr, "%s: not a 200 answer: \"%.12s\"\n", PROG, r->got >= 12 ? r->head : "(too short)");
    }
    if (r->fd >= 0)
        close(r->fd); /* also leaves the epoll set */
    r->fd = -1;
}

/* Something happened on slot r: send the request or read the answer. */
static void fe_event(int ep, struct fe_req *r)
{
    if (!r->sent) { /* the connect finished (or failed) */
        int e = net_connect_result(r->fd);
        if (e) {
            errno = e;
            fe_error("connect");
            fe_finish(r, 0);
            return;
        }
        if (write(r->fd, fe.req, (size_t)fe.req_len) != fe.req_len) {
            fe_error("write");
            fe_finish(r, 0);
            return;
        }
        r->sent = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, r->fd, &ev) < 0)
            fe_finish(r, 0);
        return;
    }
    char buf[16384];
    ssize_t n = read(r->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* EOF ends a "Connection: close" answer; an error ends it badly */
        if (n < 0)
            fe_error("read");
        fe_finish(r, n == 0);
        return;
    }
    if (r->got < FE_HEAD)
        memcpy(r->head + r->got, buf, (size_t)n < FE_HEAD - r->got ? (size_t)n : FE_HEAD - r->got);
    r->got += (size_t)n;
    fe.bytes += n;
}

int main(int argc, char **argv)
{
    long count = 1, conc = 10, timeout_ms = 60000;
    const struct flag flags[] = {
        {"count", 'n', FLAG_INT, &count, 1, 10000000, "COUNT", "fetch the URL COUNT times"},
        {"concurrency", 'c', FLAG_INT, &conc, 1, 100000, "C", "most requests in flight at once"},
        {"timeout", 0, FLAG_INT, &timeout_ms, 1, 86400000, "MS", "deadline of the whole run"},
        {0},
    };
    const struct flags_spec spec = {PROG, "[flags] URL",
        "The baseline fetcher: one thread, one epoll set, no coroutines, no parser. Fetches\n"
        "URL COUNT times, at most C at once, each on a new connection read to its end.\n"
        "Prints \"fetched N, failed F, bytes B, wall S\"; exit 0 only if every fetch got 200.",
        flags, 1};
    int npos = flags_parse(&spec, argc, argv);
    if (npos < 0)
        return flags_exit(npos);
    if (npos != 1)
        return flags_exit(flags_error(&spec, "one URL, please"));
    struct http_url u;
    char err[128];
    if (http_url_parse(argv[1], &u, err, sizeof err) < 0)
        return flags_exit(flags_error(&spec, "%s", err));
    if (net_addr(u.host, u.port, &fe.sa) < 0)
        return flags_exit(flags_error(&spec, "cannot resolve %s", u.host));
    fe.req_len = http_request(fe.req, sizeof fe.req, &u, 0);
    if (fe.req_len < 0)
        return flags_exit(flags_error(&spec, "URL too long"));
    if (conc > count)
        conc = count;
    net_raise_nofile();
    signal(SIGPIPE, SIG_IGN);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct fe_req *rs = calloc((size_t)conc, sizeof *rs);
    if (ep < 0 || !rs) {
        perror(PROG);
        return 1;
    }
    long long start = net_now_ns(), deadline = start + timeout_ms * 1000000LL;
    long started = 0, live = 0;
    for (long i = 0; i < conc; i++, started++) {
        if (fe_start(ep, &rs[i]) == 0) {
            live++;
            continue;
        }
        fe_finish(&rs[i], 0); /* counted failed; the slot stays free */
    }
    struct epoll_event evs[256];
    while (live > 0) {
        long long left_ms = (deadline - net_now_ns()) / 1000000;
        if (left_ms <= 0)
            break;
        int n = epoll_wait(ep, evs, 256, (int)(left_ms > 1000 ? 1000 : left_ms));
        for (int i = 0; i < n; i++) {
            struct fe_req *r = evs[i].data.ptr;
            fe_event(ep, r);
            if (r->fd >= 0)
                continue;
            live--;
            for (; started < count && r->fd < 0; started++) {
                if (fe_start(ep, r) == 0)
                    live++;
                else
                    fe_finish(r, 0);
            }
        }
    }
    if (live > 0)
        fprintf(stderr, "%s: %ld requests still in flight after --timeout %ld ms\n", PROG, live, timeout_ms);
    fe.failed += count - fe.ok - fe.failed; /* still in flight at the deadline, or never started */
    double wall = (double)(net_now_ns() - start) / 1e9;
    printf("%s: fetched %ld, failed %ld, bytes %ld, wall %.3f s (c=%ld)\n", PROG, fe.ok, fe.failed,
           fe.bytes, wall, conc);
    return fe.failed == 0 ? 0 : 1;
}
