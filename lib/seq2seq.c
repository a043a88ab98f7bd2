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

#include "dense.h"
#include "embed.h"
#include "init.h"
#include "loss.h"
#include "lstm.h"

typedef struct S2SLayer {
    int n_in, H;
    char name[24];                /* "enc_lstm0", "dec_gru1" */
    int iW, ib, ib_hn;            /* parameter views (ib_hn −1 unless GRU_PYTORCH) */
    LstmCache lstm;
    LstmWork lstm_work;
    GruCache gru;
    GruWork gru_work;
    float *dout;                  /* (T, B, H) ∂L/∂(this layer's output) from the layer above */
    float *dh, *dc;               /* (B, H) encoder: ∂L/∂ state at the current span's end;
                                     decoder: ∂L/∂ its initial state = ∂L/∂e */
    float *eh, *ec;               /* (B, H) decoder: the initial state e (encoder's final) */
    float *sh, *sc, *th, *tc;     /* (B, H) decoding: running state and a reorder buffer */
} S2SLayer;

typedef struct S2S {
    Seq2SeqConfig cfg;
    int L;
    S2SLayer enc[SEQ_MAX_LAYERS], dec[SEQ_MAX_LAYERS];
    int iEin, iEout, iHW, iHb;
    int32_t *xtok;                /* (Tx·B) input tokens, time-major */
    int32_t *utok;                /* (Ty·B) decoder input tokens, time-major */
    int32_t *tgt;                 /* (Ty·B) targets, time-major, −1 = none */
    int *xlen, *ylen;             /* (B) n_b and m_b */
    int *spans;                   /* (max_Tx) the batch's distinct input lengths, ascending */
    float *xe, *dxe;              /* (Tx, B, E) embedded inputs and ∂L/∂ them */
    float *ue, *due;              /* (Ty, B, E) embedded decoder inputs and ∂L/∂ them */
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

Seq2SeqConfig seq2seq_config_defaults(void) {
    Seq2SeqConfig c;
    memset(&c, 0, sizeof c);
    c.cell = CELL_GRU;
    c.gru_variant = GRU_PYTORCH;
    c.num_layers = 1;
    c.hidden[0] = 128;
    c.forget_bias = 1.0f;
    c.recurrent_gain = 1.0f;
    c.embed_dim = 32;
    c.beam_width = 1;
    c.pad_token = c.go_token = c.end_token = -1;
    return c;
}

static int check_config(const Seq2SeqConfig *c, ExError *err) {
    const char *w = "seq2seq config";
    if (c->cell != CELL_LSTM && c->cell != CELL_GRU) return ex_fail(err, "%s: cell must be lstm|gru", w);
    if (c->cell == CELL_GRU && c->gru_variant != GRU_CHO && c->gru_variant != GRU_PYTORCH)
        return ex_fail(err, "%s: gru_variant must be cho|pytorch", w);
    if (c->num_layers < 1 || c->num_layers > SEQ_MAX_LAYERS)
        return ex_fail(err, "%s: num_layers = %d, must be 1..%d", w, c->num_layers, SEQ_MAX_LAYERS);
    for (int l = 0; l < c->num_layers; l++)
        if (c->hidden[l] < 1) return ex_fail(err, "%s: hidden[%d] = %d, must be ≥ 1", w, l, c->hidden[l]);
    if (!isfinite(c->forget_bias)) return ex_fail(err, "%s: forget_bias must be finite", w);
    if (c->recurrent_orthogonal && !(c->recurrent_gain > 0.0f))
        return ex_fail(err, "%s: recurrent_gain must be > 0", w);
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

static CellSettings cell_settings(const Seq2SeqConfig *c) {
    return (CellSettings){.cell = c->cell, .rnn_form = RNN_ELMAN, .rnn_act = ACT_TANH,
                          .gru_variant = c->gru_variant, .forget_bias = c->forget_bias,
                          .recurrent_orthogonal = c->recurrent_orthogonal, .recurrent_gain = c->recurrent_gain};
}

static void add_layer_params(Params *p, S2SLayer *ly, const Seq2SeqConfig *c) {
    CellSettings cs = cell_settings(c);
    CellViews v = cell_add_params(p, ly->name, &cs, ly->H, ly->n_in);
    ly->iW = v.iW, ly->ib = v.ib, ly->ib_hn = v.ib_hn;
}

static void init_layer_params(Params *p, S2SLayer *ly, const Seq2SeqConfig *c, Rng *rng) {
    CellSettings cs = cell_settings(c);
    CellViews v = {ly->iW, ly->ib, ly->ib_hn};
    cell_init_params(p, &v, &cs, ly->H, ly->n_in, rng);
}

static void alloc_layer(S2SLayer *ly, const Seq2SeqConfig *c, int T) {
    int B = c->max_batch, H = ly->H;
    size_t row = (size_t)B * H;
    if (c->cell == CELL_LSTM) {
        lstm_cache_alloc(&ly->lstm, B, T, ly->n_in, H);
        lstm_work_alloc(&ly->lstm_work, B, T, ly->n_in, H);
    } else {
        gru_cache_alloc(&ly->gru, B, T, ly->n_in, H);
        gru_work_alloc(&ly->gru_work, c->gru_variant, B, T, ly->n_in, H);
    }
    ly->dout = ex_calloc((size_t)T * row, sizeof(float));
    float *block = ex_calloc(8 * row, sizeof(float));
    ly->dh = block, ly->dc = block + row, ly->eh = block + 2 * row, ly->ec = block + 3 * row;
    ly->sh = block + 4 * row, ly->sc = block + 5 * row, ly->th = block + 6 * row, ly->tc = block + 7 * row;
}

static void free_layer(S2SLayer *ly) {
    lstm_cache_free(&ly->lstm), lstm_work_free(&ly->lstm_work);
    gru_cache_free(&ly->gru), gru_work_free(&ly->gru_work);
    free(ly->dout), free(ly->dh);   /* dh heads the block of the (B, H) buffers */
}

static double s2s_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
static double s2s_eval_batch(Model *m, const Batch *b, StepStats *stats);
static void s2s_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx);
static void s2s_destroy(Model *m);

static const ModelOps S2S_OPS = {
    .family = "seq2seq",
    .train_batch = s2s_train_batch,
    .eval_batch = s2s_eval_batch,
    .describe = s2s_describe,
    .carried_state = NULL,
    .destroy = s2s_destroy,
};

int model_is_seq2seq(const Model *m) { return m && m->ops == &S2S_OPS; }

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
    const char *cell = cell_type_name(c->cell);

    s->iEin = params_add(p, "embed_in/W", 2, (int[]){c->vocab_in, c->embed_dim}, "vocab,embed");
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->enc[l];
        ly->n_in = l == 0 ? c->embed_dim : c->hidden[l - 1];
        ly->H = c->hidden[l];
        snprintf(ly->name, sizeof ly->name, "enc_%s%d", cell, l);
        add_layer_params(p, ly, c);
    }
    s->iEout = params_add(p, "embed_out/W", 2, (int[]){c->vocab_out, c->embed_dim}, "vocab,embed");
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->dec[l];
        ly->n_in = l == 0 ? c->embed_dim : c->hidden[l - 1];
        ly->H = c->hidden[l];
        snprintf(ly->name, sizeof ly->name, "dec_%s%d", cell, l);
        add_layer_params(p, ly, c);
    }
    int H_top = c->hidden[s->L - 1];
    s->iHW = params_add(p, "head/W", 2, (int[]){c->vocab_out, H_top}, "out,in");
    s->iHb = params_add(p, "head/b", 1, (int[]){c->vocab_out}, "out");
    params_alloc(p);

    float *E = params_value(p, s->iEin);
    for (size_t k = 0; k < p->views[s->iEin].size; k++) E[k] = (float)rng_normal(init_rng);
    for (int l = 0; l < s->L; l++) init_layer_params(p, &s->enc[l], c, init_rng);
    E = params_value(p, s->iEout);
    for (size_t k = 0; k < p->views[s->iEout].size; k++) E[k] = (float)rng_normal(init_rng);
    for (int l = 0; l < s->L; l++) init_layer_params(p, &s->dec[l], c, init_rng);
    float kh = 1.0f / sqrtf((float)H_top);
    init_uniform(params_value(p, s->iHW), p->views[s->iHW].size, kh, init_rng);
    init_uniform(params_value(p, s->iHb), (size_t)c->vocab_out, kh, init_rng);

    for (int l = 0; l < s->L; l++) {
        alloc_layer(&s->enc[l], c, c->max_Tx);
        alloc_layer(&s->dec[l], c, c->max_Ty);
    }
    size_t B = (size_t)c->max_batch, Tx = (size_t)c->max_Tx, Ty = (size_t)c->max_Ty, V = (size_t)c->vocab_out;
    size_t Ed = (size_t)c->embed_dim;
    s->xtok = ex_calloc(Tx * B, sizeof(int32_t));
    s->utok = ex_calloc(Ty * B, sizeof(int32_t));
    s->tgt = ex_calloc(Ty * B, sizeof(int32_t));
    s->xlen = ex_calloc(B, sizeof(int));
    s->ylen = ex_calloc(B, sizeof(int));
    s->spans = ex_calloc(Tx, sizeof(int));
    s->xe = ex_calloc(Tx * B * Ed, sizeof(float));
    s->dxe = ex_calloc(Tx * B * Ed, sizeof(float));
    s->ue = ex_calloc(Ty * B * Ed, sizeof(float));
    s->due = ex_calloc(Ty * B * Ed, sizeof(float));
    s->logits = ex_calloc(Ty * B * V, sizeof(float));
    s->dlogits = ex_calloc(Ty * B * V, sizeof(float));
    size_t head_work = 0;
    dense_work_reserve(&head_work, (int)(Ty * B), c->hidden[s->L - 1], c->vocab_out);
    dense_work_alloc(&s->head_work, head_work);
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
    for (int l = 0; l < s->L; l++) free_layer(&s->enc[l]), free_layer(&s->dec[l]);
    free(s->xtok), free(s->utok), free(s->tgt), free(s->xlen), free(s->ylen), free(s->spans);
    free(s->xe), free(s->dxe), free(s->ue), free(s->due), free(s->logits), free(s->dlogits);
    dense_work_free(&s->head_work);
    free(s->cur), free(s->out), free(s->seqs), free(s->seqs_next), free(s->parent);
    free(s->score), free(s->score_next), free(s->cand), free(s->best), free(s->beam_out);
    free(s);
    m->impl = NULL;
}

