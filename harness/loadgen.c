/* loadgen — drives an echo server and measures every round trip.
 *
 * Closed loop (the default): each connection sends one message, waits for
 * its whole echo, checks every byte, records the round trip, and sends the
 * next at once. The server sets the pace, so this measures throughput and
 * the latency seen at that throughput.
 *
 * Open loop (--rate R): messages are due at a fixed rate, R per second over
 * all connections, spread evenly. Latency counts from when a message was DUE,
 * not when it went out: a server that stalls for 100 ms makes every message
 * due in those 100 ms late, and that lateness is what users see (the
 * "coordinated omission" correction). The uncorrected figure, from the
 * actual send, is kept in a second histogram for comparison.
 *
 * Fairness: every connection counts the messages it got back, so the report
 * can say how evenly the server shared itself out (no-reply connections,
 * min / median / max per connection, Jain's index). A connection that never
 * gets its first reply just waits: the run still stops at --secs.
 *
 * Churn (--per-conn K): after K messages the client closes the connection and
 * opens a new one in the same slot, so the server pays for an accept (a fork,
 * a hand-off...) every K messages. The closing side is the client: TIME_WAIT
 * is on loadgen's side, and its local ports are what can run out.
 *
 * A message is checked without storing it (harness/lib/loadgen_msg.c): the
 * echo is compared piece by piece as it arrives with what (connection id,
 * sequence number) say was sent, so one thread-wide read buffer serves every
 * connection. The results are printed by harness/lib/loadgen_report.c.
 *
 * Cost per message: one write(), normally one read(), a share of one
 * epoll_wait(), two reads of the vDSO clock. Nothing is allocated after the
 * connections are open. */
#include "flags.h"
#include "heap.h"
#include "hist.h"
#include "loadgen_msg.h"
#include "loadgen_report.h"
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PROG "loadgen"
enum { LG_EVENTS = 256 };

/* --- options ---------------------------------------------------------------- */

struct lg_opts {
    const char *host;        /* server address (--host) */
    long port;               /* server port (--port) */
    long conns;              /* connections (-c) */
    long msg_bytes;          /* bytes per message (--msg-bytes) */
    double secs;             /* measured duration (--secs); 0: not given */
    long count;              /* stop after this many messages (--count); 0: no limit */
    long threads;            /* threads sharing the connections (--threads) */
    double connect_rate;     /* connections opened per second (--connect-rate) */
    double reconnect_rate;   /* --per-conn: reconnects per second at most; 0: not limited */
    long per_conn;           /* close and reopen after this many messages (--per-conn); 0: never */
    long connect_inflight;   /* connects in progress at most (--connect-inflight) */
    double warmup;           /* seconds of traffic not recorded (--warmup) */
    double rate;             /* open loop: messages per second in total (--rate); 0: closed */
    int csv;                 /* print CSV (--csv) */
    int json;                /* print JSON (--json) */
    int progress;            /* a line per second on stderr (--progress) */
    const char *percentiles; /* file for the percentile text (--percentiles) */
    long start_at;           /* traffic starts at this CLOCK_REALTIME, ns (--start-at); 0: at once */
    const char *dump;        /* file for the counters, to be merged with other hosts' (--dump) */
};

/* --- connections and threads ---------------------------------------------------- */

enum lg_state {
    LG_IDLE,     /* no message outstanding (open loop: waiting until the next is due) */
    LG_WAITING,  /* a message is out; reading its echo */
    LG_CLOSED,   /* failed or never connected: not reopened */
    LG_PENDING,  /* --per-conn: closed after K messages, waiting for its turn to reconnect */
    LG_CONNECTING, /* --per-conn: a new connection in progress */
};

struct lg_conn {
    int fd;              /* the socket */
    enum lg_state state; /* see above */
    uint64_t id;         /* connection number, stamped into every message */
    uint64_t seq;        /* sequence number of the current message */
    size_t sent;         /* bytes of the current message written */
    size_t got;          /* bytes of its echo read back and checked */
    int counted;         /* the current message is measured (not warm-up) */
    int out;             /* waiting for EPOLLOUT too (a write was short) */
    long long sent_ns;   /* when the current message was written */
    long long due_ns;    /* open loop: when it was due */
    struct heap_node timer; /* open loop: in the thread's heap while idle; key: due_ns.
                               --per-conn: in it while pending; key: when it may connect */
    int opened;          /* the first connect succeeded: the slot counts for fairness */
    long msgs;           /* measured messages completed in this slot (all its connections) */
    long k;              /* --per-conn: messages completed on the current connection */
};

