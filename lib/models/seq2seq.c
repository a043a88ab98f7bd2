/* seq2seq.c — the encoder–decoder family (graph, parameters, masking and decoding in seq2seq.h).
 *
 * One training step, in buffers sized at creation (time-major (T, B, ·) as the cells want):
 *   lengths      n_b = tokens before row b's first pad_token; m_b = targets before its first −1
 *   encoder      x → embed_in → layers 0..L−1 over Tx' = max_b n_b steps from zero state;
 *                e^l_b = state of layer l after step n_b (row b's own last token)
 *   decoder      u = [GO, y_0, …, y_{Ty'−2}] → embed_out → layers 0..L−1 from e^l over
 *                Ty' = max_b m_b steps → head logits (Ty'·B, V) → loss, ∂L/∂logits
 *   backward     head → decoder layers (top down) → ∂L/∂e^l → encoder layers, span by span
 *                between the batch's distinct lengths (see encoder_backward) → embeddings.
 * Gradients are accumulated (+=) into the arena; the training loop zeroes, clips and steps. */
#include "seq2seq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tasks.h"
#include "dense.h"
#include "h5doc.h"
#include "embed.h"
#include "init.h"
#include "loss.h"
#include "recurrent.h"

typedef struct S2S {
    Seq2SeqConfig cfg;
    int L;
    Recurrent enc, dec;           /* the two stacks (recurrent.h) */
    /* Carry blocks in dec's layout (max_B rows per layer and state): e = the encoder's state
     * after each row's last token, which starts the decoder and receives ∂L/∂e back; decoding's
     * running states, and a buffer to reorder them (beam search). */
    float *e, *run, *reorder;
    int iEin, iEout, iHW, iHb;
    int32_t *xtok;                /* (Tx·B) input tokens, time-major */
    int32_t *utok;                /* (Ty·B) decoder input tokens, time-major */
    int32_t *tgt;                 /* (Ty·B) targets, time-major, −1 = none */
    int *xlen, *ylen;             /* (B) n_b and m_b */
    int *spans;                   /* (max_Tx) the batch's distinct input lengths, ascending */
    float *xe;                    /* (Tx, B, E) embedded inputs */
    float *ue;                    /* (Ty, B, E) embedded decoder inputs */
    float *logits, *dlogits;      /* (Ty·B, V) */
    DenseWork head_work;          /* the head's packed products, sized once */
    int32_t *cur;                 /* (B) decoding: the tokens fed at this step */
    int32_t *out;                 /* (B, Ty) greedy outputs */
    int32_t *seqs, *seqs_next;    /* (B, Ty) beam prefixes */
    int *parent;                  /* (B) beam: the prefix a new candidate extends */
    double *score, *score_next;   /* (B) beam: Σ log p of each prefix */
    double *cand;                 /* (B·V) beam: candidate scores */
    int32_t *best;                /* (Ty) beam: best finished prefix */
    int32_t *beam_out;            /* (Ty) eval: a row's beam-search output */
    ExError err;
} S2S;

/* ---- config ------------------------------------------------------------------------------ */

static CellSettings cell_settings(const Seq2SeqConfig *c) {
    return (CellSettings){.cell = c->cell, .rnn_form = RNN_ELMAN, .rnn_act = ACT_TANH,
                          .gru_variant = c->gru_variant, .forget_bias = c->forget_bias,
                          .recurrent_orthogonal = c->recurrent_orthogonal, .recurrent_gain = c->recurrent_gain};
}

static int check_config(const Seq2SeqConfig *c, ExError *err) {
    const char *w = "seq2seq config";
    if (c->cell != CELL_LSTM && c->cell != CELL_GRU) return ex_fail(err, "%s: cell must be lstm|gru", w);
    CellSettings cs = cell_settings(c);
    if (recurrent_check(&cs, c->num_layers, c->hidden, w, err) != 0) return -1;
    if (c->vocab_in < 2 || c->vocab_out < 2)
        return ex_fail(err, "%s: vocab_in = %d and vocab_out = %d, both must be ≥ 2", w, c->vocab_in, c->vocab_out);
    if (c->embed_dim < 1) return ex_fail(err, "%s: embed_dim = %d, must be ≥ 1", w, c->embed_dim);
    if (c->pad_token < 0 || c->pad_token >= c->vocab_in)
        return ex_fail(err, "%s: pad_token = %d is outside the input vocabulary [0, %d)", w, c->pad_token, c->vocab_in);
    if (c->go_token < 0 || c->go_token >= c->vocab_out || c->end_token < 0 || c->end_token >= c->vocab_out)
        return ex_fail(err, "%s: go_token = %d and end_token = %d must be in the output vocabulary [0, %d)", w,
                       c->go_token, c->end_token, c->vocab_out);
    if (c->go_token == c->end_token) return ex_fail(err, "%s: go_token and end_token must differ", w);
    if (c->max_batch < 1 || c->max_Tx < 1 || c->max_Ty < 1)
        return ex_fail(err, "%s: max_batch, max_Tx and max_Ty must be ≥ 1 (got %d, %d, %d)", w, c->max_batch,
                       c->max_Tx, c->max_Ty);
    if (c->beam_width < 1 || c->beam_width > c->max_batch)
        return ex_fail(err, "%s: beam_width = %d, must be 1..max_batch = %d", w, c->beam_width, c->max_batch);
    return 0;
}

