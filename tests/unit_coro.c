/* unit_coro.c — tests of the coroutine runtime (runtime/, over epoll).
 *
 * Each check prints "PASS name" or "FAIL name: why". Lines starting with
 * "info" are measurements for the curious (switch and spawn cost); tests/run.sh
 * ignores them. Every scenario is a few coroutines on one co_run(); nothing
 * here asserts a speed, only order, counts, bytes and error codes. */
#include "check.h"
#include "coro.h"
#include "procself.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int unit_failures;

static void unit_pass(const char *name)
{
    printf("PASS %s\n", name);
}

static void unit_fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    unit_failures++;
}

static double unit_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* co_run must come back 0 with no coroutine left; a fail otherwise. */
static int unit_run(const char *name)
{
    if (co_run() < 0) {
        unit_fail(name, "co_run: %s", strerror(errno));
        return -1;
    }
    if (co_count() != 0) {
        unit_fail(name, "%zu coroutines left after co_run", co_count());
        return -1;
    }
    return 0;
}

/* --- the watchdog: a test that hangs fails instead ---------------------------
 * A runtime bug can keep the thread for ever (a fairness budget that never
 * runs out leaves an always-ready reader looping; a deadline never armed
 * leaves co_run() waiting). Each test runs under alarm(): when it rings, the
 * handler prints a FAIL naming the test and ends the program, so the suite
 * fails in seconds and says where, instead of hanging the runner. */

static const char *unit_current = "unit_coro"; /* the test running, for the watchdog */
static unsigned unit_current_secs;

static void unit_watchdog(int sig)
{
    (void)sig;
    /* Only async-signal-safe calls: write(2) of fixed pieces, _exit(2). */
    char secs[16], *p = secs + sizeof secs;
    unsigned v = unit_current_secs;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    const char *parts[] = {"FAIL ", unit_current, ": still running after ", p,
                           " s: a hang (the runtime never gave the thread back)\n"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        size_t len = i == 3 ? (size_t)(secs + sizeof secs - p) : strlen(parts[i]);
        if (write(STDOUT_FILENO, parts[i], len) < 0)
            break;
    }
    _exit(1);
}

/* Run one test with the watchdog set to `secs` seconds. */
static void unit_guarded(const char *name, unsigned secs, void (*test)(void))
{
    unit_current = name;
    unit_current_secs = secs;
    alarm(secs);
    test();
    alarm(0);
}

/* --- a trace that coroutines append to, to check the order of events ---- */

static char unit_trace[256];

static void unit_note(const char *s)
{
    strncat(unit_trace, s, sizeof unit_trace - strlen(unit_trace) - 1);
}

/* --- ping-pong: two coroutines alternate at each co_yield ------------------ */

static void unit_pinger(void *arg)
{
    for (int i = 0; i < 3; i++) {
        unit_note(arg);
        co_yield();
    }
}

static void test_pingpong(void)
{
    unit_trace[0] = 0;
    co_go(unit_pinger, "A");
    co_go(unit_pinger, "B");
    if (unit_run("yield_pingpong") < 0)
        return;
    if (strcmp(unit_trace, "ABABAB") == 0)
        unit_pass("yield_pingpong");
    else
        unit_fail("yield_pingpong", "order %s, want ABABAB", unit_trace);
}

/* --- sleepers wake in deadline order, not start order ---------------------- */

struct unit_sleeper {
    int ms;          /* how long to sleep */
    const char *tag; /* what to note on waking */
};

static void unit_sleep_body(void *arg)
{
    struct unit_sleeper *s = arg;
    if (co_sleep(s->ms) == 0)
        unit_note(s->tag);
}

static void test_sleep_order(void)
{
    static struct unit_sleeper s[] = {{30, "30 "}, {10, "10 "}, {20, "20 "}};
    unit_trace[0] = 0;
    double t0 = unit_secs();
    for (int i = 0; i < 3; i++)
        co_go(unit_sleep_body, &s[i]);
    if (unit_run("sleep_order") < 0)
        return;
    double el = unit_secs() - t0;
    if (strcmp(unit_trace, "10 20 30 ") != 0)
        unit_fail("sleep_order", "woke as %s, want 10 20 30", unit_trace);
    else if (el < 0.029)
        unit_fail("sleep_order", "all done after %.3f s, before the 30 ms sleep could end", el);
    else
        unit_pass("sleep_order");
}

/* --- 10,000 coroutines, each yielding a few times -------------------------- */

static long unit_counter;

static void unit_yielder(void *arg)
{
    for (int i = 0; i < 3; i++)
        co_yield();
    unit_counter++;
}

/* ThreadSanitizer keeps about 1 MiB of state per fiber: 10,000 would not fit. */
#if defined(__SANITIZE_THREAD__)
#define UNIT_MANY 1000
#else
#define UNIT_MANY 10000
#endif

