/* test_packgemm.c — the packed-operand products against OpenBLAS, for every kernel this CPU
 * can run (AVX-512, AVX2, and the BLAS pass-through), every operand form (A·Bᵀ, A·B, Aᵀ·B),
 * beta 0 and 1, strided operands, and sizes that cross every blocking edge (MR, NR, KC = 256,
 * MC = 128): results within float rounding of cblas_sgemm, and nothing written outside C. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16gemm.h"
#include "packgemm.h"
#include "parallel.h"
#include "testutil.h"

typedef enum { FORM_NT, FORM_NN, FORM_TN } Form;

/* One product C = op(A) · op(B) + beta C of a form, with padded strides: A (M, K) or (K, M) for
 * TN; B (N, K) for NT else (K, N); every row 3 floats longer than its data, and C two rows longer —
 * all filled with values in [−1, 1], the padding being the canary for writes outside M × N.
 * `want` is C before the product, for the reference to run on. */
typedef struct Product {
    Form form;
    int M, N, K, lda, ldb, ldc;
    size_t nc;
    float *A, *B, *C, *want;
} Product;

static Product product_make(Form form, int M, int N, int K, unsigned long long seed) {
    Product p = {form, M, N, K, 0, 0, N + 3, (size_t)(M + 2) * (N + 3), NULL, NULL, NULL, NULL};
    int a_rows = form == FORM_TN ? K : M, a_cols = form == FORM_TN ? M : K;
    int b_rows = form == FORM_NT ? N : K, b_cols = form == FORM_NT ? K : N;
    p.lda = a_cols + 3, p.ldb = b_cols + 3;
    size_t na = (size_t)(a_rows ? a_rows : 1) * p.lda, nb = (size_t)(b_rows ? b_rows : 1) * p.ldb;
    p.A = malloc(na * sizeof(float)), p.B = malloc(nb * sizeof(float));
    p.C = malloc(p.nc * sizeof(float)), p.want = malloc(p.nc * sizeof(float));
    fill_uniform(p.A, na, -1.0f, 1.0f, seed);
    fill_uniform(p.B, nb, -1.0f, 1.0f, seed + 1);
    fill_uniform(p.C, p.nc, -1.0f, 1.0f, seed + 2);
    memcpy(p.want, p.C, p.nc * sizeof(float));
    return p;
}

/* want = the product by cblas_sgemm; C = the product by packgemm (at the precision set). */
static void product_run(Product *p, float beta, PackedMat *ws) {
    CBLAS_TRANSPOSE ta = p->form == FORM_TN ? CblasTrans : CblasNoTrans;
    CBLAS_TRANSPOSE tb = p->form == FORM_NT ? CblasTrans : CblasNoTrans;
    cblas_sgemm(CblasRowMajor, ta, tb, p->M, p->N, p->K, 1.0f, p->A, p->lda, p->B, p->ldb, beta, p->want, p->ldc);
    if (p->form == FORM_NT) pk_gemm_nt(p->C, p->ldc, p->A, p->lda, p->B, p->ldb, p->M, p->N, p->K, beta, ws);
    else if (p->form == FORM_NN) pk_gemm_nn(p->C, p->ldc, p->A, p->lda, p->B, p->ldb, p->M, p->N, p->K, beta, ws);
    else pk_gemm_tn(p->C, p->ldc, p->A, p->lda, p->B, p->ldb, p->M, p->N, p->K, beta, ws);
}

static void product_free(Product *p) { free(p->A), free(p->B), free(p->C), free(p->want); }

/* One product of each form; returns the worst error against cblas relative to √K (∞ if it wrote
 * outside C). */
