/* fetchd.c — the HTTP/1.1 server the fetchers download from.
 *
 * It must never be the bottleneck of a fetch benchmark, so it is one thread
 * over its own small epoll loop (it uses none of the models): each connection
 * is a little state machine, and one binary heap of deadlines drives every
 * timer — the slowloris guard, ?delay_ms, stalled writes, lingering closes.
 *
 *   READ ──request parsed──> DELAY ──timer──> WRITE ──sent──> READ (keep-alive)
 *     │                        (only with ?delay_ms)    └──────> LINGER ──EOF/timer──> closed
 *     └──timeout / EOF / error──> closed, or an error answer then LINGER
 *
 * Memory per connection is fixed (an 8 KiB request buffer and a 512-byte
 * head): the body is never stored. Every byte of a response on the wire is a
 * function of its offset alone (harness/lib/fetchd_resp.c chooses the answer
 * and generates it), so a connection keeps only how many bytes it has sent,
 * and the next stretch is regenerated into one shared scratch buffer each
 * time the socket accepts more. The request parser is harness/lib/fetchd_parse.c.
 * See docs/fetchd.md for endpoints and limits.
 */
#include "fetchd_resp.h"
#include "flags.h"
#include "heap.h"
#include "net.h"
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "fetchd"

enum {
    FD_SCRATCH = 65536,        /* shared buffer the next stretch of a response is built in */
    FD_WRITE_BUDGET = 4,       /* scratch-fulls per turn: a fast reader cannot starve others */
    FD_ACCEPT_BUDGET = 64,     /* accepts per turn, for the same reason */
    FD_LINGER_MS = 2000,       /* how long to drain a client after shutting our side */
    FD_ACCEPT_PAUSE_MS = 100,  /* listening socket ignored this long after EMFILE */
};

/* --- options ------------------------------------------------------------- */

struct fd_opts {
    const char *bind;     /* address to listen on */
    long port;            /* 0 = a free port */
    long backlog;         /* listen backlog */
    long max_conns;       /* connections served at once; more get 503 */
    long max_delay_ms;    /* largest ?delay_ms accepted */
    long max_bytes;       /* largest N in /bytes/N and /fault/truncate/N */
    long timeout_ms;      /* slowloris guard: whole request within this, no write stall longer */
    long min_rate;        /* bytes/s a response must average after its first timeout_ms (0: no minimum) */
    long print_pattern;   /* >= 0: print that many pattern bytes and exit */
    long control;         /* 1: stdin is a control channel (--control) */
};

static struct fd_opts opt = {
    .bind = "127.0.0.1", .port = 8080, .backlog = 4096, .max_conns = 20000,
    .max_delay_ms = 60000, .max_bytes = 1L << 30, .timeout_ms = 10000, .min_rate = 1024,
    .print_pattern = -1,
};

static int opts_parse(int argc, char **argv)
{
    const struct flag flags[] = {
        {"port", 'p', FLAG_INT, &opt.port, 0, 65535, "PORT", "TCP port; 0 asks the kernel for a free one"},
        {"bind", 'b', FLAG_STR, &opt.bind, 0, 0, "ADDR", "IPv4 address to listen on"},
        {"backlog", 0, FLAG_INT, &opt.backlog, 1, 1 << 20, "N", "listen backlog (the kernel caps it at net.core.somaxconn)"},
        {"max-conns", 'c', FLAG_INT, &opt.max_conns, 1, 1000000, "N", "connections served at once; more are answered 503 and closed"},
        {"max-delay-ms", 0, FLAG_INT, &opt.max_delay_ms, 0, 86400000, "MS", "largest ?delay_ms accepted (more: 400)"},
        {"max-bytes", 0, FLAG_INT, &opt.max_bytes, 0, 1099511627776.0, "N", "largest body N in /bytes/N (more: 400)"},
        {"timeout-ms", 't', FLAG_INT, &opt.timeout_ms, 1, 3600000, "MS", "a whole request must arrive, and a write may stall, at most this long"},
        {"min-rate", 0, FLAG_INT, &opt.min_rate, 0, 1L << 40, "BYTES", "after its first --timeout-ms a response must average this many bytes/s, or the connection is closed (0: no minimum)"},
        {"print-pattern", 0, FLAG_INT, &opt.print_pattern, 0, 1099511627776.0, "N", "print the first N bytes of the /bytes pattern on stdout and exit"},
        {"control", 0, FLAG_BOOL, &opt.control, 0, 0, NULL, "stdin controls fetchd (run through ssh on a server host): each line read is answered on stdout with 'cpu USER_S SYS_S', fetchd's CPU so far; the end of stdin stops it as SIGTERM does"},
        {0},
    };
    const struct flags_spec spec = {
        PROG, "[flags]",
        "The HTTP/1.1 target server for the fetchers, curl and wrk. GET /bytes/N answers N\n"
        "bytes of a fixed pattern (?delay_ms=D holds the answer D ms, ?chunked=1 sends it\n"
        "chunked); /fault/... misbehave on purpose; GET / lists every endpoint.",
        flags, 0,
    };
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return fr;
    return 0;
}

