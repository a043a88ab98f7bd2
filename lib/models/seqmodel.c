/* seqmodel.c — the sequence model family (see seqmodel.h for the graph, parameters and losses).
 *
 * One training step, all in buffers sized at creation:
 *   x0 (T, B, n_in0)       ← the batch's input, permuted to time-major (embedding gather, one-hot
 *                            or a transpose of the features)
 *   layer l forward        ← its initial state (zero, learned, or carried) and its input (below
 *                            an embedding, layer 0's W_x x gathered from E · W_xᵀ: recurrent.h's
 *                            recurrent_forward_embedded)
 *   dropout between layers (inverted; its mask kept for backward)
 *   head logits (T·B or B, n_out), the loss and ∂L/∂logits
 *   head backward          → ∂L/∂(top output) (T, B, H)
 *   layer l backward       → ∂L/∂(its input) = ∂L/∂(output of l − 1) (through the dropout mask);
 *                            below layer 0 an embedding's gradient, its gate gradients summed by
 *                            token and multiplied by W_x (embed.h's embed_grad_through).
 * Gradients are accumulated (+=) into the arena; the training loop zeroes, clips and steps. */
#include "seqmodel.h"
#include "init.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "dropout.h"
#include "embed.h"
#include "recurrent.h"

typedef struct SeqModel {
    SeqModelConfig cfg;
    int L;
    Recurrent rec;                /* the stack of cells (recurrent.h) */
    int ih0[SEQ_MAX_LAYERS];      /* learned initial state views {cell}{l}/h0, c0 (−1 when absent) */
    int ic0[SEQ_MAX_LAYERS];
    int iE, iHW, iHb;             /* embed/W (or −1), head/W, head/b */
    int n_in0;                    /* features entering layer 0 */
    float *x0;                    /* (T, B, n_in0) */
    int32_t *tok;                 /* (T·B) input tokens, time-major */
    int32_t *tgt;                 /* (T·B) target tokens/labels, time-major */
    float *ytm;                   /* (T·B, n_out) float targets, time-major */
    float *logits, *dlogits;      /* (T·B, n_out) */
    int out_rows;                 /* rows of logits the last batch filled (seqmodel_outputs) */
    DenseWork head_work;          /* the head's products (its packing shares the stack's room) */
    /* Carry blocks (recurrent.h's layout): the learned initial state broadcast to a batch's
     * rows, and the carried states of training, evaluation and sampling. */
    float *start, *carry_train, *carry_eval, *carry_sample;
    int norms_T;
    long norms_batches;
    Rng dropout_rng;              /* fallback when train_batch gets no noise stream */
    ExError err;
} SeqModel;

/* ---- names ---------------------------------------------------------------------------- */

static int find_name(const char *const *names, int n, const char *name) {
    for (int k = 0; k < n; k++)
        if (strcmp(names[k], name) == 0) return k;
    return -1;
}

static const char *const INPUT_NAMES[] = {"embedding", "onehot", "features"};
static const char *const HEAD_NAMES[] = {"per_step", "last_step"};
static const char *const INIT_NAMES[] = {"zero", "learned"};

const char *seq_input_name(SeqInput i) { return (unsigned)i < 3 ? INPUT_NAMES[i] : "?"; }
const char *seq_head_name(SeqHead h) { return (unsigned)h < 2 ? HEAD_NAMES[h] : "?"; }
const char *seq_init_state_name(SeqInitState s) { return (unsigned)s < 2 ? INIT_NAMES[s] : "?"; }

int seq_input_from_name(const char *name, SeqInput *i) {
    int k = find_name(INPUT_NAMES, 3, name);
    if (k >= 0) *i = (SeqInput)k;
    return k >= 0 ? 0 : -1;
}
int seq_head_from_name(const char *name, SeqHead *h) {
    int k = find_name(HEAD_NAMES, 2, name);
    if (k >= 0) *h = (SeqHead)k;
    return k >= 0 ? 0 : -1;
}
int seq_init_state_from_name(const char *name, SeqInitState *s) {
    int k = find_name(INIT_NAMES, 2, name);
    if (k >= 0) *s = (SeqInitState)k;
    return k >= 0 ? 0 : -1;
}

/* ---- creation ------------------------------------------------------------------------- */


static CellSettings cell_settings(const SeqModelConfig *c) {
    return (CellSettings){.cell = c->cell, .rnn_form = c->rnn_form, .rnn_act = c->rnn_act,
                          .gru_variant = c->gru_variant, .forget_bias = c->forget_bias,
                          .recurrent_orthogonal = c->recurrent_orthogonal, .recurrent_gain = c->recurrent_gain};
}

