/* fetch.h — what the three fetchers (fetch-fork, fetch-threads, fetch-loop)
 * share, so that their own files hold nothing but the concurrency model:
 * the flags, the URL list, fetching one URL over a connection, the result
 * accounting and the summary.
 *
 * Fetching one URL is written once, against a tiny I/O interface
 * (struct fetch_io): the blocking models pass fetch_io_blocking (plain
 * sockets, poll() for the deadline), the loop model passes the coroutine
 * runtime's co_connect/co_read/co_write. Same code, different waiting. */
#ifndef FETCH_H
#define FETCH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"
#include "http.h"

/* The command line every fetcher takes. */
struct fetch_opts {
    long concurrency;   /* -c: most requests in flight at once */
    long timeout_ms;    /* --timeout: deadline of one request, connect to last byte */
    long count;         /* -n: fetch every URL this many times */
    int keepalive;      /* --keepalive: reuse connections between requests */
    int quiet;          /* --quiet: print nothing unless something failed */
    const char *verify; /* --verify: auto|on|off, check the body against pattern.h */
    const char *input;  /* -i: file with one URL per line, or NULL */
    long workers;       /* --workers: size of a fixed pool (prefork, pool); 0: no pool, no flag */
};

/* One distinct URL to fetch. */
struct fetch_target {
    char *text;               /* the URL as written, for messages */
    struct http_url url;      /* parsed */
    struct sockaddr_in addr;  /* where to connect */
    int verify;               /* check body bytes against pattern_byte(offset) */
    int64_t expect;           /* body length we require, -1 if unknown */
};

/* The outcome of one fetch. Plain data, so the fork model can send it up a pipe. */
struct fetch_result {
    uint32_t job;                 /* index into run->jobs */
    int ok;                       /* 1 if the whole body arrived (and verified) */
    uint64_t bytes;               /* body bytes received */
    uint64_t latency_ns;          /* from connect (or reuse) to the last byte */
    char reason[HTTP_REASON_MAX]; /* why it failed, one line */
};

/* A connection a worker keeps between requests (--keepalive). */
struct fetch_conn {
    int fd;                         /* connected socket, or -1 */
    const struct fetch_target *to;  /* the target fd is connected to */
};

/* How one model waits. Deadlines are absolute, in now_ms() milliseconds. */
struct fetch_io {
    int64_t (*now_ms)(void);
    int (*connect)(const struct sockaddr_in *sa, int64_t deadline);            /* fd, or -1 + errno */
    ssize_t (*read)(int fd, void *buf, size_t n, int64_t deadline);            /* >0, 0 at EOF, -1 + errno */
    ssize_t (*write)(int fd, const void *buf, size_t n, int64_t deadline);     /* n, or -1 + errno */
    int (*close)(int fd);
};

/* Plain blocking sockets; each wait bounded by poll(). For fork and threads. */
extern const struct fetch_io fetch_io_blocking;

/* Everything about one run of a fetcher. */
struct fetch_run {
    const char *prog;              /* "fetch-loop" */
    struct fetch_opts opt;         /* the flags */
    struct fetch_target *targets;  /* distinct URLs */
    size_t ntargets;               /* how many */
    uint32_t *jobs;                /* the fetches to make: indexes into targets[] */
    size_t njobs;                  /* how many */
    long inflight;                 /* concurrency actually used: min(-c, njobs) */
    struct hist *hist;             /* latency of the successful fetches */
    uint64_t ok, failed, bytes;    /* totals so far */
    long long start_ns;            /* when the fetching began */
    char **failures;               /* the first FETCH_LIST_MAX failure lines */
    size_t nfailures;              /* how many are stored */
    char error[400];               /* why fetch_setup failed, one line */
};

enum { FETCH_LIST_MAX = 20 }; /* failures listed one per line; the rest are counted */

/* Parse the flags and the URL list, raise the descriptor limit, ignore
 * SIGPIPE, start the clock. `about` is the model's paragraph for --help.
 * Returns 0; or -1 with the reason in run->error (a bad URL, an unreadable
 * -i file, ...); or FLAGS_HELP / FLAGS_BAD from flags_parse, which has
 * printed the help or named the bad flag. On any r < 0, main() returns
 * fetch_usage_error(run, r). */
