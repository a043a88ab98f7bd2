/* test_parity.c — the running-parity task (synced many-to-many): labels are the prefix XOR,
 * and a small GRU with a per-step head learns it, far above the 50% a step-local model gets. */
#include <stdlib.h>

#include "data/tasks.h"
#include "optim.h"
#include "seqmodel.h"
#include "fixtures.h"
#include "testutil.h"

static void test_labels_are_prefix_parity(void) {
    Dataset ds;
    Rng r;
    rng_seed(&r, 1);
    ExError err;
    CU_ASSERT_FATAL(task_parity(&ds, 50, 20, &r, &err) == 0);
    CU_ASSERT_EQUAL(ds.vocab, 2);
    long ones = 0;
    for (int i = 0; i < ds.n; i++) {
        int p = 0;
        for (int t = 0; t < ds.T; t++) {
            int32_t bit = ds.x_tokens[i * ds.T + t];
            CU_ASSERT(bit == 0 || bit == 1);
            p ^= bit;
            ones += bit;
            CU_ASSERT_EQUAL(ds.y_tokens[i * ds.T + t], p);
        }
    }
    CU_ASSERT(ones > 400 && ones < 600); /* about half the 1000 bits */
    dataset_free(&ds);
}

static void test_gru_learns_parity(void) {
    enum { B = 32, T = 10, STEPS = 400 };
    SeqModelConfig c = fixture_seqmodel();
    c.cell = CELL_GRU;
    c.num_layers = 1;
    c.hidden[0] = 16;
    c.input = SEQ_INPUT_ONEHOT;
    c.vocab = 2;
    c.head = SEQ_HEAD_PER_STEP;
    c.n_out = 2;
    c.loss = LOSS_SOFTMAX_CROSS_ENTROPY;
    c.max_batch = B;
    c.max_T = T;
    Model *m;
    Rng init, data;
    rng_seed(&init, 2);
    rng_seed(&data, 3);
    ExError err;
    CU_ASSERT_FATAL(seqmodel_create(&m, &c, &init, &err) == 0);
    Dataset ds;
    CU_ASSERT_FATAL(task_parity(&ds, B * (STEPS + 1), T, &data, &err) == 0);
    Optimizer opt;
    OptimConfig oc = optim_defaults(OPT_ADAM);
    optim_init(&opt, &oc, m->params.total);
    for (int s = 0; s < STEPS; s++) {
        Batch b = {.B = B, .T = T, .x_tokens = ds.x_tokens + (size_t)s * B * T, .Ty = T,
                   .y_tokens = ds.y_tokens + (size_t)s * B * T};
        params_zero_grad(&m->params);
        m->ops->train_batch(m, &b, NULL, NULL);
        optim_step(&opt, m->params.value, m->params.grad, 0.01);
    }
    Batch held = {.B = B, .T = T, .x_tokens = ds.x_tokens + (size_t)STEPS * B * T, .Ty = T,
                  .y_tokens = ds.y_tokens + (size_t)STEPS * B * T};
    StepStats stats = {0};
    m->ops->eval_batch(m, &held, &stats);
    double acc = -1;
    for (int i = 0; i < stats.count; i++)
        if (stats.names[i][0] == 'a') acc = stats.values[i] / B;
    CU_ASSERT(acc > 0.95);
    optim_free(&opt);
    dataset_free(&ds);
    model_free(m);
}

int main(void) {
    TestCase cases[] = {{"parity labels are the prefix XOR", test_labels_are_prefix_parity},
                        {"a GRU learns running parity", test_gru_learns_parity},
                        {NULL, NULL}};
    return run_tests("parity", cases);
}