static int check_config(const SeqModelConfig *c, ExError *err) {
    const char *where = "seqmodel config";
    CellSettings cs = cell_settings(c);
    if (recurrent_check(&cs, c->num_layers, c->hidden, where, err) != 0) return -1;
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return ex_fail(err, "%s: dropout = %g, must be in [0, 1)", where, (double)c->dropout);
    if (c->init_state != SEQ_INIT_ZERO && c->init_state != SEQ_INIT_LEARNED)
        return ex_fail(err, "%s: init_state must be zero|learned", where);
    switch (c->input) {
    case SEQ_INPUT_EMBED:
        if (c->embed_dim < 1) return ex_fail(err, "%s: input embedding needs embed_dim ≥ 1", where);
        /* fall through */
    case SEQ_INPUT_ONEHOT:
        if (c->vocab < 1) return ex_fail(err, "%s: token input needs vocab ≥ 1 (got %d)", where, c->vocab);
        break;
    case SEQ_INPUT_FEATURES:
        if (c->n_features < 1) return ex_fail(err, "%s: feature input needs n_features ≥ 1", where);
        break;
    default:
        return ex_fail(err, "%s: input must be embedding|onehot|features", where);
    }
    if (c->head != SEQ_HEAD_PER_STEP && c->head != SEQ_HEAD_LAST_STEP)
        return ex_fail(err, "%s: head must be per_step|last_step", where);
    if (c->loss != LOSS_SOFTMAX_CROSS_ENTROPY && c->loss != LOSS_SQUARED_ERROR)
        return ex_fail(err, "%s: loss '%s' is not available for sequence models (softmax_cross_entropy|squared_error)",
                       where, loss_name(c->loss));
    if (c->n_out < 1 || (c->loss == LOSS_SOFTMAX_CROSS_ENTROPY && c->n_out < 2))
        return ex_fail(err, "%s: n_out = %d, must be ≥ %d", where, c->n_out,
                       c->loss == LOSS_SOFTMAX_CROSS_ENTROPY ? 2 : 1);
    if (c->max_batch < 1 || c->max_T < 1)
        return ex_fail(err, "%s: max_batch and max_T must be ≥ 1 (got %d, %d)", where, c->max_batch, c->max_T);
    return 0;
}

/* Layer l's learned initial state {cell}{l}/h0 (and /c0 for LSTM), right after its cell's views. */
static void add_initial_state_params(SeqModel *s, Params *p, int l) {
    const RecLayer *ly = &s->rec.layer[l];
    char name[PARAM_NAME_MAX];
    s->ih0[l] = s->ic0[l] = -1;
    if (s->cfg.init_state != SEQ_INIT_LEARNED) return;
    snprintf(name, sizeof name, "%s/h0", ly->name);
    s->ih0[l] = params_add(p, name, 1, (int[]){ly->H}, "H initial state");
    if (s->rec.ops->states > 1) {
        snprintf(name, sizeof name, "%s/c0", ly->name);
        s->ic0[l] = params_add(p, name, 1, (int[]){ly->H}, "H initial memory cell");
    }
}

static double seq_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
static double seq_eval_batch(Model *m, const Batch *b, StepStats *stats);
static void seq_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx);
static float *seq_carried_state(Model *m, size_t *n);
static void seq_destroy(Model *m);

static int seq_steps_per_row(const Model *m, int T, int Ty);
static int seq_sample(Model *m, const int32_t *prime, int n_prime, int length, double temperature, Rng *rng,
                      int32_t *out, ExError *err);

/* run_batch: the share of correct classes or next tokens, under a softmax head. */
static int seq_eval_stat_names(const Model *m, const char **names, int cap) {
    const SeqModel *s = m->impl;
    if (s->cfg.loss != LOSS_SOFTMAX_CROSS_ENTROPY || cap < 1) return 0;
    names[0] = "accuracy";
    return 1;
}

static void seq_describe_loss(const Model *m, char *buf, size_t cap) {
    const SeqModelConfig *c = &((const SeqModel *)m->impl)->cfg;
    int per_step = c->head == SEQ_HEAD_PER_STEP;
    if (c->loss == LOSS_SOFTMAX_CROSS_ENTROPY)
        snprintf(buf, cap, "softmax cross-entropy in nats %s",
                 per_step ? "per target token (steps without a target left out), averaged over the tokens"
                          : "of the sequence's class, averaged over the sequences");
    else
        snprintf(buf, cap, "squared error summed over the %d outputs of %s", c->n_out,
                 per_step ? "a step, averaged over the steps of every sequence" : "a sequence's last step, averaged over "
                                                                                  "the sequences");
}

