#include "roc.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

typedef struct Scored {
    double score;
    uint8_t positive;
} Scored;

static int by_score(const void *a, const void *b) {
    double x = ((const Scored *)a)->score, y = ((const Scored *)b)->score;
    return (x > y) - (x < y);
}

double roc_auc(const double *scores, const uint8_t *positive, int64_t n) {
    int64_t n_pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(scores[i])) return NAN;
        n_pos += positive[i] != 0;
    }
    int64_t n_neg = n - n_pos;
    if (n_pos == 0 || n_neg == 0) return NAN;
    Scored *s = ex_malloc((size_t)n * sizeof *s);
    for (int64_t i = 0; i < n; i++) s[i] = (Scored){scores[i], positive[i] != 0};
    qsort(s, (size_t)n, sizeof *s, by_score);
    /* R₊ with midranks: a run of tied scores at ranks a+1 … b gets rank (a + 1 + b)/2 each. */
    double rank_sum = 0.0;
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        int64_t pos_in_run = 0;
        while (b < n && s[b].score == s[a].score) pos_in_run += s[b++].positive;
        rank_sum += (double)pos_in_run * 0.5 * (double)(a + 1 + b);
        a = b;
    }
    free(s);
    double u = rank_sum - 0.5 * (double)n_pos * (double)(n_pos + 1);
    return u / ((double)n_pos * (double)n_neg);
}
