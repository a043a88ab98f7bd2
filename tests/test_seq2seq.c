/* test_seq2seq.c — the encoder–decoder family and its generated tasks.
 *
 * Finite differences for every parameter (lstm, gru pytorch, gru cho; two layers; inputs and
 * outputs of different lengths within the batch); masking: pad positions of the input hold
 * garbage and nothing changes, bit for bit, and a padded batch equals its rows run one at a
 * time; greedy decoding agrees with teacher forcing on its own output; beam search (width 1 =
 * greedy, wider never scores worse, its score is the model's); learning to reverse strings;
 * the reversal and addition generators; describe and the error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tasks.h"
#include "h5read.h"
#include "optim.h"
#include "seq2seq.h"
#include "spec/spec.h"
#include "fixtures.h"
#include "testutil.h"

enum { PAD = 0, GO = 1, END = 2 };

static Seq2SeqConfig small_config(CellType cell, GruVariant v) {
    Seq2SeqConfig c = fixture_seq2seq();
    c.cell = cell, c.gru_variant = v;
    c.num_layers = 2, c.hidden[0] = 5, c.hidden[1] = 4;
    c.vocab_in = 7, c.vocab_out = 6, c.embed_dim = 3;
    c.pad_token = PAD, c.go_token = GO, c.end_token = END;
    c.max_batch = 4, c.max_Tx = 6, c.max_Ty = 5;
    return c;
}

static Model *make_model(const Seq2SeqConfig *cfg, uint64_t seed) {
    Model *m = NULL;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, seed);
    int rc = seq2seq_create(&m, cfg, &rng, &err);
    if (rc != 0) fprintf(stderr, "\n    seq2seq_create: %s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    return m;
}

/* Three rows, inputs of lengths 5, 2, 3 (Tx = 6, so every row has padding) and outputs of 4, 1
 * and 3 targets (Ty = 5). */
static int32_t X3[3 * 6] = {3, 4, 5, 6, 3, PAD,
                            6, 5, PAD, PAD, PAD, PAD,
                            4, 4, 3, PAD, PAD, PAD};
static int32_t Y3[3 * 5] = {3, 4, 5, END, -1,
                            END, -1, -1, -1, -1,
                            5, 3, END, -1, -1};

static Batch batch3(const int32_t *x, const int32_t *y) {
    Batch b = {0};
    b.B = 3, b.T = 6, b.Ty = 5;
    b.x_tokens = x, b.y_tokens = y;
    return b;
}

/* ---- gradient checks ---------------------------------------------------------------------------- */

typedef struct GradCtx {
    Model *m;
    const Batch *b;
} GradCtx;

static double model_loss(void *ctx) {
    GradCtx *g = ctx;
    return g->m->ops->train_batch(g->m, g->b, NULL, NULL);
}

/* Worst error over (up to 24 entries of) every view, at steps 1e-2 and 1e-3, the better kept. */
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
        double view_worst = 0.0, view_norm = 0.0;
        for (size_t k = 0; k < view->size; k += stride) {
            float *x = p->value + view->offset + k;
            const float *a = analytic + view->offset + k;
            double e1 = gradcheck(model_loss, g, x, a, 1, 0, 1e-2, 1e-3);
            double e2 = gradcheck(model_loss, g, x, a, 1, 0, 1e-3, 1e-3);
            view_worst = fmax(view_worst, fmin(e1, e2));
        }
        for (size_t k = 0; k < view->size; k++) view_norm += fabs(analytic[view->offset + k]);
        if (view_worst > 1e-2) fprintf(stderr, "\n    %s: %s worst error %.3g\n", what, view->name, view_worst);
        /* a check against an all-zero gradient could not fail: every view must get some */
        if (view_norm == 0.0) fprintf(stderr, "\n    %s: %s has no gradient at all\n", what, view->name);
        CU_ASSERT(view_norm > 0.0);
        worst = fmax(worst, view_worst);
    }
    free(analytic);
    return worst;
}

