/* optim.h — optimizers, one flat loop over the parameter arena.
 *
 * The update rules follow PyTorch's torch.optim so that runs can be compared step for step
 * (g = gradient, p = parameter, λ = weight_decay, η = learning rate, t = update count from 1):
 *   sgd       g ← g + λp;  b ← μ b + g (b₁ = g);  g ← g + μ b if nesterov else b;  p ← p − η g
 *   adam      g ← g + λp (or, with decoupled_weight_decay (AdamW), p ← p (1 − ηλ));
 *             m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − η m̂ / (√v̂ + ε),
 *             m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
 *   rmsprop   g ← g + λp;  v ← αv + (1−α)g²;  p ← p − η g / (√v + ε)
 *   adagrad   g ← g + λp;  v ← v + g²;  p ← p − η g / (√v + ε)
 *
 * optim_step() is the single place where parameters change. Data-parallel training will
 * all-reduce the gradient arena just before it (see train.c), and nowhere else. */
#ifndef EXPRUN_OPTIM_H
#define EXPRUN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum OptimType { OPT_SGD, OPT_ADAM, OPT_RMSPROP, OPT_ADAGRAD } OptimType;

typedef struct OptimConfig {
    OptimType type;
    double lr;
    double momentum;              /* sgd μ */
    int nesterov;                 /* sgd */
    double beta1, beta2;          /* adam */
    double alpha;                 /* rmsprop smoothing */
    double eps;                   /* adam, rmsprop, adagrad */
    double weight_decay;          /* λ */
    int decoupled_weight_decay;   /* adam → AdamW */
} OptimConfig;

typedef struct Optimizer {
    OptimConfig cfg;
    size_t n;                     /* parameters */
    float *m;                     /* (n) first moment / momentum buffer; NULL when unused */
    float *v;                     /* (n) second moment / sum of squares; NULL when unused */
    int64_t t;                    /* updates done so far */
    int use_fast;                 /* 1 (optim_init's default): the vectorised Adam, RMSprop and Adagrad
                                   * loops, bit-identical to the plain ones; 0: the plain loops (for tests) */
    int fast_lanes;               /* 0: the vectorised loop as wide as the CPU allows; 4, 8, 16: at
                                   * most that many lanes (for tests: every width is run) */
} Optimizer;

const char *optim_name(OptimType t);
int optim_from_name(const char *name, OptimType *t);
/* The spec schema's optimizer defaults (lr excluded), for code that builds an OptimConfig without a
 * spec; tests/test_defaults.c checks that they agree with lib/spec/schema.c. */
OptimConfig optim_defaults(OptimType t);

void optim_init(Optimizer *opt, const OptimConfig *cfg, size_t n);
/* One update of p (n) from g (n) at learning rate lr. Returns 1 when a new value of p is NaN or
 * ±Inf (a finite gradient times a huge learning rate can overflow), 0 otherwise: the check
 * rides on the update's own pass (Adam's new values are checked while they are in L1), where a
 * pass of its own over p cost 1.7 % of an autoencoder's training run. */
int optim_step(Optimizer *opt, float *p, const float *g, double lr);
void optim_free(Optimizer *opt);

#endif