static double check_product(Form form, int M, int N, int K, float beta, unsigned long long seed) {
    Product p = product_make(form, M, N, K, seed);
    PackedMat ws;
    /* the room a dense layer reserves: a small batch's A · Bᵀ takes the swapped path */
    packed_alloc(&ws, 1, (int)(form == FORM_NT ? pk_gemm_nt_room(M, N, K) : (size_t)K * ((N + 31) / 32) * 32));
    product_run(&p, beta, &ws);
    double worst = 0.0;
    for (size_t k = 0; k < p.nc; k++) {
        int r = (int)(k / p.ldc), col = (int)(k % p.ldc);
        if (r >= M || col >= N) {
            if (p.C[k] != p.want[k]) worst = INFINITY;   /* wrote outside C */
        } else {
            worst = fmax(worst, fabs((double)p.C[k] - p.want[k]) / sqrt((double)K + 1.0));
        }
    }
    packed_free(&ws);
    product_free(&p);
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

/* Every element of C is one chain, whatever tile or kernel computes it (full tiles, the 2- and
 * 4-row AVX2 kernels for a tile's last rows, the one-row kernel, packed A for TN): zero, a fused
 * multiply-add for each k in order, then + C when beta ≠ 0. Checked bit for bit against that
 * chain written with fmaf, for M = 1 … 8 (every tail size of 6- and 8-row tiles), 16, 32 and
 * 130 (a 128-row block and 2); K ≤ 256, one k slice. This is what lets a change of tiling keep
 * the same bits. */
static void check_kernel_chain(PackKernel kernel) {
    if (packed_force_kernel(kernel) != 0) return;
    static const int ROWS[] = {1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 130};
    const int N = 40, K = 200;
    unsigned long long seed = 500;
    int mismatches = 0;
    for (size_t s = 0; s < sizeof ROWS / sizeof ROWS[0]; s++)
        for (int form = 0; form < 3; form++)
            for (int b = 0; b < 2; b++) {
                Product p = product_make((Form)form, ROWS[s], N, K, seed++);
                PackedMat ws;
                packed_alloc(&ws, K, N);
                float *c_before = malloc(p.nc * sizeof(float));
                memcpy(c_before, p.C, p.nc * sizeof(float));
                product_run(&p, (float)b, &ws);
                for (int r = 0; r < p.M; r++)
                    for (int col = 0; col < N; col++) {
                        float acc = 0.0f;
                        for (int k = 0; k < K; k++) {
                            float a = form == FORM_TN ? p.A[(size_t)k * p.lda + r] : p.A[(size_t)r * p.lda + k];
                            float w = form == FORM_NT ? p.B[(size_t)col * p.ldb + k] : p.B[(size_t)k * p.ldb + col];
                            acc = fmaf(a, w, acc);
                        }
                        if (b) acc += c_before[(size_t)r * p.ldc + col];
                        mismatches += memcmp(&acc, &p.C[(size_t)r * p.ldc + col], sizeof acc) != 0;
                    }
                free(c_before);
                packed_free(&ws);
                product_free(&p);
            }
    CU_ASSERT_EQUAL(mismatches, 0);
    restore_best_kernel();
}

/* Packing Wᵀ (8 × 8 blocks transposed in registers, in either order of the blocks, then
 * element by element at the edges) gives the very panels that packing an explicit copy of Wᵀ
 * does: the same products, bit for bit. K = 59 = 3·16 + 8 + 3 and N = 69 (two full panels and
 * 5 columns) reach every edge; W's rows are longer than K: 64 floats, and 256 (a multiple of
 * 1 KiB, where the pack takes both halves of a line of W together). */
static void check_transposed_pack(PackKernel kernel) {
    if (packed_force_kernel(kernel) != 0) return;
    enum { M = 13, N = 69, K = 59, LD_MAX = 256 };
    static float W[N * LD_MAX], Wt[K * N], A[M * K], C1[M * N], C2[M * N];
    static const int LDS[] = {64, LD_MAX};
    fill_uniform(A, M * K, -1.0f, 1.0f, 82);
    for (int l = 0; l < 2; l++) {
        const int ld = LDS[l];
        fill_uniform(W, (size_t)N * ld, -1.0f, 1.0f, 81 + l);
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) Wt[(size_t)k * N + n] = W[(size_t)n * ld + k];
        PackedMat from_w, from_wt;
        packed_alloc(&from_w, K, N);
        packed_alloc(&from_wt, K, N);
        packed_set_transposed(&from_w, W, ld, N, K);
        packed_set(&from_wt, Wt, N, K, N);
        CU_ASSERT(from_w.NR > 0);
        packed_gemm(C1, N, A, K, &from_w, M, 0.0f);
        packed_gemm(C2, N, A, K, &from_wt, M, 0.0f);
        CU_ASSERT(memcmp(C1, C2, sizeof C1) == 0);
        packed_free(&from_w);
        packed_free(&from_wt);
    }
    restore_best_kernel();
}
static void test_transposed_pack(void) {
    check_transposed_pack(PACK_KERNEL_AVX512);
    check_transposed_pack(PACK_KERNEL_AVX2);
}

