/* test_exploding.c — the lecture's exploding gradients, and clipping as the answer: a tanh RNN
 * with an orthogonal recurrent matrix, plain SGD at lr 0.1 on the adding problem (T = 100).
 * Unclipped, the loss or gradient stops being finite within 40 steps; clipped at global norm 1,
 * 60 steps stay finite. Also checks init_orthogonal: QᵀQ = I. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip.h"
#include "data/tasks.h"
#include "init.h"
#include "optim.h"
#include "seqmodel.h"
#include "fixtures.h"
#include "testutil.h"

enum { B = 50, T = 100, H = 128 };

/* Train `steps` SGD steps; returns the first step with a non-finite loss or gradient, or 0. */
static int train(int clip, int steps) {
    SeqModelConfig c = fixture_seqmodel();
    c.cell = CELL_RNN;
    c.rnn_form = RNN_ELMAN;
    c.rnn_act = ACT_TANH;
    c.num_layers = 1;
    c.hidden[0] = H;
    c.input = SEQ_INPUT_FEATURES;
    c.n_features = 2;
    c.head = SEQ_HEAD_LAST_STEP;
    c.n_out = 1;
    c.loss = LOSS_SQUARED_ERROR;
    c.max_batch = B;
    c.max_T = T;
    c.recurrent_orthogonal = 1;
    c.recurrent_gain = 1.0f;
    Model *m;
    Rng init, data_rng;
    rng_seed(&init, 1);
    rng_seed(&data_rng, 2);
    ExError err;
    CU_ASSERT_FATAL(seqmodel_create(&m, &c, &init, &err) == 0);
    Dataset ds;
    CU_ASSERT_FATAL(task_adding(&ds, B * steps, T, &data_rng, &err) == 0);
    Optimizer opt;
    OptimConfig oc = optim_defaults(OPT_SGD);
    optim_init(&opt, &oc, m->params.total);
    int bad = 0;
    for (int s = 0; s < steps && !bad; s++) {
        Batch b = {.B = B, .T = T, .d = 2, .x = ds.x + (size_t)s * B * T * 2, .Ty = 1, .dy = 1,
                   .y = ds.y + (size_t)s * B};
        params_zero_grad(&m->params);
        double loss = m->ops->train_batch(m, &b, NULL, NULL);
        double norm = grad_global_norm(m->params.grad, m->params.total);
        if (!isfinite(loss) || !isfinite(norm)) {
            bad = s + 1;
            break;
        }
        if (clip) clip_by_global_norm(m->params.grad, m->params.total, 1.0);
        optim_step(&opt, m->params.value, m->params.grad, 0.1);
    }
    optim_free(&opt);
    dataset_free(&ds);
    model_free(m);
    return bad;
}

static void test_unclipped_explodes(void) {
    int bad = train(0, 40);
    CU_ASSERT(bad > 0);
}

static void test_clipped_stays_finite(void) { CU_ASSERT_EQUAL(train(1, 60), 0); }

static void test_orthogonal(void) {
    enum { N = 16, LD = 20 };
    float W[N * LD];
    memset(W, 0, sizeof W);
    Rng r;
    rng_seed(&r, 4);
    CU_ASSERT_FATAL(init_orthogonal(W, N, LD, 2.0, &r, NULL) == 0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double dot = 0;
            for (int k = 0; k < N; k++) dot += (double)W[k * LD + i] * W[k * LD + j];
            CU_ASSERT_DOUBLE_EQUAL(dot, i == j ? 4.0 : 0.0, 1e-4);
        }
    for (int i = 0; i < N; i++) CU_ASSERT_EQUAL(W[i * LD + N], 0.0f); /* outside the block untouched */
}

/* The same Q whatever OpenBLAS's thread count (its blocked QR runs on one thread), and that
 * count is given back afterwards. */
static void test_orthogonal_threads(void) {
    enum { N = 256 };
    static float W1[N * N], W2[N * N];
    int before = openblas_get_num_threads();
    Rng r1 = rng_stream(7, "orthogonal"), r2 = rng_stream(7, "orthogonal");
    openblas_set_num_threads(1);
    CU_ASSERT_FATAL(init_orthogonal(W1, N, N, 1.0, &r1, NULL) == 0);
    openblas_set_num_threads(2);
    CU_ASSERT_FATAL(init_orthogonal(W2, N, N, 1.0, &r2, NULL) == 0);
    CU_ASSERT_EQUAL(openblas_get_num_threads(), 2);
    CU_ASSERT(memcmp(W1, W2, sizeof W1) == 0);
    openblas_set_num_threads(before);
}

int main(void) {
    TestCase cases[] = {{"orthogonal init: QᵀQ = gain² I", test_orthogonal},
                        {"orthogonal init: the same bits on 1 or 2 BLAS threads", test_orthogonal_threads},
                        {"unclipped SGD on a tanh RNN explodes", test_unclipped_explodes},
                        {"clipped at global norm 1 it stays finite", test_clipped_stays_finite},
                        {NULL, NULL}};
    return run_tests("exploding", cases);
}