static const ModelOps SEQ_OPS = {
    .family = "sequence",
    .eval_stat_names = seq_eval_stat_names,
    .describe_loss = seq_describe_loss,
    .train_batch = seq_train_batch,
    .eval_batch = seq_eval_batch,
    .describe = seq_describe,
    .destroy = seq_destroy,
    .last_error = seqmodel_last_error,
    .carried_state = seq_carried_state,
    .unit = "tokens",
    .unit_short = "tok",
    .steps_per_row = seq_steps_per_row,
    .time_grad_norms = seqmodel_grad_norms,
    .reset_time_grad_norms = seqmodel_reset_grad_norms,
    .time_grad_state = seqmodel_grad_norm_state,
    .sample = seq_sample,
    .outputs = seqmodel_outputs,
};

double seqmodel_memory(const SeqModelConfig *c) {
    double n_in0 = c->input == SEQ_INPUT_EMBED ? c->embed_dim : c->input == SEQ_INPUT_ONEHOT ? c->vocab : c->n_features;
    double P = (c->input == SEQ_INPUT_EMBED ? (double)c->vocab * c->embed_dim : 0), H_top = c->hidden[c->num_layers - 1];
    CellSettings cs = cell_settings(c);
    double floats = recurrent_floats(&cs, c->num_layers, c->hidden, (int)n_in0, c->max_batch, c->max_T, c->dropout, c->recompute, &P);
    P += (double)c->n_out * H_top + c->n_out;
    double rows = (double)c->max_T * c->max_batch;
    floats += rows * (n_in0 + 3 * c->n_out) + 4 * rows;   /* x0, logits, dlogits, ytm; tokens */
    if (c->input == SEQ_INPUT_EMBED)   /* recurrent_embed_below's */
        floats += recurrent_embed_floats(&cs, c->hidden[0], c->embed_dim, c->vocab, c->max_batch, c->max_T);
    return 4.0 * (4 * P + floats);
}

int seqmodel_create(Model **out, const SeqModelConfig *cfg, Rng *init_rng, ExError *err) {
    *out = NULL;
    if (check_config(cfg, err) != 0) return -1;
    Model *m = ex_calloc(1, sizeof *m);
    SeqModel *s = ex_calloc(1, sizeof *s);
    m->ops = &SEQ_OPS;
    m->impl = s;
    m->max_batch = cfg->max_batch;
    s->cfg = *cfg;
    s->L = cfg->num_layers;
    const SeqModelConfig *c = &s->cfg;
    Params *p = &m->params;

    s->n_in0 = c->input == SEQ_INPUT_EMBED ? c->embed_dim : c->input == SEQ_INPUT_ONEHOT ? c->vocab : c->n_features;
    s->iE = -1;
    if (c->input == SEQ_INPUT_EMBED) s->iE = params_add(p, "embed/W", 2, (int[]){c->vocab, c->embed_dim}, "vocab,embed");
    CellSettings cs = cell_settings(c);
    recurrent_setup(&s->rec, &cs, "", s->L, c->hidden, s->n_in0, c->dropout);
    s->rec.recompute = c->recompute;
    for (int l = 0; l < s->L; l++) {
        recurrent_add_layer_params(&s->rec, p, l);
        add_initial_state_params(s, p, l);
    }
    int H_top = c->hidden[s->L - 1];
    s->iHW = params_add(p, "head/W", 2, (int[]){c->n_out, H_top}, "out,in");
    s->iHb = params_add(p, "head/b", 1, (int[]){c->n_out}, "out");
    params_alloc(p);

    /* learned initial states start at 0 (the arena is zero-filled) */
    if (s->iE >= 0) {
        float *E = params_value(p, s->iE);
        for (size_t k = 0; k < p->views[s->iE].size; k++) E[k] = (float)rng_normal(init_rng);
    }
    recurrent_init_params(&s->rec, p, init_rng);
    float kh = 1.0f / sqrtf((float)H_top);
    init_uniform(params_value(p, s->iHW), p->views[s->iHW].size, kh, init_rng);
    init_uniform(params_value(p, s->iHb), (size_t)c->n_out, kh, init_rng);
    rng_seed(&s->dropout_rng, rng_next_u64(init_rng));

    size_t rows = (size_t)c->max_T * c->max_batch;
    s->x0 = ex_calloc(rows * s->n_in0, sizeof(float));
    s->tok = ex_calloc(rows, sizeof(int32_t));
    s->tgt = ex_calloc(rows, sizeof(int32_t));
    s->ytm = ex_calloc(rows * c->n_out, sizeof(float));
    s->logits = ex_calloc(rows * c->n_out, sizeof(float));
    s->dlogits = ex_calloc(rows * c->n_out, sizeof(float));
    size_t head_work = 0;
    dense_work_reserve(&head_work, (int)rows, H_top, c->n_out);
    dense_work_alloc(&s->head_work, head_work);
    recurrent_alloc(&s->rec, c->max_batch, c->max_T, 1, (PackedMat *[]){&s->head_work.pack}, 1);
    if (c->input == SEQ_INPUT_EMBED) recurrent_embed_below(&s->rec, c->vocab);
    size_t carry_n = s->rec.carry_n;
    s->start = ex_calloc(carry_n, sizeof(float));
    s->carry_train = ex_calloc(carry_n, sizeof(float));
    s->carry_eval = ex_calloc(carry_n, sizeof(float));
    s->carry_sample = ex_calloc(carry_n, sizeof(float));
    *out = m;
    return 0;
}

