/* bench_stats.c — comparisons with an interval; see bench_stats.h. */
#include "bench_stats.h"
#include "bench_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { STATS_MAX_ROUNDS = 1000 }; /* bin/bench --reps allows up to 1000 */

static int stats_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* P(X <= k) for X ~ Binomial(n, 1/2). */
static double stats_binom_cdf_half(int n, int k)
{
    double p = 0, term = pow(0.5, n); /* C(n,0) / 2^n */
    for (int i = 0; i <= k; i++) {
        p += term;
        term = term * (n - i) / (i + 1);
    }
    return p;
}

double stats_median_ci(double *v, int n, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, stats_cmp_double);
    /* [v(k), v(n+1-k)] (1-based) holds the median unless fewer than k of
     * the n values fall below it, or fewer than k above: coverage
     * 1 - 2 P(X <= k-1). The widest k that keeps 95%, else k = 1. */
    int best = 1;
    for (int k = 2; k <= n / 2; k++)
        if (1 - 2 * stats_binom_cdf_half(n, k - 1) >= 0.95)
            best = k;
    *lo = v[best - 1];
    *hi = v[n - best];
    return n >= 2 ? 1 - 2 * stats_binom_cdf_half(n, best - 1) : 0;
}

const char *stats_verdict(const struct stats_cmp *c)
{
    if (c->rounds < 2)
        return "one round";
    if (c->lo <= 1 && c->hi >= 1)
        return "within noise";
    return c->lo > 1 ? "higher" : "lower";
}

/* Median of v[0..n-1] (sorts v). */
static double stats_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, stats_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The value of column j in row i, NaN when it is not a number. */
static double stats_num(const struct csv *c, int i, int j)
{
    double v;
    return j >= 0 && csv_is_num(c->row[i][j], &v) ? v : NAN;
}

/* Compare model a with base b on column jv within the group of row g. */
static int stats_one(const struct csv *c, int g, const char *a, const char *b, int jv,
                     struct stats_cmp *out)
{
    int jm = csv_find(c, "model"), jr = csv_find(c, "rep");
    double key[3], k2[3], ra[STATS_MAX_ROUNDS], va[STATS_MAX_ROUNDS], vb[STATS_MAX_ROUNDS];
    int na = 0, nb = 0, np = 0;
    csv_group_keys(c, g, key);
    for (int i = 0; i < c->nrows; i++) {
        csv_group_keys(c, i, k2);
        if (memcmp(key, k2, sizeof key) != 0)
            continue;
        double x = stats_num(c, i, jv);
        if (isnan(x))
            continue;
        if (strcmp(c->row[i][jm], a) == 0 && na < STATS_MAX_ROUNDS) {
            va[na++] = x;
            /* its partner: the base's row of the same round */
            for (int k = 0; k < c->nrows && np < STATS_MAX_ROUNDS; k++) {
                csv_group_keys(c, k, k2);
                double y = stats_num(c, k, jv);
                if (strcmp(c->row[k][jm], b) == 0 && memcmp(key, k2, sizeof key) == 0 &&
                    strcmp(c->row[k][jr], c->row[i][jr]) == 0 && !isnan(y) && y > 0) {
                    ra[np++] = x / y;
                    break;
                }
            }
        } else if (strcmp(c->row[i][jm], b) == 0 && nb < STATS_MAX_ROUNDS) {
            vb[nb++] = x;
        }
    }
    if (na == 0 || nb == 0 || np == 0)
        return -1;
    double mb = stats_median(vb, nb);
    out->ratio = mb > 0 ? stats_median(va, na) / mb : NAN;
    out->rounds = np;
    out->confidence = stats_median_ci(ra, np, &out->lo, &out->hi);
    return 0;
}

int stats_compare_write(const char *path, const char *base, const char *metrics, FILE *out,
                        char *why, size_t cap)
{
    struct csv c;
    if (csv_load(path, &c, why, cap) < 0)
        return -1;
    int jm = csv_find(&c, "model"), jval = csv_find(&c, "value");
    int rc = -1;
    if (csv_find(&c, "rep") < 0) {
        snprintf(why, cap, "%s has no 'rep' column: no rounds to pair", path);
        goto out;
    }
    int has_base = 0;
    for (int i = 0; i < c.nrows && !has_base; i++)
        has_base = strcmp(c.row[i][jm], base) == 0;
    if (!has_base) {
        snprintf(why, cap, "%s has no rows of the base model '%s'", path, base);
        goto out;
    }
    char list[1024], *metric[CSV_MAX_COLS];
    snprintf(list, sizeof list, "%s", metrics);
    int nmet = csv_split(list, metric, CSV_MAX_COLS);
    for (int k = 0; k < nmet; k++)
        if (csv_find(&c, metric[k]) < 0) {
            snprintf(why, cap, "%s has no column '%s'", path, metric[k]);
            goto out;
        }
    fprintf(out, "metric,model,base,conns,per_conn,work,value,ratio,lo,hi,rounds,confidence_pct,verdict\n");
    for (int k = 0; k < nmet; k++) {
        int jv = csv_find(&c, metric[k]);
        /* each (model, group) once, in the order of first appearance */
        for (int i = 0; i < c.nrows; i++) {
            double key[3], k2[3];
            if (strcmp(c.row[i][jm], base) == 0)
                continue;
            csv_group_keys(&c, i, key);
            int seen = 0;
            for (int p = 0; p < i && !seen; p++) {
                csv_group_keys(&c, p, k2);
                seen = strcmp(c.row[p][jm], c.row[i][jm]) == 0 && memcmp(key, k2, sizeof key) == 0;
            }
            struct stats_cmp s;
            if (seen || stats_one(&c, i, c.row[i][jm], base, jv, &s) < 0)
                continue;
            fprintf(out, "%s,%s,%s,", metric[k], c.row[i][jm], base);
            for (int q = 0; q < 3; q++) {
                csv_put_num(out, key[q]);
                fputc(',', out);
            }
            fprintf(out, "%s,", jval >= 0 ? c.row[i][jval] : "");
            csv_put_num(out, s.ratio);
            fputc(',', out);
            csv_put_num(out, s.lo);
            fputc(',', out);
            csv_put_num(out, s.hi);
            fprintf(out, ",%d,%.1f,%s\n", s.rounds, 100 * s.confidence, stats_verdict(&s));
        }
    }
    rc = 0;
out:
    csv_free(&c);
    return rc;
}
