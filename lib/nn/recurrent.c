/* recurrent.c — a stack of recurrent layers of one cell (recurrent.h).
 *
 * Backward reads as forward read upwards: forward goes l = 0..L−1, each layer's output (after
 * dropout) the next one's input; backward goes l = L−1..0, each layer's ∂L/∂input written into
 * the dout of the layer below, through the same dropout mask. */
#include "recurrent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropout.h"
#include "error.h"

int recurrent_check(const CellSettings *cs, int L, const int *hidden, const char *where, ExError *err) {
    if (!cell_ops(cs->cell)) return ex_fail(err, "%s: cell must be rnn|lstm|gru", where);
    if (L < 1 || L > REC_MAX_LAYERS) return ex_fail(err, "%s: num_layers = %d, must be 1..%d", where, L, REC_MAX_LAYERS);
    for (int l = 0; l < L; l++)
        if (hidden[l] < 1) return ex_fail(err, "%s: hidden[%d] = %d, must be ≥ 1", where, l, hidden[l]);
    if (cs->cell == CELL_RNN) {
        if (cs->rnn_form != RNN_ELMAN && cs->rnn_form != RNN_LECTURE)
            return ex_fail(err, "%s: rnn_form must be elman|lecture", where);
        if ((unsigned)cs->rnn_act >= ACT_COUNT || cs->rnn_act == ACT_SOFTMAX)
            return ex_fail(err, "%s: the RNN activation φ must be element-wise (tanh, relu, sigmoid, ...), not '%s'",
                           where, act_name(cs->rnn_act));
    }
    if (cs->cell == CELL_GRU && cs->gru_variant != GRU_CHO && cs->gru_variant != GRU_PYTORCH)
        return ex_fail(err, "%s: gru_variant must be cho|pytorch", where);
    if (!isfinite(cs->forget_bias)) return ex_fail(err, "%s: forget_bias must be finite", where);
    if (cs->recurrent_orthogonal && !(cs->recurrent_gain > 0.0f))
        return ex_fail(err, "%s: recurrent_gain must be > 0", where);
    return 0;
}

/* Steps in a backward segment: about `rows` rows of the batch (max_B each), at most max_T. */
static int segment_steps(int rows, int max_B, int max_T) {
    int seg = (rows + max_B - 1) / max_B;
    return seg < max_T ? seg : max_T;
}

double recurrent_floats(const CellSettings *cs, int L, const int *hidden, int n_in0, int max_B, int max_T,
                        float dropout, int recompute, double *params) {
    const CellOps *ops = cell_ops(cs->cell);
    double G = ops ? ops->gates : 4, S = ops ? ops->states : 2, B = max_B, T = max_T;
    double seg_T = segment_steps(REC_SEGMENT_ROWS, max_B, max_T);
    double cache_per_unit = (G + 2 * S + 2) * B;   /* a step's cache (gates, states, tanh c or aux) and dout */
    double floats = 0, H_max = 0, n_max = 0, hx_max = 0;
    for (int l = 0; l < L; l++) {
        double n_in = l == 0 ? n_in0 : hidden[l - 1], H = hidden[l];
        *params += G * H * (H + n_in) + G * H + H;
        /* cache and dout (recompute: outputs, boundary states and dout); dropout's mask and
         * output; ds; norms */
        floats += recompute ? T * B * H + (l == L - 1 ? T : seg_T) * B * H + (ceil(T / seg_T) + 1) * S * B * H
                            : cache_per_unit * (T + 1) * H;
        floats += (dropout > 0 && l < L - 1 ? 2 * T * B * H : 0) + S * B * H + T;
        H_max = H > H_max ? H : H_max;
        n_max = n_in > n_max ? n_in : n_max;
        hx_max = H + n_in > hx_max ? H + n_in : hx_max;
    }
    if (recompute) floats += cache_per_unit * (seg_T + 1) * H_max;   /* the segments' one cache */
    /* the work area for one backward segment (gate gradients, [h | x] packed for the weight
     * gradients) and the packed operands (shared room + own) */
    floats += (G + 1) * seg_T * B * H_max + seg_T * B * hx_max + 3 * G * H_max * (H_max + n_max);
    return floats;
}

void recurrent_setup(Recurrent *r, const CellSettings *cs, const char *prefix, int L, const int *hidden, int n_in0,
                     float dropout) {
    memset(r, 0, sizeof *r);
    r->ops = cell_ops(cs->cell);
    r->cs = *cs;
    r->L = L;
    r->dropout = dropout;
    for (int l = 0; l < L; l++) {
        RecLayer *ly = &r->layer[l];
        ly->n_in = l == 0 ? n_in0 : hidden[l - 1];
        ly->H = hidden[l];
        ly->v = (CellViews){-1, -1, -1};
        snprintf(ly->name, sizeof ly->name, "%s%s%d", prefix, r->ops->name, l);
    }
}

