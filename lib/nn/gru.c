/* gru.c — the GRU over T steps, both variants (equations and layout in gru.h).
 *
 * Backward through one step, with dh = ∂L/∂h_t (from above plus from step t+1), a_• the gate
 * pre-activations and n = h̃:
 *   GRU_CHO      (h_t = (1 − z) h_{t−1} + z n,  n = tanh(a_n),  a_n = W_n [r h_{t−1}, x] + b_n)
 *     ∂L/∂a_n = dh z (1 − n²)          ∂L/∂a_z = dh (n − h_{t−1}) z (1 − z)
 *     ∂L/∂(r h_{t−1}) = W_nhᵀ ∂L/∂a_n  ∂L/∂a_r = ∂L/∂(r h_{t−1}) h_{t−1} r (1 − r)
 *     ∂L/∂h_{t−1} = dh (1 − z) + ∂L/∂(r h_{t−1}) r + W_rhᵀ ∂L/∂a_r + W_zhᵀ ∂L/∂a_z
 *   GRU_PYTORCH  (h_t = (1 − z) n + z h_{t−1},  n = tanh(a_n + r hn),  hn = W_hn h_{t−1} + b_hn)
 *     ∂L/∂a_n = dh (1 − z) (1 − n²)    ∂L/∂a_z = dh (h_{t−1} − n) z (1 − z)
 *     ∂L/∂hn = ∂L/∂a_n r               ∂L/∂a_r = ∂L/∂a_n hn r (1 − r)
 *     ∂L/∂h_{t−1} = dh z + W_hᵀ [∂L/∂a_r, ∂L/∂a_z, ∂L/∂hn] */
#include "gru.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "cell.h"
#include "error.h"
#include "gatemath.h"
#include "stepsplit.h"

void gru_cache_alloc(GruCache *c, int max_B, int max_T, int n_in, int H) {
    size_t steps = (size_t)max_T * max_B * H, states = (size_t)(max_T + 1) * max_B * H;
    c->block = ex_calloc(3 * steps + states + steps + 3 * (size_t)max_B * H, sizeof(float));
    c->gates = c->block;
    c->h = c->gates + 3 * steps;
    c->aux = c->h + states;
    c->rec = c->aux + steps;
    packed_alloc(&c->wh, H, 3 * H);
    packed_alloc(&c->wn, H, H);
    packed_alloc(&c->wx, n_in, 3 * H);
}

void gru_cache_free(GruCache *c) {
    packed_free(&c->wh);
    packed_free(&c->wn);
    packed_free(&c->wx);
    free(c->block);
    memset(c, 0, sizeof *c);
}

void gru_work_alloc(GruWork *w, GruVariant v, int max_B, int max_T, int n_in, int H) {
    size_t steps = (size_t)max_T * max_B * H, row = (size_t)max_B * H;
    size_t dgh = v == GRU_PYTORCH ? 3 * steps : 0;
    w->block = ex_calloc(3 * steps + dgh + 2 * row, sizeof(float));
    w->dgx = w->block;
    w->dgh = v == GRU_PYTORCH ? w->dgx + 3 * steps : NULL;
    w->dh = w->dgx + 3 * steps + dgh;
    w->drh = w->dh + row;
    w->sq = ex_calloc((size_t)max_T * max_B * step_norm_chunks(H), sizeof(double));
    packed_alloc(&w->wh, 3 * H, H);
    packed_alloc(&w->wn, H, H);
    packed_alloc(&w->wx, 3 * H, n_in);
    packed_alloc(&w->act, max_T * max_B, H + n_in);   /* [h | x] for the weight gradients */
}

void gru_work_free(GruWork *w) {
    packed_free(&w->wh);
    packed_free(&w->wn);
    packed_free(&w->wx);
    packed_free(&w->act);
    free(w->sq);
    free(w->block);
    memset(w, 0, sizeof *w);
}

const float *gru_output(const GruCache *c, int B, int H) { return c->h + (size_t)B * H; }
const float *gru_final_h(const GruCache *c, int B, int T, int H) { return c->h + (size_t)T * B * H; }

static void copy_or_zero(float *dst, const float *src, size_t n) {
    if (src == dst) return;   /* a span continuing from the cache's own slot (cell.h) */
    if (src) memcpy(dst, src, n * sizeof *dst);
    else memset(dst, 0, n * sizeof *dst);
}