static void gradcheck_cell(CellType cell, GruVariant v, const char *what) {
    Seq2SeqConfig c = small_config(cell, v);
    Model *m = make_model(&c, 11);
    Batch b = batch3(X3, Y3);
    GradCtx g = {.m = m, .b = &b};
    CU_ASSERT(check_all_params(&g, what) < 1e-2);
    model_free(m);
}

static void test_grad_lstm(void) { gradcheck_cell(CELL_LSTM, GRU_PYTORCH, "lstm"); }
static void test_grad_gru_pytorch(void) { gradcheck_cell(CELL_GRU, GRU_PYTORCH, "gru pytorch"); }
static void test_grad_gru_cho(void) { gradcheck_cell(CELL_GRU, GRU_CHO, "gru cho"); }

/* ---- masking ------------------------------------------------------------------------------------ */

static float *grads_of(Model *m, const Batch *b, double *loss) {
    params_zero_grad(&m->params);
    *loss = m->ops->train_batch(m, b, NULL, NULL);
    float *g = malloc(m->params.total * sizeof(float));
    memcpy(g, m->params.grad, m->params.total * sizeof(float));
    return g;
}

/* Whatever sits after a row's first PAD is never read: garbage there leaves the loss and every
 * gradient bit for bit the same, and the PAD token's embedding gets exactly zero gradient. */
static void masking_garbage(CellType cell) {
    Seq2SeqConfig c = small_config(cell, GRU_PYTORCH);
    Model *m = make_model(&c, 3);
    Batch b = batch3(X3, Y3);
    double loss_clean, loss_garbage;
    float *clean = grads_of(m, &b, &loss_clean);
    int32_t xg[3 * 6];
    memcpy(xg, X3, sizeof xg);
    Rng rng;
    rng_seed(&rng, 9);
    for (int r = 0; r < 3; r++) {
        int seen_pad = 0;
        for (int t = 0; t < 6; t++) {
            if (seen_pad) xg[r * 6 + t] = (int32_t)rng_below(&rng, 7);   /* any token, PAD included */
            seen_pad |= X3[r * 6 + t] == PAD;
        }
    }
    CU_ASSERT(memcmp(xg, X3, sizeof xg) != 0);
    Batch bg = batch3(xg, Y3);
    float *garbage = grads_of(m, &bg, &loss_garbage);
    CU_ASSERT(loss_clean == loss_garbage);
    size_t differ = 0;
    for (size_t k = 0; k < m->params.total; k++) differ += clean[k] != garbage[k];
    CU_ASSERT(differ == 0);
    /* PAD's row of embed_in: only ever read at padded steps */
    int iE = params_find(&m->params, "embed_in/W");
    CU_ASSERT_FATAL(iE >= 0);
    const float *gE = clean + m->params.views[iE].offset;
    for (int e = 0; e < c.embed_dim; e++) CU_ASSERT(gE[PAD * c.embed_dim + e] == 0.0f);
    free(clean);
    free(garbage);
    model_free(m);
}

static void test_masking_garbage_lstm(void) { masking_garbage(CELL_LSTM); }
static void test_masking_garbage_gru(void) { masking_garbage(CELL_GRU); }

/* The padded batch is its rows run alone (unpadded, Tx = n_b, Ty = m_b): the loss is the mean
 * per target token, so batch loss · Σ m_b = Σ_b loss_b · m_b, and the same for every gradient. */
static void masking_rows_alone(CellType cell) {
    Seq2SeqConfig c = small_config(cell, GRU_CHO);
    Model *m = make_model(&c, 5);
    Batch b = batch3(X3, Y3);
    double loss;
    float *batch = grads_of(m, &b, &loss);
    int xlen[3] = {5, 2, 3}, ylen[3] = {4, 1, 3}, total = 8;
    double sum_loss = 0.0;
    double *sum = calloc(m->params.total, sizeof(double));
    for (int r = 0; r < 3; r++) {
        Batch one = {0};
        one.B = 1, one.T = xlen[r], one.Ty = ylen[r];
        one.x_tokens = X3 + r * 6, one.y_tokens = Y3 + r * 5;
        double l;
        float *g = grads_of(m, &one, &l);
        sum_loss += l * ylen[r];
        for (size_t k = 0; k < m->params.total; k++) sum[k] += (double)g[k] * ylen[r];
        free(g);
    }
    CU_ASSERT(fabs(loss * total - sum_loss) < 1e-5 * fabs(sum_loss));
    double worst = 0.0, scale = 0.0;
    for (size_t k = 0; k < m->params.total; k++) {
        worst = fmax(worst, fabs((double)batch[k] * total - sum[k]));
        scale = fmax(scale, fabs(sum[k]));
    }
    CU_ASSERT(worst < 1e-5 * scale);
    free(sum);
    free(batch);
    model_free(m);
}

