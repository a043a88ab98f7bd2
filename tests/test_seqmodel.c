/* test_seqmodel.c — the sequence model family end to end, and its two helpers (embedding,
 * dropout): finite differences for every parameter across cells, inputs, heads, losses,
 * initial states, dropout and truncated BPTT; the carried state against one long pass;
 * learning a repeated string with Adam and sampling it back; describe and the error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropout.h"
#include "embed.h"
#include "optim.h"
#include "seqmodel.h"
#include "fixtures.h"
#include "testutil.h"

/* ---- embedding and dropout -------------------------------------------------------------- */

typedef struct EmbedCtx {
    int32_t tokens[7];
    float W[5 * 3], probe[7 * 3], out[7 * 3];
} EmbedCtx;

static double embed_loss(void *ctx) {
    EmbedCtx *c = ctx;
    embed_forward(c->out, c->tokens, c->W, 7, 3);
    double s = 0.0;
    for (int k = 0; k < 21; k++) s += (double)c->probe[k] * c->out[k];
    return s;
}

static void test_embedding(void) {
    EmbedCtx c = {.tokens = {4, 0, 2, 4, 4, 1, 2}};
    fill_uniform(c.W, 15, -1.0f, 1.0f, 1);
    fill_uniform(c.probe, 21, -1.0f, 1.0f, 2);
    embed_loss(&c);
    for (int n = 0; n < 7; n++)
        CU_ASSERT(memcmp(c.out + 3 * n, c.W + 3 * c.tokens[n], 3 * sizeof(float)) == 0);
    float dW[15] = {0};
    embed_backward(dW, c.probe, c.tokens, 7, 3);   /* token 4 three times: its row sums three */
    CU_ASSERT(gradcheck(embed_loss, &c, c.W, dW, 15, 0, 1e-2, 1e-3) < 1e-4);
    for (int e = 0; e < 3; e++) CU_ASSERT(dW[3 * 3 + e] == 0.0f);   /* token 3 unused */

    float oh[7 * 5];
    onehot_forward(oh, c.tokens, 7, 5);
    for (int n = 0; n < 7; n++)
        for (int v = 0; v < 5; v++) CU_ASSERT(oh[n * 5 + v] == (v == c.tokens[n] ? 1.0f : 0.0f));

    ExError err = {{0}};
    int32_t bad[3] = {1, 5, 0};
    CU_ASSERT(embed_check_tokens(bad, 3, 5, &err) == -1);
    CU_ASSERT(strstr(err.msg, "token 5 at position 1") != NULL);
    CU_ASSERT(embed_check_tokens(c.tokens, 7, 5, &err) == 0);
}

/* embed_grad_through against ∂L/∂x = dA · W_x row by row, then the scatter-add: close, with
 * more rows than its room (the rows then go in pieces, each piece its own sums), a strided dA
 * and a W_x inside a wider matrix; the tokens it did not see keep their gradient. */
static void test_embedding_through(void) {
    enum { V = 6, E = 5, K = 40, N = 23, LDA = K + 3, LDW = E + 7, ROOM = 4 };
    int32_t tokens[N];
    for (int n = 0; n < N; n++) tokens[n] = (int32_t)((n * 7 + n / 5) % 5);   /* tokens 0..4; 5 unused */
    float *dA = malloc((size_t)N * LDA * sizeof(float)), *Wx = malloc((size_t)K * LDW * sizeof(float));
    fill_uniform(dA, (size_t)N * LDA, -1.0f, 1.0f, 3);
    fill_uniform(Wx, (size_t)K * LDW, -1.0f, 1.0f, 4);
    double want[V * E] = {0};
    for (int n = 0; n < N; n++)
        for (int e = 0; e < E; e++) {
            double dx = 0.0;
            for (int k = 0; k < K; k++) dx += (double)dA[(size_t)n * LDA + k] * Wx[(size_t)k * LDW + e];
            want[tokens[n] * E + e] += dx;
        }
    for (int room = ROOM; room <= N; room += N - ROOM) {
        EmbedGrad g;
        embed_grad_alloc(&g, V, E, K, room);
        float dW[V * E];
        for (int k = 0; k < V * E; k++) dW[k] = 0.5f;   /* added to, not overwritten */
        embed_grad_through(&g, dW, tokens, N, dA, LDA, K, Wx, LDW);
        double worst = 0.0;
        for (int k = 0; k < V * E; k++) worst = fmax(worst, fabs(dW[k] - 0.5 - want[k]) / (1.0 + fabs(want[k])));
        CU_ASSERT(worst < 1e-5);
        for (int e = 0; e < E; e++) CU_ASSERT(dW[5 * E + e] == 0.5f);
        for (int v = 0; v < V; v++) CU_ASSERT(g.slot[v] == -1);   /* left ready for the next call */
        embed_grad_free(&g);
    }
    free(dA), free(Wx);
}

