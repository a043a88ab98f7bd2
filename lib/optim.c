#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static const char *const NAMES[] = {"sgd", "adam", "rmsprop", "adagrad"};

const char *optim_name(OptimType t) { return NAMES[t]; }

int optim_from_name(const char *name, OptimType *t) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (OptimType)i;
            return 0;
        }
    return -1;
}

OptimConfig optim_defaults(OptimType t) {
    OptimConfig c = {0};
    c.type = t;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.alpha = 0.99;
    c.eps = t == OPT_ADAGRAD ? 1e-10 : 1e-8;
    return c;
}

void optim_init(Optimizer *opt, const OptimConfig *cfg, size_t n) {
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    opt->n = n;
    int needs_m = (cfg->type == OPT_SGD && cfg->momentum != 0.0) || cfg->type == OPT_ADAM;
    int needs_v = cfg->type != OPT_SGD;
    if (needs_m) opt->m = ex_calloc(n, sizeof(float));
    if (needs_v) opt->v = ex_calloc(n, sizeof(float));
}

void optim_free(Optimizer *opt) {
    free(opt->m);
    free(opt->v);
    memset(opt, 0, sizeof *opt);
}

static void sgd_step(Optimizer *opt, float *p, const float *g, float lr) {
    const float wd = (float)opt->cfg.weight_decay, mu = (float)opt->cfg.momentum;
    float *b = opt->m;
    for (size_t i = 0; i < opt->n; i++) {
        float gi = g[i] + wd * p[i];
        if (b) {
            b[i] = opt->t == 1 ? gi : mu * b[i] + gi;
            gi = opt->cfg.nesterov ? gi + mu * b[i] : b[i];
        }
        p[i] -= lr * gi;
    }
}

static void adam_step(Optimizer *opt, float *p, const float *g, float lr) {
    /* 1 − β in double, then to float: (1.0f − 0.999f) would be off by 1e-5 relative. */
    const float b1 = (float)opt->cfg.beta1, b2 = (float)opt->cfg.beta2;
    const float one_minus_b1 = (float)(1.0 - opt->cfg.beta1);
    const float one_minus_b2 = (float)(1.0 - opt->cfg.beta2);
    const float eps = (float)opt->cfg.eps, wd = (float)opt->cfg.weight_decay;
    const int decoupled = opt->cfg.decoupled_weight_decay;
    /* Bias corrections in double, once per step: 1 − βᵗ loses precision in float. */
    const float c1 = (float)(1.0 / (1.0 - pow(opt->cfg.beta1, (double)opt->t)));
    const float sqrt_c2 = (float)sqrt(1.0 / (1.0 - pow(opt->cfg.beta2, (double)opt->t)));
    float *m = opt->m, *v = opt->v;
    for (size_t i = 0; i < opt->n; i++) {
        float gi = g[i];
        if (decoupled) p[i] *= 1.0f - lr * wd;
        else gi += wd * p[i];
        m[i] = b1 * m[i] + one_minus_b1 * gi;
        v[i] = b2 * v[i] + one_minus_b2 * gi * gi;
        p[i] -= lr * (m[i] * c1) / (sqrtf(v[i]) * sqrt_c2 + eps);
    }
}

static void rmsprop_step(Optimizer *opt, float *p, const float *g, float lr) {
    const float a = (float)opt->cfg.alpha, one_minus_a = (float)(1.0 - opt->cfg.alpha);
    const float eps = (float)opt->cfg.eps;
    const float wd = (float)opt->cfg.weight_decay;
    float *v = opt->v;
    for (size_t i = 0; i < opt->n; i++) {
        float gi = g[i] + wd * p[i];
        v[i] = a * v[i] + one_minus_a * gi * gi;
        p[i] -= lr * gi / (sqrtf(v[i]) + eps);
    }
}

static void adagrad_step(Optimizer *opt, float *p, const float *g, float lr) {
    const float eps = (float)opt->cfg.eps, wd = (float)opt->cfg.weight_decay;
    float *v = opt->v;
    for (size_t i = 0; i < opt->n; i++) {
        float gi = g[i] + wd * p[i];
        v[i] += gi * gi;
        p[i] -= lr * gi / (sqrtf(v[i]) + eps);
    }
}

void optim_step(Optimizer *opt, float *p, const float *g, double lr) {
    opt->t++;
    switch (opt->cfg.type) {
    case OPT_SGD: sgd_step(opt, p, g, (float)lr); break;
    case OPT_ADAM: adam_step(opt, p, g, (float)lr); break;
    case OPT_RMSPROP: rmsprop_step(opt, p, g, (float)lr); break;
    case OPT_ADAGRAD: adagrad_step(opt, p, g, (float)lr); break;
    }
}