static void test_masking_rows_alone_lstm(void) { masking_rows_alone(CELL_LSTM); }
static void test_masking_rows_alone_gru(void) { masking_rows_alone(CELL_GRU); }

/* ---- decoding ------------------------------------------------------------------------------------ */

/* Teacher forcing on the greedy output reproduces it: at every step the argmax of the forced
 * pass is the greedy token, so the eval stats say 100% on those targets. */
static void test_greedy_agrees_with_teacher_forcing(void) {
    Seq2SeqConfig c = small_config(CELL_LSTM, GRU_PYTORCH);
    Model *m = make_model(&c, 21);
    int32_t out[3 * 5];
    CU_ASSERT_FATAL(seq2seq_greedy(m, X3, 3, 6, 5, out, NULL) == 0);
    /* targets: the greedy tokens up to and with the first END, −1 after */
    int32_t y[3 * 5];
    int targets = 0;
    for (int r = 0; r < 3; r++) {
        int ended = 0;
        for (int t = 0; t < 5; t++) {
            y[r * 5 + t] = ended ? -1 : out[r * 5 + t];
            targets += !ended;
            ended |= out[r * 5 + t] == END;
        }
    }
    CU_ASSERT(targets > 3);
    Batch b = batch3(X3, y);
    StepStats st = {0};
    double loss = m->ops->eval_batch(m, &b, &st);
    CU_ASSERT(isfinite(loss));
    for (int i = 0; i < st.count; i++) {
        if (strcmp(st.names[i], "exact_match") == 0) CU_ASSERT(st.values[i] == 3.0);
        if (strcmp(st.names[i], "accuracy") == 0) CU_ASSERT(fabs(st.values[i] - 3.0) < 1e-9);
        if (strcmp(st.names[i], "greedy_token_accuracy") == 0) CU_ASSERT(fabs(st.values[i] - 3.0) < 1e-9);
    }
    CU_ASSERT(st.count == 3);
    /* and the given targets are (almost surely) not what an untrained model writes */
    Batch real = batch3(X3, Y3);
    StepStats st2 = {0};
    m->ops->eval_batch(m, &real, &st2);
    for (int i = 0; i < st2.count; i++)
        if (strcmp(st2.names[i], "exact_match") == 0) CU_ASSERT(st2.values[i] < 3.0);
    model_free(m);
}

static void test_beam(void) {
    Seq2SeqConfig c = small_config(CELL_GRU, GRU_PYTORCH);
    c.max_Ty = 6;
    Model *m = make_model(&c, 8);
    for (int r = 0; r < 3; r++) {
        const int32_t *x = X3 + r * 6;
        int32_t greedy[6], beam1[6], beam4[6];
        double lp1, lp4, score;
        CU_ASSERT_FATAL(seq2seq_greedy(m, x, 1, 6, 6, greedy, NULL) == 0);
        CU_ASSERT_FATAL(seq2seq_beam(m, x, 6, 1, 6, beam1, &lp1) == 0);
        CU_ASSERT(memcmp(greedy, beam1, sizeof greedy) == 0);
        CU_ASSERT_FATAL(seq2seq_beam(m, x, 6, 4, 6, beam4, &lp4) == 0);
        CU_ASSERT(lp4 >= lp1 - 1e-9);
        /* the score beam search reports is the model's log p of that output */
        int32_t y[6];
        int ended = 0, finished = 0;
        for (int t = 0; t < 6; t++) {
            y[t] = ended ? -1 : beam4[t];
            finished |= beam4[t] == END;
            ended |= beam4[t] == END;
        }
        if (finished) {
            CU_ASSERT_FATAL(seq2seq_score(m, x, 6, y, 6, &score) == 0);
            CU_ASSERT(fabs(score - lp4) < 1e-4 * (1.0 + fabs(lp4)));
        }
    }
    model_free(m);
}

