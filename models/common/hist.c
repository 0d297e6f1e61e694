/* hist.c — see hist.h.
 *
 * The layout (HdrHistogram's, in its simplest form). A value v is split into
 * a power of two and a position inside it:
 *
 *   shift = max(0, msb(v) - 10)        so that v >> shift lies in [0, 2048)
 *   index = shift * 1024 + (v >> shift)
 *
 * Values below 2048 ns get one counter each (exact). Above, each power of two
 * [2^k, 2^(k+1)) is cut into 1024 equal counters, each 2^shift wide, and
 * since v >= 1024 << shift the width is under 1/1024 of the value: < 0.1%.
 * Values up to 2^40 ns (about 18 minutes) need 29 * 1024 + 2048 counters,
 * 248 KiB, allocated once. Recording is one shift, one add.
 *
 * A percentile is reported as the highest value its counter stands for (so it
 * never understates), pulled inside [min, max], which are kept exactly. */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    HIST_SUB_BITS = 11,                         /* 2048 counters for the first range */
    HIST_HALF = 1 << (HIST_SUB_BITS - 1),       /* 1024 counters per later power of two */
    HIST_TOP_BITS = 40,                         /* values up to 2^40 - 1 ns */
    HIST_SHIFTS = HIST_TOP_BITS - HIST_SUB_BITS, /* powers of two above the first 2048 values */
    HIST_COUNTERS = HIST_SHIFTS * HIST_HALF + HIST_HALF * 2,
};
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_TOP_BITS) - 1)

struct hist {
    uint64_t total;                  /* values recorded */
    uint64_t min;                    /* smallest value recorded (UINT64_MAX if none) */
    uint64_t max;                    /* largest value recorded (0 if none) */
    double sum;                      /* sum of the values, for the mean */
    uint64_t counts[HIST_COUNTERS];  /* how many values fell into each counter */
};

/* Which counter holds v (v already clamped to HIST_MAX_VALUE). */
static inline unsigned hist_index(uint64_t v)
{
    unsigned msb = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
    unsigned shift = msb > HIST_SUB_BITS - 1 ? msb - (HIST_SUB_BITS - 1) : 0;
    return shift * HIST_HALF + (unsigned)(v >> shift);
}

/* The lowest value counter i stands for. */
static uint64_t hist_lowest(unsigned i)
{
    if (i < 2 * HIST_HALF)
        return i;
    unsigned shift = i / HIST_HALF - 1;
    uint64_t sub = i - shift * HIST_HALF; /* in [1024, 2048) */
    return sub << shift;
}

/* The highest value counter i stands for. */
static uint64_t hist_highest(unsigned i)
{
    if (i < 2 * HIST_HALF)
        return i;
    unsigned shift = i / HIST_HALF - 1;
    return hist_lowest(i) + (UINT64_C(1) << shift) - 1;
}

/* A reported value: the counter's highest, but never outside [min, max]. */
static uint64_t hist_clamp(const struct hist *h, uint64_t v)
{
    if (v > h->max)
        return h->max;
    if (v < h->min)
        return h->min;
    return v;
}

struct hist *hist_new(void)
{
    struct hist *h = calloc(1, sizeof *h);
    if (h)
        h->min = UINT64_MAX;
    return h;
}

void hist_free(struct hist *h) { free(h); }

void hist_record(struct hist *h, uint64_t ns)
{
    if (ns > HIST_MAX_VALUE)
        ns = HIST_MAX_VALUE;
    h->counts[hist_index(ns)]++;
    h->total++;
    h->sum += (double)ns;
    if (ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < HIST_COUNTERS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t hist_max(const struct hist *h) { return h->max; }

/* The mean, for the footer of the percentile text. */
static double hist_mean(const struct hist *h) { return h->total ? h->sum / (double)h->total : 0; }

uint64_t hist_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    /* The rank of the value we want: at least p% of the values are at or below it. */
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (want < 1)
        want = 1;
    if (want > h->total)
        want = h->total;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_COUNTERS; i++) {
        seen += h->counts[i];
        if (seen >= want)
            return hist_clamp(h, hist_highest(i));
    }
    return h->max;
}

/* Standard deviation from the counters (each taken at its middle), as
 * HdrHistogram does; only the footer of the percentile text uses it. */
