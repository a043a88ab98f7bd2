/* packgemm.c — products against a packed right operand (see packgemm.h).
 *
 * Panel layout: P (K, N) is cut into column panels of NR; panel j holds P[k, j·NR + c] at
 * panels[j·K·NR + k·NR + c], zero where j·NR + c ≥ N. The micro-kernel computes an MR × NR tile
 * of C over a slice of k: for every k it loads the panel's row k (NR floats, two vector
 * registers), broadcasts A[i, k] for the MR rows and does 2·MR fused multiply-adds into
 * accumulators that stay in registers for the whole slice. A's element k of row i is at
 * a_i[k·cs] (cs = 1 for A, the row stride for a transposed A). Rows past M reuse row 0 (their
 * results are not stored); columns past N are zero in the panel and masked at the store. */
#include "packgemm.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PACK_X86 1
#include <immintrin.h>
#else
#define PACK_X86 0
#endif

enum { KC = 256, MC = 128 };   /* cache blocking: k slice (panel slice in L1), rows per A block (L2) */

static int active_kernel = -1;

static PackKernel detect(void) {
#if PACK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return PACK_KERNEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return PACK_KERNEL_AVX2;
#endif
    return PACK_KERNEL_BLAS;
}

PackKernel packed_kernel(void) {
    if (active_kernel < 0) active_kernel = (int)detect();
    return (PackKernel)active_kernel;
}

const char *packed_kernel_name(PackKernel k) {
    return k == PACK_KERNEL_AVX512 ? "avx512" : k == PACK_KERNEL_AVX2 ? "avx2" : "blas";
}

int packed_force_kernel(PackKernel k) {
    if (k > detect()) return -1;   /* the kernels are ordered by what they need */
    active_kernel = (int)k;
    return 0;
}

static int panel_width(PackKernel k) { return k == PACK_KERNEL_AVX512 ? 32 : k == PACK_KERNEL_AVX2 ? 16 : 0; }

void packed_alloc(PackedMat *p, int max_K, int max_N) {
    memset(p, 0, sizeof *p);
    const int NR = 32;   /* the widest panel: room for every kernel */
    p->cap = (size_t)max_K * (size_t)((max_N + NR - 1) / NR) * NR;
    /* 64 bytes of slack to align the panels for aligned vector loads */
    p->block = ex_malloc(p->cap * sizeof(float) + 64);
    p->panels = (float *)(((uintptr_t)p->block + 63) & ~(uintptr_t)63);
}

void packed_free(PackedMat *p) {
    free(p->block);
    memset(p, 0, sizeof *p);
}

static int fits(const PackedMat *p, int K, int N, int NR) {
    return (size_t)K * (size_t)((N + NR - 1) / NR) * NR <= p->cap;
}

void packed_set_transposed(PackedMat *p, const float *W, int ld, int N, int K) {
    p->K = K, p->N = N, p->src = W, p->ld = ld, p->transposed = 1;
    p->NR = panel_width(packed_kernel());
    if (!p->NR || !fits(p, K, N, p->NR)) {
        p->NR = 0;   /* no room (or no kernel): the BLAS path reads W directly */
        return;
    }
    const int NR = p->NR, panels = (N + NR - 1) / NR;
    for (int j = 0; j < panels; j++) {
        float *dst = p->panels + (size_t)j * K * NR;
        int cols = N - j * NR < NR ? N - j * NR : NR;
        /* P[k, n] = W[n, k]: read W's rows in blocks of 8 k so the writes fill whole lines */
        for (int k0 = 0; k0 < K; k0 += 8) {
            int kn = K - k0 < 8 ? K - k0 : 8;
            for (int c = 0; c < NR; c++) {
                float *d = dst + (size_t)k0 * NR + c;
                if (c < cols) {
                    const float *row = W + (size_t)(j * NR + c) * ld + k0;
                    for (int k = 0; k < kn; k++) d[(size_t)k * NR] = row[k];
                } else {
                    for (int k = 0; k < kn; k++) d[(size_t)k * NR] = 0.0f;
                }
            }
        }
    }
}

