/* test_recurrent.c — the recurrent stack (recurrent.h) over every row of the cell table:
 * finite differences through the whole stack (dropout between layers, gradients into the input,
 * every parameter and every layer's initial states), forward and backward cut into spans equal to
 * one call, carry blocks, and the table itself (names, views, layouts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "recurrent.h"
#include "testutil.h"

enum { B = 3, T = 5, N_IN = 4, L = 2 };
static const int HIDDEN[L] = {6, 5};

/* A two-layer stack with a linear probe loss
 *   L = Σ_t Σ dout_t ⊙ top_t + Σ_l Σ_k dS_lk ⊙ (state k of layer l at slot T)
 * so that backward's inputs are known exactly, and every path is checked. */
typedef struct Ctx {
    CellSettings cs;
    Recurrent r;
    Params p;
    float *x, *dx;        /* (T, B, N_IN) */
    float *init;          /* a carry block: the initial states */
    float *dout;          /* (T, B, H_top) */
    float *dS;            /* a carry block: ∂L/∂(final states) */
    float dropout;
    const int32_t *tokens; /* non-NULL: x = E[tokens], forward through recurrent_forward_embedded */
    const float *E;
} Ctx;

/* seg: steps per backward segment (recurrent.h), T for one segment; recompute: keep only
 * outputs and boundary states, backward replays the segments. */
static void ctx_init_mode(Ctx *c, CellSettings cs, float dropout, int seg, int recompute) {
    memset(c, 0, sizeof *c);
    c->cs = cs;
    c->dropout = dropout;
    recurrent_setup(&c->r, &c->cs, "t_", L, HIDDEN, N_IN, dropout);
    c->r.seg_rows = seg * B;
    c->r.recompute = recompute;
    recurrent_add_params(&c->r, &c->p);
    params_alloc(&c->p);
    Rng rng;
    rng_seed(&rng, 7);
    recurrent_init_params(&c->r, &c->p, &rng);
    recurrent_alloc(&c->r, B, T, 1, NULL, 0);
    size_t nx = (size_t)T * B * N_IN;
    c->x = malloc(nx * sizeof(float));
    c->dx = calloc(nx, sizeof(float));
    c->init = malloc(c->r.carry_n * sizeof(float));
    c->dS = malloc(c->r.carry_n * sizeof(float));
    c->dout = malloc((size_t)T * B * HIDDEN[L - 1] * sizeof(float));
    fill_uniform(c->x, nx, -1.0f, 1.0f, 11);
    fill_uniform(c->init, c->r.carry_n, -0.5f, 0.5f, 12);
    fill_uniform(c->dS, c->r.carry_n, -1.0f, 1.0f, 13);
    fill_uniform(c->dout, (size_t)T * B * HIDDEN[L - 1], -1.0f, 1.0f, 14);
}

/* Backward in segments of 2 steps (of T = 5: 1, 2 and 2 from the end), so that every check
 * below crosses segment boundaries and a short segment. */
static void ctx_init_seg(Ctx *c, CellSettings cs, float dropout, int seg) { ctx_init_mode(c, cs, dropout, seg, 0); }

static void ctx_init(Ctx *c, CellSettings cs, float dropout) {
    ctx_init_seg(c, cs, dropout, 2);
    CU_ASSERT(c->r.seg == 2);
}

static void ctx_free(Ctx *c) {
    recurrent_free(&c->r);
    params_free(&c->p);
    free(c->x), free(c->dx), free(c->init), free(c->dS), free(c->dout);
}

/* Forward over all T steps from c->init (dropout masks from a fixed seed); returns the probe loss. */
static double probe_loss(void *ctx) {
    Ctx *c = ctx;
    Rng noise;
    rng_seed(&noise, 99);
    recurrent_start(&c->r, c->init);
    const float *top = c->tokens ? recurrent_forward_embedded(&c->r, &c->p, c->x, c->tokens, c->E, 0, B, T, 1, &noise)
                                 : recurrent_forward(&c->r, &c->p, c->x, 0, B, T, 1, &noise);
    double loss = 0.0;
    for (size_t k = 0; k < (size_t)T * B * HIDDEN[L - 1]; k++) loss += (double)c->dout[k] * top[k];
    for (int l = 0; l < L; l++)
        for (int k = 0; k < c->r.ops->states; k++) {
            const float *s = recurrent_state(&c->r, l, k, T, B);
            const float *d = recurrent_carry_state(&c->r, c->dS, l, k);
            for (int j = 0; j < B * HIDDEN[l]; j++) loss += (double)d[j] * s[j];
        }
    return loss;
}