/* ---- learning ------------------------------------------------------------------------------------ */

/* A GRU encoder–decoder learns to reverse strings over 4 letters, lengths 1..4, and gets held-out
 * strings right (generated in the same call, so disjoint from the training ones). */
static void test_learns_reversal(void) {
    Dataset all;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, 4);
    CU_ASSERT_FATAL(task_reverse(&all, 600, 4, 1, 5, &rng, &err) == 0);   /* of 1364 possible */
    int n_train = 500;
    Seq2SeqConfig c = fixture_seq2seq();
    c.cell = CELL_GRU;
    c.hidden[0] = 32;
    c.embed_dim = 8;
    c.vocab_in = c.vocab_out = all.vocab;
    c.pad_token = S2S_PAD, c.go_token = S2S_GO, c.end_token = S2S_END;
    c.max_batch = 100, c.max_Tx = all.T, c.max_Ty = all.Ty;
    Model *m = make_model(&c, 2);
    OptimConfig oc = optim_defaults(OPT_ADAM);
    oc.lr = 0.01;
    Optimizer opt;
    optim_init(&opt, &oc, m->params.total);
    int32_t rows[20];
    double first = 0.0, last = 0.0;
    for (int step = 0; step < 1000; step++) {
        int B = 20;
        for (int i = 0; i < B; i++) rows[i] = (int32_t)rng_below(&rng, (uint64_t)n_train);
        Dataset bd = dataset_slice(&all, rows, B);
        Batch b = {.B = B, .T = bd.T, .Ty = bd.Ty, .x_tokens = bd.x_tokens, .y_tokens = bd.y_tokens};
        params_zero_grad(&m->params);
        double loss = m->ops->train_batch(m, &b, NULL, NULL);
        if (step == 0) first = loss;
        last = loss;
        optim_step(&opt, m->params.value, m->params.grad, oc.lr);
        dataset_free(&bd);
    }
    CU_ASSERT(last < 0.2 * first);
    Batch test = {.B = 100, .T = all.T, .Ty = all.Ty, .x_tokens = all.x_tokens + (size_t)n_train * all.T,
                  .y_tokens = all.y_tokens + (size_t)n_train * all.Ty};
    StepStats st = {0};
    m->ops->eval_batch(m, &test, &st);
    double exact = -1;
    for (int i = 0; i < st.count; i++)
        if (strcmp(st.names[i], "exact_match") == 0) exact = st.values[i] / 100.0;
    if (exact < 0.9) fprintf(stderr, "\n    held-out exact match %.2f (loss %.3f → %.3f)\n", exact, first, last);
    CU_ASSERT(exact >= 0.9);
    optim_free(&opt);
    model_free(m);
    dataset_free(&all);
}

/* ---- generators ------------------------------------------------------------------------------------ */

static void test_reverse_task(void) {
    Dataset ds;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, 1);
    CU_ASSERT_FATAL(task_reverse(&ds, 500, 8, 3, 7, &rng, &err) == 0);
    CU_ASSERT(ds.T == 7 && ds.Ty == 8 && ds.vocab == 11 && ds.n == 500);
    int lengths[8] = {0};
    for (int i = 0; i < ds.n; i++) {
        const int32_t *x = ds.x_tokens + i * 7, *y = ds.y_tokens + i * 8;
        int L = 0;
        while (L < 7 && x[L] != S2S_PAD) L++;
        CU_ASSERT(L >= 3 && L <= 7);
        lengths[L]++;
        for (int t = L; t < 7; t++) CU_ASSERT(x[t] == S2S_PAD);
        for (int t = 0; t < L; t++) CU_ASSERT(x[t] >= 3 && x[t] < 11 && y[t] == x[L - 1 - t]);
        CU_ASSERT(y[L] == S2S_END);
        for (int t = L + 1; t < 8; t++) CU_ASSERT(y[t] == -1);
        for (int j = 0; j < i; j++) CU_ASSERT(memcmp(x, ds.x_tokens + j * 7, 7 * sizeof(int32_t)) != 0);
    }
    for (int L = 3; L <= 7; L++) CU_ASSERT(lengths[L] > 60);   /* ~100 each */
    char text[16];
    int32_t abc[4] = {3, 4, 5, S2S_END};
    CU_ASSERT_STRING_EQUAL(s2s_tokens_text(text, sizeof text, abc, 4, REVERSE_CHARS), "abc$");
    dataset_free(&ds);

    CU_ASSERT(task_reverse(&ds, 10, 5, 4, 3, &rng, &err) == -1);
    CU_ASSERT(strstr(err.msg, "min_length") != NULL);
    CU_ASSERT(task_reverse(&ds, 10, 63, 1, 3, &rng, &err) == -1);
    CU_ASSERT(task_reverse(&ds, 20, 2, 1, 3, &rng, &err) == -1);   /* 14 strings exist */
    CU_ASSERT(strstr(err.msg, "distinct") != NULL);
}

