/* test_onetomany.c — one vector in, a sequence out.
 *
 * Finite differences for every parameter (lstm and gru, cross-entropy and squared error, two
 * layers, classes repeated in a batch so the state tables' rows sum); generation agrees with
 * teacher forcing on its own output; a small model learns to write one pattern per class and
 * generates it; describe and the error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5read.h"
#include "onetomany.h"
#include "optim.h"
#include "fixtures.h"
#include "runcheck.h"
#include "testutil.h"

enum { K = 3, T = 5, D = 4 };

static OneToManyConfig small_config(CellType cell, LossType loss) {
    OneToManyConfig c = fixture_onetomany();
    c.cell = cell, c.loss = loss;
    c.num_layers = 2, c.hidden[0] = 5, c.hidden[1] = 4;
    c.n_classes = K, c.steps = T, c.n_out = D;
    c.max_batch = 4;
    return c;
}

static Model *make_model(const OneToManyConfig *cfg, uint64_t seed) {
    Model *m = NULL;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, seed);
    int rc = onetomany_create(&m, cfg, &rng, &err);
    if (rc != 0) fprintf(stderr, "\n    onetomany_create: %s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    return m;
}

typedef struct GradCtx {
    Model *m;
    const Batch *b;
} GradCtx;

static double model_loss(void *ctx) {
    GradCtx *g = ctx;
    return g->m->ops->train_batch(g->m, g->b, NULL, NULL);
}

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
        double view_worst = 0.0, norm = 0.0;
        for (size_t k = 0; k < view->size; k += stride) {
            float *x = p->value + view->offset + k;
            const float *a = analytic + view->offset + k;
            /* the loss sums T·D values (≈ 15 here) while single entries move it by little, so
             * float rounding limits small steps: 1e-1 is tried too */
            double e0 = gradcheck(model_loss, g, x, a, 1, 0, 1e-1, 1e-3);
            double e1 = gradcheck(model_loss, g, x, a, 1, 0, 1e-2, 1e-3);
            double e2 = gradcheck(model_loss, g, x, a, 1, 0, 1e-3, 1e-3);
            view_worst = fmax(view_worst, fmin(e0, fmin(e1, e2)));
        }
        for (size_t k = 0; k < view->size; k++) norm += fabs(analytic[view->offset + k]);
        if (view_worst > 1e-2) fprintf(stderr, "\n    %s: %s worst error %.3g\n", what, view->name, view_worst);
        CU_ASSERT(norm > 0.0);
        worst = fmax(worst, view_worst);
    }
    free(analytic);
    return worst;
}

/* A batch of 4 sequences (B, T, D) in (0, 1), classes {2, 0, 2, 1}. */
typedef struct TestBatch {
    float x[4 * T * D];
    int32_t labels[4];
    Batch b;
} TestBatch;

static void make_batch(TestBatch *t) {
    fill_uniform(t->x, 4 * T * D, 0.05f, 0.95f, 17);
    int32_t labels[4] = {2, 0, 2, 1};
    memcpy(t->labels, labels, sizeof labels);
    memset(&t->b, 0, sizeof t->b);
    t->b.B = 4, t->b.T = T, t->b.d = D;
    t->b.x = t->x, t->b.labels = t->labels;
}

static void gradcheck_config(CellType cell, LossType loss, const char *what) {
    OneToManyConfig c = small_config(cell, loss);
    Model *m = make_model(&c, 3);
    /* state tables start at 0; move them so the check is not at a special point */
    for (int v = 0; v < m->params.count; v++)
        if (strncmp(m->params.views[v].name, "state", 5) == 0)
            fill_uniform(m->params.value + m->params.views[v].offset, m->params.views[v].size, -0.5f, 0.5f, 40 + v);
    TestBatch t;
    make_batch(&t);
    GradCtx g = {.m = m, .b = &t.b};
    CU_ASSERT(check_all_params(&g, what) < 1e-2);
    model_free(m);
}

static void test_grad_lstm_ce(void) { gradcheck_config(CELL_LSTM, LOSS_CROSS_ENTROPY, "lstm cross_entropy"); }
static void test_grad_gru_se(void) { gradcheck_config(CELL_GRU, LOSS_SQUARED_ERROR, "gru squared_error"); }

/* Teacher forcing on the generated sequence feeds exactly the inputs generation fed itself, so
 * it predicts the same sequence; the free-running loss against it is then ≈ the forced loss. */
