/* test_packgemm.c — the packed-operand products against OpenBLAS, for every kernel this CPU
 * can run (AVX-512, AVX2, and the BLAS pass-through), every operand form (A·Bᵀ, A·B, Aᵀ·B),
 * beta 0 and 1, strided operands, and sizes that cross every blocking edge (MR, NR, KC = 256,
 * MC = 128): results within float rounding of cblas_sgemm, and nothing written outside C. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packgemm.h"
#include "testutil.h"

typedef enum { FORM_NT, FORM_NN, FORM_TN } Form;

/* One product of each form with padded strides; returns the worst error relative to √K. */
static double check_product(Form form, int M, int N, int K, float beta, unsigned long long seed) {
    /* stored shapes: A (M, K) or (K, M) for TN; B (N, K) for NT else (K, N); padding +3 columns */
    int a_rows = form == FORM_TN ? K : M, a_cols = form == FORM_TN ? M : K;
    int b_rows = form == FORM_NT ? N : K, b_cols = form == FORM_NT ? K : N;
    int lda = a_cols + 3, ldb = b_cols + 3, ldc = N + 3;
    size_t na = (size_t)(a_rows ? a_rows : 1) * lda, nb = (size_t)(b_rows ? b_rows : 1) * ldb, nc = (size_t)(M + 2) * ldc;
    float *A = malloc(na * sizeof(float)), *Bm = malloc(nb * sizeof(float));
    float *C = malloc(nc * sizeof(float)), *want = malloc(nc * sizeof(float));
    fill_uniform(A, na, -1.0f, 1.0f, seed);
    fill_uniform(Bm, nb, -1.0f, 1.0f, seed + 1);
    fill_uniform(C, nc, -1.0f, 1.0f, seed + 2);   /* also the canary outside M × N */
    memcpy(want, C, nc * sizeof(float));

    PackedMat ws;
    packed_alloc(&ws, K, N);
    switch (form) {
    case FORM_NT:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, lda, Bm, ldb, beta, want, ldc);
        pk_gemm_nt(C, ldc, A, lda, Bm, ldb, M, N, K, beta, &ws);
        break;
    case FORM_NN:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, lda, Bm, ldb, beta, want, ldc);
        pk_gemm_nn(C, ldc, A, lda, Bm, ldb, M, N, K, beta, &ws);
        break;
    case FORM_TN:
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, A, lda, Bm, ldb, beta, want, ldc);
        pk_gemm_tn(C, ldc, A, lda, Bm, ldb, M, N, K, beta, &ws);
        break;
    }
    double worst = 0.0;
    for (size_t k = 0; k < nc; k++) {
        int r = (int)(k / ldc), col = (int)(k % ldc);
        if (r >= M || col >= N) {
            if (C[k] != want[k]) worst = INFINITY;   /* wrote outside C */
        } else {
            worst = fmax(worst, fabs((double)C[k] - want[k]) / sqrt((double)K + 1.0));
        }
    }
    packed_free(&ws);
    free(A), free(Bm), free(C), free(want);
    return worst;
}

static const int SHAPES[][3] = {
    {1, 1, 1},     {5, 7, 3},     {8, 32, 16},   {6, 16, 17},   {32, 1024, 256}, {32, 256, 1024},
    {33, 47, 300}, {130, 70, 513}, {257, 33, 40}, {9, 31, 255},  {3, 65, 2},
};

static void restore_best_kernel(void) {
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) return;
}

static void check_kernel(PackKernel k) {
    if (packed_force_kernel(k) != 0) return;   /* this CPU lacks it: nothing to test */
    double worst = 0.0;
    unsigned long long seed = 1;
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
        for (int form = 0; form < 3; form++)
            for (int b = 0; b < 2; b++) {
                double e = check_product((Form)form, SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], (float)b, seed++);
                if (e > 1e-6)
                    fprintf(stderr, "\n    %s form %d M %d N %d K %d beta %d: error %g\n", packed_kernel_name(k), form,
                            SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], b, e);
                worst = fmax(worst, e);
            }
    CU_ASSERT(worst < 1e-6);
    restore_best_kernel();
}

static void test_avx512(void) { check_kernel(PACK_KERNEL_AVX512); }
static void test_avx2(void) { check_kernel(PACK_KERNEL_AVX2); }
static void test_blas(void) { check_kernel(PACK_KERNEL_BLAS); }

/* The pre-packed path as the cells use it: pack once, many products, same answer each time;
 * K = 0 with beta 0 gives zeros; a workspace too small for the operand falls back to BLAS. */
static void test_packed_reuse_and_edges(void) {
    const int M = 11, N = 40, K = 19;
    float W[40 * 19], A[11 * 19], C1[11 * 40], C2[11 * 40], want[11 * 40];
    fill_uniform(W, sizeof W / sizeof *W, -1.0f, 1.0f, 5);
    fill_uniform(A, sizeof A / sizeof *A, -1.0f, 1.0f, 6);
    PackedMat p;
    packed_alloc(&p, K, N);
    packed_set_transposed(&p, W, K, N, K);
    packed_gemm(C1, N, A, K, &p, M, 0.0f);
    packed_gemm(C2, N, A, K, &p, M, 0.0f);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, W, K, 0.0f, want, N);
    CU_ASSERT(memcmp(C1, C2, sizeof C1) == 0);
    double worst = 0.0;
    for (int k = 0; k < M * N; k++) worst = fmax(worst, fabs(C1[k] - want[k]));
    CU_ASSERT(worst < 1e-5);

    for (int k = 0; k < M * N; k++) C1[k] = 7.0f;
    packed_set_transposed(&p, W, K, N, 0);
    packed_gemm(C1, N, A, K, &p, M, 0.0f);
    for (int k = 0; k < M * N; k++) CU_ASSERT(C1[k] == 0.0f);

    PackedMat small;
    packed_alloc(&small, 2, 2);
    pk_gemm_nt(C2, N, A, K, W, K, M, N, K, 0.0f, &small);
    CU_ASSERT(small.NR == 0);   /* did not fit: BLAS read W directly */
    worst = 0.0;
    for (int k = 0; k < M * N; k++) worst = fmax(worst, fabs(C2[k] - want[k]));
    CU_ASSERT(worst < 1e-5);
    packed_free(&small);
    packed_free(&p);
    CU_ASSERT(strcmp(packed_kernel_name(packed_kernel()), "?") != 0);
}

int main(void) {
    const TestCase cases[] = {
        {"avx512 kernel equals cblas (if the CPU has it)", test_avx512},
        {"avx2 kernel equals cblas (if the CPU has it)", test_avx2},
        {"blas pass-through", test_blas},
        {"pack once, reuse; K = 0; workspace too small", test_packed_reuse_and_edges},
        {NULL, NULL},
    };
    return run_tests("packgemm", cases);
}