/* --print-pattern: the first n bytes of every /bytes body, on stdout. */
static int pat_print(uint64_t n)
{
    static char buf[FD_SCRATCH];
    for (uint64_t at = 0; at < n;) {
        size_t take = n - at < sizeof buf ? (size_t)(n - at) : sizeof buf;
        fdr_pattern(buf, at, take);
        if (net_write_all(STDOUT_FILENO, buf, take) < 0) {
            fprintf(stderr, PROG ": writing the pattern: %s\n", strerror(errno));
            return 1;
        }
        at += take;
    }
    return 0;
}

/* --- connections ---------------------------------------------------------- */

enum fd_state {
    FD_READ,    /* waiting for a whole request header section */
    FD_DELAY,   /* request answered in principle, held until the deadline (?delay_ms) */
    FD_WRITE,   /* sending the response */
    FD_LINGER,  /* our side shut down; draining the client until EOF or the deadline */
};

struct fd_conn {
    int fd;                   /* the client's socket */
    enum fd_state state;      /* what the connection waits for */
    unsigned events;          /* epoll events asked for now */
    struct heap_node timer;   /* its one timer in srv.timers; key: when it fires (monotonic ns) */
    uint64_t sent;            /* response bytes (head + body on the wire) sent so far */
    long long write_start;    /* when the response began to be sent (monotonic ns) */
    struct fdr_resp resp;     /* the answer being sent (fetchd_resp.h) */
    struct fdp_in in;         /* the request bytes as received (pipelined ones too); last */
};

/* The server: one of it, so a file-level variable. */
static struct {
    int ep;                    /* the epoll instance */
    int lfd;                   /* listening socket */
    int sigfd;                 /* SIGINT/SIGTERM arrive here */
    long max_conns;            /* the cap actually applied (descriptors permitting) */
    long nconns;               /* connections open now */
    struct heap timers;        /* every connection's timer (heap.h); room for max_conns */
    long long accept_resume;   /* after EMFILE: when to watch lfd again; 0 = watching */
    char scratch[FD_SCRATCH];  /* where responses are generated just before write() */
} srv;

/* epoll's data.ptr for the two descriptors that are not connections */
static char tag_listen, tag_signal, tag_stdin;

static long long now_ns(void) { return net_now_ns(); }
static long long ms_ns(long ms) { return (long long)ms * 1000000LL; }

/* Say something on stderr at most once a second, so floods stay readable. */
static void complain(const char *what)
{
    static struct ratelog rl; /* models/common/ratelog.h, through server.h */
    ratelog(&rl, PROG ": %s", what);
}

/* --- the timer heap (models/common/heap.h) ------------------------------------ */

static struct fd_conn *timer_conn(struct heap_node *n)
{
    return heap_entry(n, struct fd_conn, timer);
}

/* Arm the connection's one timer for `deadline`. */
static void conn_timer(struct fd_conn *c, long long deadline)
{
    heap_push(&srv.timers, &c->timer, deadline); /* room for max_conns: cannot fail */
}

/* --- connection life ------------------------------------------------------- */