static void test_avx512(void) { check_kernel(PACK_KERNEL_AVX512); }
static void test_avx2(void) { check_kernel(PACK_KERNEL_AVX2); }
static void test_chain(void) {
    check_kernel_chain(PACK_KERNEL_AVX512);
    check_kernel_chain(PACK_KERNEL_AVX2);
}
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

/* Small nn and tn products read B's full panels in place (packed_set_in_place): the same bits
 * as the packed path, with a last partial panel, K across a slice (KC), beta 0 and 1, 1–3
 * threads; and ws.in_place says the in-place path ran where it should and not beyond 1024 rows. */
static void test_in_place_equals_packed(void) {
    if (packed_force_kernel(PACK_KERNEL_AVX512) != 0) {
        printf("(no AVX-512: the in-place path is not used)\n");
        return;
    }
    static const int shapes[][3] = {{37, 80, 300}, {9, 64, 5}, {128, 784, 64}, {2, 17, 3}, {1100, 40, 20}};
    int threads = par_threads();
    double min_flops = par_min_flops();
    for (int t = 1; t <= 3; t++) {
        par_set_threads(t);
        par_set_min_flops(0.0);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int form = FORM_NN; form <= FORM_TN; form++)
                for (int b = 0; b < 2; b++) {
                    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    Product p = product_make((Form)form, M, N, K, 40 + s);
                    PackedMat ws, packed;
                    packed_alloc(&ws, K, N);
                    packed_alloc(&packed, K, N);
                    float *C2 = malloc(p.nc * sizeof(float));   /* C before the product, for the packed path */
                    memcpy(C2, p.C, p.nc * sizeof(float));
                    product_run(&p, (float)b, &ws);
                    CU_ASSERT_EQUAL(ws.in_place, M <= 1024 && K <= 1024);
                    /* the same product through the packed path */
                    packed_set(&packed, p.B, p.ldb, K, N);
                    CU_ASSERT_EQUAL(packed.in_place, 0);
                    if (form == FORM_NN) packed_gemm(C2, p.ldc, p.A, p.lda, &packed, M, (float)b);
                    else packed_gemm_at(C2, p.ldc, p.A, p.lda, &packed, M, (float)b);
                    CU_ASSERT(memcmp(C2, p.C, p.nc * sizeof(float)) == 0);
                    free(C2);
                    packed_free(&ws);
                    packed_free(&packed);
                    product_free(&p);
                }
    }
    par_set_threads(threads);
    par_set_min_flops(min_flops);
    restore_best_kernel();
}

/* The swapped A · Bᵀ (Cᵀ = B · Aᵀ, packgemm.c's gemm_nt_swapped) against the packed path: the
 * same bits, with an epilogue that must see every element once, in blocks that start at a
 * multiple of 32 columns and 8 rows; a last partial panel, K across slices, 1–3 threads. It
 * runs only where it should: beta 0, room for it, 2·M·(K + N) ≤ N·K — ws.N tells which
 * operand was packed (M: inᵀ, swapped; N: Bᵀ). */
typedef struct EpilogueSeen {
    int misaligned;
} EpilogueSeen;

