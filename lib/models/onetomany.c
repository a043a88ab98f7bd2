/* onetomany.c — one vector in, a sequence out (graph, parameters and loss in onetomany.h).
 *
 * One training step, in buffers sized at creation (time-major (T, B, ·) as the cells want):
 *   h^l_0 ← S^l[c_b] rows (and c^l_0 ← C^l[c_b] for LSTM)
 *   x (T, B, d) ← [0, y_0, …, y_{T−2}]              teacher forcing
 *   layers forward, head ŷ (T·B, d), loss, ∂L/∂(pre-activation)
 *   head backward → layers backward (top down) → ∂L/∂h^l_0 → scatter-add into S^l (and C^l).
 * Gradients are accumulated (+=) into the arena; the training loop zeroes, clips and steps. */
#include "onetomany.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "h5doc.h"
#include "init.h"
#include "recurrent.h"

typedef struct Otm {
    OneToManyConfig cfg;
    int L;
    Recurrent rec;                /* the stack of cells (recurrent.h) */
    int iS[SEQ_MAX_LAYERS];       /* state{l}/h: the class → h^l_0 table */
    int iC[SEQ_MAX_LAYERS];       /* state{l}/c: the class → c^l_0 table (LSTM), else −1 */
    float *start;                 /* carry block: the batch's initial states (generation: the running ones) */
    int iHW, iHb;
    float *x;                     /* (T, B, d) inputs */
    float *ytm;                   /* (T, B, d) targets, time-major */
    float *pred, *dpre;           /* (T·B, d) outputs and ∂L/∂(pre-activation) */
    float *gen;                   /* (B, T, d) free-running outputs */
    DenseWork head_work;          /* the head's packed products, sized once */
    ExError err;
} Otm;

static CellSettings cell_settings(const OneToManyConfig *c) {
    return (CellSettings){.cell = c->cell, .rnn_form = RNN_ELMAN, .rnn_act = ACT_TANH,
                          .gru_variant = c->gru_variant, .forget_bias = c->forget_bias,
                          .recurrent_orthogonal = c->recurrent_orthogonal, .recurrent_gain = c->recurrent_gain};
}

static int check_config(const OneToManyConfig *c, ExError *err) {
    const char *w = "one_to_many config";
    if (c->cell != CELL_LSTM && c->cell != CELL_GRU) return ex_fail(err, "%s: cell must be lstm|gru", w);
    CellSettings cs = cell_settings(c);
    if (recurrent_check(&cs, c->num_layers, c->hidden, w, err) != 0) return -1;
    if (c->n_classes < 1) return ex_fail(err, "%s: n_classes = %d, must be ≥ 1", w, c->n_classes);
    if (c->steps < 1 || c->n_out < 1)
        return ex_fail(err, "%s: steps = %d and n_out = %d must be ≥ 1", w, c->steps, c->n_out);
    if (c->loss != LOSS_CROSS_ENTROPY && c->loss != LOSS_SQUARED_ERROR)
        return ex_fail(err, "%s: loss '%s' is not available (cross_entropy|squared_error)", w, loss_name(c->loss));
    if (c->max_batch < 1) return ex_fail(err, "%s: max_batch = %d, must be ≥ 1", w, c->max_batch);
    return 0;
}

static double otm_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
static double otm_eval_batch(Model *m, const Batch *b, StepStats *stats);
static void otm_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx);
static void otm_destroy(Model *m);

static int otm_steps_per_row(const Model *m, int T, int Ty);
static int otm_write_results(Model *m, const ResultsInput *in, H5Doc *doc, ExError *err);

/* otm_eval_batch: the loss of what the model writes on its own. */
static int otm_eval_stat_names(const Model *m, const char **names, int cap) {
    (void)m;
    if (cap < 1) return 0;
    names[0] = "free_running_loss";
    return 1;
}

static void otm_describe_loss(const Model *m, char *buf, size_t cap) {
    const OneToManyConfig *c = &((const Otm *)m->impl)->cfg;
    snprintf(buf, cap, "%s summed over the %d x %d values an example writes (teacher-forced), averaged over the "
                       "examples", c->loss == LOSS_CROSS_ENTROPY ? "binary cross-entropy (nats)" : "squared error",
             c->steps, c->n_out);
}

