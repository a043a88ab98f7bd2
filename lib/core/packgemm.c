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
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf16gemm.h"
#include "error.h"
#include "parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PACK_X86 1
#include <immintrin.h>

#include "tilestore.h"
#else
#define PACK_X86 0
#endif

enum { KC = 256, MC = 128 };   /* cache blocking: k slice (panel slice in L1), rows per A block (L2) */

/* A's row sums taken while it is packed: sums[m − m0] += Σ_k A(m, k) for every m ≥ m0 of the
 * product (pk_gemm_tn_sums; m counts from the A that run_kernels is given). */
typedef struct ASums {
    float *sums;
    int m0;
} ASums;

static int active_kernel = -1;
static PackPrecision active_precision = PACK_FP32;

static PackKernel detect(void) {
#if PACK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return PACK_KERNEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return PACK_KERNEL_AVX2;
#endif
    return PACK_KERNEL_BLAS;
}

/* The best kernel the CPU runs, capped by EXPRUN_KERNEL=avx2|blas if set (to compare, or to
 * reproduce another machine's arithmetic). */
PackKernel packed_kernel(void) {
    if (active_kernel < 0) {
        active_kernel = (int)detect();
        const char *cap = getenv("EXPRUN_KERNEL");
        if (cap && strcmp(cap, "avx2") == 0 && active_kernel > PACK_KERNEL_AVX2) active_kernel = PACK_KERNEL_AVX2;
        if (cap && strcmp(cap, "blas") == 0) active_kernel = PACK_KERNEL_BLAS;
    }
    return (PackKernel)active_kernel;
}

const char *packed_kernel_name(PackKernel k) {
    return k == PACK_KERNEL_AVX512 ? "avx512" : k == PACK_KERNEL_AVX2 ? "avx2" : "blas";
}

int packed_force_kernel(PackKernel k) {
    if (k > detect()) return -1;   /* the kernels are ordered by what they need */
    active_kernel = (int)k;
    if (k != PACK_KERNEL_AVX512) active_precision = PACK_FP32;   /* bf16 runs on the AVX-512 kernel only */
    return 0;
}

int packed_set_precision(PackPrecision precision) {
    if (precision == PACK_BF16 && (packed_kernel() != PACK_KERNEL_AVX512 || !bf16_cpu_supported())) return -1;
    active_precision = precision;
    return 0;
}

PackPrecision packed_precision(void) { return active_precision; }

const char *packed_precision_name(PackPrecision precision) { return precision == PACK_BF16 ? "bf16" : "fp32"; }

static int panel_width(PackKernel k) { return k == PACK_KERNEL_AVX512 ? 32 : k == PACK_KERNEL_AVX2 ? 16 : 0; }

void packed_alloc(PackedMat *p, int max_K, int max_N) {
    memset(p, 0, sizeof *p);
    const int NR = 32;   /* the widest panel: room for every kernel */
    p->cap = (size_t)max_K * (size_t)((max_N + NR - 1) / NR) * NR;
    /* 64 bytes of slack to align the panels for aligned vector loads */
    p->block = ex_malloc(p->cap * sizeof(float) + 64);
    p->panels = (float *)(((uintptr_t)p->block + 63) & ~(uintptr_t)63);
}

size_t packed_room(const PackedMat *p) { return p->cap; }

void packed_share(PackedMat *p, const PackedMat *storage) {
    free(p->block);
    p->block = NULL;   /* not ours: packed_free leaves it alone */
    p->panels = storage->panels;
    p->cap = storage->cap;
}

void packed_free(PackedMat *p) {
    free(p->block);
    memset(p, 0, sizeof *p);
}

static int fits(const PackedMat *p, int K, int N, int NR) {
    return (size_t)K * (size_t)((N + NR - 1) / NR) * NR <= p->cap;
}

/* Packing a big operand is shared out by panels (each panel is written by one thread). */
enum { PACK_PAR_MIN_FLOATS = 32768 };

typedef void (*PackPanels)(PackedMat *p, int j0, int j1);

typedef struct PackJob {
    PackedMat *p;
    PackPanels fn;
} PackJob;

static void pack_part(void *ctx, int part, int parts) {
    PackJob *job = ctx;
    int panels = (job->p->N + job->p->NR - 1) / job->p->NR, j0, j1;
    par_range(panels, part, parts, 1, &j0, &j1);
    job->fn(job->p, j0, j1);
}

static void pack_all(PackedMat *p, PackPanels fn) {
    int panels = (p->N + p->NR - 1) / p->NR;
    int parts = (size_t)p->K * p->N < PACK_PAR_MIN_FLOATS && par_min_flops() > 0.0 ? 1 : par_parts_for(INFINITY, panels);
    if (parts < 2) {
        fn(p, 0, panels);
        return;
    }
    PackJob job = {p, fn};
    par_run(pack_part, &job, parts);
}

#if PACK_X86
/* dst[t · NR + r] = src[r · ld + t] for r, t < 8: an 8 × 8 block transposed in registers. */
__attribute__((target("avx2"))) static void transpose8x8(float *dst, int NR, const float *src, int ld) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld), r2 = _mm256_loadu_ps(src + 2 * (size_t)ld);
    __m256 r3 = _mm256_loadu_ps(src + 3 * (size_t)ld), r4 = _mm256_loadu_ps(src + 4 * (size_t)ld);
    __m256 r5 = _mm256_loadu_ps(src + 5 * (size_t)ld), r6 = _mm256_loadu_ps(src + 6 * (size_t)ld);
    __m256 r7 = _mm256_loadu_ps(src + 7 * (size_t)ld);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + NR, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * NR, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * NR, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * NR, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * NR, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * NR, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * NR, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

/* Panels [j0, j1) of P = Wᵀ. Full 8 × 8 blocks are transposed in registers (the kernels imply
 * AVX2); the edges (the last panel's missing columns, K mod 8) element by element. */