/* Ask epoll for exactly these events (0: only errors and hang-ups). */
static void conn_watch(struct fd_conn *c, unsigned events)
{
    /* If epoll_ctl fails (out of memory) the connection's timer still ends it. */
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(srv.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = events;
}

static void conn_close(struct fd_conn *c, int reset)
{
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    heap_remove(&srv.timers, &c->timer);
    close(c->fd);
    free(c);
    srv.nconns--;
}

/* Start waiting for the next request (fresh connection or keep-alive). */
static void conn_expect_request(struct fd_conn *c)
{
    c->state = FD_READ;
    c->in.req_len = 0;
    c->in.scanned = 0;
    conn_timer(c, now_ns() + ms_ns(opt.timeout_ms));
}

static struct fd_conn *conn_new(int fd)
{
    struct fd_conn *c = malloc(sizeof *c); /* in[] left untouched: pages only as used */
    if (!c)
        return NULL;
    c->fd = fd;
    c->events = EPOLLIN;
    heap_node_init(&c->timer);
    fdp_init(&c->in);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(srv.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c);
        return NULL;
    }
    srv.nconns++;
    conn_expect_request(c);
    return c;
}

/* --- moving a connection along ------------------------------------------------ */

static void conn_begin_write(struct fd_conn *c)
{
    c->state = FD_WRITE;
    c->sent = 0;
    c->write_start = now_ns();
    conn_timer(c, c->write_start + ms_ns(opt.timeout_ms));
}

/* When a response in progress is given up: after --timeout-ms without
 * progress (a client that stopped reading), or once it falls below
 * --min-rate on average after its first --timeout-ms (a client that takes a
 * few bytes now and then, so it never quite stops: mod_reqtimeout's minrate). */
static long long conn_write_deadline(const struct fd_conn *c, long long now)
{
    long long stall = now + ms_ns(opt.timeout_ms);
    if (opt.min_rate <= 0)
        return stall;
    double earned_s = (double)c->sent / (double)opt.min_rate; /* time the bytes sent buy */
    if (earned_s > 1e6)
        return stall; /* beyond any stall deadline anyway */
    long long rate = c->write_start + ms_ns(opt.timeout_ms) + (long long)(earned_s * 1e9);
    return rate < stall ? rate : stall;
}

/* If in[] holds a whole request, decide its answer and leave FD_READ.
 * Returns 1 if it did. */
static int conn_take_request(struct fd_conn *c)
{
    struct fdp_req r;
    const char *why = NULL;
    int status = fdp_take(&c->in, &r, opt.max_delay_ms, &why);
    if (status == FDP_MORE)
        return 0;
    if (status == 0)
        status = fdr_route(&c->resp, &r, (uint64_t)opt.max_bytes, &why);
    if (status) {
        fdr_error(&c->resp, r.head_only, status, why);
        conn_begin_write(c);
        return 1;
    }
    if (r.delay_ms > 0) {
        c->state = FD_DELAY;
        conn_timer(c, now_ns() + ms_ns(r.delay_ms));
        return 1;
    }
    conn_begin_write(c);
    return 1;
}

/* The response is out: keep reading, or close as c->after says.
 * Returns 0 if the connection is gone. */
static int conn_finish(struct fd_conn *c)
{
    if (c->resp.after == FDR_AFTER_RESET) {
        conn_close(c, 1);
        return 0;
    }
    if (c->resp.after == FDR_AFTER_CLOSE) {
        /* Shut only our side and drain: closing with unread request bytes
         * would send RST, which can destroy the answer before it is read. */
        shutdown(c->fd, SHUT_WR);
        c->state = FD_LINGER;
        conn_timer(c, now_ns() + ms_ns(FD_LINGER_MS));
        return 1;
    }
    fdp_next(&c->in); /* pipelined requests stay */
    conn_expect_request(c);
    return 1;
}

/* Send what the socket accepts. Returns 1 when the response is complete,
 * 0 if it must wait for EPOLLOUT, -1 if the connection is gone. */
static int conn_send(struct fd_conn *c)
{
    int progress = 0;
    for (int turn = 0; turn < FD_WRITE_BUDGET; turn++) {
        size_t len = fdr_fill(&c->resp, c->sent, srv.scratch, sizeof srv.scratch);
        if (len == 0)
            return 1;
        ssize_t w = send(c->fd, srv.scratch, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN) {
            conn_close(c, 0);
            return -1;
        }
        if (w > 0) {
            c->sent += (uint64_t)w;
            progress = 1;
        }
        if (w < 0 || (size_t)w < len)
            break;
    }
    if (progress) /* a stall or a trickle, not a long download, is what times out */
        conn_timer(c, conn_write_deadline(c, now_ns()));
    return 0;
}