static const ModelOps OTM_OPS = {
    .family = "one_to_many",
    .eval_stat_names = otm_eval_stat_names,
    .describe_loss = otm_describe_loss,
    .train_batch = otm_train_batch,
    .eval_batch = otm_eval_batch,
    .describe = otm_describe,
    .destroy = otm_destroy,
    .last_error = onetomany_last_error,
    .unit = "steps",
    .unit_short = "steps",
    .steps_per_row = otm_steps_per_row,
    .results_group = "/generated",
    .write_results = otm_write_results,
};

/* A row is the `steps` outputs written from one class. */
static int otm_steps_per_row(const Model *m, int T, int Ty) {
    (void)T;
    (void)Ty;
    return onetomany_config(m)->steps;
}

double onetomany_memory(const OneToManyConfig *c) {
    CellSettings cs = cell_settings(c);
    double P = 0, H_top = c->hidden[c->num_layers - 1];
    for (int l = 0; l < c->num_layers; l++) P += 2.0 * c->n_classes * c->hidden[l];   /* state tables */
    double floats = recurrent_floats(&cs, c->num_layers, c->hidden, c->n_out, c->max_batch, c->steps, 0, 0, &P);
    P += (double)c->n_out * H_top + c->n_out;
    floats += 5.0 * c->steps * c->max_batch * c->n_out;
    return 4.0 * (4 * P + floats);
}

int onetomany_create(Model **out, const OneToManyConfig *cfg, Rng *init_rng, ExError *err) {
    *out = NULL;
    if (check_config(cfg, err) != 0) return -1;
    Model *m = ex_calloc(1, sizeof *m);
    Otm *s = ex_calloc(1, sizeof *s);
    m->ops = &OTM_OPS;
    m->impl = s;
    m->max_batch = cfg->max_batch;
    s->cfg = *cfg;
    s->L = cfg->num_layers;
    const OneToManyConfig *c = &s->cfg;
    Params *p = &m->params;
    const CellSettings cs = cell_settings(c);
    char name[PARAM_NAME_MAX];
    recurrent_setup(&s->rec, &cs, "", s->L, c->hidden, c->n_out, 0.0f);
    for (int l = 0; l < s->L; l++) {
        int H = c->hidden[l];
        snprintf(name, sizeof name, "state%d/h", l);
        s->iS[l] = params_add(p, name, 2, (int[]){c->n_classes, H}, "class,H initial state h_0 per class");
        s->iC[l] = -1;
        if (s->rec.ops->states > 1) {
            snprintf(name, sizeof name, "state%d/c", l);
            s->iC[l] = params_add(p, name, 2, (int[]){c->n_classes, H}, "class,H initial cell c_0 per class");
        }
        recurrent_add_layer_params(&s->rec, p, l);
    }
    int H_top = c->hidden[s->L - 1];
    s->iHW = params_add(p, "head/W", 2, (int[]){c->n_out, H_top}, "out,in");
    s->iHb = params_add(p, "head/b", 1, (int[]){c->n_out}, "out");
    params_alloc(p);

    recurrent_init_params(&s->rec, p, init_rng);
    float kh = 1.0f / sqrtf((float)H_top);
    init_uniform(params_value(p, s->iHW), p->views[s->iHW].size, kh, init_rng);
    init_uniform(params_value(p, s->iHb), (size_t)c->n_out, kh, init_rng);

    int B = c->max_batch, T = c->steps;
    size_t n = (size_t)T * B * c->n_out;
    s->x = ex_calloc(n, sizeof(float));
    s->ytm = ex_calloc(n, sizeof(float));
    s->pred = ex_calloc(n, sizeof(float));
    s->dpre = ex_calloc(n, sizeof(float));
    s->gen = ex_calloc(n, sizeof(float));
    size_t head_work = 0;
    dense_work_reserve(&head_work, T * B, c->hidden[s->L - 1], c->n_out);
    dense_work_alloc(&s->head_work, head_work);
    recurrent_alloc(&s->rec, B, T, 0, (PackedMat *[]){&s->head_work.pack}, 1);
    s->start = ex_calloc(s->rec.carry_n, sizeof(float));
    *out = m;
    return 0;
}

