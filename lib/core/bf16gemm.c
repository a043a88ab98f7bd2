/* bf16gemm.c — products in bfloat16 with fp32 accumulation (see bf16gemm.h and packgemm.h).
 *
 * Layouts, in 32-bit units (one bf16 pair each):
 *   panel j of P (K, N), KP = ⌈K/2⌉ pairs:  panels32[j·KP·32 + q·32 + c] = (P[2q, n], P[2q+1, n]),
 *                                           n = j·32 + c; zero past N and past K.
 *   a block of A, rows [mb, mend) × k [k0, k0 + kc), qc = ⌈kc/2⌉ pairs:
 *     A row-major (cs = 1):   block[(m − mb)·qc + q]       (each row's pairs contiguous)
 *     A transposed (rs = 1):  block[q·MC + (m − mb)]       (each pair's rows contiguous)
 * The micro-kernel: MR 8 rows × NR 32 columns, 16 zmm accumulators; per pair q it loads the
 * panel's two vectors (16 columns × 2 k each), broadcasts each row's pair and does 16 vdpbf16ps.
 * Blocking as in packgemm.c: 256 k per slice (128 pairs; a panel slice is 16 KB of L1), 128 rows
 * per A block. Each element of C is computed by one thread, in one order: the same bits for
 * every thread count. */
#include "bf16gemm.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BF16_X86 1
#include <immintrin.h>

#include "tilestore.h"
#else
#define BF16_X86 0
#endif

enum { NR = 32, MR = 8, KC = 256, QC = KC / 2, MC = 128 };

int bf16_cpu_supported(void) {
#if BF16_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

uint16_t bf16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);       /* zero, denormal: ±0 */
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); /* NaN: quiet */
    u += 0x7fffu + ((u >> 16) & 1u);                                              /* to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#if BF16_X86

__attribute__((target("avx512f,avx512bf16"))) static void convert_avx512(uint16_t *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
    for (; i < n; i++) dst[i] = bf16_from_float(src[i]);
}

/* 16 pairs (r0[i], r1[i]) as 32-bit units; r1 NULL: (r0[i], 0). */
__attribute__((target("avx512f,avx512bf16"))) static inline __m512i pairs16(const float *r0, const float *r1) {
    __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(r0)));
    if (!r1) return lo;
    __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(r1)));
    return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
}

static inline uint32_t pair(const float *r0, const float *r1, size_t i) {
    return (uint32_t)bf16_from_float(r0[i]) | (r1 ? (uint32_t)bf16_from_float(r1[i]) << 16 : 0u);
}

/* n pairs (r0[i], r1[i]) into dst[i]. */
__attribute__((target("avx512f,avx512bf16"))) static void pairs_avx512(uint32_t *dst, const float *r0,
                                                                       const float *r1, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_si512(dst + i, pairs16(r0 + i, r1 ? r1 + i : NULL));
    for (; i < n; i++) dst[i] = pair(r0, r1, (size_t)i);
}

void bf16_convert(uint16_t *dst, const float *src, size_t n) {
    if (bf16_cpu_supported()) {
        convert_avx512(dst, src, n);
        return;
    }
    for (size_t i = 0; i < n; i++) dst[i] = bf16_from_float(src[i]);
}

void bf16_pack_panels(uint32_t *panels, const float *W, int ld, int K, int N, int transposed, int j0, int j1) {
    const int KP = (K + 1) / 2;
    for (int j = j0; j < j1; j++) {
        uint32_t *dst = panels + (size_t)j * KP * NR;
        int cols = N - j * NR < NR ? N - j * NR : NR;
        if (!transposed) {
            /* P = W (K, N): a pair is two rows of W, 32 columns at a time */
            for (int q = 0; q < KP; q++) {
                const float *r0 = W + (size_t)(2 * q) * ld + (size_t)j * NR;
                const float *r1 = 2 * q + 1 < K ? r0 + ld : NULL;
                uint32_t *d = dst + (size_t)q * NR;
                pairs_avx512(d, r0, r1, cols);
                if (cols < NR) memset(d + cols, 0, (size_t)(NR - cols) * sizeof *d);
            }
            continue;
        }
        /* P = Wᵀ, W (N, K): column n of P is row n of W, whose consecutive values are the pairs */
        uint16_t row[KC + 2];
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = K - k0 < KC ? K - k0 : KC, qc = (kc + 1) / 2;
            for (int c = 0; c < NR; c++) {
                uint32_t *d = dst + (size_t)(k0 / 2) * NR + c;
                if (c >= cols) {
                    for (int q = 0; q < qc; q++) d[(size_t)q * NR] = 0;
                    continue;
                }
                convert_avx512(row, W + (size_t)(j * NR + c) * ld + k0, (size_t)kc);
                row[kc] = 0;
                for (int q = 0; q < qc; q++) d[(size_t)q * NR] = (uint32_t)row[2 * q] | (uint32_t)row[2 * q + 1] << 16;
            }
        }
    }
}