static void test_many(void)
{
    enum { N = UNIT_MANY };
    unit_counter = 0;
    for (int i = 0; i < N; i++) {
        if (co_go(unit_yielder, NULL) < 0) {
            unit_fail("spawn_many", "co_go #%d: %s", i, strerror(errno));
            co_run();
            return;
        }
    }
    if (co_count() != N) {
        unit_fail("spawn_many", "co_count %zu before run, want %d", co_count(), N);
        co_run();
        return;
    }
    if (unit_run("spawn_many") < 0)
        return;
    if (unit_counter == N)
        unit_pass("spawn_many");
    else
        unit_fail("spawn_many", "%ld finished, want %d", unit_counter, N);
}

/* --- co_read/co_write over a socketpair, small and large ------------------- */

enum { UNIT_BIG = 4 << 20 };

struct unit_pipe {
    int fd;              /* this side of the socketpair */
    size_t bytes;        /* bytes moved */
    int bad;             /* content mismatch or error */
    int partial_reads;   /* reads that returned less than asked */
};

static unsigned char unit_byte(size_t i)
{
    return (unsigned char)(i * 31 + (i >> 12));
}

static void unit_big_writer(void *arg)
{
    struct unit_pipe *p = arg;
    unsigned char *buf = malloc(UNIT_BIG);
    if (!buf) {
        p->bad = 1;
        co_close(p->fd);
        return;
    }
    for (size_t i = 0; i < UNIT_BIG; i++)
        buf[i] = unit_byte(i);
    if (co_write(p->fd, "hello", 5, -1) != 5 || co_write(p->fd, buf, UNIT_BIG, -1) != UNIT_BIG)
        p->bad = 1;
    else
        p->bytes = UNIT_BIG;
    free(buf);
    co_close(p->fd); /* the reader sees EOF */
}

static void unit_big_reader(void *arg)
{
    struct unit_pipe *p = arg;
    unsigned char buf[5];
    static unsigned char chunk[65536];
    if (co_read(p->fd, buf, 5, -1) != 5 || memcmp(buf, "hello", 5) != 0) {
        p->bad = 1;
        co_close(p->fd);
        return;
    }
    for (;;) {
        ssize_t n = co_read(p->fd, chunk, sizeof chunk, -1);
        if (n <= 0) {
            if (n < 0)
                p->bad = 1;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            if (chunk[i] != unit_byte(p->bytes + (size_t)i))
                p->bad = 1;
        if ((size_t)n < sizeof chunk)
            p->partial_reads++;
        p->bytes += (size_t)n;
    }
    co_close(p->fd);
}

static void test_socketpair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        unit_fail("rw_socketpair_4mib", "socketpair: %s", strerror(errno));
        return;
    }
    struct unit_pipe w = {.fd = sv[0]}, r = {.fd = sv[1]};
    co_go(unit_big_writer, &w);
    co_go(unit_big_reader, &r);
    if (unit_run("rw_socketpair_4mib") < 0)
        return;
    if (w.bad || r.bad)
        unit_fail("rw_socketpair_4mib", "writer bad=%d reader bad=%d", w.bad, r.bad);
    else if (r.bytes != UNIT_BIG)
        unit_fail("rw_socketpair_4mib", "read %zu bytes, want %d", r.bytes, UNIT_BIG);
    else
        unit_pass("rw_socketpair_4mib");
}

/* --- deadlines: co_read times out, co_join times out then succeeds --------- */

struct unit_result {
    int rc;          /* what the call returned */
    int err;         /* errno after it */
    double secs;     /* how long it took */
};

static void unit_read_deadline(void *arg)
{
    struct unit_result *r = arg;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
        r->rc = -2;
        return;
    }
    char c;
    double t0 = unit_secs();
    r->rc = (int)co_read(sv[0], &c, 1, co_now() + 50);
    r->err = errno;
    r->secs = unit_secs() - t0;
    co_close(sv[0]);
    co_close(sv[1]);
}

static void test_read_deadline(void)
{
    struct unit_result r = {0};
    co_go(unit_read_deadline, &r);
    if (unit_run("read_deadline") < 0)
        return;
    if (r.rc != -1 || r.err != ETIMEDOUT)
        unit_fail("read_deadline", "co_read returned %d (%s), want -1 ETIMEDOUT", r.rc, strerror(r.err));
    else if (r.secs < 0.045)
        unit_fail("read_deadline", "timed out after %.3f s, before the 50 ms deadline", r.secs);
    else
        unit_pass("read_deadline");
}

static void unit_sleep100(void *arg)
{
    co_sleep(100);
    unit_note("slept ");
}

static void unit_joiner(void *arg)
{
    struct unit_result *r = arg;
    co_t *c = co_spawn(unit_sleep100, NULL);
    if (!c) {
        r->rc = -2;
        return;
    }
    r->rc = co_join(c, co_now() + 20);        /* too soon: ETIMEDOUT, c kept */
    r->err = errno;
    if (co_join(c, co_now() + 10000) == 0)    /* this one waits it out */
        unit_note("joined ");
}