static void otm_destroy(Model *m) {
    Otm *s = m->impl;
    if (!s) return;
    recurrent_free(&s->rec);
    free(s->start), free(s->x), free(s->ytm), free(s->pred), free(s->dpre), free(s->gen);
    dense_work_free(&s->head_work);
    free(s);
    m->impl = NULL;
}

const OneToManyConfig *onetomany_config(const Model *m) { return &((const Otm *)m->impl)->cfg; }
const char *onetomany_last_error(const Model *m) { return ((const Otm *)m->impl)->err.msg; }

/* ---- the stack ----------------------------------------------------------------------------------- */

/* h^l_0 (and c^l_0) ← the class rows of the state tables. */
static void set_initial_states(Otm *s, const Params *p, const int32_t *classes, int B) {
    for (int l = 0; l < s->L; l++)
        for (int k = 0; k < s->rec.ops->states; k++) {
            size_t H = (size_t)s->rec.layer[l].H;
            const float *table = params_value(p, k == 0 ? s->iS[l] : s->iC[l]);
            float *rows = recurrent_carry_state(&s->rec, s->start, l, k);
            for (int r = 0; r < B; r++) memcpy(rows + r * H, table + (size_t)classes[r] * H, H * sizeof(float));
        }
    recurrent_start(&s->rec, s->start);
}

/* Head: pred (rows, d) = act(head/W · top + head/b), sigmoid for cross-entropy. */
static void head_forward(Otm *s, const Params *p, const float *top, int rows) {
    const OneToManyConfig *c = &s->cfg;
    dense_forward(s->pred, top, params_value(p, s->iHW), params_value(p, s->iHb), rows, c->hidden[s->L - 1], c->n_out,
                  0, c->loss == LOSS_CROSS_ENTROPY ? ACT_SIGMOID : ACT_IDENTITY, &s->head_work);
}

/* Loss summed over a sequence's T·d values, averaged over B sequences, of pred against y (both
 * time-major (T·B, d)); dpre (may be NULL) = ∂L/∂(head pre-activation). The loss.h functions
 * average over their m = T·B rows, so loss and gradient are scaled by T. */
static double sequence_loss(const Otm *s, float *dpre, const float *pred, const float *y, int B, int T) {
    const OneToManyConfig *c = &s->cfg;
    int rows = T * B;
    double loss = c->loss == LOSS_CROSS_ENTROPY ? loss_sigmoid_cross_entropy(dpre, pred, y, rows, c->n_out)
                                                : loss_squared_error(dpre, pred, y, rows, c->n_out);
    if (dpre)
        for (size_t k = 0; k < (size_t)rows * c->n_out; k++) dpre[k] *= (float)T;
    return loss * T;
}

/* ---- batches --------------------------------------------------------------------------------------- */

static int check_classes(Otm *s, const int32_t *classes, int B) {
    const OneToManyConfig *c = &s->cfg;
    if (B < 1 || B > c->max_batch)
        return ex_fail(&s->err, "one_to_many batch: B = %d, must be 1..max_batch = %d", B, c->max_batch);
    if (!classes) return ex_fail(&s->err, "one_to_many batch: the model needs labels (B), the classes");
    for (int r = 0; r < B; r++)
        if (classes[r] < 0 || classes[r] >= c->n_classes)
            return ex_fail(&s->err, "one_to_many batch: class %d of row %d is outside [0, %d)", (int)classes[r], r,
                           c->n_classes);
    return 0;
}

static int check_batch(Otm *s, const Batch *b) {
    const OneToManyConfig *c = &s->cfg;
    if (check_classes(s, b->labels, b->B) != 0) return -1;
    if (!b->x) return ex_fail(&s->err, "one_to_many batch: the model needs the sequences to produce, x (B, T, d)");
    if (b->T != c->steps || b->d != c->n_out)
        return ex_fail(&s->err, "one_to_many batch: x is (B, %d, %d), the model writes (B, %d, %d)", b->T, b->d,
                       c->steps, c->n_out);
    return 0;
}

