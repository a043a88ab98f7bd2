#include "init.h"

#include <lapacke.h>
#include <stdlib.h>

#include "blasserial.h"
#include "error.h"

void init_uniform(float *x, size_t n, float k, Rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = (2.0f * rng_uniform(rng) - 1.0f) * k;
}

int init_orthogonal(float *W, int n, int ld, double gain, Rng *rng, ExError *err) {
    float *A = ex_malloc((size_t)n * n * sizeof *A);
    float *tau = ex_malloc((size_t)n * sizeof *tau);
    float *diag = ex_malloc((size_t)n * sizeof *diag);
    for (size_t i = 0; i < (size_t)n * n; i++) A[i] = (float)rng_normal(rng);
    /* On one OpenBLAS thread (blasserial.h): with 2 a 128 × 128 Q differed from 1 thread's in
     * the last bits, and configs/exploding_rnn.yaml diverged a step later. */
    int blas_threads = blas_serial_begin();
    int rc = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, n, n, A, n, tau);
    for (int j = 0; j < n && rc == 0; j++) diag[j] = A[(size_t)j * n + j];
    if (rc == 0) rc = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, n, n, n, A, n, tau);
    blas_serial_end(blas_threads);
    if (rc == 0)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                /* Q · diag(sign(R_jj)): column j flips with R's diagonal */
                float sign = diag[j] < 0.0f ? -1.0f : 1.0f;
                W[(size_t)i * ld + j] = (float)gain * sign * A[(size_t)i * n + j];
            }
    free(A);
    free(tau);
    free(diag);
    return rc == 0 ? 0 : ex_fail(err, "orthogonal initialisation: LAPACK QR failed (info %d)", rc);
}