struct lg_thread {
    struct lg_run *run;        /* the shared settings */
    pthread_t tid;             /* this thread */
    int ep;                    /* its epoll set */
    struct lg_conn *conns;     /* its slice of the connections */
    long nconns;               /* how many */
    long live;                 /* how many are not closed */
    long quota;                /* measured messages to complete (0: no limit) */
    long issued;               /* measured messages sent */
    long done;                 /* measured messages completed */
    long waiting;              /* connections with a message outstanding */
    long errors;               /* connections failed */
    long connecting;           /* --per-conn: connects in progress */
    long connect_cap;          /* --per-conn: their limit, this thread's share of --connect-inflight */
    long long connect_gap_ns;  /* --per-conn with --connect-rate: time between two reconnects */
    long long next_connect_ns; /* ... and when the next one may start */
    long connects;             /* --per-conn: connections established in the traffic phase */
    long conns_done;           /* --per-conn: connections that ended after K messages, measured */
    int first_err;             /* errno of the first failed reconnect, 0 if none */
    long long end_ns;          /* when this thread stopped */
    long long began_real_ns;   /* CLOCK_REALTIME when its traffic began (--dump says it) */
    struct hist *lat;          /* round trips (open loop: from the due time) */
    struct hist *unc;          /* open loop: from the actual send */
    struct heap timers;        /* open loop: idle connections, earliest due first (heap.h) */
    unsigned char *wbuf;       /* the message being written */
    unsigned char *rbuf;       /* echo bytes as they arrive */
    _Atomic long progress;     /* done, published for --progress */
    _Atomic long progress_err; /* errors, published for --progress */
    _Atomic int finished;      /* set when the thread is done */
};

struct lg_run {
    const struct lg_opts *o;    /* the options */
    size_t len;                 /* message size */
    unsigned char *pattern;     /* message bodies are slices of this (loadgen_msg.h) */
    long long start_ns;         /* traffic starts (open loop: first due time) */
    long long measure_ns;       /* warm-up ends, recording starts */
    long long stop_ns;          /* recording stops (duration over) */
    long long interval_ns;      /* open loop: time between one connection's messages */
    long long interval_frac;    /* open loop: interval_ns / conns, the spread between connections */
};

/* --- the open loop's timer heap: idle connections by due time ---------------- */

static void lg_heap_push(struct lg_thread *t, struct lg_conn *c)
{
    heap_push(&t->timers, &c->timer, c->due_ns); /* room for every connection: cannot fail */
}

static struct lg_conn *lg_heap_pop(struct lg_thread *t)
{
    return heap_entry(heap_pop(&t->timers), struct lg_conn, timer);
}

/* --- sending and receiving ------------------------------------------------------ */

static void lg_close(struct lg_thread *t, struct lg_conn *c)
{
    if (c->state == LG_WAITING) {
        t->waiting--;
        t->issued -= c->counted; /* lost, not completed */
    }
    if (c->state == LG_CONNECTING)
        t->connecting--;
    close(c->fd);
    c->fd = -1;
    c->state = LG_CLOSED;
    t->live--;
    t->errors++;
    atomic_store_explicit(&t->progress_err, t->errors, memory_order_relaxed);
}

static int lg_want_out(struct lg_thread *t, struct lg_conn *c, int out)
{
    if (out == c->out)
        return 0;
    c->out = out;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    return epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write (the rest of) the current message. A short write is rare (large
 * messages): the message is rebuilt from (id, seq) when writable again. */
static void lg_write(struct lg_thread *t, struct lg_conn *c)
{
    const struct lg_run *r = t->run;
    lgm_fill(r->pattern, r->len, c->id, c->seq, t->wbuf);
    ssize_t w = write(c->fd, t->wbuf + c->sent, r->len - c->sent);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
        lg_close(t, c);
        return;
    }
    c->sent += w > 0 ? (size_t)w : 0;
    if (lg_want_out(t, c, c->sent < r->len) < 0)
        lg_close(t, c);
}

