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
 * Maximum relative error against double precision: about 3e-7 (σ, tanh), tested in test_lstm.c.
 * NaN propagates. The scalar tail does the same operations in the same order, so a value's
 * result does not depend on its position in the array. */
#ifndef EXPRUN_GATEMATH_H
#define EXPRUN_GATEMATH_H

#include <stdint.h>
#include <string.h>

typedef float gm_v4 __attribute__((vector_size(16)));
typedef int32_t gm_v4i __attribute__((vector_size(16)));
typedef uint32_t gm_v4u __attribute__((vector_size(16)));

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

/* y[k] = σ(x[k]) for k < n; y may alias x. */
static inline void gm_sigmoid(float *y, const float *x, int n) {
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        gm_v4 v;
        memcpy(&v, x + k, sizeof v);
        v = gm_sigmoid4(v);
        memcpy(y + k, &v, sizeof v);
    }
    for (; k < n; k++) y[k] = gm_sigmoid1(x[k]);
}

/* y[k] = tanh(x[k]) for k < n; y may alias x. */
static inline void gm_tanh(float *y, const float *x, int n) {
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        gm_v4 v;
        memcpy(&v, x + k, sizeof v);
        v = gm_tanh4(v);
        memcpy(y + k, &v, sizeof v);
    }
    for (; k < n; k++) y[k] = gm_tanh1(x[k]);
}

#endif