/* Σ_b ‖v[b]‖₂ over the rows of v (B, H). */
static double row_norm_sum(const float *v, int B, int H) {
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        double sq = 0.0;
        for (int j = 0; j < H; j++) sq += (double)v[(size_t)r * H + j] * v[(size_t)r * H + j];
        sum += sqrt(sq);
    }
    return sum;
}

/* ---- fast path -------------------------------------------------------------------------- */

static void forward_cho(GruCache *cache, const float *b, int B, int T, int H) {
    const int G = 3 * H;
    const size_t BH = (size_t)B * H;
    for (int t = 1; t <= T; t++) {
        float *a = cache->gates + (size_t)(t - 1) * B * G;      /* (B, 3H), holds W_x x_t */
        const float *h_prev = cache->h + (size_t)(t - 1) * BH;
        float *h_t = cache->h + (size_t)t * BH;
        float *rh = cache->aux + (size_t)(t - 1) * BH;
        /* a_r, a_z += h_{t−1} · W_{r,z;h}ᵀ */
        packed_gemm(a, G, h_prev, H, &cache->wh, B, 1.0f);
        for (int r = 0; r < B; r++) {
            float *ar = a + (size_t)r * G;
            const float *hp = h_prev + (size_t)r * H;
            float *rhr = rh + (size_t)r * H;
            for (int k = 0; k < 2 * H; k++) ar[k] += b[k];
            gm_sigmoid(ar, ar, 2 * H);                                  /* r_t, z_t */
            for (int j = 0; j < H; j++) rhr[j] = ar[j] * hp[j];          /* r_t * h_{t−1} */
        }
        /* a_n += (r_t * h_{t−1}) · W_{n;h}ᵀ */
        packed_gemm(a + 2 * H, G, rh, H, &cache->wn, B, 1.0f);
        for (int r = 0; r < B; r++) {
            float *ar = a + (size_t)r * G;
            const float *hp = h_prev + (size_t)r * H;
            float *hr = h_t + (size_t)r * H;
            float *n_t = ar + 2 * H;
            const float *z_t = ar + H;
            for (int j = 0; j < H; j++) n_t[j] += b[2 * H + j];
            gm_tanh(n_t, n_t, H);                                       /* h̃_t */
            for (int j = 0; j < H; j++) hr[j] = (1.0f - z_t[j]) * hp[j] + z_t[j] * n_t[j];   /* (1 − z) h_{t−1} + z h̃ */
        }
    }
}

/* What the parts of a layer's time loop share (stepsplit.h). */
typedef struct GruStep {
    GruCache *cache;
    GruWork *work;
    const float *b, *b_hn;   /* forward */
    const float *dout;       /* backward: ∂L/∂h from above (T, B, H) */
    int B, T, H;
    StepPlan plan;
} GruStep;

/* One row of a GRU_PYTORCH forward step: a (3H) holds W_x x_t + … and becomes (r_t, z_t, n_t);
 * s (3H) = h_{t−1} · W_hᵀ; hn (H) keeps W_hn h_{t−1} + b_hn for backward; h (H) gets h_t. */
typedef struct GruRowGates {
    float *a;
    const float *s, *b, *b_hn, *h_prev;
    float *hn, *h;
    int H;
} GruRowGates;

/* Units [c0, c0 + n), n ≤ 16, of one row, in one pass of 16-lane vectors (as LSTM's
 * gates_chunk): r_t = σ(a_r + (s_r + b_r)), z_t = σ(a_z + (s_z + b_z)), hn = s_n + b_hn,
 * n_t = tanh(a_n + (b_n + r_t hn)), h_t = (1 − z_t) n_t + z_t h_{t−1}. A row's last units go
 * through the same vector code, so every unit gets the same bits wherever it falls. */
