/* unit_hist.c — the histogram against the truth: a sorted array.
 *
 * For several distributions (uniform, exponential, log-normal-ish, and one
 * with rare huge outliers) every percentile the suite reports must be within
 * 0.1% of the exact one, the max exact, the count and the mean of the
 * percentile text's footer right, merging two histograms the same as
 * recording everything into one, and the percentile text well formed. */
#include "hist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { N = 200000 };


/* The count and the mean (ns) from the footer of h's percentile text:
 * what the histogram says about itself beyond its percentiles. */
static int footer(const struct hist *h, unsigned long long *count, double *mean)
{
    FILE *f = tmpfile();
    char line[256];
    int got = 0;
    *count = 0, *mean = -1;
    if (!f || hist_write_percentiles(h, f, 1.0) != 0)
        goto out;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        double ignored;
        got += sscanf(line, "#[Mean = %lf,", mean) == 1;
        got += sscanf(line, "#[Max = %lf, Total count = %llu]", &ignored, count) == 2;
    }
out:
    if (f)
        fclose(f);
    return got == 2 ? 0 : -1;
}

/* xorshift64*: a reproducible generator, independent of libc's rand(). */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0 + 1e-17; }

static uint64_t gen_uniform(void) { return 1 + rng_next() % 10000000; }           /* 1 ns .. 10 ms */
static uint64_t gen_exponential(void) { return (uint64_t)(-log(rng_unit()) * 50000); } /* mean 50 us */
static uint64_t gen_lognormal(void)
{
    double z = 0; /* sum of 12 uniforms - 6: roughly a standard normal */
    for (int i = 0; i < 12; i++)
        z += rng_unit();
    return (uint64_t)exp(11.0 + 1.5 * (z - 6.0)); /* median about 60 us, long tail */
}
static uint64_t gen_outliers(void)
{
    if (rng_next() % 1000 == 0)
        return 1000000000ULL + rng_next() % 60000000000ULL; /* 1 s .. 61 s, 0.1% of values */
    return 20000 + rng_next() % 2000;                       /* 20-22 us */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact answer, by the definition in hist.h: the smallest value with at
 * least p% of the values at or below it. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static void test_distribution(const char *name, uint64_t (*gen)(void), uint64_t *vals)
{
    static const double ps[] = {0, 1, 50, 90, 99, 99.9, 99.99, 100};
    struct hist *h = hist_new();
    char test[96], why[160];
    for (size_t i = 0; i < N; i++) {
        vals[i] = gen();
        hist_record(h, vals[i]);
    }
    qsort(vals, N, sizeof *vals, cmp_u64);
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        uint64_t want = exact_percentile(vals, N, ps[k]), got = hist_percentile(h, ps[k]);
        double rel = want ? fabs((double)got - (double)want) / (double)want : (double)got;
        snprintf(test, sizeof test, "hist_%s_p%g", name, ps[k]);
        snprintf(why, sizeof why, "got %llu, exact %llu (%.4f%% off)", (unsigned long long)got,
                 (unsigned long long)want, rel * 100);
        check(rel <= 0.001, test, why);
    }
    snprintf(test, sizeof test, "hist_%s_max_exact_count_mean", name);
    unsigned long long count;
    double mean, exact_mean = 0;
    for (int i = 0; i < N; i++)
        exact_mean += (double)vals[i] / N;
    int ok = footer(h, &count, &mean) == 0;
    snprintf(why, sizeof why, "max %llu/%llu count %llu/%d mean %.3f/%.3f", (unsigned long long)hist_max(h),
             (unsigned long long)vals[N - 1], count, N, mean, exact_mean);
    check(ok && hist_max(h) == vals[N - 1] && count == N && fabs(mean - exact_mean) <= 1e-6 * exact_mean + 0.001,
          test, why);
    hist_free(h);
}

