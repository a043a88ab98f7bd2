/* test_pca.c — PCA against its definition, the angle helpers on hand-made subspaces, and the
 * lecture's claim itself on a small generated dataset with a clear eigen-gap: a linear
 * autoencoder (g = f = identity, squared error, centered input) trained with Adam reaches the
 * PCA optimum Σ_{j>k} λ_j within 1%, and its decoder's columns span the top-k components. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder.h"
#include "optim.h"
#include "pca.h"
#include "testutil.h"

/* x_i = μ + Σ_j s_j z_ij q_j with orthonormal q_j (Gram–Schmidt of random vectors) and
 * z ~ N(0, 1): the population eigenvalues are s_j², the components q_j. */
static float *make_data(int m, int d, const double *s, int n_s, double offset, uint64_t seed, double *Q) {
    Rng r;
    rng_seed(&r, seed);
    for (int a = 0; a < d; a++) {
        double *qa = Q + (size_t)a * d;
        for (int j = 0; j < d; j++) qa[j] = rng_normal(&r);
        for (int b = 0; b < a; b++) {
            const double *qb = Q + (size_t)b * d;
            double dot = 0;
            for (int j = 0; j < d; j++) dot += qa[j] * qb[j];
            for (int j = 0; j < d; j++) qa[j] -= dot * qb[j];
        }
        double nrm = 0;
        for (int j = 0; j < d; j++) nrm += qa[j] * qa[j];
        for (int j = 0; j < d; j++) qa[j] /= sqrt(nrm);
    }
    float *x = malloc((size_t)m * d * sizeof *x);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++) x[(size_t)i * d + j] = (float)(offset * (j + 1));
    for (int i = 0; i < m; i++)
        for (int a = 0; a < n_s && a < d; a++) {
            double z = s[a] * rng_normal(&r);
            for (int j = 0; j < d; j++) x[(size_t)i * d + j] += (float)(z * Q[(size_t)a * d + j]);
        }
    return x;
}

/* The covariance by its definition, in plain loops. */
static void naive_cov(double *C, const float *x, int m, int d) {
    double *mu = calloc((size_t)d, sizeof *mu);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++) mu[j] += x[(size_t)i * d + j] / (double)m;
    memset(C, 0, (size_t)d * d * sizeof *C);
    for (int i = 0; i < m; i++)
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                C[a * d + b] += (x[(size_t)i * d + a] - mu[a]) * (x[(size_t)i * d + b] - mu[b]) / m;
    free(mu);
}

static void test_eigenpairs(void) {
    enum { M = 1500, D = 7 };
    double s[D] = {4, 3, 2, 1, 0.5, 0.25, 0.1}, Q[D * D], C[D * D];
    float *x = make_data(M, D, s, D, 10.0, 1, Q);  /* a large mean: centering must be exact */
    Pca p;
    ExError err;
    CU_ASSERT_FATAL(pca_fit(&p, x, M, D, &err) == 0);
    naive_cov(C, x, M, D);
    double trace = 0, sum = 0;
    for (int j = 0; j < D; j++) {
        trace += C[j * D + j];
        sum += p.eigenvalues[j];
        if (j) CU_ASSERT(p.eigenvalues[j] <= p.eigenvalues[j - 1]);
        /* C u = λ u and ‖u‖ = 1, and components are orthogonal */
        const double *u = p.components + (size_t)j * D;
        double res = 0, nrm = 0;
        for (int a = 0; a < D; a++) {
            double cu = 0;
            for (int b = 0; b < D; b++) cu += C[a * D + b] * u[b];
            res += (cu - p.eigenvalues[j] * u[a]) * (cu - p.eigenvalues[j] * u[a]);
            nrm += u[a] * u[a];
        }
        CU_ASSERT(sqrt(res) < 1e-8 * p.eigenvalues[0]);
        CU_ASSERT(fabs(nrm - 1) < 1e-12);
        for (int k = 0; k < j; k++) {
            double dot = 0;
            for (int a = 0; a < D; a++) dot += u[a] * p.components[(size_t)k * D + a];
            CU_ASSERT(fabs(dot) < 1e-10);
        }
    }
    CU_ASSERT(fabs(trace - sum) < 1e-9 * trace);
    /* the sample eigenvalues are near the population ones s_j² */
    CU_ASSERT(fabs(p.eigenvalues[0] - 16) < 0.1 * 16);
    CU_ASSERT(fabs(p.eigenvalues[1] - 9) < 0.1 * 9);
    pca_free(&p);
    free(x);
}

