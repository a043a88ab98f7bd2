#include "loss.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gatemath.h"
#include "parallel.h"

/* Sums over rows are taken in fixed blocks of ROW_BLOCK rows (each block in order, the block
 * sums in order), so a loss computed by several threads — each taking whole blocks — is the
 * same number whatever the thread count. */
enum { ROW_BLOCK = 8, MAX_BLOCKS = 256 };

typedef double (*RowLoss)(void *ctx, int row);   /* one row's loss; also writes its gradient */

typedef struct RowJob {
    RowLoss fn;
    void *ctx;
    int m, first_block, n_blocks;
    double *sums;   /* (n_blocks) */
} RowJob;

static void row_blocks_part(void *ctx, int part, int parts) {
    RowJob *job = ctx;
    int b0, b1;
    par_range(job->n_blocks, part, parts, 1, &b0, &b1);
    for (int k = b0; k < b1; k++) {
        int r0 = (job->first_block + k) * ROW_BLOCK, r1 = r0 + ROW_BLOCK < job->m ? r0 + ROW_BLOCK : job->m;
        double s = 0.0;
        for (int r = r0; r < r1; r++) s += job->fn(job->ctx, r);
        job->sums[k] = s;
    }
}

/* Σ_r fn(ctx, r) over m rows, shared out over threads by blocks of rows (flops_per_row: the
 * work of one row, to decide whether threads pay). */
static double sum_rows(RowLoss fn, void *ctx, int m, double flops_per_row) {
    double total = 0.0, sums[MAX_BLOCKS];
    int blocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
    for (int first = 0; first < blocks; first += MAX_BLOCKS) {
        int n = blocks - first < MAX_BLOCKS ? blocks - first : MAX_BLOCKS;
        RowJob job = {fn, ctx, m, first, n, sums};
        par_run(row_blocks_part, &job, par_parts_for(flops_per_row * n * ROW_BLOCK, n));
        for (int k = 0; k < n; k++) total += sums[k];
    }
    return total;
}

static const char *const NAMES[] = {"squared_error", "cross_entropy", "softmax_cross_entropy"};

const char *loss_name(LossType t) { return NAMES[t]; }

int loss_from_name(const char *name, LossType *t) {
    for (int i = 0; i < 3; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (LossType)i;
            return 0;
        }
    return -1;
}

double loss_squared_error(float *grad, const float *pred, const float *target, int m, int n) {
    double sum = 0.0;
    size_t count = (size_t)m * n;
    float scale = 2.0f / (float)m;
    for (size_t i = 0; i < count; i++) {
        float d = pred[i] - target[i];
        sum += (double)d * d;
        if (grad) grad[i] = scale * d;
    }
    return sum / m;
}

#define BCE_EPS 1e-7f

double loss_binary_cross_entropy(float *grad, const float *pred, const float *target, int m, int n) {
    /* logf/log1pf are several times cheaper than their double versions; the sum stays in
     * double so that finite-difference checks can still resolve small gradients. */
    double sum = 0.0;
    for (int i = 0; i < m; i++) {
        const float *p_row = pred + (size_t)i * n, *x_row = target + (size_t)i * n;
        float *g_row = grad ? grad + (size_t)i * n : NULL;
        double row = 0.0;
        for (int j = 0; j < n; j++) {
            float p = fminf(fmaxf(p_row[j], BCE_EPS), 1.0f - BCE_EPS);
            float x = x_row[j];
            row -= x * logf(p) + (1.0f - x) * log1pf(-p);
            if (g_row) g_row[j] = (p - x) / (p * (1.0f - p) * (float)m);
        }
        sum += row;
    }
    return sum / m;
}

/* Σ over one row of x log p + (1 − x) log(1 − p), p clamped as in loss_binary_cross_entropy,
 * 4 values at a time with gatemath.h's log; each group of 4 terms is added in double.
 * log(1 − p) = log u − ((u − 1) + p)/u with u = 1 − p rounded: the first-order correction for
 * the rounding of u, accurate like log1pf. */