void recurrent_add_layer_params(Recurrent *r, Params *p, int l) {
    RecLayer *ly = &r->layer[l];
    ly->v = cell_add_params(p, ly->name, &r->cs, ly->H, ly->n_in);
}

void recurrent_add_params(Recurrent *r, Params *p) {
    for (int l = 0; l < r->L; l++) recurrent_add_layer_params(r, p, l);
}

void recurrent_init_params(const Recurrent *r, Params *p, Rng *rng) {
    for (int l = 0; l < r->L; l++) cell_init_params(p, &r->layer[l].v, &r->cs, r->layer[l].H, r->layer[l].n_in, rng);
}

void recurrent_alloc(Recurrent *r, int max_B, int max_T, int keep_norms, PackedMat *const *extra, int n_extra) {
    const CellOps *ops = r->ops;
    r->max_B = max_B, r->max_T = max_T;
    int rows = r->seg_rows > 0 ? r->seg_rows : REC_SEGMENT_ROWS;
    r->seg = segment_steps(rows, max_B, max_T);
    int n_in = 0, H = 0, bounds = (max_T + r->seg - 1) / r->seg + 1;
    size_t carry = 0;
    for (int l = 0; l < r->L; l++) {
        RecLayer *ly = &r->layer[l];
        size_t steps = (size_t)max_T * max_B * ly->H, row = (size_t)max_B * ly->H;
        if (r->recompute) {
            ly->hist = ex_calloc(steps, sizeof(float));
            ly->bound = ex_calloc((size_t)bounds * ops->states * row, sizeof(float));
        } else {
            ly->cache = ops->alloc(CELL_CACHE, &r->cs, max_B, max_T, ly->n_in, ly->H);
        }
        /* below the top, ∂L/∂output is needed for one backward segment at a time */
        ly->dout = ex_calloc(l == r->L - 1 ? steps : (size_t)r->seg * row, sizeof(float));
        if (l < r->L - 1 && r->dropout > 0.0f) {
            ly->mask = ex_calloc(steps, sizeof(float));
            ly->dropped = ex_calloc(steps, sizeof(float));
        }
        for (int k = 0; k < ops->states; k++) ly->ds[k] = ex_calloc(row, sizeof(float));
        if (keep_norms) ly->norms = ex_calloc((size_t)max_T, sizeof(double));
        ly->carry_off = carry;
        carry += (size_t)ops->states * row;
        n_in = ly->n_in > n_in ? ly->n_in : n_in;
        H = ly->H > H ? ly->H : H;
    }
    r->carry_n = carry;
    r->work = ops->alloc(CELL_WORK, &r->cs, max_B, r->seg, n_in, H);
    if (r->recompute) r->seg_cache = ops->alloc(CELL_CACHE, &r->cs, max_B, r->seg, n_in, H);

    /* one packing room, as large as the largest shareable operand */
    PackedMat *shared[4 * (REC_MAX_LAYERS + 2) + 16];
    int n = ops->shareable(CELL_WORK, r->work, shared);
    if (r->recompute) n += ops->shareable(CELL_CACHE, r->seg_cache, shared + n);
    for (int l = 0; l < r->L && !r->recompute; l++) n += ops->shareable(CELL_CACHE, r->layer[l].cache, shared + n);
    for (int k = 0; k < n_extra && n < (int)(sizeof shared / sizeof *shared); k++) shared[n++] = extra[k];
    size_t room = 0;
    for (int k = 0; k < n; k++) room = packed_room(shared[k]) > room ? packed_room(shared[k]) : room;
    packed_alloc(&r->pack, (int)((room + 31) / 32), 32);
    for (int k = 0; k < n; k++) packed_share(shared[k], &r->pack);
}

void recurrent_free(Recurrent *r) {
    if (!r->ops) return;
    for (int l = 0; l < r->L; l++) {
        RecLayer *ly = &r->layer[l];
        if (ly->cache) r->ops->release(CELL_CACHE, ly->cache);
        free(ly->hist), free(ly->bound);
        free(ly->dout), free(ly->mask), free(ly->dropped), free(ly->ds[0]), free(ly->ds[1]), free(ly->norms);
    }
    r->ops->release(CELL_WORK, r->work);
    embed_grad_free(&r->embed);
    free(r->proj), packed_free(&r->proj_ws);
    if (r->seg_cache) r->ops->release(CELL_CACHE, r->seg_cache);
    packed_free(&r->pack);
    memset(r, 0, sizeof *r);
}