GM_CLONES static void pytorch_gates_chunk(const GruRowGates *row, int c0, int n) {
    const int H = row->H;
    float *a = row->a + c0;
    const float *s = row->s + c0, *b = row->b + c0;
    gm_v16 r_t = gm_sigmoid16(gm_load16_first(a, n, 0.0f) + (gm_load16_first(s, n, 0.0f) + gm_load16_first(b, n, 0.0f)));
    gm_v16 z_t = gm_sigmoid16(gm_load16_first(a + H, n, 0.0f) +
                              (gm_load16_first(s + H, n, 0.0f) + gm_load16_first(b + H, n, 0.0f)));
    gm_v16 hn = gm_load16_first(s + 2 * H, n, 0.0f) + gm_load16_first(row->b_hn + c0, n, 0.0f);   /* W_hn h_{t−1} + b_hn */
    gm_v16 n_t = gm_tanh16(gm_load16_first(a + 2 * H, n, 0.0f) + (gm_load16_first(b + 2 * H, n, 0.0f) + r_t * hn));
    gm_v16 hp = gm_load16_first(row->h_prev + c0, n, 0.0f);
    gm_store16_first(a, r_t, n);
    gm_store16_first(a + H, z_t, n);
    gm_store16_first(a + 2 * H, n_t, n);
    gm_store16_first(row->hn + c0, hn, n);
    gm_store16_first(row->h + c0, (1.0f - z_t) * n_t + z_t * hp, n);   /* (1 − z) n + z h_{t−1} */
}

/* GRU_PYTORCH forward step t for rows [r0, r1) and units [u0, u1): those units' columns of the
 * three gate blocks of s = h_{t−1} · W_hᵀ, then r_t, z_t, n_t and h_t of those units. */
static void forward_pytorch_block(const void *ctx, int t, int r0, int r1, int u0, int u1) {
    const GruStep *st = ctx;
    GruCache *cache = st->cache;
    const int B = st->B, H = st->H, G = 3 * H, n = u1 - u0, rows = r1 - r0;
    const size_t BH = (size_t)B * H;
    const float *b = st->b, *b_hn = st->b_hn;
    float *s = cache->rec;                                       /* (B, 3H) */
    float *a = cache->gates + (size_t)(t - 1) * B * G;
    const float *h_prev = cache->h + (size_t)(t - 1) * BH;
    float *h_t = cache->h + (size_t)t * BH;
    float *hn = cache->aux + (size_t)(t - 1) * BH;
    /* s = h_{t−1} · W_hᵀ for all three gates in one product */
    if (n == H) packed_gemm(s + (size_t)r0 * G, G, h_prev + (size_t)r0 * H, H, &cache->wh, rows, 0.0f);
    else
        for (int g = 0; g < 3; g++)
            packed_gemm_cols(s + (size_t)r0 * G, G, h_prev + (size_t)r0 * H, H, &cache->wh, rows, 0.0f, g * H + u0,
                             g * H + u1);
    for (int r = r0; r < r1; r++) {
        GruRowGates row = {a + (size_t)r * G, s + (size_t)r * G, b, b_hn, h_prev + (size_t)r * H,
                           hn + (size_t)r * H, h_t + (size_t)r * H, H};
        for (int c0 = u0; c0 < u1; c0 += 16) pytorch_gates_chunk(&row, c0, c0 + 16 < u1 ? 16 : u1 - c0);
    }
}

static void forward_pytorch(GruCache *cache, const float *b, const float *b_hn, int B, int T, int H) {
    GruStep step = {cache, NULL, b, b_hn, NULL, B, T, H, step_plan(&cache->wh, B, T, H, 3)};
    step_loop_run(forward_pytorch_block, &step, step.plan, B, H, 1, T);
}

void gru_forward(GruCache *cache, const float *x, const float *h0, const float *W, const float *b,
                 const float *b_hn, GruVariant v, int B, int T, int n_in, int H) {
    const int ld = H + n_in, G = 3 * H;
    copy_or_zero(cache->h, h0, (size_t)B * H);
    /* Input projections of all steps: A (T·B, 3H) = X · W_xᵀ (x NULL: already there, gathered
     * from an embedding's projection by cell_gather_projection). */
    if (x) pk_gemm_nt(cache->gates, G, x, n_in, W + H, ld, T * B, G, n_in, 0.0f, &cache->wx);
    if (v == GRU_CHO) {
        packed_set_transposed(&cache->wh, W, ld, 2 * H, H);
        packed_set_transposed(&cache->wn, W + (size_t)2 * H * ld, ld, H, H);
        forward_cho(cache, b, B, T, H);
    } else {
        packed_set_transposed(&cache->wh, W, ld, G, H);
        forward_pytorch(cache, b, b_hn, B, T, H);
    }
}