const Seq2SeqConfig *seq2seq_config(const Model *m) { return &((const S2S *)m->impl)->cfg; }
const char *seq2seq_last_error(const Model *m) { return ((const S2S *)m->impl)->err.msg; }

/* ---- one layer over T steps ---------------------------------------------------------------- */

static void layer_forward(S2SLayer *ly, const S2S *s, const Params *p, const float *x, const float *h0,
                          const float *c0, int B, int T) {
    const float *W = params_value(p, ly->iW), *b = params_value(p, ly->ib);
    if (s->cfg.cell == CELL_LSTM)
        lstm_forward(&ly->lstm, x, h0, c0, W, b, B, T, ly->n_in, ly->H);
    else
        gru_forward(&ly->gru, x, h0, W, b, ly->ib_hn >= 0 ? params_value(p, ly->ib_hn) : NULL, s->cfg.gru_variant,
                    B, T, ly->n_in, ly->H);
}

/* Slot t of the layer's states after forward: h_t (B, H), t = 0 the initial state; c_t for LSTM. */
static const float *layer_h(const S2SLayer *ly, const S2S *s, int B, int t) {
    const float *h = s->cfg.cell == CELL_LSTM ? ly->lstm.h : ly->gru.h;
    return h + (size_t)t * B * ly->H;
}
static const float *layer_c(const S2SLayer *ly, int B, int t) { return ly->lstm.c + (size_t)t * B * ly->H; }