static void test_dropout_statistics(void) {
    const size_t n = 200000;
    const float p = 0.3f;
    float *in = malloc(n * sizeof(float)), *out = malloc(n * sizeof(float)), *mask = malloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++) in[k] = 1.0f;
    Rng rng;
    rng_seed(&rng, 7);
    dropout_forward(out, mask, in, n, p, 1, &rng);
    size_t zeros = 0, bad = 0;
    double mean = 0.0;
    for (size_t k = 0; k < n; k++) {
        zeros += mask[k] == 0.0f;
        bad += !(mask[k] == 0.0f || mask[k] == 1.0f / (1.0f - p)) || out[k] != in[k] * mask[k];
        mean += out[k];
    }
    mean /= n;
    CU_ASSERT(bad == 0);
    CU_ASSERT(fabs((double)zeros / n - p) < 0.005);   /* ± 5σ of a binomial(200000, 0.3) */
    CU_ASSERT(fabs(mean - 1.0) < 0.01);                /* inverted: the expectation is kept */

    /* evaluation, and p = 0, are the identity */
    fill_uniform(in, n, -1.0f, 1.0f, 3);
    dropout_forward(out, mask, in, n, p, 0, &rng);
    CU_ASSERT(memcmp(out, in, n * sizeof(float)) == 0);
    dropout_forward(out, mask, in, n, 0.0f, 1, &rng);
    CU_ASSERT(memcmp(out, in, n * sizeof(float)) == 0);

    /* backward is ∂L/∂out ⊙ mask */
    rng_seed(&rng, 8);
    dropout_forward(out, mask, in, 1000, 0.5f, 1, &rng);
    float din[1000];
    dropout_backward(din, in, mask, 1000);
    for (int k = 0; k < 1000; k++) CU_ASSERT(din[k] == in[k] * mask[k]);
    free(in), free(out), free(mask);
}

/* ---- batches ---------------------------------------------------------------------------- */

typedef struct TestBatch {
    Batch b;
    float *x, *y;
    int32_t *x_tokens, *y_tokens, *labels;
} TestBatch;

/* Random data matching cfg: B rows, T steps; every 5th per-step target is −1 (no target). */
static TestBatch make_batch(const SeqModelConfig *cfg, int B, int T, unsigned long long seed) {
    TestBatch t;
    memset(&t, 0, sizeof t);
    Rng rng;
    rng_seed(&rng, seed);
    t.b.B = B, t.b.T = T;
    if (cfg->input == SEQ_INPUT_FEATURES) {
        t.x = malloc((size_t)B * T * cfg->n_features * sizeof(float));
        fill_uniform(t.x, (size_t)B * T * cfg->n_features, -1.0f, 1.0f, seed + 1);
        t.b.x = t.x, t.b.d = cfg->n_features;
    } else {
        t.x_tokens = malloc((size_t)B * T * sizeof(int32_t));
        for (int k = 0; k < B * T; k++) t.x_tokens[k] = (int32_t)rng_below(&rng, (uint64_t)cfg->vocab);
        t.b.x_tokens = t.x_tokens;
    }
    int per_step = cfg->head == SEQ_HEAD_PER_STEP;
    if (cfg->loss == LOSS_SOFTMAX_CROSS_ENTROPY) {
        if (per_step) {
            t.y_tokens = malloc((size_t)B * T * sizeof(int32_t));
            for (int k = 0; k < B * T; k++)
                t.y_tokens[k] = k % 5 == 3 ? -1 : (int32_t)rng_below(&rng, (uint64_t)cfg->n_out);
            t.b.y_tokens = t.y_tokens, t.b.Ty = T;
        } else {
            t.labels = malloc((size_t)B * sizeof(int32_t));
            for (int k = 0; k < B; k++) t.labels[k] = (int32_t)rng_below(&rng, (uint64_t)cfg->n_out);
            t.b.labels = t.labels;
        }
    } else {
        int Ty = per_step ? T : 1;
        t.y = malloc((size_t)B * Ty * cfg->n_out * sizeof(float));
        fill_uniform(t.y, (size_t)B * Ty * cfg->n_out, -1.0f, 1.0f, seed + 2);
        t.b.y = t.y, t.b.Ty = Ty, t.b.dy = cfg->n_out;
    }
    return t;
}

static void free_batch(TestBatch *t) { free(t->x), free(t->y), free(t->x_tokens), free(t->y_tokens), free(t->labels); }

