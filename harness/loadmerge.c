/* loadmerge — one result from the loadgens of several load hosts.
 *
 * Each load host ran bin/loadgen --dump FILE against the same server, all
 * told to start at the same wall-clock time (--start-at). This reads their
 * dumps and prints what one loadgen driving every connection would have
 * printed (loadgen --csv's columns, harness/lib/loadgen_report.c), plus two:
 *
 *   latency      the histograms' counters added up, percentiles read from the
 *                sum: never an average of percentiles
 *   fairness     Jain's index, no-reply, min/median/max over the union of
 *                every host's connections
 *   throughput   the messages (and churned connections) of every host over
 *                one window: from the earliest start to the latest end
 *   load_hosts   how many dumps were merged
 *   start_spread_ms  how far apart the hosts began their traffic, each by its
 *                own clock (a clock offset between hosts is part of it)
 *
 * --out FILE also writes the merged dump (same layout), so a reader can check
 * that its count is the sum of the parts; --percentiles FILE the latency
 * spectrum of the summed counters, in loadgen --percentiles' layout (.hgrm).
 * A merged dump is itself a dump: `loadmerge --percentiles F merged.dump`
 * draws the spectrum of a merge already made. */
#include "flags.h"
#include "hist.h"
#include "loadgen_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "loadmerge"

/* One host's dump, as far as the merge needs it. */
struct lm_part {
    long long began_ns;  /* CLOCK_REALTIME when its traffic began */
    long conns_done;     /* --per-conn: connections ended after K messages */
    double secs;         /* its measured duration */
    long conns, msg_bytes, msgs, errors, per_conn, connects;
    double connect_s, rate;
};

/* The value of column `name` in a loadgen CSV header/row pair, or NULL. */
static const char *lm_col(char *hdr, char *row, const char *name)
{
    static char val[64];
    const char *h = hdr, *r = row;
    while (h && r) {
        size_t hl = strcspn(h, ",\n"), rl = strcspn(r, ",\n");
        if (hl == strlen(name) && strncmp(h, name, hl) == 0) {
            snprintf(val, sizeof val, "%.*s", (int)(rl < sizeof val ? rl : sizeof val - 1), r);
            return val;
        }
        h = h[hl] == ',' ? h + hl + 1 : NULL;
        r = r[rl] == ',' ? r + rl + 1 : NULL;
    }
    return NULL;
}

/* Read one dump into p, its counters into lat/unc, its connections' messages
 * appended to (*x, *nx). 0, or -1 after one line on stderr. */
static int lm_read(const char *path, struct lm_part *p, struct hist *lat, struct hist *unc,
                   long **x, long *nx, long *cap)
{
    FILE *f = fopen(path, "r");
    char hdr[2048], row[2048], line[256];
    const char *v;
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", PROG, path, strerror(errno));
        return -1;
    }
    memset(p, 0, sizeof *p);
    if (!fgets(line, sizeof line, f) || strcmp(line, "loadgen-dump 1\n") != 0 ||
        !fgets(line, sizeof line, f) || sscanf(line, "began_realtime_ns %lld", &p->began_ns) != 1 ||
        !fgets(line, sizeof line, f) || sscanf(line, "conns_done %ld", &p->conns_done) != 1 ||
        !fgets(hdr, sizeof hdr, f) || !fgets(row, sizeof row, f) ||
        !(v = lm_col(hdr, row, "secs")))
        goto bad;
    p->secs = atof(v);
#define LM_LONG(field, col) p->field = (v = lm_col(hdr, row, col)) ? atol(v) : 0
    LM_LONG(conns, "conns");
    LM_LONG(msg_bytes, "msg_bytes");
    LM_LONG(msgs, "msgs");
    LM_LONG(errors, "errors");
    LM_LONG(per_conn, "per_conn");
    LM_LONG(connects, "connects");
#undef LM_LONG
    p->connect_s = (v = lm_col(hdr, row, "connect_s")) ? atof(v) : 0;
    p->rate = (v = lm_col(hdr, row, "rate")) ? atof(v) : 0;
    long before = ftell(f);
    while (fgets(line, sizeof line, f) && line[0] == 'c' && line[1] == ' ') {
        if (*nx == *cap) {
            long *nw = realloc(*x, (size_t)(*cap * 2 + 1024) * sizeof *nw);
            if (!nw)
                goto bad;
            *x = nw;
            *cap = *cap * 2 + 1024;
        }
        (*x)[(*nx)++] = atol(line + 2);
        before = ftell(f);
    }
    fseek(f, before, SEEK_SET); /* the "hist" line */
    if (hist_read_counts(lat, f) < 0 || hist_read_counts(unc, f) < 0)
        goto bad;
    fclose(f);
    return 0;