static void seq_destroy(Model *m) {
    SeqModel *s = m->impl;
    if (!s) return;
    recurrent_free(&s->rec);
    free(s->x0), free(s->tok), free(s->tgt), free(s->ytm), free(s->logits), free(s->dlogits);
    free(s->start), free(s->carry_train), free(s->carry_eval), free(s->carry_sample);
    dense_work_free(&s->head_work);
    free(s);
    m->impl = NULL;
}

const SeqModelConfig *seqmodel_config(const Model *m) { return &((const SeqModel *)m->impl)->cfg; }
const char *seqmodel_last_error(const Model *m) { return ((const SeqModel *)m->impl)->err.msg; }

/* ---- the stacked forward and backward --------------------------------------------------- */

/* Point every layer's initial state at: the rows of a carry block, the learned parameters
 * (broadcast to B rows), or zeros. */
static void set_initial_states(SeqModel *s, const Params *p, int B, const float *carry) {
    if (!carry && s->cfg.init_state == SEQ_INIT_LEARNED) {
        for (int l = 0; l < s->L; l++)
            for (int k = 0; k < s->rec.ops->states; k++) {
                size_t H = (size_t)s->rec.layer[l].H;
                const float *v = params_value(p, k == 0 ? s->ih0[l] : s->ic0[l]);
                float *rows = recurrent_carry_state(&s->rec, s->start, l, k);
                for (int r = 0; r < B; r++) memcpy(rows + r * H, v, H * sizeof(float));
            }
        carry = s->start;
    }
    recurrent_start(&s->rec, carry);
}

/* Backward through the stack from the top layer's dout; accumulates parameter gradients.
 * learned_state: the batch started from the learned initial state (not a carried one). */
static void backward_stack(SeqModel *s, Params *p, int B, int T, int learned_state) {
    RecStateGrad grad = learned_state ? REC_GRAD_OUT : REC_GRAD_NONE;
    /* below an embedding, its gradient comes straight from layer 0's gate gradients */
    if (s->iE >= 0) recurrent_backward_embedded(&s->rec, p, s->x0, s->tok, params_grad(p, s->iE), 0, B, T, 1, grad);
    else recurrent_backward(&s->rec, p, s->x0, NULL, 0, B, T, 1, grad);
    if (learned_state)
        /* h0 (c0) was broadcast to every row: its gradient is the sum over rows */
        for (int l = 0; l < s->L; l++)
            for (int k = 0; k < s->rec.ops->states; k++) {
                int H = s->rec.layer[l].H;
                const float *ds = s->rec.layer[l].ds[k];
                float *g = params_grad(p, k == 0 ? s->ih0[l] : s->ic0[l]);
                for (int r = 0; r < B; r++)
                    for (int j = 0; j < H; j++) g[j] += ds[(size_t)r * H + j];
            }
    if (T > s->norms_T) s->norms_T = T;
    s->norms_batches++;
}