/* Parse a number written in tokens (most or least significant digit first). */
static long long parse_number(const int32_t *tok, int n, int reversed) {
    long long v = 0;
    for (int k = 0; k < n; k++) v = 10 * v + (tok[reversed ? n - 1 - k : k] - S2S_FIRST_CHAR);
    return v;
}

static void check_addition(int reversed) {
    Dataset ds;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, 2);
    CU_ASSERT_FATAL(task_addition(&ds, 2000, 3, reversed, &rng, &err) == 0);
    CU_ASSERT(ds.T == 7 && ds.Ty == 5 && ds.vocab == 14);
    const int PLUS = S2S_FIRST_CHAR + 10;
    int long_answers = 0, digit_counts[4] = {0};
    for (int i = 0; i < ds.n; i++) {
        const int32_t *x = ds.x_tokens + i * 7, *y = ds.y_tokens + i * 5;
        int plus = 0, len = 0, m = 0;
        while (x[plus] != PLUS) plus++;
        while (len < 7 && x[len] != S2S_PAD) len++;
        while (y[m] != S2S_END) m++;
        CU_ASSERT_FATAL(plus >= 1 && plus <= 3 && len - plus - 1 >= 1 && len - plus - 1 <= 3);
        digit_counts[plus]++;
        long long a = parse_number(x, plus, reversed), b = parse_number(x + plus + 1, len - plus - 1, reversed);
        long long sum = parse_number(y, m, reversed);
        CU_ASSERT(a + b == sum);
        /* no leading zeros in normal writing order (a one-digit 0 is fine) */
        const int32_t *lead = reversed ? x + plus - 1 : x;
        CU_ASSERT(plus == 1 || *lead != S2S_FIRST_CHAR);
        long_answers += m == 4;
        for (int t = m + 1; t < 5; t++) CU_ASSERT(y[t] == -1);
    }
    CU_ASSERT(long_answers > 0);
    for (int d = 1; d <= 3; d++) CU_ASSERT(digit_counts[d] > 400);   /* ~667 each */
    char text[16];
    s2s_tokens_text(text, sizeof text, ds.x_tokens, 7, ADDITION_CHARS);
    CU_ASSERT(strchr(text, '+') != NULL);
    dataset_free(&ds);
}

static void test_addition_task(void) {
    check_addition(0);
    check_addition(1);
    /* the same draws in both orders: reversed is the same sums written backwards */
    Dataset a, b;
    ExError err = {{0}};
    Rng r1, r2;
    rng_seed(&r1, 3), rng_seed(&r2, 3);
    CU_ASSERT_FATAL(task_addition(&a, 50, 2, 0, &r1, &err) == 0);
    CU_ASSERT_FATAL(task_addition(&b, 50, 2, 1, &r2, &err) == 0);
    int32_t row[8];
    char ta[16], tb[16];
    s2s_tokens_text(ta, sizeof ta, a.y_tokens, a.Ty, ADDITION_CHARS);
    int m = 0;
    while (b.y_tokens[m] != S2S_END) m++;
    for (int k = 0; k < m; k++) row[k] = b.y_tokens[m - 1 - k];
    row[m] = S2S_END;
    s2s_tokens_text(tb, sizeof tb, row, m + 1, ADDITION_CHARS);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    dataset_free(&a);
    dataset_free(&b);
    CU_ASSERT(task_addition(&a, 60, 1, 0, &r1, &err) == -1);   /* 100 sums of one-digit numbers */
    CU_ASSERT(task_addition(&a, 10, 10, 0, &r1, &err) == -1);
}