static double bce_row_sum_fast(const float *p_row, const float *x_row, int n) {
    const gm_v4 lo = gm_splat(BCE_EPS), hi = gm_splat(1.0f - BCE_EPS);
    double sum = 0.0;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        gm_v4 p, x;
        memcpy(&p, p_row + j, sizeof p);
        memcpy(&x, x_row + j, sizeof x);
        p = gm_select(p < lo, lo, p);
        p = gm_select(p > hi, hi, p);
        gm_v4 u = 1.0f - p;
        gm_v4 log_q = gm_log4(u) - ((u - 1.0f) + p) / u;
        gm_v4 t = x * gm_log4(p) + (1.0f - x) * log_q;
        sum += ((double)t[0] + (double)t[1]) + ((double)t[2] + (double)t[3]);
    }
    for (; j < n; j++) {
        float p = fminf(fmaxf(p_row[j], BCE_EPS), 1.0f - BCE_EPS), x = x_row[j];
        sum += x * logf(p) + (1.0f - x) * log1pf(-p);
    }
    return sum;
}

typedef struct SigmoidCe {
    float *grad, *pred;
    const float *target;
    int n;
    float inv_m;
} SigmoidCe;

static double sigmoid_ce_pred_row(void *ctx, int r) {
    const SigmoidCe *c = ctx;
    size_t at = (size_t)r * c->n;
    if (c->grad)
        for (int j = 0; j < c->n; j++) c->grad[at + j] = (c->pred[at + j] - c->target[at + j]) * c->inv_m;
    return -bce_row_sum_fast(c->pred + at, c->target + at, c->n);
}

double loss_sigmoid_cross_entropy(float *grad_pre, const float *pred, const float *target, int m,
                                  int n) {
    SigmoidCe c = {grad_pre, (float *)pred, target, n, 1.0f / (float)m};
    return sum_rows(sigmoid_ce_pred_row, &c, m, 200.0 * n) / m;
}

/* The loss row works on 32 lanes at a time: two 16-lane halves whose long chains of dependent
 * operations (exp, division, polynomial) GCC then interleaves operation by operation — the row
 * is bound by the latency of those chains, and two in flight ran it 1.13× faster than one after
 * the other on AVX-512, 1.4× in an AVX2 build (Zen 4, 2026-12-06). */
typedef float ce_v32 __attribute__((vector_size(128)));
typedef int32_t ce_v32i __attribute__((vector_size(128)));
typedef uint32_t ce_v32u __attribute__((vector_size(128)));

static inline __attribute__((always_inline)) ce_v32 ce_splat(float v) {
    return (ce_v32){v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v};
}
static inline __attribute__((always_inline)) ce_v32 ce_select(ce_v32i mask, ce_v32 a, ce_v32 b) {
    return (ce_v32)((mask & (ce_v32i)a) | (~mask & (ce_v32i)b));
}
/* all ones where |x| > c, from the sign of c − |x| (as gatemath.h's gm_abs_gt16: NaN is false) */
static inline __attribute__((always_inline)) ce_v32i ce_abs_gt(ce_v32 abs_x, float c) {
    return (ce_v32i)(ce_splat(c) - abs_x) >> 31;
}
GM_DEFINE_EXP_IN_RANGE(ce_exp_in_range, ce_v32, ce_v32u)

/* log1p(e) = e q(e) for e ∈ [0, 1]: q a degree-8 least-squares fit of log1p(e)/e (in double, on
 * Chebyshev nodes); in float, without FMA: within 1e-7 of max(1, |a|) in the loss term, tested in
 * test_fastpaths.c. One polynomial in place of a general log: e = exp(−|a|) never leaves [0, 1].
 * Estrin's scheme: a chain 5 operations deep instead of Horner's 16. */