static void test_generation_matches_teacher_forcing(void) {
    OneToManyConfig c = small_config(CELL_LSTM, LOSS_SQUARED_ERROR);
    Model *m = make_model(&c, 5);
    for (int v = 0; v < m->params.count; v++)
        if (strncmp(m->params.views[v].name, "state", 5) == 0)
            fill_uniform(m->params.value + m->params.views[v].offset, m->params.views[v].size, -0.5f, 0.5f, 60 + v);
    int32_t classes[3] = {0, 1, 2};
    float gen[3 * T * D];
    CU_ASSERT_FATAL(onetomany_generate(m, classes, 3, gen) == 0);
    /* different classes, different sequences */
    CU_ASSERT(memcmp(gen, gen + T * D, T * D * sizeof(float)) != 0);
    Batch b = {.B = 3, .T = T, .d = D, .x = gen, .labels = classes};
    StepStats st = {0};
    double loss = m->ops->eval_batch(m, &b, &st);
    CU_ASSERT(loss < 1e-9);   /* squared error of the forced pass against its own generation */
    CU_ASSERT(st.count == 1 && strcmp(st.names[0], "free_running_loss") == 0);
    CU_ASSERT(st.values[0] < 1e-9);
    model_free(m);
}

/* Three classes, each a fixed pattern of T rows of D values plus a little noise: the model learns
 * to write each class's pattern on its own. */
static void test_learns_patterns(void) {
    OneToManyConfig c = small_config(CELL_GRU, LOSS_CROSS_ENTROPY);
    c.num_layers = 1, c.hidden[0] = 16, c.max_batch = 12;
    Model *m = make_model(&c, 7);
    float pattern[K][T * D];
    Rng rng;
    rng_seed(&rng, 8);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < T * D; i++) pattern[k][i] = rng_uniform(&rng) < 0.5f ? 0.1f : 0.9f;
    float x[12 * T * D];
    int32_t labels[12];
    OptimConfig oc = optim_defaults(OPT_ADAM);
    oc.lr = 0.02;
    Optimizer opt;
    optim_init(&opt, &oc, m->params.total);
    for (int step = 0; step < 300; step++) {
        for (int r = 0; r < 12; r++) {
            labels[r] = (int32_t)rng_below(&rng, K);
            for (int i = 0; i < T * D; i++) x[r * T * D + i] = pattern[labels[r]][i] + 0.05f * (rng_uniform(&rng) - 0.5f);
        }
        Batch b = {.B = 12, .T = T, .d = D, .x = x, .labels = labels};
        params_zero_grad(&m->params);
        CU_ASSERT_FATAL(isfinite(m->ops->train_batch(m, &b, NULL, NULL)));
        optim_step(&opt, m->params.value, m->params.grad, oc.lr);
    }
    int32_t classes[K] = {0, 1, 2};
    float gen[K * T * D];
    CU_ASSERT_FATAL(onetomany_generate(m, classes, K, gen) == 0);
    double worst = 0.0;
    for (int k = 0; k < K; k++)
        for (int i = 0; i < T * D; i++) worst = fmax(worst, fabs(gen[k * T * D + i] - pattern[k][i]));
    if (worst > 0.15) fprintf(stderr, "\n    worst generated value off by %.3f\n", worst);
    CU_ASSERT(worst < 0.15);
    optim_free(&opt);
    model_free(m);
}

static void collect(void *ctx, const char *line) {
    strncat((char *)ctx, line, 4000 - strlen((char *)ctx));
    strncat((char *)ctx, "\n", 4000 - strlen((char *)ctx));
}

static void test_describe_and_errors(void) {
    OneToManyConfig c = small_config(CELL_LSTM, LOSS_CROSS_ENTROPY);
    Model *m = make_model(&c, 1);
    char text[4096] = "";
    m->ops->describe(m, collect, text);
    CU_ASSERT(strstr(text, "state0/h") != NULL && strstr(text, "lstm1/W") != NULL && strstr(text, "head/W") != NULL);
    CU_ASSERT(params_find(&m->params, "state1/c") >= 0);
    CU_ASSERT(strcmp(m->ops->family, "one_to_many") == 0 && m->ops->write_results && !m->ops->sample);
    TestBatch t;
    make_batch(&t);
    t.labels[1] = K;
    CU_ASSERT(isnan(m->ops->train_batch(m, &t.b, NULL, NULL)));
    CU_ASSERT(strstr(onetomany_last_error(m), "class 3 of row 1") != NULL);
    t.labels[1] = 0;
    t.b.T = T + 1;
    CU_ASSERT(isnan(m->ops->eval_batch(m, &t.b, NULL)));
    CU_ASSERT(strstr(onetomany_last_error(m), "writes (B, 5, 4)") != NULL);
    t.b.T = T;
    CU_ASSERT(isfinite(m->ops->train_batch(m, &t.b, NULL, NULL)));
    model_free(m);
    Model *bad = NULL;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, 1);
    c.loss = LOSS_SOFTMAX_CROSS_ENTROPY;
    CU_ASSERT(onetomany_create(&bad, &c, &rng, &err) == -1 && bad == NULL);
}

