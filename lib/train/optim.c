#include "optim.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define OPTIM_SSE 1
#else
#define OPTIM_SSE 0
#endif

#include "error.h"
#include "gatemath.h"
#include "parallel.h"

/* 1 if any of x[0..n) is NaN or ±Inf. No early exit, so the loop vectorises: x ≤ FLT_MAX is
 * false for NaN and for |x| = Inf. */
GM_CLONES static int any_nonfinite(const float *x, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad |= !(fabsf(x[i]) <= FLT_MAX);
    return bad;
}

static const char *const NAMES[] = {"sgd", "adam", "rmsprop", "adagrad"};

const char *optim_name(OptimType t) { return NAMES[t]; }

int optim_from_name(const char *name, OptimType *t) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (OptimType)i;
            return 0;
        }
    return -1;
}

OptimConfig optim_defaults(OptimType t) {
    OptimConfig c = {0};
    c.type = t;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.alpha = 0.99;
    c.eps = 1e-8;   /* the schema's optimizer.eps for every rule (PyTorch's Adagrad has 1e-10) */
    return c;
}

void optim_init(Optimizer *opt, const OptimConfig *cfg, size_t n) {
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    opt->n = n;
    opt->use_fast = 1;
    int needs_m = (cfg->type == OPT_SGD && cfg->momentum != 0.0) || cfg->type == OPT_ADAM;
    int needs_v = cfg->type != OPT_SGD;
    if (needs_m) opt->m = ex_calloc(n, sizeof(float));
    if (needs_v) opt->v = ex_calloc(n, sizeof(float));
}

void optim_free(Optimizer *opt) {
    free(opt->m);
    free(opt->v);
    memset(opt, 0, sizeof *opt);
}

/* The rules other than Adam, each on parameters [i0, i1): the loops of the rules' definitions,
 * one element at a time, so any split of [0, n) gives the same bits (rule_step). */
typedef void (*RuleSlice)(const Optimizer *opt, float *p, const float *g, float lr, size_t i0, size_t i1);

/* Vectorised where the CPU allows (no square root here, so nothing stops GCC): the same
 * operations in the same order per element. */