/* Forward with teacher forcing (and, if train, backward); returns the loss. */
static double run_batch(Otm *s, Params *p, const Batch *b, int train) {
    const OneToManyConfig *c = &s->cfg;
    int B = b->B, T = c->steps, d = c->n_out;
    size_t row = (size_t)d * sizeof(float);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < B; r++) {
            const float *y_t = b->x + ((size_t)r * T + t) * d;
            memcpy(s->ytm + ((size_t)t * B + r) * d, y_t, row);
            float *x_t = s->x + ((size_t)t * B + r) * d;
            if (t == 0) memset(x_t, 0, row);                              /* the blank start row */
            else memcpy(x_t, y_t - d, row);                                /* x_t = y_{t−1} */
        }
    set_initial_states(s, p, b->labels, B);
    const float *top = recurrent_forward(&s->rec, p, s->x, 0, B, T, 0, NULL);
    head_forward(s, p, top, T * B);
    double loss = sequence_loss(s, train ? s->dpre : NULL, s->pred, s->ytm, B, T);
    if (!train) return loss;

    dense_backward(s->rec.layer[s->L - 1].dout, params_grad(p, s->iHW), params_grad(p, s->iHb), s->dpre, s->pred,
                   top, params_value(p, s->iHW), T * B, c->hidden[s->L - 1], d, 0, ACT_IDENTITY, &s->head_work);
    recurrent_backward(&s->rec, p, s->x, NULL, 0, B, T, 1, REC_GRAD_OUT);   /* the data needs no gradient */
    /* the state tables: row c_b gets ∂L/∂h^l_0[b] (and ∂L/∂c^l_0[b]); rows of one class add up */
    for (int l = 0; l < s->L; l++)
        for (int k = 0; k < s->rec.ops->states; k++) {
            size_t H = (size_t)s->rec.layer[l].H;
            const float *ds = s->rec.layer[l].ds[k];
            float *g = params_grad(p, k == 0 ? s->iS[l] : s->iC[l]);
            for (int r = 0; r < B; r++)
                for (size_t j = 0; j < H; j++) g[(size_t)b->labels[r] * H + j] += ds[r * H + j];
        }
    return loss;
}

/* Free-running generation for B rows from their classes into out (B, T, d). */
static void generate(Otm *s, const Params *p, const int32_t *classes, int B, float *out) {
    const OneToManyConfig *c = &s->cfg;
    int T = c->steps, d = c->n_out;
    set_initial_states(s, p, classes, B);
    memset(s->x, 0, (size_t)B * d * sizeof(float));
    for (int t = 0; t < T; t++) {
        const float *top = recurrent_forward(&s->rec, p, s->x, 0, B, 1, 0, NULL);
        head_forward(s, p, top, B);
        recurrent_save(&s->rec, s->start, B, 1);   /* the state after this step starts the next one */
        memcpy(s->x, s->pred, (size_t)B * d * sizeof(float));   /* the output is the next input */
        for (int r = 0; r < B; r++)
            memcpy(out + ((size_t)r * T + t) * d, s->pred + (size_t)r * d, (size_t)d * sizeof(float));
    }
}

int onetomany_generate(Model *m, const int32_t *classes, int B, float *out) {
    Otm *s = m->impl;
    if (check_classes(s, classes, B) != 0) return -1;
    generate(s, &m->params, classes, B, out);
    return 0;
}

static double otm_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats) {
    (void)noise_rng, (void)stats;
    Otm *s = m->impl;
    if (check_batch(s, b) != 0) return NAN;
    return run_batch(s, &m->params, b, 1);
}