static void affine_block(void *ctx, float *C, int ldc, int m0, int m1, int n0, int n1) {
    EpilogueSeen *seen = ctx;
    if (m0 % 8 || n0 % 32) seen->misaligned++;
    for (int r = m0; r < m1; r++)
        for (int c = n0; c < n1; c++) C[(size_t)r * ldc + c] = 2.0f * C[(size_t)r * ldc + c] + 1.0f;
}

static void test_nt_swapped_equals_packed(void) {
    if (packed_force_kernel(PACK_KERNEL_AVX512) != 0) {
        printf("(no AVX-512: the swapped path is not used)\n");
        return;
    }
    /* swapped: the first five (2·M·(K + N) ≤ N·K); packed: the rest */
    static const int shapes[][3] = {{64, 1024, 784}, {37, 300, 520}, {9, 100, 70}, {2, 17, 30}, {130, 600, 700},
                                    {37, 80, 300},   {1100, 70, 20}, {48, 300, 8}};
    int threads = par_threads();
    double min_flops = par_min_flops();
    for (int t = 1; t <= 3; t++) {
        par_set_threads(t);
        par_set_min_flops(0.0);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int b = 0; b < 2; b++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                Product p = product_make(FORM_NT, M, N, K, 70 + s);
                PackedMat ws, packed;
                packed_alloc(&ws, 1, (int)pk_gemm_nt_room(M, N, K));
                packed_alloc(&packed, K, N);
                float *C2 = malloc(p.nc * sizeof(float));
                memcpy(C2, p.C, p.nc * sizeof(float));
                EpilogueSeen seen = {0}, whole = {0};
                PkEpilogue then = {affine_block, &seen};
                pk_gemm_nt_then(p.C, p.ldc, p.A, p.lda, p.B, p.ldb, M, N, K, (float)b, &ws, &then);
                CU_ASSERT_EQUAL(ws.N, b == 0 && s < 5 ? M : N);
                CU_ASSERT_EQUAL(seen.misaligned, 0);
                packed_set_transposed(&packed, p.B, p.ldb, N, K);
                packed_gemm(C2, p.ldc, p.A, p.lda, &packed, M, (float)b);
                affine_block(&whole, C2, p.ldc, 0, M, 0, N);
                CU_ASSERT(memcmp(C2, p.C, p.nc * sizeof(float)) == 0);   /* padding untouched too */
                /* room for Bᵀ's panels only, where the swapped path needs more: the packed path */
                size_t panels_only = (size_t)K * ((N + 31) / 32) * 32;
                if (pk_gemm_nt_room(M, N, K) > panels_only) {
                    PackedMat small;
                    packed_alloc(&small, 1, (int)panels_only);
                    pk_gemm_nt(C2, p.ldc, p.A, p.lda, p.B, p.ldb, M, N, K, 0.0f, &small);
                    CU_ASSERT_EQUAL(small.N, N);
                    packed_free(&small);
                }
                free(C2);
                packed_free(&ws);
                packed_free(&packed);
                product_free(&p);
            }
    }
    par_set_threads(threads);
    par_set_min_flops(min_flops);
    restore_best_kernel();
}

/* bfloat16 rounding: the scalar rule and vcvtneps2bf16 agree bit for bit, and give the values
 * a hand computes: to nearest with ties to even, denormals to a signed zero, overflow to ∞. */
