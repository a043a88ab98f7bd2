/* lstm.c — the LSTM of the slides over T steps (equations and layout in lstm.h).
 *
 * Backward through one step, from ∂L/∂h_t (dout_t plus what came back from step t+1) and the
 * ∂L/∂c_t carried from step t+1:
 *   ∂L/∂o_t  = ∂L/∂h_t * tanh(c_t)
 *   ∂L/∂c_t += ∂L/∂h_t * o_t * (1 − tanh²(c_t))
 *   ∂L/∂i_t  = ∂L/∂c_t * c̃_t        ∂L/∂c̃_t = ∂L/∂c_t * i_t        ∂L/∂f_t = ∂L/∂c_t * c_{t−1}
 *   ∂L/∂c_{t−1} = ∂L/∂c_t * f_t      (the memory cell's nearly uninterrupted path back in time)
 *   through the non-linearities: σ' = σ(1 − σ), tanh' = 1 − tanh²
 *   ∂L/∂h_{t−1} = W_hᵀ ∂L/∂z_t       (z_t = the four gate pre-activations)
 * and the weight gradients sum ∂L/∂z_t [h_{t−1}, x_t]ᵀ over t. */
#include "lstm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "cell.h"
#include "error.h"
#include "gatemath.h"
#include "stepsplit.h"

void lstm_cache_alloc(LstmCache *c, int max_B, int max_T, int n_in, int H) {
    size_t steps = (size_t)max_T * max_B * H, states = (size_t)(max_T + 1) * max_B * H;
    c->block = ex_calloc(4 * steps + steps + 2 * states, sizeof(float));
    c->gates = c->block;
    c->tc = c->gates + 4 * steps;
    c->c = c->tc + steps;
    c->h = c->c + states;
    packed_alloc(&c->wh, H, 4 * H);
    packed_alloc(&c->wx, n_in, 4 * H);
}

void lstm_cache_free(LstmCache *c) {
    packed_free(&c->wh);
    packed_free(&c->wx);
    free(c->block);
    memset(c, 0, sizeof *c);
}

void lstm_work_alloc(LstmWork *w, int max_B, int max_T, int n_in, int H) {
    size_t steps = (size_t)max_T * max_B * H, row = (size_t)max_B * H;
    w->block = ex_calloc(4 * steps + 2 * row, sizeof(float));
    w->dgates = w->block;
    w->dh = w->dgates + 4 * steps;
    w->dc = w->dh + row;
    w->sq = ex_calloc((size_t)max_T * max_B * step_norm_chunks(H), sizeof(double));
    packed_alloc(&w->wh, 4 * H, H);
    packed_alloc(&w->wx, 4 * H, n_in);
    packed_alloc(&w->act, max_T * max_B, H + n_in);   /* [h | x] for the weight gradients */
}

void lstm_work_free(LstmWork *w) {
    packed_free(&w->wh);
    packed_free(&w->wx);
    packed_free(&w->act);
    free(w->sq);
    free(w->block);
    memset(w, 0, sizeof *w);
}

const float *lstm_output(const LstmCache *c, int B, int H) { return c->h + (size_t)B * H; }
const float *lstm_final_h(const LstmCache *c, int B, int T, int H) { return c->h + (size_t)T * B * H; }
const float *lstm_final_c(const LstmCache *c, int B, int T, int H) { return c->c + (size_t)T * B * H; }

static void copy_or_zero(float *dst, const float *src, size_t n) {
    if (src == dst) return;   /* a span continuing from the cache's own slot (cell.h) */
    if (src) memcpy(dst, src, n * sizeof *dst);
    else memset(dst, 0, n * sizeof *dst);
}

/* ---- fast path -------------------------------------------------------------------------- */

/* What the parts of a layer's time loop share (stepsplit.h). */
typedef struct LstmStep {
    LstmCache *cache;
    LstmWork *work;
    const float *b;      /* forward: the bias (4H) */
    const float *dout;   /* backward: ∂L/∂h from above (T, B, H) */
    int B, T, H;
    StepPlan plan;
} LstmStep;

/* One row of a forward step after its product: z (4H, the pre-activations in, the gates
 * i, f, c̃, o out), the bias, c_{t−1}, and where c_t, tanh c_t and h_t go. */
