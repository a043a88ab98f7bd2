/* gatemath.h — σ and tanh over arrays, for the recurrent cells' gate loops.
 *
 * Why: libm's expf/tanhf are scalar calls (tanhf goes through expm1f) and the compiler cannot
 * vectorise a loop around them; in an LSTM step they cost as much as a third of the forward
 * pass. These versions are branch-free arithmetic written with GCC/Clang vector extensions
 * (4 floats, the SSE width every x86-64 has), so each call does 4 values at once.
 *
 *   exp(x) = 2^n · p(r),  n = round(x / ln 2),  r = x − n ln 2 ∈ [−ln2/2, ln2/2]
 *            (ln 2 split in two parts for exactness; p = Cephes' degree-7 polynomial for e^r;
 *            2^n built in the exponent bits; x clamped to [−87.3, 88.3], the normal range)
 *   σ(x)   = 1 / (1 + exp(−x))
 *   tanh x = x + x³ P(x²)                      for |x| < 0.625 (Cephes' tanhf polynomial)
 *          = sign(x) (1 − 2 / (exp(2|x|) + 1))  otherwise
 *   log x  = e ln 2 + log m from x = 2^e · m, m ∈ [√½, √2), log m = Cephes' logf polynomial
 *            in m − 1 (for normal positive x only: the losses clamp first)
 * Maximum relative error against double precision: about 3e-7 (σ, tanh), tested in test_lstm.c;
 * log: at most 3e-7 of max(1, |log x|) (test_fastpaths.c).
 * NaN propagates. The scalar tail does the same operations in the same order, so a value's
 * result does not depend on its position in the array.
 *
 * Wider: the same functions on 16 lanes (gm_v16: gm_exp16, gm_log16, gm_sigmoid16, gm_tanh16),
 * again the same operations per lane. The array functions and the losses' row loops carry
 * GM_CLONES: GCC compiles them for AVX-512, AVX2 and the baseline and picks one at load time
 * (ifunc), so a 16-lane operation is one zmm instruction on AVX-512 and four SSE ones on the
 * baseline. Without FMA contraction (ISO C mode) every clone computes the same bits. */
#ifndef EXPRUN_GATEMATH_H
#define EXPRUN_GATEMATH_H

#include <stdint.h>
#include <string.h>

typedef float gm_v4 __attribute__((vector_size(16)));
typedef int32_t gm_v4i __attribute__((vector_size(16)));
typedef uint32_t gm_v4u __attribute__((vector_size(16)));

typedef float gm_v16 __attribute__((vector_size(64)));
typedef int32_t gm_v16i __attribute__((vector_size(64)));
typedef uint32_t gm_v16u __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GM_CLONES
#endif

#define GM_EXP_LO (-87.3f)
#define GM_EXP_HI 88.3f
#define GM_LOG2E 1.44269504088896341f
#define GM_LN2_HI 0.693359375f
#define GM_LN2_LO (-2.12194440e-4f)
#define GM_ROUND 12582912.0f /* 1.5 · 2^23: x + it − it rounds x to an integer, whose bits it leaves in t */

static inline gm_v4 gm_splat(float v) { return (gm_v4){v, v, v, v}; }

static inline gm_v4 gm_select(gm_v4i mask, gm_v4 a, gm_v4 b) {
    return (gm_v4)((mask & (gm_v4i)a) | (~mask & (gm_v4i)b));
}

static inline gm_v4 gm_exp4(gm_v4 x) {
    x = gm_select(x < GM_EXP_LO, gm_splat(GM_EXP_LO), x);
    x = gm_select(x > GM_EXP_HI, gm_splat(GM_EXP_HI), x);
    gm_v4 t = x * GM_LOG2E + GM_ROUND;
    gm_v4 n = t - GM_ROUND;
    gm_v4u ni = (gm_v4u)t - 0x4B400000u;     /* n in two's complement (unsigned: no overflow) */
    gm_v4 r = x - n * GM_LN2_HI - n * GM_LN2_LO;
    gm_v4 p = r * 1.9875691500E-4f + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    return p * (gm_v4)((ni + 127u) << 23);
}

