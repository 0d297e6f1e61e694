/* timeout.c — a deadline around a slow fetch. The server answers after 3 s;
 * the client gives the whole request 1 s: connect, write and every read share
 * one absolute deadline, so the fetch fails with ETIMEDOUT after ~1 s however
 * the time is split between them (asyncio.timeout() / wait_for in Python).
 * Then a request that fits in its deadline succeeds.
 *
 * The slow server is bin/fetchd (GET /bytes/N?delay_ms=D) started as a child
 * on port 0; without it, a slow peer written here runs as a coroutine in the
 * same loop — the client's wait does not stop it from serving. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "coro.h"
#include "demo.h"
#include "flags.h"
#include "proc.h"

struct tmo_opts {
    long slow_ms;       /* --slow-ms: server delay of the request that times out */
    long fast_ms;       /* --fast-ms: server delay of the request that fits */
    long deadline_ms;   /* --deadline-ms: the client's budget per request */
    long bytes;         /* --bytes: body size to ask for */
    const char *target; /* --target: auto, fetchd or local */
};

static struct tmo_opts tmo = {3000, 200, 1000, 100, "auto"};
static int tmo_port;            /* where the slow server listens */
static struct proc tmo_fetchd;  /* the fetchd child, if we started one (harness/lib/proc.c) */

/* --- the client: one request under one deadline -------------------------- */

/* Read the reply until the body is complete or the peer closes; returns the
 * body length, or -1 (errno ETIMEDOUT when the deadline passes). */
static long tmo_read_reply(int fd, int64_t deadline)
{
    char buf[4096];
    size_t have = 0;
    long body = -1, clen = -1;
    for (;;) {
        /* Until the head is complete, append; after it, only count bytes. */
        char *at = body < 0 ? buf + have : buf;
        size_t room = body < 0 ? sizeof buf - have - 1 : sizeof buf;
        ssize_t n = co_read(fd, at, room, deadline);
        if (n < 0)
            return -1;
        if (n == 0)
            return body < 0 ? (errno = EPROTO, -1) : body;
        if (body >= 0) {
            body += n;
        } else {
            have += (size_t)n;
            buf[have] = '\0';
            char *end = strstr(buf, "\r\n\r\n");
            if (!end && have >= sizeof buf - 1)
                return errno = EPROTO, -1;
            if (!end)
                continue;
            char *cl = strcasestr(buf, "content-length:");
            clen = cl ? strtol(cl + 15, NULL, 10) : -1;
            body = (long)(buf + have - (end + 4));
        }
        if (clen >= 0 && body >= clen)
            return body;
    }
}

/* GET /bytes/N?delay_ms=D with `budget_ms` for the whole exchange. */
static void tmo_fetch(long delay_ms, long budget_ms)
{
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET /bytes/%ld?delay_ms=%ld HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     tmo.bytes, delay_ms);
    struct sockaddr_in sa;
    net_addr("127.0.0.1", tmo_port, &sa);
    long long t0 = net_now_ns();
    int64_t deadline = co_now() + budget_ms;
    demo_say("client: GET /bytes/%ld?delay_ms=%ld with a %ld ms deadline", tmo.bytes, delay_ms, budget_ms);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    long body = -1;
    if (fd >= 0 && co_connect(fd, (struct sockaddr *)&sa, sizeof sa, deadline) == 0 &&
        co_write(fd, req, (size_t)n, deadline) == n)
        body = tmo_read_reply(fd, deadline);
    int err = errno;
    if (fd >= 0)
        co_close(fd);
    if (body >= 0)
        demo_say("client: got %ld bytes after %.3f s", body, demo_since(t0));
    else if (err == ETIMEDOUT)
        demo_say("client: timed out after %.3f s (ETIMEDOUT), connection closed", demo_since(t0));
    else
        demo_say("client: failed after %.3f s: %s", demo_since(t0), strerror(err));
}

static void tmo_client(void *arg)
{
    tmo_fetch(tmo.slow_ms, tmo.deadline_ms);
    tmo_fetch(tmo.fast_ms, tmo.deadline_ms);
    co_stop(); /* the local peer, if any, would wait for clients forever */
}

/* --- the local slow peer (used when bin/fetchd is missing) --------------- */

/* One request: read it, sleep its delay_ms, answer with N bytes of 'x'. */
static void tmo_peer_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[2048], body[4096];
    size_t have = 0;
    while (have < sizeof req - 1 && !memmem(req, have, "\r\n\r\n", 4)) {
        ssize_t n = co_read(fd, req + have, sizeof req - 1 - have, co_now() + 5000);
        if (n <= 0)
            goto out;
        have += (size_t)n;
    }
    req[have] = '\0';
    long size = 0, delay = 0;
    sscanf(req, "GET /bytes/%ld?delay_ms=%ld", &size, &delay);
    if (size < 0 || size > (long)sizeof body)
        size = sizeof body;
    co_sleep(delay);
    memset(body, 'x', (size_t)size);
    char head[128];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\nConnection: close\r\n\r\n", size);
    if (co_write(fd, head, (size_t)hn, co_now() + 1000) == hn)
        co_write(fd, body, (size_t)size, co_now() + 1000);
