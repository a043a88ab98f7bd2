/* rnn.c — vanilla RNN over T steps (see rnn.h for the forms, layout and shapes).
 *
 * Lecture form                          Elman form
 *   a_{t−1} = φ(h_{t−1})                  p_t = W h_{t−1} + U x_t + b
 *   h_t = θ a_{t−1} + θ_x x_t             h_t = φ(p_t)
 *   output a_t                            output h_t
 *
 * BPTT, with g_t = ∂L/∂h_t (lecture) or ∂L/∂p_t (Elman) and dout_t from above:
 *   lecture  ∂L/∂a_t = dout_t + θᵀ g_{t+1};  g_t = ∂L/∂a_t ⊙ φ'(a_t)   (+ dhT at t = T)
 *            dθ += Σ_t g_t a_{t−1}ᵀ;  dθ_x += Σ_t g_t x_tᵀ;  dx_t = θ_xᵀ g_t;  dh_0 = g_0
 *   Elman    ∂L/∂h_t = dout_t + Wᵀ g_{t+1};  g_t = ∂L/∂h_t ⊙ φ'(h_t)
 *            dW += Σ_t g_t h_{t−1}ᵀ;  dU += Σ_t g_t x_tᵀ;  db += Σ_t g_t;  dh_0 = Wᵀ g_1
 * The sums over t are single GEMMs over all T·B rows because the states are stored time-major. */
#include "rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "error.h"
#include "gatemath.h"
#include "stepsplit.h"

void rnn_cache_alloc(RnnCache *c, RnnForm form, int max_B, int max_T, int n_in, int H) {
    size_t slot = (size_t)(max_T + 1) * max_B * H;
    c->block = ex_calloc(form == RNN_LECTURE ? 2 * slot : slot, sizeof(float));
    c->h = c->block;
    c->a = form == RNN_LECTURE ? c->block + slot : NULL;
    packed_alloc(&c->wh, H, H);
    packed_alloc(&c->wx, n_in, H);
}

void rnn_cache_free(RnnCache *c) {
    packed_free(&c->wh);
    packed_free(&c->wx);
    free(c->block);
    memset(c, 0, sizeof *c);
}

void rnn_work_alloc(RnnWork *w, int max_B, int max_T, int n_in, int H) {
    size_t steps = (size_t)max_T * max_B * H;
    w->block = ex_calloc(steps + (size_t)max_B * H, sizeof(float));
    w->dpre = w->block;
    w->dh = w->block + steps;
    w->sq = ex_calloc((size_t)max_T * max_B * step_norm_chunks(H), sizeof(double));
    packed_alloc(&w->wh, H, H);
    packed_alloc(&w->wx, H, n_in);
    packed_alloc(&w->act, max_T * max_B, H + n_in);   /* [h | x] for the weight gradients */
}

void rnn_work_free(RnnWork *w) {
    packed_free(&w->wh);
    packed_free(&w->wx);
    packed_free(&w->act);
    free(w->sq);
    free(w->block);
    memset(w, 0, sizeof *w);
}

const float *rnn_output(const RnnCache *c, RnnForm form, int B, int H) {
    return (form == RNN_LECTURE ? c->a : c->h) + (size_t)B * H;
}

const float *rnn_final_state(const RnnCache *c, int B, int T, int H) {
    return c->h + (size_t)T * B * H;
}

/* y = φ(x) for a (B, H) block: tanh and σ through the vectorised gatemath.h, the rest act.h. */
static void phi_forward(float *y, const float *x, int B, int H, Activation act) {
    if (act == ACT_TANH) gm_tanh(y, x, B * H);
    else if (act == ACT_SIGMOID) gm_sigmoid(y, x, B * H);
    else act_forward(y, x, B, H, act);
}

/* acc += Σ_b ‖v[b]‖₂ for v (B, H). */
static void add_row_norms(double *acc, const float *v, int B, int H) {
    double sum = 0.0;
    for (int b = 0; b < B; b++) {
        double sq = 0.0;
        for (int j = 0; j < H; j++) sq += (double)v[(size_t)b * H + j] * v[(size_t)b * H + j];
        sum += sqrt(sq);
    }
    *acc += sum;
}

/* ---- fast path -------------------------------------------------------------------------- */

