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

double recurrent_floats(const CellSettings *cs, int L, const int *hidden, int n_in0, int max_B, int max_T,
                        float dropout, double *params) {
    const CellOps *ops = cell_ops(cs->cell);
    double G = ops ? ops->gates : 4, S = ops ? ops->states : 2, B = max_B, T = max_T;
    double floats = 0, H_max = 0, n_max = 0;
    for (int l = 0; l < L; l++) {
        double n_in = l == 0 ? n_in0 : hidden[l - 1], H = hidden[l];
        *params += G * H * (H + n_in) + G * H + H;
        /* cache (gates, states, tanh c or aux) and dout; dropout's mask and output; ds; norms */
        floats += (G + 2 * S + 2) * (T + 1) * B * H + (dropout > 0 && l < L - 1 ? 2 * T * B * H : 0) + S * B * H + T;
        H_max = H > H_max ? H : H_max;
        n_max = n_in > n_max ? n_in : n_max;
    }
    /* the work area for one backward segment (gate gradients, act packing) and the packed
     * operands (shared room + own) */
    double seg = ceil((double)REC_SEGMENT_ROWS / B), seg_T = seg < T ? seg : T;
    floats += (G + 1) * seg_T * B * H_max + seg_T * B * (H_max > n_max ? H_max : n_max) + 3 * G * H_max * (H_max + n_max);
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
    int n_in = 0, H = 0;
    size_t carry = 0;
    for (int l = 0; l < r->L; l++) {
        RecLayer *ly = &r->layer[l];
        size_t steps = (size_t)max_T * max_B * ly->H, row = (size_t)max_B * ly->H;
        ly->cache = ops->alloc(CELL_CACHE, &r->cs, max_B, max_T, ly->n_in, ly->H);
        ly->dout = ex_calloc(steps, sizeof(float));
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
    int rows = r->seg_rows > 0 ? r->seg_rows : REC_SEGMENT_ROWS;
    r->seg = (rows + max_B - 1) / max_B;
    if (r->seg > max_T) r->seg = max_T;
    r->work = ops->alloc(CELL_WORK, &r->cs, max_B, r->seg, n_in, H);

    /* one packing room, as large as the largest shareable operand */
    PackedMat *shared[4 * (REC_MAX_LAYERS + 1) + 16];
    int n = ops->shareable(CELL_WORK, r->work, shared);
    for (int l = 0; l < r->L; l++) n += ops->shareable(CELL_CACHE, r->layer[l].cache, shared + n);
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
        r->ops->release(CELL_CACHE, ly->cache);
        free(ly->dout), free(ly->mask), free(ly->dropped), free(ly->ds[0]), free(ly->ds[1]), free(ly->norms);
    }
    r->ops->release(CELL_WORK, r->work);
    packed_free(&r->pack);
    memset(r, 0, sizeof *r);
}

const float *recurrent_output(const Recurrent *r, int l, int t, int B) {
    return r->ops->output(r->layer[l].cache, &r->cs, t, B, r->layer[l].H);
}

const float *recurrent_state(const Recurrent *r, int l, int k, int t, int B) {
    return r->ops->state(r->layer[l].cache, &r->cs, k, t, B, r->layer[l].H);
}

static CellWeights weights_of(const RecLayer *ly, const Params *p) {
    const CellViews *v = &ly->v;
    return (CellWeights){params_value(p, v->iW), v->ib >= 0 ? params_value(p, v->ib) : NULL,
                         v->ib_hn >= 0 ? params_value(p, v->ib_hn) : NULL};
}

/* What layer l read at slot t0+1 of the last forward: the stack's input, or the output of the
 * layer below after its dropout. */
static const float *input_of(const Recurrent *r, int l, const float *x, int t0, int B, int train) {
    if (l == 0) return x;
    const RecLayer *below = &r->layer[l - 1];
    if (train && r->dropout > 0.0f) return below->dropped + (size_t)t0 * B * below->H;
    return recurrent_output(r, l - 1, t0 + 1, B);
}