/* Σ_{j>k} λ_j, from the eigenvalues, equals the error of actually projecting the training rows. */
static void test_optimal_error_is_projection_error(void) {
    enum { M = 800, D = 9 };
    double s[D] = {5, 4, 3, 2, 1, 0.7, 0.5, 0.3, 0.2}, Q[D * D];
    float *x = make_data(M, D, s, D, 3.0, 2, Q);
    Pca p;
    ExError err;
    CU_ASSERT_FATAL(pca_fit(&p, x, M, D, &err) == 0);
    double rows[M];
    for (int k = 0; k <= D; k++) {
        double tail = pca_optimal_error(&p, k);
        double proj = pca_reconstruction_error(&p, k, x, M, rows);
        double sum = 0;
        for (int i = 0; i < M; i++) sum += rows[i];
        CU_ASSERT(fabs(tail - proj) <= 1e-9 * pca_optimal_error(&p, 0) + 1e-12);
        CU_ASSERT(fabs(sum / M - proj) <= 1e-12 * (proj + 1));
        CU_ASSERT(fabs(pca_explained_variance(&p, k) - (1 - tail / pca_optimal_error(&p, 0))) < 1e-12);
    }
    CU_ASSERT(pca_optimal_error(&p, D) == 0.0);
    pca_free(&p);
    free(x);
}

/* Data of exact rank 2 in R^6: two components reconstruct it (up to float rounding). */
static void test_low_rank(void) {
    enum { M = 300, D = 6 };
    double s[2] = {2, 1}, Q[D * D];
    float *x = make_data(M, D, s, 2, 0.5, 3, Q);
    Pca p;
    ExError err;
    CU_ASSERT_FATAL(pca_fit(&p, x, M, D, &err) == 0);
    CU_ASSERT(pca_optimal_error(&p, 2) < 1e-9 * pca_optimal_error(&p, 0));
    CU_ASSERT(pca_optimal_error(&p, 1) > 0.1 * pca_optimal_error(&p, 0));
    /* the top two components span the generating plane */
    double ang[2];
    CU_ASSERT_EQUAL(principal_angles(ang, p.components, 2, Q, 2, D, &err), 2);
    CU_ASSERT(ang[1] < 1e-3);
    pca_free(&p);
    CU_ASSERT(pca_fit(&p, x, 0, D, &err) == -1);
    CU_ASSERT(strstr(err.msg, "pca") != NULL);
    free(x);
}