static inline __attribute__((always_inline)) ce_v32 log1p_unit(ce_v32 e) {
    ce_v32 e2 = e * e, e4 = e2 * e2;
    ce_v32 q01 = 1.0f - 4.9999502301216125e-1f * e, q23 = 3.3319270610809326e-1f - 2.4844373762607574e-1f * e;
    ce_v32 q45 = 1.911144256591797e-1f - 1.3674786686897278e-1f * e, q67 = 7.836182415485382e-2f - 2.958858013153076e-2f * e;
    ce_v32 q0_3 = q01 + q23 * e2, q4_7 = q45 + q67 * e2;
    ce_v32 q = q0_3 + (q4_7 + 5.253470968455076e-3f * e4) * e4;
    return e * q;
}

/* The logit where σ reaches the clamp 1 − 1e-7 (and −it, 1e-7): log((1 − ε)/ε). */
#define LOGIT_CLAMP 16.1180954f
/* softplus(LOGIT_CLAMP) − LOGIT_CLAMP = log1p(e^−16.118…) */
#define SOFTPLUS_TAIL 1.0000000e-7f

/* 32 pixels from their logits a: writes σ(a) into p and returns the loss terms
 *   softplus(a_c) − x a_c = −[x log σ(a_c) + (1 − x) log(1 − σ(a_c))],  a_c = clamp(a, ±LOGIT_CLAMP)
 * (the clamp is loss_binary_cross_entropy's clamp of p to [1e-7, 1 − 1e-7]). With e = e^−|a|
 * and u = 1 + e: σ(a) = 1/u for a ≥ 0, e/u otherwise; softplus(a) = max(a, 0) + log1p(e).
 * Signs are read off the sign bit: a = −0 takes e/u = 1 · ½, the same ½ as 1/u. */
static inline __attribute__((always_inline)) ce_v32 sigmoid_ce(ce_v32 *p, ce_v32 a, ce_v32 x) {
    ce_v32i bits = (ce_v32i)a, negative = bits >> 31;
    ce_v32 abs_a = (ce_v32)(bits & INT32_MAX);
    ce_v32i big = ce_abs_gt(abs_a, LOGIT_CLAMP);
    /* e = exp(−|a|), the argument clamped at GM_EXP_LO as gm_exp16 clamps it (the same bits;
     * the upper clamp never acts on −|a|) */
    ce_v32 e = ce_exp_in_range(ce_select(ce_abs_gt(abs_a, -GM_EXP_LO), ce_splat(GM_EXP_LO), -abs_a));
    ce_v32 s = 1.0f / (1.0f + e);
    *p = ce_select(negative, e * s, s);
    ce_v32 ac = (ce_v32)((ce_v32i)ce_select(big, ce_splat(LOGIT_CLAMP), abs_a) | (bits & INT32_MIN));
    ce_v32 log1p_e = ce_select(big, ce_splat(SOFTPLUS_TAIL), log1p_unit(e));
    ce_v32 relu = (ce_v32)((ce_v32i)ac & ~negative);   /* max(a_c, 0) */
    return (log1p_e + relu) - x * ac;
}

/* The two 16-lane halves of v (copies: GCC lowers a 32-lane shuffle lane by lane in the AVX2 clone). */
static inline __attribute__((always_inline)) void ce_halves(ce_v32 v, gm_v16 *lo, gm_v16 *hi) {
    memcpy(lo, &v, sizeof *lo);
    memcpy(hi, (char *)&v + sizeof *lo, sizeof *hi);
}

/* Σ of 16 lanes in double, in a fixed pairwise order. */
static inline __attribute__((always_inline)) double sum16(gm_v16 t) {
    double q[4];
    for (int k = 0; k < 4; k++) q[k] = ((double)t[4 * k] + (double)t[4 * k + 1]) + ((double)t[4 * k + 2] + (double)t[4 * k + 3]);
    return (q[0] + q[1]) + (q[2] + q[3]);
}

