/* badhttpd.c — a deliberately broken HTTP server for tests/t_hostile_fetch.sh.
 *
 * The request path picks the behaviour: GET /NAME gets behaviour NAME from
 * the table below (--help lists them), so one server plays every hostile
 * peer. Each behaviour is one way a server can lie about framing, flood,
 * drip, stall or vanish; the fetchers must end each fetch with a clear
 * reason within their --timeout, in bounded memory.
 *
 * A thread per connection, plain blocking sockets; a behaviour that streams
 * forever stops when a write fails (the client has gone). Prints the usual
 * ready line "listening on 127.0.0.1:PORT"; SIGTERM ends it. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flags.h"

enum { BAD_REQ_MAX = 8192, BAD_FLOOD = 16384 };

/* One behaviour: canned bytes, then what happens after them. */
struct bad_mode {
    const char *name;  /* the path: GET /name */
    const char *head;  /* bytes sent first (may be NULL) */
    size_t head_len;   /* their length (0: strlen) */
    const char *flood; /* then this, over and over until the client leaves (may be NULL) */
    int drip_ms;       /* > 0: send head one byte at a time, this far apart, forever */
    int after;         /* what ends the connection: BAD_CLOSE, BAD_RESET, BAD_KEEP */
    int late_ms;       /* > 0: send `late` this many ms after head, then go on */
    const char *late;  /* the late bytes */
    const char *about; /* one line for --help */
};

enum { BAD_CLOSE, BAD_RESET, BAD_KEEP };

#define S(x) x, sizeof(x) - 1
static const struct bad_mode modes[] = {
    {"cl-huge", S("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nabc"), NULL, 0,
     BAD_CLOSE, 0, NULL, "a Content-Length of 20 digits"},
    {"cl-negative", S("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc"), NULL, 0, BAD_CLOSE, 0,
     NULL, "Content-Length: -1"},
    {"cl-lie", S("HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n0123456789"), NULL, 0,
     BAD_CLOSE, 0, NULL, "announces 1 GB, sends 10 bytes, closes"},
    {"chunk-overflow", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nab"),
     NULL, 0, BAD_CLOSE, 0, NULL, "a chunk size that overflows 64 bits"},
    {"chunk-negative", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nab"), NULL, 0,
     BAD_CLOSE, 0, NULL, "a chunk size of -5"},
    {"endless-headers", S("HTTP/1.1 200 OK\r\n"), "X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 0,
     BAD_CLOSE, 0, NULL, "header lines forever"},
    {"endless-line", S("HTTP/1.1 200 OK\r\nX-Flood: "), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
     BAD_CLOSE, 0, NULL, "one header line that never ends"},
    {"endless-trailers", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n"),
     "X-Trailer: 1\r\n", 0, BAD_CLOSE, 0, NULL, "trailer lines forever"},
    {"endless-chunk-line", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"),
     "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 0, BAD_CLOSE, 0, NULL,
     "a chunk-size line whose extension never ends"},
    {"endless-interim", S(""), "HTTP/1.1 100 Continue\r\n\r\n", 0, BAD_CLOSE, 0, NULL,
     "100 Continue forever"},
    {"drip", S("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), NULL, 50, BAD_CLOSE, 0, NULL,
     "the response one byte every 50 ms (and the stream never ends)"},
    {"stream", S("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"),
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 0,
     BAD_CLOSE, 0, NULL, "a read-to-close body that never ends, as fast as it goes"},
    {"chunk-stream", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), "1\r\nx\r\n", 0,
     BAD_CLOSE, 0, NULL, "1-byte chunks forever, as fast as they go"},
    {"early-close", S("HTTP/1.1 200 OK\r\nContent-"), NULL, 0, BAD_CLOSE, 0, NULL,
     "closes in the middle of the headers"},
    {"rst", S(""), NULL, 0, BAD_RESET, 0, NULL, "resets the connection (RST) without a byte"},
    {"rst-body", S("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789"), NULL, 0, BAD_RESET,
     0, NULL, "resets the connection in the middle of the body"},
    {"te-gzip", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     NULL, 0, BAD_CLOSE, 0, NULL, "Transfer-Encoding: gzip, chunked (we decode only chunked)"},
    {"te-cl", S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     NULL, 0, BAD_CLOSE, 0, NULL, "Transfer-Encoding and Content-Length together"},
    {"te-http10", S("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     NULL, 0, BAD_CLOSE, 0, NULL, "chunked in an HTTP/1.0 response"},
    {"nul-header", S("HTTP/1.1 200 OK\r\nContent-Length: 5\0junk\r\n\r\nhello"), NULL, 0, BAD_CLOSE,
     0, NULL, "Content-Length: 5<NUL>junk"},
    {"bare-cr", S("HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 5\r\n\r\nhello"), NULL, 0, BAD_CLOSE, 0,
     NULL, "a bare CR inside a header line"},
    {"switching", S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
     "\x00\x00\x12\x04\x00\x00\x00\x00\x00", 0, BAD_CLOSE, 0, NULL,
     "101 Switching Protocols, then binary frames"},
    {"late-body-204", S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), NULL, 0, BAD_KEEP, 50,
     "hello", "a 204 that announces a body and sends it 50 ms later, then keeps the connection"},
    {"ok", S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), NULL, 0, BAD_KEEP, 0, NULL,
     "a correct answer, connection kept"},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static const struct bad_mode *bad_find(const char *name, size_t len)
{
    for (const struct bad_mode *m = modes; m->name; m++)
        if (strlen(m->name) == len && memcmp(m->name, name, len) == 0)
            return m;
    return NULL;
}

static int bad_write(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one request's header section into buf; its length, or -1 at EOF/error. */
static ssize_t bad_read_request(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end)
            return end + 4 - buf;
        if (*have == cap)
            return -1;
        ssize_t n = read(fd, buf + *have, cap - *have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        *have += (size_t)n;
    }
}

/* Play behaviour m once. Returns 1 to read another request, 0 to end. */
static int bad_play(int fd, const struct bad_mode *m)
{
    if (m->drip_ms > 0) {
        for (size_t i = 0;; i++) {
            char ch = i < m->head_len ? m->head[i] : 'x';
            if (bad_write(fd, &ch, 1) < 0)
                return 0;
            usleep((useconds_t)m->drip_ms * 1000);
        }
    }
    if (m->head_len && bad_write(fd, m->head, m->head_len) < 0)
        return 0;
    if (m->flood) {
        char block[BAD_FLOOD]; /* per thread: connections flood at once */
        size_t fl = strlen(m->flood) ? strlen(m->flood) : 9; /* "switching" floods NULs */
        size_t n = sizeof block / fl * fl;
        for (size_t i = 0; i < n; i += fl)
            memcpy(block + i, m->flood, fl);
        while (bad_write(fd, block, n) == 0)
            ;
        return 0;
    }
    if (m->late_ms > 0) {
        usleep((useconds_t)m->late_ms * 1000);
        if (bad_write(fd, m->late, strlen(m->late)) < 0)
            return 0;
    }
    if (m->after == BAD_RESET) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        return 0;
    }
    return m->after == BAD_KEEP;
}

