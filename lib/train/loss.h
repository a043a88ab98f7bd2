/* loss.h — losses and their gradients, as the lecture writes them.
 *
 * m = number of samples (rows), n = values per sample. Every loss is averaged over the m
 * samples and *summed* over the n values of a sample, exactly the lecture's
 *   squared error   L = (1/m) Σ_i Σ_j (x̂_ij − x_ij)²
 *   cross-entropy   L = −(1/m) Σ_i Σ_j [x_ij log x̂_ij + (1 − x_ij) log(1 − x̂_ij)]
 * so per-pixel penalties (e.g. sparsity) compare with the loss of a whole sample.
 * Each function returns L and writes ∂L/∂(its input) into grad (grad may be NULL). */
#ifndef EXPRUN_LOSS_H
#define EXPRUN_LOSS_H

#include <stddef.h>

typedef enum LossType { LOSS_SQUARED_ERROR, LOSS_CROSS_ENTROPY, LOSS_SOFTMAX_CROSS_ENTROPY } LossType;

const char *loss_name(LossType t);
int loss_from_name(const char *name, LossType *t);

/* Squared error; grad = ∂L/∂x̂ = 2 (x̂ − x) / m. */
double loss_squared_error(float *grad, const float *pred, const float *target, int m, int n);

/* Binary cross-entropy of probabilities x̂ in (0,1) against targets in [0,1];
 * grad = ∂L/∂x̂ = (x̂ − x) / (x̂ (1 − x̂) m). x̂ is clamped to [1e-7, 1 − 1e-7] inside the log. */
double loss_binary_cross_entropy(float *grad, const float *pred, const float *target, int m, int n);

/* The same loss when x̂ = sigmoid(pre): grad = ∂L/∂pre = (x̂ − x) / m, the exact and stable
 * gradient that skips the sigmoid's own derivative. The caller passes x̂, not pre. The value
 * is computed with the vectorised log of gatemath.h (it equals loss_binary_cross_entropy's to
 * about 1e-7 relative; test_fastpaths.c). */
double loss_sigmoid_cross_entropy(float *grad_pre, const float *pred, const float *target, int m,
                                  int n);

/* The same loss and gradient from the logits a of x̂ = σ(a): also writes x̂ = σ(a) into pred
 * (which may alias logits). Cheaper than σ then loss_sigmoid_cross_entropy (one exp and one
 * log per value), and the value keeps loss_binary_cross_entropy's clamp of x̂ to
 * [1e-7, 1 − 1e-7] (as a clamp of a to ±16.118). */
double loss_sigmoid_cross_entropy_logits(float *grad_pre, float *pred, const float *logits,
                                         const float *target, int m, int n);

/* The same, as the epilogue of the product that makes the logits (packgemm.h's PkEpilogue):
 * each thread turns its own fresh block of the logits into σ, gradient and loss terms while the
 * block is still in its cache. The terms are summed in units of 8 rows × 32 columns (the two
 * halves of a row added in float, then lane by lane in double over the unit's rows, its lanes
 * pairwise at the end), each unit's sum kept in unit_sums, and loss_sigmoid_ce_total adds the
 * units in a fixed order: the same value however the product was split, as long as every block
 * starts at a row that is a multiple of 8 and a column that is a multiple of 32 (packgemm.c's
 * splits do) — and the same as
 * loss_sigmoid_cross_entropy_logits, which is this over all the logits. */
typedef struct SigmoidCeJob {
    float *grad;            /* ∂L/∂a, or NULL; may be the logits themselves (then pred NULL) */
    float *pred;            /* x̂ = σ(a), or NULL; may be the logits themselves */
    const float *target;    /* (m, n), as grad and pred */
    int m, n;
    double *unit_sums;      /* loss_sigmoid_ce_units(m, n) */
} SigmoidCeJob;
size_t loss_sigmoid_ce_units(int m, int n);
void loss_sigmoid_ce_block(void *job, float *logits, int ld, int m0, int m1, int n0, int n1);
double loss_sigmoid_ce_total(const SigmoidCeJob *job);

/* Softmax cross-entropy over rows of logits z (m, V) with integer targets y (m):
 *   L = −(1/count) Σ_i log softmax(z_i)[y_i],  ∂L/∂z_i = (softmax(z_i) − onehot(y_i)) / count
 * where rows with y_i < 0 are padding: they add nothing and get zero gradient, and count is the
 * number of non-padding rows (or `normalizer` if > 0). */
double loss_softmax_cross_entropy(float *grad_logits, const float *logits, const int *targets,
                                  int m, int V, double normalizer);
/* Rows are computed 4 values at a time with gatemath.h's exp (shared out over threads in fixed
 * blocks of rows: the same value for any thread count); loss_softmax_cross_entropy_reference
 * is the plain double-precision loop, equal to about 1e-6 relative (test_fastpaths.c). */
double loss_softmax_cross_entropy_reference(float *grad_logits, const float *logits,
                                            const int *targets, int m, int V, double normalizer);

#endif