/* Layer 0's input, time-major: x0[t, b] from the batch's [b, t]. */
static void gather_input(SeqModel *s, const Params *p, const Batch *b) {
    const SeqModelConfig *c = &s->cfg;
    int B = b->B, T = b->T;
    if (c->input == SEQ_INPUT_FEATURES) {
        int d = c->n_features;
        for (int t = 0; t < T; t++)
            for (int r = 0; r < B; r++)
                memcpy(s->x0 + ((size_t)t * B + r) * d, b->x + ((size_t)r * T + t) * d, (size_t)d * sizeof(float));
        return;
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < B; r++) s->tok[(size_t)t * B + r] = b->x_tokens[(size_t)r * T + t];
    if (c->input == SEQ_INPUT_EMBED) embed_forward(s->x0, s->tok, params_value(p, s->iE), T * B, c->embed_dim);
    else onehot_forward(s->x0, s->tok, T * B, c->vocab);
}

static int check_batch(SeqModel *s, const Batch *b) {
    const SeqModelConfig *c = &s->cfg;
    ExError *err = &s->err;
    const char *w = "sequence model batch";
    if (b->B < 1 || b->B > c->max_batch)
        return ex_fail(err, "%s: B = %d, must be 1..max_batch = %d", w, b->B, c->max_batch);
    if (b->T < 1 || b->T > c->max_T) return ex_fail(err, "%s: T = %d, must be 1..max_T = %d", w, b->T, c->max_T);
    size_t n = (size_t)b->B * b->T;
    if (c->input == SEQ_INPUT_FEATURES) {
        if (!b->x) return ex_fail(err, "%s: the model takes features x (B, T, d) but the batch has none", w);
        if (b->d != c->n_features)
            return ex_fail(err, "%s: x has d = %d features per step, the model expects %d", w, b->d, c->n_features);
    } else {
        if (!b->x_tokens) return ex_fail(err, "%s: the model takes tokens (B, T) but the batch has none", w);
        if (embed_check_tokens(b->x_tokens, n, c->vocab, err) != 0) return ex_prefix(err, "%s input: ", w);
    }
    if (c->loss == LOSS_SOFTMAX_CROSS_ENTROPY) {
        if (c->head == SEQ_HEAD_PER_STEP) {
            if (!b->y_tokens) return ex_fail(err, "%s: a per-step softmax head needs y_tokens (B, T)", w);
            if (b->Ty != b->T) return ex_fail(err, "%s: y_tokens has Ty = %d steps, x has T = %d", w, b->Ty, b->T);
            for (size_t k = 0; k < n; k++)
                if (b->y_tokens[k] < -1 || b->y_tokens[k] >= c->n_out)
                    return ex_fail(err, "%s: target token %d at position %zu is outside [0, %d) (−1 = none)", w,
                                   (int)b->y_tokens[k], k, c->n_out);
        } else {
            if (!b->labels) return ex_fail(err, "%s: a last-step softmax head needs labels (B)", w);
            for (int r = 0; r < b->B; r++)
                if (b->labels[r] < 0 || b->labels[r] >= c->n_out)
                    return ex_fail(err, "%s: label %d of row %d is outside [0, %d)", w, (int)b->labels[r], r, c->n_out);
        }
    } else {
        int want_Ty = c->head == SEQ_HEAD_PER_STEP ? b->T : 1;
        if (!b->y) return ex_fail(err, "%s: squared error needs real targets y (B, Ty, dy)", w);
        if (b->Ty != want_Ty || b->dy != c->n_out)
            return ex_fail(err, "%s: y is (B, %d, %d), the %s head needs (B, %d, %d)", w, b->Ty, b->dy,
                           seq_head_name(c->head), want_Ty, c->n_out);
    }
    if (b->carry_state && !c->tbptt_carry)
        return ex_fail(err, "%s: carry_state is set but the model was built without tbptt carry", w);
    return 0;
}