/* ---- creation ---------------------------------------------------------------------------- */

static double s2s_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
static double s2s_eval_batch(Model *m, const Batch *b, StepStats *stats);
static void s2s_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx);
static void s2s_destroy(Model *m);

static int s2s_steps_per_row(const Model *m, int T, int Ty);
static int s2s_write_results(Model *m, const ResultsInput *in, H5Doc *doc, ExError *err);

/* s2s_eval_batch: teacher-forced accuracy, then greedy decoding's, then beam search's. */
static int s2s_eval_stat_names(const Model *m, const char **names, int cap) {
    const S2S *s = m->impl;
    static const char *const ALL[] = {"accuracy", "greedy_token_accuracy", "exact_match", "beam_exact_match"};
    int n = s->cfg.beam_width > 1 ? 4 : 3;
    for (int i = 0; i < n && i < cap; i++) names[i] = ALL[i];
    return n < cap ? n : cap;
}

static void s2s_describe_loss(const Model *m, char *buf, size_t cap) {
    (void)m;
    snprintf(buf, cap, "softmax cross-entropy in nats per target token of the decoder (teacher-forced; padding left "
                       "out), averaged over the tokens");
}

static const ModelOps S2S_OPS = {
    .family = "seq2seq",
    .eval_stat_names = s2s_eval_stat_names,
    .describe_loss = s2s_describe_loss,
    .train_batch = s2s_train_batch,
    .eval_batch = s2s_eval_batch,
    .describe = s2s_describe,
    .destroy = s2s_destroy,
    .last_error = seq2seq_last_error,
    .unit = "tokens",
    .unit_short = "tok",
    .steps_per_row = s2s_steps_per_row,
    .results_group = "/examples",
    .write_results = s2s_write_results,
};

/* A row is Tx input tokens read by the encoder and Ty written by the decoder. */
static int s2s_steps_per_row(const Model *m, int T, int Ty) {
    (void)m;
    return T + Ty;
}

double seq2seq_memory(const Seq2SeqConfig *c) {
    CellSettings cs = cell_settings(c);
    double P = ((double)c->vocab_in + c->vocab_out) * c->embed_dim, H_top = c->hidden[c->num_layers - 1];
    double floats = recurrent_floats(&cs, c->num_layers, c->hidden, c->embed_dim, c->max_batch, c->max_Tx, 0, 0, &P) +
                    recurrent_floats(&cs, c->num_layers, c->hidden, c->embed_dim, c->max_batch, c->max_Ty, 0, 0, &P);
    P += (double)c->vocab_out * H_top + c->vocab_out;
    double B = c->max_batch, Tx = c->max_Tx, Ty = c->max_Ty, V = c->vocab_out;
    floats += (Tx + Ty) * B * c->embed_dim + 2 * Ty * B * V + B * V + 4 * B * Ty +
              recurrent_embed_floats(&cs, c->hidden[0], c->embed_dim, c->vocab_in, c->max_batch, c->max_Tx) +
              recurrent_embed_floats(&cs, c->hidden[0], c->embed_dim, c->vocab_out, c->max_batch, c->max_Ty);
    return 4.0 * (4 * P + floats);
}