int fetch_setup(struct fetch_run *run, const char *prog, const char *about, int argc, char **argv);

/* fetch_setup() for a model with flags of its own (fetch-loops' --loops):
 * `extra`, a table ended by an entry with name == NULL (flags.h), is parsed
 * with the common flags and listed after them in --help. */
struct flag;
int fetch_setup_extra(struct fetch_run *run, const char *prog, const char *about,
                      const struct flag *extra, int argc, char **argv);

/* The exit status after fetch_setup() returned r < 0: 0 after --help, else
 * 2, having printed "prog: <run->error> (try --help)" where flags_parse had
 * not already said why. */
int fetch_usage_error(const struct fetch_run *run, int r);

/* The same for a model with a fixed pool of workers: adds --workers N, with
 * `workers` as its default, to the flags; the pool never exceeds -c (the
 * most requests in flight), so run->inflight becomes min(N, -c, fetches).
 * Returns as fetch_setup() does. */
int fetch_setup_pool(struct fetch_run *run, const char *prog, const char *about, long workers,
                     int argc, char **argv);

/* ---- the parts of fetch_one() a fetcher that cannot block reuses (fetch-proto) ---- */

/* What the parser's body callback checks, for one response. */
struct fetch_check {
    const struct fetch_target *t; /* what we fetch */
    struct http_resp *resp;       /* the response it belongs to (its status) */
    int bad;                      /* a mismatch was found */
    char reason[HTTP_REASON_MAX]; /* which */
};

/* Feed n bytes of buf to check->resp (n == 0: the peer closed), checking the
 * body on the way. Returns HTTP_MORE, or HTTP_DONE / HTTP_ERR with res
 * settled: ok, or the reason in the same words for every fetcher. */
int fetch_take(struct fetch_check *check, const char *buf, ssize_t n, struct fetch_result *res);

/* res failed with errno err during `during` ("connect", "read", ...). */
void fetch_fail_errno(struct fetch_result *res, int err, const char *during, long timeout_ms);

/* May an idle kept-alive connection carry the next request? Not if the
 * server closed it, nor if bytes arrived after the last response ended (a
 * 204 whose "body" came late, a response longer than it said): they would
 * be read as the start of the next answer. A peek that does not wait. */
int fetch_idle_clean(int fd);

void fetch_conn_init(struct fetch_conn *c);
void fetch_conn_close(const struct fetch_io *io, struct fetch_conn *c);

/* Fetch jobs[job] through io. With conn (keepalive), reuse conn's socket when
 * it is connected to the same target and leave it open when the response
 * allows; without (NULL), use one connection and close it. Fills *res; never
 * takes longer than the timeout. */
void fetch_one(const struct fetch_run *run, const struct fetch_io *io, size_t job,
               struct fetch_conn *conn, struct fetch_result *res);

/* Count one result. Not thread-safe: the threads model holds a mutex. */
void fetch_record(struct fetch_run *run, const struct fetch_result *res);

/* Print the summary (stdout) and the failures (stderr), free the run.
 * Returns the exit status: 0 if every fetch succeeded, else 1. */
int fetch_finish(struct fetch_run *run);

/* Deal the jobs and the in-flight limit of `all` out to n shares (N event
 * loops, fetch-loops): share i, *r, gets jobs i, i+n, i+2n... and may have
 * as many in flight as there are numbers below all->inflight in that series.
 * The URL list and the flags stay in `all`, read by every loop and written by
 * none; the totals start at zero in each share. 0, or -1 if out of memory. */
int fetch_deal(const struct fetch_run *all, struct fetch_run *r, long i, long n);

/* Add share r's totals to `all` and free what was its own. The first
 * FETCH_LIST_MAX failure lines of all the shares are kept, the rest freed. */
void fetch_gather(struct fetch_run *all, struct fetch_run *r);

#endif
