/* test_autoencoder.c — finite-difference checks of the whole autoencoder: shallow and deep, tied
 * and untied, squared error and cross-entropy, the sparsity penalties and every corruption path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder.h"
#include "optim.h"
#include "testutil.h"

enum { BATCH = 4, N_IN = 7 };

typedef struct AeCase {
    Model *m;
    float x[BATCH * N_IN];
    uint64_t noise_seed;
} AeCase;

static double train_loss(Model *m, const float *x, uint64_t noise_seed) {
    Batch b = {.B = BATCH, .T = 1, .d = N_IN, .x = x};
    Rng noise;
    rng_seed(&noise, noise_seed); /* the same corruption at every evaluation */
    StepStats stats = {0};
    return m->ops->train_batch(m, &b, &noise, &stats);
}

static double case_loss(void *ctx) {
    AeCase *c = ctx;
    return train_loss(c->m, c->x, c->noise_seed);
}

static AutoencoderConfig base_config(void) {
    AutoencoderConfig cfg = {0};
    cfg.n_input = N_IN;
    cfg.n_code = 3;
    cfg.g = ACT_SIGMOID;
    cfg.f = ACT_SIGMOID;
    cfg.loss = LOSS_SQUARED_ERROR;
    cfg.max_batch = BATCH;
    return cfg;
}

/* Check every parameter's gradient; returns the worst relative error. */
static double check_config(const AutoencoderConfig *cfg) {
    AeCase c = {0};
    Rng init;
    rng_seed(&init, 11);
    ExError err;
    CU_ASSERT_FATAL(autoencoder_create(&c.m, cfg, &init, &err) == 0);
    fill_uniform(c.x, BATCH * N_IN, 0.05f, 0.95f, 12);
    c.noise_seed = 99;
    /* biases away from zero so relu units are not all at the kink */
    fill_uniform(c.m->params.value, c.m->params.total, -0.9f, 0.9f, 13);
    params_zero_grad(&c.m->params);
    case_loss(&c);
    size_t n = c.m->params.total;
    float *analytic = malloc(n * sizeof(float));
    memcpy(analytic, c.m->params.grad, n * sizeof(float));
    double worst = gradcheck(case_loss, &c, c.m->params.value, analytic, n, 0, 1e-2, 1e-3);
    if (getenv("GC_DEBUG")) printf(" worst %.3e ", worst);
    free(analytic);
    model_free(c.m);
    return worst;
}

static void test_shallow_untied_and_tied(void) {
    AutoencoderConfig cfg = base_config();
    CU_ASSERT(check_config(&cfg) < 1e-2);
    cfg.tied = 1;
    CU_ASSERT(check_config(&cfg) < 1e-2);
    cfg.loss = LOSS_CROSS_ENTROPY; /* fused sigmoid + cross-entropy path */
    CU_ASSERT(check_config(&cfg) < 1e-2);
    cfg.f = ACT_IDENTITY;
    cfg.g = ACT_TANH;
    cfg.loss = LOSS_SQUARED_ERROR;
    CU_ASSERT(check_config(&cfg) < 1e-2);
}

static void test_cross_entropy_unfused(void) {
    /* cross-entropy with a non-sigmoid f in (0,1): softmax over the row */
    AutoencoderConfig cfg = base_config();
    cfg.f = ACT_SOFTMAX;
    cfg.loss = LOSS_CROSS_ENTROPY;
    CU_ASSERT(check_config(&cfg) < 1e-2);
}

static void test_deep_tied_and_untied(void) {
    AutoencoderConfig cfg = base_config();
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 6;
    cfg.hidden_units[1] = 5;
    cfg.hidden_act[0] = ACT_TANH;
    cfg.hidden_act[1] = ACT_ELU;
    cfg.loss = LOSS_CROSS_ENTROPY;
    CU_ASSERT(check_config(&cfg) < 1e-2);
    cfg.tied = 1;
    CU_ASSERT(check_config(&cfg) < 1e-2);
}