static void test_join(void)
{
    struct unit_result r = {0};
    unit_trace[0] = 0;
    co_go(unit_joiner, &r);
    if (unit_run("join_deadline") < 0)
        return;
    if (r.rc != -1 || r.err != ETIMEDOUT)
        unit_fail("join_deadline", "first join returned %d (%s), want -1 ETIMEDOUT", r.rc, strerror(r.err));
    else if (strcmp(unit_trace, "slept joined ") != 0)
        unit_fail("join_deadline", "trace '%s', want 'slept joined '", unit_trace);
    else
        unit_pass("join_deadline");
}

/* --- the fairness budget: an always-ready descriptor cannot keep the thread --- */

struct unit_flood {
    int fd;              /* /dev/zero: every read finds data at once */
    int peer;            /* budget_socket: fd is one end of a socketpair, this the other */
    int rc;              /* the failing co_read's return */
    int err;             /* and errno */
    long reads;          /* reads that succeeded before */
    double secs;         /* how long until co_read failed */
    long ticks;          /* the sibling's 5 ms sleeps completed meanwhile */
    int stop;            /* tells the sibling to end */
};

static void unit_flood_reader(void *arg)
{
    struct unit_flood *f = arg;
    static char buf[4096];
    double t0 = unit_secs();
    int64_t deadline = co_now() + 100;
    ssize_t n;
    while ((n = co_read(f->fd, buf, sizeof buf, deadline)) > 0)
        f->reads++;
    f->rc = (int)n;
    f->err = errno;
    f->secs = unit_secs() - t0;
    f->stop = 1;
}

static void unit_flood_sibling(void *arg)
{
    struct unit_flood *f = arg;
    while (!f->stop && co_sleep(5) == 0)
        f->ticks++;
}

