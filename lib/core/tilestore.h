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

/* C's rows lie a row of the output apart (often kilobytes) and are touched only after the
 * k loop: asking for the lines of a tile's rows (`cols` floats each: every 16th float and the
 * last, so a row that straddles a line boundary is covered) before it lets the loop hide the
 * misses. Used by the AVX2 kernel (16 columns) too. */
#define TILE_PREFETCH(C, ldc, mrows, cols)                                                         \
    for (int i_ = 0; i_ < (mrows); i_++) {                                                         \
        for (int q_ = 0; q_ < (cols); q_ += 16) __builtin_prefetch((C) + (size_t)i_ * (ldc) + q_, 1, 3); \
        __builtin_prefetch((C) + (size_t)i_ * (ldc) + (cols) - 1, 1, 3);                           \
    }

/* A full tile (32 columns) is written with plain loads and stores, an edge tile masked. */
#define TILE_STORE(i)                                                                      \
    if (i < mrows) {                                                                       \
        float *ci = C + (size_t)(i) * ldc;                                                 \
        if (ncols == 32) {                                                                 \
            if (beta != 0.0f) {                                                            \
                c##i##0 = _mm512_add_ps(c##i##0, _mm512_loadu_ps(ci));                     \
                c##i##1 = _mm512_add_ps(c##i##1, _mm512_loadu_ps(ci + 16));                \
            }                                                                              \
            _mm512_storeu_ps(ci, c##i##0);                                                 \
            _mm512_storeu_ps(ci + 16, c##i##1);                                            \
        } else {                                                                           \
            if (beta != 0.0f) {                                                            \
                c##i##0 = _mm512_add_ps(c##i##0, _mm512_maskz_loadu_ps(m0, ci));           \
                c##i##1 = _mm512_add_ps(c##i##1, _mm512_maskz_loadu_ps(m1, ci + 16));      \
            }                                                                              \
            _mm512_mask_storeu_ps(ci, m0, c##i##0);                                        \
            _mm512_mask_storeu_ps(ci + 16, m1, c##i##1);                                   \
        }                                                                                  \
    }

#endif