typedef struct LstmRowGates {
    float *z;
    const float *b, *c_prev;
    float *c, *tc, *h;
    int H;
} LstmRowGates;

/* Units [c0, c0 + n) of one row, n ≤ 16, as one 16-lane vector: bias, gates, memory cell and
 * output in one pass over the row's values (as separate passes, the bias and the cell's loops ran
 * 4 lanes wide and every value went through L1 three times). The same operations on every value
 * as gatemath.h's array functions: the same bits. */
GM_CLONES static void gates_chunk(const LstmRowGates *row, int c0, int n) {
    const int H = row->H;
    float *z = row->z + c0;
    const float *b = row->b + c0;
    gm_v16 i_t = gm_sigmoid16(gm_load16_first(z, n, 0.0f) + gm_load16_first(b, n, 0.0f));
    gm_v16 f_t = gm_sigmoid16(gm_load16_first(z + H, n, 0.0f) + gm_load16_first(b + H, n, 0.0f));
    gm_v16 g_t = gm_tanh16(gm_load16_first(z + 2 * H, n, 0.0f) + gm_load16_first(b + 2 * H, n, 0.0f));   /* c̃_t */
    gm_v16 o_t = gm_sigmoid16(gm_load16_first(z + 3 * H, n, 0.0f) + gm_load16_first(b + 3 * H, n, 0.0f));
    gm_v16 c_t = f_t * gm_load16_first(row->c_prev + c0, n, 0.0f) + i_t * g_t;   /* c_t = f_t * c_{t−1} + i_t * c̃_t */
    gm_v16 tc = gm_tanh16(c_t);
    gm_store16_first(z, i_t, n);
    gm_store16_first(z + H, f_t, n);
    gm_store16_first(z + 2 * H, g_t, n);
    gm_store16_first(z + 3 * H, o_t, n);
    gm_store16_first(row->c + c0, c_t, n);
    gm_store16_first(row->tc + c0, tc, n);
    gm_store16_first(row->h + c0, o_t * tc, n);                                  /* h_t = o_t * tanh(c_t) */
}

/* Forward step t for rows [r0, r1) and units [u0, u1): those units' columns of the four gate
 * blocks of z_t += h_{t−1} (B, H) · W_hᵀ (H, 4H); then bias, the gate non-linearities, the
 * memory cell and the output, 16 units at a time. */
static void forward_block(const void *ctx, int t, int r0, int r1, int u0, int u1) {
    const LstmStep *s = ctx;
    LstmCache *cache = s->cache;
    const int B = s->B, H = s->H, G = 4 * H, n = u1 - u0, rows = r1 - r0;
    const size_t BH = (size_t)B * H;
    float *z = cache->gates + (size_t)(t - 1) * B * G;      /* (B, 4H) */
    const float *h_prev = cache->h + (size_t)(t - 1) * BH;
    const float *c_prev = cache->c + (size_t)(t - 1) * BH;
    float *c_t = cache->c + (size_t)t * BH, *h_t = cache->h + (size_t)t * BH;
    float *tc_t = cache->tc + (size_t)(t - 1) * BH;
    if (n == H) {
        packed_gemm(z + (size_t)r0 * G, G, h_prev + (size_t)r0 * H, H, &cache->wh, rows, 1.0f);
    } else {
        for (int g = 0; g < 4; g++)
            packed_gemm_cols(z + (size_t)r0 * G, G, h_prev + (size_t)r0 * H, H, &cache->wh, rows, 1.0f, g * H + u0,
                             g * H + u1);
    }
    for (int r = r0; r < r1; r++) {
        LstmRowGates row = {z + (size_t)r * G, s->b, c_prev + (size_t)r * H, c_t + (size_t)r * H,
                            tc_t + (size_t)r * H, h_t + (size_t)r * H, H};
        for (int c0 = u0; c0 < u1; c0 += 16) gates_chunk(&row, c0, c0 + 16 < u1 ? 16 : u1 - c0);
    }
}