static void test_budget_deadline(void)
{
    const char *name = "budget_deadline_always_ready";
    struct unit_flood f = {.fd = open("/dev/zero", O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) {
        unit_fail(name, "open /dev/zero: %s", strerror(errno));
        return;
    }
    co_go(unit_flood_reader, &f);
    co_go(unit_flood_sibling, &f);
    int rc = unit_run(name);
    close(f.fd);
    if (rc < 0)
        return;
    /* 100 ms deadline: ETIMEDOUT, not before it, not long after (generous:
     * the machine is shared), and the sibling slept and woke meanwhile. */
    if (f.rc != -1 || f.err != ETIMEDOUT)
        unit_fail(name, "co_read returned %d (%s) after %ld reads, want -1 ETIMEDOUT", f.rc,
                  strerror(f.err), f.reads);
    else if (f.secs < 0.095 || f.secs > 1.0)
        unit_fail(name, "ETIMEDOUT after %.3f s for a 100 ms deadline", f.secs);
    else if (f.ticks < 5)
        unit_fail(name, "the sibling woke only %ld times in %.3f s of 5 ms sleeps", f.ticks, f.secs);
    else {
        printf("info budget: %ld reads of /dev/zero, ETIMEDOUT after %.1f ms, sibling woke %ld times\n",
               f.reads, f.secs * 1e3, f.ticks);
        unit_pass(name);
    }
}

static void unit_flood_forever(void *arg)
{
    struct unit_flood *f = arg;
    static char buf[4096];
    ssize_t n;
    while ((n = co_read(f->fd, buf, sizeof buf, -1)) > 0)
        f->reads++;
    f->rc = (int)n;
    f->err = errno;
}

static void unit_flood_canceller(void *arg)
{
    struct unit_flood *f = arg;
    co_t *c = co_spawn(unit_flood_forever, f);
    co_sleep(30);
    co_cancel(c);
    co_join(c, -1);
}

static void test_budget_cancel(void)
{
    const char *name = "budget_cancel_always_ready";
    struct unit_flood f = {.fd = open("/dev/zero", O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) {
        unit_fail(name, "open /dev/zero: %s", strerror(errno));
        return;
    }
    double t0 = unit_secs();
    co_go(unit_flood_canceller, &f);
    int rc = unit_run(name);
    double el = unit_secs() - t0;
    close(f.fd);
    if (rc < 0)
        return;
    if (f.rc != -1 || f.err != ECANCELED)
        unit_fail(name, "co_read returned %d (%s), want -1 ECANCELED", f.rc, strerror(f.err));
    else if (el > 2.0)
        unit_fail(name, "the cancel took %.3f s to act", el);
    else
        unit_pass(name);
}

/* A socket that never runs dry, and no deadline: the flooder writes 1 KiB
 * into one end of a socketpair and reads it back from the other, so every
 * co_write finds room and every co_read finds exactly what it asks for: no
 * call ever waits, as with a peer that always keeps data ready. Only the
 * budget can make it yield, and a sibling sleeping 5 ms at a time must keep
 * waking. (t_fair's loopback flood cannot promise this: the server's receive
 * buffer holds ~100 ms of its work, and a flooder on a shared machine is
 * often descheduled for longer, so the server's reads come up short and it
 * waits anyway.) The flooder watches the wall clock itself and stops after
 * 2 s, so a budget that never runs out fails here, it does not hang. */
static void unit_sockflood_run(void *arg)
{
    struct unit_flood *f = arg; /* reads counts both calls; rc -1: one failed or came up short */
    char out[1024], in[1024];
    memset(out, 'f', sizeof out);
    double t0 = unit_secs();
    while (f->ticks < 10 && unit_secs() - t0 < 2.0) {
        if (co_write(f->fd, out, sizeof out, -1) != (ssize_t)sizeof out ||
            co_read(f->peer, in, sizeof in, -1) != (ssize_t)sizeof in) {
            f->rc = -1;
            break;
        }
        f->reads += 2;
    }
    f->secs = unit_secs() - t0;
    f->stop = 1;
}

static void test_budget_socket(void)
{
    const char *name = "budget_socket_never_dry_no_deadline";
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        unit_fail(name, "socketpair: %s", strerror(errno));
        return;
    }
    struct unit_flood f = {.fd = sv[0], .peer = sv[1]};
    co_go(unit_sockflood_run, &f);
    co_go(unit_flood_sibling, &f);
    int rc = unit_run(name);
    close(sv[0]);
    close(sv[1]);
    if (rc < 0)
        return;
    if (f.rc < 0)
        unit_fail(name, "a co_write or co_read of 1 KiB failed or came up short after %ld calls", f.reads);
    else if (f.ticks < 10)
        unit_fail(name, "the sibling woke %ld times in %.3f s of %ld never-waiting calls: the flooder kept the thread",
                  f.ticks, f.secs, f.reads);
    else {
        printf("info budget: %ld never-waiting socket calls while the sibling woke %ld times in %.1f ms\n",
               f.reads, f.ticks, f.secs * 1e3);
        unit_pass(name);
    }
}

/* --- cancellation ---------------------------------------------------------- */

struct unit_worker {
    int sleep_rc;        /* what co_sleep returned */
    int sleep_err;       /* and errno */
    int later_err;       /* errno of a wait made after the cancel */
    int cleaned;         /* reached its cleanup code */
};

static void unit_cancellee(void *arg)
{
    struct unit_worker *w = arg;
    w->sleep_rc = co_sleep(10000);
    w->sleep_err = errno;
    if (co_yield() < 0) /* every later wait fails too */
        w->later_err = errno;
    w->cleaned = 1;
}

static void unit_canceller(void *arg)
{
    struct unit_worker *w = arg;
    co_t *c = co_spawn(unit_cancellee, w);
    co_sleep(20);
    co_cancel(c);
    co_join(c, -1);
}

static void test_cancel(void)
{
    struct unit_worker w = {0};
    double t0 = unit_secs();
    co_go(unit_canceller, &w);
    if (unit_run("cancel_sleeping") < 0)
        return;
    double el = unit_secs() - t0;
    if (w.sleep_rc != -1 || w.sleep_err != ECANCELED)
        unit_fail("cancel_sleeping", "co_sleep returned %d (%s), want -1 ECANCELED", w.sleep_rc,
                  strerror(w.sleep_err));
    else if (w.later_err != ECANCELED || !w.cleaned)
        unit_fail("cancel_sleeping", "after cancel: yield errno %d, cleaned %d", w.later_err, w.cleaned);
    else if (el > 5)
        unit_fail("cancel_sleeping", "took %.1f s: the 10 s sleep was not interrupted", el);
    else
        unit_pass("cancel_sleeping");
}

/* Cancelled before it ever ran: its first wait fails; cancelling a finished
 * coroutine is harmless; joining a finished one returns at once. */
static void unit_first_wait(void *arg)
{
    int *err = arg;
    if (co_sleep(1000) < 0)
        *err = errno;
}

static void unit_quick(void *arg)
{
}

static void unit_cancel_edges(void *arg)
{
    int *ok = arg;
    int err = 0;
    co_t *c = co_spawn(unit_first_wait, &err);
    co_cancel(c);
    co_join(c, -1);
    co_t *q = co_spawn(unit_quick, NULL);
    co_sleep(1);
    int rc1 = co_cancel(q);
    int rc2 = co_join(q, co_now()); /* finished: no wait needed even with a past deadline */
    *ok = err == ECANCELED && rc1 == 0 && rc2 == 0;
}

static void test_cancel_edges(void)
{
    int ok = 0;
    co_go(unit_cancel_edges, &ok);
    if (unit_run("cancel_edges") < 0)
        return;
    if (ok)
        unit_pass("cancel_edges");
    else
        unit_fail("cancel_edges", "cancel before start / after finish misbehaved");
}

/* --- channels ------------------------------------------------------------- */

static void unit_producer(void *arg)
{
    co_chan_t *ch = arg;
    static char items[] = "12345";
    for (int i = 0; i < 5; i++)
        co_chan_send(ch, &items[i], -1);
    co_chan_close(ch);
}

static void unit_consumer(void *arg)
{
    co_chan_t *ch = arg;
    void *v;
    while (co_chan_recv(ch, &v, -1) == 0) {
        char s[2] = {*(char *)v, 0};
        unit_note(s);
    }
    unit_note(errno == EPIPE ? " EPIPE" : " ?");
    if (co_chan_send(ch, NULL, -1) < 0 && errno == EPIPE)
        unit_note(" EPIPE");
}

static void test_chan(void)
{
    co_chan_t *ch = co_chan_new(2); /* small: the producer must wait for room */
    if (!ch) {
        unit_fail("chan_order_close", "co_chan_new: %s", strerror(errno));
        return;
    }
    unit_trace[0] = 0;
    co_go(unit_consumer, ch);
    co_go(unit_producer, ch);
    if (unit_run("chan_order_close") == 0) {
        if (strcmp(unit_trace, "12345 EPIPE EPIPE") == 0)
            unit_pass("chan_order_close");
        else
            unit_fail("chan_order_close", "trace '%s', want '12345 EPIPE EPIPE'", unit_trace);
    }
    co_chan_free(ch);
}

static void unit_chan_timeout(void *arg)
{
    int *err = arg;
    co_chan_t *ch = co_chan_new(1);
    void *v;
    if (co_chan_recv(ch, &v, co_now() + 10) < 0)
        *err = errno;
    co_chan_free(ch);
}

static void test_chan_deadline(void)
{
    int err = 0;
    co_go(unit_chan_timeout, &err);
    if (unit_run("chan_deadline") < 0)
        return;
    if (err == ETIMEDOUT)
        unit_pass("chan_deadline");
    else
        unit_fail("chan_deadline", "recv on an empty channel: errno %d, want ETIMEDOUT", err);
}

/* --- co_close wakes a waiter with EBADF ------------------------------------ */

struct unit_closer {
    int fd;              /* the descriptor to wait on and close */
    int rc;              /* co_read's return */
    int err;             /* and errno */
};

static void unit_blocked_reader(void *arg)
{
    struct unit_closer *u = arg;
    char c;
    u->rc = (int)co_read(u->fd, &c, 1, co_now() + 5000);
    u->err = errno;
}

static void unit_closer_body(void *arg)
{
    struct unit_closer *u = arg;
    co_sleep(10);
    co_close(u->fd);
}

static void test_close_wakes(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
        unit_fail("close_wakes_ebadf", "socketpair: %s", strerror(errno));
        return;
    }
    struct unit_closer u = {.fd = sv[0]};
    co_go(unit_blocked_reader, &u);
    co_go(unit_closer_body, &u);
    if (unit_run("close_wakes_ebadf") == 0) {
        if (u.rc == -1 && u.err == EBADF)
            unit_pass("close_wakes_ebadf");
        else
            unit_fail("close_wakes_ebadf", "co_read returned %d (%s), want -1 EBADF", u.rc, strerror(u.err));
    }
    close(sv[1]);
}