static void pack_transposed_panels(PackedMat *p, int j0, int j1) {
    const int NR = p->NR, K = p->K, N = p->N, ld = p->ld;
    const float *W = p->src;
    for (int j = j0; j < j1; j++) {
        float *dst = p->panels + (size_t)j * K * NR;
        int cols = N - j * NR < NR ? N - j * NR : NR;
        /* P[k, n] = W[n, k]: read W's rows in blocks of 8 k so the writes fill whole lines */
        int k0 = 0;
#if PACK_X86
        /* A row stride of a multiple of 1 KiB puts a panel's 32 rows of W in at most 4 of L1's
         * 64 sets (512 floats: 2), too few ways to keep their lines from one 8-wide half to the
         * next: there both halves of 8 rows go before the next 8 rows. Measured packing Wᵀ, one
         * thread: 784 × 512 76 → 57 µs, 128 × 512 11 → 6.5 µs; where the rows spread over
         * the sets (784 floats) the 32-row order stays faster (1024 × 784: 80 vs 98–112 µs). */
        if (cols == NR && ld % 256 == 0)
            for (; k0 + 16 <= K; k0 += 16)
                for (int c = 0; c < NR; c += 8) {
                    const float *src = W + (size_t)(j * NR + c) * ld + k0;
                    transpose8x8(dst + (size_t)k0 * NR + c, NR, src, ld);
                    transpose8x8(dst + (size_t)(k0 + 8) * NR + c, NR, src + 8, ld);
                }
#endif
        for (; k0 < K; k0 += 8) {
            int kn = K - k0 < 8 ? K - k0 : 8;
#if PACK_X86
            if (kn == 8 && cols == NR) {
                for (int c = 0; c < NR; c += 8)
                    transpose8x8(dst + (size_t)k0 * NR + c, NR, W + (size_t)(j * NR + c) * ld + k0, ld);
                continue;
            }
#endif
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

/* Columns [c0, c0 + cols) of P = [src | src2] when they lie in one of the two: where their
 * first row starts and its row stride; NULL for columns on both sides. */
static const float *columns_at(const PackedMat *p, int c0, int cols, int *ld) {
    *ld = p->ld;
    if (!p->src2 || c0 + cols <= p->N1) return p->src + c0;
    *ld = p->ld2;
    return c0 >= p->N1 ? p->src2 + (c0 - p->N1) : NULL;
}

/* Panels [j0, j1) of P = W (or [src | src2]). */
static void pack_panels(PackedMat *p, int j0, int j1) {
    const int NR = p->NR, K = p->K, N = p->N;
    for (int j = j0; j < j1; j++) {
        float *dst = p->panels + (size_t)j * K * NR;
        int cols = N - j * NR < NR ? N - j * NR : NR, ld;
        const float *src = columns_at(p, j * NR, cols, &ld);
        if (!src) {   /* a panel across the two operands, column by column */
            for (int k = 0; k < K; k++)
                for (int c = 0; c < NR; c++) {
                    int n = j * NR + c;
                    dst[(size_t)k * NR + c] = n >= N ? 0.0f
                                              : n < p->N1 ? p->src[(size_t)k * p->ld + n]
                                                          : p->src2[(size_t)k * p->ld2 + (n - p->N1)];
                }
            continue;
        }
        /* a full panel: fixed-size copies, inlined (a variable size is a libc call per row of 64
         * or 128 bytes) */
        if (cols == 32 && NR == 32) {
            for (int k = 0; k < K; k++) memcpy(dst + (size_t)k * 32, src + (size_t)k * ld, 32 * sizeof(float));
            continue;
        }
        if (cols == 16 && NR == 16) {
            for (int k = 0; k < K; k++) memcpy(dst + (size_t)k * 16, src + (size_t)k * ld, 16 * sizeof(float));
            continue;
        }
        for (int k = 0; k < K; k++) {
            memcpy(dst + (size_t)k * NR, src + (size_t)k * ld, (size_t)cols * sizeof(float));
            for (int c = cols; c < NR; c++) dst[(size_t)k * NR + c] = 0.0f;
        }
    }
}

static void pack_bf16_panels(PackedMat *p, int j0, int j1) {
    bf16_pack_panels((uint32_t *)p->panels, p->src, p->ld, p->K, p->N, p->transposed, j0, j1);
}

/* bf16 panels hold ⌈K/2⌉ rows of 32-bit pairs: they fit where the float panels do. */
static void pack(PackedMat *p, PackPanels fp32) {
    p->NR = panel_width(packed_kernel());
    p->bf16 = active_precision == PACK_BF16 && p->NR == 32;
    if (!p->NR || !fits(p, p->bf16 ? (p->K + 1) / 2 : p->K, p->N, p->NR)) {
        p->NR = 0, p->bf16 = 0;   /* no room (or no kernel): the BLAS path reads W directly */
        return;
    }
    pack_all(p, p->bf16 ? pack_bf16_panels : fp32);
}

void packed_set_transposed(PackedMat *p, const float *W, int ld, int N, int K) {
    p->K = K, p->N = N, p->src = W, p->ld = ld, p->transposed = 1, p->in_place = 0, p->src2 = NULL;
    pack(p, pack_transposed_panels);
}

void packed_set(PackedMat *p, const float *W, int ld, int K, int N) {
    p->K = K, p->N = N, p->src = W, p->ld = ld, p->transposed = 0, p->in_place = 0, p->src2 = NULL;
    pack(p, pack_panels);
}

/* P = W for one product of M rows: with the AVX-512 kernel in fp32, when the product is small
 * (M and K at most IN_PLACE_MAX), its full panels are read from W in place, row k at W + k·ld.
 * A panel's 32 floats are contiguous in W already: packing only gathers them, a pass over all
 * of W shared out by panels — so where the product is then split by rows (a narrow P, or A
 * given transposed) each thread also reads half the packed panels from the other core's
 * cache — and in a small product that pass is a large share of the time. Only a last partial
 * panel is packed, zero-padded, so that no load runs past W's rows. Measured (`sgemm_rate
 * --threads 2`, medians of 5, packed → in place): ae_deep's products 192 → 203 GFLOP/s, the
 * 784-512-128-512-784 autoencoder's 175 → 201; `bench/ab.sh`, both orders, ae_shallow
 * 1.02–1.06×, ae_deep 1.01–1.07×.
 * The recurrent layers' one-off products span T·B = 2048 rows (M or K): in place, their
 * operands come strided from L3 more than once, and training measured 1–4 % slower (lstm_h512,
 * gru_h256) though the products alone ran faster — they stay packed. The same products, so
 * the same bits. */
enum { IN_PLACE_MAX = 1024 };
/* Whether a product of M rows over K, with panels NR wide, reads its full panels in place. */
static int reads_in_place(int M, int K, int NR) {
    return M >= 2 && M <= IN_PLACE_MAX && K <= IN_PLACE_MAX && NR == 32 && active_precision == PACK_FP32;
}

static void packed_set_in_place(PackedMat *p, const float *W, int ld, int K, int N, int M) {
    int NR = panel_width(packed_kernel());
    if (!reads_in_place(M, K, NR) || !fits(p, K, N, NR)) {
        packed_set(p, W, ld, K, N);
        return;
    }
    p->K = K, p->N = N, p->src = W, p->ld = ld, p->transposed = 0, p->in_place = 1, p->NR = NR, p->bf16 = 0;
    p->src2 = NULL;
    if (N % NR) pack_panels(p, N / NR, N / NR + 1);
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

/* The tile's body; row k of the panel at panel + k·bs (bs = 32 packed, the source's row stride
 * when the panel is read in place: PackedMat.in_place). */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel_avx512_body(float *C, int ldc, const float *const *a, size_t cs, const float *panel, size_t bs, int K,
                   int ncols, int mrows, float beta) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
    TILE_PREFETCH(C, ldc, mrows, 32)
    Z_DECL(0) Z_DECL(1) Z_DECL(2) Z_DECL(3) Z_DECL(4) Z_DECL(5) Z_DECL(6) Z_DECL(7)
    size_t off = 0;
    for (int k = 0; k < K; k++, off += cs) {
        __m512 b0 = _mm512_loadu_ps(panel + (size_t)k * bs);
        __m512 b1 = _mm512_loadu_ps(panel + (size_t)k * bs + 16);
        Z_STEP(0) Z_STEP(1) Z_STEP(2) Z_STEP(3) Z_STEP(4) Z_STEP(5) Z_STEP(6) Z_STEP(7)
    }
    TILE_MASKS(ncols)
    TILE_STORE(0) TILE_STORE(1) TILE_STORE(2) TILE_STORE(3) TILE_STORE(4) TILE_STORE(5) TILE_STORE(6) TILE_STORE(7)
}

__attribute__((target("avx512f"))) static void kernel_avx512(float *C, int ldc, const float *const *a, size_t cs,
                                                             const float *panel, int K, int ncols, int mrows,
                                                             float beta) {
    kernel_avx512_body(C, ldc, a, cs, panel, 32, K, ncols, mrows, beta);
}

__attribute__((target("avx512f"))) static void kernel_avx512_in_place(float *C, int ldc, const float *const *a,
                                                                      size_t cs, const float *panel, size_t bs,
                                                                      int K, int ncols, int mrows, float beta) {
    kernel_avx512_body(C, ldc, a, cs, panel, bs, K, ncols, mrows, beta);
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
        if (full) {                                                                        \
            if (beta != 0.0f) {                                                            \
                c##i##0 = _mm256_add_ps(c##i##0, _mm256_loadu_ps(ci));                     \
                c##i##1 = _mm256_add_ps(c##i##1, _mm256_loadu_ps(ci + 8));                 \
            }                                                                              \
            _mm256_storeu_ps(ci, c##i##0);                                                 \
            _mm256_storeu_ps(ci + 8, c##i##1);                                             \
        } else {                                                                           \
            if (beta != 0.0f) {                                                            \
                c##i##0 = _mm256_add_ps(c##i##0, _mm256_maskload_ps(ci, m0));              \
                c##i##1 = _mm256_add_ps(c##i##1, _mm256_maskload_ps(ci + 8, m1));          \
            }                                                                              \
            _mm256_maskstore_ps(ci, m0, c##i##0);                                          \
            _mm256_maskstore_ps(ci + 8, m1, c##i##1);                                      \
        }                                                                                  \
    }

/* One kernel body for 6, 4 and 2 rows (ROWS applies a macro to each row index): a tile's last
 * rows (M mod 6: a batch of 16 or 32, each 128-row block of a big product) go to the smallest
 * kernel that holds them rather than to the 6-row one with copies of row 0, whose results are
 * thrown away. Every element of C gets the same chain of fused multiply-adds whichever kernel
 * computes it: the same bits. */
#define Y_ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define Y_ROWS4(X) X(0) X(1) X(2) X(3)
#define Y_ROWS2(X) X(0) X(1)
#define Y_APTR(i) const float *a##i = a[i];
#define KERNEL_AVX2(NAME, ROWS)                                                                               \
    __attribute__((target("avx2,fma"))) static void NAME(float *C, int ldc, const float *const *a, size_t cs, \
                                                         const float *panel, int K, int ncols, int mrows,     \
                                                         float beta) {                                        \
        ROWS(Y_APTR)                                                                                          \
        /* C's lines now (tilestore.h): the misses after the k loop were an eighth of the kernel's      \
         * time on the LSTM products */                                                                \
        TILE_PREFETCH(C, ldc, mrows, 16)                                                                      \
        ROWS(Y_DECL)                                                                                          \
        size_t off = 0;                                                                                       \
        for (int k = 0; k < K; k++, off += cs) {                                                              \
            __m256 b0 = _mm256_load_ps(panel + (size_t)k * 16);                                               \
            __m256 b1 = _mm256_load_ps(panel + (size_t)k * 16 + 8);                                           \
            ROWS(Y_STEP)                                                                                      \
        }                                                                                                     \
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                                      \
        __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols), lanes);                                     \
        __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols - 8), lanes);                                 \
        const int full = ncols == 16; /* plain stores: a masked store costs many more µops on AMD */          \
        ROWS(Y_STORE)                                                                                         \
    }

KERNEL_AVX2(kernel_avx2_6, Y_ROWS6)
KERNEL_AVX2(kernel_avx2_4, Y_ROWS4)
KERNEL_AVX2(kernel_avx2_2, Y_ROWS2)

/* A tile of mrows ≤ 6 rows with the smallest kernel that holds them. */
static void kernel_avx2(float *C, int ldc, const float *const *a, size_t cs, const float *panel, int K, int ncols,
                        int mrows, float beta) {
    if (mrows > 4) kernel_avx2_6(C, ldc, a, cs, panel, K, ncols, mrows, beta);
    else if (mrows > 2) kernel_avx2_4(C, ldc, a, cs, panel, K, ncols, mrows, beta);
    else kernel_avx2_2(C, ldc, a, cs, panel, K, ncols, mrows, beta);
}

/* ---- one row against several panels (M = 1: batch-1 steps) ------------------------------- */

/* C[0, panels j..j+n−1] (+)= a (1, kc) · P: the per-element chain of fused multiply-adds of the
 * tile kernels above (zero, then k in order, then + C when beta ≠ 0), so the same bits; but
 * one row instead of a tile whose other rows would be wasted, and up to ROW_PANELS panels at
 * once so that independent chains hide the latency of each fused multiply-add. */
enum { ROW_PANELS = 4 };

__attribute__((target("avx512f"))) static void row_kernel_avx512(float *C, const float *a, size_t cs,
                                                                 const float *panel, size_t panel_stride,
                                                                 int npanels, int K, int ncols_last, float beta) {
    const float *p[ROW_PANELS];
    for (int q = 0; q < ROW_PANELS; q++) p[q] = panel + (q < npanels ? (size_t)q * panel_stride : 0);
    __m512 c[ROW_PANELS][2];
    for (int q = 0; q < ROW_PANELS; q++) c[q][0] = c[q][1] = _mm512_setzero_ps();
    size_t off = 0;
    for (int k = 0; k < K; k++, off += cs) {
        __m512 av = _mm512_set1_ps(a[off]);
        for (int q = 0; q < ROW_PANELS; q++) {
            c[q][0] = _mm512_fmadd_ps(av, _mm512_load_ps(p[q] + (size_t)k * 32), c[q][0]);
            c[q][1] = _mm512_fmadd_ps(av, _mm512_load_ps(p[q] + (size_t)k * 32 + 16), c[q][1]);
        }
    }
    for (int q = 0; q < npanels; q++) {
        int ncols = q == npanels - 1 ? ncols_last : 32;
        TILE_MASKS(ncols)
        float *cq = C + (size_t)q * 32;
        if (beta != 0.0f) {
            c[q][0] = _mm512_add_ps(c[q][0], _mm512_maskz_loadu_ps(m0, cq));
            c[q][1] = _mm512_add_ps(c[q][1], _mm512_maskz_loadu_ps(m1, cq + 16));
        }
        _mm512_mask_storeu_ps(cq, m0, c[q][0]);
        _mm512_mask_storeu_ps(cq + 16, m1, c[q][1]);
    }
}

__attribute__((target("avx2,fma"))) static void row_kernel_avx2(float *C, const float *a, size_t cs,
                                                                const float *panel, size_t panel_stride, int npanels,
                                                                int K, int ncols_last, float beta) {
    const float *p[ROW_PANELS];
    for (int q = 0; q < ROW_PANELS; q++) p[q] = panel + (q < npanels ? (size_t)q * panel_stride : 0);
    __m256 c[ROW_PANELS][2];
    for (int q = 0; q < ROW_PANELS; q++) c[q][0] = c[q][1] = _mm256_setzero_ps();
    size_t off = 0;
    for (int k = 0; k < K; k++, off += cs) {
        __m256 av = _mm256_broadcast_ss(a + off);
        for (int q = 0; q < ROW_PANELS; q++) {
            c[q][0] = _mm256_fmadd_ps(av, _mm256_load_ps(p[q] + (size_t)k * 16), c[q][0]);
            c[q][1] = _mm256_fmadd_ps(av, _mm256_load_ps(p[q] + (size_t)k * 16 + 8), c[q][1]);
        }
    }
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int q = 0; q < npanels; q++) {
        int ncols = q == npanels - 1 ? ncols_last : 16;
        __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols), lanes);
        __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols - 8), lanes);
        float *cq = C + (size_t)q * 16;
        if (ncols == 16) {   /* plain loads and stores, as in kernel_avx2 */
            if (beta != 0.0f) {
                c[q][0] = _mm256_add_ps(c[q][0], _mm256_loadu_ps(cq));
                c[q][1] = _mm256_add_ps(c[q][1], _mm256_loadu_ps(cq + 8));
            }
            _mm256_storeu_ps(cq, c[q][0]);
            _mm256_storeu_ps(cq + 8, c[q][1]);
            continue;
        }
        if (beta != 0.0f) {
            c[q][0] = _mm256_add_ps(c[q][0], _mm256_maskload_ps(cq, m0));
            c[q][1] = _mm256_add_ps(c[q][1], _mm256_maskload_ps(cq + 8, m1));
        }
        _mm256_maskstore_ps(cq, m0, c[q][0]);
        _mm256_maskstore_ps(cq + 8, m1, c[q][1]);
    }
}