/* What the parts of an Elman layer's time loop share (stepsplit.h). */
typedef struct RnnStep {
    RnnCache *cache;
    RnnWork *work;
    const float *b;      /* forward */
    const float *dout;   /* backward: ∂L/∂h from above (T, B, H) */
    const float *dhT;    /* backward: ∂L/∂h_T from beyond the sequence, or NULL */
    Activation act;
    int B, T, H;
    StepPlan plan;
} RnnStep;

/* Elman forward step t for rows [r0, r1) and units [u0, u1): p_t += h_{t−1} · Wᵀ there (U x_t
 * is already in place), + b, then h_t = φ(p_t) in place. */
static void elman_forward_block(const void *ctx, int t, int r0, int r1, int u0, int u1) {
    const RnnStep *s = ctx;
    const int B = s->B, H = s->H, n = u1 - u0, rows = r1 - r0;
    const size_t BH = (size_t)B * H;
    float *h_t = s->cache->h + (size_t)t * BH, *rows_t = h_t + (size_t)r0 * H;
    if (n == H) packed_gemm(rows_t, H, rows_t - BH, H, &s->cache->wh, rows, 1.0f);
    else packed_gemm_cols(rows_t, H, rows_t - BH, H, &s->cache->wh, rows, 1.0f, u0, u1);
    for (int r = r0; r < r1; r++) {
        float *hr = h_t + (size_t)r * H;
        for (int j = u0; j < u1; j++) hr[j] += s->b[j];
        phi_forward(hr + u0, hr + u0, 1, n, s->act);
    }
}

/* Elman backward step t for rows [r0, r1) and units [u0, u1): for t < T first
 * carry = g_{t+1} · W there; then (t ≥ 1) ∂L/∂h_t = dout_t + carry (+ dhT at t = T), its
 * squared norms in chunks, and g_t = ∂L/∂h_t ⊙ φ'(h_t). */
static void elman_backward_block(const void *ctx, int t, int r0, int r1, int u0, int u1) {
    const RnnStep *s = ctx;
    RnnWork *work = s->work;
    const int B = s->B, H = s->H, T = s->T, n = u1 - u0, rows = r1 - r0;
    const size_t BH = (size_t)B * H;
    float *g = work->dpre, *carry = work->dh;
    if (t < T) {
        const float *g_next = g + (size_t)t * BH + (size_t)r0 * H;
        if (n == H) packed_gemm(carry + (size_t)r0 * H, H, g_next, H, &work->wh, rows, 0.0f);
        else packed_gemm_cols(carry + (size_t)r0 * H, H, g_next, H, &work->wh, rows, 0.0f, u0, u1);
    }
    if (t < 1) return;
    float *g_t = g + (size_t)(t - 1) * BH;
    const float *dout_t = s->dout + (size_t)(t - 1) * BH, *h_t = s->cache->h + (size_t)t * BH;
    for (int r = r0; r < r1; r++) {
        size_t row = (size_t)r * H;
        if (t < T)
            for (int j = u0; j < u1; j++) g_t[row + j] = dout_t[row + j] + carry[row + j];
        else
            for (int j = u0; j < u1; j++) g_t[row + j] = s->dhT ? dout_t[row + j] + s->dhT[row + j] : dout_t[row + j];
    }
    step_chunk_squares(step_chunk_row(work->sq, t, 0, B, H), g_t, H, H, r0, r1, u0, u1);
    for (int r = r0; r < r1; r++) {
        size_t row = (size_t)r * H + u0;
        act_backward(g_t + row, g_t + row, h_t + row, 1, n, s->act);   /* g_t = ∂L/∂h_t ⊙ φ'(h_t) */
    }
}

