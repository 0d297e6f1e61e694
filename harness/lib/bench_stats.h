/* bench_stats.h — comparisons with an interval: how much one model differs
 * from another in an interleaved, repeated run (bin/bench --compare).
 *
 * In each round (repetition) of bin/bench every model runs once, back to
 * back, at each setting; so each round gives one ratio A/B. The interval is
 * the distribution-free confidence interval of the median of those per-round
 * ratios: two order statistics, the k-th smallest and the k-th largest, with
 * k the largest for which the binomial coverage is at least 95%. It needs no
 * assumption about the shape of the noise, only that rounds are alike and
 * independent. With fewer than 6 rounds no pair of order statistics reaches
 * 95%: the interval is then the whole range and its real coverage is given
 * (3 rounds: 75%, 5 rounds: 93.8%). docs/methodology.md says more. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdio.h>

/* The interval of the median of v[0..n-1] (sorted in place): *lo, *hi and
 * the probability (0..1) that it holds the true median. n >= 1. */
double stats_median_ci(double *v, int n, double *lo, double *hi);

/* One comparison: A against base B. */
struct stats_cmp {
    double ratio;      /* median(A) / median(B), every round of each */
    double lo, hi;     /* interval of the per-round ratio A_r / B_r */
    double confidence; /* its coverage, 0..1 */
    int rounds;        /* rounds where both ran */
};

/* A's verdict against B: "higher", "lower", "within noise" (the interval
 * holds 1), or "one round" (no interval). */
const char *stats_verdict(const struct stats_cmp *c);

/* Write the comparisons of the CSV at `path` (bin/bench's echo.csv, or a
 * sweep's CSV) to `out`: for each metric in `metrics` (comma-separated
 * columns), each group (conns x per_conn x work, as the summary groups) and
 * each model other than `base`, its ratio to `base`, paired by the `rep`
 * column. Returns 0, or -1 with the reason in why. */
int stats_compare_write(const char *path, const char *base, const char *metrics, FILE *out,
                        char *why, size_t cap);

#endif
