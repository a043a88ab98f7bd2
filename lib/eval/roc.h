/* roc.h — the area under the ROC curve, for anomaly detection by reconstruction error.
 *
 * An autoencoder trained on normal data reconstructs an unseen kind of input worse; the
 * per-sample reconstruction error is then an anomaly score. The ROC AUC of a score s is the
 * probability that a random positive (anomalous) sample scores higher than a random negative
 * one, ties counting one half:
 *     AUC = (1/(n₊ n₋)) Σ_{i∈pos} Σ_{j∈neg} ([s_i > s_j] + ½ [s_i = s_j])
 * computed in O(n log n) through the Mann–Whitney U statistic with midranks for tied scores:
 *     AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋),   R₊ = the sum of the positives' (mid)ranks.
 * 1 = every anomaly scores above every normal sample, 0.5 = chance (or all scores tied). */
#ifndef EXPRUN_ROC_H
#define EXPRUN_ROC_H

#include <stdint.h>

/* AUC of scores (n) for positive[i] != 0 against positive[i] == 0; NaN when either group is
 * empty or a score is NaN. */
double roc_auc(const double *scores, const uint8_t *positive, int64_t n);

#endif