static void test_bf16_rounding(void) {
    static const float special[] = {0.0f, -0.0f, 1.0f, 1.00390625f /* 1 + 2⁻⁸, a tie */, 1.01171875f /* 1 + 3·2⁻⁸ */,
                                    1.0078125f, -2.5f, 3.4028235e38f, 1e-40f, -1e-40f, 1.17549435e-38f,
                                    INFINITY, -INFINITY, NAN, 65504.0f, 3.14159265f};
    static const uint16_t want[] = {0x0000, 0x8000, 0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xC020, 0x7F80, 0x0000,
                                    0x8000, 0x0080, 0x7F80, 0xFF80, 0, 0x4780, 0x4049};
    enum { N_SPECIAL = sizeof special / sizeof special[0] };
    uint16_t vec[N_SPECIAL];
    bf16_convert(vec, special, N_SPECIAL);   /* 16 values: one vector */
    for (int i = 0; i < N_SPECIAL; i++) {
        uint16_t one = bf16_from_float(special[i]);
        CU_ASSERT_EQUAL(one, vec[i]);
        if (isnan(special[i])) {
            CU_ASSERT((one & 0x7F80) == 0x7F80 && (one & 0x7F) != 0);
        } else {
            CU_ASSERT_EQUAL(one, want[i]);
        }
    }
    enum { N = 4099 };   /* random values of every magnitude, and a tail past the last vector */
    float *x = malloc(N * sizeof *x);
    uint16_t *v = malloc(N * sizeof *v);
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        uint32_t bits = seed;
        memcpy(&x[i], &bits, sizeof bits);
    }
    bf16_convert(v, x, N);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        differ += bf16_from_float(x[i]) != v[i];
        if (isfinite(x[i]) && fabsf(x[i]) > 1e-37f && fabsf(x[i]) < 1e38f)   /* relative error ≤ 2⁻⁸ */
            CU_ASSERT(fabs((double)bf16_to_float(v[i]) - x[i]) <= ldexp(fabs((double)x[i]), -8));
    }
    CU_ASSERT_EQUAL(differ, 0);
    free(x), free(v);
}

/* One product of each form in bf16 with padded strides, against
 *   exact: the operands rounded to bf16, multiplied and summed in double — the kernel's products
 *          are exact in fp32, so only fp32 accumulation may differ: ≤ K · 2⁻²³ · Σ|a||b|;
 *   fp32:  cblas_sgemm on the unrounded operands — within bf16's rounding of both operands,
 *          ≤ (2 · 2⁻⁸ + K · 2⁻²³) · Σ|a||b|.
 * Returns the worst of the two errors over their bounds (≤ 1 passes; ∞ if it wrote outside C). */
static double check_bf16_product(Form form, int M, int N, int K, float beta, unsigned long long seed) {
    Product p = product_make(form, M, N, K, seed);
    float *C0 = malloc(p.nc * sizeof(float));
    memcpy(C0, p.C, p.nc * sizeof(float));
    PackedMat ws;
    packed_alloc(&ws, K, N);
    product_run(&p, beta, &ws);
    CU_ASSERT_EQUAL(ws.bf16, 1);
    double worst = 0.0;
    for (int r = 0; r < M + 2; r++)
        for (int col = 0; col < p.ldc; col++) {
            size_t at = (size_t)r * p.ldc + col;
            if (r >= M || col >= N) {
                if (p.C[at] != C0[at]) worst = INFINITY;
                continue;
            }
            double exact = beta != 0.0f ? C0[at] : 0.0, mag = 0.0;
            for (int k = 0; k < K; k++) {
                float a = form == FORM_TN ? p.A[(size_t)k * p.lda + r] : p.A[(size_t)r * p.lda + k];
                float b = form == FORM_NT ? p.B[(size_t)col * p.ldb + k] : p.B[(size_t)k * p.ldb + col];
                exact += (double)bf16_to_float(bf16_from_float(a)) * bf16_to_float(bf16_from_float(b));
                mag += fabs((double)a * b);
            }
            double acc = ldexp((double)K + 2.0, -23) * (mag + 1.0);
            worst = fmax(worst, fabs(p.C[at] - exact) / acc);
            worst = fmax(worst, fabs((double)p.C[at] - p.want[at]) / (ldexp(1.0, -7) * mag + acc));
        }
    packed_free(&ws);
    product_free(&p);
    free(C0);
    return worst;
}

/* run(ctx) under every setting this CPU has — AVX-512, AVX2, the BLAS pass-through, AVX-512 in
 * bf16 — each on one and two threads, with every split taken (par_set_min_flops(0)); then the
 * best kernel, fp32 and the thread count as they were. Returns the number of runs. */