/* Backward over steps t0+1 … t1 of the last forward (the span [t0, t1)), as if a forward had
 * started at step t0: the cell's backward runs on a view of its cache shifted by t0 steps (the
 * cache is time-major, so the span's gates and states are contiguous). x and dx are the span's
 * (t1 − t0, B, n_in) blocks, dout its (t1 − t0, B, H) block; dhT/dcT enter at step t1 and
 * ∂L/∂(state at t0) comes out in dh0/dc0 (which may alias dhT/dcT: the cells read those first
 * and write these last). */
static void layer_backward_span(S2SLayer *ly, const S2S *s, Params *p, int t0, int t1, int B, const float *x,
                                float *dx, const float *dout, const float *dhT, const float *dcT, float *dh0,
                                float *dc0) {
    int T = t1 - t0, H = ly->H;
    size_t off = (size_t)t0 * B * H;
    const float *W = params_value(p, ly->iW);
    float *dW = params_grad(p, ly->iW), *db = params_grad(p, ly->ib);
    if (s->cfg.cell == CELL_LSTM) {
        LstmCache v = ly->lstm;
        v.gates += 4 * off, v.tc += off, v.c += off, v.h += off;
        lstm_backward(dx, dh0, dc0, dW, db, NULL, &ly->lstm_work, dout, dhT, dcT, &v, x, W, B, T, ly->n_in, H);
    } else {
        GruCache v = ly->gru;
        v.gates += 3 * off, v.h += off, v.aux += off;
        gru_backward(dx, dh0, dW, db, ly->ib_hn >= 0 ? params_grad(p, ly->ib_hn) : NULL, NULL, &ly->gru_work, dout,
                     dhT, &v, x, W, s->cfg.gru_variant, B, T, ly->n_in, H);
    }
}

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

