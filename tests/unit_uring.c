/* unit_uring.c — tests of the uring model's runtime (models/uring/coro.c):
 * what io_uring adds to the loop's contract. The kernel owns a submitted
 * buffer until the completion, so a read ended early (deadline, co_cancel,
 * co_close by another coroutine) must resume its coroutine exactly once, and
 * only after the kernel has given the buffer back: nothing arriving later may
 * land in it, and the bytes must stay in the socket for the next reader.
 * The runtime is compiled into this program (it replaces libco's loop
 * runtime, as models/uring/ replaces it in echo-uring). */
#include "../models/uring/coro.c"

#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int sv[2];          /* the socket pair the tests read from sv[0] */
static char buf[64];       /* the cancelled reader's buffer: must stay 'x' */
static int resumed;        /* how many times the cancelled reader returned from co_read */
static ssize_t first_n;    /* what its co_read returned */
static int first_err;      /* ... and errno */
static ssize_t second_n;   /* what its next co_read returned */
static int second_err;     /* ... and errno */
static co_t *reader;       /* the coroutine that is cancelled */

static void cancelled_reader(void *arg)
{
    memset(buf, 'x', sizeof buf);
    first_n = co_read(sv[0], buf, sizeof buf, -1);
    first_err = errno;
    resumed++;
    second_n = co_read(sv[0], buf, sizeof buf, -1);
    second_err = errno;
}

static ssize_t late_n = -2;   /* what a later reader got from the socket */
static char late[8];          /* ... and the bytes */
static int buf_touched;       /* the cancelled reader's buffer changed after it returned */

static void canceller(void *arg)
{
    co_sleep(20);          /* the reader's RECV is in the kernel by now */
    co_cancel(reader);
    co_cancel(reader);     /* again, while it drains: it must still resume once */
    co_sleep(50);
    if (write(sv[1], "hello", 5) != 5)
        return;
    co_sleep(20);          /* a RECV still armed would have taken it by now */
    buf_touched = memchr(buf, 'h', sizeof buf) != NULL;
    late_n = co_read(sv[0], late, sizeof late, co_now() + 1000);
}

static void test_cancel(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        check(0, "uring_cancel_setup", strerror(errno));
        return;
    }
    reader = co_spawn(cancelled_reader, NULL);
    if (!reader || co_go(canceller, NULL) < 0 || co_run() < 0) {
        check(0, "uring_cancel_run", strerror(errno));
        return;
    }
    co_join(reader, -1);
    char why[160];
    snprintf(why, sizeof why, "returned %zd (%s), %d times", first_n, strerror(first_err), resumed);
    check(first_n == -1 && first_err == ECANCELED && resumed == 1, "uring_cancel_read_resumes_once_with_ECANCELED", why);
    snprintf(why, sizeof why, "returned %zd (%s)", second_n, strerror(second_err));
    check(second_n == -1 && second_err == ECANCELED, "uring_cancelled_coroutine_next_read_fails", why);
    check(!buf_touched, "uring_cancelled_buffer_not_written_later", "bytes sent after the cancel landed in its buffer");
    snprintf(why, sizeof why, "a later reader got %zd", late_n);
    check(late_n == 5 && memcmp(late, "hello", 5) == 0, "uring_bytes_after_cancel_stay_in_socket", why);
    close(sv[0]);
    close(sv[1]);
}

static ssize_t timed_n;   /* the timed read's result */
static int timed_err;     /* ... errno */
static int64_t timed_ms;  /* ... how long it took */

static void timed_reader(void *arg)
{
    char b[16];
    int64_t t0 = co_now();
    timed_n = co_read(sv[0], b, sizeof b, t0 + 50);
    timed_err = errno;
    timed_ms = co_now() - t0;
}