static int for_every_setting(void (*run)(void *ctx), void *ctx) {
    static const PackKernel kernels[] = {PACK_KERNEL_AVX512, PACK_KERNEL_AVX2, PACK_KERNEL_BLAS};
    int runs = 0, threads_before = par_threads();
    double min_flops = par_min_flops();
    par_set_min_flops(0.0);
    for (int kk = 0; kk < 4; kk++) {
        if (kk < 3 ? packed_force_kernel(kernels[kk]) != 0 : packed_set_precision(PACK_BF16) != 0) continue;
        for (int threads = 1; threads <= 2; threads++, runs++) {
            par_set_threads(threads);
            run(ctx);
        }
        packed_set_precision(PACK_FP32);
    }
    restore_best_kernel();
    par_set_threads(threads_before);
    par_set_min_flops(min_flops);
    return runs;
}

/* pk_gemm_tn_sums: C bit for bit as pk_gemm_tn gives it, and sums[m − m0] += Σ_k A[k, m] bit
 * for bit as the plain loop over k in order, onto sums that already hold values (a gradient
 * accumulated before): for every kernel and bf16, on one and two threads (split by rows, or by
 * panels where every part packs all of A and one takes the sums), sizes across the KC slices
 * and MC blocks, the first summed row at 0, inside a tile and at the last row. */
typedef struct Tally {
    unsigned long long seed;
    int bad_c, bad_sums, cases;
} Tally;

static void tn_sums_cases(void *ctx) {
    static const int SUM_SHAPES[][3] = {{1, 7, 5}, {5, 40, 300}, {64, 96, 513}, {130, 70, 513}, {257, 33, 40},
                                        {300, 200, 64}};
    Tally *t = ctx;
    for (size_t s = 0; s < sizeof SUM_SHAPES / sizeof SUM_SHAPES[0]; s++) {
        const int M = SUM_SHAPES[s][0], N = SUM_SHAPES[s][1], K = SUM_SHAPES[s][2];
        const int firsts[] = {0, M > 5 ? 5 : 0, M - 1};
        for (int f = 0; f < 3; f++) {
            int m0 = firsts[f];
            Product p = product_make(FORM_TN, M, N, K, t->seed++);
            float *C2 = malloc(p.nc * sizeof(float)), *sums = malloc((size_t)M * sizeof(float)),
                  *want = malloc((size_t)M * sizeof(float));
            memcpy(C2, p.C, p.nc * sizeof(float));
            fill_uniform(sums, (size_t)M, -1.0f, 1.0f, t->seed++);
            memcpy(want, sums, (size_t)M * sizeof(float));
            for (int k = 0; k < K; k++)
                for (int m = m0; m < M; m++) want[m - m0] += p.A[(size_t)k * p.lda + m];
            PackedMat ws;
            packed_alloc(&ws, K, N);
            pk_gemm_tn(p.C, p.ldc, p.A, p.lda, p.B, p.ldb, M, N, K, 1.0f, &ws);
            pk_gemm_tn_sums(C2, p.ldc, p.A, p.lda, p.B, p.ldb, M, N, K, 1.0f, &ws, sums, m0);
            t->bad_c += memcmp(p.C, C2, p.nc * sizeof(float)) != 0;
            t->bad_sums += memcmp(sums, want, (size_t)(M - m0) * sizeof(float)) != 0;
            t->cases++;
            packed_free(&ws);
            product_free(&p);
            free(C2), free(sums), free(want);
        }
    }
}

static void test_tn_sums(void) {
    Tally t = {900, 0, 0, 0};
    CU_ASSERT(for_every_setting(tn_sums_cases, &t) >= 2);   /* at least the BLAS pass-through */
    CU_ASSERT(t.cases >= 36);
    CU_ASSERT_EQUAL(t.bad_c, 0);
    CU_ASSERT_EQUAL(t.bad_sums, 0);
}