int seq2seq_create(Model **out, const Seq2SeqConfig *cfg, Rng *init_rng, ExError *err) {
    *out = NULL;
    if (check_config(cfg, err) != 0) return -1;
    Model *m = ex_calloc(1, sizeof *m);
    S2S *s = ex_calloc(1, sizeof *s);
    m->ops = &S2S_OPS;
    m->impl = s;
    m->max_batch = cfg->max_batch;
    s->cfg = *cfg;
    s->L = cfg->num_layers;
    const Seq2SeqConfig *c = &s->cfg;
    Params *p = &m->params;
    CellSettings cs = cell_settings(c);
    recurrent_setup(&s->enc, &cs, "enc_", s->L, c->hidden, c->embed_dim, 0.0f);
    recurrent_setup(&s->dec, &cs, "dec_", s->L, c->hidden, c->embed_dim, 0.0f);

    s->iEin = params_add(p, "embed_in/W", 2, (int[]){c->vocab_in, c->embed_dim}, "vocab,embed");
    recurrent_add_params(&s->enc, p);
    s->iEout = params_add(p, "embed_out/W", 2, (int[]){c->vocab_out, c->embed_dim}, "vocab,embed");
    recurrent_add_params(&s->dec, p);
    int H_top = c->hidden[s->L - 1];
    s->iHW = params_add(p, "head/W", 2, (int[]){c->vocab_out, H_top}, "out,in");
    s->iHb = params_add(p, "head/b", 1, (int[]){c->vocab_out}, "out");
    params_alloc(p);

    float *E = params_value(p, s->iEin);
    for (size_t k = 0; k < p->views[s->iEin].size; k++) E[k] = (float)rng_normal(init_rng);
    recurrent_init_params(&s->enc, p, init_rng);
    E = params_value(p, s->iEout);
    for (size_t k = 0; k < p->views[s->iEout].size; k++) E[k] = (float)rng_normal(init_rng);
    recurrent_init_params(&s->dec, p, init_rng);
    float kh = 1.0f / sqrtf((float)H_top);
    init_uniform(params_value(p, s->iHW), p->views[s->iHW].size, kh, init_rng);
    init_uniform(params_value(p, s->iHb), (size_t)c->vocab_out, kh, init_rng);

    size_t B = (size_t)c->max_batch, Tx = (size_t)c->max_Tx, Ty = (size_t)c->max_Ty, V = (size_t)c->vocab_out;
    size_t Ed = (size_t)c->embed_dim;
    s->xtok = ex_calloc(Tx * B, sizeof(int32_t));
    s->utok = ex_calloc(Ty * B, sizeof(int32_t));
    s->tgt = ex_calloc(Ty * B, sizeof(int32_t));
    s->xlen = ex_calloc(B, sizeof(int));
    s->ylen = ex_calloc(B, sizeof(int));
    s->spans = ex_calloc(Tx, sizeof(int));
    s->xe = ex_calloc(Tx * B * Ed, sizeof(float));
    s->ue = ex_calloc(Ty * B * Ed, sizeof(float));
    s->logits = ex_calloc(Ty * B * V, sizeof(float));
    s->dlogits = ex_calloc(Ty * B * V, sizeof(float));
    size_t head_work = 0;
    dense_work_reserve(&head_work, (int)(Ty * B), c->hidden[s->L - 1], c->vocab_out);
    dense_work_alloc(&s->head_work, head_work);
    recurrent_alloc(&s->enc, c->max_batch, c->max_Tx, 0, NULL, 0);
    recurrent_alloc(&s->dec, c->max_batch, c->max_Ty, 0, (PackedMat *[]){&s->head_work.pack}, 1);
    recurrent_embed_below(&s->enc, c->vocab_in);
    recurrent_embed_below(&s->dec, c->vocab_out);
    s->e = ex_calloc(s->dec.carry_n, sizeof(float));
    s->run = ex_calloc(s->dec.carry_n, sizeof(float));
    s->reorder = ex_calloc(s->dec.carry_n, sizeof(float));
    s->cur = ex_calloc(B, sizeof(int32_t));
    s->out = ex_calloc(B * Ty, sizeof(int32_t));
    s->seqs = ex_calloc(B * Ty, sizeof(int32_t));
    s->seqs_next = ex_calloc(B * Ty, sizeof(int32_t));
    s->parent = ex_calloc(B, sizeof(int));
    s->score = ex_calloc(B, sizeof(double));
    s->score_next = ex_calloc(B, sizeof(double));
    s->cand = ex_calloc(B * V, sizeof(double));
    s->best = ex_calloc(Ty, sizeof(int32_t));
    s->beam_out = ex_calloc(Ty, sizeof(int32_t));
    *out = m;
    return 0;
}

static void s2s_destroy(Model *m) {
    S2S *s = m->impl;
    if (!s) return;
    recurrent_free(&s->enc), recurrent_free(&s->dec);
    free(s->e), free(s->run), free(s->reorder);
    free(s->xtok), free(s->utok), free(s->tgt), free(s->xlen), free(s->ylen), free(s->spans);
    free(s->xe), free(s->ue), free(s->logits), free(s->dlogits);
    dense_work_free(&s->head_work);
    free(s->cur), free(s->out), free(s->seqs), free(s->seqs_next), free(s->parent);
    free(s->score), free(s->score_next), free(s->cand), free(s->best), free(s->beam_out);
    free(s);
    m->impl = NULL;
}

const Seq2SeqConfig *seq2seq_config(const Model *m) { return &((const S2S *)m->impl)->cfg; }
const char *seq2seq_last_error(const Model *m) { return ((const S2S *)m->impl)->err.msg; }

/* ---- batches --------------------------------------------------------------------------------- */

/* Row b's input length n_b: tokens before its first pad_token (what follows is ignored). */
static int input_length(const int32_t *row, int T, int pad) {
    int n = 0;
    while (n < T && row[n] != pad) n++;
    return n;
}

static int check_inputs(S2S *s, const int32_t *x, int B, int Tx) {
    const Seq2SeqConfig *c = &s->cfg;
    const char *w = "seq2seq batch";
    if (B < 1 || B > c->max_batch) return ex_fail(&s->err, "%s: B = %d, must be 1..max_batch = %d", w, B, c->max_batch);
    if (!x) return ex_fail(&s->err, "%s: the model reads input tokens x (B, Tx) but the batch has none", w);
    if (Tx < 1 || Tx > c->max_Tx) return ex_fail(&s->err, "%s: Tx = %d, must be 1..max_Tx = %d", w, Tx, c->max_Tx);
    if (embed_check_tokens(x, (size_t)B * Tx, c->vocab_in, &s->err) != 0) return ex_prefix(&s->err, "%s input: ", w);
    for (int r = 0; r < B; r++)
        if (input_length(x + (size_t)r * Tx, Tx, c->pad_token) == 0)
            return ex_fail(&s->err, "%s: input row %d is empty (its first token is pad_token %d)", w, r, c->pad_token);
    return 0;
}

