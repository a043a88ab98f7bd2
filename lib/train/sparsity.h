/* sparsity.h — sparsity penalties on the code h of a sparse autoencoder.
 *
 * kl  (the classic sparse autoencoder, sigmoid g): with ρ̂_j = (1/m) Σ_i h_ij the mean activation
 *     of code unit j over the batch,
 *       Ω = β Σ_j KL(ρ ‖ ρ̂_j) = β Σ_j [ρ log(ρ/ρ̂_j) + (1−ρ) log((1−ρ)/(1−ρ̂_j))]
 *       ∂Ω/∂h_ij = (β/m) [−ρ/ρ̂_j + (1−ρ)/(1−ρ̂_j)]
 * l1  Ω = β (1/m) Σ_i Σ_j |h_ij|,   ∂Ω/∂h_ij = (β/m) sign(h_ij)
 *
 * Weighting: Ω is added once per batch to the loss, which is a mean over samples of a *sum* over
 * the input's n values (see loss.h). So β weighs the penalty against the reconstruction error of
 * a whole sample, not of one pixel; a per-pixel-mean loss would make the same β n times stronger. */
#ifndef EXPRUN_SPARSITY_H
#define EXPRUN_SPARSITY_H

typedef enum SparsityType { SPARSITY_NONE, SPARSITY_KL, SPARSITY_L1 } SparsityType;

typedef struct SparsityConfig {
    SparsityType type;
    double target;   /* ρ, for kl */
    double weight;   /* β */
} SparsityConfig;

const char *sparsity_name(SparsityType t);
int sparsity_from_name(const char *name, SparsityType *t);

/* Returns Ω for the codes h (m, K) and, if dh is not NULL, adds ∂Ω/∂h into dh (m, K).
 * rho_hat is a (K) workspace. */
double sparsity_penalty(float *dh, const float *h, int m, int K, const SparsityConfig *cfg,
                        double *rho_hat);

#endif