void lstm_forward(LstmCache *cache, const float *x, const float *h0, const float *c0, const float *W,
                  const float *b, int B, int T, int n_in, int H) {
    const int ld = H + n_in, G = 4 * H;
    const size_t BH = (size_t)B * H;
    copy_or_zero(cache->h, h0, BH);
    copy_or_zero(cache->c, c0, BH);

    /* Input projections of all steps: Z (T·B, 4H) = X (T·B, n_in) · W_xᵀ (x NULL: already
     * there, gathered from an embedding's projection by cell_gather_projection). */
    if (x) pk_gemm_nt(cache->gates, G, x, n_in, W + H, ld, T * B, G, n_in, 0.0f, &cache->wx);
    packed_set_transposed(&cache->wh, W, ld, G, H);

    LstmStep step = {cache, NULL, b, NULL, B, T, H, step_plan(&cache->wh, B, T, H, 4)};
    step_loop_run(forward_block, &step, step.plan, B, H, 1, T);
}

/* One row of a backward step: its gates (i, f, g, o), c_{t−1}, tanh c_t, ∂L/∂h_t from above,
 * and where the results go (dz: the gate gradients; dh: ∂L/∂h_t from step t+1 in; dc:
 * ∂L/∂c_t from step t+1 in, ∂L/∂c_{t−1} out). */
typedef struct LstmRowGrads {
    const float *gates, *c_prev, *tc, *dout;
    float *dz, *dh, *dc;
    int H;
} LstmRowGrads;

/* Units [c0, c1) of one row, at most STEP_NORM_CHUNK = 16 of them, as one 16-lane vector
 * (GCC leaves the plain loop scalar: five stores through pointers it cannot prove apart);
 * returns Σ (∂L/∂h_t)² over them (gm_sum_squares16). */
GM_CLONES static double gate_grads_chunk(const LstmRowGrads *row, int c0, int c1) {
    const int H = row->H, n = c1 - c0;
    const float *gr = row->gates + c0;
    gm_v16 i_t = gm_load16_first(gr, n, 0.0f), f_t = gm_load16_first(gr + H, n, 0.0f);
    gm_v16 g_t = gm_load16_first(gr + 2 * H, n, 0.0f), o_t = gm_load16_first(gr + 3 * H, n, 0.0f);
    gm_v16 tc = gm_load16_first(row->tc + c0, n, 0.0f), c_prev = gm_load16_first(row->c_prev + c0, n, 0.0f);
    gm_v16 dh = gm_load16_first(row->dout + c0, n, 0.0f) + gm_load16_first(row->dh + c0, n, 0.0f);   /* total ∂L/∂h_t */
    gm_v16 dc = gm_load16_first(row->dc + c0, n, 0.0f) + dh * o_t * (1.0f - tc * tc);             /* total ∂L/∂c_t */
    float *dzr = row->dz + c0;
    gm_store16_first(dzr, dc * g_t * i_t * (1.0f - i_t), n);
    gm_store16_first(dzr + H, dc * c_prev * f_t * (1.0f - f_t), n);
    gm_store16_first(dzr + 2 * H, dc * i_t * (1.0f - g_t * g_t), n);
    gm_store16_first(dzr + 3 * H, dh * tc * o_t * (1.0f - o_t), n);
    gm_store16_first(row->dc + c0, dc * f_t, n);                                                  /* ∂L/∂c_{t−1} */
    return gm_sum_squares16(dh);   /* the unused lanes hold 0 */
}

/* Backward step t for rows [r0, r1) and units [u0, u1): for t < T first ∂L/∂h_t there,
 * carried back from step t+1: dh = dz_{t+1} (B, 4H) · W_h (4H, H); then for t ≥ 1 the gate
 * gradients (the equations above) and the squared norms of ∂L/∂h_t in chunks. */