static int check_batch(S2S *s, const Batch *b) {
    const Seq2SeqConfig *c = &s->cfg;
    const char *w = "seq2seq batch";
    if (check_inputs(s, b->x_tokens, b->B, b->T) != 0) return -1;
    if (!b->y_tokens) return ex_fail(&s->err, "%s: the model needs target tokens y (B, Ty)", w);
    if (b->Ty < 1 || b->Ty > c->max_Ty)
        return ex_fail(&s->err, "%s: Ty = %d, must be 1..max_Ty = %d", w, b->Ty, c->max_Ty);
    for (int r = 0; r < b->B; r++) {
        const int32_t *y = b->y_tokens + (size_t)r * b->Ty;
        if (y[0] < 0) return ex_fail(&s->err, "%s: target row %d is empty (starts with −1)", w, r);
        int ended = 0;
        for (int t = 0; t < b->Ty; t++) {
            if (y[t] < -1 || y[t] >= c->vocab_out)
                return ex_fail(&s->err, "%s: target token %d at row %d, step %d is outside [0, %d) (−1 = padding)", w,
                               (int)y[t], r, t, c->vocab_out);
            if (ended && y[t] != -1)
                return ex_fail(&s->err, "%s: target row %d has token %d at step %d after padding (−1 only at the end)",
                               w, r, (int)y[t], t);
            ended |= y[t] == -1;
        }
    }
    return 0;
}

/* The input side of a batch: lengths, time-major tokens and their embedding. Returns Tx' =
 * the longest input. */
static int gather_inputs(S2S *s, const Params *p, const int32_t *x, int B, int Tx) {
    const Seq2SeqConfig *c = &s->cfg;
    int Tmax = 0;
    for (int r = 0; r < B; r++) {
        s->xlen[r] = input_length(x + (size_t)r * Tx, Tx, c->pad_token);
        Tmax = s->xlen[r] > Tmax ? s->xlen[r] : Tmax;
    }
    for (int t = 0; t < Tmax; t++)
        for (int r = 0; r < B; r++) s->xtok[(size_t)t * B + r] = x[(size_t)r * Tx + t];
    embed_forward(s->xe, s->xtok, params_value(p, s->iEin), Tmax * B, c->embed_dim);
    return Tmax;
}

/* The output side: lengths m_b, time-major targets and the teacher-forced decoder inputs
 * u_0 = GO, u_t = y_{t−1} (END in the padded tail, which reaches no target). Returns Ty'. */
static int gather_targets(S2S *s, const Params *p, const int32_t *y, int B, int Ty) {
    const Seq2SeqConfig *c = &s->cfg;
    int Tmax = 0;
    for (int r = 0; r < B; r++) {
        int m = 0;
        while (m < Ty && y[(size_t)r * Ty + m] >= 0) m++;
        s->ylen[r] = m;
        Tmax = m > Tmax ? m : Tmax;
    }
    for (int t = 0; t < Tmax; t++)
        for (int r = 0; r < B; r++) {
            s->tgt[(size_t)t * B + r] = y[(size_t)r * Ty + t];
            int32_t prev = t == 0 ? c->go_token : y[(size_t)r * Ty + t - 1];
            s->utok[(size_t)t * B + r] = prev >= 0 ? prev : c->end_token;
        }
    embed_forward(s->ue, s->utok, params_value(p, s->iEout), Tmax * B, c->embed_dim);
    return Tmax;
}

/* ---- encoder ----------------------------------------------------------------------------------- */

/* Forward the stack over Tx steps from zero, then pick e^l_b = state at step n_b into s->e. */
static void encoder_forward(S2S *s, const Params *p, int B, int Tx) {
    recurrent_start(&s->enc, NULL);
    recurrent_forward_embedded(&s->enc, p, s->xe, s->xtok, params_value(p, s->iEin), 0, B, Tx, 0, NULL);
    for (int l = 0; l < s->L; l++)
        for (int k = 0; k < s->enc.ops->states; k++) {
            size_t H = (size_t)s->enc.layer[l].H;
            float *e = recurrent_carry_state(&s->dec, s->e, l, k);
            for (int r = 0; r < B; r++)
                memcpy(e + r * H, recurrent_state(&s->enc, l, k, s->xlen[r], B) + r * H, H * sizeof(float));
        }
}

/* Backward from ∂L/∂e^l (the decoder's state gradients) through the encoder.
 *
 * Row b's e is its state at step n_b, inside the sequence, but a cell's backward takes a
 * gradient for the state only at the end of its steps. So the steps are cut into spans at the
 * batch's distinct lengths L_1 < … < L_k: going backward over span (L_{j−1}, L_j], the state
 * gradient entering at L_j is what came back from span j + 1 plus ∂L/∂e_b for every row with
 * n_b = L_j (recurrent.h's REC_GRAD_THROUGH). A row past its end has no gradient entering and
 * nothing from above, so its steps there contribute exactly zero (0 · anything), to the weights
 * and to the pad tokens' embeddings alike. The encoder's top layer feeds nothing per step: its
 * dout is 0. */