/* Forward (and, if train, backward) on one checked batch; returns the mean loss per target. */
static double run_batch(SeqModel *s, Params *p, const Batch *b, int train, Rng *rng, StepStats *stats) {
    const SeqModelConfig *c = &s->cfg;
    int B = b->B, T = b->T, H = c->hidden[s->L - 1], V = c->n_out;
    float *carry = train ? s->carry_train : s->carry_eval;
    gather_input(s, p, b);
    set_initial_states(s, p, B, b->carry_state ? carry : NULL);
    const float *top = s->iE >= 0 ? recurrent_forward_embedded(&s->rec, p, s->x0, s->tok, params_value(p, s->iE), 0,
                                                                B, T, train, rng)
                                  : recurrent_forward(&s->rec, p, s->x0, 0, B, T, train, rng);
    if (c->tbptt_carry) recurrent_save(&s->rec, carry, B, T);

    /* head: per step over all T·B rows, or on h_T (B rows) */
    int per_step = c->head == SEQ_HEAD_PER_STEP;
    int rows = per_step ? T * B : B;
    const float *head_in = per_step ? top : top + (size_t)(T - 1) * B * H;
    const float *hW = params_value(p, s->iHW), *hb = params_value(p, s->iHb);
    dense_forward(s->logits, head_in, hW, hb, rows, H, V, 0, ACT_IDENTITY, &s->head_work);
    s->out_rows = rows;

    double loss;
    if (c->loss == LOSS_SOFTMAX_CROSS_ENTROPY) {
        if (per_step)
            for (int t = 0; t < T; t++)
                for (int r = 0; r < B; r++) s->tgt[(size_t)t * B + r] = b->y_tokens[(size_t)r * T + t];
        else
            memcpy(s->tgt, b->labels, (size_t)B * sizeof(int32_t));
        loss = loss_softmax_cross_entropy(s->dlogits, s->logits, s->tgt, rows, V, 0.0);
        if (stats) {
            int correct = 0, count = 0;
            for (int i = 0; i < rows; i++) {
                if (s->tgt[i] < 0) continue;
                const float *z = s->logits + (size_t)i * V;
                int best = 0;
                for (int j = 1; j < V; j++) best = z[j] > z[best] ? j : best;
                correct += best == s->tgt[i];
                count++;
            }
            stats_add(stats, "accuracy", count ? (double)correct / count * B : 0.0);
        }
    } else {
        const float *y = b->y;
        if (per_step) {
            for (int t = 0; t < T; t++)
                for (int r = 0; r < B; r++)
                    memcpy(s->ytm + ((size_t)t * B + r) * V, b->y + ((size_t)r * T + t) * V, (size_t)V * sizeof(float));
            y = s->ytm;
        }
        loss = loss_squared_error(s->dlogits, s->logits, y, rows, V);
    }
    if (!train) return loss;

    /* head backward → ∂L/∂(top output) */
    float *dtop = s->rec.layer[s->L - 1].dout;
    if (!per_step) memset(dtop, 0, (size_t)T * B * H * sizeof(float));
    dense_backward(per_step ? dtop : dtop + (size_t)(T - 1) * B * H, params_grad(p, s->iHW), params_grad(p, s->iHb),
                   s->dlogits, s->logits, head_in, hW, rows, H, V, 0, ACT_IDENTITY, &s->head_work);
    int learned_state = c->init_state == SEQ_INIT_LEARNED && !b->carry_state;
    backward_stack(s, p, B, T, learned_state);
    return loss;
}

static double seq_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats) {
    SeqModel *s = m->impl;
    if (check_batch(s, b) != 0) return NAN;
    return run_batch(s, &m->params, b, 1, noise_rng ? noise_rng : &s->dropout_rng, stats);
}

static double seq_eval_batch(Model *m, const Batch *b, StepStats *stats) {
    SeqModel *s = m->impl;
    if (check_batch(s, b) != 0) return NAN;
    return run_batch(s, &m->params, b, 0, NULL, stats);
}

const float *seqmodel_outputs(const Model *m, int *rows, int *n_out) {
    const SeqModel *s = m->impl;
    *rows = s->out_rows;
    *n_out = s->cfg.n_out;
    return s->logits;
}

static float *seq_carried_state(Model *m, size_t *n) {
    SeqModel *s = m->impl;
    *n = s->cfg.tbptt_carry ? s->rec.carry_n : 0;
    return s->cfg.tbptt_carry ? s->carry_train : NULL;
}

/* ---- diagnostics ------------------------------------------------------------------------ */

const double *seqmodel_grad_norms_layer(const Model *m, int layer, int *T) {
    const SeqModel *s = m->impl;
    if (layer < 0 || layer >= s->L) {
        if (T) *T = 0;
        return NULL;
    }
    if (T) *T = s->norms_T;
    return s->rec.layer[layer].norms;
}

const double *seqmodel_grad_norms(const Model *m, int *T) {
    const SeqModel *s = m->impl;
    return seqmodel_grad_norms_layer(m, s->L - 1, T);
}

long seqmodel_grad_norm_batches(const Model *m) { return ((const SeqModel *)m->impl)->norms_batches; }

