/* sampling.h — text from a model that can generate tokens (ModelOps.sample), in characters. */
#ifndef EXPRUN_SAMPLING_H
#define EXPRUN_SAMPLING_H

#include "data/text.h"
#include "model.h"

/* Generate `length` characters after `prime` (out: length + 1 bytes). The prime's characters
 * the vocabulary lacks become a space (or id 0); an empty prime starts from a space. Returns
 * 0, or -1 with err (also when the model cannot generate). */
int model_sample_text(Model *m, const Vocab *v, const char *prime, int length, double temperature,
                      Rng *rng, char *out, ExError *err);

#endif