static void backward_block(const void *ctx, int t, int r0, int r1, int u0, int u1) {
    const LstmStep *s = ctx;
    const LstmCache *cache = s->cache;
    LstmWork *work = s->work;
    const int B = s->B, H = s->H, G = 4 * H, rows = r1 - r0;
    const size_t BH = (size_t)B * H;
    float *dh_next = work->dh, *dc_next = work->dc;    /* (B, H) carried from step t+1 */
    if (t < s->T) {
        const float *dz_next = work->dgates + ((size_t)t * B + r0) * G;
        if (u1 - u0 == H) packed_gemm(dh_next + (size_t)r0 * H, H, dz_next, G, &work->wh, rows, 0.0f);
        else packed_gemm_cols(dh_next + (size_t)r0 * H, H, dz_next, G, &work->wh, rows, 0.0f, u0, u1);
    }
    if (t < 1) return;
    const float *gates = cache->gates + (size_t)(t - 1) * B * G;
    float *dz = work->dgates + (size_t)(t - 1) * B * G;
    const float *c_prev = cache->c + (size_t)(t - 1) * BH;
    const float *tc_t = cache->tc + (size_t)(t - 1) * BH;
    const float *dout_t = s->dout + (size_t)(t - 1) * BH;
    for (int r = r0; r < r1; r++) {
        LstmRowGrads row = {gates + (size_t)r * G, c_prev + (size_t)r * H, tc_t + (size_t)r * H,
                            dout_t + (size_t)r * H, dz + (size_t)r * G, dh_next + (size_t)r * H,
                            dc_next + (size_t)r * H, H};
        double *sq_r = step_chunk_row(work->sq, t, r, B, H);
        for (int c0 = u0; c0 < u1; c0 += STEP_NORM_CHUNK)
            sq_r[c0 / STEP_NORM_CHUNK] = gate_grads_chunk(&row, c0, c0 + STEP_NORM_CHUNK < u1 ? c0 + STEP_NORM_CHUNK : u1);
    }
}

void lstm_backward(float *dx, float *dh0, float *dc0, float *dW, float *db, double *dh_norms,
                   LstmWork *work, const float *dout, const float *dhT, const float *dcT,
                   const LstmCache *cache, const float *x, const float *W, int B, int T, int n_in,
                   int H) {
    const int ld = H + n_in, G = 4 * H;
    const size_t BH = (size_t)B * H;
    copy_or_zero(work->dh, dhT, BH);
    copy_or_zero(work->dc, dcT, BH);
    packed_set(&work->wh, W, ld, G, H);

    /* Step t = T..1 computes dz_t; step 0 only carries the gradient to h_0. */
    LstmStep step = {(LstmCache *)cache, work, NULL, dout, B, T, H, step_plan(&work->wh, B, T, H, 4)};
    step_loop_run(backward_block, &step, step.plan, B, H, T, 0);
    if (dh_norms) step_norm_sums(dh_norms, work->sq, B, T, H);
    if (dh0) memcpy(dh0, work->dh, BH * sizeof *dh0);
    if (dc0) memcpy(dc0, work->dc, BH * sizeof *dc0);

    const float *dZ = work->dgates;   /* (T·B, 4H) */
    /* [dW_h | dW_x] += dZᵀ · [H_{0..T−1} | X] (one product: dZᵀ packed once);  db += Σ rows of dZ;
     * dx = dZ · W_x */
    pk_gemm_tn_pair_sums(dW, ld, dZ, G, cache->h, H, H, x, n_in, n_in, G, T * B, 1.0f, &work->act, db, 0);
    if (dx)
        pk_gemm_nn(dx, n_in, dZ, G, W + H, ld, T * B, n_in, G, 0.0f, &work->wx);
}

/* ---- plain reference -------------------------------------------------------------------- */

/* W_• · [h_{t−1}, x_t] + b_• for gate row j (of 4H). */
static float affine_row(const float *W, const float *b, int j, const float *h_prev, const float *x_t,
                        int n_in, int H) {
    const float *w = W + (size_t)j * (H + n_in);
    float sum = b[j];
    for (int k = 0; k < H; k++) sum += w[k] * h_prev[k];
    for (int k = 0; k < n_in; k++) sum += w[H + k] * x_t[k];
    return sum;
}