/* ---- describe and errors ---------------------------------------------------------------------------- */

static void collect(void *ctx, const char *line) {
    strncat((char *)ctx, line, 4000 - strlen((char *)ctx));
    strncat((char *)ctx, "\n", 4000 - strlen((char *)ctx));
}

static void test_describe_and_names(void) {
    Seq2SeqConfig c = small_config(CELL_LSTM, GRU_PYTORCH);
    Model *m = make_model(&c, 1);
    char text[4096] = "";
    m->ops->describe(m, collect, text);
    CU_ASSERT(strstr(text, "enc_lstm0/W") != NULL);
    CU_ASSERT(strstr(text, "dec_lstm1/W") != NULL);
    CU_ASSERT(strstr(text, "embed_out/W") != NULL);
    CU_ASSERT(strstr(text, "head/W") != NULL);
    const char *names[] = {"embed_in/W", "enc_lstm0/W", "enc_lstm0/b", "enc_lstm1/W", "embed_out/W", "dec_lstm0/W",
                           "dec_lstm1/b", "head/W", "head/b"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) CU_ASSERT(params_find(&m->params, names[k]) >= 0);
    CU_ASSERT(strcmp(m->ops->family, "seq2seq") == 0 && m->ops->write_results && !m->ops->codes);
    CU_ASSERT(strcmp(m->ops->family, "seq2seq") == 0);
    model_free(m);
}

static void test_errors(void) {
    Seq2SeqConfig c = small_config(CELL_GRU, GRU_PYTORCH);
    Model *m = make_model(&c, 1);
    int32_t x[3 * 6], y[3 * 5];
    memcpy(x, X3, sizeof x), memcpy(y, Y3, sizeof y);
    Batch b = batch3(x, y);
    x[6] = PAD;   /* row 1 now empty */
    CU_ASSERT(isnan(m->ops->train_batch(m, &b, NULL, NULL)));
    CU_ASSERT(strstr(seq2seq_last_error(m), "row 1 is empty") != NULL);
    x[6] = 6;
    y[5 + 2] = 4;   /* row 1: END, −1, 4 */
    CU_ASSERT(isnan(m->ops->train_batch(m, &b, NULL, NULL)));
    CU_ASSERT(strstr(seq2seq_last_error(m), "after padding") != NULL);
    y[5 + 2] = -1;
    y[0] = 6;       /* outside vocab_out 6 */
    CU_ASSERT(isnan(m->ops->eval_batch(m, &b, NULL)));
    CU_ASSERT(strstr(seq2seq_last_error(m), "outside") != NULL);
    y[0] = 3;
    b.T = 7;        /* > max_Tx */
    CU_ASSERT(isnan(m->ops->train_batch(m, &b, NULL, NULL)));
    b.T = 6;
    CU_ASSERT(isfinite(m->ops->train_batch(m, &b, NULL, NULL)));
    model_free(m);

    ExError err = {{0}};
    Model *bad = NULL;
    Rng rng;
    rng_seed(&rng, 1);
    c.go_token = c.end_token;
    CU_ASSERT(seq2seq_create(&bad, &c, &rng, &err) == -1 && bad == NULL);
    c = small_config(CELL_RNN, GRU_PYTORCH);
    CU_ASSERT(seq2seq_create(&bad, &c, &rng, &err) == -1);
    c = small_config(CELL_LSTM, GRU_PYTORCH);
    c.pad_token = 7;
    CU_ASSERT(seq2seq_create(&bad, &c, &rng, &err) == -1);
    CU_ASSERT(strstr(err.msg, "pad_token") != NULL);
}

/* ---- spec and the exprun program ------------------------------------------------------------------- */

