/* tilestore.h — how the AVX-512 micro-kernels (packgemm.c's fp32, bf16gemm.c's bf16) write a
 * tile of C: row i's 32 accumulators c<i>0, c<i>1 (two zmm of 16 floats), masked to the tile's
 * ncols columns, added to C when beta ≠ 0, rows past mrows not written. Macros, so that each
 * kernel keeps its accumulators in registers; the caller has C, ldc, beta, mrows in scope and
 * declares the two column masks with TILE_MASKS(ncols). Include after <immintrin.h>. */
#ifndef EXPRUN_TILESTORE_H
#define EXPRUN_TILESTORE_H

#define TILE_MASKS(ncols)                                                                          \
    __mmask16 m0 = (ncols) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (ncols)) - 1u);          \
    __mmask16 m1 = (ncols) >= 32 ? (__mmask16)0xFFFF                                              \
                   : (ncols) > 16 ? (__mmask16)((1u << ((ncols) - 16)) - 1u) : (__mmask16)0;

#define TILE_STORE(i)                                                                      \
    if (i < mrows) {                                                                       \
        float *ci = C + (size_t)(i) * ldc;                                                 \
        if (beta != 0.0f) {                                                                \
            c##i##0 = _mm512_add_ps(c##i##0, _mm512_maskz_loadu_ps(m0, ci));               \
            c##i##1 = _mm512_add_ps(c##i##1, _mm512_maskz_loadu_ps(m1, ci + 16));          \
        }                                                                                  \
        _mm512_mask_storeu_ps(ci, m0, c##i##0);                                            \
        _mm512_mask_storeu_ps(ci + 16, m1, c##i##1);                                       \
    }

#endif