/* ---- through exprun ------------------------------------------------------------------------- */

/* exprun trains a one_to_many spec on IDX images with labels and writes one generated image per
 * class into results.h5; the shipped config validates. */
static void test_exprun(void) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s validate %s/configs/fashion_generate.yaml > /dev/null 2>&1", exprun_bin(),
             source_dir());
    /* the Fashion-MNIST package may be missing on a build machine: only check when it is there */
    FILE *probe = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (probe) {
        fclose(probe);
        CU_ASSERT(run_command(cmd) == 0);
    }
    char *tmp = make_temp_dir("otm");
    CU_ASSERT_FATAL(tmp != NULL);
    char images[1024], labels[1024], spec[1024];
    snprintf(images, sizeof images, "%s/img.idx", tmp);
    snprintf(labels, sizeof labels, "%s/lab.idx", tmp);
    CU_ASSERT_FATAL(fixture_write_idx(images, labels, 60, 6, 5, 3) == 0);
    snprintf(spec, sizeof spec, "%s/gen.yaml", tmp);
    FILE *f = fopen(spec, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "version: 1\nname: gen\nthreads: 1\n"
               "data: {source: idx, path: %s, labels: %s, test_path: %s, test_labels: %s, as_sequence: true, "
               "scale: unit}\n"
               "model: {type: one_to_many, cell: gru, units: [16]}\n"
               "loss: cross_entropy\noptimizer: {type: adam, lr: 0.02}\ntrain: {epochs: 30, batch_size: 12}\n"
               "output: {root: %s/results}\n", images, labels, images, labels, tmp);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s --quiet --out %s/run > %s/log 2>&1", exprun_bin(), spec, tmp, tmp);
    CU_ASSERT(run_command(cmd) == 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/run/metrics.csv", tmp);
    char *metrics = rc_slurp(path);   /* the throughput unit: rows written per second */
    CU_ASSERT(metrics && strstr(metrics, "steps_per_sec") && strstr(metrics, "samples_per_sec"));
    free(metrics);
    snprintf(path, sizeof path, "%s/run/results.h5", tmp);
    H5Reader *r = NULL;
    ExError err = {{0}};
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    float gen[3 * 6 * 5];
    int32_t classes[3];
    CU_ASSERT(h5r_read_floats(r, "/generated/images", 3, (int[]){3, 6, 5}, gen, &err) == 0);
    CU_ASSERT(h5r_read_int32s(r, "/generated/classes", 1, (int[]){3}, classes, &err) == 0);
    CU_ASSERT(classes[0] == 0 && classes[2] == 2);
    /* each class's band is bright in its generated image and the other rows are dark */
    int wrong = 0;
    for (int k = 0; k < 3; k++)
        for (int row = 0; row < 6; row++)
            for (int c = 0; c < 5; c++) {
                float v = gen[(k * 6 + row) * 5 + c];
                wrong += row % 3 == k ? v < 0.5f : v > 0.5f;
            }
    CU_ASSERT(wrong == 0);
    h5r_close(r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    run_command(cmd);
    free(tmp);
}

int main(void) {
    static const TestCase cases[] = {
        {"gradcheck lstm 2 layers, cross_entropy", test_grad_lstm_ce},
        {"gradcheck gru 2 layers, squared_error", test_grad_gru_se},
        {"generation agrees with teacher forcing", test_generation_matches_teacher_forcing},
        {"learns one pattern per class", test_learns_patterns},
        {"describe and errors", test_describe_and_errors},
        {"exprun: a run writes one generated image per class", test_exprun},
        {NULL, NULL},
    };
    return run_tests("one_to_many", cases);
}