static void encoder_backward(S2S *s, Params *p, int B, int Tx) {
    const Seq2SeqConfig *c = &s->cfg;
    Recurrent *enc = &s->enc;
    int k = 0, E = c->embed_dim;
    for (int t = 1; t <= Tx; t++)
        for (int r = 0; r < B; r++)
            if (s->xlen[r] == t) {
                s->spans[k++] = t;
                break;
            }
    memset(enc->layer[s->L - 1].dout, 0, (size_t)Tx * B * enc->layer[s->L - 1].H * sizeof(float));
    for (int l = 0; l < s->L; l++)
        for (int q = 0; q < enc->ops->states; q++) memset(enc->layer[l].ds[q], 0, (size_t)B * enc->layer[l].H * sizeof(float));
    for (int j = k - 1; j >= 0; j--) {
        int t0 = j > 0 ? s->spans[j - 1] : 0, t1 = s->spans[j];
        for (int l = 0; l < s->L; l++)
            for (int q = 0; q < enc->ops->states; q++) {
                size_t H = (size_t)enc->layer[l].H;
                float *ds = enc->layer[l].ds[q];
                const float *de = s->dec.layer[l].ds[q];
                for (int r = 0; r < B; r++)
                    if (s->xlen[r] == t1)
                        for (size_t u = 0; u < H; u++) ds[r * H + u] += de[r * H + u];
            }
        size_t xo = (size_t)t0 * B * E;
        recurrent_backward_embedded(enc, p, s->xe + xo, s->xtok + (size_t)t0 * B, params_grad(p, s->iEin), t0, B,
                                    t1 - t0, 1, REC_GRAD_THROUGH);
    }
}

/* ---- decoder ----------------------------------------------------------------------------------- */

/* Teacher-forced decoder from e over Ty steps; returns its top output (Ty, B, H). */
static const float *decoder_forward(S2S *s, const Params *p, int B, int Ty) {
    recurrent_start(&s->dec, s->e);
    return recurrent_forward_embedded(&s->dec, p, s->ue, s->utok, params_value(p, s->iEout), 0, B, Ty, 0, NULL);
}

/* From the top layer's dout: every decoder layer, leaving ∂L/∂e^l in the decoder's ds. */
static void decoder_backward(S2S *s, Params *p, int B, int Ty) {
    recurrent_backward_embedded(&s->dec, p, s->ue, s->utok, params_grad(p, s->iEout), 0, B, Ty, 1, REC_GRAD_OUT);
}

static int argmax(const float *z, int V) {
    int best = 0;
    for (int j = 1; j < V; j++) best = z[j] > z[best] ? j : best;
    return best;
}