/* pk_gemm_tn_pair_sums: C = Aᵀ · [B1 | B2] and A's row sums bit for bit as the two products
 * pk_gemm_tn_sums (on B1) and pk_gemm_tn (on B2) give them, and nothing written outside C: for
 * every kernel and bf16, one and two threads, B read in place (M, K ≤ 1024) and packed (K or M
 * above), N1 a multiple of the panel width and not (a panel across the two operands), with and
 * without sums, and a workspace too small for the pair (then it is the two products). */
static void tn_pair_cases(void *ctx) {
    static const int PAIR_SHAPES[][4] = {{64, 64, 32, 300},  {96, 256, 64, 1024}, {40, 100, 50, 70},
                                         {130, 37, 5, 513},  {24, 32, 33, 1100},  {1030, 64, 40, 20}};
    Tally *t = ctx;
    for (size_t s = 0; s < sizeof PAIR_SHAPES / sizeof PAIR_SHAPES[0]; s++)
        for (int variant = 0; variant < 3; variant++) {   /* sums; no sums; no room for the pair */
            const int M = PAIR_SHAPES[s][0], N1 = PAIR_SHAPES[s][1], N2 = PAIR_SHAPES[s][2];
            const int K = PAIR_SHAPES[s][3], N = N1 + N2, lda = M + 3, ld1 = N1 + 5, ld2 = N2 + 2;
            const int ldc = N + 3;
            size_t nc = (size_t)(M + 2) * ldc;
            float *A = malloc((size_t)K * lda * sizeof(float)), *B1 = malloc((size_t)K * ld1 * sizeof(float));
            float *B2 = malloc((size_t)K * ld2 * sizeof(float)), *C = malloc(nc * sizeof(float));
            float *C2 = malloc(nc * sizeof(float)), *sums = malloc((size_t)M * sizeof(float));
            float *sums2 = malloc((size_t)M * sizeof(float));
            fill_uniform(A, (size_t)K * lda, -1.0f, 1.0f, t->seed++);
            fill_uniform(B1, (size_t)K * ld1, -1.0f, 1.0f, t->seed++);
            fill_uniform(B2, (size_t)K * ld2, -1.0f, 1.0f, t->seed++);
            fill_uniform(C, nc, -1.0f, 1.0f, t->seed++);
            fill_uniform(sums, (size_t)M, -1.0f, 1.0f, t->seed++);
            memcpy(C2, C, nc * sizeof(float));
            memcpy(sums2, sums, (size_t)M * sizeof(float));
            PackedMat ws;
            packed_alloc(&ws, K, variant == 2 ? (N1 > N2 ? N1 : N2) : N);
            if (variant == 0) pk_gemm_tn_sums(C, ldc, A, lda, B1, ld1, M, N1, K, 1.0f, &ws, sums, 0);
            else pk_gemm_tn(C, ldc, A, lda, B1, ld1, M, N1, K, 1.0f, &ws);
            pk_gemm_tn(C + N1, ldc, A, lda, B2, ld2, M, N2, K, 1.0f, &ws);
            pk_gemm_tn_pair_sums(C2, ldc, A, lda, B1, ld1, N1, B2, ld2, N2, M, K, 1.0f, &ws,
                                 variant == 0 ? sums2 : NULL, 0);
            int differ = memcmp(C, C2, nc * sizeof(float)) != 0 || memcmp(sums, sums2, (size_t)M * sizeof(float)) != 0;
            if (differ)
                fprintf(stderr, "\n    %s %s, %d threads, M %d N1 %d N2 %d K %d, variant %d: differs\n",
                        packed_kernel_name(packed_kernel()), packed_precision_name(packed_precision()),
                        par_threads(), M, N1, N2, K, variant);
            t->bad_c += differ;
            t->cases++;
            packed_free(&ws);
            free(A), free(B1), free(B2), free(C), free(C2), free(sums), free(sums2);
        }
}

static void test_tn_pair(void) {
    Tally t = {1300, 0, 0, 0};
    CU_ASSERT(for_every_setting(tn_pair_cases, &t) >= 2);
    CU_ASSERT(t.cases >= 36);
    CU_ASSERT_EQUAL(t.bad_c, 0);
}