/* Backward over [t0, t1) from the probe's gradients, the state gradients carried in ds. */
static void backward_span(Ctx *c, int t0, int t1) {
    memcpy(c->r.layer[L - 1].dout + (size_t)t0 * B * HIDDEN[L - 1], c->dout + (size_t)t0 * B * HIDDEN[L - 1],
           (size_t)(t1 - t0) * B * HIDDEN[L - 1] * sizeof(float));
    recurrent_backward(&c->r, &c->p, c->x + (size_t)t0 * B * N_IN, c->dx + (size_t)t0 * B * N_IN, t0, B, t1 - t0, 1,
                       REC_GRAD_THROUGH);
}

/* ∂L/∂(final states) into the layers' ds, as REC_GRAD_THROUGH wants them at the last slot. */
static void seed_state_grads(Ctx *c) {
    for (int l = 0; l < L; l++)
        for (int k = 0; k < c->r.ops->states; k++)
            memcpy(c->r.layer[l].ds[k], recurrent_carry_state(&c->r, c->dS, l, k),
                   (size_t)B * HIDDEN[l] * sizeof(float));
}

static double worst_of(double a, double b) { return a > b ? a : b; }

/* Worst error over about `most` entries of x, each at steps 1e-2 and 1e-3, the better kept
 * (relu kinks vs float rounding), as test_seqmodel.c does. */
static double check_entries(Ctx *c, float *x, const float *analytic, size_t n, size_t most) {
    size_t stride = n > most ? n / most : 1;
    double worst = 0.0;
    for (size_t k = 0; k < n; k += stride)
        worst = worst_of(worst, fmin(gradcheck(probe_loss, c, x + k, analytic + k, 1, 0, 1e-2, 1e-3),
                                     gradcheck(probe_loss, c, x + k, analytic + k, 1, 0, 1e-3, 1e-3)));
    return worst;
}

static void check_gradients(CellSettings cs, float dropout, const char *what) {
    Ctx c;
    ctx_init(&c, cs, dropout);
    params_zero_grad(&c.p);
    probe_loss(&c);
    seed_state_grads(&c);
    backward_span(&c, 0, T);
    float *dparams = malloc(c.p.total * sizeof(float));
    memcpy(dparams, c.p.grad, c.p.total * sizeof(float));
    float *dinit = malloc(c.r.carry_n * sizeof(float));
    for (int l = 0; l < L; l++)
        for (int k = 0; k < c.r.ops->states; k++)
            memcpy(recurrent_carry_state(&c.r, dinit, l, k), c.r.layer[l].ds[k], (size_t)B * HIDDEN[l] * sizeof(float));
    float *dx = malloc((size_t)T * B * N_IN * sizeof(float));
    memcpy(dx, c.dx, (size_t)T * B * N_IN * sizeof(float));

    double e_params = check_entries(&c, c.p.value, dparams, c.p.total, 80);
    double e_x = check_entries(&c, c.x, dx, (size_t)T * B * N_IN, 30);
    double e_init = check_entries(&c, c.init, dinit, c.r.carry_n, 30);
    double worst = worst_of(e_params, worst_of(e_x, e_init));
    if (worst > 1e-2)
        fprintf(stderr, "\n    %s: params %.3g, x %.3g, initial states %.3g\n", what, e_params, e_x, e_init);
    CU_ASSERT(worst < 1e-2);
    free(dparams), free(dinit), free(dx);
    ctx_free(&c);
}

static CellSettings settings(CellType cell, RnnForm form, GruVariant variant) {
    return (CellSettings){.cell = cell, .rnn_form = form, .rnn_act = ACT_TANH, .gru_variant = variant,
                          .forget_bias = 1.0f, .recurrent_gain = 1.0f};
}

/* check(cs, name) for every row of the table and each of its variants. */
static void for_every_cell(void (*check)(CellSettings, const char *)) {
    check(settings(CELL_RNN, RNN_ELMAN, GRU_CHO), "rnn elman");
    check(settings(CELL_RNN, RNN_LECTURE, GRU_CHO), "rnn lecture");
    check(settings(CELL_LSTM, RNN_ELMAN, GRU_CHO), "lstm");
    check(settings(CELL_GRU, RNN_ELMAN, GRU_CHO), "gru cho");
    check(settings(CELL_GRU, RNN_ELMAN, GRU_PYTORCH), "gru pytorch");
}