size_t seqmodel_grad_norm_state(Model *m, double *block, int set) {
    SeqModel *s = m->impl;
    size_t T = (size_t)s->cfg.max_T, n = 2 + (size_t)s->L * T;
    if (!block) return n;
    if (set) {
        s->norms_T = (int)block[0];
        s->norms_batches = (long)block[1];
    } else {
        block[0] = s->norms_T;
        block[1] = (double)s->norms_batches;
    }
    for (int l = 0; l < s->L; l++) {
        double *sums = s->rec.layer[l].norms, *at = block + 2 + (size_t)l * T;
        memcpy(set ? sums : at, set ? at : sums, T * sizeof(double));
    }
    return n;
}

void seqmodel_reset_grad_norms(Model *m) {
    SeqModel *s = m->impl;
    for (int l = 0; l < s->L; l++) memset(s->rec.layer[l].norms, 0, (size_t)s->cfg.max_T * sizeof(double));
    s->norms_T = 0;
    s->norms_batches = 0;
}

/* One row is T steps (a text window, a sequence). */
static int seq_steps_per_row(const Model *m, int T, int Ty) {
    (void)m;
    (void)Ty;
    return T;
}

/* ---- sampling --------------------------------------------------------------------------- */

/* Feed tokens (n ≤ max_T, batch 1) from the state in carry_sample, leave the new state there,
 * and the logits of the last token in s->logits. */
static void sample_feed(SeqModel *s, const Params *p, const int32_t *tokens, int n) {
    const SeqModelConfig *c = &s->cfg;
    int H = c->hidden[s->L - 1];
    memcpy(s->tok, tokens, (size_t)n * sizeof(int32_t));
    if (c->input == SEQ_INPUT_EMBED) embed_forward(s->x0, s->tok, params_value(p, s->iE), n, c->embed_dim);
    else onehot_forward(s->x0, s->tok, n, c->vocab);
    recurrent_start(&s->rec, s->carry_sample);
    const float *top = recurrent_forward(&s->rec, p, s->x0, 0, 1, n, 0, NULL);
    recurrent_save(&s->rec, s->carry_sample, 1, n);
    dense_forward(s->logits, top + (size_t)(n - 1) * H, params_value(p, s->iHW), params_value(p, s->iHb), 1, H,
                  c->n_out, 0, ACT_IDENTITY, &s->head_work);
}

static int32_t sample_logits(const float *z, int V, double temperature, Rng *rng) {
    int best = 0;
    for (int j = 1; j < V; j++) best = z[j] > z[best] ? j : best;
    if (temperature <= 0.0) return best;
    /* p_j ∝ exp((z_j − max) / temperature), drawn by inverting the cumulative sum */
    double sum = 0.0;
    for (int j = 0; j < V; j++) sum += exp((z[j] - z[best]) / temperature);
    double u = rng_uniform_double(rng) * sum, acc = 0.0;
    for (int j = 0; j < V; j++) {
        acc += exp((z[j] - z[best]) / temperature);
        if (u < acc) return j;
    }
    return best;   /* u landed on the rounding slack at the top */
}

int seqmodel_sample(Model *m, const int32_t *prime, int n_prime, int length, double temperature, Rng *rng,
                    int32_t *out) {
    SeqModel *s = m->impl;
    const SeqModelConfig *c = &s->cfg;
    ExError *err = &s->err;
    if (c->input == SEQ_INPUT_FEATURES || c->head != SEQ_HEAD_PER_STEP || c->loss != LOSS_SOFTMAX_CROSS_ENTROPY ||
        c->n_out != c->vocab)
        return ex_fail(err, "seqmodel_sample: sampling needs token input, a per-step softmax head and n_out = vocab");
    if (n_prime < 1) return ex_fail(err, "seqmodel_sample: the prime needs at least one token");
    if (length < 0) return ex_fail(err, "seqmodel_sample: length = %d is negative", length);
    if (embed_check_tokens(prime, (size_t)n_prime, c->vocab, err) != 0) return ex_prefix(err, "seqmodel_sample prime: ");
    if (temperature > 0.0 && !rng) return ex_fail(err, "seqmodel_sample: temperature > 0 needs an Rng");

    /* start from the initial state (learned or zero), as a training sequence does */
    set_initial_states(s, &m->params, 1, NULL);
    for (int l = 0; l < s->L; l++)
        for (int k = 0; k < s->rec.ops->states; k++) {
            size_t n = (size_t)s->rec.layer[l].H * sizeof(float);
            const float *from = s->rec.layer[l].s0[k];
            float *to = recurrent_carry_state(&s->rec, s->carry_sample, l, k);
            if (from) memcpy(to, from, n);
            else memset(to, 0, n);
        }
    for (int k = 0; k < n_prime; k += c->max_T) {
        int n = n_prime - k < c->max_T ? n_prime - k : c->max_T;
        sample_feed(s, &m->params, prime + k, n);
    }
    for (int k = 0; k < length; k++) {
        out[k] = sample_logits(s->logits, c->n_out, temperature, rng);
        if (k + 1 < length) sample_feed(s, &m->params, &out[k], 1);
    }
    return 0;
}

