/* evaluate.h — what a trained autoencoder is worth, measured once after the last epoch.
 *
 * The lecture's uses of an autoencoder, each a number a run records (spec block `evaluate:`):
 *   pca             the linear optimum: PCA with k = dim(h) on the same training rows (pca.h),
 *                   beside the autoencoder's own squared error (1/m) Σ_i Σ_j (x̂_ij − x_ij)² with
 *                   the final weights, on the training and the test data; for a shallow
 *                   autoencoder with f = identity, the angles between the top principal
 *                   components and the decoder's column space (the "linear AE = PCA" claim)
 *   anomaly_class   ROC AUC (roc.h) of each test example's reconstruction error, one class held
 *                   out of training (data.exclude_class) against the rest
 *   kmeans          k-means (kmeans.h) on the codes h of the test set, purity and NMI against the
 *                   labels, and the same on the raw inputs for comparison
 *   corrupted_test  the loss against the clean test inputs when the network sees them corrupted
 *                   (the denoising claim)
 * plus, always, the mean code activation per unit on the test set (the sparse autoencoder's
 * ρ̂_j, against its target ρ) and the test error by class where there are labels.
 * "Test" means the test set, or the validation split when the data has no test file, or else
 * the training split; the attribute `split` names the one used. Nothing here runs per epoch.
 *
 * In results.h5 (written by runner/train.c through evaluation_write):
 *   /evaluation            attrs: one float64 per number (e.g. pca_train_error,
 *                          ae_train_sq_error, ae_over_pca_train, anomaly_auc, kmeans_nmi),
 *                          strings split, corrupted_noise
 *   /evaluation/<array>    float64 datasets with a `description` attribute, e.g.
 *                          pca/eigenvalues (d), pca/component_angles_deg (k), kmeans/contingency
 *   Python: dict(h5py.File("results.h5")["evaluation"].attrs) */
#ifndef EXPRUN_EVALUATE_H
#define EXPRUN_EVALUATE_H

#include <stdio.h>

#include "h5doc.h"
#include "model.h"
#include "rundata.h"
#include "spec/spec.h"

#define EVAL_MAX_VALUES 64
#define EVAL_MAX_TEXTS 8
#define EVAL_MAX_ARRAYS 16

typedef struct EvalArray {
    char name[64];              /* path below /evaluation, e.g. "pca/eigenvalues" */
    int rank;
    int shape[2];
    double *data;               /* owned */
    char description[256];
} EvalArray;

typedef struct Evaluation {
    int n_values;
    char value_names[EVAL_MAX_VALUES][48];
    double values[EVAL_MAX_VALUES];
    int n_texts;
    char text_names[EVAL_MAX_TEXTS][48];
    char texts[EVAL_MAX_TEXTS][256];
    int n_arrays;
    EvalArray arrays[EVAL_MAX_ARRAYS];
} Evaluation;

/* Before training: can the evaluations the spec asks for run on this data (labels, a test set,
 * the anomalous class present in it, enough rows for k clusters)? 0, or -1 with a message.
 * Models without a code layer (ModelOps.codes) have none of these evaluations. */
int evaluate_check(const Spec *spec, const RunData *rd, const Model *model, ExError *err);

/* After the last epoch: run every evaluation the spec asks for on the trained model (a no-op
 * returning 0 for models that are not autoencoders). Progress lines go to log (NULL: silent).
 * On failure ev keeps what was measured before it. */
int evaluate_model(Evaluation *ev, const Spec *spec, const RunData *rd, Model *model, FILE *log, ExError *err);

/* The value called name, or NaN. */
double evaluation_get(const Evaluation *ev, const char *name);
/* Add /evaluation (attributes and arrays) to a results document; nothing if ev is empty. */
void evaluation_write(const Evaluation *ev, H5Doc *doc);
void evaluation_free(Evaluation *ev);

#endif