/* M = 1: panels [j0, j1) ROW_PANELS at a time, k in slices of KC as in run_kernels. */
static void run_row_kernels(float *C, const float *A, size_t cs, const PackedMat *p, float beta, int j0, int j1) {
    const int K = p->K, N = p->N, NR = p->NR;
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC;
        float b = k0 == 0 ? beta : 1.0f;
        for (int j = j0; j < j1; j += ROW_PANELS) {
            int n = j1 - j < ROW_PANELS ? j1 - j : ROW_PANELS, last = j + n - 1;
            int ncols_last = N - last * NR < NR ? N - last * NR : NR;
            const float *panel = p->panels + (size_t)j * K * NR + (size_t)k0 * NR;
            if (NR == 32)
                row_kernel_avx512(C + (size_t)j * NR, A + (size_t)k0 * cs, cs, panel, (size_t)K * NR, n, kc, ncols_last, b);
            else
                row_kernel_avx2(C + (size_t)j * NR, A + (size_t)k0 * cs, cs, panel, (size_t)K * NR, n, kc, ncols_last, b);
        }
    }
}

/* Floats between the starts of two tiles of a packed A block: kc·MR plus a line of padding.
 * Unpadded, the tiles lie 8 KB apart (kc = 256, MR = 8) and the stores that fill them fall in
 * one L1 set. */