static void backward_cho(double *dh_norms, GruWork *work, const float *dout, const GruCache *cache, int B, int T,
                         int H) {
    const int G = 3 * H;
    const size_t BH = (size_t)B * H;
    float *carry = work->dh, *drh = work->drh;
    for (int t = T; t >= 1; t--) {
        const float *gates = cache->gates + (size_t)(t - 1) * B * G;
        float *da = work->dgx + (size_t)(t - 1) * B * G;
        const float *h_prev = cache->h + (size_t)(t - 1) * BH;
        const float *dout_t = dout + (size_t)(t - 1) * BH;
        for (size_t k = 0; k < BH; k++) carry[k] += dout_t[k];  /* total ∂L/∂h_t */
        if (dh_norms) dh_norms[t - 1] += row_norm_sum(carry, B, H);
        for (int r = 0; r < B; r++) {
            const float *gr = gates + (size_t)r * G, *hp = h_prev + (size_t)r * H;
            float *dar = da + (size_t)r * G, *dh = carry + (size_t)r * H;
            for (int j = 0; j < H; j++) {
                float z_t = gr[H + j], n_t = gr[2 * H + j];
                dar[2 * H + j] = dh[j] * z_t * (1.0f - n_t * n_t);
                dar[H + j] = dh[j] * (n_t - hp[j]) * z_t * (1.0f - z_t);
                dh[j] *= 1.0f - z_t;                              /* the direct path to h_{t−1} */
            }
        }
        /* ∂L/∂(r h_{t−1}) = ∂L/∂a_n (B, H) · W_{n;h} (H, H) */
        packed_gemm(drh, H, da + 2 * H, G, &work->wn, B, 0.0f);
        for (int r = 0; r < B; r++) {
            const float *gr = gates + (size_t)r * G, *hp = h_prev + (size_t)r * H;
            float *dar = da + (size_t)r * G, *dh = carry + (size_t)r * H;
            const float *drhr = drh + (size_t)r * H;
            for (int j = 0; j < H; j++) {
                float r_t = gr[j];
                dar[j] = drhr[j] * hp[j] * r_t * (1.0f - r_t);
                dh[j] += drhr[j] * r_t;
            }
        }
        /* ∂L/∂h_{t−1} += [∂L/∂a_r, ∂L/∂a_z] (B, 2H) · W_{rz;h} (2H, H) */
        packed_gemm(carry, H, da, G, &work->wh, B, 1.0f);
    }
}

/* One row of a GRU_PYTORCH backward step: its gates (r, z, n), h_{t−1}, hn, and where the
 * gate gradients go (dax: the input side, dah: the recurrent side); dh: ∂L/∂h_t carried from
 * step t+1 in, to which dout (∂L/∂h_t from above) is added, and dh z out; sq: the row's
 * squared norms of the total ∂L/∂h_t in chunks of STEP_NORM_CHUNK units (stepsplit.h). */
typedef struct GruRowGrads {
    const float *gates, *h_prev, *hn, *dout;
    float *dax, *dah, *dh;
    double *sq;
    int H;
} GruRowGrads;

/* Units [u0, u1) of one row (the equations at the top of this file). Written with 16-lane
 * vectors because GCC leaves the plain loop scalar (six stores through pointers it cannot
 * prove apart), and it was a tenth of gru_h256's time. A row's last units go
 * through the same vector code, so every unit gets the same bits wherever it falls. */
GM_CLONES static void pytorch_gate_grads(const GruRowGrads *row, int u0, int u1) {
    const int H = row->H;
    _Static_assert(STEP_NORM_CHUNK == 16, "one chunk of the norms per vector");
    for (int j = u0; j < u1; j += 16) {
        int n = u1 - j < 16 ? u1 - j : 16;
        gm_v16 r_t = gm_load16_first(row->gates + j, n, 0.0f), z_t = gm_load16_first(row->gates + H + j, n, 0.0f);
        gm_v16 n_t = gm_load16_first(row->gates + 2 * H + j, n, 0.0f), hp = gm_load16_first(row->h_prev + j, n, 0.0f);
        gm_v16 hn = gm_load16_first(row->hn + j, n, 0.0f);
        gm_v16 dh = gm_load16_first(row->dh + j, n, 0.0f) + gm_load16_first(row->dout + j, n, 0.0f);   /* total ∂L/∂h_t */
        row->sq[j / STEP_NORM_CHUNK] = gm_sum_squares16(dh);   /* its chunk's Σ dh² (stepsplit.h) */
        gm_v16 da_n = dh * (1.0f - z_t) * (1.0f - n_t * n_t);
        gm_v16 da_z = dh * (hp - n_t) * z_t * (1.0f - z_t);
        gm_v16 da_r = da_n * hn * r_t * (1.0f - r_t);
        gm_store16_first(row->dax + j, da_r, n);
        gm_store16_first(row->dax + H + j, da_z, n);
        gm_store16_first(row->dax + 2 * H + j, da_n, n);
        gm_store16_first(row->dah + j, da_r, n);
        gm_store16_first(row->dah + H + j, da_z, n);
        gm_store16_first(row->dah + 2 * H + j, da_n * r_t, n);   /* ∂L/∂(W_hn h + b_hn) */
        gm_store16_first(row->dh + j, dh * z_t, n);
    }
}