static long accepted; /* connections accepted so far: GET /conns answers it */

/* GET /conns: how many connections were accepted so far (this one included),
 * so that a test can tell a fetcher that reuses its connection from one that
 * opens a new one per request; the connection is closed after it. */
static void bad_conns(int fd)
{
    char out[128];
    char n[32];
    int nl = snprintf(n, sizeof n, "%ld", __atomic_load_n(&accepted, __ATOMIC_RELAXED));
    int len = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", nl, n);
    bad_write(fd, out, (size_t)len);
}

static void *bad_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[BAD_REQ_MAX];
    size_t have = 0;
    for (;;) {
        ssize_t len = bad_read_request(fd, buf, sizeof buf, &have);
        if (len < 0)
            break;
        /* "GET /name[?...][#...] HTTP/1.1" */
        const char *path = memchr(buf, ' ', (size_t)len);
        const struct bad_mode *m = NULL;
        if (path && strncmp(path, " /conns ", 8) == 0) {
            bad_conns(fd);
            break;
        }
        if (path && path[1] == '/') {
            size_t n = strcspn(path + 2, "? #\r\n");
            m = bad_find(path + 2, n);
            if (m && path[2 + n] == '#') /* a fragment must never be sent */
                m = NULL;
        }
        if (!m) {
            bad_write(fd, S("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            break;
        }
        memmove(buf, buf + len, have - (size_t)len);
        have -= (size_t)len;
        if (!bad_play(fd, m))
            break;
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    long port = 0;
    static char about[4096];
    size_t at = (size_t)snprintf(about, sizeof about,
                                 "A broken HTTP server for the hostile tests: GET /NAME plays behaviour NAME.");
    for (const struct bad_mode *m = modes; m->name && at < sizeof about; m++)
        at += (size_t)snprintf(about + at, sizeof about - at, "\n  /%-20s %s", m->name, m->about);
    if (at < sizeof about)
        snprintf(about + at, sizeof about - at, "\n  /%-20s %s", "conns", "the number of connections accepted so far, then close");
    const struct flag table[] = {
        {"port", 'p', FLAG_INT, &port, 0, 65535, "PORT", "TCP port on 127.0.0.1; 0 asks for a free one"},
        {0},
    };
    const struct flags_spec spec = {"badhttpd", "[flags]", about, table, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 128) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
        fprintf(stderr, "badhttpd: cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
                continue;
            fprintf(stderr, "badhttpd: accept: %s\n", strerror(errno));
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        __atomic_add_fetch(&accepted, 1, __ATOMIC_RELAXED);
        pthread_t tid;
        if (pthread_create(&tid, &attr, bad_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
    }
}