static size_t a_tile_stride(int kc, int MR) { return (size_t)kc * MR + 16; }

/* Tile rows [m0, m0 + mrows) of a packed group of k (kn of them, MR values per k at d): each row's
 * values added to its sum in k order — the order of one loop over k, so the same bits. */
static void add_tile_sums(const ASums *s, const float *d, int m0, int mrows, int kn, int MR) {
    if (MR == 8 && mrows == 8 && m0 >= s->m0) {   /* a whole tile: 8 sums side by side */
        float acc[8], *out = s->sums + (m0 - s->m0);
        memcpy(acc, out, sizeof acc);
        for (int k = 0; k < kn; k++)
            for (int i = 0; i < 8; i++) acc[i] += d[(size_t)k * 8 + i];
        memcpy(out, acc, sizeof acc);
        return;
    }
    for (int i = 0; i < mrows; i++) {
        if (m0 + i < s->m0) continue;
        float acc = s->sums[m0 + i - s->m0];
        for (int k = 0; k < kn; k++) acc += d[(size_t)k * MR + i];
        s->sums[m0 + i - s->m0] = acc;
    }
}

/* Rows [mb, mend) × k [k0, k0 + kc) of A into tiles of MR rows, (kc, MR) each, a_tile_stride
 * apart, MR values contiguous per k; a last partial tile repeats its first row (its results are
 * not stored). For A given transposed (rs = 1) each k is one contiguous run of A. With sums,
 * A's row sums are taken from each tile as it is packed (add_tile_sums). */