out:
    co_close(fd);
}

static void tmo_peer(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int c = co_accept(lfd, -1);
        if (c < 0)
            break;
        if (co_go(tmo_peer_conn, (void *)(intptr_t)c) < 0)
            co_close(c);
    }
    co_close(lfd);
}

static int tmo_start_local(void)
{
    int lfd = net_listen("127.0.0.1", 0, 64, &tmo_port);
    if (lfd < 0 || net_set_nonblock(lfd) < 0 || co_go(tmo_peer, (void *)(intptr_t)lfd) < 0) {
        fprintf(stderr, "demo-timeout: local peer: %s\n", strerror(errno));
        return -1;
    }
    demo_say("server: local slow peer (a coroutine in this loop) on 127.0.0.1:%d", tmo_port);
    return 0;
}

/* --- bin/fetchd as a child ------------------------------------------------ */

/* Start `path` --port 0 and read its ready line (5 s at most). */
static int tmo_start_fetchd(const char *path)
{
    char *argv[] = {(char *)path, "--port", "0", NULL};
    struct proc_opts o = {.pipe_stdout = 1};
    if (proc_spawn(&tmo_fetchd, argv, &o) < 0) {
        fprintf(stderr, "demo-timeout: cannot start %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (proc_wait_ready(&tmo_fetchd, 5000) < 0) {
        fprintf(stderr, "demo-timeout: %s\n", tmo_fetchd.why);
        return -1;
    }
    close(tmo_fetchd.out_fd); /* servers ignore SIGPIPE; fetchd prints nothing more */
    tmo_fetchd.out_fd = -1;
    tmo_port = tmo_fetchd.port;
    demo_say("server: %s (pid %d) on 127.0.0.1:%d", path, (int)tmo_fetchd.pid, tmo_port);
    return 0;
}

/* SIGTERM fetchd, SIGKILL if it has not stopped within 5 s. */
static void tmo_stop_fetchd(void)
{
    if (tmo_fetchd.pid > 0 && proc_stop(&tmo_fetchd, 5000) < 0)
        fprintf(stderr, "demo-timeout: %s\n", tmo_fetchd.why);
}

static int tmo_start_server(void)
{
    char dir[4096], path[4200];
    int have = demo_bin_dir(dir, sizeof dir) == 0;
    snprintf(path, sizeof path, "%s/fetchd", have ? dir : "bin");
    int exists = access(path, X_OK) == 0;
    if (!strcmp(tmo.target, "fetchd") && !exists) {
        fprintf(stderr, "demo-timeout: %s not found (run make)\n", path);
        return -1;
    }
    if (exists && strcmp(tmo.target, "local"))
        return tmo_start_fetchd(path);
    return tmo_start_local();
}

int main(int argc, char **argv)
{
    const struct flag flags[] = {
        {"slow-ms", 0, FLAG_INT, &tmo.slow_ms, 0, 60000, "MS", "server delay of the first request"},
        {"fast-ms", 0, FLAG_INT, &tmo.fast_ms, 0, 60000, "MS", "server delay of the second request"},
        {"deadline-ms", 'd', FLAG_INT, &tmo.deadline_ms, 1, 60000, "MS", "client deadline per request"},
        {"bytes", 0, FLAG_INT, &tmo.bytes, 0, 4096, "N", "body size to ask for"},
        {"target", 't', FLAG_STR, &tmo.target, 0, 0, "T", "auto (bin/fetchd if built), fetchd or local"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-timeout", "[flags]",
        "A 1 s deadline around a fetch the server delays by 3 s: it fails with\n"
        "ETIMEDOUT after about 1 s. Then a 200 ms fetch fits in its deadline.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    if (strcmp(tmo.target, "auto") && strcmp(tmo.target, "fetchd") && strcmp(tmo.target, "local"))
        return flags_exit(flags_error(&spec, "--target: '%s' is not auto, fetchd or local", tmo.target));

    signal(SIGPIPE, SIG_IGN);
    int rc = 1;
    if (co_init(0) < 0) {
        fprintf(stderr, "demo-timeout: co_init: %s\n", strerror(errno));
        return 1;
    }
    if (tmo_start_server() < 0)
        goto out;
    if (co_go(tmo_client, NULL) < 0 || co_run() < 0) {
        fprintf(stderr, "demo-timeout: loop: %s\n", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    tmo_stop_fetchd();
    return rc;
}
