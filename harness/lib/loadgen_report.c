/* loadgen_report.c — see loadgen_report.h. Latencies are recorded in ns and
 * printed in us with one decimal. */
#include "loadgen_report.h"
#include "hist.h"

#include <errno.h>
#include <stdlib.h>

static int lgr_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

void lgr_fairness(long *x, long n, struct lgr_fair *f)
{
    *f = (struct lgr_fair){.n = n};
    if (n <= 0)
        return;
    qsort(x, (size_t)n, sizeof *x, lgr_cmp_long);
    double sum = 0, sq = 0;
    for (long i = 0; i < n; i++) {
        f->no_reply += x[i] == 0;
        sum += (double)x[i];
        sq += (double)x[i] * (double)x[i];
    }
    f->min = x[0];
    f->max = x[n - 1];
    f->median = n % 2 ? (double)x[n / 2] : ((double)x[n / 2 - 1] + (double)x[n / 2]) / 2;
    f->jain = sq > 0 ? sum * sum / ((double)n * sq) : 0;
}

static double lgr_conns_per_s(const struct lgr_result *res)
{
    return res->secs > 0 ? (double)res->conns_done / res->secs : 0;
}

static double lgr_us(const struct hist *h, double p) { return (double)hist_percentile(h, p) / 1000.0; }

void lgr_print_csv(FILE *f, const struct lgr_result *res)
{
    fprintf(f, "conns,msg_bytes,secs,msgs,msgs_per_s,p50_us,p90_us,p99_us,p999_us,max_us,errors,"
            "connect_s,p50_unc_us,p99_unc_us,p999_unc_us,max_unc_us,rate,"
            "no_reply,msgs_conn_min,msgs_conn_median,msgs_conn_max,jain,per_conn,connects,conns_per_s\n");
    fprintf(f, "%ld,%ld,%.3f,%ld,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%ld,%.3f,", res->conns, res->msg_bytes,
            res->secs, res->msgs, res->secs > 0 ? res->msgs / res->secs : 0, lgr_us(res->lat, 50),
            lgr_us(res->lat, 90), lgr_us(res->lat, 99), lgr_us(res->lat, 99.9),
            (double)hist_max(res->lat) / 1000.0, res->errors, res->connect_s);
    if (res->rate > 0)
        fprintf(f, "%.1f,%.1f,%.1f,%.1f,%.1f,", lgr_us(res->unc, 50), lgr_us(res->unc, 99),
                lgr_us(res->unc, 99.9), (double)hist_max(res->unc) / 1000.0, res->rate);
    else
        fprintf(f, ",,,,,"); /* closed loop: there is no due time, so no second figure */
    const struct lgr_fair *fa = &res->fair;
    fprintf(f, "%ld,%ld,%.1f,%ld,%.4f,%ld,%ld,%.1f\n", fa->no_reply, fa->min, fa->median, fa->max,
            fa->jain, res->per_conn, res->connects, lgr_conns_per_s(res));
}

void lgr_print_json(FILE *f, const struct lgr_result *res)
{
    fprintf(f, "{\"conns\":%ld,\"msg_bytes\":%ld,\"secs\":%.3f,\"msgs\":%ld,\"msgs_per_s\":%.1f,"
            "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
            "\"errors\":%ld,\"connect_s\":%.3f",
            res->conns, res->msg_bytes, res->secs, res->msgs, res->secs > 0 ? res->msgs / res->secs : 0,
            lgr_us(res->lat, 50), lgr_us(res->lat, 90), lgr_us(res->lat, 99), lgr_us(res->lat, 99.9),
            (double)hist_max(res->lat) / 1000.0, res->errors, res->connect_s);
    if (res->rate > 0)
        fprintf(f, ",\"p50_unc_us\":%.1f,\"p99_unc_us\":%.1f,\"p999_unc_us\":%.1f,\"max_unc_us\":%.1f,"
                "\"rate\":%.1f",
                lgr_us(res->unc, 50), lgr_us(res->unc, 99), lgr_us(res->unc, 99.9),
                (double)hist_max(res->unc) / 1000.0, res->rate);
    else
        fprintf(f, ",\"p50_unc_us\":null,\"p99_unc_us\":null,\"p999_unc_us\":null,\"max_unc_us\":null,"
                "\"rate\":null");
    const struct lgr_fair *fa = &res->fair;
    fprintf(f, ",\"no_reply\":%ld,\"msgs_conn_min\":%ld,\"msgs_conn_median\":%.1f,\"msgs_conn_max\":%ld,"
            "\"jain\":%.4f,\"per_conn\":%ld,\"connects\":%ld,\"conns_per_s\":%.1f}\n",
            fa->no_reply, fa->min, fa->median, fa->max, fa->jain, res->per_conn, res->connects,
            lgr_conns_per_s(res));
}

void lgr_print_human(FILE *f, const struct lgr_result *res)
{
    fprintf(f, "loadgen: %ld connections, %ld-byte messages, %s, %ld thread%s\n", res->conns,
            res->msg_bytes, res->rate > 0 ? "open loop" : "closed loop", res->threads,
            res->threads == 1 ? "" : "s");
    if (res->rate > 0)
        fprintf(f, "  target rate     %.1f msgs/s\n", res->rate);
    fprintf(f, "  messages        %ld in %.3f s = %.1f msgs/s\n", res->msgs, res->secs,
            res->secs > 0 ? res->msgs / res->secs : 0);
    fprintf(f, "  errors          %ld\n", res->errors);
    fprintf(f, "  connect time    %.3f s\n", res->connect_s);
    fprintf(f, "  latency (us)    p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f%s\n",
            lgr_us(res->lat, 50), lgr_us(res->lat, 90), lgr_us(res->lat, 99), lgr_us(res->lat, 99.9),
            (double)hist_max(res->lat) / 1000.0, res->rate > 0 ? "  (from due time)" : "");
    if (res->rate > 0)
        fprintf(f, "  uncorrected     p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (from actual send)\n",
                lgr_us(res->unc, 50), lgr_us(res->unc, 99), lgr_us(res->unc, 99.9),
                (double)hist_max(res->unc) / 1000.0);
    const struct lgr_fair *fa = &res->fair;
    fprintf(f, "  per connection  no reply %ld of %ld  msgs min %ld  median %.1f  max %ld  "
            "Jain's index %.3f\n", fa->no_reply, fa->n, fa->min, fa->median, fa->max, fa->jain);
    if (res->per_conn)
        fprintf(f, "  churn           a new connection every %ld message%s: %ld ended = %.1f conns/s  "
                "(%ld connects)\n", res->per_conn, res->per_conn == 1 ? "" : "s", res->conns_done,
                lgr_conns_per_s(res), res->connects);
}

int lgr_write_percentiles(const struct lgr_result *res, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    if (hist_write_percentiles(res->lat, f, 1000.0) < 0) {
        int e = errno;
        fclose(f);
        errno = e;
        return -1;
    }
    return fclose(f) != 0 ? -1 : 0;
}
