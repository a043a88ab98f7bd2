/* build.h — the model a spec describes, sized from its data. */
#ifndef EXPRUN_BUILD_H
#define EXPRUN_BUILD_H

#include "h5doc.h"
#include "model.h"
#include "rundata.h"
#include "spec/spec.h"

/* Build and initialise (from the seed's "init" stream) the model of spec for data rd.
 * Warnings a user should see (e.g. an overcomplete plain autoencoder) go into warn (may be
 * empty), one per line. Returns 0; -1 with err; or BUILD_TOO_BIG when the model's memory
 * estimate is more than the machine has (memory.h: refused before anything is allocated; a
 * spec error, exit 2). */
enum { BUILD_TOO_BIG = -2 };
int build_model(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                ExError *err);
/* The bytes the last model built (or refused) was estimated to need in training. */
double build_memory_estimate(void);

/* Recurrent extras (no-ops / NULL for other families). */
int model_is_sequence(const Model *m);
/* The norm of ∂L/∂h_t for every t, summed since the last reset; *T steps. */
const double *model_time_grad_norms(const Model *m, int *T);
void model_reset_time_grad_norms(Model *m);
/* Their running sums as one block for checkpoints (seqmodel_grad_norm_state); 0 for models
 * without the diagnostic. */
size_t model_time_grad_state(Model *m, double *block, int set);
/* Generate `length` characters after `prime` (out: length + 1 bytes). */
int model_sample_text(Model *m, const Vocab *v, const char *prime, int length, double temperature,
                      Rng *rng, char *out, ExError *err);

/* Family-specific results (nothing for other families):
 *   seq2seq      the first (up to 20) test examples and their greedy outputs as text:
 *                /examples/input, /examples/target, /examples/output (strings; '$' = END)
 *   one_to_many  one sequence generated per class, outputs fed back:
 *                /generated/images (K, T, d) floats, /generated/classes (K) */
int model_write_results(Model *m, const Spec *spec, const RunData *rd, H5Doc *doc, ExError *err);

#endif
