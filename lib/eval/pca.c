#include "pca.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blasserial.h"

enum { PCA_CHUNK = 1024 }; /* rows converted to double at a time: (PCA_CHUNK, d) doubles */

static const double RAD_TO_DEG = 57.29577951308232;

/* rows [start, start + count) of x, centered, into out (count, d) doubles. */
static void centered_rows(double *out, const float *x, int64_t start, int count, int d, const double *mean) {
    for (int i = 0; i < count; i++) {
        const float *xi = x + (size_t)(start + i) * (size_t)d;
        double *oi = out + (size_t)i * (size_t)d;
        for (int j = 0; j < d; j++) oi[j] = (double)xi[j] - mean[j];
    }
}

int pca_fit(Pca *p, const float *x, int64_t m, int d, ExError *err) {
    memset(p, 0, sizeof *p);
    if (m < 1 || d < 1) return ex_fail(err, "pca: need at least one row and one column (got %lld x %d)", (long long)m, d);
    p->d = d;
    p->m = m;
    p->mean = ex_calloc((size_t)d, sizeof(double));
    p->eigenvalues = ex_calloc((size_t)d, sizeof(double));
    p->components = ex_calloc((size_t)d * (size_t)d, sizeof(double));

    /* μ = (1/m) Σ_i x_i */
    for (int64_t i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * (size_t)d;
        for (int j = 0; j < d; j++) p->mean[j] += xi[j];
    }
    for (int j = 0; j < d; j++) p->mean[j] /= (double)m;

    /* C = (1/m) Σ_i (x_i − μ)(x_i − μ)ᵀ, accumulated chunk by chunk in the upper triangle. */
    double *C = ex_calloc((size_t)d * (size_t)d, sizeof(double));           /* (d, d) */
    double *buf = ex_malloc((size_t)PCA_CHUNK * (size_t)d * sizeof(double)); /* (chunk, d) */
    /* C and its eigenvectors on one OpenBLAS thread: on two, dsyrk's sums and dsyevd's blocked
     * reduction came out different in the last bits (tests/test_pca.c) */
    int blas_threads = blas_serial_begin();
    for (int64_t start = 0; start < m; start += PCA_CHUNK) {
        int count = (int)(m - start < PCA_CHUNK ? m - start : PCA_CHUNK);
        centered_rows(buf, x, start, count, d, p->mean);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, count, 1.0 / (double)m, buf, d, 1.0, C, d);
    }
    free(buf);

    /* C = V diag(w) Vᵀ with w ascending; the columns of V are the eigenvectors. */
    double *w = ex_malloc((size_t)d * sizeof(double));
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', d, C, d, w);
    blas_serial_end(blas_threads);
    if (info != 0) {
        free(w);
        free(C);
        pca_free(p);
        return ex_fail(err, "pca: LAPACKE_dsyevd failed on the %d x %d covariance (info %d)", d, d, (int)info);
    }
    for (int j = 0; j < d; j++) {
        int src = d - 1 - j; /* descending order */
        p->eigenvalues[j] = w[src];
        double *u = p->components + (size_t)j * (size_t)d;
        for (int r = 0; r < d; r++) u[r] = C[(size_t)r * (size_t)d + (size_t)src];
    }
    free(w);
    free(C);
    return 0;
}

void pca_free(Pca *p) {
    free(p->mean);
    free(p->eigenvalues);
    free(p->components);
    memset(p, 0, sizeof *p);
}

double pca_optimal_error(const Pca *p, int k) {
    double tail = 0.0;
    for (int j = k < 0 ? 0 : k; j < p->d; j++) tail += p->eigenvalues[j] > 0.0 ? p->eigenvalues[j] : 0.0;
    return tail;
}

double pca_explained_variance(const Pca *p, int k) {
    double kept = 0.0, total = 0.0;
    for (int j = 0; j < p->d; j++) {
        double l = p->eigenvalues[j] > 0.0 ? p->eigenvalues[j] : 0.0;
        total += l;
        if (j < k) kept += l;
    }
    return total > 0.0 ? kept / total : 1.0;
}

double pca_reconstruction_error(const Pca *p, int k, const float *x, int64_t n, double *row_error) {
    int d = p->d;
    if (k > d) k = d;
    if (k < 0) k = 0;
    if (n <= 0) return NAN;
    double *R = ex_malloc((size_t)PCA_CHUNK * (size_t)d * sizeof(double));          /* (chunk, d) */
    double *Z = ex_malloc((size_t)PCA_CHUNK * (size_t)(k > 0 ? k : 1) * sizeof(double)); /* (chunk, k) */
    const double *Uk = p->components;                                                  /* (k, d) */
    double total = 0.0;
    int blas_threads = blas_serial_begin();   /* dgemm's sums too followed the thread count */
    for (int64_t start = 0; start < n; start += PCA_CHUNK) {
        int count = (int)(n - start < PCA_CHUNK ? n - start : PCA_CHUNK);
        centered_rows(R, x, start, count, d, p->mean);
        if (k > 0) {
            /* Z = R U_kᵀ (the codes), then R ← R − Z U_k: the residual x − x̂, row by row. */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, count, k, d, 1.0, R, d, Uk, d, 0.0, Z, k);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, count, d, k, -1.0, Z, k, Uk, d, 1.0, R, d);
        }
        for (int i = 0; i < count; i++) {
            double s = 0.0;
            const double *ri = R + (size_t)i * (size_t)d;
            for (int j = 0; j < d; j++) s += ri[j] * ri[j];
            if (row_error) row_error[start + i] = s;
            total += s;
        }
    }
    blas_serial_end(blas_threads);
    free(R);
    free(Z);
    return total / (double)n;
}