/* ---- finite differences for every parameter view ----------------------------------------- */

typedef struct GradCtx {
    Model *m;
    const Batch *b;
    uint64_t noise_seed;        /* dropout: the same mask at every evaluation */
    const float *carry;         /* truncated BPTT: restore this carried state before each one */
    size_t carry_n;
} GradCtx;

static double model_loss(void *ctx) {
    GradCtx *g = ctx;
    if (g->carry) {
        size_t n;
        float *state = g->m->ops->carried_state(g->m, &n);
        memcpy(state, g->carry, g->carry_n * sizeof(float));
    }
    /* train_batch, not eval_batch: it uses the same dropout mask and the training carry.
     * It also accumulates gradients, which the caller has already copied. */
    Rng noise;
    rng_seed(&noise, g->noise_seed);
    return g->m->ops->train_batch(g->m, g->b, &noise, NULL);
}

/* Worst error over (up to 24 entries of) every view; each entry at steps 1e-2 and 1e-3, the
 * better kept (relu kinks vs float rounding). Prints the view on failure. */
static double check_all_params(GradCtx *g, const char *what) {
    Params *p = &g->m->params;
    params_zero_grad(p);
    model_loss(g);
    float *analytic = malloc(p->total * sizeof(float));
    memcpy(analytic, p->grad, p->total * sizeof(float));
    double worst = 0.0;
    for (int v = 0; v < p->count; v++) {
        const ParamView *view = &p->views[v];
        size_t stride = view->size > 24 ? view->size / 24 : 1;
        double view_worst = 0.0;
        for (size_t k = 0; k < view->size; k += stride) {
            float *x = p->value + view->offset + k;
            const float *a = analytic + view->offset + k;
            double e1 = gradcheck(model_loss, g, x, a, 1, 0, 1e-2, 1e-3);
            double e2 = gradcheck(model_loss, g, x, a, 1, 0, 1e-3, 1e-3);
            view_worst = fmax(view_worst, fmin(e1, e2));
        }
        if (view_worst > 1e-2) fprintf(stderr, "\n    %s: %s worst error %.3g\n", what, view->name, view_worst);
        worst = fmax(worst, view_worst);
    }
    free(analytic);
    return worst;
}

static Model *make_model(const SeqModelConfig *cfg, uint64_t seed) {
    Model *m = NULL;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, seed);
    int rc = seqmodel_create(&m, cfg, &rng, &err);
    if (rc != 0) fprintf(stderr, "\n    seqmodel_create: %s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    return m;
}

static void gradcheck_config(const SeqModelConfig *cfg, const char *what) {
    Model *m = make_model(cfg, 11);
    TestBatch t = make_batch(cfg, 3, 6, 21);
    GradCtx g = {.m = m, .b = &t.b, .noise_seed = 5};
    CU_ASSERT(check_all_params(&g, what) < 1e-2);
    free_batch(&t);
    model_free(m);
}

static SeqModelConfig small_config(CellType cell, SeqInput input, SeqHead head, LossType loss) {
    SeqModelConfig c = fixture_seqmodel();
    c.cell = cell, c.input = input, c.head = head, c.loss = loss;
    c.num_layers = 2, c.hidden[0] = 5, c.hidden[1] = 4;
    c.vocab = 6, c.embed_dim = 3, c.n_features = 3;
    c.n_out = loss == LOSS_SOFTMAX_CROSS_ENTROPY ? 5 : 2;
    c.max_batch = 4, c.max_T = 8;
    return c;
}