/* recompute: state k of layer l at boundary j (slot j·seg, or the last T for the last one). */
static float *bound_state(const Recurrent *r, int l, int j, int k) {
    const RecLayer *ly = &r->layer[l];
    return ly->bound + ((size_t)j * r->ops->states + k) * r->max_B * ly->H;
}

const float *recurrent_output(const Recurrent *r, int l, int t, int B) {
    if (r->recompute) return r->layer[l].hist + (size_t)(t - 1) * B * r->layer[l].H;
    return r->ops->output(r->layer[l].cache, &r->cs, t, B, r->layer[l].H);
}

const float *recurrent_state(const Recurrent *r, int l, int k, int t, int B) {
    (void)B;
    if (r->recompute) {
        if (t % r->seg != 0 && t != r->last_T) return NULL;   /* not kept */
        return bound_state(r, l, (t + r->seg - 1) / r->seg, k);
    }
    return r->ops->state(r->layer[l].cache, &r->cs, k, t, B, r->layer[l].H);
}

static CellWeights weights_of(const RecLayer *ly, const Params *p) {
    const CellViews *v = &ly->v;
    return (CellWeights){params_value(p, v->iW), v->ib >= 0 ? params_value(p, v->ib) : NULL,
                         v->ib_hn >= 0 ? params_value(p, v->ib_hn) : NULL};
}

/* What layer l ≥ 1 read at slot t0+1 of the last forward: the output of the layer below, after
 * its dropout in training. */
static const float *input_from_below(const Recurrent *r, int l, int t0, int B, int train) {
    const RecLayer *below = &r->layer[l - 1];
    if (train && r->dropout > 0.0f) return below->dropped + (size_t)t0 * B * below->H;
    return recurrent_output(r, l - 1, t0 + 1, B);
}

/* Layer l's span of len steps at `start` of the forward's span, from slot t0: below an
 * embedding, with the tokens whose projections layer 0 gathers. */
static CellSpan span_of(const Recurrent *r, int l, int t0, int start, int len, int B) {
    const RecLayer *ly = &r->layer[l];
    CellSpan sp = {&r->cs, t0, B, len, ly->n_in, ly->H, NULL, NULL};
    if (l == 0 && r->proj_tok) sp.proj = r->proj, sp.tok = r->proj_tok + (size_t)start * B;
    return sp;
}

/* recompute: layer l's forward over [start, start+len) in the segments' cache, from the states
 * kept at start: the first forward and backward's replay are the same calls. */
static void replay_segment(Recurrent *r, int l, const CellWeights *w, const float *in, int start, int len, int B) {
    CellSpan sp = span_of(r, l, 0, start, len, B);
    const float *s0[2] = {NULL, NULL};
    for (int k = 0; k < r->ops->states; k++) s0[k] = bound_state(r, l, start / r->seg, k);
    r->ops->forward(r->seg_cache, &sp, w, in, s0);
}

/* Layer l's forward over slots t0+1..t0+T from ly->s0, in the backward's segments, each
 * continuing from the state the one before left. */
static void layer_forward(Recurrent *r, int l, const CellWeights *w, const float *in, int t0, int B, int T) {
    RecLayer *ly = &r->layer[l];
    const size_t BH = (size_t)B * ly->H;
    for (int start = 0; start < T; start += r->seg) {
        int len = T - start < r->seg ? T - start : r->seg;
        const float *x = in + (size_t)start * B * ly->n_in;
        if (!r->recompute) {
            CellSpan sp = span_of(r, l, t0 + start, start, len, B);
            const float *s0[2] = {ly->s0[0], ly->s0[1]};
            for (int k = 0; k < r->ops->states && start > 0; k++) s0[k] = recurrent_state(r, l, k, t0 + start, B);
            r->ops->forward(ly->cache, &sp, w, x, s0);
            continue;
        }
        int j = start / r->seg;
        for (int k = 0; k < r->ops->states && start == 0; k++) {
            if (ly->s0[k]) memcpy(bound_state(r, l, 0, k), ly->s0[k], BH * sizeof(float));
            else memset(bound_state(r, l, 0, k), 0, BH * sizeof(float));
        }
        replay_segment(r, l, w, x, start, len, B);
        for (int k = 0; k < r->ops->states; k++)
            memcpy(bound_state(r, l, j + 1, k), r->ops->state(r->seg_cache, &r->cs, k, len, B, ly->H),
                   BH * sizeof(float));
        memcpy(ly->hist + (size_t)start * BH, r->ops->output(r->seg_cache, &r->cs, 1, B, ly->H),
               (size_t)len * BH * sizeof(float));
    }
}