static double hist_stddev(const struct hist *h)
{
    if (h->total == 0)
        return 0;
    double mean = hist_mean(h), acc = 0;
    for (unsigned i = 0; i < HIST_COUNTERS; i++) {
        if (!h->counts[i])
            continue;
        double mid = ((double)hist_lowest(i) + (double)hist_highest(i)) / 2 - mean;
        acc += mid * mid * (double)h->counts[i];
    }
    return sqrt(acc / (double)h->total);
}

/* The next percentile level after `level`: HdrHistogram's 5 ticks per half
 * distance, i.e. steps of 10% up to 50%, 5% up to 75%, 2.5% up to 87.5% ... */
static double hist_next_level(double level)
{
    double halvings = floor(log2(100.0 / (100.0 - level)));
    double ticks = 5.0 * pow(2.0, halvings + 1);
    return level + 100.0 / ticks;
}

static int hist_row(FILE *f, uint64_t value, double unit_ns, double level, uint64_t cum)
{
    double p = level / 100.0;
    if (level >= 100.0)
        return fprintf(f, "%12.3f %2.12f %10llu\n", (double)value / unit_ns, 1.0,
                       (unsigned long long)cum);
    return fprintf(f, "%12.3f %2.12f %10llu %14.2f\n", (double)value / unit_ns, p,
                   (unsigned long long)cum, 1.0 / (1.0 - p));
}

int hist_write_percentiles(const struct hist *h, FILE *f, double unit_ns)
{
    if (unit_ns <= 0)
        unit_ns = 1;
    if (fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
                "1/(1-Percentile)") < 0)
        return -1;
    double level = 0;
    uint64_t cum = 0;
    for (unsigned i = 0; i < HIST_COUNTERS && cum < h->total; i++) {
        if (!h->counts[i])
            continue;
        cum += h->counts[i];
        uint64_t value = hist_clamp(h, hist_highest(i));
        /* Every level this counter reaches gets a row; the last counter
         * gets exactly one more, the 100% row. */
        while (cum < h->total && 100.0 * (double)cum / (double)h->total >= level) {
            if (hist_row(f, value, unit_ns, level, cum) < 0)
                return -1;
            level = hist_next_level(level);
        }
        if (cum == h->total) {
            if (level < 100.0 && hist_row(f, value, unit_ns, level, cum) < 0)
                return -1;
            if (hist_row(f, value, unit_ns, 100.0, cum) < 0)
                return -1;
        }
    }
    if (fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", hist_mean(h) / unit_ns,
                hist_stddev(h) / unit_ns) < 0 ||
        fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n",
                (double)hist_max(h) / unit_ns, (unsigned long long)h->total) < 0 ||
        fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", HIST_SHIFTS + 1,
                2 * HIST_HALF) < 0)
        return -1;
    return 0;
}

int hist_write_counts(const struct hist *h, FILE *f)
{
    if (fprintf(f, "hist %llu %llu %llu %.17g\n", (unsigned long long)h->total,
                (unsigned long long)(h->total ? h->min : 0), (unsigned long long)h->max, h->sum) < 0)
        return -1;
    for (unsigned i = 0; i < HIST_COUNTERS; i++)
        if (h->counts[i] && fprintf(f, "b %llu %llu\n", (unsigned long long)hist_lowest(i),
                                    (unsigned long long)h->counts[i]) < 0)
            return -1;
    return fprintf(f, "end\n") < 0 ? -1 : 0;
}

int hist_read_counts(struct hist *h, FILE *f)
{
    unsigned long long total, min, max, v, n, seen = 0;
    double sum;
    char line[128];
    struct hist *tmp = hist_new();
    if (!tmp)
        return -1;
    if (!fgets(line, sizeof line, f) ||
        sscanf(line, "hist %llu %llu %llu %lg", &total, &min, &max, &sum) != 4)
        goto bad;
    while (fgets(line, sizeof line, f)) {
        if (strcmp(line, "end\n") == 0) {
            if (seen != total)
                goto bad;
            tmp->total = total;
            tmp->min = total ? min : UINT64_MAX;
            tmp->max = max;
            tmp->sum = sum;
            hist_merge(h, tmp);
            hist_free(tmp);
            return 0;
        }
        if (sscanf(line, "b %llu %llu", &v, &n) != 2 || v > HIST_MAX_VALUE)
            goto bad;
        tmp->counts[hist_index(v)] += n;
        seen += n;
    }
bad:
    hist_free(tmp);
    return -1;
}