static void pack_a_block(float *dst, const float *A, size_t rs, size_t cs, int mb, int mend, int k0, int kc, int MR,
                         const ASums *sums) {
    /* 8 rows of A at a time (k_g), tile by tile within them: the reads are 8 runs of MC
     * contiguous values, the stores 8·MR contiguous values per tile. (k by k across all tiles,
     * then tile by tile over all k, cost 2–3× as much on the LSTM and GRU weight gradients.) */
    const size_t stride = a_tile_stride(kc, MR);
    enum { KG = 8 };
    for (int kg = 0; kg < kc; kg += KG) {
        int kend = kc - kg < KG ? kc : kg + KG;
        for (int m0 = mb; m0 < mend; m0 += MR) {
            int mrows = mend - m0 < MR ? mend - m0 : MR;
            float *d = dst + (size_t)((m0 - mb) / MR) * stride;
            const float *src = A + (size_t)k0 * cs;
            /* constant sizes, so the copies are inlined moves rather than a byte loop */
            if (rs == 1 && mrows == 8 && MR == 8)
                for (int k = kg; k < kend; k++) memcpy(d + (size_t)k * 8, src + (size_t)k * cs + m0, 8 * sizeof(float));
            else if (rs == 1 && mrows == 6 && MR == 6)
                for (int k = kg; k < kend; k++) memcpy(d + (size_t)k * 6, src + (size_t)k * cs + m0, 6 * sizeof(float));
            else
                for (int k = kg; k < kend; k++)
                    for (int i = 0; i < MR; i++) d[(size_t)k * MR + i] = src[(size_t)k * cs + (size_t)(m0 + (i < mrows ? i : 0)) * rs];
            if (sums) add_tile_sums(sums, d + (size_t)kg * MR, m0, mrows, kend - kg, MR);
        }
    }
}

/* The blocked loops over column panels [j0, j1). Element (m, k) of A is at A[m·rs + k·cs]. */
static void run_kernels(float *C, int ldc, const float *A, size_t rs, size_t cs, const PackedMat *p, int M,
                        float beta, int j0, int j1, const ASums *sums) {
    const int K = p->K, N = p->N, NR = p->NR, MR = NR == 32 ? 8 : 6;
    const float *rows[8];
    if (p->bf16) {
        bf16_run_kernels(C, ldc, A, rs, cs, (const uint32_t *)p->panels, K, N, M, beta, j0, j1);
        return;
    }
    if (M == 1 && !p->in_place) {   /* (the row kernels read packed panels only) */
        run_row_kernels(C, A, cs, p, beta, j0, j1);
        return;
    }
    /* A given transposed (cs ≠ 1: element (m, k) at A[m + k·cs], the weight gradients' dZᵀ):
     * each k of a tile would touch a new row of A — 4H floats apart, a new page every time, and
     * again for every panel. So each block of A (kc × up to MC rows) is first copied into tiles
     * of MR contiguous values per k (BLIS's packing of A), read by the kernel with stride MR.
     * The same values in the same order of operations: the same bits. */
    /* MC rows in whole tiles: 128 = 16 tiles of 8, but 22 tiles of 6 hold 132; and each tile's padding */
    float a_block[KC * (MC + 8) + 16 * ((MC + 8) / 6)] __attribute__((aligned(64)));
    const int pack_a = cs != 1;
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC;
        float b = k0 == 0 ? beta : 1.0f;          /* later k slices add to the first */
        for (int mb = 0; mb < M; mb += MC) {
            int mend = M - mb < MC ? M : mb + MC;
            if (pack_a) pack_a_block(a_block, A, rs, cs, mb, mend, k0, kc, MR, sums);
            for (int j = j0; j < j1; j++) {
                const float *panel = p->panels + (size_t)j * K * NR + (size_t)k0 * NR;
                int ncols = N - j * NR < NR ? N - j * NR : NR;
                /* a full panel read in place: row k of it is row k0 + k of its source (one
                 * across the two operands of a pair was packed) */
                int src_ld = 0;
                const float *in_place = p->in_place && ncols == NR ? columns_at(p, j * NR, NR, &src_ld) : NULL;
                const int panel_in_place = in_place != NULL;
                if (panel_in_place) panel = in_place + (size_t)k0 * src_ld;
                for (int m0 = mb; m0 < mend; m0 += MR) {
                    int mrows = mend - m0 < MR ? mend - m0 : MR;
                    size_t a_cs = cs;
                    if (pack_a) {
                        for (int i = 0; i < MR; i++) rows[i] = a_block + (size_t)((m0 - mb) / MR) * a_tile_stride(kc, MR) + i;
                        a_cs = (size_t)MR;
                    } else {
                        for (int i = 0; i < MR; i++)
                            rows[i] = A + (size_t)(m0 + (i < mrows ? i : 0)) * rs + (size_t)k0 * cs;
                    }
                    float *Ct = C + (size_t)m0 * ldc + (size_t)j * NR;
                    if (panel_in_place) kernel_avx512_in_place(Ct, ldc, rows, a_cs, panel, (size_t)src_ld, kc, ncols, mrows, b);
                    else if (NR == 32) kernel_avx512(Ct, ldc, rows, a_cs, panel, kc, ncols, mrows, b);
                    else kernel_avx2(Ct, ldc, rows, a_cs, panel, kc, ncols, mrows, b);
                }
            }
        }
    }
}