static void test_bf16_products(void) {
    if (packed_set_precision(PACK_BF16) != 0) {
        fprintf(stderr, "\n    (this CPU lacks AVX512-BF16: the bf16 products are not tested here)\n");
        CU_ASSERT(!bf16_cpu_supported() || packed_kernel() != PACK_KERNEL_AVX512);
        return;
    }
    double worst = 0.0;
    unsigned long long seed = 100;
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
        for (int form = 0; form < 3; form++)
            for (int b = 0; b < 2; b++) {
                double e = check_bf16_product((Form)form, SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], (float)b, seed++);
                if (e > 1.0)
                    fprintf(stderr, "\n    bf16 form %d M %d N %d K %d beta %d: error %g of the bound\n", form,
                            SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], b, e);
                worst = fmax(worst, e);
            }
    CU_ASSERT(worst <= 1.0);
    /* the same bits at 1 and 2 threads, on a product big enough to be shared out */
    enum { M = 300, N = 520, K = 700 };
    float *A = malloc((size_t)M * K * sizeof(float)), *W = malloc((size_t)N * K * sizeof(float));
    float *C1 = malloc((size_t)M * N * sizeof(float)), *C2 = malloc((size_t)M * N * sizeof(float));
    fill_uniform(A, (size_t)M * K, -1.0f, 1.0f, 7);
    fill_uniform(W, (size_t)N * K, -1.0f, 1.0f, 8);
    PackedMat ws;
    packed_alloc(&ws, K, N);
    int threads = par_threads();
    par_set_threads(1);
    pk_gemm_nt(C1, N, A, K, W, K, M, N, K, 0.0f, &ws);
    par_set_threads(2);
    pk_gemm_nt(C2, N, A, K, W, K, M, N, K, 0.0f, &ws);
    CU_ASSERT(memcmp(C1, C2, (size_t)M * N * sizeof(float)) == 0);
    /* and fp32 again once asked: an operand packed from now on is fp32 */
    CU_ASSERT_EQUAL(packed_set_precision(PACK_FP32), 0);
    pk_gemm_nt(C2, N, A, K, W, K, M, N, K, 0.0f, &ws);
    CU_ASSERT_EQUAL(ws.bf16, 0);
    CU_ASSERT(memcmp(C1, C2, (size_t)M * N * sizeof(float)) != 0);
    par_set_threads(threads);
    packed_free(&ws);
    free(A), free(W), free(C1), free(C2);
    /* bf16 runs on the AVX-512 kernel only: forcing another refuses it */
    if (packed_force_kernel(PACK_KERNEL_AVX2) == 0) {
        CU_ASSERT_EQUAL(packed_set_precision(PACK_BF16), -1);
        CU_ASSERT_EQUAL(packed_precision(), PACK_FP32);
    }
    restore_best_kernel();
}

int main(void) {
    const TestCase cases[] = {
        {"avx512 kernel equals cblas (if the CPU has it)", test_avx512},
        {"avx2 kernel equals cblas (if the CPU has it)", test_avx2},
        {"blas pass-through", test_blas},
        {"every element the same chain of multiply-adds, whatever its tile", test_chain},
        {"pack once, reuse; K = 0; workspace too small", test_packed_reuse_and_edges},
        {"W packed transposed: the panels of Wᵀ packed as it is, bit for bit", test_transposed_pack},
        {"small nn and tn products read B in place: the packed path's bits", test_in_place_equals_packed},
        {"small-batch A·Bᵀ swapped to Cᵀ = B·Aᵀ: the packed path's bits", test_nt_swapped_equals_packed},
        {"Aᵀ·B with A's row sums taken while packing: the loop's bits", test_tn_sums},
        {"Aᵀ·[B1 | B2] in one product: the two products' bits", test_tn_pair},
        {"bf16 rounding: the rule, by hand and vectorised", test_bf16_rounding},
        {"bf16 products within bf16's rounding of fp32; thread counts", test_bf16_products},
        {NULL, NULL},
    };
    return run_tests("packgemm", cases);
}