/* Forward the stack over Tx steps from zero, then pick e^l_b = state at step n_b into the
 * decoder layers' eh/ec. */
static void encoder_forward(S2S *s, const Params *p, int B, int Tx) {
    const float *in = s->xe;
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->enc[l];
        layer_forward(ly, s, p, in, NULL, NULL, B, Tx);
        in = layer_h(ly, s, B, 1);
        S2SLayer *dl = &s->dec[l];
        size_t H = (size_t)ly->H;
        for (int r = 0; r < B; r++) {
            memcpy(dl->eh + r * H, layer_h(ly, s, B, s->xlen[r]) + r * H, H * sizeof(float));
            if (s->cfg.cell == CELL_LSTM)
                memcpy(dl->ec + r * H, layer_c(ly, B, s->xlen[r]) + r * H, H * sizeof(float));
        }
    }
}

/* Backward from ∂L/∂e^l (the decoder layers' dh/dc) through the encoder.
 *
 * Row b's e is its state at step n_b, inside the sequence, but a cell's backward takes a
 * gradient for the state only at the end of its steps (dhT, dcT). So the steps are cut into
 * spans at the batch's distinct lengths L_1 < … < L_k: going backward over span (L_{j−1}, L_j],
 * the state gradient entering at L_j is what came back from span j + 1 plus ∂L/∂e_b for every
 * row with n_b = L_j. A row past its end has no gradient entering and nothing from above, so
 * its steps there contribute exactly zero (0 · anything), to the weights and to the pad
 * tokens' embeddings alike. The encoder's top layer feeds nothing per step: its dout is 0. */