static void test_deadline(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        check(0, "uring_deadline_setup", strerror(errno));
        return;
    }
    if (co_go(timed_reader, NULL) < 0 || co_run() < 0) {
        check(0, "uring_deadline_run", strerror(errno));
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "returned %zd (%s) after %lld ms", timed_n, strerror(timed_err), (long long)timed_ms);
    /* Generous bound: only that it waited for the deadline, not for ever. */
    check(timed_n == -1 && timed_err == ETIMEDOUT && timed_ms >= 50 && timed_ms < 5000, "uring_read_deadline_ETIMEDOUT", why);
    close(sv[0]);
    close(sv[1]);
}

static ssize_t closed_n;  /* the read whose descriptor another coroutine co_close()d */
static int closed_err;    /* ... errno */

static void closed_reader(void *arg)
{
    char b[16];
    closed_n = co_read(sv[0], b, sizeof b, co_now() + 5000);
    closed_err = errno;
}

static void closer(void *arg)
{
    co_sleep(20);
    co_close(sv[0]);
}

static void test_close(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        check(0, "uring_close_setup", strerror(errno));
        return;
    }
    if (co_go(closed_reader, NULL) < 0 || co_go(closer, NULL) < 0 || co_run() < 0) {
        check(0, "uring_close_run", strerror(errno));
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "returned %zd (%s)", closed_n, strerror(closed_err));
    check(closed_n == -1 && closed_err == EBADF, "uring_co_close_wakes_reader_with_EBADF", why);
    close(sv[1]);
}

/* Echo through a listening socket: multishot accept, RECV and SEND. */
static int lfd;          /* the listening socket */
static int echoed;       /* bytes the client got back */

static void echo_server(void *arg)
{
    int fd = co_accept(lfd, co_now() + 5000);
    if (fd < 0)
        return;
    char b[32];
    ssize_t n = co_read(fd, b, sizeof b, co_now() + 5000);
    if (n > 0)
        co_write(fd, b, (size_t)n, co_now() + 5000);
    co_close(fd);
}

static void echo_client(void *arg)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
        return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    char b[32];
    if (co_connect(fd, (struct sockaddr *)&sa, len, co_now() + 5000) == 0 &&
        co_write(fd, "ping", 4, co_now() + 5000) == 4) {
        ssize_t n = co_read(fd, b, sizeof b, co_now() + 5000);
        if (n == 4 && memcmp(b, "ping", 4) == 0)
            echoed = 4;
    }
    co_close(fd);
}

static void test_echo(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 16) < 0) {
        check(0, "uring_echo_setup", strerror(errno));
        return;
    }
    if (co_go(echo_server, NULL) < 0 || co_go(echo_client, NULL) < 0 || co_run() < 0) {
        check(0, "uring_echo_run", strerror(errno));
        return;
    }
    check(echoed == 4, "uring_accept_connect_send_recv_echo", "the client did not get its 4 bytes back");
    co_close(lfd);
}

/* A listener co_close()d while a coroutine waits in co_accept on it. */
static int lfd2;          /* that listener */
static int acc_r;         /* what co_accept returned */
static int acc_err;       /* ... errno */

static void waiting_acceptor(void *arg)
{
    acc_r = co_accept(lfd2, -1);
    acc_err = errno;
}

static void listener_closer(void *arg)
{
    co_sleep(20); /* the multishot accept is armed by now */
    co_close(lfd2);
}

static void test_close_listener(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    lfd2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd2 < 0 || bind(lfd2, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd2, 16) < 0) {
        check(0, "uring_close_listener_setup", strerror(errno));
        return;
    }
    if (co_go(waiting_acceptor, NULL) < 0 || co_go(listener_closer, NULL) < 0 || co_run() < 0) {
        check(0, "uring_close_listener_run", strerror(errno));
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "returned %d (%s)", acc_r, strerror(acc_err));
    check(acc_r == -1 && acc_err == EBADF, "uring_co_close_of_listener_wakes_acceptor_with_EBADF", why);
}

int main(void)
{
    plan(8);
    if (co_init(0) < 0) {
        check(0, "uring_init", strerror(errno));
        return 1;
    }
    test_cancel();
    test_deadline();
    test_close();
    test_echo();
    test_close_listener();
    return check_done();
}
