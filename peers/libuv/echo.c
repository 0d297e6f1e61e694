/* echo-libuv — the echo server on libuv, the library a C programmer would
 * pick instead of writing a runtime (it is Node's event loop). Written the
 * way libuv's own guide writes its echo server: uv_listen() calls
 * on_connection() for each client, uv_read_start() calls on_read() with each
 * piece of data, and each piece goes back with uv_try_write(), uv_write()
 * taking only what the kernel did not accept at once (echo_back).
 *
 * Same model as the C loop (models/loop/echo.c): one thread, epoll, one
 * small record per connection. The difference is the shape of the code:
 * libuv calls back, so a connection's life is spread over callbacks instead
 * of being one serve() loop on its own stack. The flags, --work and the
 * ready line are the C models' own (models/common/server.h, work.h). */
#include "server.h"
#include "work.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char *prog = "echo-libuv";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};

/* One connection: the handle first, so that a uv_handle_t * is a struct conn *. */
struct conn {
    uv_tcp_t tcp; /* libuv's TCP handle */
    int eof;      /* the peer closed its side: never read again */
};

/* The rest of a message the kernel did not take at once, queued with uv_write. */
struct echo_write {
    uv_write_t req; /* libuv's write request */
    char data[];    /* the bytes it sends */
};

/* One read buffer for every connection. libuv's uv_read_cb documentation:
 * "libuv does not reuse it" — the buffer is the application's to manage, and
 * on this one thread each on_read is done with it before the next on_alloc,
 * so nothing is allocated per read (Node reads into one shared slab too). */
static char rbuf[SERVER_BUF]; /* at most SERVER_BUF per read, like the C models */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_close(uv_handle_t *h) { free(h); }

static void on_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf);

/* The queued rest is out: read again (unless the peer closed its side). */
static void on_write(uv_write_t *req, int status)
{
    struct conn *c = (struct conn *)req->handle;
    free(req);
    /* A failed write (the peer reset) is seen by on_read too, which closes. */
    if (status == 0 && !c->eof && !uv_is_closing((uv_handle_t *)c))
        uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

/* Every write queued before the shutdown goes out first, then the FIN. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
    uv_close((uv_handle_t *)req->handle, on_close);
    free(req);
}

/* Send the piece back. uv_try_write first, as Node and uvloop do (libuv's
 * documentation: "Same as uv_write(), but won't queue a write request if it
 * can't be completed immediately"): a small echo goes out in one write(2)
 * with no request allocated and no change of the epoll interest. Only what
 * the kernel did not take is copied and queued with uv_write, and reading
 * stops until it is written — the back-pressure of the C loop's co_write. */
static int echo_back(uv_stream_t *client, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(client, &b, 1);
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0)
        return n;
    if ((size_t)n == len)
        return 0;
    struct echo_write *w = malloc(sizeof *w + len - (size_t)n);
    if (!w)
        return UV_ENOMEM;
    memcpy(w->data, data + n, len - (size_t)n);
    b = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
    int r = uv_write(&w->req, client, &b, 1, on_write);
    if (r < 0) {
        free(w);
        return r;
    }
    uv_read_stop(client);
    return 0;
}

static void on_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = (struct conn *)client;
    if (nread > 0) {
        work_do(opts.work, buf->base, (size_t)nread);
        if (echo_back(client, buf->base, (size_t)nread) < 0)
            uv_close((uv_handle_t *)client, on_close);
        return;
    }
    if (nread == 0) /* EAGAIN: nothing this time */
        return;
    uv_read_stop(client);
    c->eof = 1;
    uv_shutdown_t *sd = nread == UV_EOF ? malloc(sizeof *sd) : NULL;
    /* UV_EOF: the peer closed its side; finish sending what it sent, then close.
     * Anything else (a reset): close at once; pending writes are cancelled. */
    if (sd && uv_shutdown(sd, client, on_shutdown) == 0)
        return;
    free(sd);
    if (!uv_is_closing((uv_handle_t *)client))
        uv_close((uv_handle_t *)client, on_close);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) { /* EMFILE: libuv refuses one pending connection itself */
        server_complain(prog, "accept", -status);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_t *client = &c->tcp;
    uv_tcp_init(server->loop, client);
    if (uv_accept(server, (uv_stream_t *)client) < 0 ||
        uv_read_start((uv_stream_t *)client, on_alloc, on_read) < 0)
        uv_close((uv_handle_t *)client, on_close);
}

/* SIGINT/SIGTERM: stop the loop; main() returns 0. */
static void on_signal(uv_signal_t *h, int signum) { uv_stop(h->loop); }

int main(int argc, char **argv)
{
    int pr = server_parse(&opts, prog,
                          "An echo server on libuv: uv_listen, uv_read_start and uv_try_write callbacks,\n"
                          "all on one thread. SIGINT or SIGTERM stops it. (--stack-kib is ignored.)",
                          argc, argv);
    if (pr < 0)
        return flags_exit(pr);
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_signal_t sigint, sigterm;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound, r;
    signal(SIGPIPE, SIG_IGN); /* a vanished peer: the write fails with EPIPE instead */
    uv_tcp_init(loop, &server);
    if ((r = uv_ip4_addr(opts.bind, (int)opts.port, &addr)) < 0 ||
        (r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
        (r = uv_listen((uv_stream_t *)&server, (int)opts.backlog, on_connection)) < 0 ||
        (r = uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) < 0) {
        /* strerror's words, as the C servers say it: on Unix a libuv error is -errno */
        fprintf(stderr, "%s: cannot listen on %s:%ld: %s\n", prog, opts.bind, opts.port, strerror(-r));
        return 1;
    }
    uv_signal_init(loop, &sigint);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    printf("listening on %s:%d\n", opts.bind, ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0; /* the connections go with the process */
}