/* Start the next message on c at time now (the message's due time: due). */
static void lg_send(struct lg_thread *t, struct lg_conn *c, long long now, long long due)
{
    const struct lg_run *r = t->run;
    c->counted = due >= r->measure_ns;
    if (c->counted && t->quota && t->issued >= t->quota) {
        c->state = LG_IDLE; /* the quota is out: this connection rests */
        return;
    }
    t->issued += c->counted;
    t->waiting++;
    c->state = LG_WAITING;
    c->sent = c->got = 0;
    c->sent_ns = now;
    c->due_ns = due;
    lg_write(t, c);
}

/* --- churn (--per-conn K): close after K messages, open a new connection ---- */

/* A reconnect failed with err: the slot is closed for good, like any error
 * (a server that refuses connections is not hidden by retries). */
static void lg_connect_failed(struct lg_thread *t, struct lg_conn *c, int err)
{
    if (!t->first_err)
        t->first_err = err;
    if (c->fd >= 0) {
        lg_close(t, c);
        return;
    }
    c->state = LG_CLOSED;
    t->live--;
    t->errors++;
    atomic_store_explicit(&t->progress_err, t->errors, memory_order_relaxed);
}

/* c's connection has done its K messages: the client closes it (so TIME_WAIT
 * is on this side) and queues the slot to reconnect, no sooner than
 * --connect-rate allows when it was given. */
static void lg_recycle(struct lg_thread *t, struct lg_conn *c, long long now)
{
    const struct lg_run *r = t->run;
    if (now >= r->measure_ns && now <= r->stop_ns)
        t->conns_done++;
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->out = 0;
    c->state = LG_PENDING;
    long long at = now;
    if (t->connect_gap_ns) {
        if (t->next_connect_ns > at)
            at = t->next_connect_ns;
        t->next_connect_ns = at + t->connect_gap_ns;
    }
    heap_push(&t->timers, &c->timer, at); /* room for every connection: cannot fail */
}

/* Start a non-blocking connect for the pending slot c. */
static void lg_reopen(struct lg_thread *t, struct lg_conn *c)
{
    const struct lg_opts *o = t->run->o;
    c->fd = net_connect_start(o->host, (int)o->port);
    if (c->fd < 0) {
        lg_connect_failed(t, c, errno); /* EADDRNOTAVAIL: out of local ports */
        return;
    }
    c->state = LG_CONNECTING;
    t->connecting++;
    c->out = 1; /* registered for EPOLLOUT: lg_want_out knows */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        lg_connect_failed(t, c, errno);
}

/* c's connect finished (writable, or an error): send its first message. */
static void lg_connected(struct lg_thread *t, struct lg_conn *c, long long now)
{
    int err = net_connect_result(c->fd);
    if (err == 0 && net_set_nodelay(c->fd) < 0)
        err = errno;
    if (err == 0 && lg_want_out(t, c, 0) < 0)
        err = errno;
    if (err) {
        lg_connect_failed(t, c, err);
        return;
    }
    t->connecting--;
    t->connects++;
    c->k = 0;
    c->state = LG_IDLE;
    lg_send(t, c, now, now);
}

/* The whole echo of c's message is in, at time now: record it, go on. */
static void lg_complete(struct lg_thread *t, struct lg_conn *c, long long now)
{
    const struct lg_run *r = t->run;
    if (c->counted && now <= r->stop_ns) {
        hist_record(t->lat, (uint64_t)(now - c->due_ns));
        if (r->o->rate > 0)
            hist_record(t->unc, (uint64_t)(now - c->sent_ns));
        t->done++;
        c->msgs++;
        atomic_store_explicit(&t->progress, t->done, memory_order_relaxed);
    }
    c->seq++;
    c->state = LG_IDLE;
    t->waiting--;
    if (r->o->per_conn && ++c->k >= r->o->per_conn) {
        lg_recycle(t, c, now); /* churn: this connection has done its K */
        return;
    }
    if (r->o->rate <= 0) {
        lg_send(t, c, now, now); /* closed loop: the next one now */
        return;
    }
    long long due = c->due_ns + r->interval_ns;
    if (due <= now)
        lg_send(t, c, now, due); /* behind schedule: send at once */
    else {
        c->due_ns = due;
        lg_heap_push(t, c);
    }
}