static void test_grad_rnn_elman(void) { check_gradients(settings(CELL_RNN, RNN_ELMAN, GRU_CHO), 0.3f, "rnn elman"); }
static void test_grad_rnn_lecture(void) {
    check_gradients(settings(CELL_RNN, RNN_LECTURE, GRU_CHO), 0.3f, "rnn lecture");
}
static void test_grad_lstm(void) { check_gradients(settings(CELL_LSTM, RNN_ELMAN, GRU_CHO), 0.3f, "lstm"); }
static void test_grad_gru_cho(void) { check_gradients(settings(CELL_GRU, RNN_ELMAN, GRU_CHO), 0.3f, "gru cho"); }
static void test_grad_gru_pytorch(void) {
    check_gradients(settings(CELL_GRU, RNN_ELMAN, GRU_PYTORCH), 0.0f, "gru pytorch");
}

/* max |a − b| / (1 + |b|) over n values */
static double max_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs((double)a[k] - b[k]) / (1.0 + fabs((double)b[k])));
    return worst;
}

/* Forward in two spans (the second continuing from the cache's own slot) equals one forward;
 * backward in two spans, the state gradient carried between them, equals one backward. */
static void check_spans(CellSettings cs, const char *what) {
    Ctx c;
    ctx_init(&c, cs, 0.0f);
    int H = HIDDEN[L - 1], cut = 2;
    size_t n_top = (size_t)T * B * H;
    float *top_whole = malloc(n_top * sizeof(float));
    probe_loss(&c);
    memcpy(top_whole, recurrent_output(&c.r, L - 1, 1, B), n_top * sizeof(float));
    params_zero_grad(&c.p);
    seed_state_grads(&c);
    backward_span(&c, 0, T);
    float *g_whole = malloc(c.p.total * sizeof(float));
    memcpy(g_whole, c.p.grad, c.p.total * sizeof(float));
    float *dx_whole = malloc((size_t)T * B * N_IN * sizeof(float));
    memcpy(dx_whole, c.dx, (size_t)T * B * N_IN * sizeof(float));
    float *ds_whole = malloc((size_t)B * HIDDEN[0] * sizeof(float));
    memcpy(ds_whole, c.r.layer[0].ds[0], (size_t)B * HIDDEN[0] * sizeof(float));

    /* forward: [0, cut) from init, then [cut, T) from slot cut itself */
    memset(c.r.layer[L - 1].dout, 0, n_top * sizeof(float));
    recurrent_start(&c.r, c.init);
    recurrent_forward(&c.r, &c.p, c.x, 0, B, cut, 0, NULL);
    for (int l = 0; l < L; l++)
        for (int k = 0; k < c.r.ops->states; k++) c.r.layer[l].s0[k] = recurrent_state(&c.r, l, k, cut, B);
    const float *top2 = recurrent_forward(&c.r, &c.p, c.x + (size_t)cut * B * N_IN, cut, B, T - cut, 0, NULL);
    CU_ASSERT(top2 == recurrent_output(&c.r, L - 1, cut + 1, B));
    double e_fwd = max_diff(recurrent_output(&c.r, L - 1, 1, B), top_whole, n_top);

    /* backward: [cut, T) then [0, cut) */
    params_zero_grad(&c.p);
    memset(c.dx, 0, (size_t)T * B * N_IN * sizeof(float));
    seed_state_grads(&c);
    backward_span(&c, cut, T);
    backward_span(&c, 0, cut);
    double e_bwd = fmax(max_diff(c.p.grad, g_whole, c.p.total), max_diff(c.dx, dx_whole, (size_t)T * B * N_IN));
    e_bwd = fmax(e_bwd, max_diff(c.r.layer[0].ds[0], ds_whole, (size_t)B * HIDDEN[0]));
    if (e_fwd > 1e-6 || e_bwd > 1e-5) fprintf(stderr, "\n    %s: forward %.3g, backward %.3g\n", what, e_fwd, e_bwd);
    CU_ASSERT(e_fwd <= 1e-6);
    CU_ASSERT(e_bwd <= 1e-5);
    free(top_whole), free(g_whole), free(dx_whole), free(ds_whole);
    ctx_free(&c);
}

static void test_spans(void) {
    for_every_cell(check_spans);
}

/* Backward in segments of 1, 2, 3 steps equals one segment of T up to rounding (only the order
 * of the weight-gradient sums differs), for every cell with dropout. */