GM_CLONES static void sgd_slice(const Optimizer *opt, float *restrict p, const float *restrict g, float lr,
                                size_t i0, size_t i1) {
    const float wd = (float)opt->cfg.weight_decay, mu = (float)opt->cfg.momentum;
    float *restrict b = opt->m;
    const int first = opt->t == 1, nesterov = opt->cfg.nesterov;
    if (!b) {
        for (size_t i = i0; i < i1; i++) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    for (size_t i = i0; i < i1; i++) {
        float gi = g[i] + wd * p[i];
        b[i] = first ? gi : mu * b[i] + gi;
        gi = nesterov ? gi + mu * b[i] : b[i];
        p[i] -= lr * gi;
    }
}

static void rmsprop_slice(const Optimizer *opt, float *p, const float *g, float lr, size_t i0, size_t i1) {
    const float a = (float)opt->cfg.alpha, one_minus_a = (float)(1.0 - opt->cfg.alpha);
    const float eps = (float)opt->cfg.eps;
    const float wd = (float)opt->cfg.weight_decay;
    float *v = opt->v;
    for (size_t i = i0; i < i1; i++) {
        float gi = g[i] + wd * p[i];
        v[i] = a * v[i] + one_minus_a * gi * gi;
        p[i] -= lr * gi / (sqrtf(v[i]) + eps);
    }
}

static void adagrad_slice(const Optimizer *opt, float *p, const float *g, float lr, size_t i0, size_t i1) {
    const float eps = (float)opt->cfg.eps, wd = (float)opt->cfg.weight_decay;
    float *v = opt->v;
    for (size_t i = i0; i < i1; i++) {
        float gi = g[i] + wd * p[i];
        v[i] += gi * gi;
        p[i] -= lr * gi / (sqrtf(v[i]) + eps);
    }
}

#if OPTIM_SSE
/* rmsprop_slice and adagrad_slice W lanes at a time (the scalar loops cannot vectorise: sqrtf
 * may set errno): per element the same operations in the same order, each IEEE-exact (the
 * vector square root and division round correctly, as sqrtf and / do), so the same bits —
 * test_optim holds them to the equations written out. The last < W go through the scalar loop. */
#define SQRT_RULE_SLICE(NAME, TARGET, W, V, SET1, LOAD, STORE, ADD, SUB, MUL, DIV, SQRT, RMSPROP, TAIL)           \
    TARGET static void NAME(const Optimizer *opt, float *p, const float *g, float lr, size_t i0, size_t i1) {        \
        const V alpha = SET1((float)opt->cfg.alpha), one_minus_alpha = SET1((float)(1.0 - opt->cfg.alpha));          \
        const V eps = SET1((float)opt->cfg.eps), wd = SET1((float)opt->cfg.weight_decay), vlr = SET1(lr);            \
        float *v = opt->v;                                                                                           \
        size_t i = i0;                                                                                               \
        for (; i + W <= i1; i += W) {                                                                                \
            V pi = LOAD(p + i), gi = ADD(LOAD(g + i), MUL(wd, pi));                                                  \
            V vi = RMSPROP ? ADD(MUL(alpha, LOAD(v + i)), MUL(MUL(one_minus_alpha, gi), gi))   /* a v + (1−a) g² */   \
                           : ADD(LOAD(v + i), MUL(gi, gi));                                     /* v + g² */          \
            STORE(v + i, vi);                                                                                        \
            STORE(p + i, SUB(pi, DIV(MUL(vlr, gi), ADD(SQRT(vi), eps))));   /* p − lr g / (√v + ε) */               \
        }                                                                                                            \
        TAIL(opt, p, g, lr, i, i1);                                                                                  \
    }

/* One width's intrinsics, for both rules (RMSPROP 1: RMSprop; 0: Adagrad). */
#define SQRT_RULE_AVX512(NAME, RMSPROP, TAIL)                                                                   \
    SQRT_RULE_SLICE(NAME, __attribute__((target("avx512f"))), 16, __m512, _mm512_set1_ps, _mm512_loadu_ps,      \
                    _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, _mm512_sqrt_ps, \
                    RMSPROP, TAIL)
#define SQRT_RULE_AVX(NAME, RMSPROP, TAIL)                                                                      \
    SQRT_RULE_SLICE(NAME, __attribute__((target("avx"))), 8, __m256, _mm256_set1_ps, _mm256_loadu_ps,          \
                    _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps, \
                    RMSPROP, TAIL)
SQRT_RULE_AVX512(rmsprop_slice_avx512, 1, rmsprop_slice)
SQRT_RULE_AVX512(adagrad_slice_avx512, 0, adagrad_slice)
SQRT_RULE_AVX(rmsprop_slice_avx, 1, rmsprop_slice)
SQRT_RULE_AVX(adagrad_slice_avx, 0, adagrad_slice)
#endif

#if OPTIM_SSE
/* Lanes of the widest vector loop to run: 16 (AVX-512), 8 (AVX) or 4 (SSE), as the CPU has
 * them, or at most opt->fast_lanes (tests run each width on a CPU that has it). */
static int vector_lanes(const Optimizer *opt) {
    int most = opt->fast_lanes ? opt->fast_lanes : 16;
    if (most >= 16 && __builtin_cpu_supports("avx512f")) return 16;
    return most >= 8 && __builtin_cpu_supports("avx") ? 8 : 4;
}
#endif

/* The widest of a rule's slices to run (vector_lanes; below 8 lanes the plain loop). */
static RuleSlice widest(const Optimizer *opt, RuleSlice plain) {
#if OPTIM_SSE
    int lanes = vector_lanes(opt), avx512 = lanes == 16, avx = lanes == 8;
    if (plain == rmsprop_slice) return avx512 ? rmsprop_slice_avx512 : avx ? rmsprop_slice_avx : plain;
    if (plain == adagrad_slice) return avx512 ? adagrad_slice_avx512 : avx ? adagrad_slice_avx : plain;
#else
    (void)opt;
#endif
    return plain;
}

typedef struct RuleJob {
    const Optimizer *opt;
    RuleSlice slice;
    float *p;
    const float *g;
    float lr;
    atomic_int nonfinite;   /* set by a part that made a new value NaN or ±Inf */
} RuleJob;

/* One thread's slice (whole lines of 16 floats, the last to n), then its check of the new values. */
static void rule_part(void *ctx, int part, int parts) {
    RuleJob *job = ctx;
    size_t i0, i1;
    par_range_size(job->opt->n, part, parts, 16, &i0, &i1);
    job->slice(job->opt, job->p, job->g, job->lr, i0, i1);
    if (any_nonfinite(job->p + i0, i1 - i0)) atomic_store_explicit(&job->nonfinite, 1, memory_order_relaxed);
}

/* A rule over all parameters, shared out over the threads; returns 1 if a new value is NaN or ±Inf. */
static int rule_step(const Optimizer *opt, RuleSlice slice, float *p, const float *g, float lr) {
    RuleJob job = {opt, opt->use_fast ? widest(opt, slice) : slice, p, g, lr, 0};
    par_run(rule_part, &job, par_parts_for(PAR_FLOPS_PER_FLOAT_PASS * (double)opt->n, 64));
    return atomic_load_explicit(&job.nonfinite, memory_order_relaxed);
}

static void adam_step(Optimizer *opt, float *p, const float *g, float lr) {
    /* 1 − β in double, then to float: (1.0f − 0.999f) would be off by 1e-5 relative. */
    const float b1 = (float)opt->cfg.beta1, b2 = (float)opt->cfg.beta2;
    const float one_minus_b1 = (float)(1.0 - opt->cfg.beta1);
    const float one_minus_b2 = (float)(1.0 - opt->cfg.beta2);
    const float eps = (float)opt->cfg.eps, wd = (float)opt->cfg.weight_decay;
    const int decoupled = opt->cfg.decoupled_weight_decay;
    /* Bias corrections in double, once per step: 1 − βᵗ loses precision in float. */
    const float c1 = (float)(1.0 / (1.0 - pow(opt->cfg.beta1, (double)opt->t)));
    const float sqrt_c2 = (float)sqrt(1.0 / (1.0 - pow(opt->cfg.beta2, (double)opt->t)));
    float *m = opt->m, *v = opt->v;
    for (size_t i = 0; i < opt->n; i++) {
        float gi = g[i];
        if (decoupled) p[i] *= 1.0f - lr * wd;
        else gi += wd * p[i];
        m[i] = b1 * m[i] + one_minus_b1 * gi;
        v[i] = b2 * v[i] + one_minus_b2 * gi * gi;
        p[i] -= lr * (m[i] * c1) / (sqrtf(v[i]) * sqrt_c2 + eps);
    }
}

#if OPTIM_SSE
/* adam_step's per-step constants, worked out once per step rather than once per slice. */
typedef struct AdamConsts {
    float b1, b2, one_minus_b1, one_minus_b2, eps, wd, lr, c1, sqrt_c2, shrink;
    int decoupled;
} AdamConsts;

static AdamConsts adam_consts(const Optimizer *opt, float lr) {
    AdamConsts k;
    k.b1 = (float)opt->cfg.beta1;
    k.b2 = (float)opt->cfg.beta2;
    k.one_minus_b1 = (float)(1.0 - opt->cfg.beta1);
    k.one_minus_b2 = (float)(1.0 - opt->cfg.beta2);
    k.eps = (float)opt->cfg.eps;
    k.wd = (float)opt->cfg.weight_decay;
    k.lr = lr;
    k.c1 = (float)(1.0 / (1.0 - pow(opt->cfg.beta1, (double)opt->t)));
    k.sqrt_c2 = (float)sqrt(1.0 / (1.0 - pow(opt->cfg.beta2, (double)opt->t)));
    k.shrink = 1.0f - lr * k.wd;
    k.decoupled = opt->cfg.decoupled_weight_decay;
    return k;
}

/* adam_step on parameters [i0, i1), W lanes at a time: the same operations in the same order,
 * each IEEE-exact (no FMA contraction; the vector square root is correctly rounded, as sqrtf
 * is), so the result is bit-identical to adam_step — test_fastpaths.c holds every width equal
 * to it. The scalar loop cannot vectorise by itself: sqrtf may set errno, and the arrays may
 * alias as far as the compiler knows. m and v are updated in place; the new parameters go to
 * p_new[0 .. i1 − i0) (see adam_part for why not to p). One body, three widths: SSE (4 lanes,
 * every x86-64), AVX (8) and AVX-512F (16); the wider ones leave their last < W to SSE, SSE
 * its last < 4 to adam_step's loop body. */
#define ADAM_SLICE(NAME, TARGET, W, V, SET1, LOAD, STORE, ADD, SUB, MUL, DIV, SQRT, TAIL)                      \
    TARGET static void NAME(const AdamConsts *k, float *m, float *v, const float *p, const float *g, size_t i0,    \
                            size_t i1, float *p_new) {                                                         \
        const V b1 = SET1(k->b1), b2 = SET1(k->b2), omb1 = SET1(k->one_minus_b1), omb2 = SET1(k->one_minus_b2);  \
        const V veps = SET1(k->eps), vwd = SET1(k->wd), vlr = SET1(k->lr);                                      \
        const V vc1 = SET1(k->c1), vsc2 = SET1(k->sqrt_c2), shrink = SET1(k->shrink);                           \
        size_t i = i0;                                                                                         \
        for (; i + W <= i1; i += W) {                                                                          \
            V gi = LOAD(g + i), pi = LOAD(p + i);                                                              \
            if (k->decoupled) pi = MUL(pi, shrink);                                                            \
            else gi = ADD(gi, MUL(vwd, pi));                                                                   \
            V mi = ADD(MUL(b1, LOAD(m + i)), MUL(omb1, gi));                                                   \
            V vi = ADD(MUL(b2, LOAD(v + i)), MUL(MUL(omb2, gi), gi));                                          \
            V den = ADD(MUL(SQRT(vi), vsc2), veps);                                                            \
            pi = SUB(pi, DIV(MUL(vlr, MUL(mi, vc1)), den));                                                    \
            STORE(m + i, mi);                                                                                  \
            STORE(v + i, vi);                                                                                  \
            STORE(p_new + (i - i0), pi);                                                                       \
        }                                                                                                      \
        TAIL(k, m, v, p, g, i, i1, p_new + (i - i0));                                                          \
    }

/* SSE's last < 4: adam_step's loop body */
static void adam_tail_scalar(const AdamConsts *k, float *m, float *v, const float *p, const float *g, size_t i0,
                             size_t i1, float *p_new) {
    for (size_t i = i0; i < i1; i++) {
        float gi = g[i], pi = p[i];
        if (k->decoupled) pi *= k->shrink;
        else gi += k->wd * pi;
        m[i] = k->b1 * m[i] + k->one_minus_b1 * gi;
        v[i] = k->b2 * v[i] + k->one_minus_b2 * gi * gi;
        p_new[i - i0] = pi - k->lr * (m[i] * k->c1) / (sqrtf(v[i]) * k->sqrt_c2 + k->eps);
    }
}

ADAM_SLICE(adam_slice_sse, , 4, __m128, _mm_set1_ps, _mm_loadu_ps, _mm_storeu_ps, _mm_add_ps, _mm_sub_ps, _mm_mul_ps,
           _mm_div_ps, _mm_sqrt_ps, adam_tail_scalar)
ADAM_SLICE(adam_slice_avx, __attribute__((target("avx"))), 8, __m256, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps,
           _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps, adam_slice_sse)
ADAM_SLICE(adam_slice_avx512, __attribute__((target("avx512f"))), 16, __m512, _mm512_set1_ps, _mm512_loadu_ps,
           _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, _mm512_sqrt_ps, adam_slice_sse)

typedef void (*AdamSlice)(const AdamConsts *k, float *m, float *v, const float *p, const float *g, size_t i0,
                          size_t i1, float *p_new);

typedef struct AdamJob {
    Optimizer *opt;
    AdamConsts consts;
    float *p;
    const float *g;
    atomic_int nonfinite;   /* set by a part that made a new value NaN or ±Inf */
} AdamJob;

/* Parameters per pass of adam_part: 2 KB of new values, which stay in L1. */
enum { ADAM_CHUNK = 512 };

/* One thread's slice, a chunk at a time: the new parameters of a chunk go to a local buffer,
 * then to p in one run of stores. Why: the other threads read p in the forward products, so
 * p's lines are shared with their cores, and a store to such a line must first take it from
 * them (tens of ns here). Stores commit in order, so with the m and v stores between them
 * those takeovers wait one after another; a run of p stores alone lets them overlap. Measured
 * on ae_shallow's second 50k-parameter slice: 65 → 30 µs a step (alone, unshared: 16 µs). */
static void adam_part(void *ctx, int part, int parts) {
    AdamJob *job = ctx;
    size_t i0, i1;
    par_range_size(job->opt->n, part, parts, 16, &i0, &i1);
    int lanes = vector_lanes(job->opt);
    AdamSlice slice = lanes == 16 ? adam_slice_avx512 : lanes == 8 ? adam_slice_avx : adam_slice_sse;
    float p_new[ADAM_CHUNK];
    int bad = 0;
    for (size_t c0 = i0; c0 < i1; c0 += ADAM_CHUNK) {
        size_t c1 = i1 - c0 < ADAM_CHUNK ? i1 : c0 + ADAM_CHUNK;
        slice(&job->consts, job->opt->m, job->opt->v, job->p, job->g, c0, c1, p_new);
        bad |= any_nonfinite(p_new, c1 - c0);
        memcpy(job->p + c0, p_new, (c1 - c0) * sizeof(float));
    }
    if (bad) atomic_store_explicit(&job->nonfinite, 1, memory_order_relaxed);
}

/* adam_step 16 (AVX-512), 8 (AVX) or 4 (SSE) parameters at a time, in disjoint slices over the threads,
 * bit-identical to adam_step (see ADAM_SLICE). */
static int adam_step_sse(Optimizer *opt, float *p, const float *g, float lr) {
    AdamJob job = {opt, adam_consts(opt, lr), p, g, 0};
    par_run(adam_part, &job, par_parts_for(30.0 * (double)opt->n, 64));
    return atomic_load_explicit(&job.nonfinite, memory_order_relaxed);
}
#endif

int optim_step(Optimizer *opt, float *p, const float *g, double lr) {
    opt->t++;
    switch (opt->cfg.type) {
    case OPT_SGD: return rule_step(opt, sgd_slice, p, g, (float)lr);
    case OPT_ADAM:
#if OPTIM_SSE
        if (opt->use_fast) return adam_step_sse(opt, p, g, (float)lr);
#endif
        adam_step(opt, p, g, (float)lr);
        break;
    case OPT_RMSPROP: return rule_step(opt, rmsprop_slice, p, g, (float)lr);
    case OPT_ADAGRAD: return rule_step(opt, adagrad_slice, p, g, (float)lr);
    }
    return any_nonfinite(p, opt->n);
}
