/* unit_fairness.c — loadgen's fairness figures (harness/lib/loadgen_report.c,
 * lgr_fairness): no-reply count, min / median / max and Jain's index on
 * message counts whose answers are known by hand. */
#include "check.h"
#include "loadgen_report.h"

#include <math.h>
#include <stdio.h>

/* Run lgr_fairness on x[0..n-1] and compare with the expected figures. */
static void case_of(const char *name, long *x, long n, long no_reply, long lo, double med, long hi,
                    double jain)
{
    struct lgr_fair f;
    char why[256];
    lgr_fairness(x, n, &f);
    snprintf(why, sizeof why, "got n %ld no_reply %ld min %ld median %g max %ld jain %.6f; want %ld %ld %ld %g %ld %.6f",
             f.n, f.no_reply, f.min, f.median, f.max, f.jain, n, no_reply, lo, med, hi, jain);
    check(f.n == n && f.no_reply == no_reply && f.min == lo && f.max == hi && fabs(f.median - med) < 1e-9 &&
          fabs(f.jain - jain) < 1e-9, name, why);
}

int main(void)
{
    plan(6);
    long even[] = {7, 7, 7, 7};
    case_of("fair_even_is_1", even, 4, 0, 7, 7, 7, 1.0);
    /* 4 of 16 served equally (a pool of 4 workers): k/n = 0.25, 12 no reply */
    long pool[16] = {0, 0, 0, 900, 0, 0, 0, 0, 900, 0, 0, 900, 0, 0, 900, 0};
    case_of("fair_k_of_n_is_k_over_n", pool, 16, 12, 0, 0, 900, 0.25);
    /* one took all: 1/n */
    long one[] = {0, 0, 50, 0, 0};
    case_of("fair_one_of_n_is_1_over_n", one, 5, 4, 0, 0, 50, 0.2);
    /* unsorted, even count: median is the mean of the middle two;
     * (1+2+3+10)^2 / (4 * (1+4+9+100)) = 256 / 456 */
    long mixed[] = {10, 1, 3, 2};
    case_of("fair_median_and_index", mixed, 4, 0, 1, 2.5, 10, 256.0 / 456.0);
    /* nobody answered: index 0 (not NaN), everyone no-reply */
    long none[] = {0, 0, 0};
    case_of("fair_no_message_at_all", none, 3, 3, 0, 0, 0, 0.0);
    case_of("fair_no_connection", NULL, 0, 0, 0, 0, 0, 0.0);
    return check_done();
}