static void check_segments(CellSettings cs, const char *what) {
    float *g_one = NULL, *dx_one = NULL;
    size_t n_x = (size_t)T * B * N_IN;
    for (int seg = T; seg >= 1; seg--) {
        if (seg == 4) continue;   /* 4 + 1: as 3 + 2, nothing new */
        Ctx c;
        ctx_init_seg(&c, cs, 0.3f, seg);
        CU_ASSERT(c.r.seg == seg);
        params_zero_grad(&c.p);
        probe_loss(&c);
        seed_state_grads(&c);
        backward_span(&c, 0, T);
        if (!g_one) {
            g_one = malloc(c.p.total * sizeof(float)), dx_one = malloc(n_x * sizeof(float));
            memcpy(g_one, c.p.grad, c.p.total * sizeof(float)), memcpy(dx_one, c.dx, n_x * sizeof(float));
        } else {
            double e = fmax(max_diff(c.p.grad, g_one, c.p.total), max_diff(c.dx, dx_one, n_x));
            if (e > 1e-5) fprintf(stderr, "\n    %s, segments of %d: %.3g\n", what, seg, e);
            CU_ASSERT(e <= 1e-5);
        }
        ctx_free(&c);
    }
    free(g_one), free(dx_one);
}

static void test_segments(void) {
    for_every_cell(check_segments);
}

/* What a forward and backward leave: the top outputs, every final state, the parameter
 * gradients, ∂L/∂x and ∂L/∂(initial states). */
typedef struct Outcome {
    float *top, *final, *grad, *dx, *dinit;
} Outcome;

static Outcome run_once(Ctx *c) {
    Outcome o;
    size_t n_top = (size_t)T * B * HIDDEN[L - 1], n_x = (size_t)T * B * N_IN;
    params_zero_grad(&c->p);
    probe_loss(c);
    o.top = malloc(n_top * sizeof(float));
    memcpy(o.top, recurrent_output(&c->r, L - 1, 1, B), n_top * sizeof(float));
    o.final = calloc(c->r.carry_n, sizeof(float));
    recurrent_save(&c->r, o.final, B, T);
    seed_state_grads(c);
    backward_span(c, 0, T);
    o.grad = malloc(c->p.total * sizeof(float));
    memcpy(o.grad, c->p.grad, c->p.total * sizeof(float));
    o.dx = malloc(n_x * sizeof(float));
    memcpy(o.dx, c->dx, n_x * sizeof(float));
    o.dinit = malloc(c->r.carry_n * sizeof(float));
    for (int l = 0; l < L; l++)
        for (int k = 0; k < c->r.ops->states; k++)
            memcpy(recurrent_carry_state(&c->r, o.dinit, l, k), c->r.layer[l].ds[k], (size_t)B * HIDDEN[l] * sizeof(float));
    return o;
}

static void outcome_free(Outcome *o) { free(o->top), free(o->final), free(o->grad), free(o->dx), free(o->dinit); }

/* train.recompute: keeping only outputs and boundary states, then replaying each segment in
 * backward, gives the same bits as keeping every cache — in 1, 2 and 3-step segments, with
 * dropout between the layers, for every cell. */
static void check_recompute(CellSettings cs, const char *what) {
    for (int seg = 1; seg <= 3; seg++) {
        Ctx keep, replay;
        ctx_init_mode(&keep, cs, 0.3f, seg, 0);
        ctx_init_mode(&replay, cs, 0.3f, seg, 1);
        CU_ASSERT(replay.r.layer[0].cache == NULL && replay.r.seg_cache != NULL);
        Outcome a = run_once(&keep), b = run_once(&replay);
        size_t n_top = (size_t)T * B * HIDDEN[L - 1], n_x = (size_t)T * B * N_IN;
        int same[5] = {memcmp(a.top, b.top, n_top * sizeof(float)) == 0,
                       memcmp(a.final, b.final, keep.r.carry_n * sizeof(float)) == 0,
                       memcmp(a.grad, b.grad, keep.p.total * sizeof(float)) == 0,
                       memcmp(a.dx, b.dx, n_x * sizeof(float)) == 0,
                       memcmp(a.dinit, b.dinit, keep.r.carry_n * sizeof(float)) == 0};
        if (!(same[0] && same[1] && same[2] && same[3] && same[4]))
            fprintf(stderr, "\n    %s, segments of %d: outputs %d, final states %d, gradients %d, dx %d, dinit %d\n",
                    what, seg, same[0], same[1], same[2], same[3], same[4]);
        for (int k = 0; k < 5; k++) CU_ASSERT(same[k]);
        /* the states it keeps: slot 0, the boundaries, T; no others */
        CU_ASSERT(recurrent_state(&replay.r, 1, 0, T, B) != NULL);
        CU_ASSERT(recurrent_state(&replay.r, 0, 0, seg, B) != NULL);
        if (seg > 1) CU_ASSERT(recurrent_state(&replay.r, 0, 0, 1, B) == NULL);
        outcome_free(&a), outcome_free(&b);
        ctx_free(&keep), ctx_free(&replay);
    }
}