void packed_set(PackedMat *p, const float *W, int ld, int K, int N) {
    p->K = K, p->N = N, p->src = W, p->ld = ld, p->transposed = 0;
    p->NR = panel_width(packed_kernel());
    if (!p->NR || !fits(p, K, N, p->NR)) {
        p->NR = 0;
        return;
    }
    const int NR = p->NR, panels = (N + NR - 1) / NR;
    for (int j = 0; j < panels; j++) {
        float *dst = p->panels + (size_t)j * K * NR;
        int cols = N - j * NR < NR ? N - j * NR : NR;
        for (int k = 0; k < K; k++) {
            memcpy(dst + (size_t)k * NR, W + (size_t)k * ld + (size_t)j * NR, (size_t)cols * sizeof(float));
            for (int c = cols; c < NR; c++) dst[(size_t)k * NR + c] = 0.0f;
        }
    }
}

#if PACK_X86

/* ---- AVX-512: MR 8 × NR 32 (16 accumulators in zmm registers) ---------------------------- */

#define Z_DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define Z_STEP(i)                                          \
    {                                                      \
        __m512 av = _mm512_set1_ps(a##i[off]);             \
        c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0);        \
        c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1);        \
    }
#define Z_STORE(i)                                                                         \
    if (i < mrows) {                                                                       \
        float *ci = C + (size_t)(i) * ldc;                                                 \
        if (beta != 0.0f) {                                                                \
            c##i##0 = _mm512_add_ps(c##i##0, _mm512_maskz_loadu_ps(m0, ci));               \
            c##i##1 = _mm512_add_ps(c##i##1, _mm512_maskz_loadu_ps(m1, ci + 16));          \
        }                                                                                  \
        _mm512_mask_storeu_ps(ci, m0, c##i##0);                                            \
        _mm512_mask_storeu_ps(ci + 16, m1, c##i##1);                                       \
    }

__attribute__((target("avx512f"))) static void kernel_avx512(float *C, int ldc, const float *const *a, size_t cs,
                                                             const float *panel, int K, int ncols, int mrows,
                                                             float beta) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
    Z_DECL(0) Z_DECL(1) Z_DECL(2) Z_DECL(3) Z_DECL(4) Z_DECL(5) Z_DECL(6) Z_DECL(7)
    size_t off = 0;
    for (int k = 0; k < K; k++, off += cs) {
        __m512 b0 = _mm512_load_ps(panel + (size_t)k * 32);
        __m512 b1 = _mm512_load_ps(panel + (size_t)k * 32 + 16);
        Z_STEP(0) Z_STEP(1) Z_STEP(2) Z_STEP(3) Z_STEP(4) Z_STEP(5) Z_STEP(6) Z_STEP(7)
    }
    __mmask16 m0 = ncols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ncols) - 1u);
    __mmask16 m1 = ncols >= 32 ? (__mmask16)0xFFFF : ncols > 16 ? (__mmask16)((1u << (ncols - 16)) - 1u) : 0;
    Z_STORE(0) Z_STORE(1) Z_STORE(2) Z_STORE(3) Z_STORE(4) Z_STORE(5) Z_STORE(6) Z_STORE(7)
}

/* ---- AVX2 + FMA: MR 6 × NR 16 (12 accumulators in ymm registers) -------------------------- */

#define Y_DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define Y_STEP(i)                                          \
    {                                                      \
        __m256 av = _mm256_broadcast_ss(a##i + off);       \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);        \
        c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);        \
    }
#define Y_STORE(i)                                                                         \
    if (i < mrows) {                                                                       \
        float *ci = C + (size_t)(i) * ldc;                                                 \
        if (beta != 0.0f) {                                                                \
            c##i##0 = _mm256_add_ps(c##i##0, _mm256_maskload_ps(ci, m0));                  \
            c##i##1 = _mm256_add_ps(c##i##1, _mm256_maskload_ps(ci + 8, m1));              \
        }                                                                                  \
        _mm256_maskstore_ps(ci, m0, c##i##0);                                              \
        _mm256_maskstore_ps(ci + 8, m1, c##i##1);                                          \
    }

__attribute__((target("avx2,fma"))) static void kernel_avx2(float *C, int ldc, const float *const *a, size_t cs,
                                                            const float *panel, int K, int ncols, int mrows,
                                                            float beta) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    Y_DECL(0) Y_DECL(1) Y_DECL(2) Y_DECL(3) Y_DECL(4) Y_DECL(5)
    size_t off = 0;
    for (int k = 0; k < K; k++, off += cs) {
        __m256 b0 = _mm256_load_ps(panel + (size_t)k * 16);
        __m256 b1 = _mm256_load_ps(panel + (size_t)k * 16 + 8);
        Y_STEP(0) Y_STEP(1) Y_STEP(2) Y_STEP(3) Y_STEP(4) Y_STEP(5)
    }
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols), lanes);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols - 8), lanes);
    Y_STORE(0) Y_STORE(1) Y_STORE(2) Y_STORE(3) Y_STORE(4) Y_STORE(5)
}