/* --- a descriptor closed with plain close() (issue 8, item 8) ----------------- */

struct unit_reuse {
    int same_number;     /* the new socketpair got the old number */
    ssize_t rc;          /* the read on the new descriptor */
    int err;             /* and errno */
    char got;            /* the byte read */
    double secs;         /* how long it took */
};

/* fd becomes registered with its "readable" hint cleared (a read that waited
 * and timed out), is closed with plain close(), and its number goes to a new
 * socket that already holds a byte. Before the audit the runtime trusted its
 * stale "registered" flag, parked, and no event ever came: ETIMEDOUT at the
 * deadline, 3 s. */
static void unit_reuse_body(void *arg)
{
    struct unit_reuse *u = arg;
    int sv[2], nv[2];
    char c;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return;
    co_read(sv[0], &c, 1, co_now() + 10); /* registers, parks, times out */
    int old = sv[0];
    close(sv[0]);
    close(sv[1]);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, nv) < 0)
        return;
    u->same_number = nv[0] == old;
    if (write(nv[1], "y", 1) != 1)
        return;
    double t0 = unit_secs();
    u->rc = co_read(nv[0], &u->got, 1, co_now() + 3000);
    u->err = errno;
    u->secs = unit_secs() - t0;
    co_close(nv[0]);
    co_close(nv[1]);
}

static void test_plain_close_reuse(void)
{
    const char *name = "plain_close_number_reused";
    struct unit_reuse u = {.rc = -2};
    co_go(unit_reuse_body, &u);
    if (unit_run(name) < 0)
        return;
    if (!u.same_number)
        unit_fail(name, "the kernel did not reuse the number: the test proves nothing");
    else if (u.rc != 1 || u.got != 'y')
        unit_fail(name, "co_read returned %zd (%s) after %.3f s, want the byte 'y'", u.rc, strerror(u.err),
                  u.secs);
    else if (u.secs > 2.0)
        unit_fail(name, "the byte came after %.3f s", u.secs);
    else {
        printf("info reuse: read on the reused number after %.0f ms\n", u.secs * 1e3);
        unit_pass(name);
    }
}

/* A coroutine waits on a descriptor that another one closes with plain
 * close(): the wait ends with EBADF, not at its deadline. */
static void unit_plain_closer(void *arg)
{
    struct unit_closer *u = arg;
    co_sleep(10);
    close(u->fd);
}