const float *recurrent_forward(Recurrent *r, const Params *p, const float *x, int t0, int B, int T, int train,
                               Rng *rng) {
    const float *in = x;
    for (int l = 0; l < r->L; l++) {
        RecLayer *ly = &r->layer[l];
        CellWeights w = weights_of(ly, p);
        /* in the backward's segments, each continuing from the state the one before left */
        for (int start = 0; start < T; start += r->seg) {
            CellSpan sp = {&r->cs, t0 + start, B, T - start < r->seg ? T - start : r->seg, ly->n_in, ly->H};
            const float *s0[2] = {ly->s0[0], ly->s0[1]};
            for (int k = 0; k < r->ops->states && start > 0; k++) s0[k] = recurrent_state(r, l, k, t0 + start, B);
            r->ops->forward(ly->cache, &sp, &w, in + (size_t)start * B * ly->n_in, s0);
        }
        in = recurrent_output(r, l, t0 + 1, B);
        if (l < r->L - 1 && train && r->dropout > 0.0f) {
            size_t off = (size_t)t0 * B * ly->H;
            dropout_forward(ly->dropped + off, ly->mask + off, in, (size_t)T * B * ly->H, r->dropout, 1, rng);
            in = ly->dropped + off;
        }
    }
    return in;
}

/* Layer l's backward over slots t0+1..t0+T, one segment at a time, last segment first: each
 * segment's ∂L/∂(state at its first slot) is the next segment's ∂L/∂(state at its last). */
static void layer_backward(Recurrent *r, int l, Params *p, const float *x, float *dx, int t0, int B, int T,
                           int train, RecStateGrad grad) {
    RecLayer *ly = &r->layer[l];
    CellWeights w = weights_of(ly, p);
    const CellViews *v = &ly->v;
    CellGrads g = {params_grad(p, v->iW), v->ib >= 0 ? params_grad(p, v->ib) : NULL,
                   v->ib_hn >= 0 ? params_grad(p, v->ib_hn) : NULL};
    RecLayer *below = l > 0 ? &r->layer[l - 1] : NULL;
    const int n_din = below ? below->H : ly->n_in;
    const float *none[2] = {NULL, NULL}, *carried[2] = {ly->ds[0], ly->ds[1]};
    float *none_out[2] = {NULL, NULL};
    for (int end = T; end > 0;) {
        int start = (end - 1) / r->seg * r->seg, len = end - start;   /* segments at multiples of seg */
        CellSpan sp = {&r->cs, t0 + start, B, len, ly->n_in, ly->H};
        const float *in = l > 0 ? input_of(r, l, NULL, t0 + start, B, train) : x + (size_t)start * B * ly->n_in;
        float *din = below ? below->dout + (size_t)(t0 + start) * B * n_din : dx ? dx + (size_t)start * B * n_din : NULL;
        int last = end == T, first = start == 0;
        r->ops->backward(ly->cache, r->work, &sp, &w, &g, in, din, ly->dout + (size_t)(t0 + start) * B * ly->H,
                         last && grad != REC_GRAD_THROUGH ? none : carried,
                         first && grad == REC_GRAD_NONE ? none_out : ly->ds,
                         ly->norms ? ly->norms + t0 + start : NULL);
        end = start;
    }
    if (below && train && r->dropout > 0.0f) {
        size_t off = (size_t)t0 * B * below->H;
        dropout_backward(below->dout + off, below->dout + off, below->mask + off, (size_t)T * B * below->H);
    }
}

void recurrent_backward(Recurrent *r, Params *p, const float *x, float *dx, int t0, int B, int T, int train,
                        RecStateGrad grad) {
    for (int l = r->L - 1; l >= 0; l--) layer_backward(r, l, p, x, dx, t0, B, T, train, grad);
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
