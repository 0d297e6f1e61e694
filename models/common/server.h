/* server.h — what the three echo servers share, so that only the concurrency
 * model differs between them: the flags, the ready line, the stop signals and
 * what to do when the process runs out of file descriptors. */
#ifndef SERVER_H
#define SERVER_H

#include "flags.h"

struct server_opts {
    const char *bind;  /* address to listen on (--bind) */
    long port;         /* port, 0 for a free one (--port) */
    long backlog;      /* listen backlog (--backlog) */
    long work;         /* CPU work units per message (--work) */
    long stack_kib;    /* per-connection stack: coroutine or thread; 0 = model default */
};

/* Parse the echo servers' common flags; exits 2 on bad input, 0 after --help. */
void server_parse(struct server_opts *o, const char *prog, const char *about, int argc,
                  char **argv);

/* Listen as the options say and print the ready line
 * "listening on 127.0.0.1:PORT" on stdout. Exits 1 with one line on stderr if
 * it cannot (port in use, bad address). Also ignores SIGPIPE: a peer that
 * vanishes makes write() fail with EPIPE instead of killing the server. */
int server_listen(const struct server_opts *o, const char *prog);

/* Block SIGINT and SIGTERM (and SIGCHLD if `with_sigchld`) and return a
 * signalfd that becomes readable when one arrives: the server waits on it
 * beside the listening socket and stops cleanly. */
int server_signals(int with_sigchld);

/* Read one signal from the signalfd; returns its number, 0 if none. */
int server_signal_read(int sigfd);

/* Undo server_signals() in a forked child: default mask, sigfd closed. */
void server_signals_reset(int sigfd);

/* accept() failed with `err`: if the process is out of descriptors or memory,
 * refuse one pending connection (so clients see a close, not a hang), say so
 * on stderr at most once a second, and return 1: the caller pauses a moment
 * and goes on serving. Returns 0 for errors that need no action (EINTR,
 * EAGAIN, ECONNABORTED), -1 for errors that should stop the server. */
int server_accept_failed(int listen_fd, int err, const char *prog);

/* Say on stderr that `what` failed with `err` and new connections are refused
 * for a moment — at most once a second, so a flood of failures stays readable.
 * For a failed fork() or pthread_create(): close the connection, complain,
 * pause, go on serving the others. */
void server_complain(const char *prog, const char *what, int err);

/* Pause `ms` milliseconds unless a stop signal arrives on sigfd first;
 * returns 1 if one did (the caller stops), 0 otherwise. */
int server_pause(int sigfd, int ms);

/* Wait until `fd` is readable or a stop signal arrives on `sigfd`, for the
 * blocking models. Returns 1 if fd is readable, 0 if sigfd is, 2 on timeout,
 * -1 on error. */
int server_wait(int fd, int sigfd, int timeout_ms);

/* Message buffer size: every model reads at most this much per read(). */
enum { SERVER_BUF = 16384 };

#endif