/* ---- describe --------------------------------------------------------------------------- */

static void seq_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx) {
    const SeqModel *s = m->impl;
    const SeqModelConfig *c = &s->cfg;
    const Params *p = &m->params;
    char line[512];
    const char *variant = c->cell == CELL_RNN ? rnn_form_name(c->rnn_form)
                          : c->cell == CELL_GRU ? gru_variant_name(c->gru_variant) : "slides";
    snprintf(line, sizeof line, "sequence model: %d x %s (%s%s%s), input %s, head %s, loss %s, initial state %s%s",
             s->L, cell_type_name(c->cell), variant, c->cell == CELL_RNN ? ", phi " : "",
             c->cell == CELL_RNN ? act_name(c->rnn_act) : "", seq_input_name(c->input), seq_head_name(c->head),
             loss_name(c->loss), seq_init_state_name(c->init_state), c->tbptt_carry ? ", tbptt carry" : "");
    emit(ctx, line);
    if (c->input == SEQ_INPUT_EMBED)
        snprintf(line, sizeof line, "  embed    tokens (B,T) -> (B,T,%d)   embed/W (%d, %d)   %zu params", c->embed_dim,
                 c->vocab, c->embed_dim, p->views[s->iE].size);
    else if (c->input == SEQ_INPUT_ONEHOT)
        snprintf(line, sizeof line, "  onehot   tokens (B,T) -> (B,T,%d)   0 params", c->vocab);
    else
        snprintf(line, sizeof line, "  input    features (B,T,%d)", c->n_features);
    emit(ctx, line);
    for (int l = 0; l < s->L; l++) {
        const RecLayer *ly = &s->rec.layer[l];
        const ParamView *W = &p->views[ly->v.iW];
        size_t count = W->size;
        int len = snprintf(line, sizeof line, "  %-8s (B,T,%d) -> (B,T,%d)   %s (%d, %d) [%s]", ly->name, ly->n_in,
                           ly->H, W->name, W->shape[0], W->shape[1], W->layout);
        int extra[4] = {ly->v.ib, ly->v.ib_hn, s->ih0[l], s->ic0[l]};
        for (int k = 0; k < 4; k++)
            if (extra[k] >= 0 && len < (int)sizeof line) {
                len += snprintf(line + len, sizeof line - len, ", %s (%d)", p->views[extra[k]].name,
                                p->views[extra[k]].shape[0]);
                count += p->views[extra[k]].size;
            }
        if (len < (int)sizeof line) snprintf(line + len, sizeof line - len, "   %zu params", count);
        emit(ctx, line);
        if (l < s->L - 1 && c->dropout > 0.0f) {
            snprintf(line, sizeof line, "  dropout  p = %g (training only)", (double)c->dropout);
            emit(ctx, line);
        }
    }
    int H = c->hidden[s->L - 1];
    snprintf(line, sizeof line, "  head     %s (B,%s%d) -> (B,%s%d)   head/W (%d, %d), head/b (%d)   %zu params",
             seq_head_name(c->head), c->head == SEQ_HEAD_PER_STEP ? "T," : "", H,
             c->head == SEQ_HEAD_PER_STEP ? "T," : "", c->n_out, c->n_out, H, c->n_out,
             p->views[s->iHW].size + p->views[s->iHb].size);
    emit(ctx, line);
    size_t total = 0;
    for (int k = 0; k < p->count; k++) total += p->views[k].size;
    snprintf(line, sizeof line, "  total    %zu parameters; workspaces for batch %d x T %d", total, c->max_batch,
             c->max_T);
    emit(ctx, line);
}

static int seq_sample(Model *m, const int32_t *prime, int n_prime, int length, double temperature, Rng *rng,
                      int32_t *out, ExError *err) {
    if (seqmodel_sample(m, prime, n_prime, length, temperature, rng, out) == 0) return 0;
    return ex_fail(err, "sampling failed: %s", seqmodel_last_error(m));
}
