/* echo_hostile — clients that misbehave against an echo server, and a probe
 * that checks the well-behaved ones are still served (tests only; used by
 * tests/t_hostile_echo.sh).
 *
 *   --mode never-read  N connections send as fast as the server takes bytes
 *                      and never read. The summary gives the most bytes one
 *                      connection got to send: a server that stops reading
 *                      once its writes back block takes no more than the
 *                      socket buffers hold; one that buffers takes without end.
 *   --mode slow-read   the same, but each connection reads --read-bytes every
 *                      --read-ms and checks they are the bytes it sent.
 *                      In both, a connection the server closes or resets (it
 *                      is stopping) just ends: counted, not a failure.
 *   --mode probe       N connections do round trips of --msg-bytes, one after
 *                      the other, --gap-ms apart: each must come back whole
 *                      within --max-rtt-ms, and each connection must make at
 *                      least --min-trips of them.
 *
 * Every mode connects all its connections first and then prints "connected N"
 * on stdout (the test waits for that line), runs for --secs seconds and
 * prints one summary line. Exit 0 if all went as the mode requires, 1 if not. */
#include "flags.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static long conns = 4, secs = 3, read_bytes = 512, read_ms = 100, msg_bytes = 64, gap_ms = 0,
            max_rtt_ms = 1000, min_trips = 1, port;
static const char *mode = "probe", *host = "127.0.0.1";

/* Byte i of what a connection sends (and so of what must come back). */
static unsigned char pat(size_t i) { return (unsigned char)(i % 251); }

static long long now_ms(void) { return net_now_ns() / 1000000; }

/* A blocking connection with small socket buffers on our side, so that a
 * flood fills them (and shows the server's back-pressure) soon, and ties up
 * little kernel memory. */
