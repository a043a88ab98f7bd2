#include "kmeans.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KM_CHUNK = 2048 }; /* rows per sgemm in the assignment step */

static double sq_dist(const float *a, const float *b, int d) {
    double s = 0.0;
    for (int j = 0; j < d; j++) {
        double t = (double)a[j] - (double)b[j];
        s += t * t;
    }
    return s;
}

/* k-means++ seeding into centroids (k, d); d2 (n) is a workspace. */
static void seed_plus_plus(float *centroids, const float *x, int64_t n, int d, int k, Rng *rng, double *d2) {
    int64_t first = (int64_t)rng_below(rng, (uint64_t)n);
    memcpy(centroids, x + (size_t)first * (size_t)d, (size_t)d * sizeof(float));
    for (int64_t i = 0; i < n; i++) d2[i] = sq_dist(x + (size_t)i * (size_t)d, centroids, d);
    for (int c = 1; c < k; c++) {
        double total = 0.0;
        for (int64_t i = 0; i < n; i++) total += d2[i];
        int64_t pick;
        if (!(total > 0.0)) {
            pick = (int64_t)rng_below(rng, (uint64_t)n); /* every row is already a centre */
        } else {
            double r = rng_uniform_double(rng) * total, acc = 0.0;
            pick = n - 1;
            for (int64_t i = 0; i < n; i++) {
                acc += d2[i];
                if (acc > r && d2[i] > 0.0) {
                    pick = i;
                    break;
                }
            }
        }
        float *cc = centroids + (size_t)c * (size_t)d;
        memcpy(cc, x + (size_t)pick * (size_t)d, (size_t)d * sizeof(float));
        for (int64_t i = 0; i < n; i++) {
            double t = sq_dist(x + (size_t)i * (size_t)d, cc, d);
            if (t < d2[i]) d2[i] = t;
        }
    }
}

/* Assign every row to its nearest centre; dist (n) gets ‖x_i − c_{a(i)}‖² (from the expansion,
 * so approximate). Returns how many assignments changed. */
static int64_t assign_rows(int32_t *assign, double *dist, const float *x, const float *xnorm, int64_t n, int d,
                           const float *centroids, int k, float *dots, float *cnorm) {
    for (int c = 0; c < k; c++) {
        const float *cc = centroids + (size_t)c * (size_t)d;
        double s = 0.0;
        for (int j = 0; j < d; j++) s += (double)cc[j] * cc[j];
        cnorm[c] = (float)s;
    }
    int64_t changed = 0;
    for (int64_t start = 0; start < n; start += KM_CHUNK) {
        int count = (int)(n - start < KM_CHUNK ? n - start : KM_CHUNK);
        /* dots (count, k) = X_chunk Cᵀ */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, count, k, d, 1.0f, x + (size_t)start * (size_t)d, d,
                    centroids, d, 0.0f, dots, k);
        for (int i = 0; i < count; i++) {
            const float *di = dots + (size_t)i * (size_t)k;
            int best = 0;
            float best_v = cnorm[0] - 2.0f * di[0];
            for (int c = 1; c < k; c++) {
                float v = cnorm[c] - 2.0f * di[c];
                if (v < best_v) {
                    best_v = v;
                    best = c;
                }
            }
            int64_t row = start + i;
            if (assign[row] != best) changed++;
            assign[row] = best;
            double dv = (double)xnorm[row] + (double)best_v;
            dist[row] = dv > 0.0 ? dv : 0.0;
        }
    }
    return changed;
}

/* One seeded Lloyd run. */
static KmeansResult lloyd(int32_t *assign, float *centroids, const float *x, const float *xnorm, int64_t n, int d,
                          int k, int max_iter, Rng *rng, double *dist, float *dots, float *cnorm, double *sums,
                          int64_t *counts) {
    KmeansResult res = {0};
    seed_plus_plus(centroids, x, n, d, k, rng, dist);
    for (int64_t i = 0; i < n; i++) assign[i] = -1;
    for (int it = 0; it < max_iter; it++) {
        int64_t changed = assign_rows(assign, dist, x, xnorm, n, d, centroids, k, dots, cnorm);
        res.iterations = it + 1;
        if (changed == 0) {
            res.converged = 1;
            break;
        }
        memset(sums, 0, (size_t)k * (size_t)d * sizeof *sums);
        memset(counts, 0, (size_t)k * sizeof *counts);
        for (int64_t i = 0; i < n; i++) {
            double *s = sums + (size_t)assign[i] * (size_t)d;
            const float *xi = x + (size_t)i * (size_t)d;
            for (int j = 0; j < d; j++) s[j] += xi[j];
            counts[assign[i]]++;
        }
        for (int c = 0; c < k; c++) {
            float *cc = centroids + (size_t)c * (size_t)d;
            if (counts[c] > 0) {
                for (int j = 0; j < d; j++) cc[j] = (float)(sums[(size_t)c * (size_t)d + (size_t)j] / (double)counts[c]);
                continue;
            }
            /* An empty cluster takes the row that is worst served by its current centre. */
            int64_t far = 0;
            for (int64_t i = 1; i < n; i++)
                if (dist[i] > dist[far]) far = i;
            memcpy(cc, x + (size_t)far * (size_t)d, (size_t)d * sizeof(float));
            dist[far] = 0.0;
        }
    }
    if (!res.converged) assign_rows(assign, dist, x, xnorm, n, d, centroids, k, dots, cnorm);
    double inertia = 0.0;
    for (int64_t i = 0; i < n; i++)
        inertia += sq_dist(x + (size_t)i * (size_t)d, centroids + (size_t)assign[i] * (size_t)d, d);
    res.inertia = inertia;
    return res;
}