/* Sums in double, kept lane by lane: 16 running sums (four vectors of 4 doubles), each lane's
 * terms added in order, the lanes added pairwise at the end. The per-term work is four
 * conversions and four adds; 256-bit pieces, because vectors of 8 doubles were moved through
 * general registers in the AVX2 clone. */
typedef double gm_v4d __attribute__((vector_size(32)));

typedef struct LaneSums {
    gm_v4d q[4];   /* lanes 0–3, 4–7, 8–11, 12–15 */
} LaneSums;

static inline __attribute__((always_inline)) void lane_sums_add(LaneSums *s, gm_v16 t) {
    s->q[0] += __builtin_convertvector(__builtin_shufflevector(t, t, 0, 1, 2, 3), gm_v4d);
    s->q[1] += __builtin_convertvector(__builtin_shufflevector(t, t, 4, 5, 6, 7), gm_v4d);
    s->q[2] += __builtin_convertvector(__builtin_shufflevector(t, t, 8, 9, 10, 11), gm_v4d);
    s->q[3] += __builtin_convertvector(__builtin_shufflevector(t, t, 12, 13, 14, 15), gm_v4d);
}

static inline __attribute__((always_inline)) double lane_sums_total(const LaneSums *s) {
    gm_v4d a = s->q[0] + s->q[2], b = s->q[1] + s->q[3];   /* lane k + lane k + 8 */
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}

/* A unit of the sum: CE_UNIT_ROWS rows × CE_UNIT_COLS columns, two 16-column strips. */
enum { CE_UNIT_ROWS = 8, CE_UNIT_COLS = 32 };

static int ce_col_units(int n) { return (n + CE_UNIT_COLS - 1) / CE_UNIT_COLS; }

size_t loss_sigmoid_ce_units(int m, int n) {
    return (size_t)((m + CE_UNIT_ROWS - 1) / CE_UNIT_ROWS) * (size_t)ce_col_units(n);
}

/* Row r's columns [j, j + 32): σ and gradient written where asked, and the terms of the two
 * 16-column halves added in float (one rounding) returned. */
static inline __attribute__((always_inline)) gm_v16 ce_pair(const float *a, const float *x, float *p, float *g,
                                                            float inv_m) {
    ce_v32 a32, x32, p32;
    memcpy(&a32, a, sizeof a32);
    memcpy(&x32, x, sizeof x32);
    ce_v32 t32 = sigmoid_ce(&p32, a32, x32);
    gm_v16 t0, t1, v0, v1;
    ce_halves(t32, &t0, &t1);
    if (p) {
        ce_halves(p32, &v0, &v1);
        gm_store16(p, v0);
        gm_store16(p + 16, v1);
    }
    if (g) {
        ce_halves((p32 - x32) * inv_m, &v0, &v1);
        gm_store16(g, v0);
        gm_store16(g + 16, v1);
    }
    return t0 + t1;
}

/* The same for the last unit of a row, k < 32 columns: the other lanes computed on zeros and
 * dropped (kept apart from ce_pair, whose code the variable length would spoil). */
static inline __attribute__((always_inline)) gm_v16 ce_pair_tail(const float *a, const float *x, float *p, float *g,
                                                                 int k, float inv_m) {
    ce_v32 a32 = ce_splat(0.0f), x32 = ce_splat(0.0f), p32;
    memcpy(&a32, a, (size_t)k * sizeof(float));
    memcpy(&x32, x, (size_t)k * sizeof(float));
    ce_v32 t32 = sigmoid_ce(&p32, a32, x32), g32 = (p32 - x32) * inv_m;
    for (int q = k; q < 32; q++) t32[q] = 0.0f;
    if (p) memcpy(p, &p32, (size_t)k * sizeof(float));
    if (g) memcpy(g, &g32, (size_t)k * sizeof(float));
    gm_v16 t0, t1;
    ce_halves(t32, &t0, &t1);
    return t0 + t1;
}

/* Columns are taken CE_CHUNK units at a time, so that the units' running sums stay in L1. */
enum { CE_CHUNK = 32 };