/* Problems in a spec text (0 = valid); the first message into msg. */
static int spec_problems(const char *text, char *msg, size_t cap) {
    CfgDiags d = {0};
    CfgNode *tree = cfg_parse_string(text, strlen(text), "s.yaml", &d);
    Spec spec;
    memset(&spec, 0, sizeof spec);
    if (tree) spec_from_tree(tree, "s.yaml", &spec, &d);
    int n = d.count;
    msg[0] = '\0';
    if (n > 0) snprintf(msg, cap, "%s: %s", d.items[0].path, d.items[0].message);
    if (tree) spec_free(&spec);
    cfg_diags_free(&d);
    return n;
}

static void test_spec(void) {
    char msg[1024];
    const char *ok = "version: 1\ndata: {source: reverse, alphabet: 5, min_length: 2, max_length: 6}\n"
                     "model: {type: seq2seq, cell: gru, units: [16, 8], embed_dim: 4, beam_width: 3}\n"
                     "loss: softmax_cross_entropy\n";
    CU_ASSERT(spec_problems(ok, msg, sizeof msg) == 0);
    CfgDiags d = {0};
    Spec spec;
    CU_ASSERT_FATAL(spec_from_tree(cfg_parse_string(ok, strlen(ok), "s.yaml", &d), "s.yaml", &spec, &d) == 0);
    CU_ASSERT(spec.model.type == MODEL_SEQ2SEQ && spec.model.rec.cell == CELL_GRU);
    CU_ASSERT(spec.model.rec.n_layers == 2 && spec.model.rec.units[1] == 8 && spec.model.rec.beam_width == 3);
    CU_ASSERT(spec.data.source == DATA_REVERSE && spec.data.min_length == 2 && spec.data.max_length == 6);
    spec_free(&spec);
    cfg_diags_free(&d);
    const char *add = "version: 1\ndata: {source: addition, digits: 4, reversed_digits: true}\n"
                      "model: {type: seq2seq}\nloss: softmax_cross_entropy\n";
    CU_ASSERT(spec_problems(add, msg, sizeof msg) == 0);

    struct {
        const char *text, *expect;
    } bad[] = {
        {"version: 1\ndata: {source: parity}\nmodel: {type: seq2seq}\nloss: softmax_cross_entropy\n",
         "use data.source reverse or addition"},
        {"version: 1\ndata: {source: reverse}\nmodel: {type: gru}\nloss: softmax_cross_entropy\n",
         "use model.type: seq2seq"},
        {"version: 1\ndata: {source: addition}\nmodel: {type: seq2seq}\nloss: squared_error\n",
         "softmax_cross_entropy"},
        {"version: 1\ndata: {source: reverse, min_length: 5, max_length: 4}\nmodel: {type: seq2seq}\n"
         "loss: softmax_cross_entropy\n", "above max_length"},
        {"version: 1\ndata: {source: reverse}\nmodel: {type: seq2seq, head: per_step}\n"
         "loss: softmax_cross_entropy\n", "model.head"},
        {"version: 1\ndata: {source: reverse, digits: 3}\nmodel: {type: seq2seq}\nloss: softmax_cross_entropy\n",
         "data.digits"},
        {"version: 1\ndata: {source: reverse}\nmodel: {type: seq2seq, cell: rnn}\nloss: softmax_cross_entropy\n",
         "model.cell"},
        {"version: 1\ndata: {source: reverse}\nmodel: {type: seq2seq, beam_width: 9}\nloss: softmax_cross_entropy\n"
         "train: {batch_size: 8}\n", "beam_width"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int n = spec_problems(bad[k].text, msg, sizeof msg);
        if (n == 0 || !strstr(msg, bad[k].expect)) fprintf(stderr, "\n    case %zu: %d problems, '%s'\n", k, n, msg);
        CU_ASSERT(n > 0 && strstr(msg, bad[k].expect) != NULL);
    }
}

/* The shipped configs validate, and a small reversal run trains through exprun and reports
 * exact match on validation and test data. */
static void test_exprun(void) {
    char cmd[4096];
    const char *configs[] = {"seq2seq_reverse.yaml", "seq2seq_addition.yaml"};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s validate %s/configs/%s > /dev/null", exprun_bin(), source_dir(), configs[k]);
        CU_ASSERT(run_command(cmd) == 0);
    }
    char *tmp = make_temp_dir("s2s");
    CU_ASSERT_FATAL(tmp != NULL);
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/rev.yaml", tmp);
    FILE *f = fopen(spec, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "version: 1\nname: rev\nthreads: 1\n"
               "data: {source: reverse, alphabet: 4, min_length: 1, max_length: 4, train_size: 150, test_size: 20}\n"
               "model: {type: seq2seq, cell: lstm, units: [8], embed_dim: 4, beam_width: 2}\n"
               "loss: softmax_cross_entropy\ntrain: {epochs: 2, batch_size: 16}\noutput: {root: %s/results}\n", tmp);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s --quiet --out %s/run > %s/log 2>&1", exprun_bin(), spec, tmp, tmp);
    CU_ASSERT(run_command(cmd) == 0);
    char path[1100], header[2048] = "";
    snprintf(path, sizeof path, "%s/run/metrics.csv", tmp);
    f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fgets(header, sizeof header, f) != NULL);
    fclose(f);
    const char *cols[] = {"val_exact_match", "val_greedy_token_accuracy", "val_beam_exact_match", "test_exact_match",
                          "train_accuracy", "tokens_per_sec"};   /* the model's throughput unit (ModelOps.unit) */
    for (int k = 0; k < 6; k++) CU_ASSERT(strstr(header, cols[k]) != NULL);
    /* examples decoded as text: 16 (the batch size) of the 20 test strings */
    snprintf(path, sizeof path, "%s/run/results.h5", tmp);
    H5Reader *r = NULL;
    ExError err = {{0}};
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    size_t n_in = 0, n_tgt = 0;
    char **in = NULL, **tgt = NULL;
    CU_ASSERT(h5r_read_strings(r, "/examples/input", &n_in, &in, &err) == 0);
    CU_ASSERT(h5r_read_strings(r, "/examples/target", &n_tgt, &tgt, &err) == 0);
    CU_ASSERT(h5r_exists(r, "/examples/output"));
    CU_ASSERT(n_in == 16 && n_tgt == 16);
    for (size_t i = 0; i < n_in && i < n_tgt; i++) {
        /* the target is the input reversed, then '$' (END) */
        size_t len = strlen(in[i]);
        CU_ASSERT(strlen(tgt[i]) == len + 1 && tgt[i][len] == '$');
        for (size_t k = 0; k < len && k < strlen(tgt[i]); k++) CU_ASSERT(tgt[i][k] == in[i][len - 1 - k]);
    }
    h5r_free_strings(in, n_in);
    h5r_free_strings(tgt, n_tgt);
    h5r_close(r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    run_command(cmd);
    free(tmp);
}

int main(void) {
    static const TestCase cases[] = {
        {"gradcheck lstm 2 layers, mixed lengths", test_grad_lstm},
        {"gradcheck gru pytorch 2 layers, mixed lengths", test_grad_gru_pytorch},
        {"gradcheck gru cho 2 layers, mixed lengths", test_grad_gru_cho},
        {"masking: garbage after PAD changes nothing (lstm)", test_masking_garbage_lstm},
        {"masking: garbage after PAD changes nothing (gru)", test_masking_garbage_gru},
        {"masking: padded batch = rows alone (lstm)", test_masking_rows_alone_lstm},
        {"masking: padded batch = rows alone (gru)", test_masking_rows_alone_gru},
        {"greedy decoding agrees with teacher forcing", test_greedy_agrees_with_teacher_forcing},
        {"beam search", test_beam},
        {"learns string reversal", test_learns_reversal},
        {"reversal generator", test_reverse_task},
        {"addition generator", test_addition_task},
        {"describe and parameter names", test_describe_and_names},
        {"errors", test_errors},
        {"spec keys and combination checks", test_spec},
        {"exprun: configs validate, a small run reports exact match", test_exprun},
        {NULL, NULL},
    };
    return run_tests("seq2seq", cases);
}