void lstm_forward_reference(LstmCache *cache, const float *x, const float *h0, const float *c0,
                            const float *W, const float *b, int B, int T, int n_in, int H) {
    const size_t BH = (size_t)B * H;
    copy_or_zero(cache->h, h0, BH);
    copy_or_zero(cache->c, c0, BH);
    for (int t = 1; t <= T; t++)
        for (int r = 0; r < B; r++) {
            const float *x_t = x + ((size_t)(t - 1) * B + r) * n_in;
            const float *h_prev = cache->h + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *c_prev = cache->c + (size_t)(t - 1) * BH + (size_t)r * H;
            float *gates = cache->gates + ((size_t)(t - 1) * B + r) * 4 * H;
            size_t at = (size_t)t * BH + (size_t)r * H;
            for (int j = 0; j < H; j++) {
                float i_t = 1.0f / (1.0f + expf(-affine_row(W, b, j, h_prev, x_t, n_in, H)));
                float f_t = 1.0f / (1.0f + expf(-affine_row(W, b, H + j, h_prev, x_t, n_in, H)));
                float ct_t = tanhf(affine_row(W, b, 2 * H + j, h_prev, x_t, n_in, H));
                float o_t = 1.0f / (1.0f + expf(-affine_row(W, b, 3 * H + j, h_prev, x_t, n_in, H)));
                float c_t = f_t * c_prev[j] + i_t * ct_t;
                gates[j] = i_t;
                gates[H + j] = f_t;
                gates[2 * H + j] = ct_t;
                gates[3 * H + j] = o_t;
                cache->c[at + j] = c_t;
                cache->tc[at - BH + j] = tanhf(c_t);
                cache->h[at + j] = o_t * tanhf(c_t);
            }
        }
}

void lstm_backward_reference(float *dx, float *dh0, float *dc0, float *dW, float *db,
                             double *dh_norms, LstmWork *work, const float *dout, const float *dhT,
                             const float *dcT, const LstmCache *cache, const float *x,
                             const float *W, int B, int T, int n_in, int H) {
    const int ld = H + n_in;
    const size_t BH = (size_t)B * H;
    float *dh_next = work->dh, *dc_next = work->dc;
    copy_or_zero(dh_next, dhT, BH);
    copy_or_zero(dc_next, dcT, BH);
    for (int t = T; t >= 1; t--) {
        for (int r = 0; r < B; r++) {
            const float *gates = cache->gates + ((size_t)(t - 1) * B + r) * 4 * H;
            float *dz = work->dgates + ((size_t)(t - 1) * B + r) * 4 * H;
            size_t row = (size_t)(t - 1) * BH + (size_t)r * H;   /* slot t−1 of (T, B, H) */
            double sq = 0.0;
            for (int j = 0; j < H; j++) {
                float i_t = gates[j], f_t = gates[H + j], ct_t = gates[2 * H + j], o_t = gates[3 * H + j];
                float c_t = cache->c[row + BH + j], c_prev = cache->c[row + j];
                float dh = dout[row + j] + dh_next[(size_t)r * H + j];
                sq += (double)dh * dh;
                float d_o = dh * tanhf(c_t);
                float dc = dc_next[(size_t)r * H + j] + dh * o_t * (1.0f - tanhf(c_t) * tanhf(c_t));
                float d_i = dc * ct_t, d_ct = dc * i_t, d_f = dc * c_prev;
                dz[j] = d_i * i_t * (1.0f - i_t);
                dz[H + j] = d_f * f_t * (1.0f - f_t);
                dz[2 * H + j] = d_ct * (1.0f - ct_t * ct_t);
                dz[3 * H + j] = d_o * o_t * (1.0f - o_t);
                dc_next[(size_t)r * H + j] = dc * f_t;
            }
            if (dh_norms) dh_norms[t - 1] += sqrt(sq);
        }
        /* ∂L/∂h_{t−1}[k] = Σ_j W[j][k] dz_t[j] over the 4H gate rows */
        for (int r = 0; r < B; r++) {
            const float *dz = work->dgates + ((size_t)(t - 1) * B + r) * 4 * H;
            for (int k = 0; k < H; k++) {
                float d = 0.0f;
                for (int j = 0; j < 4 * H; j++) d += W[(size_t)j * ld + k] * dz[j];
                dh_next[(size_t)r * H + k] = d;
            }
        }
    }
    if (dh0) memcpy(dh0, dh_next, BH * sizeof *dh0);
    if (dc0) memcpy(dc0, dc_next, BH * sizeof *dc0);
    for (int t = 1; t <= T; t++)
        for (int r = 0; r < B; r++) {
            const float *dz = work->dgates + ((size_t)(t - 1) * B + r) * 4 * H;
            const float *h_prev = cache->h + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *x_t = x + ((size_t)(t - 1) * B + r) * n_in;
            for (int j = 0; j < 4 * H; j++) {
                for (int k = 0; k < H; k++) dW[(size_t)j * ld + k] += dz[j] * h_prev[k];
                for (int k = 0; k < n_in; k++) dW[(size_t)j * ld + H + k] += dz[j] * x_t[k];
                db[j] += dz[j];
            }
            if (dx)
                for (int k = 0; k < n_in; k++) {
                    float d = 0.0f;
                    for (int j = 0; j < 4 * H; j++) d += W[(size_t)j * ld + H + k] * dz[j];
                    dx[((size_t)(t - 1) * B + r) * n_in + k] = d;
                }
        }
}

