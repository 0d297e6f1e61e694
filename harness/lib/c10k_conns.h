/* c10k_conns.h — the client side of bin/c10k (harness/c10k.c): N idle
 * connections to an echo server, opened at a steady pace with non-blocking
 * connects, each proving itself with one small echo round trip, and echoed
 * on once more before they are closed. */
#ifndef C10K_CONNS_H
#define C10K_CONNS_H

#include <signal.h>

/* The probe each connection echoes: small, and recognisable. */
#define C10K_MSG "c10k-ok\n"
#define C10K_MSG_LEN (sizeof C10K_MSG - 1)

enum c10k_state {
    C10K_IDLE,        /* not started in this step */
    C10K_CONNECTING,  /* connect() in progress: waiting to become writable */
    C10K_WAITING,     /* probe sent: waiting for its echo */
    C10K_DONE,        /* echo received in full */
    C10K_FAILED,      /* an error: counted, socket closed */
};

/* One client connection. */
struct c10k_conn {
    int fd;               /* its socket, -1 before it has one */
    unsigned char state;  /* an enum c10k_state */
    unsigned char got;    /* bytes of the echo received so far */
};

/* A step drives every connection through one round: OPEN connects and echoes
 * once; ECHO echoes once more on connections already open. */
enum c10k_mode { C10K_OPEN, C10K_ECHO };

/* The state of one step. */
struct c10k_step {
    struct c10k_conn *conns;  /* all connections of the run */
    long n;                   /* how many this step must handle */
    enum c10k_mode mode;      /* what it does to each */
    const char *host;         /* server address (NULL: 127.0.0.1) */
    int port;                 /* server port */
    long rate;                /* OPEN: new connections per second */
    long inflight;            /* connections being set up at once, at most */
    volatile sig_atomic_t *stop; /* set (by a signal handler) to end the step early; may be NULL */
    int oom;                  /* 1: the step could not allocate its arrays */
    long next;                /* next connection to start */
    long *active;             /* indices of connections in flight */
    long nactive;             /* how many */
    long done, failed;        /* connections finished well, and badly */
    int stopping;             /* OPEN: a failure was seen, start no more */
    int first_err;            /* errno of the first failure (0: EOF from the server) */
    char first_what[64];      /* what failed first: "socket", "connect", "echo" */
    long first_index;         /* which connection (1-based) */
};

/* Run one step until every connection is done or failed, `limit_s` passes,
 * or *st->stop is set. Returns 0 if all n are done, -1 otherwise (st says
 * why: first_err, first_what, first_index; oom). */
int c10k_step_run(struct c10k_step *st, long limit_s);

/* Close every client socket with an immediate reset (SO_LINGER 0): no
 * TIME_WAIT sockets linger for a minute in the slab to blur the next run. */
void c10k_close_all(struct c10k_conn *conns, long n);

#endif
