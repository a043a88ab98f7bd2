#include "noise.h"

#include <string.h>

static const char *const NAMES[] = {"none", "masking", "gaussian", "salt_pepper"};

const char *noise_name(NoiseType t) { return NAMES[t]; }

int noise_from_name(const char *name, NoiseType *t) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (NoiseType)i;
            return 0;
        }
    return -1;
}

void noise_apply(float *out, const float *in, size_t n, const NoiseConfig *cfg, Rng *rng) {
    const float p = (float)cfg->rate, sigma = (float)cfg->sigma;
    switch (cfg->type) {
    case NOISE_NONE:
        if (out != in) memmove(out, in, n * sizeof *out);
        break;
    case NOISE_MASKING:
        for (size_t i = 0; i < n; i++) out[i] = rng_uniform(rng) < p ? 0.0f : in[i];
        break;
    case NOISE_GAUSSIAN:
        for (size_t i = 0; i < n; i++) out[i] = in[i] + sigma * (float)rng_normal(rng);
        break;
    case NOISE_SALT_PEPPER:
        for (size_t i = 0; i < n; i++) {
            float u = rng_uniform(rng);
            out[i] = u < p ? (u < 0.5f * p ? 0.0f : 1.0f) : in[i];
        }
        break;
    }
}
