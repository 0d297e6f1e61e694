/* server.h — what the echo servers share, so that only the concurrency model
 * differs between them: the flags, the ready line, the stop signals and what
 * to do when the process runs out of file descriptors, processes or threads.
 *
 * One rule runs through it: only SIGINT and SIGTERM stop a server. Running
 * out of something makes it refuse new connections for a moment and go on
 * serving the ones it has; it never exits on its own. */
#ifndef SERVER_H
#define SERVER_H

#include "flags.h"
#include "ratelog.h" /* server_complain() is one; fetchd uses it through here too */

#include <stddef.h>

/* Message buffer size: every model reads at most this much per read().
 *
 * Each serve() keeps its buffer on its own stack, `char buf[SERVER_BUF]`: the
 * plainest code, the same line in every model, and a connection's memory is
 * where the lesson says it is (its thread's or coroutine's stack).
 *
 * Why 2 KiB and not 16: an idle connection's memory is the stack pages its
 * coroutine (or thread) has touched. With 16 KiB the buffer spanned four
 * pages, and the first read wrote at its low end, so every connection that
 * had echoed one message held the top page (serve's frame) and a page 16 KiB
 * below it (the bytes read, and the frames of co_read under them): 8 KiB in
 * echo-loop. At 2 KiB the buffer and every frame of a waiting coroutine fit
 * in the stack's top page: 4 KiB (docs/runtime.md, "where the pages went").
 * A message longer than 2 KiB takes a few more read()/write() pairs; the
 * benchmarks' messages are 64 bytes, well inside one.
 *
 * The price of a stack buffer is a floor under --stack-kib,
 * SERVER_STACK_MIN_KIB below: on a smaller stack the frames would reach past
 * the stack's guard page and crash the server on its first connection.
 * Moving the buffer to the heap would put an allocation, its failure path and
 * a free() into every serve() for no gain. */
enum { SERVER_BUF = 2048 };

/* The smallest --stack-kib accepted (besides 0, the model's default): the
 * buffer, the calls serve() makes and what glibc keeps at the top of a
 * thread's stack (its thread-local storage), with room to spare. Measured on
 * x86-64 with glibc 2.36, with and without ASan/TSan, when the buffer was
 * 16 KiB: a full echo session needed 24 KiB in echo-threads and 20 KiB in
 * echo-loop. */
#define SERVER_STACK_MIN_KIB 32

struct server_opts {
    const char *bind;  /* address to listen on (--bind) */
    long port;         /* port, 0 for a free one (--port) */
    long backlog;      /* listen backlog (--backlog) */
    long work;         /* CPU work units per message (--work) */
    long stack_kib;    /* per-connection stack: coroutine or thread; 0 = model default */
    long workers;      /* --workers: size of a fixed pool (prefork, pool); a model sets its
                        * default before server_parse(), and 0 means it has no pool: no flag */
    long loops;        /* event loops (--loops, echo-loops); 0: the model takes no --loops */
    int offload_flag;  /* the model offers --offload (echo-loop): set before server_parse */
    int offload;       /* --offload: --work runs on worker threads (co_offload), not on the loop */
};

/* Parse the echo servers' common flags, and --loops for a model that sets
 * o->loops (its default) beforehand: the others do not list or accept it.
 * Returns 0, or FLAGS_HELP / FLAGS_BAD
 * (flags.h) after printing the help or one line naming the bad flag (a
 * --stack-kib below SERVER_STACK_MIN_KIB included): main exits with
 * flags_exit() of it. --workers is one of them only if o->workers is set (the
 * model's default) on entry. */
int server_parse(struct server_opts *o, const char *prog, const char *about, int argc,
                 char **argv);

/* Listen as the options say and print the ready line
 * "listening on 127.0.0.1:PORT" on stdout. Returns the listening socket, or
 * -1 with errno set and a one-line reason in why[len] ("cannot listen on
 * 127.0.0.1:80: Permission denied") for main to print. Also ignores SIGPIPE:
 * a peer that vanishes makes write() fail with EPIPE instead of killing the
 * server. */
int server_listen(const struct server_opts *o, char *why, size_t len);

/* What server_listen() does besides listening, for a model that opens its
 * listening sockets itself: ignore SIGPIPE, keep the spare descriptor, print
 * the ready line for `port`. */
void server_ready(const struct server_opts *o, int port);

/* server_listen() for N event loops (echo-loops): n sockets bound to one
 * port with SO_REUSEPORT, one per loop, in fds[0..n-1]; the kernel deals the
 * connections out among them. A port given that something already listens
 * on is refused (EADDRINUSE), as a plain bind would. Prints the ready line.
 * 0, or -1 with a one-line reason in why[len]. */
int server_listen_shared(const struct server_opts *o, int *fds, long n, char *why, size_t len);

/* Block SIGINT and SIGTERM (and SIGCHLD if `with_sigchld`) and return a
 * signalfd that becomes readable when one arrives: the server waits on it
 * beside the listening socket and stops cleanly. -1 with errno on failure. */
int server_signals(int with_sigchld);

/* Read one signal from the signalfd; returns its number, 0 if none. */
int server_signal_read(int sigfd);

/* Undo server_signals() in a forked child: default mask, sigfd closed. */
void server_signals_reset(int sigfd);

/* accept() failed with `err`. If the process is out of descriptors or memory,
 * refuse one pending connection (so its client sees a close, not a hang), say
 * so on stderr at most once a second, and return 1: the caller pauses a
 * moment (server_pause) and goes on serving. Returns 0 for the errors that
 * need no action: EINTR, EAGAIN (nothing pending), ECONNABORTED (the client
 * left first), EPERM (a firewall rule), and the network errors that Linux
 * reports from accept() for the new connection (EPROTO, ENETDOWN, ENOPROTOOPT,
 * EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH; accept(2) says to
 * treat them like EAGAIN). Returns -1, after one line on stderr, for the rest:
 * they mean a bug (EBADF, EINVAL...), and the server stops. */
int server_accept_failed(int listen_fd, int err, const char *prog);

/* Say on stderr that `what` failed with `err` and new connections are refused
 * for a moment, through a ratelog: at most one line a second, so a flood of
 * failures stays readable. For a failed fork() or pthread_create(): close the
 * connection, complain, pause, go on serving the others. */
void server_complain(const char *prog, const char *what, int err);

/* Pause `ms` milliseconds unless SIGINT or SIGTERM arrives on sigfd first;
 * returns 1 if one did (the caller stops), 0 after the pause. Any other
 * signal read meanwhile (SIGCHLD) does not end the pause: a server that asked
 * for SIGCHLD reaps its children after it. */
int server_pause(int sigfd, int ms);

/* What server_wait() saw. */
enum server_event {
    SERVER_FAILED = -1, /* poll() failed: said so on stderr; errno holds why */
    SERVER_READY = 1,   /* fd is readable: accept */
    SERVER_STOP = 2,    /* SIGINT or SIGTERM arrived: stop serving */
    SERVER_CHILD = 3,   /* SIGCHLD, and no stop signal: reap, then wait again */
};

/* Wait, for the blocking models, until `fd` is readable or a signal arrives
 * on `sigfd`, reading every signal waiting there. Only SIGINT and SIGTERM
 * give SERVER_STOP; SERVER_CHILD comes only to a server that asked for
 * SIGCHLD. */
int server_wait(int fd, int sigfd, const char *prog);

#endif