/* GRU_PYTORCH backward step t for rows [r0, r1) and units [u0, u1): for t < T first ∂L/∂h_t
 * there carried back from step t+1, carry += dah_{t+1} (B, 3H) · W_h (3H, H) (carry already
 * holds dh z there); then for t ≥ 1 the gate gradients, and carry ← dh z for step t−1. */
static void backward_pytorch_block(const void *ctx, int t, int r0, int r1, int u0, int u1) {
    const GruStep *st = ctx;
    const GruCache *cache = st->cache;
    GruWork *work = st->work;
    const int B = st->B, H = st->H, G = 3 * H, rows = r1 - r0;
    const size_t BH = (size_t)B * H;
    float *carry = work->dh;
    if (t < st->T) {
        const float *dah_next = work->dgh + ((size_t)t * B + r0) * G;
        if (u1 - u0 == H) packed_gemm(carry + (size_t)r0 * H, H, dah_next, G, &work->wh, rows, 1.0f);
        else packed_gemm_cols(carry + (size_t)r0 * H, H, dah_next, G, &work->wh, rows, 1.0f, u0, u1);
    }
    if (t < 1) return;
    const float *gates = cache->gates + (size_t)(t - 1) * B * G;
    float *dax = work->dgx + (size_t)(t - 1) * B * G, *dah = work->dgh + (size_t)(t - 1) * B * G;
    const float *h_prev = cache->h + (size_t)(t - 1) * BH, *hn = cache->aux + (size_t)(t - 1) * BH;
    const float *dout_t = st->dout + (size_t)(t - 1) * BH;
    for (int r = r0; r < r1; r++) {
        GruRowGrads row = {gates + (size_t)r * G, h_prev + (size_t)r * H, hn + (size_t)r * H, dout_t + (size_t)r * H,
                           dax + (size_t)r * G, dah + (size_t)r * G, carry + (size_t)r * H,
                           step_chunk_row(work->sq, t, r, B, H), H};
        pytorch_gate_grads(&row, u0, u1);
    }
}

static void backward_pytorch(double *dh_norms, GruWork *work, const float *dout, const GruCache *cache, int B,
                             int T, int H) {
    GruStep step = {(GruCache *)cache, work, NULL, NULL, dout, B, T, H, step_plan(&work->wh, B, T, H, 3)};
    step_loop_run(backward_pytorch_block, &step, step.plan, B, H, T, 0);
    if (dh_norms) step_norm_sums(dh_norms, work->sq, B, T, H);
}

void gru_backward(float *dx, float *dh0, float *dW, float *db, float *db_hn, double *dh_norms,
                  GruWork *work, const float *dout, const float *dhT, const GruCache *cache,
                  const float *x, const float *W, GruVariant v, int B, int T, int n_in, int H) {
    const int ld = H + n_in, G = 3 * H, rows = T * B;
    copy_or_zero(work->dh, dhT, (size_t)B * H);
    if (v == GRU_CHO) {
        packed_set(&work->wh, W, ld, 2 * H, H);
        packed_set(&work->wn, W + (size_t)2 * H * ld, ld, H, H);
        backward_cho(dh_norms, work, dout, cache, B, T, H);
    } else {
        packed_set(&work->wh, W, ld, G, H);
        backward_pytorch(dh_norms, work, dout, cache, B, T, H);
    }
    if (dh0) memcpy(dh0, work->dh, (size_t)B * H * sizeof *dh0);

    const float *dAx = work->dgx;   /* (T·B, 3H) */
    float *dW_n = dW + (size_t)2 * H * ld;
    /* The r, z rows: [dW_h | dW_x] += dAxᵀ [H_{0..T−1} | X] in one product (both sides share
     * their gate gradients); their db += Σ rows of dAx */
    pk_gemm_tn_pair_sums(dW, ld, dAx, G, cache->h, H, H, x, n_in, n_in, 2 * H, rows, 1.0f, &work->act, db, 0);
    if (v == GRU_CHO) {
        /* the n rows see [r_t * h_{t−1} | x] */
        pk_gemm_tn_pair_sums(dW_n, ld, dAx + 2 * H, G, cache->aux, H, H, x, n_in, n_in, H, rows, 1.0f, &work->act,
                             db + 2 * H, 0);
    } else {
        /* the n rows: dW_xn from the input side's ∂L/∂a_n, dW_hn from ∂L/∂(W_hn h + b_hn), whose
         * row sums are db_hn */
        pk_gemm_tn_sums(dW_n + H, ld, dAx + 2 * H, G, x, n_in, H, n_in, rows, 1.0f, &work->act, db + 2 * H, 0);
        pk_gemm_tn_sums(dW_n, ld, work->dgh + 2 * H, G, cache->h, H, H, H, rows, 1.0f, &work->act, db_hn, 0);
    }
    if (dx)
        pk_gemm_nn(dx, n_in, dAx, G, W + H, ld, rows, n_in, G, 0.0f, &work->wx);
}