/* ---- the cell table's row (cell.h) ------------------------------------------------------- */

static void *cell_alloc(CellPart part, const CellSettings *cs, int max_B, int max_T, int n_in, int H) {
    (void)cs;
    void *p = ex_calloc(1, part == CELL_WORK ? sizeof(LstmWork) : sizeof(LstmCache));
    if (part == CELL_WORK) lstm_work_alloc(p, max_B, max_T, n_in, H);
    else lstm_cache_alloc(p, max_B, max_T, n_in, H);
    return p;
}

static void cell_release(CellPart part, void *p) {
    if (p && part == CELL_WORK) lstm_work_free(p);
    else if (p) lstm_cache_free(p);
    free(p);
}

static int cell_shareable(CellPart part, void *p, PackedMat **out) {
    if (part == CELL_WORK) {
        LstmWork *w = p;
        out[0] = &w->wh, out[1] = &w->wx, out[2] = &w->act;
        return 3;
    }
    LstmCache *c = p;
    out[0] = &c->wh, out[1] = &c->wx;
    return 2;
}

/* The cache as seen from slot t0: its slot 0 is slot t0. */
static LstmCache cell_view(const LstmCache *c, const CellSpan *sp) {
    size_t off = (size_t)sp->t0 * sp->B * sp->H;
    LstmCache v = *c;
    v.gates += 4 * off, v.tc += off, v.c += off, v.h += off;
    return v;
}

static void cell_forward(void *cache, const CellSpan *sp, const CellWeights *w, const float *x,
                         const float *const *s0) {
    LstmCache *c = cache, v = cell_view(c, sp);
    if (sp->proj) cell_gather_projection(v.gates, 4 * sp->H, sp, 4 * sp->H);   /* W_x x in place: x NULL below */
    lstm_forward(&v, sp->proj ? NULL : x, s0[0], s0[1], w->W, w->b, sp->B, sp->T, sp->n_in, sp->H);
    c->wh = v.wh, c->wx = v.wx;   /* what was packed */
}

static void cell_backward(void *cache, void *work, const CellSpan *sp, const CellWeights *w, CellGrads *g,
                          const float *x, float *dx, const float *dout, const float *const *dsT, float *const *ds0,
                          double *dh_norms) {
    LstmCache v = cell_view(cache, sp);
    lstm_backward(dx, ds0[0], ds0[1], g->W, g->b, dh_norms, work, dout, dsT[0], dsT[1], &v, x, w->W, sp->B, sp->T,
                  sp->n_in, sp->H);
}

static const float *cell_input_grads(const void *work) { return ((const LstmWork *)work)->dgates; }

static const float *cell_state(const void *cache, const CellSettings *cs, int k, int t, int B, int H) {
    (void)cs;
    const LstmCache *c = cache;
    return (k == 0 ? c->h : c->c) + (size_t)t * B * H;
}

static const float *cell_output(const void *cache, const CellSettings *cs, int t, int B, int H) {
    (void)cs;
    return ((const LstmCache *)cache)->h + (size_t)t * B * H;
}

static const char *cell_layout(const CellSettings *cs, const char *view) {
    (void)cs;
    if (strcmp(view, "W") == 0) return "4H,H+I gates i,f,g,o; cols [h|x] = [W_hh|W_ih]";
    if (strcmp(view, "b") == 0) return "4H gates i,f,g,o (b_ih+b_hh)";
    return NULL;
}

const CellOps LSTM_CELL = {
    .name = "lstm", .gates = 4, .states = 2, .forget_gate = 1, .layout = cell_layout,
    .alloc = cell_alloc, .release = cell_release, .shareable = cell_shareable, .forward = cell_forward,
    .backward = cell_backward, .input_grads = cell_input_grads, .state = cell_state, .output = cell_output,
};