static const float *forward_layers(Recurrent *r, const Params *p, const float *x, int t0, int B, int T, int train,
                                   Rng *rng);

const float *recurrent_forward(Recurrent *r, const Params *p, const float *x, int t0, int B, int T, int train,
                               Rng *rng) {
    r->proj_tok = NULL;
    return forward_layers(r, p, x, t0, B, T, train, rng);
}

const float *recurrent_forward_embedded(Recurrent *r, const Params *p, const float *x, const int32_t *tokens,
                                        const float *E, int t0, int B, int T, int train, Rng *rng) {
    const RecLayer *ly = &r->layer[0];
    r->proj_tok = NULL;
    if (r->proj && 2 * r->embed.V <= T * B) {
        /* P = E · W_xᵀ: every token's projection, once (W_x: W's columns after the first H) */
        int GH = r->ops->gates * ly->H;
        pk_gemm_nt(r->proj, GH, E, ly->n_in, params_value(p, ly->v.iW) + ly->H, ly->H + ly->n_in, r->embed.V, GH,
                   ly->n_in, 0.0f, &r->proj_ws);
        r->proj_tok = tokens;
    }
    return forward_layers(r, p, x, t0, B, T, train, rng);
}

static const float *forward_layers(Recurrent *r, const Params *p, const float *x, int t0, int B, int T, int train,
                                   Rng *rng) {
    if (r->recompute && t0 != 0) {
        fprintf(stderr, "exprun: internal error: a recomputing recurrent stack was given a span at t0 = %d\n", t0);
        exit(3);
    }
    r->last_T = T;
    const float *in = x;
    for (int l = 0; l < r->L; l++) {
        RecLayer *ly = &r->layer[l];
        CellWeights w = weights_of(ly, p);
        layer_forward(r, l, &w, in, t0, B, T);
        in = recurrent_output(r, l, t0 + 1, B);
        if (l < r->L - 1 && train && r->dropout > 0.0f) {
            size_t off = (size_t)t0 * B * ly->H;
            dropout_forward(ly->dropped + off, ly->mask + off, in, (size_t)T * B * ly->H, r->dropout, 1, rng);
            in = ly->dropped + off;
        }
    }
    return in;
}

/* Where layer 0's ∂L/∂input goes: dx (the span's (T, B, n_in) block, or NULL), or with tokens
 * an embedding's gradient dE (recurrent_backward_embedded). */
typedef struct InputGrad {
    float *dx;
    const int32_t *tokens;
    float *dE;
} InputGrad;

/* Layer l's backward over the span's slots t0+start+1..t0+start+len (first, last: whether the
 * segment is the span's first or last). ∂L/∂output: the top layer's dout at the slots' own
 * places, or below the top the segment's block the layer above has just written; ∂L/∂input
 * goes to the segment's block of the layer below, through its dropout mask, or for layer 0 as
 * `to` says. */
static void segment_backward(Recurrent *r, int l, Params *p, const float *x, const InputGrad *to, int t0, int start,
                             int len, int B, int first, int last, int train, RecStateGrad grad) {
    RecLayer *ly = &r->layer[l];
    CellWeights w = weights_of(ly, p);
    const CellViews *v = &ly->v;
    CellGrads g = {params_grad(p, v->iW), v->ib >= 0 ? params_grad(p, v->ib) : NULL,
                   v->ib_hn >= 0 ? params_grad(p, v->ib_hn) : NULL};
    RecLayer *below = l > 0 ? &r->layer[l - 1] : NULL;
    const float *none[2] = {NULL, NULL}, *carried[2] = {ly->ds[0], ly->ds[1]};
    float *none_out[2] = {NULL, NULL};
    CellSpan sp = {&r->cs, t0 + start, B, len, ly->n_in, ly->H, NULL, NULL};
    const float *in = below ? input_from_below(r, l, t0 + start, B, train) : x + (size_t)start * B * ly->n_in;
    float *din = below ? below->dout : to->dx ? to->dx + (size_t)start * B * ly->n_in : NULL;
    const float *dout = l == r->L - 1 ? ly->dout + (size_t)(t0 + start) * B * ly->H : ly->dout;
    void *cache = ly->cache;
    if (r->recompute) {
        replay_segment(r, l, &w, in, start, len, B);
        cache = r->seg_cache, sp.t0 = 0;
    }
    r->ops->backward(cache, r->work, &sp, &w, &g, in, din, dout, last && grad != REC_GRAD_THROUGH ? none : carried,
                     first && grad == REC_GRAD_NONE ? none_out : ly->ds, ly->norms ? ly->norms + t0 + start : NULL);
    if (!below && to->tokens) {
        int GH = r->ops->gates * ly->H;
        embed_grad_through(&r->embed, to->dE, to->tokens + (size_t)start * B, len * B, r->ops->input_grads(r->work),
                           GH, GH, w.W + ly->H, ly->H + ly->n_in);
    }
    if (below && train && r->dropout > 0.0f)
        dropout_backward(below->dout, below->dout, below->mask + (size_t)(t0 + start) * B * below->H,
                         (size_t)len * B * below->H);
}