/* ---- plain reference -------------------------------------------------------------------- */

/* Row j of W times [s, x_t], where s is h_{t−1} or r_t * h_{t−1} (use_x = 0 skips the x part). */
static float dot_row(const float *W, int j, const float *s, const float *x_t, int n_in, int H, int use_x) {
    const float *w = W + (size_t)j * (H + n_in);
    float sum = 0.0f;
    for (int k = 0; k < H; k++) sum += w[k] * s[k];
    if (use_x)
        for (int k = 0; k < n_in; k++) sum += w[H + k] * x_t[k];
    return sum;
}

static float dot_x(const float *W, int j, const float *x_t, int n_in, int H) {
    const float *w = W + (size_t)j * (H + n_in) + H;
    float sum = 0.0f;
    for (int k = 0; k < n_in; k++) sum += w[k] * x_t[k];
    return sum;
}

void gru_forward_reference(GruCache *cache, const float *x, const float *h0, const float *W,
                           const float *b, const float *b_hn, GruVariant v, int B, int T, int n_in,
                           int H) {
    const size_t BH = (size_t)B * H;
    copy_or_zero(cache->h, h0, BH);
    for (int t = 1; t <= T; t++)
        for (int r = 0; r < B; r++) {
            const float *x_t = x + ((size_t)(t - 1) * B + r) * n_in;
            const float *h_prev = cache->h + (size_t)(t - 1) * BH + (size_t)r * H;
            float *h_t = cache->h + (size_t)t * BH + (size_t)r * H;
            float *gates = cache->gates + ((size_t)(t - 1) * B + r) * 3 * H;
            float *aux = cache->aux + (size_t)(t - 1) * BH + (size_t)r * H;
            for (int j = 0; j < H; j++) {
                gates[j] = 1.0f / (1.0f + expf(-(dot_row(W, j, h_prev, x_t, n_in, H, 1) + b[j])));
                gates[H + j] = 1.0f / (1.0f + expf(-(dot_row(W, H + j, h_prev, x_t, n_in, H, 1) + b[H + j])));
            }
            if (v == GRU_CHO) {
                for (int j = 0; j < H; j++) aux[j] = gates[j] * h_prev[j];       /* r_t * h_{t−1} */
                for (int j = 0; j < H; j++) {
                    float n_t = tanhf(dot_row(W, 2 * H + j, aux, x_t, n_in, H, 1) + b[2 * H + j]);
                    float z_t = gates[H + j];
                    gates[2 * H + j] = n_t;
                    h_t[j] = (1.0f - z_t) * h_prev[j] + z_t * n_t;
                }
            } else {
                for (int j = 0; j < H; j++) {
                    float r_t = gates[j], z_t = gates[H + j];
                    aux[j] = dot_row(W, 2 * H + j, h_prev, x_t, n_in, H, 0) + b_hn[j];
                    float n_t = tanhf(dot_x(W, 2 * H + j, x_t, n_in, H) + b[2 * H + j] + r_t * aux[j]);
                    gates[2 * H + j] = n_t;
                    h_t[j] = (1.0f - z_t) * n_t + z_t * h_prev[j];
                }
            }
        }
}