typedef struct KernelJob {
    float *C;
    int ldc;
    const float *A;
    size_t rs, cs;
    const PackedMat *p;
    int M;
    float beta;
    int by_rows;   /* 1: parts take ranges of rows of C; 0: ranges of column panels */
    const PkEpilogue *then;
    const ASums *sums;   /* NULL, or A's row sums to take while packing it */
} KernelJob;

static void kernel_part(void *ctx, int part, int parts) {
    const KernelJob *job = ctx;
    int panels = (job->p->N + job->p->NR - 1) / job->p->NR, b, e;
    if (job->by_rows) {
        par_range(job->M, part, parts, 8, &b, &e);
        /* this part's rows [b, e) are its rows 0.. : the sums' first row and index moved along */
        ASums mine, *sums = NULL;
        if (job->sums) {
            int m0 = job->sums->m0;
            mine = b >= m0 ? (ASums){job->sums->sums + (b - m0), 0} : (ASums){job->sums->sums, m0 - b};
            sums = &mine;
        }
        run_kernels(job->C + (size_t)b * job->ldc, job->ldc, job->A + (size_t)b * job->rs, job->rs, job->cs, job->p,
                    e - b, job->beta, 0, panels, sums);
        if (job->then) job->then->fn(job->then->ctx, job->C, job->ldc, b, e, 0, job->p->N);
    } else {
        /* whole 32-column blocks (two AVX2 panels): an epilogue's blocks then start at a multiple
         * of 32 columns whatever the kernel (loss.h's fused loss sums in units of 32 columns).
         * Every part packs all of A (an empty range too): part 0 alone takes the sums. */
        par_range(panels, part, parts, 32 / job->p->NR, &b, &e);
        run_kernels(job->C, job->ldc, job->A, job->rs, job->cs, job->p, job->M, job->beta, b, e,
                    part == 0 ? job->sums : NULL);
        int n1 = e * job->p->NR < job->p->N ? e * job->p->NR : job->p->N;
        if (job->then && b < e) job->then->fn(job->then->ctx, job->C, job->ldc, 0, job->M, b * job->p->NR, n1);
    }
}

/* All panels, shared out over the threads when the product is big enough: by column panels
 * (each thread reads part of P), or by rows — when P has few panels to share (a narrow product
 * such as the softmax head's 96 columns), when they do not share out evenly (784 columns are
 * 25 panels: 13 against 12, the last one half full but as slow, and the thread with 12 waited
 * for the other), or when A comes transposed (the weight gradients' dZᵀ): run_kernels packs
 * A, and split by panels every thread would pack all of it. */
static void run_kernels_parallel(float *C, int ldc, const float *A, size_t rs, size_t cs, const PackedMat *p,
                                 int M, float beta, const PkEpilogue *then, const ASums *sums) {
    int panels = (p->N + p->NR - 1) / p->NR, threads = par_threads(), grains = (panels * p->NR + 31) / 32;
    int uneven = grains % threads != 0 && grains < 32 * threads;
    int by_rows = (panels < 4 * threads || uneven || cs != 1) && M >= 64 * threads;
    int parts = par_parts_for(2.0 * M * (double)p->N * p->K, by_rows ? M / 8 : panels);
    if (parts < 2) {
        run_kernels(C, ldc, A, rs, cs, p, M, beta, 0, panels, sums);
        if (then) then->fn(then->ctx, C, ldc, 0, M, 0, p->N);
        return;
    }
    KernelJob job = {C, ldc, A, rs, cs, p, M, beta, by_rows, then, sums};
    par_run(kernel_part, &job, parts);
}

#endif

/* C = beta C when there is nothing to sum (K = 0). */
static void scale_only(float *C, int ldc, int M, int N, float beta) {
    if (beta != 0.0f) return;
    for (int m = 0; m < M; m++) memset(C + (size_t)m * ldc, 0, (size_t)N * sizeof(float));
}

/* packed_gemm, then `then` over C (may be NULL). */
static void packed_gemm_then(float *C, int ldc, const float *A, int lda, const PackedMat *p, int M, float beta,
                             const PkEpilogue *then) {
    if (M <= 0 || p->N <= 0) return;
    if (p->K == 0) scale_only(C, ldc, M, p->N, beta);
#if PACK_X86
    else if (p->NR) {
        run_kernels_parallel(C, ldc, A, (size_t)lda, 1, p, M, beta, then, NULL);
        return;
    }
#endif
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, p->transposed ? CblasTrans : CblasNoTrans, M, p->N, p->K, 1.0f, A,
                    lda, p->src, p->ld, beta, C, ldc);
    if (then) then->fn(then->ctx, C, ldc, 0, M, 0, p->N);
}