/* The blocked loops. Element (m, k) of A is at A[m·rs + k·cs]. */
static void run_kernels(float *C, int ldc, const float *A, size_t rs, size_t cs, const PackedMat *p, int M,
                        float beta) {
    const int K = p->K, N = p->N, NR = p->NR, MR = NR == 32 ? 8 : 6, panels = (N + NR - 1) / NR;
    const float *rows[8];
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC;
        float b = k0 == 0 ? beta : 1.0f;          /* later k slices add to the first */
        for (int mb = 0; mb < M; mb += MC) {
            int mend = M - mb < MC ? M : mb + MC;
            for (int j = 0; j < panels; j++) {
                const float *panel = p->panels + (size_t)j * K * NR + (size_t)k0 * NR;
                int ncols = N - j * NR < NR ? N - j * NR : NR;
                for (int m0 = mb; m0 < mend; m0 += MR) {
                    int mrows = mend - m0 < MR ? mend - m0 : MR;
                    for (int i = 0; i < MR; i++)
                        rows[i] = A + (size_t)(m0 + (i < mrows ? i : 0)) * rs + (size_t)k0 * cs;
                    float *Ct = C + (size_t)m0 * ldc + (size_t)j * NR;
                    if (NR == 32) kernel_avx512(Ct, ldc, rows, cs, panel, kc, ncols, mrows, b);
                    else kernel_avx2(Ct, ldc, rows, cs, panel, kc, ncols, mrows, b);
                }
            }
        }
    }
}

#endif

/* C = beta C when there is nothing to sum (K = 0). */
static void scale_only(float *C, int ldc, int M, int N, float beta) {
    if (beta != 0.0f) return;
    for (int m = 0; m < M; m++) memset(C + (size_t)m * ldc, 0, (size_t)N * sizeof(float));
}

void packed_gemm(float *C, int ldc, const float *A, int lda, const PackedMat *p, int M, float beta) {
    if (M <= 0 || p->N <= 0) return;
    if (p->K == 0) {
        scale_only(C, ldc, M, p->N, beta);
        return;
    }
#if PACK_X86
    if (p->NR) {
        run_kernels(C, ldc, A, (size_t)lda, 1, p, M, beta);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, p->transposed ? CblasTrans : CblasNoTrans, M, p->N, p->K, 1.0f, A, lda,
                p->src, p->ld, beta, C, ldc);
}

void packed_gemm_at(float *C, int ldc, const float *At, int lda, const PackedMat *p, int M, float beta) {
    if (M <= 0 || p->N <= 0) return;
    if (p->K == 0) {
        scale_only(C, ldc, M, p->N, beta);
        return;
    }
#if PACK_X86
    if (p->NR) {
        run_kernels(C, ldc, At, 1, (size_t)lda, p, M, beta);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasTrans, p->transposed ? CblasTrans : CblasNoTrans, M, p->N, p->K, 1.0f, At, lda,
                p->src, p->ld, beta, C, ldc);
}

void pk_gemm_nt(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws) {
    packed_set_transposed(ws, B, ldb, N, K);
    packed_gemm(C, ldc, A, lda, ws, M, beta);
}

void pk_gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws) {
    packed_set(ws, B, ldb, K, N);
    packed_gemm(C, ldc, A, lda, ws, M, beta);
}

void pk_gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws) {
    packed_set(ws, B, ldb, K, N);
    packed_gemm_at(C, ldc, A, lda, ws, M, beta);
}