/* Forward (and, if train, backward) on a checked batch; returns the mean loss per target. */
static double run_batch(S2S *s, Params *p, const Batch *b, int train, StepStats *stats) {
    const Seq2SeqConfig *c = &s->cfg;
    int B = b->B, V = c->vocab_out, H = c->hidden[s->L - 1];
    int Tx = gather_inputs(s, p, b->x_tokens, B, b->T);
    int Ty = gather_targets(s, p, b->y_tokens, B, b->Ty);
    encoder_forward(s, p, B, Tx);
    const float *top = decoder_forward(s, p, B, Ty);
    int rows = Ty * B;
    const float *hW = params_value(p, s->iHW), *hb = params_value(p, s->iHb);
    dense_forward(s->logits, top, hW, hb, rows, H, V, 0, ACT_IDENTITY, &s->head_work);
    double loss = loss_softmax_cross_entropy(s->dlogits, s->logits, s->tgt, rows, V, 0.0);
    if (stats) {
        int correct = 0, count = 0;
        for (int i = 0; i < rows; i++) {
            if (s->tgt[i] < 0) continue;
            correct += argmax(s->logits + (size_t)i * V, V) == s->tgt[i];
            count++;
        }
        stats_add(stats, "accuracy", count ? (double)correct / count * B : 0.0);
    }
    if (!train) return loss;
    dense_backward(s->dec.layer[s->L - 1].dout, params_grad(p, s->iHW), params_grad(p, s->iHb), s->dlogits, s->logits, top, hW, rows,
                   H, V, 0, ACT_IDENTITY, &s->head_work);
    decoder_backward(s, p, B, Ty);
    encoder_backward(s, p, B, Tx);
    return loss;
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* One decoder step for B rows from the running states s->run with input tokens s->cur: the
 * states advance, and logits (B, V) are left in s->logits. */
static void decode_step(S2S *s, const Params *p, int B) {
    const Seq2SeqConfig *c = &s->cfg;
    embed_forward(s->ue, s->cur, params_value(p, s->iEout), B, c->embed_dim);
    recurrent_start(&s->dec, s->run);
    const float *top = recurrent_forward(&s->dec, p, s->ue, 0, B, 1, 0, NULL);
    recurrent_save(&s->dec, s->run, B, 1);
    dense_forward(s->logits, top, params_value(p, s->iHW), params_value(p, s->iHb), B, c->hidden[s->L - 1],
                  c->vocab_out, 0, ACT_IDENTITY, &s->head_work);
}

/* Greedy decoding after encoder_forward: out (B, Ty) row-major; logits (B, Ty, V) or NULL —
 * given, every step runs (a finished row goes on reading END), so each logit row is there. */
static void greedy_decode(S2S *s, const Params *p, int B, int Ty, int32_t *out, float *logits) {
    const Seq2SeqConfig *c = &s->cfg;
    memcpy(s->run, s->e, s->dec.carry_n * sizeof(float));
    for (int r = 0; r < B; r++) s->cur[r] = c->go_token;
    for (size_t k = 0; k < (size_t)B * Ty; k++) out[k] = c->end_token;
    for (int t = 0; t < Ty; t++) {
        decode_step(s, p, B);
        int running = 0;
        for (int r = 0; r < B && logits; r++)
            memcpy(logits + ((size_t)r * Ty + t) * c->vocab_out, s->logits + (size_t)r * c->vocab_out,
                   (size_t)c->vocab_out * sizeof *logits);
        for (int r = 0; r < B; r++) {
            if (s->cur[r] == c->end_token) continue;   /* finished earlier: stays END */
            int32_t tok = argmax(s->logits + (size_t)r * c->vocab_out, c->vocab_out);
            out[(size_t)r * Ty + t] = tok;
            s->cur[r] = tok;
            running += tok != c->end_token;
        }
        if (!running && !logits) break;
    }
}

int seq2seq_greedy(Model *m, const int32_t *x, int B, int Tx, int max_len, int32_t *out, float *logits) {
    S2S *s = m->impl;
    if (check_inputs(s, x, B, Tx) != 0) return -1;
    if (max_len < 1 || max_len > s->cfg.max_Ty)
        return ex_fail(&s->err, "seq2seq_greedy: max_len = %d, must be 1..max_Ty = %d", max_len, s->cfg.max_Ty);
    int Tmax = gather_inputs(s, &m->params, x, B, Tx);
    encoder_forward(s, &m->params, B, Tmax);
    greedy_decode(s, &m->params, B, max_len, out, logits);
    return 0;
}

/* log softmax(z)[j] for all j into lp (V). */
static void log_softmax(double *lp, const float *z, int V) {
    float mx = z[argmax(z, V)];
    double sum = 0.0;
    for (int j = 0; j < V; j++) sum += exp((double)z[j] - mx);
    double lse = mx + log(sum);
    for (int j = 0; j < V; j++) lp[j] = (double)z[j] - lse;
}

/* Running-state row i ← row parent[i], i < n, in every layer and state (through s->reorder). */
static void reorder_states(S2S *s, int n) {
    for (int l = 0; l < s->L; l++)
        for (int k = 0; k < s->dec.ops->states; k++) {
            size_t H = (size_t)s->dec.layer[l].H;
            float *run = recurrent_carry_state(&s->dec, s->run, l, k);
            float *tmp = recurrent_carry_state(&s->dec, s->reorder, l, k);
            for (int i = 0; i < n; i++) memcpy(tmp + i * H, run + (size_t)s->parent[i] * H, H * sizeof(float));
            memcpy(run, tmp, (size_t)n * H * sizeof(float));
        }
}

int seq2seq_beam(Model *m, const int32_t *x, int Tx, int width, int max_len, int32_t *out, double *logp) {
    S2S *s = m->impl;
    const Seq2SeqConfig *c = &s->cfg;
    const Params *p = &m->params;
    int V = c->vocab_out, Ty = c->max_Ty;
    if (check_inputs(s, x, 1, Tx) != 0) return -1;
    if (width < 1 || width > c->max_batch)
        return ex_fail(&s->err, "seq2seq_beam: width = %d, must be 1..max_batch = %d", width, c->max_batch);
    if (max_len < 1 || max_len > Ty)
        return ex_fail(&s->err, "seq2seq_beam: max_len = %d, must be 1..max_Ty = %d", max_len, Ty);
    int Tmax = gather_inputs(s, p, x, 1, Tx);
    encoder_forward(s, p, 1, Tmax);
    memcpy(s->run, s->e, s->dec.carry_n * sizeof(float));
    int n = 1;                                  /* live prefixes */
    s->cur[0] = c->go_token;
    s->score[0] = 0.0;
    double best_score = -INFINITY;              /* best finished prefix */
    int best_len = 0;
    double *lp = s->cand;                       /* (n, V) log p, then candidate scores */
    for (int t = 0; t < max_len && n > 0; t++) {
        decode_step(s, p, n);
        for (int i = 0; i < n; i++) {
            log_softmax(lp + (size_t)i * V, s->logits + (size_t)i * V, V);
            for (int j = 0; j < V; j++) lp[(size_t)i * V + j] += s->score[i];
        }
        /* the `width` best of the n·V extensions (selection by repeated maximum: width is small) */
        int next = 0;
        for (int pick = 0; pick < width; pick++) {
            size_t arg = 0;
            double top = -INFINITY;
            for (size_t q = 0; q < (size_t)n * V; q++)
                if (lp[q] > top) top = lp[q], arg = q;
            if (top == -INFINITY) break;
            lp[arg] = -INFINITY;
            int i = (int)(arg / V), tok = (int)(arg % V);
            if (tok == c->end_token) {
                if (top > best_score) {
                    best_score = top;
                    best_len = t + 1;
                    memcpy(s->best, s->seqs + (size_t)i * Ty, (size_t)t * sizeof(int32_t));
                    s->best[t] = tok;
                }
                continue;
            }
            memcpy(s->seqs_next + (size_t)next * Ty, s->seqs + (size_t)i * Ty, (size_t)t * sizeof(int32_t));
            s->seqs_next[(size_t)next * Ty + t] = tok;
            s->score_next[next] = top;
            s->parent[next] = i;
            next++;
        }
        n = next;
        reorder_states(s, n);
        for (int i = 0; i < n; i++) {
            s->cur[i] = s->seqs_next[(size_t)i * Ty + t];
            s->score[i] = s->score_next[i];
        }
        int32_t *tmp = s->seqs;
        s->seqs = s->seqs_next, s->seqs_next = tmp;
        /* log p only falls as a prefix grows: no live prefix can beat a better finished one */
        if (n > 0 && best_score >= s->score[0]) n = 0;
    }
    for (int t = 0; t < max_len; t++) out[t] = c->end_token;
    if (best_len > 0) {
        memcpy(out, s->best, (size_t)best_len * sizeof(int32_t));
        if (logp) *logp = best_score;
    } else {
        /* nothing finished within max_len: the best live prefix (scores are in descending order) */
        memcpy(out, s->seqs, (size_t)max_len * sizeof(int32_t));
        if (logp) *logp = s->score[0];
    }
    return 0;
}

int seq2seq_score(Model *m, const int32_t *x, int Tx, const int32_t *y, int Ty, double *logp) {
    S2S *s = m->impl;
    Batch b = {.B = 1, .T = Tx, .x_tokens = x, .Ty = Ty, .y_tokens = y};
    if (check_batch(s, &b) != 0) return -1;
    double loss = run_batch(s, &m->params, &b, 0, NULL);
    *logp = -loss * s->ylen[0];
    return 0;
}

/* ---- the ModelOps ------------------------------------------------------------------------------ */

static double s2s_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats) {
    (void)noise_rng;   /* no dropout or noise in this family */
    S2S *s = m->impl;
    if (check_batch(s, b) != 0) return NAN;
    return run_batch(s, &m->params, b, 1, stats);
}

