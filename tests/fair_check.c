/* fair_check — is an echo server fair under a flood? (tests only; see tests/t_fair.sh)
 *
 * Two roles, one program:
 *   --flood read|noread   one connection that sends without pause for --secs
 *                         seconds: "read" also reads every echoed byte (so the
 *                         server's reads and writes never have to wait),
 *                         "noread" never reads (the server's writes fill up).
 *   --rounds N            --clients K connections each make N round trips of
 *                         a small message, one after the other; every round
 *                         trip must come back within --max-ms.
 *   --drip                an HTTP server for the fetchers: prints its ready
 *                         line, then answers every request with a chunked
 *                         body of one-byte chunks, sent without pause for
 *                         --secs seconds from that request on (each
 *                         connection its own --secs: the fetcher that comes
 *                         last is fed as long as the first); it serves until
 *                         it is killed.
 * Prints one summary line; exit 0 if all went well, 1 otherwise. */
#include "flags.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static long port, secs = 10, rounds = 20, nclients = 4, max_ms = 1000;
static const char *flood;
static int drip;

/* The flooder's reader: takes every echoed byte as fast as it comes. */
static void *flood_reader(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static char in[262144];
    long long got = 0;
    ssize_t n;
    while ((n = read(fd, in, sizeof in)) > 0)
        got += n;
    return (void *)(intptr_t)(got > 0);
}

/* One connection sending as fast as the server takes it, for `secs` seconds;
 * with `reads`, a second thread reads the echo at the same time, so the
 * server's reads and writes always find data and room. Blocking I/O with a
 * send timeout, so a stuck server cannot hold this process past its time. */
static int run_flood(int reads)
{
    int fd = net_connect("127.0.0.1", (int)port);
    if (fd < 0) {
        fprintf(stderr, "fair_check: connect: %s\n", strerror(errno));
        return 1;
    }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    pthread_t t;
    if (reads && pthread_create(&t, NULL, flood_reader, (void *)(intptr_t)fd) != 0) {
        fprintf(stderr, "fair_check: pthread_create failed\n");
        return 1;
    }
    static char out[65536];
    memset(out, 'f', sizeof out);
    long long end = net_now_ns() + secs * 1000000000LL;
    long long sent = 0;
    while (net_now_ns() < end) {
        ssize_t n = write(fd, out, sizeof out);
        if (n > 0)
            sent += n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            break; /* the server went away: the test decides whether that was right */
    }
    shutdown(fd, SHUT_RDWR); /* ends the reader's read */
    if (reads)
        pthread_join(t, NULL);
    printf("fair_check: flood (%s) sent %lld bytes\n", reads ? "read" : "noread", sent);
    close(fd);
    return 0;
}

/* Wait until fd is readable; 0, or -1 after `ms` milliseconds. */
static int wait_in(int fd, long ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, (int)ms) == 1 ? 0 : -1;
}

static int run_rounds(void)
{
    int *fds = calloc((size_t)nclients, sizeof *fds);
    if (!fds)
        return 1;
    for (long i = 0; i < nclients; i++) {
        fds[i] = net_connect("127.0.0.1", (int)port);
        if (fds[i] < 0) {
            fprintf(stderr, "fair_check: connect: %s\n", strerror(errno));
            return 1;
        }
    }
    double worst = 0;
    long done = 0, bad = 0;
    const char msg[32] = "round trip beside a flood.....\n";
    for (long r = 0; r < rounds && !bad; r++) {
        for (long i = 0; i < nclients && !bad; i++) {
            long long t0 = net_now_ns();
            if (write(fds[i], msg, sizeof msg) != (ssize_t)sizeof msg) {
                bad = 1;
                break;
            }
            size_t got = 0;
            char buf[sizeof msg];
            while (got < sizeof msg) {
                long left = max_ms - (long)((net_now_ns() - t0) / 1000000);
                if (left <= 0 || wait_in(fds[i], left) < 0) {
                    fprintf(stderr, "fair_check: no reply within %ld ms (round %ld, client %ld)\n", max_ms,
                            r + 1, i + 1);
                    bad = 1;
                    break;
                }
                ssize_t n = read(fds[i], buf + got, sizeof msg - got);
                if (n <= 0) {
                    fprintf(stderr, "fair_check: connection ended in round %ld\n", r + 1);
                    bad = 1;
                    break;
                }
                got += (size_t)n;
            }
            double ms = (double)(net_now_ns() - t0) / 1e6;
            if (ms > worst)
                worst = ms;
            if (!bad && memcmp(buf, msg, sizeof msg) != 0) {
                fprintf(stderr, "fair_check: wrong bytes echoed\n");
                bad = 1;
            }
            done += !bad;
        }
    }
    printf("fair_check: %ld of %ld round trips, worst %.1f ms (limit %ld ms)\n", done, rounds * nclients,
           worst, max_ms);
    for (long i = 0; i < nclients; i++)
        close(fds[i]);
    free(fds);
    return bad ? 1 : 0;
}