/* Segment by segment, last first, and within a segment the top layer down: each layer carries
 * its ∂L/∂state from one segment to the one before (in ds), and a layer below the top needs
 * ∂L/∂output for one segment only. The order of every sum is the same as layer by layer. */
static void backward_segments(Recurrent *r, Params *p, const float *x, const InputGrad *to, int t0, int B, int T,
                              int train, RecStateGrad grad) {
    for (int end = T; end > 0;) {
        int start = (end - 1) / r->seg * r->seg;   /* segments at multiples of seg from the span's start */
        for (int l = r->L - 1; l >= 0; l--)
            segment_backward(r, l, p, x, to, t0, start, end - start, B, start == 0, end == T, train, grad);
        end = start;
    }
}

void recurrent_backward(Recurrent *r, Params *p, const float *x, float *dx, int t0, int B, int T, int train,
                        RecStateGrad grad) {
    InputGrad to = {dx, NULL, NULL};
    backward_segments(r, p, x, &to, t0, B, T, train, grad);
}

/* P at most a quarter of layer 0's projections */
static int projection_kept(int V, int max_B, int max_T) { return 4.0 * V <= (double)max_T * max_B; }

double recurrent_embed_floats(const CellSettings *cs, int H0, int n_in0, int V, int max_B, int max_T) {
    const CellOps *ops = cell_ops(cs->cell);
    int GH = (ops ? ops->gates : 4) * H0;
    double floats = embed_grad_floats(V, n_in0, GH, segment_steps(REC_SEGMENT_ROWS, max_B, max_T) * max_B);
    if (projection_kept(V, max_B, max_T)) floats += (double)V * GH + (double)pk_gemm_nt_room(V, GH, n_in0);
    return floats;
}

void recurrent_embed_below(Recurrent *r, int V) {
    const RecLayer *ly = &r->layer[0];
    int GH = r->ops->gates * ly->H;
    embed_grad_free(&r->embed);
    embed_grad_alloc(&r->embed, V, ly->n_in, GH, r->seg * r->max_B);
    free(r->proj), packed_free(&r->proj_ws);
    r->proj = NULL;
    if (projection_kept(V, r->max_B, r->max_T)) {
        r->proj = ex_calloc((size_t)V * GH, sizeof(float));
        packed_alloc(&r->proj_ws, 1, (int)pk_gemm_nt_room(V, GH, ly->n_in));
    }
}

void recurrent_backward_embedded(Recurrent *r, Params *p, const float *x, const int32_t *tokens, float *dE, int t0,
                                 int B, int T, int train, RecStateGrad grad) {
    if (!r->embed.slot) {
        fprintf(stderr, "exprun: internal error: recurrent_backward_embedded without recurrent_embed_below\n");
        exit(3);
    }
    InputGrad to = {NULL, tokens, dE};
    backward_segments(r, p, x, &to, t0, B, T, train, grad);
}

float *recurrent_carry_state(const Recurrent *r, float *carry, int l, int k) {
    return carry + r->layer[l].carry_off + (size_t)k * r->max_B * r->layer[l].H;
}

void recurrent_start(Recurrent *r, const float *carry) {
    for (int l = 0; l < r->L; l++)
        for (int k = 0; k < 2; k++)
            r->layer[l].s0[k] = carry && k < r->ops->states ? recurrent_carry_state(r, (float *)carry, l, k) : NULL;
}

void recurrent_save(const Recurrent *r, float *carry, int B, int t) {
    for (int l = 0; l < r->L; l++)
        for (int k = 0; k < r->ops->states; k++)
            memcpy(recurrent_carry_state(r, carry, l, k), recurrent_state(r, l, k, t, B),
                   (size_t)B * r->layer[l].H * sizeof(float));
}