static void test_sparsity_penalties(void) {
    AutoencoderConfig cfg = base_config();
    cfg.sparsity = (SparsityConfig){SPARSITY_KL, 0.1, 0.5};
    CU_ASSERT(check_config(&cfg) < 1e-2);
    /* L1 with sigmoid g: codes stay positive, away from |h|'s kink at 0 that a finite
     * difference cannot see across. */
    cfg.sparsity = (SparsityConfig){SPARSITY_L1, 0.0, 0.3};
    CU_ASSERT(check_config(&cfg) < 1e-2);
}

static void test_every_corruption(void) {
    AutoencoderConfig cfg = base_config();
    cfg.noise = (NoiseConfig){NOISE_MASKING, 0.3, 0};
    CU_ASSERT(check_config(&cfg) < 1e-2);
    cfg.noise = (NoiseConfig){NOISE_GAUSSIAN, 0, 0.2};
    CU_ASSERT(check_config(&cfg) < 1e-2);
    cfg.noise = (NoiseConfig){NOISE_SALT_PEPPER, 0.3, 0};
    CU_ASSERT(check_config(&cfg) < 1e-2);
}

/* The corruption really happens and the loss is against the clean input. */
static void test_noise_is_applied(void) {
    float x[1000], y[1000];
    for (int i = 0; i < 1000; i++) x[i] = 0.5f;
    Rng r;
    rng_seed(&r, 5);
    NoiseConfig mask = {NOISE_MASKING, 0.25, 0};
    noise_apply(y, x, 1000, &mask, &r);
    int zeros = 0;
    for (int i = 0; i < 1000; i++) zeros += y[i] == 0.0f;
    CU_ASSERT(zeros > 200 && zeros < 300);
    NoiseConfig sp = {NOISE_SALT_PEPPER, 0.2, 0};
    noise_apply(y, x, 1000, &sp, &r);
    int salt = 0, pepper = 0;
    for (int i = 0; i < 1000; i++) salt += y[i] == 1.0f, pepper += y[i] == 0.0f;
    CU_ASSERT(salt > 60 && salt < 140 && pepper > 60 && pepper < 140);
}

/* Training on a small dataset lowers the loss (Adam, a few hundred steps). */
static void test_loss_falls(void) {
    AutoencoderConfig cfg = base_config();
    cfg.loss = LOSS_CROSS_ENTROPY;
    Model *m;
    Rng init;
    rng_seed(&init, 3);
    ExError err;
    CU_ASSERT_FATAL(autoencoder_create(&m, &cfg, &init, &err) == 0);
    float x[BATCH * N_IN];
    fill_uniform(x, BATCH * N_IN, 0.0f, 1.0f, 4);
    Optimizer opt;
    OptimConfig oc = optim_defaults(OPT_ADAM);
    optim_init(&opt, &oc, m->params.total);
    double first = 0, last = 0;
    for (int step = 0; step < 300; step++) {
        params_zero_grad(&m->params);
        double loss = train_loss(m, x, 1);
        if (step == 0) first = loss;
        last = loss;
        optim_step(&opt, m->params.value, m->params.grad, 0.01);
    }
    CU_ASSERT(last < 0.8 * first);
    optim_free(&opt);
    model_free(m);
}

int main(void) {
    TestCase cases[] = {{"shallow autoencoder, untied and tied, both losses", test_shallow_untied_and_tied},
                        {"cross-entropy with softmax f (unfused)", test_cross_entropy_unfused},
                        {"deep autoencoder, tied and untied", test_deep_tied_and_untied},
                        {"sparsity penalties (kl, l1)", test_sparsity_penalties},
                        {"every corruption path", test_every_corruption},
                        {"noise statistics", test_noise_is_applied},
                        {"loss falls", test_loss_falls},
                        {NULL, NULL}};
    return run_tests("autoencoder", cases);
}