static inline float gm_exp1(float x) {
    x = x < GM_EXP_LO ? GM_EXP_LO : x;
    x = x > GM_EXP_HI ? GM_EXP_HI : x;
    float t = x * GM_LOG2E + GM_ROUND;
    float n = t - GM_ROUND;
    uint32_t ni;
    memcpy(&ni, &t, sizeof ni);
    ni -= 0x4B400000u;
    float r = x - n * GM_LN2_HI - n * GM_LN2_LO;
    float p = r * 1.9875691500E-4f + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    uint32_t sbits = (ni + 127u) << 23;
    float s;
    memcpy(&s, &sbits, sizeof s);
    return p * s;
}

static inline gm_v4 gm_sigmoid4(gm_v4 x) { return 1.0f / (1.0f + gm_exp4(-x)); }
static inline float gm_sigmoid1(float x) { return 1.0f / (1.0f + gm_exp1(-x)); }

static inline gm_v4 gm_tanh4(gm_v4 x) {
    gm_v4i sign = (gm_v4i)x & INT32_MIN;
    gm_v4 a = (gm_v4)((gm_v4i)x & INT32_MAX);
    gm_v4 z = x * x;
    gm_v4 small = ((((z * -5.70498872745E-3f + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z + 1.33314422036E-1f) * z -
                   3.33332819422E-1f) * z * x + x;
    gm_v4 big = 1.0f - 2.0f / (gm_exp4(a + a) + 1.0f);
    big = (gm_v4)((gm_v4i)big | sign);
    return gm_select(a < 0.625f, small, big);
}

static inline float gm_tanh1(float x) {
    float a = x < 0.0f ? -x : x;
    float z = x * x;
    float small = ((((z * -5.70498872745E-3f + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z + 1.33314422036E-1f) * z -
                   3.33332819422E-1f) * z * x + x;
    float big = 1.0f - 2.0f / (gm_exp1(a + a) + 1.0f);
    big = x < 0.0f ? -big : big;
    return a < 0.625f ? small : big;
}

/* log of 4 normal positive floats (Cephes' logf). */
static inline gm_v4 gm_log4(gm_v4 x) {
    gm_v4i bits = (gm_v4i)x;
    gm_v4i e = ((bits >> 23) & 0xff) - 126;                         /* x = 2^e · m, m ∈ [½, 1) */
    gm_v4 m = (gm_v4)((bits & 0x807fffff) | 0x3f000000);
    gm_v4i low = m < 0.707106781186547524f;                         /* m < √½: use 2m, e − 1 */
    e += low;                                                       /* low is −1 where true */
    m = m - 1.0f + (gm_v4)(low & (gm_v4i)m);
    gm_v4 fe = __builtin_convertvector(e, gm_v4);
    gm_v4 z = m * m;
    gm_v4 y = m * 7.0376836292E-2f - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    y = y * m * z;
    y += fe * GM_LN2_LO;
    y -= 0.5f * z;
    return m + y + fe * GM_LN2_HI;
}

static inline float gm_log1(float x) {
    gm_v4 v = gm_log4(gm_splat(x));
    return v[0];
}

/* ---- 16 lanes: the same operations as the 4-lane functions above ---------------------- */

/* Always inlined, so they compile to the instructions of the clone that calls them. They are
 * never called across files, so GCC's note that passing 64-byte vectors changed ABI is moot
 * (CMakeLists.txt builds with -Wno-psabi). */
#define GM_INLINE16 static inline __attribute__((always_inline))

GM_INLINE16 gm_v16 gm_splat16(float v) { return (gm_v16){v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v}; }

GM_INLINE16 gm_v16 gm_select16(gm_v16i mask, gm_v16 a, gm_v16 b) {
    return (gm_v16)((mask & (gm_v16i)a) | (~mask & (gm_v16i)b));
}

/* 8-lane halves, for the stores below: GCC splits a 16-lane add or multiply into the 256-bit
 * halves an AVX2 clone has, but lowers some 16-lane operations (comparisons, whole-vector
 * stores) lane by lane there. */
typedef float gm_v8 __attribute__((vector_size(32)));
#define GM_LO8(v) __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
#define GM_HI8(v) __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)

/* Tests against a constant c > 0 from the sign of a difference instead of a comparison: two
 * or three plain operations in every clone. A 16-lane comparison is 16 scalar ones in the AVX2
 * clone, and built from two 8-lane halves it went through memory in the AVX-512 clone (a
 * store-forwarding stall at the head of every exp, on the chain that bounds the loss row and
 * the gates). The same lanes as the comparisons for every
 * x: a difference of two floats is zero only when they are equal and has the exact one's sign,
 * and a NaN |x| or a is positive and the difference keeps it (x86 returns the NaN operand), so
 * NaN tests false as it compares false. test_fastpaths.c checks them against C's comparisons. */
GM_INLINE16 gm_v16 gm_abs16(gm_v16 x) { return (gm_v16)((gm_v16i)x & INT32_MAX); }
GM_INLINE16 gm_v16i gm_sign16(gm_v16 x) { return (gm_v16i)x >> 31; }   /* all ones where the sign bit is set */
/* |x| > c */
GM_INLINE16 gm_v16i gm_abs_gt16(gm_v16 x, float c) { return gm_sign16(gm_splat16(c) - gm_abs16(x)); }
/* x < −c */
GM_INLINE16 gm_v16i gm_lt_neg16(gm_v16 x, float c) { return gm_sign16(x) & gm_abs_gt16(x, c); }
/* x > c */
GM_INLINE16 gm_v16i gm_gt_pos16(gm_v16 x, float c) { return ~gm_sign16(x) & gm_abs_gt16(x, c); }
/* a < c, for a ≥ 0 or NaN */
GM_INLINE16 gm_v16i gm_nonneg_lt16(gm_v16 a, float c) { return gm_sign16(a - gm_splat16(c)); }

/* exp of an x already in [GM_EXP_LO, GM_EXP_HI] (or NaN), on a vector type V of floats with
 * unsigned lanes U: gm_exp16_in_range, and the loss's 32-lane rows (loss.c), which must give a
 * value the same bits whichever path takes it. */
#define GM_DEFINE_EXP_IN_RANGE(name, V, U)                       \
    GM_INLINE16 V name(V x) {                                    \
        V t = x * GM_LOG2E + GM_ROUND;                           \
        V n = t - GM_ROUND;                                      \
        U ni = (U)t - 0x4B400000u;                               \
        V r = x - n * GM_LN2_HI - n * GM_LN2_LO;                 \
        V p = r * 1.9875691500E-4f + 1.3981999507E-3f;           \
        p = p * r + 8.3334519073E-3f;                            \
        p = p * r + 4.1665795894E-2f;                            \
        p = p * r + 1.6666665459E-1f;                            \
        p = p * r + 5.0000001201E-1f;                            \
        p = p * r * r + r + 1.0f;                                \
        return p * (V)((ni + 127u) << 23);                       \
    }
GM_DEFINE_EXP_IN_RANGE(gm_exp16_in_range, gm_v16, gm_v16u)

GM_INLINE16 gm_v16 gm_exp16(gm_v16 x) {
    x = gm_select16(gm_lt_neg16(x, -GM_EXP_LO), gm_splat16(GM_EXP_LO), x);
    x = gm_select16(gm_gt_pos16(x, GM_EXP_HI), gm_splat16(GM_EXP_HI), x);
    return gm_exp16_in_range(x);
}

GM_INLINE16 gm_v16 gm_sigmoid16(gm_v16 x) { return 1.0f / (1.0f + gm_exp16(-x)); }

GM_INLINE16 gm_v16 gm_tanh16(gm_v16 x) {
    gm_v16i sign = (gm_v16i)x & INT32_MIN;
    gm_v16 a = (gm_v16)((gm_v16i)x & INT32_MAX);
    gm_v16 z = x * x;
    gm_v16 small = ((((z * -5.70498872745E-3f + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z + 1.33314422036E-1f) * z -
                    3.33332819422E-1f) * z * x + x;
    gm_v16 big = 1.0f - 2.0f / (gm_exp16(a + a) + 1.0f);
    big = (gm_v16)((gm_v16i)big | sign);
    return gm_select16(gm_nonneg_lt16(a, 0.625f), small, big);
}

GM_INLINE16 gm_v16 gm_log16(gm_v16 x) {
    gm_v16i bits = (gm_v16i)x;
    gm_v16i e = ((bits >> 23) & 0xff) - 126;
    gm_v16 m = (gm_v16)((bits & 0x807fffff) | 0x3f000000);
    gm_v16i low = gm_nonneg_lt16(m, 0.707106781186547524f);   /* m ∈ [½, 1) */
    e += low;
    m = m - 1.0f + (gm_v16)(low & (gm_v16i)m);
    gm_v16 fe = __builtin_convertvector(e, gm_v16);
    gm_v16 z = m * m;
    gm_v16 y = m * 7.0376836292E-2f - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    y = y * m * z;
    y += fe * GM_LN2_LO;
    y -= 0.5f * z;
    return m + y + fe * GM_LN2_HI;
}

/* Σ v[q]² over the 16 lanes, in double: each square is exact (24 + 24 bits), then the halves
 * added lane by lane and the sums folded 8 → 4 → 2 → 1, one fixed tree for every clone. The
 * recurrent cells' per-step gradient norms take it per chunk of 16 units (stepsplit.h). It
 * replaced a sequential sum over the lanes, a chain of 16 dependent additions per chunk (perf:
 * gru_h256's backward gate pass 6.0 → 5.2 % of the samples). */
typedef double gm_v8d __attribute__((vector_size(64)));
typedef double gm_v4d __attribute__((vector_size(32)));
GM_INLINE16 double gm_sum_squares16(gm_v16 v) {
    gm_v8d lo = __builtin_convertvector(GM_LO8(v), gm_v8d), hi = __builtin_convertvector(GM_HI8(v), gm_v8d);
    gm_v8d s8 = lo * lo + hi * hi;
    gm_v4d s4 = __builtin_shufflevector(s8, s8, 0, 1, 2, 3) + __builtin_shufflevector(s8, s8, 4, 5, 6, 7);
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* v into x[0..15] as two 8-lane halves: a 16-lane store is lowered in the AVX2 clone through
 * the stack and general registers, 16 bytes at a time (about an eighth of the loss row's time,
 * with the row's double sums). */
GM_INLINE16 void gm_store16(float *x, gm_v16 v) {
    gm_v8 lo = GM_LO8(v), hi = GM_HI8(v);
    memcpy(x, &lo, sizeof lo);
    memcpy(x + 8, &hi, sizeof hi);
}

/* The first n ≤ 16 floats of x as a vector, the other lanes `fill`; and the first n lanes of v
 * into x. A row's tail goes through the same vector code as its body, so every value gets
 * the same operations wherever it falls. */
GM_INLINE16 gm_v16 gm_load16_first(const float *x, int n, float fill) {
    gm_v16 v = gm_splat16(fill);
    if (n == 16) memcpy(&v, x, sizeof v);
    else
        for (int q = 0; q < n; q++) v[q] = x[q];
    return v;
}

GM_INLINE16 void gm_store16_first(float *x, gm_v16 v, int n) {
    if (n == 16) gm_store16(x, v);
    else
        for (int q = 0; q < n; q++) x[q] = v[q];
}

/* y[k] = σ(x[k]) for k < n; y may alias x. */
GM_CLONES static inline void gm_sigmoid(float *y, const float *x, int n) {
    int k = 0;
    for (; k + 16 <= n; k += 16) {
        gm_v16 v;
        memcpy(&v, x + k, sizeof v);
        gm_store16(y + k, gm_sigmoid16(v));
    }
    for (; k + 4 <= n; k += 4) {
        gm_v4 v;
        memcpy(&v, x + k, sizeof v);
        v = gm_sigmoid4(v);
        memcpy(y + k, &v, sizeof v);
    }
    for (; k < n; k++) y[k] = gm_sigmoid1(x[k]);
}

/* y[k] = tanh(x[k]) for k < n; y may alias x. */
GM_CLONES static inline void gm_tanh(float *y, const float *x, int n) {
    int k = 0;
    for (; k + 16 <= n; k += 16) {
        gm_v16 v;
        memcpy(&v, x + k, sizeof v);
        gm_store16(y + k, gm_tanh16(v));
    }
    for (; k + 4 <= n; k += 4) {
        gm_v4 v;
        memcpy(&v, x + k, sizeof v);
        v = gm_tanh4(v);
        memcpy(y + k, &v, sizeof v);
    }
    for (; k < n; k++) y[k] = gm_tanh1(x[k]);
}

#endif