/* Readable: read no more than the rest of the outstanding echo and check it. */
static void lg_read(struct lg_thread *t, struct lg_conn *c)
{
    const struct lg_run *r = t->run;
    size_t want = c->state == LG_WAITING ? r->len - c->got : 1; /* idle: any byte is wrong */
    ssize_t n = read(c->fd, t->rbuf, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || c->state != LG_WAITING || c->got + (size_t)n > c->sent ||
        !lgm_check(r->pattern, c->id, c->seq, c->got, t->rbuf, (size_t)n)) {
        lg_close(t, c); /* EOF, reset, bytes we never sent, or wrong bytes */
        return;
    }
    c->got += (size_t)n;
    if (c->got == r->len)
        lg_complete(t, c, net_now_ns());
}

/* --- one thread's loop ------------------------------------------------------------ */

/* Wait for events until deadline (ns); epoll_pwait2 has ns resolution. */
static int lg_wait(struct lg_thread *t, struct epoll_event *evs, long long now, long long deadline)
{
    long long left = deadline > now ? deadline - now : 0;
    struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
    int n = epoll_pwait2(t->ep, evs, LG_EVENTS, &ts, NULL);
    if (n < 0 && errno == ENOSYS) /* older kernel: millisecond timeouts */
        n = epoll_wait(t->ep, evs, LG_EVENTS, (int)((left + 999999) / 1000000));
    return n < 0 && errno == EINTR ? 0 : n;
}

/* Is this thread done? */
static int lg_finished(const struct lg_thread *t, long long now)
{
    if (t->live == 0 || now >= t->run->stop_ns)
        return 1;
    if (t->waiting == 0 && t->timers.len == 0 && t->connecting == 0)
        return 1; /* every connection rests: nothing more can happen */
    /* --count: every measured message sent has come back (or was lost) */
    return t->quota && t->issued >= t->quota && t->waiting == 0;
}

