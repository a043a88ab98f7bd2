/* test_kmeans.c — k-means++ / Lloyd on separable blobs, edge cases, and the clustering scores
 * (purity, NMI) on hand-computed partitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans.h"
#include "testutil.h"

static void test_scores_by_hand(void) {
    /* clusters {0,0,1,1,2,2} against classes {0,0,0,1,1,1}: cluster 1 is mixed.
     * purity = (2 + 1 + 2)/6; NMI = I / ((ln 3 + ln 2)/2) with I = (2/3) ln 2 */
    int32_t a[6] = {0, 0, 1, 1, 2, 2}, y[6] = {0, 0, 0, 1, 1, 1};
    CU_ASSERT_DOUBLE_EQUAL(cluster_purity(a, 3, y, 2, 6), 5.0 / 6.0, 1e-15);
    double nmi = (2.0 / 3.0) * log(2.0) / (0.5 * (log(3.0) + log(2.0)));
    CU_ASSERT_DOUBLE_EQUAL(cluster_nmi(a, 3, y, 2, 6), nmi, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(cluster_nmi(a, 3, y, 2, 6), 0.5158037429793888, 1e-12); /* numpy */
    /* the same partition under other names: 1 */
    int32_t b[6] = {2, 2, 0, 0, 1, 1}, c[6] = {1, 1, 2, 2, 0, 0};
    CU_ASSERT_DOUBLE_EQUAL(cluster_nmi(b, 3, c, 3, 6), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(cluster_purity(b, 3, c, 3, 6), 1.0, 1e-15);
    /* independent partitions: 0 */
    int32_t u[4] = {0, 0, 1, 1}, v[4] = {0, 1, 0, 1};
    CU_ASSERT_DOUBLE_EQUAL(cluster_nmi(u, 2, v, 2, 4), 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(cluster_purity(u, 2, v, 2, 4), 0.5, 1e-15);
    /* one cluster for all: purity is the majority share, NMI 0 */
    int32_t one[6] = {0, 0, 0, 0, 0, 0};
    CU_ASSERT_DOUBLE_EQUAL(cluster_purity(one, 1, y, 2, 6), 0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(cluster_nmi(one, 1, y, 2, 6), 0.0, 1e-12);
    /* labels outside [0, n_classes) are left out of the table */
    int32_t yy[6] = {0, 0, 0, 1, 1, -1};
    int64_t table[3 * 2];
    CU_ASSERT_EQUAL(cluster_contingency(table, a, 3, yy, 2, 6), 5);
    CU_ASSERT_EQUAL(table[2 * 2 + 1], 1);
}

/* Three well separated blobs in R^5, rows interleaved: k-means finds them exactly. */
static void test_blobs(void) {
    enum { N = 300, D = 5, K = 3 };
    float x[N * D];
    int32_t y[N], a[N], a2[N];
    float cent[K * D];
    Rng r;
    rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        y[i] = i % K;
        for (int j = 0; j < D; j++) x[i * D + j] = (float)(0.5 * rng_normal(&r) + (j == y[i] ? 10.0 : 0.0));
    }
    ExError err;
    KmeansResult res;
    Rng km;
    rng_seed(&km, 1);
    CU_ASSERT_FATAL(kmeans_fit(a, cent, &res, x, N, D, K, 100, 3, &km, &err) == 0);
    CU_ASSERT_DOUBLE_EQUAL(cluster_purity(a, K, y, K, N), 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(cluster_nmi(a, K, y, K, N), 1.0, 1e-12);
    CU_ASSERT(res.converged);
    /* inertia ≈ N·D·σ² = 300·5·0.25 */
    CU_ASSERT(res.inertia > 0.8 * 375 && res.inertia < 1.2 * 375);
    /* every centre sits on a blob centre */
    for (int c = 0; c < K; c++) {
        int cls = y[0];
        for (int i = 0; i < N; i++)
            if (a[i] == c) { cls = y[i]; break; }
        CU_ASSERT(fabs(cent[c * D + cls] - 10.0f) < 0.2f);
    }
    /* the same seed gives the same clustering; the run's stream decides everything */
    rng_seed(&km, 1);
    KmeansResult res2;
    CU_ASSERT_FATAL(kmeans_fit(a2, cent, &res2, x, N, D, K, 100, 3, &km, &err) == 0);
    CU_ASSERT(memcmp(a, a2, sizeof a) == 0);
    CU_ASSERT_EQUAL(res.inertia, res2.inertia);
}

static void test_edges(void) {
    float x[6] = {0, 0, 1, 1, 1, 1};   /* 3 rows of 2 values; two identical */
    int32_t a[3];
    float c[3 * 2];
    KmeansResult res;
    ExError err;
    Rng r;
    rng_seed(&r, 3);
    /* k = n with duplicate rows: no crash, inertia 0 */
    CU_ASSERT(kmeans_fit(a, c, &res, x, 3, 2, 3, 50, 2, &r, &err) == 0);
    CU_ASSERT_DOUBLE_EQUAL(res.inertia, 0.0, 1e-12);
    CU_ASSERT(a[1] == a[2] || res.inertia == 0.0);
    CU_ASSERT(kmeans_fit(a, c, &res, x, 3, 2, 4, 50, 1, &r, &err) == -1);
    CU_ASSERT(strstr(err.msg, "4 clusters") != NULL);
    CU_ASSERT(kmeans_fit(a, c, &res, x, 3, 2, 0, 50, 1, &r, &err) == -1);
    /* k = 1: the centre is the mean */
    CU_ASSERT(kmeans_fit(a, c, &res, x, 3, 2, 1, 50, 1, &r, &err) == 0);
    CU_ASSERT(fabs(c[0] - 2.0f / 3.0f) < 1e-6f && fabs(c[1] - 2.0f / 3.0f) < 1e-6f);
}

int main(void) {
    const TestCase cases[] = {
        {"purity and NMI by hand", test_scores_by_hand},
        {"separable blobs", test_blobs},
        {"edge cases", test_edges},
        {NULL, NULL},
    };
    return run_tests("kmeans", cases);
}
