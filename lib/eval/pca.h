/* pca.h — principal component analysis: the optimum a linear autoencoder can reach.
 *
 * The lecture: an autoencoder boils down to PCA when g = identity, f = identity, the loss is the
 * squared error and the input is centered. For m training rows x_i ∈ R^d with mean μ, let
 *     C = (1/m) Σ_i (x_i − μ)(x_i − μ)ᵀ                       (d, d), the covariance (1/m, not 1/(m−1))
 * with eigenvalues λ_1 ≥ … ≥ λ_d and orthonormal eigenvectors u_1 … u_d (the principal
 * components). Among all reconstructions through a k-dimensional code, the best is
 *     x̂_i = μ + U_k U_kᵀ (x_i − μ),   U_k = [u_1 … u_k]          (Eckart–Young)
 * and its error in the lecture's units (averaged over rows, summed over the d values) is
 *     (1/m) Σ_i Σ_j (x̂_ij − x_ij)² = Σ_{j>k} λ_j
 * — the number a linear autoencoder with dim(h) = k trained on the same rows approaches, and
 * cannot go below (its biases b, c absorb the mean, so the bound holds for uncentered input too).
 *
 * Numerics: the mean, the covariance (cblas_dsyrk over chunks of rows converted to double) and
 * the eigen-decomposition (LAPACKE_dsyevd, from OpenBLAS) are all in double; the discarded
 * eigenvalues are summed directly, never as trace − Σ_{j≤k} λ_j, so the tail of a nearly exact
 * low-rank fit does not vanish in cancellation. Cost for Fashion-MNIST (m = 54,000, d = 784):
 * about 17 GFLOP for the covariance and a fraction of a second for the eigen-decomposition.
 *
 * Angles: a trained linear autoencoder's decoder W* (d, k) spans (nearly) the same subspace as
 * U_k, but not with the same basis (any invertible mix of the code units is as good). So the
 * comparison is between subspaces: the angle of one vector u to a subspace S is
 * θ = atan2(‖u − P_S u‖, ‖P_S u‖), and the principal angles between two subspaces are the arccos
 * of the singular values of Q_Aᵀ Q_B for orthonormal bases Q_A, Q_B (Björck & Golub, 1973).
 * Subspaces are given as the span of the rows of a (k, d) matrix. */
#ifndef EXPRUN_PCA_H
#define EXPRUN_PCA_H

#include <stdint.h>

#include "error.h"

typedef struct Pca {
    int d;                  /* dimension of x */
    int64_t m;              /* rows the fit used */
    double *mean;           /* (d) μ */
    double *eigenvalues;    /* (d) λ_1 ≥ … ≥ λ_d of C */
    double *components;     /* (d, d) row j is u_{j+1}, unit length */
} Pca;

/* Fit on m rows of x (m, d). Needs m ≥ 1 and d ≥ 1; fails (with a message) if LAPACK does. */
int pca_fit(Pca *p, const float *x, int64_t m, int d, ExError *err);
void pca_free(Pca *p);

/* Σ_{j>k} λ_j: the smallest training error (1/m) Σ_i Σ_j (x̂_ij − x_ij)² of any rank-k
 * reconstruction (0 for k ≥ d). Tiny negative eigenvalues from rounding count as 0. */
double pca_optimal_error(const Pca *p, int k);
/* Σ_{j≤k} λ_j / Σ_j λ_j, the fraction of the variance the top k components keep. */
double pca_explained_variance(const Pca *p, int k);
/* (1/n) Σ_i Σ_j (x̂_ij − x_ij)² for n rows of other data (e.g. a test set) reconstructed through
 * the training mean and the top k components; on the training rows it equals pca_optimal_error.
 * row_error (n) may be NULL; else it gets each row's Σ_j (x̂_ij − x_ij)². */
double pca_reconstruction_error(const Pca *p, int k, const float *x, int64_t n, double *row_error);

/* Angle in degrees of each of the n_vec vectors (rows of U, (n_vec, d)) to the subspace spanned
 * by the rows of B (kb, d). Rank-deficient B is allowed (its numerical rank is used). */
int vector_subspace_angles(double *angles_deg, const double *U, int n_vec, const double *B, int kb,
                           int d, ExError *err);
/* Principal angles in degrees, ascending, between span(rows of A (ka, d)) and span(rows of
 * B (kb, d)); writes min(rank A, rank B) angles and returns that count, or -1 on failure. */
int principal_angles(double *angles_deg, const double *A, int ka, const double *B, int kb, int d,
                     ExError *err);

#endif