static void test_plain_close_waiter(void)
{
    const char *name = "plain_close_wakes_waiter";
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        unit_fail(name, "socketpair: %s", strerror(errno));
        return;
    }
    struct unit_closer u = {.fd = sv[0]};
    double t0 = unit_secs();
    co_go(unit_blocked_reader, &u); /* deadline 5 s */
    co_go(unit_plain_closer, &u);
    int rc = unit_run(name);
    double el = unit_secs() - t0;
    close(sv[1]);
    if (rc < 0)
        return;
    if (u.rc != -1 || u.err != EBADF)
        unit_fail(name, "co_read returned %d (%s) after %.3f s, want -1 EBADF", u.rc, strerror(u.err), el);
    else if (el > 2.0)
        unit_fail(name, "EBADF came after %.3f s", el);
    else
        unit_pass(name);
}

/* --- TCP: co_accept + co_connect + echo, and co_wait_fd ---------------------- */

struct unit_tcp {
    int lfd;             /* listening socket */
    struct sockaddr_in sa; /* its address */
    int ok;              /* the client got its echo */
    int wait_ok;         /* co_wait_fd saw the reply coming */
};

static void unit_tcp_server(void *arg)
{
    struct unit_tcp *t = arg;
    int fd = co_accept(t->lfd, co_now() + 5000);
    if (fd < 0)
        return;
    char buf[64];
    ssize_t n;
    while ((n = co_read(fd, buf, sizeof buf, co_now() + 5000)) > 0)
        if (co_write(fd, buf, (size_t)n, co_now() + 5000) < 0)
            break;
    co_close(fd);
}

static void unit_tcp_client(void *arg)
{
    struct unit_tcp *t = arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    char buf[8] = {0};
    if (co_connect(fd, (struct sockaddr *)&t->sa, sizeof t->sa, co_now() + 5000) < 0)
        goto out;
    if (co_write(fd, "ping", 4, co_now() + 5000) != 4)
        goto out;
    t->wait_ok = co_wait_fd(fd, CO_READ, co_now() + 5000) == 0;
    size_t got = 0;
    while (got < 4) {
        ssize_t n = co_read(fd, buf + got, 4 - got, co_now() + 5000);
        if (n <= 0)
            goto out;
        got += (size_t)n;
    }
    t->ok = memcmp(buf, "ping", 4) == 0;
out:
    co_close(fd);
}

static void test_tcp(void)
{
    struct unit_tcp t = {0};
    socklen_t len = sizeof t.sa;
    t.sa.sin_family = AF_INET;
    t.sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    t.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t.lfd < 0 || bind(t.lfd, (struct sockaddr *)&t.sa, sizeof t.sa) < 0 || listen(t.lfd, 16) < 0 ||
        getsockname(t.lfd, (struct sockaddr *)&t.sa, &len) < 0) {
        unit_fail("tcp_accept_connect", "listen: %s", strerror(errno));
        return;
    }
    co_go(unit_tcp_server, &t);
    co_go(unit_tcp_client, &t);
    if (unit_run("tcp_accept_connect") == 0) {
        if (t.ok && t.wait_ok)
            unit_pass("tcp_accept_connect");
        else
            unit_fail("tcp_accept_connect", "echo ok %d, co_wait_fd ok %d", t.ok, t.wait_ok);
    }
    co_close(t.lfd);
}

static void unit_refused(void *arg)
{
    int *err = arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Find a port nobody listens on: bind one, note it, close it. */
    int tmp = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof sa;
    if (tmp < 0 || bind(tmp, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(tmp, (struct sockaddr *)&sa, &len) < 0)
        return;
    close(tmp);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    /* co_connect makes no system call beyond connect(): the refusal may show
     * there or at the first I/O, as with a hand-written epoll client. */
    if (co_connect(fd, (struct sockaddr *)&sa, sizeof sa, co_now() + 5000) < 0 ||
        co_write(fd, "x", 1, co_now() + 5000) < 0)
        *err = errno;
    co_close(fd);
}

static void test_refused(void)
{
    int err = 0;
    co_go(unit_refused, &err);
    if (unit_run("connect_refused") < 0)
        return;
    if (err == ECONNREFUSED)
        unit_pass("connect_refused");
    else
        unit_fail("connect_refused", "errno %d (%s), want ECONNREFUSED", err, strerror(err));
}

/* --- the guard page: the page just below a coroutine's stack is PROT_NONE --- */

static void unit_guard_probe(void *arg)
{
    int *found = arg;
    /* The frame address, not a local's: under ASan's use-after-return check
     * locals live on a "fake stack" on the heap. */
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char line[512], prev_perm[8] = "";
    uintptr_t prev_end = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perm[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3)
            continue;
        if (sp >= lo && sp < hi) {
            /* our stack mapping must start right where a ---p page ends */
            *found = prev_end == lo && strncmp(prev_perm, "---p", 4) == 0 && perm[0] == 'r' ? 1 : -1;
            break;
        }
        prev_end = hi;
        strcpy(prev_perm, perm);
    }
    fclose(f);
}