static void test_grad_lstm_embed_per_step_ce(void) {
    SeqModelConfig c = small_config(CELL_LSTM, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    gradcheck_config(&c, "lstm embed per-step ce");
}

static void test_grad_lstm_features_last_step_se_learned(void) {
    SeqModelConfig c = small_config(CELL_LSTM, SEQ_INPUT_FEATURES, SEQ_HEAD_LAST_STEP, LOSS_SQUARED_ERROR);
    c.init_state = SEQ_INIT_LEARNED;
    gradcheck_config(&c, "lstm features last-step se learned h0,c0");
}

static void test_grad_lstm_dropout(void) {
    SeqModelConfig c = small_config(CELL_LSTM, SEQ_INPUT_ONEHOT, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.num_layers = 3, c.hidden[2] = 4, c.dropout = 0.4f;
    gradcheck_config(&c, "lstm one-hot dropout");
}

static void test_grad_gru_cho_onehot_last_step_learned(void) {
    SeqModelConfig c = small_config(CELL_GRU, SEQ_INPUT_ONEHOT, SEQ_HEAD_LAST_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.gru_variant = GRU_CHO, c.init_state = SEQ_INIT_LEARNED;
    gradcheck_config(&c, "gru cho one-hot last-step learned h0");
}

static void test_grad_gru_pytorch_features_per_step_se(void) {
    SeqModelConfig c = small_config(CELL_GRU, SEQ_INPUT_FEATURES, SEQ_HEAD_PER_STEP, LOSS_SQUARED_ERROR);
    c.gru_variant = GRU_PYTORCH, c.init_state = SEQ_INIT_LEARNED;
    gradcheck_config(&c, "gru pytorch features per-step se");
}

static void test_grad_rnn_lecture_tanh_features_last_step(void) {
    SeqModelConfig c = small_config(CELL_RNN, SEQ_INPUT_FEATURES, SEQ_HEAD_LAST_STEP, LOSS_SQUARED_ERROR);
    c.rnn_form = RNN_LECTURE, c.rnn_act = ACT_TANH, c.init_state = SEQ_INIT_LEARNED;
    gradcheck_config(&c, "rnn lecture tanh features last-step");
}

static void test_grad_rnn_lecture_relu_embed(void) {
    SeqModelConfig c = small_config(CELL_RNN, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.rnn_form = RNN_LECTURE, c.rnn_act = ACT_RELU;
    gradcheck_config(&c, "rnn lecture relu embed");
}

static void test_grad_gru_pytorch_embed_last_step(void) {
    SeqModelConfig c = small_config(CELL_GRU, SEQ_INPUT_EMBED, SEQ_HEAD_LAST_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.gru_variant = GRU_PYTORCH;
    gradcheck_config(&c, "gru pytorch embed last-step");
}

static void test_grad_rnn_elman_relu_onehot_dropout(void) {
    SeqModelConfig c = small_config(CELL_RNN, SEQ_INPUT_ONEHOT, SEQ_HEAD_LAST_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.rnn_form = RNN_ELMAN, c.rnn_act = ACT_RELU, c.dropout = 0.3f;
    gradcheck_config(&c, "rnn elman relu one-hot dropout");
}

/* ---- truncated BPTT ---------------------------------------------------------------------- */

/* A batch [x1 x2] of 2T steps in one pass gives the same losses as x1 then x2 with the state
 * carried: the carry is exactly the continuation of the sequence. */
static void check_carry_continues(CellType cell) {
    SeqModelConfig c = small_config(cell, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.max_T = 10, c.tbptt_carry = 1, c.init_state = SEQ_INIT_LEARNED, c.gru_variant = GRU_PYTORCH;
    Model *m = make_model(&c, 3);
    /* learned states non-zero, so that "from h0" and "from the carry" differ */
    for (int v = 0; v < m->params.count; v++)
        if (strstr(m->params.views[v].name, "/h0") || strstr(m->params.views[v].name, "/c0"))
            fill_uniform(params_value(&m->params, v), m->params.views[v].size, -0.5f, 0.5f, 40 + v);
    TestBatch whole = make_batch(&c, 3, 10, 77);
    for (int k = 0; k < 30; k++) whole.y_tokens[k] = whole.y_tokens[k] < 0 ? 1 : whole.y_tokens[k];
    TestBatch half[2];
    for (int h = 0; h < 2; h++) {
        half[h] = make_batch(&c, 3, 5, 78);
        for (int r = 0; r < 3; r++)
            for (int t = 0; t < 5; t++) {
                half[h].x_tokens[r * 5 + t] = whole.x_tokens[r * 10 + h * 5 + t];
                half[h].y_tokens[r * 5 + t] = whole.y_tokens[r * 10 + h * 5 + t];
            }
    }
    double l_whole = m->ops->eval_batch(m, &whole.b, NULL);
    double l1 = m->ops->eval_batch(m, &half[0].b, NULL);
    half[1].b.carry_state = 1;
    double l2 = m->ops->eval_batch(m, &half[1].b, NULL);
    CU_ASSERT(fabs(l_whole - 0.5 * (l1 + l2)) < 1e-5);
    half[1].b.carry_state = 0;
    double l2_fresh = m->ops->eval_batch(m, &half[1].b, NULL);
    CU_ASSERT(fabs(l2_fresh - l2) > 1e-4);   /* the carry made a difference */

    /* training carries in its own state: evaluation did not disturb it */
    Rng noise;
    rng_seed(&noise, 1);
    params_zero_grad(&m->params);
    double t1 = m->ops->train_batch(m, &half[0].b, &noise, NULL);
    m->ops->eval_batch(m, &whole.b, NULL);
    half[1].b.carry_state = 1;
    double t2 = m->ops->train_batch(m, &half[1].b, &noise, NULL);
    CU_ASSERT(fabs(t1 - l1) < 1e-6 && fabs(t2 - l2) < 1e-6);
    for (int h = 0; h < 2; h++) free_batch(&half[h]);
    free_batch(&whole);
    model_free(m);
}

static void test_carry_continues_sequence(void) {
    check_carry_continues(CELL_LSTM);
    check_carry_continues(CELL_GRU);
}

/* With a carried state the gradient is w.r.t. the parameters within the batch only: the
 * finite differences hold the carried state fixed (a detached copy), and the learned initial
 * state, unused, gets no gradient. */
static void check_carry_gradients(CellType cell, RnnForm form) {
    SeqModelConfig c = small_config(cell, SEQ_INPUT_FEATURES, SEQ_HEAD_PER_STEP, LOSS_SQUARED_ERROR);
    c.tbptt_carry = 1, c.init_state = SEQ_INIT_LEARNED, c.rnn_form = form;
    Model *m = make_model(&c, 4);
    TestBatch b1 = make_batch(&c, 3, 6, 90), b2 = make_batch(&c, 3, 6, 91);
    Rng noise;
    rng_seed(&noise, 1);
    m->ops->train_batch(m, &b1.b, &noise, NULL);
    size_t n;
    float *state = m->ops->carried_state(m, &n);
    CU_ASSERT_FATAL(state != NULL && n > 0);
    float *saved = malloc(n * sizeof(float));
    memcpy(saved, state, n * sizeof(float));
    double sq = 0.0;
    for (size_t k = 0; k < n; k++) sq += (double)saved[k] * saved[k];
    CU_ASSERT(sq > 0.0);

    b2.b.carry_state = 1;
    GradCtx g = {.m = m, .b = &b2.b, .noise_seed = 2, .carry = saved, .carry_n = n};
    CU_ASSERT(check_all_params(&g, cell == CELL_LSTM ? "lstm carried state" : "rnn carried state") < 1e-2);
    params_zero_grad(&m->params);
    model_loss(&g);
    for (int v = 0; v < m->params.count; v++)
        if (strstr(m->params.views[v].name, "/h0") || strstr(m->params.views[v].name, "/c0"))
            for (size_t k = 0; k < m->params.views[v].size; k++) CU_ASSERT(params_grad(&m->params, v)[k] == 0.0f);
    free(saved);
    free_batch(&b1), free_batch(&b2);
    model_free(m);
}

static void test_carry_gradients_detached(void) {
    check_carry_gradients(CELL_LSTM, RNN_ELMAN);
    check_carry_gradients(CELL_RNN, RNN_LECTURE);
}

static void test_carry_needs_config(void) {
    SeqModelConfig c = small_config(CELL_GRU, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    Model *m = make_model(&c, 5);
    TestBatch t = make_batch(&c, 2, 4, 3);
    t.b.carry_state = 1;
    CU_ASSERT(isnan(m->ops->eval_batch(m, &t.b, NULL)));
    CU_ASSERT(strstr(seqmodel_last_error(m), "tbptt") != NULL);
    size_t n = 99;
    CU_ASSERT(m->ops->carried_state(m, &n) == NULL && n == 0);
    free_batch(&t);
    model_free(m);
}

/* ---- learning and sampling --------------------------------------------------------------- */

static const char TEXT[] = "hello world ";
/* A character's id is its first index in TEXT ("helo wrd" → 0 1 2 4 5 6 8 10; vocab 12). After
 * 'l' or 'o' the next character depends on more than one character of context. */
static int char_id(char ch) { return (int)(strchr(TEXT, ch) - TEXT); }

/* Train a character LM on the repeated string; return the final mean loss (nats/char). */
static double train_repeated_string(Model *m, int steps, double *first_loss) {
    const int B = 4, T = 12, n = (int)strlen(TEXT);
    int32_t x[4 * 12], y[4 * 12];
    Batch b = {.B = B, .T = T, .x_tokens = x, .y_tokens = y, .Ty = T};
    OptimConfig oc = optim_defaults(OPT_ADAM);
    oc.lr = 1e-2;
    Optimizer opt;
    optim_init(&opt, &oc, m->params.total);
    Rng noise;
    rng_seed(&noise, 3);
    double loss = 0.0;
    for (int step = 0; step < steps; step++) {
        for (int r = 0; r < B; r++)
            for (int t = 0; t < T; t++) {
                int at = (step * 5 + r * 3 + t) % n;
                x[r * T + t] = char_id(TEXT[at]);
                y[r * T + t] = char_id(TEXT[(at + 1) % n]);
            }
        params_zero_grad(&m->params);
        loss = m->ops->train_batch(m, &b, &noise, NULL);
        if (step == 0 && first_loss) *first_loss = loss;
        optim_step(&opt, m->params.value, m->params.grad, oc.lr);
    }
    optim_free(&opt);
    return loss;
}

static void check_learns_and_samples(CellType cell) {
    SeqModelConfig c = fixture_seqmodel();
    c.cell = cell, c.gru_variant = GRU_PYTORCH, c.rnn_form = RNN_ELMAN;
    c.input = SEQ_INPUT_EMBED, c.vocab = (int)strlen(TEXT), c.embed_dim = 8;
    c.hidden[0] = 32, c.n_out = c.vocab, c.max_batch = 4, c.max_T = 12;
    Model *m = make_model(&c, 9);
    double first = 0.0, last = train_repeated_string(m, 300, &first);
    CU_ASSERT(first > 1.5);      /* ≈ log 12 at the start */
    CU_ASSERT(last < 0.1);       /* a row's first character is ambiguous: ≈ 0.03 is the floor */
    /* with 3 characters of context every next character is determined */
    StepStats stats = {0};
    int32_t x[4 * 12], y[4 * 12];
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < 12; t++) {
            x[r * 12 + t] = char_id(TEXT[(3 * r + t) % 12]);
            y[r * 12 + t] = t < 3 ? -1 : char_id(TEXT[(3 * r + t + 1) % 12]);
        }
    Batch b = {.B = 4, .T = 12, .x_tokens = x, .y_tokens = y, .Ty = 12};
    CU_ASSERT(m->ops->eval_batch(m, &b, &stats) < 0.02);
    CU_ASSERT(stats.count == 1 && strcmp(stats.names[0], "accuracy") == 0);
    CU_ASSERT(fabs(stats.values[0] - 4.0) < 1e-9);   /* all correct, weighted by the 4 rows */

    /* greedy sampling continues the string */
    int32_t prime[5], out[13];
    for (int k = 0; k < 5; k++) prime[k] = char_id("hello"[k]);
    CU_ASSERT(seqmodel_sample(m, prime, 5, 13, 0.0, NULL, out) == 0);
    char text[14] = {0};
    for (int k = 0; k < 13; k++) text[k] = TEXT[out[k]];
    CU_ASSERT_STRING_EQUAL(text, " world hello ");

    /* temperature sampling: the same seed gives the same text */
    int32_t a[40], bb[40];
    Rng r1, r2;
    rng_seed(&r1, 123), rng_seed(&r2, 123);
    CU_ASSERT(seqmodel_sample(m, prime, 5, 40, 1.5, &r1, a) == 0);
    CU_ASSERT(seqmodel_sample(m, prime, 5, 40, 1.5, &r2, bb) == 0);
    CU_ASSERT(memcmp(a, bb, sizeof a) == 0);
    model_free(m);
}

static void test_lstm_learns_and_samples(void) { check_learns_and_samples(CELL_LSTM); }
static void test_gru_learns_and_samples(void) { check_learns_and_samples(CELL_GRU); }

static void test_sample_errors(void) {
    SeqModelConfig c = small_config(CELL_LSTM, SEQ_INPUT_FEATURES, SEQ_HEAD_PER_STEP, LOSS_SQUARED_ERROR);
    Model *m = make_model(&c, 1);
    int32_t prime[1] = {0}, out[4];
    CU_ASSERT(seqmodel_sample(m, prime, 1, 4, 0.0, NULL, out) == -1);
    CU_ASSERT(strstr(seqmodel_last_error(m), "token input") != NULL);
    model_free(m);
    c = small_config(CELL_LSTM, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.n_out = c.vocab;
    m = make_model(&c, 1);
    prime[0] = 99;
    CU_ASSERT(seqmodel_sample(m, prime, 1, 4, 0.0, NULL, out) == -1);
    CU_ASSERT(strstr(seqmodel_last_error(m), "token 99") != NULL);
    /* a prime longer than max_T is fed in pieces */
    int32_t long_prime[20] = {0};
    CU_ASSERT(seqmodel_sample(m, long_prime, 20, 4, 0.0, NULL, out) == 0);
    model_free(m);
}

/* ---- structure, diagnostics, errors ------------------------------------------------------- */

static void collect(void *ctx, const char *line) {
    char *buf = ctx;
    strncat(buf, line, 4095 - strlen(buf));
    strncat(buf, "\n", 4095 - strlen(buf));
}

static void test_params_and_describe(void) {
    SeqModelConfig c = small_config(CELL_LSTM, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.forget_bias = 2.5f, c.dropout = 0.2f, c.init_state = SEQ_INIT_LEARNED;
    Model *m = make_model(&c, 2);
    Params *p = &m->params;
    int iw = params_find(p, "lstm1/W"), ib = params_find(p, "lstm0/b");
    CU_ASSERT_FATAL(iw >= 0 && ib >= 0);
    CU_ASSERT(p->views[iw].shape[0] == 16 && p->views[iw].shape[1] == 4 + 5);
    CU_ASSERT(strstr(p->views[iw].layout, "i,f,g,o") != NULL);
    const float *b0 = params_value(p, ib);
    for (int j = 0; j < 5; j++) CU_ASSERT(b0[5 + j] == 2.5f);        /* b_f */
    for (int j = 0; j < 5; j++) CU_ASSERT(fabsf(b0[j]) <= 1.0f / sqrtf(5.0f));
    const char *names[] = {"embed/W", "lstm0/W", "lstm0/b", "lstm0/h0", "lstm0/c0", "lstm1/W", "lstm1/b",
                           "lstm1/h0", "lstm1/c0", "head/W", "head/b"};
    CU_ASSERT(p->count == 11);
    for (int k = 0; k < 11; k++) CU_ASSERT(params_find(p, names[k]) >= 0);
    char text[4096] = {0};
    m->ops->describe(m, collect, text);
    CU_ASSERT(strstr(text, "lstm0") && strstr(text, "lstm1") && strstr(text, "dropout") && strstr(text, "head"));
    /* lstm0: 4·5·(5+3) + 20 + 5 + 5 = 190 parameters */
    CU_ASSERT(strstr(text, "190 params") != NULL);
    size_t total = 0;
    for (int k = 0; k < p->count; k++) total += p->views[k].size;
    char want[64];
    snprintf(want, sizeof want, "total    %zu parameters", total);
    CU_ASSERT(strstr(text, want) != NULL);
    model_free(m);

    c = small_config(CELL_GRU, SEQ_INPUT_FEATURES, SEQ_HEAD_LAST_STEP, LOSS_SQUARED_ERROR);
    c.gru_variant = GRU_PYTORCH;
    m = make_model(&c, 2);
    CU_ASSERT(params_find(&m->params, "gru0/b_hn") >= 0 && params_find(&m->params, "embed/W") < 0);
    model_free(m);
    c.cell = CELL_RNN, c.rnn_form = RNN_LECTURE;
    m = make_model(&c, 2);
    CU_ASSERT(params_find(&m->params, "rnn0/W") >= 0 && params_find(&m->params, "rnn0/b") < 0);
    model_free(m);
}

static void test_grad_norms_diagnostic(void) {
    SeqModelConfig c = small_config(CELL_RNN, SEQ_INPUT_FEATURES, SEQ_HEAD_LAST_STEP, LOSS_SQUARED_ERROR);
    c.rnn_form = RNN_ELMAN;
    Model *m = make_model(&c, 6);
    TestBatch t = make_batch(&c, 3, 7, 4);
    int T = -1;
    Rng noise;
    rng_seed(&noise, 1);
    for (int k = 0; k < 2; k++) m->ops->train_batch(m, &t.b, &noise, NULL);
    const double *norms = seqmodel_grad_norms(m, &T);
    CU_ASSERT(T == 7 && seqmodel_grad_norm_batches(m) == 2);
    for (int k = 0; k < 7; k++) CU_ASSERT(norms[k] > 0.0);
    CU_ASSERT(norms[7] == 0.0);
    /* a last-step head: everything before T came back through time, and tanh shrinks it */
    CU_ASSERT(norms[0] < norms[6]);
    CU_ASSERT(seqmodel_grad_norms_layer(m, 0, &T) != NULL && seqmodel_grad_norms_layer(m, 2, NULL) == NULL);
    seqmodel_reset_grad_norms(m);
    norms = seqmodel_grad_norms(m, &T);
    CU_ASSERT(T == 0 && norms[0] == 0.0 && seqmodel_grad_norm_batches(m) == 0);
    m->ops->eval_batch(m, &t.b, NULL);   /* evaluation does not count */
    CU_ASSERT(seqmodel_grad_norm_batches(m) == 0);
    free_batch(&t);
    model_free(m);
}

static void test_bad_config_and_batches(void) {
    ExError err = {{0}};
    Model *m = NULL;
    Rng rng;
    rng_seed(&rng, 1);
    SeqModelConfig c = small_config(CELL_LSTM, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    c.embed_dim = 0;
    CU_ASSERT(seqmodel_create(&m, &c, &rng, &err) == -1 && m == NULL);
    CU_ASSERT(strstr(err.msg, "embed_dim") != NULL);
    c = small_config(CELL_RNN, SEQ_INPUT_FEATURES, SEQ_HEAD_PER_STEP, LOSS_SQUARED_ERROR);
    c.rnn_act = ACT_SOFTMAX;
    CU_ASSERT(seqmodel_create(&m, &c, &rng, &err) == -1 && strstr(err.msg, "softmax") != NULL);
    c.rnn_act = ACT_TANH, c.loss = LOSS_CROSS_ENTROPY;
    CU_ASSERT(seqmodel_create(&m, &c, &rng, &err) == -1 && strstr(err.msg, "cross_entropy") != NULL);
    c.loss = LOSS_SQUARED_ERROR, c.num_layers = 0;
    CU_ASSERT(seqmodel_create(&m, &c, &rng, &err) == -1 && strstr(err.msg, "num_layers") != NULL);
    c.num_layers = 2, c.dropout = 1.0f;
    CU_ASSERT(seqmodel_create(&m, &c, &rng, &err) == -1 && strstr(err.msg, "dropout") != NULL);

    c = small_config(CELL_LSTM, SEQ_INPUT_EMBED, SEQ_HEAD_PER_STEP, LOSS_SOFTMAX_CROSS_ENTROPY);
    m = make_model(&c, 1);
    TestBatch t = make_batch(&c, 2, 5, 1);
    t.x_tokens[3] = 6;
    CU_ASSERT(isnan(m->ops->train_batch(m, &t.b, NULL, NULL)));
    CU_ASSERT(strstr(seqmodel_last_error(m), "token 6 at position 3") != NULL);
    t.x_tokens[3] = 0;
    t.y_tokens[2] = 5;
    CU_ASSERT(isnan(m->ops->eval_batch(m, &t.b, NULL)));
    CU_ASSERT(strstr(seqmodel_last_error(m), "target token 5") != NULL);
    t.y_tokens[2] = -1;
    t.b.T = 9;
    CU_ASSERT(isnan(m->ops->eval_batch(m, &t.b, NULL)) && strstr(seqmodel_last_error(m), "max_T") != NULL);
    t.b.T = 5;
    t.b.B = 5;
    CU_ASSERT(isnan(m->ops->eval_batch(m, &t.b, NULL)) && strstr(seqmodel_last_error(m), "max_batch") != NULL);
    t.b.B = 2;
    CU_ASSERT(isfinite(m->ops->eval_batch(m, &t.b, NULL)));
    free_batch(&t);
    model_free(m);
}

int main(void) {
    const TestCase cases[] = {
        {"embedding through the layer above: summed by token, then W_x", test_embedding_through},
        {"embedding gather, scatter-add, one-hot", test_embedding},
        {"dropout mask statistics, eval identity", test_dropout_statistics},
        {"gradcheck lstm, embedding, per-step ce", test_grad_lstm_embed_per_step_ce},
        {"gradcheck lstm, features, last-step se, learned h0/c0", test_grad_lstm_features_last_step_se_learned},
        {"gradcheck lstm 3 layers, one-hot, dropout", test_grad_lstm_dropout},
        {"gradcheck gru cho, one-hot, last-step ce, learned h0", test_grad_gru_cho_onehot_last_step_learned},
        {"gradcheck gru pytorch, features, per-step se", test_grad_gru_pytorch_features_per_step_se},
        {"gradcheck rnn lecture tanh, features, last-step se", test_grad_rnn_lecture_tanh_features_last_step},
        {"gradcheck rnn lecture relu, embedding", test_grad_rnn_lecture_relu_embed},
        {"gradcheck gru pytorch, embedding, last step", test_grad_gru_pytorch_embed_last_step},
        {"gradcheck rnn elman relu, one-hot, dropout", test_grad_rnn_elman_relu_onehot_dropout},
        {"carried state continues the sequence", test_carry_continues_sequence},
        {"carried state is detached (gradcheck)", test_carry_gradients_detached},
        {"carry_state needs tbptt_carry", test_carry_needs_config},
        {"lstm learns a repeated string and samples it", test_lstm_learns_and_samples},
        {"gru learns a repeated string and samples it", test_gru_learns_and_samples},
        {"sampling errors and long primes", test_sample_errors},
        {"parameter views, init and describe", test_params_and_describe},
        {"per-step gradient norms", test_grad_norms_diagnostic},
        {"bad configs and batches", test_bad_config_and_batches},
        {NULL, NULL},
    };
    return run_tests("seqmodel", cases);
}