void gru_backward_reference(float *dx, float *dh0, float *dW, float *db, float *db_hn,
                            double *dh_norms, GruWork *work, const float *dout, const float *dhT,
                            const GruCache *cache, const float *x, const float *W, GruVariant v,
                            int B, int T, int n_in, int H) {
    const int ld = H + n_in, G = 3 * H;
    const size_t BH = (size_t)B * H;
    float *carry = work->dh;
    copy_or_zero(carry, dhT, BH);
    for (int t = T; t >= 1; t--)
        for (int r = 0; r < B; r++) {
            const float *gates = cache->gates + ((size_t)(t - 1) * B + r) * G;
            const float *h_prev = cache->h + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *aux = cache->aux + (size_t)(t - 1) * BH + (size_t)r * H;
            float *dax = work->dgx + ((size_t)(t - 1) * B + r) * G;
            float *dah = v == GRU_PYTORCH ? work->dgh + ((size_t)(t - 1) * B + r) * G : NULL;
            float *dh = carry + (size_t)r * H;
            double sq = 0.0;
            for (int j = 0; j < H; j++) {
                dh[j] += dout[(size_t)(t - 1) * BH + (size_t)r * H + j];
                sq += (double)dh[j] * dh[j];
            }
            if (dh_norms) dh_norms[t - 1] += sqrt(sq);
            float *dprev = work->drh + (size_t)r * H;           /* ∂L/∂h_{t−1} of this row */
            if (v == GRU_CHO) {
                for (int j = 0; j < H; j++) {
                    float z_t = gates[H + j], n_t = gates[2 * H + j];
                    dax[2 * H + j] = dh[j] * z_t * (1.0f - n_t * n_t);
                    dax[H + j] = dh[j] * (n_t - h_prev[j]) * z_t * (1.0f - z_t);
                }
                for (int k = 0; k < H; k++) {
                    float drh = 0.0f;                                  /* ∂L/∂(r h_{t−1})[k] */
                    for (int j = 0; j < H; j++) drh += W[(size_t)(2 * H + j) * ld + k] * dax[2 * H + j];
                    float r_t = gates[k];
                    dax[k] = drh * h_prev[k] * r_t * (1.0f - r_t);
                    dprev[k] = dh[k] * (1.0f - gates[H + k]) + drh * r_t;
                }
                for (int k = 0; k < H; k++)
                    for (int j = 0; j < 2 * H; j++) dprev[k] += W[(size_t)j * ld + k] * dax[j];
            } else {
                for (int j = 0; j < H; j++) {
                    float r_t = gates[j], z_t = gates[H + j], n_t = gates[2 * H + j];
                    float da_n = dh[j] * (1.0f - z_t) * (1.0f - n_t * n_t);
                    dax[j] = dah[j] = da_n * aux[j] * r_t * (1.0f - r_t);
                    dax[H + j] = dah[H + j] = dh[j] * (h_prev[j] - n_t) * z_t * (1.0f - z_t);
                    dax[2 * H + j] = da_n;
                    dah[2 * H + j] = da_n * r_t;
                }
                for (int k = 0; k < H; k++) {
                    dprev[k] = dh[k] * gates[H + k];
                    for (int j = 0; j < G; j++) dprev[k] += W[(size_t)j * ld + k] * dah[j];
                }
            }
            for (int k = 0; k < H; k++) dh[k] = dprev[k];
        }
    if (dh0) memcpy(dh0, carry, BH * sizeof *dh0);
    for (int t = 1; t <= T; t++)
        for (int r = 0; r < B; r++) {
            const float *h_prev = cache->h + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *aux = cache->aux + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *x_t = x + ((size_t)(t - 1) * B + r) * n_in;
            const float *dax = work->dgx + ((size_t)(t - 1) * B + r) * G;
            const float *dah = v == GRU_PYTORCH ? work->dgh + ((size_t)(t - 1) * B + r) * G : NULL;
            for (int j = 0; j < G; j++) {
                /* the h-columns see h_{t−1}, except the candidate's in GRU_CHO, which see r h_{t−1} */
                const float *s = (v == GRU_CHO && j >= 2 * H) ? aux : h_prev;
                float dh_row = v == GRU_CHO ? dax[j] : dah[j];
                for (int k = 0; k < H; k++) dW[(size_t)j * ld + k] += dh_row * s[k];
                for (int k = 0; k < n_in; k++) dW[(size_t)j * ld + H + k] += dax[j] * x_t[k];
                db[j] += dax[j];
                if (v == GRU_PYTORCH && j >= 2 * H) db_hn[j - 2 * H] += dah[j];
            }
            if (dx)
                for (int k = 0; k < n_in; k++) {
                    float d = 0.0f;
                    for (int j = 0; j < G; j++) d += W[(size_t)j * ld + H + k] * dax[j];
                    dx[((size_t)(t - 1) * B + r) * n_in + k] = d;
                }
        }
}