int kmeans_fit(int32_t *assign, float *centroids, KmeansResult *res, const float *x, int64_t n, int d,
               int k, int max_iter, int restarts, Rng *rng, ExError *err) {
    if (n < 1 || d < 1) return ex_fail(err, "kmeans: no data (%lld rows of %d values)", (long long)n, d);
    if (k < 1 || k > n) return ex_fail(err, "kmeans: %d clusters for %lld rows (need 1 <= k <= rows)", k, (long long)n);
    if (max_iter < 1) max_iter = 1;
    if (restarts < 1) restarts = 1;
    float *xnorm = ex_malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * (size_t)d;
        double s = 0.0;
        for (int j = 0; j < d; j++) s += (double)xi[j] * xi[j];
        xnorm[i] = (float)s;
    }
    double *dist = ex_malloc((size_t)n * sizeof(double));
    float *dots = ex_malloc((size_t)KM_CHUNK * (size_t)k * sizeof(float));
    float *cnorm = ex_malloc((size_t)k * sizeof(float));
    double *sums = ex_malloc((size_t)k * (size_t)d * sizeof(double));
    int64_t *counts = ex_malloc((size_t)k * sizeof(int64_t));
    int32_t *try_assign = ex_malloc((size_t)n * sizeof(int32_t));
    float *try_centroids = ex_malloc((size_t)k * (size_t)d * sizeof(float));
    KmeansResult best = {.inertia = INFINITY};
    for (int r = 0; r < restarts; r++) {
        KmeansResult t = lloyd(try_assign, try_centroids, x, xnorm, n, d, k, max_iter, rng, dist, dots, cnorm,
                               sums, counts);
        if (r == 0 || t.inertia < best.inertia) {
            best = t;
            memcpy(assign, try_assign, (size_t)n * sizeof(int32_t));
            memcpy(centroids, try_centroids, (size_t)k * (size_t)d * sizeof(float));
        }
    }
    free(xnorm);
    free(dist);
    free(dots);
    free(cnorm);
    free(sums);
    free(counts);
    free(try_assign);
    free(try_centroids);
    if (res) *res = best;
    return 0;
}

int64_t cluster_contingency(int64_t *table, const int32_t *assign, int k, const int32_t *labels,
                            int n_classes, int64_t n) {
    memset(table, 0, (size_t)k * (size_t)n_classes * sizeof *table);
    int64_t counted = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= n_classes || assign[i] < 0 || assign[i] >= k) continue;
        table[(size_t)assign[i] * (size_t)n_classes + (size_t)labels[i]]++;
        counted++;
    }
    return counted;
}

double cluster_purity(const int32_t *assign, int k, const int32_t *labels, int n_classes, int64_t n) {
    int64_t *t = ex_malloc((size_t)k * (size_t)n_classes * sizeof *t);
    int64_t total = cluster_contingency(t, assign, k, labels, n_classes, n);
    int64_t hits = 0;
    for (int u = 0; u < k; u++) {
        int64_t best = 0;
        for (int v = 0; v < n_classes; v++)
            if (t[(size_t)u * (size_t)n_classes + (size_t)v] > best) best = t[(size_t)u * (size_t)n_classes + (size_t)v];
        hits += best;
    }
    free(t);
    return total > 0 ? (double)hits / (double)total : NAN;
}

double cluster_nmi(const int32_t *assign, int k, const int32_t *labels, int n_classes, int64_t n) {
    int64_t *t = ex_malloc((size_t)k * (size_t)n_classes * sizeof *t);
    int64_t total = cluster_contingency(t, assign, k, labels, n_classes, n);
    if (total == 0) {
        free(t);
        return NAN;
    }
    double *a = ex_calloc((size_t)k, sizeof(double)), *b = ex_calloc((size_t)n_classes, sizeof(double));
    for (int u = 0; u < k; u++)
        for (int v = 0; v < n_classes; v++) {
            double c = (double)t[(size_t)u * (size_t)n_classes + (size_t)v];
            a[u] += c;
            b[v] += c;
        }
    double N = (double)total, hu = 0.0, hv = 0.0, mi = 0.0;
    for (int u = 0; u < k; u++)
        if (a[u] > 0) hu -= a[u] / N * log(a[u] / N);
    for (int v = 0; v < n_classes; v++)
        if (b[v] > 0) hv -= b[v] / N * log(b[v] / N);
    for (int u = 0; u < k; u++)
        for (int v = 0; v < n_classes; v++) {
            double c = (double)t[(size_t)u * (size_t)n_classes + (size_t)v];
            if (c > 0) mi += c / N * log(N * c / (a[u] * b[v]));
        }
    free(a);
    free(b);
    free(t);
    if (hu + hv <= 0.0) return 1.0; /* both partitions are one block: identical */
    double nmi = mi / (0.5 * (hu + hv));
    return nmi < 0.0 ? 0.0 : (nmi > 1.0 ? 1.0 : nmi);
}