/* --drip: one connection. Read the request, then never stop sending a
 * chunked body of one-byte chunks, 64 KiB at a time: the fetcher's reads
 * always find a full buffer, and its parser always has work. */
static char drip_body[65532]; /* 10,922 chunks "1\r\nx\r\n", filled once by run_drip */

static void *drip_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[4096];
    if (read(fd, req, sizeof req) > 0) {
        long long end = net_now_ns() + secs * 1000000000LL; /* this connection's own end */
        static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        size_t off = 0; /* where in drip_body the next write starts: a short write goes on from there */
        ssize_t w = write(fd, head, sizeof head - 1);
        while (w > 0 && net_now_ns() < end) {
            w = write(fd, drip_body + off, sizeof drip_body - off);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                w = 1; /* the send timeout: a slow reader; go on until the end */
            else if (w > 0)
                off = (off + (size_t)w) % sizeof drip_body;
        }
    }
    close(fd);
    return NULL;
}

static int run_drip(void)
{
    int bound = 0;
    int lfd = net_listen("127.0.0.1", 0, 128, &bound);
    if (lfd < 0) {
        fprintf(stderr, "fair_check: listen: %s\n", strerror(errno));
        return 1;
    }
    for (size_t i = 0; i + 6 <= sizeof drip_body; i += 6)
        memcpy(drip_body + i, "1\r\nx\r\n", 6);
    printf("listening on 127.0.0.1:%d\n", bound);
    fflush(stdout);
    for (;;) { /* until killed: a late fetcher must find it streaming */
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, 100) != 1)
            continue;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = 0, .tv_usec = 200000}; /* a stuck reader cannot hold us */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        pthread_t t;
        if (pthread_create(&t, NULL, drip_conn, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const struct flag flags[] = {
        {"port", 'p', FLAG_INT, &port, 1, 65535, "PORT", "server port on 127.0.0.1"},
        {"flood", 0, FLAG_STR, &flood, 0, 0, "MODE", "be the flooder: read (reads the echo) or noread"},
        {"secs", 0, FLAG_INT, &secs, 1, 600, "S", "flood for this long"},
        {"rounds", 0, FLAG_INT, &rounds, 1, 100000, "N", "round trips per client"},
        {"clients", 'c', FLAG_INT, &nclients, 1, 1000, "N", "round-trip clients"},
        {"max-ms", 0, FLAG_INT, &max_ms, 1, 600000, "MS", "longest round trip allowed"},
        {"drip", 0, FLAG_BOOL, &drip, 0, 0, NULL, "be an HTTP server that streams a body without end"},
        {0},
    };
    const struct flags_spec spec = {"fair_check", "--port PORT [--flood MODE | --rounds N] | --drip",
                                    "Floods an echo server, or times round trips beside a flood.", flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    signal(SIGPIPE, SIG_IGN);
    if (drip)
        return run_drip();
    if (!port)
        return flags_exit(flags_error(&spec, "--port is required"));
    signal(SIGPIPE, SIG_IGN);
    if (!flood)
        return run_rounds();
    if (strcmp(flood, "read") && strcmp(flood, "noread"))
        return flags_exit(flags_error(&spec, "--flood: '%s' is not read or noread", flood));
    return run_flood(strcmp(flood, "read") == 0);
}