/* Σ over rows of [output = target up to the target's length] and the token hits, of out (B, Ty). */
static void compare_outputs(const S2S *s, const int32_t *out, int outTy, const Batch *b, int *exact, int *hits,
                            int *count) {
    for (int r = 0; r < b->B; r++) {
        const int32_t *y = b->y_tokens + (size_t)r * b->Ty;
        int ok = 1;
        for (int t = 0; t < s->ylen[r]; t++) {
            int same = t < outTy && out[(size_t)r * outTy + t] == y[t];
            ok &= same;
            *hits += same;
            (*count)++;
        }
        *exact += ok;
    }
}

static double s2s_eval_batch(Model *m, const Batch *b, StepStats *stats) {
    S2S *s = m->impl;
    if (check_batch(s, b) != 0) return NAN;
    double loss = run_batch(s, &m->params, b, 0, stats);
    if (!stats) return loss;
    /* greedy decoding from the encoder states run_batch left, for as many steps as the
     * longest target (a longer output could not match anyway) */
    int Ty = 0;
    for (int r = 0; r < b->B; r++) Ty = s->ylen[r] > Ty ? s->ylen[r] : Ty;
    greedy_decode(s, &m->params, b->B, Ty, s->out, NULL);
    int exact = 0, hits = 0, count = 0;
    compare_outputs(s, s->out, Ty, b, &exact, &hits, &count);
    stats_add(stats, "greedy_token_accuracy", count ? (double)hits / count * b->B : 0.0);
    stats_add(stats, "exact_match", exact);
    if (s->cfg.beam_width > 1) {
        int beam_exact = 0;
        for (int r = 0; r < b->B; r++) {
            const int32_t *y = b->y_tokens + (size_t)r * b->Ty;
            int m_r = 0;
            while (m_r < b->Ty && y[m_r] >= 0) m_r++;
            if (seq2seq_beam(m, b->x_tokens + (size_t)r * b->T, b->T, s->cfg.beam_width, m_r, s->beam_out, NULL) != 0)
                return NAN;
            beam_exact += memcmp(s->beam_out, y, (size_t)m_r * sizeof(int32_t)) == 0;
        }
        stats_add(stats, "beam_exact_match", beam_exact);
    }
    return loss;
}

/* ---- describe ---------------------------------------------------------------------------------- */