/* ---- the cell table's row (cell.h) ------------------------------------------------------- */

static void *cell_alloc(CellPart part, const CellSettings *cs, int max_B, int max_T, int n_in, int H) {
    void *p = ex_calloc(1, part == CELL_WORK ? sizeof(GruWork) : sizeof(GruCache));
    if (part == CELL_WORK) gru_work_alloc(p, cs->gru_variant, max_B, max_T, n_in, H);
    else gru_cache_alloc(p, max_B, max_T, n_in, H);
    return p;
}

static void cell_release(CellPart part, void *p) {
    if (p && part == CELL_WORK) gru_work_free(p);
    else if (p) gru_cache_free(p);
    free(p);
}

/* GRU_CHO's second recurrent operand wn is live beside wh: it keeps its own room. */
static int cell_shareable(CellPart part, void *p, PackedMat **out) {
    if (part == CELL_WORK) {
        GruWork *w = p;
        out[0] = &w->wh, out[1] = &w->wx, out[2] = &w->act;
        return 3;
    }
    GruCache *c = p;
    out[0] = &c->wh, out[1] = &c->wx;
    return 2;
}

/* The cache as seen from slot t0: its slot 0 is slot t0 (rec is a step's scratch). */
static GruCache cell_view(const GruCache *c, const CellSpan *sp) {
    size_t off = (size_t)sp->t0 * sp->B * sp->H;
    GruCache v = *c;
    v.gates += 3 * off, v.h += off, v.aux += off;
    return v;
}

static void cell_forward(void *cache, const CellSpan *sp, const CellWeights *w, const float *x,
                         const float *const *s0) {
    GruCache *c = cache, v = cell_view(c, sp);
    if (sp->proj) cell_gather_projection(v.gates, 3 * sp->H, sp, 3 * sp->H);   /* W_x x in place: x NULL below */
    gru_forward(&v, sp->proj ? NULL : x, s0[0], w->W, w->b, w->b_hn, sp->cs->gru_variant, sp->B, sp->T, sp->n_in, sp->H);
    c->wh = v.wh, c->wn = v.wn, c->wx = v.wx;   /* what was packed */
}

static void cell_backward(void *cache, void *work, const CellSpan *sp, const CellWeights *w, CellGrads *g,
                          const float *x, float *dx, const float *dout, const float *const *dsT, float *const *ds0,
                          double *dh_norms) {
    GruCache v = cell_view(cache, sp);
    gru_backward(dx, ds0[0], g->W, g->b, g->b_hn, dh_norms, work, dout, dsT[0], &v, x, w->W, sp->cs->gru_variant,
                 sp->B, sp->T, sp->n_in, sp->H);
}

static const float *cell_input_grads(const void *work) { return ((const GruWork *)work)->dgx; }

static const float *cell_state(const void *cache, const CellSettings *cs, int k, int t, int B, int H) {
    (void)cs, (void)k;
    return ((const GruCache *)cache)->h + (size_t)t * B * H;
}

static const float *cell_output(const void *cache, const CellSettings *cs, int t, int B, int H) {
    return cell_state(cache, cs, 0, t, B, H);
}

static const char *cell_layout(const CellSettings *cs, const char *view) {
    int pytorch = cs->gru_variant == GRU_PYTORCH;
    if (strcmp(view, "W") == 0) return "3H,H+I gates r,z,n; cols [h|x] = [W_hh|W_ih]";
    if (strcmp(view, "b") == 0) return pytorch ? "3H gates r,z,n (r,z: b_ih+b_hh; n: b_in)" : "3H gates r,z,n";
    if (strcmp(view, "b_hn") == 0 && pytorch) return "H (b_hh of gate n)";
    return NULL;
}

const CellOps GRU_CELL = {
    .name = "gru", .gates = 3, .states = 1, .forget_gate = -1, .layout = cell_layout,
    .alloc = cell_alloc, .release = cell_release, .shareable = cell_shareable, .forward = cell_forward,
    .backward = cell_backward, .input_grads = cell_input_grads, .state = cell_state, .output = cell_output,
};