/* Move the connection as far as it can go without waiting, then ask epoll
 * for what it waits for. */
static void conn_advance(struct fd_conn *c)
{
    for (;;) {
        switch (c->state) {
        case FD_READ:
            if (!conn_take_request(c)) {
                conn_watch(c, EPOLLIN);
                return;
            }
            break;
        case FD_DELAY:
            conn_watch(c, 0);
            return;
        case FD_WRITE: {
            int done = conn_send(c);
            if (done < 0)
                return;
            if (done == 0) {
                conn_watch(c, EPOLLOUT);
                return;
            }
            if (!conn_finish(c))
                return;
            break;
        }
        case FD_LINGER:
            conn_watch(c, EPOLLIN);
            return;
        }
    }
}

/* Bytes arrived (or EOF). Returns 0 if the connection is gone. */
static int conn_read(struct fd_conn *c)
{
    char *dst = c->in.buf + c->in.len;
    size_t room = sizeof c->in.buf - c->in.len;
    if (c->state == FD_LINGER) { /* drain into the scratch and forget */
        dst = srv.scratch;
        room = sizeof srv.scratch;
    }
    if (c->state != FD_READ && c->state != FD_LINGER)
        return 1; /* not listening for requests now: leave the bytes queued */
    ssize_t n = read(c->fd, dst, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 1;
    if (n <= 0) { /* EOF or error: nobody left to answer */
        conn_close(c, 0);
        return 0;
    }
    if (c->state == FD_READ)
        c->in.len += (size_t)n;
    return 1;
}

static void conn_event(struct fd_conn *c, unsigned events)
{
    if (events & (EPOLLERR | EPOLLHUP)) {
        conn_close(c, 0);
        return;
    }
    if ((events & EPOLLIN) && !conn_read(c))
        return;
    conn_advance(c);
}

/* A connection's timer fired. */
static void conn_expired(struct fd_conn *c)
{
    switch (c->state) {
    case FD_READ:
        if (c->in.len == 0) { /* idle keep-alive: just close */
            conn_close(c, 0);
            return;
        }
        fdr_error(&c->resp, 0, 408, "the request did not arrive in time (--timeout-ms)");
        conn_begin_write(c);
        break;
    case FD_DELAY:
        conn_begin_write(c);
        break;
    case FD_WRITE: /* the client stopped reading, or reads slower than --min-rate */
        /* Reset, not FIN: a close would leave the kernel still feeding the
         * megabytes queued in the socket to that same slow reader (nginx's
         * reset_timedout_connection). */
        conn_close(c, 1);
        return;
    case FD_LINGER: /* the client never closed */
        conn_close(c, 0);
        return;
    }
    conn_advance(c);
}

/* --- the server --------------------------------------------------------------- */

/* Over the cap: answer 503 without waiting and close. */
static void srv_refuse(int fd)
{
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 34\r\n"
        "Connection: close\r\n\r\n503 Service Unavailable: too busy\n";
    if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* nothing to do: the close below is the answer */
    }
    close(fd);
    complain("connection cap (--max-conns) reached; answering 503");
}

static void srv_watch_listen(int on)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    epoll_ctl(srv.ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, srv.lfd, &ev);
}

/* Accept what is pending. Returns -1 on an error that must stop the server. */
static int srv_accept(void)
{
    for (int i = 0; i < FD_ACCEPT_BUDGET; i++) {
        int fd = accept4(srv.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int r = server_accept_failed(srv.lfd, errno, PROG);
            if (r == 1) { /* out of descriptors: stop listening a moment */
                srv_watch_listen(0);
                srv.accept_resume = now_ns() + ms_ns(FD_ACCEPT_PAUSE_MS);
            }
            return r < 0 ? -1 : 0;
        }
        if (srv.nconns >= srv.max_conns) {
            srv_refuse(fd);
            continue;
        }
        net_set_nodelay(fd); /* the last small segment of a body must not wait for an ACK */
        struct fd_conn *c = conn_new(fd);
        if (!c) {
            close(fd);
            complain("out of memory for a new connection");
            continue;
        }
        conn_advance(c);
    }
    return 0;
}