static void test_angles(void) {
    const double deg = M_PI / 180;
    ExError err;
    /* span{e1, e2} in R^3; u at 30° out of the plane; e3 at 90°; a vector inside at 0° */
    double plane[6] = {1, 0, 0, 0, 1, 0};
    double U[9] = {cos(30 * deg), 0, sin(30 * deg), 0, 0, 2, 3, -4, 0};
    double a[3];
    CU_ASSERT_FATAL(vector_subspace_angles(a, U, 3, plane, 2, 3, &err) == 0);
    CU_ASSERT(fabs(a[0] - 30) < 1e-10);
    CU_ASSERT(fabs(a[1] - 90) < 1e-10);
    CU_ASSERT(fabs(a[2]) < 1e-10);
    /* the same plane given by a mixed, rank-deficient spanning set (3 rows, rank 2) */
    double mixed[9] = {2, 3, 0, -1, 1, 0, 1, 4, 0};
    CU_ASSERT_FATAL(vector_subspace_angles(a, U, 3, mixed, 3, 3, &err) == 0);
    CU_ASSERT(fabs(a[0] - 30) < 1e-10);
    /* principal angles between span{e1, e2} and span{e1, cos θ e2 + sin θ e3} are {0, θ} */
    double tilted[6] = {1, 0, 0, 0, cos(17 * deg), sin(17 * deg)};
    double pa[2];
    CU_ASSERT_EQUAL(principal_angles(pa, plane, 2, tilted, 2, 3, &err), 2);
    CU_ASSERT(fabs(pa[0]) < 1e-6);
    CU_ASSERT(fabs(pa[1] - 17) < 1e-8);
    /* a line against a plane: one angle */
    double line[3] = {0, 1, 1};
    CU_ASSERT_EQUAL(principal_angles(pa, line, 1, plane, 2, 3, &err), 1);
    CU_ASSERT(fabs(pa[0] - 45) < 1e-8);
}

/* The lecture's claim, small: d = 10 → k = 3, eigenvalues 9, 6.25, 4 against ≤ 0.09 below. */
static void test_linear_autoencoder_is_pca(void) {
    enum { M = 1000, D = 10, K = 3, B = 50, EPOCHS = 200 };
    double s[D] = {3, 2.5, 2, 0.3, 0.25, 0.2, 0.15, 0.12, 0.1, 0.08}, Q[D * D];
    float *x = make_data(M, D, s, D, 0.0, 4, Q);
    /* centre the input by its column means (the lecture's fourth condition) */
    for (int j = 0; j < D; j++) {
        double mu = 0;
        for (int i = 0; i < M; i++) mu += x[(size_t)i * D + j] / M;
        for (int i = 0; i < M; i++) x[(size_t)i * D + j] -= (float)mu;
    }
    Pca p;
    ExError err;
    CU_ASSERT_FATAL(pca_fit(&p, x, M, D, &err) == 0);
    double optimum = pca_optimal_error(&p, K);

    AutoencoderConfig cfg = {0};
    cfg.n_input = D;
    cfg.n_code = K;
    cfg.g = ACT_IDENTITY;
    cfg.f = ACT_IDENTITY;
    cfg.loss = LOSS_SQUARED_ERROR;
    cfg.max_batch = B;
    Model *m = NULL;
    Rng init;
    rng_seed(&init, 5);
    CU_ASSERT_FATAL(autoencoder_create(&m, &cfg, &init, &err) == 0);
    OptimConfig oc = optim_defaults(OPT_ADAM);
    Optimizer opt;
    optim_init(&opt, &oc, m->params.total);
    Rng noise;
    rng_seed(&noise, 6);
    for (int e = 0; e < EPOCHS; e++) {
        double lr = e < 150 ? 1e-2 : 1e-3;
        for (int start = 0; start < M; start += B) {
            Batch b = {.B = B, .T = 1, .d = D, .x = x + (size_t)start * D};
            params_zero_grad(&m->params);
            StepStats st = {0};
            m->ops->train_batch(m, &b, &noise, &st);
            optim_step(&opt, m->params.value, m->params.grad, lr);
        }
    }
    /* the final training error in the lecture's units, (1/m) Σ_i Σ_j (x̂_ij − x_ij)² */
    double err_sum = 0, rows[B];
    for (int start = 0; start < M; start += B) {
        autoencoder_encode(m, x + (size_t)start * D, B, NULL, NULL, rows);
        for (int i = 0; i < B; i++) err_sum += rows[i];
    }
    double ae = err_sum / M;
    if (getenv("PCA_DEBUG")) printf("\n  ae %.6f pca %.6f ratio %.5f\n", ae, optimum, ae / optimum);
    CU_ASSERT(ae >= optimum * (1 - 1e-4)); /* PCA is the optimum: a linear model cannot beat it */
    CU_ASSERT(ae <= optimum * 1.01);
    /* the decoder W* (D, K): its columns, as rows of a (K, D) matrix, span the top-K components */
    int w = params_find(&m->params, "dec0/W");
    CU_ASSERT_FATAL(w >= 0);
    const float *W = params_value(&m->params, w);
    double cols[K * D], ang[K], pa[K];
    for (int c = 0; c < K; c++)
        for (int j = 0; j < D; j++) cols[c * D + j] = W[j * K + c];
    CU_ASSERT_FATAL(vector_subspace_angles(ang, p.components, K, cols, K, D, &err) == 0);
    CU_ASSERT_EQUAL(principal_angles(pa, p.components, K, cols, K, D, &err), K);
    if (getenv("PCA_DEBUG")) printf("  angles %.3f %.3f %.3f  principal max %.3f\n", ang[0], ang[1], ang[2], pa[K - 1]);
    for (int c = 0; c < K; c++) CU_ASSERT(ang[c] < 5.0);
    CU_ASSERT(pa[K - 1] < 5.0);
    /* and not the components below the gap */
    double below[1];
    vector_subspace_angles(below, p.components + (size_t)K * D, 1, cols, K, D, &err);
    CU_ASSERT(below[0] > 45.0);
    optim_free(&opt);
    model_free(m);
    pca_free(&p);
    free(x);
}