/* Rows [mb, mend) × k [k0, k0 + kc) of A into the block, in the layout for A's form. */
static void convert_block(uint32_t *block, const float *A, size_t rs, size_t cs, int mb, int mend, int k0, int kc) {
    int qc = (kc + 1) / 2;
    if (cs == 1) {
        for (int m = mb; m < mend; m++) {
            uint16_t *d = (uint16_t *)(block + (size_t)(m - mb) * qc);
            convert_avx512(d, A + (size_t)m * rs + k0, (size_t)kc);
            if (kc & 1) d[kc] = 0;
        }
        return;
    }
    for (int q = 0; q < qc; q++) {
        const float *r0 = A + (size_t)(k0 + 2 * q) * cs + mb;
        const float *r1 = 2 * q + 1 < kc ? r0 + cs : NULL;
        pairs_avx512(block + (size_t)q * MC, r0, r1, mend - mb);
    }
}

#define B_STEP(i)                                                                  \
    {                                                                              \
        __m512bh av = (__m512bh)_mm512_set1_epi32((int)a##i[off]);                 \
        c##i##0 = _mm512_dpbf16_ps(c##i##0, av, b0);                               \
        c##i##1 = _mm512_dpbf16_ps(c##i##1, av, b1);                               \
    }

/* C tile (mrows ≤ 8, ncols ≤ 32) (+)= Σ_q pairs of A's rows · the panel's pairs, over qc pairs. */
__attribute__((target("avx512f,avx512bf16"))) static void kernel_bf16(float *C, int ldc, const uint32_t *const *a,
                                                                      size_t cs, const uint32_t *panel, int qc,
                                                                      int ncols, int mrows, float beta) {
    const uint32_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
    TILE_PREFETCH(C, ldc, mrows, 32)
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    size_t off = 0;
    for (int q = 0; q < qc; q++, off += cs) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(panel + (size_t)q * NR);
        __m512bh b1 = (__m512bh)_mm512_load_si512(panel + (size_t)q * NR + 16);
        B_STEP(0) B_STEP(1) B_STEP(2) B_STEP(3) B_STEP(4) B_STEP(5) B_STEP(6) B_STEP(7)
    }
    TILE_MASKS(ncols)
    TILE_STORE(0) TILE_STORE(1) TILE_STORE(2) TILE_STORE(3) TILE_STORE(4) TILE_STORE(5) TILE_STORE(6) TILE_STORE(7)
}

void bf16_run_kernels(float *C, int ldc, const float *A, size_t rs, size_t cs, const uint32_t *panels, int K, int N,
                      int M, float beta, int j0, int j1) {
    const int KP = (K + 1) / 2;
    uint32_t block[QC * MC] __attribute__((aligned(64)));
    const uint32_t *rows[MR];
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC, qc = (kc + 1) / 2;
        float b = k0 == 0 ? beta : 1.0f;   /* later k slices add to the first */
        for (int mb = 0; mb < M; mb += MC) {
            int mend = M - mb < MC ? M : mb + MC;
            convert_block(block, A, rs, cs, mb, mend, k0, kc);
            size_t a_cs = cs == 1 ? 1 : (size_t)MC;
            for (int j = j0; j < j1; j++) {
                const uint32_t *panel = panels + (size_t)j * KP * NR + (size_t)(k0 / 2) * NR;
                int ncols = N - j * NR < NR ? N - j * NR : NR;
                for (int m0 = mb; m0 < mend; m0 += MR) {
                    int mrows = mend - m0 < MR ? mend - m0 : MR;
                    for (int i = 0; i < MR; i++) {
                        int m = m0 + (i < mrows ? i : 0) - mb;
                        rows[i] = cs == 1 ? block + (size_t)m * qc : block + m;
                    }
                    kernel_bf16(C + (size_t)m0 * ldc + (size_t)j * NR, ldc, rows, a_cs, panel, qc, ncols, mrows, b);
                }
            }
        }
    }
}

#else   /* no x86: bf16_cpu_supported() is 0 and packgemm never calls these */

void bf16_convert(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_from_float(src[i]);
}
void bf16_pack_panels(uint32_t *panels, const float *W, int ld, int K, int N, int transposed, int j0, int j1) {
    (void)panels, (void)W, (void)ld, (void)K, (void)N, (void)transposed, (void)j0, (void)j1;
}
void bf16_run_kernels(float *C, int ldc, const float *A, size_t rs, size_t cs, const uint32_t *panels, int K, int N,
                      int M, float beta, int j0, int j1) {
    (void)C, (void)ldc, (void)A, (void)rs, (void)cs, (void)panels, (void)K, (void)N, (void)M, (void)beta, (void)j0,
        (void)j1;
}

#endif
