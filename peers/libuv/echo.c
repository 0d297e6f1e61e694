/* echo-libuv — the echo server on libuv, the library a C programmer would
 * pick instead of writing a runtime (it is Node's event loop). Written the
 * way libuv's own guide writes its echo server: uv_listen() calls
 * on_connection() for each client, uv_read_start() calls on_read() with each
 * piece of data, and uv_write() sends it back.
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
#include <uv.h>

static const char *prog = "echo-libuv";
static struct server_opts opts = {.bind = "127.0.0.1", .backlog = 4096};

/* One uv_write in flight: the request and the bytes it sends. */
struct echo_write {
    uv_write_t req; /* libuv's write request; req.data unused */
    uv_buf_t buf;   /* the bytes, malloc'ed by on_alloc, freed when written */
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    buf->base = malloc(SERVER_BUF); /* at most SERVER_BUF per read, like the C models */
    buf->len = buf->base ? SERVER_BUF : 0;
}

static void on_close(uv_handle_t *h) { free(h); }

static void on_write(uv_write_t *req, int status)
{
    struct echo_write *w = (struct echo_write *)req;
    free(w->buf.base);
    free(w);
    /* A failed write (the peer reset) is seen by on_read too, which closes. */
}

/* Every write queued before the shutdown goes out first, then the FIN. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
    uv_close((uv_handle_t *)req->handle, on_close);
    free(req);
}

static void on_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
    if (nread > 0) {
        struct echo_write *w = malloc(sizeof *w);
        if (!w) {
            free(buf->base);
            uv_close((uv_handle_t *)client, on_close);
            return;
        }
        work_do(opts.work, buf->base, (size_t)nread);
        w->buf = uv_buf_init(buf->base, (unsigned)nread);
        if (uv_write(&w->req, client, &w->buf, 1, on_write) < 0) {
            free(buf->base);
            free(w);
            uv_close((uv_handle_t *)client, on_close);
        }
        return;
    }
    free(buf->base);
    if (nread == 0) /* EAGAIN: nothing this time */
        return;
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
    uv_tcp_t *client = malloc(sizeof *client);
    if (!client)
        return;
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
                          "An echo server on libuv: uv_listen, uv_read_start and uv_write callbacks,\n"
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
        fprintf(stderr, "%s: cannot listen on %s:%ld: %s\n", prog, opts.bind, opts.port, uv_strerror(r));
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