static void encoder_backward(S2S *s, Params *p, int B, int Tx) {
    const Seq2SeqConfig *c = &s->cfg;
    int k = 0;
    for (int t = 1; t <= Tx; t++)
        for (int r = 0; r < B; r++)
            if (s->xlen[r] == t) {
                s->spans[k++] = t;
                break;
            }
    S2SLayer *top = &s->enc[s->L - 1];
    memset(top->dout, 0, (size_t)Tx * B * top->H * sizeof(float));
    for (int l = 0; l < s->L; l++) {
        memset(s->enc[l].dh, 0, (size_t)B * s->enc[l].H * sizeof(float));
        memset(s->enc[l].dc, 0, (size_t)B * s->enc[l].H * sizeof(float));
    }
    for (int j = k - 1; j >= 0; j--) {
        int t0 = j > 0 ? s->spans[j - 1] : 0, t1 = s->spans[j];
        for (int l = s->L - 1; l >= 0; l--) {
            S2SLayer *ly = &s->enc[l];
            const S2SLayer *dl = &s->dec[l];
            size_t H = (size_t)ly->H;
            for (int r = 0; r < B; r++) {
                if (s->xlen[r] != t1) continue;
                for (size_t q = 0; q < H; q++) ly->dh[r * H + q] += dl->dh[r * H + q];
                if (c->cell == CELL_LSTM)
                    for (size_t q = 0; q < H; q++) ly->dc[r * H + q] += dl->dc[r * H + q];
            }
            int n_in = ly->n_in;
            const float *x = l == 0 ? s->xe : layer_h(&s->enc[l - 1], s, B, 1);
            float *dx = l == 0 ? s->dxe : s->enc[l - 1].dout;
            size_t xo = (size_t)t0 * B * n_in;
            int lstm = c->cell == CELL_LSTM;
            layer_backward_span(ly, s, p, t0, t1, B, x + xo, dx + xo, ly->dout + (size_t)t0 * B * H, ly->dh,
                                lstm ? ly->dc : NULL, ly->dh, lstm ? ly->dc : NULL);
        }
    }
    embed_backward(params_grad(p, s->iEin), s->dxe, s->xtok, Tx * B, c->embed_dim);
}

/* ---- decoder ----------------------------------------------------------------------------------- */

/* Teacher-forced decoder from e over Ty steps; returns its top output (Ty, B, H). */
static const float *decoder_forward(S2S *s, const Params *p, int B, int Ty) {
    const float *in = s->ue;
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->dec[l];
        layer_forward(ly, s, p, in, ly->eh, s->cfg.cell == CELL_LSTM ? ly->ec : NULL, B, Ty);
        in = layer_h(ly, s, B, 1);
    }
    return in;
}

/* From the top layer's dout: every decoder layer, leaving ∂L/∂e^l in dec[l].dh/dc. */
static void decoder_backward(S2S *s, Params *p, int B, int Ty) {
    const Seq2SeqConfig *c = &s->cfg;
    for (int l = s->L - 1; l >= 0; l--) {
        S2SLayer *ly = &s->dec[l];
        const float *x = l == 0 ? s->ue : layer_h(&s->dec[l - 1], s, B, 1);
        float *dx = l == 0 ? s->due : s->dec[l - 1].dout;
        layer_backward_span(ly, s, p, 0, Ty, B, x, dx, ly->dout, NULL, NULL, ly->dh,
                            c->cell == CELL_LSTM ? ly->dc : NULL);
    }
    embed_backward(params_grad(p, s->iEout), s->due, s->utok, Ty * B, c->embed_dim);
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
    S2SLayer *topl = &s->dec[s->L - 1];
    dense_backward(topl->dout, params_grad(p, s->iHW), params_grad(p, s->iHb), s->dlogits, s->logits, top, hW, rows,
                   H, V, 0, ACT_IDENTITY, &s->head_work);
    decoder_backward(s, p, B, Ty);
    encoder_backward(s, p, B, Tx);
    return loss;
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* One decoder step for B rows from the running states sh/sc with input tokens s->cur: the
 * states advance, and logits (B, V) are left in s->logits. */
static void decode_step(S2S *s, const Params *p, int B) {
    const Seq2SeqConfig *c = &s->cfg;
    embed_forward(s->ue, s->cur, params_value(p, s->iEout), B, c->embed_dim);
    const float *in = s->ue;
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->dec[l];
        size_t n = (size_t)B * ly->H * sizeof(float);
        layer_forward(ly, s, p, in, ly->sh, c->cell == CELL_LSTM ? ly->sc : NULL, B, 1);
        in = layer_h(ly, s, B, 1);
        memcpy(ly->sh, in, n);
        if (c->cell == CELL_LSTM) memcpy(ly->sc, layer_c(ly, B, 1), n);
    }
    dense_forward(s->logits, in, params_value(p, s->iHW), params_value(p, s->iHb), B, c->hidden[s->L - 1],
                  c->vocab_out, 0, ACT_IDENTITY, &s->head_work);
}

