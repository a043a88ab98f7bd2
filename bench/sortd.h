/* sortd.h — sorting timings, for the bench programs' medians and percentiles.
 *
 * qsort(times, n, sizeof *times, cmp_double) puts doubles in ascending order; the median of n
 * sorted timings is times[n / 2]. (Their clock is lib/core/clock.h's now_seconds.) */
#ifndef EXPRUN_BENCH_SORTD_H
#define EXPRUN_BENCH_SORTD_H

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
