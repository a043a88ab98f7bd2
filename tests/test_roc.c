/* test_roc.c — ROC AUC by midranks against its definition (pairs, ties counting ½). */
#include <math.h>
#include <stdlib.h>

#include "rng.h"
#include "roc.h"
#include "testutil.h"

/* The definition, O(n²): P(s₊ > s₋) + ½ P(s₊ = s₋) over all positive–negative pairs. */
static double auc_pairs(const double *s, const uint8_t *pos, int n) {
    double num = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (pos[i] && !pos[j]) {
                pairs++;
                num += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
            }
    return num / pairs;
}

static void test_hand_cases(void) {
    /* positives {0.8, 0.5}, negatives {0.5, 0.2}: pairs 1 + 1 + ½ + 1 = 3.5 of 4 */
    double s[4] = {0.8, 0.5, 0.5, 0.2};
    uint8_t pos[4] = {1, 1, 0, 0};
    CU_ASSERT_DOUBLE_EQUAL(roc_auc(s, pos, 4), 0.875, 1e-15);
    uint8_t rev[4] = {0, 0, 1, 1};
    CU_ASSERT_DOUBLE_EQUAL(roc_auc(s, rev, 4), 0.125, 1e-15);
    double perfect[4] = {3, 4, 1, 2};
    CU_ASSERT_DOUBLE_EQUAL(roc_auc(perfect, pos, 4), 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(roc_auc(perfect, rev, 4), 0.0, 1e-15);
    double tied[5] = {7, 7, 7, 7, 7};
    uint8_t some[5] = {1, 0, 1, 0, 0};
    CU_ASSERT_DOUBLE_EQUAL(roc_auc(tied, some, 5), 0.5, 1e-15);
    /* no positives, no negatives, or a NaN score: undefined */
    uint8_t none[4] = {0, 0, 0, 0}, all[4] = {1, 1, 1, 1};
    CU_ASSERT(isnan(roc_auc(s, none, 4)));
    CU_ASSERT(isnan(roc_auc(s, all, 4)));
    double with_nan[4] = {0.8, NAN, 0.5, 0.2};
    CU_ASSERT(isnan(roc_auc(with_nan, pos, 4)));
}

/* Many ties (scores on a coarse grid), random groups: midranks equal the pair count exactly. */
static void test_against_pairs(void) {
    enum { N = 400 };
    double s[N];
    uint8_t pos[N];
    Rng r;
    rng_seed(&r, 42);
    for (int trial = 0; trial < 5; trial++) {
        for (int i = 0; i < N; i++) {
            pos[i] = rng_uniform(&r) < 0.2;
            s[i] = (double)rng_below(&r, 12) + (pos[i] ? 2.0 : 0.0); /* shifted positives, heavy ties */
        }
        double fast = roc_auc(s, pos, N), slow = auc_pairs(s, pos, N);
        CU_ASSERT_DOUBLE_EQUAL(fast, slow, 1e-12);
        CU_ASSERT(fast > 0.55 && fast < 0.95);
    }
}

int main(void) {
    const TestCase cases[] = {
        {"hand cases with ties", test_hand_cases},
        {"midranks equal the pair definition", test_against_pairs},
        {NULL, NULL},
    };
    return run_tests("roc", cases);
}