static void s2s_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx) {
    const S2S *s = m->impl;
    const Seq2SeqConfig *c = &s->cfg;
    const Params *p = &m->params;
    char line[512];
    snprintf(line, sizeof line,
             "seq2seq model: %d x %s%s%s encoder -> decoder, teacher forcing; eval: greedy%s; tokens pad %d go %d end %d",
             s->L, cell_type_name(c->cell), c->cell == CELL_GRU ? " " : "",
             c->cell == CELL_GRU ? gru_variant_name(c->gru_variant) : "", c->beam_width > 1 ? " and beam" : "",
             c->pad_token, c->go_token, c->end_token);
    emit(ctx, line);
    for (int side = 0; side < 2; side++) {
        int iE = side == 0 ? s->iEin : s->iEout;
        snprintf(line, sizeof line, "  %-10s tokens (B,%s) -> (B,%s,%d)   %s (%d, %d)   %zu params",
                 side == 0 ? "embed_in" : "embed_out", side == 0 ? "Tx" : "Ty", side == 0 ? "Tx" : "Ty", c->embed_dim,
                 p->views[iE].name, p->views[iE].shape[0], p->views[iE].shape[1], p->views[iE].size);
        emit(ctx, line);
        for (int l = 0; l < s->L; l++) {
            const RecLayer *ly = side == 0 ? &s->enc.layer[l] : &s->dec.layer[l];
            const ParamView *W = &p->views[ly->v.iW];
            size_t count = W->size + p->views[ly->v.ib].size + (ly->v.ib_hn >= 0 ? p->views[ly->v.ib_hn].size : 0);
            snprintf(line, sizeof line, "  %-10s (B,%s,%d) -> %s   %s (%d, %d), b (%d)%s   %zu params", ly->name,
                     side == 0 ? "Tx" : "Ty", ly->n_in,
                     side == 0 ? "its state after each row's last token" : "(B,Ty,H) from the encoder's state",
                     W->name, W->shape[0], W->shape[1], p->views[ly->v.ib].shape[0], ly->v.ib_hn >= 0 ? ", b_hn" : "",
                     count);
            emit(ctx, line);
        }
    }
    snprintf(line, sizeof line, "  %-10s (B,Ty,%d) -> (B,Ty,%d) softmax   head/W (%d, %d), head/b (%d)   %zu params",
             "head", c->hidden[s->L - 1], c->vocab_out, c->vocab_out, c->hidden[s->L - 1], c->vocab_out,
             p->views[s->iHW].size + p->views[s->iHb].size);
    emit(ctx, line);
    size_t total = 0;
    for (int k = 0; k < p->count; k++) total += p->views[k].size;
    snprintf(line, sizeof line, "  total      %zu parameters; workspaces for batch %d x Tx %d x Ty %d", total,
             c->max_batch, c->max_Tx, c->max_Ty);
    emit(ctx, line);
}

/* ---- results ---------------------------------------------------------------------------- */

/* Text of a token row in the task's characters. */
static char *example_text(const char *chars, const int32_t *tokens, int n) {
    char *text = ex_malloc((size_t)n + 1);
    s2s_tokens_text(text, (size_t)n + 1, tokens, n, chars);
    return text;
}

/* The first (up to 20) test examples and their greedy outputs as text: /examples/input,
 * /examples/target, /examples/output (strings; '$' = END). */
static int s2s_write_results(Model *m, const ResultsInput *in, H5Doc *doc, ExError *err) {
    const Dataset *ts = in->test;
    const Seq2SeqConfig *c = seq2seq_config(m);
    int n = ts->n < 20 ? ts->n : 20;
    if (n > m->max_batch) n = m->max_batch;
    if (n == 0 || !in->token_chars) return 0;
    int32_t *out = ex_malloc((size_t)n * ts->Ty * sizeof *out);
    if (seq2seq_greedy(m, ts->x_tokens, n, ts->T, ts->Ty, out, NULL) != 0) {
        free(out);
        return ex_fail(err, "decoding the examples: %s", seq2seq_last_error(m));
    }
    char **texts = ex_calloc((size_t)3 * n, sizeof *texts);
    for (int i = 0; i < n; i++) {
        /* the input up to its first PAD */
        int len = 0;
        while (len < ts->T && ts->x_tokens[(size_t)i * ts->T + len] != c->pad_token) len++;
        texts[i] = example_text(in->token_chars, ts->x_tokens + (size_t)i * ts->T, len);
        texts[n + i] = example_text(in->token_chars, ts->y_tokens + (size_t)i * ts->Ty, ts->Ty);
        /* the output up to and with its END */
        int m_out = 0;
        while (m_out < ts->Ty && out[(size_t)i * ts->Ty + m_out] != c->end_token) m_out++;
        texts[2 * n + i] = example_text(in->token_chars, out + (size_t)i * ts->Ty, m_out < ts->Ty ? m_out + 1 : m_out);
    }
    h5doc_strings(doc, "/examples/input", (size_t)n, (const char *const *)texts);
    h5doc_strings(doc, "/examples/target", (size_t)n, (const char *const *)(texts + n));
    h5doc_strings(doc, "/examples/output", (size_t)n, (const char *const *)(texts + 2 * n));
    h5doc_attr_str(doc, "/examples/output", "description",
                   "greedy decoding of the first test inputs; '$' = END (the outputs must end with it)");
    for (int i = 0; i < 3 * n; i++) free(texts[i]);
    free(texts);
    free(out);
    return 0;
}