static void *lg_thread_main(void *arg)
{
    struct lg_thread *t = arg;
    const struct lg_run *r = t->run;
    int open_loop = r->o->rate > 0;
    struct epoll_event evs[LG_EVENTS];
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* wake within 1 us of a due time, not 50 */
    long long now = net_now_ns();
    while (now < r->start_ns) { /* all threads start together */
        lg_wait(t, evs, now, r->start_ns);
        now = net_now_ns();
    }
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    t->began_real_ns = real.tv_sec * 1000000000LL + real.tv_nsec;
    for (long i = 0; i < t->nconns; i++) {
        struct lg_conn *c = &t->conns[i];
        if (c->state == LG_CLOSED)
            continue;
        if (open_loop) {
            c->due_ns = r->start_ns + (long long)c->id * r->interval_frac;
            lg_heap_push(t, c);
        } else {
            now = net_now_ns();
            lg_send(t, c, now, now);
        }
    }
    while (!lg_finished(t, now)) {
        /* --per-conn: no more connects in progress than this thread's share */
        while (t->timers.len && heap_top(&t->timers)->key <= now && t->connecting < t->connect_cap) {
            struct lg_conn *c = lg_heap_pop(t);
            if (c->state == LG_PENDING)
                lg_reopen(t, c);
            else if (c->state == LG_IDLE)
                lg_send(t, c, net_now_ns(), c->due_ns);
        }
        if (t->live == 0)
            break; /* every slot failed (--per-conn: out of ports, refused): do not wait out --secs */
        long long deadline = r->stop_ns;
        if (t->timers.len && heap_top(&t->timers)->key < deadline && t->connecting < t->connect_cap)
            deadline = heap_top(&t->timers)->key;
        int n = lg_wait(t, evs, now, deadline);
        if (n < 0) {
            perror(PROG ": epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            struct lg_conn *c = evs[i].data.ptr;
            if (c->state == LG_CLOSED || c->state == LG_PENDING)
                continue;
            if (c->state == LG_CONNECTING) {
                lg_connected(t, c, net_now_ns());
                continue;
            }
            if ((evs[i].events & EPOLLOUT) && c->sent < r->len)
                lg_write(t, c);
            if (c->state != LG_CLOSED && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                lg_read(t, c);
        }
        now = net_now_ns();
    }
    t->end_ns = now < r->stop_ns ? now : r->stop_ns;
    atomic_store(&t->finished, 1);
    return NULL;
}

/* --- opening the connections ---------------------------------------------------- */

/* Open all connections from the main thread, at most connect_rate per second
 * and connect_inflight at a time, so the server's listen backlog never
 * overflows. Returns how many are open; *first_err is the first failure. */
static long lg_connect_all(const struct lg_opts *o, struct lg_conn *cs, long *errors,
                           int *first_err)
{
    struct epoll_event evs[LG_EVENTS];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        *first_err = errno;
        return 0;
    }
    long next = 0, inflight = 0, open = 0;
    long long start = net_now_ns();
    long long limit = start + (long long)((double)o->conns / o->connect_rate * 1e9) + 10000000000LL;
    while (next < o->conns || inflight > 0) {
        long long now = net_now_ns();
        if (now > limit) /* hard cap: whatever is still connecting has failed */
            break;
        long allowed = (long)((double)(now - start) * o->connect_rate / 1e9) + 1;
        while (next < o->conns && next < allowed && inflight < o->connect_inflight) {
            struct lg_conn *c = &cs[next++];
            c->fd = net_connect_start(o->host, (int)o->port);
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            if (c->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                if (!*first_err)
                    *first_err = errno;
                if (c->fd >= 0)
                    close(c->fd);
                c->fd = -1;
                (*errors)++;
                continue;
            }
            inflight++;
        }
        int n = epoll_wait(ep, evs, LG_EVENTS, 1);
        for (int i = 0; i < n; i++) {
            struct lg_conn *c = evs[i].data.ptr;
            int err = net_connect_result(c->fd);
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            inflight--;
            if (err == 0 && net_set_nodelay(c->fd) == 0) {
                c->state = LG_IDLE;
                c->opened = 1;
                open++;
                continue;
            }
            if (!*first_err)
                *first_err = err ? err : errno;
            close(c->fd);
            c->fd = -1;
            (*errors)++;
        }
    }
    for (long i = 0; i < next; i++) { /* timed out while connecting */
        if (cs[i].fd >= 0 && cs[i].state == LG_CLOSED) {
            close(cs[i].fd);
            cs[i].fd = -1;
            (*errors)++;
            if (!*first_err)
                *first_err = ETIMEDOUT;
        }
    }
    close(ep);
    return open;
}

/* --- main -------------------------------------------------------------------------- */

static int lg_parse(struct lg_opts *o, int argc, char **argv)
{
    const struct flag flags[] = {
        {"host", 0, FLAG_STR, &o->host, 0, 0, "HOST", "server address"},
        {"port", 'p', FLAG_INT, &o->port, 0, 65535, "PORT", "server port (required; 0: not given)"},
        {"conns", 'c', FLAG_INT, &o->conns, 1, 10000, "N", "connections"},
        {"msg-bytes", 0, FLAG_INT, &o->msg_bytes, 16, 65536, "B", "bytes per message"},
        {"secs", 0, FLAG_DOUBLE, &o->secs, 0, 86400, "S", "measured duration; 0: 5 s, or at most 60 s with --count"},
        {"count", 0, FLAG_INT, &o->count, 1, 1000000000000L, "M", "stop after M measured messages in total"},
        {"threads", 't', FLAG_INT, &o->threads, 1, 64, "N", "threads; each drives its share of the connections"},
        {"connect-rate", 0, FLAG_DOUBLE, &o->connect_rate, 1, 1e6, "R", "connections opened per second at the start (default 2000); with --per-conn, if given, also reconnects per second at most"},
        {"connect-inflight", 0, FLAG_INT, &o->connect_inflight, 1, 10000, "N", "connects in progress at most (with --per-conn: reconnects too)"},
        {"per-conn", 0, FLAG_INT, &o->per_conn, 1, 1000000000L, "K", "churn: close each connection after K messages and open a new one (default: never)"},
        {"warmup", 0, FLAG_DOUBLE, &o->warmup, 0, 3600, "S", "seconds of traffic before recording starts"},
        {"rate", 0, FLAG_DOUBLE, &o->rate, 0, 1e8, "R", "open loop: R messages per second in total (0: closed loop)"},
        {"csv", 0, FLAG_BOOL, &o->csv, 0, 0, NULL, "print a CSV header and one row"},
        {"json", 0, FLAG_BOOL, &o->json, 0, 0, NULL, "print one JSON object"},
        {"progress", 0, FLAG_BOOL, &o->progress, 0, 0, NULL, "a progress line per second on stderr"},
        {"percentiles", 0, FLAG_STR, &o->percentiles, 0, 0, "FILE", "write the latency percentile spectrum (us, HdrHistogram layout)"},
        {"start-at", 0, FLAG_INT, &o->start_at, 0, 4000000000000000000L, "NS", "traffic starts at this wall-clock time (ns since 1970, CLOCK_REALTIME), connections opened before: load hosts start together"},
        {"dump", 0, FLAG_STR, &o->dump, 0, 0, "FILE", "also write the histogram's counters and each connection's messages, for bin/loadmerge"},
        {0},
    };
    const struct flags_spec spec = {PROG, "--port PORT [flags]",
        "Drive an echo server and measure each round trip (see docs/loadgen.md).\n"
        "Closed loop by default: each connection sends a message, waits for the whole echo,\n"
        "checks every byte, sends the next. --rate R: open loop, latency counted from when\n"
        "each message was due. A wrong byte, a short echo, EOF or a reset is an error: the\n"
        "connection is closed and NOT reopened. --per-conn K: the client closes each connection\n"
        "after K messages and opens a new one (churn). The report says how evenly the connections\n"
        "were served: no-reply connections, min/median/max messages each, Jain's index.\n"
        "Exit 0 if no errors, 1 otherwise, 2 bad flags.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return fr;
    if (o->port == 0)
        return flags_error(&spec, "--port is required");
    if (o->csv && o->json)
        return flags_error(&spec, "--csv and --json: choose one");
    if (o->per_conn && o->rate > 0)
        return flags_error(&spec, "--per-conn works in the closed loop only (drop --rate)");
    o->reconnect_rate = o->per_conn ? o->connect_rate : 0; /* 0: not given, not limited */
    if (o->connect_rate == 0)
        o->connect_rate = 2000;
    if (o->secs == 0)
        o->secs = o->count ? 60 : 5;
    if (o->threads > o->conns)
        o->threads = o->conns;
    return 0;
}

static int lg_thread_init(struct lg_thread *t, struct lg_run *r, struct lg_conn *cs, long n)
{
    t->run = r;
    t->conns = cs;
    t->nconns = n;
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    t->lat = hist_new();
    t->unc = hist_new();
    int heap_rc = heap_reserve(&t->timers, (size_t)n);
    t->wbuf = malloc(r->len);
    t->rbuf = malloc(r->len);
    if (t->ep < 0 || !t->lat || !t->unc || heap_rc < 0 || !t->wbuf || !t->rbuf)
        return -1;
    const struct lg_opts *o = r->o;
    t->connect_cap = o->connect_inflight / o->threads > 0 ? o->connect_inflight / o->threads : 1;
    if (o->reconnect_rate > 0)
        t->connect_gap_ns = (long long)(1e9 * (double)o->threads / o->reconnect_rate);
    for (long i = 0; i < n; i++) {
        if (cs[i].state == LG_CLOSED)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        if (epoll_ctl(t->ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
            return -1;
        t->live++;
    }
    return 0;
}

static void lg_thread_free(struct lg_thread *t)
{
    if (t->ep > 0)
        close(t->ep);
    hist_free(t->lat);
    hist_free(t->unc);
    heap_free(&t->timers);
    free(t->wbuf);
    free(t->rbuf);
}

/* Messages per connection over the slots that opened; 0, or -1 out of memory. */
static int lg_fairness(const struct lg_conn *cs, long n, struct lgr_fair *f)
{
    long *x = malloc((size_t)n * sizeof *x), k = 0;
    if (!x)
        return -1;
    for (long i = 0; i < n; i++)
        if (cs[i].opened)
            x[k++] = cs[i].msgs;
    lgr_fairness(x, k, f);
    free(x);
    return 0;
}

/* --dump FILE: what bin/loadmerge needs to merge this run with other hosts'
 * (harness/loadmerge.c reads it): the CSV loadgen prints, when the traffic
 * began by this host's clock, the messages of every connection that opened,
 * and both histograms' counters. 0, or -1 with errno. */
static int lg_dump(const char *path, const struct lgr_result *res, const struct lg_conn *cs, long n,
                   long long began_real_ns)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "loadgen-dump 1\nbegan_realtime_ns %lld\nconns_done %ld\n", began_real_ns,
            res->conns_done);
    lgr_print_csv(f, res);
    for (long i = 0; i < n; i++)
        if (cs[i].opened)
            fprintf(f, "c %ld\n", cs[i].msgs);
    int rc = hist_write_counts(res->lat, f) | hist_write_counts(res->unc, f);
    if (fclose(f) != 0 || rc < 0)
        return -1;
    return 0;
}

/* While the threads run: a line per second on stderr if asked; returns when all are done. */
static void lg_watch(struct lg_thread *ts, long nt, const struct lg_run *r)
{
    long long next = r->start_ns + 1000000000LL;
    if (!r->o->progress)
        return; /* the caller just joins the threads */
    long last = 0;
    for (;;) {
        int all = 1;
        long done = 0, errs = 0;
        for (long i = 0; i < nt; i++) {
            all &= atomic_load(&ts[i].finished);
            done += atomic_load_explicit(&ts[i].progress, memory_order_relaxed);
            errs += atomic_load_explicit(&ts[i].progress_err, memory_order_relaxed);
        }
        if (all)
            return;
        long long now = net_now_ns();
        if (r->o->progress && now >= next) {
            fprintf(stderr, "%s: %.0f s  msgs %ld  (+%ld/s)  errors %ld\n", PROG,
                    (double)(now - r->start_ns) / 1e9, done, done - last, errs);
            last = done;
            next += 1000000000LL;
        }
        struct timespec ts_ = {0, 20000000}; /* 20 ms */
        nanosleep(&ts_, NULL);
    }
}

int main(int argc, char **argv)
{
    struct lg_opts o = {.host = "127.0.0.1", .port = 0, .conns = 10, .msg_bytes = 64, .secs = 0,
                        .threads = 1, .connect_rate = 0, .connect_inflight = 256};
    int pr = lg_parse(&o, argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    signal(SIGPIPE, SIG_IGN);
    net_raise_nofile(); /* room for 10000 sockets */

    int rc = 1, first_err = 0, reconnect_err = 0;
    struct lg_run r = {.o = &o, .len = (size_t)o.msg_bytes};
    struct lgr_result res = {.conns = o.conns, .msg_bytes = o.msg_bytes, .threads = o.threads,
                             .rate = o.rate, .per_conn = o.per_conn};
    struct lg_conn *cs = calloc((size_t)o.conns, sizeof *cs);
    struct lg_thread *ts = calloc((size_t)o.threads, sizeof *ts);
    r.pattern = lgm_pattern_new(r.len);
    res.lat = hist_new();
    res.unc = hist_new();
    if (!cs || !ts || !r.pattern || !res.lat || !res.unc) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto out;
    }
    for (long i = 0; i < o.conns; i++)
        cs[i] = (struct lg_conn){.fd = -1, .state = LG_CLOSED, .id = (uint64_t)i};

    long long t0 = net_now_ns();
    long open = lg_connect_all(&o, cs, &res.errors, &first_err);
    res.connects = open;
    res.connect_s = (double)(net_now_ns() - t0) / 1e9;
    if (open == 0) {
        fprintf(stderr, "%s: connect %s:%ld: %s\n", PROG, o.host, o.port, strerror(first_err));
        goto out;
    }
    if (res.errors)
        fprintf(stderr, "%s: %ld of %ld connections failed to open (first: %s)\n", PROG,
                res.errors, o.conns, strerror(first_err));

    /* The schedule, shared by every thread. */
    if (o.rate > 0) {
        r.interval_ns = (long long)(1e9 * (double)o.conns / o.rate);
        if (r.interval_ns < 1)
            r.interval_ns = 1;
        r.interval_frac = r.interval_ns / o.conns;
    }
    for (long i = 0; i < o.threads; i++) {
        long a = i * o.conns / o.threads, b = (i + 1) * o.conns / o.threads;
        if (lg_thread_init(&ts[i], &r, cs + a, b - a) < 0) {
            perror(PROG ": thread setup");
            goto out;
        }
        ts[i].quota = o.count / o.threads + (i < o.count % o.threads);
    }
    r.start_ns = net_now_ns() + 10000000LL; /* 10 ms from now, so every thread is ready */
    if (o.start_at) { /* --start-at: the wall-clock time every load host was given */
        struct timespec real;
        clock_gettime(CLOCK_REALTIME, &real);
        long long wait = o.start_at - (real.tv_sec * 1000000000LL + real.tv_nsec);
        if (wait > 60000000000LL) {
            fprintf(stderr, "%s: --start-at is %.0f s away (more than 60 s): clocks apart?\n", PROG,
                    (double)wait / 1e9);
            goto out;
        }
        if (wait > 10000000LL)
            r.start_ns = net_now_ns() + wait;
        else
            fprintf(stderr, "%s: --start-at passed %.1f ms before the connections were open: "
                    "starting now\n", PROG, (double)-wait / 1e6);
    }
    r.measure_ns = r.start_ns + (long long)(o.warmup * 1e9);
    r.stop_ns = r.measure_ns + (long long)(o.secs * 1e9);
    long started = 0;
    for (; started < o.threads; started++)
        if (pthread_create(&ts[started].tid, NULL, lg_thread_main, &ts[started]) != 0) {
            fprintf(stderr, "%s: cannot start thread %ld\n", PROG, started);
            break;
        }
    if (started == o.threads)
        lg_watch(ts, o.threads, &r);
    long long end = r.measure_ns, began = 0;
    for (long i = 0; i < started; i++) {
        pthread_join(ts[i].tid, NULL);
        hist_merge(res.lat, ts[i].lat);
        hist_merge(res.unc, ts[i].unc);
        res.errors += ts[i].errors;
        res.msgs += ts[i].done;
        res.connects += ts[i].connects;
        res.conns_done += ts[i].conns_done;
        if (ts[i].first_err && !reconnect_err)
            reconnect_err = ts[i].first_err;
        if (ts[i].end_ns > end)
            end = ts[i].end_ns;
        if (!began || ts[i].began_real_ns < began)
            began = ts[i].began_real_ns;
    }
    if (started < o.threads)
        goto out;
    res.secs = (double)(end - r.measure_ns) / 1e9;
    if (lg_fairness(cs, o.conns, &res.fair) < 0) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto out;
    }
    if (reconnect_err)
        fprintf(stderr, "%s: --per-conn: reconnecting failed (first: %s)%s\n", PROG,
                strerror(reconnect_err), reconnect_err == EADDRNOTAVAIL
                ? "; out of local ports: see docs/loadgen.md, \"Churn\"" : "");

    if (o.csv)
        lgr_print_csv(stdout, &res);
    else if (o.json)
        lgr_print_json(stdout, &res);
    else
        lgr_print_human(stdout, &res);
    fflush(stdout);
    if (o.dump && lg_dump(o.dump, &res, cs, o.conns, began) < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", PROG, o.dump, strerror(errno));
        goto out;
    }
    if (o.percentiles) {
        if (lgr_write_percentiles(&res, o.percentiles) < 0) {
            fprintf(stderr, "%s: cannot write %s: %s\n", PROG, o.percentiles, strerror(errno));
            goto out;
        }
    }
    rc = res.errors ? 1 : 0;
out:
    for (long i = 0; cs && i < o.conns; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    for (long i = 0; ts && i < o.threads; i++)
        lg_thread_free(&ts[i]);
    free(ts);
    free(cs);
    free(r.pattern);
    hist_free(res.lat);
    hist_free(res.unc);
    return rc;
}