bad:
    fprintf(stderr, "%s: %s is not a whole loadgen --dump (cut short?)\n", PROG, path);
    fclose(f);
    return -1;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *pct = NULL;
    const struct flag flags[] = {
        {"out", 'o', FLAG_STR, &out, 0, 0, "FILE", "also write the merged dump there"},
        {"percentiles", 0, FLAG_STR, &pct, 0, 0, "FILE",
         "also write the merged latency spectrum there (us, loadgen --percentiles' layout)"},
        {0},
    };
    const struct flags_spec spec = {PROG, "[--out FILE] [--percentiles FILE] DUMP...",
        "Merge the --dump files of several bin/loadgen runs (one per load host, same server,\n"
        "same --start-at) into one loadgen --csv row: histogram counters added, fairness over\n"
        "the union of the connections, messages summed over one window (earliest start to\n"
        "latest end), plus load_hosts and start_spread_ms. Exit 0, 1 on an unreadable dump,\n"
        "2 bad flags.",
        flags, -1};
    int n = flags_parse(&spec, argc, argv);
    if (n < 0)
        return flags_exit(n);
    if (n == 0)
        return flags_exit(flags_error(&spec, "no DUMP given"));
    int rc = 1;
    long *x = NULL, nx = 0, cap = 0;
    struct lgr_result res = {0};
    res.lat = hist_new();
    res.unc = hist_new();
    struct lm_part *parts = calloc((size_t)n, sizeof *parts);
    if (!res.lat || !res.unc || !parts) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto out;
    }
    long long first = 0, last_end = 0, last_began = 0;
    for (int i = 0; i < n; i++) {
        struct lm_part *p = &parts[i];
        if (lm_read(argv[i + 1], p, res.lat, res.unc, &x, &nx, &cap) < 0)
            goto out;
        long long end = p->began_ns + (long long)(p->secs * 1e9);
        if (!first || p->began_ns < first)
            first = p->began_ns;
        if (p->began_ns > last_began)
            last_began = p->began_ns;
        if (end > last_end)
            last_end = end;
        res.conns += p->conns;
        res.msg_bytes = p->msg_bytes;
        res.msgs += p->msgs;
        res.errors += p->errors;
        res.per_conn = p->per_conn;
        res.connects += p->connects;
        res.conns_done += p->conns_done;
        res.rate += p->rate;
        if (p->connect_s > res.connect_s)
            res.connect_s = p->connect_s;
    }
    res.threads = n;
    res.secs = (double)(last_end - first) / 1e9; /* one window over every host */
    lgr_fairness(x, nx, &res.fair);

    /* loadgen's CSV, with the two columns of a merge after it */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        goto out;
    lgr_print_csv(mem, &res);
    fclose(mem);
    char *nl = strchr(buf, '\n');
    if (!nl)
        goto out;
    *nl = '\0';
    char *row = nl + 1;
    row[strcspn(row, "\n")] = '\0';
    printf("%s,load_hosts,start_spread_ms\n%s,%d,%.3f\n", buf, row, n,
           (double)(last_began - first) / 1e6);
    free(buf);
    if (out) {
        FILE *f = fopen(out, "w");
        int bad = !f;
        if (f) {
            fprintf(f, "loadgen-dump 1\nbegan_realtime_ns %lld\nconns_done %ld\n", first, res.conns_done);
            lgr_print_csv(f, &res);
            for (long i = 0; i < nx; i++)
                fprintf(f, "c %ld\n", x[i]);
            bad = hist_write_counts(res.lat, f) < 0 || hist_write_counts(res.unc, f) < 0;
            bad |= fclose(f) != 0;
        }
        if (bad) {
            fprintf(stderr, "%s: cannot write %s: %s\n", PROG, out, strerror(errno));
            goto out;
        }
    }
    if (pct && lgr_write_percentiles(&res, pct) < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", PROG, pct, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(x);
    free(parts);
    hist_free(res.lat);
    hist_free(res.unc);
    return rc;
}