void packed_gemm(float *C, int ldc, const float *A, int lda, const PackedMat *p, int M, float beta) {
    packed_gemm_then(C, ldc, A, lda, p, M, beta, NULL);
}

void packed_gemm_cols(float *C, int ldc, const float *A, int lda, const PackedMat *p, int M, float beta, int n0,
                      int n1) {
    if (M <= 0 || n1 <= n0) return;
    if (p->K == 0) {
        scale_only(C + n0, ldc, M, n1 - n0, beta);
        return;
    }
#if PACK_X86
    if (p->NR) {
        run_kernels(C, ldc, A, (size_t)lda, 1, p, M, beta, n0 / p->NR, (n1 + p->NR - 1) / p->NR, NULL);
        return;
    }
#endif
    const float *B = p->transposed ? p->src + (size_t)n0 * p->ld : p->src + n0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, p->transposed ? CblasTrans : CblasNoTrans, M, n1 - n0, p->K, 1.0f, A,
                lda, B, p->ld, beta, C + n0, ldc);
}

int packed_unit_split(const PackedMat *p, int B, int H, int G) {
    if (p->NR && H % p->NR != 0) return 1;
    return par_parts_for(2.0 * B * (double)G * H * H, H / PACK_UNIT_GRAIN);
}

/* sums[m − m0] += Σ_k At[k, m] for m in [m0, M), k in order: the loop the packed path's sums
 * equal, for the paths that do not pack A (BLAS, bf16, one row). */
static void row_sums_plain(float *sums, int m0, const float *At, int lda, int M, int K) {
    for (int k = 0; k < K; k++)
        for (int m = m0; m < M; m++) sums[m - m0] += At[(size_t)k * lda + m];
}

/* packed_gemm_at, and with sums (may be NULL) A's row sums as pk_gemm_tn_sums gives them. */
static void packed_gemm_at_sums(float *C, int ldc, const float *At, int lda, const PackedMat *p, int M, float beta,
                                const ASums *sums) {
    if (M <= 0 || p->N <= 0) return;
    if (p->K == 0) {
        scale_only(C, ldc, M, p->N, beta);
        return;
    }
#if PACK_X86
    if (p->NR) {
        /* the packed path packs A unless bf16 or one row (run_kernels) */
        int packs_a = !p->bf16 && !(M == 1 && !p->in_place);
        run_kernels_parallel(C, ldc, At, 1, (size_t)lda, p, M, beta, NULL, packs_a ? sums : NULL);
        if (sums && !packs_a) row_sums_plain(sums->sums, sums->m0, At, lda, M, p->K);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasTrans, p->transposed ? CblasTrans : CblasNoTrans, M, p->N, p->K, 1.0f, At, lda,
                p->src, p->ld, beta, C, ldc);
    if (sums) row_sums_plain(sums->sums, sums->m0, At, lda, M, p->K);
}

void packed_gemm_at(float *C, int ldc, const float *At, int lda, const PackedMat *p, int M, float beta) {
    packed_gemm_at_sums(C, ldc, At, lda, p, M, beta, NULL);
}

void pk_gemm_nt(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws) {
    pk_gemm_nt_then(C, ldc, A, lda, B, ldb, M, N, K, beta, ws, NULL);
}

void pk_gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws) {
    pk_gemm_nn_then(C, ldc, A, lda, B, ldb, M, N, K, beta, ws, NULL);
}

/* ---- C = A · Bᵀ as Cᵀ = B · Aᵀ: a small batch against a big weight matrix --------------------
 *
 * A dense layer's forward product out (M, N) = in (M, K) · W (N, K)ᵀ packs Wᵀ, all N·K floats
 * transposed, at every step; with a batch of 64 that transposing took 8 % of a 784-1024-784
 * autoencoder's step (perf, 2 threads), as much as a fifth of the product itself. Swapped, W is
 * the left operand, which the kernels read in place row by row, and only inᵀ (M·K floats) is
 * packed; the result comes out transposed, outᵀ (N, M) in the workspace after the packed
 * panels, and each thread transposes its own units into C and runs the epilogue on them while
 * they are in its cache. Each element gets the same fused multiply-adds in the same order
 * (a·b = b·a in every product, the same KC slices): the same bits as the packed path, for
 * beta 0 (with beta 1, C + (s₁ + s₂) would differ from (C + s₁) + s₂ when K spans slices). */
#if PACK_X86
/* Floats of the workspace the swapped product uses: the panels of inᵀ, then outᵀ. */
static size_t swapped_floats(int M, int N, int K) { return (size_t)K * (size_t)((M + 31) / 32) * 32 + (size_t)N * M; }

/* Swapped, a product moves M·(K + N) floats (inᵀ packed, outᵀ transposed) instead of the N·K of
 * Wᵀ: it pays where that is at most half (`sgemm_rate`, 2 threads, the products alone, in GFLOP/s
 * packed → swapped: 784-1024-784 at batch 64, a tenth of the floats, 182 → 214 and 146 → 196; a
 * 784-512 layer at batch 256, 0.83 of them, 207–216 → 179–214; a character LSTM's head 768 → 96
 * over 512 rows, 6 times as many, 163–212 → 97–141). */
static int nt_swap_pays(int M, int N, int K) {
    return M >= 2 && 2.0 * M * ((double)K + N) <= (double)N * K;
}
#endif

size_t pk_gemm_nt_room(int M, int N, int K) {
    size_t packed = (size_t)K * (size_t)((N + 31) / 32) * 32;
#if PACK_X86
    if (nt_swap_pays(M, N, K) && swapped_floats(M, N, K) > packed) return swapped_floats(M, N, K);
#endif
    return packed;
}
#if PACK_X86

