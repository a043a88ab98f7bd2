/* kmeans.h — k-means on the codes h (the lecture's "clustering" use of an autoencoder), and
 * scores of a clustering against class labels.
 *
 * k-means (Lloyd, 1982) minimises the inertia Σ_i ‖x_i − c_{a(i)}‖² by alternating
 *     assign   a(i) = argmin_c ‖x_i − c‖²
 *     update   c = mean of the rows assigned to it
 * until no assignment changes. Seeding is k-means++ (Arthur & Vassilkovitskii, 2007): the first
 * centre is a uniformly drawn row, each next one a row drawn with probability ∝ D(x)², its squared
 * distance to the nearest centre chosen so far. All draws come from the Rng passed in (the run's
 * "kmeans" stream), so a clustering is reproducible. Of `restarts` seeded runs the one with the
 * lowest inertia is kept. A cluster that empties is moved to the row farthest from its centre.
 * Assignment uses ‖x‖² − 2 x·c + ‖c‖² with one sgemm per chunk of rows; the reported inertia is
 * recomputed exactly, in double.
 *
 * Scores, from the contingency table n_uv = #{i : a(i) = u, label(i) = v} over n rows:
 *     purity  (1/n) Σ_u max_v n_uv                 (1 = every cluster is one class)
 *     NMI     I(U; V) / ((H(U) + H(V)) / 2)        (arithmetic normalisation, scikit-learn's
 *             default; 1 = the same partition up to renaming, 0 = independent; 1 when both
 *             partitions are a single block) with natural logarithms. */
#ifndef EXPRUN_KMEANS_H
#define EXPRUN_KMEANS_H

#include <stdint.h>

#include "error.h"
#include "rng.h"

typedef struct KmeansResult {
    double inertia;      /* Σ_i ‖x_i − c_{a(i)}‖² of the kept run */
    int iterations;      /* Lloyd iterations of the kept run */
    int converged;       /* 1 if its assignments stopped changing before max_iter */
} KmeansResult;

/* Cluster n rows of x (n, d) into k clusters: assign (n) gets cluster ids in [0, k), centroids
 * (k, d) the centres. Needs 1 ≤ k ≤ n. */
int kmeans_fit(int32_t *assign, float *centroids, KmeansResult *res, const float *x, int64_t n, int d,
               int k, int max_iter, int restarts, Rng *rng, ExError *err);

/* Contingency table (k, n_classes) as counts; rows whose label is outside [0, n_classes) are
 * left out. Returns the rows counted. */
int64_t cluster_contingency(int64_t *table, const int32_t *assign, int k, const int32_t *labels,
                            int n_classes, int64_t n);
double cluster_purity(const int32_t *assign, int k, const int32_t *labels, int n_classes, int64_t n);
double cluster_nmi(const int32_t *assign, int k, const int32_t *labels, int n_classes, int64_t n);

#endif