/* The fit, the reconstruction errors and the angles bit for bit the same on 1 and 2 OpenBLAS
 * threads: exprun's results must not depend on the machine's cores (blasserial.h). d = 300 is
 * large enough for the eigensolver's blocked reduction to go through multithreaded updates. */
static void test_same_bits_on_any_blas_threads(void) {
    enum { M = 3000, D = 300, K = 20 };
    double s[D], *Q = malloc((size_t)D * D * sizeof *Q);
    for (int j = 0; j < D; j++) s[j] = 10.0 / (1.0 + j);
    float *x = make_data(M, D, s, D, 0.1, 11, Q);
    int before = openblas_get_num_threads();
    double err_of[2], angles[2][K];
    Pca fit[2];
    for (int k = 0; k < 2; k++) {
        openblas_set_num_threads(k + 1);
        ExError err = {0};
        CU_ASSERT_FATAL(pca_fit(&fit[k], x, M, D, &err) == 0);
        err_of[k] = pca_reconstruction_error(&fit[k], K, x, M, NULL);
        CU_ASSERT_FATAL(principal_angles(angles[k], fit[k].components, K, Q, K, D, &err) == K);
    }
    CU_ASSERT_EQUAL(openblas_get_num_threads(), 2);
    CU_ASSERT(memcmp(fit[0].eigenvalues, fit[1].eigenvalues, D * sizeof(double)) == 0);
    CU_ASSERT(memcmp(fit[0].components, fit[1].components, (size_t)D * D * sizeof(double)) == 0);
    CU_ASSERT(memcmp(&err_of[0], &err_of[1], sizeof(double)) == 0);
    CU_ASSERT(memcmp(angles[0], angles[1], sizeof angles[0]) == 0);
    openblas_set_num_threads(before);
    for (int k = 0; k < 2; k++) pca_free(&fit[k]);
    free(x);
    free(Q);
}

int main(void) {
    const TestCase cases[] = {
        {"eigenpairs of the covariance", test_eigenpairs},
        {"optimal error = projection error", test_optimal_error_is_projection_error},
        {"low-rank data", test_low_rank},
        {"vector and principal angles", test_angles},
        {"linear autoencoder reaches PCA", test_linear_autoencoder_is_pca},
        {"the same bits on 1 or 2 BLAS threads", test_same_bits_on_any_blas_threads},
        {NULL, NULL},
    };
    return run_tests("pca", cases);
}
