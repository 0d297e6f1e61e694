/* bench_run.h — one run of bin/bench (harness/bench.c): start a model's echo
 * server, drive it with bin/loadgen while sampling the server's process tree
 * from /proc, stop it, and append one row to echo.csv. */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include <sched.h>
#include <stdio.h>

enum {
    BENCH_MAX_MODELS = 64,  /* --models entries */
    BENCH_MAX_CONNS = 32,   /* --conns entries */
};

/* The columns of echo.csv, in order. The summary and the charts find columns
 * by these names. */
extern const char *const bench_columns;

/* bin/bench's flags. */
struct bench_opts {
    const char *models;     /* comma-separated model names (--models) */
    const char *conns;      /* comma-separated connection counts (--conns) */
    double secs;            /* seconds loadgen drives each run (--secs) */
    long reps;              /* repetitions of the whole matrix (--reps) */
    long msg_bytes;         /* bytes per echo message (--msg-bytes) */
    long work;              /* CPU work units per message, passed to the server (--work) */
    const char *out;        /* results folder (--out) */
    const char *bin;        /* folder holding echo-MODEL and loadgen (--bin) */
    const char *pin;        /* "auto", "none", "split" or "halves" (--pin) */
    long lg_threads;        /* loadgen threads (--loadgen-threads) */
    long stack_kib;         /* per-connection stack for the server, 0 = its default (--stack-kib) */
    long per_conn;          /* loadgen --per-conn K: a new connection every K messages; 0 = never */
    long pool_size;         /* a pool model (about.txt pool_flag) gets this many workers; 0 = its default */
    double disturbed_cores; /* a run whose outside CPU exceeds this many cores is marked disturbed */
    int calibrate_work;     /* print what one --work unit costs on this machine and exit */
    const char *summarize;  /* print the summary of this CSV and exit (--summarize) */
    const char *compare;    /* print the comparisons of this CSV and exit (--compare) */
    const char *base;       /* the model --compare divides by (--base) */
    const char *metrics;    /* the columns --compare compares (--metrics) */
    const char *bind;       /* the server's address (--bind); loadgen connects to it */
    long port;              /* the server's port (--port); 0: a free one */
    const char *serve;      /* --serve MODEL: the server half only (on a server host) */
    const char *server_cmd; /* --server-cmd CMD: run `bin/bench --serve` through it (ssh) */
    const char *load_cmd;   /* --load-cmd CMD: run it instead of loadgen (load hosts) */
};

/* The matrix, parsed from the options. */
struct bench_matrix {
    char *model[BENCH_MAX_MODELS]; /* model names, in the order given */
    int nmodels;                   /* how many */
    long conns[BENCH_MAX_CONNS];   /* connection counts, in the order given */
    int nconns;                    /* how many */
    int pinned;                    /* 1: the server and loadgen on the CPU sets below */
    cpu_set_t cpus_server;         /* the server's CPUs, when pinned */
    cpu_set_t cpus_loadgen;        /* loadgen's and bench's own, when pinned */
};

/* Result of one run for the progress line. */
struct bench_result {
    int fatal;         /* a host was lost, or the server host refused: the matrix stops */
    int ok;            /* a row was written */
    int clean;         /* ... and the server exited 0 and loadgen saw no errors */
    char brief[128];   /* "41234 msgs/s  p99 812 us  PSS/conn 9.1 KiB" */
};

/* Start the echo server of `model`, drive it with `conns` connections, stop
 * it, write the row to csv and the commands to cmds (run number `index`).
 * Says on stderr what went wrong; res says how it went. */
void bench_one(const struct bench_opts *o, const struct bench_matrix *m, const char *model, long conns,
               long rep, FILE *csv, FILE *cmds, int index, struct bench_result *res);

/* --serve MODEL: start the model's echo server on --bind/--port, pass its
 * ready line on, sample its process tree until stdin ends (or says "stop"),
 * stop it, print one line "served KEY=VALUE..." (CPU, memory peaks, exit).
 * The runner on another machine reads both lines through ssh. Returns the
 * exit status: 0, or 1 after one line on stderr. */
int bench_serve(const struct bench_opts *o);

/* Kill the server and loadgen of the run under way, if any, with SIGKILL:
 * for a signal handler (async-signal-safe). */
void bench_kill_live(void);

#endif