static void test_guard(void)
{
    int found = 0;
    co_go(unit_guard_probe, &found);
    if (unit_run("stack_guard_page") < 0)
        return;
    if (found == 1)
        unit_pass("stack_guard_page");
    else
        unit_fail("stack_guard_page", found ? "no PROT_NONE page right below the stack" :
                                              "stack not found in /proc/self/maps");
}

/* --- a stack overflow is reported by name, in a child process ---------------- */

/* Recurse with a 512-byte frame until the stack runs out; the addition after
 * the call keeps it from becoming a loop (no tail call). */
static int unit_deep(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    pad[511] = 1;
    if (depth > 10000000)
        return 0;
    return unit_deep(depth + 1) + pad[0] + pad[511];
}

static void unit_overflow_body(void *arg)
{
    *(volatile int *)arg = unit_deep(0);
}

static void test_overflow_report(void)
{
    const char *name = "stack_overflow_named";
    int pfd[2];
    if (pipe(pfd) < 0) {
        unit_fail(name, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        unit_fail(name, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) { /* the child overflows a 32 KiB coroutine stack */
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        static int sink;
        if (co_init(32 * 1024) < 0 || co_go(unit_overflow_body, &sink) < 0)
            _exit(3);
        co_run();
        _exit(0); /* not reached: the overflow kills it */
    }
    close(pfd[1]);
    char out[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(pfd[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = 0;
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    /* Plain build: killed by SIGSEGV. Under ASan its own handler reports the
     * crash after ours and exits non-zero. Either way our line comes first. */
    const char *want = "unit_coro: stack overflow in coroutine ";
    char *line = strstr(out, want);
    int died = WIFSIGNALED(st) ? WTERMSIG(st) == SIGSEGV : WEXITSTATUS(st) != 0;
    if (!line || strncmp(out, want, strlen(want)) != 0)
        unit_fail(name, "stderr does not start with '%s...': '%.200s'", want, out);
    else if (!strstr(line, "(stack 32 KiB); raise --stack-kib\n"))
        unit_fail(name, "line lacks the stack size: '%.200s'", line);
    else if (!died || (WIFEXITED(st) && WEXITSTATUS(st) == 3))
        unit_fail(name, "child status %#x, want death by SIGSEGV", st);
    else {
        *strchr(line, '\n') = 0;
        printf("info overflow: child says \"%s\"\n", line);
        unit_pass(name);
    }
}

/* --- the stack pool: reused while busy, trimmed when idle -------------------- */

enum { UNIT_TOUCH = 16 * 1024 };

static void unit_nap(void *arg)
{
    co_sleep((int64_t)(intptr_t)arg);
}

/* Touch UNIT_TOUCH bytes of this coroutine's stack, then nap 1 ms. */
static void unit_deep_nap(void *arg)
{
    volatile char deep[UNIT_TOUCH];
    for (size_t i = 0; i < sizeof deep; i += 512)
        deep[i] = 1;
    co_sleep(1);
    (void)deep[0];
}

static void unit_wave(int n)
{
    for (int i = 0; i < n; i++)
        co_go(unit_deep_nap, NULL);
    co_run();
}

static void test_stack_pool(void)
{
    const char *name = "stack_pool_reused_then_trimmed";
    enum { WAVE = 300 };
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    skip(name, "not under a sanitizer: its shadow and fake stacks make the mapping counts mean nothing");
    return;
#endif
    co_go(unit_nap, (void *)(intptr_t)1100); /* an idle second: the pool shrinks to its floor */
    co_run();
    unit_wave(WAVE); /* takes stacks beyond the floor, touches them, gives all back */
    long m1 = procself_maps();
    long r1 = procself_rss_kib();
    unit_wave(WAVE); /* all from the pool: no new mapping, no new memory */
    long m2 = procself_maps();
    long r2 = procself_rss_kib();
    co_go(unit_nap, (void *)(intptr_t)1100);
    co_run();
    long r3 = procself_rss_kib();
    char why[200];
    snprintf(why, sizeof why, "mappings %ld then %ld; resident %ld KiB after the first wave, %ld after the second, "
             "%ld after an idle second", m1, m2, r1, r2, r3);
    /* the idle pool keeps 64 stacks' pages and gives back the other 236 x 16 KiB */
    long freed = (long)(WAVE - 64) * (UNIT_TOUCH / 1024);
    if (m1 < 0 || r1 < 0 || m2 > m1 + 4) /* a few for the allocator */
        unit_fail(name, "%s: the second wave mapped new stacks", why);
    else if (r2 > r1 + freed / 4)
        unit_fail(name, "%s: the second wave took new memory", why);
    else if (r3 > r2 - freed * 3 / 4)
        unit_fail(name, "%s: the idle pool was not trimmed", why);
    else {
        printf("info pool: %s\n", why);
        unit_pass(name);
    }
}

/* --- misuse and the loop's own edges ---------------------------------------- */

static void unit_stopper(void *arg)
{
    int *n = arg;
    for (;;) {
        (*n)++;
        if (*n == 3)
            co_stop();
        if (co_sleep(1) < 0)
            return;
    }
}

static void unit_stuck(void *arg)
{
    co_chan_t *ch = arg;
    void *v;
    co_chan_recv(ch, &v, -1);
}

static void unit_unstick(void *arg)
{
    co_chan_close(arg);
}

static void test_edges(void)
{
    /* Waiting outside a coroutine is refused, not a crash. */
    errno = 0;
    if (co_sleep(1) == -1 && errno == EPERM && co_yield() == -1 && errno == EPERM && co_self() == NULL)
        unit_pass("wait_outside_coroutine_eperm");
    else
        unit_fail("wait_outside_coroutine_eperm", "errno %d", errno);

    /* co_stop returns from co_run with the coroutine still alive; run again
     * after cancelling it and it unwinds. */
    int n = 0;
    co_t *c = co_spawn(unit_stopper, &n);
    int rc = co_run();
    size_t left = co_count();
    co_cancel(c);
    co_run();
    int jrc = co_join(c, -1); /* finished, so fine from main */
    if (rc == 0 && n == 3 && left == 1 && co_count() == 0 && jrc == 0)
        unit_pass("stop_and_resume");
    else
        unit_fail("stop_and_resume", "rc %d n %d left %zu join %d", rc, n, left, jrc);

    /* Everyone waiting for ever on a channel: co_run reports it, no hang. */
    co_chan_t *ch = co_chan_new(1);
    co_go(unit_stuck, ch);
    rc = co_run();
    int err = errno;
    co_go(unit_unstick, ch);
    co_run();
    co_chan_free(ch);
    if (rc == -1 && err == EDEADLK && co_count() == 0)
        unit_pass("deadlock_detected");
    else
        unit_fail("deadlock_detected", "co_run returned %d errno %d", rc, err);

    if (co_chan_new(0) == NULL && errno == EINVAL && co_go(NULL, NULL) == -1 && errno == EINVAL)
        unit_pass("bad_arguments_einval");
    else
        unit_fail("bad_arguments_einval", "zero-slot channel or NULL function accepted");
}

/* --- measurements (info lines, not checks) ----------------------------------- */

static long unit_yields;

static void unit_spin(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++)
        co_yield();
    unit_yields += n;
}

static void unit_measure(void)
{
#if defined(__SANITIZE_THREAD__)
    long n = 20000;   /* TSan makes every switch and fiber very slow */
#elif defined(__SANITIZE_ADDRESS__)
    long n = 200000;
#else
    long n = 5000000;
#endif
    unit_yields = 0;
    co_go(unit_spin, (void *)(intptr_t)n);
    co_go(unit_spin, (void *)(intptr_t)n);
    double t0 = unit_secs();
    co_run();
    double el = unit_secs() - t0;
    /* each co_yield is one switch, straight to the other coroutine (the hand-off) */
    printf("info switch: %ld yields in %.3f s = %.1f ns per yield, i.e. per switch\n",
           unit_yields, el, el * 1e9 / (double)unit_yields);

    /* Spawn in waves of 50 so finished stacks are reused from the cache, as
     * in a server's steady state (not an mmap + munmap per coroutine). */
    long m = n / 25;
    t0 = unit_secs();
    for (long i = 0; i < m; i += 50) {
        for (int k = 0; k < 50; k++)
            co_go(unit_quick, NULL);
        co_run();
    }
    el = unit_secs() - t0;
    printf("info spawn: %ld coroutines spawned, run and freed in %.3f s = %.0f ns each\n", m, el,
           el * 1e9 / (double)m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    plan(25);
    if (co_init(0) < 0) {
        unit_fail("co_init", "%s", strerror(errno));
        return 1;
    }
    signal(SIGALRM, unit_watchdog);
    unit_guarded("test_pingpong", 60, test_pingpong);
    unit_guarded("test_sleep_order", 60, test_sleep_order);
    unit_guarded("test_many", 60, test_many);
    unit_guarded("test_socketpair", 60, test_socketpair);
    unit_guarded("test_read_deadline", 60, test_read_deadline);
    unit_guarded("test_budget_deadline", 10, test_budget_deadline);
    unit_guarded("test_budget_socket", 10, test_budget_socket);
    unit_guarded("test_budget_cancel", 10, test_budget_cancel);
    unit_guarded("test_join", 60, test_join);
    unit_guarded("test_cancel", 60, test_cancel);
    unit_guarded("test_cancel_edges", 60, test_cancel_edges);
    unit_guarded("test_chan", 60, test_chan);
    unit_guarded("test_chan_deadline", 60, test_chan_deadline);
    unit_guarded("test_close_wakes", 60, test_close_wakes);
    unit_guarded("test_plain_close_reuse", 60, test_plain_close_reuse);
    unit_guarded("test_plain_close_waiter", 60, test_plain_close_waiter);
    unit_guarded("test_tcp", 60, test_tcp);
    unit_guarded("test_refused", 60, test_refused);
    unit_guarded("test_guard", 60, test_guard);
    unit_guarded("test_overflow_report", 60, test_overflow_report);
    unit_guarded("test_stack_pool", 60, test_stack_pool);
    unit_guarded("test_edges", 60, test_edges);
    unit_measure();
    return check_done() || unit_failures;
}