void rnn_forward(RnnCache *cache, const float *x, const float *h0, const float *W, const float *b,
                 RnnForm form, Activation act, int B, int T, int n_in, int H) {
    const int ld = H + n_in;             /* row stride of W */
    const size_t BH = (size_t)B * H;
    float *hs = cache->h;                /* (T+1, B, H) */
    if (!h0) memset(hs, 0, BH * sizeof *hs);
    else if (h0 != hs) memcpy(hs, h0, BH * sizeof *hs);   /* h0 == hs: a span continuing (cell.h) */

    /* All steps' input projections at once: h_{1..T} ← X (T·B, n_in) · θ_xᵀ (x NULL: already
     * there, gathered from an embedding's projection by cell_gather_projection). */
    if (x) pk_gemm_nt(hs + BH, H, x, n_in, W + H, ld, T * B, H, n_in, 0.0f, &cache->wx);
    packed_set_transposed(&cache->wh, W, ld, H, H);

    if (form == RNN_LECTURE) {
        float *as = cache->a;            /* (T+1, B, H) */
        phi_forward(as, hs, B, H, act);  /* a_0 = φ(h_0) */
        for (int t = 1; t <= T; t++) {
            float *h_t = hs + (size_t)t * BH;
            /* h_t += a_{t−1} (B, H) · θᵀ */
            packed_gemm(h_t, H, as + (size_t)(t - 1) * BH, H, &cache->wh, B, 1.0f);
            phi_forward(as + (size_t)t * BH, h_t, B, H, act);
        }
    } else {
        /* p_t = U x_t (already there) + W h_{t−1} + b, then h_t = φ(p_t) in place. */
        RnnStep step = {cache, NULL, b, NULL, NULL, act, B, T, H, step_plan(&cache->wh, B, T, H, 1)};
        step_loop_run(elman_forward_block, &step, step.plan, B, H, 1, T);
    }
}

void rnn_backward(float *dx, float *dh0, float *dW, float *db, double *dh_norms, RnnWork *work,
                  const float *dout, const float *dhT, const RnnCache *cache, const float *x,
                  const float *W, RnnForm form, Activation act, int B, int T, int n_in, int H) {
    const int ld = H + n_in;
    const size_t BH = (size_t)B * H;
    const float *hs = cache->h;
    float *g = work->dpre;               /* (T, B, H): g_t at slot t−1 */
    float *carry = work->dh;             /* (B, H) */
    packed_set(&work->wh, W, ld, H, H);  /* θ (or W) for carry = g_t · θ */

    if (form == RNN_LECTURE) {
        const float *as = cache->a;
        for (int t = T; t >= 1; t--) {
            float *g_t = g + (size_t)(t - 1) * BH;
            const float *dout_t = dout + (size_t)(t - 1) * BH;
            /* ∂L/∂a_t = dout_t + θᵀ g_{t+1}   (carry holds θᵀ g_{t+1} for t < T) */
            if (t == T) memcpy(g_t, dout_t, BH * sizeof *g_t);
            else
                for (size_t k = 0; k < BH; k++) g_t[k] = dout_t[k] + carry[k];
            act_backward(g_t, g_t, as + (size_t)t * BH, B, H, act);   /* g_t = ∂L/∂a_t ⊙ φ'(a_t) */
            if (t == T && dhT)
                for (size_t k = 0; k < BH; k++) g_t[k] += dhT[k];
            if (dh_norms) add_row_norms(&dh_norms[t - 1], g_t, B, H);
            /* carry = g_t (B, H) · θ (H, H) = (θᵀ g_t) per row: ∂L/∂a_{t−1} through time */
            packed_gemm(carry, H, g_t, H, &work->wh, B, 0.0f);
        }
        /* dh_0 = ∂L/∂a_0 ⊙ φ'(a_0) */
        if (dh0) act_backward(dh0, carry, as, B, H, act);
        /* [dθ | dθ_x] += G (T·B, H)ᵀ · [A_{0..T−1} | X] (one product: Gᵀ packed once) */
        pk_gemm_tn_pair_sums(dW, ld, g, H, as, H, H, x, n_in, n_in, H, T * B, 1.0f, &work->act, NULL, 0);
    } else {
        /* ∂L/∂h_t = dout_t + Wᵀ g_{t+1} (+ dhT at the end); step 0 only carries to h_0 */
        RnnStep step = {(RnnCache *)cache, work, NULL, dout, dhT, act, B, T, H, step_plan(&work->wh, B, T, H, 1)};
        step_loop_run(elman_backward_block, &step, step.plan, B, H, T, 0);
        if (dh_norms) step_norm_sums(dh_norms, work->sq, B, T, H);
        if (dh0) memcpy(dh0, carry, BH * sizeof *dh0);
        /* [dW | dU] += Gᵀ · [H_{0..T−1} | X] (one product);  db += Σ rows of G */
        pk_gemm_tn_pair_sums(dW, ld, g, H, hs, H, H, x, n_in, n_in, H, T * B, 1.0f, &work->act, db, 0);
    }
    /* dx = G · θ_x (or U) */
    if (dx) pk_gemm_nn(dx, n_in, g, H, W + H, ld, T * B, n_in, H, 0.0f, &work->wx);
}

/* ---- plain reference -------------------------------------------------------------------- */