static void test_recompute(void) {
    for_every_cell(check_recompute);
}

/* Below an embedding (recurrent_forward_embedded, recurrent_backward_embedded): forward
 * gathers layer 0's input projection from P = E · W_xᵀ and gives the plain forward's bits (top
 * outputs, final states); backward's embedding gradient equals ∂L/∂x's scatter-add by token
 * within float rounding, and nothing else changes — the parameters' and initial states'
 * gradients keep their bits; in segments of 2 steps, with dropout, kept caches and recomputed
 * ones, for every cell, and the same bits on 1 and 2 threads. */
static void check_embedded(CellSettings cs, const char *what) {
    enum { V = 3 };   /* 2V ≤ T·B and 4V ≤ T·B: the projection is gathered */
    for (int recompute = 0; recompute <= 1; recompute++) {
        Ctx c;
        ctx_init_mode(&c, cs, 0.3f, 2, recompute);
        int32_t tokens[T * B];
        float E[V * N_IN], dE_plain[V * N_IN] = {0};
        fill_uniform(E, V * N_IN, -1.0f, 1.0f, 21);
        for (int n = 0; n < T * B; n++) {
            tokens[n] = (int32_t)((n * 2 + n / 4) % V);
            memcpy(c.x + (size_t)n * N_IN, E + tokens[n] * N_IN, N_IN * sizeof(float));
        }
        Outcome plain = run_once(&c);
        embed_backward(dE_plain, plain.dx, tokens, T * B, N_IN);

        recurrent_embed_below(&c.r, V);
        c.tokens = tokens, c.E = E;
        float dE[2][V * N_IN];
        size_t n_top = (size_t)T * B * HIDDEN[L - 1];
        float *final = calloc(c.r.carry_n, sizeof(float));
        for (int threads = 1; threads <= 2; threads++) {
            par_set_threads(threads);
            par_set_min_flops(0.0);
            params_zero_grad(&c.p);
            probe_loss(&c);
            CU_ASSERT(c.r.proj_tok == tokens);   /* it gathered */
            CU_ASSERT(memcmp(recurrent_output(&c.r, L - 1, 1, B), plain.top, n_top * sizeof(float)) == 0);
            recurrent_save(&c.r, final, B, T);
            CU_ASSERT(memcmp(final, plain.final, c.r.carry_n * sizeof(float)) == 0);
            seed_state_grads(&c);
            memcpy(c.r.layer[L - 1].dout, c.dout, n_top * sizeof(float));
            memset(dE[threads - 1], 0, sizeof dE[0]);
            recurrent_backward_embedded(&c.r, &c.p, c.x, tokens, dE[threads - 1], 0, B, T, 1, REC_GRAD_THROUGH);
            par_set_min_flops(PAR_MIN_FLOPS);
            CU_ASSERT(memcmp(c.p.grad, plain.grad, c.p.total * sizeof(float)) == 0);
            for (int l = 0; l < L; l++)
                for (int k = 0; k < c.r.ops->states; k++)
                    CU_ASSERT(memcmp(c.r.layer[l].ds[k], recurrent_carry_state(&c.r, plain.dinit, l, k),
                                     (size_t)B * HIDDEN[l] * sizeof(float)) == 0);
        }
        double worst = 0.0;
        for (int k = 0; k < V * N_IN; k++)
            worst = fmax(worst, fabs(dE[0][k] - dE_plain[k]) / (1.0 + fabs(dE_plain[k])));
        if (worst > 1e-5) fprintf(stderr, "\n    %s: embedding gradient off by %.3g\n", what, worst);
        CU_ASSERT(worst < 1e-5);
        CU_ASSERT(memcmp(dE[0], dE[1], sizeof dE[0]) == 0);
        free(final);
        outcome_free(&plain);
        ctx_free(&c);
    }
}

static void test_embedded(void) {
    for_every_cell(check_embedded);
}