/* Greedy decoding after encoder_forward: out (B, Ty) row-major. */
static void greedy_decode(S2S *s, const Params *p, int B, int Ty, int32_t *out) {
    const Seq2SeqConfig *c = &s->cfg;
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->dec[l];
        size_t n = (size_t)B * ly->H * sizeof(float);
        memcpy(ly->sh, ly->eh, n);
        if (c->cell == CELL_LSTM) memcpy(ly->sc, ly->ec, n);
    }
    for (int r = 0; r < B; r++) s->cur[r] = c->go_token;
    for (size_t k = 0; k < (size_t)B * Ty; k++) out[k] = c->end_token;
    for (int t = 0; t < Ty; t++) {
        decode_step(s, p, B);
        int running = 0;
        for (int r = 0; r < B; r++) {
            if (s->cur[r] == c->end_token) continue;   /* finished earlier: stays END */
            int32_t tok = argmax(s->logits + (size_t)r * c->vocab_out, c->vocab_out);
            out[(size_t)r * Ty + t] = tok;
            s->cur[r] = tok;
            running += tok != c->end_token;
        }
        if (!running) break;
    }
}

int seq2seq_greedy(Model *m, const int32_t *x, int B, int Tx, int max_len, int32_t *out) {
    S2S *s = m->impl;
    if (check_inputs(s, x, B, Tx) != 0) return -1;
    if (max_len < 1 || max_len > s->cfg.max_Ty)
        return ex_fail(&s->err, "seq2seq_greedy: max_len = %d, must be 1..max_Ty = %d", max_len, s->cfg.max_Ty);
    int Tmax = gather_inputs(s, &m->params, x, B, Tx);
    encoder_forward(s, &m->params, B, Tmax);
    greedy_decode(s, &m->params, B, max_len, out);
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

/* Copy running-state rows sh[parent[i]] → row i of every decoder layer (through th/tc). */
static void reorder_states(S2S *s, int n) {
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->dec[l];
        size_t H = (size_t)ly->H;
        for (int i = 0; i < n; i++) {
            memcpy(ly->th + i * H, ly->sh + (size_t)s->parent[i] * H, H * sizeof(float));
            if (s->cfg.cell == CELL_LSTM) memcpy(ly->tc + i * H, ly->sc + (size_t)s->parent[i] * H, H * sizeof(float));
        }
        memcpy(ly->sh, ly->th, (size_t)n * H * sizeof(float));
        if (s->cfg.cell == CELL_LSTM) memcpy(ly->sc, ly->tc, (size_t)n * H * sizeof(float));
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
    for (int l = 0; l < s->L; l++) {
        S2SLayer *ly = &s->dec[l];
        memcpy(ly->sh, ly->eh, (size_t)ly->H * sizeof(float));
        if (c->cell == CELL_LSTM) memcpy(ly->sc, ly->ec, (size_t)ly->H * sizeof(float));
    }
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
    greedy_decode(s, &m->params, b->B, Ty, s->out);
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
            const S2SLayer *ly = side == 0 ? &s->enc[l] : &s->dec[l];
            const ParamView *W = &p->views[ly->iW];
            size_t count = W->size + p->views[ly->ib].size + (ly->ib_hn >= 0 ? p->views[ly->ib_hn].size : 0);
            snprintf(line, sizeof line, "  %-10s (B,%s,%d) -> %s   %s (%d, %d), b (%d)%s   %zu params", ly->name,
                     side == 0 ? "Tx" : "Ty", ly->n_in,
                     side == 0 ? "its state after each row's last token" : "(B,Ty,H) from the encoder's state",
                     W->name, W->shape[0], W->shape[1], p->views[ly->ib].shape[0], ly->ib_hn >= 0 ? ", b_hn" : "",
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
