/* loadgen_report.h — loadgen's results and their output: a CSV header and
 * one row, one JSON object, or a summary for people on a stream, and the
 * latency percentile spectrum in a file (--csv, --json, the default,
 * --percentiles). bin/bench, the scripts and the charts read these columns
 * by name: a change here is a change to all of them. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <stdio.h>

struct hist;

/* How evenly the messages were shared out over the connections. */
struct lgr_fair {
    long n;          /* connections counted (those that opened) */
    long no_reply;   /* ... of which got no measured reply at all */
    long min, max;   /* fewest and most messages of one connection */
    double median;   /* median messages per connection */
    double jain;     /* Jain's index (sum x)^2 / (n sum x^2): 1 even, 1/n one took all; 0 if no message */
};

/* Fill f from x[0..n-1], the measured messages of each connection (x is
 * sorted in place). */
void lgr_fairness(long *x, long n, struct lgr_fair *f);

/* What one run measured, and the settings the output repeats. */
struct lgr_result {
    long conns;         /* connections asked for (-c) */
    long msg_bytes;     /* bytes per message (--msg-bytes) */
    long threads;       /* threads used (--threads, at most conns) */
    double rate;        /* open loop: messages per second in total (--rate); 0: closed loop */
    double secs;        /* measured duration */
    long msgs;          /* measured messages */
    long errors;        /* failed connections (connect + traffic) */
    double connect_s;   /* time to open every connection */
    struct lgr_fair fair; /* messages per connection */
    long per_conn;      /* --per-conn K; 0: connections kept open */
    long connects;      /* connections established, the first ones included */
    long conns_done;    /* --per-conn: connections that ended after their K messages, measured */
    struct hist *lat;   /* merged latency (open loop: from the due time), ns */
    struct hist *unc;   /* merged uncorrected latency (open loop: from the actual send), ns */
};

/* --csv: the header line and one row. */
void lgr_print_csv(FILE *f, const struct lgr_result *res);
/* --json: one object on one line. */
void lgr_print_json(FILE *f, const struct lgr_result *res);
/* The default: a few lines for people. */
void lgr_print_human(FILE *f, const struct lgr_result *res);

/* --percentiles: the latency spectrum in us (HdrHistogram layout) into the
 * file at path. Returns 0, or -1 with errno. */
int lgr_write_percentiles(const struct lgr_result *res, const char *path);

#endif