/* Milliseconds epoll may sleep: until the next timer, or forever. */
static int srv_timeout_ms(long long now)
{
    long long next = -1;
    if (heap_top(&srv.timers))
        next = heap_top(&srv.timers)->key;
    if (srv.accept_resume && (next < 0 || srv.accept_resume < next))
        next = srv.accept_resume;
    if (next < 0)
        return -1;
    if (next <= now)
        return 0;
    long long ms = (next - now + 999999) / 1000000; /* round up: never wake early */
    return ms > 3600000 ? 3600000 : (int)ms;
}

static void srv_run_timers(long long now)
{
    struct heap_node *t;
    while ((t = heap_top(&srv.timers)) && t->key <= now)
        conn_expired(timer_conn(t)); /* each one re-arms or removes its timer */
    if (srv.accept_resume && srv.accept_resume <= now) {
        srv.accept_resume = 0;
        srv_watch_listen(1);
    }
}

/* Let the process hold as many descriptors as the hard limit allows, and
 * cap connections below that so accept() keeps a little headroom. */
static void srv_limits(void)
{
    struct rlimit rl;
    srv.max_conns = opt.max_conns;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    long room = rl.rlim_cur == RLIM_INFINITY ? opt.max_conns : (long)rl.rlim_cur - 32;
    if (room < srv.max_conns) {
        srv.max_conns = room > 1 ? room : 1;
        if (srv.max_conns < 10000)
            fprintf(stderr, PROG ": descriptor limit %ld caps connections at %ld (raise ulimit -Hn)\n",
                    (long)rl.rlim_cur, srv.max_conns);
    }
}

/* --control: answer each line on stdin with fetchd's CPU so far (the
 * runner asks before and after each run: fetchd's share of a run, measured
 * on the server host); returns 1 once stdin has ended (stop). */
static int srv_control(void)
{
    char buf[256];
    ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r <= 0)
        return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    for (ssize_t i = 0; i < r; i++)
        if (buf[i] == '\n')
            printf("cpu %ld.%06ld %ld.%06ld\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
                   (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    fflush(stdout);
    return 0;
}

static int srv_setup(void)
{
    srv_limits();
    int heap_rc = heap_reserve(&srv.timers, (size_t)srv.max_conns);
    srv.ep = epoll_create1(EPOLL_CLOEXEC);
    srv.sigfd = server_signals(0);
    if (heap_rc < 0 || srv.ep < 0 || srv.sigfd < 0) {
        fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_signal};
    epoll_ctl(srv.ep, EPOLL_CTL_ADD, srv.sigfd, &ev);
    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = &tag_stdin};
    if (opt.control && epoll_ctl(srv.ep, EPOLL_CTL_ADD, STDIN_FILENO, &cev) < 0) {
        fprintf(stderr, PROG ": --control: stdin cannot be watched (%s): a pipe or socket, please\n",
                strerror(errno));
        return -1;
    }
    struct server_opts so = {.bind = opt.bind, .port = opt.port, .backlog = opt.backlog};
    char why[160];
    srv.lfd = server_listen(&so, why, sizeof why); /* prints the ready line */
    if (srv.lfd < 0) {
        fprintf(stderr, PROG ": %s\n", why);
        return -1;
    }
    net_set_nonblock(srv.lfd);
    srv_watch_listen(1);
    return 0;
}

static int srv_loop(void)
{
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(srv.ep, evs, 256, srv_timeout_ms(now_ns()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &tag_signal && server_signal_read(srv.sigfd))
                return 0;
            if (p == &tag_listen && srv_accept() < 0)
                return 1;
            if (p == &tag_stdin && srv_control())
                return 0;
            if (p != &tag_signal && p != &tag_listen && p != &tag_stdin)
                conn_event(p, evs[i].events);
        }
        srv_run_timers(now_ns());
    }
}

int main(int argc, char **argv)
{
    int pr = opts_parse(argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    fdr_init();
    if (opt.print_pattern >= 0)
        return pat_print((uint64_t)opt.print_pattern);
    int rc = 1;
    if (srv_setup() < 0)
        goto out;
    rc = srv_loop();
out:
    while (heap_top(&srv.timers)) /* every connection is in the heap */
        conn_close(timer_conn(heap_top(&srv.timers)), 0);
    heap_free(&srv.timers);
    return rc;
}