/* An orthonormal basis of the span of the rows of B (kb, d): the right singular vectors whose
 * singular values are above max(kb, d)·ε·σ_max. *Q is (rank, d), malloc'd. */
static int row_space_basis(double **Q, int *rank, const double *B, int kb, int d, ExError *err) {
    int r = kb < d ? kb : d;
    *Q = NULL;
    *rank = 0;
    if (kb < 1 || d < 1) return ex_fail(err, "subspace: empty matrix (%d x %d)", kb, d);
    double *A = ex_malloc((size_t)kb * (size_t)d * sizeof(double));
    memcpy(A, B, (size_t)kb * (size_t)d * sizeof(double));
    double *s = ex_malloc((size_t)r * sizeof(double));
    double *U = ex_malloc((size_t)kb * (size_t)r * sizeof(double));
    double *VT = ex_malloc((size_t)r * (size_t)d * sizeof(double));
    int blas_threads = blas_serial_begin();
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', kb, d, A, d, s, U, r, VT, d);
    blas_serial_end(blas_threads);
    free(A);
    free(U);
    if (info != 0) {
        free(s);
        free(VT);
        return ex_fail(err, "subspace: LAPACKE_dgesdd failed on a %d x %d matrix (info %d)", kb, d, (int)info);
    }
    double tol = (kb > d ? kb : d) * DBL_EPSILON * s[0];
    int keep = 0;
    while (keep < r && s[keep] > tol) keep++;
    free(s);
    *Q = VT; /* the first `keep` rows are the basis */
    *rank = keep;
    return 0;
}

int vector_subspace_angles(double *angles_deg, const double *U, int n_vec, const double *B, int kb,
                           int d, ExError *err) {
    double *Q = NULL;
    int r = 0;
    if (row_space_basis(&Q, &r, B, kb, d, err) != 0) return -1;
    double *proj = ex_malloc((size_t)(r > 0 ? r : 1) * sizeof(double));
    for (int v = 0; v < n_vec; v++) {
        const double *u = U + (size_t)v * (size_t)d;
        /* P_S u = Qᵀ (Q u); sin θ ∝ ‖u − P_S u‖, cos θ ∝ ‖P_S u‖ = ‖Q u‖. */
        double in2 = 0.0, out2 = 0.0;
        for (int i = 0; i < r; i++) {
            double c = 0.0;
            for (int j = 0; j < d; j++) c += Q[(size_t)i * (size_t)d + (size_t)j] * u[j];
            proj[i] = c;
            in2 += c * c;
        }
        for (int j = 0; j < d; j++) {
            double rj = u[j];
            for (int i = 0; i < r; i++) rj -= proj[i] * Q[(size_t)i * (size_t)d + (size_t)j];
            out2 += rj * rj;
        }
        angles_deg[v] = atan2(sqrt(out2), sqrt(in2)) * RAD_TO_DEG;
    }
    free(proj);
    free(Q);
    return 0;
}

static int compare_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

int principal_angles(double *angles_deg, const double *A, int ka, const double *B, int kb, int d,
                     ExError *err) {
    double *Qa = NULL, *Qb = NULL;
    int ra = 0, rb = 0;
    if (row_space_basis(&Qa, &ra, A, ka, d, err) != 0) return -1;
    if (row_space_basis(&Qb, &rb, B, kb, d, err) != 0) {
        free(Qa);
        return -1;
    }
    int n = ra < rb ? ra : rb;
    if (n == 0) {
        free(Qa);
        free(Qb);
        return 0;
    }
    /* M = Q_a Q_bᵀ (ra, rb); its singular values are the cosines of the principal angles. */
    double *M = ex_malloc((size_t)ra * (size_t)rb * sizeof(double));
    double *s = ex_malloc((size_t)n * sizeof(double));
    double *superb = ex_malloc((size_t)n * sizeof(double));
    int blas_threads = blas_serial_begin();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ra, rb, d, 1.0, Qa, d, Qb, d, 0.0, M, rb);
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', ra, rb, M, rb, s, NULL, ra, NULL, rb, superb);
    blas_serial_end(blas_threads);
    free(superb);
    free(M);
    free(Qa);
    free(Qb);
    if (info != 0) {
        free(s);
        return ex_fail(err, "principal angles: LAPACKE_dgesdd failed (info %d)", (int)info);
    }
    qsort(s, (size_t)n, sizeof *s, compare_desc);
    for (int i = 0; i < n; i++) angles_deg[i] = acos(s[i] > 1.0 ? 1.0 : s[i]) * RAD_TO_DEG;
    free(s);
    return n;
}