/* φ'(·) from φ's output y, the same rules as act_backward. */
static float act_grad_from_output(float y, Activation act) {
    float dy = 1.0f, dx;
    act_backward(&dx, &dy, &y, 1, 1, act);
    return dx;
}

void rnn_forward_reference(RnnCache *cache, const float *x, const float *h0, const float *W,
                           const float *b, RnnForm form, Activation act, int B, int T, int n_in,
                           int H) {
    const int ld = H + n_in;
    const size_t BH = (size_t)B * H;
    float *hs = cache->h;
    for (size_t k = 0; k < BH; k++) hs[k] = h0 ? h0[k] : 0.0f;
    if (form == RNN_LECTURE)
        for (size_t k = 0; k < BH; k++) act_forward(&cache->a[k], &hs[k], 1, 1, act);
    for (int t = 1; t <= T; t++)
        for (int r = 0; r < B; r++) {
            const float *x_t = x + ((size_t)(t - 1) * B + r) * n_in;
            /* the state part of the concatenation: a_{t−1} (lecture) or h_{t−1} (Elman) */
            const float *s_prev = (form == RNN_LECTURE ? cache->a : hs) + ((size_t)(t - 1) * B + r) * H;
            float *h_t = hs + ((size_t)t * B + r) * H;
            for (int j = 0; j < H; j++) {
                const float *w = W + (size_t)j * ld;
                float sum = form == RNN_LECTURE ? 0.0f : b[j];
                for (int k = 0; k < H; k++) sum += w[k] * s_prev[k];
                for (int k = 0; k < n_in; k++) sum += w[H + k] * x_t[k];
                h_t[j] = sum;
            }
            if (form == RNN_LECTURE) act_forward(cache->a + ((size_t)t * B + r) * H, h_t, 1, H, act);
            else act_forward(h_t, h_t, 1, H, act);
        }
}

void rnn_backward_reference(float *dx, float *dh0, float *dW, float *db, double *dh_norms,
                            RnnWork *work, const float *dout, const float *dhT,
                            const RnnCache *cache, const float *x, const float *W, RnnForm form,
                            Activation act, int B, int T, int n_in, int H) {
    const int ld = H + n_in;
    const size_t BH = (size_t)B * H;
    const float *states = form == RNN_LECTURE ? cache->a : cache->h;   /* what W's h-columns see */
    float *g = work->dpre;
    for (int t = T; t >= 1; t--)
        for (int r = 0; r < B; r++) {
            double sq = 0.0;
            for (int j = 0; j < H; j++) {
                size_t at = (size_t)(t - 1) * BH + (size_t)r * H + j;
                /* ∂L/∂(output_t) = dout_t + Σ_k W[k][j] g_{t+1}[k] */
                float d = dout[at];
                if (t < T)
                    for (int k = 0; k < H; k++) d += W[(size_t)k * ld + j] * g[at + BH - j + k];
                if (form == RNN_LECTURE) {
                    d *= act_grad_from_output(cache->a[at + BH], act);
                    if (t == T && dhT) d += dhT[(size_t)r * H + j];
                    sq += (double)d * d;          /* ∂L/∂h_t is g_t itself */
                } else {
                    if (t == T && dhT) d += dhT[(size_t)r * H + j];
                    sq += (double)d * d;          /* ∂L/∂h_t, before φ' */
                    d *= act_grad_from_output(cache->h[at + BH], act);
                }
                g[at] = d;
            }
            if (dh_norms) dh_norms[t - 1] += sqrt(sq);
        }
    /* ∂L/∂h_0 */
    if (dh0)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < H; j++) {
                float d = 0.0f;
                for (int k = 0; k < H; k++) d += W[(size_t)k * ld + j] * g[(size_t)r * H + k];
                if (form == RNN_LECTURE) d *= act_grad_from_output(cache->a[(size_t)r * H + j], act);
                dh0[(size_t)r * H + j] = d;
            }
    /* weights, summed over steps and rows */
    for (int t = 1; t <= T; t++)
        for (int r = 0; r < B; r++) {
            const float *g_t = g + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *s_prev = states + (size_t)(t - 1) * BH + (size_t)r * H;
            const float *x_t = x + ((size_t)(t - 1) * B + r) * n_in;
            for (int j = 0; j < H; j++) {
                for (int k = 0; k < H; k++) dW[(size_t)j * ld + k] += g_t[j] * s_prev[k];
                for (int k = 0; k < n_in; k++) dW[(size_t)j * ld + H + k] += g_t[j] * x_t[k];
                if (form == RNN_ELMAN) db[j] += g_t[j];
            }
            if (dx)
                for (int k = 0; k < n_in; k++) {
                    float d = 0.0f;
                    for (int j = 0; j < H; j++) d += W[(size_t)j * ld + H + k] * g_t[j];
                    dx[((size_t)(t - 1) * B + r) * n_in + k] = d;
                }
        }
}