/* Rows are walked in order, each from left to right (as the product left them, for the
 * prefetchers), adding into every unit of the row group at once; each unit's sum is the
 * same as unit by unit: its rows in order. */
GM_CLONES void loss_sigmoid_ce_block(void *ctx, float *logits, int ld, int m0, int m1, int n0, int n1) {
    const SigmoidCeJob *c = ctx;
    const float inv_m = 1.0f / (float)c->m;
    const int n = c->n, col_units = ce_col_units(n);
    assert(m0 % CE_UNIT_ROWS == 0 && (m1 % CE_UNIT_ROWS == 0 || m1 == c->m) && n0 % CE_UNIT_COLS == 0 &&
           (n1 % CE_UNIT_COLS == 0 || n1 == n));   /* whole units: see loss.h */
    LaneSums acc[CE_CHUNK];
    for (int g0 = m0; g0 < m1; g0 += CE_UNIT_ROWS) {
        int g1 = g0 + CE_UNIT_ROWS < m1 ? g0 + CE_UNIT_ROWS : m1;
        double *sums = c->unit_sums + (size_t)(g0 / CE_UNIT_ROWS) * col_units;
        for (int c0 = n0; c0 < n1; c0 += CE_CHUNK * CE_UNIT_COLS) {
            int c1 = c0 + CE_CHUNK * CE_UNIT_COLS < n1 ? c0 + CE_CHUNK * CE_UNIT_COLS : n1;
            int units = (c1 - c0 + CE_UNIT_COLS - 1) / CE_UNIT_COLS;
            memset(acc, 0, (size_t)units * sizeof acc[0]);
            for (int r = g0; r < g1; r++) {
                size_t at = (size_t)r * n;
                const float *a = logits + (size_t)r * ld, *x = c->target + at;
                float *p = c->pred ? c->pred + at : NULL, *g = c->grad ? c->grad + at : NULL;
                int u = 0, j = c0;
                for (; j + CE_UNIT_COLS <= c1; u++, j += CE_UNIT_COLS)
                    lane_sums_add(&acc[u], ce_pair(a + j, x + j, p ? p + j : NULL, g ? g + j : NULL, inv_m));
                if (j < c1)
                    lane_sums_add(&acc[u], ce_pair_tail(a + j, x + j, p ? p + j : NULL, g ? g + j : NULL, c1 - j, inv_m));
            }
            for (int u = 0; u < units; u++) sums[c0 / CE_UNIT_COLS + u] = lane_sums_total(&acc[u]);
        }
    }
}

double loss_sigmoid_ce_total(const SigmoidCeJob *c) {
    size_t units = loss_sigmoid_ce_units(c->m, c->n);
    double total = 0.0;
    for (size_t u = 0; u < units; u++) total += c->unit_sums[u];
    return total / c->m;
}

typedef struct LogitsJob {
    const SigmoidCeJob *c;
    float *logits;
} LogitsJob;

/* Whole units of rows, all columns. */
static void logits_rows_part(void *ctx, int part, int parts) {
    const LogitsJob *job = ctx;
    int m = job->c->m, groups = (m + CE_UNIT_ROWS - 1) / CE_UNIT_ROWS, g0, g1;
    par_range(groups, part, parts, 1, &g0, &g1);
    int r1 = g1 * CE_UNIT_ROWS < m ? g1 * CE_UNIT_ROWS : m;
    if (g0 < g1) loss_sigmoid_ce_block((void *)job->c, job->logits, job->c->n, g0 * CE_UNIT_ROWS, r1, 0, job->c->n);
}

double loss_sigmoid_cross_entropy_logits(float *grad_pre, float *pred, const float *logits,
                                         const float *target, int m, int n) {
    size_t units = loss_sigmoid_ce_units(m, n);
    SigmoidCeJob c = {grad_pre, pred, target, m, n, ex_malloc((units > 0 ? units : 1) * sizeof(double))};
    LogitsJob job = {&c, (float *)logits};
    int groups = (m + CE_UNIT_ROWS - 1) / CE_UNIT_ROWS;
    par_run(logits_rows_part, &job, par_parts_for(200.0 * n * m, groups));
    double loss = loss_sigmoid_ce_total(&c);
    free(c.unit_sums);
    return loss;
}

