/* hist.h — a log-linear latency histogram (the HdrHistogram idea): fixed
 * memory, values in nanoseconds from 1 ns to about 18 minutes, every recorded
 * value kept to within 0.1% (3 significant digits), so percentiles are exact
 * to that precision, whatever the distribution. Recording is O(1) with no
 * allocation; two histograms merge by adding counts. */
#ifndef HIST_H
#define HIST_H

#include <stdint.h>
#include <stdio.h>

struct hist;

struct hist *hist_new(void);                          /* NULL if out of memory */
void     hist_free(struct hist *h);
void     hist_record(struct hist *h, uint64_t ns);    /* one value; larger than the range: clamped to the top */
void     hist_merge(struct hist *dst, const struct hist *src);
uint64_t hist_max(const struct hist *h);              /* exact; 0 if empty */
/* The value at percentile p (0..100): the smallest recorded value v such that
 * at least p% of the values are <= v, to within 0.1%. 0 if empty. */
uint64_t hist_percentile(const struct hist *h, double p);
/* Write the full percentile spectrum in HdrHistogram's text layout
 * ("Value Percentile TotalCount 1/(1-Percentile)", values divided by
 * `unit_ns`, e.g. 1000 for microseconds), with its footer: mean, standard
 * deviation, max and the count of values. Returns 0 or -1. */
int      hist_write_percentiles(const struct hist *h, FILE *f, double unit_ns);
/* The counters themselves, lossless, for merging histograms recorded on other
 * machines (harness/loadmerge.c): one line "hist TOTAL MIN MAX SUM", one line
 * "b VALUE COUNT" per non-empty counter (VALUE: the lowest it stands for), one
 * line "end". Returns 0 or -1. */
int      hist_write_counts(const struct hist *h, FILE *f);
/* Read what hist_write_counts wrote (from its "hist" line, which must be next
 * in f) and add it to h, as hist_merge would. Returns 0, or -1 if the text is
 * malformed or its counts do not add up to its total (h is then unchanged). */
int      hist_read_counts(struct hist *h, FILE *f);

#endif