/* ---- the cell table's row (cell.h) ------------------------------------------------------- */

static void *cell_alloc(CellPart part, const CellSettings *cs, int max_B, int max_T, int n_in, int H) {
    void *p = ex_calloc(1, part == CELL_WORK ? sizeof(RnnWork) : sizeof(RnnCache));
    if (part == CELL_WORK) rnn_work_alloc(p, max_B, max_T, n_in, H);
    else rnn_cache_alloc(p, cs->rnn_form, max_B, max_T, n_in, H);
    return p;
}

static void cell_release(CellPart part, void *p) {
    if (p && part == CELL_WORK) rnn_work_free(p);
    else if (p) rnn_cache_free(p);
    free(p);
}

static int cell_shareable(CellPart part, void *p, PackedMat **out) {
    if (part == CELL_WORK) {
        RnnWork *w = p;
        out[0] = &w->wh, out[1] = &w->wx, out[2] = &w->act;
        return 3;
    }
    RnnCache *c = p;
    out[0] = &c->wh, out[1] = &c->wx;
    return 2;
}

/* The cache as seen from slot t0: its slot 0 is slot t0. */
static RnnCache cell_view(const RnnCache *c, const CellSpan *sp) {
    size_t off = (size_t)sp->t0 * sp->B * sp->H;
    RnnCache v = *c;
    v.h += off;
    if (v.a) v.a += off;
    return v;
}

static void cell_forward(void *cache, const CellSpan *sp, const CellWeights *w, const float *x,
                         const float *const *s0) {
    RnnCache *c = cache, v = cell_view(c, sp);
    if (sp->proj) cell_gather_projection(v.h + (size_t)sp->B * sp->H, sp->H, sp, sp->H);   /* W_x x in place: x NULL below */
    rnn_forward(&v, sp->proj ? NULL : x, s0[0], w->W, w->b, sp->cs->rnn_form, sp->cs->rnn_act, sp->B, sp->T, sp->n_in, sp->H);
    c->wh = v.wh, c->wx = v.wx;   /* what was packed */
}

static void cell_backward(void *cache, void *work, const CellSpan *sp, const CellWeights *w, CellGrads *g,
                          const float *x, float *dx, const float *dout, const float *const *dsT, float *const *ds0,
                          double *dh_norms) {
    RnnCache v = cell_view(cache, sp);
    rnn_backward(dx, ds0[0], g->W, g->b, dh_norms, work, dout, dsT[0], &v, x, w->W, sp->cs->rnn_form,
                 sp->cs->rnn_act, sp->B, sp->T, sp->n_in, sp->H);
}

static const float *cell_input_grads(const void *work) { return ((const RnnWork *)work)->dpre; }

static const float *cell_state(const void *cache, const CellSettings *cs, int k, int t, int B, int H) {
    (void)cs, (void)k;
    return ((const RnnCache *)cache)->h + (size_t)t * B * H;
}

static const float *cell_output(const void *cache, const CellSettings *cs, int t, int B, int H) {
    const RnnCache *c = cache;
    return (cs->rnn_form == RNN_LECTURE ? c->a : c->h) + (size_t)t * B * H;
}

static const char *cell_layout(const CellSettings *cs, const char *view) {
    int lecture = cs->rnn_form == RNN_LECTURE;
    if (strcmp(view, "W") == 0)
        return lecture ? "H,H+I cols [phi(h)|x] = [theta|theta_x]" : "H,H+I cols [h|x] = [W_hh|W_ih]";
    if (strcmp(view, "b") == 0 && !lecture) return "H (b_ih+b_hh)";
    return NULL;
}

const CellOps RNN_CELL = {
    .name = "rnn", .gates = 1, .states = 1, .forget_gate = -1, .layout = cell_layout,
    .alloc = cell_alloc, .release = cell_release, .shareable = cell_shareable, .forward = cell_forward,
    .backward = cell_backward, .input_grads = cell_input_grads, .state = cell_state, .output = cell_output,
};
