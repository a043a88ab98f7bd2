#include "dropout.h"

#include <string.h>

void dropout_forward(float *out, float *mask, const float *in, size_t n, float p, int train, Rng *rng) {
    if (!train || p <= 0.0f) {
        for (size_t k = 0; k < n; k++) mask[k] = 1.0f;
        if (out != in) memmove(out, in, n * sizeof *out);
        return;
    }
    const float keep_scale = 1.0f / (1.0f - p);
    for (size_t k = 0; k < n; k++) {
        mask[k] = rng_uniform(rng) < p ? 0.0f : keep_scale;
        out[k] = in[k] * mask[k];
    }
}

void dropout_backward(float *din, const float *dout, const float *mask, size_t n) {
    for (size_t k = 0; k < n; k++) din[k] = dout[k] * mask[k];
}