static int connect_small(void)
{
    struct sockaddr_in sa;
    int size = 65536;
    if (net_addr(host, (int)port, &sa) < 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int *connect_all(void)
{
    int *fd = calloc((size_t)conns, sizeof *fd);
    for (long i = 0; fd && i < conns; i++) {
        fd[i] = connect_small();
        if (fd[i] < 0) {
            fprintf(stderr, "echo_hostile: connect #%ld: %s\n", i, strerror(errno));
            exit(1);
        }
    }
    printf("connected %ld\n", conns);
    fflush(stdout);
    return fd;
}

/* A flooding connection's record. */
struct flooder {
    int fd;             /* the connection; -1 once the server closed it */
    size_t sent;        /* bytes the server has taken */
    size_t got;         /* bytes read back (slow-read) */
};

/* The server closed or reset the connection (it is stopping, or it gave up
 * on us): not a failure of the server, just the end of this connection. */
static int closed_by_peer(ssize_t n)
{
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
}

/* Write to c until the socket takes no more (or 1 MiB this turn). Returns
 * -1 on an unexpected error. */
static int flood_write(struct flooder *c, long *closed)
{
    unsigned char buf[65536];
    for (int round = 0; round < 16 && c->fd >= 0; round++) {
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = pat(c->sent + k);
        ssize_t w = write(c->fd, buf, sizeof buf);
        if (w < 0 && errno == EAGAIN)
            return 0;
        if (closed_by_peer(w)) {
            close(c->fd);
            c->fd = -1;
            ++*closed;
            return 0;
        }
        if (w < 0) {
            fprintf(stderr, "echo_hostile: write: %s after %zu bytes\n", strerror(errno), c->sent);
            return -1;
        }
        c->sent += (size_t)w;
    }
    return 0;
}

/* Read a little from c and check it is what was sent. Returns -1 if not. */
static int slow_read(struct flooder *c, long *closed)
{
    unsigned char buf[65536];
    ssize_t n = read(c->fd, buf, (size_t)read_bytes);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (closed_by_peer(n)) {
        close(c->fd);
        c->fd = -1;
        ++*closed;
        return 0;
    }
    if (n < 0) {
        fprintf(stderr, "echo_hostile: read: %s after %zu bytes\n", strerror(errno), c->got);
        return -1;
    }
    for (ssize_t k = 0; k < n; k++)
        if (buf[k] != pat(c->got + (size_t)k)) {
            fprintf(stderr, "echo_hostile: wrong byte echoed at %zu\n", c->got + (size_t)k);
            return -1;
        }
    c->got += (size_t)n;
    return 0;
}

/* never-read and slow-read: push bytes whenever the socket takes them. */
static int flood(int slow)
{
    int *fd = connect_all();
    struct flooder *cs = calloc((size_t)conns, sizeof *cs);
    for (long i = 0; i < conns; i++) {
        cs[i].fd = fd[i];
        net_set_nonblock(fd[i]);
    }
    long closed = 0;
    long long end = now_ms() + secs * 1000, next_read = now_ms() + read_ms;
    while (now_ms() < end && closed < conns) {
        for (long i = 0; i < conns; i++)
            if (cs[i].fd >= 0 && flood_write(&cs[i], &closed) < 0)
                return 1;
        if (slow && now_ms() >= next_read) {
            next_read += read_ms;
            for (long i = 0; i < conns; i++)
                if (cs[i].fd >= 0 && slow_read(&cs[i], &closed) < 0)
                    return 1;
        }
        poll(NULL, 0, 10); /* a flood with a pulse, not a busy loop on our side */
    }
    size_t most = 0, got = 0;
    for (long i = 0; i < conns; i++) {
        most = cs[i].sent > most ? cs[i].sent : most;
        got += cs[i].got;
    }
    printf("echo_hostile: %s: %ld conns, most_sent_kib=%zu read_kib=%zu closed_by_server=%ld\n",
           mode, conns, most / 1024, got / 1024, closed);
    return 0;
}

/* One round trip on fd: send msg, read it back whole by the deadline. */
static const char *round_trip(int fd, size_t seq, long long *rtt)
{
    unsigned char out[65536], in[65536];
    for (long k = 0; k < msg_bytes; k++)
        out[k] = (unsigned char)(seq + (size_t)k);
    long long t0 = now_ms(), deadline = t0 + max_rtt_ms;
    if (net_write_all(fd, out, (size_t)msg_bytes) < 0)
        return strerror(errno);
    for (long got = 0; got < msg_bytes;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            return "no echo within --max-rtt-ms";
        ssize_t n = read(fd, in + got, (size_t)(msg_bytes - got));
        if (n == 0)
            return "connection closed by the server";
        if (n < 0 && errno != EINTR)
            return strerror(errno);
        if (n > 0)
            got += n;
    }
    if (memcmp(in, out, (size_t)msg_bytes) != 0)
        return "wrong bytes echoed";
    *rtt = now_ms() - t0;
    return NULL;
}

static int probe(void)
{
    int *fd = connect_all();
    long *trips = calloc((size_t)conns, sizeof *trips);
    long long end = now_ms() + secs * 1000, worst = 0;
    size_t seq = 0;
    while (now_ms() < end) {
        for (long i = 0; i < conns; i++) {
            long long rtt = 0;
            const char *why = round_trip(fd[i], seq++, &rtt);
            if (why) {
                fprintf(stderr, "echo_hostile: probe #%ld: %s after %ld round trips\n", i, why, trips[i]);
                printf("echo_hostile: probe: connection #%ld failed: %s\n", i, why);
                return 1;
            }
            trips[i]++;
            if (rtt > worst)
                worst = rtt;
        }
        if (gap_ms)
            poll(NULL, 0, (int)gap_ms);
    }
    long fewest = trips[0];
    for (long i = 1; i < conns; i++)
        if (trips[i] < fewest)
            fewest = trips[i];
    printf("echo_hostile: probe: %ld conns, %ld round trips each at least, slowest %lld ms\n",
           conns, fewest, worst);
    return fewest >= min_trips ? 0 : 1;
}

int main(int argc, char **argv)
{
    const struct flag flags[] = {
        {"port", 'p', FLAG_INT, &port, 1, 65535, "PORT", "server port"},
        {"host", 0, FLAG_STR, &host, 0, 0, "ADDR", "server address"},
        {"mode", 'm', FLAG_STR, &mode, 0, 0, "MODE", "never-read, slow-read or probe"},
        {"conns", 'c', FLAG_INT, &conns, 1, 10000, "N", "connections"},
        {"secs", 0, FLAG_INT, &secs, 1, 600, "S", "run this long"},
        {"read-bytes", 0, FLAG_INT, &read_bytes, 1, 65536, "B", "slow-read: bytes per read"},
        {"read-ms", 0, FLAG_INT, &read_ms, 1, 60000, "MS", "slow-read: time between reads"},
        {"msg-bytes", 0, FLAG_INT, &msg_bytes, 1, 65536, "B", "probe: bytes per round trip"},
        {"gap-ms", 0, FLAG_INT, &gap_ms, 0, 60000, "MS", "probe: pause between rounds"},
        {"max-rtt-ms", 0, FLAG_INT, &max_rtt_ms, 1, 600000, "MS", "probe: slowest round trip allowed"},
        {"min-trips", 0, FLAG_INT, &min_trips, 0, 1000000, "N", "probe: fewest round trips per connection"},
        {0},
    };
    const struct flags_spec spec = {"echo_hostile", "--port PORT --mode MODE [flags]",
                                    "Hostile clients and a round-trip probe for the echo servers.", flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    if (!port)
        return flags_exit(flags_error(&spec, "--port is required"));
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(mode, "probe") == 0)
        return probe();
    if (strcmp(mode, "never-read") == 0 || strcmp(mode, "slow-read") == 0)
        return flood(mode[0] == 's');
    return flags_exit(flags_error(&spec, "--mode: '%s' is not never-read, slow-read or probe", mode));
}