typedef struct SwapJob {
    float *C;
    int ldc;
    const float *W;   /* (N, K), row stride ldw: the left operand */
    int ldw;
    const PackedMat *p;   /* inᵀ (K, M) */
    float *Ct;        /* outᵀ (N, M), row stride M */
    int M, N;
    const PkEpilogue *then;
} SwapJob;

/* C[r, u] = Ct[u, r] for units [u0, u1) and all M rows: 8 × 8 blocks in registers, the edges
 * element by element. */
static void transpose_out(float *C, int ldc, const float *Ct, int M, int u0, int u1) {
    int u = u0;
    for (; u + 8 <= u1; u += 8) {
        int r = 0;
        for (; r + 8 <= M; r += 8) transpose8x8(C + (size_t)r * ldc + u, ldc, Ct + (size_t)u * M + r, M);
        for (; r < M; r++)
            for (int i = 0; i < 8; i++) C[(size_t)r * ldc + u + i] = Ct[(size_t)(u + i) * M + r];
    }
    for (; u < u1; u++)
        for (int r = 0; r < M; r++) C[(size_t)r * ldc + u] = Ct[(size_t)u * M + r];
}

/* Units [u0, u1) of this part (multiples of 32, so the epilogue's blocks start where
 * packgemm.h promises): their rows of outᵀ, then their columns of C, then the epilogue. */
static void swapped_part(void *ctx, int part, int parts) {
    const SwapJob *job = ctx;
    int u0, u1;
    par_range(job->N, part, parts, 32, &u0, &u1);
    if (u0 >= u1) return;
    int panels = (job->M + job->p->NR - 1) / job->p->NR;
    run_kernels(job->Ct + (size_t)u0 * job->M, job->M, job->W + (size_t)u0 * job->ldw, (size_t)job->ldw, 1, job->p,
                u1 - u0, 0.0f, 0, panels, NULL);
    transpose_out(job->C, job->ldc, job->Ct, job->M, u0, u1);
    if (job->then) job->then->fn(job->then->ctx, job->C, job->ldc, 0, job->M, u0, u1);
}

static void gemm_nt_swapped(float *C, int ldc, const float *A, int lda, const float *W, int ldw, int M, int N, int K,
                            PackedMat *ws, const PkEpilogue *then) {
    packed_set_transposed(ws, A, lda, M, K);   /* P = inᵀ (K, M) */
    float *Ct = ws->panels + (size_t)K * (size_t)((M + 31) / 32) * 32;
    SwapJob job = {C, ldc, W, ldw, ws, Ct, M, N, then};
    par_run(swapped_part, &job, par_parts_for(2.0 * M * (double)N * K, (N + 31) / 32));
}
#endif

void pk_gemm_nt_then(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                     float beta, PackedMat *ws, const PkEpilogue *then) {
#if PACK_X86
    if (K > 0 && N > 0 && beta == 0.0f && packed_kernel() == PACK_KERNEL_AVX512 && active_precision == PACK_FP32 &&
        nt_swap_pays(M, N, K) && swapped_floats(M, N, K) <= ws->cap) {
        gemm_nt_swapped(C, ldc, A, lda, B, ldb, M, N, K, ws, then);
        return;
    }
#endif
    packed_set_transposed(ws, B, ldb, N, K);
    packed_gemm_then(C, ldc, A, lda, ws, M, beta, then);
}

void pk_gemm_nn_then(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                     float beta, PackedMat *ws, const PkEpilogue *then) {
    packed_set_in_place(ws, B, ldb, K, N, M);
    packed_gemm_then(C, ldc, A, lda, ws, M, beta, then);
}

void pk_gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws) {
    packed_set_in_place(ws, B, ldb, K, N, M);
    packed_gemm_at(C, ldc, A, lda, ws, M, beta);
}

void pk_gemm_tn_sums(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                     float beta, PackedMat *ws, float *sums, int m0) {
    packed_set_in_place(ws, B, ldb, K, N, M);
    ASums s = {sums, m0};
    if (K > 0 && N <= 0) row_sums_plain(sums, m0, A, lda, M, K);   /* no product to ride on */
    packed_gemm_at_sums(C, ldc, A, lda, ws, M, beta, K > 0 && N > 0 ? &s : NULL);
}

void pk_gemm_tn_pair_sums(float *C, int ldc, const float *A, int lda, const float *B1, int ldb1, int N1,
                          const float *B2, int ldb2, int N2, int M, int K, float beta, PackedMat *ws, float *sums,
                          int m0) {
    int NR = panel_width(packed_kernel()), N = N1 + N2;
    if (!NR || active_precision != PACK_FP32 || N1 <= 0 || N2 <= 0 || K <= 0 || !fits(ws, K, N, NR)) {
        if (sums) pk_gemm_tn_sums(C, ldc, A, lda, B1, ldb1, M, N1, K, beta, ws, sums, m0);
        else pk_gemm_tn(C, ldc, A, lda, B1, ldb1, M, N1, K, beta, ws);
        pk_gemm_tn(C + N1, ldc, A, lda, B2, ldb2, M, N2, K, beta, ws);
        return;
    }
    /* as packed_set_in_place / packed_set, with the second operand beside the first */
    ws->K = K, ws->N = N, ws->src = B1, ws->ld = ldb1, ws->src2 = B2, ws->ld2 = ldb2, ws->N1 = N1;
    ws->transposed = 0, ws->bf16 = 0, ws->NR = NR;
    ws->in_place = reads_in_place(M, K, NR);
    if (!ws->in_place) pack_all(ws, pack_panels);
    else
        for (int j = 0; j < (N + NR - 1) / NR; j++) {   /* the panels that cannot be read in place */
            int cols = N - j * NR < NR ? N - j * NR : NR, ld;
            if (cols < NR || !columns_at(ws, j * NR, NR, &ld)) pack_panels(ws, j, j + 1);
        }
    ASums s = {sums, m0};
    packed_gemm_at_sums(C, ldc, A, lda, ws, M, beta, sums ? &s : NULL);
}
