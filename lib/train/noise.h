/* noise.h — input corruption for denoising autoencoders.
 *
 * The network sees x̃ = corrupt(x) and the loss compares x̂ with the clean x. All draws come
 * from the run's "noise" RNG stream, so a run is reproducible bit for bit.
 *   masking      x̃_i = 0 with probability p, else x_i
 *   gaussian     x̃_i = x_i + σ ε,  ε ~ N(0, 1)
 *   salt_pepper  with probability p, x̃_i = 0 or 1 (each with probability ½), else x_i */
#ifndef EXPRUN_NOISE_H
#define EXPRUN_NOISE_H

#include <stddef.h>

#include "rng.h"

typedef enum NoiseType { NOISE_NONE, NOISE_MASKING, NOISE_GAUSSIAN, NOISE_SALT_PEPPER } NoiseType;

typedef struct NoiseConfig {
    NoiseType type;
    double rate;     /* p, for masking and salt_pepper */
    double sigma;    /* σ, for gaussian */
} NoiseConfig;

const char *noise_name(NoiseType t);
int noise_from_name(const char *name, NoiseType *t);
/* out (n) = corrupt(in (n)); out may alias in. */
void noise_apply(float *out, const float *in, size_t n, const NoiseConfig *cfg, Rng *rng);

#endif