/* Merge: record half in a, half in b, merge b into a; compare with one histogram. */
static void test_merge(void)
{
    struct hist *a = hist_new(), *b = hist_new(), *all = hist_new();
    for (int i = 0; i < N; i++) {
        uint64_t v = gen_lognormal();
        hist_record(i % 2 ? a : b, v);
        hist_record(all, v);
    }
    for (int i = 0; i < 7; i++) {
        hist_record(b, 123456);
        hist_record(all, 123456);
    }
    hist_merge(a, b);
    unsigned long long ca, call;
    double ma, mall;
    int same = footer(a, &ca, &ma) == 0 && footer(all, &call, &mall) == 0 && ca == call &&
               hist_max(a) == hist_max(all) && fabs(ma - mall) < 1e-6 * mall;
    for (double p = 0; p <= 100 && same; p += 0.5)
        same = hist_percentile(a, p) == hist_percentile(all, p);
    check(same, "hist_merge_equals_record_all", "merged histogram differs");
    hist_free(a);
    hist_free(b);
    hist_free(all);
}

static void test_edges(void)
{
    struct hist *h = hist_new();
    unsigned long long count;
    double mean;
    check(footer(h, &count, &mean) == 0 && count == 0 && hist_max(h) == 0 && hist_percentile(h, 0) == 0 &&
              hist_percentile(h, 50) == 0 && mean == 0,
          "hist_empty_is_zero", "an empty histogram reports non-zero figures");
    hist_record(h, UINT64_MAX);
    check(footer(h, &count, &mean) == 0 && count == 1 && hist_max(h) > 1000000000000ULL,
          "hist_clamps_huge_values", "a huge value was lost");
    hist_free(h);
    h = hist_new();
    for (uint64_t v = 0; v < 2048; v++)
        hist_record(h, v);
    int exact = 1;
    for (uint64_t v = 1; v < 2048 && exact; v++)
        exact = hist_percentile(h, 100.0 * ((double)v + 0.5) / 2048.0) == v;
    check(exact, "hist_small_values_exact", "values below 2048 ns should be exact");
    hist_free(h);
}

/* Parse the text: header, rows with rising value, percentile and count, the
 * last row at percentile 1 with the full count, then the footer. */
static void test_write(void)
{
    struct hist *h = hist_new();
    for (int i = 0; i < N; i++)
        hist_record(h, gen_exponential());
    FILE *f = tmpfile();
    if (!f || hist_write_percentiles(h, f, 1000.0) != 0) {
        check(0, "hist_write_percentiles", "write failed");
        return;
    }
    rewind(f);
    char line[256];
    int ok = fgets(line, sizeof line, f) &&
             strcmp(line, "       Value     Percentile TotalCount 1/(1-Percentile)\n") == 0 &&
             fgets(line, sizeof line, f) && strcmp(line, "\n") == 0;
    double pv = -1, pp = -1, last_p = 0, mean = 0, max = 0;
    unsigned long long pc = 0, count = 0;
    int rows = 0, footer = 0;
    while (ok && fgets(line, sizeof line, f)) {
        double v, p, inv;
        unsigned long long c;
        if (line[0] == '#') {
            footer += sscanf(line, "#[Mean = %lf,", &mean) == 1 ||
                      sscanf(line, "#[Max = %lf, Total count = %llu]", &max, &count) == 2 ||
                      strncmp(line, "#[Buckets", 9) == 0;
            continue;
        }
        int got = sscanf(line, "%lf %lf %llu %lf", &v, &p, &c, &inv);
        ok = (got == 4 || (got == 3 && p == 1.0)) && v >= pv && p >= pp && c >= pc && !footer;
        pv = v, pp = p, pc = c, last_p = p;
        rows++;
    }
    char why[160];
    snprintf(why, sizeof why, "ok=%d rows=%d last=%g count=%llu footer=%d max=%g", ok, rows, last_p,
             pc, footer, max);
    check(ok && rows > 20 && last_p == 1.0 && pc == N && count == N && footer == 3 &&
              fabs(max - (double)hist_max(h) / 1000.0) < 0.001 && fabs(pv - max) < 0.001,
          "hist_write_percentiles_parses_monotone", why);
    fclose(f);
    hist_free(h);
}

int main(void)
{
    plan(41);
    uint64_t *vals = malloc(N * sizeof *vals);
    if (!vals)
        return 1;
    test_distribution("uniform", gen_uniform, vals);
    test_distribution("exponential", gen_exponential, vals);
    test_distribution("lognormal", gen_lognormal, vals);
    test_distribution("outliers", gen_outliers, vals);
    test_merge();
    test_edges();
    test_write();
    free(vals);
    return check_done();
}