/* recurrent_save then recurrent_start: the next forward starts exactly where the last ended. */
static void test_carry(void) {
    Ctx c;
    ctx_init(&c, settings(CELL_LSTM, RNN_ELMAN, GRU_CHO), 0.0f);
    CU_ASSERT(c.r.carry_n == (size_t)2 * B * (HIDDEN[0] + HIDDEN[1]));
    /* the layout checkpoints carry: layer 0 h, layer 0 c, layer 1 h, layer 1 c */
    CU_ASSERT(recurrent_carry_state(&c.r, c.init, 1, 1) == c.init + 2 * B * HIDDEN[0] + B * HIDDEN[1]);
    probe_loss(&c);
    float *carry = calloc(c.r.carry_n, sizeof(float));
    recurrent_save(&c.r, carry, B, T);
    CU_ASSERT(memcmp(recurrent_carry_state(&c.r, carry, 1, 1), recurrent_state(&c.r, 1, 1, T, B),
                     (size_t)B * HIDDEN[1] * sizeof(float)) == 0);
    recurrent_start(&c.r, carry);
    recurrent_forward(&c.r, &c.p, c.x, 0, B, 1, 0, NULL);
    CU_ASSERT(memcmp(recurrent_state(&c.r, 0, 1, 0, B), recurrent_carry_state(&c.r, carry, 0, 1),
                     (size_t)B * HIDDEN[0] * sizeof(float)) == 0);
    recurrent_start(&c.r, NULL);
    CU_ASSERT(c.r.layer[0].s0[0] == NULL && c.r.layer[1].s0[1] == NULL);
    free(carry);
    ctx_free(&c);
}

/* The table: every row is complete, names round-trip, views are named under the prefix with
 * the layouts checkpoints carry. */
static void test_table(void) {
    for (int k = 0; k < CELL_TYPE_COUNT; k++) {
        const CellOps *ops = cell_ops((CellType)k);
        CU_ASSERT_FATAL(ops != NULL);
        CU_ASSERT(ops->alloc && ops->release && ops->shareable && ops->forward && ops->backward &&
                  ops->input_grads && ops->state && ops->output && ops->layout);
        CU_ASSERT(ops->gates >= 1 && ops->states >= 1 && ops->states <= 2);
        CellType back;
        CU_ASSERT(cell_type_from_name(ops->name, &back) == 0 && back == (CellType)k);
        CU_ASSERT(cell_gates((CellType)k) == ops->gates);
    }
    CellType t;
    CU_ASSERT(cell_type_from_name("mgu", &t) == -1);
    CU_ASSERT(cell_ops((CellType)CELL_TYPE_COUNT) == NULL);
    Ctx c;
    ctx_init(&c, settings(CELL_GRU, RNN_ELMAN, GRU_PYTORCH), 0.0f);
    const char *names[] = {"t_gru0/W", "t_gru0/b", "t_gru0/b_hn", "t_gru1/W", "t_gru1/b", "t_gru1/b_hn"};
    CU_ASSERT_FATAL(c.p.count == 6);
    for (int k = 0; k < 6; k++) CU_ASSERT_STRING_EQUAL(c.p.views[k].name, names[k]);
    CU_ASSERT_STRING_EQUAL(c.p.views[0].layout, "3H,H+I gates r,z,n; cols [h|x] = [W_hh|W_ih]");
    CU_ASSERT_STRING_EQUAL(c.p.views[2].layout, "H (b_hh of gate n)");
    CU_ASSERT(c.p.views[3].shape[0] == 3 * HIDDEN[1] && c.p.views[3].shape[1] == HIDDEN[1] + HIDDEN[0]);
    ctx_free(&c);
}

int main(void) {
    static const TestCase cases[] = {
        {"table: complete rows, names, views and layouts", test_table},
        {"gradients: rnn elman stack with dropout", test_grad_rnn_elman},
        {"gradients: rnn lecture stack with dropout", test_grad_rnn_lecture},
        {"gradients: lstm stack with dropout", test_grad_lstm},
        {"gradients: gru cho stack with dropout", test_grad_gru_cho},
        {"gradients: gru pytorch stack", test_grad_gru_pytorch},
        {"spans: two spans equal one call, every cell", test_spans},
        {"segments: backward in segments of 1..T steps equals one segment", test_segments},
        {"recompute: replayed segments give the same bits as kept caches", test_recompute},
        {"carry blocks: save, start, layout", test_carry},
        {"below an embedding: gathered projections, its gradient from layer 0's gate gradients", test_embedded},
        {NULL, NULL},
    };
    return run_tests("recurrent", cases);
}
