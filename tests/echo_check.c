/* echo_check — an end-to-end checker for the echo servers (tests only).
 *
 * Opens many connections at once over one epoll, sends each a random-size
 * payload of pseudo-random bytes in random-size pieces, and checks that every
 * byte comes back in order. Some clients may half-close after sending (the
 * tail must still come back, then EOF), some may reset mid-message (the others
 * must not notice). Prints one summary line; exit 0 if all went well. */
#include "flags.h"
#include "net.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct client {
    int fd;           /* the connection, -1 when done */
    int kind;         /* 0 normal, 1 half-closes after sending, 2 resets mid-message */
    size_t total;     /* payload size */
    size_t sent;      /* bytes written so far */
    size_t got;       /* bytes echoed back so far */
    int wr_shut;      /* shutdown(SHUT_WR) done */
    uint64_t seed;    /* the payload is a function of (seed, offset) */
};

static long nclients = 200, max_bytes = 65536, resets = 0, idle_ms = 0, timeout_s = 30;
static long min_ok = -1;
static int halfclose, quiet;
static const char *host = "127.0.0.1";
static long port = 0;
static long failures, oks, refused;

static unsigned char payload_byte(uint64_t seed, size_t i)
{
    uint64_t x = seed ^ ((uint64_t)i / 8 * 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return (unsigned char)(x >> (8 * (i % 8)));
}

static uint64_t rng_state = 0x1234567;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void finish(struct client *c, int ok, const char *why)
{
    if (c->fd < 0)
        return;
    if (c->kind == 2) {
        struct linger l = {1, 0}; /* close with RST */
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c->fd);
    c->fd = -1;
    if (ok) {
        oks++;
        return;
    }
    failures++;
    if (!quiet && failures <= 5)
        fprintf(stderr, "echo_check: client (kind %d, %zu bytes): %s after %zu sent, %zu echoed\n",
                c->kind, c->total, why, c->sent, c->got);
}

static void on_write(struct client *c)
{
    unsigned char buf[8192];
    size_t limit = c->kind == 2 ? c->total / 2 : c->total;
    while (c->sent < limit) {
        size_t n = 1 + rnd() % sizeof buf; /* random piece sizes */
        if (n > limit - c->sent)
            n = limit - c->sent;
        for (size_t i = 0; i < n; i++)
            buf[i] = payload_byte(c->seed, c->sent + i);
        ssize_t w = write(c->fd, buf, n);
        if (w < 0 && errno == EAGAIN)
            return;
        if (w < 0)
            return finish(c, 0, strerror(errno));
        c->sent += (size_t)w;
    }
    if (c->kind == 2)
        return finish(c, 1, NULL); /* a resetter's job is done: vanish with RST */
    if (c->kind == 1 && !c->wr_shut) {
        shutdown(c->fd, SHUT_WR);
        c->wr_shut = 1;
    }
}

static void on_read(struct client *c)
{
    unsigned char buf[16384];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0)
            return finish(c, 0, strerror(errno));
        if (n == 0) { /* EOF is right only after a half-close and the whole echo */
            int ok = c->kind == 1 && c->got == c->total;
            return finish(c, ok, "unexpected EOF");
        }
        for (ssize_t i = 0; i < n; i++)
            if (c->got + (size_t)i >= c->sent || buf[i] != payload_byte(c->seed, c->got + (size_t)i))
                return finish(c, 0, "wrong byte echoed");
        c->got += (size_t)n;
        if (c->got == c->total && c->kind == 0)
            return finish(c, 1, NULL);
    }
}

int main(int argc, char **argv)
{
    long seed = 1;
    const struct flag flags[] = {
        {"port", 'p', FLAG_INT, &port, 1, 65535, "PORT", "server port"},
        {"host", 0, FLAG_STR, &host, 0, 0, "ADDR", "server address"},
        {"clients", 'c', FLAG_INT, &nclients, 1, 100000, "N", "concurrent clients"},
        {"max-bytes", 0, FLAG_INT, &max_bytes, 1, 1 << 26, "B", "largest payload per client"},
        {"halfclose", 0, FLAG_BOOL, &halfclose, 0, 0, NULL, "every other client half-closes after sending"},
        {"resets", 0, FLAG_INT, &resets, 0, 100000, "N", "this many clients reset mid-message"},
        {"idle-ms", 0, FLAG_INT, &idle_ms, 0, 600000, "MS", "hold all connections idle this long before sending"},
        {"min-ok", 0, FLAG_INT, &min_ok, -1, 100000, "N", "pass if at least N clients succeed (refusals allowed)"},
        {"timeout-s", 0, FLAG_INT, &timeout_s, 1, 3600, "S", "give up after S seconds"},
        {"seed", 0, FLAG_INT, &seed, 1, 1L << 40, "N", "random seed"},
        {"quiet", 'q', FLAG_BOOL, &quiet, 0, 0, NULL, "no per-failure lines"},
        {0},
    };
    const struct flags_spec spec = {"echo_check", "--port PORT [flags]",
                                    "Checks an echo server end to end with many concurrent clients.", flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    if (!port)
        return flags_exit(flags_error(&spec, "--port is required"));
    signal(SIGPIPE, SIG_IGN); /* a refused or reset connection is a failure to count, not death */
    rng_state ^= (uint64_t)seed * 0x9e3779b97f4a7c15ULL;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    struct client *cs = calloc((size_t)nclients, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (long i = 0; i < nclients; i++) {
        struct client *c = &cs[i];
        c->kind = i < resets ? 2 : (halfclose && i % 2) ? 1 : 0;
        c->total = 1 + rnd() % (uint64_t)max_bytes;
        if (c->kind == 2 && c->total < 2)
            c->total = 2;
        c->seed = rnd();
        c->fd = net_connect(host, (int)port);
        if (c->fd < 0) {
            refused++;
            if (min_ok < 0)
                finish(c, 0, strerror(errno));
            continue;
        }
        net_set_nonblock(c->fd);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    if (idle_ms)
        usleep((useconds_t)idle_ms * 1000);

    long long deadline = net_now_ns() + timeout_s * 1000000000LL;
    long open = nclients - refused - failures;
    while (oks + failures < nclients - refused && net_now_ns() < deadline) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            struct client *c = evs[i].data.ptr;
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_read(c);
            if (c->fd >= 0 && (evs[i].events & EPOLLOUT)) {
                on_write(c);
                if (c->fd >= 0 && c->sent == (c->kind == 2 ? c->total / 2 : c->total)) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
        }
    }
    for (long i = 0; i < nclients; i++)
        if (cs[i].fd >= 0)
            finish(&cs[i], 0, "timed out");
    printf("echo_check: %ld clients: %ld ok, %ld failed, %ld could not connect (of %ld opened)\n",
           nclients, oks, failures, refused, open);
    if (min_ok >= 0)
        return oks >= min_ok ? 0 : 1;
    return failures == 0 && refused == 0 ? 0 : 1;
}