/* The plain reference: exp and log in double, row by row. */
double loss_softmax_cross_entropy_reference(float *grad_logits, const float *logits, const int *targets,
                                            int m, int V, double normalizer) {
    int count = 0;
    for (int i = 0; i < m; i++) count += targets[i] >= 0;
    double norm = normalizer > 0 ? normalizer : (count > 0 ? count : 1);
    float inv = (float)(1.0 / norm);
    double sum = 0.0;
    for (int i = 0; i < m; i++) {
        const float *z = logits + (size_t)i * V;
        float *g = grad_logits ? grad_logits + (size_t)i * V : NULL;
        if (targets[i] < 0) {
            if (g) memset(g, 0, (size_t)V * sizeof *g);
            continue;
        }
        float max = z[0];
        for (int j = 1; j < V; j++) max = z[j] > max ? z[j] : max;
        double denom = 0.0;
        for (int j = 0; j < V; j++) denom += exp((double)(z[j] - max));
        double log_denom = log(denom);
        sum -= (double)(z[targets[i]] - max) - log_denom;
        if (g) {
            for (int j = 0; j < V; j++) g[j] = (float)exp((double)(z[j] - max) - log_denom) * inv;
            g[targets[i]] -= inv;
        }
    }
    return sum / norm;
}

typedef struct SoftmaxCe {
    float *grad;
    const float *logits;
    const int *targets;
    int V;
    float inv;
} SoftmaxCe;

/* One row: −log softmax(z)[y], with e_j = exp(z_j − max z) in float (gatemath.h, 16 at a time,
 * the tail padded with −∞ so it adds 0), Σ e_j and the log in double; the gradient
 * (e_j / Σ e − [j = y]) · inv. */
GM_CLONES static double softmax_ce_row(void *ctx, int r) {
    const SoftmaxCe *c = ctx;
    const int V = c->V, y = c->targets[r];
    const float *z = c->logits + (size_t)r * V;
    float *g = c->grad ? c->grad + (size_t)r * V : NULL;
    if (y < 0) {
        if (g) memset(g, 0, (size_t)V * sizeof *g);
        return 0.0;
    }
    float max = z[0];
    for (int j = 1; j < V; j++) max = z[j] > max ? z[j] : max;
    double denom = 0.0;
    int j = 0;
    for (; j + 16 <= V; j += 16) {
        gm_v16 v;
        memcpy(&v, z + j, sizeof v);
        gm_v16 e = gm_exp16(v - max);
        if (g) gm_store16(g + j, e);
        denom += sum16(e);
    }
    if (j < V) {
        int k = V - j;
        gm_v16 e = gm_exp16(gm_load16_first(z + j, k, -INFINITY) - max);
        for (int q = k; q < 16; q++) e[q] = 0.0f;
        if (g) gm_store16_first(g + j, e, k);
        denom += sum16(e);
    }
    if (g) {
        float scale = (float)(1.0 / denom) * c->inv;
        for (int q = 0; q < V; q++) g[q] *= scale;
        g[y] -= c->inv;
    }
    return log(denom) - (double)(z[y] - max);
}

double loss_softmax_cross_entropy(float *grad_logits, const float *logits, const int *targets,
                                  int m, int V, double normalizer) {
    int count = 0;
    for (int i = 0; i < m; i++) count += targets[i] >= 0;
    double norm = normalizer > 0 ? normalizer : (count > 0 ? count : 1);
    SoftmaxCe c = {grad_logits, logits, targets, V, (float)(1.0 / norm)};
    return sum_rows(softmax_ce_row, &c, m, 100.0 * V) / norm;
}