static double otm_eval_batch(Model *m, const Batch *b, StepStats *stats) {
    Otm *s = m->impl;
    if (check_batch(s, b) != 0) return NAN;
    double loss = run_batch(s, &m->params, b, 0);
    if (stats) {
        /* the same loss for what the model writes on its own: gen (B, T, d) against x */
        int B = b->B, T = s->cfg.steps, d = s->cfg.n_out;
        generate(s, &m->params, b->labels, B, s->gen);
        for (int t = 0; t < T; t++)
            for (int r = 0; r < B; r++) {
                memcpy(s->pred + ((size_t)t * B + r) * d, s->gen + ((size_t)r * T + t) * d, (size_t)d * sizeof(float));
                memcpy(s->ytm + ((size_t)t * B + r) * d, b->x + ((size_t)r * T + t) * d, (size_t)d * sizeof(float));
            }
        stats_add(stats, "free_running_loss", sequence_loss(s, NULL, s->pred, s->ytm, B, T) * B);
    }
    return loss;
}

static void otm_describe(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx) {
    const Otm *s = m->impl;
    const OneToManyConfig *c = &s->cfg;
    const Params *p = &m->params;
    char line[512];
    snprintf(line, sizeof line,
             "one_to_many model: class (K = %d) -> initial state of %d x %s%s%s -> %d steps of %d values, %s; "
             "input x_t = y_{t-1} (teacher forcing), generation feeds outputs back",
             c->n_classes, s->L, cell_type_name(c->cell), c->cell == CELL_GRU ? " " : "",
             c->cell == CELL_GRU ? gru_variant_name(c->gru_variant) : "", c->steps, c->n_out,
             c->loss == LOSS_CROSS_ENTROPY ? "sigmoid + cross_entropy" : "squared_error");
    emit(ctx, line);
    for (int l = 0; l < s->L; l++) {
        const RecLayer *ly = &s->rec.layer[l];
        const ParamView *W = &p->views[ly->v.iW];
        int iS = s->iS[l], iC = s->iC[l];
        size_t count = W->size + p->views[ly->v.ib].size + p->views[iS].size + (iC >= 0 ? p->views[iC].size : 0) +
                       (ly->v.ib_hn >= 0 ? p->views[ly->v.ib_hn].size : 0);
        snprintf(line, sizeof line, "  %-8s (B,T,%d) -> (B,T,%d)   %s (%d, %d), b, %s (%d, %d)%s   %zu params", ly->name,
                 ly->n_in, ly->H, W->name, W->shape[0], W->shape[1], p->views[iS].name, c->n_classes, ly->H,
                 iC >= 0 ? " and c" : "", count);
        emit(ctx, line);
    }
    snprintf(line, sizeof line, "  head     (B,T,%d) -> (B,T,%d)   head/W (%d, %d), head/b (%d)   %zu params",
             c->hidden[s->L - 1], c->n_out, c->n_out, c->hidden[s->L - 1], c->n_out,
             p->views[s->iHW].size + p->views[s->iHb].size);
    emit(ctx, line);
    size_t total = 0;
    for (int k = 0; k < p->count; k++) total += p->views[k].size;
    snprintf(line, sizeof line, "  total    %zu parameters; workspaces for batch %d x T %d", total, c->max_batch,
             c->steps);
    emit(ctx, line);
}

/* One sequence generated per class, outputs fed back: /generated/images (K, T, d) floats and
 * /generated/classes (K). */
static int otm_write_results(Model *m, const ResultsInput *in, H5Doc *doc, ExError *err) {
    (void)in;
    const OneToManyConfig *c = onetomany_config(m);
    int K = c->n_classes < m->max_batch ? c->n_classes : m->max_batch;
    int32_t *classes = ex_malloc((size_t)K * sizeof *classes);
    float *images = ex_malloc((size_t)K * c->steps * c->n_out * sizeof *images);
    for (int k = 0; k < K; k++) classes[k] = k;
    int rc = onetomany_generate(m, classes, K, images);
    if (rc == 0) {
        int shape[3] = {K, c->steps, c->n_out}, kshape[1] = {K};
        h5doc_floats(doc, "/generated/images", 3, shape, images);
        h5doc_attr_str(doc, "/generated/images", "description",
                       "row t of image k is written by the model from class k alone, its row t-1 fed back as input");
        h5doc_int32s(doc, "/generated/classes", 1, kshape, classes);
    } else {
        ex_fail(err, "generating: %s", onetomany_last_error(m));
    }
    free(classes);
    free(images);
    return rc;
}
